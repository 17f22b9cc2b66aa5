/* gst-vyre
 *
 * gstvyrescan.c - vyrescan: every buffer through the persistent GPU kernel.
 */
/**
 * SECTION:element-vyrescan
 * @title: vyrescan
 *
 * Publishes every buffer as a 64-byte slot into a ring that a persistent
 * Vulkan compute kernel polls.  The kernel scans the bytes for many
 * literal patterns at once (Aho-Corasick), computes their CRC-32 and byte
 * histogram, and marks the slot done.  Buffers leave unchanged, in input
 * order, each with a #GstVyreScanMeta holding what was found.
 *
 * When the ring is full the element blocks: a full ring is back-pressure,
 * never an error or a drop.  Matches that straddle buffer boundaries are
 * found exactly once, whatever the buffer sizes.
 *
 * The device and its resident kernel are the process's engine for the
 * device (GstContext "vyre.engine"), shared by every vyrescan; the device
 * opens when the element goes to READY, on a thread, while the rest of
 * the pipeline gets ready.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 vyreurisrc location=big.log ! vyrescan patterns-file=secrets.txt ! vyresink
 * gst-launch-1.0 filesrc location=big.log ! vyrescan patterns="<password,BEGIN RSA>" ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvyrescan.h"

#include <string.h>

#include "gstvyrememory.h"
#include "gstvyrescan-private.h"
#include "vyre-assembler.h"
#include "vyre-patterns.h"
#include "vyre-publisher.h"

GST_DEBUG_CATEGORY (vyre_scan_debug);

#define DEFAULT_IGNORE_CASE FALSE
#define DEFAULT_OPS (GST_VYRE_SCAN_OPS_SCAN | GST_VYRE_SCAN_OPS_CRC32 | \
    GST_VYRE_SCAN_OPS_HISTOGRAM)
/* 0 = chosen by device (see choose_geometry) */
#define DEFAULT_RING_SLOTS 0
#define DEFAULT_JOB_SIZE 0
#define GPU_RING_SLOTS 512
#define CPU_RING_SLOTS 32
#define GPU_JOB_SIZE (256 * 1024)
/* A CPU device's kernel scans 4 bytes per loop iteration (compact code)
 * and lavapipe cuts a launch's loops after 65,535 iterations: a job of
 * 4 MiB over 64 lanes takes 4,096 of them. */
#define CPU_JOB_SIZE (4 * 1024 * 1024)
#define GPU_COPY_JOB_SIZE (64 * 1024)
#define DEFAULT_MAX_MATCHES 0   /* no limit */
#define DEFAULT_STORE_MATCHES TRUE
/* Match event records per lane in a job's result record (the kernel's
 * storage, apart from any limit on what is reported).  A job with more
 * events in a lane is scanned again in pieces (rescan_in_pieces), so this
 * sets memory and how often that happens, never what is found.  On a GPU
 * 64 x 256 lanes x 16 bytes = 256 KiB per job context: English text at
 * 5,000 literals has about 32 events per lane of a 256 KiB job, and with
 * 32 records every job was scanned again (H100, 2026-12-06: 0.8 against
 * 6.3 GB/s; docs/benchmarks.md "Every match").  A CPU device's 64 lanes
 * scan larger jobs: 32 keeps its records small.  The environment variable
 * VYRE_EVENTS_PER_LANE overrides it (tests force pieces with it). */
#define EVENTS_PER_LANE_GPU 64
#define EVENTS_PER_LANE_CPU 32
/* Job contexts the src task keeps for those pieces (the chain never takes
 * them, so the task never waits on the chain): pieces in flight at once. */
#define RESCAN_CONTEXTS_GPU 16
#define RESCAN_CONTEXTS_CPU 2
#define DEFAULT_EPOCH_BUFFERS 64
#define DEFAULT_DEVICE -1
#define DEFAULT_BLOCK_SIZE (1 << 20)
#define DEFAULT_TIMEOUT_MS 10000

enum
{
  PROP_0,
  PROP_PATTERNS,
  PROP_PATTERNS_FILE,
  PROP_IGNORE_CASE,
  PROP_OPS,
  PROP_RING_SLOTS,
  PROP_MAX_MATCHES,
  PROP_STORE_MATCHES,
  PROP_EPOCH_BUFFERS,
  PROP_DEVICE,
  PROP_BLOCK_SIZE,
  PROP_JOB_SIZE,
  PROP_TIMEOUT,
  PROP_DEVICE_NAME,
  PROP_BYTES_COPIED,
  PROP_BUFFERS_COPIED,
  PROP_FILES_PACKED,
  PROP_JOBS,
  PROP_JOBS_SCANNED_AGAIN,
  PROP_ENGINE_LINGER,
  PROP_ENGINE_STATS,
};

static const char *const phase_names[N_PHASES] = {
  "chain", "chain-context", "chain-submit", "task-idle", "task-wait-gpu",
  "task-collect", "task-finish", "task-push"
};

G_DEFINE_TYPE_WITH_CODE (GstVyreScan, gst_vyre_scan, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (vyre_scan_debug, "vyrescan", 0,
        "vyre GPU scan filter"));
GST_ELEMENT_REGISTER_DEFINE (vyrescan, "vyrescan", GST_RANK_NONE,
    GST_TYPE_VYRE_SCAN);

