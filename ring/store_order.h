/*
 * store_order.h - host-side ordering helpers for ring memory that may be
 * a GPU BAR mapping.
 *
 * Why this exists (docs: /work/shared/reference/persistent-vulkan.md,
 * rule 4): on x86 a BAR mapping (DEVICE_LOCAL|HOST_VISIBLE, "ReBAR") is
 * write-combining (WC) memory.  The x86 memory model orders ordinary
 * stores to write-back memory (TSO), and a C11 release store compiles to
 * a plain MOV -- but WC stores are NOT ordered with each other: they sit
 * in write-combining buffers and may reach the device in any order.  So a
 * release store alone does not keep the payload words ahead of the STATUS
 * word the GPU polls; the GPU could claim a slot and read stale payload.
 *   - sfence BEFORE the status store drains the payload out of the WC
 *     buffers first;
 *   - sfence AFTER it pushes the status word itself out promptly, instead
 *     of leaving it in a WC buffer until something else evicts it (that
 *     is publish latency, not correctness).
 * Loads from WC/UC memory are not ordered by TSO either (they may be
 * performed speculatively, out of order), so after observing a
 * completion flag the host issues lfence before reading the words the
 * flag guards.
 *
 * Off x86 the same calls fall back to C11 fences, which is what those
 * memory models need for cached memory.  Every access goes through
 * __atomic builtins on the plain uint32_t words (the wire format is
 * plain words shared with GLSL, so they cannot be declared _Atomic), which
 * also lets ThreadSanitizer see the synchronisation in the CPU tests.
 *
 * Only the host uses these; the reference consumer (the CPU stand-in for
 * the shader) uses the same builtins without the WC fences, just as the
 * shader uses device-scope atomics.
 */
#ifndef VYRE_STORE_ORDER_H
#define VYRE_STORE_ORDER_H

#include <stdatomic.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VYRE_HAVE_X86_FENCES 1
#endif

/* Order all earlier stores, including WC stores, before later ones. */
static inline void
vyre_store_fence (void)
{
#ifdef VYRE_HAVE_X86_FENCES
  _mm_sfence ();
  /* _mm_sfence is an intrinsic, not a compiler barrier on every compiler
   * version: also stop the compiler from moving stores across it. */
  atomic_signal_fence (memory_order_seq_cst);
#else
  atomic_thread_fence (memory_order_release);
#endif
}

/* Order the load before this call ahead of any later load, including
 * loads from WC/UC memory. */
static inline void
vyre_load_fence (void)
{
#ifdef VYRE_HAVE_X86_FENCES
  _mm_lfence ();
  atomic_signal_fence (memory_order_seq_cst);
#else
  atomic_thread_fence (memory_order_acquire);
#endif
}

/* Publication store, correct on WC memory: everything written before it
 * (payload words) is visible to the device before the flag is. */
static inline void
vyre_store_release_u32 (uint32_t * p, uint32_t v)
{
  vyre_store_fence ();
  __atomic_store_n (p, v, __ATOMIC_RELEASE);
  vyre_store_fence ();
}

/* The same on ordinary cached (write-back) memory, where TSO already
 * orders stores and the sfences only cost time. */
static inline void
vyre_store_release_cached_u32 (uint32_t * p, uint32_t v)
{
  __atomic_store_n (p, v, __ATOMIC_RELEASE);
}

static inline uint32_t
vyre_load_acquire_u32 (const uint32_t * p)
{
  return __atomic_load_n (p, __ATOMIC_ACQUIRE);
}

/* Payload words: no ordering of their own (the STATUS / SEQ_LO flag
 * orders them), but accessed atomically because a consumer may peek at a
 * slot (its priority, its opcode) while the host rewrites it. */
static inline void
vyre_store_relaxed_u32 (uint32_t * p, uint32_t v)
{
  __atomic_store_n (p, v, __ATOMIC_RELAXED);
}

static inline uint32_t
vyre_load_relaxed_u32 (const uint32_t * p)
{
  return __atomic_load_n (p, __ATOMIC_RELAXED);
}

#endif /* VYRE_STORE_ORDER_H */
