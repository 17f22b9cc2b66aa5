/* gst-vyre
 *
 * vyre-report.c - vyresink's outputs: files written atomically or
 * directly with every write checked, JSON built with json-glib, and the
 * printed summary.  Contracts in vyre-report.h.
 */
#include "vyre-report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* Matches are buffered and written in pieces of this size: few syscalls,
 * and a full disk is noticed while the run goes on, not only at EOS. */
#define WRITE_CHUNK (64 * 1024)

typedef struct
{
  gboolean wants_matches;
  gboolean (*add_match) (VyreReportWriter * w, const VyreReportMatch * m);
  gboolean (*finish) (VyreReportWriter * w, const GstStructure * summary);
} FormatOps;

struct _VyreReportWriter
{
  gchar *path;
  gchar *what;
  const FormatOps *ops;
  gint fd;                      /* -1 once closed */
  gchar *tmp_path;              /* NULL: written directly */
  gboolean finished;            /* renamed into place (or closed, direct) */
  GString *pending;             /* bytes not written yet */
  GError *error;                /* first failure, returned from then on */

  /* JSON Lines: each pattern's JSON string (json-glib's escaping), made
   * once per pattern id, and the text it was made from */
  GPtrArray *pattern_json;
  GPtrArray *pattern_src;
  /* the JSON members naming the last file ("file":...[,"file_b64":...]),
   * and the path they were made from */
  gchar *file_json;
  gchar *file_src;

  /* SARIF: results written so far (the first opens the document) */
  guint64 results;
};

/* ------------------------------------------------------------------ */
/* errors                                                              */

static gboolean
fail_errno (VyreReportWriter * w, gint err, const gchar * action,
    const gchar * path)
{
  if (w->error == NULL)
    w->error = g_error_new (G_FILE_ERROR, g_file_error_from_errno (err),
        "Could not %s the %s \"%s\": %s", action, w->what, path,
        g_strerror (err));
  return FALSE;
}

static gboolean
return_error (VyreReportWriter * w, GError ** error)
{
  if (w->error == NULL)
    return TRUE;
  if (error)
    *error = g_error_copy (w->error);
  return FALSE;
}

const gchar *
vyre_report_error_fix (const GError * error)
{
  if (error == NULL || error->domain != G_FILE_ERROR)
    return "Fix: choose another path for the output.";
  switch (error->code) {
    case G_FILE_ERROR_NOSPC:
      return "Fix: free space on that file system, or write the output to "
          "another one (a regular file, not /dev/full).";
    case G_FILE_ERROR_ACCES:
    case G_FILE_ERROR_PERM:
    case G_FILE_ERROR_ROFS:
      return "Fix: choose a path you may write to (the directory must be "
          "writable; an existing file too).";
    case G_FILE_ERROR_NOENT:
    case G_FILE_ERROR_NOTDIR:
      return "Fix: create the directory first, or choose a path in an "
          "existing one.";
    case G_FILE_ERROR_NXIO:
      return "Fix: start the program that reads the FIFO before the "
          "pipeline (e.g. \"cat FIFO &\"), or write to a regular file.";
    case G_FILE_ERROR_ISDIR:
      return "Fix: name a file, not a directory.";
    default:
      return "Fix: choose another path for the output (a regular file on a "
          "healthy, writable file system).";
  }
}

/* ------------------------------------------------------------------ */
/* writing bytes                                                       */

static gboolean
write_all (VyreReportWriter * w, const gchar * data, gsize len)
{
  while (len > 0) {
    gssize n = write (w->fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      /* a non-blocking descriptor we were handed (a dup of stdout) */
      struct pollfd p = {.fd = w->fd,.events = POLLOUT };
      if (poll (&p, 1, -1) >= 0 || errno == EINTR)
        continue;
    }
    if (n <= 0)
      return fail_errno (w, n < 0 ? errno : ENOSPC, "write",
          w->path);
    data += n;
    len -= n;
  }
  return TRUE;
}

static gboolean
flush_pending (VyreReportWriter * w)
{
  if (w->error)
    return FALSE;
  gboolean ok = write_all (w, w->pending->str, w->pending->len);
  g_string_truncate (w->pending, 0);
  return ok;
}

