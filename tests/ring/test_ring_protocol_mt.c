/*
 * test_ring_protocol_mt.c - the whole protocol under concurrency.
 *
 * 4 producer threads publish data jobs through one host ring, each as
 * its own tenant (writing its record once the consumers already run) with
 * its own memory (arena, result records, tables) and its own epochs:
 * the arena and result records are chunk tables registered with only
 * their first entries, and the producer fills the next ones
 * (vyre_host_ring_set_tenant_chunk) while its earlier jobs run, right
 * before the first job that needs them;
 * every producer starts at epoch 1 and publishes the BATCH_FENCE of each
 * of its epochs after that epoch's jobs, so fences of the same epoch
 * number from different tenants are in the ring at once.
 * 3 reference consumer threads play the GPU's workgroups.  One reaper
 * thread takes the tickets (through an MPMC queue) and polls its
 * outstanding list in publish order, recycling whatever completed.
 *
 * Checked: every data job executed exactly once (the execute callback
 * counts by sequence number), on its own tenant's memory (the arena chunk
 * and result chunk its offset and result index name), and never after
 * its tenant's epoch closed; every completion carries its own job's tag,
 * epoch and result; each tenant's fences close in epoch order and only
 * after all jobs of their tenant's epoch executed: when a fence's
 * completion is visible, the tenant's EPOCH has reached its epoch and
 * every job of the tenant in that epoch and in all earlier ones has a
 * visible completion; at the end every tenant's EPOCH, the host's view of
 * it, FENCES_DONE and DONE_COUNT agree.  Sequence numbers start just
 * below 2^32 so the run crosses it.  Every wait has a deadline that fails
 * the test instead of hanging it.
 */
#include "host_ring.h"
#include "mpmc_queue.h"
#include "reference_consumer.h"
#include "ring_test_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define SANITIZER_DIVISOR 10
#elif defined(__SANITIZE_ADDRESS__)
#define SANITIZER_DIVISOR 2
#else
#define SANITIZER_DIVISOR 1
#endif

#define NSLOTS 128u
#define PRODUCERS 4u
#define CONSUMERS 3u
#define SHARE 64u                       /* data jobs per tenant per epoch */
#define ARENA_BYTES 4096u               /* per arena chunk */
#define ARENA_CHUNKS 4u
#define RESULT_COUNT 64u
#define RESULT_CHUNK_RECORDS 16u
#define RESULT_CHUNKS (RESULT_COUNT / RESULT_CHUNK_RECORDS)
#define MAX_MATCHES VYRE_RESULT_LANES
#define RECORD_WORDS (VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * MAX_MATCHES)
#define TABLES_WORDS 16u

/* Producer p is tenant tenant_of[p]: ids across the range, none 0 (the
 * ring owner's). */
static const uint32_t tenant_of[PRODUCERS] = {
  1, 42, 85, VYRE_MAX_TENANTS - 1
};
#define FIRST_SEQ ((1ull << 32) - 20000)
#define WAIT_LIMIT_S 40.0
#define FENCE_TAG_BIT 0x80000000u

enum { KIND_NONE = 0, KIND_DATA, KIND_FENCE };

typedef struct {
  uint32_t slot;
  uint32_t epoch;
  uint32_t tag;
  uint32_t kind;
  uint32_t producer;
} job_meta;

/* One tenant's memory. */
typedef struct {
  uint32_t *tables;
  uint8_t *arena[ARENA_CHUNKS];         /* each its own allocation */
  uint32_t *results[RESULT_CHUNKS];
} tenant_mem;

