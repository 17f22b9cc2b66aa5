/* gst-vyre
 *
 * vyre-megakernel.c - see vyre-megakernel.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-megakernel.h"

#include <gst/gst.h>
#include <string.h>

#include "footprint_planner.h"
#include "vyre_spirv.h"

GST_DEBUG_CATEGORY_STATIC (vyre_mk_debug);
#define GST_CAT_DEFAULT vyre_mk_debug

/* Descriptor bindings of shaders/megakernel.comp. */
enum
{
  BIND_RING, BIND_CONTROL, BIND_COMPLETIONS, N_BINDINGS
};

/* What a spare piece of tenant memory was (vyre_chunk_kind, or carry). */
enum
{
  SPARE_ARENA = VYRE_CHUNK_ARENA,
  SPARE_RESULTS = VYRE_CHUNK_RESULTS,
  SPARE_CARRY,
};

/* One copy of each distinct set of scan tables, shared by the tenants
 * that scan for it. */
typedef struct
{
  GBytes *key;                  /* the table words */
  VyreDeviceBuffer buf;
  guint refs;
} SharedTables;

/* Memory of tenants that left, kept for later tenants (an application's
 * next pipeline then allocates and clears nothing), up to this much. */
#define MAX_SPARE_BYTES (G_GUINT64_CONSTANT (1) << 30)

typedef struct
{
  guint kind;                   /* SPARE_* */
  VyreDeviceBuffer buf;
} SpareBuffer;

struct _VyreTenant
{
  gint refcount;
  VyreMegakernel *mk;
  guint id;
  gchar *name;
  VyreTenantConfig cfg;         /* tables/name pointers not kept */
  guint32 result_stride_words;
  gint held;                    /* ring slots its data jobs hold (atomic) */
  SharedTables *tables;
  guint64 footprint;            /* the most it may hold (planned) */
  GCond done;                   /* the poller found one of its jobs done */
  /* Memory that grows (vyre_protocol.h, "Memory that grows"): chunks are
   * allocated under grow_lock when a job first needs them; a chunk's map
   * is set (atomically) only once its table entry is written, so a
   * non-NULL map means the kernel can reach the chunk. */
  GMutex grow_lock;
  guint64 arena_chunk_bytes;
  guint arena_chunks;
  guint result_chunk_records;
  guint result_chunks;
  guint64 result_chunk_bytes;
  VyreDeviceBuffer arena_chunk[VYRE_TENANT_CHUNKS_MAX];
  VyreDeviceBuffer result_chunk[VYRE_TENANT_CHUNKS_MAX];
  guint8 *arena_map[VYRE_TENANT_CHUNKS_MAX];
  guint8 *result_map[VYRE_TENANT_CHUNKS_MAX];
  /* Growing ahead (grow_next): the thread that allocates chunks before
   * jobs reach them, made when first needed (atomic), and the chunks
   * allocated or handed to it, a bit per chunk and kind (atomic). */
  GThreadPool *grow_ahead;
  guint grow_claimed[2];
  VyreDeviceBuffer carry;
  gsize held_bytes;             /* allocated now (atomic) */
};

/* lavapipe stops every loop of an invocation after 65,535 iterations in
 * total; the kernel retires before this many (persistent-vulkan.md #7). */
/* lavapipe's limiter counts loop iterations and barriers (measured: an
 * idle poll round of the kernel costs 5 + slots/64); the kernel keeps the
 * same account and retires below it.  Should a job still come back cut
 * short (VYRE_FAULT_ITER_LIMIT) the budget is halved. */
#define CPU_ITER_BUDGET 60000u
#define WARM_UP_TIMEOUT_US (300 * G_USEC_PER_SEC)
#define MIN_ITER_BUDGET 256u
#define CPU_POLL_BUDGET 20000u
/* GPUs: no loop limit, but retire after ~a second of idling so an idle
 * pipeline does not hold the GPU busy forever. */
#define GPU_POLL_BUDGET (1u << 20)
/* How long a shutdown may take before the device is called hung. */
/* How often the submit path looks at the launch fence. */
#define FENCE_CHECK_US 200
/* How long a waiter spins on its own job before it sleeps until the
 * poller wakes it. */
#define SPIN_US 500
/* How long a sleeping waiter goes without looking at its cancel flag. */
#define CANCEL_CHECK_US 5000
/* How long the poller, with nobody waiting, sleeps between looks (a
 * waiter that comes wakes it at once). */
#define POLLER_IDLE_US (100 * 1000)
#define SHUTDOWN_TIMEOUT_NS (5 * G_GUINT64_CONSTANT (1000000000))

typedef struct
{
  guint32 mode;
  guint32 slot;
} PushConstants;

struct _VyreMegakernel
{
  gint refcount;
  VyreDevice *dev;
  VyreMegakernelConfig cfg;
  VyreDeviceBuffer buf[N_BINDINGS];
  vyre_host_ring *ring;

  /* tenants (tenant_lock) */
  GMutex tenant_lock;
  VyreTenant *tenants[VYRE_MAX_TENANTS];        /* [0]: the kernel's own */
  gint n_tenants;               /* written under tenant_lock, atomically */
  /* Per slot: the tenant whose data job (counted against its share of
   * the ring) holds it, or NULL.  Written at publish, cleared at recycle,
   * by whoever owns the slot then. */
  VyreTenant **slot_owner;
  GHashTable *tables;           /* GBytes -> SharedTables */
  /* Buffers of tenants that left (SpareBuffer*, newest first), taken by
   * a later tenant's chunk of the same kind and size. */
  GQueue spare;
  guint64 spare_bytes;
  /* every tenant's planned footprint and the spare buffers, together */
  guint64 tenant_bytes;

  VkShaderModule module;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout pipeline_layout;
  VkPipeline pipeline;
  VkDescriptorPool pool;
  VkDescriptorSet set;
  VkCommandPool cmd_pool;
  VkCommandBuffer persistent_cmd;       /* pre-recorded resident dispatch */
  VkCommandBuffer single_cmd;   /* re-recorded per job (per-buffer mode) */
  VkFence fence;
  guint workgroups;
  guint32 lanes;                /* invocations per workgroup */
  guint32 scan_fast_path;       /* VkBool32: the scan-only byte loop */
  guint32 compact_code;         /* VkBool32: 4-byte data rounds (CPU) */

  GMutex launch_lock;           /* queue submission + running state */
  gboolean running;             /* a persistent launch may still be on the GPU */
  gint64 fence_checked;         /* when its fence was last looked at */
  guint64 launches;
  gboolean lost;
  gboolean hung;                /* a wait saw no progress for the timeout */
  gboolean force_lost;          /* VYRE_DEVICE_FORCE=lost when made */
  guint64 retries;              /* jobs republished after ITER_LIMIT */

  /* The poller: one thread that watches the jobs every sleeping waiter
   * waits for, wakes their tenant's cond, relaunches a retired kernel
   * and calls the kernel hung (wait_lock). */
  GMutex wait_lock;
  GCond poller_wake;            /* a waiter came, or quit */
  GCond own_done;               /* for the kernel's own jobs (warm-up) */
  GQueue waiters;               /* Waiter *, not yet done */
  gboolean poller_quit;
  GThread *poller;
  guint64 poller_wakes;         /* sleeping waiters it woke (atomic) */
};

/* A thread sleeping until the poller finds its job done. */
typedef struct
{
  const vyre_ticket *ticket;
  GCond *cond;                  /* its tenant's done, or own_done */
  gboolean done;                /* completed (or failed: error set) */
  GError *error;                /* the poller's: hung, or a relaunch failed */
} Waiter;

static VyreMkStatus mk_submit (VyreMegakernel * mk, vyre_job * job,
    vyre_ticket * ticket, GError ** error);
static VyreMkStatus mk_wait (VyreMegakernel * mk, VyreTenant * t,
    vyre_ticket * ticket, vyre_completion * out, volatile gint * cancel,
    GError ** error);
static gpointer poller_thread (gpointer data);
static void mk_release (VyreMegakernel * mk, const vyre_ticket * ticket);
static void free_spare_locked (VyreMegakernel * mk);
static void free_unused_tables_locked (VyreMegakernel * mk);

static void
debug_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (vyre_mk_debug, "vyremegakernel", 0,
        "gst-vyre persistent kernel");
    g_once_init_leave (&done, 1);
  }
}

static guint32 *
control_words (VyreMegakernel * mk)
{
  return (guint32 *) mk->buf[BIND_CONTROL].map;
}

static guint
env_uint (const gchar * name, guint fallback)
{
  const gchar *s = g_getenv (name);
  if (s == NULL || *s == '\0')
    return fallback;
  return (guint) g_ascii_strtoull (s, NULL, 10);
}

static gboolean
vk_check (VkResult r, const gchar * what, GError ** error)
{
  if (r == VK_SUCCESS)
    return TRUE;
  g_set_error (error, VYRE_DEVICE_ERROR,
      r == VK_ERROR_DEVICE_LOST ? VYRE_DEVICE_ERROR_LOST :
      VYRE_DEVICE_ERROR_FAILED, "%s failed: %s.%s", what,
      vyre_vk_result_name (r), r == VK_ERROR_DEVICE_LOST ?
      " The GPU reset or the driver crashed. Fix: check `dmesg` for GPU "
      "errors; restart the pipeline." : " Fix: update the Vulkan driver.");
  return FALSE;
}

