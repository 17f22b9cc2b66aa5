#!/usr/bin/env bash
# run.sh - on the GPU machine (device tool, carry [".gpu"]):
#   bash .gpu/run.sh tests|bench|pipeline|all
# Writes logs into $OUT when set.  Every command is bounded by timeout.
# SEEDS="1 2 3" (default) picks test_megakernel's seeds; REPEAT=N runs
# test_vyrescan N times (memory-ordering bugs show up in a fraction of runs).
set -uo pipefail
source .gpu/env.sh
export GST_PLUGIN_PATH_1_0=$PWD/.gpu/plugin
OUT=${OUT:-/tmp}
what=${1:-all}
nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.current,pcie.link.width.current --format=csv,noheader
if [ "$what" = tests ] || [ "$what" = all ]; then
  for s in ${SEEDS:-1 2 3}; do
    echo "== test_megakernel seed $s"
    VYRE_TEST_SEED=$s timeout 120 .gpu/bin/test_megakernel 2>&1 | grep -E "passed|FAILED|CHECK|^persistent|^scan only|^relaunching|^overflow|failed:"
  done
  if [ -x .gpu/bin/test_vyresink ]; then
    echo "== test_vyresink"
    timeout 200 .gpu/bin/test_vyresink 2>&1 | grep -vE "GStreamer-WARNING|^$" | tail -4
  fi
  if [ -x .gpu/bin/test_vyrescan ]; then
    for r in $(seq "${REPEAT:-1}"); do
      echo "== test_vyrescan (run $r)"
      CK_DEFAULT_TIMEOUT=300 timeout 400 .gpu/bin/test_vyrescan 2>&1 | grep -vE "GStreamer-WARNING|^$" | tail -15
    done
  fi
fi
if [ "$what" = pipeline ] || [ "$what" = all ]; then
  echo "== pipeline: filesrc|vyreurisrc ! vyrescan ! vyresink, 1 GiB"
  python3 - /tmp/sample.txt <<'PY'
import random, sys
random.seed(2026)
words = "the quick brown fox jumps over lazy dogs error warning info user login".split()
secrets = ["password=hunter2", "AKIAIOSFODNN7EXAMPLE", "BEGIN RSA PRIVATE KEY", "api_key"]
line_pool = [" ".join(random.choice(words) for _ in range(12)) + (" " + random.choice(secrets) if random.random() < 0.01 else "") for _ in range(20000)]
with open(sys.argv[1], "w") as f:
    size = 0
    while size < 1 << 30:
        chunk = "\n".join(random.choice(line_pool) for _ in range(5000)) + "\n"
        f.write(chunk); size += len(chunk)
PY
  printf 'password=\nAKIA\nBEGIN RSA PRIVATE KEY\napi_key\n' > /tmp/patterns.txt
  echo "expected (grep -o | wc -l): $(grep -o -E 'password=|AKIA|BEGIN RSA PRIVATE KEY|api_key' /tmp/sample.txt | wc -l)"
  for src in "filesrc location=/tmp/sample.txt blocksize=1048576" "vyreurisrc location=/tmp/sample.txt"; do
    echo "-- ${src%% *}"
    timeout 300 gst-launch-1.0 -q $src ! vyrescan patterns-file=/tmp/patterns.txt name=s \
      ! vyresink print-summary=true progress=false 2>&1 | grep -E "summary|ERROR|rror" | head -3
  done
fi
if [ "$what" = ingest ] || [ "$what" = all ]; then
  echo "== ingest: 4 GiB page-cached file (GB/s = bytes / gst-launch execution time)"
  [ -s /tmp/big.bin ] || head -c 4G /dev/urandom > /tmp/big.bin
  cat /tmp/big.bin > /dev/null
  run_ingest() {  # label pipeline...
    local label=$1; shift
    local t
    t=$(timeout 300 gst-launch-1.0 "$@" 2>&1 | grep -o "Execution ended after [0-9:.]*" | grep -o "[0-9:.]*$")
    python3 -c "
import sys
h, m, s = '$t'.split(':'); secs = int(h) * 3600 + int(m) * 60 + float(s)
print('%-60s %6.2f GB/s (%.3f s)' % ('$label', (4 << 30) / secs / 1e9, secs))"
  }
  for i in 1 2; do
    run_ingest "filesrc blocksize=1MiB ! fakesink" filesrc location=/tmp/big.bin blocksize=1048576 ! fakesink
    run_ingest "vyreurisrc ! fakesink" vyreurisrc location=/tmp/big.bin ! fakesink
    run_ingest "vyreurisrc ! vyrescan ops=crc32 ! fakesink (file -> GPU memory)" \
      vyreurisrc location=/tmp/big.bin ! vyrescan ops=crc32 ! fakesink
    run_ingest "filesrc ! vyrescan ops=crc32 ! fakesink" \
      filesrc location=/tmp/big.bin blocksize=1048576 ! vyrescan ops=crc32 ! fakesink
  done
fi
if [ "$what" = bench ] || [ "$what" = all ]; then
  echo "== bench_dispatch"
  timeout 300 .gpu/bin/bench_dispatch --jobs 10000 2>&1 | grep -vE "GStreamer-WARNING|^$"
fi