typedef struct {
  uint32_t *slots, *control, *completions;
  vyre_ring_memory mem;
  vyre_host_ring *ring;
  vyre_mpmc_queue *tickets;       /* producers -> reaper: sequence numbers */
  void *tickets_mem;

  uint32_t epochs;
  uint64_t data_jobs, fences, total;
  uint64_t ledger_size;           /* indices seq - FIRST_SEQ */
  job_meta *meta;                 /* written by the publisher before the
                                     ticket goes into the queue */
  _Atomic uint8_t *executed;      /* by the execute callback */
  _Atomic uint32_t *executed_in_epoch[PRODUCERS];
  tenant_mem tmem[PRODUCERS];

  _Atomic bool abort;
  _Atomic uint32_t errors;        /* failures seen in threads */
  _Atomic uint64_t publish_retries;
  uint64_t seed;                  /* read before any thread starts */
  double deadline;

  /* reaper results */
  uint64_t reaped;
  uint64_t fences_reaped;
  uint32_t last_closed[PRODUCERS];
} mt_state;

static mt_state S;

#define THREAD_FAIL(...)                                                   \
  do {                                                                     \
    if (atomic_fetch_add (&S.errors, 1) < 10)                              \
      fprintf (stderr, __VA_ARGS__);                                       \
  } while (0)

static bool
expired (void)
{
  if (atomic_load_explicit (&S.abort, memory_order_relaxed))
    return true;
  if (ring_test_now () > S.deadline) {
    if (!atomic_exchange (&S.abort, true))
      THREAD_FAIL ("deadline of %.0f s passed: aborting\n", WAIT_LIMIT_S);
    return true;
  }
  return false;
}

static uint32_t
result_of (uint64_t seq)
{
  return (uint32_t) ((seq * 0x9E3779B97F4A7C15ull) >> 32);
}

/* Producer index of a tenant id, or PRODUCERS. */
static uint32_t
producer_of (uint32_t tenant)
{
  uint32_t p = 0;
  while (p < PRODUCERS && tenant_of[p] != tenant)
    p++;
  return p;
}

static uint32_t *
tenant_epoch_word (uint32_t p)
{
  return &S.control[VYRE_CTRL_TENANTS + tenant_of[p] * VYRE_TENANT_WORDS
      + VYRE_TENANT_EPOCH];
}

/* The arena chunk of the data job with this tag in epoch e: one of the
 * first min(e, ARENA_CHUNKS), so the arena grows epoch by epoch. */
static uint32_t
arena_chunk_of (uint32_t tag, uint32_t e)
{
  uint32_t n = e < ARENA_CHUNKS ? e : ARENA_CHUNKS;
  return ((tag * 2654435761u) >> 7) % n;
}

/* Runs on consumer threads. */
static void
execute (void *user, const vyre_job * job, const vyre_reference_tenant * ten,
    vyre_completion * out, uint32_t * record)
{
  (void) user;
  uint64_t idx = job->seq - FIRST_SEQ;
  uint32_t p = producer_of (job->tenant);
  if (idx >= S.ledger_size || job->epoch == 0 || job->epoch > S.epochs
      || p == PRODUCERS) {
    THREAD_FAIL ("executed unknown job seq %llu epoch %u tenant %u\n",
        (unsigned long long) job->seq, job->epoch, job->tenant);
    return;
  }
  /* The tenant's record led to the tenant's own memory. */
  /* ... in its chunks, at an offset relative to the chunk. */
  if (ten->arena != S.tmem[p].arena[arena_chunk_of (job->tag, job->epoch)]
      || ten->tables != S.tmem[p].tables || ten->arena_bytes != ARENA_BYTES
      || job->data_offset + job->data_len > ARENA_BYTES
      || record != S.tmem[p].results[job->result_index / RESULT_CHUNK_RECORDS]
      + (size_t) (job->result_index % RESULT_CHUNK_RECORDS) * RECORD_WORDS)
    THREAD_FAIL ("job seq %llu of tenant %u ran on another tenant's "
        "memory\n", (unsigned long long) job->seq, job->tenant);
  /* The job's fence cannot have closed: it waits for this very job. */
  uint32_t closed = __atomic_load_n (tenant_epoch_word (p), __ATOMIC_ACQUIRE);
  if (closed >= job->epoch)
    THREAD_FAIL ("job seq %llu of tenant %u epoch %u ran after its EPOCH "
        "reached %u\n", (unsigned long long) job->seq, job->tenant,
        job->epoch, closed);
  if (atomic_fetch_add (&S.executed[idx], 1) != 0)
    THREAD_FAIL ("job seq %llu executed twice\n",
        (unsigned long long) job->seq);
  atomic_fetch_add (&S.executed_in_epoch[p][job->epoch], 1);
  out->crc32 = result_of (job->seq);
  out->matches = job->data_len;
}

