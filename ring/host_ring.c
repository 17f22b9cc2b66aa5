/*
 * host_ring.c - see host_ring.h.
 *
 * Shared words (slots, control, completions) are only ever touched
 * through the store_order.h helpers: they are plain uint32_t words in the
 * wire format, and may be write-combining memory.
 *
 * Why SEQ_LO + SEQ_HI identify a completion without clearing the entry:
 * the host never writes completion entries while a consumer runs (on
 * NVIDIA they are host-cached memory the GPU owns), so an entry still
 * holds the previous job of its slot when a new one is published.  The
 * consumer writes SEQ_HI before SEQ_LO, so a reader can see a fresh
 * SEQ_HI next to a stale SEQ_LO; what keeps that from matching is that a
 * stale SEQ_LO never equals the new one:
 *   - the slot's previous sequence differs from the new one by less than
 *     2^32 (the free list is FIFO, so a slot is reused after at most
 *     ~2 * nslots other publishes, and nslots <= 2^20), and
 *   - an entry never used since init is all zero, and the host never
 *     issues a sequence whose low word is 0.
 */
#include "host_ring.h"

#include <inttypes.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mpmc_queue.h"
#include "store_order.h"

/* Host-side record of what is in flight in each slot. */
typedef struct {
  _Atomic uint64_t inflight_seq;  /* published, not recycled; 0 = free */
  _Atomic uint64_t done_seq;      /* last sequence poll saw complete   */
  _Atomic uint32_t opcode;        /* of the job in flight              */
  _Atomic uint32_t epoch;
  _Atomic uint32_t tenant;
} slot_record;

struct vyre_host_ring {
  vyre_ring_memory mem;
  vyre_mpmc_queue *free_slots;
  void *free_mem;
  slot_record *records;
  /* Hot counters on their own lines: every publish touches next_seq. */
  alignas (64) _Atomic uint64_t next_seq;
  alignas (64) _Atomic uint32_t closed_epoch[VYRE_MAX_TENANTS];
  _Atomic uint32_t tenant_outstanding[VYRE_MAX_TENANTS];
  _Atomic uint32_t tables_serial;         /* last TABLES_SERIAL written */
  _Atomic uint32_t outstanding;
  _Atomic uint32_t publish_hint;
  _Atomic bool shutdown;
  _Atomic uint64_t torn_reads;    /* entries read before all words landed */
};


/* Statuses a caller meets in a hot loop (NOT_READY, QUEUE_FULL) get a
 * constant message: formatting one on every poll would cost more than
 * the poll. */
static vyre_status
fail_const (vyre_error * err, vyre_status status, const char *message)
{
  if (err != NULL) {
    err->status = status;
    size_t n = strlen (message);
    if (n >= sizeof err->message)
      n = sizeof err->message - 1;
    memcpy (err->message, message, n);
    err->message[n] = '\0';
  }
  return status;
}

static uint32_t *
slot_words (const vyre_host_ring * ring, uint32_t slot)
{
  return ring->mem.slots + (size_t) slot * VYRE_SLOT_WORDS;
}

static uint32_t *
completion_words (const vyre_host_ring * ring, uint32_t slot)
{
  return ring->mem.completions + (size_t) slot * VYRE_COMPLETION_WORDS;
}

static void
publish_store (const vyre_host_ring * ring, uint32_t * p, uint32_t v)
{
  if (ring->mem.write_combining)
    vyre_store_release_u32 (p, v);
  else
    vyre_store_release_cached_u32 (p, v);
}

void
vyre_ring_config_init (vyre_ring_config * cfg)
{
  if (cfg == NULL)
    return;
  memset (cfg, 0, sizeof *cfg);
}

/* Tenant 0 before it is given memory: the control opcodes only. */
#define TENANT0_DEFAULT_OPS ((1u << VYRE_OP_NOP) | (1u << VYRE_OP_BATCH_FENCE))

