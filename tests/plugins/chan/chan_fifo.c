// SPDX-License-Identifier: Apache-2.0
//
// chan_fifo.c - test helper for fifo.sh: SENDERS threads send TOTAL
// checksummed messages into one channel while RECEIVERS threads drain it,
// each thread with its own CircuitClient (its own connection). When every
// send has returned, the channel is closed and the receivers stop at its
// end. Exits 0 only if every message arrived exactly once and intact; with
// one receiver, also only if each sender's messages arrived in the order
// that sender sent them (FIFO).
//
// With IN_FLIGHT > 1, each sender keeps that many sends open at once on its
// one connection (circuit_call_open_input, then the replies in order):
// pipelined calls of one client must still be executed in the order opened.
// IN_FLIGHT with an "s" (16s): the sends are opened first and their
// messages written afterwards, as streamed input (circuit_call_write).
//
// usage: chan_fifo URL PATH SENDERS RECEIVERS TOTAL [IN_FLIGHT[s]]
#include <circuit/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CIRCUIT_ERROR_CLOSED of plugin.h: the end of a closed channel. */
#define FIFO_ERROR_CLOSED 5

typedef struct {
	const char *url;
	const char *path;
	guint senders;
	guint total;
	guint in_flight;   /* sends open at once per sender */
	gboolean streamed; /* their messages written after all were opened */
	gint *seen;        /* per message: how many times it was received */
	gint corrupt;
	gint failures;
	gint received;
	guint receivers;
	gint64 *last; /* per sender: the last message number received */
	gint disorder;
} Fifo;

typedef struct {
	Fifo *fifo;
	guint index;
} Worker;

static guint32
fifo_fnv1a(const guint8 *data, gsize len)
{
	guint32 h = 2166136261u;
	for (gsize i = 0; i < len; i++) {
		h ^= data[i];
		h *= 16777619u;
	}
	return h;
}

/* Message number @n: "n:" + filler of a length and content derived from n
 * + ":" + 8 hex digits of FNV-1a over everything before them. */
static gsize
fifo_build(guint n, char *buf, gsize size)
{
	int len = g_snprintf(buf, size, "%u:", n);
	guint fill = (n * 2654435761u) % 300;
	for (guint i = 0; i < fill; i++)
		buf[len++] = (char)('a' + (n + i) % 26);
	buf[len++] = ':';
	len += g_snprintf(buf + len, size - len, "%08x", fifo_fnv1a((guint8 *)buf, len));
	return (gsize)len;
}

static gpointer
fifo_sender(gpointer data)
{
	Worker *w = data;
	Fifo *f = w->fifo;
	GError *error = NULL;
	CircuitClient *client = circuit_client_dial_default_key(f->url, NULL, &error);
	if (!client) {
		g_printerr("sender %u: %s\n", w->index, error->message);
		g_atomic_int_inc(&f->failures);
		g_error_free(error);
		return NULL;
	}
	char buf[512];
	CircuitCall **calls = g_new0(CircuitCall *, f->in_flight);
	guint *numbers = g_new0(guint, f->in_flight);
	guint open = 0;
	for (guint n = w->index; n < f->total || open > 0; n += f->senders) {
		if (n < f->total) {
			gsize len = fifo_build(n, buf, sizeof buf);
			if (f->in_flight == 1) {
				if (circuit_chan_send(client, f->path, buf, len, -1, &error))
					continue;
			} else if ((calls[open] = f->streamed
			                                  ? circuit_call_open(client, "send",
			                                                      f->path, NULL, &error)
			                                  : circuit_call_open_input(
			                                            client, "send", f->path, NULL,
			                                            buf, len, &error))) {
				numbers[open] = n;
				if (++open < f->in_flight)
					continue;
			}
		}
		for (guint k = 0; f->streamed && k < open && !error; k++) {
			gsize len = fifo_build(numbers[k], buf, sizeof buf);
			if (circuit_call_wants_body(calls[k], &error) &&
			    circuit_call_write(calls[k], buf, len, &error))
				circuit_call_close_write(calls[k], &error);
		}
		/* The batch is full (or the last): collect its replies in order. */
		for (guint k = 0; k < open && !error; k++) {
			guint8 byte;
			/* The reply, then the end of the call (it has no output). */
			if (circuit_call_reply(calls[k], NULL, NULL, -1, &error) &&
			    circuit_call_read(calls[k], &byte, 1, -1, &error) != 0 && !error)
				g_set_error_literal(&error, g_quark_from_static_string("fifo"), 0,
				                    "a send call had output");
		}
		for (guint k = 0; k < open; k++)
			circuit_call_free(calls[k]);
		open = 0;
		if (error) {
			g_printerr("sender %u, near message %u: %s\n", w->index, n, error->message);
			g_atomic_int_inc(&f->failures);
			g_clear_error(&error);
			break;
		}
	}
	g_free(calls);
	g_free(numbers);
	circuit_client_free(client);
	return NULL;
}

