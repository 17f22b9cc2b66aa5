/*
 * test_result_check.c - ring/result_check: a record the way a kernel
 * writes it sums to what the kernel's running sum says; a record read
 * half-landed (any word still an earlier job's, a lane count still the old
 * one) does not; words a job does not write (records past a lane's count,
 * the histogram without VYRE_OPS_HISTOGRAM) do not count.
 *
 * The writer below sums VYRE_CHECK_TERM as it stores, lane by lane, like
 * the shader (shaders/megakernel.comp, record_event); the reader under
 * test walks the record lane counts first.  The GLSL side of the term is
 * covered by test_protocol_agreement (sample values) and by
 * test_megakernel (every job goes through the check).
 */
#include "result_check.h"
#include "ring_test_util.h"
#include "vyre_protocol.h"
#include "vyre_slot.h"

#include <stdlib.h>
#include <string.h>

#define MAX_MATCHES (VYRE_RESULT_LANES * 8u)
#define PER_LANE (MAX_MATCHES / VYRE_RESULT_LANES)
#define RECORD_WORDS (VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * MAX_MATCHES)

typedef struct
{
  uint32_t w[RECORD_WORDS];
} record;

/* Store like the kernel: returns the sum of what was stored. */
static uint32_t
put (record * r, uint32_t index, uint32_t value)
{
  r->w[index] = value;
  return VYRE_CHECK_TERM (index, value);
}

/* A job written by `lanes` lanes with random events; returns the sum the
 * kernel would put in COMP_RESULT_CHECK. */
static uint32_t
write_job (record * r, uint64_t * rng, uint32_t lanes, uint32_t ops)
{
  uint32_t sum = 0;
  for (uint32_t l = 0; l < lanes; l++) {
    uint32_t found = (uint32_t) (ring_test_rand (rng) % (PER_LANE + 4));
    uint32_t stored = found < PER_LANE ? found : PER_LANE;
    for (uint32_t e = 0; e < stored; e++) {
      uint32_t mb = VYRE_RESULT_HEADER_WORDS
          + (e * VYRE_RESULT_LANES + l) * VYRE_MATCH_WORDS;
      sum += put (r, mb + VYRE_MATCH_STATE, (uint32_t) ring_test_rand (rng) % 5000);
      sum += put (r, mb + VYRE_MATCH_END_LO, (uint32_t) ring_test_rand (rng));
      sum += put (r, mb + VYRE_MATCH_END_HI, (uint32_t) ring_test_rand (rng) & 3);
      sum += put (r, mb + VYRE_MATCH_COUNT, 1 + (uint32_t) ring_test_rand (rng) % 3);
    }
    sum += put (r, VYRE_RESULT_LANE_EVENTS + l, stored);
  }
  if (ops & VYRE_OPS_HISTOGRAM)
    for (uint32_t b = 0; b < 256; b++)
      sum += put (r, VYRE_RESULT_HIST + b, (uint32_t) ring_test_rand (rng) % 4096);
  return sum;
}

/* Whole records agree, for 64 and 256 lanes, with and without histogram,
 * over junk a previous job left past each lane's count. */
static void
test_whole_records_agree (void)
{
  uint64_t rng = ring_test_seed ();
  record *r = calloc (1, sizeof *r);
  for (int round = 0; round < 200; round++) {
    uint32_t lanes = (round & 1) ? 64 : 256;
    uint32_t ops = (round & 2) ? VYRE_OPS_ALL : VYRE_OPS_SCAN;
    if (lanes == 64)            /* a CPU kernel: the higher lanes stay 0 */
      memset (&r->w[VYRE_RESULT_LANE_EVENTS + 64], 0, 192 * 4);
    uint32_t want = write_job (r, &rng, lanes, ops);
    CHECK_EQ_U64 (vyre_result_check (r->w, MAX_MATCHES, ops), want);
  }
  free (r);
}

/* Job B written over job A in the same record: any word of B missing
 * (still A's) makes the sum disagree. */
