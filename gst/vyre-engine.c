/* gst-vyre
 *
 * vyre-engine.c - see vyre-engine.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-engine.h"

#include <stdlib.h>

GST_DEBUG_CATEGORY_STATIC (vyre_engine_debug);
#define GST_CAT_DEFAULT vyre_engine_debug

/* Ring slots of an engine's kernel, shared by its tenants: each tenant
 * holds at most its job contexts plus its open fences in it (a vyrescan
 * on a GPU: 512 + 16 + 64), and a full ring is back-pressure on whoever
 * publishes.  The kernel's workgroups look at every slot each poll round,
 * so more slots cost polling. */
#define VYRE_ENGINE_GPU_SLOTS 2048
#define VYRE_ENGINE_CPU_SLOTS 256

struct _VyreEngine
{
  gint refcount;
  gint device_index;

  GMutex lock;                  /* everything below */
  GCond cond;                   /* wakes the linger thread; a release ended */
  VyreMegakernel *mk;           /* NULL while not resident */
  guint active;                 /* tenants registered and not removed */
  guint linger_ms;
  gint64 idle_since;            /* monotonic us when active became 0 */
  gboolean linger_thread;       /* one is waiting */
  guint releasing;              /* releases under way (lock dropped) */
  guint kernels;
};

G_DEFINE_BOXED_TYPE (VyreEngine, vyre_engine, vyre_engine_ref,
    vyre_engine_unref);

/* Handles by requested device index; never freed (a handle is a few
 * bytes: what lingers or is released is the device behind it). */
static GMutex registry_lock;
static GHashTable *registry;
/* What device -1 opened the first time: later requests for either index
 * get the same engine.  -1 until then.  registry_lock. */
static gint auto_index = -1;

static void
debug_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (vyre_engine_debug, "vyreengine", 0,
        "gst-vyre shared scan engine");
    g_once_init_leave (&done, 1);
  }
}

static guint
default_linger_ms (void)
{
  const gchar *s = g_getenv ("VYRE_ENGINE_LINGER_MS");
  if (s == NULL || *s == '\0')
    return VYRE_ENGINE_DEFAULT_LINGER_MS;
  gchar *end = NULL;
  guint64 v = g_ascii_strtoull (s, &end, 10);
  if (end == s || *end != '\0' || v > G_MAXUINT) {
    GST_WARNING ("VYRE_ENGINE_LINGER_MS='%s' is not a number of "
        "milliseconds; using %u", s, VYRE_ENGINE_DEFAULT_LINGER_MS);
    return VYRE_ENGINE_DEFAULT_LINGER_MS;
  }
  return (guint) v;
}

/* The device a request for `index` opens: VYRE_DEVICE when it is set (it
 * overrides the property, vyre-device.h), the automatic choice once
 * known.  registry_lock. */
static gint
device_key_locked (gint index)
{
  index = vyre_device_requested_index (index);
  return index == -1 && auto_index >= 0 ? auto_index : index;
}

VyreEngine *
vyre_engine_get (gint index)
{
  debug_init ();
  g_mutex_lock (&registry_lock);
  index = device_key_locked (index);
  if (registry == NULL)
    registry = g_hash_table_new (g_direct_hash, g_direct_equal);
  VyreEngine *e = g_hash_table_lookup (registry, GINT_TO_POINTER (index));
  if (e == NULL) {
    e = g_new0 (VyreEngine, 1);
    e->refcount = 1;            /* the registry's */
    e->device_index = index;
    e->linger_ms = default_linger_ms ();
    g_mutex_init (&e->lock);
    g_cond_init (&e->cond);
    g_hash_table_insert (registry, GINT_TO_POINTER (index), e);
  }
  vyre_engine_ref (e);
  g_mutex_unlock (&registry_lock);
  return e;
}

VyreEngine *
vyre_engine_ref (VyreEngine * engine)
{
  g_atomic_int_inc (&engine->refcount);
  return engine;
}

