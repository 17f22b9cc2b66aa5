/*
 * test_walk.c - vyre-walk over a generated tree and over file lists.
 *
 *  tree/default       sorted byte-wise by relative path ("sub-x" before
 *                     "sub/..."), hidden files in, empty and 1-byte files,
 *                     sizes; .git skipped, links not followed, FIFO skipped
 *                     without being opened, each skip with its reason
 *  tree/follow        links followed; the link back to the root is a loop,
 *                     walked once
 *  tree/include_vcs   .git walked
 *  tree/exclude       globs on the relative path; "vendor/" + '*' prunes
 *                     the directory; an empty pattern is an error
 *  tree/max_size      4,097 and 5,000 bytes over a 4,096 limit, 4,095 in
 *                     (and the limit itself)
 *  tree/not_recursive the top level only, directories recorded
 *  tree/unreadable    a directory without permission (skipped when root,
 *                     who reads it anyway)
 *  tree/root_file     a file as the root; a missing root is an error
 *  ahead              a walk on its own thread gives what the walk gives
 *                     (files, skips, an error); it is for its root and
 *                     options only, its exclude globs copied; freed
 *                     while it runs, it stops
 *  list/lines         one path a line, order kept, a FIFO, a directory and
 *                     a missing file skipped with reasons
 *  list/nul           NUL-separated (find -print0), a name with a newline
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vyre-walk.h"

static gchar *root;

static void
put (const gchar * rel, gsize len)
{
  gchar *path = g_build_filename (root, rel, NULL);
  gchar *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  gchar *data = g_malloc (len + 1);
  memset (data, 'x', len);
  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  g_free (data);
  g_free (dir);
  g_free (path);
}

static void
make_tree (void)
{
  root = g_dir_make_tmp ("vyre-walk-XXXXXX", NULL);
  g_assert_nonnull (root);
  put ("a.txt", 1);
  put ("empty", 0);
  put (".env", 5);
  put ("big.bin", 5000);
  put ("sub-x", 3);
  put ("sub/b.txt", 4095);
  put ("sub/deeper/c.txt", 4097);
  put ("vendor/v.txt", 7);
  put ("x.png", 9);
  put (".git/HEAD", 20);
  put (".git/objects/ab", 30);
  put ("limit.bin", 4096);
  gchar *p = g_build_filename (root, "sub", "loop", NULL);
  g_assert_cmpint (symlink ("..", p), ==, 0);
  g_free (p);
  p = g_build_filename (root, "link-to-a", NULL);
  g_assert_cmpint (symlink ("a.txt", p), ==, 0);
  g_free (p);
  p = g_build_filename (root, "fifo", NULL);
  g_assert_cmpint (mkfifo (p, 0600), ==, 0);
  g_free (p);
}

static void
remove_tree (void)
{
  gchar *noperm = g_build_filename (root, "noperm", NULL);
  g_chmod (noperm, 0755);
  g_free (noperm);
  gchar *cmd = g_strdup_printf ("rm -rf '%s'", root);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (cmd);
  g_free (root);
}

/* The relative paths of the files, joined with '|'. */
static gchar *
files_text (VyreWalkResult * r)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < r->files->len; i++) {
    VyreWalkFile *f = g_ptr_array_index (r->files, i);
    g_string_append_printf (s, "%s%s", i ? "|" : "", f->rel_path);
  }
  return g_string_free (s, FALSE);
}

static gint
compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* The skips as "path relative to root=reason", sorted, joined with '|'. */
static gchar *
skips_text (VyreWalkResult * r)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_free);
  gsize n = strlen (root) + 1;
  for (guint i = 0; i < r->skips->len; i++) {
    VyreWalkSkip *s = g_ptr_array_index (r->skips, i);
    const gchar *rel = g_str_has_prefix (s->path, root) ? s->path + n :
        s->path;
    g_ptr_array_add (items, g_strdup_printf ("%s=%s", rel,
            vyre_walk_skip_reason_text (s->reason)));
  }
  g_ptr_array_sort (items, compare_str);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < items->len; i++)
    g_string_append_printf (s, "%s%s", i ? "|" : "",
        *(gchar **) & g_ptr_array_index (items, i));
  g_ptr_array_unref (items);
  return g_string_free (s, FALSE);
}

