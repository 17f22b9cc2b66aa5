/*
 * reference_consumer.h - the kernel side of the ring protocol, on the CPU.
 *
 * This is the executable specification of what one megakernel workgroup
 * does with the ring, written with C11 atomics instead of GLSL device-
 * scope atomics; the shader follows the same rules, and the tests use
 * this as the stand-in for the GPU (in threads, or in a forked process
 * over MAP_SHARED memory).
 *
 * Control block (protocol v5): 256 global words, then one record of
 * VYRE_TENANT_WORDS per tenant at VYRE_CTRL_TENANTS + t * VYRE_TENANT_WORDS:
 * OPS_MASK, EPOCH (the tenant's last closed epoch, consumer-written), the
 * addresses of the tenant's TABLES, ARENA, RESULTS and CARRY (64-bit LO/HI:
 * device addresses for the GPU; for this CPU consumer host pointers cast
 * to uintptr_t), ARENA_BYTES, RESULT_COUNT, MAX_MATCHES, MAX_CARRY, and
 * the tenant's EPOCH_JOBS window.  Epochs are per tenant: each tenant's
 * start at 1 and close in order, independently of the other tenants'.
 *
 * One poll round (vyre_reference_consumer_step):
 *   1. control SHUTDOWN set (acquire)               -> retire (SHUTDOWN).
 *   2. Scan every slot once, starting after the slot it took last
 *      (rotating start), loading STATUS with acquire.  Among PUBLISHED
 *      slots pick the highest PRIORITY, ties to the first seen -- except
 *      that a BATCH_FENCE whose epoch cannot close yet (judged by its
 *      tenant's EPOCH and EPOCH_JOBS) ranks below every other PUBLISHED
 *      slot, so a waiting fence never starves the jobs it waits for.
 *      Nothing PUBLISHED                             -> IDLE.
 *   3. Claim it: CAS STATUS PUBLISHED -> CLAIMED (acquire).  Lost the
 *      race: scan again (a few times), then IDLE (not counted against
 *      POLL_BUDGET: the work exists, others are doing it).
 *   4. Validate, in this order (the kernel's), the first failure wins:
 *      control PROTOCOL_VERSION (BAD_VERSION); tenant < VYRE_MAX_TENANTS
 *      (BAD_TENANT); opcode known (BAD_OPCODE); SHUTDOWN only from tenant
 *      0 (TENANT_DENIED; it needs no record); the opcode's bit in the
 *      tenant's OPS_MASK (TENANT_DENIED: a tenant without a record has mask
 *      0).  A fence: epoch >= 1 and in the tenant's open window, EPOCH <
 *      epoch <= EPOCH + VYRE_EPOCH_WINDOW - 1 (BAD_EPOCH).  A data job:
 *      the tenant has TABLES and a chunk geometry (TENANT_DENIED);
 *      carry_len <= MAX_CARRY, an in-arena carry not before offset 0, the
 *      job (its in-arena carry included) inside one arena chunk below
 *      ARENA_CHUNKS whose table entry is not 0 (BAD_RANGE); result_index <
 *      RESULT_COUNT, its result chunk below RESULT_CHUNKS and its entry
 *      not 0 (BAD_RESULT); epoch >= 1 (BAD_EPOCH); only VYRE_OPS_*
 *      bits (BAD_OPCODE); and, unless VYRE_OPS_NO_EPOCH, its epoch in the
 *      tenant's open window (BAD_EPOCH).
 *   5. Execute.  NOP: nothing.  Data ops: the execute callback, given the
 *      job's arena chunk (its data_offset made chunk-relative, as the
 *      kernel does) and its result record: record result_index %
 *      RESULT_CHUNK_RECORDS of its result chunk, stride
 *      VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * MAX_MATCHES.
 *      BATCH_FENCE of tenant t, epoch e, FENCE_JOBS n: if t's EPOCH ==
 *      e - 1 and t's EPOCH_JOBS[e % WINDOW] == n, reset that counter,
 *      t's EPOCH = e (release), LAST_FENCE_TAG = tag, FENCES_DONE += 1,
 *      complete with COMP_EPOCH = e.  Otherwise STATUS = PUBLISHED again
 *      (release), REQUEUES += 1, and the round ends IDLE: never wait for
 *      another workgroup, they have no forward-progress guarantee.  A
 *      counter already past n is BAD_EPOCH.
 *      SHUTDOWN (tenant 0): control SHUTDOWN = 1.
 *   6. Complete: every completion word but SEQ_LO, the result record
 *      (callback), LAST_FAULT_SLOT / CODE / OPCODE / TENANT on a fault;
 *      then slot STATUS = DONE or FAULT (release); then completion SEQ_LO
 *      (release) -- the host's signal; then DONE_COUNT += 1, FAULTS += 1
 *      on a fault or else the opcode's execution counter += 1, and the
 *      tenant's EPOCH_JOBS[epoch % WINDOW] += 1 (release) for a data job
 *      whose epoch is in the tenant's window -- even one that faulted,
 *      because the host counted it in FENCE_JOBS (but not ITER_LIMIT: the
 *      host publishes that job again, nor a VYRE_OPS_NO_EPOCH re-scan).
 * Workgroup 0 bumps HEARTBEAT every round.  STARTED / ACTIVE at init;
 * ACTIVE, EXITED (and RETIRED for a budget) when a step first returns
 * SHUTDOWN or RETIRED.  Budgets from control: POLL_BUDGET consecutive
 * idle rounds, ITER_BUDGET rounds in all (0 = unlimited) -> RETIRED.
 */
