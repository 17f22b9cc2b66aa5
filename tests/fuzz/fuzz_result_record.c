/* gst-vyre
 *
 * fuzz_result_record.c - the host's reading of a job's result record: the
 * match events turned into matches (vyre_match_events_expand, through
 * vyre_result_read_events), the histogram (vyre_result_read_histogram),
 * the reference check sums (ring/result_check.c) and the match order
 * (vyre_match_events_sort), on arbitrary record words.
 *
 * Input: byte 0 picks the scan table (bits 0-1: one of four pattern sets,
 * compiled once) and the record's MAX_MATCHES (bits 2-3: 1 to 4 times
 * VYRE_RESULT_LANES); bytes 1-2 the room for matches (little-endian);
 * then the record's words from word 0 (histogram, lane counts, events),
 * the rest 0.  The record is allocated at exactly its size, so a read past
 * it is caught by AddressSanitizer.
 *
 * Checked beyond "no crash, no UB": the events' sum folded into the
 * expansion equals the reference sum; the reader returns the same matches
 * as the expansion when the completion's sum agrees; every match names a
 * pattern of the table and starts where an event's end says; stored plus
 * dropped matches equal what the automaton reports for the valid events,
 * each dropped one with its pattern id; sorting gives (offset, pattern)
 * order and keeps every match.
 */
#include <string.h>

#include "fuzz_target.h"
#include "result_check.h"
#include "vyre-automaton.h"
#include "vyre-match-events.h"
#include "vyre-result-read.h"

/* Pattern sets: one byte, overlapping suffixes, a long literal next to
 * short ones, and the same with ignore-case. */
static const char *const set_a[] = { "a", NULL };
static const char *const set_b[] = { "he", "she", "his", "hers", NULL };
static const char *const set_c[] = { "abcd", "bcd", "cd", "d",
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
      "0123456789abcdef0123456789abcdef", NULL
};

static const guint32 *
table_for (guint which)
{
  static VyreAutomaton *tables[4];
  static const char *const *const sets[4] = { set_a, set_b, set_c, set_b };
  if (tables[which] == NULL) {
    g_autoptr (GPtrArray) patterns = g_ptr_array_new_with_free_func (
        (GDestroyNotify) g_bytes_unref);
    for (const char *const *p = sets[which]; *p; p++)
      g_ptr_array_add (patterns, g_bytes_new_static (*p, strlen (*p)));
    g_autoptr (GError) error = NULL;
    tables[which] = vyre_automaton_compile (patterns, which == 3, 0, &error);
    FUZZ_CHECK (tables[which] != NULL, "compile: %s", error->message);
  }
  return tables[which]->words;
}

typedef struct
{
  guint64 end;
  guint64 reported;
} EventCount;

/* The automaton's own expansion, counting the matches that start inside
 * the stream (end + 1 >= the pattern's length), as the reader keeps. */
static void
count_match (guint32 pattern_id, guint64 start, gpointer user_data)
{
  EventCount *ec = user_data;
  (void) pattern_id;
  if (start <= ec->end)
    ec->reported++;
}

