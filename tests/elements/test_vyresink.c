/*
 * test_vyresink.c - vyresink reports what vyrescan found, to programs
 * (properties, bus messages in the right order) and to files (JSON report,
 * JSON Lines): files are replaced only by complete outputs, every failed
 * write is an error naming the path, and the texts people read (summary,
 * throughput) stay readable at any size and speed.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vyre-crc32.h"
#include "vyre-report.h"

static gchar *tmpdir, *sample, *patterns;
static gsize sample_len;
static guint64 expected_matches;
static guint32 expected_crc;

static void
setup (void)
{
  tmpdir = g_dir_make_tmp ("vyresink-XXXXXX", NULL);
  sample = g_build_filename (tmpdir, "sample.bin", NULL);
  patterns = g_build_filename (tmpdir, "patterns.txt", NULL);
  /* ~300 KiB of text with "needle" and "hay\nstack" planted, some across
   * the 64 KiB buffer boundaries used below. */
  GString *s = g_string_new (NULL);
  guint32 r = 12345;
  while (s->len < 300 * 1024) {
    r = r * 1103515245u + 12345u;
    if (r % 97 == 0)
      g_string_append (s, "needle");
    else if (r % 89 == 0)
      g_string_append (s, "hay\nstack");
    else
      g_string_append_c (s, "abcdefgh "[(r >> 16) % 9]);
  }
  sample_len = s->len;
  g_file_set_contents (sample, s->str, s->len, NULL);
  expected_matches = 0;
  for (const gchar * p = s->str; (p = strstr (p, "needle")); p++)
    expected_matches++;
  for (const gchar * p = s->str; (p = strstr (p, "hay\nstack")); p++)
    expected_matches++;
  expected_crc = vyre_crc32_update (0, (const guint8 *) s->str, s->len);
  g_string_free (s, TRUE);
  g_file_set_contents (patterns, "needle\nhay\\nstack\n", -1, NULL);
}

static void
teardown (void)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *n;
  while (d && (n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (tmpdir, n, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  g_free (sample);
  g_free (patterns);
}

/* The directory holds no temporary outputs (".NAME.XXXXXX"). */
static void
assert_no_temporary_files (void)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *n;
  fail_unless (d != NULL);
  while ((n = g_dir_read_name (d)))
    fail_if (n[0] == '.', "temporary file left behind: %s", n);
  g_dir_close (d);
}

/* Parse a JSON object with json-glib, failing on a duplicate key in any
 * object (json-glib itself would keep the last one silently). */
static void
on_member (JsonParser * parser, JsonObject * object, const gchar * member,
    gpointer user_data)
{
  GHashTable *seen = user_data;
  gchar *key = g_strdup_printf ("%p/%s", (gpointer) object, member);
  fail_if (g_hash_table_contains (seen, key), "duplicate key \"%s\"",
      member);
  g_hash_table_add (seen, key);
  (void) parser;
}

static JsonObject *
parse_json_object (const gchar * text)
{
  JsonParser *parser = json_parser_new ();
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  g_signal_connect (parser, "object-member", G_CALLBACK (on_member), seen);
  GError *err = NULL;
  fail_unless (json_parser_load_from_data (parser, text, -1, &err),
      "not JSON: %s\n%s", err ? err->message : "?", text);
  JsonNode *root = json_parser_get_root (parser);
  fail_unless (JSON_NODE_HOLDS_OBJECT (root));
  JsonObject *o = json_object_ref (json_node_get_object (root));
  g_hash_table_unref (seen);
  g_object_unref (parser);
  return o;
}

static JsonObject *
load_json_object (const gchar * path)
{
  gchar *text = NULL;
  fail_unless (g_file_get_contents (path, &text, NULL, NULL), "no %s", path);
  JsonObject *o = parse_json_object (text);
  g_free (text);
  return o;
}

static gchar *
read_text (const gchar * path)
{
  gchar *text = NULL;
  fail_unless (g_file_get_contents (path, &text, NULL, NULL), "no %s", path);
  return text;
}

/* Play until EOS or an error.  Returns the error (NULL at EOS), its debug
 * text in *debug. */
static GError *
run_to_end (GstElement * p, gchar ** debug)
{
  GstBus *bus = gst_element_get_bus (p);
  GError *err = NULL;
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (m != NULL, "neither EOS nor an error within 120 s");
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
    gst_message_parse_error (m, &err, debug);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  return err;
}

static GstElement *
make_pipeline (const gchar * sink_props)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" blocksize=65536 ! "
      "vyrescan patterns-file=\"%s\" epoch-buffers=2 ! vyresink name=sink "
      "print-summary=false message-interval=0 %s", sample, patterns,
      sink_props);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  fail_unless (p != NULL, "%s", err ? err->message : "?");
  return p;
}

