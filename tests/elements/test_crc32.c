/*
 * test_crc32.c - vyre-crc32 against independent references:
 *  - a bit-at-a-time CRC (checks the slicing-by-8 tables and loop),
 *  - zlib 1.2.11's GF(2) matrix crc32_combine (checks multmodp, the
 *    shift table and 64-bit lengths without touching 4 GiB of data),
 *  - and, at full scale, a real stream of more than 4 GiB.
 */
#include <string.h>

#include "ring_test_util.h"
#include "vyre-crc32.h"

/* Bitwise CRC-32: the textbook definition, nothing shared with the
 * table code. */
static guint32
crc_bitwise (guint32 crc, const guint8 * p, gsize n)
{
  crc = ~crc;
  while (n--) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

/* zlib 1.2.11 crc32_combine_, widened to an unsigned 64-bit length:
 * repeated squaring of the "one zero bit" operator as a 32x32 matrix.
 * One change: for len2 = 0 it returns crc1 ^ crc2 like zlib >= 1.2.12
 * (1.2.11 dropped crc2; both agree for the only valid crc2 there, 0). */
static guint32
gf2_times (const guint32 * mat, guint32 vec)
{
  guint32 sum = 0;
  while (vec) {
    if (vec & 1)
      sum ^= *mat;
    vec >>= 1;
    mat++;
  }
  return sum;
}

static void
gf2_square (guint32 * square, const guint32 * mat)
{
  for (int n = 0; n < 32; n++)
    square[n] = gf2_times (mat, mat[n]);
}

static guint32
combine_matrix (guint32 crc1, guint32 crc2, guint64 len2)
{
  guint32 even[32], odd[32], row = 1;

  if (len2 == 0)
    return crc1 ^ crc2;
  odd[0] = 0xEDB88320u;
  for (int n = 1; n < 32; n++) {
    odd[n] = row;
    row <<= 1;
  }
  gf2_square (even, odd);
  gf2_square (odd, even);
  do {
    gf2_square (even, odd);
    if (len2 & 1)
      crc1 = gf2_times (even, crc1);
    len2 >>= 1;
    if (len2 == 0)
      break;
    gf2_square (odd, even);
    if (len2 & 1)
      crc1 = gf2_times (odd, crc1);
    len2 >>= 1;
  } while (len2 != 0);
  return crc1 ^ crc2;
}

static void
fill_random (guint8 * p, gsize n, guint64 * rng)
{
  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) ring_test_rand (rng);
}

static void
test_known_values (void)
{
  const guint8 *check = (const guint8 *) "123456789";
  const guint8 *fox = (const guint8 *)
      "The quick brown fox jumps over the lazy dog";

  CHECK_EQ_U64 (vyre_crc32_update (0, check, 9), 0xCBF43926u);
  CHECK_EQ_U64 (vyre_crc32_update (0, fox, strlen ((const char *) fox)),
      0x414FA339u);
  CHECK_EQ_U64 (vyre_crc32_update (0, NULL, 0), 0);
  CHECK_EQ_U64 (vyre_crc32_update (0xCBF43926u, NULL, 0), 0xCBF43926u);
  /* incremental == one shot, split at every position */
  for (gsize k = 0; k <= 9; k++)
    CHECK_EQ_U64 (vyre_crc32_update (vyre_crc32_update (0, check, k),
            check + k, 9 - k), 0xCBF43926u);
}

static void
test_tables_vs_bitwise (guint64 * rng)
{
  enum { N = 4096 + 64 };
  static guint8 buf[N];
  guint64 rounds = ring_test_scaled (2000);

  fill_random (buf, N, rng);
  /* every length 0..64 at every alignment 0..7 */
  for (gsize off = 0; off < 8; off++)
    for (gsize len = 0; len <= 64; len++)
      CHECK_EQ_U64 (vyre_crc32_update (0, buf + off, len),
          crc_bitwise (0, buf + off, len));
  for (guint64 r = 0; r < rounds; r++) {
    gsize off = ring_test_rand (rng) % 64;
    gsize len = ring_test_rand (rng) % (N - 64);
    guint32 seed = (guint32) ring_test_rand (rng);
    CHECK_EQ_U64 (vyre_crc32_update (seed, buf + off, len),
        crc_bitwise (seed, buf + off, len));
  }
}

