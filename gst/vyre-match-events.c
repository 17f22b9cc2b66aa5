/* gst-vyre
 *
 * vyre-match-events.c - see vyre-match-events.h.
 */
#include "vyre-match-events.h"

#include <stdlib.h>
#include <string.h>

#include "vyre_protocol.h"

guint64
vyre_match_events_expand (const guint32 * table, const guint32 * record,
    guint32 max_matches, guint room, GArray * out, GArray * not_stored,
    guint * corrupt, guint32 * check)
{
  const guint32 nstates = table[VYRE_TABLE_NSTATES];
  const guint32 npatterns = table[VYRE_TABLE_NPATTERNS];
  const guint32 *out_index = table + table[VYRE_TABLE_OUT_INDEX_OFF];
  const guint32 *out_list = table + table[VYRE_TABLE_OUT_LIST_OFF];
  const guint32 *pattern_len = table + table[VYRE_TABLE_PATTERN_LEN_OFF];
  const guint32 share = max_matches / VYRE_RESULT_LANES;
  guint64 dropped = 0;
  guint added = 0;
  guint32 sum = 0;              /* VYRE_COMP_RESULT_CHECK over what we read */

  /* Matches go straight into the array's storage, grown in steps (one
   * g_array_append_val per match was most of the host's time on
   * match-dense text). */
  const guint base = out->len;
  guint cap = MIN (room, 1024u);
  g_array_set_size (out, base + cap);
  /* With no room an empty array has no storage (data is NULL): nothing is
   * stored then, and there is nothing to point at. */
  GstVyreMatch *dst = cap > 0 ? &g_array_index (out, GstVyreMatch, base)
      : NULL;

  for (guint32 lane = 0; lane < VYRE_RESULT_LANES; lane++) {
    guint32 n_events = record[VYRE_RESULT_LANE_EVENTS + lane];
    if (n_events == 0)
      continue;                 /* its check term is 0 */
    sum += VYRE_CHECK_TERM (VYRE_RESULT_LANE_EVENTS + lane, n_events);
    if (n_events > share) {
      if (corrupt)
        (*corrupt)++;
      n_events = share;
    }
    const guint32 *ev = record + VYRE_RESULT_HEADER_WORDS +
        (gsize) lane * VYRE_MATCH_WORDS;
    for (guint32 i = 0; i < n_events; i++,
        ev += VYRE_RESULT_LANES * VYRE_MATCH_WORDS) {
      guint32 state = ev[VYRE_MATCH_STATE];
      guint32 end_lo = ev[VYRE_MATCH_END_LO], end_hi = ev[VYRE_MATCH_END_HI];
      guint64 end = ((guint64) end_hi << 32) | end_lo;
      sum += VYRE_CHECK_TERM ((guint32) (ev - record),
          VYRE_CHECK_EVENT (state, end_lo, end_hi, ev[VYRE_MATCH_COUNT]));
      if (state >= nstates) {
        if (corrupt)
          (*corrupt)++;
        continue;
      }
      for (guint32 k = out_index[state]; k < out_index[state + 1]; k++) {
        guint32 pid = out_list[k];
        /* A match must start inside the stream: end >= length - 1, not
         * end + 1 >= length, which wraps for an end at the largest offset. */
        if (G_UNLIKELY (pid >= npatterns || pattern_len[pid] == 0 ||
                end < (guint64) pattern_len[pid] - 1)) {
          if (corrupt)
            (*corrupt)++;
          continue;
        }
        if (G_UNLIKELY (added == cap)) {
          if (cap == room) {
            dropped++;
            if (not_stored)
              g_array_append_val (not_stored, pid);
            continue;
          }
          cap = (guint) MIN ((guint64) room, 2 * (guint64) cap);
          g_array_set_size (out, base + cap);
          dst = &g_array_index (out, GstVyreMatch, base);
        }
        dst[added].pattern_id = pid;
        dst[added].offset = end + 1 - pattern_len[pid];
        added++;
      }
    }
  }
  g_array_set_size (out, base + added);
  if (check)
    *check = sum;
  return dropped;
}

static gint
match_compare (gconstpointer a, gconstpointer b)
{
  const GstVyreMatch *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  return x->pattern_id < y->pattern_id ? -1 : x->pattern_id > y->pattern_id;
}

/* Insertion sort's step: m[i] moved back past the matches before it that
 * sort after it.  Returns how far it moved. */
static guint
move_back (GstVyreMatch * m, guint i)
{
  GstVyreMatch x = m[i];
  guint j = i;
  while (j > 0 && match_compare (&m[j - 1], &x) > 0) {
    m[j] = m[j - 1];
    j--;
  }
  m[j] = x;
  return i - j;
}

