// SPDX-License-Identifier: Apache-2.0
//
// test_docker_spec.c - the docker element's pure parts: the spec of mkdkr
// (the README example, every key, bad keys and types; the service options:
// Ports, Network, User, Hostname, Labels, Init, ReadOnly, Tmpfs, Ulimits,
// each in the create body and each bad value refused), the create body,
// image names, signal names, container names, the stream demultiplexer and
// the check of the host paths a spec binds (--docker-allow-bind).
#include "docker_spec.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static DockerSpec *
parse(const char *text, GError **error)
{
	return docker_spec_parse(text, strlen(text), error);
}

static void
test_readme(void)
{
	/* The original's example, trailing comma included. */
	const char *text = "{\n"
	                   "\t\"Image\": \"ubuntu\",\n"
	                   "\t\"Memory\": 1000000000,\n"
	                   "\t\"CpuShares\": 3,\n"
	                   "\t\"Lxc\": [\"lxc.cgroup.cpuset.cpus = 0,1\"],\n"
	                   "\t\"Volume\": [\"/webapp\", \"/src/webapp:/opt/webapp:ro\"],\n"
	                   "\t\"Dir\": \"/\",\n"
	                   "\t\"Entry\": \"\",\n"
	                   "\t\"Env\": [\"PATH=/usr/bin\"],\n"
	                   "\t\"Path\": \"/bin/ls\",\n"
	                   "\t\"Args\": [\"/\"],\n"
	                   "}\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec = parse(text, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(spec->image, ==, "ubuntu");
	g_assert_cmpint(spec->memory, ==, 1000000000);
	g_assert_cmpint(spec->cpu_shares, ==, 3);
	g_assert_cmpuint(g_strv_length(spec->lxc), ==, 1);
	g_assert_cmpuint(g_strv_length(spec->volumes), ==, 2);
	g_assert_cmpstr(spec->path, ==, "/bin/ls");
	g_assert_cmpstr(spec->args[0], ==, "/");
	g_assert_false(spec->scrub);

	g_autoptr(GHashTable) labels = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(labels, (gpointer) "io.circuit.anchor", (gpointer) "/X1/docky");
	g_autoptr(JsonNode) body = docker_spec_to_create(spec, labels);
	g_autofree char *json = json_to_string(body, FALSE);
	g_assert_nonnull(strstr(json, "\"Cmd\":[\"/bin/ls\",\"/\"]"));
	g_assert_nonnull(strstr(json, "\"Volumes\":{\"/webapp\":{}}"));
	g_assert_nonnull(strstr(json, "\"Binds\":[\"/src/webapp:/opt/webapp:ro\"]"));
	g_assert_nonnull(strstr(json, "\"Memory\":1000000000"));
	g_assert_nonnull(strstr(json, "\"CpuShares\":3"));
	g_assert_nonnull(strstr(json, "\"OpenStdin\":true"));
	g_assert_nonnull(strstr(json, "\"Tty\":false"));
	g_assert_nonnull(strstr(json, "\"io.circuit.anchor\":\"/X1/docky\""));
	g_assert_null(strstr(json, "Entrypoint")); /* "" keeps the image's */
	g_assert_nonnull(strstr(json, "\"WorkingDir\":\"/\""));
}

static void
test_minimal(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec =
	        parse("{\"image\":\"busybox\",\"args\":[\"a\",\"b\"],\"scrub\":true}", &error);
	g_assert_no_error(error);
	g_assert_true(spec->scrub);
	g_autoptr(JsonNode) body = docker_spec_to_create(spec, NULL);
	g_autofree char *json = json_to_string(body, FALSE);
	/* Args without Path: arguments of the image's entrypoint. */
	g_assert_nonnull(strstr(json, "\"Cmd\":[\"a\",\"b\"]"));
	g_assert_null(strstr(json, "\"Env\""));
}

static void
expect_invalid(const char *text, const char *needle)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec = parse(text, &error);
	g_assert_null(spec);
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	if (!strstr(error->message, needle))
		g_error("\"%s\" lacks \"%s\"", error->message, needle);
	g_assert_null(strchr(error->message, '\n'));
}

static void
test_invalid(void)
{
	expect_invalid("", "no container spec");
	expect_invalid("{", "not valid JSON");
	expect_invalid("[1]", "must be a JSON object");
	expect_invalid("{}", "\"Image\" is required");
	expect_invalid("{\"Image\":\"\"}", "\"Image\" is required");
	expect_invalid("{\"Image\":\"x\",\"Bogus\":1}", "unknown key \"Bogus\"");
	expect_invalid("{\"Image\":3}", "\"Image\" must be a string");
	expect_invalid("{\"Image\":\"x\",\"Memory\":\"1g\"}", "\"Memory\" must be a non-negative");
	expect_invalid("{\"Image\":\"x\",\"Memory\":-1}", "\"Memory\" must be a non-negative");
	expect_invalid("{\"Image\":\"x\",\"CpuShares\":1.5}", "\"CpuShares\" must be");
	expect_invalid("{\"Image\":\"x\",\"Env\":\"A=1\"}", "\"Env\" must be an array");
	expect_invalid("{\"Image\":\"x\",\"Args\":[1]}", "\"Args\"[0] is not a string");
	expect_invalid("{\"Image\":\"x\",\"Scrub\":\"yes\"}", "\"Scrub\" must be true or false");
	expect_invalid("{\"Image\":\"x\",\"Pull\":1}", "\"Pull\" must be true or false");
	expect_invalid("{\"Image\":\"x\",\"Lxc\":{}}", "\"Lxc\" must be an array");
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"rel\"]}", "must be absolute");
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"/a:rel\"]}", "absolute container path");
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"/a:/b:xx\"]}", "ro or rw");
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"/a:/b:ro:z\"]}", "expected /path");
	/* A host path must be absolute; what is not one must be a volume name. */
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"./data:/b\"]}",
	               "host path must be absolute");
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"data/x:/b\"]}",
	               "host path must be absolute");
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"~/x:/b\"]}", "host path must be absolute");
	/* A comma inside a string is not a trailing comma. */
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec =
	        parse("{\"Image\":\"x\",\"Args\":[\"a,]\", \"b,}\"],}", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(spec->args[0], ==, "a,]");
	g_assert_cmpstr(spec->args[1], ==, "b,}");
}

