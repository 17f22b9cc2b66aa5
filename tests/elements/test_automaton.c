/*
 * test_automaton.c - the compiled scan table (vyre-automaton.h), run on
 * the CPU, against the naive reference scanner (vyre-scan-reference.h),
 * plus the straddling contract: any split of a stream into buffers, each
 * fed with the previous max_len - 1 bytes as carry, reports exactly the
 * one-buffer matches.
 */
#include <string.h>

#include "ring_test_util.h"
#include "vyre-automaton.h"
#include "vyre-crc32.h"
#include "vyre-scan-reference.h"

static GPtrArray *
new_set (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

static void
add (GPtrArray * set, const void *p, gsize n)
{
  g_ptr_array_add (set, g_bytes_new (p, n));
}

#define ADD(set, lit) add (set, lit, sizeof (lit) - 1)

static void
collect (guint32 id, guint64 start, gpointer user_data)
{
  VyreRefMatch m = { start, id };
  g_array_append_val ((GArray *) user_data, m);
}

static GArray *
scan_one (const VyreAutomaton * a, const guint8 * data, gsize len,
    guint64 offset)
{
  GArray *got = g_array_new (FALSE, FALSE, sizeof (VyreRefMatch));
  guint64 n = vyre_automaton_scan_cpu (a->words, data, len, offset, NULL, 0,
      collect, got);
  CHECK_EQ_U64 (n, got->len);
  g_array_sort (got, vyre_ref_match_compare);
  return got;
}

/* Equal match lists, or one line explaining the first difference. */
static gboolean
same_matches (GArray * got, GArray * want, const char *what)
{
  guint n = MIN (got->len, want->len);

  for (guint i = 0; i < n; i++) {
    VyreRefMatch *g = &g_array_index (got, VyreRefMatch, i);
    VyreRefMatch *w = &g_array_index (want, VyreRefMatch, i);
    if (g->start != w->start || g->pattern_id != w->pattern_id) {
      ring_test_failures++;
      fprintf (stderr, "%s: match %u is (start %" G_GUINT64_FORMAT ", id %u),"
          " expected (start %" G_GUINT64_FORMAT ", id %u); %u vs %u matches\n",
          what, i, g->start, g->pattern_id, w->start, w->pattern_id,
          got->len, want->len);
      return FALSE;
    }
  }
  if (got->len != want->len) {
    ring_test_failures++;
    fprintf (stderr, "%s: %u matches, expected %u\n", what, got->len,
        want->len);
    return FALSE;
  }
  return TRUE;
}

/* Structural invariants of a table, independent of scanning. */
static void
check_table (const VyreAutomaton * a, GPtrArray * set, gboolean ignore_case)
{
  const guint32 *w = a->words;
  guint32 ns = w[VYRE_TABLE_NSTATES], nc = w[VYRE_TABLE_NCLASSES];
  guint32 np = w[VYRE_TABLE_NPATTERNS];
  const guint32 *cm = w + w[VYRE_TABLE_CLASS_MAP_OFF];
  const guint32 *tr = w + w[VYRE_TABLE_TRANS_OFF];
  const guint32 *oi = w + w[VYRE_TABLE_OUT_INDEX_OFF];
  const guint32 *pl = w + w[VYRE_TABLE_PATTERN_LEN_OFF];
  const guint32 *cs = w + w[VYRE_TABLE_CRC_SHIFT_OFF];
  guint32 nout, max_len = 0;
  gboolean used[256] = { FALSE };
  /* every section [off, off + size) inside the table, none overlapping */
  struct {
    guint64 off, size;
  } sec[6];
  int bad = ring_test_failures;

  CHECK_EQ_U64 (w[VYRE_TABLE_MAGIC_WORD], VYRE_TABLE_MAGIC);
  CHECK_EQ_U64 (w[VYRE_TABLE_TOTAL_WORDS], a->n_words);
  CHECK_EQ_U64 (np, set->len);
  CHECK_EQ_U64 (w[VYRE_TABLE_FLAGS],
      ignore_case ? VYRE_TABLE_FLAG_IGNORE_CASE : 0);
  for (guint k = 13; k < VYRE_TABLE_HEADER_WORDS; k++)
    CHECK_EQ_U64 (w[k], 0);
  nout = oi[ns];
  sec[0].off = w[VYRE_TABLE_CLASS_MAP_OFF];
  sec[0].size = 256;
  sec[1].off = w[VYRE_TABLE_TRANS_OFF];
  sec[1].size = (guint64) ns * nc;
  sec[2].off = w[VYRE_TABLE_OUT_INDEX_OFF];
  sec[2].size = ns + 1;
  sec[3].off = w[VYRE_TABLE_OUT_LIST_OFF];
  sec[3].size = nout;
  sec[4].off = w[VYRE_TABLE_PATTERN_LEN_OFF];
  sec[4].size = np;
  sec[5].off = w[VYRE_TABLE_CRC_SHIFT_OFF];
  sec[5].size = VYRE_CRC32_SHIFT_ENTRIES;
  {
    guint64 sum = VYRE_TABLE_HEADER_WORDS;
    for (int i = 0; i < 6; i++) {
      CHECK (sec[i].off >= VYRE_TABLE_HEADER_WORDS);
      CHECK (sec[i].off + sec[i].size <= a->n_words);
      for (int j = 0; j < i; j++)
        CHECK (sec[i].off + sec[i].size <= sec[j].off
            || sec[j].off + sec[j].size <= sec[i].off);
      sum += sec[i].size;
    }
    CHECK_EQ_U64 (sum, a->n_words);     /* no gaps either */
  }
  if (ring_test_failures != bad)
    return;                     /* the rest would read out of bounds */

  /* class map: pattern bytes get distinct non-zero classes, other bytes
   * class 0; ignore-case puts A-Z in the class of a-z */
  for (guint i = 0; i < set->len; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (g_ptr_array_index (set, i), &len);
    for (gsize k = 0; k < len; k++)
      used[ignore_case ? (guint8) g_ascii_tolower (p[k]) : p[k]] = TRUE;
    CHECK_EQ_U64 (pl[i], len);
    max_len = MAX (max_len, len);
  }
  CHECK_EQ_U64 (w[VYRE_TABLE_MAX_PATTERN_LEN], max_len);
  for (guint b = 0; b < 256; b++) {
    guint f = ignore_case ? (guint8) g_ascii_tolower (b) : b;
    CHECK (cm[b] < nc);
    CHECK ((cm[b] != 0) == used[f]);
    if (ignore_case && b >= 'A' && b <= 'Z')
      CHECK_EQ_U64 (cm[b], cm[b + 32]);
    for (guint b2 = 0; b2 < b; b2++) {
      guint f2 = ignore_case ? (guint8) g_ascii_tolower (b2) : b2;
      if (cm[b] != 0 && cm[b] == cm[b2])
        CHECK (f == f2);
    }
  }
  /* CSR monotone; out_list holds valid ids; HAS_OUTPUT exactly where the
   * target state has outputs */
  CHECK_EQ_U64 (oi[0], 0);
  for (guint32 s = 0; s < ns; s++)
    CHECK (oi[s] <= oi[s + 1]);
  for (guint32 k = 0; k < nout; k++)
    CHECK (w[w[VYRE_TABLE_OUT_LIST_OFF] + k] < np);
  for (guint64 k = 0; k < (guint64) ns * nc; k++) {
    guint32 t = tr[k] & VYRE_TRANS_STATE_MASK;
    CHECK (t < ns);
    if (t < ns)
      CHECK (((tr[k] & VYRE_TRANS_HAS_OUTPUT) != 0) == (oi[t + 1] != oi[t]));
  }
  CHECK (memcmp (cs, vyre_crc32_shift_table (),
          VYRE_CRC32_SHIFT_ENTRIES * 4) == 0);
}

/* Compile, check, scan data in one buffer and compare with the naive
 * reference.  Returns the automaton for further use (or NULL). */
static VyreAutomaton *
compile_and_compare (GPtrArray * set, gboolean ignore_case,
    const guint8 * data, gsize len, const char *what)
{
  GError *err = NULL;
  VyreAutomaton *a = vyre_automaton_compile (set, ignore_case, 0, &err);
  GArray *got, *want;
  guint64 offset = 1000003;     /* offsets are absolute, not 0-based */

  if (a == NULL) {
    ring_test_failures++;
    fprintf (stderr, "%s: compile failed: %s\n", what, err->message);
    g_error_free (err);
    return NULL;
  }
  check_table (a, set, ignore_case);
  got = scan_one (a, data, len, offset);
  want = vyre_scan_reference_find (set, ignore_case, data, len, offset);
  same_matches (got, want, what);
  g_array_unref (got);
  g_array_unref (want);
  return a;
}

static void
test_classic (void)
{
  g_autoptr (GPtrArray) set = new_set ();
  g_autoptr (VyreAutomaton) a = NULL;
  static const VyreRefMatch want[] = { {1, 1}, {2, 0}, {2, 2} };
  const guint8 *text = (const guint8 *) "ushers";
  g_autoptr (GArray) got = NULL;

  ADD (set, "he");
  ADD (set, "she");
  ADD (set, "hers");
  ADD (set, "his");
  a = compile_and_compare (set, FALSE, text, 6, "ushers");
  if (a == NULL)
    return;
  /* 4 patterns use e h i r s: 5 classes + the "other" class; the trie
   * has 10 states (root h he her hers hi his s sh she) */
  CHECK_EQ_U64 (a->words[VYRE_TABLE_NCLASSES], 6);
  CHECK_EQ_U64 (a->words[VYRE_TABLE_NSTATES], 10);
  CHECK_EQ_U64 (a->words[VYRE_TABLE_MAX_PATTERN_LEN], 4);
  got = scan_one (a, text, 6, 0);
  CHECK_EQ_U64 (got->len, 3);
  for (guint i = 0; i < MIN (got->len, 3); i++) {
    CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, i).start, want[i].start);
    CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, i).pattern_id,
        want[i].pattern_id);
  }
}

