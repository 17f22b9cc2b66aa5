/*
 * test_patterns.c - the patterns syntax (vyre-patterns.h): every escape,
 * comments, empty lines, CRLF, error positions, file errors, the escape ->
 * parse round trip, the `patterns` property's syntax, and the set
 * vyre_patterns_load builds (duplicates merged with notes, the literal
 * length limit).
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

#define PROPERTY_OK(value, ...)                                            \
  do {                                                                     \
    static const Expect want_[] = { __VA_ARGS__ };                         \
    GPtrArray *got_ = NULL;                                                \
    GError *err_ = NULL;                                                   \
    gboolean ok_ = vyre_patterns_parse_property (value, &got_, &err_);     \
    CHECK (ok_);                                                           \
    if (err_) {                                                            \
      fprintf (stderr, "  unexpected error: %s\n", err_->message);         \
      g_error_free (err_);                                                 \
    }                                                                      \
    check_patterns (got_, want_, G_N_ELEMENTS (want_), __LINE__);          \
    if (got_)                                                              \
      g_ptr_array_unref (got_);                                            \
  } while (0)

#define PROPERTY_ERR(value, code, ...)                                     \
  do {                                                                     \
    GPtrArray *got_ = NULL;                                                \
    GError *err_ = NULL;                                                   \
    gboolean ok_ = vyre_patterns_parse_property (value, &got_, &err_);     \
    expect_error (ok_, got_, err_, VYRE_PATTERNS_ERROR, code, __LINE__,    \
        __VA_ARGS__, NULL);                                                \
  } while (0)

/* What people type after patterns= in gst-launch-1.0 (as the element
 * receives it: gst-launch has removed one level of backslashes). */
static void
test_property (void)
{
  /* a single literal; the README's example, with and without < > */
  PROPERTY_OK ("GNU", E ("GNU"));
  PROPERTY_OK ("password,BEGIN RSA", E ("password"), E ("BEGIN RSA"));
  PROPERTY_OK ("<password,BEGIN RSA>", E ("password"), E ("BEGIN RSA"));
  PROPERTY_OK ("<GNU>", E ("GNU"));
  /* blanks around literals are dropped, inside kept */
  PROPERTY_OK ("  a , b c\t,d  ", E ("a"), E ("b c"), E ("d"));
  PROPERTY_OK (" < a,b > ", E ("a"), E ("b"));
  /* escapes, a comma as \x2C, '#' and '<' '>' inside a literal */
  PROPERTY_OK ("PK\\x03\\x04,\\x00\\xffEOF", E ("PK\x03\x04"),
      E ("\x00\xff" "EOF"));
  PROPERTY_OK ("a\\x2Cb,#c,x<y>z", E ("a,b"), E ("#c"), E ("x<y>z"));
  PROPERTY_OK ("\\x3Chtml>", E ("<html>"));
  /* quoted items: GStreamer string rules first, then the escapes */
  PROPERTY_OK ("<\"a, b\",c>", E ("a, b"), E ("c"));
  PROPERTY_OK ("\"q\\\"t\",\"\\\\x41\",\"\\101\"", E ("q\"t"), E ("A"),
      E ("A"));
  /* what GLib makes of a GstValueArray set on a string property */
  PROPERTY_OK ("< \"\\\\x41\\\\x2c\\\"q\", \"b c\\377\" >", E ("A,\"q"),
      E ("b c\xff"));
  /* duplicates are the loader's business: the parser keeps them */
  PROPERTY_OK ("a,a", E ("a"), E ("a"));

  /* what it cannot mean: the item or value, and the syntax */
  PROPERTY_ERR ("", VYRE_PATTERNS_ERROR_EMPTY, "no literal",
      "patterns=GNU");
  PROPERTY_ERR ("  ", VYRE_PATTERNS_ERROR_EMPTY, "no literal");
  PROPERTY_ERR ("<>", VYRE_PATTERNS_ERROR_EMPTY, "item 1 is empty");
  PROPERTY_ERR ("a,,b", VYRE_PATTERNS_ERROR_EMPTY, "item 2 is empty",
      "patterns=\"a,,b\"");
  PROPERTY_ERR ("a,b,", VYRE_PATTERNS_ERROR_EMPTY, "item 3 is empty");
  PROPERTY_ERR ("<a,b", VYRE_PATTERNS_ERROR_SYNTAX, "patterns=\"<a,b\"",
      "\\x3C", "patterns=\"password,BEGIN RSA\"", "single quotes");
  PROPERTY_ERR ("a,\"bc", VYRE_PATTERNS_ERROR_SYNTAX, "item 2",
      "never closed", "column 3");
  PROPERTY_ERR ("\"a\"b,c", VYRE_PATTERNS_ERROR_SYNTAX, "item 1",
      "closing quote");
  PROPERTY_ERR ("a,b\\,c", VYRE_PATTERNS_ERROR_SYNTAX, "patterns item 2",
      "\\x2C");
  PROPERTY_ERR ("ok,x\\q", VYRE_PATTERNS_ERROR_SYNTAX,
      "patterns item 2, column 2", "\\q");
}

