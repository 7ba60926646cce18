// SPDX-License-Identifier: Apache-2.0
//
// chan.c - the chan element kind: a Go-like channel held in the memory of
// one circuit server.
//
// Vocabulary used throughout this file:
//
//   accepted   a message whose send has returned success. Accepted
//              messages occupy capacity (Cap) until a receiver has
//              acknowledged them; there are never more than Cap of them.
//   blocked    a complete message whose sender still waits, because the
//              buffer is full (or Cap is 0) and no receiver took it yet.
//   in flight  a message being written to a receiver, or written and
//              waiting for the receiver's acknowledgement (its EOF).
//   filling    a send whose body has not fully arrived; it is no message
//              yet and leaves nothing behind if its client goes away.
//
// Every complete message gets a sequence number when its body ends; every
// queue below is kept sorted by it, and a receiver always gets the lowest
// number available, so a message put back by a receiver that died keeps its
// place at the head: FIFO per channel, nothing lost, nothing doubled.
//
// The stream side of recv (waiting, writing with back-pressure, telling an
// acknowledgement from a receiver gone away) is the SDK's acknowledged
// delivery (circuit_delivery_*, ABI 1.2), shared with the subscription
// plugin.
//
// Everything runs on the core's loop thread; nothing here blocks or polls.
// Waiting senders and receivers are just streams parked in queues, woken by
// chan_dispatch() whenever something changes.

#include <circuit/plugin.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Default limit of one message (the 1 MiB). */
#define CHAN_DEFAULT_MAX_SIZE ((guint64)1 << 20)
/* Largest -max accepted: every accepted message lives in server memory. */
#define CHAN_LARGEST_MAX_SIZE ((guint64)64 << 20)
/* Largest capacity accepted (nothing is allocated up front). */
#define CHAN_LARGEST_CAP ((guint64)G_MAXINT32)
/* Body credit is returned in batches of this many bytes rather than per
 * DATA frame: a message shorter than this costs no CREDIT frame at all
 * (one frame and one client wake-up less per send). The client can always
 * send this much: the core's initial body credit is larger (256 KiB) and a
 * DATA frame is at most 64 KiB by convention. */
#define CHAN_CREDIT_BATCH ((gsize)64 * 1024)

typedef struct ChanCtx ChanCtx;
typedef struct ChanSend ChanSend;
typedef struct ChanRecv ChanRecv;

/* ChanMsg: one complete message. */
typedef struct {
	GBytes *data;
	guint64 seq;
	/* TRUE once its send returned success (it then counts in n_accepted). */
	gboolean accepted;
	/* (nullable) the send still waiting on this message; NULL once accepted
	 * or when that sender went away while the message was in flight. */
	ChanSend *sender;
} ChanMsg;

typedef enum {
	CHAN_SEND_FILLING,  /* body arriving; in ctx->filling */
	CHAN_SEND_BLOCKED,  /* complete; its message is in ctx->blocked */
	CHAN_SEND_INFLIGHT, /* complete; its message is being received */
	CHAN_SEND_DONE,     /* answered (success or failure) */
} ChanSendState;

/* ChanSend: one "send" operation. Reference counted so that a stream
 * callback run from inside a stream call cannot free it under our feet. */
struct ChanSend {
	gint ref;
	ChanCtx *ctx;
	CircuitStream *stream; /* NULL once `closed` ran */
	ChanSendState state;
	GByteArray *body; /* while FILLING */
	gsize unreturned; /* body bytes whose credit was not returned yet */
	ChanMsg *msg;     /* while BLOCKED or INFLIGHT */
	GList link;       /* in ctx->filling while FILLING */
};

/* ChanRecv: one "recv" operation, freed by its delivery once the stream
 * is gone. In ctx->waiting until it gets a message, then in ctx->inflight
 * until its delivery ends. */
struct ChanRecv {
	ChanCtx *ctx;
	CircuitDelivery *delivery;
	ChanMsg *msg; /* once handed a message, until its delivery ends */
	GList link;   /* in ctx->waiting or ctx->inflight */
};

/* ChanCtx: the element context. */
struct ChanCtx {
	CircuitElement *element; /* not referenced: the context dies with it */
	CircuitHost *host;
	guint64 cap;
	guint64 max_size;
	gboolean closed;
	gboolean aborted;
	guint64 num_send; /* sends that returned success */
	guint64 num_recv; /* messages acknowledged by a receiver */
	guint64 next_seq;
	guint64 n_accepted; /* accepted, not yet acknowledged: <= cap */

