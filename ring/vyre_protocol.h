/*
 * vyre_protocol.h - the one definition of the host <-> megakernel wire format.
 *
 * This header is included by the C host code AND by every GLSL shader
 * (glslc -I ring/).  It may therefore only contain what both languages
 * accept: #defines of unsigned literals ("3u"), arithmetic macros on uint
 * operands (VYRE_CHECK_TERM, VYRE_CHECK_EVENT) and comments.
 * C-only material (structs, encode/decode, static asserts) lives in
 * vyre_slot.h.
 *
 * All regions are arrays of little-endian 32-bit words.  Indices below are
 * WORD indices inside their region, never byte offsets.
 *
 * Regions (each may be its own buffer / mapping, see docs/protocol.md):
 *   ring        nslots x VYRE_SLOT_WORDS      host writes, kernel claims
 *   control     VYRE_CONTROL_WORDS            kernel atomics, host knobs
 *   completions nslots x VYRE_COMPLETION_WORDS kernel writes, host reads
 *
 * Change any value here and both sides change together; the test
 * tests/ring/test_protocol_agreement.c reads the values back out of the
 * compiled SPIR-V and fails if the shader saw anything else.
 */
#ifndef VYRE_PROTOCOL_H
#define VYRE_PROTOCOL_H

/* Bumped on any incompatible layout change; the host writes it into
 * control[VYRE_CTRL_PROTOCOL_VERSION] and the kernel refuses to run jobs
 * when it does not match the value it was compiled with. */
#define VYRE_PROTOCOL_VERSION 6u

/* ------------------------------------------------------------------ */
/* Ring slot: 16 words = 64 bytes (one cache line).                    */
#define VYRE_SLOT_WORDS 16u
#define VYRE_SLOT_BYTES 64u

#define VYRE_SLOT_STATUS 0u   /* state machine word, the CAS target      */
#define VYRE_SLOT_OPCODE 1u
#define VYRE_SLOT_TENANT 2u
#define VYRE_SLOT_PRIORITY 3u
#define VYRE_SLOT_ARG0 4u     /* twelve argument words: ARG0..ARG11      */
#define VYRE_SLOT_ARG_COUNT 12u

/* Argument words of a data job (SCAN / CRC32 / HISTOGRAM). 64-bit values
 * are split LO/HI so files and arenas over 4 GiB work. */
#define VYRE_ARG_SEQ_LO 4u        /* host job sequence, echoed on completion */
#define VYRE_ARG_SEQ_HI 5u
#define VYRE_ARG_DATA_OFF_LO 6u   /* byte offset of the data in the arena    */
#define VYRE_ARG_DATA_OFF_HI 7u
#define VYRE_ARG_DATA_LEN 8u      /* bytes to process (one buffer < 4 GiB)   */
#define VYRE_ARG_STREAM_OFF_LO 9u /* stream offset of the data's first byte  */
#define VYRE_ARG_STREAM_OFF_HI 10u
#define VYRE_ARG_CARRY_LEN 11u    /* bytes of the previous buffer's tail in
                                     the carry window of RESULT_INDEX
                                     (straddling matches); 0 at stream start.
                                     With VYRE_CARRY_IN_ARENA set, the carry
                                     bytes are instead the ones right before
                                     DATA_OFF in the arena: a large buffer
                                     split into several jobs (one per
                                     workgroup) needs no copy of its own
                                     bytes for the jobs after the first */
#define VYRE_ARG_OPS 12u          /* VYRE_OPS_* mask: work fused in one slot */
#define VYRE_ARG_EPOCH 13u        /* epoch (1-based) this job belongs to     */
#define VYRE_ARG_RESULT_INDEX 14u /* job context: result record and carry
                                     window (chosen by the host, < RESULT_COUNT) */
#define VYRE_ARG_TAG 15u          /* caller cookie, echoed; fence tag        */

/* Flag bit of word VYRE_ARG_CARRY_LEN; the length is the low bits. */
#define VYRE_CARRY_IN_ARENA 0x80000000u
#define VYRE_CARRY_LEN_MASK 0x7FFFFFFFu

/* A BATCH_FENCE uses SEQ, EPOCH (the epoch it closes), TAG, RESULT_INDEX,
 * and this word: how many data jobs were published in that epoch. */