static vyre_status
check_memory (const vyre_ring_memory * mem, vyre_error * err)
{
  if (mem == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "ring memory is NULL. Fix: describe the mapped regions in a "
        "vyre_ring_memory.");
  if (mem->slots == NULL || mem->control == NULL || mem->completions == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "ring memory region %s is NULL. Fix: map slots, control and "
        "completions before creating the ring.",
        mem->slots == NULL ? "slots" : mem->control == NULL ? "control" :
        "completions");
  if (((uintptr_t) mem->slots | (uintptr_t) mem->control
          | (uintptr_t) mem->completions) % 4 != 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "ring memory regions must be 4-byte aligned (slots %p, control %p, "
        "completions %p). Fix: map them at 64-byte aligned offsets.",
        (void *) mem->slots, (void *) mem->control,
        (void *) mem->completions);
  if (mem->nslots == 0 || mem->nslots > VYRE_HOST_RING_MAX_SLOTS)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "ring of %" PRIu32 " slots (limit: 1..%u). Fix: size the ring "
        "within the limit.", mem->nslots, VYRE_HOST_RING_MAX_SLOTS);
  return VYRE_OK;
}

vyre_status
vyre_host_ring_new (const vyre_ring_memory * mem, uint64_t first_seq,
    vyre_host_ring ** out, vyre_error * err)
{
  if (out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_host_ring_new: out is NULL. Fix: pass where to store the "
        "ring.");
  *out = NULL;
  vyre_status st = check_memory (mem, err);
  if (st != VYRE_OK)
    return st;

  uint32_t capacity = 2;
  while (capacity < mem->nslots)
    capacity <<= 1;
  size_t qbytes = (vyre_mpmc_footprint (capacity) + 63) & ~(size_t) 63;
  size_t rbytes = (sizeof (struct vyre_host_ring) + 63) & ~(size_t) 63;

  struct vyre_host_ring *ring = aligned_alloc (64, rbytes);
  void *qmem = aligned_alloc (64, qbytes);
  slot_record *records = calloc (mem->nslots, sizeof *records);
  if (ring == NULL || qmem == NULL || records == NULL) {
    free (ring);
    free (qmem);
    free (records);
    return vyre_fail (err, VYRE_ERR_OVER_BUDGET,
        "out of host memory for a ring of %" PRIu32 " slots. Fix: use a "
        "smaller ring or free memory.", mem->nslots);
  }
  memset (ring, 0, rbytes);
  ring->mem = *mem;
  ring->free_mem = qmem;
  ring->records = records;
  st = vyre_mpmc_init (qmem, qbytes, capacity, 0, &ring->free_slots, err);
  for (uint32_t s = 0; st == VYRE_OK && s < mem->nslots; s++)
    st = vyre_mpmc_push (ring->free_slots, s, err);
  if (st != VYRE_OK) {
    vyre_host_ring_free (ring);
    return st;
  }
  atomic_init (&ring->next_seq, first_seq);
  atomic_init (&ring->tables_serial, 0);
  for (uint32_t t = 0; t < VYRE_MAX_TENANTS; t++) {
    atomic_init (&ring->closed_epoch[t], 0);
    atomic_init (&ring->tenant_outstanding[t], 0);
  }
  atomic_init (&ring->outstanding, 0);
  atomic_init (&ring->publish_hint, 0);
  atomic_init (&ring->shutdown, false);
  *out = ring;
  return VYRE_OK;
}

void
vyre_host_ring_free (vyre_host_ring * ring)
{
  if (ring == NULL)
    return;
  free (ring->free_mem);
  free (ring->records);
  free (ring);
}

