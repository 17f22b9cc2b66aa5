/* vyre-crc32.c - see vyre-crc32.h. */
#include "vyre-crc32.h"

#include <string.h>

/* zlib's polynomial, reflected (x^32 implied). */
#define VYRE_CRC32_POLY 0xEDB88320u

/* slice[k][b]: CRC register contribution of byte b followed by k zero
 * bytes.  slice[0] is the classic byte-at-a-time table; the other seven
 * let the main loop consume 8 bytes per step with independent lookups. */
static guint32 slice[8][256];
static guint32 shift_table[VYRE_CRC32_SHIFT_ENTRIES];

guint32
vyre_crc32_multmodp (guint32 a, guint32 b)
{
  guint32 p = 0;

  /* Walk a's coefficients from x^0 (bit 31) upwards while b is
   * multiplied by x each step; the mask avoids a branch so the GLSL
   * copy stays uniform across lanes. */
  for (guint i = 0; i < 32; i++) {
    p ^= b & (0u - ((a >> (31 - i)) & 1u));
    b = (b >> 1) ^ (VYRE_CRC32_POLY & (0u - (b & 1u)));
  }
  return p;
}

static void
crc32_init_tables (void)
{
  static gsize initialized = 0;

  if (!g_once_init_enter (&initialized))
    return;

  for (guint b = 0; b < 256; b++) {
    guint32 c = b;
    for (guint k = 0; k < 8; k++)
      c = (c & 1) ? (c >> 1) ^ VYRE_CRC32_POLY : c >> 1;
    slice[0][b] = c;
  }
  for (guint b = 0; b < 256; b++)
    for (guint k = 1; k < 8; k++)
      slice[k][b] = (slice[k - 1][b] >> 8) ^ slice[0][slice[k - 1][b] & 0xff];

  /* x^1 is 0x40000000 in the reflected representation; squaring three
   * times gives x^8 = crc_shift[0], and each further square doubles the
   * exponent: crc_shift[k] = x^(8 * 2^k). */
  guint32 p = 0x40000000u;
  for (guint i = 0; i < 3; i++)
    p = vyre_crc32_multmodp (p, p);
  for (guint k = 0; k < VYRE_CRC32_SHIFT_ENTRIES; k++) {
    shift_table[k] = p;
    p = vyre_crc32_multmodp (p, p);
  }

  g_once_init_leave (&initialized, 1);
}

guint32
vyre_crc32_update (guint32 crc, const guint8 * data, gsize len)
{
  crc32_init_tables ();

  crc = ~crc;
  while (len >= 8) {
    guint32 lo, hi;
    /* memcpy: data need not be aligned; compiles to plain loads. */
    memcpy (&lo, data, 4);
    memcpy (&hi, data + 4, 4);
    lo = GUINT32_FROM_LE (lo) ^ crc;
    hi = GUINT32_FROM_LE (hi);
    crc = slice[7][lo & 0xff] ^ slice[6][(lo >> 8) & 0xff]
        ^ slice[5][(lo >> 16) & 0xff] ^ slice[4][lo >> 24]
        ^ slice[3][hi & 0xff] ^ slice[2][(hi >> 8) & 0xff]
        ^ slice[1][(hi >> 16) & 0xff] ^ slice[0][hi >> 24];
    data += 8;
    len -= 8;
  }
  while (len--)
    crc = slice[0][(crc ^ *data++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

const guint32 *
vyre_crc32_shift_table (void)
{
  crc32_init_tables ();
  return shift_table;
}

guint32
vyre_crc32_x8nmodp (guint64 n)
{
  guint32 p = 0x80000000u;      /* x^0 */
  guint k = 0;

  crc32_init_tables ();
  /* Square-and-multiply over the bits of n; k & 31 is exact because
   * x^(2^32) == x mod P (see the header). */
  while (n) {
    if (n & 1)
      p = vyre_crc32_multmodp (shift_table[k & 31], p);
    n >>= 1;
    k++;
  }
  return p;
}

guint32
vyre_crc32_combine (guint32 crc1, guint32 crc2, guint64 len2)
{
  /* Appending len2 bytes multiplies A's contribution by x^(8*len2); the
   * 0xFFFFFFFF pre/post conditioning cancels between the two terms, so
   * this is zlib's formula unchanged. */
  return vyre_crc32_multmodp (vyre_crc32_x8nmodp (len2), crc1) ^ crc2;
}
