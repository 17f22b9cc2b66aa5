/* result_check.c - see result_check.h. */
#include "result_check.h"

#include "store_order.h"
#include "vyre_protocol.h"

uint32_t
vyre_result_events_check (const uint32_t * record, uint32_t max_matches)
{
  const uint32_t per_lane = max_matches / VYRE_RESULT_LANES;
  uint32_t sum = 0;
  for (uint32_t l = 0; l < VYRE_RESULT_LANES; l++) {
    const uint32_t i = VYRE_RESULT_LANE_EVENTS + l;
    uint32_t n = vyre_load_relaxed_u32 (&record[i]);
    sum += VYRE_CHECK_TERM (i, n);
    if (n > per_lane)
      n = per_lane;             /* the kernel never writes more; the sum
                                   already disagrees */
    for (uint32_t e = 0; e < n; e++) {
      const uint32_t base = VYRE_RESULT_HEADER_WORDS
          + (e * VYRE_RESULT_LANES + l) * VYRE_MATCH_WORDS;
      const uint32_t *ev = &record[base];
      uint32_t state = vyre_load_relaxed_u32 (&ev[VYRE_MATCH_STATE]);
      uint32_t end_lo = vyre_load_relaxed_u32 (&ev[VYRE_MATCH_END_LO]);
      uint32_t end_hi = vyre_load_relaxed_u32 (&ev[VYRE_MATCH_END_HI]);
      uint32_t count = vyre_load_relaxed_u32 (&ev[VYRE_MATCH_COUNT]);
      uint32_t folded = VYRE_CHECK_EVENT (state, end_lo, end_hi, count);
      sum += VYRE_CHECK_TERM (base, folded);
    }
  }
  return sum;
}

uint32_t
vyre_result_hist_check (const uint32_t * record)
{
  uint32_t sum = 0;
  for (uint32_t b = 0; b < 256; b++)
    sum += VYRE_CHECK_TERM (VYRE_RESULT_HIST + b,
        vyre_load_relaxed_u32 (&record[VYRE_RESULT_HIST + b]));
  return sum;
}
