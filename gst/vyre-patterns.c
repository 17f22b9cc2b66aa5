/* vyre-patterns.c - see vyre-patterns.h. */
#include "vyre-patterns.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (vyre-patterns-error-quark, vyre_patterns_error);

#define ESCAPE_FIX "Fix: inside a pattern a backslash must start one of " \
  "\\\\ (backslash), \\n, \\r, \\t or \\xHH (a byte as two hex digits, " \
  "e.g. \\x5C)"

/* Where an error is: "file:line:column" for files (the form editors
 * jump to), "patterns[i], column c" for property elements. */
static char *
location (const char *origin, guint line, gsize column)
{
  if (line == 0)
    return g_strdup_printf ("%s, column %" G_GSIZE_FORMAT, origin, column);
  return g_strdup_printf ("%s:%u:%" G_GSIZE_FORMAT, origin, line, column);
}

/* A byte as the user would type it, for messages. */
static void
describe_byte (char buf[8], guint8 b)
{
  if (b >= 0x20 && b < 0x7f && b != '\\' && b != '"')
    g_snprintf (buf, 8, "%c", b);
  else
    g_snprintf (buf, 8, "\\x%02X", b);
}

/* Decode one literal s[0..n) into a new GBytes.  line is 0 for property
 * elements (which have no lines).  The literal must not be empty: the
 * callers skip empty file lines before calling. */
static GBytes *
decode_literal (const guint8 * s, gsize n, const char *origin, guint line,
    GError ** error)
{
  GByteArray *buf = g_byte_array_sized_new (n);
  gsize i = 0;

  while (i < n) {
    guint8 c = s[i];
    guint8 out;

    if (c != '\\') {
      g_byte_array_append (buf, &c, 1);
      i++;
      continue;
    }
    if (i + 1 >= n) {
      g_autofree char *where = location (origin, line, i + 1);
      g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_SYNTAX,
          "%s: the pattern ends with a lone backslash. Fix: write a "
          "literal backslash as \\\\ (two backslashes).", where);
      goto fail;
    }
    switch (s[i + 1]) {
      case '\\':
        out = '\\';
        break;
      case 'n':
        out = '\n';
        break;
      case 'r':
        out = '\r';
        break;
      case 't':
        out = '\t';
        break;
      case 'x':{
        int hi = i + 2 < n ? g_ascii_xdigit_value (s[i + 2]) : -1;
        int lo = i + 3 < n ? g_ascii_xdigit_value (s[i + 3]) : -1;
        if (hi < 0 || lo < 0) {
          g_autofree char *where = location (origin, line, i + 1);
          GString *found = g_string_new (NULL);
          char shown[8];
          for (gsize k = i; k < n && k < i + 4; k++) {
            describe_byte (shown, s[k]);
            g_string_append (found, s[k] == '\\' ? "\\" : shown);
          }
          g_set_error (error, VYRE_PATTERNS_ERROR,
              VYRE_PATTERNS_ERROR_SYNTAX,
              "%s: \\x must be followed by exactly two hex digits "
              "(0-9, a-f, A-F), found \"%s\"%s. Fix: write the byte with "
              "two digits, e.g. \\x0A for a newline or \\x41 for 'A'.",
              where, found->str, i + 4 > n ? " at the end of the pattern"
              : "");
          g_string_free (found, TRUE);
          goto fail;
        }
        out = (guint8) (hi << 4 | lo);
        i += 2;                 /* the two digits; the "\x" below */
        break;
      }
      default:{
        g_autofree char *where = location (origin, line, i + 1);
        char shown[8];
        describe_byte (shown, s[i + 1]);
        g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_SYNTAX,
            "%s: unknown escape \"\\%s\". " ESCAPE_FIX "; a literal "
            "backslash followed by '%s' is written \\\\%s.",
            where, shown, shown, shown);
        goto fail;
      }
    }
    g_byte_array_append (buf, &out, 1);
    i += 2;
  }

  if (buf->len == 0) {
    /* Only reachable for property elements: file lines are skipped
     * before they get here when empty. */
    g_autofree char *where = location (origin, line, 1);
    g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_EMPTY,
        "%s: empty pattern. Fix: remove the empty element; every pattern "
        "needs at least one byte.", where);
    goto fail;
  }
  return g_byte_array_free_to_bytes (buf);

fail:
  g_byte_array_unref (buf);
  return NULL;
}

gboolean
vyre_patterns_parse_lines (const char *text, gsize len, const char *origin,
    GPtrArray ** out, GError ** error)
{
  const guint8 *s = (const guint8 *) text;
  g_autoptr (GPtrArray) result = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_bytes_unref);
  gsize pos = 0;
  guint line = 0;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (origin == NULL)
    origin = "<patterns>";

  while (pos < len) {
    const guint8 *nl = memchr (s + pos, '\n', len - pos);
    gsize end = nl ? (gsize) (nl - s) : len;
    gsize n = end - pos;

    line++;
    /* CRLF: the CR belongs to the line ending, not to the literal.  A
     * pattern that really ends in CR is written \r. */
    if (n > 0 && s[pos + n - 1] == '\r')
      n--;
    if (n > 0 && s[pos] != '#') {
      GBytes *b = decode_literal (s + pos, n, origin, line, error);
      if (b == NULL)
        return FALSE;
      g_ptr_array_add (result, b);
    }
    pos = end + 1;
  }

  if (result->len == 0) {
    g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_EMPTY,
        "%s: no patterns (%s). Fix: put one literal per line, e.g. "
        "\"password\" or \"PK\\x03\\x04\"; a literal starting with '#' "
        "is written \\x23.", origin,
        len == 0 ? "the text is empty"
        : "every line is empty or a # comment");
    return FALSE;
  }
  *out = g_steal_pointer (&result);
  return TRUE;
}

