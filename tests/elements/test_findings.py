#!/usr/bin/python3
"""test_findings.py - findings by file, line and column, as an application
sees them: `vyreurisrc location=TREE ! vyrescan ! vyresink` with a matches
file (JSON Lines), a SARIF log and a JSON report, every finding compared
with a reference computed here byte by byte.

The tree holds text with "\\r\\n" lines, multi-byte UTF-8 before matches,
empty and 1-byte files, files of 4,095 / 4,097 bytes, a file of several
blocks whose matches straddle the source's 1 MiB blocks (buffer and job
edges), and two files whose concatenation would match across the
boundary (it must not).  The small files are scanned several to a GPU job
(vyrescan's files-packed counts them): the findings, the per-file counts
and the stream's CRC-32 and byte counts must be those of the files one by
one.  fail-on-match=true ends the run with an error
after EOS that names the count; false does not.

Needs GST_PLUGIN_PATH_1_0 naming the build's gst/ folder (meson sets it).
Exit 0 on success, 1 on a mismatch, 77 without a Vulkan device.
"""
import json
import os
import sys
import tempfile
import zlib

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

PATTERNS = [b"secret", b"password", b"AKIA", b"ss"]


def make_tree(root):
    """Files (relative path -> bytes) written under root."""
    files = {}
    files["a.txt"] = (b"line one\n\xc3\xa9\xc3\xa9 secret\r\n"
                      b"password=secret\r\n\n\xf0\x9f\x94\x91AKIA key\n")
    files["empty.txt"] = b""
    files["one.txt"] = b"s"
    files["edge/4095.txt"] = (b"x" * 4089 + b"secret")[:4095]
    files["edge/4097.txt"] = b"y" * 4091 + b"secret"
    # Two files whose concatenation ("...pass" + "word...") would match.
    files["split/1.txt"] = b"the end: pass"
    files["split/2.txt"] = b"word at the start\n"
    # Several 1 MiB blocks; matches right at the block edges.
    big = bytearray(b"filler text, no match here; " * 120000)
    for edge in (1 << 20, 2 << 20, 3 << 20):
        for at in (edge - 6, edge - 3, edge - 1):
            big[at:at + 6] = b"secret"
        big[edge - 40] = 0x0A
    for i in range(0, len(big), 997):
        big[i] = 0x0A
    files["big.txt"] = bytes(big)
    # One match at the end, after 1.1 MiB of short lines and a 1.2 MiB line
    # that crosses a block edge: its line comes from the scan's newline
    # counts, its column from looking back across the edge.
    files["late.txt"] = (b"short line\n" * 105000 + b"z" * 1250000
                         + b" secret\n")
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return files


def reference(files, root):
    """Every (file, offset, pattern index) with line and columns."""
    out = []
    for rel, data in sorted(files.items()):
        path = os.path.join(root, rel)
        for pid, pat in enumerate(PATTERNS):
            start = 0
            while True:
                at = data.find(pat, start)
                if at < 0:
                    break
                line_start = data.rfind(b"\n", 0, at) + 1
                before = data[line_start:at]
                chars = sum(1 for b in before if (b & 0xC0) != 0x80)
                out.append({"file": path, "offset": at, "pattern_id": pid,
                            "line": data.count(b"\n", 0, at) + 1,
                            "column": at - line_start + 1,
                            "column_chars": chars + 1})
                start = at + 1
    return out


