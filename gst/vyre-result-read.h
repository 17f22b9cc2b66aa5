/* gst-vyre
 *
 * vyre-result-read.h - reading a completed job's result record, once the
 * words read are the ones the kernel wrote.
 *
 * The completion can reach host memory before the lanes' result words do
 * (ring/result_check.h says why).  These readers compare a check sum over
 * what they read with the one in the completion and read again until the
 * two agree, within a bound; the events' sum is taken in the same pass
 * that expands them.  vyre_megakernel_result's records are read through
 * these and nothing else.
 */
#ifndef __VYRE_RESULT_READ_H__
#define __VYRE_RESULT_READ_H__

#include <glib.h>

#include "vyre_slot.h"

G_BEGIN_DECLS

/* How long a record may take to land whole.  The stragglers seen on an
 * H200 came within microseconds; one that never agrees is a bug. */
#define VYRE_RESULT_WHOLE_TIMEOUT_US (2 * G_USEC_PER_SEC)

/* Append the matches of completion c's events (record, max_matches: see
 * vyre_match_events_expand) to out, at most room, adding what did not fit
 * to *dropped (and their pattern ids to not_stored, which may be NULL) and
 * corrupt events to *corrupt.  While the events read do
 * not agree with c->result_check the matches are taken back out and the
 * record read again; *torn (may be NULL) counts the jobs that needed
 * that.  FALSE, with *error set and out as it was, when they never agree
 * within VYRE_RESULT_WHOLE_TIMEOUT_US.  Reads nothing for a job that
 * stored no events. */
gboolean vyre_result_read_events (const guint32 * table,
    const guint32 * record, guint32 max_matches, const vyre_completion * c,
    guint room, GArray * out, GArray * not_stored, guint64 * dropped,
    guint * corrupt, guint64 * torn, GError ** error);

/* Copy the histogram of completion c's job (one that ran the histogram)
 * into job_hist, once it agrees with c->hist_check; as above otherwise. */
gboolean vyre_result_read_histogram (const guint32 * record,
    const vyre_completion * c, guint32 job_hist[256], guint64 * torn,
    GError ** error);

G_END_DECLS
#endif /* __VYRE_RESULT_READ_H__ */
