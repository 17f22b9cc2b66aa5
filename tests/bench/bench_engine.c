/* gst-vyre
 *
 * bench_engine.c - what the shared engine buys an application that runs
 * many pipelines in one process (prints a table; never a test).
 *
 *   bench_engine [--small-files N] [--big BYTES] [--concurrent K]
 *                [--patterns "a,b,c"] [--source vyreurisrc|filesrc]
 *
 * Pipelines are `SOURCE location=F ! vyrescan ! vyresink`: vyreurisrc
 * (default) reads into vyrescan's GPU-readable memory (zero copy),
 * filesrc into system memory that vyrescan copies.
 *
 * Rows:
 *   1. first pipeline: READY->PLAYING->EOS of a 1 KiB file, the engine
 *      cold (device opened, kernel launched);
 *   2. READY to first completion of a later pipeline (the engine warm):
 *      time from set_state(PLAYING) to the vyrescan src pad's first
 *      buffer, median and p99;
 *   3. N sequential pipelines on N different 1 KiB files: files/s;
 *   4. one pipeline on a BYTES file, then K at once on K such files:
 *      GB/s alone and aggregate;
 *   5. NULL from PLAYING while the first big file is being scanned (20 ms
 *      after its first buffer), five times: median and max.
 * Every pipeline's match count is compared with the first run of the
 * same file; a mismatch or an error makes the exit status 1.
 *
 * Needs GST_PLUGIN_PATH naming the build's gst/ folder.
 */
#include <gst/gst.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gchar *patterns = (gchar *) "secret,password,BEGIN RSA,token";
static gchar *source = (gchar *) "vyreurisrc";
static guint failures;

typedef struct
{
  GstElement *pipeline, *sink;
  gint64 t_start, t_first, t_eos;
  guint64 matches;
} Run;

static GstPadProbeReturn
first_buffer (G_GNUC_UNUSED GstPad * pad, G_GNUC_UNUSED GstPadProbeInfo * info,
    gpointer data)
{
  Run *r = data;
  if (r->t_first == 0)
    r->t_first = g_get_monotonic_time ();
  return GST_PAD_PROBE_REMOVE;
}

static void
run_start (Run * r, const gchar * path)
{
  memset (r, 0, sizeof *r);
  gchar *desc = g_strdup_printf ("%s location=%s blocksize=1048576 ! "
      "vyrescan name=scan patterns=\"<%s>\" ! vyresink name=sink "
      "print-summary=false", source, path, patterns);
  GError *err = NULL;
  r->pipeline = gst_parse_launch (desc, &err);
  if (r->pipeline == NULL) {
    fprintf (stderr, "%s: %s\n", desc, err->message);
    exit (1);
  }
  g_free (desc);
  GstElement *scan = gst_bin_get_by_name (GST_BIN (r->pipeline), "scan");
  GstPad *src = gst_element_get_static_pad (scan, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, first_buffer, r, NULL);
  gst_object_unref (src);
  gst_object_unref (scan);
  r->sink = gst_bin_get_by_name (GST_BIN (r->pipeline), "sink");
  gst_element_set_state (r->pipeline, GST_STATE_READY);
  r->t_start = g_get_monotonic_time ();
  if (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    fprintf (stderr, "%s: could not start\n", path);
    failures++;
  }
}