static bool
hand_to_reaper (uint64_t seq)
{
  while (vyre_mpmc_push (S.tickets, seq, NULL) != VYRE_OK) {
    if (expired ())
      return false;
    sched_yield ();
  }
  return true;
}

static bool
publish_retrying (const vyre_job * j, vyre_ticket * t)
{
  vyre_error err;
  for (;;) {
    vyre_status st = vyre_host_ring_publish (S.ring, j, t, &err);
    if (st == VYRE_OK)
      return true;
    if (st != VYRE_ERR_QUEUE_FULL) {
      THREAD_FAIL ("publish: %s: %s\n", vyre_status_name (st), err.message);
      atomic_store (&S.abort, true);
      return false;
    }
    atomic_fetch_add_explicit (&S.publish_retries, 1, memory_order_relaxed);
    if (expired ())
      return false;
    sched_yield ();
  }
}

static bool
record_and_hand_over (vyre_ticket t, uint32_t epoch, uint32_t tag,
    uint32_t kind, uint32_t producer)
{
  uint64_t idx = t.seq - FIRST_SEQ;
  if (idx >= S.ledger_size) {
    THREAD_FAIL ("sequence %llu outside the ledger\n",
        (unsigned long long) t.seq);
    atomic_store (&S.abort, true);
    return false;
  }
  S.meta[idx] = (job_meta) { t.slot, epoch, tag, kind, producer };
  return hand_to_reaper (t.seq);
}

