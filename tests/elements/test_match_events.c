/*
 * test_match_events.c - vyre_match_events_sort against qsort on the inputs
 * it sees (matches in end order, from several pattern lengths), on random
 * input, and on input built to need many moves (where it must hand over
 * to qsort and still be right).  And reading result records while they
 * land: the check sum the expansion takes in passing equals ring/'s
 * reference sum and the kernel's; a torn record is read again until whole
 * (a thread lands the missing word later); one that never agrees is an
 * error with a Fix and leaves the matches as they were.  Counts per
 * pattern equal a plain count; appending a job's sorted matches keeps a
 * buffer's sorted.
 */
#include <string.h>

#include "result_check.h"
#include "ring_test_util.h"
#include "vyre-automaton.h"
#include "vyre-match-events.h"
#include "vyre-result-read.h"

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

#define MAX_MATCHES (VYRE_RESULT_LANES * 16u)
#define RECORD_WORDS (VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * MAX_MATCHES)

/* A record as the kernel writes it, events in states that end patterns;
 * the completion carries the kernel's sums (summed as it stores). */
static void
write_record (guint32 * rec, const guint32 * table, guint64 * rng,
    vyre_completion * c)
{
  const guint32 *out_index = table + table[VYRE_TABLE_OUT_INDEX_OFF];
  guint32 nstates = table[VYRE_TABLE_NSTATES];
  memset (c, 0, sizeof *c);
  for (guint32 l = 0; l < VYRE_RESULT_LANES; l++) {
    guint32 n = (guint32) (ring_test_rand (rng) % (MAX_MATCHES / VYRE_RESULT_LANES + 1));
    for (guint32 e = 0; e < n; e++) {
      guint32 state;
      do
        state = (guint32) (ring_test_rand (rng) % nstates);
      while (out_index[state + 1] == out_index[state]);
      guint32 mb = VYRE_RESULT_HEADER_WORDS + (e * VYRE_RESULT_LANES + l) * VYRE_MATCH_WORDS;
      guint32 *ev = rec + mb;
      ev[VYRE_MATCH_STATE] = state;
      ev[VYRE_MATCH_END_LO] = 100 + (guint32) (ring_test_rand (rng) % 100000);
      ev[VYRE_MATCH_END_HI] = (guint32) (ring_test_rand (rng) & 1);
      ev[VYRE_MATCH_COUNT] = out_index[state + 1] - out_index[state];
      c->result_check += VYRE_CHECK_TERM (mb, VYRE_CHECK_EVENT (state,
              ev[VYRE_MATCH_END_LO], ev[VYRE_MATCH_END_HI],
              ev[VYRE_MATCH_COUNT]));
      c->matches_stored += ev[VYRE_MATCH_COUNT];
    }
    rec[VYRE_RESULT_LANE_EVENTS + l] = n;
    c->result_check += VYRE_CHECK_TERM (VYRE_RESULT_LANE_EVENTS + l, n);
    c->events += n;
  }
  for (guint b = 0; b < 256; b++) {
    rec[VYRE_RESULT_HIST + b] = (guint32) (ring_test_rand (rng) % 1000);
    c->hist_check += VYRE_CHECK_TERM (VYRE_RESULT_HIST + b, rec[VYRE_RESULT_HIST + b]);
  }
  c->matches = c->matches_stored;
}

typedef struct
{
  guint32 *word;
  guint32 value;
} Landing;

/* The straggler: lands 20 ms after the reader started. */
static gpointer
land_later (gpointer data)
{
  Landing *l = data;
  g_usleep (20000);
  __atomic_store_n (l->word, l->value, __ATOMIC_RELEASE);
  return NULL;
}

