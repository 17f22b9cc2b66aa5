/* gst-vyre
 *
 * gstvyresink.c - vyresink: what vyrescan found, reported to programs
 * (properties, bus messages) and people (files, a printed summary).
 */
/**
 * SECTION:element-vyresink
 * @title: vyresink
 *
 * Consumes what vyrescan produced and reports it: read-only properties
 * (#GstVyreSink:completed, #GstVyreSink:epoch, #GstVyreSink:bytes,
 * #GstVyreSink:matches, #GstVyreSink:dropped-matches, #GstVyreSink:summary),
 * element messages on the bus (`vyre-progress` at most every
 * #GstVyreSink:message-interval, `vyre-epoch` per completed batch fence,
 * `vyre-summary` before EOS), a JSON report
 * (#GstVyreSink:report-location), every match as JSON Lines
 * (#GstVyreSink:matches-location), and a short summary on stdout.
 *
 * Files are written atomically: each output goes to a temporary file in
 * the same directory, renamed over the path at EOS only when complete; an
 * error or a stop before EOS removes it, so an earlier report stays as it
 * was.  /dev/stdout, FIFOs and devices are written directly.  Any failed
 * write is an element error naming the path (gst-launch-1.0 exits
 * non-zero); a path that cannot be written fails READY->PAUSED.
 *
 * ## Times
 * Start-up (start() at READY->PAUSED until the first buffer arrives:
 * device and kernel set-up, shader compilation, the first read and scan)
 * is reported apart from the scan (the first buffer until EOS), so the
 * rate is the scan's: the bytes of the buffers after the first over the
 * scan time.  With a single buffer there is no scan interval and the rate
 * is over the whole run.  Before the pipeline ran, all are 0.
 *
 * ## vyre-summary message and #GstVyreSink:summary
 * An element message named `vyre-summary`, posted at EOS before EOS
 * reaches the bus (the #GstVyreSink:summary property holds the same,
 * so far, at any time).  The JSON report has the same fields, in this
 * order, except that `patterns` and `pattern_counts` become one object.
 *
 * - `bytes` (#guint64): bytes scanned.
 * - `buffers` (#guint64): buffers received.
 * - `epochs` (#guint): batch fences completed (vyrescan epoch-buffers).
 * - `matches` (#guint64): matches found, stored or not.
 * - `dropped_matches` (#guint64): matches counted but not stored
 *   (vyrescan max-matches-per-buffer).
 * - `crc32` (#gchararray): the stream's zlib CRC-32, 8 hex digits.
 * - `entropy_bits_per_byte` (#gdouble): Shannon entropy of `histogram`.
 * - `startup_s` (#gdouble): seconds from start to the first buffer (so
 *   far, while none arrived).
 * - `elapsed_s` (#gdouble): seconds of the scan, first buffer to EOS (or
 *   to now / to the stop).
 * - `gbps` (#gdouble): the scan's rate in 10^9 bytes per second (see
 *   Times).
 * - `throughput` (#gchararray): the same rate for people, in a unit that
 *   keeps it at least 1: "1.79 MB/s", "33.5 GB/s".
 * - `device` (#gchararray): the Vulkan device vyrescan ran on.
 * - `histogram` (#GstValueArray of 256 #guint64): count of each byte value.
 * - `patterns` (#GstValueArray of #gchararray): each pattern id's text,
 *   escaped as in a patterns file.
 * - `pattern_counts` (#GstValueArray of #guint64): matches per pattern id,
 *   parallel to `patterns`: every match found, stored or not (their sum is
 *   `matches`).  In the JSON report and the
 *   printed summary, ids with the same text are one entry whose count is
 *   their sum (keys are never duplicated); the matches file keeps ids.
 *
 * ## vyre-progress message
 * At most every #GstVyreSink:message-interval and once at EOS:
 * - `bytes` (#guint64): bytes so far.
 * - `total` (#guint64): the stream's size from a duration query, 0 when
 *   unknown.
 * - `percent` (#gdouble): bytes / total * 100, -1 when unknown.
 * - `eta_s` (#gdouble): seconds left at the current rate, -1 when unknown.
 * - `gbps` (#gdouble): the scan's rate so far, as in `vyre-summary`.
 * - `files` (#guint64): files done (scanned or skipped) of a stream of
 *   several files, the one being read not counted before EOS.
 * - `files_total` (#guint64): the files the source met (its answer to
 *   GST_VYRE_FILES_QUERY: vyreurisrc on a tree or a list), 0 unknown.
 *
 * ## vyre-epoch message
 * For each completed batch fence (vyrescan's `vyre-epoch` event):
 * - `epoch` (#guint): the fence's number, 1, 2, ...
 * - `buffers` (#guint64): buffers received when it arrived.
 *
 * ## Tag messages
 * A tag event that holds only a location (vyreurisrc's, one per file of
 * a tree) is not posted on the bus as a tag message, as other sinks
 * would: a message per file of a tree of 100,000 files.  Findings name
 * their file; other tags are posted as usual.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 vyreurisrc location=big.log ! vyrescan patterns-file=p.txt ! vyresink
 * gst-launch-1.0 filesrc location=big.log ! vyrescan patterns-file=p.txt ! vyresink report-location=report.json matches-location=matches.jsonl print-summary=false
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvyresink.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "gstvyrefilemeta.h"
#include "gstvyrescanmeta.h"
#include "vyre-crc32.h"
#include "vyre-line-index.h"
#include "vyre-match-events.h"
#include "vyre-patterns.h"
#include "vyre-report.h"

GST_DEBUG_CATEGORY_STATIC (vyre_sink_debug);
#define GST_CAT_DEFAULT vyre_sink_debug

#define DEFAULT_PRINT_SUMMARY TRUE
#define DEFAULT_FAIL_ON_MATCH FALSE
#define DEFAULT_SNIPPET_BYTES 0
#define MAX_SNIPPET_BYTES 4096
#define DEFAULT_MESSAGE_INTERVAL GST_SECOND
/* Pattern lines in the printed summary; the rest is summed in one line. */
#define SUMMARY_PATTERN_LINES 20

