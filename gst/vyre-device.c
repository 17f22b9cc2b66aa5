/* gst-vyre
 *
 * vyre-device.c - Vulkan instance, physical device choice, queue family,
 * memory-type placement.  See vyre-device.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-device.h"

#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (vyre_device_debug);
#define GST_CAT_DEFAULT vyre_device_debug

struct _VyreDevice
{
  gint refcount;
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  guint32 queue_family;
  guint index;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties memprops;
  gchar *driver;
  /* memory type per role, chosen once */
  gint type_for_role[2];
};

G_DEFINE_QUARK (vyre-device-error-quark, vyre_device_error);

const gchar *
vyre_vk_result_name (VkResult r)
{
  switch (r) {
#define CASE(x) case x: return #x
      CASE (VK_SUCCESS);
      CASE (VK_NOT_READY);
      CASE (VK_TIMEOUT);
      CASE (VK_INCOMPLETE);
      CASE (VK_ERROR_OUT_OF_HOST_MEMORY);
      CASE (VK_ERROR_OUT_OF_DEVICE_MEMORY);
      CASE (VK_ERROR_INITIALIZATION_FAILED);
      CASE (VK_ERROR_DEVICE_LOST);
      CASE (VK_ERROR_MEMORY_MAP_FAILED);
      CASE (VK_ERROR_LAYER_NOT_PRESENT);
      CASE (VK_ERROR_EXTENSION_NOT_PRESENT);
      CASE (VK_ERROR_FEATURE_NOT_PRESENT);
      CASE (VK_ERROR_INCOMPATIBLE_DRIVER);
      CASE (VK_ERROR_TOO_MANY_OBJECTS);
      CASE (VK_ERROR_FORMAT_NOT_SUPPORTED);
#undef CASE
    default:
      return "VK_ERROR_(other)";
  }
}

static void
debug_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (vyre_device_debug, "vyredevice", 0,
        "gst-vyre Vulkan device");
    g_once_init_leave (&done, 1);
  }
}

static const gchar *
type_name (VkPhysicalDeviceType t)
{
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "CPU";
    default:
      return "other";
  }
}

/* Lower is preferred by the automatic choice. */
static gint
type_rank (VkPhysicalDeviceType t)
{
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return 3;
    default:
      return 4;
  }
}

/* A compute queue family, preferring one without graphics (on NVIDIA a
 * compute-only family launches in 52 us instead of 195 us). */
