/* gst-vyre
 *
 * test_engine.c - one engine per device per process: pipelines that know
 * nothing of each other share one device and one resident kernel, each
 * vyrescan a tenant with its own patterns; the engine an application sets
 * through GstContext is the one used; the device opens in READY; the
 * engine lingers, then lets go.
 *
 * Whole pipelines (filesrc ! vyrescan ! vyresink) on the Vulkan device
 * (lavapipe in CI), results against the CPU reference.
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vyre-scan-reference.h"

#define N_PIPELINES 8
#define FILE_BYTES (96 * 1024)
#define EOS_TIMEOUT (240 * GST_SECOND)

static gchar *tmpdir;

/* Pattern sets: pipelines 0 and 1 share set 0 (one copy of its tables on
 * the device), the others each have their own. */
static const gchar *const pattern_sets[N_PIPELINES][3] = {
  {"needle", "hay", "ack"},
  {"needle", "hay", "ack"},
  {"abc", "bca", "cab"},
  {"stack", "st", "k"},
  {"zz", "z", "yzz"},
  {"aaaa", "aa", "ba"},
  {"e", "ee", "eee"},
  {"hayst", "ystac", "needles"},
};

static GPtrArray *
patterns_of (guint i)
{
  GPtrArray *p = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  for (guint k = 0; k < 3; k++)
    g_ptr_array_add (p, g_bytes_new (pattern_sets[i][k],
            strlen (pattern_sets[i][k])));
  return p;
}

static gchar *
patterns_property (guint i)
{
  return g_strdup_printf ("<%s,%s,%s>", pattern_sets[i][0],
      pattern_sets[i][1], pattern_sets[i][2]);
}

/* A file of text built from the patterns' letters, different per file. */
static gchar *
make_file (guint i, guint8 ** data_out)
{
  static const char letters[] = "needlhaystckabzyw ";
  guint8 *data = g_malloc (FILE_BYTES);
  guint32 x = 0x9e3779b9u * (i + 1);
  for (gsize k = 0; k < FILE_BYTES; k++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    data[k] = letters[x % (sizeof letters - 1)];
  }
  gchar *path = g_strdup_printf ("%s/file%u.txt", tmpdir, i);
  fail_unless (g_file_set_contents (path, (const gchar *) data, FILE_BYTES,
          NULL));
  *data_out = data;
  return path;
}

typedef struct
{
  GstElement *pipeline, *scan, *sink;
  guint64 expected;
  GstContext *have_context;     /* the engine it announced, if it did */
} Run;

static void
run_init (Run * r, guint i, const gchar * extra)
{
  guint8 *data;
  gchar *path = make_file (i, &data);
  gchar *pats = patterns_property (i);
  gchar *desc = g_strdup_printf ("filesrc location=%s blocksize=16384 ! "
      "vyrescan name=scan patterns=\"%s\" %s ! vyresink name=sink", path,
      pats, extra ? extra : "");
  GError *err = NULL;
  r->pipeline = gst_parse_launch (desc, &err);
  fail_unless (r->pipeline != NULL, "%s: %s", desc,
      err ? err->message : "?");
  r->scan = gst_bin_get_by_name (GST_BIN (r->pipeline), "scan");
  r->sink = gst_bin_get_by_name (GST_BIN (r->pipeline), "sink");
  GPtrArray *p = patterns_of (i);
  GArray *ref = vyre_scan_reference_find (p, FALSE, data, FILE_BYTES, 0);
  r->expected = ref->len;
  r->have_context = NULL;
  g_array_unref (ref);
  g_ptr_array_unref (p);
  g_free (desc);
  g_free (pats);
  g_free (path);
  g_free (data);
}

/* Pops bus messages until EOS (or an error, which fails the test);
 * keeps the HAVE_CONTEXT the pipeline's vyrescan posted. */
static void
run_wait_eos (Run * r)
{
  GstBus *bus = gst_element_get_bus (r->pipeline);
  for (;;) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, EOS_TIMEOUT,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_HAVE_CONTEXT);
    fail_unless (m != NULL, "no EOS within %" GST_TIME_FORMAT,
        GST_TIME_ARGS (EOS_TIMEOUT));
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (m, &err, &dbg);
      fail ("pipeline error: %s (%s)", err->message, dbg);
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_HAVE_CONTEXT) {
      GstContext *c = NULL;
      gst_message_parse_have_context (m, &c);
      if (g_strcmp0 (gst_context_get_context_type (c), "vyre.engine") == 0)
        gst_context_replace (&r->have_context, c);
      gst_context_unref (c);
    }
    gboolean eos = GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;
    gst_message_unref (m);
    if (eos)
      break;
  }
  gst_object_unref (bus);
}