static void
test_read_while_landing (guint64 * rng)
{
  const char *pats[] = { "he", "she", "his", "hers", "e", NULL };
  GPtrArray *p = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; pats[i]; i++)
    g_ptr_array_add (p, g_bytes_new_static (pats[i], strlen (pats[i])));
  GError *err = NULL;
  VyreAutomaton *a = vyre_automaton_compile (p, FALSE, 0, &err);
  g_assert_no_error (err);
  guint32 *rec = g_new0 (guint32, RECORD_WORDS);
  vyre_completion c;

  /* Whole: the expansion's sum = the reference sum = the kernel's. */
  for (guint round = 0; round < 20; round++) {
    write_record (rec, a->words, rng, &c);
    GArray *m = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
    guint corrupt = 0;
    guint32 sum = 0;
    vyre_match_events_expand (a->words, rec, MAX_MATCHES, G_MAXUINT, m,
        NULL, &corrupt, &sum);
    CHECK_EQ_U64 (sum, c.result_check);
    CHECK_EQ_U64 (vyre_result_events_check (rec, MAX_MATCHES), c.result_check);
    CHECK_EQ_U64 (vyre_result_hist_check (rec), c.hist_check);
    CHECK_EQ_U64 (m->len, c.matches_stored);
    CHECK_EQ_U64 (corrupt, 0);
    g_array_unref (m);
  }

  /* Torn: one event's END_LO still the old value; it lands later.  The
   * reader must end with exactly the whole record's matches. */
  write_record (rec, a->words, rng, &c);
  GArray *want = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  guint corrupt = 0;
  guint64 dropped = 0, torn = 0;
  CHECK (vyre_result_read_events (a->words, rec, MAX_MATCHES, &c, G_MAXUINT,
          want, NULL, &dropped, &corrupt, &torn, &err));
  CHECK_EQ_U64 (torn, 0);
  guint32 lane = 0;
  while (rec[VYRE_RESULT_LANE_EVENTS + lane] == 0)
    lane++;
  Landing l = { rec + VYRE_RESULT_HEADER_WORDS + lane * VYRE_MATCH_WORDS
        + VYRE_MATCH_END_LO, 0 };
  l.value = *l.word;
  *l.word = l.value + 7;
  GArray *got = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  GstVyreMatch keep = {.pattern_id = 99,.offset = 1 };
  g_array_append_val (got, keep);       /* matches already there stay */
  GThread *t = g_thread_new ("land", land_later, &l);
  CHECK (vyre_result_read_events (a->words, rec, MAX_MATCHES, &c, G_MAXUINT,
          got, NULL, &dropped, &corrupt, &torn, &err));
  g_thread_join (t);
  CHECK_EQ_U64 (torn, 1);
  CHECK_EQ_U64 (got->len, want->len + 1);
  gboolean same = got->len == want->len + 1;
  for (guint i = 0; same && i < want->len; i++) {
    GstVyreMatch *x = &g_array_index (got, GstVyreMatch, i + 1);
    GstVyreMatch *y = &g_array_index (want, GstVyreMatch, i);
    same = x->offset == y->offset && x->pattern_id == y->pattern_id;
  }
  CHECK (same);

  /* The histogram: the same, with a count still the old one. */
  guint32 hist[256];
  Landing h = { rec + VYRE_RESULT_HIST + 200, rec[VYRE_RESULT_HIST + 200] };
  *h.word = h.value + 1;
  t = g_thread_new ("land", land_later, &h);
  CHECK (vyre_result_read_histogram (rec, &c, hist, &torn, &err));
  g_thread_join (t);
  CHECK_EQ_U64 (torn, 2);
  CHECK_EQ_U64 (hist[200], h.value);

  /* Never whole: an error with a Fix, the matches as they were. */
  *l.word = l.value + 7;
  guint before = got->len;
  CHECK (!vyre_result_read_events (a->words, rec, MAX_MATCHES, &c, G_MAXUINT,
          got, NULL, &dropped, &corrupt, &torn, &err));
  CHECK (err != NULL && strstr (err->message, "Fix:") != NULL);
  CHECK_EQ_U64 (got->len, before);
  g_clear_error (&err);

  /* No events stored: nothing is read (the counts here are garbage). */
  vyre_completion none = c;
  none.events = 0;
  none.result_check = 0;
  CHECK (vyre_result_read_events (a->words, rec, MAX_MATCHES, &none,
          G_MAXUINT, got, NULL, &dropped, &corrupt, &torn, &err));
  CHECK_EQ_U64 (got->len, before);

  g_array_unref (want);
  g_array_unref (got);
  g_free (rec);
  vyre_automaton_free (a);
  g_ptr_array_unref (p);
}

/* vyre_match_events_count against a plain count, on both of its ways:
 * few matches among many patterns (sorted ids) and many among few (a
 * table), with ids not stored added. */
