/*
 * test_patterns.c - the patterns syntax (vyre-patterns.h): every escape,
 * comments, empty lines, CRLF, error positions, file errors, and the
 * escape -> parse round trip.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ring_test_util.h"
#include "vyre-patterns.h"

/* Compare parsed patterns with expected (bytes, length) pairs. */
typedef struct {
  const char *bytes;
  gsize len;
} Expect;

#define E(s) { s, sizeof (s) - 1 }

static void
check_patterns (GPtrArray * got, const Expect * want, gsize n, int line)
{
  if (got == NULL) {
    ring_test_failures++;
    fprintf (stderr, "line %d: no result\n", line);
    return;
  }
  if (got->len != n) {
    ring_test_failures++;
    fprintf (stderr, "line %d: %u patterns, expected %zu\n", line, got->len,
        n);
    return;
  }
  for (gsize i = 0; i < n; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (g_ptr_array_index (got, i), &len);
    if (len != want[i].len || memcmp (p, want[i].bytes, len) != 0) {
      g_autofree char *esc = vyre_pattern_escape (g_ptr_array_index (got,
              i));
      ring_test_failures++;
      fprintf (stderr, "line %d: pattern %zu is \"%s\" (%zu bytes)\n", line,
          i, esc, len);
    }
  }
}

#define PARSE_OK(text, ...)                                                \
  do {                                                                     \
    static const Expect want_[] = { __VA_ARGS__ };                         \
    GPtrArray *got_ = NULL;                                                \
    GError *err_ = NULL;                                                   \
    gboolean ok_ = vyre_patterns_parse_lines (text, sizeof (text) - 1,     \
        "t.txt", &got_, &err_);                                            \
    CHECK (ok_);                                                           \
    if (err_) {                                                            \
      fprintf (stderr, "  unexpected error: %s\n", err_->message);         \
      g_error_free (err_);                                                 \
    }                                                                      \
    check_patterns (got_, want_, G_N_ELEMENTS (want_), __LINE__);          \
    if (got_)                                                              \
      g_ptr_array_unref (got_);                                            \
  } while (0)

/* Parse text expecting an error of domain/code whose message contains
 * every NULL-terminated needle. */
static void
expect_error (gboolean ok, GPtrArray * got, GError * err, GQuark domain,
    int code, int line, ...)
{
  va_list ap;
  const char *needle;

  if (ok || err == NULL) {
    ring_test_failures++;
    fprintf (stderr, "line %d: expected an error, got success\n", line);
    if (got)
      g_ptr_array_unref (got);
    return;
  }
  if (got != NULL) {
    ring_test_failures++;
    fprintf (stderr, "line %d: *out set on error\n", line);
  }
  if (err->domain != domain || err->code != code) {
    ring_test_failures++;
    fprintf (stderr, "line %d: error %s/%d, expected %s/%d: %s\n", line,
        g_quark_to_string (err->domain), err->code,
        g_quark_to_string (domain), code, err->message);
  }
  va_start (ap, line);
  while ((needle = va_arg (ap, const char *)) != NULL) {
    if (strstr (err->message, needle) == NULL) {
      ring_test_failures++;
      fprintf (stderr, "line %d: message lacks \"%s\": %s\n", line, needle,
          err->message);
    }
  }
  va_end (ap);
  if (strstr (err->message, "Fix:") == NULL) {
    ring_test_failures++;
    fprintf (stderr, "line %d: message has no Fix: %s\n", line,
        err->message);
  }
  g_error_free (err);
}

#define PARSE_ERR(text, code, ...)                                         \
  do {                                                                     \
    GPtrArray *got_ = NULL;                                                \
    GError *err_ = NULL;                                                   \
    gboolean ok_ = vyre_patterns_parse_lines (text, sizeof (text) - 1,     \
        "t.txt", &got_, &err_);                                            \
    expect_error (ok_, got_, err_, VYRE_PATTERNS_ERROR, code, __LINE__,    \
        __VA_ARGS__, NULL);                                                \
  } while (0)

