/* gst-vyre
 *
 * vyre-uring-reader.h - file reads in flight on one io_uring, each
 * completion matched to its read by user_data.
 *
 * A reader owns a ring and a fixed table of `depth` read slots.  A read is
 * submitted into a free slot; its SQEs carry user_data = (generation << 32)
 * | slot, so a completion is matched to the read it belongs to whatever
 * order the kernel completes them in (vyre's io_uring pump popped a FIFO of
 * pending reads for every CQE: a reordered completion was credited to the
 * wrong chunk).  A completion whose user_data names no read in flight is
 * counted (stray) and otherwise ignored.
 *
 * A read finishes when it has `need` bytes (continuing short reads at the
 * offset they stopped, up to `len`), at end of file, or on an error.
 * EINTR/EAGAIN completions are retried.  Cancelling asks the kernel to
 * cancel every read in flight (IORING_OP_ASYNC_CANCEL) and reaps them all
 * before returning: the caller may free the destination memory afterwards.
 *
 * Besides reads, a slot may hold one file operation (OPENAT2, STATX,
 * CLOSE): finished by its one completion, its result read with
 * vyre_uring_reader_result (done = the result, error = its errno), waited
 * for, cancelled and released like a read.  vyreurisrc opens, sizes and
 * closes many files of a tree at once this way (vyre-file-opener.h).
 *
 * Plain C with GLib, no GStreamer: tests/elements/test_uring_reader.c
 * drives it on pipes, whose reads block, complete short and out of order.
 * Not thread-safe: one thread uses a reader at a time.
 */
#ifndef VYRE_URING_READER_H
#define VYRE_URING_READER_H

#include <glib.h>
#include <sys/uio.h>

G_BEGIN_DECLS

typedef struct _VyreUringReader VyreUringReader;

/* Creates a reader for up to `depth` reads in flight (1..4096).  Returns
 * NULL and sets *err to the errno of io_uring_setup (EPERM under a seccomp
 * filter or kernel.io_uring_disabled, ENOSYS without io_uring, ENOMEM), or
 * to ENOSYS when the kernel lacks IORING_OP_READ (Linux < 5.6). */
VyreUringReader *vyre_uring_reader_new (guint depth, int *err);

/* Cancels and reaps every read in flight, then tears the ring down (which
 * also unregisters the fixed buffers). */
void vyre_uring_reader_free (VyreUringReader * r);

/* Registers n_iov fixed buffers (IORING_REGISTER_BUFFERS); a read into
 * iov[i] may then pass buf_index = i.  0 or -errno: ENOMEM (RLIMIT_MEMLOCK),
 * EFAULT / EOPNOTSUPP (memory that cannot be pinned, e.g. a GPU BAR
 * mapping), EINVAL (a buffer over 1 GiB), EOPNOTSUPP when the kernel lacks
 * IORING_OP_READ_FIXED. */
int vyre_uring_reader_register_buffers (VyreUringReader * r,
    const struct iovec *iov, guint n_iov);

/* Submits a read of up to len bytes of fd at offset into dst, finished once
 * need (<= len) bytes are in.  buf_index >= 0: READ_FIXED in that
 * registered buffer (dst .. dst + len must lie in it); -1: plain READ.  The
 * SQE is queued; vyre_uring_reader_flush or _wait hands it to the kernel.
 * Returns the read's id (>= 0), or -EBUSY when `depth` reads are in use,
 * -EINVAL for a bad argument. */
int vyre_uring_reader_submit (VyreUringReader * r, int fd, guint64 offset,
    void *dst, gsize len, gsize need, int buf_index);

/* TRUE when the kernel's io_uring has IORING_OP_OPENAT2, IORING_OP_STATX
 * and IORING_OP_CLOSE (Linux >= 5.6; probed once, at creation). */
gboolean vyre_uring_reader_has_file_ops (VyreUringReader * r);

/* Queues openat2(dfd, path, {flags, mode 0, resolve}).  path must stay
 * valid until the request is finished.  Result: the new descriptor.
 * Returns the request's id, -EBUSY when every slot is in use, -EOPNOTSUPP
 * without file operations. */
int vyre_uring_reader_submit_openat2 (VyreUringReader * r, int dfd,
    const char *path, guint64 flags, guint64 resolve);

/* Queues statx(dfd, path, flags, mask, out); path and out must stay valid
 * until the request is finished.  Result: 0.  Returns as _openat2. */
