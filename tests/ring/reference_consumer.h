/*
 * reference_consumer.h - the kernel side of the ring protocol, on the CPU.
 *
 * This is the executable specification of what one megakernel workgroup
 * does with the ring, written with C11 atomics instead of GLSL device-
 * scope atomics; the shader follows the same rules, and the tests use
 * this as the stand-in for the GPU (in threads, or in a forked process
 * over MAP_SHARED memory).
 *
 * One poll round (vyre_reference_consumer_step):
 *   1. control SHUTDOWN set (acquire)               -> retire (SHUTDOWN).
 *   2. Scan every slot once, starting after the slot it took last
 *      (rotating start), loading STATUS with acquire.  Among PUBLISHED
 *      slots pick the highest PRIORITY, ties to the first seen -- except
 *      that a BATCH_FENCE whose epoch cannot close yet ranks below every
 *      other PUBLISHED slot, so a waiting fence never starves the jobs it
 *      waits for.  Nothing PUBLISHED                 -> IDLE.
 *   3. Claim it: CAS STATUS PUBLISHED -> CLAIMED (acquire).  Lost the
 *      race: scan again (a few times), then IDLE (not counted against
 *      POLL_BUDGET: the work exists, others are doing it).
 *   4. Validate: control PROTOCOL_VERSION (BAD_VERSION), the payload
 *      (vyre_slot_decode: opcode, tenant, ranges, result index, ops,
 *      epoch >= 1), the tenant's opcode mask (TENANT_DENIED; SHUTDOWN only
 *      from tenant 0), and for data jobs and fences the epoch window:
 *      control EPOCH < epoch <= EPOCH + VYRE_EPOCH_WINDOW - 1 (BAD_EPOCH).
 *   5. Execute.  NOP: nothing.  Data ops: the execute callback.
 *      BATCH_FENCE of epoch e with FENCE_JOBS n: if EPOCH == e - 1 and
 *      EPOCH_JOBS[e % WINDOW] == n, reset that counter, EPOCH = e
 *      (release), LAST_FENCE_TAG = tag, complete with COMP_EPOCH = e.
 *      Otherwise STATUS = PUBLISHED again (release), REQUEUES += 1, and
 *      the round ends IDLE: never wait for another workgroup, they have no
 *      forward-progress guarantee.  A counter already past n is BAD_EPOCH.
 *      SHUTDOWN (tenant 0): control SHUTDOWN = 1.
 *   6. Complete: every completion word but SEQ_LO, the result record
 *      (callback), LAST_FAULT_* on a fault; then slot STATUS = DONE or
 *      FAULT (release); then completion SEQ_LO (release) -- the host's
 *      signal; then DONE_COUNT += 1, FAULTS += 1 on a fault or else the
 *      opcode's execution counter += 1, and EPOCH_JOBS[epoch % WINDOW]
 *      += 1 (release) for a data job whose epoch is in the window -- even
 *      one that faulted, because the host counted it in FENCE_JOBS (but
 *      not ITER_LIMIT: the host publishes that job again).
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

/* Runs one data job (SCAN / CRC32 / HISTOGRAM).  The consumer has filled
 * *out with seq, status DONE, opcode, epoch, workgroup, launch and tag;
 * the callback sets matches, matches_stored, crc32, events, result_check
 * and hist_check (see result_check.h; 0 where nobody verifies them), and may set
 * fault_code to a VYRE_FAULT_* to fail the job (an unknown code becomes
 * VYRE_FAULT_IO_ERROR).  result_record is the job's record
 * (VYRE_RESULT_HEADER_WORDS + 4 * max_matches words), or NULL when the
 * consumer has no results buffer. */
typedef void (*vyre_execute_fn) (void *user, const vyre_job * job,
    vyre_completion * out, uint32_t * result_record);

typedef struct {
  vyre_ring_memory mem;
  /* Bounds the consumer enforces: its real buffer sizes.  limits.nslots
   * must equal mem.nslots. */
  vyre_slot_limits limits;
  uint32_t *results;       /* limits.result_count records, or NULL */
  uint32_t max_matches;    /* record stride: VYRE_RESULT_HEADER_WORDS +
                              4 * max_matches words */
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
