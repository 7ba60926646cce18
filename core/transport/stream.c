// SPDX-License-Identifier: Apache-2.0
//
// stream.c - one operation's stream on a connection: reply, output with
// credit, input with granted credit (core/plugin/stream.c offers it to
// plugins as plugin.h's circuit_stream_* calls).
#include "transport_private.h"

#include "wire/error.h"
#include "wire/json.h"

#include <string.h>

CircuitStream *
stream_new(Conn *conn, guint32 id, guint64 window)
{
	CircuitStream *s = g_new0(CircuitStream, 1);
	s->refcount = 1;
	s->conn = conn;
	s->id = id;
	s->out_credit = window;
	g_queue_init(&s->pending);
	g_queue_init(&s->unacked);
	return s;
}

CircuitStream *
stream_ref(CircuitStream *stream)
{
	stream->refcount++;
	return stream;
}

static void
stream_bytes_queue_clear(GQueue *q)
{
	GBytes *b;
	while ((b = g_queue_pop_head(q)))
		g_bytes_unref(b);
}

void
stream_unref(CircuitStream *stream)
{
	if (!stream || --stream->refcount > 0)
		return;
	stream_bytes_queue_clear(&stream->pending);
	stream_bytes_queue_clear(&stream->unacked);
	if (stream->inline_body)
		g_bytes_unref(stream->inline_body);
	if (stream->request)
		g_bytes_unref(stream->request);
	if (stream->caller)
		caller_unref(stream->caller);
	if (stream->notify && stream->user_data)
		stream->notify(stream->user_data);
	if (stream->reply_hook_notify && stream->reply_hook_data)
		stream->reply_hook_notify(stream->reply_hook_data);
	g_free(stream);
}

/* An operation whose asker left before it replied is logged as withdrawn
 * (the op log says what happened to every operation, answered or not). */
static void
stream_log_withdrawn(CircuitStream *s, const GError *error)
{
	if (s->reply_sent || !s->reply_hook || !error)
		return;
	StreamReplyHook hook = s->reply_hook;
	s->reply_hook = NULL;
	g_autofree char *why = g_strdup_printf("withdrawn: %s", error->message);
	hook(s, FALSE, why, s->reply_hook_data);
}

/* Delivers closed() once both directions are done, then detaches. */
static void
stream_finalize(CircuitStream *s, const GError *error)
{
	if (s->closed)
		return;
	stream_log_withdrawn(s, error);
	s->closed = TRUE;
	stream_ref(s);
	if (s->funcs && s->funcs->closed) {
		s->in_closed_cb = TRUE;
		s->funcs->closed(s, error, s->user_data);
		s->in_closed_cb = FALSE;
	}
	if (s->notify && s->user_data) {
		GDestroyNotify notify = s->notify;
		gpointer data = s->user_data;
		s->notify = NULL;
		s->user_data = NULL;
		notify(data);
	}
	s->funcs = NULL;
	if (s->conn)
		conn_forget_stream(s->conn, s);
	stream_unref(s);
}

static void
stream_maybe_finalize(CircuitStream *s)
{
	if (s->local_done && s->remote_done)
		stream_finalize(s, NULL);
}

static void
stream_flush(CircuitStream *s)
{
	while (s->conn && s->out_credit > 0 && !g_queue_is_empty(&s->pending) &&
	       !conn_output_full(s->conn)) {
		GBytes *head = g_queue_pop_head(&s->pending);
		gsize n = g_bytes_get_size(head);
		if (n > s->out_credit) {
			GBytes *first = g_bytes_new_from_bytes(head, 0, (gsize)s->out_credit);
			GBytes *rest = g_bytes_new_from_bytes(head, (gsize)s->out_credit,
			                                      n - (gsize)s->out_credit);
			g_bytes_unref(head);
			g_queue_push_head(&s->pending, rest);
			head = first;
			n = g_bytes_get_size(head);
		}
		s->pending_bytes -= n;
		s->out_credit -= n;
		conn_send_data(s->conn, s->id, head);
		s->unacked_bytes += n;
		g_queue_push_tail(&s->unacked, head);
	}
	if (s->conn && s->eof_queued && !s->local_done && g_queue_is_empty(&s->pending)) {
		s->local_done = TRUE;
		conn_send_frame(s->conn, FRAME_EOF, s->id, NULL, 0);
		stream_maybe_finalize(s);
	}
}

