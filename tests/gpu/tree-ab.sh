#!/usr/bin/env bash
# tree-ab.sh - on the GPU machine (device tool, carry [".gpu"], after
# tests/gpu/prepare.sh): two builds of the plugin on the same tree, one
# after the other, whole process, for a change's effect on a tree scan
# (a single timing on a shared host says little; alternating does).
#
#   tests/gpu/tree-ab.sh BASE_PLUGIN_DIR NEW_PLUGIN_DIR [RUNS]
#
# The tree of run-tree.sh (bench_tree.sh --prepare-only makes it when it
# is not there).  For each of: the source alone (vyreurisrc ! fakesink),
# the scan at 4 and at 1,000 literals, RUNS rounds (default 3) of base
# then new; prints each wall time and, for the scans, the report's match
# count and start-up (they must be equal between the builds).  Each build
# has its own registry.
set -uo pipefail
source .gpu/env.sh
[ $# -ge 2 ] || { echo "usage: tree-ab.sh BASE_PLUGIN_DIR NEW_PLUGIN_DIR [RUNS]" >&2; exit 2; }
BASE=$(realpath "$1"); NEW=$(realpath "$2"); RUNS=${3:-3}
W=/tmp/vyre-tree-bench; T=$W/vyre-bench-tree
VYRE_PLUGIN_DIR=$NEW VYRE_BENCH_TMP=$W \
  bash tests/bench/bench_tree.sh --out "$W/out" --prepare-only || exit 1
EXCLUDE='exclude=<".complete",".words">'
registry() { echo "/tmp/reg-ab-$(echo "$1" | md5sum | cut -c1-8).bin"; }
for plug in "$BASE" "$NEW"; do
  GST_PLUGIN_PATH_1_0=$plug GST_REGISTRY_1_0=$(registry "$plug") \
    gst-launch-1.0 -q vyreurisrc "location=$T" "$EXCLUDE" ! vyrescan \
    "patterns-file=$W/out/patterns-4.txt" ! vyresink print-summary=false progress=false \
    > /dev/null 2>&1   # warm: registry, shader cache
done
one() {   # one LABEL PLUGIN_DIR WHAT
  local label=$1 plug=$2 what=$3 rep=/tmp/ab-report.json t0 t1 rc=0
  export GST_PLUGIN_PATH_1_0=$plug
  export GST_REGISTRY_1_0=$(registry "$plug")
  rm -f "$rep"
  t0=$(date +%s.%N)
  if [ "$what" = source ]; then
    timeout 120 gst-launch-1.0 -q vyreurisrc "location=$T" "$EXCLUDE" ! fakesink > /dev/null 2>&1 || rc=$?
  else
    timeout 120 gst-launch-1.0 -q vyreurisrc "location=$T" "$EXCLUDE" ! vyrescan \
      "patterns-file=$W/out/patterns-$what.txt" ! vyresink "report-location=$rep" \
      print-summary=false progress=false > /dev/null 2>&1 || rc=$?
  fi
  t1=$(date +%s.%N)
  local extra=""
  [ -s "$rep" ] && extra=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("matches %d, start-up %.3f s" % (j["matches"], j.get("startup_s", 0)))' "$rep")
  printf '%-6s %-7s %6.3f s  exit %d  %s\n' "$label" "$what" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rc" "$extra"
}
echo "base: $BASE"; echo "new:  $NEW"
for what in source 4 1000; do
  for ((r = 0; r < RUNS; r++)); do
    one base "$BASE" "$what"
    one new "$NEW" "$what"
  done
done
