/* io_queue.c - see io_queue.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* the GNU strerror_r, returning the text */
#endif
#include "io_queue.h"
#include "store_order.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

_Static_assert (sizeof (_Atomic uint32_t) == sizeof (uint32_t),
    "an atomic uint32 must overlay a plain uint32 word");
_Static_assert (ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
_Static_assert (VYRE_IO_SLOT_WORDS == 8u, "IO entries are 8 words");

/* ------------------------------------------------------------------ */
/* Store ordering for memory that may be a write-combining BAR mapping:
 * vyre_store_fence / vyre_load_fence (store_order.h: sfence / lfence on
 * x86, C11 fences elsewhere) around the STATUS hand-over. */

/* Hand an entry over: every payload word is already stored; drain the
 * WC buffers so they reach memory before STATUS, store STATUS with
 * release ordering, and drain again so the other side sees it soon. */
static inline void
io_publish_status (_Atomic uint32_t * status, uint32_t value)
{
  vyre_store_fence ();
  atomic_store_explicit (status, value, memory_order_release);
  vyre_store_fence ();
}

/* Read STATUS; payload loads after this see what was stored before the
 * matching release store. */
static inline uint32_t
io_acquire_status (_Atomic uint32_t * status)
{
  uint32_t v = atomic_load_explicit (status, memory_order_acquire);
  vyre_load_fence ();
  return v;
}

/* ------------------------------------------------------------------ */

static inline _Atomic uint32_t *
io_entry (const vyre_io_queue * q, uint32_t entry)
{
  return q->words + (size_t) entry * VYRE_IO_SLOT_WORDS;
}

static inline uint32_t
io_get (_Atomic uint32_t * e, uint32_t word)
{
  return atomic_load_explicit (&e[word], memory_order_relaxed);
}

static inline void
io_put (_Atomic uint32_t * e, uint32_t word, uint32_t value)
{
  atomic_store_explicit (&e[word], value, memory_order_relaxed);
}

static bool
io_status_is_known (uint32_t s)
{
  switch (s) {
    case VYRE_STATUS_EMPTY:
    case VYRE_STATUS_PUBLISHED:
    case VYRE_STATUS_CLAIMED:
    case VYRE_IO_STATUS_OK:
    case VYRE_IO_STATUS_ERROR:
      return true;
  }
  return false;
}

const char *
vyre_io_status_name (uint32_t status)
{
  switch (status) {
    case VYRE_STATUS_EMPTY: return "empty";
    case VYRE_STATUS_PUBLISHED: return "published";
    case VYRE_STATUS_CLAIMED: return "claimed";
    case VYRE_IO_STATUS_OK: return "ok";
    case VYRE_IO_STATUS_ERROR: return "error";
  }
  return "invalid";
}

static const char *
io_op_name (uint32_t op)
{
  switch (op) {
    case VYRE_IO_OP_READ: return "READ";
    case VYRE_IO_OP_WRITE: return "WRITE";
    case VYRE_IO_OP_FENCE: return "FENCE";
  }
  return "unknown-op";
}

static int
io_errno_text (int errnum, char *buf, size_t len)
{
  /* GNU strerror_r (-D_GNU_SOURCE): returns the text, maybe not in buf. */
  const char *s = strerror_r (errnum, buf, len);
  if (s != buf) {
    strncpy (buf, s, len - 1);
    buf[len - 1] = '\0';
  }
  return 0;
}

/* Checks a request's words; on failure returns the errno a servicer
 * completes it with and sets *why. */
static int
io_request_problem (const vyre_io_request * r, const char **why)
{
  switch (r->op) {
    case VYRE_IO_OP_READ:
    case VYRE_IO_OP_WRITE:
      if (r->offset > UINT64_MAX - r->bytes) {
        *why = "offset + bytes wraps past 2^64";
        return EOVERFLOW;
      }
      return 0;
    case VYRE_IO_OP_FENCE:
      if (r->bytes != 0) {
        *why = "a FENCE carries no bytes";
        return EINVAL;
      }
      return 0;
  }
  *why = "unknown op";
  return EINVAL;
}

static void
io_read_request (_Atomic uint32_t * e, vyre_io_request * r)
{
  r->op = io_get (e, VYRE_IO_OP);
  r->src = io_get (e, VYRE_IO_SRC);
  r->dst = io_get (e, VYRE_IO_DST);
  r->offset = (uint64_t) io_get (e, VYRE_IO_OFF_LO)
      | (uint64_t) io_get (e, VYRE_IO_OFF_HI) << 32;
  r->bytes = io_get (e, VYRE_IO_BYTES);
  r->tag = io_get (e, VYRE_IO_TAG);
}

static void
io_write_request (_Atomic uint32_t * e, const vyre_io_request * r)
{
  io_put (e, VYRE_IO_OP, r->op);
  io_put (e, VYRE_IO_SRC, r->src);
  io_put (e, VYRE_IO_DST, r->dst);
  io_put (e, VYRE_IO_OFF_LO, (uint32_t) r->offset);
  io_put (e, VYRE_IO_OFF_HI, (uint32_t) (r->offset >> 32));
  io_put (e, VYRE_IO_BYTES, r->bytes);
  io_put (e, VYRE_IO_TAG, r->tag);
}

static vyre_status
io_check_handle (const vyre_io_queue * q, vyre_error * err)
{
  if (q == NULL || q->words == NULL || q->nslots == 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO queue handle is not initialised. "
        "Fix: call vyre_io_queue_init or vyre_io_queue_attach first.");
  return VYRE_OK;
}

static vyre_status
io_check_entry (const vyre_io_queue * q, uint32_t entry, vyre_error * err)
{
  vyre_status st = io_check_handle (q, err);
  if (st != VYRE_OK)
    return st;
  if (entry >= q->nslots)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO entry %u is out of range (queue has %u entries). "
        "Fix: pass an index returned by submit/claim/publish.",
        entry, q->nslots);
  return VYRE_OK;
}