enum
{
  PROP_0,
  PROP_COMPLETED,
  PROP_EPOCH,
  PROP_BYTES,
  PROP_MATCHES,
  PROP_DROPPED,
  PROP_SUMMARY,
  PROP_REPORT_LOCATION,
  PROP_MATCHES_LOCATION,
  PROP_PRINT_SUMMARY,
  PROP_PROGRESS,
  PROP_MESSAGE_INTERVAL,
  PROP_SARIF_LOCATION,
  PROP_FAIL_ON_MATCH,
  PROP_SNIPPET_BYTES,
};

struct _GstVyreSink
{
  GstBaseSink parent;

  /* properties (object lock) */
  gchar *report_location;
  gchar *matches_location;
  gchar *sarif_location;
  gboolean fail_on_match;
  guint snippet_bytes;
  gboolean print_summary;
  gboolean progress;
  GstClockTime message_interval;

  /* totals (object lock: read by property getters from any thread) */
  guint64 completed;
  guint32 epoch;
  guint64 bytes;
  guint64 matches;
  guint64 dropped;
  guint32 crc;
  guint64 histogram[256];
  GArray *pattern_counts;       /* guint64 per pattern id */
  /* monotonic us (object lock); 0 = not yet: start() (READY->PAUSED),
   * first buffer rendered, EOS or stop, whichever ended the run */
  gint64 start_time, first_time, end_time;
  guint64 timed_bytes;          /* bytes of the buffers after the first */
  /* files: those whose bytes arrived (the stream without GstVyreFileMeta
   * is one), those with matches, and per file with matches its count */
  guint64 files_scanned;
  guint64 files_with_matches;
  GArray *file_counts;          /* FileCount, in stream order */
  /* vyre-file-skipped messages seen on the bus: GstStructure (path,
   * reason, description), written by the posting thread */
  GPtrArray *skipped;

  /* from vyre-info: written by the streaming thread under the object
   * lock (the summary reads them from any thread); kept after stop so
   * the summary stays whole, replaced at the next start */
  GPtrArray *patterns;          /* escaped text per id */
  gchar *device;

  /* streaming thread only (and start/stop) */
  VyreReportWriter *report;
  VyreReportWriter *matches_out;
  VyreReportWriter *sarif_out;
  VyreLineIndex *lines;         /* when matches are written */
  guint snippet;                /* snippet-bytes of this run */
  GArray *pattern_lengths;      /* guint per pattern id (raw bytes) */
  /* the file the last buffer belonged to */
  gboolean in_file;
  guint file_index;
  gchar *file_path;             /* GRefString; NULL: no GstVyreFileMeta */
  guint64 file_stream_start;    /* stream offset of its byte 0 */
  guint64 file_matches;
  /* the pipeline's bus, whose vyre-file-skipped messages we collect */
  GstBus *bus;
  gulong bus_handler;
  guint max_pattern_len;
  GArray *pending;              /* GstVyreMatch held back for stream order */
  gint64 last_message;
  guint64 total_size;           /* from a duration query, 0 = unknown */
  guint64 files_total;          /* from a GST_VYRE_FILES_QUERY, 0 = unknown */
  gboolean progress_shown;
};

typedef struct
{
  gchar *path;
  guint64 matches;
} FileCount;

static void
file_count_clear (gpointer p)
{
  g_free (((FileCount *) p)->path);
}

G_DEFINE_TYPE_WITH_CODE (GstVyreSink, gst_vyre_sink, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (vyre_sink_debug, "vyresink", 0,
        "vyre results sink"));
GST_ELEMENT_REGISTER_DEFINE (vyresink, "vyresink", GST_RANK_NONE,
    GST_TYPE_VYRE_SINK);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* ------------------------------------------------------------------ */
/* outputs                                                             */

/* A report output failed: post the error with its path, reason and Fix,
 * and drop the outputs so no partial file replaces an earlier one. */
static void
output_failed (GstVyreSink * self, GError * err, gboolean at_open)
{
  if (at_open)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s.", err->message),
        ("%s", vyre_report_error_fix (err)));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s.", err->message),
        ("%s", vyre_report_error_fix (err)));
  g_clear_pointer (&self->report, vyre_report_writer_free);
  g_clear_pointer (&self->matches_out, vyre_report_writer_free);
  g_clear_pointer (&self->sarif_out, vyre_report_writer_free);
}

/* A vyre-file-skipped message of the source, seen where it is posted
 * (sync-message: the application's bus watch is not ours to take). */
static void
on_sync_message (GstBus * bus, GstMessage * message, GstVyreSink * self)
{
  const GstStructure *s = gst_message_get_structure (message);
  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ELEMENT || s == NULL ||
      !gst_structure_has_name (s, "vyre-file-skipped"))
    return;
  const gchar *path = gst_structure_get_string (s, "path");
  const gchar *reason = gst_structure_get_string (s, "reason");
  const gchar *description = gst_structure_get_string (s, "description");
  GstStructure *skip = gst_structure_new ("skipped",
      "path", G_TYPE_STRING, path ? path : "",
      "reason", G_TYPE_STRING, reason ? reason : "",
      "description", G_TYPE_STRING, description ? description : "", NULL);
  GST_OBJECT_LOCK (self);
  g_ptr_array_add (self->skipped, skip);
  GST_OBJECT_UNLOCK (self);
  (void) bus;
}

/* The bus the application reads: the top-level bin's.  Sync messages
 * are emitted there for every message its sync handler passes on. */
static void
watch_bus (GstVyreSink * self)
{
  GstObject *top = gst_object_ref (GST_OBJECT (self)), *parent;
  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  self->bus = gst_element_get_bus (GST_ELEMENT (top));
  gst_object_unref (top);
  if (self->bus == NULL)
    return;
  gst_bus_enable_sync_message_emission (self->bus);
  self->bus_handler = g_signal_connect (self->bus, "sync-message::element",
      G_CALLBACK (on_sync_message), self);
}

