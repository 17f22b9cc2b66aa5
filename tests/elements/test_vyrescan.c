/*
 * test_vyrescan.c - the vyrescan element through GstHarness, on the real
 * Vulkan device (lavapipe in CI), checked against the CPU reference
 * (vyre-scan-reference.h: a plain byte compare at every offset).
 *
 *  correctness       dense data with planted, overlapping and straddling
 *                    patterns, cut into buffers of 1, 7, 4097, 65536,
 *                    1 MiB, random and empty sizes (BYTES offsets, and
 *                    OFFSET_NONE): all metas together == the reference over
 *                    the whole stream, per-buffer CRC-32 and histogram
 *  ignore_case       the same against the reference with ignore_case
 *  backpressure      ring-slots=2, slow downstream: bounded, nothing lost
 *  flush_blocked     a chain blocked on a full ring is released by a flush;
 *                    sticky events survive; the element works afterwards
 *  eos_drain         EOS after every buffer; vyre-epoch 1,2,3... after the
 *                    buffers of their epoch
 *  state_cycles      NULL->PLAYING->NULL 20 times, no leaked objects
 *  many_buffers      100,000 small buffers while the kernel retires and is
 *                    relaunched over and over
 *  zero_copy         buffers allocated as the ALLOCATION query proposes
 *                    (vyrescan's allocator, or a pool) are not copied:
 *                    bytes-copied stays 0; plain memory is counted; again
 *                    with job-size=4096 (each block scanned as 16 jobs)
 *  errors            no patterns, missing file, bad escape, overflow
 *  downstream_error  downstream fails while the chain waits for contexts:
 *                    the chain returns the error instead of waiting
 *
 * Seeds: VYRE_TEST_SEED (default fixed); sizes: VYRE_TEST_SCALE (0.05
 * shrinks every stream and the 100,000 buffers 20 times; the valgrind setup
 * leaves the vulkan suite out: lavapipe's JIT under valgrind needs far more
 * than the harness's 60 s per buffer); VYRE_TEST_DUMP=1 prints every
 * buffer and every missing or extra match of a failing stream.  Runs under the leaks tracer
 * (objects alive at exit fail the test).  Skips (exit 77) when no Vulkan
 * device exists.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gstvyrescanmeta.h"
#include "leak-check.h"
#include "ring_test_util.h"
#include "vyre-crc32.h"
#include "vyre-device.h"
#include "vyre-scan-reference.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
/* Size-cycle markers: a random size, an empty buffer. */
#define SZ_RANDOM 0
#define SZ_EMPTY G_MAXSIZE
/* Enough match storage that dense data drops nothing. */
#define BIG_MAX_MATCHES (128 * 1024)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static guint64
test_seed (void)
{
  return ring_test_seed ();
}

static gsize
scaled (gsize n, gsize min)
{
  return MAX ((gsize) ring_test_scaled (n), min);
}

/* The meta's API type is registered by the plugin the first time it adds
 * one; look it up by name rather than linking the plugin. */
static GstVyreScanMeta *
scan_meta (GstBuffer * buf)
{
  GType api = g_type_from_name ("GstVyreScanMetaAPI");
  if (api == 0)
    return NULL;
  return (GstVyreScanMeta *) gst_buffer_get_meta (buf, api);
}

/* The meta's counts per pattern: sorted by id, none 0, each the pattern's
 * stored matches plus its not stored ones. */
static void
check_counts (const char *what, const GstVyreScanMeta * m, guint n_patterns,
    guint buffer)
{
  guint64 *want = g_new0 (guint64, n_patterns);
  for (guint k = 0; k < m->n_matches; k++)
    want[m->matches[k].pattern_id]++;
  for (guint k = 0; k < m->n_not_stored; k++)
    want[m->not_stored[k].pattern_id] += m->not_stored[k].count;
  guint64 sum = 0;
  for (guint k = 0; k < m->n_counts; k++) {
    const GstVyrePatternCount *c = &m->counts[k];
    fail_unless (c->pattern_id < n_patterns && c->count > 0 &&
        (k == 0 || m->counts[k - 1].pattern_id < c->pattern_id),
        "%s: buffer %u: count %u (pattern %u, %" G_GUINT64_FORMAT ") out of "
        "order, empty or unknown", what, buffer, k, c->pattern_id, c->count);
    fail_unless (c->count == want[c->pattern_id], "%s: buffer %u: pattern "
        "%u counted %" G_GUINT64_FORMAT ", its matches %" G_GUINT64_FORMAT,
        what, buffer, c->pattern_id, c->count, want[c->pattern_id]);
    sum += c->count;
  }
  fail_unless (sum == m->n_matches + m->n_dropped, "%s: buffer %u: counts "
      "sum to %" G_GUINT64_FORMAT ", %u matches + %" G_GUINT64_FORMAT
      " not stored", what, buffer, sum, m->n_matches, m->n_dropped);
  g_free (want);
}

static GPtrArray *
patterns_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

static void
patterns_add (GPtrArray * p, const char *bytes, gsize len)
{
  g_ptr_array_add (p, g_bytes_new (bytes, len ? len : strlen (bytes)));
}

/* Overlapping prefixes/suffixes, a 20-byte periodic one whose matches
 * overlap each other, binary bytes and frequent short ones (no duplicate:
 * vyrescan scans a repeated literal once). */
static GPtrArray *
dense_patterns (void)
{
  GPtrArray *p = patterns_new ();
  patterns_add (p, "he", 0);
  patterns_add (p, "she", 0);
  patterns_add (p, "hers", 0);
  patterns_add (p, "his", 0);
  patterns_add (p, "hishishishishishishi", 0);
  patterns_add (p, "\xff\x00", 2);
  patterns_add (p, "ab", 0);
  patterns_add (p, "abcab", 0);
  patterns_add (p, "aaaa", 0);
  patterns_add (p, "rsi", 0);
  patterns_add (p, "ir", 0);    /* frequent 2-byte ones: many straddle */
  patterns_add (p, "se", 0);
  return p;
}

/* Every byte as \xHH: valid patterns syntax that does not lean on the
 * parser's handling of any other character. */
static gchar *
escape_all (GBytes * b)
{
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  GString *s = g_string_sized_new (n * 4);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "\\x%02x", d[i]);
  return g_string_free (s, FALSE);
}

static void
set_patterns (GstElement * el, GPtrArray * pats)
{
  GValue arr = G_VALUE_INIT;
  gst_value_array_init (&arr, pats->len);
  for (guint i = 0; i < pats->len; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_STRING);
    g_value_take_string (&v, escape_all (pats->pdata[i]));
    gst_value_array_append_and_take_value (&arr, &v);
  }
  g_object_set_property (G_OBJECT (el), "patterns", &arr);
  g_value_unset (&arr);
}

static GstElement *
make_scan (GPtrArray * pats)
{
  GstElement *el = gst_element_factory_make ("vyrescan", NULL);
  fail_unless (el != NULL, "vyrescan not found: is the plugin built and on "
      "GST_PLUGIN_PATH?");
  if (pats)
    set_patterns (el, pats);
  g_object_set (el, "max-matches-per-buffer", BIG_MAX_MATCHES,
      "ring-slots", 8, NULL);
  return el;
}

/* Dense data over a small alphabet (most positions start some pattern),
 * one byte in 97 random, then copies of every pattern planted at random
 * places and at offsets that straddle the block sizes under test. */
static guint8 *
make_data (guint64 * rng, gsize len, const char *alphabet, GPtrArray * pats)
{
  gsize na = strlen (alphabet);
  guint8 *d = g_malloc (len);
  for (gsize i = 0; i < len; i++) {
    guint64 r = ring_test_rand (rng);
    d[i] = (r % 97 == 0) ? (guint8) (r >> 32) : (guint8) alphabet[r % na];
  }
  static const gsize fixed[] = { 0, 1, 4090, 4094, 4097 - 5, 8190, 65530,
    65536 - 19, 65536 * 2 - 7, 1048576 - 9
  };
  for (guint k = 0; k < G_N_ELEMENTS (fixed) + len / 2048; k++) {
    gsize pos = k < G_N_ELEMENTS (fixed) ? fixed[k] :
        (gsize) (ring_test_rand (rng) % len);
    GBytes *p = pats->pdata[ring_test_rand (rng) % pats->len];
    gsize plen;
    const guint8 *pd = g_bytes_get_data (p, &plen);
    /* Twice back to back: overlaps for the periodic ones. */
    for (guint rep = 0; rep < 2; rep++)
      for (gsize j = 0; j < plen && pos + rep * plen + j < len; j++)
        d[pos + rep * plen + j] = pd[j];
  }
  return d;
}

typedef struct
{
  guint64 off;                  /* in the data */
  gsize len;
} Piece;

/* Cut len bytes by cycling through sizes (SZ_RANDOM: 1..rand_max,
 * SZ_EMPTY: an empty buffer). */
