/*
 * test_host_ring.c - the host ring against the reference consumer:
 * publish / poll / recycle, backpressure and recovery, double recycle,
 * NOT_READY before completion (also when the entry still holds the slot's
 * previous job), FAULT completions with their Fix, the epoch window,
 * priorities and fence ranking, budgets, sequence numbers past 2^32 and
 * past 2^64, tenant records (validation, no change under outstanding
 * jobs, per-tenant memory and epochs, tenant 0's default), chunk tables
 * (entries filled after registration, a job inside one arena chunk with
 * its in-arena carry, the result record in its result chunk, what
 * set_tenant_chunk and set_tenant refuse), and the whole ring in a
 * MAP_SHARED mapping with the consumer in a forked child process.
 */
#include "host_ring.h"
#include "reference_consumer.h"
#include "ring_test_util.h"
#include "vyre_slot.h"

#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_LIMIT_S 40.0
#define ARENA_BYTES 65536u
#define RESULT_COUNT 16u
#define MAX_MATCHES VYRE_RESULT_LANES
#define MAX_CARRY 63u
#define RECORD_WORDS (VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * MAX_MATCHES)
#define LOG_MAX 256
#define TAG_IO_FAIL 0xBAD0BADu

#define TABLES_WORDS 16u
/* Tenants the fixture gives a record: 0 and 3 may run everything, each
 * with its own memory; 1 may run NOP only; the others have none. */
#define TENANT_B 3u
#define TENANT_NOP 1u

/* A tenant whose arena and result records are chunk tables (see
 * test_tenant_chunks): 4 arena chunks of CHUNK_BYTES, 3 result chunks of
 * CHUNK_RECORDS records. */
#define TENANT_CHUNKED 5u
#define CHUNK_BYTES 4096u
#define ARENA_CHUNKS 4u
#define CHUNK_RECORDS 4u
#define RESULT_CHUNKS 3u

/* One tenant's memory (the reference consumer reads it through the host
 * pointers in the tenant's record). */
typedef struct {
  uint32_t *tables;
  uint8_t *arena;
  uint32_t *results;
  uint8_t *carry;
} tenant_mem;

/* One ring, all regions in a single MAP_SHARED block so a forked child
 * can be the consumer. */
typedef struct {
  void *block;
  size_t block_bytes;
  uint8_t *arena;         /* tenant 0's */
  uint32_t *results;
  tenant_mem tmem[2];     /* tenant 0, TENANT_B */
  /* What the execute callback saw last: the job's offset (relative to
   * its chunk), the chunk and the result record it was given. */
  uint64_t seen_offset;
  const uint8_t *seen_arena;
  uint64_t seen_arena_bytes;
  const uint32_t *seen_record;
  vyre_ring_memory mem;
  vyre_ring_config cfg;
  vyre_host_ring *ring;
  vyre_reference_consumer cons;
  uint32_t log[LOG_MAX];  /* tags in execution order (this process) */
  uint32_t log_n;
} fixture;

static bool
has (const vyre_error * e, const char *needle)
{
  return strstr (e->message, needle) != NULL;
}

static uint32_t
arena_sum (const uint8_t * arena, uint64_t off, uint32_t len)
{
  uint32_t h = 2166136261u;
  for (uint64_t i = off; i < off + len; i++)
    h = (h ^ arena[i]) * 16777619u;
  return h;
}

static void
exec_sum (void *user, const vyre_job * job, const vyre_reference_tenant * ten,
    vyre_completion * out, uint32_t * record)
{
  fixture *f = user;
  f->seen_offset = job->data_offset;
  f->seen_arena = ten->arena;
  f->seen_arena_bytes = ten->arena_bytes;
  f->seen_record = record;
  /* Never read past the memory the consumer handed over (a consumer that
   * passed an arena-wide offset with a chunk shows as a wrong sum). */
  if (job->data_len > ten->arena_bytes
      || job->data_offset > ten->arena_bytes - job->data_len)
    out->crc32 = 0;
  else
    out->crc32 = arena_sum (ten->arena, job->data_offset, job->data_len);
  out->matches = job->data_len;
  out->matches_stored = job->opcode;
  record[0] = job->tag;
  if (f->log_n < LOG_MAX)
    f->log[f->log_n++] = job->tag;
  if (job->tag == TAG_IO_FAIL)
    out->fault_code = VYRE_FAULT_IO_ERROR;
}

/* Tenant t's record for the fixture's memory m: one arena chunk of
 * ARENA_BYTES and one result chunk of all RESULT_COUNT records, both
 * filled at registration. */
static vyre_tenant_config
tenant_config (const tenant_mem * m)
{
  vyre_tenant_config tc = {
    .ops_mask = VYRE_TENANT_ALL_OPS,
    .tables = (uintptr_t) m->tables,
    .arena_chunk_bytes = ARENA_BYTES, .arena_chunks = 1,
    .result_chunk_records = RESULT_COUNT, .result_chunks = 1,
    .result_count = RESULT_COUNT, .max_matches = MAX_MATCHES,
    .carry = (uintptr_t) m->carry, .max_carry = MAX_CARRY,
  };
  tc.arena_chunk[0] = (uintptr_t) m->arena;
  tc.result_chunk[0] = (uintptr_t) m->results;
  return tc;
}

/* The fixture's tenant records (after every init_control). */
static bool
fixture_tenants (fixture * f)
{
  vyre_error err;
  vyre_tenant_config t0 = tenant_config (&f->tmem[0]);
  vyre_tenant_config tb = tenant_config (&f->tmem[1]);
  vyre_tenant_config nop = { .ops_mask = 1u << VYRE_OP_NOP };
  if (vyre_host_ring_set_tenant (f->ring, 0, &t0, &err) != VYRE_OK
      || vyre_host_ring_set_tenant (f->ring, TENANT_B, &tb, &err) != VYRE_OK
      || vyre_host_ring_set_tenant (f->ring, TENANT_NOP, &nop, &err)
      != VYRE_OK) {
    fprintf (stderr, "set_tenant: %s\n", err.message);
    return false;
  }
  return true;
}

