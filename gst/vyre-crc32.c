/* vyre-crc32.c - placeholder while the module is written. */
#include <glib.h>