static GArray *
cut_stream (guint64 * rng, gsize len, const gsize * cycle, guint ncycle,
    gsize rand_max)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Piece));
  gsize pos = 0;
  guint k = 0;
  while (pos < len) {
    gsize n = cycle[k++ % ncycle];
    if (n == SZ_EMPTY)
      n = 0;
    else if (n == SZ_RANDOM)
      n = 1 + ring_test_rand (rng) % rand_max;
    n = MIN (n, len - pos);
    Piece p = { pos, n };
    g_array_append_val (a, p);
    pos += n;
  }
  return a;
}

static GstBuffer *
make_buffer (const guint8 * data, const Piece * p, guint64 base,
    gboolean offsets)
{
  GstBuffer *b = p->len ? gst_buffer_new_memdup (data + p->off, p->len) :
      gst_buffer_new ();
  if (offsets) {
    GST_BUFFER_OFFSET (b) = base + p->off;
    GST_BUFFER_OFFSET_END (b) = base + p->off + p->len;
  }
  return b;
}

/* Caps and a BYTES segment starting at base (the stream-start was pushed
 * by gst_harness_new). */
static void
start_stream (GstHarness * h, guint64 base)
{
  GstSegment seg;
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  fail_unless (gst_harness_push_event (h, gst_event_new_caps (caps)));
  gst_caps_unref (caps);
  gst_segment_init (&seg, GST_FORMAT_BYTES);
  seg.start = base;
  seg.time = 0;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

static GstHarness *
harness_for (GstElement * el, guint64 base)
{
  GstHarness *h = gst_harness_new_with_element (el, "sink", "src");
  start_stream (h, base);
  return h;
}

/* Push every piece, then pull as many buffers. */
static GPtrArray *
push_and_pull (GstHarness * h, const guint8 * data, GArray * pieces,
    guint64 base, gboolean offsets)
{
  for (guint i = 0; i < pieces->len; i++) {
    GstFlowReturn r = gst_harness_push (h, make_buffer (data,
            &g_array_index (pieces, Piece, i), base, offsets));
    fail_unless_equals_int (r, GST_FLOW_OK);
  }
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  for (guint i = 0; i < pieces->len; i++) {
    GstBuffer *b = gst_harness_pull (h);
    fail_unless (b != NULL, "buffer %u of %u never left vyrescan", i,
        pieces->len);
    g_ptr_array_add (out, b);
  }
  return out;
}

static void
check_histogram (const GstVyreScanMeta * m, const guint8 * d, gsize n,
    guint i)
{
  guint64 hist[256] = { 0 };
  vyre_scan_reference_histogram (d, n, hist);
  fail_unless (m->has_histogram, "buffer %u: no histogram", i);
  for (guint b = 0; b < 256; b++)
    fail_unless (m->histogram[b] == hist[b], "buffer %u: histogram[%u] = %u, "
        "reference %" G_GUINT64_FORMAT, i, b, m->histogram[b], hist[b]);
}

static gint
match_compare (gconstpointer a, gconstpointer b)
{
  const GstVyreMatch *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  if (x->pattern_id != y->pattern_id)
    return x->pattern_id < y->pattern_id ? -1 : 1;
  return 0;
}

/* VYRE_TEST_DUMP=1: every match one side has and the other lacks. */
static void
dump_difference (const char *what, GArray * got, GArray * ref)
{
  guint i = 0, j = 0;
  while (i < got->len || j < ref->len) {
    GstVyreMatch *m = i < got->len ?
        &g_array_index (got, GstVyreMatch, i) : NULL;
    VyreRefMatch *e = j < ref->len ? &g_array_index (ref, VyreRefMatch, j) :
        NULL;
    if (m && e && m->offset == e->start && m->pattern_id == e->pattern_id) {
      i++;
      j++;
    } else if (e && (!m || e->start < m->offset || (e->start == m->offset
                && e->pattern_id < m->pattern_id))) {
      g_printerr ("%s: missing (%" G_GUINT64_FORMAT ", %u)\n", what,
          e->start, e->pattern_id);
      j++;
    } else {
      g_printerr ("%s: extra (%" G_GUINT64_FORMAT ", %u)\n", what,
          m->offset, m->pattern_id);
      i++;
    }
  }
}

/* Compare the matches of a whole stream with the reference.  Each buffer's
 * list is sorted, but a long match that ends in buffer k+1 can start
 * before the last matches of buffer k: sort the union first. */
static void
compare_matches (const char *what, GArray * got, GArray * ref)
{
  g_array_sort (got, match_compare);
  guint n = MIN (got->len, ref->len);
  if (g_getenv ("VYRE_TEST_DUMP"))
    dump_difference (what, got, ref);
  for (guint i = 0; i < n; i++) {
    GstVyreMatch *m = &g_array_index (got, GstVyreMatch, i);
    VyreRefMatch *e = &g_array_index (ref, VyreRefMatch, i);
    fail_unless (m->offset == e->start && m->pattern_id == e->pattern_id,
        "%s: match %u of %u: vyrescan (offset %" G_GUINT64_FORMAT
        ", pattern %u), reference (offset %" G_GUINT64_FORMAT ", pattern %u)",
        what, i, ref->len, m->offset, m->pattern_id, e->start, e->pattern_id);
  }
  fail_unless (got->len == ref->len, "%s: vyrescan reported %u matches, the "
      "reference finds %u", what, got->len, ref->len);
}

/* Every output buffer against its piece: unchanged bytes, offsets, CRC,
 * histogram, matches that end inside it, sorted; all matches together
 * against ref (the reference over the whole stream at base). */
static void
verify_stream (const char *what, GPtrArray * out, const guint8 * data,
    GArray * pieces, guint64 base, GPtrArray * pats, GArray * ref)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  guint straddling = 0;
  fail_unless_equals_int (out->len, pieces->len);
  for (guint i = 0; i < pieces->len; i++) {
    const Piece *p = &g_array_index (pieces, Piece, i);
    GstBuffer *b = out->pdata[i];
    const guint8 *d = data + p->off;
    fail_unless (gst_buffer_get_size (b) == p->len, "%s: buffer %u has %"
        G_GSIZE_FORMAT " bytes, pushed %" G_GSIZE_FORMAT, what, i,
        gst_buffer_get_size (b), p->len);
    fail_unless (gst_buffer_memcmp (b, 0, d, p->len) == 0,
        "%s: buffer %u changed", what, i);
    GstVyreScanMeta *m = scan_meta (b);
    fail_unless (m != NULL, "%s: buffer %u has no GstVyreScanMeta", what, i);
    fail_unless (m->stream_offset == base + p->off, "%s: buffer %u "
        "stream_offset %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT,
        what, i, m->stream_offset, base + p->off);
    fail_unless (m->size == p->len, "%s: buffer %u: meta size %"
        G_GUINT64_FORMAT, what, i, m->size);
    fail_unless (m->has_crc32, "%s: buffer %u: no crc32", what, i);
    guint32 crc = vyre_crc32_update (0, d, p->len);
    fail_unless (m->crc32 == crc, "%s: buffer %u (%" G_GSIZE_FORMAT
        " bytes at %" G_GUINT64_FORMAT "): crc32 %08x, reference %08x",
        what, i, p->len, p->off, m->crc32, crc);
    check_histogram (m, d, p->len, i);
    fail_unless (m->n_dropped == 0, "%s: buffer %u dropped %" G_GUINT64_FORMAT
        " matches", what, i, m->n_dropped);
    check_counts (what, m, pats->len, i);
    for (guint k = 0; k < m->n_matches; k++) {
      const GstVyreMatch *x = &m->matches[k];
      fail_unless (x->pattern_id < pats->len, "%s: buffer %u: pattern id %u",
          what, i, x->pattern_id);
      guint64 end = x->offset + g_bytes_get_size (pats->pdata[x->pattern_id]);
      fail_unless (end > base + p->off && end <= base + p->off + p->len,
          "%s: buffer %u [%" G_GUINT64_FORMAT ", +%" G_GSIZE_FORMAT
          ") reports a match ending at %" G_GUINT64_FORMAT, what, i,
          base + p->off, p->len, end);
      if (x->offset < base + p->off)
        straddling++;
      if (k > 0) {
        const GstVyreMatch *y = &m->matches[k - 1];
        fail_unless (y->offset < x->offset || (y->offset == x->offset &&
                y->pattern_id < x->pattern_id), "%s: buffer %u: matches %u "
            "and %u out of (offset, pattern_id) order", what, i, k - 1, k);
      }
    }
    g_array_append_vals (all, m->matches, m->n_matches);
  }
  if (g_getenv ("VYRE_TEST_DUMP"))
    for (guint i = 0; i < pieces->len; i++) {
      const Piece *p = &g_array_index (pieces, Piece, i);
      GstVyreScanMeta *m = scan_meta (out->pdata[i]);
      g_printerr ("%s: buffer %u [%" G_GUINT64_FORMAT ", +%" G_GSIZE_FORMAT
          ") epoch %u, %u matches\n", what, i, p->off, p->len, m->epoch,
          m->n_matches);
    }
  compare_matches (what, all, ref);
  GST_INFO ("%s: %u buffers, %u matches, %u straddling", what, pieces->len,
      all->len, straddling);
  /* Many boundaries in dense data: some matches must cross them, or the
   * carry between buffers went untested. */
  fail_unless (pieces->len < 50 || straddling > 0, "%s: no match straddles "
      "any of %u buffer boundaries", what, pieces->len - 1);
  g_array_unref (all);
}