static vyre_status
io_malformed_status (uint32_t entry, uint32_t status, vyre_error * err)
{
  return vyre_fail (err, VYRE_ERR_MALFORMED,
      "IO entry %u has status word 0x%x, which is not an IO queue status "
      "(empty/published/claimed/ok/error). Fix: something outside the "
      "protocol wrote the queue; check the other side's layout "
      "(VYRE_IO_*), then vyre_io_queue_discard_malformed.", entry, status);
}

/* ------------------------------------------------------------------ */

uint64_t
vyre_io_queue_bytes (uint32_t nslots)
{
  return (uint64_t) nslots * VYRE_IO_ENTRY_BYTES;
}

vyre_status
vyre_io_queue_attach (vyre_io_queue * q, uint32_t * words, uint32_t nslots,
    vyre_error * err)
{
  if (q == NULL || words == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO queue: %s is NULL. Fix: pass a handle and the queue's words.",
        q == NULL ? "handle" : "words");
  if (nslots == 0 || nslots > VYRE_IO_QUEUE_MAX_ENTRIES)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO queue: %u entries requested, must be 1..%u. "
        "Fix: size the queue in that range.", nslots,
        (unsigned) VYRE_IO_QUEUE_MAX_ENTRIES);
  if (((uintptr_t) words & (sizeof (uint32_t) - 1)) != 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO queue words at %p are not 4-byte aligned. "
        "Fix: place the queue at an aligned offset of its mapping.",
        (void *) words);
  q->words = (_Atomic uint32_t *) words;
  q->nslots = nslots;
  atomic_init (&q->reserve_cursor, 0);
  atomic_init (&q->claim_cursor, 0);
  atomic_init (&q->reap_cursor, 0);
  return VYRE_OK;
}