/* The dialect of every kind's spec (the host's spec reader): the texts
 * tests/plugins/proc/test_proc_spec.c checks, refused at the same line and
 * column. */
static void
test_dialect(void)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
	        {"{Image:\"x\"}", "container spec is not valid JSON: line 1, column 2: expected a "
	                          "quoted key (like \"Path\") or }, found Image"},
	        {"{\"Image\":\"x\"\n\"Args\":[]}",
	         "container spec is not valid JSON: line 2, column 1: expected , or } after the "
	         "value of \"Image\", found the string \"Args\""},
	        {"{\"Image\":\"x\"",
	         "container spec is not valid JSON: line 1, column 13: expected "
	         ", or } after the value of \"Image\", found the end of the input"},
	        {"{\"Image\":'x'}", "container spec is not valid JSON: line 1, column 10: expected "
	                            "a value for \"Image\", found ' (JSON strings take double "
	                            "quotes)"},
	        {"{\"Image\":\"x}",
	         "container spec is not valid JSON: unterminated string starting at line 1, column "
	         "10"},
	        {"{\"Image\":\"x\"} {}",
	         "container spec is not valid JSON: line 1, column 15: { after the end of the JSON "
	         "object"},
	        {"[\"x\"]", "container spec must be a JSON object (like "
	                    "{\"Image\":\"busybox\",\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}), found "
	                    "an array"},
	        {"{\"Image\":5}", "container spec: \"Image\" must be a string, found the number 5"},
	        {"{\"Image\":\"x\",\"Args\":[\"a\",,]}",
	         "container spec is not valid JSON: line 1, column 26: expected element 1 of "
	         "\"Args\" or ], found ,"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(DockerSpec) spec = parse(bad[i].text, &error);
		g_assert_null(spec);
		g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, bad[i].message);
	}
}

/* The create body of @text (which must parse), compact. */
static char *
create_json(const char *text, GHashTable *labels)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec = parse(text, &error);
	g_assert_no_error(error);
	g_autoptr(JsonNode) body = docker_spec_to_create(spec, labels);
	return json_to_string(body, FALSE);
}

static void
expect_in(const char *json, const char *needle)
{
	if (!strstr(json, needle))
		g_error("%s lacks %s", json, needle);
}

static void
test_options_absent(void)
{
	/* Without the options, the create body is what it was. */
	g_autofree char *json = create_json("{\"Image\":\"x\"}", NULL);
	static const char *const absent[] = {"\"User\"",       "\"Hostname\"", "ExposedPorts",
	                                     "PortBindings",   "NetworkMode",  "\"Init\"",
	                                     "ReadonlyRootfs", "\"Tmpfs\"",    "Ulimits"};
	for (guint i = 0; i < G_N_ELEMENTS(absent); i++)
		if (strstr(json, absent[i]))
			g_error("%s has %s", json, absent[i]);
	expect_in(json, "\"Labels\":{}");
	/* null is absent, and so is "" for the strings. */
	g_autofree char *nulls =
	        create_json("{\"Image\":\"x\",\"Ports\":null,\"Network\":\"\",\"User\":null,"
	                    "\"Hostname\":\"\",\"Labels\":null,\"Init\":null,\"ReadOnly\":null,"
	                    "\"Tmpfs\":null,\"Ulimits\":null}",
	                    NULL);
	for (guint i = 0; i < G_N_ELEMENTS(absent); i++)
		if (strstr(nulls, absent[i]))
			g_error("%s has %s", nulls, absent[i]);
}

