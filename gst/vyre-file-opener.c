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
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vyre-uring-reader.h"

/* Ring slots beyond the files in the works: closes waiting to be reaped
 * (one past them falls back to close(2)). */
#define CLOSE_ROOM 16

typedef enum
{
  STEP_STAT,                    /* STATX queued or in flight (workers: the
                                 * file's job queued or running) */
  STEP_OPEN,                    /* OPENAT2 to queue (op < 0) or in flight */
  STEP_DONE,                    /* open and checked, or skipped */
} Step;

typedef struct
{
  guint index;
  Step step;
  int op;                       /* the ring request in flight, or -1 */
  struct statx stx;             /* STATX writes here: stable until done */
  guint8 *data;                 /* out.mem: where the read lands */
  guint64 mem_size;             /* out.mem: the listed size it was asked for */
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
  gint have_openat2;            /* system calls: openat2(2) exists (atomic) */
  guint limit;                  /* files in the works at most */
  guint64 max_bytes;
  Entry *entries;               /* limit of them; file i in entries[i % limit] */
  guint head;                   /* the next file to hand out */
  guint tail;                   /* the next file to start */
  guint64 bytes_ahead;          /* listed bytes of files head .. tail */
  GArray *closes;               /* ids of CLOSE requests not yet reaped */
  gboolean stopping;            /* freeing: no new requests */
  VyreFileOpenerStats stats;    /* plain_ops unused: plain_ops_n is */
  guint64 plain_ops_n;          /* atomic: workers add */

  /* Worker threads (threads > 0).  The lock guards the entries' step and
   * out, head, tail and the fields below; a worker owns its entry's
   * system calls while the step says its job is queued or running. */
  GMutex lock;
  GCond done;                   /* a worker finished a step */
  GThreadPool *pool;            /* NULL: system calls on the caller's thread */
  gboolean read_ahead;
  guint64 read_max;
  VyreFileOpenerAllocFunc alloc;
  VyreFileOpenerFreeFunc free_mem;
  VyreFileOpenerDoneFunc read_done;
  gpointer alloc_data;
  guint64 read_ahead_bytes;     /* bound on ahead_held */
  guint64 ahead_held;           /* sizes of read-ahead memory not handed out */
  gint64 refused_at;            /* alloc said no for this file: no file after
                                 * it is started until it is handed out
                                 * (memory keeps the list's order); -1 */
  gboolean waiting;             /* the caller waits on `done` */
  GHashTable *fs_of_dev;        /* st_dev -> pseudo file system name or "" */
};

/* Files per worker job: a job per file costs a thread wake-up per file,
 * as much as a small file's system calls. */
#define JOB_FILES 8

typedef struct
{
  guint first;                  /* list index of its first file */
  guint n;
} Job;

static void worker (gpointer data, gpointer user_data);

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
  g_mutex_init (&o->lock);
  g_cond_init (&o->done);
  o->fs_of_dev = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, NULL);
  o->refused_at = -1;

  *uring_err = 0;
  if (opts->use_uring) {
    o->ring = vyre_uring_reader_new (o->limit + CLOSE_ROOM, uring_err);
    if (o->ring && !vyre_uring_reader_has_file_ops (o->ring)) {
      g_clear_pointer (&o->ring, vyre_uring_reader_free);
      *uring_err = ENOSYS;
    }
  }
  if (o->ring == NULL && opts->threads > 0) {
    /* Exclusive threads: started now, not borrowed from GLib's shared
     * pool, so a scan's opens never wait for another element's work. */
    o->pool = g_thread_pool_new (worker, o, (gint) opts->threads, TRUE, NULL);
    if (o->pool) {
      o->stats.threads = opts->threads;
      o->read_ahead = opts->alloc != NULL && opts->read_max > 0;
      o->read_max = opts->read_max;
      o->alloc = opts->alloc;
      o->free_mem = opts->free_mem;
      o->read_done = opts->read_done;
      o->alloc_data = opts->alloc_data;
      o->read_ahead_bytes = opts->read_ahead_bytes ? opts->read_ahead_bytes :
          o->max_bytes;
    }
  }
  return o;
}

