/* vyre-scan-reference.c - see vyre-scan-reference.h. */
#include "vyre-scan-reference.h"

#include <string.h>

gint
vyre_ref_match_compare (gconstpointer a, gconstpointer b)
{
  const VyreRefMatch *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->pattern_id != y->pattern_id)
    return x->pattern_id < y->pattern_id ? -1 : 1;
  return 0;
}

/* ASCII-only, like the automaton's folding: locale-independent and the
 * same on the GPU. */
static gboolean
equal_ignore_case (const guint8 * a, const guint8 * b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (g_ascii_tolower (a[i]) != g_ascii_tolower (b[i]))
      return FALSE;
  return TRUE;
}

GArray *
vyre_scan_reference_find (GPtrArray * patterns, gboolean ignore_case,
    const guint8 * data, gsize len, guint64 stream_offset)
{
  GArray *matches = g_array_new (FALSE, FALSE, sizeof (VyreRefMatch));

  g_return_val_if_fail (patterns != NULL, matches);
  g_return_val_if_fail (data != NULL || len == 0, matches);

  /* Positions outer, pattern ids inner: the result comes out already
   * in (start, pattern_id) order, no sort needed. */
  for (gsize pos = 0; pos < len; pos++) {
    for (guint id = 0; id < patterns->len; id++) {
      gsize plen;
      const guint8 *p = g_bytes_get_data (g_ptr_array_index (patterns, id),
          &plen);
      gboolean hit;

      if (plen == 0 || plen > len - pos)
        continue;
      hit = ignore_case ? equal_ignore_case (data + pos, p, plen)
          : memcmp (data + pos, p, plen) == 0;
      if (hit) {
        VyreRefMatch m = { stream_offset + pos, id };
        g_array_append_val (matches, m);
      }
    }
  }
  return matches;
}

void
vyre_scan_reference_histogram (const guint8 * data, gsize len,
    guint64 counts[256])
{
  g_return_if_fail (data != NULL || len == 0);

  for (gsize i = 0; i < len; i++)
    counts[data[i]]++;
}
