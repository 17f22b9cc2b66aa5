/* gst-vyre
 *
 * vyre-file-opener.c - see vyre-file-opener.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "vyre-file-opener.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vyre-uring-reader.h"

/* Ring slots beyond the files in the works: closes waiting to be reaped
 * (one past them falls back to close(2)). */
#define CLOSE_ROOM 16

typedef enum
{
  STEP_STAT,                    /* STATX queued or in flight */
  STEP_OPEN,                    /* OPENAT2 to queue (op < 0) or in flight */
  STEP_DONE,                    /* open and checked, or skipped */
} Step;

typedef struct
{
  guint index;
  Step step;
  int op;                       /* the ring request in flight, or -1 */
  struct statx stx;             /* STATX writes here: stable until done */
  VyreOpenedFile out;
} Entry;

struct _VyreFileOpener
{
  GPtrArray *files;
  int root_fd;                  /* the walked directory, or AT_FDCWD */
  gboolean tree;
  guint64 open_flags;
  guint64 resolve;
  VyreUringReader *ring;        /* NULL: system calls */
  gboolean have_openat2;        /* system calls: openat2(2) exists */
  guint limit;                  /* files in the works at most */
  guint64 max_bytes;
  Entry *entries;               /* limit of them; file i in entries[i % limit] */
  guint head;                   /* the next file to hand out */
  guint tail;                   /* the next file to start */
  guint64 bytes_ahead;          /* listed bytes of files head .. tail */
  GArray *closes;               /* ids of CLOSE requests not yet reaped */
  gboolean stopping;            /* freeing: no new requests */
  VyreFileOpenerStats stats;
};

/* Descriptors open now: the entries of /proc/self/fd (its own included),
 * or a guess where /proc is not mounted. */
static guint
fds_in_use (void)
{
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return 64;
  guint n = 0;
  while (readdir (d))
    n++;
  closedir (d);
  return n > 2 ? n - 2 : n;     /* "." and ".." */
}

/* Half the descriptors RLIMIT_NOFILE leaves: the rest of the process
 * (the pipeline, other elements, the file being read) keeps the other
 * half. */
static guint
ahead_from_rlimit (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return VYRE_FILE_OPENER_MAX_AHEAD;
  guint used = fds_in_use ();
  guint64 left = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
  return (guint) CLAMP (left / 2, 1, VYRE_FILE_OPENER_MAX_AHEAD);
}

VyreFileOpener *
vyre_file_opener_new (const gchar * root, GPtrArray * files,
    const VyreFileOpenerOptions * opts, int *uring_err, GError ** err)
{
  int root_fd = AT_FDCWD;
  if (root) {
    root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
      int e = errno;
      g_set_error (err, G_FILE_ERROR, g_file_error_from_errno (e),
          "Could not open the directory \"%s\" to open its files: %s. Fix: "
          "check that it still exists and is readable.", root, g_strerror (e));
      return NULL;
    }
  }
  VyreFileOpener *o = g_new0 (VyreFileOpener, 1);
  o->files = files;
  o->root_fd = root_fd;
  o->tree = root != NULL;
  o->open_flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
  if (!opts->follow_symlinks) {
    o->open_flags |= O_NOFOLLOW;
    if (o->tree)
      o->resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
  }
  o->limit = opts->max_ahead ? MIN (opts->max_ahead,
      VYRE_FILE_OPENER_MAX_AHEAD) : ahead_from_rlimit ();
  o->max_bytes = opts->max_bytes ? opts->max_bytes :
      VYRE_FILE_OPENER_MAX_BYTES;
  o->entries = g_new0 (Entry, o->limit);
  o->closes = g_array_new (FALSE, FALSE, sizeof (int));
  o->stats.ahead_limit = o->limit;
  o->have_openat2 = TRUE;

  *uring_err = 0;
  if (opts->use_uring) {
    o->ring = vyre_uring_reader_new (o->limit + CLOSE_ROOM, uring_err);
    if (o->ring && !vyre_uring_reader_has_file_ops (o->ring)) {
      g_clear_pointer (&o->ring, vyre_uring_reader_free);
      *uring_err = ENOSYS;
    }
  }
  return o;
}