GST_START_TEST (test_report_and_messages)
{
  gchar *report = g_build_filename (tmpdir, "report.json", NULL);
  gchar *matches = g_build_filename (tmpdir, "matches.jsonl", NULL);
  gchar *props = g_strdup_printf ("report-location=\"%s\" "
      "matches-location=\"%s\"", report, matches);
  GstElement *p = make_pipeline (props);
  GstBus *bus = gst_element_get_bus (p);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  gboolean summary_seen = FALSE, eos_seen = FALSE;
  guint epochs = 0, progress = 0, last_epoch = 0;
  while (!eos_seen) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (m != NULL, "no EOS within 60 s");
    fail_if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR, "pipeline error");
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
      fail_unless (summary_seen, "vyre-summary must come before EOS");
      eos_seen = TRUE;
    } else {
      const GstStructure *s = gst_message_get_structure (m);
      if (gst_structure_has_name (s, "vyre-epoch")) {
        guint e;
        gst_structure_get_uint (s, "epoch", &e);
        fail_unless_equals_int (e, last_epoch + 1);
        last_epoch = e;
        epochs++;
      } else if (gst_structure_has_name (s, "vyre-progress")) {
        progress++;
      } else if (gst_structure_has_name (s, "vyre-summary")) {
        guint64 m_, bytes;
        fail_unless (gst_structure_get_uint64 (s, "matches", &m_));
        fail_unless (gst_structure_get_uint64 (s, "bytes", &bytes));
        fail_unless_equals_uint64 (m_, expected_matches);
        fail_unless_equals_uint64 (bytes, sample_len);
        gchar crc[9];
        g_snprintf (crc, sizeof crc, "%08x", expected_crc);
        fail_unless_equals_string (gst_structure_get_string (s, "crc32"), crc);
        summary_seen = TRUE;
      }
    }
    gst_message_unref (m);
  }
  /* 5 buffers of 64 KiB, fences every 2 buffers and at EOS: 3 epochs. */
  fail_unless_equals_int (epochs, (sample_len + 65535) / 65536 / 2 +
      ((sample_len + 65535) / 65536 % 2 ? 1 : 0));
  fail_unless (progress >= 1);

  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  guint64 completed, bytes, nm, dropped;
  guint epoch;
  g_object_get (sink, "completed", &completed, "bytes", &bytes, "matches",
      &nm, "dropped-matches", &dropped, "epoch", &epoch, NULL);
  fail_unless_equals_uint64 (completed, (sample_len + 65535) / 65536);
  fail_unless_equals_uint64 (bytes, sample_len);
  fail_unless_equals_uint64 (nm, expected_matches);
  fail_unless_equals_uint64 (dropped, 0);
  fail_unless_equals_int (epoch, last_epoch);
  GstStructure *summary = NULL;
  g_object_get (sink, "summary", &summary, NULL);
  fail_unless (summary != NULL);
  fail_unless (gst_structure_has_field (summary, "histogram"));
  gst_structure_free (summary);
  gst_object_unref (sink);
  gst_element_set_state (p, GST_STATE_NULL);

  /* The report parses, has every documented key and the right numbers. */
  JsonObject *o = load_json_object (report);
  const gchar *keys[] = { "bytes", "buffers", "epochs", "matches",
    "dropped_matches", "pattern_counts", "crc32", "histogram",
    "entropy_bits_per_byte", "startup_s", "elapsed_s", "gbps", "throughput",
    "device"
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    fail_unless (json_object_has_member (o, keys[i]), "report lacks %s",
        keys[i]);
  fail_unless_equals_uint64 (json_object_get_int_member (o, "matches"),
      expected_matches);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "histogram")), 256);
  /* the non-printable pattern is escaped as in the patterns file */
  JsonObject *counts = json_object_get_object_member (o, "pattern_counts");
  fail_unless (json_object_has_member (counts, "hay\\nstack"));
  fail_unless (json_object_has_member (counts, "needle"));
  json_object_unref (o);

  /* JSON Lines: one per match, offsets non-decreasing, each a real match. */
  gchar *lines = NULL, *data = NULL;
  gsize dlen;
  fail_unless (g_file_get_contents (matches, &lines, NULL, NULL));
  fail_unless (g_file_get_contents (sample, &data, &dlen, NULL));
  gchar **v = g_strsplit (lines, "\n", -1);
  guint64 n = 0, prev = 0;
  JsonParser *parser = json_parser_new ();
  for (guint i = 0; v[i] && *v[i]; i++, n++) {
    fail_unless (json_parser_load_from_data (parser, v[i], -1, NULL),
        "line %u is not JSON: %s", i, v[i]);
    JsonObject *line = json_node_get_object (json_parser_get_root (parser));
    guint64 off = json_object_get_int_member (line, "offset");
    fail_unless (off >= prev);
    prev = off;
    gint64 id = json_object_get_int_member (line, "pattern_id");
    const gchar *lit = id == 0 ? "needle" : "hay\nstack";
    fail_unless_equals_string (json_object_get_string_member (line,
            "pattern"), id == 0 ? "needle" : "hay\\nstack");
    fail_unless (off + strlen (lit) <= dlen && memcmp (data + off, lit,
            strlen (lit)) == 0, "line %u is not a match", i);
  }
  g_object_unref (parser);
  fail_unless_equals_uint64 (n, expected_matches);
  g_strfreev (v);
  g_free (lines);
  g_free (data);
  assert_no_temporary_files ();

  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (props);
  g_free (report);
  g_free (matches);
}

