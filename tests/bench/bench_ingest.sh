#!/usr/bin/env bash
# bench_ingest.sh - how fast file bytes come in: vyreurisrc vs filesrc vs
# fio's io_uring engine, on the same page-cached file, in one run.
#
#   bash tests/bench/bench_ingest.sh [--quick] [--size BYTES] [--runs N]
#                                    [--file PATH] [--build DIR]
#
# Default: a 1 GiB file of random bytes (--quick: 256 MiB) in $TMPDIR (or
# /tmp), read once to put it in the page cache, then every configuration
# --runs times (default 7; --quick 3).  The table gives GB/s (10^9 bytes/s)
# of the best run and the median, and the ratio of the best to filesrc's.
# GStreamer figures are gst-launch-1.0's "Execution ended after" (PLAYING to
# EOS, no process start-up); fio's are its own read bandwidth (bw_bytes).
# Block size 1 MiB everywhere; vyreurisrc and fio keep 8 reads in flight.
# fio is optional (apt-get install fio); without it its rows say so.
set -Eeuo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIZE=$((1024 * 1024 * 1024))
RUNS=7
FILE=""
BUILD="$REPO_ROOT/build"
BS=1048576
DEPTH=8

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) SIZE=$((256 * 1024 * 1024)); RUNS=3 ;;
    --size) SIZE="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --file) FILE="$2"; shift ;;
    --build) BUILD="$(cd "$2" && pwd)"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench_ingest: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# VYRE_PLUGIN_DIR: the folder holding libgstvyre.so when it is not
# BUILD/gst (a build carried to another machine).
PLUGIN_DIR="${VYRE_PLUGIN_DIR:-$BUILD/gst}"
if [ ! -e "$PLUGIN_DIR/libgstvyre.so" ]; then
  echo "bench_ingest: $PLUGIN_DIR/libgstvyre.so not found. Fix: build first" \
    "(meson setup build && ninja -C build) or pass --build DIR." >&2
  exit 1
fi
command -v gst-launch-1.0 >/dev/null || {
  echo "bench_ingest: gst-launch-1.0 not found. Fix: apt-get install gstreamer1.0-tools" >&2
  exit 1
}

# Only this plugin and the system's core plugins (from pkg-config).  Where
# there is no pkg-config (a machine with a carried GStreamer runtime), the
# caller's GST_PLUGIN_SYSTEM_PATH_1_0 is kept.
GST_PLUGINS_DIR="$(pkg-config --variable=pluginsdir gstreamer-1.0 2>/dev/null || true)"
if [ -n "$GST_PLUGINS_DIR" ]; then
  export GST_PLUGIN_SYSTEM_PATH_1_0=""
  export GST_PLUGIN_PATH_1_0="$PLUGIN_DIR:$GST_PLUGINS_DIR"
else
  export GST_PLUGIN_PATH_1_0="$PLUGIN_DIR"
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-ingest-XXXXXX")"
export GST_REGISTRY_1_0="$TMP/registry.bin"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

if [ -z "$FILE" ]; then
  FILE="$TMP/ingest.bin"
  echo "generating $SIZE random bytes in $FILE ..." >&2
  head -c "$SIZE" /dev/urandom > "$FILE"
else
  SIZE=$(stat -L -c %s "$FILE")
fi
# Into the page cache (twice: the first pass may still be writing back).
cat "$FILE" > /dev/null
cat "$FILE" > /dev/null

# Seconds from gst-launch's "Execution ended after H:MM:SS.nnnnnnnnn".
gst_seconds() {
  local out t
  out="$(gst-launch-1.0 "$@" 2>&1)" || { echo "FAILED: $out" >&2; echo "nan"; return; }
  t="$(printf '%s\n' "$out" | sed -n 's/.*Execution ended after \([0-9:.]*\).*/\1/p' | tail -1)"
  if [ -z "$t" ]; then echo "nan"; return; fi
  awk -v t="$t" 'BEGIN { n = split(t, p, ":"); print p[1] * 3600 + p[2] * 60 + p[3] }'
}

