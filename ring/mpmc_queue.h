/*
 * mpmc_queue.h - bounded lock-free multi-producer multi-consumer queue of
 * uint64_t items (D. Vyukov's array queue).
 *
 * Every cell carries a 64-bit sequence number that says which lap of the
 * ring it is ready for; producers and consumers each claim a position by
 * CAS on a 64-bit counter (head / tail, on separate cache lines).  Nothing
 * ever blocks: a push into a full queue returns VYRE_ERR_QUEUE_FULL and a
 * pop from an empty one VYRE_ERR_QUEUE_EMPTY, and the caller decides how
 * to back off.
 *
 * The queue holds no pointers, so it can live in memory the caller
 * provides -- including a MAP_SHARED mapping used by several processes:
 * one process runs vyre_mpmc_init on the memory, the others
 * vyre_mpmc_attach to the same bytes.  The memory must be 64-byte
 * aligned.
 *
 * Counters are compared by wrapping (signed) difference, so they may start
 * anywhere (tests start them just below 2^32 and 2^64) and wrap.
 *
 * Progress note: like every Vyukov queue it is lock-free but not
 * linearizable at the edges.  A consumer that is preempted between
 * claiming a position and releasing its cell makes pushes that lap around
 * to that cell report FULL (and a stalled producer makes pops report
 * EMPTY) until it runs again.  Callers that know the queue cannot really
 * be full (vyre_host_ring's free-slot list) retry.
 */
#ifndef VYRE_MPMC_QUEUE_H
#define VYRE_MPMC_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "vyre_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vyre_mpmc_queue vyre_mpmc_queue;

/* Largest capacity accepted (2^30 cells = 16 GiB): a guard against a
 * corrupt capacity read from shared memory, not a design limit. */
#define VYRE_MPMC_MAX_CAPACITY (1u << 30)

/* Bytes of memory a queue of capacity cells needs (0 when capacity is
 * not a power of two in [2, VYRE_MPMC_MAX_CAPACITY]). */
size_t vyre_mpmc_footprint (uint32_t capacity);

/* Build an empty queue in mem (64-byte aligned, at least
 * vyre_mpmc_footprint (capacity) bytes).  head and tail both start at
 * start_counter.  *out points into mem; nothing is allocated, so there is
 * nothing to free. */
vyre_status vyre_mpmc_init (void *mem, size_t bytes, uint32_t capacity,
    uint64_t start_counter, vyre_mpmc_queue ** out, vyre_error * err);

/* Use a queue that vyre_mpmc_init built in mem (possibly in another
 * process): checks the header (magic, capacity, size) and returns it. */
vyre_status vyre_mpmc_attach (void *mem, size_t bytes,
    vyre_mpmc_queue ** out, vyre_error * err);

/* VYRE_OK, or VYRE_ERR_QUEUE_FULL (nothing changed). */
vyre_status vyre_mpmc_push (vyre_mpmc_queue * q, uint64_t item,
    vyre_error * err);

/* VYRE_OK with *item set, or VYRE_ERR_QUEUE_EMPTY. */
vyre_status vyre_mpmc_pop (vyre_mpmc_queue * q, uint64_t * item,
    vyre_error * err);

/* Items in the queue at some recent moment (exact when no one else is
 * using it); always within [0, capacity]. */
uint64_t vyre_mpmc_size_approx (const vyre_mpmc_queue * q);

uint32_t vyre_mpmc_capacity (const vyre_mpmc_queue * q);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_MPMC_QUEUE_H */
