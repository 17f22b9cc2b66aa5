/*
 * test_vyreurisrc.c - the vyreurisrc element through GstHarness (push mode)
 * and through its src pad in pull mode, against files it reads.
 *
 *  sizes            byte-exact output for 0, 1, 4095, 4096, 4097 bytes and
 *                   blocksize - 1, blocksize, blocksize + 1 (64 KiB and the
 *                   default 1 MiB); BYTES offsets contiguous; num-buffers
 *  big              100 MiB (VYRE_TEST_SCALE) byte-exact, fixed buffers used
 *  io_modes         every io-mode with and without direct (O_DIRECT)
 *  fallbacks        each fallback forced (VYRE_URISRC_FORCE): io_uring
 *                   blocked (EPERM, ENOSYS) -> pread, registration refused
 *                   (ENOMEM, EFAULT, EOPNOTSUPP) -> read, O_DIRECT refused at
 *                   open and at the first read -> cached reads; each
 *                   announced once with its remedy; forced modes fail instead
 *  short_reads      reads issued in pieces (continuations) stay exact
 *  queue_depths     queue-depth 1 and 32: exact, that many reads in flight
 *  block_sizing     blocksize=1GiB on a 3 MB file maps and pins about 3 MB,
 *                   not queue-depth GiB; blocks over the pin limit are not
 *                   pinned (plain reads), nor blocks of io-mode=read; a
 *                   block is pinned when a read first lands in it (a
 *                   directory of one 1 KiB file pins one block)
 *  seek_pull        random get_range offsets and sizes (every one a seek
 *                   for the read-ahead), cached and O_DIRECT
 *  seek_push        flushing seeks while streaming: exact from the new
 *                   offset, DISCONT, read-ahead cancelled and reaped
 *  state_stress     random state changes mid-stream: no leaked fds, no read
 *                   left in flight, element reusable
 *  unlock           a read that never completes: PLAYING -> NULL and a
 *                   flushing seek return promptly; the element works after
 *  errors           missing file, location and files-from both set,
 *                   permission denied, FIFO, I/O error, a file that shrinks
 *                   while being read
 *  unknown_size     procfs (stat size 0) and sysfs (stat size a page) files
 *                   read to end of file in every mode, as filesrc does; no
 *                   size claimed for them
 *  pseudo_read_error  /proc/self/mem (reads fail with EIO): an error naming
 *                   the path, the errno text and a Fix
 *  uri              file:// handler, rank NONE
 *  backpressure     downstream's GPU-readable blocks all held: create waits
 *                   for one to be returned without polling the allocator,
 *                   and unlock wakes it
 *  zero_copy        vyreurisrc ! vyrescan: reads land in vyrescan's
 *                   memory, bytes-copied stays 0, CRC-32 per buffer equals
 *                   the file region's (needs a Vulkan device; its own meson
 *                   test, suite vulkan)
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "gstvyrememory.h"
#include "gstvyreurisrc.h"
#include "gstvyrescanmeta.h"
#include "ring_test_util.h"
#include "vyre-crc32.h"
#include "vyre-device.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

static gchar *tmp_dir;
static guint64 rng_state;

/* ------------------------------------------------------------------ */
/* Files                                                               */

static guint8 *
random_bytes (gsize len)
{
  guint8 *d = g_malloc (len ? len : 1);
  for (gsize i = 0; i < len; i += 8) {
    guint64 v = ring_test_rand (&rng_state);
    memcpy (d + i, &v, MIN (8, len - i));
  }
  return d;
}

typedef struct
{
  gchar *path;
  guint8 *data;
  gsize len;
} TestFile;

static TestFile *
test_file_new (const gchar * name, gsize len)
{
  TestFile *f = g_new0 (TestFile, 1);
  f->path = g_build_filename (tmp_dir, name, NULL);
  f->data = random_bytes (len);
  f->len = len;
  fail_unless (g_file_set_contents (f->path, (gchar *) f->data, (gssize) len,
          NULL));
  return f;
}

static void
test_file_free (TestFile * f)
{
  g_unlink (f->path);
  g_free (f->path);
  g_free (f->data);
  g_free (f);
}

static guint
count_fds (void)
{
  guint n = 0;
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return 0;
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

/* ------------------------------------------------------------------ */
/* Running the element                                                 */

static GstStructure *
io_stats (GstElement * src)
{
  GstStructure *s = NULL;
  g_object_get (src, "io-stats", &s, NULL);
  fail_unless (s != NULL);
  return s;
}

static guint64
stat_u64 (GstStructure * s, const gchar * field)
{
  guint64 v = 0;
  fail_unless (gst_structure_get_uint64 (s, field, &v), "no field %s", field);
  return v;
}

static GstHarness *
harness_new (const gchar * path, GstBus ** bus)
{
  GstHarness *h = gst_harness_new ("vyreurisrc");
  g_object_set (h->element, "location", path, NULL);
  if (bus) {
    *bus = gst_bus_new ();
    gst_element_set_bus (h->element, *bus);
  }
  return h;
}

/* Pulls every buffer to the end of f and checks it against f from
 * `start`: offsets contiguous, sizes as blocksize, bytes identical; then
 * waits for the EOS event.  (Not gst_harness_pull_until_eos: the harness
 * remembers an EOS across state cycles.)  Returns the number of buffers. */
static guint
pull_and_check (GstHarness * h, const TestFile * f, guint64 start,
    guint blocksize)
{
  guint64 pos = start;
  guint n = 0;
  while (pos < f->len) {
    GstBuffer *buf = gst_harness_pull (h);
    fail_unless (buf != NULL, "timed out at %" G_GUINT64_FORMAT, pos);
    gsize size = gst_buffer_get_size (buf);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), pos);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), pos + size);
    fail_unless (size > 0);
    fail_unless (pos + size <= f->len);
    if (pos + size < f->len)
      fail_unless_equals_uint64 (size, blocksize);
    GstMapInfo map;
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless (memcmp (map.data, f->data + pos, size) == 0,
        "bytes differ in buffer at %" G_GUINT64_FORMAT, pos);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    pos += size;
    n++;
  }
  for (;;) {
    GstEvent *ev = gst_harness_pull_event (h);
    fail_unless (ev != NULL, "no EOS after %" G_GUINT64_FORMAT " bytes", pos);
    gboolean eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
    if (eos)
      break;
  }
  fail_unless (gst_harness_try_pull (h) == NULL, "a buffer after EOS");
  return n;
}

/* The whole file through a harness with the given properties (a
 * NULL-terminated list of name, value pairs). */
static GstStructure *
read_whole_file (const TestFile * f, guint blocksize, const gchar * first,
    ...)
{
  GstHarness *h = harness_new (f->path, NULL);
  g_object_set (h->element, "blocksize", blocksize, NULL);
  if (first) {
    va_list ap;
    va_start (ap, first);
    g_object_set_valist (G_OBJECT (h->element), first, ap);
    va_end (ap);
  }
  gst_harness_play (h);
  guint n = pull_and_check (h, f, 0, blocksize);
  fail_unless_equals_int (n, (f->len + blocksize - 1) / blocksize);
  GstStructure *s = io_stats (h->element);
  fail_unless_equals_uint64 (stat_u64 (s, "stray-completions"), 0);
  gst_harness_teardown (h);
  return s;
}

/* Drops what is left on a test bus and detaches it: messages hold their
 * source element, which holds the bus. */
