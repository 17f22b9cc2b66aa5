#!/usr/bin/env bash
# tests/bench/bench_tree.sh - a whole tree scanned for literals, whole
# process, as people run it: one table of wall time and files per second for
#   vyre       gst-launch-1.0 vyreurisrc location=DIR ! vyrescan
#              patterns-file=P ! vyresink report-location=R (matches counted:
#              every (pattern, end offset) pair, per file), and
#              vyreurisrc location=DIR ! fakesink: the reading alone
#   Hyperscan  bench_hyperscan_tree -t all cores: every file read and
#              scanned on its own, patterns compiled once (the count vyre's
#              must equal, or the row says FAIL)
#   ripgrep    rg -F -c -j$(nproc) --no-ignore --hidden (if installed)
#   grep       grep -r -F -c
# with 4 and 1,000 literals.  ripgrep and grep count lines, skip overlaps
# (and ripgrep binary files): they are timed, their counts not compared.
#
#   tests/bench/bench_tree.sh [--small] [--tree DIR] [--runs N] [--out DIR]
#                             [--prepare-only]
#
# The tree: DIR as given (--tree), else one generated under
# $VYRE_BENCH_TMP (default $TMPDIR or /tmp) and kept for later runs:
# comparable to /usr/share + /usr/lib + /usr/include (issue 12: 31,701
# files, 2.35 GB): 30,000 files in nested directories, 70 % of them under
# 8 KiB, 25 % up to 256 KiB, 5 % up to 1 MiB (about 2 GB), one in ten
# binary (random bytes), the rest text of made-up words.  --small: 1,500
# files of a tenth the size (about 10 MB), for a quick run on lavapipe.
# The literals are words of the text, so every pattern set matches.
#
# --prepare-only: the tree, OUT/patterns-{4,1000}.txt and OUT/files.list
# are made and the page cache warmed, nothing is timed (for a profile or
# an A/B of builds on the same tree).
#
# Each tool runs --runs times (default 3; the best wall time is kept), the
# page cache warm (one untimed read of the tree first).
#
# Environment:
#   VYRE_BUILD                 build folder (default: ./build of the repository)
#   VYRE_PLUGIN_DIR            folder with libgstvyre.so (default VYRE_BUILD/gst)
#   VYRE_BENCH_HYPERSCAN_TREE  default VYRE_BUILD/tests/bench/bench_hyperscan_tree
#   VYRE_BENCH_TMP             where a generated tree and the outputs go
#   VYRE_PIPELINE_TIMEOUT      seconds allowed per run (default 1800)
#   VYRE_SRC_OPTS, VYRE_SCAN_OPTS  extra vyreurisrc / vyrescan properties
#
# The table goes to stdout and OUT/table.md (OUT: --out DIR, default
# $VYRE_BENCH_TMP/bench-tree-out); each tool's output and command line to
# OUT/.  Exit status 1 when a cell says FAIL or ERROR.
set -Eeuo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SMALL=0
TREE=""
RUNS=3
OUT=""
PREPARE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --small) SMALL=1 ;;
    --tree) TREE="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --prepare-only) PREPARE_ONLY=1 ;;
    -h|--help) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_tree.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

BUILD="${VYRE_BUILD:-$REPO_ROOT/build}"
PLUGIN_DIR="${VYRE_PLUGIN_DIR:-$BUILD/gst}"
HS_BIN="${VYRE_BENCH_HYPERSCAN_TREE:-$BUILD/tests/bench/bench_hyperscan_tree}"
TMP="${VYRE_BENCH_TMP:-${TMPDIR:-/tmp}}"
TIMEOUT="${VYRE_PIPELINE_TIMEOUT:-1800}"
OUT="${OUT:-$TMP/bench-tree-out}"
NPROC="$(nproc)"
mkdir -p "$OUT"

if [ ! -e "$PLUGIN_DIR/libgstvyre.so" ]; then
  echo "bench_tree.sh: no $PLUGIN_DIR/libgstvyre.so. Fix: build first" \
    "(meson setup build && ninja -C build) or set VYRE_BUILD / VYRE_PLUGIN_DIR." >&2
  exit 1
fi
export GST_PLUGIN_PATH_1_0="$PLUGIN_DIR${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}"

# ---------------------------------------------------------------- the tree
if [ -z "$TREE" ]; then
  if [ "$SMALL" = 1 ]; then TREE="$TMP/vyre-bench-tree-small"; else TREE="$TMP/vyre-bench-tree"; fi
  if [ ! -e "$TREE/.complete" ]; then
    echo "generating $TREE ..." >&2
    rm -rf "$TREE"
    python3 - "$TREE" "$SMALL" <<'EOF'