static gboolean
create_pipeline (VyreMegakernel * mk, GError ** error)
{
  VkDevice d = vyre_device_handle (mk->dev);
  VkShaderModuleCreateInfo smci = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
    .codeSize = vyre_spirv_megakernel_size,.pCode = vyre_spirv_megakernel
  };
  if (!vk_check (vkCreateShaderModule (d, &smci, NULL, &mk->module),
          "vkCreateShaderModule(megakernel)", error))
    return FALSE;

  VkDescriptorSetLayoutBinding b[N_BINDINGS];
  for (guint i = 0; i < N_BINDINGS; i++)
    b[i] = (VkDescriptorSetLayoutBinding) {
    i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL};
  VkDescriptorSetLayoutCreateInfo dslci = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = N_BINDINGS,.pBindings = b
  };
  if (!vk_check (vkCreateDescriptorSetLayout (d, &dslci, NULL,
              &mk->set_layout), "vkCreateDescriptorSetLayout", error))
    return FALSE;
  VkPushConstantRange pcr = { VK_SHADER_STAGE_COMPUTE_BIT, 0,
    sizeof (PushConstants)
  };
  VkPipelineLayoutCreateInfo plci = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,.pSetLayouts = &mk->set_layout,
    .pushConstantRangeCount = 1,.pPushConstantRanges = &pcr
  };
  if (!vk_check (vkCreatePipelineLayout (d, &plci, NULL,
              &mk->pipeline_layout), "vkCreatePipelineLayout", error))
    return FALSE;
  /* constant_id 0: lanes per workgroup; 1: the scan-only byte loop;
   * 2: compact code (shaders/megakernel.comp) */
  guint32 spec_data[3] = { mk->lanes, mk->scan_fast_path, mk->compact_code };
  VkSpecializationMapEntry spec_entries[3] = {
    {0, 0, sizeof (guint32)}, {1, sizeof (guint32), sizeof (guint32)},
    {2, 2 * sizeof (guint32), sizeof (guint32)}
  };
  VkSpecializationInfo spec = { 3, spec_entries, sizeof spec_data, spec_data };
  VkComputePipelineCreateInfo cpci = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
          .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
          .stage = VK_SHADER_STAGE_COMPUTE_BIT,.module = mk->module,
        .pName = "main",.pSpecializationInfo = &spec},
    .layout = mk->pipeline_layout
  };
  if (!vk_check (vkCreateComputePipelines (d, VK_NULL_HANDLE, 1, &cpci, NULL,
              &mk->pipeline), "vkCreateComputePipelines(megakernel)", error))
    return FALSE;

  VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, N_BINDINGS };
  VkDescriptorPoolCreateInfo dpci = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,.maxSets = 1,
    .poolSizeCount = 1,.pPoolSizes = &ps
  };
  if (!vk_check (vkCreateDescriptorPool (d, &dpci, NULL, &mk->pool),
          "vkCreateDescriptorPool", error))
    return FALSE;
  VkDescriptorSetAllocateInfo dsai = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorPool = mk->pool,.descriptorSetCount = 1,
    .pSetLayouts = &mk->set_layout
  };
  if (!vk_check (vkAllocateDescriptorSets (d, &dsai, &mk->set),
          "vkAllocateDescriptorSets", error))
    return FALSE;
  VkDescriptorBufferInfo bi[N_BINDINGS];
  VkWriteDescriptorSet w[N_BINDINGS];
  for (guint i = 0; i < N_BINDINGS; i++) {
    bi[i] = (VkDescriptorBufferInfo) {
    mk->buf[i].buffer, 0, VK_WHOLE_SIZE};
    w[i] = (VkWriteDescriptorSet) {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,.dstSet = mk->set,
      .dstBinding = i,.descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,.pBufferInfo = &bi[i]
    };
  }
  vkUpdateDescriptorSets (d, N_BINDINGS, w, 0, NULL);

  VkCommandPoolCreateInfo cpi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = vyre_device_queue_family (mk->dev)
  };
  if (!vk_check (vkCreateCommandPool (d, &cpi, NULL, &mk->cmd_pool),
          "vkCreateCommandPool", error))
    return FALSE;
  VkCommandBuffer cbs[2];
  VkCommandBufferAllocateInfo cbai = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = mk->cmd_pool,.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 2
  };
  if (!vk_check (vkAllocateCommandBuffers (d, &cbai, cbs),
          "vkAllocateCommandBuffers", error))
    return FALSE;
  mk->persistent_cmd = cbs[0];
  mk->single_cmd = cbs[1];
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  if (!vk_check (vkCreateFence (d, &fci, NULL, &mk->fence), "vkCreateFence",
          error))
    return FALSE;
  return TRUE;
}

static gboolean
record_dispatch (VyreMegakernel * mk, VkCommandBuffer cb, guint32 mode,
    guint32 slot, guint32 groups, GError ** error)
{
  VkCommandBufferBeginInfo cbbi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
  };
  if (!vk_check (vkBeginCommandBuffer (cb, &cbbi), "vkBeginCommandBuffer",
          error))
    return FALSE;
  PushConstants pc = { mode, slot };
  vkCmdBindPipeline (cb, VK_PIPELINE_BIND_POINT_COMPUTE, mk->pipeline);
  vkCmdBindDescriptorSets (cb, VK_PIPELINE_BIND_POINT_COMPUTE,
      mk->pipeline_layout, 0, 1, &mk->set, 0, NULL);
  vkCmdPushConstants (cb, mk->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
      sizeof pc, &pc);
  vkCmdDispatch (cb, groups, 1, 1);
  return vk_check (vkEndCommandBuffer (cb), "vkEndCommandBuffer", error);
}

static guint64
memory_budget (VyreMegakernel * mk)
{
  guint64 env = env_uint ("VYRE_MEMORY_BUDGET", 0);
  return env ? env : vyre_device_budget (mk->dev, VYRE_MEMORY_HOST_TO_GPU);
}

/* A footprint against what the device has left after `held` bytes, before
 * allocating anything: over budget is an error that names the largest
 * part and who asked. */
static gboolean
check_footprint (VyreMegakernel * mk, const vyre_footprint_profile * p0,
    guint64 held, const gchar * who, guint64 * total, GError ** error)
{
  vyre_footprint_profile p = *p0;
  guint64 budget = memory_budget (mk);
  p.budget_bytes = budget > held ? budget - held : 1;
  vyre_footprint_plan plan;
  vyre_error err;
  if (vyre_footprint_plan_compute (&p, &plan, &err) != VYRE_OK) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_OUT_OF_MEMORY,
        "%s does not fit %s next to the %" G_GUINT64_FORMAT " bytes the "
        "scan engine holds already: %s", who, vyre_device_name (mk->dev),
        held, err.message);
    return FALSE;
  }
  GST_INFO ("%s: footprint %" G_GUINT64_FORMAT " bytes of %" G_GUINT64_FORMAT
      " left (largest: %s)", who, plan.total_bytes, plan.budget_bytes,
      vyre_footprint_component_name (plan.largest));
  if (total)
    *total = plan.total_bytes;
  return TRUE;
}

/* A buffer the kernel reaches through a device address: no descriptor
 * binds it, so maxStorageBufferRange does not apply (the kernel's word
 * indices are 32-bit: 16 GiB). */
static gboolean
alloc_addressed (VyreMegakernel * mk, VyreMemoryRole role, guint64 bytes,
    const gchar * what, gboolean clear, VyreDeviceBuffer * out,
    GError ** error)
{
  if (bytes > (G_GUINT64_CONSTANT (4) << 32)) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_OUT_OF_MEMORY,
        "The %s needs %" G_GUINT64_FORMAT " bytes, more than the kernel "
        "addresses (16 GiB). Fix: lower ring-slots, block-size or "
        "job-size.", what, bytes);
    return FALSE;
  }
  return vyre_device_alloc_buffer (mk->dev, role, bytes, what, clear, out,
      error);
}

/* Ring, control block and completions: read by the kernel and the host
 * before anything wrote them, so cleared. */
static gboolean
alloc_one (VyreMegakernel * mk, VyreMemoryRole role, guint64 bytes,
    const gchar * what, VyreDeviceBuffer * out, GError ** error)
{
  guint64 range = vyre_device_limits (mk->dev)->maxStorageBufferRange;
  if (bytes > range) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_OUT_OF_MEMORY,
        "The %s needs %" G_GUINT64_FORMAT " bytes but %s binds at most %"
        G_GUINT64_FORMAT " bytes per buffer (maxStorageBufferRange). Fix: "
        "lower ring-slots, max-matches-per-buffer or the buffer size.",
        what, bytes, vyre_device_name (mk->dev), range);
    return FALSE;
  }
  return vyre_device_alloc_buffer (mk->dev, role, bytes, what, TRUE, out,
      error);
}

