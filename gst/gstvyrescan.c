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
#include <time.h>

#include "gstvyrememory.h"
#include "gstvyrescanmeta.h"
#include "vyre-automaton.h"
#include "vyre-crc32.h"
#include "vyre-device.h"
#include "vyre-match-events.h"
#include "vyre-result-read.h"
#include "vyre-engine.h"
#include "vyre-job-pack.h"
#include "vyre-megakernel.h"
#include "vyre-patterns.h"

GST_DEBUG_CATEGORY_STATIC (vyre_scan_debug);
#define GST_CAT_DEFAULT vyre_scan_debug
GST_DEBUG_CATEGORY_EXTERN (GST_CAT_PERFORMANCE);

#define DEFAULT_IGNORE_CASE FALSE
#define DEFAULT_OPS (GST_VYRE_SCAN_OPS_SCAN | GST_VYRE_SCAN_OPS_CRC32 | \
    GST_VYRE_SCAN_OPS_HISTOGRAM)
/* 0 = chosen by device (see choose_geometry) */
#define DEFAULT_RING_SLOTS 0
#define DEFAULT_JOB_SIZE 0
#define GPU_RING_SLOTS 512
#define CPU_RING_SLOTS 32
#define GPU_JOB_SIZE (256 * 1024)
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
#define DEFAULT_DISPATCH GST_VYRE_SCAN_DISPATCH_PERSISTENT
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
  PROP_DISPATCH,
  PROP_DEVICE,
  PROP_BLOCK_SIZE,
  PROP_JOB_SIZE,
  PROP_TIMEOUT,
  PROP_DEVICE_NAME,
  PROP_BYTES_COPIED,
  PROP_BUFFERS_COPIED,
  PROP_FILES_PACKED,
  PROP_ENGINE_LINGER,
  PROP_ENGINE_STATS,
};

/* Where the host's time goes, summed per phase while the vyrescan debug
 * category is at INFO or more, and logged at EOS: what to look at when
 * the pipeline is slower than the kernel (bench_resident). */
typedef enum
{
  PH_CHAIN,                     /* all of chain(), streaming thread */
  PH_CHAIN_CONTEXT,             /* of which: waiting for a free job context */
  PH_CHAIN_SUBMIT,              /* of which: publishing (ring full: waiting) */
  PH_TASK_IDLE,                 /* src task: nothing queued */
  PH_TASK_WAIT_GPU,             /* src task: the oldest job not done yet */
  PH_TASK_COLLECT,              /* src task: reading a job's results */
  PH_TASK_FINISH,               /* src task: sorting, meta */
  PH_TASK_PUSH,                 /* src task: downstream (vyresink) */
  N_PHASES
} Phase;
static const char *const phase_names[N_PHASES] = {
  "chain", "chain-context", "chain-submit", "task-idle", "task-wait-gpu",
  "task-collect", "task-finish", "task-push"
};

static inline gint64
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define PHASE_START(self) (G_UNLIKELY ((self)->phase_on) ? now_ns () : 0)
#define PHASE_ADD(self, ph, t0) G_STMT_START { \
    if (G_UNLIKELY ((self)->phase_on)) \
      (self)->phase_ns[ph] += now_ns () - (t0); \
  } G_STMT_END

/* One entry of the in-order queue between chain and the src task. */
typedef enum
{
  ENTRY_JOB,                    /* a data job: one chunk of a buffer */
  ENTRY_FENCE,                  /* a batch fence */
  ENTRY_EVENT,                  /* a serialized event, kept in order */
} EntryKind;

typedef struct
{
  EntryKind kind;
  vyre_ticket ticket;
  guint ctx;                    /* job context (ENTRY_JOB) */
  guint64 len;                  /* bytes of the chunk */
  /* where the job's bytes and carry are, to scan it again in pieces */
  guint64 arena_offset;
  guint64 stream_offset;
  guint carry_len;
  gboolean carry_in_arena;
  /* After its completion (task): dispatched; its matches expanded by a
   * worker of expand_pool or by the task itself: expanded (under lock). */
  gboolean dispatched;
  gboolean expanded;
  vyre_completion comp;
  GArray *matches;              /* GstVyreMatch of this job */
  GArray *not_stored;           /* guint32 pattern ids (store-matches=false) */
  guint64 dropped;              /* matches not stored */
  guint64 torn;                 /* result records read again until whole */
  guint corrupt;
  GError *error;
  guint32 epoch;
  GstBuffer *buffer;            /* on the buffer's last chunk */
  guint64 buffer_offset;        /* stream offset of the buffer */
  VyreJobPack *pack;            /* instead: the small files of the job */
  GstEvent *event;
} Entry;

struct _GstVyreScan
{
  GstElement parent;
  GstPad *sinkpad, *srcpad;

  /* properties (object lock) */
  gchar *patterns;
  gchar *patterns_file;
  gboolean ignore_case;
  guint ops;
  guint ring_slots;
  guint max_matches;
  gboolean store_matches;
  guint epoch_buffers;
  GstVyreScanDispatch dispatch;
  gint device_index;
  guint block_size;
  guint job_size;
  guint timeout_ms;

  /* The engine this element is a tenant of (GstContext "vyre.engine"):
   * kept across NULL, so a pipeline set to PLAYING again rejoins it. */
  VyreEngine *engine;
  guint engine_linger;          /* property; G_MAXUINT = not set */

  /* set up in READY->PAUSED */
  VyreDevice *device;
  VyreMegakernel *mk;           /* the engine's kernel, or a private one
                                   (dispatch=per-buffer) */
  gboolean mk_is_private;
  VyreTenant *tenant;
  VyreAutomaton *automaton;
  GPtrArray *pattern_list;      /* GBytes */
  guint max_pattern_len;
  guint *pattern_len;           /* bytes of each pattern, by id */
  guint max_carry;
  guint kernel_max_matches;     /* event records per job context */
  guint n_rescan_contexts;      /* after the chain's n_contexts */
  /* Jobs' events are expanded into matches by these workers while the
   * task waits for the next completions; the task keeps up to
   * expand_window entries dispatched ahead of the one it pushes. */
  GThreadPool *expand_pool;
  guint expand_window;
  guint *rescan_free;           /* task only: free rescan contexts, a stack */
  guint rescan_free_count;
  guint slots;                  /* ring slots in use (ring-slots or auto) */
  guint job;                    /* bytes per GPU job (job-size or auto) */
  guint copy_job;               /* same for copied buffers: the size of each
                                   context's copy area */
  guint64 staging_base;         /* arena offset of context 0's copy area */
  GstAllocator *allocator;      /* pool blocks of the arena */
  GstEvent *info_event;         /* vyre-info, sent after stream-start */
  guint n_contexts;

