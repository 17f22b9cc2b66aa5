/*
 * test_mpmc_queue.c - the bounded lock-free MPMC queue: argument checks,
 * FIFO order, full / empty, capacity 2, counters that wrap past 2^32 and
 * 2^64, a queue in MAP_SHARED memory used by a forked process, and 4
 * producers x 4 consumers moving millions of items with every item popped
 * exactly once and each producer's order kept as every consumer sees it.
 */
#include "mpmc_queue.h"
#include "ring_test_util.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define SANITIZER_DIVISOR 10
#elif defined(__SANITIZE_ADDRESS__)
#define SANITIZER_DIVISOR 4
#else
#define SANITIZER_DIVISOR 1
#endif

/* Every wait in this test gives up (and fails) after this long. */
#define WAIT_LIMIT_S 40.0

static uint64_t
scaled (uint64_t n)
{
  uint64_t r = ring_test_scaled (n) / SANITIZER_DIVISOR;
  return r ? r : 1;
}

static void *
alloc_queue (uint32_t capacity, size_t * bytes)
{
  *bytes = vyre_mpmc_footprint (capacity);
  void *mem = aligned_alloc (64, (*bytes + 63) & ~(size_t) 63);
  if (mem != NULL)
    memset (mem, 0xEE, *bytes);   /* init must not rely on zeroed memory */
  return mem;
}

static bool
has_fix (const vyre_error * e)
{
  return strstr (e->message, "Fix:") != NULL;
}

