/*
 * reference_consumer.c - see reference_consumer.h for the protocol.
 *
 * Memory-order notes, mirroring the shader:
 *   STATUS loads while scanning    acquire  (atomicLoad, device scope)
 *   claim CAS                      acquire  (payload written before the
 *                                            host's release store is seen)
 *   payload / completion words     relaxed  (ordered by the flags)
 *   STATUS = DONE / FAULT          release
 *   completion SEQ_LO              release  (the host acquires it)
 *   tenant record words            relaxed  (the host wrote the record
 *                                            before the tenant's first
 *                                            publish, with release; the
 *                                            claim acquired it)
 *   EPOCH_JOBS += 1                release  (a fence that acquires the
 *                                            count sees the job complete)
 *   tenant EPOCH = e               release, via CAS so two fences for one
 *                                            epoch cannot both close it
 */
#include "reference_consumer.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "store_order.h"

#define SCAN_ATTEMPTS 4

enum fence_state { FENCE_READY, FENCE_WAIT, FENCE_BAD };

static bool
opcode_is_data (uint32_t opcode)
{
  return opcode == VYRE_OP_SCAN || opcode == VYRE_OP_CRC32
      || opcode == VYRE_OP_HISTOGRAM;
}

static uint32_t *
ctrl_word (const vyre_reference_consumer * c, uint32_t word)
{
  return &c->cfg.mem.control[word];
}

/* Word i of tenant t's record (t < VYRE_MAX_TENANTS). */
static uint32_t *
tenant_word (const vyre_reference_consumer * c, uint32_t t, uint32_t i)
{
  return ctrl_word (c, VYRE_CTRL_TENANTS + t * VYRE_TENANT_WORDS + i);
}

/* Tenant t's counter of completed jobs of epoch e. */
static uint32_t *
epoch_jobs_word (const vyre_reference_consumer * c, uint32_t t, uint32_t e)
{
  return tenant_word (c, t, VYRE_TENANT_EPOCH_JOBS + e % VYRE_EPOCH_WINDOW);
}

static uint64_t
tenant_u64 (const vyre_reference_consumer * c, uint32_t t, uint32_t lo_word)
{
  return (uint64_t) vyre_load_relaxed_u32 (tenant_word (c, t, lo_word))
      | ((uint64_t) vyre_load_relaxed_u32 (tenant_word (c, t, lo_word + 1))
      << 32);
}

/* Tenant t's record, its addresses as host pointers. */
static void
read_tenant (const vyre_reference_consumer * c, uint32_t t,
    vyre_reference_tenant * out)
{
  out->ops_mask = vyre_load_relaxed_u32 (tenant_word (c, t,
          VYRE_TENANT_OPS_MASK));
  out->tables = (const uint32_t *) (uintptr_t) tenant_u64 (c, t,
      VYRE_TENANT_TABLES_LO);
  out->arena_chunk_bytes = tenant_u64 (c, t,
      VYRE_TENANT_ARENA_CHUNK_BYTES_LO);
  out->arena_chunks = vyre_load_relaxed_u32 (tenant_word (c, t,
          VYRE_TENANT_ARENA_CHUNKS));
  out->result_chunk_records = vyre_load_relaxed_u32 (tenant_word (c, t,
          VYRE_TENANT_RESULT_CHUNK_RECORDS));
  out->result_chunks = vyre_load_relaxed_u32 (tenant_word (c, t,
          VYRE_TENANT_RESULT_CHUNKS));
  out->result_count = vyre_load_relaxed_u32 (tenant_word (c, t,
          VYRE_TENANT_RESULT_COUNT));
  out->max_matches = vyre_load_relaxed_u32 (tenant_word (c, t,
          VYRE_TENANT_MAX_MATCHES));
  out->carry = (uint8_t *) (uintptr_t) tenant_u64 (c, t, VYRE_TENANT_CARRY_LO);
  out->max_carry = vyre_load_relaxed_u32 (tenant_word (c, t,
          VYRE_TENANT_MAX_CARRY));
}

