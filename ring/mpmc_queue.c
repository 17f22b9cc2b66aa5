/*
 * mpmc_queue.c - see mpmc_queue.h.
 *
 * Cell protocol, for a position pos (a 64-bit counter value) and the cell
 * c = cells[pos & mask]:
 *   c.seq == pos            the cell is free for the producer of pos;
 *   c.seq == pos + 1        it holds the item of pos, for its consumer;
 *   c.seq == pos + capacity the consumer is done: free for the next lap.
 * A producer claims pos by CAS head pos -> pos + 1, writes the item and
 * publishes it with a release store of seq = pos + 1; the consumer's
 * acquire load of seq then makes the item visible.  The CASes on head and
 * tail only hand out positions, so they can be relaxed: all data flows
 * through the per-cell seq.
 */
#include "mpmc_queue.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#define MPMC_MAGIC 0x56594d5051554555ull /* "VYMPQUEU" */
#define MPMC_LAYOUT_VERSION 1u
#define CACHE_LINE 64

typedef struct {
  _Atomic uint64_t seq;
  uint64_t item;
} mpmc_cell;

/* head and tail each own a cache line, so producers and consumers do not
 * invalidate each other's counter on every operation; the read-only
 * header has its own line too. */
struct vyre_mpmc_queue {
  alignas (CACHE_LINE) uint64_t magic;
  uint32_t layout_version;
  uint32_t capacity;
  uint64_t mask;
  uint64_t start_counter;
  alignas (CACHE_LINE) _Atomic uint64_t head;   /* next position to push */
  alignas (CACHE_LINE) _Atomic uint64_t tail;   /* next position to pop  */
  alignas (CACHE_LINE) mpmc_cell cells[];
};

_Static_assert (sizeof (mpmc_cell) == 16, "cell layout");
_Static_assert (offsetof (struct vyre_mpmc_queue, head) % CACHE_LINE == 0,
    "head on its own line");
_Static_assert (offsetof (struct vyre_mpmc_queue, tail)
    - offsetof (struct vyre_mpmc_queue, head) >= CACHE_LINE, "head/tail apart");
_Static_assert (offsetof (struct vyre_mpmc_queue, cells)
    - offsetof (struct vyre_mpmc_queue, tail) >= CACHE_LINE, "tail/cells apart");

static bool
capacity_ok (uint32_t capacity)
{
  return capacity >= 2 && capacity <= VYRE_MPMC_MAX_CAPACITY
      && (capacity & (capacity - 1)) == 0;
}

size_t
vyre_mpmc_footprint (uint32_t capacity)
{
  if (!capacity_ok (capacity))
    return 0;
  return sizeof (struct vyre_mpmc_queue) + (size_t) capacity * sizeof (mpmc_cell);
}

static vyre_status
check_memory (void *mem, size_t bytes, size_t need, vyre_error * err)
{
  if (mem == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "MPMC queue memory is NULL. Fix: pass memory of "
        "vyre_mpmc_footprint (capacity) bytes.");
  if (((uintptr_t) mem) % CACHE_LINE != 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "MPMC queue memory %p is not %d-byte aligned. Fix: use "
        "aligned_alloc (64, ...), mmap, or round the offset inside the "
        "shared block up to 64.", mem, CACHE_LINE);
  if (bytes < need)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "MPMC queue memory has %zu bytes, needs %zu. Fix: size it with "
        "vyre_mpmc_footprint (capacity).", bytes, need);
  return VYRE_OK;
}

vyre_status
vyre_mpmc_init (void *mem, size_t bytes, uint32_t capacity,
    uint64_t start_counter, vyre_mpmc_queue ** out, vyre_error * err)
{
  if (out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_mpmc_init: out is NULL. Fix: pass where to store the queue.");
  *out = NULL;
  if (!capacity_ok (capacity))
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "MPMC capacity %u is not a power of two in [2, %u]. Fix: round the "
        "capacity up to a power of two.", capacity, VYRE_MPMC_MAX_CAPACITY);
  vyre_status st = check_memory (mem, bytes, vyre_mpmc_footprint (capacity),
      err);
  if (st != VYRE_OK)
    return st;

  struct vyre_mpmc_queue *q = mem;
  memset (q, 0, sizeof *q);
  q->layout_version = MPMC_LAYOUT_VERSION;
  q->capacity = capacity;
  q->mask = capacity - 1;
  q->start_counter = start_counter;
  atomic_init (&q->head, start_counter);
  atomic_init (&q->tail, start_counter);
  /* Position start_counter + k lands in cell (start_counter + k) & mask
   * and finds it free when its seq equals that position. */
  for (uint32_t k = 0; k < capacity; k++) {
    uint64_t pos = start_counter + k;
    mpmc_cell *c = &q->cells[pos & q->mask];
    atomic_init (&c->seq, pos);
    c->item = 0;
  }
  /* Magic last, with release: a process that attaches and sees it sees an
   * initialised queue (attach loads it with acquire). */
  __atomic_store_n (&q->magic, MPMC_MAGIC, __ATOMIC_RELEASE);
  *out = q;
  return VYRE_OK;
}

