#!/usr/bin/env bash
# prepare.sh - on the development machine: gather what the GPU machine needs
# into .gpu/ (git-ignored via .git/info/exclude): Debian runtime packages
# (../shared/gpu/fetch-debs.sh, plus libglvnd: NVIDIA's Vulkan ICD
# libGLX_nvidia.so.0 needs libGLdispatch, which that image lacks), the built
# plugin, test and benchmark programs, and tests/gpu/run.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${1:-build}
mkdir -p .git/info .gpu/bin .gpu/plugin
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
if [ ! -d .gpu/debs ]; then
  bash ../shared/gpu/fetch-debs.sh .gpu/debs
  (cd .gpu/debs && apt-get download libglvnd0 libglx0 libgl1 libegl1 libopengl0 \
     libx11-6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libxext6 2>/dev/null)
fi
cp ../shared/gpu/env.sh .gpu/env.sh
cp "$BUILD"/gst/libgstvyre.so .gpu/plugin/
for t in tests/elements/test_megakernel tests/elements/test_vyrescan tests/elements/test_vyresink tests/bench/bench_dispatch tests/bench/bench_resident tests/bench/bench_hyperscan tests/bench/bench_read_results; do
  [ -x "$BUILD/$t" ] && cp "$BUILD/$t" .gpu/bin/
done
cp tests/gpu/run.sh .gpu/run.sh
# perf for tests/gpu/profile-tree.sh (VYRE_GPU_PERF=1; about 30 MB): this
# machine's perf and the libraries it needs beyond glibc and libstdc++,
# which the GPU machine has in newer versions (carrying Debian's breaks it).
if [ -n "${VYRE_GPU_PERF:-}" ] && command -v perf >/dev/null; then
  mkdir -p .gpu/perf/lib
  cp "$(command -v perf)" .gpu/perf/perf
  ldd "$(command -v perf)" | awk '$3 ~ /^\// {print $3}' |
    grep -vE '/(libc|libm|libstdc\+\+|libgcc_s)\.so' |
    xargs -r -I{} cp -L {} .gpu/perf/lib/
fi
du -sh .gpu