static void
test_lines (void)
{
  /* plain literals, comments, empty lines, no final newline */
  PARSE_OK ("abc\n# comment\n\ndef", E ("abc"), E ("def"));
  PARSE_OK ("\n\n#x\nonly\n\n", E ("only"));
  /* every escape */
  PARSE_OK ("a\\\\b\n\\n\\r\\t\n\\x00\\xff\\xAb\\x7F\n",
      E ("a\\b"), E ("\n\r\t"), E ("\x00\xff\xab\x7f"));
  /* \x23: a literal leading '#'; '#' later in the line is literal */
  PARSE_OK ("\\x23include\nint#x\n", E ("#include"), E ("int#x"));
  /* only a first-byte '#' is a comment; spaces are literal */
  PARSE_OK (" #x\n a b \n", E (" #x"), E (" a b "));
  /* CRLF: one CR before LF (or before the end) is dropped, CRLF-only
   * lines are empty, a CR inside a line is literal */
  PARSE_OK ("a\r\nb\r\n\r\n#c\r\nd\r", E ("a"), E ("b"), E ("d"));
  PARSE_OK ("x\ry\r\nz\r\r\n", E ("x\ry"), E ("z\r"));
  /* raw bytes, NUL included, are literal */
  PARSE_OK ("\x01\x00\xfe\n", E ("\x01\x00\xfe"));
  /* duplicates are kept: each is its own pattern id */
  PARSE_OK ("dup\ndup\nx\ndup\n", E ("dup"), E ("dup"), E ("x"), E ("dup"));
  /* a backslash before a non-hex character after \xHH is just next */
  PARSE_OK ("\\x414\n", E ("A4"));
}

static void
test_line_errors (void)
{
  /* unknown escape: origin:line:column of the backslash, the escape,
   * and how to write a literal backslash */
  PARSE_ERR ("ok\n# c\nab\\qd\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:3:3:",
      "\\q", "\\\\");
  PARSE_ERR ("\\a\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:1:1:", "\\a");
  PARSE_ERR ("x\\0\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:1:2:", "\\0");
  /* non-printable after the backslash is shown as \xHH */
  PARSE_ERR ("x\\\x01\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:1:2:",
      "\\x01");
  /* truncated / malformed \x */
  PARSE_ERR ("a\nbb\\x4\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:2:3:",
      "two hex digits", "\\x4");
  PARSE_ERR ("\\x\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:1:1:",
      "two hex digits");
  PARSE_ERR ("\\xg1\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:1:1:", "\\xg1");
  PARSE_ERR ("\\x1", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:1:1:",
      "end of the pattern");
  /* lone backslash at the end of a line (also with CRLF) */
  PARSE_ERR ("abc\\\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:1:4:",
      "lone backslash");
  PARSE_ERR ("a\r\nabc\\\r\n", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:2:4:",
      "lone backslash");
  /* the line number counts comments and empty lines */
  PARSE_ERR ("\n#\n\r\n\n\\z", VYRE_PATTERNS_ERROR_SYNTAX, "t.txt:5:1:");
  /* nothing to scan for */
  PARSE_ERR ("", VYRE_PATTERNS_ERROR_EMPTY, "t.txt", "empty");
  PARSE_ERR ("# only\n\n\r\n", VYRE_PATTERNS_ERROR_EMPTY, "t.txt",
      "comment");
}

