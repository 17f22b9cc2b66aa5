/*
 * test_vyreurisrc_tree.c - vyreurisrc reading a directory tree or a list
 * of files, through gst_parse_launch pipelines, with a probe on its src
 * pad recording every buffer and event in order.
 *
 *  tree_filesink    `vyreurisrc location=DIR ! filesink` writes exactly the
 *                   concatenation of the files in the walk's documented
 *                   order (nested directories, a hidden file, empty,
 *                   1-byte, 4,095- and 4,097-byte files, a file of several
 *                   blocks); one BYTES segment, offsets running across
 *                   files, DISCONT exactly on each file's first buffer, a
 *                   location tag before it, GstVyreFileMeta (index, path,
 *                   offset in the file, size) on every buffer, no buffer
 *                   holding two files; the FIFO, the link loop and .git
 *                   named with their reasons; io-stats counts; the same
 *                   output twice
 *  tree_options     exclude (set as gst-launch text), max-file-size,
 *                   include-vcs, follow-symlinks (the loop walked once),
 *                   recursive=false: each output the expected files
 *  tree_ready       exclude set while in READY (after the walk began)
 *                   still applies; READY -> NULL stops a walk
 *  tree_trouble     a read error (injected) skips the rest of that file
 *                   and the scan goes on; strict=true makes it an error,
 *                   and a FIFO in the tree too; a file deleted between
 *                   listing and opening, and one that shrinks while read
 *                   (both done from the probe, in the streaming thread,
 *                   at a point the source's order makes certain), each
 *                   named with its reason
 *  single_file_meta one file: GstVyreFileMeta on every buffer, no tags
 *  files_from       a list with one path a line, NUL-separated, and on
 *                   standard input: the list's order, a missing path and a
 *                   directory named
 *  skip_binary      a NUL byte in the first block skips the file; one
 *                   after the first block does not
 *  scan_boundary    vyreurisrc location=DIR ! vyrescan ! vyresink: the
 *                   matches equal the sum of per-file counts, a pattern
 *                   split across two files is not found (needs a Vulkan
 *                   device; its own meson test, suite vulkan)
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "gstvyrefilemeta.h"
#include "leak-check.h"
#include "vyre-device.h"

/* A guard against a hang, never a timing: the pipelines here take
 * milliseconds. */
#define BUS_TIMEOUT (120 * GST_SECOND)

static gchar *root;             /* the generated tree */
static gchar *work;             /* outputs and lists, outside the tree */

/* ------------------------------------------------------------------ */
/* The tree                                                            */

typedef struct
{
  const gchar *rel;
  gsize len;
} TreeFile;

/* Every regular file of the tree, in the order the walk documents:
 * relative paths compared byte by byte ("a-b" before "a/...", '-' < '/'). */
static const TreeFile tree_files[] = {
  {".env", 100},
  {"a-b", 4095},
  {"a/b/c/deep", 4097},
  {"a/one", 1},
  {"big.bin", 200 * 1024 + 13},
  {"empty", 0},
  {"z/zz", 3},
};

#define BIG_INDEX 4

/* The bytes of file i: a pattern of its own, so a misplaced byte shows. */
static guint8 *
file_bytes (guint i, gsize len)
{
  guint8 *d = g_malloc (len + 1);
  for (gsize k = 0; k < len; k++)
    d[k] = (guint8) ('A' + (i * 7 + k * 13 + k / 251) % 26);
  return d;
}

static gchar *
tree_path (const gchar * rel)
{
  return g_build_filename (root, rel, NULL);
}

/* (g_assert: also called before the suite runs, where check's fail_unless
 * cannot report.) */
static void
put_file (guint i)
{
  gchar *path = tree_path (tree_files[i].rel);
  gchar *dir = g_path_get_dirname (path);
  g_assert_true (g_mkdir_with_parents (dir, 0755) == 0);
  guint8 *d = file_bytes (i, tree_files[i].len);
  g_assert_true (g_file_set_contents (path, (gchar *) d,
          (gssize) tree_files[i].len, NULL));
  g_free (d);
  g_free (dir);
  g_free (path);
}

static void
make_tree (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (tree_files); i++)
    put_file (i);
  gchar *p = tree_path (".git");
  g_assert_true (g_mkdir (p, 0755) == 0);
  g_free (p);
  p = tree_path (".git/config");
  g_assert_true (g_file_set_contents (p, "[core]\n", -1, NULL));
  g_free (p);
  p = tree_path ("fifo");
  g_assert_true (mkfifo (p, 0600) == 0);
  g_free (p);
  p = tree_path ("loop");
  g_assert_true (symlink (".", p) == 0);
  g_free (p);
}

/* The concatenation of the files named by index (-1 ends the list); the
 * file at cut_index only up to cut_len bytes. */
static GByteArray *
concat (const gint * indexes, gint cut_index, gsize cut_len)
{
  GByteArray *all = g_byte_array_new ();
  for (const gint * i = indexes; *i >= 0; i++) {
    gsize len = tree_files[*i].len;
    guint8 *d = file_bytes ((guint) * i, len);
    if (*i == cut_index)
      len = MIN (len, cut_len);
    g_byte_array_append (all, d, (guint) len);
    g_free (d);
  }
  return all;
}

/* ------------------------------------------------------------------ */
/* Running a pipeline                                                  */

typedef void (*BufferHook) (GstBuffer * buf, gpointer data);

typedef struct
{
  GMutex lock;
  GPtrArray *items;             /* buffers and events on src's pad, in order */
  BufferHook hook;              /* called for each buffer, streaming thread */
  gpointer hook_data;
  GPtrArray *skipped;           /* GstStructure: vyre-file-skipped */
  GstStructure *summary;        /* vyre-summary, if a vyresink posted one */
  gchar *error;                 /* the first error's texts, or NULL */
  GstStructure *stats;          /* src's io-stats at the end */
  gboolean want_tags;           /* file-tags=true: a location tag per file */
  guint lists;                  /* buffer lists seen */
  /* When set: the pipeline is set to READY first, then this is called
   * with the source, then PLAYING. */
  void (*on_ready) (GstElement * src);
} Run;