vyre_status
vyre_host_ring_init_control (vyre_host_ring * ring,
    const vyre_ring_config * cfg, vyre_error * err)
{
  if (ring == NULL || cfg == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_host_ring_init_control: %s is NULL. Fix: pass the ring and a "
        "config from vyre_ring_config_init.", ring == NULL ? "ring" : "cfg");
  uint32_t busy = atomic_load (&ring->outstanding);
  if (busy != 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "cannot initialise the control block with %" PRIu32 " jobs "
        "outstanding. Fix: initialise before publishing, or poll and "
        "recycle everything first.", busy);
  uint32_t *ctrl = ring->mem.control;
  for (uint32_t i = 0; i < (size_t) ring->mem.nslots * VYRE_SLOT_WORDS; i++)
    vyre_store_relaxed_u32 (&ring->mem.slots[i], 0);
  for (uint32_t i = 0; i < (size_t) ring->mem.nslots * VYRE_COMPLETION_WORDS;
      i++)
    vyre_store_relaxed_u32 (&ring->mem.completions[i], 0);
  for (uint32_t i = 0; i < VYRE_CONTROL_WORDS; i++)
    vyre_store_relaxed_u32 (&ctrl[i], 0);

  vyre_store_relaxed_u32 (&ctrl[VYRE_CTRL_NSLOTS], ring->mem.nslots);
  vyre_store_relaxed_u32 (&ctrl[VYRE_CTRL_POLL_BUDGET], cfg->poll_budget);
  vyre_store_relaxed_u32 (&ctrl[VYRE_CTRL_ITER_BUDGET], cfg->iter_budget);
  vyre_store_relaxed_u32 (&ctrl[VYRE_CTRL_LAUNCH_ID], cfg->launch_id);
  vyre_store_relaxed_u32 (&ctrl[VYRE_CTRL_TENANTS + VYRE_TENANT_OPS_MASK],
      TENANT0_DEFAULT_OPS);
  for (uint32_t t = 0; t < VYRE_MAX_TENANTS; t++)
    atomic_store (&ring->closed_epoch[t], 0);
  atomic_store (&ring->shutdown, false);
  /* Version last: a consumer that sees it sees the knobs. */
  publish_store (ring, &ctrl[VYRE_CTRL_PROTOCOL_VERSION],
      VYRE_PROTOCOL_VERSION);
  return VYRE_OK;
}

static void
put64 (uint32_t * rec, uint32_t lo_word, uint64_t v)
{
  vyre_store_relaxed_u32 (&rec[lo_word], (uint32_t) v);
  vyre_store_relaxed_u32 (&rec[lo_word + 1], (uint32_t) (v >> 32));
}

static vyre_status
check_tenant_config (uint32_t t, const vyre_tenant_config * cfg,
    vyre_error * err)
{
  if ((cfg->ops_mask & ~VYRE_TENANT_ALL_OPS) != 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " mask 0x%" PRIx32 " has bits for unknown "
        "opcodes (allowed: 0x%x). Fix: build masks from (1u << VYRE_OP_*).",
        t, cfg->ops_mask, VYRE_TENANT_ALL_OPS);
  const uint32_t data_ops = (1u << VYRE_OP_SCAN) | (1u << VYRE_OP_CRC32) |
      (1u << VYRE_OP_HISTOGRAM);
  if ((cfg->ops_mask & data_ops) == 0)
    return VYRE_OK;
  const char *missing = cfg->tables == 0 ? "tables" :
      (cfg->carry == 0 && cfg->max_carry > 0) ? "carry" : NULL;
  if (missing != NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " may run data jobs but has no %s address. Fix: "
        "give every tenant that scans its tables and carry windows.", t,
        missing);
  if (cfg->arena_chunk_bytes == 0 || cfg->arena_chunks == 0
      || cfg->arena_chunks > VYRE_TENANT_CHUNKS_MAX
      || cfg->result_chunk_records == 0 || cfg->result_chunks == 0
      || cfg->result_chunks > VYRE_TENANT_CHUNKS_MAX)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " has %" PRIu32 " arena chunks of %" PRIu64
        " bytes and %" PRIu32 " result chunks of %" PRIu32 " records. Fix: "
        "1 to %u chunks of each, of at least one byte or record.", t,
        cfg->arena_chunks, cfg->arena_chunk_bytes, cfg->result_chunks,
        cfg->result_chunk_records, VYRE_TENANT_CHUNKS_MAX);
  if (cfg->result_count == 0 || cfg->max_matches % VYRE_RESULT_LANES != 0
      || cfg->result_count >
      (uint64_t) cfg->result_chunks * cfg->result_chunk_records)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " has %" PRIu32 " result records of %" PRIu32
        " match entries in %" PRIu32 " chunks of %" PRIu32 ". Fix: at least "
        "one record, no more than the chunks hold, entries a multiple of "
        "VYRE_RESULT_LANES (%u).", t, cfg->result_count, cfg->max_matches,
        cfg->result_chunks, cfg->result_chunk_records, VYRE_RESULT_LANES);
  return VYRE_OK;
}

static uint32_t *
tenant_record (vyre_host_ring * ring, uint32_t t)
{
  return ring->mem.control + VYRE_CTRL_TENANTS +
      (size_t) t * VYRE_TENANT_WORDS;
}

