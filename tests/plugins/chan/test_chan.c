// SPDX-License-Identifier: Apache-2.0
//
// test_chan.c - the chan plugin linked statically against the fake host of
// the SDK's fake host (circuit/plugin-test.h), so every stream event (body bytes, EOF,
// acknowledgement, a client dying) is driven by the test in a chosen order. The integration tests
// (*.sh) run the same rules through a real circuitd.
#include <circuit/plugin-test.h>

#include <stdlib.h>
#include <string.h>

extern const CircuitPluginDescriptor circuit_plugin_chan;

/* ------------------------------------------------------------------------ */
/* Test helpers                                                              */

static CircuitElement *
chan_make(const char *cap)
{
	const char *args[] = {cap, NULL};
	GError *error = NULL;
	CircuitElement *element = circuit_test_element_new(NULL, args, &error);
	g_assert_no_error(error);
	return element;
}

static CircuitStream *
run(CircuitElement *element, const char *name)
{
	return circuit_test_run_on(element, name, circuit_test_stream_new(1 << 20));
}

/* A send with its whole body (not closed). */
static CircuitStream *
send_msg(CircuitElement *element, const char *text)
{
	CircuitStream *s = run(element, "send");
	if (s->error)
		return s;
	g_assert_nonnull(s->funcs);
	s->funcs->input(s, (const guint8 *)text, strlen(text), s->user_data);
	s->funcs->input_end(s, s->user_data);
	return s;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

static void
test_args(void)
{
	struct {
		const char *args[4];
		const char *error; /* NULL: accepted */
		gint64 cap, max;
	} cases[] = {
	        {{"3"}, NULL, 3, 1 << 20},
	        {{"0"}, NULL, 0, 1 << 20},
	        {{"-max", "4096", "3"}, NULL, 3, 4096},
	        {{"3", "--max", "64K"}, NULL, 3, 65536},
	        {{"-max=2M", "1"}, NULL, 1, 2 << 20},
	        {{"-1"}, "capacity \"-1\" is not an integer >= 0"},
	        {{"x"}, "capacity \"x\" is not an integer >= 0"},
	        {{"1.5"}, "capacity \"1.5\" is not an integer >= 0"},
	        {{""}, "capacity \"\" is not an integer >= 0"},
	        {{"99999999999999999999999"}, "is too large"},
	        {{"3", "4"}, "unexpected argument \"4\""},
	        {{"-max", "4096"}, "missing capacity"},
	        {{"3", "-max"}, "-max needs a message size"},
	        {{"-max", "lots", "3"}, "message size \"lots\" is not a byte count"},
	        {{"-max", "65M", "3"}, "over the largest allowed"},
	        {{"-size", "3"}, "unknown flag \"-size\""},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		GError *error = NULL;
		CircuitElement *e = circuit_test_element_new(NULL, cases[i].args, &error);
		if (!cases[i].error) {
			g_assert_no_error(error);
			g_assert_cmpint(circuit_test_peek_int(e, "Cap"), ==, cases[i].cap);
			g_assert_cmpint(circuit_test_peek_int(e, "MaxSize"), ==, cases[i].max);
			circuit_test_element_scrub_and_free(e);
			continue;
		}
		g_assert_null(e);
		g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
		g_test_message("case %u: %s", i, error->message);
		g_assert_nonnull(strstr(error->message, cases[i].error));
		g_assert_null(strchr(error->message, '\n'));
		g_error_free(error);
	}
}

/* CAP 0: the send completes only when a receiver acknowledged it. */
static void
test_rendezvous(void)
{
	CircuitElement *e = chan_make("0");
	CircuitStream *s = send_msg(e, "hello");
	g_assert_false(s->replied);
	g_assert_cmpint(circuit_test_peek_int(e, "WaitingSenders"), ==, 1);
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 0);

	CircuitStream *r = run(e, "recv");
	circuit_test_assert_output(r, "hello");
	g_assert_false(s->replied); /* not acknowledged yet */
	circuit_test_ack(r, TRUE);
	g_assert_true(s->replied);
	g_assert_null(s->error);
	g_assert_true(s->finished);
	circuit_test_stream_close(s, NULL);
	g_assert_cmpint(circuit_test_peek_int(e, "NumSend"), ==, 1);
	g_assert_cmpint(circuit_test_peek_int(e, "NumRecv"), ==, 1);

	/* Receiver first: it waits, then the send goes straight to it. */
	CircuitStream *r2 = run(e, "recv");
	g_assert_false(r2->replied);
	g_assert_cmpint(circuit_test_peek_int(e, "WaitingReceivers"), ==, 1);
	CircuitStream *s2 = send_msg(e, "second");
	circuit_test_assert_output(r2, "second");
	g_assert_false(s2->replied);
	circuit_test_ack(r2, FALSE);
	g_assert_true(s2->replied);
	circuit_test_stream_free(s2);
	circuit_test_stream_free(r2);
	circuit_test_stream_free(r);
	circuit_test_stream_free(s);
	circuit_test_element_scrub_and_free(e);
}