static gboolean answer_engine_query (GstVyreScan * self, GstQuery * query);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GType
gst_vyre_scan_ops_get_type (void)
{
  static GType type = 0;
  static const GFlagsValue values[] = {
    {GST_VYRE_SCAN_OPS_SCAN, "Multi-literal pattern scan", "scan"},
    {GST_VYRE_SCAN_OPS_CRC32, "zlib CRC-32 of every buffer", "crc32"},
    {GST_VYRE_SCAN_OPS_HISTOGRAM, "Byte histogram of every buffer",
        "histogram"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_flags_register_static ("GstVyreScanOps", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------ */
/* Entries and contexts                                                */

void
gst_vyre_scan_entry_free (Entry * e)
{
  gst_clear_buffer (&e->buffer);
  for (guint i = 0; e->pack && i < e->pack->n_buffers; i++) {
    if (e->pack_matches)
      g_clear_pointer (&e->pack_matches[i], g_array_unref);
    if (e->pack_counts)
      g_clear_pointer (&e->pack_counts[i], g_array_unref);
  }
  g_free (e->pack_matches);
  g_free (e->pack_counts);
  g_clear_pointer (&e->pack, vyre_job_pack_free);
  gst_clear_event (&e->event);
  if (e->matches)
    g_array_unref (e->matches);
  if (e->not_stored)
    g_array_unref (e->not_stored);
  if (e->counts)
    g_array_unref (e->counts);
  vyre_assembler_group_unref (e->group);
  g_clear_error (&e->error);
  g_free (e);
}

/* Waiting and waking on self->cond (lock held).  Every job passes a
 * queue push, a pop and a context release: an unconditional
 * g_cond_broadcast is a futex system call each time (GLib makes it even
 * with nobody waiting), so wake-ups happen only when someone waits, and the
 * chain, once out of contexts, is woken when a batch of them is free
 * rather than for each one.  Every wait is bounded: a missed wake-up costs
 * time, never a hang. */
void
gst_vyre_scan_wait_locked (GstVyreScan * self, guint * counter, gint64 timeout_us)
{
  (*counter)++;
  g_cond_wait_until (&self->cond, &self->lock, g_get_monotonic_time () +
      timeout_us);
  (*counter)--;
}

void
gst_vyre_scan_wake_locked (GstVyreScan * self)
{
  if (self->waiters || (self->ctx_waiters &&
          self->ctx_free_count >= self->ctx_wake_at))
    g_cond_broadcast (&self->cond);
}

/* Wait until a job context is free.  Returns FLUSHING when flushing, and
 * the src task's result once it stopped (an error, not-linked...): it
 * frees no context any more, so waiting on would never end.  Lock held. */
GstFlowReturn
gst_vyre_scan_acquire_context_locked (GstVyreScan * self, guint * ctx)
{
  while (self->ctx_free_count == 0) {
    GstFlowReturn flow = g_atomic_int_get (&self->flow);
    if (flow != GST_FLOW_OK)
      return flow;
    gst_vyre_scan_wait_locked (self, &self->ctx_waiters, 100 * G_TIME_SPAN_MILLISECOND);
  }
  for (guint i = 0; i < self->n_contexts; i++) {
    if (self->ctx_free[i]) {
      self->ctx_free[i] = 0;
      self->ctx_free_count--;
      *ctx = i;
      return GST_FLOW_OK;
    }
  }
  return GST_FLOW_ERROR;            /* a free count without a free context */
}

void
gst_vyre_scan_release_context_locked (GstVyreScan * self, guint ctx)
{
  if (!self->ctx_free[ctx]) {
    self->ctx_free[ctx] = 1;
    self->ctx_free_count++;
  }
  gst_vyre_scan_wake_locked (self);
}

void
gst_vyre_scan_queue_entry (GstVyreScan * self, Entry * e)
{
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->entries, e);
  gst_vyre_scan_wake_locked (self);
  g_mutex_unlock (&self->lock);
}

static GstFlowReturn
gst_vyre_scan_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstVyreScan *self = GST_VYRE_SCAN (parent);
  (void) pad;
  GstFlowReturn ret = g_atomic_int_get (&self->flow);
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (buf);
    return ret;
  }
  return vyre_publisher_buffer (self, buf);
}

/* ------------------------------------------------------------------ */
/* src task: completions out, in order                                 */

static void
pause_task (GstVyreScan * self, GstFlowReturn ret)
{
  g_mutex_lock (&self->lock);
  /* a flush that came meanwhile stays a flush */
  if (g_atomic_int_get (&self->flow) != GST_FLOW_FLUSHING)
    g_atomic_int_set (&self->flow, ret);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  gst_pad_pause_task (self->srcpad);
}

/* Pushes outs[from..to), buffers in a row: one alone, more (a packed
 * job's small files) as one list, one push for all of them. */
static GstFlowReturn
push_buffers (GstVyreScan * self, GPtrArray * outs, guint from, guint to)
{
  if (to - from == 1)
    return gst_pad_push (self->srcpad, outs->pdata[from]);
  GstBufferList *list = gst_buffer_list_new_sized (to - from);
  for (guint i = from; i < to; i++)
    gst_buffer_list_add (list, outs->pdata[i]);
  return gst_pad_push_list (self->srcpad, list);
}

static void
gst_vyre_scan_loop (gpointer user_data)
{
  GstVyreScan *self = GST_VYRE_SCAN (user_data);

  gint64 t0 = PHASE_START (self);
  g_mutex_lock (&self->lock);
  while (g_queue_is_empty (&self->entries) &&
      g_atomic_int_get (&self->flow) == GST_FLOW_OK)
    gst_vyre_scan_wait_locked (self, &self->waiters, 100 * G_TIME_SPAN_MILLISECOND);
  if (g_atomic_int_get (&self->flow) != GST_FLOW_OK) {
    g_mutex_unlock (&self->lock);
    gst_pad_pause_task (self->srcpad);
    return;
  }
  Entry *e = g_queue_peek_head (&self->entries);
  g_mutex_unlock (&self->lock);
  PHASE_ADD (self, PH_TASK_IDLE, t0);

  if (e->kind == ENTRY_EVENT) {
    g_mutex_lock (&self->lock);
    g_queue_pop_head (&self->entries);
    gst_vyre_scan_wake_locked (self);
    g_mutex_unlock (&self->lock);
    GstEvent *ev = e->event;
    e->event = NULL;
    gboolean is_eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    if (is_eos) {
      VyreMegakernelStats ks;
      vyre_tenant_stats (self->tenant, &ks);
      GST_INFO_OBJECT (self, "EOS after %" G_GUINT64_FORMAT " buffers, %"
          G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " matches (%"
          G_GUINT64_FORMAT " not stored), %u epochs on %s; torn reads "
          "(read again until whole): %" G_GUINT64_FORMAT " completions, %"
          G_GUINT64_FORMAT " results; %" G_GUINT64_FORMAT " jobs whose "
          "events outgrew their record scanned again in %" G_GUINT64_FORMAT
          " pieces; %" G_GUINT64_FORMAT " small files scanned in %"
          G_GUINT64_FORMAT " shared jobs", self->total_buffers,
          self->total_bytes, self->total_matches, self->total_dropped,
          self->total_epochs, vyre_device_name (self->device),
          ks.torn_completions, self->torn_results, self->rescanned_jobs,
          self->rescan_pieces, self->files_packed, self->packed_jobs);
    }
    if (is_eos && self->phase_on) {
      GString *p = g_string_new (NULL);
      for (guint i = 0; i < N_PHASES; i++)
        g_string_append_printf (p, "%s%s %.3f s", i ? ", " : "",
            phase_names[i], self->phase_ns[i] / 1e9);
      GST_INFO_OBJECT (self, "host time for %" G_GUINT64_FORMAT " jobs: %s",
          self->total_jobs, p->str);
      g_string_free (p, TRUE);
    }
    gst_pad_push_event (self->srcpad, ev);
    gst_vyre_scan_entry_free (e);
    if (is_eos)
      pause_task (self, GST_FLOW_EOS);
    return;
  }

  GError *err = NULL;
  GstFlowReturn dret = vyre_assembler_dispatch_ahead (self);
  if (dret == GST_FLOW_FLUSHING) {
    gst_pad_pause_task (self->srcpad);
    return;
  }
  if (dret != GST_FLOW_OK) {
    pause_task (self, GST_FLOW_ERROR);
    return;
  }
  /* The head's matches, expanded by a worker (or the task). */
  t0 = PHASE_START (self);
  g_mutex_lock (&self->lock);
  while (!e->expanded && g_atomic_int_get (&self->flow) == GST_FLOW_OK)
    gst_vyre_scan_wait_locked (self, &self->waiters, 100 * G_TIME_SPAN_MILLISECOND);
  gboolean expanded = e->expanded;
  g_mutex_unlock (&self->lock);
  PHASE_ADD (self, PH_TASK_COLLECT, t0);
  if (!expanded) {
    gst_pad_pause_task (self->srcpad);
    return;
  }
  const vyre_completion c = e->comp;

  GPtrArray *outs = g_ptr_array_new ();       /* buffers and events */
  if (e->kind == ENTRY_JOB) {
    t0 = PHASE_START (self);
    GstFlowReturn cret = vyre_assembler_collect (self, e, &err);
    if (cret != GST_FLOW_OK) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("The GPU's scan results could not be read."), ("%s", err->message));
      g_error_free (err);
      g_ptr_array_unref (outs);
      pause_task (self, GST_FLOW_ERROR);
      return;
    }
    self->total_jobs++;
    PHASE_ADD (self, PH_TASK_COLLECT, t0);
    t0 = PHASE_START (self);
    vyre_assembler_finish (self, e, outs);
    PHASE_ADD (self, PH_TASK_FINISH, t0);
  } else {
    GST_DEBUG_OBJECT (self, "epoch %u closed", c.epoch);
    self->total_epochs = c.epoch;
    GstStructure *s = gst_structure_new ("vyre-epoch",
        "epoch", G_TYPE_UINT, c.epoch, NULL);
    gst_pad_push_event (self->srcpad,
        gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s));
  }
  vyre_tenant_release (self->tenant, &e->ticket);
  g_mutex_lock (&self->lock);
  g_queue_pop_head (&self->entries);
  if (e->kind == ENTRY_JOB)
    gst_vyre_scan_release_context_locked (self, e->ctx);       /* wakes whom it concerns */
  else
    gst_vyre_scan_wake_locked (self);
  g_mutex_unlock (&self->lock);
  gst_vyre_scan_entry_free (e);

  t0 = PHASE_START (self);
  GstFlowReturn ret = GST_FLOW_OK;
  guint i = 0;
  while (i < outs->len && ret == GST_FLOW_OK) {
    guint end = i;
    while (end < outs->len && GST_IS_BUFFER (outs->pdata[end]))
      end++;
    if (end > i) {
      ret = push_buffers (self, outs, i, end);
      i = end;
    } else {
      gst_pad_push_event (self->srcpad, outs->pdata[i++]);
    }
  }
  for (; i < outs->len; i++)    /* after a flow error: not pushed */
    gst_mini_object_unref (outs->pdata[i]);
  g_ptr_array_unref (outs);
  PHASE_ADD (self, PH_TASK_PUSH, t0);
  if (ret != GST_FLOW_OK) {
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
      GST_ELEMENT_FLOW_ERROR (self, ret);
    pause_task (self, ret);
  }
}