static uint32_t
chunk_table_word (vyre_chunk_kind kind, uint32_t index)
{
  return (kind == VYRE_CHUNK_ARENA ? VYRE_TENANT_ARENA_CHUNK_TABLE :
      VYRE_TENANT_RESULT_CHUNK_TABLE) + 2 * index;
}

vyre_status
vyre_host_ring_set_tenant (vyre_host_ring * ring, uint32_t t,
    const vyre_tenant_config * cfg, vyre_error * err)
{
  if (ring == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_host_ring_set_tenant: ring is NULL. Fix: pass the ring.");
  if (t >= VYRE_MAX_TENANTS)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " is out of range (below %u). Fix: use a tenant "
        "id below VYRE_MAX_TENANTS.", t, VYRE_MAX_TENANTS);
  uint32_t busy = atomic_load (&ring->tenant_outstanding[t]);
  if (busy != 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " still has %" PRIu32 " jobs outstanding; its "
        "record cannot change under them. Fix: poll and recycle the "
        "tenant's jobs first.", t, busy);
  vyre_status st = cfg != NULL ? check_tenant_config (t, cfg, err) : VYRE_OK;
  if (st != VYRE_OK)
    return st;
  uint32_t *rec = tenant_record (ring, t);
  /* Disabled first, so no claim of a stale job sees a half-written
   * record; the mask goes in last, with release. */
  publish_store (ring, &rec[VYRE_TENANT_OPS_MASK], 0);
  for (uint32_t i = 1; i < VYRE_TENANT_WORDS; i++)
    vyre_store_relaxed_u32 (&rec[i], 0);
  atomic_store (&ring->closed_epoch[t], 0);
  if (cfg == NULL)
    return VYRE_OK;
  put64 (rec, VYRE_TENANT_TABLES_LO, cfg->tables);
  put64 (rec, VYRE_TENANT_ARENA_CHUNK_BYTES_LO, cfg->arena_chunk_bytes);
  vyre_store_relaxed_u32 (&rec[VYRE_TENANT_ARENA_CHUNKS], cfg->arena_chunks);
  vyre_store_relaxed_u32 (&rec[VYRE_TENANT_RESULT_CHUNK_RECORDS],
      cfg->result_chunk_records);
  vyre_store_relaxed_u32 (&rec[VYRE_TENANT_RESULT_CHUNKS],
      cfg->result_chunks);
  for (uint32_t i = 0; i < VYRE_TENANT_CHUNKS_MAX; i++) {
    put64 (rec, chunk_table_word (VYRE_CHUNK_ARENA, i), cfg->arena_chunk[i]);
    put64 (rec, chunk_table_word (VYRE_CHUNK_RESULTS, i),
        cfg->result_chunk[i]);
  }
  vyre_store_relaxed_u32 (&rec[VYRE_TENANT_RESULT_COUNT], cfg->result_count);
  vyre_store_relaxed_u32 (&rec[VYRE_TENANT_MAX_MATCHES], cfg->max_matches);
  put64 (rec, VYRE_TENANT_CARRY_LO, cfg->carry);
  vyre_store_relaxed_u32 (&rec[VYRE_TENANT_MAX_CARRY], cfg->max_carry);
  uint32_t serial;
  do
    serial = atomic_fetch_add (&ring->tables_serial, 1) + 1;
  while (serial == 0);
  vyre_store_relaxed_u32 (&rec[VYRE_TENANT_TABLES_SERIAL], serial);
  publish_store (ring, &rec[VYRE_TENANT_OPS_MASK], cfg->ops_mask);
  return VYRE_OK;
}