static gboolean
append (VyreReportWriter * w, const gchar * text, gssize len)
{
  if (w->error)
    return FALSE;
  g_string_append_len (w->pending, text, len);
  return w->pending->len < WRITE_CHUNK || flush_pending (w);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

/* JSON strings are UTF-8: anything else is replaced (U+FFFD) rather
 * than written as invalid JSON. */
static void
set_string (JsonNode * n, const gchar * text)
{
  if (text == NULL)
    text = "";
  if (g_utf8_validate (text, -1, NULL)) {
    json_node_set_string (n, text);
  } else {
    gchar *valid = g_utf8_make_valid (text, -1);
    json_node_set_string (n, valid);
    g_free (valid);
  }
}

static JsonNode *
string_node (const gchar * text)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  set_string (n, text);
  return n;
}

static gchar *
node_to_string (JsonNode * node, gboolean pretty)
{
  JsonGenerator *gen = json_generator_new ();
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, node);
  gchar *text = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  return text;
}

static JsonObject *structure_to_object (const GstStructure * s);

static JsonNode *
value_to_node (const GValue * v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  GType t = G_VALUE_TYPE (v);
  if (t == G_TYPE_UINT64) {
    json_node_set_int (n, MIN (g_value_get_uint64 (v), (guint64) G_MAXINT64));
  } else if (t == G_TYPE_INT64) {
    json_node_set_int (n, g_value_get_int64 (v));
  } else if (t == G_TYPE_UINT) {
    json_node_set_int (n, g_value_get_uint (v));
  } else if (t == G_TYPE_INT) {
    json_node_set_int (n, g_value_get_int (v));
  } else if (t == G_TYPE_BOOLEAN) {
    json_node_set_boolean (n, g_value_get_boolean (v));
  } else if (t == G_TYPE_DOUBLE || t == G_TYPE_FLOAT) {
    gdouble d = t == G_TYPE_DOUBLE ? g_value_get_double (v) :
        g_value_get_float (v);
    /* json-glib would print nan/inf, which no JSON parser accepts */
    if (isfinite (d))
      json_node_set_double (n, d);
    else
      json_node_init_null (n);
  } else if (t == G_TYPE_STRING) {
    json_node_free (n);
    return string_node (g_value_get_string (v));
  } else if (t == GST_TYPE_ARRAY || t == GST_TYPE_LIST) {
    JsonArray *a = json_array_new ();
    guint size = t == GST_TYPE_ARRAY ? gst_value_array_get_size (v) :
        gst_value_list_get_size (v);
    for (guint i = 0; i < size; i++)
      json_array_add_element (a, value_to_node (t == GST_TYPE_ARRAY ?
              gst_value_array_get_value (v, i) :
              gst_value_list_get_value (v, i)));
    json_node_init_array (n, a);
    json_array_unref (a);
  } else if (t == GST_TYPE_STRUCTURE) {
    JsonObject *o = structure_to_object (gst_value_get_structure (v));
    json_node_init_object (n, o);
    json_object_unref (o);
  } else {
    /* anything else as GStreamer serializes it, so nothing is lost */
    gchar *s = gst_value_serialize (v);
    json_node_free (n);
    n = string_node (s ? s : "");
    g_free (s);
  }
  return n;
}

/* Member `name` of o for v; a string that is not UTF-8 (a file name)
 * also gets NAME_b64 with its exact bytes, so nothing is lost. */
static void
set_member (JsonObject * o, const gchar * name, const GValue * v)
{
  json_object_set_member (o, name, value_to_node (v));
  if (G_VALUE_HOLDS_STRING (v) && g_value_get_string (v) &&
      !g_utf8_validate (g_value_get_string (v), -1, NULL)) {
    const gchar *text = g_value_get_string (v);
    gchar *b64 = g_base64_encode ((const guchar *) text, strlen (text));
    gchar *b64_name = g_strconcat (name, "_b64", NULL);
    json_object_set_string_member (o, b64_name, b64);
    g_free (b64_name);
    g_free (b64);
  }
}

static gboolean
add_plain_field (GQuark field, const GValue * value, gpointer user_data)
{
  set_member (user_data, g_quark_to_string (field), value);
  return TRUE;
}

static JsonObject *
structure_to_object (const GstStructure * s)
{
  JsonObject *o = json_object_new ();
  gst_structure_foreach (s, add_plain_field, o);
  return o;
}

