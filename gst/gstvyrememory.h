/* gst-vyre
 *
 * gstvyrememory.h - GstVyreAllocator: GstMemory the GPU reads directly.
 *
 * Each memory is one fixed-size block of a vyrescan data arena, which lives
 * in DEVICE_LOCAL|HOST_VISIBLE memory (the PCIe BAR on a discrete GPU),
 * or, for a small memory (at most 1/GST_VYRE_ALLOCATOR_CARVE_DIVISOR of a
 * block), a piece of a block shared with other small memories: they are
 * carved one right after the other (unless an alignment is asked for), so
 * the small files of a tree, read one after the other, lie side by side
 * and vyrescan scans a run of them as one GPU job.  A carved memory's
 * maxsize ends where it ends: it cannot grow over its neighbour.
 * vyrescan offers a pool of these in the ALLOCATION query, so a cooperating
 * upstream element (vyreurisrc) reads file data straight into memory the
 * kernel scans: no copy.  The allocator keeps the arena alive while any of
 * its memories exists.
 */
#ifndef __GST_VYRE_MEMORY_H__
#define __GST_VYRE_MEMORY_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_VYRE_MEMORY_TYPE "VyreArenaMemory"

/* Memories of at most block size / this many bytes share blocks. */
#define GST_VYRE_ALLOCATOR_CARVE_DIVISOR 16

#define GST_TYPE_VYRE_ALLOCATOR (gst_vyre_allocator_get_type ())
G_DECLARE_FINAL_TYPE (GstVyreAllocator, gst_vyre_allocator, GST, VYRE_ALLOCATOR,
    GstAllocator)

/* Host address of arena bytes [offset, offset + size) of `owner`, made
 * available first if they were not (the arena grows as it is used); NULL
 * with *error when they cannot be. */
typedef guint8 *(*GstVyreArenaReserve) (gpointer owner, guint64 offset,
    guint64 size, GError ** error);

/* Blocks [first_block, first_block + n_blocks) of `owner`'s arena
 * (block_size bytes each, block b at offset b * block_size), each reserved
 * when it is first handed out: an arena that cannot grow makes that
 * memory come from the system heap instead.  `owner` is kept alive
 * (owner_ref / owner_unref) as long as the allocator or any memory of it
 * lives. */
GstAllocator *gst_vyre_allocator_new (GstVyreArenaReserve reserve,
    gsize block_size, guint first_block, guint n_blocks, gpointer owner,
    gpointer (*owner_ref) (gpointer), void (*owner_unref) (gpointer));

gsize gst_vyre_allocator_block_size (GstVyreAllocator * alloc);

/* Waits until a block of the arena is free, until end_time (the
 * g_get_monotonic_time() clock) or until *stop (read atomically; may be
 * NULL) is non-zero, woken when a memory returns its block.  TRUE when a
 * block was free on return; another thread may take it first, so callers
 * allocate, check, and wait again.  For upstream elements that would
 * rather wait a little for a block than have their memory copied. */
gboolean gst_vyre_allocator_wait_block (GstVyreAllocator * alloc,
    gint64 end_time, const gint * stop);

/* Wakes every gst_vyre_allocator_wait_block() to look at its stop flag:
 * set the flag first, then call this (an element's unlock). */
void gst_vyre_allocator_wake (GstVyreAllocator * alloc);

/* TRUE if mem is a block of `alloc`'s arena; *arena_offset is the byte
 * offset of the memory's first valid byte (offset included). */
gboolean gst_vyre_memory_arena_offset (GstMemory * mem,
    GstVyreAllocator * alloc, guint64 * arena_offset);

G_END_DECLS
#endif /* __GST_VYRE_MEMORY_H__ */
