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

/* How deep a document may nest (objects and arrays) and how long it may
 * be: every document the protocol defines is a few levels deep, and
 * json-glib's parser recurses, so a deeper one would cost the reader's
 * stack. */
#define WIRE_JSON_MAX_DEPTH 32
#define WIRE_JSON_MAX_SIZE  (16u << 20)

typedef struct _JsonNode JsonNode;

/* wire_read.c: the one reader of every JSON document circuitd and
 * libcircuit parse. (transfer full) the document's root, or NULL with
 * @error set (G_IO_ERROR_INVALID_DATA) when @text is not JSON, nests deeper
 * than WIRE_JSON_MAX_DEPTH or is longer than WIRE_JSON_MAX_SIZE. */
JsonNode *wire_json_read(const char *text, gsize len, GError **error);
/* FALSE, with @error set, for a document longer than WIRE_JSON_MAX_SIZE
 * (both readers check it first). */
gboolean wire_json_size_ok(gsize len, GError **error);
/* The same for a document that must be an object (flat ones are read by
 * wire_json_parse_flat, the rest by json-glib). */
JsonObject *wire_json_read_object(const char *text, gsize len, GError **error);
/* wire_spec.c: (transfer full) the JSON a person wrote (a mk<kind>'s
 * spec): JSON plus a comma allowed before } and ], read with the same
 * limits; NULL with @error set (G_IO_ERROR_INVALID_DATA) to one line that
 * names the line and column at fault and what was expected there. */
JsonNode *wire_json_read_spec(const char *text, gsize len, GError **error);
/* (nullable) A frame's JSON payload (HELLO, OPEN, REPLY, RESET) as an
 * object; NULL when it is not one. Both ends of every connection read
 * frames with this. */
JsonObject *wire_json_frame_object(const guint8 *payload, gsize len);