static void
test_options_all(void)
{
	const char *text =
	        "{\"Image\":\"x\",\n"
	        " \"Ports\": [\"127.0.0.1:8080:80/tcp\", \"9090:90\", \"53/udp\"],\n"
	        " \"Network\": \"bridge\",\n"
	        " \"User\": \"1000:100\",\n"
	        " \"Hostname\": \"web-1.example\",\n"
	        " \"Labels\": {\"com.example.tier\": \"web\", \"empty\": \"\"},\n"
	        " \"Init\": true,\n"
	        " \"ReadOnly\": true,\n"
	        " \"Tmpfs\": {\"/run\": \"size=64k\", \"/tmp/\": \"\"},\n"
	        " \"Ulimits\": {\"nofile\": {\"Soft\": 1024, \"Hard\": 4096}, \"NPROC\": 50,\n"
	        "             \"memlock\": -1, \"core\": {\"soft\": 0, \"hard\": -1}},\n"
	        "}";
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec = parse(text, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(spec->ports->len, ==, 3);
	g_assert_cmpstr(spec->network, ==, "bridge");
	g_assert_cmpstr(spec->user, ==, "1000:100");
	g_assert_cmpstr(spec->hostname, ==, "web-1.example");
	g_assert_cmpuint(g_strv_length(spec->label_keys), ==, 2);
	g_assert_cmpint(spec->init, ==, 1);
	g_assert_cmpint(spec->read_only, ==, 1);
	g_assert_cmpuint(spec->tmpfs->len, ==, 2);
	g_assert_cmpuint(spec->ulimits->len, ==, 4);

	g_autoptr(GHashTable) labels = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(labels, (gpointer) "io.circuit.anchor", (gpointer) "/X1/web");
	g_autoptr(JsonNode) body = docker_spec_to_create(spec, labels);
	g_autofree char *json = json_to_string(body, FALSE);
	expect_in(json, "\"User\":\"1000:100\"");
	expect_in(json, "\"Hostname\":\"web-1.example\"");
	expect_in(json, "\"ExposedPorts\":{\"80/tcp\":{},\"90/tcp\":{},\"53/udp\":{}}");
	expect_in(json, "\"PortBindings\":{"
	                "\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"}],"
	                "\"90/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"9090\"}],"
	                "\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
	expect_in(json, "\"NetworkMode\":\"bridge\"");
	/* The user's labels and the element's, together. */
	expect_in(json, "\"com.example.tier\":\"web\"");
	expect_in(json, "\"empty\":\"\"");
	expect_in(json, "\"io.circuit.anchor\":\"/X1/web\"");
	expect_in(json, "\"Init\":true");
	expect_in(json, "\"ReadonlyRootfs\":true");
	/* Paths cleaned. */
	expect_in(json, "\"Tmpfs\":{\"/run\":\"size=64k\",\"/tmp\":\"\"}");
	/* Sorted by name, lower case; a number is both limits; -1 unlimited. */
	expect_in(json, "\"Ulimits\":["
	                "{\"Name\":\"core\",\"Soft\":0,\"Hard\":-1},"
	                "{\"Name\":\"memlock\",\"Soft\":-1,\"Hard\":-1},"
	                "{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":4096},"
	                "{\"Name\":\"nproc\",\"Soft\":50,\"Hard\":50}]");
	/* The options are HostConfig's, User and Hostname Config's. */
	JsonObject *o = json_node_get_object(body);
	JsonObject *host = json_object_get_object_member(o, "HostConfig");
	g_assert_true(json_object_has_member(o, "User"));
	g_assert_true(json_object_has_member(o, "ExposedPorts"));
	g_assert_false(json_object_has_member(host, "User"));
	static const char *const in_host[] = {"PortBindings",   "NetworkMode", "Init",
	                                      "ReadonlyRootfs", "Tmpfs",       "Ulimits"};
	for (guint i = 0; i < G_N_ELEMENTS(in_host); i++) {
		g_assert_true(json_object_has_member(host, in_host[i]));
		g_assert_false(json_object_has_member(o, in_host[i]));
	}
}

static void
test_options_forms(void)
{
	/* false is sent (it overrides an engine's default), unlike absent. */
	g_autofree char *f =
	        create_json("{\"Image\":\"x\",\"Init\":false,\"ReadOnly\":false}", NULL);
	expect_in(f, "\"Init\":false");
	expect_in(f, "\"ReadonlyRootfs\":false");
	/* Ports: every spelling; one container port published twice. */
	g_autofree char *p = create_json(
	        "{\"Image\":\"x\",\"Ports\":[\"80\",\"127.0.0.1::81\",\"[::1]:8082:82/udp\","
	        "\"[::1]::83/sctp\",\"8080:80\",\"127.0.0.1:8081:80\"]}",
	        NULL);
	expect_in(p, "\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"},"
	             "{\"HostIp\":\"\",\"HostPort\":\"8080\"},"
	             "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8081\"}]");
	expect_in(p, "\"81/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]");
	expect_in(p, "\"82/udp\":[{\"HostIp\":\"::1\",\"HostPort\":\"8082\"}]");
	expect_in(p, "\"83/sctp\":[{\"HostIp\":\"::1\",\"HostPort\":\"\"}]");
	expect_in(p, "\"ExposedPorts\":{\"80/tcp\":{},\"81/tcp\":{},\"82/udp\":{},\"83/sctp\":{}}");
	/* The same host port over tcp and udp is two bindings. */
	g_autofree char *tu =
	        create_json("{\"Image\":\"x\",\"Ports\":[\"5353:53\",\"5353:53/udp\"]}", NULL);
	expect_in(tu, "\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"5353\"}]");
	/* Network: the modes and names. */
	static const char *const networks[] = {
	        "none",      "host", "bridge", "container:circuit-X1.a-1", "container:0123abcd",
	        "my_net.1-x"};
	for (guint i = 0; i < G_N_ELEMENTS(networks); i++) {
		g_autofree char *text =
		        g_strdup_printf("{\"Image\":\"x\",\"Network\":\"%s\"}", networks[i]);
		g_autofree char *json = create_json(text, NULL);
		g_autofree char *want = g_strdup_printf("\"NetworkMode\":\"%s\"", networks[i]);
		expect_in(json, want);
	}
	/* User: uid, uid:gid, names. */
	static const char *const users[] = {
	        "0", "1000", "1000:1000", "nobody", "www-data:www-data", "app:0", "4294967294"};
	for (guint i = 0; i < G_N_ELEMENTS(users); i++) {
		g_autofree char *text =
		        g_strdup_printf("{\"Image\":\"x\",\"User\":\"%s\"}", users[i]);
		g_autofree char *json = create_json(text, NULL);
		g_autofree char *want = g_strdup_printf("\"User\":\"%s\"", users[i]);
		expect_in(json, want);
	}
	/* Hostname: a label, a dotted name, 64 characters. */
	g_autofree char *h63 = g_strnfill(63, 'a');
	g_autofree char *c62 = g_strnfill(62, 'c');
	g_autofree char *h64 = g_strdup_printf("b.%s", c62);
	const char *hosts[] = {"a", "web-1", "x.y.example", "1abc", h63, h64};
	for (guint i = 0; i < G_N_ELEMENTS(hosts); i++) {
		g_autofree char *text =
		        g_strdup_printf("{\"Image\":\"x\",\"Hostname\":\"%s\"}", hosts[i]);
		g_autofree char *json = create_json(text, NULL);
		g_autofree char *want = g_strdup_printf("\"Hostname\":\"%s\"", hosts[i]);
		expect_in(json, want);
	}
	/* Tmpfs: an array of paths, with options as docker run --tmpfs. */
	g_autofree char *t = create_json(
	        "{\"Image\":\"x\",\"Tmpfs\":[\"/run\",\"/data:size=1m,mode=1777\"]}", NULL);
	expect_in(t, "\"Tmpfs\":{\"/run\":\"\",\"/data\":\"size=1m,mode=1777\"}");
	g_autofree char *tn = create_json("{\"Image\":\"x\",\"Tmpfs\":{\"/run\":null}}", NULL);
	expect_in(tn, "\"Tmpfs\":{\"/run\":\"\"}");
	/* Labels: the element's win over nothing (io.circuit.* is refused). */
	g_autoptr(GHashTable) labels = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(labels, (gpointer) "io.circuit.server", (gpointer) "X1");
	g_autofree char *l = create_json(
	        "{\"Image\":\"x\",\"Labels\":{\"io.circuitx\":\"a\",\"circuit\":\"b\"}}", labels);
	expect_in(l, "\"Labels\":{\"io.circuitx\":\"a\",\"circuit\":\"b\",\"io.circuit.server\":"
	             "\"X1\"}");
}

