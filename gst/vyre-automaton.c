/* vyre-automaton.c - see vyre-automaton.h. */
#include "vyre-automaton.h"
#include "vyre-crc32.h"

#include <string.h>

G_DEFINE_QUARK (vyre-automaton-error-quark, vyre_automaton_error);

/* Section order inside the table.  The protocol only fixes the header;
 * everything else is found through the header offsets.  The sections
 * whose size is known up front come first and out_list, whose size is
 * only known once the failure links exist, comes last, so the one big
 * allocation can simply grow at the end instead of being copied. */

typedef struct {
  const guint8 *data;
  gsize len;
} Pat;

typedef struct {
  const Pat *pats;
  const guint8 *fold;
} SortCtx;

/* Order pattern ids by folded bytes (a prefix sorts before its
 * extensions), then by id, so neighbours share their longest prefixes. */
static gint
compare_patterns (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const SortCtx *ctx = user_data;
  guint32 ia = *(const guint32 *) a, ib = *(const guint32 *) b;
  const Pat *pa = &ctx->pats[ia], *pb = &ctx->pats[ib];
  gsize n = MIN (pa->len, pb->len);

  for (gsize k = 0; k < n; k++) {
    guint8 x = ctx->fold[pa->data[k]], y = ctx->fold[pb->data[k]];
    if (x != y)
      return x < y ? -1 : 1;
  }
  if (pa->len != pb->len)
    return pa->len < pb->len ? -1 : 1;
  return ia < ib ? -1 : (ia > ib);
}

static void
format_size (char buf[32], guint64 bytes)
{
  g_autofree char *s = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_strlcpy (buf, s, 32);
}

static gboolean
too_large (GError ** error, guint npatterns, guint64 pattern_bytes,
    guint64 nstates, guint32 nclasses, guint64 total_words,
    guint64 max_table_bytes, const char *what)
{
  char have[32], limit[32];

  format_size (have, total_words * 4);
  format_size (limit, max_table_bytes);
  g_set_error (error, VYRE_AUTOMATON_ERROR, VYRE_AUTOMATON_ERROR_TOO_LARGE,
      "The scan table for %u patterns (%" G_GUINT64_FORMAT " pattern bytes) "
      "would need %" G_GUINT64_FORMAT " states x %u byte classes = %"
      G_GUINT64_FORMAT " words (%s); %s (limit %s). Fix: use fewer or "
      "shorter patterns (the table grows with the total pattern bytes "
      "times the number of distinct bytes they use), or split the set "
      "over several scanners.", npatterns, pattern_bytes, nstates, nclasses,
      total_words, have, what, limit);
  return FALSE;
}