GST_END_TEST;

/* A report path that cannot be written fails READY->PAUSED, naming it. */
GST_START_TEST (test_unwritable_report_fails_at_start)
{
  GstElement *p =
      make_pipeline ("report-location=/nonexistent-dir/report.json");
  GstBus *bus = gst_element_get_bus (p);
  GstStateChangeReturn ret = gst_element_set_state (p, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (p, NULL, NULL, 30 * GST_SECOND);
  fail_unless_equals_int (ret, GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND,
      GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  GError *err = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &err, &dbg);
  fail_unless (strstr (err->message, "/nonexistent-dir/report.json") != NULL,
      "%s", err->message);
  fail_unless (strstr (dbg, "Fix") != NULL);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
}

GST_END_TEST;

/* A buffer without scan results (no vyrescan upstream) is an error with a
 * Fix, not a crash or silent zero. */
GST_START_TEST (test_without_vyrescan_errors)
{
  GstHarness *h = gst_harness_new ("vyresink");
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              16, NULL)), GST_FLOW_ERROR);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* An output that cannot be written during the run or at EOS (/dev/full)
 * is an element error naming the path, the reason and a Fix: nothing is
 * lost silently.  A failed matches file also keeps the earlier report. */
static void
check_write_error (const gchar * props, const gchar * report)
{
  GstElement *p = make_pipeline (props);
  gchar *dbg = NULL;
  GError *err = run_to_end (p, &dbg);
  fail_unless (err != NULL, "%s: the run ended without an error", props);
  fail_unless (strstr (err->message, "/dev/full") != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, g_strerror (ENOSPC)) != NULL, "%s",
      err->message);
  fail_unless (strstr (dbg, "Fix:") != NULL, "%s", dbg);
  g_error_free (err);
  g_free (dbg);
  gst_object_unref (p);
  if (report) {
    gchar *text = read_text (report);
    fail_unless_equals_string (text, "earlier report\n");
    g_free (text);
  }
  assert_no_temporary_files ();
}

GST_START_TEST (test_write_errors_name_the_path)
{
  gchar *report = g_build_filename (tmpdir, "report.json", NULL);
  fail_unless (g_file_set_contents (report, "earlier report\n", -1, NULL));
  check_write_error ("report-location=/dev/full", NULL);
  gchar *props = g_strdup_printf ("matches-location=/dev/full "
      "report-location=\"%s\"", report);
  check_write_error (props, report);
  g_free (props);
  g_free (report);
}

GST_END_TEST;

/* A run stopped before EOS (Ctrl-C in gst-launch-1.0: the pipeline goes
 * to NULL without EOS) leaves the earlier outputs as they were, creates
 * none where there was none, and leaves no temporary file.  fdsrc on a
 * pipe kept open never reaches EOS, so the stop always comes first. */
GST_START_TEST (test_stop_before_eos_keeps_earlier_outputs)
{
  gchar *report = g_build_filename (tmpdir, "report.json", NULL);
  gchar *matches = g_build_filename (tmpdir, "matches.jsonl", NULL);
  gchar *fresh = g_build_filename (tmpdir, "fresh.json", NULL);
  fail_unless (g_file_set_contents (report, "earlier report\n", -1, NULL));
  fail_unless (g_file_set_contents (matches, "earlier matches\n", -1, NULL));
  gint fds[2];
  fail_unless (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  const gchar chunk[] = "a needle in the hay\n";
  for (guint round = 0; round < 2; round++) {
    /* what this round's fdsrc reads (the pipe holds 64 KiB) */
    for (guint i = 0; i < 1000; i++)
      fail_unless (write (fds[1], chunk, sizeof chunk - 1) ==
          sizeof chunk - 1);
    gchar *desc = g_strdup_printf ("fdsrc fd=%d ! vyrescan "
        "patterns-file=\"%s\" ! vyresink name=sink print-summary=false "
        "message-interval=0 report-location=\"%s\" matches-location=\"%s\"",
        fds[0], patterns, round == 0 ? report : fresh, matches);
    GstElement *p = gst_parse_launch (desc, NULL);
    g_free (desc);
    fail_unless (p != NULL);
    GstBus *bus = gst_element_get_bus (p);
    gst_element_set_state (p, GST_STATE_PLAYING);
    /* message-interval=0: a vyre-progress message after each buffer */
    gboolean rendered = FALSE;
    while (!rendered) {
      GstMessage *m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
          GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
      fail_unless (m != NULL, "no buffer reached vyresink in 60 s");
      fail_unless (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT);
      rendered = gst_structure_has_name (gst_message_get_structure (m),
          "vyre-progress");
      gst_message_unref (m);
    }
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (p);
    gchar *text = read_text (report);
    fail_unless_equals_string (text, "earlier report\n");
    g_free (text);
    text = read_text (matches);
    fail_unless_equals_string (text, "earlier matches\n");
    g_free (text);
    fail_if (g_file_test (fresh, G_FILE_TEST_EXISTS),
        "a stopped run left a report where there was none");
    assert_no_temporary_files ();
  }
  close (fds[0]);
  close (fds[1]);
  g_free (report);
  g_free (matches);
  g_free (fresh);
}

GST_END_TEST;

/* A failed run (an element error, then NULL) keeps the earlier report
 * too.  vyresink alone: a buffer without scan results is its error. */
GST_START_TEST (test_failed_run_keeps_earlier_report)
{
  gchar *report = g_build_filename (tmpdir, "report.json", NULL);
  fail_unless (g_file_set_contents (report, "earlier report\n", -1, NULL));
  GstElement *sink = gst_element_factory_make ("vyresink", NULL);
  g_object_set (sink, "report-location", report, "print-summary", FALSE,
      NULL);
  GstHarness *h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              16, NULL)), GST_FLOW_ERROR);
  gst_harness_teardown (h);
  gst_object_unref (sink);
  gchar *text = read_text (report);
  fail_unless_equals_string (text, "earlier report\n");
  g_free (text);
  assert_no_temporary_files ();
  g_free (report);
}

