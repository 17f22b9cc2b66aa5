/*
 * vyre-patterns.h - the patterns syntax shared by the `patterns-file` and
 * `patterns` properties.
 *
 * A pattern is a non-empty string of BYTES (not text: \x00 and
 * non-UTF-8 bytes are fine).  A patterns file holds one literal per line:
 *
 *   # a comment: lines whose first byte is '#' are ignored
 *   password          <- the 8 bytes p a s s w o r d
 *   \x23include       <- "#include": a leading '#' must be escaped
 *   tab\there         <- escapes: \\  \n  \r  \t  \xHH (two hex digits)
 *   PK\x03\x04        <- binary bytes
 *
 * Rules:
 *  - Lines end at "\n"; one "\r" right before it (or before the end of
 *    the file) is dropped, so CRLF files work.
 *  - Empty lines and lines starting with '#' are ignored.  Nothing else
 *    is trimmed: leading and trailing spaces are part of the literal.
 *  - A backslash must start one of the escapes above; anything else (or
 *    a \x without two hex digits) is an error naming origin, line and
 *    column.
 *  - Duplicates are kept: pattern ids are the positions in the result
 *    (0-based, in file order) and every id reports its own matches.
 *  - A file or list that yields no pattern at all is an error.
 *
 * The `patterns` property is a string list; each element is one literal
 * with the same escapes.  Elements are not lines: '#' has no special
 * meaning there and empty elements are errors.
 *
 * Errors are GErrors: G_FILE_ERROR for files that cannot be read (with
 * the path and errno text), VYRE_PATTERNS_ERROR otherwise.  Every message
 * ends with "Fix: ..." saying what to change.
 */
#ifndef VYRE_PATTERNS_H
#define VYRE_PATTERNS_H

#include <glib.h>

G_BEGIN_DECLS

#define VYRE_PATTERNS_ERROR (vyre_patterns_error_quark ())
GQuark vyre_patterns_error_quark (void);

typedef enum {
  VYRE_PATTERNS_ERROR_SYNTAX,   /* bad escape; message has line:column   */
  VYRE_PATTERNS_ERROR_EMPTY,    /* no pattern at all, or an empty element */
  VYRE_PATTERNS_ERROR_TOO_LARGE /* file over VYRE_PATTERNS_MAX_FILE_BYTES */
} VyrePatternsError;

/* A patterns file larger than this is refused before it is read whole:
 * the compiled table would not fit a GPU buffer long before that. */
#define VYRE_PATTERNS_MAX_FILE_BYTES (256u * 1024u * 1024u)

/* Parse the patterns file at path.  On success *out is a new GPtrArray
 * of GBytes (free function set: g_ptr_array_unref releases all). */
gboolean vyre_patterns_parse_file (const char *path, GPtrArray ** out,
    GError ** error);

/* Parse len bytes of patterns-file text (need not be NUL-terminated and
 * may contain NUL bytes).  origin names the text in error messages
 * ("patterns.txt", "<inline>"). */
gboolean vyre_patterns_parse_lines (const char *text, gsize len,
    const char *origin, GPtrArray ** out, GError ** error);

/* Parse a NULL-terminated list (the `patterns` property): one literal
 * per element, pattern id = element index. */
gboolean vyre_patterns_from_strv (const char *const *strv, GPtrArray ** out,
    GError ** error);

/* One line of the patterns syntax for pattern (for reports and for
 * writing patterns files): printable ASCII as is, "\\", "\n", "\r",
 * "\t", every other byte "\xHH"; a leading '#' is written "\x23" so
 * the line is not read back as a comment.  Parsing the result gives the
 * same bytes back.  Free with g_free. */
char *vyre_pattern_escape (GBytes * pattern);

G_END_DECLS

#endif /* VYRE_PATTERNS_H */