#define VYRE_ARG_FENCE_JOBS 8u

/* Slot status values (word VYRE_SLOT_STATUS). */
#define VYRE_STATUS_EMPTY 0u      /* never used since init                   */
#define VYRE_STATUS_PUBLISHED 1u  /* host wrote payload, then this (release) */
#define VYRE_STATUS_CLAIMED 2u    /* a workgroup won the CAS                 */
#define VYRE_STATUS_DONE 3u       /* finished; completion entry is valid     */
#define VYRE_STATUS_WAIT_IO 4u    /* reserved: waits on an IO queue entry    */
#define VYRE_STATUS_YIELD 5u      /* reserved: cooperative yield             */
#define VYRE_STATUS_REQUEUE 6u    /* reserved: handed back for a later claim */
#define VYRE_STATUS_FAULT 7u      /* rejected; completion entry says why     */

/* Opcodes (word VYRE_SLOT_OPCODE). */
#define VYRE_OP_NOP 0u
#define VYRE_OP_SCAN 1u        /* multi-literal Aho-Corasick               */
#define VYRE_OP_CRC32 2u       /* zlib CRC-32 of the data                  */
#define VYRE_OP_HISTOGRAM 3u   /* 256 byte counts                          */
#define VYRE_OP_BATCH_FENCE 4u /* ordered: epoch advances after its jobs   */
#define VYRE_OP_COUNT 5u       /* opcodes below this are valid             */
#define VYRE_OP_SHUTDOWN 0xFFFFFFFFu /* kernel retires (tenant 0 only)     */

/* VYRE_ARG_OPS bits: one slot per buffer may run several data ops. */
#define VYRE_OPS_SCAN 1u
#define VYRE_OPS_CRC32 2u
#define VYRE_OPS_HISTOGRAM 4u
#define VYRE_OPS_ALL 7u
/* Flag bit of VYRE_ARG_OPS: the job re-scans part of a job already
 * counted in its epoch (the host splits a job whose match events did not
 * fit its result record and scans the pieces again): it does not count
 * towards the epoch, so the fence closing it is not fooled. */
#define VYRE_OPS_NO_EPOCH 8u
#define VYRE_OPS_VALID 15u        /* every bit a slot may carry in ARG_OPS */

/* Tenants: ids are bounds-checked on both sides (vyre does not).  Each
 * tenant has its own record in the control block (VYRE_CTRL_TENANTS):
 * permitted opcodes, its epochs, and the device addresses of its memory
 * (tables, arena, result records, carry windows).  Tenant 0 belongs to
 * whoever owns the ring (the engine: warm-up and shutdown jobs); the
 * other ids are handed to producers. */
#define VYRE_MAX_TENANTS 128u

/* ------------------------------------------------------------------ */
/* Control block: 256 global words, then one record of VYRE_TENANT_WORDS
 * per tenant.  Written by the host (knobs, tenant records) or only by the
 * kernel with atomics (counters).  The host reads the kernel-written words
 * rarely: on NVIDIA they live in device memory behind the BAR, where each
 * host read costs about a microsecond. */
#define VYRE_CTRL_GLOBAL_WORDS 256u
#define VYRE_CONTROL_WORDS (VYRE_CTRL_GLOBAL_WORDS + VYRE_MAX_TENANTS * VYRE_TENANT_WORDS)

/* host -> kernel: knobs written before launch (SHUTDOWN and PUBLISH_HINT
 * also while running) */
#define VYRE_CTRL_SHUTDOWN 0u         /* non-zero: retire at a safe point   */
#define VYRE_CTRL_PROTOCOL_VERSION 1u /* must equal VYRE_PROTOCOL_VERSION    */
#define VYRE_CTRL_NSLOTS 2u           /* slots in the ring                  */
#define VYRE_CTRL_POLL_BUDGET 3u      /* idle polls before a workgroup retires
                                         (0 = never retire when idle)       */
#define VYRE_CTRL_ITER_BUDGET 4u      /* loop iterations one invocation may
                                         spend before it retires at a safe
                                         point (lavapipe kills loops after
                                         65,535); 0 = unlimited             */