/* One element, one stream: push, pull, verify; returns the outputs. */
static GPtrArray *
scan_stream (const char *what, GstElement * el, const guint8 * data,
    GArray * pieces, guint64 base, gboolean offsets, GPtrArray * pats,
    GArray * ref)
{
  GstHarness *h = harness_for (el, base);
  GPtrArray *out = push_and_pull (h, data, pieces, base, offsets);
  verify_stream (what, out, data, pieces, base, pats, ref);
  gst_harness_teardown (h);
  return out;
}

/* ------------------------------------------------------------------ */
/* 1. correctness                                                      */

GST_START_TEST (test_correctness)
{
  guint64 rng = test_seed ();
  GPtrArray *pats = dense_patterns ();
  gsize len = scaled (256 * KIB, 8 * KIB);
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  const guint64 base = 1000003;   /* absolute offsets, not 0-based */
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, base);
  fail_unless (ref->len > len / 32, "the data is not dense: %u matches",
      ref->len);
  GST_INFO ("%" G_GSIZE_FORMAT " bytes, %u reference matches", len, ref->len);

  /* (A 1 MiB buffer would swallow the rest of the stream: its own run.) */
  static const gsize mixed[] = { 1, 7, 4097, SZ_RANDOM, SZ_EMPTY, 2, 65536,
    3, SZ_RANDOM, 300
  };
  static const gsize u1[] = { 1 }, u7[] = { 7 }, u4097[] = { 4097 },
      u64k[] = { 65536 }, u1m[] = { MIB }, urand[] = { SZ_RANDOM };
  /* Tiny buffers cost a GPU job each (about 0.5 ms on lavapipe): they get
   * a prefix of the stream, compared with the reference over that prefix. */
  gsize tiny = scaled (3000, 200), small = scaled (48 * KIB, 4 * KIB);
  struct
  {
    const char *what;
    const gsize *cycle;
    guint ncycle;
    gsize len;
    gboolean offsets;
    guint job_size;
  } runs[] = {
    {"mixed sizes", mixed, G_N_ELEMENTS (mixed), len, TRUE, 0},
    {"1-byte buffers", u1, 1, tiny, TRUE, 0},
    {"7-byte buffers", u7, 1, small, TRUE, 0},
    {"4097-byte buffers", u4097, 1, len, TRUE, 0},
    {"64 KiB buffers", u64k, 1, len, TRUE, 0},
    {"1 MiB buffers", u1m, 1, len, TRUE, 0},
    {"random sizes", urand, 1, len, TRUE, 0},
    {"OFFSET_NONE", mixed, G_N_ELEMENTS (mixed), len, FALSE, 0},
    /* Buffers split into several jobs inside the element. */
    {"job-size 4096", mixed, G_N_ELEMENTS (mixed), len, TRUE, 4096},
  };
  for (guint r = 0; r < G_N_ELEMENTS (runs); r++) {
    GArray *pieces = cut_stream (&rng, runs[r].len, runs[r].cycle,
        runs[r].ncycle, 20000);
    GArray *rref = runs[r].len == len ? g_array_ref (ref) :
        vyre_scan_reference_find (pats, FALSE, data, runs[r].len, base);
    fail_unless (rref->len > 10);
    GstElement *el = make_scan (pats);
    if (runs[r].job_size)
      g_object_set (el, "job-size", runs[r].job_size, NULL);
    GPtrArray *out = scan_stream (runs[r].what, el, data, pieces, base,
        runs[r].offsets, pats, rref);
    /* Per-buffer CRCs combine to the CRC of the stream. */
    guint32 crc = 0;
    for (guint i = 0; i < out->len; i++) {
      GstVyreScanMeta *m = scan_meta (out->pdata[i]);
      crc = vyre_crc32_combine (crc, m->crc32, m->size);
    }
    fail_unless_equals_uint64 (crc, vyre_crc32_update (0, data,
            runs[r].len));
    g_ptr_array_unref (out);
    g_array_unref (rref);
    g_array_unref (pieces);
    gst_object_unref (el);
  }

  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 2. ignore-case                                                      */

GST_START_TEST (test_ignore_case)
{
  guint64 rng = test_seed () ^ 0x1c;
  GPtrArray *pats = patterns_new ();
  patterns_add (pats, "He", 0);
  patterns_add (pats, "sHE", 0);
  patterns_add (pats, "hErS", 0);
  patterns_add (pats, "HIS", 0);
  patterns_add (pats, "HisHisHisHisHisHisHi", 0);
  patterns_add (pats, "aB", 0);
  patterns_add (pats, "\xc4\xe4", 2);       /* not letters: exact */
  /* '@' and '`' differ by 0x20 like a case pair but are no letters: the
   * data has both, only "r@s" may match. */
  patterns_add (pats, "r@s", 0);
  gsize len = scaled (192 * KIB, 8 * KIB);
  guint8 *data = make_data (&rng, len, "aAbBcCeEhHiIrRsS@`", pats);
  GArray *ref = vyre_scan_reference_find (pats, TRUE, data, len, 0);
  GArray *exact = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  /* Otherwise the test would not tell the modes apart. */
  fail_unless (ref->len > 2 * exact->len, "%u folded vs %u exact matches",
      ref->len, exact->len);
  g_array_unref (exact);

  static const gsize mixed[] = { 1, 7, 4097, 65536, SZ_RANDOM, 2 };
  static const gsize u4097[] = { 4097 };
  for (guint r = 0; r < 2; r++) {
    GArray *pieces = r == 0 ?
        cut_stream (&rng, len, mixed, G_N_ELEMENTS (mixed), 30000) :
        cut_stream (&rng, len, u4097, 1, 1);
    GstElement *el = make_scan (pats);
    g_object_set (el, "ignore-case", TRUE, NULL);
    GPtrArray *out = scan_stream (r == 0 ? "ignore-case, mixed sizes" :
        "ignore-case, 4097-byte buffers", el, data, pieces, 0, TRUE, pats,
        ref);
    g_ptr_array_unref (out);
    g_array_unref (pieces);
    gst_object_unref (el);
  }
  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 4. back-pressure                                                    */

typedef struct
{
  gint pushed;                  /* gst_harness_push calls that returned */
  gint received;                /* buffers that reached the harness sink */
  gint max_ahead;               /* most pushed - received seen downstream */
  guint sleep_us;
} SlowSink;

static GstPadProbeReturn
slow_sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SlowSink *s = user_data;
  (void) pad;
  (void) info;
  gint ahead = g_atomic_int_get (&s->pushed) - g_atomic_int_get (&s->received);
  if (ahead > g_atomic_int_get (&s->max_ahead))
    g_atomic_int_set (&s->max_ahead, ahead);
  g_usleep (s->sleep_us);
  g_atomic_int_inc (&s->received);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_backpressure)
{
  guint64 rng = test_seed () ^ 0x4e;
  GPtrArray *pats = dense_patterns ();
  gsize len = scaled (600 * KIB, 32 * KIB);
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  static const gsize cycle[] = { SZ_RANDOM };
  GArray *pieces = cut_stream (&rng, len, cycle, 1, 6000);
  const guint slots = 2;

  GstElement *el = make_scan (pats);
  g_object_set (el, "ring-slots", slots, "epoch-buffers", 3, NULL);
  GstHarness *h = harness_for (el, 0);
  SlowSink s = { 0, 0, 0, 1500 };
  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER, slow_sink_probe,
      &s, NULL);

  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < pieces->len; i++) {
    GstFlowReturn r = gst_harness_push (h, make_buffer (data,
            &g_array_index (pieces, Piece, i), 0, TRUE));
    fail_unless_equals_int (r, GST_FLOW_OK);
    g_atomic_int_inc (&s.pushed);
  }
  gint64 push_us = g_get_monotonic_time () - t0;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  for (guint i = 0; i < pieces->len; i++) {
    GstBuffer *b = gst_harness_pull (h);
    fail_unless (b != NULL, "buffer %u of %u lost", i, pieces->len);
    g_ptr_array_add (out, b);
  }
  fail_unless (gst_harness_try_pull (h) == NULL, "more buffers than pushed");
  /* The probe sees buffer k while k+1.. hold the ring's contexts and the
   * chain waits for one: upstream can never be more than that ahead. */
  GST_INFO ("%u buffers, pushing took %.2f s, upstream at most %d ahead",
      pieces->len, push_us / 1e6, s.max_ahead);
  fail_unless (s.max_ahead <= (gint) slots + 2, "upstream ran %d buffers "
      "ahead of a slow downstream with ring-slots=%u: no back-pressure",
      s.max_ahead, slots);
  fail_unless (push_us >= (gint64) (pieces->len - slots - 2) * s.sleep_us,
      "pushing %u buffers took only %" G_GINT64_FORMAT " us: not blocked by "
      "the slow downstream", pieces->len, push_us);
  verify_stream ("back-pressure", out, data, pieces, 0, pats, ref);

  g_ptr_array_unref (out);
  gst_harness_teardown (h);
  gst_object_unref (el);
  g_array_unref (pieces);
  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 5. flush while blocked                                              */

