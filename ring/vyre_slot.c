/*
 * vyre_slot.c - see vyre_slot.h.
 *
 * The decoder is the gate every slot passes before a consumer acts on it,
 * so it trusts nothing: the words may have been written by another
 * process, by a GPU that misbehaves, or be half of a torn write.  Every
 * 64-bit quantity is assembled from its LO/HI words and every sum is
 * checked for overflow before it is compared with a limit.
 */
#include "vyre_slot.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

static uint64_t
join_u64 (uint32_t lo, uint32_t hi)
{
  return (uint64_t) lo | ((uint64_t) hi << 32);
}


void
vyre_slot_encode (const vyre_job * job, vyre_slot_words * out)
{
  if (job == NULL || out == NULL)
    return;
  uint32_t *w = out->w;
  w[VYRE_SLOT_STATUS] = VYRE_STATUS_EMPTY;
  w[VYRE_SLOT_OPCODE] = job->opcode;
  w[VYRE_SLOT_TENANT] = job->tenant;
  w[VYRE_SLOT_PRIORITY] = job->priority;
  w[VYRE_ARG_SEQ_LO] = (uint32_t) job->seq;
  w[VYRE_ARG_SEQ_HI] = (uint32_t) (job->seq >> 32);
  w[VYRE_ARG_DATA_OFF_LO] = (uint32_t) job->data_offset;
  w[VYRE_ARG_DATA_OFF_HI] = (uint32_t) (job->data_offset >> 32);
  /* VYRE_ARG_DATA_LEN and VYRE_ARG_FENCE_JOBS are the same word. */
  w[VYRE_ARG_DATA_LEN] = job->data_len;
  w[VYRE_ARG_STREAM_OFF_LO] = (uint32_t) job->stream_offset;
  w[VYRE_ARG_STREAM_OFF_HI] = (uint32_t) (job->stream_offset >> 32);
  w[VYRE_ARG_CARRY_LEN] = (job->carry_len & VYRE_CARRY_LEN_MASK) |
      (job->carry_in_arena ? VYRE_CARRY_IN_ARENA : 0u);
  w[VYRE_ARG_OPS] = job->ops;
  w[VYRE_ARG_EPOCH] = job->epoch;
  w[VYRE_ARG_RESULT_INDEX] = job->result_index;
  w[VYRE_ARG_TAG] = job->tag;
}

