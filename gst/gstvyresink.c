/* gst-vyre
 *
 * gstvyresink.c - vyresink: completions and epochs reported.
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

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gstvyrescanmeta.h"
#include "vyre-crc32.h"
#include "vyre-match-events.h"
#include "vyre-patterns.h"

GST_DEBUG_CATEGORY_STATIC (vyre_sink_debug);
#define GST_CAT_DEFAULT vyre_sink_debug

#define DEFAULT_PRINT_SUMMARY TRUE
#define DEFAULT_MESSAGE_INTERVAL GST_SECOND

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
};

struct _GstVyreSink
{
  GstBaseSink parent;

  /* properties (object lock) */
  gchar *report_location;
  gchar *matches_location;
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

  /* streaming thread only */
  FILE *report_file;
  FILE *matches_file;
  GPtrArray *patterns;          /* escaped text per id (vyre-info) */
  guint max_pattern_len;
  gchar *device;
  gchar *dispatch;
  GArray *pending;              /* GstVyreMatch held back for stream order */
  gint64 start_time, last_message;
  guint64 total_size;           /* from a duration query, 0 = unknown */
  gboolean progress_shown;
};

G_DEFINE_TYPE_WITH_CODE (GstVyreSink, gst_vyre_sink, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (vyre_sink_debug, "vyresink", 0,
        "vyre results sink"));
GST_ELEMENT_REGISTER_DEFINE (vyresink, "vyresink", GST_RANK_NONE,
    GST_TYPE_VYRE_SINK);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* ------------------------------------------------------------------ */

static FILE *
open_output (GstVyreSink * self, const gchar * path, const gchar * what)
{
  FILE *f = fopen (path, "w");
  if (f == NULL)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open the %s \"%s\" for writing: %s.", what, path,
            g_strerror (errno)),
        ("Fix: choose a writable path (check the directory exists and "
            "its permissions) for %s.", what));
  return f;
}

static gboolean
gst_vyre_sink_start (GstBaseSink * sink)
{
  GstVyreSink *self = GST_VYRE_SINK (sink);
  gchar *report, *matches;
  GST_OBJECT_LOCK (self);
  report = g_strdup (self->report_location);
  matches = g_strdup (self->matches_location);
  self->completed = self->bytes = self->matches = self->dropped = 0;
  self->epoch = 0;
  self->crc = 0;
  memset (self->histogram, 0, sizeof self->histogram);
  g_array_set_size (self->pattern_counts, 0);
  GST_OBJECT_UNLOCK (self);

  /* Fail now, with the path, not at EOS after all the work. */
  gboolean ok = TRUE;
  if (report && *report)
    ok = (self->report_file = open_output (self, report, "report")) != NULL;
  if (ok && matches && *matches)
    ok = (self->matches_file =
        open_output (self, matches, "matches file")) != NULL;
  g_free (report);
  g_free (matches);
  self->start_time = g_get_monotonic_time ();
  self->last_message = 0;
  self->total_size = 0;
  self->progress_shown = FALSE;
  g_array_set_size (self->pending, 0);
  return ok;
}