static void
test_arguments (void)
{
  CHECK_EQ_U64 (vyre_mpmc_footprint (0), 0);
  CHECK_EQ_U64 (vyre_mpmc_footprint (1), 0);
  CHECK_EQ_U64 (vyre_mpmc_footprint (3), 0);
  CHECK_EQ_U64 (vyre_mpmc_footprint (1u << 31), 0);
  CHECK (vyre_mpmc_footprint (2) > 0);
  CHECK (vyre_mpmc_footprint (4) > vyre_mpmc_footprint (2));

  size_t bytes;
  uint8_t *mem = alloc_queue (16, &bytes);
  vyre_mpmc_queue *q = (vyre_mpmc_queue *) 1;
  vyre_error err;
  CHECK (vyre_mpmc_init (mem, bytes, 12, 0, &q, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err) && q == NULL);
  CHECK (vyre_mpmc_init (mem, bytes - 1, 16, 0, &q, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err));
  CHECK (vyre_mpmc_init (mem + 8, bytes, 16, 0, &q, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err));
  CHECK (vyre_mpmc_init (NULL, bytes, 16, 0, &q, &err)
      == VYRE_ERR_INVALID_ARGUMENT && has_fix (&err));
  CHECK (vyre_mpmc_init (mem, bytes, 16, 0, NULL, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  /* Garbage is not a queue. */
  CHECK (vyre_mpmc_attach (mem, bytes, &q, &err) == VYRE_ERR_MALFORMED
      && has_fix (&err));
  CHECK (vyre_mpmc_init (mem, bytes, 16, 0, &q, &err) == VYRE_OK);
  vyre_mpmc_queue *q2 = NULL;
  CHECK (vyre_mpmc_attach (mem, bytes, &q2, &err) == VYRE_OK && q2 == q);
  CHECK (vyre_mpmc_attach (mem, 64, &q2, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_mpmc_push (NULL, 1, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_mpmc_pop (q, NULL, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK_EQ_U64 (vyre_mpmc_capacity (q), 16);
  CHECK_EQ_U64 (vyre_mpmc_size_approx (NULL), 0);
  free (mem);
}

/* Drive a queue with a random mix of pushes and pops and compare every
 * result with a plain array model.  Returns the number of operations. */
static uint64_t
model_check (uint32_t capacity, uint64_t start, uint64_t ops, uint64_t seed)
{
  size_t bytes;
  void *mem = alloc_queue (capacity, &bytes);
  vyre_mpmc_queue *q;
  vyre_error err;
  CHECK (vyre_mpmc_init (mem, bytes, capacity, start, &q, &err) == VYRE_OK);
  uint64_t *model = calloc (capacity, sizeof *model);
  uint64_t head = 0, tail = 0, next = 1, rng = seed;
  uint64_t bad = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t r = ring_test_rand (&rng);
    /* Phases that lean to pushing and to popping, so the queue goes
     * full and empty often. */
    bool push = ((i / 64) & 1) ? (r % 4 != 0) : (r % 4 == 0);
    if (push) {
      vyre_status st = vyre_mpmc_push (q, next, &err);
      if (head - tail == capacity) {
        bad += st != VYRE_ERR_QUEUE_FULL || !has_fix (&err);
      } else {
        bad += st != VYRE_OK;
        model[head++ % capacity] = next;
      }
      next++;
    } else {
      uint64_t item = 0;
      vyre_status st = vyre_mpmc_pop (q, &item, &err);
      if (head == tail) {
        bad += st != VYRE_ERR_QUEUE_EMPTY || !has_fix (&err);
      } else {
        bad += st != VYRE_OK || item != model[tail++ % capacity];
      }
    }
    bad += vyre_mpmc_size_approx (q) != head - tail;
  }
  CHECK_EQ_U64 (bad, 0);
  free (model);
  free (mem);
  return ops;
}

static void
test_fifo_full_empty (void)
{
  size_t bytes;
  void *mem = alloc_queue (8, &bytes);
  vyre_mpmc_queue *q;
  vyre_error err;
  CHECK (vyre_mpmc_init (mem, bytes, 8, 0, &q, &err) == VYRE_OK);
  uint64_t item = 42;
  CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_ERR_QUEUE_EMPTY);
  CHECK_EQ_U64 (item, 42);
  for (uint64_t i = 0; i < 8; i++)
    CHECK (vyre_mpmc_push (q, 100 + i, &err) == VYRE_OK);
  CHECK (vyre_mpmc_push (q, 999, &err) == VYRE_ERR_QUEUE_FULL);
  CHECK_EQ_U64 (vyre_mpmc_size_approx (q), 8);
  for (uint64_t i = 0; i < 8; i++) {
    CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_OK);
    CHECK_EQ_U64 (item, 100 + i);
  }
  CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_ERR_QUEUE_EMPTY);
  /* Items are whole 64-bit values. */
  CHECK (vyre_mpmc_push (q, UINT64_MAX, &err) == VYRE_OK);
  CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_OK && item == UINT64_MAX);
  free (mem);

  /* Capacity 2, the smallest. */
  mem = alloc_queue (2, &bytes);
  CHECK (vyre_mpmc_init (mem, bytes, 2, 0, &q, &err) == VYRE_OK);
  for (int lap = 0; lap < 100; lap++) {
    CHECK (vyre_mpmc_push (q, 1, &err) == VYRE_OK);
    CHECK (vyre_mpmc_push (q, 2, &err) == VYRE_OK);
    CHECK (vyre_mpmc_push (q, 3, &err) == VYRE_ERR_QUEUE_FULL);
    CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_OK && item == 1);
    CHECK (vyre_mpmc_push (q, 4, &err) == VYRE_OK);
    CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_OK && item == 2);
    CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_OK && item == 4);
    CHECK (vyre_mpmc_pop (q, &item, &err) == VYRE_ERR_QUEUE_EMPTY);
  }
  free (mem);

  uint64_t ops = 0;
  ops += model_check (2, 0, scaled (20000), 1);
  ops += model_check (8, 0, scaled (50000), 2);
  ops += model_check (64, 12345, scaled (50000), 3);
  fprintf (stderr, "model check: %llu operations\n", (unsigned long long) ops);
}

static void
test_wrap_around (void)
{
  /* Start just below 2^32 (a 32-bit counter would wrap here) and just
   * below 2^64 (the 64-bit counters themselves wrap), with capacities
   * whose laps straddle the boundary at different cells. */
  const uint64_t starts[] = { (1ull << 32) - 5, UINT64_MAX - 4,
    UINT64_MAX - 1, UINT64_MAX, (1ull << 63) - 3 };
  for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
    model_check (2, starts[k], 200, 10 + k);
    model_check (4, starts[k], 500, 20 + k);
    model_check (16, starts[k], 2000, 30 + k);
  }
}