VyreAutomaton *
vyre_automaton_compile (GPtrArray * patterns, gboolean ignore_case,
    guint64 max_table_bytes, GError ** error)
{
  guint8 fold[256];
  guint8 used[256] = { 0 };
  guint32 class_of[256] = { 0 };
  guint32 nclasses, npatterns;
  guint64 pattern_bytes = 0, nstates, max_len = 0;
  guint64 limit_words, off_class, off_crc, off_plen, off_outidx, off_trans;
  guint64 off_out, trans_words, nout, total;
  g_autofree Pat *pats = NULL;
  g_autofree guint32 *order = NULL;
  g_autofree guint32 *cur = NULL;
  g_autofree guint32 *end_state = NULL;
  g_autofree guint32 *fail = NULL;
  guint32 *w = NULL, *trans, *out_index, *out_list;
  guint32 next_id;
  gsize nactive;
  VyreAutomaton *a;

  g_return_val_if_fail (patterns != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_table_bytes == 0)
    max_table_bytes = VYRE_AUTOMATON_DEFAULT_MAX_TABLE_BYTES;
  /* Section offsets and TOTAL_WORDS are 32-bit header words. */
  limit_words = MIN (max_table_bytes / 4, (guint64) G_MAXUINT32);

  npatterns = patterns->len;
  if (npatterns == 0) {
    g_set_error (error, VYRE_AUTOMATON_ERROR, VYRE_AUTOMATON_ERROR_NO_PATTERNS,
        "No patterns to compile. Fix: give at least one pattern "
        "(patterns or patterns-file).");
    return NULL;
  }

  for (guint b = 0; b < 256; b++)
    fold[b] = ignore_case ? (guint8) g_ascii_tolower (b) : (guint8) b;

  pats = g_new (Pat, npatterns);
  for (guint32 i = 0; i < npatterns; i++) {
    GBytes *bytes = g_ptr_array_index (patterns, i);
    pats[i].data = g_bytes_get_data (bytes, &pats[i].len);
    if (pats[i].len == 0) {
      g_set_error (error, VYRE_AUTOMATON_ERROR,
          VYRE_AUTOMATON_ERROR_NO_PATTERNS,
          "Pattern %u is empty (it would match at every offset). Fix: "
          "remove it; every pattern needs at least one byte.", i);
      return NULL;
    }
    /* pattern_len is a 32-bit word; longer than that fails the size
     * guard below anyway, this just keeps the arithmetic honest. */
    if (pats[i].len > G_MAXUINT32 || pats[i].len > limit_words) {
      g_set_error (error, VYRE_AUTOMATON_ERROR, VYRE_AUTOMATON_ERROR_TOO_LARGE,
          "Pattern %u is %" G_GSIZE_FORMAT " bytes long, more than the scan "
          "table limit allows (%" G_GUINT64_FORMAT " bytes). Fix: use "
          "shorter patterns.", i, pats[i].len, max_table_bytes);
      return NULL;
    }
    pattern_bytes += pats[i].len;
    max_len = MAX (max_len, pats[i].len);
    for (gsize k = 0; k < pats[i].len; k++)
      used[fold[pats[i].data[k]]] = 1;
  }

  /* Byte classes: 0 = "no pattern uses this byte", then one per used
   * folded byte.  Fewer classes = narrower rows = a smaller table. */
  nclasses = 1;
  for (guint b = 0; b < 256; b++)
    if (used[b])
      class_of[b] = nclasses++;

  /* Count trie states exactly before allocating anything big: after
   * sorting, each pattern adds the bytes it does not share with its
   * predecessor (distinct prefixes = trie nodes). */
  order = g_new (guint32, npatterns);
  for (guint32 i = 0; i < npatterns; i++)
    order[i] = i;
  {
    SortCtx ctx = { pats, fold };
    g_qsort_with_data (order, npatterns, sizeof (guint32), compare_patterns,
        &ctx);
  }
  nstates = 1;
  for (guint32 j = 0; j < npatterns; j++) {
    const Pat *p = &pats[order[j]];
    gsize lcp = 0;
    if (j > 0) {
      const Pat *q = &pats[order[j - 1]];
      gsize n = MIN (p->len, q->len);
      while (lcp < n && fold[p->data[lcp]] == fold[q->data[lcp]])
        lcp++;
    }
    nstates += p->len - lcp;
  }

  /* Layout of everything but out_list, checked before allocation. */
  off_class = VYRE_TABLE_HEADER_WORDS;
  off_crc = off_class + 256;
  off_plen = off_crc + VYRE_CRC32_SHIFT_ENTRIES;
  off_outidx = off_plen + npatterns;
  off_trans = off_outidx + nstates + 1;
  /* nstates <= 1 + total pattern bytes < 2^64 and nclasses <= 257, but
   * the product can still wrap: check it. */
  if (!g_uint64_checked_mul (&trans_words, nstates, nclasses)
      || !g_uint64_checked_add (&off_out, off_trans, trans_words)) {
    too_large (error, npatterns, pattern_bytes, nstates, nclasses,
        G_MAXUINT64 / 4, max_table_bytes, "that overflows 64 bits");
    return NULL;
  }
  if (nstates - 1 > VYRE_TRANS_STATE_MASK) {
    too_large (error, npatterns, pattern_bytes, nstates, nclasses, off_out,
        max_table_bytes, "more states than the 31-bit state ids allow");
    return NULL;
  }
  if (off_out > limit_words) {
    too_large (error, npatterns, pattern_bytes, nstates, nclasses, off_out,
        max_table_bytes, "that exceeds the table size limit");
    return NULL;
  }

  /* g_try_*: the size comes from user input, so running out of memory
   * is an error to report, not a reason to abort the process. */
  w = g_try_malloc0 (off_out * sizeof (guint32));
  fail = g_try_malloc0 (nstates * sizeof (guint32));
  cur = g_try_malloc0 ((gsize) npatterns * sizeof (guint32));
  end_state = g_try_malloc0 ((gsize) npatterns * sizeof (guint32));
  if (!w || !fail || !cur || !end_state) {
    char need[32];
    format_size (need, off_out * 4 + nstates * 4);
    g_set_error (error, VYRE_AUTOMATON_ERROR, VYRE_AUTOMATON_ERROR_TOO_LARGE,
        "Out of memory building the scan table for %u patterns (%s "
        "needed). Fix: use fewer or shorter patterns, or free memory.",
        npatterns, need);
    g_free (w);
    return NULL;
  }
  trans = w + off_trans;
  out_index = w + off_outidx;

  for (guint b = 0; b < 256; b++)
    w[off_class + b] = used[fold[b]] ? class_of[fold[b]] : 0;

  /* Trie, one depth at a time, so state ids come out in breadth-first
   * order (needed by the failure pass below, and good for locality).
   * `order` keeps only the patterns still long enough for depth d;
   * cur[j] is the state of order[j]'s prefix of length d - 1.  In trans,
   * 0 means "no child yet": the root is never anyone's child. */
  nactive = npatterns;
  next_id = 1;
  for (gsize d = 1; nactive > 0; d++) {
    gsize kept = 0;
    for (gsize j = 0; j < nactive; j++) {
      const Pat *p = &pats[order[j]];
      guint32 c = class_of[fold[p->data[d - 1]]];
      guint32 *slot = &trans[(gsize) cur[j] * nclasses + c];
      if (*slot == 0)
        *slot = next_id++;
      if (p->len == d) {
        end_state[order[j]] = *slot;
      } else {
        order[kept] = order[j];
        cur[kept] = *slot;
        kept++;
      }
    }
    nactive = kept;
  }
  g_assert (next_id == nstates);

  /* Failure links and the DFA in one pass over states in BFS order.  At
   * state s, fail[s] is shallower, so its row is already complete: a
   * missing edge copies fail[s]'s edge, a real child u gets
   * fail[u] = delta (fail[s], c).  Row s itself still holds only real
   * children when we reach it. */
  for (guint32 s = 0; s < nstates; s++) {
    guint32 *row = &trans[(gsize) s * nclasses];
    const guint32 *frow = &trans[(gsize) fail[s] * nclasses];
    for (guint32 c = 0; c < nclasses; c++) {
      guint32 u = row[c];
      if (s == 0) {
        /* root: children fail to the root, missing edges stay at 0 */
        if (u)
          fail[u] = 0;
      } else if (u) {
        fail[u] = frow[c];
      } else {
        row[c] = frow[c];
      }
    }
  }

  /* Output counts, in out_index for now: own patterns, plus everything
   * the failure state outputs (its dictionary suffixes). */
  for (guint32 i = 0; i < npatterns; i++)
    out_index[end_state[i]]++;
  for (guint32 s = 1; s < nstates; s++)
    out_index[s] += out_index[fail[s]];
  /* Counts -> CSR offsets.  Stop summing once past the limit: the
   * table is refused then and the partial offsets are never used. */
  nout = 0;
  for (guint64 s = 0; s < nstates && nout <= limit_words; s++) {
    guint32 n = out_index[s];
    out_index[s] = (guint32) nout;
    nout += n;
  }
  total = off_out + nout;
  if (total > limit_words) {
    g_free (w);
    too_large (error, npatterns, pattern_bytes, nstates, nclasses, total,
        max_table_bytes, "the merged match lists (a pattern that is a "
        "suffix of others is listed again in each of their states) exceed "
        "the table size limit");
    return NULL;
  }
  out_index[nstates] = (guint32) nout;

  {
    guint32 *grown = g_try_realloc (w, total * sizeof (guint32));
    if (!grown) {
      g_free (w);
      g_set_error (error, VYRE_AUTOMATON_ERROR,
          VYRE_AUTOMATON_ERROR_TOO_LARGE, "Out of memory growing the scan "
          "table to %" G_GUINT64_FORMAT " words. Fix: use fewer or shorter "
          "patterns, or free memory.", total);
      return NULL;
    }
    w = grown;
    trans = w + off_trans;
    out_index = w + off_outidx;
    out_list = w + off_out;
  }

  /* Fill out_list: own ids ascending (fill[s] counts what is already
   * written for s), then a copy of the failure state's complete list,
   * which BFS order has already written. */
  {
    g_autofree guint32 *fill = g_try_malloc0 (nstates * sizeof (guint32));
    if (!fill) {
      g_free (w);
      g_set_error (error, VYRE_AUTOMATON_ERROR,
          VYRE_AUTOMATON_ERROR_TOO_LARGE, "Out of memory building the "
          "scan table's match lists. Fix: use fewer patterns.");
      return NULL;
    }
    for (guint32 i = 0; i < npatterns; i++) {
      guint32 s = end_state[i];
      out_list[out_index[s] + fill[s]++] = i;
    }
    for (guint32 s = 1; s < nstates; s++) {
      guint32 f = fail[s];
      guint32 nf = out_index[f + 1] - out_index[f];
      g_assert (fill[s] + nf == out_index[s + 1] - out_index[s]);
      memcpy (&out_list[out_index[s] + fill[s]], &out_list[out_index[f]],
          nf * sizeof (guint32));
    }
  }

  /* Mark transitions into output states: the scan loop then needs no
   * out_index read on the (common) bytes that end nothing. */
  for (guint64 k = 0; k < trans_words; k++) {
    guint32 t = trans[k];
    if (out_index[t + 1] != out_index[t])
      trans[k] = t | VYRE_TRANS_HAS_OUTPUT;
  }

  for (guint32 i = 0; i < npatterns; i++)
    w[off_plen + i] = (guint32) pats[i].len;
  memcpy (&w[off_crc], vyre_crc32_shift_table (),
      VYRE_CRC32_SHIFT_ENTRIES * sizeof (guint32));

  /* Header words 13..15 stay 0 (the buffer was zeroed). */
  w[VYRE_TABLE_MAGIC_WORD] = VYRE_TABLE_MAGIC;
  w[VYRE_TABLE_NSTATES] = (guint32) nstates;
  w[VYRE_TABLE_NCLASSES] = nclasses;
  w[VYRE_TABLE_NPATTERNS] = npatterns;
  w[VYRE_TABLE_MAX_PATTERN_LEN] = (guint32) max_len;
  w[VYRE_TABLE_CLASS_MAP_OFF] = (guint32) off_class;
  w[VYRE_TABLE_TRANS_OFF] = (guint32) off_trans;
  w[VYRE_TABLE_OUT_INDEX_OFF] = (guint32) off_outidx;
  w[VYRE_TABLE_OUT_LIST_OFF] = (guint32) off_out;
  w[VYRE_TABLE_PATTERN_LEN_OFF] = (guint32) off_plen;
  w[VYRE_TABLE_CRC_SHIFT_OFF] = (guint32) off_crc;
  w[VYRE_TABLE_TOTAL_WORDS] = (guint32) total;
  w[VYRE_TABLE_FLAGS] = ignore_case ? VYRE_TABLE_FLAG_IGNORE_CASE : 0;

  a = g_new (VyreAutomaton, 1);
  a->words = w;
  a->n_words = total;
  return a;
}

