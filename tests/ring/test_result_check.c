/*
 * test_result_check.c - ring/result_check: a record the way a kernel
 * writes it sums to what the kernel's running sum says; a record read
 * half-landed (any word still an earlier job's, a lane count still the old
 * one) does not; words a job does not write (records past a lane's count,
 * the histogram without VYRE_OPS_HISTOGRAM) do not count.
 *
 * The writer below sums VYRE_CHECK_TERM as it stores, lane by lane, like
 * the shader (shaders/megakernel.comp, record_event); the reader under
 * test walks the record lane counts first.  (The plugin's one-pass reader
 * is checked against these sums in tests/elements/test_match_events.c.)  The GLSL side of the term is
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

/* What the kernel sums while it stores. */
typedef struct
{
  uint32_t events, hist;
} sums;

/* A job written by `lanes` lanes with random events, like the kernel
 * (shaders/megakernel.comp, record_event): returns the sums it would put
 * in COMP_RESULT_CHECK and COMP_HIST_CHECK. */
static sums
write_job (record * r, uint64_t * rng, uint32_t lanes, uint32_t ops)
{
  sums s = { 0, 0 };
  for (uint32_t l = 0; l < lanes; l++) {
    uint32_t found = (uint32_t) (ring_test_rand (rng) % (PER_LANE + 4));
    uint32_t stored = found < PER_LANE ? found : PER_LANE;
    for (uint32_t e = 0; e < stored; e++) {
      uint32_t mb = VYRE_RESULT_HEADER_WORDS
          + (e * VYRE_RESULT_LANES + l) * VYRE_MATCH_WORDS;
      uint32_t *ev = &r->w[mb];
      ev[VYRE_MATCH_STATE] = (uint32_t) ring_test_rand (rng) % 5000;
      ev[VYRE_MATCH_END_LO] = (uint32_t) ring_test_rand (rng);
      ev[VYRE_MATCH_END_HI] = (uint32_t) ring_test_rand (rng) & 3;
      ev[VYRE_MATCH_COUNT] = 1 + (uint32_t) ring_test_rand (rng) % 3;
      s.events += VYRE_CHECK_TERM (mb, VYRE_CHECK_EVENT (ev[VYRE_MATCH_STATE],
              ev[VYRE_MATCH_END_LO], ev[VYRE_MATCH_END_HI],
              ev[VYRE_MATCH_COUNT]));
    }
    r->w[VYRE_RESULT_LANE_EVENTS + l] = stored;
    s.events += VYRE_CHECK_TERM (VYRE_RESULT_LANE_EVENTS + l, stored);
  }
  if (ops & VYRE_OPS_HISTOGRAM)
    for (uint32_t b = 0; b < 256; b++) {
      r->w[VYRE_RESULT_HIST + b] = (uint32_t) ring_test_rand (rng) % 4096;
      s.hist += VYRE_CHECK_TERM (VYRE_RESULT_HIST + b, r->w[VYRE_RESULT_HIST + b]);
    }
  return s;
}

/* Does what a reader sees agree with what the kernel wrote, for the parts
 * the job wrote? */
static bool
agrees (const record * seen, sums want, uint32_t ops)
{
  return vyre_result_events_check (seen->w, MAX_MATCHES) == want.events
      && (!(ops & VYRE_OPS_HISTOGRAM)
      || vyre_result_hist_check (seen->w) == want.hist);
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
    sums want = write_job (r, &rng, lanes, ops);
    CHECK (agrees (r, want, ops));
  }
  free (r);
}

/* Is word i one that job b (which ran ops) wrote: a lane count, an event
 * within its lane's count, the histogram when it ran it? */
static bool
is_covered (const record * b, uint32_t i, uint32_t ops)
{
  if (i < VYRE_RESULT_LANE_EVENTS)
    return (ops & VYRE_OPS_HISTOGRAM) != 0;
  if (i < VYRE_RESULT_HEADER_WORDS)
    return true;
  uint32_t r = (i - VYRE_RESULT_HEADER_WORDS) / VYRE_MATCH_WORDS;
  return r / VYRE_RESULT_LANES
      < b->w[VYRE_RESULT_LANE_EVENTS + r % VYRE_RESULT_LANES];
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
    sums want = write_job (b, &rng, 256, ops);
    /* Words B changed (one in four, at random), each on its own not
     * landed yet. */
    for (uint32_t i = 0; i < RECORD_WORDS; i++) {
      if (a->w[i] == b->w[i] || (ring_test_rand (&rng) & 3) != 0)
        continue;
      *seen = *b;
      seen->w[i] = a->w[i];
      if (!is_covered (b, i, ops))
        continue;
      tried++;
      if (agrees (seen, want, ops))
        undetected++;
    }
    /* Half of B's words landed, chosen at random. */
    for (int k = 0; k < 20; k++) {
      for (uint32_t i = 0; i < RECORD_WORDS; i++)
        seen->w[i] = (ring_test_rand (&rng) & 1) ? a->w[i] : b->w[i];
      if (memcmp (seen, b, sizeof *b) == 0)
        continue;
      bool differs_in_covered = false;
      for (uint32_t i = 0; i < RECORD_WORDS; i++)
        differs_in_covered |= seen->w[i] != b->w[i] && is_covered (b, i, ops);
      if (!differs_in_covered)
        continue;               /* only words B did not write differ */
      tried++;
      if (agrees (seen, want, ops))
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
 * of the word for each index, the event fold a bijection of each of its
 * words), and a zero word adds nothing. */
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
    uint32_t o[3] = { (uint32_t) ring_test_rand (&rng),
      (uint32_t) ring_test_rand (&rng), (uint32_t) ring_test_rand (&rng) };
    if (w != v && (VYRE_CHECK_EVENT (w, o[0], o[1], o[2])
            == VYRE_CHECK_EVENT (v, o[0], o[1], o[2])
            || VYRE_CHECK_EVENT (o[0], w, o[1], o[2])
            == VYRE_CHECK_EVENT (o[0], v, o[1], o[2])
            || VYRE_CHECK_EVENT (o[0], o[1], w, o[2])
            == VYRE_CHECK_EVENT (o[0], o[1], v, o[2])
            || VYRE_CHECK_EVENT (o[0], o[1], o[2], w)
            == VYRE_CHECK_EVENT (o[0], o[1], o[2], v)))
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
  sums want = write_job (r, &rng, 256, VYRE_OPS_SCAN);
  r->w[VYRE_RESULT_LANE_EVENTS + 255] = 0xFFFFFFFFu;
  CHECK (!agrees (r, want, VYRE_OPS_SCAN));
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
