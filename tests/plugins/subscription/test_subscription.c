// SPDX-License-Identifier: Apache-2.0
//
// test_subscription.c - the subscription plugin linked statically against a
// fake host: the SDK functions it calls are implemented here, so membership
// events and every stream event (output, acknowledgement, a client dying)
// happen in an order the test chooses. tests/integration/subscription.sh
// runs the same rules through a real circuitd.
#include <circuit/plugin.h>

#include <string.h>

extern const CircuitPluginDescriptor circuit_plugin_subscription;
static const CircuitPluginDescriptor *desc = &circuit_plugin_subscription;

/* ------------------------------------------------------------------------ */
/* The fake host                                                             */

struct CircuitElement {
	int ref;
	const char *kind;
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
	gsize space; /* write space the fake client grants */
};

/* The membership the fake host offers. */
static const char *const *fake_members;
static gboolean fake_no_membership;
static guint fake_next_watch;
typedef struct {
	guint id;
	CircuitMemberFunc fn;
	gpointer user_data;
	GDestroyNotify destroy;
} FakeWatch;
static GPtrArray *fake_watches; /* FakeWatch*, live ones */

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
	return "/X0000000000000001/watch";
}

const char *
circuit_element_kind(CircuitElement *element)
{
	return element->kind;
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

char **
circuit_host_members(CircuitHost *host)
{
	return g_strdupv((char **)fake_members);
}

guint
circuit_host_watch_members(CircuitHost *host, CircuitMemberFunc fn, gpointer user_data,
                           GDestroyNotify destroy)
{
	if (fake_no_membership)
		return 0;
	FakeWatch *w = g_new0(FakeWatch, 1);
	w->id = ++fake_next_watch;
	w->fn = fn;
	w->user_data = user_data;
	w->destroy = destroy;
	g_ptr_array_add(fake_watches, w);
	return w->id;
}

static void
fake_watch_remove(guint index)
{
	FakeWatch *w = g_ptr_array_steal_index(fake_watches, index);
	if (w->destroy)
		w->destroy(w->user_data);
	g_free(w);
}

void
circuit_host_unwatch_members(CircuitHost *host, guint id)
{
	for (guint i = 0; i < fake_watches->len; i++)
		if (((FakeWatch *)fake_watches->pdata[i])->id == id) {
			fake_watch_remove(i);
			return;
		}
}

/* A membership change, as the host reports it to every watch. */
static void
fake_event(CircuitMemberEvent event, const char *path)
{
	for (guint i = 0; i < fake_watches->len; i++) {
		FakeWatch *w = fake_watches->pdata[i];
		w->fn(event, path, w->user_data);
	}
}

/* The server stops its membership (shutdown): every watch is dropped. */
static void
fake_membership_stop(void)
{
	while (fake_watches->len)
		fake_watch_remove(0);
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

static void
setup(void)
{
	static const char *const two[] = {"/X00000000000000a1", "/X00000000000000b2", NULL};
	fake_members = two;
	fake_no_membership = FALSE;
	fake_watches = g_ptr_array_new();
}

static void
teardown(void)
{
	g_assert_cmpuint(fake_watches->len, ==, 0); /* every watch was removed */
	g_ptr_array_unref(fake_watches);
}

static CircuitElement *
sub_new(const char *kind, GError **error)
{
	CircuitElement *element = g_new0(CircuitElement, 1);
	element->ref = 1; /* the anchor's */
	element->kind = kind;
	element->oplog = g_ptr_array_new_with_free_func(g_free);
	const char *args[] = {NULL};
	if (!desc->create(element, args, NULL, &element->ctx, error)) {
		g_ptr_array_unref(element->oplog);
		g_free(element);
		return NULL;
	}
	return element;
}

static CircuitElement *
sub_make(const char *kind)
{
	GError *error = NULL;
	CircuitElement *element = sub_new(kind, &error);
	g_assert_no_error(error);
	return element;
}

static void
sub_scrub_and_free(CircuitElement *element)
{
	desc->scrub(element, element->ctx);
	circuit_element_unref(element);
	g_assert_true(element->destroyed);
	g_ptr_array_unref(element->oplog);
	g_free(element);
}

/* One integer (or boolean as 0/1) field of peek. */
static gint64
peek_int(CircuitElement *element, const char *field)
{
	JsonNode *n = desc->peek(element, element->ctx);
	JsonObject *o = json_node_get_object(n);
	g_assert_true(json_object_has_member(o, field));
	gint64 v = json_object_get_int_member(o, field);
	json_node_unref(n);
	return v;
}

static CircuitStream *
recv_open(CircuitElement *element)
{
	CircuitStream *s = g_new0(CircuitStream, 1);
	s->out = g_byte_array_new();
	s->space = 1 << 16;
	const char *args[] = {NULL};
	g_assert_cmpuint(desc->n_ops, ==, 1);
	g_assert_cmpstr(desc->ops[0].name, ==, "recv");
	desc->ops[0].run(element, element->ctx, s, args);
	return s;
}

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

/* The client's EOF after the whole output: the acknowledgement. */
static void
client_ack(CircuitStream *s)
{
	g_assert_true(s->finished);
	s->funcs->input_end(s, s->user_data);
	stream_close(s, NULL);
}

static void
expect_output(CircuitStream *s, const char *text)
{
	g_assert_no_error(s->error);
	g_assert_true(s->replied);
	g_assert_true(s->finished);
	g_assert_cmpmem(s->out->data, s->out->len, text, strlen(text));
}

/* recv + acknowledgement; the event must be @text. */
static void
recv_expect(CircuitElement *element, const char *text)
{
	CircuitStream *s = recv_open(element);
	expect_output(s, text);
	client_ack(s);
	stream_free(s);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

static void
test_join_reports_members(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	g_assert_cmpint(peek_int(j, "Pending"), ==, 2);
	g_assert_cmpint(peek_int(j, "Seq"), ==, 2);
	recv_expect(j, "/X00000000000000a1\n");
	recv_expect(j, "/X00000000000000b2\n");
	/* Then each server that joins; departures are not its business. */
	fake_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000000b2");
	g_assert_cmpint(peek_int(j, "Pending"), ==, 0);
	fake_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000c3");
	recv_expect(j, "/X00000000000000c3\n");
	g_assert_cmpint(peek_int(j, "NumRecv"), ==, 3);
	g_assert_cmpint(peek_int(j, "Seq"), ==, 3);
	g_assert_cmpint(peek_int(j, "Pending"), ==, 0);
	sub_scrub_and_free(j);
	teardown();
}

static void
test_leave_reports_departures(void)
{
	setup();
	CircuitElement *l = sub_make("@leave");
	CircuitElement *l2 = sub_make("@leave");
	g_assert_cmpint(peek_int(l, "Pending"), ==, 0);
	g_assert_cmpint(peek_int(l, "Seq"), ==, 0);
	/* A waiting receiver gets the departure as it happens. */
	CircuitStream *s = recv_open(l);
	g_assert_false(s->replied);
	g_assert_cmpint(peek_int(l, "WaitingReceivers"), ==, 1);
	fake_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000c3");
	g_assert_false(s->replied);
	fake_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000000b2");
	expect_output(s, "/X00000000000000b2\n");
	client_ack(s);
	stream_free(s);
	/* Every subscription gets each departure once. */
	g_assert_cmpint(peek_int(l2, "Pending"), ==, 1);
	recv_expect(l2, "/X00000000000000b2\n");
	g_assert_cmpint(peek_int(l, "Pending"), ==, 0);
	g_assert_cmpint(peek_int(l2, "Pending"), ==, 0);
	sub_scrub_and_free(l);
	sub_scrub_and_free(l2);
	teardown();
}

/* A receiver that dies before acknowledging gives its event back, at its
 * place: the next receiver gets the same event, then the later ones. */
static void
test_unacked_goes_back(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	CircuitStream *s = recv_open(j);
	expect_output(s, "/X00000000000000a1\n");
	CircuitStream *t = recv_open(j);
	expect_output(t, "/X00000000000000b2\n");
	g_assert_cmpint(peek_int(j, "Pending"), ==, 2);
	stream_close(t, "connection reset");
	stream_close(s, "connection reset");
	g_assert_cmpint(peek_int(j, "Pending"), ==, 2);
	g_assert_cmpint(peek_int(j, "NumRecv"), ==, 0);
	recv_expect(j, "/X00000000000000a1\n");
	recv_expect(j, "/X00000000000000b2\n");
	stream_free(s);
	stream_free(t);
	sub_scrub_and_free(j);
	teardown();
}

/* The client's EOF before it had everything is no acknowledgement. */
static void
test_early_eof_is_no_ack(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	/* A slow client: the window opens a few bytes at a time. */
	CircuitStream *s = g_new0(CircuitStream, 1);
	s->out = g_byte_array_new();
	s->space = 5;
	const char *args[] = {NULL};
	desc->ops[0].run(j, j->ctx, s, args);
	g_assert_true(s->replied);
	g_assert_false(s->finished);
	s->funcs->input_end(s, s->user_data); /* early: not an ack */
	s->space = 64;
	s->funcs->writable(s, s->user_data);
	expect_output(s, "/X00000000000000a1\n");
	stream_close(s, NULL);
	stream_free(s);
	g_assert_cmpint(peek_int(j, "NumRecv"), ==, 0);
	g_assert_cmpint(peek_int(j, "Pending"), ==, 2);
	recv_expect(j, "/X00000000000000a1\n");
	sub_scrub_and_free(j);
	teardown();
}

/* A waiting receiver that goes away leaves nothing behind: the next event
 * is not swallowed by it. */
static void
test_dead_waiter_swallows_nothing(void)
{
	setup();
	CircuitElement *l = sub_make("@leave");
	CircuitStream *s = recv_open(l);
	stream_close(s, "client killed");
	stream_free(s);
	g_assert_cmpint(peek_int(l, "WaitingReceivers"), ==, 0);
	fake_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000000a1");
	g_assert_cmpint(peek_int(l, "Pending"), ==, 1);
	recv_expect(l, "/X00000000000000a1\n");
	sub_scrub_and_free(l);
	teardown();
}

static void
test_bounded(void)
{
	setup();
	CircuitElement *l = sub_make("@leave");
	g_assert_cmpint(peek_int(l, "Limit"), ==, 10000);
	for (guint i = 0; i < 10005; i++) {
		char path[20];
		g_snprintf(path, sizeof path, "/X%016x", i);
		fake_event(CIRCUIT_MEMBER_LEAVE, path);
	}
	g_assert_cmpint(peek_int(l, "Pending"), ==, 10000);
	g_assert_cmpint(peek_int(l, "Dropped"), ==, 5);
	g_assert_cmpint(peek_int(l, "Seq"), ==, 10005);
	/* The oldest are kept; once there is room again, new events queue. */
	recv_expect(l, "/X0000000000000000\n");
	fake_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000fffff");
	g_assert_cmpint(peek_int(l, "Pending"), ==, 10000);
	g_assert_cmpint(peek_int(l, "Dropped"), ==, 5);
	/* In-flight events count against the limit too. */
	CircuitStream *s = recv_open(l);
	expect_output(s, "/X0000000000000001\n");
	fake_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000ffffe");
	g_assert_cmpint(peek_int(l, "Dropped"), ==, 6);
	stream_close(s, "reset");
	stream_free(s);
	g_assert_cmpint(peek_int(l, "Pending"), ==, 10000);
	/* A scrub drops what is queued and says so in the op log. */
	desc->scrub(l, l->ctx);
	g_assert_cmpuint(l->oplog->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(l->oplog, 0), ==, "drop=10000");
	circuit_element_unref(l);
	g_assert_true(l->destroyed);
	g_ptr_array_unref(l->oplog);
	g_free(l);
	teardown();
}

/* scrub: blocked readers fail with "closed", queued events are dropped
 * (op log), a receiver that has its whole event may still acknowledge. */
static void
test_scrub(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	CircuitStream *done = recv_open(j);
	expect_output(done, "/X00000000000000a1\n");
	recv_expect(j, "/X00000000000000b2\n");
	CircuitStream *w1 = recv_open(j);
	CircuitStream *w2 = recv_open(j);
	fake_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000c3"); /* goes to w1 */
	fake_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000d4"); /* goes to w2 */
	fake_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000e5"); /* queued */
	CircuitStream *w3 = recv_open(j);
	g_assert_cmpint(peek_int(j, "WaitingReceivers"), ==, 0);
	g_assert_cmpint(peek_int(j, "Pending"), ==, 4);
	client_ack(w2);
	CircuitStream *w4 = recv_open(j);
	g_assert_false(w4->replied);

	desc->scrub(j, j->ctx);
	g_assert_cmpuint(fake_watches->len, ==, 0);
	g_assert_error(w4->error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED);
	g_assert_nonnull(strstr(w4->error->message, "closed"));
	g_assert_no_error(w1->error);
	g_assert_true(w1->finished);
	/* After the scrub, nothing more arrives; a new recv fails at once. */
	CircuitStream *late = recv_open(j);
	g_assert_error(late->error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED);
	stream_free(late);
	client_ack(done);
	stream_close(w1, "reset"); /* its event is gone with the feed */
	stream_close(w3, "reset");
	g_assert_cmpint(peek_int(j, "NumRecv"), ==, 3);
	g_assert_cmpint(peek_int(j, "Closed"), ==, 1);
	g_assert_cmpuint(j->oplog->len, ==, 0); /* nothing was queued */
	for (CircuitStream **p = (CircuitStream *[]){done, w1, w2, w3, w4, NULL}; *p; p++)
		stream_free(*p);
	circuit_element_unref(j);
	g_assert_true(j->destroyed);
	g_ptr_array_unref(j->oplog);
	g_free(j);
	teardown();
}

/* The server stops its membership: the feed is closed; queued events are
 * still delivered, then readers get "closed". */
static void
test_membership_stops(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	fake_membership_stop();
	g_assert_cmpint(peek_int(j, "Closed"), ==, 1);
	recv_expect(j, "/X00000000000000a1\n");
	CircuitStream *last = recv_open(j);
	expect_output(last, "/X00000000000000b2\n");
	CircuitStream *w = recv_open(j);
	g_assert_false(w->finished); /* the event in flight could come back */
	client_ack(last);
	g_assert_error(w->error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED);
	stream_free(last);
	stream_free(w);
	sub_scrub_and_free(j);
	teardown();
}

static void
test_create_refusals(void)
{
	setup();
	GError *error = NULL;
	g_assert_null(sub_new("subscription", &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "mk@join"));
	g_clear_error(&error);
	fake_no_membership = TRUE;
	g_assert_null(sub_new("@join", &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	teardown();
}

static void
test_descriptor(void)
{
	g_assert_cmpstr(desc->kind, ==, "subscription");
	g_assert_cmpuint(desc->abi_minor, >=, 2);
	g_assert_nonnull(desc->aliases);
	g_assert_cmpstr(desc->aliases[0], ==, "@join");
	g_assert_cmpstr(desc->aliases[1], ==, "@leave");
	g_assert_null(desc->aliases[2]);
	g_assert_cmpuint(desc->make_max_args, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/plugins/subscription/descriptor", test_descriptor);
	g_test_add_func("/plugins/subscription/join-reports-members", test_join_reports_members);
	g_test_add_func("/plugins/subscription/leave-reports-departures",
	                test_leave_reports_departures);
	g_test_add_func("/plugins/subscription/unacked-goes-back", test_unacked_goes_back);
	g_test_add_func("/plugins/subscription/early-eof-is-no-ack", test_early_eof_is_no_ack);
	g_test_add_func("/plugins/subscription/dead-waiter-swallows-nothing",
	                test_dead_waiter_swallows_nothing);
	g_test_add_func("/plugins/subscription/bounded", test_bounded);
	g_test_add_func("/plugins/subscription/scrub", test_scrub);
	g_test_add_func("/plugins/subscription/membership-stops", test_membership_stops);
	g_test_add_func("/plugins/subscription/create-refusals", test_create_refusals);
	return g_test_run();
}
