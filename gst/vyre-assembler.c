/* gst-vyre
 *
 * vyre-assembler.c - see vyre-assembler.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-assembler.h"

#include <string.h>

#include "vyre-crc32.h"
#include "vyre-match-events.h"
#include "vyre-publisher.h"
#include "vyre-result-read.h"


void
vyre_assembler_reset (GstVyreScan * self)
{
  g_array_set_size (self->matches, 0);
  for (guint i = 0; i < self->not_stored_touched->len; i++)
    self->not_stored_counts[g_array_index (self->not_stored_touched, guint32,
            i)] = 0;
  g_array_set_size (self->not_stored_touched, 0);
  for (guint i = 0; i < self->counted_ids->len; i++)
    self->pattern_counts[g_array_index (self->counted_ids, guint32, i)] = 0;
  g_array_set_size (self->counted_ids, 0);
  self->found = self->dropped = 0;
  self->crc = 0;
  self->crc_len = 0;
  memset (self->hist, 0, sizeof self->hist);
}

/* The matches of completed job e's events (the record of context ctx),
 * appended to e's own arrays: every match when they are stored (a limit
 * applies when the buffer is finished), only the pattern ids with
 * store-matches=false.  Reads only e, the record and the table: workers run
 * it on several jobs at once. */
static gboolean
read_events (GstVyreScan * self, Entry * e, guint ctx,
    const vyre_completion * c, GError ** error)
{
  /* (A job that stored no events reads nothing: each read of result
   * memory the GPU just wrote is a cache miss.) */
  if (e->matches == NULL)
    e->matches = g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  /* A pack's matches are split among its files by offset: all read. */
  gboolean store = self->store_matches || e->pack != NULL;
  if (!store && e->not_stored == NULL)
    e->not_stored = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint room = store ? G_MAXUINT - e->matches->len : 0;
  return vyre_result_read_events (self->automaton->words,
      vyre_tenant_result (self->tenant, ctx), self->kernel_max_matches, c,
      room, e->matches, e->not_stored, &e->dropped, &e->corrupt, &e->torn,
      error);
}

/* Count `id` once more among the buffer's matches that are not stored. */
static inline void
count_not_stored (GstVyreScan * self, guint32 id, guint64 n)
{
  if (self->not_stored_counts[id] == 0)
    g_array_append_val (self->not_stored_touched, id);
  self->not_stored_counts[id] += n;
}

/* Add counts (GstVyrePatternCount, NULL: none) to the buffer's counts per
 * pattern, and to those not stored with store-matches=false. */
static void
add_counts (GstVyreScan * self, const GArray * counts)
{
  if (counts == NULL)
    return;
  const GstVyrePatternCount *c = (const GstVyrePatternCount *) counts->data;
  for (guint i = 0; i < counts->len; i++) {
    if (self->pattern_counts[c[i].pattern_id] == 0)
      g_array_append_val (self->counted_ids, c[i].pattern_id);
    self->pattern_counts[c[i].pattern_id] += c[i].count;
    if (!self->store_matches)
      count_not_stored (self, c[i].pattern_id, c[i].count);
  }
}

/* A piece of a job scanned again: [off, off + len) of the job's bytes. */
typedef struct
{
  guint64 off;
  guint64 len;
  gboolean published;
  guint ctx;
  vyre_ticket ticket;
} Piece;

/* Cut [off, off + len) into pieces for a job whose events did not fit:
 * about twice as many as the matches found would fill, never smaller than
 * `safe` (a piece that small always fits), in order at the queue's head. */
static void
split_pieces (GQueue * q, guint64 off, guint64 len, guint64 matches,
    guint64 record_events, guint64 safe)
{
  guint64 want = MAX (2, (2 * matches + record_events - 1) / record_events);
  guint64 piece = MAX (safe, (len + want - 1) / want);
  piece = (piece + 63) & ~(guint64) 63;
  guint64 pos = off + len;
  while (pos > off) {
    guint64 n = (pos - off) % piece ? (pos - off) % piece : piece;
    Piece *p = g_new0 (Piece, 1);
    p->off = pos - n;
    p->len = n;
    g_queue_push_head (q, p);
    pos -= n;
  }
}

/* Publish piece p of job e into a free rescan context.  Its carry is what
 * the kernel would have had at that point of the job: the job's own carry
 * for the first piece, else the bytes before it in the arena, or (for a job
 * whose carry sat in its window, when the piece starts within the longest
 * pattern of the job's start) the tail of that window followed by the
 * job's first bytes, written into the piece's window. */
