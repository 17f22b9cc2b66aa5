/*
 * vyre_slot.h - C view of the wire format in vyre_protocol.h: typed job
 * and completion records, and the only code that turns them into words
 * and back.  Decoding validates everything (status, opcode, tenant,
 * ranges with overflow checks), because the words may come from another
 * process or a GPU that misbehaves; a bad slot is an error value with a
 * Fix, never a crash.
 */
#ifndef VYRE_SLOT_H
#define VYRE_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "vyre_error.h"
#include "vyre_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One slot / one completion entry as raw words. */
typedef struct {
  uint32_t w[VYRE_SLOT_WORDS];
} vyre_slot_words;

typedef struct {
  uint32_t w[VYRE_COMPLETION_WORDS];
} vyre_completion_words;

_Static_assert (sizeof (vyre_slot_words) == VYRE_SLOT_BYTES, "slot is 64 bytes");
_Static_assert (sizeof (vyre_completion_words) == VYRE_COMPLETION_WORDS * 4,
    "completion entry size");

/* A job as the host describes it.  Fields a given opcode does not use are
 * ignored (and encoded as given). */
typedef struct {
  uint32_t opcode;        /* VYRE_OP_* */
  uint32_t tenant;        /* < VYRE_MAX_TENANTS */
  uint32_t priority;      /* higher is claimed first among visible slots */
  uint64_t seq;           /* assigned by vyre_host_ring_publish */
  uint64_t data_offset;   /* bytes into the data arena */
  uint32_t data_len;      /* bytes (data jobs); FENCE_JOBS for a fence */
  uint64_t stream_offset; /* absolute stream offset of data[0] */
  uint32_t carry_len;     /* previous buffer's tail bytes, see protocol */
  bool carry_in_arena;    /* those bytes sit right before data_offset in
                             the arena (VYRE_CARRY_IN_ARENA), not in the
                             carry window */
  uint32_t ops;           /* VYRE_OPS_* mask */
  uint32_t epoch;         /* 1-based epoch of a job / epoch a fence closes */
  uint32_t result_index;  /* result record for this job */
  uint32_t tag;           /* echoed in the completion */
} vyre_job;

/* What a decoder validates a slot against. */
typedef struct {
  uint32_t nslots;        /* ring size */
  uint64_t arena_bytes;   /* data arena size */
  uint32_t result_count;  /* result records */
  uint32_t max_carry;     /* carry window per slot, bytes */
} vyre_slot_limits;

/* A completion entry, decoded. */
typedef struct {
  uint64_t seq;
  uint32_t status;        /* VYRE_STATUS_DONE or VYRE_STATUS_FAULT */
  uint32_t fault_code;    /* VYRE_FAULT_* */
  uint32_t opcode;
  uint32_t matches;
  uint32_t matches_stored;
  uint32_t crc32;
  uint32_t epoch;
  uint32_t workgroup;
  uint32_t launch;
  uint32_t tag;
  uint32_t events;        /* match events stored in the result record */
  uint32_t result_check;  /* the kernel's sum over the events it stored */
  uint32_t hist_check;    /* ... and over the histogram it wrote */
} vyre_completion;

/* A data opcode (SCAN, CRC32, HISTOGRAM): its job reads the arena and
 * counts toward its epoch; fences, NOP and SHUTDOWN do not. */
static inline bool
vyre_opcode_is_data (uint32_t opcode)
{
  return opcode == VYRE_OP_SCAN || opcode == VYRE_OP_CRC32
      || opcode == VYRE_OP_HISTOGRAM;
}

/* Payload words of a job; STATUS is set to EMPTY (publishing writes it). */
void vyre_slot_encode (const vyre_job * job, vyre_slot_words * out);

/* Decode and validate a slot's payload (status is not judged: the caller
 * owns the state machine).  On error returns VYRE_ERR_MALFORMED, sets
 * *fault_code to the VYRE_FAULT_* the consumer must complete it with, and
 * fills err with the reason and a Fix. */
vyre_status vyre_slot_decode (const vyre_slot_words * in,
    const vyre_slot_limits * limits, vyre_job * out, uint32_t * fault_code,
    vyre_error * err);

/* Words of a completion, VYRE_COMP_CHECK included (written last by a
 * consumer that orders its stores; a GPU need not). */
void vyre_completion_encode (const vyre_completion * c,
    vyre_completion_words * out);

/* One word's share of a check sum (VYRE_CHECK_TERM, as the shader has it). */
static inline uint32_t
vyre_check_term (uint32_t index, uint32_t word)
{
  return VYRE_CHECK_TERM (index, word);
}

/* The sum VYRE_COMP_CHECK must hold: every word of the entry but itself.
 * A reader that finds another value read the entry torn (some words from
 * an earlier job) and must read it again. */
uint32_t vyre_completion_words_check (const vyre_completion_words * in);

/* Decode and validate a completion entry (status DONE or FAULT, known
 * fault code, FAULT iff fault_code != NONE). */
vyre_status vyre_completion_decode (const vyre_completion_words * in,
    vyre_completion * out, vyre_error * err);

/* True when a status word holds one of the VYRE_STATUS_* values. */
bool vyre_status_word_is_known (uint32_t status);

/* "bad-opcode", ...; and the Fix a user should read for that fault. */
const char *vyre_fault_name (uint32_t fault_code);
const char *vyre_fault_fix (uint32_t fault_code);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_SLOT_H */