/* Hand-picked sets: prefixes/suffixes of each other, duplicates, single
 * bytes, NUL and 0xFF. */
static void
test_special_sets (guint64 * rng)
{
  gsize n = (gsize) ring_test_scaled (20000);
  guint8 *data = g_malloc (n);
  static const guint8 alpha[] = { 'a', 'b', 'c', 0x00, 0xff, 'A' };

  for (gsize i = 0; i < n; i++)
    data[i] = alpha[ring_test_rand (rng) % sizeof alpha];

  for (int ic = 0; ic < 2; ic++) {
    g_autoptr (GPtrArray) set = new_set ();
    VyreAutomaton *a;
    /* a chain of prefixes and a chain of suffixes */
    ADD (set, "a");
    ADD (set, "aa");
    ADD (set, "aaa");
    ADD (set, "aaaa");
    ADD (set, "abc");
    ADD (set, "bc");
    ADD (set, "c");
    /* duplicates: every id reports its own matches */
    ADD (set, "ab");
    ADD (set, "ab");
    ADD (set, "aA");
    /* NUL and 0xFF bytes, single bytes */
    ADD (set, "\x00");
    ADD (set, "\xff");
    ADD (set, "\x00\xff\x00");
    ADD (set, "\xff\xff");
    ADD (set, "c\x00" "a");
    a = compile_and_compare (set, ic, data, n,
        ic ? "special sets, ignore-case" : "special sets");
    vyre_automaton_free (a);
  }

  /* ignore-case is ASCII only: 0xC4/0xE4 (Latin-1 A/a umlaut) differ */
  {
    g_autoptr (GPtrArray) set = new_set ();
    g_autoptr (VyreAutomaton) a = NULL;
    const guint8 text[] = "\xe4\xc4HeLLo hello HELLO";
    ADD (set, "\xc4");
    ADD (set, "hello");
    a = compile_and_compare (set, TRUE, text, sizeof text - 1, "latin-1");
    if (a) {
      g_autoptr (GArray) got = scan_one (a, text, sizeof text - 1, 0);
      CHECK_EQ_U64 (got->len, 4);       /* one \xc4, three hellos */
    }
  }
  g_free (data);
}