static gint
pick_queue_family (VkPhysicalDevice pd)
{
  guint32 n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, NULL);
  VkQueueFamilyProperties *qf = g_new0 (VkQueueFamilyProperties, MAX (n, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, qf);
  gint best = -1;
  for (guint32 i = 0; i < n; i++) {
    if (!(qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
      continue;
    if (!(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
      best = i;
      break;
    }
    if (best < 0)
      best = i;
  }
  g_free (qf);
  return best;
}

/* The kernel needs the Vulkan memory model at device scope, 64-bit
 * integers and buffer device addresses (tenants' memory is reached
 * through them); say which is missing. */
static gboolean
check_features (VkPhysicalDevice pd, GString * missing)
{
  VkPhysicalDeviceVulkan12Features f12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
  };
  VkPhysicalDeviceFeatures2 f2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,.pNext = &f12
  };
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties (pd, &p);
  if (p.apiVersion < VK_API_VERSION_1_2) {
    g_string_append (missing, "Vulkan 1.2");
    return FALSE;
  }
  vkGetPhysicalDeviceFeatures2 (pd, &f2);
  if (!f12.vulkanMemoryModel)
    g_string_append (missing, "vulkanMemoryModel ");
  if (!f12.vulkanMemoryModelDeviceScope)
    g_string_append (missing, "vulkanMemoryModelDeviceScope ");
  if (!f2.features.shaderInt64)
    g_string_append (missing, "shaderInt64 ");
  if (!f12.bufferDeviceAddress)
    g_string_append (missing, "bufferDeviceAddress ");
  return missing->len == 0;
}

static gint
pick_memory_type (VyreDevice * dev, VyreMemoryRole role)
{
  const VkMemoryPropertyFlags HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
      VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  const VkMemoryPropertyFlags HC = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  gint bar = -1, cached_sys = -1, any = -1;
  for (guint32 t = 0; t < dev->memprops.memoryTypeCount; t++) {
    VkMemoryPropertyFlags f = dev->memprops.memoryTypes[t].propertyFlags;
    if ((f & HV) != HV)
      continue;
    if (any < 0)
      any = t;
    if ((f & DL) && bar < 0)
      bar = t;
    if (!(f & DL) && (f & HC) && cached_sys < 0)
      cached_sys = t;
  }
  /* On CPU and integrated devices all memory is the same memory. */
  if (!vyre_device_is_discrete (dev))
    return any;
  if (role == VYRE_MEMORY_HOST_TO_GPU)
    return bar;                 /* -1: refused with a Fix by the caller */
  return cached_sys >= 0 ? cached_sys : any;
}

/* VYRE_DEVICE as a device index (-1 or more); FALSE when not one. */
static gboolean
parse_env_index (const gchar * env, gint * out)
{
  gchar *end = NULL;
  gint64 v = g_ascii_strtoll (env, &end, 10);
  if (end == env || *end != '\0' || v < -1 || v > G_MAXINT)
    return FALSE;
  *out = (gint) v;
  return TRUE;
}

gint
vyre_device_requested_index (gint index)
{
  const gchar *env = g_getenv ("VYRE_DEVICE");
  gint v;
  return env && *env && parse_env_index (env, &v) ? v : index;
}

VyreDevice *
vyre_device_open (gint index, GError ** error)
{
  debug_init ();
  const gchar *env = g_getenv ("VYRE_DEVICE");
  if (env && *env) {
    if (!parse_env_index (env, &index)) {
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_NO_DEVICE,
          "VYRE_DEVICE='%s' is not a device index. Fix: set it to -1 (auto) "
          "or an index listed by `vulkaninfo --summary`.", env);
      return NULL;
    }
  } else {
    env = NULL;
  }

  VkApplicationInfo ai = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "gst-vyre",.apiVersion = VK_API_VERSION_1_2
  };
  VkInstanceCreateInfo ici = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,.pApplicationInfo = &ai
  };
  VkInstance instance = VK_NULL_HANDLE;
  VkResult r = vkCreateInstance (&ici, NULL, &instance);
  if (r != VK_SUCCESS) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_NO_DEVICE,
        "Could not create a Vulkan instance (%s): no Vulkan driver is "
        "installed. Fix: install a Vulkan driver; on a machine without a GPU "
        "`apt-get install mesa-vulkan-drivers` provides lavapipe, a CPU device.",
        vyre_vk_result_name (r));
    return NULL;
  }
  guint32 n = 0;
  vkEnumeratePhysicalDevices (instance, &n, NULL);
  if (n == 0) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_NO_DEVICE,
        "The Vulkan loader found no physical device. Fix: install a Vulkan "
        "driver for your GPU, or `apt-get install mesa-vulkan-drivers` for "
        "lavapipe (a CPU device); check with `vulkaninfo --summary`.");
    vkDestroyInstance (instance, NULL);
    return NULL;
  }
  VkPhysicalDevice *pds = g_new0 (VkPhysicalDevice, n);
  vkEnumeratePhysicalDevices (instance, &n, pds);

  GString *tried = g_string_new (NULL);
  gint pick = -1, pick_rank = G_MAXINT;
  for (guint32 i = 0; i < n; i++) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties (pds[i], &p);
    GString *missing = g_string_new (NULL);
    gboolean ok = check_features (pds[i], missing) &&
        pick_queue_family (pds[i]) >= 0;
    g_string_append_printf (tried, "%s#%u %s (%s)%s%s", i ? "; " : "", i,
        p.deviceName, type_name (p.deviceType),
        ok ? "" : ": lacks ", ok ? "" : (missing->len ? missing->str :
            "a compute queue"));
    GST_DEBUG ("device %u: %s (%s) %s", i, p.deviceName,
        type_name (p.deviceType), ok ? "usable" : missing->str);
    g_string_free (missing, TRUE);
    if (index >= 0) {
      if ((guint) index == i && ok)
        pick = i;
    } else if (ok && type_rank (p.deviceType) < pick_rank) {
      pick = i;
      pick_rank = type_rank (p.deviceType);
    }
  }
  if (pick < 0) {
    /* The environment variable wins over the property, so a Fix that
     * names only the property would change nothing. */
    if (index >= 0 && (guint) index >= n && env)
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_NO_DEVICE,
          "Vulkan device %d does not exist (devices: %s): it was chosen by "
          "the environment variable VYRE_DEVICE=%s, which overrides the "
          "device property. Fix: unset VYRE_DEVICE (then device=-1 picks "
          "one), or set it to -1 or an index below %u.", index, tried->str,
          env, n);
    else if (index >= 0 && (guint) index >= n)
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_NO_DEVICE,
          "Vulkan device %d does not exist (devices: %s). Fix: set device=-1 "
          "(auto) or an index below %u.", index, tried->str, n);
    else if (index >= 0 && env)
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_UNSUPPORTED,
          "Vulkan device %d cannot run the scan kernel (devices: %s): it was "
          "chosen by the environment variable VYRE_DEVICE=%s, which "
          "overrides the device property. The kernel needs Vulkan 1.2 with "
          "vulkanMemoryModel, vulkanMemoryModelDeviceScope and shaderInt64. "
          "Fix: unset VYRE_DEVICE, or set it to -1 or a usable index.",
          index, tried->str, env);
    else if (index >= 0)
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_UNSUPPORTED,
          "Vulkan device %d cannot run the scan kernel (devices: %s). The "
          "kernel needs Vulkan 1.2 with vulkanMemoryModel, "
          "vulkanMemoryModelDeviceScope and shaderInt64. Fix: set device=-1 "
          "(auto) or a usable index.", index, tried->str);
    else
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_UNSUPPORTED,
          "No usable Vulkan device (tried: %s). The scan kernel needs Vulkan "
          "1.2 with vulkanMemoryModel, vulkanMemoryModelDeviceScope and "
          "shaderInt64. Fix: update the GPU driver, or install "
          "mesa-vulkan-drivers for lavapipe.", tried->str);
    g_string_free (tried, TRUE);
    g_free (pds);
    vkDestroyInstance (instance, NULL);
    return NULL;
  }
  g_string_free (tried, TRUE);

  VyreDevice *dev = g_new0 (VyreDevice, 1);
  dev->refcount = 1;
  dev->instance = instance;
  dev->physical = pds[pick];
  dev->index = pick;
  g_free (pds);
  vkGetPhysicalDeviceProperties (dev->physical, &dev->props);
  vkGetPhysicalDeviceMemoryProperties (dev->physical, &dev->memprops);
  dev->queue_family = pick_queue_family (dev->physical);

  VkPhysicalDeviceDriverProperties drv = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES
  };
  VkPhysicalDeviceProperties2 p2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,.pNext = &drv
  };
  vkGetPhysicalDeviceProperties2 (dev->physical, &p2);
  dev->driver = g_strdup_printf ("%s %s", drv.driverName, drv.driverInfo);

  VkPhysicalDeviceVulkan12Features en12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
    .vulkanMemoryModel = VK_TRUE,.vulkanMemoryModelDeviceScope = VK_TRUE,
    .bufferDeviceAddress = VK_TRUE
  };
  VkPhysicalDeviceFeatures2 en = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,.pNext = &en12,
    .features = {.shaderInt64 = VK_TRUE}
  };
  float prio = 1.0f;
  VkDeviceQueueCreateInfo qci = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = dev->queue_family,.queueCount = 1,
    .pQueuePriorities = &prio
  };
  VkDeviceCreateInfo dci = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,.pNext = &en,
    .queueCreateInfoCount = 1,.pQueueCreateInfos = &qci
  };
  r = vkCreateDevice (dev->physical, &dci, NULL, &dev->device);
  if (r != VK_SUCCESS) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "vkCreateDevice failed on %s (%s). Fix: update the driver or pick "
        "another device with the `device` property / VYRE_DEVICE.",
        dev->props.deviceName, vyre_vk_result_name (r));
    vkDestroyInstance (instance, NULL);
    g_free (dev->driver);
    g_free (dev);
    return NULL;
  }
  vkGetDeviceQueue (dev->device, dev->queue_family, 0, &dev->queue);
  dev->type_for_role[VYRE_MEMORY_HOST_TO_GPU] =
      pick_memory_type (dev, VYRE_MEMORY_HOST_TO_GPU);
  dev->type_for_role[VYRE_MEMORY_GPU_TO_HOST] =
      pick_memory_type (dev, VYRE_MEMORY_GPU_TO_HOST);
  GST_INFO ("using Vulkan device #%u: %s (%s), driver %s, queue family %u, "
      "memory types host->gpu %d gpu->host %d", dev->index,
      dev->props.deviceName, type_name (dev->props.deviceType), dev->driver,
      dev->queue_family, dev->type_for_role[0], dev->type_for_role[1]);
  return dev;
}