struct statx;
int vyre_uring_reader_submit_statx (VyreUringReader * r, int dfd,
    const char *path, int flags, unsigned mask, struct statx *out);

/* Queues close(fd).  Result: 0.  Returns as _openat2. */
int vyre_uring_reader_submit_close (VyreUringReader * r, int fd);

/* Hands queued SQEs to the kernel.  0 or -errno of io_uring_enter. */
int vyre_uring_reader_flush (VyreUringReader * r);

/* Hands queued SQEs to the kernel and takes in the completions already
 * there, without waiting.  0 or -errno of io_uring_enter. */
int vyre_uring_reader_poll (VyreUringReader * r);

/* Waits until read `id` is finished, reaping (and matching) every other
 * completion that arrives meanwhile.  0: finished; -ETIME: timeout_ms passed
 * first (call again; this is how callers stay interruptible); other -errno:
 * io_uring_enter failed. */
int vyre_uring_reader_wait (VyreUringReader * r, int id, guint timeout_ms);

/* TRUE once read `id` is finished. */
gboolean vyre_uring_reader_is_done (VyreUringReader * r, int id);

/* Outcome of a finished read: bytes read, 0 or the errno it failed with,
 * and whether it met end of file before `need` bytes.  Of a file
 * operation: its result (>= 0) in done, or its errno (ECANCELED when
 * cancelled) in error. */
void vyre_uring_reader_result (VyreUringReader * r, int id, gsize * done,
    int *error, gboolean * eof);

/* Returns a finished read's slot to the free list. */
void vyre_uring_reader_release (VyreUringReader * r, int id);

/* Asks the kernel to cancel request `id` if it is still in flight, without
 * waiting: the request finishes (ECANCELED, or its own result when it
 * completed first) by a later _wait. */
void vyre_uring_reader_cancel (VyreUringReader * r, int id);

/* An empty table of n fixed buffers (IORING_REGISTER_BUFFERS2, sparse:
 * nothing pinned yet; Linux >= 5.19).  0 or -errno (EINVAL on older
 * kernels). */
int vyre_uring_reader_register_sparse (VyreUringReader * r, guint n);

/* Puts iov into the table's entry `index`, pinning its pages now.  0 or
 * -errno (ENOMEM: RLIMIT_MEMLOCK). */
int vyre_uring_reader_update_buffer (VyreUringReader * r, guint index,
    const struct iovec *iov);

/* Cancels every read the kernel still holds and waits until each one has
 * completed (cancelled, or finished anyway).  Finished reads keep their
 * results; the caller releases them.  Returns how many reads were still in
 * the kernel. */
guint vyre_uring_reader_cancel_all (VyreUringReader * r);

/* Reads submitted but not yet finished. */
guint vyre_uring_reader_in_flight (VyreUringReader * r);

/* Counters since creation. */
typedef struct
{
  guint64 sqes;                 /* read SQEs submitted, continuations included */
  guint64 continuations;        /* short reads continued */
  guint64 retries;              /* EINTR / EAGAIN completions resubmitted */
  guint64 cancels;              /* cancel requests sent */
  guint64 stray;                /* completions that matched no read */
  guint64 file_ops;             /* OPENAT2, STATX and CLOSE SQEs */
} VyreUringReaderStats;
void vyre_uring_reader_get_stats (VyreUringReader * r,
    VyreUringReaderStats * stats);

/* TRUE: reads of VYRE_URING_WORKER_MIN_BYTES or more are copied by
 * io_uring's kernel workers (IOSQE_ASYNC), on several cores; smaller ones
 * and all with FALSE complete on the submitting thread. */
void vyre_uring_reader_set_workers (VyreUringReader * r, gboolean workers);

/* Below this a read is copied inline even with workers: handing it to a
 * worker (a wake-up and a completion posted back) costs more than the
 * copy; a tree's files, mostly smaller than a block, read faster inline
 * (30,000 files on the H100 host: 1.52 s with workers from 256 KiB, 1.14
 * s with none), a big file's blocks on workers. */
#define VYRE_URING_WORKER_MIN_BYTES ((gsize) 1 << 20)

/* Splits every read into SQEs of at most max_bytes (0: no limit): each
 * completes "short" and exercises the continuation path.  For tests. */
void vyre_uring_reader_set_max_sqe_bytes (VyreUringReader * r,
    gsize max_bytes);

G_END_DECLS
#endif /* VYRE_URING_READER_H */
