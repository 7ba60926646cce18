// SPDX-License-Identifier: Apache-2.0
//
// deliver.c - acknowledged delivery (plugin SDK ABI 1.2): one receiving
// operation's stream, from waiting for a message to the client's
// acknowledgement of it. Used by chan's recv and the subscription's recv.
//
//   WAITING   circuit_stream_deliver() took the stream; no message yet.
//   WRITING   circuit_delivery_start(): replied, the message is being written
//             as the client's window allows (`writable` resumes).
//   ACKWAIT   all of it written and the output finished: waiting for the
//             client's EOF, which follows ours only once it has everything
//             (docs/protocol.md): that EOF is the acknowledgement.
//   DONE      done() ran, or circuit_delivery_abort() ended it.
//
// Written against the public circuit_stream_* calls only, so that the
// plugins' unit tests run this very file against their fake host.
#include <circuit/plugin.h>

/* Output is written in pieces no larger than a DATA frame's convention. */
#define DELIVERY_WRITE_CHUNK ((gsize)64 * 1024)

typedef enum {
	DELIVERY_WAITING,
	DELIVERY_WRITING,
	DELIVERY_ACKWAIT,
	DELIVERY_DONE,
} DeliveryState;

/* Owned by the stream (its user data); reference counted so that a stream
 * callback run from inside a stream call cannot free it under our feet. */
struct CircuitDelivery {
	gint ref;
	CircuitStream *stream; /* NULL once `closed` ran */
	DeliveryState state;
	GBytes *message; /* while WRITING or ACKWAIT */
	gsize offset;    /* bytes of message already written */
	gboolean early;  /* the client sent EOF before it had everything */
	CircuitDeliveredFunc done;
	gpointer user_data;
	GDestroyNotify notify;
};

static CircuitDelivery *
delivery_ref(CircuitDelivery *d)
{
	d->ref++;
	return d;
}

static void
delivery_unref(gpointer data)
{
	CircuitDelivery *d = data;
	if (!d || --d->ref > 0)
		return;
	if (d->message)
		g_bytes_unref(d->message);
	GDestroyNotify notify = d->notify;
	gpointer user_data = d->user_data;
	g_free(d);
	/* May free what the plugin holds (the element, its context). */
	if (notify)
		notify(user_data);
}

/* Ends the delivery: done() runs once. */
static void
delivery_end(CircuitDelivery *d, gboolean acked, const GError *error)
{
	d->state = DELIVERY_DONE;
	g_clear_pointer(&d->message, g_bytes_unref);
	if (d->done)
		d->done(d, acked, error, d->user_data);
}

/* Writes as much of the message as the client's window allows; finishes
 * the stream once all of it is queued. */
static void
delivery_pump(CircuitDelivery *d)
{
	delivery_ref(d);
	while (d->state == DELIVERY_WRITING && d->stream) {
		gsize len = g_bytes_get_size(d->message);
		if (d->offset >= len) {
			d->state = DELIVERY_ACKWAIT;
			circuit_stream_finish(d->stream);
			break;
		}
		gsize space = circuit_stream_write_space(d->stream);
		if (space == 0)
			break; /* `writable` resumes */
		gsize n = MIN(MIN(space, len - d->offset), DELIVERY_WRITE_CHUNK);
		/* The message is kept unchanged until done(): no copy. */
		g_autoptr(GBytes) piece =
		        n == len ? g_bytes_ref(d->message)
		                 : g_bytes_new_from_bytes(d->message, d->offset, n);
		d->offset += n;
		circuit_stream_write_bytes(d->stream, piece);
	}
	delivery_unref(d);
}

static void
delivery_input_end(CircuitStream *stream, gpointer user_data)
{
	CircuitDelivery *d = user_data;
	/* The client sends its EOF only once it has the whole output: this is
	 * the acknowledgement. An EOF before that is not one (`closed` will
	 * report the message as not acknowledged). */
	if (d->state != DELIVERY_ACKWAIT) {
		d->early = d->state == DELIVERY_WRITING;
		return;
	}
	delivery_end(d, TRUE, NULL);
}

static void
delivery_writable(CircuitStream *stream, gpointer user_data)
{
	CircuitDelivery *d = user_data;
	if (d->state == DELIVERY_WRITING)
		delivery_pump(d);
}

static void
delivery_closed(CircuitStream *stream, const GError *error, gpointer user_data)
{
	CircuitDelivery *d = user_data;
	d->stream = NULL;
	if (d->state == DELIVERY_DONE)
		return;
	/* In ACKWAIT, both sides finished cleanly without an EOF callback in
	 * between: the client's EOF still followed ours. Otherwise nothing was
	 * handed over (WAITING), or not all of it was acknowledged. */
	gboolean acked = d->state == DELIVERY_ACKWAIT && !error && !d->early;
	delivery_end(d, acked, error);
}

static const CircuitStreamFuncs delivery_funcs = {
        .input_end = delivery_input_end,
        .writable = delivery_writable,
        .closed = delivery_closed,
};

CircuitDelivery *
circuit_stream_deliver(CircuitStream *stream, CircuitDeliveredFunc done, gpointer user_data,
                       GDestroyNotify notify)
{
	g_return_val_if_fail(stream != NULL && done != NULL, NULL);
	CircuitDelivery *d = g_new0(CircuitDelivery, 1);
	d->ref = 1; /* the stream's */
	d->stream = stream;
	d->state = DELIVERY_WAITING;
	d->done = done;
	d->user_data = user_data;
	d->notify = notify;
	circuit_stream_set_funcs(stream, &delivery_funcs, d, delivery_unref);
	return d;
}

void
circuit_delivery_start(CircuitDelivery *delivery, JsonNode *result, GBytes *message)
{
	g_return_if_fail(delivery != NULL && message != NULL);
	if (delivery->state != DELIVERY_WAITING || !delivery->stream) {
		g_warning("circuit_delivery_start: the delivery is not waiting");
		if (result)
			json_node_unref(result);
		return;
	}
	delivery->message = g_bytes_ref(message);
	delivery->offset = 0;
	delivery->state = DELIVERY_WRITING;
	delivery_ref(delivery);
	circuit_stream_reply(delivery->stream, result, FALSE);
	delivery_pump(delivery);
	delivery_unref(delivery);
}

gboolean
circuit_delivery_abort(CircuitDelivery *delivery, CircuitErrorCode code, const char *message)
{
	g_return_val_if_fail(delivery != NULL && message != NULL, FALSE);
	if (delivery->state != DELIVERY_WAITING && delivery->state != DELIVERY_WRITING)
		return FALSE;
	delivery->state = DELIVERY_DONE;
	g_clear_pointer(&delivery->message, g_bytes_unref);
	if (delivery->stream) {
		GError *error = g_error_new_literal(CIRCUIT_ERROR, code, message);
		delivery_ref(delivery);
		circuit_stream_fail(delivery->stream, error);
		delivery_unref(delivery);
		g_error_free(error);
	}
	return TRUE;
}