static bool
fixture_init (fixture * f, uint32_t nslots, uint64_t first_seq, bool wc)
{
  memset (f, 0, sizeof *f);
  size_t slots_b = (size_t) nslots * VYRE_SLOT_BYTES;
  size_t ctrl_b = VYRE_CONTROL_WORDS * 4;
  size_t comp_b = (size_t) nslots * VYRE_COMPLETION_WORDS * 4;
  size_t tables_b = TABLES_WORDS * 4;
  size_t res_b = (size_t) RESULT_COUNT * RECORD_WORDS * 4;
  size_t carry_b = (size_t) RESULT_COUNT * MAX_CARRY;
  size_t tenant_b = tables_b + res_b + ARENA_BYTES + carry_b;
  f->block_bytes = slots_b + ctrl_b + comp_b + 2 * tenant_b;
  f->block = mmap (NULL, f->block_bytes, PROT_READ | PROT_WRITE,
      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (f->block == MAP_FAILED)
    return false;
  uint8_t *p = f->block;
  /* Garbage everywhere: init_control must not rely on zeroed memory. */
  memset (p, 0x5A, f->block_bytes);
  f->mem.slots = (uint32_t *) p;
  f->mem.control = (uint32_t *) (p + slots_b);
  f->mem.completions = (uint32_t *) (p + slots_b + ctrl_b);
  for (int k = 0; k < 2; k++) {
    uint8_t *q = p + slots_b + ctrl_b + comp_b + k * tenant_b;
    f->tmem[k].tables = (uint32_t *) q;
    f->tmem[k].results = (uint32_t *) (q + tables_b);
    f->tmem[k].arena = q + tables_b + res_b;
    f->tmem[k].carry = q + tables_b + res_b + ARENA_BYTES;
    /* Different bytes per tenant: a job that read the wrong arena has
     * the wrong sum. */
    for (uint32_t i = 0; i < ARENA_BYTES; i++)
      f->tmem[k].arena[i] = (uint8_t) (i * (7 + 6 * k) + (i >> 8));
  }
  f->arena = f->tmem[0].arena;
  f->results = f->tmem[0].results;
  f->mem.nslots = nslots;
  f->mem.write_combining = wc;

  vyre_error err;
  if (vyre_host_ring_new (&f->mem, first_seq, &f->ring, &err) != VYRE_OK) {
    fprintf (stderr, "ring_new: %s\n", err.message);
    return false;
  }
  vyre_ring_config_init (&f->cfg);
  f->cfg.launch_id = 7;
  if (vyre_host_ring_init_control (f->ring, &f->cfg, &err) != VYRE_OK) {
    fprintf (stderr, "init_control: %s\n", err.message);
    return false;
  }
  if (!fixture_tenants (f))
    return false;
  vyre_reference_consumer_config cc = {
    .mem = f->mem, .workgroup = 2, .launch = 7, .execute = exec_sum,
    .user = f,
  };
  if (vyre_reference_consumer_init (&f->cons, &cc, &err) != VYRE_OK) {
    fprintf (stderr, "consumer_init: %s\n", err.message);
    return false;
  }
  return true;
}

static void
fixture_fini (fixture * f)
{
  vyre_host_ring_free (f->ring);
  if (f->block != NULL && f->block != MAP_FAILED)
    munmap (f->block, f->block_bytes);
}

static uint32_t
ctrl (fixture * f, uint32_t word)
{
  return vyre_host_ring_read_control (f->ring, word);
}

/* Control word index of word i of tenant t's record. */
static uint32_t
tword (uint32_t t, uint32_t i)
{
  return VYRE_CTRL_TENANTS + t * VYRE_TENANT_WORDS + i;
}

/* The 64-bit value at words lo_word, lo_word + 1 of tenant t's record. */
static uint64_t
tenant_u64 (fixture * f, uint32_t t, uint32_t lo_word)
{
  return (uint64_t) ctrl (f, tword (t, lo_word))
      | (uint64_t) ctrl (f, tword (t, lo_word + 1)) << 32;
}

/* Tenant t's completed-job counter for epoch e. */
static uint32_t
epoch_jobs (fixture * f, uint32_t t, uint32_t e)
{
  return ctrl (f, tword (t, VYRE_TENANT_EPOCH_JOBS + e % VYRE_EPOCH_WINDOW));
}

static vyre_job
data_job (uint32_t opcode, uint32_t epoch, uint32_t tag)
{
  vyre_job j = {
    .opcode = opcode, .tenant = 0, .priority = 0,
    .data_offset = (uint64_t) tag * 13 % 4096, .data_len = 100 + tag % 50,
    .stream_offset = 1000, .carry_len = 10, .ops = VYRE_OPS_ALL,
    .epoch = epoch, .result_index = tag % RESULT_COUNT, .tag = tag,
  };
  return j;
}

static vyre_job
fence_job (uint32_t epoch, uint32_t jobs, uint32_t tag)
{
  vyre_job j = { .opcode = VYRE_OP_BATCH_FENCE, .epoch = epoch,
    .data_len = jobs, .tag = tag };
  return j;
}

static vyre_job
tenant_fence (uint32_t tenant, uint32_t epoch, uint32_t jobs, uint32_t tag)
{
  vyre_job j = fence_job (epoch, jobs, tag);
  j.tenant = tenant;
  return j;
}

/* Overwrite one word of a finished completion entry as a consumer that
 * wrote it so would: with the check word agreeing. */
static void
rewrite_completion_word (fixture * f, uint32_t slot, uint32_t index,
    uint32_t value)
{
  vyre_completion_words w;
  uint32_t *ce = &f->mem.completions[slot * VYRE_COMPLETION_WORDS];
  memcpy (w.w, ce, sizeof w.w);
  w.w[index] = value;
  w.w[VYRE_COMP_CHECK] = vyre_completion_words_check (&w);
  memcpy (ce, w.w, sizeof w.w);
}

/* Step the consumer until it is idle; returns the jobs it did. */
static int
drain (fixture * f)
{
  int did = 0;
  while (vyre_reference_consumer_step (&f->cons) == VYRE_CONSUMER_DID_JOB)
    did++;
  return did;
}

static vyre_ticket
publish_ok (fixture * f, vyre_job j, int line)
{
  vyre_ticket t = { 0, 0 };
  vyre_error err;
  vyre_status st = vyre_host_ring_publish (f->ring, &j, &t, &err);
  if (st != VYRE_OK) {
    fprintf (stderr, "line %d: publish: %s: %s\n", line,
        vyre_status_name (st), err.message);
    ring_test_failures++;
  }
  return t;
}

#define PUBLISH(f, j) publish_ok ((f), (j), __LINE__)

/* Poll a ticket that should be complete, then recycle it. */
static vyre_status
reap (fixture * f, vyre_ticket t, vyre_completion * c, vyre_error * err)
{
  vyre_status st = vyre_host_ring_poll (f->ring, t, c, err);
  vyre_error rerr;
  if (st != VYRE_ERR_NOT_READY)
    CHECK (vyre_host_ring_recycle (f->ring, t, &rerr) == VYRE_OK);
  return st;
}

static void
test_publish_poll_recycle (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  vyre_error err;
  vyre_completion c;

  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_PROTOCOL_VERSION), VYRE_PROTOCOL_VERSION);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_NSLOTS), 8);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_ARENA_CHUNK_BYTES_LO)),
      ARENA_BYTES);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_ARENA_CHUNK_BYTES_HI)), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_ARENA_CHUNKS)), 1);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_RESULT_CHUNK_RECORDS)),
      RESULT_COUNT);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_RESULT_CHUNKS)), 1);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_RESERVED_9)), 0);
  CHECK_EQ_U64 (tenant_u64 (&f, 0, VYRE_TENANT_ARENA_CHUNK_TABLE),
      (uintptr_t) f.arena);
  CHECK_EQ_U64 (tenant_u64 (&f, 0, VYRE_TENANT_RESULT_CHUNK_TABLE),
      (uintptr_t) f.results);
  for (uint32_t i = 1; i < VYRE_TENANT_CHUNKS_MAX; i++) {
    CHECK_EQ_U64 (tenant_u64 (&f, 0, VYRE_TENANT_ARENA_CHUNK_TABLE + 2 * i),
        0);
    CHECK_EQ_U64 (tenant_u64 (&f, 0, VYRE_TENANT_RESULT_CHUNK_TABLE + 2 * i),
        0);
  }
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_RESULT_COUNT)), RESULT_COUNT);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_MAX_MATCHES)), MAX_MATCHES);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_MAX_CARRY)), MAX_CARRY);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_EPOCH)), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_OPS_MASK)),
      VYRE_TENANT_ALL_OPS);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_NOP, VYRE_TENANT_OPS_MASK)), 1);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_NOP, VYRE_TENANT_ARENA_CHUNKS)), 0);
  CHECK_EQ_U64 (tenant_u64 (&f, TENANT_NOP, VYRE_TENANT_ARENA_CHUNK_TABLE),
      0);
  CHECK_EQ_U64 (ctrl (&f, tword (2, VYRE_TENANT_OPS_MASK)), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (VYRE_MAX_TENANTS - 1,
              VYRE_TENANT_EPOCH_JOBS + VYRE_EPOCH_WINDOW - 1)), 0);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_STARTED), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_ACTIVE), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CONTROL_WORDS), 0);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);

  vyre_job j = data_job (VYRE_OP_SCAN, 1, 42);
  vyre_ticket t = PUBLISH (&f, j);
  CHECK_EQ_U64 (t.seq, 1);    /* first_seq 0 is never issued */
  CHECK_EQ_U64 (vyre_host_ring_outstanding (f.ring), 1);
  CHECK (ctrl (&f, VYRE_CTRL_PUBLISH_HINT) != 0);
  CHECK_EQ_U64 (f.mem.slots[t.slot * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS],
      VYRE_STATUS_PUBLISHED);
  /* Not complete: poll says so, recycle refuses. */
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK (has (&err, "Fix:"));
  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "Fix:") && has (&err, "poll"));

  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_DID_JOB);
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (c.seq, t.seq);
  CHECK_EQ_U64 (c.status, VYRE_STATUS_DONE);
  CHECK_EQ_U64 (c.opcode, VYRE_OP_SCAN);
  CHECK_EQ_U64 (c.epoch, 1);
  CHECK_EQ_U64 (c.tag, 42);
  CHECK_EQ_U64 (c.workgroup, 2);
  CHECK_EQ_U64 (c.launch, 7);
  CHECK_EQ_U64 (c.matches, j.data_len);
  CHECK_EQ_U64 (c.crc32, arena_sum (f.arena, j.data_offset, j.data_len));
  CHECK_EQ_U64 (f.results[(42 % RESULT_COUNT) * RECORD_WORDS], 42);
  /* Polling again is harmless. */
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (f.mem.slots[t.slot * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS],
      VYRE_STATUS_DONE);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_DONE_COUNT), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_OPCODE_COUNTERS + VYRE_OP_SCAN), 1);
  CHECK_EQ_U64 (epoch_jobs (&f, 0, 1), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_HEARTBEAT), 0);  /* workgroup 2 */

  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_host_ring_outstanding (f.ring), 0);
  /* Double recycle, poll after recycle, foreign tickets: refused. */
  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "Fix:") && has (&err, "exactly once"));
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "Fix:"));
  vyre_ticket bogus = { 99, 1 };
  CHECK (vyre_host_ring_poll (f.ring, bogus, &c, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:"));
  CHECK (vyre_host_ring_recycle (f.ring, bogus, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  bogus.slot = 0;
  bogus.seq = 0;
  CHECK (vyre_host_ring_recycle (f.ring, bogus, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_outstanding (f.ring) == 0);

  /* A double recycle of a reused slot must not free the new job. */
  vyre_ticket tickets[8];
  for (int i = 0; i < 8; i++)
    tickets[i] = PUBLISH (&f, data_job (VYRE_OP_CRC32, 1, 100 + i));
  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64 (vyre_host_ring_outstanding (f.ring), 8);
  CHECK_EQ_U64 (drain (&f), 8);
  for (int i = 0; i < 8; i++) {
    CHECK (reap (&f, tickets[i], &c, &err) == VYRE_OK);
    CHECK_EQ_U64 (c.tag, 100 + i);
  }

  /* NOT_READY while the entry still holds the slot's previous job. */
  t = PUBLISH (&f, data_job (VYRE_OP_HISTOGRAM, 1, 7));
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (epoch_jobs (&f, 0, 1), 10);
  fixture_fini (&f);
}

static void
test_backpressure (void)
{
  fixture f;
  CHECK (fixture_init (&f, 4, 0, false));
  vyre_error err;
  vyre_completion c;
  vyre_ticket t[4];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 4; i++)
      t[i] = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, (uint32_t) i));
    vyre_job j = data_job (VYRE_OP_SCAN, 1, 9);
    vyre_ticket extra;
    CHECK (vyre_host_ring_publish (f.ring, &j, &extra, &err)
        == VYRE_ERR_QUEUE_FULL);
    CHECK (has (&err, "Fix:") && has (&err, "recycle"));
    CHECK_EQ_U64 (vyre_host_ring_outstanding (f.ring), 4);
    /* Completing is not enough; recycling frees the slot. */
    CHECK_EQ_U64 (drain (&f), 4);
    CHECK (vyre_host_ring_publish (f.ring, &j, &extra, &err)
        == VYRE_ERR_QUEUE_FULL);
    CHECK (reap (&f, t[2], &c, &err) == VYRE_OK);
    CHECK (vyre_host_ring_publish (f.ring, &j, &extra, &err) == VYRE_OK);
    CHECK_EQ_U64 (extra.slot, t[2].slot);
    CHECK_EQ_U64 (drain (&f), 1);
    CHECK (reap (&f, extra, &c, &err) == VYRE_OK && c.tag == 9);
    CHECK (reap (&f, t[0], &c, &err) == VYRE_OK);
    CHECK (reap (&f, t[1], &c, &err) == VYRE_OK);
    CHECK (reap (&f, t[3], &c, &err) == VYRE_OK);
    CHECK_EQ_U64 (vyre_host_ring_outstanding (f.ring), 0);
  }
  fixture_fini (&f);
}

static void
expect_fault (fixture * f, vyre_job j, uint32_t code, int line)
{
  vyre_ticket t = publish_ok (f, j, line);
  vyre_completion c;
  vyre_error err;
  vyre_error_clear (&err);
  uint32_t faults = ctrl (f, VYRE_CTRL_FAULTS);
  drain (f);
  vyre_status st = reap (f, t, &c, &err);
  if (st != VYRE_ERR_FAULT || c.status != VYRE_STATUS_FAULT
      || c.fault_code != code || c.seq != t.seq || c.tag != j.tag
      || !has (&err, "Fix:") || !has (&err, vyre_fault_name (code))
      || ctrl (f, VYRE_CTRL_FAULTS) != faults + 1
      || ctrl (f, VYRE_CTRL_LAST_FAULT_CODE) != code
      || ctrl (f, VYRE_CTRL_LAST_FAULT_SLOT) != t.slot
      || ctrl (f, VYRE_CTRL_LAST_FAULT_OPCODE) != j.opcode
      || ctrl (f, VYRE_CTRL_LAST_FAULT_TENANT) != j.tenant) {
    fprintf (stderr, "line %d: %s fault %u (want %u): %s\n", line,
        vyre_status_name (st), c.fault_code, code, err.message);
    ring_test_failures++;
  }
}

#define EXPECT_FAULT(f, j, code) expect_fault ((f), (j), (code), __LINE__)