static gboolean
alloc_ring (VyreMegakernel * mk, GError ** error)
{
  const VyreMegakernelConfig *c = &mk->cfg;
  /* The ring is planned with each tenant (add_tenant): the planner sizes
   * a whole engine, ring and the memory of the jobs in it together. */
  return alloc_one (mk, VYRE_MEMORY_HOST_TO_GPU,
      (guint64) c->nslots * VYRE_SLOT_BYTES, "ring", &mk->buf[BIND_RING],
      error) && alloc_one (mk, VYRE_MEMORY_HOST_TO_GPU,
      VYRE_CONTROL_WORDS * 4, "control block", &mk->buf[BIND_CONTROL], error)
      && alloc_one (mk, VYRE_MEMORY_GPU_TO_HOST,
      (guint64) c->nslots * VYRE_COMPLETION_WORDS * 4, "completions",
      &mk->buf[BIND_COMPLETIONS], error);
}

/* One NOP job through the real path before any data.  lavapipe compiles
 * the kernel at its first dispatch, not when the pipeline is created: on a
 * 2-core machine with a cold shader cache that took 12 s and more, which
 * the first buffer's progress timeout then took for a hung kernel.
 * Compiling is start-up work: it happens here, under a generous bound. */
static gboolean
warm_up (VyreMegakernel * mk, GError ** error)
{
  guint64 timeout = mk->cfg.progress_timeout_us;
  mk->cfg.progress_timeout_us = MAX (timeout, WARM_UP_TIMEOUT_US);
  vyre_job job = { 0 };
  job.opcode = VYRE_OP_NOP;
  vyre_ticket ticket;
  vyre_completion c;
  gboolean ok = mk_submit (mk, &job, &ticket, error) == VYRE_MK_OK &&
      mk_wait (mk, NULL, &ticket, &c, NULL, error) == VYRE_MK_OK;
  if (ok)
    mk_release (mk, &ticket);
  mk->cfg.progress_timeout_us = timeout;
  if (!ok)
    g_prefix_error (error, "The kernel did not run its first job: ");
  return ok;
}

VyreMegakernel *
vyre_megakernel_new (VyreDevice * dev, const VyreMegakernelConfig * config,
    GError ** error)
{
  debug_init ();
  VyreMegakernel *mk = g_new0 (VyreMegakernel, 1);
  mk->refcount = 1;
  mk->dev = vyre_device_ref (dev);
  mk->cfg = *config;
  g_mutex_init (&mk->launch_lock);
  g_mutex_init (&mk->tenant_lock);
  g_mutex_init (&mk->wait_lock);
  g_cond_init (&mk->poller_wake);
  g_cond_init (&mk->own_done);
  g_queue_init (&mk->waiters);
  mk->tables = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  g_queue_init (&mk->spare);
  if (mk->cfg.progress_timeout_us == 0)
    mk->cfg.progress_timeout_us = 10 * G_USEC_PER_SEC;
  if (!alloc_ring (mk, error))
    goto fail;

  vyre_ring_memory mem = {
    .slots = (uint32_t *) mk->buf[BIND_RING].map,
    .control = control_words (mk),
    .completions = (uint32_t *) mk->buf[BIND_COMPLETIONS].map,
    .nslots = config->nslots,
    .write_combining = vyre_device_role_is_write_combining (dev,
        VYRE_MEMORY_HOST_TO_GPU),
  };
  vyre_error rerr;
  if (vyre_host_ring_new (&mem, 1, &mk->ring, &rerr) != VYRE_OK) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "Could not set up the ring: %s", rerr.message);
    goto fail;
  }
  mk->slot_owner = g_new0 (VyreTenant *, config->nslots);
  gboolean cpu = vyre_device_is_cpu (dev);
  vyre_ring_config rc;
  vyre_ring_config_init (&rc);
  rc.poll_budget = env_uint ("VYRE_POLL_BUDGET",
      cpu ? CPU_POLL_BUDGET : GPU_POLL_BUDGET);
  rc.iter_budget = env_uint ("VYRE_ITER_BUDGET", cpu ? CPU_ITER_BUDGET : 0);
  if (vyre_host_ring_init_control (mk->ring, &rc, &rerr) != VYRE_OK) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "Could not initialise the ring control block: %s", rerr.message);
    goto fail;
  }
  /* Lanes per workgroup: a job's bytes are split over them.  On a CPU
   * device a workgroup runs on one thread anyway (64 keeps its per-job
   * overhead low); on GPUs 256.  64, 128 or 256 (they must divide the 256
   * histogram bins and fit VYRE_RESULT_LANES). */
  mk->lanes = env_uint ("VYRE_LANES", cpu ? 64 : 256);
  /* The scan-only byte loop: +30% on an H200 (docs/benchmarks.md), but a
   * second copy of the unrolled loop costs lavapipe compile time (4.0 s
   * to 4.5 s per process on a cold cache with the GPU's code, measured
   * 2026-12-08), and a CPU device gains nothing from it.
   * VYRE_SCAN_FAST_PATH=0/1 overrides (tests). */
  mk->scan_fast_path = env_uint ("VYRE_SCAN_FAST_PATH", cpu ? 0 : 1) != 0;
  /* Compact code: what a CPU device compiles on a cold shader cache in
   * about 2.2 s instead of 4.0 on the 2-core development machine (4-byte
   * data rounds; the scan-only byte loop needs 16-byte rounds and is off
   * with it; docs/reliability.md).  GPUs get the unrolled code.
   * VYRE_COMPACT_CODE=0/1 overrides (tests). */
  mk->compact_code = env_uint ("VYRE_COMPACT_CODE", cpu ? 1 : 0) != 0;
  if (mk->lanes != 64 && mk->lanes != 128 && mk->lanes != 256)
    mk->lanes = 64;
  if (mk->lanes > vyre_device_limits (dev)->maxComputeWorkGroupSize[0] ||
      mk->lanes > vyre_device_limits (dev)->maxComputeWorkGroupInvocations)
    mk->lanes = 64;
  if (!create_pipeline (mk, error))
    goto fail;
  mk->poller = g_thread_try_new ("vyre-poller", poller_thread, mk, error);
  if (mk->poller == NULL) {
    g_prefix_error (error, "Could not start the thread that watches the "
        "scan kernel's completions: ");
    goto fail;
  }

  /* Workgroups: on a CPU device each spinning workgroup holds a core, so
   * leave the streaming threads room; on GPUs one per slot, up to 1024
   * (an H100 keeps 4224 workgroups of 64 lanes resident: all stay
   * resident, none waits for a slot of the GPU). */
  mk->workgroups = env_uint ("VYRE_WORKGROUPS", 0);
  if (mk->workgroups == 0)
    mk->workgroups = cpu ? 1 : MIN (config->nslots, 1024u);
  if (config->persistent && !record_dispatch (mk, mk->persistent_cmd, 0, 0,
          mk->workgroups, error))
    goto fail;
  GST_INFO ("megakernel on %s: %u slots, %u workgroups of %u lanes, %s "
      "dispatch, poll budget %u, iteration budget %u",
      vyre_device_name (dev), config->nslots, mk->workgroups, mk->lanes,
      config->persistent ? "persistent" : "per-buffer", rc.poll_budget,
      rc.iter_budget);
  if (!warm_up (mk, error))
    goto fail;
  mk->force_lost = vyre_device_fault_forced ("lost", NULL);
  /* VYRE_DEVICE_FORCE=hold: from now on the kernel claims no job (it keeps
   * polling and obeys SHUTDOWN), as a kernel that stopped making progress
   * would.  After the warm-up, which needs it running. */
  if (vyre_device_fault_forced ("hold", NULL))
    g_atomic_int_set ((gint *) & control_words (mk)[VYRE_CTRL_HOLD], 1);
  return mk;

fail:
  vyre_megakernel_unref (mk);
  return NULL;
}

/* Start the resident dispatch unless one is still on the GPU.  Called
 * with launch_lock held. */
static gboolean
ensure_running_locked (VyreMegakernel * mk, gboolean force, GError ** error)
{
  VkDevice d = vyre_device_handle (mk->dev);
  if (mk->lost) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_LOST,
        "The Vulkan device was lost earlier. Fix: restart the pipeline.");
    return FALSE;
  }
  if (mk->running) {
    /* vkGetFenceStatus is a driver call (~1 us on NVIDIA): on the submit
     * path look at most every FENCE_CHECK_US; a waiter whose job does not
     * complete checks it in its slow path anyway. */
    gint64 now = g_get_monotonic_time ();
    if (!force && now - mk->fence_checked < FENCE_CHECK_US)
      return TRUE;
    __atomic_store_n (&mk->fence_checked, now, __ATOMIC_RELAXED);
    VkResult r = mk->force_lost ? VK_ERROR_DEVICE_LOST :
        vkGetFenceStatus (d, mk->fence);
    if (r == VK_NOT_READY)
      return TRUE;
    if (r != VK_SUCCESS) {
      mk->lost = TRUE;
      return vk_check (r, "vkGetFenceStatus(megakernel)", error);
    }
    g_atomic_int_set (&mk->running, FALSE);
  }
  g_mutex_lock (&mk->tenant_lock);
  free_unused_tables_locked (mk);
  g_mutex_unlock (&mk->tenant_lock);
  guint32 *ctrl = control_words (mk);
  /* Nobody runs now: plain stores are ordered by the submit below. */
  ctrl[VYRE_CTRL_SHUTDOWN] = 0;
  ctrl[VYRE_CTRL_LAUNCH_ID] = (guint32) (mk->launches + 1);
  if (!vk_check (vkResetFences (d, 1, &mk->fence), "vkResetFences", error))
    return FALSE;
  VkSubmitInfo si = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,.commandBufferCount = 1,
    .pCommandBuffers = &mk->persistent_cmd
  };
  VkResult r = vkQueueSubmit (vyre_device_queue (mk->dev), 1, &si, mk->fence);
  if (r != VK_SUCCESS) {
    mk->lost = r == VK_ERROR_DEVICE_LOST;
    return vk_check (r, "vkQueueSubmit(megakernel)", error);
  }
  g_atomic_int_set (&mk->running, TRUE);
  __atomic_store_n (&mk->fence_checked, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  mk->launches++;
  GST_LOG ("launched persistent kernel #%" G_GUINT64_FORMAT, mk->launches);
  return TRUE;
}

