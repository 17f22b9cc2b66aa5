#version 450
// protocol_probe.comp - not a real kernel: it only makes the GLSL compiler
// evaluate every constant of ring/vyre_protocol.h into one constant array,
// which test_protocol_agreement.c finds in the SPIR-V and compares with
// the values the C compiler sees.  0xA5A5A5A5 marks the array's end.
#include "vyre_protocol.h"
#include "protocol_constants.h"

layout(local_size_x = 1) in;
layout(std430, set = 0, binding = 0) buffer Out { uint w[]; } probe_out;

#define PROBE_ITEM(name) name,
const uint probe[] = uint[](VYRE_PROTOCOL_CONSTANTS(PROBE_ITEM) 0xA5A5A5A5u);

void main()
{
  for (int i = 0; i < probe.length(); i++)
    probe_out.w[i] = probe[i];
}
