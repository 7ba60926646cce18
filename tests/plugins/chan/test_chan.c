// SPDX-License-Identifier: Apache-2.0
//
// test_chan.c - the chan plugin linked statically against a fake host: the
// SDK functions it calls are implemented here, so every stream event
// (body bytes, EOF, acknowledgement, a client dying) is driven by the test
// in a chosen order. The integration tests (*.sh) run the same rules
// through a real circuitd.
#include <circuit/plugin.h>

#include <stdlib.h>
#include <string.h>

extern const CircuitPluginDescriptor circuit_plugin_chan;
static const CircuitPluginDescriptor *desc = &circuit_plugin_chan;

/* ------------------------------------------------------------------------ */
/* The fake host                                                             */

struct CircuitElement {
	int ref;
	gpointer ctx;
	gboolean destroyed;
	GPtrArray *oplog; /* "what=value" strings */
};

struct CircuitStream {
	const CircuitStreamFuncs *funcs;
	gpointer user_data;
	GDestroyNotify notify;
	gboolean replied, finished, closed;
	GError *error; /* from circuit_stream_fail */
	GByteArray *out;
	gsize space;    /* write space the fake client grants */
	gsize consumed; /* credit returned */
	int tag;        /* test bookkeeping */
};

GQuark
circuit_error_quark(void)
{
	return g_quark_from_static_string("circuit-error");
}

CircuitHost *
circuit_element_host(CircuitElement *element)
{
	return NULL;
}

const char *
circuit_element_path(CircuitElement *element)
{
	return "/X0000000000000001/c";
}

CircuitElement *
circuit_element_ref(CircuitElement *element)
{
	element->ref++;
	return element;
}

void
circuit_element_unref(CircuitElement *element)
{
	g_assert_cmpint(element->ref, >, 0);
	if (--element->ref == 0) {
		desc->destroy(element->ctx);
		element->destroyed = TRUE;
	}
}

void
circuit_stream_set_funcs(CircuitStream *stream, const CircuitStreamFuncs *funcs, gpointer user_data,
                         GDestroyNotify notify)
{
	stream->funcs = funcs;
	stream->user_data = user_data;
	stream->notify = notify;
}

const char *
circuit_stream_peer(CircuitStream *stream)
{
	return "127.0.0.1:1";
}

void
circuit_stream_reply(CircuitStream *stream, JsonNode *result, gboolean failed_outcome)
{
	g_assert_false(stream->replied);
	g_assert_null(stream->error);
	stream->replied = TRUE;
	if (result)
		json_node_unref(result);
}

void
circuit_stream_fail(CircuitStream *stream, const GError *error)
{
	g_assert_null(stream->error);
	g_assert_false(stream->finished);
	stream->error = g_error_copy(error);
	stream->finished = TRUE;
}

gsize
circuit_stream_write_space(CircuitStream *stream)
{
	return stream->space;
}

void
circuit_stream_write(CircuitStream *stream, const void *data, gsize len)
{
	g_assert_true(stream->replied);
	g_assert_false(stream->finished);
	g_assert_cmpuint(len, <=, stream->space);
	stream->space -= len;
	g_byte_array_append(stream->out, data, (guint)len);
}

void
circuit_stream_finish(CircuitStream *stream)
{
	g_assert_true(stream->replied);
	g_assert_false(stream->finished);
	stream->finished = TRUE;
}

void
circuit_stream_consumed(CircuitStream *stream, gsize len)
{
	stream->consumed += len;
}

void
circuit_log(CircuitHost *host, CircuitElement *element, GLogLevelFlags level, const char *format,
            ...)
{
	va_list ap;
	va_start(ap, format);
	char *msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_test_message("log: %s", msg);
	g_free(msg);
}

void
circuit_oplog_event(CircuitElement *element, const char *what, gint64 value)
{
	g_ptr_array_add(element->oplog, g_strdup_printf("%s=%" G_GINT64_FORMAT, what, value));
}