  /* streaming state (lock) */
  GMutex lock;
  GCond cond;                   /* any change: entry queued or done, flush */
  guint waiters;                /* threads in wait_locked(), but ... */
  guint ctx_waiters;            /* ... the chain waiting for contexts */
  guint ctx_wake_at;            /* wake it when this many are free */
  GQueue entries;               /* Entry*, oldest first */
  guint8 *ctx_free;             /* per context: 1 = free */
  guint ctx_free_count;
  /* GstFlowReturn, atomic (written under lock, with a broadcast):
   * FLUSHING while flushing or inactive, else the src task's last
   * downstream result.  Non-OK cancels every wait of chain and task. */
  gint flow;
  gboolean eos;

  /* chain-only state (streaming thread) */
  guint64 next_offset;          /* expected stream offset of the next byte */
  VyreJobPack *pack;            /* small whole files not yet published */
  guint8 *tail;                 /* last max_carry bytes of the stream */
  guint tail_len;
  guint32 epoch;                /* open epoch, 1-based */
  guint32 epoch_jobs;           /* data jobs published in it */
  guint32 epoch_buffer_count;   /* buffers in it */
  gboolean warned_copy;

  /* task-only state: the buffer being assembled from its chunks */
  GArray *matches;              /* GstVyreMatch */
  guint64 found, dropped;
  guint64 *not_stored_counts;   /* per pattern, folded from not_stored */
  GArray *not_stored_touched;   /* guint32 ids whose count is not 0 */
  guint32 crc;
  guint64 crc_len;
  guint32 hist[256];
  guint64 torn_results;         /* result records read again until whole */
  guint64 rescanned_jobs;       /* jobs whose events outgrew their record */
  guint64 rescan_pieces;        /* pieces those were scanned again in */

  /* task-only totals, logged at EOS */
  guint64 total_buffers, total_bytes, total_matches, total_dropped;
  guint64 total_jobs;
  /* phases: chain ones written by the streaming thread, task ones by the
   * task; read by the task at EOS, after the EOS entry passed the lock */
  gboolean phase_on;
  gint64 phase_ns[N_PHASES];
  guint32 total_epochs;