#define VYRE_CTRL_PUBLISH_HINT 10u    /* host bumps after publishing        */
#define VYRE_CTRL_LAUNCH_ID 11u       /* host numbers each kernel launch    */
#define VYRE_CTRL_HOLD 12u            /* non-zero: claim no job (a fault
                                         injected by tests: a kernel that
                                         stops making progress)             */

/* kernel -> host (atomics) */
#define VYRE_CTRL_DONE_COUNT 16u /* slots completed (DONE or FAULT)         */
#define VYRE_CTRL_FENCES_DONE 17u /* batch fences completed, all tenants    */
#define VYRE_CTRL_ACTIVE 18u     /* workgroups currently inside the loop    */
#define VYRE_CTRL_STARTED 19u    /* workgroup starts, all launches          */
#define VYRE_CTRL_RETIRED 20u    /* workgroup exits on a budget, all launches */
#define VYRE_CTRL_FAULTS 21u     /* slots completed as FAULT                */
#define VYRE_CTRL_HEARTBEAT 22u  /* bumped by workgroup 0 every poll round  */
#define VYRE_CTRL_REQUEUES 23u   /* slots handed back: fences not ready, jobs
                                    claimed while HOLD is set              */
#define VYRE_CTRL_EXITED 24u     /* workgroup exits for any reason          */

/* Per-opcode execution counters: word VYRE_CTRL_OPCODE_COUNTERS + op. */
#define VYRE_CTRL_OPCODE_COUNTERS 48u
#define VYRE_CTRL_OPCODE_COUNTER_SLOTS 32u

/* Observable results (last fault, last fence). */
#define VYRE_CTRL_LAST_FENCE_TAG 144u
#define VYRE_CTRL_LAST_FAULT_SLOT 145u
#define VYRE_CTRL_LAST_FAULT_CODE 146u
#define VYRE_CTRL_LAST_FAULT_OPCODE 147u
#define VYRE_CTRL_LAST_FAULT_TENANT 148u

/* Tenant records: tenant t's record starts at word VYRE_CTRL_TENANTS +
 * t * VYRE_TENANT_WORDS.  The host writes a record (vyre_host_ring_set_tenant)
 * only while none of the tenant's jobs is in flight, and publishes the
 * tenant's first job after it (release): a running kernel reads the record
 * for every job it claims, so tenants come and go without a relaunch.
 * Addresses are Vulkan buffer device addresses (64-bit, LO/HI).
 *
 * Memory that grows: a tenant's data arena and its result records are
 * tables of chunks, each chunk its own buffer, allocated by the host when
 * the first job that needs it is prepared (not at registration), so a
 * tenant holds what it has had in flight, not the worst case.  A job's
 * DATA_OFF is an offset in the tenant's arena as if its chunks lay end to
 * end: chunk DATA_OFF / ARENA_CHUNK_BYTES, and the job (with carry in the
 * arena before it) lies inside that one chunk.  Its RESULT_INDEX is record
 * RESULT_INDEX % RESULT_CHUNK_RECORDS of result chunk RESULT_INDEX /
 * RESULT_CHUNK_RECORDS.  The host writes a chunk's table entry before it
 * publishes the first job using the chunk (the publish is the release);
 * an entry never changes while the tenant is registered, so a running
 * kernel reaches new memory without a relaunch and without a descriptor
 * update.  An entry of 0 (not allocated) faults the job. */
