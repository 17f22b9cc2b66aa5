/* gst-vyre
 *
 * vyre-report.h - the one place vyresink's outputs are written: the JSON
 * report, the matches as JSON Lines, and the texts people read (the
 * printed summary, throughput).  JSON is built with json-glib.
 *
 * Files
 * -----
 * A VyreReportWriter owns one output path for one run:
 *  - A path that does not exist yet, or is a regular file (not a symbolic
 *    link), is written ATOMICALLY: a temporary file ".NAME.XXXXXX" in the
 *    same directory receives everything, is fsync'd and closed, and is
 *    renamed over the path only by a successful
 *    vyre_report_writer_finish().  Any failure, and
 *    vyre_report_writer_free() before finish (a failed pipeline, a stop
 *    before EOS), removes the temporary file: a failed or interrupted run
 *    leaves an earlier file at the path as it was and never leaves a
 *    partial or empty one.  A file that existed keeps its permission bits.
 *  - "/dev/stdout", "/dev/stderr" and "/dev/fd/N" write to that open file
 *    descriptor (a duplicate of it), so the output lands where the shell
 *    sent it, at its offset.
 *  - Anything else (a FIFO, a character device, a symbolic link) is opened
 *    and written DIRECTLY.  A FIFO must already have a reader: opening one
 *    without a reader fails at once (ENXIO) instead of blocking.
 * Every write(), fsync(), close() and rename() is checked.  The first
 * failure is kept: later calls on the writer fail with the same error, so
 * a caller may check only at the points where it can act on it.  Error
 * messages name what failed, the path and the system's reason
 * ("Could not write the matches file \"/dev/full\": No space left on
 * device"); vyre_report_error_fix() gives the matching "Fix: ..." text.
 * Regular files are fsync'd before the rename, so a crash right after it
 * cannot leave an empty file at the path.
 *
 * Formats
 * -------
 * VYRE_REPORT_FORMAT_JSON: one pretty-printed object written by
 *   vyre_report_writer_finish() from the summary structure: every field of
 *   the structure in order, converted by type (integers, doubles, strings,
 *   booleans, GstValueArray -> array, GstStructure -> object), except that
 *   the parallel arrays "patterns" and "pattern_counts" become one object
 *   "pattern_counts" (pattern text -> count; see
 *   vyre_report_pattern_totals() for duplicates).  A field added to the
 *   summary therefore appears in the report without changes here.
 *   Non-finite doubles are written as null.  A string that is not UTF-8
 *   (a file name) is written with its invalid bytes replaced (U+FFFD) and,
 *   next to it, NAME_b64: the exact bytes in base64.
 * VYRE_REPORT_FORMAT_JSON_LINES: one compact object per match, streamed
 *   (buffered, written in 64 KiB pieces) as vyre_report_writer_add_match()
 *   is called, its members in this order (file, line, column and
 *   snippet only when known):
 *     file        the file's path, as opened (relative when the scan was
 *                 given a relative directory); when the path is not UTF-8
 *                 it is written with U+FFFD in place of the invalid bytes
 *                 and file_b64 follows with the path's exact bytes in
 *                 base64 (decode it to open the file)
 *     offset      of the match's first byte in the file (in the stream
 *                 when there is no file)
 *     line        1-based
 *     column      1-based, in BYTES from the line's first byte
 *     pattern_id  index in the patterns list
 *     pattern     the pattern's text, escaped as in a patterns file
 *     stream_offset  of the first byte in the whole stream (all files
 *                 read one after another)
 *     snippet     the bytes around the match, escaped as in a patterns
 *                 file (only when the sink was asked for snippets)
 *   {"file":"src/a.c","offset":120,"line":7,"column":13,"pattern_id":2,
 *    "pattern":"BEGIN RSA","stream_offset":40120}
 * VYRE_REPORT_FORMAT_SARIF: SARIF 2.1.0 (one run, tool "gst-vyre"), its
 *   results streamed like JSON Lines: one result per match, ruleId = the
 *   pattern's text, level "warning", a physicalLocation whose
 *   artifactLocation.uri is the path percent-encoded (RFC 3986: a relative
 *   path stays a relative reference, an absolute one becomes a file://
 *   URI; bytes that are not UTF-8 are percent-encoded too, so the uri
 *   gives the exact path back) and whose region has startLine,
 *   startColumn, byteOffset and byteLength.  run.columnKind is
 *   "unicodeCodePoints" (SARIF has no byte columns): startColumn is
 *   VyreReportMatch.column_chars.  A match with no file has an
 *   artifactLocation with a description only.  At finish the run gets
 *   tool.driver.rules: one rule per pattern text of the summary's
 *   "patterns" (the summary may be NULL: no rules then).
 *
 * Extending (for those who add them)
 * ----------------------------------
 * - Per-match fields: add members to VyreReportMatch whose zero value
 *   means "not known"; callers build matches with VYRE_REPORT_MATCH_INIT
 *   (or = { 0 }), so a new member is absent unless set, and
 *   append_match_line() / append_sarif_result() in vyre-report.c (the
 *   only places a match becomes JSON) write it only when set.
 * - A new format: add a VyreReportFormat value and its row in the format
 *   table of vyre-report.c (its add_match and finish); opening, atomic
 *   replacement, buffering and error handling are shared.  A streamed
 *   format writes its opening text at its first add_match or at finish
 *   and its closing text at finish.
 *
 * Not thread-safe: one thread uses a writer at a time.
 */