static void
test_faults (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  vyre_job j;

  /* Tenant ids out of range: the host publishes them (it keeps no
   * epochs for them), the consumer refuses them, also with a bad opcode
   * (the tenant is checked first). */
  j = data_job (VYRE_OP_SCAN, 1, 1);
  j.tenant = VYRE_MAX_TENANTS;
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_TENANT);
  j.tenant = UINT32_MAX;
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_TENANT);
  vyre_job bad_both = { .opcode = 77, .tenant = VYRE_MAX_TENANTS, .tag = 9 };
  EXPECT_FAULT (&f, bad_both, VYRE_FAULT_BAD_TENANT);
  CHECK_EQ_U64 (vyre_host_ring_tenant_outstanding (f.ring, VYRE_MAX_TENANTS),
      0);
  j.tenant = 2;                        /* no record */
  EXPECT_FAULT (&f, j, VYRE_FAULT_TENANT_DENIED);
  /* A record without memory denies a data job even with its bit set
   * (the host refuses to write such a record: written by hand here). */
  f.mem.control[tword (2, VYRE_TENANT_OPS_MASK)] = 1u << VYRE_OP_SCAN;
  EXPECT_FAULT (&f, j, VYRE_FAULT_TENANT_DENIED);
  f.mem.control[tword (2, VYRE_TENANT_OPS_MASK)] = 0;
  j.tenant = 1;                        /* NOP only */
  EXPECT_FAULT (&f, j, VYRE_FAULT_TENANT_DENIED);
  vyre_job fj = fence_job (1, 0, 0xF0);
  fj.tenant = 1;
  EXPECT_FAULT (&f, fj, VYRE_FAULT_TENANT_DENIED);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, 1), 0);
  j = (vyre_job) { .opcode = VYRE_OP_NOP, .tenant = 1, .tag = 5 };
  vyre_ticket t = PUBLISH (&f, j);
  drain (&f);
  vyre_completion c;
  vyre_error err;
  CHECK (reap (&f, t, &c, &err) == VYRE_OK && c.opcode == VYRE_OP_NOP);
  j = (vyre_job) { .opcode = VYRE_OP_SHUTDOWN, .tenant = 3, .tag = 6 };
  EXPECT_FAULT (&f, j, VYRE_FAULT_TENANT_DENIED);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_SHUTDOWN), 0);
  j = (vyre_job) { .opcode = 77, .tag = 8 };
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_OPCODE);

  j = data_job (VYRE_OP_CRC32, 1, 2);
  j.data_offset = ARENA_BYTES - 10;
  j.data_len = 11;
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_RANGE);
  j.data_offset = UINT64_MAX - 5;
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_RANGE);
  j = data_job (VYRE_OP_CRC32, 1, 3);
  j.carry_len = MAX_CARRY + 1;
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_RANGE);
  j = data_job (VYRE_OP_HISTOGRAM, 1, 4);
  j.result_index = RESULT_COUNT;
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_RESULT);
  j = data_job (VYRE_OP_HISTOGRAM, 1, TAG_IO_FAIL);
  EXPECT_FAULT (&f, j, VYRE_FAULT_IO_ERROR);

  /* Faulted data jobs of tenant 0 still count for its epoch (the host
   * counted them in FENCE_JOBS): 3 good + the 5 faulted data jobs of
   * tenant 0 above -> fence of 8.  Tenants 1 and 2's denied data jobs
   * count for their own epoch 1; an id out of range has no counters. */
  CHECK_EQ_U64 (epoch_jobs (&f, 1, 1), 1);
  CHECK_EQ_U64 (epoch_jobs (&f, 2, 1), 2);
  vyre_ticket jobs[3];
  for (int i = 0; i < 3; i++)
    jobs[i] = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, 20 + (uint32_t) i));
  t = PUBLISH (&f, fence_job (1, 8, 0xF1));
  drain (&f);
  for (int i = 0; i < 3; i++)
    CHECK (reap (&f, jobs[i], &c, &err) == VYRE_OK);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (c.epoch, 1);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_EPOCH)), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_FENCES_DONE), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_LAST_FENCE_TAG), 0xF1);
  CHECK_EQ_U64 (epoch_jobs (&f, 0, 1), 0);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, 0), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_FAULTS), 14);

  /* A torn entry (a word still an earlier job's, the check word not
   * agreeing) is not ready yet; once the word lands it is DONE. */
  t = PUBLISH (&f, data_job (VYRE_OP_SCAN, 2, 29));
  drain (&f);
  uint32_t *ce = &f.mem.completions[t.slot * VYRE_COMPLETION_WORDS];
  uint32_t landed = ce[VYRE_COMP_TAG];
  uint64_t torn_before = vyre_host_ring_torn_reads (f.ring);
  ce[VYRE_COMP_TAG] = landed ^ 0x40u;
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK_EQ_U64 (vyre_host_ring_torn_reads (f.ring) - torn_before, 2);
  ce[VYRE_COMP_TAG] = landed;
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (c.tag, landed);
  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_OK);

  /* A garbage completion entry (whole: its check word agrees) is MALFORMED
   * with a Fix, and the slot can still be recycled (the consumer is done
   * with it: SEQ matched). */
  t = PUBLISH (&f, data_job (VYRE_OP_SCAN, 2, 30));
  drain (&f);
  rewrite_completion_word (&f, t.slot, VYRE_COMP_STATUS, 12345);
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_MALFORMED);
  CHECK (has (&err, "Fix:"));
  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_OK);
  /* A consumer that reports another opcode than was published. */
  t = PUBLISH (&f, data_job (VYRE_OP_SCAN, 2, 31));
  drain (&f);
  rewrite_completion_word (&f, t.slot, VYRE_COMP_OPCODE, VYRE_OP_CRC32);
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_MALFORMED);
  CHECK (has (&err, "Fix:"));
  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_OK);

  /* Protocol version mismatch. */
  f.mem.control[VYRE_CTRL_PROTOCOL_VERSION] = VYRE_PROTOCOL_VERSION + 1;
  EXPECT_FAULT (&f, data_job (VYRE_OP_SCAN, 2, 32), VYRE_FAULT_BAD_VERSION);
  f.mem.control[VYRE_CTRL_PROTOCOL_VERSION] = VYRE_PROTOCOL_VERSION;
  fixture_fini (&f);
}

/* Slots written by hand (no host ring checks in the way): the consumer's
 * own epoch rules. */
static void
test_consumer_epoch_rules (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  uint32_t *ctl = f.mem.control;
  struct {
    vyre_job job;
    uint32_t epoch_now;
    uint32_t counter;
    uint32_t fault;
  } cases[] = {
    { data_job (VYRE_OP_SCAN, 0, 1), 0, 0, VYRE_FAULT_BAD_EPOCH },
    { data_job (VYRE_OP_SCAN, 5, 2), 5, 0, VYRE_FAULT_BAD_EPOCH }, /* closed */
    { data_job (VYRE_OP_SCAN, 5 + 64, 3), 5, 0, VYRE_FAULT_BAD_EPOCH },
    { data_job (VYRE_OP_SCAN, 5 + 63, 4), 5, 0, VYRE_FAULT_NONE },
    { fence_job (5, 0, 5), 5, 0, VYRE_FAULT_BAD_EPOCH },   /* closed */
    { fence_job (70, 0, 6), 5, 0, VYRE_FAULT_BAD_EPOCH },  /* past window */
    { fence_job (6, 2, 7), 5, 3, VYRE_FAULT_BAD_EPOCH },   /* too many jobs */
    { fence_job (6, 3, 8), 5, 3, VYRE_FAULT_NONE },
    { fence_job (UINT32_MAX, 0, 9), UINT32_MAX - 1, 0, VYRE_FAULT_NONE },
    { fence_job (UINT32_MAX - 70, 0, 10), UINT32_MAX, 0, VYRE_FAULT_BAD_EPOCH },
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    vyre_job j = cases[k].job;
    j.seq = 1000 + k;
    j.tenant = TENANT_B;
    ctl[tword (TENANT_B, VYRE_TENANT_EPOCH)] = cases[k].epoch_now;
    ctl[tword (TENANT_B, VYRE_TENANT_EPOCH_JOBS
            + j.epoch % VYRE_EPOCH_WINDOW)] = cases[k].counter;
    vyre_slot_words w;
    vyre_slot_encode (&j, &w);
    w.w[VYRE_SLOT_STATUS] = VYRE_STATUS_PUBLISHED;
    memcpy (f.mem.slots, &w, sizeof w);
    int r = vyre_reference_consumer_step (&f.cons);
    vyre_completion_words cw;
    memcpy (&cw, f.mem.completions, sizeof cw);
    vyre_completion c;
    vyre_error err;
    CHECK (vyre_completion_decode (&cw, &c, &err) == VYRE_OK);
    if (r != VYRE_CONSUMER_DID_JOB || c.seq != j.seq
        || c.fault_code != cases[k].fault) {
      fprintf (stderr, "epoch case %zu: step %d, seq %llu, fault %u (want "
          "%u)\n", k, r, (unsigned long long) c.seq, c.fault_code,
          cases[k].fault);
      ring_test_failures++;
    }
    if (j.opcode == VYRE_OP_BATCH_FENCE && cases[k].fault == VYRE_FAULT_NONE) {
      CHECK_EQ_U64 (ctl[tword (TENANT_B, VYRE_TENANT_EPOCH)], j.epoch);
      CHECK_EQ_U64 (ctl[tword (TENANT_B, VYRE_TENANT_EPOCH_JOBS
                  + j.epoch % VYRE_EPOCH_WINDOW)], 0);
      CHECK_EQ_U64 (c.epoch, j.epoch);
    }
  }
  /* Nothing published: idle, and an unready fence is handed back. */
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  ctl[tword (TENANT_B, VYRE_TENANT_EPOCH)] = 5;
  ctl[tword (TENANT_B, VYRE_TENANT_EPOCH_JOBS + 6)] = 1;
  vyre_job j = fence_job (6, 2, 11);
  j.seq = 2000;
  j.tenant = TENANT_B;
  vyre_slot_words w;
  vyre_slot_encode (&j, &w);
  w.w[VYRE_SLOT_STATUS] = VYRE_STATUS_PUBLISHED;
  memcpy (f.mem.slots + VYRE_SLOT_WORDS, &w, sizeof w);
  uint32_t requeues = ctl[VYRE_CTRL_REQUEUES];
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  CHECK_EQ_U64 (ctl[VYRE_CTRL_REQUEUES], requeues + 1);
  CHECK_EQ_U64 (f.mem.slots[VYRE_SLOT_WORDS + VYRE_SLOT_STATUS],
      VYRE_STATUS_PUBLISHED);
  ctl[tword (TENANT_B, VYRE_TENANT_EPOCH_JOBS + 6)] = 2;
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_DID_JOB);
  CHECK_EQ_U64 (ctl[tword (TENANT_B, VYRE_TENANT_EPOCH)], 6);
  CHECK_EQ_U64 (f.mem.slots[VYRE_SLOT_WORDS + VYRE_SLOT_STATUS],
      VYRE_STATUS_DONE);
  /* Tenant B's epochs are its own. */
  CHECK_EQ_U64 (ctl[tword (0, VYRE_TENANT_EPOCH)], 0);
  fixture_fini (&f);
}

