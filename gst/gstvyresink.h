/* gst-vyre
 *
 * gstvyresink.h - vyresink: completions and epochs reported to people and
 * programs (properties, bus messages, a JSON report, a summary).
 */
#ifndef __GST_VYRE_SINK_H__
#define __GST_VYRE_SINK_H__

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_VYRE_SINK (gst_vyre_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstVyreSink, gst_vyre_sink, GST, VYRE_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (vyresink);

G_END_DECLS
#endif /* __GST_VYRE_SINK_H__ */