static void
record_one (Run * run, GstMiniObject * obj)
{
  if (GST_IS_BUFFER (obj) && run->hook)
    run->hook (GST_BUFFER (obj), run->hook_data);
  g_mutex_lock (&run->lock);
  g_ptr_array_add (run->items, gst_mini_object_ref (obj));
  g_mutex_unlock (&run->lock);
}

/* Buffers (also those of a buffer list, one by one) and events. */
static GstPadProbeReturn
record_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Run *run = data;
  (void) pad;
  GstMiniObject *obj = GST_PAD_PROBE_INFO_DATA (info);
  if (GST_IS_BUFFER_LIST (obj)) {
    GstBufferList *list = GST_BUFFER_LIST (obj);
    g_mutex_lock (&run->lock);
    run->lists++;
    g_mutex_unlock (&run->lock);
    for (guint i = 0; i < gst_buffer_list_length (list); i++)
      record_one (run, GST_MINI_OBJECT (gst_buffer_list_get (list, i)));
  } else {
    record_one (run, obj);
  }
  return GST_PAD_PROBE_OK;
}

static void
run_init (Run * run)
{
  memset (run, 0, sizeof *run);
  g_mutex_init (&run->lock);
  run->items = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mini_object_unref);
  run->skipped = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
}

static void
run_clear (Run * run)
{
  g_ptr_array_unref (run->items);
  g_ptr_array_unref (run->skipped);
  g_clear_pointer (&run->summary, gst_structure_free);
  g_clear_pointer (&run->stats, gst_structure_free);
  g_free (run->error);
  g_mutex_clear (&run->lock);
}

/* Runs desc (its source named "src") to EOS or an error. */
static void
run_pipeline (const gchar * desc, Run * run)
{
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  fail_unless (pipe != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "?");
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  fail_unless (src != NULL);
  GstPad *pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      record_probe, run, NULL);
  gst_object_unref (pad);
  GstBus *bus = gst_element_get_bus (pipe);
  if (run->on_ready) {
    fail_unless (gst_element_set_state (pipe, GST_STATE_READY) ==
        GST_STATE_CHANGE_SUCCESS);
    run->on_ready (src);
  }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (;;) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, BUS_TIMEOUT,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    fail_unless (m != NULL, "%s: neither EOS nor an error", desc);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (m);
      if (gst_structure_has_name (s, "vyre-file-skipped"))
        g_ptr_array_add (run->skipped, gst_structure_copy (s));
      else if (gst_structure_has_name (s, "vyre-summary"))
        run->summary = gst_structure_copy (s);
      gst_message_unref (m);
      continue;
    }
    gboolean eos = GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;
    if (!eos) {
      GError *e = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (m, &e, &dbg);
      run->error = g_strdup_printf ("%s | %s", e->message, dbg);
      gst_print ("error: %s\n", run->error);
      g_clear_error (&e);
      g_free (dbg);
    }
    gst_message_unref (m);
    break;
  }
  g_object_get (src, "io-stats", &run->stats, NULL);
  gst_element_set_state (pipe, GST_STATE_NULL);
  /* Element messages posted after the end (none expected) are dropped. */
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipe);
}

static GByteArray *
read_output (const gchar * path)
{
  gchar *data = NULL;
  gsize len = 0;
  fail_unless (g_file_get_contents (path, &data, &len, NULL), "%s", path);
  return g_byte_array_new_take ((guint8 *) data, len);
}

static void
assert_bytes_equal (GByteArray * got, GByteArray * want, const gchar * what)
{
  fail_unless_equals_uint64 (got->len, want->len);
  for (guint i = 0; i < got->len; i++)
    fail_unless (got->data[i] == want->data[i], "%s: byte %u differs", what,
        i);
}

static guint64
stats_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = G_MAXUINT64;
  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s", field);
  return v;
}

/* The skipped entry whose path ends in rel, or NULL. */
static const GstStructure *
find_skip (Run * run, const gchar * rel)
{
  gchar *want = tree_path (rel);
  const GstStructure *found = NULL;
  for (guint i = 0; i < run->skipped->len && !found; i++) {
    const GstStructure *s = g_ptr_array_index (run->skipped, i);
    if (g_strcmp0 (gst_structure_get_string (s, "path"), want) == 0)
      found = s;
  }
  g_free (want);
  return found;
}

static void
assert_skip (Run * run, const gchar * rel, const gchar * reason,
    gboolean trouble)
{
  const GstStructure *s = find_skip (run, rel);
  fail_unless (s != NULL, "%s not named as skipped", rel);
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), reason);
  gboolean t = !trouble;
  fail_unless (gst_structure_get_boolean (s, "trouble", &t));
  fail_unless_equals_int (t, trouble);
  fail_unless (gst_structure_get_string (s, "description") != NULL);
}

/* Checks the recorded stream: one BYTES segment; per file a location tag
 * when run->want_tags (none at all otherwise), then buffers whose first
 * alone is DISCONT; offsets running across files
 * and inside each; the meta naming the file; no buffer past its file's
 * end.  want: the files expected (by index, -1 ends), in order; the file
 * at cut_index ends after cut_len bytes. */