vyre_status
vyre_host_ring_set_tenant_chunk (vyre_host_ring * ring, uint32_t t,
    vyre_chunk_kind kind, uint32_t index, uint64_t address, vyre_error * err)
{
  if (ring == NULL || t >= VYRE_MAX_TENANTS || address == 0
      || (kind != VYRE_CHUNK_ARENA && kind != VYRE_CHUNK_RESULTS))
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_host_ring_set_tenant_chunk: no ring, tenant %" PRIu32
        " out of range, an unknown chunk kind or address 0. Fix: pass the "
        "ring, a tenant id below %u, VYRE_CHUNK_ARENA or VYRE_CHUNK_RESULTS "
        "and the chunk's address.", t, VYRE_MAX_TENANTS);
  uint32_t *rec = tenant_record (ring, t);
  const char *what = kind == VYRE_CHUNK_ARENA ? "arena" : "result";
  uint32_t n = vyre_load_relaxed_u32 (&rec[kind == VYRE_CHUNK_ARENA ?
          VYRE_TENANT_ARENA_CHUNKS : VYRE_TENANT_RESULT_CHUNKS]);
  /* The counts of a record without data opcodes were never checked: the
   * table's own size bounds the index too. */
  if (vyre_load_relaxed_u32 (&rec[VYRE_TENANT_OPS_MASK]) == 0 || index >= n
      || index >= VYRE_TENANT_CHUNKS_MAX)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " has no %s chunk %" PRIu32 " (its record holds %"
        PRIu32 "). Fix: register the tenant first and stay inside the "
        "chunk count it was registered with.", t, what, index, n);
  uint32_t w = chunk_table_word (kind, index);
  uint64_t old = (uint64_t) vyre_load_relaxed_u32 (&rec[w]) |
      ((uint64_t) vyre_load_relaxed_u32 (&rec[w + 1]) << 32);
  if (old != 0 && old != address)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "tenant %" PRIu32 " %s chunk %" PRIu32 " is already at 0x%" PRIx64
        "; jobs in flight may use it. Fix: fill each entry once per "
        "registration.", t, what, index, old);
  put64 (rec, w, address);
  return VYRE_OK;
}

uint32_t
vyre_host_ring_tenant_outstanding (const vyre_host_ring * ring, uint32_t t)
{
  if (ring == NULL || t >= VYRE_MAX_TENANTS)
    return 0;
  return atomic_load (&((vyre_host_ring *) ring)->tenant_outstanding[t]);
}

/* Next sequence number, never one whose low word is 0 (see the top of
 * this file).  Each fetch_add returns a distinct value, so skipping is
 * safe with any number of producers. */
static uint64_t
next_seq (vyre_host_ring * ring)
{
  uint64_t seq;
  do
    seq = atomic_fetch_add_explicit (&ring->next_seq, 1, memory_order_relaxed);
  while ((uint32_t) seq == 0);
  return seq;
}

