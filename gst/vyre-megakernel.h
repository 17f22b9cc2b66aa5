/* gst-vyre
 *
 * vyre-megakernel.h - the persistent scan kernel and its tenants, host side.
 *
 * A VyreMegakernel owns the ring (slots, control block, completions), the
 * compute pipeline built from the embedded shaders/megakernel.comp, and
 * its launches: one per device in a process (vyre-engine.h shares it).
 * In persistent mode one dispatch stays resident and polls the ring; when
 * it retires (idle or iteration budget) the host relaunches it the next
 * time work is waiting.  In per-buffer mode every job is one
 * vkQueueSubmit and a fence wait (kept for comparison).
 *
 * A VyreTenant is one producer of jobs (a vyrescan): its own tenant id,
 * scan tables (shared with every tenant of the same tables), data arena,
 * result records and carry windows, all reached by the kernel through the
 * buffer device addresses in the tenant's control record.  Tenants are
 * added and dropped while the kernel runs: no relaunch, no new
 * descriptor set.  A tenant's job contexts and arena are its quota: what
 * it holds in flight never takes from another tenant.
 *
 * Threading: submit may be called from several threads at once (the ring
 * is multi-producer, ring/mpmc_queue.h); wait/release from others.  Every
 * wait is bounded.  A waiter spins on its own job for 500 us, then
 * sleeps on its tenant's GCond: one poller thread per kernel watches the
 * jobs of every sleeping waiter, wakes the tenant whose job is done,
 * relaunches a kernel that retired with work waiting and calls the
 * kernel hung when nothing completes for the progress timeout.
 */
#ifndef __VYRE_MEGAKERNEL_H__
#define __VYRE_MEGAKERNEL_H__

#include <glib.h>

#include "vyre-device.h"
#include "host_ring.h"
#include "vyre_slot.h"

G_BEGIN_DECLS

typedef struct _VyreMegakernel VyreMegakernel;
typedef struct _VyreTenant VyreTenant;

typedef struct
{
  guint nslots;                 /* ring slots, shared by every tenant */
  gboolean persistent;          /* FALSE: one submit + wait per job */
  guint64 progress_timeout_us;  /* no completion for this long = hang */
} VyreMegakernelConfig;

typedef struct
{
  const gchar *name;            /* who asks (errors name it) */
  guint contexts;               /* job contexts: result records + carry windows */
  guint64 arena_bytes;          /* data arena the jobs point into */
  /* The arena is allocated in chunks of this many bytes as jobs first
   * need them (0: one chunk, all at once); a job, its in-arena carry
   * included, never crosses a chunk edge, and at most
   * VYRE_TENANT_CHUNKS_MAX chunks make the arena.  Result records grow
   * the same way, in chunks the engine sizes.  Once jobs reach chunk
   * k > 0, chunks k + 1 .. 2k + 1 are allocated ahead on a thread of the
   * tenant's own, so that a growing stream's element seldom waits for
   * the driver. */
  guint64 arena_chunk_bytes;
  guint max_matches;            /* match events stored per job */
  guint max_carry;              /* carry window bytes per context */
  const guint32 *tables;        /* VYRT scan tables (ring/vyre_protocol.h) */
  gsize table_words;
} VyreTenantConfig;

typedef enum
{
  VYRE_MK_OK,
  VYRE_MK_FULL,                 /* no free slot: back-pressure, retry later */
  VYRE_MK_CANCELLED,            /* *cancel became non-zero */
  VYRE_MK_ERROR,                /* GError set: device lost, hang, fault */
} VyreMkStatus;

/* Creates the ring and the pipeline and runs one job through the kernel
 * (on lavapipe that compiles it). */
VyreMegakernel *vyre_megakernel_new (VyreDevice * dev,
    const VyreMegakernelConfig * config, GError ** error);
VyreMegakernel *vyre_megakernel_ref (VyreMegakernel * mk);
/* The last unref stops the kernel (bounded wait) and frees everything;
 * tenants hold a reference. */
void vyre_megakernel_unref (VyreMegakernel * mk);
/* Ask the resident kernel to retire now and wait (bounded) for it; a later
 * submit relaunches it. */
void vyre_megakernel_stop (VyreMegakernel * mk);
VyreDevice *vyre_megakernel_device (VyreMegakernel * mk);
/* The device was lost, or a wait saw the kernel complete nothing for the
 * progress timeout (hung): nothing will run on this kernel again. */
gboolean vyre_megakernel_is_lost (VyreMegakernel * mk);
/* Lanes per workgroup: each lane owns max_matches / VYRE_RESULT_LANES event
 * records of a job's result record and scans about 1/lanes of its bytes,
 * so a job of at most lanes x that share bytes can never run out. */
guint vyre_megakernel_lanes (VyreMegakernel * mk);
/* Tenants now registered (not counting the kernel's own tenant 0). */
guint vyre_megakernel_n_tenants (VyreMegakernel * mk);
/* Waits that outlasted their spin and that the poller ended (a job done,
 * or a failure handed to them), since the kernel started. */