  /* statistics (object lock) */
  guint64 bytes_copied;
  guint64 buffers_copied;
  guint64 files_packed;
  guint64 packed_jobs;
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

GType
gst_vyre_scan_dispatch_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VYRE_SCAN_DISPATCH_PERSISTENT,
        "One resident kernel polls the ring", "persistent"},
    {GST_VYRE_SCAN_DISPATCH_PER_BUFFER,
          "One vkQueueSubmit and fence wait per job (for comparison)",
        "per-buffer"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVyreScanDispatch", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------ */
/* Entries and contexts                                                */

static void
entry_free (Entry * e)
{
  gst_clear_buffer (&e->buffer);
  g_clear_pointer (&e->pack, vyre_job_pack_free);
  gst_clear_event (&e->event);
  if (e->matches)
    g_array_unref (e->matches);
  if (e->not_stored)
    g_array_unref (e->not_stored);
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
static void
wait_locked (GstVyreScan * self, guint * counter, gint64 timeout_us)
{
  (*counter)++;
  g_cond_wait_until (&self->cond, &self->lock, g_get_monotonic_time () +
      timeout_us);
  (*counter)--;
}

static void
wake_locked (GstVyreScan * self)
{
  if (self->waiters || (self->ctx_waiters &&
          self->ctx_free_count >= self->ctx_wake_at))
    g_cond_broadcast (&self->cond);
}

/* Wait until a job context is free.  Returns FLUSHING when flushing, and
 * the src task's result once it stopped (an error, not-linked...): it
 * frees no context any more, so waiting on would never end.  Lock held. */
static GstFlowReturn
acquire_context_locked (GstVyreScan * self, guint * ctx)
{
  while (self->ctx_free_count == 0) {
    GstFlowReturn flow = g_atomic_int_get (&self->flow);
    if (flow != GST_FLOW_OK)
      return flow;
    wait_locked (self, &self->ctx_waiters, 100 * G_TIME_SPAN_MILLISECOND);
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

static void
release_context_locked (GstVyreScan * self, guint ctx)
{
  if (!self->ctx_free[ctx]) {
    self->ctx_free[ctx] = 1;
    self->ctx_free_count++;
  }
  wake_locked (self);
}

static void
queue_entry (GstVyreScan * self, Entry * e)
{
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->entries, e);
  wake_locked (self);
  g_mutex_unlock (&self->lock);
}

/* Publish a job, blocking while the ring is full (back-pressure).  Returns
 * GST_FLOW_FLUSHING when a flush interrupted the wait. */
static GstFlowReturn
submit_job (GstVyreScan * self, vyre_job * job, vyre_ticket * ticket)
{
  for (;;) {
    GError *err = NULL;
    VyreMkStatus st = vyre_tenant_submit (self->tenant, job, ticket, &err);
    if (st == VYRE_MK_OK)
      return GST_FLOW_OK;
    if (st == VYRE_MK_ERROR) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Could not hand a buffer to the GPU."), ("%s", err->message));
      g_error_free (err);
      return GST_FLOW_ERROR;
    }
    /* Ring full: wait for the task to complete something (unless it
     * stopped: then nothing completes any more). */
    g_mutex_lock (&self->lock);
    GstFlowReturn flow = g_atomic_int_get (&self->flow);
    if (flow != GST_FLOW_OK) {
      g_mutex_unlock (&self->lock);
      return flow;
    }
    wait_locked (self, &self->waiters, 2 * G_TIME_SPAN_MILLISECOND);
    g_mutex_unlock (&self->lock);
  }
}

/* Close the open epoch with an ordered fence (if it has jobs). */
static GstFlowReturn publish_pack (GstVyreScan * self);

static GstFlowReturn
publish_fence (GstVyreScan * self)
{
  GstFlowReturn ret = publish_pack (self);
  if (ret != GST_FLOW_OK)
    return ret;
  if (self->epoch_jobs == 0)
    return GST_FLOW_OK;
  vyre_job job = { 0 };
  job.opcode = VYRE_OP_BATCH_FENCE;
  job.epoch = self->epoch;
  job.data_len = self->epoch_jobs;      /* FENCE_JOBS */
  job.tag = self->epoch;
  Entry *e = g_new0 (Entry, 1);
  e->kind = ENTRY_FENCE;
  e->epoch = self->epoch;
  ret = submit_job (self, &job, &e->ticket);
  if (ret != GST_FLOW_OK) {
    entry_free (e);
    return ret;
  }
  queue_entry (self, e);
  self->epoch++;
  self->epoch_jobs = 0;
  self->epoch_buffer_count = 0;
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------ */
/* chain: buffers in                                                   */

static void
remember_tail (GstVyreScan * self, const guint8 * data, gsize len)
{
  if (self->max_carry == 0)
    return;
  if (len >= self->max_carry) {
    memcpy (self->tail, data + len - self->max_carry, self->max_carry);
    self->tail_len = self->max_carry;
  } else {
    guint keep = MIN (self->tail_len, self->max_carry - (guint) len);
    memmove (self->tail, self->tail + self->tail_len - keep, keep);
    memcpy (self->tail + keep, data, len);
    self->tail_len = keep + (guint) len;
  }
}

/* The stream's remembered tail into context ctx's carry window, for a
 * job whose carry is not in the arena.  Returns the carry length.  Must
 * run before remember_tail() takes the job's own bytes. */
static guint
window_carry (GstVyreScan * self, guint ctx)
{
  if (self->tail_len)
    memcpy (vyre_tenant_carry_window (self->tenant, ctx), self->tail,
        self->tail_len);
  return self->tail_len;
}

/* One job: len bytes (at most the job size) already in the arena at
 * arena_offset, with carry_len bytes of carry: in the context's window, or
 * (carry_in_arena) the bytes right before the data, when the job is not the
 * first of its buffer.  last_of: the buffer this job completes, handed to
 * the src task with it. */
static GstFlowReturn
publish_job (GstVyreScan * self, guint ctx, guint64 arena_offset, gsize len,
    guint64 stream_offset, guint carry_len, gboolean carry_in_arena,
    GstBuffer * last_of, guint64 buffer_offset, VyreJobPack * pack)
{
  vyre_job job = { 0 };
  job.opcode = VYRE_OP_SCAN;
  job.ops = self->ops;
  job.data_offset = arena_offset;
  job.data_len = (guint32) len;
  job.stream_offset = stream_offset;
  job.carry_len = carry_len;
  job.carry_in_arena = carry_in_arena;
  job.epoch = self->epoch;
  job.result_index = ctx;
  job.tag = ctx;

  Entry *e = g_new0 (Entry, 1);
  e->kind = ENTRY_JOB;
  e->ctx = ctx;
  e->len = len;
  e->arena_offset = arena_offset;
  e->stream_offset = stream_offset;
  e->carry_len = carry_len;
  e->carry_in_arena = carry_in_arena;
  e->epoch = self->epoch;
  e->buffer = last_of;
  e->buffer_offset = buffer_offset;
  e->pack = pack;
  gint64 t0 = PHASE_START (self);
  GstFlowReturn ret = submit_job (self, &job, &e->ticket);
  PHASE_ADD (self, PH_CHAIN_SUBMIT, t0);
  if (ret != GST_FLOW_OK) {
    e->buffer = NULL;           /* the caller still owns it (not a pack) */
    entry_free (e);
    g_mutex_lock (&self->lock);
    release_context_locked (self, ctx);
    g_mutex_unlock (&self->lock);
    return ret;
  }
  self->epoch_jobs++;
  queue_entry (self, e);
  return GST_FLOW_OK;
}

static GstFlowReturn
take_context (GstVyreScan * self, guint * ctx)
{
  gint64 t0 = PHASE_START (self);
  g_mutex_lock (&self->lock);
  GstFlowReturn ret = acquire_context_locked (self, ctx);
  g_mutex_unlock (&self->lock);
  PHASE_ADD (self, PH_CHAIN_CONTEXT, t0);
  return ret;
}

/* A buffer in our own arena: no copy.  It is cut into jobs of the job size
 * so that several workgroups scan it at once; every job after the first
 * reads its carry (the bytes a straddling match needs) from the arena. */
static GstFlowReturn
publish_in_place (GstVyreScan * self, GstBuffer * buf, guint64 arena_offset,
    gsize size, guint64 offset)
{
  const guint8 *bytes = vyre_tenant_arena (self->tenant) + arena_offset;
  GstFlowReturn ret = GST_FLOW_OK;
  gsize done = 0;
  do {
    gsize n = MIN (size - done, (gsize) self->job);
    gboolean last = done + n == size;
    guint ctx;
    if ((ret = take_context (self, &ctx)) != GST_FLOW_OK)
      break;
    guint carry;
    gboolean in_arena = done > 0 && self->max_carry > 0;
    if (in_arena)
      carry = (guint) MIN ((gsize) self->max_carry, done);
    else
      carry = window_carry (self, ctx);
    /* Nothing of the buffer may be touched once its last job went to the
     * src task, which can push (and downstream free) it right away. */
    if (last)
      remember_tail (self, bytes, size);
    ret = publish_job (self, ctx, arena_offset + done, n, offset + done,
        carry, in_arena, last ? buf : NULL, offset, NULL);
    if (ret == GST_FLOW_OK && last)
      return GST_FLOW_OK;
    done += n;
  } while (ret == GST_FLOW_OK);
  gst_buffer_unref (buf);
  return ret;
}

/* Foreign memory: copied into the contexts' copy areas, job by job. */
static GstFlowReturn
publish_copied (GstVyreScan * self, GstBuffer * buf, gsize size,
    guint64 offset)
{
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not read a buffer."),
        ("gst_buffer_map failed for a %" G_GSIZE_FORMAT "-byte buffer",
            size));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  if (!self->warned_copy) {
    GST_CAT_INFO_OBJECT (GST_CAT_PERFORMANCE, self, "upstream memory is "
        "not GPU-readable: copying every buffer into the arena (use "
        "vyreurisrc, or an upstream element that takes our allocator)");
    self->warned_copy = TRUE;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  gsize done = 0;
  gboolean buf_taken = FALSE, mapped = TRUE;
  /* do: an empty buffer still passes, as an empty job (in order, with a
   * meta like any other). */
  do {
    gsize n = MIN (size - done, (gsize) self->copy_job);
    guint ctx;
    if ((ret = take_context (self, &ctx)) != GST_FLOW_OK)
      break;
    guint64 arena = self->staging_base + (guint64) ctx * self->copy_job;
    memcpy (vyre_tenant_arena (self->tenant) + arena, map.data + done, n);
    guint carry = window_carry (self, ctx);
    remember_tail (self, map.data + done, n);
    gboolean last = done + n == size;
    /* With its last job the buffer goes to the src task, which may push
     * and free it at once: unmap before. */
    if (last) {
      gst_buffer_unmap (buf, &map);
      mapped = FALSE;
    }
    ret = publish_job (self, ctx, arena, n, offset + done, carry, FALSE,
        last ? buf : NULL, offset, NULL);
    buf_taken = last && ret == GST_FLOW_OK;
    done += n;
  } while (ret == GST_FLOW_OK && done < size);
  if (mapped)
    gst_buffer_unmap (buf, &map);
  GST_OBJECT_LOCK (self);
  self->bytes_copied += done;
  self->buffers_copied++;
  GST_OBJECT_UNLOCK (self);
  if (!buf_taken)
    gst_buffer_unref (buf);     /* error or flush */
  return ret;
}

/* The open pack of small files as one job (nothing when none is open).
 * Its files are whole: no carry into the first, none out of the last. */
static GstFlowReturn
publish_pack (GstVyreScan * self)
{
  VyreJobPack *pack = self->pack;
  if (pack == NULL)
    return GST_FLOW_OK;
  self->pack = NULL;
  self->tail_len = 0;
  if (pack->n_buffers > 1) {
    GST_OBJECT_LOCK (self);
    self->files_packed += pack->n_buffers;
    self->packed_jobs++;
    GST_OBJECT_UNLOCK (self);
  }
  guint ctx;
  GstFlowReturn ret = take_context (self, &ctx);
  if (ret != GST_FLOW_OK) {
    vyre_job_pack_free (pack);
    return ret;
  }
  return publish_job (self, ctx, pack->arena_offset, pack->len,
      pack->stream_offset, 0, FALSE, NULL, pack->stream_offset, pack);
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

  gsize size = gst_buffer_get_size (buf);
  guint64 offset = GST_BUFFER_OFFSET_IS_VALID (buf) ?
      GST_BUFFER_OFFSET (buf) : self->next_offset;
  /* A jump in the stream (seek, gap, DISCONT): no carry across it. */
  if (offset != self->next_offset || GST_BUFFER_IS_DISCONT (buf))
    self->tail_len = 0;
  self->next_offset = offset + size;

  guint64 arena_offset = 0;
  gint64 t0 = PHASE_START (self);
  gboolean in_arena = gst_buffer_n_memory (buf) == 1 && size > 0 &&
      gst_vyre_memory_arena_offset (gst_buffer_peek_memory (buf, 0),
      GST_VYRE_ALLOCATOR (self->allocator), &arena_offset);
  if ((in_arena || size == 0) && vyre_job_pack_takes (buf, size, self->job)) {
    /* A small whole file: scanned with its neighbours as one job. */
    if (self->pack && !vyre_job_pack_continues (self->pack, buf,
            arena_offset, size))
      ret = publish_pack (self);
    if (ret == GST_FLOW_OK) {
      if (self->pack == NULL)
        self->pack = vyre_job_pack_new (self->job);
      vyre_job_pack_add_buffer (self->pack, buf, arena_offset);
    } else
      gst_buffer_unref (buf);
  } else if ((ret = publish_pack (self)) != GST_FLOW_OK)
    gst_buffer_unref (buf);
  else if (in_arena)
    ret = publish_in_place (self, buf, arena_offset, size, offset);
  else
    ret = publish_copied (self, buf, size, offset);
  PHASE_ADD (self, PH_CHAIN, t0);
  if (ret != GST_FLOW_OK)
    return ret;

  if (self->epoch_buffers && ++self->epoch_buffer_count >= self->epoch_buffers)
    ret = publish_fence (self);
  return ret;
}

/* ------------------------------------------------------------------ */
/* src task: completions out, in order                                 */

static void
reset_assembly (GstVyreScan * self)
{
  g_array_set_size (self->matches, 0);
  for (guint i = 0; i < self->not_stored_touched->len; i++)
    self->not_stored_counts[g_array_index (self->not_stored_touched, guint32,
            i)] = 0;
  g_array_set_size (self->not_stored_touched, 0);
  self->found = self->dropped = 0;
  self->crc = 0;
  self->crc_len = 0;
  memset (self->hist, 0, sizeof self->hist);
}

/* The matches of completed job e's events (the record of context ctx),
 * appended to e's own arrays: every match when they are stored (a limit
 * applies when the buffer is finished), only the pattern ids with
 * store-matches=false.  Reads only e, the record and the table: workers run
 * it on several jobs at once. */
static gboolean
read_events (GstVyreScan * self, Entry * e, guint ctx,
    const vyre_completion * c, GError ** error)
{
  /* (A job that stored no events reads nothing: each read of result
   * memory the GPU just wrote is a cache miss.) */
  if (e->matches == NULL)
    e->matches = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  /* A pack's matches are split among its files by offset: all read. */
  gboolean store = self->store_matches || e->pack != NULL;
  if (!store && e->not_stored == NULL)
    e->not_stored = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint room = store ? G_MAXUINT - e->matches->len : 0;
  return vyre_result_read_events (self->automaton->words,
      vyre_tenant_result (self->tenant, ctx), self->kernel_max_matches, c,
      room, e->matches, e->not_stored, &e->dropped, &e->corrupt, &e->torn,
      error);
}

/* Count `id` once more among the buffer's matches that are not stored. */
static inline void
count_not_stored (GstVyreScan * self, guint32 id, guint64 n)
{
  if (self->not_stored_counts[id] == 0)
    g_array_append_val (self->not_stored_touched, id);
  self->not_stored_counts[id] += n;
}

/* A piece of a job scanned again: [off, off + len) of the job's bytes. */
typedef struct
{
  guint64 off;
  guint64 len;
  gboolean published;
  guint ctx;
  vyre_ticket ticket;
} Piece;

/* Cut [off, off + len) into pieces for a job whose events did not fit:
 * about twice as many as the matches found would fill, never smaller than
 * `safe` (a piece that small always fits), in order at the queue's head. */
static void
split_pieces (GQueue * q, guint64 off, guint64 len, guint64 matches,
    guint64 record_events, guint64 safe)
{
  guint64 want = MAX (2, (2 * matches + record_events - 1) / record_events);
  guint64 piece = MAX (safe, (len + want - 1) / want);
  piece = (piece + 63) & ~(guint64) 63;
  guint64 pos = off + len;
  while (pos > off) {
    guint64 n = (pos - off) % piece ? (pos - off) % piece : piece;
    Piece *p = g_new0 (Piece, 1);
    p->off = pos - n;
    p->len = n;
    g_queue_push_head (q, p);
    pos -= n;
  }
}

/* Publish piece p of job e into a free rescan context.  Its carry is what
 * the kernel would have had at that point of the job: the job's own carry
 * for the first piece, else the bytes before it in the arena, or (for a job
 * whose carry sat in its window, when the piece starts within the longest
 * pattern of the job's start) the tail of that window followed by the
 * job's first bytes, written into the piece's window. */
static GstFlowReturn
publish_piece (GstVyreScan * self, Entry * e, Piece * p)
{
  guint ctx = self->rescan_free[--self->rescan_free_count];
  guint carry;
  gboolean in_arena;
  if (p->off == 0) {
    carry = e->carry_len;
    in_arena = e->carry_in_arena;
    if (!in_arena && carry)
      memcpy (vyre_tenant_carry_window (self->tenant, ctx),
          vyre_tenant_carry_window (self->tenant, e->ctx), carry);
  } else if (e->carry_in_arena || p->off >= self->max_carry) {
    in_arena = TRUE;
    carry = (guint) MIN ((guint64) self->max_carry,
        p->off + (e->carry_in_arena ? e->carry_len : 0));
  } else {
    in_arena = FALSE;
    carry = (guint) MIN ((guint64) self->max_carry, e->carry_len + p->off);
    guint from_window = carry - (guint) p->off;
    guint8 *w = vyre_tenant_carry_window (self->tenant, ctx);
    memcpy (w, vyre_tenant_carry_window (self->tenant, e->ctx) +
        e->carry_len - from_window, from_window);
    memcpy (w + from_window, vyre_tenant_arena (self->tenant) +
        e->arena_offset, p->off);
  }
  vyre_job job = { 0 };
  job.opcode = VYRE_OP_SCAN;
  job.ops = VYRE_OPS_SCAN | VYRE_OPS_NO_EPOCH;
  job.data_offset = e->arena_offset + p->off;
  job.data_len = (guint32) p->len;
  job.stream_offset = e->stream_offset + p->off;
  job.carry_len = carry;
  job.carry_in_arena = in_arena;
  job.epoch = e->epoch;
  job.result_index = ctx;
  job.tag = ctx;
  GstFlowReturn ret = submit_job (self, &job, &p->ticket);
  if (ret != GST_FLOW_OK) {
    self->rescan_free[self->rescan_free_count++] = ctx;
    return ret;
  }
  p->ctx = ctx;
  p->published = TRUE;
  self->rescan_pieces++;
  return GST_FLOW_OK;
}

/* Wait for a published piece (cancel: NULL waits regardless of a flush)
 * and give its slot and context back. */
static VyreMkStatus
finish_piece (GstVyreScan * self, Piece * p, vyre_completion * out,
    volatile gint * cancel, GError ** error)
{
  VyreMkStatus st = vyre_tenant_wait (self->tenant, &p->ticket, out, cancel,
      error);
  if (st == VYRE_MK_CANCELLED)
    return st;
  if (st == VYRE_MK_OK)
    vyre_tenant_release (self->tenant, &p->ticket);
  self->rescan_free[self->rescan_free_count++] = p->ctx;
  p->published = FALSE;
  return st;
}

/* Job e found more match events in some lane than its record holds
 * (c->matches_stored < c->matches): its events are scanned again, in
 * pieces small enough that they fit, a few pieces in flight at a time in
 * the task's own contexts, in order, splitting again any piece that still
 * overflows.  Every match is read; their number must equal the job's
 * count.  The job's CRC and histogram were whole and are kept.  Returns
 * GST_FLOW_FLUSHING when a flush came, GST_FLOW_ERROR with *error set. */
static GstFlowReturn
rescan_in_pieces (GstVyreScan * self, Entry * e, const vyre_completion * c,
    GError ** error)
{
  const guint64 record_events = (guint64) vyre_megakernel_lanes (vyre_tenant_megakernel (self->tenant)) *
      (self->kernel_max_matches / VYRE_RESULT_LANES);
  GQueue q = G_QUEUE_INIT;
  GstFlowReturn ret = GST_FLOW_OK;
  guint64 found = 0;
  self->rescanned_jobs++;
  GST_DEBUG_OBJECT (self, "job %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
      " bytes): %u of %u matches fit its record: scanning it again in pieces",
      c->seq, e->len, c->matches_stored, c->matches);
  split_pieces (&q, 0, e->len, c->matches, record_events, record_events);
  while (ret == GST_FLOW_OK && !g_queue_is_empty (&q)) {
    /* Fill the free contexts, in order: the head is always published. */
    for (GList * l = q.head; l && self->rescan_free_count > 0; l = l->next) {
      Piece *p = l->data;
      if (!p->published && (ret = publish_piece (self, e, p)) != GST_FLOW_OK)
        break;
    }
    if (ret != GST_FLOW_OK)
      break;
    Piece *p = g_queue_peek_head (&q);
    vyre_completion pc;
    VyreMkStatus st = finish_piece (self, p, &pc, &self->flow, error);
    if (st == VYRE_MK_CANCELLED) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
    if (st != VYRE_MK_OK) {
      ret = GST_FLOW_ERROR;
      break;
    }
    g_queue_pop_head (&q);
    if (pc.matches_stored < pc.matches) {
      if (p->len <= record_events) {
        g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
            "A %" G_GUINT64_FORMAT "-byte piece of job %" G_GUINT64_FORMAT
            " stored %u of its %u matches, though no lane can find more "
            "events than its record holds. Fix: this is a kernel bug: report "
            "it with the device and a GST_DEBUG=vyrescan:6 log.", p->len,
            c->seq, pc.matches_stored, pc.matches);
        ret = GST_FLOW_ERROR;
      } else
        split_pieces (&q, p->off, p->len, pc.matches, record_events,
            record_events);
    } else if (!read_events (self, e, p->ctx, &pc, error)) {
      ret = GST_FLOW_ERROR;
    } else {
      found += pc.matches;
    }
    g_free (p);
  }
  /* Pieces still on the GPU own their slots and contexts until done. */
  for (GList * l = q.head; l; l = l->next) {
    Piece *p = l->data;
    if (p->published) {
      vyre_completion pc;
      GError *err = NULL;
      if (finish_piece (self, p, &pc, NULL, &err) != VYRE_MK_OK) {
        GST_WARNING_OBJECT (self, "a piece did not complete: %s",
            err ? err->message : "?");
        g_clear_error (&err);
      }
    }
    g_free (p);
  }
  g_queue_clear (&q);
  if (ret == GST_FLOW_OK && found != c->matches) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "Job %" G_GUINT64_FORMAT " found %u matches, its %" G_GUINT64_FORMAT
        "-byte pieces scanned again found %" G_GUINT64_FORMAT ". Fix: this "
        "is a bug: report it with the device, the patterns and a "
        "GST_DEBUG=vyrescan:6 log.", c->seq, c->matches, e->len, found);
    ret = GST_FLOW_ERROR;
  }
  return ret;
}