/* CAP n: n sends return at once; send n+1 waits for a slot. */
static void
test_capacity(void)
{
	CircuitElement *e = chan_make("3");
	CircuitStream *s[4];
	for (int i = 0; i < 4; i++) {
		char text[8];
		g_snprintf(text, sizeof text, "m%d", i);
		s[i] = send_msg(e, text);
		g_assert_cmpint(s[i]->replied, ==, i < 3);
	}
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 3);
	g_assert_cmpint(circuit_test_peek_int(e, "WaitingSenders"), ==, 1);
	CircuitStream *r = run(e, "recv");
	circuit_test_assert_output(r, "m0");
	g_assert_false(s[3]->replied); /* the slot frees on acknowledgement */
	circuit_test_ack(r, FALSE);
	g_assert_true(s[3]->replied);
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 3);
	for (int i = 1; i < 4; i++) {
		CircuitStream *ri = run(e, "recv");
		char text[8];
		g_snprintf(text, sizeof text, "m%d", i);
		circuit_test_assert_output(ri, text);
		circuit_test_ack(ri, FALSE);
		circuit_test_stream_free(ri);
	}
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 0);
	g_assert_cmpint(circuit_test_peek_int(e, "NumSend"), ==, 4);
	g_assert_cmpint(circuit_test_peek_int(e, "NumRecv"), ==, 4);
	for (int i = 0; i < 4; i++)
		circuit_test_stream_free(s[i]);
	circuit_test_stream_free(r);
	circuit_test_element_scrub_and_free(e);
}

/* Receivers that die before acknowledging put their message back in its
 * place, whatever order they die in. */
static void
test_receiver_dies(void)
{
	CircuitElement *e = chan_make("5");
	CircuitStream *s[3] = {send_msg(e, "one"), send_msg(e, "two"), send_msg(e, "three")};
	CircuitStream *r1 = run(e, "recv"), *r2 = run(e, "recv");
	circuit_test_assert_output(r1, "one");
	circuit_test_assert_output(r2, "two");
	circuit_test_stream_close(r2, "connection reset");
	circuit_test_stream_close(r1, "connection reset");
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 3);
	const char *want[] = {"one", "two", "three"};
	for (int i = 0; i < 3; i++) {
		CircuitStream *r = run(e, "recv");
		circuit_test_assert_output(r, want[i]);
		circuit_test_ack(r, FALSE);
		circuit_test_stream_free(r);
	}
	g_assert_cmpint(circuit_test_peek_int(e, "NumRecv"), ==, 3);

	/* CAP 0: the sender stays blocked while its message comes back. */
	CircuitElement *z = chan_make("0");
	CircuitStream *zs = send_msg(z, "rendezvous");
	CircuitStream *zr = run(z, "recv");
	circuit_test_stream_close(zr, "killed");
	g_assert_false(zs->replied);
	CircuitStream *zr2 = run(z, "recv");
	circuit_test_assert_output(zr2, "rendezvous");
	circuit_test_ack(zr2, FALSE);
	g_assert_true(zs->replied);
	circuit_test_stream_free(zr2);
	circuit_test_stream_free(zr);
	circuit_test_stream_free(zs);
	circuit_test_element_scrub_and_free(z);

	/* An EOF before the whole message was written is no acknowledgement,
	 * even if the stream then ends cleanly. */
	CircuitStream *s4 = send_msg(e, "early");
	CircuitStream *r4 = circuit_test_stream_new(2);
	circuit_test_run_on(e, "recv", r4);
	g_assert_false(r4->finished);
	r4->funcs->input_end(r4, r4->user_data);
	r4->space = 100;
	r4->funcs->writable(r4, r4->user_data);
	g_assert_true(r4->finished);
	circuit_test_stream_close(r4, NULL);
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 1);
	CircuitStream *r5 = run(e, "recv");
	circuit_test_assert_output(r5, "early");
	circuit_test_ack(r5, FALSE);
	circuit_test_stream_free(r5);
	circuit_test_stream_free(r4);
	circuit_test_stream_free(s4);

	circuit_test_stream_free(r1);
	circuit_test_stream_free(r2);
	for (int i = 0; i < 3; i++)
		circuit_test_stream_free(s[i]);
	circuit_test_element_scrub_and_free(e);
}

