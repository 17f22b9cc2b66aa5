/* gst-vyre
 *
 * vyre-walk.c - see vyre-walk.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "vyre-walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  const VyreWalkOptions *opts;
  GPtrArray *patterns;          /* GPatternSpec * */
  GHashTable *walked;           /* "dev:ino" of directories walked */
  VyreWalkResult *result;
  const gint *cancelled;        /* walk ahead: stop when set (or NULL) */
} Walk;

void
vyre_walk_options_init (VyreWalkOptions * opts)
{
  memset (opts, 0, sizeof *opts);
  opts->recursive = TRUE;
}

const gchar *
vyre_walk_skip_reason_text (VyreWalkSkipReason reason)
{
  switch (reason) {
    case VYRE_WALK_SKIP_EXCLUDED:
      return "excluded";
    case VYRE_WALK_SKIP_TOO_LARGE:
      return "larger than max-file-size";
    case VYRE_WALK_SKIP_VCS:
      return "version-control directory";
    case VYRE_WALK_SKIP_SYMLINK:
      return "symbolic link, not followed";
    case VYRE_WALK_SKIP_LOOP:
      return "directory already walked (symbolic link loop)";
    case VYRE_WALK_SKIP_SPECIAL:
      return "not a regular file (FIFO, socket or device)";
    case VYRE_WALK_SKIP_NOT_RECURSIVE:
      return "directory, recursive is off";
    case VYRE_WALK_SKIP_DIRECTORY:
      return "directory in a file list";
    case VYRE_WALK_SKIP_UNREADABLE:
      return "cannot be read";
  }
  return "?";
}

const gchar *
vyre_walk_skip_reason_nick (VyreWalkSkipReason reason)
{
  switch (reason) {
    case VYRE_WALK_SKIP_EXCLUDED:
      return "excluded";
    case VYRE_WALK_SKIP_TOO_LARGE:
      return "too-large";
    case VYRE_WALK_SKIP_VCS:
      return "vcs";
    case VYRE_WALK_SKIP_SYMLINK:
      return "symlink";
    case VYRE_WALK_SKIP_LOOP:
      return "loop";
    case VYRE_WALK_SKIP_SPECIAL:
      return "special";
    case VYRE_WALK_SKIP_NOT_RECURSIVE:
      return "not-recursive";
    case VYRE_WALK_SKIP_DIRECTORY:
      return "directory";
    case VYRE_WALK_SKIP_UNREADABLE:
      return "unreadable";
  }
  return "?";
}

gboolean
vyre_walk_skip_is_trouble (VyreWalkSkipReason reason)
{
  return reason == VYRE_WALK_SKIP_UNREADABLE ||
      reason == VYRE_WALK_SKIP_SPECIAL || reason == VYRE_WALK_SKIP_DIRECTORY;
}

static void
file_free (gpointer p)
{
  VyreWalkFile *f = p;
  g_free (f->path);
  g_free (f->rel_path);
  g_free (f);
}

static void
skip_free (gpointer p)
{
  VyreWalkSkip *s = p;
  g_free (s->path);
  g_free (s);
}

void
vyre_walk_result_free (VyreWalkResult * r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->files);
  g_ptr_array_unref (r->skips);
  g_free (r);
}

static VyreWalkResult *
result_new (void)
{
  VyreWalkResult *r = g_new0 (VyreWalkResult, 1);
  r->files = g_ptr_array_new_with_free_func (file_free);
  r->skips = g_ptr_array_new_with_free_func (skip_free);
  return r;
}

static void
add_file (VyreWalkResult * r, const gchar * path, const gchar * rel,
    guint64 size)
{
  VyreWalkFile *f = g_new0 (VyreWalkFile, 1);
  f->path = g_strdup (path);
  f->rel_path = g_strdup (rel);
  f->size = size;
  g_ptr_array_add (r->files, f);
}

static void
add_skip (VyreWalkResult * r, const gchar * path, VyreWalkSkipReason reason,
    int error)
{
  VyreWalkSkip *s = g_new0 (VyreWalkSkip, 1);
  s->path = g_strdup (path);
  s->reason = reason;
  s->error = error;
  g_ptr_array_add (r->skips, s);
}