static GstFlowReturn
publish_piece (GstVyreScan * self, Entry * e, Piece * p)
{
  guint ctx = self->rescan_free[--self->rescan_free_count];
  guint carry;
  gboolean in_arena;
  if (p->off == 0) {
    carry = e->carry_len;
    in_arena = e->carry_in_arena;
    if (!in_arena && carry)
      memcpy (vyre_tenant_carry_window (self->tenant, ctx),
          vyre_tenant_carry_window (self->tenant, e->ctx), carry);
  } else if (e->carry_in_arena || p->off >= self->max_carry) {
    in_arena = TRUE;
    carry = (guint) MIN ((guint64) self->max_carry,
        p->off + (e->carry_in_arena ? e->carry_len : 0));
  } else {
    in_arena = FALSE;
    carry = (guint) MIN ((guint64) self->max_carry, e->carry_len + p->off);
    guint from_window = carry - (guint) p->off;
    guint8 *w = vyre_tenant_carry_window (self->tenant, ctx);
    memcpy (w, vyre_tenant_carry_window (self->tenant, e->ctx) +
        e->carry_len - from_window, from_window);
    /* the job's bytes: in a chunk that exists */
    memcpy (w + from_window, vyre_tenant_arena_reserve (self->tenant,
            e->arena_offset, p->off, NULL), p->off);
  }
  vyre_job job = { 0 };
  job.opcode = VYRE_OP_SCAN;
  job.ops = VYRE_OPS_SCAN | VYRE_OPS_NO_EPOCH;
  job.data_offset = e->arena_offset + p->off;
  job.data_len = (guint32) p->len;
  job.stream_offset = e->stream_offset + p->off;
  job.carry_len = carry;
  job.carry_in_arena = in_arena;
  job.epoch = e->epoch;
  job.result_index = ctx;
  job.tag = ctx;
  GstFlowReturn ret = vyre_publisher_submit (self, &job, &p->ticket);
  if (ret != GST_FLOW_OK) {
    self->rescan_free[self->rescan_free_count++] = ctx;
    return ret;
  }
  p->ctx = ctx;
  p->published = TRUE;
  self->rescan_pieces++;
  return GST_FLOW_OK;
}

/* Wait for a published piece (cancel: NULL waits regardless of a flush)
 * and give its slot and context back. */
static VyreMkStatus
finish_piece (GstVyreScan * self, Piece * p, vyre_completion * out,
    volatile gint * cancel, GError ** error)
{
  VyreMkStatus st = vyre_tenant_wait (self->tenant, &p->ticket, out, cancel,
      error);
  if (st == VYRE_MK_CANCELLED)
    return st;
  if (st == VYRE_MK_OK)
    vyre_tenant_release (self->tenant, &p->ticket);
  self->rescan_free[self->rescan_free_count++] = p->ctx;
  p->published = FALSE;
  return st;
}

/* Job e found more match events in some lane than its record holds
 * (c->matches_stored < c->matches): its events are scanned again, in
 * pieces small enough that they fit, a few pieces in flight at a time in
 * the task's own contexts, in order, splitting again any piece that still
 * overflows.  Every match is read; their number must equal the job's
 * count.  The job's CRC and histogram were whole and are kept.  Returns
 * GST_FLOW_FLUSHING when a flush came, GST_FLOW_ERROR with *error set. */