/* Per-buffer mode: one dispatch that runs exactly this slot, and a wait. */
static gboolean
run_single_locked (VyreMegakernel * mk, guint32 slot, GError ** error)
{
  VkDevice d = vyre_device_handle (mk->dev);
  if (!record_dispatch (mk, mk->single_cmd, 1, slot, 1, error))
    return FALSE;
  if (!vk_check (vkResetFences (d, 1, &mk->fence), "vkResetFences", error))
    return FALSE;
  VkSubmitInfo si = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,.commandBufferCount = 1,
    .pCommandBuffers = &mk->single_cmd
  };
  if (!vk_check (vkQueueSubmit (vyre_device_queue (mk->dev), 1, &si,
              mk->fence), "vkQueueSubmit(per-buffer)", error))
    return FALSE;
  mk->launches++;
  VkResult r = vkWaitForFences (d, 1, &mk->fence, VK_TRUE,
      mk->cfg.progress_timeout_us * 1000);
  if (r == VK_TIMEOUT) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_TIMEOUT,
        "A per-buffer dispatch on %s did not finish within %" G_GUINT64_FORMAT
        " ms. Fix: check the GPU (nvidia-smi / dmesg).",
        vyre_device_name (mk->dev), mk->cfg.progress_timeout_us / 1000);
    return FALSE;
  }
  if (r != VK_SUCCESS)
    mk->lost = r == VK_ERROR_DEVICE_LOST;
  return vk_check (r, "vkWaitForFences(per-buffer)", error);
}

static VyreMkStatus
mk_submit (VyreMegakernel * mk, vyre_job * job, vyre_ticket * ticket,
    GError ** error)
{
  vyre_error rerr;
  vyre_status st = vyre_host_ring_publish (mk->ring, job, ticket, &rerr);
  if (st == VYRE_ERR_QUEUE_FULL)
    return VYRE_MK_FULL;
  if (st != VYRE_OK) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "Could not publish a job: %s", rerr.message);
    return VYRE_MK_ERROR;
  }
  /* Hot path: a kernel is running and its fence was looked at recently;
   * no lock, no driver call. */
  if (mk->cfg.persistent && g_atomic_int_get (&mk->running) &&
      g_get_monotonic_time () - __atomic_load_n (&mk->fence_checked,
          __ATOMIC_RELAXED) <
      FENCE_CHECK_US)
    return VYRE_MK_OK;
  g_mutex_lock (&mk->launch_lock);
  gboolean ok = mk->cfg.persistent ? ensure_running_locked (mk, FALSE, error) :
      run_single_locked (mk, ticket->slot, error);
  g_mutex_unlock (&mk->launch_lock);
  return ok ? VYRE_MK_OK : VYRE_MK_ERROR;
}

static VyreMkStatus
completion_status (vyre_status st, const vyre_error * rerr,
    const vyre_completion * out, GError ** error)
{
  if (st == VYRE_OK)
    return VYRE_MK_OK;
  if (st == VYRE_ERR_FAULT)
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "The GPU rejected job %" G_GUINT64_FORMAT ": %s (%s). %s",
        out->seq, vyre_fault_name (out->fault_code), rerr->message,
        vyre_fault_fix (out->fault_code));
  else
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "Invalid completion from the GPU: %s", rerr->message);
  return VYRE_MK_ERROR;
}

/* The driver cut the job's loops short: lower the budget the kernel reads
 * at launch and publish the same job again. */
static VyreMkStatus
retry_cut_job (VyreMegakernel * mk, vyre_ticket * ticket,
    volatile gint * cancel, GError ** error)
{
  guint32 *ctrl = control_words (mk);
  guint32 budget = g_atomic_int_get ((gint *) & ctrl[VYRE_CTRL_ITER_BUDGET]);
  if (budget > MIN_ITER_BUDGET) {
    g_atomic_int_set ((gint *) & ctrl[VYRE_CTRL_ITER_BUDGET],
        MAX (budget / 2, MIN_ITER_BUDGET));
    GST_INFO ("a job was cut short by the driver's loop limiter: iteration "
        "budget %u -> %u", budget, MAX (budget / 2, MIN_ITER_BUDGET));
  }
  /* The job as published: its slot's words (the kernel only ever changes
   * STATUS), read back before the slot is recycled. */
  vyre_slot_words words;
  const guint32 *w = (const guint32 *) mk->buf[BIND_RING].map +
      (gsize) ticket->slot * VYRE_SLOT_WORDS;
  for (guint i = 0; i < VYRE_SLOT_WORDS; i++)
    words.w[i] = g_atomic_int_get ((const gint *) &w[i]);
  vyre_slot_limits any = { mk->cfg.nslots, G_MAXUINT64, G_MAXUINT32,
    G_MAXUINT32
  };
  vyre_job job;
  vyre_error derr;
  if (vyre_slot_decode (&words, &any, &job, NULL, &derr) != VYRE_OK) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "A job cut short by the driver could not be read back for a retry: "
        "%s", derr.message);
    mk_release (mk, ticket);
    return VYRE_MK_ERROR;
  }
  /* The job keeps its place in its tenant's share of the ring: taken off
   * the old slot before it is recycled, put on the new one. */
  VyreTenant *owner = mk->slot_owner[ticket->slot];
  mk->slot_owner[ticket->slot] = NULL;
  mk_release (mk, ticket);
  mk->retries++;
  for (;;) {
    VyreMkStatus st = mk_submit (mk, &job, ticket, error);
    if (st == VYRE_MK_OK)
      mk->slot_owner[ticket->slot] = owner;
    else if (st != VYRE_MK_FULL && owner)
      g_atomic_int_add (&owner->held, -1);
    if (st != VYRE_MK_FULL)
      return st;
    if (cancel && g_atomic_int_get (cancel)) {
      if (owner)
        g_atomic_int_add (&owner->held, -1);
      return VYRE_MK_CANCELLED;
    }
    g_usleep (50);
  }
}

/* Hands every sleeping waiter an error and wakes it.  wait_lock held. */
static void
fail_waiters_locked (VyreMegakernel * mk, const GError * error)
{
  Waiter *w;
  while ((w = g_queue_pop_head (&mk->waiters)) != NULL) {
    w->error = g_error_copy (error);
    w->done = TRUE;
    g_cond_broadcast (w->cond);
    __atomic_add_fetch (&mk->poller_wakes, 1, __ATOMIC_RELAXED);
  }
}

/* The poller's thread.  While someone sleeps on a job it looks at every
 * such job, 20 us apart while jobs complete and 200 us apart once none
 * has for 2 ms (a completion arrives in microseconds; a sleep costs a
 * timer slack of ~50 us), and wakes the tenant whose job is done.  It is
 * also the one that relaunches a kernel that retired with work waiting
 * and calls the kernel hung when nothing completes for the progress
 * timeout: then every waiter fails, now and later
 * (vyre_megakernel_is_lost). */