static void
test_shift_table (void)
{
  const guint32 *t = vyre_crc32_shift_table ();

  CHECK_EQ_U64 (t[0], 0x00800000u);     /* x^8: bit 31 - 8 */
  for (int k = 0; k + 1 < VYRE_CRC32_SHIFT_ENTRIES; k++)
    CHECK_EQ_U64 (t[k + 1], vyre_crc32_multmodp (t[k], t[k]));
  /* The wrap the 64-bit combine (and the shader's k & 31) relies on:
   * x^(2^32) == x mod P, hence squaring the last entry gives the first. */
  CHECK_EQ_U64 (vyre_crc32_multmodp (t[31], t[31]), t[0]);
  CHECK_EQ_U64 (vyre_crc32_x8nmodp (0), 0x80000000u);
  CHECK_EQ_U64 (vyre_crc32_x8nmodp (1), t[0]);
  /* multmodp: 1 is 0x80000000, 0 absorbs, it commutes */
  CHECK_EQ_U64 (vyre_crc32_multmodp (0x80000000u, 0x12345678u), 0x12345678u);
  CHECK_EQ_U64 (vyre_crc32_multmodp (0, 0x12345678u), 0);
  CHECK_EQ_U64 (vyre_crc32_multmodp (0x9ABCDEF0u, 0x12345678u),
      vyre_crc32_multmodp (0x12345678u, 0x9ABCDEF0u));
}

static void
test_combine_random_splits (guint64 * rng)
{
  gsize n = (gsize) ring_test_scaled (1 << 20);
  guint8 *buf = g_malloc (n);
  guint32 whole;
  guint64 rounds = ring_test_scaled (400);

  fill_random (buf, n, rng);
  whole = vyre_crc32_update (0, buf, n);
  CHECK_EQ_U64 (whole, crc_bitwise (0, buf, n));
  CHECK_EQ_U64 (vyre_crc32_combine (whole, 0, 0), whole);       /* len2 = 0 */
  CHECK_EQ_U64 (vyre_crc32_combine (0, whole, n), whole);       /* empty A */
  for (guint64 r = 0; r < rounds; r++) {
    gsize a = ring_test_rand (rng) % (n + 1);
    gsize b = a + ring_test_rand (rng) % (n - a + 1);
    guint32 ca = vyre_crc32_update (0, buf, a);
    guint32 cb = vyre_crc32_update (0, buf + a, b - a);
    guint32 cc = vyre_crc32_update (0, buf + b, n - b);
    CHECK_EQ_U64 (vyre_crc32_combine (ca, cb, b - a),
        vyre_crc32_update (0, buf, b));
    CHECK_EQ_U64 (vyre_crc32_combine (vyre_crc32_combine (ca, cb, b - a), cc,
            n - b), whole);
  }
  g_free (buf);
}

static void
test_combine_64bit (guint64 * rng)
{
  static const guint64 edge[] = {
    1, 2, 3, 255, 256, 4095, 4096, G_MAXUINT32 - 1ull, G_MAXUINT32,
    1ull << 32, (1ull << 32) + 1, 5ull << 30, 1ull << 40, (1ull << 63) - 1,
    1ull << 63, G_MAXUINT64 - 1, G_MAXUINT64
  };
  guint64 rounds = ring_test_scaled (300);

  for (gsize i = 0; i < G_N_ELEMENTS (edge); i++) {
    guint32 c1 = (guint32) ring_test_rand (rng);
    guint32 c2 = (guint32) ring_test_rand (rng);
    CHECK_EQ_U64 (vyre_crc32_combine (c1, c2, edge[i]),
        combine_matrix (c1, c2, edge[i]));
  }
  for (guint64 r = 0; r < rounds; r++) {
    guint32 a = (guint32) ring_test_rand (rng);
    guint32 b = (guint32) ring_test_rand (rng);
    guint32 c = (guint32) ring_test_rand (rng);
    /* lengths of every magnitude, many above 4 GiB */
    guint64 l1 = ring_test_rand (rng) >> (ring_test_rand (rng) % 64);
    guint64 l2 = ring_test_rand (rng) >> (ring_test_rand (rng) % 64);
    l1 >>= 1;
    l2 >>= 1;                   /* so l1 + l2 cannot wrap */
    CHECK_EQ_U64 (vyre_crc32_combine (a, b, l1), combine_matrix (a, b, l1));
    /* associativity: (A B) C == A (B C) with |BC| = l1 + l2 */
    CHECK_EQ_U64 (vyre_crc32_combine (vyre_crc32_combine (a, b, l1), c, l2),
        vyre_crc32_combine (a, vyre_crc32_combine (b, c, l2), l1 + l2));
    /* the multiplier is a homomorphism: x^8(l1+l2) = x^8l1 * x^8l2 */
    CHECK_EQ_U64 (vyre_crc32_x8nmodp (l1 + l2),
        vyre_crc32_multmodp (vyre_crc32_x8nmodp (l1),
            vyre_crc32_x8nmodp (l2)));
  }
}

