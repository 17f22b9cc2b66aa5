/* gst-vyre
 *
 * vyre-publisher.h - vyrescan's buffers into GPU jobs (the streaming
 * thread's side of the element).
 *
 * A buffer in the element's arena (a zero-copy upstream) is published in
 * place, cut into jobs of the job size so several workgroups scan it;
 * other memory is copied into a job context's copy area, job by job.
 * Each job carries what a straddling match needs of the bytes before it
 * (the carry): in the context's window, or read from the arena before a
 * later job of the same buffer.  Small whole files lying side by side in
 * the arena share one job (vyre-job-pack.h).  Jobs are grouped in epochs
 * closed by ordered fences.  Every job is queued as an entry for the src
 * task, in order.  A full ring blocks (back-pressure); a flush ends the
 * wait with GST_FLOW_FLUSHING.
 */
#ifndef __VYRE_PUBLISHER_H__
#define __VYRE_PUBLISHER_H__

#include "gstvyrescan-private.h"

G_BEGIN_DECLS

/* The chain's work for buf (taken): its jobs published and queued. */
GstFlowReturn vyre_publisher_buffer (GstVyreScan * self, GstBuffer * buf);

/* Closes the open epoch with a fence (after publishing an open pack). */
GstFlowReturn vyre_publisher_fence (GstVyreScan * self);

/* Publishes the open pack of small files, if any. */
GstFlowReturn vyre_publisher_flush_pack (GstVyreScan * self);

/* Task: the job size follows the density of match events, from a
 * completed scan job of len bytes: half of len (at least record_events)
 * when the job outgrew its record, doubled (up to job) after a run of jobs that
 * would still fill at most half of it at twice the size. */
void vyre_publisher_adapt_job_size (GstVyreScan * self,
    const vyre_completion * c, guint64 len);

/* Publishes one job, blocking while the ring is full. */
GstFlowReturn vyre_publisher_submit (GstVyreScan * self, vyre_job * job,
    vyre_ticket * ticket);

G_END_DECLS
#endif /* __VYRE_PUBLISHER_H__ */
