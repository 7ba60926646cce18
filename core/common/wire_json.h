// SPDX-License-Identifier: Apache-2.0
//
// wire_json.h - the small JSON texts of the hot path, written by hand
// (shared by circuitd and libcircuit): a request's OPEN, the plain success
// REPLY, op log lines. Everything else goes through json-glib.
#pragma once

#include <glib.h>

/* The REPLY of an operation that succeeded with no result and no failed outcome. */
#define WIRE_REPLY_OK "{\"ok\":true,\"result\":null,\"failed\":false}"

/* Appends @s as a JSON string literal (quotes and escapes included) to @out. */
void wire_json_append_string(GString *out, const char *s);