static void
check_walk (const VyreWalkOptions * o, const gchar * want_files,
    const gchar * want_skips)
{
  GError *err = NULL;
  VyreWalkResult *r = vyre_walk_tree (root, o, &err);
  g_assert_no_error (err);
  gchar *got = files_text (r);
  gchar *skips = skips_text (r);
  g_test_message ("files: %s\nskips: %s", got, skips);
  g_assert_cmpstr (got, ==, want_files);
  if (want_skips)
    g_assert_cmpstr (skips, ==, want_skips);
  for (guint i = 0; i < r->files->len; i++) {
    VyreWalkFile *f = g_ptr_array_index (r->files, i);
    gchar *path = g_build_filename (root, f->rel_path, NULL);
    g_assert_cmpstr (f->path, ==, path);
    GStatBuf st;
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpuint (f->size, ==, (guint64) st.st_size);
    g_free (path);
  }
  /* Sorted byte-wise, and the same on a second walk. */
  GPtrArray *sorted = g_ptr_array_new ();
  for (guint i = 0; i < r->files->len; i++)
    g_ptr_array_add (sorted, ((VyreWalkFile *) g_ptr_array_index (r->files,
                i))->rel_path);
  g_ptr_array_sort (sorted, compare_str);
  for (guint i = 0; i < r->files->len; i++)
    g_assert_true (g_ptr_array_index (sorted, i) ==
        ((VyreWalkFile *) g_ptr_array_index (r->files, i))->rel_path);
  g_ptr_array_unref (sorted);
  VyreWalkResult *again = vyre_walk_tree (root, o, NULL);
  gchar *got2 = files_text (again);
  g_assert_cmpstr (got2, ==, got);
  g_free (got2);
  vyre_walk_result_free (again);
  g_free (got);
  g_free (skips);
  vyre_walk_result_free (r);
}

#define ALL_FILES ".env|a.txt|big.bin|empty|limit.bin|sub-x|sub/b.txt|" \
  "sub/deeper/c.txt|vendor/v.txt|x.png"

static void
test_default (void)
{
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  check_walk (&o, ALL_FILES, ".git=version-control directory|"
      "fifo=not a regular file (FIFO, socket or device)|"
      "link-to-a=symbolic link, not followed|"
      "sub/loop=symbolic link, not followed");
}

static void
test_follow (void)
{
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  o.follow_symlinks = TRUE;
  check_walk (&o, ".env|a.txt|big.bin|empty|limit.bin|link-to-a|sub-x|"
      "sub/b.txt|sub/deeper/c.txt|vendor/v.txt|x.png",
      ".git=version-control directory|"
      "fifo=not a regular file (FIFO, socket or device)|"
      "sub/loop=directory already walked (symbolic link loop)");
}

static void
test_include_vcs (void)
{
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  o.include_vcs = TRUE;
  check_walk (&o, ".env|.git/HEAD|.git/objects/ab|a.txt|big.bin|empty|"
      "limit.bin|sub-x|sub/b.txt|sub/deeper/c.txt|vendor/v.txt|x.png", NULL);
}

static void
test_exclude (void)
{
  const gchar *globs[] = { "*.png", "vendor/*", "sub/deeper/*.txt", NULL };
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  o.exclude = globs;
  check_walk (&o, ".env|a.txt|big.bin|empty|limit.bin|sub-x|sub/b.txt",
      ".git=version-control directory|"
      "fifo=not a regular file (FIFO, socket or device)|"
      "link-to-a=symbolic link, not followed|"
      "sub/deeper/c.txt=excluded|"
      "sub/loop=symbolic link, not followed|vendor=excluded|x.png=excluded");

  const gchar *empty[] = { "*.png", "", NULL };
  o.exclude = empty;
  GError *err = NULL;
  g_assert_null (vyre_walk_tree (root, &o, &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "Fix:"));
  g_clear_error (&err);
}

static void
test_max_size (void)
{
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  o.max_file_size = 4096;
  check_walk (&o, ".env|a.txt|empty|limit.bin|sub-x|sub/b.txt|"
      "vendor/v.txt|x.png", ".git=version-control directory|"
      "big.bin=larger than max-file-size|"
      "fifo=not a regular file (FIFO, socket or device)|"
      "link-to-a=symbolic link, not followed|"
      "sub/deeper/c.txt=larger than max-file-size|"
      "sub/loop=symbolic link, not followed");
}

static void
test_not_recursive (void)
{
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  o.recursive = FALSE;
  check_walk (&o, ".env|a.txt|big.bin|empty|limit.bin|sub-x|x.png",
      ".git=version-control directory|"
      "fifo=not a regular file (FIFO, socket or device)|"
      "link-to-a=symbolic link, not followed|"
      "sub=directory, recursive is off|vendor=directory, recursive is off");
}

