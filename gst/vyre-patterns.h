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
 *  - The parsers keep duplicates: pattern ids are the positions in the
 *    result (0-based, in file order).  vyre_patterns_load, which builds
 *    the set vyrescan scans, merges them.
 *  - A file or list that yields no pattern at all is an error.
 *
 * The `patterns` property is one string: literals separated by commas,
 * with the same escapes (a comma inside a literal is \x2C):
 *
 *   GNU                     <- one literal
 *   password,BEGIN RSA      <- two; blanks around a literal are dropped
 *   <password,BEGIN RSA>    <- the same: GStreamer's array form
 *   PK\x03\x04,\x00\xffEOF  <- as the element receives it
 *   <"a, b",c>              <- a quoted literal keeps commas and blanks;
 *                              inside quotes GStreamer's string rules
 *                              apply first (\\ is one backslash, \"
 *                              a quote, \ooo an octal byte)
 *
 * Literals are not lines: '#' has no special meaning there; an empty
 * literal (",," or a trailing comma) is an error.  A value that starts
 * with '<' must end with '>' (a literal starting with '<' is \x3C).
 * gst-launch-1.0 removes one level of backslashes from property values,
 * so in a shell escapes are typed with two inside single quotes:
 * patterns='PK\\x03\\x04'.  The old string-array form of the property
 * is what GLib turns a GstValueArray into (< "a", "b" >), so C callers
 * that set one still work.
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
  VYRE_PATTERNS_ERROR_TOO_LARGE, /* file over VYRE_PATTERNS_MAX_FILE_BYTES */
  VYRE_PATTERNS_ERROR_TOO_LONG  /* literal over VYRE_PATTERNS_MAX_LITERAL_BYTES */
} VyrePatternsError;

/* A patterns file larger than this is refused before it is read whole:
 * the compiled table would not fit a GPU buffer long before that. */
#define VYRE_PATTERNS_MAX_FILE_BYTES (256u * 1024u * 1024u)

/* The longest literal vyre_patterns_load accepts.  The scan kernel
 * (shaders/megakernel.comp) starts every lane's share of a job
 * max_pattern_len - 1 bytes early, so each lane re-reads that many bytes
 * per job, and lavapipe ends any loop of an invocation after 65,535
 * iterations: the kernel's cost of a job (job_cost: the longest literal's
 * length plus (job bytes / lanes + that length) / 16, plus about 150)
 * must stay under its iteration budget of 60,000, which literals of
 * about 54 KiB exceed with 1 MiB jobs.  32 KiB leaves room for jobs
 * up to 16 MiB on lavapipe; GPUs have no such limit, but pay the re-read
 * on every lane of every job. */
#define VYRE_PATTERNS_MAX_LITERAL_BYTES (32u * 1024u)

/* Parse the patterns file at path.  On success *out is a new GPtrArray
 * of GBytes (free function set: g_ptr_array_unref releases all). */
gboolean vyre_patterns_parse_file (const char *path, GPtrArray ** out,
    GError ** error);

/* Parse len bytes of patterns-file text (need not be NUL-terminated and
 * may contain NUL bytes).  origin names the text in error messages
 * ("patterns.txt", "<inline>"). */
gboolean vyre_patterns_parse_lines (const char *text, gsize len,
    const char *origin, GPtrArray ** out, GError ** error);

/* Parse a NULL-terminated list of literals in the patterns syntax (as
 * vyre_pattern_escape writes them, e.g. the "patterns" list of vyrescan's
 * vyre-info event): one literal per element, pattern id = element index. */
gboolean vyre_patterns_from_strv (const char *const *strv, GPtrArray ** out,
    GError ** error);

/* Parse the `patterns` property's value (syntax above): one GBytes per
 * literal, in order, duplicates kept.  Errors name the item (1-based) and
 * quote the value. */
gboolean vyre_patterns_parse_property (const char *value, GPtrArray ** out,
    GError ** error);

/* The pattern set vyrescan scans: the literals of property (NULL or ""
 * for none), then those of the patterns file at path (NULL or "" for
 * none), each once.  A literal repeated (byte for byte, or after ASCII
 * case folding when ignore_case) is kept at its first place and adds a
 * note naming it and both places ("patterns item 2", "secrets.txt:7"),
 * so pattern ids, counts and report keys never name the same literal
 * twice.  A property literal that reads like \x escapes stripped of
 * their backslashes ("x00xff") adds a note too.  A literal longer than
 * VYRE_PATTERNS_MAX_LITERAL_BYTES is an error (VYRE_PATTERNS_ERROR_TOO_LONG)
 * naming where it is.  On success *out holds the set (empty when both
 * sources are absent) and, when notes is not NULL, *notes the notes
 * (char *, each one sentence ending in "Fix: ..."; possibly none). */
gboolean vyre_patterns_load (const char *property, const char *path,
    gboolean ignore_case, GPtrArray ** out, GPtrArray ** notes,
    GError ** error);

/* One line of the patterns syntax for pattern (for reports and for
 * writing patterns files): printable ASCII as is, "\\", "\n", "\r",
 * "\t", every other byte "\xHH"; a leading '#' is written "\x23" so
 * the line is not read back as a comment.  Parsing the result gives the
 * same bytes back.  Free with g_free. */
char *vyre_pattern_escape (GBytes * pattern);

G_END_DECLS

#endif /* VYRE_PATTERNS_H */