static void
unwatch_bus (GstVyreSink * self)
{
  if (self->bus == NULL)
    return;
  g_signal_handler_disconnect (self->bus, self->bus_handler);
  gst_bus_disable_sync_message_emission (self->bus);
  gst_clear_object (&self->bus);
  self->bus_handler = 0;
}

static void
clear_file (GstVyreSink * self)
{
  self->in_file = FALSE;
  g_clear_pointer (&self->file_path, g_ref_string_release);
  self->file_stream_start = self->file_matches = 0;
}

static gboolean
gst_vyre_sink_start (GstBaseSink * sink)
{
  GstVyreSink *self = GST_VYRE_SINK (sink);
  gchar *report, *matches, *sarif;
  GST_OBJECT_LOCK (self);
  report = g_strdup (self->report_location);
  matches = g_strdup (self->matches_location);
  sarif = g_strdup (self->sarif_location);
  self->snippet = self->snippet_bytes;
  self->files_scanned = self->files_with_matches = 0;
  g_array_set_size (self->file_counts, 0);
  g_ptr_array_set_size (self->skipped, 0);
  self->completed = self->bytes = self->matches = self->dropped = 0;
  self->epoch = 0;
  self->crc = 0;
  memset (self->histogram, 0, sizeof self->histogram);
  g_array_set_size (self->pattern_counts, 0);
  self->start_time = g_get_monotonic_time ();
  self->first_time = self->end_time = 0;
  self->timed_bytes = 0;
  g_clear_pointer (&self->patterns, g_ptr_array_unref);
  g_clear_pointer (&self->device, g_free);
  GST_OBJECT_UNLOCK (self);
  self->max_pattern_len = 0;

  /* Open (create the temporary files) now: a path that cannot be written
   * fails before any work, not at EOS after all of it. */
  GError *err = NULL;
  gboolean ok = TRUE;
  if (report && *report)
    ok = (self->report = vyre_report_writer_open (report, "report",
            VYRE_REPORT_FORMAT_JSON, &err)) != NULL;
  if (ok && matches && *matches)
    ok = (self->matches_out = vyre_report_writer_open (matches,
            "matches file", VYRE_REPORT_FORMAT_JSON_LINES, &err)) != NULL;
  if (ok && sarif && *sarif)
    ok = (self->sarif_out = vyre_report_writer_open (sarif,
            "SARIF log", VYRE_REPORT_FORMAT_SARIF, &err)) != NULL;
  if (!ok) {
    output_failed (self, err, TRUE);
    g_error_free (err);
  }
  g_free (report);
  g_free (matches);
  g_free (sarif);
  /* Code points are counted only for SARIF's columns. */
  if (self->matches_out || self->sarif_out)
    self->lines = vyre_line_index_new (self->sarif_out != NULL);
  clear_file (self);
  if (ok)
    watch_bus (self);
  self->last_message = 0;
  self->total_size = 0;
  self->files_total = 0;
  self->progress_shown = FALSE;
  g_array_set_size (self->pending, 0);
  return ok;
}