/* A receiver whose window is small gets the message over several writable
 * callbacks, and only finishes at the end. */
static void
test_flow_control(void)
{
	CircuitElement *e = chan_make("1");
	GString *big = g_string_new(NULL);
	for (int i = 0; i < 10000; i++)
		g_string_append_printf(big, "%d,", i);
	CircuitStream *s = send_msg(e, big->str);
	g_assert_true(s->replied);
	CircuitStream *r = circuit_test_stream_new(1000);
	circuit_test_run_on(e, "recv", r);
	g_assert_cmpuint(r->out->len, ==, 1000);
	g_assert_false(r->finished);
	while (!r->finished) {
		r->space = 4096;
		r->funcs->writable(r, r->user_data);
	}
	circuit_test_assert_output(r, big->str);
	circuit_test_ack(r, FALSE);
	g_string_free(big, TRUE);
	circuit_test_stream_free(r);
	circuit_test_stream_free(s);
	circuit_test_element_scrub_and_free(e);
}

/* A sender gone before its message was accepted leaves nothing. */
static void
test_sender_dies(void)
{
	CircuitElement *e = chan_make("0");
	/* Mid-body. */
	CircuitStream *s1 = run(e, "send");
	s1->funcs->input(s1, (const guint8 *)"part", 4, s1->user_data);
	g_assert_cmpuint(s1->consumed, ==, 0); /* credit goes back in batches */
	guint8 *chunk = g_malloc0(40000);
	s1->funcs->input(s1, chunk, 40000, s1->user_data);
	g_assert_cmpuint(s1->consumed, ==, 0);
	s1->funcs->input(s1, chunk, 40000, s1->user_data);
	g_assert_cmpuint(s1->consumed, ==, 80004); /* 64 KiB reached: all of it */
	g_free(chunk);
	circuit_test_stream_close(s1, "killed");
	/* Complete but blocked (CAP 0, no receiver). */
	CircuitStream *s2 = send_msg(e, "blocked");
	circuit_test_stream_close(s2, "killed");
	g_assert_cmpint(circuit_test_peek_int(e, "WaitingSenders"), ==, 0);
	CircuitStream *r = run(e, "recv");
	g_assert_false(r->replied);
	CircuitStream *s3 = send_msg(e, "live");
	circuit_test_assert_output(r, "live");
	circuit_test_ack(r, FALSE);
	g_assert_true(s3->replied);
	circuit_test_stream_free(s3);
	circuit_test_stream_free(r);
	circuit_test_stream_free(s2);
	circuit_test_stream_free(s1);
	circuit_test_element_scrub_and_free(e);
}

/* CAP 0: a sender that goes away while a receiver is reading its message
 * does not take it back from that receiver; if that receiver fails too,
 * the message is gone (its sender never heard it was accepted). */
static void
test_sender_dies_in_flight(void)
{
	CircuitElement *e = chan_make("0");
	CircuitStream *s1 = send_msg(e, "0123456789");
	CircuitStream *r1 = circuit_test_stream_new(4);
	circuit_test_run_on(e, "recv", r1);
	circuit_test_stream_close(s1, "killed");
	g_assert_cmpint(circuit_test_peek_int(e, "WaitingSenders"), ==, 0);
	r1->space = 100;
	r1->funcs->writable(r1, r1->user_data);
	circuit_test_assert_output(r1, "0123456789");
	circuit_test_ack(r1, FALSE);
	g_assert_cmpint(circuit_test_peek_int(e, "NumRecv"), ==, 1);
	g_assert_cmpint(circuit_test_peek_int(e, "NumSend"), ==, 0);

	CircuitStream *s2 = send_msg(e, "doomed");
	CircuitStream *r2 = run(e, "recv");
	circuit_test_stream_close(s2, "killed");
	circuit_test_stream_close(r2, "killed");
	CircuitStream *r3 = run(e, "recv");
	g_assert_false(r3->replied); /* nothing left to receive */
	CircuitStream *s3 = send_msg(e, "next");
	circuit_test_assert_output(r3, "next");
	circuit_test_ack(r3, FALSE);
	g_assert_true(s3->replied);
	CircuitStream *all[] = {s1, r1, s2, r2, r3, s3};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		circuit_test_stream_free(all[i]);
	circuit_test_element_scrub_and_free(e);
}

