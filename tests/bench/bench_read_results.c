/*
 * bench_read_results.c - the host's cost of reading match events, per event.
 *
 * vyrescan's src task expands every job's match events into matches and,
 * since protocol version 3, checks them against the kernel's check sum in
 * the same pass (gst/vyre-result-read.c).  This prints ns per event for
 *   expand+check  vyre_result_read_events (what the pipeline does),
 *   check alone   ring/'s reference sum, a separate pass over the events
 *                 (what verifying them apart would add).
 * Records are laid out as the kernel writes them: 4,096 jobs, 256 lanes
 * with 2-10 events each (about what 256 KiB of English-word text gives
 * with 1,000 literals), one pattern per event.
 *
 *   bench_read_results [--jobs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gstvyrescanmeta.h"
#include "result_check.h"
#include "vyre-automaton.h"
#include "vyre-result-read.h"

#define MAX_MATCHES (VYRE_RESULT_LANES * 64u)
#define RECORDS 64

int
main (int argc, char **argv)
{
  guint jobs = 4096;
  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--jobs") == 0 && i + 1 < argc)
      jobs = (guint) strtoul (argv[++i], NULL, 10);
    else {
      fprintf (stderr, "usage: %s [--jobs N]\n", argv[0]);
      return 2;
    }
  }
  const char *pats[] = { "error", "warning", "user", "login", NULL };
  GPtrArray *p = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; pats[i]; i++)
    g_ptr_array_add (p, g_bytes_new_static (pats[i], strlen (pats[i])));
  GError *err = NULL;
  VyreAutomaton *a = vyre_automaton_compile (p, FALSE, 0, &err);
  if (!a) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  /* A state that ends exactly one pattern. */
  const guint32 *oi = a->words + a->words[VYRE_TABLE_OUT_INDEX_OFF];
  guint32 state = 0;
  while (oi[state + 1] - oi[state] != 1)
    state++;

  const gsize words = VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * MAX_MATCHES;
  guint32 *recs = g_new0 (guint32, words * RECORDS);
  vyre_completion *comp = g_new0 (vyre_completion, RECORDS);
  guint64 rng = 2026;
  for (guint r = 0; r < RECORDS; r++) {
    guint32 *rec = recs + r * words;
    vyre_completion *c = &comp[r];
    for (guint32 l = 0; l < VYRE_RESULT_LANES; l++) {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      guint32 n = 2 + (guint32) (rng >> 33) % 9;
      for (guint32 e = 0; e < n; e++) {
        guint32 mb = VYRE_RESULT_HEADER_WORDS + (e * VYRE_RESULT_LANES + l) * VYRE_MATCH_WORDS;
        guint32 *ev = rec + mb;
        ev[VYRE_MATCH_STATE] = state;
        ev[VYRE_MATCH_END_LO] = r * 262144 + l * 1024 + e * 100 + 10;
        ev[VYRE_MATCH_END_HI] = 0;
        ev[VYRE_MATCH_COUNT] = 1;
        c->result_check += VYRE_CHECK_TERM (mb, VYRE_CHECK_EVENT (state,
                ev[VYRE_MATCH_END_LO], 0u, 1u));
      }
      rec[VYRE_RESULT_LANE_EVENTS + l] = n;
      c->result_check += VYRE_CHECK_TERM (VYRE_RESULT_LANE_EVENTS + l, n);
      c->events += n;
    }
  }

  GArray *m = g_array_sized_new (FALSE, FALSE, sizeof (GstVyreMatch), 4096);
  guint64 events = 0, dropped = 0, torn = 0;
  guint corrupt = 0;
  gint64 t0 = g_get_monotonic_time ();
  for (guint j = 0; j < jobs; j++) {
    g_array_set_size (m, 0);
    if (!vyre_result_read_events (a->words, recs + (j % RECORDS) * words,
            MAX_MATCHES, &comp[j % RECORDS], G_MAXUINT, m, NULL, &dropped, &corrupt,
            &torn, &err)) {
      fprintf (stderr, "FAIL: %s\n", err->message);
      return 1;
    }
    events += comp[j % RECORDS].events;
  }
  double t_read = (g_get_monotonic_time () - t0) / 1e6;
  guint32 sink = 0;
  t0 = g_get_monotonic_time ();
  for (guint j = 0; j < jobs; j++)
    sink += vyre_result_events_check (recs + (j % RECORDS) * words, MAX_MATCHES);
  double t_check = (g_get_monotonic_time () - t0) / 1e6;

  printf ("| what | events | ns per event |\n|---|---|---|\n");
  printf ("| expand+check (vyre_result_read_events) | %" G_GUINT64_FORMAT
      " | %.2f |\n", events, t_read * 1e9 / events);
  printf ("| check alone, a separate pass (vyre_result_events_check) | %"
      G_GUINT64_FORMAT " | %.2f |\n", events, t_check * 1e9 / events);
  fprintf (stderr, "(sink %u, torn %" G_GUINT64_FORMAT ", corrupt %u)\n", sink,
      torn, corrupt);
  g_array_unref (m);
  g_free (recs);
  g_free (comp);
  vyre_automaton_free (a);
  g_ptr_array_unref (p);
  return torn == 0 && corrupt == 0 ? 0 : 1;
}