/* A worker of expand_pool: job e's events into matches.  After a flush
 * started nothing is read (the job is thrown away).  Wakes the task. */
static void
expand_job (gpointer data, gpointer user_data)
{
  Entry *e = data;
  GstVyreScan *self = user_data;
  GError *err = NULL;
  if (g_atomic_int_get (&self->flow) != GST_FLOW_FLUSHING)
    read_events (self, e, e->ctx, &e->comp, &err);
  g_mutex_lock (&self->lock);
  e->error = err;
  e->expanded = TRUE;
  wake_locked (self);
  g_mutex_unlock (&self->lock);
}

/* Wait for entry e's completion (task) and start on its results: a job
 * whose events outgrew its record is scanned again here, other scan jobs
 * go to the expansion workers.  FLUSHING when a flush came; ERROR with
 * the element error posted. */
static GstFlowReturn
dispatch_entry (GstVyreScan * self, Entry * e)
{
  gboolean expand_later = FALSE;
  GError *err = NULL;
  if (e->kind != ENTRY_EVENT) {
    gint64 t0 = PHASE_START (self);
    VyreMkStatus st = vyre_tenant_wait (self->tenant, &e->ticket, &e->comp,
        &self->flow, &err);
    PHASE_ADD (self, PH_TASK_WAIT_GPU, t0);
    if (st == VYRE_MK_CANCELLED)
      return g_atomic_int_get (&self->flow);
    if (st != VYRE_MK_OK) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("The GPU scan kernel failed."), ("%s", err->message));
      g_error_free (err);
      return GST_FLOW_ERROR;
    }
  }
  if (e->kind == ENTRY_JOB && (self->ops & GST_VYRE_SCAN_OPS_SCAN)) {
    if (e->comp.matches_stored < e->comp.matches) {
      gint64 t0 = PHASE_START (self);
      GstFlowReturn ret = rescan_in_pieces (self, e, &e->comp, &err);
      PHASE_ADD (self, PH_TASK_COLLECT, t0);
      if (ret == GST_FLOW_FLUSHING)
        return ret;
      if (ret != GST_FLOW_OK)
        e->error = err;
    } else
      expand_later = TRUE;
  }
  e->dispatched = TRUE;
  if (expand_later)
    g_thread_pool_push (self->expand_pool, e, NULL);
  else {
    g_mutex_lock (&self->lock);
    e->expanded = TRUE;
    g_mutex_unlock (&self->lock);
  }
  return GST_FLOW_OK;
}

