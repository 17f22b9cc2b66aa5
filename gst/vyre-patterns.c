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
        if (s[i + 1] == ',')
          g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_SYNTAX,
              "%s: unknown escape \"\\,\". Fix: a comma inside a literal "
              "is written \\x2C (commas separate the literals of the "
              "patterns property).", where);
        else
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

/* vyre_patterns_parse_lines, also recording each pattern's line number
 * in lines (when not NULL) for the duplicate notes of vyre_patterns_load. */
static gboolean
parse_lines_numbered (const char *text, gsize len, const char *origin,
    GPtrArray ** out, GArray * lines, GError ** error)
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
      if (lines)
        g_array_append_val (lines, line);
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

gboolean
vyre_patterns_parse_lines (const char *text, gsize len, const char *origin,
    GPtrArray ** out, GError ** error)
{
  return parse_lines_numbered (text, len, origin, out, NULL, error);
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

static gboolean
parse_file_numbered (const char *path, GPtrArray ** out, GArray * lines,
    GError ** error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!read_file (path, &contents, &length, error))
    return FALSE;
  return parse_lines_numbered (contents, length, path, out, lines, error);
}

gboolean
vyre_patterns_parse_file (const char *path, GPtrArray ** out, GError ** error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return parse_file_numbered (path, out, NULL, error);
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

/* ------------------------------------------------------------------ */
/* The `patterns` property                                             */

#define PROPERTY_FIX "Fix: write the literals separated by commas, e.g. " \
  "patterns=GNU or patterns=\"password,BEGIN RSA\" (the list form " \
  "patterns=\"<password,BEGIN RSA>\" works too); escapes \\\\ \\n \\r \\t " \
  "\\xHH, a comma inside a literal is \\x2C; gst-launch-1.0 removes one " \
  "level of backslashes, so in a shell write patterns='PK\\\\x03\\\\x04' " \
  "(single quotes, two backslashes)."

/* Longest stretch of a user's value quoted back in messages. */
#define SHOWN_MAX 60

/* text[0..n) for a message: control bytes as \xHH, cut after SHOWN_MAX
 * bytes (a patterns property can be thousands of literals long). */
static char *
shown_text (const guint8 * text, gsize n)
{
  GString *s = g_string_sized_new (MIN (n, SHOWN_MAX) + 8);
  for (gsize i = 0; i < n && i < SHOWN_MAX; i++) {
    if (text[i] < 0x20 || text[i] == 0x7f)
      g_string_append_printf (s, "\\x%02X", text[i]);
    else
      g_string_append_c (s, text[i]);
  }
  if (n > SHOWN_MAX)
    g_string_append (s, "...");
  return g_string_free (s, FALSE);
}

/* A pattern in the patterns-file syntax, cut like shown_text. */
static char *
shown_literal (GBytes * literal)
{
  gsize n = g_bytes_get_size (literal);
  g_autoptr (GBytes) head = g_bytes_new_from_bytes (literal, 0,
      MIN (n, SHOWN_MAX));
  char *esc = vyre_pattern_escape (head);
  if (n <= SHOWN_MAX)
    return esc;
  char *cut = g_strconcat (esc, "...", NULL);
  g_free (esc);
  return cut;
}

static gboolean
is_blank (guint8 c)
{
  return c == ' ' || c == '\t';
}

/* A quoted item: GStreamer's string rules (what its array syntax and
 * g_strescape write): \ooo is an octal byte, \ followed by any other
 * byte is that byte.  *pos is at the opening quote; on return it is past
 * the closing one.  The result still holds the pattern escapes. */
static GByteArray *
unquote_item (const guint8 * s, gsize end, gsize * pos, guint item,
    const char *value, GError ** error)
{
  GByteArray *raw = g_byte_array_new ();
  gsize open = *pos, p = *pos + 1;

  while (p < end && s[p] != '"') {
    guint8 c = s[p];
    if (c == '\\' && p + 1 < end) {
      if (p + 3 < end && s[p + 1] >= '0' && s[p + 1] <= '3'
          && s[p + 2] >= '0' && s[p + 2] <= '7'
          && s[p + 3] >= '0' && s[p + 3] <= '7') {
        c = (guint8) ((s[p + 1] - '0') << 6 | (s[p + 2] - '0') << 3 |
            (s[p + 3] - '0'));
        p += 4;
      } else {
        c = s[p + 1];
        p += 2;
      }
    } else {
      p++;
    }
    g_byte_array_append (raw, &c, 1);
  }
  if (p >= end) {
    g_autofree char *shown = shown_text ((const guint8 *) value,
        strlen (value));
    g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_SYNTAX,
        "patterns item %u: the quote at column %" G_GSIZE_FORMAT " of "
        "patterns=\"%s\" is never closed. " PROPERTY_FIX, item, open + 1,
        shown);
    g_byte_array_unref (raw);
    return NULL;
  }
  *pos = p + 1;
  return raw;
}