void
vyre_engine_unref (VyreEngine * engine)
{
  /* The registry keeps one reference for the life of the process. */
  if (engine != NULL)
    g_atomic_int_dec_and_test (&engine->refcount);
}

gint
vyre_engine_device_index (VyreEngine * engine)
{
  return engine->device_index;
}

/* Releases the kernel (and with its last tenant memory, the device).
 * lock held. */
static void
release_locked (VyreEngine * e, const gchar * why)
{
  if (e->mk == NULL)
    return;
  GST_INFO ("engine for device %d: releasing the kernel (%s)",
      e->device_index, why);
  VyreMegakernel *mk = e->mk;
  e->mk = NULL;
  e->releasing++;
  g_mutex_unlock (&e->lock);
  vyre_megakernel_unref (mk);
  g_mutex_lock (&e->lock);
  e->releasing--;
  g_cond_broadcast (&e->cond);
}

static gpointer
linger_thread (gpointer data)
{
  VyreEngine *e = data;
  g_mutex_lock (&e->lock);
  while (e->mk != NULL && e->active == 0) {
    gint64 deadline = e->idle_since + (gint64) e->linger_ms * 1000;
    if (g_get_monotonic_time () >= deadline) {
      release_locked (e, "linger time over");
      continue;
    }
    g_cond_wait_until (&e->cond, &e->lock, deadline);
  }
  e->linger_thread = FALSE;
  g_mutex_unlock (&e->lock);
  return NULL;
}

/* At process exit, before the Vulkan driver's own exit handlers (which run
 * after this one: it is registered after every device open),
 * every lingering kernel is stopped and its device closed.  A device left
 * open with a resident kernel crashes NVIDIA's driver in its exit
 * handlers ("double free or corruption"), and the linger must not delay
 * the exit either.  An engine with active tenants (an application that
 * exits without stopping its pipelines) only has its kernel stopped:
 * its tenants' threads may still use the memory. */
static void
release_at_exit (void)
{
  /* Registered once per device open: the last registered runs first and
   * does the work, the others find it done. */
  static gint done = 0;
  if (!g_atomic_int_compare_and_exchange (&done, 0, 1))
    return;
  /* Jobs a stopped pipeline handed over complete in microseconds on a
   * GPU: their tenants must be gone before the kernel can be released. */
  if (!vyre_megakernel_wait_reclaimed (2 * G_USEC_PER_SEC))
    GST_WARNING ("jobs handed over by stopped pipelines did not complete "
        "within 2 s of process exit");
  /* Engines are locked after the registry is let go: acquire takes the
   * registry lock under an engine's. */
  g_mutex_lock (&registry_lock);
  GList *engines = g_hash_table_get_values (registry);
  g_mutex_unlock (&registry_lock);
  for (GList * l = engines; l; l = l->next) {
    VyreEngine *e = l->data;
    g_mutex_lock (&e->lock);
    /* A release the linger thread began must end before the driver's
     * exit handlers run. */
    gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    while (e->releasing > 0 && g_cond_wait_until (&e->cond, &e->lock, until));
    if (e->active == 0)
      release_locked (e, "process exit");
    else if (e->mk)
      vyre_megakernel_stop (e->mk);
    g_mutex_unlock (&e->lock);
  }
  g_list_free (engines);
}

