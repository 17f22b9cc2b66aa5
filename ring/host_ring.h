/*
 * host_ring.h - the producer side of the ring, over memory the caller
 * maps.
 *
 * The ring's three regions (slots, control, completions; see
 * vyre_protocol.h) may be anywhere the caller can map them: a GPU BAR
 * mapping plus host-cached memory for a real kernel, plain heap memory
 * for a CPU consumer in another thread, or one MAP_SHARED block used by a
 * consumer in another process.  Only the word layout is shared; the host
 * ring object itself (free-slot list, sequence counter, per-slot records)
 * is private to the producing process.
 *
 * Life of a job:
 *   publish   pop a free slot, give the job the next sequence number,
 *             write the payload words, then STATUS = PUBLISHED (release,
 *             WC-safe; see store_order.h).  No free slot, or an epoch too
 *             far ahead of the last closed one: VYRE_ERR_QUEUE_FULL --
 *             backpressure; reap completions and retry.
 *   poll      VYRE_ERR_NOT_READY until the completion entry carries the
 *             ticket's sequence (SEQ_LO is written last by the consumer),
 *             then VYRE_OK (DONE) or VYRE_ERR_FAULT (FAULT, the completion
 *             is still filled in and the message names the fault and its
 *             Fix).  A garbage entry is VYRE_ERR_MALFORMED.
 *   recycle   after poll reported the job complete, return the slot to
 *             the free list.  Exactly once per ticket.
 *
 * Every function is safe to call from several threads at once (several
 * producers, pollers and recyclers); a given ticket is polled and
 * recycled by whoever holds it.
 *
 * Epochs: a data job names the epoch it belongs to; a BATCH_FENCE for
 * epoch e (with FENCE_JOBS = the number of data jobs of e) completes only
 * after all of them did and after the fence of e - 1.  The host learns
 * that epoch e closed when it polls the fence's completion, and never
 * lets more than VYRE_EPOCH_WINDOW - 1 epochs be open, because the kernel
 * counts completed jobs per epoch in VYRE_EPOCH_WINDOW counters indexed
 * by epoch % VYRE_EPOCH_WINDOW.  Epochs are per tenant: each tenant's
 * start at 1 and close in order, independently of the others.  The
 * kernel re-queues a fence that is not ready, so a fence occupies a slot
 * until its epoch can close: keep the ring larger than the number of
 * fences that may wait at once.
 */
#ifndef VYRE_HOST_RING_H
#define VYRE_HOST_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "vyre_error.h"
#include "vyre_protocol.h"
#include "vyre_slot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the three regions are mapped.  slots: nslots * VYRE_SLOT_WORDS
 * words; control: VYRE_CONTROL_WORDS words; completions: nslots *
 * VYRE_COMPLETION_WORDS words.  All 4-byte aligned (64 recommended).
 * write_combining: set when any of them is WC memory (a BAR mapping); the
 * host then fences its publication stores (sfence) and its completion
 * reads (lfence). */
typedef struct {
  uint32_t *slots;
  uint32_t *control;
  uint32_t *completions;
  uint32_t nslots;
  bool write_combining;
} vyre_ring_memory;

/* Knobs vyre_host_ring_init_control writes into the control block. */
typedef struct {
  uint32_t poll_budget;   /* VYRE_CTRL_POLL_BUDGET, 0 = never retire idle */
  uint32_t iter_budget;   /* VYRE_CTRL_ITER_BUDGET, 0 = unlimited        */
  uint32_t launch_id;     /* VYRE_CTRL_LAUNCH_ID                        */
} vyre_ring_config;

/* One tenant's record (vyre_protocol.h, VYRE_CTRL_TENANTS): what it may
 * run and where its memory is.  Addresses are what the consumer
 * dereferences: Vulkan buffer device addresses for the GPU kernel, host
 * pointers (uintptr_t) for a CPU consumer.  The arena and the result
 * records are chunk tables (vyre_protocol.h, "Memory that grows"): the
 * geometry is fixed at registration, entries may be 0 (not allocated
 * yet) and are filled later with vyre_host_ring_set_tenant_chunk. */
typedef struct {
  uint32_t ops_mask;      /* permitted opcodes, bit (1u << VYRE_OP_*)    */
  uint64_t tables;        /* VYRT scan tables                            */
  uint64_t arena_chunk_bytes;    /* bytes per arena chunk                */
  uint32_t arena_chunks;         /* arena chunk table entries, 1..MAX    */
  uint32_t result_chunk_records; /* result records per result chunk      */
  uint32_t result_chunks;        /* result chunk table entries, 1..MAX   */
  uint64_t arena_chunk[VYRE_TENANT_CHUNKS_MAX];  /* 0: not yet           */
  uint64_t result_chunk[VYRE_TENANT_CHUNKS_MAX]; /* 0: not yet           */
  uint32_t result_count;  /* result records (job contexts)               */
  uint32_t max_matches;   /* match entries per result record             */
  uint64_t carry;         /* result_count carry windows of max_carry bytes */
  uint32_t max_carry;
} vyre_tenant_config;

typedef enum {
  VYRE_CHUNK_ARENA,
  VYRE_CHUNK_RESULTS,
} vyre_chunk_kind;

#define VYRE_TENANT_ALL_OPS ((1u << VYRE_OP_COUNT) - 1u)

/* Largest ring accepted (a guard against corrupt sizes, 64 MiB of slots). */
#define VYRE_HOST_RING_MAX_SLOTS (1u << 20)

/* What publish hands back: where the job went and its sequence number. */
typedef struct {
  uint32_t slot;
  uint64_t seq;
} vyre_ticket;

typedef struct vyre_host_ring vyre_host_ring;

