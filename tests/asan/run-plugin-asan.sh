#!/usr/bin/env bash
# run-plugin-asan.sh - the whole plugin built with AddressSanitizer and
# UBSan, and the element tests that drive it through the Vulkan device
# (lavapipe without a GPU) run against it: the engine (tenants, shares,
# faults, hold), a tree scan (small files sharing a job, stopped mid-way),
# vyrescan's exactness checks (buffers of every size, empty ones included;
# jobs scanned again in pieces, grouped per buffer), vyresink, and the
# findings of a tree from Python.
#
#   tests/asan/run-plugin-asan.sh [BUILD_DIR]     (default ./build-asan)
#
# The meson test setup "asan" covers ring/ and the kernel's host side only
# (its executables compile those sources with the sanitizers); here the
# plugin itself is instrumented.  GStreamer loads it in this process
# (GST_REGISTRY_FORK=no: the plugin scanner is not instrumented) with the
# ASan runtime preloaded.  Leak detection stays off, as in the asan setup:
# the Vulkan driver leaves an allocation that LeakSanitizer cannot
# attribute; the plain setup's leaks tracer and valgrind cover leaks.
# Exit status: 0, or that of the first test that failed.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$REPO_ROOT/build-asan}"
cd "$REPO_ROOT"
if [ ! -e "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$BUILD" gst/libgstvyre.so tests/elements/test_engine \
  tests/elements/test_vyreurisrc_tree tests/elements/test_vyresink \
  tests/elements/test_vyrescan >/dev/null

ASAN_LIB="$(gcc -print-file-name=libasan.so)"
export LD_PRELOAD="$ASAN_LIB"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:verify_asan_link_order=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export GST_REGISTRY_FORK=no
export GST_REGISTRY_1_0="$BUILD/asan-registry.bin"
export GST_PLUGIN_SYSTEM_PATH_1_0=
export GST_PLUGIN_PATH_1_0="$BUILD/gst:$(pkg-config --variable=pluginsdir gstreamer-1.0)"
export GST_DEBUG='vyre*:1,*:1'
export CK_DEFAULT_TIMEOUT=600
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export TMPDIR="$tmp"

run() {
  local name="$1" t=$SECONDS
  shift
  if "$@" > "$tmp/$name.log" 2>&1; then
    printf 'ok   %-34s %4d s\n' "$name" "$(( SECONDS - t ))"
  else
    local rc=$?
    printf 'FAIL %-34s (exit %d)\n' "$name" "$rc"
    grep -E "ERROR: AddressSanitizer|runtime error|SUMMARY|:[EF]:|FAIL" \
      "$tmp/$name.log" | head -20 || tail -20 "$tmp/$name.log"
    exit "$rc"
  fi
}
run test_engine "$BUILD/tests/elements/test_engine"
run test_vyreurisrc_tree-scan env \
  GST_CHECKS=test_scan_boundary,test_tree_filesink,test_scan_stop_mid_tree \
  "$BUILD/tests/elements/test_vyreurisrc_tree"
run test_vyrescan-exact env GST_CHECKS=test_correctness,test_every_match \
  "$BUILD/tests/elements/test_vyrescan"
run test_vyresink "$BUILD/tests/elements/test_vyresink"
run test_findings.py /usr/bin/python3 tests/elements/test_findings.py
echo "run-plugin-asan: all passed (plugin under ASan + UBSan)"