static GstFlowReturn
rescan_in_pieces (GstVyreScan * self, Entry * e, const vyre_completion * c,
    GError ** error)
{
  const guint64 record_events = self->record_events;
  GQueue q = G_QUEUE_INIT;
  GstFlowReturn ret = GST_FLOW_OK;
  guint64 found = 0;
  self->rescanned_jobs++;
  GST_DEBUG_OBJECT (self, "job %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
      " bytes): %u of %u matches fit its record: scanning it again in pieces",
      c->seq, e->len, c->matches_stored, c->matches);
  split_pieces (&q, 0, e->len, c->matches, record_events, record_events);
  while (ret == GST_FLOW_OK && !g_queue_is_empty (&q)) {
    /* Fill the free contexts, in order: the head is always published. */
    for (GList * l = q.head; l && self->rescan_free_count > 0; l = l->next) {
      Piece *p = l->data;
      if (!p->published && (ret = publish_piece (self, e, p)) != GST_FLOW_OK)
        break;
    }
    if (ret != GST_FLOW_OK)
      break;
    Piece *p = g_queue_peek_head (&q);
    vyre_completion pc;
    VyreMkStatus st = finish_piece (self, p, &pc, &self->flow, error);
    if (st == VYRE_MK_CANCELLED) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
    if (st != VYRE_MK_OK) {
      ret = GST_FLOW_ERROR;
      break;
    }
    g_queue_pop_head (&q);
    if (pc.matches_stored < pc.matches) {
      if (p->len <= record_events) {
        g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
            "A %" G_GUINT64_FORMAT "-byte piece of job %" G_GUINT64_FORMAT
            " stored %u of its %u matches, though no lane can find more "
            "events than its record holds. Fix: this is a kernel bug: report "
            "it with the device and a GST_DEBUG=vyrescan:6 log.", p->len,
            c->seq, pc.matches_stored, pc.matches);
        ret = GST_FLOW_ERROR;
      } else
        split_pieces (&q, p->off, p->len, pc.matches, record_events,
            record_events);
    } else if (!read_events (self, e, p->ctx, &pc, error)) {
      ret = GST_FLOW_ERROR;
    } else {
      found += pc.matches;
    }
    g_free (p);
  }
  /* Pieces still on the GPU own their slots and contexts until done. */
  for (GList * l = q.head; l; l = l->next) {
    Piece *p = l->data;
    if (p->published) {
      vyre_completion pc;
      GError *err = NULL;
      if (finish_piece (self, p, &pc, NULL, &err) != VYRE_MK_OK) {
        GST_WARNING_OBJECT (self, "a piece did not complete: %s",
            err ? err->message : "?");
        g_clear_error (&err);
      }
    }
    g_free (p);
  }
  g_queue_clear (&q);
  if (ret == GST_FLOW_OK && found != c->matches) {
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "Job %" G_GUINT64_FORMAT " found %u matches, its %" G_GUINT64_FORMAT
        "-byte pieces scanned again found %" G_GUINT64_FORMAT ". Fix: this "
        "is a bug: report it with the device, the patterns and a "
        "GST_DEBUG=vyrescan:6 log.", c->seq, c->matches, e->len, found);
    ret = GST_FLOW_ERROR;
  }
  return ret;
}

/* A pack's matches (e->matches, taken) split by file into
 * e->pack_matches, and counted per file into e->pack_counts. */
static void
split_pack (GstVyreScan * self, Entry * e)
{
  guint n = e->pack->n_buffers;
  e->pack_matches = g_new (GArray *, MAX (n, 1));
  e->pack_counts = g_new (GArray *, MAX (n, 1));
  GArray *all = e->matches ? e->matches :
      g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
  e->matches = NULL;
  e->pack_across = vyre_job_pack_split (e->pack, all, self->pattern_len,
      e->pack_matches);
  g_array_unref (all);
  for (guint b = 0; b < n; b++)
    e->pack_counts[b] = vyre_match_events_count (e->pack_matches[b], NULL,
        self->pattern_list->len);
}

void
vyre_assembler_group_unref (MatchGroup * group)
{
  if (group == NULL || !g_atomic_int_dec_and_test (&group->refs))
    return;
  g_array_unref (group->matches);
  g_array_unref (group->segments);
  g_free (group);
}

/* Job e's sorted matches to their segment of its group (worker or task):
 * each writes only its own segment.  More matches than its completion
 * counted would be a bug: an error, never a match lost. */
static gboolean
fill_segment (Entry * e, GError ** error)
{
  MatchSegment *seg = &g_array_index (e->group->segments, MatchSegment,
      e->index);
  gboolean ok = e->matches->len <= seg->len;
  if (!ok)
    g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
        "Job %" G_GUINT64_FORMAT " expanded to %u matches, its completion "
        "counted %u. Fix: this is a bug: report it with the device, the "
        "patterns and a GST_DEBUG=vyrescan:6 log.", e->comp.seq,
        e->matches->len, seg->len);
  seg->filled = MIN (e->matches->len, seg->len);
  if (seg->filled)              /* (an empty group's array has no data) */
    memcpy (&g_array_index (e->group->matches, GstVyreMatch, seg->off),
        e->matches->data, sizeof (GstVyreMatch) * seg->filled);
  g_array_set_size (e->matches, 0);
  return ok;
}