void
vyre_automaton_free (VyreAutomaton * automaton)
{
  if (automaton == NULL)
    return;
  g_free (automaton->words);
  g_free (automaton);
}

guint64
vyre_automaton_expand_event (const guint32 * table, guint32 state,
    guint64 end_offset, VyreMatchFunc callback, gpointer user_data)
{
  const guint32 *out_index, *out_list, *pattern_len;

  g_return_val_if_fail (table != NULL, 0);

  /* The event comes back from device memory: bound it instead of
   * trusting it, the caller compares the count with MATCH_COUNT. */
  if (state >= table[VYRE_TABLE_NSTATES])
    return 0;
  out_index = table + table[VYRE_TABLE_OUT_INDEX_OFF];
  out_list = table + table[VYRE_TABLE_OUT_LIST_OFF];
  pattern_len = table + table[VYRE_TABLE_PATTERN_LEN_OFF];
  if (callback) {
    for (guint32 k = out_index[state]; k < out_index[state + 1]; k++) {
      guint32 id = out_list[k];
      callback (id, end_offset + 1 - pattern_len[id], user_data);
    }
  }
  return out_index[state + 1] - out_index[state];
}

guint64
vyre_automaton_scan_cpu (const guint32 * table, const guint8 * data,
    gsize len, guint64 stream_offset_of_data, const guint8 * carry,
    gsize carry_len, VyreMatchFunc callback, gpointer user_data)
{
  const guint32 *class_map, *trans;
  gsize nclasses;
  guint32 s = 0;
  guint64 found = 0;

  g_return_val_if_fail (table != NULL, 0);
  g_return_val_if_fail (table[VYRE_TABLE_MAGIC_WORD] == VYRE_TABLE_MAGIC, 0);
  g_return_val_if_fail (data != NULL || len == 0, 0);
  g_return_val_if_fail (carry != NULL || carry_len == 0, 0);
  /* The carry precedes data in the stream, so it cannot be longer than
   * the stream before data; a longer one would give negative offsets. */
  g_return_val_if_fail (carry_len <= stream_offset_of_data, 0);

  class_map = table + table[VYRE_TABLE_CLASS_MAP_OFF];
  trans = table + table[VYRE_TABLE_TRANS_OFF];
  nclasses = table[VYRE_TABLE_NCLASSES];

  /* Carry: only to reach the right state; its matches ended in the
   * previous buffer, which reported them. */
  for (gsize i = 0; i < carry_len; i++)
    s = trans[s * nclasses + class_map[carry[i]]] & VYRE_TRANS_STATE_MASK;

  for (gsize i = 0; i < len; i++) {
    guint32 t = trans[s * nclasses + class_map[data[i]]];
    s = t & VYRE_TRANS_STATE_MASK;
    /* the same event the kernel stores: (state, end offset) */
    if (G_UNLIKELY (t & VYRE_TRANS_HAS_OUTPUT))
      found += vyre_automaton_expand_event (table, s,
          stream_offset_of_data + i, callback, user_data);
  }
  return found;
}
