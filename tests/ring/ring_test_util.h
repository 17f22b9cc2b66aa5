/*
 * ring_test_util.h - tiny test kit for the plain-C ring/ tests.
 *
 * CHECK() records a failure with file:line and keeps going, so one run
 * shows every broken expectation; ring_test_finish() turns the count into
 * the exit status meson reads.  Randomised tests take their seed from
 * VYRE_TEST_SEED (printed, so a failure can be replayed) and their size
 * from VYRE_TEST_SCALE (valgrind runs use a fraction).
 */
#ifndef RING_TEST_UTIL_H
#define RING_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>

extern int ring_test_failures;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      ring_test_failures++;                                                \
      fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,    \
          #cond);                                                          \
    }                                                                      \
  } while (0)

#define CHECK_EQ_U64(a, b)                                                 \
  do {                                                                     \
    unsigned long long a_ = (unsigned long long) (a);                      \
    unsigned long long b_ = (unsigned long long) (b);                      \
    if (a_ != b_) {                                                        \
      ring_test_failures++;                                                \
      fprintf (stderr, "%s:%d: CHECK failed: %s == %s (%llu != %llu)\n",   \
          __FILE__, __LINE__, #a, #b, a_, b_);                             \
    }                                                                      \
  } while (0)

/* Seed from VYRE_TEST_SEED (default: fixed), printed once. */
uint64_t ring_test_seed (void);
/* xorshift64* step. */
uint64_t ring_test_rand (uint64_t * state);
/* n scaled by VYRE_TEST_SCALE (default 1.0), at least 1. */
uint64_t ring_test_scaled (uint64_t n);
/* Monotonic seconds. */
double ring_test_now (void);
/* Print a summary and return the process exit status. */
int ring_test_finish (const char *name);

#endif /* RING_TEST_UTIL_H */