/* Dispatch the head entry and the ones after it, up to expand_window, so
 * workers expand later jobs while the head is finished. */
static GstFlowReturn
dispatch_ahead (GstVyreScan * self)
{
  GList *l = NULL;
  for (guint i = 0; i < self->expand_window; i++) {
    g_mutex_lock (&self->lock);
    l = l ? l->next : self->entries.head;
    g_mutex_unlock (&self->lock);
    if (l == NULL)
      break;
    Entry *x = l->data;
    if (!x->dispatched) {
      GstFlowReturn ret = dispatch_entry (self, x);
      if (ret != GST_FLOW_OK)
        return ret;
    }
  }
  return GST_FLOW_OK;
}

/* Fold the expanded job e into the buffer being assembled.  ERROR, with
 * *error set, when its results could not be read whole. */
static GstFlowReturn
collect_chunk (GstVyreScan * self, Entry * e, GError ** error)
{
  const vyre_completion *c = &e->comp;
  if (e->error) {
    g_propagate_error (error, e->error);
    e->error = NULL;
    return GST_FLOW_ERROR;
  }
  self->torn_results += e->torn;
  if (e->corrupt)
    GST_WARNING_OBJECT (self, "%u corrupt match events skipped", e->corrupt);
  if (self->ops & GST_VYRE_SCAN_OPS_SCAN) {
    /* The buffer's first job hands its array over; later ones append. */
    if (e->matches && self->matches->len == 0) {
      GArray *empty = self->matches;
      self->matches = e->matches;
      e->matches = empty;
    } else if (e->matches)
      g_array_append_vals (self->matches, e->matches->data, e->matches->len);
    if (e->not_stored)
      for (guint i = 0; i < e->not_stored->len; i++)
        count_not_stored (self, g_array_index (e->not_stored, guint32, i), 1);
    self->dropped += e->dropped;
    self->found += c->matches;
  }
  if (self->ops & GST_VYRE_SCAN_OPS_CRC32) {
    self->crc = vyre_crc32_combine (self->crc, c->crc32, e->len);
    self->crc_len += e->len;
  }
  if (self->ops & GST_VYRE_SCAN_OPS_HISTOGRAM) {
    guint32 job_hist[256];
    if (!vyre_result_read_histogram (vyre_tenant_result (self->tenant,
                e->ctx), c, job_hist, &self->torn_results, error))
      return GST_FLOW_ERROR;
    for (guint b = 0; b < 256; b++)
      self->hist[b] += job_hist[b];
  }
  return GST_FLOW_OK;
}