static gboolean
gst_vyre_sink_stop (GstBaseSink * sink)
{
  GstVyreSink *self = GST_VYRE_SINK (sink);
  /* Not finished means stopped before EOS (an error, Ctrl-C): freeing
   * removes the temporary files, earlier outputs stay as they were. */
  g_clear_pointer (&self->report, vyre_report_writer_free);
  g_clear_pointer (&self->matches_out, vyre_report_writer_free);
  g_clear_pointer (&self->sarif_out, vyre_report_writer_free);
  g_clear_pointer (&self->lines, vyre_line_index_free);
  clear_file (self);
  unwatch_bus (self);
  GST_OBJECT_LOCK (self);
  if (self->start_time && !self->end_time)
    self->end_time = g_get_monotonic_time ();
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* matches in stream order                                             */

static const gchar *
pattern_text (GstVyreSink * self, guint32 id)
{
  if (self->patterns && id < self->patterns->len)
    return self->patterns->pdata[id];
  return "";
}

static gboolean
writing_matches (GstVyreSink * self)
{
  return self->matches_out || self->sarif_out;
}

/* The escaped bytes around a match: snippet-bytes before its start and
 * after its end, within the file (NULL when snippets are off). */
static gchar *
make_snippet (GstVyreSink * self, guint64 start, guint32 length)
{
  if (self->snippet == 0)
    return NULL;
  guint64 from = start > self->snippet ? start - self->snippet : 0;
  GBytes *bytes = vyre_line_index_get_bytes (self->lines, from,
      start + length + self->snippet);
  gchar *text = vyre_pattern_escape (bytes);
  g_bytes_unref (bytes);
  return text;
}

/* One match to the outputs that list matches. */
static gboolean
write_match (GstVyreSink * self, const GstVyreMatch * m, GError ** error)
{
  VyreReportMatch r = VYRE_REPORT_MATCH_INIT;
  r.stream_offset = m->offset;
  r.offset = m->offset;
  r.pattern_id = m->pattern_id;
  r.pattern = pattern_text (self, m->pattern_id);
  if (m->pattern_id < self->pattern_lengths->len)
    r.length = g_array_index (self->pattern_lengths, guint, m->pattern_id);
  gchar *snippet = NULL;
  /* A match before its file's first byte would span two files: vyrescan
   * never reports one; should it, it is written with stream offsets. */
  if (self->in_file && m->offset >= self->file_stream_start) {
    r.offset = m->offset - self->file_stream_start;
    r.file = self->file_path;
    VyreLinePosition pos;
    if (vyre_line_index_locate (self->lines, r.offset, &pos)) {
      r.line = pos.line;
      r.column = pos.column;
      r.column_chars = pos.column_chars;
    }
    r.snippet = snippet = make_snippet (self, r.offset, r.length);
  }
  gboolean ok = (self->matches_out == NULL ||
      vyre_report_writer_add_match (self->matches_out, &r, error)) &&
      (self->sarif_out == NULL ||
      vyre_report_writer_add_match (self->sarif_out, &r, error));
  g_free (snippet);
  return ok;
}

/* Write out held-back matches that start before `limit`: no later buffer
 * can report a match starting there (a match is reported by the buffer
 * it ends in, so at most max_pattern_len - 1 bytes before it). */
static gboolean
flush_matches (GstVyreSink * self, guint64 limit, GError ** error)
{
  if (self->pending->len == 0)
    return TRUE;
  vyre_match_events_sort (self->pending);
  guint n = 0;
  gboolean ok = TRUE;
  while (ok && n < self->pending->len) {
    GstVyreMatch *m = &g_array_index (self->pending, GstVyreMatch, n);
    if (m->offset >= limit)
      break;
    ok = write_match (self, m, error);
    n++;
  }
  g_array_remove_range (self->pending, 0, n);
  return ok;
}

/* The current file is done: its count kept when it had matches. */
static void
end_file (GstVyreSink * self)
{
  if (!self->in_file || self->file_matches == 0)
    return;
  FileCount c = { g_strdup (self->file_path), self->file_matches };
  GST_OBJECT_LOCK (self);
  self->files_with_matches++;
  if (c.path)
    g_array_append_val (self->file_counts, c);
  GST_OBJECT_UNLOCK (self);
}

/* The buffer's file (GstVyreFileMeta), or the stream as one file when it
 * has none.  A new file flushes the previous one's held-back matches
 * first: no match spans two files.  FALSE (*error) when writing failed. */
static gboolean
follow_file (GstVyreSink * self, GstBuffer * buf, guint64 stream_offset,
    GError ** error)
{
  GstVyreFileMeta *fm = gst_buffer_get_vyre_file_meta (buf);
  if (self->in_file && (fm == NULL ? self->file_path == NULL :
          self->file_path != NULL && fm->file_index == self->file_index))
    return TRUE;
  if (self->in_file && writing_matches (self) &&
      !flush_matches (self, G_MAXUINT64, error))
    return FALSE;
  end_file (self);
  clear_file (self);
  self->in_file = TRUE;
  if (fm) {
    self->file_index = fm->file_index;
    self->file_path = g_ref_string_acquire (fm->path);
    self->file_stream_start = stream_offset - MIN (fm->file_offset,
        stream_offset);
  }
  if (self->lines)
    vyre_line_index_begin_file (self->lines, self->file_path);
  GST_OBJECT_LOCK (self);
  self->files_scanned++;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* This buffer's matches into the held-back list, those no later buffer
 * can precede written out.  Without a file to read lines from, the
 * buffer's bytes are lent to the line index while that happens. */
static gboolean
write_buffer_matches (GstVyreSink * self, GstBuffer * buf,
    GstVyreScanMeta * m, gsize size, GError ** error)
{
  g_array_append_vals (self->pending, m->matches, m->n_matches);
  /* Matches starting at or after `limit` wait for the next buffer: one
   * may still end there and start here; snippets wait for their text
   * after the match. */
  guint64 keep = (self->max_pattern_len ? self->max_pattern_len - 1 : 0) +
      self->snippet;
  guint64 end = m->stream_offset + size;
  guint64 limit = end > keep ? end - keep : 0;
  /* The scan's histogram counted the newlines of the bytes it covers: the
   * line index jumps over them instead of reading them again. */
  guint64 file_end = end - MIN (self->file_stream_start, end);
  if (m->has_histogram && m->digest_bytes <= file_end)
    vyre_line_index_add_newline_count (self->lines,
        file_end - m->digest_bytes, m->digest_bytes, m->histogram['\n']);
  GstMapInfo map;
  gboolean lent = !vyre_line_index_reads_file (self->lines) &&
      gst_buffer_map (buf, &map, GST_MAP_READ);
  if (lent)
    vyre_line_index_lend_bytes (self->lines,
        m->stream_offset - self->file_stream_start, map.data, map.size);
  gboolean ok = flush_matches (self, limit, error);
  if (lent) {
    guint64 keep_from = limit > self->snippet ? limit - self->snippet : 0;
    vyre_line_index_release (self->lines,
        keep_from - MIN (keep_from, self->file_stream_start));
    gst_buffer_unmap (buf, &map);
  }
  return ok;
}

/* ------------------------------------------------------------------ */
/* progress and summary                                                */

static double
entropy_bits (const guint64 * hist, guint64 total)
{
  if (total == 0)
    return 0.0;
  double h = 0.0;
  for (guint b = 0; b < 256; b++) {
    if (hist[b] == 0)
      continue;
    double p = (double) hist[b] / (double) total;
    h -= p * log2 (p);
  }
  return h;
}

/* Start-up, scan time and the scan's rate (object lock held).  Start-up
 * is start() to the first buffer (device, kernel and shader compilation,
 * the first read and scan); the scan is the first buffer to the end, and
 * its rate counts the bytes that arrived in it.  With one buffer there is
 * no scan interval: the rate is then over the whole run. */
static void
times_locked (GstVyreSink * self, double *startup_s, double *scan_s,
    double *bytes_per_s)
{
  gint64 now = self->end_time ? self->end_time : g_get_monotonic_time ();
  *startup_s = *scan_s = *bytes_per_s = 0;
  if (self->start_time == 0)
    return;
  if (self->first_time == 0) {
    *startup_s = (now - self->start_time) / 1e6;
    return;
  }
  *startup_s = (self->first_time - self->start_time) / 1e6;
  *scan_s = (now - self->first_time) / 1e6;
  if (self->timed_bytes > 0 && *scan_s > 0)
    *bytes_per_s = self->timed_bytes / *scan_s;
  else if (*startup_s + *scan_s > 0)
    *bytes_per_s = self->bytes / (*startup_s + *scan_s);
}

/* The summary's `files` (object lock held; the element documentation
 * lists its fields).  The file being read counts as scanned; its matches
 * count once it is done. */
static GstStructure *
build_files_locked (GstVyreSink * self)
{
  GValue skipped = G_VALUE_INIT, counts = G_VALUE_INIT;
  gst_value_array_init (&skipped, self->skipped->len);
  for (guint i = 0; i < self->skipped->len; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_set_boxed (&v, self->skipped->pdata[i]);
    gst_value_array_append_and_take_value (&skipped, &v);
  }
  gst_value_array_init (&counts, self->file_counts->len);
  for (guint i = 0; i < self->file_counts->len; i++) {
    FileCount *c = &g_array_index (self->file_counts, FileCount, i);
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("file",
            "file", G_TYPE_STRING, c->path,
            "matches", G_TYPE_UINT64, c->matches, NULL));
    gst_value_array_append_and_take_value (&counts, &v);
  }
  GstStructure *files = gst_structure_new ("files",
      "scanned", G_TYPE_UINT64, self->files_scanned,
      "with_matches", G_TYPE_UINT64, self->files_with_matches,
      "skipped", G_TYPE_UINT64, (guint64) self->skipped->len, NULL);
  gst_structure_take_value (files, "skipped_files", &skipped);
  gst_structure_take_value (files, "match_counts", &counts);
  return files;
}

/* The summary as a structure: the fields of the JSON report (the element
 * documentation lists them). */
static GstStructure *
build_summary (GstVyreSink * self, const gchar * name)
{
  GST_OBJECT_LOCK (self);
  double startup, elapsed, rate;
  times_locked (self, &startup, &elapsed, &rate);
  gchar crc[9];
  g_snprintf (crc, sizeof crc, "%08x", self->crc);
  gchar *throughput = vyre_report_format_rate (rate);
  GstStructure *s = gst_structure_new (name,
      "bytes", G_TYPE_UINT64, self->bytes,
      "buffers", G_TYPE_UINT64, self->completed,
      "epochs", G_TYPE_UINT, self->epoch,
      "matches", G_TYPE_UINT64, self->matches,
      "dropped_matches", G_TYPE_UINT64, self->dropped,
      "crc32", G_TYPE_STRING, crc,
      "entropy_bits_per_byte", G_TYPE_DOUBLE,
      entropy_bits (self->histogram, self->bytes),
      "startup_s", G_TYPE_DOUBLE, startup,
      "elapsed_s", G_TYPE_DOUBLE, elapsed,
      "gbps", G_TYPE_DOUBLE, rate / 1e9,
      "throughput", G_TYPE_STRING, throughput,
      "device", G_TYPE_STRING, self->device ? self->device : "", NULL);
  g_free (throughput);
  GValue hist = G_VALUE_INIT, counts = G_VALUE_INIT, names = G_VALUE_INIT;
  gst_value_array_init (&hist, 256);
  for (guint b = 0; b < 256; b++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, self->histogram[b]);
    gst_value_array_append_and_take_value (&hist, &v);
  }
  gst_structure_take_value (s, "histogram", &hist);
  /* pattern_counts: two parallel arrays (pattern text, count) */
  guint np = self->patterns ? self->patterns->len : 0;
  gst_value_array_init (&counts, np);
  gst_value_array_init (&names, np);
  for (guint i = 0; i < np; i++) {
    GValue v = G_VALUE_INIT, t = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, i < self->pattern_counts->len ?
        g_array_index (self->pattern_counts, guint64, i) : 0);
    gst_value_array_append_and_take_value (&counts, &v);
    g_value_init (&t, G_TYPE_STRING);
    g_value_set_string (&t, self->patterns->pdata[i]);
    gst_value_array_append_and_take_value (&names, &t);
  }
  gst_structure_take_value (s, "patterns", &names);
  gst_structure_take_value (s, "pattern_counts", &counts);
  GstStructure *files = build_files_locked (self);
  gst_structure_set (s, "files", GST_TYPE_STRUCTURE, files, NULL);
  gst_structure_free (files);
  GST_OBJECT_UNLOCK (self);
  return s;
}

