#!/usr/bin/env python3
"""perf-callers.py - who calls what: reads `perf script` output (samples
with call chains) on stdin and, for the samples of one thread whose chain
holds a frame matching PATTERN, counts the first DEPTH named frames above
the matching one (frames of the kernel and of libc, and addresses without
a symbol, are left out: what remains is the program's own code and its
libraries'), most common first.  For the time a thread spends in futex calls or locks, whose own
symbols say nothing of who waits.

  perf script -i F --tid T | perf-callers.py PATTERN [DEPTH] [TOP]
"""
import collections
import re
import sys


def samples(lines):
    """Yields each sample's frames (symbol names, innermost first)."""
    frames = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                yield frames
            frames = []
            continue
        if line[0] in " \t":
            parts = line.split()
            if len(parts) >= 2:
                sym = parts[1].split("+0x")[0]
                frames.append((sym, parts[-1]))
    if frames:
        yield frames


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pat = re.compile(sys.argv[1])
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    total = hits = 0
    chains = collections.Counter()
    for frames in samples(sys.stdin):
        total += 1
        at = next((i for i, (f, _) in enumerate(frames) if pat.search(f)),
                  None)
        if at is None:
            continue
        hits += 1
        named = [f for f, dso in frames[at + 1:]
                 if f != "[unknown]" and not f.startswith("0x")
                 and "kernel" not in dso and "/libc.so" not in dso]
        chains[" <- ".join(named[:depth]) or "(no named caller)"] += 1
    print("%d of %d samples have a frame matching %r" %
          (hits, total, sys.argv[1]))
    for chain, n in chains.most_common(top):
        print("%6d  %s" % (n, chain))


if __name__ == "__main__":
    main()
