// SPDX-License-Identifier: Apache-2.0
//
// test_outlet.c - the SDK's outlets and inlets (core/transport/outlet.c) on
// the fake host's streams: one reader or writer at a time, nothing lost
// between readers, credit only for bytes that entered the sink.
#include <circuit/plugin-test.h>

#include <string.h>

static CircuitElement test_element = {.ref = 1, .kind = "test"};

/* ---- outlet -------------------------------------------------------------- */

typedef struct {
	gboolean ended;
	GError *why;
	guint resumed;
} Source;

static gboolean
source_ended(CircuitOutlet *outlet, const GError **error, gpointer user_data)
{
	Source *src = user_data;
	*error = src->why;
	return src->ended;
}

static void
source_resume(CircuitOutlet *outlet, gpointer user_data)
{
	((Source *)user_data)->resumed++;
}

static const CircuitOutletFuncs source_funcs = {
        .ended = source_ended,
        .resume = source_resume,
};

static void
reader_grants(CircuitStream *s, gsize more)
{
	s->space += more;
	s->funcs->writable(s, s->user_data);
}

static void
test_outlet_held_until_read(void)
{
	Source src = {0};
	CircuitOutlet *o = circuit_outlet_new(&test_element, "stdout", &source_funcs, &src, NULL);
	g_assert_cmpuint(circuit_outlet_space(o), ==, 0);
	circuit_outlet_write(o, "hello ", 6);
	g_assert_cmpuint(circuit_outlet_held(o), ==, 6);

	CircuitStream *s = circuit_test_stream_new(1024);
	circuit_outlet_serve(o, s);
	g_assert_true(s->replied);
	g_assert_cmpuint(circuit_outlet_held(o), ==, 0);
	g_assert_cmpuint(src.resumed, ==, 1);
	g_assert_cmpuint(circuit_outlet_space(o), ==, 1024 - 6);
	circuit_outlet_write(o, "world", 5);
	g_assert_false(s->finished);
	src.ended = TRUE;
	circuit_outlet_pump(o);
	circuit_test_assert_output(s, "hello world");
	circuit_test_stream_free(s);
	circuit_outlet_free(o);
}

static void
test_outlet_window(void)
{
	Source src = {0};
	CircuitOutlet *o = circuit_outlet_new(&test_element, "stdout", &source_funcs, &src, NULL);
	CircuitStream *s = circuit_test_stream_new(4);
	circuit_outlet_serve(o, s);
	g_assert_cmpuint(src.resumed, ==, 1);
	circuit_outlet_write(o, "0123456789", 10);
	g_assert_cmpuint(s->out->len, ==, 4);
	g_assert_cmpuint(circuit_outlet_held(o), ==, 6);
	/* Nothing more from the source while bytes are held. */
	g_assert_cmpuint(circuit_outlet_space(o), ==, 0);
	reader_grants(s, 3);
	g_assert_cmpuint(circuit_outlet_held(o), ==, 3);
	g_assert_cmpuint(src.resumed, ==, 1);
	reader_grants(s, 10);
	g_assert_cmpuint(circuit_outlet_held(o), ==, 0);
	g_assert_cmpuint(src.resumed, ==, 2);
	g_assert_cmpmem(s->out->data, s->out->len, "0123456789", 10);
	circuit_test_stream_free(s);
	circuit_outlet_free(o);
}

static void
test_outlet_one_reader(void)
{
	Source src = {0};
	CircuitOutlet *o = circuit_outlet_new(&test_element, "stderr", &source_funcs, &src, NULL);
	CircuitStream *a = circuit_test_stream_new(64);
	CircuitStream *b = circuit_test_stream_new(64);
	circuit_outlet_serve(o, a);
	circuit_outlet_serve(o, b);
	circuit_test_assert_failed(b, CIRCUIT_ERROR_BUSY,
	                           "stderr of /X0000000000000001/e is being read");
	g_assert_false(a->finished);
	circuit_test_stream_free(b);
	circuit_test_stream_free(a);
	circuit_outlet_free(o);
}

static void
test_outlet_reader_leaves(void)
{
	Source src = {0};
	CircuitOutlet *o = circuit_outlet_new(&test_element, "stdout", &source_funcs, &src, NULL);
	CircuitStream *a = circuit_test_stream_new(5);
	circuit_outlet_serve(o, a);
	circuit_outlet_write(o, "abcdef", 6); /* "f" waits for the window */
	a->acked = 2;                         /* "ab" arrived; "cde" did not */
	circuit_test_stream_close(a, "connection reset");
	circuit_outlet_write(o, "g", 1);
	g_assert_cmpuint(circuit_outlet_held(o), ==, 5);

	CircuitStream *b = circuit_test_stream_new(64);
	circuit_outlet_serve(o, b);
	src.ended = TRUE;
	circuit_outlet_pump(o);
	circuit_test_assert_output(b, "cdefg");
	circuit_test_stream_free(b);
	circuit_test_stream_free(a);
	circuit_outlet_free(o);
}