static void
check_stream (Run * run, const gint * want, gint cut_index, gsize cut_len)
{
  guint segments = 0;
  gchar *pending_tag = NULL;    /* the location tag not yet followed */
  gint file = -1;               /* position in want of the current file */
  gint index = -1;              /* its GstVyreFileMeta index */
  guint64 stream = 0, in_file = 0;
  for (guint i = 0; i < run->items->len; i++) {
    GstMiniObject *obj = g_ptr_array_index (run->items, i);
    if (GST_IS_EVENT (obj)) {
      GstEvent *ev = GST_EVENT (obj);
      if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
        const GstSegment *seg;
        gst_event_parse_segment (ev, &seg);
        fail_unless_equals_int (seg->format, GST_FORMAT_BYTES);
        fail_unless_equals_uint64 (seg->start, 0);
        segments++;
      } else if (GST_EVENT_TYPE (ev) == GST_EVENT_TAG) {
        fail_unless (run->want_tags, "a tag event without file-tags=true");
        GstTagList *tags;
        gst_event_parse_tag (ev, &tags);
        gchar *loc = NULL;
        fail_unless (gst_tag_list_get_string (tags, GST_TAG_LOCATION, &loc));
        g_free (pending_tag);
        pending_tag = loc;
      }
      continue;
    }
    GstBuffer *buf = GST_BUFFER (obj);
    gsize size = gst_buffer_get_size (buf);
    GstVyreFileMeta *meta = gst_buffer_get_vyre_file_meta (buf);
    fail_unless (meta != NULL, "buffer %u has no GstVyreFileMeta", i);
    gboolean first = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT);
    if (first) {
      /* Every file read starts with DISCONT after its tag, an empty one
       * with its one empty buffer. */
      file++;
      index++;
      in_file = 0;
      fail_unless (want[file] >= 0, "more files than expected");
      gchar *path = tree_path (tree_files[want[file]].rel);
      gchar *uri = gst_filename_to_uri (path, NULL);
      if (run->want_tags) {
        fail_unless (pending_tag != NULL, "no tag before %s", path);
        fail_unless_equals_string (pending_tag, uri);
      }
      g_clear_pointer (&pending_tag, g_free);
      g_free (uri);
      g_free (path);
    }
    fail_unless (file >= 0, "the first buffer is not DISCONT");
    const TreeFile *tf = &tree_files[want[file]];
    gchar *path = tree_path (tf->rel);
    fail_unless_equals_string (meta->path, path);
    g_free (path);
    fail_unless_equals_int (meta->file_index, index);
    fail_unless_equals_uint64 (meta->file_offset, in_file);
    fail_unless_equals_uint64 (meta->file_size, tf->len);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), stream);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), stream + size);
    gsize end = want[file] == cut_index ? MIN (cut_len, tf->len) : tf->len;
    fail_unless (in_file + size <= end, "a buffer of %s runs past its end",
        tf->rel);
    fail_unless (size > 0 || (first && tf->len == 0), "an empty buffer of %s",
        tf->rel);
    in_file += size;
    stream += size;
  }
  g_free (pending_tag);
  fail_unless_equals_int (segments, 1);
  /* Every expected file came, empty ones included. */
  guint expected = 0;
  for (const gint * w = want; *w >= 0; w++)
    expected++;
  fail_unless_equals_int (index + 1, expected);
}

/* Runs `vyreurisrc location=root <props> ! filesink` (hook, if not NULL,
 * called on each buffer) and, unless an error came, checks the file
 * written and the stream against want (see check_stream). */
static void
run_tree_hooked (Run * run, const gchar * props, const gint * want,
    gint cut_index, gsize cut_len, BufferHook hook, gpointer hook_data)
{
  gchar *out = g_build_filename (work, "out.bin", NULL);
  g_unlink (out);
  gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s %s ! "
      "filesink location=%s", root, props, out);
  run_init (run);
  run->want_tags = strstr (props, "file-tags=true") != NULL;
  run->hook = hook;
  run->hook_data = hook_data;
  run_pipeline (desc, run);
  g_free (desc);
  if (run->error == NULL) {
    GByteArray *got = read_output (out);
    GByteArray *expect = concat (want, cut_index, cut_len);
    assert_bytes_equal (got, expect, props);
    g_byte_array_unref (got);
    g_byte_array_unref (expect);
    check_stream (run, want, cut_index, cut_len);
  }
  g_free (out);
}

static void
run_tree (Run * run, const gchar * props, const gint * want,
    gint cut_index, gsize cut_len)
{
  run_tree_hooked (run, props, want, cut_index, cut_len, NULL, NULL);
}

/* ------------------------------------------------------------------ */

static const gint all_files[] = { 0, 1, 2, 3, 4, 5, 6, -1 };

GST_START_TEST (test_tree_filesink)
{
  /* Location tags made on the opener's workers (files read ahead whole)
   * and on the streaming thread (direct=true reads no file ahead). */
  const gchar *props[] = { "", "blocksize=4096 file-tags=true",
    "blocksize=65536 queue-depth=1", "io-mode=pread blocksize=4096",
    "direct=true file-tags=true"
  };
  GByteArray *first = NULL;
  for (guint p = 0; p < G_N_ELEMENTS (props); p++) {
    Run run;
    run_tree (&run, props[p], all_files, -1, 0);
    fail_unless (run.error == NULL, "%s", run.error);
    assert_skip (&run, ".git", "vcs", FALSE);
    assert_skip (&run, "fifo", "special", TRUE);
    assert_skip (&run, "loop", "symlink", FALSE);
    fail_unless_equals_int (run.skipped->len, 3);
    fail_unless_equals_uint64 (stats_u64 (run.stats, "files-scanned"), 7);
    fail_unless_equals_uint64 (stats_u64 (run.stats, "files-skipped"), 3);
    fail_unless_equals_uint64 (stats_u64 (run.stats, "stray-completions"), 0);
    /* Opened ahead, several at once: with system calls, or with
     * direct=true (cold data) through io_uring (STATX, OPENAT2, CLOSE for
     * each of the 7 files). */
    guint limit = 0, most = 0;
    fail_unless (gst_structure_get_uint (run.stats, "open-ahead-limit",
            &limit));
    fail_unless (gst_structure_get_uint (run.stats, "max-open-ahead", &most));
    fail_unless (most >= 1 && most <= limit, "%u of %u", most, limit);
    guint64 want_ops = strstr (props[p], "direct=true") ? 3 * 7 : 0;
    fail_unless_equals_uint64 (stats_u64 (run.stats, "file-ops-uring"),
        want_ops);
    /* The same bytes every time, whatever the block size or mode. */
    gchar *out = g_build_filename (work, "out.bin", NULL);
    GByteArray *got = read_output (out);
    g_free (out);
    if (first == NULL)
      first = got;
    else {
      assert_bytes_equal (got, first, props[p]);
      g_byte_array_unref (got);
    }
    run_clear (&run);
  }
  g_byte_array_unref (first);
}

