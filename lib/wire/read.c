// SPDX-License-Identifier: Apache-2.0
//
// wire_read.c - the one JSON reader: a size limit and a nesting limit
// checked in one pass over the text before json-glib (whose parser
// recurses once per level) sees it. A request, a reply from a peer or a
// server, a spec: all come here.
#include "wire/json.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

/* How deep @text nests, counting brackets outside string literals; stops
 * counting once past @limit. */
static guint
wire_read_depth(const char *text, gsize len, guint limit)
{
	guint depth = 0, deepest = 0;
	gboolean in_string = FALSE;
	for (gsize i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = FALSE;
			continue;
		}
		if (c == '"') {
			in_string = TRUE;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest && (deepest = depth) > limit)
				return deepest;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

gboolean
wire_json_size_ok(gsize len, GError **error)
{
	if (len <= WIRE_JSON_MAX_SIZE)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
	            "JSON of %zu bytes is over the %u-byte limit", len, WIRE_JSON_MAX_SIZE);
	return FALSE;
}

JsonNode *
wire_json_read(const char *text, gsize len, GError **error)
{
	if (!wire_json_size_ok(len, error))
		return NULL;
	if (wire_read_depth(text, len, WIRE_JSON_MAX_DEPTH) > WIRE_JSON_MAX_DEPTH) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "JSON nested deeper than %u levels", WIRE_JSON_MAX_DEPTH);
		return NULL;
	}
	g_autoptr(JsonParser) parser = json_parser_new();
	GError *local = NULL;
	if (!json_parser_load_from_data(parser, text, (gssize)len, &local)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", local->message);
		g_error_free(local);
		return NULL;
	}
	JsonNode *root = json_parser_get_root(parser);
	if (!root) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		                    "empty JSON document");
		return NULL;
	}
	return json_node_ref(root);
}

JsonObject *
wire_json_read_object(const char *text, gsize len, GError **error)
{
	JsonObject *flat = wire_json_parse_flat(text, len);
	if (flat)
		return flat;
	g_autoptr(JsonNode) root = wire_json_read(text, len, error);
	if (!root)
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		                    "the JSON document is not an object");
		return NULL;
	}
	return json_object_ref(json_node_get_object(root));
}

JsonObject *
wire_json_frame_object(const guint8 *payload, gsize len)
{
	return wire_json_read_object((const char *)payload, len, NULL);
}
