// SPDX-License-Identifier: Apache-2.0
//
// json_read.c - fuzz target: the one JSON reader (lib/wire/read.c)
// on any bytes, deep and wide. It must never crash or recurse past its
// limit; whatever it accepts json-glib reads the same; whatever json-glib
// reads within the limits it accepts too.
#include "json_text.h"
#include "wire/json.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nesting depth outside strings (an independent count). */
static unsigned
depth_of(const uint8_t *p, size_t n)
{
	unsigned d = 0, max = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"') {
			i = json_text_string_end(p, n, i);
		} else if (p[i] == '[' || p[i] == '{') {
			if (++d > max)
				max = d;
		} else if ((p[i] == ']' || p[i] == '}') && d) {
			d--;
		}
	}
	return max;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	JsonNode *mine = wire_json_read((const char *)data, size, &error);
	unsigned depth = depth_of(data, size);
	if (mine && depth > WIRE_JSON_MAX_DEPTH)
		abort(); /* accepted a document over the nesting limit */
	if (!mine && !error)
		abort(); /* a refusal must say why */
	if (depth <= WIRE_JSON_MAX_DEPTH) {
		/* Within the limits, it reads what json-glib reads. */
		JsonParser *parser = json_parser_new();
		gboolean ok =
		        json_parser_load_from_data(parser, (const char *)data, (gssize)size, NULL);
		JsonNode *root = ok ? json_parser_get_root(parser) : NULL;
		if ((root != NULL) != (mine != NULL))
			abort();
		if (root && !json_node_equal(root, mine))
			abort();
		g_object_unref(parser);
	}
	JsonObject *o = wire_json_read_object((const char *)data, size, NULL);
	if (o && (!mine || !JSON_NODE_HOLDS_OBJECT(mine)))
		abort();
	if (o)
		json_object_unref(o);
	if (mine)
		json_node_unref(mine);
	g_clear_error(&error);
	return 0;
}
