#!/usr/bin/env python3
"""bench_corpus.py - patterns and the match-dense corpus for tests/bench/run.

  bench_corpus.py patterns WORDS OUTDIR K [K...]
      OUTDIR/patterns-K.txt: K distinct random lowercase words (3+ letters)
      of WORDS, one per line (each smaller set is the start of the larger
      one); OUTDIR/patterns-K.overlap: "overlap-free" when no match of the
      set can overlap another (no pattern contains another, no proper suffix
      of one is a prefix of one), else "overlapping: A / B" with an example.
      grep -o and ripgrep report non-overlapping matches only, so their
      counts equal the all-matches count only for an overlap-free set.
  bench_corpus.py dense WORDS OUT SIZE
      SIZE bytes of English-word text: random words of WORDS (as spelled
      there, capitals included), 12 to a line.

WORDS is a word list such as /usr/share/dict/words (only words of ASCII
letters are used), or "-" for generated words (random lowercase strings of
3 to 12 letters) where there is none.  Everything is seeded: the same WORDS
gives the same files on every machine.
"""
import random
import re
import sys

SEED = 2026


def load_words(path):
    if path == "-":
        rng = random.Random(SEED + 1)
        words = set()
        while len(words) < 60000:
            n = rng.randint(3, 12)
            words.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                              for _ in range(n)))
        return sorted(words)
    with open(path, encoding="utf-8", errors="replace") as f:
        words = [w.strip() for w in f]
    return [w for w in words if re.fullmatch(r"[A-Za-z]+", w)]


def overlap_example(pats):
    """None when no two matches of pats (a pattern with itself included) can
    overlap in any text; else a pair showing how they can."""
    pset = set(pats)
    prefixes = {}
    for p in pats:
        for i in range(1, len(p) + 1):
            prefixes.setdefault(p[:i], p)
    seen = set()
    for p in pats:
        if p in seen:
            return (p, p)  # a duplicate matches twice at the same place
        seen.add(p)
        # a proper suffix of p that starts another pattern (or p itself)
        for i in range(1, len(p)):
            if p[i:] in prefixes:
                return (p, prefixes[p[i:]])
        # another pattern inside p
        for i in range(len(p)):
            for j in range(i + 1, len(p) + 1):
                if (i, j) != (0, len(p)) and p[i:j] in pset:
                    return (p, p[i:j])
    return None


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "patterns":
        words = load_words(sys.argv[2])
        outdir = sys.argv[3]
        counts = [int(k) for k in sys.argv[4:]]
        pool = sorted({w for w in words if re.fullmatch(r"[a-z]{3,}", w)})
        if len(pool) < max(counts):
            sys.exit("bench_corpus: %s has only %d usable words, %d needed"
                     % (sys.argv[2], len(pool), max(counts)))
        sample = random.Random(SEED).sample(pool, max(counts))
        for k in counts:
            pats = sample[:k]
            with open("%s/patterns-%d.txt" % (outdir, k), "w") as f:
                f.write("\n".join(pats) + "\n")
            ex = overlap_example(pats)
            with open("%s/patterns-%d.overlap" % (outdir, k), "w") as f:
                f.write("overlap-free\n" if ex is None
                        else "overlapping: %s / %s\n" % ex)
    elif len(sys.argv) == 5 and sys.argv[1] == "dense":
        words = load_words(sys.argv[2])
        out, size = sys.argv[3], int(sys.argv[4])
        rng = random.Random(SEED + 2)
        written = 0
        with open(out, "w") as f:
            while written < size:
                ws = rng.choices(words, k=120000)
                text = "\n".join(" ".join(ws[i:i + 12])
                                 for i in range(0, len(ws), 12)) + "\n"
                text = text[:size - written]
                f.write(text)
                written += len(text)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