/* Defaults: budgets 0 (no retirement), launch 0. */
void vyre_ring_config_init (vyre_ring_config * cfg);

/* Create the host side of a ring over mem (which is not copied: it must
 * outlive the ring).  All slots start free.  Sequence numbers start at
 * first_seq; the host never issues a sequence whose low 32 bits are 0,
 * because a zeroed completion entry must never look like a completion
 * (so first_seq 0 starts at 1). */
vyre_status vyre_host_ring_new (const vyre_ring_memory * mem,
    uint64_t first_seq, vyre_host_ring ** out, vyre_error * err);

void vyre_host_ring_free (vyre_host_ring * ring);

/* Before any consumer runs: zero the slots, completions and control
 * block, then write the knobs (protocol version, nslots, budgets).  Every
 * tenant record is empty except tenant 0's, which may run the control
 * opcodes (NOP, BATCH_FENCE; SHUTDOWN is tenant 0's by protocol) until
 * vyre_host_ring_set_tenant gives it memory.  Refused while jobs are
 * outstanding. */
vyre_status vyre_host_ring_init_control (vyre_host_ring * ring,
    const vyre_ring_config * cfg, vyre_error * err);

/* Write tenant t's record (cfg NULL: empty it, the tenant's jobs then
 * fault TENANT_DENIED) and open its epochs afresh (last closed 0, the
 * next epoch 1).  A mask with a data opcode needs tables, an arena and a
 * result chunk geometry (chunk bytes > 0, 1..VYRE_TENANT_CHUNKS_MAX
 * chunks, result_count > 0 records that the result chunks hold,
 * max_matches a multiple of VYRE_RESULT_LANES) and, with max_carry > 0,
 * carry.  Refused (VYRE_ERR_INVALID_ARGUMENT) while
 * any job of tenant t is outstanding: a record changes only between the
 * tenant's jobs, never under one. */
vyre_status vyre_host_ring_set_tenant (vyre_host_ring * ring, uint32_t t,
    const vyre_tenant_config * cfg, vyre_error * err);

/* Fill entry `index` of tenant t's arena or result chunk table with the
 * chunk at `address` (non-zero).  Allowed while the tenant's jobs run:
 * an entry goes from 0 to its address once and then never changes while
 * the record stands, and the jobs that use the chunk are published after
 * this call (their publish is the release that makes the entry visible).
 * VYRE_ERR_INVALID_ARGUMENT for an index outside the record's table, a
 * tenant without a record, or an entry that already holds another
 * address. */
vyre_status vyre_host_ring_set_tenant_chunk (vyre_host_ring * ring,
    uint32_t t, vyre_chunk_kind kind, uint32_t index, uint64_t address,
    vyre_error * err);

/* Jobs of tenant t published and not yet recycled. */
uint32_t vyre_host_ring_tenant_outstanding (const vyre_host_ring * ring,
    uint32_t t);

/* Publish a job (job->seq is ignored: the ring assigns it).
 * VYRE_OK: *out is the ticket.  VYRE_ERR_QUEUE_FULL: no free slot, or
 * the job's epoch is more than VYRE_EPOCH_WINDOW - 1 beyond the last
 * epoch the host saw closed -- retry after polling/recycling.
 * VYRE_ERR_INVALID_ARGUMENT: a data job or fence for an epoch that is
 * already closed (or epoch 0).  VYRE_ERR_SHUTDOWN after
 * vyre_host_ring_request_shutdown.  The payload itself is validated by
 * the consumer, which completes a bad job as FAULT. */
vyre_status vyre_host_ring_publish (vyre_host_ring * ring,
    const vyre_job * job, vyre_ticket * out, vyre_error * err);

/* Has the ticket's job completed?  VYRE_ERR_NOT_READY: not yet (also
 * while the entry's words disagree with its VYRE_COMP_CHECK: torn).
 * VYRE_OK: DONE, *out filled.  VYRE_ERR_FAULT: FAULT, *out filled, the
 * message names the fault and its Fix.  VYRE_ERR_MALFORMED: the entry is
 * garbage (the slot may still be recycled).  VYRE_ERR_INVALID_ARGUMENT:
 * the ticket is not outstanding (already recycled, or not ours). */
vyre_status vyre_host_ring_poll (vyre_host_ring * ring, vyre_ticket ticket,
    vyre_completion * out, vyre_error * err);

/* Give the ticket's slot back, after poll reported it complete.  A second
 * recycle of the same ticket, or one before completion, is refused with
 * VYRE_ERR_INVALID_ARGUMENT. */
vyre_status vyre_host_ring_recycle (vyre_host_ring * ring,
    vyre_ticket ticket, vyre_error * err);

/* Set control SHUTDOWN: consumers retire at their next poll round.
 * Later publishes fail with VYRE_ERR_SHUTDOWN. */
void vyre_host_ring_request_shutdown (vyre_host_ring * ring);

/* One control word (acquire).  On a BAR mapping each read costs about a
 * microsecond: read counters, not in a hot loop.  0 for a word outside
 * the control block. */
uint32_t vyre_host_ring_read_control (const vyre_host_ring * ring,
    uint32_t word);

/* Jobs published and not yet recycled. */
uint32_t vyre_host_ring_outstanding (const vyre_host_ring * ring);

/* Polls that found SEQ_LO set but the entry's check word not yet agreeing
 * (some words still an earlier job's): answered NOT_READY. */
uint64_t vyre_host_ring_torn_reads (const vyre_host_ring * ring);

/* Tenant t's last epoch the host saw closed (from a fence completion it
 * polled). */
uint32_t vyre_host_ring_closed_epoch (const vyre_host_ring * ring,
    uint32_t t);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_HOST_RING_H */
