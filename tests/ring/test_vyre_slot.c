/*
 * test_vyre_slot.c - the slot / completion codec: round trips for every
 * opcode, every validation error, and a randomized hunt over malformed
 * words (random, and valid slots mutated towards edge values such as
 * ranges ending near UINT64_MAX).  The decoder must never crash, every
 * rejection must carry a Fix, and every acceptance must re-encode to the
 * same words.  An independent oracle (128-bit arithmetic, written from
 * the protocol text) decides what should be accepted.
 */
#include "ring_test_util.h"
#include "vyre_slot.h"

#include <stdbool.h>
#include <string.h>

static const uint32_t all_opcodes[] = {
  VYRE_OP_NOP, VYRE_OP_SCAN, VYRE_OP_CRC32, VYRE_OP_HISTOGRAM,
  VYRE_OP_BATCH_FENCE, VYRE_OP_SHUTDOWN,
};
#define N_OPCODES (sizeof all_opcodes / sizeof all_opcodes[0])

static const vyre_slot_limits base_limits = {
  .nslots = 64, .arena_bytes = 1u << 20, .result_count = 32, .max_carry = 63,
};

static bool
is_data (uint32_t op)
{
  return op == VYRE_OP_SCAN || op == VYRE_OP_CRC32 || op == VYRE_OP_HISTOGRAM;
}

static vyre_job
valid_job (uint32_t opcode)
{
  vyre_job j = {
    .opcode = opcode, .tenant = 3, .priority = 7,
    .seq = 0x123456789abcull, .data_offset = 4096, .data_len = 1000,
    .stream_offset = 0x100000000ull, .carry_len = 63, .ops = VYRE_OPS_ALL,
    .epoch = 5, .result_index = 31, .tag = 0xfeedu,
  };
  return j;
}

static bool
has_fix (const vyre_error * e)
{
  return strstr (e->message, "Fix:") != NULL;
}

/* Fields equal, all of them (encode keeps unused ones as given). */
static bool
job_eq (const vyre_job * a, const vyre_job * b)
{
  return a->opcode == b->opcode && a->tenant == b->tenant
      && a->priority == b->priority && a->seq == b->seq
      && a->data_offset == b->data_offset && a->data_len == b->data_len
      && a->stream_offset == b->stream_offset && a->carry_len == b->carry_len
      && a->carry_in_arena == b->carry_in_arena
      && a->ops == b->ops && a->epoch == b->epoch
      && a->result_index == b->result_index && a->tag == b->tag;
}