static gpointer
poller_thread (gpointer data)
{
  VyreMegakernel *mk = data;
  gint64 last_progress = 0;
  guint32 last_done = 0;
  guint64 torn_at_progress = 0;
  g_mutex_lock (&mk->wait_lock);
  while (!mk->poller_quit) {
    if (g_queue_is_empty (&mk->waiters)) {
      g_cond_wait_until (&mk->poller_wake, &mk->wait_lock,
          g_get_monotonic_time () + POLLER_IDLE_US);
      last_progress = 0;
      continue;
    }
    gint64 now = g_get_monotonic_time ();
    if (last_progress == 0) {
      last_progress = now;
      last_done = (guint32) vyre_host_ring_read_control (mk->ring,
          VYRE_CTRL_DONE_COUNT);
      torn_at_progress = vyre_host_ring_torn_reads (mk->ring);
    }
    for (GList * l = mk->waiters.head; l;) {
      Waiter *w = l->data;
      GList *next = l->next;
      vyre_completion c;
      vyre_error rerr;
      if (vyre_host_ring_poll (mk->ring, *w->ticket, &c, &rerr) !=
          VYRE_ERR_NOT_READY) {
        g_queue_delete_link (&mk->waiters, l);
        w->done = TRUE;
        g_cond_broadcast (w->cond);
        __atomic_add_fetch (&mk->poller_wakes, 1, __ATOMIC_RELAXED);
        last_progress = now;
      }
      l = next;
    }
    if (g_queue_is_empty (&mk->waiters))
      continue;
    g_mutex_unlock (&mk->wait_lock);
    g_usleep (now - last_progress < 2000 ? 20 : 200);

    /* Relaunch a retired kernel; see whether anything completes. */
    GError *err = NULL;
    g_mutex_lock (&mk->launch_lock);
    gboolean ok = !mk->cfg.persistent || ensure_running_locked (mk, TRUE,
        &err);
    g_mutex_unlock (&mk->launch_lock);
    guint32 done = (guint32) vyre_host_ring_read_control (mk->ring,
        VYRE_CTRL_DONE_COUNT);
    now = g_get_monotonic_time ();
    g_mutex_lock (&mk->wait_lock);
    if (!ok) {
      fail_waiters_locked (mk, err);
      g_error_free (err);
    } else if (done != last_done) {
      last_done = done;
      last_progress = now;
      torn_at_progress = vyre_host_ring_torn_reads (mk->ring);
    } else if ((guint64) (now - last_progress) > mk->cfg.progress_timeout_us) {
      /* Every tenant's waits fail from now on, and the engine drops this
       * kernel for a new one (vyre_megakernel_is_lost). */
      g_atomic_int_set (&mk->hung, TRUE);
      Waiter *first = g_queue_peek_head (&mk->waiters);
      err = g_error_new (VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_TIMEOUT,
          "The scan kernel on %s completed nothing for %" G_GUINT64_FORMAT
          " ms while %u jobs waited (the oldest: job %" G_GUINT64_FORMAT
          ", slot %u; %" G_GUINT64_FORMAT " launches%s). Fix: check the GPU "
          "(nvidia-smi, dmesg); on a CPU device make sure other processes "
          "leave it a core.", vyre_device_name (mk->dev),
          mk->cfg.progress_timeout_us / 1000, mk->waiters.length,
          first->ticket->seq, first->ticket->slot, mk->launches,
          vyre_host_ring_torn_reads (mk->ring) != torn_at_progress ?
          "; completion entries were there but never whole: their check "
          "words disagreed with their other words" : "");
      fail_waiters_locked (mk, err);
      g_error_free (err);
    }
  }
  g_mutex_unlock (&mk->wait_lock);
  return NULL;
}

/* Waits for one job: spins on it first (completions arrive in
 * microseconds), then sleeps until the poller finds it done, waking every
 * CANCEL_CHECK_US to look at *cancel. */
static VyreMkStatus
mk_wait (VyreMegakernel * mk, VyreTenant * t, vyre_ticket * ticket,
    vyre_completion * out, volatile gint * cancel, GError ** error)
{
  vyre_error rerr;
  guint spins = 0;
  gint64 spin_until = 0;
  for (;;) {
    vyre_status st = vyre_host_ring_poll (mk->ring, *ticket, out, &rerr);
    if (st == VYRE_ERR_NOT_READY && g_atomic_int_get (&mk->hung)) {
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_TIMEOUT,
          "The scan kernel on %s stopped making progress earlier (a wait "
          "timed out): job %" G_GUINT64_FORMAT " will not complete. Fix: "
          "check the GPU (nvidia-smi, dmesg); the next pipeline gets a new "
          "kernel.", vyre_device_name (mk->dev), ticket->seq);
      return VYRE_MK_ERROR;
    }
    if (st == VYRE_ERR_FAULT && out->fault_code == VYRE_FAULT_ITER_LIMIT) {
      VyreMkStatus r = retry_cut_job (mk, ticket, cancel, error);
      if (r != VYRE_MK_OK)
        return r;
      spin_until = 0;
      continue;
    }
    if (st != VYRE_ERR_NOT_READY)
      return completion_status (st, &rerr, out, error);
    if (cancel && g_atomic_int_get (cancel))
      return VYRE_MK_CANCELLED;
    if (++spins < 64)
      continue;
    spins = 0;
    gint64 now = g_get_monotonic_time ();
    if (spin_until == 0)
      spin_until = now + SPIN_US;
    if (now < spin_until)
      continue;

    Waiter w = { ticket, t ? &t->done : &mk->own_done, FALSE, NULL };
    g_mutex_lock (&mk->wait_lock);
    g_queue_push_tail (&mk->waiters, &w);
    g_cond_signal (&mk->poller_wake);
    while (!w.done && !(cancel && g_atomic_int_get (cancel)))
      g_cond_wait_until (w.cond, &mk->wait_lock,
          g_get_monotonic_time () + CANCEL_CHECK_US);
    if (!w.done)
      g_queue_remove (&mk->waiters, &w);
    g_mutex_unlock (&mk->wait_lock);
    if (w.error) {
      g_propagate_error (error, w.error);
      return VYRE_MK_ERROR;
    }
  }
}

static void
mk_release (VyreMegakernel * mk, const vyre_ticket * ticket)
{
  VyreTenant *owner = mk->slot_owner[ticket->slot];
  if (owner) {
    mk->slot_owner[ticket->slot] = NULL;
    g_atomic_int_add (&owner->held, -1);
  }
  vyre_error rerr;
  if (vyre_host_ring_recycle (mk->ring, *ticket, &rerr) != VYRE_OK)
    GST_WARNING ("recycle of slot %u failed: %s", ticket->slot, rerr.message);
}

guint
vyre_megakernel_lanes (VyreMegakernel * mk)
{
  return mk->lanes;
}

/* Ask the resident kernel to retire and wait (bounded) for it. */
static void
shutdown_kernel (VyreMegakernel * mk)
{
  if (!mk->running)
    return;
  vyre_host_ring_request_shutdown (mk->ring);
  VkResult r = vkWaitForFences (vyre_device_handle (mk->dev), 1, &mk->fence,
      VK_TRUE, SHUTDOWN_TIMEOUT_NS);
  if (r != VK_SUCCESS)
    GST_ERROR ("the scan kernel did not stop within %u s (%s); the device "
        "may be hung", (guint) (SHUTDOWN_TIMEOUT_NS / 1000000000),
        vyre_vk_result_name (r));
  mk->running = FALSE;
}

void
vyre_megakernel_stop (VyreMegakernel * mk)
{
  g_mutex_lock (&mk->launch_lock);
  if (mk->ring)
    shutdown_kernel (mk);
  g_mutex_unlock (&mk->launch_lock);
}

VyreMegakernel *
vyre_megakernel_ref (VyreMegakernel * mk)
{
  g_atomic_int_inc (&mk->refcount);
  return mk;
}

void
vyre_megakernel_unref (VyreMegakernel * mk)
{
  if (mk == NULL || !g_atomic_int_dec_and_test (&mk->refcount))
    return;
  VkDevice d = vyre_device_handle (mk->dev);
  if (mk->poller) {
    g_mutex_lock (&mk->wait_lock);
    mk->poller_quit = TRUE;
    g_cond_signal (&mk->poller_wake);
    g_mutex_unlock (&mk->wait_lock);
    g_thread_join (mk->poller);
  }
  vyre_megakernel_stop (mk);
  if (mk->fence)
    vkDestroyFence (d, mk->fence, NULL);
  if (mk->cmd_pool)
    vkDestroyCommandPool (d, mk->cmd_pool, NULL);
  if (mk->pool)
    vkDestroyDescriptorPool (d, mk->pool, NULL);
  if (mk->pipeline)
    vkDestroyPipeline (d, mk->pipeline, NULL);
  if (mk->pipeline_layout)
    vkDestroyPipelineLayout (d, mk->pipeline_layout, NULL);
  if (mk->set_layout)
    vkDestroyDescriptorSetLayout (d, mk->set_layout, NULL);
  if (mk->module)
    vkDestroyShaderModule (d, mk->module, NULL);
  if (mk->ring)
    vyre_host_ring_free (mk->ring);
  for (guint i = 0; i < N_BINDINGS; i++)
    vyre_device_free_buffer (mk->dev, &mk->buf[i]);
  g_mutex_clear (&mk->launch_lock);
  g_mutex_clear (&mk->wait_lock);
  g_cond_clear (&mk->poller_wake);
  g_cond_clear (&mk->own_done);
  free_spare_locked (mk);
  free_unused_tables_locked (mk);
  g_mutex_clear (&mk->tenant_lock);
  g_hash_table_unref (mk->tables);
  vyre_device_unref (mk->dev);
  g_free (mk->slot_owner);
  g_free (mk);
}

VyreDevice *
vyre_megakernel_device (VyreMegakernel * mk)
{
  return mk->dev;
}

gboolean
vyre_megakernel_is_lost (VyreMegakernel * mk)
{
  return g_atomic_int_get (&mk->lost) || g_atomic_int_get (&mk->hung);
}

guint64
vyre_megakernel_poller_wakes (VyreMegakernel * mk)
{
  return __atomic_load_n (&mk->poller_wakes, __ATOMIC_RELAXED);
}

guint
vyre_megakernel_n_tenants (VyreMegakernel * mk)
{
  return (guint) g_atomic_int_get (&mk->n_tenants);
}

/* ------------------------------------------------------------------ */
/* tenants                                                             */

/* The shared copy of these tables, made on first use.  tenant_lock held. */
static SharedTables *
tables_acquire_locked (VyreMegakernel * mk, const VyreTenantConfig * c,
    GError ** error)
{
  GBytes *key = g_bytes_new (c->tables, c->table_words * 4);
  SharedTables *t = g_hash_table_lookup (mk->tables, key);
  if (t != NULL) {
    g_bytes_unref (key);
    t->refs++;
    return t;
  }
  t = g_new0 (SharedTables, 1);
  if (!alloc_addressed (mk, VYRE_MEMORY_HOST_TO_GPU, c->table_words * 4,
          "scan tables", FALSE, &t->buf, error)) {
    g_bytes_unref (key);
    g_free (t);
    return NULL;
  }
  memcpy (t->buf.map, c->tables, c->table_words * 4);
  t->key = key;
  t->refs = 1;
  g_hash_table_insert (mk->tables, key, t);
  return t;
}