typedef struct {
  const char *name;
  const guint8 *alphabet;       /* NULL: all 256 bytes */
  gsize alphabet_len;
  gsize max_len;
  gboolean ignore_case;
} RandomCase;

static GPtrArray *
random_set (guint64 * rng, const RandomCase * rc, guint npatterns,
    const guint8 * data, gsize len)
{
  GPtrArray *set = new_set ();

  for (guint i = 0; i < npatterns; i++) {
    gsize plen = 1 + ring_test_rand (rng) % rc->max_len;
    guint8 buf[64];
    guint64 kind = ring_test_rand (rng) % 4;
    if (kind == 0 && plen <= len) {
      /* a piece of the data, so even random bytes give matches */
      memcpy (buf, data + ring_test_rand (rng) % (len - plen + 1), plen);
    } else if (kind == 1 && set->len > 0) {
      /* a prefix, suffix or copy of an earlier pattern */
      gsize olen;
      const guint8 *o = g_bytes_get_data (g_ptr_array_index (set,
              ring_test_rand (rng) % set->len), &olen);
      gsize cut = 1 + ring_test_rand (rng) % olen;
      plen = cut;
      memcpy (buf, (ring_test_rand (rng) & 1) ? o : o + olen - cut, cut);
    } else {
      for (gsize k = 0; k < plen; k++) {
        guint64 v = ring_test_rand (rng);
        buf[k] = rc->alphabet ? rc->alphabet[v % rc->alphabet_len]
            : (guint8) v;
      }
    }
    if (rc->ignore_case)        /* mixed-case patterns */
      for (gsize k = 0; k < plen; k++)
        if (ring_test_rand (rng) & 1)
          buf[k] = g_ascii_toupper (buf[k]);
    add (set, buf, plen);
  }
  return set;
}

