/*
 * bench_hyperscan.c - the Hyperscan baseline for tests/bench/run: the same
 * literals, the same file, the same all-matches semantics as vyrescan.
 *
 *   bench_hyperscan -p PATTERNS_FILE -f FILE [-t THREADS] [-i] [-r RUNS]
 *                   [-c COUNTS_OUT]
 *
 * PATTERNS_FILE uses vyrescan's syntax (one literal per line; empty lines
 * and lines starting with '#' skipped; a CR before the LF dropped; escapes
 * \\ \n \r \t \xHH), so both tools see the same bytes.  Every literal gets
 * its own id (duplicates included, as in vyrescan) and is compiled with
 * hs_compile_lit_multi, block mode, HS_FLAG_SINGLEMATCH off (every match is
 * reported), HS_FLAG_CASELESS with -i (vyrescan's ignore-case=true).
 *
 * The file is mmap'd and cut into chunks that THREADS threads (default 1;
 * 0 = every online core) take in turn.  A chunk [s, e) is scanned from
 * s - (max_len - 1) so a match that straddles s is seen whole, and a match
 * counts only if its last byte lies in [s, e): exactly vyrescan's rule (a
 * straddling match belongs to the buffer it ends in), so the totals of 1
 * and N threads and of vyrescan are the same number.  Hyperscan reports end
 * offsets; the count is the number of (id, end) pairs.
 *
 * Prints one line of key=value: patterns, max_len, threads, bytes, matches,
 * compile_s, scan_s (best of RUNS), gbps (bytes / scan_s / 1e9), cpu_s (user
 * + system CPU of the best run's scan, all threads).  -c writes "id count"
 * lines, one per pattern, for finding which pattern disagrees.
 * Exit status 0 on success, 1 on any error, 2 when RUNS disagree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
die (const char *fmt, const char *a, const char *b)
{
  fprintf (stderr, "bench_hyperscan: ");
  fprintf (stderr, fmt, a, b);
  fputc ('\n', stderr);
  exit (1);
}

static int
hexval (int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Patterns: decoded literals, in file order. */
static char **lits;
static size_t *lens;
static unsigned nlits;

static void
load_patterns (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    die ("cannot open patterns file %s: %s", path, strerror (errno));
  char *line = NULL;
  size_t cap = 0, alloc = 0;
  ssize_t n;
  unsigned lineno = 0;
  while ((n = getline (&line, &cap, f)) >= 0) {
    lineno++;
    if (n > 0 && line[n - 1] == '\n')
      n--;
    if (n > 0 && line[n - 1] == '\r')
      n--;
    if (n == 0 || line[0] == '#')
      continue;
    char *out = malloc (n);
    size_t o = 0;
    for (ssize_t i = 0; i < n; i++) {
      if (line[i] != '\\') {
        out[o++] = line[i];
        continue;
      }
      char c = i + 1 < n ? line[i + 1] : 0;
      if (c == '\\' || c == 'n' || c == 'r' || c == 't') {
        out[o++] = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : '\\';
        i++;
      } else if (c == 'x' && i + 3 < n && hexval (line[i + 2]) >= 0
          && hexval (line[i + 3]) >= 0) {
        out[o++] = (char) (hexval (line[i + 2]) * 16 + hexval (line[i + 3]));
        i += 3;
      } else {
        char where[64];
        snprintf (where, sizeof where, "line %u", lineno);
        die ("%s, %s: bad escape (vyrescan's syntax: \\\\ \\n \\r \\t \\xHH)",
            path, where);
      }
    }
    if (nlits == alloc) {
      alloc = alloc ? alloc * 2 : 256;
      lits = realloc (lits, alloc * sizeof *lits);
      lens = realloc (lens, alloc * sizeof *lens);
    }
    lits[nlits] = out;
    lens[nlits] = o;
    nlits++;
  }
  free (line);
  fclose (f);
  if (nlits == 0)
    die ("%s: no patterns%s", path, "");
}