static void
bus_release (GstElement * el, GstBus * bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_element_set_bus (el, NULL);
  gst_object_unref (bus);
}

/* Messages of one type the element posted, their texts joined. */
static gchar *
bus_texts (GstBus * bus, GstMessageType type, guint * count)
{
  GString *s = g_string_new (NULL);
  guint n = 0;
  GstMessage *m;
  while ((m = gst_bus_pop_filtered (bus, type))) {
    GError *e = NULL;
    gchar *dbg = NULL;
    if (type == GST_MESSAGE_ERROR)
      gst_message_parse_error (m, &e, &dbg);
    else
      gst_message_parse_warning (m, &e, &dbg);
    g_string_append_printf (s, "%s | %s\n", e->message, dbg ? dbg : "");
    g_clear_error (&e);
    g_free (dbg);
    gst_message_unref (m);
    n++;
  }
  if (count)
    *count = n;
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------ */

GST_START_TEST (test_sizes)
{
  const guint bs_small = 64 * KIB;
  struct
  {
    gsize len;
    guint bs;
  } cases[] = {
    {0, bs_small}, {1, bs_small}, {4095, bs_small}, {4096, bs_small},
    {4097, bs_small}, {bs_small - 1, bs_small}, {bs_small, bs_small},
    {bs_small + 1, bs_small}, {3 * bs_small + 17, bs_small},
    {MIB - 1, MIB}, {MIB, MIB}, {MIB + 1, MIB},
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    TestFile *f = test_file_new ("sizes.bin", cases[i].len);
    GstStructure *s = read_whole_file (f, cases[i].bs, NULL);
    fail_unless_equals_uint64 (stat_u64 (s, "bytes"), cases[i].len);
    gst_structure_free (s);
    test_file_free (f);
  }

  /* num-buffers: exactly that many, then EOS. */
  TestFile *f = test_file_new ("numbuf.bin", 10 * bs_small);
  GstHarness *h = harness_new (f->path, NULL);
  g_object_set (h->element, "blocksize", bs_small, "num-buffers", 3, NULL);
  gst_harness_play (h);
  guint n = 0;
  GstBuffer *buf;
  while (gst_harness_pull_until_eos (h, &buf) && buf) {
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), n * bs_small);
    gst_buffer_unref (buf);
    n++;
  }
  fail_unless_equals_int (n, 3);
  gst_harness_teardown (h);
  test_file_free (f);
}

GST_END_TEST;

GST_START_TEST (test_big)
{
  gsize len = MAX ((gsize) ring_test_scaled (100 * MIB), 4 * MIB) + 12345;
  TestFile *f = test_file_new ("big.bin", len);
  double t0 = ring_test_now ();
  GstStructure *s = read_whole_file (f, MIB, NULL);
  gst_print ("big: %" G_GSIZE_FORMAT " bytes in %.3f s: %" GST_PTR_FORMAT "\n",
      len, ring_test_now () - t0, s);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"), "fixed");
  fail_unless (stat_u64 (s, "reads-fixed") > 0);
  fail_unless (stat_u64 (s, "max-in-flight") >= 2);
  gst_structure_free (s);
  test_file_free (f);
}

GST_END_TEST;

GST_START_TEST (test_io_modes)
{
  TestFile *f = test_file_new ("modes.bin", 5 * MIB + 4321);
  const gchar *modes[] = { "auto", "fixed", "read", "pread" };
  const gchar *expect[] = { "fixed", "fixed", "read", "pread" };
  for (guint d = 0; d < 2; d++) {
    for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
      GstHarness *h = harness_new (f->path, NULL);
      gst_util_set_object_arg (G_OBJECT (h->element), "io-mode", modes[m]);
      g_object_set (h->element, "blocksize", 256 * KIB, "direct", d == 1,
          NULL);
      gst_harness_play (h);
      pull_and_check (h, f, 0, 256 * KIB);
      GstStructure *s = io_stats (h->element);
      fail_unless_equals_string (gst_structure_get_string (s, "mode"),
          expect[m]);
      gboolean direct;
      gst_structure_get_boolean (s, "direct", &direct);
      fail_unless_equals_int (direct, d == 1);
      guint64 bufs = stat_u64 (s, "buffers");
      if (m == 3) {
        fail_unless_equals_uint64 (stat_u64 (s, "reads-pread"), bufs);
        fail_unless_equals_uint64 (stat_u64 (s, "max-in-flight"), 1);
      } else {
        fail_unless_equals_uint64 (stat_u64 (s, "reads-pread"), 0);
        fail_unless (stat_u64 (s, "max-in-flight") > 1);
      }
      if (m == 2)
        fail_unless_equals_uint64 (stat_u64 (s, "reads-fixed"), 0);
      if (m < 2)
        fail_unless (stat_u64 (s, "reads-fixed") > 0);
      gst_structure_free (s);
      gst_harness_teardown (h);
    }
  }
  test_file_free (f);
}

GST_END_TEST;

typedef struct
{
  const gchar *force;
  const gchar *io_mode;
  gboolean direct;
  const gchar *mode;            /* expected mode; NULL: start fails */
  const gchar *needles[3];      /* in the warning (or error) */
} Fallback;

