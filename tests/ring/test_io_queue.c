/*
 * test_io_queue.c - ring/io_queue: both directions (host-published
 * outcomes reaped by a consumer; requests claimed, performed and completed
 * by a service), the ERROR path surfaced with the errno text and never
 * hanging, QueueFull, malformed entries, offsets above 4 GiB, and
 * requesters / servicers on several threads -- in one process, and in two
 * processes (fork) sharing a MAP_SHARED mapping, reading a real sparse
 * file larger than 4 GiB with pread.  Every wait is bounded.
 */
#include "io_queue.h"
#include "ring_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GiB (1ull << 30)
#define MS 1000000ull
#define SECOND 1000000000ull

static int
has (const vyre_error * e, const char *needle)
{
  return strstr (e->message, needle) != NULL;
}

static uint32_t
status_of (const uint32_t * words, uint32_t entry)
{
  return __atomic_load_n (&words[entry * VYRE_IO_SLOT_WORDS + VYRE_IO_STATUS],
      __ATOMIC_ACQUIRE);
}

static void
poke (uint32_t * words, uint32_t entry, uint32_t word, uint32_t value)
{
  __atomic_store_n (&words[entry * VYRE_IO_SLOT_WORDS + word], value,
      __ATOMIC_RELEASE);
}

static int
same_request (const vyre_io_request * a, const vyre_io_request * b)
{
  return a->op == b->op && a->src == b->src && a->dst == b->dst
      && a->offset == b->offset && a->bytes == b->bytes && a->tag == b->tag;
}

static vyre_io_request
read_req (uint32_t src, uint32_t dst, uint64_t offset, uint32_t bytes,
    uint32_t tag)
{
  return (vyre_io_request) { VYRE_IO_OP_READ, src, dst, offset, bytes, tag };
}

/* Byte at absolute offset o of the test "file" (a fake one in memory, and
 * the regions written into the real sparse file). */
static uint8_t
file_byte (uint64_t o)
{
  uint64_t x = o * 0x9E3779B97F4A7C15ull;
  return (uint8_t) (x >> 56 ^ o >> 32);
}

/* ------------------------------------------------------------------ */

