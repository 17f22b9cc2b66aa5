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
 * filter, io-mode=pread) the same steps run as plain system calls, one file
 * at a time, with the same results (openat2(2) where the kernel has it,
 * else openat with O_NOFOLLOW).
 *
 * Plain C with GLib; tests/elements/test_file_opener.c covers it.  Not
 * thread-safe: one thread uses an opener at a time.
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

typedef struct
{
  gboolean follow_symlinks;     /* as the walk's option */
  gboolean use_uring;           /* FALSE: plain system calls */
  guint max_ahead;              /* 0: from RLIMIT_NOFILE */
  guint64 max_bytes;            /* 0: VYRE_FILE_OPENER_MAX_BYTES */
} VyreFileOpenerOptions;

/* One file handed out: open (fd >= 0), or skipped with its reason. */
typedef struct
{
  guint index;                  /* in the list given to _new */
  int fd;                       /* blocking reads; the caller closes it
                                 * with vyre_file_opener_close */
  guint64 size;                 /* fstat size when opened */
  const gchar *reason;          /* fd < 0: "vanished", "open-failed",
                                 * "not-regular", "special" */
  int error;                    /* its errno, or 0 */
  gchar *text;                  /* fd < 0: for people; the caller frees */
} VyreOpenedFile;

typedef struct
{
  guint ahead_limit;            /* the bound on files in the works */
  guint max_ahead;              /* the most that were */
  guint64 opened;               /* handed out open */
  guint64 skipped;              /* handed out skipped */
  guint64 uring_ops;            /* STATX, OPENAT2 and CLOSE through io_uring */
  guint64 plain_ops;            /* the same as system calls */
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
 * interruptible); other -errno: io_uring failed (out of the ordinary;
 * the caller posts an error). */
int vyre_file_opener_next (VyreFileOpener * opener, VyreOpenedFile * out,
    guint timeout_ms);

/* Closes a descriptor handed out (io_uring's CLOSE, submitted with the
 * next operations, or close(2)). */
void vyre_file_opener_close (VyreFileOpener * opener, int fd);

void vyre_file_opener_get_stats (VyreFileOpener * opener,
    VyreFileOpenerStats * stats);

/* Cancels what is in flight, closes every descriptor not handed out,
 * waits for the closes, and frees. */
void vyre_file_opener_free (VyreFileOpener * opener);

G_END_DECLS
#endif /* VYRE_FILE_OPENER_H */
