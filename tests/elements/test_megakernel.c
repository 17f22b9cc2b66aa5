/*
 * test_megakernel.c - the persistent kernel on the real Vulkan device
 * (lavapipe in CI, the NVIDIA GPU on the GPU machine), without a pipeline.
 *
 * A dense stream is cut into jobs of awkward sizes (1 byte, 7, 4097, a
 * whole block, random), each carrying the previous job's tail, and pushed
 * through the ring with fences in between.  The union of what the GPU
 * reports must equal the CPU reference over the whole stream: every match
 * (overlapping ones and ones straddling job boundaries exactly once), the
 * stream's CRC-32 combined from per-job CRCs, and the byte histogram.  The
 * same stream runs persistent and per-buffer, and persistent with a poll
 * budget so small that the kernel retires and is relaunched constantly.
 *
 * Exit 77 (skip) only when no Vulkan device exists at all.
 */
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>

#include "ring_test_util.h"
#include "vyre-automaton.h"
#include "vyre-crc32.h"
#include "vyre-device.h"
#include "vyre-match-events.h"
#include "vyre-megakernel.h"
#include "vyre-result-read.h"
#include "vyre-scan-reference.h"

#define NSLOTS 8
#define BLOCK (64 * 1024)
/* Room for one event per byte of a lane's share of a block (with 64 or
 * more lanes): nothing can be dropped.  SMALL_MATCHES (one event record
 * per lane) forces drops, which must be counted. */
#define MAX_MATCHES (VYRE_RESULT_LANES * (BLOCK / 64 + 64))
#define SMALL_MATCHES VYRE_RESULT_LANES

typedef struct
{
  GArray *matches;              /* GstVyreMatch */
  guint32 crc;
  guint64 crc_len;
  guint64 hist[256];
  guint64 dropped;
  guint32 epochs_closed;
  guint64 jobs;
  guint64 found;                /* completions' match counts */
  guint64 stored;               /* matches covered by stored events */
  guint32 ops;                  /* what every job ran */
  guint64 torn_results;         /* records read again until whole */
} StreamResult;

typedef struct
{
  gboolean persistent;
  guint max_matches;
  guint pause_every;            /* sleep after every Nth job (0: never) */
  gboolean arena_carry;         /* every other job finds its carry bytes in
                                   the arena right before its data
                                   (VYRE_CARRY_IN_ARENA), as vyrescan's
                                   later jobs of a split buffer do */
  guint32 ops;                  /* VYRE_OPS_* of every job (0: all) */
} RunConfig;

static GPtrArray *
make_patterns (guint64 * rng)
{
  GPtrArray *p = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *fixed[] = { "he", "she", "hers", "his", "s", "hershe", "aaaa",
    "ab", "abcab", "\xff\x00"
  };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (p, g_bytes_new (fixed[i], i == 9 ? 2 : strlen (fixed[i])));
  for (guint i = 0; i < 22; i++) {
    guint8 buf[8];
    guint len = 1 + ring_test_rand (rng) % 7;
    for (guint k = 0; k < len; k++)
      buf[k] = "abcehirs"[ring_test_rand (rng) % 8];
    g_ptr_array_add (p, g_bytes_new (buf, len));
  }
  return p;
}

static guint8 *
make_data (guint64 * rng, gsize len)
{
  guint8 *d = g_malloc (len);
  for (gsize i = 0; i < len; i++) {
    guint64 r = ring_test_rand (rng);
    d[i] = (r % 97 == 0) ? (guint8) (r >> 32) : (guint8) "abcehirs"[r % 8];
  }
  return d;
}

typedef struct
{
  vyre_ticket ticket;
  guint ctx;
  gboolean fence;
  guint64 len;
  guint32 epoch;
} InFlight;

