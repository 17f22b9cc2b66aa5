/*
 * vyre_spirv.h - SPIR-V of the shaders in shaders/, compiled by glslc at
 * build time and embedded here, so the plugin never reads a .spv file.
 */
#ifndef VYRE_SPIRV_H
#define VYRE_SPIRV_H

#include <stddef.h>
#include <stdint.h>

/* The persistent scan kernel (shaders/megakernel.comp). */
extern const uint32_t vyre_spirv_megakernel[];
extern const size_t vyre_spirv_megakernel_size; /* bytes */

#endif /* VYRE_SPIRV_H */
