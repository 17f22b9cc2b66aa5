/* gst-vyre
 *
 * gstvyrefilemeta.h - GstVyreFileMeta: which file a buffer's bytes come
 * from, and where in that file.
 *
 * vyreurisrc puts one on every buffer it pushes.  When it reads several
 * files (location a directory, or files-from), the stream is their
 * concatenation in one BYTES segment: GST_BUFFER_OFFSET counts bytes from
 * the start of the stream, across files.  This meta maps those stream
 * offsets back to files, so a scanner or a report can say "file F, byte B":
 *
 *   byte at stream offset S of buffer b (GST_BUFFER_OFFSET (b) <= S <
 *   GST_BUFFER_OFFSET_END (b)) is byte  meta->file_offset +
 *   (S - GST_BUFFER_OFFSET (b))  of file meta->path.
 *
 * Contract:
 *  - a buffer never holds bytes of two files;
 *  - file_index counts the files the source has read, from 0, in stream
 *    order; it changes exactly at a buffer flagged DISCONT; skipped files
 *    take no index; an empty file takes one, with one empty buffer (so
 *    downstream counts and names it), so index k is the k-th file read;
 *  - path is the file's path as it was opened (the walk's root joined
 *    with the relative path, or the files-from entry as listed), in the
 *    file system's encoding (not necessarily UTF-8).  It is a GRefString:
 *    the same string is shared by every buffer of a file; to keep it past
 *    the buffer's life take a reference (g_ref_string_acquire) or copy it;
 *  - file_size is the size the file had when it was opened, or
 *    GST_VYRE_FILE_SIZE_UNKNOWN for files read to end of file (procfs,
 *    sysfs, files of stat size 0); a file that shrinks while it is read
 *    ends early (the source says so in a vyre-file-skipped message).
 *
 * Copies of a buffer carry the meta; a copy of a region of the buffer
 * carries it with file_offset moved to the region's first byte.
 */
#ifndef __GST_VYRE_FILE_META_H__
#define __GST_VYRE_FILE_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_VYRE_FILE_SIZE_UNKNOWN G_MAXUINT64

/* A custom query (GST_QUERY_CUSTOM) whose structure has this name asks how
 * many files a source of several files met: vyreurisrc answers with the
 * field "total" (#guint64: files listed to read plus files left out by the
 * walk), once it started; a single file or a source that knows nothing of
 * it does not answer. */
#define GST_VYRE_FILES_QUERY "vyre-files"

typedef struct
{
  GstMeta meta;

  guint file_index;             /* 0-based, in stream order */
  gchar *path;                  /* GRefString, as opened */
  guint64 file_offset;          /* file offset of the buffer's first byte */
  guint64 file_size;            /* at open, or GST_VYRE_FILE_SIZE_UNKNOWN */
} GstVyreFileMeta;

GType gst_vyre_file_meta_api_get_type (void);
#define GST_VYRE_FILE_META_API_TYPE (gst_vyre_file_meta_api_get_type ())
const GstMetaInfo *gst_vyre_file_meta_get_info (void);
#define GST_VYRE_FILE_META_INFO (gst_vyre_file_meta_get_info ())

#define gst_buffer_get_vyre_file_meta(b) \
  ((GstVyreFileMeta *) gst_buffer_get_meta ((b), GST_VYRE_FILE_META_API_TYPE))

/* Adds the meta; path must be a GRefString (g_ref_string_new): the meta
 * takes a reference of its own. */
GstVyreFileMeta *gst_buffer_add_vyre_file_meta (GstBuffer * buffer,
    guint file_index, gchar * path, guint64 file_offset, guint64 file_size);

G_END_DECLS
#endif /* __GST_VYRE_FILE_META_H__ */
