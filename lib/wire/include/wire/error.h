// SPDX-License-Identifier: Apache-2.0
//
// wire_error.h - CircuitErrorCode <-> wire names, shared by circuitd and
// libcircuit.
#pragma once

#include <circuit/plugin.h>

/* "invalid" for CIRCUIT_ERROR_INVALID; "failed" for anything unknown. */
const char *wire_error_code_name(int code);
/* The code for a wire name; CIRCUIT_ERROR_FAILED if unknown. */
int wire_error_code_from_name(const char *name);