/* vyre_patterns_parse_property, also recording each literal's item
 * number (1-based) in items (when not NULL). */
static gboolean
parse_property_numbered (const char *value, GPtrArray ** out, GArray * items,
    GError ** error)
{
  const guint8 *s = (const guint8 *) value;
  g_autoptr (GPtrArray) result = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_bytes_unref);
  gsize begin = 0, end = strlen (value), pos;
  guint item = 0;

  while (begin < end && is_blank (s[begin]))
    begin++;
  while (end > begin && is_blank (s[end - 1]))
    end--;
  if (begin == end) {
    g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_EMPTY,
        "The patterns property holds no literal (patterns=\"%s\"). "
        PROPERTY_FIX, value);
    return FALSE;
  }
  /* GStreamer's array form, which this property had before it took a
   * plain string: pipelines written for it keep working. */
  if (s[begin] == '<') {
    if (end - begin < 2 || s[end - 1] != '>') {
      g_autofree char *shown = shown_text (s, strlen (value));
      g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_SYNTAX,
          "patterns=\"%s\" starts with '<' but does not end with '>': "
          "<a,b> is a list of literals; a literal that starts with '<' is "
          "written \\x3C. " PROPERTY_FIX, shown);
      return FALSE;
    }
    begin++;
    end--;
  }

  pos = begin;
  for (;;) {
    GByteArray *raw;
    item++;
    while (pos < end && is_blank (s[pos]))
      pos++;
    if (pos < end && s[pos] == '"') {
      raw = unquote_item (s, end, &pos, item, value, error);
      if (raw == NULL)
        return FALSE;
      while (pos < end && is_blank (s[pos]))
        pos++;
      if (pos < end && s[pos] != ',') {
        g_autofree char *shown = shown_text (s, strlen (value));
        g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_SYNTAX,
            "patterns item %u: text follows its closing quote at column %"
            G_GSIZE_FORMAT " of patterns=\"%s\". " PROPERTY_FIX, item,
            pos + 1, shown);
        g_byte_array_unref (raw);
        return FALSE;
      }
    } else {
      gsize start = pos, stop;
      while (pos < end && s[pos] != ',') {
        /* "\," stays one escape, for decode_literal to explain */
        if (s[pos] == '\\' && pos + 1 < end)
          pos++;
        pos++;
      }
      stop = pos;
      while (stop > start && is_blank (s[stop - 1]))
        stop--;
      raw = g_byte_array_sized_new (stop - start);
      g_byte_array_append (raw, s + start, stop - start);
    }
    if (raw->len == 0) {
      g_autofree char *shown = shown_text (s, strlen (value));
      g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_EMPTY,
          "patterns item %u is empty in patterns=\"%s\". Fix: remove the "
          "extra comma; every literal needs at least one byte (a space is "
          "\\x20).", item, shown);
      g_byte_array_unref (raw);
      return FALSE;
    }
    g_autofree char *origin = g_strdup_printf ("patterns item %u", item);
    GBytes *b = decode_literal (raw->data, raw->len, origin, 0, error);
    g_byte_array_unref (raw);
    if (b == NULL)
      return FALSE;
    g_ptr_array_add (result, b);
    if (items)
      g_array_append_val (items, item);
    if (pos >= end)
      break;
    pos++;                      /* the comma */
  }
  *out = g_steal_pointer (&result);
  return TRUE;
}

