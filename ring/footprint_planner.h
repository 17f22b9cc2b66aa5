/*
 * footprint_planner.h - how much device memory a megakernel configuration
 * keeps resident, component by component, checked against a budget before
 * anything is allocated; and how a ring's jobs are split into bounded
 * drain windows (kernel launches).
 *
 * Components (bytes):
 *   ring          ring_slots x slot_bytes                 (64 B slots)
 *   completions   completion_entries x completion_bytes   (64 B entries)
 *   control       VYRE_CONTROL_WORDS x 4                  (fixed, 1 KiB)
 *   arena         arena_bytes if non-zero, else
 *                 slots_in_flight x max_buffer_bytes
 *   carry         carry_windows x carry_window_bytes
 *   results       result_records x (VYRE_RESULT_HEADER_WORDS +
 *                 VYRE_MATCH_WORDS x max_matches) x 4
 *   patterns      pattern_table_bytes
 *   io queue      io_entries x io_entry_bytes             (32 B entries)
 *
 * All arithmetic is in uint64 with overflow checks; an overflow names the
 * quantity being computed.  Every error comes back as a vyre_status with
 * a message ending in "Fix: ...".  Nothing here allocates or aborts.
 */
#ifndef VYRE_FOOTPRINT_PLANNER_H
#define VYRE_FOOTPRINT_PLANNER_H

#include <stdbool.h>
#include <stdint.h>

#include "vyre_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  VYRE_FOOTPRINT_RING,
  VYRE_FOOTPRINT_COMPLETIONS,
  VYRE_FOOTPRINT_CONTROL,
  VYRE_FOOTPRINT_ARENA,
  VYRE_FOOTPRINT_CARRY,
  VYRE_FOOTPRINT_RESULTS,
  VYRE_FOOTPRINT_PATTERNS,
  VYRE_FOOTPRINT_IO_QUEUE,
  VYRE_FOOTPRINT_COMPONENTS     /* count */
} vyre_footprint_component;

/* What to plan.  Start from vyre_footprint_profile_init (ABI widths from
 * vyre_protocol.h, everything else 0), then fill in the sizes. */
typedef struct {
  uint64_t ring_slots;          /* > 0 */
  uint64_t slot_bytes;          /* ABI width, > 0 (VYRE_SLOT_BYTES) */
  uint64_t completion_entries;  /* > 0; the protocol uses one per slot */
  uint64_t completion_bytes;    /* ABI width, > 0 (VYRE_COMPLETION_WORDS*4) */
  uint64_t slots_in_flight;     /* data jobs resident at once (> 0 unless
                                   arena_bytes is given) */
  uint64_t max_buffer_bytes;    /* largest buffer per job, i.e. the
                                   blocksize (> 0 unless arena_bytes) */
  uint64_t arena_bytes;         /* non-zero: the arena size, used as is */
  uint64_t carry_windows;       /* usually ring_slots; 0 = no carry */
  uint64_t carry_window_bytes;  /* longest pattern - 1; 0 = no carry */
  uint64_t result_records;      /* > 0: one per in-flight data job */
  uint64_t max_matches;         /* match entries per result record: a
                                   multiple of VYRE_RESULT_LANES (the
                                   kernel's lanes split the records) */
  uint64_t pattern_table_bytes; /* scan table; 0 = no scanning */
  uint64_t io_entries;          /* IO queue entries; 0 = no IO queue */
  uint64_t io_entry_bytes;      /* ABI width, > 0 (VYRE_IO_SLOT_WORDS*4) */
  uint64_t budget_bytes;        /* device memory the plan may use */
} vyre_footprint_profile;

typedef struct {
  uint64_t bytes[VYRE_FOOTPRINT_COMPONENTS]; /* per component */
  uint64_t result_record_bytes;  /* stride of one result record */
  uint64_t total_bytes;          /* sum of bytes[] */
  uint64_t budget_bytes;
  uint64_t headroom_bytes;       /* budget - total (0 when over budget) */
  vyre_footprint_component largest; /* first component of maximal size */
} vyre_footprint_plan;

/* Splitting `jobs` into launches of at most max_jobs_per_window each. */
typedef struct {
  uint64_t jobs;
  uint64_t max_jobs_per_window;
  uint64_t windows;            /* ceil(jobs / max_jobs_per_window), >= 1 */
  uint64_t items_per_window;   /* min(max_jobs_per_window, jobs) */
  uint64_t last_window_items;  /* jobs in the last window, 1..items */
  bool chunked;                /* windows > 1 */
} vyre_drain_plan;

typedef struct {
  vyre_footprint_plan footprint;
  vyre_drain_plan drain;       /* over the ring's slots */
} vyre_footprint_backpressure_plan;

/* Zero *p and set the ABI widths (slot, completion, IO entry bytes). */
void vyre_footprint_profile_init (vyre_footprint_profile * p);

/* Plan p.  VYRE_ERR_INVALID_ARGUMENT for a zero capacity or zero entry
 * size (the message names the field) or a max_matches that is not a
 * multiple of VYRE_RESULT_LANES, VYRE_ERR_OVERFLOW (names the
 * quantity), VYRE_ERR_OVER_BUDGET (required vs budget bytes, the largest
 * component, a Fix).  On VYRE_OK and on VYRE_ERR_OVER_BUDGET *out holds
 * every component and the total; on other errors it is zeroed. */
vyre_status vyre_footprint_plan_compute (const vyre_footprint_profile * p,
    vyre_footprint_plan * out, vyre_error * err);

/* Drain windows for `jobs` jobs, at most max_jobs_per_window per window.
 * VYRE_ERR_INVALID_ARGUMENT for jobs == 0 (zero capacity) or a zero
 * window.  Exact for every uint64 input (no rounding overflow). */
vyre_status vyre_drain_plan_compute (uint64_t jobs,
    uint64_t max_jobs_per_window, vyre_drain_plan * out, vyre_error * err);

/* Footprint of p plus its ring drained in windows of at most
 * max_jobs_per_launch slots.  A zero window is rejected before planning. */
vyre_status vyre_footprint_plan_backpressure (
    const vyre_footprint_profile * p, uint64_t max_jobs_per_launch,
    vyre_footprint_backpressure_plan * out, vyre_error * err);

/* "ring", "completions", "control", "arena", "carry", "results",
 * "patterns", "io-queue"; "unknown" otherwise. */
const char *vyre_footprint_component_name (vyre_footprint_component c);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_FOOTPRINT_PLANNER_H */