GST_START_TEST (test_fallbacks)
{
  TestFile *f = test_file_new ("fallback.bin", 3 * MIB + 99);
  const Fallback cases[] = {
    {"setup=EPERM", "auto", FALSE, "pread",
        {"io_uring is not available", "seccomp", "io-mode=pread"}},
    {"setup=ENOSYS", "auto", FALSE, "pread",
        {"io_uring is not available", "5.6", NULL}},
    {"register=ENOMEM", "auto", FALSE, "read",
        {"Cannot allocate memory", "ulimit -l", "RLIMIT_MEMLOCK"}},
    {"register=EFAULT", "auto", FALSE, "read",
        {"cannot be registered", "GPU BAR", "io-mode=read"}},
    {"register=EOPNOTSUPP", "auto", FALSE, "read",
        {"cannot be registered", "GPU BAR", NULL}},
    {"direct=EINVAL", "auto", TRUE, "fixed",
        {"O_DIRECT refused", "direct=false", "page cache"}},
    {"read=EINVAL", "auto", TRUE, "fixed",
        {"O_DIRECT refused", "a read with O_DIRECT", NULL}},
    {"setup=EPERM", "read", FALSE, NULL,
        {"io_uring is not available", "io-mode=read requires", NULL}},
    {"register=ENOMEM", "fixed", FALSE, NULL,
        {"io-mode=fixed requires", "ulimit -l", NULL}},
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const Fallback *c = &cases[i];
    g_setenv ("VYRE_URISRC_FORCE", c->force, TRUE);
    GstBus *bus;
    GstHarness *h = harness_new (f->path, &bus);
    gst_util_set_object_arg (G_OBJECT (h->element), "io-mode", c->io_mode);
    g_object_set (h->element, "blocksize", 512 * KIB, "direct", c->direct,
        NULL);
    guint n_msgs = 0;
    gchar *texts;
    if (c->mode == NULL) {
      fail_unless_equals_int (gst_element_set_state (h->element,
              GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
      texts = bus_texts (bus, GST_MESSAGE_ERROR, &n_msgs);
    } else {
      /* Twice: the fallback is announced once per element. */
      for (int round = 0; round < 2; round++) {
        gst_harness_play (h);
        pull_and_check (h, f, 0, 512 * KIB);
        GstStructure *s = io_stats (h->element);
        fail_unless_equals_string (gst_structure_get_string (s, "mode"),
            c->mode);
        gboolean direct;
        gst_structure_get_boolean (s, "direct", &direct);
        fail_if (direct, "%s: direct still on", c->force);
        gst_structure_free (s);
        gst_element_set_state (h->element, GST_STATE_NULL);
        GstEvent *ev;
        while ((ev = gst_harness_try_pull_event (h)))
          gst_event_unref (ev);
      }
      texts = bus_texts (bus, GST_MESSAGE_WARNING, &n_msgs);
      guint n_err;
      gchar *errs = bus_texts (bus, GST_MESSAGE_ERROR, &n_err);
      fail_unless_equals_int (n_err, 0);
      g_free (errs);
    }
    gst_print ("%s io-mode=%s: %s", c->force, c->io_mode, texts);
    /* Errors: ours, then basesrc's generic "Failed to start". */
    if (c->mode) {
      fail_unless_equals_int (n_msgs, 1);
    } else {
      fail_unless (n_msgs >= 1);
    }
    for (guint k = 0; k < 3 && c->needles[k]; k++)
      fail_unless (strstr (texts, c->needles[k]) != NULL,
          "%s: '%s' not in: %s", c->force, c->needles[k], texts);
    g_free (texts);
    bus_release (h->element, bus);
    gst_harness_teardown (h);
  }
  g_unsetenv ("VYRE_URISRC_FORCE");
  test_file_free (f);
}

GST_END_TEST;

GST_START_TEST (test_short_reads)
{
  TestFile *f = test_file_new ("short.bin", 2 * MIB + 777);
  g_setenv ("VYRE_URISRC_FORCE", "chunk=4097", TRUE);
  const gchar *modes[] = { "auto", "read", "pread" };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    GstHarness *h = harness_new (f->path, NULL);
    gst_util_set_object_arg (G_OBJECT (h->element), "io-mode", modes[m]);
    g_object_set (h->element, "blocksize", 128 * KIB, NULL);
    gst_harness_play (h);
    pull_and_check (h, f, 0, 128 * KIB);
    gst_element_set_state (h->element, GST_STATE_NULL);
    GstStructure *s = io_stats (h->element);
    if (m < 2)                  /* counted by the reader, once stopped */
      fail_unless (stat_u64 (s, "continuations") > f->len / 4097 / 2);
    gst_structure_free (s);
    gst_harness_teardown (h);
  }
  g_unsetenv ("VYRE_URISRC_FORCE");
  test_file_free (f);
}

GST_END_TEST;

GST_START_TEST (test_queue_depths)
{
  TestFile *f = test_file_new ("depth.bin", 20 * MIB + 5);
  guint depths[] = { 1, 32 };
  for (guint i = 0; i < G_N_ELEMENTS (depths); i++) {
    GstStructure *s = read_whole_file (f, 256 * KIB, "queue-depth",
        depths[i], NULL);
    fail_unless_equals_uint64 (stat_u64 (s, "max-in-flight"), depths[i]);
    gst_structure_free (s);
  }
  test_file_free (f);
}

GST_END_TEST;

GST_START_TEST (test_block_sizing)
{
  /* The arena follows the file: one block of the file's size (rounded to
   * pages) when blocksize is larger, and nothing pinned beyond the limit
   * (64 MiB). */
  TestFile *f = test_file_new ("sizing.bin", 3 * MIB + 123);
  const guint gib = 1024u * MIB;
  GstStructure *s = read_whole_file (f, gib, NULL);
  gst_print ("block_sizing 3 MB, blocksize 1 GiB: %" GST_PTR_FORMAT "\n", s);
  guint64 arena = stat_u64 (s, "arena-bytes");
  fail_unless (arena >= f->len && arena <= f->len + 64 * KIB,
      "%" G_GUINT64_FORMAT " bytes of arena for a %" G_GSIZE_FORMAT
      "-byte file", arena, f->len);
  fail_unless_equals_uint64 (stat_u64 (s, "pinned-bytes"), arena);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"), "fixed");
  gst_structure_free (s);

  /* A file of 4 reads needs 4 blocks, not queue-depth + 4. */
  s = read_whole_file (f, MIB, "queue-depth", 16, NULL);
  fail_unless_equals_uint64 (stat_u64 (s, "arena-bytes"), 4 * MIB);
  gst_structure_free (s);
  /* Plain reads pin nothing. */
  s = read_whole_file (f, MIB, "io-mode", GST_VYRE_URI_SRC_IO_READ, NULL);
  fail_unless_equals_uint64 (stat_u64 (s, "pinned-bytes"), 0);
  gst_structure_free (s);
  test_file_free (f);

  /* Blocks are pinned as reads first land in them, not at start: a
   * directory holding one 1 KiB file plans queue-depth + slack blocks of
   * 64 KiB (the smallest read for several files) and pins the one its
   * read used.  (Linux >= 5.19, sparse buffer tables; older kernels pin
   * them all at start.)  io-mode=fixed: with auto a directory's small
   * files are read ahead whole by the opener's workers with pread, which
   * pins nothing. */
  gchar *dir = g_build_filename (tmp_dir, "one-kib", NULL);
  fail_unless (g_mkdir (dir, 0755) == 0);
  gchar *small = g_build_filename (dir, "small.txt", NULL);
  gchar kib_text[KIB];
  memset (kib_text, 'k', sizeof kib_text);
  fail_unless (g_file_set_contents (small, kib_text, KIB, NULL));
  GstHarness *hd = harness_new (dir, NULL);
  g_object_set (hd->element, "io-mode", GST_VYRE_URI_SRC_IO_FIXED, NULL);
  gst_harness_play (hd);
  GstBuffer *kb = gst_harness_pull (hd);
  fail_unless (kb != NULL);
  fail_unless_equals_uint64 (gst_buffer_get_size (kb), KIB);
  gst_buffer_unref (kb);
  s = io_stats (hd->element);
  gst_print ("block_sizing one 1 KiB file of a directory: %" GST_PTR_FORMAT
      "\n", s);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"), "fixed");
  fail_unless_equals_uint64 (stat_u64 (s, "pinned-bytes"), 64 * KIB);
  fail_unless (stat_u64 (s, "arena-bytes") >= 8 * 64 * KIB);
  gst_structure_free (s);
  gst_harness_teardown (hd);
  g_unlink (small);
  g_rmdir (dir);
  g_free (small);
  g_free (dir);

  /* 80 MiB blocks are over the pin limit: mapped (lazily), never pinned,
   * read with plain reads.  A sparse file: no 80 MiB written here. */
  if (RUNNING_ON_VALGRIND)
    return;
  gchar *path = g_build_filename (tmp_dir, "sparse.bin", NULL);
  fail_unless (g_file_set_contents (path, "x", 1, NULL));
  fail_unless (truncate (path, 81 * MIB) == 0);
  GstHarness *h = harness_new (path, NULL);
  g_object_set (h->element, "blocksize", 80 * MIB, NULL);
  gst_harness_play (h);
  guint64 pos = 0;
  GstBuffer *b;
  while (gst_harness_pull_until_eos (h, &b) && b) {
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), pos);
    pos += gst_buffer_get_size (b);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (pos, 81 * MIB);
  s = io_stats (h->element);
  gst_print ("block_sizing 80 MiB blocks: %" GST_PTR_FORMAT "\n", s);
  fail_unless_equals_uint64 (stat_u64 (s, "pinned-bytes"), 0);
  fail_unless_equals_string (gst_structure_get_string (s, "mode"), "read");
  fail_unless (stat_u64 (s, "arena-bytes") <= 2 * 80 * MIB);
  gst_structure_free (s);
  gst_harness_teardown (h);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Pull mode                                                           */

static GstElement *
pull_src_new (const gchar * path, GstBus ** bus, const gchar * first, ...)
{
  GstElement *src = gst_element_factory_make ("vyreurisrc", NULL);
  fail_unless (src != NULL);
  g_object_set (src, "location", path, NULL);
  if (first) {
    va_list ap;
    va_start (ap, first);
    g_object_set_valist (G_OBJECT (src), first, ap);
    va_end (ap);
  }
  if (bus) {
    *bus = gst_bus_new ();
    gst_element_set_bus (src, *bus);
  }
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  GstPad *pad = gst_element_get_static_pad (src, "src");
  fail_unless (gst_pad_activate_mode (pad, GST_PAD_MODE_PULL, TRUE));
  gst_object_unref (pad);
  return src;
}

static void
pull_src_free (GstElement * src)
{
  GstPad *pad = gst_element_get_static_pad (src, "src");
  fail_unless (gst_pad_activate_mode (pad, GST_PAD_MODE_PULL, FALSE));
  gst_object_unref (pad);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_object_unref (src);
}

static void
check_range (GstElement * src, const TestFile * f, guint64 off, guint len)
{
  GstPad *pad = gst_element_get_static_pad (src, "src");
  GstBuffer *buf = NULL;
  GstFlowReturn ret = gst_pad_get_range (pad, off, len, &buf);
  gst_object_unref (pad);
  if (off >= f->len) {
    fail_unless_equals_int (ret, GST_FLOW_EOS);
    return;
  }
  fail_unless_equals_int (ret, GST_FLOW_OK);
  gsize want = MIN ((guint64) len, f->len - off);
  fail_unless_equals_uint64 (gst_buffer_get_size (buf), want);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), off);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), off + want);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_READ);
  fail_unless (memcmp (map.data, f->data + off, want) == 0,
      "range %" G_GUINT64_FORMAT "+%u differs", off, len);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
}

