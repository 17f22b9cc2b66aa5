/* gst-vyre
 *
 * test_job_pack.c - vyre-job-pack: which buffers share a GPU job, and
 * the job's matches split back among its files, against a reference that
 * matches every file on its own.
 *
 * The split is given what the kernel reports for the run: every (pattern,
 * end) of the files' concatenation, including matches that begin in one
 * file and end in a later one; each file must get exactly its own
 * matches.  Runs are random (seed VYRE_TEST_SEED), with empty files,
 * 1-byte files and patterns that straddle every boundary.
 */
#include <gst/gst.h>
#include <string.h>

#include "gstvyrefilemeta.h"
#include "vyre-job-pack.h"

/* A buffer of `size` bytes (a copy of data) that is a whole file. */
static GstBuffer *
file_buffer (const guint8 * data, gsize size, guint64 stream_offset,
    guint index)
{
  GstBuffer *buf = size ? gst_buffer_new_memdup (data, size) :
      gst_buffer_new ();
  GST_BUFFER_OFFSET (buf) = stream_offset;
  gchar *path = g_ref_string_new ("f");
  gst_buffer_add_vyre_file_meta (buf, index, path, 0, size);
  g_ref_string_release (path);
  return buf;
}

/* Every (pattern, start) in data[0, len) at stream offset base, by end,
 * as the kernel finds them: all patterns ending at each position. */
static void
find_all (const guint8 * data, gsize len, guint64 base,
    const gchar * const *patterns, guint n_patterns, GArray * out)
{
  for (gsize end = 0; end < len; end++)
    for (guint p = 0; p < n_patterns; p++) {
      gsize l = strlen (patterns[p]);
      if (l <= end + 1 && memcmp (data + end + 1 - l, patterns[p], l) == 0) {
        GstVyreMatch m = { p, base + end + 1 - l };
        g_array_append_val (out, m);
      }
    }
}

static gint
compare_matches (gconstpointer a, gconstpointer b)
{
  const GstVyreMatch *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  return (x->pattern_id > y->pattern_id) - (x->pattern_id < y->pattern_id);
}

static void
test_split_random (void)
{
  static const gchar *const patterns[] = { "ab", "ba", "abc", "cab", "a",
    "bcbc", "cccccc"
  };
  const guint n_patterns = G_N_ELEMENTS (patterns);
  guint pattern_len[G_N_ELEMENTS (patterns)];
  for (guint p = 0; p < n_patterns; p++)
    pattern_len[p] = strlen (patterns[p]);
  const gchar *seed_env = g_getenv ("VYRE_TEST_SEED");
  GRand *rnd = g_rand_new_with_seed (seed_env ? atoi (seed_env) : 20261206);

  for (guint run = 0; run < 300; run++) {
    guint n_files = g_rand_int_range (rnd, 1, 12);
    VyreJobPack *pack = vyre_job_pack_new (1 << 20, 0);
    GByteArray *all = g_byte_array_new ();
    GPtrArray *expect = g_ptr_array_new_with_free_func ((GDestroyNotify)
        g_array_unref);
    guint64 base = g_rand_int_range (rnd, 0, 1000);
    for (guint f = 0; f < n_files; f++) {
      /* empty, 1-byte and short files of a, b, c (many matches) */
      gsize size = g_rand_int_range (rnd, 0, 4) == 0 ?
          g_rand_int_range (rnd, 0, 2) : g_rand_int_range (rnd, 2, 40);
      guint8 data[40];
      for (gsize i = 0; i < size; i++)
        data[i] = 'a' + g_rand_int_range (rnd, 0, 3);
      GArray *mine = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
      find_all (data, size, base + all->len, patterns, n_patterns, mine);
      g_ptr_array_add (expect, mine);
      GstBuffer *buf = file_buffer (data, size, base + all->len, f);
      g_assert_true (vyre_job_pack_takes (buf, size, 1 << 20));
      g_assert_true (vyre_job_pack_continues (pack, buf, 4096 + all->len,
              size));
      vyre_job_pack_add_buffer (pack, buf, 4096 + all->len);
      if (g_rand_boolean (rnd))
        vyre_job_pack_add_event (pack, gst_event_new_tag (gst_tag_list_new
                (GST_TAG_LOCATION, "f", NULL)));
      g_byte_array_append (all, data, size);
    }
    g_assert_cmpuint (pack->n_buffers, ==, n_files);
    g_assert_cmpuint (pack->len, ==, all->len);
    g_assert_cmpuint (pack->stream_offset, ==, base);

    /* What the kernel reports for the run, in end order. */
    GArray *found = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
    find_all (all->data, all->len, base, patterns, n_patterns, found);
    guint64 own = 0;
    for (guint f = 0; f < n_files; f++)
      own += ((GArray *) expect->pdata[f])->len;

    GArray **per = g_new (GArray *, n_files);
    guint64 dropped = vyre_job_pack_split (pack, found, pattern_len, per);
    g_assert_cmpuint (dropped, ==, found->len - own);
    for (guint f = 0; f < n_files; f++) {
      GArray *want = expect->pdata[f];
      g_array_sort (want, compare_matches);
      g_assert_cmpuint (per[f]->len, ==, want->len);
      for (guint k = 0; k < want->len; k++) {
        const GstVyreMatch *a = &g_array_index (per[f], GstVyreMatch, k);
        const GstVyreMatch *b = &g_array_index (want, GstVyreMatch, k);
        g_assert_cmpuint (a->offset, ==, b->offset);
        g_assert_cmpuint (a->pattern_id, ==, b->pattern_id);
      }
      g_array_unref (per[f]);
    }
    g_free (per);
    g_array_unref (found);
    g_ptr_array_unref (expect);
    g_byte_array_unref (all);
    vyre_job_pack_free (pack);
  }
  g_rand_free (rnd);
}

