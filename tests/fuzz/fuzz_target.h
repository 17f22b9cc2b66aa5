/* gst-vyre
 *
 * fuzz_target.h - what every fuzz target in tests/fuzz/ provides, and how
 * it reports a broken contract.
 *
 * Each target is one file defining LLVMFuzzerTestOneInput, the libFuzzer
 * entry point.  It is built twice from the same file:
 *   - with clang -fsanitize=fuzzer,address,undefined when the meson option
 *     fuzz is on (tests/fuzz/run-fuzz.sh runs those for a bounded time);
 *   - with replay.c's main() in every build, as the meson test
 *     <target>-replay, which feeds it every file of
 *     tests/fuzz/corpus/<target>/ (the seeds and every input that once
 *     crashed), so a fixed crash stays fixed in every test setup.
 *
 * The input is arbitrary bytes; a target must return 0 for every input
 * and never leak.  FUZZ_CHECK is for the contracts the code under test
 * documents (beyond "does not crash"): a broken one aborts, which both
 * libFuzzer and the replay test report as a failure, with the message.
 */
#ifndef VYRE_FUZZ_TARGET_H
#define VYRE_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define FUZZ_CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      fprintf (stderr, "%s:%d: contract broken: %s: ", __FILE__, __LINE__, \
          #cond); \
      fprintf (stderr, __VA_ARGS__); \
      fputc ('\n', stderr); \
      abort (); \
    } \
  } while (0)

#endif /* VYRE_FUZZ_TARGET_H */