static void
post_progress (GstVyreSink * self, gboolean final)
{
  gint64 now = g_get_monotonic_time ();
  double startup, elapsed, rate;
  GST_OBJECT_LOCK (self);
  GstClockTime interval = self->message_interval;
  gboolean show = self->progress;
  /* files done: all at the end, before it all but the one being read;
   * skipped ones are done too */
  guint64 files = (final || self->files_scanned == 0 ? self->files_scanned :
      self->files_scanned - 1) + self->skipped->len;
  guint64 bytes = self->bytes;
  times_locked (self, &startup, &elapsed, &rate);
  /* until a second buffer came the rate is start-up's, not the scan's:
   * no rate and no ETA rather than a wrong one */
  if (!final && self->timed_bytes == 0)
    rate = 0;
  GST_OBJECT_UNLOCK (self);
  if (!final && self->last_message &&
      (GstClockTime) (now - self->last_message) * 1000 < interval)
    return;
  self->last_message = now;
  if (self->total_size == 0) {
    gint64 dur = 0;
    if (gst_pad_peer_query_duration (GST_BASE_SINK_PAD (self),
            GST_FORMAT_BYTES, &dur) && dur > 0)
      self->total_size = dur;
  }
  if (self->files_total == 0) {
    GstQuery *q = gst_query_new_custom (GST_QUERY_CUSTOM,
        gst_structure_new_empty (GST_VYRE_FILES_QUERY));
    guint64 t = 0;
    if (gst_pad_peer_query (GST_BASE_SINK_PAD (self), q) &&
        gst_structure_get_uint64 (gst_query_get_structure (q), "total", &t))
      self->files_total = t;
    gst_query_unref (q);
  }
  double pct = self->total_size ? 100.0 * bytes / self->total_size : -1;
  double eta = (self->total_size && rate > 0) ?
      (self->total_size - MIN (bytes, self->total_size)) / rate : -1;
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("vyre-progress",
              "bytes", G_TYPE_UINT64, bytes,
              "total", G_TYPE_UINT64, self->total_size,
              "percent", G_TYPE_DOUBLE, pct,
              "eta_s", G_TYPE_DOUBLE, eta,
              "gbps", G_TYPE_DOUBLE, rate / 1e9,
              "files", G_TYPE_UINT64, files,
              "files_total", G_TYPE_UINT64, self->files_total, NULL)));
  if (show) {
    gchar *size = g_format_size (bytes);
    gchar *done = self->files_total ? g_strdup_printf ("%" G_GUINT64_FORMAT
        " / %" G_GUINT64_FORMAT " files, %s", files, self->files_total,
        size) : files > 1 ? g_strdup_printf ("%" G_GUINT64_FORMAT
        " files, %s", files, size) : g_strdup (size);
    g_free (size);
    gchar *speed = rate > 0 ? vyre_report_format_rate (rate) : g_strdup ("");
    if (pct >= 0) {
      gchar *total = g_format_size (self->total_size);
      if (eta >= 0)
        g_printerr ("\rvyre: %s / %s (%.1f%%) %s ETA %.1f s   ", done, total,
            pct, speed, eta);
      else
        g_printerr ("\rvyre: %s / %s (%.1f%%)   ", done, total, pct);
      g_free (total);
    } else {
      g_printerr ("\rvyre: %s %s   ", done, speed);
    }
    g_free (done);
    g_free (speed);
    self->progress_shown = TRUE;
  }
}