static void *
producer_main (void *arg)
{
  uint32_t p = (uint32_t) (uintptr_t) arg;
  uint64_t rng = S.seed + p * 7919;
  /* The tenant joins while the consumers already run: its record is
   * written before its first publish, as a running kernel needs. */
  vyre_tenant_config tc = {
    .ops_mask = VYRE_TENANT_ALL_OPS & ~(1u << VYRE_OP_NOP),
    .tables = (uintptr_t) S.tmem[p].tables,
    .arena_chunk_bytes = ARENA_BYTES, .arena_chunks = ARENA_CHUNKS,
    .result_chunk_records = RESULT_CHUNK_RECORDS,
    .result_chunks = RESULT_CHUNKS,
    .result_count = RESULT_COUNT, .max_matches = MAX_MATCHES,
  };
  /* Only the first chunks to begin with; the others as jobs need them. */
  tc.arena_chunk[0] = (uintptr_t) S.tmem[p].arena[0];
  tc.result_chunk[0] = (uintptr_t) S.tmem[p].results[0];
  uint32_t arena_filled = 1;
  bool result_filled[RESULT_CHUNKS] = { true };
  vyre_error err;
  if (vyre_host_ring_set_tenant (S.ring, tenant_of[p], &tc, &err) != VYRE_OK) {
    THREAD_FAIL ("set_tenant %u: %s\n", tenant_of[p], err.message);
    atomic_store (&S.abort, true);
    return NULL;
  }
  for (uint32_t e = 1; e <= S.epochs; e++) {
    /* Epoch e's jobs use arena chunks below min(e, ARENA_CHUNKS): the
     * new one is filled while the tenant's earlier jobs may run. */
    for (; arena_filled < e && arena_filled < ARENA_CHUNKS; arena_filled++)
      if (vyre_host_ring_set_tenant_chunk (S.ring, tenant_of[p],
              VYRE_CHUNK_ARENA, arena_filled,
              (uintptr_t) S.tmem[p].arena[arena_filled], &err) != VYRE_OK) {
        THREAD_FAIL ("set_tenant_chunk %u: %s\n", tenant_of[p], err.message);
        atomic_store (&S.abort, true);
        return NULL;
      }
    for (uint32_t i = 0; i < SHARE; i++) {
      uint32_t tag = (uint32_t) (((uint64_t) (e - 1) * PRODUCERS + p) * SHARE + i);
      uint64_t r = ring_test_rand (&rng);
      vyre_job j = {
        .opcode = VYRE_OP_SCAN + (uint32_t) (r % 3),
        .tenant = tenant_of[p], .priority = (uint32_t) (r >> 8) % 4,
        .data_offset = (uint64_t) arena_chunk_of (tag, e) * ARENA_BYTES
            + (r >> 16) % 2048,
        .data_len = (uint32_t) (r >> 32) % 1024,
        .stream_offset = 0, .carry_len = 0, .ops = VYRE_OPS_ALL,
        .epoch = e, .result_index = tag % RESULT_COUNT, .tag = tag,
      };
      uint32_t rc = j.result_index / RESULT_CHUNK_RECORDS;
      if (!result_filled[rc]) {
        if (vyre_host_ring_set_tenant_chunk (S.ring, tenant_of[p],
                VYRE_CHUNK_RESULTS, rc, (uintptr_t) S.tmem[p].results[rc],
                &err) != VYRE_OK) {
          THREAD_FAIL ("set_tenant_chunk %u: %s\n", tenant_of[p],
              err.message);
          atomic_store (&S.abort, true);
          return NULL;
        }
        result_filled[rc] = true;
      }
      vyre_ticket t;
      if (!publish_retrying (&j, &t)
          || !record_and_hand_over (t, e, tag, KIND_DATA, p))
        return NULL;
    }
    /* The tenant's fence of its epoch e. */
    vyre_job f = {
      .opcode = VYRE_OP_BATCH_FENCE, .tenant = tenant_of[p], .epoch = e,
      .data_len = SHARE, .tag = FENCE_TAG_BIT | (p << 24) | e,
      .priority = (uint32_t) ring_test_rand (&rng) % 8,
    };
    vyre_ticket t;
    if (!publish_retrying (&f, &t)
        || !record_and_hand_over (t, e, f.tag, KIND_FENCE, p))
      return NULL;
  }
  return NULL;
}

static void *
consumer_main (void *arg)
{
  vyre_reference_consumer c;
  vyre_reference_consumer_config cc = {
    .mem = S.mem,
    .workgroup = (uint32_t) (uintptr_t) arg, .launch = 1,
    .execute = execute,
  };
  vyre_error err;
  if (vyre_reference_consumer_init (&c, &cc, &err) != VYRE_OK) {
    THREAD_FAIL ("consumer init: %s\n", err.message);
    return NULL;
  }
  uint32_t idle = 0;
  for (;;) {
    int r = vyre_reference_consumer_step (&c);
    if (r < 0) {
      if (r != VYRE_CONSUMER_SHUTDOWN)
        THREAD_FAIL ("consumer left with %d\n", r);
      return NULL;
    }
    if (r == VYRE_CONSUMER_IDLE && (++idle & 15) == 0) {
      /* Keep going until shutdown even past the deadline is not an
       * option: the main thread joins us. */
      if (atomic_load_explicit (&S.abort, memory_order_relaxed))
        return NULL;
      sched_yield ();
    }
  }
}

typedef struct {
  uint64_t seq;
  job_meta m;
} pending;

static vyre_ticket
ticket_of (const pending * p)
{
  vyre_ticket t = { p->m.slot, p->seq };
  return t;
}