vyre_status
vyre_io_queue_init (vyre_io_queue * q, uint32_t * words, uint32_t nslots,
    vyre_error * err)
{
  vyre_status st = vyre_io_queue_attach (q, words, nslots, err);
  if (st != VYRE_OK)
    return st;
  for (uint32_t i = 0; i < nslots; i++) {
    _Atomic uint32_t *e = io_entry (q, i);
    for (uint32_t w = 0; w < VYRE_IO_SLOT_WORDS; w++)
      if (w != VYRE_IO_STATUS)
        io_put (e, w, 0);
    io_put (e, VYRE_IO_STATUS, VYRE_STATUS_EMPTY);
  }
  vyre_store_fence ();
  atomic_thread_fence (memory_order_release);
  return VYRE_OK;
}

/* Next start position of a scan, round robin over the queue. */
static uint32_t
io_scan_start (_Atomic uint32_t * cursor, uint32_t nslots)
{
  return atomic_fetch_add_explicit (cursor, 1, memory_order_relaxed) % nslots;
}

/* Take ownership (-> CLAIMED) of the first entry, from a rotating start,
 * whose status is `from` (or either of from/from2).  Returns the entry or
 * nslots; *seen_malformed gets the first entry with an unknown status. */
static uint32_t
io_take (vyre_io_queue * q, _Atomic uint32_t * cursor, uint32_t from,
    uint32_t from2, uint32_t * taken_status, uint32_t * seen_malformed,
    uint32_t * malformed_status)
{
  uint32_t n = q->nslots;
  uint32_t start = io_scan_start (cursor, n);
  *seen_malformed = n;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t idx = start + i < n ? start + i : start + i - n;
    _Atomic uint32_t *status = &io_entry (q, idx)[VYRE_IO_STATUS];
    uint32_t s = atomic_load_explicit (status, memory_order_relaxed);
    if (s == from || s == from2) {
      /* Acquire: the previous owner's words (and its reads of them)
       * happen before ours. */
      if (atomic_compare_exchange_strong_explicit (status, &s,
              VYRE_STATUS_CLAIMED, memory_order_acquire,
              memory_order_relaxed)) {
        vyre_load_fence ();
        *taken_status = s;
        return idx;
      }
      /* Lost the race; s holds what won. */
    }
    if (!io_status_is_known (s) && *seen_malformed == n) {
      *seen_malformed = idx;
      *malformed_status = s;
    }
  }
  return n;
}

static vyre_status
io_reserve_and_write (vyre_io_queue * q, const vyre_io_request * req,
    uint32_t final_status, uint32_t tag_word, uint32_t * entry,
    vyre_error * err)
{
  uint32_t taken, bad, bad_status = 0;
  uint32_t idx = io_take (q, &q->reserve_cursor, VYRE_STATUS_EMPTY,
      VYRE_STATUS_EMPTY, &taken, &bad, &bad_status);
  if (idx == q->nslots) {
    if (bad != q->nslots)
      return io_malformed_status (bad, bad_status, err);
    return vyre_fail (err, VYRE_ERR_QUEUE_FULL,
        "IO queue full: none of its %u entries is EMPTY. Fix: reap "
        "completed entries (vyre_io_queue_reap/_reap_any) and retry, or "
        "give the queue more entries.", q->nslots);
  }
  _Atomic uint32_t *e = io_entry (q, idx);
  io_write_request (e, req);
  io_put (e, VYRE_IO_TAG, tag_word);
  io_publish_status (&e[VYRE_IO_STATUS], final_status);
  if (entry != NULL)
    *entry = idx;
  return VYRE_OK;
}

