/* gst-vyre
 *
 * fuzz_completion.c - the host's reading of completion entries
 * (vyre_host_ring_poll, vyre_completion_words_check,
 * vyre_completion_decode) on arbitrary words, as a faulty or hostile
 * consumer could leave them.
 *
 * Input: byte 0 picks the job (bit 0: a BATCH_FENCE, else a SCAN) and
 * which words the harness makes right so deeper paths are reached (bit 1:
 * SEQ_LO/SEQ_HI are the ticket's sequence; bit 2: CHECK is the sum of
 * the other words); bytes 1-8 the ring's first sequence number; then the
 * 16 completion words (little-endian, missing bytes 0).  A fresh ring of
 * four slots on static memory per input.
 *
 * Checked beyond "no crash, no UB": poll answers only OK, NOT_READY,
 * FAULT or MALFORMED with a NUL-terminated message; OK and FAULT fill the
 * completion with the ticket's sequence and a matching status; a FAULT
 * or MALFORMED message says how to fix it; the slot can be recycled
 * exactly when poll saw the job complete, and a recycled ticket is not
 * outstanding any more.
 */
#include <inttypes.h>
#include <string.h>

#include "fuzz_target.h"
#include "host_ring.h"

#define NSLOTS 4u

static uint32_t slot_mem[NSLOTS * VYRE_SLOT_WORDS];
static uint32_t control_mem[VYRE_CONTROL_WORDS];
static uint32_t completion_mem[NSLOTS * VYRE_COMPLETION_WORDS];

static void
check_message (const vyre_error * err, const char *what)
{
  FUZZ_CHECK (memchr (err->message, '\0', sizeof err->message) != NULL,
      "%s: message not NUL-terminated", what);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 1)
    return 0;
  const uint8_t flags = data[0];
  uint8_t bytes[8 + VYRE_COMPLETION_WORDS * 4] = { 0 };
  memcpy (bytes, data + 1, size - 1 < sizeof bytes ? size - 1 : sizeof bytes);
  uint64_t first_seq;
  memcpy (&first_seq, bytes, 8);
  vyre_completion_words words;
  memcpy (words.w, bytes + 8, sizeof words.w);

  /* The decoders on the raw words, as they came. */
  vyre_completion raw;
  vyre_error err;
  /* Filled with a non-NUL byte so a failing call that leaves the message
   * unwritten is caught by check_message, not read as uninitialised. */
  memset (&err, 'x', sizeof err);
  vyre_status st = vyre_completion_decode (&words, &raw, &err);
  FUZZ_CHECK (st == VYRE_OK || st == VYRE_ERR_MALFORMED, "decode gave %d",
      st);
  if (st != VYRE_OK)
    check_message (&err, "vyre_completion_decode");
  FUZZ_CHECK (vyre_fault_name (words.w[VYRE_COMP_FAULT_CODE]) != NULL
      && vyre_fault_fix (words.w[VYRE_COMP_FAULT_CODE]) != NULL,
      "no name or fix for fault code %u", words.w[VYRE_COMP_FAULT_CODE]);
  (void) vyre_status_word_is_known (words.w[VYRE_COMP_STATUS]);

  vyre_ring_memory mem = {
    .slots = slot_mem, .control = control_mem,
    .completions = completion_mem, .nslots = NSLOTS,
  };
  vyre_host_ring *ring = NULL;
  FUZZ_CHECK (vyre_host_ring_new (&mem, first_seq, &ring, &err) == VYRE_OK,
      "vyre_host_ring_new: %s", err.message);
  vyre_ring_config cfg;
  vyre_ring_config_init (&cfg);
  FUZZ_CHECK (vyre_host_ring_init_control (ring, &cfg, &err) == VYRE_OK,
      "init_control: %s", err.message);

  vyre_job job = {
    .opcode = (flags & 1) ? VYRE_OP_BATCH_FENCE : VYRE_OP_SCAN,
    .epoch = 1, .data_len = (flags & 1) ? 0 : 64, .ops = VYRE_OPS_SCAN,
  };
  vyre_ticket ticket;
  FUZZ_CHECK (vyre_host_ring_publish (ring, &job, &ticket, &err) == VYRE_OK,
      "publish: %s", err.message);

  if (flags & 2) {
    words.w[VYRE_COMP_SEQ_LO] = (uint32_t) ticket.seq;
    words.w[VYRE_COMP_SEQ_HI] = (uint32_t) (ticket.seq >> 32);
  }
  if (flags & 4)
    words.w[VYRE_COMP_CHECK] = vyre_completion_words_check (&words);
  memcpy (completion_mem + ticket.slot * VYRE_COMPLETION_WORDS, words.w,
      sizeof words.w);

  vyre_completion c;
  memset (&c, 0, sizeof c);
  memset (&err, 'x', sizeof err);
  st = vyre_host_ring_poll (ring, ticket, &c, &err);
  if (st != VYRE_OK)
    check_message (&err, "vyre_host_ring_poll");
  FUZZ_CHECK (st == VYRE_OK || st == VYRE_ERR_NOT_READY
      || st == VYRE_ERR_FAULT || st == VYRE_ERR_MALFORMED,
      "poll gave status %d: %s", st, err.message);
  if (st == VYRE_OK || st == VYRE_ERR_FAULT) {
    FUZZ_CHECK (c.seq == ticket.seq, "completion of seq %" PRIu64
        " for ticket %" PRIu64, c.seq, ticket.seq);
    FUZZ_CHECK (c.status == (st == VYRE_OK ? VYRE_STATUS_DONE
            : VYRE_STATUS_FAULT), "poll %d with status word %u", st,
        c.status);
  }
  if (st == VYRE_ERR_FAULT || st == VYRE_ERR_MALFORMED)
    FUZZ_CHECK (strstr (err.message, "Fix") != NULL,
        "poll message without a Fix: %s", err.message);

  /* Complete (whatever it said) means recyclable; not ready means not. */
  vyre_error rerr;
  vyre_status rst = vyre_host_ring_recycle (ring, ticket, &rerr);
  if (st == VYRE_ERR_NOT_READY)
    FUZZ_CHECK (rst == VYRE_ERR_INVALID_ARGUMENT,
        "recycle of a job poll found not ready gave %d", rst);
  else
    FUZZ_CHECK (rst == VYRE_OK, "recycle after poll %d: %s", st,
        rerr.message);
  if (rst == VYRE_OK) {
    FUZZ_CHECK (vyre_host_ring_outstanding (ring) == 0, "still outstanding");
    st = vyre_host_ring_poll (ring, ticket, &c, &err);
    FUZZ_CHECK (st == VYRE_ERR_INVALID_ARGUMENT,
        "poll of a recycled ticket gave %d", st);
  }
  vyre_host_ring_free (ring);
  return 0;
}