GST_END_TEST;

/* A successful run replaces the earlier report whole, keeping its
 * permission bits. */
GST_START_TEST (test_complete_run_replaces_report)
{
  gchar *report = g_build_filename (tmpdir, "report.json", NULL);
  fail_unless (g_file_set_contents (report, "earlier report\n", -1, NULL));
  fail_unless (g_chmod (report, 0640) == 0);
  gchar *props = g_strdup_printf ("report-location=\"%s\"", report);
  GstElement *p = make_pipeline (props);
  GError *err = run_to_end (p, NULL);
  fail_unless (err == NULL, "%s", err ? err->message : "");
  gst_object_unref (p);
  JsonObject *o = load_json_object (report);
  fail_unless_equals_uint64 (json_object_get_int_member (o, "bytes"),
      sample_len);
  json_object_unref (o);
  GStatBuf st;
  fail_unless (g_stat (report, &st) == 0);
  fail_unless_equals_int (st.st_mode & 0777, 0640);
  assert_no_temporary_files ();
  g_free (props);
  g_free (report);
}

GST_END_TEST;

/* Reports to a FIFO and to /dev/stdout are written directly (a rename
 * there would replace the FIFO, or /dev itself), and complete. */
GST_START_TEST (test_report_to_fifo_and_stdout)
{
  gchar *fifo = g_build_filename (tmpdir, "report.fifo", NULL);
  fail_unless (mkfifo (fifo, 0600) == 0);
  /* The read end opened first (non-blocking), read after the run: the
   * report (a few KiB) fits in the pipe's buffer. */
  gint rd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  fail_unless (rd >= 0);
  gint out[2];
  fail_unless (g_unix_open_pipe (out, FD_CLOEXEC, NULL));
  gint saved_stdout = dup (STDOUT_FILENO);
  for (guint round = 0; round < 2; round++) {
    gchar *props = round == 0 ? g_strdup_printf ("report-location=\"%s\"",
        fifo) : g_strdup ("report-location=/dev/stdout");
    GstElement *p = make_pipeline (props);
    if (round == 1) {
      fflush (stdout);
      fail_unless (dup2 (out[1], STDOUT_FILENO) == STDOUT_FILENO);
    }
    GError *err = run_to_end (p, NULL);
    if (round == 1)
      fail_unless (dup2 (saved_stdout, STDOUT_FILENO) == STDOUT_FILENO);
    fail_unless (err == NULL, "%s: %s", props, err ? err->message : "");
    gst_object_unref (p);
    gint from = round == 0 ? rd : out[0];
    if (round == 1)
      close (out[1]);
    GString *text = g_string_new (NULL);
    gchar buf[4096];
    gssize n;
    while ((n = read (from, buf, sizeof buf)) > 0)
      g_string_append_len (text, buf, n);
    JsonObject *o = parse_json_object (text->str);
    fail_unless_equals_uint64 (json_object_get_int_member (o, "matches"),
        expected_matches);
    json_object_unref (o);
    g_string_free (text, TRUE);
    g_free (props);
  }
  struct stat st;
  fail_unless (stat (fifo, &st) == 0 && S_ISFIFO (st.st_mode));
  close (rd);
  close (out[0]);
  close (saved_stdout);
  g_unlink (fifo);
  g_free (fifo);
  assert_no_temporary_files ();
}

GST_END_TEST;

/* A FIFO nobody reads fails at start with a Fix instead of blocking the
 * state change forever. */
GST_START_TEST (test_fifo_without_reader_fails_at_start)
{
  gchar *fifo = g_build_filename (tmpdir, "nobody.fifo", NULL);
  fail_unless (mkfifo (fifo, 0600) == 0);
  GError *err = NULL;
  VyreReportWriter *w = vyre_report_writer_open (fifo, "report",
      VYRE_REPORT_FORMAT_JSON, &err);
  fail_unless (w == NULL);
  fail_unless (strstr (err->message, fifo) != NULL, "%s", err->message);
  fail_unless (strstr (vyre_report_error_fix (err), "FIFO") != NULL);
  g_error_free (err);
  g_unlink (fifo);
  g_free (fifo);
}

GST_END_TEST;

/* The same literal twice: the JSON report parses with json-glib, has no
 * duplicate key, and its pattern_counts add up to the matches. */