static void
test_strv (void)
{
  static const Expect want[] = { E ("a"), E ("\x00" "b"), E ("#x"),
    E ("new\nline")
  };
  const char *const good[] = { "a", "\\x00b", "#x", "new\\nline", NULL };
  const char *const empty_elem[] = { "a", "", NULL };
  const char *const bad[] = { "ok", "b\\q", NULL };
  const char *const none[] = { NULL };
  GPtrArray *got = NULL;
  GError *err = NULL;
  gboolean ok;

  ok = vyre_patterns_from_strv (good, &got, &err);
  CHECK (ok && err == NULL);
  check_patterns (got, want, G_N_ELEMENTS (want), __LINE__);
  g_clear_pointer (&got, g_ptr_array_unref);

  ok = vyre_patterns_from_strv (empty_elem, &got, &err);
  expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
      VYRE_PATTERNS_ERROR_EMPTY, __LINE__, "patterns[1]", NULL);
  got = NULL;
  err = NULL;
  ok = vyre_patterns_from_strv (bad, &got, &err);
  expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
      VYRE_PATTERNS_ERROR_SYNTAX, __LINE__, "patterns[1], column 2", "\\q",
      NULL);
  got = NULL;
  err = NULL;
  ok = vyre_patterns_from_strv (none, &got, &err);
  expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
      VYRE_PATTERNS_ERROR_EMPTY, __LINE__, "empty", NULL);
  got = NULL;
  err = NULL;
  ok = vyre_patterns_from_strv (NULL, &got, &err);
  expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
      VYRE_PATTERNS_ERROR_EMPTY, __LINE__, "empty", NULL);
}

static void
test_files (void)
{
  static const Expect want[] = { E ("#include"), E ("PK\x03\x04"),
    E ("tab\there")
  };
  static const char content[] =
      "# header comment\r\n\\x23include\r\nPK\\x03\\x04\r\n\r\ntab\\there";
  g_autoptr (GError) tmp_err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vyre-patterns-XXXXXX", &tmp_err);
  g_autofree char *good = NULL, *empty = NULL, *missing = NULL;
  g_autofree char *bad = NULL;
  GPtrArray *got = NULL;
  GError *err = NULL;
  gboolean ok;

  CHECK (dir != NULL);
  if (dir == NULL)
    return;
  good = g_build_filename (dir, "good.txt", NULL);
  empty = g_build_filename (dir, "empty.txt", NULL);
  bad = g_build_filename (dir, "bad.txt", NULL);
  missing = g_build_filename (dir, "no-such-file.txt", NULL);
  CHECK (g_file_set_contents (good, content, sizeof content - 1, NULL));
  CHECK (g_file_set_contents (empty, "", 0, NULL));
  CHECK (g_file_set_contents (bad, "fine\n\\x4G\n", -1, NULL));

  ok = vyre_patterns_parse_file (good, &got, &err);
  CHECK (ok && err == NULL);
  check_patterns (got, want, G_N_ELEMENTS (want), __LINE__);
  g_clear_pointer (&got, g_ptr_array_unref);

  /* syntax errors name the file path, line and column */
  ok = vyre_patterns_parse_file (bad, &got, &err);
  {
    g_autofree char *where = g_strdup_printf ("%s:2:1:", bad);
    expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
        VYRE_PATTERNS_ERROR_SYNTAX, __LINE__, where, NULL);
  }
  got = NULL;
  err = NULL;

  ok = vyre_patterns_parse_file (missing, &got, &err);
  expect_error (ok, got, err, G_FILE_ERROR, G_FILE_ERROR_NOENT, __LINE__,
      missing, g_strerror (ENOENT), NULL);
  got = NULL;
  err = NULL;

  ok = vyre_patterns_parse_file (dir, &got, &err);
  expect_error (ok, got, err, G_FILE_ERROR, G_FILE_ERROR_ISDIR, __LINE__,
      dir, g_strerror (EISDIR), NULL);
  got = NULL;
  err = NULL;

  ok = vyre_patterns_parse_file (empty, &got, &err);
  expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
      VYRE_PATTERNS_ERROR_EMPTY, __LINE__, empty, NULL);
  got = NULL;
  err = NULL;

  /* permission denied: root reads anything, so only as a normal user */
  if (geteuid () != 0) {
    CHECK (g_chmod (good, 0) == 0);
    ok = vyre_patterns_parse_file (good, &got, &err);
    expect_error (ok, got, err, G_FILE_ERROR, G_FILE_ERROR_ACCES, __LINE__,
        good, g_strerror (EACCES), NULL);
    got = NULL;
    err = NULL;
  }

  g_unlink (good);
  g_unlink (empty);
  g_unlink (bad);
  g_rmdir (dir);
}