/* Complete and drop every queued entry (after a flush or on stop): the GPU
 * still owns their slots until they complete.  After a flush, sticky events
 * that never went out (caps, tags, vyre-info...) are stored on the src pad
 * instead, so downstream still gets them before the next data: a flush
 * drops data, not stream state.  SEGMENT and EOS are flushed away. */
static void
drain_entries (GstVyreScan * self, gboolean keep_sticky)
{
  /* Stopping (no sticky events kept: nothing follows) hands the jobs still
   * on the GPU to the engine instead of waiting for them; a flush waits,
   * since the contexts they use are published into again right after. */
  GArray *hand_over = keep_sticky ? NULL :
      g_array_new (FALSE, FALSE, sizeof (vyre_ticket));
  if (self->held)               /* (borrowed: the entries go below) */
    g_ptr_array_set_size (self->held, 0);
  for (;;) {
    g_mutex_lock (&self->lock);
    Entry *e = g_queue_pop_head (&self->entries);
    g_mutex_unlock (&self->lock);
    if (e == NULL)
      break;
    /* A worker may still read its record: wait for it (it skips the work
     * once flushing is set, and otherwise takes milliseconds). */
    g_mutex_lock (&self->lock);
    while (e->dispatched && !e->held && !e->expanded)
      gst_vyre_scan_wait_locked (self, &self->waiters, 10 * G_TIME_SPAN_MILLISECOND);
    g_mutex_unlock (&self->lock);
    if (e->kind != ENTRY_EVENT && self->tenant && e->dispatched)
      vyre_tenant_release (self->tenant, &e->ticket);
    else if (e->kind != ENTRY_EVENT && self->tenant && hand_over)
      g_array_append_val (hand_over, e->ticket);
    else if (e->kind != ENTRY_EVENT && self->tenant) {
      vyre_completion c;
      GError *err = NULL;
      if (vyre_tenant_wait (self->tenant, &e->ticket, &c, NULL, &err) ==
          VYRE_MK_OK)
        vyre_tenant_release (self->tenant, &e->ticket);
      else {
        GST_WARNING_OBJECT (self, "job did not complete while draining: %s",
            err ? err->message : "?");
        g_clear_error (&err);
      }
    }
    if (e->kind == ENTRY_JOB) {
      g_mutex_lock (&self->lock);
      gst_vyre_scan_release_context_locked (self, e->ctx);
      g_mutex_unlock (&self->lock);
    }
    for (guint i = 0; keep_sticky && e->pack && i < e->pack->members->len;
        i++)
      if (GST_IS_EVENT (e->pack->members->pdata[i]))
        gst_pad_store_sticky_event (self->srcpad, e->pack->members->pdata[i]);
    if (keep_sticky && e->kind == ENTRY_EVENT &&
        GST_EVENT_IS_STICKY (e->event) &&
        GST_EVENT_TYPE (e->event) != GST_EVENT_SEGMENT &&
        GST_EVENT_TYPE (e->event) != GST_EVENT_EOS)
      gst_pad_store_sticky_event (self->srcpad, e->event);
    gst_vyre_scan_entry_free (e);
  }
  if (hand_over && hand_over->len > 0) {
    GST_DEBUG_OBJECT (self, "%u jobs still on the GPU handed to the engine",
        hand_over->len);
    vyre_tenant_hand_over (self->tenant, (vyre_ticket *) hand_over->data,
        hand_over->len);
  }
  if (hand_over)
    g_array_free (hand_over, TRUE);
  vyre_assembler_reset (self);
}

/* Wait until everything queued went downstream (serialized queries). */
static gboolean
wait_drained (GstVyreScan * self)
{
  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (&self->entries) &&
      g_atomic_int_get (&self->flow) == GST_FLOW_OK)
    gst_vyre_scan_wait_locked (self, &self->waiters, 100 * G_TIME_SPAN_MILLISECOND);
  gboolean ok = g_queue_is_empty (&self->entries);
  g_mutex_unlock (&self->lock);
  return ok;
}

static void
start_task (GstVyreScan * self)
{
  g_mutex_lock (&self->lock);
  g_atomic_int_set (&self->flow, GST_FLOW_OK);
  g_mutex_unlock (&self->lock);
  gst_pad_start_task (self->srcpad, gst_vyre_scan_loop, self, NULL);
}

static void
reset_stream (GstVyreScan * self)
{
  g_clear_pointer (&self->pack, vyre_job_pack_free);
  self->next_offset = 0;
  self->tail_len = 0;
  self->epoch_buffer_count = 0;
}

/* ------------------------------------------------------------------ */
/* events and queries                                                  */