/* Tables nobody uses any more stay where they are until no dispatch
 * runs (free_unused_tables_locked at the next launch): the kernel reads
 * tables through the GPU's non-coherent caches, and a running dispatch
 * whose SMs cached a freed table's lines would read them for another
 * tenant's tables allocated at the same address (H100: a pipeline after
 * another lost a few matches).  A tenant with the same patterns takes
 * them back meanwhile. */
static void
tables_release_locked (SharedTables * t)
{
  if (t != NULL)
    t->refs--;
}

static gboolean
table_unused (gpointer key, gpointer value, gpointer user_data)
{
  SharedTables *t = value;
  VyreMegakernel *mk = user_data;
  (void) key;
  if (t->refs > 0)
    return FALSE;
  vyre_device_free_buffer (mk->dev, &t->buf);
  g_bytes_unref (t->key);
  g_free (t);
  return TRUE;
}

/* tenant_lock held, and no dispatch on the GPU. */
static void
free_unused_tables_locked (VyreMegakernel * mk)
{
  g_hash_table_foreach_remove (mk->tables, table_unused, mk);
}

static void
drop_spare_locked (VyreMegakernel * mk, SpareBuffer * b)
{
  mk->spare_bytes -= b->buf.size;
  mk->tenant_bytes -= b->buf.size;
  vyre_device_free_buffer (mk->dev, &b->buf);
  g_free (b);
}

static void
free_spare_locked (VyreMegakernel * mk)
{
  SpareBuffer *b;
  while ((b = g_queue_pop_tail (&mk->spare)) != NULL)
    drop_spare_locked (mk, b);
}

/* A spare buffer of this kind and size moved into *out; FALSE when none. */
static gboolean
take_spare_locked (VyreMegakernel * mk, guint kind, guint64 size,
    VyreDeviceBuffer * out)
{
  for (GList * l = mk->spare.head; l; l = l->next) {
    SpareBuffer *b = l->data;
    if (b->kind != kind || b->buf.size != size)
      continue;
    g_queue_delete_link (&mk->spare, l);
    *out = b->buf;
    mk->spare_bytes -= size;
    mk->tenant_bytes -= size;
    g_free (b);
    return TRUE;
  }
  return FALSE;
}

/* Keeps buf for a later tenant (newest first, the oldest dropped beyond
 * MAX_SPARE_BYTES); buf is emptied. */
static void
give_spare_locked (VyreMegakernel * mk, guint kind, VyreDeviceBuffer * buf)
{
  if (buf->buffer == VK_NULL_HANDLE)
    return;
  SpareBuffer *b = g_new0 (SpareBuffer, 1);
  b->kind = kind;
  b->buf = *buf;
  memset (buf, 0, sizeof *buf);
  mk->spare_bytes += b->buf.size;
  mk->tenant_bytes += b->buf.size;
  g_queue_push_head (&mk->spare, b);
  while (mk->spare_bytes > MAX_SPARE_BYTES)
    drop_spare_locked (mk, g_queue_pop_tail (&mk->spare));
}

/* The tenant's memory goes to the spare buffers, its tables back. */
static void
tenant_free_memory_locked (VyreTenant * t)
{
  VyreMegakernel *mk = t->mk;
  for (guint i = 0; i < VYRE_TENANT_CHUNKS_MAX; i++) {
    give_spare_locked (mk, SPARE_ARENA, &t->arena_chunk[i]);
    give_spare_locked (mk, SPARE_RESULTS, &t->result_chunk[i]);
    t->arena_map[i] = t->result_map[i] = NULL;
  }
  give_spare_locked (mk, SPARE_CARRY, &t->carry);
  t->held_bytes = 0;
  tables_release_locked (t->tables);
  t->tables = NULL;
}

/* One buffer of the tenant's memory: a spare one of the same kind and
 * size, else a new one.  Arena chunks and carry windows are not cleared
 * (60 ms of a fresh process on an H100 for 184 MB written through the
 * BAR): the host writes a job's bytes and carry before publishing it and
 * the kernel reads nothing else of them.  Result records are (host
 * memory, fast): the host reads every event word of a record, not only
 * those the kernel wrote. */
static gboolean
tenant_alloc (VyreTenant * t, guint kind, guint64 bytes,
    VyreDeviceBuffer * out, GError ** error)
{
  VyreMegakernel *mk = t->mk;
  g_mutex_lock (&mk->tenant_lock);
  gboolean reused = take_spare_locked (mk, kind, bytes, out);
  g_mutex_unlock (&mk->tenant_lock);
  if (!reused && !alloc_addressed (mk, kind == SPARE_RESULTS ?
          VYRE_MEMORY_GPU_TO_HOST : VYRE_MEMORY_HOST_TO_GPU, bytes,
          kind == SPARE_ARENA ? "data arena" : kind == SPARE_RESULTS ?
          "results" : "carry windows", kind == SPARE_RESULTS, out, error))
    return FALSE;
  g_atomic_pointer_add (&t->held_bytes, (gssize) bytes);
  return TRUE;
}

static void grow_ahead_func (gpointer data, gpointer user_data);

/* Hands the chunks after chunk index > 0, up to index * 2 + 1, to the
 * grow-ahead thread when job traffic reached it: a stream that got past
 * its first chunk most likely needs more (the more chunks it used, the
 * more it will), and allocating one (a driver call with page tables to
 * fill: a millisecond or more on a GPU) on the job's thread stalls the
 * element's streaming thread, most at the start, when a source's
 * read-ahead reserves many at once.  One thread: allocations take
 * grow_lock one at a time anyway.  The first chunk never grows ahead: a
 * small scan keeps one chunk of each.  Takes no lock (the job's thread
 * must not wait here for an allocation under way). */
static void
grow_next (VyreTenant * t, vyre_chunk_kind kind, guint index)
{
  guint chunks = kind == VYRE_CHUNK_ARENA ? t->arena_chunks : t->result_chunks;
  if (index == 0)
    return;
  guint last = MIN (index * 2 + 1, chunks - 1);
  /* Chunks index + 1 .. last; all claimed already on every call but the
   * first few of a chunk (one load on the job's path). */
  guint want = (guint) (((G_GUINT64_CONSTANT (1) << (last + 1)) - 1) &
      ~((G_GUINT64_CONSTANT (1) << (index + 1)) - 1));
  if ((g_atomic_int_get (&t->grow_claimed[kind]) & want) == want)
    return;
  for (guint next = index + 1; next <= last; next++) {
    guint bit = 1u << next;
    if (g_atomic_int_or (&t->grow_claimed[kind], bit) & bit)
      continue;                 /* allocated, or handed over already */
    GThreadPool *pool = g_atomic_pointer_get (&t->grow_ahead);
    if (pool == NULL) {
      pool = g_thread_pool_new (grow_ahead_func, t, 1, FALSE, NULL);
      if (!g_atomic_pointer_compare_and_exchange (&t->grow_ahead, NULL,
              pool)) {
        g_thread_pool_free (pool, TRUE, FALSE); /* another thread's won */
        pool = g_atomic_pointer_get (&t->grow_ahead);
      }
    }
    g_thread_pool_push (pool, GUINT_TO_POINTER ((next << 1 | kind) + 1),
        NULL);
  }
}

/* Chunk `index` of the tenant's arena or result records, allocated and
 * entered in its chunk table if it was not yet; the next one is grown
 * ahead (grow_next) unless ahead (the grow-ahead thread's own call). */
static gboolean
tenant_grow_chunk (VyreTenant * t, vyre_chunk_kind kind, guint index,
    gboolean ahead, GError ** error)
{
  guint8 **map = kind == VYRE_CHUNK_ARENA ? &t->arena_map[index] :
      &t->result_map[index];
  if (g_atomic_pointer_get (map) != NULL) {
    if (!ahead)
      grow_next (t, kind, index);
    return TRUE;
  }
  VyreDeviceBuffer *buf = kind == VYRE_CHUNK_ARENA ? &t->arena_chunk[index] :
      &t->result_chunk[index];
  gboolean ok = TRUE;
  g_mutex_lock (&t->grow_lock);
  if (g_atomic_pointer_get (map) == NULL) {
    ok = tenant_alloc (t, kind, kind == VYRE_CHUNK_ARENA ?
        t->arena_chunk_bytes : t->result_chunk_bytes, buf, error);
    vyre_error rerr;
    if (ok && vyre_host_ring_set_tenant_chunk (t->mk->ring, t->id, kind,
            index, buf->address, &rerr) != VYRE_OK) {
      g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
          "%s could not give the scan kernel more memory: %s", t->name,
          rerr.message);
      g_atomic_pointer_add (&t->held_bytes, -(gssize) buf->size);
      vyre_device_free_buffer (t->mk->dev, buf);
      memset (buf, 0, sizeof *buf);
      ok = FALSE;
    }
    if (ok) {
      g_atomic_int_or (&t->grow_claimed[kind], 1u << index);
      GST_DEBUG ("tenant %u (%s): %s chunk %u (%" G_GUINT64_FORMAT
          " bytes)%s", t->id, t->name, kind == VYRE_CHUNK_ARENA ? "arena" :
          "result", index, (guint64) buf->size, ahead ? ", ahead" : "");
      g_atomic_pointer_set (map, buf->map);
    }
  }
  g_mutex_unlock (&t->grow_lock);
  if (ok && !ahead)
    grow_next (t, kind, index);
  return ok;
}

