/* gst-vyre
 *
 * vyre-file-opener.h - opens, sizes and checks the files of a walk or a
 * files-from list, many at once through io_uring, and hands them out in
 * the list's order whatever order the kernel finishes them in.
 *
 * Per file, in order:
 *  1. STATX by directory descriptor and name (AT_SYMLINK_NOFOLLOW): what
 *     is there now.  A FIFO, socket or device put in a listed file's
 *     place is skipped without ever being opened (opening a FIFO for
 *     reading waits for a writer; opening a device may act on it); a
 *     symbolic link or a directory too.
 *  2. OPENAT2: O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC.  A walk's
 *     files are opened relative to the walked directory's descriptor with
 *     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: no component of the path may
 *     be a link (one put in place of a directory since the walk), none may
 *     lead out of the tree.  With follow_symlinks neither applies: the
 *     walk followed links wherever they led, the open follows them too.
 *     A list's paths are opened as listed (relative to the working
 *     directory), O_NOFOLLOW unless follow_symlinks.
 *  3. fstat of the new descriptor: it must be the regular file STATX saw
 *     (same device and inode); O_NONBLOCK is cleared for the reads.
 * Trouble with one file never stops the others: the file is handed out
 * with no descriptor and the reason ("vanished", "open-failed",
 * "not-regular", "special"), its errno and a text for people, the words
 * and fields of vyreurisrc's vyre-file-skipped message.
 *
 * How many files are in the works at once (being stat'ed, being opened,
 * or open and not yet taken) is bounded by the descriptors RLIMIT_NOFILE
 * leaves (half of those not in use at creation, at most
 * VYRE_FILE_OPENER_MAX_AHEAD) and by the bytes they hold (listed sizes, at
 * most max_bytes; one file always, however large).  Closing goes through
 * the same ring (IORING_OP_CLOSE), batched with the next submissions.
 *
 * Without io_uring's OPENAT2, STATX and CLOSE (Linux < 5.6, a seccomp
 * filter, io-mode=pread) the same steps run as plain system calls, with
 * the same results (openat2(2) where the kernel has it, else openat with
 * O_NOFOLLOW): on the calling thread one file at a time, or with
 * `threads` > 0 on that many worker threads, several files at once (a
 * page-cached tree's opens are CPU work: on one thread they bound the
 * scan).
 *
 * Read-ahead (threads > 0 and an alloc function): a file of 1 ..
 * read_max bytes is also read whole on a worker (pread) into memory the
 * caller's alloc function gives, and handed out with it (mem).  Memory is
 * asked for on the caller's thread, inside vyre_file_opener_next, in the
 * list's order (an allocator that carves small memories one after the
 * other keeps the files side by side in stream order), never more than
 * read_ahead_bytes held at once; when alloc says no (NULL) the file is
 * handed out unread and the caller reads it.  Such a file keeps
 * O_NONBLOCK (pread ignores it on a regular file; EAGAIN all the same
 * clears it and reads again); every other file handed out has it cleared.
 * A file read whole (its size when opened, no error) is closed on the
 * worker and handed out with fd -1 and read_whole set: with many small
 * files, the caller's thread does nothing per file but take it.  The
 * caller's done function, if any, is called on the worker for it too,
 * with its memory and path: per-file work the caller would otherwise do
 * on its own thread when it takes the file.
 *
 * The file system of each descriptor is looked up once per device
 * (fstatfs), and handed out as pseudo_fs for the ones whose stat size is
 * no size (procfs, sysfs...).
 *
 * Plain C with GLib; tests/elements/test_file_opener.c covers it.  Not
 * thread-safe: one thread uses an opener at a time (its workers are its
 * own; the alloc function is called on that one thread).
 */
#ifndef VYRE_FILE_OPENER_H
#define VYRE_FILE_OPENER_H

#include <glib.h>

#include "vyre-walk.h"

G_BEGIN_DECLS

/* The most files in the works at once, whatever RLIMIT_NOFILE allows. */
#define VYRE_FILE_OPENER_MAX_AHEAD 64

/* Default bound on the listed bytes of the files in the works. */
#define VYRE_FILE_OPENER_MAX_BYTES ((guint64) 256 << 20)

typedef struct _VyreFileOpener VyreFileOpener;

/* Memory for a file read ahead of size bytes: returns the caller's handle
 * and sets *data to where size bytes may be written, or NULL (no memory
 * that suits now: the file is handed out unread).  Called on the thread
 * that calls vyre_file_opener_next, in the list's order. */
typedef gpointer (*VyreFileOpenerAllocFunc) (guint64 size, guint8 ** data,
    gpointer user_data);
/* Frees a handle alloc returned that was never handed out.  Any thread. */
typedef void (*VyreFileOpenerFreeFunc) (gpointer mem, gpointer user_data);
/* A file was read whole into mem (alloc's handle): called on a worker,
 * before the file is handed out, with the listed file's path. */
