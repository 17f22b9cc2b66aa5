/* vyre_spirv.c - the embedded SPIR-V arrays (see vyre_spirv.h).  The
 * .spv.inc files are glslc -mfmt=c output: a braced list of words. */
#include "vyre_spirv.h"

const uint32_t vyre_spirv_megakernel[] =
#include "megakernel.spv.inc"
    ;
const size_t vyre_spirv_megakernel_size = sizeof (vyre_spirv_megakernel);