static guint64
run_matches (Run * r)
{
  guint64 n = 0;
  g_object_get (r->sink, "matches", &n, NULL);
  return n;
}

static guint
engine_field (Run * r, const gchar * field)
{
  GstStructure *st = NULL;
  g_object_get (r->scan, "engine-stats", &st, NULL);
  fail_unless (st != NULL, "no engine-stats");
  guint v = 0;
  gboolean b;
  if (!gst_structure_get_uint (st, field, &v)) {
    fail_unless (gst_structure_get_boolean (st, field, &b), "no field %s",
        field);
    v = b;
  }
  gst_structure_free (st);
  return v;
}

static gpointer
engine_of (GstContext * c)
{
  const GValue *v = gst_structure_get_value (gst_context_get_structure (c),
      "engine");
  fail_unless (v != NULL);
  return g_value_get_boxed (v);
}

/* PLAYING until EOS; the matches equal the CPU reference. */
static void
run_play_to_eos (Run * r)
{
  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  run_wait_eos (r);
  fail_unless_equals_uint64 (run_matches (r), r->expected);
}

static void
run_clear (Run * r)
{
  fail_unless_equals_int (gst_element_set_state (r->pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (r->scan);
  gst_object_unref (r->sink);
  gst_object_unref (r->pipeline);
  if (r->have_context)
    gst_context_unref (r->have_context);
}

/* 8 pipelines at once, each its own patterns (two the same): every count
 * equals the CPU reference, and all of them ran on one kernel. */
GST_START_TEST (test_pipelines_share_one_kernel)
{
  Run runs[N_PIPELINES];
  for (guint i = 0; i < N_PIPELINES; i++)
    run_init (&runs[i], i, NULL);
  for (guint i = 0; i < N_PIPELINES; i++)
    fail_unless (gst_element_set_state (runs[i].pipeline, GST_STATE_PLAYING)
        != GST_STATE_CHANGE_FAILURE);
  /* All are tenants at once: none reached EOS before the others started
   * streaming (each start waits for the shared kernel). */
  guint most_active = engine_field (&runs[N_PIPELINES - 1], "active");
  for (guint i = 0; i < N_PIPELINES; i++)
    run_wait_eos (&runs[i]);
  for (guint i = 0; i < N_PIPELINES; i++)
    fail_unless_equals_uint64 (run_matches (&runs[i]), runs[i].expected);
  fail_unless (most_active >= 2, "only %u tenants active at once",
      most_active);
  /* One kernel was ever created for all of them, and each element that
   * announced an engine announced the same one. */
  fail_unless_equals_int (engine_field (&runs[0], "kernels"), 1);
  gpointer engine = NULL;
  guint announced = 0;
  for (guint i = 0; i < N_PIPELINES; i++) {
    if (runs[i].have_context == NULL)
      continue;
    announced++;
    if (engine == NULL)
      engine = engine_of (runs[i].have_context);
    fail_unless (engine_of (runs[i].have_context) == engine);
  }
  fail_unless (announced >= 1);
  for (guint i = 0; i < N_PIPELINES; i++)
    run_clear (&runs[i]);
}

GST_END_TEST;

/* An engine the application sets through the context is the one used:
 * the element announces none of its own. */
GST_START_TEST (test_context_from_application)
{
  Run a;
  run_init (&a, 2, NULL);
  run_play_to_eos (&a);
  fail_unless (a.have_context != NULL, "the first pipeline announced no "
      "engine");
  fail_unless (gst_context_is_persistent (a.have_context));

  Run b;
  run_init (&b, 3, NULL);
  gst_element_set_context (b.pipeline, a.have_context);
  run_play_to_eos (&b);
  fail_unless (b.have_context == NULL, "an element with an engine from the "
      "application announced another");
  fail_unless_equals_int (engine_field (&b, "kernels"), 1);
  run_clear (&b);
  run_clear (&a);
}

GST_END_TEST;

/* The device opens in READY, on a thread (while the rest of the pipeline
 * gets ready); READY -> NULL without PAUSED lets it go again; PLAYING
 * afterwards scans on it. */
GST_START_TEST (test_device_opens_in_ready)
{
  Run a;
  run_init (&a, 5, "engine-linger=60000");
  fail_unless_equals_int (gst_element_set_state (a.pipeline,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!engine_field (&a, "resident") && g_get_monotonic_time () < until)
    g_usleep (10 * 1000);
  fail_unless_equals_int (engine_field (&a, "resident"), 1);
  fail_unless_equals_int (engine_field (&a, "active"), 1);
  fail_unless_equals_int (engine_field (&a, "tenants"), 0);
  fail_unless_equals_int (gst_element_set_state (a.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (engine_field (&a, "active"), 0);
  fail_unless_equals_int (engine_field (&a, "resident"), 1);   /* lingers */

  run_play_to_eos (&a);
  fail_unless_equals_int (engine_field (&a, "kernels"), 1);
  g_object_set (a.scan, "engine-linger", 0, NULL);
  run_clear (&a);
}

GST_END_TEST;

/* The device property changed after the element chose its engine (kept
 * across NULL) is the one used: device 7, which this machine lacks, ends
 * in the error that names it, not on the engine of the first run. */
GST_START_TEST (test_device_changed_between_runs)
{
  Run a;
  run_init (&a, 6, "engine-linger=0");
  run_play_to_eos (&a);
  fail_unless_equals_int (gst_element_set_state (a.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (a.scan, "device", 7, NULL);
  gst_element_set_state (a.pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (a.pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, EOS_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  fail_unless (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR,
      "device=7 scanned on the first run's engine");
  GError *err = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &err, &dbg);
  fail_unless (dbg && strstr (dbg, "7") != NULL, "%s | %s", err->message, dbg);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (m);
  gst_object_unref (bus);
  run_clear (&a);
}

GST_END_TEST;

/* engine-linger: the kernel stays for the linger time after the last
 * pipeline stopped (the next one starts on it), then is released; a later
 * pipeline gets a new one. */
GST_START_TEST (test_linger)
{
  Run a;
  run_init (&a, 4, "engine-linger=600");
  run_play_to_eos (&a);
  fail_unless_equals_int (gst_element_set_state (a.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (engine_field (&a, "active"), 0);
  fail_unless_equals_int (engine_field (&a, "resident"), 1);
  gint64 until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (engine_field (&a, "resident") && g_get_monotonic_time () < until)
    g_usleep (20 * 1000);
  fail_unless_equals_int (engine_field (&a, "resident"), 0);
  fail_unless_equals_int (engine_field (&a, "kernels"), 1);

  /* In NULL the element still holds the engine handle: PLAYING again
   * brings up a new kernel behind it. */
  run_play_to_eos (&a);
  fail_unless_equals_int (engine_field (&a, "kernels"), 2);
  g_object_set (a.scan, "engine-linger", 0, NULL);
  run_clear (&a);
}

GST_END_TEST;

static GstPadProbeReturn
hold_buffers (G_GNUC_UNUSED GstPad * pad, G_GNUC_UNUSED GstPadProbeInfo * info,
    gpointer data)
{
  g_atomic_int_set ((gint *) data, 1);
  return GST_PAD_PROBE_OK;      /* the BLOCK type holds the buffer */
}

typedef struct
{
  GstPad *pad;
  gulong probe;
  gint blocked;
} Hold;

/* Sets r PLAYING with its sink holding every buffer, and waits until the
 * first buffer is held (the pipeline is a tenant with jobs out). */
static void
run_start_held (Run * r, Hold * h)
{
  h->pad = gst_element_get_static_pad (r->sink, "sink");
  h->blocked = 0;
  h->probe = gst_pad_add_probe (h->pad, GST_PAD_PROBE_TYPE_BLOCK |
      GST_PAD_PROBE_TYPE_BUFFER, hold_buffers, &h->blocked, NULL);
  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!g_atomic_int_get (&h->blocked) && g_get_monotonic_time () < until)
    g_usleep (10 * 1000);
  fail_unless (g_atomic_int_get (&h->blocked), "the held pipeline never "
      "pushed a buffer");
}

/* Lets r's buffers go and runs it to EOS, exact. */
static void
run_release_held (Run * r, Hold * h)
{
  gst_pad_remove_probe (h->pad, h->probe);
  gst_object_unref (h->pad);
  run_wait_eos (r);
  fail_unless_equals_uint64 (run_matches (r), r->expected);
}

/* Tenants' quotas are their own: a pipeline whose downstream holds its
 * buffers (its vyrescan fills its job contexts with 256-byte jobs, more
 * than it has, and its streaming thread waits for one) does not stop
 * another pipeline on the same kernel, which runs to EOS with exact
 * results meanwhile; released, the held one finishes exact too. */
GST_START_TEST (test_held_tenant_does_not_hold_others)
{
  Run held, free_run;
  run_init (&held, 0, "job-size=256");
  run_init (&free_run, 2, NULL);
  Hold hold;
  run_start_held (&held, &hold);
  g_usleep (300 * 1000);        /* let it fill its contexts */
  fail_unless (gst_element_set_state (free_run.pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  run_wait_eos (&free_run);
  fail_unless_equals_uint64 (run_matches (&free_run), free_run.expected);
  fail_unless_equals_uint64 (run_matches (&held), 0);
  fail_unless_equals_int (engine_field (&free_run, "kernels"), 1);
  run_release_held (&held, &hold);
  run_clear (&free_run);
  run_clear (&held);
}

GST_END_TEST;

/* The ring is shared, not first come first served: three pipelines whose
 * sinks hold every buffer, each with job contexts for more than a third
 * of the ring (ring-slots=128 and 256-byte jobs: together more than a CPU
 * device's 256 slots), fill only their shares of it; a fourth runs to EOS
 * exact meanwhile.  (On a GPU the ring has 2,048 slots: the three fit
 * anyway.) */
GST_START_TEST (test_slow_tenants_leave_a_share)
{
  Run held[3], free_run;
  Hold hold[3];
  for (guint i = 0; i < 3; i++) {
    run_init (&held[i], i, "job-size=256 ring-slots=128");
    run_start_held (&held[i], &hold[i]);
  }
  g_usleep (300 * 1000);        /* let them fill what they may */
  run_init (&free_run, 3, NULL);
  fail_unless (gst_element_set_state (free_run.pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  run_wait_eos (&free_run);
  fail_unless_equals_uint64 (run_matches (&free_run), free_run.expected);
  fail_unless_equals_int (engine_field (&free_run, "kernels"), 1);
  for (guint i = 0; i < 3; i++)
    run_release_held (&held[i], &hold[i]);
  run_clear (&free_run);
  for (guint i = 0; i < 3; i++)
    run_clear (&held[i]);
}

GST_END_TEST;

static guint64
engine_memory (Run * r)
{
  GstStructure *st = NULL;
  g_object_get (r->scan, "engine-stats", &st, NULL);
  fail_unless (st != NULL, "no engine-stats");
  guint64 v = 0;
  fail_unless (gst_structure_get_uint64 (st, "memory-bytes", &v));
  gst_structure_free (st);
  return v;
}

/* A tenant's memory grows with what it has in flight, not with what it
 * might: a pipeline that keeps a few jobs in flight holds a few MiB (its
 * worst case is about 85 MiB on a CPU device, 324 MB on a GPU), one with
 * 256-byte jobs that uses every job context holds more, and both are
 * exact (the second's jobs reach arena and result chunks allocated while
 * the kernel ran). */
GST_START_TEST (test_memory_grows_with_what_is_in_flight)
{
  Run small, busy;
  run_init (&small, 2, NULL);
  fail_unless (gst_element_set_state (small.pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  run_wait_eos (&small);
  fail_unless_equals_uint64 (run_matches (&small), small.expected);
  guint64 m_small = engine_memory (&small);
  fail_unless (m_small > 0 && m_small < 16 * 1024 * 1024,
      "a pipeline with a few jobs in flight holds %" G_GUINT64_FORMAT
      " bytes", m_small);
  run_clear (&small);

  run_init (&busy, 0, "job-size=256");
  fail_unless (gst_element_set_state (busy.pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  run_wait_eos (&busy);
  fail_unless_equals_uint64 (run_matches (&busy), busy.expected);
  guint64 m_busy = engine_memory (&busy);
  fail_unless (m_busy > m_small, "every context in use: %" G_GUINT64_FORMAT
      " bytes, not more than %" G_GUINT64_FORMAT, m_busy, m_small);
  run_clear (&busy);
}

GST_END_TEST;

/* One pipeline over file i scanning for `patterns` (a patterns property
 * value): TRUE when its count equals the CPU reference's. */
static gboolean
scan_exact (guint i, const gchar * const *patterns)
{
  guint8 *data;
  gchar *path = make_file (i, &data);
  GPtrArray *p = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  for (guint k = 0; patterns[k]; k++)
    g_ptr_array_add (p, g_bytes_new (patterns[k], strlen (patterns[k])));
  GArray *ref = vyre_scan_reference_find (p, FALSE, data, FILE_BYTES, 0);
  gchar *list = g_strjoinv (",", (gchar **) patterns);
  gchar *desc = g_strdup_printf ("filesrc location=%s blocksize=16384 ! "
      "vyrescan name=scan patterns=\"<%s>\" ! vyresink name=sink", path,
      list);
  Run r = { 0 };
  r.pipeline = gst_parse_launch (desc, NULL);
  fail_unless (r.pipeline != NULL, "%s", desc);
  r.scan = gst_bin_get_by_name (GST_BIN (r.pipeline), "scan");
  r.sink = gst_bin_get_by_name (GST_BIN (r.pipeline), "sink");
  r.expected = ref->len;
  fail_unless (gst_element_set_state (r.pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  run_wait_eos (&r);
  gboolean exact = run_matches (&r) == r.expected;
  if (!exact)
    g_printerr ("<%s>: %" G_GUINT64_FORMAT " matches, %" G_GUINT64_FORMAT
        " expected\n", list, run_matches (&r), r.expected);
  run_clear (&r);
  g_array_unref (ref);
  g_ptr_array_unref (p);
  g_free (desc);
  g_free (list);
  g_free (path);
  g_free (data);
  return exact;
}

/* Tenants one after the other whose tables have the same size (the
 * second's may be allocated where the first's were freed): a workgroup
 * keeps the class map of the last tables it scanned with, and must not
 * take the second tenant's tables for the first's because the address is
 * the same (on the H100 a few jobs of the second came out short). */
GST_START_TEST (test_next_tenant_same_table_size)
{
  const gchar *const first[] = { "needle", "hay", "ack", NULL };
  const gchar *const second[] = { "zeedly", "wta", "kcy", NULL };
  for (guint round = 0; round < 3; round++) {
    fail_unless (scan_exact (0, first));
    fail_unless (scan_exact (0, second));
  }
}

GST_END_TEST;

static gchar *run_to_end (guint i);

/* Over the device's budget (VYRE_MEMORY_BUDGET stands in for a small
 * GPU): a pipeline joining a running engine fails with an error naming
 * the element that asked and the budget, the running one is untouched,
 * and with room again the next one joins. */
GST_START_TEST (test_over_budget_names_the_tenant)
{
  Run a;
  run_init (&a, 2, NULL);
  Hold hold;
  run_start_held (&a, &hold);

  g_setenv ("VYRE_MEMORY_BUDGET", "1048576", TRUE);
  gchar *text = run_to_end (3);
  g_unsetenv ("VYRE_MEMORY_BUDGET");
  fail_unless (text != NULL, "no error over the budget");
  fail_unless (strstr (text, "scan does not fit") != NULL && strstr (text,
          "bytes the scan engine holds already") != NULL, "%s", text);
  g_free (text);
  text = run_to_end (3);
  fail_unless (text == NULL, "with room again: %s", text);

  run_release_held (&a, &hold);
  run_clear (&a);
}

GST_END_TEST;

/* A pipeline asking for the automatic device and one asking for that
 * device by its index share one engine (one kernel): while the first is
 * held at its sink, the second's engine counts both as active. */
GST_START_TEST (test_auto_and_index_share_engine)
{
  Run a, b;
  run_init (&a, 5, NULL);
  Hold hold;
  run_start_held (&a, &hold);
  gchar *name_a = NULL;
  g_object_get (a.scan, "device-name", &name_a, NULL);

  /* The automatic choice on this machine, asked for by index: the first
   * device of the same name (CI has one device, lavapipe, index 0). */
  run_init (&b, 6, "device=0");
  run_play_to_eos (&b);
  gchar *name_b = NULL;
  g_object_get (b.scan, "device-name", &name_b, NULL);
  if (g_strcmp0 (name_a, name_b) == 0) {
    fail_unless_equals_int (engine_field (&b, "active"), 2);
    fail_unless_equals_int (engine_field (&b, "kernels"), 1);
  } else {
    GST_WARNING ("device 0 (%s) is not the automatic choice (%s): not "
        "checked", name_b, name_a);
  }
  g_free (name_a);
  g_free (name_b);
  run_release_held (&a, &hold);
  run_clear (&b);
  run_clear (&a);
}

GST_END_TEST;

/* Runs pipeline i to its end; returns the error's text and details (NULL
 * when it reached EOS, with exact results checked). */
static gchar *
run_to_end_with (guint i, const gchar * extra, guint64 * poller_wakes)
{
  Run r;
  gchar *props = g_strdup_printf ("engine-linger=0 %s", extra ? extra : "");
  run_init (&r, i, props);
  g_free (props);
  gchar *text = NULL;
  if (gst_element_set_state (r.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    text = g_strdup ("(state change failed)");
  GstBus *bus = gst_element_get_bus (r.pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, EOS_TIMEOUT,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (m != NULL, "neither EOS nor an error within %"
      GST_TIME_FORMAT, GST_TIME_ARGS (EOS_TIMEOUT));
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &err, &dbg);
    g_free (text);
    text = g_strdup_printf ("%s\n%s", err->message, dbg ? dbg : "");
    g_error_free (err);
    g_free (dbg);
  } else {
    fail_unless (text == NULL, "EOS after a failed state change");
    fail_unless_equals_uint64 (run_matches (&r), r.expected);
  }
  gst_message_unref (m);
  gst_object_unref (bus);
  if (poller_wakes) {
    GstStructure *st = NULL;
    g_object_get (r.scan, "engine-stats", &st, NULL);
    fail_unless (st != NULL && gst_structure_get_uint64 (st, "poller-wakes",
            poller_wakes));
    gst_structure_free (st);
  }
  run_clear (&r);
  return text;
}

static gchar *
run_to_end (guint i)
{
  return run_to_end_with (i, NULL, NULL);
}

/* Faults injected at the device boundary (VYRE_DEVICE_FORCE): an error
 * that names the cause, nothing hangs, and the next pipeline of the
 * process works (after a lost device, on a new kernel). */
GST_START_TEST (test_faults_then_recovery)
{
  static const struct
  {
    const gchar *force;
    const gchar *expect;
    const gchar *props;
  } faults[] = {
    {"alloc=data arena", "data arena", NULL},
    {"alloc=results", "VK_ERROR_OUT_OF_DEVICE_MEMORY", NULL},
    {"alloc=ring", "ring", NULL},
    {"lost", "VK_ERROR_DEVICE_LOST", NULL},
    /* A kernel that stops making progress: the wait's timeout ends it;
     * the engine lingers, and the next pipeline must not get its kernel. */
    {"hold", "completed nothing for 1000 ms",
        "timeout=1000 engine-linger=60000"},
  };
  for (guint f = 0; f < G_N_ELEMENTS (faults); f++) {
    g_setenv ("VYRE_DEVICE_FORCE", faults[f].force, TRUE);
    gboolean hold = g_str_equal (faults[f].force, "hold");
    guint64 wakes = 0;
    gchar *text = run_to_end_with (3, faults[f].props, hold ? &wakes : NULL);
    g_unsetenv ("VYRE_DEVICE_FORCE");
    fail_unless (text != NULL, "%s: no error", faults[f].force);
    /* The waits that never saw their job were ended by the engine's
     * poller, with the hung verdict. */
    fail_unless (!hold || wakes > 0, "hold: no wait was ended by the poller");
    fail_unless (strstr (text, faults[f].expect) != NULL && strstr (text,
            "Fix:") != NULL, "%s: the error does not name the cause: %s",
        faults[f].force, text);
    g_free (text);
    text = run_to_end (4);
    fail_unless (text == NULL, "after %s the next pipeline failed: %s",
        faults[f].force, text);
  }
}

GST_END_TEST;

static Suite *
engine_suite (void)
{
  Suite *s = suite_create ("vyre-engine");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 600);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_pipelines_share_one_kernel);
  tcase_add_test (tc, test_context_from_application);
  tcase_add_test (tc, test_device_opens_in_ready);
  tcase_add_test (tc, test_device_changed_between_runs);
  tcase_add_test (tc, test_linger);
  tcase_add_test (tc, test_held_tenant_does_not_hold_others);
  tcase_add_test (tc, test_slow_tenants_leave_a_share);
  tcase_add_test (tc, test_faults_then_recovery);
  tcase_add_test (tc, test_auto_and_index_share_engine);
  tcase_add_test (tc, test_over_budget_names_the_tenant);
  tcase_add_test (tc, test_memory_grows_with_what_is_in_flight);
  tcase_add_test (tc, test_next_tenant_same_table_size);
  return s;
}

int
main (int argc, char **argv)
{
  gst_check_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("vyre-engine-XXXXXX", NULL);
  g_assert (tmpdir != NULL);
  int failed = gst_check_run_suite (engine_suite (), "vyre-engine",
      __FILE__);
  for (guint i = 0; i < N_PIPELINES; i++) {
    gchar *p = g_strdup_printf ("%s/file%u.txt", tmpdir, i);
    g_unlink (p);
    g_free (p);
  }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return failed;
}
