/* gst-vyre
 *
 * replay.c - runs a fuzz target over files without libFuzzer: the meson
 * tests <target>-replay (see fuzz_target.h).
 *
 *   <target>-replay PATH...   each PATH a file or a directory of files
 *
 * Every file is fed to LLVMFuzzerTestOneInput once, directories in name
 * order (so a failure names the same file on every run).  Exits 1 when a
 * path cannot be read or no input was found at all: an empty or missing
 * corpus must not pass as "nothing crashed".  A crash or a broken contract
 * aborts with the file's name printed just before.
 */
#include <glib.h>
#include <string.h>

#include "fuzz_target.h"

static gboolean
replay_file (const char *path, guint * count)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (path, &data, &len, &error)) {
    g_printerr ("replay: %s. Fix: check the corpus path.\n", error->message);
    return FALSE;
  }
  g_print ("replay: %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  /* Flushed first, so a crash in the target still names the input. */
  fflush (stdout);
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  (*count)++;
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean
replay_dir (const char *path, guint * count)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL) {
    g_printerr ("replay: %s. Fix: check the corpus path.\n", error->message);
    return FALSE;
  }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    if (!replay_file (names->pdata[i], count))
      return FALSE;
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint count = 0;

  for (int i = 1; i < argc; i++) {
    gboolean ok = g_file_test (argv[i], G_FILE_TEST_IS_DIR)
        ? replay_dir (argv[i], &count) : replay_file (argv[i], &count);
    if (!ok)
      return 1;
  }
  if (count == 0) {
    g_printerr ("replay: no inputs in %s. Fix: pass the corpus directory "
        "(tests/fuzz/corpus/<target>) or input files.\n",
        argc > 1 ? argv[1] : "(no paths given)");
    return 1;
  }
  g_print ("replay: %u inputs, no crash and no broken contract\n", count);
  return 0;
}