/* Write text to dir/name; returns the path. */
static char *
write_file (const char *dir, const char *name, const char *text, gssize len)
{
  char *path = g_build_filename (dir, name, NULL);
  CHECK (g_file_set_contents (path, text, len, NULL));
  return path;
}

/* notes must hold exactly n notes, note i containing every needle of
 * row i (NULL-terminated rows of at most 4). */
static void
check_notes (GPtrArray * notes, guint n, const char *const needles[][5],
    int line)
{
  if (notes == NULL || notes->len != n) {
    ring_test_failures++;
    fprintf (stderr, "line %d: %u notes, expected %u\n", line,
        notes ? notes->len : 0, n);
    for (guint i = 0; notes && i < notes->len; i++)
      fprintf (stderr, "  note: %s\n", (char *) notes->pdata[i]);
    return;
  }
  for (guint i = 0; i < n; i++)
    for (guint k = 0; needles[i][k]; k++)
      if (strstr (notes->pdata[i], needles[i][k]) == NULL) {
        ring_test_failures++;
        fprintf (stderr, "line %d: note %u lacks \"%s\": %s\n", line, i,
            needles[i][k], (char *) notes->pdata[i]);
      }
}

static void
test_load_duplicates (void)
{
  g_autoptr (GError) tmp_err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vyre-load-XXXXXX", &tmp_err);
  g_autofree char *file = NULL;
  GPtrArray *got = NULL, *notes = NULL;
  GError *err = NULL;

  CHECK (dir != NULL);
  if (dir == NULL)
    return;
  file = write_file (dir, "secrets.txt",
      "password\n# c\nkey\nPassword\npassword\nGNU\n", -1);

  /* no duplicates: no notes */
  CHECK (vyre_patterns_load ("a,b", NULL, FALSE, &got, &notes, &err));
  {
    static const Expect want[] = { E ("a"), E ("b") };
    check_patterns (got, want, G_N_ELEMENTS (want), __LINE__);
    check_notes (notes, 0, NULL, __LINE__);
  }
  g_clear_pointer (&got, g_ptr_array_unref);
  g_clear_pointer (&notes, g_ptr_array_unref);

  /* exact duplicates, in the property and in the file, and across them:
   * the first place keeps the literal; each repeat is a note naming the
   * literal and both places */
  CHECK (vyre_patterns_load ("GNU,x,GNU", file, FALSE, &got, &notes, &err));
  {
    static const Expect want[] = { E ("GNU"), E ("x"), E ("password"),
      E ("key"), E ("Password")
    };
    static const char *const needles[][5] = {
      {"\"GNU\"", "patterns item 3", "patterns item 1", "Fix:", NULL},
      {"\"password\"", "secrets.txt:5", "secrets.txt:1", NULL},
      {"\"GNU\"", "secrets.txt:6", "patterns item 1", NULL},
    };
    check_patterns (got, want, G_N_ELEMENTS (want), __LINE__);
    check_notes (notes, G_N_ELEMENTS (needles), needles, __LINE__);
  }
  g_clear_pointer (&got, g_ptr_array_unref);
  g_clear_pointer (&notes, g_ptr_array_unref);

  /* with ignore-case the same after folding is a duplicate too, reported
   * under its first spelling */
  CHECK (vyre_patterns_load (NULL, file, TRUE, &got, &notes, &err));
  {
    static const Expect want[] = { E ("password"), E ("key"), E ("GNU") };
    static const char *const needles[][5] = {
      {"\"Password\"", "secrets.txt:4", "\"password\"", "secrets.txt:1",
          NULL},
      {"\"password\"", "secrets.txt:5", "secrets.txt:1", NULL},
    };
    check_patterns (got, want, G_N_ELEMENTS (want), __LINE__);
    check_notes (notes, G_N_ELEMENTS (needles), needles, __LINE__);
  }
  g_clear_pointer (&got, g_ptr_array_unref);
  g_clear_pointer (&notes, g_ptr_array_unref);

  /* nothing set: an empty set, for the caller to judge */
  CHECK (vyre_patterns_load (NULL, "", FALSE, &got, &notes, &err));
  CHECK (got != NULL && got->len == 0);
  g_clear_pointer (&got, g_ptr_array_unref);
  g_clear_pointer (&notes, g_ptr_array_unref);

  /* parse errors come through unchanged */
  CHECK (!vyre_patterns_load ("a,,b", NULL, FALSE, &got, &notes, &err));
  CHECK (got == NULL && err != NULL && strstr (err->message, "item 2"));
  g_clear_error (&err);

  g_unlink (file);
  g_rmdir (dir);
}

