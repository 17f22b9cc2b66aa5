/*
 * vyre-crc32.h - zlib-compatible CRC-32 on the CPU, and the GF(2) math
 * that combines partial CRCs.
 *
 * The CRC is the one zlib, gzip, PNG and Ethernet use: reflected
 * polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF, so
 * vyre_crc32_update (0, "123456789", 9) == 0xCBF43926 and results can be
 * compared with `crc32` from zlib directly.
 *
 * Combining: the kernel splits a buffer over many lanes, each lane
 * computes the CRC of its own piece, and the pieces are folded together
 * with crc32_combine.  That needs "multiply by x^(8 * len) modulo P",
 * which is done with the table VYRE_TABLE_CRC_SHIFT_OFF points at in the
 * scan table (see vyre_protocol.h).  Its entries, and every polynomial
 * here, use zlib's reflected representation: bit 31 is the coefficient
 * of x^0, bit 0 that of x^31 (so the polynomial "1" is 0x80000000).
 *
 *   crc_shift[k] = x^(8 * 2^k) mod P,  k = 0..31
 *
 * and x^(8 * n) mod P is the product (vyre_crc32_multmodp) of the
 * crc_shift[k & 31] for every set bit k of the 64-bit n.  The "& 31" is
 * exact, not an approximation: x^(2^32) == x (mod P) for this P, so the
 * squares repeat with period 32 (test_crc32 checks this).
 */
#ifndef VYRE_CRC32_H
#define VYRE_CRC32_H

#include <glib.h>

G_BEGIN_DECLS

/* Entries in the crc_shift table (one per bit of a 32-bit length; the
 * table wraps for 64-bit lengths, see above). */
#define VYRE_CRC32_SHIFT_ENTRIES 32

/* CRC-32 of data appended to a stream whose CRC so far is crc (0 for an
 * empty stream).  len may be 0; data may then be NULL. */
guint32 vyre_crc32_update (guint32 crc, const guint8 * data, gsize len);

/* CRC-32 of A followed by B, given crc1 = CRC of A, crc2 = CRC of B and
 * len2 = length of B in bytes (any 64-bit value).  Same result as zlib
 * >= 1.2.12 crc32_combine64 for every input (for len2 = 0 that is
 * crc1 ^ crc2, i.e. crc1 since the CRC of nothing is 0). */
guint32 vyre_crc32_combine (guint32 crc1, guint32 crc2, guint64 len2);

/* a * b mod P in the reflected representation (bit 31 = x^0).  Constant
 * time: always 32 steps, so the shader's copy has no data-dependent
 * loop. */
guint32 vyre_crc32_multmodp (guint32 a, guint32 b);

/* x^(8 * n) mod P: the factor crc32_combine multiplies crc1 by. */
guint32 vyre_crc32_x8nmodp (guint64 n);

/* The VYRE_CRC32_SHIFT_ENTRIES words of the crc_shift table, exactly as
 * the scan table stores them.  Static storage, never freed. */
const guint32 *vyre_crc32_shift_table (void);

G_END_DECLS

#endif /* VYRE_CRC32_H */
