/* gst-vyre
 *
 * vyre-uri-src-diagnostics.h - the errors and warnings vyreurisrc posts,
 * each saying what failed (the path, the errno text), why that happens and
 * "Fix: ..." what to do.  Kept apart so the element's code reads as what
 * it does, not as what it says.
 *
 * Every function posts one GST_ELEMENT_ERROR or GST_ELEMENT_WARNING on
 * `el`; deciding whether to post (once per element for fallbacks) is the
 * caller's.
 */
#ifndef VYRE_URI_SRC_DIAGNOSTICS_H
#define VYRE_URI_SRC_DIAGNOSTICS_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* "8 MiB", "1.5 GiB": plain ASCII (g_format_size puts a no-break space
 * between number and unit, which terminals in the C locale mangle). */
gchar *vyre_size_text (guint64 bytes);

/* RLIMIT_MEMLOCK as text: "8 MiB", "unlimited". */
gchar *vyre_memlock_text (void);

/* Error: open(path) failed with errno e. */
void vyre_uri_src_error_open (GstElement * el, const gchar * path, int e);

/* Warning: O_DIRECT was refused (errno e) by `when` ("open(O_DIRECT)",
 * "a read with O_DIRECT"); reads go through the page cache. */
void vyre_uri_src_warn_direct_refused (GstElement * el, const gchar * path,
    int e, const gchar * when);

/* Warning: io_uring_setup failed with e; reads fall back to pread. */
void vyre_uri_src_warn_uring_unavailable (GstElement * el, int e);

/* Warning: registering the read buffers failed with e; `registered` of
 * `wanted` blocks of block_bytes took, the others use plain reads. */
void vyre_uri_src_warn_fixed_unavailable (GstElement * el, int e,
    guint registered, guint wanted, gsize block_bytes);

/* Error: a read of read_len bytes at read_offset (for the bytes at
 * `offset`) failed with err.  `how` names the call ("pread", "io_uring
 * read"); pseudo_fs names the file system when it is one whose files are
 * made up by the kernel ("procfs", "sysfs"), else NULL. */
void vyre_uri_src_error_read (GstElement * el, const gchar * path,
    guint64 offset, guint64 read_offset, gsize read_len, int err,
    const gchar * how, const gchar * pseudo_fs);

/* Error: end of file came at byte `end` of a file that had `known` bytes
 * (a read at read_offset wanted `need` bytes and got `done`). */
void vyre_uri_src_error_shrank (GstElement * el, const gchar * path,
    guint64 known, guint64 end, guint64 read_offset, gsize need, gsize done,
    gboolean eof);

/* Element message "vyre-file-skipped", posted once for every entry of a
 * walk or a files-from list whose bytes are not (or not all) in the
 * stream.  Fields:
 *   path         string   the path as listed (file-system encoding)
 *   reason       string   a stable name: the walk's ("excluded",
 *                         "too-large", "vcs", "symlink", "loop", "special",
 *                         "not-recursive", "directory", "unreadable") or
 *                         the reader's ("vanished", "open-failed",
 *                         "not-regular", "read-error", "shrank", "binary")
 *   description  string   the same for people, with the errno text
 *   errno        int      the errno behind it, or 0
 *   bytes-read   guint64  bytes of the file already pushed downstream
 *                         (non-zero only for read-error and shrank: the
 *                         stream holds the file's first bytes-read bytes)
 *   trouble      boolean  TRUE when the file itself is at fault (what
 *                         strict=true turns into an error), FALSE when the
 *                         options left it out */
void vyre_uri_src_post_file_skipped (GstElement * el, const gchar * path,
    const gchar * reason, const gchar * description, int err,
    guint64 bytes_read, gboolean trouble);

/* Error (strict=true): the file at path could not be scanned;
 * description says why. */
void vyre_uri_src_error_file_trouble (GstElement * el, const gchar * path,
    const gchar * description);

G_END_DECLS
#endif /* VYRE_URI_SRC_DIAGNOSTICS_H */