static void
random_data (guint64 * rng, const RandomCase * rc, guint8 * data, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    guint64 v = ring_test_rand (rng);
    data[i] = rc->alphabet ? rc->alphabet[v % rc->alphabet_len] : (guint8) v;
    if (rc->ignore_case && (v >> 40) % 3 == 0)
      data[i] = g_ascii_toupper (data[i]);
  }
}

/* Feed data as buffers of the sizes next_size() gives, each with the
 * carry the contract asks for (carry_extra more if non-zero), and return
 * the sorted union of matches. */
static GArray *
scan_split (const VyreAutomaton * a, const guint8 * data, gsize len,
    guint64 base, gsize fixed_size, guint64 * rng, gsize carry_extra)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (VyreRefMatch));
  gsize max_carry = a->words[VYRE_TABLE_MAX_PATTERN_LEN] - 1 + carry_extra;
  gsize pos = 0;

  while (pos < len) {
    gsize size = fixed_size ? fixed_size : 1 + ring_test_rand (rng) % 300;
    gsize carry = MIN (max_carry, pos);
    size = MIN (size, len - pos);
    vyre_automaton_scan_cpu (a->words, data + pos, size, base + pos,
        data + pos - carry, carry, collect, all);
    pos += size;
  }
  g_array_sort (all, vyre_ref_match_compare);
  return all;
}

static void
check_straddling (const VyreAutomaton * a, const guint8 * data, gsize len,
    guint64 * rng, const char *name)
{
  static const gsize sizes[] = { 1, 2, 3, 7, 4097, 0 /* random */ };
  guint64 base = 5ull << 32;    /* offsets beyond 32 bits */
  g_autoptr (GArray) whole = scan_one (a, data, len, base);

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++) {
    g_autoptr (GArray) split = scan_split (a, data, len, base, sizes[i], rng,
        0);
    char what[160];
    g_snprintf (what, sizeof what, "%s, buffers of %s%zu bytes", name,
        sizes[i] ? "" : "random <= 300, now ", sizes[i]);
    /* same sorted list: nothing missing, nothing twice */
    same_matches (split, whole, what);
  }
  /* more carry than needed changes nothing (carry never reports) */
  {
    g_autoptr (GArray) split = scan_split (a, data, len, base, 0, rng, 50);
    same_matches (split, whole, "extra carry");
  }
}

