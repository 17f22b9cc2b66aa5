/* ring_test_util.c - see ring_test_util.h. */
#include "ring_test_util.h"

#include <stdlib.h>
#include <time.h>

int ring_test_failures;

uint64_t
ring_test_seed (void)
{
  static uint64_t seed;
  if (seed == 0) {
    const char *s = getenv ("VYRE_TEST_SEED");
    seed = s ? strtoull (s, NULL, 0) : 0;
    if (seed == 0)
      seed = 20261121;
    fprintf (stderr, "VYRE_TEST_SEED=%llu\n", (unsigned long long) seed);
  }
  return seed;
}

uint64_t
ring_test_rand (uint64_t * state)
{
  uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

uint64_t
ring_test_scaled (uint64_t n)
{
  const char *s = getenv ("VYRE_TEST_SCALE");
  double f = s ? strtod (s, NULL) : 1.0;
  if (!(f > 0.0))
    f = 1.0;
  uint64_t r = (uint64_t) ((double) n * f);
  return r ? r : 1;
}

double
ring_test_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

int
ring_test_finish (const char *name)
{
  if (ring_test_failures) {
    fprintf (stderr, "%s: %d check(s) FAILED\n", name, ring_test_failures);
    return 1;
  }
  fprintf (stderr, "%s: all checks passed\n", name);
  return 0;
}
