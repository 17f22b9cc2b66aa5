/* gst-vyre
 *
 * vyre-uring-reader.c - see vyre-uring-reader.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "vyre-uring-reader.h"

#include <errno.h>
#include <liburing.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>

/* Valgrind cannot see the kernel write a buffer asynchronously: tell it the
 * bytes a completion reports are defined. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MARK_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED ((p), (n))
#endif
#endif
#ifndef MARK_DEFINED
#define MARK_DEFINED(p, n) ((void) 0)
#endif

/* user_data of the cancel requests; read SQEs never use it (their
 * generation is at most 31 bits, see ud_of). */
#define UD_CANCEL (G_MAXUINT64 - 1)
/* One SQE never asks for more (the kernel caps a read near 2 GiB anyway). */
#define MAX_SQE_BYTES ((gsize) 1 << 30)

/* What a slot's request does: a read (continued until it has `need`
 * bytes) or one file operation (finished by its one completion). */
typedef enum
{
  KIND_READ,
  KIND_OPENAT2,
  KIND_STATX,
  KIND_CLOSE,
} SlotKind;

typedef enum
{
  SLOT_FREE,
  SLOT_INFLIGHT,                /* an SQE of it is queued or in the kernel */
  SLOT_DONE,                    /* finished, result not yet released */
} SlotState;

typedef struct
{
  SlotState state;
  SlotKind kind;
  guint32 gen;                  /* bumped per read: stale CQEs never match */
  gboolean cancel_requested;
  int fd;
  guint64 offset;
  guint8 *dst;
  gsize len;
  gsize need;
  int buf_index;
  gsize done;
  int error;
  gboolean eof;
  /* OPENAT2: the kernel reads how when the SQE is submitted, which may be
   * after submit_openat2 returned: kept here until then. */
  struct open_how how;
} Slot;

struct _VyreUringReader
{
  struct io_uring ring;
  guint depth;
  Slot *slots;
  guint *free_ids;              /* stack of free slot ids */
  guint n_free;
  guint inflight;               /* slots in SLOT_INFLIGHT */
  gboolean have_cancel;
  gboolean have_file_ops;       /* OPENAT2, STATX and CLOSE */
  gsize max_sqe_bytes;
  gboolean async;               /* IOSQE_ASYNC: copies on io-wq workers */
  VyreUringReaderStats stats;
};

static inline guint64
ud_of (VyreUringReader * r, guint id)
{
  return ((guint64) (r->slots[id].gen & 0x7fffffffu) << 32) | id;
}

VyreUringReader *
vyre_uring_reader_new (guint depth, int *err)
{
  if (depth == 0 || depth > 4096) {
    *err = EINVAL;
    return NULL;
  }
  VyreUringReader *r = g_new0 (VyreUringReader, 1);
  /* Room for one read SQE and one cancel per slot. */
  int ret = io_uring_queue_init (depth * 2, &r->ring, 0);
  if (ret < 0) {
    *err = -ret;
    g_free (r);
    return NULL;
  }
  struct io_uring_probe *probe = io_uring_get_probe_ring (&r->ring);
  gboolean have_read = TRUE;
  if (probe) {
    have_read = io_uring_opcode_supported (probe, IORING_OP_READ);
    r->have_cancel = io_uring_opcode_supported (probe, IORING_OP_ASYNC_CANCEL);
    r->have_file_ops = io_uring_opcode_supported (probe, IORING_OP_OPENAT2)
        && io_uring_opcode_supported (probe, IORING_OP_STATX)
        && io_uring_opcode_supported (probe, IORING_OP_CLOSE);
    io_uring_free_probe (probe);
  }
  if (!have_read) {
    io_uring_queue_exit (&r->ring);
    g_free (r);
    *err = ENOSYS;
    return NULL;
  }
  r->depth = depth;
  r->slots = g_new0 (Slot, depth);
  r->free_ids = g_new (guint, depth);
  for (guint i = 0; i < depth; i++)
    r->free_ids[i] = depth - 1 - i;
  r->n_free = depth;
  *err = 0;
  return r;
}

void
vyre_uring_reader_free (VyreUringReader * r)
{
  if (r == NULL)
    return;
  vyre_uring_reader_cancel_all (r);
  io_uring_queue_exit (&r->ring);
  g_free (r->slots);
  g_free (r->free_ids);
  g_free (r);
}

