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
	const char *unread; /* (nullable) what `unread` gives */
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

/* ---- tail ---------------------------------------------------------------- */

static GBytes *
source_unread(CircuitOutlet *outlet, gpointer user_data)
{
	const char *text = ((Source *)user_data)->unread;
	return text ? g_bytes_new(text, strlen(text)) : NULL;
}

static const CircuitOutletFuncs unread_funcs = {
        .ended = source_ended,
        .resume = source_resume,
        .unread = source_unread,
};

static void
assert_tail(CircuitOutlet *o, gsize max, const void *want, gsize len)
{
	g_autoptr(GBytes) b = circuit_outlet_tail(o, max);
	gsize n = 0;
	const void *p = g_bytes_get_data(b, &n);
	g_assert_cmpmem(p, n, want, len);
}

/* The kept tail grows, then wraps around as a ring, in pieces of any size;
 * it is the same whether a reader took the bytes or not. */
static void
test_outlet_tail_ring(void)
{
	Source src = {0};
	CircuitOutlet *o = circuit_outlet_new(&test_element, "stdout", &source_funcs, &src, NULL);
	assert_tail(o, 100, "", 0);
	circuit_outlet_write(o, "abc", 3);
	assert_tail(o, 100, "abc", 3);
	assert_tail(o, 2, "bc", 2);
	/* 200 KiB of a counting pattern in odd pieces: the last 64 KiB stay. */
	gsize total = 200 * 1024 + 3;
	guint8 *all = g_malloc(total);
	memcpy(all, "abc", 3);
	for (gsize i = 3; i < total; i++)
		all[i] = (guint8)(i * 7 + i / 251);
	CircuitStream *s = circuit_test_stream_new(5000);
	circuit_outlet_serve(o, s);
	for (gsize at = 3, piece = 1; at < total; at += piece, piece = piece * 3 % 70001 + 1)
		circuit_outlet_write(o, all + at, MIN(piece, total - at));
	assert_tail(o, CIRCUIT_OUTLET_TAIL, all + total - CIRCUIT_OUTLET_TAIL, CIRCUIT_OUTLET_TAIL);
	assert_tail(o, G_MAXSIZE, all + total - CIRCUIT_OUTLET_TAIL, CIRCUIT_OUTLET_TAIL);
	assert_tail(o, 10, all + total - 10, 10);
	assert_tail(o, 40000, all + total - 40000, 40000);
	/* One write larger than the ring. */
	circuit_outlet_write(o, all, total);
	assert_tail(o, CIRCUIT_OUTLET_TAIL, all + total - CIRCUIT_OUTLET_TAIL, CIRCUIT_OUTLET_TAIL);
	/* The reader got its window's worth, no more: tail took nothing. */
	g_assert_cmpuint(s->out->len, ==, 5000);
	g_assert_cmpmem(s->out->data, 5000, all, 5000);
	g_free(all);
	circuit_test_stream_free(s);
	circuit_outlet_free(o);
}

/* What the source has not given yet comes after what passed. */
static void
test_outlet_tail_unread(void)
{
	Source src = {.unread = "pending"};
	CircuitOutlet *o = circuit_outlet_new(&test_element, "stdout", &unread_funcs, &src, NULL);
	assert_tail(o, 100, "pending", 7);
	circuit_outlet_write(o, "passed ", 7);
	assert_tail(o, 100, "passed pending", 14);
	assert_tail(o, 9, "d pending", 9);
	assert_tail(o, 3, "ing", 3);
	circuit_outlet_free(o);
}

static CircuitStream *
tail_run(CircuitOutlet *const *outlets, const char *const *args)
{
	CircuitStream *s = circuit_test_stream_new(1 << 20);
	circuit_outlet_serve_tail(outlets, s, args);
	return s;
}

/* The operation: -n, --NAME of the second outlet, and one line for every
 * mistake, as a usage error. */
static void
test_outlet_serve_tail(void)
{
	Source src = {0};
	CircuitOutlet *out = circuit_outlet_new(&test_element, "stdout", &source_funcs, &src, NULL);
	CircuitOutlet *err = circuit_outlet_new(&test_element, "stderr", &source_funcs, &src, NULL);
	CircuitOutlet *both[] = {out, err, NULL};
	circuit_outlet_write(out, "one\ntwo\n", 8);
	circuit_outlet_write(err, "oops\n", 5);
	static const struct {
		const char *args[4];
		const char *want;
	} good[] = {
	        {{NULL}, "one\ntwo\n"},
	        {{"-n", "4", NULL}, "two\n"},
	        {{"--stderr", NULL}, "oops\n"},
	        {{"-n", "2", "--stderr", NULL}, "s\n"},
	        {{"--stderr", "-n", "99999999999999999999999", NULL}, "oops\n"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		CircuitStream *s = tail_run(both, good[i].args);
		circuit_test_assert_output(s, good[i].want);
		circuit_test_stream_free(s);
	}
	static const struct {
		const char *args[4];
		const char *why;
	} bad[] = {
	        {{"-n", "0", NULL}, "tail: -n 0: expected a positive number of bytes"},
	        {{"-n", "-3", NULL}, "tail: -n -3: expected a positive number of bytes"},
	        {{"-n", "12k", NULL}, "tail: -n 12k: expected a positive number of bytes"},
	        {{"-n", NULL}, "tail: -n needs a value"},
	        {{"--stdout", "--stdin", NULL}, "tail: unknown flag --stdin"},
	        {{"more", NULL}, "tail: unexpected argument more"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		CircuitStream *s = tail_run(both, bad[i].args);
		circuit_test_assert_failed(s, CIRCUIT_ERROR_USAGE, bad[i].why);
		circuit_test_assert_failed(s, CIRCUIT_ERROR_USAGE,
		                           "(usage: circuit tail [-n BYTES] [--stderr] PATH)");
		g_assert_null(strchr(s->error->message, '\n'));
		circuit_test_stream_free(s);
	}
	circuit_outlet_free(out);
	circuit_outlet_free(err);
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
	g_test_add_func("/core/plugin/outlet/tail-ring", test_outlet_tail_ring);
	g_test_add_func("/core/plugin/outlet/tail-unread", test_outlet_tail_unread);
	g_test_add_func("/core/plugin/outlet/serve-tail", test_outlet_serve_tail);
	g_test_add_func("/core/plugin/inlet/credit-and-end", test_inlet_credit_and_end);
	g_test_add_func("/core/plugin/inlet/end-waits-for-sink", test_inlet_end_waits_for_sink);
	g_test_add_func("/core/plugin/inlet/writer-leaves", test_inlet_writer_leaves);
	g_test_add_func("/core/plugin/inlet/sink-fails", test_inlet_sink_fails);
	g_test_add_func("/core/plugin/inlet/close", test_inlet_close);
	g_test_add_func("/core/plugin/outlet/notify", test_notify);
	return g_test_run();
}