/* Read the whole file with open/read so a failure reports the exact
 * errno of the step that failed (and a directory is caught before read()
 * says the less helpful EISDIR on some systems only). */
static gboolean
read_file (const char *path, char **contents, gsize * length, GError ** error)
{
  int fd;
  struct stat st;
  GByteArray *buf;
  int saved;

  do
    fd = open (path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "Cannot open patterns file \"%s\": %s. Fix: check the path and "
        "its permissions (patterns-file must name a readable file with "
        "one pattern per line).", path, g_strerror (saved));
    return FALSE;
  }
  if (fstat (fd, &st) < 0) {
    saved = errno;
    close (fd);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
        "Cannot stat patterns file \"%s\": %s. Fix: check that the file "
        "is accessible.", path, g_strerror (saved));
    return FALSE;
  }
  if (S_ISDIR (st.st_mode)) {
    close (fd);
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR,
        "Cannot read patterns file \"%s\": %s. Fix: set patterns-file to "
        "a file inside it, not the directory itself.", path,
        g_strerror (EISDIR));
    return FALSE;
  }
  if (S_ISREG (st.st_mode) && (guint64) st.st_size
      > VYRE_PATTERNS_MAX_FILE_BYTES)
    goto too_large;

  /* Not only regular files: pipes and /dev/fd/N work too, so read to
   * EOF instead of trusting st_size, with the same size cap. */
  buf = g_byte_array_sized_new (S_ISREG (st.st_mode) ? st.st_size + 1 : 4096);
  for (;;) {
    guint8 chunk[65536];
    ssize_t r = read (fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      saved = errno;
      close (fd);
      g_byte_array_unref (buf);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
          "Cannot read patterns file \"%s\": %s. Fix: check that the "
          "path names a readable regular file.", path, g_strerror (saved));
      return FALSE;
    }
    if (r == 0)
      break;
    if (buf->len + (gsize) r > VYRE_PATTERNS_MAX_FILE_BYTES) {
      g_byte_array_unref (buf);
      goto too_large;
    }
    g_byte_array_append (buf, chunk, r);
  }
  close (fd);
  *length = buf->len;
  *contents = (char *) g_byte_array_free (buf, FALSE);
  return TRUE;

too_large:
  close (fd);
  g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_TOO_LARGE,
      "Patterns file \"%s\" is larger than %u bytes. Fix: split the "
      "pattern set or remove patterns; a table that large would not fit "
      "the GPU scan buffer anyway.", path, VYRE_PATTERNS_MAX_FILE_BYTES);
  return FALSE;
}

gboolean
vyre_patterns_parse_file (const char *path, GPtrArray ** out, GError ** error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!read_file (path, &contents, &length, error))
    return FALSE;
  return vyre_patterns_parse_lines (contents, length, path, out, error);
}

gboolean
vyre_patterns_from_strv (const char *const *strv, GPtrArray ** out,
    GError ** error)
{
  g_autoptr (GPtrArray) result = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_bytes_unref);

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; strv != NULL && strv[i] != NULL; i++) {
    g_autofree char *origin = g_strdup_printf ("patterns[%u]", i);
    GBytes *b = decode_literal ((const guint8 *) strv[i], strlen (strv[i]),
        origin, 0, error);
    if (b == NULL)
      return FALSE;
    g_ptr_array_add (result, b);
  }
  if (result->len == 0) {
    g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_EMPTY,
        "The patterns list is empty. Fix: set at least one literal in "
        "\"patterns\", or use patterns-file.");
    return FALSE;
  }
  *out = g_steal_pointer (&result);
  return TRUE;
}

char *
vyre_pattern_escape (GBytes * pattern)
{
  gsize n = 0;
  const guint8 *p;
  GString *s;

  g_return_val_if_fail (pattern != NULL, NULL);

  p = g_bytes_get_data (pattern, &n);
  s = g_string_sized_new (n + 8);
  for (gsize i = 0; i < n; i++) {
    guint8 c = p[i];
    if (c == '\\')
      g_string_append (s, "\\\\");
    else if (c == '\n')
      g_string_append (s, "\\n");
    else if (c == '\r')
      g_string_append (s, "\\r");
    else if (c == '\t')
      g_string_append (s, "\\t");
    else if (c >= 0x20 && c < 0x7f && !(i == 0 && c == '#'))
      g_string_append_c (s, c);
    else
      g_string_append_printf (s, "\\x%02X", c);
  }
  return g_string_free (s, FALSE);
}
