/*
 * test_footprint_planner.c - ring/footprint_planner: exact byte counts,
 * every error with its Fix, the top of the uint64 range (values that fit
 * exactly and ones that overflow by one), ceil division at the maximum,
 * and a randomised sweep checked against a 128-bit reference.
 */
#include "footprint_planner.h"
#include "ring_test_util.h"
#include "vyre_protocol.h"

#include <string.h>

typedef unsigned __int128 u128;

/* Header of a result record in bytes (the protocol may grow it). */
#define HEADER_BYTES ((uint64_t) VYRE_RESULT_HEADER_WORDS * 4)
#define CONTROL_BYTES ((uint64_t) VYRE_CONTROL_WORDS * 4)
_Static_assert (VYRE_RESULT_HEADER_WORDS >= 256, "the u64 edge cases below "
    "assume the 256 histogram words are part of the header");

static int
has (const vyre_error * e, const char *needle)
{
  return strstr (e->message, needle) != NULL;
}

/* A typical plugin configuration. */
static vyre_footprint_profile
typical (void)
{
  vyre_footprint_profile p;
  vyre_footprint_profile_init (&p);
  p.ring_slots = 256;
  p.completion_entries = 256;
  p.slots_in_flight = 8;
  p.max_buffer_bytes = 1u << 20;
  p.carry_windows = 256;
  p.carry_window_bytes = 63;
  p.result_records = 8;
  p.max_matches = 1024;
  p.pattern_table_bytes = 100000;
  p.io_entries = 64;
  p.budget_bytes = 16u << 20;
  return p;
}

/* Smallest valid profile: everything optional is 0. */
static vyre_footprint_profile
minimal (void)
{
  vyre_footprint_profile p;
  vyre_footprint_profile_init (&p);
  p.ring_slots = 1;
  p.completion_entries = 1;
  p.result_records = 1;
  p.arena_bytes = 1;
  p.budget_bytes = UINT64_MAX;
  return p;
}

static void
test_exact_bytes (void)
{
  vyre_footprint_profile p = typical ();
  vyre_footprint_plan plan;
  vyre_error err;
  vyre_error_clear (&err);

  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_RING], 16384);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_COMPLETIONS], 16384);
  /* 256 global words + 128 tenant records of 208 words (80 of epochs
   * and fields, 2 x 64 of arena and result chunk tables) */
  CHECK_EQ_U64 (CONTROL_BYTES, 107520);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_CONTROL], CONTROL_BYTES);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_ARENA], 8388608);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_CARRY], 16128);
  /* (header + 4 x 1024 match words) x 4 bytes, 8 records */
  const uint64_t record = HEADER_BYTES + 16384;
  CHECK_EQ_U64 (plan.result_record_bytes, record);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_RESULTS], 8 * record);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_PATTERNS], 100000);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_IO_QUEUE], 2048);
  /* 16384 + 16384 + 107520 + 8388608 + 16128 + 100000 + 2048 = 8647072 */
  const uint64_t total = 8647072 + 8 * record;
  CHECK_EQ_U64 (plan.total_bytes, total);
  if (VYRE_RESULT_HEADER_WORDS == 512)
    CHECK_EQ_U64 (plan.total_bytes, 8794528);     /* the layout of today */
  CHECK_EQ_U64 (plan.budget_bytes, 16777216);
  CHECK_EQ_U64 (plan.headroom_bytes, 16777216 - total);
  CHECK (plan.largest == VYRE_FOOTPRINT_ARENA);
  CHECK (err.status == VYRE_OK);

  /* A given arena replaces slots_in_flight x max_buffer_bytes. */
  p.arena_bytes = 12345;
  p.slots_in_flight = 0;
  p.max_buffer_bytes = 0;
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_ARENA], 12345);
  CHECK_EQ_U64 (plan.total_bytes, total - 8388608 + 12345);
  CHECK (plan.largest == VYRE_FOOTPRINT_RESULTS);

  /* No matches: a record is the header only; the control block (its
   * tenant records) is then the largest component. */
  p = minimal ();
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK_EQ_U64 (plan.result_record_bytes, HEADER_BYTES);
  CHECK_EQ_U64 (plan.total_bytes, 64 + 64 + CONTROL_BYTES + 1 + HEADER_BYTES);
  CHECK (plan.largest == VYRE_FOOTPRINT_CONTROL);
  /* Ties: the first component of the maximal size is named. */
  p.pattern_table_bytes = CONTROL_BYTES;
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK (plan.largest == VYRE_FOOTPRINT_CONTROL);
  p.ring_slots = CONTROL_BYTES / 64;
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK (plan.largest == VYRE_FOOTPRINT_RING);

  /* Budget exactly the total: fits with zero headroom; one less: over. */
  char need[32], budget[32];
  p = typical ();
  p.budget_bytes = total;
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK_EQ_U64 (plan.headroom_bytes, 0);
  p.budget_bytes = total - 1;
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_ERR_OVER_BUDGET);
  snprintf (need, sizeof need, "needs %llu bytes", (unsigned long long) total);
  snprintf (budget, sizeof budget, "budget is %llu",
      (unsigned long long) (total - 1));
  CHECK (has (&err, need) && has (&err, budget) && has (&err, "(1 over)"));

  /* Component names. */
  CHECK (strcmp (vyre_footprint_component_name (VYRE_FOOTPRINT_IO_QUEUE),
          "io-queue") == 0);
  CHECK (strcmp (vyre_footprint_component_name (VYRE_FOOTPRINT_COMPONENTS),
          "unknown") == 0);
}

