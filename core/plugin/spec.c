// SPDX-License-Identifier: Apache-2.0
//
// spec.c - reading the JSON object a mk<kind> takes on standard input (plugin
// SDK ABI 1.2): the object itself (read by lib/wire's spec reader, so every
// kind's specs take the same dialect and their syntax errors name a line and
// column) and its typed members, each error one line naming the spec, the key
// and what was found (proc's and docker's specs use it).
#include "wire/json.h"

#include <circuit/plugin.h>

/* What @node is, for "found ...": "an array", "the number 5". */
static char *
spec_describe(JsonNode *node)
{
	if (JSON_NODE_HOLDS_OBJECT(node))
		return g_strdup("an object");
	if (JSON_NODE_HOLDS_ARRAY(node))
		return g_strdup("an array");
	if (JSON_NODE_HOLDS_NULL(node))
		return g_strdup("null");
	GType t = json_node_get_value_type(node);
	if (t == G_TYPE_BOOLEAN)
		return g_strdup(json_node_get_boolean(node) ? "true" : "false");
	if (t == G_TYPE_INT64)
		return g_strdup_printf("the number %" G_GINT64_FORMAT, json_node_get_int(node));
	if (t == G_TYPE_DOUBLE)
		return g_strdup_printf("the number %g", json_node_get_double(node));
	/* Quoted and escaped (one line), its first 24 characters. */
	const char *str = json_node_get_string(node);
	GString *out = g_string_new("the string ");
	/* g_utf8_substring reads past the end of a shorter string: clamp. */
	glong chars = g_utf8_strlen(str, -1);
	g_autofree char *head = g_utf8_substring(str, 0, MIN(chars, 24));
	wire_json_append_string(out, head);
	if (chars > 24)
		g_string_insert(out, out->len - 1, "...");
	return g_string_free(out, FALSE);
}

JsonNode *
circuit_spec_load(const char *text, gsize len, const char *what, const char *example,
                  GError **error)
{
	gsize blank = 0;
	while (text && blank < len && g_ascii_isspace(text[blank]))
		blank++;
	if (!text || blank == len) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "no %s on standard input (expected JSON like %s)", what, example);
		return NULL;
	}
	GError *local = NULL;
	JsonNode *root = wire_json_read_spec(text, len, &local);
	if (!root) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "%s is not valid JSON: %s",
		            what, local->message);
		g_error_free(local);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_autofree char *found = spec_describe(root);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s must be a JSON object (like %s), found %s", what, example, found);
		json_node_unref(root);
		return NULL;
	}
	return root;
}

JsonNode *
circuit_json_load(const char *text, gsize len, GError **error)
{
	GError *local = NULL;
	JsonNode *root = wire_json_read(text ? text : "", text ? len : 0, &local);
	if (!root) {
		g_set_error_literal(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, local->message);
		g_error_free(local);
	}
	return root;
}

static gboolean
spec_is_string(JsonNode *node)
{
	return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

gboolean
circuit_spec_string(JsonNode *value, const char *what, const char *key, gboolean nullable,
                    char **out, GError **error)
{
	if (nullable && JSON_NODE_HOLDS_NULL(value)) {
		g_clear_pointer(out, g_free);
		return TRUE;
	}
	if (!spec_is_string(value)) {
		g_autofree char *found = spec_describe(value);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s: \"%s\" must be a string, found %s", what, key, found);
		return FALSE;
	}
	g_free(*out);
	*out = g_strdup(json_node_get_string(value));
	return TRUE;
}

gboolean
circuit_spec_strv(JsonNode *value, const char *what, const char *key, char ***out, GError **error)
{
	if (JSON_NODE_HOLDS_NULL(value)) {
		g_strfreev(*out);
		*out = g_new0(char *, 1);
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_ARRAY(value)) {
		g_autofree char *found = spec_describe(value);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s: \"%s\" must be an array of strings, found %s", what, key, found);
		return FALSE;
	}
	JsonArray *a = json_node_get_array(value);
	guint n = json_array_get_length(a);
	char **v = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++) {
		JsonNode *e = json_array_get_element(a, i);
		if (!spec_is_string(e)) {
			g_strfreev(v);
			g_autofree char *found = spec_describe(e);
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "%s: \"%s\"[%u] is not a string (found %s)", what, key, i,
			            found);
			return FALSE;
		}
		v[i] = g_strdup(json_node_get_string(e));
	}
	g_strfreev(*out);
	*out = v;
	return TRUE;
}

gboolean
circuit_spec_bool(JsonNode *value, const char *what, const char *key, gboolean *out, GError **error)
{
	if (!JSON_NODE_HOLDS_VALUE(value) || json_node_get_value_type(value) != G_TYPE_BOOLEAN) {
		g_autofree char *found = spec_describe(value);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s: \"%s\" must be true or false, found %s", what, key, found);
		return FALSE;
	}
	*out = json_node_get_boolean(value);
	return TRUE;
}