GST_END_TEST;

GST_START_TEST (test_tree_options)
{
  Run run;

  /* exclude as gst-launch text: a file glob and a directory pruned. */
  const gint no_bin_no_a[] = { 0, 1, 5, 6, -1 };
  run_tree (&run, "exclude=\"<\\\"*.bin\\\",\\\"a/*\\\",\\\"fifo\\\">\"",
      no_bin_no_a, -1, 0);
  fail_unless (run.error == NULL, "%s", run.error);
  assert_skip (&run, "big.bin", "excluded", FALSE);
  assert_skip (&run, "a", "excluded", FALSE);
  assert_skip (&run, "fifo", "excluded", FALSE);
  fail_unless (find_skip (&run, "a/one") == NULL, "a/ was walked");
  run_clear (&run);

  /* max-file-size: 4,095 in, 4,097 and 200 KiB out. */
  const gint small[] = { 0, 1, 3, 5, 6, -1 };
  run_tree (&run, "max-file-size=4095", small, -1, 0);
  fail_unless (run.error == NULL, "%s", run.error);
  assert_skip (&run, "a/b/c/deep", "too-large", FALSE);
  assert_skip (&run, "big.bin", "too-large", FALSE);
  run_clear (&run);

  /* recursive=false: the top level's files; directories named. */
  const gint top[] = { 0, 1, 4, 5, -1 };
  run_tree (&run, "recursive=false", top, -1, 0);
  fail_unless (run.error == NULL, "%s", run.error);
  assert_skip (&run, "a", "not-recursive", FALSE);
  assert_skip (&run, "z", "not-recursive", FALSE);
  run_clear (&run);

  /* follow-symlinks=true: the link to the root is a loop, walked once. */
  run_tree (&run, "follow-symlinks=true", all_files, -1, 0);
  fail_unless (run.error == NULL, "%s", run.error);
  assert_skip (&run, "loop", "loop", FALSE);
  run_clear (&run);

  /* include-vcs=true: .git/config comes between .env and a-b.  Not one of
   * tree_files: checked on the output alone. */
  gchar *out = g_build_filename (work, "out.bin", NULL);
  gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s "
      "include-vcs=true ! filesink location=%s", root, out);
  run_init (&run);
  run_pipeline (desc, &run);
  fail_unless (run.error == NULL, "%s", run.error);
  fail_unless (find_skip (&run, ".git") == NULL);
  GByteArray *got = read_output (out);
  const gint env_only[] = { 0, -1 }, rest[] = { 1, 2, 3, 4, 5, 6, -1 };
  GByteArray *want = concat (env_only, -1, 0);
  g_byte_array_append (want, (const guint8 *) "[core]\n", 7);
  GByteArray *tail = concat (rest, -1, 0);
  g_byte_array_append (want, tail->data, tail->len);
  assert_bytes_equal (got, want, "include-vcs");
  fail_unless_equals_uint64 (stats_u64 (run.stats, "files-scanned"), 8);
  g_byte_array_unref (tail);
  g_byte_array_unref (want);
  g_byte_array_unref (got);
  run_clear (&run);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

static void
exclude_bin (GstElement * src)
{
  gst_util_set_object_arg (G_OBJECT (src), "exclude", "<\"*.bin\">");
}

/* The walk begins when going to READY; settings changed in READY still
 * count (the walk begun is dropped), and a source that goes back to NULL
 * from READY stops its walk. */
