/*
 * test_uring_reader.c - vyreurisrc's io_uring read queue on its own
 * (gst/vyre-uring-reader.c), without GStreamer.
 *
 * Pipes make the kernel behave the way a slow disk can: a read on an empty
 * pipe stays in flight until data arrives, returns fewer bytes than asked
 * (a short read) and completes after reads submitted later.
 *
 *  out_of_order     a pipe read submitted first completes last; every
 *                   completion lands in its own read (user_data), never the
 *                   oldest one (vyre's pump assumed FIFO completions)
 *  short_reads      a pipe read fed in pieces is continued to the full
 *                   length; `need` lets it finish early; EOF ends it short
 *  timeout          a wait on a read that cannot finish returns -ETIME
 *  cancel           reads blocked on empty pipes are cancelled and reaped,
 *                   the reader is usable afterwards
 *  file_reads       depth reads of a file into registered fixed buffers and
 *                   plain memory, waited for in reverse and random order
 *  split            max-sqe-bytes splits a read into many SQEs (the
 *                   continuation path), data still exact
 *  busy             depth + 1 reads: -EBUSY, slots come back on release
 *  file_ops         STATX, OPENAT2 (a file, a missing one, one outside the
 *                   directory under RESOLVE_BENEATH) and CLOSE by id, waited
 *                   for out of order
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring_test_util.h"
#include "vyre-uring-reader.h"

static VyreUringReader *
reader_new (guint depth)
{
  int err = 0;
  VyreUringReader *r = vyre_uring_reader_new (depth, &err);
  if (r == NULL) {
    printf ("SKIP: io_uring not available: %s\n", g_strerror (err));
    exit (77);
  }
  return r;
}

static void
write_all (int fd, const void *p, gsize n)
{
  const guint8 *b = p;
  while (n > 0) {
    ssize_t w = write (fd, b, n);
    if (w < 0 && errno == EINTR)
      continue;
    CHECK (w > 0);
    if (w <= 0)
      return;
    b += w;
    n -= (gsize) w;
  }
}

static gchar *
make_file (const gchar * dir, gsize len, guint64 * rng, guint8 ** data)
{
  gchar *path = g_build_filename (dir, "data.bin", NULL);
  *data = g_malloc (len);
  for (gsize i = 0; i < len; i += 8) {
    guint64 v = ring_test_rand (rng);
    memcpy (*data + i, &v, MIN (8, len - i));
  }
  CHECK (g_file_set_contents (path, (gchar *) * data, (gssize) len, NULL));
  return path;
}

static void
test_out_of_order (const gchar * file, const guint8 * data)
{
  VyreUringReader *r = reader_new (4);
  int p[2];
  CHECK (pipe (p) == 0);
  int fd = open (file, O_RDONLY);
  guint8 pipe_buf[100], file_buf[4096];

  int a = vyre_uring_reader_submit (r, p[0], 0, pipe_buf, 100, 100, -1);
  int b = vyre_uring_reader_submit (r, fd, 8192, file_buf, 4096, 4096, -1);
  CHECK (a >= 0 && b >= 0 && a != b);
  CHECK_EQ_U64 (vyre_uring_reader_in_flight (r), 2);

  /* b, submitted second, completes first; a is still waiting. */
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, b, 2000), 0);
  CHECK (!vyre_uring_reader_is_done (r, a));
  gsize done;
  int err;
  gboolean eof;
  vyre_uring_reader_result (r, b, &done, &err, &eof);
  CHECK_EQ_U64 (done, 4096);
  CHECK_EQ_U64 (err, 0);
  CHECK (memcmp (file_buf, data + 8192, 4096) == 0);
  vyre_uring_reader_release (r, b);

  /* More file reads complete while a still waits: none is taken for a. */
  for (int i = 0; i < 10; i++) {
    int c = vyre_uring_reader_submit (r, fd, (guint64) i * 4096, file_buf,
        4096, 4096, -1);
    CHECK (c >= 0);
    CHECK_EQ_U64 (vyre_uring_reader_wait (r, c, 2000), 0);
    vyre_uring_reader_result (r, c, &done, &err, &eof);
    CHECK_EQ_U64 (done, 4096);
    CHECK (memcmp (file_buf, data + (gsize) i * 4096, 4096) == 0);
    vyre_uring_reader_release (r, c);
    CHECK (!vyre_uring_reader_is_done (r, a));
  }

  guint8 msg[100];
  for (int i = 0; i < 100; i++)
    msg[i] = (guint8) (i * 7 + 1);
  write_all (p[1], msg, 100);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, a, 2000), 0);
  vyre_uring_reader_result (r, a, &done, &err, &eof);
  CHECK_EQ_U64 (done, 100);
  CHECK (memcmp (pipe_buf, msg, 100) == 0);
  vyre_uring_reader_release (r, a);

  VyreUringReaderStats st;
  vyre_uring_reader_get_stats (r, &st);
  CHECK_EQ_U64 (st.stray, 0);
  CHECK_EQ_U64 (vyre_uring_reader_in_flight (r), 0);
  vyre_uring_reader_free (r);
  close (fd);
  close (p[0]);
  close (p[1]);
}

