/*
 * io_queue.h - the IO queue: 8-word entries (VYRE_IO_* in vyre_protocol.h)
 * in memory the caller provides: a heap buffer, a MAP_SHARED mapping seen
 * by another process, or a Vulkan mapping the megakernel polls (possibly a
 * write-combining BAR mapping).  The handle never allocates and never
 * blocks: every waiting helper takes a timeout and returns
 * VYRE_ERR_NOT_READY when it runs out.
 *
 * Entry states (word VYRE_IO_STATUS) and who moves them:
 *
 *        reserve (CAS)        publish (release)
 *   EMPTY ------------> CLAIMED -----------> PUBLISHED      request
 *                       (owner fills it)        |
 *                                               | claim (CAS)
 *                                               v
 *   EMPTY <------------ CLAIMED <---------- OK / ERROR  <--- CLAIMED
 *         recycle        reap (CAS)        complete        (servicer
 *        (release)    (reaper reads it)    (release)        performs it)
 *
 * CLAIMED always means "one agent owns this entry exclusively, nobody
 * else reads or writes it": the publisher while it fills the entry, the
 * servicer while it performs the request, the reaper while it reads the
 * outcome.  Every hand-over is a CAS (taking ownership) or a release
 * store of STATUS written after all other words (giving it away).
 *
 * Two directions use the same entries:
 *
 *  1. Host -> kernel, completed reads.  The host performed a read (an
 *     io_uring completion, say) and tells the kernel where the bytes are:
 *     vyre_io_queue_publish_outcome() writes the entry and sets STATUS to
 *     OK (bytes done) or ERROR (errno in TAG) directly.  The kernel -- or
 *     any consumer, vyre_io_queue_reap_any() is the C version -- reaps it
 *     and returns it to EMPTY.  A failed read is therefore visible to the
 *     kernel as ERROR instead of a read that never arrives.
 *
 *  2. Kernel -> host, read requests.  A requester (a GPU workgroup, or
 *     vyre_io_queue_submit()) publishes READ {src file handle, dst arena
 *     window, 64-bit offset, bytes, tag}; the host service claims it
 *     (vyre_io_queue_claim(), CAS PUBLISHED -> CLAIMED), performs it and
 *     completes it OK (BYTES := bytes done) or ERROR (TAG := errno, BYTES
 *     keeps the requested count).  The requester reaps its entry
 *     (vyre_io_queue_reap() / vyre_io_queue_wait()) and it becomes EMPTY.
 *
 * ERROR is an outcome every consumer handles: reaping an ERROR entry
 * recycles it, fills the completion, and returns VYRE_ERR_IO with a message
 * naming the offset, the byte count, the errno text and a Fix.
 *
 * Everything read back is validated (the other side may be another
 * process or a GPU that misbehaves): an unknown status or opcode, an
 * offset + bytes range that wraps 64 bits, an ERROR without an errno, a
 * completion claiming more bytes than requested are VYRE_ERR_MALFORMED
 * with a Fix, never a crash.
 *
 * Threads: one vyre_io_queue handle may be shared by any number of
 * threads; several handles (one per process) may be attached to the same
 * words.  Ownership CASes are only ever contended between agents of the
 * same side (requesters among themselves, servicers among themselves).
 * On a write-combining BAR mapping a locked CAS is not guaranteed atomic
 * against the GPU, which is why no state is ever CASed by both sides.
 */
#ifndef VYRE_IO_QUEUE_H
#define VYRE_IO_QUEUE_H

#include <stdatomic.h>
#include <stdint.h>

#include "vyre_error.h"
#include "vyre_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VYRE_IO_ENTRY_BYTES (VYRE_IO_SLOT_WORDS * 4u)

/* Entry count limit: the word index of the last word must fit a uint32
 * (the shader indexes the queue with 32-bit integers). */
#define VYRE_IO_QUEUE_MAX_ENTRIES (UINT32_MAX / VYRE_IO_SLOT_WORDS)

/* Largest errno an ERROR entry may carry (Linux: MAX_ERRNO). */
#define VYRE_IO_MAX_ERRNO 4095

/* Handle: words and cursors.  Fill with vyre_io_queue_init/attach; the
 * caller owns the words and keeps them mapped while the handle is used. */
typedef struct {
  _Atomic uint32_t *words;
  uint32_t nslots;
  /* Where the next scans start (per handle; spreads the load). */
  _Atomic uint32_t reserve_cursor;
  _Atomic uint32_t claim_cursor;
  _Atomic uint32_t reap_cursor;
} vyre_io_queue;

/* An IO request as the requester describes it. */
typedef struct {
  uint32_t op;       /* VYRE_IO_OP_READ / _WRITE / _FENCE */
  uint32_t src;      /* source handle: file id (READ), window (WRITE) */
  uint32_t dst;      /* destination handle: arena window (READ), file id */
  uint64_t offset;   /* file offset in bytes */
  uint32_t bytes;    /* bytes requested; 0 for FENCE */
  uint32_t tag;      /* caller cookie (lost on ERROR: TAG then holds errno) */
} vyre_io_request;

/* A reaped outcome. */
typedef struct {
  uint32_t entry;    /* which entry it was (now EMPTY again) */
  uint32_t status;   /* VYRE_IO_STATUS_OK or VYRE_IO_STATUS_ERROR */
  uint32_t op, src, dst;
  uint64_t offset;
  uint32_t bytes;    /* OK: bytes done; ERROR: bytes requested */
  uint32_t tag;      /* OK: the caller's cookie; ERROR: 0 */
  int errnum;        /* ERROR: the errno (1..VYRE_IO_MAX_ERRNO); OK: 0 */
} vyre_io_completion;

