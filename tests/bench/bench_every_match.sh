#!/usr/bin/env bash
# bench_every_match.sh - every match at any density: the table of
# docs/benchmarks.md "Every match".
#
#   bash tests/bench/bench_every_match.sh [SIZE_BYTES] [COUNTS...]
#
# For English-word text (match-dense, tests/bench/bench_corpus.py) and 32,
# 1,000 and 5,000 literals (or COUNTS), runs
#   gst-launch-1.0 vyreurisrc ! vyrescan patterns-file=P ! vyresink
# at every default and prints one row each: matches (vyresink's report),
# Hyperscan's count of the same (bench_hyperscan, all matches), matches not
# stored, jobs scanned again in pieces (vyrescan's EOS log line), GB/s from
# PLAYING to EOS (gst-launch's "Execution ended after"), the whole process's
# wall time, its peak resident memory, and the peak GPU memory in use
# (nvidia-smi, sampled every 50 ms; "n/a" without it).  A count that
# differs from Hyperscan's or a match not stored makes the exit status 1.
#
# Environment: VYRE_BUILD (default ./build-bench) for the plugin and
# bench_hyperscan; VYRE_WORDS (default VYRE_BUILD/tests/bench/words.txt,
# else /usr/share/dict/words, else generated words); OUT (default a
# temporary directory) for the corpus, patterns, reports and logs.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$(cd "${VYRE_BUILD:-$HERE/../../build-bench}" && pwd)"
SIZE="${1:-$((1 << 30))}"
shift || true
COUNTS=("${@:-32 1000 5000}")
# shellcheck disable=SC2206
COUNTS=(${COUNTS[*]})
WORK="${OUT:-$(mktemp -d)}"
mkdir -p "$WORK"
if [ -n "${VYRE_WORDS:-}" ]; then WORDS="$VYRE_WORDS"
elif [ -r "$BUILD/tests/bench/words.txt" ]; then WORDS="$BUILD/tests/bench/words.txt"
elif [ -r /usr/share/dict/words ]; then WORDS=/usr/share/dict/words
else WORDS=-
fi
export GST_PLUGIN_PATH_1_0="$BUILD/gst"
HS="$BUILD/tests/bench/bench_hyperscan"
CORPUS="$WORK/dense.txt"
[ -s "$CORPUS" ] || python3 "$HERE/bench_corpus.py" dense "$WORDS" "$CORPUS" "$SIZE"
python3 "$HERE/bench_corpus.py" patterns "$WORDS" "$WORK" "${COUNTS[@]}"
cat "$CORPUS" > /dev/null   # page-cached, as a scanner's users usually have it

echo "| literals | matches (vyresink) | Hyperscan | not stored | jobs scanned again | PLAYING->EOS GB/s | whole process s | peak RSS MiB | peak GPU MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
status=0
for k in "${COUNTS[@]}"; do
  P="$WORK/patterns-$k.txt"
  R="$WORK/report-$k.json"
  LOG="$WORK/vyre-$k.log"
  hs="n/a"
  if [ -x "$HS" ]; then
    hs="$("$HS" -p "$P" -f "$CORPUS" -t 0 2>/dev/null | tr ' ' '\n' | sed -n 's/^matches=//p')"
  fi
  gpu_peak="$WORK/gpu-$k.txt"
  : > "$gpu_peak"
  sampler=""
  if command -v nvidia-smi > /dev/null; then
    ( while :; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.05; done ) \
      > "$gpu_peak" 2> /dev/null &
    sampler=$!
  fi
  # The process's peak RSS comes from the kernel's accounting of the child.
  read -r wall rss < <(python3 - "$LOG" "$CORPUS" "$P" "$R" <<'PY'
import resource, subprocess, sys, time, os
log, corpus, pats, report = sys.argv[1:5]
env = dict(os.environ, GST_DEBUG="vyrescan:4")
t0 = time.monotonic()
with open(log, "w") as f:
    subprocess.run(["timeout", "900", "gst-launch-1.0", "vyreurisrc", "location=" + corpus,
                    "!", "vyrescan", "patterns-file=" + pats,
                    "!", "vyresink", "report-location=" + report,
                    "print-summary=false", "progress=false"],
                   stdout=f, stderr=subprocess.STDOUT, env=env)
wall = time.monotonic() - t0
print("%.3f %d" % (wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))
PY
)
  [ -n "$sampler" ] && kill "$sampler" 2> /dev/null && wait "$sampler" 2> /dev/null
  gpu="$(sort -n "$gpu_peak" | tail -1)"
  read -r matches dropped < <(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["matches"], j["dropped_matches"])' "$R" 2> /dev/null || echo "ERROR ERROR")
  rescans="$(sed -n 's/.* \([0-9]*\) jobs whose events outgrew their record.*/\1/p' "$LOG" | tail -1)"
  play="$(sed -n 's/.*Execution ended after \([0-9:.]*\).*/\1/p' "$LOG" | tail -1 \
    | awk -F: -v b="$(stat -c %s "$CORPUS")" 'NF == 3 { t = $1 * 3600 + $2 * 60 + $3; if (t > 0) printf "%.3g", b / t / 1e9 }')"
  echo "| $k | $matches | $hs | $dropped | ${rescans:-?} | ${play:-?} | $wall | $rss | ${gpu:-n/a} |"
  if [ "$matches" = ERROR ] || { [ "$hs" != n/a ] && [ "$matches" != "$hs" ]; } || [ "$dropped" != 0 ]; then
    echo "FAIL: $k literals: see $LOG and $R" >&2
    status=1
  fi
done
exit $status