int
vyre_uring_reader_register_buffers (VyreUringReader * r,
    const struct iovec *iov, guint n_iov)
{
  struct io_uring_probe *probe = io_uring_get_probe_ring (&r->ring);
  if (probe) {
    gboolean ok = io_uring_opcode_supported (probe, IORING_OP_READ_FIXED);
    io_uring_free_probe (probe);
    if (!ok)
      return -EOPNOTSUPP;
  }
  return io_uring_register_buffers (&r->ring, iov, n_iov);
}

static struct io_uring_sqe *
get_sqe (VyreUringReader * r)
{
  struct io_uring_sqe *sqe = io_uring_get_sqe (&r->ring);
  if (sqe == NULL) {
    /* SQ full: hand what is queued to the kernel to make room. */
    io_uring_submit (&r->ring);
    sqe = io_uring_get_sqe (&r->ring);
  }
  return sqe;
}

/* Queues the SQE for the rest of slot id's read.  FALSE: no SQE. */
static gboolean
queue_sqe (VyreUringReader * r, guint id)
{
  Slot *s = &r->slots[id];
  struct io_uring_sqe *sqe = get_sqe (r);
  if (sqe == NULL)
    return FALSE;
  gsize n = s->len - s->done;
  n = MIN (n, MAX_SQE_BYTES);
  if (r->max_sqe_bytes)
    n = MIN (n, r->max_sqe_bytes);
  if (s->buf_index >= 0)
    io_uring_prep_read_fixed (sqe, s->fd, s->dst + s->done, (unsigned) n,
        s->offset + s->done, s->buf_index);
  else
    io_uring_prep_read (sqe, s->fd, s->dst + s->done, (unsigned) n,
        s->offset + s->done);
  /* Page-cached reads complete inline on the submitting thread: one
   * core's memcpy.  IOSQE_ASYNC hands each read to an io-wq worker, so the
   * reads in flight copy on several cores (8 -> 33 GB/s end to end on the
   * H200 host, docs/benchmarks.md); small ones stay inline. */
  if (r->async && n >= VYRE_URING_WORKER_MIN_BYTES)
    io_uring_sqe_set_flags (sqe, IOSQE_ASYNC);
  io_uring_sqe_set_data64 (sqe, ud_of (r, id));
  r->stats.sqes++;
  return TRUE;
}

static void
finish (VyreUringReader * r, Slot * s)
{
  s->state = SLOT_DONE;
  r->inflight--;
}

/* Takes a free slot for a request of `kind`.  NULL when all are in use. */
static Slot *
take_slot (VyreUringReader * r, SlotKind kind, guint * id)
{
  if (r->n_free == 0)
    return NULL;
  *id = r->free_ids[--r->n_free];
  Slot *s = &r->slots[*id];
  s->gen++;
  s->kind = kind;
  s->state = SLOT_INFLIGHT;
  s->cancel_requested = FALSE;
  s->fd = -1;
  s->dst = NULL;
  s->len = s->need = s->done = 0;
  s->error = 0;
  s->eof = FALSE;
  r->inflight++;
  return s;
}

/* Gives back a slot whose SQE could not be queued. */
static void
untake_slot (VyreUringReader * r, guint id)
{
  r->slots[id].state = SLOT_FREE;
  r->inflight--;
  r->free_ids[r->n_free++] = id;
}

int
vyre_uring_reader_submit (VyreUringReader * r, int fd, guint64 offset,
    void *dst, gsize len, gsize need, int buf_index)
{
  if (need > len || (dst == NULL && len > 0) || fd < 0)
    return -EINVAL;
  guint id;
  Slot *s = take_slot (r, KIND_READ, &id);
  if (s == NULL)
    return -EBUSY;
  s->fd = fd;
  s->offset = offset;
  s->dst = dst;
  s->len = len;
  s->need = need;
  s->buf_index = buf_index;
  if (need == 0) {
    finish (r, s);              /* nothing to read */
    return (int) id;
  }
  if (!queue_sqe (r, id)) {
    untake_slot (r, id);
    return -EBUSY;
  }
  return (int) id;
}

/* Queues one file operation prepared by prep on slot id.  The id, or
 * -EBUSY (no slot, or no SQE) / -EOPNOTSUPP (the kernel lacks it). */