/* The group's array once every segment is filled: segments a worker did
 * not fill whole (corrupt events skipped) closed up, then the order mended
 * where each job's matches meet the ones before (the task). */
static void
close_group (MatchGroup * g)
{
  GstVyreMatch *m = (GstVyreMatch *) g->matches->data;
  guint end = 0;
  for (guint i = 0; i < g->segments->len; i++) {
    const MatchSegment *seg = &g_array_index (g->segments, MatchSegment, i);
    if (seg->off != end && seg->filled)
      memmove (m + end, m + seg->off, sizeof (GstVyreMatch) * seg->filled);
    guint start = end;
    end += seg->filled;
    vyre_match_events_mend (g->matches, start, end);
  }
  g_array_set_size (g->matches, end);
}

/* What a worker does with a job's matches once read: sorted, counted per
 * pattern.  The task does the same for a job it scanned again in pieces. */
static void
sort_and_count (GstVyreScan * self, Entry * e)
{
  if (e->matches)
    vyre_match_events_sort (e->matches);
  e->counts = vyre_match_events_count (e->matches, e->not_stored,
      self->pattern_list->len);
}

/* A worker of expand_pool: job e's events into matches, sorted and counted
 * per pattern (a pack's split by file; a grouped job's copied to its
 * place), off the task's thread.  After a flush started nothing is read
 * (the job is thrown away).  Wakes the task. */
void
vyre_assembler_expand_job (gpointer data, gpointer user_data)
{
  Entry *e = data;
  GstVyreScan *self = user_data;
  GError *err = NULL;
  if (g_atomic_int_get (&self->flow) != GST_FLOW_FLUSHING &&
      read_events (self, e, e->ctx, &e->comp, &err)) {
    if (e->pack)
      split_pack (self, e);
    else {
      sort_and_count (self, e);
      if (e->group)
        fill_segment (e, &err);
    }
  }
  g_mutex_lock (&self->lock);
  e->error = err;
  e->expanded = TRUE;
  gst_vyre_scan_wake_locked (self);
  g_mutex_unlock (&self->lock);
}

/* Whether dispatch left nothing for a worker: a job scanned again in
 * pieces on the task, a fence, a job without the scan op. */
static gboolean
expanded_on_task (GstVyreScan * self, const Entry * e)
{
  return !(e->kind == ENTRY_JOB && (self->ops & GST_VYRE_SCAN_OPS_SCAN) &&
      e->comp.matches_stored >= e->comp.matches);
}

/* A job with at most this many matches is expanded on the task: at about
 * 9 ns a match that is a couple of microseconds, less than waking a
 * worker costs the task (a futex call per job: a tree's many small files
 * make many small jobs). */
#define EXPAND_ON_TASK_MAX_MATCHES 256

/* Dispatched entry e to the expansion workers, or marked expanded. */
static void
start_expanding (GstVyreScan * self, Entry * e)
{
  if (expanded_on_task (self, e)) {
    g_mutex_lock (&self->lock);
    e->expanded = TRUE;
    g_mutex_unlock (&self->lock);
  } else if (e->comp.matches <= EXPAND_ON_TASK_MAX_MATCHES)
    vyre_assembler_expand_job (e, self);
  else
    g_thread_pool_push (self->expand_pool, e, NULL);
}

/* The held chunks, their buffer's last job among them, as one group: each
 * job's place in the buffer's array from the matches its completion
 * counted; the task fills the places of jobs it scanned again, the
 * workers the others. */
static void
group_jobs (GstVyreScan * self)
{
  MatchGroup *g = g_new0 (MatchGroup, 1);
  g->refs = 1;
  g->segments = g_array_sized_new (FALSE, TRUE, sizeof (MatchSegment),
      self->held->len);
  guint total = 0;
  for (guint i = 0; i < self->held->len; i++) {
    Entry *x = self->held->pdata[i];
    MatchSegment seg = { total, x->comp.matches, 0 };
    g_array_append_val (g->segments, seg);
    total += seg.len;
  }
  g->matches = g_array_sized_new (FALSE, FALSE, sizeof (GstVyreMatch), total);
  g_array_set_size (g->matches, total);
  GST_DEBUG_OBJECT (self, "a buffer's %u jobs grouped: %u matches",
      self->held->len, total);
  for (guint i = 0; i < self->held->len; i++) {
    Entry *x = self->held->pdata[i];
    x->held = FALSE;
    x->group = g;
    g_atomic_int_inc (&g->refs);
    x->index = i;
    if (expanded_on_task (self, x)) {
      sort_and_count (self, x);
      if (x->matches)
        fill_segment (x, &x->error);
    }
    start_expanding (self, x);
  }
  g_ptr_array_set_size (self->held, 0);
  vyre_assembler_group_unref (g);
}