GST_START_TEST (test_duplicate_patterns_json)
{
  fail_unless (g_file_set_contents (patterns,
          "needle\nneedle\nhay\\nstack\n", -1, NULL));
  gchar *report = g_build_filename (tmpdir, "report.json", NULL);
  gchar *props = g_strdup_printf ("report-location=\"%s\"", report);
  GstElement *p = make_pipeline (props);
  GError *err = run_to_end (p, NULL);
  fail_unless (err == NULL, "%s", err ? err->message : "");
  gst_object_unref (p);
  JsonObject *o = load_json_object (report);
  JsonObject *counts = json_object_get_object_member (o, "pattern_counts");
  fail_unless_equals_int (json_object_get_size (counts), 2);
  gint64 sum = json_object_get_int_member (counts, "needle") +
      json_object_get_int_member (counts, "hay\\nstack");
  fail_unless_equals_int64 (sum, json_object_get_int_member (o, "matches"));
  json_object_unref (o);
  g_free (props);
  g_free (report);
}

GST_END_TEST;

/* The writer merges ids with the same text into one key (the sum), at
 * the lower id's position, whatever the pattern parser does. */
GST_START_TEST (test_report_json_merges_same_text)
{
  GstStructure *s = gst_structure_new ("vyre-summary", "matches",
      G_TYPE_UINT64, (guint64) 10, "elapsed_s", G_TYPE_DOUBLE, NAN, NULL);
  GValue names = G_VALUE_INIT, counts = G_VALUE_INIT;
  gst_value_array_init (&names, 3);
  gst_value_array_init (&counts, 3);
  const gchar *text[] = { "dup", "other", "dup" };
  const guint64 count[] = { 3, 5, 2 };
  for (guint i = 0; i < 3; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_string (&v, text[i]);
    gst_value_array_append_and_take_value (&names, &v);
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, count[i]);
    gst_value_array_append_and_take_value (&counts, &v);
  }
  gst_structure_take_value (s, "patterns", &names);
  gst_structure_take_value (s, "pattern_counts", &counts);
  gchar *json = vyre_report_summary_to_json (s);
  JsonObject *o = parse_json_object (json);
  fail_if (json_object_has_member (o, "patterns"));
  /* a non-finite number is null, not the invalid token "nan" */
  fail_unless (json_object_get_null_member (o, "elapsed_s"));
  JsonObject *c = json_object_get_object_member (o, "pattern_counts");
  fail_unless_equals_int (json_object_get_size (c), 2);
  fail_unless_equals_int64 (json_object_get_int_member (c, "dup"), 5);
  fail_unless_equals_int64 (json_object_get_int_member (c, "other"), 5);
  GList *members = json_object_get_members (c);
  fail_unless_equals_string (members->data, "dup");
  g_list_free (members);
  json_object_unref (o);
  g_free (json);
  gst_structure_free (s);
}

GST_END_TEST;

/* The summary property read before anything ran: no time has passed. */
GST_START_TEST (test_summary_before_running)
{
  GstElement *sink = gst_element_factory_make ("vyresink", NULL);
  GstStructure *s = NULL;
  g_object_get (sink, "summary", &s, NULL);
  gdouble elapsed = -1, startup = -1, gbps = -1;
  fail_unless (gst_structure_get_double (s, "elapsed_s", &elapsed));
  fail_unless (gst_structure_get_double (s, "startup_s", &startup));
  fail_unless (gst_structure_get_double (s, "gbps", &gbps));
  fail_unless (elapsed == 0 && startup == 0 && gbps == 0,
      "elapsed_s %f startup_s %f gbps %f", elapsed, startup, gbps);
  gst_structure_free (s);
  gst_object_unref (sink);
}

GST_END_TEST;

/* Start-up and scan time are apart, and after the run (here read after
 * NULL) neither grows and the summary is still whole. */
GST_START_TEST (test_startup_apart_from_scan)
{
  GstElement *p = make_pipeline ("");
  GError *err = run_to_end (p, NULL);
  fail_unless (err == NULL, "%s", err ? err->message : "");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstStructure *a = NULL, *b = NULL;
  g_object_get (sink, "summary", &a, NULL);
  g_object_get (sink, "summary", &b, NULL);
  gdouble startup, elapsed, elapsed_b, gbps;
  fail_unless (gst_structure_get_double (a, "startup_s", &startup));
  fail_unless (gst_structure_get_double (a, "elapsed_s", &elapsed));
  fail_unless (gst_structure_get_double (a, "gbps", &gbps));
  fail_unless (gst_structure_get_double (b, "elapsed_s", &elapsed_b));
  fail_unless (startup > 0 && elapsed >= 0 && gbps > 0);
  fail_unless (elapsed == elapsed_b, "elapsed_s grows after the run");
  fail_unless (gst_structure_get_string (a, "throughput") != NULL);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (a, "patterns")), 2);
  fail_unless (*gst_structure_get_string (a, "device") != '\0');
  gst_structure_free (a);
  gst_structure_free (b);
  gst_object_unref (sink);
  gst_object_unref (p);
}

GST_END_TEST;