static int
submit_file_op (VyreUringReader * r, SlotKind kind, int dfd,
    const char *path, guint64 a, guint64 b, struct statx *out)
{
  if (!r->have_file_ops)
    return -EOPNOTSUPP;
  guint id;
  Slot *s = take_slot (r, kind, &id);
  if (s == NULL)
    return -EBUSY;
  struct io_uring_sqe *sqe = get_sqe (r);
  if (sqe == NULL) {
    untake_slot (r, id);
    return -EBUSY;
  }
  switch (kind) {
    case KIND_OPENAT2:
      memset (&s->how, 0, sizeof s->how);
      s->how.flags = a;
      s->how.resolve = b;
      io_uring_prep_openat2 (sqe, dfd, path, &s->how);
      break;
    case KIND_STATX:
      io_uring_prep_statx (sqe, dfd, path, (int) a, (unsigned) b, out);
      s->dst = (guint8 *) out;
      break;
    default:
      io_uring_prep_close (sqe, dfd);
      break;
  }
  io_uring_sqe_set_data64 (sqe, ud_of (r, id));
  r->stats.file_ops++;
  return (int) id;
}

gboolean
vyre_uring_reader_has_file_ops (VyreUringReader * r)
{
  return r->have_file_ops;
}

int
vyre_uring_reader_submit_openat2 (VyreUringReader * r, int dfd,
    const char *path, guint64 flags, guint64 resolve)
{
  return submit_file_op (r, KIND_OPENAT2, dfd, path, flags, resolve, NULL);
}

int
vyre_uring_reader_submit_statx (VyreUringReader * r, int dfd,
    const char *path, int flags, unsigned mask, struct statx *out)
{
  return submit_file_op (r, KIND_STATX, dfd, path, (guint64) flags, mask,
      out);
}

int
vyre_uring_reader_submit_close (VyreUringReader * r, int fd)
{
  return submit_file_op (r, KIND_CLOSE, fd, NULL, 0, 0, NULL);
}

int
vyre_uring_reader_flush (VyreUringReader * r)
{
  for (;;) {
    int ret = io_uring_submit (&r->ring);
    if (ret >= 0 || (ret != -EINTR && ret != -EAGAIN && ret != -EBUSY))
      return ret < 0 ? ret : 0;
    if (ret == -EINTR)
      continue;
    /* EAGAIN/EBUSY: the kernel wants completions reaped first; the caller's
     * wait does that, and submits again. */
    return 0;
  }
}

/* Matches one completion to its read. */
static void
process_cqe (VyreUringReader * r, guint64 ud, int res)
{
  if (ud == UD_CANCEL || ud == LIBURING_UDATA_TIMEOUT)
    return;
  guint id = (guint) (ud & 0xffffffffu);
  if (id >= r->depth || r->slots[id].state != SLOT_INFLIGHT ||
      ud != ud_of (r, id)) {
    r->stats.stray++;
    return;
  }
  Slot *s = &r->slots[id];
  if (s->kind != KIND_READ) {
    /* One completion finishes a file operation: its result, or -errno. */
    if (res >= 0)
      s->done = (gsize) res;
    else
      s->error = -res;
    if (s->kind == KIND_STATX && res == 0)
      MARK_DEFINED (s->dst, sizeof (struct statx));
    finish (r, s);
    return;
  }
  if (res > 0) {
    MARK_DEFINED (s->dst + s->done, (gsize) res);
    s->done += (gsize) res;
    if (s->done >= s->need || s->done >= s->len) {
      finish (r, s);
    } else if (s->cancel_requested) {
      s->error = ECANCELED;
      finish (r, s);
    } else {
      /* Short read: continue where it stopped. */
      r->stats.continuations++;
      if (!queue_sqe (r, id)) {
        s->error = EBUSY;
        finish (r, s);
      }
    }
  } else if (res == 0) {
    s->eof = TRUE;
    finish (r, s);
  } else if ((res == -EINTR || res == -EAGAIN) && !s->cancel_requested) {
    r->stats.retries++;
    if (!queue_sqe (r, id)) {
      s->error = EBUSY;
      finish (r, s);
    }
  } else {
    s->error = -res;
    finish (r, s);
  }
}

static guint
reap_ready (VyreUringReader * r)
{
  struct io_uring_cqe *cqe;
  guint n = 0;
  while (io_uring_peek_cqe (&r->ring, &cqe) == 0) {
    guint64 ud = io_uring_cqe_get_data64 (cqe);
    int res = cqe->res;
    io_uring_cqe_seen (&r->ring, cqe);
    process_cqe (r, ud, res);
    n++;
  }
  return n;
}