static void
test_options_invalid(void)
{
	/* Ports */
	expect_invalid("{\"Image\":\"x\",\"Ports\":\"80\"}",
	               "\"Ports\" must be an array of strings");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[80]}", "\"Ports\"[0] is not a string");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"80\",\"\"]}",
	               "\"Ports\"[1] \"\": the container port must be a number from 1 to 65535");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"0\"]}",
	               "\"Ports\"[0] \"0\": the container port");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"65536\"]}", "\"Ports\"[0] \"65536\": the "
	                                                          "container port");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"http\"]}", "\"Ports\"[0] \"http\": the "
	                                                         "container port");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"+80\"]}", "\"Ports\"[0] \"+80\"");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"80/icmp\"]}",
	               "\"Ports\"[0] \"80/icmp\": the protocol must be tcp, udp or sctp");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"80/\"]}", "the protocol must be");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"80/TCP/udp\"]}",
	               "\"Ports\"[0] \"80/TCP/udp\"");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\":80\"]}",
	               "\"Ports\"[0] \":80\": the host port must be a number");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"99999:80\"]}", "the host port must be");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"8000-8010:80\"]}",
	               "\"Ports\"[0] \"8000-8010:80\": port ranges are not supported");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"localhost:8080:80\"]}",
	               "\"Ports\"[0] \"localhost:8080:80\": the host address must be an IPv4 "
	               "address");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"1.2.3.4:5:6:7\"]}", "the host address");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"::1:8080:80\"]}", "the host address");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"[nope]:8080:80\"]}", "not an IPv6 address");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"[::1]:80\"]}", "needs a host port");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"8080:80\",\"8080:81\"]}",
	               "\"Ports\"[1] \"8080:81\": host port 8080/tcp is already published by "
	               "\"Ports\"[0] \"8080:80\"");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"127.0.0.1:8080:80\",\"8080:81\"]}",
	               "already published");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"80\"],\"Network\":\"none\"}",
	               "\"Ports\" cannot be published with \"Network\" \"none\"");
	expect_invalid("{\"Image\":\"x\",\"Network\":\"host\",\"Ports\":[\"80\"]}",
	               "\"Network\" \"host\"");
	expect_invalid("{\"Image\":\"x\",\"Ports\":[\"80\"],\"Network\":\"container:abc\"}",
	               "\"Network\" \"container:abc\"");
	/* Network */
	expect_invalid("{\"Image\":\"x\",\"Network\":1}", "\"Network\" must be a string");
	expect_invalid("{\"Image\":\"x\",\"Network\":\"my net\"}",
	               "\"Network\" \"my net\": expected none, host, bridge, container:NAME-OR-ID");
	expect_invalid("{\"Image\":\"x\",\"Network\":\"container:\"}",
	               "\"Network\" \"container:\"");
	expect_invalid("{\"Image\":\"x\",\"Network\":\"ns:/proc/1/ns/net\"}",
	               "\"Network\" \"ns:/proc/1/ns/net\"");
	expect_invalid("{\"Image\":\"x\",\"Network\":\"-x\"}", "\"Network\" \"-x\"");
	/* User */
	expect_invalid("{\"Image\":\"x\",\"User\":1000}", "\"User\" must be a string");
	expect_invalid("{\"Image\":\"x\",\"User\":\"a b\"}",
	               "\"User\" \"a b\": expected uid, uid:gid, name or name:group");
	expect_invalid("{\"Image\":\"x\",\"User\":\"1000:\"}", "\"User\" \"1000:\"");
	expect_invalid("{\"Image\":\"x\",\"User\":\":100\"}", "\"User\" \":100\"");
	expect_invalid("{\"Image\":\"x\",\"User\":\"1:2:3\"}", "\"User\" \"1:2:3\"");
	expect_invalid("{\"Image\":\"x\",\"User\":\"4294967295\"}", "\"User\" \"4294967295\"");
	expect_invalid("{\"Image\":\"x\",\"User\":\"root;id\"}", "\"User\" \"root;id\"");
	/* Hostname */
	expect_invalid("{\"Image\":\"x\",\"Hostname\":true}", "\"Hostname\" must be a string");
	static const char *const bad_hosts[] = {"-web", "web-", "a..b", "a.",
	                                        ".a",   "a_b",  "a b",  "ü"};
	for (guint i = 0; i < G_N_ELEMENTS(bad_hosts); i++) {
		g_autofree char *text =
		        g_strdup_printf("{\"Image\":\"x\",\"Hostname\":\"%s\"}", bad_hosts[i]);
		g_autofree char *needle =
		        g_strdup_printf("\"Hostname\" \"%s\": not a valid host name", bad_hosts[i]);
		expect_invalid(text, needle);
	}
	g_autofree char *h64 = g_strnfill(64, 'a');
	g_autofree char *c63 = g_strnfill(63, 'c');
	g_autofree char *h65 = g_strdup_printf("b.%s", c63);
	g_autofree char *t64 = g_strdup_printf("{\"Image\":\"x\",\"Hostname\":\"%s\"}", h64);
	expect_invalid(t64, "not a valid host name");
	g_autofree char *t65 = g_strdup_printf("{\"Image\":\"x\",\"Hostname\":\"%s\"}", h65);
	expect_invalid(t65, "not a valid host name");
	/* Labels */
	expect_invalid("{\"Image\":\"x\",\"Labels\":[\"a=b\"]}", "\"Labels\" must be an object");
	expect_invalid("{\"Image\":\"x\",\"Labels\":{\"a\":1}}",
	               "\"Labels\" \"a\" is not a string");
	expect_invalid("{\"Image\":\"x\",\"Labels\":{\"a\":null}}", "\"Labels\" \"a\" is not a "
	                                                            "string");
	expect_invalid("{\"Image\":\"x\",\"Labels\":{\"\":\"v\"}}", "a label name cannot be empty");
	expect_invalid("{\"Image\":\"x\",\"Labels\":{\"io.circuit.owner\":\"me\"}}",
	               "\"Labels\" \"io.circuit.owner\": names under \"io.circuit.\" are the "
	               "element's own");
	expect_invalid("{\"Image\":\"x\",\"Labels\":{\"IO.Circuit.anchor\":\"/X/y\"}}",
	               "\"Labels\" \"IO.Circuit.anchor\": names under");
	expect_invalid("{\"Image\":\"x\",\"Labels\":{\"io.circuit.new\":\"\"}}",
	               "\"Labels\" \"io.circuit.new\"");
	/* Init, ReadOnly */
	expect_invalid("{\"Image\":\"x\",\"Init\":\"yes\"}", "\"Init\" must be true or false");
	expect_invalid("{\"Image\":\"x\",\"Init\":1}", "\"Init\" must be true or false");
	expect_invalid("{\"Image\":\"x\",\"ReadOnly\":\"true\"}", "\"ReadOnly\" must be true or "
	                                                          "false");
	/* Tmpfs */
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":\"/run\"}", "\"Tmpfs\" must be an object");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":[1]}", "\"Tmpfs\"[0] is not a string");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":{\"run\":\"\"}}",
	               "\"Tmpfs\" \"run\": the path must be absolute");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":[\"run\"]}",
	               "\"Tmpfs\"[0] \"run\": the path must be absolute");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":[\"\"]}", "\"Tmpfs\"[0] \"\": the path must be");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":{\"/\":\"\"}}",
	               "\"Tmpfs\" \"/\": the root file system cannot be a tmpfs");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":[\"/a/..\"]}",
	               "\"Tmpfs\"[0] \"/a/..\": the root");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":{\"/a:b\":\"\"}}", "\"Tmpfs\" \"/a:b\": a path "
	                                                              "cannot hold ':'");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":{\"/run\":5}}",
	               "\"Tmpfs\" \"/run\": the options must be a string");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":{\"/run\":\"size=1k,,mode=1777\"}}",
	               "\"Tmpfs\" \"/run\": the options must be a comma-separated list");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":{\"/run\":\"size=1k mode=1777\"}}",
	               "the options must be a comma-separated list");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":[\"/run:size=1k,\"]}",
	               "\"Tmpfs\"[0] \"/run:size=1k,\": the options");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":[\"/run\",\"/run/\"]}",
	               "\"Tmpfs\"[1] \"/run/\": that path is given twice");
	expect_invalid("{\"Image\":\"x\",\"Volume\":[\"/data\"],\"Tmpfs\":[\"/data\"]}",
	               "\"Tmpfs\" \"/data\": \"Volume\"[0] \"/data\" mounts there too");
	expect_invalid("{\"Image\":\"x\",\"Tmpfs\":[\"/d\"],\"Volume\":[\"v:/d/:ro\"]}",
	               "\"Volume\"[0] \"v:/d/:ro\" mounts there too");
	/* Ulimits */
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":[{\"Name\":\"nofile\"}]}",
	               "\"Ulimits\" must be an object");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofiles\":1}}",
	               "\"Ulimits\" \"nofiles\": unknown limit (known: core, cpu");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"as\":1}}", "\"Ulimits\" \"as\": unknown");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":1,\"NOFILE\":2}}",
	               "\"Ulimits\" \"NOFILE\": nofile is given twice");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":\"1024\"}}",
	               "\"Ulimits\" \"nofile\" must be an integer");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":-2}}",
	               "\"Ulimits\" \"nofile\" must");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":1.5}}",
	               "\"Ulimits\" \"nofile\" must");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":null}}", "\"Ulimits\" \"nofile\" "
	                                                                  "must");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":{\"Soft\":1}}}",
	               "\"Ulimits\" \"nofile\" must be an integer (-1 for unlimited) or {\"Soft\"");
	expect_invalid(
	        "{\"Image\":\"x\",\"Ulimits\":{\"nofile\":{\"Soft\":1,\"Hard\":2,\"Max\":3}}}",
	        "\"Ulimits\" \"nofile\" must");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":{\"Soft\":1,\"Hard\":\"2\"}}}",
	               "\"Ulimits\" \"nofile\" must");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"nofile\":{\"Soft\":4096,\"Hard\":1024}}}",
	               "\"Ulimits\" \"nofile\": \"Soft\" 4096 is above \"Hard\" 1024");
	expect_invalid("{\"Image\":\"x\",\"Ulimits\":{\"core\":{\"Soft\":-1,\"Hard\":0}}}",
	               "\"Ulimits\" \"core\": \"Soft\" -1 is above \"Hard\" 0");
	/* The unknown key names the new keys too. */
	expect_invalid(
	        "{\"Image\":\"x\",\"Port\":[\"80\"]}",
	        "unknown key \"Port\" (known: Image, Memory, CpuShares, Lxc, Volume, Dir, "
	        "Entry, Env, Path, Args, Scrub, Pull, Ports, Network, User, Hostname, Labels, "
	        "Init, ReadOnly, Tmpfs, Ulimits)");
}