	GQueue buffered; /* ChanMsg*, accepted, sorted by seq */
	GQueue blocked;  /* ChanMsg*, not accepted, with a sender, sorted */
	GQueue filling;  /* ChanSend* (embedded links) */
	GQueue waiting;  /* ChanRecv* waiting for a message (embedded links) */
	GQueue inflight; /* ChanRecv* writing or waiting for an ack */

	gboolean dispatching;
	gboolean dispatch_again;
};

static void chan_dispatch(ChanCtx *ctx);

/* ------------------------------------------------------------------------ */
/* Messages and queues                                                       */

static ChanMsg *
chan_msg_new(GBytes *data, guint64 seq)
{
	ChanMsg *msg = g_new0(ChanMsg, 1);
	msg->data = data;
	msg->seq = seq;
	return msg;
}

/*
 * Bytes of messages (and of bodies still arriving) held by every channel
 * of this server, and the most they may hold (plugin option
 * chan.max-held, default CHAN_DEFAULT_MAX_HELD): a client cannot make the
 * server hold more than that, however many channels and capacity it asks
 * for. One host per process, so one count per plugin.
 */
#define CHAN_DEFAULT_MAX_HELD ((guint64)1 << 30)
static guint64 chan_held, chan_max_held = CHAN_DEFAULT_MAX_HELD;

static void
chan_msg_free(ChanMsg *msg)
{
	if (!msg)
		return;
	chan_held -= MIN(chan_held, g_bytes_get_size(msg->data));
	g_bytes_unref(msg->data);
	g_free(msg);
}

/* Drops a body that never became a message. */
static void
chan_body_drop(ChanSend *send)
{
	if (!send->body)
		return;
	chan_held -= MIN(chan_held, send->body->len);
	g_byte_array_unref(send->body);
	send->body = NULL;
}

/* Inserts @msg into @queue by sequence number. New messages belong at the
 * tail, so the walk starts there; a put-back walks further, but is rare. */
static void
chan_queue_insert_sorted(GQueue *queue, ChanMsg *msg)
{
	GList *l = queue->tail;
	while (l && ((ChanMsg *)l->data)->seq > msg->seq)
		l = l->prev;
	if (l)
		g_queue_insert_after(queue, l, msg);
	else
		g_queue_push_head(queue, msg);
}

/* The message a receiver should get next: the lowest sequence number among
 * the heads of the buffered and blocked queues. (transfer full) */
static ChanMsg *
chan_pop_next(ChanCtx *ctx)
{
	ChanMsg *b = g_queue_peek_head(&ctx->buffered);
	ChanMsg *s = g_queue_peek_head(&ctx->blocked);
	if (b && (!s || b->seq < s->seq))
		return g_queue_pop_head(&ctx->buffered);
	return g_queue_pop_head(&ctx->blocked);
}

/* ------------------------------------------------------------------------ */
/* Operation records                                                         */

static ChanSend *
chan_send_ref(ChanSend *send)
{
	send->ref++;
	return send;
}

static void
chan_send_unref(gpointer data)
{
	ChanSend *send = data;
	if (!send || --send->ref > 0)
		return;
	chan_body_drop(send);
	CircuitElement *element = send->ctx->element;
	g_free(send);
	/* May run destroy(), which frees the context: nothing may follow. */
	circuit_element_unref(element);
}

static void
chan_recv_free(gpointer data)
{
	ChanRecv *recv = data;
	chan_msg_free(recv->msg);
	CircuitElement *element = recv->ctx->element;
	g_free(recv);
	circuit_element_unref(element);
}

/* Answers a send with success. The sender must already be detached from
 * every queue. */
static void
chan_send_succeed(ChanSend *send)
{
	send->state = CHAN_SEND_DONE;
	send->msg = NULL;
	send->ctx->num_send++;
	if (!send->stream)
		return;
	chan_send_ref(send);
	circuit_stream_reply(send->stream, NULL, FALSE);
	if (send->stream)
		circuit_stream_finish(send->stream);
	chan_send_unref(send);
}

/* Answers a send with an error. The sender must already be detached. */
static void
chan_send_fail(ChanSend *send, CircuitErrorCode code, const char *message)
{
	send->state = CHAN_SEND_DONE;
	send->msg = NULL;
	if (!send->stream)
		return;
	GError *error = g_error_new_literal(CIRCUIT_ERROR, code, message);
	chan_send_ref(send);
	circuit_stream_fail(send->stream, error);
	chan_send_unref(send);
	g_error_free(error);
}