static void
test_round_trips (void)
{
  for (size_t k = 0; k < N_OPCODES; k++) {
    vyre_job j = valid_job (all_opcodes[k]);
    if (j.opcode == VYRE_OP_SHUTDOWN)
      j.tenant = 0;
    vyre_slot_words w;
    memset (&w, 0xAB, sizeof w);
    vyre_slot_encode (&j, &w);
    CHECK_EQ_U64 (w.w[VYRE_SLOT_STATUS], VYRE_STATUS_EMPTY);
    CHECK_EQ_U64 (w.w[VYRE_SLOT_OPCODE], j.opcode);
    CHECK_EQ_U64 (w.w[VYRE_SLOT_TENANT], j.tenant);
    CHECK_EQ_U64 (w.w[VYRE_SLOT_PRIORITY], 7);
    CHECK_EQ_U64 (w.w[VYRE_ARG_SEQ_LO], 0x56789abcu);
    CHECK_EQ_U64 (w.w[VYRE_ARG_SEQ_HI], 0x1234u);
    CHECK_EQ_U64 (w.w[VYRE_ARG_DATA_OFF_LO], 4096);
    CHECK_EQ_U64 (w.w[VYRE_ARG_DATA_OFF_HI], 0);
    CHECK_EQ_U64 (w.w[VYRE_ARG_DATA_LEN], 1000);
    CHECK_EQ_U64 (w.w[VYRE_ARG_STREAM_OFF_LO], 0);
    CHECK_EQ_U64 (w.w[VYRE_ARG_STREAM_OFF_HI], 1);
    CHECK_EQ_U64 (w.w[VYRE_ARG_CARRY_LEN], 63);
    CHECK_EQ_U64 (w.w[VYRE_ARG_OPS], VYRE_OPS_ALL);
    CHECK_EQ_U64 (w.w[VYRE_ARG_EPOCH], 5);
    CHECK_EQ_U64 (w.w[VYRE_ARG_RESULT_INDEX], 31);
    CHECK_EQ_U64 (w.w[VYRE_ARG_TAG], 0xfeedu);

    vyre_job back;
    uint32_t fault = 99;
    vyre_error err;
    vyre_error_clear (&err);
    CHECK (vyre_slot_decode (&w, &base_limits, &back, &fault, &err) == VYRE_OK);
    CHECK_EQ_U64 (fault, VYRE_FAULT_NONE);
    CHECK (job_eq (&j, &back));
    vyre_slot_words again;
    vyre_slot_encode (&back, &again);
    CHECK (memcmp (&w, &again, sizeof w) == 0);
  }

  /* A fence uses the DATA_LEN word for FENCE_JOBS. */
  vyre_job f = valid_job (VYRE_OP_BATCH_FENCE);
  f.data_len = 12345;
  vyre_slot_words w;
  vyre_slot_encode (&f, &w);
  CHECK_EQ_U64 (w.w[VYRE_ARG_FENCE_JOBS], 12345);

  /* Completions. */
  vyre_completion c = {
    .seq = 0xfedcba9876543210ull, .status = VYRE_STATUS_FAULT,
    .fault_code = VYRE_FAULT_BAD_RANGE, .opcode = VYRE_OP_CRC32,
    .matches = 1, .matches_stored = 2, .crc32 = 0xdeadbeef, .epoch = 9,
    .workgroup = 4, .launch = 5, .tag = 6,
  };
  vyre_completion_words cw;
  vyre_completion_encode (&c, &cw);
  CHECK_EQ_U64 (cw.w[VYRE_COMP_SEQ_LO], 0x76543210u);
  CHECK_EQ_U64 (cw.w[VYRE_COMP_SEQ_HI], 0xfedcba98u);
  CHECK_EQ_U64 (cw.w[VYRE_COMP_CRC32], 0xdeadbeefu);
  vyre_completion d;
  vyre_error err;
  CHECK (vyre_completion_decode (&cw, &d, &err) == VYRE_OK);
  CHECK (d.seq == c.seq && d.status == c.status && d.fault_code == c.fault_code
      && d.opcode == c.opcode && d.matches == 1 && d.matches_stored == 2
      && d.crc32 == c.crc32 && d.epoch == 9 && d.workgroup == 4
      && d.launch == 5 && d.tag == 6);
  c.status = VYRE_STATUS_DONE;
  c.fault_code = VYRE_FAULT_NONE;
  vyre_completion_encode (&c, &cw);
  CHECK (vyre_completion_decode (&cw, &d, &err) == VYRE_OK);
}

/* Decode j and expect a rejection with fault code `code` whose message
 * contains `needle` (the offending value) and a Fix. */
static void
expect_reject (const vyre_job * j, const vyre_slot_limits * lim,
    uint32_t code, const char *needle, int line)
{
  vyre_slot_words w;
  vyre_slot_encode (j, &w);
  vyre_job out;
  uint32_t fault = 0;
  vyre_error err;
  vyre_error_clear (&err);
  vyre_status st = vyre_slot_decode (&w, lim, &out, &fault, &err);
  if (st != VYRE_ERR_MALFORMED || fault != code || !has_fix (&err)
      || strstr (err.message, needle) == NULL || err.status != st
      || out.seq != j->seq || out.tag != j->tag) {
    fprintf (stderr, "line %d: status %s fault %u (want %u), message: %s\n",
        line, vyre_status_name (st), fault, code, err.message);
    ring_test_failures++;
  }
}

#define REJECT(j, code, needle) \
  expect_reject (&(j), &base_limits, (code), (needle), __LINE__)

