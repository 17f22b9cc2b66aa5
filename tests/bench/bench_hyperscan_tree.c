/*
 * bench_hyperscan_tree.c - the Hyperscan baseline of tests/bench/bench_tree.sh:
 * the same literals as vyrescan, every file of a list scanned on its own
 * (a match never spans two files, as in vyreurisrc ! vyrescan), all
 * matches counted.
 *
 *   bench_hyperscan_tree -p PATTERNS_FILE -l LIST [-t THREADS] [-i]
 *
 * PATTERNS_FILE: vyrescan's syntax, parsed as bench_hyperscan.c parses it
 * (the same code).  LIST: the files, NUL-separated (find -print0).  The
 * patterns are compiled once (hs_compile_lit_multi, block mode, every
 * match, HS_FLAG_CASELESS with -i); THREADS threads (default 1, 0 = every
 * online core) take the files in turn, read each whole and scan it.  A
 * file that cannot be read is counted in `unreadable` and left out.
 *
 * Prints one line of key=value: patterns, threads, files, unreadable,
 * bytes, matches (every (id, end) pair), compile_s, scan_s (reading
 * included), files_per_s.  Exit status 0 on success, 1 on any error.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
die (const char *fmt, const char *a, const char *b)
{
  fprintf (stderr, "bench_hyperscan_tree: ");
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

static hs_database_t *db;
static char **files;
static size_t nfiles;
static atomic_size_t next_file;

typedef struct
{
  hs_scratch_t *scratch;
  unsigned char *buf;
  size_t cap;
  uint64_t matches, bytes, unreadable;
  int failed;
} worker;

static int
on_match (unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
  (void) id;
  (void) from;
  (void) to;
  (void) flags;
  ((worker *) ctx)->matches++;
  return 0;
}

/* Reads path whole into w->buf.  The length, or -1. */
static long long
read_whole (worker * w, const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    close (fd);
    return -1;
  }
  size_t len = 0;
  for (;;) {
    if (len == w->cap) {
      w->cap = w->cap ? w->cap * 2 : (size_t) 1 << 20;
      w->buf = realloc (w->buf, w->cap);
    }
    ssize_t n = read (fd, w->buf + len, w->cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close (fd);
      return -1;
    }
    if (n == 0)
      break;
    len += (size_t) n;
  }
  close (fd);
  return (long long) len;
}

static void *
run_worker (void *arg)
{
  worker *w = arg;
  for (;;) {
    size_t i = atomic_fetch_add (&next_file, 1);
    if (i >= nfiles)
      break;
    long long len = read_whole (w, files[i]);
    if (len < 0) {
      w->unreadable++;
      continue;
    }
    w->bytes += (uint64_t) len;
    if (len > 0 && hs_scan (db, (const char *) w->buf, (unsigned) len, 0,
            w->scratch, on_match, w) != HS_SUCCESS) {
      w->failed = 1;
      break;
    }
  }
  return NULL;
}

static void
load_list (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    die ("cannot open list %s: %s", path, strerror (errno));
  char *line = NULL;
  size_t cap = 0, alloc = 0;
  ssize_t n;
  while ((n = getdelim (&line, &cap, '\0', f)) > 0) {
    if (line[n - 1] == '\0')
      n--;
    if (n == 0)
      continue;
    if (nfiles == alloc) {
      alloc = alloc ? alloc * 2 : 1024;
      files = realloc (files, alloc * sizeof *files);
    }
    files[nfiles++] = strndup (line, (size_t) n);
  }
  free (line);
  fclose (f);
}

int
main (int argc, char **argv)
{
  const char *pfile = NULL, *list = NULL;
  int threads = 1, caseless = 0, opt;
  while ((opt = getopt (argc, argv, "p:l:t:ih")) != -1) {
    switch (opt) {
      case 'p':
        pfile = optarg;
        break;
      case 'l':
        list = optarg;
        break;
      case 't':
        threads = atoi (optarg);
        break;
      case 'i':
        caseless = 1;
        break;
      default:
        fprintf (stderr, "usage: bench_hyperscan_tree -p PATTERNS_FILE "
            "-l LIST [-t THREADS] [-i]\n");
        return opt == 'h' ? 0 : 1;
    }
  }
  if (!pfile || !list)
    die ("-p PATTERNS_FILE and -l LIST are required%s%s", "", "");
  if (threads <= 0)
    threads = (int) sysconf (_SC_NPROCESSORS_ONLN);
  load_patterns (pfile);
  load_list (list);

  unsigned *ids = malloc (nlits * sizeof *ids);
  unsigned *flags = malloc (nlits * sizeof *flags);
  for (unsigned i = 0; i < nlits; i++) {
    ids[i] = i;
    flags[i] = caseless ? HS_FLAG_CASELESS : 0;
  }
  hs_compile_error_t *cerr = NULL;
  double t0 = now_s ();
  if (hs_compile_lit_multi ((const char *const *) lits, flags, ids, lens,
          nlits, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS)
    die ("hs_compile_lit_multi: %s%s", cerr ? cerr->message : "?", "");
  double compile_s = now_s () - t0;

  worker *ws = calloc ((size_t) threads, sizeof *ws);
  pthread_t *tids = malloc ((size_t) threads * sizeof *tids);
  for (int t = 0; t < threads; t++)
    if (hs_alloc_scratch (db, &ws[t].scratch) != HS_SUCCESS)
      die ("hs_alloc_scratch failed%s%s", "", "");
  t0 = now_s ();
  for (int t = 0; t < threads; t++)
    pthread_create (&tids[t], NULL, run_worker, &ws[t]);
  uint64_t matches = 0, bytes = 0, unreadable = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join (tids[t], NULL);
    if (ws[t].failed)
      die ("hs_scan failed%s%s", "", "");
    matches += ws[t].matches;
    bytes += ws[t].bytes;
    unreadable += ws[t].unreadable;
  }
  double scan_s = now_s () - t0;
  printf ("patterns=%u threads=%d files=%zu unreadable=%llu bytes=%llu "
      "matches=%llu compile_s=%.6f scan_s=%.6f files_per_s=%.0f\n", nlits,
      threads, nfiles, (unsigned long long) unreadable,
      (unsigned long long) bytes, (unsigned long long) matches, compile_s,
      scan_s, scan_s > 0 ? nfiles / scan_s : 0.0);
  return 0;
}