/* ------------------------------------------------------------------------ */
/* Moving messages                                                           */

/* Hands @msg (transfer full) to a waiting receiver @recv (detached). Its
 * delivery may end before this returns. */
static void
chan_recv_start(ChanCtx *ctx, ChanRecv *recv, ChanMsg *msg)
{
	recv->msg = msg;
	if (msg->sender)
		msg->sender->state = CHAN_SEND_INFLIGHT;
	g_queue_push_tail_link(&ctx->inflight, &recv->link);
	circuit_delivery_start(recv->delivery, NULL, msg->data);
}

/* A message that a receiver did not acknowledge goes back to its place.
 * (transfer full) @msg. */
static void
chan_put_back(ChanCtx *ctx, ChanMsg *msg)
{
	if (ctx->aborted) {
		/* A receiver that had everything but died before its
		 * acknowledgement, after the scrub: there is no channel left. */
		if (msg->accepted) {
			ctx->n_accepted--;
			circuit_oplog_event(ctx->element, "drop", 1);
		} else if (msg->sender) {
			ChanSend *sender = msg->sender;
			msg->sender = NULL;
			chan_send_fail(sender, CIRCUIT_ERROR_ABORTED, "channel aborted");
		}
		chan_msg_free(msg);
		return;
	}
	if (msg->accepted) {
		chan_queue_insert_sorted(&ctx->buffered, msg);
		return;
	}
	ChanSend *sender = msg->sender;
	if (!sender) {
		/* Neither side is left: its sender went away while it was in
		 * flight and never heard it was accepted, so nothing was
		 * promised about it. */
		circuit_log(ctx->host, ctx->element, G_LOG_LEVEL_INFO,
		            "message of %" G_GSIZE_FORMAT " bytes discarded: its sender and its "
		            "receiver both went away",
		            g_bytes_get_size(msg->data));
		chan_msg_free(msg);
		return;
	}
	if (ctx->closed) {
		msg->sender = NULL;
		chan_msg_free(msg);
		chan_send_fail(sender, CIRCUIT_ERROR_CLOSED, "channel closed");
		return;
	}
	sender->state = CHAN_SEND_BLOCKED;
	chan_queue_insert_sorted(&ctx->blocked, msg);
}

/* Accepts the oldest unaccepted messages while there is capacity: they
 * are either in flight (a receiver is reading them) or blocked. */
static void
chan_promote(ChanCtx *ctx)
{
	while (ctx->n_accepted < ctx->cap) {
		ChanMsg *best = NULL;
		for (GList *l = ctx->inflight.head; l; l = l->next) {
			ChanMsg *m = ((ChanRecv *)l->data)->msg;
			if (!m->accepted && m->sender && (!best || m->seq < best->seq))
				best = m;
		}
		ChanMsg *head = g_queue_peek_head(&ctx->blocked);
		gboolean from_blocked = head && (!best || head->seq < best->seq);
		if (from_blocked) {
			best = g_queue_pop_head(&ctx->blocked);
			chan_queue_insert_sorted(&ctx->buffered, best);
		}
		if (!best)
			return;
		ChanSend *sender = best->sender;
		best->sender = NULL;
		best->accepted = TRUE;
		ctx->n_accepted++;
		chan_send_succeed(sender);
	}
}

/* A receiver acknowledged @msg (transfer full): it leaves the channel. */
static void
chan_recv_acked(ChanCtx *ctx, ChanMsg *msg)
{
	ctx->num_recv++;
	if (msg->accepted) {
		ctx->n_accepted--;
	} else if (msg->sender) {
		ChanSend *sender = msg->sender;
		msg->sender = NULL;
		chan_send_succeed(sender);
	}
	chan_msg_free(msg);
}

/* Fails every waiting receiver with end-of-channel once the channel is
 * closed and holds nothing that could still be delivered. Messages in
 * flight could come back, so their presence keeps receivers waiting. */
static void
chan_end_waiting(ChanCtx *ctx)
{
	if (!ctx->closed || ctx->buffered.length || ctx->blocked.length || ctx->inflight.length)
		return;
	GList *l;
	while ((l = g_queue_pop_head_link(&ctx->waiting)))
		circuit_delivery_abort(((ChanRecv *)l->data)->delivery, CIRCUIT_ERROR_CLOSED,
		                       "channel closed");
}

