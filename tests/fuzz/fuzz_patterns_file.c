/* gst-vyre
 *
 * fuzz_patterns_file.c - the patterns-file reader: vyre_patterns_parse_lines
 * on arbitrary text, and the same bytes read back from a file by
 * vyre_patterns_parse_file and vyre_patterns_load.
 *
 * Input: the file's bytes (NULs, CRs, invalid UTF-8 and all); ignore-case
 * is on for inputs of odd length.  The file is a memfd, opened by path
 * through /proc/self/fd (the reader opens paths), so no run touches the
 * disk.  Checked beyond "no crash, no leak, no UB": parsing the text and
 * reading the file agree; every error has a Fix; every literal survives
 * vyre_pattern_escape and parsing back; the loaded set has each literal
 * once and only literals of the file.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_patterns_common.h"

/* One memfd for the whole run, rewritten for every input. */
static int
patterns_fd (void)
{
  static int fd = -1;
  if (fd < 0) {
    fd = memfd_create ("vyre-fuzz-patterns", MFD_CLOEXEC);
    FUZZ_CHECK (fd >= 0, "memfd_create: %s", g_strerror (errno));
  }
  return fd;
}

static void
write_file (int fd, const uint8_t * data, size_t size)
{
  FUZZ_CHECK (ftruncate (fd, 0) == 0, "ftruncate: %s", g_strerror (errno));
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite (fd, data + done, size - done, done);
    FUZZ_CHECK (n > 0, "pwrite: %s", g_strerror (errno));
    done += n;
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const gboolean ignore_case = size & 1;
  g_autoptr (GPtrArray) from_text = NULL;
  g_autoptr (GError) text_error = NULL;
  gboolean text_ok;

  text_ok = vyre_patterns_parse_lines ((const char *) data, size,
      "fuzz.txt", &from_text, &text_error);
  if (text_ok) {
    FUZZ_CHECK (from_text->len > 0, "parsed to no literal");
    for (guint i = 0; i < from_text->len; i++)
      check_literal (from_text->pdata[i]);
  } else {
    check_error (text_error, "vyre_patterns_parse_lines");
  }

  const int fd = patterns_fd ();
  write_file (fd, data, size);
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", fd);

  g_autoptr (GPtrArray) from_file = NULL;
  g_autoptr (GError) file_error = NULL;
  gboolean file_ok = vyre_patterns_parse_file (path, &from_file, &file_error);
  FUZZ_CHECK (file_ok == text_ok, "the file %s, the same text %s",
      file_ok ? "parsed" : "failed", text_ok ? "parsed" : "failed");
  if (file_ok) {
    FUZZ_CHECK (from_file->len == from_text->len,
        "the file gave %u literals, the text %u", from_file->len,
        from_text->len);
    for (guint i = 0; i < from_file->len; i++)
      FUZZ_CHECK (g_bytes_equal (from_file->pdata[i], from_text->pdata[i]),
          "literal %u differs between file and text", i);
  } else {
    check_error (file_error, "vyre_patterns_parse_file");
  }

  g_autoptr (GPtrArray) set = NULL;
  g_autoptr (GPtrArray) notes = NULL;
  g_autoptr (GError) load_error = NULL;
  gboolean loaded = vyre_patterns_load (NULL, path, ignore_case, &set,
      &notes, &load_error);
  if (loaded) {
    FUZZ_CHECK (text_ok, "the load succeeded where the parse failed");
    check_loaded_set (set, notes, ignore_case);
    for (guint i = 0; i < set->len; i++) {
      gboolean found = FALSE;
      for (guint k = 0; k < from_text->len && !found; k++)
        found = g_bytes_equal (set->pdata[i], from_text->pdata[k]);
      FUZZ_CHECK (found, "loaded literal %u is not in the file", i);
    }
  } else {
    check_error (load_error, "vyre_patterns_load");
  }
  return 0;
}