/* The reaper: publish order, recycle whatever completed. */
static void *
reaper_main (void *arg)
{
  (void) arg;
  size_t cap = NSLOTS * 4, n = 0;
  pending *list = calloc (cap, sizeof *list);
  uint64_t idle = 0;
  vyre_completion c;
  vyre_error err;
  while (S.reaped < S.total && !expired ()) {
    uint64_t seq;
    while (n < cap && vyre_mpmc_pop (S.tickets, &seq, NULL) == VYRE_OK) {
      list[n].seq = seq;
      list[n].m = S.meta[seq - FIRST_SEQ];
      n++;
    }
    size_t keep = 0;
    bool progress = false;
    for (size_t k = 0; k < n; k++) {
      pending *p = &list[k];
      vyre_status st = vyre_host_ring_poll (S.ring, ticket_of (p), &c, &err);
      if (st == VYRE_ERR_NOT_READY) {
        list[keep++] = *p;
        continue;
      }
      progress = true;
      if (st != VYRE_OK || c.seq != p->seq || c.tag != p->m.tag
          || c.epoch != p->m.epoch || c.status != VYRE_STATUS_DONE) {
        THREAD_FAIL ("completion seq %llu: %s (tag %u/%u epoch %u/%u): %s\n",
            (unsigned long long) p->seq, vyre_status_name (st), c.tag,
            p->m.tag, c.epoch, p->m.epoch, err.message);
      } else if (p->m.kind == KIND_DATA) {
        if (c.crc32 != result_of (p->seq) || c.opcode == VYRE_OP_BATCH_FENCE)
          THREAD_FAIL ("data job seq %llu: wrong result\n",
              (unsigned long long) p->seq);
      } else {
        /* Fence e of tenant pr.  Its completion may become visible
         * before that of the tenant's fence e - 1 (the consumer closing
         * e - 1 advances EPOCH before it writes the completion), so order
         * is judged by what the fence proves: the tenant's EPOCH reached
         * e, every job of its e ran, and every job of its epochs <= e has
         * a visible completion.  Other tenants' epochs prove nothing. */
        uint32_t e = p->m.epoch;
        uint32_t pr = p->m.producer;
        if (e > S.last_closed[pr])
          S.last_closed[pr] = e;
        S.fences_reaped++;
        uint32_t now = __atomic_load_n (tenant_epoch_word (pr),
            __ATOMIC_ACQUIRE);
        if (now < e)
          THREAD_FAIL ("fence of tenant %u epoch %u complete, its EPOCH "
              "only %u\n", tenant_of[pr], e, now);
        uint32_t ran = atomic_load (&S.executed_in_epoch[pr][e]);
        if (ran != SHARE)
          THREAD_FAIL ("fence of tenant %u epoch %u closed with %u of %u "
              "jobs run\n", tenant_of[pr], e, ran, SHARE);
        /* Every job of the tenant's epochs <= e was handed over before
         * this fence was published (by the same producer), so those not
         * reaped yet are in this list -- and must already be complete. */
        for (size_t q = 0; q < n; q++) {
          if (list[q].m.kind == KIND_DATA && list[q].m.producer == pr
              && list[q].m.epoch <= e
              && vyre_host_ring_poll (S.ring, ticket_of (&list[q]), &c,
                  NULL) == VYRE_ERR_NOT_READY)
            THREAD_FAIL ("fence of tenant %u epoch %u completed before job "
                "seq %llu of epoch %u\n", tenant_of[pr], e,
                (unsigned long long) list[q].seq, list[q].m.epoch);
        }
      }
      if (vyre_host_ring_recycle (S.ring, ticket_of (p), &err) != VYRE_OK)
        THREAD_FAIL ("recycle: %s\n", err.message);
      S.reaped++;
    }
    n = keep;
    if (!progress && (++idle & 7) == 0)
      sched_yield ();
  }
  free (list);
  return NULL;
}