GST_START_TEST (test_seek_pull)
{
  TestFile *f = test_file_new ("seek.bin", 6 * MIB + 333);
  for (int direct = 0; direct < 2; direct++) {
    GstElement *src = pull_src_new (f->path, NULL, "direct", direct,
        "queue-depth", 4, NULL);
    for (int i = 0; i < 300; i++) {
      guint64 off;
      guint len;
      switch (ring_test_rand (&rng_state) % 4) {
        case 0:                /* anywhere, any size */
          off = ring_test_rand (&rng_state) % (f->len + 100);
          len = 1 + ring_test_rand (&rng_state) % (300 * KIB);
          break;
        case 1:                /* page aligned */
          off = (ring_test_rand (&rng_state) % f->len) & ~4095ull;
          len = 4096 * (1 + ring_test_rand (&rng_state) % 64);
          break;
        case 2:                /* a run of sequential reads */
          off = ring_test_rand (&rng_state) % f->len;
          len = 65536;
          for (int k = 0; k < 6; k++)
            check_range (src, f, off + (guint64) k * len, len);
          off += 6ull * len;
          break;
        default:               /* the tail */
          off = f->len - 1 - ring_test_rand (&rng_state) % 5000;
          len = 1 + ring_test_rand (&rng_state) % 9000;
          break;
      }
      check_range (src, f, off, len);
    }
    GstStructure *s = io_stats (src);
    gst_print ("seek_pull direct=%d: %" GST_PTR_FORMAT "\n", direct, s);
    fail_unless (stat_u64 (s, "read-ahead-restarts") > 100);
    fail_unless (stat_u64 (s, "cancelled") + stat_u64 (s,
            "read-ahead-restarts") > 0);
    gst_structure_free (s);
    pull_src_free (src);
  }
  test_file_free (f);
}

GST_END_TEST;

/* Push mode: buffers are caught on the element's src pad; a FLUSH_STOP
 * (sent by the seeking thread after the streaming thread stopped) empties
 * the catch, so it only holds buffers of the latest segment. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GQueue bufs;
} Catch;

static GstPadProbeReturn
catch_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Catch *c = user_data;
  (void) pad;
  g_mutex_lock (&c->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    g_queue_push_tail (&c->bufs, gst_buffer_ref (GST_PAD_PROBE_INFO_BUFFER
            (info)));
    g_cond_signal (&c->cond);
    g_mutex_unlock (&c->lock);
    return GST_PAD_PROBE_DROP;
  }
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_STOP)
    g_queue_clear_full (&c->bufs, (GDestroyNotify) gst_buffer_unref);
  g_mutex_unlock (&c->lock);
  return GST_PAD_PROBE_OK;
}

static GstBuffer *
catch_pop (Catch * c)
{
  gint64 end = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&c->lock);
  while (g_queue_is_empty (&c->bufs))
    if (!g_cond_wait_until (&c->cond, &c->lock, end))
      break;
  GstBuffer *b = g_queue_pop_head (&c->bufs);
  g_mutex_unlock (&c->lock);
  return b;
}

GST_START_TEST (test_seek_push)
{
  TestFile *f = test_file_new ("seekpush.bin", 24 * MIB + 1001);
  const guint bs = 128 * KIB;
  GstHarness *h = harness_new (f->path, NULL);
  g_object_set (h->element, "blocksize", bs, "queue-depth", 16, NULL);
  Catch c;
  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  g_queue_init (&c.bufs);
  GstPad *pad = gst_element_get_static_pad (h->element, "src");
  gulong probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, catch_probe, &c, NULL);
  gst_harness_play (h);
  for (int i = 0; i < 40; i++) {
    guint64 pos = ring_test_rand (&rng_state) % f->len;
    if (i % 5 == 0)
      pos = ring_test_rand (&rng_state) % (f->len / bs) * bs;
    fail_unless (gst_element_seek_simple (h->element, GST_FORMAT_BYTES,
            GST_SEEK_FLAG_FLUSH, (gint64) pos));
    /* A few buffers from the new position on. */
    guint64 at = pos;
    for (int k = 0; k < 3 && at < f->len; k++) {
      GstBuffer *b = catch_pop (&c);
      fail_unless (b != NULL, "no buffer after seek to %" G_GUINT64_FORMAT,
          pos);
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), at);
      if (k == 0)
        fail_unless (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
      GstMapInfo map;
      gst_buffer_map (b, &map, GST_MAP_READ);
      fail_unless_equals_uint64 (map.size, MIN ((guint64) bs, f->len - at));
      fail_unless (memcmp (map.data, f->data + at, map.size) == 0);
      at += map.size;
      gst_buffer_unmap (b, &map);
      gst_buffer_unref (b);
    }
  }
  GstStructure *s = io_stats (h->element);
  gst_print ("seek_push: %" GST_PTR_FORMAT "\n", s);
  gst_structure_free (s);
  gst_element_set_state (h->element, GST_STATE_NULL);
  s = io_stats (h->element);
  fail_unless_equals_int (g_value_get_uint (gst_structure_get_value (s,
              "in-flight")), 0);
  gst_structure_free (s);
  gst_pad_remove_probe (pad, probe);
  gst_object_unref (pad);
  g_queue_clear_full (&c.bufs, (GDestroyNotify) gst_buffer_unref);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
  gst_harness_teardown (h);
  test_file_free (f);
}