static void
check_escape (const char *bytes, gsize len, const char *want)
{
  GBytes *b = g_bytes_new (bytes, len);
  g_autofree char *got = vyre_pattern_escape (b);
  if (strcmp (got, want) != 0) {
    ring_test_failures++;
    fprintf (stderr, "escape gave \"%s\", expected \"%s\"\n", got, want);
  }
  g_bytes_unref (b);
}

static void
test_escape_round_trip (guint64 * rng)
{
  guint64 rounds = ring_test_scaled (3000);
  g_autoptr (GPtrArray) orig = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_bytes_unref);
  GString *file = g_string_new ("# generated\n");

  check_escape ("abc", 3, "abc");
  check_escape ("a\\b\n\r\t\x00\xff ~", 10, "a\\\\b\\n\\r\\t\\x00\\xFF ~");
  check_escape ("#x#", 3, "\\x23x#");
  check_escape ("\x7f\x1f\x80", 3, "\\x7F\\x1F\\x80");

  for (guint64 r = 0; r < rounds; r++) {
    gsize len = 1 + ring_test_rand (rng) % 24;
    guint8 buf[24];
    GBytes *b;
    char *esc;
    GPtrArray *back = NULL;
    GError *err = NULL;
    /* bias towards the bytes the syntax treats specially */
    static const guint8 special[] = { '\\', '\n', '\r', '\t', '#', 'x',
      0, 0xff, ' '
    };
    for (gsize i = 0; i < len; i++) {
      guint64 v = ring_test_rand (rng);
      buf[i] = (v & 1) ? special[(v >> 8) % sizeof special] : (guint8) (v
          >> 16);
    }
    b = g_bytes_new (buf, len);
    esc = vyre_pattern_escape (b);
    /* one line, no raw line breaks, parses back to the same bytes */
    CHECK (strchr (esc, '\n') == NULL && strchr (esc, '\r') == NULL);
    if (vyre_patterns_parse_lines (esc, strlen (esc), "rt", &back, &err)) {
      CHECK (back->len == 1 && g_bytes_equal (g_ptr_array_index (back, 0),
              b));
      g_ptr_array_unref (back);
    } else {
      ring_test_failures++;
      fprintf (stderr, "escaped \"%s\" does not parse: %s\n", esc,
          err->message);
      g_error_free (err);
    }
    /* and the same through a file of many lines, CRLF or LF */
    g_string_append (file, esc);
    g_string_append (file, (r & 1) ? "\r\n" : "\n");
    g_ptr_array_add (orig, b);
    g_free (esc);
  }

  {
    GPtrArray *back = NULL;
    GError *err = NULL;
    if (vyre_patterns_parse_lines (file->str, file->len, "rt", &back, &err)) {
      CHECK_EQ_U64 (back->len, orig->len);
      for (guint i = 0; i < MIN (back->len, orig->len); i++)
        CHECK (g_bytes_equal (g_ptr_array_index (back, i),
                g_ptr_array_index (orig, i)));
      g_ptr_array_unref (back);
    } else {
      ring_test_failures++;
      fprintf (stderr, "round-trip file does not parse: %s\n", err->message);
      g_error_free (err);
    }
  }
  g_string_free (file, TRUE);
}

int
main (void)
{
  guint64 rng = ring_test_seed ();

  test_lines ();
  test_line_errors ();
  test_strv ();
  test_files ();
  test_escape_round_trip (&rng);
  return ring_test_finish ("test_patterns");
}