void
vyre_file_opener_set_read_ahead_bytes (VyreFileOpener * o, guint64 bytes)
{
  g_mutex_lock (&o->lock);
  o->read_ahead_bytes = bytes ? bytes : o->max_bytes;
  g_mutex_unlock (&o->lock);
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
count_plain (VyreFileOpener * o)
{
  __atomic_fetch_add (&o->plain_ops_n, 1, __ATOMIC_RELAXED);
}

static void
plain_close (VyreFileOpener * o, int fd)
{
  close (fd);
  count_plain (o);
}

const gchar *
vyre_pseudo_fs_name (int fd)
{
  struct statfs sfs;
  if (fstatfs (fd, &sfs) != 0)
    return NULL;
  switch ((unsigned long) sfs.f_type) {
    case PROC_SUPER_MAGIC:
      return "procfs";
    case SYSFS_MAGIC:
      return "sysfs";
    case DEBUGFS_MAGIC:
      return "debugfs";
    case TRACEFS_MAGIC:
      return "tracefs";
    case SECURITYFS_MAGIC:
      return "securityfs";
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
      return "cgroupfs";
    case BPF_FS_MAGIC:
      return "bpffs";
    case EFIVARFS_MAGIC:
      return "efivarfs";
    default:
      return NULL;
  }
}

/* pseudo_fs_name for fd on device dev, asked of the kernel once per device
 * (a tree is mostly one file system: an fstatfs per file was 4% of the
 * streaming thread's time). */
static const gchar *
pseudo_fs_of (VyreFileOpener * o, int fd, dev_t dev)
{
  gint64 key = (gint64) dev;
  g_mutex_lock (&o->lock);
  const gchar *name = g_hash_table_lookup (o->fs_of_dev, &key);
  g_mutex_unlock (&o->lock);
  if (name == NULL) {
    name = vyre_pseudo_fs_name (fd);
    if (name == NULL)
      name = "";
    gint64 *k = g_new (gint64, 1);
    *k = key;
    g_mutex_lock (&o->lock);
    if (!g_hash_table_contains (o->fs_of_dev, k))
      g_hash_table_insert (o->fs_of_dev, k, (gpointer) name);
    else
      g_free (k);
    g_mutex_unlock (&o->lock);
  }
  return *name ? name : NULL;
}

static void
clear_nonblock (int fd)
{
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
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
  e->out.fd = fd;
  e->out.size = (guint64) st.st_size;
  e->out.pseudo_fs = pseudo_fs_of (o, fd, st.st_dev);
  e->step = STEP_DONE;
  if (o->pool)
    return;                     /* the worker reads it, or clears O_NONBLOCK */
  /* O_NONBLOCK only kept a FIFO put in its place from blocking the open:
   * with it, io_uring reads of a file not in the page cache would fail
   * with EAGAIN instead of waiting for the disk. */
  clear_nonblock (fd);
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
  if (g_atomic_int_get (&o->have_openat2)) {
    struct open_how how = {.flags = o->open_flags,.resolve = o->resolve };
    long fd = syscall (SYS_openat2, o->root_fd, path, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS)
      return (int) fd;
    g_atomic_int_set (&o->have_openat2, FALSE);
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
  count_plain (o);
  int r = statx (o->root_fd, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
      STATX_TYPE | STATX_INO, &e->stx);
  stat_done (e, r == 0 ? 0 : errno);
  if (e->step != STEP_OPEN)
    return;
  count_plain (o);
  int fd = plain_open (o, path);
  open_done (o, e, fd, fd < 0 ? errno : 0);
}

/* A read-ahead on a worker: the whole file, its size when opened, into
 * e->data.  Fewer bytes: it shrank (the caller names it). */
static void
run_read (VyreFileOpener * o, Entry * e)
{
  guint64 size = e->out.size, done = 0;
  int err = 0;
  gboolean blocking = FALSE;
  count_plain (o);
  while (done < size) {
    ssize_t r = pread (e->out.fd, e->data + done, size - done, (off_t) done);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN && !blocking) {
        /* A file system that honours O_NONBLOCK on reads: wait instead. */
        clear_nonblock (e->out.fd);
        blocking = TRUE;
        continue;
      }
      err = errno;
      break;
    }
    if (r == 0)
      break;
    done += (guint64) r;
  }
  e->out.read_done = done;
  e->out.read_error = err;
}

/* One file on a worker: stat, open and check it, and read it whole into
 * the memory asked for when it was started, if it is still the size it
 * was listed with (else that memory is let go: the caller reads it).
 * The caller reads entries under the lock meanwhile: the work is done on
 * a copy (the entry is the worker's until it is published: the caller
 * leaves it alone while its job is queued or running) and published under
 * the lock. */
static void
work_file (VyreFileOpener * o, Entry * e)
{
  Entry w = *e;
  run_plain (o, &w);
  if (w.out.fd >= 0 && w.out.mem && w.out.size == w.mem_size &&
      w.out.pseudo_fs == NULL) {
    run_read (o, &w);
    if (w.out.read_done == w.out.size && w.out.read_error == 0) {
      plain_close (o, w.out.fd);
      w.out.fd = -1;
      w.out.read_whole = TRUE;
      if (o->read_done)
        o->read_done (w.out.mem, ((VyreWalkFile *)
                g_ptr_array_index (o->files, w.index))->path, o->alloc_data);
    }
  } else {
    if (w.out.fd >= 0)
      clear_nonblock (w.out.fd);
    if (w.out.mem) {
      o->free_mem (w.out.mem, o->alloc_data);
      w.out.mem = NULL;
    }
  }
  g_mutex_lock (&o->lock);
  *e = w;
  /* GCond's wake is a system call even with no one waiting: only when
   * the caller waits. */
  if (o->waiting)
    g_cond_broadcast (&o->done);
  g_mutex_unlock (&o->lock);
}

