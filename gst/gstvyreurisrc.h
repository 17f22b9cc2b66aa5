/* gst-vyre
 *
 * gstvyreurisrc.h - vyreurisrc: a file source reading through io_uring,
 * several reads in flight, straight into GPU-readable memory when
 * downstream (vyrescan) offers it.
 */
#ifndef __GST_VYRE_URI_SRC_H__
#define __GST_VYRE_URI_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstbasesrc.h>

G_BEGIN_DECLS

#define GST_TYPE_VYRE_URI_SRC (gst_vyre_uri_src_get_type ())
G_DECLARE_FINAL_TYPE (GstVyreUriSrc, gst_vyre_uri_src, GST, VYRE_URI_SRC,
    GstBaseSrc)

/* How reads are issued (property "io-mode"). */
typedef enum
{
  GST_VYRE_URI_SRC_IO_AUTO,     /* fixed, else read, else pread (announced) */
  GST_VYRE_URI_SRC_IO_FIXED,    /* io_uring READ_FIXED into the registered arena */
  GST_VYRE_URI_SRC_IO_READ,     /* io_uring READ, no registered buffers */
  GST_VYRE_URI_SRC_IO_PREAD,    /* pread(2), one block at a time, no io_uring */
} GstVyreUriSrcIoMode;
#define GST_TYPE_VYRE_URI_SRC_IO_MODE (gst_vyre_uri_src_io_mode_get_type ())
GType gst_vyre_uri_src_io_mode_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (vyreurisrc);

G_END_DECLS
#endif /* __GST_VYRE_URI_SRC_H__ */
