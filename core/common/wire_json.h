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

typedef struct _JsonObject JsonObject;

/* wire_parse.c: (transfer full) (nullable) @text as an object when it is one
 * flat object (members: strings, integers, true, false, null, arrays of
 * strings); NULL otherwise, also for valid JSON of another shape: the
 * caller then asks json-glib. What it returns equals json-glib's result. */
JsonObject *wire_json_parse_flat(const char *text, gsize len);