vyre_status
vyre_host_ring_publish (vyre_host_ring * ring, const vyre_job * job,
    vyre_ticket * out, vyre_error * err)
{
  if (ring == NULL || job == NULL || out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_host_ring_publish: %s is NULL. Fix: pass the ring, the job "
        "and where to store the ticket.",
        ring == NULL ? "ring" : job == NULL ? "job" : "out");
  if (atomic_load_explicit (&ring->shutdown, memory_order_relaxed))
    return vyre_fail (err, VYRE_ERR_SHUTDOWN,
        "the ring is shutting down; job not published. Fix: publish before "
        "vyre_host_ring_request_shutdown, or build a new ring.");

  /* A tenant id out of range goes to the consumer, which faults it
   * BAD_TENANT: the host keeps no epochs for it. */
  bool tenant_ok = job->tenant < VYRE_MAX_TENANTS;
  if (tenant_ok && (vyre_opcode_is_data (job->opcode)
          || job->opcode == VYRE_OP_BATCH_FENCE)) {
    /* closed only grows, so a check against a stale value is merely
     * conservative. */
    uint32_t closed = atomic_load_explicit (&ring->closed_epoch[job->tenant],
        memory_order_acquire);
    uint32_t ahead = job->epoch - closed;
    if (job->epoch == 0 || (int32_t) ahead <= 0)
      return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
          "%s for epoch %" PRIu32 ", which is not open (last closed: %"
          PRIu32 "). Fix: epochs start at 1; publish an epoch's jobs and "
          "its fence before that fence completes.",
          job->opcode == VYRE_OP_BATCH_FENCE ? "fence" : "data job",
          job->epoch, closed);
    if (ahead > VYRE_EPOCH_WINDOW - 1)
      return vyre_fail (err, VYRE_ERR_QUEUE_FULL,
          "epoch %" PRIu32 " is %" PRIu32 " epochs past the last closed one "
          "(%" PRIu32 "); at most %u may be open. Fix: poll fence "
          "completions so epochs close, then retry (backpressure).",
          job->epoch, ahead, closed, VYRE_EPOCH_WINDOW - 1u);
  }

  uint64_t slot64;
  if (vyre_mpmc_pop (ring->free_slots, &slot64, NULL) != VYRE_OK)
    return fail_const (err, VYRE_ERR_QUEUE_FULL,
        "every ring slot is in flight. Fix: poll and recycle completed "
        "tickets, then retry (backpressure, not an error).");
  uint32_t slot = (uint32_t) slot64;
  uint64_t seq = next_seq (ring);
  atomic_fetch_add_explicit (&ring->outstanding, 1, memory_order_relaxed);
  if (tenant_ok)
    atomic_fetch_add_explicit (&ring->tenant_outstanding[job->tenant], 1,
        memory_order_relaxed);

  slot_record *rec = &ring->records[slot];
  atomic_store_explicit (&rec->tenant, job->tenant, memory_order_relaxed);
  atomic_store_explicit (&rec->opcode, job->opcode, memory_order_relaxed);
  atomic_store_explicit (&rec->epoch, job->epoch, memory_order_relaxed);
  atomic_store_explicit (&rec->inflight_seq, seq, memory_order_release);

  vyre_job j = *job;
  j.seq = seq;
  vyre_slot_words words;
  vyre_slot_encode (&j, &words);
  uint32_t *w = slot_words (ring, slot);
  /* The slot's STATUS is DONE / FAULT / EMPTY here: no consumer acts on
   * it, though one may peek at the payload, hence atomic stores. */
  for (uint32_t i = VYRE_SLOT_STATUS + 1; i < VYRE_SLOT_WORDS; i++)
    vyre_store_relaxed_u32 (&w[i], words.w[i]);
  publish_store (ring, &w[VYRE_SLOT_STATUS], VYRE_STATUS_PUBLISHED);

  /* A hint for pollers, not a count: racing producers may store their
   * values out of order; it only ever has to change.  It orders nothing
   * (pollers still acquire STATUS), so a relaxed store without the WC
   * fences: the sfence after STATUS above already drained the WC buffer,
   * and the next publish's sfence drains this one. */
  uint32_t hint = atomic_fetch_add_explicit (&ring->publish_hint, 1,
      memory_order_relaxed) + 1;
  vyre_store_relaxed_u32 (&ring->mem.control[VYRE_CTRL_PUBLISH_HINT], hint);

  out->slot = slot;
  out->seq = seq;
  return VYRE_OK;
}

static vyre_status
check_ticket (const vyre_host_ring * ring, vyre_ticket ticket,
    const char *what, vyre_error * err)
{
  if (ring == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "%s: ring is NULL. Fix: pass the ring the ticket came from.", what);
  if (ticket.slot >= ring->mem.nslots)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "%s: ticket slot %" PRIu32 " is out of range (ring of %" PRIu32
        " slots). Fix: pass a ticket from vyre_host_ring_publish of this "
        "ring.", what, ticket.slot, ring->mem.nslots);
  return VYRE_OK;
}

static void
note_closed_epoch (vyre_host_ring * ring, uint32_t tenant, uint32_t epoch)
{
  if (tenant >= VYRE_MAX_TENANTS)
    return;
  _Atomic uint32_t *closed = &ring->closed_epoch[tenant];
  uint32_t cur = atomic_load_explicit (closed, memory_order_relaxed);
  while ((int32_t) (epoch - cur) > 0
      && !atomic_compare_exchange_weak_explicit (closed, &cur,
          epoch, memory_order_release, memory_order_relaxed)) {
  }
}