static uint32_t *
slot_words (const vyre_reference_consumer * c, uint32_t slot)
{
  return c->cfg.mem.slots + (size_t) slot * VYRE_SLOT_WORDS;
}

static uint32_t *
completion_words (const vyre_reference_consumer * c, uint32_t slot)
{
  return c->cfg.mem.completions + (size_t) slot * VYRE_COMPLETION_WORDS;
}

static uint32_t
ctrl_add (const vyre_reference_consumer * c, uint32_t word, uint32_t v,
    int order)
{
  return __atomic_fetch_add (ctrl_word (c, word), v, order);
}

/* Epoch e is in the open window of a tenant whose EPOCH is now:
 * now < e <= now + WINDOW - 1, in wrapping arithmetic. */
static bool
epoch_in_window (uint32_t e, uint32_t now)
{
  uint32_t ahead = e - now;
  return ahead >= 1 && ahead <= VYRE_EPOCH_WINDOW - 1;
}

/* Can the fence of epoch e with n jobs close, given its tenant's EPOCH ==
 * now and the epoch's completed-job counter? */
static enum fence_state
fence_state (uint32_t e, uint32_t n, uint32_t now, uint32_t counter)
{
  if (e == 0 || !epoch_in_window (e, now))
    return FENCE_BAD;
  if (e - now != 1)
    return FENCE_WAIT;   /* an earlier fence has to close first */
  if (counter == n)
    return FENCE_READY;
  return counter > n ? FENCE_BAD : FENCE_WAIT;
}

vyre_status
vyre_reference_consumer_init (vyre_reference_consumer * c,
    const vyre_reference_consumer_config * cfg, vyre_error * err)
{
  if (c == NULL || cfg == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_reference_consumer_init: %s is NULL. Fix: pass consumer "
        "storage and a config.", c == NULL ? "consumer" : "cfg");
  const vyre_ring_memory *m = &cfg->mem;
  if (m->slots == NULL || m->control == NULL || m->completions == NULL
      || m->nslots == 0 || m->nslots > VYRE_HOST_RING_MAX_SLOTS)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "reference consumer: ring memory incomplete (slots %p, control %p, "
        "completions %p, nslots %" PRIu32 "). Fix: pass the same "
        "vyre_ring_memory the host ring uses.", (void *) m->slots,
        (void *) m->control, (void *) m->completions, m->nslots);
  memset (c, 0, sizeof *c);
  c->cfg = *cfg;
  ctrl_add (c, VYRE_CTRL_STARTED, 1, __ATOMIC_RELAXED);
  ctrl_add (c, VYRE_CTRL_ACTIVE, 1, __ATOMIC_RELAXED);
  return VYRE_OK;
}

static int
leave (vyre_reference_consumer * c, int code)
{
  if (c->exit_code == 0) {
    c->exit_code = code;
    ctrl_add (c, VYRE_CTRL_ACTIVE, (uint32_t) -1, __ATOMIC_RELAXED);
    ctrl_add (c, VYRE_CTRL_EXITED, 1, __ATOMIC_RELAXED);
    if (code == VYRE_CONSUMER_RETIRED)
      ctrl_add (c, VYRE_CTRL_RETIRED, 1, __ATOMIC_RELAXED);
  }
  return c->exit_code;
}