vyre_status
vyre_mpmc_attach (void *mem, size_t bytes, vyre_mpmc_queue ** out,
    vyre_error * err)
{
  if (out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_mpmc_attach: out is NULL. Fix: pass where to store the queue.");
  *out = NULL;
  vyre_status st = check_memory (mem, bytes, sizeof (struct vyre_mpmc_queue),
      err);
  if (st != VYRE_OK)
    return st;
  struct vyre_mpmc_queue *q = mem;
  uint64_t magic = __atomic_load_n (&q->magic, __ATOMIC_ACQUIRE);
  if (magic != MPMC_MAGIC || q->layout_version != MPMC_LAYOUT_VERSION)
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "memory holds no initialised MPMC queue (magic 0x%llx, layout %u; "
        "expected 0x%llx, %u). Fix: run vyre_mpmc_init on it first, in the "
        "process that creates the shared block.",
        (unsigned long long) magic, q->layout_version,
        (unsigned long long) MPMC_MAGIC, MPMC_LAYOUT_VERSION);
  if (!capacity_ok (q->capacity) || q->mask != (uint64_t) q->capacity - 1)
    return vyre_fail (err, VYRE_ERR_MALFORMED,
        "MPMC queue header is corrupt (capacity %u, mask 0x%llx). Fix: "
        "re-initialise the queue; something else wrote into its memory.",
        q->capacity, (unsigned long long) q->mask);
  size_t need = vyre_mpmc_footprint (q->capacity);
  if (bytes < need)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "MPMC queue of capacity %u needs %zu bytes, the mapping has %zu. "
        "Fix: map the whole queue.", q->capacity, need, bytes);
  *out = q;
  return VYRE_OK;
}

vyre_status
vyre_mpmc_push (vyre_mpmc_queue * q, uint64_t item, vyre_error * err)
{
  if (q == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_mpmc_push: queue is NULL. Fix: init or attach it first.");
  uint64_t pos = atomic_load_explicit (&q->head, memory_order_relaxed);
  mpmc_cell *c;
  for (;;) {
    c = &q->cells[pos & q->mask];
    uint64_t seq = atomic_load_explicit (&c->seq, memory_order_acquire);
    int64_t dif = (int64_t) (seq - pos);
    if (dif == 0) {
      /* On failure pos is reloaded with the current head. */
      if (atomic_compare_exchange_weak_explicit (&q->head, &pos, pos + 1,
              memory_order_relaxed, memory_order_relaxed))
        break;
    } else if (dif < 0) {
      /* The cell still holds (or is being emptied of) the item from one
       * lap ago. */
      return vyre_fail (err, VYRE_ERR_QUEUE_FULL,
          "MPMC queue is full (%u items). Fix: pop items, or retry later "
          "(push never blocks).", q->capacity);
    } else {
      /* Another producer took pos already; catch up. */
      pos = atomic_load_explicit (&q->head, memory_order_relaxed);
    }
  }
  c->item = item;
  atomic_store_explicit (&c->seq, pos + 1, memory_order_release);
  return VYRE_OK;
}

vyre_status
vyre_mpmc_pop (vyre_mpmc_queue * q, uint64_t * item, vyre_error * err)
{
  if (q == NULL || item == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_mpmc_pop: %s is NULL. Fix: pass an initialised queue and an "
        "output item.", q == NULL ? "queue" : "item");
  uint64_t pos = atomic_load_explicit (&q->tail, memory_order_relaxed);
  mpmc_cell *c;
  for (;;) {
    c = &q->cells[pos & q->mask];
    uint64_t seq = atomic_load_explicit (&c->seq, memory_order_acquire);
    int64_t dif = (int64_t) (seq - (pos + 1));
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit (&q->tail, &pos, pos + 1,
              memory_order_relaxed, memory_order_relaxed))
        break;
    } else if (dif < 0) {
      return vyre_fail (err, VYRE_ERR_QUEUE_EMPTY,
          "MPMC queue is empty. Fix: push items first, or retry later (pop "
          "never blocks).");
    } else {
      pos = atomic_load_explicit (&q->tail, memory_order_relaxed);
    }
  }
  *item = c->item;
  /* Free the cell for the producer one lap ahead. */
  atomic_store_explicit (&c->seq, pos + q->mask + 1, memory_order_release);
  return VYRE_OK;
}

uint64_t
vyre_mpmc_size_approx (const vyre_mpmc_queue * q)
{
  if (q == NULL)
    return 0;
  /* tail first: head only grows and never falls behind tail, so the
   * difference cannot be negative; it can overshoot the capacity when
   * other threads push and pop between the two loads, hence the clamp. */
  uint64_t tail = atomic_load_explicit (&((struct vyre_mpmc_queue *) q)->tail,
      memory_order_acquire);
  uint64_t head = atomic_load_explicit (&((struct vyre_mpmc_queue *) q)->head,
      memory_order_acquire);
  int64_t n = (int64_t) (head - tail);
  if (n < 0)
    return 0;
  if ((uint64_t) n > q->capacity)
    return q->capacity;
  return (uint64_t) n;
}

uint32_t
vyre_mpmc_capacity (const vyre_mpmc_queue * q)
{
  return q == NULL ? 0 : q->capacity;
}
