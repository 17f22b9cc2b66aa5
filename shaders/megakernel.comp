#version 450
// placeholder until the persistent kernel lands (issue 3)
#include "vyre_protocol.h"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) buffer Ring { uint w[]; } ring_buf;
void main() { if (gl_GlobalInvocationID.x == 0u) ring_buf.w[0] = VYRE_STATUS_EMPTY; }