GST_START_TEST (test_tree_ready)
{
  Run run;
  const gint no_bin[] = { 0, 1, 2, 3, 5, 6, -1 };
  gchar *out = g_build_filename (work, "out.bin", NULL);
  gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s ! "
      "filesink location=%s", root, out);
  run_init (&run);
  run.on_ready = exclude_bin;
  run_pipeline (desc, &run);
  fail_unless (run.error == NULL, "%s", run.error);
  GByteArray *got = read_output (out);
  GByteArray *want = concat (no_bin, -1, 0);
  assert_bytes_equal (got, want, "exclude set in READY");
  assert_skip (&run, "big.bin", "excluded", FALSE);
  g_byte_array_unref (got);
  g_byte_array_unref (want);
  run_clear (&run);

  for (int i = 0; i < 10; i++) {
    GstElement *src = gst_element_factory_make ("vyreurisrc", NULL);
    g_object_set (src, "location", root, NULL);
    fail_unless (gst_element_set_state (src, GST_STATE_READY) ==
        GST_STATE_CHANGE_SUCCESS);
    fail_unless (gst_element_set_state (src, GST_STATE_NULL) ==
        GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (src);
  }
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

/* Hooks run in the streaming thread, on the buffer about to be pushed:
 * the source opens the next file only when the current one is done, so
 * what they do to a later file happens before that file is opened, and
 * what they do to the current one after its first reads only. */
typedef struct
{
  const gchar *when_rel;        /* on the first buffer of this file */
  const gchar *target_rel;      /* do this to that file */
  goffset truncate_to;          /* -1: delete it */
  gboolean done;
} FileHook;

static void
file_hook (GstBuffer * buf, gpointer data)
{
  FileHook *fh = data;
  GstVyreFileMeta *meta = gst_buffer_get_vyre_file_meta (buf);
  if (fh->done || meta == NULL || meta->file_offset != 0 ||
      !g_str_has_suffix (meta->path, fh->when_rel))
    return;
  gchar *target = tree_path (fh->target_rel);
  if (fh->truncate_to < 0)
    fail_unless (g_unlink (target) == 0);
  else
    fail_unless (truncate (target, fh->truncate_to) == 0);
  g_free (target);
  fh->done = TRUE;
}

GST_START_TEST (test_tree_trouble)
{
  Run run;
  gsize big_base = 0;
  for (guint i = 0; i < BIG_INDEX; i++)
    big_base += tree_files[i].len;

  /* A read error inside big.bin's second block (injected: a healthy disk
   * gives none): its first block is in the stream, the rest is skipped and
   * named, the files after it follow. */
  gchar *fault = g_strdup_printf ("read=EIO@%" G_GSIZE_FORMAT,
      big_base + 70000);
  g_setenv ("VYRE_URISRC_FORCE", fault, TRUE);
  run_tree (&run, "blocksize=65536", all_files, BIG_INDEX, 65536);
  fail_unless (run.error == NULL, "%s", run.error);
  const GstStructure *s = find_skip (&run, "big.bin");
  assert_skip (&run, "big.bin", "read-error", TRUE);
  gint e = 0;
  fail_unless (gst_structure_get_int (s, "errno", &e));
  fail_unless_equals_int (e, EIO);
  fail_unless_equals_uint64 (stats_u64 (s, "bytes-read"), 65536);
  fail_unless (strstr (gst_structure_get_string (s, "description"),
          g_strerror (EIO)) != NULL);
  fail_unless_equals_uint64 (stats_u64 (run.stats, "files-scanned"), 6);
  fail_unless_equals_uint64 (stats_u64 (run.stats, "files-skipped"), 4);
  run_clear (&run);

  /* strict=true: the same read error stops the pipeline with an error
   * naming the file (the FIFO excluded: it would stop it first). */
  run_tree (&run, "blocksize=65536 strict=true exclude=\"<\\\"fifo\\\">\"",
      all_files, BIG_INDEX, 65536);
  fail_unless (run.error != NULL);
  fail_unless (strstr (run.error, "big.bin") && strstr (run.error,
          g_strerror (EIO)) && strstr (run.error, "Fix:"), "%s", run.error);
  run_clear (&run);
  g_unsetenv ("VYRE_URISRC_FORCE");
  g_free (fault);

  /* strict=true and a FIFO in the tree: an error before any byte. */
  run_tree (&run, "strict=true", all_files, -1, 0);
  fail_unless (run.error != NULL);
  fail_unless (strstr (run.error, "fifo") && strstr (run.error, "FIFO") &&
      strstr (run.error, "Fix:"), "%s", run.error);
  run_clear (&run);

  /* a/one deleted once .env, the first file, is being pushed: listed,
   * gone when its turn comes.  Files are opened ahead of the one being
   * read: at most one here (open-ahead=1: a-b, when .env is taken), so
   * a/one, two files on, is certainly not open yet. */
  g_setenv ("VYRE_URISRC_FORCE", "open-ahead=1", TRUE);
  FileHook del = { ".env", "a/one", -1, FALSE };
  const gint without_one[] = { 0, 1, 2, 4, 5, 6, -1 };
  /* file-tags=true: one file per push (files read ahead would otherwise
   * go out together, a/one with .env, before the hook ran). */
  run_tree_hooked (&run, "file-tags=true", without_one, -1, 0, file_hook,
      &del);
  g_unsetenv ("VYRE_URISRC_FORCE");
  fail_unless (del.done);
  fail_unless (run.error == NULL, "%s", run.error);
  assert_skip (&run, "a/one", "vanished", TRUE);
  s = find_skip (&run, "a/one");
  fail_unless (gst_structure_get_int (s, "errno", &e));
  fail_unless_equals_int (e, ENOENT);
  fail_unless_equals_uint64 (stats_u64 (run.stats, "files-scanned"), 6);
  run_clear (&run);
  put_file (3);

  /* big.bin (200 KiB) truncated to 150 KiB when its first 64 KiB block is
   * pushed.  With queue-depth=1 the one read in flight then is the second
   * block (64..128 KiB, inside the new size either way); the third is
   * issued after the hook returns and meets the new end: the first
   * 128 KiB are in the stream, the file is named as shrunk. */
  FileHook shrink = { "big.bin", "big.bin", 150 * 1024, FALSE };
  run_tree_hooked (&run, "blocksize=65536 queue-depth=1", all_files,
      BIG_INDEX, 128 * 1024, file_hook, &shrink);
  fail_unless (shrink.done);
  fail_unless (run.error == NULL, "%s", run.error);
  assert_skip (&run, "big.bin", "shrank", TRUE);
  s = find_skip (&run, "big.bin");
  fail_unless_equals_uint64 (stats_u64 (s, "bytes-read"), 128 * 1024);
  fail_unless (strstr (gst_structure_get_string (s, "description"),
          "153600") != NULL);
  run_clear (&run);
  put_file (BIG_INDEX);
}

GST_END_TEST;

/* Small files read ahead whole go downstream together, one buffer each in
 * a GstBufferList, unless file-tags asks for a tag between them.  The
 * first push waits a second (the probe's hook), so that the opener's
 * workers have the next files ready when the source gathers them. */
static void
wait_once (GstBuffer * buf, gpointer data)
{
  gboolean *waited = data;
  (void) buf;
  if (!*waited) {
    *waited = TRUE;
    g_usleep (G_USEC_PER_SEC);
  }
}

GST_START_TEST (test_small_files_as_lists)
{
  const guint n = 100;
  gchar *dir = g_build_filename (work, "small", NULL);
  fail_unless (g_mkdir (dir, 0755) == 0);
  GString *all = g_string_new (NULL);
  for (guint i = 0; i < n; i++) {
    gchar name[32], text[32];
    g_snprintf (name, sizeof name, "f%03u", i);
    g_snprintf (text, sizeof text, "file %u;", i);
    gchar *path = g_build_filename (dir, name, NULL);
    fail_unless (g_file_set_contents (path, text, -1, NULL));
    g_free (path);
    g_string_append (all, text);
  }
  gchar *out = g_build_filename (work, "small.bin", NULL);
  for (guint tags = 0; tags < 2; tags++) {
    gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s "
        "file-tags=%s ! filesink location=%s", dir, tags ? "true" : "false",
        out);
    Run run;
    run_init (&run);
    gboolean waited = FALSE;
    run.hook = wait_once;
    run.hook_data = &waited;
    run_pipeline (desc, &run);
    fail_unless (run.error == NULL, "%s", run.error);
    GByteArray *got = read_output (out);
    fail_unless_equals_int (got->len, all->len);
    fail_unless (memcmp (got->data, all->str, all->len) == 0);
    g_byte_array_unref (got);
    /* Every file one DISCONT buffer with its meta, in order, lists or not. */
    guint buffers = 0, tag_events = 0;
    for (guint i = 0; i < run.items->len; i++) {
      GstMiniObject *obj = g_ptr_array_index (run.items, i);
      if (GST_IS_EVENT (obj)) {
        tag_events += GST_EVENT_TYPE (obj) == GST_EVENT_TAG;
        continue;
      }
      GstBuffer *buf = GST_BUFFER (obj);
      GstVyreFileMeta *meta = gst_buffer_get_vyre_file_meta (buf);
      fail_unless (meta != NULL);
      fail_unless_equals_int (meta->file_index, buffers);
      fail_unless_equals_uint64 (meta->file_offset, 0);
      fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
      buffers++;
    }
    fail_unless_equals_int (buffers, n);
    fail_unless_equals_uint64 (stats_u64 (run.stats, "files-scanned"), n);
    if (tags) {
      fail_unless_equals_int (tag_events, n);
      fail_unless_equals_int (run.lists, 0);
    } else {
      fail_unless_equals_int (tag_events, 0);
      fail_unless (run.lists > 0, "no buffer list in %u files", n);
    }
    run_clear (&run);
    g_free (desc);
  }
  g_string_free (all, TRUE);
  g_free (out);
  g_free (dir);
}