static void
test_image_split(void)
{
	static const char *const cases[][3] = {
	        {"busybox", "busybox", "latest"},
	        {"busybox:1.36", "busybox", "1.36"},
	        {"localhost:5000/a/b", "localhost:5000/a/b", "latest"},
	        {"localhost:5000/a/b:v2", "localhost:5000/a/b", "v2"},
	        {"x@sha256:abc", "x@sha256:abc", ""},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *repo = NULL, *tag = NULL;
		docker_image_split(cases[i][0], &repo, &tag);
		g_assert_cmpstr(repo, ==, cases[i][1]);
		g_assert_cmpstr(tag, ==, cases[i][2]);
	}
}

static void
test_signals(void)
{
	static const char *const ok[][2] = {
	        {"TERM", "SIGTERM"},    {"term", "SIGTERM"}, {"SIGTERM", "SIGTERM"},
	        {"sigkill", "SIGKILL"}, {"9", "SIGKILL"},    {"Usr1", "SIGUSR1"},
	        {"40", "40"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autofree char *s = docker_signal_parse(ok[i][0]);
		g_assert_cmpstr(s, ==, ok[i][1]);
	}
	static const char *const bad[] = {"", "0", "65", "BOGUS", "SIG", "9x", "-9"};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_null(docker_signal_parse(bad[i]));
}

static void
test_names(void)
{
	g_autofree char *a = docker_name_for("/X0123456789abcdef/jobs/build", 7);
	g_assert_cmpstr(a, ==, "circuit-X0123456789abcdef.jobs.build-7");
	g_autofree char *b = docker_name_for("/X01/a b/ü", 1);
	g_assert_cmpstr(b, ==, "circuit-X01.a_b.__-1");
	g_autofree char *long_path = g_strnfill(400, 'a');
	g_autofree char *c = docker_name_for(long_path, 2);
	g_assert_cmpuint(strlen(c), <=, 200);
	g_assert_true(g_str_has_suffix(c, "-2"));
}

typedef struct {
	GString *out;
	GString *err;
} Sink;

static void
sink(guint8 stream, const guint8 *data, gsize len, gpointer user_data)
{
	Sink *s = user_data;
	g_string_append_len(stream == 2 ? s->err : s->out, (const char *)data, (gssize)len);
}

static void
test_demux(void)
{
	/* stdout "hello\n", stderr "oops", stdout "" (empty frame), stdout "!" */
	static const guint8 stream[] = {1, 0, 0, 0, 0, 0, 0, 6,   'h', 'e', 'l', 'l', 'o', '\n', 2,
	                                0, 0, 0, 0, 0, 0, 4, 'o', 'o', 'p', 's', 1,   0,   0,    0,
	                                0, 0, 0, 0, 1, 0, 0, 0,   0,   0,   0,   1,   '!'};
	/* Every split of the stream into two pieces decodes the same. */
	for (gsize cut = 0; cut <= sizeof stream; cut++) {
		Sink s = {g_string_new(NULL), g_string_new(NULL)};
		DockerDemux d = {0};
		docker_demux_feed(&d, stream, cut, sink, &s);
		docker_demux_feed(&d, stream + cut, sizeof stream - cut, sink, &s);
		g_assert_cmpstr(s.out->str, ==, "hello\n!");
		g_assert_cmpstr(s.err->str, ==, "oops");
		g_string_free(s.out, TRUE);
		g_string_free(s.err, TRUE);
	}
	/* Byte by byte. */
	Sink s = {g_string_new(NULL), g_string_new(NULL)};
	DockerDemux d = {0};
	for (gsize i = 0; i < sizeof stream; i++)
		docker_demux_feed(&d, stream + i, 1, sink, &s);
	g_assert_cmpstr(s.out->str, ==, "hello\n!");
	g_assert_cmpstr(s.err->str, ==, "oops");
	g_string_free(s.out, TRUE);
	g_string_free(s.err, TRUE);
}

/* ---- host paths a spec may bind ------------------------------------------- */

typedef struct {
	char *dir;     /* a fresh directory, resolved */
	char *allowed; /* dir/allowed, with allowed/data and allowed/link -> outside */
	char *outside;
	char *sockdir; /* dir/run, holding the "engine socket" dir/run/engine.sock */
	char *socket;
} BindsFixture;

static void
binds_setup(BindsFixture *f, gconstpointer data)
{
	g_autofree char *tmp = g_dir_make_tmp("circuit-binds-XXXXXX", NULL);
	g_assert_nonnull(tmp);
	f->dir = realpath(tmp, NULL);
	f->allowed = g_build_filename(f->dir, "allowed", NULL);
	f->outside = g_build_filename(f->dir, "outside", NULL);
	f->sockdir = g_build_filename(f->dir, "run", NULL);
	f->socket = g_build_filename(f->sockdir, "engine.sock", NULL);
	g_autofree char *data_dir = g_build_filename(f->allowed, "data", NULL);
	g_autofree char *link = g_build_filename(f->allowed, "link", NULL);
	g_autofree char *dangling = g_build_filename(f->allowed, "dangling", NULL);
	g_autofree char *gone = g_build_filename(f->dir, "gone", NULL);
	g_assert_cmpint(g_mkdir_with_parents(data_dir, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(f->outside, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(f->sockdir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(f->socket, "", 0, NULL));
	g_assert_cmpint(symlink(f->outside, link), ==, 0);
	g_assert_cmpint(symlink(gone, dangling), ==, 0);
}

static void
binds_teardown(BindsFixture *f, gconstpointer data)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(f->dir);
	g_free(f->allowed);
	g_free(f->outside);
	g_free(f->sockdir);
	g_free(f->socket);
}

/* The spec {"Image":"x","Volume":[@volume]} checked against @binds: NULL
 * when refused, with the one-line message in *@message. */
static DockerSpec *
binds_try(const DockerBinds *binds, const char *volume, char **message)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "Image");
	json_builder_add_string_value(b, "x");
	json_builder_set_member_name(b, "Volume");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, volume);
	json_builder_end_array(b);
	json_builder_end_object(b);
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	g_autofree char *text = json_to_string(root, FALSE);
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec = parse(text, &error);
	g_assert_no_error(error);
	if (docker_binds_check(binds, spec, &error))
		return g_steal_pointer(&spec);
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION);
	g_assert_null(strchr(error->message, '\n'));
	*message = g_strdup(error->message);
	return NULL;
}

