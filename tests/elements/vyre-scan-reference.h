/*
 * vyre-scan-reference.h - the slow, obviously-correct CPU scanner the
 * tests compare the automaton (CPU and GPU) against.
 *
 * It shares no code with vyre-automaton.c on purpose: it tries every
 * pattern at every offset with a plain byte compare, so a bug in the
 * table builder cannot hide behind the same bug here.  O(len x total
 * pattern bytes): for tests only.
 */
#ifndef VYRE_SCAN_REFERENCE_H
#define VYRE_SCAN_REFERENCE_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 start;        /* absolute stream offset of the first byte */
  guint32 pattern_id;   /* index into the pattern array             */
} VyreRefMatch;

/* Every occurrence of every pattern (a GPtrArray of GBytes; empty
 * patterns never match) in data[0..len), overlapping ones included,
 * as a GArray of VyreRefMatch sorted by (start, pattern_id).  Starts
 * are reported as stream_offset + position.  ignore_case compares ASCII
 * letters case-insensitively (bytes >= 0x80 exactly).  Free with
 * g_array_unref. */
GArray *vyre_scan_reference_find (GPtrArray * patterns, gboolean ignore_case,
    const guint8 * data, gsize len, guint64 stream_offset);

/* qsort-style order of VyreRefMatch: by start, then pattern_id. */
gint vyre_ref_match_compare (gconstpointer a, gconstpointer b);

/* Add the byte counts of data[0..len) to counts[256] (accumulates, so
 * a stream can be counted buffer by buffer; zero counts first). */
void vyre_scan_reference_histogram (const guint8 * data, gsize len,
    guint64 counts[256]);

G_END_DECLS

#endif /* VYRE_SCAN_REFERENCE_H */