static gboolean
gst_vyre_scan_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstVyreScan *self = GST_VYRE_SCAN (parent);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->lock);
      g_atomic_int_set (&self->flow, GST_FLOW_FLUSHING);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      gst_pad_push_event (self->srcpad, event);
      gst_pad_pause_task (self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      /* Downstream first: sticky events can only be stored on a src pad
       * that is no longer flushing. */
      gst_pad_push_event (self->srcpad, event);
      drain_entries (self, TRUE);
      reset_stream (self);
      /* A pad being deactivated stays flushing, without a task. */
      if (gst_pad_is_active (self->srcpad))
        start_task (self);
      return TRUE;
    case GST_EVENT_EOS:
      /* Close the last epoch, then EOS leaves after everything before it. */
      if (self->tenant && vyre_publisher_fence (self) != GST_FLOW_OK) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    case GST_EVENT_SEGMENT:
    {
      const GstSegment *seg;
      gst_event_parse_segment (event, &seg);
      if (seg->format == GST_FORMAT_BYTES && seg->start != self->next_offset) {
        self->next_offset = seg->start;
        self->tail_len = 0;
      }
      break;
    }
    default:
      break;
  }
  if (!GST_EVENT_IS_SERIALIZED (event) || self->tenant == NULL)
    return gst_pad_event_default (pad, parent, event);
  /* Between the small files of a pack (each file's location tag) an
   * event waits with them, in order; any other closes the pack. */
  if (self->pack && GST_EVENT_TYPE (event) == GST_EVENT_TAG) {
    vyre_job_pack_add_event (self->pack, event);
    return TRUE;
  }
  if (vyre_publisher_flush_pack (self) != GST_FLOW_OK) {
    gst_event_unref (event);
    return FALSE;
  }
  gboolean stream_start = GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START;
  Entry *e = g_new0 (Entry, 1);
  e->kind = ENTRY_EVENT;
  e->event = event;
  gst_vyre_scan_queue_entry (self, e);
  /* Tell downstream (vyresink) what is scanned, right after stream-start. */
  if (stream_start && self->info_event) {
    e = g_new0 (Entry, 1);
    e->kind = ENTRY_EVENT;
    e->event = gst_event_ref (self->info_event);
    gst_vyre_scan_queue_entry (self, e);
  }
  return TRUE;
}

static gboolean
gst_vyre_scan_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstVyreScan *self = GST_VYRE_SCAN (parent);
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_ALLOCATION:
    {
      /* Offer our allocator (no pool): a source then allocates buffers of
       * exactly the size it reads, straight in GPU-readable memory.  A pool
       * would hand out block-size buffers, which sources such as filesrc
       * do not shrink to the bytes they read. */
      if (self->allocator == NULL)
        return FALSE;
      GstAllocationParams params;
      gst_allocation_params_init (&params);
      gst_query_add_allocation_param (query, self->allocator, &params);
      GST_DEBUG_OBJECT (self, "offered the GPU-readable allocator (%u "
          "blocks of %u bytes)", self->slots, self->block_size);
      return TRUE;
    }
    case GST_QUERY_CONTEXT:
      if (answer_engine_query (self, query))
        return TRUE;
      return gst_pad_query_default (pad, parent, query);
    default:
      if (GST_QUERY_IS_SERIALIZED (query) && self->tenant &&
          (vyre_publisher_flush_pack (self) != GST_FLOW_OK || !wait_drained (self)))
        return FALSE;
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
gst_vyre_scan_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_CONTEXT
      && answer_engine_query (GST_VYRE_SCAN (parent), query))
    return TRUE;
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
gst_vyre_scan_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstVyreScan *self = GST_VYRE_SCAN (parent);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    start_task (self);
    return TRUE;
  }
  g_mutex_lock (&self->lock);
  g_atomic_int_set (&self->flow, GST_FLOW_FLUSHING);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return gst_pad_stop_task (pad);
}

static gboolean
gst_vyre_scan_sink_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstVyreScan *self = GST_VYRE_SCAN (parent);
  (void) pad;
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (!active) {
    /* Wake a chain blocked on a full ring. */
    g_mutex_lock (&self->lock);
    g_atomic_int_set (&self->flow, GST_FLOW_FLUSHING);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* start / stop                                                        */

static gboolean
load_patterns (GstVyreScan * self, GError ** error)
{
  GST_OBJECT_LOCK (self);
  gchar *text = g_strdup (self->patterns);
  gchar *file = g_strdup (self->patterns_file);
  gboolean ignore_case = self->ignore_case;
  GST_OBJECT_UNLOCK (self);
  GPtrArray *all = NULL, *notes = NULL;
  gboolean ok = vyre_patterns_load (text, file, ignore_case, &all, &notes,
      error);
  for (guint i = 0; ok && i < notes->len; i++)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("%s",
            (gchar *) notes->pdata[i]), (NULL));
  g_clear_pointer (&notes, g_ptr_array_unref);
  g_free (text);
  g_free (file);
  if (ok && all->len == 0 && (self->ops & GST_VYRE_SCAN_OPS_SCAN)) {
    g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_EMPTY,
        "No patterns to scan for. Fix: set patterns=\"<a,b>\" or "
        "patterns-file=FILE (one literal per line), or drop scan from ops.");
    ok = FALSE;
  }
  if (!ok) {
    g_clear_pointer (&all, g_ptr_array_unref);
    return FALSE;
  }
  if (all->len == 0)            /* crc32/histogram only: tables still needed */
    g_ptr_array_add (all, g_bytes_new_static ("\0", 1));
  self->pattern_list = all;
  self->max_pattern_len = 0;
  self->pattern_len = g_new (guint, all->len);
  for (guint i = 0; i < all->len; i++) {
    self->pattern_len[i] = g_bytes_get_size (all->pdata[i]);
    self->max_pattern_len = MAX (self->max_pattern_len, self->pattern_len[i]);
  }
  return TRUE;
}

static gpointer
tenant_ref (gpointer t)
{
  return vyre_tenant_ref (t);
}

static void
tenant_unref (gpointer t)
{
  vyre_tenant_unref (t);
}

static guint8 *
tenant_reserve (gpointer t, guint64 offset, guint64 size, GError ** error)
{
  return vyre_tenant_arena_reserve (t, offset, size, error);
}

guint64
gst_vyre_scan_copy_area (GstVyreScan * self, guint ctx)
{
  return self->staging_base + (guint64) (ctx / self->copy_areas_per_chunk) *
      self->chunk_bytes + (guint64) (ctx % self->copy_areas_per_chunk) *
      self->copy_job;
}

/* GStreamer's context algorithm (design/context.md) for the engine: one
 * set on the element already; else a neighbour's, downstream then
 * upstream; else whatever the application sets on NEED_CONTEXT; else the
 * process's engine for the device, announced with HAVE_CONTEXT. */
/* An engine from a context fits unless this element asks for another
 * device by index (a pipeline may scan on two GPUs). */
static gboolean
engine_fits (GstVyreScan * self, VyreEngine * e)
{
  GST_OBJECT_LOCK (self);
  gint want = self->device_index;
  GST_OBJECT_UNLOCK (self);
  return want == -1 || vyre_engine_device_index (e) == want;
}

static gboolean
query_engine (GstVyreScan * self, GstPad * pad)
{
  GstQuery *q = gst_query_new_context (VYRE_ENGINE_CONTEXT_TYPE);
  GstContext *ctx = NULL;
  if (gst_pad_peer_query (pad, q))
    gst_query_parse_context (q, &ctx);
  VyreEngine *e = ctx ? vyre_engine_from_context (ctx) : NULL;
  if (e && !engine_fits (self, e))
    g_clear_pointer (&e, vyre_engine_unref);
  if (e) {
    GST_OBJECT_LOCK (self);
    if (self->engine == NULL)
      self->engine = e;
    else
      vyre_engine_unref (e);
    GST_OBJECT_UNLOCK (self);
    gst_element_set_context (GST_ELEMENT (self), ctx);
  }
  gst_query_unref (q);
  return e != NULL;
}

