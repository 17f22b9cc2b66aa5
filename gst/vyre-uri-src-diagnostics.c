/* gst-vyre
 *
 * vyre-uri-src-diagnostics.c - see vyre-uri-src-diagnostics.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-uri-src-diagnostics.h"

#include <errno.h>
#include <sys/resource.h>

GST_DEBUG_CATEGORY_EXTERN (vyre_uri_src_debug);
#define GST_CAT_DEFAULT vyre_uri_src_debug

gchar *
vyre_size_text (guint64 bytes)
{
  static const char *units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
  double v = (double) bytes;
  guint u = 0;
  while (v >= 1024.0 && u + 1 < G_N_ELEMENTS (units)) {
    v /= 1024.0;
    u++;
  }
  if (u == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
  if (v == (double) (guint64) v)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " %s", (guint64) v, units[u]);
  return g_strdup_printf ("%.1f %s", v, units[u]);
}

gchar *
vyre_memlock_text (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_MEMLOCK, &rl) != 0)
    return g_strdup ("unknown");
  if (rl.rlim_cur == RLIM_INFINITY)
    return g_strdup ("unlimited");
  return vyre_size_text ((guint64) rl.rlim_cur);
}

void
vyre_uri_src_error_open (GstElement * el, const gchar * path, int e)
{
  switch (e) {
    case ENOENT:
    case ENOTDIR:
      GST_ELEMENT_ERROR (el, RESOURCE, NOT_FOUND,
          ("Could not open \"%s\" for reading: %s.", path, g_strerror (e)),
          ("open(\"%s\", O_RDONLY) failed: %s (errno %d). Fix: check that the "
              "location property (or file:// URI) names an existing file.",
              path, g_strerror (e), e));
      break;
    case EACCES:
    case EPERM:
      GST_ELEMENT_ERROR (el, RESOURCE, OPEN_READ,
          ("Could not open \"%s\" for reading: %s.", path, g_strerror (e)),
          ("open(\"%s\", O_RDONLY) failed: %s (errno %d). Fix: make the file "
              "readable by this user (chmod/chown or an ACL) and its "
              "directories searchable, or run the pipeline as a user that "
              "may read it.", path, g_strerror (e), e));
      break;
    default:
      GST_ELEMENT_ERROR (el, RESOURCE, OPEN_READ,
          ("Could not open \"%s\" for reading: %s.", path, g_strerror (e)),
          ("open(\"%s\", O_RDONLY) failed: %s (errno %d). Fix: check the "
              "file and the file system it is on.", path, g_strerror (e), e));
      break;
  }
}

void
vyre_uri_src_warn_direct_refused (GstElement * el, const gchar * path, int e,
    const gchar * when)
{
  GST_ELEMENT_WARNING (el, RESOURCE, SETTINGS,
      ("O_DIRECT refused for \"%s\" (%s): reading through the page cache "
          "instead.", path, g_strerror (e)),
      ("%s failed with %s. Some file systems have no direct I/O (tmpfs "
          "before Linux 6.6, several FUSE and network file systems). Fix: put "
          "the file on a file system with direct I/O (ext4, xfs, btrfs, a "
          "block device), or set direct=false.", when, g_strerror (e)));
}

void
vyre_uri_src_warn_uring_unavailable (GstElement * el, int e)
{
  const gchar *why, *fix;
  switch (e) {
    case EPERM:
    case EACCES:
      why = "io_uring is blocked for this process: a seccomp filter (the "
          "default Docker/podman profiles, systemd SystemCallFilter=), or "
          "sysctl kernel.io_uring_disabled";
      fix = "allow io_uring_setup, io_uring_enter and io_uring_register in "
          "the seccomp profile (docker run --security-opt seccomp=...), or "
          "set kernel.io_uring_disabled=0 (or add the user to "
          "kernel.io_uring_group)";
      break;
    case ENOSYS:
      why = "the kernel has no io_uring (older than 5.6, or built without "
          "CONFIG_IO_URING)";
      fix = "run on Linux 5.6 or newer with io_uring enabled";
      break;
    case ENOMEM:
      why = "the kernel could not allocate the ring (memory cgroup limit, or "
          "RLIMIT_MEMLOCK on kernels before 5.12)";
      fix = "raise the memory limit (ulimit -l unlimited, LimitMEMLOCK= in a "
          "systemd unit) or lower queue-depth";
      break;
    default:
      why = "io_uring_setup failed";
      fix = "check the kernel's io_uring support";
      break;
  }
  GST_ELEMENT_WARNING (el, RESOURCE, SETTINGS,
      ("io_uring is not available (%s): reading with pread(2), one block "
          "at a time.", g_strerror (e)),
      ("%s. Fix: %s; or set io-mode=pread to choose this mode and silence "
          "this warning.", why, fix));
}

void
vyre_uri_src_warn_fixed_unavailable (GstElement * el, int e, guint registered,
    guint wanted, gsize block_bytes)
{
  gchar *need = vyre_size_text ((guint64) wanted * block_bytes);
  gchar *limit = vyre_memlock_text ();
  gchar *outcome = registered ?
      g_strdup_printf ("registered %u of %u read buffers, the others use "
      "plain io_uring reads", registered, wanted) :
      g_strdup ("using plain io_uring reads (no registered buffers)");
  switch (e) {
    case ENOMEM:
      GST_ELEMENT_WARNING (el, RESOURCE, SETTINGS,
          ("Could not register %s of read buffers with io_uring (%s): %s.",
              need, g_strerror (e), outcome),
          ("Registered buffers are pinned and count against RLIMIT_MEMLOCK, "
              "now %s. Fix: raise it where the pipeline starts: `ulimit -l "
              "unlimited` (or a value above %s) in the shell, "
              "LimitMEMLOCK=infinity in a systemd unit, a 'memlock' line in "
              "/etc/security/limits.conf; or lower blocksize or queue-depth; "
              "or set io-mode=read.", limit, need));
      break;
    case EFAULT:
    case EOPNOTSUPP:
      GST_ELEMENT_WARNING (el, RESOURCE, SETTINGS,
          ("The read buffers cannot be registered with io_uring (%s): %s.",
              g_strerror (e), outcome),
          ("The kernel cannot pin this memory. That is expected for device "
              "memory such as a GPU BAR mapping, and for kernels without "
              "IORING_OP_READ_FIXED. Fix: nothing is wrong; set io-mode=read "
              "to choose plain reads and silence this warning."));
      break;
    default:
      GST_ELEMENT_WARNING (el, RESOURCE, SETTINGS,
          ("Could not register read buffers with io_uring (%s): %s.",
              g_strerror (e), outcome),
          ("io_uring_register(IORING_REGISTER_BUFFERS) failed for %u buffers "
              "of %" G_GSIZE_FORMAT " bytes. Fix: lower blocksize (one "
              "registered buffer is at most 1 GiB), or set io-mode=read.",
              wanted, block_bytes));
      break;
  }
  g_free (need);
  g_free (limit);
  g_free (outcome);
}

void
vyre_uri_src_error_read (GstElement * el, const gchar * path, guint64 offset,
    guint64 read_offset, gsize read_len, int err, const gchar * how,
    const gchar * pseudo_fs)
{
  gchar *fix;
  if (pseudo_fs)
    fix = g_strdup_printf ("\"%s\" is on %s, whose files the kernel makes up "
        "when they are read; this one refuses to be read as a stream of "
        "bytes (/proc/PID/mem, for one, reads only at addresses the process "
        "has mapped). Scan a file that holds data, or copy what the kernel "
        "does give out into a regular file first.", path, pseudo_fs);
  else if (err == EIO)
    fix = g_strdup ("the device reported an error: check `dmesg` and the "
        "disk's health (smartctl), or the network share the file is on.");
  else
    fix = g_strdup ("check the file and its file system.");
  GST_ELEMENT_ERROR (el, RESOURCE, READ,
      ("Could not read \"%s\" at offset %" G_GUINT64_FORMAT ": %s.",
          path, offset, g_strerror (err)),
      ("%s of %" G_GSIZE_FORMAT " bytes at %" G_GUINT64_FORMAT " failed "
          "with errno %d (%s). Fix: %s", how, read_len, read_offset, err,
          g_strerror (err), fix));
  g_free (fix);
}

void
vyre_uri_src_error_shrank (GstElement * el, const gchar * path, guint64 known,
    guint64 end, guint64 read_offset, gsize need, gsize done, gboolean eof)
{
  GST_ELEMENT_ERROR (el, RESOURCE, READ,
      ("\"%s\" shrank while being read: it had %" G_GUINT64_FORMAT
          " bytes, end of file came at byte %" G_GUINT64_FORMAT ".", path,
          known, end),
      ("A read at %" G_GUINT64_FORMAT " wanted %" G_GSIZE_FORMAT " bytes "
          "and got %" G_GSIZE_FORMAT " before end of file%s. Fix: do not "
          "truncate or rewrite a file while it is streamed; stream a copy "
          "or a snapshot.", read_offset, need, done,
          eof ? "" : " (no error reported)"));
}

void
vyre_uri_src_post_file_skipped (GstElement * el, const gchar * path,
    const gchar * reason, const gchar * description, int err,
    guint64 bytes_read, gboolean trouble)
{
  GST_INFO_OBJECT (el, "skipped %s: %s", path, description);
  GstStructure *s = gst_structure_new ("vyre-file-skipped",
      "path", G_TYPE_STRING, path,
      "reason", G_TYPE_STRING, reason,
      "description", G_TYPE_STRING, description,
      "errno", G_TYPE_INT, err,
      "bytes-read", G_TYPE_UINT64, bytes_read,
      "trouble", G_TYPE_BOOLEAN, trouble, NULL);
  gst_element_post_message (el, gst_message_new_element (GST_OBJECT (el), s));
}

void
vyre_uri_src_error_file_trouble (GstElement * el, const gchar * path,
    const gchar * description)
{
  GST_ELEMENT_ERROR (el, RESOURCE, READ,
      ("Could not scan \"%s\": %s.", path, description),
      ("strict=true makes any file that cannot be scanned an error. Fix: "
          "make the file readable or remove it from the tree or the list "
          "(exclude=... skips it), or set strict=false to skip it, name it "
          "in a vyre-file-skipped message and go on."));
}