static gint
compare_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

/* The assembled results as buffer's meta (the buffer is taken, the
 * result returned).  digests: the buffer carries the CRC and histogram
 * (not: a pack's file before its last), of the digest_bytes ending with
 * it. */
static GstBuffer *
finish_buffer (GstVyreScan * self, GstBuffer * buffer, guint64 offset,
    guint32 epoch, gboolean digests, guint64 digest_bytes)
{
  GstBuffer *buf = gst_buffer_make_writable (buffer);
  GstVyreScanMeta *m = gst_buffer_add_vyre_scan_meta (buf);
  m->stream_offset = offset;
  m->size = gst_buffer_get_size (buf);
  m->epoch = epoch;
  m->digest_bytes = digests ? digest_bytes : 0;
  m->has_crc32 = digests && (self->ops & GST_VYRE_SCAN_OPS_CRC32);
  m->crc32 = m->has_crc32 ? self->crc : 0;
  m->has_histogram = digests && (self->ops & GST_VYRE_SCAN_OPS_HISTOGRAM);
  if (m->has_histogram)
    memcpy (m->histogram, self->hist, sizeof m->histogram);
  vyre_match_events_sort (self->matches);
  /* A limit keeps the first matches in stream order; the rest are counted
   * per pattern. */
  if (self->max_matches && self->matches->len > self->max_matches) {
    const GstVyreMatch *mm = (const GstVyreMatch *) self->matches->data;
    for (guint i = self->max_matches; i < self->matches->len; i++)
      count_not_stored (self, mm[i].pattern_id, 1);
    self->dropped += self->matches->len - self->max_matches;
    g_array_set_size (self->matches, self->max_matches);
  }
  guint n = self->matches->len;
  gst_vyre_scan_meta_take_matches (m, (GstVyreMatch *)
      g_array_steal (self->matches, NULL), n);
  m->n_dropped = self->dropped;
  if (self->not_stored_touched->len) {
    g_array_sort (self->not_stored_touched, compare_u32);
    guint k = self->not_stored_touched->len;
    GstVyrePatternCount *pc = g_new (GstVyrePatternCount, k);
    for (guint i = 0; i < k; i++) {
      pc[i].pattern_id = g_array_index (self->not_stored_touched, guint32, i);
      pc[i].count = self->not_stored_counts[pc[i].pattern_id];
    }
    gst_vyre_scan_meta_take_not_stored (m, pc, k);
  }
  self->total_buffers++;
  self->total_bytes += m->size;
  self->total_matches += self->found;
  self->total_dropped += self->dropped;
  reset_assembly (self);
  return buf;
}

