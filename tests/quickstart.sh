#!/usr/bin/env bash
# quickstart.sh - set up, build and check gst-vyre on Debian 12.
#
#   bash tests/quickstart.sh test   install the build/test packages (when
#                                   root), build into ./build, then run:
#                                   the default setup (suites ring,
#                                   elements and soak) with TMPDIR on the
#                                   build directory's file system, the
#                                   default setup again with TMPDIR on a
#                                   fresh tmpfs, the ring suite under
#                                   ThreadSanitizer, the asan setup, the
#                                   valgrind setup and the fuzz targets for
#                                   a bounded time (tests/fuzz/run-fuzz.sh)
#   bash tests/quickstart.sh demo   same set-up and build, then run the
#                                   main job (demo_main_job below)
#
# Runs from any directory; works on a clean clone (CI runs it as root on
# Debian 12 with no GPU: lavapipe from mesa-vulkan-drivers is the Vulkan
# device).  Not root: it only checks the packages and names the missing
# ones.  The build directory is reused when it exists (VYRE_BUILD_DIR
# overrides ./build).  Stops at the first failing step and names it.
#
# The default setup runs twice because tests must not depend on the file
# system their temporary files are on: tmpfs (a common /tmp) and disk file
# systems order reads, truncates and page-cache fills differently.  As
# root the second pass gets a tmpfs mounted for it (unmounted on exit);
# otherwise a directory under /dev/shm when that is a tmpfs.
set -Eeuo pipefail

