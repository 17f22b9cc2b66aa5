#version 450
// megakernel.comp - the persistent scan kernel.
//
// One dispatch stays resident: every workgroup polls the ring for PUBLISHED
// slots (any workgroup may claim any slot: work stealing), claims one with a
// CAS, runs it with all 64 lanes, writes the result record and completion
// entry, and goes back to polling.  It retires at a safe point (nothing
// claimed) when the host asks (SHUTDOWN), when it has been idle for
// POLL_BUDGET rounds, or before a job would exceed ITER_BUDGET loop
// iterations (lavapipe silently stops every loop of an invocation after
// 65,535 iterations in total).  The host relaunches it when work arrives.
//
// The wire format is ring/vyre_protocol.h, shared with the host; the
// memory-ordering rules are in docs/protocol.md.  Every word the host
// writes while we run is read with device-scope atomics or after an
// acquire, from buffers declared coherent (Vulkan memory model): without
// that NVIDIA never shows the kernel a host write made after launch.
#pragma use_vulkan_memory_model
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_buffer_reference : require
#include "vyre_protocol.h"

// Lanes per workgroup: a specialization constant the host sets (64 on CPU
// devices, 256 on GPUs: a job's bytes are split over the lanes, so wider
// workgroups finish a large job sooner).  At most VYRE_RESULT_LANES: each
// lane owns MAX_MATCHES / VYRE_RESULT_LANES event records.
layout(constant_id = 0) const uint LOCAL = 64u;
layout(local_size_x_id = 0) in;
// The scan-only byte loop for rounds wholly inside a lane's range (see the
// data loop); off on CPU devices, where it only costs compile time.
layout(constant_id = 1) const bool SCAN_FAST_PATH = true;
// Compact code, for CPU devices: lavapipe's LLVM takes time quadratic in
// the kernel's code (its coroutine frame analysis over every basic block,
// and each buffer access is a loop over the SIMD lanes): 4.0 s on a cold
// shader cache with the GPU's 16 copies of the byte step, 2.2 with 4
// (measured, docs/reliability.md).  Compact code scans ROUND_BYTES = 4
// bytes per data round instead of 16 (four times the rounds: lavapipe's
// loop limiter counts them, see job_cost).  For the same reason every
// function that holds memory accesses is called from one place where it
// can be (run_slot, complete).
layout(constant_id = 2) const bool COMPACT_CODE = false;
const uint ROUND_BYTES = COMPACT_CODE ? 4u : 16u;

// mode 0: persistent.  mode 1: claim and run exactly pc.slot, then return
// (the per-buffer dispatch kept for comparison).
layout(push_constant) uniform Push { uint mode; uint slot; } pc;

layout(std430, set = 0, binding = 0) coherent buffer Ring { uint w[]; } ring;
layout(std430, set = 0, binding = 1) coherent buffer Control { uint w[]; } ctrl;
layout(std430, set = 0, binding = 2) coherent buffer Completions { uint w[]; } comp;
// A tenant's memory, reached through the buffer device addresses in its
// control record (VYRE_CTRL_TENANTS): tenants join and leave a running
// kernel, each with its own memory, without a new descriptor set.
layout(buffer_reference, std430) coherent buffer ResultsRef { uint w[]; };
layout(buffer_reference, std430) readonly buffer TablesRef { uint w[]; };
layout(buffer_reference, std430) coherent buffer ArenaRef { uint w[]; };
layout(buffer_reference, std430) coherent buffer CarryRef { uint w[]; };
// The claimed job's tenant's memory (bind_tenant), in every lane.
ResultsRef res;
TablesRef tab;
ArenaRef arena;
CarryRef carry;