static JsonNode *stream_error_node(int code, const char *message);

static void
stream_send_json(CircuitStream *s, FrameType type, JsonNode *node)
{
	gsize len = 0;
	g_autoptr(JsonGenerator) gen = json_generator_new();
	json_generator_set_root(gen, node);
	g_autofree char *text = json_generator_to_data(gen, &len);
	if (len > FRAME_MAX) {
		/* A reply must fit one frame; say so instead of breaking the connection. */
		g_autofree char *m = g_strdup_printf("the reply of %zu bytes is over the %u-byte "
		                                     "frame cap",
		                                     len, FRAME_MAX);
		g_autoptr(JsonNode) err = stream_error_node(CIRCUIT_ERROR_TOO_BIG, m);
		json_generator_set_root(gen, err);
		g_free(text);
		text = json_generator_to_data(gen, &len);
	}
	if (s->conn)
		conn_send_frame(s->conn, type, s->id, text, len);
}

void
stream_reply(CircuitStream *stream, JsonNode *result, gboolean failed_outcome)
{
	g_return_if_fail(stream != NULL);
	if (stream->closed && !stream->reply_sent) {
		/* The asker left before the answer was ready. */
		if (result)
			json_node_unref(result);
		return;
	}
	if (stream->reply_sent || stream->local_done) {
		g_warning("stream %u: second reply ignored", stream->id);
		if (result)
			json_node_unref(result);
		return;
	}
	stream->reply_sent = TRUE;
	if (!result && !failed_outcome) {
		/* The common answer, without building it. */
		if (stream->conn)
			conn_send_frame(stream->conn, FRAME_REPLY, stream->id, WIRE_REPLY_OK,
			                sizeof WIRE_REPLY_OK - 1);
		if (stream->reply_hook)
			stream->reply_hook(stream, TRUE, NULL, stream->reply_hook_data);
		return;
	}
	JsonObject *o = json_object_new();
	json_object_set_boolean_member(o, "ok", TRUE);
	json_object_set_member(o, "result", result ? result : json_node_new(JSON_NODE_NULL));
	json_object_set_boolean_member(o, "failed", failed_outcome);
	JsonNode *root = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	stream_send_json(stream, FRAME_REPLY, root);
	json_node_unref(root);
	if (stream->reply_hook)
		stream->reply_hook(stream, TRUE, NULL, stream->reply_hook_data);
}

static JsonNode *
stream_error_node(int code, const char *message)
{
	JsonObject *o = json_object_new();
	json_object_set_boolean_member(o, "ok", FALSE);
	json_object_set_string_member(o, "error", message);
	json_object_set_string_member(o, "code", wire_error_code_name(code));
	JsonNode *root = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return root;
}

void
stream_fail_message(CircuitStream *s, int code, const char *message)
{
	if (s->local_done || s->closed)
		return;
	stream_ref(s);
	JsonNode *node = stream_error_node(code, message);
	stream_bytes_queue_clear(&s->pending);
	s->pending_bytes = 0;
	if (!s->reply_sent) {
		s->reply_sent = TRUE;
		stream_send_json(s, FRAME_REPLY, node);
		if (s->reply_hook)
			s->reply_hook(s, FALSE, message, s->reply_hook_data);
		s->local_done = TRUE;
		if (s->conn)
			conn_send_frame(s->conn, FRAME_EOF, s->id, NULL, 0);
		stream_maybe_finalize(s);
	} else {
		/* After a reply, an error can only abort the whole stream. */
		stream_send_json(s, FRAME_RESET, node);
		s->local_done = TRUE;
		s->remote_done = TRUE;
		g_autoptr(GError) err = g_error_new_literal(CIRCUIT_ERROR, code, message);
		stream_finalize(s, err);
	}
	json_node_unref(node);
	stream_unref(s);
}

gboolean
stream_replied(CircuitStream *stream)
{
	return stream->reply_sent;
}

