/*
 * bench_resident.c - scan throughput with the data already in GPU memory:
 * the kernel and the ring, no file I/O, no GStreamer pipeline.  The
 * counterpart of Hyperscan scanning a file it has in RAM (bench_hyperscan),
 * on the same file and patterns, with the same count to agree on.
 *
 *   bench_resident -p PATTERNS -f FILE [-i] [--job BYTES] [--slots N]
 *                  [--passes N] [--ops scan|all]
 *
 * The file is copied once into the kernel's data arena (device-local
 * memory on a GPU), then scanned PASSES times as jobs of JOB bytes (default
 * 256 KiB, vyrescan's on GPUs) through a ring of SLOTS slots (default 512,
 * the same; one workgroup per
 * slot), each job after the first reading its carry from the arena
 * (VYRE_CARRY_IN_ARENA), as vyrescan runs a zero-copy buffer.  Prints one
 * line: patterns=... bytes=... matches=... (every (pattern, end offset)
 * pair, as bench_hyperscan counts) gbps=... (best pass) seconds=...
 * Exit 1 when a job faults or passes disagree on the count.
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vyre-automaton.h"
#include "vyre-device.h"
#include "vyre-megakernel.h"
#include "vyre-patterns.h"

static void
die (const char *what, GError * err)
{
  fprintf (stderr, "bench_resident: %s: %s\n", what, err ? err->message : "");
  exit (1);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  const char *pfile = NULL, *dfile = NULL;
  gboolean icase = FALSE;
  guint job = 256 * 1024, slots = 512, passes = 3;
  guint32 ops = VYRE_OPS_SCAN;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "-p") && i + 1 < argc)
      pfile = argv[++i];
    else if (!strcmp (argv[i], "-f") && i + 1 < argc)
      dfile = argv[++i];
    else if (!strcmp (argv[i], "-i"))
      icase = TRUE;
    else if (!strcmp (argv[i], "--job") && i + 1 < argc)
      job = (guint) atoi (argv[++i]);
    else if (!strcmp (argv[i], "--slots") && i + 1 < argc)
      slots = (guint) atoi (argv[++i]);
    else if (!strcmp (argv[i], "--passes") && i + 1 < argc)
      passes = (guint) atoi (argv[++i]);
    else if (!strcmp (argv[i], "--ops") && i + 1 < argc) {
      i++;
      ops = !strcmp (argv[i], "all") ? VYRE_OPS_ALL : VYRE_OPS_SCAN;
    } else {
      fprintf (stderr, "usage: %s -p PATTERNS -f FILE [-i] [--job BYTES] "
          "[--slots N] [--passes N] [--ops scan|all]\n", argv[0]);
      return 2;
    }
  }
  if (!pfile || !dfile || job < 256 || slots < 2 || slots > 4096 || !passes) {
    fprintf (stderr, "bench_resident: -p and -f are required; --job >= 256, "
        "2 <= --slots <= 4096\n");
    return 2;
  }

  GError *err = NULL;
  GPtrArray *pats = NULL;
  if (!vyre_patterns_parse_file (pfile, &pats, &err))
    die ("patterns", err);
  VyreAutomaton *a = vyre_automaton_compile (pats, icase, 0, &err);
  if (!a)
    die ("compile", err);
  guint max_len = 1;
  for (guint i = 0; i < pats->len; i++)
    max_len = MAX (max_len, (guint) g_bytes_get_size (pats->pdata[i]));
  GMappedFile *mf = g_mapped_file_new (dfile, FALSE, &err);
  if (!mf)
    die (dfile, err);
  gsize len = g_mapped_file_get_length (mf);
  if (len == 0 || len > G_MAXUINT32 * (gsize) 1) {
    fprintf (stderr, "bench_resident: %s: %" G_GSIZE_FORMAT " bytes (want "
        "1 byte to 4 GiB)\n", dfile, len);
    return 1;
  }

  VyreDevice *dev = vyre_device_open (-1, &err);
  if (!dev)
    die ("device", err);
  VyreMegakernelConfig cfg = {
    .nslots = slots,.persistent = TRUE,
    .progress_timeout_us = 30 * G_USEC_PER_SEC,
  };
  VyreTenantConfig tc = {
    .name = "bench_resident",.contexts = slots,
    .arena_bytes = (len + 15) & ~(gsize) 15,.max_matches = 16384,
    .max_carry = MAX ((max_len + 2) & ~3u, 4u),.tables = a->words,
    .table_words = a->n_words,
  };
  VyreMegakernel *mk = vyre_megakernel_new (dev, &cfg, &err);
  if (!mk)
    die ("megakernel", err);
  VyreTenant *tenant = vyre_megakernel_add_tenant (mk, &tc, &err);
  vyre_megakernel_unref (mk);   /* the tenant holds it */
  if (!tenant)
    die ("tenant", err);
  /* one chunk: the whole arena, there from the start */
  memcpy (vyre_tenant_arena_reserve (tenant, 0, len, NULL),
      g_mapped_file_get_contents (mf), len);

  guint64 njobs = (len + job - 1) / job;
  vyre_ticket *tk = g_new0 (vyre_ticket, slots);
  double best = 0;
  guint64 count = 0;
  for (guint pass = 0; pass < passes; pass++) {
    guint64 matches = 0, faults = 0;
    guint head = 0, inflight = 0;
    gint64 t0 = g_get_monotonic_time ();
    for (guint64 i = 0; i < njobs || inflight; ) {
      if (i < njobs && inflight < slots) {
        guint ctx = (guint) (i % slots);
        guint64 off = i * job;
        vyre_job j = { 0 };
        j.opcode = VYRE_OP_SCAN;
        j.ops = ops;
        j.data_offset = off;
        j.data_len = (guint32) MIN ((guint64) job, len - off);
        j.stream_offset = off;
        j.carry_len = (guint32) MIN ((guint64) max_len - 1, off);
        j.carry_in_arena = j.carry_len > 0;
        j.epoch = 1;
        j.result_index = ctx;
        VyreMkStatus st = vyre_tenant_submit (tenant, &j, &tk[ctx], &err);
        if (st == VYRE_MK_OK) {
          i++;
          inflight++;
          continue;
        }
        if (st == VYRE_MK_ERROR)
          die ("submit", err);
      }
      vyre_completion c;
      if (vyre_tenant_wait (tenant, &tk[head], &c, NULL, &err) != VYRE_MK_OK)
        die ("wait", err);
      if (c.status != VYRE_STATUS_DONE)
        faults++;
      matches += c.matches;
      vyre_tenant_release (tenant, &tk[head]);
      head = (head + 1) % slots;
      inflight--;
    }
    double s = (g_get_monotonic_time () - t0) / 1e6;
    if (faults) {
      fprintf (stderr, "bench_resident: %" G_GUINT64_FORMAT " jobs faulted\n",
          faults);
      return 1;
    }
    if (pass > 0 && matches != count) {
      fprintf (stderr, "bench_resident: pass %u counted %" G_GUINT64_FORMAT
          ", pass 1 %" G_GUINT64_FORMAT "\n", pass + 1, matches, count);
      return 1;
    }
    count = matches;
    best = MAX (best, len / s / 1e9);
    fprintf (stderr, "pass %u: %.3f s, %.2f GB/s\n", pass + 1, s, len / s / 1e9);
  }
  printf ("patterns=%u max_len=%u bytes=%" G_GSIZE_FORMAT " matches=%"
      G_GUINT64_FORMAT " gbps=%.4f job=%u slots=%u ops=%s device=\"%s\"\n",
      pats->len, max_len, len, count, best, job, slots,
      ops == VYRE_OPS_ALL ? "all" : "scan", vyre_device_name (dev));
  g_free (tk);
  vyre_tenant_unref (tenant);
  vyre_device_unref (dev);
  g_mapped_file_unref (mf);
  vyre_automaton_free (a);
  g_ptr_array_unref (pats);
  return 0;
}