GArray *
vyre_report_pattern_totals (const GstStructure * summary)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (VyrePatternTotal));
  const GValue *names = gst_structure_get_value (summary, "patterns");
  const GValue *counts = gst_structure_get_value (summary, "pattern_counts");
  if (names == NULL || counts == NULL || !GST_VALUE_HOLDS_ARRAY (names) ||
      !GST_VALUE_HOLDS_ARRAY (counts))
    return out;
  guint n = MIN (gst_value_array_get_size (names),
      gst_value_array_get_size (counts));
  /* text -> index in out */
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    const gchar *text =
        g_value_get_string (gst_value_array_get_value (names, i));
    guint64 count =
        g_value_get_uint64 (gst_value_array_get_value (counts, i));
    if (text == NULL)
      text = "";
    gpointer at;
    if (g_hash_table_lookup_extended (seen, text, NULL, &at)) {
      g_array_index (out, VyrePatternTotal, GPOINTER_TO_UINT (at)).count +=
          count;
    } else {
      VyrePatternTotal t = { text, count, i };
      g_hash_table_insert (seen, (gpointer) text, GUINT_TO_POINTER (out->len));
      g_array_append_val (out, t);
    }
  }
  g_hash_table_unref (seen);
  return out;
}

typedef struct
{
  JsonObject *object;
  const GstStructure *summary;
} FieldsToObject;

static gboolean
add_field (GQuark field, const GValue * value, gpointer user_data)
{
  FieldsToObject *ctx = user_data;
  const gchar *name = g_quark_to_string (field);
  if (g_str_equal (name, "patterns"))
    return TRUE;                /* folded into pattern_counts */
  if (g_str_equal (name, "pattern_counts")) {
    JsonObject *counts = json_object_new ();
    GArray *totals = vyre_report_pattern_totals (ctx->summary);
    for (guint i = 0; i < totals->len; i++) {
      VyrePatternTotal *t = &g_array_index (totals, VyrePatternTotal, i);
      json_object_set_int_member (counts, t->pattern,
          MIN (t->count, (guint64) G_MAXINT64));
    }
    g_array_unref (totals);
    json_object_set_object_member (ctx->object, name, counts);
    return TRUE;
  }
  set_member (ctx->object, name, value);
  return TRUE;
}

gchar *
vyre_report_summary_to_json (const GstStructure * summary)
{
  FieldsToObject ctx = { json_object_new (), summary };
  gst_structure_foreach (summary, add_field, &ctx);
  JsonNode *root = json_node_init_object (json_node_alloc (), ctx.object);
  json_object_unref (ctx.object);
  gchar *text = node_to_string (root, TRUE);
  json_node_unref (root);
  gchar *with_newline = g_strconcat (text, "\n", NULL);
  g_free (text);
  return with_newline;
}

/* v in decimal at p; returns the end (printf's format parsing was most of
 * a line's cost). */
static inline gchar *
put_decimal (gchar * p, guint64 v)
{
  gchar buf[20];
  guint n = 0;
  do {
    buf[sizeof buf - 1 - n++] = (gchar) ('0' + v % 10);
    v /= 10;
  } while (v);
  memcpy (p, buf + sizeof buf - n, n);
  return p + n;
}

static inline gchar *
put_text (gchar * p, const gchar * text, gsize len)
{
  memcpy (p, text, len);
  return p + len;
}

/* The pattern's JSON string for `id`, json-glib's, made once per id. */
static const gchar *
pattern_json (VyreReportWriter * w, guint id, const gchar * text)
{
  if (w->pattern_json == NULL) {
    w->pattern_json = g_ptr_array_new_with_free_func (g_free);
    w->pattern_src = g_ptr_array_new ();
  }
  if (id >= w->pattern_json->len) {
    g_ptr_array_set_size (w->pattern_json, id + 1);
    g_ptr_array_set_size (w->pattern_src, id + 1);
  }
  const gchar *src = w->pattern_src->pdata[id];
  if (w->pattern_json->pdata[id] == NULL || (src != text &&
          g_strcmp0 (src, text) != 0)) {
    JsonNode *n = string_node (text);
    g_free (w->pattern_json->pdata[id]);
    w->pattern_json->pdata[id] = node_to_string (n, FALSE);
    w->pattern_src->pdata[id] = (gpointer) text;
    json_node_unref (n);
  }
  return w->pattern_json->pdata[id];
}

/* "file":"...", plus ,"file_b64":"..." for a path that is not UTF-8;
 * made by json-glib once per file (matches come file by file). */
static const gchar *
file_json (VyreReportWriter * w, const gchar * path)
{
  if (w->file_json && strcmp (w->file_src, path) == 0)
    return w->file_json;
  JsonObject *o = json_object_new ();
  GValue v = G_VALUE_INIT;
  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, path);
  set_member (o, "file", &v);
  g_value_unset (&v);
  JsonNode *root = json_node_init_object (json_node_alloc (), o);
  gchar *text = node_to_string (root, FALSE);
  json_node_unref (root);
  json_object_unref (o);
  /* the members without the object's braces */
  gsize len = strlen (text);
  g_free (w->file_json);
  w->file_json = g_strndup (text + 1, len >= 2 ? len - 2 : 0);
  g_free (w->file_src);
  w->file_src = g_strdup (path);
  g_free (text);
  return w->file_json;
}

