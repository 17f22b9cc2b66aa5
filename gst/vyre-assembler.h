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