void
stream_set_reply_hook(CircuitStream *stream, StreamReplyHook hook, gpointer user_data,
                      GDestroyNotify notify)
{
	stream->reply_hook = hook;
	stream->reply_hook_data = user_data;
	stream->reply_hook_notify = notify;
}

void
stream_set_funcs(CircuitStream *stream, const CircuitStreamFuncs *funcs, gpointer user_data,
                 GDestroyNotify notify)
{
	g_return_if_fail(stream != NULL);
	if (stream->notify && stream->user_data)
		stream->notify(stream->user_data);
	stream->funcs = funcs;
	stream->user_data = user_data;
	stream->notify = notify;
}

const char *
stream_peer(CircuitStream *stream)
{
	return stream->conn ? conn_peer(stream->conn) : "(gone)";
}

gsize
stream_write_space(CircuitStream *stream)
{
	if (!stream->conn || stream->local_done || stream->eof_queued ||
	    conn_output_full(stream->conn))
		return 0;
	return stream->out_credit > stream->pending_bytes
	               ? (gsize)(stream->out_credit - stream->pending_bytes)
	               : 0;
}

void
stream_write(CircuitStream *stream, const void *data, gsize len)
{
	g_return_if_fail(stream != NULL);
	g_return_if_fail(stream->reply_sent);
	if (!stream->conn || stream->local_done || stream->eof_queued || len == 0)
		return;
	const guint8 *p = data;
	while (len > 0) {
		gsize n = MIN(len, FRAME_DATA_CHUNK);
		g_queue_push_tail(&stream->pending, g_bytes_new(p, n));
		stream->pending_bytes += n;
		p += n;
		len -= n;
	}
	stream_ref(stream);
	stream_flush(stream);
	stream_unref(stream);
}

void
stream_write_bytes(CircuitStream *stream, GBytes *bytes)
{
	g_return_if_fail(stream != NULL && bytes != NULL);
	g_return_if_fail(stream->reply_sent);
	gsize len = g_bytes_get_size(bytes);
	if (!stream->conn || stream->local_done || stream->eof_queued || len == 0)
		return;
	/* Slices of @bytes, not copies: the frames and the unacknowledged
	 * output hold references to it. */
	for (gsize off = 0; off < len;) {
		gsize n = MIN(len - off, FRAME_DATA_CHUNK);
		g_queue_push_tail(&stream->pending,
		                  n == len ? g_bytes_ref(bytes)
		                           : g_bytes_new_from_bytes(bytes, off, n));
		stream->pending_bytes += n;
		off += n;
	}
	stream_ref(stream);
	stream_flush(stream);
	stream_unref(stream);
}

GBytes *
stream_take_unacked(CircuitStream *stream)
{
	gsize total = stream->unacked_bytes + stream->pending_bytes;
	if (total == 0)
		return NULL;
	GByteArray *all = g_byte_array_sized_new((guint)total);
	gboolean first = TRUE;
	for (GList *l = stream->unacked.head; l; l = l->next) {
		gsize n = 0;
		const guint8 *p = g_bytes_get_data(l->data, &n);
		gsize off = first ? stream->unacked_head_off : 0;
		g_byte_array_append(all, p + off, (guint)(n - off));
		first = FALSE;
	}
	for (GList *l = stream->pending.head; l; l = l->next) {
		gsize n = 0;
		const guint8 *p = g_bytes_get_data(l->data, &n);
		g_byte_array_append(all, p, (guint)n);
	}
	stream_bytes_queue_clear(&stream->unacked);
	stream_bytes_queue_clear(&stream->pending);
	stream->unacked_bytes = stream->pending_bytes = stream->unacked_head_off = 0;
	return g_byte_array_free_to_bytes(all);
}

void
stream_finish(CircuitStream *stream)
{
	g_return_if_fail(stream != NULL);
	if (stream->local_done || stream->eof_queued)
		return;
	if (!stream->reply_sent)
		stream_reply(stream, NULL, FALSE);
	stream->eof_queued = TRUE;
	stream_ref(stream);
	stream_flush(stream);
	stream_unref(stream);
}

