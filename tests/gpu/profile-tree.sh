#!/usr/bin/env bash
# profile-tree.sh - on the GPU machine (device tool, carry [".gpu"], after
# VYRE_GPU_PERF=1 tests/gpu/prepare.sh): where a tree scan's time goes,
# by thread, with perf.  Generates the tree of run-tree.sh when it is not
# there (bench_tree.sh --prepare-only: nothing timed), then records
# `vyreurisrc location=TREE ! vyrescan patterns-file=P ! vyresink` at
# 4 literals (VYRE_PROFILE_LITERALS=1000 for the other set) and prints the
# samples of every thread (PERF_FREQ a second: that many are one
# CPU-second) and, for the two streaming threads (vyreurisrc's, which also
# runs vyrescan's chain, and vyrescan's task, which also runs vyresink),
# the functions with their callees' time and the callers of their futex
# calls and locks (perf-callers.py).  The report goes into $OUT.
set -uo pipefail
source .gpu/env.sh
export GST_PLUGIN_PATH_1_0=$PWD/.gpu/plugin GST_REGISTRY_1_0=/tmp/vyre-profile-registry.bin
OUT=${OUT:-/tmp}
P=$PWD/.gpu/perf
[ -x "$P/perf" ] || { echo "profile-tree.sh: no .gpu/perf/perf. Fix: VYRE_GPU_PERF=1 bash tests/gpu/prepare.sh on the development machine." >&2; exit 2; }
perf() { LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$P/lib "$P/perf" "$@"; }
FREQ=${PERF_FREQ:-1999}
LIT=${VYRE_PROFILE_LITERALS:-4}
W=/tmp/vyre-tree-bench; T=$W/vyre-bench-tree
VYRE_PLUGIN_DIR=$PWD/.gpu/plugin VYRE_BENCH_TMP=$W \
  bash tests/bench/bench_tree.sh --out "$W/out" --prepare-only || exit 1
launch=(gst-launch-1.0 -q vyreurisrc "location=$T" 'exclude=<".complete",".words">' !
  vyrescan "patterns-file=$W/out/patterns-$LIT.txt" ! vyresink print-summary=false progress=false)
gst-inspect-1.0 vyrescan > /dev/null 2>&1
TIMEFORMAT="%R s without perf"
time "${launch[@]}"           # warm: page cache, shader cache, registry
perf record -q --call-graph dwarf,8192 -F "$FREQ" -o /tmp/tree.perf -- "${launch[@]}"
{
  echo "== samples per thread ($FREQ a CPU-second)"
  perf report -i /tmp/tree.perf --no-children --sort pid -n -q -g none 2>&1 | head -30
  for c in vyreurisrc0:src vyrescan0:src; do
    tid=$(perf report -i /tmp/tree.perf --no-children --sort pid -n -q -g none 2>/dev/null |
      grep "$c" | head -1 | awk '{print $3}' | cut -d: -f1)
    [ -n "$tid" ] || continue
    echo "== $c (thread $tid): with callees"
    perf report -i /tmp/tree.perf --children --tid "$tid" --sort sym -q -g none 2>/dev/null |
      grep -v "\] 0x0000" | head -45 | cut -c1-120
    echo "== $c: itself"
    perf report -i /tmp/tree.perf --no-children --tid "$tid" --sort dso,sym -q -g none 2>/dev/null |
      head -25 | cut -c1-120
    echo "== $c: who waits or wakes (futex), who contends (lock)"
    perf script -i /tmp/tree.perf --tid "$tid" 2>/dev/null > /tmp/tree-$tid.script
    python3 tests/gpu/perf-callers.py 'futex' 3 12 < /tmp/tree-$tid.script
    python3 tests/gpu/perf-callers.py '^g_mutex_lock$|^g_mutex_unlock$|lll_lock' 3 12 < /tmp/tree-$tid.script
  done
} > "$OUT/profile-tree.txt" 2>&1
head -c 20000 "$OUT/profile-tree.txt"
