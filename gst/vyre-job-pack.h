/* gst-vyre
 *
 * vyre-job-pack.h - small whole files scanned as one GPU job, and the
 * job's matches split back among them.
 *
 * A tree is mostly small files.  One GPU job per file costs a ring round
 * trip per file; vyrescan instead scans a run of consecutive small files
 * as one job when their bytes lie side by side in the arena (its allocator
 * carves small reads one after the other: gstvyrememory.h) and in the
 * stream.  The kernel scans the run as one stretch of bytes; the files are
 * kept apart on the host, exactly: the Aho-Corasick automaton reports at
 * each position every pattern that ends there, whatever came before the
 * match's first byte, so the matches of the run are those of the files
 * scanned one by one plus the ones that begin in one file and end in a
 * later one, which vyre_job_pack_split() drops.
 *
 * Members: the run's buffers, each a whole file (GstVyreFileMeta with
 * file_offset 0 and file_size its size) or an empty file, and the tag
 * events between them (vyreurisrc sends each file's location as a tag),
 * kept in stream order so they leave vyrescan in it.
 */
#ifndef __VYRE_JOB_PACK_H__
#define __VYRE_JOB_PACK_H__

#include <gst/gst.h>

#include "gstvyrescanmeta.h"

G_BEGIN_DECLS

typedef struct
{
  GPtrArray *members;           /* GstMiniObject: GstBuffer, GstEvent */
  guint n_buffers;
  guint64 arena_offset;         /* of the run's first byte */
  guint64 stream_offset;        /* of the run's first byte */
  guint64 len;                  /* bytes of the run */
  guint64 limit;                /* at most this many bytes */
  guint64 edge;                 /* arena chunk size, or 0 */
} VyreJobPack;

/* An empty pack of at most `limit` bytes whose run never crosses a
 * multiple of `edge` in the arena (the arena's chunk edges: the kernel
 * refuses a job across one; 0: no edge). */
VyreJobPack *vyre_job_pack_new (guint64 limit, guint64 edge);

/* Frees the pack and drops what it still holds. */
void vyre_job_pack_free (VyreJobPack * pack);

/* Whether buf, of `size` bytes, can be a member of some pack: a whole
 * file no larger than limit / 2 (a larger one gains nothing from sharing
 * a job), or an empty file. */
gboolean vyre_job_pack_takes (GstBuffer * buf, gsize size, guint64 limit);

/* Whether buf (vyre_job_pack_takes() TRUE; its bytes at arena_offset of
 * the arena when size > 0) continues the run: its bytes come right after
 * the pack's, in the arena and in the stream, and fit in the limit and
 * the run's arena chunk.  An empty pack takes any such buffer. */
gboolean vyre_job_pack_continues (const VyreJobPack * pack, GstBuffer * buf,
    guint64 arena_offset, gsize size);

/* Appends buf (the pack takes the reference) / a tag event. */
void vyre_job_pack_add_buffer (VyreJobPack * pack, GstBuffer * buf,
    guint64 arena_offset);
void vyre_job_pack_add_event (VyreJobPack * pack, GstEvent * event);

/* Splits the run's matches (GstVyreMatch, any order) among its buffers:
 * a match goes to the buffer holding its last byte, and is dropped when
 * its first byte lies before that buffer (in an earlier file).
 * pattern_len[id] is pattern id's length.  per_buffer: n_buffers arrays
 * (created here, the caller unrefs them), in stream order, each sorted
 * by (offset, pattern_id).  Returns the number of matches dropped. */
guint64 vyre_job_pack_split (const VyreJobPack * pack, GArray * matches,
    const guint * pattern_len, GArray ** per_buffer);

G_END_DECLS
#endif /* __VYRE_JOB_PACK_H__ */
