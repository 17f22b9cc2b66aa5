/* gst-vyre
 *
 * vyre-megakernel.h - the persistent scan kernel, host side.
 *
 * Owns every GPU buffer of one ring (ring, control, completions, results,
 * scan tables, data arena, carry windows), the compute pipeline built from
 * the embedded shaders/megakernel.comp, and its launches.  In persistent
 * mode one dispatch stays resident and polls the ring; when it retires (idle
 * or iteration budget) the host relaunches it transparently the next time
 * work is waiting.  In per-buffer mode every job is one vkQueueSubmit and a
 * fence wait (kept for comparison).
 *
 * Threading: submit may be called from several threads at once (the ring is
 * multi-producer); wait/release from others.  Every wait is bounded.
 */
#ifndef __VYRE_MEGAKERNEL_H__
#define __VYRE_MEGAKERNEL_H__

#include <glib.h>

#include "vyre-device.h"
#include "host_ring.h"
#include "vyre_slot.h"

G_BEGIN_DECLS

typedef struct _VyreMegakernel VyreMegakernel;

typedef struct
{
  guint nslots;                 /* ring slots */
  guint contexts;               /* job contexts: result records + carry windows */
  guint64 arena_bytes;          /* data arena the jobs point into */
  guint max_matches;            /* match events stored per job */
  guint max_carry;              /* carry window bytes per context */
  const guint32 *tables;        /* VYRT scan tables (ring/vyre_protocol.h) */
  gsize table_words;
  gboolean persistent;          /* FALSE: one submit + wait per job */
  guint64 progress_timeout_us;  /* no completion for this long = hang */
} VyreMegakernelConfig;

typedef enum
{
  VYRE_MK_OK,
  VYRE_MK_FULL,                 /* no free slot: back-pressure, retry later */
  VYRE_MK_CANCELLED,            /* *cancel became non-zero */
  VYRE_MK_ERROR,                /* GError set: device lost, hang, fault */
} VyreMkStatus;

VyreMegakernel *vyre_megakernel_new (VyreDevice * dev,
    const VyreMegakernelConfig * config, GError ** error);
/* Reference counted: the GPU-readable memories handed out from the arena
 * keep it alive after the element stopped. */
VyreMegakernel *vyre_megakernel_ref (VyreMegakernel * mk);
/* The last unref stops the kernel (bounded wait) and frees everything. */
void vyre_megakernel_unref (VyreMegakernel * mk);
/* Ask the resident kernel to retire now and wait (bounded) for it; a later
 * submit relaunches it. */
void vyre_megakernel_stop (VyreMegakernel * mk);

guint8 *vyre_megakernel_arena (VyreMegakernel * mk);
/* Lanes per workgroup: each lane owns max_matches / VYRE_RESULT_LANES event
 * records of a job's result record and scans about 1/lanes of its bytes,
 * so a job of at most lanes x that share bytes can never run out. */
guint vyre_megakernel_lanes (VyreMegakernel * mk);
guint8 *vyre_megakernel_carry_window (VyreMegakernel * mk, guint context);
/* A context's result record.  Its words may land after the completion
 * does: read them through vyre-result-read.h. */
const guint32 *vyre_megakernel_result (VyreMegakernel * mk, guint context);

/* Publish one job (job->seq is assigned).  VYRE_MK_FULL when the ring has
 * no free slot. */
VyreMkStatus vyre_megakernel_submit (VyreMegakernel * mk, vyre_job * job,
    vyre_ticket * ticket, GError ** error);

/* Wait until the ticket's job completed (relaunching the kernel when it
 * retired with work waiting), *cancel turns non-zero, or no job has
 * completed for progress_timeout_us.  On VYRE_MK_OK *out is valid; a FAULT
 * completion is VYRE_MK_ERROR with the fault explained.  A job the driver
 * cut short (VYRE_FAULT_ITER_LIMIT) is published again with a lower
 * iteration budget: *ticket then names the new publication. */
VyreMkStatus vyre_megakernel_wait (VyreMegakernel * mk,
    vyre_ticket * ticket, vyre_completion * out,
    volatile gint * cancel, GError ** error);

/* The ticket's slot may be reused (after its results were read). */
void vyre_megakernel_release (VyreMegakernel * mk, const vyre_ticket * ticket);

/* Statistics for logs and reports. */
typedef struct
{
  guint64 launches;             /* host dispatches of the persistent kernel */
  guint64 retries;              /* jobs published again after ITER_LIMIT */
  guint32 done;                 /* control DONE_COUNT */
  guint32 epoch;                /* control EPOCH */
  guint32 retired;              /* workgroup retirements */
  guint32 requeues;             /* fences handed back */
  guint32 workgroups;           /* per launch */
  /* Polls that found a completion entry's words not all landed yet, and
   * read it again (its check word; result records: vyre-result-read.h). */
  guint64 torn_completions;
} VyreMegakernelStats;
void vyre_megakernel_stats (VyreMegakernel * mk, VyreMegakernelStats * out);

G_END_DECLS
#endif /* __VYRE_MEGAKERNEL_H__ */