static VyreEngine *
ensure_engine (GstVyreScan * self)
{
  /* The engine is kept across NULL; one of another device than the
   * property names now (changed since it was chosen) is let go. */
  GST_OBJECT_LOCK (self);
  VyreEngine *stale = NULL;
  if (self->engine && self->device_index != -1 &&
      vyre_engine_device_index (self->engine) != self->device_index) {
    stale = self->engine;
    self->engine = NULL;
  }
  gboolean have = self->engine != NULL;
  gint index = self->device_index;
  GST_OBJECT_UNLOCK (self);
  if (stale)
    vyre_engine_unref (stale);
  if (!have && !query_engine (self, self->srcpad)
      && !query_engine (self, self->sinkpad)) {
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_need_context (GST_OBJECT (self),
            VYRE_ENGINE_CONTEXT_TYPE));
    GST_OBJECT_LOCK (self);
    if (self->engine == NULL)
      self->engine = vyre_engine_get (index);
    else
      have = TRUE;              /* the application set one */
    GST_OBJECT_UNLOCK (self);
    if (!have) {
      GstContext *ctx = vyre_engine_context_new (self->engine);
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_have_context (GST_OBJECT (self), ctx));
    }
  }
  GST_OBJECT_LOCK (self);
  VyreEngine *e = vyre_engine_ref (self->engine);
  guint linger = self->engine_linger;
  GST_OBJECT_UNLOCK (self);
  if (linger != G_MAXUINT)
    vyre_engine_set_linger (e, linger);
  return e;
}

static void
gst_vyre_scan_set_context (GstElement * element, GstContext * context)
{
  GstVyreScan *self = GST_VYRE_SCAN (element);
  VyreEngine *e = vyre_engine_from_context (context);
  if (e && !engine_fits (self, e)) {
    GST_DEBUG_OBJECT (self, "engine for device %d from the context: not "
        "the device asked for", vyre_engine_device_index (e));
    g_clear_pointer (&e, vyre_engine_unref);
  }
  if (e) {
    GST_OBJECT_LOCK (self);
    VyreEngine *old = self->engine;
    self->engine = e;
    GST_OBJECT_UNLOCK (self);
    if (old)
      vyre_engine_unref (old);
    GST_DEBUG_OBJECT (self, "engine for device %d from the context",
        vyre_engine_device_index (e));
  }
  GST_ELEMENT_CLASS (gst_vyre_scan_parent_class)->set_context (element,
      context);
}

/* Answers a neighbour's context query with our engine. */
static gboolean
answer_engine_query (GstVyreScan * self, GstQuery * query)
{
  const gchar *type = NULL;
  if (!gst_query_parse_context_type (query, &type)
      || g_strcmp0 (type, VYRE_ENGINE_CONTEXT_TYPE) != 0)
    return FALSE;
  GST_OBJECT_LOCK (self);
  GstContext *ctx = self->engine ? vyre_engine_context_new (self->engine) :
      NULL;
  GST_OBJECT_UNLOCK (self);
  if (ctx == NULL)
    return FALSE;
  gst_query_set_context (query, ctx);
  gst_context_unref (ctx);
  return TRUE;
}

/* NULL->READY: the engine is chosen (GstContext) and its device opens on
 * a thread, while the rest of the pipeline gets ready (a tree's walk) and
 * start() compiles the patterns.  READY is where GStreamer elements open
 * their devices. */
static void
begin_open (GstVyreScan * self)
{
  VyreEngine *e = ensure_engine (self);
  GST_OBJECT_LOCK (self);
  guint64 timeout_us = (guint64) self->timeout_ms * 1000;
  GST_OBJECT_UNLOCK (self);
  self->opening = vyre_engine_acquire_begin (e, timeout_us);
  vyre_engine_unref (e);
}

/* The opening begun in NULL->READY, if any: its kernel when it opened
 * engine e (NULL with *err set when that failed), else NULL without an
 * error (none begun, or an application gave another engine meanwhile:
 * ours is let go). */
static VyreMegakernel *
end_open (GstVyreScan * self, VyreEngine * e, GError ** err)
{
  VyreEngineOpening *op = self->opening;
  self->opening = NULL;
  return op ? vyre_engine_acquire_finish (op, e, err) : NULL;
}

/* The kernel: the engine's. */
static gboolean
open_kernel (GstVyreScan * self, GError ** err)
{
  VyreEngine *e = ensure_engine (self);
  GError *early = NULL;
  self->mk = end_open (self, e, &early);
  if (early)
    g_propagate_error (err, early);
  else if (self->mk == NULL)
    self->mk = vyre_engine_acquire (e, (guint64) self->timeout_ms * 1000,
        err);
  vyre_engine_unref (e);
  if (self->mk == NULL)
    return FALSE;
  self->device = vyre_device_ref (vyre_megakernel_device (self->mk));
  return TRUE;
}

static void
close_kernel (GstVyreScan * self)
{
  if (self->mk == NULL)
    return;
  GST_OBJECT_LOCK (self);
  VyreEngine *e = vyre_engine_ref (self->engine);
  GST_OBJECT_UNLOCK (self);
  vyre_engine_release (e, self->mk);
  vyre_engine_unref (e);
  self->mk = NULL;
}

/* Ring slots and job size: the properties, or what fills the device.  A
 * job runs on one workgroup and the kernel launches one workgroup per
 * slot, so a GPU needs many slots, and buffers cut into jobs so that a few
 * buffers keep them all busy.  Measured on an H200 (docs/benchmarks.md):
 * 1,000 literals on dense text, the pipeline with 1 MiB jobs in 32 slots
 * 3.9 GB/s; the kernel alone 60 GB/s with 64 KiB or 256 KiB jobs in 512
 * slots, but each job costs the host about 2 us, so the larger jobs.  A
 * CPU device (lavapipe) runs one workgroup at a time: fewer, larger jobs. */
static void
choose_geometry (GstVyreScan * self)
{
  gboolean cpu = vyre_device_is_cpu (self->device);
  GST_OBJECT_LOCK (self);
  guint slots = self->ring_slots, job = self->job_size;
  guint block = self->block_size;
  GST_OBJECT_UNLOCK (self);
  self->slots = slots ? MAX (slots, 2u) : cpu ? CPU_RING_SLOTS : GPU_RING_SLOTS;
  self->job = job ? MAX (job, 256u) : MIN (cpu ? (guint) CPU_JOB_SIZE :
      (guint) GPU_JOB_SIZE, block);
  /* Copied buffers need a copy area per context, allocated up front
   * whether upstream copies or not: keep it small on GPUs. */
  self->copy_job = cpu || job ? self->job : MIN (self->job,
      (guint) GPU_COPY_JOB_SIZE);
  GST_INFO_OBJECT (self, "%u ring slots, jobs of at most %u bytes, blocks of "
      "%u bytes offered upstream", self->slots, self->job, block);
}