#define VYRE_CTRL_TENANTS VYRE_CTRL_GLOBAL_WORDS
#define VYRE_TENANT_WORDS 208u
#define VYRE_TENANT_OPS_MASK 0u       /* permitted opcodes (bit op); 0 = no tenant */
#define VYRE_TENANT_EPOCH 1u          /* kernel: the tenant's last closed epoch */
#define VYRE_TENANT_TABLES_LO 2u      /* VYRT scan tables (read only)          */
#define VYRE_TENANT_TABLES_HI 3u
#define VYRE_TENANT_ARENA_CHUNK_BYTES_LO 4u /* bytes per arena chunk         */
#define VYRE_TENANT_ARENA_CHUNK_BYTES_HI 5u
#define VYRE_TENANT_ARENA_CHUNKS 6u   /* arena chunk table entries in use      */
#define VYRE_TENANT_RESULT_CHUNK_RECORDS 7u /* result records per chunk       */
#define VYRE_TENANT_RESULT_CHUNKS 8u  /* result chunk table entries in use     */
#define VYRE_TENANT_RESERVED_9 9u
#define VYRE_TENANT_RESULT_COUNT 10u  /* job contexts (result records)         */
#define VYRE_TENANT_MAX_MATCHES 11u   /* match entries per result record       */
#define VYRE_TENANT_CARRY_LO 12u      /* carry windows, one per job context    */
#define VYRE_TENANT_CARRY_HI 13u
#define VYRE_TENANT_MAX_CARRY 14u     /* carry window bytes per job context    */
/* A number the host makes new at every write of the record: a
 * workgroup keeps the class map of the last tables it scanned with, keyed
 * by the tables' address and this serial (a freed tables buffer's address
 * comes back for another tenant's tables). */
#define VYRE_TENANT_TABLES_SERIAL 15u
/* Ordered fences, per tenant: completed-job counters for a window of open
 * epochs.  A job of epoch e adds one to record word VYRE_TENANT_EPOCH_JOBS
 * + (e % WINDOW); the tenant's fence closing e waits (by re-queueing,
 * never by spinning) until that counter equals its FENCE_JOBS and the
 * tenant's EPOCH == e - 1, then resets the counter and sets EPOCH = e.
 * The host never has more than WINDOW - 1 of a tenant's epochs open, so
 * counters are never shared by two live epochs. */
#define VYRE_TENANT_EPOCH_JOBS 16u
#define VYRE_EPOCH_WINDOW 64u
/* Chunk tables: entry i of the arena's at words ARENA_CHUNK_TABLE + 2i
 * (LO) and + 2i + 1 (HI), the result records' likewise. */
#define VYRE_TENANT_CHUNKS_MAX 32u
#define VYRE_TENANT_ARENA_CHUNK_TABLE 80u
#define VYRE_TENANT_RESULT_CHUNK_TABLE 144u

/* ------------------------------------------------------------------ */
/* Result record: one per in-flight data job (VYRE_ARG_RESULT_INDEX),
 * written only by the kernel, in host-readable memory.  Stride:
 * VYRE_RESULT_HEADER_WORDS + VYRE_MATCH_WORDS * the tenant's MAX_MATCHES words;
 * MAX_MATCHES bounds the stored match events.  COMP_MATCHES counts every
 * match found, COMP_MATCHES_STORED those covered by stored events.  When
 * they differ some lane ran out of records: the host scans that job again
 * in pieces small enough that every event fits (VYRE_OPS_NO_EPOCH), so no
 * match is lost whatever the density; see docs/protocol.md, "Every
 * match". */
#define VYRE_RESULT_HIST 0u           /* 256 byte counts                   */
#define VYRE_RESULT_LANES 256u        /* most lanes a workgroup may have    */
#define VYRE_RESULT_LANE_EVENTS 256u  /* per lane: match events it stored  */
#define VYRE_RESULT_HEADER_WORDS 512u
/* Match events: the kernel stores one event per end position that ends
 * at least one pattern (not one per pattern: dense inputs would multiply
 * the stores); the host expands an event into the patterns of
 * out_list[state] (see "Scan tables"), start = end - pattern_len + 1.
 * Each lane owns MAX_MATCHES / VYRE_RESULT_LANES event records, so storing
 * needs no shared counter; lane l's count is word VYRE_RESULT_LANE_EVENTS
 * + l.  Interleaved: lane l's event i is record i * VYRE_RESULT_LANES + l,
 * so the first events of all lanes share cache lines (a job has a few
 * events per lane: with one block of records per lane the host touched a
 * cache line per event).  MAX_MATCHES is a multiple of VYRE_RESULT_LANES.
 * A kernel with fewer lanes (64 on CPU devices) leaves the higher lanes'
 * counts at 0. */
#define VYRE_MATCH_WORDS 4u
#define VYRE_MATCH_STATE 0u           /* automaton state after the byte     */
#define VYRE_MATCH_END_LO 1u          /* absolute stream offset of the last
                                         byte of the match(es)              */
