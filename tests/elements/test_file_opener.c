/*
 * test_file_opener.c - vyre-file-opener over a generated tree, through
 * io_uring, through plain system calls, and through plain system calls on
 * worker threads that also read small files ahead (every case runs each
 * way and must give the same files, in the same order, with the same
 * reasons; files read ahead must hold exactly the file's bytes, in memory
 * asked for in the list's order).
 *
 *  order        300 files in nested directories, sizes 0 .. 9 KiB: handed
 *               out in the walk's order (index = position) whatever order
 *               the kernel finished them in, each descriptor the listed
 *               file (its size and bytes), several files in the works at
 *               once through io_uring; no descriptor left behind
 *  trouble      after the walk: a file deleted (vanished, ENOENT), one
 *               replaced by a FIFO (special), one by a symbolic link and a
 *               directory on another's path by a link to a directory (both
 *               not-regular, ELOOP: RESOLVE_NO_SYMLINKS / O_NOFOLLOW); the
 *               files around them opened
 *  eacces       a file without read permission (open-failed, EACCES), the
 *               others opened; as root the opener runs with file-system
 *               uid nobody so that permissions apply
 *  bounds       RLIMIT_NOFILE lowered to about the descriptors in use + 8: at
 *               most 4 files in the works, all 300 opened; max_bytes of 1:
 *               one file at a time
 *  free_early   freed with files in flight after taking 3: every
 *               descriptor it opened is closed
 *  list         a files-from list (absolute paths, list order kept), a
 *               listed path replaced by a link: not-regular
 *  read_ahead   workers: files up to 4 KiB read ahead, the others opened
 *               only; memory refused now and then (those files handed out
 *               unread, blocking); a small bound on read-ahead memory; a
 *               file truncated after the walk (not read ahead: its size
 *               changed); freed early: every memory not handed out freed,
 *               every descriptor closed
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <glib.h>
#include <glib/gstdio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vyre-file-opener.h"

#define N_FILES 300

/* How a case runs the opener. */
enum
{
  WAY_PLAIN,                    /* system calls on the caller's thread */
  WAY_URING,                    /* io_uring */
  WAY_WORKERS,                  /* system calls on 3 workers, read-ahead */
  N_WAYS
};

static const gchar *const way_names[] = { "plain", "io_uring", "workers" };

/* Read-ahead memory: numbered in the order it was asked for. */
typedef struct
{
  guint64 seq;
  guint64 size;
  gchar *done_path;             /* the done function's path, on a worker */
  guint8 data[];
} AheadMem;

typedef struct
{
  guint64 asked;                /* alloc calls */
  guint64 given;                /* handles returned */
  gint freed;                   /* free_mem calls (workers: atomic) */
  guint refuse_every;           /* NULL on every n-th call; 0: never */
} AheadCounts;

static gpointer
ahead_alloc (guint64 size, guint8 ** data, gpointer user_data)
{
  AheadCounts *c = user_data;
  c->asked++;
  if (c->refuse_every && c->asked % c->refuse_every == 0)
    return NULL;
  AheadMem *m = g_malloc (sizeof *m + size);
  m->seq = c->given++;
  m->size = size;
  m->done_path = NULL;
  *data = m->data;
  return m;
}

static void
ahead_mem_free (AheadMem * m)
{
  if (m)
    g_free (m->done_path);
  g_free (m);
}

static void
ahead_free (gpointer mem, gpointer user_data)
{
  AheadCounts *c = user_data;
  g_atomic_int_inc (&c->freed);
  ahead_mem_free (mem);
}

static void
ahead_done (gpointer mem, const gchar * path, gpointer user_data)
{
  AheadMem *m = mem;
  (void) user_data;
  g_assert_null (m->done_path);
  m->done_path = g_strdup (path);
}

static AheadCounts ahead_counts;

/* Worker threads that read files of up to 4 KiB ahead into ahead_alloc's
 * memory, counted in ahead_counts. */