static void
check_counts (guint64 * rng, guint n_matches, guint n_ids, guint n_patterns)
{
  GArray *m = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint64 *want = g_new0 (guint64, n_patterns);
  for (guint i = 0; i < n_matches; i++) {
    GstVyreMatch x = {.pattern_id =
          (guint32) (ring_test_rand (rng) % n_patterns),.offset = i };
    g_array_append_val (m, x);
    want[x.pattern_id]++;
  }
  for (guint i = 0; i < n_ids; i++) {
    guint32 id = (guint32) (ring_test_rand (rng) % n_patterns);
    g_array_append_val (ids, id);
    want[id]++;
  }
  GArray *c = vyre_match_events_count (m, n_ids ? ids : NULL, n_patterns);
  CHECK ((c == NULL) == (n_matches + n_ids == 0));
  if (c == NULL)
    c = g_array_new (FALSE, FALSE, sizeof (GstVyrePatternCount));
  guint k = 0;
  for (guint p = 0; p < n_patterns; p++) {
    if (want[p] == 0)
      continue;
    CHECK (k < c->len);
    if (k >= c->len)
      break;
    const GstVyrePatternCount *pc = &g_array_index (c, GstVyrePatternCount,
        k++);
    CHECK_EQ_U64 (pc->pattern_id, p);
    CHECK_EQ_U64 (pc->count, want[p]);
  }
  CHECK_EQ_U64 (c->len, k);
  g_array_unref (c);
  g_array_unref (m);
  g_array_unref (ids);
  g_free (want);
}

/* vyre_match_events_append_sorted equals sorting the concatenation: two
 * jobs' matches whose ranges overlap by `overlap` (straddlers), and two
 * that overlap wholly (its hand-over to the full sort). */
static void
check_append_sorted (guint64 * rng, guint n, guint64 overlap)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  GArray *b = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  for (guint i = 0; i < n; i++) {
    GstVyreMatch x = {.pattern_id = (guint32) (ring_test_rand (rng) % 9),
      .offset = ring_test_rand (rng) % 10000
    };
    GstVyreMatch y = {.pattern_id = (guint32) (ring_test_rand (rng) % 9),
      .offset = 10000 - overlap + ring_test_rand (rng) % 10000
    };
    g_array_append_val (a, x);
    g_array_append_val (b, y);
  }
  vyre_match_events_sort (a);
  vyre_match_events_sort (b);
  GArray *want = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  g_array_append_vals (want, a->data, a->len);
  g_array_append_vals (want, b->data, b->len);
  vyre_match_events_sort (want);
  vyre_match_events_append_sorted (a, b);
  CHECK_EQ_U64 (a->len, want->len);
  /* field by field: the structs' padding is never written */
  guint differ = 0;
  for (guint i = 0; i < MIN (a->len, want->len); i++) {
    const GstVyreMatch *x = &g_array_index (a, GstVyreMatch, i);
    const GstVyreMatch *y = &g_array_index (want, GstVyreMatch, i);
    differ += x->offset != y->offset || x->pattern_id != y->pattern_id;
  }
  CHECK_EQ_U64 (differ, 0);
  g_array_unref (a);
  g_array_unref (b);
  g_array_unref (want);
}

int
main (void)
{
  guint64 rng = ring_test_seed ();
  test_read_while_landing (&rng);

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
  check_append_sorted (&rng, 5000, 0);
  check_append_sorted (&rng, 5000, 30);
  check_append_sorted (&rng, 5000, 10000);
  check_append_sorted (&rng, 1, 10000);
  check_counts (&rng, 0, 0, 10);
  check_counts (&rng, 5, 0, 100000);    /* sorted ids */
  check_counts (&rng, 30, 7, 1000);     /* sorted ids */
  check_counts (&rng, 100000, 0, 7);    /* a table */
  check_counts (&rng, 5000, 5000, 1000);        /* a table */
  check_counts (&rng, 0, 300, 50);
  check_counts (&rng, 300, 0, 5000);    /* sorted ids, more than fit the stack */
  check_counts (&rng, 2000, 50, 300);   /* a table, more than fit the stack */
  return ring_test_finish ("test_match_events");
}