static void
expect_invalid (vyre_footprint_profile p, const char *field, const char *kind)
{
  vyre_footprint_plan plan;
  vyre_error err;
  vyre_error_clear (&err);
  plan.total_bytes = 99;
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (err.status == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, field));
  CHECK (has (&err, kind));
  CHECK (has (&err, "Fix: "));
  CHECK_EQ_U64 (plan.total_bytes, 0);        /* zeroed on error */
  if (!has (&err, field))
    fprintf (stderr, "  expected '%s' in: %s\n", field, err.message);
}

static void
test_zero_errors (void)
{
  vyre_footprint_profile p;

  p = typical (); p.ring_slots = 0;
  expect_invalid (p, "ring_slots", "capacity");
  p = typical (); p.completion_entries = 0;
  expect_invalid (p, "completion_entries", "capacity");
  p = typical (); p.result_records = 0;
  expect_invalid (p, "result_records", "capacity");
  p = typical (); p.slots_in_flight = 0;
  expect_invalid (p, "slots_in_flight", "capacity");
  p = typical (); p.slot_bytes = 0;
  expect_invalid (p, "slot_bytes", "entry size");
  p = typical (); p.completion_bytes = 0;
  expect_invalid (p, "completion_bytes", "entry size");
  p = typical (); p.io_entry_bytes = 0;
  expect_invalid (p, "io_entry_bytes", "entry size");
  p = typical (); p.max_buffer_bytes = 0;
  expect_invalid (p, "max_buffer_bytes", "entry size");
  /* The kernel's lanes split a record's events: max_matches must be a
   * multiple of VYRE_RESULT_LANES; the Fix names the value to use. */
  {
    char want[96];
    const uint64_t L = VYRE_RESULT_LANES;
    p = typical (); p.max_matches = 1000;
    snprintf (want, sizeof want, "multiple of %llu", (unsigned long long) L);
    expect_invalid (p, "max_matches 1000", want);
    snprintf (want, sizeof want, "Fix: use %llu.",
        (unsigned long long) ((1000 + L - 1) / L * L));
    expect_invalid (p, "max_matches", want);
    p = typical (); p.max_matches = L + 1;
    snprintf (want, sizeof want, "Fix: use %llu.", (unsigned long long) (2 * L));
    expect_invalid (p, "max_matches", want);
    p = typical (); p.max_matches = UINT64_MAX;   /* rounding up wraps */
    snprintf (want, sizeof want, "Fix: use %llu.",
        (unsigned long long) (UINT64_MAX / L * L));
    expect_invalid (p, "max_matches", want);
  }

  /* Optional components may be zero. */
  vyre_footprint_plan plan;
  vyre_error err;
  p = typical ();
  p.carry_windows = 0;
  p.pattern_table_bytes = 0;
  p.io_entries = 0;
  p.max_matches = 0;
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_CARRY], 0);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_IO_QUEUE], 0);

  /* Zero drain window, before anything else is looked at. */
  vyre_footprint_backpressure_plan bp;
  vyre_error_clear (&err);
  p = typical ();
  p.ring_slots = 0;
  CHECK (vyre_footprint_plan_backpressure (&p, 0, &bp, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "drain window") && has (&err, "Fix: "));
  vyre_drain_plan d;
  CHECK (vyre_drain_plan_compute (10, 0, &d, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "drain window") && has (&err, "Fix: "));
  CHECK (vyre_drain_plan_compute (0, 10, &d, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "jobs") && has (&err, "Fix: "));

  /* NULL arguments; a NULL error is fine too. */
  CHECK (vyre_footprint_plan_compute (NULL, &plan, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_footprint_plan_compute (&p, NULL, NULL)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_drain_plan_compute (1, 1, NULL, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_footprint_plan_backpressure (NULL, 1, &bp, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  p = typical ();
  CHECK (vyre_footprint_plan_compute (&p, &plan, NULL) == VYRE_OK);
  vyre_footprint_profile_init (NULL);
}

static void
expect_overflow (vyre_footprint_profile p, const char *field)
{
  vyre_footprint_plan plan;
  vyre_error err;
  vyre_error_clear (&err);
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_ERR_OVERFLOW);
  CHECK (has (&err, field));
  CHECK (has (&err, "Fix: "));
  if (!has (&err, field) || !has (&err, "Fix: "))
    fprintf (stderr, "  expected '%s' in: %s\n", field, err.message);
}

static void
expect_over_budget (vyre_footprint_profile p, const char *largest,
    const char *fix)
{
  vyre_footprint_plan plan;
  vyre_error err;
  vyre_error_clear (&err);
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_ERR_OVER_BUDGET);
  char needle[96];
  snprintf (needle, sizeof needle, "largest component: %s,", largest);
  CHECK (has (&err, needle));
  CHECK (has (&err, fix));
  CHECK (has (&err, "device with more memory."));   /* not truncated */
  char req[64];
  snprintf (req, sizeof req, "needs %llu bytes",
      (unsigned long long) plan.total_bytes);
  CHECK (has (&err, req));
  CHECK (plan.total_bytes > p.budget_bytes);        /* breakdown is kept */
  CHECK_EQ_U64 (plan.headroom_bytes, 0);
  if (!has (&err, needle) || !has (&err, fix))
    fprintf (stderr, "  expected '%s' / '%s' in: %s\n", needle, fix,
        err.message);
}

static void
test_over_budget (void)
{
  vyre_footprint_profile p;

  p = typical (); p.budget_bytes = 1 << 20;
  expect_over_budget (p, "arena", "smaller blocksize");
  p = typical (); p.pattern_table_bytes = 64u << 20;
  expect_over_budget (p, "patterns", "fewer patterns");
  p = typical (); p.ring_slots = 1u << 20;
  expect_over_budget (p, "ring", "fewer ring-slots");
  p = typical (); p.result_records = 4096;
  expect_over_budget (p, "results", "fewer ring-slots");
  p = typical (); p.io_entries = 1u << 20;
  expect_over_budget (p, "io-queue", "fewer IO queue entries");
  p = typical (); p.completion_entries = 1u << 20;
  expect_over_budget (p, "completions", "fewer ring-slots");
  p = typical (); p.carry_window_bytes = 1u << 20;
  expect_over_budget (p, "carry", "fewer ring-slots");
  p = minimal (); p.budget_bytes = 0;
  p.max_matches = 32 * VYRE_RESULT_LANES;   /* a record over the control */
  expect_over_budget (p, "results", "fewer max-matches");
  p = minimal (); p.budget_bytes = 0;
  expect_over_budget (p, "control", "shrink the configuration");
}

static void
test_u64_edges (void)
{
  vyre_footprint_profile p;
  vyre_footprint_plan plan;
  vyre_error err;
  const uint64_t M = UINT64_MAX;

  /* Ring: UINT64_MAX / 64 slots fit exactly (M - 63 bytes)... */
  p = minimal ();
  p.ring_slots = M / 64;
  p.completion_entries = 0;     /* checked first: shows ring is computed */
  expect_invalid (p, "completion_entries", "capacity");
  p.completion_entries = 1;
  expect_overflow (p, "the total");          /* ring itself fit */
  /* ...one more overflows the ring product. */
  p.ring_slots = M / 64 + 1;
  expect_overflow (p, "ring bytes");

  p = minimal ();
  p.completion_entries = M / 64 + 1;
  expect_overflow (p, "completion bytes");

  /* Arena: 3 x 0x5555... is exactly M; one more byte per slot is not. */
  p = minimal ();
  p.arena_bytes = 0;
  p.slots_in_flight = 3;
  p.max_buffer_bytes = 0x5555555555555555ull;
  expect_overflow (p, "the total");
  p.max_buffer_bytes = 0x5555555555555556ull;
  expect_overflow (p, "arena bytes");

  p = minimal ();
  p.carry_windows = 2;
  p.carry_window_bytes = M / 2 + 1;
  expect_overflow (p, "carry bytes");

  p = minimal ();
  p.io_entries = M / 32 + 1;
  expect_overflow (p, "io queue bytes");

  /* Result stride = HEADER_BYTES + 16 x max_matches bytes, max_matches in
   * steps of 64 (VYRE_RESULT_LANES). */
  const uint64_t L = VYRE_RESULT_LANES;
  p = minimal ();
  p.max_matches = (M - HEADER_BYTES) / 16 / L * L;   /* largest that fits */
  CHECK ((u128) HEADER_BYTES + 16 * (u128) p.max_matches <= M);
  {
    /* The stride fits: the plan either fits too (rounding down to whole
     * lanes can leave room for the rest) or overflows only in the total. */
    vyre_footprint_plan plan;
    vyre_error err;
    vyre_error_clear (&err);
    vyre_status st = vyre_footprint_plan_compute (&p, &plan, &err);
    CHECK (st == VYRE_OK || (st == VYRE_ERR_OVERFLOW && has (&err, "the total")));
  }
  p.max_matches += L;                     /* words fit, x4 overflows */
  expect_overflow (p, "result record bytes");
  p.max_matches = (M / 4 + L) / L * L;    /* x4 words overflows */
  expect_overflow (p, "match words");
  p.max_matches = M / 4 / L * L;          /* fits; + header words may not */
  if ((u128) 4 * p.max_matches + VYRE_RESULT_HEADER_WORDS > M)
    expect_overflow (p, "result record words");
  else                  /* with these widths the sum cannot overflow */
    expect_overflow (p, "result record bytes");
  p.max_matches = 1u << 20;
  p.result_records = M / (HEADER_BYTES + 16 * (1ull << 20)) + 1;
  expect_overflow (p, "result bytes");
  p.result_records--;                                  /* fits */
  {
    const uint64_t stride = HEADER_BYTES + 16 * (1ull << 20);
    const u128 need = (u128) p.result_records * stride + 64 + 64
        + CONTROL_BYTES + 1;
    if (need > M) {
      expect_overflow (p, "the total");
    } else {
      CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
      CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_RESULTS],
          p.result_records * stride);
      CHECK (plan.total_bytes == need);
    }
  }

  /* The total exactly M fits a budget of M with zero headroom. */
  p = minimal ();
  p.arena_bytes = M - (64 + 64 + CONTROL_BYTES + HEADER_BYTES);
  vyre_error_clear (&err);
  CHECK (vyre_footprint_plan_compute (&p, &plan, &err) == VYRE_OK);
  CHECK_EQ_U64 (plan.total_bytes, M);
  CHECK_EQ_U64 (plan.headroom_bytes, 0);
  CHECK (plan.largest == VYRE_FOOTPRINT_ARENA);
  CHECK_EQ_U64 (plan.bytes[VYRE_FOOTPRINT_ARENA],
      M - (64 + 64 + CONTROL_BYTES) - HEADER_BYTES);
  /* One byte more, in any component, overflows. */
  p.arena_bytes++;
  expect_overflow (p, "the total");
  p.arena_bytes--;
  p.pattern_table_bytes = 1;
  expect_overflow (p, "adding the patterns component");
  /* Fits, but the budget is one short. */
  p.pattern_table_bytes = 0;
  p.budget_bytes = M - 1;
  expect_over_budget (p, "arena", "smaller blocksize");

  /* Drain windows: ceil division at the top of the range. */
  vyre_drain_plan d;
  CHECK (vyre_drain_plan_compute (M, 65536, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, 281474976710656ull);
  CHECK_EQ_U64 (d.items_per_window, 65536);
  CHECK_EQ_U64 (d.last_window_items, 65535);
  CHECK (d.chunked);
  CHECK (vyre_drain_plan_compute (M, 1, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, M);
  CHECK_EQ_U64 (d.last_window_items, 1);
  CHECK (vyre_drain_plan_compute (M, M, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, 1);
  CHECK_EQ_U64 (d.items_per_window, M);
  CHECK_EQ_U64 (d.last_window_items, M);
  CHECK (!d.chunked);
  CHECK (vyre_drain_plan_compute (M, M - 1, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, 2);
  CHECK_EQ_U64 (d.items_per_window, M - 1);
  CHECK_EQ_U64 (d.last_window_items, 1);
  CHECK (vyre_drain_plan_compute (M - 1, M, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, 1);
  CHECK_EQ_U64 (d.items_per_window, M - 1);
  CHECK (vyre_drain_plan_compute (1, M, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, 1);
  CHECK_EQ_U64 (d.items_per_window, 1);
  CHECK (vyre_drain_plan_compute (M, M / 2, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, 3);                  /* M = 2 (M/2) + 1 */
  CHECK_EQ_U64 (d.last_window_items, 1);
  CHECK (vyre_drain_plan_compute (M - 1, M / 2, &d, &err) == VYRE_OK);
  CHECK_EQ_U64 (d.windows, 2);                  /* exact */
  CHECK_EQ_U64 (d.last_window_items, M / 2);
}

static void
test_backpressure (void)
{
  vyre_footprint_profile p = typical ();
  vyre_footprint_backpressure_plan bp;
  vyre_error err;

  p.ring_slots = 65536;
  p.completion_entries = 65536;
  p.carry_windows = 0;
  p.budget_bytes = 64u << 20;
  CHECK (vyre_footprint_plan_backpressure (&p, 8192, &bp, &err) == VYRE_OK);
  CHECK_EQ_U64 (bp.drain.windows, 8);
  CHECK_EQ_U64 (bp.drain.items_per_window, 8192);
  CHECK_EQ_U64 (bp.drain.last_window_items, 8192);
  CHECK (bp.drain.chunked);
  CHECK_EQ_U64 (bp.footprint.bytes[VYRE_FOOTPRINT_RING], 65536 * 64);
  vyre_footprint_plan alone;
  CHECK (vyre_footprint_plan_compute (&p, &alone, &err) == VYRE_OK);
  CHECK (memcmp (&alone, &bp.footprint, sizeof alone) == 0);

  CHECK (vyre_footprint_plan_backpressure (&p, 1u << 20, &bp, &err) == VYRE_OK);
  CHECK_EQ_U64 (bp.drain.windows, 1);
  CHECK_EQ_U64 (bp.drain.items_per_window, 65536);
  CHECK (!bp.drain.chunked);

  /* Footprint errors come through unchanged. */
  p.budget_bytes = 1;
  CHECK (vyre_footprint_plan_backpressure (&p, 8192, &bp, &err)
      == VYRE_ERR_OVER_BUDGET);
  CHECK (has (&err, "Fix: "));
}

/* ------------------------------------------------------------------ */
/* Sweep: a 128-bit reference decides what the planner must say. */

static uint64_t
pick (uint64_t * s, uint64_t max)
{
  return max == UINT64_MAX ? ring_test_rand (s) : ring_test_rand (s) % (max + 1);
}

/* A value of random magnitude: small, mid-sized, or near the top. */
static uint64_t
wild (uint64_t * s)
{
  switch (ring_test_rand (s) % 6) {
    case 0: return 0;
    case 1: return pick (s, 64);
    case 2: return pick (s, 1u << 20);
    case 3: return pick (s, 1ull << 40);
    case 4: return UINT64_MAX - pick (s, 4096);
    default: return ring_test_rand (s) >> (ring_test_rand (s) % 64);
  }
}

typedef struct {
  vyre_status status;
  u128 bytes[VYRE_FOOTPRINT_COMPONENTS];
  u128 total;
} reference;

static reference
reference_plan (const vyre_footprint_profile * p)
{
  reference r = { VYRE_OK, { 0 }, 0 };
  if (p->ring_slots == 0 || p->completion_entries == 0
      || p->result_records == 0 || p->slot_bytes == 0
      || p->completion_bytes == 0 || p->io_entry_bytes == 0
      || p->max_matches % VYRE_RESULT_LANES != 0
      || (p->arena_bytes == 0
          && (p->slots_in_flight == 0 || p->max_buffer_bytes == 0))) {
    r.status = VYRE_ERR_INVALID_ARGUMENT;
    return r;
  }
  u128 stride = ((u128) p->max_matches * 4 + VYRE_RESULT_HEADER_WORDS) * 4;
  r.bytes[VYRE_FOOTPRINT_RING] = (u128) p->ring_slots * p->slot_bytes;
  r.bytes[VYRE_FOOTPRINT_COMPLETIONS] =
      (u128) p->completion_entries * p->completion_bytes;
  r.bytes[VYRE_FOOTPRINT_CONTROL] = CONTROL_BYTES;
  r.bytes[VYRE_FOOTPRINT_ARENA] = p->arena_bytes ? (u128) p->arena_bytes
      : (u128) p->slots_in_flight * p->max_buffer_bytes;
  r.bytes[VYRE_FOOTPRINT_CARRY] = (u128) p->carry_windows * p->carry_window_bytes;
  r.bytes[VYRE_FOOTPRINT_RESULTS] = stride > UINT64_MAX ? (u128) -1
      : (u128) p->result_records * stride;
  r.bytes[VYRE_FOOTPRINT_PATTERNS] = p->pattern_table_bytes;
  r.bytes[VYRE_FOOTPRINT_IO_QUEUE] = (u128) p->io_entries * p->io_entry_bytes;
  for (int c = 0; c < VYRE_FOOTPRINT_COMPONENTS; c++) {
    if (r.bytes[c] > UINT64_MAX) {
      r.status = VYRE_ERR_OVERFLOW;
      return r;
    }
    r.total += r.bytes[c];
  }
  if (r.total > UINT64_MAX)
    r.status = VYRE_ERR_OVERFLOW;
  else if (r.total > p->budget_bytes)
    r.status = VYRE_ERR_OVER_BUDGET;
  return r;
}

static void
check_against_reference (const vyre_footprint_profile * p, uint64_t i,
    int must_be_ok)
{
  vyre_footprint_plan plan;
  vyre_error err;
  vyre_error_clear (&err);
  vyre_status st = vyre_footprint_plan_compute (p, &plan, &err);
  reference r = reference_plan (p);
  if (st != r.status || (must_be_ok && st != VYRE_OK)) {
    ring_test_failures++;
    fprintf (stderr, "sweep case %llu: planner says %s, reference %s: %s\n",
        (unsigned long long) i, vyre_status_name (st),
        vyre_status_name (r.status), err.message);
    return;
  }
  if (st != VYRE_OK) {
    CHECK (err.status == st && has (&err, "Fix: "));
    return;
  }
  uint64_t sum = 0, biggest = 0;
  for (int c = 0; c < VYRE_FOOTPRINT_COMPONENTS; c++) {
    CHECK (plan.bytes[c] == r.bytes[c]);
    sum += plan.bytes[c];
    if (plan.bytes[c] > biggest)
      biggest = plan.bytes[c];
  }
  CHECK (plan.total_bytes == r.total);
  CHECK (plan.total_bytes == sum);
  CHECK (plan.budget_bytes == p->budget_bytes);
  CHECK (plan.total_bytes + plan.headroom_bytes == p->budget_bytes);
  CHECK (plan.bytes[plan.largest] == biggest);
  for (int c = 0; c < (int) plan.largest; c++)
    CHECK (plan.bytes[c] < biggest);           /* first of the maxima */
  CHECK (plan.result_record_bytes == (VYRE_RESULT_HEADER_WORDS
          + VYRE_MATCH_WORDS * p->max_matches) * 4);
}

static void
check_drain (uint64_t jobs, uint64_t window)
{
  vyre_drain_plan d;
  vyre_error err;
  vyre_status st = vyre_drain_plan_compute (jobs, window, &d, &err);
  if (jobs == 0 || window == 0) {
    CHECK (st == VYRE_ERR_INVALID_ARGUMENT);
    return;
  }
  CHECK (st == VYRE_OK);
  CHECK (d.windows >= 1);
  CHECK (d.items_per_window >= 1 && d.items_per_window <= window
      && d.items_per_window <= jobs);
  CHECK ((u128) d.windows * d.items_per_window >= jobs);
  CHECK ((u128) (d.windows - 1) * d.items_per_window < jobs);
  CHECK (d.last_window_items >= 1 && d.last_window_items <= d.items_per_window);
  CHECK ((u128) (d.windows - 1) * d.items_per_window + d.last_window_items
      == jobs);
  CHECK (d.chunked == (d.windows > 1));
}

static void
test_sweep (void)
{
  uint64_t s = ring_test_seed () ^ 0xF00D;
  uint64_t n = ring_test_scaled (5000);
  int before = ring_test_failures;

  /* Valid profiles: sizes bounded so the total always fits. */
  for (uint64_t i = 0; i < n; i++) {
    vyre_footprint_profile p;
    vyre_footprint_profile_init (&p);
    p.ring_slots = 1 + pick (&s, 1u << 20);
    p.completion_entries = ring_test_rand (&s) % 4 ? p.ring_slots
        : 1 + pick (&s, 1u << 20);
    if (ring_test_rand (&s) % 3) {
      p.slots_in_flight = 1 + pick (&s, 4096);
      p.max_buffer_bytes = 1 + pick (&s, 64u << 20);
    } else {
      p.arena_bytes = 1 + pick (&s, 1ull << 40);
    }
    p.carry_windows = pick (&s, p.ring_slots);
    p.carry_window_bytes = pick (&s, 4096);
    p.result_records = 1 + pick (&s, 1u << 16);
    p.max_matches = VYRE_RESULT_LANES * pick (&s, 1024);
    p.pattern_table_bytes = pick (&s, 1u << 30);
    p.io_entries = pick (&s, 1u << 16);
    reference r = reference_plan (&p);
    p.budget_bytes = (uint64_t) r.total + pick (&s, 1ull << 32);
    check_against_reference (&p, i, 1);
    check_drain (p.ring_slots, 1 + pick (&s, p.ring_slots));
  }

  /* Wild profiles: any mix of zeros, huge values and overflows. */
  for (uint64_t i = 0; i < n; i++) {
    vyre_footprint_profile p;
    vyre_footprint_profile_init (&p);
    p.ring_slots = wild (&s);
    p.completion_entries = wild (&s);
    p.slots_in_flight = wild (&s);
    p.max_buffer_bytes = wild (&s);
    p.arena_bytes = ring_test_rand (&s) % 2 ? wild (&s) : 0;
    p.carry_windows = wild (&s);
    p.carry_window_bytes = wild (&s);
    p.result_records = wild (&s);
    p.max_matches = wild (&s);
    if (ring_test_rand (&s) % 4)
      p.max_matches &= ~(uint64_t) (VYRE_RESULT_LANES - 1);
    p.pattern_table_bytes = wild (&s);
    p.io_entries = wild (&s);
    if (ring_test_rand (&s) % 16 == 0)
      p.slot_bytes = wild (&s);
    p.budget_bytes = wild (&s);
    check_against_reference (&p, n + i, 0);
    check_drain (wild (&s), wild (&s));
  }
  fprintf (stderr, "sweep: %llu valid + %llu wild profiles, %s\n",
      (unsigned long long) n, (unsigned long long) n,
      ring_test_failures == before ? "ok" : "FAILED");
}

int
main (void)
{
  test_exact_bytes ();
  test_zero_errors ();
  test_over_budget ();
  test_u64_edges ();
  test_backpressure ();
  test_sweep ();
  return ring_test_finish ("test_footprint_planner");
}
