// SPDX-License-Identifier: Apache-2.0
//
// chan_timeout.c - test helper for timeout.sh: libcircuit's send and recv
// with a timeout, on a capacity-0 channel. A call that gives up must leave
// nothing pending on the server: a timed-out recv must not swallow a later
// message, a timed-out send must not deliver its message later.
//
// usage: chan_timeout URL PATH   (PATH: an empty channel of capacity 0)
#include <circuit/client.h>

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			g_printerr(__VA_ARGS__);                                                   \
			g_printerr("\n");                                                          \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Polls peek (2 s at most) until @field equals @want. */
static gboolean
wait_field(CircuitClient *c, const char *path, const char *field, gint64 want)
{
	for (int i = 0; i < 100; i++) {
		GError *error = NULL;
		JsonNode *node = circuit_peek(c, path, &error);
		if (!node) {
			g_printerr("peek: %s\n", error->message);
			g_error_free(error);
			return FALSE;
		}
		gint64 v = json_object_get_int_member(json_node_get_object(node), field);
		json_node_unref(node);
		if (v == want)
			return TRUE;
		g_usleep(20 * 1000);
	}
	return FALSE;
}

typedef struct {
	const char *url, *path;
	gboolean ok;
} Sender;

static gpointer
send_real(gpointer data)
{
	Sender *s = data;
	GError *error = NULL;
	CircuitClient *c = circuit_client_dial(s->url, 0, &error);
	s->ok = c && circuit_chan_send(c, s->path, "real", 4, 10000, &error);
	if (!s->ok)
		g_printerr("send real: %s\n", error->message);
	g_clear_error(&error);
	circuit_client_free(c);
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		g_printerr("usage: chan_timeout URL PATH\n");
		return 2;
	}
	const char *url = argv[1], *path = argv[2];
	GError *error = NULL;
	CircuitClient *a = circuit_client_dial(url, 0, &error);
	CircuitClient *b = a ? circuit_client_dial(url, 0, &error) : NULL;
	if (!b) {
		g_printerr("dial: %s\n", error->message);
		return 1;
	}

	/* A recv that times out is withdrawn. */
	GBytes *got = circuit_chan_recv(a, path, 300, &error);
	CHECK(!got && error && error->domain == CIRCUIT_CLIENT_ERROR &&
	              error->code == CIRCUIT_CLIENT_ERROR_TIMEOUT,
	      "recv on an empty channel did not time out: %s",
	      error ? error->message : "a message");
	g_clear_error(&error);
	CHECK(wait_field(b, path, "WaitingReceivers", 0), "the timed-out recv is still waiting");

	/* A send that times out is withdrawn with its message. */
	gboolean sent = circuit_chan_send(a, path, "ghost", 5, 300, &error);
	CHECK(!sent && error, "send on capacity 0 without a receiver did not time out");
	g_clear_error(&error);
	CHECK(wait_field(b, path, "WaitingSenders", 0), "the timed-out send is still waiting");
	got = circuit_chan_recv(b, path, 300, &error);
	CHECK(!got, "a receiver got the withdrawn message \"%.*s\"",
	      got ? (int)g_bytes_get_size(got) : 0,
	      got ? (const char *)g_bytes_get_data(got, NULL) : "");
	g_clear_error(&error);
	if (got)
		g_bytes_unref(got);

	/* The clients that gave up still work, and the next message goes to
	 * the next receiver. */
	Sender s = {.url = url, .path = path};
	GThread *t = g_thread_new("sender", send_real, &s);
	got = circuit_chan_recv(a, path, 10000, &error);
	CHECK(got && g_bytes_get_size(got) == 4 &&
	              memcmp(g_bytes_get_data(got, NULL), "real", 4) == 0,
	      "the next receiver did not get the next message: %s",
	      error ? error->message : "other bytes");
	g_clear_error(&error);
	if (got)
		g_bytes_unref(got);
	g_thread_join(t);
	CHECK(s.ok, "the real send failed");

	circuit_client_free(a);
	circuit_client_free(b);
	printf("%s: %d failure(s)\n", failures ? "FAILED" : "ok", failures);
	return failures ? 1 : 0;
}
