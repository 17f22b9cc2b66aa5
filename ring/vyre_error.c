/* vyre_error.c - see vyre_error.h. */
#include "vyre_error.h"

#include <stdarg.h>
#include <stdio.h>

vyre_status
vyre_fail (vyre_error * err, vyre_status status, const char *format, ...)
{
  if (err != NULL) {
    va_list ap;
    err->status = status;
    va_start (ap, format);
    vsnprintf (err->message, sizeof err->message, format, ap);
    va_end (ap);
  }
  return status;
}

void
vyre_error_clear (vyre_error * err)
{
  if (err != NULL) {
    err->status = VYRE_OK;
    err->message[0] = '\0';
  }
}

const char *
vyre_status_name (vyre_status status)
{
  switch (status) {
    case VYRE_OK: return "ok";
    case VYRE_ERR_INVALID_ARGUMENT: return "invalid-argument";
    case VYRE_ERR_QUEUE_FULL: return "queue-full";
    case VYRE_ERR_QUEUE_EMPTY: return "queue-empty";
    case VYRE_ERR_NOT_READY: return "not-ready";
    case VYRE_ERR_OVERFLOW: return "overflow";
    case VYRE_ERR_OVER_BUDGET: return "over-budget";
    case VYRE_ERR_MALFORMED: return "malformed";
    case VYRE_ERR_FAULT: return "fault";
    case VYRE_ERR_IO: return "io-error";
    case VYRE_ERR_SHUTDOWN: return "shutdown";
  }
  return "unknown";
}