/* The scan of step 2: the slot to try to claim, or -1. */
static int64_t
pick_slot (const vyre_reference_consumer * c)
{
  uint32_t n = c->cfg.mem.nslots;
  int64_t best = -1;
  bool best_ready = false;
  uint32_t best_prio = 0;

  for (uint32_t k = 0, s = c->next_start; k < n; k++, s = s + 1 == n ? 0 : s + 1) {
    uint32_t *w = slot_words (c, s);
    if (vyre_load_acquire_u32 (&w[VYRE_SLOT_STATUS]) != VYRE_STATUS_PUBLISHED)
      continue;
    /* Peeks: the slot may be claimed and even rewritten meanwhile; the
     * claim decides, these only rank. */
    uint32_t prio = vyre_load_relaxed_u32 (&w[VYRE_SLOT_PRIORITY]);
    bool ready = true;
    uint32_t t = vyre_load_relaxed_u32 (&w[VYRE_SLOT_TENANT]);
    if (vyre_load_relaxed_u32 (&w[VYRE_SLOT_OPCODE]) == VYRE_OP_BATCH_FENCE
        && t < VYRE_MAX_TENANTS) {
      uint32_t e = vyre_load_relaxed_u32 (&w[VYRE_ARG_EPOCH]);
      uint32_t jobs = vyre_load_relaxed_u32 (&w[VYRE_ARG_FENCE_JOBS]);
      uint32_t now = vyre_load_acquire_u32 (tenant_word (c, t,
              VYRE_TENANT_EPOCH));
      uint32_t counter = vyre_load_relaxed_u32 (epoch_jobs_word (c, t, e));
      ready = fence_state (e, jobs, now, counter) != FENCE_WAIT;
    }
    if (best < 0 || (ready && !best_ready)
        || (ready == best_ready && prio > best_prio)) {
      best = s;
      best_ready = ready;
      best_prio = prio;
    }
  }
  return best;
}

/* Step 4 up to the epoch window of data jobs: the kernel's checks, in
 * its order.  *ten is the job's tenant record once the checks got to it,
 * zero before. */
static uint32_t
validate (const vyre_reference_consumer * c, const vyre_job * job,
    vyre_reference_tenant * ten, uint64_t * local_offset)
{
  memset (ten, 0, sizeof *ten);
  *local_offset = job->data_offset;
  if (vyre_load_acquire_u32 (ctrl_word (c, VYRE_CTRL_PROTOCOL_VERSION))
      != VYRE_PROTOCOL_VERSION)
    return VYRE_FAULT_BAD_VERSION;   /* the layout itself is in doubt */
  if (job->tenant >= VYRE_MAX_TENANTS)
    return VYRE_FAULT_BAD_TENANT;
  if (job->opcode >= VYRE_OP_COUNT && job->opcode != VYRE_OP_SHUTDOWN)
    return VYRE_FAULT_BAD_OPCODE;
  if (job->opcode == VYRE_OP_SHUTDOWN)
    return job->tenant == 0 ? VYRE_FAULT_NONE : VYRE_FAULT_TENANT_DENIED;
  read_tenant (c, job->tenant, ten);
  if (((ten->ops_mask >> job->opcode) & 1u) == 0)
    return VYRE_FAULT_TENANT_DENIED;
  if (job->opcode == VYRE_OP_BATCH_FENCE) {
    uint32_t now = vyre_load_acquire_u32 (tenant_word (c, job->tenant,
            VYRE_TENANT_EPOCH));
    return job->epoch == 0 || !epoch_in_window (job->epoch, now) ?
        VYRE_FAULT_BAD_EPOCH : VYRE_FAULT_NONE;
  }
  if (!opcode_is_data (job->opcode))
    return VYRE_FAULT_NONE;
  if (ten->tables == NULL || ten->arena_chunk_bytes == 0
      || ten->arena_chunks == 0 || ten->result_chunk_records == 0)
    return VYRE_FAULT_TENANT_DENIED; /* a record without memory */
  if (job->carry_len > ten->max_carry)
    return VYRE_FAULT_BAD_RANGE;
  if (job->carry_in_arena && job->carry_len > job->data_offset)
    return VYRE_FAULT_BAD_RANGE;
  /* The job, with carry in the arena before it, inside one chunk; no sum
   * can wrap (data_offset may be anything a word pair holds). */
  uint64_t start = job->data_offset - (job->carry_in_arena ?
      job->carry_len : 0);
  uint64_t chunk = start / ten->arena_chunk_bytes;
  uint64_t chunk_base = chunk * ten->arena_chunk_bytes;
  if (chunk >= ten->arena_chunks
      || job->data_len > ten->arena_chunk_bytes
      || job->data_offset - chunk_base > ten->arena_chunk_bytes - job->data_len)
    return VYRE_FAULT_BAD_RANGE;
  ten->arena = (const uint8_t *) (uintptr_t) tenant_u64 (c, job->tenant,
      VYRE_TENANT_ARENA_CHUNK_TABLE + 2 * (uint32_t) chunk);
  ten->arena_bytes = ten->arena_chunk_bytes;
  if (ten->arena == NULL)
    return VYRE_FAULT_BAD_RANGE;     /* a chunk not allocated */
  *local_offset = job->data_offset - chunk_base;
  if (job->result_index >= ten->result_count)
    return VYRE_FAULT_BAD_RESULT;
  uint32_t rchunk = job->result_index / ten->result_chunk_records;
  if (rchunk >= ten->result_chunks)
    return VYRE_FAULT_BAD_RESULT;
  ten->results = (uint32_t *) (uintptr_t) tenant_u64 (c, job->tenant,
      VYRE_TENANT_RESULT_CHUNK_TABLE + 2 * rchunk);
  if (ten->results == NULL)
    return VYRE_FAULT_BAD_RESULT;
  if (job->epoch == 0)
    return VYRE_FAULT_BAD_EPOCH;
  if ((job->ops & ~VYRE_OPS_VALID) != 0)
    return VYRE_FAULT_BAD_OPCODE;
  return VYRE_FAULT_NONE;
}