int
main (void)
{
  S.seed = ring_test_seed ();
  uint64_t target = ring_test_scaled (2000000) / SANITIZER_DIVISOR;
  S.epochs = (uint32_t) (target / (SHARE * PRODUCERS));
  if (S.epochs < 4)
    S.epochs = 4;
  S.data_jobs = (uint64_t) S.epochs * SHARE * PRODUCERS;
  S.fences = (uint64_t) S.epochs * PRODUCERS;
  S.total = S.data_jobs + S.fences;
  S.ledger_size = S.total + 16;
  S.meta = calloc (S.ledger_size, sizeof *S.meta);
  S.executed = calloc (S.ledger_size, sizeof *S.executed);
  for (uint32_t p = 0; p < PRODUCERS; p++) {
    S.executed_in_epoch[p] = calloc (S.epochs + 1,
        sizeof *S.executed_in_epoch[p]);
    S.tmem[p].tables = calloc (TABLES_WORDS, 4);
    for (uint32_t k = 0; k < ARENA_CHUNKS; k++)
      S.tmem[p].arena[k] = calloc (ARENA_BYTES, 1);
    for (uint32_t k = 0; k < RESULT_CHUNKS; k++)
      S.tmem[p].results[k] = calloc ((size_t) RESULT_CHUNK_RECORDS
          * RECORD_WORDS, 4);
  }

  S.slots = aligned_alloc (64, NSLOTS * VYRE_SLOT_BYTES);
  S.control = aligned_alloc (64, VYRE_CONTROL_WORDS * 4);
  S.completions = aligned_alloc (64, NSLOTS * VYRE_COMPLETION_WORDS * 4);
  S.mem = (vyre_ring_memory) { S.slots, S.control, S.completions, NSLOTS,
    false };
  vyre_error err;
  CHECK (vyre_host_ring_new (&S.mem, FIRST_SEQ, &S.ring, &err) == VYRE_OK);
  vyre_ring_config cfg;
  vyre_ring_config_init (&cfg);
  CHECK (vyre_host_ring_init_control (S.ring, &cfg, &err) == VYRE_OK);
  size_t qbytes = vyre_mpmc_footprint (NSLOTS * 2);
  S.tickets_mem = aligned_alloc (64, qbytes);
  CHECK (vyre_mpmc_init (S.tickets_mem, qbytes, NSLOTS * 2, 0, &S.tickets,
          &err) == VYRE_OK);
  S.deadline = ring_test_now () + WAIT_LIMIT_S;

  double t0 = ring_test_now ();
  pthread_t prod[PRODUCERS], cons[CONSUMERS], reaper;
  for (uint32_t i = 0; i < CONSUMERS; i++)
    CHECK (pthread_create (&cons[i], NULL, consumer_main,
            (void *) (uintptr_t) i) == 0);
  CHECK (pthread_create (&reaper, NULL, reaper_main, NULL) == 0);
  for (uint32_t i = 0; i < PRODUCERS; i++)
    CHECK (pthread_create (&prod[i], NULL, producer_main,
            (void *) (uintptr_t) i) == 0);
  for (uint32_t i = 0; i < PRODUCERS; i++)
    pthread_join (prod[i], NULL);
  pthread_join (reaper, NULL);
  double dt = ring_test_now () - t0;
  /* Consumers stop at SHUTDOWN (or at abort, if something failed). */
  vyre_host_ring_request_shutdown (S.ring);
  for (uint32_t i = 0; i < CONSUMERS; i++)
    pthread_join (cons[i], NULL);

  CHECK (!atomic_load (&S.abort));
  CHECK_EQ_U64 (atomic_load (&S.errors), 0);
  CHECK_EQ_U64 (S.reaped, S.total);
  for (uint32_t p = 0; p < PRODUCERS; p++)
    CHECK_EQ_U64 (S.last_closed[p], S.epochs);
  CHECK_EQ_U64 (S.fences_reaped, S.fences);
  uint64_t once = 0, wrong = 0, data_seen = 0, fence_seen = 0;
  for (uint64_t i = 0; i < S.ledger_size; i++) {
    uint8_t n = atomic_load (&S.executed[i]);
    if (S.meta[i].kind == KIND_DATA) {
      data_seen++;
      once += n == 1;
      wrong += n != 1;
    } else {
      fence_seen += S.meta[i].kind == KIND_FENCE;
      wrong += n != 0;
    }
    /* The host never issues a sequence whose low word is 0. */
    if ((uint32_t) (FIRST_SEQ + i) == 0)
      wrong += S.meta[i].kind != KIND_NONE;
  }
  CHECK_EQ_U64 (data_seen, S.data_jobs);
  CHECK_EQ_U64 (fence_seen, S.fences);
  CHECK_EQ_U64 (once, S.data_jobs);
  CHECK_EQ_U64 (wrong, 0);
  for (uint32_t p = 0; p < PRODUCERS; p++)
    for (uint32_t e = 1; e <= S.epochs; e++)
      if (atomic_load (&S.executed_in_epoch[p][e]) != SHARE)
        wrong++;
  CHECK_EQ_U64 (wrong, 0);

  uint32_t done = vyre_host_ring_read_control (S.ring, VYRE_CTRL_DONE_COUNT);
  CHECK_EQ_U64 (done, (uint32_t) S.total);
  for (uint32_t p = 0; p < PRODUCERS; p++) {
    CHECK_EQ_U64 (*tenant_epoch_word (p), S.epochs);
    CHECK_EQ_U64 (vyre_host_ring_closed_epoch (S.ring, tenant_of[p]),
        S.epochs);
  }
  CHECK_EQ_U64 (vyre_host_ring_closed_epoch (S.ring, 0), 0);
  CHECK_EQ_U64 (vyre_host_ring_read_control (S.ring, VYRE_CTRL_FENCES_DONE),
      (uint32_t) S.fences);
  CHECK_EQ_U64 (vyre_host_ring_read_control (S.ring, VYRE_CTRL_FAULTS), 0);
  CHECK_EQ_U64 (vyre_host_ring_read_control (S.ring,
          VYRE_CTRL_OPCODE_COUNTERS + VYRE_OP_BATCH_FENCE), S.fences);
  CHECK_EQ_U64 ((uint64_t) vyre_host_ring_read_control (S.ring,
          VYRE_CTRL_OPCODE_COUNTERS + VYRE_OP_SCAN)
      + vyre_host_ring_read_control (S.ring,
          VYRE_CTRL_OPCODE_COUNTERS + VYRE_OP_CRC32)
      + vyre_host_ring_read_control (S.ring,
          VYRE_CTRL_OPCODE_COUNTERS + VYRE_OP_HISTOGRAM), S.data_jobs);
  CHECK_EQ_U64 (vyre_host_ring_read_control (S.ring, VYRE_CTRL_EXITED),
      CONSUMERS);
  CHECK_EQ_U64 (vyre_host_ring_read_control (S.ring, VYRE_CTRL_ACTIVE), 0);
  CHECK_EQ_U64 (vyre_host_ring_outstanding (S.ring), 0);

  fprintf (stderr, "%llu data jobs + %llu fences through %u slots in %.2f s "
      "(%.0f k jobs/s); %u fence re-queues, %llu publish retries\n",
      (unsigned long long) S.data_jobs, (unsigned long long) S.fences, NSLOTS,
      dt, (double) S.total / dt / 1e3,
      vyre_host_ring_read_control (S.ring, VYRE_CTRL_REQUEUES),
      (unsigned long long) atomic_load (&S.publish_retries));

  vyre_host_ring_free (S.ring);
  free (S.tickets_mem);
  free (S.slots);
  free (S.control);
  free (S.completions);
  free (S.meta);
  free (S.executed);
  for (uint32_t p = 0; p < PRODUCERS; p++) {
    free (S.executed_in_epoch[p]);
    free (S.tmem[p].tables);
    for (uint32_t k = 0; k < ARENA_CHUNKS; k++)
      free (S.tmem[p].arena[k]);
    for (uint32_t k = 0; k < RESULT_CHUNKS; k++)
      free (S.tmem[p].results[k]);
  }
  return ring_test_finish ("test_ring_protocol_mt");
}
