/* vyre-scan-reference.c - placeholder while the module is written. */
#include <glib.h>
