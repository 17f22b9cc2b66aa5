/*
 * host_ring.h - the producer side of the ring (seed 004's "producer /
 * consumer interface"), over memory the caller maps.
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
 * by epoch % VYRE_EPOCH_WINDOW.  The kernel re-queues a fence that is not
 * ready, so a fence occupies a slot until its epoch can close: keep the
 * ring larger than the number of fences that may wait at once.
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
  uint64_t arena_bytes;   /* data arena size                            */
  uint32_t result_count;  /* result records                             */
  uint32_t max_matches;   /* match entries per result record            */
  uint32_t max_carry;     /* carry window bytes per slot                */
  uint32_t launch_id;     /* VYRE_CTRL_LAUNCH_ID                        */
  /* Permitted opcodes per tenant: bit op set = tenant may run op.  Only
   * bits of VYRE_TENANT_ALL_OPS may be set.  A table that is all zero is
   * taken as the default: tenant 0 may run everything. */
  uint32_t tenant_masks[VYRE_MAX_TENANTS];
} vyre_ring_config;

#define VYRE_TENANT_ALL_OPS ((1u << VYRE_OP_COUNT) - 1u)

/* Largest ring accepted (a guard against corrupt sizes, 64 MiB of slots). */
#define VYRE_HOST_RING_MAX_SLOTS (1u << 20)

/* What publish hands back: where the job went and its sequence number. */
typedef struct {
  uint32_t slot;
  uint64_t seq;
} vyre_ticket;

typedef struct vyre_host_ring vyre_host_ring;

/* Defaults: budgets 0, arena/result/carry sizes 0 (set them), tenant 0
 * allowed every opcode, other tenants disabled. */
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
 * block, then write the knobs (protocol version, nslots, budgets, sizes,
 * tenant table).  Refused while jobs are outstanding. */
vyre_status vyre_host_ring_init_control (vyre_host_ring * ring,
    const vyre_ring_config * cfg, vyre_error * err);

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

/* The last epoch the host saw closed (from a fence completion it polled). */
uint32_t vyre_host_ring_closed_epoch (const vyre_host_ring * ring);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_HOST_RING_H */
