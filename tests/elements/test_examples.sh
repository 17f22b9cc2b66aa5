#!/usr/bin/env bash
# test_examples.sh - the C and Python embedding examples run and report the
# right numbers (match count and CRC-32 against Python's re/zlib), and a
# bad patterns file makes both fail with the path in the message; the
# Python example without PyGObject says which packages to install.  Every
# gst-launch-1.0 line of README.md's Use section, and every patterns=
# example there and in gst-inspect-1.0's text for vyrescan, runs through a
# real shell and finds exactly what Python finds; bad patterns values, a
# literal over the length limit and duplicates end as documented.
#   test_examples.sh C-EXAMPLE PY-EXAMPLE README
set -uo pipefail
c_example=$1
py_example=$2
readme=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
PY=/usr/bin/python3
$PY - "$dir/sample.txt" <<'PY'
import random, sys
random.seed(7)
words = "alpha beta gamma delta token lorem ipsum dolor sit amet".split()
rare = ["secret", "password", "key"]
with open(sys.argv[1], "w") as f:
    f.write(" ".join(random.choice(rare) if random.random() < 0.01 else random.choice(words)
                     for _ in range(400000)))
PY
printf 'secret\npassword\n# comment\nkey\n' > "$dir/patterns.txt"
read -r expect_matches expect_crc < <($PY - "$dir/sample.txt" <<'PY'
import re, sys, zlib
d = open(sys.argv[1], "rb").read()
n = sum(len(re.findall(re.escape(p), d)) for p in (b"secret", b"password", b"key"))
print(n, format(zlib.crc32(d), "08x"))
PY
)
fail=0
check() {  # name output
  local name=$1 out=$2
  if ! grep -q "summary: .*matches=$expect_matches dropped=0 crc32=$expect_crc" <<<"$out"; then
    echo "FAIL: $name: expected matches=$expect_matches crc32=$expect_crc, got:"; echo "$out"; fail=1
  elif ! grep -q "^progress: " <<<"$out" || ! grep -q "^epoch: " <<<"$out"; then
    echo "FAIL: $name: no progress/epoch messages:"; echo "$out"; fail=1
  else
    echo "ok: $name"
  fi
}
out=$(timeout 120 "$c_example" "$dir/sample.txt" "$dir/patterns.txt" 2>&1); check "C example" "$out"
if $PY -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null; then
  out=$(timeout 120 $PY "$py_example" "$dir/sample.txt" "$dir/patterns.txt" 2>&1); check "Python example" "$out"
else
  echo "FAIL: python3-gi / gir1.2-gstreamer-1.0 not installed"; fail=1
