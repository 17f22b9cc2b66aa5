/*
 * bench_dispatch.c - the ring protocol measured on the real device.
 *
 *   bench_dispatch [--jobs N] [--quick]
 *
 * Prints one table (markdown) with:
 *   1. round trip of one 1 KiB job (publish -> completion seen), median and
 *      p99, persistent vs per-buffer (one vkQueueSubmit + wait per job);
 *   2. N x 1 KiB jobs with the ring kept full: jobs/s and GB/s;
 *   3. scan throughput for 1 MiB jobs with 32 and 1,000 literals, data
 *      already in GPU-readable memory (kernel + ring, no file I/O).
 * Every job's completion is checked (CRC against the CPU) so a fast wrong
 * answer cannot pass as a figure.
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vyre-automaton.h"
#include "vyre-crc32.h"
#include "vyre-device.h"
#include "vyre-megakernel.h"

#define MAX_SLOTS 1024
static guint SLOTS = 64;   /* ring slots of the current run */
static guint MAX_MATCHES = 64 * 1024;   /* per job, of the current run */
#define SMALL 1024
#define BIG (1 << 20)

static guint64 rng_state = 0x9E3779B97F4A7C15ull;

static guint64
rnd (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static GPtrArray *
make_words (guint n)
{
  GPtrArray *p = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < n; i++) {
    guint len = 4 + rnd () % 9;
    gchar w[16];
    for (guint k = 0; k < len; k++)
      w[k] = 'a' + rnd () % 26;
    g_ptr_array_add (p, g_bytes_new (w, len));
  }
  return p;
}