static void
test_unreadable (void)
{
  put ("noperm/secret", 4);
  gchar *noperm = g_build_filename (root, "noperm", NULL);
  g_assert_cmpint (g_chmod (noperm, 0000), ==, 0);
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  GError *err = NULL;
  VyreWalkResult *r = vyre_walk_tree (root, &o, &err);
  g_assert_no_error (err);
  gchar *skips = skips_text (r);
  gchar *files = files_text (r);
  if (geteuid () == 0) {
    /* Root reads it anyway: the walk just goes on. */
    g_test_message ("root: the unreadable directory is readable");
    g_assert_nonnull (strstr (files, "noperm/secret"));
  } else {
    g_assert_null (strstr (files, "noperm"));
    g_assert_nonnull (strstr (skips, "noperm=cannot be read"));
    for (guint i = 0; i < r->skips->len; i++) {
      VyreWalkSkip *s = g_ptr_array_index (r->skips, i);
      if (g_str_has_suffix (s->path, "noperm"))
        g_assert_cmpint (s->error, ==, EACCES);
    }
  }
  /* Everything else is still there. */
  g_assert_nonnull (strstr (files, "sub/deeper/c.txt"));
  g_free (skips);
  g_free (files);
  vyre_walk_result_free (r);
  g_chmod (noperm, 0755);
  gchar *cmd = g_strdup_printf ("rm -rf '%s'", noperm);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (cmd);
  g_free (noperm);
}

static void
test_root_file (void)
{
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  gchar *path = g_build_filename (root, "sub", "b.txt", NULL);
  VyreWalkResult *r = vyre_walk_tree (path, &o, NULL);
  g_assert_cmpuint (r->files->len, ==, 1);
  VyreWalkFile *f = g_ptr_array_index (r->files, 0);
  g_assert_cmpstr (f->path, ==, path);
  g_assert_cmpstr (f->rel_path, ==, "b.txt");
  g_assert_cmpuint (f->size, ==, 4095);
  vyre_walk_result_free (r);
  g_free (path);

  GError *err = NULL;
  path = g_build_filename (root, "no-such", NULL);
  g_assert_null (vyre_walk_tree (path, &o, &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, path));
  g_assert_nonnull (strstr (err->message, g_strerror (ENOENT)));
  g_clear_error (&err);
  g_free (path);
}

/* Writes a list of paths under root separated by sep; returns its path. */
static gchar *
write_list (const gchar * const *rels, char sep)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; rels[i]; i++) {
    gchar *p = *rels[i] ? g_build_filename (root, rels[i], NULL) :
        g_strdup ("");
    g_string_append (s, p);
    g_string_append_c (s, sep);
    g_free (p);
  }
  gchar *list = g_build_filename (root, "list.txt", NULL);
  g_assert_true (g_file_set_contents (list, s->str, (gssize) s->len, NULL));
  g_string_free (s, TRUE);
  return list;
}