// ---- memory-ordering helpers ------------------------------------------
uint ctrl_load_acq(uint i)
{
  return atomicLoad(ctrl.w[i], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire);
}
uint ctrl_load(uint i)
{
  return atomicLoad(ctrl.w[i], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed);
}
void ctrl_add(uint i, uint v)
{
  atomicAdd(ctrl.w[i], v, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
}
void ctrl_store_rel(uint i, uint v)
{
  atomicStore(ctrl.w[i], v, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
}
uint ring_load(uint i)
{
  return atomicLoad(ring.w[i], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed);
}
void ring_store_rel(uint i, uint v)
{
  atomicStore(ring.w[i], v, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
}
uint ring_claim(uint i)
{
  return atomicCompSwap(ring.w[i], VYRE_STATUS_PUBLISHED, VYRE_STATUS_CLAIMED, gl_ScopeDevice,
                        gl_StorageSemanticsBuffer, gl_SemanticsAcquire,
                        gl_StorageSemanticsBuffer, gl_SemanticsRelaxed);
}
void comp_store_rel(uint i, uint v)
{
  atomicStore(comp.w[i], v, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
}
void wg_barrier()
{
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeWorkgroup,
                 gl_StorageSemanticsShared | gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
}

// The same barrier, whose release makes every lane's buffer writes
// available at device scope (before a completion is published).
void wg_barrier_publish()
{
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice,
                 gl_StorageSemanticsShared | gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
}

// ---- workgroup state -----------------------------------------------------
#define CMD_IDLE 0u
#define CMD_RUN 1u
#define CMD_EXIT 2u
shared uint s_cmd;
shared uint s_slot;
shared uint s_pick;
shared uint s_job[VYRE_SLOT_WORDS];
shared uint s_fault;
shared uint s_requeue;
shared uint s_hist[256];
shared uint s_crctab[256];
shared uint s_crc;         // the job's CRC-32, XOR-reduced over lanes
shared uint s_class[256];  // byte -> class of the tables at s_class_tables
shared uint64_t s_class_tables;
shared uint s_class_serial;   // its record's TABLES_SERIAL
shared uint s_reload_class;
shared uint s_counts;      // the job counts toward its tenant's epoch fence
shared uint s_ten[16];     // the claimed job's tenant record, words 0..15
// The claimed data job's memory, resolved from the tenant's chunk tables
// by validate(): its arena chunk, the data offset in that chunk, its
// result chunk and the record's index in it.
shared uint64_t s_arena_chunk;
shared uint64_t s_result_chunk;
shared uint64_t s_data_off;
shared uint s_record;
shared uint s_matches;   // matches found (sum of pattern outputs)
shared uint s_events;    // match events reserved (one per end position)
shared uint s_stored;    // matches covered by stored events
shared uint s_cut;       // a loop was cut short by the driver
shared uint s_rcheck;    // check sum of the lane counts and events written
shared uint s_hcheck;    // check sum of the histogram written

// Control word i of tenant t's record.
uint ten_word(uint t, uint i)
{
  return VYRE_CTRL_TENANTS + t * VYRE_TENANT_WORDS + i;
}

uint64_t ten_addr(uint lo_word)
{
  return uint64_t(s_ten[lo_word]) | (uint64_t(s_ten[lo_word + 1u]) << 32);
}

// All lanes: point res/tab/arena/carry at the memory of the tenant whose
// record is in s_ten.
void bind_tenant()
{
  tab = TablesRef(ten_addr(VYRE_TENANT_TABLES_LO));
  arena = ArenaRef(s_arena_chunk);
  res = ResultsRef(s_result_chunk);
  carry = CarryRef(ten_addr(VYRE_TENANT_CARRY_LO));
}

// ---- CRC-32 (zlib) -------------------------------------------------------
// Loop iterations are a budget here (lavapipe counts them, see ITER_BUDGET),
// so multmodp is written out step by step: it spends none.
#define POLY 0xEDB88320u
#define MM_STEP(i) \
  if ((a & (0x80000000u >> (i))) != 0u) p ^= b; \
  b = (b & 1u) != 0u ? (b >> 1) ^ POLY : b >> 1;
#define MM_STEP4(i) MM_STEP(i) MM_STEP(i + 1u) MM_STEP(i + 2u) MM_STEP(i + 3u)
// a * b mod P for reflected polynomials (zlib's multmodp).
uint multmodp(uint a, uint b)
{
  uint p = 0u;
  MM_STEP4(0u) MM_STEP4(4u) MM_STEP4(8u) MM_STEP4(12u)
  MM_STEP4(16u) MM_STEP4(20u) MM_STEP4(24u) MM_STEP4(28u)
  return p;
}
// x^(8n) mod P: the product of x^(8 * 2^k) (table) over the set bits of n.
// 32 iterations whatever n is (a uniform trip count, see the byte loop).
uint x8nmodp(uint n, uint shift_off)
{
  uint p = 0x80000000u;   // x^0
  uint k = 0u;
  for (; k < 32u; k++) {
    if (((n >> k) & 1u) != 0u)
      p = multmodp(tab.w[shift_off + k], p);
  }
  if (k < 32u)
    s_cut = 1u;             // the driver stopped the loop early
  return p;
}

// One completion word, its share added to the entry's check sum.
void comp_put(uint cb, uint i, uint v, inout uint check)
{
  comp.w[cb + i] = v;
  check += VYRE_CHECK_TERM(i, v);
}

// The claimed slot's outcome, set by lane 0 where the job ends (finish)
// and written out once, by complete() at the end of run_slot: a single
// inlined copy of the completion code instead of one per outcome (each
// copy cost lavapipe's LLVM over a second of a cold start, measured).
shared uint s_out_status;    // VYRE_STATUS_*; 0: nothing to complete (a handed-back fence)
shared uint s_out_fault;
shared uint s_out_matches;
shared uint s_out_stored;
shared uint s_out_events;
shared uint s_out_crc;
shared uint s_out_rcheck;    // check sums of the events and of the histogram
shared uint s_out_hcheck;    //   the lanes wrote (0 for jobs that wrote none)
shared uint s_out_counts;    // the completed job counts toward its epoch's fence

// Lane 0: the claimed slot ends with this outcome.  The result words
// (s_out_matches .. s_out_hcheck) are 0 unless a data job set them: a
// finish that wrote them all was inlined at each of its seven call sites.
void finish(uint status, uint fault, bool counts)
{
  s_out_status = status;
  s_out_fault = fault;
  s_out_counts = counts ? 1u : 0u;
}

void finish_fault(uint fault, bool counts)
{
  finish(VYRE_STATUS_FAULT, fault, counts);
}

// Lane 0: complete the slot with the outcome in s_out_*: completion words
// with their check word, then ring STATUS, then SEQ_LO last (the host's
// completion signal), then the counters, then the job's share of its
// epoch's fence.
void complete(uint slot, uint wg)
{
  uint status = s_out_status, fault = s_out_fault;
  uint cb = slot * VYRE_COMPLETION_WORDS;
  uint check = VYRE_CHECK_TERM(VYRE_COMP_SEQ_LO, s_job[VYRE_ARG_SEQ_LO]);
  comp_put(cb, VYRE_COMP_EVENTS, s_out_events, check);
  comp_put(cb, VYRE_COMP_SEQ_HI, s_job[VYRE_ARG_SEQ_HI], check);
  comp_put(cb, VYRE_COMP_STATUS, status, check);
  comp_put(cb, VYRE_COMP_FAULT_CODE, fault, check);
  comp_put(cb, VYRE_COMP_OPCODE, s_job[VYRE_SLOT_OPCODE], check);
  comp_put(cb, VYRE_COMP_MATCHES, s_out_matches, check);
  comp_put(cb, VYRE_COMP_MATCHES_STORED, s_out_stored, check);
  comp_put(cb, VYRE_COMP_CRC32, s_out_crc, check);
  comp_put(cb, VYRE_COMP_EPOCH, s_job[VYRE_ARG_EPOCH], check);
  comp_put(cb, VYRE_COMP_WORKGROUP, wg, check);
  comp_put(cb, VYRE_COMP_LAUNCH, ctrl_load(VYRE_CTRL_LAUNCH_ID), check);
  comp_put(cb, VYRE_COMP_TAG, s_job[VYRE_ARG_TAG], check);
  comp_put(cb, VYRE_COMP_RESULT_CHECK, s_out_rcheck, check);
  comp_put(cb, VYRE_COMP_HIST_CHECK, s_out_hcheck, check);
  comp.w[cb + VYRE_COMP_CHECK] = check;
  // LAST_FAULT_* before the completion: a host that polled the fault
  // reads this fault's words, not an earlier one's.
  if (status == VYRE_STATUS_FAULT) {
    ctrl_store_rel(VYRE_CTRL_LAST_FAULT_TENANT, s_job[VYRE_SLOT_TENANT]);
    ctrl_store_rel(VYRE_CTRL_LAST_FAULT_SLOT, slot);
    ctrl_store_rel(VYRE_CTRL_LAST_FAULT_OPCODE, s_job[VYRE_SLOT_OPCODE]);
    ctrl_store_rel(VYRE_CTRL_LAST_FAULT_CODE, fault);
  }
  ring_store_rel(slot * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS, status);
  comp_store_rel(cb + VYRE_COMP_SEQ_LO, s_job[VYRE_ARG_SEQ_LO]);
  if (status == VYRE_STATUS_FAULT) {
    ctrl_add(VYRE_CTRL_FAULTS, 1u);
  } else {
    uint op = s_job[VYRE_SLOT_OPCODE];
    if (op < VYRE_CTRL_OPCODE_COUNTER_SLOTS)
      ctrl_add(VYRE_CTRL_OPCODE_COUNTERS + op, 1u);
  }
  ctrl_add(VYRE_CTRL_DONE_COUNT, 1u);
  if (s_out_counts != 0u) {
    uint e = s_job[VYRE_ARG_EPOCH];
    ctrl_add(ten_word(s_job[VYRE_SLOT_TENANT], VYRE_TENANT_EPOCH_JOBS + (e % VYRE_EPOCH_WINDOW)), 1u);
  }
}

bool is_data_op(uint op)
{
  return op == VYRE_OP_SCAN || op == VYRE_OP_CRC32 || op == VYRE_OP_HISTOGRAM;
}

// Lane 0: validate the claimed slot in s_job; returns a VYRE_FAULT_*.
uint validate(uint slot)
{
  uint op = s_job[VYRE_SLOT_OPCODE];
  uint tenant = s_job[VYRE_SLOT_TENANT];
  if (ctrl_load(VYRE_CTRL_PROTOCOL_VERSION) != VYRE_PROTOCOL_VERSION)
    return VYRE_FAULT_BAD_VERSION;
  if (tenant >= VYRE_MAX_TENANTS)
    return VYRE_FAULT_BAD_TENANT;
  if (op >= VYRE_OP_COUNT && op != VYRE_OP_SHUTDOWN)
    return VYRE_FAULT_BAD_OPCODE;
  if (op == VYRE_OP_SHUTDOWN)
    return tenant == 0u ? VYRE_FAULT_NONE : VYRE_FAULT_TENANT_DENIED;
  // s_ten holds the tenant's record (run_slot).
  if ((s_ten[VYRE_TENANT_OPS_MASK] & (1u << op)) == 0u)
    return VYRE_FAULT_TENANT_DENIED;
  if (op == VYRE_OP_BATCH_FENCE) {
    uint e = s_job[VYRE_ARG_EPOCH];
    uint cur = ctrl_load(ten_word(tenant, VYRE_TENANT_EPOCH));
    if (e == 0u || e <= cur || e - cur >= VYRE_EPOCH_WINDOW)
      return VYRE_FAULT_BAD_EPOCH;
    return VYRE_FAULT_NONE;
  }
  if (!is_data_op(op))
    return VYRE_FAULT_NONE;
  uint64_t off = uint64_t(s_job[VYRE_ARG_DATA_OFF_LO]) | (uint64_t(s_job[VYRE_ARG_DATA_OFF_HI]) << 32);
  uint64_t chunk_bytes = ten_addr(VYRE_TENANT_ARENA_CHUNK_BYTES_LO);
  uint rec_per_chunk = s_ten[VYRE_TENANT_RESULT_CHUNK_RECORDS];
  if (ten_addr(VYRE_TENANT_TABLES_LO) == 0ul || chunk_bytes == 0ul ||
      s_ten[VYRE_TENANT_ARENA_CHUNKS] == 0u || rec_per_chunk == 0u)
    return VYRE_FAULT_TENANT_DENIED;          // a record without memory
  uint64_t len = uint64_t(s_job[VYRE_ARG_DATA_LEN]);
  uint carry = s_job[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_LEN_MASK;
  bool in_arena = (s_job[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_IN_ARENA) != 0u;
  if (carry > s_ten[VYRE_TENANT_MAX_CARRY])
    return VYRE_FAULT_BAD_RANGE;
  if (in_arena && uint64_t(carry) > off)
    return VYRE_FAULT_BAD_RANGE;
  // The job, with carry in the arena before it, lies in one chunk (no sum
  // below can wrap: off may be anything two words hold).
  uint64_t chunk = (off - (in_arena ? uint64_t(carry) : 0ul)) / chunk_bytes;
  uint64_t chunk_base = chunk * chunk_bytes;
  if (chunk >= uint64_t(s_ten[VYRE_TENANT_ARENA_CHUNKS]) || len > chunk_bytes ||
      off - chunk_base > chunk_bytes - len)
    return VYRE_FAULT_BAD_RANGE;
  uint aw = ten_word(s_job[VYRE_SLOT_TENANT], VYRE_TENANT_ARENA_CHUNK_TABLE + 2u * uint(chunk));
  s_arena_chunk = uint64_t(ctrl_load(aw)) | (uint64_t(ctrl_load(aw + 1u)) << 32);
  if (s_arena_chunk == 0ul)
    return VYRE_FAULT_BAD_RANGE;              // a chunk the host never filled in
  s_data_off = off - chunk_base;
  uint ri = s_job[VYRE_ARG_RESULT_INDEX];
  if (ri >= s_ten[VYRE_TENANT_RESULT_COUNT] || ri / rec_per_chunk >= s_ten[VYRE_TENANT_RESULT_CHUNKS])
    return VYRE_FAULT_BAD_RESULT;
  uint rw = ten_word(s_job[VYRE_SLOT_TENANT], VYRE_TENANT_RESULT_CHUNK_TABLE + 2u * (ri / rec_per_chunk));
  s_result_chunk = uint64_t(ctrl_load(rw)) | (uint64_t(ctrl_load(rw + 1u)) << 32);
  if (s_result_chunk == 0ul)
    return VYRE_FAULT_BAD_RESULT;
  s_record = ri % rec_per_chunk;
  if (s_job[VYRE_ARG_EPOCH] == 0u)
    return VYRE_FAULT_BAD_EPOCH;
  // A job counted in its fence must name an open epoch of its tenant (a
  // closed one's counter belongs to epoch + WINDOW).  A re-scanned piece
  // (NO_EPOCH) is not counted and may come after its epoch closed.
  if ((s_job[VYRE_ARG_OPS] & VYRE_OPS_NO_EPOCH) == 0u && s_counts == 0u)
    return VYRE_FAULT_BAD_EPOCH;
  if ((s_job[VYRE_ARG_OPS] & ~VYRE_OPS_VALID) != 0u)
    return VYRE_FAULT_BAD_OPCODE;
  return VYRE_FAULT_NONE;
}

// Rounds of the data loop that cover any lane's segment of seg bytes,
// with the max_len - 1 bytes of warm-up before it and the alignment.
uint data_rounds(uint seg, uint max_len)
{
  return (seg + max_len + 2u * ROUND_BYTES - 2u) / ROUND_BYTES + 1u;
}

// Loop iterations one lane spends on a data job (uniform upper bound):
// the byte loop over its segment plus the pattern warm-up, reading the
// slot and the CRC combine levels, with slack.
uint job_cost(uint len, uint max_len)
{
  uint seg = (len + LOCAL - 1u) / LOCAL;
  return max_len + data_rounds(seg, max_len)   // carry and data loops
         + VYRE_SLOT_WORDS       // reading the slot
         + 2u * 256u / LOCAL     // histogram clear and write-out
         + 32u                   // x8nmodp's bit loop
         + 10u                   // barriers (lavapipe: one iteration each)
         + 16u;                  // slack
}

// Per-lane scan state of the byte loop.  Lanes count and store their
// own match events (a private range of event records each): the byte loop
// uses no shared atomics whose result it needs.
uint g_state;
uint g_crc;
uint g_matches;   // matches found by this lane
uint g_events;    // events found by this lane
uint g_stored;    // matches covered by the events it stored
uint g_rcheck;    // its share of the events' check sum

// The job, as every lane sees it (set at the start of run_data_job).
uint g_own_begin;   // first logical position whose matches this lane reports
uint g_carry_len;
uint64_t g_stream_off;
uint g_ops;
uint g_result_base;
uint g_max_events;  // this lane's share of event records
uint g_trans_off;
uint g_out_index_off;
uint g_nclasses;

// A match event at logical position pos: patterns end in g_state there.
// Counted always, stored while the lane has event records left.
void record_event(uint pos)
{
  uint n_out = tab.w[g_out_index_off + g_state + 1u] - tab.w[g_out_index_off + g_state];
  g_matches += n_out;
  if (g_events < g_max_events) {
    uint mb = g_result_base + VYRE_RESULT_HEADER_WORDS +
              (g_events * VYRE_RESULT_LANES + gl_LocalInvocationID.x) * VYRE_MATCH_WORDS;
    uint64_t end_off = g_stream_off + uint64_t(pos - g_carry_len);
    res.w[mb + VYRE_MATCH_STATE] = g_state;
    res.w[mb + VYRE_MATCH_END_LO] = uint(end_off);
    res.w[mb + VYRE_MATCH_END_HI] = uint(end_off >> 32);
    res.w[mb + VYRE_MATCH_COUNT] = n_out;
    g_rcheck += VYRE_CHECK_TERM(mb - g_result_base,    // index inside the record
                                VYRE_CHECK_EVENT(g_state, uint(end_off),
                                                 uint(end_off >> 32), n_out));
    g_stored += n_out;
  }
  g_events++;
}

// The automaton step for byte b; returns the transition word (its
// VYRE_TRANS_HAS_OUTPUT bit says whether patterns end here).
uint step(uint b)
{
  uint t = tab.w[g_trans_off + g_state * g_nclasses + s_class[b]];
  g_state = t & VYRE_TRANS_STATE_MASK;
  return t;
}

// One byte at logical position pos (carry + data): automaton step, a match
// event when patterns end here and the lane owns the position, CRC and
// histogram for owned bytes.
void scan_one(uint b, uint pos)
{
  if ((g_ops & VYRE_OPS_SCAN) != 0u) {
    if ((step(b) & VYRE_TRANS_HAS_OUTPUT) != 0u && pos >= g_own_begin)
      record_event(pos);
  }
  if (pos >= g_own_begin) {
    if ((g_ops & VYRE_OPS_CRC32) != 0u)
      g_crc = s_crctab[(g_crc ^ b) & 0xFFu] ^ (g_crc >> 8);
    if ((g_ops & VYRE_OPS_HISTOGRAM) != 0u)
      atomicAdd(s_hist[b], 1u);
  }
}

// The automaton step alone, for rounds of 16 owned bytes with only the
// scan to do (the byte loop issues one instruction stream for the whole
// workgroup's table lookups: every instruction less per byte counts;
// measured on an H200, two more per byte cost 20%).
void scan_owned(uint b, uint pos)
{
  if ((step(b) & VYRE_TRANS_HAS_OUTPUT) != 0u)
    record_event(pos);
}

// Byte j (0..15) of four words.
uint byte_of(uvec4 v, uint j)
{
  return (v[j >> 2] >> ((j & 3u) * 8u)) & 0xFFu;
}

// All lanes: scan / CRC / histogram of the job in s_job.
void run_data_job(uint slot, uint lid, uint wg)
{
  wg_barrier();
  uint op = s_job[VYRE_SLOT_OPCODE];
  uint ops = (s_job[VYRE_ARG_OPS] & VYRE_OPS_ALL) | (op == VYRE_OP_SCAN ? VYRE_OPS_SCAN : 0u) |
             (op == VYRE_OP_CRC32 ? VYRE_OPS_CRC32 : 0u) |
             (op == VYRE_OP_HISTOGRAM ? VYRE_OPS_HISTOGRAM : 0u);
  uint len = s_job[VYRE_ARG_DATA_LEN];
  uint carry_len = s_job[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_LEN_MASK;
  // Carry in the arena (a later job of a split buffer): the carry bytes
  // are the ones right before the data, so logical position p is always
  // at arena byte data_off - carry_len + p and the 16-byte data loop reads
  // them too; otherwise positions below carry_len come from the window.
  bool carry_in_arena = (s_job[VYRE_ARG_CARRY_LEN] & VYRE_CARRY_IN_ARENA) != 0u;
  uint carry_base = s_job[VYRE_ARG_RESULT_INDEX] * s_ten[VYRE_TENANT_MAX_CARRY];
  uint64_t data_off = s_data_off;              // in the job's arena chunk
  uint64_t stream_off = uint64_t(s_job[VYRE_ARG_STREAM_OFF_LO]) | (uint64_t(s_job[VYRE_ARG_STREAM_OFF_HI]) << 32);
  uint result_base = s_record *
                     (VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * s_ten[VYRE_TENANT_MAX_MATCHES]);
  uint max_events = s_ten[VYRE_TENANT_MAX_MATCHES] / VYRE_RESULT_LANES;

  uint nclasses = tab.w[VYRE_TABLE_NCLASSES];
  uint max_len = max(tab.w[VYRE_TABLE_MAX_PATTERN_LEN], 1u);
  uint trans_off = tab.w[VYRE_TABLE_TRANS_OFF];
  uint out_index_off = tab.w[VYRE_TABLE_OUT_INDEX_OFF];

  // Lane `lid` owns end positions [own_begin, own_end) of the logical
  // input (carry + data); it starts the automaton max_len - 1 bytes early
  // so every match ending in its range is seen, and a match is reported
  // by the one lane (and the one buffer) in which it ends.
  uint seg = (len + LOCAL - 1u) / LOCAL;
  uint own_begin = carry_len + min(lid * seg, len);
  uint own_end = carry_len + min((lid + 1u) * seg, len);
  uint begin = (own_begin > max_len - 1u) ? own_begin - (max_len - 1u) : 0u;
  if ((ops & VYRE_OPS_SCAN) == 0u || own_begin == own_end)
    begin = own_begin;

  for (uint i = 0u; i < 256u / LOCAL; i++)
    s_hist[lid + i * LOCAL] = 0u;
  if (lid == 0u) {
    s_matches = 0u;
    s_events = 0u;
    s_stored = 0u;
    s_cut = 0u;
    s_crc = 0u;
    s_rcheck = 0u;
    s_hcheck = 0u;
  }
  wg_barrier();

  g_state = 0u;
  g_crc = 0xFFFFFFFFu;
  g_matches = 0u;
  g_events = 0u;
  g_stored = 0u;
  g_rcheck = 0u;
  g_own_begin = own_begin;
  g_carry_len = carry_len;
  g_stream_off = stream_off;
  g_ops = ops;
  g_result_base = result_base;
  g_max_events = max_events;
  g_trans_off = trans_off;
  g_out_index_off = out_index_off;
  g_nclasses = nclasses;

  // Every loop below has the same trip count in every lane (lanes past
  // their range do nothing): on lavapipe a loop that lanes leave at
  // different iterations, inside the persistent loop, lost lanes for later
  // jobs (measured).  Trip counts also feed the iteration budget.
  //
  // 1. Positions still in the carry window (the previous buffer's tail).
  uint carry_stop = carry_in_arena ? 0u : min(own_end, carry_len);
  for (uint it = 0u; it < max_len; it++) {
    uint pos = begin + it;
    if (pos < carry_stop) {
      uint cb = carry_base + pos;
      scan_one((carry.w[cb >> 2] >> ((cb & 3u) * 8u)) & 0xFFu, pos);
    }
  }
  // 2. The data, ROUND_BYTES per iteration: on GPUs 16 from four
  // independent word loads (coherent loads go to L2: one per byte made a
  // lane latency-bound), in compact code one word.
  uint first = carry_in_arena ? begin : max(begin, carry_len);   // logical position
  uint64_t a_first = (data_off - uint64_t(carry_len)) + uint64_t(first);
  uint64_t a_stop = data_off + uint64_t(max(own_end, carry_len) - carry_len);
  uint64_t a_base = a_first & ~uint64_t(ROUND_BYTES - 1u);
  uint rounds = data_rounds(seg, max_len);
  uint done_rounds = 0u;
  for (uint it = 0u; it < rounds; it++) {
    uint64_t a = a_base + uint64_t(it) * uint64_t(ROUND_BYTES);
    done_rounds++;
    if (a >= a_stop || first >= own_end)
      continue;
    uint wi = uint(a >> 2);
    uvec4 v = uvec4(0u);
    v.x = arena.w[wi];
    if (ROUND_BYTES == 16u) {
      if (a + 4ul < a_stop) v.y = arena.w[wi + 1u];
      if (a + 8ul < a_stop) v.z = arena.w[wi + 2u];
      if (a + 12ul < a_stop) v.w = arena.w[wi + 3u];
    }
    uint pos0 = uint(int64_t(a - data_off)) + carry_len;   // logical position of v's byte 0
    // Most rounds lie wholly inside the lane's owned range.  With only the
    // scan to do they take the bare automaton step, no per-byte range or
    // ops checks: +30% at 1,000 literals on an H200, the byte loop being
    // bound by the instructions it issues per byte (an extra CRC/histogram
    // copy of this path made those jobs slower: not done).
    bool inside = a >= a_first && a + 16ul <= a_stop && pos0 >= own_begin;
    if (SCAN_FAST_PATH && ROUND_BYTES == 16u && inside && ops == VYRE_OPS_SCAN) {
      // (unrolled by hand: lavapipe counts a loop's iterations)
#define OWNED(j) scan_owned(byte_of(v, j), pos0 + j);
      OWNED(0u) OWNED(1u) OWNED(2u) OWNED(3u) OWNED(4u) OWNED(5u) OWNED(6u) OWNED(7u)
      OWNED(8u) OWNED(9u) OWNED(10u) OWNED(11u) OWNED(12u) OWNED(13u) OWNED(14u) OWNED(15u)
    } else {
      [[unroll]] for (uint j = 0u; j < ROUND_BYTES; j++) {
        uint64_t aj = a + uint64_t(j);
        if (aj >= a_first && aj < a_stop)
          scan_one(byte_of(v, j), pos0 + j);
      }
    }
  }
  // A loop the driver stopped early (its loop limiter) leaves the job's
  // results incomplete: they must not be reported as results.
  if (done_rounds != rounds)
    s_cut = 1u;
  uint crc = g_crc;
  atomicAdd(s_matches, g_matches);
  atomicAdd(s_stored, g_stored);
  atomicAdd(s_events, min(g_events, max_events));
  uint lane_events = min(g_events, max_events);
  res.w[result_base + VYRE_RESULT_LANE_EVENTS + lid] = lane_events;
  uint rcheck = g_rcheck + VYRE_CHECK_TERM(VYRE_RESULT_LANE_EVENTS + lid, lane_events);
  bool do_crc = (ops & VYRE_OPS_CRC32) != 0u;
  bool do_hist = (ops & VYRE_OPS_HISTOGRAM) != 0u;
  // CRC-32 of the job from the lanes' partial CRCs: crc(A1..An) is the XOR
  // of each lane's crc(Ai) shifted over the bytes after it (shifting is
  // linear: shift(shift(c, a), b) = shift(c, a + b)).  Every lane shifts its
  // own part at once; no lane waits on another.
  if (do_crc) {
    uint part = crc ^ 0xFFFFFFFFu;
    uint lane_end = min((lid + 1u) * seg, len);
    uint after = len - lane_end;
    if (lane_end > min(lid * seg, len) && after != 0u)
      part = multmodp(x8nmodp(after, tab.w[VYRE_TABLE_CRC_SHIFT_OFF]), part);
    else if (lane_end == min(lid * seg, len))
      part = 0u;            // an empty lane contributes nothing
    atomicXor(s_crc, part);
  }
  wg_barrier();

  atomicAdd(s_rcheck, rcheck);
  if (do_hist) {
    uint hcheck = 0u;
    for (uint i = 0u; i < 256u / LOCAL; i++) {
      uint b = lid + i * LOCAL;
      res.w[result_base + VYRE_RESULT_HIST + b] = s_hist[b];
      hcheck += VYRE_CHECK_TERM(VYRE_RESULT_HIST + b, s_hist[b]);
    }
    atomicAdd(s_hcheck, hcheck);
  }
  // Every lane's result stores must be available at device scope before
  // lane 0 publishes the completion (GPU readers).  The host is not at
  // device scope: its guarantee is the check sum, which it recomputes
  // over the record (ring/result_check.h).
  wg_barrier_publish();
  if (lid == 0u && s_cut != 0u)
    finish_fault(VYRE_FAULT_ITER_LIMIT, false);
  else if (lid == 0u) {
    s_out_matches = s_matches;
    s_out_stored = s_stored;
    s_out_events = s_events;
    s_out_crc = do_crc ? s_crc : 0u;
    s_out_rcheck = s_rcheck;
    s_out_hcheck = s_hcheck;
    finish(VYRE_STATUS_DONE, VYRE_FAULT_NONE, s_counts != 0u);
  }
}

// Lane 0: an ordered fence.  Completes only when every job of its epoch is
// done and the previous epoch closed; otherwise hands the slot back
// (PUBLISHED) for a later claim.  It never waits: workgroups have no
// forward-progress guarantee towards each other.
void run_fence(uint slot, uint wg)
{
  uint e = s_job[VYRE_ARG_EPOCH];
  uint t = s_job[VYRE_SLOT_TENANT];
  uint counter = ten_word(t, VYRE_TENANT_EPOCH_JOBS + (e % VYRE_EPOCH_WINDOW));
  uint n = s_job[VYRE_ARG_FENCE_JOBS];
  bool first = ctrl_load_acq(ten_word(t, VYRE_TENANT_EPOCH)) == e - 1u;
  uint done = ctrl_load_acq(counter);
  s_requeue = 0u;
  if (first && done == n) {
    ctrl_store_rel(counter, 0u);
    // A second fence for one epoch finds EPOCH moved on: it faults.
    uint was = atomicCompSwap(ctrl.w[ten_word(t, VYRE_TENANT_EPOCH)], e - 1u, e, gl_ScopeDevice,
                              gl_StorageSemanticsBuffer, gl_SemanticsRelease,
                              gl_StorageSemanticsBuffer, gl_SemanticsRelaxed);
    if (was == e - 1u) {
      ctrl_store_rel(VYRE_CTRL_LAST_FENCE_TAG, s_job[VYRE_ARG_TAG]);
      ctrl_add(VYRE_CTRL_FENCES_DONE, 1u);
      finish(VYRE_STATUS_DONE, VYRE_FAULT_NONE, false);
    } else {
      finish_fault(VYRE_FAULT_BAD_EPOCH, false);
    }
  } else if (first && done > n) {
    // More jobs finished than the fence names: it could never close.
    finish_fault(VYRE_FAULT_BAD_EPOCH, false);
  } else {
    ring_store_rel(slot * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS, VYRE_STATUS_PUBLISHED);
    ctrl_add(VYRE_CTRL_REQUEUES, 1u);
    s_requeue = 1u;
  }
}

// All lanes: run the claimed slot s_slot.  Returns false when the job
// was handed back because it does not fit the remaining budget.
bool run_slot(uint lid, uint wg, uint budget_left)
{
  uint slot = s_slot;
  // The slot's words, then its tenant's record, one word per lane: a
  // lavapipe cold start compiles 16 loads of one lane for seconds
  // (measured).  The record was written before the tenant's first publish
  // (release), and the slot was claimed with acquire before the barrier
  // that led here: plain loads see both.
  if (lid < VYRE_SLOT_WORDS)
    s_job[lid] = ring_load(slot * VYRE_SLOT_WORDS + lid);
  wg_barrier();
  if (lid < 16u && s_job[VYRE_SLOT_TENANT] < VYRE_MAX_TENANTS)
    s_ten[lid] = ctrl_load(ten_word(s_job[VYRE_SLOT_TENANT], lid));
  wg_barrier();
  if (lid == 0u) {
    {
      uint t = s_job[VYRE_SLOT_TENANT], e = s_job[VYRE_ARG_EPOCH];
      uint now = t < VYRE_MAX_TENANTS ? ctrl_load_acq(ten_word(t, VYRE_TENANT_EPOCH)) : 0u;
      s_counts = (ctrl_load(VYRE_CTRL_PROTOCOL_VERSION) == VYRE_PROTOCOL_VERSION &&
                  t < VYRE_MAX_TENANTS && is_data_op(s_job[VYRE_SLOT_OPCODE]) && e != 0u &&
                  e - now >= 1u && e - now <= VYRE_EPOCH_WINDOW - 1u &&
                  (s_job[VYRE_ARG_OPS] & VYRE_OPS_NO_EPOCH) == 0u) ? 1u : 0u;
    }
    s_fault = validate(slot);
    s_out_status = 0u;
    s_out_matches = 0u;
    s_out_stored = 0u;
    s_out_events = 0u;
    s_out_crc = 0u;
    s_out_rcheck = 0u;
    s_out_hcheck = 0u;
    s_requeue = 0u;
    s_cut = 0u;
    s_reload_class = 0u;
    uint op = s_job[VYRE_SLOT_OPCODE];
    if (s_fault == VYRE_FAULT_NONE && is_data_op(op)) {
      bind_tenant();
      if (ten_addr(VYRE_TENANT_TABLES_LO) != s_class_tables ||
          s_ten[VYRE_TENANT_TABLES_SERIAL] != s_class_serial)
        s_reload_class = 1u;
      uint cost = job_cost(s_job[VYRE_ARG_DATA_LEN], max(tab.w[VYRE_TABLE_MAX_PATTERN_LEN], 1u));
      uint full = ctrl_load(VYRE_CTRL_ITER_BUDGET);
      if (full != 0u && cost + 64u > full)
        s_fault = VYRE_FAULT_BAD_RANGE;          // can never fit: reject, do not livelock
      else if (full != 0u && cost > budget_left)
        s_requeue = 2u;                          // fits a fresh launch: hand back, retire
    }
    if (s_requeue == 2u)
      ring_store_rel(slot * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS, VYRE_STATUS_PUBLISHED);
  }
  wg_barrier();
  if (s_requeue == 2u)
    return false;           // uniform: every lane returns here, no barrier skipped
  uint op = s_job[VYRE_SLOT_OPCODE];
  if (s_fault != VYRE_FAULT_NONE) {
    // A rejected data job is finished too: its epoch must still close.
    if (lid == 0u)
      finish_fault(s_fault, s_counts != 0u);
  } else if (is_data_op(op)) {
    bind_tenant();
    if (s_reload_class != 0u) {        // other tables than the last job's
      for (uint i = 0u; i < 256u / LOCAL; i++)
        s_class[lid + i * LOCAL] = tab.w[tab.w[VYRE_TABLE_CLASS_MAP_OFF] + lid + i * LOCAL];
      if (lid == 0u) {                 // read by lane 0 only
        s_class_tables = ten_addr(VYRE_TENANT_TABLES_LO);
        s_class_serial = s_ten[VYRE_TENANT_TABLES_SERIAL];
      }
    }
    run_data_job(slot, lid, wg);
  } else if (lid == 0u) {
    if (op == VYRE_OP_BATCH_FENCE) {
      run_fence(slot, wg);
    } else {
      if (op == VYRE_OP_SHUTDOWN)
        ctrl_store_rel(VYRE_CTRL_SHUTDOWN, 1u);
      finish(VYRE_STATUS_DONE, VYRE_FAULT_NONE, false);
    }
  }
  if (lid == 0u && s_out_status != 0u)
    complete(slot, wg);
  wg_barrier();
  return true;
}

void init_crc_table(uint lid)
{
  for (uint i = 0u; i < 256u / LOCAL; i++) {
    uint c = lid + i * LOCAL;
#define CRC_BIT c = (c & 1u) != 0u ? (c >> 1) ^ POLY : c >> 1;
    CRC_BIT CRC_BIT CRC_BIT CRC_BIT CRC_BIT CRC_BIT CRC_BIT CRC_BIT
    s_crctab[lid + i * LOCAL] = c;
  }
  if (lid == 0u)
    s_class_tables = 0ul;      // no class map loaded yet
}

void main()
{
  uint lid = gl_LocalInvocationID.x;
  uint wg = gl_WorkGroupID.x;
  init_crc_table(lid);
  wg_barrier();

  // Mode 1 runs pc.slot once through the same loop as the persistent
  // mode, so that run_slot is inlined at one call site: a second copy
  // of it tripled lavapipe's compile time on a cold shader cache (8 s
  // against 2.2 s, measured; docs/reliability.md).
  bool single = pc.mode == 1u;
  uint nslots = ctrl_load(VYRE_CTRL_NSLOTS);
  uint iter_budget = single ? 0u : ctrl_load(VYRE_CTRL_ITER_BUDGET);
  uint poll_budget = ctrl_load(VYRE_CTRL_POLL_BUDGET);
  // One poll round: the loop itself, its four barriers (on lavapipe each
  // barrier costs one loop iteration, measured) and the slot scan.
  uint poll_rows = (nslots + LOCAL - 1u) / LOCAL;   // uniform trip count
  uint poll_cost = 5u + poll_rows;
  uint iters = 16u;    // the set-up above (CRC table: 4 iterations)
  uint idle = 0u;
  uint start = (wg * 7u) % max(nslots, 1u);
  bool retired = false;
  if (lid == 0u && !single) {
    ctrl_add(VYRE_CTRL_ACTIVE, 1u);
    ctrl_add(VYRE_CTRL_STARTED, 1u);
  }

  for (;;) {
    if (single) {
      if (lid == 0u) {
        s_slot = pc.slot;
        s_cmd = ring_claim(pc.slot * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS) == VYRE_STATUS_PUBLISHED
                ? CMD_RUN : CMD_IDLE;
      }
      wg_barrier();
    } else {
      iters += poll_cost;
      if (lid == 0u) {
        s_pick = 0u;
        s_cmd = ctrl_load_acq(VYRE_CTRL_SHUTDOWN) != 0u ? CMD_EXIT : CMD_IDLE;
        if (wg == 0u)
          ctrl_add(VYRE_CTRL_HEARTBEAT, 1u);
      }
      wg_barrier();
      if (s_cmd == CMD_EXIT)
        break;
      if ((iter_budget != 0u && iters + poll_cost >= iter_budget) ||
          (poll_budget != 0u && idle >= poll_budget)) {
        retired = true;
        break;
      }

      // Look at every slot (lane k at slot start + k, + 64, ...): pick the
      // highest priority PUBLISHED slot, the nearest one on ties.
      for (uint j = 0u; j < poll_rows; j++) {
        uint k = lid + j * LOCAL;
        if (k >= nslots)
          continue;
        uint s = (start + k) % nslots;
        if (ring_load(s * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS) == VYRE_STATUS_PUBLISHED) {
          uint prio = min(ring_load(s * VYRE_SLOT_WORDS + VYRE_SLOT_PRIORITY), 0x7FFEu) + 1u;
          atomicMax(s_pick, (prio << 16) | (0xFFFFu - min(k, 0xFFFFu)));
        }
      }
      wg_barrier();
      if (lid == 0u && s_pick != 0u) {
        uint s = (start + (0xFFFFu - (s_pick & 0xFFFFu))) % nslots;
        if (ring_claim(s * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS) == VYRE_STATUS_PUBLISHED) {
          // HOLD is read after the claim's acquire, so a HOLD the host set
          // before it published this slot is seen; read before the claim,
          // nothing would order it after the host's store.  The hand-back is
          // counted like a fence's (docs/reliability.md, "a kernel that stops
          // making progress", has the H100 runs of this check).
          if (ctrl_load_acq(VYRE_CTRL_HOLD) != 0u) {
            ring_store_rel(s * VYRE_SLOT_WORDS + VYRE_SLOT_STATUS, VYRE_STATUS_PUBLISHED);
            ctrl_add(VYRE_CTRL_REQUEUES, 1u);
          } else {
            s_slot = s;
            s_cmd = CMD_RUN;
          }
        }
      }
      wg_barrier();
    }
    if (s_cmd == CMD_RUN) {
      idle = 0u;
      uint left = iter_budget != 0u ? iter_budget - iters : 0xFFFFFFFFu;
      if (!run_slot(lid, wg, left) || s_cut != 0u) {
        retired = true;     // budget exhausted, or the driver already cut a loop
        break;
      }
      if (is_data_op(s_job[VYRE_SLOT_OPCODE]) && s_fault == VYRE_FAULT_NONE)
        iters += job_cost(s_job[VYRE_ARG_DATA_LEN], max(tab.w[VYRE_TABLE_MAX_PATTERN_LEN], 1u));
      else
        iters += VYRE_SLOT_WORDS + 4u;     // its reads and barriers
      if (s_requeue == 1u)
        idle++;            // an unready fence is not progress
      start = (s_slot + 1u) % nslots;
    } else {
      idle++;
    }
    if (single)
      return;              // one slot, claimed or not: no counters
    wg_barrier();          // everyone read s_cmd / s_slot before lane 0 rewrites them
  }
  if (lid == 0u && !single) {
    if (retired)
      ctrl_add(VYRE_CTRL_RETIRED, 1u);
    ctrl_add(VYRE_CTRL_EXITED, 1u);
    atomicAdd(ctrl.w[VYRE_CTRL_ACTIVE], 0xFFFFFFFFu, gl_ScopeDevice, gl_StorageSemanticsBuffer,
              gl_SemanticsRelease);
  }
}
