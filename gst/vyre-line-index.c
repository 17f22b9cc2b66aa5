/* gst-vyre
 *
 * vyre-line-index.c - line and column of match offsets, counted
 * incrementally from the page cache (pread) or from lent buffer bytes.
 * Contracts in vyre-line-index.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memrchr */
#endif

#include "vyre-line-index.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* pread piece: large enough that the syscall is noise next to the
 * counting, small enough to stay in the L2 cache. */
#define READ_CHUNK (1u << 20)
/* Per-lane byte counters overflow after 255 additions. */
#define MAX_VECTORS_PER_SUM 255

struct _VyreLineIndex
{
  gboolean count_chars;

  gchar *path;                  /* NULL: positions in lent bytes */
  gint fd;                      /* -1: not opened (yet) */
  gboolean open_failed;
  guint8 *chunk;                /* READ_CHUNK bytes for pread, lazily */
  guint64 chunk_start;          /* file offset of chunk[0] */
  gsize chunk_len;              /* bytes in chunk (0: none) */

  /* Everything before `pos` is counted: the byte at pos is on line
   * `line`, which starts at line_start; `chars` code points lie between
   * line_start and pos.  After a jump over counts the scan made,
   * line_start and chars are unknown until a newline is read or
   * find_line_start() looks back for one. */
  guint64 pos;
  guint64 line;
  guint64 line_start;
  guint64 chars;
  gboolean line_start_known;

  /* The scan's newline counts (vyre_line_index_add_newline_count): the
   * file's pieces from its start, as (end, newlines before end); the
   * next one must start at known_end.  known_next: the first piece not
   * yet behind pos. */
  GArray *known;                /* KnownCount */
  guint64 known_end;
  gboolean known_broken;
  guint known_next;

  /* Lent bytes: those kept from earlier loans, then the current loan. */
  GByteArray *kept;
  guint64 kept_start;
  const guint8 *lent;
  guint64 lent_start;
  gsize lent_len;
};

typedef struct
{
  guint64 end;                  /* file offset the piece ends at */
  guint64 newlines;             /* in the file's bytes [0, end) */
} KnownCount;

/* ------------------------------------------------------------------ */
/* counting                                                            */

/* GCC/Clang vector extensions: SSE2 on x86-64, NEON on arm64, plain
 * code elsewhere; 16 bytes compared per instruction. */
typedef guint8 ByteVector __attribute__ ((vector_size (16)));

/* Bytes b of data with (b & mask) == value. */
static inline guint64
count_bytes_masked (const guint8 * data, gsize len, guint8 mask, guint8 value)
{
  ByteVector zero = { 0 };
  const ByteVector vmask = zero + mask, vvalue = zero + value;
  guint64 n = 0;
  gsize i = 0;
  while (len - i >= 16) {
    ByteVector sum = zero;
    gsize vectors = MIN ((len - i) / 16, MAX_VECTORS_PER_SUM);
    for (gsize k = 0; k < vectors; k++, i += 16) {
      ByteVector v;
      memcpy (&v, data + i, 16);
      /* a comparison gives -1 (all bits) per equal byte */
      sum -= (ByteVector) ((v & vmask) == vvalue);
    }
    for (guint k = 0; k < 16; k++)
      n += sum[k];
  }
  for (; i < len; i++)
    n += (data[i] & mask) == value;
  return n;
}

guint64
vyre_count_newlines (const guint8 * data, gsize len)
{
  return count_bytes_masked (data, len, 0xff, '\n');
}

/* Code points in UTF-8 text: the bytes that are not continuation bytes. */
static guint64
count_chars (const guint8 * data, gsize len)
{
  return len - count_bytes_masked (data, len, 0xc0, 0x80);
}

/* ------------------------------------------------------------------ */
/* where the bytes come from                                           */

static gboolean
open_file (VyreLineIndex * self)
{
  if (self->fd >= 0)
    return TRUE;
  if (self->open_failed)
    return FALSE;
  /* O_NONBLOCK: never wait on something that turned into a FIFO since it
   * was scanned; only regular files are read. */
  gint fd = open (self->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st;
  if (fd >= 0 && (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))) {
    close (fd);
    fd = -1;
  }
  if (fd < 0) {
    self->open_failed = TRUE;
    return FALSE;
  }
  self->fd = fd;
  if (self->chunk == NULL)
    self->chunk = g_malloc (READ_CHUNK);
  return TRUE;
}

/* The kept piece becomes the file's bytes from `offset`, at most len
 * (<= READ_CHUNK); the pread's result (short or failed: fewer kept). */
static gssize
read_piece (VyreLineIndex * self, guint64 offset, gsize len)
{
  gssize n;
  do
    n = pread (self->fd, self->chunk, len, (off_t) offset);
  while (n < 0 && errno == EINTR);
  self->chunk_start = offset;
  self->chunk_len = n > 0 ? (gsize) n : 0;
  return n;
}