/* Brings the channel back to a resting state after any change: accept what
 * fits, hand messages to waiting receivers, end receivers of a drained
 * closed channel. Re-entrant calls (a stream callback run from inside a
 * stream call) only ask the running loop to go round once more. */
static void
chan_dispatch(ChanCtx *ctx)
{
	if (ctx->aborted)
		return;
	if (ctx->dispatching) {
		ctx->dispatch_again = TRUE;
		return;
	}
	ctx->dispatching = TRUE;
	do {
		ctx->dispatch_again = FALSE;
		/* Receivers first: a message handed over unaccepted is accepted
		 * by chan_promote() all the same (in flight, in order), and the
		 * receiver, who waits for it, is then written to first. */
		while (ctx->waiting.length && (ctx->buffered.length || ctx->blocked.length)) {
			ChanMsg *msg = chan_pop_next(ctx);
			GList *l = g_queue_pop_head_link(&ctx->waiting);
			chan_recv_start(ctx, l->data, msg);
		}
		chan_promote(ctx);
		chan_end_waiting(ctx);
	} while (ctx->dispatch_again && !ctx->aborted);
	ctx->dispatching = FALSE;
}

/* ------------------------------------------------------------------------ */
/* send                                                                      */

static void
chan_send_input(CircuitStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
	ChanSend *send = user_data;
	if (send->state != CHAN_SEND_FILLING)
		return; /* already answered; the bytes are dropped with the stream */
	ChanCtx *ctx = send->ctx;
	if ((guint64)send->body->len + len > ctx->max_size) {
		g_queue_unlink(&ctx->filling, &send->link);
		chan_body_drop(send);
		char *message = g_strdup_printf(
		        "message is larger than this channel's limit of %" G_GUINT64_FORMAT
		        " bytes",
		        ctx->max_size);
		chan_send_fail(send, CIRCUIT_ERROR_TOO_BIG, message);
		g_free(message);
		return;
	}
	if (chan_held + len > chan_max_held) {
		g_queue_unlink(&ctx->filling, &send->link);
		chan_body_drop(send);
		char *message = g_strdup_printf(
		        "this server's channels hold %" G_GUINT64_FORMAT
		        " bytes, their limit (plugin option chan.max-held): receive some first",
		        chan_held);
		chan_send_fail(send, CIRCUIT_ERROR_TOO_BIG, message);
		g_free(message);
		return;
	}
	chan_held += len;
	g_byte_array_append(send->body, data, (guint)len);
	send->unreturned += len;
	if (send->unreturned >= CHAN_CREDIT_BATCH) {
		circuit_stream_consumed(stream, send->unreturned);
		send->unreturned = 0;
	}
}

static void
chan_send_input_end(CircuitStream *stream, gpointer user_data)
{
	ChanSend *send = user_data;
	if (send->state != CHAN_SEND_FILLING)
		return;
	ChanCtx *ctx = send->ctx;
	g_queue_unlink(&ctx->filling, &send->link);
	ChanMsg *msg = chan_msg_new(g_byte_array_free_to_bytes(send->body), ++ctx->next_seq);
	send->body = NULL;
	/* Every message starts blocked; chan_dispatch() accepts it at once if
	 * there is room, or hands it to a waiting receiver. */
	msg->sender = send;
	send->msg = msg;
	send->state = CHAN_SEND_BLOCKED;
	g_queue_push_tail(&ctx->blocked, msg);
	chan_dispatch(ctx);
}

static void
chan_send_closed(CircuitStream *stream, const GError *error, gpointer user_data)
{
	ChanSend *send = user_data;
	ChanCtx *ctx = send->ctx;
	send->stream = NULL;
	switch (send->state) {
	case CHAN_SEND_FILLING:
		/* The body never ended: there is no message to leave behind. */
		g_queue_unlink(&ctx->filling, &send->link);
		break;
	case CHAN_SEND_BLOCKED:
		g_queue_remove(&ctx->blocked, send->msg);
		chan_msg_free(send->msg);
		break;
	case CHAN_SEND_INFLIGHT:
		/* A receiver already has (part of) it: let that delivery end as
		 * it will. If it fails, the message is discarded. */
		send->msg->sender = NULL;
		break;
	case CHAN_SEND_DONE:
		return;
	}
	send->msg = NULL;
	send->state = CHAN_SEND_DONE;
	circuit_log(ctx->host, ctx->element, G_LOG_LEVEL_DEBUG,
	            "a sender went away (%s) before its message was accepted",
	            error ? error->message : "clean close");
	chan_dispatch(ctx);
}

