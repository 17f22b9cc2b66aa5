/* gst-vyre
 *
 * fuzz_patterns_property.c - the `patterns` property's parser
 * (vyre_patterns_parse_property) and vyre_patterns_load over it, on
 * arbitrary values.
 *
 * Input: byte 0 bit 0 is ignore-case; the rest, up to the first NUL, is
 * the property's value (a GObject string property never holds a NUL).
 * Checked beyond "no crash, no leak, no UB": every error has a Fix; every
 * literal is non-empty and survives vyre_pattern_escape and parsing back;
 * the loaded set has each literal once; the load fails exactly when the
 * parse does or a literal is over the length limit.
 */
#include "fuzz_patterns_common.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size == 0)
    return 0;
  const gboolean ignore_case = data[0] & 1;
  g_autofree char *value = g_strndup ((const char *) data + 1, size - 1);
  g_autoptr (GPtrArray) literals = NULL;
  g_autoptr (GError) parse_error = NULL;
  gboolean parsed, too_long = FALSE;

  parsed = vyre_patterns_parse_property (value, &literals, &parse_error);
  if (parsed) {
    FUZZ_CHECK (literals->len > 0, "parsed to no literal");
    for (guint i = 0; i < literals->len; i++) {
      check_literal (literals->pdata[i]);
      too_long |= g_bytes_get_size (literals->pdata[i])
          > VYRE_PATTERNS_MAX_LITERAL_BYTES;
    }
  } else {
    check_error (parse_error, "vyre_patterns_parse_property");
  }

  g_autoptr (GPtrArray) set = NULL;
  g_autoptr (GPtrArray) notes = NULL;
  g_autoptr (GError) load_error = NULL;
  gboolean loaded = vyre_patterns_load (value, NULL, ignore_case, &set,
      &notes, &load_error);
  /* An empty value is "no property": an empty set, not an error. */
  gboolean expect = value[0] == '\0' || (parsed && !too_long);
  FUZZ_CHECK (loaded == expect, "load %s but parse %s (too long: %d)",
      loaded ? "succeeded" : "failed", parsed ? "succeeded" : "failed",
      too_long);
  if (loaded) {
    check_loaded_set (set, notes, ignore_case);
    FUZZ_CHECK (set->len <= (parsed ? literals->len : 0),
        "load kept %u literals of %u", set->len, parsed ? literals->len : 0);
  } else {
    check_error (load_error, "vyre_patterns_load");
  }
  return 0;
}
