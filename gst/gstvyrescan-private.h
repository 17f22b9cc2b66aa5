/* gst-vyre
 *
 * gstvyrescan-private.h - vyrescan's state, shared by the element
 * (gstvyrescan.c: properties, states, events, the src task), its
 * publisher (vyre-publisher.c: buffers into GPU jobs, on the streaming
 * thread) and its assembler (vyre-assembler.c: completed jobs into
 * GstVyreScanMeta, on the src task).
 *
 * Threads and locks: fields marked "(lock)" are read and written under
 * `lock`; "chain-only" ones by the streaming thread alone, "task-only" ones
 * by the src task alone; properties and statistics under the object lock.
 * The two threads meet in `entries`, the in-order queue of jobs, fences
 * and serialized events between them.
 */
#ifndef __GST_VYRE_SCAN_PRIVATE_H__
#define __GST_VYRE_SCAN_PRIVATE_H__

#include <time.h>

#include "gstvyrescan.h"
#include "vyre-automaton.h"
#include "vyre-device.h"
#include "vyre-engine.h"
#include "vyre-job-pack.h"
#include "vyre-megakernel.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (vyre_scan_debug);
#define GST_CAT_DEFAULT vyre_scan_debug

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

/* The jobs of one buffer, dispatched together once its last job
 * completed: each job's matches are copied by its worker straight to
 * their place in the buffer's array, sized from the jobs' counts, instead
 * of appended one job after another on the src task. */
typedef struct
{
  guint off, len;               /* the job's place in `matches` */
  guint filled;                 /* matches its worker wrote there */
} MatchSegment;

typedef struct
{
  gint refs;
  GArray *matches;              /* GstVyreMatch of the whole buffer */
  GArray *segments;             /* MatchSegment per job, in order */
} MatchGroup;

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
  GArray *counts;               /* GstVyrePatternCount of matches and not_stored */
  /* A chunk of a buffer of several jobs: held by the task until the
   * buffer's last job completed, then its matches go to segment `index`
   * of the group (NULL: collected one job after another). */
  gboolean held;
  MatchGroup *group;
  guint index;
  guint64 dropped;              /* matches not stored */
  guint64 torn;                 /* result records read again until whole */
  guint corrupt;
  GError *error;
  guint32 epoch;
  GstBuffer *buffer;            /* on the buffer's last chunk */
  guint64 buffer_offset;        /* stream offset of the buffer */
  VyreJobPack *pack;            /* instead: the small files of the job */
  /* A pack's matches split by file, in order (vyre_job_pack_split), by the
   * worker that expanded them; NULL: finish_pack splits them. */
  GArray **pack_matches;
  GArray **pack_counts;         /* GstVyrePatternCount of each file, the same */
  guint64 pack_across;          /* matches across its files, dropped */
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
  gint device_index;
  guint block_size;
  guint job_size;
  guint timeout_ms;

  /* The engine this element is a tenant of (GstContext "vyre.engine"):
   * kept across NULL, so a pipeline set to PLAYING again rejoins it. */
  VyreEngine *engine;
  guint engine_linger;          /* property; G_MAXUINT = not set */
  /* The device opening on a thread since NULL->READY, taken over by
   * READY->PAUSED or ended by READY->NULL. */
  VyreEngineOpening *opening;

  /* set up in READY->PAUSED */
  VyreDevice *device;
  VyreMegakernel *mk;           /* the engine's kernel */
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
  GPtrArray *held;              /* Entry *: chunks waiting for their last job */
  guint *rescan_free;           /* task only: free rescan contexts, a stack */
  guint rescan_free_count;
  guint slots;                  /* ring slots in use (ring-slots or auto) */
  guint job;                    /* bytes per GPU job (job-size or auto) */
  guint copy_job;               /* same for copied buffers: the size of each
                                   context's copy area */
  guint record_events;          /* event records of one job context: a job
                                   of this many bytes never outgrows them */
  /* Bytes per job now, at most job (atomic: the task adapts it, the chain
   * reads it): halved while jobs find more match events than their record
   * holds (dense matches: each such job is scanned again in pieces),
   * doubled back after a run of sparse jobs (vyre-publisher.c). */
  gint job_now;
  guint sparse_jobs;            /* task only: sparse jobs in a row */
  guint64 staging_base;         /* arena offset of context 0's copy area */
  guint64 chunk_bytes;          /* the arena grows in chunks of this size */
  guint copy_areas_per_chunk;   /* copy areas never cross a chunk edge */
  GstAllocator *allocator;      /* pool blocks of the arena */
  GstEvent *info_event;         /* vyre-info, sent after stream-start */
  guint n_contexts;

  /* streaming state (lock) */
  GMutex lock;
  GCond cond;                   /* any change: entry queued or done, flush */
  guint waiters;                /* threads in gst_vyre_scan_wait_locked(), but ... */
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
  guint64 *pattern_counts;      /* per pattern, every match, stored or not */
  GArray *counted_ids;          /* guint32 ids whose pattern_counts is not 0 */
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

/* Entries and contexts (gstvyrescan.c). */
void gst_vyre_scan_entry_free (Entry * e);
/* Waits on the element's cond (lock held) at most timeout_us, counted in
 * *counter so wakers know someone waits. */
void gst_vyre_scan_wait_locked (GstVyreScan * self, guint * counter,
    gint64 timeout_us);
void gst_vyre_scan_wake_locked (GstVyreScan * self);
/* A free job context of the chain's (lock held), waiting for one; the flow
 * when a flush or an error ended the wait. */
GstFlowReturn gst_vyre_scan_acquire_context_locked (GstVyreScan * self,
    guint * ctx);
/* Arena offset of context ctx's copy area (inside one chunk). */
guint64 gst_vyre_scan_copy_area (GstVyreScan * self, guint ctx);
void gst_vyre_scan_release_context_locked (GstVyreScan * self, guint ctx);
/* Appends e to the entries for the src task (takes the lock). */
void gst_vyre_scan_queue_entry (GstVyreScan * self, Entry * e);

G_END_DECLS
#endif /* __GST_VYRE_SCAN_PRIVATE_H__ */