static const gchar *
open_path (VyreFileOpener * o, guint index)
{
  VyreWalkFile *f = g_ptr_array_index (o->files, index);
  return o->tree ? f->rel_path : f->path;
}

/* Ends e as skipped; text is taken. */
static void
skip (Entry * e, const gchar * reason, int error, gchar * text)
{
  e->step = STEP_DONE;
  e->out.fd = -1;
  e->out.reason = reason;
  e->out.error = error;
  e->out.text = text;
}

static void
plain_close (VyreFileOpener * o, int fd)
{
  close (fd);
  o->stats.plain_ops++;
}

/* After STATX: only a regular file goes on to be opened. */
static void
stat_done (Entry * e, int error)
{
  if (error == ENOENT || error == ENOTDIR) {
    skip (e, "vanished", error, g_strdup_printf ("it vanished between "
            "listing and opening (%s)", g_strerror (error)));
    return;
  }
  if (error != 0) {
    skip (e, "open-failed", error, g_strdup_printf ("it could not be "
            "stat'ed: %s", g_strerror (error)));
    return;
  }
  mode_t m = e->stx.stx_mode;
  if (S_ISREG (m)) {
    e->step = STEP_OPEN;
    return;
  }
  if (S_ISFIFO (m) || S_ISSOCK (m) || S_ISCHR (m) || S_ISBLK (m))
    skip (e, "special", 0, g_strdup ("it is now a FIFO, socket or device "
            "(replaced after it was listed): never opened"));
  else if (S_ISLNK (m))
    skip (e, "not-regular", ELOOP, g_strdup ("it was replaced by a symbolic "
            "link after it was listed (not followed: follow-symlinks=false)"));
  else
    skip (e, "not-regular", 0, g_strdup ("it is no longer a regular file "
            "(replaced after it was listed); it was not read"));
}

/* After OPENAT2: the descriptor must be the file STATX saw. */
static void
open_done (VyreFileOpener * o, Entry * e, int fd, int error)
{
  if (fd < 0) {
    if (error == ENOENT || error == ENOTDIR)
      skip (e, "vanished", error, g_strdup_printf ("it vanished between "
              "listing and opening (%s)", g_strerror (error)));
    else if (error == ELOOP)
      skip (e, "not-regular", error, g_strdup ("a symbolic link was put on "
              "its path after it was listed (not followed: "
              "follow-symlinks=false)"));
    else if (error == EXDEV)
      skip (e, "not-regular", error, g_strdup ("its path leads out of the "
              "walked directory (changed after it was listed)"));
    else
      skip (e, "open-failed", error, g_strdup_printf ("it could not be "
              "opened for reading: %s", g_strerror (error)));
    return;
  }
  struct stat st;
  if (fstat (fd, &st) != 0) {
    int er = errno;
    plain_close (o, fd);
    skip (e, "open-failed", er, g_strdup_printf ("fstat failed: %s",
            g_strerror (er)));
    return;
  }
  if (!S_ISREG (st.st_mode) || st.st_ino != e->stx.stx_ino ||
      major (st.st_dev) != e->stx.stx_dev_major ||
      minor (st.st_dev) != e->stx.stx_dev_minor) {
    plain_close (o, fd);
    skip (e, "not-regular", 0, g_strdup ("it was replaced between its stat "
            "and its open (another file now); it was not read"));
    return;
  }
  /* O_NONBLOCK only kept a FIFO put in its place from blocking the open:
   * with it, io_uring reads of a file not in the page cache would fail
   * with EAGAIN instead of waiting for the disk. */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  e->step = STEP_DONE;
  e->out.fd = fd;
  e->out.size = (guint64) st.st_size;
}

/* RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS without openat2: the directories
 * on a walked file's relative path (which has no "..", the walk made it)
 * opened one by one, none of them a link.  -1 with errno. */