static const CircuitStreamFuncs chan_send_funcs = {
        .input = chan_send_input,
        .input_end = chan_send_input_end,
        .closed = chan_send_closed,
};

static void
chan_op_send(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
             const char *const *args)
{
	ChanCtx *ctx = element_ctx;
	if (ctx->aborted || ctx->closed) {
		GError *error = ctx->aborted
		                        ? g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_ABORTED,
		                                              "channel aborted")
		                        : g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED,
		                                              "channel closed");
		circuit_stream_fail(stream, error);
		g_error_free(error);
		return;
	}
	ChanSend *send = g_new0(ChanSend, 1);
	send->ref = 1;
	send->ctx = ctx;
	send->stream = stream;
	send->state = CHAN_SEND_FILLING;
	send->body = g_byte_array_new();
	send->link.data = send;
	circuit_element_ref(element);
	g_queue_push_tail_link(&ctx->filling, &send->link);
	circuit_stream_set_funcs(stream, &chan_send_funcs, send, chan_send_unref);
}

/* ------------------------------------------------------------------------ */
/* recv                                                                      */

/* The delivery of @recv ended: a message acknowledged leaves the channel;
 * one that was not goes back to its place. */
static void
chan_recv_delivered(CircuitDelivery *delivery, gboolean acked, const GError *error,
                    gpointer user_data)
{
	ChanRecv *recv = user_data;
	ChanCtx *ctx = recv->ctx;
	ChanMsg *msg = recv->msg;
	recv->msg = NULL;
	if (!msg) {
		/* Nothing was handed to it: it leaves nothing behind. */
		g_queue_unlink(&ctx->waiting, &recv->link);
	} else if (acked) {
		g_queue_unlink(&ctx->inflight, &recv->link);
		chan_recv_acked(ctx, msg);
	} else {
		g_queue_unlink(&ctx->inflight, &recv->link);
		circuit_log(ctx->host, ctx->element, G_LOG_LEVEL_INFO,
		            "receiver went away (%s) before acknowledging; its message of "
		            "%" G_GSIZE_FORMAT " bytes goes back to the head",
		            error ? error->message : "no acknowledgement",
		            g_bytes_get_size(msg->data));
		chan_put_back(ctx, msg);
	}
	chan_dispatch(ctx);
}

static void
chan_op_recv(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
             const char *const *args)
{
	ChanCtx *ctx = element_ctx;
	if (ctx->aborted) {
		GError *error = g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_ABORTED,
		                                    "channel aborted");
		circuit_stream_fail(stream, error);
		g_error_free(error);
		return;
	}
	ChanRecv *recv = g_new0(ChanRecv, 1);
	recv->ctx = ctx;
	recv->link.data = recv;
	circuit_element_ref(element);
	recv->delivery = circuit_stream_deliver(stream, chan_recv_delivered, recv, chan_recv_free);
	g_queue_push_tail_link(&ctx->waiting, &recv->link);
	chan_dispatch(ctx);
}

/* ------------------------------------------------------------------------ */
/* close                                                                     */

static void
chan_op_close(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
              const char *const *args)
{
	ChanCtx *ctx = element_ctx;
	if (ctx->aborted || ctx->closed) {
		GError *error = ctx->aborted
		                        ? g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_ABORTED,
		                                              "channel aborted")
		                        : g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED,
		                                              "channel already closed");
		circuit_stream_fail(stream, error);
		g_error_free(error);
		return;
	}
	ctx->closed = TRUE;
	/* Sends not yet accepted fail, as sending on a closed Go channel
	 * does; accepted messages stay to be drained. */
	guint refused = 0;
	GList *l;
	while ((l = g_queue_pop_head_link(&ctx->filling))) {
		ChanSend *send = l->data;
		chan_body_drop(send);
		chan_send_fail(send, CIRCUIT_ERROR_CLOSED, "channel closed");
		refused++;
	}
	ChanMsg *msg;
	while ((msg = g_queue_pop_head(&ctx->blocked))) {
		ChanSend *send = msg->sender;
		msg->sender = NULL;
		chan_msg_free(msg);
		chan_send_fail(send, CIRCUIT_ERROR_CLOSED, "channel closed");
		refused++;
	}
	circuit_log(ctx->host, ctx->element, G_LOG_LEVEL_INFO,
	            "closed by %s: %u message(s) to drain, %u waiting send(s) refused",
	            circuit_stream_peer(stream), ctx->buffered.length, refused);
	circuit_stream_done(stream, NULL, FALSE);
	chan_dispatch(ctx);
}