static void
test_outlet_ends_with_error(void)
{
	Source src = {.ended = TRUE};
	src.why = g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE, "engine gone");
	CircuitOutlet *o = circuit_outlet_new(&test_element, "stdout", &source_funcs, &src, NULL);
	circuit_outlet_write(o, "last", 4);
	CircuitStream *s = circuit_test_stream_new(64);
	circuit_outlet_serve(o, s);
	/* What was held is written first, then the reader learns why. */
	g_assert_cmpmem(s->out->data, s->out->len, "last", 4);
	circuit_test_assert_failed(s, CIRCUIT_ERROR_UNAVAILABLE,
	                           "stdout of /X0000000000000001/e: engine gone");
	circuit_test_stream_free(s);
	circuit_outlet_free(o);
	g_error_free(src.why);
}

/* ---- inlet --------------------------------------------------------------- */

typedef struct {
	GByteArray *got;
	gsize room; /* bytes the sink takes before it would block */
	gboolean fail;
	gboolean can_end;
	guint ends;
} Sink;

static gssize
sink_write(CircuitInlet *inlet, const guint8 *data, gsize len, gpointer user_data, GError **error)
{
	Sink *k = user_data;
	if (k->fail) {
		g_set_error_literal(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		                    "stdin of /X0000000000000001/e: the pipe broke");
		return -1;
	}
	gsize n = MIN(len, k->room);
	g_byte_array_append(k->got, data, (guint)n);
	k->room -= n;
	return (gssize)n;
}

static gboolean
sink_end(CircuitInlet *inlet, gpointer user_data)
{
	Sink *k = user_data;
	if (!k->can_end)
		return FALSE;
	k->ends++;
	return TRUE;
}

static const CircuitInletFuncs sink_funcs = {
        .write = sink_write,
        .end = sink_end,
};

static void
sink_init(Sink *k, gsize room)
{
	*k = (Sink){.got = g_byte_array_new(), .room = room, .can_end = TRUE};
}

static void
send_input(CircuitStream *s, const char *text)
{
	s->funcs->input(s, (const guint8 *)text, strlen(text), s->user_data);
}

static void
test_inlet_credit_and_end(void)
{
	Sink k;
	sink_init(&k, 3);
	CircuitInlet *in = circuit_inlet_new(&test_element, "stdin", &sink_funcs, &k, NULL);
	CircuitStream *s = circuit_test_stream_new(0);
	circuit_inlet_serve(in, s);
	send_input(s, "hello");
	g_assert_cmpuint(k.got->len, ==, 3);
	g_assert_cmpuint(s->consumed, ==, 3); /* credit only for what went in */
	s->funcs->input_end(s, s->user_data);
	g_assert_false(s->replied); /* answered once all of it is in */
	g_assert_cmpuint(k.ends, ==, 0);
	k.room = 100;
	circuit_inlet_flush(in);
	g_assert_cmpuint(s->consumed, ==, 5);
	g_assert_cmpuint(k.ends, ==, 1);
	circuit_test_assert_output(s, "");
	g_assert_cmpmem(k.got->data, k.got->len, "hello", 5);

	CircuitStream *late = circuit_test_stream_new(0);
	circuit_inlet_serve(in, late);
	circuit_test_assert_failed(late, CIRCUIT_ERROR_CLOSED,
	                           "stdin of /X0000000000000001/e is closed");
	circuit_test_stream_free(late);
	circuit_test_stream_free(s);
	circuit_inlet_free(in);
	g_byte_array_unref(k.got);
}

static void
test_inlet_end_waits_for_sink(void)
{
	Sink k;
	sink_init(&k, 100);
	k.can_end = FALSE;
	CircuitInlet *in = circuit_inlet_new(&test_element, "stdin", &sink_funcs, &k, NULL);
	CircuitStream *s = circuit_test_stream_new(0);
	circuit_inlet_serve(in, s);
	send_input(s, "x");
	s->funcs->input_end(s, s->user_data);
	g_assert_false(s->replied);
	k.can_end = TRUE;
	circuit_inlet_flush(in);
	circuit_test_assert_output(s, "");
	g_assert_cmpuint(k.ends, ==, 1);
	circuit_test_stream_free(s);
	circuit_inlet_free(in);
	g_byte_array_unref(k.got);
}