static void
test_short_reads (void)
{
  VyreUringReader *r = reader_new (2);
  int p[2];
  CHECK (pipe (p) == 0);
  guint8 buf[1000], msg[1000];
  for (int i = 0; i < 1000; i++)
    msg[i] = (guint8) (i ^ 0x5a);

  /* Three pieces: two short completions, each continued. */
  int a = vyre_uring_reader_submit (r, p[0], 0, buf, 1000, 1000, -1);
  CHECK (a >= 0);
  vyre_uring_reader_flush (r);
  write_all (p[1], msg, 10);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, a, 50), (guint64) - ETIME);
  write_all (p[1], msg + 10, 500);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, a, 50), (guint64) - ETIME);
  write_all (p[1], msg + 510, 490);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, a, 2000), 0);
  gsize done;
  int err;
  gboolean eof;
  vyre_uring_reader_result (r, a, &done, &err, &eof);
  CHECK_EQ_U64 (done, 1000);
  CHECK (!eof);
  CHECK (memcmp (buf, msg, 1000) == 0);
  vyre_uring_reader_release (r, a);
  VyreUringReaderStats st;
  vyre_uring_reader_get_stats (r, &st);
  CHECK (st.continuations >= 2);

  /* need < len: done once 10 bytes are in. */
  a = vyre_uring_reader_submit (r, p[0], 0, buf, 1000, 10, -1);
  write_all (p[1], msg, 10);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, a, 2000), 0);
  vyre_uring_reader_result (r, a, &done, &err, &eof);
  CHECK_EQ_U64 (done, 10);
  vyre_uring_reader_release (r, a);

  /* EOF before need: finished short, eof set, no error. */
  a = vyre_uring_reader_submit (r, p[0], 0, buf, 1000, 1000, -1);
  write_all (p[1], msg, 30);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, a, 50), (guint64) - ETIME);
  close (p[1]);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, a, 2000), 0);
  vyre_uring_reader_result (r, a, &done, &err, &eof);
  CHECK_EQ_U64 (done, 30);
  CHECK (eof);
  CHECK_EQ_U64 (err, 0);
  vyre_uring_reader_release (r, a);
  vyre_uring_reader_free (r);
  close (p[0]);
}

static void
test_cancel (const gchar * file, const guint8 * data)
{
  VyreUringReader *r = reader_new (4);
  int p[3][2];
  guint8 buf[3][64];
  int id[3];
  for (int i = 0; i < 3; i++) {
    CHECK (pipe (p[i]) == 0);
    id[i] = vyre_uring_reader_submit (r, p[i][0], 0, buf[i], 64, 64, -1);
    CHECK (id[i] >= 0);
  }
  vyre_uring_reader_flush (r);
  /* One of them gets half its data first: cancelled mid-read. */
  write_all (p[1][1], "0123456789", 10);
  g_usleep (20000);
  double t0 = ring_test_now ();
  CHECK_EQ_U64 (vyre_uring_reader_cancel_all (r), 3);
  CHECK (ring_test_now () - t0 < 2.0);
  CHECK_EQ_U64 (vyre_uring_reader_in_flight (r), 0);
  for (int i = 0; i < 3; i++) {
    gsize done;
    int err;
    gboolean eof;
    CHECK (vyre_uring_reader_is_done (r, id[i]));
    vyre_uring_reader_result (r, id[i], &done, &err, &eof);
    CHECK_EQ_U64 (err, ECANCELED);
    CHECK (i == 1 ? done == 10 : done == 0);
    vyre_uring_reader_release (r, id[i]);
  }
  /* Nothing more arrives for the cancelled reads; the reader still works. */
  for (int i = 0; i < 3; i++)
    write_all (p[i][1], "late", 4);
  int fd = open (file, O_RDONLY);
  guint8 fb[4096];
  int c = vyre_uring_reader_submit (r, fd, 4096, fb, 4096, 4096, -1);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, c, 2000), 0);
  gsize done;
  vyre_uring_reader_result (r, c, &done, NULL, NULL);
  CHECK_EQ_U64 (done, 4096);
  CHECK (memcmp (fb, data + 4096, 4096) == 0);
  vyre_uring_reader_release (r, c);
  VyreUringReaderStats st;
  vyre_uring_reader_get_stats (r, &st);
  CHECK_EQ_U64 (st.stray, 0);
  CHECK_EQ_U64 (st.cancels, 3);

  /* Freeing a reader with reads in flight cancels and reaps them. */
  int q = vyre_uring_reader_submit (r, p[0][0], 0, buf[0], 64, 64, -1);
  CHECK (q >= 0);
  /* "late" is still in that pipe: read it, then block for more. */
  vyre_uring_reader_free (r);
  for (int i = 0; i < 3; i++) {
    close (p[i][0]);
    close (p[i][1]);
  }
  close (fd);
}

