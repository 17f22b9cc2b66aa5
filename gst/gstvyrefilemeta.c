/* gst-vyre
 *
 * gstvyrefilemeta.c - see gstvyrefilemeta.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvyrefilemeta.h"

GType
gst_vyre_file_meta_api_get_type (void)
{
  static GType type = 0;
  /* No tags: the file a byte came from does not change when its memory,
   * caps or timing do. */
  static const gchar *tags[] = { NULL };
  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstVyreFileMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
file_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstVyreFileMeta *m = (GstVyreFileMeta *) meta;
  (void) params;
  (void) buffer;
  m->file_index = 0;
  m->path = NULL;
  m->file_offset = 0;
  m->file_size = GST_VYRE_FILE_SIZE_UNKNOWN;
  return TRUE;
}

static void
file_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstVyreFileMeta *m = (GstVyreFileMeta *) meta;
  (void) buffer;
  g_clear_pointer (&m->path, g_ref_string_release);
}

static gboolean
file_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstVyreFileMeta *src = (GstVyreFileMeta *) meta;
  (void) buffer;
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;
  GstMetaTransformCopy *copy = data;
  guint64 offset = src->file_offset;
  if (copy->region)
    offset += copy->offset;
  return gst_buffer_add_vyre_file_meta (dest, src->file_index, src->path,
      offset, src->file_size) != NULL;
}

const GstMetaInfo *
gst_vyre_file_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_VYRE_FILE_META_API_TYPE,
        "GstVyreFileMeta", sizeof (GstVyreFileMeta), file_meta_init,
        file_meta_free, file_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstVyreFileMeta *
gst_buffer_add_vyre_file_meta (GstBuffer * buffer, guint file_index,
    gchar * path, guint64 file_offset, guint64 file_size)
{
  g_return_val_if_fail (path != NULL, NULL);
  GstVyreFileMeta *m = (GstVyreFileMeta *) gst_buffer_add_meta (buffer,
      GST_VYRE_FILE_META_INFO, NULL);
  if (m == NULL)
    return NULL;
  m->file_index = file_index;
  m->path = g_ref_string_acquire (path);
  m->file_offset = file_offset;
  m->file_size = file_size;
  return m;
}