vyre_status
vyre_host_ring_poll (vyre_host_ring * ring, vyre_ticket ticket,
    vyre_completion * out, vyre_error * err)
{
  vyre_status st = check_ticket (ring, ticket, "vyre_host_ring_poll", err);
  if (st != VYRE_OK)
    return st;
  if (out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_host_ring_poll: out is NULL. Fix: pass a vyre_completion.");
  slot_record *rec = &ring->records[ticket.slot];
  if (atomic_load_explicit (&rec->inflight_seq, memory_order_acquire)
      != ticket.seq || ticket.seq == 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "ticket (slot %" PRIu32 ", seq %" PRIu64 ") is not outstanding: it "
        "was recycled already or never published here. Fix: poll a ticket "
        "only between its publish and its recycle.", ticket.slot,
        ticket.seq);

  uint32_t *cw = completion_words (ring, ticket.slot);
  /* SEQ_LO is the consumer's last store (release); acquiring it makes
   * the rest of the entry and the result record visible. */
  uint32_t lo = vyre_load_acquire_u32 (&cw[VYRE_COMP_SEQ_LO]);
  if (lo != (uint32_t) ticket.seq)
    return fail_const (err, VYRE_ERR_NOT_READY,
        "job not complete yet. Fix: poll again later.");
  if (ring->mem.write_combining)
    vyre_load_fence ();
  vyre_completion_words words;
  words.w[VYRE_COMP_SEQ_LO] = lo;
  for (uint32_t i = VYRE_COMP_SEQ_LO + 1; i < VYRE_COMPLETION_WORDS; i++)
    words.w[i] = vyre_load_relaxed_u32 (&cw[i]);
  if (words.w[VYRE_COMP_SEQ_HI] != (uint32_t) (ticket.seq >> 32))
    return fail_const (err, VYRE_ERR_NOT_READY,
        "job not complete yet. Fix: poll again later.");
  /* SEQ_LO came first, but a GPU's other words may still be on their way
   * (its release orders them for GPU threads only): the check word says
   * whether all of them are this job's. */
  if (vyre_completion_words_check (&words) != words.w[VYRE_COMP_CHECK]) {
    atomic_fetch_add_explicit (&ring->torn_reads, 1, memory_order_relaxed);
    return fail_const (err, VYRE_ERR_NOT_READY,
        "completion entry not whole yet. Fix: poll again later.");
  }

  /* The sequence matches: the consumer is finished with the slot whatever
   * the rest of the entry says, so it may be recycled.  Only ever move
   * done_seq forward: a late, redundant poll of this ticket from another
   * thread must not overwrite the mark of the slot's next job. */
  uint64_t done = atomic_load_explicit (&rec->done_seq, memory_order_relaxed);
  while ((done == 0 || (int64_t) (ticket.seq - done) > 0)
      && !atomic_compare_exchange_weak_explicit (&rec->done_seq, &done,
          ticket.seq, memory_order_release, memory_order_relaxed)) {
  }

  vyre_completion c;
  vyre_error derr;
  if (vyre_completion_decode (&words, &c, &derr) != VYRE_OK) {
    *out = c;
    return vyre_fail (err, VYRE_ERR_MALFORMED, "slot %" PRIu32 ": %s",
        ticket.slot, derr.message);
  }
  *out = c;
  uint32_t opcode = atomic_load_explicit (&rec->opcode, memory_order_relaxed);
  uint32_t epoch = atomic_load_explicit (&rec->epoch, memory_order_relaxed);
  if (c.opcode != opcode)
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "completion seq %" PRIu64 " (slot %" PRIu32 ") reports opcode %"
        PRIu32 " but opcode %" PRIu32 " was published. Fix: the consumer "
        "mixed up slots; check the shader's claim and completion paths.",
        ticket.seq, ticket.slot, c.opcode, opcode);

  if (c.status == VYRE_STATUS_FAULT)
    return vyre_fail (err, VYRE_ERR_FAULT,
        "job seq %" PRIu64 " (slot %" PRIu32 ", opcode %" PRIu32 ", epoch %"
        PRIu32 ") completed as FAULT %s on workgroup %" PRIu32 ". %s",
        c.seq, ticket.slot, c.opcode, epoch, vyre_fault_name (c.fault_code),
        c.workgroup, vyre_fault_fix (c.fault_code));

  if (opcode == VYRE_OP_BATCH_FENCE) {
    if (c.epoch != epoch)
      return vyre_fail (err, VYRE_ERR_MALFORMED,
          "fence seq %" PRIu64 " was published for epoch %" PRIu32 " but "
          "completed epoch %" PRIu32 ". Fix: the consumer's fence path is "
          "wrong; it must close exactly the fence's epoch.",
          ticket.seq, epoch, c.epoch);
    note_closed_epoch (ring, atomic_load_explicit (&rec->tenant,
            memory_order_relaxed), c.epoch);
  }
  return VYRE_OK;
}