def run(root, outdir, fail_on_match, scan_props=""):
    """Runs the pipeline; returns (error text or None, paths)."""
    tag = f"{int(fail_on_match)}{'-' if scan_props else ''}{len(scan_props)}"
    paths = {k: os.path.join(outdir, f"{k}-{tag}")
             for k in ("jsonl", "sarif", "json")}
    pats = ",".join(p.decode() for p in PATTERNS)
    desc = (f'vyreurisrc location="{root}" ! vyrescan name=scan '
            f'patterns="<{pats}>" {scan_props} ! '
            f'vyresink print-summary=false matches-location="{paths["jsonl"]}" '
            f'sarif-location="{paths["sarif"]}" '
            f'report-location="{paths["json"]}" message-interval=0 '
            f'fail-on-match={"true" if fail_on_match else "false"}')
    pipeline = Gst.parse_launch(desc)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    error = None
    progress = []
    while True:
        msg = bus.timed_pop_filtered(240 * Gst.SECOND,
                                     Gst.MessageType.EOS |
                                     Gst.MessageType.ERROR |
                                     Gst.MessageType.ELEMENT)
        if msg is None:
            error = "no EOS or error within 240 s"
            break
        if msg.type == Gst.MessageType.ELEMENT:
            st = msg.get_structure()
            if st.get_name() == "vyre-progress":
                progress.append((st.get_value("files"),
                                 st.get_value("files_total")))
            continue
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            error = err.message
            break
        break  # EOS
    paths["files_packed"] = pipeline.get_by_name("scan").get_property(
        "files-packed")
    pipeline.set_state(Gst.State.NULL)
    paths["progress"] = progress
    return error, paths


