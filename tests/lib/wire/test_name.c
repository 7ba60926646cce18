// SPDX-License-Identifier: Apache-2.0
//
// test_name.c - anchor names and paths (lib/wire/name.c).
#include "wire/name.h"

#include <circuit/plugin.h>
#include <string.h>

#define SERVER "X88550014d4c82e4d"

static void
assert_name_invalid(const char *name, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_assert_false(anchor_name_valid(name, len, &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_cmpstr(error->message, !=, "");
}

static void
assert_name_valid(const char *name, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(anchor_name_valid(name, len, &error));
	g_assert_no_error(error);
}

static void
test_name_empty(void)
{
	assert_name_invalid("", 0);
	/* The length rules, not the NUL: a name of length 0 is empty. */
	assert_name_invalid("abc", 0);
}

static void
test_name_dots(void)
{
	assert_name_invalid(".", 1);
	assert_name_invalid("..", 2);
	assert_name_valid("...", 3);
	assert_name_valid(".a", 2);
	assert_name_valid("a.", 2);
	assert_name_valid("..a", 3);
}

static void
test_name_slash(void)
{
	assert_name_invalid("/", 1);
	assert_name_invalid("a/b", 3);
	assert_name_invalid("a/", 2);
}

static void
test_name_control(void)
{
	static const char bad[] = {0x00, 0x01, 0x09, 0x0a, 0x1f, 0x7f};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		char name[3] = {'a', bad[i], 'b'};
		assert_name_invalid(name, sizeof name);
		assert_name_invalid(&bad[i], 1);
	}
	g_autoptr(GError) error = NULL;
	g_assert_false(anchor_name_valid("ok\x1f", 3, &error));
	g_assert_nonnull(strstr(error->message, "0x1f"));
	assert_name_valid(" ", 1);
	assert_name_valid("~", 1);
}

static void
test_name_length(void)
{
	char buf[300];
	memset(buf, 'n', sizeof buf);
	assert_name_valid(buf, 1);
	assert_name_valid(buf, 255);
	assert_name_invalid(buf, 256);
	assert_name_invalid(buf, 300);
}

static void
test_name_utf8(void)
{
	const char *names[] = {"d\xc3\xa9j\xc3\xa0", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x94\x8c",
	                       "caf\xc3\xa9-1"};
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		assert_name_valid(names[i], strlen(names[i]));
	/* Bytes >= 0x80 count as bytes: 85 three-byte characters are 255 bytes. */
	GString *s = g_string_new(NULL);
	for (int i = 0; i < 85; i++)
		g_string_append(s, "\xe2\x82\xac");
	assert_name_valid(s->str, s->len);
	g_string_append(s, "x");
	assert_name_invalid(s->str, s->len);
	g_string_free(s, TRUE);
}

static void
test_server_id(void)
{
	g_assert_true(anchor_server_id_valid(SERVER));
	g_assert_true(anchor_server_id_valid("X0123456789abcdef"));
	g_assert_false(anchor_server_id_valid("X0123456789ABCDEF"));
	g_assert_false(anchor_server_id_valid("Q0123456789abcdef"));
	g_assert_false(anchor_server_id_valid("X0123456789abcde"));
	g_assert_false(anchor_server_id_valid("X0123456789abcdef0"));
	g_assert_false(anchor_server_id_valid("X0123456789abcdeg"));
	g_assert_false(anchor_server_id_valid(""));
	g_assert_false(anchor_server_id_valid(NULL));
}

/* Splits @path, expecting success; returns the names joined by "|". */
static char *
split_ok(const char *path, gboolean *recursive)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) names = anchor_path_split(path, recursive, &error);
	g_assert_no_error(error);
	g_assert_nonnull(names);
	return g_strjoinv("|", names);
}

static void
split_fails(const char *path, gboolean allow_recursive, const char *needle)
{
	g_autoptr(GError) error = NULL;
	gboolean rec = TRUE;
	g_auto(GStrv) names = anchor_path_split(path, allow_recursive ? &rec : NULL, &error);
	g_assert_null(names);
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	if (needle && !strstr(error->message, needle))
		g_error("\"%s\" lacks \"%s\"", error->message, needle);
	if (allow_recursive)
		g_assert_false(rec);
}

static void
test_split_root(void)
{
	gboolean rec = TRUE;
	g_autofree char *a = split_ok("/", &rec);
	g_assert_cmpstr(a, ==, "");
	g_assert_false(rec);
	g_autofree char *b = split_ok("/", NULL);
	g_assert_cmpstr(b, ==, "");
}

static void
test_split_names(void)
{
	gboolean rec = TRUE;
	g_autofree char *a = split_ok("/" SERVER, &rec);
	g_assert_cmpstr(a, ==, SERVER);
	g_assert_false(rec);
	g_autofree char *b = split_ok("/" SERVER "/jobs/build", NULL);
	g_assert_cmpstr(b, ==, SERVER "|jobs|build");
	g_autofree char *c = split_ok("/" SERVER "/d\xc3\xa9j\xc3\xa0/...x", NULL);
	g_assert_cmpstr(c, ==, SERVER "|d\xc3\xa9j\xc3\xa0|...x");
}