/* ------------------------------------------------------------------------ */
/* Element lifecycle                                                         */

/* Parses CAP: decimal digits only, so "-1", "1.5", "x" and "" are refused. */
static gboolean
chan_parse_cap(const char *text, guint64 *cap, GError **error)
{
	gboolean digits = text[0] != '\0';
	for (const char *p = text; *p; p++)
		digits = digits && g_ascii_isdigit(*p);
	if (!digits) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "capacity \"%s\" is not an integer >= 0", text);
		return FALSE;
	}
	errno = 0;
	guint64 value = g_ascii_strtoull(text, NULL, 10);
	if (errno == ERANGE || value > CHAN_LARGEST_CAP) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "capacity %s is too large (at most %" G_GUINT64_FORMAT ")", text,
		            CHAN_LARGEST_CAP);
		return FALSE;
	}
	*cap = value;
	return TRUE;
}

/* Parses the -max SIZE value: bytes, or with a K, M or G suffix (KiB, MiB,
 * GiB). */
static gboolean
chan_parse_size(const char *text, guint64 *size, GError **error)
{
	const char *p = text;
	while (g_ascii_isdigit(*p))
		p++;
	guint64 unit = 0;
	if (g_ascii_strcasecmp(p, "") == 0)
		unit = 1;
	else if (g_ascii_strcasecmp(p, "k") == 0 || g_ascii_strcasecmp(p, "kib") == 0)
		unit = 1024;
	else if (g_ascii_strcasecmp(p, "m") == 0 || g_ascii_strcasecmp(p, "mib") == 0)
		unit = 1024 * 1024;
	else if (g_ascii_strcasecmp(p, "g") == 0 || g_ascii_strcasecmp(p, "gib") == 0)
		unit = 1024 * 1024 * 1024; /* only to say that it is too much */
	if (p == text || unit == 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "message size \"%s\" is not a byte count such as 4096, 64K or 1M",
		            text);
		return FALSE;
	}
	errno = 0;
	guint64 value = g_ascii_strtoull(text, NULL, 10);
	if (errno == ERANGE || value > CHAN_LARGEST_MAX_SIZE / unit) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "message size %s is over the largest allowed, %" G_GUINT64_FORMAT
		            " bytes (64M)",
		            text, CHAN_LARGEST_MAX_SIZE);
		return FALSE;
	}
	*size = value * unit;
	return TRUE;
}

/* Parses `[-max SIZE] CAP` (the flag may also follow CAP, and may be spelt
 * --max, -max=SIZE or --max=SIZE). */
static gboolean
chan_parse_args(const char *const *args, guint64 *cap, guint64 *max_size, GError **error)
{
	gboolean have_cap = FALSE, have_max = FALSE;
	*max_size = CHAN_DEFAULT_MAX_SIZE;
	for (guint i = 0; args[i]; i++) {
		const char *a = args[i];
		const char *flag = a[0] == '-' ? a + (a[1] == '-' ? 2 : 1) : NULL;
		if (flag && (strcmp(flag, "max") == 0 || g_str_has_prefix(flag, "max="))) {
			const char *value = flag[3] == '=' ? flag + 4 : args[i + 1];
			if (flag[3] != '=')
				i++;
			if (!value) {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "%s needs a message size in bytes, e.g. %s 4096", a, a);
				return FALSE;
			}
			if (have_max) {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "-max given twice");
				return FALSE;
			}
			if (!chan_parse_size(value, max_size, error))
				return FALSE;
			have_max = TRUE;
			continue;
		}
		if (flag && flag[0] != '\0' && !g_ascii_isdigit(flag[0])) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "unknown flag \"%s\" (the only flag is -max SIZE)", a);
			return FALSE;
		}
		if (have_cap) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "unexpected argument \"%s\" after the capacity", a);
			return FALSE;
		}
		if (!chan_parse_cap(a, cap, error))
			return FALSE;
		have_cap = TRUE;
	}
	if (!have_cap) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "missing capacity: an integer >= 0");
		return FALSE;
	}
	return TRUE;
}