GST_END_TEST;

/* One file, as before: every buffer carries the meta too (index 0, the
 * offset in the file is the stream offset); no tag events are added. */
GST_START_TEST (test_single_file_meta)
{
  gchar *path = tree_path ("a/b/c/deep");
  gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s "
      "blocksize=1000 ! fakesink", path);
  Run run;
  run_init (&run);
  run_pipeline (desc, &run);
  fail_unless (run.error == NULL, "%s", run.error);
  guint64 pos = 0;
  for (guint i = 0; i < run.items->len; i++) {
    GstMiniObject *obj = g_ptr_array_index (run.items, i);
    if (GST_IS_EVENT (obj)) {
      fail_if (GST_EVENT_TYPE (obj) == GST_EVENT_TAG);
      continue;
    }
    GstBuffer *buf = GST_BUFFER (obj);
    GstVyreFileMeta *meta = gst_buffer_get_vyre_file_meta (buf);
    fail_unless (meta != NULL);
    fail_unless_equals_string (meta->path, path);
    fail_unless_equals_int (meta->file_index, 0);
    fail_unless_equals_uint64 (meta->file_offset, pos);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), pos);
    fail_unless_equals_uint64 (meta->file_size, 4097);
    pos += gst_buffer_get_size (buf);
  }
  fail_unless_equals_uint64 (pos, 4097);
  fail_unless_equals_uint64 (stats_u64 (run.stats, "files-scanned"), 0);
  run_clear (&run);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Lists of files                                                      */

/* Writes a list of tree paths (NULL ends; "" is a path that does not
 * exist) separated by sep, and returns its path. */
static gchar *
write_list (const gchar * const *rels, char sep)
{
  GString *text = g_string_new (NULL);
  for (const gchar * const *r = rels; *r; r++) {
    gchar *p = tree_path (**r ? *r : "no-such-file");
    g_string_append (text, p);
    g_string_append_c (text, sep);
    g_free (p);
  }
  gchar *list = g_build_filename (work, sep ? "list.txt" : "list.nul", NULL);
  fail_unless (g_file_set_contents (list, text->str, (gssize) text->len,
          NULL));
  g_string_free (text, TRUE);
  return list;
}

