#!/usr/bin/env bash
# run-fuzz.sh - build the libFuzzer targets of tests/fuzz/ with clang and
# run each for a bounded time; fails when one finds a crash, a leak, UB, a
# hang or a broken contract (tests/quickstart.sh test runs it as its fuzz
# step).
#
#   bash tests/fuzz/run-fuzz.sh [BUILD_DIR]
#
# BUILD_DIR (default build-fuzz, relative to the repository) is configured
# with CC=clang -Dfuzz=enabled when it has no build.ninja yet; only the
# fuzz targets are built in it.  Environment:
#   VYRE_FUZZ_SECONDS   seconds per target (default 30)
#   VYRE_FUZZ_JOBS      targets run at once (default: the number of cores)
#
# Each target starts from its checked-in seeds, tests/fuzz/corpus/<target>/,
# which it only reads; what it learns goes to BUILD_DIR/fuzz-corpus/<target>/
# (kept between runs, so later runs start further).  A failing input is
# written to BUILD_DIR/fuzz-artifacts/ and named in the failure message.
set -Eeuo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${1:-build-fuzz}"
case "$BUILD_DIR" in
  /*) BUILD_PATH="$BUILD_DIR" ;;
  *) BUILD_PATH="$REPO_ROOT/$BUILD_DIR" ;;
esac
SECONDS_PER_TARGET="${VYRE_FUZZ_SECONDS:-30}"
JOBS="${VYRE_FUZZ_JOBS:-$(nproc)}"
# name : extra libFuzzer options (a result record is up to 18 KiB).
TARGETS=(fuzz_patterns_property fuzz_patterns_file fuzz_completion
         fuzz_result_record)
declare -A EXTRA_OPTIONS=([fuzz_result_record]="-max_len=20000")

die() { printf 'run-fuzz: FAILED: %s\n' "$*" >&2; exit 1; }

case "$SECONDS_PER_TARGET" in
  ''|*[!0-9]*|0) die "VYRE_FUZZ_SECONDS=$SECONDS_PER_TARGET is not a whole" \
      "number of seconds above 0. Fix: set e.g. VYRE_FUZZ_SECONDS=30." ;;
esac
case "$JOBS" in
  ''|*[!0-9]*|0) die "VYRE_FUZZ_JOBS=$JOBS is not a number above 0." \
      "Fix: set e.g. VYRE_FUZZ_JOBS=2." ;;
esac
command -v clang >/dev/null 2>&1 || die "clang was not found; the fuzz" \
    "targets need its -fsanitize=fuzzer. Fix: apt-get install -y" \
    "--no-install-recommends clang (it is in tests/quickstart.sh's PACKAGES)."

cd "$REPO_ROOT"
if [ ! -f "$BUILD_PATH/build.ninja" ]; then
  CC=clang meson setup "$BUILD_PATH" -Dfuzz=enabled >"$BUILD_PATH.setup.log" 2>&1 \
    || { cat "$BUILD_PATH.setup.log" >&2; die "meson setup of $BUILD_DIR" \
         "failed (output above). Fix: read $BUILD_DIR/meson-logs/meson-log.txt."; }
  rm -f "$BUILD_PATH.setup.log"
fi
ninja -C "$BUILD_PATH" "${TARGETS[@]/#/tests/fuzz/}" \
  || die "building the fuzz targets in $BUILD_DIR failed (compiler output above)."

ARTIFACTS="$BUILD_PATH/fuzz-artifacts"
mkdir -p "$ARTIFACTS"

# run_target NAME: one libFuzzer run, its log in BUILD_DIR/fuzz-NAME.log.
# The outer timeout is a backstop for a fuzzer that stops answering;
# -timeout catches one input that runs too long.
run_target() {
  local name="$1" corpus="$BUILD_PATH/fuzz-corpus/$1"
  mkdir -p "$corpus"
  # shellcheck disable=SC2086
  timeout --kill-after=10 "$(( SECONDS_PER_TARGET + 60 ))" \
    "$BUILD_PATH/tests/fuzz/$name" -max_total_time="$SECONDS_PER_TARGET" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$ARTIFACTS/$name-" ${EXTRA_OPTIONS[$name]:-} \
      "$corpus" "$REPO_ROOT/tests/fuzz/corpus/$name" \
      >"$BUILD_PATH/fuzz-$name.log" 2>&1
}

declare -A PIDS=()
failed=()
wait_one() {
  local name
  wait -n || true
  for name in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
      wait "${PIDS[$name]}" || failed+=("$name")
      unset "PIDS[$name]"
    fi
  done
}

printf 'run-fuzz: %d targets, %s s each, %s at a time\n' "${#TARGETS[@]}" \
  "$SECONDS_PER_TARGET" "$JOBS"
for name in "${TARGETS[@]}"; do
  while [ "${#PIDS[@]}" -ge "$JOBS" ]; do wait_one; done
  run_target "$name" &
  PIDS[$name]=$!
done
while [ "${#PIDS[@]}" -gt 0 ]; do wait_one; done

for name in "${TARGETS[@]}"; do
  printf 'run-fuzz: %-24s %s\n' "$name" \
    "$(grep -E '^stat::number_of_executed_units' "$BUILD_PATH/fuzz-$name.log" \
       | awk '{print $2 " inputs"}' || true)"
done
if [ "${#failed[@]}" -gt 0 ]; then
  for name in "${failed[@]}"; do
    printf '\n==> %s failed; the end of %s:\n' "$name" "$BUILD_PATH/fuzz-$name.log" >&2
    tail -n 40 "$BUILD_PATH/fuzz-$name.log" >&2
  done
  die "${failed[*]} failed; the failing inputs are in $ARTIFACTS." \
      "Fix: reproduce with $BUILD_DIR/tests/fuzz/TARGET INPUT, fix the code," \
      "then add the input to tests/fuzz/corpus/TARGET/ as crash-WHAT so the" \
      "replay tests keep it fixed."
fi
printf 'run-fuzz: OK\n'
