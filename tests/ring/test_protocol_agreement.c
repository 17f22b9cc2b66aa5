/*
 * test_protocol_agreement.c - host and shader agree on the wire format.
 *
 * protocol_probe.comp includes ring/vyre_protocol.h exactly as the
 * megakernel does; glslc compiles it at build time.  Here the constant
 * array it produced is read back out of the SPIR-V words and compared,
 * value by value, with what the C compiler made of the same header.  A
 * change to the header that only one side picks up (a stale include path,
 * a GLSL-only #if) fails here.  The test also checks that the X-macro list
 * names every #define in the header, and the C struct layouts.
 */
#include "protocol_constants.h"
#include "ring_test_util.h"
#include "vyre_protocol.h"
#include "vyre_slot.h"

#include <stddef.h>
#include <string.h>

static const uint32_t probe_spirv[] =
#include "protocol_probe.spv.inc"
    ;

#define C_ITEM(name) { #name, (uint64_t) (name) },
static const struct {
  const char *name;
  uint64_t value;
} c_constants[] = { VYRE_PROTOCOL_CONSTANTS (C_ITEM) };
#define N_CONSTANTS (sizeof c_constants / sizeof c_constants[0])

enum { OP_CONSTANT = 43, OP_CONSTANT_COMPOSITE = 44 };
#define PROBE_END 0xA5A5A5A5u
#define MAX_IDS 65536

/* Value of every OpConstant by result id (32-bit scalars only). */
static uint32_t const_value[MAX_IDS];
static uint8_t const_known[MAX_IDS];

static int
find_probe_array (const uint32_t * words, size_t n, uint32_t * out, size_t cap)
{
  if (n < 5 || words[0] != 0x07230203u)
    return -1;
  for (int pass = 0; pass < 2; pass++) {
    size_t i = 5;
    while (i < n) {
      uint32_t wc = words[i] >> 16, op = words[i] & 0xffffu;
      if (wc == 0 || i + wc > n)
        return -1;
      if (pass == 0 && op == OP_CONSTANT && wc == 4 && words[i + 2] < MAX_IDS) {
        const_value[words[i + 2]] = words[i + 3];
        const_known[words[i + 2]] = 1;
      }
      if (pass == 1 && op == OP_CONSTANT_COMPOSITE && wc > 3) {
        uint32_t last = words[i + wc - 1];
        if (last < MAX_IDS && const_known[last] && const_value[last] == PROBE_END) {
          size_t count = wc - 3;
          if (count > cap)
            return -1;
          for (size_t k = 0; k < count; k++) {
            uint32_t id = words[i + 3 + k];
            if (id >= MAX_IDS || !const_known[id])
              return -1;
            out[k] = const_value[id];
          }
          return (int) count;
        }
      }
      i += wc;
    }
  }
  return -1;
}

static void
test_shader_sees_the_same_constants (void)
{
  uint32_t got[N_CONSTANTS + 8];
  int n = find_probe_array (probe_spirv, sizeof probe_spirv / 4, got,
      N_CONSTANTS + 8);
  CHECK (n == (int) N_CONSTANTS + 1);
  if (n != (int) N_CONSTANTS + 1)
    return;
  for (size_t k = 0; k < N_CONSTANTS; k++) {
    if ((uint64_t) got[k] != c_constants[k].value) {
      fprintf (stderr, "  %s: C %llu, shader %u\n", c_constants[k].name,
          (unsigned long long) c_constants[k].value, got[k]);
      ring_test_failures++;
    }
  }
}

/* Every "#define VYRE_" in the header must be in the X-macro list, or
 * the comparison above silently skips it. */
static void
test_list_covers_header (void)
{
  FILE *f = fopen (VYRE_PROTOCOL_HEADER_PATH, "r");
  CHECK (f != NULL);
  if (f == NULL)
    return;
  char line[512];
  size_t defines = 0;
  while (fgets (line, sizeof line, f)) {
    char name[128];
    if (sscanf (line, "#define %127s", name) == 1
        && strncmp (name, "VYRE_", 5) == 0 && strcmp (name, "VYRE_PROTOCOL_H") != 0) {
      int listed = 0;
      /* A function-like macro is listed as evaluations "NAME(args)". */
      char *paren = strchr (name, '(');
      size_t len = paren ? (size_t) (paren - name) + 1 : strlen (name) + 1;
      if (paren)
        paren[1] = '\0';
      defines++;
      for (size_t k = 0; k < N_CONSTANTS; k++)
        listed |= strncmp (c_constants[k].name, name, len) == 0;
      if (!listed) {
        fprintf (stderr, "  %s is defined in vyre_protocol.h but missing from "
            "tests/ring/protocol_constants.h\n", name);
        ring_test_failures++;
      }
    }
  }
  fclose (f);
  /* Each function-like macro has several rows, each constant one. */
  CHECK (defines <= N_CONSTANTS);
}