static gboolean
compile_patterns (Walk * w, GError ** err)
{
  w->patterns = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_pattern_spec_free);
  for (const gchar * const *p = w->opts->exclude; p && *p; p++) {
    if (**p == '\0') {
      g_set_error (err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
          "An exclude pattern is empty. Fix: remove it, or write a glob "
          "such as \"*.png\" or \"vendor/*\".");
      return FALSE;
    }
    g_ptr_array_add (w->patterns, g_pattern_spec_new (*p));
  }
  return TRUE;
}

static gboolean
excluded (Walk * w, const gchar * rel, gboolean is_dir)
{
  if (w->patterns->len == 0)
    return FALSE;
  gchar *with_slash = is_dir ? g_strconcat (rel, "/", NULL) : NULL;
  gboolean hit = FALSE;
  for (guint i = 0; i < w->patterns->len && !hit; i++) {
    GPatternSpec *spec = g_ptr_array_index (w->patterns, i);
    hit = g_pattern_spec_match_string (spec, rel) ||
        (with_slash && g_pattern_spec_match_string (spec, with_slash));
  }
  g_free (with_slash);
  return hit;
}

/* TRUE the first time a directory is met, FALSE after. */
static gboolean
first_visit (Walk * w, const struct stat *st)
{
  gchar *key = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
      (guint64) st->st_dev, (guint64) st->st_ino);
  if (g_hash_table_contains (w->walked, key)) {
    g_free (key);
    return FALSE;
  }
  g_hash_table_add (w->walked, key);
  return TRUE;
}