static void
test_epoch_window (void)
{
  fixture f;
  CHECK (fixture_init (&f, 128, 0, false));
  vyre_error err;
  vyre_completion c;
  vyre_ticket t;
  vyre_job j = data_job (VYRE_OP_SCAN, 0, 1);
  CHECK (vyre_host_ring_publish (f.ring, &j, &t, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:"));
  j.epoch = VYRE_EPOCH_WINDOW;            /* 64 ahead of closed epoch 0 */
  CHECK (vyre_host_ring_publish (f.ring, &j, &t, &err) == VYRE_ERR_QUEUE_FULL);
  CHECK (has (&err, "Fix:") && has (&err, "epoch 64"));
  vyre_job fence = fence_job (VYRE_EPOCH_WINDOW, 0, 1);
  CHECK (vyre_host_ring_publish (f.ring, &fence, &t, &err)
      == VYRE_ERR_QUEUE_FULL);
  j.epoch = VYRE_EPOCH_WINDOW - 1;        /* 63: the last open one */
  vyre_ticket last = PUBLISH (&f, j);
  CHECK_EQ_U64 (vyre_host_ring_outstanding (f.ring), 1);

  /* Close epochs 1..3 with empty fences (published out of order: the
   * consumer still closes them in order). */
  vyre_ticket fences[3];
  for (int k = 2; k >= 0; k--)
    fences[k] = PUBLISH (&f, fence_job ((uint32_t) k + 1, 0, 0xF0 + (uint32_t) k));
  drain (&f);
  for (int k = 0; k < 3; k++) {
    CHECK (reap (&f, fences[k], &c, &err) == VYRE_OK);
    CHECK_EQ_U64 (c.epoch, (uint32_t) k + 1);
  }
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, 0), 3);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_LAST_FENCE_TAG), 0xF2);
  /* Now 64 .. 66 fit, 67 does not; 3 is closed. */
  j.epoch = 66;
  t = PUBLISH (&f, j);
  j.epoch = 67;
  vyre_ticket t2;
  CHECK (vyre_host_ring_publish (f.ring, &j, &t2, &err) == VYRE_ERR_QUEUE_FULL);
  j.epoch = 3;
  CHECK (vyre_host_ring_publish (f.ring, &j, &t2, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "not open"));
  fence = fence_job (2, 0, 0);
  CHECK (vyre_host_ring_publish (f.ring, &fence, &t2, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  /* NOP and SHUTDOWN do not belong to epochs. */
  vyre_job nop = { .opcode = VYRE_OP_NOP, .epoch = 1000 };
  t2 = PUBLISH (&f, nop);
  drain (&f);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK (reap (&f, last, &c, &err) == VYRE_OK);
  CHECK (reap (&f, t2, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (epoch_jobs (&f, 0, 66), 1);
  CHECK_EQ_U64 (epoch_jobs (&f, 0, 63), 1);
  fixture_fini (&f);
}

static void
test_priorities (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  vyre_error err;
  vyre_completion c;
  /* Slots 0..3 (the free list is FIFO) with priorities 1, 5, 3, 5: the
   * scan from slot 0 takes slot 1 (first 5), then from 2 takes slot 3,
   * then from 0 takes slot 2 (3), then slot 0. */
  const uint32_t prio[4] = { 1, 5, 3, 5 };
  vyre_ticket t[4];
  for (uint32_t i = 0; i < 4; i++) {
    vyre_job j = data_job (VYRE_OP_SCAN, 1, i);
    j.priority = prio[i];
    t[i] = PUBLISH (&f, j);
    CHECK_EQ_U64 (t[i].slot, i);
  }
  f.log_n = 0;
  CHECK_EQ_U64 (drain (&f), 4);
  CHECK_EQ_U64 (f.log_n, 4);
  CHECK (f.log[0] == 1 && f.log[1] == 3 && f.log[2] == 2 && f.log[3] == 0);
  for (int i = 0; i < 4; i++)
    CHECK (reap (&f, t[i], &c, &err) == VYRE_OK);

  /* An unready fence ranks below data jobs whatever its priority, so the
   * jobs it waits for run first and it is never re-queued here.  Epoch 1
   * has 4 completed jobs; the fence waits for 6. */
  uint32_t requeues = ctrl (&f, VYRE_CTRL_REQUEUES);
  vyre_job fj = fence_job (1, 6, 0xFE);
  fj.priority = 1000;
  vyre_ticket ft = PUBLISH (&f, fj);
  vyre_ticket a = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, 50));
  vyre_ticket b = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, 51));
  f.log_n = 0;
  CHECK_EQ_U64 (drain (&f), 3);
  CHECK (f.log_n == 2 && f.log[0] == 50 && f.log[1] == 51);
  CHECK (reap (&f, a, &c, &err) == VYRE_OK);
  CHECK (reap (&f, b, &c, &err) == VYRE_OK);
  CHECK (reap (&f, ft, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (c.epoch, 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_REQUEUES), requeues);

  /* Alone and unready, a fence is re-queued and the round is idle. */
  fj = fence_job (2, 2, 0xFF);
  fj.priority = 1000;
  ft = PUBLISH (&f, fj);
  a = PUBLISH (&f, data_job (VYRE_OP_SCAN, 2, 52));
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_DID_JOB);
  CHECK_EQ_U64 (f.log[f.log_n - 1], 52);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_REQUEUES), requeues + 1);
  CHECK_EQ_U64 (f.mem.slots[ft.slot * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS],
      VYRE_STATUS_PUBLISHED);
  CHECK (vyre_host_ring_poll (f.ring, ft, &c, &err) == VYRE_ERR_NOT_READY);
  b = PUBLISH (&f, data_job (VYRE_OP_SCAN, 2, 53));
  CHECK_EQ_U64 (drain (&f), 2);
  CHECK (reap (&f, a, &c, &err) == VYRE_OK);
  CHECK (reap (&f, b, &c, &err) == VYRE_OK);
  CHECK (reap (&f, ft, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (c.epoch, 2);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, 0), 2);
  fixture_fini (&f);
}

static void
test_budgets_and_shutdown (void)
{
  fixture f;
  CHECK (fixture_init (&f, 4, 0, false));
  vyre_error err;
  vyre_completion c;
  f.cfg.poll_budget = 3;
  CHECK (vyre_host_ring_init_control (f.ring, &f.cfg, &err) == VYRE_OK);
  CHECK (fixture_tenants (&f));
  vyre_reference_consumer_config cc = f.cons.cfg;
  cc.workgroup = 0;
  CHECK (vyre_reference_consumer_init (&f.cons, &cc, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  vyre_ticket t = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, 1));
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_DID_JOB);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_RETIRED);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_RETIRED);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_RETIRED), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_EXITED), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_ACTIVE), 0);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_HEARTBEAT), 5);

  f.cfg.poll_budget = 0;
  f.cfg.iter_budget = 2;
  CHECK (vyre_host_ring_init_control (f.ring, &f.cfg, &err) == VYRE_OK);
  CHECK (vyre_reference_consumer_init (&f.cons, &cc, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_IDLE);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_RETIRED);

  /* init_control refuses while jobs are out, and empties the tenant
   * records but tenant 0's default. */
  f.cfg.iter_budget = 0;
  CHECK (vyre_host_ring_init_control (f.ring, &f.cfg, &err) == VYRE_OK);
  CHECK (fixture_tenants (&f));
  CHECK (vyre_reference_consumer_init (&f.cons, &cc, &err) == VYRE_OK);
  t = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, 1));
  CHECK (vyre_host_ring_init_control (f.ring, &f.cfg, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:"));
  drain (&f);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK (vyre_host_ring_init_control (f.ring, &f.cfg, &err) == VYRE_OK);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_OPS_MASK)),
      (1u << VYRE_OP_NOP) | (1u << VYRE_OP_BATCH_FENCE));
  CHECK_EQ_U64 (tenant_u64 (&f, 0, VYRE_TENANT_ARENA_CHUNK_TABLE), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_ARENA_CHUNKS)), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_OPS_MASK)), 0);
  CHECK_EQ_U64 (tenant_u64 (&f, TENANT_B, VYRE_TENANT_RESULT_CHUNK_TABLE),
      0);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_RESULT_CHUNKS)), 0);

  /* SHUTDOWN from tenant 0: the job completes, then consumers stop. */
  CHECK (vyre_reference_consumer_init (&f.cons, &cc, &err) == VYRE_OK);
  vyre_job sd = { .opcode = VYRE_OP_SHUTDOWN, .tenant = 0, .tag = 3 };
  t = PUBLISH (&f, sd);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_DID_JOB);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK && c.opcode == VYRE_OP_SHUTDOWN);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_SHUTDOWN), 1);
  CHECK_EQ_U64 (vyre_reference_consumer_step (&f.cons), VYRE_CONSUMER_SHUTDOWN);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_ACTIVE), 0);

  /* request_shutdown: later publishes are refused. */
  vyre_host_ring_request_shutdown (f.ring);
  vyre_job j = data_job (VYRE_OP_SCAN, 1, 1);
  CHECK (vyre_host_ring_publish (f.ring, &j, &t, &err) == VYRE_ERR_SHUTDOWN);
  CHECK (has (&err, "Fix:"));
  fixture_fini (&f);
}

static void
test_arguments (void)
{
  vyre_error err;
  vyre_host_ring *ring = NULL;
  uint32_t words[VYRE_CONTROL_WORDS];
  vyre_ring_memory m = { words, words, words, 0, false };
  CHECK (vyre_host_ring_new (&m, 0, &ring, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "Fix:") && ring == NULL);
  m.nslots = VYRE_HOST_RING_MAX_SLOTS + 1;
  CHECK (vyre_host_ring_new (&m, 0, &ring, &err) == VYRE_ERR_INVALID_ARGUMENT);
  m.nslots = 1;
  m.completions = NULL;
  CHECK (vyre_host_ring_new (&m, 0, &ring, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "completions"));
  m.completions = (uint32_t *) ((char *) words + 2);
  CHECK (vyre_host_ring_new (&m, 0, &ring, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_new (NULL, 0, &ring, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_new (&m, 0, NULL, &err) == VYRE_ERR_INVALID_ARGUMENT);
  vyre_job j = { 0 };
  vyre_ticket t;
  CHECK (vyre_host_ring_publish (NULL, &j, &t, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  vyre_completion c;
  CHECK (vyre_host_ring_poll (NULL, t, &c, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_recycle (NULL, t, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_init_control (NULL, NULL, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64 (vyre_host_ring_read_control (NULL, 0), 0);
  CHECK_EQ_U64 (vyre_host_ring_outstanding (NULL), 0);
  vyre_host_ring_request_shutdown (NULL);
  vyre_host_ring_free (NULL);
  vyre_reference_consumer cons;
  vyre_reference_consumer_config cc;
  memset (&cc, 0, sizeof cc);
  CHECK (vyre_reference_consumer_init (&cons, &cc, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:"));
  CHECK (vyre_reference_consumer_init (NULL, &cc, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64 (vyre_reference_consumer_step (NULL), VYRE_CONSUMER_SHUTDOWN);
}

/* Sequence numbers cross 2^32 (low word 0 is skipped) and 2^64. */
static void
test_high_sequences (void)
{
  const uint64_t starts[] = { (1ull << 32) - 3, UINT64_MAX - 2 };
  for (size_t k = 0; k < 2; k++) {
    fixture f;
    CHECK (fixture_init (&f, 4, starts[k], false));
    vyre_error err;
    vyre_completion c;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < 40; i++) {
      vyre_ticket t = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, i));
      CHECK ((uint32_t) t.seq != 0);
      if (i == 0)
        CHECK_EQ_U64 (t.seq, starts[k]);
      else
        CHECK (t.seq == prev + 1 || (t.seq == prev + 2
                && (uint32_t) (prev + 1) == 0));
      prev = t.seq;
      CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_ERR_NOT_READY);
      CHECK_EQ_U64 (drain (&f), 1);
      CHECK (reap (&f, t, &c, &err) == VYRE_OK);
      CHECK_EQ_U64 (c.seq, t.seq);
      CHECK_EQ_U64 (c.tag, i);
    }
    CHECK (prev > starts[k] + 10 || prev < 100);
    fixture_fini (&f);
  }
}

/* vyre_host_ring_set_tenant: what it refuses, and that a record changes
 * only once the tenant's last job was recycled. */
static void
test_set_tenant (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  vyre_error err;
  vyre_completion c;
  const vyre_tenant_config good = tenant_config (&f.tmem[1]);
  vyre_tenant_config tc;

  CHECK (vyre_host_ring_set_tenant (NULL, 5, &good, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:"));
  CHECK (vyre_host_ring_set_tenant (f.ring, VYRE_MAX_TENANTS, &good, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:")
      && has (&err, "128"));
  tc = good;
  tc.ops_mask = 1u << VYRE_OP_COUNT;
  CHECK (vyre_host_ring_set_tenant (f.ring, 5, &tc, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:")
      && has (&err, "unknown"));
  /* A tenant that may run data jobs needs its tables and carry windows
   * (its arena and result chunks may all be 0 yet: see
   * test_tenant_chunks; the chunk geometry: test_chunk_geometry). */
  const struct {
    size_t field;
    const char *name;
  } missing[] = {
    { offsetof (vyre_tenant_config, tables), "tables" },
    { offsetof (vyre_tenant_config, carry), "carry" },
  };
  for (size_t k = 0; k < sizeof missing / sizeof missing[0]; k++) {
    for (uint32_t op = VYRE_OP_SCAN; op <= VYRE_OP_HISTOGRAM; op++) {
      tc = good;
      tc.ops_mask = 1u << op;
      memset ((char *) &tc + missing[k].field, 0, sizeof (uint64_t));
      vyre_error_clear (&err);
      if (vyre_host_ring_set_tenant (f.ring, 5, &tc, &err)
          != VYRE_ERR_INVALID_ARGUMENT || !has (&err, "Fix:")
          || !has (&err, missing[k].name)) {
        fprintf (stderr, "set_tenant without %s (op %u): %s\n",
            missing[k].name, op, err.message);
        ring_test_failures++;
      }
    }
  }
  tc = good;
  tc.carry = 0;
  tc.max_carry = 0;            /* no carry windows: none needed */
  CHECK (vyre_host_ring_set_tenant (f.ring, 5, &tc, &err) == VYRE_OK);
  tc = good;
  tc.result_count = 0;
  CHECK (vyre_host_ring_set_tenant (f.ring, 5, &tc, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:"));
  tc = good;
  tc.max_matches = VYRE_RESULT_LANES + 1;
  CHECK (vyre_host_ring_set_tenant (f.ring, 5, &tc, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:"));
  /* Control opcodes need no memory. */
  tc = (vyre_tenant_config) { .ops_mask = (1u << VYRE_OP_NOP)
      | (1u << VYRE_OP_BATCH_FENCE) };
  CHECK (vyre_host_ring_set_tenant (f.ring, 6, &tc, &err) == VYRE_OK);
  /* A refused record leaves the one before it in place. */
  CHECK_EQ_U64 (ctrl (&f, tword (5, VYRE_TENANT_MAX_CARRY)), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (5, VYRE_TENANT_OPS_MASK)),
      VYRE_TENANT_ALL_OPS);

  /* Not while a job of the tenant is outstanding: published, completed,
   * polled, and still refused until recycled.  Other tenants' records
   * may change meanwhile. */
  vyre_job j = data_job (VYRE_OP_SCAN, 1, 40);
  j.tenant = TENANT_B;
  vyre_ticket t = PUBLISH (&f, j);
  CHECK_EQ_U64 (vyre_host_ring_tenant_outstanding (f.ring, TENANT_B), 1);
  CHECK_EQ_U64 (vyre_host_ring_tenant_outstanding (f.ring, 0), 0);
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_B, &good, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:")
      && has (&err, "outstanding"));
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_B, NULL, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_set_tenant (f.ring, 5, NULL, &err) == VYRE_OK);
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (vyre_host_ring_poll (f.ring, t, &c, &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_B, &good, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_host_ring_tenant_outstanding (f.ring, TENANT_B), 0);

  /* Close an epoch, then rewrite the record: the tenant's epochs start
   * afresh (last closed 0, the next fence closes 1 again). */
  t = PUBLISH (&f, tenant_fence (TENANT_B, 1, 1, 0xB1));
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, TENANT_B), 1);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_EPOCH)), 1);
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_B, &good, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, TENANT_B), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_EPOCH)), 0);
  t = PUBLISH (&f, tenant_fence (TENANT_B, 1, 0, 0xB2));
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK && c.epoch == 1);

  /* NULL empties the record: the tenant's jobs are then denied. */
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_B, NULL, &err) == VYRE_OK);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_OPS_MASK)), 0);
  CHECK_EQ_U64 (tenant_u64 (&f, TENANT_B, VYRE_TENANT_ARENA_CHUNK_TABLE),
      0);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_ARENA_CHUNK_BYTES_LO)),
      0);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_MAX_MATCHES)), 0);
  j = data_job (VYRE_OP_CRC32, 1, 41);
  j.tenant = TENANT_B;
  EXPECT_FAULT (&f, j, VYRE_FAULT_TENANT_DENIED);
  fixture_fini (&f);
}