VyreDevice *
vyre_device_ref (VyreDevice * dev)
{
  g_atomic_int_inc (&dev->refcount);
  return dev;
}

void
vyre_device_unref (VyreDevice * dev)
{
  if (dev == NULL || !g_atomic_int_dec_and_test (&dev->refcount))
    return;
  vkDeviceWaitIdle (dev->device);
  vkDestroyDevice (dev->device, NULL);
  vkDestroyInstance (dev->instance, NULL);
  g_free (dev->driver);
  g_free (dev);
}

guint
vyre_device_index (VyreDevice * dev)
{
  return dev->index;
}

const gchar *
vyre_device_name (VyreDevice * dev)
{
  return dev->props.deviceName;
}

const gchar *
vyre_device_driver (VyreDevice * dev)
{
  return dev->driver;
}

gboolean
vyre_device_is_cpu (VyreDevice * dev)
{
  return dev->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

gboolean
vyre_device_is_discrete (VyreDevice * dev)
{
  return dev->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
}

VkDevice
vyre_device_handle (VyreDevice * dev)
{
  return dev->device;
}

VkQueue
vyre_device_queue (VyreDevice * dev)
{
  return dev->queue;
}

guint32
vyre_device_queue_family (VyreDevice * dev)
{
  return dev->queue_family;
}

const VkPhysicalDeviceLimits *
vyre_device_limits (VyreDevice * dev)
{
  return &dev->props.limits;
}

guint64
vyre_device_budget (VyreDevice * dev, VyreMemoryRole role)
{
  gint t = dev->type_for_role[role];
  if (t < 0)
    return 0;
  return dev->memprops.memoryHeaps[dev->memprops.memoryTypes[t].heapIndex].size;
}

gboolean
vyre_device_role_is_write_combining (VyreDevice * dev, VyreMemoryRole role)
{
  gint t = dev->type_for_role[role];
  if (t < 0)
    return FALSE;
  return !(dev->memprops.memoryTypes[t].propertyFlags &
      VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
}

gboolean
vyre_device_fault_forced (const gchar * item, const gchar * value)
{
  const gchar *env = g_getenv ("VYRE_DEVICE_FORCE");
  if (env == NULL || *env == '\0')
    return FALSE;
  gchar *want = value ? g_strdup_printf ("%s=%s", item, value) :
      g_strdup (item);
  gchar **items = g_strsplit (env, ",", -1);
  gboolean found = g_strv_contains ((const gchar * const *) items, want);
  g_strfreev (items);
  g_free (want);
  return found;
}

gboolean
vyre_device_alloc_buffer (VyreDevice * dev, VyreMemoryRole role,
    VkDeviceSize size, const gchar * what, gboolean clear,
    VyreDeviceBuffer * out, GError ** error)
{
  memset (out, 0, sizeof *out);
  if (size == 0)
    size = 4;
  if (dev->type_for_role[role] < 0) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_UNSUPPORTED,
        "%s offers no DEVICE_LOCAL|HOST_VISIBLE memory for the %s: a running "
        "kernel cannot see host writes to system memory on a discrete GPU. "
        "Fix: enable Resizable BAR (and Above 4G Decoding) in the firmware, or "
        "choose another device with the device property / VYRE_DEVICE.",
        dev->props.deviceName, what);
    return FALSE;
  }
  VkBufferCreateInfo bci = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,.size = size,
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
        VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE
  };
  VkResult r = vkCreateBuffer (dev->device, &bci, NULL, &out->buffer);
  if (r != VK_SUCCESS)
    goto fail;
  VkMemoryRequirements mr;
  vkGetBufferMemoryRequirements (dev->device, out->buffer, &mr);
  out->type_index = dev->type_for_role[role];
  if (!(mr.memoryTypeBits & (1u << out->type_index))) {
    r = VK_ERROR_FEATURE_NOT_PRESENT;
    goto fail;
  }
  out->flags = dev->memprops.memoryTypes[out->type_index].propertyFlags;
  VkMemoryAllocateFlagsInfo mafi = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT
  };
  VkMemoryAllocateInfo mai = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,.pNext = &mafi,
    .allocationSize = mr.size,.memoryTypeIndex = out->type_index
  };
  r = vyre_device_fault_forced ("alloc", what) ?
      VK_ERROR_OUT_OF_DEVICE_MEMORY :
      vkAllocateMemory (dev->device, &mai, NULL, &out->memory);
  if (r != VK_SUCCESS)
    goto fail;
  r = vkBindBufferMemory (dev->device, out->buffer, out->memory, 0);
  if (r != VK_SUCCESS)
    goto fail;
  void *map = NULL;
  r = vkMapMemory (dev->device, out->memory, 0, VK_WHOLE_SIZE, 0, &map);
  if (r != VK_SUCCESS)
    goto fail;
  out->map = map;
  out->size = size;
  VkBufferDeviceAddressInfo bdai = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO,
    .buffer = out->buffer
  };
  out->address = vkGetBufferDeviceAddress (dev->device, &bdai);
  if (clear)
    memset (out->map, 0, size);
  GST_DEBUG ("%s: %" G_GUINT64_FORMAT " bytes in memory type %u (flags 0x%x)",
      what, (guint64) size, out->type_index, out->flags);
  return TRUE;

fail:
  g_set_error (error, VYRE_DEVICE_ERROR,
      r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY ?
      VYRE_DEVICE_ERROR_OUT_OF_MEMORY : VYRE_DEVICE_ERROR_FAILED,
      "Could not allocate %" G_GUINT64_FORMAT " bytes for the %s on %s (%s). "
      "Fix: lower ring-slots or the buffer size, or free GPU memory.",
      (guint64) size, what, dev->props.deviceName, vyre_vk_result_name (r));
  vyre_device_free_buffer (dev, out);
  return FALSE;
}

void
vyre_device_free_buffer (VyreDevice * dev, VyreDeviceBuffer * buf)
{
  if (buf->map)
    vkUnmapMemory (dev->device, buf->memory);
  if (buf->buffer)
    vkDestroyBuffer (dev->device, buf->buffer, NULL);
  if (buf->memory)
    vkFreeMemory (dev->device, buf->memory, NULL);
  memset (buf, 0, sizeof *buf);
}
