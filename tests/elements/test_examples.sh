#!/usr/bin/env bash
# test_examples.sh - the C and Python embedding examples run and report the
# right numbers (match count and CRC-32 against Python's re/zlib), and a
# bad patterns file makes both fail with the path in the message.
#   test_examples.sh C-EXAMPLE PY-EXAMPLE
set -uo pipefail
c_example=$1
py_example=$2
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
exit $fail