static void
test_validation_errors (void)
{
  vyre_job j;

  j = valid_job (VYRE_OP_SCAN);
  j.opcode = VYRE_OP_COUNT;
  REJECT (j, VYRE_FAULT_BAD_OPCODE, "opcode 5");
  j.opcode = 0xFFFFFFFEu;
  REJECT (j, VYRE_FAULT_BAD_OPCODE, "opcode 4294967294");

  j = valid_job (VYRE_OP_NOP);
  j.tenant = VYRE_MAX_TENANTS;
  REJECT (j, VYRE_FAULT_BAD_TENANT, "tenant 128");
  j.tenant = UINT32_MAX;
  REJECT (j, VYRE_FAULT_BAD_TENANT, "tenant 4294967295");

  /* Ranges: end one past the arena; offset past the arena; offset near
   * UINT64_MAX so a naive offset + len wraps to a small number. */
  j = valid_job (VYRE_OP_CRC32);
  j.data_offset = base_limits.arena_bytes - j.data_len + 1;
  REJECT (j, VYRE_FAULT_BAD_RANGE, "1047577");
  j.data_offset = base_limits.arena_bytes - j.data_len;
  {
    vyre_slot_words w;
    vyre_job out;
    vyre_slot_encode (&j, &w);
    CHECK (vyre_slot_decode (&w, &base_limits, &out, NULL, NULL) == VYRE_OK);
  }
  j.data_offset = UINT64_MAX - 10;
  j.data_len = 100;
  REJECT (j, VYRE_FAULT_BAD_RANGE, "18446744073709551605");
  j.data_offset = 0;
  j.data_len = UINT32_MAX;
  REJECT (j, VYRE_FAULT_BAD_RANGE, "4294967295");

  j = valid_job (VYRE_OP_HISTOGRAM);
  j.carry_len = base_limits.max_carry + 1;
  REJECT (j, VYRE_FAULT_BAD_RANGE, "carry_len 64");
  j.carry_len = 10;
  j.stream_offset = 9;
  REJECT (j, VYRE_FAULT_BAD_RANGE, "stream_offset 9");
  j.stream_offset = 10;
  {
    vyre_slot_words w;
    vyre_job out;
    vyre_slot_encode (&j, &w);
    CHECK (vyre_slot_decode (&w, &base_limits, &out, NULL, NULL) == VYRE_OK);
  }

  /* Carry bytes taken from the arena right before the data: they must
   * lie inside it. */
  j = valid_job (VYRE_OP_SCAN);
  j.carry_in_arena = true;
  j.carry_len = 10;
  j.stream_offset = 100;
  j.data_offset = 9;
  REJECT (j, VYRE_FAULT_BAD_RANGE, "data_offset 9");
  j.data_offset = 10;
  {
    vyre_slot_words w;
    vyre_job out;
    vyre_slot_encode (&j, &w);
    CHECK (w.w[VYRE_ARG_CARRY_LEN] == (10u | VYRE_CARRY_IN_ARENA));
    CHECK (vyre_slot_decode (&w, &base_limits, &out, NULL, NULL) == VYRE_OK);
    CHECK (out.carry_in_arena && out.carry_len == 10);
  }
  j.carry_len = base_limits.max_carry + 1;
  j.data_offset = 1000;
  REJECT (j, VYRE_FAULT_BAD_RANGE, "carry_len 64");

  j = valid_job (VYRE_OP_SCAN);
  j.result_index = base_limits.result_count;
  REJECT (j, VYRE_FAULT_BAD_RESULT, "result_index 32");

  j = valid_job (VYRE_OP_SCAN);
  j.ops = VYRE_OPS_VALID | 16u;
  REJECT (j, VYRE_FAULT_BAD_OPCODE, "0x1f");

  /* A re-scan piece (NO_EPOCH) is a valid data job. */
  j = valid_job (VYRE_OP_SCAN);
  j.ops = VYRE_OPS_SCAN | VYRE_OPS_NO_EPOCH;
  {
    vyre_slot_words w;
    vyre_slot_encode (&j, &w);
    vyre_job out;
    uint32_t fault = 0;
    vyre_error err;
    vyre_error_clear (&err);
    CHECK (vyre_slot_decode (&w, &base_limits, &out, &fault, &err) ==
        VYRE_OK && out.ops == (VYRE_OPS_SCAN | VYRE_OPS_NO_EPOCH));
  }

  j = valid_job (VYRE_OP_SCAN);
  j.epoch = 0;
  REJECT (j, VYRE_FAULT_BAD_EPOCH, "epoch 0");
  j = valid_job (VYRE_OP_BATCH_FENCE);
  j.epoch = 0;
  REJECT (j, VYRE_FAULT_BAD_EPOCH, "epoch 0");

  /* Ops that carry no data ignore the data fields entirely. */
  j = valid_job (VYRE_OP_NOP);
  j.data_offset = UINT64_MAX;
  j.data_len = UINT32_MAX;
  j.carry_len = UINT32_MAX;
  j.result_index = UINT32_MAX;
  j.ops = UINT32_MAX;
  j.epoch = 0;
  {
    vyre_slot_words w;
    vyre_job out;
    vyre_slot_encode (&j, &w);
    CHECK (vyre_slot_decode (&w, &base_limits, &out, NULL, NULL) == VYRE_OK);
    j.opcode = VYRE_OP_SHUTDOWN;
    vyre_slot_encode (&j, &w);
    CHECK (vyre_slot_decode (&w, &base_limits, &out, NULL, NULL) == VYRE_OK);
    j.opcode = VYRE_OP_BATCH_FENCE;
    j.epoch = 1;
    vyre_slot_encode (&j, &w);
    CHECK (vyre_slot_decode (&w, &base_limits, &out, NULL, NULL) == VYRE_OK);
  }

  /* NULL arguments are errors, not crashes. */
  {
    vyre_slot_words w;
    vyre_job out;
    vyre_error err;
    j = valid_job (VYRE_OP_SCAN);
    vyre_slot_encode (&j, &w);
    CHECK (vyre_slot_decode (NULL, &base_limits, &out, NULL, &err)
        == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err));
    CHECK (vyre_slot_decode (&w, NULL, &out, NULL, &err)
        == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err));
    CHECK (vyre_slot_decode (&w, &base_limits, NULL, NULL, &err)
        == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err));
    CHECK (vyre_completion_decode (NULL, NULL, &err)
        == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err));
    vyre_slot_encode (NULL, &w);
    vyre_slot_encode (&j, NULL);
    vyre_completion_encode (NULL, NULL);
  }

  /* Completion validation. */
  vyre_completion c = { .seq = 77, .status = VYRE_STATUS_DONE };
  vyre_completion_words cw;
  vyre_completion d;
  vyre_error err;
  const uint32_t bad_status[] = { VYRE_STATUS_EMPTY, VYRE_STATUS_PUBLISHED,
    VYRE_STATUS_CLAIMED, VYRE_STATUS_WAIT_IO, VYRE_STATUS_YIELD,
    VYRE_STATUS_REQUEUE, 8, UINT32_MAX };
  for (size_t k = 0; k < sizeof bad_status / sizeof bad_status[0]; k++) {
    c.status = bad_status[k];
    vyre_completion_encode (&c, &cw);
    CHECK (vyre_completion_decode (&cw, &d, &err) == VYRE_ERR_MALFORMED);
    CHECK (has_fix (&err));
  }
  c.status = VYRE_STATUS_FAULT;
  c.fault_code = VYRE_FAULT_CODE_COUNT;
  vyre_completion_encode (&c, &cw);
  CHECK (vyre_completion_decode (&cw, &d, &err) == VYRE_ERR_MALFORMED);
  {
    char want[32];
    snprintf (want, sizeof want, "fault code %u", VYRE_FAULT_CODE_COUNT);
    CHECK (has_fix (&err) && strstr (err.message, want) != NULL);
  }
  c.fault_code = VYRE_FAULT_NONE;
  vyre_completion_encode (&c, &cw);
  CHECK (vyre_completion_decode (&cw, &d, &err) == VYRE_ERR_MALFORMED);
  CHECK (has_fix (&err));
  c.status = VYRE_STATUS_DONE;
  c.fault_code = VYRE_FAULT_IO_ERROR;
  vyre_completion_encode (&c, &cw);
  CHECK (vyre_completion_decode (&cw, &d, &err) == VYRE_ERR_MALFORMED);
  CHECK (has_fix (&err) && strstr (err.message, "io-error") != NULL);
}