/* Two tenants with their own memory and epochs: both start at 1, close
 * independently, and one's open epochs never hold back the other. */
static void
test_two_tenants (void)
{
  fixture f;
  CHECK (fixture_init (&f, 128, 0, false));
  vyre_error err;
  vyre_completion c;
  const uint32_t tenants[2] = { 0, TENANT_B };

  /* Epoch 1 of each: two data jobs with the same offsets and result
   * index, each in its own tenant's memory. */
  vyre_ticket jobs[2][2];
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 2; i++) {
      vyre_job j = data_job (VYRE_OP_SCAN, 1, 60 + (uint32_t) i);
      j.tenant = tenants[k];
      j.tag += 100 * (uint32_t) k;
      j.result_index = (uint32_t) i;
      jobs[k][i] = PUBLISH (&f, j);
    }
  /* Tenant B's fence of epoch 1 waits for a third job it has not got yet;
   * tenant 0's closes meanwhile. */
  vyre_ticket fb = PUBLISH (&f, tenant_fence (TENANT_B, 1, 3, 0xB1));
  vyre_ticket f0 = PUBLISH (&f, fence_job (1, 2, 0xA1));
  drain (&f);
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 2; i++) {
      CHECK (reap (&f, jobs[k][i], &c, &err) == VYRE_OK);
      vyre_job j = data_job (VYRE_OP_SCAN, 1, 60 + (uint32_t) i);
      CHECK_EQ_U64 (c.crc32, arena_sum (f.tmem[k].arena, j.data_offset,
              j.data_len));
      CHECK_EQ_U64 (f.tmem[k].results[(size_t) i * RECORD_WORDS],
          60 + (uint32_t) i + 100 * (uint32_t) k);
    }
  CHECK (arena_sum (f.tmem[0].arena, 0, 100)
      != arena_sum (f.tmem[1].arena, 0, 100));
  CHECK (reap (&f, f0, &c, &err) == VYRE_OK && c.epoch == 1);
  CHECK (vyre_host_ring_poll (f.ring, fb, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, 0), 1);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, TENANT_B), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_EPOCH)), 1);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_B, VYRE_TENANT_EPOCH)), 0);
  CHECK_EQ_U64 (epoch_jobs (&f, TENANT_B, 1), 2);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_FENCES_DONE), 1);
  CHECK (ctrl (&f, VYRE_CTRL_REQUEUES) > 0);

  /* Tenant B opens epochs up to its last (63: 64 is refused) ... */
  vyre_job far = data_job (VYRE_OP_SCAN, VYRE_EPOCH_WINDOW - 1, 70);
  far.tenant = TENANT_B;
  vyre_ticket tfar = PUBLISH (&f, far);
  far.epoch = VYRE_EPOCH_WINDOW;
  vyre_ticket tx;
  CHECK (vyre_host_ring_publish (f.ring, &far, &tx, &err)
      == VYRE_ERR_QUEUE_FULL && has (&err, "Fix:"));
  /* ... which holds back none of tenant 0's: its epochs 2..64 open
   * (its last closed is 1). */
  vyre_job j0 = data_job (VYRE_OP_SCAN, VYRE_EPOCH_WINDOW, 71);
  vyre_ticket t0 = PUBLISH (&f, j0);
  j0.epoch = VYRE_EPOCH_WINDOW + 1;
  CHECK (vyre_host_ring_publish (f.ring, &j0, &tx, &err)
      == VYRE_ERR_QUEUE_FULL);
  /* Tenant B's third job arrives: its fence closes epoch 1 of B. */
  vyre_job third = data_job (VYRE_OP_CRC32, 1, 72);
  third.tenant = TENANT_B;
  vyre_ticket t3 = PUBLISH (&f, third);
  drain (&f);
  CHECK (reap (&f, t3, &c, &err) == VYRE_OK);
  CHECK (reap (&f, fb, &c, &err) == VYRE_OK && c.epoch == 1);
  CHECK (reap (&f, tfar, &c, &err) == VYRE_OK);
  CHECK (reap (&f, t0, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, TENANT_B), 1);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, 0), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_FENCES_DONE), 2);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_LAST_FENCE_TAG), 0xB1);
  /* Each far job counted in its own tenant's window. */
  CHECK_EQ_U64 (epoch_jobs (&f, TENANT_B, VYRE_EPOCH_WINDOW - 1), 1);
  CHECK_EQ_U64 (epoch_jobs (&f, 0, VYRE_EPOCH_WINDOW), 1);
  CHECK_EQ_U64 (epoch_jobs (&f, TENANT_B, VYRE_EPOCH_WINDOW), 0);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_FAULTS), 0);
  fixture_fini (&f);
}

/* After init_control tenant 0 may run the control opcodes only, until
 * set_tenant gives it memory; SHUTDOWN needs no record. */
static void
test_tenant0_default (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  vyre_error err;
  vyre_completion c;
  CHECK (vyre_host_ring_init_control (f.ring, &f.cfg, &err) == VYRE_OK);
  vyre_ticket t = PUBLISH (&f, ((vyre_job) { .opcode = VYRE_OP_NOP,
          .tag = 1 }));
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  t = PUBLISH (&f, fence_job (1, 0, 2));
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK && c.epoch == 1);
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (f.ring, 0), 1);
  for (uint32_t op = VYRE_OP_SCAN; op <= VYRE_OP_HISTOGRAM; op++)
    EXPECT_FAULT (&f, data_job (op, 2, 3), VYRE_FAULT_TENANT_DENIED);
  /* Other tenants have no record at all. */
  vyre_job nop = { .opcode = VYRE_OP_NOP, .tenant = TENANT_NOP, .tag = 4 };
  EXPECT_FAULT (&f, nop, VYRE_FAULT_TENANT_DENIED);
  /* Given memory, tenant 0 scans; its epochs went on from 1. */
  vyre_tenant_config t0 = tenant_config (&f.tmem[0]);
  CHECK (vyre_host_ring_set_tenant (f.ring, 0, &t0, &err) == VYRE_OK);
  t = PUBLISH (&f, data_job (VYRE_OP_SCAN, 1, 5));
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  vyre_job sd = { .opcode = VYRE_OP_SHUTDOWN, .tag = 6 };
  CHECK (vyre_host_ring_init_control (f.ring, &f.cfg, &err) == VYRE_OK);
  t = PUBLISH (&f, sd);
  CHECK_EQ_U64 (drain (&f), 1);
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_SHUTDOWN), 1);
  fixture_fini (&f);
}

/* ---- chunk tables: memory that grows ---- */

/* Tenant TENANT_CHUNKED's chunks, each its own allocation. */
typedef struct {
  uint8_t *arena[ARENA_CHUNKS];       /* CHUNK_BYTES each, own bytes */
  uint32_t *results[RESULT_CHUNKS];   /* CHUNK_RECORDS records each */
} chunk_mem;

static void
chunk_mem_init (chunk_mem * m)
{
  for (uint32_t k = 0; k < ARENA_CHUNKS; k++) {
    m->arena[k] = malloc (CHUNK_BYTES);
    CHECK (m->arena[k] != NULL);
    /* Different bytes per chunk: a job given the wrong chunk has the
     * wrong sum. */
    for (uint32_t i = 0; m->arena[k] != NULL && i < CHUNK_BYTES; i++)
      m->arena[k][i] = (uint8_t) (i * (11 + 4 * k) + 3 * k + (i >> 7));
  }
  for (uint32_t k = 0; k < RESULT_CHUNKS; k++) {
    m->results[k] = calloc ((size_t) CHUNK_RECORDS * RECORD_WORDS, 4);
    CHECK (m->results[k] != NULL);
  }
}

static void
chunk_mem_free (chunk_mem * m)
{
  for (uint32_t k = 0; k < ARENA_CHUNKS; k++)
    free (m->arena[k]);
  for (uint32_t k = 0; k < RESULT_CHUNKS; k++)
    free (m->results[k]);
}

/* TENANT_CHUNKED's record: the chunk geometry, every entry 0 (nothing
 * allocated yet); tables and carry windows borrowed from tenant B. */
static vyre_tenant_config
chunked_config (const fixture * f)
{
  vyre_tenant_config tc = {
    .ops_mask = VYRE_TENANT_ALL_OPS,
    .tables = (uintptr_t) f->tmem[1].tables,
    .arena_chunk_bytes = CHUNK_BYTES, .arena_chunks = ARENA_CHUNKS,
    .result_chunk_records = CHUNK_RECORDS, .result_chunks = RESULT_CHUNKS,
    .result_count = CHUNK_RECORDS * RESULT_CHUNKS, .max_matches = MAX_MATCHES,
    .carry = (uintptr_t) f->tmem[1].carry, .max_carry = MAX_CARRY,
  };
  return tc;
}

