// SPDX-License-Identifier: Apache-2.0
//
// test_docker_spec.c - the docker element's pure parts: the spec of mkdkr
// (the README example, every key, bad keys and types), the create body,
// image names, signal names, container names and the stream demultiplexer.
#include "docker_spec.h"

#include <string.h>

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
	/* A comma inside a string is not a trailing comma. */
	g_autoptr(GError) error = NULL;
	g_autoptr(DockerSpec) spec =
	        parse("{\"Image\":\"x\",\"Args\":[\"a,]\", \"b,}\"],}", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(spec->args[0], ==, "a,]");
	g_assert_cmpstr(spec->args[1], ==, "b,}");
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

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/plugins/docker/spec/readme", test_readme);
	g_test_add_func("/plugins/docker/spec/minimal", test_minimal);
	g_test_add_func("/plugins/docker/spec/invalid", test_invalid);
	g_test_add_func("/plugins/docker/image-split", test_image_split);
	g_test_add_func("/plugins/docker/signals", test_signals);
	g_test_add_func("/plugins/docker/names", test_names);
	g_test_add_func("/plugins/docker/demux", test_demux);
	return g_test_run();
}