static gboolean
chan_create(CircuitElement *element, const char *const *args, GBytes *body, gpointer *element_ctx,
            GError **error)
{
	guint64 cap = 0, max_size = 0;
	if (!chan_parse_args(args, &cap, &max_size, error))
		return FALSE;
	ChanCtx *ctx = g_new0(ChanCtx, 1);
	ctx->element = element;
	ctx->host = circuit_element_host(element);
	ctx->cap = cap;
	ctx->max_size = max_size;
	g_queue_init(&ctx->buffered);
	g_queue_init(&ctx->blocked);
	g_queue_init(&ctx->filling);
	g_queue_init(&ctx->waiting);
	g_queue_init(&ctx->inflight);
	*element_ctx = ctx;
	circuit_log(ctx->host, element, G_LOG_LEVEL_DEBUG,
	            "channel made, capacity %" G_GUINT64_FORMAT
	            ", messages up to %" G_GUINT64_FORMAT " bytes",
	            cap, max_size);
	return TRUE;
}

static guint
chan_waiting_senders(ChanCtx *ctx)
{
	guint n = ctx->filling.length + ctx->blocked.length;
	for (GList *l = ctx->inflight.head; l; l = l->next) {
		ChanMsg *m = ((ChanRecv *)l->data)->msg;
		if (!m->accepted && m->sender)
			n++;
	}
	return n;
}

static JsonNode *
chan_peek(CircuitElement *element, gpointer element_ctx)
{
	ChanCtx *ctx = element_ctx;
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "Cap");
	json_builder_add_int_value(b, (gint64)ctx->cap);
	json_builder_set_member_name(b, "Closed");
	json_builder_add_boolean_value(b, ctx->closed);
	json_builder_set_member_name(b, "Aborted");
	json_builder_add_boolean_value(b, ctx->aborted);
	json_builder_set_member_name(b, "NumSend");
	json_builder_add_int_value(b, (gint64)ctx->num_send);
	json_builder_set_member_name(b, "NumRecv");
	json_builder_add_int_value(b, (gint64)ctx->num_recv);
	json_builder_set_member_name(b, "Pending");
	json_builder_add_int_value(b, (gint64)ctx->n_accepted);
	json_builder_set_member_name(b, "WaitingSenders");
	json_builder_add_int_value(b, chan_waiting_senders(ctx));
	json_builder_set_member_name(b, "WaitingReceivers");
	json_builder_add_int_value(b, ctx->waiting.length);
	json_builder_set_member_name(b, "MaxSize");
	json_builder_add_int_value(b, (gint64)ctx->max_size);
	json_builder_end_object(b);
	JsonNode *node = json_builder_get_root(b);
	g_object_unref(b);
	return node;
}

