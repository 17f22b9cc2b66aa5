/* gst-vyre
 *
 * bench_line_index.c - what line numbers cost vyresink (gst/vyre-line-index.c),
 * no device needed.  Prints a table: the newline counter alone on bytes
 * in memory, and the line of each match asked of a page-cached file the
 * way vyresink asks (in order, counting from the previous match), for
 * matches that are sparse (one per MiB) and dense (one per 100 bytes).
 * Compare the GB/s with the scan's (docs/benchmarks.md): the worst case is
 * a file with a match near its end, whose every byte is counted once.
 * Each again with the scan's newline counts per 1 MiB buffer (vyresink
 * hands the index its histograms' '\n' bins): then only the bytes from
 * a buffer's start to the match are read, and back to the line's start.
 *
 *   bench_line_index [MIB]      (default 1024: the file's size in MiB)
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "vyre-line-index.h"

static double
seconds_since (gint64 t0)
{
  return (g_get_monotonic_time () - t0) / 1e6;
}

int
main (int argc, char **argv)
{
  guint64 mib = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 1024;
  gsize len = (gsize) mib << 20;
  guint8 *data = g_malloc (len);
  /* lines of 20 to 120 bytes */
  guint32 x = 1;
  for (gsize i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (x >> 16) % 70 == 0 ? '\n' : 'a' + (x >> 20) % 26;
  }
  gchar *path = g_build_filename (g_get_tmp_dir (), "bench-line-index.txt",
      NULL);
  if (!g_file_set_contents (path, (const gchar *) data, len, NULL)) {
    fprintf (stderr, "bench_line_index: cannot write %s\n", path);
    return 1;
  }

  /* 1. the counter on bytes in memory (best of 3) */
  double best = 1e9;
  guint64 lines = 0;
  for (guint r = 0; r < 3; r++) {
    gint64 t0 = g_get_monotonic_time ();
    lines = vyre_count_newlines (data, len);
    best = MIN (best, seconds_since (t0));
  }
  printf ("| measure | value |\n|---|---|\n");
  printf ("| newline counter, %" G_GUINT64_FORMAT " MiB in memory (%"
      G_GUINT64_FORMAT " lines) | %.2f GB/s |\n", mib, lines, len / best / 1e9);

  /* 2. positions asked of the page-cached file, as vyresink does */
  struct
  {
    const gchar *name;
    guint64 step;
  } kinds[] = {
    {"sparse: a match per MiB", 1u << 20},
    {"dense: a match per 100 bytes", 100},
    {"one match, at the file's end", len - 1},
  };
  /* the scan's counts: newlines per 1 MiB buffer (not timed: the GPU
   * counts them while it scans) */
  guint64 n_pieces = (len + (1u << 20) - 1) >> 20;
  guint64 *piece_newlines = g_new (guint64, n_pieces);
  for (guint64 p = 0; p < n_pieces; p++)
    piece_newlines[p] = vyre_count_newlines (data + (p << 20),
        MIN (len - (p << 20), 1u << 20));
  for (guint with_counts = 0; with_counts < 2; with_counts++) {
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
      double t_best = 1e9;
      guint64 n = 0;
      for (guint r = 0; r < 3; r++) {
        VyreLineIndex *idx = vyre_line_index_new (FALSE);
        vyre_line_index_begin_file (idx, path);
        gint64 t0 = g_get_monotonic_time ();
        for (guint64 p = 0; with_counts && p < n_pieces; p++)
          vyre_line_index_add_newline_count (idx, p << 20,
              MIN (len - (p << 20), 1u << 20), piece_newlines[p]);
        VyreLinePosition pos = { 0, 0, 0 };
        n = 0;
        for (guint64 off = kinds[k].step; off < len; off += kinds[k].step) {
          if (!vyre_line_index_locate (idx, off, &pos)) {
            fprintf (stderr, "bench_line_index: offset %" G_GUINT64_FORMAT
                " unknown\n", off);
            return 1;
          }
          n++;
        }
        t_best = MIN (t_best, seconds_since (t0));
        vyre_line_index_free (idx);
      }
      printf ("| %s (%" G_GUINT64_FORMAT " positions), file of %"
          G_GUINT64_FORMAT " MiB%s | %.2f GB/s of file, %.0f ns per match "
          "|\n", kinds[k].name, n, mib, with_counts ?
          ", the scan's newline counts" : "", len / t_best / 1e9,
          t_best * 1e9 / MAX (n, 1));
    }
  }
  g_free (piece_newlines);
  /* with columns in code points (SARIF) */
  {
    VyreLineIndex *idx = vyre_line_index_new (TRUE);
    vyre_line_index_begin_file (idx, path);
    gint64 t0 = g_get_monotonic_time ();
    VyreLinePosition pos;
    vyre_line_index_locate (idx, len - 1, &pos);
    double t = seconds_since (t0);
    vyre_line_index_free (idx);
    printf ("| one match at the end, columns in code points too (SARIF) | "
        "%.2f GB/s of file |\n", len / t / 1e9);
  }
  g_unlink (path);
  g_free (path);
  g_free (data);
  return 0;
}
