/* gst-vyre
 *
 * vyre-publisher.c - see vyre-publisher.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-publisher.h"

#include <string.h>

#include "gstvyrememory.h"

GST_DEBUG_CATEGORY_EXTERN (GST_CAT_PERFORMANCE);

/* Publish a job, blocking while the ring is full (back-pressure).  Returns
 * GST_FLOW_FLUSHING when a flush interrupted the wait. */
GstFlowReturn
vyre_publisher_submit (GstVyreScan * self, vyre_job * job, vyre_ticket * ticket)
{
  for (;;) {
    GError *err = NULL;
    VyreMkStatus st = vyre_tenant_submit (self->tenant, job, ticket, &err);
    if (st == VYRE_MK_OK)
      return GST_FLOW_OK;
    if (st == VYRE_MK_ERROR) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Could not hand a buffer to the GPU."), ("%s", err->message));
      g_error_free (err);
      return GST_FLOW_ERROR;
    }
    /* Ring full: wait for the task to complete something (unless it
     * stopped: then nothing completes any more). */
    g_mutex_lock (&self->lock);
    GstFlowReturn flow = g_atomic_int_get (&self->flow);
    if (flow != GST_FLOW_OK) {
      g_mutex_unlock (&self->lock);
      return flow;
    }
    gst_vyre_scan_wait_locked (self, &self->waiters, 2 * G_TIME_SPAN_MILLISECOND);
    g_mutex_unlock (&self->lock);
  }
}

/* Close the open epoch with an ordered fence (if it has jobs). */
GstFlowReturn
vyre_publisher_fence (GstVyreScan * self)
{
  GstFlowReturn ret = vyre_publisher_flush_pack (self);
  if (ret != GST_FLOW_OK)
    return ret;
  if (self->epoch_jobs == 0)
    return GST_FLOW_OK;
  vyre_job job = { 0 };
  job.opcode = VYRE_OP_BATCH_FENCE;
  job.epoch = self->epoch;
  job.data_len = self->epoch_jobs;      /* FENCE_JOBS */
  job.tag = self->epoch;
  Entry *e = g_new0 (Entry, 1);
  e->kind = ENTRY_FENCE;
  e->epoch = self->epoch;
  ret = vyre_publisher_submit (self, &job, &e->ticket);
  if (ret != GST_FLOW_OK) {
    gst_vyre_scan_entry_free (e);
    return ret;
  }
  gst_vyre_scan_queue_entry (self, e);
  self->epoch++;
  self->epoch_jobs = 0;
  self->epoch_buffer_count = 0;
  return GST_FLOW_OK;
}

static void
remember_tail (GstVyreScan * self, const guint8 * data, gsize len)
{
  if (self->max_carry == 0 || len == 0)       /* (an empty buffer: no data) */
    return;
  if (len >= self->max_carry) {
    memcpy (self->tail, data + len - self->max_carry, self->max_carry);
    self->tail_len = self->max_carry;
  } else {
    guint keep = MIN (self->tail_len, self->max_carry - (guint) len);
    memmove (self->tail, self->tail + self->tail_len - keep, keep);
    memcpy (self->tail + keep, data, len);
    self->tail_len = keep + (guint) len;
  }
}

/* The stream's remembered tail into context ctx's carry window, for a
 * job whose carry is not in the arena.  Returns the carry length.  Must
 * run before remember_tail() takes the job's own bytes. */
static guint
window_carry (GstVyreScan * self, guint ctx)
{
  if (self->tail_len)
    memcpy (vyre_tenant_carry_window (self->tenant, ctx), self->tail,
        self->tail_len);
  return self->tail_len;
}

/* One job: len bytes (at most the job size) already in the arena at
 * arena_offset, with carry_len bytes of carry: in the context's window, or
 * (carry_in_arena) the bytes right before the data, when the job is not the
 * first of its buffer.  last_of: the buffer this job completes, handed to
 * the src task with it. */
static GstFlowReturn
publish_job (GstVyreScan * self, guint ctx, guint64 arena_offset, gsize len,
    guint64 stream_offset, guint carry_len, gboolean carry_in_arena,
    GstBuffer * last_of, guint64 buffer_offset, VyreJobPack * pack)
{
  vyre_job job = { 0 };
  job.opcode = VYRE_OP_SCAN;
  job.ops = self->ops;
  job.data_offset = arena_offset;
  job.data_len = (guint32) len;
  job.stream_offset = stream_offset;
  job.carry_len = carry_len;
  job.carry_in_arena = carry_in_arena;
  job.epoch = self->epoch;
  job.result_index = ctx;
  job.tag = ctx;

  Entry *e = g_new0 (Entry, 1);
  e->kind = ENTRY_JOB;
  e->ctx = ctx;
  e->len = len;
  e->arena_offset = arena_offset;
  e->stream_offset = stream_offset;
  e->carry_len = carry_len;
  e->carry_in_arena = carry_in_arena;
  e->epoch = self->epoch;
  e->buffer = last_of;
  e->buffer_offset = buffer_offset;
  e->pack = pack;
  gint64 t0 = PHASE_START (self);
  GstFlowReturn ret = vyre_publisher_submit (self, &job, &e->ticket);
  PHASE_ADD (self, PH_CHAIN_SUBMIT, t0);
  if (ret != GST_FLOW_OK) {
    e->buffer = NULL;           /* the caller still owns it (not a pack) */
    gst_vyre_scan_entry_free (e);
    g_mutex_lock (&self->lock);
    gst_vyre_scan_release_context_locked (self, ctx);
    g_mutex_unlock (&self->lock);
    return ret;
  }
  self->epoch_jobs++;
  gst_vyre_scan_queue_entry (self, e);
  return GST_FLOW_OK;
}