import os, random, sys
root, small = sys.argv[1], sys.argv[2] == "1"
rnd = random.Random(20261206)
n_files = 1500 if small else 30000
scale = 10 if small else 1
syll = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "xi", "bo", "de", "fu", "gi"]
words = sorted({"".join(rnd.choice(syll) for _ in range(rnd.randint(2, 4))) for _ in range(8000)})
text = bytearray()
while len(text) < (4 << 20):
    line = " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 14)))
    text += line.encode() + b"\n"
binary = rnd.randbytes(1 << 20)
os.makedirs(root)
for i in range(n_files):
    r = rnd.random()
    if r < 0.70:
        size = rnd.randint(0, 8 << 10)
    elif r < 0.95:
        size = rnd.randint(8 << 10, 256 << 10)
    else:
        size = rnd.randint(256 << 10, 1 << 20)
    size //= scale
    pool = binary if rnd.random() < 0.1 else text
    off = rnd.randint(0, len(pool) - size)
    d = os.path.join(root, "d%02d" % (i % 37), "e%02d" % (i % 11), "f%03d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "file%05d.%s" % (i, "bin" if pool is binary else "txt")), "wb") as f:
        f.write(pool[off:off + size])
with open(os.path.join(root, ".words"), "w") as f:
    f.write("\n".join(words) + "\n")
open(os.path.join(root, ".complete"), "w").close()
EOF
  fi
fi
[ -d "$TREE" ] || { echo "bench_tree.sh: $TREE is not a directory" >&2; exit 1; }

# The literals: words of the generated text (or, for a tree given with
# --tree, words taken from its text files).
WORDS="$OUT/words.txt"
if [ -e "$TREE/.words" ]; then
  cp "$TREE/.words" "$WORDS"
else
  find "$TREE" -type f -size -64k 2>/dev/null | head -200 | xargs -r cat 2>/dev/null \
    | LC_ALL=C tr -c 'A-Za-z' '\n' | LC_ALL=C awk 'length >= 5' | LC_ALL=C sort -u > "$WORDS"
fi
python3 - "$WORDS" "$OUT" <<'EOF'
import random, sys
words = [w for w in open(sys.argv[1]).read().split() if len(w) >= 4]
rnd = random.Random(12)
for k in (4, 1000):
    pick = rnd.sample(words, min(k, len(words)))
    open("%s/patterns-%d.txt" % (sys.argv[2], k), "w").write("\n".join(pick) + "\n")
EOF

# What every tool is given: the regular files (vyreurisrc skips .git,
# .hg, .svn; a generated tree has none).
find "$TREE" -type f ! -name .complete ! -name .words -print0 > "$OUT/files.list"
N_FILES="$(tr -cd '\0' < "$OUT/files.list" | wc -c)"
BYTES="$(xargs -0 -r stat -c %s < "$OUT/files.list" | awk '{ s += $1 } END { print s + 0 }')"
# Page cache warm: every tool reads from memory.
xargs -0 -r cat < "$OUT/files.list" > /dev/null
if [ "$PREPARE_ONLY" = 1 ]; then
  echo "bench_tree.sh: $TREE: $N_FILES files, $BYTES bytes; patterns and file list in $OUT"
  exit 0
fi
EXCLUDE='exclude=<".complete",".words">'

# ---------------------------------------------------------------- timing
# run_best TAG CMD...: runs CMD RUNS times (stdout to OUT/TAG.out), sets
# BEST to the best wall time in seconds, or returns its exit status.
run_best() {
  local tag="$1"; shift
  printf '%q ' "$@" > "$OUT/$tag.cmd"
  BEST=""
  for ((r = 0; r < RUNS; r++)); do
    local t0 t1 rc=0
    t0="$(date +%s.%N)"
    timeout "$TIMEOUT" "$@" > "$OUT/$tag.out" 2> "$OUT/$tag.err" || rc=$?
    t1="$(date +%s.%N)"
    # grep -c exits 1 when some file has no match: not an error.
    if [ "$rc" != 0 ] && ! { [ "$rc" = 1 ] && [ "${tag%%-*}" = grep ]; }; then return "$rc"; fi
    local w; w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    if [ -z "$BEST" ] || awk -v a="$w" -v b="$BEST" 'BEGIN { exit !(a < b) }'; then BEST="$w"; fi
  done
}

rate() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "-" }'; }