static void
test_file_reads (const gchar * file, const guint8 * data, gsize len,
    guint64 * rng)
{
  const guint depth = 16;
  const gsize block = 64 * 1024;
  VyreUringReader *r = reader_new (depth);
  guint8 *arena = mmap (NULL, depth * block, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK (arena != MAP_FAILED);
  struct iovec iov[16];
  for (guint i = 0; i < depth; i++) {
    iov[i].iov_base = arena + i * block;
    iov[i].iov_len = block;
  }
  int reg = vyre_uring_reader_register_buffers (r, iov, depth);
  if (reg != 0)
    printf ("note: fixed buffers not registered (%s): plain reads only\n",
        g_strerror (-reg));
  int fd = open (file, O_RDONLY);
  for (int round = 0; round < 20; round++) {
    int id[16];
    guint64 off[16];
    gsize n[16];
    for (guint i = 0; i < depth; i++) {
      n[i] = 1 + ring_test_rand (rng) % block;
      off[i] = ring_test_rand (rng) % (len - n[i]);
      /* Half fixed (when registered), half plain. */
      int bi = (reg == 0 && (i & 1)) ? (int) i : -1;
      memset (arena + i * block, 0xee, block);
      id[i] = vyre_uring_reader_submit (r, fd, off[i], arena + i * block,
          n[i], n[i], bi);
      CHECK (id[i] >= 0);
    }
    /* Reverse order, then the rest in a random order. */
    guint order[16];
    for (guint i = 0; i < depth; i++)
      order[i] = depth - 1 - i;
    if (round & 1)
      for (guint i = depth - 1; i > 0; i--) {
        guint j = ring_test_rand (rng) % (i + 1);
        guint t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    for (guint k = 0; k < depth; k++) {
      guint i = order[k];
      CHECK_EQ_U64 (vyre_uring_reader_wait (r, id[i], 2000), 0);
      gsize done;
      int err;
      vyre_uring_reader_result (r, id[i], &done, &err, NULL);
      CHECK_EQ_U64 (err, 0);
      CHECK_EQ_U64 (done, n[i]);
      CHECK (memcmp (arena + i * block, data + off[i], n[i]) == 0);
      vyre_uring_reader_release (r, id[i]);
    }
  }
  VyreUringReaderStats st;
  vyre_uring_reader_get_stats (r, &st);
  CHECK_EQ_U64 (st.stray, 0);
  vyre_uring_reader_free (r);
  munmap (arena, depth * block);
  close (fd);
}

static void
test_split (const gchar * file, const guint8 * data, gsize len)
{
  VyreUringReader *r = reader_new (2);
  vyre_uring_reader_set_max_sqe_bytes (r, 4097);
  gsize n = MIN (len, (gsize) 1 << 20);
  guint8 *buf = g_malloc (n);
  int fd = open (file, O_RDONLY);
  int id = vyre_uring_reader_submit (r, fd, 0, buf, n, n, -1);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, id, 5000), 0);
  gsize done;
  vyre_uring_reader_result (r, id, &done, NULL, NULL);
  CHECK_EQ_U64 (done, n);
  CHECK (memcmp (buf, data, n) == 0);
  vyre_uring_reader_release (r, id);
  VyreUringReaderStats st;
  vyre_uring_reader_get_stats (r, &st);
  CHECK_EQ_U64 (st.sqes, (n + 4096) / 4097);
  CHECK_EQ_U64 (st.continuations, st.sqes - 1);
  vyre_uring_reader_free (r);
  g_free (buf);
  close (fd);
}