static VyreFileOpenerOptions
read_ahead_options (guint threads)
{
  VyreFileOpenerOptions oo = {
    .threads = threads,.read_max = 4096,.alloc = ahead_alloc,
    .free_mem = ahead_free,.read_done = ahead_done,
    .alloc_data = &ahead_counts,
  };
  return oo;
}

static gsize
file_len (guint i)
{
  return (i * 7919u) % 9217u;   /* 0 .. 9 KiB, a few of them 0 */
}

/* The rel path of file i: nested, and sorted the way the walk sorts. */
static gchar *
file_rel (guint i)
{
  return g_strdup_printf ("d%u/e%u/f%03u", i % 5, i % 3, i);
}

static gchar *
file_bytes (guint i, gsize len)
{
  gchar *d = g_malloc (len + 1);
  for (gsize k = 0; k < len; k++)
    d[k] = (gchar) ('a' + (i + k) % 26);
  return d;
}

static void
put (const gchar * dir, const gchar * rel, const gchar * data, gsize len)
{
  gchar *path = g_build_filename (dir, rel, NULL);
  gchar *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  g_free (parent);
  g_free (path);
}

static gchar *
make_tree (void)
{
  gchar *dir = g_dir_make_tmp ("vyre-opener-XXXXXX", NULL);
  g_assert_nonnull (dir);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  for (guint i = 0; i < N_FILES; i++) {
    gchar *rel = file_rel (i);
    gsize len = file_len (i);
    gchar *d = file_bytes (i, len);
    put (dir, rel, d, len);
    g_free (d);
    g_free (rel);
  }
  return dir;
}

static void
remove_all (const gchar * path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d) {
    const gchar *name;
    while ((name = g_dir_read_name (d))) {
      gchar *child = g_build_filename (path, name, NULL);
      struct stat st;
      if (lstat (child, &st) == 0 && S_ISDIR (st.st_mode))
        remove_all (child);
      else
        g_unlink (child);
      g_free (child);
    }
    g_dir_close (d);
  }
  g_rmdir (path);
}

static guint
count_fds (void)
{
  guint n = 0;
  DIR *d = opendir ("/proc/self/fd");
  g_assert_nonnull (d);
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

static VyreWalkResult *
walk (const gchar * dir)
{
  VyreWalkOptions opts;
  vyre_walk_options_init (&opts);
  GError *err = NULL;
  VyreWalkResult *w = vyre_walk_tree (dir, &opts, &err);
  g_assert_no_error (err);
  return w;
}

static VyreFileOpener *
opener_new (const gchar * dir, VyreWalkResult * w, int way,
    guint max_ahead, guint64 max_bytes)
{
  gboolean uring = way == WAY_URING;
  VyreFileOpenerOptions oo = way == WAY_WORKERS ? read_ahead_options (3) :
      (VyreFileOpenerOptions) {.use_uring = uring };
  oo.max_ahead = max_ahead;
  oo.max_bytes = max_bytes;
  memset (&ahead_counts, 0, sizeof ahead_counts);
  int uring_err = -1;
  GError *err = NULL;
  VyreFileOpener *o = vyre_file_opener_new (dir, w->files, &oo, &uring_err,
      &err);
  g_assert_no_error (err);
  g_assert_nonnull (o);
  if (!uring)
    g_assert_cmpint (uring_err, ==, 0);
  else if (uring_err != 0)
    g_test_message ("io_uring file operations unavailable (%s): the plain "
        "path ran twice", g_strerror (uring_err));
  return o;
}

/* What one file came out as. */
typedef struct
{
  guint index;
  const gchar *reason;          /* NULL: opened */
  int error;
} Outcome;

/* Takes every file: checks the order, the opened descriptors against
 * the listed files (size; bytes when check_bytes), and returns the
 * outcomes. */
static GArray *
take_all (VyreFileOpener * o, VyreWalkResult * w, gboolean check_bytes)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Outcome));
  VyreOpenedFile of;
  int ret;
  guint expect = 0;
  gint64 last_seq = -1;
  while ((ret = vyre_file_opener_next (o, &of, 1000)) != 0) {
    g_assert_cmpint (ret, ==, 1);
    g_assert_cmpuint (of.index, ==, expect);
    expect++;
    VyreWalkFile *f = g_ptr_array_index (w->files, of.index);
    gboolean opened = of.fd >= 0 || of.read_whole;
    Outcome oc = { of.index, opened ? NULL : of.reason, of.error };
    if (opened) {
      g_assert_cmpuint (of.size, ==, f->size);
      g_assert_null (of.text);
      g_assert_null (of.pseudo_fs);
      AheadMem *m = of.mem;
      if (m) {
        /* Read ahead: the whole file, in memory asked for in order,
         * closed on the worker, which called done with its path. */
        g_assert_cmpuint (m->size, ==, f->size);
        g_assert_cmpint (of.read_error, ==, 0);
        g_assert_cmpuint (of.read_done, ==, f->size);
        g_assert_cmpint ((gint64) m->seq, >, last_seq);
        last_seq = (gint64) m->seq;
        g_assert_true (of.read_whole);
        g_assert_cmpint (of.fd, ==, -1);
        g_assert_cmpstr (m->done_path, ==, f->path);
      } else {
        g_assert_false (of.read_whole);
        g_assert_cmpint (fcntl (of.fd, F_GETFL) & O_NONBLOCK, ==, 0);
      }
      if (check_bytes) {
        guint i = (guint) g_ascii_strtoull (strrchr (f->rel_path, 'f') + 1,
            NULL, 10);
        gchar *want = file_bytes (i, f->size);
        gchar *got = g_malloc (f->size + 1);
        if (m)
          memcpy (got, m->data, f->size);
        else
          g_assert_cmpint (pread (of.fd, got, f->size, 0), ==,
              (gssize) f->size);
        g_assert_true (memcmp (got, want, f->size) == 0);
        g_free (got);
        g_free (want);
      }
      ahead_mem_free (m);
      vyre_file_opener_close (o, of.fd);
    } else {
      g_assert_nonnull (of.reason);
      g_assert_nonnull (of.text);
      g_assert_null (of.mem);
      g_free (of.text);
    }
    g_array_append_val (out, oc);
  }
  g_assert_cmpuint (expect, ==, w->files->len);
  return out;
}