/* Let go of the held chunks one job at a time (the task appends them). */
static void
release_held (GstVyreScan * self)
{
  GST_DEBUG_OBJECT (self, "%u held jobs let go", self->held->len);
  for (guint i = 0; i < self->held->len; i++) {
    Entry *x = self->held->pdata[i];
    x->held = FALSE;
    start_expanding (self, x);
  }
  g_ptr_array_set_size (self->held, 0);
}

/* Wait for entry e's completion (task) and start on its results: a job
 * whose events outgrew its record is scanned again here, other scan jobs
 * go to the expansion workers.  FLUSHING when a flush came; ERROR with
 * the element error posted. */
static GstFlowReturn
dispatch_entry (GstVyreScan * self, Entry * e)
{
  GError *err = NULL;
  if (e->kind != ENTRY_EVENT) {
    gint64 t0 = PHASE_START (self);
    VyreMkStatus st = vyre_tenant_wait (self->tenant, &e->ticket, &e->comp,
        &self->flow, &err);
    PHASE_ADD (self, PH_TASK_WAIT_GPU, t0);
    if (st == VYRE_MK_CANCELLED)
      return g_atomic_int_get (&self->flow);
    if (st != VYRE_MK_OK) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("The GPU scan kernel failed."), ("%s", err->message));
      g_error_free (err);
      return GST_FLOW_ERROR;
    }
  }
  if (e->kind == ENTRY_JOB && (self->ops & GST_VYRE_SCAN_OPS_SCAN)) {
    vyre_publisher_adapt_job_size (self, &e->comp, e->len);
    if (e->comp.matches_stored < e->comp.matches) {
      gint64 t0 = PHASE_START (self);
      GstFlowReturn ret = rescan_in_pieces (self, e, &e->comp, &err);
      PHASE_ADD (self, PH_TASK_COLLECT, t0);
      if (ret == GST_FLOW_FLUSHING)
        return ret;
      if (ret != GST_FLOW_OK)
        e->error = err;
    }
  }
  e->dispatched = TRUE;
  /* Chunks of a buffer of several jobs wait for its last (group_jobs). */
  if (e->kind == ENTRY_JOB && e->pack == NULL && self->store_matches &&
      (self->ops & GST_VYRE_SCAN_OPS_SCAN) && e->error == NULL) {
    if (e->buffer == NULL) {
      e->held = TRUE;
      g_ptr_array_add (self->held, e);
      return GST_FLOW_OK;
    }
    if (self->held->len > 0) {
      g_ptr_array_add (self->held, e);
      group_jobs (self);
      return GST_FLOW_OK;
    }
  } else if (self->held->len > 0)
    release_held (self);        /* (keeps the order: they go first) */
  start_expanding (self, e);
  return GST_FLOW_OK;
}

/* Dispatch the head entry and the ones after it, up to expand_window, so
 * workers expand later jobs while the head is finished.  Held chunks at
 * the head are let go: the task is about to wait for the head. */