/* A CRC32 job of TENANT_CHUNKED at arena-wide offset `off`. */
static vyre_job
chunk_job (uint64_t off, uint32_t len, uint32_t result_index, uint32_t tag)
{
  vyre_job j = data_job (VYRE_OP_CRC32, 1, tag);
  j.tenant = TENANT_CHUNKED;
  j.data_offset = off;
  j.data_len = len;
  j.result_index = result_index;
  return j;
}

static uint64_t
chunk_entry (fixture * f, uint32_t t, vyre_chunk_kind kind, uint32_t i)
{
  return tenant_u64 (f, t, (kind == VYRE_CHUNK_ARENA ?
          VYRE_TENANT_ARENA_CHUNK_TABLE : VYRE_TENANT_RESULT_CHUNK_TABLE)
      + 2 * i);
}

/* Publish j, run it, and expect DONE with the execute callback given
 * `chunk` at chunk-relative offset `local` and the record result_index %
 * CHUNK_RECORDS of result chunk `rchunk`, which it wrote. */
static void
expect_done (fixture * f, vyre_job j, const uint8_t * chunk, uint64_t local,
    const uint32_t * rchunk, int line)
{
  vyre_ticket t = publish_ok (f, j, line);
  vyre_completion c;
  vyre_error err;
  vyre_error_clear (&err);
  memset (&c, 0, sizeof c);
  f->seen_offset = UINT64_MAX;
  f->seen_arena = NULL;
  f->seen_arena_bytes = 0;
  f->seen_record = NULL;
  drain (f);
  vyre_status st = reap (f, t, &c, &err);
  const uint32_t *rec = rchunk + (size_t) (j.result_index % CHUNK_RECORDS)
      * RECORD_WORDS;
  if (st != VYRE_OK || c.status != VYRE_STATUS_DONE || c.tag != j.tag
      || c.crc32 != arena_sum (chunk, local, j.data_len)
      || f->seen_offset != local || f->seen_arena != chunk
      || f->seen_arena_bytes != CHUNK_BYTES || f->seen_record != rec
      || rec[0] != j.tag) {
    fprintf (stderr, "line %d: %s (fault %u): offset %llu (want %llu), "
        "chunk %s, record %s, sum %s: %s\n", line, vyre_status_name (st),
        c.fault_code, (unsigned long long) f->seen_offset,
        (unsigned long long) local, f->seen_arena == chunk ? "ok" : "WRONG",
        f->seen_record == rec && rec[0] == j.tag ? "ok" : "WRONG",
        c.crc32 == arena_sum (chunk, local, j.data_len) ? "ok" : "WRONG",
        err.message);
    ring_test_failures++;
  }
}

#define EXPECT_DONE(f, j, chunk, local, rchunk) \
  expect_done ((f), (j), (chunk), (local), (rchunk), __LINE__)

/* A tenant registered with 4 arena and 3 result chunks, none allocated;
 * set_tenant_chunk fills entries as jobs need them, also while the
 * tenant's jobs are out, and a job reaches its chunk through the table. */
static void
test_tenant_chunks (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  chunk_mem m;
  chunk_mem_init (&m);
  vyre_error err;
  vyre_completion c;
  const uint64_t CB = CHUNK_BYTES;
  vyre_tenant_config tc = chunked_config (&f);
  tc.result_count = 10;        /* result chunk 2 holds records 8 and 9 */
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED,
              VYRE_TENANT_ARENA_CHUNK_BYTES_LO)), CHUNK_BYTES);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED,
              VYRE_TENANT_ARENA_CHUNK_BYTES_HI)), 0);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED, VYRE_TENANT_ARENA_CHUNKS)),
      ARENA_CHUNKS);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED,
              VYRE_TENANT_RESULT_CHUNK_RECORDS)), CHUNK_RECORDS);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_CHUNKS)),
      RESULT_CHUNKS);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_COUNT)),
      10);
  for (uint32_t i = 0; i < VYRE_TENANT_CHUNKS_MAX; i++) {
    CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, i), 0);
    CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_RESULTS, i), 0);
  }

  /* Nothing allocated: a job in range still faults. */
  EXPECT_FAULT (&f, chunk_job (0, 100, 0, 1), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (2 * CB + 100, 200, 6, 2), VYRE_FAULT_BAD_RANGE);

  /* Arena chunk 2: the job's data is there, its result chunk (1) not
   * yet. */
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 2, (uintptr_t) m.arena[2], &err) == VYRE_OK);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 2),
      (uintptr_t) m.arena[2]);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 1), 0);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 3), 0);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_RESULTS, 2), 0);
  EXPECT_FAULT (&f, chunk_job (2 * CB + 100, 200, 6, 3),
      VYRE_FAULT_BAD_RESULT);

  /* Result chunk 1: record 6 is record 2 of it. */
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, 1, (uintptr_t) m.results[1], &err) == VYRE_OK);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_RESULTS, 1),
      (uintptr_t) m.results[1]);
  EXPECT_DONE (&f, chunk_job (2 * CB + 100, 200, 6, 4), m.arena[2], 100,
      m.results[1]);
  CHECK_EQ_U64 (m.results[1][2 * RECORD_WORDS], 4);
  CHECK_EQ_U64 (m.results[1][0], 0);
  /* Data at the chunk's start, other records of result chunk 1. */
  EXPECT_DONE (&f, chunk_job (2 * CB, 1000, 4, 5), m.arena[2], 0,
      m.results[1]);
  EXPECT_DONE (&f, chunk_job (2 * CB + 17, 33, 7, 6), m.arena[2], 17,
      m.results[1]);

  /* Arena chunk 1 (entry 0): BAD_RANGE, whatever its result record. */
  EXPECT_FAULT (&f, chunk_job (CB + 10, 20, 6, 7), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (CB, 1, 5, 8), VYRE_FAULT_BAD_RANGE);
  /* Result chunks 0 and 2 (entries 0): BAD_RESULT. */
  EXPECT_FAULT (&f, chunk_job (2 * CB, 10, 0, 9), VYRE_FAULT_BAD_RESULT);
  EXPECT_FAULT (&f, chunk_job (2 * CB, 10, 3, 10), VYRE_FAULT_BAD_RESULT);
  EXPECT_FAULT (&f, chunk_job (2 * CB, 10, 9, 11), VYRE_FAULT_BAD_RESULT);
  /* Result chunk 2 filled: records 8 and 9 work, 10 (inside the chunk,
   * past RESULT_COUNT) does not. */
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, 2, (uintptr_t) m.results[2], &err) == VYRE_OK);
  EXPECT_DONE (&f, chunk_job (2 * CB, 10, 9, 12), m.arena[2], 0,
      m.results[2]);
  CHECK_EQ_U64 (m.results[2][1 * RECORD_WORDS], 12);
  EXPECT_FAULT (&f, chunk_job (2 * CB, 10, 10, 13), VYRE_FAULT_BAD_RESULT);
  EXPECT_FAULT (&f, chunk_job (2 * CB, 10, 11, 14), VYRE_FAULT_BAD_RESULT);

  /* The arena grows while a job of the tenant is out (set_tenant would
   * be refused now); the next job uses the new chunk. */
  vyre_ticket out = PUBLISH (&f, chunk_job (2 * CB + 8, 64, 5, 15));
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "outstanding"));
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 1, (uintptr_t) m.arena[1], &err) == VYRE_OK);
  vyre_job grown = chunk_job (CB + 10, 20, 6, 16);
  vyre_ticket t = PUBLISH (&f, grown);
  CHECK_EQ_U64 (drain (&f), 2);
  CHECK (reap (&f, out, &c, &err) == VYRE_OK
      && c.crc32 == arena_sum (m.arena[2], 8, 64));
  CHECK (reap (&f, t, &c, &err) == VYRE_OK);
  CHECK_EQ_U64 (c.crc32, arena_sum (m.arena[1], 10, 20));
  CHECK_EQ_U64 (m.results[1][2 * RECORD_WORDS], 16);
  /* Tenant 0's memory saw none of it. */
  for (uint32_t r = 0; r < RESULT_COUNT; r++)
    CHECK_EQ_U64 (f.results[(size_t) r * RECORD_WORDS], 0x5A5A5A5Au);

  /* Registering again empties the tables: chunk 2 faults again until
   * filled anew (and may take another buffer). */
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 2), 0);
  EXPECT_FAULT (&f, chunk_job (2 * CB + 100, 200, 6, 17),
      VYRE_FAULT_BAD_RANGE);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 2, (uintptr_t) m.arena[3], &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, 1, (uintptr_t) m.results[0], &err) == VYRE_OK);
  EXPECT_DONE (&f, chunk_job (2 * CB + 100, 200, 6, 18), m.arena[3], 100,
      m.results[0]);
  chunk_mem_free (&m);
  fixture_fini (&f);
}