/* CRC of 2^k zero bytes by doubling with combine, against a direct
 * computation for small k and the matrix method for large k: CRC of n
 * zeros is the "A" part of combining an all-ones register.  2^33 zeros
 * = 8 GiB, never allocated. */
static void
test_zeros_doubling (void)
{
  static guint8 zeros[1 << 16];
  guint32 crc = vyre_crc32_update (0, zeros, 1);
  guint64 n = 1;

  for (int k = 1; k <= 40; k++) {
    crc = vyre_crc32_combine (crc, crc, n);
    n *= 2;
    if (n <= sizeof zeros)
      CHECK_EQ_U64 (crc, crc_bitwise (0, zeros, n));
    /* raw register of n zeros from all-ones = ~crc; the matrix method
     * applies the same shift to 0xFFFFFFFF independently */
    CHECK_EQ_U64 (crc, ~combine_matrix (0xFFFFFFFFu, 0, n) & 0xFFFFFFFFu);
  }
}

/* A real stream over 4 GiB (full scale only: about 2 s at -O2): the
 * same random 64 KiB block repeated.  prefix[k] is the CRC of k blocks,
 * and combining prefix[i] with prefix[j] (a "B" of j blocks, same
 * bytes) must give prefix[i + j] with len2 = j * 64 KiB > 4 GiB. */
static void
test_real_stream_over_4gib (guint64 * rng)
{
  enum { BLOCK = 1 << 16 };
  const guint64 nblocks = (1ull << 32) / BLOCK + 8192; /* 4.5 GiB */
  guint8 *block;
  guint32 *prefix;
  double t0;

  if (ring_test_scaled (1000) < 1000) {
    fprintf (stderr, "real >4 GiB stream skipped (VYRE_TEST_SCALE < 1); "
        "the matrix method covers 64-bit lengths\n");
    return;
  }
  block = g_malloc (BLOCK);
  prefix = g_new (guint32, nblocks + 1);
  fill_random (block, BLOCK, rng);
  t0 = ring_test_now ();
  prefix[0] = 0;
  for (guint64 k = 0; k < nblocks; k++)
    prefix[k + 1] = vyre_crc32_update (prefix[k], block, BLOCK);
  fprintf (stderr, "crc32 of %.2f GiB in %.2f s\n",
      (double) nblocks * BLOCK / (1 << 30), ring_test_now () - t0);

  for (int r = 0; r < 64; r++) {
    guint64 j = (1ull << 32) / BLOCK + ring_test_rand (rng) % 8192;
    guint64 i = ring_test_rand (rng) % (nblocks - j + 1);
    CHECK_EQ_U64 (vyre_crc32_combine (prefix[i], prefix[j], j * BLOCK),
        prefix[i + j]);
  }
  /* exactly 2^32 bytes as len2 */
  CHECK_EQ_U64 (vyre_crc32_combine (prefix[3], prefix[65536],
          65536ull * BLOCK), prefix[65539]);
  g_free (prefix);
  g_free (block);
}

int
main (void)
{
  guint64 rng = ring_test_seed ();

  test_known_values ();
  test_tables_vs_bitwise (&rng);
  test_shift_table ();
  test_combine_random_splits (&rng);
  test_combine_64bit (&rng);
  test_zeros_doubling ();
  test_real_stream_over_4gib (&rng);
  return ring_test_finish ("test_crc32");
}