/* Which buffers join a pack: whole files only, small enough, next in the
 * stream and in the arena, within the limit. */
static void
test_membership (void)
{
  guint8 data[600] = { 0 };
  VyreJobPack *pack = vyre_job_pack_new (1000, 0);

  GstBuffer *a = file_buffer (data, 100, 0, 0);
  g_assert_true (vyre_job_pack_takes (a, 100, 1000));
  g_assert_true (vyre_job_pack_continues (pack, a, 5000, 100));
  vyre_job_pack_add_buffer (pack, a, 5000);

  /* Not a whole file: a piece of a larger one, or no file meta at all. */
  GstBuffer *piece = gst_buffer_new_memdup (data, 100);
  g_assert_false (vyre_job_pack_takes (piece, 100, 1000));
  gchar *path = g_ref_string_new ("big");
  gst_buffer_add_vyre_file_meta (piece, 1, path, 0, 5000);
  g_assert_false (vyre_job_pack_takes (piece, 100, 1000));
  g_ref_string_release (path);
  gst_buffer_unref (piece);
  /* Larger than half the limit: gains nothing from sharing. */
  GstBuffer *big = file_buffer (data, 501, 100, 1);
  g_assert_false (vyre_job_pack_takes (big, 501, 1000));
  gst_buffer_unref (big);

  /* Next in the stream but elsewhere in the arena; a gap in the stream. */
  GstBuffer *b = file_buffer (data, 100, 100, 1);
  g_assert_false (vyre_job_pack_continues (pack, b, 5200, 100));
  g_assert_true (vyre_job_pack_continues (pack, b, 5100, 100));
  GstBuffer *gap = file_buffer (data, 100, 150, 1);
  g_assert_false (vyre_job_pack_continues (pack, gap, 5100, 100));
  gst_buffer_unref (gap);
  vyre_job_pack_add_buffer (pack, b, 5100);

  /* An empty file joins wherever its bytes would be. */
  GstBuffer *empty = file_buffer (NULL, 0, 200, 2);
  g_assert_true (vyre_job_pack_takes (empty, 0, 1000));
  g_assert_true (vyre_job_pack_continues (pack, empty, 0, 0));
  vyre_job_pack_add_buffer (pack, empty, 0);

  /* The limit: 200 bytes in, 400 more make 600; then 400 fit, 401 not. */
  GstBuffer *c = file_buffer (data, 400, 200, 3);
  g_assert_true (vyre_job_pack_continues (pack, c, 5200, 400));
  vyre_job_pack_add_buffer (pack, c, 5200);
  GstBuffer *d = file_buffer (data, 400, 600, 4);
  GstBuffer *d1 = file_buffer (data, 401, 600, 4);
  g_assert_true (vyre_job_pack_continues (pack, d, 5600, 400));
  g_assert_false (vyre_job_pack_continues (pack, d1, 5600, 401));
  gst_buffer_unref (d);
  gst_buffer_unref (d1);
  g_assert_cmpuint (pack->arena_offset, ==, 5000);
  g_assert_cmpuint (pack->len, ==, 600);
  g_assert_cmpuint (pack->n_buffers, ==, 4);
  vyre_job_pack_free (pack);

  /* A pack that starts with an empty file takes its arena offset from
   * the first file with bytes. */
  pack = vyre_job_pack_new (1000, 0);
  vyre_job_pack_add_buffer (pack, file_buffer (NULL, 0, 0, 0), 0);
  GstBuffer *e = file_buffer (data, 10, 0, 1);
  g_assert_true (vyre_job_pack_continues (pack, e, 777, 10));
  vyre_job_pack_add_buffer (pack, e, 777);
  g_assert_cmpuint (pack->arena_offset, ==, 777);
  vyre_job_pack_free (pack);

  /* Chunk edges (every 1024 bytes): a run may end on one but never
   * cross it, even with its bytes next in the arena. */
  pack = vyre_job_pack_new (1000, 1024);
  GstBuffer *f = file_buffer (data, 24, 0, 0);
  vyre_job_pack_add_buffer (pack, f, 1000);
  GstBuffer *g = file_buffer (data, 100, 24, 1);
  g_assert_false (vyre_job_pack_continues (pack, g, 1024, 100));
  gst_buffer_unref (g);
  vyre_job_pack_free (pack);
  pack = vyre_job_pack_new (1000, 1024);
  vyre_job_pack_add_buffer (pack, file_buffer (data, 24, 0, 0), 1024);
  GstBuffer *h = file_buffer (data, 100, 24, 1);
  g_assert_true (vyre_job_pack_continues (pack, h, 1048, 100));
  gst_buffer_unref (h);
  vyre_job_pack_free (pack);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/job-pack/split-random", test_split_random);
  g_test_add_func ("/job-pack/membership", test_membership);
  return g_test_run ();
}