static void
run_finish (Run * r)
{
  GstBus *bus = gst_element_get_bus (r->pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  r->t_eos = g_get_monotonic_time ();
  if (m == NULL || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    if (m)
      gst_message_parse_error (m, &err, NULL);
    fprintf (stderr, "pipeline failed: %s\n", err ? err->message :
        "no EOS in 600 s");
    g_clear_error (&err);
    failures++;
  }
  if (m)
    gst_message_unref (m);
  gst_object_unref (bus);
  g_object_get (r->sink, "matches", &r->matches, NULL);
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  gst_object_unref (r->sink);
  gst_object_unref (r->pipeline);
}

static gchar *
make_file (const gchar * dir, const gchar * name, gsize len, guint seed)
{
  /* Text where about one word in 500 is a pattern, as in real files (a
   * text of nothing but matches measures the re-scan of overflowing
   * records instead: bench_every_match.sh). */
  static const char *words[] = { "the ", "of ", "data ", "lorem ",
    "ipsum ", "and\n", "value ", "config ", "user ", "name\n"
  };
  static const char *hits[] = { "secret ", "password\n", "token ",
    "BEGIN RSA "
  };
  GString *s = g_string_sized_new (len + 16);
  guint32 x = 2654435761u * (seed + 1);
  while (s->len < len) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g_string_append (s, x % 500 == 0 ? hits[(x >> 9) % G_N_ELEMENTS (hits)]
        : words[(x >> 9) % G_N_ELEMENTS (words)]);
  }
  g_string_truncate (s, len);
  gchar *path = g_build_filename (dir, name, NULL);
  if (!g_file_set_contents (path, s->str, s->len, NULL)) {
    fprintf (stderr, "cannot write %s\n", path);
    exit (1);
  }
  g_string_free (s, TRUE);
  return path;
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  gint small_files = 1000, concurrent = 8;
  gint64 big = 1 << 30;
  GOptionEntry entries[] = {
    {"small-files", 0, 0, G_OPTION_ARG_INT, &small_files,
        "sequential pipelines on 1 KiB files", "N"},
    {"big", 0, 0, G_OPTION_ARG_INT64, &big, "bytes of each big file", "B"},
    {"concurrent", 0, 0, G_OPTION_ARG_INT, &concurrent,
        "pipelines at once on big files", "K"},
    {"patterns", 0, 0, G_OPTION_ARG_STRING, &patterns,
        "comma-separated literals", "LIST"},
    {"source", 0, 0, G_OPTION_ARG_STRING, &source,
        "vyreurisrc (zero copy, the default) or filesrc", "ELEMENT"},
    {NULL}
  };
  GOptionContext *oc = g_option_context_new ("- the shared engine's gains");
  g_option_context_add_main_entries (oc, entries, NULL);
  g_option_context_add_group (oc, gst_init_get_option_group ());
  GError *err = NULL;
  if (!g_option_context_parse (oc, &argc, &argv, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 2;
  }
  g_option_context_free (oc);
  gint64 t_process = g_get_monotonic_time ();

  gchar *dir = g_dir_make_tmp ("vyre-bench-engine-XXXXXX", NULL);
  GPtrArray *small = g_ptr_array_new_with_free_func (g_free);
  for (gint i = 0; i < small_files; i++) {
    gchar *name = g_strdup_printf ("s%05d.txt", i);
    g_ptr_array_add (small, make_file (dir, name, 1024, i));
    g_free (name);
  }
  GPtrArray *bigs = g_ptr_array_new_with_free_func (g_free);
  for (gint i = 0; i < concurrent; i++) {
    gchar *name = g_strdup_printf ("b%02d.txt", i);
    g_ptr_array_add (bigs, make_file (dir, name, big, 1000 + i));
    g_free (name);
  }

  fprintf (stderr, "bench_engine: files written at %.1f s\n",
      (g_get_monotonic_time () - t_process) / 1e6);
  /* 1. cold */
  Run r;
  run_start (&r, small->pdata[0]);
  run_finish (&r);
  double cold_ms = (r.t_eos - r.t_start) / 1e3;
  double cold_first_ms = r.t_first ? (r.t_first - r.t_start) / 1e3 : -1;
  guint64 *expect = g_new0 (guint64, small_files);
  expect[0] = r.matches;

  /* 2. + 3. warm, sequential */
  gint64 *first = g_new0 (gint64, small_files);
  gint64 t0 = g_get_monotonic_time ();
  for (gint i = 1; i < small_files; i++) {
    run_start (&r, small->pdata[i]);
    run_finish (&r);
    first[i - 1] = r.t_first ? r.t_first - r.t_start : G_MAXINT64;
    expect[i] = r.matches;
  }
  double seq_s = (g_get_monotonic_time () - t0) / 1e6;
  gint n_warm = small_files - 1;
  qsort (first, n_warm, sizeof *first, cmp_i64);
  /* the same files again: counts must not change */
  for (gint i = 0; i < MIN (small_files, 50); i++) {
    run_start (&r, small->pdata[i]);
    run_finish (&r);
    if (r.matches != expect[i]) {
      fprintf (stderr, "%s: %" G_GUINT64_FORMAT " matches, first run %"
          G_GUINT64_FORMAT "\n", (gchar *) small->pdata[i], r.matches,
          expect[i]);
      failures++;
    }
  }

  fprintf (stderr, "bench_engine: small files done at %.1f s\n",
      (g_get_monotonic_time () - t_process) / 1e6);
  /* 4. big: alone, then K at once */
  run_start (&r, bigs->pdata[0]);
  run_finish (&r);
  double alone_s = (r.t_eos - r.t_start) / 1e6;
  guint64 big0 = r.matches;
  Run *runs = g_new0 (Run, concurrent);
  t0 = g_get_monotonic_time ();
  for (gint i = 0; i < concurrent; i++)
    run_start (&runs[i], bigs->pdata[i]);
  for (gint i = 0; i < concurrent; i++)
    run_finish (&runs[i]);
  double conc_s = (g_get_monotonic_time () - t0) / 1e6;
  if (runs[0].matches != big0) {
    fprintf (stderr, "big file 0: %" G_GUINT64_FORMAT " matches at once, %"
        G_GUINT64_FORMAT " alone\n", runs[0].matches, big0);
    failures++;
  }

  fprintf (stderr, "bench_engine: big files done at %.1f s\n",
      (g_get_monotonic_time () - t_process) / 1e6);
  /* 5. stopping mid-stream: NULL from PLAYING while the big file is on
   * the GPU (the jobs in flight are handed to the engine, not drained) */
  gint64 stop_us[5];
  for (guint i = 0; i < G_N_ELEMENTS (stop_us); i++) {
    run_start (&r, bigs->pdata[0]);
    while (r.t_first == 0 && g_get_monotonic_time () - r.t_start < 60000000)
      g_usleep (1000);
    g_usleep (20000);
    gint64 t = g_get_monotonic_time ();
    gst_element_set_state (r.pipeline, GST_STATE_NULL);
    stop_us[i] = g_get_monotonic_time () - t;
    gst_object_unref (r.sink);
    gst_object_unref (r.pipeline);
  }
  qsort (stop_us, G_N_ELEMENTS (stop_us), sizeof *stop_us, cmp_i64);

  printf ("| measure | value |\n|---|---|\n");
  printf ("| first pipeline, 1 KiB file, READY -> EOS (engine cold) | %.1f ms "
      "(first buffer out of vyrescan at %.1f ms) |\n", cold_ms, cold_first_ms);
  if (n_warm > 0)
    printf ("| later pipeline, READY -> first completion (engine warm) | "
        "median %.2f ms, p99 %.2f ms (%d pipelines) |\n",
        first[n_warm / 2] / 1e3, first[(n_warm * 99) / 100] / 1e3, n_warm);
  printf ("| %d sequential pipelines on 1 KiB files, one process | %.1f "
      "files/s |\n", n_warm, n_warm / seq_s);
  printf ("| one pipeline, %.3f GB file | %.2f GB/s (%.3f s) |\n", big / 1e9,
      big / alone_s / 1e9, alone_s);
  printf ("| %d pipelines at once, %.3f GB each | %.2f GB/s aggregate "
      "(%.3f s) |\n", concurrent, big / 1e9,
      (double) big * concurrent / conc_s / 1e9, conc_s);
  printf ("| NULL from PLAYING, %.3f GB file mid-stream (%u runs) | median "
      "%.1f ms, max %.1f ms |\n", big / 1e9, (guint) G_N_ELEMENTS (stop_us),
      stop_us[G_N_ELEMENTS (stop_us) / 2] / 1e3,
      stop_us[G_N_ELEMENTS (stop_us) - 1] / 1e3);
  printf ("| whole process | %.2f s |\n",
      (g_get_monotonic_time () - t_process) / 1e6);

  for (guint i = 0; i < small->len; i++)
    g_unlink (small->pdata[i]);
  for (guint i = 0; i < bigs->len; i++)
    g_unlink (bigs->pdata[i]);
  g_rmdir (dir);
  g_free (dir);
  g_ptr_array_unref (small);
  g_ptr_array_unref (bigs);
  g_free (expect);
  g_free (first);
  g_free (runs);
  if (failures)
    fprintf (stderr, "bench_engine: %u failures\n", failures);
  return failures ? 1 : 0;
}