void
stream_consumed(CircuitStream *stream, gsize len)
{
	g_return_if_fail(stream != NULL);
	if (!stream->conn || stream->remote_done || len == 0)
		return;
	stream->in_granted += len;
	guint8 buf[4];
	frame_u32_encode(buf, (guint32)len);
	conn_send_frame(stream->conn, FRAME_CREDIT, stream->id, buf, 4);
}

void
stream_grant_body(CircuitStream *stream, gsize window)
{
	stream_consumed(stream, window);
}

guint64
stream_in_granted(CircuitStream *stream)
{
	return stream->in_granted;
}

void
stream_on_data(CircuitStream *s, const guint8 *data, gsize len)
{
	s->in_granted -= len;
	if (s->local_done || !s->funcs || !s->funcs->input)
		return; /* the operation ended: late body bytes are dropped */
	stream_ref(s);
	s->funcs->input(s, data, len, s->user_data);
	stream_unref(s);
}

void
stream_on_credit(CircuitStream *s, guint32 credit)
{
	s->out_credit += credit;
	/* Credit comes back exactly as the client consumed: those bytes are acked. */
	gsize ack = MIN((gsize)credit, s->unacked_bytes);
	s->unacked_bytes -= ack;
	while (ack > 0) {
		GBytes *head = g_queue_peek_head(&s->unacked);
		gsize left = g_bytes_get_size(head) - s->unacked_head_off;
		if (ack >= left) {
			ack -= left;
			s->unacked_head_off = 0;
			g_bytes_unref(g_queue_pop_head(&s->unacked));
		} else {
			s->unacked_head_off += ack;
			ack = 0;
		}
	}
	stream_ref(s);
	stream_flush(s);
	if (!s->closed && stream_write_space(s) > 0 && s->funcs && s->funcs->writable)
		s->funcs->writable(s, s->user_data);
	stream_unref(s);
}

void
stream_resume(CircuitStream *s)
{
	if (s->closed || !s->conn)
		return;
	stream_ref(s);
	stream_flush(s);
	if (!s->closed && stream_write_space(s) > 0 && s->funcs && s->funcs->writable)
		s->funcs->writable(s, s->user_data);
	stream_unref(s);
}

void
stream_on_eof(CircuitStream *s)
{
	if (s->remote_done)
		return;
	s->remote_done = TRUE;
	stream_ref(s);
	if (!s->local_done && s->funcs && s->funcs->input_end)
		s->funcs->input_end(s, s->user_data);
	stream_maybe_finalize(s);
	stream_unref(s);
}

void
stream_on_reset(CircuitStream *s, const char *why)
{
	s->remote_done = TRUE;
	s->local_done = TRUE;
	g_autoptr(GError) err = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_DISCONNECTED,
	                                    "reset by client%s%s", why ? ": " : "", why ? why : "");
	stream_finalize(s, err);
}

void
stream_on_conn_lost(CircuitStream *s)
{
	g_autoptr(GError) err = g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_DISCONNECTED,
	                                            "client disconnected");
	/* Logged while the peer's address is still known. */
	stream_log_withdrawn(s, err);
	/* The connection already dropped its reference to us. */
	s->conn = NULL;
	s->remote_done = TRUE;
	s->local_done = TRUE;
	stream_finalize(s, err);
}

/* ---- relays -------------------------------------------------------------- */

void
stream_set_relay(CircuitStream *stream, StreamRelayFn fn, gpointer user_data)
{
	stream->relay = fn;
	stream->relay_data = user_data;
	if (fn && stream->conn && !stream->relay_counted) {
		stream->relay_counted = TRUE;
		stream->conn->n_relayed++;
	}
}

guint
stream_conn_relayed(CircuitStream *stream)
{
	return stream->conn ? stream->conn->n_relayed : 0;
}