vyre_status
vyre_host_ring_recycle (vyre_host_ring * ring, vyre_ticket ticket,
    vyre_error * err)
{
  vyre_status st = check_ticket (ring, ticket, "vyre_host_ring_recycle", err);
  if (st != VYRE_OK)
    return st;
  slot_record *rec = &ring->records[ticket.slot];
  uint64_t inflight = atomic_load_explicit (&rec->inflight_seq,
      memory_order_acquire);
  if (inflight != ticket.seq || ticket.seq == 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "recycle of ticket (slot %" PRIu32 ", seq %" PRIu64 ") refused: it "
        "is not outstanding (recycled already?). Fix: recycle each ticket "
        "exactly once.", ticket.slot, ticket.seq);
  if (atomic_load_explicit (&rec->done_seq, memory_order_acquire)
      != ticket.seq)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "recycle of ticket (slot %" PRIu32 ", seq %" PRIu64 ") refused: "
        "poll has not reported it complete, a consumer may still use the "
        "slot. Fix: recycle only after vyre_host_ring_poll returned "
        "OK or FAULT.", ticket.slot, ticket.seq);
  /* The CAS makes exactly one of two racing recycles win. */
  uint64_t expect = ticket.seq;
  if (!atomic_compare_exchange_strong_explicit (&rec->inflight_seq, &expect,
          0, memory_order_acq_rel, memory_order_relaxed))
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "recycle of ticket (slot %" PRIu32 ", seq %" PRIu64 ") refused: it "
        "was recycled concurrently. Fix: recycle each ticket exactly once.",
        ticket.slot, ticket.seq);
  uint32_t tenant = atomic_load_explicit (&rec->tenant, memory_order_relaxed);
  if (tenant < VYRE_MAX_TENANTS)
    atomic_fetch_sub_explicit (&ring->tenant_outstanding[tenant], 1,
        memory_order_relaxed);
  atomic_fetch_sub_explicit (&ring->outstanding, 1, memory_order_relaxed);

  /* The free list has room for every slot, so a FULL here is only the
   * transient of a Vyukov queue whose consumer (a publisher popping) was
   * preempted mid-pop: retry until it has run on. */
  for (uint32_t tries = 0;; tries++) {
    if (vyre_mpmc_push (ring->free_slots, ticket.slot, NULL) == VYRE_OK)
      return VYRE_OK;
    if (tries >= 10u * 1000 * 1000)
      return vyre_fail (err, VYRE_ERR_QUEUE_FULL,
          "slot %" PRIu32 " could not be returned to the free list: a "
          "publishing thread stalled inside it. Fix: the slot is lost; "
          "rebuild the ring if publishers were killed mid-call.",
          ticket.slot);
    if (tries % 64 == 63)
      sched_yield ();
  }
}

void
vyre_host_ring_request_shutdown (vyre_host_ring * ring)
{
  if (ring == NULL)
    return;
  atomic_store (&ring->shutdown, true);
  publish_store (ring, &ring->mem.control[VYRE_CTRL_SHUTDOWN], 1);
}

uint32_t
vyre_host_ring_read_control (const vyre_host_ring * ring, uint32_t word)
{
  if (ring == NULL || word >= VYRE_CONTROL_WORDS)
    return 0;
  uint32_t v = vyre_load_acquire_u32 (&ring->mem.control[word]);
  if (ring->mem.write_combining)
    vyre_load_fence ();
  return v;
}

uint32_t
vyre_host_ring_outstanding (const vyre_host_ring * ring)
{
  return ring == NULL ? 0 : atomic_load (&((vyre_host_ring *) ring)->outstanding);
}

uint64_t
vyre_host_ring_torn_reads (const vyre_host_ring * ring)
{
  return ring == NULL ? 0
      : atomic_load_explicit (&((vyre_host_ring *) ring)->torn_reads,
      memory_order_relaxed);
}

uint32_t
vyre_host_ring_closed_epoch (const vyre_host_ring * ring, uint32_t t)
{
  return ring == NULL || t >= VYRE_MAX_TENANTS ? 0
      : atomic_load (&((vyre_host_ring *) ring)->closed_epoch[t]);
}