/* Submits what is queued and waits up to timeout_ms for a completion. */
static int
wait_some (VyreUringReader * r, guint timeout_ms)
{
  int ret = vyre_uring_reader_flush (r);
  if (ret < 0)
    return ret;
  if (reap_ready (r) > 0)
    return 0;
  struct __kernel_timespec ts = {
    .tv_sec = timeout_ms / 1000,.tv_nsec = (long) (timeout_ms % 1000) * 1000000
  };
  struct io_uring_cqe *cqe = NULL;
  ret = io_uring_wait_cqe_timeout (&r->ring, &cqe, &ts);
  if (ret == -EINTR)
    return 0;
  if (ret < 0)
    return ret;
  reap_ready (r);
  return 0;
}

int
vyre_uring_reader_poll (VyreUringReader * r)
{
  int ret = vyre_uring_reader_flush (r);
  reap_ready (r);
  return ret;
}

int
vyre_uring_reader_wait (VyreUringReader * r, int id, guint timeout_ms)
{
  if (id < 0 || (guint) id >= r->depth || r->slots[id].state == SLOT_FREE)
    return -EINVAL;
  reap_ready (r);
  while (r->slots[id].state != SLOT_DONE) {
    int ret = wait_some (r, timeout_ms);
    if (ret < 0)
      return ret;
  }
  return 0;
}

gboolean
vyre_uring_reader_is_done (VyreUringReader * r, int id)
{
  return id >= 0 && (guint) id < r->depth && r->slots[id].state == SLOT_DONE;
}

void
vyre_uring_reader_result (VyreUringReader * r, int id, gsize * done,
    int *error, gboolean * eof)
{
  Slot *s = &r->slots[id];
  g_return_if_fail (s->state == SLOT_DONE);
  if (done)
    *done = s->done;
  if (error)
    *error = s->error;
  if (eof)
    *eof = s->eof;
}

void
vyre_uring_reader_release (VyreUringReader * r, int id)
{
  g_return_if_fail (id >= 0 && (guint) id < r->depth);
  Slot *s = &r->slots[id];
  g_return_if_fail (s->state == SLOT_DONE);
  s->state = SLOT_FREE;
  s->dst = NULL;
  r->free_ids[r->n_free++] = (guint) id;
}

/* Asks the kernel to cancel slot id's request (once). */
static void
request_cancel (VyreUringReader * r, guint id)
{
  Slot *s = &r->slots[id];
  if (s->state != SLOT_INFLIGHT || s->cancel_requested)
    return;
  s->cancel_requested = TRUE;
  if (!r->have_cancel)
    return;
  struct io_uring_sqe *sqe = get_sqe (r);
  if (sqe == NULL)
    return;                     /* it completes by itself; we wait for it */
  io_uring_prep_cancel64 (sqe, ud_of (r, id), 0);
  io_uring_sqe_set_data64 (sqe, UD_CANCEL);
  r->stats.cancels++;
}

void
vyre_uring_reader_cancel (VyreUringReader * r, int id)
{
  g_return_if_fail (id >= 0 && (guint) id < r->depth);
  request_cancel (r, (guint) id);
}

int
vyre_uring_reader_register_sparse (VyreUringReader * r, guint n)
{
  return io_uring_register_buffers_sparse (&r->ring, n);
}

int
vyre_uring_reader_update_buffer (VyreUringReader * r, guint index,
    const struct iovec *iov)
{
  int ret = io_uring_register_buffers_update_tag (&r->ring, index, iov, NULL,
      1);
  return ret < 0 ? ret : 0;
}

guint
vyre_uring_reader_cancel_all (VyreUringReader * r)
{
  reap_ready (r);
  guint n = r->inflight;
  if (n == 0)
    return 0;
  for (guint id = 0; id < r->depth; id++)
    request_cancel (r, id);
  /* Every read must be reaped before its memory may be reused. */
  while (r->inflight > 0) {
    int ret = wait_some (r, 100);
    if (ret < 0 && ret != -ETIME) {
      /* io_uring_enter itself failed (should not happen): keep trying,
       * the reads still own their memory. */
      g_usleep (1000);
    }
  }
  return n;
}

guint
vyre_uring_reader_in_flight (VyreUringReader * r)
{
  return r->inflight;
}

void
vyre_uring_reader_get_stats (VyreUringReader * r, VyreUringReaderStats * stats)
{
  *stats = r->stats;
}

void
vyre_uring_reader_set_workers (VyreUringReader * r, gboolean workers)
{
  r->async = workers;
}

void
vyre_uring_reader_set_max_sqe_bytes (VyreUringReader * r, gsize max_bytes)
{
  r->max_sqe_bytes = max_bytes;
}