static gboolean
gst_vyre_scan_start (GstVyreScan * self)
{
  GError *err = NULL;
  if (!load_patterns (self, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid patterns for vyrescan."), ("%s", err->message));
    g_error_free (err);
    return FALSE;
  }
  self->automaton = vyre_automaton_compile (self->pattern_list,
      self->ignore_case, 0, &err);
  if (self->automaton == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not compile the patterns."), ("%s", err->message));
    g_error_free (err);
    return FALSE;
  }
  if (!open_kernel (self, &err)) {
    /* No device at all, or one that could not run the kernel. */
    gboolean no_device = err->domain == VYRE_DEVICE_ERROR &&
        (err->code == VYRE_DEVICE_ERROR_NO_DEVICE ||
        err->code == VYRE_DEVICE_ERROR_UNSUPPORTED);
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", no_device ?
            "No usable Vulkan device for vyrescan." :
            "Could not start the GPU scan kernel."), ("%s", err->message));
    g_error_free (err);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "device: %s (%s)", vyre_device_name (self->device),
      vyre_device_driver (self->device));

  self->max_carry = MAX (self->max_pattern_len, 1) - 1;
  choose_geometry (self);
  self->n_contexts = self->slots;
  self->n_rescan_contexts = vyre_device_is_cpu (self->device) ?
      RESCAN_CONTEXTS_CPU : RESCAN_CONTEXTS_GPU;
  /* Each lane of the kernel gets an equal share of event records. */
  const gchar *env = g_getenv ("VYRE_EVENTS_PER_LANE");
  guint64 per_lane = env ? g_ascii_strtoull (env, NULL, 10) : 0;
  if (per_lane == 0)
    per_lane = vyre_device_is_cpu (self->device) ? EVENTS_PER_LANE_CPU :
        EVENTS_PER_LANE_GPU;
  self->kernel_max_matches = (guint) CLAMP (per_lane, 1, 4096) *
      VYRE_RESULT_LANES;
  /* Arena: first the blocks the allocator hands upstream: enough for
   * every job in flight plus room for a source's read-ahead (vyreurisrc
   * keeps queue-depth reads in flight), so a zero-copy source does not run
   * dry and fall back to copied memory; then a copy area of one job per
   * context for buffers in foreign memory.  It is allocated in chunks as
   * jobs first reach them (a 1 KiB file touches one), so the chunks are
   * whole blocks, copy areas never cross one, and the pool's blocks and
   * the copy areas together take at most VYRE_TENANT_CHUNKS_MAX chunks. */
  guint pool_blocks = (guint) (((guint64) self->slots * self->job +
          self->block_size - 1) / self->block_size) + 16;
  guint blocks_per_chunk = MAX (1u, (self->copy_job + self->block_size - 1) /
      self->block_size);
  guint pool_chunks, staging_chunks;
  for (;; blocks_per_chunk++) {
    self->chunk_bytes = (guint64) blocks_per_chunk * self->block_size;
    self->copy_areas_per_chunk = (guint) (self->chunk_bytes / self->copy_job);
    pool_chunks = (pool_blocks + blocks_per_chunk - 1) / blocks_per_chunk;
    staging_chunks = (self->n_contexts + self->copy_areas_per_chunk - 1) /
        self->copy_areas_per_chunk;
    if (pool_chunks + staging_chunks <= VYRE_TENANT_CHUNKS_MAX)
      break;
  }
  pool_blocks = pool_chunks * blocks_per_chunk;   /* whole chunks */
  self->staging_base = (guint64) pool_chunks * self->chunk_bytes;
  guint64 arena = (guint64) (pool_chunks + staging_chunks) * self->chunk_bytes;
  /* This element's quota on the shared kernel: its job contexts (the
   * chain's, one per job in flight, and the src task's pieces) and its
   * arena.  The ring is the engine's; a full ring is back-pressure. */
  gchar *name = gst_object_get_name (GST_OBJECT (self));
  VyreTenantConfig cfg = {
    .name = name,
    .contexts = self->n_contexts + self->n_rescan_contexts,
    .arena_bytes = arena,.arena_chunk_bytes = self->chunk_bytes,
    .max_matches = self->kernel_max_matches,
    /* Whole words per carry window: the kernel reads the windows as
     * uints out of a buffer of contexts * max_carry bytes: with a stride
     * that is no multiple of 4 the last window's final bytes read as zero
     * (straddling matches were lost with ring-slots=2). */
    .max_carry = GST_ROUND_UP_4 (MAX (self->max_carry, 4u)),
    .tables = self->automaton->words,.table_words = self->automaton->n_words,
  };
  self->max_carry = MIN (self->max_carry, cfg.max_carry);
  self->tenant = vyre_megakernel_add_tenant (self->mk, &cfg, &err);
  g_free (name);
  if (self->tenant == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("Could not join the GPU scan kernel."), ("%s", err->message));
    g_error_free (err);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "tenant %u of the kernel on %s",
      vyre_tenant_id (self->tenant), vyre_device_name (self->device));
  self->record_events = vyre_megakernel_lanes (self->mk) *
      (self->kernel_max_matches / VYRE_RESULT_LANES);
  g_atomic_int_set (&self->job_now, (gint) self->job);
  self->sparse_jobs = 0;
  self->allocator = gst_vyre_allocator_new (tenant_reserve,
      self->block_size, 0, pool_blocks, self->tenant, tenant_ref,
      tenant_unref);
  self->ctx_free = g_malloc (self->n_contexts);
  memset (self->ctx_free, 1, self->n_contexts);
  self->ctx_free_count = self->n_contexts;
  self->ctx_wake_at = MAX (1u, self->n_contexts / 8);
  self->rescan_free = g_new (guint, self->n_rescan_contexts);
  for (guint i = 0; i < self->n_rescan_contexts; i++)
    self->rescan_free[i] = self->n_contexts + i;
  self->rescan_free_count = self->n_rescan_contexts;
  /* Expansion workers: the task alone expanded 9 ns per match on an H100's
   * host, the pipeline's limit on match-dense text.  A CPU device needs
   * the cores for the kernel itself.  VYRE_EXPAND_WORKERS overrides (tests
   * run several on a CPU device). */
  const gchar *wenv = g_getenv ("VYRE_EXPAND_WORKERS");
  guint workers = wenv ? (guint) CLAMP (g_ascii_strtoull (wenv, NULL, 10), 1,
      64) : vyre_device_is_cpu (self->device) ? 1 :
      CLAMP (g_get_num_processors () / 2, 1, 8);
  self->expand_pool = g_thread_pool_new (vyre_assembler_expand_job, self, (gint) workers,
      FALSE, NULL);
  self->expand_window = 4 * workers + 2;
  self->held = g_ptr_array_new ();
  self->not_stored_counts = g_new0 (guint64, MAX (1,
          self->pattern_list->len));
  self->pattern_counts = g_new0 (guint64, MAX (1, self->pattern_list->len));
  self->rescanned_jobs = self->rescan_pieces = 0;
  self->tail = g_malloc (MAX (self->max_carry, 1));
  self->epoch = 1;
  self->epoch_jobs = 0;
  self->warned_copy = FALSE;
  self->total_buffers = self->total_bytes = self->total_matches = 0;
  self->total_dropped = 0;
  self->total_epochs = 0;
  self->total_jobs = 0;
  self->torn_results = 0;
  memset (self->phase_ns, 0, sizeof self->phase_ns);
  self->phase_on = gst_debug_category_get_threshold (vyre_scan_debug) >=
      GST_LEVEL_INFO;
  reset_stream (self);
  vyre_assembler_reset (self);

  /* What is being scanned, for downstream (vyresink): device, patterns
   * in the patterns-file syntax. */
  GstStructure *info = gst_structure_new ("vyre-info",
      "device", G_TYPE_STRING, vyre_device_name (self->device), NULL);
  GValue list = G_VALUE_INIT;
  gst_value_array_init (&list, self->pattern_list->len);
  for (guint i = 0; i < self->pattern_list->len && (self->ops &
          GST_VYRE_SCAN_OPS_SCAN); i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_STRING);
    g_value_take_string (&v, vyre_pattern_escape (self->pattern_list->pdata[i]));
    gst_value_array_append_and_take_value (&list, &v);
  }
  gst_structure_take_value (info, "patterns", &list);
  gst_clear_event (&self->info_event);
  self->info_event = gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_STICKY,
      info);
  return TRUE;
}