/* Job e's small files, each with its own matches, and the tag events
 * between them, in stream order, appended to outs.  The job's CRC and
 * histogram go with its last file (they cover all of its files). */
static void
finish_pack (GstVyreScan * self, Entry * e, GPtrArray * outs)
{
  VyreJobPack *pack = e->pack;
  GArray **mine = g_new (GArray *, MAX (pack->n_buffers, 1));
  guint64 across = vyre_job_pack_split (pack, self->matches,
      self->pattern_len, mine);
  if (across)
    GST_LOG_OBJECT (self, "%" G_GUINT64_FORMAT " matches across the files "
        "of a job dropped", across);
  guint32 crc = self->crc;
  guint32 hist[256];
  memcpy (hist, self->hist, sizeof hist);
  gsize n;
  gpointer *members = g_ptr_array_steal (pack->members, &n);
  guint64 offset = pack->stream_offset;
  guint b = 0;
  for (gsize i = 0; i < n; i++) {
    if (!GST_IS_BUFFER (members[i])) {
      g_ptr_array_add (outs, members[i]);
      continue;
    }
    GstBuffer *buf = members[i];
    GArray *matches = mine[b++];
    reset_assembly (self);
    self->found = matches->len;
    if (self->store_matches)
      g_array_append_vals (self->matches, matches->data, matches->len);
    else {
      const GstVyreMatch *mm = (const GstVyreMatch *) matches->data;
      for (guint k = 0; k < matches->len; k++)
        count_not_stored (self, mm[k].pattern_id, 1);
      self->dropped = matches->len;
    }
    g_array_unref (matches);
    gboolean last = b == pack->n_buffers;
    if (last) {
      self->crc = crc;
      memcpy (self->hist, hist, sizeof hist);
    }
    gsize size = gst_buffer_get_size (buf);
    g_ptr_array_add (outs, finish_buffer (self, buf, offset, e->epoch,
            last, pack->len));
    offset += size;
  }
  g_free (members);
  g_free (mine);
}

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

static void
gst_vyre_scan_loop (gpointer user_data)
{
  GstVyreScan *self = GST_VYRE_SCAN (user_data);

  gint64 t0 = PHASE_START (self);
  g_mutex_lock (&self->lock);
  while (g_queue_is_empty (&self->entries) &&
      g_atomic_int_get (&self->flow) == GST_FLOW_OK)
    wait_locked (self, &self->waiters, 100 * G_TIME_SPAN_MILLISECOND);
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
    wake_locked (self);
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
    entry_free (e);
    if (is_eos)
      pause_task (self, GST_FLOW_EOS);
    return;
  }

  GError *err = NULL;
  GstFlowReturn dret = dispatch_ahead (self);
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
    wait_locked (self, &self->waiters, 100 * G_TIME_SPAN_MILLISECOND);
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
    GstFlowReturn cret = collect_chunk (self, e, &err);
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
    if (e->buffer) {
      g_ptr_array_add (outs, finish_buffer (self, e->buffer, e->buffer_offset,
              e->epoch, TRUE, gst_buffer_get_size (e->buffer)));
      e->buffer = NULL;
    } else if (e->pack)
      finish_pack (self, e, outs);
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
    release_context_locked (self, e->ctx);       /* wakes whom it concerns */
  else
    wake_locked (self);
  g_mutex_unlock (&self->lock);
  entry_free (e);

  t0 = PHASE_START (self);
  GstFlowReturn ret = GST_FLOW_OK;
  for (guint i = 0; i < outs->len; i++) {
    gpointer o = outs->pdata[i];
    if (ret != GST_FLOW_OK)
      gst_mini_object_unref (o);
    else if (GST_IS_BUFFER (o))
      ret = gst_pad_push (self->srcpad, o);
    else
      gst_pad_push_event (self->srcpad, o);
  }
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
  for (;;) {
    g_mutex_lock (&self->lock);
    Entry *e = g_queue_pop_head (&self->entries);
    g_mutex_unlock (&self->lock);
    if (e == NULL)
      break;
    /* A worker may still read its record: wait for it (it skips the work
     * once flushing is set, and otherwise takes milliseconds). */
    g_mutex_lock (&self->lock);
    while (e->dispatched && !e->expanded)
      wait_locked (self, &self->waiters, 10 * G_TIME_SPAN_MILLISECOND);
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
      release_context_locked (self, e->ctx);
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
    entry_free (e);
  }
  if (hand_over && hand_over->len > 0) {
    GST_DEBUG_OBJECT (self, "%u jobs still on the GPU handed to the engine",
        hand_over->len);
    vyre_tenant_hand_over (self->tenant, (vyre_ticket *) hand_over->data,
        hand_over->len);
  }
  if (hand_over)
    g_array_free (hand_over, TRUE);
  reset_assembly (self);
}

