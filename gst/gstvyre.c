/* GStreamer
 * gst-vyre: stream files through a GPU that never stops running.
 *
 * gstvyre.c - the plugin entry point: registers every element of the
 * "vyre" plugin.
 */
#include <gst/gst.h>

#include "gstvyrescan.h"
#include "gstvyreurisrc.h"
#include "gstvyresink.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER (vyrescan, plugin);
  ok |= GST_ELEMENT_REGISTER (vyreurisrc, plugin);
  ok |= GST_ELEMENT_REGISTER (vyresink, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, vyre,
    "Stream files through a persistent Vulkan compute kernel: io_uring "
    "reads, GPU multi-literal scan, CRC32 and histogram",
    plugin_init, VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
