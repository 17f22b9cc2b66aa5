/* gst-vyre
 *
 * gstvyrescanmeta.c - see gstvyrescanmeta.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvyrescanmeta.h"

#include <string.h>

GType
gst_vyre_scan_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };        /* survives any transform */
  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstVyreScanMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
scan_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstVyreScanMeta *m = (GstVyreScanMeta *) meta;
  (void) params;
  (void) buffer;
  memset ((guint8 *) m + sizeof (GstMeta), 0, sizeof *m - sizeof (GstMeta));
  return TRUE;
}

static void
scan_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstVyreScanMeta *m = (GstVyreScanMeta *) meta;
  (void) buffer;
  g_free (m->matches);
  m->matches = NULL;
  g_free (m->not_stored);
  m->not_stored = NULL;
  g_free (m->counts);
  m->counts = NULL;
}

/* Copies travel with copies of the buffer (a deep copy of the matches);
 * sub-buffers would make the offsets meaningless, so they lose it. */
static gboolean
scan_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstVyreScanMeta *src = (GstVyreScanMeta *) meta;
  (void) buffer;
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;
  GstMetaTransformCopy *copy = data;
  if (copy->region)
    return FALSE;
  GstVyreScanMeta *d = gst_buffer_add_vyre_scan_meta (dest);
  GstVyreMatch *matches = d->matches;
  GstVyrePatternCount *not_stored = d->not_stored, *counts = d->counts;
  memcpy ((guint8 *) d + sizeof (GstMeta), (guint8 *) src + sizeof (GstMeta),
      sizeof *d - sizeof (GstMeta));
  d->matches = matches;
  d->not_stored = not_stored;
  d->counts = counts;
  gst_vyre_scan_meta_take_matches (d,
      g_memdup2 (src->matches, sizeof (GstVyreMatch) * src->n_matches),
      src->n_matches);
  gst_vyre_scan_meta_take_not_stored (d, g_memdup2 (src->not_stored,
          sizeof (GstVyrePatternCount) * src->n_not_stored),
      src->n_not_stored);
  gst_vyre_scan_meta_take_counts (d, g_memdup2 (src->counts,
          sizeof (GstVyrePatternCount) * src->n_counts), src->n_counts);
  return TRUE;
}

const GstMetaInfo *
gst_vyre_scan_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_VYRE_SCAN_META_API_TYPE,
        "GstVyreScanMeta", sizeof (GstVyreScanMeta), scan_meta_init,
        scan_meta_free, scan_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstVyreScanMeta *
gst_buffer_add_vyre_scan_meta (GstBuffer * buffer)
{
  return (GstVyreScanMeta *) gst_buffer_add_meta (buffer,
      GST_VYRE_SCAN_META_INFO, NULL);
}

void
gst_vyre_scan_meta_take_matches (GstVyreScanMeta * meta,
    GstVyreMatch * matches, guint n_matches)
{
  g_free (meta->matches);
  meta->matches = matches;
  meta->n_matches = n_matches;
}

void
gst_vyre_scan_meta_take_not_stored (GstVyreScanMeta * meta,
    GstVyrePatternCount * counts, guint n_counts)
{
  g_free (meta->not_stored);
  meta->not_stored = counts;
  meta->n_not_stored = n_counts;
}

void
gst_vyre_scan_meta_take_counts (GstVyreScanMeta * meta,
    GstVyrePatternCount * counts, guint n_counts)
{
  g_free (meta->counts);
  meta->counts = counts;
  meta->n_counts = n_counts;
}