/* At EOS: the last matches and the report written and put in place, the
 * summary printed and posted.  FALSE (an error posted) when an output
 * could not be written. */
static gboolean
finish (GstVyreSink * self)
{
  GError *err = NULL;
  gboolean ok = TRUE;
  /* The matches first: when they cannot be completed the run failed, and
   * the report is not replaced either. */
  if (writing_matches (self))
    ok = flush_matches (self, G_MAXUINT64, &err);
  end_file (self);
  clear_file (self);
  GST_OBJECT_LOCK (self);
  self->end_time = g_get_monotonic_time ();
  gboolean fail_on_match = self->fail_on_match;
  guint64 matches = self->matches, files_with_matches =
      self->files_with_matches;
  GST_OBJECT_UNLOCK (self);
  post_progress (self, TRUE);
  if (self->progress_shown)
    g_printerr ("\n");
  GstStructure *s = build_summary (self, "vyre-summary");
  if (ok && self->matches_out)
    ok = vyre_report_writer_finish (self->matches_out, NULL, &err);
  if (ok && self->sarif_out)
    ok = vyre_report_writer_finish (self->sarif_out, s, &err);
  if (ok && self->report)
    ok = vyre_report_writer_finish (self->report, s, &err);
  /* Where the findings are, for the fail-on-match error. */
  gchar *where = NULL;
  if (ok) {
    GString *w = g_string_new (NULL);
    VyreReportWriter *outs[] = { self->report, self->matches_out,
      self->sarif_out
    };
    for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
      if (outs[i])
        g_string_append_printf (w, "%s %s: \"%s\"", w->len ? ";" : "",
            vyre_report_writer_get_what (outs[i]),
            vyre_report_writer_get_path (outs[i]));
    where = g_string_free (w, FALSE);
  }
  /* done with them: a later EOS (after a flushing seek) writes nothing */
  if (ok) {
    g_clear_pointer (&self->report, vyre_report_writer_free);
    g_clear_pointer (&self->matches_out, vyre_report_writer_free);
    g_clear_pointer (&self->sarif_out, vyre_report_writer_free);
  }
  gboolean print;
  GST_OBJECT_LOCK (self);
  print = self->print_summary;
  GST_OBJECT_UNLOCK (self);
  if (print) {
    gchar *text = vyre_report_format_summary (s, SUMMARY_PATTERN_LINES);
    g_print ("%s", text);
    g_free (text);
  }
  /* Before EOS reaches the bus: applications see the summary first. */
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  if (!ok) {
    output_failed (self, err, FALSE);
    g_error_free (err);
  } else if (fail_on_match && matches > 0) {
    /* After the outputs are in place: a CI step that fails still leaves
     * the findings to read. */
    gchar *n = vyre_report_format_count (matches);
    gchar *nf = vyre_report_format_count (files_with_matches);
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Found %s %s (fail-on-match=true)%s%s%s.", n,
            matches == 1 ? "match" : "matches",
            files_with_matches ? " in " : "",
            files_with_matches ? nf : "",
            files_with_matches ? (files_with_matches == 1 ? " file" :
                " files") : ""),
        ("The findings are in the summary%s%s.  Fix: remove or allow-list "
            "what matched, or set fail-on-match=false to report without "
            "failing.", *where ? " and at" : "", where));
    g_free (n);
    g_free (nf);
    ok = FALSE;
  }
  g_free (where);
  return ok;
}

/* ------------------------------------------------------------------ */

static GstFlowReturn
gst_vyre_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstVyreSink *self = GST_VYRE_SINK (sink);
  GstVyreScanMeta *m = gst_buffer_get_vyre_scan_meta (buf);
  gsize size = gst_buffer_get_size (buf);
  if (m == NULL) {
    GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE,
        ("vyresink received a buffer without scan results."),
        ("Fix: put vyrescan right before vyresink, e.g. "
            "\"... ! vyrescan patterns-file=P ! vyresink\"."));
    return GST_FLOW_ERROR;
  }
  GST_OBJECT_LOCK (self);
  if (self->first_time == 0)
    self->first_time = g_get_monotonic_time ();
  else
    self->timed_bytes += size;
  self->completed++;
  self->bytes += size;
  self->matches += m->n_matches + m->n_dropped;
  self->dropped += m->n_dropped;
  if (m->has_crc32)
    self->crc = vyre_crc32_combine (self->crc, m->crc32, m->digest_bytes);
  if (m->has_histogram)
    for (guint b = 0; b < 256; b++)
      self->histogram[b] += m->histogram[b];
  /* (counted by vyrescan's workers: stored or not, every match) */
  for (guint i = 0; i < m->n_counts; i++) {
    guint32 id = m->counts[i].pattern_id;
    if (id >= self->pattern_counts->len)
      g_array_set_size (self->pattern_counts, id + 1);
    g_array_index (self->pattern_counts, guint64, id) += m->counts[i].count;
  }
  GST_OBJECT_UNLOCK (self);

  GError *err = NULL;
  gboolean ok = follow_file (self, buf, m->stream_offset, &err);
  self->file_matches += m->n_matches + m->n_dropped;
  if (ok && writing_matches (self))
    ok = write_buffer_matches (self, buf, m, size, &err);
  if (!ok) {
    output_failed (self, err, FALSE);
    g_error_free (err);
    return GST_FLOW_ERROR;
  }
  post_progress (self, FALSE);
  return GST_FLOW_OK;
}

