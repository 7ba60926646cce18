// SPDX-License-Identifier: Apache-2.0
//
// test_spec.c - the reader of specs people write (lib/wire/spec.c): its
// dialect (JSON, plus a comma before } and ]) and errors that name the line
// and column of the character at fault and what was expected there.
#include "wire/json.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* @text must be refused with exactly @want. */
static void
assert_refused(const char *text, const char *want)
{
	g_autoptr(GError) error = NULL;
	JsonNode *n = wire_json_read_spec(text, strlen(text), &error);
	g_assert_null(n);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_cmpstr(error->message, ==, want);
}

/* @text read, then written compactly by json-glib. */
static char *
read_compact(const char *text)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) n = wire_json_read_spec(text, strlen(text), &error);
	g_assert_no_error(error);
	g_assert_nonnull(n);
	return json_to_string(n, FALSE);
}

static void
test_spec_plain(void)
{
	g_autofree char *a =
	        read_compact(" {\"Path\":\"/bin/ls\",\"Args\":[\"-l\",\"/\"],\"Scrub\":true,"
	                     "\"Env\":null,\"N\":-12,\"F\":1.5e2,\"O\":{\"k\":[]}}\n");
	g_assert_cmpstr(a, ==,
	                "{\"Path\":\"/bin/ls\",\"Args\":[\"-l\",\"/\"],\"Scrub\":true,\"Env\":null,"
	                "\"N\":-12,\"F\":150.0,\"O\":{\"k\":[]}}");
	g_autofree char *e = read_compact("{\"s\":\"a\\\"b\\\\c\\/\\n\\t\\u00e9\\ud83d\\ude00\"}");
	g_assert_cmpstr(e, ==, "{\"s\":\"a\\\"b\\\\c/\\n\\t\xc3\xa9\xf0\x9f\x98\x80\"}");
	g_autofree char *empty = read_compact("{}");
	g_assert_cmpstr(empty, ==, "{}");
}

static void
test_spec_trailing_comma(void)
{
	/* The original README's example. */
	g_autofree char *a =
	        read_compact("{\n\t\"Path\": \"/bin/ls\",\n\t\"Args\": [\"/\",],\n}\n");
	g_assert_cmpstr(a, ==, "{\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}");
	/* A comma inside a string is the string's. */
	g_autofree char *b = read_compact("{\"Args\":[\"a,]\", \"b,}\" , ] , }");
	g_assert_cmpstr(b, ==, "{\"Args\":[\"a,]\",\"b,}\"]}");
	/* Only after a member: not alone, not twice. */
	assert_refused("{,}",
	               "line 1, column 2: expected a quoted key (like \"Path\") or }, found ,");
	assert_refused("[,]", "line 1, column 2: expected element 0 of the array or ], found ,");
	assert_refused("{\"Args\":[\"a\",,]}",
	               "line 1, column 14: expected element 1 of \"Args\" or ], found ,");
	assert_refused("{\"a\":1,,}",
	               "line 1, column 8: expected a quoted key (like \"Path\") or }, found ,");
}

