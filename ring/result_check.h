/*
 * result_check.h - is a job's result record whole yet?
 *
 * A persistent kernel's lanes write a result record to host memory, then
 * lane 0 publishes the completion.  Vulkan orders those writes for other
 * GPU threads only (device scope is its largest): the host may see the
 * completion before some of the record, which then still holds an earlier
 * job's words.  The kernel therefore sums VYRE_CHECK_TERM over the words
 * it wrote into the completion's RESULT_CHECK; the host recomputes that
 * sum over what it reads and uses the record only once they agree.
 *
 * Which words a data job writes: every lane's event count (lanes a device
 * lacks stay 0 and add 0), the first min(count, max_matches / LANES)
 * event records of each lane, and the 256 histogram words when the job
 * ran VYRE_OPS_HISTOGRAM.
 */
#ifndef VYRE_RESULT_CHECK_H
#define VYRE_RESULT_CHECK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The sum over a record of control[MAX_MATCHES] = max_matches event
 * records, for a job that ran `ops`.  Reads every word it covers once,
 * with relaxed atomic loads: the words may still be changing. */
uint32_t vyre_result_check (const uint32_t * record, uint32_t max_matches,
    uint32_t ops);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_RESULT_CHECK_H */