GST_END_TEST;

GST_START_TEST (test_state_stress)
{
  TestFile *f = test_file_new ("stress.bin", 16 * MIB + 3);
  guint fds_before = count_fds ();
  GstHarness *h = harness_new (f->path, NULL);
  gst_harness_set_drop_buffers (h, TRUE);
  g_object_set (h->element, "blocksize", 64 * KIB, "queue-depth", 16, NULL);
  static const GstState states[] = { GST_STATE_NULL, GST_STATE_READY,
    GST_STATE_PAUSED, GST_STATE_PLAYING
  };
  for (int i = 0; i < 60; i++) {
    GstState to = states[ring_test_rand (&rng_state) % 4];
    gst_element_set_state (h->element, to);
    if (to >= GST_STATE_PAUSED && ring_test_rand (&rng_state) % 3 == 0)
      gst_element_seek_simple (h->element, GST_FORMAT_BYTES,
          GST_SEEK_FLAG_FLUSH,
          (gint64) (ring_test_rand (&rng_state) % f->len));
    g_usleep (ring_test_rand (&rng_state) % 3000);
  }
  gst_element_set_state (h->element, GST_STATE_NULL);
  GstStructure *s = io_stats (h->element);
  gst_print ("state_stress: %" GST_PTR_FORMAT "\n", s);
  fail_unless_equals_int (g_value_get_uint (gst_structure_get_value (s,
              "in-flight")), 0);
  gst_structure_free (s);
  fail_unless_equals_int (count_fds (), fds_before + 0);

  /* Still works, from the start. */
  gst_harness_set_drop_buffers (h, FALSE);
  GstEvent *ev;
  while ((ev = gst_harness_try_pull_event (h)))
    gst_event_unref (ev);
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h)))
    gst_buffer_unref (b);
  gst_harness_play (h);
  pull_and_check (h, f, 0, 64 * KIB);
  gst_harness_teardown (h);
  fail_unless_equals_int (count_fds (), fds_before);
  test_file_free (f);
}

GST_END_TEST;

GST_START_TEST (test_unlock)
{
  TestFile *f = test_file_new ("unlock.bin", 4 * MIB);
  const gchar *modes[] = { "auto", "read" };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    g_setenv ("VYRE_URISRC_FORCE", "stall", TRUE);
    GstHarness *h = harness_new (f->path, NULL);
    gst_util_set_object_arg (G_OBJECT (h->element), "io-mode", modes[m]);
    gst_harness_play (h);
    g_usleep (100000);
    fail_unless (gst_harness_try_pull (h) == NULL);
    /* A flushing seek while create waits: returns promptly. */
    double t0 = ring_test_now ();
    fail_unless (gst_element_seek_simple (h->element, GST_FORMAT_BYTES,
            GST_SEEK_FLAG_FLUSH, 12345));
    fail_unless (ring_test_now () - t0 < 1.0, "seek took %.3f s",
        ring_test_now () - t0);
    g_usleep (50000);
    t0 = ring_test_now ();
    gst_element_set_state (h->element, GST_STATE_NULL);
    fail_unless (ring_test_now () - t0 < 1.0, "PLAYING->NULL took %.3f s",
        ring_test_now () - t0);
    GstStructure *s = io_stats (h->element);
    fail_unless_equals_int (g_value_get_uint (gst_structure_get_value (s,
                "in-flight")), 0);
    gst_structure_free (s);

    /* Reusable afterwards. */
    g_unsetenv ("VYRE_URISRC_FORCE");
    GstEvent *ev;
    while ((ev = gst_harness_try_pull_event (h)))
      gst_event_unref (ev);
    gst_harness_play (h);
    pull_and_check (h, f, 0, MIB);
    gst_harness_teardown (h);
  }
  test_file_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* Starts an element on path; expects start to fail with an error whose
 * texts hold every needle.  Returns the texts. */
static void
expect_start_error_full (const gchar * path, const gchar * files_from,
    GstResourceError code, const gchar * const *needles)
{
  GstBus *bus;
  GstHarness *h = harness_new (path, &bus);
  g_object_set (h->element, "files-from", files_from, NULL);
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL, "no error message for %s", path);
  GError *e = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &e, &dbg);
  gst_print ("error for %s: %s | %s\n", path, e->message, dbg);
  fail_unless (e->domain == GST_RESOURCE_ERROR && e->code == (gint) code,
      "domain %s code %d", g_quark_to_string (e->domain), e->code);
  gchar *all = g_strdup_printf ("%s | %s", e->message, dbg);
  for (guint i = 0; needles[i]; i++)
    fail_unless (strstr (all, needles[i]) != NULL, "'%s' not in '%s'",
        needles[i], all);
  g_free (all);
  g_clear_error (&e);
  g_free (dbg);
  gst_message_unref (m);
  gst_element_set_state (h->element, GST_STATE_NULL);
  bus_release (h->element, bus);
  gst_harness_teardown (h);
}

static void
expect_start_error (const gchar * path, GstResourceError code,
    const gchar * const *needles)
{
  expect_start_error_full (path, NULL, code, needles);
}

