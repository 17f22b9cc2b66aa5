#!/usr/bin/env bash
# quickstart.sh - set up, build and check gst-vyre on Debian 12.
#
#   bash tests/quickstart.sh test   install the build/test packages (when
#                                   root), build into ./build, run every
#                                   suite, then the ring suite under
#                                   ThreadSanitizer and AddressSanitizer
#   bash tests/quickstart.sh demo   same set-up and build, then run the
#                                   main job (demo_main_job below)
#
# Runs from any directory; works on a clean clone (CI runs it as root on
# Debian 12 with no GPU: lavapipe from mesa-vulkan-drivers is the Vulkan
# device).  Not root: it only checks the packages and names the missing
# ones.  The build directory is reused when it exists (VYRE_BUILD_DIR
# overrides ./build).  Stops at the first failing step.
set -Eeuo pipefail

# Debian 12 packages the build and the tests need (from the meson.build
# files: glib-2.0, gstreamer-1.0/-base/-check, vulkan, liburing, glslc,
# gst-inspect-1.0, valgrind; lavapipe for Vulkan without a GPU).
# libc6-dev is only a Recommends of gcc, so it is named explicitly.
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

usage() {
  cat >&2 <<EOF
usage: bash tests/quickstart.sh test|demo
  test  set up, build, run all test suites plus the ring suite under
        tsan and asan
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

run_tests() {
  cd "$REPO_ROOT"
  CURRENT_STEP="meson test (all suites)"
  say "Tests: all suites, default setup"
  meson test -C "$BUILD_PATH" --print-errorlogs \
    || die "tests failed (default setup). Logs: $BUILD_DIR/meson-logs/testlog.txt"

  # meson test --suite X overrides a setup's exclude_suites and would run
  # the other sanitizer builds too; the --no-suite options keep each run
  # to the ring tests built for that sanitizer.
  CURRENT_STEP="meson test --setup tsan --suite ring"
  say "Tests: ring suite under ThreadSanitizer"
  meson test -C "$BUILD_PATH" --setup tsan --suite ring \
      --no-suite plain --no-suite asan --print-errorlogs \
    || die "ring tests failed under ThreadSanitizer. Logs: $BUILD_DIR/meson-logs/testlog-tsan.txt"

  CURRENT_STEP="meson test --setup asan"
  say "Tests: ring suite and the kernel's host side under AddressSanitizer + UBSan"
  meson test -C "$BUILD_PATH" --setup asan \
      --no-suite plain --no-suite tsan --print-errorlogs \
    || die "tests failed under AddressSanitizer. Logs: $BUILD_DIR/meson-logs/testlog-asan.txt"
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
  printf '# demo patterns\npassword=\nAKIA\nBEGIN RSA PRIVATE KEY\napi_key\n\\x23not-a-comment\n' > "$patterns"

  CURRENT_STEP="scanning the sample"
  local src="filesrc location=$sample blocksize=1048576"
  if GST_PLUGIN_PATH_1_0="$BUILD_PATH/gst" GST_REGISTRY_1_0="$reg" \
      gst-inspect-1.0 vyreurisrc >/dev/null 2>&1; then
    src="vyreurisrc location=$sample"
  fi
  say "Main job: ${src%% *} ! vyrescan ! vyresink over $(du -h "$sample" | cut -f1)"
  local report="$BUILD_PATH/demo-report.json"
  GST_PLUGIN_PATH_1_0="$BUILD_PATH/gst" GST_REGISTRY_1_0="$reg" \
    gst-launch-1.0 -q $src ! vyrescan patterns-file="$patterns" \
      ! vyresink report-location="$report" \
    || die "the scan pipeline failed"
  printf 'report: %s\n' "$report"
  printf 'cross-check with grep -o: %s matches\n' \
    "$(grep -o -E 'password=|AKIA|BEGIN RSA PRIVATE KEY|api_key' "$sample" | wc -l)"
}

main() {
  [ $# -eq 1 ] || usage
  local mode="$1"
  case "$mode" in
    test|demo) ;;
    *) usage ;;
  esac
  local t0=$SECONDS
  install_packages
  configure_and_build
  if [ "$mode" = test ]; then
    run_tests
  else
    demo_main_job
  fi
  say "quickstart $mode: OK ($((SECONDS - t0)) s)"
}

main "$@"