/* Checks one received message and marks it seen. */
static void
fifo_check(Fifo *f, GBytes *bytes)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);
	char buf[512], *end = NULL;
	guint64 n = len > 0 ? g_ascii_strtoull(data, &end, 10) : 0;
	gboolean ok = len > 0 && end && *end == ':' && n < f->total;
	if (ok) {
		gsize want = fifo_build((guint)n, buf, sizeof buf);
		ok = want == len && memcmp(buf, data, len) == 0;
	}
	if (!ok) {
		g_printerr("corrupt message of %" G_GSIZE_FORMAT " bytes\n", len);
		g_atomic_int_inc(&f->corrupt);
		return;
	}
	g_atomic_int_inc(&f->seen[n]);
	g_atomic_int_inc(&f->received);
	if (f->receivers == 1) {
		/* Sender n % senders sent its messages in increasing n. */
		guint s = (guint)(n % f->senders);
		if ((gint64)n <= f->last[s]) {
			g_printerr("message %" G_GUINT64_FORMAT " came after %" G_GINT64_FORMAT
			           " of the same sender\n",
			           n, f->last[s]);
			f->disorder++;
		}
		f->last[s] = (gint64)n;
	}
}

static gpointer
fifo_receiver(gpointer data)
{
	Worker *w = data;
	Fifo *f = w->fifo;
	GError *error = NULL;
	CircuitClient *client = circuit_client_dial_default_key(f->url, NULL, &error);
	if (!client) {
		g_printerr("receiver %u: %s\n", w->index, error->message);
		g_atomic_int_inc(&f->failures);
		g_error_free(error);
		return NULL;
	}
	for (;;) {
		GBytes *bytes = circuit_chan_recv(client, f->path, -1, &error);
		if (!bytes) {
			gboolean end =
			        error->domain == g_quark_from_static_string("circuit-error") &&
			        error->code == FIFO_ERROR_CLOSED;
			if (!end) {
				g_printerr("receiver %u: %s\n", w->index, error->message);
				g_atomic_int_inc(&f->failures);
			}
			g_clear_error(&error);
			break;
		}
		fifo_check(f, bytes);
		g_bytes_unref(bytes);
	}
	circuit_client_free(client);
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 6 && argc != 7) {
		g_printerr("usage: chan_fifo URL PATH SENDERS RECEIVERS TOTAL [IN_FLIGHT[s]]\n");
		return 2;
	}
	Fifo f = {.url = argv[1], .path = argv[2]};
	f.senders = (guint)atoi(argv[3]);
	guint receivers = (guint)atoi(argv[4]);
	f.receivers = receivers;
	f.total = (guint)atoi(argv[5]);
	f.in_flight = argc == 7 ? (guint)atoi(argv[6]) : 1;
	f.streamed = argc == 7 && g_str_has_suffix(argv[6], "s");
	if (f.senders == 0 || receivers == 0 || f.total == 0 || f.in_flight == 0) {
		g_printerr("chan_fifo: SENDERS, RECEIVERS, TOTAL and IN_FLIGHT must be > 0\n");
		return 2;
	}
	f.seen = g_new0(gint, f.total);
	f.last = g_new(gint64, f.senders);
	for (guint s = 0; s < f.senders; s++)
		f.last[s] = -1;
	guint nthreads = f.senders + receivers;
	Worker *workers = g_new0(Worker, nthreads);
	GThread **threads = g_new0(GThread *, nthreads);
	gint64 start = g_get_monotonic_time();
	for (guint i = 0; i < nthreads; i++) {
		workers[i].fifo = &f;
		workers[i].index = i < f.senders ? i : i - f.senders;
		threads[i] = g_thread_new(i < f.senders ? "sender" : "receiver",
		                          i < f.senders ? fifo_sender : fifo_receiver, &workers[i]);
	}
	for (guint i = 0; i < f.senders; i++)
		g_thread_join(threads[i]);

	/* Every send returned: close, so the receivers stop at the end. */
	GError *error = NULL;
	CircuitClient *client = circuit_client_dial_default_key(f.url, NULL, &error);
	if (!client || !circuit_chan_close(client, f.path, &error)) {
		g_printerr("close: %s\n", error->message);
		g_clear_error(&error);
		f.failures++;
	}
	circuit_client_free(client);
	for (guint i = f.senders; i < nthreads; i++)
		g_thread_join(threads[i]);
	double secs = (double)(g_get_monotonic_time() - start) / 1e6;

	guint missing = 0, doubled = 0;
	for (guint n = 0; n < f.total; n++) {
		if (f.seen[n] == 0)
			missing++;
		else if (f.seen[n] > 1)
			doubled++;
	}
	printf("%u senders, %u receivers: %d of %u messages received in %.1f s; "
	       "%u missing, %u received twice or more, %d corrupt, %d out of order, %d failures\n",
	       f.senders, receivers, f.received, f.total, secs, missing, doubled, f.corrupt,
	       f.disorder, f.failures);
	g_free(f.seen);
	g_free(f.last);
	g_free(workers);
	g_free(threads);
	return missing == 0 && doubled == 0 && f.corrupt == 0 && f.disorder == 0 && f.failures == 0
	               ? 0
	               : 1;
}