gboolean
vyre_patterns_parse_property (const char *value, GPtrArray ** out,
    GError ** error)
{
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return parse_property_numbered (value, out, NULL, error);
}

/* ------------------------------------------------------------------ */
/* Loading a pattern set                                               */

typedef struct
{
  gboolean ignore_case;
  GPtrArray *patterns;          /* GBytes, the set so far */
  GPtrArray *origins;           /* char *, where each came from */
  GHashTable *seen;             /* folded GBytes -> index + 1 */
  GPtrArray *notes;             /* char * */
} Loader;

static gboolean
is_hex_escape_text (const guint8 * p, gsize left)
{
  return left >= 3 && p[0] == 'x' && g_ascii_isxdigit (p[1])
      && g_ascii_isxdigit (p[2]);
}

/* A property literal holding "xHHxHH" is most likely "\xHH\xHH" whose
 * backslashes gst-launch-1.0 (or a shell) removed: say so, and how to
 * type it, rather than scan for it in silence. */
static void
note_lost_backslashes (Loader * l, GBytes * literal, guint item)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (literal, &n);
  gboolean suspect = FALSE;

  for (gsize i = 0; i + 6 <= n && !suspect; i++)
    suspect = is_hex_escape_text (p + i, n - i)
        && is_hex_escape_text (p + i + 3, n - i - 3);
  if (!suspect)
    return;

  GString *typed = g_string_new (NULL);
  g_autofree char *esc = vyre_pattern_escape (literal);
  for (const char *c = esc; *c; c++) {
    if (is_hex_escape_text ((const guint8 *) c, strlen (c)))
      g_string_append (typed, "\\\\");
    g_string_append_c (typed, *c);
  }
  g_ptr_array_add (l->notes, g_strdup_printf ("patterns item %u \"%s\" "
          "looks like \\x escapes whose backslashes were removed: "
          "gst-launch-1.0 removes one level of backslashes, a shell may "
          "remove another. Fix: in a shell write patterns='%s' (single "
          "quotes, two backslashes); if you meant the text \"%s\", ignore "
          "this.", item, esc, typed->str, esc));
  g_string_free (typed, TRUE);
}

/* Add literal unless the set has it already (after case folding with
 * ignore-case): then only a note.  A literal over the length limit is an
 * error naming where it came from. */