static void
test_split_trailing_slash(void)
{
	g_autofree char *a = split_ok("/" SERVER "/jobs/", NULL);
	g_assert_cmpstr(a, ==, SERVER "|jobs");
	g_autofree char *b = split_ok("/" SERVER "/", NULL);
	g_assert_cmpstr(b, ==, SERVER);
	/* Only one is tolerated. */
	split_fails("/" SERVER "/jobs//", TRUE, "empty");
}

static void
test_split_recursive(void)
{
	gboolean rec = FALSE;
	g_autofree char *a = split_ok("/...", &rec);
	g_assert_cmpstr(a, ==, "");
	g_assert_true(rec);
	rec = FALSE;
	g_autofree char *b = split_ok("/" SERVER "/jobs/...", &rec);
	g_assert_cmpstr(b, ==, SERVER "|jobs");
	g_assert_true(rec);
	/* Without a place to say so, /... is refused. */
	split_fails("/...", FALSE, "/...");
	split_fails("/" SERVER "/jobs/...", FALSE, "/...");
}

static void
test_split_double_slash(void)
{
	split_fails("//" SERVER, TRUE, "empty");
	split_fails("/" SERVER "//jobs", TRUE, "empty");
	split_fails("/" SERVER "/jobs//build", TRUE, "empty");
}

/* "//" was once taken for "/" (the trailing-slash rule stripped the second
 * slash before names were checked). */
static void
test_split_double_slash_root(void)
{
	split_fails("//", TRUE, "empty");
	split_fails("//...", TRUE, "empty");
}

static void
test_split_bad_names(void)
{
	split_fails("", TRUE, "absolute");
	split_fails(SERVER "/jobs", TRUE, "absolute");
	split_fails(NULL, TRUE, "absolute");
	split_fails("/" SERVER "/..", TRUE, "..");
	split_fails("/" SERVER "/./jobs", TRUE, "reserved");
	split_fails("/" SERVER "/a\x01"
	            "b",
	            TRUE, "0x01");
	g_autofree char *longname = g_strnfill(256, 'a');
	g_autofree char *path = g_strconcat("/" SERVER "/", longname, NULL);
	split_fails(path, TRUE, "256");
}

static void
test_split_server_first(void)
{
	split_fails("/jobs", TRUE, "not a server");
	split_fails("/jobs/" SERVER, TRUE, "not a server");
	/* Uppercase hex is not a server ID. */
	split_fails("/X88550014D4C82E4D/jobs", TRUE, "not a server");
	split_fails("/Q88550014d4c82e4d", TRUE, "not a server");
	split_fails("/X88550014d4c82e4", TRUE, "not a server");
}

static void
test_join(void)
{
	g_autofree char *root = anchor_path_join(NULL, 0);
	g_assert_cmpstr(root, ==, "/");
	const char *names[] = {SERVER, "jobs", "build", NULL};
	g_autofree char *one = anchor_path_join(names, 1);
	g_assert_cmpstr(one, ==, "/" SERVER);
	g_autofree char *three = anchor_path_join(names, 3);
	g_assert_cmpstr(three, ==, "/" SERVER "/jobs/build");
	/* Split and join are inverses for canonical paths. */
	g_auto(GStrv) split = anchor_path_split(three, NULL, NULL);
	g_assert_nonnull(split);
	g_autofree char *again = anchor_path_join((const char *const *)split, g_strv_length(split));
	g_assert_cmpstr(again, ==, three);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lib/wire/name/empty", test_name_empty);
	g_test_add_func("/lib/wire/name/dots", test_name_dots);
	g_test_add_func("/lib/wire/name/slash", test_name_slash);
	g_test_add_func("/lib/wire/name/control", test_name_control);
	g_test_add_func("/lib/wire/name/length", test_name_length);
	g_test_add_func("/lib/wire/name/utf8", test_name_utf8);
	g_test_add_func("/lib/wire/name/server-id", test_server_id);
	g_test_add_func("/lib/wire/path/split-root", test_split_root);
	g_test_add_func("/lib/wire/path/split-names", test_split_names);
	g_test_add_func("/lib/wire/path/trailing-slash", test_split_trailing_slash);
	g_test_add_func("/lib/wire/path/recursive", test_split_recursive);
	g_test_add_func("/lib/wire/path/double-slash", test_split_double_slash);
	g_test_add_func("/lib/wire/path/double-slash-root", test_split_double_slash_root);
	g_test_add_func("/lib/wire/path/bad-names", test_split_bad_names);
	g_test_add_func("/lib/wire/path/server-first", test_split_server_first);
	g_test_add_func("/lib/wire/path/join", test_join);
	return g_test_run();
}
