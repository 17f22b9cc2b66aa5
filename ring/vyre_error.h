/*
 * vyre_error.h - errors as returned values.
 *
 * Library code in ring/ never aborts or asserts on bad input: every
 * function that can fail returns a vyre_status and, when the caller passes
 * a vyre_error, fills in a message that says what went wrong and ends with
 * "Fix: ..." telling the caller what to do about it.
 */
#ifndef VYRE_ERROR_H
#define VYRE_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  VYRE_OK = 0,
  VYRE_ERR_INVALID_ARGUMENT, /* caller passed a value outside the contract */
  VYRE_ERR_QUEUE_FULL,       /* no free slot right now: back off, retry    */
  VYRE_ERR_QUEUE_EMPTY,      /* nothing to take right now                  */
  VYRE_ERR_NOT_READY,        /* the job has not completed yet              */
  VYRE_ERR_OVERFLOW,         /* arithmetic would overflow 64 bits          */
  VYRE_ERR_OVER_BUDGET,      /* does not fit the device-memory budget      */
  VYRE_ERR_MALFORMED,        /* a slot / entry failed validation           */
  VYRE_ERR_FAULT,            /* the consumer completed the job as FAULT    */
  VYRE_ERR_IO,               /* an IO request completed with ERROR         */
  VYRE_ERR_SHUTDOWN,         /* the ring is shutting down                  */
} vyre_status;

#define VYRE_ERROR_MESSAGE_BYTES 320

typedef struct {
  vyre_status status;
  char message[VYRE_ERROR_MESSAGE_BYTES];
} vyre_error;

/* Record an error (printf-style) and return its status, so callers write
 * `return vyre_fail (err, VYRE_ERR_..., "... Fix: ...", ...);`.
 * err may be NULL: the status is still returned. */
vyre_status vyre_fail (vyre_error * err, vyre_status status,
    const char *format, ...) __attribute__((format (printf, 3, 4)));

/* Reset err to VYRE_OK with an empty message; NULL is accepted. */
void vyre_error_clear (vyre_error * err);

/* Stable short name of a status ("queue-full", ...). */
const char *vyre_status_name (vyre_status status);

#ifdef __cplusplus
}
#endif
#endif /* VYRE_ERROR_H */