/* \xHH escapes whose backslashes gst-launch-1.0 removed: a note with the
 * form to type; text that merely contains "x00" is left alone. */
static void
test_load_lost_backslashes (void)
{
  GPtrArray *got = NULL, *notes = NULL;
  GError *err = NULL;

  CHECK (vyre_patterns_load ("password,x00xffEOF", NULL, FALSE, &got,
          &notes, &err));
  {
    static const char *const needles[][5] = {
      {"item 2", "\"x00xffEOF\"", "patterns='\\\\x00\\\\xffEOF'", NULL},
    };
    check_notes (notes, 1, needles, __LINE__);
  }
  g_clear_pointer (&got, g_ptr_array_unref);
  g_clear_pointer (&notes, g_ptr_array_unref);

  CHECK (vyre_patterns_load ("0x00ff,x86,\\x00\\xffEOF", NULL, FALSE, &got,
          &notes, &err));
  check_notes (notes, 0, NULL, __LINE__);
  g_clear_pointer (&got, g_ptr_array_unref);
  g_clear_pointer (&notes, g_ptr_array_unref);
}

/* A literal longer than the kernel scans is refused where it is, with
 * the limit and the reason; one of exactly the limit is accepted. */
static void
test_load_limit (void)
{
  g_autoptr (GError) tmp_err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vyre-limit-XXXXXX", &tmp_err);
  const gsize max = VYRE_PATTERNS_MAX_LITERAL_BYTES;
  GString *text = g_string_new ("short\n");
  GPtrArray *got = NULL;
  GError *err = NULL;
  g_autofree char *ok_file = NULL, *long_file = NULL;

  CHECK (dir != NULL);
  if (dir == NULL)
    return;
  for (gsize i = 0; i < max; i++)
    g_string_append_c (text, 'A' + i % 26);
  ok_file = write_file (dir, "max.txt", text->str, text->len);
  g_string_append (text, "Z\n");
  long_file = write_file (dir, "long.txt", text->str, text->len);

  CHECK (vyre_patterns_load (NULL, ok_file, FALSE, &got, NULL, &err));
  CHECK (got != NULL && got->len == 2
      && g_bytes_get_size (got->pdata[1]) == max);
  g_clear_pointer (&got, g_ptr_array_unref);

  {
    g_autofree char *where = g_strdup_printf ("%s:2:", long_file);
    g_autofree char *size = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes",
        max + 1);
    g_autofree char *limit = g_strdup_printf ("at most %" G_GSIZE_FORMAT
        " bytes", max);
    gboolean ok = vyre_patterns_load (NULL, long_file, FALSE, &got, NULL,
        &err);
    expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
        VYRE_PATTERNS_ERROR_TOO_LONG, __LINE__, where, size, limit,
        "lavapipe", "\"ABCDEF", "...\"", NULL);
    got = NULL;
    err = NULL;
  }
  /* the same in the property */
  {
    g_autofree char *value = g_strnfill (max + 1, 'q');
    gboolean ok = vyre_patterns_load (value, NULL, FALSE, &got, NULL, &err);
    expect_error (ok, got, err, VYRE_PATTERNS_ERROR,
        VYRE_PATTERNS_ERROR_TOO_LONG, __LINE__, "patterns item 1:", NULL);
    got = NULL;
    err = NULL;
  }
  g_string_free (text, TRUE);
  g_unlink (ok_file);
  g_unlink (long_file);
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
  test_property ();
  test_load_duplicates ();
  test_load_lost_backslashes ();
  test_load_limit ();
  return ring_test_finish ("test_patterns");
}