/* English-like text: words from the pattern set and random words. */
static void
fill_text (guint8 * d, gsize len, GPtrArray * words)
{
  gsize i = 0;
  while (i < len) {
    if (rnd () % 4 == 0) {
      GBytes *w = words->pdata[rnd () % words->len];
      gsize n = MIN (g_bytes_get_size (w), len - i);
      memcpy (d + i, g_bytes_get_data (w, NULL), n);
      i += n;
    } else {
      guint n = 2 + rnd () % 8;
      for (guint k = 0; k < n && i < len; k++)
        d[i++] = 'a' + rnd () % 26;
    }
    if (i < len)
      d[i++] = ' ';
  }
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* A kernel of its own with one tenant (the kernel dies with its tenant). */
static VyreTenant *
make_tenant (VyreDevice * dev, VyreAutomaton * a, guint block,
    gboolean persistent)
{
  VyreMegakernelConfig cfg = {
    .nslots = SLOTS,.persistent = persistent,
    .progress_timeout_us = 30 * G_USEC_PER_SEC,
  };
  VyreTenantConfig tc = {
    .name = "bench_dispatch",.contexts = SLOTS,
    .arena_bytes = (guint64) SLOTS * block,.max_matches = MAX_MATCHES,
    .max_carry = 16,.tables = a->words,.table_words = a->n_words,
  };
  GError *err = NULL;
  VyreMegakernel *mk = vyre_megakernel_new (dev, &cfg, &err);
  VyreTenant *t = mk ? vyre_megakernel_add_tenant (mk, &tc, &err) : NULL;
  if (mk)
    vyre_megakernel_unref (mk);   /* the tenant holds it */
  if (!t) {
    fprintf (stderr, "megakernel: %s\n", err->message);
    exit (1);
  }
  return t;
}

static void
drop_tenant (VyreTenant * t)
{
  vyre_tenant_unref (t);
}

static vyre_job
data_job (guint ctx, guint block, guint len, guint64 stream_offset)
{
  vyre_job j = { 0 };
  j.opcode = VYRE_OP_SCAN;
  j.ops = VYRE_OPS_ALL;
  j.data_offset = (guint64) ctx * block;
  j.data_len = len;
  j.stream_offset = stream_offset;
  j.epoch = 1;
  j.result_index = ctx;
  return j;
}

static guint bad;

static void
wait_ok (VyreTenant * tenant, vyre_ticket * t, guint32 expect_crc)
{
  vyre_completion c;
  GError *err = NULL;
  if (vyre_tenant_wait (tenant, t, &c, NULL, &err) != VYRE_MK_OK) {
    fprintf (stderr, "job failed: %s\n", err->message);
    exit (1);
  }
  if (c.crc32 != expect_crc)
    bad++;
  vyre_tenant_release (tenant, t);
}

/* 1. one job at a time: publish -> completion */
static void
round_trip (VyreDevice * dev, VyreAutomaton * a, gboolean persistent,
    guint32 opcode, guint32 ops, guint n, double *median, double *p99)
{
  VyreTenant *tenant = make_tenant (dev, a, SMALL, persistent);
  /* one chunk: the whole arena, there from the start */
  guint8 *arena = vyre_tenant_arena_reserve (tenant, 0, (gsize) SLOTS * SMALL,
      NULL);
  for (gsize i = 0; i < (gsize) SLOTS * SMALL; i++)
    arena[i] = 'a' + rnd () % 26;
  guint32 crcs[MAX_SLOTS];
  for (guint s = 0; s < SLOTS; s++)
    crcs[s] = vyre_crc32_update (0, arena + s * SMALL, SMALL);
  double *t = g_new (double, n);
  guint warm = 200;
  for (guint i = 0; i < n + warm; i++) {
    guint ctx = i % SLOTS;
    vyre_job j = data_job (ctx, SMALL, SMALL, 0);
    j.opcode = opcode;
    j.ops = ops;
    vyre_ticket tk;
    struct timespec a0, a1;
    clock_gettime (CLOCK_MONOTONIC, &a0);
    if (vyre_tenant_submit (tenant, &j, &tk, NULL) != VYRE_MK_OK)
      exit (1);
    wait_ok (tenant, &tk, (ops & VYRE_OPS_CRC32) ? crcs[ctx] : 0);
    clock_gettime (CLOCK_MONOTONIC, &a1);
    if (i >= warm)
      t[i - warm] = (a1.tv_sec - a0.tv_sec) * 1e6 + (a1.tv_nsec - a0.tv_nsec) * 1e-3;
  }
  qsort (t, n, sizeof *t, cmp_double);
  *median = t[n / 2];
  *p99 = t[(n * 99) / 100];
  g_free (t);
  drop_tenant (tenant);
}

/* 2./3. keep the ring full; returns seconds */
static double
stream_op (VyreDevice * dev, VyreAutomaton * a, guint block, guint n,
    gboolean persistent, guint32 opcode)
{
  VyreTenant *tenant = make_tenant (dev, a, block, persistent);
  guint8 *arena = vyre_tenant_arena_reserve (tenant, 0, (gsize) SLOTS * block,
      NULL);
  GPtrArray *w = make_words (64);
  fill_text (arena, (gsize) SLOTS * block, w);
  g_ptr_array_unref (w);
  guint32 *crcs = g_new (guint32, SLOTS);
  for (guint s = 0; s < SLOTS; s++)
    crcs[s] = vyre_crc32_update (0, arena + (gsize) s * block, block);
  vyre_ticket tk[MAX_SLOTS];
  guint head = 0, count = 0;
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++) {
    guint ctx = i % SLOTS;
    if (count == SLOTS) {
      wait_ok (tenant, &tk[head], opcode == VYRE_OP_NOP ? 0 : crcs[head]);
      head = (head + 1) % SLOTS;
      count--;
    }
    vyre_job j = data_job (ctx, block, block, (guint64) i * block);
    j.opcode = opcode;
    if (opcode == VYRE_OP_NOP)
      j.ops = 0;
    while (vyre_tenant_submit (tenant, &j, &tk[ctx], NULL) == VYRE_MK_FULL);
    count++;
  }
  while (count) {
    wait_ok (tenant, &tk[head], opcode == VYRE_OP_NOP ? 0 : crcs[head]);
    head = (head + 1) % SLOTS;
    count--;
  }
  double s = (g_get_monotonic_time () - t0) / 1e6;
  g_free (crcs);
  drop_tenant (tenant);
  return s;
}

