/*
 * vyre-automaton.h - compile a pattern set into the scan table the GPU
 * kernel runs (layout: "Scan tables" in ring/vyre_protocol.h), and run
 * that same table on the CPU.
 *
 * The table is Aho-Corasick turned into a full DFA over byte classes:
 *
 *   class_map[256]   byte -> class.  Class 0 holds every byte that no
 *                    pattern uses (it exists even when all 256 bytes are
 *                    used, then mapping no byte); classes 1.. are the
 *                    distinct pattern bytes after case folding, in
 *                    increasing byte order.  With ignore-case, A-Z share
 *                    the class of a-z (ASCII only; bytes >= 0x80 never
 *                    fold).
 *   trans[s*nclasses + c]  next state, with VYRE_TRANS_HAS_OUTPUT set when
 *                    that state ends at least one pattern, so the hot loop
 *                    only touches out_index on a hit.  Failure links are
 *                    already folded in: one lookup per byte, no loops.
 *   out_index[nstates+1], out_list[]  CSR: the ids of every pattern that
 *                    ends in state s are out_list[out_index[s]] ..
 *                    out_list[out_index[s+1] - 1] (indices into out_list,
 *                    not table offsets): its own first (ascending ids),
 *                    then those of its dictionary suffixes (longest
 *                    first).
 *   pattern_len[npatterns], crc_shift[32] (see vyre-crc32.h).
 *
 * States are numbered in breadth-first order (root = 0, then depth 1,
 * ...), which keeps the rows the scan touches most in the first cache
 * lines of trans.  Header words 13..15 are 0.
 *
 * Matching contract (CPU here, GPU identically), per buffer:
 *
 *   The scan starts in the root at the first byte of `carry` (the
 *   carry_len bytes that immediately precede `data` in the stream), runs
 *   through carry without reporting anything, then through data, and
 *   reports every match that ENDS inside data.  A match's start offset
 *   is the absolute stream offset of its first byte, which may lie in
 *   carry (stream_offset_of_data - carry_len .. ).
 *
 *   If every buffer is given carry_len >= min (max_pattern_len - 1,
 *   stream_offset_of_data) bytes of carry, every match of the stream is
 *   reported exactly once, whatever the buffer sizes: a match is reported
 *   by the one buffer holding its last byte, and it cannot start earlier
 *   than max_pattern_len - 1 bytes before that buffer, i.e. inside the
 *   carry.  More carry than that is harmless (carry bytes never report);
 *   less loses matches that straddle the boundary.
 *
 * Callers read max_pattern_len (and everything else) from the header:
 * words[VYRE_TABLE_MAX_PATTERN_LEN].
 */
#ifndef VYRE_AUTOMATON_H
#define VYRE_AUTOMATON_H

#include <glib.h>

#include "vyre_protocol.h"

G_BEGIN_DECLS

#define VYRE_AUTOMATON_ERROR (vyre_automaton_error_quark ())
GQuark vyre_automaton_error_quark (void);

typedef enum {
  VYRE_AUTOMATON_ERROR_NO_PATTERNS,  /* empty set, or an empty pattern   */
  VYRE_AUTOMATON_ERROR_TOO_LARGE     /* table over a limit (see below)   */
} VyreAutomatonError;

/* Default for max_table_bytes = 0.  The table is uploaded once per
 * pattern set into one read-only GPU buffer; 256 MiB fits every device
 * we target (maxStorageBufferRange is often exactly 2^31 - 1 or less on
 * older drivers, and the data arena needs the rest of the memory). */
#define VYRE_AUTOMATON_DEFAULT_MAX_TABLE_BYTES (256u * 1024u * 1024u)

/* Hard limits independent of max_table_bytes: state ids must fit
 * VYRE_TRANS_STATE_MASK (31 bits) and every section offset must fit a
 * 32-bit header word. */

typedef struct {
  guint32 *words;   /* the table, VYRE_TABLE_TOTAL_WORDS words; host order */
  gsize n_words;    /* == words[VYRE_TABLE_TOTAL_WORDS]                    */
} VyreAutomaton;

/* Compile patterns (a GPtrArray of non-empty GBytes; pattern id = index)
 * into a scan table.  ignore_case folds ASCII A-Z to a-z in both the
 * patterns and the scanned bytes.  max_table_bytes bounds the table
 * (0 = VYRE_AUTOMATON_DEFAULT_MAX_TABLE_BYTES) and the limit is exact:
 * a table of B bytes compiles with max_table_bytes >= B.  The transition
 * table is sized (exact trie state count) before it is allocated, the
 * match lists are counted before they are.  Returns NULL with error set
 * when the set is empty, a pattern is empty, or a limit is exceeded. */
VyreAutomaton *vyre_automaton_compile (GPtrArray * patterns,
    gboolean ignore_case, guint64 max_table_bytes, GError ** error);

void vyre_automaton_free (VyreAutomaton * automaton);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VyreAutomaton, vyre_automaton_free)

/* Called once per match, in order of end position (several matches with
 * the same end: out_list order).  start_offset is absolute (see the
 * contract above). */
typedef void (*VyreMatchFunc) (guint32 pattern_id, guint64 start_offset,
    gpointer user_data);

/* Expand one match event of the kernel (VYRE_MATCH_STATE, END_LO/HI in
 * a result record: the state after the byte at absolute stream offset
 * end_offset) into its matches, start = end_offset - pattern_len + 1,
 * in out_list order.  Returns how many were reported, which should equal
 * the event's VYRE_MATCH_COUNT; a state out of range (a corrupt event)
 * reports nothing and returns 0.  scan_cpu reports through this too, so
 * CPU and GPU results are expanded by the same code. */
guint64 vyre_automaton_expand_event (const guint32 * table, guint32 state,
    guint64 end_offset, VyreMatchFunc callback, gpointer user_data);

/* Run table over carry then data exactly as the kernel does (contract
 * above).  carry may be NULL when carry_len is 0; callback may be NULL to
 * only count.  Returns the number of matches reported.  table must come
 * from vyre_automaton_compile (it is not validated here). */
guint64 vyre_automaton_scan_cpu (const guint32 * table, const guint8 * data,
    gsize len, guint64 stream_offset_of_data, const guint8 * carry,
    gsize carry_len, VyreMatchFunc callback, gpointer user_data);

G_END_DECLS

#endif /* VYRE_AUTOMATON_H */
