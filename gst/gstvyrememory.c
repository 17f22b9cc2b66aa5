/* gst-vyre
 *
 * gstvyrememory.c - see gstvyrememory.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstvyrememory.h"

GST_DEBUG_CATEGORY_STATIC (vyre_memory_debug);
GST_DEBUG_CATEGORY_EXTERN (GST_CAT_PERFORMANCE);
#define GST_CAT_DEFAULT vyre_memory_debug

typedef struct
{
  GstMemory mem;
  guint block;
  guint8 *sys;                  /* fallback system memory, or NULL */
} GstVyreMemory;

struct _GstVyreAllocator
{
  GstAllocator parent;
  GstVyreArenaReserve reserve;
  guint8 **block_map;           /* host address per block, once reserved */
  gboolean reserve_failed;      /* logged once */
  gsize block_size;
  guint first_block;
  guint n_blocks;
  GMutex lock;
  GCond block_freed;            /* a block returned, or a wake-up */
  GArray *free_blocks;          /* guint block indices */
  /* Small memories share a block, carved one after the other, so that
   * consecutive small reads (the small files of a tree) lie side by side
   * and vyrescan scans them as one job.  A block returns to free_blocks
   * when its last memory is freed and nothing more is carved from it. */
  guint *users;                 /* live memories per block (index - first) */
  gint carve_block;             /* block small memories come from, or -1 */
  gsize carve_pos;              /* its first byte not handed out */
  gpointer owner;
  void (*owner_unref) (gpointer);
};

G_DEFINE_TYPE_WITH_CODE (GstVyreAllocator, gst_vyre_allocator,
    GST_TYPE_ALLOCATOR, GST_DEBUG_CATEGORY_INIT (vyre_memory_debug,
        "vyrememory", 0, "gst-vyre GPU-readable memory"));

/* Gives block b back when nothing uses it (lock held). */
static void
release_block_locked (GstVyreAllocator * self, guint b)
{
  if (self->users[b - self->first_block] == 0 && (gint) b != self->carve_block) {
    g_array_append_val (self->free_blocks, b);
    g_cond_broadcast (&self->block_freed);
  }
}

/* A free block, or -1 (lock held). */
static gint
take_block_locked (GstVyreAllocator * self)
{
  if (self->free_blocks->len == 0)
    return -1;
  guint b = g_array_index (self->free_blocks, guint,
      self->free_blocks->len - 1);
  guint i = b - self->first_block;
  if (self->block_map[i] == NULL) {
    /* The block's first use: its part of the arena may not exist yet. */
    GError *err = NULL;
    self->block_map[i] = self->reserve (self->owner,
        (guint64) b * self->block_size, self->block_size, &err);
    if (self->block_map[i] == NULL) {
      if (!self->reserve_failed)
        GST_WARNING_OBJECT (self, "arena block %u unavailable, memory "
            "comes from the system heap instead (and is copied): %s", b,
            err ? err->message : "?");
      self->reserve_failed = TRUE;
      g_clear_error (&err);
      return -1;
    }
  }
  g_array_set_size (self->free_blocks, self->free_blocks->len - 1);
  return (gint) b;
}

/* Carves `total` bytes (aligned by the mask `align`) for a small memory;
 * -1 when no block is free.  *pos: where in the block (lock held). */
static gint
carve_locked (GstVyreAllocator * self, gsize total, gsize align, gsize * pos)
{
  if (self->carve_block >= 0) {
    gsize at = (self->carve_pos + align) & ~align;
    if (at + total <= self->block_size) {
      *pos = at;
      self->carve_pos = at + total;
      return self->carve_block;
    }
    guint old = (guint) self->carve_block;
    self->carve_block = -1;
    release_block_locked (self, old);
  }
  gint b = take_block_locked (self);
  if (b < 0)
    return -1;
  self->carve_block = b;
  *pos = 0;
  self->carve_pos = total;
  return b;
}