typedef struct
{
  GstHarness *h;
  const guint8 *data;
  GArray *pieces;
  gint returned;                /* pushes that returned */
  gint done;
  GstFlowReturn last;
} Pusher;

static gpointer
pusher_thread (gpointer user_data)
{
  Pusher *p = user_data;
  GstFlowReturn r = GST_FLOW_OK;
  for (guint i = 0; i < p->pieces->len && r == GST_FLOW_OK; i++) {
    r = gst_harness_push (p->h, make_buffer (p->data,
            &g_array_index (p->pieces, Piece, i), 0, TRUE));
    if (i == 0) {
      /* Queued behind buffer 0, which downstream holds: a sticky event
       * that must survive the flush. */
      GstStructure *st = gst_structure_new ("test-sticky", "n", G_TYPE_INT,
          42, NULL);
      gst_harness_push_event (p->h,
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_STICKY, st));
    }
    g_atomic_int_inc (&p->returned);
  }
  p->last = r;
  g_atomic_int_set (&p->done, 1);
  return NULL;
}

GST_START_TEST (test_flush_blocked)
{
  guint64 rng = test_seed () ^ 0x5f;
  GPtrArray *pats = dense_patterns ();
  gsize len = scaled (64 * KIB, 16 * KIB);
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  static const gsize cycle[] = { 997 };
  GArray *pieces = cut_stream (&rng, len, cycle, 1, 1);

  GstElement *el = make_scan (pats);
  g_object_set (el, "ring-slots", 2, NULL);
  GstHarness *h = harness_for (el, 0);
  /* Downstream stops consuming. */
  gulong block = gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BLOCK |
      GST_PAD_PROBE_TYPE_BUFFER, NULL, NULL, NULL);

  Pusher p = { h, data, pieces, 0, 0, GST_FLOW_OK };
  GThread *t = g_thread_new ("pusher", pusher_thread, &p);
  /* Wait until the pusher stops making progress: it is blocked. */
  gint last = -1;
  gint64 still_since = g_get_monotonic_time ();
  gint64 deadline = still_since + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline) {
    gint now = g_atomic_int_get (&p.returned);
    if (now != last) {
      last = now;
      still_since = g_get_monotonic_time ();
    } else if (g_get_monotonic_time () - still_since > 500 * 1000) {
      break;
    }
    g_usleep (10 * 1000);
  }
  fail_if (g_atomic_int_get (&p.done), "the pusher finished %d buffers "
      "although downstream consumed nothing", p.returned);
  fail_unless (last >= 1 && last < (gint) pieces->len);
  GST_INFO ("pusher blocked after %d buffers", last);

  gint64 t0 = g_get_monotonic_time ();
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  while (!g_atomic_int_get (&p.done) &&
      g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC)
    g_usleep (1000);
  fail_unless (g_atomic_int_get (&p.done), "FLUSH_START did not release a "
      "chain blocked on a full ring within 5 s");
  GST_INFO ("FLUSH_START released the pusher in %.1f ms",
      (g_get_monotonic_time () - t0) / 1000.0);
  g_thread_join (t);
  fail_unless_equals_int (p.last, GST_FLOW_FLUSHING);
  gst_pad_remove_probe (h->sinkpad, block);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));

  /* Throw away whatever got through before the flush. */
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h)) != NULL)
    gst_buffer_unref (b);

  /* It works again: a new stream from offset 0, checked in full. */
  start_stream (h, 0);
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  static const gsize cycle2[] = { 4097, 1, SZ_RANDOM };
  GArray *pieces2 = cut_stream (&rng, len, cycle2, 3, 9000);
  GPtrArray *out = push_and_pull (h, data, pieces2, 0, TRUE);
  verify_stream ("after flush", out, data, pieces2, 0, pats, ref);
  g_ptr_array_unref (out);

  /* The sticky event queued behind the flushed data still reached
   * downstream (sticky events are not flushed away). */
  gboolean found = FALSE;
  for (guint i = 0; !found; i++) {
    GstEvent *ev = gst_pad_get_sticky_event (h->sinkpad,
        GST_EVENT_CUSTOM_DOWNSTREAM_STICKY, i);
    if (ev == NULL)
      break;
    found = gst_event_has_name (ev, "test-sticky");
    gst_event_unref (ev);
  }
  fail_unless (found, "a sticky event queued before the flush never "
      "reached downstream");

  gst_harness_teardown (h);
  gst_object_unref (el);
  g_array_unref (pieces2);
  g_array_unref (ref);
  g_array_unref (pieces);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 6. EOS drain and epochs                                             */

typedef struct
{
  GMutex lock;
  GCond cond;
  GArray *items;                /* Item */
  gboolean eos;
} Recorder;

typedef struct
{
  gchar kind;                   /* 'B' buffer, 'E' vyre-epoch, 'S' EOS */
  guint32 epoch;
  guint64 offset;
} Item;

static GstPadProbeReturn
record_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *r = user_data;
  Item it = { 0 };
  (void) pad;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
    GstVyreScanMeta *m = scan_meta (b);
    it.kind = 'B';
    it.epoch = m ? m->epoch : 0;
    it.offset = GST_BUFFER_OFFSET (b);
  } else {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS) {
      it.kind = 'S';
    } else if (gst_event_has_name (ev, "vyre-epoch")) {
      it.kind = 'E';
      gst_structure_get_uint (gst_event_get_structure (ev), "epoch",
          &it.epoch);
    } else {
      return GST_PAD_PROBE_OK;
    }
  }
  g_mutex_lock (&r->lock);
  g_array_append_val (r->items, it);
  if (it.kind == 'S')
    r->eos = TRUE;
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_eos_drain)
{
  guint64 rng = test_seed () ^ 0x6a;
  GPtrArray *pats = dense_patterns ();
  gsize len = scaled (96 * KIB, 8 * KIB);
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  /* 22 buffers: the last epoch (closed by EOS) is a partial one. */
  const gsize cycle[] = { (len + 21) / 22 };
  GArray *pieces = cut_stream (&rng, len, cycle, 1, 1);
  const guint per_epoch = 4;
  fail_unless_equals_int (pieces->len, 22);

  GstElement *el = make_scan (pats);
  g_object_set (el, "epoch-buffers", per_epoch, NULL);
  GstHarness *h = harness_for (el, 0);
  Recorder rec;
  g_mutex_init (&rec.lock);
  g_cond_init (&rec.cond);
  rec.items = g_array_new (FALSE, FALSE, sizeof (Item));
  rec.eos = FALSE;
  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, record_probe, &rec, NULL);

  for (guint i = 0; i < pieces->len; i++)
    fail_unless_equals_int (gst_harness_push (h, make_buffer (data,
                &g_array_index (pieces, Piece, i), 0, TRUE)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  g_mutex_lock (&rec.lock);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!rec.eos && g_cond_wait_until (&rec.cond, &rec.lock, deadline));
  gboolean eos = rec.eos;
  g_mutex_unlock (&rec.lock);
  fail_unless (eos, "EOS never came out");

  /* The sticky vyre-info from start. */
  GstEvent *info = gst_pad_get_sticky_event (h->sinkpad,
      GST_EVENT_CUSTOM_DOWNSTREAM_STICKY, 0);
  fail_unless (info != NULL && gst_event_has_name (info, "vyre-info"),
      "no sticky vyre-info event downstream");
  const GstStructure *is = gst_event_get_structure (info);
  const GValue *pl = gst_structure_get_value (is, "patterns");
  fail_unless (pl != NULL && gst_value_array_get_size (pl) == pats->len,
      "vyre-info lists the wrong patterns");
  fail_unless (gst_structure_get_string (is, "device") != NULL);
  gst_event_unref (info);

  guint n_epochs = (pieces->len + per_epoch - 1) / per_epoch;
  guint bufs = 0, next_epoch = 1;
  for (guint i = 0; i < rec.items->len; i++) {
    Item *it = &g_array_index (rec.items, Item, i);
    switch (it->kind) {
      case 'B':
        fail_unless (bufs < pieces->len, "more buffers than pushed");
        fail_unless (it->offset == g_array_index (pieces, Piece, bufs).off,
            "buffer %u out of order", bufs);
        fail_unless_equals_int (it->epoch, bufs / per_epoch + 1);
        /* No buffer of an epoch after that epoch's vyre-epoch. */
        fail_unless (it->epoch >= next_epoch, "buffer %u of epoch %u after "
            "vyre-epoch %u", bufs, it->epoch, next_epoch - 1);
        bufs++;
        break;
      case 'E':
        fail_unless_equals_int (it->epoch, next_epoch);
        /* Every buffer of that epoch is already out. */
        fail_unless (bufs >= MIN (it->epoch * per_epoch, pieces->len),
            "vyre-epoch %u after only %u buffers", it->epoch, bufs);
        next_epoch++;
        break;
      case 'S':
        fail_unless (i == rec.items->len - 1, "something after EOS");
        break;
    }
  }
  fail_unless_equals_int (bufs, pieces->len);
  fail_unless_equals_int (next_epoch - 1, n_epochs);

  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h)) != NULL)
    g_ptr_array_add (out, b);
  verify_stream ("eos", out, data, pieces, 0, pats, ref);
  g_ptr_array_unref (out);

  gst_harness_teardown (h);
  gst_object_unref (el);
  g_array_unref (rec.items);
  g_mutex_clear (&rec.lock);
  g_cond_clear (&rec.cond);
  g_array_unref (pieces);
  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 7. state changes                                                    */