static void
test_init_and_arguments (void)
{
  uint32_t words[4 * VYRE_IO_SLOT_WORDS];
  vyre_io_queue q;
  vyre_error err;

  CHECK_EQ_U64 (vyre_io_queue_bytes (4), 128);
  CHECK_EQ_U64 (vyre_io_queue_bytes (UINT32_MAX), (uint64_t) UINT32_MAX * 32);
  memset (words, 0xAB, sizeof words);
  CHECK (vyre_io_queue_init (&q, words, 4, &err) == VYRE_OK);
  for (uint32_t i = 0; i < 4 * VYRE_IO_SLOT_WORDS; i++)
    CHECK (words[i] == 0);

  CHECK (vyre_io_queue_init (NULL, words, 4, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_init (&q, NULL, 4, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "Fix: "));
  CHECK (vyre_io_queue_init (&q, words, 0, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "0 entries") && has (&err, "Fix: "));
  CHECK (vyre_io_queue_attach (&q, words, VYRE_IO_QUEUE_MAX_ENTRIES + 1, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_attach (&q, (uint32_t *) ((char *) words + 2), 2, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "aligned"));

  /* An uninitialised handle is refused, not dereferenced. */
  vyre_io_queue none = { 0 };
  vyre_io_request r = read_req (1, 2, 3, 4, 5);
  vyre_io_completion c;
  uint32_t e;
  CHECK (vyre_io_queue_submit (&none, &r, &e, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_reap (&none, 0, &c, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_claim (&none, &r, &e, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_reap_any (NULL, &c, &err) == VYRE_ERR_INVALID_ARGUMENT);

  /* Requests are validated before anything is written. */
  CHECK (vyre_io_queue_init (&q, words, 4, &err) == VYRE_OK);
  r.op = 7;
  CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "unknown op") && has (&err, "Fix: "));
  r = read_req (1, 2, UINT64_MAX - 10, 11, 0);
  CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "wraps"));
  r = read_req (1, 2, UINT64_MAX - 10, 10, 0);      /* end offset 2^64-1 */
  CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_OK);
  r = (vyre_io_request) { VYRE_IO_OP_FENCE, 0, 0, 0, 1, 0 };
  CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_submit (&q, NULL, &e, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_publish_outcome (&q, &r, 0, &e, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  r.bytes = 0;
  CHECK (vyre_io_queue_publish_outcome (&q, &r, -1, &e, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_publish_outcome (&q, &r, 4096, &e, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  vyre_io_census cs;
  vyre_io_queue_census (&q, &cs);
  CHECK (cs.published == 1 && cs.empty == 3);
  CHECK (vyre_io_queue_reap (&q, 4, &c, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "out of range"));

  CHECK (strcmp (vyre_io_status_name (VYRE_IO_STATUS_ERROR), "error") == 0);
  CHECK (strcmp (vyre_io_status_name (VYRE_STATUS_DONE), "invalid") == 0);
}

/* Direction 2, one thread: submit, claim, complete OK, reap. */
static void
test_request_roundtrip (void)
{
  uint32_t words[8 * VYRE_IO_SLOT_WORDS];
  vyre_io_queue q;
  vyre_error err;
  vyre_io_completion c;
  vyre_io_request got;
  uint32_t e, ce;

  CHECK (vyre_io_queue_init (&q, words, 8, &err) == VYRE_OK);
  const uint64_t off = 5 * GiB + 7;               /* above 4 GiB */
  vyre_io_request r = read_req (3, 11, off, 4096, 0xC0FFEE);
  CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_OK);
  CHECK (e < 8);
  /* The wire words, exactly. */
  const uint32_t *w = &words[e * VYRE_IO_SLOT_WORDS];
  CHECK (w[VYRE_IO_OP] == VYRE_IO_OP_READ);
  CHECK (w[VYRE_IO_SRC] == 3 && w[VYRE_IO_DST] == 11);
  CHECK (w[VYRE_IO_OFF_LO] == (uint32_t) off);
  CHECK (w[VYRE_IO_OFF_HI] == (uint32_t) (off >> 32) && w[VYRE_IO_OFF_HI] == 1);
  CHECK (w[VYRE_IO_BYTES] == 4096 && w[VYRE_IO_TAG] == 0xC0FFEE);
  CHECK (status_of (words, e) == VYRE_STATUS_PUBLISHED);

  CHECK (vyre_io_queue_reap (&q, e, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK (has (&err, "published"));
  CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
  CHECK (ce == e);
  CHECK (same_request (&got, &r));
  CHECK (status_of (words, e) == VYRE_STATUS_CLAIMED);
  CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_ERR_QUEUE_EMPTY);
  CHECK (vyre_io_queue_reap (&q, e, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK (has (&err, "claimed"));

  /* Completing more than requested, or an entry not claimed: refused. */
  CHECK (vyre_io_queue_complete_ok (&q, e, 4097, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "4097") && has (&err, "Fix: "));
  CHECK (vyre_io_queue_complete_ok (&q, (e + 1) % 8, 1, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "not claimed"));
  CHECK (vyre_io_queue_complete_ok (&q, 99, 1, &err)
      == VYRE_ERR_INVALID_ARGUMENT);

  /* A short read (end of file) is an OK outcome. */
  CHECK (vyre_io_queue_complete_ok (&q, e, 1000, &err) == VYRE_OK);
  CHECK (status_of (words, e) == VYRE_IO_STATUS_OK);
  CHECK (vyre_io_queue_complete_ok (&q, e, 1000, &err)
      == VYRE_ERR_INVALID_ARGUMENT);               /* not twice */
  memset (&c, 0xFF, sizeof c);
  CHECK (vyre_io_queue_wait (&q, e, SECOND, &c, &err) == VYRE_OK);
  CHECK (c.entry == e && c.status == VYRE_IO_STATUS_OK);
  CHECK (c.op == VYRE_IO_OP_READ && c.src == 3 && c.dst == 11);
  CHECK (c.offset == off && c.bytes == 1000 && c.tag == 0xC0FFEE);
  CHECK (c.errnum == 0);
  CHECK (status_of (words, e) == VYRE_STATUS_EMPTY);
  CHECK (vyre_io_queue_reap (&q, e, &c, &err) == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "EMPTY"));

  /* WRITE and FENCE travel the same way. */
  vyre_io_request wr = { VYRE_IO_OP_WRITE, 4, 9, 6 * GiB, 512, 77 };
  vyre_io_request fe = { VYRE_IO_OP_FENCE, 0, 0, 0, 0, 78 };
  uint32_t e1, e2;
  CHECK (vyre_io_queue_submit (&q, &wr, &e1, &err) == VYRE_OK);
  CHECK (vyre_io_queue_submit (&q, &fe, &e2, &err) == VYRE_OK);
  for (int k = 0; k < 2; k++) {
    CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
    CHECK (vyre_io_queue_complete_ok (&q, ce, got.bytes, &err) == VYRE_OK);
  }
  CHECK (vyre_io_queue_reap (&q, e1, &c, &err) == VYRE_OK);
  CHECK (c.op == VYRE_IO_OP_WRITE && c.offset == 6 * GiB && c.bytes == 512);
  CHECK (vyre_io_queue_reap (&q, e2, &c, &err) == VYRE_OK);
  CHECK (c.op == VYRE_IO_OP_FENCE && c.tag == 78);

  /* Offsets use all 64 bits. */
  vyre_io_request top = read_req (1, 1, UINT64_MAX - 4096, 4096, 1);
  CHECK (vyre_io_queue_submit (&q, &top, &e, &err) == VYRE_OK);
  CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
  CHECK (got.offset == UINT64_MAX - 4096);
  CHECK (vyre_io_queue_complete_ok (&q, ce, 4096, &err) == VYRE_OK);
  CHECK (vyre_io_queue_reap (&q, e, &c, &err) == VYRE_OK);
  CHECK (c.offset == UINT64_MAX - 4096);

  vyre_io_census cs;
  vyre_io_queue_census (&q, &cs);
  CHECK (cs.empty == 8 && cs.malformed == 0 && cs.first_malformed == 8);
}

/* ERROR: surfaced with offset, bytes, errno text and a Fix; never hangs. */
static void
test_error_path (void)
{
  uint32_t words[4 * VYRE_IO_SLOT_WORDS];
  vyre_io_queue q;
  vyre_error err;
  vyre_io_completion c;
  vyre_io_request got;
  uint32_t e, ce;

  CHECK (vyre_io_queue_init (&q, words, 4, &err) == VYRE_OK);
  const uint64_t off = 4 * GiB + 123;
  vyre_io_request r = read_req (5, 2, off, 65536, 42);
  CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_OK);
  CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
  CHECK (vyre_io_queue_complete_error (&q, ce, 0, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_complete_error (&q, ce, -EIO, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (vyre_io_queue_complete_error (&q, ce, 5000, &err)
      == VYRE_ERR_INVALID_ARGUMENT);
  CHECK (has (&err, "Fix: "));
  CHECK (vyre_io_queue_complete_error (&q, ce, ENOENT, &err) == VYRE_OK);
  CHECK (status_of (words, e) == VYRE_IO_STATUS_ERROR);
  CHECK (words[e * VYRE_IO_SLOT_WORDS + VYRE_IO_TAG] == ENOENT);
  CHECK (words[e * VYRE_IO_SLOT_WORDS + VYRE_IO_BYTES] == 65536);

  double t0 = ring_test_now ();
  vyre_error_clear (&err);
  CHECK (vyre_io_queue_wait (&q, e, 10 * SECOND, &c, &err) == VYRE_ERR_IO);
  CHECK (ring_test_now () - t0 < 5.0);            /* promptly, no hang */
  CHECK (err.status == VYRE_ERR_IO);
  CHECK (has (&err, strerror (ENOENT)));
  CHECK (has (&err, "4294967419"));               /* the offset */
  CHECK (has (&err, "65536 bytes"));
  CHECK (has (&err, "errno 2"));
  CHECK (has (&err, "Fix: "));
  CHECK (c.status == VYRE_IO_STATUS_ERROR && c.errnum == ENOENT);
  CHECK (c.offset == off && c.bytes == 65536 && c.src == 5 && c.dst == 2);
  CHECK (c.tag == 0);
  CHECK (status_of (words, e) == VYRE_STATUS_EMPTY);  /* recycled */
  fprintf (stderr, "  error text: %s\n", err.message);

  /* Every errno maps to its text. */
  int errs[] = { EBADF, EISDIR, EIO, EFAULT, EOVERFLOW, ENOSPC, 4095 };
  for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
    CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_OK);
    CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
    CHECK (vyre_io_queue_complete_error (&q, ce, errs[i], &err) == VYRE_OK);
    CHECK (vyre_io_queue_reap (&q, e, &c, &err) == VYRE_ERR_IO);
    CHECK (c.errnum == errs[i]);
    CHECK (has (&err, strerror (errs[i])));
    CHECK (has (&err, "Fix: "));
  }

  /* The longest message (every number at its maximum, a long errno text)
   * still fits, Fix included. */
  vyre_io_request big = { VYRE_IO_OP_WRITE, UINT32_MAX, UINT32_MAX,
    UINT64_MAX - UINT32_MAX, UINT32_MAX, 0 };
  CHECK (vyre_io_queue_submit (&q, &big, &e, &err) == VYRE_OK);
  CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
  CHECK (vyre_io_queue_complete_error (&q, ce, ENOTRECOVERABLE, &err)
      == VYRE_OK);
  CHECK (vyre_io_queue_reap (&q, e, &c, &err) == VYRE_ERR_IO);
  CHECK (has (&err, strerror (ENOTRECOVERABLE)));
  CHECK (has (&err, "resubmit or drop the request."));
  fprintf (stderr, "  longest error text (%zu bytes): %s\n",
      strlen (err.message), err.message);

  /* Nobody services: the wait ends with NOT_READY after the timeout. */
  CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_OK);
  t0 = ring_test_now ();
  CHECK (vyre_io_queue_wait (&q, e, 30 * MS, &c, &err) == VYRE_ERR_NOT_READY);
  double dt = ring_test_now () - t0;
  CHECK (dt >= 0.029 && dt < 5.0);
  CHECK (has (&err, "published") && has (&err, "Fix: "));
  CHECK (vyre_io_queue_wait (&q, e, 0, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
  t0 = ring_test_now ();
  CHECK (vyre_io_queue_wait (&q, e, 20 * MS, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK (has (&err, "claimed"));
  CHECK (vyre_io_queue_wait_claim (&q, 20 * MS, &got, &ce, &err)
      == VYRE_ERR_NOT_READY);
  CHECK (vyre_io_queue_wait_any (&q, 20 * MS, &c, &err) == VYRE_ERR_NOT_READY);
  CHECK (ring_test_now () - t0 < 10.0);
  CHECK (vyre_io_queue_complete_error (&q, e, EIO, &err) == VYRE_OK);
  CHECK (vyre_io_queue_wait (&q, e, UINT64_MAX, &c, &err) == VYRE_ERR_IO);
}

/* Direction 1: the host publishes outcomes, a consumer reaps any. */
static void
test_host_published_outcomes (void)
{
  uint32_t words[4 * VYRE_IO_SLOT_WORDS];
  vyre_io_queue host, kernel;
  vyre_error err;
  vyre_io_completion c;
  uint32_t e;

  CHECK (vyre_io_queue_init (&host, words, 4, &err) == VYRE_OK);
  CHECK (vyre_io_queue_attach (&kernel, words, 4, &err) == VYRE_OK);
  CHECK (vyre_io_queue_reap_any (&kernel, &c, &err) == VYRE_ERR_QUEUE_EMPTY);
  CHECK (has (&err, "Fix: "));

  vyre_io_request done = read_req (1, 6, 7 * GiB, 131072, 0xAB);
  CHECK (vyre_io_queue_publish_outcome (&host, &done, 0, &e, &err) == VYRE_OK);
  const uint32_t *w = &words[e * VYRE_IO_SLOT_WORDS];
  CHECK (status_of (words, e) == VYRE_IO_STATUS_OK);
  CHECK (w[VYRE_IO_OFF_HI] == 1 && w[VYRE_IO_OFF_LO] == 0xC0000000u);
  CHECK (w[VYRE_IO_BYTES] == 131072);
  CHECK (vyre_io_queue_wait_any (&kernel, SECOND, &c, &err) == VYRE_OK);
  CHECK (c.entry == e && c.dst == 6 && c.offset == 7 * GiB);
  CHECK (c.bytes == 131072 && c.tag == 0xAB);
  CHECK (status_of (words, e) == VYRE_STATUS_EMPTY);

  /* A failed read reaches the consumer as ERROR (vyre's GPU side would
   * spin for ever on it). */
  vyre_io_request failed = read_req (1, 6, 9 * GiB + 1, 4096, 0xAC);
  CHECK (vyre_io_queue_publish_outcome (&host, &failed, EIO, &e, &err)
      == VYRE_OK);
  CHECK (status_of (words, e) == VYRE_IO_STATUS_ERROR);
  CHECK (vyre_io_queue_wait_any (&kernel, SECOND, &c, &err) == VYRE_ERR_IO);
  CHECK (c.errnum == EIO && c.offset == 9 * GiB + 1 && c.bytes == 4096);
  CHECK (has (&err, strerror (EIO)) && has (&err, "9663676417"));
  CHECK (vyre_io_queue_reap_any (&kernel, &c, &err) == VYRE_ERR_QUEUE_EMPTY);

  /* Many outcomes, each reaped exactly once. */
  uint32_t seen = 0;
  for (uint32_t round = 0; round < 3; round++) {
    for (uint32_t k = 0; k < 4; k++) {
      vyre_io_request d = read_req (1, k, round * 4 + k, 1, 1u << k);
      CHECK (vyre_io_queue_publish_outcome (&host, &d, 0, NULL, &err)
          == VYRE_OK);
    }
    for (uint32_t k = 0; k < 4; k++) {
      CHECK (vyre_io_queue_reap_any (&kernel, &c, &err) == VYRE_OK);
      seen |= c.tag;
    }
    CHECK (seen == 0xF);
    seen = 0;
  }
}

static void
test_queue_full (void)
{
  uint32_t words[4 * VYRE_IO_SLOT_WORDS];
  vyre_io_queue q;
  vyre_error err;
  vyre_io_completion c;
  vyre_io_request got;
  uint32_t e[4], extra, ce;

  CHECK (vyre_io_queue_init (&q, words, 4, &err) == VYRE_OK);
  vyre_io_request r = read_req (1, 1, 0, 16, 0);
  for (int i = 0; i < 4; i++)
    CHECK (vyre_io_queue_submit (&q, &r, &e[i], &err) == VYRE_OK);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < i; j++)
      CHECK (e[i] != e[j]);
  vyre_error_clear (&err);
  CHECK (vyre_io_queue_submit (&q, &r, &extra, &err) == VYRE_ERR_QUEUE_FULL);
  CHECK (err.status == VYRE_ERR_QUEUE_FULL);
  CHECK (has (&err, "4 entries") && has (&err, "Fix: "));
  CHECK (vyre_io_queue_publish_outcome (&q, &r, 0, &extra, &err)
      == VYRE_ERR_QUEUE_FULL);

  /* Claimed and completed entries are not free either. */
  CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_OK);
  CHECK (vyre_io_queue_submit (&q, &r, &extra, &err) == VYRE_ERR_QUEUE_FULL);
  CHECK (vyre_io_queue_complete_ok (&q, ce, 16, &err) == VYRE_OK);
  CHECK (vyre_io_queue_submit (&q, &r, &extra, &err) == VYRE_ERR_QUEUE_FULL);
  /* Reaping frees exactly that entry. */
  CHECK (vyre_io_queue_reap (&q, ce, &c, &err) == VYRE_OK);
  CHECK (vyre_io_queue_submit (&q, &r, &extra, &err) == VYRE_OK);
  CHECK (extra == ce);
  CHECK (vyre_io_queue_submit (&q, &r, &extra, &err) == VYRE_ERR_QUEUE_FULL);

  /* One entry is enough for a queue. */
  uint32_t one[VYRE_IO_SLOT_WORDS];
  CHECK (vyre_io_queue_init (&q, one, 1, &err) == VYRE_OK);
  CHECK (vyre_io_queue_submit (&q, &r, &extra, &err) == VYRE_OK && extra == 0);
  CHECK (vyre_io_queue_submit (&q, &r, &extra, &err) == VYRE_ERR_QUEUE_FULL);
}

/* Entries written by something that does not follow the protocol. */
static void
test_malformed (void)
{
  uint32_t words[4 * VYRE_IO_SLOT_WORDS];
  vyre_io_queue q;
  vyre_error err;
  vyre_io_completion c;
  vyre_io_request got;
  uint32_t e, ce;
  vyre_io_census cs;

  /* Unknown status words, including ring-slot statuses. */
  const uint32_t bad_status[] = { 0x99, VYRE_STATUS_DONE, VYRE_STATUS_FAULT,
    VYRE_STATUS_WAIT_IO, 0xFFFFFFFFu };
  for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++) {
    CHECK (vyre_io_queue_init (&q, words, 4, &err) == VYRE_OK);
    poke (words, 2, VYRE_IO_STATUS, bad_status[i]);
    vyre_io_queue_census (&q, &cs);
    CHECK (cs.malformed == 1 && cs.first_malformed == 2 && cs.empty == 3);
    vyre_error_clear (&err);
    CHECK (vyre_io_queue_reap (&q, 2, &c, &err) == VYRE_ERR_MALFORMED);
    CHECK (err.status == VYRE_ERR_MALFORMED);
    CHECK (has (&err, "IO entry 2") && has (&err, "Fix: "));
    /* Nothing published and one entry bad: claim/reap_any say so. */
    CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_ERR_MALFORMED);
    CHECK (vyre_io_queue_reap_any (&q, &c, &err) == VYRE_ERR_MALFORMED);
    CHECK (vyre_io_queue_wait_claim (&q, SECOND, &got, &ce, &err)
        == VYRE_ERR_MALFORMED);                    /* at once, no wait */
    /* The good entries still work; when they are used up, the bad one is
     * named instead of a plain QueueFull. */
    vyre_io_request r = read_req (1, 1, 0, 1, 0);
    for (int k = 0; k < 3; k++) {
      CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_OK);
      CHECK (e != 2);
    }
    CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_ERR_MALFORMED);
    CHECK (has (&err, "IO entry 2"));
    /* Recovery. */
    CHECK (vyre_io_queue_discard_malformed (&q, 0, &err)
        == VYRE_ERR_INVALID_ARGUMENT);             /* valid: PUBLISHED */
    CHECK (vyre_io_queue_discard_malformed (&q, 2, &err) == VYRE_OK);
    CHECK (status_of (words, 2) == VYRE_STATUS_EMPTY);
    CHECK (vyre_io_queue_submit (&q, &r, &e, &err) == VYRE_OK && e == 2);
  }

  /* Malformed requests: the servicer answers them ERROR (the requester
   * never waits for ever) and reports MALFORMED. */
  struct {
    uint32_t op, bytes, off_lo, off_hi;
    int errnum;
  } bad_req[] = {
    { 0, 16, 0, 0, EINVAL },                       /* op 0 */
    { 9, 16, 0, 0, EINVAL },                       /* unknown op */
    { VYRE_IO_OP_READ, 100, 0xFFFFFFF0u, 0xFFFFFFFFu, EOVERFLOW },
    { VYRE_IO_OP_FENCE, 8, 0, 0, EINVAL },         /* FENCE with bytes */
  };
  for (size_t i = 0; i < sizeof bad_req / sizeof bad_req[0]; i++) {
    CHECK (vyre_io_queue_init (&q, words, 4, &err) == VYRE_OK);
    poke (words, 1, VYRE_IO_OP, bad_req[i].op);
    poke (words, 1, VYRE_IO_BYTES, bad_req[i].bytes);
    poke (words, 1, VYRE_IO_OFF_LO, bad_req[i].off_lo);
    poke (words, 1, VYRE_IO_OFF_HI, bad_req[i].off_hi);
    poke (words, 1, VYRE_IO_STATUS, VYRE_STATUS_PUBLISHED);
    vyre_error_clear (&err);
    CHECK (vyre_io_queue_claim (&q, &got, &ce, &err) == VYRE_ERR_MALFORMED);
    CHECK (ce == 1 && has (&err, "malformed") && has (&err, "Fix: "));
    CHECK (status_of (words, 1) == VYRE_IO_STATUS_ERROR);
    /* Its words are still malformed: reaping says so, and still hands
     * over the errno and recycles the entry. */
    CHECK (vyre_io_queue_reap (&q, 1, &c, &err) == VYRE_ERR_MALFORMED);
    CHECK (has (&err, "error outcome") && has (&err, "Fix: "));
    CHECK (c.status == VYRE_IO_STATUS_ERROR);
    CHECK (c.errnum == bad_req[i].errnum);
    CHECK (status_of (words, 1) == VYRE_STATUS_EMPTY);
  }

  /* Malformed outcomes: reported, and the entry is still recycled. */
  CHECK (vyre_io_queue_init (&q, words, 4, &err) == VYRE_OK);
  poke (words, 3, VYRE_IO_OP, 0x1234);
  poke (words, 3, VYRE_IO_STATUS, VYRE_IO_STATUS_OK);
  CHECK (vyre_io_queue_reap (&q, 3, &c, &err) == VYRE_ERR_MALFORMED);
  CHECK (has (&err, "unknown op") && has (&err, "recycled"));
  CHECK (c.op == 0x1234 && c.entry == 3);
  CHECK (status_of (words, 3) == VYRE_STATUS_EMPTY);

  poke (words, 0, VYRE_IO_OP, VYRE_IO_OP_READ);
  poke (words, 0, VYRE_IO_TAG, 0);                 /* ERROR without errno */
  poke (words, 0, VYRE_IO_STATUS, VYRE_IO_STATUS_ERROR);
  CHECK (vyre_io_queue_reap_any (&q, &c, &err) == VYRE_ERR_MALFORMED);
  CHECK (has (&err, "errno 0"));
  CHECK (status_of (words, 0) == VYRE_STATUS_EMPTY);

  poke (words, 0, VYRE_IO_TAG, 70000);             /* errno out of range */
  poke (words, 0, VYRE_IO_STATUS, VYRE_IO_STATUS_ERROR);
  CHECK (vyre_io_queue_reap (&q, 0, &c, &err) == VYRE_ERR_MALFORMED);
  CHECK (has (&err, "70000"));

  poke (words, 0, VYRE_IO_OFF_LO, 0xFFFFFFFFu);    /* range wraps */
  poke (words, 0, VYRE_IO_OFF_HI, 0xFFFFFFFFu);
  poke (words, 0, VYRE_IO_BYTES, 2);
  poke (words, 0, VYRE_IO_STATUS, VYRE_IO_STATUS_OK);
  CHECK (vyre_io_queue_reap (&q, 0, &c, &err) == VYRE_ERR_MALFORMED);
  CHECK (has (&err, "wraps"));
  vyre_io_queue_census (&q, &cs);
  CHECK (cs.empty == 4);
}

/* ------------------------------------------------------------------ */
/* Many threads.  A requester owns window `id`; the servicer "reads" the
 * fake file into that window.  Requests with src == BAD_SRC fail EBADF. */

#define WINDOW_BYTES 256u
#define BAD_SRC 99u
#define MT_REQUESTERS 3
#define MT_SERVICERS 2

typedef struct {
  vyre_io_queue *q;
  uint8_t *arena;
  _Atomic int *stop;
  uint64_t iterations;
  uint32_t id;
  uint64_t seed;
  /* results */
  uint64_t ok, io_errors, failures, full_retries;
} mt_agent;

/* Perform one claimed request: fill the window, or fail. */
static void
service_one (vyre_io_queue * q, uint8_t * arena, const vyre_io_request * r,
    uint32_t entry, mt_agent * a)
{
  vyre_error err;
  if (r->src == BAD_SRC) {
    if (vyre_io_queue_complete_error (q, entry, EBADF, &err) != VYRE_OK)
      a->failures++;
    return;
  }
  uint8_t *dst = arena + (size_t) r->dst * WINDOW_BYTES;
  for (uint32_t i = 0; i < r->bytes; i++)
    dst[i] = file_byte (r->offset + i);
  if (vyre_io_queue_complete_ok (q, entry, r->bytes, &err) != VYRE_OK)
    a->failures++;
}

static void *
mt_servicer (void *arg)
{
  mt_agent *a = arg;
  vyre_error err;
  vyre_io_request r;
  uint32_t entry;
  for (;;) {
    vyre_status st = vyre_io_queue_wait_claim (a->q, 2 * MS, &r, &entry, &err);
    if (st == VYRE_OK) {
      service_one (a->q, a->arena, &r, entry, a);
      a->ok++;
    } else if (st == VYRE_ERR_NOT_READY) {
      if (atomic_load (a->stop))
        break;
    } else {
      fprintf (stderr, "servicer %u: %s\n", a->id, err.message);
      a->failures++;
      break;
    }
  }
  return NULL;
}

static void *
mt_requester (void *arg)
{
  mt_agent *a = arg;
  vyre_error err;
  vyre_io_completion c;
  for (uint64_t k = 0; k < a->iterations; k++) {
    bool fail = ring_test_rand (&a->seed) % 8 == 0;
    uint64_t off = ring_test_rand (&a->seed) % (16 * GiB);
    uint32_t bytes = 1 + (uint32_t) (ring_test_rand (&a->seed) % WINDOW_BYTES);
    vyre_io_request r = read_req (fail ? BAD_SRC : 1, a->id, off, bytes,
        (uint32_t) k);
    uint32_t e;
    double give_up = ring_test_now () + 20.0;
    vyre_status st;
    while ((st = vyre_io_queue_submit (a->q, &r, &e, &err))
        == VYRE_ERR_QUEUE_FULL) {
      a->full_retries++;
      if (ring_test_now () > give_up)
        break;
      sched_yield ();
    }
    if (st != VYRE_OK) {
      fprintf (stderr, "requester %u: submit: %s\n", a->id, err.message);
      a->failures++;
      return NULL;
    }
    st = vyre_io_queue_wait (a->q, e, 20 * SECOND, &c, &err);
    if (fail) {
      if (st != VYRE_ERR_IO || c.errnum != EBADF
          || !has (&err, strerror (EBADF)) || c.offset != off) {
        fprintf (stderr, "requester %u: expected EBADF: %s\n", a->id,
            err.message);
        a->failures++;
        return NULL;
      }
      a->io_errors++;
      continue;
    }
    if (st != VYRE_OK || c.bytes != bytes || c.tag != (uint32_t) k
        || c.offset != off || c.dst != a->id) {
      fprintf (stderr, "requester %u: %s: %s\n", a->id, vyre_status_name (st),
          err.message);
      a->failures++;
      return NULL;
    }
    const uint8_t *w = a->arena + (size_t) a->id * WINDOW_BYTES;
    for (uint32_t i = 0; i < bytes; i++)
      if (w[i] != file_byte (off + i)) {
        fprintf (stderr, "requester %u: byte %u of offset %llu wrong\n",
            a->id, i, (unsigned long long) off);
        a->failures++;
        return NULL;
      }
    a->ok++;
  }
  return NULL;
}

/* Requesters and servicers on threads of one process. */
static void
run_agents (vyre_io_queue * q, uint8_t * arena, _Atomic int *stop,
    uint64_t iterations, const char *label)
{
  mt_agent req[MT_REQUESTERS], svc[MT_SERVICERS];
  pthread_t rt[MT_REQUESTERS], st[MT_SERVICERS];
  atomic_store (stop, 0);
  for (uint32_t i = 0; i < MT_SERVICERS; i++) {
    svc[i] = (mt_agent) { .q = q, .arena = arena, .stop = stop, .id = i };
    CHECK (pthread_create (&st[i], NULL, mt_servicer, &svc[i]) == 0);
  }
  for (uint32_t i = 0; i < MT_REQUESTERS; i++) {
    req[i] = (mt_agent) { .q = q, .arena = arena, .stop = stop,
      .iterations = iterations, .id = i,
      .seed = ring_test_seed () * (i + 1) + 17 };
    CHECK (pthread_create (&rt[i], NULL, mt_requester, &req[i]) == 0);
  }
  uint64_t ok = 0, errs = 0, fails = 0, full = 0, served = 0;
  for (uint32_t i = 0; i < MT_REQUESTERS; i++) {
    pthread_join (rt[i], NULL);
    ok += req[i].ok;
    errs += req[i].io_errors;
    fails += req[i].failures;
    full += req[i].full_retries;
  }
  atomic_store (stop, 1);
  for (uint32_t i = 0; i < MT_SERVICERS; i++) {
    pthread_join (st[i], NULL);
    fails += svc[i].failures;
    served += svc[i].ok;
  }
  CHECK_EQ_U64 (fails, 0);
  CHECK_EQ_U64 (ok + errs, MT_REQUESTERS * iterations);
  CHECK_EQ_U64 (served, MT_REQUESTERS * iterations);
  CHECK (errs > 0 || iterations < 32);
  vyre_io_census cs;
  vyre_io_queue_census (q, &cs);
  CHECK (cs.empty == q->nslots);
  fprintf (stderr, "  %s: %llu ok, %llu ERROR (handled), %llu QueueFull "
      "retries\n", label, (unsigned long long) ok, (unsigned long long) errs,
      (unsigned long long) full);
}

static void
test_threads (void)
{
  static uint32_t words[2 * VYRE_IO_SLOT_WORDS];   /* fewer entries than
                                                      requesters: QueueFull */
  static uint8_t arena[MT_REQUESTERS * WINDOW_BYTES];
  static _Atomic int stop;
  vyre_io_queue q;
  vyre_error err;
  CHECK (vyre_io_queue_init (&q, words, 2, &err) == VYRE_OK);
  double t0 = ring_test_now ();
  run_agents (&q, arena, &stop, ring_test_scaled (3000), "threads");
  fprintf (stderr, "  threads: %.2f s\n", ring_test_now () - t0);
}

/* ------------------------------------------------------------------ */
/* Two processes sharing a MAP_SHARED mapping.  The child is the IO
 * service (threads claiming requests and pread()ing a sparse file larger
 * than 4 GiB into the shared arena); the parent's threads request reads
 * and check the bytes.  The parent bounds its wait for the child. */

#define FILE_BYTES (6 * GiB)
#define REGION_BYTES 65536u

static const uint64_t region_start[] = {
  0, 4 * GiB - REGION_BYTES / 2, 5 * GiB + 12345, FILE_BYTES - REGION_BYTES,
};
#define NREGIONS (sizeof region_start / sizeof region_start[0])

#define SRC_FILE 0u
#define SRC_DIR 1u
#define SRC_CLOSED 2u
#define NFILES 3

typedef struct {
  _Atomic int stop;
  _Atomic int servicer_failures;
  _Atomic uint32_t served;
  uint32_t pad;
  uint32_t words[8 * VYRE_IO_SLOT_WORDS];
  uint8_t arena[MT_REQUESTERS * REGION_BYTES];
} shared_area;

typedef struct {
  shared_area *sh;
  vyre_io_queue *q;
  const int *fds;
  uint32_t id;
  uint64_t iterations, seed;
  uint64_t ok, io_errors, failures;
} proc_agent;

/* The window a servicer thread fills was handed back to it through the
 * parent process (complete -> parent reaps -> parent submits -> claim),
 * which ThreadSanitizer cannot see: tell it, per window.  No effect in
 * other builds. */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);
#define WINDOW_ACQUIRE(p) __tsan_acquire (p)
#define WINDOW_RELEASE(p) __tsan_release (p)
#else
#define WINDOW_ACQUIRE(p) ((void) (p))
#define WINDOW_RELEASE(p) ((void) (p))
#endif
static char window_token[MT_REQUESTERS];

static void *
proc_servicer (void *arg)
{
  proc_agent *a = arg;
  vyre_error err;
  vyre_io_request r;
  uint32_t entry;
  for (;;) {
    vyre_status st = vyre_io_queue_wait_claim (a->q, 2 * MS, &r, &entry, &err);
    if (st == VYRE_ERR_NOT_READY) {
      if (atomic_load (&a->sh->stop))
        return NULL;
      continue;
    }
    if (st != VYRE_OK || r.op != VYRE_IO_OP_READ || r.src >= NFILES
        || r.dst >= MT_REQUESTERS || r.bytes > REGION_BYTES) {
      fprintf (stderr, "service: unexpected request: %s\n", err.message);
      atomic_fetch_add (&a->sh->servicer_failures, 1);
      if (st == VYRE_OK)
        vyre_io_queue_complete_error (a->q, entry, EINVAL, &err);
      continue;
    }
    WINDOW_ACQUIRE (&window_token[r.dst]);
    ssize_t n = pread (a->fds[r.src],
        a->sh->arena + (size_t) r.dst * REGION_BYTES, r.bytes,
        (off_t) r.offset);
    WINDOW_RELEASE (&window_token[r.dst]);
    if (n < 0)
      st = vyre_io_queue_complete_error (a->q, entry, errno, &err);
    else
      st = vyre_io_queue_complete_ok (a->q, entry, (uint32_t) n, &err);
    if (st != VYRE_OK)
      atomic_fetch_add (&a->sh->servicer_failures, 1);
    atomic_fetch_add (&a->sh->served, 1);
  }
}

static void *
proc_requester (void *arg)
{
  proc_agent *a = arg;
  vyre_error err;
  vyre_io_completion c;
  for (uint64_t k = 0; k < a->iterations; k++) {
    uint64_t pick = ring_test_rand (&a->seed);
    uint32_t src = pick % 16 == 0 ? SRC_DIR : pick % 16 == 1 ? SRC_CLOSED
        : SRC_FILE;
    const uint64_t base = region_start[(pick >> 8) % NREGIONS];
    uint32_t bytes = 1 + (uint32_t) (ring_test_rand (&a->seed) % 8192);
    uint64_t off = base + ring_test_rand (&a->seed) % (REGION_BYTES - bytes);
    bool past_eof = pick % 16 == 2;
    if (past_eof)
      off = FILE_BYTES - 100;                      /* short read: 100 bytes */
    vyre_io_request r = read_req (src, a->id, off, bytes, (uint32_t) k);
    uint32_t e;
    vyre_status st;
    double give_up = ring_test_now () + 20.0;
    while ((st = vyre_io_queue_submit (a->q, &r, &e, &err))
        == VYRE_ERR_QUEUE_FULL && ring_test_now () < give_up)
      sched_yield ();
    if (st == VYRE_OK)
      st = vyre_io_queue_wait (a->q, e, 20 * SECOND, &c, &err);
    if (src != SRC_FILE) {
      int want = src == SRC_DIR ? EISDIR : EBADF;
      if (st != VYRE_ERR_IO || c.errnum != want
          || !has (&err, strerror (want))) {
        fprintf (stderr, "requester %u: expected %s: %s\n", a->id,
            strerror (want), err.message);
        a->failures++;
        return NULL;
      }
      a->io_errors++;
      continue;
    }
    uint32_t want_bytes = past_eof && bytes > 100 ? 100 : bytes;
    if (st != VYRE_OK || c.bytes != want_bytes || c.offset != off) {
      fprintf (stderr, "requester %u: %s (%u of %u bytes): %s\n", a->id,
          vyre_status_name (st), c.bytes, want_bytes, err.message);
      a->failures++;
      return NULL;
    }
    const uint8_t *w = a->sh->arena + (size_t) a->id * REGION_BYTES;
    for (uint32_t i = 0; i < want_bytes; i++)
      if (w[i] != file_byte (off + i)) {
        fprintf (stderr, "requester %u: byte at %llu wrong\n", a->id,
            (unsigned long long) (off + i));
        a->failures++;
        return NULL;
      }
    a->ok++;
  }
  return NULL;
}

static int
make_sparse_file (void)
{
  const char *dir = getenv ("TMPDIR");
  char path[4096];
  snprintf (path, sizeof path, "%s/vyre-ioq-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp (path);
  if (fd < 0)
    return -1;
  unlink (path);
  if (ftruncate (fd, (off_t) FILE_BYTES) != 0) {
    close (fd);
    return -1;
  }
  static uint8_t buf[REGION_BYTES];
  for (size_t i = 0; i < NREGIONS; i++) {
    for (uint32_t k = 0; k < REGION_BYTES; k++)
      buf[k] = file_byte (region_start[i] + k);
    if (pwrite (fd, buf, REGION_BYTES, (off_t) region_start[i])
        != (ssize_t) REGION_BYTES) {
      close (fd);
      return -1;
    }
  }
  return fd;
}

static void
test_two_processes (void)
{
  int fds[NFILES];
  fds[SRC_FILE] = make_sparse_file ();
  CHECK (fds[SRC_FILE] >= 0);
  if (fds[SRC_FILE] < 0) {
    fprintf (stderr, "  cannot make a %llu-byte sparse file in TMPDIR: %s\n",
        (unsigned long long) FILE_BYTES, strerror (errno));
    return;
  }
  fds[SRC_DIR] = open ("/", O_RDONLY | O_DIRECTORY);
  fds[SRC_CLOSED] = -1;
  CHECK (fds[SRC_DIR] >= 0);

  shared_area *sh = mmap (NULL, sizeof *sh, PROT_READ | PROT_WRITE,
      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK (sh != MAP_FAILED);
  if (sh == MAP_FAILED)
    return;
  vyre_io_queue q;
  vyre_error err;
  CHECK (vyre_io_queue_init (&q, sh->words, 8, &err) == VYRE_OK);

  pid_t parent = getpid ();
  pid_t child = fork ();
  CHECK (child >= 0);
  if (child == 0) {
    /* The IO service. */
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
      _exit (3);
    vyre_io_queue cq;
    if (vyre_io_queue_attach (&cq, sh->words, 8, &err) != VYRE_OK)
      _exit (2);
    proc_agent svc[MT_SERVICERS];
    pthread_t t[MT_SERVICERS];
    for (uint32_t i = 0; i < MT_SERVICERS; i++) {
      svc[i] = (proc_agent) { .sh = sh, .q = &cq, .fds = fds, .id = i };
      if (pthread_create (&t[i], NULL, proc_servicer, &svc[i]) != 0)
        _exit (4);
    }
    for (uint32_t i = 0; i < MT_SERVICERS; i++)
      pthread_join (t[i], NULL);
    _exit (atomic_load (&sh->servicer_failures) ? 1 : 0);
  }

  double t0 = ring_test_now ();
  uint64_t iterations = ring_test_scaled (1500);
  proc_agent req[MT_REQUESTERS];
  pthread_t t[MT_REQUESTERS];
  for (uint32_t i = 0; i < MT_REQUESTERS; i++) {
    req[i] = (proc_agent) { .sh = sh, .q = &q, .fds = fds, .id = i,
      .iterations = iterations, .seed = ring_test_seed () + 1000 * i + 1 };
    CHECK (pthread_create (&t[i], NULL, proc_requester, &req[i]) == 0);
  }
  uint64_t ok = 0, errs = 0, fails = 0;
  for (uint32_t i = 0; i < MT_REQUESTERS; i++) {
    pthread_join (t[i], NULL);
    ok += req[i].ok;
    errs += req[i].io_errors;
    fails += req[i].failures;
  }
  atomic_store (&sh->stop, 1);

  /* Bounded wait for the service to exit. */
  int wstatus = 0;
  pid_t got = 0;
  double deadline = ring_test_now () + 30.0;
  while ((got = waitpid (child, &wstatus, WNOHANG)) == 0
      && ring_test_now () < deadline) {
    struct timespec nap = { 0, 1000000 };
    nanosleep (&nap, NULL);
  }
  if (got == 0) {
    fprintf (stderr, "  IO service process did not exit: killed\n");
    kill (child, SIGKILL);
    waitpid (child, &wstatus, 0);
    ring_test_failures++;
  } else {
    CHECK (WIFEXITED (wstatus) && WEXITSTATUS (wstatus) == 0);
  }
  CHECK_EQ_U64 (fails, 0);
  CHECK_EQ_U64 (ok + errs, MT_REQUESTERS * iterations);
  CHECK_EQ_U64 (atomic_load (&sh->served), MT_REQUESTERS * iterations);
  CHECK (errs > 0 || iterations < 64);
  vyre_io_census cs;
  vyre_io_queue_census (&q, &cs);
  CHECK (cs.empty == 8);
  fprintf (stderr, "  two processes: %llu reads ok, %llu ERROR (handled), "
      "%.2f s\n", (unsigned long long) ok, (unsigned long long) errs,
      ring_test_now () - t0);

  munmap (sh, sizeof *sh);
  close (fds[SRC_FILE]);
  close (fds[SRC_DIR]);
}

int
main (void)
{
  ring_test_seed ();
  /* Fork first, while this process has a single thread. */
  test_two_processes ();
  test_init_and_arguments ();
  test_request_roundtrip ();
  test_error_path ();
  test_host_published_outcomes ();
  test_queue_full ();
  test_malformed ();
  test_threads ();
  return ring_test_finish ("test_io_queue");
}
