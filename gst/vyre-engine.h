/* gst-vyre
 *
 * vyre-engine.h - one resident scan engine per Vulkan device per process,
 * shared by every vyrescan through GstContext.
 *
 * An engine is a handle to (device, persistent megakernel, ring): the
 * first tenant that needs it opens the device and launches the kernel;
 * every later tenant only registers its tables and memory with the
 * running kernel (vyre-megakernel.h).  When no tenant is left, the device
 * and the kernel are kept for the linger time (default
 * VYRE_ENGINE_DEFAULT_LINGER_MS; the VYRE_ENGINE_LINGER_MS environment
 * variable or vyrescan's engine-linger property change it), then released
 * by a detached timer thread, which never delays process exit: at exit an
 * idle engine is released at once (before the driver's own exit
 * handlers), and an active one has its kernel stopped.  The
 * handle itself stays valid (a pipeline in NULL may keep it in its
 * context) and opens the device again on demand.  An engine whose device
 * was lost drops its kernel; the next tenant gets a new one.
 *
 * Engines are created under one registry lock, one per device (-1, the
 * automatic choice, is the same engine as the index it resolved to once a
 * pipeline opened it; VYRE_DEVICE, which overrides the property, picks
 * the engine too), so pipelines that know nothing of each other share
 * them.  Applications see them as GstContext of type
 * VYRE_ENGINE_CONTEXT_TYPE, whose structure holds the engine in the field
 * "engine" (GType VYRE_TYPE_ENGINE) and its device index in "device";
 * vyrescan follows GStreamer's context algorithm (query downstream and
 * upstream, then NEED_CONTEXT, then HAVE_CONTEXT with its own).
 *
 * Thread-safe.
 */
#ifndef __VYRE_ENGINE_H__
#define __VYRE_ENGINE_H__

#include <gst/gst.h>

#include "vyre-megakernel.h"

G_BEGIN_DECLS

#define VYRE_ENGINE_CONTEXT_TYPE "vyre.engine"
#define VYRE_ENGINE_DEFAULT_LINGER_MS 5000

typedef struct _VyreEngine VyreEngine;

GType vyre_engine_get_type (void);
#define VYRE_TYPE_ENGINE (vyre_engine_get_type ())

/* The process's engine for device `index` (-1 = automatic), created on
 * first use.  Opens nothing yet: the device opens with the first tenant. */
VyreEngine *vyre_engine_get (gint index);
VyreEngine *vyre_engine_ref (VyreEngine * engine);
void vyre_engine_unref (VyreEngine * engine);
gint vyre_engine_device_index (VyreEngine * engine);

/* The engine's resident kernel (a new reference), opening the device and
 * launching it first when none is resident (progress_timeout_us applies
 * then).  The caller is an active user until vyre_engine_release: the
 * kernel does not linger out under it.  Register tenants on it with
 * vyre_megakernel_add_tenant. */
VyreMegakernel *vyre_engine_acquire (VyreEngine * engine,
    guint64 progress_timeout_us, GError ** error);
/* Ends an acquire (drops that reference); when it was the last active
 * user the linger timer starts. */
void vyre_engine_release (VyreEngine * engine, VyreMegakernel * mk);

/* vyre_engine_acquire on a thread of its own, so that the device opens
 * while the caller goes on: vyrescan begins it when going to READY, and
 * the device opens while the source walks its tree and the patterns
 * compile.  NULL when no thread could be started (acquire then).
 * vyre_engine_acquire_finish waits for it and frees it.  When it opened
 * `wanted` it returns what acquire returned (the caller is then an active
 * user, as after acquire) or NULL with its error; for any other engine
 * (wanted NULL: the caller changed its mind) the kernel is released and
 * NULL returned without an error. */
typedef struct _VyreEngineOpening VyreEngineOpening;
VyreEngineOpening *vyre_engine_acquire_begin (VyreEngine * engine,
    guint64 progress_timeout_us);
VyreMegakernel *vyre_engine_acquire_finish (VyreEngineOpening * opening,
    VyreEngine * wanted, GError ** error);

/* Linger time in milliseconds (0: release as soon as idle). */
void vyre_engine_set_linger (VyreEngine * engine, guint linger_ms);
guint vyre_engine_get_linger (VyreEngine * engine);

/* Whether the device and kernel are up now (tests, statistics). */
gboolean vyre_engine_is_resident (VyreEngine * engine);
/* Kernels this engine handle created since the process started (one per
 * residency; relaunches after a retirement are not counted), and active
 * users now. */
guint vyre_engine_n_kernels (VyreEngine * engine);
guint vyre_engine_n_active (VyreEngine * engine);

/* A "vyre-engine" structure for applications and tests: device (gint,
 * the requested index), resident (gboolean), kernels (guint, see
 * vyre_engine_n_kernels), active (guint, users now), tenants (guint,
 * registered on the resident kernel), linger-ms (guint). */
GstStructure *vyre_engine_stats (VyreEngine * engine);

/* A persistent GstContext holding the engine. */
GstContext *vyre_engine_context_new (VyreEngine * engine);
/* The engine in a VYRE_ENGINE_CONTEXT_TYPE context (a new reference), or
 * NULL. */
VyreEngine *vyre_engine_from_context (GstContext * context);

G_END_DECLS
#endif /* __VYRE_ENGINE_H__ */