static void
test_too_big(void)
{
	const char *args[] = {"-max", "10", "2", NULL};
	GError *error = NULL;
	CircuitElement *e = circuit_test_element_new(NULL, args, &error);
	g_assert_no_error(error);
	CircuitStream *ok = send_msg(e, "0123456789");
	g_assert_true(ok->replied);
	CircuitStream *big = send_msg(e, "0123456789A");
	circuit_test_assert_failed(big, CIRCUIT_ERROR_TOO_BIG, "limit of 10 bytes");
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 1);
	g_assert_cmpint(circuit_test_peek_int(e, "WaitingSenders"), ==, 0);
	circuit_test_stream_free(big);
	circuit_test_stream_free(ok);
	circuit_test_element_scrub_and_free(e);
}

/* Every channel of a server together holds at most chan.max-held bytes. */
static void
test_max_held(void)
{
	circuit_test_options = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(circuit_test_options, (gpointer) "chan.max-held", (gpointer) "25");
	gpointer plugin_ctx = NULL;
	GError *error = NULL;
	g_assert_true(circuit_plugin_chan.init(NULL, &plugin_ctx, &error));
	g_assert_no_error(error);
	CircuitElement *a = chan_make("10"), *b = chan_make("10");
	CircuitStream *s1 = send_msg(a, "0123456789");
	CircuitStream *s2 = send_msg(b, "0123456789");
	g_assert_true(s1->replied && s2->replied);
	CircuitStream *over = send_msg(b, "0123456789");
	circuit_test_assert_failed(over, CIRCUIT_ERROR_TOO_BIG, "chan.max-held");
	/* A message received gives its room back. */
	CircuitStream *r = run(a, "recv");
	circuit_test_ack(r, FALSE);
	CircuitStream *again = send_msg(b, "0123456789");
	g_assert_true(again->replied);
	g_assert_null(again->error);
	CircuitStream *all[] = {s1, s2, over, r, again};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		circuit_test_stream_free(all[i]);
	circuit_test_element_scrub_and_free(a);
	circuit_test_element_scrub_and_free(b);
	/* A bad value is refused at start with one line. */
	g_hash_table_insert(circuit_test_options, (gpointer) "chan.max-held", (gpointer) "lots");
	g_assert_false(circuit_plugin_chan.init(NULL, &plugin_ctx, &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "chan.max-held"));
	g_clear_error(&error);
	g_clear_pointer(&circuit_test_options, g_hash_table_unref);
	g_assert_true(circuit_plugin_chan.init(NULL, &plugin_ctx, &error));
}