static gboolean
tenant_grow (VyreTenant * t, vyre_chunk_kind kind, guint index,
    GError ** error)
{
  return tenant_grow_chunk (t, kind, index, FALSE, error);
}

/* The grow-ahead thread: a chunk before a job needs it.  Failing here
 * only means the job that needs it tries again, and reports. */
static void
grow_ahead_func (gpointer data, gpointer user_data)
{
  VyreTenant *t = user_data;
  guint code = GPOINTER_TO_UINT (data) - 1;
  GError *err = NULL;
  if (!tenant_grow_chunk (t, (vyre_chunk_kind) (code & 1), code >> 1, TRUE,
          &err)) {
    GST_DEBUG ("tenant %u (%s): growing ahead failed: %s", t->id, t->name,
        err->message);
    g_clear_error (&err);
  }
}

VyreTenant *
vyre_megakernel_add_tenant (VyreMegakernel * mk,
    const VyreTenantConfig * config, GError ** error)
{
  const gchar *who = config->name ? config->name : "a scan";
  VyreTenant *t = g_new0 (VyreTenant, 1);
  t->refcount = 1;
  g_cond_init (&t->done);
  g_mutex_init (&t->grow_lock);
  t->mk = mk;                   /* referenced once registered */
  t->name = g_strdup (who);
  t->cfg = *config;
  t->cfg.tables = NULL;
  t->cfg.name = NULL;
  t->result_stride_words = VYRE_RESULT_HEADER_WORDS +
      VYRE_MATCH_WORDS * config->max_matches;
  guint carry_stride = MAX (config->max_carry, 4u);

  g_mutex_lock (&mk->tenant_lock);
  guint id = 0;
  for (guint i = 1; i < VYRE_MAX_TENANTS && id == 0; i++)
    if (mk->tenants[i] == NULL)
      id = i;
  if (id == 0) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_OUT_OF_MEMORY,
        "%s cannot join the scan engine on %s: all %u tenant ids are in "
        "use. Fix: run fewer vyrescan elements on this device at once, or "
        "spread them over devices (the device property).", who,
        vyre_device_name (mk->dev), VYRE_MAX_TENANTS - 1);
    goto fail;
  }
  /* Chunk geometry: the arena in chunks of the caller's size (jobs never
   * cross one), the records in as few as VYRE_TENANT_CHUNKS_MAX chunks
   * hold. */
  t->arena_chunk_bytes = config->arena_chunk_bytes ?
      MIN (config->arena_chunk_bytes, MAX (config->arena_bytes, 4)) :
      MAX (config->arena_bytes, 4);
  t->arena_chunks = (guint) ((MAX (config->arena_bytes, 4) +
          t->arena_chunk_bytes - 1) / t->arena_chunk_bytes);
  t->result_chunk_records = (config->contexts + VYRE_TENANT_CHUNKS_MAX - 1) /
      VYRE_TENANT_CHUNKS_MAX;
  t->result_chunk_records = MAX (t->result_chunk_records, 1u);
  t->result_chunks = (MAX (config->contexts, 1u) + t->result_chunk_records -
      1) / t->result_chunk_records;
  t->result_chunk_bytes = (guint64) t->result_chunk_records *
      t->result_stride_words * 4;
  if (t->arena_chunks > VYRE_TENANT_CHUNKS_MAX) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "%s asked for an arena of %" G_GUINT64_FORMAT " bytes in chunks of %"
        G_GUINT64_FORMAT ": more than the %u chunks a tenant may have. Fix: "
        "larger chunks (a bug in the element that asked).", who,
        config->arena_bytes, t->arena_chunk_bytes, VYRE_TENANT_CHUNKS_MAX);
    goto fail;
  }
  vyre_footprint_profile p;
  vyre_footprint_profile_init (&p);
  /* The ring is counted with every tenant: a few hundred KiB of slack
   * per tenant in the sum, never an undercount.  What is planned is the
   * most the tenant may grow to, so growing never fails for want of
   * budget the engine promised elsewhere. */
  p.ring_slots = mk->cfg.nslots;
  p.completion_entries = mk->cfg.nslots;
  p.arena_bytes = config->arena_bytes;
  p.carry_windows = config->contexts;
  p.carry_window_bytes = carry_stride;
  p.result_records = config->contexts;
  p.max_matches = config->max_matches;
  p.pattern_table_bytes = (guint64) config->table_words * 4;
  if (!check_footprint (mk, &p, mk->tenant_bytes, who, &t->footprint, NULL)) {
    free_spare_locked (mk);     /* make room, then the error if still none */
    if (!check_footprint (mk, &p, mk->tenant_bytes, who, &t->footprint,
            error))
      goto fail;
  }
  t->tables = tables_acquire_locked (mk, config, error);
  if (t->tables == NULL)
    goto fail;
  /* The id and the budget are this tenant's while it allocates unlocked. */
  t->id = id;
  mk->tenants[id] = t;
  mk->tenant_bytes += t->footprint;
  g_mutex_unlock (&mk->tenant_lock);
  /* The first chunk of each: what the first buffer needs, and where an
   * allocation failure shows at start rather than mid-stream. */
  gboolean ok = tenant_alloc (t, SPARE_RESULTS, t->result_chunk_bytes,
      &t->result_chunk[0], error)
      && tenant_alloc (t, SPARE_ARENA, t->arena_chunk_bytes,
      &t->arena_chunk[0], error)
      /* whole words: the kernel reads the windows as uints */
      && tenant_alloc (t, SPARE_CARRY, ((guint64) config->contexts *
          carry_stride + 3) & ~3ull, &t->carry, error);
  g_mutex_lock (&mk->tenant_lock);
  if (!ok)
    goto fail_reserved;
  vyre_tenant_config rec = {
    .ops_mask = VYRE_TENANT_ALL_OPS,
    .tables = t->tables->buf.address,
    .arena_chunk_bytes = t->arena_chunk_bytes,
    .arena_chunks = t->arena_chunks,
    .result_chunk_records = t->result_chunk_records,
    .result_chunks = t->result_chunks,
    .arena_chunk = {t->arena_chunk[0].address},
    .result_chunk = {t->result_chunk[0].address},
    .result_count = config->contexts,
    .max_matches = config->max_matches,
    .carry = t->carry.address,
    .max_carry = config->max_carry,
  };
  vyre_error rerr;
  if (vyre_host_ring_set_tenant (mk->ring, id, &rec, &rerr) != VYRE_OK) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "%s could not be registered with the scan kernel: %s", who,
        rerr.message);
    goto fail_reserved;
  }
  t->arena_map[0] = t->arena_chunk[0].map;
  t->result_map[0] = t->result_chunk[0].map;
  vyre_megakernel_ref (mk);
  g_atomic_int_inc (&mk->n_tenants);
  g_mutex_unlock (&mk->tenant_lock);
  GST_INFO ("tenant %u (%s): %u contexts, arena %" G_GUINT64_FORMAT " bytes "
      "in %u chunks of %" G_GUINT64_FORMAT ", result records in %u chunks of "
      "%u, %u tenants on the kernel", id, who, config->contexts,
      config->arena_bytes, t->arena_chunks, t->arena_chunk_bytes,
      t->result_chunks, t->result_chunk_records, mk->n_tenants);
  return t;

fail_reserved:
  tenant_free_memory_locked (t);
  mk->tenants[id] = NULL;
  mk->tenant_bytes -= t->footprint;
fail:
  g_mutex_unlock (&mk->tenant_lock);
  g_cond_clear (&t->done);
  g_mutex_clear (&t->grow_lock);
  g_free (t->name);
  g_free (t);
  return NULL;
}

VyreTenant *
vyre_tenant_ref (VyreTenant * t)
{
  g_atomic_int_inc (&t->refcount);
  return t;
}

void
vyre_tenant_unref (VyreTenant * t)
{
  if (t == NULL || !g_atomic_int_dec_and_test (&t->refcount))
    return;
  /* A chunk being grown ahead is finished first: it is the tenant's. */
  if (t->grow_ahead)
    g_thread_pool_free (t->grow_ahead, FALSE, TRUE);
  t->grow_ahead = NULL;
  VyreMegakernel *mk = t->mk;
  g_mutex_lock (&mk->tenant_lock);
  vyre_error rerr;
  if (vyre_host_ring_set_tenant (mk->ring, t->id, NULL, &rerr) != VYRE_OK) {
    /* Jobs of the tenant are still in flight: the kernel may still write
     * its memory, so neither memory nor id can be given back. */
    GST_ERROR ("tenant %u (%s) dropped with jobs in flight; its memory "
        "and id stay reserved: %s", t->id, t->name, rerr.message);
    g_mutex_unlock (&mk->tenant_lock);
    return;
  }
  mk->tenant_bytes -= t->footprint;
  tenant_free_memory_locked (t);
  mk->tenants[t->id] = NULL;
  g_atomic_int_add (&mk->n_tenants, -1);
  g_mutex_unlock (&mk->tenant_lock);
  GST_INFO ("tenant %u (%s) left", t->id, t->name);
  g_cond_clear (&t->done);
  g_mutex_clear (&t->grow_lock);
  g_free (t->name);
  g_free (t);
  vyre_megakernel_unref (mk);
}

