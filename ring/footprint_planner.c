/* footprint_planner.c - see footprint_planner.h. */
#include "footprint_planner.h"

#include "vyre_protocol.h"

#include <string.h>

#define CONTROL_BYTES ((uint64_t) VYRE_CONTROL_WORDS * 4u)

const char *
vyre_footprint_component_name (vyre_footprint_component c)
{
  switch (c) {
    case VYRE_FOOTPRINT_RING: return "ring";
    case VYRE_FOOTPRINT_COMPLETIONS: return "completions";
    case VYRE_FOOTPRINT_CONTROL: return "control";
    case VYRE_FOOTPRINT_ARENA: return "arena";
    case VYRE_FOOTPRINT_CARRY: return "carry";
    case VYRE_FOOTPRINT_RESULTS: return "results";
    case VYRE_FOOTPRINT_PATTERNS: return "patterns";
    case VYRE_FOOTPRINT_IO_QUEUE: return "io-queue";
    case VYRE_FOOTPRINT_COMPONENTS: break;
  }
  return "unknown";
}

/* What to do when component c is the largest one of an over-budget plan. */
static const char *
component_fix (vyre_footprint_component c)
{
  switch (c) {
    case VYRE_FOOTPRINT_RING:
    case VYRE_FOOTPRINT_COMPLETIONS:
    case VYRE_FOOTPRINT_CARRY:
      return "use fewer ring-slots";
    case VYRE_FOOTPRINT_ARENA:
      return "use a smaller blocksize or fewer slots in flight";
    case VYRE_FOOTPRINT_RESULTS:
      return "use fewer ring-slots (result records) or fewer max-matches";
    case VYRE_FOOTPRINT_PATTERNS:
      return "use fewer patterns";
    case VYRE_FOOTPRINT_IO_QUEUE:
      return "use fewer IO queue entries";
    case VYRE_FOOTPRINT_CONTROL:
    case VYRE_FOOTPRINT_COMPONENTS:
      break;
  }
  return "shrink the configuration";
}

void
vyre_footprint_profile_init (vyre_footprint_profile * p)
{
  if (p == NULL)
    return;
  memset (p, 0, sizeof *p);
  p->slot_bytes = VYRE_SLOT_BYTES;
  p->completion_bytes = (uint64_t) VYRE_COMPLETION_WORDS * 4u;
  p->io_entry_bytes = (uint64_t) VYRE_IO_SLOT_WORDS * 4u;
}

static vyre_status
mul_checked (uint64_t a, uint64_t b, uint64_t * out, const char *what,
    vyre_error * err)
{
  if (__builtin_mul_overflow (a, b, out))
    return vyre_fail (err, VYRE_ERR_OVERFLOW,
        "footprint overflows 64 bits computing %s (%llu x %llu). Fix: "
        "check the profile for a unit mistake (bytes vs KiB) or a negative "
        "value cast to unsigned; no device holds 2^64 bytes.", what,
        (unsigned long long) a, (unsigned long long) b);
  return VYRE_OK;
}

static vyre_status
add_checked (uint64_t a, uint64_t b, uint64_t * out, const char *what,
    vyre_error * err)
{
  if (__builtin_add_overflow (a, b, out))
    return vyre_fail (err, VYRE_ERR_OVERFLOW,
        "footprint overflows 64 bits computing %s (%llu + %llu). Fix: "
        "check the profile for a unit mistake (bytes vs KiB) or a negative "
        "value cast to unsigned; no device holds 2^64 bytes.", what,
        (unsigned long long) a, (unsigned long long) b);
  return VYRE_OK;
}

static vyre_status
zero_capacity (const char *field, const char *fix, vyre_error * err)
{
  return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
      "footprint: capacity %s is zero. Fix: %s.", field, fix);
}

static vyre_status
zero_entry_size (const char *field, const char *fix, vyre_error * err)
{
  return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
      "footprint: entry size %s is zero. Fix: %s.", field, fix);
}