#ifndef __VYRE_REPORT_H__
#define __VYRE_REPORT_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum
{
  VYRE_REPORT_FORMAT_JSON,
  VYRE_REPORT_FORMAT_JSON_LINES,
  VYRE_REPORT_FORMAT_SARIF,
} VyreReportFormat;

/* One match as the outputs describe it.  Strings are borrowed for the
 * call; `pattern` and `snippet` are escaped as in a patterns file
 * (UTF-8; invalid UTF-8 is replaced, U+FFFD, rather than written as
 * invalid JSON).  Zero / NULL means "not known" for the members after
 * `pattern`.  Writers keep the JSON text of the last `file` and compare
 * the next one by pointer first: pass the same string for all matches of
 * a file (e.g. GstVyreFileMeta's path). */
typedef struct
{
  guint64 offset;               /* of the first byte: in the file, or in
                                 * the stream when file is NULL */
  guint32 pattern_id;           /* index in the patterns list */
  const gchar *pattern;
  guint64 stream_offset;        /* of the first byte, in the stream
                                 * (always written) */
  guint32 length;               /* bytes matched (SARIF byteLength) */
  const gchar *file;            /* path, file-system encoding */
  guint64 line;                 /* 1-based */
  guint64 column;               /* 1-based, bytes */
  guint64 column_chars;         /* 1-based, code points (SARIF) */
  const gchar *snippet;         /* escaped bytes around the match */
} VyreReportMatch;

#define VYRE_REPORT_MATCH_INIT { 0, 0, NULL, 0, 0, NULL, 0, 0, 0, NULL }

typedef struct _VyreReportWriter VyreReportWriter;

/* Open `path` for one run, as described above.  `what` names the output
 * in messages ("report", "matches file").  Fails (NULL, *error set, a
 * G_FILE_ERROR) when the path cannot be written: a missing directory, no
 * permission, a read-only existing file, a FIFO without a reader. */
VyreReportWriter *vyre_report_writer_open (const gchar * path,
    const gchar * what, VyreReportFormat format, GError ** error);

/* The path given to open, and what it names. */
const gchar *vyre_report_writer_get_path (VyreReportWriter * writer);
const gchar *vyre_report_writer_get_what (VyreReportWriter * writer);

/* Whether this format writes matches (add_match is then worth calling). */
gboolean vyre_report_writer_wants_matches (VyreReportWriter * writer);

/* Add one match (formats without matches ignore it).  FALSE and *error
 * when a write failed, now or earlier. */
gboolean vyre_report_writer_add_match (VyreReportWriter * writer,
    const VyreReportMatch * match, GError ** error);

/* Write what the format writes at the end (the JSON report: `summary`;
 * NULL is an error there; formats that do not use it accept NULL), flush,
 * sync (regular files) and close, and
 * rename the temporary file into place.  After TRUE the output is
 * complete at its path; after FALSE the temporary file is gone and an
 * earlier file at the path is untouched.  Call at most once. */
gboolean vyre_report_writer_finish (VyreReportWriter * writer,
    const GstStructure * summary, GError ** error);

/* Free the writer.  When finish did not succeed, the temporary file is
 * removed (nothing is renamed into place). */
void vyre_report_writer_free (VyreReportWriter * writer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VyreReportWriter, vyre_report_writer_free);

/* "Fix: ..." for an error from a writer (by its G_FILE_ERROR code), for
 * the debug text of the element error. */
const gchar *vyre_report_error_fix (const GError * error);

/* The JSON report's text for `summary` (what VYRE_REPORT_FORMAT_JSON
 * writes), newline-terminated.  Free with g_free. */
gchar *vyre_report_summary_to_json (const GstStructure * summary);

/* One pattern text and its matches, from a summary's parallel arrays
 * "patterns" and "pattern_counts". */
typedef struct
{
  const gchar *pattern;         /* borrowed from the summary */
  guint64 count;
  guint first_id;               /* lowest pattern id with this text */
} VyrePatternTotal;

/* The summary's pattern counts merged by text: two pattern ids with the
 * same text (a patterns file that lists a literal twice) become one entry
 * whose count is the sum of both, at the position of the lower id.  So
 * every output keyed by text (the JSON report's pattern_counts, the
 * printed table) has each text once, and their counts still add up to the
 * matches counted; the matches file keeps each id.  Returns a GArray of
 * VyrePatternTotal in pattern id order (empty when the summary has no
 * patterns); valid while `summary` is. */
GArray *vyre_report_pattern_totals (const GstStructure * summary);

/* The summary people read (print-summary): one line with the totals,
 * start-up, scan time and throughput, then the patterns that matched,
 * most frequent first (ties by pattern id), at most `max_patterns` lines,
 * and one line for the rest:
 *   "  ... and 980 more patterns with 12,345 matches; 17 patterns did not match"
 * Newline-terminated.  Free with g_free. */
gchar *vyre_report_format_summary (const GstStructure * summary,
    guint max_patterns);

/* Bytes per second as people read it, three significant digits, decimal
 * units (1 MB = 10^6 bytes) chosen so the number is at least 1:
 * "512 B/s", "1.79 MB/s", "33.5 GB/s".  Free with g_free. */
gchar *vyre_report_format_rate (gdouble bytes_per_second);

/* An integer with thousands separators: "12,345".  Free with g_free. */
gchar *vyre_report_format_count (guint64 n);

G_END_DECLS
#endif /* __VYRE_REPORT_H__ */