void
stream_relay_receive(CircuitStream *s, FrameType type, const guint8 *payload, gsize len)
{
	if (s->closed)
		return;
	stream_ref(s);
	if (type == FRAME_DATA)
		s->in_granted -= len;
	if (type == FRAME_CREDIT && len == 4)
		s->unacked_bytes -= MIN(s->unacked_bytes, (gsize)frame_u32_decode(payload));
	if (type == FRAME_EOF) {
		if (s->remote_done) {
			stream_unref(s);
			return;
		}
		s->remote_done = TRUE;
	}
	if (type == FRAME_RESET)
		s->remote_done = s->local_done = TRUE;
	s->relay(s, type, payload, len, s->relay_data);
	if (type == FRAME_RESET) {
		g_autoptr(GError) err = g_error_new_literal(
		        CIRCUIT_ERROR, CIRCUIT_ERROR_DISCONNECTED, "reset by client");
		stream_finalize(s, err);
	} else {
		stream_maybe_finalize(s);
	}
	stream_unref(s);
}

/* Whether a relayed REPLY says ok, for the op log; its error otherwise. */
static gboolean
stream_relay_reply_ok(const guint8 *payload, gsize len, char **error)
{
	if (len == sizeof WIRE_REPLY_OK - 1 && memcmp(payload, WIRE_REPLY_OK, len) == 0)
		return TRUE;
	g_autoptr(JsonObject) o = wire_json_read_object((const char *)payload, len, NULL);
	if (!o) {
		*error = g_strdup("malformed reply");
		return FALSE;
	}
	if (json_object_get_boolean_member_with_default(o, "ok", FALSE))
		return TRUE;
	*error = g_strdup(json_object_get_string_member_with_default(o, "error", "failed"));
	return FALSE;
}

void
stream_relay_send(CircuitStream *s, FrameType type, const guint8 *payload, gsize len)
{
	if (s->closed || s->local_done || !s->conn)
		return;
	stream_ref(s);
	if (type == FRAME_REPLY && !s->reply_sent) {
		s->reply_sent = TRUE;
		g_autofree char *error = NULL;
		gboolean ok = stream_relay_reply_ok(payload, len, &error);
		if (s->reply_hook)
			s->reply_hook(s, ok, error, s->reply_hook_data);
	}
	if (type == FRAME_CREDIT && len == 4)
		s->in_granted += frame_u32_decode(payload);
	if (type == FRAME_DATA)
		s->unacked_bytes += len; /* what the client may credit back */
	conn_send_frame(s->conn, type, s->id, payload, len);
	if (type == FRAME_EOF) {
		s->local_done = TRUE;
		stream_maybe_finalize(s);
	} else if (type == FRAME_RESET) {
		s->local_done = s->remote_done = TRUE;
		g_autoptr(GError) err = g_error_new_literal(
		        CIRCUIT_ERROR, CIRCUIT_ERROR_DISCONNECTED, "reset by the server");
		stream_finalize(s, err);
	}
	stream_unref(s);
}

/* ---- bodies carried in the request --------------------------------------- */

GBytes *
stream_request_bytes(CircuitStream *s)
{
	return s->request;
}

void
stream_set_request_bytes(CircuitStream *s, GBytes *request)
{
	if (s->request)
		g_bytes_unref(s->request);
	s->request = request;
}

GBytes *
stream_take_inline_body(CircuitStream *s)
{
	GBytes *body = g_steal_pointer(&s->inline_body);
	if (body)
		s->remote_done = TRUE;
	return body;
}

void
stream_deliver_inline(CircuitStream *s, GBytes *body)
{
	gsize len = 0;
	const guint8 *p = g_bytes_get_data(body, &len);
	stream_ref(s);
	if (len && !s->local_done && !s->closed && s->funcs && s->funcs->input)
		s->funcs->input(s, p, len, s->user_data);
	if (!s->local_done && !s->closed && s->funcs && s->funcs->input_end)
		s->funcs->input_end(s, s->user_data);
	stream_maybe_finalize(s);
	stream_unref(s);
}

Caller *
stream_caller(CircuitStream *stream)
{
	if (stream->caller)
		return stream->caller;
	return stream->conn ? stream->conn->caller : NULL;
}

void
stream_set_caller(CircuitStream *stream, Caller *caller)
{
	if (stream->caller)
		caller_unref(stream->caller);
	stream->caller = caller ? caller_ref(caller) : NULL;
}

gboolean
stream_from_server(CircuitStream *stream)
{
	return stream->conn && stream->conn->from_server;
}
