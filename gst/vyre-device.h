/* gst-vyre
 *
 * vyre-device.h - the Vulkan device: which one, which queue, which memory.
 *
 * All raw Vulkan device handling of the plugin is behind this module and
 * vyre-megakernel.h.  Choice order (device = -1): the first discrete GPU,
 * then integrated, then virtual, then CPU (Mesa's lavapipe); the `device`
 * property or the VYRE_DEVICE environment variable (which wins) picks an
 * index of vkEnumeratePhysicalDevices instead.
 *
 * For tests, the environment variable VYRE_DEVICE_FORCE injects faults
 * (comma-separated; read at each use, so a test can change it between
 * pipelines): alloc=WHAT (every allocation of the buffer named WHAT, e.g.
 * "data arena", fails with VK_ERROR_OUT_OF_DEVICE_MEMORY), lost (the
 * kernel's fence reads VK_ERROR_DEVICE_LOST the next time it is looked
 * at: vyre-megakernel.c).
 */
#ifndef __VYRE_DEVICE_H__
#define __VYRE_DEVICE_H__

#include <glib.h>
#include <vulkan/vulkan.h>

G_BEGIN_DECLS

typedef struct _VyreDevice VyreDevice;

/* Where a buffer lives, by who writes it while the kernel runs. */
typedef enum
{
  /* Host writes, GPU reads while running (ring, control, data, tables):
   * DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT where the device has it (on
   * NVIDIA a running kernel never sees host writes to system memory). */
  VYRE_MEMORY_HOST_TO_GPU,
  /* GPU writes, host reads (completions, results): HOST_CACHED system
   * memory, so host polling hits its own cache, not the PCIe BAR. */
  VYRE_MEMORY_GPU_TO_HOST,
} VyreMemoryRole;

typedef struct
{
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkDeviceSize size;
  guint8 *map;                  /* persistently mapped */
  VkDeviceAddress address;      /* what the kernel dereferences */
  guint32 type_index;
  VkMemoryPropertyFlags flags;
} VyreDeviceBuffer;

/* Open device `index` (-1 = auto; VYRE_DEVICE overrides).  The error
 * says what was tried and how to get a device (mesa-vulkan-drivers
 * provides a CPU one); when VYRE_DEVICE chose a missing or unusable
 * index, it names the variable and its value and says to unset it. */
VyreDevice *vyre_device_open (gint index, GError ** error);
/* The index vyre_device_open (index) will look for: VYRE_DEVICE when it
 * holds one, else index. */
gint vyre_device_requested_index (gint index);
VyreDevice *vyre_device_ref (VyreDevice * dev);
void vyre_device_unref (VyreDevice * dev);

const gchar *vyre_device_name (VyreDevice * dev);
/* Its index in vkEnumeratePhysicalDevices (what -1 resolved to). */
guint vyre_device_index (VyreDevice * dev);
const gchar *vyre_device_driver (VyreDevice * dev);
gboolean vyre_device_is_cpu (VyreDevice * dev);
gboolean vyre_device_is_discrete (VyreDevice * dev);

VkDevice vyre_device_handle (VyreDevice * dev);
VkQueue vyre_device_queue (VyreDevice * dev);
guint32 vyre_device_queue_family (VyreDevice * dev);
const VkPhysicalDeviceLimits *vyre_device_limits (VyreDevice * dev);
/* Bytes of the heap that role's memory comes from (the planner's budget). */
guint64 vyre_device_budget (VyreDevice * dev, VyreMemoryRole role);

/* Whether host writes to that role's memory go through write-combining
 * (uncached) mappings: then stores need sfence ordering. */
gboolean vyre_device_role_is_write_combining (VyreDevice * dev,
    VyreMemoryRole role);

/* A buffer of `size` bytes, mapped, with its device address.  clear:
 * zero it (through the mapping: a few GB/s into a discrete GPU's BAR,
 * so only memory whose initial contents the kernel or the host reads is
 * cleared). */
gboolean vyre_device_alloc_buffer (VyreDevice * dev, VyreMemoryRole role,
    VkDeviceSize size, const gchar * what, gboolean clear,
    VyreDeviceBuffer * out, GError ** error);
void vyre_device_free_buffer (VyreDevice * dev, VyreDeviceBuffer * buf);

/* Whether VYRE_DEVICE_FORCE holds `item` ("lost") or `item=value`
 * ("alloc=data arena"). */
gboolean vyre_device_fault_forced (const gchar * item, const gchar * value);

/* "VK_ERROR_DEVICE_LOST", ... */
const gchar *vyre_vk_result_name (VkResult r);

GQuark vyre_device_error_quark (void);
#define VYRE_DEVICE_ERROR vyre_device_error_quark ()
typedef enum
{
  VYRE_DEVICE_ERROR_NO_DEVICE,
  VYRE_DEVICE_ERROR_UNSUPPORTED,
  VYRE_DEVICE_ERROR_OUT_OF_MEMORY,
  VYRE_DEVICE_ERROR_FAILED,
  VYRE_DEVICE_ERROR_LOST,
  VYRE_DEVICE_ERROR_TIMEOUT,
} VyreDeviceError;

G_END_DECLS
#endif /* __VYRE_DEVICE_H__ */
