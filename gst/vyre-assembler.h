/* gst-vyre
 *
 * vyre-assembler.h - vyrescan's completed jobs into GstVyreScanMeta, in
 * input order (the src task's side of the element).
 *
 * The task waits for the oldest entry's completion and hands the jobs
 * after it, up to expand_window, to the expansion workers, which turn
 * their match events into matches.  A job whose events outgrew its result
 * record is scanned again here in pieces, in the task's own job contexts,
 * until every match is read.  A buffer's chunks are folded together (CRC
 * combined, histograms and matches summed) and the buffer leaves with its
 * meta; a pack's files leave one by one, each with its own matches.
 *
 * The chunks of a buffer of several jobs are held until its last job
 * completed (while it lies within expand_window); then each one's worker
 * copies its sorted matches to their place in one array sized from the
 * jobs' counts (MatchGroup), and the task only mends the order where the
 * jobs meet.  A held chunk at the head of the queue is let go one job at
 * a time instead, appended by the task: the task never waits on a held
 * chunk.
 */
#ifndef __VYRE_ASSEMBLER_H__
#define __VYRE_ASSEMBLER_H__

#include "gstvyrescan-private.h"

G_BEGIN_DECLS

/* Forgets the buffer being assembled. */
void vyre_assembler_reset (GstVyreScan * self);

/* Waits for the head entry's completion and starts on it and on the
 * entries after it (expand_window).  FLUSHING when a flush came; ERROR
 * with the element error posted. */
GstFlowReturn vyre_assembler_dispatch_ahead (GstVyreScan * self);

/* Drops a reference to a buffer's match group (NULL: nothing). */
void vyre_assembler_group_unref (MatchGroup * group);

/* A worker of expand_pool (data: the Entry, user_data: the element). */
void vyre_assembler_expand_job (gpointer data, gpointer user_data);

/* Folds the expanded job e into the buffer being assembled; ERROR with
 * *error set when its results could not be read whole. */
GstFlowReturn vyre_assembler_collect (GstVyreScan * self, Entry * e,
    GError ** error);

/* Job e's last chunk is in: its buffer (or its pack's files, and the tag
 * events between them) with their meta, appended to outs in order. */
void vyre_assembler_finish (GstVyreScan * self, Entry * e, GPtrArray * outs);

G_END_DECLS
#endif /* __VYRE_ASSEMBLER_H__ */