static vyre_status
check_profile (const vyre_footprint_profile * p, vyre_error * err)
{
  if (p->ring_slots == 0)
    return zero_capacity ("ring_slots", "size the ring (ring-slots >= 1)",
        err);
  if (p->completion_entries == 0)
    return zero_capacity ("completion_entries",
        "give one completion entry per ring slot", err);
  if (p->result_records == 0)
    return zero_capacity ("result_records",
        "give one result record per in-flight data job", err);
  if (p->slot_bytes == 0)
    return zero_entry_size ("slot_bytes",
        "pass the slot ABI width, VYRE_SLOT_BYTES "
        "(vyre_footprint_profile_init sets it)", err);
  if (p->completion_bytes == 0)
    return zero_entry_size ("completion_bytes",
        "pass the completion ABI width, VYRE_COMPLETION_WORDS * 4 "
        "(vyre_footprint_profile_init sets it)", err);
  if (p->io_entry_bytes == 0)
    return zero_entry_size ("io_entry_bytes",
        "pass the IO entry ABI width, VYRE_IO_SLOT_WORDS * 4 "
        "(vyre_footprint_profile_init sets it)", err);
  if (p->max_matches % VYRE_RESULT_LANES != 0) {
    /* Each lane owns max_matches / VYRE_RESULT_LANES event records. */
    uint64_t down = p->max_matches - p->max_matches % VYRE_RESULT_LANES;
    uint64_t up = down + VYRE_RESULT_LANES;
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "footprint: max_matches %llu is not a multiple of %u (each kernel "
        "lane owns max_matches / %u event records). Fix: use %llu.",
        (unsigned long long) p->max_matches, VYRE_RESULT_LANES,
        VYRE_RESULT_LANES, (unsigned long long) (up > down ? up : down));
  }
  if (p->arena_bytes == 0) {
    if (p->slots_in_flight == 0)
      return zero_capacity ("slots_in_flight",
          "give the number of data jobs resident at once, or arena_bytes",
          err);
    if (p->max_buffer_bytes == 0)
      return zero_entry_size ("max_buffer_bytes",
          "give the largest buffer a job carries (the blocksize), or "
          "arena_bytes", err);
  }
  return VYRE_OK;
}

static vyre_status
compute_components (const vyre_footprint_profile * p, vyre_footprint_plan * o,
    vyre_error * err)
{
  vyre_status st;
  uint64_t *b = o->bytes;

  if ((st = mul_checked (p->ring_slots, p->slot_bytes,
              &b[VYRE_FOOTPRINT_RING], "ring bytes (ring_slots x slot_bytes)",
              err)) != VYRE_OK)
    return st;
  if ((st = mul_checked (p->completion_entries, p->completion_bytes,
              &b[VYRE_FOOTPRINT_COMPLETIONS],
              "completion bytes (completion_entries x completion_bytes)",
              err)) != VYRE_OK)
    return st;
  b[VYRE_FOOTPRINT_CONTROL] = CONTROL_BYTES;
  if (p->arena_bytes != 0)
    b[VYRE_FOOTPRINT_ARENA] = p->arena_bytes;
  else if ((st = mul_checked (p->slots_in_flight, p->max_buffer_bytes,
              &b[VYRE_FOOTPRINT_ARENA],
              "arena bytes (slots_in_flight x max_buffer_bytes)",
              err)) != VYRE_OK)
    return st;
  if ((st = mul_checked (p->carry_windows, p->carry_window_bytes,
              &b[VYRE_FOOTPRINT_CARRY],
              "carry bytes (carry_windows x carry_window_bytes)",
              err)) != VYRE_OK)
    return st;

  /* Result record stride: (header words + MATCH_WORDS x max_matches) x 4. */
  uint64_t match_words, record_words;
  if ((st = mul_checked (p->max_matches, VYRE_MATCH_WORDS, &match_words,
              "result record match words (max_matches x 4)", err)) != VYRE_OK
      || (st = add_checked (match_words, VYRE_RESULT_HEADER_WORDS,
              &record_words, "result record words (header + matches)",
              err)) != VYRE_OK
      || (st = mul_checked (record_words, 4, &o->result_record_bytes,
              "result record bytes (words x 4)", err)) != VYRE_OK
      || (st = mul_checked (p->result_records, o->result_record_bytes,
              &b[VYRE_FOOTPRINT_RESULTS],
              "result bytes (result_records x record bytes)",
              err)) != VYRE_OK)
    return st;

  b[VYRE_FOOTPRINT_PATTERNS] = p->pattern_table_bytes;
  if ((st = mul_checked (p->io_entries, p->io_entry_bytes,
              &b[VYRE_FOOTPRINT_IO_QUEUE],
              "io queue bytes (io_entries x io_entry_bytes)",
              err)) != VYRE_OK)
    return st;

  uint64_t total = 0;
  o->largest = VYRE_FOOTPRINT_RING;
  for (int c = 0; c < VYRE_FOOTPRINT_COMPONENTS; c++) {
    /* Name the component whose addition overflowed. */
    if (__builtin_add_overflow (total, b[c], &total))
      return vyre_fail (err, VYRE_ERR_OVERFLOW,
          "footprint overflows 64 bits computing the total (adding the %s "
          "component, %llu bytes). Fix: check the profile for a unit "
          "mistake (bytes vs KiB) or a negative value cast to unsigned; no "
          "device holds 2^64 bytes.",
          vyre_footprint_component_name ((vyre_footprint_component) c),
          (unsigned long long) b[c]);
    if (b[c] > b[o->largest])
      o->largest = (vyre_footprint_component) c;
  }
  o->total_bytes = total;
  return VYRE_OK;
}