static void
test_random (guint64 * rng)
{
  static const guint8 ab[] = "ab", abcd[] = "abcd", text[] = "aBcxYz";
  static const guint8 nul_ff[] = { 0x00, 0xff, 'a' };
  static const RandomCase cases[] = {
    {"alphabet ab", ab, 2, 10, FALSE},
    {"alphabet abcd", abcd, 4, 12, FALSE},
    {"bytes 00 ff a", nul_ff, 3, 8, FALSE},
    {"random bytes", NULL, 0, 16, FALSE},
    {"ignore-case letters", text, 6, 8, TRUE},
    {"ignore-case bytes", NULL, 0, 6, TRUE},
  };
  static const guint counts[] = { 1, 32, 1000 };

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++) {
    for (gsize k = 0; k < G_N_ELEMENTS (counts); k++) {
      /* the naive reference costs len x patterns: fewer bytes for
       * bigger sets keeps every case well under a second */
      gsize len = (gsize) ring_test_scaled (counts[k] >= 1000 ? 16384
          : 65536);
      guint8 *data = g_malloc (len);
      GPtrArray *set;
      VyreAutomaton *a;
      char what[128];

      random_data (rng, &cases[c], data, len);
      set = random_set (rng, &cases[c], counts[k], data, len);
      g_snprintf (what, sizeof what, "%s, %u patterns", cases[c].name,
          counts[k]);
      a = compile_and_compare (set, cases[c].ignore_case, data, len, what);
      if (a) {
        /* the straddling runs use a shorter stream: buffers of 1 byte
         * each re-scan the carry */
        check_straddling (a, data, MIN (len, (gsize) ring_test_scaled (12000)),
            rng, what);
        vyre_automaton_free (a);
      }
      g_ptr_array_unref (set);
      g_free (data);
    }
  }
}

/* The straddling test must be able to fail: with no carry, a match
 * across a boundary is lost. */
static void
test_carry_is_needed (void)
{
  g_autoptr (GPtrArray) set = new_set ();
  g_autoptr (VyreAutomaton) a = NULL;
  const guint8 *text = (const guint8 *) "xxabcxx";
  guint64 n;

  ADD (set, "abc");
  a = vyre_automaton_compile (set, FALSE, 0, NULL);
  CHECK (a != NULL);
  if (!a)
    return;
  /* split "xxab" | "cxx": without carry, nothing; with 2 bytes, one
   * match reported by the second buffer at its absolute start */
  n = vyre_automaton_scan_cpu (a->words, text, 4, 0, NULL, 0, NULL, NULL);
  CHECK_EQ_U64 (n, 0);
  n = vyre_automaton_scan_cpu (a->words, text + 4, 3, 4, NULL, 0, NULL, NULL);
  CHECK_EQ_U64 (n, 0);
  {
    g_autoptr (GArray) got = g_array_new (FALSE, FALSE,
        sizeof (VyreRefMatch));
    n = vyre_automaton_scan_cpu (a->words, text + 4, 3, 4, text + 2, 2,
        collect, got);
    CHECK_EQ_U64 (n, 1);
    if (got->len == 1) {
      CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, 0).start, 2);
      CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, 0).pattern_id, 0);
    }
  }
  /* a match entirely inside the carry is not reported again */
  n = vyre_automaton_scan_cpu (a->words, text + 5, 2, 5, text, 5, NULL,
      NULL);
  CHECK_EQ_U64 (n, 0);
}

/* Kernel events (state, offset of the last byte) expand to the same
 * matches; a corrupt state reports nothing. */
static void
test_expand_event (void)
{
  g_autoptr (GPtrArray) set = new_set ();
  g_autoptr (VyreAutomaton) a = NULL;
  g_autoptr (GArray) got = g_array_new (FALSE, FALSE, sizeof (VyreRefMatch));
  const guint32 *w;
  guint32 s = 0;

  ADD (set, "he");
  ADD (set, "she");
  ADD (set, "hers");
  a = vyre_automaton_compile (set, FALSE, 0, NULL);
  CHECK (a != NULL);
  if (!a)
    return;
  w = a->words;
  /* walk "she" by hand, as the kernel does */
  for (const char *p = "she"; *p; p++)
    s = w[w[VYRE_TABLE_TRANS_OFF] + s * w[VYRE_TABLE_NCLASSES]
        + w[w[VYRE_TABLE_CLASS_MAP_OFF] + (guint8) * p]]
        & VYRE_TRANS_STATE_MASK;
  CHECK_EQ_U64 (vyre_automaton_expand_event (w, s, 1002, collect, got), 2);
  if (got->len == 2) {
    /* own pattern first, then the dictionary suffix */
    CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, 0).pattern_id, 1);
    CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, 0).start, 1000);
    CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, 1).pattern_id, 0);
    CHECK_EQ_U64 (g_array_index (got, VyreRefMatch, 1).start, 1001);
  }
  CHECK_EQ_U64 (vyre_automaton_expand_event (w, 0, 5, collect, got), 0);
  CHECK_EQ_U64 (vyre_automaton_expand_event (w, w[VYRE_TABLE_NSTATES], 5,
          collect, got), 0);
  CHECK_EQ_U64 (vyre_automaton_expand_event (w, 0x7FFFFFFF, 5, collect,
          got), 0);
  CHECK_EQ_U64 (got->len, 2);
}

