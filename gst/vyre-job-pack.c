/* gst-vyre
 *
 * vyre-job-pack.c - see vyre-job-pack.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-job-pack.h"

#include "gstvyrefilemeta.h"
#include "vyre-match-events.h"

VyreJobPack *
vyre_job_pack_new (guint64 limit, guint64 edge)
{
  VyreJobPack *pack = g_new0 (VyreJobPack, 1);
  pack->members = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mini_object_unref);
  pack->limit = limit;
  pack->edge = edge;
  return pack;
}

void
vyre_job_pack_free (VyreJobPack * pack)
{
  if (pack == NULL)
    return;
  g_ptr_array_unref (pack->members);
  g_free (pack);
}

gboolean
vyre_job_pack_takes (GstBuffer * buf, gsize size, guint64 limit)
{
  GstVyreFileMeta *fm = gst_buffer_get_vyre_file_meta (buf);
  return fm != NULL && fm->file_offset == 0 && fm->file_size == size &&
      size <= limit / 2;
}

gboolean
vyre_job_pack_continues (const VyreJobPack * pack, GstBuffer * buf,
    guint64 arena_offset, gsize size)
{
  if (pack->n_buffers == 0)
    return TRUE;
  if (pack->len + size > pack->limit)
    return FALSE;
  if (GST_BUFFER_OFFSET_IS_VALID (buf) &&
      GST_BUFFER_OFFSET (buf) != pack->stream_offset + pack->len)
    return FALSE;
  /* An empty file has no bytes to place; the run's bytes stay contiguous,
   * and in one chunk (blocks next to each other may lie in two). */
  return size == 0 || pack->len == 0 ||
      (arena_offset == pack->arena_offset + pack->len && (pack->edge == 0
          || pack->arena_offset / pack->edge ==
          (arena_offset + size - 1) / pack->edge));
}

void
vyre_job_pack_add_buffer (VyreJobPack * pack, GstBuffer * buf,
    guint64 arena_offset)
{
  gsize size = gst_buffer_get_size (buf);
  if (pack->n_buffers == 0)
    pack->stream_offset = GST_BUFFER_OFFSET_IS_VALID (buf) ?
        GST_BUFFER_OFFSET (buf) : 0;
  if (pack->len == 0 && size > 0)
    pack->arena_offset = arena_offset;
  pack->len += size;
  pack->n_buffers++;
  g_ptr_array_add (pack->members, buf);
}

void
vyre_job_pack_add_event (VyreJobPack * pack, GstEvent * event)
{
  g_ptr_array_add (pack->members, event);
}

/* Index of the buffer holding stream offset `at`: the last one whose
 * first byte is at or before it (starts: the buffers' first offsets, in
 * order; empty files share a start with the next file and come first, so
 * the last of equal starts is the one with bytes). */
static guint
buffer_at (const guint64 * starts, guint n, guint64 at)
{
  guint lo = 0, hi = n;         /* the answer is in [lo, hi) */
  while (hi - lo > 1) {
    guint mid = lo + (hi - lo) / 2;
    if (starts[mid] <= at)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

guint64
vyre_job_pack_split (const VyreJobPack * pack, GArray * matches,
    const guint * pattern_len, GArray ** per_buffer)
{
  guint n = pack->n_buffers;
  guint64 *starts = g_new (guint64, MAX (n, 1));
  guint64 pos = pack->stream_offset;
  guint k = 0;
  for (guint i = 0; i < pack->members->len; i++) {
    GstMiniObject *o = g_ptr_array_index (pack->members, i);
    if (!GST_IS_BUFFER (o))
      continue;
    starts[k] = pos;
    per_buffer[k] = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
    pos += gst_buffer_get_size (GST_BUFFER_CAST (o));
    k++;
  }
  guint64 dropped = 0;
  const GstVyreMatch *m = (const GstVyreMatch *) matches->data;
  for (guint i = 0; i < matches->len; i++) {
    guint64 end = m[i].offset + pattern_len[m[i].pattern_id] - 1;
    guint b = buffer_at (starts, n, end);
    if (m[i].offset < starts[b]) {
      dropped++;                /* begins in an earlier file */
      continue;
    }
    g_array_append_val (per_buffer[b], m[i]);
  }
  for (guint b = 0; b < n; b++)
    vyre_match_events_sort (per_buffer[b]);
  g_free (starts);
  return dropped;
}