static void
test_spec_mistakes(void)
{
	/* An unquoted key: the column of the P, not of the brace. */
	assert_refused("{Path:\"/bin/ls\"}",
	               "line 1, column 2: expected a quoted key (like \"Path\") or }, found Path");
	/* A missing comma between members, on the next line. */
	assert_refused("{\n\t\"Path\": \"/bin/ls\"\n\t\"Args\": []\n}",
	               "line 3, column 2: expected , or } after the value of \"Path\", found the "
	               "string \"Args\"");
	assert_refused("{\"Args\":[\"a\" \"b\"]}",
	               "line 1, column 14: expected , or ] after element 0 of \"Args\", found the "
	               "string \"b\"");
	/* A missing closing brace or bracket. */
	assert_refused("{\"Path\":\"/bin/ls\"\n",
	               "line 2, column 1: expected , or } after the value of \"Path\", found the "
	               "end of the input");
	assert_refused("{\"Args\":[\"/\"}",
	               "line 1, column 13: expected , or ] after element 0 of \"Args\", found }");
	/* Single quotes, as a key and as a value. */
	assert_refused("{'Path':1}",
	               "line 1, column 2: expected a quoted key (like \"Path\") or }, "
	               "found ' (JSON strings take double quotes)");
	assert_refused("{\"Path\": '/bin/ls'}", "line 1, column 10: expected a value for \"Path\", "
	                                        "found ' (JSON strings take double quotes)");
	/* A missing colon, a missing value, a misspelt word. */
	assert_refused("{\"Path\" \"/bin/ls\"}",
	               "line 1, column 9: expected : after the key \"Path\", found the string "
	               "\"/bin/ls\"");
	assert_refused("{\"Path\":}", "line 1, column 9: expected a value for \"Path\", found }");
	assert_refused("{\"Scrub\":tru}",
	               "line 1, column 10: expected a value for \"Scrub\", found "
	               "tru");
	assert_refused("{\"Scrub\":True}",
	               "line 1, column 10: expected a value for \"Scrub\", found "
	               "True");
	/* Unterminated strings: where they start. */
	assert_refused("{\"Path\":\"/bin/ls}", "unterminated string starting at line 1, column 9");
	assert_refused("{\n \"Path\": \"/bin/ls\n}",
	               "unterminated string starting at line 2, column 10 (a string ends on its "
	               "line with \")");
	/* Empty input and trailing garbage. */
	assert_refused("",
	               "line 1, column 1: expected a JSON object (like {\"Path\":\"/bin/ls\"}), "
	               "found the end of the input");
	assert_refused("{\"Path\":\"/bin/ls\"} x",
	               "line 1, column 20: x after the end of the JSON object");
	assert_refused("{\"a\":1}}", "line 1, column 8: } after the end of the JSON object");
	/* Columns count characters, not bytes. */
	assert_refused(
	        "{\"\xc3\xa9\":1 2}",
	        "line 1, column 8: expected , or } after the value of \"\xc3\xa9\", found 2");
	/* Keys are named escaped (one line) and at most 40 characters long. */
	assert_refused("{\"a\\nb\":1 2}",
	               "line 1, column 11: expected , or } after the value of \"a\\nb\", found 2");
	assert_refused("{\"0123456789012345678901234567890123456789xyz\":1 2}",
	               "line 1, column 50: expected , or } after the value of "
	               "\"0123456789012345678901234567890123456789...\", found 2");
	assert_refused("{\"a\\nb\" 1}",
	               "line 1, column 9: expected : after the key \"a\\nb\", found 1");
	/* A string found where it does not belong is shown up to a control byte. */
	assert_refused("{\"a\":1 \"b\x01c\"}",
	               "line 1, column 8: expected , or } after the value of \"a\", found the "
	               "string \"b...");
	/* Escapes, control characters, numbers, bytes that are not UTF-8. */
	assert_refused(
	        "{\"a\":\"x\\qy\"}",
	        "line 1, column 8: unknown escape \\q in a string (JSON has \\\" \\\\ \\/ \\b "
	        "\\f \\n \\r \\t \\uXXXX)");
	assert_refused("{\"a\":\"\\u12\"}", "line 1, column 7: expected four hex digits after \\u");
	assert_refused("{\"a\":\"\\ud83d\"}",
	               "line 1, column 7: \\ud83d starts a surrogate pair without its second half");
	assert_refused("{\"a\":\"x\ty\"}",
	               "line 1, column 8: a control character (0x09) in a string: write it as "
	               "\\u0009");
	assert_refused("{\"a\":\"\xff\"}",
	               "line 1, column 7: the byte 0xff in a string is not UTF-8");
	assert_refused("{\"a\":01}", "line 1, column 6: expected a value for \"a\", found 01");
	assert_refused("{\"a\":1.}", "line 1, column 8: expected a digit after the decimal point");
	assert_refused("{\"a\":-}", "line 1, column 6: expected a value for \"a\", found -");
	assert_refused("\x01",
	               "line 1, column 1: expected a JSON object (like {\"Path\":\"/bin/ls\"}), "
	               "found the byte 0x01");
}

static void
test_spec_numbers(void)
{
	g_autoptr(GError) error = NULL;
	const char *text = "{\"i\":9223372036854775807,\"big\":9223372036854775808,\"neg\":-3}";
	g_autoptr(JsonNode) n = wire_json_read_spec(text, strlen(text), &error);
	g_assert_no_error(error);
	JsonObject *o = json_node_get_object(n);
	g_assert_cmpint(json_node_get_value_type(json_object_get_member(o, "i")), ==, G_TYPE_INT64);
	g_assert_cmpint(json_object_get_int_member(o, "i"), ==, G_MAXINT64);
	g_assert_cmpint(json_node_get_value_type(json_object_get_member(o, "big")), ==,
	                G_TYPE_DOUBLE);
	g_assert_cmpint(json_object_get_int_member(o, "neg"), ==, -3);
}

static void
test_spec_limits(void)
{
	GString *deep = g_string_new(NULL);
	for (guint i = 0; i <= WIRE_JSON_MAX_DEPTH; i++)
		g_string_append(deep, "[");
	g_autoptr(GError) error = NULL;
	g_assert_null(wire_json_read_spec(deep->str, deep->len, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_nonnull(strstr(error->message, "nested deeper than"));
	g_string_free(deep, TRUE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lib/wire/spec/plain", test_spec_plain);
	g_test_add_func("/lib/wire/spec/trailing-comma", test_spec_trailing_comma);
	g_test_add_func("/lib/wire/spec/mistakes", test_spec_mistakes);
	g_test_add_func("/lib/wire/spec/numbers", test_spec_numbers);
	g_test_add_func("/lib/wire/spec/limits", test_spec_limits);
	return g_test_run();
}
