/* gst-vyre
 *
 * fuzz_patterns_common.h - the contracts of vyre-patterns.h that both
 * patterns fuzz targets check on whatever the parsers return.
 */
#ifndef VYRE_FUZZ_PATTERNS_COMMON_H
#define VYRE_FUZZ_PATTERNS_COMMON_H

#include <string.h>

#include "fuzz_target.h"
#include "vyre-patterns.h"

/* Every error message says how to fix it. */
static inline void
check_error (const GError * error, const char *what)
{
  FUZZ_CHECK (error != NULL && error->message != NULL,
      "%s failed without an error", what);
  FUZZ_CHECK (strstr (error->message, "Fix:") != NULL,
      "%s: error without a Fix: %s", what, error->message);
}

/* A parsed literal is never empty, and vyre_pattern_escape writes it as
 * one patterns-file line that parses back to the same bytes. */
static inline void
check_literal (GBytes * literal)
{
  g_autoptr (GPtrArray) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  FUZZ_CHECK (g_bytes_get_size (literal) > 0, "an empty literal was parsed");
  line = vyre_pattern_escape (literal);
  FUZZ_CHECK (strchr (line, '\n') == NULL, "escaped literal spans lines");
  FUZZ_CHECK (vyre_patterns_parse_lines (line, strlen (line), "escaped",
          &back, &error), "escaped literal \"%s\" does not parse: %s", line,
      error ? error->message : "");
  FUZZ_CHECK (back->len == 1 && g_bytes_equal (back->pdata[0], literal),
      "escaped literal \"%s\" parses to something else", line);
}

/* vyre_patterns_load's set: each literal once (after ASCII folding with
 * ignore_case), none over the length limit, every note with a Fix. */
static inline void
check_loaded_set (GPtrArray * set, GPtrArray * notes, gboolean ignore_case)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_bytes_hash,
      g_bytes_equal, (GDestroyNotify) g_bytes_unref, NULL);

  for (guint i = 0; i < set->len; i++) {
    gsize n = 0;
    const guint8 *p = g_bytes_get_data (set->pdata[i], &n);
    FUZZ_CHECK (n > 0 && n <= VYRE_PATTERNS_MAX_LITERAL_BYTES,
        "loaded literal %u has %" G_GSIZE_FORMAT " bytes", i, n);
    guint8 *key = g_memdup2 (p, n);
    for (gsize k = 0; ignore_case && k < n; k++)
      key[k] = (guint8) g_ascii_tolower (key[k]);
    GBytes *kb = g_bytes_new_take (key, n);
    FUZZ_CHECK (!g_hash_table_contains (seen, kb),
        "loaded literal %u is in the set twice", i);
    g_hash_table_add (seen, kb);
  }
  for (guint i = 0; notes != NULL && i < notes->len; i++)
    FUZZ_CHECK (strstr (notes->pdata[i], "Fix:") != NULL,
        "note without a Fix: %s", (char *) notes->pdata[i]);
}

#endif /* VYRE_FUZZ_PATTERNS_COMMON_H */