GST_START_TEST (test_errors)
{
  guint fds_before = count_fds ();

  gchar *missing = g_build_filename (tmp_dir, "no-such-file.bin", NULL);
  const gchar *n1[] = { missing, g_strerror (ENOENT), "Fix:", NULL };
  expect_start_error (missing, GST_RESOURCE_ERROR_NOT_FOUND, n1);
  g_free (missing);

  /* A directory is read as a tree (test_vyreurisrc_tree); a directory
   * and a list of files at once is an error. */
  const gchar *n2[] = { tmp_dir, "list.txt", "files-from", "Fix:", NULL };
  expect_start_error_full (tmp_dir, "list.txt", GST_RESOURCE_ERROR_SETTINGS,
      n2);

  gchar *fifo = g_build_filename (tmp_dir, "fifo", NULL);
  fail_unless (mkfifo (fifo, 0600) == 0);
  const gchar *n3[] = { fifo, "not a regular file", "filesrc", NULL };
  expect_start_error (fifo, GST_RESOURCE_ERROR_OPEN_READ, n3);
  g_unlink (fifo);
  g_free (fifo);

  /* Permission denied.  Root reads any file (CAP_DAC_OVERRIDE): this
   * thread's file-system uid is switched to nobody for the open, which
   * drops those capabilities; it is switched back after. */
  TestFile *f = test_file_new ("secret.bin", 1000);
  fail_unless (g_chmod (f->path, 0000) == 0);
  gboolean switched = FALSE;
  if (geteuid () == 0) {
    g_chmod (tmp_dir, 0755);
    setfsuid (65534);
    switched = setfsuid (65534) == 65534;
  }
  if (geteuid () == 0 && !switched) {
    gst_print ("SKIP permission-denied case: running as root and could not "
        "switch the file-system uid (root bypasses file permissions)\n");
  } else {
    const gchar *n4[] = { f->path, g_strerror (EACCES), "readable", NULL };
    expect_start_error (f->path, GST_RESOURCE_ERROR_OPEN_READ, n4);
  }
  if (switched)
    setfsuid (0);
  g_chmod (tmp_dir, 0700);
  g_chmod (f->path, 0600);
  test_file_free (f);

  /* Empty location. */
  const gchar *n5[] = { "No file name", "location", NULL };
  expect_start_error (NULL, GST_RESOURCE_ERROR_NOT_FOUND, n5);

  /* I/O error (injected: EIO cannot be had from a healthy disk) at the
   * read covering byte 3 MiB + 5, in each mode: the stream stops there
   * with an error naming the path, the offset and the errno text. */
  f = test_file_new ("eio.bin", 8 * MIB);
  const gchar *modes[] = { "auto", "read", "pread" };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    g_setenv ("VYRE_URISRC_FORCE", "read=EIO@3145733", TRUE);
    GstBus *bus;
    GstHarness *h = harness_new (f->path, &bus);
    gst_util_set_object_arg (G_OBJECT (h->element), "io-mode", modes[m]);
    gst_harness_play (h);
    guint64 pos = 0;
    GstBuffer *b;
    while (gst_harness_pull_until_eos (h, &b) && b) {
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), pos);
      pos += gst_buffer_get_size (b);
      gst_buffer_unref (b);
    }
    fail_unless_equals_uint64 (pos, 3 * MIB);
    guint n;
    gchar *texts = bus_texts (bus, GST_MESSAGE_ERROR, &n);
    gst_print ("EIO (%s): %s", modes[m], texts);
    fail_unless (n >= 1);
    fail_unless (strstr (texts, f->path) && strstr (texts,
            g_strerror (EIO)) && strstr (texts, "3145728")
        && strstr (texts, "dmesg"), "%s", texts);
    g_free (texts);
    gst_element_set_state (h->element, GST_STATE_NULL);
    bus_release (h->element, bus);
    gst_harness_teardown (h);
  }
  g_unsetenv ("VYRE_URISRC_FORCE");
  test_file_free (f);

  /* A file that shrinks while being read: an error, not a short stream.
   * The order is made, never assumed: the source learns the size (4 MiB)
   * when it starts, and the file is truncated before the first read is
   * issued, so every read sees the new end whatever the file system or the
   * io_uring workers do.  The first 64 KiB still lie inside the file; the
   * read-ahead behind them (64K..128K) ends early, at 100 KiB. */
  f = test_file_new ("shrink.bin", 4 * MIB);
  for (int direct = 0; direct < 2; direct++) {
    GstBus *bus;
    GstElement *src = pull_src_new (f->path, &bus, "queue-depth", 1,
        "direct", direct, NULL);
    fail_unless (truncate (f->path, 100 * KIB) == 0);
    check_range (src, f, 0, 64 * KIB);
    GstPad *pad = gst_element_get_static_pad (src, "src");
    GstBuffer *buf = NULL;
    fail_unless_equals_int (gst_pad_get_range (pad, 64 * KIB, 64 * KIB,
            &buf), GST_FLOW_ERROR);
    gst_object_unref (pad);
    guint n;
    gchar *texts = bus_texts (bus, GST_MESSAGE_ERROR, &n);
    gst_print ("shrink (direct=%d): %s", direct, texts);
    fail_unless_equals_int (n, 1);
    fail_unless (strstr (texts, "shrank") && strstr (texts, f->path) &&
        strstr (texts, "4194304") && strstr (texts, "102400"), "%s", texts);
    g_free (texts);
    bus_release (src, bus);
    pull_src_free (src);
    fail_unless (g_file_set_contents (f->path, (gchar *) f->data,
            (gssize) f->len, NULL));
  }
  test_file_free (f);

  fail_unless_equals_int (count_fds (), fds_before);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Files whose stat size is no size                                    */

/* Reads path to EOS through a harness; returns the bytes (NULL when an
 * error was posted: *bus_errors gets its texts).  Buffers are contiguous
 * and at most blocksize. */
static GBytes *
read_to_eos (const gchar * path, const gchar * io_mode, guint blocksize,
    gchar ** bus_errors)
{
  GstBus *bus;
  GstHarness *h = harness_new (path, &bus);
  gst_util_set_object_arg (G_OBJECT (h->element), "io-mode", io_mode);
  g_object_set (h->element, "blocksize", blocksize, NULL);
  gst_harness_play (h);
  GByteArray *got = g_byte_array_new ();
  GstBuffer *b;
  while (gst_harness_pull_until_eos (h, &b) && b) {
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), got->len);
    GstMapInfo map;
    fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
    fail_unless (map.size > 0 && map.size <= blocksize);
    g_byte_array_append (got, map.data, (guint) map.size);
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  /* No size claimed: a duration of 0 would make a seeking or progress
   * reporting element end the stream at once. */
  gint64 dur = -1;
  if (gst_element_query_duration (h->element, GST_FORMAT_BYTES, &dur))
    fail_if (dur == 0, "%s: a duration of 0 bytes claimed", path);
  guint n_err;
  gchar *errs = bus_texts (bus, GST_MESSAGE_ERROR, &n_err);
  if (bus_errors)
    *bus_errors = errs;
  else
    g_free (errs);
  gst_element_set_state (h->element, GST_STATE_NULL);
  bus_release (h->element, bus);
  gst_harness_teardown (h);
  if (n_err > 0) {
    g_byte_array_unref (got);
    return NULL;
  }
  return g_byte_array_free_to_bytes (got);
}

GST_START_TEST (test_unknown_size)
{
  /* /proc/self/environ: stat size 0, content fixed for the life of this
   * process (the same for the element and for g_file_get_contents).  A
   * sysfs attribute: stat size 4096, content a few bytes.  Both read in
   * pieces smaller than the content and in one piece. */
  const gchar *sysfs[] = { "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/devices/system/cpu/online", "/sys/power/state", NULL
  };
  const gchar *paths[2] = { "/proc/self/environ", NULL };
  for (guint i = 0; sysfs[i] && !paths[1]; i++) {
    GStatBuf st;
    gchar *text = NULL;
    gsize len = 0;
    if (g_stat (sysfs[i], &st) == 0 && g_file_get_contents (sysfs[i], &text,
            &len, NULL) && len > 1 && (gsize) st.st_size != len)
      paths[1] = sysfs[i];
    g_free (text);
  }
  if (paths[1] == NULL)
    gst_print ("SKIP the sysfs case: no sysfs attribute with a wrong stat "
        "size is readable here\n");
  const gchar *modes[] = { "auto", "read", "pread" };
  for (guint p = 0; p < G_N_ELEMENTS (paths) && paths[p]; p++) {
    gchar *want = NULL;
    gsize want_len = 0;
    fail_unless (g_file_get_contents (paths[p], &want, &want_len, NULL));
    fail_unless (want_len > 1, "%s is empty here", paths[p]);
    for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
      guint sizes[] = { (guint) MAX (want_len / 3, 1), 1024 * 1024 };
      for (guint k = 0; k < G_N_ELEMENTS (sizes); k++) {
        gchar *errs = NULL;
        GBytes *got = read_to_eos (paths[p], modes[m], sizes[k], &errs);
        fail_unless (got != NULL, "%s (%s): %s", paths[p], modes[m], errs);
        gsize got_len;
        const guint8 *data = g_bytes_get_data (got, &got_len);
        fail_unless_equals_uint64 (got_len, want_len);
        fail_unless (memcmp (data, want, want_len) == 0, "%s differs",
            paths[p]);
        g_bytes_unref (got);
        g_free (errs);
      }
    }
    gst_print ("unknown size: %s, %" G_GSIZE_FORMAT " bytes, read to end of "
        "file\n", paths[p], want_len);
    g_free (want);
  }
}

