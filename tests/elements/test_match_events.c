/*
 * test_match_events.c - vyre_match_events_sort against qsort on the inputs
 * it sees (matches in end order, from several pattern lengths), on random
 * input, and on input built to need many moves (where it must hand over
 * to qsort and still be right).
 */
#include "ring_test_util.h"
#include "vyre-match-events.h"

static gint
by_offset_then_id (gconstpointer a, gconstpointer b)
{
  const GstVyreMatch *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  return (x->pattern_id > y->pattern_id) - (x->pattern_id < y->pattern_id);
}

/* Sort a copy both ways and compare element by element. */
static void
check_sorts_like_qsort (const char *what, GArray * in)
{
  GArray *want = g_array_copy (in);
  g_array_sort (want, by_offset_then_id);
  vyre_match_events_sort (in);
  CHECK_EQ_U64 (in->len, want->len);
  /* field by field: GstVyreMatch has padding, which memcmp would read */
  gboolean same = in->len == want->len;
  for (guint i = 0; same && i < in->len; i++) {
    const GstVyreMatch *x = &g_array_index (in, GstVyreMatch, i);
    const GstVyreMatch *y = &g_array_index (want, GstVyreMatch, i);
    same = x->offset == y->offset && x->pattern_id == y->pattern_id;
  }
  if (!same)
    fprintf (stderr, "%s: order differs from qsort\n", what);
  CHECK (same);
  g_array_unref (want);
}

/* What the kernel produces: events in end order, each expanding to the
 * patterns ending there (longest first or any order), start = end+1-len. */
static GArray *
end_ordered (guint64 * rng, guint n_events, guint max_len)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  guint64 end = max_len;
  for (guint i = 0; i < n_events; i++) {
    end += 1 + ring_test_rand (rng) % 8;
    guint k = 1 + ring_test_rand (rng) % 3;
    for (guint j = 0; j < k; j++) {
      guint len = 1 + ring_test_rand (rng) % max_len;
      GstVyreMatch m = {.pattern_id = (guint32) (ring_test_rand (rng) % 1000),
        .offset = end + 1 - len };
      g_array_append_val (a, m);
    }
  }
  return a;
}

int
main (void)
{
  guint64 rng = ring_test_seed ();

  GArray *a = end_ordered (&rng, (guint) ring_test_scaled (200000), 16);
  check_sorts_like_qsort ("end-ordered, patterns up to 16 bytes", a);
  g_array_unref (a);

  a = end_ordered (&rng, (guint) ring_test_scaled (20000), 4000);
  check_sorts_like_qsort ("end-ordered, patterns up to 4000 bytes", a);
  g_array_unref (a);

  /* Reversed: the worst case for insertion sort; must fall back. */
  a = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  for (guint i = 0; i < 100000; i++) {
    GstVyreMatch m = {.pattern_id = i % 7,.offset = 100000 - i };
    g_array_append_val (a, m);
  }
  double t0 = ring_test_now ();
  check_sorts_like_qsort ("reversed", a);
  fprintf (stderr, "reversed 100,000: %.3f s (quadratic would be minutes)\n",
      ring_test_now () - t0);
  g_array_unref (a);

  /* Random, with equal offsets (ties broken by pattern id), and tiny. */
  for (guint n = 0; n < 40; n++) {
    a = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
    for (guint i = 0; i < n * n; i++) {
      GstVyreMatch m = {.pattern_id = (guint32) (ring_test_rand (&rng) % 5),
        .offset = ring_test_rand (&rng) % (n + 1) };
      g_array_append_val (a, m);
    }
    check_sorts_like_qsort ("random", a);
    g_array_unref (a);
  }
  return ring_test_finish ("test_match_events");
}
