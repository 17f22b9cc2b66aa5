/* result_check.c - see result_check.h. */
#include "result_check.h"

#include "store_order.h"
#include "vyre_protocol.h"
#include "vyre_slot.h"

uint32_t
vyre_result_check (const uint32_t * record, uint32_t max_matches,
    uint32_t ops)
{
  const uint32_t per_lane = max_matches / VYRE_RESULT_LANES;
  uint32_t sum = 0;
  for (uint32_t l = 0; l < VYRE_RESULT_LANES; l++) {
    const uint32_t i = VYRE_RESULT_LANE_EVENTS + l;
    uint32_t n = vyre_load_relaxed_u32 (&record[i]);
    sum += vyre_check_term (i, n);
    if (n > per_lane)
      n = per_lane;             /* the kernel never writes more; the sum
                                   already disagrees */
    for (uint32_t e = 0; e < n; e++) {
      const uint32_t base = VYRE_RESULT_HEADER_WORDS
          + (e * VYRE_RESULT_LANES + l) * VYRE_MATCH_WORDS;
      for (uint32_t k = 0; k < VYRE_MATCH_WORDS; k++)
        sum += vyre_check_term (base + k,
            vyre_load_relaxed_u32 (&record[base + k]));
    }
  }
  if (ops & VYRE_OPS_HISTOGRAM)
    for (uint32_t b = 0; b < 256; b++)
      sum += vyre_check_term (VYRE_RESULT_HIST + b,
          vyre_load_relaxed_u32 (&record[VYRE_RESULT_HIST + b]));
  return sum;
}