GST_END_TEST;

GST_START_TEST (test_pseudo_read_error)
{
  /* Every read of /proc/self/mem at offset 0 fails with EIO (nothing is
   * mapped there).  The source finds out when it starts: the state change
   * fails (gst-launch-1.0 loses an error posted before its main loop runs
   * and never exits). */
  const gchar *modes[] = { "auto", "pread" };
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    GstBus *bus;
    GstHarness *h = harness_new ("/proc/self/mem", &bus);
    gst_util_set_object_arg (G_OBJECT (h->element), "io-mode", modes[m]);
    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    guint n_err;
    gchar *errs = bus_texts (bus, GST_MESSAGE_ERROR, &n_err);
    gst_element_set_state (h->element, GST_STATE_NULL);
    bus_release (h->element, bus);
    gst_harness_teardown (h);
    gst_print ("/proc/self/mem (%s): %s", modes[m], errs);
    fail_unless (n_err > 0, "no error for /proc/self/mem");
    fail_unless (strstr (errs, "/proc/self/mem") && strstr (errs,
            g_strerror (EIO)) && strstr (errs, "Fix:")
        && strstr (errs, "procfs"), "%s", errs);
    g_free (errs);
  }
}

GST_END_TEST;

GST_START_TEST (test_uri)
{
  TestFile *f = test_file_new ("uri file.bin", 70000);
  gchar *uri = gst_filename_to_uri (f->path, NULL);
  GstElement *src = gst_element_factory_make ("vyreurisrc", NULL);
  GError *err = NULL;
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (src), uri, &err));
  gchar *loc;
  g_object_get (src, "location", &loc, NULL);
  fail_unless_equals_string (loc, f->path);
  g_free (loc);
  gchar *back = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
  fail_unless_equals_string (back, uri);
  g_free (back);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "file://otherhost/etc/passwd", &err));
  fail_unless (err != NULL);
  g_clear_error (&err);
  gst_object_unref (src);

  /* Rank NONE: never picked for file:// by itself. */
  GstElementFactory *fac = gst_element_factory_find ("vyreurisrc");
  fail_unless_equals_int (gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE
          (fac)), GST_RANK_NONE);
  gst_object_unref (fac);

  /* And it reads through the URI. */
  GstHarness *h = gst_harness_new ("vyreurisrc");
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (h->element), uri,
          NULL));
  g_object_set (h->element, "blocksize", 4096, NULL);
  gst_harness_play (h);
  pull_and_check (h, f, 0, 4096);
  gst_harness_teardown (h);
  g_free (uri);
  test_file_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Back-pressure from downstream's memory                              */

/* Counts the allocator's "all blocks in use" fallbacks: each is one
 * allocation attempt made while every block was held. */
static void
count_block_misses (GstDebugCategory * cat, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  (void) level;
  (void) file;
  (void) function;
  (void) line;
  (void) object;
  if (g_str_equal (gst_debug_category_get_name (cat), "GST_PERFORMANCE") &&
      strstr (gst_debug_message_get (message), "all blocks in use"))
    g_atomic_int_inc ((gint *) user_data);
}

static guint64
stat_or_zero (GstElement * src, const gchar * field)
{
  GstStructure *s = io_stats (src);
  guint64 v = 0;
  gst_structure_get_uint64 (s, field, &v);
  gst_structure_free (s);
  return v;
}

/* Waits until create() waits for a block (downstream-waits) or has tried
 * the allocator `many` times; returns the attempts seen. */
static gint
wait_for_blocked_create (GstElement * src, gint * misses, gint many)
{
  gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (stat_or_zero (src, "downstream-waits") == 0 &&
      g_atomic_int_get (misses) < many) {
    fail_unless (g_get_monotonic_time () < end, "create never waited");
    g_usleep (1000);
  }
  return g_atomic_int_get (misses);
}

/* An arena that is one heap block, there from the start. */
static guint8 *
heap_reserve (gpointer owner, guint64 offset, guint64 size, GError ** error)
{
  (void) size;
  (void) error;
  return (guint8 *) owner + offset;
}

GST_START_TEST (test_backpressure)
{
  /* Downstream offers an arena of two blocks and holds both buffers it
   * got: the third read has no block.  create() must wait to be woken by
   * a returned block, not try the allocator again and again (each try
   * allocates and frees a block's worth of system memory).  Before it
   * waits it has tried twice: the deferred read-ahead and the read itself;
   * a polling loop tries every half millisecond. */
  const guint bs = 64 * KIB;
  const gint many = 10;
  TestFile *f = test_file_new ("backpressure.bin", 8 * bs);
  guint8 *arena = g_malloc0 (2 * bs);
  GstAllocator *alloc = gst_vyre_allocator_new (heap_reserve, bs, 0, 2,
      arena, NULL, g_free);
  gint misses = 0;
  gst_debug_set_threshold_for_name ("GST_PERFORMANCE", GST_LEVEL_DEBUG);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (count_block_misses, &misses, NULL);

  for (int round = 0; round < 2; round++) {
    g_atomic_int_set (&misses, 0);
    GstHarness *h = harness_new (f->path, NULL);
    g_object_set (h->element, "blocksize", bs, "queue-depth", 1, NULL);
    gst_harness_set_propose_allocator (h, gst_object_ref (alloc), NULL);
    gst_harness_play (h);
    GstBuffer *held[2];
    for (int i = 0; i < 2; i++) {
      held[i] = gst_harness_pull (h);
      fail_unless (held[i] != NULL);
      guint64 off;
      fail_unless (gst_vyre_memory_arena_offset (gst_buffer_peek_memory
              (held[i], 0), GST_VYRE_ALLOCATOR (alloc), &off));
    }
    gint seen = wait_for_blocked_create (h->element, &misses, many);
    guint64 waits = stat_or_zero (h->element, "downstream-waits");
    gst_print ("backpressure round %d: %d allocation attempts, %"
        G_GUINT64_FORMAT " waits\n", round, seen, waits);
    /* At most 3 attempts per wait: read-ahead, the read, and the one that
     * settles for system memory once the wait runs out. */
    fail_unless (seen <= 3 * (gint) waits + 2, "create polled the allocator "
        "(%d attempts for %" G_GUINT64_FORMAT " waits)", seen, waits);

    if (round == 0) {
      /* A returned block wakes it: the rest of the file arrives intact. */
      gst_buffer_unref (held[0]);
      gst_buffer_unref (held[1]);
      guint64 pos = 2 * bs;
      GstBuffer *b;
      while (pos < f->len && (b = gst_harness_pull (h))) {
        fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), pos);
        GstMapInfo map;
        gst_buffer_map (b, &map, GST_MAP_READ);
        fail_unless (memcmp (map.data, f->data + pos, map.size) == 0);
        pos += map.size;
        gst_buffer_unmap (b, &map);
        gst_buffer_unref (b);
      }
      fail_unless_equals_uint64 (pos, f->len);
    } else {
      /* Unlock wakes it while both blocks are still held. */
      gst_element_set_state (h->element, GST_STATE_NULL);
      gst_buffer_unref (held[0]);
      gst_buffer_unref (held[1]);
    }
    gst_harness_teardown (h);
  }
  gst_debug_remove_log_function (count_block_misses);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  gst_debug_set_threshold_for_name ("GST_PERFORMANCE", GST_LEVEL_NONE);
  gst_object_unref (alloc);
  test_file_free (f);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* Zero copy into vyrescan                                             */

