#!/usr/bin/env bash
# run-tree.sh - on the GPU machine (device tool, carry [".gpu"], after
# tests/gpu/prepare.sh and a copy of bench_hyperscan_tree into .gpu/bin):
# tests/bench/bench_tree.sh on its generated tree (30,000 files, about
# 2 GB; --small for 1,500 files), vyre against Hyperscan, ripgrep and grep
# on all cores.  The table and vyre's logs go into $OUT.
#   tests/gpu/run-tree.sh [--small] [--runs N]
set -uo pipefail
source .gpu/env.sh
OUT=${OUT:-/tmp}
work=/tmp/vyre-tree-bench
mkdir -p "$work"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "cores: $(nproc); ripgrep: $(rg --version | head -1)"
VYRE_PLUGIN_DIR=$PWD/.gpu/plugin \
VYRE_BENCH_HYPERSCAN_TREE=$PWD/.gpu/bin/bench_hyperscan_tree \
VYRE_BENCH_TMP=$work VYRE_PIPELINE_TIMEOUT=${VYRE_PIPELINE_TIMEOUT:-150} \
  timeout 560 bash tests/bench/bench_tree.sh --out "$work/out" "$@"
echo "bench_tree exit $?"
cp "$work/out/table.md" "$OUT/tree-table.md" 2>/dev/null
tail -c 4000 "$work/out/vyre-4.err" > "$OUT/tree-vyre-4.err" 2>/dev/null
tail -c 4000 "$work/out/vyre-1000.err" > "$OUT/tree-vyre-1000.err" 2>/dev/null
true
