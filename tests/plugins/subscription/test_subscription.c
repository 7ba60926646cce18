// SPDX-License-Identifier: Apache-2.0
//
// test_subscription.c - the subscription plugin linked statically against
// the fake host of circuit/plugin-test.h, so membership events and
// every stream event (output, acknowledgement, a client dying) happen in an
// order the test chooses. tests/integration/subscription.sh
// runs the same rules through a real circuitd.
#include <circuit/plugin-test.h>

#include <string.h>

extern const CircuitPluginDescriptor circuit_plugin_subscription;

/* ------------------------------------------------------------------------ */
/* Test helpers                                                              */

static void
setup(void)
{
	static const char *const two[] = {"/X00000000000000a1", "/X00000000000000b2", NULL};
	circuit_test_membership_setup(two);
}

static CircuitElement *
sub_new(const char *kind, GError **error)
{
	const char *args[] = {NULL};
	return circuit_test_element_new(kind, args, error);
}

static CircuitElement *
sub_make(const char *kind)
{
	GError *error = NULL;
	CircuitElement *element = sub_new(kind, &error);
	g_assert_no_error(error);
	return element;
}

static CircuitStream *
recv_open(CircuitElement *element)
{
	g_assert_cmpuint(circuit_test_desc->n_ops, ==, 1);
	return circuit_test_run_on(element, "recv", circuit_test_stream_new(1 << 16));
}