static void
test_order (void)
{
  gchar *dir = make_tree ();
  VyreWalkResult *w = walk (dir);
  g_assert_cmpuint (w->files->len, ==, N_FILES);
  guint fds = count_fds ();
  for (int way = 0; way < N_WAYS; way++) {
    gboolean uring = way == WAY_URING;
    VyreFileOpener *o = opener_new (dir, w, way, 0, 0);
    GArray *out = take_all (o, w, TRUE);
    for (guint i = 0; i < out->len; i++)
      g_assert_null (g_array_index (out, Outcome, i).reason);
    VyreFileOpenerStats st;
    vyre_file_opener_get_stats (o, &st);
    g_test_message ("%s: limit %u, most in the works %u, ring ops %"
        G_GUINT64_FORMAT ", system calls %" G_GUINT64_FORMAT ", read ahead %"
        G_GUINT64_FORMAT, way_names[way], st.ahead_limit, st.max_ahead,
        st.uring_ops, st.plain_ops, st.read_ahead);
    if (way == WAY_WORKERS) {
      /* Files of 1 .. 4096 bytes read ahead, no others. */
      guint64 small = 0;
      for (guint i = 0; i < w->files->len; i++) {
        VyreWalkFile *f = g_ptr_array_index (w->files, i);
        small += f->size > 0 && f->size <= 4096;
      }
      g_assert_cmpuint (small, >, 50);
      g_assert_cmpuint (st.read_ahead, ==, small);
      g_assert_cmpuint (st.threads, ==, 3);
    }
    g_assert_cmpuint (st.opened, ==, N_FILES);
    g_assert_cmpuint (st.max_ahead, <=, st.ahead_limit);
    if (uring && st.uring_ops > 0) {
      /* STATX + OPENAT2 + CLOSE per file, and many files at once. */
      g_assert_cmpuint (st.uring_ops, >=, 3 * N_FILES - 16);
      g_assert_cmpuint (st.max_ahead, >, 1);
    }
    if (!uring)
      g_assert_cmpuint (st.uring_ops, ==, 0);
    vyre_file_opener_free (o);
    g_array_unref (out);
    g_assert_cmpuint (count_fds (), ==, fds);
  }
  vyre_walk_result_free (w);
  remove_all (dir);
  g_free (dir);
}