static void
state_cycle (GstHarness * h, guint cycle, const guint8 * data, GArray * pieces,
    GPtrArray * pats)
{
  if (cycle > 0) {
    gst_harness_play (h);
    fail_unless (gst_harness_push_event (h,
            gst_event_new_stream_start ("vyrescan-cycle")));
  }
  start_stream (h, 0);
  for (guint i = 0; i < pieces->len; i++)
    fail_unless_equals_int (gst_harness_push (h, make_buffer (data,
                &g_array_index (pieces, Piece, i), 0, TRUE)), GST_FLOW_OK);
  for (guint i = 0; i < pieces->len; i++) {
    const Piece *p = &g_array_index (pieces, Piece, i);
    GstBuffer *b = gst_harness_pull (h);
    fail_unless (b != NULL, "cycle %u: buffer %u lost", cycle, i);
    GstVyreScanMeta *m = scan_meta (b);
    fail_unless (m != NULL);
    fail_unless_equals_uint64 (m->crc32, vyre_crc32_update (0,
            data + p->off, p->len));
    gst_buffer_unref (b);
  }
  (void) pats;
  GstEvent *ev;
  while ((ev = gst_harness_try_pull_event (h)) != NULL)
    gst_event_unref (ev);
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
}

GST_START_TEST (test_state_cycles)
{
  guint64 rng = test_seed () ^ 0x7b;
  GPtrArray *pats = dense_patterns ();
  gsize len = 9000;
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  static const gsize cycle[] = { 4000, 1, SZ_RANDOM };
  GArray *pieces = cut_stream (&rng, len, cycle, 3, 5000);
  guint cycles = MAX (3, (guint) ring_test_scaled (20));

  /* Warm up once: one-time registrations are not leaks. */
  GstElement *el = make_scan (pats);
  GstHarness *h = harness_for (el, 0);
  state_cycle (h, 0, data, pieces, pats);
  gst_harness_teardown (h);
  gst_object_unref (el);

  /* Every object the cycles create is gone again after teardown (the
   * src task's thread drops its last reference a moment after the join:
   * leak_check_alive waits for that). */
  LeakCheck *lc = leak_check_begin ();
  if (lc == NULL)
    GST_WARNING ("no leaks tracer (GST_TRACERS=leaks): only refcounts "
        "checked");

  el = make_scan (pats);
  h = harness_for (el, 0);
  gint64 t0 = g_get_monotonic_time ();
  for (guint c = 0; c < cycles; c++)
    state_cycle (h, c, data, pieces, pats);
  GST_INFO ("%u state cycles in %.2f s", cycles,
      (g_get_monotonic_time () - t0) / 1e6);
  gst_harness_teardown (h);
  ASSERT_OBJECT_REFCOUNT (el, "vyrescan", 1);
  gst_object_unref (el);
  gchar *alive = leak_check_alive (lc, NULL, 10000);
  fail_unless (alive == NULL, "alive after %u state cycles and teardown: %s",
      cycles, alive);
  leak_check_end (lc);
  g_array_unref (pieces);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 8. many buffers, kernel retiring                                    */

typedef struct
{
  const guint32 *crcs;
  const Piece *pieces;
  guint n;
  gint seen;                    /* atomic: read by the pushing thread */
  guint bad_order, bad_crc, no_meta;
  GArray *matches;
} ManyCheck;

static GstPadProbeReturn
many_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  ManyCheck *c = user_data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  GstVyreScanMeta *m = scan_meta (b);
  (void) pad;
  guint k = (guint) c->seen;
  if (k >= c->n || GST_BUFFER_OFFSET (b) != c->pieces[k].off)
    c->bad_order++;
  else if (m == NULL)
    c->no_meta++;
  else {
    if (m->crc32 != c->crcs[k])
      c->bad_crc++;
    g_array_append_vals (c->matches, m->matches, m->n_matches);
  }
  g_atomic_int_inc (&c->seen);
  return GST_PAD_PROBE_DROP;    /* keep memory flat */
}

static gint launches;

static void
count_launches (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  (void) user_data;
  if (level == GST_LEVEL_LOG &&
      g_str_equal (gst_debug_category_get_name (category), "vyremegakernel")) {
    if (strstr (gst_debug_message_get (message), "launched persistent"))
      g_atomic_int_inc (&launches);
    return;
  }
  gst_debug_log_default (category, level, file, function, line, object,
      message, NULL);
}

GST_START_TEST (test_many_buffers)
{
  guint64 rng = test_seed () ^ 0x8c;
  GPtrArray *pats = dense_patterns ();
  guint n = (guint) scaled (100000, 500);
  static const gsize cycle[] = { SZ_RANDOM };
  gsize len = (gsize) n * 24;
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  GArray *pieces = cut_stream (&rng, len, cycle, 1, 47);
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  guint32 *crcs = g_new (guint32, pieces->len);
  for (guint i = 0; i < pieces->len; i++) {
    const Piece *p = &g_array_index (pieces, Piece, i);
    crcs[i] = vyre_crc32_update (0, data + p->off, p->len);
  }

  /* Count kernel launches through the megakernel's LOG line. */
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (count_launches, NULL, NULL);
  gst_debug_set_threshold_for_name ("vyremegakernel", GST_LEVEL_LOG);
  g_atomic_int_set (&launches, 0);

  /* Retire after 20 idle polls: relaunched whenever the ring runs dry. */
  g_setenv ("VYRE_POLL_BUDGET", "20", TRUE);
  GstElement *el = make_scan (pats);
  g_object_set (el, "ring-slots", 32, "max-matches-per-buffer", 256, NULL);
  GstHarness *h = harness_for (el, 0);
  g_unsetenv ("VYRE_POLL_BUDGET");
  ManyCheck c = { crcs, (const Piece *) pieces->data, pieces->len, 0, 0, 0, 0,
    g_array_new (FALSE, FALSE, sizeof (GstVyreMatch))
  };
  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER, many_probe, &c,
      NULL);

  /* Now and then let the ring run dry so the kernel retires: at least 20
   * pauses, each worth a retirement and a relaunch. */
  guint pause_every = MIN (1000, pieces->len / 20), pauses = 0;
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < pieces->len; i++) {
    GstFlowReturn r = gst_harness_push (h, make_buffer (data,
            &g_array_index (pieces, Piece, i), 0, TRUE));
    fail_unless_equals_int (r, GST_FLOW_OK);
    if (i % pause_every == pause_every - 1) {
      /* Everything out, then idle for a while. */
      gint64 until = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
      while ((guint) g_atomic_int_get (&c.seen) < i + 1 &&
          g_get_monotonic_time () < until)
        g_usleep (200);
      g_usleep (15000);       /* lavapipe retires after 3..10 ms */
      pauses++;
    }
  }
  /* EOS drains; a serialized query waits for everything before it. */
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  GstEvent *ev;
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  gboolean eos = FALSE;
  while (!eos && g_get_monotonic_time () < deadline) {
    ev = gst_harness_try_pull_event (h);
    if (ev == NULL) {
      g_usleep (1000);
      continue;
    }
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  gdouble secs = (g_get_monotonic_time () - t0) / 1e6;
  gst_harness_teardown (h);
  gst_object_unref (el);

  gst_debug_set_threshold_for_name ("vyremegakernel", GST_LEVEL_FIXME);
  gst_debug_remove_log_function (count_launches);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);

  GST_INFO ("%u buffers in %.2f s (%.0f/s), %d kernel launches, %u pauses",
      pieces->len, secs, pieces->len / secs, launches, pauses);
  fail_unless (eos, "EOS did not come out");
  fail_unless_equals_int (c.seen, (gint) pieces->len);
  fail_unless_equals_int (c.bad_order, 0);
  fail_unless_equals_int (c.no_meta, 0);
  fail_unless_equals_int (c.bad_crc, 0);
  compare_matches ("many buffers", c.matches, ref);
  fail_unless (g_atomic_int_get (&launches) > (gint) pauses / 2, "the kernel "
      "was launched %d times over %u pauses: it did not retire when idle "
      "(VYRE_POLL_BUDGET=20)", launches, pauses);

  g_array_unref (c.matches);
  g_free (crcs);
  g_array_unref (pieces);
  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 9. zero-copy                                                        */