/* recv + acknowledgement; the event must be @text. */
static void
recv_expect(CircuitElement *element, const char *text)
{
	CircuitStream *s = recv_open(element);
	circuit_test_assert_output(s, text);
	circuit_test_ack(s, TRUE);
	circuit_test_stream_free(s);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

static void
test_join_reports_members(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	g_assert_cmpint(circuit_test_peek_int(j, "Pending"), ==, 2);
	g_assert_cmpint(circuit_test_peek_int(j, "Seq"), ==, 2);
	recv_expect(j, "/X00000000000000a1\n");
	recv_expect(j, "/X00000000000000b2\n");
	/* Then each server that joins; departures are not its business. */
	circuit_test_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000000b2");
	g_assert_cmpint(circuit_test_peek_int(j, "Pending"), ==, 0);
	circuit_test_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000c3");
	recv_expect(j, "/X00000000000000c3\n");
	g_assert_cmpint(circuit_test_peek_int(j, "NumRecv"), ==, 3);
	g_assert_cmpint(circuit_test_peek_int(j, "Seq"), ==, 3);
	g_assert_cmpint(circuit_test_peek_int(j, "Pending"), ==, 0);
	circuit_test_element_scrub_and_free(j);
	circuit_test_membership_teardown();
}

static void
test_leave_reports_departures(void)
{
	setup();
	CircuitElement *l = sub_make("@leave");
	CircuitElement *l2 = sub_make("@leave");
	g_assert_cmpint(circuit_test_peek_int(l, "Pending"), ==, 0);
	g_assert_cmpint(circuit_test_peek_int(l, "Seq"), ==, 0);
	/* A waiting receiver gets the departure as it happens. */
	CircuitStream *s = recv_open(l);
	g_assert_false(s->replied);
	g_assert_cmpint(circuit_test_peek_int(l, "WaitingReceivers"), ==, 1);
	circuit_test_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000c3");
	g_assert_false(s->replied);
	circuit_test_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000000b2");
	circuit_test_assert_output(s, "/X00000000000000b2\n");
	circuit_test_ack(s, TRUE);
	circuit_test_stream_free(s);
	/* Every subscription gets each departure once. */
	g_assert_cmpint(circuit_test_peek_int(l2, "Pending"), ==, 1);
	recv_expect(l2, "/X00000000000000b2\n");
	g_assert_cmpint(circuit_test_peek_int(l, "Pending"), ==, 0);
	g_assert_cmpint(circuit_test_peek_int(l2, "Pending"), ==, 0);
	circuit_test_element_scrub_and_free(l);
	circuit_test_element_scrub_and_free(l2);
	circuit_test_membership_teardown();
}

/* A receiver that dies before acknowledging gives its event back, at its
 * place: the next receiver gets the same event, then the later ones. */
static void
test_unacked_goes_back(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	CircuitStream *s = recv_open(j);
	circuit_test_assert_output(s, "/X00000000000000a1\n");
	CircuitStream *t = recv_open(j);
	circuit_test_assert_output(t, "/X00000000000000b2\n");
	g_assert_cmpint(circuit_test_peek_int(j, "Pending"), ==, 2);
	circuit_test_stream_close(t, "connection reset");
	circuit_test_stream_close(s, "connection reset");
	g_assert_cmpint(circuit_test_peek_int(j, "Pending"), ==, 2);
	g_assert_cmpint(circuit_test_peek_int(j, "NumRecv"), ==, 0);
	recv_expect(j, "/X00000000000000a1\n");
	recv_expect(j, "/X00000000000000b2\n");
	circuit_test_stream_free(s);
	circuit_test_stream_free(t);
	circuit_test_element_scrub_and_free(j);
	circuit_test_membership_teardown();
}

/* The client's EOF before it had everything is no acknowledgement. */
static void
test_early_eof_is_no_ack(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	/* A slow client: the window opens a few bytes at a time. */
	CircuitStream *s = circuit_test_run_on(j, "recv", circuit_test_stream_new(5));
	g_assert_true(s->replied);
	g_assert_false(s->finished);
	s->funcs->input_end(s, s->user_data); /* early: not an ack */
	s->space = 64;
	s->funcs->writable(s, s->user_data);
	circuit_test_assert_output(s, "/X00000000000000a1\n");
	circuit_test_stream_close(s, NULL);
	circuit_test_stream_free(s);
	g_assert_cmpint(circuit_test_peek_int(j, "NumRecv"), ==, 0);
	g_assert_cmpint(circuit_test_peek_int(j, "Pending"), ==, 2);
	recv_expect(j, "/X00000000000000a1\n");
	circuit_test_element_scrub_and_free(j);
	circuit_test_membership_teardown();
}

/* A waiting receiver that goes away leaves nothing behind: the next event
 * is not swallowed by it. */
static void
test_dead_waiter_swallows_nothing(void)
{
	setup();
	CircuitElement *l = sub_make("@leave");
	CircuitStream *s = recv_open(l);
	circuit_test_stream_close(s, "client killed");
	circuit_test_stream_free(s);
	g_assert_cmpint(circuit_test_peek_int(l, "WaitingReceivers"), ==, 0);
	circuit_test_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000000a1");
	g_assert_cmpint(circuit_test_peek_int(l, "Pending"), ==, 1);
	recv_expect(l, "/X00000000000000a1\n");
	circuit_test_element_scrub_and_free(l);
	circuit_test_membership_teardown();
}

static void
test_bounded(void)
{
	setup();
	CircuitElement *l = sub_make("@leave");
	g_assert_cmpint(circuit_test_peek_int(l, "Limit"), ==, 10000);
	for (guint i = 0; i < 10005; i++) {
		char path[20];
		g_snprintf(path, sizeof path, "/X%016x", i);
		circuit_test_event(CIRCUIT_MEMBER_LEAVE, path);
	}
	g_assert_cmpint(circuit_test_peek_int(l, "Pending"), ==, 10000);
	g_assert_cmpint(circuit_test_peek_int(l, "Dropped"), ==, 5);
	g_assert_cmpint(circuit_test_peek_int(l, "Seq"), ==, 10005);
	/* The oldest are kept; once there is room again, new events queue. */
	recv_expect(l, "/X0000000000000000\n");
	circuit_test_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000fffff");
	g_assert_cmpint(circuit_test_peek_int(l, "Pending"), ==, 10000);
	g_assert_cmpint(circuit_test_peek_int(l, "Dropped"), ==, 5);
	/* In-flight events count against the limit too. */
	CircuitStream *s = recv_open(l);
	circuit_test_assert_output(s, "/X0000000000000001\n");
	circuit_test_event(CIRCUIT_MEMBER_LEAVE, "/X00000000000ffffe");
	g_assert_cmpint(circuit_test_peek_int(l, "Dropped"), ==, 6);
	circuit_test_stream_close(s, "reset");
	circuit_test_stream_free(s);
	g_assert_cmpint(circuit_test_peek_int(l, "Pending"), ==, 10000);
	/* A scrub drops what is queued and says so in the op log. */
	circuit_test_desc->scrub(l, l->ctx);
	g_assert_cmpuint(l->oplog->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(l->oplog, 0), ==, "drop=10000");
	circuit_test_element_release(l);
	circuit_test_membership_teardown();
}

/* scrub: blocked readers fail with "closed", queued events are dropped
 * (op log), a receiver that has its whole event may still acknowledge. */
static void
test_scrub(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	CircuitStream *done = recv_open(j);
	circuit_test_assert_output(done, "/X00000000000000a1\n");
	recv_expect(j, "/X00000000000000b2\n");
	CircuitStream *w1 = recv_open(j);
	CircuitStream *w2 = recv_open(j);
	circuit_test_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000c3"); /* goes to w1 */
	circuit_test_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000d4"); /* goes to w2 */
	circuit_test_event(CIRCUIT_MEMBER_JOIN, "/X00000000000000e5"); /* queued */
	CircuitStream *w3 = recv_open(j);
	g_assert_cmpint(circuit_test_peek_int(j, "WaitingReceivers"), ==, 0);
	g_assert_cmpint(circuit_test_peek_int(j, "Pending"), ==, 4);
	circuit_test_ack(w2, TRUE);
	CircuitStream *w4 = recv_open(j);
	g_assert_false(w4->replied);

	circuit_test_desc->scrub(j, j->ctx);
	g_assert_cmpuint(circuit_test_membership_watches(), ==, 0);
	g_assert_error(w4->error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED);
	g_assert_nonnull(strstr(w4->error->message, "closed"));
	g_assert_no_error(w1->error);
	g_assert_true(w1->finished);
	/* After the scrub, nothing more arrives; a new recv fails at once. */
	CircuitStream *late = recv_open(j);
	g_assert_error(late->error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED);
	circuit_test_stream_free(late);
	circuit_test_ack(done, TRUE);
	circuit_test_stream_close(w1, "reset"); /* its event is gone with the feed */
	circuit_test_stream_close(w3, "reset");
	g_assert_cmpint(circuit_test_peek_int(j, "NumRecv"), ==, 3);
	g_assert_cmpint(circuit_test_peek_int(j, "Closed"), ==, 1);
	g_assert_cmpuint(j->oplog->len, ==, 0); /* nothing was queued */
	for (CircuitStream **p = (CircuitStream *[]){done, w1, w2, w3, w4, NULL}; *p; p++)
		circuit_test_stream_free(*p);
	circuit_test_element_release(j);
	circuit_test_membership_teardown();
}

/* The server stops its membership: the feed is closed; queued events are
 * still delivered, then readers get "closed". */
static void
test_membership_stops(void)
{
	setup();
	CircuitElement *j = sub_make("@join");
	circuit_test_membership_stop();
	g_assert_cmpint(circuit_test_peek_int(j, "Closed"), ==, 1);
	recv_expect(j, "/X00000000000000a1\n");
	CircuitStream *last = recv_open(j);
	circuit_test_assert_output(last, "/X00000000000000b2\n");
	CircuitStream *w = recv_open(j);
	g_assert_false(w->finished); /* the event in flight could come back */
	circuit_test_ack(last, TRUE);
	g_assert_error(w->error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED);
	circuit_test_stream_free(last);
	circuit_test_stream_free(w);
	circuit_test_element_scrub_and_free(j);
	circuit_test_membership_teardown();
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
	circuit_test_no_membership = TRUE;
	g_assert_null(sub_new("@join", &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE);
	g_clear_error(&error);
	circuit_test_membership_teardown();
}

static void
test_descriptor(void)
{
	g_assert_cmpstr(circuit_test_desc->kind, ==, "subscription");
	g_assert_cmpuint(circuit_test_desc->abi_minor, >=, 2);
	g_assert_nonnull(circuit_test_desc->aliases);
	g_assert_cmpstr(circuit_test_desc->aliases[0], ==, "@join");
	g_assert_cmpstr(circuit_test_desc->aliases[1], ==, "@leave");
	g_assert_null(circuit_test_desc->aliases[2]);
	g_assert_cmpuint(circuit_test_desc->make_max_args, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	circuit_test_desc = &circuit_plugin_subscription;
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
