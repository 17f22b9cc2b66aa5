#!/usr/bin/env bash
# bench_cold_start.sh - a first run on a machine whose Mesa shader cache is
# empty: how long until the first buffer, per build, in one table.
#
#   tests/bench/bench_cold_start.sh [--runs N] [PLUGIN_DIR ...]
#
# For each run and each plugin directory in turn (alternating, so a busy
# machine slows every build alike): a new, empty MESA_SHADER_CACHE_DIR, then
#   gst-launch-1.0 vyreurisrc location=1KiB ! vyrescan patterns=abc ! vyresink
# Prints vyresink's start-up (`startup_s` of its JSON report: READY->PAUSED
# to the first buffer, the shader compilation included) and the whole
# process's wall time.  Default: --runs 3, the build in build-bench/gst.
# The kernel is compiled by the Vulkan driver (on lavapipe: LLVM, seconds;
# issue 14's target is under 3 s there); nothing is cached between runs.
set -euo pipefail
RUNS=3
DIRS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) DIRS+=("$(realpath "$1")"); shift ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ ${#DIRS[@]} -gt 0 ] || DIRS=("$ROOT/build-bench/gst")
for d in "${DIRS[@]}"; do
  [ -e "$d/libgstvyre.so" ] || { echo "bench_cold_start: no libgstvyre.so in $d. Fix: ninja -C build-bench, or name a build's gst/ directory." >&2; exit 2; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/vyre-cold.XXXXXX")
trap 'rm -rf "$W"' EXIT
head -c 1024 /dev/urandom | base64 > "$W/input.txt"
registry() { echo "$W/registry-$(echo "$1" | md5sum | cut -c1-8).bin"; }
for d in "${DIRS[@]}"; do   # the registry made before, not timed
  GST_PLUGIN_PATH_1_0=$d GST_REGISTRY_1_0=$(registry "$d") gst-inspect-1.0 vyrescan > /dev/null
done
printf '%-4s %-50s %12s %12s\n' run build "start-up s" "whole s"
for ((r = 1; r <= RUNS; r++)); do
  for d in "${DIRS[@]}"; do
    cache=$(mktemp -d "$W/cache.XXXXXX")
    rm -f "$W/report.json"
    t0=$(date +%s.%N)
    MESA_SHADER_CACHE_DIR=$cache GST_PLUGIN_PATH_1_0=$d \
      GST_REGISTRY_1_0=$(registry "$d") \
      gst-launch-1.0 -q vyreurisrc "location=$W/input.txt" ! vyrescan patterns=abc ! \
      vyresink print-summary=false "report-location=$W/report.json" > "$W/log" 2>&1 ||
      { echo "bench_cold_start: the pipeline failed with $d:" >&2; cat "$W/log" >&2; exit 1; }
    t1=$(date +%s.%N)
    rm -rf "$cache"
    startup=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["startup_s"])' "$W/report.json")
    printf '%-4s %-50s %12s %12.3f\n' "$r" "$d" "$startup" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  done
done