/* Wait until everything queued went downstream (serialized queries). */
static gboolean
wait_drained (GstVyreScan * self)
{
  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (&self->entries) &&
      g_atomic_int_get (&self->flow) == GST_FLOW_OK)
    wait_locked (self, &self->waiters, 100 * G_TIME_SPAN_MILLISECOND);
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
      if (self->tenant && publish_fence (self) != GST_FLOW_OK) {
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
  if (publish_pack (self) != GST_FLOW_OK) {
    gst_event_unref (event);
    return FALSE;
  }
  gboolean stream_start = GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START;
  Entry *e = g_new0 (Entry, 1);
  e->kind = ENTRY_EVENT;
  e->event = event;
  queue_entry (self, e);
  /* Tell downstream (vyresink) what is scanned, right after stream-start. */
  if (stream_start && self->info_event) {
    e = g_new0 (Entry, 1);
    e->kind = ENTRY_EVENT;
    e->event = gst_event_ref (self->info_event);
    queue_entry (self, e);
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
          (publish_pack (self) != GST_FLOW_OK || !wait_drained (self)))
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
  GST_OBJECT_LOCK (self);
  gboolean have = self->engine != NULL;
  gint index = self->device_index;
  GST_OBJECT_UNLOCK (self);
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

/* The kernel: the engine's (persistent) or a private one for the
 * per-buffer dispatch, which cannot share a ring with a resident kernel
 * (both would claim its slots). */
static gboolean
open_kernel (GstVyreScan * self, GError ** err)
{
  guint64 timeout_us = (guint64) self->timeout_ms * 1000;
  if (self->dispatch == GST_VYRE_SCAN_DISPATCH_PERSISTENT) {
    VyreEngine *e = ensure_engine (self);
    self->mk = vyre_engine_acquire (e, timeout_us, err);
    vyre_engine_unref (e);
    self->mk_is_private = FALSE;
  } else {
    VyreDevice *dev = vyre_device_open (self->device_index, err);
    if (dev == NULL)
      return FALSE;
    VyreMegakernelConfig cfg = {
      .nslots = CPU_RING_SLOTS + VYRE_EPOCH_WINDOW,.persistent = FALSE,
      .progress_timeout_us = timeout_us,
    };
    self->mk = vyre_megakernel_new (dev, &cfg, err);
    vyre_device_unref (dev);
    self->mk_is_private = TRUE;
  }
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
  if (self->mk_is_private) {
    vyre_megakernel_unref (self->mk);
  } else {
    GST_OBJECT_LOCK (self);
    VyreEngine *e = vyre_engine_ref (self->engine);
    GST_OBJECT_UNLOCK (self);
    vyre_engine_release (e, self->mk);
    vyre_engine_unref (e);
  }
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
  self->job = job ? MAX (job, 256u) : cpu ? block : MIN ((guint) GPU_JOB_SIZE,
      block);
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
   * context for buffers in foreign memory. */
  guint pool_blocks = (guint) (((guint64) self->slots * self->job +
          self->block_size - 1) / self->block_size) + 16;
  self->staging_base = (guint64) pool_blocks * self->block_size;
  guint64 arena = self->staging_base +
      (guint64) self->n_contexts * self->copy_job;
  /* This element's quota on the shared kernel: its job contexts (the
   * chain's, one per job in flight, and the src task's pieces) and its
   * arena.  The ring is the engine's; a full ring is back-pressure. */
  gchar *name = gst_object_get_name (GST_OBJECT (self));
  VyreTenantConfig cfg = {
    .name = name,
    .contexts = self->n_contexts + self->n_rescan_contexts,
    .arena_bytes = arena,.max_matches = self->kernel_max_matches,
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
  self->allocator = gst_vyre_allocator_new (vyre_tenant_arena (self->tenant),
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
  self->expand_pool = g_thread_pool_new (expand_job, self, (gint) workers,
      FALSE, NULL);
  self->expand_window = 4 * workers + 2;
  self->not_stored_counts = g_new0 (guint64, MAX (1,
          self->pattern_list->len));
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
  reset_assembly (self);

  /* What is being scanned, for downstream (vyresink): device, dispatch,
   * patterns in the patterns-file syntax. */
  GstStructure *info = gst_structure_new ("vyre-info",
      "device", G_TYPE_STRING, vyre_device_name (self->device),
      "dispatch", G_TYPE_STRING,
      self->dispatch == GST_VYRE_SCAN_DISPATCH_PERSISTENT ? "persistent" :
      "per-buffer", NULL);
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
  g_clear_pointer (&self->tail, g_free);
  self->ctx_free_count = 0;
}

static GstStateChangeReturn
gst_vyre_scan_change_state (GstElement * element, GstStateChange transition)
{
  GstVyreScan *self = GST_VYRE_SCAN (element);
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
    case PROP_DISPATCH:
      self->dispatch = g_value_get_enum (value);
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
    case PROP_DISPATCH:
      g_value_set_enum (value, self->dispatch);
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
  g_queue_clear (&self->entries);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
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
  g_object_class_install_property (gobject_class, PROP_DISPATCH,
      g_param_spec_enum ("dispatch", "Dispatch",
          "How jobs reach the GPU", GST_TYPE_VYRE_SCAN_DISPATCH,
          DEFAULT_DISPATCH, rw));
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
          "block-size on a CPU device; values below 256 mean 256", 0,
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
          "kernels (created so far), active (users now), tenants and "
          "linger-ms", GST_TYPE_STRUCTURE, ro));
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

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "vyre GPU scanner",
      "Filter/Analyzer",
      "Scans every buffer on a persistent Vulkan compute kernel: "
      "multi-literal matches, CRC-32 and byte histogram as GstVyreScanMeta",
      "gst-vyre developers");
  gst_type_mark_as_plugin_api (GST_TYPE_VYRE_SCAN_OPS, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_VYRE_SCAN_DISPATCH, 0);
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
  self->dispatch = DEFAULT_DISPATCH;
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
  self->flow = GST_FLOW_FLUSHING;       /* until the src pad is active */
}