static void
check_rate (gdouble bytes_per_second, const gchar * want)
{
  gchar *got = vyre_report_format_rate (bytes_per_second);
  fail_unless_equals_string (got, want);
  g_free (got);
}

static void
check_count (guint64 n, const gchar * want)
{
  gchar *got = vyre_report_format_count (n);
  fail_unless_equals_string (got, want);
  g_free (got);
}

GST_START_TEST (test_rate_and_count_formatting)
{
  check_rate (33.5e9, "33.5 GB/s");
  check_rate (1.79e6, "1.79 MB/s");
  check_rate (33.5e6 / 18.5, "1.81 MB/s");      /* the lavapipe demo */
  check_rate (512e6, "512 MB/s");
  check_rate (999.6e6, "1.00 GB/s");
  check_rate (9.996e6, "10.0 MB/s");
  check_rate (12.3e3, "12.3 kB/s");
  check_rate (512, "512 B/s");
  check_rate (0, "0 B/s");
  check_rate (NAN, "0 B/s");
  check_rate (2.5e12, "2.50 TB/s");
  check_count (0, "0");
  check_count (999, "999");
  check_count (1000, "1,000");
  check_count (12345, "12,345");
  check_count (1234567890, "1,234,567,890");
}

GST_END_TEST;

/* 1,000 patterns: the printed summary shows the 20 most frequent, most
 * frequent first, and sums up the rest in one line. */
GST_START_TEST (test_summary_lists_top_patterns)
{
  GstStructure *s = gst_structure_new ("vyre-summary", "bytes",
      G_TYPE_UINT64, (guint64) 33554432, "gbps", G_TYPE_DOUBLE, 0.00179,
      NULL);
  GValue names = G_VALUE_INIT, counts = G_VALUE_INIT;
  gst_value_array_init (&names, 1000);
  gst_value_array_init (&counts, 1000);
  guint64 rest = 0;
  for (guint i = 0; i < 1000; i++) {
    /* ids 0..16 never matched; the others i matches, so 999 leads */
    guint64 c = i < 17 ? 0 : i;
    if (i >= 17 && i < 1000 - 20)
      rest += c;
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_STRING);
    g_value_take_string (&v, g_strdup_printf ("pattern-%u", i));
    gst_value_array_append_and_take_value (&names, &v);
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, c);
    gst_value_array_append_and_take_value (&counts, &v);
  }
  gst_structure_take_value (s, "patterns", &names);
  gst_structure_take_value (s, "pattern_counts", &counts);
  gchar *text = vyre_report_format_summary (s, 20);
  gchar **lines = g_strsplit (text, "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 1 + 20 + 1 + 1);
  fail_unless (g_str_has_prefix (lines[0], "vyre summary: "));
  fail_unless (strstr (lines[0], "33,554,432 bytes") != NULL, "%s", lines[0]);
  fail_unless (strstr (lines[0], "1.79 MB/s") != NULL, "%s", lines[0]);
  fail_unless (g_str_has_suffix (lines[1], "  999  pattern-999"), "%s",
      lines[1]);
  fail_unless (g_str_has_suffix (lines[20], "  980  pattern-980"), "%s",
      lines[20]);
  gchar *nrest = vyre_report_format_count (rest);
  gchar *want = g_strdup_printf ("  ... and 963 more patterns with %s "
      "matches; 17 patterns did not match", nrest);
  fail_unless_equals_string (lines[21], want);
  g_free (want);
  g_free (nrest);
  g_strfreev (lines);
  g_free (text);
  gst_structure_free (s);
}

GST_END_TEST;

/* A stream of several files: the printed summary counts them and names
 * the skipped ones with their reasons (five, then how many more). */
GST_START_TEST (test_summary_counts_files)
{
  GstStructure *files = gst_structure_new ("files", "scanned", G_TYPE_UINT64,
      (guint64) 1500, "with_matches", G_TYPE_UINT64, (guint64) 12,
      "skipped", G_TYPE_UINT64, (guint64) 7, NULL);
  GValue skipped = G_VALUE_INIT;
  gst_value_array_init (&skipped, 7);
  for (guint i = 0; i < 7; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    gchar *path = g_strdup_printf ("/tree/f%u", i);
    g_value_take_boxed (&v, gst_structure_new ("skipped", "path",
            G_TYPE_STRING, path, "reason", G_TYPE_STRING, "read-error",
            "description", G_TYPE_STRING, "a read failed", NULL));
    g_free (path);
    gst_value_array_append_and_take_value (&skipped, &v);
  }
  gst_structure_take_value (files, "skipped_files", &skipped);
  GstStructure *s = gst_structure_new ("vyre-summary", "bytes",
      G_TYPE_UINT64, (guint64) 1000, "files", GST_TYPE_STRUCTURE, files,
      NULL);
  gst_structure_free (files);
  gchar *text = vyre_report_format_summary (s, 20);
  gchar **lines = g_strsplit (text, "\n", -1);
  fail_unless_equals_string (lines[1],
      "  1,500 files scanned, 12 with matches, 7 skipped");
  fail_unless_equals_string (lines[2], "    skipped /tree/f0: a read failed");
  fail_unless_equals_string (lines[6], "    skipped /tree/f4: a read failed");
  fail_unless_equals_string (lines[7], "    ... and 2 more skipped (the JSON "
      "report lists them all)");
  g_strfreev (lines);
  g_free (text);
  gst_structure_free (s);
}

