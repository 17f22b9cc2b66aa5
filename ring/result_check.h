/*
 * result_check.h - is a job's result record whole yet?
 *
 * A persistent kernel's lanes write a result record to host memory, then
 * lane 0 publishes the completion.  Vulkan orders those writes for other
 * GPU threads only (device scope is its largest): the host may see the
 * completion before some of the record, which then still holds an earlier
 * job's words.  The kernel therefore sums VYRE_CHECK_TERM over the words
 * it wrote into the completion (RESULT_CHECK: lane counts and stored
 * events; HIST_CHECK: the histogram); the host recomputes a sum over what
 * it read and uses those words only once the two agree, reading again
 * until they do.
 *
 * These are the reference sums, reading each covered word once.  The
 * plugin's match-event reader folds the same sum into its one pass over
 * the events (gst/vyre-result-read.c).
 */
#ifndef VYRE_RESULT_CHECK_H
#define VYRE_RESULT_CHECK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sum over the 256 lane counts and, for each lane, its first
 * min(count, max_matches / VYRE_RESULT_LANES) event records, of a record
 * with control[MAX_MATCHES] = max_matches.  Relaxed atomic loads: the
 * words may still be changing. */
uint32_t vyre_result_events_check (const uint32_t * record,
    uint32_t max_matches);

/* Sum over the 256 histogram words. */
uint32_t vyre_result_hist_check (const uint32_t * record);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_RESULT_CHECK_H */