static GstFlowReturn
take_context (GstVyreScan * self, guint * ctx)
{
  gint64 t0 = PHASE_START (self);
  g_mutex_lock (&self->lock);
  GstFlowReturn ret = gst_vyre_scan_acquire_context_locked (self, ctx);
  g_mutex_unlock (&self->lock);
  PHASE_ADD (self, PH_CHAIN_CONTEXT, t0);
  return ret;
}

/* A buffer in our own arena: no copy.  It is cut into jobs of the job size
 * so that several workgroups scan it at once; every job after the first
 * reads its carry (the bytes a straddling match needs) from the arena. */
static GstFlowReturn
publish_in_place (GstVyreScan * self, GstBuffer * buf, guint64 arena_offset,
    gsize size, guint64 offset)
{
  /* In the arena already, so in a chunk that exists. */
  GError *err = NULL;
  const guint8 *bytes = vyre_tenant_arena_reserve (self->tenant,
      arena_offset, size, &err);
  if (bytes == NULL) {
    GST_ELEMENT_ERROR (self, CORE, FAILED,
        ("A buffer of the GPU scan's own memory is not where it should be."),
        ("%s", err->message));
    g_error_free (err);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  gsize done = 0;
  do {
    gsize n = MIN (size - done, (gsize) g_atomic_int_get (&self->job_now));
    gboolean last = done + n == size;
    guint ctx;
    if ((ret = take_context (self, &ctx)) != GST_FLOW_OK)
      break;
    guint carry;
    gboolean in_arena = done > 0 && self->max_carry > 0;
    if (in_arena)
      carry = (guint) MIN ((gsize) self->max_carry, done);
    else
      carry = window_carry (self, ctx);
    /* Nothing of the buffer may be touched once its last job went to the
     * src task, which can push (and downstream free) it right away. */
    if (last)
      remember_tail (self, bytes, size);
    ret = publish_job (self, ctx, arena_offset + done, n, offset + done,
        carry, in_arena, last ? buf : NULL, offset, NULL);
    if (ret == GST_FLOW_OK && last)
      return GST_FLOW_OK;
    done += n;
  } while (ret == GST_FLOW_OK);
  gst_buffer_unref (buf);
  return ret;
}

/* Foreign memory: copied into the contexts' copy areas, job by job. */
static GstFlowReturn
publish_copied (GstVyreScan * self, GstBuffer * buf, gsize size,
    guint64 offset)
{
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not read a buffer."),
        ("gst_buffer_map failed for a %" G_GSIZE_FORMAT "-byte buffer",
            size));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  if (!self->warned_copy) {
    GST_CAT_INFO_OBJECT (GST_CAT_PERFORMANCE, self, "upstream memory is "
        "not GPU-readable: copying every buffer into the arena (use "
        "vyreurisrc, or an upstream element that takes our allocator)");
    self->warned_copy = TRUE;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  gsize done = 0;
  gboolean buf_taken = FALSE, mapped = TRUE;
  /* do: an empty buffer still passes, as an empty job (in order, with a
   * meta like any other). */
  do {
    gsize n = MIN (size - done, (gsize) MIN (self->copy_job,
            (guint) g_atomic_int_get (&self->job_now)));
    guint ctx;
    if ((ret = take_context (self, &ctx)) != GST_FLOW_OK)
      break;
    guint64 arena = gst_vyre_scan_copy_area (self, ctx);
    GError *err = NULL;
    guint8 *area = vyre_tenant_arena_reserve (self->tenant, arena,
        self->copy_job, &err);
    if (area == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
          ("Could not grow the GPU scan's memory."), ("%s", err->message));
      g_error_free (err);
      g_mutex_lock (&self->lock);
      gst_vyre_scan_release_context_locked (self, ctx);
      g_mutex_unlock (&self->lock);
      ret = GST_FLOW_ERROR;
      break;
    }
    if (n)                      /* (an empty buffer maps no data) */
      memcpy (area, map.data + done, n);
    guint carry = window_carry (self, ctx);
    remember_tail (self, map.data + done, n);
    gboolean last = done + n == size;
    /* With its last job the buffer goes to the src task, which may push
     * and free it at once: unmap before. */
    if (last) {
      gst_buffer_unmap (buf, &map);
      mapped = FALSE;
    }
    ret = publish_job (self, ctx, arena, n, offset + done, carry, FALSE,
        last ? buf : NULL, offset, NULL);
    buf_taken = last && ret == GST_FLOW_OK;
    done += n;
  } while (ret == GST_FLOW_OK && done < size);
  if (mapped)
    gst_buffer_unmap (buf, &map);
  GST_OBJECT_LOCK (self);
  self->bytes_copied += done;
  self->buffers_copied++;
  GST_OBJECT_UNLOCK (self);
  if (!buf_taken)
    gst_buffer_unref (buf);     /* error or flush */
  return ret;
}