/* A job lies inside one arena chunk, its in-arena carry included. */
static void
test_chunk_ranges (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  chunk_mem m;
  chunk_mem_init (&m);
  vyre_error err;
  const uint64_t CB = CHUNK_BYTES;
  /* Every entry filled at registration this time. */
  vyre_tenant_config tc = chunked_config (&f);
  for (uint32_t k = 0; k < ARENA_CHUNKS; k++)
    tc.arena_chunk[k] = (uintptr_t) m.arena[k];
  for (uint32_t k = 0; k < RESULT_CHUNKS; k++)
    tc.result_chunk[k] = (uintptr_t) m.results[k];
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 3),
      (uintptr_t) m.arena[3]);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_RESULTS, 2),
      (uintptr_t) m.results[2]);

  /* Data across a chunk boundary, by many bytes and by one. */
  EXPECT_FAULT (&f, chunk_job (CB - 10, 20, 0, 1), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (3 * CB - 1, 2, 0, 2), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (0, CHUNK_BYTES + 1, 0, 3),
      VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (CB, 2 * CHUNK_BYTES, 0, 4),
      VYRE_FAULT_BAD_RANGE);
  /* Exactly a whole chunk; ending at a chunk's last byte; the arena's
   * last byte. */
  EXPECT_DONE (&f, chunk_job (CB, CHUNK_BYTES, 0, 5), m.arena[1], 0,
      m.results[0]);
  EXPECT_DONE (&f, chunk_job (3 * CB - 50, 50, 5, 6), m.arena[2], CB - 50,
      m.results[1]);
  EXPECT_DONE (&f, chunk_job (4 * CB - 1, 1, 11, 7), m.arena[3], CB - 1,
      m.results[2]);
  EXPECT_DONE (&f, chunk_job (0, CHUNK_BYTES, 3, 8), m.arena[0], 0,
      m.results[0]);
  /* Chunk index ARENA_CHUNKS and beyond (the table has 32 entries, the
   * record uses 4). */
  EXPECT_FAULT (&f, chunk_job (4 * CB, 1, 0, 9), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (4 * CB, 0, 0, 10), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (5 * CB + 7, 10, 0, 11), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job ((uint64_t) VYRE_TENANT_CHUNKS_MAX * CB, 10, 0,
          12), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (UINT64_MAX - 5, 5, 0, 13),
      VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (((uint64_t) 1 << 32) * CB + 100, 10, 0, 14),
      VYRE_FAULT_BAD_RANGE);
  /* The consumer's own bounds, on a record written by hand (the host
   * writes no such record): table entries past the record's chunk counts
   * hold addresses, RESULT_COUNT is more than the result chunks hold.
   * Jobs there still fault: the counts bound the tables, not the
   * entries. */
  uint32_t *ctl = f.mem.control;
  const uintptr_t spare = (uintptr_t) m.arena[0];
  const uintptr_t spare_r = (uintptr_t) m.results[0];
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_ARENA_CHUNK_TABLE + 2 * ARENA_CHUNKS)]
      = (uint32_t) spare;
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_ARENA_CHUNK_TABLE
          + 2 * ARENA_CHUNKS + 1)] = (uint32_t) ((uint64_t) spare >> 32);
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_CHUNK_TABLE
          + 2 * RESULT_CHUNKS)] = (uint32_t) spare_r;
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_CHUNK_TABLE
          + 2 * RESULT_CHUNKS + 1)] = (uint32_t) ((uint64_t) spare_r >> 32);
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_COUNT)] =
      (RESULT_CHUNKS + 1) * CHUNK_RECORDS;
  EXPECT_FAULT (&f, chunk_job (4 * CB + 10, 10, 0, 15), VYRE_FAULT_BAD_RANGE);
  EXPECT_FAULT (&f, chunk_job (10, 10, RESULT_CHUNKS * CHUNK_RECORDS, 16),
      VYRE_FAULT_BAD_RESULT);
  EXPECT_DONE (&f, chunk_job (10, 10, RESULT_CHUNKS * CHUNK_RECORDS - 1, 17),
      m.arena[0], 10, m.results[2]);
  /* A record without a chunk geometry is one without memory. */
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_ARENA_CHUNKS)] = 0;
  EXPECT_FAULT (&f, chunk_job (10, 10, 0, 18), VYRE_FAULT_TENANT_DENIED);
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_ARENA_CHUNKS)] = ARENA_CHUNKS;
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_CHUNK_RECORDS)] = 0;
  EXPECT_FAULT (&f, chunk_job (10, 10, 0, 19), VYRE_FAULT_TENANT_DENIED);
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_CHUNK_RECORDS)] = CHUNK_RECORDS;
  ctl[tword (TENANT_CHUNKED, VYRE_TENANT_ARENA_CHUNK_BYTES_LO)] = 0;
  EXPECT_FAULT (&f, chunk_job (10, 10, 0, 20), VYRE_FAULT_TENANT_DENIED);
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);

  /* Carry in the arena right before the data: it must be in the data's
   * chunk too. */
  vyre_job j = chunk_job (2 * CB + 5, 100, 1, 30);
  j.carry_in_arena = true;
  j.carry_len = 10;                   /* starts 5 bytes into chunk 1 */
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_RANGE);
  j = chunk_job (2 * CB, 1, 1, 31);
  j.carry_in_arena = true;
  j.carry_len = 1;                    /* chunk 1's last byte */
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_RANGE);
  j = chunk_job (2 * CB + 10, 100, 1, 32);
  j.carry_in_arena = true;
  j.carry_len = 10;                   /* starts at chunk 2's first byte */
  EXPECT_DONE (&f, j, m.arena[2], 10, m.results[0]);
  j = chunk_job (CB + MAX_CARRY, CHUNK_BYTES - MAX_CARRY, 2, 33);
  j.carry_in_arena = true;
  j.carry_len = MAX_CARRY;            /* carry + data: chunk 1 exactly */
  EXPECT_DONE (&f, j, m.arena[1], MAX_CARRY, m.results[0]);
  j = chunk_job (5, 10, 2, 34);
  j.carry_in_arena = true;
  j.carry_len = 6;                    /* before the arena */
  EXPECT_FAULT (&f, j, VYRE_FAULT_BAD_RANGE);
  /* The same carry kept in the job's carry window instead: no matter
   * where the data starts. */
  j = chunk_job (2 * CB + 5, 100, 1, 35);
  j.carry_len = 10;
  EXPECT_DONE (&f, j, m.arena[2], 5, m.results[0]);
  chunk_mem_free (&m);
  fixture_fini (&f);
}

/* vyre_host_ring_set_tenant_chunk: what it refuses, and that an entry is
 * filled once per registration. */
static void
test_set_tenant_chunk (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  chunk_mem m;
  chunk_mem_init (&m);
  vyre_error err;
  const uintptr_t a0 = (uintptr_t) m.arena[0], a1 = (uintptr_t) m.arena[1];
  const uintptr_t r0 = (uintptr_t) m.results[0];
  vyre_tenant_config tc = chunked_config (&f);
  tc.arena_chunk[0] = a0;             /* filled at registration */
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);

  CHECK (vyre_host_ring_set_tenant_chunk (NULL, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 1, a1, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "Fix:"));
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, VYRE_MAX_TENANTS,
          VYRE_CHUNK_ARENA, 1, a1, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "Fix:") && has (&err, "128"));
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, UINT32_MAX,
          VYRE_CHUNK_ARENA, 1, a1, &err) == VYRE_ERR_INVALID_ARGUMENT);
  /* Address 0: never (0 is "not allocated"). */
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 1, 0, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "Fix:") && has (&err, "address 0"));
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, 0, 0, &err) == VYRE_ERR_INVALID_ARGUMENT);
  /* Outside the table the record was registered with (4 arena, 3
   * result chunks), also inside the 32 entries a table has. */
  const struct {
    vyre_chunk_kind kind;
    uint32_t index;
    const char *needle;
  } outside[] = {
    { VYRE_CHUNK_ARENA, ARENA_CHUNKS, "arena chunk 4 (its record holds 4)" },
    { VYRE_CHUNK_ARENA, 5, "arena chunk 5" },
    { VYRE_CHUNK_ARENA, VYRE_TENANT_CHUNKS_MAX - 1, "arena chunk 31" },
    { VYRE_CHUNK_ARENA, VYRE_TENANT_CHUNKS_MAX, "arena chunk 32" },
    { VYRE_CHUNK_ARENA, UINT32_MAX, "arena chunk 4294967295" },
    { VYRE_CHUNK_RESULTS, RESULT_CHUNKS,
      "result chunk 3 (its record holds 3)" },
    { VYRE_CHUNK_RESULTS, VYRE_TENANT_CHUNKS_MAX, "result chunk 32" },
    { VYRE_CHUNK_RESULTS, UINT32_MAX, "result chunk 4294967295" },
  };
  for (size_t k = 0; k < sizeof outside / sizeof outside[0]; k++) {
    vyre_error_clear (&err);
    if (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
            outside[k].kind, outside[k].index, a1, &err)
        != VYRE_ERR_INVALID_ARGUMENT || !has (&err, "Fix:")
        || !has (&err, outside[k].needle)) {
      fprintf (stderr, "set_tenant_chunk %s %u: %s\n", outside[k].needle,
          outside[k].index, err.message);
      ring_test_failures++;
    }
  }
  /* Nothing of it landed: the whole record but entry 0 of the arena
   * table is as registered, the next tenant's record untouched. */
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 0), a0);
  for (uint32_t i = 1; i < VYRE_TENANT_CHUNKS_MAX; i++)
    CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, i), 0);
  for (uint32_t i = 0; i < VYRE_TENANT_CHUNKS_MAX; i++)
    CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_RESULTS, i), 0);
  for (uint32_t w = 0; w < VYRE_TENANT_WORDS; w++)
    CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED + 1, w)), 0);

  /* A tenant without a record, a NOP-only one (no chunk tables), one
   * emptied again: refused. */
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED + 1,
          VYRE_CHUNK_ARENA, 0, a1, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "Fix:") && has (&err, "register"));
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_NOP,
          VYRE_CHUNK_RESULTS, 0, r0, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "Fix:"));
  vyre_tenant_config other = chunked_config (&f);
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED + 2, &other, &err)
      == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED + 2, NULL, &err)
      == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED + 2,
          VYRE_CHUNK_ARENA, 0, a1, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "Fix:"));
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED + 2, VYRE_CHUNK_ARENA, 0), 0);
  /* A record whose mask is 0 (as while set_tenant rewrites it, written
   * by hand here) is no record, whatever its counts say. */
  f.mem.control[tword (TENANT_CHUNKED, VYRE_TENANT_OPS_MASK)] = 0;
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 1, a1, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "register"));
  f.mem.control[tword (TENANT_CHUNKED, VYRE_TENANT_OPS_MASK)] =
      VYRE_TENANT_ALL_OPS;
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 1), 0);

  /* Once filled an entry keeps its address: the same again is fine,
   * another is refused (naming the one it holds) and changes nothing. */
  char held[64];
  snprintf (held, sizeof held, "already at 0x%llx", (unsigned long long) a0);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 0, a0, &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, 0, a1, &err) == VYRE_ERR_INVALID_ARGUMENT
      && has (&err, "Fix:") && has (&err, held));
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 0), a0);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, ARENA_CHUNKS - 1, a1, &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, ARENA_CHUNKS - 1, a1, &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, ARENA_CHUNKS - 1, a0, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "already"));
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA,
          ARENA_CHUNKS - 1), a1);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, RESULT_CHUNKS - 1, r0, &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, RESULT_CHUNKS - 1, r0, &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, RESULT_CHUNKS - 1, a0, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "result chunk 2"));
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_RESULTS,
          RESULT_CHUNKS - 1), r0);
  /* The two tables are apart: arena entry 2 is still empty. */
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA, 2), 0);
  /* A new registration starts the entries afresh. */
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_ARENA,
          ARENA_CHUNKS - 1), 0);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, ARENA_CHUNKS - 1, a0, &err) == VYRE_OK);
  chunk_mem_free (&m);
  fixture_fini (&f);
}

/* A record whose mask has no data opcode keeps whatever chunk counts its
 * config had (set_tenant checks the geometry only for data opcodes):
 * set_tenant_chunk must still stay inside the 32-entry tables, never
 * write the other table or the next tenant's record. */
static void
test_set_tenant_chunk_control_only (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  vyre_error err;
  vyre_tenant_config tc = {
    .ops_mask = 1u << VYRE_OP_NOP,
    .arena_chunks = VYRE_TENANT_CHUNKS_MAX + 8,
    .result_chunks = VYRE_TENANT_CHUNKS_MAX + 8,
  };
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, VYRE_TENANT_CHUNKS_MAX + 1, 64, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, VYRE_TENANT_CHUNKS_MAX + 7, 64, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  for (uint32_t i = 0; i < VYRE_TENANT_CHUNKS_MAX; i++)
    CHECK_EQ_U64 (chunk_entry (&f, TENANT_CHUNKED, VYRE_CHUNK_RESULTS, i), 0);
  for (uint32_t w = 0; w < VYRE_TENANT_WORDS; w++)
    CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED + 1, w)), 0);
  /* The last tenant's record ends the control block. */
  CHECK (vyre_host_ring_set_tenant (f.ring, VYRE_MAX_TENANTS - 1, &tc, &err)
      == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, VYRE_MAX_TENANTS - 1,
          VYRE_CHUNK_RESULTS, VYRE_TENANT_CHUNKS_MAX + 7, 64, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  fixture_fini (&f);
}