static void
gst_vyre_scan_stop (GstVyreScan * self)
{
  g_clear_pointer (&self->pack, vyre_job_pack_free);
  drain_entries (self, FALSE);
  if (self->expand_pool) {
    g_thread_pool_free (self->expand_pool, FALSE, TRUE);
    self->expand_pool = NULL;
  }
  gst_clear_object (&self->allocator);
  g_clear_pointer (&self->tenant, vyre_tenant_unref);
  close_kernel (self);
  if (self->device) {
    vyre_device_unref (self->device);
    self->device = NULL;
  }
  gst_clear_event (&self->info_event);
  g_clear_pointer (&self->automaton, vyre_automaton_free);
  g_clear_pointer (&self->pattern_list, g_ptr_array_unref);
  g_clear_pointer (&self->pattern_len, g_free);
  g_clear_pointer (&self->ctx_free, g_free);
  g_clear_pointer (&self->rescan_free, g_free);
  g_clear_pointer (&self->not_stored_counts, g_free);
  g_clear_pointer (&self->pattern_counts, g_free);
  g_clear_pointer (&self->held, g_ptr_array_unref);
  g_clear_pointer (&self->tail, g_free);
  self->ctx_free_count = 0;
}

static GstStateChangeReturn
gst_vyre_scan_change_state (GstElement * element, GstStateChange transition)
{
  GstVyreScan *self = GST_VYRE_SCAN (element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY)
    begin_open (self);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED &&
      !gst_vyre_scan_start (self)) {
    gst_vyre_scan_stop (self);
    return GST_STATE_CHANGE_FAILURE;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (gst_vyre_scan_parent_class)->change_state (element,
      transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_vyre_scan_stop (self);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL ||
      (transition == GST_STATE_CHANGE_NULL_TO_READY &&
          ret == GST_STATE_CHANGE_FAILURE)) {
    /* Ends an opening never taken over: for no engine, its kernel is
     * released. */
    end_open (self, NULL, NULL);
  }
  return ret;
}

/* ------------------------------------------------------------------ */
/* properties                                                          */