/* A queue in MAP_SHARED memory: the child attaches (it knows only the
 * bytes) and pushes; the parent pops everything in order. */
static void
test_shared_memory_process (void)
{
  const uint32_t capacity = 64;
  const uint64_t items = scaled (100000);
  size_t bytes = vyre_mpmc_footprint (capacity);
  void *mem = mmap (NULL, bytes, PROT_READ | PROT_WRITE,
      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK (mem != MAP_FAILED);
  if (mem == MAP_FAILED)
    return;
  vyre_mpmc_queue *q;
  vyre_error err;
  CHECK (vyre_mpmc_init (mem, bytes, capacity, (1ull << 32) - 100, &q, &err)
      == VYRE_OK);
  pid_t pid = fork ();
  if (pid == 0) {
    vyre_mpmc_queue *cq;
    if (vyre_mpmc_attach (mem, bytes, &cq, NULL) != VYRE_OK)
      _exit (2);
    double deadline = ring_test_now () + WAIT_LIMIT_S;
    for (uint64_t i = 1; i <= items;) {
      if (vyre_mpmc_push (cq, i, NULL) == VYRE_OK)
        i++;
      else if (ring_test_now () > deadline)
        _exit (3);
      else
        sched_yield ();
    }
    _exit (0);
  }
  CHECK (pid > 0);
  uint64_t expect = 1, bad = 0;
  double deadline = ring_test_now () + WAIT_LIMIT_S;
  while (pid > 0 && expect <= items && ring_test_now () < deadline) {
    uint64_t item;
    if (vyre_mpmc_pop (q, &item, NULL) == VYRE_OK)
      bad += item != expect++;
    else
      sched_yield ();
  }
  CHECK_EQ_U64 (expect, items + 1);
  CHECK_EQ_U64 (bad, 0);
  int status = -1;
  if (pid > 0) {
    if (expect <= items)
      kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  }
  munmap (mem, bytes);
}

/* ---- 4 producers x 4 consumers ---- */

#define PRODUCERS 4
#define CONSUMERS 4
#define PRODUCER_SHIFT 48

typedef struct {
  vyre_mpmc_queue *q;
  uint64_t per_producer;
  _Atomic uint8_t *seen[PRODUCERS];  /* pops of item i of producer p */
  _Atomic uint64_t popped;
  _Atomic uint64_t full_retries;
  _Atomic uint64_t empty_retries;
  _Atomic uint64_t order_violations;
  _Atomic bool give_up;
  double deadline;
} mt_state;

typedef struct {
  mt_state *s;
  uint32_t id;
} mt_arg;

static void *
producer_main (void *p)
{
  mt_arg *a = p;
  mt_state *s = a->s;
  uint64_t retries = 0;
  for (uint64_t i = 0; i < s->per_producer;) {
    uint64_t item = ((uint64_t) a->id << PRODUCER_SHIFT) | i;
    if (vyre_mpmc_push (s->q, item, NULL) == VYRE_OK) {
      i++;
      continue;
    }
    retries++;
    if (atomic_load_explicit (&s->give_up, memory_order_relaxed))
      break;
    if ((retries & 255) == 0 && ring_test_now () > s->deadline) {
      atomic_store (&s->give_up, true);
      break;
    }
    sched_yield ();
  }
  atomic_fetch_add (&s->full_retries, retries);
  return NULL;
}

static void *
consumer_main (void *p)
{
  mt_arg *a = p;
  mt_state *s = a->s;
  const uint64_t total = s->per_producer * PRODUCERS;
  /* Last index seen from each producer: a producer's items must reach any
   * one consumer in the order they were pushed. */
  int64_t last[PRODUCERS];
  for (int k = 0; k < PRODUCERS; k++)
    last[k] = -1;
  uint64_t retries = 0, violations = 0;
  while (atomic_load_explicit (&s->popped, memory_order_relaxed) < total) {
    uint64_t item;
    if (vyre_mpmc_pop (s->q, &item, NULL) == VYRE_OK) {
      uint64_t prod = item >> PRODUCER_SHIFT;
      uint64_t idx = item & ((1ull << PRODUCER_SHIFT) - 1);
      if (prod >= PRODUCERS || idx >= s->per_producer) {
        violations++;
      } else {
        if ((int64_t) idx <= last[prod])
          violations++;
        last[prod] = (int64_t) idx;
        atomic_fetch_add_explicit (&s->seen[prod][idx], 1,
            memory_order_relaxed);
      }
      atomic_fetch_add_explicit (&s->popped, 1, memory_order_relaxed);
      continue;
    }
    retries++;
    if (atomic_load_explicit (&s->give_up, memory_order_relaxed))
      break;
    if ((retries & 255) == 0 && ring_test_now () > s->deadline) {
      atomic_store (&s->give_up, true);
      break;
    }
    sched_yield ();
  }
  atomic_fetch_add (&s->empty_retries, retries);
  atomic_fetch_add (&s->order_violations, violations);
  return NULL;
}

static void
run_mpmc (uint32_t capacity, uint64_t start, uint64_t total)
{
  mt_state s;
  memset (&s, 0, sizeof s);
  s.per_producer = total / PRODUCERS;
  size_t bytes;
  void *mem = alloc_queue (capacity, &bytes);
  vyre_error err;
  CHECK (vyre_mpmc_init (mem, bytes, capacity, start, &s.q, &err) == VYRE_OK);
  for (int p = 0; p < PRODUCERS; p++)
    s.seen[p] = calloc (s.per_producer, 1);
  atomic_init (&s.popped, 0);
  atomic_init (&s.give_up, false);
  s.deadline = ring_test_now () + WAIT_LIMIT_S;

  double t0 = ring_test_now ();
  pthread_t th[PRODUCERS + CONSUMERS];
  mt_arg args[PRODUCERS + CONSUMERS];
  for (uint32_t i = 0; i < PRODUCERS + CONSUMERS; i++) {
    args[i].s = &s;
    args[i].id = i < PRODUCERS ? i : i - PRODUCERS;
    CHECK (pthread_create (&th[i], NULL, i < PRODUCERS ? producer_main :
            consumer_main, &args[i]) == 0);
  }
  for (int i = 0; i < PRODUCERS + CONSUMERS; i++)
    pthread_join (th[i], NULL);
  double dt = ring_test_now () - t0;

  CHECK (!atomic_load (&s.give_up));
  CHECK_EQ_U64 (atomic_load (&s.popped), s.per_producer * PRODUCERS);
  CHECK_EQ_U64 (atomic_load (&s.order_violations), 0);
  uint64_t lost = 0, dup = 0;
  for (int p = 0; p < PRODUCERS; p++) {
    for (uint64_t i = 0; i < s.per_producer; i++) {
      uint8_t n = atomic_load_explicit (&s.seen[p][i], memory_order_relaxed);
      lost += n == 0;
      dup += n > 1;
    }
    free (s.seen[p]);
  }
  CHECK_EQ_U64 (lost, 0);
  CHECK_EQ_U64 (dup, 0);
  uint64_t leftover;
  CHECK (vyre_mpmc_pop (s.q, &leftover, NULL) == VYRE_ERR_QUEUE_EMPTY);
  fprintf (stderr, "mpmc %dx%d capacity %u start %llu: %llu items in %.2f s "
      "(%.1f M/s), %llu full / %llu empty retries\n", PRODUCERS, CONSUMERS,
      capacity, (unsigned long long) start,
      (unsigned long long) (s.per_producer * PRODUCERS), dt,
      (double) (s.per_producer * PRODUCERS) / dt / 1e6,
      (unsigned long long) atomic_load (&s.full_retries),
      (unsigned long long) atomic_load (&s.empty_retries));
  free (mem);
}

int
main (void)
{
  double t0 = ring_test_now ();
  test_arguments ();
  test_fifo_full_empty ();
  test_wrap_around ();
  /* fork before any thread exists. */
  test_shared_memory_process ();
  run_mpmc (256, 0, scaled (4000000));
  /* Counters cross 2^64 while 8 threads hammer the queue. */
  run_mpmc (16, UINT64_MAX - 20000, scaled (400000));
  fprintf (stderr, "test_mpmc_queue: %.2f s\n", ring_test_now () - t0);
  return ring_test_finish ("test_mpmc_queue");
}
