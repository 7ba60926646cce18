// SPDX-License-Identifier: Apache-2.0
#include "wire/error.h"

#include <string.h>

static const char *const wire_error_names[] = {
        [CIRCUIT_ERROR_FAILED] = "failed",
        [CIRCUIT_ERROR_INVALID] = "invalid",
        [CIRCUIT_ERROR_NOT_FOUND] = "not-found",
        [CIRCUIT_ERROR_EXISTS] = "exists",
        [CIRCUIT_ERROR_BUSY] = "busy",
        [CIRCUIT_ERROR_CLOSED] = "closed",
        [CIRCUIT_ERROR_ABORTED] = "aborted",
        [CIRCUIT_ERROR_WRONG_KIND] = "wrong-kind",
        [CIRCUIT_ERROR_DISCONNECTED] = "disconnected",
        [CIRCUIT_ERROR_TOO_BIG] = "too-big",
        [CIRCUIT_ERROR_UNAVAILABLE] = "unavailable",
        [CIRCUIT_ERROR_USAGE] = "usage",
        [CIRCUIT_ERROR_PERMISSION] = "permission",
};

GQuark
circuit_error_quark(void)
{
	return g_quark_from_static_string("circuit-error");
}

const char *
wire_error_code_name(int code)
{
	if (code < 0 || code >= (int)G_N_ELEMENTS(wire_error_names) || !wire_error_names[code])
		return "failed";
	return wire_error_names[code];
}

int
wire_error_code_from_name(const char *name)
{
	for (gsize i = 0; name && i < G_N_ELEMENTS(wire_error_names); i++)
		if (wire_error_names[i] && strcmp(wire_error_names[i], name) == 0)
			return (int)i;
	return CIRCUIT_ERROR_FAILED;
}