static gboolean
is_vcs_dir (const gchar * name)
{
  return g_str_equal (name, ".git") || g_str_equal (name, ".hg") ||
      g_str_equal (name, ".svn");
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Walks the directory open as dfd (taken over: closed here), whose path
 * is dir_path and relative path rel ("" for the root). */
static void
walk_dir (Walk * w, int dfd, const gchar * dir_path, const gchar * rel)
{
  DIR *d = fdopendir (dfd);
  if (d == NULL) {
    add_skip (w->result, dir_path, VYRE_WALK_SKIP_UNREADABLE, errno);
    close (dfd);
    return;
  }
  /* Names first, then each one: readdir's order is the file system's. */
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *de;
  errno = 0;
  while ((de = readdir (d)) != NULL) {
    if (!g_str_equal (de->d_name, ".") && !g_str_equal (de->d_name, ".."))
      g_ptr_array_add (names, g_strdup (de->d_name));
    errno = 0;
  }
  if (errno != 0)
    add_skip (w->result, dir_path, VYRE_WALK_SKIP_UNREADABLE, errno);
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++) {
    if (w->cancelled && g_atomic_int_get (w->cancelled))
      break;
    const gchar *name = g_ptr_array_index (names, i);
    gchar *path = g_build_filename (dir_path, name, NULL);
    gchar *child_rel = *rel ? g_strconcat (rel, "/", name, NULL) :
        g_strdup (name);
    struct stat st;
    if (fstatat (dirfd (d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      add_skip (w->result, path, VYRE_WALK_SKIP_UNREADABLE, errno);
      goto next;
    }
    if (S_ISLNK (st.st_mode)) {
      if (!w->opts->follow_symlinks) {
        add_skip (w->result, path, VYRE_WALK_SKIP_SYMLINK, 0);
        goto next;
      }
      if (fstatat (dirfd (d), name, &st, 0) != 0) {
        add_skip (w->result, path, VYRE_WALK_SKIP_UNREADABLE, errno);
        goto next;
      }
    }
    if (excluded (w, child_rel, S_ISDIR (st.st_mode))) {
      add_skip (w->result, path, VYRE_WALK_SKIP_EXCLUDED, 0);
    } else if (S_ISDIR (st.st_mode)) {
      if (!w->opts->include_vcs && is_vcs_dir (name))
        add_skip (w->result, path, VYRE_WALK_SKIP_VCS, 0);
      else if (!w->opts->recursive)
        add_skip (w->result, path, VYRE_WALK_SKIP_NOT_RECURSIVE, 0);
      else if (!first_visit (w, &st))
        add_skip (w->result, path, VYRE_WALK_SKIP_LOOP, 0);
      else {
        int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
        if (!w->opts->follow_symlinks)
          flags |= O_NOFOLLOW;
        int cfd = openat (dirfd (d), name, flags);
        if (cfd < 0)
          add_skip (w->result, path, VYRE_WALK_SKIP_UNREADABLE, errno);
        else
          walk_dir (w, cfd, path, child_rel);
      }
    } else if (S_ISREG (st.st_mode)) {
      if (w->opts->max_file_size && (guint64) st.st_size >
          w->opts->max_file_size)
        add_skip (w->result, path, VYRE_WALK_SKIP_TOO_LARGE, 0);
      else
        add_file (w->result, path, child_rel, (guint64) st.st_size);
    } else {
      add_skip (w->result, path, VYRE_WALK_SKIP_SPECIAL, 0);
    }
  next:
    g_free (path);
    g_free (child_rel);
  }
  g_ptr_array_unref (names);
  closedir (d);
}

static gint
compare_rel (gconstpointer a, gconstpointer b)
{
  const VyreWalkFile *fa = *(VyreWalkFile * const *) a;
  const VyreWalkFile *fb = *(VyreWalkFile * const *) b;
  return strcmp (fa->rel_path, fb->rel_path);
}

static void
walk_clear (Walk * w)
{
  g_clear_pointer (&w->patterns, g_ptr_array_unref);
  g_clear_pointer (&w->walked, g_hash_table_unref);
}

static VyreWalkResult *
walk_tree (const gchar * root, const VyreWalkOptions * opts,
    const gint * cancelled, GError ** err)
{
  Walk w = { opts, NULL, g_hash_table_new_full (g_str_hash, g_str_equal,
          g_free, NULL), NULL, cancelled
  };
  if (!compile_patterns (&w, err)) {
    walk_clear (&w);
    return NULL;
  }
  struct stat st;
  if (stat (root, &st) != 0) {
    int e = errno;
    g_set_error (err, G_FILE_ERROR, g_file_error_from_errno (e),
        "Could not stat \"%s\": %s. Fix: check that the location names an "
        "existing file or directory.", root, g_strerror (e));
    walk_clear (&w);
    return NULL;
  }
  w.result = result_new ();
  if (S_ISREG (st.st_mode)) {
    gchar *base = g_path_get_basename (root);
    add_file (w.result, root, base, (guint64) st.st_size);
    g_free (base);
  } else if (S_ISDIR (st.st_mode)) {
    int dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      int e = errno;
      g_set_error (err, G_FILE_ERROR, g_file_error_from_errno (e),
          "Could not open directory \"%s\": %s. Fix: make it readable and "
          "searchable by this user.", root, g_strerror (e));
      vyre_walk_result_free (w.result);
      walk_clear (&w);
      return NULL;
    }
    first_visit (&w, &st);
    walk_dir (&w, dfd, root, "");
  } else {
    g_set_error (err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "\"%s\" is not a regular file or directory (a FIFO, socket or "
        "device). Fix: name a file or a directory.", root);
    vyre_walk_result_free (w.result);
    walk_clear (&w);
    return NULL;
  }
  /* Sorted by whole relative paths: per-directory order alone would put
   * "a/b" before "a-b". */
  g_ptr_array_sort (w.result->files, compare_rel);
  walk_clear (&w);
  return w.result;
}

VyreWalkResult *
vyre_walk_tree (const gchar * root, const VyreWalkOptions * opts,
    GError ** err)
{
  return walk_tree (root, opts, NULL, err);
}

struct _VyreWalkAhead
{
  GThread *thread;
  gint cancelled;
  gchar *root;
  VyreWalkOptions opts;         /* exclude: the copy below */
  gchar **exclude;
  VyreWalkResult *result;
  GError *error;
};

static gpointer
walk_ahead_thread (gpointer data)
{
  VyreWalkAhead *wa = data;
  wa->result = walk_tree (wa->root, &wa->opts, &wa->cancelled, &wa->error);
  return NULL;
}

VyreWalkAhead *
vyre_walk_ahead_begin (const gchar * root, const VyreWalkOptions * opts)
{
  VyreWalkAhead *wa = g_new0 (VyreWalkAhead, 1);
  wa->root = g_strdup (root);
  wa->opts = *opts;
  wa->exclude = g_strdupv ((gchar **) opts->exclude);
  wa->opts.exclude = (const gchar * const *) wa->exclude;
  wa->thread = g_thread_try_new ("vyre-walk", walk_ahead_thread, wa, NULL);
  if (wa->thread == NULL) {
    vyre_walk_ahead_free (wa);
    return NULL;
  }
  return wa;
}

static gboolean
same_globs (const gchar * const *a, const gchar * const *b)
{
  guint na = a ? g_strv_length ((gchar **) a) : 0;
  guint nb = b ? g_strv_length ((gchar **) b) : 0;
  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++)
    if (g_strcmp0 (a[i], b[i]) != 0)
      return FALSE;
  return TRUE;
}

