/* io_queue.c - placeholder while the module is written; replaced in the same change set. */
#include "vyre_error.h"
