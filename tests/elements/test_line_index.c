/* gst-vyre
 *
 * test_line_index.c - vyre-line-index against a reference that walks the
 * bytes one by one: line and column (bytes and code points) of offsets
 * in a file read from the page cache and in bytes lent buffer by buffer
 * (positions exact across the buffers' edges, the bytes kept past a
 * release), "\r\n" lines, UTF-8 and stray bytes, offsets that go back, a
 * file that is shorter than the offset asked, the newline counter on
 * every length and alignment.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vyre-line-index.h"

/* The reference: line and columns of the byte at `offset`. */
static VyreLinePosition
reference (const guint8 * data, guint64 offset)
{
  VyreLinePosition p = { 1, 1, 1 };
  for (guint64 i = 0; i < offset; i++) {
    if (data[i] == '\n') {
      p.line++;
      p.column = 1;
      p.column_chars = 1;
    } else {
      p.column++;
      if ((data[i] & 0xC0) != 0x80)
        p.column_chars++;
    }
  }
  return p;
}

/* The same, carried on from the reference position *p of byte *at (for
 * increasing offsets: one walk over the bytes in all). */
static VyreLinePosition
reference_from (const guint8 * data, guint64 offset, VyreLinePosition * p,
    guint64 * at)
{
  for (; *at < offset; (*at)++) {
    if (data[*at] == '\n') {
      p->line++;
      p->column = 1;
      p->column_chars = 1;
    } else {
      p->column++;
      if ((data[*at] & 0xC0) != 0x80)
        p->column_chars++;
    }
  }
  return *p;
}

/* Text with short and long lines, empty lines, "\r\n", multi-byte UTF-8
 * and a few stray continuation bytes. */
static guint8 *
make_text (gsize len, guint32 seed)
{
  static const char *pieces[] = { "a", "word ", "\n", "\r\n", "\n\n",
    "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91", "\x80", "key=value ",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  };
  guint8 *d = g_malloc (len);
  gsize pos = 0;
  guint32 x = seed * 2654435761u + 1;
  while (pos < len) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const char *p = pieces[x % G_N_ELEMENTS (pieces)];
    for (gsize k = 0; p[k] && pos < len; k++)
      d[pos++] = (guint8) p[k];
  }
  return d;
}

static void
check_position (VyreLineIndex * idx, const guint8 * data, guint64 offset)
{
  VyreLinePosition got, want = reference (data, offset);
  g_assert_true (vyre_line_index_locate (idx, offset, &got));
  if (got.line != want.line || got.column != want.column
      || got.column_chars != want.column_chars)
    g_error ("offset %" G_GUINT64_FORMAT ": line %" G_GUINT64_FORMAT
        " column %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " chars), "
        "expected %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " (%"
        G_GUINT64_FORMAT ")", offset, got.line, got.column, got.column_chars,
        want.line, want.column, want.column_chars);
}

static gint
cmp_u64 (gconstpointer x, gconstpointer y)
{
  guint64 u = *(const guint64 *) x, v = *(const guint64 *) y;
  return u < v ? -1 : u > v;
}

/* Offsets to ask, increasing: the first and last bytes, bytes on both
 * sides of the 1 MiB read pieces, and random ones. */
static GArray *
offsets_for (gsize len, guint32 seed)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 fixed[] = { 0, 1, (1u << 20) - 1, 1u << 20, (1u << 20) + 1,
    (2u << 20) + 3, len - 1
  };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (fixed[i] < len)
      g_array_append_val (a, fixed[i]);
  GRand *r = g_rand_new_with_seed (seed);
  for (guint i = 0; i < 300; i++) {
    guint64 o = (guint64) g_rand_double_range (r, 0, (gdouble) len);
    g_array_append_val (a, o);
  }
  g_rand_free (r);
  g_array_sort (a, cmp_u64);
  return a;
}