static void
binds_allowed(const DockerBinds *binds, const char *volume, const char *want)
{
	g_autofree char *message = NULL;
	g_autoptr(DockerSpec) spec = binds_try(binds, volume, &message);
	if (!spec)
		g_error("\"%s\" was refused: %s", volume, message);
	g_assert_cmpstr(spec->volumes[0], ==, want);
}

static void
binds_refused(const DockerBinds *binds, const char *volume, const char *needle)
{
	g_autofree char *message = NULL;
	g_autoptr(DockerSpec) spec = binds_try(binds, volume, &message);
	if (spec)
		g_error("\"%s\" was allowed (as \"%s\")", volume, spec->volumes[0]);
	if (!strstr(message, needle))
		g_error("refusing \"%s\": \"%s\" lacks \"%s\"", volume, message, needle);
	if (!strstr(message, "--docker-allow-bind"))
		g_error("refusing \"%s\": \"%s\" does not name the flag", volume, message);
}

static void
test_binds_none(BindsFixture *f, gconstpointer data)
{
	g_auto(GStrv) warnings = NULL;
	DockerBinds *binds = docker_binds_new(NULL, f->socket, FALSE, &warnings);
	g_assert_cmpuint(g_strv_length(warnings), ==, 0);
	g_autofree char *v = g_strconcat(f->allowed, ":/mnt", NULL);
	binds_refused(binds, v, "no --docker-allow-bind given");
	/* Volumes that are no host paths: anonymous and named ones. */
	binds_allowed(binds, "/anon", "/anon");
	binds_allowed(binds, "cache:/cache", "cache:/cache");
	binds_allowed(binds, "my_vol.1-x:/v:ro", "my_vol.1-x:/v:ro");
	docker_binds_free(binds);
	docker_binds_free(NULL);
}