GST_START_TEST (test_files_from)
{
  /* The list's order, not the walk's. */
  const gchar *rels[] = { "z/zz", "a-b", "", "a", ".env", "big.bin", NULL };
  const gint want[] = { 6, 1, 0, 4, -1 };
  gchar *out = g_build_filename (work, "out.bin", NULL);
  GByteArray *expect = concat (want, -1, 0);
  for (guint variant = 0; variant < 3; variant++) {
    gchar *list = write_list (rels, variant == 1 ? '\0' : '\n');
    int saved_stdin = -1;
    const gchar *from = list;
    if (variant == 2) {
      /* files-from=- reads this process's standard input. */
      saved_stdin = dup (STDIN_FILENO);
      int fd = open (list, O_RDONLY);
      fail_unless (fd >= 0 && dup2 (fd, STDIN_FILENO) == STDIN_FILENO);
      close (fd);
      from = "-";
    }
    gchar *desc = g_strdup_printf ("vyreurisrc name=src files-from=%s "
        "blocksize=4096 file-tags=true ! filesink location=%s", from, out);
    Run run;
    run_init (&run);
    run.want_tags = TRUE;
    run_pipeline (desc, &run);
    if (saved_stdin >= 0) {
      dup2 (saved_stdin, STDIN_FILENO);
      close (saved_stdin);
    }
    fail_unless (run.error == NULL, "%s", run.error);
    GByteArray *got = read_output (out);
    assert_bytes_equal (got, expect, list);
    g_byte_array_unref (got);
    check_stream (&run, want, -1, 0);
    assert_skip (&run, "no-such-file", "unreadable", TRUE);
    assert_skip (&run, "a", "directory", TRUE);
    fail_unless_equals_int (run.skipped->len, 2);
    fail_unless_equals_uint64 (stats_u64 (run.stats, "files-scanned"), 4);
    run_clear (&run);
    g_free (desc);
    g_unlink (list);
    g_free (list);
  }
  g_byte_array_unref (expect);
  g_free (out);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */

GST_START_TEST (test_skip_binary)
{
  gchar *dir = g_build_filename (work, "binary", NULL);
  fail_unless (g_mkdir (dir, 0755) == 0);
  gchar *bin = g_build_filename (dir, "bin.dat", NULL);
  gchar *late = g_build_filename (dir, "late.txt", NULL);
  gchar *text = g_build_filename (dir, "text.txt", NULL);
  fail_unless (g_file_set_contents (bin, "ab\0cd", 5, NULL));
  /* A NUL after the first 4,096-byte block: not binary by the rule. */
  gchar *late_data = g_malloc (5000);
  memset (late_data, 'x', 5000);
  late_data[4500] = '\0';
  fail_unless (g_file_set_contents (late, late_data, 5000, NULL));
  fail_unless (g_file_set_contents (text, "hello", 5, NULL));
  gchar *out = g_build_filename (work, "out.bin", NULL);

  for (int skip = 0; skip < 2; skip++) {
    gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s "
        "blocksize=4096 skip-binary=%s ! filesink location=%s", dir,
        skip ? "true" : "false", out);
    Run run;
    run_init (&run);
    run_pipeline (desc, &run);
    fail_unless (run.error == NULL, "%s", run.error);
    GByteArray *want = g_byte_array_new ();
    if (!skip)
      g_byte_array_append (want, (const guint8 *) "ab\0cd", 5);
    g_byte_array_append (want, (const guint8 *) late_data, 5000);
    g_byte_array_append (want, (const guint8 *) "hello", 5);
    GByteArray *got = read_output (out);
    assert_bytes_equal (got, want, desc);
    fail_unless_equals_int (run.skipped->len, skip ? 1 : 0);
    if (skip) {
      const GstStructure *s = g_ptr_array_index (run.skipped, 0);
      fail_unless_equals_string (gst_structure_get_string (s, "path"), bin);
      fail_unless_equals_string (gst_structure_get_string (s, "reason"),
          "binary");
    }
    g_byte_array_unref (got);
    g_byte_array_unref (want);
    run_clear (&run);
    g_free (desc);
  }
  g_free (late_data);
  g_free (out);
  g_free (bin);
  g_free (late);
  g_free (text);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Through vyrescan                                                    */

static guint64
count_occurrences (const gchar * hay, gsize len, const gchar * needle)
{
  guint64 n = 0;
  gsize nl = strlen (needle);
  for (gsize i = 0; i + nl <= len; i++)
    n += memcmp (hay + i, needle, nl) == 0;
  return n;
}

GST_START_TEST (test_scan_boundary)
{
  GError *err = NULL;
  VyreDevice *dev = vyre_device_open (-1, &err);
  if (dev == NULL) {
    gst_print ("SKIP scan_boundary: no Vulkan device: %s\n", err->message);
    g_clear_error (&err);
    return;
  }
  vyre_device_unref (dev);

  /* 1-left ends with "SEC", 2-right starts with "RET": their
   * concatenation holds SECRET, neither file does. */
  const gchar *names[] = { "1-left", "2-right", "3-both", "4-none" };
  const gchar *texts[] = { "xxxx SECRET yy SEC", "RET zz", "SECRETSECRET",
    "nothing here"
  };
  gchar *dir = g_build_filename (work, "scan", NULL);
  fail_unless (g_mkdir (dir, 0755) == 0);
  guint64 per_file = 0;
  GString *joined = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    gchar *p = g_build_filename (dir, names[i], NULL);
    fail_unless (g_file_set_contents (p, texts[i], -1, NULL));
    per_file += count_occurrences (texts[i], strlen (texts[i]), "SECRET");
    g_string_append (joined, texts[i]);
    g_free (p);
  }
  fail_unless_equals_uint64 (per_file, 3);
  fail_unless_equals_uint64 (count_occurrences (joined->str, joined->len,
          "SECRET"), 4);

  gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s ! "
      "vyrescan patterns=SECRET ! vyresink", dir);
  Run run;
  run_init (&run);
  run_pipeline (desc, &run);
  fail_unless (run.error == NULL, "%s", run.error);
  fail_unless (run.summary != NULL, "no vyre-summary");
  guint64 matches = stats_u64 (run.summary, "matches");
  gst_print ("scan_boundary: %" G_GUINT64_FORMAT " matches, per-file sum %"
      G_GUINT64_FORMAT "\n", matches, per_file);
  fail_unless_equals_uint64 (matches, per_file);
  run_clear (&run);
  g_free (desc);
  g_string_free (joined, TRUE);
  g_free (dir);
}

GST_END_TEST;