static void
test_file (void)
{
  gsize len = (3u << 20) + 12345;
  guint8 *data = make_text (len, 1);
  gchar *dir = g_dir_make_tmp ("vyre-line-index-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "text.txt", NULL);
  g_assert_true (g_file_set_contents (path, (const gchar *) data, len, NULL));

  VyreLineIndex *idx = vyre_line_index_new (TRUE);
  vyre_line_index_begin_file (idx, path);
  g_assert_true (vyre_line_index_reads_file (idx));
  GArray *offs = offsets_for (len, 2);
  for (guint i = 0; i < offs->len; i++)
    check_position (idx, data, g_array_index (offs, guint64, i));
  /* Going back restarts the count from the file's start. */
  check_position (idx, data, 5000);
  check_position (idx, data, len - 2);

  /* Past the end of the file: unknown, never a guess. */
  VyreLinePosition pos;
  g_assert_false (vyre_line_index_locate (idx, len + 10, &pos));
  /* Snippets come from the same bytes. */
  GBytes *b = vyre_line_index_get_bytes (idx, 100, 140);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 40);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), 40, data + 100, 40);
  g_bytes_unref (b);
  b = vyre_line_index_get_bytes (idx, len - 5, len + 100);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 5);
  g_bytes_unref (b);

  /* A missing file: positions past its start unknown. */
  gchar *missing = g_build_filename (dir, "missing.txt", NULL);
  vyre_line_index_begin_file (idx, missing);
  g_assert_false (vyre_line_index_locate (idx, 10, &pos));

  vyre_line_index_free (idx);
  g_array_unref (offs);
  g_unlink (path);
  g_rmdir (dir);
  g_free (missing);
  g_free (path);
  g_free (dir);
  g_free (data);
}

/* Newline counts the scan made (vyresink passes its histogram's '\n' bin
 * per buffer): positions are exact whether the index jumps over the
 * counted pieces or reads them, on lines far longer than a read piece
 * (the first line of the file among them), with pieces given as the
 * buffers pass between the positions asked; a gap in the pieces falls
 * back to reading; and the counts are really used: a wrong one shows. */