/* Steps 4 to 6 for a slot this consumer claimed.  Returns DID_JOB, or
 * IDLE when a fence was handed back. */
static int
run_slot (vyre_reference_consumer * c, uint32_t slot)
{
  uint32_t *w = slot_words (c, slot);
  vyre_slot_words words;
  for (uint32_t i = 0; i < VYRE_SLOT_WORDS; i++)
    words.w[i] = vyre_load_relaxed_u32 (&w[i]);

  /* The decoder only unpacks the words here (it fills the job whatever
   * it judges): the checks against the tenant's record are validate's. */
  vyre_job job;
  const vyre_slot_limits unpack = { .nslots = c->cfg.mem.nslots };
  (void) vyre_slot_decode (&words, &unpack, &job, NULL, NULL);

  vyre_completion comp;
  memset (&comp, 0, sizeof comp);
  comp.seq = job.seq;
  comp.status = VYRE_STATUS_DONE;
  comp.opcode = job.opcode;
  comp.epoch = job.epoch;
  comp.workgroup = c->cfg.workgroup;
  comp.launch = c->cfg.launch;
  comp.tag = job.tag;

  vyre_reference_tenant ten;
  uint64_t local_offset;
  uint32_t fault = validate (c, &job, &ten, &local_offset);
  bool version_ok = fault != VYRE_FAULT_BAD_VERSION;
  bool tenant_ok = job.tenant < VYRE_MAX_TENANTS;

  /* Whether this job counts toward its tenant's epoch fence: every data
   * job the host could have counted in FENCE_JOBS, faulted or not, as
   * long as its epoch names a live counter of its tenant. */
  uint32_t now = tenant_ok ? vyre_load_acquire_u32 (tenant_word (c,
          job.tenant, VYRE_TENANT_EPOCH)) : 0;
  bool counts = version_ok && tenant_ok && opcode_is_data (job.opcode)
      && job.epoch != 0 && epoch_in_window (job.epoch, now);
  /* A re-scan of part of a counted job (VYRE_OPS_NO_EPOCH) was not in
   * FENCE_JOBS, and its epoch may have closed since: only a zero epoch is
   * refused (above). */
  bool no_epoch = (job.ops & VYRE_OPS_NO_EPOCH) != 0;
  if (fault == VYRE_FAULT_NONE && opcode_is_data (job.opcode) && !counts
      && !no_epoch)
    fault = VYRE_FAULT_BAD_EPOCH;
  if (no_epoch)
    counts = false;

  bool close_fence = false;
  if (fault == VYRE_FAULT_NONE && job.opcode == VYRE_OP_BATCH_FENCE) {
    uint32_t *counter = epoch_jobs_word (c, job.tenant, job.epoch);
    switch (fence_state (job.epoch, job.data_len, now,
            vyre_load_acquire_u32 (counter))) {
      case FENCE_READY:
        close_fence = true;
        break;
      case FENCE_BAD:
        fault = VYRE_FAULT_BAD_EPOCH;
        break;
      case FENCE_WAIT:
        /* Re-queue: hand the slot back untouched for a later round (this
         * workgroup's or another's), never spin here. */
        vyre_store_release_cached_u32 (&w[VYRE_SLOT_STATUS],
            VYRE_STATUS_PUBLISHED);
        ctrl_add (c, VYRE_CTRL_REQUEUES, 1, __ATOMIC_RELAXED);
        c->requeues++;
        return VYRE_CONSUMER_IDLE;
    }
  }

  if (close_fence) {
    /* Reset the counter before EPOCH = e publishes the closed epoch: the
     * counter is next used by the tenant's epoch e + WINDOW, which the
     * host opens only after it saw e + 1 closed. */
    __atomic_store_n (epoch_jobs_word (c, job.tenant, job.epoch), 0,
        __ATOMIC_RELAXED);
    uint32_t expect = job.epoch - 1;
    if (__atomic_compare_exchange_n (tenant_word (c, job.tenant,
                VYRE_TENANT_EPOCH), &expect, job.epoch, false,
            __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
      vyre_store_relaxed_u32 (ctrl_word (c, VYRE_CTRL_LAST_FENCE_TAG),
          job.tag);
      ctrl_add (c, VYRE_CTRL_FENCES_DONE, 1, __ATOMIC_RELAXED);
      comp.epoch = job.epoch;
    } else {
      fault = VYRE_FAULT_BAD_EPOCH;   /* a second fence for one epoch */
    }
  }

  if (fault == VYRE_FAULT_NONE && opcode_is_data (job.opcode)) {
    size_t stride = VYRE_RESULT_HEADER_WORDS
        + (size_t) VYRE_MATCH_WORDS * ten.max_matches;
    uint32_t *record = ten.results +
        (size_t) (job.result_index % ten.result_chunk_records) * stride;
    if (c->cfg.execute != NULL) {
      vyre_completion result = comp;
      vyre_job local = job;
      local.data_offset = local_offset;
      c->cfg.execute (c->cfg.user, &local, &ten, &result, record);
      /* Take only what the callback owns. */
      comp.matches = result.matches;
      comp.matches_stored = result.matches_stored;
      comp.crc32 = result.crc32;
      comp.events = result.events;
      comp.result_check = result.result_check;
      comp.hist_check = result.hist_check;
      if (result.fault_code != VYRE_FAULT_NONE)
        fault = result.fault_code < VYRE_FAULT_CODE_COUNT ?
            result.fault_code : VYRE_FAULT_IO_ERROR;
    }
  }

  /* A job cut short by the driver is published again by the host; only
   * that second run counts towards the epoch. */
  if (fault == VYRE_FAULT_ITER_LIMIT)
    counts = false;

  if (fault == VYRE_FAULT_NONE && job.opcode == VYRE_OP_SHUTDOWN)
    vyre_store_release_cached_u32 (ctrl_word (c, VYRE_CTRL_SHUTDOWN), 1);

  comp.fault_code = fault;
  comp.status = fault == VYRE_FAULT_NONE ? VYRE_STATUS_DONE : VYRE_STATUS_FAULT;
  if (fault != VYRE_FAULT_NONE) {
    vyre_store_relaxed_u32 (ctrl_word (c, VYRE_CTRL_LAST_FAULT_SLOT), slot);
    vyre_store_relaxed_u32 (ctrl_word (c, VYRE_CTRL_LAST_FAULT_CODE), fault);
    vyre_store_relaxed_u32 (ctrl_word (c, VYRE_CTRL_LAST_FAULT_OPCODE),
        job.opcode);
    vyre_store_relaxed_u32 (ctrl_word (c, VYRE_CTRL_LAST_FAULT_TENANT),
        job.tenant);
  }

  vyre_completion_words cw;
  vyre_completion_encode (&comp, &cw);
  uint32_t *ce = completion_words (c, slot);
  for (uint32_t i = VYRE_COMP_SEQ_LO + 1; i < VYRE_COMPLETION_WORDS; i++)
    vyre_store_relaxed_u32 (&ce[i], cw.w[i]);
  vyre_store_release_cached_u32 (&w[VYRE_SLOT_STATUS], comp.status);
  vyre_store_release_cached_u32 (&ce[VYRE_COMP_SEQ_LO],
      cw.w[VYRE_COMP_SEQ_LO]);
  /* From here on the host may recycle and rewrite the slot: only local
   * copies are used below. */

  ctrl_add (c, VYRE_CTRL_DONE_COUNT, 1, __ATOMIC_RELEASE);
  if (fault == VYRE_FAULT_NONE && job.opcode < VYRE_CTRL_OPCODE_COUNTER_SLOTS)
    ctrl_add (c, VYRE_CTRL_OPCODE_COUNTERS + job.opcode, 1, __ATOMIC_RELAXED);
  if (fault != VYRE_FAULT_NONE)
    ctrl_add (c, VYRE_CTRL_FAULTS, 1, __ATOMIC_RELAXED);
  if (counts)
    __atomic_fetch_add (epoch_jobs_word (c, job.tenant, job.epoch), 1,
        __ATOMIC_RELEASE);
  c->jobs++;
  return VYRE_CONSUMER_DID_JOB;
}

int
vyre_reference_consumer_step (vyre_reference_consumer * c)
{
  if (c == NULL)
    return VYRE_CONSUMER_SHUTDOWN;
  if (c->exit_code != 0)
    return c->exit_code;
  if (vyre_load_acquire_u32 (ctrl_word (c, VYRE_CTRL_SHUTDOWN)) != 0)
    return leave (c, VYRE_CONSUMER_SHUTDOWN);

  uint32_t iter_budget = vyre_load_relaxed_u32 (ctrl_word (c,
          VYRE_CTRL_ITER_BUDGET));
  uint32_t poll_budget = vyre_load_relaxed_u32 (ctrl_word (c,
          VYRE_CTRL_POLL_BUDGET));
  if (iter_budget != 0 && c->rounds >= iter_budget)
    return leave (c, VYRE_CONSUMER_RETIRED);
  c->rounds++;
  if (c->cfg.workgroup == 0)
    ctrl_add (c, VYRE_CTRL_HEARTBEAT, 1, __ATOMIC_RELAXED);

  /* Losing every claim race is not idleness (others are busy with work
   * that exists); finding nothing, or only a fence that must wait, is. */
  bool idle = true;
  for (int attempt = 0; attempt < SCAN_ATTEMPTS; attempt++) {
    int64_t best = pick_slot (c);
    if (best < 0) {
      idle = true;
      break;
    }
    uint32_t slot = (uint32_t) best;
    uint32_t expect = VYRE_STATUS_PUBLISHED;
    if (!__atomic_compare_exchange_n (&slot_words (c, slot)[VYRE_SLOT_STATUS],
            &expect, VYRE_STATUS_CLAIMED, false, __ATOMIC_ACQUIRE,
            __ATOMIC_RELAXED)) {
      idle = false;   /* another workgroup won it: scan again */
      continue;
    }
    c->next_start = slot + 1 == c->cfg.mem.nslots ? 0 : slot + 1;
    int r = run_slot (c, slot);
    if (r == VYRE_CONSUMER_DID_JOB) {
      c->idle_rounds = 0;
      return r;
    }
    idle = true;      /* a fence handed back */
    break;
  }

  if (!idle)
    return VYRE_CONSUMER_IDLE;
  c->idle_rounds++;
  if (poll_budget != 0 && c->idle_rounds >= poll_budget)
    return leave (c, VYRE_CONSUMER_RETIRED);
  return VYRE_CONSUMER_IDLE;
}
