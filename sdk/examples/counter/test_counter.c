// SPDX-License-Identifier: Apache-2.0
//
// test_counter.c - unit tests of the counter kind without a daemon: the
// plugin's source linked with the SDK's fake host (circuit/plugin-test.h,
// `pkg-config circuit-plugin-test`), which plays circuitd and the client.
#include <circuit/plugin-test.h>

#include <string.h>

extern const CircuitPluginDescriptor circuit_plugin_counter;

static CircuitElement *
counter_new(const char *start)
{
	const char *args[] = {start, NULL};
	g_autoptr(GError) error = NULL;
	CircuitElement *e = circuit_test_element_new(NULL, start ? args : NULL, &error);
	g_assert_no_error(error);
	return e;
}

/* Runs @op with @arg (nullable) and returns the reply's JSON text. */
static char *
run(CircuitElement *e, const char *op, const char *arg)
{
	const char *args[] = {arg, NULL};
	CircuitStream *s = circuit_test_run_args(e, op, args, circuit_test_stream_new(0));
	g_assert_no_error(s->error);
	g_assert_true(s->replied && s->finished);
	char *result = g_strdup(s->result);
	circuit_test_stream_free(s);
	return result;
}

static void
test_incr_get(void)
{
	CircuitElement *e = counter_new("5");
	g_free(run(e, "incr", "2"));
	g_autofree char *got = run(e, "get", NULL);
	g_assert_cmpstr(got, ==, "7");
	g_autofree char *down = run(e, "incr", "-10");
	g_assert_cmpstr(down, ==, "-3");
	g_assert_cmpint(circuit_test_peek_int(e, "Changes"), ==, 2);
	circuit_test_element_scrub_and_free(e);
}

static void
test_bad_input(void)
{
	const char *args[] = {"five", NULL};
	g_autoptr(GError) error = NULL;
	g_assert_null(circuit_test_element_new(NULL, args, &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "START must be an integer"));

	CircuitElement *e = counter_new("9223372036854775807");
	const char *one[] = {"1", NULL};
	CircuitStream *s = circuit_test_run_args(e, "incr", one, circuit_test_stream_new(0));
	circuit_test_assert_failed(s, CIRCUIT_ERROR_INVALID, "would overflow");
	circuit_test_stream_free(s);
	circuit_test_element_scrub_and_free(e);
}

/* A watcher gets the value, then one line per change it has room for, and
 * ends cleanly at scrub. */
static void
test_watch(void)
{
	CircuitElement *e = counter_new(NULL);
	CircuitStream *w = circuit_test_run_on(e, "watch", circuit_test_stream_new(64));
	g_assert_true(w->replied);
	g_free(run(e, "incr", NULL));
	g_assert_cmpmem(w->out->data, w->out->len, "0\n1\n", 4);
	g_assert_cmpint(circuit_test_peek_int(e, "Watchers"), ==, 1);
	circuit_test_desc->scrub(e, e->ctx);
	circuit_test_assert_output(w, "0\n1\n");
	circuit_test_ack(w, FALSE);
	circuit_test_stream_free(w);
	circuit_test_element_release(e);
}

/* counter.start, as --plugin-option would set it. */
static void
test_option(void)
{
	circuit_test_options = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(circuit_test_options, (gpointer) "counter.start", (gpointer) "40");
	CircuitElement *e = counter_new(NULL);
	g_autofree char *got = run(e, "get", NULL);
	g_assert_cmpstr(got, ==, "40");
	circuit_test_element_scrub_and_free(e);
	g_clear_pointer(&circuit_test_options, g_hash_table_unref);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	circuit_test_desc = &circuit_plugin_counter;
	g_test_add_func("/counter/incr-get", test_incr_get);
	g_test_add_func("/counter/bad-input", test_bad_input);
	g_test_add_func("/counter/watch", test_watch);
	g_test_add_func("/counter/option", test_option);
	return g_test_run();
}