static gboolean
gst_vyre_sink_stop (GstBaseSink * sink)
{
  GstVyreSink *self = GST_VYRE_SINK (sink);
  if (self->report_file)
    fclose (self->report_file);
  if (self->matches_file)
    fclose (self->matches_file);
  self->report_file = self->matches_file = NULL;
  g_clear_pointer (&self->patterns, g_ptr_array_unref);
  g_clear_pointer (&self->device, g_free);
  g_clear_pointer (&self->dispatch, g_free);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* matches in stream order                                             */

static void
json_string (GString * s, const gchar * text)
{
  g_string_append_c (s, '"');
  for (const guchar * p = (const guchar *) text; p && *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf (s, "\\%c", *p);
    else if (*p < 0x20)
      g_string_append_printf (s, "\\u%04x", *p);
    else
      g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
}

static const gchar *
pattern_text (GstVyreSink * self, guint32 id)
{
  if (self->patterns && id < self->patterns->len)
    return self->patterns->pdata[id];
  return "";
}

/* Write out held-back matches that start before `limit`: no later buffer
 * can report a match starting there (a match is reported by the buffer
 * it ends in, so at most max_pattern_len - 1 bytes before it). */
static void
flush_matches (GstVyreSink * self, guint64 limit)
{
  if (self->pending->len == 0)
    return;
  vyre_match_events_sort (self->pending);
  guint n = 0;
  GString *line = g_string_new (NULL);
  while (n < self->pending->len) {
    GstVyreMatch *m = &g_array_index (self->pending, GstVyreMatch, n);
    if (m->offset >= limit)
      break;
    g_string_printf (line, "{\"offset\": %" G_GUINT64_FORMAT
        ", \"pattern_id\": %u, \"pattern\": ", m->offset, m->pattern_id);
    json_string (line, pattern_text (self, m->pattern_id));
    g_string_append (line, "}\n");
    fwrite (line->str, 1, line->len, self->matches_file);
    n++;
  }
  g_string_free (line, TRUE);
  g_array_remove_range (self->pending, 0, n);
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

/* The summary as a structure: the same fields as the JSON report. */
static GstStructure *
build_summary (GstVyreSink * self, const gchar * name)
{
  double elapsed = (g_get_monotonic_time () - self->start_time) / 1e6;
  GST_OBJECT_LOCK (self);
  gchar crc[9];
  g_snprintf (crc, sizeof crc, "%08x", self->crc);
  GstStructure *s = gst_structure_new (name,
      "bytes", G_TYPE_UINT64, self->bytes,
      "buffers", G_TYPE_UINT64, self->completed,
      "epochs", G_TYPE_UINT, self->epoch,
      "matches", G_TYPE_UINT64, self->matches,
      "dropped_matches", G_TYPE_UINT64, self->dropped,
      "crc32", G_TYPE_STRING, crc,
      "entropy_bits_per_byte", G_TYPE_DOUBLE,
      entropy_bits (self->histogram, self->bytes),
      "elapsed_s", G_TYPE_DOUBLE, elapsed,
      "gbps", G_TYPE_DOUBLE, elapsed > 0 ? self->bytes / elapsed / 1e9 : 0.0,
      "device", G_TYPE_STRING, self->device ? self->device : "",
      "dispatch", G_TYPE_STRING, self->dispatch ? self->dispatch : "", NULL);
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
  GST_OBJECT_UNLOCK (self);
  return s;
}

static gchar *
summary_to_json (const GstStructure * s)
{
  GString *j = g_string_new ("{\n");
  guint64 u;
  guint e;
  gdouble d;
  gst_structure_get_uint64 (s, "bytes", &u);
  g_string_append_printf (j, "  \"bytes\": %" G_GUINT64_FORMAT ",\n", u);
  gst_structure_get_uint64 (s, "buffers", &u);
  g_string_append_printf (j, "  \"buffers\": %" G_GUINT64_FORMAT ",\n", u);
  gst_structure_get_uint (s, "epochs", &e);
  g_string_append_printf (j, "  \"epochs\": %u,\n", e);
  gst_structure_get_uint64 (s, "matches", &u);
  g_string_append_printf (j, "  \"matches\": %" G_GUINT64_FORMAT ",\n", u);
  gst_structure_get_uint64 (s, "dropped_matches", &u);
  g_string_append_printf (j, "  \"dropped_matches\": %" G_GUINT64_FORMAT
      ",\n", u);
  g_string_append (j, "  \"pattern_counts\": {");
  const GValue *names = gst_structure_get_value (s, "patterns");
  const GValue *counts = gst_structure_get_value (s, "pattern_counts");
  for (guint i = 0; i < gst_value_array_get_size (names); i++) {
    g_string_append (j, i ? ",\n    " : "\n    ");
    json_string (j, g_value_get_string (gst_value_array_get_value (names, i)));
    g_string_append_printf (j, ": %" G_GUINT64_FORMAT,
        g_value_get_uint64 (gst_value_array_get_value (counts, i)));
  }
  g_string_append (j, gst_value_array_get_size (names) ? "\n  },\n" : "},\n");
  g_string_append_printf (j, "  \"crc32\": \"%s\",\n",
      gst_structure_get_string (s, "crc32"));
  g_string_append (j, "  \"histogram\": [");
  const GValue *hist = gst_structure_get_value (s, "histogram");
  for (guint b = 0; b < 256; b++)
    g_string_append_printf (j, "%s%" G_GUINT64_FORMAT, b ? ", " : "",
        g_value_get_uint64 (gst_value_array_get_value (hist, b)));
  g_string_append (j, "],\n");
  gst_structure_get_double (s, "entropy_bits_per_byte", &d);
  g_string_append_printf (j, "  \"entropy_bits_per_byte\": %.6f,\n", d);
  gst_structure_get_double (s, "elapsed_s", &d);
  g_string_append_printf (j, "  \"elapsed_s\": %.6f,\n", d);
  gst_structure_get_double (s, "gbps", &d);
  g_string_append_printf (j, "  \"gbps\": %.6f,\n", d);
  g_string_append (j, "  \"device\": ");
  json_string (j, gst_structure_get_string (s, "device"));
  g_string_append (j, ",\n  \"dispatch\": ");
  json_string (j, gst_structure_get_string (s, "dispatch"));
  g_string_append (j, "\n}\n");
  return g_string_free (j, FALSE);
}

static void
post_progress (GstVyreSink * self, gboolean final)
{
  gint64 now = g_get_monotonic_time ();
  GST_OBJECT_LOCK (self);
  GstClockTime interval = self->message_interval;
  gboolean show = self->progress;
  guint64 bytes = self->bytes;
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
  double elapsed = (now - self->start_time) / 1e6;
  double gbps = elapsed > 0 ? bytes / elapsed / 1e9 : 0;
  double pct = self->total_size ? 100.0 * bytes / self->total_size : -1;
  double eta = (self->total_size && gbps > 0) ?
      (self->total_size - MIN (bytes, self->total_size)) / (gbps * 1e9) : -1;
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("vyre-progress",
              "bytes", G_TYPE_UINT64, bytes,
              "total", G_TYPE_UINT64, self->total_size,
              "percent", G_TYPE_DOUBLE, pct,
              "eta_s", G_TYPE_DOUBLE, eta,
              "gbps", G_TYPE_DOUBLE, gbps, NULL)));
  if (show) {
    if (pct >= 0)
      g_printerr ("\rvyre: %.2f / %.2f GB (%.1f%%) %.2f GB/s ETA %.1f s   ",
          bytes / 1e9, self->total_size / 1e9, pct, gbps, eta);
    else
      g_printerr ("\rvyre: %.2f GB %.2f GB/s   ", bytes / 1e9, gbps);
    self->progress_shown = TRUE;
  }
}

static void
finish (GstVyreSink * self)
{
  post_progress (self, TRUE);
  if (self->progress_shown)
    g_printerr ("\n");
  if (self->matches_file) {
    flush_matches (self, G_MAXUINT64);
    fflush (self->matches_file);
  }
  GstStructure *s = build_summary (self, "vyre-summary");
  gchar *json = summary_to_json (s);
  if (self->report_file) {
    if (fputs (json, self->report_file) < 0 || fflush (self->report_file))
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Could not write the report."), ("%s", g_strerror (errno)));
  }
  gboolean print;
  GST_OBJECT_LOCK (self);
  print = self->print_summary;
  GST_OBJECT_UNLOCK (self);
  if (print) {
    guint64 bytes, buffers, matches, dropped;
    guint epochs;
    gdouble gbps, elapsed, entropy;
    gst_structure_get (s, "bytes", G_TYPE_UINT64, &bytes, "buffers",
        G_TYPE_UINT64, &buffers, "matches", G_TYPE_UINT64, &matches,
        "dropped_matches", G_TYPE_UINT64, &dropped, "epochs", G_TYPE_UINT,
        &epochs, "gbps", G_TYPE_DOUBLE, &gbps, "elapsed_s", G_TYPE_DOUBLE,
        &elapsed, "entropy_bits_per_byte", G_TYPE_DOUBLE, &entropy, NULL);
    g_print ("vyre summary: %" G_GUINT64_FORMAT " bytes in %" G_GUINT64_FORMAT
        " buffers, %" G_GUINT64_FORMAT " matches (%" G_GUINT64_FORMAT
        " not stored), %u epochs, crc32 %s, entropy %.3f bits/byte, %.3f s, "
        "%.2f GB/s on %s (%s)\n", bytes, buffers, matches, dropped, epochs,
        gst_structure_get_string (s, "crc32"), entropy, elapsed, gbps,
        gst_structure_get_string (s, "device"),
        gst_structure_get_string (s, "dispatch"));
    const GValue *names = gst_structure_get_value (s, "patterns");
    const GValue *counts = gst_structure_get_value (s, "pattern_counts");
    for (guint i = 0; i < gst_value_array_get_size (names); i++)
      g_print ("  %10" G_GUINT64_FORMAT "  %s\n",
          g_value_get_uint64 (gst_value_array_get_value (counts, i)),
          g_value_get_string (gst_value_array_get_value (names, i)));
  }
  g_free (json);
  /* Before EOS reaches the bus: applications see the summary first. */
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
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
  self->completed++;
  self->bytes += size;
  self->matches += m->n_matches + m->n_dropped;
  self->dropped += m->n_dropped;
  if (m->has_crc32)
    self->crc = vyre_crc32_combine (self->crc, m->crc32, size);
  if (m->has_histogram)
    for (guint b = 0; b < 256; b++)
      self->histogram[b] += m->histogram[b];
  for (guint i = 0; i < m->n_matches; i++) {
    guint32 id = m->matches[i].pattern_id;
    if (id >= self->pattern_counts->len)
      g_array_set_size (self->pattern_counts, id + 1);
    g_array_index (self->pattern_counts, guint64, id)++;
  }
  GST_OBJECT_UNLOCK (self);

  if (self->matches_file) {
    g_array_append_vals (self->pending, m->matches, m->n_matches);
    guint64 keep = self->max_pattern_len ? self->max_pattern_len - 1 : 0;
    guint64 limit = m->stream_offset + size > keep ?
        m->stream_offset + size - keep : 0;
    flush_matches (self, limit);
  }
  post_progress (self, FALSE);
  return GST_FLOW_OK;
}

static void
take_info (GstVyreSink * self, const GstStructure * s)
{
  g_free (self->device);
  g_free (self->dispatch);
  self->device = g_strdup (gst_structure_get_string (s, "device"));
  self->dispatch = g_strdup (gst_structure_get_string (s, "dispatch"));
  g_clear_pointer (&self->patterns, g_ptr_array_unref);
  self->patterns = g_ptr_array_new_with_free_func (g_free);
  self->max_pattern_len = 0;
  const GValue *list = gst_structure_get_value (s, "patterns");
  guint n = list ? gst_value_array_get_size (list) : 0;
  for (guint i = 0; i < n; i++) {
    const gchar *text = g_value_get_string (gst_value_array_get_value (list,
            i));
    g_ptr_array_add (self->patterns, g_strdup (text));
    /* the escaped text's byte length, for the stream-order hold-back */
    const gchar *one[] = { text, NULL };
    GPtrArray *raw = NULL;
    if (vyre_patterns_from_strv (one, &raw, NULL)) {
      self->max_pattern_len = MAX (self->max_pattern_len,
          g_bytes_get_size (raw->pdata[0]));
      g_ptr_array_unref (raw);
    }
  }
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
        GST_OBJECT_UNLOCK (self);
        gst_element_post_message (GST_ELEMENT (self),
            gst_message_new_element (GST_OBJECT (self),
                gst_structure_new ("vyre-epoch", "epoch", G_TYPE_UINT, e,
                    "buffers", G_TYPE_UINT64, self->completed, NULL)));
      }
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY:
      if (s && gst_structure_has_name (s, "vyre-info"))
        take_info (self, s);
      break;
    case GST_EVENT_EOS:
      finish (self);
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
  g_array_unref (self->pattern_counts);
  g_array_unref (self->pending);
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
          "Write a JSON report here at EOS (opened when the pipeline starts)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_MATCHES_LOCATION,
      g_param_spec_string ("matches-location", "Matches location",
          "Write every stored match here as JSON Lines, in stream order",
          NULL, rw_ready));
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
}