vyre_status
vyre_footprint_plan_compute (const vyre_footprint_profile * p,
    vyre_footprint_plan * out, vyre_error * err)
{
  vyre_footprint_plan plan = { 0 };
  vyre_status st;

  if (out != NULL)
    *out = plan;
  if (p == NULL || out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_footprint_plan_compute: %s is NULL. Fix: pass a profile and "
        "a plan to fill.", p == NULL ? "profile" : "plan");
  if ((st = check_profile (p, err)) != VYRE_OK)
    return st;
  if ((st = compute_components (p, &plan, err)) != VYRE_OK)
    return st;
  plan.budget_bytes = p->budget_bytes;
  if (plan.total_bytes > p->budget_bytes) {
    *out = plan;
    vyre_footprint_component big = plan.largest;
    return vyre_fail (err, VYRE_ERR_OVER_BUDGET,
        "footprint needs %llu bytes but the budget is %llu (%llu over); "
        "largest component: %s, %llu bytes. Fix: %s, or use a device with "
        "more memory.", (unsigned long long) plan.total_bytes,
        (unsigned long long) p->budget_bytes,
        (unsigned long long) (plan.total_bytes - p->budget_bytes),
        vyre_footprint_component_name (big),
        (unsigned long long) plan.bytes[big], component_fix (big));
  }
  plan.headroom_bytes = p->budget_bytes - plan.total_bytes;
  *out = plan;
  return VYRE_OK;
}

vyre_status
vyre_drain_plan_compute (uint64_t jobs, uint64_t max_jobs_per_window,
    vyre_drain_plan * out, vyre_error * err)
{
  vyre_drain_plan d = { 0 };
  if (out != NULL)
    *out = d;
  if (out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_drain_plan_compute: plan is NULL. Fix: pass a plan to fill.");
  if (max_jobs_per_window == 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "drain window is zero jobs. Fix: pass the number of jobs one "
        "kernel launch may drain (>= 1).");
  if (jobs == 0)
    return zero_capacity ("jobs", "drain at least one job", err);
  d.jobs = jobs;
  d.max_jobs_per_window = max_jobs_per_window;
  /* Ceil division without the (jobs + window - 1) overflow. */
  d.windows = jobs / max_jobs_per_window
      + (jobs % max_jobs_per_window != 0);
  d.items_per_window = jobs < max_jobs_per_window ? jobs : max_jobs_per_window;
  d.last_window_items = jobs - (d.windows - 1) * d.items_per_window;
  d.chunked = d.windows > 1;
  *out = d;
  return VYRE_OK;
}

vyre_status
vyre_footprint_plan_backpressure (const vyre_footprint_profile * p,
    uint64_t max_jobs_per_launch, vyre_footprint_backpressure_plan * out,
    vyre_error * err)
{
  vyre_status st;
  if (out != NULL)
    *out = (vyre_footprint_backpressure_plan) { 0 };
  if (p == NULL || out == NULL)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "vyre_footprint_plan_backpressure: %s is NULL. Fix: pass a profile "
        "and a plan to fill.", p == NULL ? "profile" : "plan");
  if (max_jobs_per_launch == 0)
    return vyre_fail (err, VYRE_ERR_INVALID_ARGUMENT,
        "drain window is zero jobs per launch. Fix: pass the number of "
        "ring slots one kernel launch may drain (>= 1).");
  if ((st = vyre_footprint_plan_compute (p, &out->footprint, err)) != VYRE_OK)
    return st;
  return vyre_drain_plan_compute (p->ring_slots, max_jobs_per_launch,
      &out->drain, err);
}