static void
worker (gpointer data, gpointer user_data)
{
  VyreFileOpener *o = user_data;
  Job *job = data;
  for (guint k = 0; k < job->n; k++) {
    if (g_atomic_int_get (&o->stopping))
      break;                    /* freeing: what is left is not started */
    work_file (o, &o->entries[(job->first + k) % o->limit]);
  }
  g_free (job);
}

/* Memory for file e read ahead, asked for in the list's order (lock
 * held).  FALSE when the file must wait: the bound on read-ahead memory
 * is reached, or alloc said no (the file is then started without memory,
 * and none after it until it is handed out). */
static gboolean
ask_memory (VyreFileOpener * o, Entry * e, guint64 size)
{
  if (!o->read_ahead || size == 0 || size > o->read_max)
    return TRUE;                /* not read ahead: opened only */
  if (o->ahead_held > 0 && o->ahead_held + size > o->read_ahead_bytes)
    return FALSE;
  guint8 *data = NULL;
  gpointer mem = o->alloc (size, &data, o->alloc_data);
  if (mem == NULL) {
    o->stats.read_ahead_refused++;
    o->refused_at = e->index;
    return TRUE;
  }
  e->out.mem = mem;
  e->data = data;
  e->mem_size = size;
  o->ahead_held += size;
  return TRUE;
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
  Job *job = NULL;
  /* Workers: refilled by batches when half the files in the works are
   * taken, so that jobs carry several files. */
  if (o->pool && o->tail - o->head > o->limit / 2)
    return;
  if (o->pool && (gint64) o->head <= o->refused_at)
    return;
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
    if (o->pool) {
      if (!ask_memory (o, e, f->size))
        break;
      if (job == NULL) {
        job = g_new (Job, 1);
        job->first = o->tail;
        job->n = 0;
      }
      job->n++;
    } else if (o->ring == NULL)
      run_plain (o, e);
    else if (!submit_step (o, e))
      break;
    o->tail++;
    o->bytes_ahead += f->size;
    o->stats.max_ahead = MAX (o->stats.max_ahead, o->tail - o->head);
    if (job && (job->n == JOB_FILES || (gint64) e->index == o->refused_at)) {
      g_thread_pool_push (o->pool, job, NULL);
      job = NULL;
    }
    if ((gint64) e->index == o->refused_at)
      break;
  }
  if (job)
    g_thread_pool_push (o->pool, job, NULL);
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

/* vyre_file_opener_next with worker threads. */
static int
next_from_workers (VyreFileOpener * o, VyreOpenedFile * out,
    guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () +
      (gint64) timeout_ms *G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&o->lock);
  start_more (o);
  Entry *e = &o->entries[o->head % o->limit];
  while (e->step != STEP_DONE) {
    if (timeout_ms == 0) {
      g_mutex_unlock (&o->lock);
      return -ETIME;
    }
    o->waiting = TRUE;
    gboolean woken = g_cond_wait_until (&o->done, &o->lock, deadline);
    o->waiting = FALSE;
    if (!woken && e->step != STEP_DONE) {
      g_mutex_unlock (&o->lock);
      return -ETIME;
    }
  }
  *out = e->out;
  e->out.mem = NULL;
  e->out.text = NULL;
  VyreWalkFile *f = g_ptr_array_index (o->files, o->head);
  o->bytes_ahead -= f->size;
  o->ahead_held -= e->mem_size;
  e->mem_size = 0;
  o->head++;
  if (out->fd >= 0 || out->read_whole)
    o->stats.opened++;
  else
    o->stats.skipped++;
  if (out->mem)
    o->stats.read_ahead++;
  /* Keep the files after it in the works while the caller reads it. */
  start_more (o);
  g_mutex_unlock (&o->lock);
  return 1;
}

int
vyre_file_opener_next (VyreFileOpener * o, VyreOpenedFile * out,
    guint timeout_ms)
{
  if (o->head >= o->files->len)
    return 0;
  if (o->pool)
    return next_from_workers (o, out, timeout_ms);
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
  g_mutex_lock (&o->lock);
  *stats = o->stats;
  g_mutex_unlock (&o->lock);
  stats->plain_ops = __atomic_load_n (&o->plain_ops_n, __ATOMIC_RELAXED);
}

void
vyre_file_opener_free (VyreFileOpener * o)
{
  if (o == NULL)
    return;
  g_atomic_int_set (&o->stopping, TRUE);
  if (o->pool) {
    /* Every queued job still runs, but stopping: it starts no file (its
     * entries keep what they hold: closed and freed below) and frees
     * itself; running ones finish their file's system calls. */
    g_thread_pool_free (o->pool, FALSE, TRUE);
    o->pool = NULL;
  }
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
    if (e->out.mem)
      o->free_mem (e->out.mem, o->alloc_data);
    g_free (e->out.text);
  }
  g_hash_table_destroy (o->fs_of_dev);
  g_cond_clear (&o->done);
  g_mutex_clear (&o->lock);
  g_clear_pointer (&o->ring, vyre_uring_reader_free);
  if (o->root_fd >= 0)
    close (o->root_fd);
  g_array_unref (o->closes);
  g_free (o->entries);
  g_free (o);
}