gboolean
vyre_walk_ahead_is_for (VyreWalkAhead * wa, const gchar * root,
    const VyreWalkOptions * opts)
{
  return g_strcmp0 (wa->root, root) == 0 &&
      wa->opts.recursive == opts->recursive &&
      wa->opts.follow_symlinks == opts->follow_symlinks &&
      wa->opts.include_vcs == opts->include_vcs &&
      wa->opts.max_file_size == opts->max_file_size &&
      same_globs (wa->opts.exclude, opts->exclude);
}

VyreWalkResult *
vyre_walk_ahead_finish (VyreWalkAhead * wa, GError ** err)
{
  g_thread_join (wa->thread);
  wa->thread = NULL;
  VyreWalkResult *r = wa->result;
  wa->result = NULL;
  if (r == NULL) {
    g_propagate_error (err, wa->error);
    wa->error = NULL;
  }
  vyre_walk_ahead_free (wa);
  return r;
}

void
vyre_walk_ahead_free (VyreWalkAhead * wa)
{
  if (wa == NULL)
    return;
  if (wa->thread) {
    g_atomic_int_set (&wa->cancelled, 1);
    g_thread_join (wa->thread);
  }
  g_clear_pointer (&wa->result, vyre_walk_result_free);
  g_clear_error (&wa->error);
  g_strfreev (wa->exclude);
  g_free (wa->root);
  g_free (wa);
}

/* The whole of standard input. */
static gboolean
read_stdin (gchar ** text, gsize * len, GError ** err)
{
  GByteArray *buf = g_byte_array_new ();
  guint8 chunk[65536];
  for (;;) {
    ssize_t n = read (STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      g_set_error (err, G_FILE_ERROR, g_file_error_from_errno (e),
          "Could not read the file list from standard input: %s.",
          g_strerror (e));
      g_byte_array_unref (buf);
      return FALSE;
    }
    if (n == 0)
      break;
    g_byte_array_append (buf, chunk, (guint) n);
  }
  *len = buf->len;
  g_byte_array_append (buf, (const guint8 *) "", 1);
  *text = (gchar *) g_byte_array_free (buf, FALSE);
  return TRUE;
}

VyreWalkResult *
vyre_walk_files_from (const gchar * list_path, const VyreWalkOptions * opts,
    GError ** err)
{
  gchar *text = NULL;
  gsize len = 0;
  if (g_str_equal (list_path, "-")) {
    if (!read_stdin (&text, &len, err))
      return NULL;
  } else if (!g_file_get_contents (list_path, &text, &len, err)) {
    return NULL;
  }
  Walk w = { opts, NULL, NULL, NULL, NULL };
  if (!compile_patterns (&w, err)) {
    walk_clear (&w);
    g_free (text);
    return NULL;
  }
  w.result = result_new ();
  /* find -print0 separates with NUL; anything else is one path a line. */
  char sep = memchr (text, '\0', len) ? '\0' : '\n';
  gsize start = 0;
  for (gsize i = 0; i <= len; i++) {
    if (i < len && text[i] != sep)
      continue;
    gchar *path = g_strndup (text + start, i - start);
    start = i + 1;
    if (*path == '\0') {
      g_free (path);
      continue;
    }
    struct stat st;
    if (stat (path, &st) != 0)
      add_skip (w.result, path, VYRE_WALK_SKIP_UNREADABLE, errno);
    else if (excluded (&w, path, S_ISDIR (st.st_mode)))
      add_skip (w.result, path, VYRE_WALK_SKIP_EXCLUDED, 0);
    else if (S_ISDIR (st.st_mode))
      add_skip (w.result, path, VYRE_WALK_SKIP_DIRECTORY, 0);
    else if (!S_ISREG (st.st_mode))
      add_skip (w.result, path, VYRE_WALK_SKIP_SPECIAL, 0);
    else if (opts->max_file_size && (guint64) st.st_size >
        opts->max_file_size)
      add_skip (w.result, path, VYRE_WALK_SKIP_TOO_LARGE, 0);
    else
      add_file (w.result, path, path, (guint64) st.st_size);
    g_free (path);
  }
  g_free (text);
  walk_clear (&w);
  return w.result;
}