static int
open_no_symlinks (VyreFileOpener * o, const gchar * path)
{
  gchar **parts = g_strsplit (path, "/", -1);
  guint n = g_strv_length (parts);
  int dir = o->root_fd;
  int fd = -1;
  for (guint i = 0; i < n; i++) {
    gboolean last = i + 1 == n;
    fd = openat (dir, parts[i], last ? (int) o->open_flags :
        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    struct stat st;
    /* O_NOFOLLOW | O_DIRECTORY on a link fails with ENOTDIR. */
    if (fd < 0 && !last && e == ENOTDIR &&
        fstatat (dir, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK (st.st_mode))
      e = ELOOP;
    if (dir != o->root_fd)
      close (dir);
    if (fd < 0) {
      errno = e;
      break;
    }
    dir = fd;
  }
  g_strfreev (parts);
  return fd;
}

/* openat2(2) where the kernel has it (the same checks as the ring's
 * OPENAT2), else openat: the directories one by one for a walk's file,
 * O_NOFOLLOW for the last component. */
static int
plain_open (VyreFileOpener * o, const gchar * path)
{
#ifdef SYS_openat2
  if (o->have_openat2) {
    struct open_how how = {.flags = o->open_flags,.resolve = o->resolve };
    long fd = syscall (SYS_openat2, o->root_fd, path, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS)
      return (int) fd;
    o->have_openat2 = FALSE;
  }
#endif
  if (o->resolve & RESOLVE_NO_SYMLINKS)
    return open_no_symlinks (o, path);
  return openat (o->root_fd, path, (int) o->open_flags);
}

/* The three steps of one file as system calls. */
static void
run_plain (VyreFileOpener * o, Entry * e)
{
  const gchar *path = open_path (o, e->index);
  o->stats.plain_ops++;
  int r = statx (o->root_fd, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
      STATX_TYPE | STATX_INO, &e->stx);
  stat_done (e, r == 0 ? 0 : errno);
  if (e->step != STEP_OPEN)
    return;
  o->stats.plain_ops++;
  int fd = plain_open (o, path);
  open_done (o, e, fd, fd < 0 ? errno : 0);
}

/* Queues e's next ring request.  FALSE when the ring has no free slot
 * (tried again later). */
static gboolean
submit_step (VyreFileOpener * o, Entry * e)
{
  const gchar *path = open_path (o, e->index);
  int id;
  if (e->step == STEP_STAT)
    id = vyre_uring_reader_submit_statx (o->ring, o->root_fd, path,
        AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_INO,
        &e->stx);
  else
    id = vyre_uring_reader_submit_openat2 (o->ring, o->root_fd, path,
        o->open_flags, o->resolve);
  if (id < 0)
    return FALSE;
  e->op = id;
  o->stats.uring_ops++;
  return TRUE;
}

/* Starts files from tail on while the bounds allow: the one to hand out
 * next always, the others while they fit the count and the bytes. */
static void
start_more (VyreFileOpener * o)
{
  while (o->tail < o->files->len && o->tail - o->head < o->limit) {
    VyreWalkFile *f = g_ptr_array_index (o->files, o->tail);
    if (o->tail > o->head && o->bytes_ahead + f->size > o->max_bytes)
      break;
    Entry *e = &o->entries[o->tail % o->limit];
    memset (e, 0, sizeof *e);
    e->index = o->tail;
    e->op = -1;
    e->step = STEP_STAT;
    e->out.index = o->tail;
    e->out.fd = -1;
    if (o->ring == NULL)
      run_plain (o, e);
    else if (!submit_step (o, e))
      break;
    o->tail++;
    o->bytes_ahead += f->size;
    o->stats.max_ahead = MAX (o->stats.max_ahead, o->tail - o->head);
  }
}

/* Moves every file whose request finished to its next step. */
static void
advance (VyreFileOpener * o)
{
  for (guint i = o->head; i < o->tail; i++) {
    Entry *e = &o->entries[i % o->limit];
    if (e->op >= 0 && vyre_uring_reader_is_done (o->ring, e->op)) {
      gsize res = 0;
      int error = 0;
      vyre_uring_reader_result (o->ring, e->op, &res, &error, NULL);
      vyre_uring_reader_release (o->ring, e->op);
      e->op = -1;
      if (e->step == STEP_STAT)
        stat_done (e, error);
      else
        open_done (o, e, error ? -1 : (int) res, error);
    }
    if (e->op < 0 && e->step == STEP_OPEN && !o->stopping)
      submit_step (o, e);
  }
  for (guint i = 0; i < o->closes->len;) {
    int id = g_array_index (o->closes, int, i);
    if (vyre_uring_reader_is_done (o->ring, id)) {
      vyre_uring_reader_release (o->ring, id);
      g_array_remove_index_fast (o->closes, i);
    } else {
      i++;
    }
  }
}

int
vyre_file_opener_next (VyreFileOpener * o, VyreOpenedFile * out,
    guint timeout_ms)
{
  if (o->head >= o->files->len)
    return 0;
  start_more (o);
  if (o->tail == o->head)
    return -EBUSY;              /* no ring slot even for it: cannot happen */
  Entry *e = &o->entries[o->head % o->limit];
  while (e->step != STEP_DONE) {
    /* Still in the ring (the plain path finishes at once): hand the queued
     * requests to the kernel, wait for this file's, and move every file
     * that finished along. */
    int ret = vyre_uring_reader_poll (o->ring);
    if (ret < 0)
      return ret;
    advance (o);
    if (e->step == STEP_DONE)
      break;
    if (e->op < 0)
      return -EBUSY;            /* no slot: cannot happen, the ring has room */
    ret = vyre_uring_reader_wait (o->ring, e->op, timeout_ms);
    if (ret < 0)
      return ret;
    advance (o);
  }
  *out = e->out;
  VyreWalkFile *f = g_ptr_array_index (o->files, o->head);
  o->bytes_ahead -= f->size;
  o->head++;
  if (out->fd >= 0)
    o->stats.opened++;
  else
    o->stats.skipped++;
  /* Keep the files after it in the works while the caller reads it. */
  start_more (o);
  if (o->ring)
    vyre_uring_reader_poll (o->ring);
  return 1;
}

void
vyre_file_opener_close (VyreFileOpener * o, int fd)
{
  if (fd < 0)
    return;
  /* Closes never take the slots the files in the works need. */
  if (o->ring && o->closes->len >= CLOSE_ROOM) {
    vyre_uring_reader_poll (o->ring);
    advance (o);
  }
  int id = o->ring && o->closes->len < CLOSE_ROOM ?
      vyre_uring_reader_submit_close (o->ring, fd) : -1;
  if (id < 0) {
    plain_close (o, fd);
    return;
  }
  g_array_append_val (o->closes, id);
  o->stats.uring_ops++;
}

void
vyre_file_opener_get_stats (VyreFileOpener * o, VyreFileOpenerStats * stats)
{
  *stats = o->stats;
}

void
vyre_file_opener_free (VyreFileOpener * o)
{
  if (o == NULL)
    return;
  o->stopping = TRUE;
  if (o->ring) {
    vyre_uring_reader_poll (o->ring);
    advance (o);
    for (guint i = o->head; i < o->tail; i++) {
      Entry *e = &o->entries[i % o->limit];
      if (e->op >= 0)
        vyre_uring_reader_cancel (o->ring, e->op);
    }
    /* Each request finishes: cancelled, or done before the cancel came
     * (an OPENAT2 that made a descriptor is closed below). */
    for (guint i = o->head; i < o->tail; i++) {
      Entry *e = &o->entries[i % o->limit];
      while (e->op >= 0) {
        int ret = vyre_uring_reader_wait (o->ring, e->op, 100);
        if (ret < 0 && ret != -ETIME)
          break;                /* the ring is broken: its teardown reaps */
        if (ret == 0)
          advance (o);
      }
    }
    for (guint i = 0; i < o->closes->len; i++) {
      int id = g_array_index (o->closes, int, i);
      int ret;
      do
        ret = vyre_uring_reader_wait (o->ring, id, 100);
      while (ret == -ETIME);
    }
  }
  for (guint i = o->head; i < o->tail; i++) {
    Entry *e = &o->entries[i % o->limit];
    if (e->step == STEP_DONE && e->out.fd >= 0)
      close (e->out.fd);
    g_free (e->out.text);
  }
  g_clear_pointer (&o->ring, vyre_uring_reader_free);
  if (o->root_fd >= 0)
    close (o->root_fd);
  g_array_unref (o->closes);
  g_free (o->entries);
  g_free (o);
}