static void
slot_to_job (const uint32_t * w, vyre_job * job)
{
  job->opcode = w[VYRE_SLOT_OPCODE];
  job->tenant = w[VYRE_SLOT_TENANT];
  job->priority = w[VYRE_SLOT_PRIORITY];
  job->seq = join_u64 (w[VYRE_ARG_SEQ_LO], w[VYRE_ARG_SEQ_HI]);
  job->data_offset = join_u64 (w[VYRE_ARG_DATA_OFF_LO], w[VYRE_ARG_DATA_OFF_HI]);
  job->data_len = w[VYRE_ARG_DATA_LEN];
  job->stream_offset =
      join_u64 (w[VYRE_ARG_STREAM_OFF_LO], w[VYRE_ARG_STREAM_OFF_HI]);
  job->carry_len = w[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_LEN_MASK;
  job->carry_in_arena = (w[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_IN_ARENA) != 0;
  job->ops = w[VYRE_ARG_OPS];
  job->epoch = w[VYRE_ARG_EPOCH];
  job->result_index = w[VYRE_ARG_RESULT_INDEX];
  job->tag = w[VYRE_ARG_TAG];
}

/* Report a bad slot: the fault code the consumer completes it with, plus
 * the message.  Messages name the value and the limit first so they stay
 * useful even when the Fix is long. */
#define SLOT_FAIL(code, ...)                                               \
  do {                                                                     \
    if (fault_code != NULL)                                                \
      *fault_code = (code);                                                \
    return vyre_fail (err, VYRE_ERR_MALFORMED, __VA_ARGS__);               \
  } while (0)

vyre_status
vyre_slot_decode (const vyre_slot_words * in, const vyre_slot_limits * limits,
    vyre_job * out, uint32_t * fault_code, vyre_error * err)
{
  vyre_job job;

  if (fault_code != NULL)
    *fault_code = VYRE_FAULT_NONE;
  if (in == NULL || limits == NULL || out == NULL) {
    if (fault_code != NULL)
      *fault_code = VYRE_FAULT_BAD_OPCODE;
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_slot_decode called with a NULL %s. Fix: pass the slot words, "
        "the limits and an output job.",
        in == NULL ? "slot" : limits == NULL ? "limits" : "output job");
  }

  /* Fill the job in even when validation fails: a consumer needs the
   * sequence and tag to complete a rejected slot as FAULT. */
  slot_to_job (in->w, &job);
  *out = job;

  if (job.opcode >= VYRE_OP_COUNT && job.opcode != VYRE_OP_SHUTDOWN)
    SLOT_FAIL (VYRE_FAULT_BAD_OPCODE,
        "slot seq %" PRIu64 ": opcode %" PRIu32 " (0x%" PRIx32 ") is not "
        "known (valid: 0..%u, or 0xFFFFFFFF for SHUTDOWN). Fix: publish "
        "only VYRE_OP_* opcodes; host and shader must be built from the same "
        "vyre_protocol.h.", job.seq, job.opcode, job.opcode,
        VYRE_OP_COUNT - 1u);

  if (job.tenant >= VYRE_MAX_TENANTS)
    SLOT_FAIL (VYRE_FAULT_BAD_TENANT,
        "slot seq %" PRIu64 ": tenant %" PRIu32 " is out of range (limit: "
        "below %u). Fix: use a tenant id below VYRE_MAX_TENANTS.",
        job.seq, job.tenant, VYRE_MAX_TENANTS);

  if (vyre_opcode_is_data (job.opcode)) {
    /* data_offset + data_len <= arena_bytes, written so that no
     * intermediate sum can wrap: data_offset may be anything a 64-bit
     * word pair holds. */
    if ((uint64_t) job.data_len > limits->arena_bytes
        || job.data_offset > limits->arena_bytes - job.data_len)
      SLOT_FAIL (VYRE_FAULT_BAD_RANGE,
          "slot seq %" PRIu64 ": data [%" PRIu64 ", +%" PRIu32 ") is outside "
          "the %" PRIu64 "-byte arena. Fix: keep data_offset + data_len "
          "within the arena (split the buffer or grow the arena).",
          job.seq, job.data_offset, job.data_len, limits->arena_bytes);
    if (job.carry_len > limits->max_carry)
      SLOT_FAIL (VYRE_FAULT_BAD_RANGE,
          "slot seq %" PRIu64 ": carry_len %" PRIu32 " exceeds the carry "
          "window of %" PRIu32 " bytes. Fix: carry at most max_carry bytes "
          "(the longest pattern minus one).",
          job.seq, job.carry_len, limits->max_carry);
    if ((uint64_t) job.carry_len > job.stream_offset)
      SLOT_FAIL (VYRE_FAULT_BAD_RANGE,
          "slot seq %" PRIu64 ": carry_len %" PRIu32 " is larger than "
          "stream_offset %" PRIu64 " (carry would start before the stream). "
          "Fix: carry only bytes the stream already delivered.",
          job.seq, job.carry_len, job.stream_offset);
    if (job.carry_in_arena && (uint64_t) job.carry_len > job.data_offset)
      SLOT_FAIL (VYRE_FAULT_BAD_RANGE,
          "slot seq %" PRIu64 ": carry_len %" PRIu32 " in the arena would "
          "start before the arena (data_offset %" PRIu64 "). Fix: set "
          "carry_in_arena only for a job whose carry bytes precede its data "
          "in the arena (a later job of the same buffer).",
          job.seq, job.carry_len, job.data_offset);
    if (job.result_index >= limits->result_count)
      SLOT_FAIL (VYRE_FAULT_BAD_RESULT,
          "slot seq %" PRIu64 ": result_index %" PRIu32 " is out of range "
          "(limit: below %" PRIu32 "). Fix: use a result record index below "
          "the ring's result_count.",
          job.seq, job.result_index, limits->result_count);
    if ((job.ops & ~VYRE_OPS_VALID) != 0)
      SLOT_FAIL (VYRE_FAULT_BAD_OPCODE,
          "slot seq %" PRIu64 ": ops mask 0x%" PRIx32 " has unknown bits "
          "(allowed: 0x%x). Fix: combine only VYRE_OPS_* bits.",
          job.seq, job.ops, VYRE_OPS_VALID);
  }

  if ((vyre_opcode_is_data (job.opcode) || job.opcode == VYRE_OP_BATCH_FENCE)
      && job.epoch == 0)
    SLOT_FAIL (VYRE_FAULT_BAD_EPOCH,
        "slot seq %" PRIu64 ": epoch 0 (limit: epochs start at 1). Fix: "
        "give data jobs and fences an epoch >= 1.", job.seq);

  return VYRE_OK;
}

#undef SLOT_FAIL

void
vyre_completion_encode (const vyre_completion * c, vyre_completion_words * out)
{
  if (c == NULL || out == NULL)
    return;
  for (unsigned i = 0; i < VYRE_COMPLETION_WORDS; i++)
    out->w[i] = 0;
  out->w[VYRE_COMP_SEQ_LO] = (uint32_t) c->seq;
  out->w[VYRE_COMP_SEQ_HI] = (uint32_t) (c->seq >> 32);
  out->w[VYRE_COMP_STATUS] = c->status;
  out->w[VYRE_COMP_FAULT_CODE] = c->fault_code;
  out->w[VYRE_COMP_OPCODE] = c->opcode;
  out->w[VYRE_COMP_MATCHES] = c->matches;
  out->w[VYRE_COMP_MATCHES_STORED] = c->matches_stored;
  out->w[VYRE_COMP_CRC32] = c->crc32;
  out->w[VYRE_COMP_EPOCH] = c->epoch;
  out->w[VYRE_COMP_WORKGROUP] = c->workgroup;
  out->w[VYRE_COMP_LAUNCH] = c->launch;
  out->w[VYRE_COMP_TAG] = c->tag;
  out->w[VYRE_COMP_EVENTS] = c->events;
  out->w[VYRE_COMP_RESULT_CHECK] = c->result_check;
  out->w[VYRE_COMP_HIST_CHECK] = c->hist_check;
  out->w[VYRE_COMP_CHECK] = vyre_completion_words_check (out);
}

uint32_t
vyre_completion_words_check (const vyre_completion_words * in)
{
  uint32_t sum = 0;
  for (uint32_t i = 0; i < VYRE_COMPLETION_WORDS; i++)
    if (i != VYRE_COMP_CHECK)
      sum += vyre_check_term (i, in->w[i]);
  return sum;
}

vyre_status
vyre_completion_decode (const vyre_completion_words * in,
    vyre_completion * out, vyre_error * err)
{
  if (in == NULL || out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_completion_decode called with a NULL %s. Fix: pass the entry "
        "words and an output completion.", in == NULL ? "entry" : "output");

  const uint32_t *w = in->w;
  vyre_completion c;
  memset (&c, 0, sizeof c);
  c.seq = join_u64 (w[VYRE_COMP_SEQ_LO], w[VYRE_COMP_SEQ_HI]);
  c.status = w[VYRE_COMP_STATUS];
  c.fault_code = w[VYRE_COMP_FAULT_CODE];
  c.opcode = w[VYRE_COMP_OPCODE];
  c.matches = w[VYRE_COMP_MATCHES];
  c.matches_stored = w[VYRE_COMP_MATCHES_STORED];
  c.crc32 = w[VYRE_COMP_CRC32];
  c.epoch = w[VYRE_COMP_EPOCH];
  c.workgroup = w[VYRE_COMP_WORKGROUP];
  c.launch = w[VYRE_COMP_LAUNCH];
  c.tag = w[VYRE_COMP_TAG];
  c.events = w[VYRE_COMP_EVENTS];
  c.result_check = w[VYRE_COMP_RESULT_CHECK];
  c.hist_check = w[VYRE_COMP_HIST_CHECK];
  *out = c;

  if (c.status != VYRE_STATUS_DONE && c.status != VYRE_STATUS_FAULT)
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "completion seq %" PRIu64 ": status %" PRIu32 " is neither DONE (%u) "
        "nor FAULT (%u). Fix: the consumer wrote a corrupt entry; check that "
        "host and shader use the same vyre_protocol.h and that the "
        "completion buffer is not shared with other work.",
        c.seq, c.status, VYRE_STATUS_DONE, VYRE_STATUS_FAULT);
  if (c.fault_code >= VYRE_FAULT_CODE_COUNT)
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "completion seq %" PRIu64 ": fault code %" PRIu32 " is unknown "
        "(limit: below %u). Fix: rebuild host and shader from the same "
        "vyre_protocol.h.", c.seq, c.fault_code, VYRE_FAULT_CODE_COUNT);
  if ((c.status == VYRE_STATUS_FAULT) != (c.fault_code != VYRE_FAULT_NONE))
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "completion seq %" PRIu64 ": status %s with fault code %" PRIu32
        " (%s); FAULT must carry a fault code and DONE must not. Fix: the "
        "consumer wrote an inconsistent entry; check the shader's "
        "completion path.", c.seq,
        c.status == VYRE_STATUS_FAULT ? "FAULT" : "DONE", c.fault_code,
        vyre_fault_name (c.fault_code));
  return VYRE_OK;
}