static vyre_status
io_check_request (const vyre_io_queue * q, const vyre_io_request * req,
    vyre_error * err)
{
  vyre_status st = io_check_handle (q, err);
  if (st != VYRE_OK)
    return st;
  if (req == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO request is NULL. Fix: pass the request to publish.");
  const char *why = NULL;
  if (io_request_problem (req, &why) != 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO request op %u (%s), offset %llu, bytes %u rejected: %s. "
        "Fix: use VYRE_IO_OP_READ/WRITE with a range inside 2^64, or a "
        "FENCE with 0 bytes.", req->op, io_op_name (req->op),
        (unsigned long long) req->offset, req->bytes, why);
  return VYRE_OK;
}

vyre_status
vyre_io_queue_submit (vyre_io_queue * q, const vyre_io_request * req,
    uint32_t * entry, vyre_error * err)
{
  vyre_status st = io_check_request (q, req, err);
  if (st != VYRE_OK)
    return st;
  return io_reserve_and_write (q, req, VYRE_STATUS_PUBLISHED, req->tag, entry,
      err);
}

vyre_status
vyre_io_queue_publish_outcome (vyre_io_queue * q, const vyre_io_request * req,
    int errnum, uint32_t * entry, vyre_error * err)
{
  vyre_status st = io_check_request (q, req, err);
  if (st != VYRE_OK)
    return st;
  if (errnum < 0 || errnum > VYRE_IO_MAX_ERRNO)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO outcome errno %d is outside 0..%d. Fix: pass 0 for success or "
        "the positive errno the read failed with.", errnum, VYRE_IO_MAX_ERRNO);
  if (errnum == 0)
    return io_reserve_and_write (q, req, VYRE_IO_STATUS_OK, req->tag, entry,
        err);
  return io_reserve_and_write (q, req, VYRE_IO_STATUS_ERROR,
      (uint32_t) errnum, entry, err);
}

/* ------------------------------------------------------------------ */
/* Servicer. */

vyre_status
vyre_io_queue_claim (vyre_io_queue * q, vyre_io_request * req,
    uint32_t * entry, vyre_error * err)
{
  vyre_status st = io_check_handle (q, err);
  if (st != VYRE_OK)
    return st;
  if (req == NULL || entry == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_io_queue_claim: %s is NULL. Fix: pass where to put the "
        "request and its entry index.", req == NULL ? "req" : "entry");
  uint32_t taken, bad, bad_status = 0;
  uint32_t idx = io_take (q, &q->claim_cursor, VYRE_STATUS_PUBLISHED,
      VYRE_STATUS_PUBLISHED, &taken, &bad, &bad_status);
  if (idx == q->nslots) {
    if (bad != q->nslots)
      return io_malformed_status (bad, bad_status, err);
    return vyre_fail (err, VYRE_ERR_QUEUE_EMPTY,
        "IO queue: no published request. Fix: poll again later "
        "(vyre_io_queue_wait_claim bounds the wait).");
  }
  _Atomic uint32_t *e = io_entry (q, idx);
  io_read_request (e, req);
  *entry = idx;
  const char *why = NULL;
  int errnum = io_request_problem (req, &why);
  if (errnum != 0) {
    /* Answer it, so the requester is not left waiting for ever. */
    io_put (e, VYRE_IO_TAG, (uint32_t) errnum);
    io_publish_status (&e[VYRE_IO_STATUS], VYRE_IO_STATUS_ERROR);
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "IO entry %u: request op %u (%s), offset %llu, bytes %u is "
        "malformed: %s; completed ERROR (errno %d). Fix: the requester "
        "must write a valid VYRE_IO_* request.", idx, req->op,
        io_op_name (req->op), (unsigned long long) req->offset, req->bytes,
        why, errnum);
  }
  return VYRE_OK;
}

static vyre_status
io_check_claimed (vyre_io_queue * q, uint32_t entry, vyre_error * err)
{
  vyre_status st = io_check_entry (q, entry, err);
  if (st != VYRE_OK)
    return st;
  uint32_t s = atomic_load_explicit (&io_entry (q, entry)[VYRE_IO_STATUS],
      memory_order_relaxed);
  if (s != VYRE_STATUS_CLAIMED)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO entry %u is %s (0x%x), not claimed. Fix: complete only entries "
        "you took with vyre_io_queue_claim, exactly once.", entry,
        vyre_io_status_name (s), s);
  return VYRE_OK;
}