static void
test_inlet_writer_leaves(void)
{
	Sink k;
	sink_init(&k, 0);
	CircuitInlet *in = circuit_inlet_new(&test_element, "stdin", &sink_funcs, &k, NULL);
	CircuitStream *a = circuit_test_stream_new(0);
	circuit_inlet_serve(in, a);
	CircuitStream *busy = circuit_test_stream_new(0);
	circuit_inlet_serve(in, busy);
	circuit_test_assert_failed(busy, CIRCUIT_ERROR_BUSY,
	                           "stdin of /X0000000000000001/e is being written");
	circuit_test_stream_free(busy);
	send_input(a, "old");
	circuit_test_stream_close(a, "connection reset");

	/* The next writer's input follows what the first one left, and its
	 * credit counts its own bytes only. */
	CircuitStream *b = circuit_test_stream_new(0);
	circuit_inlet_serve(in, b);
	send_input(b, "new");
	k.room = 4;
	circuit_inlet_flush(in);
	g_assert_cmpuint(b->consumed, ==, 1);
	k.room = 100;
	circuit_inlet_flush(in);
	g_assert_cmpuint(b->consumed, ==, 3);
	g_assert_cmpuint(a->consumed, ==, 0);
	g_assert_cmpmem(k.got->data, k.got->len, "oldnew", 6);
	circuit_test_stream_free(b);
	circuit_test_stream_free(a);
	circuit_inlet_free(in);
	g_byte_array_unref(k.got);
}

static void
test_inlet_sink_fails(void)
{
	Sink k;
	sink_init(&k, 0);
	k.fail = TRUE;
	CircuitInlet *in = circuit_inlet_new(&test_element, "stdin", &sink_funcs, &k, NULL);
	CircuitStream *s = circuit_test_stream_new(0);
	circuit_inlet_serve(in, s);
	send_input(s, "data");
	circuit_test_assert_failed(s, CIRCUIT_ERROR_FAILED,
	                           "stdin of /X0000000000000001/e: the pipe broke");
	/* The inlet is closed: a later writer is refused. */
	CircuitStream *late = circuit_test_stream_new(0);
	circuit_inlet_serve(in, late);
	circuit_test_assert_failed(late, CIRCUIT_ERROR_CLOSED,
	                           "stdin of /X0000000000000001/e is closed");
	circuit_test_stream_free(late);
	circuit_test_stream_free(s);
	circuit_inlet_free(in);
	g_byte_array_unref(k.got);
}

static void
test_inlet_close(void)
{
	Sink k;
	sink_init(&k, 0);
	CircuitInlet *in = circuit_inlet_new(&test_element, "stdin", &sink_funcs, &k, NULL);
	CircuitStream *s = circuit_test_stream_new(0);
	circuit_inlet_serve(in, s);
	send_input(s, "lost");
	g_autoptr(GError) e = g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_ABORTED,
	                                          "the element was scrubbed");
	circuit_inlet_close(in, e);
	circuit_test_assert_failed(s, CIRCUIT_ERROR_ABORTED, "the element was scrubbed");
	k.room = 100;
	circuit_inlet_flush(in);
	g_assert_cmpuint(k.got->len, ==, 0); /* dropped */
	circuit_test_stream_free(s);
	circuit_inlet_free(in);
	g_byte_array_unref(k.got);
}

static void
count_notify(gpointer data)
{
	(*(int *)data)++;
}

/* The user data's notify runs once, when the outlet or inlet is freed. */
static void
test_notify(void)
{
	int freed = 0;
	CircuitOutlet *o =
	        circuit_outlet_new(&test_element, "stdout", &source_funcs, &freed, count_notify);
	CircuitInlet *in =
	        circuit_inlet_new(&test_element, "stdin", &sink_funcs, &freed, count_notify);
	g_assert_cmpint(freed, ==, 0);
	circuit_outlet_free(o);
	g_assert_cmpint(freed, ==, 1);
	circuit_inlet_free(in);
	g_assert_cmpint(freed, ==, 2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/core/plugin/outlet/held-until-read", test_outlet_held_until_read);
	g_test_add_func("/core/plugin/outlet/window", test_outlet_window);
	g_test_add_func("/core/plugin/outlet/one-reader", test_outlet_one_reader);
	g_test_add_func("/core/plugin/outlet/reader-leaves", test_outlet_reader_leaves);
	g_test_add_func("/core/plugin/outlet/ends-with-error", test_outlet_ends_with_error);
	g_test_add_func("/core/plugin/inlet/credit-and-end", test_inlet_credit_and_end);
	g_test_add_func("/core/plugin/inlet/end-waits-for-sink", test_inlet_end_waits_for_sink);
	g_test_add_func("/core/plugin/inlet/writer-leaves", test_inlet_writer_leaves);
	g_test_add_func("/core/plugin/inlet/sink-fails", test_inlet_sink_fails);
	g_test_add_func("/core/plugin/inlet/close", test_inlet_close);
	g_test_add_func("/core/plugin/outlet/notify", test_notify);
	return g_test_run();
}