static void
test_busy (const gchar * file)
{
  VyreUringReader *r = reader_new (3);
  int fd = open (file, O_RDONLY);
  guint8 buf[4][16];
  int id[3];
  for (int i = 0; i < 3; i++)
    id[i] = vyre_uring_reader_submit (r, fd, 0, buf[i], 16, 16, -1);
  CHECK_EQ_U64 (vyre_uring_reader_submit (r, fd, 0, buf[3], 16, 16, -1),
      (guint64) - EBUSY);
  CHECK_EQ_U64 (vyre_uring_reader_submit (r, -1, 0, buf[3], 16, 16, -1),
      (guint64) - EINVAL);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, id[1], 2000), 0);
  vyre_uring_reader_release (r, id[1]);
  int again = vyre_uring_reader_submit (r, fd, 0, buf[3], 16, 16, -1);
  CHECK (again >= 0);
  /* Cancelling reaps it, whether it was cancelled or finished first. */
  vyre_uring_reader_cancel_all (r);
  CHECK_EQ_U64 (vyre_uring_reader_in_flight (r), 0);
  CHECK (vyre_uring_reader_is_done (r, again));
  gsize done;
  int err;
  vyre_uring_reader_result (r, again, &done, &err, NULL);
  CHECK ((err == 0 && done == 16) || err == ECANCELED);
  vyre_uring_reader_free (r);
  close (fd);
}

/* STATX, OPENAT2 and CLOSE in slots like reads: results by id, errors as
 * errno. */
static void
test_file_ops (const gchar * dir, const gchar * file, gsize len)
{
  VyreUringReader *r = reader_new (4);
  if (!vyre_uring_reader_has_file_ops (r)) {
    printf ("file_ops: the kernel lacks OPENAT2/STATX/CLOSE, not tested\n");
    vyre_uring_reader_free (r);
    return;
  }
  gchar *base = g_path_get_basename (file);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK (dfd >= 0);
  struct statx stx;
  int st = vyre_uring_reader_submit_statx (r, dfd, base, AT_SYMLINK_NOFOLLOW,
      STATX_TYPE | STATX_SIZE, &stx);
  int op = vyre_uring_reader_submit_openat2 (r, dfd, base,
      O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH);
  int missing = vyre_uring_reader_submit_openat2 (r, dfd, "no-such-file",
      O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH);
  int outside = vyre_uring_reader_submit_openat2 (r, dfd, "../x",
      O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH);
  CHECK (st >= 0 && op >= 0 && missing >= 0 && outside >= 0);
  /* Waited for in reverse order. */
  gsize done;
  int err;
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, outside, 2000), 0);
  vyre_uring_reader_result (r, outside, &done, &err, NULL);
  CHECK_EQ_U64 (err, EXDEV);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, missing, 2000), 0);
  vyre_uring_reader_result (r, missing, &done, &err, NULL);
  CHECK_EQ_U64 (err, ENOENT);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, op, 2000), 0);
  vyre_uring_reader_result (r, op, &done, &err, NULL);
  CHECK_EQ_U64 (err, 0);
  int fd = (int) done;
  struct stat sb;
  CHECK (fstat (fd, &sb) == 0 && (gsize) sb.st_size == len);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, st, 2000), 0);
  vyre_uring_reader_result (r, st, &done, &err, NULL);
  CHECK_EQ_U64 (err, 0);
  CHECK (S_ISREG (stx.stx_mode) && stx.stx_size == len);
  vyre_uring_reader_release (r, outside);
  vyre_uring_reader_release (r, missing);
  vyre_uring_reader_release (r, op);
  vyre_uring_reader_release (r, st);
  int cl = vyre_uring_reader_submit_close (r, fd);
  CHECK (cl >= 0);
  CHECK_EQ_U64 (vyre_uring_reader_poll (r), 0);
  CHECK_EQ_U64 (vyre_uring_reader_wait (r, cl, 2000), 0);
  vyre_uring_reader_result (r, cl, &done, &err, NULL);
  CHECK_EQ_U64 (err, 0);
  vyre_uring_reader_release (r, cl);
  CHECK (fcntl (fd, F_GETFD) < 0 && errno == EBADF);

  VyreUringReaderStats stats;
  vyre_uring_reader_get_stats (r, &stats);
  CHECK_EQ_U64 (stats.file_ops, 5);
  vyre_uring_reader_free (r);
  close (dfd);
  g_free (base);
}

int
main (void)
{
  guint64 rng = ring_test_seed ();
  gchar *dir = g_dir_make_tmp ("vyre-reader-XXXXXX", NULL);
  CHECK (dir != NULL);
  gsize len = MAX ((gsize) ring_test_scaled (4u << 20), (gsize) 256 * 1024);
  guint8 *data;
  gchar *file = make_file (dir, len, &rng, &data);

  test_out_of_order (file, data);
  test_short_reads ();
  test_cancel (file, data);
  test_file_reads (file, data, len, &rng);
  test_split (file, data, len);
  test_busy (file);
  test_file_ops (dir, file, len);

  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
  g_free (data);
  return ring_test_finish ("test_uring_reader");
}