static void
test_list_lines (void)
{
  /* Listed order kept (not sorted); the FIFO would block an open. */
  const gchar *rels[] = { "x.png", "a.txt", "", "fifo", "sub", "gone",
    "big.bin", "a.txt", NULL
  };
  gchar *list = write_list (rels, '\n');
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  o.max_file_size = 4096;
  GError *err = NULL;
  VyreWalkResult *r = vyre_walk_files_from (list, &o, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (r->files->len, ==, 3);
  const gchar *want[] = { "x.png", "a.txt", "a.txt" };
  for (guint i = 0; i < 3; i++) {
    VyreWalkFile *f = g_ptr_array_index (r->files, i);
    gchar *p = g_build_filename (root, want[i], NULL);
    g_assert_cmpstr (f->path, ==, p);
    g_assert_cmpstr (f->rel_path, ==, p);
    g_free (p);
  }
  gchar *skips = skips_text (r);
  g_assert_cmpstr (skips, ==, "big.bin=larger than max-file-size|"
      "fifo=not a regular file (FIFO, socket or device)|"
      "gone=cannot be read|sub=directory in a file list");
  for (guint i = 0; i < r->skips->len; i++) {
    VyreWalkSkip *s = g_ptr_array_index (r->skips, i);
    if (g_str_has_suffix (s->path, "gone"))
      g_assert_cmpint (s->error, ==, ENOENT);
  }
  g_free (skips);
  vyre_walk_result_free (r);
  g_unlink (list);
  g_free (list);

  g_assert_null (vyre_walk_files_from ("/nonexistent/list", &o, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
}

static void
test_list_nul (void)
{
  put ("two\nlines", 2);
  const gchar *rels[] = { "two\nlines", "sub/b.txt", NULL };
  gchar *list = write_list (rels, '\0');
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  VyreWalkResult *r = vyre_walk_files_from (list, &o, NULL);
  g_assert_cmpuint (r->files->len, ==, 2);
  VyreWalkFile *f = g_ptr_array_index (r->files, 0);
  g_assert_true (g_str_has_suffix (f->path, "/two\nlines"));
  g_assert_cmpuint (f->size, ==, 2);
  f = g_ptr_array_index (r->files, 1);
  g_assert_true (g_str_has_suffix (f->path, "/sub/b.txt"));
  g_assert_cmpuint (r->skips->len, ==, 0);
  vyre_walk_result_free (r);
  g_unlink (list);
  g_free (list);
  gchar *p = g_build_filename (root, "two\nlines", NULL);
  g_unlink (p);
  g_free (p);
}

static void
test_ahead (void)
{
  gchar *globs[] = { g_strdup ("*.png"), g_strdup ("vendor/*"), NULL };
  VyreWalkOptions o;
  vyre_walk_options_init (&o);
  o.exclude = (const gchar * const *) globs;
  o.follow_symlinks = TRUE;
  VyreWalkAhead *wa = vyre_walk_ahead_begin (root, &o);
  g_assert_nonnull (wa);
  /* The globs were copied: the caller's may go. */
  g_free (globs[1]);
  globs[1] = g_strdup ("sub/*");
  g_assert_false (vyre_walk_ahead_is_for (wa, root, &o));
  g_free (globs[1]);
  globs[1] = g_strdup ("vendor/*");
  g_assert_true (vyre_walk_ahead_is_for (wa, root, &o));
  VyreWalkOptions other = o;
  other.follow_symlinks = FALSE;
  g_assert_false (vyre_walk_ahead_is_for (wa, root, &other));
  other = o;
  other.exclude = NULL;
  g_assert_false (vyre_walk_ahead_is_for (wa, root, &other));
  other = o;
  other.max_file_size = 1;
  g_assert_false (vyre_walk_ahead_is_for (wa, root, &other));
  g_assert_false (vyre_walk_ahead_is_for (wa, "/", &o));

  GError *err = NULL;
  VyreWalkResult *got = vyre_walk_ahead_finish (wa, &err);
  g_assert_no_error (err);
  VyreWalkResult *want = vyre_walk_tree (root, &o, NULL);
  gchar *gf = files_text (got), *wf = files_text (want);
  gchar *gs = skips_text (got), *ws = skips_text (want);
  g_assert_cmpstr (gf, ==, wf);
  g_assert_cmpstr (gs, ==, ws);
  g_assert_nonnull (strstr (gs, "x.png=excluded"));
  g_free (gf);
  g_free (wf);
  g_free (gs);
  g_free (ws);
  vyre_walk_result_free (got);
  vyre_walk_result_free (want);

  /* An error comes back from the thread. */
  gchar *missing = g_build_filename (root, "no-such-dir", NULL);
  wa = vyre_walk_ahead_begin (missing, &o);
  g_assert_null (vyre_walk_ahead_finish (wa, &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "no-such-dir"));
  g_clear_error (&err);
  g_free (missing);

  /* Freed at once: stopped and joined (leak checkers see the rest). */
  for (int i = 0; i < 20; i++)
    vyre_walk_ahead_free (vyre_walk_ahead_begin (root, &o));
  g_free (globs[0]);
  g_free (globs[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  make_tree ();
  g_test_add_func ("/tree/default", test_default);
  g_test_add_func ("/tree/follow", test_follow);
  g_test_add_func ("/tree/include_vcs", test_include_vcs);
  g_test_add_func ("/tree/exclude", test_exclude);
  g_test_add_func ("/tree/max_size", test_max_size);
  g_test_add_func ("/tree/not_recursive", test_not_recursive);
  g_test_add_func ("/tree/unreadable", test_unreadable);
  g_test_add_func ("/tree/root_file", test_root_file);
  g_test_add_func ("/tree/ahead", test_ahead);
  g_test_add_func ("/list/lines", test_list_lines);
  g_test_add_func ("/list/nul", test_list_nul);
  int ret = g_test_run ();
  remove_tree ();
  return ret;
}