GstFlowReturn
vyre_assembler_dispatch_ahead (GstVyreScan * self)
{
  /* The window's entries not dispatched yet, taken under one lock (the
   * chain appends meanwhile; only this thread dispatches or removes). */
  Entry **todo = g_newa (Entry *, self->expand_window);
  guint n = 0, i = 0;
  g_mutex_lock (&self->lock);
  for (GList * l = self->entries.head; l && i < self->expand_window;
      l = l->next, i++)
    if (!((Entry *) l->data)->dispatched)
      todo[n++] = l->data;
  g_mutex_unlock (&self->lock);
  for (i = 0; i < n; i++) {
    GstFlowReturn ret = dispatch_entry (self, todo[i]);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  g_mutex_lock (&self->lock);
  gboolean head_held = self->held->len > 0 &&
      self->entries.head->data == self->held->pdata[0];
  g_mutex_unlock (&self->lock);
  if (head_held)
    release_held (self);
  return GST_FLOW_OK;
}

/* Fold the expanded job e into the buffer being assembled.  ERROR, with
 * *error set, when its results could not be read whole. */
GstFlowReturn
vyre_assembler_collect (GstVyreScan * self, Entry * e, GError ** error)
{
  const vyre_completion *c = &e->comp;
  if (e->error) {
    g_propagate_error (error, e->error);
    e->error = NULL;
    return GST_FLOW_ERROR;
  }
  self->torn_results += e->torn;
  if (e->corrupt)
    GST_WARNING_OBJECT (self, "%u corrupt match events skipped", e->corrupt);
  if (self->ops & GST_VYRE_SCAN_OPS_SCAN) {
    /* A pack's counts are its files' (finish_pack, sorted by the split).
     * A job scanned again in pieces on this thread (not in a group:
     * group_jobs did it) is sorted and counted here. */
    if (e->pack == NULL) {
      if (e->group == NULL && expanded_on_task (self, e))
        sort_and_count (self, e);
      add_counts (self, e->counts);
    }
    /* The buffer's first job hands its array over; later ones append in
     * order, so the buffer's matches stay sorted.  A pack split by a
     * worker keeps its arrays (finish_pack). */
    if (e->group) {
      /* in place already; the group's last job brings the buffer's array */
      if (e->buffer) {
        MatchGroup *g = e->group;
        close_group (g);
        if (self->matches->len == 0) {
          GArray *empty = self->matches;
          self->matches = g->matches;
          g->matches = empty;
        } else                  /* its first chunks came one by one */
          vyre_match_events_append_sorted (self->matches, g->matches);
      }
    } else if (e->pack_matches == NULL && e->matches) {
      if (self->matches->len == 0) {
        GArray *empty = self->matches;
        self->matches = e->matches;
        e->matches = empty;
      } else
        vyre_match_events_append_sorted (self->matches, e->matches);
    }
    self->dropped += e->dropped;
    self->found += c->matches;
  }
  if (self->ops & GST_VYRE_SCAN_OPS_CRC32) {
    self->crc = vyre_crc32_combine (self->crc, c->crc32, e->len);
    self->crc_len += e->len;
  }
  if (self->ops & GST_VYRE_SCAN_OPS_HISTOGRAM) {
    guint32 job_hist[256];
    if (!vyre_result_read_histogram (vyre_tenant_result (self->tenant,
                e->ctx), c, job_hist, &self->torn_results, error))
      return GST_FLOW_ERROR;
    for (guint b = 0; b < 256; b++)
      self->hist[b] += job_hist[b];
  }
  return GST_FLOW_OK;
}

static gint
compare_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

/* The counts of the ids touched (sorted in place), as a new array of
 * GstVyrePatternCount. */
static GstVyrePatternCount *
sorted_counts (GArray * ids, const guint64 * count)
{
  g_array_sort (ids, compare_u32);
  GstVyrePatternCount *pc = g_new (GstVyrePatternCount, ids->len);
  for (guint i = 0; i < ids->len; i++) {
    pc[i].pattern_id = g_array_index (ids, guint32, i);
    pc[i].count = count[pc[i].pattern_id];
  }
  return pc;
}

/* The assembled results as buffer's meta (the buffer is taken, the
 * result returned).  digests: the buffer carries the CRC and histogram
 * (not: a pack's file before its last), of the digest_bytes ending with
 * it.  counts: its counts per pattern from the worker that split a pack
 * (taken); NULL: those assembled.  The matches are sorted (collect, the
 * split). */
static GstBuffer *
finish_buffer (GstVyreScan * self, GstBuffer * buffer, guint64 offset,
    guint32 epoch, gboolean digests, guint64 digest_bytes, GArray * counts)
{
  GstBuffer *buf = gst_buffer_make_writable (buffer);
  GstVyreScanMeta *m = gst_buffer_add_vyre_scan_meta (buf);
  m->stream_offset = offset;
  m->size = gst_buffer_get_size (buf);
  m->epoch = epoch;
  m->digest_bytes = digests ? digest_bytes : 0;
  m->has_crc32 = digests && (self->ops & GST_VYRE_SCAN_OPS_CRC32);
  m->crc32 = m->has_crc32 ? self->crc : 0;
  m->has_histogram = digests && (self->ops & GST_VYRE_SCAN_OPS_HISTOGRAM);
  if (m->has_histogram)
    memcpy (m->histogram, self->hist, sizeof m->histogram);
  /* A limit keeps the first matches in stream order; the rest are counted
   * per pattern. */
  if (self->max_matches && self->matches->len > self->max_matches) {
    const GstVyreMatch *mm = (const GstVyreMatch *) self->matches->data;
    for (guint i = self->max_matches; i < self->matches->len; i++)
      count_not_stored (self, mm[i].pattern_id, 1);
    self->dropped += self->matches->len - self->max_matches;
    g_array_set_size (self->matches, self->max_matches);
  }
  guint n = self->matches->len;
  gst_vyre_scan_meta_take_matches (m, (GstVyreMatch *)
      g_array_steal (self->matches, NULL), n);
  if (counts) {
    guint k = counts->len;
    gst_vyre_scan_meta_take_counts (m, (GstVyrePatternCount *)
        g_array_steal (counts, NULL), k);
    g_array_unref (counts);
  } else if (self->counted_ids->len) {
    GstVyrePatternCount *pc = sorted_counts (self->counted_ids,
        self->pattern_counts);
    gst_vyre_scan_meta_take_counts (m, pc, self->counted_ids->len);
  }
  m->n_dropped = self->dropped;
  if (self->not_stored_touched->len) {
    GstVyrePatternCount *pc = sorted_counts (self->not_stored_touched,
        self->not_stored_counts);
    gst_vyre_scan_meta_take_not_stored (m, pc, self->not_stored_touched->len);
  }
  self->total_buffers++;
  self->total_bytes += m->size;
  self->total_matches += self->found;
  self->total_dropped += self->dropped;
  vyre_assembler_reset (self);
  return buf;
}

/* Job e's small files, each with its own matches, and the tag events
 * between them, in stream order, appended to outs.  The job's CRC and
 * histogram go with its last file (they cover all of its files). */
static void
finish_pack (GstVyreScan * self, Entry * e, GPtrArray * outs)
{
  VyreJobPack *pack = e->pack;
  if (e->pack_matches == NULL) {      /* scanned again in pieces: the task's */
    GArray *t = e->matches;
    e->matches = self->matches;
    self->matches = t ? t : g_array_new (FALSE, FALSE, sizeof (GstVyreMatch));
    split_pack (self, e);
  }
  GArray **mine = e->pack_matches;
  guint64 across = e->pack_across;
  if (across)
    GST_LOG_OBJECT (self, "%" G_GUINT64_FORMAT " matches across the files "
        "of a job dropped", across);
  guint32 crc = self->crc;
  guint32 hist[256];
  memcpy (hist, self->hist, sizeof hist);
  gsize n;
  gpointer *members = g_ptr_array_steal (pack->members, &n);
  guint64 offset = pack->stream_offset;
  guint b = 0;
  for (gsize i = 0; i < n; i++) {
    if (!GST_IS_BUFFER (members[i])) {
      g_ptr_array_add (outs, members[i]);
      continue;
    }
    GstBuffer *buf = members[i];
    GArray *matches = mine[b];
    mine[b] = NULL;
    GArray *counts = e->pack_counts[b];
    e->pack_counts[b++] = NULL;
    vyre_assembler_reset (self);
    self->found = matches->len;
    if (self->store_matches) {
      /* (sorted by the split: handed over, not copied) */
      GArray *empty = self->matches;
      self->matches = matches;
      matches = empty;
    } else {
      for (guint k = 0; counts && k < counts->len; k++) {
        const GstVyrePatternCount *c = &g_array_index (counts,
            GstVyrePatternCount, k);
        count_not_stored (self, c->pattern_id, c->count);
      }
      self->dropped = matches->len;
    }
    g_array_unref (matches);
    gboolean last = b == pack->n_buffers;
    if (last) {
      self->crc = crc;
      memcpy (self->hist, hist, sizeof hist);
    }
    gsize size = gst_buffer_get_size (buf);
    g_ptr_array_add (outs, finish_buffer (self, buf, offset, e->epoch,
            last, pack->len, counts));
    offset += size;
  }
  g_free (members);
}

/* See vyre-assembler.h. */
void
vyre_assembler_finish (GstVyreScan * self, Entry * e, GPtrArray * outs)
{
  if (e->buffer) {
    g_ptr_array_add (outs, finish_buffer (self, e->buffer, e->buffer_offset,
            e->epoch, TRUE, gst_buffer_get_size (e->buffer), NULL));
    e->buffer = NULL;
  } else if (e->pack)
    finish_pack (self, e, outs);
}
