/* gst-vyre
 *
 * vyre-read-arena.c - see vyre-read-arena.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-read-arena.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "gstvyrememory.h"

/* The mapping: shared by the arena and every memory of its allocator,
 * unmapped by the last of them. */
typedef struct
{
  gint ref;
  guint8 *base;
  gsize bytes;
} Mapping;

struct _VyreReadArena
{
  Mapping *map;
  GstAllocator *alloc;
  gsize block_bytes;
  guint n_blocks;
  guint n_registered;           /* entries of the fixed-buffer table */
  VyreUringReader *reader;      /* lazy: pins blocks into its table */
  guint8 *pin_state;            /* lazy: per entry, PIN_* */
  guint n_pinned;
  int pin_error;                /* the first refusal to pin a block */
};

/* A table entry of a lazily pinned arena. */
enum
{
  PIN_NOT_YET,
  PIN_DONE,
  PIN_REFUSED,                  /* the kernel would not pin it: plain reads */
};

static gpointer
mapping_ref (gpointer p)
{
  Mapping *m = p;
  g_atomic_int_inc (&m->ref);
  return m;
}

static void
mapping_unref (gpointer p)
{
  Mapping *m = p;
  if (g_atomic_int_dec_and_test (&m->ref)) {
    munmap (m->base, m->bytes);
    g_free (m);
  }
}

void
vyre_read_arena_plan (gsize read_len, guint64 file_size, guint depth,
    gsize align, gsize * block_bytes, guint * n_blocks)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gsize block = MAX (read_len, 1);
  if (align > 1)
    block = (block + align - 1) / align * align + align;
  *block_bytes = (block + page - 1) / page * page;

  guint n = depth + VYRE_READ_ARENA_SLACK;
  if (file_size > 0) {
    guint64 reads = (file_size + read_len - 1) / MAX (read_len, 1);
    n = (guint) MIN ((guint64) n, reads);
  }
  *n_blocks = MAX (n, 1);
}

/* The whole mapping exists from the start. */
static guint8 *
mapping_reserve (gpointer owner, guint64 offset, guint64 size,
    GError ** error)
{
  (void) size;
  (void) error;
  return (guint8 *) ((Mapping *) owner)->base + offset;
}

VyreReadArena *
vyre_read_arena_new (gsize block_bytes, guint n_blocks, int *err)
{
  gsize bytes = block_bytes * n_blocks;
  void *base = mmap (NULL, bytes, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    *err = errno;
    return NULL;
  }
#ifdef MADV_HUGEPAGE
  madvise (base, bytes, MADV_HUGEPAGE);
#endif
  Mapping *m = g_new0 (Mapping, 1);
  m->ref = 1;
  m->base = base;
  m->bytes = bytes;
  VyreReadArena *a = g_new0 (VyreReadArena, 1);
  a->map = m;
  a->block_bytes = block_bytes;
  a->n_blocks = n_blocks;
  a->alloc = gst_vyre_allocator_new (mapping_reserve, block_bytes, 0,
      n_blocks, m, mapping_ref, mapping_unref);
  return a;
}

void
vyre_read_arena_free (VyreReadArena * a)
{
  if (a == NULL)
    return;
  gst_object_unref (a->alloc);
  mapping_unref (a->map);
  g_free (a->pin_state);
  g_free (a);
}

GstAllocator *
vyre_read_arena_get_allocator (VyreReadArena * a)
{
  return a->alloc;
}

/* Registers the first n_max blocks at once (kernels without sparse
 * tables), halving on ENOMEM.  Returns 0 or the first errno. */
static int
register_eagerly (VyreReadArena * a, VyreUringReader * reader, guint n_max)
{
  struct iovec *iov = g_new (struct iovec, n_max);
  for (guint i = 0; i < n_max; i++) {
    iov[i].iov_base = a->map->base + (gsize) i * a->block_bytes;
    iov[i].iov_len = a->block_bytes;
  }
  int first_err = 0;
  for (guint n = n_max; n > 0; n /= 2) {
    int ret = vyre_uring_reader_register_buffers (reader, iov, n);
    if (ret == 0) {
      a->n_registered = a->n_pinned = n;
      break;
    }
    if (first_err == 0)
      first_err = -ret;
    if (ret != -ENOMEM)
      break;                    /* only a memlock limit gets better with less */
  }
  g_free (iov);
  return first_err;
}

int
vyre_read_arena_register (VyreReadArena * a, VyreUringReader * reader)
{
  guint n_max = (guint) MIN ((gsize) a->n_blocks,
      VYRE_READ_ARENA_PIN_LIMIT / a->block_bytes);
  a->n_registered = a->n_pinned = 0;
  if (n_max == 0)
    return 0;                   /* blocks too large to pin: plain reads */
  /* An empty table: each block is pinned when a read first lands in it
   * (pin_block), so a 1 KiB file pins one block, not the whole arena. */
  int ret = vyre_uring_reader_register_sparse (reader, n_max);
  if (ret == 0) {
    a->reader = reader;
    a->n_registered = n_max;
    a->pin_state = g_new0 (guint8, n_max);
    return 0;
  }
  return register_eagerly (a, reader, n_max);
}

/* Pins block b into its table entry on first use.  FALSE when the kernel
 * refuses (remembered: the block is read with plain reads from then on). */
static gboolean
pin_block (VyreReadArena * a, guint b)
{
  if (a->pin_state == NULL)
    return TRUE;                /* registered eagerly */
  if (a->pin_state[b] != PIN_NOT_YET)
    return a->pin_state[b] == PIN_DONE;
  struct iovec iov = {
    .iov_base = a->map->base + (gsize) b * a->block_bytes,
    .iov_len = a->block_bytes,
  };
  int ret = vyre_uring_reader_update_buffer (a->reader, b, &iov);
  if (ret < 0) {
    a->pin_state[b] = PIN_REFUSED;
    if (a->pin_error == 0)
      a->pin_error = -ret;
    return FALSE;
  }
  a->pin_state[b] = PIN_DONE;
  a->n_pinned++;
  return TRUE;
}

int
vyre_read_arena_fixed_index (VyreReadArena * a, GstMemory * mem,
    gboolean * in_arena)
{
  guint64 off;
  *in_arena = gst_vyre_memory_arena_offset (mem, GST_VYRE_ALLOCATOR
      (a->alloc), &off);
  if (!*in_arena)
    return -1;
  guint b = (guint) (off / a->block_bytes);
  if (b >= a->n_registered || !pin_block (a, b))
    return -1;
  return (int) b;
}

gsize
vyre_read_arena_pinned_bytes (VyreReadArena * a)
{
  return (gsize) a->n_pinned * a->block_bytes;
}

int
vyre_read_arena_take_pin_error (VyreReadArena * a)
{
  int e = a->pin_error;
  a->pin_error = 0;
  return e;
}

gsize
vyre_read_arena_block_bytes (VyreReadArena * a)
{
  return a->block_bytes;
}

guint
vyre_read_arena_n_blocks (VyreReadArena * a)
{
  return a->n_blocks;
}

guint
vyre_read_arena_n_registered (VyreReadArena * a)
{
  return a->n_registered;
}