static gboolean
reap (VyreTenant * t, const guint32 * table, guint max_matches,
    InFlight * f, StreamResult * r)
{
  vyre_completion c;
  GError *err = NULL;
  VyreMkStatus st = vyre_tenant_wait (t, &f->ticket, &c, NULL, &err);
  if (st != VYRE_MK_OK) {
    fprintf (stderr, "wait failed: %s\n", err ? err->message : "?");
    g_clear_error (&err);
    ring_test_failures++;
    return FALSE;
  }
  if (f->fence) {
    CHECK_EQ_U64 (c.epoch, r->epochs_closed + 1);
    CHECK_EQ_U64 (c.epoch, f->epoch);
    r->epochs_closed = c.epoch;
  } else {
    const guint32 *rec = vyre_tenant_result (t, f->ctx);
    guint corrupt = 0;
    guint before = r->matches->len;
    if (!vyre_result_read_events (table, rec, max_matches, &c, G_MAXUINT,
            r->matches, NULL, &r->dropped, &corrupt, &r->torn_results, &err)) {
      fprintf (stderr, "read failed: %s\n", err->message);
      g_clear_error (&err);
      ring_test_failures++;
    }
    CHECK_EQ_U64 (corrupt, 0);
    CHECK_EQ_U64 (r->matches->len - before, c.matches_stored);
    CHECK (c.matches_stored <= c.matches);
    r->found += c.matches;
    r->stored += c.matches_stored;
    CHECK_EQ_U64 (c.epoch, f->epoch);
    r->crc = vyre_crc32_combine (r->crc, c.crc32, f->len);
    guint32 job_hist[256];
    if (r->ops & VYRE_OPS_HISTOGRAM) {
      if (vyre_result_read_histogram (rec, &c, job_hist, &r->torn_results,
              &err)) {
        for (guint b = 0; b < 256; b++)
          r->hist[b] += job_hist[b];
      } else {
        fprintf (stderr, "read failed: %s\n", err->message);
        g_clear_error (&err);
        ring_test_failures++;
      }
    }
    r->jobs++;
  }
  vyre_tenant_release (t, &f->ticket);
  return TRUE;
}

/* A megakernel with one tenant, or NULL (counted as a failure). */
static VyreTenant *
tenant_new (VyreDevice * dev, const VyreMegakernelConfig * cfg,
    const VyreTenantConfig * tc, VyreMegakernel ** mk)
{
  GError *err = NULL;
  *mk = vyre_megakernel_new (dev, cfg, &err);
  VyreTenant *t = *mk ? vyre_megakernel_add_tenant (*mk, tc, &err) : NULL;
  if (t == NULL) {
    fprintf (stderr, "%s: %s\n", tc->name, err->message);
    g_error_free (err);
    ring_test_failures++;
    g_clear_pointer (mk, vyre_megakernel_unref);
  }
  return t;
}

/* The arena grows ahead of the jobs once they pass its first chunk
 * (vyre-megakernel.h): reserving in chunk 0 grows nothing more; reserving
 * in chunk 2 brings chunks 3 to 5 soon after, with no job, and chunk 6
 * not. */