static void
gst_vyre_scan_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVyreScan *self = GST_VYRE_SCAN (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PATTERNS:
      g_free (self->patterns);
      self->patterns = g_value_dup_string (value);
      break;
    case PROP_PATTERNS_FILE:
      g_free (self->patterns_file);
      self->patterns_file = g_value_dup_string (value);
      break;
    case PROP_IGNORE_CASE:
      self->ignore_case = g_value_get_boolean (value);
      break;
    case PROP_OPS:
      self->ops = g_value_get_flags (value);
      break;
    case PROP_RING_SLOTS:
      self->ring_slots = g_value_get_uint (value);
      break;
    case PROP_MAX_MATCHES:
      self->max_matches = g_value_get_uint (value);
      break;
    case PROP_STORE_MATCHES:
      self->store_matches = g_value_get_boolean (value);
      break;
    case PROP_EPOCH_BUFFERS:
      self->epoch_buffers = g_value_get_uint (value);
      break;
    case PROP_DEVICE:
      self->device_index = g_value_get_int (value);
      break;
    case PROP_BLOCK_SIZE:
      self->block_size = g_value_get_uint (value);
      break;
    case PROP_JOB_SIZE:
      self->job_size = g_value_get_uint (value);
      break;
    case PROP_TIMEOUT:
      self->timeout_ms = g_value_get_uint (value);
      break;
    case PROP_ENGINE_LINGER:
      self->engine_linger = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vyre_scan_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstVyreScan *self = GST_VYRE_SCAN (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PATTERNS:
      g_value_set_string (value, self->patterns);
      break;
    case PROP_PATTERNS_FILE:
      g_value_set_string (value, self->patterns_file);
      break;
    case PROP_IGNORE_CASE:
      g_value_set_boolean (value, self->ignore_case);
      break;
    case PROP_OPS:
      g_value_set_flags (value, self->ops);
      break;
    case PROP_RING_SLOTS:
      g_value_set_uint (value, self->ring_slots);
      break;
    case PROP_MAX_MATCHES:
      g_value_set_uint (value, self->max_matches);
      break;
    case PROP_STORE_MATCHES:
      g_value_set_boolean (value, self->store_matches);
      break;
    case PROP_EPOCH_BUFFERS:
      g_value_set_uint (value, self->epoch_buffers);
      break;
    case PROP_DEVICE:
      g_value_set_int (value, self->device_index);
      break;
    case PROP_BLOCK_SIZE:
      g_value_set_uint (value, self->block_size);
      break;
    case PROP_JOB_SIZE:
      g_value_set_uint (value, self->job_size);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout_ms);
      break;
    case PROP_ENGINE_STATS:
      g_value_take_boxed (value, self->engine ?
          vyre_engine_stats (self->engine) : NULL);
      break;
    case PROP_ENGINE_LINGER:
      g_value_set_uint (value, self->engine_linger != G_MAXUINT ?
          self->engine_linger : self->engine ?
          vyre_engine_get_linger (self->engine) : VYRE_ENGINE_DEFAULT_LINGER_MS);
      break;
    case PROP_DEVICE_NAME:
      g_value_set_string (value, self->device ?
          vyre_device_name (self->device) : NULL);
      break;
    case PROP_BYTES_COPIED:
      g_value_set_uint64 (value, self->bytes_copied);
      break;
    case PROP_BUFFERS_COPIED:
      g_value_set_uint64 (value, self->buffers_copied);
      break;
    case PROP_FILES_PACKED:
      g_value_set_uint64 (value, self->files_packed);
      break;
    case PROP_JOBS:
      g_value_set_uint64 (value, self->total_jobs);
      break;
    case PROP_JOBS_SCANNED_AGAIN:
      g_value_set_uint64 (value, self->rescanned_jobs);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vyre_scan_finalize (GObject * object)
{
  GstVyreScan *self = GST_VYRE_SCAN (object);
  g_free (self->patterns);
  g_free (self->patterns_file);
  g_array_unref (self->matches);
  g_array_unref (self->not_stored_touched);
  g_array_unref (self->counted_ids);
  g_queue_clear (&self->entries);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  end_open (self, NULL, NULL);  /* disposed in READY (GStreamer warns) */
  if (self->engine)
    vyre_engine_unref (self->engine);
  G_OBJECT_CLASS (gst_vyre_scan_parent_class)->finalize (object);
}

static void
gst_vyre_scan_class_init (GstVyreScanClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_vyre_scan_set_property;
  gobject_class->get_property = gst_vyre_scan_get_property;
  gobject_class->finalize = gst_vyre_scan_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_vyre_scan_change_state);
  element_class->set_context = GST_DEBUG_FUNCPTR (gst_vyre_scan_set_context);

  g_object_class_install_property (gobject_class, PROP_PATTERNS,
      g_param_spec_string ("patterns", "Patterns",
          "Literals to find, separated by commas: patterns=GNU, "
          "patterns=\"password,BEGIN RSA\" or "
          "patterns=\"<password,BEGIN RSA>\"; escapes \\\\ \\n \\r \\t "
          "\\xHH, a comma is \\x2C; gst-launch-1.0 removes one level of "
          "backslashes, so in a shell type two inside single quotes: "
          "patterns='PK\\\\x03\\\\x04,\\\\x00\\\\xffEOF'; repeated "
          "literals are scanned once", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_PATTERNS_FILE,
      g_param_spec_string ("patterns-file", "Patterns file",
          "File with one literal per line; empty lines and lines starting "
          "with # are ignored; escapes \\\\ \\n \\r \\t \\xHH (\\x23 is a "
          "literal leading #)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_IGNORE_CASE,
      g_param_spec_boolean ("ignore-case", "Ignore case",
          "Match ASCII letters case-insensitively", DEFAULT_IGNORE_CASE, rw));
  g_object_class_install_property (gobject_class, PROP_OPS,
      g_param_spec_flags ("ops", "Operations",
          "What the GPU computes for every buffer", GST_TYPE_VYRE_SCAN_OPS,
          DEFAULT_OPS, rw));
  g_object_class_install_property (gobject_class, PROP_RING_SLOTS,
      g_param_spec_uint ("ring-slots", "Ring slots",
          "Jobs in flight on the GPU (the kernel runs one workgroup per "
          "slot); the element blocks when all are busy.  0: 512 on a GPU, "
          "32 on a CPU device; values below 2 mean 2", 0, 4096,
          DEFAULT_RING_SLOTS, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_MATCHES,
      g_param_spec_uint ("max-matches-per-buffer", "Max matches per buffer",
          "At most this many matches stored per buffer (0: no limit).  Every "
          "match is found and counted whatever the limit: the rest are "
          "counted per pattern as not stored", 0, G_MAXUINT,
          DEFAULT_MAX_MATCHES, rw));
  g_object_class_install_property (gobject_class, PROP_STORE_MATCHES,
      g_param_spec_boolean ("store-matches", "Store matches",
          "FALSE: only count matches (per pattern, exactly), store none",
          DEFAULT_STORE_MATCHES, rw));
  g_object_class_install_property (gobject_class, PROP_EPOCH_BUFFERS,
      g_param_spec_uint ("epoch-buffers", "Epoch buffers",
          "A batch fence every N buffers and at EOS (0: only at EOS)", 0,
          G_MAXUINT32, DEFAULT_EPOCH_BUFFERS, rw));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_int ("device", "Device",
          "Vulkan device index (-1: first discrete GPU, then integrated, then "
          "CPU); the VYRE_DEVICE environment variable overrides it", -1,
          G_MAXINT, DEFAULT_DEVICE, rw));
  g_object_class_install_property (gobject_class, PROP_BLOCK_SIZE,
      g_param_spec_uint ("block-size", "Block size",
          "Size in bytes of the GPU-readable buffers offered upstream "
          "(a zero-copy source reads at most this much per buffer)",
          4096, 64 << 20, DEFAULT_BLOCK_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_JOB_SIZE,
      g_param_spec_uint ("job-size", "Job size",
          "Largest GPU job in bytes: a larger buffer is split into jobs that "
          "different workgroups scan at once (matches across the cuts are "
          "found exactly once).  0: 256 KiB on a GPU (at most block-size; "
          "64 KiB for buffers that must be copied), "
          "block-size, at most 4 MiB, on a CPU device; values below 256 mean 256.  "
          "Jobs shrink while dense matches outgrow their event records (each "
          "such job is scanned again in pieces) and grow back on sparse data", 0,
          64 << 20, DEFAULT_JOB_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Milliseconds without any completed job before the kernel is "
          "declared hung", 100, G_MAXUINT32, DEFAULT_TIMEOUT_MS, rw));
  g_object_class_install_property (gobject_class, PROP_ENGINE_LINGER,
      g_param_spec_uint ("engine-linger", "Engine linger",
          "Milliseconds the shared scan engine (device and resident kernel) "
          "stays up after its last vyrescan stopped, so the next pipeline "
          "starts at once; 0 releases it at once.  Default: "
          "VYRE_ENGINE_LINGER_MS, else 5000.  Applies to the whole engine",
          0, G_MAXUINT32 - 1, VYRE_ENGINE_DEFAULT_LINGER_MS, rw));
  g_object_class_install_property (gobject_class, PROP_ENGINE_STATS,
      g_param_spec_boxed ("engine-stats", "Engine statistics",
          "The shared engine this element uses (NULL before READY->PAUSED "
          "found one): a vyre-engine structure with device, resident, "
          "kernels (created so far), active (users now), tenants, "
          "poller-wakes (waits for a job that outlasted a 500 us spin and "
          "slept until the engine's poller thread woke them), memory-bytes "
          "(device memory of its tenants: arena and result chunks are "
          "allocated as jobs first need them, so this grows with what was "
          "in flight, plus memory of stopped tenants kept for later ones) "
          "and linger-ms",
          GST_TYPE_STRUCTURE, ro));
  g_object_class_install_property (gobject_class, PROP_DEVICE_NAME,
      g_param_spec_string ("device-name", "Device name",
          "The Vulkan device in use (from PAUSED on)", NULL, ro));
  g_object_class_install_property (gobject_class, PROP_BYTES_COPIED,
      g_param_spec_uint64 ("bytes-copied", "Bytes copied",
          "Bytes copied into GPU-readable memory because upstream memory was "
          "not (0 means zero-copy)", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_BUFFERS_COPIED,
      g_param_spec_uint64 ("buffers-copied", "Buffers copied",
          "Buffers that had to be copied", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_FILES_PACKED,
      g_param_spec_uint64 ("files-packed", "Files packed",
          "Small whole files (from vyreurisrc) scanned several to a GPU job, "
          "side by side in GPU memory, instead of one job each", 0,
          G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_JOBS,
      g_param_spec_uint64 ("jobs", "Jobs",
          "GPU jobs whose results came back since the element started "
          "(buffers are cut into jobs of job-size; small files share one)", 0,
          G_MAXUINT64, 0, ro));
  g_object_class_install_property (gobject_class, PROP_JOBS_SCANNED_AGAIN,
      g_param_spec_uint64 ("jobs-scanned-again", "Jobs scanned again",
          "Jobs that found more match events than their records hold and "
          "were scanned again in pieces (dense matches; the job size then "
          "shrinks)", 0, G_MAXUINT64, 0, ro));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "vyre GPU scanner",
      "Filter/Analyzer",
      "Scans every buffer on a persistent Vulkan compute kernel: "
      "multi-literal matches, CRC-32 and byte histogram as GstVyreScanMeta",
      "gst-vyre developers");
  gst_type_mark_as_plugin_api (GST_TYPE_VYRE_SCAN_OPS, 0);
}

static void
gst_vyre_scan_init (GstVyreScan * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_vyre_scan_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_vyre_scan_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_vyre_scan_sink_query));
  gst_pad_set_activatemode_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_vyre_scan_sink_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_vyre_scan_src_query));
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_vyre_scan_src_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->ignore_case = DEFAULT_IGNORE_CASE;
  self->ops = DEFAULT_OPS;
  self->ring_slots = DEFAULT_RING_SLOTS;
  self->max_matches = DEFAULT_MAX_MATCHES;
  self->store_matches = DEFAULT_STORE_MATCHES;
  self->epoch_buffers = DEFAULT_EPOCH_BUFFERS;
  self->device_index = DEFAULT_DEVICE;
  self->engine_linger = G_MAXUINT;
  self->block_size = DEFAULT_BLOCK_SIZE;
  self->job_size = DEFAULT_JOB_SIZE;
  self->timeout_ms = DEFAULT_TIMEOUT_MS;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->entries);
  self->matches = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  self->not_stored_touched = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->counted_ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->flow = GST_FLOW_FLUSHING;       /* until the src pad is active */
}