#ifndef VYRE_REFERENCE_CONSUMER_H
#define VYRE_REFERENCE_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "host_ring.h"
#include "vyre_error.h"
#include "vyre_slot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tenant's record as the consumer read it for one job, its addresses
 * turned back into the host pointers they are: `arena` is the job's arena
 * chunk (NULL before the range check resolved it), `results` the job's
 * result chunk. */
typedef struct {
  uint32_t ops_mask;
  const uint32_t *tables;
  uint64_t arena_chunk_bytes;
  uint32_t arena_chunks;
  uint32_t result_chunk_records;
  uint32_t result_chunks;
  const uint8_t *arena;
  uint64_t arena_bytes;     /* the chunk's bytes */
  uint32_t *results;
  uint32_t result_count;
  uint32_t max_matches;
  uint8_t *carry;           /* result_count windows of max_carry bytes */
  uint32_t max_carry;
} vyre_reference_tenant;

/* Runs one data job (SCAN / CRC32 / HISTOGRAM) of the tenant whose record
 * is *tenant (its data: tenant->arena + job->data_offset, the offset
 * already relative to the job's chunk; result_index stays the tenant's
 * record number, which also names the job's carry window).  The consumer
 * has filled *out with seq, status DONE, opcode, epoch, workgroup, launch
 * and tag; the callback sets matches, matches_stored, crc32, events,
 * result_check and hist_check (see result_check.h; 0 where nobody
 * verifies them), and may set fault_code to a VYRE_FAULT_* to fail the job
 * (an unknown code becomes VYRE_FAULT_IO_ERROR).  result_record is the
 * job's record in the tenant's results (VYRE_RESULT_HEADER_WORDS +
 * VYRE_MATCH_WORDS * tenant->max_matches words). */
typedef void (*vyre_execute_fn) (void *user, const vyre_job * job,
    const vyre_reference_tenant * tenant, vyre_completion * out,
    uint32_t * result_record);

typedef struct {
  vyre_ring_memory mem;    /* the ring; everything per tenant (sizes,
                              memory) comes from the control block */
  uint32_t workgroup;      /* echoed in COMP_WORKGROUP */
  uint32_t launch;         /* echoed in COMP_LAUNCH */
  vyre_execute_fn execute; /* NULL: data jobs complete with zero results */
  void *user;
} vyre_reference_consumer_config;

/* One workgroup's state.  Plain memory: it may live on a stack, in
 * another process, anywhere. */
typedef struct {
  vyre_reference_consumer_config cfg;
  uint32_t next_start;     /* rotating scan start */
  uint32_t idle_rounds;    /* consecutive, for POLL_BUDGET */
  uint64_t rounds;         /* all, for ITER_BUDGET */
  uint64_t jobs;           /* slots completed by this consumer */
  uint64_t requeues;       /* fences it handed back */
  int exit_code;           /* 0 while running, else the code it left with */
} vyre_reference_consumer;

/* vyre_reference_consumer_step results. */
#define VYRE_CONSUMER_DID_JOB 1   /* completed a slot (DONE or FAULT) */
#define VYRE_CONSUMER_IDLE 0      /* nothing to do (or a fence re-queued) */
#define VYRE_CONSUMER_SHUTDOWN (-1) /* control SHUTDOWN is set */
#define VYRE_CONSUMER_RETIRED (-2)  /* a POLL/ITER budget ran out */

/* Check cfg and start a workgroup: STARTED += 1, ACTIVE += 1. */
vyre_status vyre_reference_consumer_init (vyre_reference_consumer * c,
    const vyre_reference_consumer_config * cfg, vyre_error * err);

/* One poll round; see the top of this file.  Once it returned SHUTDOWN or
 * RETIRED it keeps returning that. */
int vyre_reference_consumer_step (vyre_reference_consumer * c);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_REFERENCE_CONSUMER_H */
