/* gst-vyre
 *
 * gstvyrescan.h - vyrescan: every buffer through the persistent GPU kernel.
 */
#ifndef __GST_VYRE_SCAN_H__
#define __GST_VYRE_SCAN_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VYRE_SCAN (gst_vyre_scan_get_type ())
G_DECLARE_FINAL_TYPE (GstVyreScan, gst_vyre_scan, GST, VYRE_SCAN, GstElement)

/* What the kernel does with each buffer (property "ops"). */
typedef enum
{
  GST_VYRE_SCAN_OPS_SCAN = (1 << 0),
  GST_VYRE_SCAN_OPS_CRC32 = (1 << 1),
  GST_VYRE_SCAN_OPS_HISTOGRAM = (1 << 2),
} GstVyreScanOps;
#define GST_TYPE_VYRE_SCAN_OPS (gst_vyre_scan_ops_get_type ())
GType gst_vyre_scan_ops_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (vyrescan);

G_END_DECLS
#endif /* __GST_VYRE_SCAN_H__ */