/* Up to `max` bytes at `offset`: *data points at them, *len says how
 * many (at least 1).  FALSE when none are available there. */
static gboolean
bytes_at (VyreLineIndex * self, guint64 offset, guint64 max,
    const guint8 ** data, gsize * len)
{
  if (max == 0)
    return FALSE;
  if (self->path) {
    if (!open_file (self))
      return FALSE;
    /* Whole pieces, kept: dense matches ask a few bytes at a time, and a
     * read per match would cost a system call each (1.3 us). */
    if ((offset < self->chunk_start
            || offset >= self->chunk_start + self->chunk_len)
        && read_piece (self, offset, READ_CHUNK) <= 0)
      return FALSE;
    gsize at = (gsize) (offset - self->chunk_start);
    *data = self->chunk + at;
    *len = MIN (max, self->chunk_len - at);
    return TRUE;
  }
  guint64 kept_end = self->kept_start + self->kept->len;
  if (offset >= self->kept_start && offset < kept_end) {
    *data = self->kept->data + (offset - self->kept_start);
    *len = MIN (max, kept_end - offset);
    return TRUE;
  }
  if (self->lent && offset >= self->lent_start &&
      offset < self->lent_start + self->lent_len) {
    *data = self->lent + (offset - self->lent_start);
    *len = MIN (max, self->lent_start + self->lent_len - offset);
    return TRUE;
  }
  return FALSE;
}

/* Jump to the end of the last piece the scan counted that ends after
 * pos and at or before `to`: its newlines are known, its bytes need not
 * be read (the line's start is then unknown). */
static void
jump_known (VyreLineIndex * self, guint64 to)
{
  const KnownCount *best = NULL;
  while (self->known_next < self->known->len) {
    const KnownCount *k = &g_array_index (self->known, KnownCount,
        self->known_next);
    if (k->end > to)
      break;
    if (k->end > self->pos)
      best = k;
    self->known_next++;
  }
  if (best == NULL)
    return;
  self->pos = best->end;
  self->line = 1 + best->newlines;
  self->line_start_known = FALSE;
}

/* Count up to `to`.  FALSE when the bytes run out before it. */
static gboolean
advance (VyreLineIndex * self, guint64 to)
{
  jump_known (self, to);
  while (self->pos < to) {
    const guint8 *data;
    gsize len;
    if (!bytes_at (self, self->pos, to - self->pos, &data, &len))
      return FALSE;
    guint64 newlines = vyre_count_newlines (data, len);
    if (newlines > 0) {
      const guint8 *last = memrchr (data, '\n', len);
      self->line += newlines;
      self->line_start = self->pos + (last - data) + 1;
      self->line_start_known = TRUE;
      if (self->count_chars)
        self->chars = count_chars (last + 1, data + len - (last + 1));
    } else if (self->count_chars) {
      self->chars += count_chars (data, len);
    }
    self->pos += len;
  }
  return TRUE;
}

/* Exactly the file's bytes [start, start + len) (len <= READ_CHUNK):
 * from the piece kept if it holds them, else read alone (a line's start
 * is usually a few bytes back: reading a whole piece for it would cost
 * more than the jump saved).  NULL when they cannot be read. */
static const guint8 *
window_at (VyreLineIndex * self, guint64 start, gsize len)
{
  if (start >= self->chunk_start &&
      start + len <= self->chunk_start + self->chunk_len)
    return self->chunk + (start - self->chunk_start);
  if (!open_file (self))
    return NULL;
  return read_piece (self, start, len) == (gssize) len ? self->chunk : NULL;
}

/* After a jump: the start of pos's line, the last newline before pos
 * looked for backwards in windows of 4 KiB, 64 KiB, then 1 MiB (a line's
 * length, unless the file is one long line), and the code points from
 * there to pos.  FALSE when the bytes cannot be read. */
static gboolean
find_line_start (VyreLineIndex * self)
{
  guint64 end = self->pos, line_start = 0;
  gsize window = 4096;
  while (end > 0) {
    gsize len = (gsize) MIN ((guint64) window, end);
    const guint8 *data = window_at (self, end - len, len);
    if (data == NULL)
      return FALSE;
    const guint8 *last = memrchr (data, '\n', len);
    if (last) {
      line_start = end - len + (last - data) + 1;
      break;
    }
    end -= len;
    window = MIN (window * 16, READ_CHUNK);
  }
  self->line_start = line_start;
  self->chars = 0;
  for (guint64 at = line_start; self->count_chars && at < self->pos;) {
    gsize len = (gsize) MIN (self->pos - at, (guint64) READ_CHUNK);
    const guint8 *data = window_at (self, at, len);
    if (data == NULL)
      return FALSE;
    self->chars += count_chars (data, len);
    at += len;
  }
  self->line_start_known = TRUE;
  return TRUE;
}