GST_END_TEST;

/* Adds a title to the first location tag that passes: a tag with more
 * than a location. */
static GstPadProbeReturn
add_title_once (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  gboolean *done = user_data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  if (*done || GST_EVENT_TYPE (ev) != GST_EVENT_TAG)
    return GST_PAD_PROBE_OK;
  GstTagList *tags = NULL;
  gst_event_parse_tag (ev, &tags);
  tags = gst_tag_list_copy (tags);
  gst_tag_list_add (tags, GST_TAG_MERGE_APPEND, GST_TAG_TITLE, "first",
      NULL);
  gst_event_unref (ev);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_tag (tags);
  *done = TRUE;
  (void) pad;
  return GST_PAD_PROBE_OK;
}

/* A tree's location tags (one per file, file-tags=true) are not posted on
 * the bus; a tag that holds more than a location is. */
GST_START_TEST (test_location_tags_not_posted)
{
  gchar *tree = g_build_filename (tmpdir, "tree", NULL);
  g_mkdir (tree, 0755);
  for (guint i = 0; i < 5; i++) {
    gchar *f = g_strdup_printf ("%s/f%u.txt", tree, i);
    g_file_set_contents (f, "a needle in a file\n", -1, NULL);
    g_free (f);
  }
  gchar *desc = g_strdup_printf ("vyreurisrc location=\"%s\" "
      "file-tags=true ! vyrescan name=scan patterns-file=\"%s\" ! vyresink "
      "name=sink print-summary=false", tree, patterns);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (p != NULL);
  gboolean titled = FALSE;
  GstElement *scan = gst_bin_get_by_name (GST_BIN (p), "scan");
  GstPad *src = gst_element_get_static_pad (scan, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      add_title_once, &titled, NULL);
  gst_object_unref (src);
  gst_object_unref (scan);
  GstBus *bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  guint tag_messages = 0;
  gboolean eos = FALSE;
  while (!eos) {
    GstMessage *m = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (m != NULL, "no EOS within 120 s");
    fail_if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_TAG) {
      GstTagList *tags = NULL;
      gchar *title = NULL;
      gst_message_parse_tag (m, &tags);
      fail_unless (gst_tag_list_get_string (tags, GST_TAG_TITLE, &title),
          "a location tag was posted");
      fail_unless_equals_string (title, "first");
      g_free (title);
      gst_tag_list_unref (tags);
      tag_messages++;
    }
    eos = GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;
    gst_message_unref (m);
  }
  fail_unless (titled);
  fail_unless_equals_int (tag_messages, 1);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  for (guint i = 0; i < 5; i++) {
    gchar *f = g_strdup_printf ("%s/f%u.txt", tree, i);
    g_unlink (f);
    g_free (f);
  }
  g_rmdir (tree);
  g_free (tree);
}

GST_END_TEST;

/* gst-launch-1.0 itself exits non-zero, naming the path, when the matches
 * cannot be written. */
GST_START_TEST (test_gst_launch_exit_status)
{
  gchar *launch = g_find_program_in_path ("gst-launch-1.0");
  if (launch == NULL) {
    GST_WARNING ("gst-launch-1.0 not found: skipped");
    return;
  }
  gchar *loc = g_strdup_printf ("location=%s", sample);
  gchar *pat = g_strdup_printf ("patterns-file=%s", patterns);
  const gchar *argv[] = { launch, "-q", "filesrc", loc, "!", "vyrescan", pat,
    "!", "vyresink", "print-summary=false", "matches-location=/dev/full", NULL
  };
  gchar *out = NULL, *err = NULL;
  gint status = 0;
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, &out, &err, &status, NULL));
  fail_if (g_spawn_check_wait_status (status, NULL),
      "gst-launch-1.0 exited 0:\n%s%s", out, err);
  fail_unless (strstr (err, "/dev/full") != NULL || strstr (out,
          "/dev/full") != NULL, "%s%s", out, err);
  g_free (out);
  g_free (err);
  g_free (loc);
  g_free (pat);
  g_free (launch);
}

GST_END_TEST;

/* Match-dense text at every default: the report's matches, its
 * pattern_counts, the matches file's lines and a plain count of every
 * (overlapping) occurrence agree; with a limit on what vyrescan stores,
 * the counts stay exact and dropped_matches is what the file lacks. */
static guint64
count_occurrences (const gchar * hay, gsize n, const gchar * needle, gsize k)
{
  guint64 c = 0;
  for (gsize i = 0; i + k <= n; i++)
    c += memcmp (hay + i, needle, k) == 0;
  return c;
}

static guint64
count_lines (const gchar * path)
{
  gchar *text = read_text (path);
  guint64 n = 0;
  for (const gchar * q = text; *q; q++)
    n += *q == '\n';
  g_free (text);
  return n;
}