def main():
    Gst.init(None)
    if Gst.ElementFactory.find("vyrescan") is None:
        print("vyrescan not found: set GST_PLUGIN_PATH_1_0")
        return 1
    failures = []
    with tempfile.TemporaryDirectory(prefix="vyre-findings-") as tmp:
        root = os.path.join(tmp, "tree")
        outdir = os.path.join(tmp, "out")
        os.makedirs(root)
        os.makedirs(outdir)
        files = make_tree(root)
        want = reference(files, root)

        error, paths = run(root, outdir, fail_on_match=False)
        if error and "Vulkan" in error and "device" in error.lower():
            print(f"no Vulkan device: {error}")
            return 77
        if error:
            failures.append(f"fail-on-match=false: unexpected error: {error}")
        else:
            with open(paths["jsonl"], encoding="utf-8") as f:
                got = [json.loads(line) for line in f]
            key = lambda m: (m["file"], m["offset"], m["pattern_id"])  # noqa
            got_keys = sorted(key(m) for m in got)
            want_keys = sorted(key(m) for m in want)
            if got_keys != want_keys:
                missing = set(want_keys) - set(got_keys)
                extra = set(got_keys) - set(want_keys)
                failures.append(f"matches: {len(got)} found, {len(want)} "
                                f"expected; missing {sorted(missing)[:5]}, "
                                f"extra {sorted(extra)[:5]}")
            by_key = {key(m): m for m in want}
            for m in got:
                w = by_key.get(key(m))
                if w is None:
                    continue
                if (m["line"], m["column"]) != (w["line"], w["column"]):
                    failures.append(f"{key(m)}: line {m['line']} column "
                                    f"{m['column']}, expected {w['line']} "
                                    f"{w['column']}")
                if m["pattern"] != PATTERNS[m["pattern_id"]].decode():
                    failures.append(f"{key(m)}: pattern {m['pattern']!r}")
            # Matches come out in stream order: files in the walk's sorted
            # order, offsets increasing within a file.
            order = [(m["file"], m["offset"]) for m in got]
            files_seen = []
            for f_, _ in order:
                if not files_seen or files_seen[-1] != f_:
                    files_seen.append(f_)
            if files_seen != sorted(set(files_seen)):
                failures.append(f"files out of order: {files_seen}")
            for i in range(1, len(order)):
                if order[i][0] == order[i - 1][0] and order[i][1] < order[i - 1][1]:
                    failures.append(f"offsets out of order at {order[i]}")
                    break

            with open(paths["sarif"], encoding="utf-8") as f:
                sarif = json.load(f)
            run0 = sarif["runs"][0]
            if sarif.get("version") != "2.1.0":
                failures.append(f"SARIF version {sarif.get('version')}")
            if run0.get("columnKind") != "unicodeCodePoints":
                failures.append(f"SARIF columnKind {run0.get('columnKind')}")
            results = run0["results"]
            if len(results) != len(want):
                failures.append(f"SARIF: {len(results)} results, "
                                f"{len(want)} expected")
            sarif_pos = sorted(
                (r["locations"][0]["physicalLocation"]["artifactLocation"]
                 ["uri"], r["locations"][0]["physicalLocation"]["region"]
                 ["startLine"], r["locations"][0]["physicalLocation"]
                 ["region"]["startColumn"]) for r in results)
            want_pos = sorted(("file://" + w["file"], w["line"],
                               w["column_chars"]) for w in want)
            if sarif_pos != want_pos:
                diff = sorted(set(want_pos) ^ set(sarif_pos))[:5]
                failures.append(f"SARIF positions differ: {diff}")

            with open(paths["json"], encoding="utf-8") as f:
                report = json.load(f)
            per_file = {}
            for w in want:
                per_file[w["file"]] = per_file.get(w["file"], 0) + 1
            got_files = {e["file"]: e["matches"]
                         for e in report["files"]["match_counts"]}
            if got_files != per_file:
                failures.append(f"report per-file counts {got_files}, "
                                f"expected {per_file}")
            if report["files"]["scanned"] != len(files):
                failures.append(f"report: {report['files']['scanned']} "
                                f"files scanned, {len(files)} in the tree")
            if report["files"]["with_matches"] != len(per_file):
                failures.append(f"report: {report['files']['with_matches']}"
                                f" files with matches, {len(per_file)} "
                                "expected")
            # Progress counts files done of all the source met; the last
            # message (at EOS) has them all done.
            prog = paths["progress"]
            if not prog or prog[-1] != (len(files), len(files)):
                failures.append(f"progress (files, files_total): "
                                f"{prog[-3:]}, the last expected "
                                f"{(len(files), len(files))}")
            elif any(d > t for d, t in prog if t):
                failures.append(f"progress: files done past the total "
                                f"{prog}")
            if report["matches"] != len(want):
                failures.append(f"report: {report['matches']} matches")
            # The stream is the files in the walk's order (relative paths
            # compared byte by byte).
            stream = b"".join(files[r] for r in
                              sorted(files, key=lambda r: r.encode()))
            if report["crc32"] != "%08x" % zlib.crc32(stream):
                failures.append(f"report crc32 {report['crc32']}, the "
                                f"files' {zlib.crc32(stream):08x}")
            hist = [0] * 256
            for b in stream:
                hist[b] += 1
            if report["histogram"] != hist:
                failures.append("report histogram differs from the files'")
            # Every small file but big.txt and the 4 KiB ones shares a job.
            if paths["files_packed"] < 4:
                failures.append(f"vyrescan files-packed "
                                f"{paths['files_packed']}: the small files "
                                "were not scanned together")

        # Only counted (store-matches=false): the files sharing a job are
        # still told apart; per-file and per-pattern counts exact.
        error, paths = run(root, outdir, fail_on_match=False,
                           scan_props="store-matches=false")
        if error:
            failures.append(f"store-matches=false: error {error}")
        else:
            with open(paths["json"], encoding="utf-8") as f:
                report = json.load(f)
            per_file = {}
            per_pattern = {}
            for w in want:
                per_file[w["file"]] = per_file.get(w["file"], 0) + 1
                p = PATTERNS[w["pattern_id"]].decode()
                per_pattern[p] = per_pattern.get(p, 0) + 1
            got_files = {e["file"]: e["matches"]
                         for e in report["files"]["match_counts"]}
            if got_files != per_file or report["matches"] != len(want):
                failures.append(f"store-matches=false: {report['matches']} "
                                f"matches, per file {got_files}, expected "
                                f"{len(want)}, {per_file}")
            got_patterns = {k: v for k, v in report["pattern_counts"].items()
                            if v}
            if got_patterns != per_pattern:
                failures.append(f"store-matches=false: pattern counts "
                                f"{got_patterns}, expected {per_pattern}")

        error, _ = run(root, outdir, fail_on_match=True)
        if error is None or f"{len(want)} matches" not in error.replace(",", ""):
            failures.append(f"fail-on-match=true: error {error!r}, expected "
                            f"one naming {len(want)} matches")

    for f in failures:
        print("FAIL:", f)
    print(f"test_findings: {len(want)} findings checked, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