static void
take_info (GstVyreSink * self, const GstStructure * s)
{
  GPtrArray *patterns = g_ptr_array_new_with_free_func (g_free);
  guint max_len = 0;
  g_array_set_size (self->pattern_lengths, 0);
  const GValue *list = gst_structure_get_value (s, "patterns");
  guint n = list ? gst_value_array_get_size (list) : 0;
  for (guint i = 0; i < n; i++) {
    const gchar *text = g_value_get_string (gst_value_array_get_value (list,
            i));
    g_ptr_array_add (patterns, g_strdup (text));
    /* the escaped text's byte length, for the stream-order hold-back */
    const gchar *one[] = { text, NULL };
    GPtrArray *raw = NULL;
    guint len = 0;
    if (vyre_patterns_from_strv (one, &raw, NULL)) {
      len = g_bytes_get_size (raw->pdata[0]);
      g_ptr_array_unref (raw);
    }
    max_len = MAX (max_len, len);
    g_array_append_val (self->pattern_lengths, len);
  }
  GST_OBJECT_LOCK (self);
  g_free (self->device);
  self->device = g_strdup (gst_structure_get_string (s, "device"));
  if (self->patterns)
    g_ptr_array_unref (self->patterns);
  self->patterns = patterns;
  self->max_pattern_len = max_len;
  GST_OBJECT_UNLOCK (self);
}

/* A stream tag event holding GST_TAG_LOCATION and nothing else. */
static gboolean
is_location_only (GstEvent * event)
{
  GstTagList *tags = NULL;
  gst_event_parse_tag (event, &tags);
  return tags && gst_tag_list_get_scope (tags) == GST_TAG_SCOPE_STREAM &&
      gst_tag_list_n_tags (tags) == 1 &&
      gst_tag_list_get_tag_size (tags, GST_TAG_LOCATION) == 1;
}

static gboolean
gst_vyre_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstVyreSink *self = GST_VYRE_SINK (sink);
  const GstStructure *s = gst_event_get_structure (event);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      if (s && gst_structure_has_name (s, "vyre-epoch")) {
        guint e = 0;
        gst_structure_get_uint (s, "epoch", &e);
        GST_OBJECT_LOCK (self);
        self->epoch = e;
        guint64 buffers = self->completed;
        GST_OBJECT_UNLOCK (self);
        gst_element_post_message (GST_ELEMENT (self),
            gst_message_new_element (GST_OBJECT (self),
                gst_structure_new ("vyre-epoch", "epoch", G_TYPE_UINT, e,
                    "buffers", G_TYPE_UINT64, buffers, NULL)));
      }
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY:
      if (s && gst_structure_has_name (s, "vyre-info"))
        take_info (self, s);
      break;
    case GST_EVENT_TAG:
      /* vyreurisrc names each file of a tree with a location tag.  A
       * sink posts every tag on the bus; one message per file costs a
       * wake-up of the application's main loop each, the larger part of
       * a small file's time here.  The file of every finding is in the
       * outputs already; other tags are posted as usual. */
      if (is_location_only (event)) {
        gst_event_unref (event);
        return TRUE;
      }
      break;
    case GST_EVENT_EOS:
      /* An output that failed is an error, not EOS: gst-launch-1.0 then
       * exits non-zero instead of reporting success. */
      if (!finish (self)) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (gst_vyre_sink_parent_class)->event (sink,
      event);
}

/* ------------------------------------------------------------------ */