#define VYRE_MATCH_END_HI 2u
#define VYRE_MATCH_COUNT 3u           /* patterns ending there              */

/* ------------------------------------------------------------------ */
/* Completion entry: one per slot, 16 words, written only by the kernel.
 * On NVIDIA it lives in HOST_CACHED system memory so the host polls its
 * own cache instead of the BAR.  The kernel writes every other word,
 * then STATUS=DONE/FAULT in the ring slot, then SEQ_LO here (release):
 * SEQ_LO matching the published sequence is the completion signal.
 *
 * The signal is necessary, not sufficient: Vulkan's largest scope is the
 * device, and a device-scope release orders a kernel's writes for other
 * GPU threads only.  Writes to system memory from different lanes reach
 * the host in any order (measured on an H200: a completion whose result
 * record still lacked hundreds of events, 2 runs in 16).  So the kernel
 * also writes check words, sums of VYRE_CHECK_TERM over what it wrote, and
 * the host accepts an entry, then the parts of its result record it uses,
 * only once its own sum over the words it read agrees (docs/protocol.md,
 * "Torn results"). */
#define VYRE_COMPLETION_WORDS 16u
#define VYRE_COMP_SEQ_LO 0u      /* written last                            */
#define VYRE_COMP_SEQ_HI 1u
#define VYRE_COMP_STATUS 2u      /* VYRE_STATUS_DONE or VYRE_STATUS_FAULT   */
#define VYRE_COMP_FAULT_CODE 3u  /* VYRE_FAULT_*                            */
#define VYRE_COMP_OPCODE 4u
#define VYRE_COMP_MATCHES 5u     /* matches found (including dropped)       */
#define VYRE_COMP_MATCHES_STORED 6u
#define VYRE_COMP_CRC32 7u
#define VYRE_COMP_EPOCH 8u       /* job: its epoch; fence: the closed epoch */
#define VYRE_COMP_WORKGROUP 9u   /* which workgroup ran it (work stealing)  */
#define VYRE_COMP_LAUNCH 10u     /* which kernel launch ran it              */
#define VYRE_COMP_TAG 11u
#define VYRE_COMP_EVENTS 12u     /* match events stored in the result record */
#define VYRE_COMP_CHECK 13u      /* sum of TERM(i, word i), i != 13, SEQ_LO too */
#define VYRE_COMP_RESULT_CHECK 14u /* the record's events: sum of TERM over
                                      the 256 lane counts and, per stored
                                      event, TERM(its first word's index,
                                      VYRE_CHECK_EVENT(its four words));
                                      0 when the job stored no events   */
#define VYRE_COMP_HIST_CHECK 15u /* the record's histogram: sum of TERM over
                                    its 256 words; 0 without OPS_HISTOGRAM */

/* One word's share of a check sum: a bijection of the word for each index
 * (a single changed word always changes the sum), 0 for a zero word (words
 * nobody writes, such as the counts of lanes a CPU device lacks, cost
 * nothing), wrapping uint arithmetic in C and GLSL alike.  An event's four
 * words are folded into one first (each fold a bijection of its word:
 * one changed word still changes the sum), so the host, which reads them
 * anyway, spends a few operations per event on the check. */
#define VYRE_CHECK_TERM(i, w) \
  (((w) * (((i) * 0x9E3779B1u) | 1u)) ^ (((w) * (((i) * 0x9E3779B1u) | 1u)) >> 16u))
#define VYRE_CHECK_EVENT(state, end_lo, end_hi, count) \
  ((state) ^ ((end_lo) * 0x85EBCA77u) ^ ((end_hi) * 0xC2B2AE3Du) ^ \
   (((count) << 16u) | ((count) >> 16u)))