static const Outcome *
outcome_of (GArray * out, VyreWalkResult * w, const gchar * rel)
{
  for (guint i = 0; i < out->len; i++) {
    const Outcome *oc = &g_array_index (out, Outcome, i);
    VyreWalkFile *f = g_ptr_array_index (w->files, oc->index);
    if (g_str_equal (f->rel_path, rel))
      return oc;
  }
  g_assert_not_reached ();
  return NULL;
}

static void
test_trouble (void)
{
  for (int way = 0; way < N_WAYS; way++) {
    gchar *dir = make_tree ();
    VyreWalkResult *w = walk (dir);
    /* Changed after the walk listed them. */
    gchar *p = g_build_filename (dir, "d1/e1/f001", NULL);
    g_assert_cmpint (g_unlink (p), ==, 0);
    g_free (p);
    p = g_build_filename (dir, "d2/e2/f002", NULL);
    g_assert_cmpint (g_unlink (p), ==, 0);
    g_assert_cmpint (mkfifo (p, 0600), ==, 0);
    g_free (p);
    p = g_build_filename (dir, "d3/e0/f003", NULL);
    g_assert_cmpint (g_unlink (p), ==, 0);
    g_assert_cmpint (symlink ("../../d0/e0/f000", p), ==, 0);
    g_free (p);
    /* d4/e1 (holding f004, f019, ...) becomes a link to d0/e0. */
    p = g_build_filename (dir, "d4/e1", NULL);
    gchar *moved = g_build_filename (dir, "d4/e1-moved", NULL);
    g_assert_cmpint (g_rename (p, moved), ==, 0);
    g_assert_cmpint (symlink ("../d0/e0", p), ==, 0);
    g_free (moved);
    g_free (p);
    /* So that the moved directory's names exist in the link's target. */
    put (dir, "d0/e0/f004", "x", 1);

    VyreFileOpener *o = opener_new (dir, w, way, 0, 0);
    GArray *out = take_all (o, w, FALSE);
    const Outcome *oc = outcome_of (out, w, "d1/e1/f001");
    g_assert_cmpstr (oc->reason, ==, "vanished");
    g_assert_cmpint (oc->error, ==, ENOENT);
    oc = outcome_of (out, w, "d2/e2/f002");
    g_assert_cmpstr (oc->reason, ==, "special");
    oc = outcome_of (out, w, "d3/e0/f003");
    g_assert_cmpstr (oc->reason, ==, "not-regular");
    g_assert_cmpint (oc->error, ==, ELOOP);
    oc = outcome_of (out, w, "d4/e1/f004");
    g_assert_cmpstr (oc->reason, ==, "not-regular");
    g_assert_cmpint (oc->error, ==, ELOOP);
    guint skipped = 0;
    for (guint i = 0; i < out->len; i++)
      skipped += g_array_index (out, Outcome, i).reason != NULL;
    /* f001, f002, f003 and the files of d4/e1 (i % 5 == 4, i % 3 == 1). */
    guint in_d4e1 = 0;
    for (guint i = 0; i < N_FILES; i++)
      in_d4e1 += i % 5 == 4 && i % 3 == 1;
    g_assert_cmpuint (skipped, ==, 3 + in_d4e1);
    vyre_file_opener_free (o);
    g_array_unref (out);
    vyre_walk_result_free (w);
    remove_all (dir);
    g_free (dir);
  }
}