static void
test_half_landed_records_disagree (void)
{
  uint64_t rng = ring_test_seed () ^ 0xB;
  record *a = calloc (1, sizeof *a), *b = calloc (1, sizeof *b),
      *seen = calloc (1, sizeof *seen);
  uint64_t tried = 0, undetected = 0;
  for (int round = 0; round < 40; round++) {
    uint32_t ops = (round & 1) ? VYRE_OPS_ALL : VYRE_OPS_SCAN;
    write_job (a, &rng, 256, VYRE_OPS_ALL);
    *b = *a;
    uint32_t want = write_job (b, &rng, 256, ops);
    /* Words B changed (one in four, at random), each on its own not
     * landed yet. */
    for (uint32_t i = 0; i < RECORD_WORDS; i++) {
      if (a->w[i] == b->w[i] || (ring_test_rand (&rng) & 3) != 0)
        continue;
      *seen = *b;
      seen->w[i] = a->w[i];
      bool covered = i >= VYRE_RESULT_LANE_EVENTS || (ops & VYRE_OPS_HISTOGRAM);
      if (i >= VYRE_RESULT_HEADER_WORDS) {
        /* a record past its lane's count in B is not B's word */
        uint32_t l = ((i - VYRE_RESULT_HEADER_WORDS) / VYRE_MATCH_WORDS) % VYRE_RESULT_LANES;
        uint32_t e = ((i - VYRE_RESULT_HEADER_WORDS) / VYRE_MATCH_WORDS) / VYRE_RESULT_LANES;
        covered = e < b->w[VYRE_RESULT_LANE_EVENTS + l];
      }
      if (!covered)
        continue;
      tried++;
      if (vyre_result_check (seen->w, MAX_MATCHES, ops) == want)
        undetected++;
    }
    /* Half of B's words landed, chosen at random. */
    for (int k = 0; k < 20; k++) {
      for (uint32_t i = 0; i < RECORD_WORDS; i++)
        seen->w[i] = (ring_test_rand (&rng) & 1) ? a->w[i] : b->w[i];
      if (memcmp (seen, b, sizeof *b) == 0)
        continue;
      bool differs_in_covered = false;
      for (uint32_t i = VYRE_RESULT_LANE_EVENTS; i < VYRE_RESULT_HEADER_WORDS; i++)
        differs_in_covered |= seen->w[i] != b->w[i];
      if (!differs_in_covered)
        continue;               /* lane counts all landed: covered below */
      tried++;
      if (vyre_result_check (seen->w, MAX_MATCHES, ops) == want)
        undetected++;
    }
  }
  CHECK (tried > 2000);
  CHECK_EQ_U64 (undetected, 0);
  free (a);
  free (b);
  free (seen);
}

/* A single changed word always changes the sum (the term is a bijection
 * of the word for each index), and a zero word adds nothing. */
static void
test_term (void)
{
  uint64_t rng = ring_test_seed () ^ 0x7E;
  uint64_t collisions = 0;
  for (int k = 0; k < 100000; k++) {
    uint32_t i = (uint32_t) ring_test_rand (&rng);
    uint32_t w = (uint32_t) ring_test_rand (&rng);
    uint32_t v = (uint32_t) ring_test_rand (&rng);
    if (w != v && vyre_check_term (i, w) == vyre_check_term (i, v))
      collisions++;
    if (vyre_check_term (i, 0) != 0)
      collisions++;
  }
  CHECK_EQ_U64 (collisions, 0);
}

/* A lane count past the lane's share (garbage) disagrees and reads
 * nothing past the record (ASan build). */
static void
test_garbage_count (void)
{
  uint64_t rng = ring_test_seed () ^ 0xC0;
  record *r = calloc (1, sizeof *r);
  uint32_t want = write_job (r, &rng, 256, VYRE_OPS_SCAN);
  r->w[VYRE_RESULT_LANE_EVENTS + 255] = 0xFFFFFFFFu;
  CHECK (vyre_result_check (r->w, MAX_MATCHES, VYRE_OPS_SCAN) != want);
  free (r);
}

int
main (void)
{
  test_term ();
  test_whole_records_agree ();
  test_half_landed_records_disagree ();
  test_garbage_count ();
  return ring_test_finish ("test_result_check");
}