static void
gst_vyre_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVyreSink *self = GST_VYRE_SINK (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_REPORT_LOCATION:
      g_free (self->report_location);
      self->report_location = g_value_dup_string (value);
      break;
    case PROP_MATCHES_LOCATION:
      g_free (self->matches_location);
      self->matches_location = g_value_dup_string (value);
      break;
    case PROP_SARIF_LOCATION:
      g_free (self->sarif_location);
      self->sarif_location = g_value_dup_string (value);
      break;
    case PROP_FAIL_ON_MATCH:
      self->fail_on_match = g_value_get_boolean (value);
      break;
    case PROP_SNIPPET_BYTES:
      self->snippet_bytes = g_value_get_uint (value);
      break;
    case PROP_PRINT_SUMMARY:
      self->print_summary = g_value_get_boolean (value);
      break;
    case PROP_PROGRESS:
      self->progress = g_value_get_boolean (value);
      break;
    case PROP_MESSAGE_INTERVAL:
      self->message_interval = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vyre_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstVyreSink *self = GST_VYRE_SINK (object);
  if (prop_id == PROP_SUMMARY) {
    g_value_take_boxed (value, build_summary (self, "vyre-summary"));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_COMPLETED:
      g_value_set_uint64 (value, self->completed);
      break;
    case PROP_EPOCH:
      g_value_set_uint (value, self->epoch);
      break;
    case PROP_BYTES:
      g_value_set_uint64 (value, self->bytes);
      break;
    case PROP_MATCHES:
      g_value_set_uint64 (value, self->matches);
      break;
    case PROP_DROPPED:
      g_value_set_uint64 (value, self->dropped);
      break;
    case PROP_REPORT_LOCATION:
      g_value_set_string (value, self->report_location);
      break;
    case PROP_MATCHES_LOCATION:
      g_value_set_string (value, self->matches_location);
      break;
    case PROP_SARIF_LOCATION:
      g_value_set_string (value, self->sarif_location);
      break;
    case PROP_FAIL_ON_MATCH:
      g_value_set_boolean (value, self->fail_on_match);
      break;
    case PROP_SNIPPET_BYTES:
      g_value_set_uint (value, self->snippet_bytes);
      break;
    case PROP_PRINT_SUMMARY:
      g_value_set_boolean (value, self->print_summary);
      break;
    case PROP_PROGRESS:
      g_value_set_boolean (value, self->progress);
      break;
    case PROP_MESSAGE_INTERVAL:
      g_value_set_uint64 (value, self->message_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vyre_sink_finalize (GObject * object)
{
  GstVyreSink *self = GST_VYRE_SINK (object);
  g_free (self->report_location);
  g_free (self->matches_location);
  g_free (self->sarif_location);
  g_array_unref (self->pattern_counts);
  g_array_unref (self->pattern_lengths);
  g_array_unref (self->file_counts);
  g_ptr_array_unref (self->skipped);
  vyre_report_writer_free (self->sarif_out);
  vyre_line_index_free (self->lines);
  if (self->file_path)
    g_ref_string_release (self->file_path);
  unwatch_bus (self);
  g_array_unref (self->pending);
  vyre_report_writer_free (self->report);
  vyre_report_writer_free (self->matches_out);
  if (self->patterns)
    g_ptr_array_unref (self->patterns);
  g_free (self->device);
  G_OBJECT_CLASS (gst_vyre_sink_parent_class)->finalize (object);
}

static void
gst_vyre_sink_class_init (GstVyreSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw_ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags rw_playing = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  gobject_class->set_property = gst_vyre_sink_set_property;
  gobject_class->get_property = gst_vyre_sink_get_property;
  gobject_class->finalize = gst_vyre_sink_finalize;
  sink_class->start = GST_DEBUG_FUNCPTR (gst_vyre_sink_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_vyre_sink_stop);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_vyre_sink_render);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_vyre_sink_event);

  g_object_class_install_property (gobject_class, PROP_COMPLETED,
      g_param_spec_uint64 ("completed", "Completed",
          "Buffers whose scan completed", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_EPOCH,
      g_param_spec_uint ("epoch", "Epoch",
          "Batch fences completed (vyrescan epoch-buffers)", 0, G_MAXUINT32,
          0, ro));
  g_object_class_install_property (gobject_class, PROP_BYTES,
      g_param_spec_uint64 ("bytes", "Bytes", "Bytes scanned", 0, G_MAXUINT64,
          0, ro));
  g_object_class_install_property (gobject_class, PROP_MATCHES,
      g_param_spec_uint64 ("matches", "Matches",
          "Matches found (stored and dropped)", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_DROPPED,
      g_param_spec_uint64 ("dropped-matches", "Dropped matches",
          "Matches counted but not stored (max-matches-per-buffer)", 0,
          G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_SUMMARY,
      g_param_spec_boxed ("summary", "Summary",
          "Everything reported so far, the fields of the JSON report",
          GST_TYPE_STRUCTURE, ro));
  g_object_class_install_property (gobject_class, PROP_REPORT_LOCATION,
      g_param_spec_string ("report-location", "Report location",
          "Write a JSON report here at EOS (checked when the pipeline starts; "
          "a regular file is replaced only by a complete report)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_MATCHES_LOCATION,
      g_param_spec_string ("matches-location", "Matches location",
          "Write every stored match here as JSON Lines, in stream order (a "
          "regular file is replaced at EOS, only when complete)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_SARIF_LOCATION,
      g_param_spec_string ("sarif-location", "SARIF location",
          "Write every stored match here as a SARIF 2.1.0 log (a regular "
          "file is replaced at EOS, only when complete)", NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_FAIL_ON_MATCH,
      g_param_spec_boolean ("fail-on-match", "Fail on match",
          "After EOS, when anything matched, end with an error (the outputs "
          "are written first): gst-launch-1.0 then exits non-zero",
          DEFAULT_FAIL_ON_MATCH, rw_playing));
  g_object_class_install_property (gobject_class, PROP_SNIPPET_BYTES,
      g_param_spec_uint ("snippet-bytes", "Snippet bytes",
          "Add this many bytes of text before and after each match to the "
          "matches file and the SARIF log (0: none; a scan for secrets "
          "copies them into the outputs)", 0, MAX_SNIPPET_BYTES,
          DEFAULT_SNIPPET_BYTES, rw_ready));
  g_object_class_install_property (gobject_class, PROP_PRINT_SUMMARY,
      g_param_spec_boolean ("print-summary", "Print summary",
          "Print a short summary on stdout at EOS", DEFAULT_PRINT_SUMMARY,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_PROGRESS,
      g_param_spec_boolean ("progress", "Progress",
          "One updating progress line on stderr (default: when stderr is a "
          "terminal)", FALSE, rw_playing));
  g_object_class_install_property (gobject_class, PROP_MESSAGE_INTERVAL,
      g_param_spec_uint64 ("message-interval", "Message interval",
          "Nanoseconds between vyre-progress bus messages", 0, G_MAXUINT64,
          DEFAULT_MESSAGE_INTERVAL, rw_playing));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "vyre results sink",
      "Sink/Analyzer",
      "Reports vyrescan's results: properties, bus messages, a JSON report, "
      "JSON Lines of matches and a summary", "gst-vyre developers");
}

static void
gst_vyre_sink_init (GstVyreSink * self)
{
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
  self->print_summary = DEFAULT_PRINT_SUMMARY;
  self->progress = isatty (STDERR_FILENO);
  self->message_interval = DEFAULT_MESSAGE_INTERVAL;
  self->pattern_counts = g_array_new (FALSE, TRUE, sizeof (guint64));
  self->pending = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  self->pattern_lengths = g_array_new (FALSE, TRUE, sizeof (guint));
  self->file_counts = g_array_new (FALSE, FALSE, sizeof (FileCount));
  g_array_set_clear_func (self->file_counts, file_count_clear);
  self->skipped = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  self->fail_on_match = DEFAULT_FAIL_ON_MATCH;
  self->snippet_bytes = DEFAULT_SNIPPET_BYTES;
}