static double
now_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double
cpu_s (void)
{
  struct rusage r;
  getrusage (RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6
      + r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6;
}

static hs_database_t *db;
static const unsigned char *data;
static uint64_t size, chunk, nchunks;
static size_t max_len;
static atomic_uint_fast64_t next_chunk;

typedef struct
{
  hs_scratch_t *scratch;
  uint64_t matches;
  uint64_t *per_id;             /* NULL unless -c */
  unsigned long long skip;      /* matches ending at or before this belong
                                 * to the previous chunk */
  int failed;
} worker;

static int
on_match (unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
  worker *w = ctx;
  (void) from;
  (void) flags;
  /* to is one past the match's last byte: that byte is to - 1. */
  if (to > w->skip) {
    w->matches++;
    if (w->per_id)
      w->per_id[id]++;
  }
  return 0;
}

static void *
run_worker (void *arg)
{
  worker *w = arg;
  for (;;) {
    uint64_t c = atomic_fetch_add (&next_chunk, 1);
    if (c >= nchunks)
      break;
    uint64_t s = c * chunk, e = s + chunk < size ? s + chunk : size;
    uint64_t back = s < max_len - 1 ? s : max_len - 1;
    w->skip = back;
    if (hs_scan (db, (const char *) data + s - back, (unsigned) (e - s + back),
            0, w->scratch, on_match, w) != HS_SUCCESS) {
      w->failed = 1;
      break;
    }
  }
  return NULL;
}

int
main (int argc, char **argv)
{
  const char *pfile = NULL, *file = NULL, *counts = NULL;
  int threads = 1, caseless = 0, runs = 1, opt;
  while ((opt = getopt (argc, argv, "p:f:t:ir:c:h")) != -1) {
    switch (opt) {
      case 'p':
        pfile = optarg;
        break;
      case 'f':
        file = optarg;
        break;
      case 't':
        threads = atoi (optarg);
        break;
      case 'i':
        caseless = 1;
        break;
      case 'r':
        runs = atoi (optarg);
        break;
      case 'c':
        counts = optarg;
        break;
      default:
        fprintf (stderr, "usage: %s -p PATTERNS -f FILE [-t THREADS] [-i] "
            "[-r RUNS] [-c COUNTS_OUT]\n", argv[0]);
        return opt == 'h' ? 0 : 1;
    }
  }
  if (!pfile || !file) {
    fprintf (stderr, "bench_hyperscan: -p and -f are required (-h: usage)\n");
    return 1;
  }
  if (threads <= 0)
    threads = (int) sysconf (_SC_NPROCESSORS_ONLN);
  if (runs < 1)
    runs = 1;
  if (hs_valid_platform () != HS_SUCCESS)
    die ("this CPU lacks SSSE3, which Hyperscan needs%s%s", "", "");

  load_patterns (pfile);
  unsigned *flags = malloc (nlits * sizeof *flags);
  unsigned *ids = malloc (nlits * sizeof *ids);
  for (unsigned i = 0; i < nlits; i++) {
    flags[i] = caseless ? HS_FLAG_CASELESS : 0;
    ids[i] = i;
    if (lens[i] > max_len)
      max_len = lens[i];
  }
  hs_compile_error_t *cerr = NULL;
  double t0 = now_s ();
  if (hs_compile_lit_multi ((const char *const *) lits, flags, ids, lens,
          nlits, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS)
    die ("hs_compile_lit_multi: %s%s", cerr ? cerr->message : "?", "");
  double compile_s = now_s () - t0;

  int fd = open (file, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    die ("cannot open %s: %s", file, strerror (errno));
  size = (uint64_t) st.st_size;
  if (size > 0) {
    data = mmap (NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED)
      die ("mmap %s: %s", file, strerror (errno));
    madvise ((void *) data, size, MADV_SEQUENTIAL);
  }
  /* Chunks: several per thread for balance, at most 256 MiB (hs_scan takes
   * an unsigned length), at least 1 MiB. */
  chunk = (size + (uint64_t) threads * 8 - 1) / ((uint64_t) threads * 8);
  if (chunk > (256u << 20))
    chunk = 256u << 20;
  if (chunk < (1u << 20))
    chunk = 1u << 20;
  nchunks = (size + chunk - 1) / chunk;

  worker *w = calloc (threads, sizeof *w);
  hs_scratch_t *proto = NULL;
  if (hs_alloc_scratch (db, &proto) != HS_SUCCESS)
    die ("hs_alloc_scratch failed%s%s", "", "");
  for (int i = 0; i < threads; i++) {
    if (hs_clone_scratch (proto, &w[i].scratch) != HS_SUCCESS)
      die ("hs_clone_scratch failed%s%s", "", "");
    if (counts)
      w[i].per_id = calloc (nlits, sizeof (uint64_t));
  }
  pthread_t *tid = calloc (threads, sizeof *tid);

  double best = 0, best_cpu = 0;
  uint64_t first_total = 0;
  int disagree = 0;
  for (int r = 0; r < runs; r++) {
    for (int i = 0; i < threads; i++) {
      w[i].matches = 0;
      if (w[i].per_id)
        memset (w[i].per_id, 0, nlits * sizeof (uint64_t));
    }
    atomic_store (&next_chunk, 0);
    double c0 = cpu_s ();
    t0 = now_s ();
    if (threads == 1)
      run_worker (&w[0]);
    else {
      for (int i = 0; i < threads; i++)
        pthread_create (&tid[i], NULL, run_worker, &w[i]);
      for (int i = 0; i < threads; i++)
        pthread_join (tid[i], NULL);
    }
    double dt = now_s () - t0, dc = cpu_s () - c0;
    uint64_t total = 0;
    for (int i = 0; i < threads; i++) {
      if (w[i].failed)
        die ("hs_scan failed%s%s", "", "");
      total += w[i].matches;
    }
    if (r == 0)
      first_total = total;
    else if (total != first_total) {
      fprintf (stderr, "bench_hyperscan: run %d found %llu matches, run 1 "
          "%llu\n", r + 1, (unsigned long long) total,
          (unsigned long long) first_total);
      disagree = 1;
    }
    if (r == 0 || dt < best) {
      best = dt;
      best_cpu = dc;
    }
  }

  if (counts) {
    FILE *out = fopen (counts, "w");
    if (!out)
      die ("cannot write %s: %s", counts, strerror (errno));
    for (unsigned id = 0; id < nlits; id++) {
      uint64_t n = 0;
      for (int i = 0; i < threads; i++)
        n += w[i].per_id[id];
      fprintf (out, "%u %llu\n", id, (unsigned long long) n);
    }
    fclose (out);
  }

  char version[64];
  snprintf (version, sizeof version, "%s", hs_version ());
  version[strcspn (version, " ")] = 0;
  printf ("patterns=%u max_len=%zu threads=%d bytes=%llu matches=%llu "
      "compile_s=%.6f scan_s=%.6f gbps=%.4f cpu_s=%.6f hyperscan=%s\n",
      nlits, max_len, threads, (unsigned long long) size,
      (unsigned long long) first_total, compile_s, best,
      best > 0 ? size / best / 1e9 : 0.0, best_cpu, version);

  for (int i = 0; i < threads; i++) {
    hs_free_scratch (w[i].scratch);
    free (w[i].per_id);
  }
  hs_free_scratch (proto);
  hs_free_database (db);
  if (size > 0)
    munmap ((void *) data, size);
  close (fd);
  return disagree ? 2 : 0;
}