static void
test_eacces (void)
{
  gchar *dir = g_dir_make_tmp ("vyre-opener-XXXXXX", NULL);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  put (dir, "a", "a", 1);
  put (dir, "b", "bb", 2);
  put (dir, "c", "ccc", 3);
  gchar *b = g_build_filename (dir, "b", NULL);
  g_assert_cmpint (g_chmod (b, 0), ==, 0);
  VyreWalkResult *w = walk (dir);
  g_assert_cmpuint (w->files->len, ==, 3);
  /* Root reads anything: let permissions apply to the opener's calls
   * (io_uring's workers take the submitter's credentials).  The root
   * directory is opened as root first: TMPDIR may lie under a directory
   * nobody cannot enter (/root in CI's fresh root), and the files are
   * opened relative to that descriptor. */
  gboolean as_nobody = geteuid () == 0;
  for (int way = 0; way < N_WAYS; way++) {
    /* setfsuid is per thread: the workers would open as root. */
    if (as_nobody && way == WAY_WORKERS)
      continue;
    VyreFileOpener *o = opener_new (dir, w, way, 0, 0);
    if (as_nobody)
      setfsuid (65534);
    GArray *out = take_all (o, w, FALSE);
    vyre_file_opener_free (o);
    if (as_nobody)
      setfsuid (0);
    g_assert_null (outcome_of (out, w, "a")->reason);
    g_assert_cmpstr (outcome_of (out, w, "b")->reason, ==, "open-failed");
    g_assert_cmpint (outcome_of (out, w, "b")->error, ==, EACCES);
    g_assert_null (outcome_of (out, w, "c")->reason);
    g_array_unref (out);
  }
  g_chmod (b, 0644);
  g_free (b);
  vyre_walk_result_free (w);
  remove_all (dir);
  g_free (dir);
}

static void
test_bounds (void)
{
  gchar *dir = make_tree ();
  VyreWalkResult *w = walk (dir);
  struct rlimit saved;
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  for (int way = 0; way < N_WAYS; way++) {
    /* The ring's own descriptor counts too: lowered after it exists
     * would not test the bound, so the limit leaves room for it. */
    struct rlimit low = saved;
    low.rlim_cur = count_fds () + 6;
    g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &low), ==, 0);
    VyreFileOpener *o = opener_new (dir, w, way, 0, 0);
    GArray *out = take_all (o, w, FALSE);
    VyreFileOpenerStats st;
    vyre_file_opener_get_stats (o, &st);
    vyre_file_opener_free (o);
    g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
    g_assert_cmpuint (st.ahead_limit, <=, 4);
    g_assert_cmpuint (st.max_ahead, <=, st.ahead_limit);
    g_assert_cmpuint (st.opened, ==, N_FILES);
    g_array_unref (out);

    /* Bytes: a bound below every file leaves one in the works. */
    o = opener_new (dir, w, way, 0, 1);
    out = take_all (o, w, FALSE);
    vyre_file_opener_get_stats (o, &st);
    vyre_file_opener_free (o);
    g_assert_cmpuint (st.max_ahead, ==, 1);
    g_assert_cmpuint (st.opened, ==, N_FILES);
    g_array_unref (out);
  }
  vyre_walk_result_free (w);
  remove_all (dir);
  g_free (dir);
}

static void
test_free_early (void)
{
  gchar *dir = make_tree ();
  VyreWalkResult *w = walk (dir);
  guint fds = count_fds ();
  for (int way = 0; way < N_WAYS; way++) {
    VyreFileOpener *o = opener_new (dir, w, way, 0, 0);
    for (guint i = 0; i < 3; i++) {
      VyreOpenedFile of;
      g_assert_cmpint (vyre_file_opener_next (o, &of, 1000), ==, 1);
      g_assert_true (of.fd >= 0 || of.read_whole);
      if (of.mem)
        ahead_free (of.mem, &ahead_counts);
      vyre_file_opener_close (o, of.fd);
    }
    vyre_file_opener_free (o);
    /* Every memory asked for is freed: handed out or not. */
    g_assert_cmpuint (ahead_counts.given, ==,
        (guint64) g_atomic_int_get (&ahead_counts.freed));
    g_assert_cmpuint (count_fds (), ==, fds);
  }
  vyre_walk_result_free (w);
  remove_all (dir);
  g_free (dir);
}