VyreMegakernel *
vyre_engine_acquire (VyreEngine * engine, guint64 progress_timeout_us,
    GError ** error)
{
  g_mutex_lock (&engine->lock);
  if (engine->mk && vyre_megakernel_is_lost (engine->mk))
    release_locked (engine, "device lost or kernel hung");
  if (engine->mk == NULL) {
    VyreDevice *dev = vyre_device_open (engine->device_index, error);
    if (dev == NULL)
      goto fail;
    GST_INFO ("engine for device %d: %s (%s)", engine->device_index,
        vyre_device_name (dev), vyre_device_driver (dev));
    if (engine->device_index == -1) {
      /* Requests for this device by its index get this engine too. */
      gint k = (gint) vyre_device_index (dev);
      g_mutex_lock (&registry_lock);
      auto_index = k;
      if (!g_hash_table_contains (registry, GINT_TO_POINTER (k)))
        g_hash_table_insert (registry, GINT_TO_POINTER (k),
            vyre_engine_ref (engine));
      g_mutex_unlock (&registry_lock);
    }
    VyreMegakernelConfig mc = {
      .nslots = vyre_device_is_cpu (dev) ? VYRE_ENGINE_CPU_SLOTS :
          VYRE_ENGINE_GPU_SLOTS,
      .persistent = TRUE,
      .progress_timeout_us = progress_timeout_us,
    };
    engine->mk = vyre_megakernel_new (dev, &mc, error);
    vyre_device_unref (dev);
    if (engine->mk == NULL)
      goto fail;
    engine->kernels++;
    /* Again after every device open, not once: a device closed after its
     * linger and opened again loads the Vulkan driver again, whose exit
     * handlers then come after ours and run first, tearing the driver
     * down under a kernel that lingers (H100: "double free or
     * corruption" at the exit of a process whose engine had lingered
     * once).  Handlers run last-registered first: the first to run does
     * the work, the others return.  One per device open, so at most one
     * per linger time.  In a plugin, glibc
     * runs it when the module is unloaded too. */
    atexit (release_at_exit);
  }
  engine->active++;
  VyreMegakernel *mk = vyre_megakernel_ref (engine->mk);
  g_mutex_unlock (&engine->lock);
  return mk;

fail:
  g_mutex_unlock (&engine->lock);
  return NULL;
}

struct _VyreEngineOpening
{
  GThread *thread;
  VyreEngine *engine;
  guint64 progress_timeout_us;
  VyreMegakernel *mk;           /* what acquire returned, or NULL */
  GError *error;                /* and why not */
};

static gpointer
acquire_thread (gpointer data)
{
  VyreEngineOpening *op = data;
  op->mk = vyre_engine_acquire (op->engine, op->progress_timeout_us,
      &op->error);
  return NULL;
}

VyreEngineOpening *
vyre_engine_acquire_begin (VyreEngine * engine, guint64 progress_timeout_us)
{
  VyreEngineOpening *op = g_new0 (VyreEngineOpening, 1);
  op->engine = vyre_engine_ref (engine);
  op->progress_timeout_us = progress_timeout_us;
  GError *err = NULL;
  op->thread = g_thread_try_new ("vyre-open", acquire_thread, op, &err);
  if (op->thread == NULL) {
    GST_WARNING ("no thread to open the device on (%s): it opens when the "
        "scan starts", err->message);
    g_error_free (err);
    vyre_engine_unref (op->engine);
    g_free (op);
    return NULL;
  }
  return op;
}

VyreMegakernel *
vyre_engine_acquire_finish (VyreEngineOpening * op, VyreEngine * wanted,
    GError ** error)
{
  /* A device open ends (vkCreateInstance/vkCreateDevice, or their error);
   * the kernel's launch waits with progress_timeout_us. */
  g_thread_join (op->thread);
  VyreMegakernel *mk = op->mk;
  if (op->engine != wanted) {
    vyre_engine_release (op->engine, mk);
    mk = NULL;
    g_clear_error (&op->error);
  } else if (mk == NULL) {
    g_propagate_error (error, op->error);
  }
  vyre_engine_unref (op->engine);
  g_free (op);
  return mk;
}