/* The only place a match becomes a JSON Lines object (members and their
 * order in vyre-report.h), what json-glib's generator writes for that
 * object.  Strings (pattern, file) are json-glib's, made once per
 * pattern id and per file: a match then costs a few integer conversions
 * and copies (building every line with json-glib took 570-830 ns a
 * match, and a match-dense gigabyte has millions). */
static void
append_match_line (VyreReportWriter * w, const VyreReportMatch * m)
{
  const gchar *pattern = pattern_json (w, m->pattern_id,
      m->pattern ? m->pattern : "");
  const gchar *file = m->file ? file_json (w, m->file) : NULL;
  gchar *snippet = NULL;
  if (m->snippet) {
    JsonNode *n = string_node (m->snippet);
    snippet = node_to_string (n, FALSE);
    json_node_unref (n);
  }
  gsize plen = strlen (pattern), flen = file ? strlen (file) : 0;
  gsize slen = snippet ? strlen (snippet) : 0;
  /* Composed in place at the end of the buffer, then its length set:
   * the texts, their keys and six numbers of at most 20 digits. */
  gsize at = w->pending->len;
  g_string_set_size (w->pending, at + plen + flen + slen + 256);
  gchar *p = w->pending->str + at;
  p = put_text (p, "{", 1);
  if (file) {
    p = put_text (p, file, flen);
    p = put_text (p, ",", 1);
  }
  p = put_text (p, "\"offset\":", 9);
  p = put_decimal (p, MIN (m->offset, (guint64) G_MAXINT64));
  if (m->line) {
    p = put_text (p, ",\"line\":", 8);
    p = put_decimal (p, MIN (m->line, (guint64) G_MAXINT64));
  }
  if (m->column) {
    p = put_text (p, ",\"column\":", 10);
    p = put_decimal (p, MIN (m->column, (guint64) G_MAXINT64));
  }
  p = put_text (p, ",\"pattern_id\":", 14);
  p = put_decimal (p, m->pattern_id);
  p = put_text (p, ",\"pattern\":", 11);
  p = put_text (p, pattern, plen);
  p = put_text (p, ",\"stream_offset\":", 17);
  p = put_decimal (p, MIN (m->stream_offset, (guint64) G_MAXINT64));
  if (snippet) {
    p = put_text (p, ",\"snippet\":", 11);
    p = put_text (p, snippet, slen);
  }
  p = put_text (p, "}\n", 2);
  g_string_truncate (w->pending, p - w->pending->str);
  g_free (snippet);
}

/* SARIF's artifactLocation.uri for a path: percent-encoded bytes (so a
 * name that is not UTF-8 comes back exactly), relative stays relative. */
static gchar *
path_to_uri (const gchar * path)
{
  if (g_path_is_absolute (path)) {
    gchar *uri = g_filename_to_uri (path, NULL, NULL);
    if (uri)
      return uri;
  }
  return g_uri_escape_bytes ((const guint8 *) path, strlen (path), "/");
}

/* The only place a match becomes a SARIF result (members in
 * vyre-report.h), built with json-glib. */