static void
test_scan_counts (void)
{
  gsize len = (6u << 20) + 777;
  guint8 *data = make_text (len, 3);
  /* Long lines: the file's first 1.5 MiB, and 2.5 MiB in the middle. */
  for (gsize i = 0; i < (3u << 19); i++)
    data[i] = (i % 7) ? 'x' : 0xc3;
  for (gsize i = (3u << 20); i < (11u << 19); i++)
    data[i] = (i % 5) ? 'y' : 0x80;
  gchar *dir = g_dir_make_tmp ("vyre-line-index-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "text.txt", NULL);
  g_assert_true (g_file_set_contents (path, (const gchar *) data, len, NULL));

  for (guint round = 0; round < 6; round++) {
    gboolean chars = round % 2 == 0;
    /* round 2-3: one piece left out (a gap); 4-5: the first piece's
     * count off by 1000 */
    VyreLineIndex *idx = vyre_line_index_new (chars);
    vyre_line_index_begin_file (idx, path);
    GRand *r = g_rand_new_with_seed (10 + round);
    GArray *offs = offsets_for (len, 20 + round);
    guint next_off = 0, piece = 0;
    guint64 at = 0, ref_at = 0;
    VyreLinePosition ref = { 1, 1, 1 };
    while (at < len) {
      guint64 want = (guint64) g_rand_int_range (r, 1, 600000);
      guint64 n = MIN (len - at, want);
      guint64 nl = vyre_count_newlines (data + at, n);
      if (round >= 4 && piece == 0)
        nl += 1000;
      if (!(round >= 2 && round < 4 && piece == 3))
        vyre_line_index_add_newline_count (idx, at, n, nl);
      piece++;
      at += n;
      /* the positions in this piece, asked after it came */
      while (next_off < offs->len &&
          g_array_index (offs, guint64, next_off) < at) {
        guint64 o = g_array_index (offs, guint64, next_off++);
        VyreLinePosition got, want = reference_from (data, o, &ref, &ref_at);
        g_assert_true (vyre_line_index_locate (idx, o, &got));
        if (round >= 4 && o >= at - n && piece > 1) {
          /* past the wrong piece: off by exactly what it claimed */
          g_assert_cmpuint (got.line, ==, want.line + 1000);
          continue;
        }
        if (got.line != want.line || got.column != want.column
            || got.column_chars != (chars ? want.column_chars : 0))
          g_error ("round %u offset %" G_GUINT64_FORMAT ": line %"
              G_GUINT64_FORMAT " column %" G_GUINT64_FORMAT " (%"
              G_GUINT64_FORMAT " chars), expected %" G_GUINT64_FORMAT " %"
              G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT ")", round, o,
              got.line, got.column, got.column_chars, want.line,
              want.column, want.column_chars);
      }
    }
    g_array_unref (offs);
    g_rand_free (r);
    vyre_line_index_free (idx);
  }
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
}

/* Bytes lent buffer by buffer, as vyresink does for a stream without a
 * file: positions of offsets in the current loan and of offsets just
 * before it (kept from the previous one) are exact. */
static void
test_lent (void)
{
  gsize len = (2u << 20) + 777;
  guint8 *data = make_text (len, 3);
  GArray *offs = offsets_for (len, 4);
  VyreLineIndex *idx = vyre_line_index_new (TRUE);
  vyre_line_index_begin_file (idx, NULL);
  g_assert_false (vyre_line_index_reads_file (idx));
  GRand *r = g_rand_new_with_seed (5);
  guint next = 0;
  guint64 at = 0;
  const guint keep = 64;        /* a pattern's length: what is kept */
  while (at < len) {
    gsize n = MIN ((gsize) g_rand_int_range (r, 1, 70000), len - at);
    vyre_line_index_lend_bytes (idx, at, data + at, n);
    /* matches end in this buffer and may start up to `keep` before it */
    while (next < offs->len && g_array_index (offs, guint64, next) < at + n) {
      guint64 o = g_array_index (offs, guint64, next++);
      if (o + keep >= at)
        check_position (idx, data, o);
    }
    at += n;
    vyre_line_index_release (idx, at > keep ? at - keep : 0);
  }
  g_assert_cmpuint (next, ==, offs->len);
  /* Released bytes are unknown. */
  VyreLinePosition pos;
  g_assert_false (vyre_line_index_locate (idx, 0, &pos));
  g_rand_free (r);
  vyre_line_index_free (idx);
  g_array_unref (offs);
  g_free (data);
}

/* Without count_chars, column_chars stays 0. */
static void
test_no_chars (void)
{
  const guint8 text[] = "\xc3\xa9t\xc3\xa9\nab";
  VyreLineIndex *idx = vyre_line_index_new (FALSE);
  vyre_line_index_begin_file (idx, NULL);
  vyre_line_index_lend_bytes (idx, 0, text, sizeof text - 1);
  VyreLinePosition pos;
  g_assert_true (vyre_line_index_locate (idx, 4, &pos));
  g_assert_cmpuint (pos.line, ==, 1);
  g_assert_cmpuint (pos.column, ==, 5);
  g_assert_cmpuint (pos.column_chars, ==, 0);
  g_assert_true (vyre_line_index_locate (idx, 7, &pos));
  g_assert_cmpuint (pos.line, ==, 2);
  g_assert_cmpuint (pos.column, ==, 2);
  vyre_line_index_free (idx);
}

/* The vectorised counter equals a plain count on every length from 0 to
 * 600 at every alignment of 16, and on a buffer long enough to overflow
 * its per-lane byte counters many times. */
static void
test_count_newlines (void)
{
  gsize big = 1u << 20;
  guint8 *d = g_malloc (big + 16);
  for (gsize i = 0; i < big + 16; i++)
    d[i] = (i * 7 + i / 3) % 5 == 0 ? '\n' : 'x';
  for (gsize align = 0; align < 16; align++)
    for (gsize len = 0; len <= 600; len++) {
      guint64 want = 0;
      for (gsize i = 0; i < len; i++)
        want += d[align + i] == '\n';
      g_assert_cmpuint (vyre_count_newlines (d + align, len), ==, want);
    }
  memset (d, '\n', big);
  g_assert_cmpuint (vyre_count_newlines (d, big), ==, big);
  g_free (d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/line-index/file", test_file);
  g_test_add_func ("/line-index/scan-counts", test_scan_counts);
  g_test_add_func ("/line-index/lent", test_lent);
  g_test_add_func ("/line-index/no-chars", test_no_chars);
  g_test_add_func ("/line-index/count-newlines", test_count_newlines);
  return g_test_run ();
}