/* Fault codes (completion word VYRE_COMP_FAULT_CODE). */
#define VYRE_FAULT_NONE 0u
#define VYRE_FAULT_BAD_OPCODE 1u
#define VYRE_FAULT_BAD_TENANT 2u      /* tenant id >= VYRE_MAX_TENANTS      */
#define VYRE_FAULT_TENANT_DENIED 3u   /* opcode not in the tenant's mask    */
#define VYRE_FAULT_BAD_RANGE 4u       /* data outside the arena             */
#define VYRE_FAULT_BAD_RESULT 5u      /* result index out of range          */
#define VYRE_FAULT_BAD_EPOCH 6u       /* fence for an epoch outside window  */
#define VYRE_FAULT_BAD_VERSION 7u     /* protocol version mismatch          */
#define VYRE_FAULT_IO_ERROR 8u        /* the read feeding this job failed   */
#define VYRE_FAULT_ITER_LIMIT 9u      /* the driver cut a loop short (lavapipe
                                         stops loops after 65,535 iterations):
                                         results incomplete; the host lowers
                                         ITER_BUDGET and publishes it again.
                                         Does not count towards its epoch. */
#define VYRE_FAULT_CODE_COUNT 10u

/* ------------------------------------------------------------------ */
/* Scan tables: one read-only buffer per pattern set, uploaded once.
 * A header of VYRE_TABLE_HEADER_WORDS words, then sections at the word
 * offsets the header gives.  The automaton is Aho-Corasick compiled to a
 * DFA over byte classes:
 *   class_map[256]          byte -> class (ignore-case folds A-Z to a-z)
 *   trans[state*nclasses+c] next state | VYRE_TRANS_HAS_OUTPUT if that
 *                           state ends at least one pattern
 *   out_index[nstates+1]    CSR offsets into out_list for each state
 *   out_list[]              pattern ids ending in the state (dictionary
 *                           suffix outputs merged in)
 *   pattern_len[npatterns]  bytes of each pattern
 *   crc_shift[32]           x^(8 * 2^k) mod P (zlib polynomial), k=0..31:
 *                           lets lanes combine partial CRC-32s
 * State 0 is the root.  All offsets are in words from the table start. */
#define VYRE_TABLE_MAGIC 0x56595254u      /* "VYRT" */
#define VYRE_TABLE_HEADER_WORDS 16u
#define VYRE_TABLE_MAGIC_WORD 0u
#define VYRE_TABLE_NSTATES 1u
#define VYRE_TABLE_NCLASSES 2u
#define VYRE_TABLE_NPATTERNS 3u
#define VYRE_TABLE_MAX_PATTERN_LEN 4u
#define VYRE_TABLE_CLASS_MAP_OFF 5u
#define VYRE_TABLE_TRANS_OFF 6u
#define VYRE_TABLE_OUT_INDEX_OFF 7u
#define VYRE_TABLE_OUT_LIST_OFF 8u
#define VYRE_TABLE_PATTERN_LEN_OFF 9u
#define VYRE_TABLE_CRC_SHIFT_OFF 10u
#define VYRE_TABLE_TOTAL_WORDS 11u
#define VYRE_TABLE_FLAGS 12u
#define VYRE_TABLE_FLAG_IGNORE_CASE 1u
#define VYRE_TRANS_HAS_OUTPUT 0x80000000u
#define VYRE_TRANS_STATE_MASK 0x7FFFFFFFu

/* ------------------------------------------------------------------ */
/* IO queue: 8-word entries.  READ/WRITE/FENCE requests, OK/ERROR
 * outcomes.  ERROR is terminal and must be handled by every consumer.
 * Not used by the plugin yet (tests/ring/io_queue.h implements it). */
#define VYRE_IO_SLOT_WORDS 8u
#define VYRE_IO_OP 0u
#define VYRE_IO_SRC 1u          /* source handle (file id)                  */
#define VYRE_IO_DST 2u          /* destination handle (arena window)       */
#define VYRE_IO_OFF_LO 3u       /* file offset                             */
#define VYRE_IO_OFF_HI 4u
#define VYRE_IO_BYTES 5u        /* requested bytes; result: bytes done     */
#define VYRE_IO_STATUS 6u
#define VYRE_IO_TAG 7u          /* caller cookie, or errno on ERROR        */

#define VYRE_IO_OP_READ 1u
#define VYRE_IO_OP_WRITE 2u
#define VYRE_IO_OP_FENCE 3u

/* IO status: EMPTY/PUBLISHED/CLAIMED shared with slots, then outcomes. */
#define VYRE_IO_STATUS_OK 0x10u
#define VYRE_IO_STATUS_ERROR 0x11u

#endif /* VYRE_PROTOCOL_H */