/* How many entries are in each state right now (a racy snapshot). */
typedef struct {
  uint32_t empty, published, claimed, ok, error;
  uint32_t malformed;        /* entries whose STATUS is not an IO status */
  uint32_t first_malformed;  /* index of the first one (nslots if none) */
} vyre_io_census;

/* Bytes the caller must provide for nslots entries (nslots * 32). */
uint64_t vyre_io_queue_bytes (uint32_t nslots);

/* Point q at words (nslots * VYRE_IO_SLOT_WORDS uint32s, 4-byte aligned)
 * and set every entry to EMPTY.  Only one side initialises, before the
 * other side looks at the words. */
vyre_status vyre_io_queue_init (vyre_io_queue * q, uint32_t * words,
    uint32_t nslots, vyre_error * err);

/* Point q at words another party already initialised (the other process
 * of a shared mapping); nothing is written. */
vyre_status vyre_io_queue_attach (vyre_io_queue * q, uint32_t * words,
    uint32_t nslots, vyre_error * err);

/* --- direction 2, requester side ------------------------------------ */

/* Reserve an EMPTY entry, write req into it, publish it (STATUS =
 * PUBLISHED, release).  *entry (may be NULL) gets its index, to reap it
 * by.  VYRE_ERR_QUEUE_FULL when no entry is EMPTY (reap, then retry);
 * VYRE_ERR_INVALID_ARGUMENT for an unknown op or a wrapping range. */
vyre_status vyre_io_queue_submit (vyre_io_queue * q,
    const vyre_io_request * req, uint32_t * entry, vyre_error * err);

/* Reap entry: if it holds an outcome, copy it to *out, return the entry
 * to EMPTY and return VYRE_OK (OK) or VYRE_ERR_IO (ERROR, message with
 * offset, bytes, errno text and a Fix).  VYRE_ERR_NOT_READY while it is
 * PUBLISHED or CLAIMED; VYRE_ERR_INVALID_ARGUMENT if it is EMPTY or out
 * of range; VYRE_ERR_MALFORMED if its words fail validation (an outcome
 * that fails validation is still recycled; *out holds what was read). */
vyre_status vyre_io_queue_reap (vyre_io_queue * q, uint32_t entry,
    vyre_io_completion * out, vyre_error * err);

/* vyre_io_queue_reap, polling with backoff for at most timeout_ns.
 * VYRE_ERR_NOT_READY (message: entry, state, waited ns) on timeout. */
vyre_status vyre_io_queue_wait (vyre_io_queue * q, uint32_t entry,
    uint64_t timeout_ns, vyre_io_completion * out, vyre_error * err);

/* --- direction 2, servicer side ------------------------------------- */

/* Claim one PUBLISHED request (CAS PUBLISHED -> CLAIMED) and copy it to
 * *req, its index to *entry.  VYRE_ERR_QUEUE_EMPTY when none is
 * published.  A claimed request that fails validation (unknown op,
 * wrapping range, FENCE with bytes) is completed ERROR (EINVAL /
 * EOVERFLOW) so its requester is never left waiting, and
 * VYRE_ERR_MALFORMED is returned. */
vyre_status vyre_io_queue_claim (vyre_io_queue * q, vyre_io_request * req,
    uint32_t * entry, vyre_error * err);

/* vyre_io_queue_claim, polling with backoff for at most timeout_ns. */
vyre_status vyre_io_queue_wait_claim (vyre_io_queue * q, uint64_t timeout_ns,
    vyre_io_request * req, uint32_t * entry, vyre_error * err);

/* Complete a claimed entry OK with bytes_done (<= bytes requested). */
vyre_status vyre_io_queue_complete_ok (vyre_io_queue * q, uint32_t entry,
    uint32_t bytes_done, vyre_error * err);

/* Complete a claimed entry ERROR with errnum (1..VYRE_IO_MAX_ERRNO). */
vyre_status vyre_io_queue_complete_error (vyre_io_queue * q, uint32_t entry,
    int errnum, vyre_error * err);

/* --- direction 1: host publishes outcomes, a consumer reaps any ------ */

/* Reserve an EMPTY entry, write the performed request and its outcome,
 * and set STATUS to OK (errnum == 0; req->bytes = bytes done) or ERROR
 * (errnum = the read's errno; req->bytes = bytes requested) with release
 * ordering.  VYRE_ERR_QUEUE_FULL when no entry is EMPTY. */
vyre_status vyre_io_queue_publish_outcome (vyre_io_queue * q,
    const vyre_io_request * req, int errnum, uint32_t * entry,
    vyre_error * err);

/* Reap any entry holding an outcome (OK or ERROR), as vyre_io_queue_reap.
 * VYRE_ERR_QUEUE_EMPTY when there is none. */
vyre_status vyre_io_queue_reap_any (vyre_io_queue * q,
    vyre_io_completion * out, vyre_error * err);

/* vyre_io_queue_reap_any, polling with backoff for at most timeout_ns. */
vyre_status vyre_io_queue_wait_any (vyre_io_queue * q, uint64_t timeout_ns,
    vyre_io_completion * out, vyre_error * err);

/* --- inspection and recovery ---------------------------------------- */

/* Count entries per state. */
void vyre_io_queue_census (const vyre_io_queue * q, vyre_io_census * out);

/* Return an entry whose STATUS is not an IO status (corrupted by
 * something outside the protocol) to EMPTY.  VYRE_ERR_INVALID_ARGUMENT
 * for an entry in a valid state: those are only moved by their owner. */
vyre_status vyre_io_queue_discard_malformed (vyre_io_queue * q,
    uint32_t entry, vyre_error * err);

/* "empty", "published", "claimed", "ok", "error", or "invalid". */
const char *vyre_io_status_name (uint32_t status);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_IO_QUEUE_H */
