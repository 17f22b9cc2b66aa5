/* leak-check.h - which objects a stretch of a test created and did not
 * destroy, from the leaks tracer (GST_TRACERS=leaks) while pipelines and
 * their threads may still be running.
 *
 * The tracer's "get-live-objects" cannot be used for this: it hands the
 * caller a reference it never took on every live object (freeing its
 * answer unrefs them all), so it is only safe once nothing is alive but
 * leaks.  Called while a stopped task's thread still drops its last
 * reference, it unrefs that task once too often.  Activity tracking
 * records addresses only, so it can be asked at any time.
 *
 * Objects destroyed during the stretch but created before it are not
 * counted.  An address freed and taken again by a new object between two
 * looks can hide that object (never report a false leak).  One check may
 * run at a time (the tracer tracks activity once). */
#ifndef LEAK_CHECK_H
#define LEAK_CHECK_H

#include <gst/gst.h>

typedef struct _LeakCheck LeakCheck;

/* Starts recording creations and destructions; NULL (checks nothing)
 * without the leaks tracer. */
LeakCheck *leak_check_begin (void);

/* The objects of @type_name (NULL: any type) created since begin and
 * alive now, waiting up to @timeout_ms for them to go (a stopped task's
 * thread drops its last reference a moment after the join returns).
 * Returns NULL when none is left, else a description ("2 GstBuffer, 1
 * GstTask") to g_free.  NULL always for a NULL @lc. */
gchar *leak_check_alive (LeakCheck * lc, const gchar * type_name,
    guint timeout_ms);

/* Stops recording; NULL is allowed. */
void leak_check_end (LeakCheck * lc);

#endif