static GstMemory *
vyre_alloc (GstAllocator * allocator, gsize size, GstAllocationParams * params)
{
  GstVyreAllocator *self = GST_VYRE_ALLOCATOR (allocator);
  gsize maxsize = self->block_size;
  gsize align = params ? params->align : 0;
  gsize prefix = params ? params->prefix : 0;
  gsize padding = params ? params->padding : 0;
  /* Blocks are page aligned; any alignment up to that holds for free.
   * When no block fits or none is free the memory comes from the system
   * heap instead: upstream never fails or blocks here, and vyrescan copies
   * that memory like any foreign memory (logged on GST_CAT_PERFORMANCE). */
  gboolean fits = align < 4096 && prefix + size + padding <= maxsize;
  gboolean small = fits && prefix + size + padding <= maxsize /
      GST_VYRE_ALLOCATOR_CARVE_DIVISOR;
  gsize pos = 0;
  g_mutex_lock (&self->lock);
  gint block = !fits ? -1 : small ?
      carve_locked (self, prefix + size + padding, align, &pos) :
      take_block_locked (self);
  if (block >= 0)
    self->users[block - self->first_block]++;
  g_mutex_unlock (&self->lock);
  if (block < 0) {
    GST_CAT_DEBUG_OBJECT (GST_CAT_PERFORMANCE, self, "%" G_GSIZE_FORMAT
        " bytes from system memory (%s)", size, fits ? "all blocks in use" :
        "larger than a block");
    GstVyreMemory *m = g_new0 (GstVyreMemory, 1);
    gsize total = prefix + size + padding;
    m->sys = g_malloc (total + align);
    /* align is a mask (alignment - 1): move up to the next boundary */
    gsize shift = (align + 1 - ((guintptr) m->sys & align)) & align;
    gst_memory_init (GST_MEMORY_CAST (m), params ? params->flags : 0,
        allocator, NULL, total, align, prefix + shift, size);
    m->mem.maxsize = total;
    return GST_MEMORY_CAST (m);
  }

  GstVyreMemory *m = g_new0 (GstVyreMemory, 1);
  m->block = (guint) block;
  /* A carved memory cannot grow into its neighbour: its maxsize ends
   * where it ends. */
  if (small)
    gst_memory_init (GST_MEMORY_CAST (m), params ? params->flags : 0,
        allocator, NULL, pos + prefix + size + padding, 0, pos + prefix, size);
  else
    gst_memory_init (GST_MEMORY_CAST (m), params ? params->flags : 0,
        allocator, NULL, maxsize, 0, prefix, size);
  return GST_MEMORY_CAST (m);
}

static void
vyre_free (GstAllocator * allocator, GstMemory * mem)
{
  GstVyreAllocator *self = GST_VYRE_ALLOCATOR (allocator);
  GstVyreMemory *m = (GstVyreMemory *) mem;
  if (mem->parent) {
    /* a shared sub-memory: the parent owns the bytes */
  } else if (m->sys) {
    g_free (m->sys);
  } else {
    g_mutex_lock (&self->lock);
    self->users[m->block - self->first_block]--;
    release_block_locked (self, m->block);
    g_mutex_unlock (&self->lock);
  }
  g_free (m);
}

static gpointer
vyre_mem_map (GstMemory * mem, gsize maxsize, GstMapFlags flags)
{
  GstVyreAllocator *self = GST_VYRE_ALLOCATOR (mem->allocator);
  GstVyreMemory *m = (GstVyreMemory *) (mem->parent ? mem->parent : mem);
  (void) maxsize;
  (void) flags;
  if (m->sys)
    return m->sys;
  /* Persistently mapped: the block's address. */
  return self->block_map[m->block - self->first_block];
}

static void
vyre_mem_unmap (GstMemory * mem)
{
  (void) mem;
}

static GstMemory *
vyre_mem_share (GstMemory * mem, gssize offset, gssize size)
{
  GstVyreMemory *m = (GstVyreMemory *) mem;
  GstMemory *parent = mem->parent ? mem->parent : mem;
  if (size == -1)
    size = mem->size - offset;
  GstVyreMemory *sub = g_new0 (GstVyreMemory, 1);
  sub->block = m->block;
  sub->sys = NULL;              /* shares the parent's bytes, owns none */
  gst_memory_init (GST_MEMORY_CAST (sub),
      GST_MINI_OBJECT_FLAGS (parent) | GST_MINI_OBJECT_FLAG_LOCK_READONLY,
      mem->allocator, parent, mem->maxsize, mem->align, mem->offset + offset,
      size);
  return GST_MEMORY_CAST (sub);
}