/* The C views of the regions match the word indices. */
static void
test_c_layouts (void)
{
  CHECK_EQ_U64 (VYRE_SLOT_WORDS * 4, VYRE_SLOT_BYTES);
  CHECK_EQ_U64 (sizeof (vyre_slot_words), VYRE_SLOT_BYTES);
  CHECK_EQ_U64 (VYRE_SLOT_ARG0 + VYRE_SLOT_ARG_COUNT, VYRE_SLOT_WORDS);
  CHECK_EQ_U64 (VYRE_ARG_TAG, VYRE_SLOT_WORDS - 1);
  CHECK (VYRE_OP_COUNT <= VYRE_CTRL_OPCODE_COUNTER_SLOTS);
  CHECK (VYRE_CTRL_OPCODE_COUNTERS + VYRE_CTRL_OPCODE_COUNTER_SLOTS
      <= VYRE_CTRL_LAST_FENCE_TAG);
  CHECK (VYRE_CTRL_EXITED < VYRE_CTRL_OPCODE_COUNTERS);
  CHECK (VYRE_CTRL_LAST_FAULT_TENANT < VYRE_CTRL_GLOBAL_WORDS);

  /* Control block: the global words, then the tenant records, nothing
   * after them. */
  CHECK_EQ_U64 (VYRE_CTRL_TENANTS, VYRE_CTRL_GLOBAL_WORDS);
  CHECK_EQ_U64 (VYRE_CONTROL_WORDS,
      VYRE_CTRL_TENANTS + VYRE_MAX_TENANTS * VYRE_TENANT_WORDS);
  /* A tenant record: the scalar words, then the epoch window filling it.
   * The kernel copies the words below EPOCH_JOBS into shared memory per
   * job: every field it reads must be among them. */
  const uint32_t fields[] = {
    VYRE_TENANT_OPS_MASK, VYRE_TENANT_EPOCH,
    VYRE_TENANT_TABLES_LO, VYRE_TENANT_TABLES_HI,
    VYRE_TENANT_ARENA_CHUNK_BYTES_LO, VYRE_TENANT_ARENA_CHUNK_BYTES_HI,
    VYRE_TENANT_ARENA_CHUNKS, VYRE_TENANT_RESULT_CHUNK_RECORDS,
    VYRE_TENANT_RESULT_CHUNKS, VYRE_TENANT_RESERVED_9,
    VYRE_TENANT_RESULT_COUNT, VYRE_TENANT_MAX_MATCHES,
    VYRE_TENANT_CARRY_LO, VYRE_TENANT_CARRY_HI,
    VYRE_TENANT_MAX_CARRY, VYRE_TENANT_TABLES_SERIAL,
  };
  uint32_t seen = 0;
  for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
    CHECK (fields[k] < VYRE_TENANT_EPOCH_JOBS);
    if (fields[k] < 32)
      seen |= 1u << fields[k];
  }
  CHECK_EQ_U64 (VYRE_TENANT_EPOCH_JOBS, sizeof fields / sizeof fields[0]);
  CHECK_EQ_U64 (seen, (1ull << VYRE_TENANT_EPOCH_JOBS) - 1);  /* distinct */
  CHECK_EQ_U64 (VYRE_TENANT_TABLES_HI, VYRE_TENANT_TABLES_LO + 1);
  CHECK_EQ_U64 (VYRE_TENANT_ARENA_CHUNK_BYTES_HI,
      VYRE_TENANT_ARENA_CHUNK_BYTES_LO + 1);
  CHECK_EQ_U64 (VYRE_TENANT_CARRY_HI, VYRE_TENANT_CARRY_LO + 1);
  /* fences, then the two chunk tables, end to end */
  CHECK_EQ_U64 (VYRE_TENANT_EPOCH_JOBS + VYRE_EPOCH_WINDOW,
      VYRE_TENANT_ARENA_CHUNK_TABLE);
  CHECK_EQ_U64 (VYRE_TENANT_ARENA_CHUNK_TABLE + 2 * VYRE_TENANT_CHUNKS_MAX,
      VYRE_TENANT_RESULT_CHUNK_TABLE);
  CHECK_EQ_U64 (VYRE_TENANT_RESULT_CHUNK_TABLE + 2 * VYRE_TENANT_CHUNKS_MAX,
      VYRE_TENANT_WORDS);
  CHECK (VYRE_COMP_TAG < VYRE_COMPLETION_WORDS);
  CHECK (VYRE_IO_TAG < VYRE_IO_SLOT_WORDS);
}

int
main (void)
{
  test_shader_sees_the_same_constants ();
  test_list_covers_header ();
  test_c_layouts ();
  return ring_test_finish ("test_protocol_agreement");
}
