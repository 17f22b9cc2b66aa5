/*
 * test_vyresink.c - vyresink reports what vyrescan found, to programs
 * (properties, bus messages in the right order) and to files (JSON report,
 * JSON Lines), and fails early on a report path it cannot write.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vyre-crc32.h"

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

  /* The report has every documented key and the right numbers. */
  gchar *json = NULL;
  fail_unless (g_file_get_contents (report, &json, NULL, NULL));
  const gchar *keys[] = { "\"bytes\"", "\"buffers\"", "\"epochs\"",
    "\"matches\"", "\"dropped_matches\"", "\"pattern_counts\"", "\"crc32\"",
    "\"histogram\"", "\"entropy_bits_per_byte\"", "\"elapsed_s\"", "\"gbps\"",
    "\"device\"", "\"dispatch\""
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    fail_unless (strstr (json, keys[i]) != NULL, "report lacks %s", keys[i]);
  gchar *want = g_strdup_printf ("\"matches\": %" G_GUINT64_FORMAT,
      expected_matches);
  fail_unless (strstr (json, want) != NULL);
  g_free (want);
  /* the non-printable pattern is escaped as in the patterns file */
  fail_unless (strstr (json, "\"hay\\\\nstack\"") != NULL);
  g_free (json);

  /* JSON Lines: one per match, offsets non-decreasing, each a real match. */
  gchar *lines = NULL, *data = NULL;
  gsize dlen;
  fail_unless (g_file_get_contents (matches, &lines, NULL, NULL));
  fail_unless (g_file_get_contents (sample, &data, &dlen, NULL));
  gchar **v = g_strsplit (lines, "\n", -1);
  guint64 n = 0, prev = 0;
  for (guint i = 0; v[i] && *v[i]; i++, n++) {
    guint64 off = g_ascii_strtoull (strstr (v[i], "\"offset\": ") + 10, NULL,
        10);
    fail_unless (off >= prev);
    prev = off;
    gboolean needle = strstr (v[i], "\"pattern_id\": 0") != NULL;
    const gchar *lit = needle ? "needle" : "hay\nstack";
    fail_unless (off + strlen (lit) <= dlen && memcmp (data + off, lit,
            strlen (lit)) == 0, "line %u is not a match", i);
  }
  fail_unless_equals_uint64 (n, expected_matches);
  g_strfreev (v);
  g_free (lines);
  g_free (data);

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
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (vyresink);