static void
test_binds_allowed(BindsFixture *f, gconstpointer data)
{
	g_autofree char *list = g_strconcat(f->allowed, "\n", NULL);
	g_auto(GStrv) warnings = NULL;
	DockerBinds *binds = docker_binds_new(list, f->socket, FALSE, &warnings);
	g_assert_cmpuint(g_strv_length(warnings), ==, 0);
	/* Under the allowed directory, or it: the engine gets the resolved path. */
	g_autofree char *v1 = g_strconcat(f->allowed, "/data:/mnt", NULL);
	g_autofree char *w1 = g_strconcat(f->allowed, "/data:/mnt", NULL);
	binds_allowed(binds, v1, w1);
	g_autofree char *v2 = g_strconcat(f->allowed, "/./data/../data/:/mnt:ro", NULL);
	g_autofree char *w2 = g_strconcat(f->allowed, "/data:/mnt:ro", NULL);
	binds_allowed(binds, v2, w2);
	g_autofree char *v3 = g_strconcat(f->allowed, ":/mnt", NULL);
	binds_allowed(binds, v3, v3);
	/* Not there yet (Docker makes it): allowed by where it would be. */
	g_autofree char *v4 = g_strconcat(f->allowed, "/data/new/deeper:/mnt", NULL);
	binds_allowed(binds, v4, v4);
	/* Outside, by name, by "..", by a symbolic link. */
	g_autofree char *o1 = g_strconcat(f->outside, ":/mnt", NULL);
	g_autofree char *m1 = g_strdup_printf("host path %s is not under a directory", f->outside);
	binds_refused(binds, o1, m1);
	g_autofree char *o2 = g_strconcat(f->allowed, "/../outside:/mnt", NULL);
	g_autofree char *m2 = g_strdup_printf("(resolves to %s) is not under", f->outside);
	binds_refused(binds, o2, m2);
	g_autofree char *o3 = g_strconcat(f->allowed, "/link:/mnt", NULL);
	binds_refused(binds, o3, m2);
	g_autofree char *o4 = g_strconcat(f->allowed, "/link/sub:/mnt", NULL);
	binds_refused(binds, o4, "is not under");
	g_autofree char *o5 = g_strconcat(f->allowed, "/dangling:/mnt", NULL);
	binds_refused(binds, o5, "symbolic link");
	/* A name that only starts like the allowed directory. */
	g_autofree char *o6 = g_strconcat(f->allowed, "2:/mnt", NULL);
	binds_refused(binds, o6, "is not under");
	g_autofree char *allowed_msg = g_strdup_printf("(allowed: %s)", f->allowed);
	binds_refused(binds, o1, allowed_msg);
	/* The whole spec is checked: one bad volume refuses it. */
	g_autofree char *message = NULL;
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "Image");
	json_builder_add_string_value(b, "x");
	json_builder_set_member_name(b, "Volume");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, v1);
	json_builder_add_string_value(b, "/anon");
	json_builder_add_string_value(b, o1);
	json_builder_end_array(b);
	json_builder_end_object(b);
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	g_autofree char *text = json_to_string(root, FALSE);
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec = parse(text, &error);
	g_assert_false(docker_binds_check(binds, spec, &error));
	g_assert_nonnull(strstr(error->message, "\"Volume\"[2]"));
	docker_binds_free(binds);
}

