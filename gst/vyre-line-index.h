/* gst-vyre
 *
 * vyre-line-index.h - line and column of byte offsets in one file at a
 * time, counted incrementally: vyresink asks for the position of each
 * match it writes, in order, and the index counts newlines only from the
 * previous match to the next.
 *
 * Where the bytes come from
 * -------------------------
 * The scanned bytes may live in GPU-readable memory behind the PCIe BAR,
 * which the CPU reads very slowly, so they are not read back when there
 * is a file to read instead:
 *  - vyre_line_index_begin_file() with a path: the file is opened
 *    read-only when the first position is asked (most files of a tree
 *    have no match and are never opened) and read with pread(2) in
 *    pieces of 1 MiB from the page cache, where the scan just read it.
 *    pread, not mmap: a file truncated meanwhile gives a short read (the
 *    position is then unknown), never SIGBUS.  Offsets are the file's.
 *  - with no path (standard input, filesrc, appsrc: a stream without
 *    GstVyreFileMeta): the caller lends every buffer's bytes as they pass
 *    (vyre_line_index_lend_bytes) and ends the loan with
 *    vyre_line_index_release(), naming the first offset it may still ask
 *    about; the index counts up to it and copies the bytes from there on
 *    (a pattern's length and a snippet's context: small) for the next
 *    buffer.  Offsets are the stream's.
 *
 * Positions
 * ---------
 * line: 1-based, lines end at '\n' (a "\r\n" file counts the same lines;
 * the '\r' is the last byte of its line).  column: 1-based, in bytes from
 * the line's first byte.  column_chars (only when the index was made with
 * count_chars): 1-based, in Unicode code points of UTF-8 text, counted as
 * the bytes of the line before the offset that are not UTF-8 continuation
 * bytes (0x80-0xBF) plus one: exact for valid UTF-8, one per lead or
 * stray byte otherwise.
 *
 * Offsets asked must not decrease within a file (matches come in stream
 * order).  An offset below the previous one restarts the count from the
 * file's start (files) or is unknown (lent bytes already released).
 *
 * Not thread-safe: one thread uses an index at a time.
 */
#ifndef __VYRE_LINE_INDEX_H__
#define __VYRE_LINE_INDEX_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VyreLineIndex VyreLineIndex;

typedef struct
{
  guint64 line;                 /* 1-based */
  guint64 column;               /* 1-based, bytes */
  guint64 column_chars;         /* 1-based, code points; 0 unless counted */
} VyreLinePosition;

/* A new index; count_chars also counts column_chars (one more look at
 * every byte counted: ask only when an output needs it). */
VyreLineIndex *vyre_line_index_new (gboolean count_chars);
void vyre_line_index_free (VyreLineIndex * index);

/* Positions from now on are in the file at `path` (file-system encoding;
 * copied), or, path NULL, in the bytes lent from now on.  Forgets the
 * previous file and any lent bytes. */
void vyre_line_index_begin_file (VyreLineIndex * index, const gchar * path);

/* The scan counted `newlines` newlines in the file's bytes [offset,
 * offset + len) (its histogram's '\n' bin): positions past them are then
 * found without reading those bytes, only the line of the position
 * itself (back to its start) and the bytes after the piece.  Pieces
 * count only in a chain from the file's start, each starting where the
 * one before ended; after a gap the rest of the file's are ignored (and
 * positions counted by reading).  Files only: ignored for lent bytes. */
void vyre_line_index_add_newline_count (VyreLineIndex * index,
    guint64 offset, guint64 len, guint64 newlines);

/* Whether the index reads positions from a file (a path was given)
 * rather than from lent bytes: a caller lends bytes only when not. */
gboolean vyre_line_index_reads_file (VyreLineIndex * index);

/* Lend `len` bytes at stream offset `offset` (following the bytes lent
 * before without a gap), borrowed until vyre_line_index_release(). */
void vyre_line_index_lend_bytes (VyreLineIndex * index, guint64 offset,
    const guint8 * data, gsize len);

/* End the loan: nothing below `keep_from` will be asked again; the lent
 * bytes from keep_from on are copied and stay available. */
void vyre_line_index_release (VyreLineIndex * index, guint64 keep_from);

/* The position of the byte at `offset`.  FALSE (pos zeroed) when it is
 * unknown: the file could not be opened or read that far, or the bytes
 * were released. */
gboolean vyre_line_index_locate (VyreLineIndex * index, guint64 offset,
    VyreLinePosition * pos);

/* Bytes [from, to) as far as they are available (a file's end or the
 * bytes lent or kept clip them; may be empty).  For snippets. */
GBytes *vyre_line_index_get_bytes (VyreLineIndex * index, guint64 from,
    guint64 to);

/* Newlines in len bytes at data: the count that line numbers are made
 * of, vectorised (exported for the benchmark and the tests). */
guint64 vyre_count_newlines (const guint8 * data, gsize len);

G_END_DECLS
#endif /* __VYRE_LINE_INDEX_H__ */