guint64 vyre_megakernel_poller_wakes (VyreMegakernel * mk);

/* Device memory of every tenant now (their chunks allocated so far and
 * carry windows) and of departed tenants kept for later ones. */
guint64 vyre_megakernel_memory_bytes (VyreMegakernel * mk);

/* Registers a tenant: the lowest free id, its memory (the footprint of
 * every tenant together is checked against the device budget first:
 * over it is an error naming config->name), its record in the control
 * block.  VYRE_MAX_TENANTS - 1 tenants at most: one more is an error. */
VyreTenant *vyre_megakernel_add_tenant (VyreMegakernel * mk,
    const VyreTenantConfig * config, GError ** error);
/* Reference counted: the GPU-readable memories handed out from the arena
 * keep their tenant alive after the element stopped. */
VyreTenant *vyre_tenant_ref (VyreTenant * t);
/* The last unref empties the tenant's record and frees its memory; its id
 * is free again.  Every job of the tenant must have been released. */
void vyre_tenant_unref (VyreTenant * t);
guint vyre_tenant_id (VyreTenant * t);
VyreMegakernel *vyre_tenant_megakernel (VyreTenant * t);

/* Host address of arena bytes [offset, offset + len), which lie in one
 * chunk (arena_chunk_bytes of the config), allocating the chunk first
 * when no job of the tenant used it yet.  NULL with *error when the range
 * crosses a chunk edge or the chunk could not be allocated. */
guint8 *vyre_tenant_arena_reserve (VyreTenant * t, guint64 offset,
    guint64 len, GError ** error);
guint64 vyre_tenant_arena_chunk_bytes (VyreTenant * t);
/* Bytes of device memory the tenant holds now (chunks allocated so far,
 * carry windows): grows with what it had in flight at once. */
guint64 vyre_tenant_memory_bytes (VyreTenant * t);
guint8 *vyre_tenant_carry_window (VyreTenant * t, guint context);
/* A context's result record.  Its words may land after the completion
 * does: read them through vyre-result-read.h. */
const guint32 *vyre_tenant_result (VyreTenant * t, guint context);

/* Publish one job of the tenant (job->seq and job->tenant are assigned;
 * its result record's chunk is allocated if it was not yet).
 * VYRE_MK_FULL when the ring has no free slot. */
VyreMkStatus vyre_tenant_submit (VyreTenant * t, vyre_job * job,
    vyre_ticket * ticket, GError ** error);

/* Wait until the ticket's job completed (relaunching the kernel when it
 * retired with work waiting), *cancel turns non-zero, or no job has
 * completed for progress_timeout_us.  On VYRE_MK_OK *out is valid; a FAULT
 * completion is VYRE_MK_ERROR with the fault explained.  A job the driver
 * cut short (VYRE_FAULT_ITER_LIMIT) is published again with a lower
 * iteration budget: *ticket then names the new publication. */
VyreMkStatus vyre_tenant_wait (VyreTenant * t, vyre_ticket * ticket,
    vyre_completion * out, volatile gint * cancel, GError ** error);

/* The ticket's slot may be reused (after its results were read). */
void vyre_tenant_release (VyreTenant * t, const vyre_ticket * ticket);

/* Stopping without waiting: the tenant's jobs still in flight (published,
 * their completions not yet taken) are handed to the engine, which
 * recycles each as it completes and keeps the tenant (its memory, its id,
 * the buffers in its arena) alive until the last one did.  Returns at
 * once; the caller forgets the tickets and may unref the tenant. */
void vyre_tenant_hand_over (VyreTenant * t, const vyre_ticket * tickets,
    guint n);
/* Waits (at most timeout_us) until every hand-over of the process is
 * reclaimed, its tenant's last reference included; FALSE if some are
 * still waiting for their jobs. */
gboolean vyre_megakernel_wait_reclaimed (gint64 timeout_us);

/* Statistics for logs and reports. */
typedef struct
{
  guint64 launches;             /* host dispatches of the persistent kernel */
  guint64 retries;              /* jobs published again after ITER_LIMIT */
  guint32 done;                 /* control DONE_COUNT (all tenants) */
  guint32 epoch;                /* the tenant's last closed epoch */
  guint32 retired;              /* workgroup retirements */
  guint32 requeues;             /* slots handed back (VYRE_CTRL_REQUEUES) */
  guint32 workgroups;           /* per launch */
  guint32 tenants;              /* tenants registered */
  /* Polls that found a completion entry's words not all landed yet, and
   * read it again (its check word; result records: vyre-result-read.h). */
  guint64 torn_completions;
} VyreMegakernelStats;
void vyre_tenant_stats (VyreTenant * t, VyreMegakernelStats * out);

G_END_DECLS
#endif /* __VYRE_MEGAKERNEL_H__ */
