#!/usr/bin/env python3
"""soak.py - many vyreurisrc ! vyrescan ! vyresink pipelines in one process:
every result exact, memory and file descriptors flat.

    soak.py [--pipelines N] [--concurrent K] [--seconds T] [--dir DIR]

Phase 1 runs N pipelines one after another; phase 2 keeps K pipelines
running at once (each in its own thread, a new one started as soon as one
ends) for T seconds and at least MIN_PIPELINES pipelines.  In both, every pipeline that runs to EOS must report
exactly the bytes, CRC-32, total and per-pattern match counts that this
script computes for the generated input (Python's zlib and str.find, not
the plugin), and every tenth of phase 1 is set to NULL while it streams,
after its first buffer reached vyresink and before EOS (stopping must
not hang, leak, touch the previous pipeline's report or break the next
pipeline).  After each
pipeline the process's resident memory (VmRSS) and open file descriptors
are sampled.  The first half of each phase is warm-up (on lavapipe the
process grows by about 10 MiB over its first 25 pipelines, malloc arenas
and the driver's caches, then stays flat: measured); over the second
half, the median resident memory of its last tenth must not exceed that
of its first tenth by more than the allowance below, and the fewest open
file descriptors of its last tenth must not exceed the fewest of its
first tenth at all.  Fewest, not median: in phase 2 a sample is taken
while the other pipelines are at any point of their run, holding their
input file, io_uring and report descriptors or not; a descriptor leaked
per pipeline raises the floor by one per pipeline, while descriptors held
by a pipeline still running only move the samples above it.

Every wait has a timeout (PIPELINE_TIMEOUT_S): a pipeline that neither
ends nor fails in time fails the soak, naming it.  Exit status 0 when
everything held, 1 with the reasons otherwise, 77 (skipped, for meson)
when GStreamer's Python bindings or a Vulkan device are missing.

CI runs a small version as the meson test soak (suite soak,
tests/soak/meson.build); the long one is the same script
(docs/reliability.md):
    GST_PLUGIN_PATH_1_0=build/gst tests/soak/soak.py \
        --pipelines 10000 --concurrent 8 --seconds 600
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import zlib

try:
    import gi

    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
except (ImportError, ValueError) as e:
    print(f"soak: SKIP: cannot load GStreamer's Python bindings with "
          f"{sys.executable} ({e}). Fix: apt-get install python3-gi "
          f"gir1.2-gstreamer-1.0.", file=sys.stderr)
    sys.exit(77)

# A pipeline that takes longer than this (start, scan a few hundred KiB,
# stop) is hung: lavapipe needs about a second even on a loaded machine.
PIPELINE_TIMEOUT_S = 60
# Pipelines each phase needs at least: the first half is warm-up, then
# the first and last tenth of the rest are compared.
MIN_PIPELINES = 20
# Resident memory may grow this much over the second half of a phase (a
# leak of 20 KiB per pipeline exceeds it over 1,000 pipelines; the
# CI-sized run catches only leaks of about 450 KiB or more per pipeline,
# the long run those of 2-3 KiB).
RSS_ALLOWANCE_BYTES = 8 << 20
RSS_ALLOWANCE_FRACTION = 0.10

# The literals, and how many times each is planted in the input.  Some
# overlap ("aaa" in "aaaa", "needle" in "needles") so that overlapping
# matches are counted too; the reference counts every occurrence.
PATTERNS = ["password=", "AKIAIOSFODNN7EXAMPLE", "needle", "needles", "aaa",
            "\x00\xffEOF"]


def make_input(path, size):
    """A deterministic file of about size bytes with the literals planted,
    and the reference: bytes, CRC-32, {literal: occurrences}."""
    words = [b"the", b"quick", b"brown", b"fox", b"jumps", b"over", b"lazy",
             b"dog", b"error", b"user", b"login", b"aaaa", b"needles",
             b"password=hunter2", b"AKIAIOSFODNN7EXAMPLE", b"\x00\xffEOF"]
    out = bytearray()
    x = 2026
    while len(out) < size:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += words[x % len(words)] + (b"\n" if x % 7 == 0 else b" ")
    data = bytes(out)
    with open(path, "wb") as f:
        f.write(data)
    counts = {}
    for p in PATTERNS:
        lit = p.encode("latin-1")
        n, i = 0, data.find(lit)
        while i >= 0:
            n += 1
            i = data.find(lit, i + 1)
        counts[p] = n
    return {"bytes": len(data), "crc32": f"{zlib.crc32(data) & 0xFFFFFFFF:08x}",
            "matches": sum(counts.values()), "counts": counts}


def patterns_file(path):
    # The patterns-file syntax: \xHH for the bytes that are not text.
    with open(path, "w") as f:
        for p in PATTERNS:
            f.write("".join(c if 0x20 <= ord(c) < 0x7F and c != "\\"
                            else f"\\x{ord(c):02X}" for c in p) + "\n")


def escaped(p):
    """A literal as the report's pattern_counts keys write it."""
    return "".join(c if 0x20 <= ord(c) < 0x7F and c != "\\"
                   else f"\\x{ord(c):02X}" for c in p)


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class Soak:
    def __init__(self, args, workdir):
        self.workdir = workdir
        self.input = os.path.join(workdir, "input.bin")
        self.patterns = os.path.join(workdir, "patterns.txt")
        self.reference = make_input(self.input, args.input_bytes)
        patterns_file(self.patterns)
        self.errors = []
        self.lock = threading.Lock()
        self.samples = []           # (rss, fds) after each pipeline
        self.completed = 0
        self.stopped = 0            # set to NULL between a buffer and EOS
        self.ended_before_stop = 0  # reached EOS before the stop
        self.max_stop_s = 0.0       # the longest set_state(NULL)

    def fail(self, what):
        with self.lock:
            self.errors.append(what)
        print(f"soak: FAIL: {what}", file=sys.stderr, flush=True)

    def sample(self):
        with self.lock:
            self.samples.append((rss_bytes(), open_fds()))

    def run_one(self, name, report, stop_early):
        """One pipeline: to EOS (result checked), or to NULL while it
        streams when stop_early."""
        # 64 KiB buffers: matches across buffer boundaries are counted
        # too.  A pipeline to be stopped reads 4 KiB at a time, so that
        # after its first buffer reached vyresink most of the file is
        # still to come.
        blocksize = 4096 if stop_early else 65536
        pipeline = Gst.parse_launch(
            f"vyreurisrc location=\"{self.input}\" blocksize={blocksize} ! "
            f"vyrescan patterns-file=\"{self.patterns}\" ! "
            f"vyresink name=sink print-summary=false message-interval=0 "
            f"report-location=\"{report}\"")
        bus = pipeline.get_bus()
        try:
            if pipeline.set_state(Gst.State.PLAYING) == \
                    Gst.StateChangeReturn.FAILURE:
                msg = bus.pop_filtered(Gst.MessageType.ERROR)
                detail = msg.parse_error()[0].message if msg else "no message"
                self.fail(f"{name}: could not start: {detail}")
                return
            if stop_early:
                self.stop_while_streaming(name, pipeline, bus, report)
                return
            msg = bus.timed_pop_filtered(
                PIPELINE_TIMEOUT_S * Gst.SECOND,
                Gst.MessageType.EOS | Gst.MessageType.ERROR)
            if msg is None:
                self.fail(f"{name}: neither EOS nor an error within "
                          f"{PIPELINE_TIMEOUT_S} s (hung)")
                return
            if msg.type == Gst.MessageType.ERROR:
                err, dbg = msg.parse_error()
                self.fail(f"{name}: error: {err.message} ({dbg})")
                return
            self.check_result(name, pipeline.get_by_name("sink"), report)
        finally:
            self.stop(name, pipeline)
            self.sample()

    def stop(self, name, pipeline):
        """set_state(NULL), timed (it waits for the streaming threads)."""
        t = time.monotonic()
        pipeline.set_state(Gst.State.NULL)
        took = time.monotonic() - t
        with self.lock:
            self.max_stop_s = max(self.max_stop_s, took)
        if took > PIPELINE_TIMEOUT_S:
            self.fail(f"{name}: stopping took {took:.1f} s")

    def stop_while_streaming(self, name, pipeline, bus, report):
        """Wait for the first buffer to reach vyresink (message-interval=0:
        a vyre-progress message per buffer), then set the pipeline to NULL.
        The report of the previous pipeline must survive the stop
        unchanged (reports are replaced only at EOS)."""
        try:
            with open(report, "rb") as f:
                earlier = f.read()
        except FileNotFoundError:
            earlier = None
        deadline = time.monotonic() + PIPELINE_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            msg = bus.timed_pop_filtered(
                max(0, int(left * Gst.SECOND)),
                Gst.MessageType.ELEMENT | Gst.MessageType.EOS |
                Gst.MessageType.ERROR)
            if msg is None:
                self.fail(f"{name}: no buffer reached vyresink within "
                          f"{PIPELINE_TIMEOUT_S} s (hung)")
                return
            if msg.type == Gst.MessageType.ERROR:
                err, dbg = msg.parse_error()
                self.fail(f"{name}: error: {err.message} ({dbg})")
                return
            if msg.type == Gst.MessageType.EOS:
                # The whole file went through before the stop: not a stop
                # while streaming, but not wrong either; counted apart.
                with self.lock:
                    self.ended_before_stop += 1
                return
            st = msg.get_structure()
            if st is not None and st.get_name() == "vyre-progress":
                break
        self.stop(name, pipeline)
        try:
            with open(report, "rb") as f:
                now = f.read()
        except FileNotFoundError:
            now = None
        if now != earlier:
            self.fail(f"{name}: stopping before EOS changed {report} "
                      f"({'removed' if now is None else f'{len(now)} bytes'}"
                      f", was {'absent' if earlier is None else f'{len(earlier)} bytes'})")
            return
        with self.lock:
            self.stopped += 1

    def check_result(self, name, sink, report):
        ref = self.reference
        summary = sink.get_property("summary")
        got = {k: summary.get_value(k) for k in ("bytes", "crc32", "matches",
                                                 "dropped_matches")}
        want = {"bytes": ref["bytes"], "crc32": ref["crc32"],
                "matches": ref["matches"], "dropped_matches": 0}
        if got != want:
            self.fail(f"{name}: summary {got}, expected {want}")
            return
        try:
            with open(report) as f:
                counts = json.load(f)["pattern_counts"]
        except (OSError, ValueError, KeyError) as e:
            self.fail(f"{name}: report {report} unreadable: {e}")
            return
        want_counts = {escaped(p): n for p, n in ref["counts"].items()}
        if counts != want_counts:
            self.fail(f"{name}: pattern_counts {counts}, expected "
                      f"{want_counts}")
            return
        with self.lock:
            self.completed += 1

    def check_flat(self, phase, samples):
        if len(samples) < MIN_PIPELINES:
            self.fail(f"{phase}: only {len(samples)} pipelines ran; at least "
                      f"{MIN_PIPELINES} are needed (half warm-up, then the first and last "
                      f"tenth of the rest compared). Fix: more --pipelines "
                      f"or --seconds.")
            return
        samples = samples[len(samples) // 2:]
        tenth = max(1, len(samples) // 10)
        first, last = samples[:tenth], samples[-tenth:]
        rss0 = statistics.median(s[0] for s in first)
        rss1 = statistics.median(s[0] for s in last)
        fd0 = min(s[1] for s in first)
        fd1 = min(s[1] for s in last)
        allowed = max(RSS_ALLOWANCE_BYTES, rss0 * RSS_ALLOWANCE_FRACTION)
        print(f"soak: {phase}: second half, {len(samples)} pipelines; RSS median "
              f"{rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB (allowed +"
              f"{allowed / 2**20:.1f}), fewest open fds {fd0} -> {fd1}",
              flush=True)
        if rss1 - rss0 > allowed:
            self.fail(f"{phase}: resident memory grew {(rss1 - rss0) / 2**20:.1f}"
                      f" MiB from the first tenth of the second half of "
                      f"the pipelines to the last (allowed {allowed / 2**20:.1f}): a leak per "
                      f"pipeline. Fix: run the element tests with "
                      f"GST_TRACERS=leaks or valgrind to find it.")
        if fd1 > fd0:
            self.fail(f"{phase}: the fewest open file descriptors grew from "
                      f"{fd0} to {fd1}: a descriptor leaked per pipeline. Fix: look "
                      f"at ls -l /proc/PID/fd of a long soak for what they "
                      f"are.")

    def sequential(self, n):
        start = len(self.samples)
        for i in range(n):
            self.run_one(f"pipeline {i + 1}/{n}",
                         os.path.join(self.workdir, "report-seq.json"),
                         stop_early=(i % 10 == 9))
            if self.errors:
                return
        self.check_flat("sequential", self.samples[start:])

    def concurrent(self, k, seconds):
        """K workers start pipelines for T seconds, and until at least
        MIN_PIPELINES ran (enough samples to compare, even on a loaded
        machine)."""
        start = len(self.samples)
        deadline = time.monotonic() + seconds
        started = [0]

        def take_one():
            with self.lock:
                if self.errors or (time.monotonic() >= deadline and
                                   started[0] >= MIN_PIPELINES):
                    return 0
                started[0] += 1
                return started[0]

        def worker(w):
            while (n := take_one()):
                self.run_one(f"worker {w} pipeline {n} (of all workers)",
                             os.path.join(self.workdir, f"report-{w}.json"),
                             stop_early=False)

        threads = [threading.Thread(target=worker, args=(w,), daemon=True)
                   for w in range(k)]
        for t in threads:
            t.start()
        # Each worker runs at most its share of MIN_PIPELINES after the
        # deadline, plus the one it started before it: each within
        # PIPELINE_TIMEOUT_S or it fails.
        limit = time.monotonic() + seconds + \
            (MIN_PIPELINES // k + 2) * PIPELINE_TIMEOUT_S
        for t in threads:
            t.join(max(0, limit - time.monotonic()))
            if t.is_alive():
                self.fail(f"concurrent: a worker is still running "
                          f"{limit - deadline:.0f} s after the deadline "
                          f"(hung)")
                return
        self.check_flat(f"concurrent x{k}", self.samples[start:])


def vulkan_available():
    """vyrescan's own check, through a pipeline that only reaches PAUSED."""
    p = Gst.parse_launch("fakesrc num-buffers=0 ! vyrescan patterns=x ! "
                         "fakesink")
    ok = p.set_state(Gst.State.PAUSED) != Gst.StateChangeReturn.FAILURE
    if ok:
        ok = p.get_state(PIPELINE_TIMEOUT_S * Gst.SECOND)[0] != \
            Gst.StateChangeReturn.FAILURE
    p.set_state(Gst.State.NULL)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pipelines", type=int, default=200,
                    help="pipelines run one after another (default 200; "
                         f"at least {MIN_PIPELINES}, or 0 to skip phase 1)")
    ap.add_argument("--concurrent", type=int, default=4,
                    help="pipelines running at once in phase 2 (default 4)")
    ap.add_argument("--seconds", type=float, default=20,
                    help="how long phase 2 runs (default 20; 0 skips it); "
                         f"it runs at least {MIN_PIPELINES} pipelines")
    ap.add_argument("--input-bytes", type=int, default=256 << 10,
                    help="size of the generated input (default 256 KiB)")
    ap.add_argument("--dir", default=None,
                    help="where the input and reports go (default: a new "
                         "directory under TMPDIR, removed afterwards)")
    args = ap.parse_args()
    Gst.init(None)
    if Gst.ElementFactory.find("vyreurisrc") is None or \
            Gst.ElementFactory.find("vyrescan") is None:
        print("soak: FAIL: the vyre plugin was not found. Fix: set "
              "GST_PLUGIN_PATH_1_0 to the build's gst/ directory.",
              file=sys.stderr)
        return 1
    if not vulkan_available():
        print("soak: SKIP: vyrescan could not start (no Vulkan device?). "
              "Fix: apt-get install mesa-vulkan-drivers (lavapipe).",
              file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory(prefix="vyre-soak-",
                                     dir=args.dir) as workdir:
        soak = Soak(args, workdir)
        t0 = time.monotonic()
        if args.pipelines > 0:
            soak.sequential(args.pipelines)
        t1 = time.monotonic()
        if args.seconds > 0 and args.concurrent > 0 and not soak.errors:
            soak.concurrent(args.concurrent, args.seconds)
        t2 = time.monotonic()
    print(f"soak: {soak.completed} pipelines exact, {soak.stopped} stopped "
          f"while streaming ({soak.ended_before_stop} reached EOS before "
          f"the stop); longest set_state(NULL) {soak.max_stop_s:.3f} s; "
          f"sequential {t1 - t0:.1f} s, concurrent "
          f"{t2 - t1:.1f} s; reference {soak.reference['matches']} matches "
          f"in {soak.reference['bytes']} bytes", flush=True)
    if soak.errors:
        print(f"soak: FAILED ({len(soak.errors)} problems; the first: "
              f"{soak.errors[0]})", file=sys.stderr)
        return 1
    print("soak: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