static GstVyreScanMeta *
scan_meta (GstBuffer * buf)
{
  GType api = g_type_from_name ("GstVyreScanMetaAPI");
  return api ? (GstVyreScanMeta *) gst_buffer_get_meta (buf, api) : NULL;
}

GST_START_TEST (test_zero_copy)
{
  GError *err = NULL;
  VyreDevice *dev = vyre_device_open (-1, &err);
  if (dev == NULL) {
    gst_print ("SKIP zero_copy: no Vulkan device: %s\n", err->message);
    g_clear_error (&err);
    return;
  }
  vyre_device_unref (dev);

  gsize len = MAX ((gsize) ring_test_scaled (12 * MIB), 2 * MIB) + 54321;
  TestFile *f = test_file_new ("zerocopy.bin", len);
  const gchar *variants[][2] = {
    {"auto", "false"}, {"read", "false"}, {"auto", "true"}, {"pread", "false"},
  };
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++) {
    gchar *desc = g_strdup_printf ("vyreurisrc name=src location=\"%s\" "
        "io-mode=%s direct=%s ! vyrescan name=scan patterns=\"<abc>\"",
        f->path, variants[v][0], variants[v][1]);
    GstHarness *h = gst_harness_new_parse (desc);
    g_free (desc);
    GstBus *wbus = gst_bus_new ();
    gst_element_set_bus (h->element, wbus);
    GstElement *src = gst_bin_get_by_name (GST_BIN (h->element), "src");
    GstElement *scan = gst_bin_get_by_name (GST_BIN (h->element), "scan");
    gst_harness_play (h);
    guint64 pos = 0;
    guint n = 0;
    GstBuffer *buf;
    while (gst_harness_pull_until_eos (h, &buf) && buf) {
      gsize size = gst_buffer_get_size (buf);
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), pos);
      GstVyreScanMeta *m = scan_meta (buf);
      fail_unless (m != NULL && m->has_crc32);
      fail_unless_equals_uint64 (m->stream_offset, pos);
      fail_unless_equals_uint64 (m->size, size);
      guint32 want = vyre_crc32_update (0, f->data + pos, size);
      fail_unless_equals_int (m->crc32, want);
      GstMapInfo map;
      gst_buffer_map (buf, &map, GST_MAP_READ);
      fail_unless (memcmp (map.data, f->data + pos, size) == 0);
      gst_buffer_unmap (buf, &map);
      /* The memory is vyrescan's GPU-readable arena. */
      fail_unless (gst_memory_is_type (gst_buffer_peek_memory (buf, 0),
              "VyreArenaMemory"));
      gst_buffer_unref (buf);
      pos += size;
      n++;
    }
    fail_unless_equals_uint64 (pos, len);
    guint64 copied = G_MAXUINT64, copied_bufs = G_MAXUINT64;
    g_object_get (scan, "bytes-copied", &copied, "buffers-copied",
        &copied_bufs, NULL);
    GstStructure *s = io_stats (src);
    gst_print ("zero_copy io-mode=%s direct=%s: %u buffers, bytes-copied %"
        G_GUINT64_FORMAT ", %" GST_PTR_FORMAT "\n", variants[v][0],
        variants[v][1], n, copied, s);
    fail_unless_equals_uint64 (copied, 0);
    fail_unless_equals_uint64 (copied_bufs, 0);
    fail_unless_equals_string (gst_structure_get_string (s, "allocator"),
        "downstream");
    fail_unless_equals_uint64 (stat_u64 (s, "arena-misses"), 0);
    gst_structure_free (s);
    /* Nothing to announce: every read fit a GPU block. */
    guint n_warn;
    gchar *warn = bus_texts (wbus, GST_MESSAGE_WARNING, &n_warn);
    fail_unless_equals_int (n_warn, 0);
    g_free (warn);
    gst_object_unref (src);
    gst_object_unref (scan);
    gst_element_set_state (h->element, GST_STATE_NULL);
    bus_release (h->element, wbus);
    gst_harness_teardown (h);
  }

  /* Control: the counter does count.  Reads larger than vyrescan's blocks
   * cannot land in them: vyreurisrc says so, vyrescan copies every byte. */
  gchar *desc = g_strdup_printf ("vyreurisrc name=src location=\"%s\" "
      "blocksize=1048576 ! vyrescan name=scan block-size=524288 "
      "patterns=\"<abc>\"", f->path);
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  GstElement *scan = gst_bin_get_by_name (GST_BIN (h->element), "scan");
  gst_harness_play (h);
  guint64 pos = 0;
  GstBuffer *buf;
  while (gst_harness_pull_until_eos (h, &buf) && buf) {
    GstVyreScanMeta *m = scan_meta (buf);
    fail_unless (m != NULL);
    fail_unless_equals_int (m->crc32, vyre_crc32_update (0, f->data + pos,
            gst_buffer_get_size (buf)));
    pos += gst_buffer_get_size (buf);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_uint64 (pos, len);
  guint64 copied = 0;
  g_object_get (scan, "bytes-copied", &copied, NULL);
  guint n_warn;
  gchar *warn = bus_texts (bus, GST_MESSAGE_WARNING, &n_warn);
  gst_print ("control: blocksize over vyrescan's block-size: bytes-copied %"
      G_GUINT64_FORMAT "; %s", copied, warn);
  /* Every full 1 MiB buffer copied; the short last one fits a block. */
  fail_unless_equals_uint64 (copied, len / MIB * MIB);
  fail_unless (strstr (warn, "does not fit") != NULL);
  g_free (warn);
  gst_object_unref (scan);
  gst_element_set_state (h->element, GST_STATE_NULL);
  bus_release (h->element, bus);
  gst_harness_teardown (h);
  test_file_free (f);
}

GST_END_TEST;

static Suite *
vyreurisrc_suite (void)
{
  Suite *s = suite_create ("vyreurisrc");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sizes);
  tcase_add_test (tc, test_big);
  tcase_add_test (tc, test_io_modes);
  tcase_add_test (tc, test_fallbacks);
  tcase_add_test (tc, test_short_reads);
  tcase_add_test (tc, test_queue_depths);
  tcase_add_test (tc, test_block_sizing);
  tcase_add_test (tc, test_seek_pull);
  tcase_add_test (tc, test_seek_push);
  tcase_add_test (tc, test_state_stress);
  tcase_add_test (tc, test_unlock);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_unknown_size);
  tcase_add_test (tc, test_pseudo_read_error);
  tcase_add_test (tc, test_uri);
  tcase_add_test (tc, test_backpressure);
  tcase_add_test (tc, test_zero_copy);
  return s;
}

int
main (int argc, char **argv)
{
  /* Objects left alive fail the test at exit.  Not under valgrind, which
   * checks leaks itself (and counts the tracer of each forked test, which
   * never runs gst_deinit, as lost). */
  if (!RUNNING_ON_VALGRIND)
    g_setenv ("GST_TRACERS", "leaks", FALSE);
  gst_check_init (&argc, &argv);
  rng_state = ring_test_seed ();
  tmp_dir = g_dir_make_tmp ("vyreurisrc-XXXXXX", NULL);
  g_assert (tmp_dir != NULL);
  int ret = gst_check_run_suite (vyreurisrc_suite (), "vyreurisrc", __FILE__);
  gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmp_dir);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", tmp_dir);
  g_free (cmd);
  g_free (tmp_dir);
  return ret;
}