/* status: what `ls -l` shows first: how full, and whether it is closed. */
static JsonNode *
chan_status(CircuitElement *element, gpointer element_ctx)
{
	ChanCtx *ctx = element_ctx;
	JsonObject *o = json_object_new();
	json_object_set_int_member(o, "Pending", (gint64)ctx->n_accepted);
	json_object_set_int_member(o, "Cap", (gint64)ctx->cap);
	json_object_set_boolean_member(o, "Closed", ctx->closed);
	if (ctx->aborted)
		json_object_set_boolean_member(o, "Aborted", TRUE);
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

/* scrub: the channel is aborted. Everyone waiting fails, accepted messages
 * are dropped and counted in the op log. A receiver that already has its
 * whole message (only its acknowledgement is missing) is left to finish:
 * the message is delivered, not dropped. */
static void
chan_scrub(CircuitElement *element, gpointer element_ctx)
{
	ChanCtx *ctx = element_ctx;
	if (ctx->aborted)
		return;
	ctx->aborted = TRUE;
	guint64 dropped = 0;
	guint failed = 0;
	GList *l;
	ChanMsg *msg;

	while ((l = g_queue_pop_head_link(&ctx->waiting))) {
		circuit_delivery_abort(((ChanRecv *)l->data)->delivery, CIRCUIT_ERROR_ABORTED,
		                       "channel aborted");
		failed++;
	}
	GQueue delivered = G_QUEUE_INIT;
	while ((l = g_queue_pop_head_link(&ctx->inflight))) {
		ChanRecv *recv = l->data;
		msg = recv->msg;
		recv->msg = NULL; /* @recv may be gone once its delivery is aborted */
		if (!circuit_delivery_abort(recv->delivery, CIRCUIT_ERROR_ABORTED,
		                            "channel aborted")) {
			recv->msg = msg; /* it has the whole message: left to finish */
			g_queue_push_tail_link(&delivered, l);
			continue;
		}
		failed++; /* the receiver, reset */
		if (msg->accepted) {
			ctx->n_accepted--;
			dropped++;
		} else if (msg->sender) {
			chan_send_fail(msg->sender, CIRCUIT_ERROR_ABORTED, "channel aborted");
			failed++;
		}
		chan_msg_free(msg);
	}
	ctx->inflight = delivered;
	while ((l = g_queue_pop_head_link(&ctx->filling))) {
		ChanSend *send = l->data;
		chan_body_drop(send);
		chan_send_fail(send, CIRCUIT_ERROR_ABORTED, "channel aborted");
		failed++;
	}
	while ((msg = g_queue_pop_head(&ctx->blocked))) {
		ChanSend *send = msg->sender;
		msg->sender = NULL;
		chan_msg_free(msg);
		chan_send_fail(send, CIRCUIT_ERROR_ABORTED, "channel aborted");
		failed++;
	}
	while ((msg = g_queue_pop_head(&ctx->buffered))) {
		ctx->n_accepted--;
		dropped++;
		chan_msg_free(msg);
	}

	circuit_log(ctx->host, element, G_LOG_LEVEL_INFO,
	            "aborted: %" G_GUINT64_FORMAT " buffered message(s) dropped, %u waiting "
	            "operation(s) failed",
	            dropped, failed);
	if (dropped > 0)
		circuit_oplog_event(element, "drop", (gint64)dropped);
}

static void
chan_destroy(gpointer element_ctx)
{
	ChanCtx *ctx = element_ctx;
	if (!ctx)
		return;
	/* Every operation held a reference to the element, so only accepted
	 * messages can remain here (a server shutting down without scrub). */
	ChanMsg *msg;
	while ((msg = g_queue_pop_head(&ctx->buffered)))
		chan_msg_free(msg);
	while ((msg = g_queue_pop_head(&ctx->blocked)))
		chan_msg_free(msg);
	g_free(ctx);
}

static gboolean
chan_init(CircuitHost *host, gpointer *plugin_ctx, GError **error)
{
	const char *held = circuit_host_option(host, "chan.max-held");
	chan_max_held = CHAN_DEFAULT_MAX_HELD;
	if (held && !chan_parse_size(held, &chan_max_held, error)) {
		g_prefix_error(error, "plugin option chan.max-held: ");
		return FALSE;
	}
	return TRUE;
}

static gboolean
chan_check_max_held(const char *value, GError **error)
{
	guint64 size = 0;
	return chan_parse_size(value, &size, error);
}

/* SIGHUP changed chan.max-held (checked already): messages held beyond a
 * lower limit stay; sends are refused until receivers make room. */
static void
chan_reconfigure(CircuitHost *host, gpointer plugin_ctx)
{
	const char *held = circuit_host_option(host, "chan.max-held");
	guint64 size = CHAN_DEFAULT_MAX_HELD;
	if (held && !chan_parse_size(held, &size, NULL))
		return;
	chan_max_held = size;
	circuit_log(host, NULL, G_LOG_LEVEL_MESSAGE,
	            "channels now hold at most %" G_GUINT64_FORMAT " bytes (%" G_GUINT64_FORMAT
	            " held)",
	            chan_max_held, chan_held);
}

static const CircuitPluginOption chan_options[] = {
        {.key = "max-held",
         .value_usage = "SIZE",
         .summary = "bytes of messages the server holds at most, over all channels (e.g. 256M; "
                    "reloadable)",
         .check = chan_check_max_held,
         .flags = CIRCUIT_OPTION_RELOADABLE},
        {NULL},
};

static const CircuitOp chan_ops[] = {
        {
                .name = "send",
                .args_usage = "",
                .summary = "send one message, read from standard input",
                .flags = CIRCUIT_OP_BODY,
                .run = chan_op_send,
        },
        {
                .name = "recv",
                .args_usage = "",
                .summary = "receive one message onto standard output",
                .flags = CIRCUIT_OP_OUTPUT,
                .run = chan_op_recv,
        },
        {
                .name = "close",
                .args_usage = "",
                .summary = "close the channel: no more sends; receivers drain it",
                .run = chan_op_close,
        },
};

CIRCUIT_PLUGIN_DEFINE(chan, .version = "0.1.0",
                      .summary = "Go-like channels held by a server; nothing lost, nothing doubled",
                      .make_args_usage = "[-max SIZE] CAP", .make_min_args = 1, .make_max_args = 3,
                      .init = chan_init, .create = chan_create, .peek = chan_peek,
                      .status = chan_status, .scrub = chan_scrub, .destroy = chan_destroy,
                      .ops = chan_ops, .n_ops = G_N_ELEMENTS(chan_ops), .options = chan_options,
                      .reconfigure = chan_reconfigure);