static void
test_list (void)
{
  gchar *dir = make_tree ();
  gchar *list = g_build_filename (dir, "list.txt", NULL);
  GString *text = g_string_new (NULL);
  const guint picks[] = { 17, 3, 250, 42 };
  for (guint k = 0; k < G_N_ELEMENTS (picks); k++) {
    gchar *rel = file_rel (picks[k]);
    g_string_append_printf (text, "%s/%s\n", dir, rel);
    g_free (rel);
  }
  g_assert_true (g_file_set_contents (list, text->str, -1, NULL));
  g_string_free (text, TRUE);
  VyreWalkOptions opts;
  vyre_walk_options_init (&opts);
  GError *err = NULL;
  VyreWalkResult *w = vyre_walk_files_from (list, &opts, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (w->files->len, ==, 4);
  /* The third entry becomes a link after the list was read. */
  VyreWalkFile *third = g_ptr_array_index (w->files, 2);
  g_assert_cmpint (g_unlink (third->path), ==, 0);
  gchar *target = g_build_filename (dir, "d0/e0/f000", NULL);
  g_assert_cmpint (symlink (target, third->path), ==, 0);
  g_free (target);
  for (int way = 0; way < N_WAYS; way++) {
    VyreFileOpenerOptions oo = way == WAY_WORKERS ? read_ahead_options (2) :
        (VyreFileOpenerOptions) {.use_uring = way == WAY_URING };
    int uring_err = 0;
    VyreFileOpener *o = vyre_file_opener_new (NULL, w->files, &oo,
        &uring_err, &err);
    g_assert_no_error (err);
    GArray *out = take_all (o, w, FALSE);
    g_assert_null (g_array_index (out, Outcome, 0).reason);
    g_assert_null (g_array_index (out, Outcome, 1).reason);
    g_assert_cmpstr (g_array_index (out, Outcome, 2).reason, ==,
        "not-regular");
    g_assert_null (g_array_index (out, Outcome, 3).reason);
    vyre_file_opener_free (o);
    g_array_unref (out);
  }
  vyre_walk_result_free (w);
  g_free (list);
  remove_all (dir);
  g_free (dir);
}

static void
test_read_ahead (void)
{
  gchar *dir = make_tree ();
  VyreWalkResult *w = walk (dir);
  /* f004 (listed 1 .. 4 KiB) is truncated to 1 byte after the walk: its
   * size no longer matches the memory asked for, it is handed out unread. */
  VyreWalkFile *f10 = NULL;
  for (guint i = 0; i < w->files->len; i++) {
    VyreWalkFile *f = g_ptr_array_index (w->files, i);
    if (g_str_has_suffix (f->rel_path, "/f004"))
      f10 = f;
  }
  g_assert_nonnull (f10);
  g_assert_cmpuint (f10->size, >, 1);
  g_assert_cmpuint (f10->size, <=, 4096);
  g_assert_cmpint (truncate (f10->path, 1), ==, 0);
  guint fds = count_fds ();
  for (guint round = 0; round < 3; round++) {
    memset (&ahead_counts, 0, sizeof ahead_counts);
    ahead_counts.refuse_every = round == 0 ? 0 : round == 1 ? 7 : 2;
    VyreFileOpenerOptions oo = read_ahead_options (3);
    /* Round 2: a few KiB of read-ahead memory at once. */
    oo.read_ahead_bytes = round == 2 ? 6000 : 0;
    int uring_err = 0;
    GError *err = NULL;
    VyreFileOpener *o = vyre_file_opener_new (dir, w->files, &oo,
        &uring_err, &err);
    g_assert_no_error (err);
    VyreOpenedFile of;
    int ret;
    guint expect = 0, ahead = 0, unread_small = 0;
    gint64 last_seq = -1;
    while ((ret = vyre_file_opener_next (o, &of, 1000)) != 0) {
      g_assert_cmpint (ret, ==, 1);
      g_assert_cmpuint (of.index, ==, expect);
      expect++;
      VyreWalkFile *f = g_ptr_array_index (w->files, of.index);
      /* Read whole: closed already; else open for the caller. */
      g_assert_cmpint (of.fd >= 0, ==, !of.read_whole);
      g_assert_cmpint (of.read_whole, ==, of.mem != NULL);
      guint i = (guint) g_ascii_strtoull (strrchr (f->rel_path, 'f') + 1,
          NULL, 10);
      gsize len = f == f10 ? 1 : f->size;
      g_assert_cmpuint (of.size, ==, len);
      gchar *want = file_bytes (i, f->size);
      AheadMem *m = of.mem;
      if (m) {
        ahead++;
        g_assert_true (f != f10);
        g_assert_cmpint ((gint64) m->seq, >, last_seq);
        last_seq = (gint64) m->seq;
        g_assert_cmpint (of.read_error, ==, 0);
        g_assert_cmpuint (of.read_done, ==, len);
        g_assert_true (memcmp (m->data, want, len) == 0);
        g_assert_cmpstr (m->done_path, ==, f->path);
        ahead_mem_free (m);
      } else {
        /* Unread: the caller reads it, blocking. */
        g_assert_cmpint (fcntl (of.fd, F_GETFL) & O_NONBLOCK, ==, 0);
        gchar *got = g_malloc (len + 1);
        g_assert_cmpint (pread (of.fd, got, len, 0), ==, (gssize) len);
        g_assert_true (memcmp (got, want, len) == 0);
        g_free (got);
        unread_small += len > 0 && len <= 4096 && f != f10;
      }
      g_free (want);
      vyre_file_opener_close (o, of.fd);
    }
    g_assert_cmpuint (expect, ==, N_FILES);
    VyreFileOpenerStats st;
    vyre_file_opener_get_stats (o, &st);
    vyre_file_opener_free (o);
    g_test_message ("round %u: %u read ahead, %u other small ones unread, %"
        G_GUINT64_FORMAT " refused", round, ahead, unread_small,
        st.read_ahead_refused);
    g_assert_cmpuint (st.read_ahead, ==, ahead);
    g_assert_cmpuint (ahead_counts.given, ==, ahead +
        (guint64) g_atomic_int_get (&ahead_counts.freed));
    if (round == 0) {
      g_assert_cmpuint (unread_small, ==, 0);
      g_assert_cmpuint (st.read_ahead_refused, ==, 0);
      g_assert_cmpint (g_atomic_int_get (&ahead_counts.freed), ==, 1);
    } else {
      g_assert_cmpuint (st.read_ahead_refused, >, 0);
      g_assert_cmpuint (unread_small, >=, st.read_ahead_refused - 1);
    }
    g_assert_cmpuint (count_fds (), ==, fds);
  }
  /* Freed early with files read ahead: every memory freed, every
   * descriptor closed. */
  memset (&ahead_counts, 0, sizeof ahead_counts);
  VyreFileOpenerOptions oo = read_ahead_options (3);
  int uring_err = 0;
  VyreFileOpener *o = vyre_file_opener_new (dir, w->files, &oo, &uring_err,
      NULL);
  VyreOpenedFile of;
  g_assert_cmpint (vyre_file_opener_next (o, &of, 1000), ==, 1);
  g_usleep (20000);             /* let the workers get ahead */
  if (of.mem)
    ahead_free (of.mem, &ahead_counts);
  vyre_file_opener_close (o, of.fd);
  vyre_file_opener_free (o);
  g_assert_cmpuint (ahead_counts.given, >, 1);
  g_assert_cmpuint (ahead_counts.given, ==,
      (guint64) g_atomic_int_get (&ahead_counts.freed));
  g_assert_cmpuint (count_fds (), ==, fds);
  vyre_walk_result_free (w);
  remove_all (dir);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/opener/order", test_order);
  g_test_add_func ("/opener/trouble", test_trouble);
  g_test_add_func ("/opener/eacces", test_eacces);
  g_test_add_func ("/opener/bounds", test_bounds);
  g_test_add_func ("/opener/free_early", test_free_early);
  g_test_add_func ("/opener/list", test_list);
  g_test_add_func ("/opener/read_ahead", test_read_ahead);
  return g_test_run ();
}