/* set_tenant refuses a chunk geometry a job could not use, naming it. */
static void
test_chunk_geometry (void)
{
  fixture f;
  CHECK (fixture_init (&f, 8, 0, false));
  vyre_error err;
  const vyre_tenant_config good = chunked_config (&f);
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &good, &err)
      == VYRE_OK);
  const struct {
    uint64_t chunk_bytes;
    uint32_t arena_chunks, records, result_chunks;
    const char *needle;
  } bad[] = {
    { CHUNK_BYTES, 0, CHUNK_RECORDS, RESULT_CHUNKS,
      "has 0 arena chunks of 4096 bytes" },
    { CHUNK_BYTES, VYRE_TENANT_CHUNKS_MAX + 1, CHUNK_RECORDS, RESULT_CHUNKS,
      "has 33 arena chunks of 4096 bytes" },
    { CHUNK_BYTES, UINT32_MAX, CHUNK_RECORDS, RESULT_CHUNKS,
      "has 4294967295 arena chunks" },
    { 0, ARENA_CHUNKS, CHUNK_RECORDS, RESULT_CHUNKS,
      "4 arena chunks of 0 bytes" },
    { CHUNK_BYTES, ARENA_CHUNKS, CHUNK_RECORDS, 0,
      "and 0 result chunks of 4 records" },
    { CHUNK_BYTES, ARENA_CHUNKS, CHUNK_RECORDS, VYRE_TENANT_CHUNKS_MAX + 1,
      "and 33 result chunks of 4 records" },
    { CHUNK_BYTES, ARENA_CHUNKS, 0, RESULT_CHUNKS,
      "and 3 result chunks of 0 records" },
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    vyre_tenant_config tc = good;
    tc.arena_chunk_bytes = bad[k].chunk_bytes;
    tc.arena_chunks = bad[k].arena_chunks;
    tc.result_chunk_records = bad[k].records;
    tc.result_chunks = bad[k].result_chunks;
    tc.result_count = 1;
    for (uint32_t op = VYRE_OP_SCAN; op <= VYRE_OP_HISTOGRAM; op++) {
      tc.ops_mask = 1u << op;
      vyre_error_clear (&err);
      if (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
          != VYRE_ERR_INVALID_ARGUMENT || !has (&err, "Fix:")
          || !has (&err, bad[k].needle) || !has (&err, "1 to 32 chunks")) {
        fprintf (stderr, "geometry case %zu (op %u): %s\n", k, op,
            err.message);
        ring_test_failures++;
      }
    }
  }
  /* More job contexts than the result chunks hold. */
  vyre_tenant_config tc = good;
  tc.result_count = RESULT_CHUNKS * CHUNK_RECORDS + 1;
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "Fix:")
      && has (&err, "13 result records") && has (&err, "in 3 chunks of 4")
      && has (&err, "no more than the chunks hold"));
  tc.result_chunks = 1;
  tc.result_chunk_records = 1;
  tc.result_count = 2;
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has (&err, "2 result records")
      && has (&err, "in 1 chunks of 1"));
  /* A refused record leaves the one before it in place. */
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED, VYRE_TENANT_OPS_MASK)),
      VYRE_TENANT_ALL_OPS);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED, VYRE_TENANT_ARENA_CHUNKS)),
      ARENA_CHUNKS);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED, VYRE_TENANT_RESULT_COUNT)),
      RESULT_CHUNKS * CHUNK_RECORDS);

  /* The limits themselves are fine. */
  tc = good;
  tc.result_count = RESULT_CHUNKS * CHUNK_RECORDS;   /* exactly full */
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  tc.arena_chunks = VYRE_TENANT_CHUNKS_MAX;
  tc.result_chunks = VYRE_TENANT_CHUNKS_MAX;
  tc.arena_chunk_bytes = 1;
  tc.result_chunk_records = 1;
  tc.result_count = VYRE_TENANT_CHUNKS_MAX;
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_ARENA, VYRE_TENANT_CHUNKS_MAX - 1, 64, &err) == VYRE_OK);
  CHECK (vyre_host_ring_set_tenant_chunk (f.ring, TENANT_CHUNKED,
          VYRE_CHUNK_RESULTS, VYRE_TENANT_CHUNKS_MAX - 1, 128, &err)
      == VYRE_OK);
  /* The last entries of the two tables are the record's last words. */
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED,
              VYRE_TENANT_RESULT_CHUNK_TABLE - 2)), 64);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED, VYRE_TENANT_WORDS - 2)),
      128);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED + 1, 0)), 0);
  /* A chunk as large as a word pair holds; records that only a 64-bit
   * product counts (2^31 x 2 = 2^32, 0 in 32 bits). */
  tc = good;
  tc.arena_chunk_bytes = UINT64_MAX;
  tc.result_chunk_records = 1u << 31;
  tc.result_chunks = 2;
  tc.result_count = UINT32_MAX;
  CHECK (vyre_host_ring_set_tenant (f.ring, TENANT_CHUNKED, &tc, &err)
      == VYRE_OK);
  CHECK_EQ_U64 (ctrl (&f, tword (TENANT_CHUNKED,
              VYRE_TENANT_ARENA_CHUNK_BYTES_HI)), UINT32_MAX);
  fixture_fini (&f);
}

/* ---- the consumer in another process, over MAP_SHARED memory ---- */

static int
child_consumer (fixture * f)
{
  vyre_reference_consumer cons;
  vyre_reference_consumer_config cc = f->cons.cfg;
  cc.workgroup = 0;
  cc.launch = 9;
  if (vyre_reference_consumer_init (&cons, &cc, NULL) != VYRE_OK)
    return 2;
  double deadline = ring_test_now () + WAIT_LIMIT_S;
  uint32_t idle = 0;
  for (;;) {
    int r = vyre_reference_consumer_step (&cons);
    if (r == VYRE_CONSUMER_SHUTDOWN)
      return 0;
    if (r < 0)
      return 4;
    if (r == VYRE_CONSUMER_IDLE && ++idle % 64 == 0) {
      if (ring_test_now () > deadline)
        return 3;
      sched_yield ();
    }
  }
}

static void
test_forked_consumer (void)
{
  fixture f;
  /* write_combining: exercise the fenced paths too. */
  CHECK (fixture_init (&f, 16, (1ull << 32) - 1000, true));
  const uint64_t jobs = ring_test_scaled (20000);
  pid_t pid = fork ();
  if (pid == 0)
    _exit (child_consumer (&f));
  CHECK (pid > 0);
  if (pid < 0) {
    fixture_fini (&f);
    return;
  }

  vyre_ticket inflight[16];
  vyre_job inflight_job[16];
  uint32_t head = 0, count = 0;
  uint64_t published = 0, reaped = 0, bad = 0, epoch_jobs = 0;
  uint32_t epoch = 1;
  double deadline = ring_test_now () + WAIT_LIMIT_S;
  vyre_error err;
  vyre_completion c;
  bool timed_out = false;
  while (reaped < jobs) {
    if (ring_test_now () > deadline) {
      timed_out = true;
      break;
    }
    /* Publish while there is room (a fence every 100 jobs). */
    while (published < jobs && count < 16) {
      vyre_job j;
      if (epoch_jobs == 100) {
        j = fence_job (epoch, 100, epoch);
      } else {
        j = data_job (VYRE_OP_SCAN + published % 3, epoch, (uint32_t) published);
        j.priority = (uint32_t) (published % 4);
      }
      vyre_ticket t;
      vyre_status st = vyre_host_ring_publish (f.ring, &j, &t, &err);
      if (st != VYRE_OK)
        break;                /* backpressure: reap first */
      if (j.opcode == VYRE_OP_BATCH_FENCE) {
        epoch++;
        epoch_jobs = 0;
      } else {
        epoch_jobs++;
      }
      inflight[(head + count) % 16] = t;
      inflight_job[(head + count) % 16] = j;
      count++;
      published++;
    }
    /* Reap in order. */
    vyre_status st = vyre_host_ring_poll (f.ring, inflight[head], &c, &err);
    if (st == VYRE_ERR_NOT_READY) {
      sched_yield ();
      continue;
    }
    vyre_job *j = &inflight_job[head];
    if (st != VYRE_OK || c.tag != j->tag || c.opcode != j->opcode
        || c.launch != 9 || c.workgroup != 0) {
      if (bad < 5)
        fprintf (stderr, "  job %llu: %s: %s\n", (unsigned long long) reaped,
            vyre_status_name (st), err.message);
      bad++;
    }
    else if (j->opcode != VYRE_OP_BATCH_FENCE
        && c.crc32 != arena_sum (f.arena, j->data_offset, j->data_len))
      bad++;
    else if (j->opcode == VYRE_OP_BATCH_FENCE && c.epoch != j->epoch)
      bad++;
    CHECK (vyre_host_ring_recycle (f.ring, inflight[head], &err) == VYRE_OK);
    head = (head + 1) % 16;
    count--;
    reaped++;
  }
  CHECK (!timed_out);
  CHECK_EQ_U64 (bad, 0);
  CHECK_EQ_U64 (reaped, jobs);

  /* A tenant joins the running consumer (another process) and brings its
   * own memory; emptied again, its jobs are denied. */
  const uint32_t joiner = 77;
  vyre_tenant_config tc = tenant_config (&f.tmem[1]);
  CHECK (vyre_host_ring_set_tenant (f.ring, joiner, &tc, &err) == VYRE_OK);
  for (int round = 0; round < 2 && !timed_out; round++) {
    vyre_job j = data_job (VYRE_OP_CRC32, 1, 900 + (uint32_t) round);
    j.tenant = joiner;
    vyre_ticket t;
    CHECK (vyre_host_ring_publish (f.ring, &j, &t, &err) == VYRE_OK);
    vyre_status st;
    while ((st = vyre_host_ring_poll (f.ring, t, &c, &err))
        == VYRE_ERR_NOT_READY) {
      if (ring_test_now () > deadline) {
        timed_out = true;
        break;
      }
      sched_yield ();
    }
    if (round == 0) {
      CHECK (st == VYRE_OK);
      CHECK_EQ_U64 (c.crc32, arena_sum (f.tmem[1].arena, j.data_offset,
              j.data_len));
      CHECK_EQ_U64 (f.tmem[1].results[(size_t) j.result_index
              * RECORD_WORDS], j.tag);
    } else {
      CHECK (st == VYRE_ERR_FAULT && c.fault_code == VYRE_FAULT_TENANT_DENIED);
    }
    if (st != VYRE_ERR_NOT_READY)
      CHECK (vyre_host_ring_recycle (f.ring, t, &err) == VYRE_OK);
    if (round == 0)
      CHECK (vyre_host_ring_set_tenant (f.ring, joiner, NULL, &err)
          == VYRE_OK);
  }
  CHECK (!timed_out);

  /* Retire the child with a SHUTDOWN job from tenant 0. */
  vyre_job sd = { .opcode = VYRE_OP_SHUTDOWN, .tenant = 0, .tag = 0x5D };
  vyre_ticket t;
  CHECK (vyre_host_ring_publish (f.ring, &sd, &t, &err) == VYRE_OK);
  while (!timed_out && vyre_host_ring_poll (f.ring, t, &c, &err)
      == VYRE_ERR_NOT_READY) {
    if (ring_test_now () > deadline)
      timed_out = true;
    sched_yield ();
  }
  CHECK (!timed_out);
  CHECK_EQ_U64 (vyre_host_ring_read_control (f.ring, VYRE_CTRL_SHUTDOWN), 1);

  int status = -1;
  while (waitpid (pid, &status, WNOHANG) == 0) {
    if (ring_test_now () > deadline) {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      break;
    }
    usleep (1000);
  }
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_DONE_COUNT), jobs + 3);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_EXITED), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_FAULTS), 1);
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_LAST_FAULT_TENANT), joiner);
  CHECK (ctrl (&f, VYRE_CTRL_HEARTBEAT) > 0);
  fprintf (stderr, "forked consumer: %llu jobs, %u epochs closed\n",
      (unsigned long long) jobs, ctrl (&f, tword (0, VYRE_TENANT_EPOCH)));
  CHECK_EQ_U64 (ctrl (&f, tword (0, VYRE_TENANT_EPOCH)),
      vyre_host_ring_closed_epoch (f.ring, 0));
  CHECK_EQ_U64 (ctrl (&f, VYRE_CTRL_FENCES_DONE),
      vyre_host_ring_closed_epoch (f.ring, 0));
  fixture_fini (&f);
}

int
main (void)
{
  double t0 = ring_test_now ();
  test_arguments ();
  test_publish_poll_recycle ();
  test_backpressure ();
  test_faults ();
  test_consumer_epoch_rules ();
  test_epoch_window ();
  test_priorities ();
  test_budgets_and_shutdown ();
  test_set_tenant ();
  test_two_tenants ();
  test_tenant0_default ();
  test_tenant_chunks ();
  test_chunk_ranges ();
  test_set_tenant_chunk ();
  test_chunk_geometry ();
  test_set_tenant_chunk_control_only ();
  test_high_sequences ();
  test_forked_consumer ();
  fprintf (stderr, "test_host_ring: %.2f s\n", ring_test_now () - t0);
  return ring_test_finish ("test_host_ring");
}