static void
append_sarif_result (VyreReportWriter * w, const VyreReportMatch * m)
{
  const gchar *pattern = m->pattern ? m->pattern : "";
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ruleId");
  json_builder_add_value (b, string_node (pattern));
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, "warning");
  json_builder_set_member_name (b, "message");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "text");
  gchar *text = g_strdup_printf ("Pattern %u (%s) matched.", m->pattern_id,
      pattern);
  json_builder_add_value (b, string_node (text));
  g_free (text);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "locations");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "physicalLocation");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "artifactLocation");
  json_builder_begin_object (b);
  if (m->file) {
    gchar *uri = path_to_uri (m->file);
    json_builder_set_member_name (b, "uri");
    json_builder_add_value (b, string_node (uri));
    g_free (uri);
  } else {
    json_builder_set_member_name (b, "description");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "text");
    json_builder_add_string_value (b, "the scanned stream (no file)");
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "region");
  json_builder_begin_object (b);
  if (m->line) {
    json_builder_set_member_name (b, "startLine");
    json_builder_add_int_value (b, MIN (m->line, (guint64) G_MAXINT64));
  }
  if (m->column_chars) {
    json_builder_set_member_name (b, "startColumn");
    json_builder_add_int_value (b, MIN (m->column_chars,
            (guint64) G_MAXINT64));
  }
  json_builder_set_member_name (b, "byteOffset");
  json_builder_add_int_value (b, MIN (m->offset, (guint64) G_MAXINT64));
  if (m->length) {
    json_builder_set_member_name (b, "byteLength");
    json_builder_add_int_value (b, m->length);
  }
  if (m->snippet) {
    json_builder_set_member_name (b, "snippet");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "text");
    json_builder_add_value (b, string_node (m->snippet));
    json_builder_end_object (b);
  }
  json_builder_end_object (b);  /* region */
  json_builder_end_object (b);  /* physicalLocation */
  json_builder_end_object (b);
  json_builder_end_array (b);   /* locations */
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  gchar *result = node_to_string (root, FALSE);
  json_node_unref (root);
  g_object_unref (b);
  if (w->results > 0)
    g_string_append_c (w->pending, ',');
  g_string_append (w->pending, result);
  g_string_append_c (w->pending, '\n');
  g_free (result);
}

/* ------------------------------------------------------------------ */
/* formats                                                             */

static gboolean
json_finish (VyreReportWriter * w, const GstStructure * summary)
{
  if (summary == NULL) {
    /* a caller's mistake, but never an empty report put in place */
    g_set_error (&w->error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "Could not write the %s \"%s\": no summary to write", w->what,
        w->path);
    return FALSE;
  }
  gchar *text = vyre_report_summary_to_json (summary);
  gboolean ok = append (w, text, -1);
  g_free (text);
  return ok;
}

static gboolean
json_lines_add_match (VyreReportWriter * w, const VyreReportMatch * m)
{
  append_match_line (w, m);
  return w->pending->len < WRITE_CHUNK || flush_pending (w);
}

static gboolean
json_lines_finish (VyreReportWriter * w, const GstStructure * summary)
{
  (void) w;
  (void) summary;
  return TRUE;
}

/* The document up to its results; the run's other members (tool) come
 * after them, written at finish, when the rules are known. */
#define SARIF_OPENING "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\"," \
  "\"version\":\"2.1.0\",\"runs\":[{\"columnKind\":\"unicodeCodePoints\"," \
  "\"results\":[\n"

static gboolean
sarif_add_match (VyreReportWriter * w, const VyreReportMatch * m)
{
  if (w->results == 0)
    g_string_append (w->pending, SARIF_OPENING);
  append_sarif_result (w, m);
  w->results++;
  return w->pending->len < WRITE_CHUNK || flush_pending (w);
}

static gboolean
sarif_finish (VyreReportWriter * w, const GstStructure * summary)
{
  if (w->results == 0)
    g_string_append (w->pending, SARIF_OPENING);
  /* tool.driver with a rule per pattern text */
  JsonObject *driver = json_object_new ();
  json_object_set_string_member (driver, "name", "gst-vyre");
  json_object_set_string_member (driver, "informationUri",
      "https://github.com/gst-vyre/gst-vyre");
  JsonArray *rules = json_array_new ();
  if (summary) {
    GArray *totals = vyre_report_pattern_totals (summary);
    for (guint i = 0; i < totals->len; i++) {
      VyrePatternTotal *t = &g_array_index (totals, VyrePatternTotal, i);
      JsonObject *rule = json_object_new ();
      json_object_set_member (rule, "id", string_node (t->pattern));
      JsonObject *desc = json_object_new ();
      json_object_set_member (desc, "text", string_node (t->pattern));
      json_object_set_object_member (rule, "shortDescription", desc);
      json_array_add_object_element (rules, rule);
    }
    g_array_unref (totals);
  }
  json_object_set_array_member (driver, "rules", rules);
  JsonObject *tool = json_object_new ();
  json_object_set_object_member (tool, "driver", driver);
  JsonNode *root = json_node_init_object (json_node_alloc (), tool);
  gchar *text = node_to_string (root, FALSE);
  json_node_unref (root);
  json_object_unref (tool);
  g_string_append (w->pending, "],\"tool\":");
  g_string_append (w->pending, text);
  g_string_append (w->pending, "}]}\n");
  g_free (text);
  return TRUE;
}