guint
vyre_tenant_id (VyreTenant * t)
{
  return t->id;
}

VyreMegakernel *
vyre_tenant_megakernel (VyreTenant * t)
{
  return t->mk;
}

guint8 *
vyre_tenant_arena_reserve (VyreTenant * t, guint64 offset, guint64 len,
    GError ** error)
{
  guint64 chunk = offset / t->arena_chunk_bytes;
  guint64 in_chunk = offset - chunk * t->arena_chunk_bytes;
  if (chunk >= t->arena_chunks || len > t->arena_chunk_bytes - in_chunk) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "%s asked for arena bytes [%" G_GUINT64_FORMAT ", +%" G_GUINT64_FORMAT
        ") across a chunk edge or past its %u chunks of %" G_GUINT64_FORMAT
        " bytes (a bug in the element: jobs must lie in one chunk).",
        t->name, offset, len, t->arena_chunks, t->arena_chunk_bytes);
    return NULL;
  }
  if (!tenant_grow (t, VYRE_CHUNK_ARENA, (guint) chunk, error))
    return NULL;
  return (guint8 *) g_atomic_pointer_get (&t->arena_map[chunk]) + in_chunk;
}

guint64
vyre_tenant_arena_chunk_bytes (VyreTenant * t)
{
  return t->arena_chunk_bytes;
}

guint8 *
vyre_tenant_carry_window (VyreTenant * t, guint context)
{
  return t->carry.map + (gsize) context * t->cfg.max_carry;
}

const guint32 *
vyre_tenant_result (VyreTenant * t, guint context)
{
  const guint32 *chunk = (const guint32 *)
      g_atomic_pointer_get (&t->result_map[context /
          t->result_chunk_records]);
  g_return_val_if_fail (chunk != NULL, NULL);
  return chunk + (gsize) (context % t->result_chunk_records) *
      t->result_stride_words;
}

guint64
vyre_megakernel_memory_bytes (VyreMegakernel * mk)
{
  g_mutex_lock (&mk->tenant_lock);
  guint64 bytes = mk->spare_bytes;
  for (guint i = 1; i < VYRE_MAX_TENANTS; i++)
    if (mk->tenants[i])
      bytes += (guint64) g_atomic_pointer_get (&mk->tenants[i]->held_bytes);
  g_mutex_unlock (&mk->tenant_lock);
  return bytes;
}

guint64
vyre_tenant_memory_bytes (VyreTenant * t)
{
  return (guint64) g_atomic_pointer_get (&t->held_bytes);
}

/* A tenant's share of the ring for its data jobs: a quarter of the ring
 * is left to fences and to jobs scanned again in pieces (their element's
 * src task publishes them; were they held back by the share, that task
 * could wait on slots only it releases), the rest split evenly among the
 * tenants, and never more than a third of it for one: a tenant whose
 * downstream is slow fills its share and then waits (back-pressure on it
 * alone).  Slots a tenant holds are not taken back when others join, so
 * the floor of three shares is what guarantees room: up to three slow
 * tenants leave every other its share.  (Three, not more: on a GPU a
 * third is 512 slots, what one vyrescan keeps in flight by default.) */
#define RING_SHARES_MIN 3u

static gboolean
over_share (VyreTenant * t)
{
  VyreMegakernel *mk = t->mk;
  guint tenants = MAX (vyre_megakernel_n_tenants (mk), RING_SHARES_MIN);
  guint share = MAX (mk->cfg.nslots * 3 / 4 / tenants, 1u);
  return (guint) g_atomic_int_get (&t->held) >= share;
}

VyreMkStatus
vyre_tenant_submit (VyreTenant * t, vyre_job * job, vyre_ticket * ticket,
    GError ** error)
{
  job->tenant = t->id;
  /* The job's result chunk exists before the kernel may write it (its
   * arena chunk does already: the caller wrote the data there). */
  if (vyre_opcode_is_data (job->opcode)
      && job->result_index < t->cfg.contexts
      && !tenant_grow (t, VYRE_CHUNK_RESULTS,
          job->result_index / t->result_chunk_records, error))
    return VYRE_MK_ERROR;
  gboolean counted = vyre_opcode_is_data (job->opcode) &&
      !(job->ops & VYRE_OPS_NO_EPOCH);
  if (counted && over_share (t))
    return VYRE_MK_FULL;
  VyreMkStatus st = mk_submit (t->mk, job, ticket, error);
  if (st == VYRE_MK_OK && counted) {
    g_atomic_int_inc (&t->held);
    t->mk->slot_owner[ticket->slot] = t;
  }
  return st;
}

VyreMkStatus
vyre_tenant_wait (VyreTenant * t, vyre_ticket * ticket,
    vyre_completion * out, volatile gint * cancel, GError ** error)
{
  return mk_wait (t->mk, t, ticket, out, cancel, error);
}

void
vyre_tenant_release (VyreTenant * t, const vyre_ticket * ticket)
{
  mk_release (t->mk, ticket);
}

typedef struct
{
  VyreTenant *tenant;
  vyre_ticket *tickets;
  guint n;
} HandOver;

/* Reclaim threads still running, process-wide: exit waits for them. */
static GMutex reclaim_lock;
static GCond reclaim_cond;
static guint reclaimers;

/* Waits for each handed-over job (bounded by the kernel's progress
 * timeout), recycles its slot, then drops the tenant reference that kept
 * the tenant's memory and id reserved meanwhile.  A job that never
 * completes (a hung or lost device) leaves the tenant reserved: the
 * kernel may still write its memory. */
static gpointer
reclaim_thread (gpointer data)
{
  HandOver *h = data;
  gboolean all = TRUE;
  for (guint i = 0; i < h->n; i++) {
    vyre_completion c;
    GError *err = NULL;
    VyreMegakernel *mk = h->tenant->mk;
    VyreMkStatus st = mk_wait (mk, h->tenant, &h->tickets[i], &c, NULL, &err);
    vyre_error rerr;
    /* completed, or completed with a fault: either way the slot is done */
    if (st == VYRE_MK_OK || vyre_host_ring_poll (mk->ring, h->tickets[i], &c,
            &rerr) != VYRE_ERR_NOT_READY) {
      mk_release (mk, &h->tickets[i]);
    } else {
      GST_ERROR ("tenant %u (%s): a job handed over at stop never "
          "completed: %s", h->tenant->id, h->tenant->name,
          err ? err->message : "?");
      all = FALSE;
    }
    g_clear_error (&err);
  }
  GST_DEBUG ("tenant %u (%s): %u jobs handed over at stop reclaimed",
      h->tenant->id, h->tenant->name, h->n);
  if (all)
    vyre_tenant_unref (h->tenant);
  g_free (h->tickets);
  g_free (h);
  g_mutex_lock (&reclaim_lock);
  reclaimers--;
  g_cond_broadcast (&reclaim_cond);
  g_mutex_unlock (&reclaim_lock);
  return NULL;
}

gboolean
vyre_megakernel_wait_reclaimed (gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  g_mutex_lock (&reclaim_lock);
  while (reclaimers > 0 && g_cond_wait_until (&reclaim_cond, &reclaim_lock,
          deadline));
  gboolean none = reclaimers == 0;
  g_mutex_unlock (&reclaim_lock);
  return none;
}

void
vyre_tenant_hand_over (VyreTenant * t, const vyre_ticket * tickets, guint n)
{
  if (n == 0)
    return;
  HandOver *h = g_new0 (HandOver, 1);
  h->tenant = vyre_tenant_ref (t);
  h->tickets = g_memdup2 (tickets, n * sizeof *tickets);
  h->n = n;
  g_mutex_lock (&reclaim_lock);
  reclaimers++;
  g_mutex_unlock (&reclaim_lock);
  GError *err = NULL;
  GThread *th = g_thread_try_new ("vyre-reclaim", reclaim_thread, h, &err);
  if (th != NULL) {
    g_thread_unref (th);
    return;
  }
  GST_WARNING ("no thread to reclaim %u jobs (%s): waiting for them here",
      n, err->message);
  g_error_free (err);
  reclaim_thread (h);
}

void
vyre_tenant_stats (VyreTenant * t, VyreMegakernelStats * out)
{
  VyreMegakernel *mk = t->mk;
  memset (out, 0, sizeof *out);
  out->launches = mk->launches;
  out->retries = mk->retries;
  out->workgroups = mk->workgroups;
  out->tenants = vyre_megakernel_n_tenants (mk);
  out->torn_completions = vyre_host_ring_torn_reads (mk->ring);
  out->done = vyre_host_ring_read_control (mk->ring, VYRE_CTRL_DONE_COUNT);
  out->epoch = vyre_host_ring_closed_epoch (mk->ring, t->id);
  out->retired = vyre_host_ring_read_control (mk->ring, VYRE_CTRL_RETIRED);
  out->requeues = vyre_host_ring_read_control (mk->ring, VYRE_CTRL_REQUEUES);
}
