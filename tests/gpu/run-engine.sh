#!/usr/bin/env bash
# run-engine.sh - on the GPU machine (device tool, carry [".gpu"], after
# tests/gpu/prepare.sh and a copy of test_engine and bench_engine into
# .gpu/bin): the shared engine's tests and figures.  Logs into $OUT.
# VYRE_GPU_QUICK=1 leaves out test_megakernel and test_vyrescan; VYRE_BIG
# sets bench_engine's big file size (default 1 GiB).
set -uo pipefail
source .gpu/env.sh
export GST_PLUGIN_PATH_1_0=$PWD/.gpu/plugin
OUT=${OUT:-/tmp}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
if [ -z "${VYRE_GPU_QUICK:-}" ]; then
  echo "== test_megakernel"
  VYRE_TEST_SEED=1 timeout 120 .gpu/bin/test_megakernel 2>&1 | grep -E "passed|FAILED|CHECK|^persistent|^relaunching|^overflow|failed:"
fi
echo "== test_engine"
CK_DEFAULT_TIMEOUT=300 timeout 300 .gpu/bin/test_engine 2>&1 | tail -4
if [ -z "${VYRE_GPU_QUICK:-}" ]; then
  echo "== test_vyrescan"
  CK_DEFAULT_TIMEOUT=300 timeout 300 .gpu/bin/test_vyrescan 2>&1 | grep -vE "GStreamer-WARNING|^$" | tail -6
fi
echo "== fresh gst-launch-1.0 on a 1 KiB file, whole process (5 runs)"
head -c 1024 /dev/urandom | base64 | head -c 1024 > /tmp/one-kib.txt
TIMEFORMAT="%R s"
for i in 1 2 3 4 5; do
  time timeout 60 gst-launch-1.0 -q filesrc location=/tmp/one-kib.txt ! \
    vyrescan patterns="<secret,password>" ! vyresink print-summary=false
done
echo "== where a fresh process spends its time (GST_DEBUG timestamps)"
GST_DEBUG=vyre*:4 GST_DEBUG_NO_COLOR=1 timeout 60 gst-launch-1.0 -q filesrc \
  location=/tmp/one-kib.txt ! vyrescan patterns="<secret,password>" ! \
  vyresink print-summary=false 2>&1 | grep -E "INFO" | cut -c1-200
echo "== bench_engine"
timeout ${VYRE_BENCH_ENGINE_TIMEOUT:-400} .gpu/bin/bench_engine --small-files 1000 --big ${VYRE_BIG:-1073741824} --concurrent 8 2>"$OUT/bench_engine.err"
echo "bench_engine exit $?"; tail -5 "$OUT/bench_engine.err"