/* Counts buffers reaching the sink's pad (alone or in a list). */
static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  (void) pad;
  GstMiniObject *obj = GST_PAD_PROBE_INFO_DATA (info);
  g_atomic_int_add ((gint *) data, GST_IS_BUFFER_LIST (obj) ?
      (gint) gst_buffer_list_length (GST_BUFFER_LIST (obj)) : 1);
  return GST_PAD_PROBE_OK;
}

/* Stopping a tree scan while small files wait to share a job, or share
 * one on the GPU: set to NULL after a few files, again and again, then
 * once to EOS.  Nothing hangs, no buffer outlives its pipeline (with the
 * leaks tracer), and the run to EOS is exact. */
GST_START_TEST (test_scan_stop_mid_tree)
{
  GError *err = NULL;
  VyreDevice *dev = vyre_device_open (-1, &err);
  if (dev == NULL) {
    gst_print ("SKIP scan_stop_mid_tree: no Vulkan device: %s\n",
        err->message);
    g_clear_error (&err);
    return;
  }
  vyre_device_unref (dev);

  gchar *dir = g_build_filename (work, "stop", NULL);
  fail_unless (g_mkdir (dir, 0755) == 0);
  guint64 expected = 0;
  for (guint i = 0; i < 300; i++) {
    gchar *name = g_strdup_printf ("f%03u", i);
    gchar *p = g_build_filename (dir, name, NULL);
    /* sizes 0 .. 2 KiB, one SECRET in every third file */
    GString *t = g_string_new (NULL);
    for (guint k = 0; k < (i * 37) % 2048; k++)
      g_string_append_c (t, 'a' + (i + k) % 26);
    if (i % 3 == 0) {
      g_string_append (t, "SECRET");
      expected++;
    }
    fail_unless (g_file_set_contents (p, t->str, t->len, NULL));
    g_string_free (t, TRUE);
    g_free (p);
    g_free (name);
  }
  gchar *desc = g_strdup_printf ("vyreurisrc name=src location=%s ! "
      "vyrescan name=scan patterns=SECRET ! vyresink name=sink "
      "print-summary=false", dir);
  for (guint cycle = 0; cycle < 10; cycle++) {
    LeakCheck *lc = leak_check_begin ();
    GstElement *pipe = gst_parse_launch (desc, NULL);
    fail_unless (pipe != NULL);
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
    GstPad *pad = gst_element_get_static_pad (sink, "sink");
    gint seen = 0;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, count_probe, &seen, NULL);
    gst_element_set_state (pipe, GST_STATE_PLAYING);
    gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
    while (g_atomic_int_get (&seen) < (gint) (cycle * 20 + 1) &&
        g_get_monotonic_time () < deadline)
      g_usleep (500);
    fail_unless (gst_element_set_state (pipe, GST_STATE_NULL) ==
        GST_STATE_CHANGE_SUCCESS);
    /* Stopped, the element holds nothing of its tenant (the files it
     * held in GPU memory were dropped): the engine, which lingers, soon
     * has no tenant left (jobs still on the GPU are reclaimed first). */
    GstElement *scan = gst_bin_get_by_name (GST_BIN (pipe), "scan");
    guint tenants = G_MAXUINT;
    for (guint wait = 0; wait < 2000 && tenants != 0; wait++) {
      GstStructure *st = NULL;
      g_object_get (scan, "engine-stats", &st, NULL);
      fail_unless (st != NULL && gst_structure_get_uint (st, "tenants",
              &tenants));
      gst_structure_free (st);
      if (tenants)
        g_usleep (5000);
    }
    fail_unless_equals_int (tenants, 0);
    gst_object_unref (scan);
    gst_object_unref (pad);
    gst_object_unref (sink);
    gst_object_unref (pipe);
    gchar *alive = leak_check_alive (lc, "GstBuffer", 10000);
    fail_unless (alive == NULL, "cycle %u: outlived the pipeline: %s",
        cycle, alive);
    leak_check_end (lc);
  }
  Run run;
  run_init (&run);
  run_pipeline (desc, &run);
  fail_unless (run.error == NULL, "%s", run.error);
  fail_unless (run.summary != NULL, "no vyre-summary");
  fail_unless_equals_uint64 (stats_u64 (run.summary, "matches"), expected);
  run_clear (&run);
  g_free (desc);
  g_free (dir);
}

GST_END_TEST;

static Suite *
vyreurisrc_tree_suite (void)
{
  Suite *s = suite_create ("vyreurisrc_tree");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_tree_filesink);
  tcase_add_test (tc, test_tree_options);
  tcase_add_test (tc, test_tree_ready);
  tcase_add_test (tc, test_tree_trouble);
  tcase_add_test (tc, test_single_file_meta);
  tcase_add_test (tc, test_small_files_as_lists);
  tcase_add_test (tc, test_files_from);
  tcase_add_test (tc, test_skip_binary);
  tcase_add_test (tc, test_scan_boundary);
  tcase_add_test (tc, test_scan_stop_mid_tree);
  return s;
}

int
main (int argc, char **argv)
{
  /* Objects left alive fail the test at exit.  Not under valgrind, which
   * checks leaks itself (and counts the tracer of each forked test, which
   * never runs gst_deinit, as lost). */
  if (!RUNNING_ON_VALGRIND)
    g_setenv ("GST_TRACERS", "leaks", FALSE);
  gst_check_init (&argc, &argv);
  work = g_dir_make_tmp ("vyreurisrc-tree-XXXXXX", NULL);
  g_assert (work != NULL);
  root = g_build_filename (work, "tree", NULL);
  g_assert (g_mkdir (root, 0755) == 0);
  make_tree ();
  int ret = gst_check_run_suite (vyreurisrc_tree_suite (), "vyreurisrc_tree",
      __FILE__);
  gchar *cmd = g_strdup_printf ("rm -rf '%s'", work);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", work);
  g_free (cmd);
  g_free (root);
  g_free (work);
  return ret;
}