# fio_seconds ENGINE [fio options...]
fio_seconds() {
  local engine="$1" out
  shift
  out="$(fio --name=ingest --filename="$FILE" --rw=read --bs="$BS" \
      --ioengine="$engine" --direct=0 --size="$SIZE" --numjobs=1 \
      --invalidate=0 --output-format=json "$@" 2>/dev/null)" || { echo "nan"; return; }
  # Notes fio prints before the JSON are skipped.
  printf '%s' "$out" | python3 -c '
import json, sys
t = sys.stdin.read()
j = json.loads(t[t.index("{"):])["jobs"][0]["read"]
bw = j["bw_bytes"]
print(j["io_bytes"] / bw if bw else "nan")' 2>/dev/null || echo "nan"
}

# name | command kind | args...
declare -a NAMES KINDS CMDS
add() { NAMES+=("$1"); KINDS+=("$2"); CMDS+=("$3"); }
add "vyreurisrc ! fakesink (auto: READ_FIXED, own arena)" gst \
  "vyreurisrc location=$FILE blocksize=$BS queue-depth=$DEPTH ! fakesink"
add "vyreurisrc io-mode=read ! fakesink (plain io_uring READ)" gst \
  "vyreurisrc location=$FILE blocksize=$BS queue-depth=$DEPTH io-mode=read ! fakesink"
add "vyreurisrc io-mode=pread ! fakesink (no io_uring)" gst \
  "vyreurisrc location=$FILE blocksize=$BS io-mode=pread ! fakesink"
add "filesrc blocksize=$BS ! fakesink" gst \
  "filesrc location=$FILE blocksize=$BS ! fakesink"
# fio's default buffers (--mem=malloc) read about half as fast here as
# mmap'd ones (page-cache copies into small pages): both are shown.
add "fio --ioengine=io_uring --iodepth=$DEPTH --bs=1M (buffered, --mem=malloc)" fio \
  "io_uring --iodepth=$DEPTH"
add "fio --ioengine=io_uring --iodepth=$DEPTH --bs=1M --mem=mmap (buffered)" fio \
  "io_uring --iodepth=$DEPTH --mem=mmap"
add "fio --ioengine=io_uring --iodepth=$DEPTH --bs=1M --mem=mmap --fixedbufs" fio \
  "io_uring --iodepth=$DEPTH --mem=mmap --fixedbufs"
add "fio --ioengine=psync --bs=1M --mem=mmap (buffered)" fio "psync --mem=mmap"

declare -a BEST MEDIAN
for i in "${!NAMES[@]}"; do
  times=()
  for ((r = 0; r < RUNS; r++)); do
    if [ "${KINDS[$i]}" = gst ]; then
      # shellcheck disable=SC2086
      t="$(gst_seconds ${CMDS[$i]})"
    elif command -v fio >/dev/null; then
      # shellcheck disable=SC2086
      t="$(fio_seconds ${CMDS[$i]})"
    else
      t="nan"
    fi
    times+=("$t")
  done
  read -r best med < <(printf '%s\n' "${times[@]}" |
    awk -v size="$SIZE" '$1 != "nan" && $1 > 0 { printf "%.6f\n", size / $1 / 1e9 }' |
    sort -g | awk '{ r[++n] = $1 }
      END {
        if (n == 0) { print "nan nan"; exit }
        printf "%.2f %.2f\n", r[n], (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
      }')
  BEST[$i]="$best"
  MEDIAN[$i]="$med"
  echo "  ${NAMES[$i]}: runs ${times[*]} s" >&2
done

FILESRC_BEST="${BEST[3]}"
CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo
echo "ingest of a page-cached $((SIZE / 1024 / 1024)) MiB file, best of $RUNS runs, $(date -u +%Y-%m-%d)"
echo "machine: $(nproc) x ${CPU:-unknown CPU}, Linux $(uname -r), GStreamer $(gst-launch-1.0 --version | sed -n 's/.*GStreamer \([0-9.]*\).*/\1/p' | head -1)$(command -v fio >/dev/null && echo ", $(fio --version)")"
echo
echo "| reader | GB/s best | GB/s median | best vs filesrc |"
echo "|---|---|---|---|"
for i in "${!NAMES[@]}"; do
  if [ "${KINDS[$i]}" = fio ] && ! command -v fio >/dev/null; then
    echo "| ${NAMES[$i]} | not run: fio not installed (apt-get install fio) | | |"
    continue
  fi
  ratio="$(awk -v a="${BEST[$i]}" -v b="$FILESRC_BEST" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.2fx", a / b }')"
  echo "| ${NAMES[$i]} | ${BEST[$i]} | ${MEDIAN[$i]} | $ratio |"
done