/* Matches arrive ordered by where they END (lane by lane, job by job), so
 * ordering them by start moves each one back only past the matches that
 * end later but start earlier: fewer than the patterns that can overlap
 * it.  Insertion sort is linear on such input; qsort was the host's
 * largest cost on match-dense text (6 M matches per GiB).  Should an input
 * need many moves anyway (long and short patterns overlapping in bulk),
 * the rest is left to qsort: never quadratic. */
void
vyre_match_events_sort (GArray * matches)
{
  GstVyreMatch *m = (GstVyreMatch *) matches->data;
  guint n = matches->len;
  guint64 moves = 0, limit = 16 * (guint64) n + 64;
  for (guint i = 1; i < n; i++) {
    if (match_compare (&m[i - 1], &m[i]) <= 0)
      continue;
    moves += move_back (m, i);
    if (moves > limit) {
      g_array_sort (matches, match_compare);
      return;
    }
  }
}

/* See vyre-match-events.h.  Each match of [from, to) that sorts before
 * the last of [0, from) moves back to its place; once one does not, none
 * after it does ([from, to) is sorted).  Many moves (wholly overlapping
 * runs) hand over to a full sort of [0, to). */
void
vyre_match_events_mend (GArray * matches, guint from, guint to)
{
  if (from == 0 || from >= to)
    return;
  GstVyreMatch *m = (GstVyreMatch *) matches->data;
  const GstVyreMatch last = m[from - 1];
  guint64 moves = 0, limit = 16 * (guint64) (to - from) + 64;
  for (guint i = from; i < to; i++) {
    if (match_compare (&last, &m[i]) <= 0)
      return;
    moves += move_back (m, i);
    if (moves > limit) {
      qsort (m, to, sizeof (GstVyreMatch), match_compare);
      return;
    }
  }
}

/* See vyre-match-events.h. */
void
vyre_match_events_append_sorted (GArray * sorted, const GArray * more)
{
  if (more == NULL || more->len == 0)
    return;
  guint old = sorted->len;
  g_array_append_vals (sorted, more->data, more->len);
  vyre_match_events_mend (sorted, old, sorted->len);
}

static gint
compare_id (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

/* See vyre-match-events.h.  Few matches against many patterns (a small
 * file, a big catalog) are sorted by id and counted in runs; otherwise a
 * table with a counter per pattern is cheaper.  Up to COUNT_STACK ids or
 * patterns need no allocation but the result's: the workers count every
 * small file of a tree. */
#define COUNT_STACK 256

GArray *
vyre_match_events_count (const GArray * matches, const GArray * ids,
    guint n_patterns)
{
  guint nm = matches ? matches->len : 0, ni = ids ? ids->len : 0;
  guint64 n = (guint64) nm + ni;
  if (n == 0)
    return NULL;
  const GstVyreMatch *m = nm ? (const GstVyreMatch *) matches->data : NULL;
  const guint32 *id = ni ? (const guint32 *) ids->data : NULL;
  GArray *out;
  if (n * 8 < n_patterns) {
    guint32 stack[COUNT_STACK];
    guint32 *all = n <= COUNT_STACK ? stack : g_new (guint32, n);
    for (guint i = 0; i < nm; i++)
      all[i] = m[i].pattern_id;
    if (ni)
      memcpy (all + nm, id, sizeof (guint32) * ni);
    qsort (all, n, sizeof (guint32), compare_id);
    guint runs = 1;
    for (guint64 i = 1; i < n; i++)
      runs += all[i] != all[i - 1];
    out = g_array_sized_new (FALSE, FALSE, sizeof (GstVyrePatternCount),
        runs);
    for (guint64 i = 0; i < n;) {
      guint64 j = i + 1;
      while (j < n && all[j] == all[i])
        j++;
      GstVyrePatternCount c = { all[i], j - i };
      g_array_append_val (out, c);
      i = j;
    }
    if (all != stack)
      g_free (all);
    return out;
  }
  guint64 stack[COUNT_STACK];
  guint64 *count = n_patterns <= COUNT_STACK ? stack :
      g_new (guint64, n_patterns);
  memset (count, 0, sizeof (guint64) * MAX (n_patterns, 1));
  guint distinct = 0;
  for (guint i = 0; i < nm; i++)
    distinct += count[m[i].pattern_id]++ == 0;
  for (guint i = 0; i < ni; i++)
    distinct += count[id[i]]++ == 0;
  out = g_array_sized_new (FALSE, FALSE, sizeof (GstVyrePatternCount),
      distinct);
  for (guint p = 0; p < n_patterns && out->len < distinct; p++)
    if (count[p]) {
      GstVyrePatternCount c = { p, count[p] };
      g_array_append_val (out, c);
    }
  if (count != stack)
    g_free (count);
  return out;
}