static gint
compare_matches (gconstpointer a, gconstpointer b)
{
  const GstVyreMatch *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  return (x->pattern_id > y->pattern_id) - (x->pattern_id < y->pattern_id);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 3)
    return 0;
  const guint32 *table = table_for (data[0] & 3);
  const guint32 max_matches = VYRE_RESULT_LANES * (1 + ((data[0] >> 2) & 3));
  const guint room = data[1] | (guint) data[2] << 8;
  const gsize words = VYRE_RESULT_HEADER_WORDS
      + (gsize) VYRE_MATCH_WORDS * max_matches;
  guint32 *record = g_new0 (guint32, words);
  memcpy (record, data + 3, MIN (size - 3, words * sizeof (guint32)));

  /* The expansion on its own. */
  GArray *out = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  GArray *not_stored = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint corrupt = 0;
  guint32 sum = 0;
  guint64 dropped = vyre_match_events_expand (table, record, max_matches,
      room, out, not_stored, &corrupt, &sum);
  FUZZ_CHECK (sum == vyre_result_events_check (record, max_matches),
      "expansion's sum %08x, reference sum %08x", sum,
      vyre_result_events_check (record, max_matches));
  FUZZ_CHECK (out->len <= room, "%u matches stored with room for %u",
      out->len, room);
  FUZZ_CHECK (not_stored->len == dropped, "%" G_GUINT64_FORMAT " dropped, %u"
      " pattern ids for them", dropped, not_stored->len);

  /* What the events cover, by the automaton's expansion. */
  const guint32 nstates = table[VYRE_TABLE_NSTATES];
  const guint32 npatterns = table[VYRE_TABLE_NPATTERNS];
  const guint32 share = max_matches / VYRE_RESULT_LANES;
  guint64 expected = 0;
  for (guint32 lane = 0; lane < VYRE_RESULT_LANES; lane++) {
    guint32 n = MIN (record[VYRE_RESULT_LANE_EVENTS + lane], share);
    for (guint32 i = 0; i < n; i++) {
      const guint32 *ev = record + VYRE_RESULT_HEADER_WORDS
          + ((gsize) i * VYRE_RESULT_LANES + lane) * VYRE_MATCH_WORDS;
      EventCount ec = {
        ((guint64) ev[VYRE_MATCH_END_HI] << 32) | ev[VYRE_MATCH_END_LO], 0
      };
      if (ev[VYRE_MATCH_STATE] < nstates)
        vyre_automaton_expand_event (table, ev[VYRE_MATCH_STATE], ec.end,
            count_match, &ec);
      expected += ec.reported;
    }
  }
  FUZZ_CHECK (out->len + dropped == expected, "%u stored + %" G_GUINT64_FORMAT
      " dropped, the events cover %" G_GUINT64_FORMAT, out->len, dropped,
      expected);
  for (guint i = 0; i < out->len; i++) {
    const GstVyreMatch *m = &g_array_index (out, GstVyreMatch, i);
    FUZZ_CHECK (m->pattern_id < npatterns, "match of pattern %u of %u",
        m->pattern_id, npatterns);
  }
  for (guint i = 0; i < not_stored->len; i++)
    FUZZ_CHECK (g_array_index (not_stored, guint32, i) < npatterns,
        "dropped match of pattern %u of %u",
        g_array_index (not_stored, guint32, i), npatterns);

  /* The reader, given the completion of a kernel that wrote these words:
   * the same matches, at the first read. */
  vyre_completion c = {.seq = 7, .events = 1, .result_check = sum,
    .hist_check = vyre_result_hist_check (record)
  };
  GArray *read = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  guint64 read_dropped = 0, torn = 0;
  guint read_corrupt = 0;
  GError *error = NULL;
  FUZZ_CHECK (vyre_result_read_events (table, record, max_matches, &c, room,
          read, NULL, &read_dropped, &read_corrupt, &torn, &error),
      "read_events: %s", error ? error->message : "");
  FUZZ_CHECK (read->len == out->len && read_dropped == dropped
      && read_corrupt == corrupt && torn == 0,
      "the reader and the expansion disagree: %u and %u matches, %"
      G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT " dropped, %u and %u corrupt,"
      " %" G_GUINT64_FORMAT " torn", read->len, out->len, read_dropped,
      dropped, read_corrupt, corrupt, torn);
  /* Field by field: GstVyreMatch has padding nobody writes. */
  for (guint i = 0; i < out->len; i++)
    FUZZ_CHECK (compare_matches (&g_array_index (read, GstVyreMatch, i),
            &g_array_index (out, GstVyreMatch, i)) == 0,
        "match %u differs between the reader and the expansion", i);
  guint32 hist[256];
  FUZZ_CHECK (vyre_result_read_histogram (record, &c, hist, &torn, &error),
      "read_histogram: %s", error ? error->message : "");
  FUZZ_CHECK (memcmp (hist, record + VYRE_RESULT_HIST, sizeof hist) == 0,
      "histogram copied wrong");

  /* Sorting: (offset, pattern) order, nothing lost. */
  guint64 pid_sum = 0;
  for (guint i = 0; i < out->len; i++)
    pid_sum += g_array_index (out, GstVyreMatch, i).pattern_id
        + g_array_index (out, GstVyreMatch, i).offset;
  vyre_match_events_sort (out);
  for (guint i = 0; i < out->len; i++) {
    pid_sum -= g_array_index (out, GstVyreMatch, i).pattern_id
        + g_array_index (out, GstVyreMatch, i).offset;
    if (i > 0)
      FUZZ_CHECK (compare_matches (&g_array_index (out, GstVyreMatch, i - 1),
              &g_array_index (out, GstVyreMatch, i)) <= 0,
          "matches %u and %u out of order after sorting", i - 1, i);
  }
  FUZZ_CHECK (pid_sum == 0, "sorting changed the matches");

  g_array_unref (read);
  g_array_unref (not_stored);
  g_array_unref (out);
  g_free (record);
  return 0;
}