static void
expect_compile_error (GPtrArray * set, guint64 max_bytes, int code,
    const char *needle, int line)
{
  GError *err = NULL;
  VyreAutomaton *a = vyre_automaton_compile (set, FALSE, max_bytes, &err);

  if (a != NULL || err == NULL) {
    ring_test_failures++;
    fprintf (stderr, "line %d: compile should have failed\n", line);
    vyre_automaton_free (a);
    return;
  }
  if (err->domain != VYRE_AUTOMATON_ERROR || err->code != code
      || strstr (err->message, "Fix:") == NULL
      || (needle && strstr (err->message, needle) == NULL)) {
    ring_test_failures++;
    fprintf (stderr, "line %d: unexpected error (code %d, wanted %d, "
        "\"%s\"): %s\n", line, err->code, code, needle ? needle : "",
        err->message);
  }
  g_error_free (err);
}

static void
test_limits (guint64 * rng)
{
  g_autoptr (GPtrArray) empty = new_set ();
  g_autoptr (GPtrArray) with_empty = new_set ();
  g_autoptr (GPtrArray) big = new_set ();
  g_autoptr (GPtrArray) suffixes = new_set ();
  GError *err = NULL;
  VyreAutomaton *a;
  guint64 bytes;

  expect_compile_error (empty, 0, VYRE_AUTOMATON_ERROR_NO_PATTERNS, NULL,
      __LINE__);
  ADD (with_empty, "a");
  add (with_empty, "", 0);
  expect_compile_error (with_empty, 0, VYRE_AUTOMATON_ERROR_NO_PATTERNS,
      "Pattern 1", __LINE__);

  /* The limit is exact: a table of B bytes compiles with max B and is
   * refused with max B - 4, the message giving the numbers. */
  for (int i = 0; i < 300; i++) {
    guint8 buf[40];
    gsize len = 1 + ring_test_rand (rng) % sizeof buf;
    for (gsize k = 0; k < len; k++)
      buf[k] = (guint8) ring_test_rand (rng);
    add (big, buf, len);
  }
  a = vyre_automaton_compile (big, FALSE, 0, &err);
  CHECK (a != NULL);
  if (a) {
    char states[32];
    bytes = a->n_words * 4;
    g_snprintf (states, sizeof states, "%u states",
        a->words[VYRE_TABLE_NSTATES]);
    vyre_automaton_free (a);
    a = vyre_automaton_compile (big, FALSE, bytes, &err);
    CHECK (a != NULL && a->n_words * 4 == bytes);
    vyre_automaton_free (a);
    expect_compile_error (big, bytes - 4, VYRE_AUTOMATON_ERROR_TOO_LARGE,
        states, __LINE__);
    expect_compile_error (big, 4096, VYRE_AUTOMATON_ERROR_TOO_LARGE,
        "300 patterns", __LINE__);
  } else {
    g_clear_error (&err);
  }

  /* "a", "aa", ... "a"x300: a small DFA (301 states x 2 classes) but
   * 45150 merged outputs; a limit between the two must refuse it in the
   * match-list check, not overflow anything. */
  {
    guint8 as[300];
    memset (as, 'a', sizeof as);
    for (gsize k = 1; k <= sizeof as; k++)
      add (suffixes, as, k);
    a = vyre_automaton_compile (suffixes, FALSE, 0, NULL);
    CHECK (a != NULL);
    if (a) {
      CHECK_EQ_U64 (a->words[a->words[VYRE_TABLE_OUT_INDEX_OFF] + 301],
          300 * 301 / 2);
      vyre_automaton_free (a);
    }
    expect_compile_error (suffixes, 20000, VYRE_AUTOMATON_ERROR_TOO_LARGE,
        "match lists", __LINE__);
  }
}

int
main (void)
{
  guint64 rng = ring_test_seed ();
  double t0 = ring_test_now ();

  test_classic ();
  test_special_sets (&rng);
  test_carry_is_needed ();
  test_expand_event ();
  test_limits (&rng);
  test_random (&rng);
  fprintf (stderr, "test_automaton: %.2f s\n", ring_test_now () - t0);
  return ring_test_finish ("test_automaton");
}