# Debian 12 packages the build and the tests need (from the meson.build
# files: glib-2.0, gstreamer-1.0/-base/-check, vulkan, liburing, glslc,
# gst-inspect-1.0, valgrind; lavapipe for Vulkan without a GPU; clang for
# the fuzz targets' -fsanitize=fuzzer).  libc6-dev is only a Recommends
# of gcc, and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes)
# only a Recommends of clang, so they are named explicitly.
PACKAGES=(
  meson ninja-build pkg-config gcc libc6-dev
  glslc
  libglib2.0-dev libjson-glib-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base
  liburing-dev
  libvulkan-dev mesa-vulkan-drivers
  valgrind
  python3 python3-gi gir1.2-gstreamer-1.0
  clang libclang-rt-14-dev
)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${VYRE_BUILD_DIR:-build}"
case "$BUILD_DIR" in
  /*) BUILD_PATH="$BUILD_DIR" ;;
  *) BUILD_PATH="$REPO_ROOT/$BUILD_DIR" ;;
esac
CURRENT_STEP="start-up"

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nquickstart: FAILED: %s\n' "$*" >&2; exit 1; }
on_error() {
  local rc=$?
  printf '\nquickstart: FAILED (exit %s) during: %s\n' "$rc" "$CURRENT_STEP" >&2
  exit "$rc"
}
trap on_error ERR

# The tmpfs made for the second test pass: a mount point this script
# mounted (TMPFS_MOUNTED=1) or a directory under /dev/shm; removed on exit.
TMPFS_DIR=""
TMPFS_MOUNTED=0
TMPFS_HOW=""
cleanup_tmpfs() {
  [ -n "$TMPFS_DIR" ] || return 0
  if [ "$TMPFS_MOUNTED" -eq 1 ]; then
    umount "$TMPFS_DIR" 2>/dev/null || umount -l "$TMPFS_DIR" \
      || printf 'quickstart: could not unmount %s\n' "$TMPFS_DIR" >&2
    rmdir "$TMPFS_DIR" 2>/dev/null || true
  else
    rm -rf --one-file-system "$TMPFS_DIR"
  fi
  TMPFS_DIR=""
  TMPFS_MOUNTED=0
}
trap cleanup_tmpfs EXIT
# A signal ends the script through exit, so the EXIT trap unmounts.
trap 'exit 130' INT
trap 'exit 143' TERM

# Wall time of each step, printed at the end.
STEP_TIMES=()
record_step_time() {
  STEP_TIMES+=("$(printf '%5d s  %s' "$(( SECONDS - $1 ))" "$2")")
}

usage() {
  cat >&2 <<EOF
usage: bash tests/quickstart.sh test|demo
  test  set up, build, run the default setup with TMPDIR on disk and
        again on a tmpfs, then the tsan, asan and valgrind setups and
        the fuzz targets for a bounded time
  demo  set up, build, run the main job
EOF
  exit 2
}

missing_packages() {
  local p status
  for p in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || printf '%s\n' "$p"
  done
}

install_packages() {
  CURRENT_STEP="checking Debian packages"
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "Not a Debian system: cannot check packages. Make sure the" \
        "equivalents of these are installed: ${PACKAGES[*]}"
    return
  fi
  local missing
  missing="$(missing_packages | tr '\n' ' ')"
  if [ "$(id -u)" -eq 0 ]; then
    CURRENT_STEP="apt-get update / install"
    say "Installing Debian packages (root): ${PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update; then
      [ -z "$missing" ] || die "apt-get update failed and these packages" \
          "are missing: $missing. Fix: check network access / apt sources."
      say "apt-get update failed, but every package is already installed: going on"
    fi
    apt-get install -y --no-install-recommends "${PACKAGES[@]}" \
      || die "apt-get install failed. Fix: see the apt output above."
  elif [ -n "$missing" ]; then
    die "missing Debian packages: $missing
Fix: as root run
  apt-get install -y --no-install-recommends $missing
or run this script as root (it installs them)."
  else
    say "All ${#PACKAGES[@]} Debian packages are installed"
  fi
}

configure_and_build() {
  cd "$REPO_ROOT"
  CURRENT_STEP="meson setup $BUILD_DIR"
  if [ -f "$BUILD_PATH/build.ninja" ]; then
    say "Reusing build directory $BUILD_DIR"
  else
    say "Configuring build directory $BUILD_DIR"
    meson setup "$BUILD_PATH" \
      || die "meson setup failed. Fix: read $BUILD_DIR/meson-logs/meson-log.txt."
  fi
  CURRENT_STEP="ninja -C $BUILD_DIR"
  say "Building ($(nproc) cores)"
  ninja -C "$BUILD_PATH" || die "the build failed (see the compiler output above)."
}

# fs_type DIR: the file system DIR is on, as stat names it (tmpfs,
# ext2/ext3, xfs, overlayfs, ...).
fs_type() {
  stat -f -c %T "$1"
}

# make_tmpfs_dir: sets TMPFS_DIR to an empty directory on a tmpfs.
make_tmpfs_dir() {
  if [ "$(id -u)" -eq 0 ]; then
    TMPFS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/vyre-test-tmpfs.XXXXXX")"
    if mount -t tmpfs -o size=2g,mode=1777 vyre-test-tmpfs "$TMPFS_DIR"; then
      TMPFS_MOUNTED=1
      TMPFS_HOW="a tmpfs mounted for this pass on $TMPFS_DIR"
      return
    fi
    rmdir "$TMPFS_DIR"
    TMPFS_DIR=""
    say "mount -t tmpfs failed (no mount permission here?): trying /dev/shm"
  fi
  if [ -d /dev/shm ] && [ "$(fs_type /dev/shm)" = tmpfs ]; then
    TMPFS_DIR="$(mktemp -d /dev/shm/vyre-test-tmpfs.XXXXXX)"
    TMPFS_HOW="$TMPFS_DIR (/dev/shm is a tmpfs)"
    return
  fi
  die "no tmpfs for the second test pass: mount -t tmpfs is not allowed" \
      "and /dev/shm is not a tmpfs. Fix: run as root, or mount a tmpfs" \
      "on /dev/shm (mount -t tmpfs tmpfs /dev/shm)."
}

# run_setup NAME LOG TMPDIR_FOR_TESTS MESON_TEST_ARGS...: one meson test
# run, named NAME in the log and the step times.
run_setup() {
  local name="$1" log="$2" tmp="$3" t=$SECONDS
  shift 3
  CURRENT_STEP="tests: $name"
  say "Tests: $name"
  TMPDIR="$tmp" meson test -C "$BUILD_PATH" --print-errorlogs "$@" \
    || die "tests failed: $name. Logs: $BUILD_DIR/meson-logs/$log"
  record_step_time "$t" "tests: $name"
}

run_tests() {
  cd "$REPO_ROOT"
  local disk_tmp="$BUILD_PATH/test-tmp"
  mkdir -p "$disk_tmp"
  run_setup "default setup (suites ring, elements, soak), TMPDIR=$disk_tmp on $(fs_type "$disk_tmp")" \
    testlog.txt "$disk_tmp"

  CURRENT_STEP="making a tmpfs for the second pass"
  make_tmpfs_dir
  run_setup "default setup again, TMPDIR on $(fs_type "$TMPFS_DIR"): $TMPFS_HOW" \
    testlog.txt "$TMPFS_DIR"
  cleanup_tmpfs

  # meson test --suite X overrides a setup's exclude_suites and would run
  # the other sanitizer builds too; the --no-suite options keep each run
  # to the ring tests built for that sanitizer.
  run_setup "ring suite under ThreadSanitizer (setup tsan)" testlog-tsan.txt \
    "$disk_tmp" --setup tsan --suite ring --no-suite plain --no-suite asan

  run_setup "ring suite and the kernel's host side under AddressSanitizer + UBSan (setup asan)" \
    testlog-asan.txt "$disk_tmp" --setup asan --no-suite plain --no-suite tsan

  # The valgrind setup leaves out the tests that run shaders (suite
  # vulkan; see meson.build) and runs the rest at a reduced scale.
  run_setup "default setup under valgrind, without suite vulkan (setup valgrind)" \
    testlog-valgrind.txt "$disk_tmp" --setup valgrind

  run_fuzz
}

# The libFuzzer targets of tests/fuzz/, each for VYRE_FUZZ_SECONDS (15
# here: 4 targets two at a time on 2 cores, 30 s of fuzzing; CI runs this
# twice, on the host and in the fresh root), in their own clang build
# directory next to the main one.  What they learn is kept there, so
# later runs start further.  Measured: 44 s for the step with the clang
# build on 2 shared cores.
run_fuzz() {
  local t=$SECONDS fuzz_dir="$BUILD_PATH-fuzz"
  CURRENT_STEP="fuzz targets (tests/fuzz/run-fuzz.sh $fuzz_dir)"
  say "Fuzz targets for a bounded time (tests/fuzz/run-fuzz.sh)"
  VYRE_FUZZ_SECONDS="${VYRE_FUZZ_SECONDS:-15}" \
    bash "$REPO_ROOT/tests/fuzz/run-fuzz.sh" "$fuzz_dir" \
    || die "a fuzz target failed (its log and the failing input are named above)."
  record_step_time "$t" "fuzz targets (run-fuzz.sh)"
}

# The demo's main job: scan a generated sample and print the summary.
demo_main_job() {
  CURRENT_STEP="gst-inspect-1.0 vyre"
  local reg="$BUILD_PATH/demo-registry.bin"
  GST_PLUGIN_PATH_1_0="$BUILD_PATH/gst" GST_REGISTRY_1_0="$reg" \
    gst-inspect-1.0 vyre >/dev/null \
    || die "GStreamer could not load the vyre plugin from $BUILD_DIR/gst."

  CURRENT_STEP="generating the sample"
  local sample="$BUILD_PATH/demo-sample.txt" patterns="$BUILD_PATH/demo-patterns.txt"
  if [ ! -s "$sample" ]; then
    # 32 MiB of log-like text with secrets planted in it (deterministic).
    python3 - "$sample" <<'PY'
import random, sys
random.seed(2026)
words = "the quick brown fox jumps over lazy dogs error warning info user login".split()
secrets = ["password=hunter2", "AKIAIOSFODNN7EXAMPLE", "BEGIN RSA PRIVATE KEY", "api_key"]
out, size = [], 0
while size < 32 << 20:
    line = " ".join(random.choice(words) for _ in range(12))
    if random.random() < 0.01:
        line += " " + random.choice(secrets)
    out.append(line); size += len(line) + 1
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
  fi
  # The literals as grep sees them (no escapes), for the cross-check.
  local literals=("password=" "AKIA" "BEGIN RSA PRIVATE KEY" "api_key" "#not-a-comment")
  cat > "$patterns" <<'EOF'
# Patterns for the quick-start demo (tests/quickstart.sh demo): one literal
# per line; empty lines and lines that start with '#' are comments.
# Four secrets the generated sample has planted in it:
password=
AKIA
BEGIN RSA PRIVATE KEY
api_key
# A literal that starts with '#' is written with the escape \x23 (an escaped
# '#'), or it would be read as a comment.  It is here to show escapes; the
# sample has no "#not-a-comment" in it, so it finds 0 matches.
\x23not-a-comment
EOF

  CURRENT_STEP="scanning the sample"
  local src="filesrc location=$sample blocksize=1048576"
  if GST_PLUGIN_PATH_1_0="$BUILD_PATH/gst" GST_REGISTRY_1_0="$reg" \
      gst-inspect-1.0 vyreurisrc >/dev/null 2>&1; then
    src="vyreurisrc location=$sample"
  fi
  say "Main job: ${src%% *} ! vyrescan ! vyresink over $(du -h "$sample" | cut -f1)"
  printf 'sample:   %s (generated log-like text with secrets planted in it)\n' "$sample"
  printf 'patterns: %s (its comments say why each literal is there)\n' "$patterns"
  local report="$BUILD_PATH/demo-report.json"
  GST_PLUGIN_PATH_1_0="$BUILD_PATH/gst" GST_REGISTRY_1_0="$reg" \
    gst-launch-1.0 -q $src ! vyrescan patterns-file="$patterns" \
      ! vyresink report-location="$report" \
    || die "the scan pipeline failed"
  printf 'note: the pattern \\x23not-a-comment is "#not-a-comment" with its %s\n' \
    "'#' escaped (\\x23) to show escapes; the sample has none: 0 matches is right"
  printf 'report: %s (the same counts as JSON)\n' "$report"

  CURRENT_STEP="cross-checking the counts with grep"
  printf '\nCross-check: grep -o -F counts each literal in the sample; each count\n'
  printf 'should equal vyre'"'"'s for that pattern in the summary above (0 for one\n'
  printf 'it says did not match):\n'
  local literal n total=0
  for literal in "${literals[@]}"; do
    # grep exits 1 when a literal is not there: a count of 0, not an error.
    n="$( { grep -o -F -e "$literal" "$sample" || [ $? -eq 1 ]; } | wc -l)"
    total=$(( total + n ))
    printf '%12d  %s\n' "$n" "$literal"
  done
  printf '%12d  in all (the summary'"'"'s "N matches")\n' "$total"
}

main() {
  [ $# -eq 1 ] || usage
  local mode="$1"
  case "$mode" in
    test|demo) ;;
    *) usage ;;
  esac
  local t0=$SECONDS t
  t=$SECONDS
  install_packages
  record_step_time "$t" "Debian packages"
  t=$SECONDS
  configure_and_build
  record_step_time "$t" "meson setup + ninja"
  if [ "$mode" = test ]; then
    run_tests
  else
    t=$SECONDS
    demo_main_job
    record_step_time "$t" "demo main job"
  fi
  say "quickstart $mode: OK ($((SECONDS - t0)) s); wall time per step:"
  printf '%s\n' "${STEP_TIMES[@]}"
}

main "$@"
