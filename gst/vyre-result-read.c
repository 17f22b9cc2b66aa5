/* gst-vyre
 *
 * vyre-result-read.c - see vyre-result-read.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "vyre-result-read.h"

#include <string.h>

#include "result_check.h"
#include "vyre-device.h"
#include "vyre-match-events.h"

/* Another try at a record still being written: spin briefly (stragglers
 * take microseconds), then sleep a little.  FALSE past the deadline. */
static gboolean
again (guint tries, gint64 * deadline)
{
  if (*deadline == 0)
    *deadline = g_get_monotonic_time () + VYRE_RESULT_WHOLE_TIMEOUT_US;
  if (tries > 256)
    g_usleep (10);
  /* The words are written by the device behind the compiler's back: make
   * it load them again. */
  __atomic_thread_fence (__ATOMIC_ACQUIRE);
  return tries % 64 != 0 || g_get_monotonic_time () < *deadline;
}

static void
never_whole (GError ** error, const vyre_completion * c, const char *part,
    guint32 read, guint32 written)
{
  g_set_error (error, VYRE_DEVICE_ERROR, VYRE_DEVICE_ERROR_FAILED,
      "The %s of job %" G_GUINT64_FORMAT " (workgroup %u) never reached host "
      "memory whole: the words read sum to %08x, the kernel's sum is %08x, "
      "still after %d ms. Fix: this is a kernel or driver bug: report it with "
      "the device, the driver version and a GST_DEBUG=vyremegakernel:6 log.",
      part, c->seq, c->workgroup, read, written,
      VYRE_RESULT_WHOLE_TIMEOUT_US / 1000);
}

gboolean
vyre_result_read_events (const guint32 * table, const guint32 * record,
    guint32 max_matches, const vyre_completion * c, guint room, GArray * out,
    GArray * not_stored, guint64 * dropped, guint * corrupt, guint64 * torn,
    GError ** error)
{
  /* No events: every lane count is 0 and nothing is read (the words may
   * still be an earlier job's, but nobody uses them). */
  if (c->events == 0 && c->result_check == 0)
    return TRUE;
  const guint before = out->len;
  const guint before_not_stored = not_stored ? not_stored->len : 0;
  gint64 deadline = 0;
  for (guint tries = 1;; tries++) {
    guint bad = 0;
    guint32 sum = 0;
    guint64 lost = vyre_match_events_expand (table, record, max_matches, room,
        out, not_stored, &bad, &sum);
    if (G_LIKELY (sum == c->result_check)) {
      *dropped += lost;
      *corrupt += bad;
      return TRUE;
    }
    g_array_set_size (out, before);
    if (not_stored)
      g_array_set_size (not_stored, before_not_stored);
    if (tries == 1 && torn)
      (*torn)++;
    if (!again (tries, &deadline)) {
      never_whole (error, c, "match events", sum, c->result_check);
      return FALSE;
    }
  }
}

gboolean
vyre_result_read_histogram (const guint32 * record, const vyre_completion * c,
    guint32 job_hist[256], guint64 * torn, GError ** error)
{
  gint64 deadline = 0;
  for (guint tries = 1;; tries++) {
    guint32 sum = vyre_result_hist_check (record);
    if (G_LIKELY (sum == c->hist_check)) {
      /* whole: every word is the kernel's last, reading again gives it */
      memcpy (job_hist, record + VYRE_RESULT_HIST, 256 * sizeof (guint32));
      return TRUE;
    }
    if (tries == 1 && torn)
      (*torn)++;
    if (!again (tries, &deadline)) {
      never_whole (error, c, "histogram", sum, c->hist_check);
      return FALSE;
    }
  }
}