void
vyre_engine_release (VyreEngine * engine, VyreMegakernel * mk)
{
  if (mk == NULL)
    return;
  vyre_megakernel_unref (mk);
  g_mutex_lock (&engine->lock);
  g_assert (engine->active > 0);
  if (--engine->active == 0) {
    engine->idle_since = g_get_monotonic_time ();
    if (engine->linger_ms == 0) {
      release_locked (engine, "idle, no linger");
    } else if (!engine->linger_thread) {
      engine->linger_thread = TRUE;
      GError *err = NULL;
      GThread *th = g_thread_try_new ("vyre-linger", linger_thread, engine,
          &err);
      if (th)
        g_thread_unref (th);    /* detached: never joined, never waited on */
      else {
        GST_WARNING ("no linger thread (%s): releasing now", err->message);
        g_error_free (err);
        engine->linger_thread = FALSE;
        release_locked (engine, "idle, no linger thread");
      }
    }
  }
  g_mutex_unlock (&engine->lock);
}

void
vyre_engine_set_linger (VyreEngine * engine, guint linger_ms)
{
  g_mutex_lock (&engine->lock);
  engine->linger_ms = linger_ms;
  g_cond_broadcast (&engine->cond);
  g_mutex_unlock (&engine->lock);
}

guint
vyre_engine_get_linger (VyreEngine * engine)
{
  g_mutex_lock (&engine->lock);
  guint v = engine->linger_ms;
  g_mutex_unlock (&engine->lock);
  return v;
}

gboolean
vyre_engine_is_resident (VyreEngine * engine)
{
  g_mutex_lock (&engine->lock);
  gboolean v = engine->mk != NULL;
  g_mutex_unlock (&engine->lock);
  return v;
}

guint
vyre_engine_n_kernels (VyreEngine * engine)
{
  g_mutex_lock (&engine->lock);
  guint v = engine->kernels;
  g_mutex_unlock (&engine->lock);
  return v;
}

guint
vyre_engine_n_active (VyreEngine * engine)
{
  g_mutex_lock (&engine->lock);
  guint v = engine->active;
  g_mutex_unlock (&engine->lock);
  return v;
}

GstStructure *
vyre_engine_stats (VyreEngine * engine)
{
  g_mutex_lock (&engine->lock);
  GstStructure *st = gst_structure_new ("vyre-engine",
      "device", G_TYPE_INT, engine->device_index,
      "resident", G_TYPE_BOOLEAN, engine->mk != NULL,
      "kernels", G_TYPE_UINT, engine->kernels,
      "active", G_TYPE_UINT, engine->active,
      "tenants", G_TYPE_UINT, engine->mk ?
      vyre_megakernel_n_tenants (engine->mk) : 0,
      "poller-wakes", G_TYPE_UINT64, engine->mk ?
      vyre_megakernel_poller_wakes (engine->mk) : G_GUINT64_CONSTANT (0),
      "memory-bytes", G_TYPE_UINT64, engine->mk ?
      vyre_megakernel_memory_bytes (engine->mk) : G_GUINT64_CONSTANT (0),
      "linger-ms", G_TYPE_UINT, engine->linger_ms, NULL);
  g_mutex_unlock (&engine->lock);
  return st;
}

GstContext *
vyre_engine_context_new (VyreEngine * engine)
{
  GstContext *ctx = gst_context_new (VYRE_ENGINE_CONTEXT_TYPE, TRUE);
  GstStructure *s = gst_context_writable_structure (ctx);
  gst_structure_set (s, "engine", VYRE_TYPE_ENGINE, engine,
      "device", G_TYPE_INT, engine->device_index, NULL);
  return ctx;
}

VyreEngine *
vyre_engine_from_context (GstContext * context)
{
  if (context == NULL
      || g_strcmp0 (gst_context_get_context_type (context),
          VYRE_ENGINE_CONTEXT_TYPE) != 0)
    return NULL;
  VyreEngine *e = NULL;
  if (!gst_structure_get (gst_context_get_structure (context), "engine",
          VYRE_TYPE_ENGINE, &e, NULL))
    return NULL;
  return e;
}