static void
test_names (void)
{
  for (uint32_t f = 0; f <= VYRE_FAULT_CODE_COUNT; f++) {
    const char *name = vyre_fault_name (f);
    const char *fix = vyre_fault_fix (f);
    CHECK (name != NULL && fix != NULL && strncmp (fix, "Fix:", 4) == 0);
    if (f < VYRE_FAULT_CODE_COUNT)
      CHECK (strcmp (name, "unknown-fault") != 0);
    for (uint32_t g = 0; g < f && f < VYRE_FAULT_CODE_COUNT; g++)
      CHECK (strcmp (name, vyre_fault_name (g)) != 0);
  }
  CHECK (strcmp (vyre_fault_name (UINT32_MAX), "unknown-fault") == 0);
  CHECK (strcmp (vyre_fault_name (VYRE_FAULT_BAD_RANGE), "bad-range") == 0);
  for (uint32_t s = 0; s <= VYRE_STATUS_FAULT; s++)
    CHECK (vyre_status_word_is_known (s));
  CHECK (!vyre_status_word_is_known (VYRE_STATUS_FAULT + 1));
  CHECK (!vyre_status_word_is_known (UINT32_MAX));
}

/* ---- randomized ---- */

/* What the protocol says about a slot, computed independently. */
static uint32_t
oracle_fault (const uint32_t * w, const vyre_slot_limits * lim)
{
  uint32_t op = w[VYRE_SLOT_OPCODE];
  if (op >= VYRE_OP_COUNT && op != VYRE_OP_SHUTDOWN)
    return VYRE_FAULT_BAD_OPCODE;
  if (w[VYRE_SLOT_TENANT] >= VYRE_MAX_TENANTS)
    return VYRE_FAULT_BAD_TENANT;
  if (is_data (op)) {
    unsigned __int128 off = (unsigned __int128) w[VYRE_ARG_DATA_OFF_LO]
        | ((unsigned __int128) w[VYRE_ARG_DATA_OFF_HI] << 32);
    unsigned __int128 stream = (unsigned __int128) w[VYRE_ARG_STREAM_OFF_LO]
        | ((unsigned __int128) w[VYRE_ARG_STREAM_OFF_HI] << 32);
    if (off + w[VYRE_ARG_DATA_LEN] > lim->arena_bytes)
      return VYRE_FAULT_BAD_RANGE;
    uint32_t carry = w[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_LEN_MASK;
    if (carry > lim->max_carry || carry > stream)
      return VYRE_FAULT_BAD_RANGE;
    if ((w[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_IN_ARENA) && carry > off)
      return VYRE_FAULT_BAD_RANGE;
    if (w[VYRE_ARG_RESULT_INDEX] >= lim->result_count)
      return VYRE_FAULT_BAD_RESULT;
    if (w[VYRE_ARG_OPS] & ~VYRE_OPS_VALID)
      return VYRE_FAULT_BAD_OPCODE;
  }
  if ((is_data (op) || op == VYRE_OP_BATCH_FENCE) && w[VYRE_ARG_EPOCH] == 0)
    return VYRE_FAULT_BAD_EPOCH;
  return VYRE_FAULT_NONE;
}

static uint32_t
edge_value (uint64_t * rng, const vyre_slot_limits * lim)
{
  const uint32_t edges[] = { 0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 63, 64, 255,
    0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu,
    (uint32_t) lim->arena_bytes, (uint32_t) (lim->arena_bytes >> 32),
    (uint32_t) lim->arena_bytes - 1, (uint32_t) lim->arena_bytes + 1,
    lim->result_count, lim->result_count - 1, lim->max_carry,
    lim->max_carry + 1 };
  uint64_t r = ring_test_rand (rng);
  if (r % 4 == 0)
    return (uint32_t) (r >> 32);
  return edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
}

static void
test_random_slots (void)
{
  const vyre_slot_limits limit_sets[] = {
    base_limits,
    { .nslots = 1, .arena_bytes = UINT64_MAX, .result_count = UINT32_MAX,
      .max_carry = UINT32_MAX },
    { .nslots = 8, .arena_bytes = 0, .result_count = 0, .max_carry = 0 },
    { .nslots = 8, .arena_bytes = 0x100000000ull, .result_count = 1,
      .max_carry = 4096 },
    { .nslots = 8, .arena_bytes = UINT64_MAX - 5, .result_count = 4,
      .max_carry = 15 },
  };
  const size_t nsets = sizeof limit_sets / sizeof limit_sets[0];
  uint64_t rng = ring_test_seed ();
  uint64_t n = ring_test_scaled (1200000);
  uint64_t accepted = 0, rejected = 0, mismatches = 0, bad_messages = 0;
  uint64_t by_fault[VYRE_FAULT_CODE_COUNT] = { 0 };

  for (uint64_t i = 0; i < n; i++) {
    const vyre_slot_limits *lim = &limit_sets[i % nsets];
    vyre_slot_words w;
    uint64_t mode = ring_test_rand (&rng) % 4;
    if (mode == 0) {
      /* Pure noise, with a plausible opcode half the time. */
      for (uint32_t k = 0; k < VYRE_SLOT_WORDS; k++)
        w.w[k] = (uint32_t) ring_test_rand (&rng);
      if (ring_test_rand (&rng) & 1)
        w.w[VYRE_SLOT_OPCODE] %= VYRE_OP_COUNT + 1;
    } else {
      /* A valid slot with 1..4 words pushed to edge values or bit-flipped. */
      vyre_job j = valid_job (all_opcodes[ring_test_rand (&rng) % N_OPCODES]);
      j.data_offset = ring_test_rand (&rng) % 4096;
      j.data_len = (uint32_t) (ring_test_rand (&rng) % 4096);
      j.result_index = 0;
      j.carry_len = 0;
      j.seq = ring_test_rand (&rng);
      vyre_slot_encode (&j, &w);
      uint32_t edits = 1 + (uint32_t) (ring_test_rand (&rng) % 4);
      for (uint32_t e = 0; e < edits; e++) {
        uint32_t k = (uint32_t) (ring_test_rand (&rng) % VYRE_SLOT_WORDS);
        if (mode == 1)
          w.w[k] ^= 1u << (ring_test_rand (&rng) % 32);
        else
          w.w[k] = edge_value (&rng, lim);
      }
      if (mode == 3) {
        /* Ranges ending right at, or just past, the top of 64 bits. */
        uint64_t off = UINT64_MAX - (ring_test_rand (&rng) % 8192);
        w.w[VYRE_ARG_DATA_OFF_LO] = (uint32_t) off;
        w.w[VYRE_ARG_DATA_OFF_HI] = (uint32_t) (off >> 32);
      }
    }
    w.w[VYRE_SLOT_STATUS] = (uint32_t) ring_test_rand (&rng) % 10;

    vyre_job out;
    uint32_t fault = 1234;
    vyre_error err;
    vyre_error_clear (&err);
    vyre_status st = vyre_slot_decode (&w, lim, &out, &fault, &err);
    uint32_t want = oracle_fault (w.w, lim);
    if (want != fault || (st == VYRE_OK) != (want == VYRE_FAULT_NONE)) {
      if (mismatches++ < 5)
        fprintf (stderr, "  decode: status %s fault %u, oracle %u: %s\n",
            vyre_status_name (st), fault, want, err.message);
      continue;
    }
    /* Re-encoding what was decoded gives the same words, accepted or not
     * (the decoder hands back the raw fields either way). */
    vyre_slot_words again;
    vyre_slot_encode (&out, &again);
    again.w[VYRE_SLOT_STATUS] = w.w[VYRE_SLOT_STATUS];
    if (memcmp (&again, &w, sizeof w) != 0)
      mismatches++;
    if (st == VYRE_OK) {
      accepted++;
    } else {
      rejected++;
      by_fault[fault]++;
      if (st != VYRE_ERR_MALFORMED || !has_fix (&err)
          || strlen (err.message) >= VYRE_ERROR_MESSAGE_BYTES - 1) {
        if (bad_messages++ < 5)
          fprintf (stderr, "  bad rejection message: %s\n", err.message);
      }
    }
  }
  fprintf (stderr, "random slots: %llu decoded, %llu accepted, %llu rejected"
      " (opcode %llu tenant %llu range %llu result %llu epoch %llu)\n",
      (unsigned long long) n, (unsigned long long) accepted,
      (unsigned long long) rejected,
      (unsigned long long) by_fault[VYRE_FAULT_BAD_OPCODE],
      (unsigned long long) by_fault[VYRE_FAULT_BAD_TENANT],
      (unsigned long long) by_fault[VYRE_FAULT_BAD_RANGE],
      (unsigned long long) by_fault[VYRE_FAULT_BAD_RESULT],
      (unsigned long long) by_fault[VYRE_FAULT_BAD_EPOCH]);
  CHECK_EQ_U64 (mismatches, 0);
  CHECK_EQ_U64 (bad_messages, 0);
  /* The generator has to reach every branch, or it proves little. */
  CHECK (accepted > n / 20);
  for (uint32_t f = VYRE_FAULT_BAD_OPCODE; f <= VYRE_FAULT_BAD_EPOCH; f++)
    if (f != VYRE_FAULT_TENANT_DENIED)
      CHECK (by_fault[f] > 0);
}

static void
test_random_completions (void)
{
  uint64_t rng = ring_test_seed () ^ 0x5555;
  uint64_t n = ring_test_scaled (200000);
  uint64_t ok = 0, mismatches = 0;
  for (uint64_t i = 0; i < n; i++) {
    vyre_completion_words w;
    for (uint32_t k = 0; k < VYRE_COMPLETION_WORDS; k++)
      w.w[k] = (uint32_t) ring_test_rand (&rng);
    uint64_t r = ring_test_rand (&rng);
    if (r & 1)
      w.w[VYRE_COMP_STATUS] = (r & 2) ? VYRE_STATUS_DONE : VYRE_STATUS_FAULT;
    if (r & 4)
      w.w[VYRE_COMP_FAULT_CODE] = (uint32_t) ((r >> 8) % (VYRE_FAULT_CODE_COUNT + 2));
    vyre_completion c;
    vyre_error err;
    vyre_status st = vyre_completion_decode (&w, &c, &err);
    uint32_t s = w.w[VYRE_COMP_STATUS], f = w.w[VYRE_COMP_FAULT_CODE];
    bool valid = (s == VYRE_STATUS_DONE && f == VYRE_FAULT_NONE)
        || (s == VYRE_STATUS_FAULT && f != VYRE_FAULT_NONE
        && f < VYRE_FAULT_CODE_COUNT);
    if (valid != (st == VYRE_OK) || (!valid && (st != VYRE_ERR_MALFORMED
                || !has_fix (&err))))
      mismatches++;
    if (st == VYRE_OK) {
      ok++;
      vyre_completion_words again;
      vyre_completion_encode (&c, &again);
      /* Every word survives but the check word, which encode computes. */
      for (uint32_t k = 0; k < VYRE_COMPLETION_WORDS; k++)
        if (k != VYRE_COMP_CHECK && again.w[k] != w.w[k])
          mismatches++;
      if (again.w[VYRE_COMP_CHECK] != vyre_completion_words_check (&again))
        mismatches++;
    }
  }
  CHECK_EQ_U64 (mismatches, 0);
  CHECK (ok > 0);
}

int
main (void)
{
  double t0 = ring_test_now ();
  test_round_trips ();
  test_validation_errors ();
  test_names ();
  test_random_slots ();
  test_random_completions ();
  fprintf (stderr, "test_vyre_slot: %.2f s\n", ring_test_now () - t0);
  return ring_test_finish ("test_vyre_slot");
}