vyre_status
vyre_io_queue_complete_ok (vyre_io_queue * q, uint32_t entry,
    uint32_t bytes_done, vyre_error * err)
{
  vyre_status st = io_check_claimed (q, entry, err);
  if (st != VYRE_OK)
    return st;
  _Atomic uint32_t *e = io_entry (q, entry);
  uint32_t requested = io_get (e, VYRE_IO_BYTES);
  if (bytes_done > requested)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO entry %u: %u bytes done but only %u requested. Fix: report "
        "the bytes actually transferred (short reads are fine).", entry,
        bytes_done, requested);
  io_put (e, VYRE_IO_BYTES, bytes_done);
  io_publish_status (&e[VYRE_IO_STATUS], VYRE_IO_STATUS_OK);
  return VYRE_OK;
}

vyre_status
vyre_io_queue_complete_error (vyre_io_queue * q, uint32_t entry, int errnum,
    vyre_error * err)
{
  vyre_status st = io_check_claimed (q, entry, err);
  if (st != VYRE_OK)
    return st;
  if (errnum <= 0 || errnum > VYRE_IO_MAX_ERRNO)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO entry %u: errno %d is outside 1..%d. Fix: pass the errno the "
        "operation failed with (e.g. -cqe->res for io_uring).", entry,
        errnum, VYRE_IO_MAX_ERRNO);
  _Atomic uint32_t *e = io_entry (q, entry);
  io_put (e, VYRE_IO_TAG, (uint32_t) errnum);
  io_publish_status (&e[VYRE_IO_STATUS], VYRE_IO_STATUS_ERROR);
  return VYRE_OK;
}

/* ------------------------------------------------------------------ */
/* Reaping: we own entry idx (CLAIMED by us, taken from OK/ERROR). Read
 * it, validate, recycle to EMPTY. */

static vyre_status
io_consume_outcome (vyre_io_queue * q, uint32_t idx, uint32_t status,
    vyre_io_completion * out, vyre_error * err)
{
  _Atomic uint32_t *e = io_entry (q, idx);
  vyre_io_request r;
  io_read_request (e, &r);
  /* Recycle first: everything needed is in r. */
  io_publish_status (&e[VYRE_IO_STATUS], VYRE_STATUS_EMPTY);

  vyre_io_completion c = {
    .entry = idx, .status = status, .op = r.op, .src = r.src, .dst = r.dst,
    .offset = r.offset, .bytes = r.bytes,
    .tag = status == VYRE_IO_STATUS_OK ? r.tag : 0,
    .errnum = status == VYRE_IO_STATUS_ERROR ? (int) r.tag : 0,
  };
  if (out != NULL)
    *out = c;

  const char *why = NULL;
  if (io_request_problem (&r, &why) != 0)
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "IO entry %u: %s outcome for op %u (%s), offset %llu, bytes %u is "
        "malformed: %s (entry recycled). Fix: the completing side must "
        "keep the request words intact.", idx, vyre_io_status_name (status),
        r.op, io_op_name (r.op), (unsigned long long) r.offset, r.bytes, why);
  if (status == VYRE_IO_STATUS_ERROR
      && (r.tag == 0 || r.tag > (uint32_t) VYRE_IO_MAX_ERRNO))
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "IO entry %u: ERROR outcome for %s at offset %llu carries errno %u, "
        "outside 1..%d (entry recycled). Fix: the completing side must "
        "store the errno in TAG.", idx, io_op_name (r.op),
        (unsigned long long) r.offset, r.tag, VYRE_IO_MAX_ERRNO);
  if (status == VYRE_IO_STATUS_ERROR) {
    char text[128];
    io_errno_text ((int) r.tag, text, sizeof text);
    return vyre_fail (err, VYRE_ERR_IO,
        "IO entry %u: %s of %u bytes at offset %llu (src %u, dst %u) "
        "failed: %s (errno %u). Fix: check that handle %u is an open file "
        "and the range lies inside it; resubmit or drop the request.", idx, io_op_name (r.op), r.bytes,
        (unsigned long long) r.offset, r.src, r.dst, text, r.tag,
        r.op == VYRE_IO_OP_WRITE ? r.dst : r.src);
  }
  return VYRE_OK;
}