/* ------------------------------------------------------------------------ */
/* Test helpers                                                              */

static CircuitElement *
chan_new(const char *const *args, GError **error)
{
	CircuitElement *element = g_new0(CircuitElement, 1);
	element->ref = 1; /* the anchor's */
	element->oplog = g_ptr_array_new_with_free_func(g_free);
	if (!desc->create(element, args, NULL, &element->ctx, error)) {
		g_ptr_array_unref(element->oplog);
		g_free(element);
		return NULL;
	}
	return element;
}

static CircuitElement *
chan_make(const char *cap)
{
	const char *args[] = {cap, NULL};
	GError *error = NULL;
	CircuitElement *element = chan_new(args, &error);
	g_assert_no_error(error);
	return element;
}

/* Removes the element as scrub would, then checks it was destroyed once
 * every stream was closed. */
static void
chan_scrub_and_free(CircuitElement *element)
{
	desc->scrub(element, element->ctx);
	circuit_element_unref(element);
	g_assert_true(element->destroyed);
	g_ptr_array_unref(element->oplog);
	g_free(element);
}

static const CircuitOp *
op(const char *name)
{
	for (guint i = 0; i < desc->n_ops; i++)
		if (strcmp(desc->ops[i].name, name) == 0)
			return &desc->ops[i];
	g_assert_not_reached();
	return NULL;
}

static CircuitStream *
stream_new(void)
{
	CircuitStream *s = g_new0(CircuitStream, 1);
	s->out = g_byte_array_new();
	s->space = 1 << 20;
	s->tag = -1;
	return s;
}

/* The stream goes away (error NULL: a clean end). */
static void
stream_close(CircuitStream *s, const char *error_message)
{
	g_assert_false(s->closed);
	s->closed = TRUE;
	GError *error = NULL;
	if (error_message)
		error = g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_DISCONNECTED,
		                            error_message);
	if (s->funcs && s->funcs->closed)
		s->funcs->closed(s, error, s->user_data);
	if (s->notify)
		s->notify(s->user_data);
	g_clear_error(&error);
}

static void
stream_free(CircuitStream *s)
{
	if (!s->closed)
		stream_close(s, s->finished ? NULL : "test over");
	g_byte_array_unref(s->out);
	g_clear_error(&s->error);
	g_free(s);
}

