// SPDX-License-Identifier: Apache-2.0
//
// test_url.c - circuit URLs and HOST:PORT (lib/wire/url.c).
#include "wire/url.h"

#include <circuit/plugin.h>
#include <string.h>

#define ID "X88550014d4c82e4d"

static void
parse_ok(const char *text, gboolean default_port, const char *host, guint16 port, const char *id)
{
	Url u;
	g_autoptr(GError) error = NULL;
	gboolean ok = url_parse(text, default_port, &u, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpstr(u.host, ==, host);
	g_assert_cmpuint(u.port, ==, port);
	g_assert_cmpstr(u.id, ==, id);
	url_clear(&u);
	g_assert_null(u.host);
	g_assert_null(u.id);
}

static void
parse_fails(const char *text, gboolean default_port, const char *needle)
{
	Url u;
	g_autoptr(GError) error = NULL;
	if (url_parse(text, default_port, &u, &error))
		g_error("\"%s\" was accepted as host \"%s\" port %u", text, u.host, u.port);
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	if (needle && !strstr(error->message, needle))
		g_error("\"%s\" lacks \"%s\"", error->message, needle);
	g_assert_null(u.host);
	g_assert_null(u.id);
}

static void
test_full(void)
{
	parse_ok("circuit://127.0.0.1:11022/4242/" ID, FALSE, "127.0.0.1", 11022, ID);
	parse_ok("circuit://10.0.0.7:1/1/" ID, TRUE, "10.0.0.7", 1, ID);
	parse_ok("circuit://example.org:65535/99999/" ID, FALSE, "example.org", 65535, ID);
	/* Surrounding whitespace (a URL read from a file) is ignored. */
	parse_ok("  circuit://127.0.0.1:11022/1/" ID "\n", FALSE, "127.0.0.1", 11022, ID);
}

static void
test_q_id(void)
{
	/* The original's spelling: Q ids are rewritten to X. */
	parse_ok("circuit://127.0.0.1:11022/4242/Q88550014d4c82e4d", FALSE, "127.0.0.1", 11022, ID);
	parse_ok("circuit://127.0.0.1:11022/4242/Q88550014D4C82E4D", FALSE, "127.0.0.1", 11022, ID);
}

static void
test_bad_id(void)
{
	parse_fails("circuit://127.0.0.1:11022/4242/Z88550014d4c82e4d", FALSE, "server ID");
	parse_fails("circuit://127.0.0.1:11022/4242/X88550014d4c82e4", FALSE, "server ID");
	parse_fails("circuit://127.0.0.1:11022/4242/X88550014d4c82e4dd", FALSE, "server ID");
	parse_fails("circuit://127.0.0.1:11022/4242/X88550014d4c82e4g", FALSE, "server ID");
}

static void
test_missing_parts(void)
{
	parse_fails("circuit://127.0.0.1:11022", FALSE, "circuit://HOST:PORT/PID/ID");
	parse_fails("circuit://127.0.0.1:11022/4242", FALSE, "circuit://HOST:PORT/PID/ID");
	/* A URL always names its port. */
	parse_fails("circuit://127.0.0.1/4242/" ID, TRUE, "no port");
	parse_fails("circuit://:11022/4242/" ID, FALSE, "no host");
	parse_fails("", TRUE, NULL);
	parse_fails("   ", TRUE, NULL);
	parse_fails(NULL, TRUE, "no address");
	parse_fails(":11022", TRUE, "no host");
}

static void
test_hostport(void)
{
	parse_ok("127.0.0.1:11022", FALSE, "127.0.0.1", 11022, NULL);
	parse_ok("localhost:80", TRUE, "localhost", 80, NULL);
	parse_ok("[::1]:5000", FALSE, "::1", 5000, NULL);
	parse_ok("[fe80::1%eth0]:7", FALSE, "fe80::1%eth0", 7, NULL);
}

static void
test_default_port(void)
{
	parse_ok("127.0.0.1", TRUE, "127.0.0.1", URL_DEFAULT_PORT, NULL);
	parse_ok("[::1]", TRUE, "::1", URL_DEFAULT_PORT, NULL);
	g_assert_cmpuint(URL_DEFAULT_PORT, ==, 11022);
	parse_fails("127.0.0.1", FALSE, "no port");
	parse_fails("[::1]", FALSE, "no port");
}

static void
test_ipv6(void)
{
	parse_ok("circuit://[::1]:11022/1/" ID, FALSE, "::1", 11022, ID);
	parse_ok("circuit://[2001:db8::7]:1/1/" ID, FALSE, "2001:db8::7", 1, ID);
	parse_fails("::1", TRUE, "brackets");
	parse_fails("2001:db8::7:11022", TRUE, "brackets");
	parse_fails("[::1", TRUE, "missing ]");
	parse_fails("[::1]11022", TRUE, "expected :");
	parse_fails("[]:11022", TRUE, "no host");
}

static void
test_bad_ports(void)
{
	const char *bad[] = {"h:",     "h:x",    "h:65536",     "h:-1",  "h:1x",    "h:99999",
	                     "h:0x10", "[::1]:", "[::1]:70000", "h:1:2", "h:11022/"};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
		parse_fails(bad[i], TRUE, NULL);
	parse_fails("circuit://127.0.0.1:70000/1/" ID, FALSE, "bad port");
	parse_fails("circuit://127.0.0.1:abc/1/" ID, FALSE, "bad port");
}

static void
test_port_whitespace(void)
{
	/* strtol() skips leading blanks, so "h: 1" was once port 1. */
	parse_fails("h: 1", TRUE, "bad port");
	parse_fails("circuit://h:+1/1/" ID, TRUE, "bad port");
}

/* An empty ID once made url_parse() lowercase past the end of "" (ASan
 * catches a regression here). */
static void
test_empty_id(void)
{
	parse_fails("circuit://127.0.0.1:11022/4242/", FALSE, "server ID");
}

static void
test_format(void)
{
	g_autofree char *v4 = url_format("127.0.0.1", 11022, 4242, ID);
	g_assert_cmpstr(v4, ==, "circuit://127.0.0.1:11022/4242/" ID);
	g_autofree char *v6 = url_format("::1", 5, 1, ID);
	g_assert_cmpstr(v6, ==, "circuit://[::1]:5/1/" ID);
	/* What url_format writes, url_parse reads back. */
	parse_ok(v4, FALSE, "127.0.0.1", 11022, ID);
	parse_ok(v6, FALSE, "::1", 5, ID);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lib/wire/url/full", test_full);
	g_test_add_func("/lib/wire/url/q-id", test_q_id);
	g_test_add_func("/lib/wire/url/bad-id", test_bad_id);
	g_test_add_func("/lib/wire/url/missing-parts", test_missing_parts);
	g_test_add_func("/lib/wire/url/hostport", test_hostport);
	g_test_add_func("/lib/wire/url/default-port", test_default_port);
	g_test_add_func("/lib/wire/url/ipv6", test_ipv6);
	g_test_add_func("/lib/wire/url/bad-ports", test_bad_ports);
	g_test_add_func("/lib/wire/url/format", test_format);
	g_test_add_func("/lib/wire/url/port-whitespace", test_port_whitespace);
	g_test_add_func("/lib/wire/url/empty-id", test_empty_id);
	return g_test_run();
}
