/* gst-vyre
 *
 * gstvyrescanmeta.h - GstVyreScanMeta: what vyrescan found in a buffer.
 *
 * Public API: applications read it from buffers leaving vyrescan (in a pad
 * probe, appsink or vyresink).  Offsets are absolute stream offsets in
 * bytes (the buffer's BYTES offset plus the position in it), so a match
 * that straddles two buffers is reported once, by the buffer it ends in,
 * with a start offset that may lie before this buffer.
 */
#ifndef __GST_VYRE_SCAN_META_H__
#define __GST_VYRE_SCAN_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 pattern_id;           /* index in the element's pattern list */
  guint64 offset;               /* stream offset of the match's first byte */
} GstVyreMatch;

/* Matches of one pattern that were counted but not stored (a limit on
 * stored matches was set, or only counting was asked for). */
typedef struct
{
  guint32 pattern_id;
  guint64 count;
} GstVyrePatternCount;

typedef struct
{
  GstMeta meta;

  guint64 stream_offset;        /* stream offset of the buffer's first byte */
  guint64 size;                 /* bytes scanned */
  guint32 epoch;                /* 1-based batch (epoch-buffers) it belongs to */

  /* The CRC-32 and the histogram cover the digest_bytes bytes that end
   * with this buffer's last byte: its own bytes (digest_bytes == size),
   * or, when vyrescan scanned several small whole files as one GPU job,
   * those of all of them: the last of those buffers carries the digests of
   * the run, the ones before it carry none (has_crc32 and has_histogram
   * FALSE).  Combining every buffer's crc32 over digest_bytes in stream
   * order (zlib's crc32_combine) gives the stream's CRC-32. */
  gboolean has_crc32;
  guint32 crc32;                /* zlib CRC-32 of the digest_bytes */

  gboolean has_histogram;
  guint32 histogram[256];       /* byte counts of the digest_bytes */

  /* Every match is found and counted.  Matches sorted by (offset,
   * pattern_id); all of them unless vyrescan's max-matches-per-buffer
   * limits the list or store-matches=false keeps none: those not stored are
   * counted in n_dropped and, per pattern, in not_stored (sorted by
   * pattern_id), so the stored matches per pattern plus not_stored are the
   * exact counts. */
  GstVyreMatch *matches;
  guint n_matches;
  guint64 n_dropped;
  GstVyrePatternCount *not_stored;
  guint n_not_stored;

  guint64 digest_bytes;         /* see has_crc32 */
  /* Every pattern's matches in this buffer, stored or not, sorted by
   * pattern_id, patterns without one left out: their sum is n_matches +
   * n_dropped.  Counted off the streaming thread, so a reader that wants
   * totals per pattern need not walk every match. */
  GstVyrePatternCount *counts;
  guint n_counts;
} GstVyreScanMeta;

GType gst_vyre_scan_meta_api_get_type (void);
#define GST_VYRE_SCAN_META_API_TYPE (gst_vyre_scan_meta_api_get_type ())
const GstMetaInfo *gst_vyre_scan_meta_get_info (void);
#define GST_VYRE_SCAN_META_INFO (gst_vyre_scan_meta_get_info ())

#define gst_buffer_get_vyre_scan_meta(b) \
  ((GstVyreScanMeta *) gst_buffer_get_meta ((b), GST_VYRE_SCAN_META_API_TYPE))

/* Adds an empty meta; matches are set with gst_vyre_scan_meta_take_matches. */
GstVyreScanMeta *gst_buffer_add_vyre_scan_meta (GstBuffer * buffer);
/* Takes ownership of a g_malloc'ed array. */
void gst_vyre_scan_meta_take_matches (GstVyreScanMeta * meta,
    GstVyreMatch * matches, guint n_matches);
void gst_vyre_scan_meta_take_not_stored (GstVyreScanMeta * meta,
    GstVyrePatternCount * counts, guint n_counts);
void gst_vyre_scan_meta_take_counts (GstVyreScanMeta * meta,
    GstVyrePatternCount * counts, guint n_counts);

G_END_DECLS
#endif /* __GST_VYRE_SCAN_META_H__ */