GST_START_TEST (test_dense_counts_agree)
{
  static const char *words[] = { "the", "tree", "between", "see", "three",
    "e", "keep", "teeth"
  };
  gsize len = 2 * 1024 * 1024;
  gchar *d = g_malloc (len);
  guint32 r = 777;
  for (gsize pos = 0; pos < len;) {
    r = r * 1103515245u + 12345u;
    if ((r >> 16) % 40 == 0) {
      for (gsize k = 0; k < 4 + (r >> 24) % 60 && pos < len; k++)
        d[pos++] = 0;
      continue;
    }
    const char *w = words[(r >> 16) % G_N_ELEMENTS (words)];
    for (gsize k = 0; w[k] && pos < len; k++)
      d[pos++] = w[k];
    if (pos < len)
      d[pos++] = ' ';
  }
  gchar *dense = g_build_filename (tmpdir, "dense.bin", NULL);
  fail_unless (g_file_set_contents (dense, d, len, NULL));
  fail_unless (g_file_set_contents (patterns, "e\nee\nthe\n\\x00\\x00\\x00\\x00\n",
          -1, NULL));
  const gchar *texts[] = { "e", "ee", "the", "\\x00\\x00\\x00\\x00" };
  const gchar *raw[] = { "e", "ee", "the", "\0\0\0\0" };
  const gsize raw_len[] = { 1, 2, 3, 4 };
  guint64 want[4], total = 0;
  for (guint i = 0; i < 4; i++)
    total += want[i] = count_occurrences (d, len, raw[i], raw_len[i]);
  fail_unless (total > len / 4, "not dense: %" G_GUINT64_FORMAT, total);

  const gchar *limits[] = { "", "max-matches-per-buffer=10" };
  for (guint l = 0; l < G_N_ELEMENTS (limits); l++) {
    gchar *report = g_build_filename (tmpdir, "dense.json", NULL);
    gchar *matches = g_build_filename (tmpdir, "dense.jsonl", NULL);
    gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! vyrescan "
        "patterns-file=\"%s\" %s ! vyresink print-summary=false "
        "report-location=\"%s\" matches-location=\"%s\"", dense, patterns,
        limits[l], report, matches);
    GError *err = NULL;
    GstElement *p = gst_parse_launch (desc, &err);
    fail_unless (p != NULL, "%s", err ? err->message : "?");
    err = run_to_end (p, NULL);
    fail_unless (err == NULL, "%s", err ? err->message : "");
    gst_object_unref (p);
    JsonObject *o = load_json_object (report);
    guint64 found = json_object_get_int_member (o, "matches");
    guint64 dropped = json_object_get_int_member (o, "dropped_matches");
    guint64 lines = count_lines (matches);
    JsonObject *counts = json_object_get_object_member (o, "pattern_counts");
    guint64 sum = 0;
    for (guint i = 0; i < 4; i++) {
      guint64 c = json_object_get_int_member (counts, texts[i]);
      fail_unless (c == want[i], "%s: pattern %s counted %" G_GUINT64_FORMAT
          ", occurs %" G_GUINT64_FORMAT, limits[l], texts[i], c, want[i]);
      sum += c;
    }
    fail_unless_equals_uint64 (found, total);
    fail_unless_equals_uint64 (sum, found);
    fail_unless (lines + dropped == found, "%s: %" G_GUINT64_FORMAT " lines "
        "+ %" G_GUINT64_FORMAT " dropped != %" G_GUINT64_FORMAT, limits[l],
        lines, dropped, found);
    if (l == 0) {
      fail_unless_equals_uint64 (dropped, 0);
    } else {
      fail_unless (dropped > 0 && lines < found);
    }
    json_object_unref (o);
    g_free (desc);
    g_free (report);
    g_free (matches);
  }
  g_free (dense);
  g_free (d);
}

GST_END_TEST;

static Suite *
vyresink_suite (void)
{
  Suite *s = suite_create ("vyresink");
  TCase *tc = tcase_create ("general");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_report_and_messages);
  tcase_add_test (tc, test_unwritable_report_fails_at_start);
  tcase_add_test (tc, test_without_vyrescan_errors);
  tcase_add_test (tc, test_write_errors_name_the_path);
  tcase_add_test (tc, test_stop_before_eos_keeps_earlier_outputs);
  tcase_add_test (tc, test_failed_run_keeps_earlier_report);
  tcase_add_test (tc, test_complete_run_replaces_report);
  tcase_add_test (tc, test_report_to_fifo_and_stdout);
  tcase_add_test (tc, test_fifo_without_reader_fails_at_start);
  tcase_add_test (tc, test_duplicate_patterns_json);
  tcase_add_test (tc, test_report_json_merges_same_text);
  tcase_add_test (tc, test_summary_before_running);
  tcase_add_test (tc, test_startup_apart_from_scan);
  tcase_add_test (tc, test_rate_and_count_formatting);
  tcase_add_test (tc, test_summary_lists_top_patterns);
  tcase_add_test (tc, test_summary_counts_files);
  tcase_add_test (tc, test_location_tags_not_posted);
  tcase_add_test (tc, test_gst_launch_exit_status);
  tcase_add_test (tc, test_dense_counts_agree);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (vyresink);