vyre_status
vyre_io_queue_reap (vyre_io_queue * q, uint32_t entry,
    vyre_io_completion * out, vyre_error * err)
{
  vyre_status st = io_check_entry (q, entry, err);
  if (st != VYRE_OK)
    return st;
  _Atomic uint32_t *status = &io_entry (q, entry)[VYRE_IO_STATUS];
  uint32_t s = io_acquire_status (status);
  for (;;) {
    switch (s) {
      case VYRE_STATUS_EMPTY:
        return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
            "IO entry %u is EMPTY: nothing to reap. Fix: reap each entry "
            "returned by vyre_io_queue_submit exactly once.", entry);
      case VYRE_STATUS_PUBLISHED:
      case VYRE_STATUS_CLAIMED:
        return vyre_fail (err, VYRE_ERR_NOT_READY,
            "IO entry %u is still %s. Fix: reap again later, or use "
            "vyre_io_queue_wait with a timeout.", entry,
            vyre_io_status_name (s));
      case VYRE_IO_STATUS_OK:
      case VYRE_IO_STATUS_ERROR:{
        uint32_t was = s;
        if (atomic_compare_exchange_strong_explicit (status, &s,
                VYRE_STATUS_CLAIMED, memory_order_acquire,
                memory_order_acquire)) {
          vyre_load_fence ();
          return io_consume_outcome (q, entry, was, out, err);
        }
        continue;               /* s now holds the new status */
      }
      default:
        return io_malformed_status (entry, s, err);
    }
  }
}

vyre_status
vyre_io_queue_reap_any (vyre_io_queue * q, vyre_io_completion * out,
    vyre_error * err)
{
  vyre_status st = io_check_handle (q, err);
  if (st != VYRE_OK)
    return st;
  uint32_t taken = 0, bad, bad_status = 0;
  uint32_t idx = io_take (q, &q->reap_cursor, VYRE_IO_STATUS_OK,
      VYRE_IO_STATUS_ERROR, &taken, &bad, &bad_status);
  if (idx == q->nslots) {
    if (bad != q->nslots)
      return io_malformed_status (bad, bad_status, err);
    return vyre_fail (err, VYRE_ERR_QUEUE_EMPTY,
        "IO queue: no completed entry to reap. Fix: poll again later "
        "(vyre_io_queue_wait_any bounds the wait).");
  }
  return io_consume_outcome (q, idx, taken, out, err);
}

/* ------------------------------------------------------------------ */
/* Bounded waiting: spin briefly, then yield, then sleep in short naps. */

static uint64_t
io_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

typedef struct {
  uint64_t start, deadline;
  uint32_t round;
} io_waiter;

static void
io_waiter_start (io_waiter * w, uint64_t timeout_ns)
{
  w->start = io_now_ns ();
  w->deadline = timeout_ns > UINT64_MAX - w->start ? UINT64_MAX
      : w->start + timeout_ns;
  w->round = 0;
}

/* false when the deadline has passed. */
static bool
io_waiter_pause (io_waiter * w)
{
  uint64_t now = io_now_ns ();
  if (now >= w->deadline)
    return false;
  w->round++;
  if (w->round < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause ();
#endif
  } else if (w->round < 256) {
    sched_yield ();
  } else {
    uint64_t nap = w->deadline - now;
    if (nap > 50000)
      nap = 50000;
    struct timespec ts = { 0, (long) nap };
    nanosleep (&ts, NULL);
  }
  return true;
}