/* The open pack of small files as one job (nothing when none is open).
 * Its files are whole: no carry into the first, none out of the last. */
GstFlowReturn
vyre_publisher_flush_pack (GstVyreScan * self)
{
  VyreJobPack *pack = self->pack;
  if (pack == NULL)
    return GST_FLOW_OK;
  self->pack = NULL;
  self->tail_len = 0;
  if (pack->n_buffers > 1) {
    GST_OBJECT_LOCK (self);
    self->files_packed += pack->n_buffers;
    self->packed_jobs++;
    GST_OBJECT_UNLOCK (self);
  }
  guint ctx;
  GstFlowReturn ret = take_context (self, &ctx);
  if (ret != GST_FLOW_OK) {
    vyre_job_pack_free (pack);
    return ret;
  }
  return publish_job (self, ctx, pack->arena_offset, pack->len,
      pack->stream_offset, 0, FALSE, NULL, pack->stream_offset, pack);
}

/* See vyre-publisher.h. */
GstFlowReturn
vyre_publisher_buffer (GstVyreScan * self, GstBuffer * buf)
{
  GstFlowReturn ret = GST_FLOW_OK;
  gsize size = gst_buffer_get_size (buf);
  guint64 offset = GST_BUFFER_OFFSET_IS_VALID (buf) ?
      GST_BUFFER_OFFSET (buf) : self->next_offset;
  /* A jump in the stream (seek, gap, DISCONT): no carry across it. */
  if (offset != self->next_offset || GST_BUFFER_IS_DISCONT (buf))
    self->tail_len = 0;
  self->next_offset = offset + size;

  guint64 arena_offset = 0;
  gint64 t0 = PHASE_START (self);
  gboolean in_arena = gst_buffer_n_memory (buf) == 1 && size > 0 &&
      gst_vyre_memory_arena_offset (gst_buffer_peek_memory (buf, 0),
      GST_VYRE_ALLOCATOR (self->allocator), &arena_offset);
  guint job_now = (guint) g_atomic_int_get (&self->job_now);
  if ((in_arena || size == 0) && vyre_job_pack_takes (buf, size, job_now)) {
    /* A small whole file: scanned with its neighbours as one job. */
    if (self->pack && !vyre_job_pack_continues (self->pack, buf,
            arena_offset, size))
      ret = vyre_publisher_flush_pack (self);
    if (ret == GST_FLOW_OK) {
      if (self->pack == NULL)
        self->pack = vyre_job_pack_new (job_now, self->chunk_bytes);
      vyre_job_pack_add_buffer (self->pack, buf, arena_offset);
    } else
      gst_buffer_unref (buf);
  } else if ((ret = vyre_publisher_flush_pack (self)) != GST_FLOW_OK)
    gst_buffer_unref (buf);
  else if (in_arena)
    ret = publish_in_place (self, buf, arena_offset, size, offset);
  else
    ret = publish_copied (self, buf, size, offset);
  PHASE_ADD (self, PH_CHAIN, t0);
  if (ret != GST_FLOW_OK)
    return ret;

  if (self->epoch_buffers && ++self->epoch_buffer_count >= self->epoch_buffers)
    ret = vyre_publisher_fence (self);
  return ret;
}

/* Sparse jobs in a row before the job size doubles back. */
#define SPARSE_RUN 64

/* See vyre-publisher.h. */
void
vyre_publisher_adapt_job_size (GstVyreScan * self, const vyre_completion * c,
    guint64 len)
{
  guint now = (guint) g_atomic_int_get (&self->job_now);
  guint next = now;
  if (c->matches_stored < c->matches) {
    self->sparse_jobs = 0;
    next = (guint) MAX (MIN ((guint64) now, len) / 2,
        (guint64) MIN (self->record_events, self->job));
  } else if (len > 0 && (guint64) c->events * 4 * now <=
      (guint64) self->record_events * len) {
    if (++self->sparse_jobs >= SPARSE_RUN && now < self->job) {
      self->sparse_jobs = 0;
      next = (guint) MIN ((guint64) now * 2, (guint64) self->job);
    }
  } else
    self->sparse_jobs = 0;
  if (next != now) {
    GST_DEBUG_OBJECT (self, "jobs of %u bytes instead of %u (%u match "
        "events in %" G_GUINT64_FORMAT " bytes, records of %u)", next, now,
        c->events, len, self->record_events);
    g_atomic_int_set (&self->job_now, (gint) next);
  }
}