static void
restart (VyreLineIndex * self)
{
  self->pos = self->line_start = self->chars = 0;
  self->line = 1;
  self->line_start_known = TRUE;
  self->known_next = 0;
}

/* ------------------------------------------------------------------ */

VyreLineIndex *
vyre_line_index_new (gboolean count_chars)
{
  VyreLineIndex *self = g_new0 (VyreLineIndex, 1);
  self->count_chars = count_chars;
  self->fd = -1;
  self->kept = g_byte_array_new ();
  self->known = g_array_new (FALSE, FALSE, sizeof (KnownCount));
  restart (self);
  return self;
}

void
vyre_line_index_free (VyreLineIndex * index)
{
  if (index == NULL)
    return;
  if (index->fd >= 0)
    close (index->fd);
  g_free (index->path);
  g_free (index->chunk);
  g_byte_array_unref (index->kept);
  g_array_unref (index->known);
  g_free (index);
}

void
vyre_line_index_begin_file (VyreLineIndex * index, const gchar * path)
{
  if (index->fd >= 0)
    close (index->fd);
  index->fd = -1;
  index->open_failed = FALSE;
  g_free (index->path);
  index->path = g_strdup (path);
  g_byte_array_set_size (index->kept, 0);
  index->kept_start = 0;
  index->lent = NULL;
  index->lent_start = index->lent_len = 0;
  index->chunk_start = index->chunk_len = 0;
  g_array_set_size (index->known, 0);
  index->known_end = 0;
  index->known_broken = FALSE;
  restart (index);
}

void
vyre_line_index_add_newline_count (VyreLineIndex * index, guint64 offset,
    guint64 len, guint64 newlines)
{
  if (index->path == NULL || index->known_broken || len == 0)
    return;
  if (offset != index->known_end) {
    index->known_broken = offset > index->known_end;
    return;
  }
  guint64 before = index->known->len ? g_array_index (index->known,
      KnownCount, index->known->len - 1).newlines : 0;
  KnownCount k = { offset + len, before + newlines };
  g_array_append_val (index->known, k);
  index->known_end = k.end;
}

gboolean
vyre_line_index_reads_file (VyreLineIndex * index)
{
  return index->path != NULL;
}

void
vyre_line_index_lend_bytes (VyreLineIndex * index, guint64 offset,
    const guint8 * data, gsize len)
{
  g_return_if_fail (index->path == NULL);
  if (index->kept->len == 0)
    index->kept_start = offset;
  index->lent = data;
  index->lent_start = offset;
  index->lent_len = len;
}

void
vyre_line_index_release (VyreLineIndex * index, guint64 keep_from)
{
  g_return_if_fail (index->path == NULL);
  guint64 end = index->lent ? index->lent_start + index->lent_len :
      index->kept_start + index->kept->len;
  keep_from = MIN (keep_from, end);
  if (index->pos < keep_from)
    advance (index, keep_from);
  keep_from = MAX (keep_from, index->kept_start);
  GByteArray *kept = g_byte_array_sized_new (end - keep_from);
  for (guint64 at = keep_from; at < end;) {
    const guint8 *data;
    gsize len;
    if (!bytes_at (index, at, end - at, &data, &len))
      break;
    g_byte_array_append (kept, data, len);
    at += len;
  }
  g_byte_array_unref (index->kept);
  index->kept = kept;
  index->kept_start = keep_from;
  index->lent = NULL;
  index->lent_len = 0;
}

gboolean
vyre_line_index_locate (VyreLineIndex * index, guint64 offset,
    VyreLinePosition * pos)
{
  memset (pos, 0, sizeof *pos);
  if (offset < index->pos) {
    /* out of order: a file can be counted again, released bytes not */
    if (index->path == NULL)
      return FALSE;
    restart (index);
  }
  if (!advance (index, offset) ||
      (!index->line_start_known && !find_line_start (index)))
    return FALSE;
  pos->line = index->line;
  pos->column = offset - index->line_start + 1;
  if (index->count_chars)
    pos->column_chars = index->chars + 1;
  return TRUE;
}

GBytes *
vyre_line_index_get_bytes (VyreLineIndex * index, guint64 from, guint64 to)
{
  GByteArray *out = g_byte_array_new ();
  /* lent bytes: what came before those kept is gone, clip to them */
  if (index->path == NULL)
    from = MAX (from, index->kept->len ? index->kept_start : index->lent_start);
  while (from < to) {
    const guint8 *data;
    gsize len;
    if (!bytes_at (index, from, to - from, &data, &len))
      break;
    g_byte_array_append (out, data, len);
    from += len;
  }
  return g_byte_array_free_to_bytes (out);
}
