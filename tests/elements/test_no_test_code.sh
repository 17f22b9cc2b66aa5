#!/usr/bin/env bash
# test_no_test_code.sh - code written only for the tests (the CPU reference
# scanner, the CPU reference consumer of the ring) is in no library the
# plugin is built from and not in the plugin itself.
#   test_no_test_code.sh PLUGIN.so LIBRARY.a...
set -uo pipefail
fail=0
for lib in "$@"; do
  # nm on a static library lists every member object's symbols
  found=$(nm -A --defined-only "$lib" 2>&1 | grep -E ' (vyre_scan_reference_|vyre_reference_consumer_)')
  if [ -n "$found" ]; then
    echo "FAIL: test-only code in $lib:"; echo "$found"; fail=1
  else
    echo "ok: no test-only code in $(basename "$lib")"
  fi
done
exit $fail