static double
stream (VyreDevice * dev, VyreAutomaton * a, guint block, guint n,
    gboolean persistent)
{
  return stream_op (dev, a, block, n, persistent, VYRE_OP_SCAN);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  guint jobs = 10000;
  guint scan_mib = 2048;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--quick")) {
      jobs = 1000;
      scan_mib = 64;
    } else if (!strcmp (argv[i], "--jobs") && i + 1 < argc)
      jobs = atoi (argv[++i]);
  }
  GError *err = NULL;
  VyreDevice *dev = vyre_device_open (-1, &err);
  if (!dev) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  GPtrArray *p32 = make_words (32);
  VyreAutomaton *a32 = vyre_automaton_compile (p32, FALSE, 0, &err);
  GPtrArray *p1000 = make_words (1000);
  VyreAutomaton *a1000 = vyre_automaton_compile (p1000, FALSE, 0, &err);

  printf ("device: %s, driver %s\n\n", vyre_device_name (dev),
      vyre_device_driver (dev));
  printf ("| measurement | persistent | per-buffer |\n|---|---|---|\n");
  double pm, pp, bm, bp;
  guint rt_jobs = MIN (jobs, 5000);
  struct
  {
    const char *what;
    guint32 opcode, ops;
  } kinds[] = {
    {"NOP job (protocol only)", VYRE_OP_NOP, 0},
    {"1 KiB CRC-32 job", VYRE_OP_CRC32, VYRE_OPS_CRC32},
    {"1 KiB scan job (32 literals)", VYRE_OP_SCAN, VYRE_OPS_SCAN},
    {"1 KiB scan+CRC+histogram job", VYRE_OP_SCAN, VYRE_OPS_ALL},
  };
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
    round_trip (dev, a32, TRUE, kinds[k].opcode, kinds[k].ops, rt_jobs, &pm, &pp);
    round_trip (dev, a32, FALSE, kinds[k].opcode, kinds[k].ops, rt_jobs, &bm, &bp);
    printf ("| round trip, %s: median / p99 | %.2f / %.2f us | %.2f / %.2f us |\n",
        kinds[k].what, pm, pp, bm, bp);
  }
  double np = stream_op (dev, a32, SMALL, jobs, TRUE, VYRE_OP_NOP);
  double nb = stream_op (dev, a32, SMALL, MIN (jobs, 5000), FALSE, VYRE_OP_NOP);
  printf ("| %u NOP jobs, ring full (one host thread): jobs/s | %.0f | %.0f |\n",
      jobs, jobs / np, MIN (jobs, 5000) / nb);
  double sp = stream (dev, a32, SMALL, jobs, TRUE);
  double sb = stream (dev, a32, SMALL, MIN (jobs, 5000), FALSE);
  printf ("| %u x 1 KiB jobs, ring full: jobs/s | %.0f | %.0f |\n", jobs,
      jobs / sp, MIN (jobs, 5000) / sb);
  printf ("| same: GB/s | %.3f | %.3f |\n", jobs * (double) SMALL / sp / 1e9,
      MIN (jobs, 5000) * (double) SMALL / sb / 1e9);
  guint big_jobs = scan_mib;
  double s32 = stream (dev, a32, BIG, big_jobs, TRUE);
  double s1000 = stream (dev, a1000, BIG, big_jobs, TRUE);
  printf ("| scan, 1 MiB jobs, 32 literals, %u MiB: GB/s | %.2f | |\n",
      big_jobs, big_jobs * (double) BIG / s32 / 1e9);
  printf ("| scan, 1 MiB jobs, 1,000 literals, %u MiB: GB/s | %.2f | |\n",
      big_jobs, big_jobs * (double) BIG / s1000 / 1e9);
  /* The same bytes as 64 KiB jobs in a 512-slot ring: more workgroups
   * busy at once (one per slot, see vyre-megakernel.c). */
  SLOTS = 512;
  MAX_MATCHES = 8192;
  guint mid_jobs = big_jobs * 16;
  double m32 = stream (dev, a32, BIG / 16, mid_jobs, TRUE);
  double m1000 = stream (dev, a1000, BIG / 16, mid_jobs, TRUE);
  printf ("| scan, 64 KiB jobs, 512 slots, 32 literals, %u MiB: GB/s | %.2f | |\n",
      big_jobs, mid_jobs * (double) (BIG / 16) / m32 / 1e9);
  printf ("| scan, 64 KiB jobs, 512 slots, 1,000 literals, %u MiB: GB/s | %.2f | |\n",
      big_jobs, mid_jobs * (double) (BIG / 16) / m1000 / 1e9);
  SLOTS = 64;
  MAX_MATCHES = 64 * 1024;
  printf ("\nwrong CRCs: %u\n", bad);
  vyre_automaton_free (a32);
  vyre_automaton_free (a1000);
  g_ptr_array_unref (p32);
  g_ptr_array_unref (p1000);
  vyre_device_unref (dev);
  return bad ? 1 : 0;
}