static const FormatOps formats[] = {
  [VYRE_REPORT_FORMAT_JSON] = {FALSE, NULL, json_finish},
  [VYRE_REPORT_FORMAT_JSON_LINES] = {TRUE, json_lines_add_match,
      json_lines_finish},
  [VYRE_REPORT_FORMAT_SARIF] = {TRUE, sarif_add_match, sarif_finish},
};

/* ------------------------------------------------------------------ */
/* opening and closing                                                 */

/* "/dev/stdout", "/dev/stderr", "/dev/fd/N": the descriptor, else -1. */
static gint
standard_descriptor (const gchar * path)
{
  if (g_str_equal (path, "/dev/stdout"))
    return STDOUT_FILENO;
  if (g_str_equal (path, "/dev/stderr"))
    return STDERR_FILENO;
  if (g_str_has_prefix (path, "/dev/fd/") && g_ascii_isdigit (path[8])) {
    gchar *end = NULL;
    guint64 fd = g_ascii_strtoull (path + 8, &end, 10);
    if (*end == '\0' && fd <= G_MAXINT)
      return (gint) fd;
  }
  return -1;
}

static gboolean
open_direct (VyreReportWriter * w)
{
  gint fd = standard_descriptor (w->path);
  if (fd >= 0) {
    w->fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
    return w->fd >= 0 || fail_errno (w, errno, "open", w->path);
  }
  /* O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of
   * blocking the state change forever; writes then block as usual. */
  w->fd = open (w->path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK |
      O_NOCTTY | O_CLOEXEC, 0666);
  if (w->fd < 0)
    return fail_errno (w, errno, "open", w->path);
  gint flags = fcntl (w->fd, F_GETFL);
  if (flags < 0 || fcntl (w->fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return fail_errno (w, errno, "open", w->path);
  return TRUE;
}

static gboolean
open_atomic (VyreReportWriter * w, const struct stat *existing)
{
  if (existing && access (w->path, W_OK) != 0)
    return fail_errno (w, errno, "open", w->path);
  gchar *dir = g_path_get_dirname (w->path);
  gchar *base = g_path_get_basename (w->path);
  gchar *name = g_strdup_printf (".%s.XXXXXX", base);
  w->tmp_path = g_build_filename (dir, name, NULL);
  g_free (dir);
  g_free (base);
  g_free (name);
  w->fd = g_mkstemp_full (w->tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (w->fd < 0) {
    gint err = errno;
    g_clear_pointer (&w->tmp_path, g_free);
    return fail_errno (w, err, "create", w->path);
  }
  if (existing && fchmod (w->fd, existing->st_mode & 07777) != 0)
    return fail_errno (w, errno, "create", w->path);
  return TRUE;
}

VyreReportWriter *
vyre_report_writer_open (const gchar * path, const gchar * what,
    VyreReportFormat format, GError ** error)
{
  g_return_val_if_fail (path != NULL && *path, NULL);
  g_return_val_if_fail (format < G_N_ELEMENTS (formats), NULL);

  VyreReportWriter *w = g_new0 (VyreReportWriter, 1);
  w->path = g_strdup (path);
  w->what = g_strdup (what ? what : "output");
  w->ops = &formats[format];
  w->fd = -1;
  w->pending = g_string_sized_new (WRITE_CHUNK + 4096);

  struct stat st;
  gboolean ok;
  if (standard_descriptor (path) >= 0)
    ok = open_direct (w);
  else if (g_lstat (path, &st) != 0)
    ok = errno == ENOENT ? open_atomic (w, NULL) :
        fail_errno (w, errno, "open", path);
  else if (S_ISREG (st.st_mode))
    ok = open_atomic (w, &st);
  else if (S_ISDIR (st.st_mode))
    ok = fail_errno (w, EISDIR, "open", path);
  else
    ok = open_direct (w);
  if (!ok) {
    return_error (w, error);
    vyre_report_writer_free (w);
    return NULL;
  }
  return w;
}

const gchar *
vyre_report_writer_get_path (VyreReportWriter * writer)
{
  return writer->path;
}

const gchar *
vyre_report_writer_get_what (VyreReportWriter * writer)
{
  return writer->what;
}

gboolean
vyre_report_writer_wants_matches (VyreReportWriter * writer)
{
  return writer->ops->wants_matches;
}

gboolean
vyre_report_writer_add_match (VyreReportWriter * writer,
    const VyreReportMatch * match, GError ** error)
{
  g_return_val_if_fail (!writer->finished, FALSE);
  if (writer->error == NULL && writer->ops->add_match)
    writer->ops->add_match (writer, match);
  return return_error (writer, error);
}

static void
discard (VyreReportWriter * w)
{
  if (w->fd >= 0)
    close (w->fd);
  w->fd = -1;
  if (w->tmp_path)
    g_unlink (w->tmp_path);
  g_clear_pointer (&w->tmp_path, g_free);
}

gboolean
vyre_report_writer_finish (VyreReportWriter * writer,
    const GstStructure * summary, GError ** error)
{
  VyreReportWriter *w = writer;
  g_return_val_if_fail (!w->finished, FALSE);
  gboolean ok = w->error == NULL && w->ops->finish (w, summary) &&
      flush_pending (w);
  /* fsync: a crash right after the rename must not leave an empty file
   * at the path (file systems may commit the rename before the data). */
  if (ok && w->tmp_path && fsync (w->fd) != 0)
    ok = fail_errno (w, errno, "write", w->path);
  if (ok) {
    gint fd = w->fd;
    w->fd = -1;
    if (close (fd) != 0)
      ok = fail_errno (w, errno, "write", w->path);
  }
  if (ok && w->tmp_path && g_rename (w->tmp_path, w->path) != 0)
    ok = fail_errno (w, errno, "replace", w->path);
  if (!ok) {
    discard (w);
    return return_error (w, error);
  }
  g_clear_pointer (&w->tmp_path, g_free);
  w->finished = TRUE;
  return TRUE;
}

void
vyre_report_writer_free (VyreReportWriter * writer)
{
  if (writer == NULL)
    return;
  discard (writer);
  g_clear_pointer (&writer->pattern_json, g_ptr_array_unref);
  g_clear_pointer (&writer->pattern_src, g_ptr_array_unref);
  g_free (writer->file_json);
  g_free (writer->file_src);
  g_string_free (writer->pending, TRUE);
  g_clear_error (&writer->error);
  g_free (writer->path);
  g_free (writer->what);
  g_free (writer);
}

/* ------------------------------------------------------------------ */
/* texts people read                                                   */

gchar *
vyre_report_format_rate (gdouble bytes_per_second)
{
  static const gchar *units[] = { "B/s", "kB/s", "MB/s", "GB/s", "TB/s" };
  gdouble v = isfinite (bytes_per_second) && bytes_per_second > 0 ?
      bytes_per_second : 0;
  guint u = 0;
  while (u + 1 < G_N_ELEMENTS (units) && v >= 999.5) {
    v /= 1000;
    u++;
  }
  /* three significant digits; the thresholds are where rounding would
   * add a fourth (9.996 -> "10.0", not "10.00") */
  const gchar *fmt = v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" :
      "%.0f %s";
  if (u == 0)
    fmt = "%.0f %s";            /* whole bytes */
  return g_strdup_printf (fmt, v, units[u]);
}

gchar *
vyre_report_format_count (guint64 n)
{
  gchar *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  gsize len = strlen (digits);
  GString *s = g_string_sized_new (len + len / 3);
  for (gsize i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      g_string_append_c (s, ',');
    g_string_append_c (s, digits[i]);
  }
  g_free (digits);
  return g_string_free (s, FALSE);
}

static guint64
get_u64 (const GstStructure * s, const gchar * name)
{
  guint64 v = 0;
  guint u = 0;
  if (gst_structure_get_uint64 (s, name, &v))
    return v;
  if (gst_structure_get_uint (s, name, &u))
    return u;
  return 0;
}

static gdouble
get_double (const GstStructure * s, const gchar * name)
{
  gdouble d = 0;
  return gst_structure_get_double (s, name, &d) ? d : 0;
}

static const gchar *
get_string (const GstStructure * s, const gchar * name)
{
  const gchar *v = gst_structure_get_string (s, name);
  return v ? v : "";
}

static gint
by_count_then_id (gconstpointer a, gconstpointer b)
{
  const VyrePatternTotal *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return x->first_id < y->first_id ? -1 : x->first_id > y->first_id;
}

/* "1 pattern" / "2 patterns" */
static gchar *
counted (guint64 n, const gchar * one, const gchar * many)
{
  gchar *num = vyre_report_format_count (n);
  gchar *s = g_strdup_printf ("%s %s", num, n == 1 ? one : many);
  g_free (num);
  return s;
}

/* "  files: 8 scanned, 2 with matches, 1 skipped" and each skipped file
 * with its reason (the first few), for a stream of several files. */
static void
append_files_line (GString * out, const GstStructure * summary)
{
  const GValue *v = gst_structure_get_value (summary, "files");
  if (v == NULL || !GST_VALUE_HOLDS_STRUCTURE (v))
    return;
  const GstStructure *files = gst_value_get_structure (v);
  guint64 scanned = get_u64 (files, "scanned");
  guint64 skipped = get_u64 (files, "skipped");
  if (scanned <= 1 && skipped == 0)
    return;
  gchar *ns = counted (scanned, "file scanned", "files scanned");
  gchar *nw = vyre_report_format_count (get_u64 (files, "with_matches"));
  gchar *nk = vyre_report_format_count (skipped);
  g_string_append_printf (out, "  %s, %s with matches, %s skipped\n", ns,
      nw, nk);
  g_free (ns);
  g_free (nw);
  g_free (nk);
  const GValue *list = gst_structure_get_value (files, "skipped_files");
  guint n = list && GST_VALUE_HOLDS_ARRAY (list) ?
      gst_value_array_get_size (list) : 0;
  const guint shown = 5;
  for (guint i = 0; i < MIN (n, shown); i++) {
    const GValue *e = gst_value_array_get_value (list, i);
    if (!GST_VALUE_HOLDS_STRUCTURE (e))
      continue;
    const GstStructure *f = gst_value_get_structure (e);
    g_string_append_printf (out, "    skipped %s: %s\n",
        get_string (f, "path"), get_string (f, "description"));
  }
  if (n > shown)
    g_string_append_printf (out, "    ... and %u more skipped (the JSON "
        "report lists them all)\n", n - shown);
}

gchar *
vyre_report_format_summary (const GstStructure * summary, guint max_patterns)
{
  GString *out = g_string_new (NULL);
  guint64 bytes = get_u64 (summary, "bytes");
  gchar *nbytes = counted (bytes, "byte", "bytes");
  gchar *size = g_format_size (bytes);
  gchar *nbuffers = counted (get_u64 (summary, "buffers"), "buffer",
      "buffers");
  gchar *nmatches = counted (get_u64 (summary, "matches"), "match",
      "matches");
  gchar *ndropped = vyre_report_format_count (get_u64 (summary,
          "dropped_matches"));
  gchar *rate = vyre_report_format_rate (get_double (summary, "gbps") * 1e9);
  g_string_append_printf (out, "vyre summary: %s (%s) in %s, %s "
      "(%s not stored), %u epochs, crc32 %s, entropy %.3f bits/byte, "
      "start-up %.3f s, scan %.3f s at %s on %s\n", nbytes, size,
      nbuffers, nmatches, ndropped, (guint) get_u64 (summary, "epochs"),
      get_string (summary, "crc32"),
      get_double (summary, "entropy_bits_per_byte"),
      get_double (summary, "startup_s"), get_double (summary, "elapsed_s"),
      rate, get_string (summary, "device"));
  g_free (nbytes);
  g_free (size);
  g_free (nbuffers);
  g_free (nmatches);
  g_free (ndropped);
  g_free (rate);
  append_files_line (out, summary);

  GArray *totals = vyre_report_pattern_totals (summary);
  g_array_sort (totals, by_count_then_id);
  guint matched = 0;
  while (matched < totals->len &&
      g_array_index (totals, VyrePatternTotal, matched).count > 0)
    matched++;
  guint shown = MIN (matched, max_patterns);
  for (guint i = 0; i < shown; i++) {
    VyrePatternTotal *t = &g_array_index (totals, VyrePatternTotal, i);
    gchar *n = vyre_report_format_count (t->count);
    g_string_append_printf (out, "  %12s  %s\n", n, t->pattern);
    g_free (n);
  }
  guint64 rest_matches = 0;
  for (guint i = shown; i < matched; i++)
    rest_matches += g_array_index (totals, VyrePatternTotal, i).count;
  guint unmatched = totals->len - matched;
  gchar *rest = NULL, *none = NULL;
  if (matched > shown) {
    gchar *np = counted (matched - shown, "more pattern", "more patterns");
    gchar *nm = counted (rest_matches, "match", "matches");
    rest = g_strdup_printf ("... and %s with %s", np, nm);
    g_free (np);
    g_free (nm);
  }
  if (unmatched > 0) {
    gchar *np = counted (unmatched, "pattern", "patterns");
    none = g_strdup_printf ("%s did not match", np);
    g_free (np);
  }
  if (rest || none)
    g_string_append_printf (out, "  %s%s%s\n", rest ? rest : "",
        rest && none ? "; " : "", none ? none : "");
  g_free (rest);
  g_free (none);
  g_array_unref (totals);
  return g_string_free (out, FALSE);
}