vyre_status
vyre_io_queue_wait (vyre_io_queue * q, uint32_t entry, uint64_t timeout_ns,
    vyre_io_completion * out, vyre_error * err)
{
  io_waiter w;
  io_waiter_start (&w, timeout_ns);
  for (;;) {
    vyre_status st = vyre_io_queue_reap (q, entry, out, err);
    if (st != VYRE_ERR_NOT_READY)
      return st;
    if (!io_waiter_pause (&w)) {
      uint32_t s = atomic_load_explicit (&io_entry (q, entry)[VYRE_IO_STATUS],
          memory_order_relaxed);
      return vyre_fail (err, VYRE_ERR_NOT_READY,
          "IO entry %u still %s after %llu ns. Fix: check that the IO "
          "service is running and claiming requests; wait again or give "
          "up on this entry.", entry, vyre_io_status_name (s),
          (unsigned long long) (io_now_ns () - w.start));
    }
  }
}

vyre_status
vyre_io_queue_wait_claim (vyre_io_queue * q, uint64_t timeout_ns,
    vyre_io_request * req, uint32_t * entry, vyre_error * err)
{
  io_waiter w;
  io_waiter_start (&w, timeout_ns);
  for (;;) {
    vyre_status st = vyre_io_queue_claim (q, req, entry, err);
    if (st != VYRE_ERR_QUEUE_EMPTY)
      return st;
    if (!io_waiter_pause (&w))
      return vyre_fail (err, VYRE_ERR_NOT_READY,
          "IO queue: no request published within %llu ns. Fix: nothing "
          "to do; poll again (or shut the service down).",
          (unsigned long long) (io_now_ns () - w.start));
  }
}

vyre_status
vyre_io_queue_wait_any (vyre_io_queue * q, uint64_t timeout_ns,
    vyre_io_completion * out, vyre_error * err)
{
  io_waiter w;
  io_waiter_start (&w, timeout_ns);
  for (;;) {
    vyre_status st = vyre_io_queue_reap_any (q, out, err);
    if (st != VYRE_ERR_QUEUE_EMPTY)
      return st;
    if (!io_waiter_pause (&w))
      return vyre_fail (err, VYRE_ERR_NOT_READY,
          "IO queue: no outcome published within %llu ns. Fix: check "
          "that the host IO pump is running; poll again.",
          (unsigned long long) (io_now_ns () - w.start));
  }
}

/* ------------------------------------------------------------------ */

void
vyre_io_queue_census (const vyre_io_queue * q, vyre_io_census * out)
{
  if (out == NULL)
    return;
  *out = (vyre_io_census) { 0 };
  if (q == NULL || q->words == NULL)
    return;
  out->first_malformed = q->nslots;
  for (uint32_t i = 0; i < q->nslots; i++) {
    uint32_t s = atomic_load_explicit (&io_entry (q, i)[VYRE_IO_STATUS],
        memory_order_relaxed);
    switch (s) {
      case VYRE_STATUS_EMPTY: out->empty++; break;
      case VYRE_STATUS_PUBLISHED: out->published++; break;
      case VYRE_STATUS_CLAIMED: out->claimed++; break;
      case VYRE_IO_STATUS_OK: out->ok++; break;
      case VYRE_IO_STATUS_ERROR: out->error++; break;
      default:
        if (out->malformed++ == 0)
          out->first_malformed = i;
    }
  }
}

vyre_status
vyre_io_queue_discard_malformed (vyre_io_queue * q, uint32_t entry,
    vyre_error * err)
{
  vyre_status st = io_check_entry (q, entry, err);
  if (st != VYRE_OK)
    return st;
  _Atomic uint32_t *status = &io_entry (q, entry)[VYRE_IO_STATUS];
  uint32_t s = atomic_load_explicit (status, memory_order_relaxed);
  if (io_status_is_known (s))
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "IO entry %u is %s, a valid state. Fix: only its owner moves it "
        "(reap it, or complete it if you claimed it).", entry,
        vyre_io_status_name (s));
  if (!atomic_compare_exchange_strong_explicit (status, &s, VYRE_STATUS_EMPTY,
          memory_order_acq_rel, memory_order_relaxed))
    return vyre_fail (err, VYRE_ERR_NOT_READY,
        "IO entry %u changed to 0x%x while being discarded. Fix: call "
        "again to inspect its new state.", entry, s);
  vyre_store_fence ();
  return VYRE_OK;
}