static void
gst_vyre_allocator_finalize (GObject * object)
{
  GstVyreAllocator *self = GST_VYRE_ALLOCATOR (object);
  g_array_unref (self->free_blocks);
  g_free (self->users);
  g_free (self->block_map);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->block_freed);
  if (self->owner_unref)
    self->owner_unref (self->owner);
  G_OBJECT_CLASS (gst_vyre_allocator_parent_class)->finalize (object);
}

static void
gst_vyre_allocator_class_init (GstVyreAllocatorClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstAllocatorClass *alloc_class = GST_ALLOCATOR_CLASS (klass);
  gobject_class->finalize = gst_vyre_allocator_finalize;
  alloc_class->alloc = vyre_alloc;
  alloc_class->free = vyre_free;
}

static void
gst_vyre_allocator_init (GstVyreAllocator * self)
{
  GstAllocator *alloc = GST_ALLOCATOR_CAST (self);
  alloc->mem_type = GST_VYRE_MEMORY_TYPE;
  alloc->mem_map = vyre_mem_map;
  alloc->mem_unmap = vyre_mem_unmap;
  alloc->mem_share = vyre_mem_share;
  g_mutex_init (&self->lock);
  g_cond_init (&self->block_freed);
  self->free_blocks = g_array_new (FALSE, FALSE, sizeof (guint));
  GST_OBJECT_FLAG_SET (self, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

GstAllocator *
gst_vyre_allocator_new (GstVyreArenaReserve reserve, gsize block_size,
    guint first_block, guint n_blocks, gpointer owner,
    gpointer (*owner_ref) (gpointer), void (*owner_unref) (gpointer))
{
  GstVyreAllocator *self = g_object_new (GST_TYPE_VYRE_ALLOCATOR, NULL);
  gst_object_ref_sink (self);
  self->reserve = reserve;
  self->block_map = g_new0 (guint8 *, MAX (n_blocks, 1));
  self->block_size = block_size;
  self->first_block = first_block;
  self->n_blocks = n_blocks;
  self->users = g_new0 (guint, MAX (n_blocks, 1));
  self->carve_block = -1;
  for (guint i = 0; i < n_blocks; i++) {
    guint b = first_block + n_blocks - 1 - i;
    g_array_append_val (self->free_blocks, b);
  }
  self->owner = owner_ref ? owner_ref (owner) : owner;
  self->owner_unref = owner_unref;
  return GST_ALLOCATOR_CAST (self);
}

gsize
gst_vyre_allocator_block_size (GstVyreAllocator * alloc)
{
  return alloc->block_size;
}

gboolean
gst_vyre_allocator_wait_block (GstVyreAllocator * alloc, gint64 end_time,
    const gint * stop)
{
  g_mutex_lock (&alloc->lock);
  /* The flag is read under the lock that wake() takes: a wake-up between
   * the check and the wait is not lost. */
  while (alloc->free_blocks->len == 0 && !(stop && g_atomic_int_get (stop)))
    if (!g_cond_wait_until (&alloc->block_freed, &alloc->lock, end_time))
      break;
  gboolean free = alloc->free_blocks->len > 0;
  g_mutex_unlock (&alloc->lock);
  return free;
}

void
gst_vyre_allocator_wake (GstVyreAllocator * alloc)
{
  g_mutex_lock (&alloc->lock);
  g_cond_broadcast (&alloc->block_freed);
  g_mutex_unlock (&alloc->lock);
}

gboolean
gst_vyre_memory_arena_offset (GstMemory * mem, GstVyreAllocator * alloc,
    guint64 * arena_offset)
{
  if (mem == NULL || mem->allocator != GST_ALLOCATOR_CAST (alloc))
    return FALSE;
  GstVyreMemory *m = (GstVyreMemory *) (mem->parent ? mem->parent : mem);
  if (m->sys)
    return FALSE;
  *arena_offset = (guint64) m->block * alloc->block_size + mem->offset;
  return TRUE;
}