fi
# A missing patterns file: exit status 1 and the path in the error.
out=$(timeout 60 "$c_example" "$dir/sample.txt" "$dir/nope.txt" 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q "nope.txt" <<<"$out"; then
  echo "FAIL: C example with a missing patterns file: rc=$rc"; echo "$out"; fail=1
else
  echo "ok: error names the missing file"
fi

# gst-launch-1.0 on a missing file: one error, vyre's (what, the path, the
# Fix), none of GstBaseSrc's generic "failed to post a proper error
# message" after it; a non-zero exit.
out=$(timeout 60 gst-launch-1.0 vyreurisrc location="$dir/missing.txt" ! fakesink 2>&1); rc=$?
if [ $rc -eq 0 ] || ! grep -q "Could not open \"$dir/missing.txt\"" <<<"$out" ||
   ! grep -q "Fix:" <<<"$out" || grep -q "proper error message" <<<"$out"; then
  echo "FAIL: gst-launch-1.0 on a missing file: rc=$rc"; echo "$out"; fail=1
else
  echo "ok: a missing file is one error, vyre's"
fi

# The Python example is executable, and where PyGObject is missing it names
# the packages instead of a traceback (-S: no site-packages, hence no gi).
if [ ! -x "$py_example" ] || [ "$(head -c 22 "$py_example")" != "#!/usr/bin/env python3" ]; then
  echo "FAIL: $py_example is not executable with a python3 shebang"; fail=1
else
  echo "ok: Python example is executable"
fi
out=$(timeout 60 $PY -S "$py_example" "$dir/sample.txt" "$dir/patterns.txt" 2>&1); rc=$?
if [ $rc -eq 0 ] || grep -q Traceback <<<"$out" || ! grep -q "python3-gi" <<<"$out" \
    || ! grep -q "gir1.2-gstreamer-1.0" <<<"$out"; then
  echo "FAIL: Python example without gi: rc=$rc"; echo "$out"; fail=1
else
  echo "ok: Python example without gi names python3-gi and gir1.2-gstreamer-1.0"
fi

# ---- patterns examples: README.md's Use section and gst-inspect-1.0 ----
pdir="$dir/patterns"
mkdir -p "$pdir"
$PY - "$pdir" <<'PY'
import os, sys
d = sys.argv[1]
text = (b"GNU is not Unix; gnu. password PASSWORD Password BEGIN RSA begin rsa\n"
        b"PK\x03\x04 zip PK\x03\x04 \x00\xffEOF x00xffEOF secret token GNU\n") * 3
open(os.path.join(d, "big.log"), "wb").write(text + b"tail GNU\n")
open(os.path.join(d, "secrets.txt"), "w").write("# secrets\nsecret\ntoken\npassword\n")
PY
inspect_text=$(gst-inspect-1.0 vyrescan 2>&1 | sed -n '/^  patterns  *:/,/Default/p')
if [ -z "$inspect_text" ]; then
  echo "FAIL: gst-inspect-1.0 vyrescan shows no patterns property"; fail=1
fi
have_urisrc=1
gst-inspect-1.0 vyreurisrc >/dev/null 2>&1 || have_urisrc=0
# Runs each line through bash in $pdir and checks vyresink's report
# against the literals that line means (looked up by the shell word that
# sets them, so an example this table does not know fails).
$PY - "$pdir" "$readme" "$have_urisrc" "$inspect_text" <<'PY' || fail=1
import json, os, re, shlex, subprocess, sys
pdir, readme, have_urisrc, inspect_text = sys.argv[1:5]
secrets = [l.encode() for l in open(os.path.join(pdir, "secrets.txt")).read().splitlines()
           if l and not l.startswith("#")]
# the shell word (as bash hands it to gst-launch-1.0) -> the literals it means
WANT = {
    "patterns=GNU": [b"GNU"],
    "patterns=password,BEGIN RSA": [b"password", b"BEGIN RSA"],
    "patterns=<password,BEGIN RSA>": [b"password", b"BEGIN RSA"],
    "patterns=PK\\\\x03\\\\x04,\\\\x00\\\\xffEOF": [b"PK\x03\x04", b"\x00\xffEOF"],
    "patterns-file=secrets.txt": secrets,
}
data = open(os.path.join(pdir, "big.log"), "rb").read()

def escape(b):  # vyre_pattern_escape
    out = ""
    for i, c in enumerate(b):
        out += {0x5c: "\\\\", 10: "\\n", 13: "\\r", 9: "\\t"}.get(c) or (
            chr(c) if 0x20 <= c < 0x7f and not (i == 0 and c == 0x23) else "\\x%02X" % c)
    return out

def count(lit, ignore_case):
    hay, needle = (data.lower(), lit.lower()) if ignore_case else (data, lit)
    return sum(1 for i in range(len(hay)) if hay.startswith(needle, i))

failed = 0
def run(name, line):
    global failed
    words = shlex.split(line)
    keys = [w for w in words if w.startswith(("patterns=", "patterns-file="))]
    if len(keys) != 1 or keys[0] not in WANT:
        print(f"FAIL: {name}: no expected result for {keys} in test_examples.sh: {line}")
        failed = 1
        return
    ic = "ignore-case=true" in words
    want = {escape(p): count(p, ic) for p in WANT[keys[0]]}
    report = os.path.join(pdir, "check-report.json")
    if os.path.exists(report):
        os.unlink(report)
    if have_urisrc != "1":
        line = line.replace("vyreurisrc", "filesrc")
    p = subprocess.run(["bash", "-c", line + f" report-location={report}"], cwd=pdir,
                       capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    if p.returncode != 0 or "WARNING" in out or not os.path.exists(report):
        print(f"FAIL: {name}: rc={p.returncode}: {line}\n{out}")
        failed = 1
        return
    got = json.load(open(report)).get("pattern_counts")
    if got != want or sum(want.values()) == 0:
        print(f"FAIL: {name}: {line}\n  counts {got}, expected {want}")
        failed = 1
    else:
        print(f"ok: {name}: {keys[0]} -> {got}")

# README.md, ## Use: every gst-launch-1.0 line as typed (continuations
# joined), with vyresink also writing the report this check reads.
use = open(readme).read().split("## Use", 1)[1].split("\n## ", 1)[0]
block = use.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")
lines = [l.strip() for l in block.splitlines() if l.strip().startswith("gst-launch-1.0")]
if not lines:
    print("FAIL: README.md's Use section has no gst-launch-1.0 line")
    failed = 1
for l in lines:
    run("README", l)
# every patterns= example, in README's Use section and gst-inspect's text
examples = re.findall(r"""patterns=(?:"[^"]*"|'[^']*'|[^\s"'`,;)]+)""", use)
examples += re.findall(r"""patterns=(?:"[^"]*"|'[^']*'|[^\s"'`,;)]+)""", inspect_text)
if not re.search(r"patterns=", inspect_text):
    print("FAIL: gst-inspect-1.0's text for patterns shows no example")
    failed = 1
for ex in dict.fromkeys(examples):
    run("example " + ex, f"gst-launch-1.0 filesrc location=big.log ! vyrescan {ex} "
        "! vyresink print-summary=false")
sys.exit(failed)
PY

launch() {  # vyrescan properties...; output in $out, status in $rc
  out=$(cd "$pdir" && timeout 120 gst-launch-1.0 -q filesrc location=big.log ! vyrescan "$@" \
      ! vyresink print-summary=false report-location=dup.json 2>&1); rc=$?
}
expect() {  # name grep-pattern...: $rc != 0 and every pattern in $out
  local name=$1; shift
  local p ok=1
  [ $rc -ne 0 ] || ok=0
  for p in "$@"; do grep -qF -- "$p" <<<"$out" || ok=0; done
  if [ $ok = 1 ]; then echo "ok: $name"; else echo "FAIL: $name: rc=$rc"; echo "$out"; fail=1; fi
}
# What the property cannot mean: an error quoting the value and the syntax.
launch patterns='<a,b'
expect "unclosed <" 'patterns="<a,b"' "Fix:" 'patterns="password,BEGIN RSA"'
launch patterns='a,,b'
expect "empty literal" "item 2 is empty" "Fix:"
# A literal over the limit is refused at start with the limit and why,
# never the kernel's bad-range fault.
$PY -c 'import sys; open(sys.argv[1], "w").write("A" * 57344 + "\n")' "$pdir/long.txt"
launch patterns-file=long.txt
expect "56 KiB literal refused" "long.txt:1:" "57344 bytes" "at most 32768 bytes" "lavapipe" "Fix:"
if grep -q "bad-range" <<<"$out"; then echo "FAIL: the kernel faulted: $out"; fail=1; fi
# One of exactly the limit is found, also where it straddles buffers.
$PY - "$pdir" <<'PY'
import sys
lit = "".join(chr(65 + i % 26) for i in range(32768))
open(sys.argv[1] + "/max.txt", "w").write(lit + "\n")
open(sys.argv[1] + "/max.log", "w").write("x" * 5000 + lit + "y" * 3000 + lit[:-1] + "z" * 700)
PY
out=$(cd "$pdir" && timeout 240 gst-launch-1.0 -q filesrc location=max.log ! vyrescan patterns-file=max.txt \
    ! vyresink print-summary=false report-location=max.json 2>&1); rc=$?
if [ $rc -ne 0 ] || ! $PY -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["matches"] != 1)' "$pdir/max.json"; then
  echo "FAIL: a 32768-byte literal: rc=$rc"; echo "$out"; fail=1
else
  echo "ok: a 32768-byte literal is found once"
fi
# Escapes whose backslashes gst-launch-1.0 removed: a warning with the form
# to type (exit 0: the text may be meant).
out=$(cd "$pdir" && timeout 120 gst-launch-1.0 filesrc location=big.log ! vyrescan \
    patterns="<password,\x00\xffEOF>" ! fakesink 2>&1); rc=$?
if [ $rc -ne 0 ] || ! grep -qF "WARNING" <<<"$out" || ! grep -qF "patterns='\\\\x00\\\\xffEOF'" <<<"$out"; then
  echo "FAIL: removed backslashes: no warning: rc=$rc"; echo "$out"; fail=1
else
  echo "ok: removed backslashes are pointed out"
fi
# Duplicates: merged with a warning naming the literal and both places;
# the report names each literal once, counted once.
printf 'password\nGNU\nPASSWORD\n' > "$pdir/dups.txt"
out=$(cd "$pdir" && timeout 120 gst-launch-1.0 filesrc location=big.log ! vyrescan patterns="GNU,secret" \
    patterns-file=dups.txt ignore-case=true ! vyresink print-summary=false report-location=dup.json \
    matches-location=dup.jsonl 2>&1); rc=$?
ok=1
[ $rc -eq 0 ] || ok=0
for p in '"GNU" at dups.txt:2 repeats patterns item 1' '"PASSWORD" at dups.txt:3 is "password" at dups.txt:1'; do
  grep -qF -- "$p" <<<"$out" || ok=0
done
$PY - "$pdir" <<'PY' || ok=0
import json, sys
d = sys.argv[1]
pairs = json.load(open(d + "/dup.json"), object_pairs_hook=lambda kv: kv)
counts = dict(pairs)["pattern_counts"]
data = open(d + "/big.log", "rb").read().lower()
n = lambda w: data.count(w)
want = [("GNU", n(b"gnu")), ("secret", n(b"secret")), ("password", n(b"password"))]
if counts != want:
    sys.exit(f"pattern_counts {counts}, expected {want}")
ids = {json.loads(l)["pattern_id"] for l in open(d + "/dup.jsonl")}
if ids != {0, 1, 2}:
    sys.exit(f"pattern ids {ids}")
PY
if [ $ok = 1 ]; then echo "ok: duplicates merged with warnings"; else echo "FAIL: duplicates: rc=$rc"; echo "$out"; fail=1; fi
exit $fail