static void
test_binds_never(BindsFixture *f, gconstpointer data)
{
	/* Listed: /, the socket, its directory, the allowed directory. */
	g_autofree char *list =
	        g_strdup_printf("/\n%s\n%s\n%s/.\n", f->socket, f->sockdir, f->allowed);
	g_auto(GStrv) warnings = NULL;
	DockerBinds *binds = docker_binds_new(list, f->socket, FALSE, &warnings);
	g_assert_cmpuint(g_strv_length(warnings), ==, 3);
	g_assert_nonnull(strstr(warnings[0], "--docker-allow-bind /: ignored"));
	g_autofree char *w1 = g_strdup_printf("--docker-allow-bind %s: ignored", f->socket);
	g_assert_nonnull(strstr(warnings[1], w1));
	g_autofree char *w2 = g_strdup_printf("--docker-allow-bind %s: ignored", f->sockdir);
	g_assert_nonnull(strstr(warnings[2], w2));
	binds_refused(binds, "/:/host", "binding / is never allowed");
	g_autofree char *up = g_strconcat(f->allowed, "/../../../../../../../..:/host", NULL);
	binds_refused(binds, up, "binding / is never allowed");
	g_autofree char *s1 = g_strconcat(f->socket, ":/var/run/docker.sock", NULL);
	binds_refused(binds, s1, "holds the engine socket");
	g_autofree char *s2 = g_strconcat(f->sockdir, ":/run", NULL);
	binds_refused(binds, s2, "holds the engine socket");
	/* Through a link to the socket's directory. */
	g_autofree char *link = g_build_filename(f->allowed, "run", NULL);
	g_assert_cmpint(symlink(f->sockdir, link), ==, 0);
	g_autofree char *s3 = g_strconcat(link, "/engine.sock:/s", NULL);
	binds_refused(binds, s3, "holds the engine socket");
	g_autofree char *ok = g_strconcat(f->allowed, "/data:/mnt", NULL);
	binds_allowed(binds, ok, ok);
	docker_binds_free(binds);
}

static void
test_binds_ancestor(BindsFixture *f, gconstpointer data)
{
	/* A directory above the socket's: allowed, but not the ones holding it. */
	g_autofree char *list = g_strdup(f->dir);
	g_auto(GStrv) warnings = NULL;
	DockerBinds *binds = docker_binds_new(list, f->socket, FALSE, &warnings);
	g_assert_cmpuint(g_strv_length(warnings), ==, 1);
	g_assert_nonnull(strstr(warnings[0], "holds the engine socket"));
	g_autofree char *d = g_strconcat(f->dir, ":/mnt", NULL);
	binds_refused(binds, d, "holds the engine socket");
	g_autofree char *s = g_strconcat(f->sockdir, ":/mnt", NULL);
	binds_refused(binds, s, "holds the engine socket");
	g_autofree char *o = g_strconcat(f->outside, ":/mnt", NULL);
	binds_allowed(binds, o, o);
	g_autofree char *l = g_strconcat(f->allowed, "/link:/mnt", NULL);
	binds_allowed(binds, l, o);
	docker_binds_free(binds);
}

static void
test_binds_private_tmp(BindsFixture *f, gconstpointer data)
{
	/* circuitd's /tmp is its own: nothing under /tmp or /var/tmp is bound. */
	g_autofree char *list = g_strdup_printf("/tmp\n/var/tmp/x\n%s\n/srv", f->allowed);
	g_auto(GStrv) warnings = NULL;
	DockerBinds *binds = docker_binds_new(list, f->socket, TRUE, &warnings);
	gboolean in_tmp = g_str_has_prefix(f->allowed, "/tmp/");
	g_assert_cmpuint(g_strv_length(warnings), ==, in_tmp ? 3 : 2);
	g_assert_nonnull(strstr(warnings[0], "--docker-allow-bind /tmp: ignored"));
	g_assert_nonnull(strstr(warnings[0], "PrivateTmp"));
	binds_refused(binds, "/tmp/x:/mnt", "PrivateTmp");
	binds_refused(binds, "/var/tmp/x/y:/mnt", "PrivateTmp");
	binds_allowed(binds, "/srv/data:/mnt", "/srv/data:/mnt");
	docker_binds_free(binds);
	/* Without: the same list allows them. */
	g_auto(GStrv) none = NULL;
	binds = docker_binds_new(list, f->socket, FALSE, &none);
	binds_allowed(binds, "/tmp/x:/mnt", "/tmp/x:/mnt");
	docker_binds_free(binds);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/plugins/docker/spec/readme", test_readme);
	g_test_add_func("/plugins/docker/spec/minimal", test_minimal);
	g_test_add_func("/plugins/docker/spec/invalid", test_invalid);
	g_test_add_func("/plugins/docker/spec/dialect", test_dialect);
	g_test_add_func("/plugins/docker/spec/options/absent", test_options_absent);
	g_test_add_func("/plugins/docker/spec/options/all", test_options_all);
	g_test_add_func("/plugins/docker/spec/options/forms", test_options_forms);
	g_test_add_func("/plugins/docker/spec/options/invalid", test_options_invalid);
	g_test_add_func("/plugins/docker/image-split", test_image_split);
	g_test_add_func("/plugins/docker/signals", test_signals);
	g_test_add_func("/plugins/docker/names", test_names);
	g_test_add_func("/plugins/docker/demux", test_demux);
	g_test_add("/plugins/docker/binds/none", BindsFixture, NULL, binds_setup, test_binds_none,
	           binds_teardown);
	g_test_add("/plugins/docker/binds/allowed", BindsFixture, NULL, binds_setup,
	           test_binds_allowed, binds_teardown);
	g_test_add("/plugins/docker/binds/never", BindsFixture, NULL, binds_setup, test_binds_never,
	           binds_teardown);
	g_test_add("/plugins/docker/binds/ancestor", BindsFixture, NULL, binds_setup,
	           test_binds_ancestor, binds_teardown);
	g_test_add("/plugins/docker/binds/private-tmp", BindsFixture, NULL, binds_setup,
	           test_binds_private_tmp, binds_teardown);
	return g_test_run();
}