static guint64
get_u64 (GstElement * el, const char *prop)
{
  guint64 v = 0;
  g_object_get (el, prop, &v, NULL);
  return v;
}

/* job_size 0: one job per buffer on lavapipe; 4096: every 64 KiB block is
 * cut into 16 jobs, each after the first reading its carry from the arena
 * (VYRE_CARRY_IN_ARENA), which is how a GPU runs zero-copy buffers. */
static void
zero_copy_run (guint job_size)
{
  guint64 rng = test_seed () ^ 0x9d ^ job_size;
  GPtrArray *pats = dense_patterns ();
  const guint block = 65536;
  gsize len = scaled (768 * KIB, 64 * KIB);
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);

  GstElement *el = make_scan (pats);
  g_object_set (el, "block-size", block, "ring-slots", 4, "job-size",
      job_size, NULL);
  GstHarness *h = harness_for (el, 0);

  /* Ask vyrescan, as an upstream element would, how to allocate. */
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  GstQuery *q = gst_query_new_allocation (caps, TRUE);
  gst_caps_unref (caps);
  fail_unless (gst_pad_peer_query (h->srcpad, q), "ALLOCATION query refused");
  GstBufferPool *pool = NULL;
  GstAllocator *alloc = NULL;
  GstAllocationParams params;
  gst_allocation_params_init (&params);
  if (gst_query_get_n_allocation_pools (q) > 0)
    gst_query_parse_nth_allocation_pool (q, 0, &pool, NULL, NULL, NULL);
  if (gst_query_get_n_allocation_params (q) > 0)
    gst_query_parse_nth_allocation_param (q, 0, &alloc, &params);
  gst_query_unref (q);
  fail_unless (pool != NULL || alloc != NULL, "neither a pool nor an "
      "allocator proposed");
  if (pool)
    fail_unless (gst_buffer_pool_set_active (pool, TRUE));

  /* The first 3/4 of the stream in the proposed memory, the rest in plain
   * memory: carries cross between the two kinds. */
  GArray *pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  gsize zc_len = len * 3 / 4, pos = 0;
  while (pos < len) {
    gsize n = pos < zc_len ? (ring_test_rand (&rng) % 3 == 0 ? block :
        1 + ring_test_rand (&rng) % (block - 16)) :
        1 + ring_test_rand (&rng) % 30000;
    n = MIN (n, (pos < zc_len ? zc_len : len) - pos);
    Piece p = { pos, n };
    g_array_append_val (pieces, p);
    pos += n;
  }

  GArray *all = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  guint n_zc = 0;
  guint64 plain_bytes = 0, plain_bufs = 0;
  for (guint i = 0; i < pieces->len; i++) {
    const Piece *p = &g_array_index (pieces, Piece, i);
    GstBuffer *buf;
    gboolean zc = p->off < zc_len;
    if (zc) {
      if (pool) {
        fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buf,
                NULL), GST_FLOW_OK);
        gst_buffer_set_size (buf, p->len);
      } else {
        buf = gst_buffer_new_allocate (alloc, p->len, &params);
        fail_unless (buf != NULL);
      }
      /* Some start a few bytes into their memory. */
      if (i % 4 == 1 && p->len > 5)
        gst_buffer_resize (buf, 5, p->len - 5);
      gsize n = gst_buffer_get_size (buf);
      fail_unless_equals_int (gst_buffer_fill (buf, 0, data + p->off, n), n);
      if (n < p->len) {         /* and the rest in a second buffer */
        Piece rest = { p->off + n, p->len - n };
        g_array_index (pieces, Piece, i).len = n;
        g_array_insert_val (pieces, i + 1, rest);
        p = &g_array_index (pieces, Piece, i);
      }
      fail_unless (gst_buffer_n_memory (buf) == 1, "buffer %u (%" G_GSIZE_FORMAT
          " bytes): %u memories", i, p->len, gst_buffer_n_memory (buf));
      fail_unless (gst_memory_is_type (gst_buffer_peek_memory (buf, 0),
              "VyreArenaMemory"), "buffer %u: not GPU-readable memory", i);
      GST_BUFFER_OFFSET (buf) = p->off;
      n_zc++;
    } else {
      buf = make_buffer (data, p, 0, TRUE);
      plain_bytes += p->len;
      plain_bufs++;
    }
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    /* Blocks come back only when downstream lets go: pull as we go. */
    GstBuffer *o = gst_harness_pull (h);
    fail_unless (o != NULL, "buffer %u lost", i);
    fail_unless (gst_buffer_memcmp (o, 0, data + p->off, p->len) == 0);
    GstVyreScanMeta *m = scan_meta (o);
    fail_unless (m != NULL);
    fail_unless_equals_uint64 (m->stream_offset, p->off);
    fail_unless (m->crc32 == vyre_crc32_update (0, data + p->off, p->len),
        "buffer %u (%s memory): wrong crc32", i, zc ? "GPU" : "plain");
    check_histogram (m, data + p->off, p->len, i);
    fail_unless_equals_uint64 (m->n_dropped, 0);
    g_array_append_vals (all, m->matches, m->n_matches);
    gst_buffer_unref (o);
    if (p->off + p->len == zc_len) {
      fail_unless_equals_uint64 (get_u64 (el, "bytes-copied"), 0);
      fail_unless_equals_uint64 (get_u64 (el, "buffers-copied"), 0);
    }
  }
  fail_unless (n_zc > 4);
  compare_matches ("zero-copy", all, ref);
  fail_unless_equals_uint64 (get_u64 (el, "bytes-copied"), plain_bytes);
  fail_unless_equals_uint64 (get_u64 (el, "buffers-copied"), plain_bufs);
  GST_INFO ("%u buffers in GPU-readable memory (%s), %" G_GUINT64_FORMAT
      " plain ones (%" G_GUINT64_FORMAT " bytes copied)", n_zc,
      pool ? "pool" : "allocator", plain_bufs, plain_bytes);

  g_array_unref (all);
  if (pool) {
    fail_unless (gst_buffer_pool_set_active (pool, FALSE));
    gst_object_unref (pool);
  }
  gst_clear_object (&alloc);
  gst_harness_teardown (h);
  gst_object_unref (el);
  g_array_unref (pieces);
  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_START_TEST (test_zero_copy)
{
  zero_copy_run (0);
  zero_copy_run (4096);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 10. errors                                                          */

/* Try READY->PAUSED on a lone element; it must fail and post an error
 * whose message or debug text contains every string in want. */
static void
expect_start_error (GstElement * el, const char *const *want)
{
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (el, bus);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message posted");
  GError *err = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (msg, &err, &dbg);
  gchar *text = g_strdup_printf ("%s\n%s", err->message, dbg ? dbg : "");
  GST_INFO ("error: %s", text);
  for (guint i = 0; want[i]; i++)
    fail_unless (strstr (text, want[i]) != NULL, "the error does not "
        "mention \"%s\": %s", want[i], text);
  g_free (text);
  g_free (dbg);
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (el, NULL);
  gst_object_unref (bus);
}

GST_START_TEST (test_errors)
{
  /* No patterns at all (scan is in the default ops). */
  GstElement *el = make_scan (NULL);
  const char *no_pat[] = { "Fix", "patterns", NULL };
  expect_start_error (el, no_pat);
  gst_object_unref (el);

  /* A patterns file that does not exist. */
  gchar *dir = g_dir_make_tmp ("vyrescan-XXXXXX", NULL);
  fail_unless (dir != NULL);
  gchar *missing = g_build_filename (dir, "no-such-patterns.txt", NULL);
  el = make_scan (NULL);
  g_object_set (el, "patterns-file", missing, NULL);
  const char *no_file[] = { missing, "Fix", NULL };
  expect_start_error (el, no_file);
  gst_object_unref (el);

  /* A bad escape on line 3 (line 1 a comment, line 2 fine). */
  gchar *bad = g_build_filename (dir, "bad.txt", NULL);
  fail_unless (g_file_set_contents (bad, "# secrets\npassword\nab\\qcd\n", -1,
          NULL));
  el = make_scan (NULL);
  g_object_set (el, "patterns-file", bad, NULL);
  gchar *line3 = g_strdup_printf ("%s:3:", bad);
  const char *bad_esc[] = { line3, "Fix", NULL };
  expect_start_error (el, bad_esc);
  gst_object_unref (el);
  g_free (line3);
  g_unlink (bad);
  g_free (bad);
  g_rmdir (dir);
  g_free (missing);
  g_free (dir);

  /* One stored match per buffer on dense data: the rest are counted. */
  guint64 rng = test_seed () ^ 0xa0;
  GPtrArray *pats = dense_patterns ();
  gsize len = scaled (64 * KIB, 16 * KIB);
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  static const gsize cycle[] = { 4097, 1, 20000, SZ_RANDOM };
  GArray *pieces = cut_stream (&rng, len, cycle, 4, 9000);
  el = make_scan (pats);
  g_object_set (el, "max-matches-per-buffer", 1, NULL);
  GstHarness *h = harness_for (el, 0);
  GPtrArray *out = push_and_pull (h, data, pieces, 0, TRUE);
  guint64 total_dropped = 0, total = 0;
  for (guint i = 0; i < out->len; i++) {
    const Piece *p = &g_array_index (pieces, Piece, i);
    GstVyreScanMeta *m = scan_meta (out->pdata[i]);
    fail_unless (m != NULL);
    /* Reference matches that end in this buffer. */
    guint64 expect = 0;
    for (guint k = 0; k < ref->len; k++) {
      VyreRefMatch *e = &g_array_index (ref, VyreRefMatch, k);
      guint64 end = e->start + g_bytes_get_size (pats->pdata[e->pattern_id]);
      if (end > p->off && end <= p->off + p->len)
        expect++;
    }
    fail_unless (m->n_matches <= 1, "buffer %u stored %u matches", i,
        m->n_matches);
    /* Per pattern: stored + not stored = the reference, exactly. */
    guint64 *want = g_new0 (guint64, pats->len);
    guint64 *have = g_new0 (guint64, pats->len);
    for (guint k = 0; k < ref->len; k++) {
      VyreRefMatch *e = &g_array_index (ref, VyreRefMatch, k);
      guint64 end = e->start + g_bytes_get_size (pats->pdata[e->pattern_id]);
      if (end > p->off && end <= p->off + p->len)
        want[e->pattern_id]++;
    }
    for (guint k = 0; k < m->n_matches; k++)
      have[m->matches[k].pattern_id]++;
    guint64 not_stored = 0;
    for (guint k = 0; k < m->n_not_stored; k++) {
      fail_unless (m->not_stored[k].pattern_id < pats->len);
      fail_unless (k == 0 || m->not_stored[k - 1].pattern_id <
          m->not_stored[k].pattern_id, "buffer %u: not_stored unsorted", i);
      have[m->not_stored[k].pattern_id] += m->not_stored[k].count;
      not_stored += m->not_stored[k].count;
    }
    fail_unless_equals_uint64 (not_stored, m->n_dropped);
    check_counts ("max-matches-per-buffer 1", m, pats->len, i);
    for (guint k = 0; k < pats->len; k++)
      fail_unless (have[k] == want[k], "buffer %u pattern %u: %"
          G_GUINT64_FORMAT " counted, the reference has %" G_GUINT64_FORMAT,
          i, k, have[k], want[k]);
    g_free (want);
    g_free (have);
    fail_unless (m->n_matches + m->n_dropped == expect, "buffer %u: %u stored "
        "+ %" G_GUINT64_FORMAT " dropped != %" G_GUINT64_FORMAT
        " in the reference", i, m->n_matches, m->n_dropped, expect);
    if (m->n_matches == 1) {
      VyreRefMatch key = { m->matches[0].offset, m->matches[0].pattern_id };
      fail_unless (bsearch (&key, ref->data, ref->len, sizeof key,
              vyre_ref_match_compare) != NULL, "buffer %u stored a match "
          "the reference does not have", i);
    }
    fail_unless (m->crc32 == vyre_crc32_update (0, data + p->off, p->len));
    total_dropped += m->n_dropped;
    total += m->n_matches + m->n_dropped;
  }
  fail_unless (total_dropped > 0);
  fail_unless_equals_uint64 (total, ref->len);
  g_ptr_array_unref (out);
  gst_harness_teardown (h);
  gst_object_unref (el);
  g_array_unref (pieces);
  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */
/* 11. downstream error while the chain waits for job contexts          */

static GstFlowReturn
refuse_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  (void) pad;
  (void) parent;
  gst_buffer_unref (buf);
  return GST_FLOW_ERROR;
}

/* Downstream fails the first buffer; the src task stops, and the jobs it
 * had not collected keep their contexts.  A chain publishing a buffer cut
 * into many jobs (2 contexts, job-size 256) must then return the error,
 * not wait for contexts forever (it did, until a CI run with a cold
 * shader cache made the task stop on a timeout). */
GST_START_TEST (test_downstream_error)
{
  guint64 rng = test_seed () ^ 0xde;
  GPtrArray *pats = dense_patterns ();
  gsize len = 64 * KIB;
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  GstElement *el = make_scan (pats);
  g_object_set (el, "ring-slots", 2, "job-size", 256, NULL);
  GstHarness *h = harness_for (el, 0);
  gst_pad_set_chain_function (h->sinkpad, refuse_chain);
  Piece head = { 0, 100 }, tail = { 100, len - 100 };
  fail_unless_equals_int (gst_harness_push (h, make_buffer (data, &head, 0,
              TRUE)), GST_FLOW_OK);
  /* ~250 jobs: the chain waits for contexts while the task fails */
  GstFlowReturn ret = gst_harness_push (h, make_buffer (data, &tail, 0, TRUE));
  fail_unless (ret == GST_FLOW_ERROR, "push returned %s, expected error",
      gst_flow_get_name (ret));
  gst_harness_teardown (h);
  gst_object_unref (el);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* 12. every match at defaults, however dense                          */

/* English-like words, so `e`, `ee` and `the` match everywhere, and runs
 * of zero bytes (5 to 300 long) where `\x00\x00\x00\x00` matches at every
 * position but the first three of a run. */
static guint8 *
make_words (guint64 * rng, gsize len)
{
  static const char *words[] = { "the", "tree", "between", "see", "eeee",
    "they", "there", "keep", "teeth", "a", "of", "scan", "three", "e"
  };
  guint8 *d = g_malloc (len);
  gsize pos = 0;
  while (pos < len) {
    guint64 r = ring_test_rand (rng);
    if (r % 50 == 0) {
      gsize run = 5 + (r >> 8) % 296;
      for (gsize k = 0; k < run && pos < len; k++)
        d[pos++] = 0;
      continue;
    }
    const char *w = words[(r >> 8) % G_N_ELEMENTS (words)];
    for (gsize k = 0; w[k] && pos < len; k++)
      d[pos++] = (guint8) w[k];
    if (pos < len)
      d[pos++] = (r >> 20) % 7 ? ' ' : '\n';
  }
  return d;
}

/* Scan data with el (patterns set), buffers cut by `cycle`, and compare
 * every buffer and every match with the reference (verify_stream: nothing
 * dropped).  Returns the reference's number of matches. */
static guint
scan_and_verify (const char *what, GstElement * el, const guint8 * data,
    gsize len, GPtrArray * pats, const gsize * cycle, guint ncycle,
    guint64 * rng)
{
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  GArray *pieces = cut_stream (rng, len, cycle, ncycle, 300000);
  GPtrArray *out = scan_stream (what, el, data, pieces, 0, TRUE, pats, ref);
  guint n = ref->len;
  GST_INFO ("%s: %u matches in %" G_GSIZE_FORMAT " bytes", what, n, len);
  g_ptr_array_unref (out);
  g_array_unref (pieces);
  g_array_unref (ref);
  return n;
}

/* scan_and_verify with vyrescan at its defaults (no
 * max-matches-per-buffer, its own ring geometry) on dense data. */
static void
scan_dense_at_defaults (const char *what, const guint8 * data, gsize len,
    GPtrArray * pats, const gsize * cycle, guint ncycle, guint64 * rng)
{
  GstElement *el = gst_element_factory_make ("vyrescan", NULL);
  set_patterns (el, pats);
  guint n = scan_and_verify (what, el, data, len, pats, cycle, ncycle, rng);
  fail_unless (n > len / 8, "%s: the data is not dense: %u matches", what, n);
  gst_object_unref (el);
}

GST_START_TEST (test_every_match)
{
  guint64 rng = test_seed () ^ 0xe7e7;
  GPtrArray *pats = patterns_new ();
  patterns_add (pats, "e", 0);
  patterns_add (pats, "ee", 0);
  patterns_add (pats, "the", 0);
  patterns_add (pats, "\0\0\0\0", 4);
  gsize len = scaled (3 * MIB, 256 * KIB);
  guint8 *data = make_words (&rng, len);
  static const gsize big[] = { 1048576, 700001, SZ_RANDOM };
  /* At the element's defaults: a lane's records overflow on this text, so
   * jobs are scanned again in pieces. */
  scan_dense_at_defaults ("defaults", data, len, pats, big, 3, &rng);
  /* Several expansion workers finishing out of order: buffers still come
   * out in order, each with its own matches. */
  g_setenv ("VYRE_EXPAND_WORKERS", "4", TRUE);
  static const gsize small[] = { 65536, 4097, SZ_RANDOM };
  scan_dense_at_defaults ("four expansion workers", data, MIN (len, MIB),
      pats, small, 3, &rng);
  g_unsetenv ("VYRE_EXPAND_WORKERS");
  /* One record per lane: nearly every job and many of its pieces overflow
   * (pieces split again), with carry from the window and the arena. */
  g_setenv ("VYRE_EVENTS_PER_LANE", "1", TRUE);
  static const gsize mixed[] = { 4097, 1, 65536, SZ_RANDOM, 262144 + 3 };
  scan_dense_at_defaults ("one record per lane", data, MIN (len, 192 * KIB),
      pats, mixed, 5, &rng);
  g_unsetenv ("VYRE_EVENTS_PER_LANE");
  /* Buffers of several jobs: their jobs are grouped (each worker copies
   * its matches to their place in the buffer's array) or, at the head of
   * the queue, let go one by one; with one record per lane some jobs of a
   * group are scanned again on the task. */
  g_setenv ("VYRE_EXPAND_WORKERS", "4", TRUE);
  static const gsize blocks[] = { 65536, 65536 * 3 + 17, SZ_RANDOM };
  GstElement *el = gst_element_factory_make ("vyrescan", NULL);
  set_patterns (el, pats);
  g_object_set (el, "job-size", 4096, NULL);
  scan_and_verify ("jobs of 4 KiB", el, data, MIN (len, MIB), pats, blocks,
      3, &rng);
  g_setenv ("VYRE_EVENTS_PER_LANE", "1", TRUE);
  scan_and_verify ("jobs of 4 KiB, one record per lane", el, data,
      MIN (len, 256 * KIB), pats, blocks, 3, &rng);
  g_unsetenv ("VYRE_EVENTS_PER_LANE");
  gst_object_unref (el);
  /* A long match across two jobs starts before short ones at the end of
   * the first job: where the jobs meet, the order must be mended. */
  GPtrArray *cross = patterns_new ();
  patterns_add (cross, "abcdefg", 0);
  patterns_add (cross, "b", 0);
  patterns_add (cross, "cde", 0);
  gsize clen = 300 * KIB;
  guint8 *periodic = g_malloc (clen);
  for (gsize i = 0; i < clen; i++)
    periodic[i] = "abcdefg"[i % 7];
  el = gst_element_factory_make ("vyrescan", NULL);
  set_patterns (el, cross);
  g_object_set (el, "job-size", 4096, NULL);
  scan_and_verify ("jobs of 4 KiB, matches across them", el, periodic, clen,
      cross, blocks, 3, &rng);
  gst_object_unref (el);
  g_free (periodic);
  g_ptr_array_unref (cross);
  g_unsetenv ("VYRE_EXPAND_WORKERS");
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* The largest block-size on a CPU device: buffers of several MiB are cut
 * into jobs of at most 4 MiB there (lavapipe's loop limiter bounds what one
 * job may cost), so the footprint is the jobs', not 32 blocks of 64 MiB. */
GST_START_TEST (test_largest_block_size)
{
  guint64 rng = test_seed () ^ 0xb10c;
  GPtrArray *pats = dense_patterns ();
  gsize len = 5 * MIB + 12345;
  guint8 *data = make_data (&rng, len, "abcehirs", pats);
  static const gsize whole[] = { 5 * MIB + 12345 };
  GstElement *el = gst_element_factory_make ("vyrescan", NULL);
  set_patterns (el, pats);
  g_object_set (el, "block-size", 64 << 20, NULL);
  scan_and_verify ("block-size 64 MiB", el, data, len, pats, whole, 1, &rng);
  gst_object_unref (el);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* Dense matches: jobs shrink until their events fit their records, so
 * only the first ones (and one after each regrowth) are scanned again in
 * pieces; every match is still reported. */
GST_START_TEST (test_job_size_follows_density)
{
  guint64 rng = test_seed () ^ 0xd0d0;
  GPtrArray *pats = patterns_new ();
  patterns_add (pats, "e", 0);
  patterns_add (pats, "ee", 0);
  patterns_add (pats, "the", 0);
  gsize len = scaled (1 * MIB, 256 * KIB);
  guint8 *data = make_words (&rng, len);
  static const gsize cycle[] = { 32768 };
  /* 16 records per lane: a job of 1,024 bytes always fits.  4 slots: the
   * size adapts as completions come back, after the jobs in flight. */
  g_setenv ("VYRE_EVENTS_PER_LANE", "16", TRUE);
  GstElement *el = gst_element_factory_make ("vyrescan", NULL);
  set_patterns (el, pats);
  g_object_set (el, "ring-slots", 4, NULL);
  scan_and_verify ("dense", el, data, len, pats, cycle, 1, &rng);
  g_unsetenv ("VYRE_EVENTS_PER_LANE");
  guint64 jobs = 0, again = 0;
  g_object_get (el, "jobs", &jobs, "jobs-scanned-again", &again, NULL);
  GST_INFO ("%" G_GUINT64_FORMAT " jobs, %" G_GUINT64_FORMAT
      " scanned again", jobs, again);
  fail_unless (again > 0, "no job outgrew its record: the data is not dense");
  fail_unless (again * 8 <= jobs, "%" G_GUINT64_FORMAT " of %"
      G_GUINT64_FORMAT " jobs were scanned again: the job size did not "
      "follow the density", again, jobs);
  gst_object_unref (el);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

/* store-matches=false: nothing stored, every match counted per pattern. */
GST_START_TEST (test_count_only)
{
  guint64 rng = test_seed () ^ 0xc0c0;
  GPtrArray *pats = patterns_new ();
  patterns_add (pats, "e", 0);
  patterns_add (pats, "the", 0);
  patterns_add (pats, "zzzz", 0);
  gsize len = scaled (1 * MIB, 128 * KIB);
  guint8 *data = make_words (&rng, len);
  GArray *ref = vyre_scan_reference_find (pats, FALSE, data, len, 0);
  guint64 want[3] = { 0 }, have[3] = { 0 };
  for (guint k = 0; k < ref->len; k++)
    want[g_array_index (ref, VyreRefMatch, k).pattern_id]++;
  static const gsize cycle[] = { 100000, SZ_RANDOM };
  GArray *pieces = cut_stream (&rng, len, cycle, 2, 200000);
  GstElement *el = gst_element_factory_make ("vyrescan", NULL);
  set_patterns (el, pats);
  g_object_set (el, "store-matches", FALSE, NULL);
  GstHarness *h = harness_for (el, 0);
  GPtrArray *out = push_and_pull (h, data, pieces, 0, TRUE);
  guint64 total = 0;
  for (guint i = 0; i < out->len; i++) {
    GstVyreScanMeta *m = scan_meta (out->pdata[i]);
    fail_unless (m != NULL);
    fail_unless_equals_int (m->n_matches, 0);
    check_counts ("store-matches false", m, pats->len, i);
    for (guint k = 0; k < m->n_not_stored; k++)
      have[m->not_stored[k].pattern_id] += m->not_stored[k].count;
    total += m->n_dropped;
  }
  for (guint k = 0; k < 3; k++)
    fail_unless (have[k] == want[k], "pattern %u: %" G_GUINT64_FORMAT
        " counted, the reference has %" G_GUINT64_FORMAT, k, have[k], want[k]);
  fail_unless_equals_uint64 (total, ref->len);
  g_ptr_array_unref (out);
  gst_harness_teardown (h);
  gst_object_unref (el);
  g_array_unref (pieces);
  g_array_unref (ref);
  g_free (data);
  g_ptr_array_unref (pats);
}

GST_END_TEST;

static Suite *
vyrescan_suite (void)
{
  Suite *s = suite_create ("vyrescan");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_downstream_error);
  tcase_add_test (tc, test_correctness);
  tcase_add_test (tc, test_ignore_case);
  tcase_add_test (tc, test_backpressure);
  tcase_add_test (tc, test_flush_blocked);
  tcase_add_test (tc, test_eos_drain);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_zero_copy);
  tcase_add_test (tc, test_many_buffers);
  tcase_add_test (tc, test_every_match);
  tcase_add_test (tc, test_job_size_follows_density);
  tcase_add_test (tc, test_largest_block_size);
  tcase_add_test (tc, test_count_only);
  return s;
}

int
main (int argc, char **argv)
{
  /* Objects left alive are reported (and fail the test) at exit; the
   * state-change test also asks the tracer directly. */
  g_setenv ("GST_TRACERS", "leaks", FALSE);
  gst_check_init (&argc, &argv);

  GError *err = NULL;
  VyreDevice *dev = vyre_device_open (-1, &err);
  if (dev == NULL) {
    g_print ("SKIP: no Vulkan device: %s\n", err ? err->message : "?");
    g_clear_error (&err);
    return 77;
  }
  g_print ("device: %s (%s)\n", vyre_device_name (dev),
      vyre_device_driver (dev));
  vyre_device_unref (dev);
  test_seed ();

  return gst_check_run_suite (vyrescan_suite (), "vyrescan", __FILE__);
}