static void
check_grow_ahead (VyreDevice * dev, const VyreAutomaton * a)
{
  VyreMegakernelConfig cfg = {.nslots = NSLOTS,.persistent = TRUE };
  VyreTenantConfig tc = {
    .name = "grow-ahead",.contexts = NSLOTS,
    .arena_bytes = 16 * (guint64) BLOCK,.arena_chunk_bytes = BLOCK,
    .max_matches = MAX_MATCHES,.max_carry = 8,
    .tables = a->words,.table_words = a->n_words,
  };
  VyreMegakernel *mk;
  VyreTenant *t = tenant_new (dev, &cfg, &tc, &mk);
  if (t == NULL)
    return;
  GError *err = NULL;
  guint64 chunk = vyre_tenant_arena_chunk_bytes (t);
  CHECK_EQ_U64 (chunk, BLOCK);
  CHECK (vyre_tenant_arena_reserve (t, 0, 64, &err) != NULL);
  guint64 base = vyre_tenant_memory_bytes (t);
  g_usleep (50 * 1000);
  CHECK_EQ_U64 (vyre_tenant_memory_bytes (t), base);
  CHECK (vyre_tenant_arena_reserve (t, 2 * chunk, 64, &err) != NULL);
  /* Chunk 2 by the reserve, 3..5 ahead (chunk 1 never: only chunks after
   * the one reached grow ahead). */
  guint64 want = base + 4 * chunk;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (vyre_tenant_memory_bytes (t) < want &&
      g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_usleep (50 * 1000);
  CHECK_EQ_U64 (vyre_tenant_memory_bytes (t), want);
  fprintf (stderr, "grow ahead: %" G_GUINT64_FORMAT " bytes after chunk 0, %"
      G_GUINT64_FORMAT " after chunk 2\n", base, vyre_tenant_memory_bytes (t));
  vyre_tenant_unref (t);
  vyre_megakernel_unref (mk);
}

/* Stream `data` through a fresh megakernel; jobs sized by the cycle. */
static gboolean
run_stream (VyreDevice * dev, const VyreAutomaton * a, guint max_len,
    const RunConfig * rc, const guint8 * data, gsize len, guint64 * rng,
    StreamResult * r, VyreMegakernelStats * stats)
{
  gboolean persistent = rc->persistent;
  guint pause_every = rc->pause_every, submitted = 0;
  guint max_carry = MAX (max_len - 1, 1);
  VyreMegakernelConfig cfg = {
    .nslots = NSLOTS,.persistent = persistent,
    /* lavapipe compiles the kernel at its first dispatch: the variant
     * with the scan-only loop takes it about 30 s on a cold cache */
    .progress_timeout_us = 90 * G_USEC_PER_SEC,
  };
  VyreTenantConfig tc = {
    .name = "test_megakernel",.contexts = NSLOTS,
    .arena_bytes = (guint64) NSLOTS * BLOCK,
    /* chunks of two blocks: the arena grows while the kernel runs */
    .arena_chunk_bytes = 2 * BLOCK,
    .max_matches = rc->max_matches,.max_carry = max_carry,
    .tables = a->words,.table_words = a->n_words,
  };
  VyreMegakernel *mk;
  VyreTenant *t = tenant_new (dev, &cfg, &tc, &mk);
  if (t == NULL)
    return FALSE;
  GError *err = NULL;
  memset (r, 0, sizeof *r);
  r->matches = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  r->ops = rc->ops ? rc->ops : VYRE_OPS_ALL;
  InFlight fl[NSLOTS];
  guint head = 0, count = 0, ctx_next = 0;
  const gsize sizes[] = { 1, 7, 4097, BLOCK, 2, 0 /* random */ , 300 };
  gsize pos = 0;
  guint32 epoch = 1, epoch_jobs = 0;
  guint k = 0;
  gboolean ok = TRUE;
  while (ok && (pos < len || epoch_jobs > 0)) {
    InFlight f = { 0 };
    vyre_job job = { 0 };
    if (pos < len && (epoch_jobs < 5)) {
      gsize n = sizes[k++ % G_N_ELEMENTS (sizes)];
      if (n == 0)
        n = 1 + ring_test_rand (rng) % BLOCK;
      n = MIN (n, len - pos);
      f.ctx = ctx_next++ % NSLOTS;
      guint carry = (guint) MIN ((gsize) max_carry, pos);
      /* In-order reaping frees contexts in order: ctx is free again. */
      guint8 *block = vyre_tenant_arena_reserve (t, (guint64) f.ctx * BLOCK,
          BLOCK, &err);
      if (block == NULL) {
        fprintf (stderr, "arena: %s\n", err->message);
        g_clear_error (&err);
        ring_test_failures++;
        ok = FALSE;
        break;
      }
      guint64 data_offset = (guint64) f.ctx * BLOCK;
      if (rc->arena_carry && k % 2 == 1) {
        /* [carry bytes][data] in the block: data_offset is then not
         * 16-byte aligned, which the kernel's wide loads must handle. */
        n = MIN (n, (gsize) BLOCK - max_carry);
        memcpy (block + max_carry - carry, data + pos - carry, carry + n);
        data_offset += max_carry;
        job.carry_in_arena = TRUE;
      } else {
        memcpy (block, data + pos, n);
        memcpy (vyre_tenant_carry_window (t, f.ctx), data + pos - carry,
            carry);
      }
      job.opcode = VYRE_OP_SCAN;
      job.ops = rc->ops ? rc->ops : VYRE_OPS_ALL;
      job.data_offset = data_offset;
      job.data_len = (guint32) n;
      job.stream_offset = pos;
      job.carry_len = carry;
      job.epoch = epoch;
      job.result_index = f.ctx;
      f.len = n;
      f.epoch = epoch;
      pos += n;
      epoch_jobs++;
    } else {
      job.opcode = VYRE_OP_BATCH_FENCE;
      job.epoch = epoch;
      job.data_len = epoch_jobs;        /* FENCE_JOBS */
      job.tag = epoch;
      f.fence = TRUE;
      f.epoch = epoch;
      epoch++;
      epoch_jobs = 0;
    }
    if (count == NSLOTS) {
      ok = reap (t, a->words, rc->max_matches, &fl[head], r);
      head = (head + 1) % NSLOTS;
      count--;
    }
    VyreMkStatus st;
    while ((st = vyre_tenant_submit (t, &job, &f.ticket, &err)) ==
        VYRE_MK_FULL && count > 0) {
      ok = reap (t, a->words, rc->max_matches, &fl[head], r);
      head = (head + 1) % NSLOTS;
      count--;
    }
    if (st != VYRE_MK_OK) {
      fprintf (stderr, "submit: %s\n", err ? err->message : "ring full");
      g_clear_error (&err);
      ring_test_failures++;
      ok = FALSE;
      break;
    }
    fl[(head + count) % NSLOTS] = f;
    count++;
    /* Now and then let the ring run dry and wait (bounded) until the
     * idle-retiring kernel has retired, so the next job needs a relaunch. */
    if (pause_every && ++submitted % pause_every == 0) {
      while (ok && count > 0) {
        ok = reap (t, a->words, rc->max_matches, &fl[head], r);
        head = (head + 1) % NSLOTS;
        count--;
      }
      VyreMegakernelStats before, now;
      vyre_tenant_stats (t, &before);
      gint64 until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
      do {
        g_usleep (1000);
        vyre_tenant_stats (t, &now);
      } while (now.retired == before.retired && g_get_monotonic_time () < until);
    }
  }
  while (ok && count > 0) {
    ok = reap (t, a->words, rc->max_matches, &fl[head], r);
    head = (head + 1) % NSLOTS;
    count--;
  }
  vyre_tenant_stats (t, stats);
  vyre_tenant_unref (t);
  vyre_megakernel_unref (mk);
  return ok;
}

static void
compare (const char *what, StreamResult * r, GArray * ref, guint32 crc,
    const guint64 * hist)
{
  /* Every match is counted, stored or not. */
  CHECK_EQ_U64 (r->found, ref->len);
  vyre_match_events_sort (r->matches);
  gboolean same = r->matches->len == ref->len;
  for (guint i = 0; same && i < ref->len; i++) {
    GstVyreMatch *m = &g_array_index (r->matches, GstVyreMatch, i);
    VyreRefMatch *e = &g_array_index (ref, VyreRefMatch, i);
    if (m->offset != e->start || m->pattern_id != e->pattern_id) {
      fprintf (stderr, "%s: match %u: GPU (%" G_GUINT64_FORMAT ", %u) CPU (%"
          G_GUINT64_FORMAT ", %u)\n", what, i, m->offset, m->pattern_id,
          e->start, e->pattern_id);
      same = FALSE;
    }
  }
  if (!same)
    fprintf (stderr, "%s: GPU found %u matches, CPU %u\n", what,
        r->matches->len, ref->len);
  CHECK (same);
  CHECK_EQ_U64 (r->dropped, 0);
  if (hist == NULL)             /* a scan-only run */
    return;
  CHECK_EQ_U64 (r->crc, crc);
  CHECK (memcmp (r->hist, hist, sizeof r->hist) == 0);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  GError *err = NULL;
  VyreDevice *dev = vyre_device_open (-1, &err);
  if (dev == NULL) {
    fprintf (stderr, "SKIP: %s\n", err->message);
    return 77;
  }
  fprintf (stderr, "device: %s (%s)\n", vyre_device_name (dev),
      vyre_device_driver (dev));

  guint64 rng = ring_test_seed ();
  GPtrArray *patterns = make_patterns (&rng);
  guint max_len = 0;
  for (guint i = 0; i < patterns->len; i++)
    max_len = MAX (max_len, g_bytes_get_size (patterns->pdata[i]));
  VyreAutomaton *a = vyre_automaton_compile (patterns, FALSE, 0, &err);
  g_assert_no_error (err);

  gsize len = (gsize) ring_test_scaled (600 * 1024);
  guint8 *data = make_data (&rng, len);
  GArray *ref = vyre_scan_reference_find (patterns, FALSE, data, len, 0);
  guint32 crc = vyre_crc32_update (0, data, len);
  guint64 hist[256] = { 0 };
  vyre_scan_reference_histogram (data, len, hist);
  fprintf (stderr, "%" G_GSIZE_FORMAT " bytes, %u patterns, %u reference "
      "matches\n", len, patterns->len, ref->len);

  StreamResult r;
  VyreMegakernelStats st;
  guint64 rng_run = rng;
  RunConfig persistent = { TRUE, MAX_MATCHES, 0, FALSE, 0 };
  if (run_stream (dev, a, max_len, &persistent, data, len, &rng_run, &r, &st)) {
    compare ("persistent", &r, ref, crc, hist);
    fprintf (stderr, "persistent: %" G_GUINT64_FORMAT " jobs, %u epochs, %"
        G_GUINT64_FORMAT " launches, %u retirements, %u fence requeues, %"
        G_GUINT64_FORMAT " retried, torn reads: %" G_GUINT64_FORMAT
        " completions, %" G_GUINT64_FORMAT " results\n", r.jobs,
        r.epochs_closed, st.launches, st.retired, st.requeues, st.retries,
        st.torn_completions, r.torn_results);
  }
  g_array_unref (r.matches);

  rng_run = rng;
  RunConfig per_buffer = { FALSE, MAX_MATCHES, 0, FALSE, 0 };
  if (run_stream (dev, a, max_len, &per_buffer, data, len, &rng_run, &r, &st)) {
    compare ("per-buffer", &r, ref, crc, hist);
    fprintf (stderr, "per-buffer: %" G_GUINT64_FORMAT " jobs, %"
        G_GUINT64_FORMAT " dispatches\n", r.jobs, st.launches);
  }
  g_array_unref (r.matches);

  /* Scan only, with the GPU's code forced on (the scan-only byte loop and
   * 16-byte rounds; CPU devices run compact code): the same matches,
   * window and arena carry. */
  g_setenv ("VYRE_SCAN_FAST_PATH", "1", TRUE);
  g_setenv ("VYRE_COMPACT_CODE", "0", TRUE);
  rng_run = rng;
  RunConfig scan_only = { TRUE, MAX_MATCHES, 0, TRUE, VYRE_OPS_SCAN };
  if (run_stream (dev, a, max_len, &scan_only, data, len, &rng_run, &r, &st)) {
    compare ("scan only, fast path", &r, ref, 0, NULL);
    fprintf (stderr, "scan only: torn reads: %" G_GUINT64_FORMAT
        " completions, %" G_GUINT64_FORMAT " results\n", st.torn_completions,
        r.torn_results);
  }
  g_array_unref (r.matches);
  g_unsetenv ("VYRE_SCAN_FAST_PATH");
  g_unsetenv ("VYRE_COMPACT_CODE");

  /* Retire after 3 idle polls, and give it idle time: the host must
   * relaunch again and again and no job may be lost or run twice.  Every
   * other job takes its carry from the arena. */
  g_setenv ("VYRE_POLL_BUDGET", "3", TRUE);
  rng_run = rng;
  RunConfig relaunching = { TRUE, MAX_MATCHES, 3, TRUE, 0 };
  if (run_stream (dev, a, max_len, &relaunching, data, len, &rng_run, &r, &st)) {
    compare ("relaunching", &r, ref, crc, hist);
    fprintf (stderr, "relaunching: %" G_GUINT64_FORMAT " launches, %u "
        "retirements, torn reads: %" G_GUINT64_FORMAT " completions, %"
        G_GUINT64_FORMAT " results\n", st.launches, st.retired,
        st.torn_completions, r.torn_results);
    CHECK (st.launches > 1);
    CHECK (st.retired > 0);
  }
  g_array_unref (r.matches);
  g_unsetenv ("VYRE_POLL_BUDGET");

  /* One event record per lane: most matches cannot be stored.  They must
   * all be counted, the stored ones must be real, and stored + dropped
   * must add up: overflow is reported, never silent. */
  rng_run = rng;
  RunConfig tiny = { TRUE, SMALL_MATCHES, 0, FALSE, 0 };
  if (run_stream (dev, a, max_len, &tiny, data, len, &rng_run, &r, &st)) {
    CHECK_EQ_U64 (r.found, ref->len);
    CHECK (r.stored < r.found);
    CHECK_EQ_U64 (r.matches->len, r.stored);
    vyre_match_events_sort (r.matches);
    guint missing = 0;
    for (guint i = 0; i < r.matches->len; i++) {
      GstVyreMatch *m = &g_array_index (r.matches, GstVyreMatch, i);
      VyreRefMatch key = {.start = m->offset,.pattern_id = m->pattern_id };
      if (!bsearch (&key, ref->data, ref->len, sizeof key, vyre_ref_match_compare))
        missing++;
    }
    CHECK_EQ_U64 (missing, 0);
    CHECK_EQ_U64 (r.crc, crc);
    fprintf (stderr, "overflow: %" G_GUINT64_FORMAT " found, %" G_GUINT64_FORMAT
        " stored, %" G_GUINT64_FORMAT " dropped, torn reads: %" G_GUINT64_FORMAT
        " completions, %" G_GUINT64_FORMAT " results\n", r.found, r.stored,
        r.found - r.stored, st.torn_completions, r.torn_results);
  }
  g_array_unref (r.matches);

  check_grow_ahead (dev, a);

  g_array_unref (ref);
  g_free (data);
  vyre_automaton_free (a);
  g_ptr_array_unref (patterns);
  vyre_device_unref (dev);
  return ring_test_finish ("test_megakernel");
}