static gboolean
loader_add (Loader * l, GBytes * literal, char *origin, GError ** error)
{
  gsize n = g_bytes_get_size (literal);
  GBytes *key;
  gpointer found;

  if (n > VYRE_PATTERNS_MAX_LITERAL_BYTES) {
    g_autofree char *shown = shown_literal (literal);
    g_set_error (error, VYRE_PATTERNS_ERROR, VYRE_PATTERNS_ERROR_TOO_LONG,
        "%s: the literal \"%s\" is %" G_GSIZE_FORMAT " bytes long; vyrescan "
        "scans literals of at most %u bytes. Every lane of the GPU scan "
        "kernel first re-reads the longest literal's length of bytes before "
        "its own share of each job (so that matches reaching into that "
        "share are found), and a Vulkan CPU device (lavapipe) ends any loop "
        "after 65,535 iterations: a 56 KiB literal makes every job fail "
        "there. Fix: shorten the literal to at most %u bytes (a distinctive "
        "part of it is enough to find it).", origin, shown, n,
        VYRE_PATTERNS_MAX_LITERAL_BYTES, VYRE_PATTERNS_MAX_LITERAL_BYTES);
    g_free (origin);
    return FALSE;
  }

  if (l->ignore_case) {
    guint8 *folded = g_memdup2 (g_bytes_get_data (literal, NULL), n);
    for (gsize i = 0; i < n; i++)
      folded[i] = (guint8) g_ascii_tolower (folded[i]);
    key = g_bytes_new_take (folded, n);
  } else {
    key = g_bytes_ref (literal);
  }

  found = g_hash_table_lookup (l->seen, key);
  if (found != NULL) {
    guint first = GPOINTER_TO_UINT (found) - 1;
    GBytes *kept = l->patterns->pdata[first];
    g_autofree char *shown = shown_literal (literal);
    if (g_bytes_equal (kept, literal))
      g_ptr_array_add (l->notes, g_strdup_printf ("Duplicate pattern \"%s\" "
              "at %s repeats %s: merged, it is scanned and reported once. "
              "Fix: remove one of them.", shown, origin,
              (char *) l->origins->pdata[first]));
    else {
      g_autofree char *first_shown = shown_literal (kept);
      g_ptr_array_add (l->notes, g_strdup_printf ("Duplicate pattern \"%s\" "
              "at %s is \"%s\" at %s with ignore-case=true: merged, it is "
              "scanned once and reported as \"%s\". Fix: remove one of "
              "them.", shown, origin, first_shown,
              (char *) l->origins->pdata[first], first_shown));
    }
    g_bytes_unref (key);
    g_free (origin);
    return TRUE;
  }
  g_ptr_array_add (l->patterns, g_bytes_ref (literal));
  g_ptr_array_add (l->origins, origin);
  g_hash_table_insert (l->seen, key, GUINT_TO_POINTER (l->patterns->len));
  return TRUE;
}

gboolean
vyre_patterns_load (const char *property, const char *path,
    gboolean ignore_case, GPtrArray ** out, GPtrArray ** notes,
    GError ** error)
{
  Loader l = {
    .ignore_case = ignore_case,
    .patterns = g_ptr_array_new_with_free_func ((GDestroyNotify)
        g_bytes_unref),
    .origins = g_ptr_array_new_with_free_func (g_free),
    .seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
        (GDestroyNotify) g_bytes_unref, NULL),
    .notes = g_ptr_array_new_with_free_func (g_free),
  };
  GPtrArray *got = NULL;
  GArray *where = g_array_new (FALSE, FALSE, sizeof (guint));
  gboolean ok = TRUE;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (property != NULL && *property != '\0') {
    ok = parse_property_numbered (property, &got, where, error);
    for (guint i = 0; ok && i < got->len; i++) {
      guint item = g_array_index (where, guint, i);
      note_lost_backslashes (&l, got->pdata[i], item);
      ok = loader_add (&l, got->pdata[i],
          g_strdup_printf ("patterns item %u", item), error);
    }
    g_clear_pointer (&got, g_ptr_array_unref);
    g_array_set_size (where, 0);
  }
  if (ok && path != NULL && *path != '\0') {
    ok = parse_file_numbered (path, &got, where, error);
    for (guint i = 0; ok && i < got->len; i++)
      ok = loader_add (&l, got->pdata[i], g_strdup_printf ("%s:%u", path,
              g_array_index (where, guint, i)), error);
    g_clear_pointer (&got, g_ptr_array_unref);
  }

  g_array_unref (where);
  g_ptr_array_unref (l.origins);
  g_hash_table_unref (l.seen);
  if (!ok) {
    g_ptr_array_unref (l.patterns);
    g_ptr_array_unref (l.notes);
    return FALSE;
  }
  *out = l.patterns;
  if (notes)
    *notes = l.notes;
  else
    g_ptr_array_unref (l.notes);
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