STATUS=0
ROWS=()
# The source alone: what reading the tree costs vyre before any scan (the
# bound of the vyre rows when it is most of their time).
# shellcheck disable=SC2206
SRC=(gst-launch-1.0 -q vyreurisrc "location=$TREE" "$EXCLUDE" ${VYRE_SRC_OPTS:-} ! fakesink)
if run_best "vyre-source" "${SRC[@]}"; then
  ROWS+=("| vyreurisrc ! fakesink (reading only) | - | $BEST | $(rate "$N_FILES" "$BEST") | | |")
else
  ROWS+=("| vyreurisrc ! fakesink (reading only) | - | ERROR ($(tail -1 "$OUT/vyre-source.err")) | | | |"); STATUS=1
fi
for k in 4 1000; do
  P="$OUT/patterns-$k.txt"
  hs_count=""
  if [ -x "$HS_BIN" ]; then
    if run_best "hyperscan-$k" "$HS_BIN" -p "$P" -l "$OUT/files.list" -t 0; then
      hs_count="$(sed -n 's/.* matches=\([0-9]*\).*/\1/p' "$OUT/hyperscan-$k.out")"
      ROWS+=("| Hyperscan per file, $NPROC threads | $k | $BEST | $(rate "$N_FILES" "$BEST") | $hs_count | the reference |")
    else
      ROWS+=("| Hyperscan per file | $k | ERROR (exit $?; $OUT/hyperscan-$k.err) | | | |"); STATUS=1
    fi
  else
    ROWS+=("| Hyperscan per file | $k | not run: no $HS_BIN (apt-get install libhyperscan-dev, rebuild) | | | |")
  fi

  # shellcheck disable=SC2206
  PIPE=(gst-launch-1.0 -q vyreurisrc "location=$TREE" "$EXCLUDE" ${VYRE_SRC_OPTS:-}
        ! vyrescan "patterns-file=$P" ${VYRE_SCAN_OPTS:-}
        ! vyresink "report-location=$OUT/vyre-$k.json" print-summary=false progress=false)
  if run_best "vyre-$k" "${PIPE[@]}" && [ -s "$OUT/vyre-$k.json" ]; then
    read -r v_count v_bytes v_start < <(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["matches"], j["bytes"], "%.3f" % j.get("startup_s", 0))' "$OUT/vyre-$k.json")
    check="count not checked: no Hyperscan"
    if [ "$v_bytes" != "$BYTES" ]; then
      check="FAIL: read $v_bytes bytes of $BYTES"; STATUS=1
    elif [ -n "$hs_count" ]; then
      if [ "$v_count" = "$hs_count" ]; then check="= Hyperscan"; else check="FAIL: Hyperscan counted $hs_count"; STATUS=1; fi
    fi
    ROWS+=("| vyreurisrc ! vyrescan ! vyresink | $k | $BEST (start-up $v_start) | $(rate "$N_FILES" "$BEST") | $v_count | $check |")
  else
    ROWS+=("| vyreurisrc ! vyrescan ! vyresink | $k | ERROR ($(grep -m1 -i error "$OUT/vyre-$k.err" || tail -1 "$OUT/vyre-$k.err")) | | | |"); STATUS=1
  fi

  if command -v rg > /dev/null; then
    if run_best "rg-$k" rg -F -c -j "$NPROC" --no-ignore --hidden -f "$P" "$TREE"; then
      ROWS+=("| rg -F -c -j$NPROC | $k | $BEST | $(rate "$N_FILES" "$BEST") | $(awk -F: '{ s += $NF } END { print s + 0 }' "$OUT/rg-$k.out") lines | not compared (lines, no overlaps, binary skipped) |")
    else
      ROWS+=("| rg -F -c -j$NPROC | $k | ERROR (exit $?) | | | |"); STATUS=1
    fi
  else
    ROWS+=("| rg | $k | not run: ripgrep not installed | | | |")
  fi

  if run_best "grep-$k" env LC_ALL=C grep -r -F -c -f "$P" "$TREE"; then
    ROWS+=("| grep -r -F -c | $k | $BEST | $(rate "$N_FILES" "$BEST") | $(awk -F: '{ s += $NF } END { print s + 0 }' "$OUT/grep-$k.out") lines | not compared (lines, no overlaps) |")
  else
    ROWS+=("| grep -r -F -c | $k | ERROR (exit $?) | | | |"); STATUS=1
  fi
done

{
  echo "bench_tree.sh: $TREE: $N_FILES files, $BYTES bytes; page cache warm; best of $RUNS runs, whole process"
  echo "host: $(uname -n), $NPROC cores; vyrescan device: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("device", "?"))' "$OUT/vyre-4.json" 2>/dev/null || echo '?')"
  echo
  echo "| tool | literals | wall s | files/s | matches | count |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/table.md"
exit "$STATUS"