bool
vyre_status_word_is_known (uint32_t status)
{
  return status <= VYRE_STATUS_FAULT;
}

const char *
vyre_fault_name (uint32_t fault_code)
{
  switch (fault_code) {
    case VYRE_FAULT_NONE: return "none";
    case VYRE_FAULT_BAD_OPCODE: return "bad-opcode";
    case VYRE_FAULT_BAD_TENANT: return "bad-tenant";
    case VYRE_FAULT_TENANT_DENIED: return "tenant-denied";
    case VYRE_FAULT_BAD_RANGE: return "bad-range";
    case VYRE_FAULT_BAD_RESULT: return "bad-result";
    case VYRE_FAULT_BAD_EPOCH: return "bad-epoch";
    case VYRE_FAULT_BAD_VERSION: return "bad-version";
    case VYRE_FAULT_IO_ERROR: return "io-error";
    case VYRE_FAULT_ITER_LIMIT: return "iteration-limit";
  }
  return "unknown-fault";
}

const char *
vyre_fault_fix (uint32_t fault_code)
{
  switch (fault_code) {
    case VYRE_FAULT_NONE:
      return "Fix: nothing to fix, the job completed.";
    case VYRE_FAULT_BAD_OPCODE:
      return "Fix: publish only VYRE_OP_* opcodes and VYRE_OPS_* bits; "
          "build host and shader from the same vyre_protocol.h.";
    case VYRE_FAULT_BAD_TENANT:
      return "Fix: use a tenant id below VYRE_MAX_TENANTS (128).";
    case VYRE_FAULT_TENANT_DENIED:
      return "Fix: give the tenant a record that allows the opcode "
          "(vyre_host_ring_set_tenant), or publish from a tenant that may run it "
          "(SHUTDOWN is reserved to tenant 0).";
    case VYRE_FAULT_BAD_RANGE:
      return "Fix: keep data_offset + data_len inside the arena, and "
          "carry_len <= max_carry and <= stream_offset.";
    case VYRE_FAULT_BAD_RESULT:
      return "Fix: use a result_index below the ring's result_count.";
    case VYRE_FAULT_BAD_EPOCH:
      return "Fix: use epochs >= 1 inside the open window (last closed + 1 "
          ".. + 63); publish an epoch's jobs before its fence and set "
          "FENCE_JOBS to their exact count.";
    case VYRE_FAULT_BAD_VERSION:
      return "Fix: rebuild shader and host from the same vyre_protocol.h "
          "and initialise the control block with "
          "vyre_host_ring_init_control.";
    case VYRE_FAULT_IO_ERROR:
      return "Fix: check the file or device the job's data was read from; "
          "the read feeding this job failed.";
    case VYRE_FAULT_ITER_LIMIT:
      return "Fix: publish the job again with a lower ITER_BUDGET (the "
          "driver stops loops after a fixed count, as lavapipe does), or "
          "use smaller jobs.";
  }
  return "Fix: the fault code is unknown to this host; build host and "
      "shader from the same vyre_protocol.h.";
}
