// SPDX-License-Identifier: Apache-2.0
//
// test_json.c - lib/wire's JSON writer and its flat request reader: every
// escape written and read back, strings on both sides of the reader's
// stack buffer (256 bytes), and what the reader leaves to json-glib.
#include "wire/json.h"

#include <json-glib/json-glib.h>
#include <string.h>

static char *
append(const char *s)
{
	GString *out = g_string_new("x");
	wire_json_append_string(out, s);
	return g_string_free(out, FALSE);
}

static void
test_append_escapes(void)
{
	const struct {
		const char *in, *out;
	} cases[] = {
	        {"", "x\"\""},
	        {"plain /X0123/a b", "x\"plain /X0123/a b\""},
	        {"\"", "x\"\\\"\""},
	        {"a\\b", "x\"a\\\\b\""},
	        {"\"q\"", "x\"\\\"q\\\"\""},
	        {"line\nnext\ttab", "x\"line\\nnext\\ttab\""},
	        {"\x01"
	         "a\x1f",
	         "x\"\\u0001a\\u001f\""},
	        {"\x7f"
	         "é",
	         "x\"\x7f"
	         "é\""},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = append(cases[i].in);
		g_assert_cmpstr(got, ==, cases[i].out);
	}
}

/* What the writer writes, json-glib and the flat reader read back. */
static void
test_append_round_trip(void)
{
	GString *all = g_string_new(NULL);
	for (int c = 1; c < 256; c++)
		if (c < 0x80)
			g_string_append_c(all, (char)c);
	g_autofree char *written = append(all->str);
	g_autofree char *text = g_strdup_printf("{\"k\":%s}", written + 1);
	g_autoptr(JsonParser) p = json_parser_new();
	g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
	JsonObject *o = json_node_get_object(json_parser_get_root(p));
	g_assert_cmpstr(json_object_get_string_member(o, "k"), ==, all->str);
	g_string_free(all, TRUE);
}

static void
test_flat_lengths(void)
{
	/* 255, 256 and 257 bytes sit at the edge of the reader's stack buffer. */
	const gsize lengths[] = {0, 1, 254, 255, 256, 257, 511, 4096};
	for (guint i = 0; i < G_N_ELEMENTS(lengths); i++) {
		g_autofree char *v = g_strnfill(lengths[i], 'v');
		g_autofree char *k = g_strnfill(lengths[i] + 1, 'k');
		/* An escape on each side of the edge too. */
		g_autofree char *text = g_strdup_printf("{\"%s\":\"%s\\n\",\"args\":[\"%s\",\"\\t%"
		                                        "s\"],\"n\":-12,\"b\":true,\"z\":null}",
		                                        k, v, v, v);
		g_autoptr(JsonObject) o = wire_json_parse_flat(text, strlen(text));
		g_assert_nonnull(o);
		g_autofree char *vn = g_strconcat(v, "\n", NULL);
		g_autofree char *tv = g_strconcat("\t", v, NULL);
		g_assert_cmpstr(json_object_get_string_member(o, k), ==, vn);
		JsonArray *a = json_object_get_array_member(o, "args");
		g_assert_cmpuint(json_array_get_length(a), ==, 2);
		g_assert_cmpstr(json_array_get_string_element(a, 0), ==, v);
		g_assert_cmpstr(json_array_get_string_element(a, 1), ==, tv);
		g_assert_cmpint(json_object_get_int_member(o, "n"), ==, -12);
		g_assert_true(json_object_get_boolean_member(o, "b"));
		g_assert_true(json_object_get_null_member(o, "z"));
	}
}

static void
test_flat_leaves(void)
{
	/* Outside the flat shape: NULL, for json-glib to read (or refuse). */
	const char *texts[] = {
	        "{\"a\":\"\\u0041\"}", "{\"a\":{\"b\":1}}", "{\"a\":1.5}", "{\"a\":\"x\"} x",
	        "{\"a\":\"\x01\"}",    "{\"a\":\"\xff\"}",  "{\"a\":\"x",  "[1]",
	        "{\"a\":[1]}",         "{\"a\" 1}",
	};
	for (guint i = 0; i < G_N_ELEMENTS(texts); i++)
		g_assert_null(wire_json_parse_flat(texts[i], strlen(texts[i])));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lib/wire/json/append-escapes", test_append_escapes);
	g_test_add_func("/lib/wire/json/append-round-trip", test_append_round_trip);
	g_test_add_func("/lib/wire/json/flat-lengths", test_flat_lengths);
	g_test_add_func("/lib/wire/json/flat-leaves", test_flat_leaves);
	return g_test_run();
}
