/* gst-vyre
 *
 * vyre-read-arena.h - the memory vyreurisrc reads into when downstream
 * offers none of its own.
 *
 * One anonymous mapping cut into equal blocks, handed out by a
 * GstVyreAllocator (which falls back to system memory when every block is
 * in use or a read does not fit a block).  The first blocks are registered
 * with io_uring as fixed buffers (IORING_OP_READ_FIXED: the kernel does
 * not look up and pin the pages on every read), each pinned when a read
 * first lands in it: start pins nothing, a 1 KiB file pins one block.
 *
 * Sizing follows what will be read, not the blocksize property alone: a
 * 1 GiB blocksize on a 3 MB file needs one 3 MB block, not queue-depth
 * blocks of 1 GiB.  The mapping is lazy (pages are touched by the reads
 * that land in them); what may be pinned is capped by
 * VYRE_READ_ARENA_PIN_LIMIT, blocks beyond it are read with plain reads.
 *
 * Lifetime: the mapping lives until vyre_read_arena_free() was called and
 * the last memory handed out is freed (buffers downstream still holds keep
 * it mapped).  Not thread-safe, except the allocator, which is.
 */
#ifndef VYRE_READ_ARENA_H
#define VYRE_READ_ARENA_H

#include <gst/gst.h>

#include "vyre-uring-reader.h"

G_BEGIN_DECLS

/* At most this many bytes of the arena are registered (pinned) with
 * io_uring; the blocks beyond are read with plain io_uring reads. */
#define VYRE_READ_ARENA_PIN_LIMIT (64u << 20)

/* Blocks beyond the reads in flight: buffers downstream still holds. */
#define VYRE_READ_ARENA_SLACK 4

typedef struct _VyreReadArena VyreReadArena;

/* Plans the arena for reads of up to read_len bytes (the blocksize, or
 * less when the file is smaller) of a file of file_size bytes (0: not
 * known), with depth reads in flight.  align > 1 (direct I/O): a block
 * holds a read rounded out to align on both ends.  *block_bytes is a
 * multiple of the page size; *n_blocks is depth + VYRE_READ_ARENA_SLACK,
 * or fewer when the whole file takes fewer reads. */
void vyre_read_arena_plan (gsize read_len, guint64 file_size, guint depth,
    gsize align, gsize * block_bytes, guint * n_blocks);

/* Maps n_blocks of block_bytes.  NULL with *err = errno when mmap fails. */
VyreReadArena *vyre_read_arena_new (gsize block_bytes, guint n_blocks,
    int *err);

/* Drops the caller's reference; memories still handed out keep the
 * mapping until they are freed. */
void vyre_read_arena_free (VyreReadArena * arena);

/* The allocator handing out the blocks (borrowed: valid until
 * vyre_read_arena_free). */
GstAllocator *vyre_read_arena_get_allocator (VyreReadArena * arena);

/* Makes the first blocks, at most VYRE_READ_ARENA_PIN_LIMIT bytes (none
 * when one block is larger: reads are plain then, not an error), fixed
 * buffers of reader.  Where the kernel has sparse tables (Linux >= 5.19)
 * nothing is pinned here: vyre_read_arena_fixed_index pins a block the
 * first time a read lands in it.  Older kernels: the blocks are pinned
 * now, fewer when the kernel refuses with ENOMEM (RLIMIT_MEMLOCK).
 * Returns 0, or the errno of the first refusal;
 * vyre_read_arena_n_registered() says how many table entries took.
 * reader must outlive every later fixed_index call. */
int vyre_read_arena_register (VyreReadArena * arena,
    VyreUringReader * reader);

/* For a memory from this arena's allocator: the fixed-buffer index to read
 * it with READ_FIXED (pinning the block now if it is not yet), or -1 (an
 * unregistered block, or one the kernel refused to pin:
 * vyre_read_arena_take_pin_error says why).  *in_arena is FALSE for the
 * system memory the allocator fell back to (an arena miss). */
int vyre_read_arena_fixed_index (VyreReadArena * arena, GstMemory * mem,
    gboolean * in_arena);

gsize vyre_read_arena_block_bytes (VyreReadArena * arena);
guint vyre_read_arena_n_blocks (VyreReadArena * arena);
guint vyre_read_arena_n_registered (VyreReadArena * arena);

/* Bytes of the blocks pinned so far. */
gsize vyre_read_arena_pinned_bytes (VyreReadArena * arena);

/* The errno of the first refusal to pin a block since the last call, or
 * 0; cleared. */
int vyre_read_arena_take_pin_error (VyreReadArena * arena);

G_END_DECLS
#endif /* VYRE_READ_ARENA_H */