static void
test_close(void)
{
	CircuitElement *e = chan_make("1");
	CircuitStream *s1 = send_msg(e, "kept");
	CircuitStream *s2 = send_msg(e, "refused"); /* blocked: buffer full */
	CircuitStream *s3 = run(e, "send");         /* mid-body */
	g_assert_false(s2->replied);
	CircuitStream *c = run(e, "close");
	g_assert_true(c->replied);
	g_assert_null(c->error);
	circuit_test_assert_failed(s2, CIRCUIT_ERROR_CLOSED, "channel closed");
	circuit_test_assert_failed(s3, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *s4 = run(e, "send");
	circuit_test_assert_failed(s4, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *c2 = run(e, "close");
	circuit_test_assert_failed(c2, CIRCUIT_ERROR_CLOSED, "already closed");

	/* Drain: the accepted message, then end of channel. While it is in
	 * flight, another receiver waits (it could come back). */
	CircuitStream *r1 = run(e, "recv");
	circuit_test_assert_output(r1, "kept");
	CircuitStream *r2 = run(e, "recv");
	g_assert_false(r2->finished);
	circuit_test_ack(r1, FALSE);
	circuit_test_assert_failed(r2, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *r3 = run(e, "recv");
	circuit_test_assert_failed(r3, CIRCUIT_ERROR_CLOSED, "channel closed");
	g_assert_true(circuit_test_peek_int(e, "Closed"));
	CircuitStream *all[] = {s1, s2, s3, s4, c, c2, r1, r2, r3};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		circuit_test_stream_free(all[i]);

	/* Receivers blocked on an empty channel end when it is closed. */
	CircuitElement *z = chan_make("0");
	CircuitStream *w1 = run(z, "recv"), *w2 = run(z, "recv");
	CircuitStream *zc = run(z, "close");
	circuit_test_assert_failed(w1, CIRCUIT_ERROR_CLOSED, "channel closed");
	circuit_test_assert_failed(w2, CIRCUIT_ERROR_CLOSED, "channel closed");
	circuit_test_stream_free(w1);
	circuit_test_stream_free(w2);
	circuit_test_stream_free(zc);
	circuit_test_element_scrub_and_free(z);
	circuit_test_element_scrub_and_free(e);
}

/* CAP 0: a message in flight when the channel is closed still completes;
 * if its receiver dies after the close, its sender fails instead. */
static void
test_close_in_flight(void)
{
	CircuitElement *e = chan_make("0");
	CircuitStream *s1 = send_msg(e, "one"), *s2 = send_msg(e, "two");
	CircuitStream *r1 = run(e, "recv"), *r2 = run(e, "recv");
	circuit_test_assert_output(r1, "one");
	circuit_test_assert_output(r2, "two");
	CircuitStream *c = run(e, "close");
	g_assert_null(c->error);
	g_assert_false(s1->replied);
	g_assert_false(s2->replied);
	circuit_test_ack(r1, FALSE);
	g_assert_true(s1->replied);
	g_assert_null(s1->error);
	circuit_test_stream_close(r2, "killed");
	circuit_test_assert_failed(s2, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *r3 = run(e, "recv");
	circuit_test_assert_failed(r3, CIRCUIT_ERROR_CLOSED, "channel closed");
	g_assert_cmpint(circuit_test_peek_int(e, "NumSend"), ==, 1);
	g_assert_cmpint(circuit_test_peek_int(e, "NumRecv"), ==, 1);
	CircuitStream *all[] = {s1, s2, r1, r2, c, r3};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		circuit_test_stream_free(all[i]);
	circuit_test_element_scrub_and_free(e);
}

static void
test_scrub(void)
{
	CircuitElement *e = chan_make("3");
	CircuitStream *s1 = send_msg(e, "a"), *s2 = send_msg(e, "b"), *s3 = send_msg(e, "c");
	CircuitStream *s4 = send_msg(e, "d"); /* blocked: buffer full */
	CircuitStream *s5 = run(e, "send");   /* mid-body */
	CircuitStream *r1 = run(e, "recv");   /* has all of "a", no ack yet */
	circuit_test_assert_output(r1, "a");
	CircuitStream *r2 = circuit_test_stream_new(0); /* gets part of "b" only */
	circuit_test_run_on(e, "recv", r2);
	g_assert_true(r2->replied);
	g_assert_false(r2->finished);
	circuit_test_desc->scrub(e, e->ctx);
	circuit_test_assert_failed(s4, CIRCUIT_ERROR_ABORTED, "channel aborted");
	circuit_test_assert_failed(s5, CIRCUIT_ERROR_ABORTED, "channel aborted");
	circuit_test_assert_failed(r2, CIRCUIT_ERROR_ABORTED, "channel aborted"); /* reset */
	g_assert_null(r1->error); /* it had everything: left to finish */
	g_assert_true(circuit_test_peek_int(e, "Aborted"));
	/* "b" (half sent) and "c" (buffered) were dropped. */
	g_assert_cmpuint(e->oplog->len, ==, 1);
	g_assert_cmpstr(e->oplog->pdata[0], ==, "drop=2");
	circuit_test_ack(r1, FALSE);
	g_assert_cmpint(circuit_test_peek_int(e, "NumRecv"), ==, 1);
	g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 0);
	CircuitStream *s6 = run(e, "send");
	circuit_test_assert_failed(s6, CIRCUIT_ERROR_ABORTED, "channel aborted");
	CircuitStream *all[] = {s1, s2, s3, s4, s5, s6, r1, r2};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		circuit_test_stream_free(all[i]);
	circuit_test_element_release(e);

	/* Receivers waiting on an empty channel; nothing to drop. */
	CircuitElement *z = chan_make("0");
	CircuitStream *w = run(z, "recv");
	circuit_test_desc->scrub(z, z->ctx);
	circuit_test_assert_failed(w, CIRCUIT_ERROR_ABORTED, "channel aborted");
	g_assert_cmpuint(z->oplog->len, ==, 0);
	circuit_test_stream_free(w);
	circuit_test_element_release(z);
}

/* Many interleaved sends, receives, acknowledgements and receiver deaths:
 * every message is received exactly once, and each delivery hands out the
 * oldest message that is neither acknowledged nor in flight (FIFO). */
static void
test_fifo_random(void)
{
	GRand *rng = g_rand_new_with_seed(5);
	const char *caps[] = {"0", "1", "7"};
	for (guint capi = 0; capi < G_N_ELEMENTS(caps); capi++) {
		CircuitElement *e = chan_make(caps[capi]);
		GPtrArray *senders = g_ptr_array_new();
		GPtrArray *receivers = g_ptr_array_new();
		const int total = 2000;
		guint8 *state = g_new0(guint8, total); /* 0 waiting, 1 in flight, 2 acked */
		int sent = 0, acked = 0, killed = 0;
		while (acked < total) {
			int action = g_rand_int_range(rng, 0, 4);
			if (action == 0 && sent < total) {
				char text[16];
				g_snprintf(text, sizeof text, "%d", sent++);
				g_ptr_array_add(senders, send_msg(e, text));
			} else if (action == 1 && receivers->len < 4) {
				g_ptr_array_add(receivers, run(e, "recv"));
			} else if (receivers->len > 0) {
				guint i = g_rand_int_range(rng, 0, receivers->len);
				CircuitStream *r = receivers->pdata[i];
				if (r->tag < 0)
					continue;
				g_ptr_array_remove_index(receivers, i);
				if (action == 2) {
					circuit_test_stream_close(
					        r, "killed"); /* its message goes back */
					state[r->tag] = 0;
					killed++;
				} else {
					circuit_test_ack(r, FALSE);
					state[r->tag] = 2;
					acked++;
				}
				circuit_test_stream_free(r);
			}
			for (guint i = 0; i < receivers->len; i++) {
				CircuitStream *r = receivers->pdata[i];
				if (!r->finished || r->tag >= 0)
					continue;
				g_assert_null(r->error);
				char *text = g_strndup((char *)r->out->data, r->out->len);
				int d = atoi(text);
				g_free(text);
				g_assert_cmpint(state[d], ==, 0);
				for (int k = 0; k < d; k++)
					g_assert_cmpint(state[k], !=, 0);
				state[d] = 1;
				r->tag = d;
			}
		}
		g_assert_cmpint(killed, >, 0);
		g_assert_cmpint(circuit_test_peek_int(e, "NumRecv"), ==, total);
		g_assert_cmpint(circuit_test_peek_int(e, "NumSend"), ==, total);
		g_assert_cmpint(circuit_test_peek_int(e, "Pending"), ==, 0);
		for (guint i = 0; i < senders->len; i++) {
			CircuitStream *s = senders->pdata[i];
			g_assert_true(s->replied);
			g_assert_null(s->error);
			circuit_test_stream_free(s);
		}
		for (guint i = 0; i < receivers->len; i++)
			circuit_test_stream_free(receivers->pdata[i]);
		g_ptr_array_unref(senders);
		g_ptr_array_unref(receivers);
		g_free(state);
		circuit_test_element_scrub_and_free(e);
	}
	g_rand_free(rng);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	circuit_test_desc = &circuit_plugin_chan;
	g_test_add_func("/plugins/chan/args", test_args);
	g_test_add_func("/plugins/chan/rendezvous", test_rendezvous);
	g_test_add_func("/plugins/chan/capacity", test_capacity);
	g_test_add_func("/plugins/chan/receiver-dies", test_receiver_dies);
	g_test_add_func("/plugins/chan/flow-control", test_flow_control);
	g_test_add_func("/plugins/chan/sender-dies", test_sender_dies);
	g_test_add_func("/plugins/chan/sender-dies-in-flight", test_sender_dies_in_flight);
	g_test_add_func("/plugins/chan/too-big", test_too_big);
	g_test_add_func("/plugins/chan/max-held", test_max_held);
	g_test_add_func("/plugins/chan/close", test_close);
	g_test_add_func("/plugins/chan/close-in-flight", test_close_in_flight);
	g_test_add_func("/plugins/chan/scrub", test_scrub);
	g_test_add_func("/plugins/chan/fifo-random", test_fifo_random);
	return g_test_run();
}