static CircuitStream *
run(CircuitElement *element, const char *name)
{
	CircuitStream *s = stream_new();
	const char *args[] = {NULL};
	op(name)->run(element, element->ctx, s, args);
	return s;
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

/* The receiving client acknowledges: it sends its EOF after ours. The core
 * then ends the stream cleanly without an input_end callback (that one is
 * only for a body still expected), so the acknowledgement is `closed` with
 * no error. recv_ack_input_end() covers a host that does call input_end. */
static void
recv_ack(CircuitStream *s)
{
	g_assert_true(s->finished);
	g_assert_null(s->error);
	stream_close(s, NULL);
}

static void
recv_ack_input_end(CircuitStream *s)
{
	g_assert_true(s->finished);
	g_assert_null(s->error);
	s->funcs->input_end(s, s->user_data);
	stream_close(s, NULL);
}

static void
assert_got(CircuitStream *s, const char *text)
{
	g_assert_true(s->replied);
	g_assert_null(s->error);
	g_assert_true(s->finished);
	g_assert_cmpmem(s->out->data, s->out->len, text, strlen(text));
}

static void
assert_failed(CircuitStream *s, CircuitErrorCode code, const char *substring)
{
	g_assert_nonnull(s->error);
	g_assert_cmpint(s->error->code, ==, code);
	g_assert_nonnull(strstr(s->error->message, substring));
}

static gint64
peek_int(CircuitElement *element, const char *field)
{
	JsonNode *node = desc->peek(element, element->ctx);
	gint64 v = json_object_get_int_member(json_node_get_object(node), field);
	json_node_unref(node);
	return v;
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
		CircuitElement *e = chan_new(cases[i].args, &error);
		if (!cases[i].error) {
			g_assert_no_error(error);
			g_assert_cmpint(peek_int(e, "Cap"), ==, cases[i].cap);
			g_assert_cmpint(peek_int(e, "MaxSize"), ==, cases[i].max);
			chan_scrub_and_free(e);
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
	g_assert_cmpint(peek_int(e, "WaitingSenders"), ==, 1);
	g_assert_cmpint(peek_int(e, "Pending"), ==, 0);

	CircuitStream *r = run(e, "recv");
	assert_got(r, "hello");
	g_assert_false(s->replied); /* not acknowledged yet */
	recv_ack_input_end(r);
	g_assert_true(s->replied);
	g_assert_null(s->error);
	g_assert_true(s->finished);
	stream_close(s, NULL);
	g_assert_cmpint(peek_int(e, "NumSend"), ==, 1);
	g_assert_cmpint(peek_int(e, "NumRecv"), ==, 1);

	/* Receiver first: it waits, then the send goes straight to it. */
	CircuitStream *r2 = run(e, "recv");
	g_assert_false(r2->replied);
	g_assert_cmpint(peek_int(e, "WaitingReceivers"), ==, 1);
	CircuitStream *s2 = send_msg(e, "second");
	assert_got(r2, "second");
	g_assert_false(s2->replied);
	recv_ack(r2);
	g_assert_true(s2->replied);
	stream_free(s2);
	stream_free(r2);
	stream_free(r);
	stream_free(s);
	chan_scrub_and_free(e);
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
	g_assert_cmpint(peek_int(e, "Pending"), ==, 3);
	g_assert_cmpint(peek_int(e, "WaitingSenders"), ==, 1);
	CircuitStream *r = run(e, "recv");
	assert_got(r, "m0");
	g_assert_false(s[3]->replied); /* the slot frees on acknowledgement */
	recv_ack(r);
	g_assert_true(s[3]->replied);
	g_assert_cmpint(peek_int(e, "Pending"), ==, 3);
	for (int i = 1; i < 4; i++) {
		CircuitStream *ri = run(e, "recv");
		char text[8];
		g_snprintf(text, sizeof text, "m%d", i);
		assert_got(ri, text);
		recv_ack(ri);
		stream_free(ri);
	}
	g_assert_cmpint(peek_int(e, "Pending"), ==, 0);
	g_assert_cmpint(peek_int(e, "NumSend"), ==, 4);
	g_assert_cmpint(peek_int(e, "NumRecv"), ==, 4);
	for (int i = 0; i < 4; i++)
		stream_free(s[i]);
	stream_free(r);
	chan_scrub_and_free(e);
}

/* Receivers that die before acknowledging put their message back in its
 * place, whatever order they die in. */
static void
test_receiver_dies(void)
{
	CircuitElement *e = chan_make("5");
	CircuitStream *s[3] = {send_msg(e, "one"), send_msg(e, "two"), send_msg(e, "three")};
	CircuitStream *r1 = run(e, "recv"), *r2 = run(e, "recv");
	assert_got(r1, "one");
	assert_got(r2, "two");
	stream_close(r2, "connection reset");
	stream_close(r1, "connection reset");
	g_assert_cmpint(peek_int(e, "Pending"), ==, 3);
	const char *want[] = {"one", "two", "three"};
	for (int i = 0; i < 3; i++) {
		CircuitStream *r = run(e, "recv");
		assert_got(r, want[i]);
		recv_ack(r);
		stream_free(r);
	}
	g_assert_cmpint(peek_int(e, "NumRecv"), ==, 3);

	/* CAP 0: the sender stays blocked while its message comes back. */
	CircuitElement *z = chan_make("0");
	CircuitStream *zs = send_msg(z, "rendezvous");
	CircuitStream *zr = run(z, "recv");
	stream_close(zr, "killed");
	g_assert_false(zs->replied);
	CircuitStream *zr2 = run(z, "recv");
	assert_got(zr2, "rendezvous");
	recv_ack(zr2);
	g_assert_true(zs->replied);
	stream_free(zr2);
	stream_free(zr);
	stream_free(zs);
	chan_scrub_and_free(z);

	/* An EOF before the whole message was written is no acknowledgement,
	 * even if the stream then ends cleanly. */
	CircuitStream *s4 = send_msg(e, "early");
	CircuitStream *r4 = stream_new();
	r4->space = 2;
	const char *args[] = {NULL};
	op("recv")->run(e, e->ctx, r4, args);
	g_assert_false(r4->finished);
	r4->funcs->input_end(r4, r4->user_data);
	r4->space = 100;
	r4->funcs->writable(r4, r4->user_data);
	g_assert_true(r4->finished);
	stream_close(r4, NULL);
	g_assert_cmpint(peek_int(e, "Pending"), ==, 1);
	CircuitStream *r5 = run(e, "recv");
	assert_got(r5, "early");
	recv_ack(r5);
	stream_free(r5);
	stream_free(r4);
	stream_free(s4);

	stream_free(r1);
	stream_free(r2);
	for (int i = 0; i < 3; i++)
		stream_free(s[i]);
	chan_scrub_and_free(e);
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
	CircuitStream *r = stream_new();
	r->space = 1000;
	const char *args[] = {NULL};
	op("recv")->run(e, e->ctx, r, args);
	g_assert_cmpuint(r->out->len, ==, 1000);
	g_assert_false(r->finished);
	while (!r->finished) {
		r->space = 4096;
		r->funcs->writable(r, r->user_data);
	}
	assert_got(r, big->str);
	recv_ack(r);
	g_string_free(big, TRUE);
	stream_free(r);
	stream_free(s);
	chan_scrub_and_free(e);
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
	stream_close(s1, "killed");
	/* Complete but blocked (CAP 0, no receiver). */
	CircuitStream *s2 = send_msg(e, "blocked");
	stream_close(s2, "killed");
	g_assert_cmpint(peek_int(e, "WaitingSenders"), ==, 0);
	CircuitStream *r = run(e, "recv");
	g_assert_false(r->replied);
	CircuitStream *s3 = send_msg(e, "live");
	assert_got(r, "live");
	recv_ack(r);
	g_assert_true(s3->replied);
	stream_free(s3);
	stream_free(r);
	stream_free(s2);
	stream_free(s1);
	chan_scrub_and_free(e);
}

/* CAP 0: a sender that goes away while a receiver is reading its message
 * does not take it back from that receiver; if that receiver fails too,
 * the message is gone (its sender never heard it was accepted). */
static void
test_sender_dies_in_flight(void)
{
	CircuitElement *e = chan_make("0");
	const char *args[] = {NULL};
	CircuitStream *s1 = send_msg(e, "0123456789");
	CircuitStream *r1 = stream_new();
	r1->space = 4;
	op("recv")->run(e, e->ctx, r1, args);
	stream_close(s1, "killed");
	g_assert_cmpint(peek_int(e, "WaitingSenders"), ==, 0);
	r1->space = 100;
	r1->funcs->writable(r1, r1->user_data);
	assert_got(r1, "0123456789");
	recv_ack(r1);
	g_assert_cmpint(peek_int(e, "NumRecv"), ==, 1);
	g_assert_cmpint(peek_int(e, "NumSend"), ==, 0);

	CircuitStream *s2 = send_msg(e, "doomed");
	CircuitStream *r2 = run(e, "recv");
	stream_close(s2, "killed");
	stream_close(r2, "killed");
	CircuitStream *r3 = run(e, "recv");
	g_assert_false(r3->replied); /* nothing left to receive */
	CircuitStream *s3 = send_msg(e, "next");
	assert_got(r3, "next");
	recv_ack(r3);
	g_assert_true(s3->replied);
	CircuitStream *all[] = {s1, r1, s2, r2, r3, s3};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		stream_free(all[i]);
	chan_scrub_and_free(e);
}

static void
test_too_big(void)
{
	const char *args[] = {"-max", "10", "2", NULL};
	GError *error = NULL;
	CircuitElement *e = chan_new(args, &error);
	g_assert_no_error(error);
	CircuitStream *ok = send_msg(e, "0123456789");
	g_assert_true(ok->replied);
	CircuitStream *big = send_msg(e, "0123456789A");
	assert_failed(big, CIRCUIT_ERROR_TOO_BIG, "limit of 10 bytes");
	g_assert_cmpint(peek_int(e, "Pending"), ==, 1);
	g_assert_cmpint(peek_int(e, "WaitingSenders"), ==, 0);
	stream_free(big);
	stream_free(ok);
	chan_scrub_and_free(e);
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
	assert_failed(s2, CIRCUIT_ERROR_CLOSED, "channel closed");
	assert_failed(s3, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *s4 = run(e, "send");
	assert_failed(s4, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *c2 = run(e, "close");
	assert_failed(c2, CIRCUIT_ERROR_CLOSED, "already closed");

	/* Drain: the accepted message, then end of channel. While it is in
	 * flight, another receiver waits (it could come back). */
	CircuitStream *r1 = run(e, "recv");
	assert_got(r1, "kept");
	CircuitStream *r2 = run(e, "recv");
	g_assert_false(r2->finished);
	recv_ack(r1);
	assert_failed(r2, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *r3 = run(e, "recv");
	assert_failed(r3, CIRCUIT_ERROR_CLOSED, "channel closed");
	g_assert_true(peek_int(e, "Closed"));
	CircuitStream *all[] = {s1, s2, s3, s4, c, c2, r1, r2, r3};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		stream_free(all[i]);

	/* Receivers blocked on an empty channel end when it is closed. */
	CircuitElement *z = chan_make("0");
	CircuitStream *w1 = run(z, "recv"), *w2 = run(z, "recv");
	CircuitStream *zc = run(z, "close");
	assert_failed(w1, CIRCUIT_ERROR_CLOSED, "channel closed");
	assert_failed(w2, CIRCUIT_ERROR_CLOSED, "channel closed");
	stream_free(w1);
	stream_free(w2);
	stream_free(zc);
	chan_scrub_and_free(z);
	chan_scrub_and_free(e);
}

static void
element_release(CircuitElement *e)
{
	circuit_element_unref(e);
	g_assert_true(e->destroyed);
	g_ptr_array_unref(e->oplog);
	g_free(e);
}

/* CAP 0: a message in flight when the channel is closed still completes;
 * if its receiver dies after the close, its sender fails instead. */
static void
test_close_in_flight(void)
{
	CircuitElement *e = chan_make("0");
	CircuitStream *s1 = send_msg(e, "one"), *s2 = send_msg(e, "two");
	CircuitStream *r1 = run(e, "recv"), *r2 = run(e, "recv");
	assert_got(r1, "one");
	assert_got(r2, "two");
	CircuitStream *c = run(e, "close");
	g_assert_null(c->error);
	g_assert_false(s1->replied);
	g_assert_false(s2->replied);
	recv_ack(r1);
	g_assert_true(s1->replied);
	g_assert_null(s1->error);
	stream_close(r2, "killed");
	assert_failed(s2, CIRCUIT_ERROR_CLOSED, "channel closed");
	CircuitStream *r3 = run(e, "recv");
	assert_failed(r3, CIRCUIT_ERROR_CLOSED, "channel closed");
	g_assert_cmpint(peek_int(e, "NumSend"), ==, 1);
	g_assert_cmpint(peek_int(e, "NumRecv"), ==, 1);
	CircuitStream *all[] = {s1, s2, r1, r2, c, r3};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		stream_free(all[i]);
	chan_scrub_and_free(e);
}

static void
test_scrub(void)
{
	CircuitElement *e = chan_make("3");
	CircuitStream *s1 = send_msg(e, "a"), *s2 = send_msg(e, "b"), *s3 = send_msg(e, "c");
	CircuitStream *s4 = send_msg(e, "d"); /* blocked: buffer full */
	CircuitStream *s5 = run(e, "send");   /* mid-body */
	CircuitStream *r1 = run(e, "recv");   /* has all of "a", no ack yet */
	assert_got(r1, "a");
	CircuitStream *r2 = stream_new(); /* gets part of "b" only */
	r2->space = 0;
	const char *args[] = {NULL};
	op("recv")->run(e, e->ctx, r2, args);
	g_assert_true(r2->replied);
	g_assert_false(r2->finished);
	desc->scrub(e, e->ctx);
	assert_failed(s4, CIRCUIT_ERROR_ABORTED, "channel aborted");
	assert_failed(s5, CIRCUIT_ERROR_ABORTED, "channel aborted");
	assert_failed(r2, CIRCUIT_ERROR_ABORTED, "channel aborted"); /* reset */
	g_assert_null(r1->error); /* it had everything: left to finish */
	g_assert_true(peek_int(e, "Aborted"));
	/* "b" (half sent) and "c" (buffered) were dropped. */
	g_assert_cmpuint(e->oplog->len, ==, 1);
	g_assert_cmpstr(e->oplog->pdata[0], ==, "drop=2");
	recv_ack(r1);
	g_assert_cmpint(peek_int(e, "NumRecv"), ==, 1);
	g_assert_cmpint(peek_int(e, "Pending"), ==, 0);
	CircuitStream *s6 = run(e, "send");
	assert_failed(s6, CIRCUIT_ERROR_ABORTED, "channel aborted");
	CircuitStream *all[] = {s1, s2, s3, s4, s5, s6, r1, r2};
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		stream_free(all[i]);
	element_release(e);

	/* Receivers waiting on an empty channel; nothing to drop. */
	CircuitElement *z = chan_make("0");
	CircuitStream *w = run(z, "recv");
	desc->scrub(z, z->ctx);
	assert_failed(w, CIRCUIT_ERROR_ABORTED, "channel aborted");
	g_assert_cmpuint(z->oplog->len, ==, 0);
	stream_free(w);
	element_release(z);
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
					stream_close(r, "killed"); /* its message goes back */
					state[r->tag] = 0;
					killed++;
				} else {
					recv_ack(r);
					state[r->tag] = 2;
					acked++;
				}
				stream_free(r);
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
		g_assert_cmpint(peek_int(e, "NumRecv"), ==, total);
		g_assert_cmpint(peek_int(e, "NumSend"), ==, total);
		g_assert_cmpint(peek_int(e, "Pending"), ==, 0);
		for (guint i = 0; i < senders->len; i++) {
			CircuitStream *s = senders->pdata[i];
			g_assert_true(s->replied);
			g_assert_null(s->error);
			stream_free(s);
		}
		for (guint i = 0; i < receivers->len; i++)
			stream_free(receivers->pdata[i]);
		g_ptr_array_unref(senders);
		g_ptr_array_unref(receivers);
		g_free(state);
		chan_scrub_and_free(e);
	}
	g_rand_free(rng);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/plugins/chan/args", test_args);
	g_test_add_func("/plugins/chan/rendezvous", test_rendezvous);
	g_test_add_func("/plugins/chan/capacity", test_capacity);
	g_test_add_func("/plugins/chan/receiver-dies", test_receiver_dies);
	g_test_add_func("/plugins/chan/flow-control", test_flow_control);
	g_test_add_func("/plugins/chan/sender-dies", test_sender_dies);
	g_test_add_func("/plugins/chan/sender-dies-in-flight", test_sender_dies_in_flight);
	g_test_add_func("/plugins/chan/too-big", test_too_big);
	g_test_add_func("/plugins/chan/close", test_close);
	g_test_add_func("/plugins/chan/close-in-flight", test_close_in_flight);
	g_test_add_func("/plugins/chan/scrub", test_scrub);
	g_test_add_func("/plugins/chan/fifo-random", test_fifo_random);
	return g_test_run();
}
