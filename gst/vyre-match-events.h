/* gst-vyre
 *
 * vyre-match-events.h - turning the kernel's match events into matches.
 *
 * The kernel stores one event per end position at which patterns end (the
 * automaton state and the end offset), not one record per pattern: dense
 * inputs would multiply the GPU's stores.  Here each event becomes the
 * (pattern id, start offset) pairs of the state's output list.
 */
#ifndef __VYRE_MATCH_EVENTS_H__
#define __VYRE_MATCH_EVENTS_H__

#include <glib.h>

#include "gstvyrescanmeta.h"

G_BEGIN_DECLS

/* Append the matches of the events stored in `record` (a result record,
 * ring/vyre_protocol.h; max_matches is the ring's MAX_MATCHES, which sets
 * each lane's share of event records) to `out` (GArray of GstVyreMatch),
 * at most `room` of them.  Returns how many matches the events covered
 * that did not fit (added to the dropped count); their pattern ids are
 * appended to `not_stored` (GArray of guint32, may be NULL), so counts per
 * pattern stay exact whatever is stored.  Events that name a state
 * outside the table, and lane counts over the share, are skipped and
 * counted in *corrupt.  *check (when not NULL) receives the check sum of
 * the lane counts and events read (VYRE_COMP_RESULT_CHECK, computed in the
 * same pass): read a record from a running kernel through
 * vyre_result_read_events, which compares it. */
guint64 vyre_match_events_expand (const guint32 * table,
    const guint32 * record, guint32 max_matches, guint room, GArray * out,
    GArray * not_stored, guint * corrupt, guint32 * check);

/* Sort by (offset, pattern_id): the order the meta promises. */
void vyre_match_events_sort (GArray * matches);

/* Append `more` to `sorted`, both sorted as vyre_match_events_sort sorts,
 * keeping `sorted` sorted.  A job's matches start after the previous
 * job's but for the few that straddle their boundary: only those move
 * (the rest is a memcpy), so a buffer of many jobs is never sorted
 * whole. */
void vyre_match_events_append_sorted (GArray * sorted, const GArray * more);

/* The same in place: matches [0, from) and [from, to) are each sorted;
 * afterwards [0, to) is (the rest is not touched). */
void vyre_match_events_mend (GArray * matches, guint from, guint to);

/* Matches per pattern id of `matches` (GArray of GstVyreMatch) and `ids`
 * (GArray of guint32 pattern ids of matches not stored; may be NULL)
 * together: a new GArray of GstVyrePatternCount sorted by pattern_id, ids
 * without a match left out; NULL when there are none.  Ids are below n_patterns.  O(matches) plus
 * the smaller of O(n_patterns) and a sort of the ids, so the expansion
 * workers count per file and no later reader walks every match. */
GArray *vyre_match_events_count (const GArray * matches, const GArray * ids,
    guint n_patterns);

G_END_DECLS
#endif /* __VYRE_MATCH_EVENTS_H__ */
