/*
 * bench_report.c - vyresink's cost per match of writing the matches file
 * (JSON Lines, gst/vyre-report.c), no device needed.  Prints a table row:
 * matches written, ns per match, MB/s of output.  The file goes to
 * $TMPDIR (a page-cache write: the formatting is what is measured).
 *
 *   bench_report [MATCHES]      (default 5,000,000)
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "vyre-report.h"

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  guint64 n = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 5000000;
  static const gchar *patterns[] = { "e", "ee", "the", "\\x00\\x00\\x00\\x00",
    "BEGIN RSA PRIVATE KEY", "p\"quoted\"", "AKIAIOSFODNN7EXAMPLE"
  };
  gchar *path = g_build_filename (g_get_tmp_dir (), "bench-report.jsonl",
      NULL);
  GError *err = NULL;
  VyreReportWriter *w = vyre_report_writer_open (path, "matches file",
      VYRE_REPORT_FORMAT_JSON_LINES, &err);
  if (w == NULL) {
    g_printerr ("bench_report: %s\n", err->message);
    return 1;
  }
  guint32 rng = 1;
  gint64 t0 = g_get_monotonic_time ();
  for (guint64 i = 0; i < n; i++) {
    rng = rng * 1103515245u + 12345u;
    guint id = (rng >> 16) % G_N_ELEMENTS (patterns);
    VyreReportMatch m = VYRE_REPORT_MATCH_INIT;
    m.offset = i * 7;
    m.pattern_id = id;
    m.pattern = patterns[id];
    if (!vyre_report_writer_add_match (w, &m, &err)) {
      g_printerr ("bench_report: %s\n", err->message);
      return 1;
    }
  }
  if (!vyre_report_writer_finish (w, NULL, &err)) {
    g_printerr ("bench_report: %s\n", err->message);
    return 1;
  }
  gint64 t1 = g_get_monotonic_time ();
  GStatBuf st;
  g_stat (path, &st);
  vyre_report_writer_free (w);
  g_unlink (path);
  g_free (path);
  double s = (t1 - t0) / 1e6;
  g_print ("| matches file (JSON Lines) | %" G_GUINT64_FORMAT " matches | "
      "%.1f ns per match | %.0f MB/s |\n", n, s * 1e9 / n, st.st_size / s / 1e6);
  return 0;
}