typedef void (*VyreFileOpenerDoneFunc) (gpointer mem, const gchar * path,
    gpointer user_data);

typedef struct
{
  gboolean follow_symlinks;     /* as the walk's option */
  gboolean use_uring;           /* FALSE: plain system calls */
  guint max_ahead;              /* 0: from RLIMIT_NOFILE */
  guint64 max_bytes;            /* 0: VYRE_FILE_OPENER_MAX_BYTES */
  guint threads;                /* plain system calls on this many worker
                                 * threads; 0: on the caller's thread */
  guint64 read_max;             /* read ahead files up to this size ... */
  VyreFileOpenerAllocFunc alloc;        /* ... into this memory (threads > 0) */
  VyreFileOpenerFreeFunc free_mem;
  VyreFileOpenerDoneFunc read_done;     /* optional */
  gpointer alloc_data;
  guint64 read_ahead_bytes;     /* memory held by read-ahead at most; 0:
                                 * max_bytes */
} VyreFileOpenerOptions;

/* One file handed out: open (fd >= 0), read whole and closed
 * (read_whole), or skipped with its reason. */
typedef struct
{
  guint index;                  /* in the list given to _new */
  int fd;                       /* blocking reads; the caller closes it
                                 * with vyre_file_opener_close; -1 when
                                 * skipped or read_whole */
  gboolean read_whole;          /* mem holds the whole file (size bytes),
                                 * and it is closed already */
  guint64 size;                 /* fstat size when opened */
  const gchar *reason;          /* skipped: "vanished", "open-failed",
                                 * "not-regular", "special" */
  int error;                    /* its errno, or 0 */
  gchar *text;                  /* skipped: for people; the caller frees */
  const gchar *pseudo_fs;       /* opened: "procfs", "sysfs"... (its stat
                                 * size is no size), or NULL */
  gpointer mem;                 /* read ahead: alloc's handle (the caller
                                 * owns it), else NULL */
  guint64 read_done;            /* mem: bytes read (< size: it shrank) */
  int read_error;               /* mem: the read's errno, or 0 */
} VyreOpenedFile;

typedef struct
{
  guint ahead_limit;            /* the bound on files in the works */
  guint max_ahead;              /* the most that were */
  guint64 opened;               /* handed out open (or read whole) */
  guint64 skipped;              /* handed out skipped */
  guint64 uring_ops;            /* STATX, OPENAT2 and CLOSE through io_uring */
  guint64 plain_ops;            /* the same as system calls */
  guint threads;                /* worker threads */
  guint64 read_ahead;           /* files handed out read ahead */
  guint64 read_ahead_refused;   /* alloc said no: handed out unread */
} VyreFileOpenerStats;

/* Opens files, a GPtrArray of VyreWalkFile * (borrowed: it must outlive
 * the opener), in its order.  root: the directory they were walked from
 * (their rel_path is opened beneath it), or NULL for a files-from list
 * (their path is opened as listed).  With use_uring the opener sets up
 * its own ring and falls back to system calls (silently: the results are
 * the same) where the kernel lacks the operations; *uring_err is then the
 * errno of the failed set-up or ENOSYS, else 0.  NULL with *err set when
 * root cannot be opened as a directory.  Nothing is opened before the
 * first vyre_file_opener_next. */
VyreFileOpener *vyre_file_opener_new (const gchar * root, GPtrArray * files,
    const VyreFileOpenerOptions * opts, int *uring_err, GError ** err);

/* Hands out the next file in the list's order, keeping the ones after it
 * in the works.  1: *out is the next file; 0: the list is done; -ETIME:
 * timeout_ms passed first (call again: this is how the caller stays
 * interruptible; with worker threads, timeout_ms 0 returns at once when
 * the next file is not ready); other -errno: io_uring failed (out of the
 * ordinary; the caller posts an error). */
int vyre_file_opener_next (VyreFileOpener * opener, VyreOpenedFile * out,
    guint timeout_ms);

/* Closes a descriptor handed out (io_uring's CLOSE, submitted with the
 * next operations, or close(2)). */
void vyre_file_opener_close (VyreFileOpener * opener, int fd);

void vyre_file_opener_get_stats (VyreFileOpener * opener,
    VyreFileOpenerStats * stats);

/* The name of the file system fd is on when the kernel makes its files up
 * as they are read (their stat size is no size: "procfs", "sysfs",
 * "debugfs"...), else NULL. */
const gchar *vyre_pseudo_fs_name (int fd);

/* The bound on memory held by read-ahead, from now on (the caller learns
 * what memory it reads into after creating the opener). */
void vyre_file_opener_set_read_ahead_bytes (VyreFileOpener * opener,
    guint64 bytes);

/* Cancels what is in flight, waits for the workers, closes every
 * descriptor not handed out and frees the read-ahead memory not handed
 * out, waits for the closes, and frees. */
void vyre_file_opener_free (VyreFileOpener * opener);

G_END_DECLS
#endif /* VYRE_FILE_OPENER_H */
