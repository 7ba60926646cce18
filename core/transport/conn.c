// SPDX-License-Identifier: Apache-2.0
//
// conn.c - accepted TCP connections: preamble, HELLO, frame parsing and
// dispatch to streams, buffered non-blocking writes.
#include "transport_private.h"

#include "wire/json.h"
#include "wire/socket.h"
#include "security/channel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define CONN_READ_CHUNK    (256u * 1024u)
#define CONN_READ_BUDGET   (4u * 1024u * 1024u)
#define CONN_HELLO_TIMEOUT 10.0
/* Streams open at once on one client's connection, and on one from another
 * server (which carries the relayed streams of all its clients). Beyond
 * them a new stream is refused, never the connection (docs/protocol.md). */
#define CONN_MAX_STREAMS      4096u
#define CONN_MAX_STREAMS_PEER 65536u
/* Keyed servers drop a handshake that does not finish in this time. */
#define CONN_HANDSHAKE_TIMEOUT 5.0
/* Connections not yet past HELLO; beyond this the oldest is dropped, so a
 * flood of half-open connections cannot keep legitimate clients out. */
#define CONN_MAX_UNVERIFIED 256u

typedef struct {
	GBytes *bytes;
	gsize off;
} OutChunk;

static struct {
	int listen_fd;
	ev_io accept_io;
	const TransportHandlers *handlers;
	GList *conns;
	guint64 protocol_errors;
	guint8 *keys; /* n_keys * 32 bytes, or NULL when not keyed */
	gsize n_keys;
	char **key_names; /* n_keys names, for callers' identities */
	/* The unix socket (--socket), when there is one. */
	int unix_fd;
	ev_io unix_io;
	/* One log line per refusal reason per second, with what was suppressed. */
	gint64 refusal_logged[10];
	guint refusal_suppressed[10];
	HandshakeGuard *guard; /* keyed: replays and cookies (security/guard.h) */
	/* Accepted connections open, in all and per source address. */
	guint n_accepted;
	GHashTable *per_source; /* char * -> count */
	int spare_fd;           /* kept open to refuse a connection when out of descriptors */
	ev_timer accept_backoff;
	ev_timer idle_sweep;
	gint64 emfile_logged;
	guint emfile_suppressed;
	/* Connections with frames queued this loop turn: written together,
	 * one writev each, just before the loop waits again. */
	GPtrArray *dirty;
	ev_prepare flush_prepare;
	TransportLimits limits;
} transport = {
        .limits = {.conn_output_max = TRANSPORT_DEFAULT_CONN_OUTPUT_MAX,
                   .max_conns = TRANSPORT_DEFAULT_MAX_CONNS,
                   .max_conns_per_source = TRANSPORT_DEFAULT_MAX_CONNS_PER_SOURCE,
                   .idle_timeout = TRANSPORT_DEFAULT_IDLE_TIMEOUT,
                   .liveness = WIRE_LIVENESS_DEFAULT_SECONDS},
};

void
transport_set_limits(const TransportLimits *limits)
{
	transport.limits = *limits;
}

gboolean
conn_output_full(Conn *conn)
{
	if (conn->out_bytes < transport.limits.conn_output_max)
		return FALSE;
	conn->out_full = TRUE;
	return TRUE;
}

void
transport_set_keys(const guint8 *keys, gsize n_keys, const char *const *names)
{
	g_free(transport.keys);
	transport.keys = n_keys ? g_memdup2(keys, n_keys * NOISE_KEY_LEN) : NULL;
	transport.n_keys = n_keys;
	g_strfreev(transport.key_names);
	transport.key_names = g_strdupv((char **)names);
}

static void conn_close(Conn *conn, const char *why);

/* The handshake guard of a keyed server, made on first use (after the
 * limits are set). */
static HandshakeGuard *
transport_guard(void)
{
	if (!transport.guard)
		transport.guard = guard_new(transport.limits.handshakes_per_second);
	return transport.guard;
}

/*
 * Closes @conn on the next loop turn. Used where a send fails: the caller
 * may be deep inside a plugin's callback, which must not see its streams
 * vanish under it.
 */
static void
conn_close_soon(Conn *conn, const char *why)
{
	if (conn->broken || conn->state == CONN_CLOSED)
		return;
	conn->broken = TRUE;
	g_info("connection from %s: %s", conn->peer, why);
	ev_io_stop(EV_DEFAULT, &conn->wio);
	ev_io_stop(EV_DEFAULT, &conn->rio);
	ev_timer_start(EV_DEFAULT, &conn->close_timer);
}

static void
conn_on_close_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_close(w->data, NULL);
}

const char *
conn_peer(Conn *conn)
{
	return conn->peer;
}

void
transport_peek(JsonObject *o)
{
	if (!transport.keys)
		return;
	GuardStats st;
	guard_get_stats(transport_guard(), &st);
	JsonObject *h = json_object_new();
	json_object_set_int_member(h, "Answered", (gint64)st.answered);
	json_object_set_int_member(h, "Replays", (gint64)st.replays);
	json_object_set_int_member(h, "Cookies", (gint64)st.cookies);
	json_object_set_int_member(h, "BadCookies", (gint64)st.bad_cookies);
	json_object_set_object_member(o, "Handshakes", h);
}

static const char *const conn_state_names[] = {
        [CONN_CONNECTING] = "connecting", [CONN_DIAL_SETUP] = "setup", [CONN_PREAMBLE] = "preamble",
        [CONN_HANDSHAKE] = "handshake",   [CONN_HELLO] = "hello",      [CONN_OPEN] = "open",
        [CONN_CLOSED] = "closed",
};

JsonArray *
transport_stk(void)
{
	JsonArray *a = json_array_new();
	ev_tstamp now = ev_now(EV_DEFAULT);
	guint listed = 0;
	/* At most 2000 (the most recent first in the list): the reply stays
	 * under the frame cap whatever --max-conns allows. */
	for (GList *l = transport.conns; l && listed++ < 2000; l = l->next) {
		Conn *conn = l->data;
		JsonObject *o = json_object_new();
		json_object_set_string_member(o, "Peer", conn->peer ? conn->peer : "");
		json_object_set_string_member(o, "State", conn_state_names[conn->state]);
		json_object_set_string_member(o, "Direction", conn->dialer ? "dialed" : "accepted");
		if (conn->unix_socket)
			json_object_set_boolean_member(o, "Unix", TRUE);
		json_object_set_boolean_member(o, "Keyed", conn->channel != NULL);
		json_object_set_boolean_member(o, "Server", conn->from_server);
		if (conn->caller)
			json_object_set_string_member(o, "Caller", caller_label(conn->caller));
		json_object_set_int_member(o, "Streams", g_hash_table_size(conn->streams));
		json_object_set_int_member(o, "Relayed", conn->n_relayed);
		json_object_set_int_member(o, "QueuedBytes", (gint64)conn->out_bytes);
		if (conn->out_full)
			json_object_set_boolean_member(o, "OutputFull", TRUE);
		if (conn->read_paused)
			json_object_set_boolean_member(o, "ReadPaused", TRUE);
		if (conn->last_active > 0)
			json_object_set_int_member(
			        o, "IdleMs", (gint64)(MAX(0.0, now - conn->last_active) * 1000));
		json_array_add_object_element(a, o);
	}
	return a;
}

guint
transport_conn_count(void)
{
	return g_list_length(transport.conns);
}

static Conn *
conn_ref(Conn *conn)
{
	conn->refcount++;
	return conn;
}

static void
conn_unref(Conn *conn)
{
	if (--conn->refcount > 0)
		return;
	g_byte_array_unref(conn->in);
	g_byte_array_unref(conn->raw);
	channel_free(conn->channel);
	if (conn->dial_handshake)
		noise_handshake_free(conn->dial_handshake);
	if (conn->dial_msg1)
		g_byte_array_unref(conn->dial_msg1);
	g_clear_error(&conn->lost_error);
	memset(conn->dial_key, 0, sizeof conn->dial_key);
	g_hash_table_unref(conn->streams);
	g_free(conn->peer);
	g_free(conn->source);
	if (conn->caller)
		caller_unref(conn->caller);
	g_free(conn);
}

static void
conn_flush(Conn *conn)
{
	while (!g_queue_is_empty(&conn->out)) {
		struct iovec iov[64];
		int n = 0;
		for (GList *l = conn->out.head; l && n < 64; l = l->next, n++) {
			OutChunk *c = l->data;
			gsize size = 0;
			const guint8 *p = g_bytes_get_data(c->bytes, &size);
			iov[n].iov_base = (void *)(p + c->off);
			iov[n].iov_len = size - c->off;
		}
		ssize_t w = writev(conn->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close_soon(conn, g_strerror(errno));
			return;
		}
		conn->out_bytes -= (gsize)w;
		while (w > 0) {
			OutChunk *c = g_queue_peek_head(&conn->out);
			gsize left = g_bytes_get_size(c->bytes) - c->off;
			if ((gsize)w >= left) {
				w -= (ssize_t)left;
				g_bytes_unref(c->bytes);
				g_slice_free(OutChunk, g_queue_pop_head(&conn->out));
			} else {
				c->off += (gsize)w;
				w = 0;
			}
		}
	}
	if (g_queue_is_empty(&conn->out)) {
		ev_io_stop(EV_DEFAULT, &conn->wio);
		if (conn->close_after_flush)
			conn_close_soon(conn, "refused");
	} else {
		ev_io_start(EV_DEFAULT, &conn->wio);
	}
	if ((conn->out_full || conn->read_paused) &&
	    conn->out_bytes <= transport.limits.conn_output_max / 2)
		ev_timer_start(EV_DEFAULT, &conn->resume_timer);
}

static void conn_parse(Conn *conn);

/* The queue went down to half the cap: streams produce again and the
 * requests read meanwhile are parsed. */
static void
conn_on_resume_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	Conn *conn = w->data;
	if (conn->state == CONN_CLOSED || conn->broken)
		return;
	conn_ref(conn);
	if (conn->out_full) {
		conn->out_full = FALSE;
		GList *streams = g_hash_table_get_values(conn->streams);
		for (GList *l = streams; l; l = l->next)
			stream_ref(l->data);
		for (GList *l = streams; l && !conn->out_full && conn->state != CONN_CLOSED;
		     l = l->next)
			stream_resume(l->data);
		g_list_free_full(streams, (GDestroyNotify)stream_unref);
	}
	if (conn->read_paused && !conn->out_full && conn->state != CONN_CLOSED) {
		conn->read_paused = FALSE;
		ev_io_start(EV_DEFAULT, &conn->rio);
		conn_parse(conn);
	}
	conn_unref(conn);
}

static void conn_queue_raw(Conn *conn, GBytes *bytes);

/* Queues bytes of the frame stream: sealed on keyed connections. */
static void
conn_queue(Conn *conn, GBytes *bytes)
{
	if (!conn->channel) {
		conn_queue_raw(conn, bytes);
		return;
	}
	gsize len = 0;
	const guint8 *p = g_bytes_get_data(bytes, &len);
	GByteArray *sealed = g_byte_array_sized_new((guint)(len + 64));
	GError *error = NULL;
	gboolean ok = channel_seal(conn->channel, p, len, sealed, &error);
	g_bytes_unref(bytes);
	if (!ok) {
		conn_close_soon(conn, error->message);
		g_error_free(error);
		g_byte_array_unref(sealed);
		return;
	}
	conn_queue_raw(conn, g_byte_array_free_to_bytes(sealed));
}

static void
conn_queue_raw(Conn *conn, GBytes *bytes)
{
	OutChunk *c = g_slice_new(OutChunk);
	c->bytes = bytes;
	c->off = 0;
	conn->out_bytes += g_bytes_get_size(bytes);
	g_queue_push_tail(&conn->out, c);
}

static void
transport_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	g_autoptr(GPtrArray) dirty = transport.dirty;
	transport.dirty = NULL;
	ev_prepare_stop(loop, w);
	for (guint i = 0; dirty && i < dirty->len; i++) {
		Conn *conn = g_ptr_array_index(dirty, i);
		conn->flush_pending = FALSE;
		if (conn->state != CONN_CLOSED && !conn->broken && !ev_is_active(&conn->wio))
			conn_flush(conn);
		conn_unref(conn);
	}
}

/* Writes what was queued on @conn before the loop next waits. */
static void
conn_want_flush(Conn *conn)
{
	if (conn->flush_pending || ev_is_active(&conn->wio))
		return;
	conn->flush_pending = TRUE;
	if (!transport.dirty)
		transport.dirty = g_ptr_array_new();
	g_ptr_array_add(transport.dirty, conn_ref(conn));
	if (!ev_is_active(&transport.flush_prepare)) {
		ev_prepare_init(&transport.flush_prepare, transport_on_prepare);
		ev_prepare_start(EV_DEFAULT, &transport.flush_prepare);
	}
}

void
conn_send_frame(Conn *conn, FrameType type, guint32 stream, const void *payload, gsize len)
{
	if (conn->state == CONN_CLOSED || conn->broken)
		return;
	guint8 *buf = g_malloc(FRAME_HEADER_SIZE + len);
	frame_header_encode(buf, type, stream, (guint32)len);
	if (len)
		memcpy(buf + FRAME_HEADER_SIZE, payload, len);
	conn_queue(conn, g_bytes_new_take(buf, FRAME_HEADER_SIZE + len));
	conn_want_flush(conn);
}

void
conn_send_data(Conn *conn, guint32 stream, GBytes *bytes)
{
	if (conn->state == CONN_CLOSED || conn->broken)
		return;
	guint8 *hdr = g_malloc(FRAME_HEADER_SIZE);
	frame_header_encode(hdr, FRAME_DATA, stream, (guint32)g_bytes_get_size(bytes));
	conn_queue(conn, g_bytes_new_take(hdr, FRAME_HEADER_SIZE));
	conn_queue(conn, g_bytes_ref(bytes));
	conn_want_flush(conn);
}

void
conn_forget_stream(Conn *conn, CircuitStream *stream)
{
	if (stream->relay_counted) {
		stream->relay_counted = FALSE;
		conn->n_relayed--;
	}
	g_hash_table_remove(conn->streams, GUINT_TO_POINTER(stream->id));
}

static void
transport_forget_accepted(Conn *conn)
{
	transport.n_accepted--;
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(transport.per_source, conn->source));
	if (n <= 1)
		g_hash_table_remove(transport.per_source, conn->source);
	else
		g_hash_table_insert(transport.per_source, g_strdup(conn->source),
		                    GUINT_TO_POINTER(n - 1));
}

static void
conn_close(Conn *conn, const char *why)
{
	if (conn->state == CONN_CLOSED)
		return;
	if (why)
		g_info("connection from %s closed: %s", conn->peer, why);
	conn->state = CONN_CLOSED;
	ev_io_stop(EV_DEFAULT, &conn->rio);
	ev_io_stop(EV_DEFAULT, &conn->wio);
	ev_timer_stop(EV_DEFAULT, &conn->hello_timer);
	ev_timer_stop(EV_DEFAULT, &conn->close_timer);
	ev_timer_stop(EV_DEFAULT, &conn->resume_timer);
	close(conn->fd);
	conn->fd = -1;
	OutChunk *c;
	while ((c = g_queue_pop_head(&conn->out))) {
		g_bytes_unref(c->bytes);
		g_slice_free(OutChunk, c);
	}
	transport.conns = g_list_delete_link(transport.conns, conn->link);
	if (!conn->dialer)
		transport_forget_accepted(conn);
	/* Streams learn of the loss after the table let go of them. */
	GList *streams = g_hash_table_get_values(conn->streams);
	for (GList *l = streams; l; l = l->next)
		stream_ref(l->data);
	g_hash_table_remove_all(conn->streams);
	for (GList *l = streams; l; l = l->next) {
		stream_on_conn_lost(l->data);
		stream_unref(l->data);
	}
	g_list_free(streams);
	if (conn->dialer && conn->dial_funcs) {
		const ConnDialFuncs *funcs = conn->dial_funcs;
		conn->dial_funcs = NULL;
		if (!conn->lost_error)
			conn->lost_error = g_error_new(G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
			                               "%s", why ? why : "the connection closed");
		funcs->lost(conn, conn->lost_error, conn->dial_data);
	}
	conn_unref(conn);
}

static void
conn_protocol_error(Conn *conn, const char *what)
{
	transport.protocol_errors++;
	/* Garbage floods must not flood the log: one line a second at most. */
	static gint64 last;
	static guint suppressed;
	gint64 now = g_get_monotonic_time();
	if (now - last >= G_USEC_PER_SEC) {
		if (suppressed)
			g_message("connection from %s: protocol error: %s (and %u more)",
			          conn->peer, what, suppressed);
		else
			g_message("connection from %s: protocol error: %s", conn->peer, what);
		last = now;
		suppressed = 0;
	} else {
		suppressed++;
	}
	conn_close(conn, NULL);
}

static void
conn_send_hello(Conn *conn)
{
	JsonObject *o = transport.handlers->hello(transport.handlers->user_data);
	JsonNode *root = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	g_autoptr(JsonGenerator) gen = json_generator_new();
	json_generator_set_root(gen, root);
	gsize len = 0;
	g_autofree char *text = json_generator_to_data(gen, &len);
	json_node_unref(root);
	conn_send_frame(conn, FRAME_HELLO, 0, text, len);
}

static void
conn_on_open(Conn *conn, guint32 id, const guint8 *p, gsize len)
{
	if ((id & 1u) == 0 || g_hash_table_contains(conn->streams, GUINT_TO_POINTER(id))) {
		conn_protocol_error(conn, "OPEN with a bad or reused stream id");
		return;
	}
	guint max = conn->from_server ? CONN_MAX_STREAMS_PEER : CONN_MAX_STREAMS;
	if (g_hash_table_size(conn->streams) >= max) {
		/* This stream only: answered and ended at once; the client's late
		 * frames for it are ignored as for any stream that ended. */
		g_autofree char *m = g_strdup_printf(
		        "{\"ok\":false,\"error\":\"too many streams open on this connection "
		        "(%u): let some finish first\",\"code\":\"busy\"}",
		        max);
		conn_send_frame(conn, FRAME_REPLY, id, m, strlen(m));
		conn_send_frame(conn, FRAME_EOF, id, NULL, 0);
		return;
	}
	/* The request, then optionally a NUL and the operation's whole input. */
	const guint8 *nul = len ? memchr(p, 0, len) : NULL;
	gsize json_len = nul ? (gsize)(nul - p) : len;
	JsonObject *req = wire_json_frame_object(p, json_len);
	if (!req) {
		conn_protocol_error(conn, "OPEN is not a JSON object");
		return;
	}
	gint64 window = json_object_get_int_member_with_default(req, "window", 256 * 1024);
	/* A client may not make the server hold more than 16 MiB per stream. */
	if (window < 0 || window > (16 << 20))
		window = MIN(MAX(window, 0), 16 << 20);
	CircuitStream *s = stream_new(conn, id, (guint64)window);
	s->request = g_bytes_new(p, json_len);
	if (nul)
		s->inline_body = g_bytes_new(nul + 1, len - json_len - 1);
	g_hash_table_insert(conn->streams, GUINT_TO_POINTER(id), s);
	stream_ref(s);
	transport.handlers->open(s, req, transport.handlers->user_data);
	stream_unref(s);
	json_object_unref(req);
}

/* Handles one frame; returns FALSE if the connection was closed. */
static gboolean conn_dial_on_frame(Conn *conn, const FrameHeader *h, const guint8 *p);

static gboolean
conn_on_frame(Conn *conn, const FrameHeader *h, const guint8 *p)
{
	if (conn->dialer)
		return conn_dial_on_frame(conn, h, p);
	if (conn->state == CONN_HELLO) {
		if (h->type != FRAME_HELLO) {
			conn_protocol_error(conn, "expected HELLO");
			return FALSE;
		}
		JsonObject *o = wire_json_frame_object(p, h->len);
		if (!o) {
			conn_protocol_error(conn, "HELLO is not a JSON object");
			return FALSE;
		}
		conn->from_server =
		        g_strcmp0(json_object_get_string_member_with_default(o, "role", ""),
		                  "server") == 0;
		json_object_unref(o);
		conn->state = CONN_OPEN;
		ev_timer_stop(EV_DEFAULT, &conn->hello_timer);
		conn_send_hello(conn);
		return conn->state != CONN_CLOSED;
	}
	if (h->type == FRAME_HELLO) {
		conn_protocol_error(conn, "second HELLO");
		return FALSE;
	}
	if (h->type == FRAME_OPEN) {
		conn_on_open(conn, h->stream, p, h->len);
		return conn->state != CONN_CLOSED;
	}
	if (h->type == FRAME_REPLY) {
		conn_protocol_error(conn, "REPLY from a client");
		return FALSE;
	}
	CircuitStream *s = g_hash_table_lookup(conn->streams, GUINT_TO_POINTER(h->stream));
	if (!s)
		return TRUE; /* late frames for a stream that ended are ignored */
	/* Credit returns what was sent, never more: a client cannot make the
	 * server queue more than the window it asked for. */
	if (h->type == FRAME_CREDIT && frame_u32_decode(p) > s->unacked_bytes) {
		conn_protocol_error(conn, "CREDIT beyond what was sent");
		return FALSE;
	}
	if (s->relay && h->type >= FRAME_DATA && h->type <= FRAME_RESET) {
		if (h->type == FRAME_DATA && (s->remote_done || h->len > stream_in_granted(s))) {
			conn_protocol_error(conn, "DATA beyond credit");
			return FALSE;
		}
		stream_relay_receive(s, h->type, p, h->len);
		return conn->state != CONN_CLOSED;
	}
	switch (h->type) {
	case FRAME_DATA:
		if (s->remote_done || h->len > stream_in_granted(s)) {
			conn_protocol_error(conn, "DATA beyond credit");
			return FALSE;
		}
		stream_on_data(s, p, h->len);
		break;
	case FRAME_CREDIT:
		stream_on_credit(s, frame_u32_decode(p));
		break;
	case FRAME_EOF:
		stream_on_eof(s);
		break;
	case FRAME_RESET: {
		g_autofree char *why = NULL;
		JsonObject *o = h->len ? wire_json_frame_object(p, h->len) : NULL;
		if (o) {
			why = g_strdup(json_object_get_string_member_with_default(o, "error", ""));
			json_object_unref(o);
		}
		stream_on_reset(s, why && *why ? why : NULL);
		break;
	}
	default:
		conn_protocol_error(conn, "unexpected frame type");
		return FALSE;
	}
	return conn->state != CONN_CLOSED;
}

/* Refuses the connection with @code and closes it once the refusal is out. */
static void
conn_refuse(Conn *conn, FrameRefusal code, const char *reason)
{
	guint8 refusal[FRAME_PREAMBLE_SIZE];
	frame_refusal_encode(refusal, code);
	conn_queue_raw(conn, g_bytes_new(refusal, sizeof refusal));
	conn_queue_raw(conn, g_bytes_new(reason, strlen(reason)));
	/* Rate-limited: a flood of bad clients must not flood the log. */
	gint64 now = g_get_monotonic_time();
	guint i = (guint)code < G_N_ELEMENTS(transport.refusal_logged) ? (guint)code : 0;
	if (now - transport.refusal_logged[i] >= G_USEC_PER_SEC) {
		if (transport.refusal_suppressed[i])
			g_message("connection from %s refused: %s (and %u more like it)",
			          conn->peer, reason, transport.refusal_suppressed[i]);
		else
			g_message("connection from %s refused: %s", conn->peer, reason);
		transport.refusal_logged[i] = now;
		transport.refusal_suppressed[i] = 0;
	} else {
		transport.refusal_suppressed[i]++;
	}
	conn->close_after_flush = TRUE;
	conn->state = CONN_HELLO;
	ev_io_stop(EV_DEFAULT, &conn->rio);
	conn_flush(conn);
}

/* Unkeyed connections: whether the caller may connect; refused if not. */
static gboolean
conn_admit(Conn *conn)
{
	if (!conn->caller) /* another host, unkeyed: listening there took --insecure */
		conn->caller = caller_new_address(conn->peer);
	g_autoptr(GError) error = NULL;
	if (acl_admit(conn->caller, &error))
		return TRUE;
	conn_refuse(conn, FRAME_REFUSE_PERMISSION, error->message);
	return FALSE;
}

/* Keyed connections: the caller is the holder of key @index. */
static void
conn_set_key_caller(Conn *conn, guint index)
{
	const char *name = transport.key_names && index < g_strv_length(transport.key_names)
	                           ? transport.key_names[index]
	                           : "key";
	if (conn->caller)
		caller_unref(conn->caller);
	conn->caller = caller_new_key(name, conn->peer);
}

Caller *
conn_caller(Conn *conn)
{
	return conn->caller;
}

/*
 * An authenticated message 1, before any DH: a replay is refused, and under
 * load a message 1 without a cookie MAC gets a cookie (sealed under the key
 * it was made with) instead of message 2. TRUE: answer it. FALSE: @m is
 * cleared and the connection refused, or waiting for the retry.
 */
static gboolean
conn_guard_handshake(Conn *conn, ChannelMsg1 *m)
{
	if (conn->cookie_sent && !m->has_mac) {
		channel_msg1_clear(m);
		conn_protocol_error(conn, "a second handshake without the cookie it was given");
		return FALSE;
	}
	gint64 now = g_get_monotonic_time();
	switch (guard_check(transport_guard(), now, m->msg1, conn->peer, m->msg1, sizeof m->msg1,
	                    m->has_mac ? m->mac : NULL)) {
	case GUARD_ANSWER:
		return TRUE;
	case GUARD_REPLAY:
		channel_msg1_clear(m);
		conn_refuse(conn, FRAME_REFUSE_REPLAY,
		            "replayed handshake (message 1 seen before)");
		return FALSE;
	case GUARD_BAD_COOKIE:
		channel_msg1_clear(m);
		conn_refuse(conn, FRAME_REFUSE_BUSY,
		            "handshake with a cookie this server did not give");
		return FALSE;
	case GUARD_COOKIE:
		break;
	}
	guint8 cookie[GUARD_COOKIE_LEN];
	guard_cookie(transport_guard(), now, conn->peer, cookie);
	g_autoptr(GByteArray) out =
	        g_byte_array_sized_new(FRAME_PREAMBLE_SIZE + CHANNEL_COOKIE_REPLY_LEN);
	g_byte_array_set_size(out, FRAME_PREAMBLE_SIZE);
	frame_refusal_encode(out->data, FRAME_REFUSE_COOKIE);
	g_autoptr(GError) error = NULL;
	gboolean ok = channel_cookie_seal(transport.keys + (gsize)m->key_index * NOISE_KEY_LEN,
	                                  m->msg1, cookie, out, &error);
	channel_msg1_clear(m);
	if (!ok) {
		conn_protocol_error(conn, error->message);
		return FALSE;
	}
	conn->cookie_sent = TRUE;
	conn_queue_raw(conn, g_byte_array_free_to_bytes(g_steal_pointer(&out)));
	conn_flush(conn);
	return FALSE;
}

/* Preamble and, on keyed servers, the Noise handshake. FALSE: stop parsing. */
static gboolean
conn_parse_handshake(Conn *conn)
{
	if (conn->state == CONN_PREAMBLE) {
		if (conn->in->len < FRAME_PREAMBLE_SIZE)
			return FALSE;
		guint8 mode = 0;
		int rc = frame_preamble_decode(conn->in->data, &mode);
		memcpy(conn->preamble, conn->in->data, FRAME_PREAMBLE_SIZE);
		g_byte_array_remove_range(conn->in, 0, FRAME_PREAMBLE_SIZE);
		if (rc != 1) {
			conn_protocol_error(conn, "not a circuit client (bad preamble)");
			return FALSE;
		}
		if (mode == FRAME_MODE_NOISE && !transport.keys) {
			conn_refuse(conn, FRAME_REFUSE_NOT_KEYED,
			            "server is not keyed (the client has a key)");
			return FALSE;
		}
		if (mode != FRAME_MODE_NOISE && transport.keys && !conn->unix_socket) {
			conn_refuse(conn, FRAME_REFUSE_NEEDS_KEY,
			            "server requires a key (the client has none)");
			return FALSE;
		}
		if (mode != FRAME_MODE_NOISE && !conn_admit(conn))
			return FALSE;
		if (mode != FRAME_MODE_NOISE) {
			conn->state = CONN_HELLO;
			return TRUE;
		}
		conn->state = transport.keys ? CONN_HANDSHAKE : CONN_HELLO;
	}
	if (conn->state == CONN_HANDSHAKE) {
		g_autoptr(GByteArray) reply = g_byte_array_new();
		g_autoptr(GError) error = NULL;
		struct _Channel *ch = NULL;
		ChannelMsg1 m;
		int rc = channel_accept_read(transport.keys, transport.n_keys, conn->preamble,
		                             FRAME_PREAMBLE_SIZE, conn->in, &m, &error);
		if (rc == 0)
			return FALSE;
		if (rc < 0) {
			if (g_error_matches(error, NOISE_ERROR, NOISE_ERROR_WRONG_KEY))
				conn_refuse(conn, FRAME_REFUSE_WRONG_KEY, "wrong key");
			else
				conn_protocol_error(conn, error->message);
			return FALSE;
		}
		if (!conn_guard_handshake(conn, &m))
			return FALSE;
		rc = channel_accept_answer(&m, reply, &ch, &error);
		if (rc < 0) {
			conn_protocol_error(conn, error->message);
			return FALSE;
		}
		conn_queue_raw(conn, g_byte_array_free_to_bytes(g_steal_pointer(&reply)));
		conn->channel = ch;
		conn_set_key_caller(conn, channel_key_index(ch));
		conn->state = CONN_HELLO;
		/* What followed message 1 is already ciphertext. */
		g_byte_array_append(conn->raw, conn->in->data, conn->in->len);
		g_byte_array_set_size(conn->in, 0);
		conn_flush(conn);
	}
	if (conn->channel && conn->raw->len) {
		g_autoptr(GError) error = NULL;
		if (!channel_open(conn->channel, conn->raw, conn->in, &error)) {
			conn_protocol_error(conn, error->message);
			return FALSE;
		}
	}
	return conn->state != CONN_CLOSED;
}

static gboolean conn_dial_parse_setup(Conn *conn);

static void
conn_parse(Conn *conn)
{
	conn_ref(conn);
	if (conn->dialer ? !conn_dial_parse_setup(conn) : !conn_parse_handshake(conn)) {
		conn_unref(conn);
		return;
	}
	gsize off = 0;
	while (conn->state != CONN_CLOSED) {
		const guint8 *p = conn->in->data + off;
		gsize avail = conn->in->len - off;
		FrameHeader h;
		guint32 max =
		        conn->state == CONN_OPEN || conn->dialer ? FRAME_MAX : FRAME_MAX_PREHELLO;
		int rc = frame_header_decode(p, avail, max, &h);
		if (rc == 0)
			break;
		if (rc < 0) {
			conn_protocol_error(conn, rc == -EMSGSIZE ? "frame over the size cap"
			                                          : "malformed frame header");
			break;
		}
		if (avail < FRAME_HEADER_SIZE + h.len)
			break;
		if (h.type == FRAME_OPEN && !conn->dialer && conn_output_full(conn)) {
			/* The client is not reading what it asked for: take no new
			 * request until it does. Frames of open streams before this
			 * one were handled (credit among them), so output drains. */
			conn->read_paused = TRUE;
			ev_io_stop(EV_DEFAULT, &conn->rio);
			break;
		}
		off += FRAME_HEADER_SIZE + h.len;
		if (!conn_on_frame(conn, &h, p + FRAME_HEADER_SIZE))
			break;
	}
	if (conn->state != CONN_CLOSED && off > 0)
		g_byte_array_remove_range(conn->in, 0, (guint)off);
	conn_unref(conn);
}

static void
conn_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	Conn *conn = w->data;
	gsize budget = CONN_READ_BUDGET;
	conn->last_active = ev_now(loop);
	conn_ref(conn);
	while (budget > 0 && conn->state != CONN_CLOSED && !conn->read_paused) {
		GByteArray *buf = conn->channel ? conn->raw : conn->in;
		guint old = buf->len;
		g_byte_array_set_size(buf, old + CONN_READ_CHUNK);
		ssize_t r = read(conn->fd, buf->data + old, CONN_READ_CHUNK);
		g_byte_array_set_size(buf, old + (r > 0 ? (guint)r : 0));
		if (r == 0) {
			conn_parse(conn);
			conn_close(conn, NULL);
			break;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(conn, g_strerror(errno));
			break;
		}
		budget -= MIN(budget, (gsize)r);
		conn_parse(conn);
		if ((gsize)r < CONN_READ_CHUNK)
			break;
	}
	conn_unref(conn);
}

static void
conn_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	Conn *conn = w->data;
	conn_ref(conn);
	conn_flush(conn);
	conn_unref(conn);
}

static void
conn_on_hello_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	Conn *conn = w->data;
	conn_close(conn, "no HELLO in time");
}

static char *
conn_format_peer(const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN] = "?";
	guint port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
		return g_strdup_printf("%s:%u", host, port);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
		return g_strdup_printf("[%s]:%u", host, port);
	}
	return g_strdup("unix");
}

/* Drops the oldest connections that have not finished HELLO beyond the cap. */
static void
transport_limit_unverified(void)
{
	guint n = 0;
	for (GList *l = transport.conns; l; l = l->next)
		if (((Conn *)l->data)->state < CONN_OPEN && !((Conn *)l->data)->dialer)
			n++;
	for (GList *l = g_list_last(transport.conns); l && n > CONN_MAX_UNVERIFIED;) {
		GList *prev = l->prev;
		Conn *conn = l->data;
		if (conn->state < CONN_OPEN && !conn->dialer) {
			conn_close(conn, "too many unfinished handshakes: dropped the oldest");
			n--;
		}
		l = prev;
	}
}

/*
 * Closes one accepted connection to make room: one that has spent over a
 * second on its handshake (a client that does not finish it), else the one
 * idle longest among those with no stream open, else the oldest still in
 * its handshake. FALSE when every connection is busy. @except is spared.
 */
static gboolean
transport_shed_one(Conn *except, const char *why)
{
	ev_tstamp now = ev_now(EV_DEFAULT);
	Conn *slow = NULL, *idle = NULL, *young = NULL;
	for (GList *l = transport.conns; l; l = l->next) {
		Conn *conn = l->data;
		if (conn == except || conn->dialer || conn->broken || conn->state == CONN_CLOSED)
			continue;
		if (conn->state < CONN_OPEN) {
			/* The list is newest first: the last one seen is the oldest. */
			if (now - conn->last_active > 1.0)
				slow = conn;
			young = conn;
		} else if (g_hash_table_size(conn->streams) == 0 &&
		           (!idle || conn->last_active < idle->last_active)) {
			idle = conn;
		}
	}
	Conn *victim = slow ? slow : idle ? idle : young;
	if (!victim)
		return FALSE;
	conn_close(victim, why);
	return TRUE;
}

static void
transport_on_accept_backoff(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_io_start(loop, &transport.accept_io);
	if (transport.unix_fd > 0)
		ev_io_start(loop, &transport.unix_io);
}

/*
 * accept() ran out of descriptors: make room by shedding a connection, or
 * refuse the waiting one with the spare descriptor; if neither is possible
 * stop accepting for a moment instead of spinning. One log line a second.
 */
static gboolean
transport_on_emfile(int listen_fd, int err)
{
	gint64 now = g_get_monotonic_time();
	if (now - transport.emfile_logged >= G_USEC_PER_SEC) {
		if (transport.emfile_suppressed)
			g_warning("accept: %s (%u more since the last line); shedding idle "
			          "connections",
			          g_strerror(err), transport.emfile_suppressed);
		else
			g_warning("accept: %s; shedding idle connections", g_strerror(err));
		transport.emfile_logged = now;
		transport.emfile_suppressed = 0;
	} else {
		transport.emfile_suppressed++;
	}
	if (transport_shed_one(NULL, "out of file descriptors: closed the idlest connection"))
		return TRUE;
	if (transport.spare_fd >= 0) {
		close(transport.spare_fd);
		transport.spare_fd = -1;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd); /* refused: every connection is busy */
		transport.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return TRUE;
	}
	ev_io_stop(EV_DEFAULT, &transport.accept_io);
	if (transport.unix_fd > 0)
		ev_io_stop(EV_DEFAULT, &transport.unix_io);
	ev_timer_stop(EV_DEFAULT, &transport.accept_backoff);
	ev_timer_set(&transport.accept_backoff, 0.1, 0.);
	ev_timer_start(EV_DEFAULT, &transport.accept_backoff);
	return FALSE;
}

/* The address of @peer without its port ("127.0.0.1:4242" -> "127.0.0.1"). */
static char *
conn_source_of(const char *peer)
{
	const char *colon = strrchr(peer, ':');
	return colon ? g_strndup(peer, (gsize)(colon - peer)) : g_strdup(peer);
}

/* Closes connections that hold no stream and were quiet for the idle timeout. */
static void
transport_on_idle_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	double limit = transport.limits.idle_timeout;
	if (limit <= 0)
		return;
	ev_tstamp now = ev_now(loop);
	for (GList *l = transport.conns; l;) {
		Conn *conn = l->data;
		l = l->next;
		if (!conn->dialer && conn->state == CONN_OPEN && !conn->broken &&
		    g_hash_table_size(conn->streams) == 0 && now - conn->last_active > limit)
			conn_close(conn, "idle");
	}
}

/* Who is calling on accepted @fd: a local account when the kernel can say
 * (the unix socket; TCP from this host), else NULL (decided later: a key,
 * or an address). */
static Caller *
transport_local_caller(int fd, gboolean unix_socket, const char *peer)
{
	uid_t uid = 0;
	gid_t gid = 0;
	if (unix_socket)
		return transport_unix_peer(fd, &uid, &gid) ? caller_new_local(uid, gid, peer)
		                                           : NULL;
	if (transport.keys)
		return NULL; /* the key names the caller */
	if (!transport_tcp_peer_uid(fd, &uid))
		return NULL;
	return caller_new_local(uid, (gid_t)-1, peer);
}

static void
transport_on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	gboolean unix_socket = w == &transport.unix_io;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(w->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) &&
			    transport_on_emfile(w->fd, errno))
				continue;
			return;
		}
		if (!unix_socket) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			wire_socket_set_liveness(fd, transport.limits.liveness);
		}
		Conn *conn = g_new0(Conn, 1);
		conn->refcount = 1;
		conn->fd = fd;
		conn->unix_socket = unix_socket;
		conn->peer = unix_socket ? g_strdup("unix") : conn_format_peer(&ss);
		conn->caller = transport_local_caller(fd, unix_socket, conn->peer);
		/* Local accounts share no address: each is its own source. */
		conn->source = unix_socket && conn->caller
		                       ? g_strdup_printf("unix uid %" G_GINT64_FORMAT,
		                                         caller_uid(conn->caller))
		                       : conn_source_of(conn->peer);
		conn->state = CONN_PREAMBLE;
		conn->in = g_byte_array_new();
		conn->raw = g_byte_array_new();
		conn->handlers = transport.handlers;
		conn->last_active = ev_now(loop);
		g_queue_init(&conn->out);
		conn->streams =
		        g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)stream_unref);
		ev_io_init(&conn->rio, conn_on_readable, fd, EV_READ);
		ev_io_init(&conn->wio, conn_on_writable, fd, EV_WRITE);
		ev_timer_init(&conn->hello_timer, conn_on_hello_timeout,
		              transport.keys ? CONN_HANDSHAKE_TIMEOUT : CONN_HELLO_TIMEOUT, 0.);
		ev_timer_init(&conn->close_timer, conn_on_close_timer, 0., 0.);
		ev_timer_init(&conn->resume_timer, conn_on_resume_timer, 0., 0.);
		conn->rio.data = conn->wio.data = conn->hello_timer.data = conn;
		conn->close_timer.data = conn->resume_timer.data = conn;
		transport.conns = g_list_prepend(transport.conns, conn);
		conn->link = transport.conns;
		transport.n_accepted++;
		guint from =
		        GPOINTER_TO_UINT(g_hash_table_lookup(transport.per_source, conn->source));
		g_hash_table_insert(transport.per_source, g_strdup(conn->source),
		                    GUINT_TO_POINTER(from + 1));
		if (from + 1 > transport.limits.max_conns_per_source) {
			g_autofree char *m = g_strdup_printf(
			        "server is busy: %u connections from %s already (circuitd "
			        "--max-conns-per-source)",
			        from, conn->source);
			conn_refuse(conn, FRAME_REFUSE_BUSY, m);
			continue;
		}
		if (transport.n_accepted > transport.limits.max_conns &&
		    !transport_shed_one(conn, "too many connections: closed the idlest")) {
			g_autofree char *m = g_strdup_printf(
			        "server is busy: %u connections open (circuitd --max-conns)",
			        transport.n_accepted - 1);
			conn_refuse(conn, FRAME_REFUSE_BUSY, m);
			continue;
		}
		ev_io_start(EV_DEFAULT, &conn->rio);
		ev_timer_start(EV_DEFAULT, &conn->hello_timer);
		transport_limit_unverified();
	}
}

void
transport_listen(int fd, const TransportHandlers *handlers)
{
	transport.listen_fd = fd;
	transport.handlers = handlers;
	transport.per_source = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	transport.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ev_io_init(&transport.accept_io, transport_on_accept, fd, EV_READ);
	ev_io_start(EV_DEFAULT, &transport.accept_io);
	ev_timer_init(&transport.accept_backoff, transport_on_accept_backoff, 0.1, 0.);
	double sweep = transport.limits.idle_timeout > 0
	                       ? MAX(0.25, MIN(transport.limits.idle_timeout / 4, 30.0))
	                       : 0;
	ev_timer_init(&transport.idle_sweep, transport_on_idle_sweep, sweep, sweep);
	if (sweep > 0)
		ev_timer_start(EV_DEFAULT, &transport.idle_sweep);
}

void
transport_listen_unix(int fd)
{
	transport.unix_fd = fd;
	ev_io_init(&transport.unix_io, transport_on_accept, fd, EV_READ);
	ev_io_start(EV_DEFAULT, &transport.unix_io);
}

void
transport_shutdown(void)
{
	if (transport.unix_fd > 0) {
		ev_io_stop(EV_DEFAULT, &transport.unix_io);
		close(transport.unix_fd);
		transport.unix_fd = -1;
	}
	if (transport.listen_fd > 0) {
		ev_io_stop(EV_DEFAULT, &transport.accept_io);
		ev_timer_stop(EV_DEFAULT, &transport.accept_backoff);
		ev_timer_stop(EV_DEFAULT, &transport.idle_sweep);
		close(transport.listen_fd);
		transport.listen_fd = -1;
	}
	if (transport.spare_fd > 0) {
		close(transport.spare_fd);
		transport.spare_fd = -1;
	}
	while (transport.conns)
		conn_close(transport.conns->data, NULL);
	guard_free(transport.guard);
	transport.guard = NULL;
}

/* ---- outbound connections ------------------------------------------------ */

/* Fails a dialed connection with @code, reported to lost(). */
static void conn_dial_fail(Conn *conn, GIOErrorEnum code, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

static void
conn_dial_fail(Conn *conn, GIOErrorEnum code, const char *format, ...)
{
	if (conn->state == CONN_CLOSED)
		return;
	va_list ap;
	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	if (!conn->lost_error)
		conn->lost_error = g_error_new_literal(G_IO_ERROR, code, message);
	conn_close(conn, NULL);
}

static void
conn_dial_send_hello(Conn *conn)
{
	static const char hello[] = "{\"version\":1,\"role\":\"server\"}";
	conn_send_frame(conn, FRAME_HELLO, 0, hello, sizeof hello - 1);
}

/* The refusal a server sends instead of message 2 or its HELLO. */
static gboolean
conn_dial_refused(Conn *conn)
{
	if (conn->in->len < FRAME_PREAMBLE_SIZE || memcmp(conn->in->data, "CIRC", 4) != 0)
		return FALSE;
	guint8 code = 0;
	int rc = frame_preamble_decode(conn->in->data, &code);
	g_autofree char *reason = g_strndup((const char *)conn->in->data + FRAME_PREAMBLE_SIZE,
	                                    MIN(conn->in->len - FRAME_PREAMBLE_SIZE, 200));
	if (rc == 2)
		conn_dial_fail(conn, G_IO_ERROR_PERMISSION_DENIED, "%s refused us: %s", conn->peer,
		               *reason ? reason : "no reason given");
	else
		conn_dial_fail(conn, G_IO_ERROR_INVALID_DATA, "%s is not a circuit server",
		               conn->peer);
	return TRUE;
}

/*
 * A cookie reply at the start of conn->in: opened with our key, and a new
 * message 1 carrying its MAC sent on the same connection. 1: sent (go on
 * reading); 0: need more bytes, or failed (the dial was failed); -1: not a
 * cookie (a refusal, for conn_dial_refused()).
 */
static int
conn_dial_cookie(Conn *conn)
{
	if (conn->in->len < FRAME_PREAMBLE_SIZE)
		return 0;
	guint8 code = 0;
	if (frame_preamble_decode(conn->in->data, &code) != 2 || code != FRAME_REFUSE_COOKIE)
		return -1;
	if (conn->in->len < FRAME_PREAMBLE_SIZE + CHANNEL_COOKIE_REPLY_LEN)
		return 0;
	guint8 cookie[GUARD_COOKIE_LEN];
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) msg1 = g_byte_array_new();
	if (conn->dial_cookie_used || !conn->dial_msg1 ||
	    !channel_cookie_open(conn->dial_psk, conn->dial_msg1->data,
	                         conn->in->data + FRAME_PREAMBLE_SIZE, cookie, &error)) {
		conn_dial_fail(conn, G_IO_ERROR_PERMISSION_DENIED, "%s: a handshake cookie that %s",
		               conn->peer,
		               conn->dial_cookie_used ? "came twice"
		                                      : "does not open with our key");
		return 0;
	}
	g_byte_array_remove_range(conn->in, 0, FRAME_PREAMBLE_SIZE + CHANNEL_COOKIE_REPLY_LEN);
	conn->dial_cookie_used = TRUE;
	noise_handshake_free(conn->dial_handshake);
	conn->dial_handshake = channel_initiate_cookie(conn->dial_psk, conn->preamble,
	                                               FRAME_PREAMBLE_SIZE, cookie, msg1, &error);
	if (!conn->dial_handshake) {
		conn_dial_fail(conn, G_IO_ERROR_FAILED, "%s", error->message);
		return 0;
	}
	conn_queue_raw(conn, g_bytes_new(msg1->data, msg1->len));
	conn_flush(conn);
	return conn->in->len ? 1 : 0;
}

/* Keyed setup: message 2 (or a refusal). FALSE: stop parsing. */
static gboolean
conn_dial_parse_setup(Conn *conn)
{
	if (conn->state == CONN_DIAL_SETUP && conn->dial_handshake) {
		if (conn->in->len >= 4 && memcmp(conn->in->data, "CIRC", 4) == 0) {
			int cookie = conn_dial_cookie(conn);
			if (cookie < 0)
				conn_dial_refused(conn);
			if (cookie <= 0)
				return FALSE;
		}
		Channel *ch = NULL;
		g_autoptr(GError) error = NULL;
		int rc = channel_initiate_finish(conn->dial_handshake, conn->in, &ch, &error);
		if (rc == 0)
			return FALSE;
		conn->dial_handshake = NULL; /* freed by channel_initiate_finish */
		if (rc < 0) {
			conn_dial_fail(conn, G_IO_ERROR_PERMISSION_DENIED,
			               "%s: key handshake failed: %s", conn->peer, error->message);
			return FALSE;
		}
		conn->channel = ch;
		g_byte_array_append(conn->raw, conn->in->data, conn->in->len);
		g_byte_array_set_size(conn->in, 0);
		conn_dial_send_hello(conn);
	} else if (conn->state == CONN_DIAL_SETUP && !conn->channel && conn_dial_refused(conn)) {
		return FALSE;
	}
	if (conn->channel && conn->raw->len) {
		g_autoptr(GError) error = NULL;
		if (!channel_open(conn->channel, conn->raw, conn->in, &error)) {
			conn_dial_fail(conn, G_IO_ERROR_INVALID_DATA, "%s: %s", conn->peer,
			               error->message);
			return FALSE;
		}
	}
	return conn->state != CONN_CLOSED;
}

static gboolean
conn_dial_on_frame(Conn *conn, const FrameHeader *h, const guint8 *p)
{
	if (conn->state == CONN_DIAL_SETUP) {
		JsonObject *o = h->type == FRAME_HELLO ? wire_json_frame_object(p, h->len) : NULL;
		if (!o) {
			conn_dial_fail(conn, G_IO_ERROR_INVALID_DATA, "%s: no HELLO reply",
			               conn->peer);
			return FALSE;
		}
		conn->state = CONN_OPEN;
		ev_timer_stop(EV_DEFAULT, &conn->hello_timer);
		conn_ref(conn);
		if (conn->dial_funcs)
			conn->dial_funcs->ready(conn, o, conn->dial_data);
		json_object_unref(o);
		gboolean alive = conn->state != CONN_CLOSED;
		conn_unref(conn);
		return alive;
	}
	if (h->type < FRAME_REPLY || h->type > FRAME_RESET || (h->stream & 1u) == 0) {
		conn_dial_fail(conn, G_IO_ERROR_INVALID_DATA, "%s: unexpected %s frame", conn->peer,
		               frame_type_name(h->type));
		return FALSE;
	}
	conn_ref(conn);
	if (conn->dial_funcs)
		conn->dial_funcs->frame(conn, h, p, conn->dial_data);
	gboolean alive = conn->state != CONN_CLOSED;
	conn_unref(conn);
	return alive;
}

/* connect() finished: send the preamble (and Noise message 1). */
static void
conn_dial_connected(Conn *conn)
{
	int err = 0;
	socklen_t len = sizeof err;
	getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		conn_dial_fail(conn,
		               err == ECONNREFUSED ? G_IO_ERROR_CONNECTION_REFUSED
		                                   : g_io_error_from_errno(err),
		               "cannot connect to %s: %s", conn->peer, g_strerror(err));
		return;
	}
	conn->state = CONN_DIAL_SETUP;
	guint8 *pre = conn->preamble;
	frame_preamble_encode(pre, conn->dial_psk ? FRAME_MODE_NOISE : FRAME_MODE_PLAIN);
	conn_queue_raw(conn, g_bytes_new(pre, FRAME_PREAMBLE_SIZE));
	if (conn->dial_psk) {
		g_autoptr(GByteArray) msg1 = g_byte_array_new();
		g_autoptr(GError) error = NULL;
		conn->dial_handshake =
		        channel_initiate(conn->dial_psk, pre, FRAME_PREAMBLE_SIZE, msg1, &error);
		if (!conn->dial_handshake) {
			conn_dial_fail(conn, G_IO_ERROR_FAILED, "%s", error->message);
			return;
		}
		conn->dial_msg1 = g_byte_array_ref(msg1);
		conn_queue_raw(conn, g_bytes_new(msg1->data, msg1->len));
	} else {
		conn_dial_send_hello(conn);
	}
	ev_io_start(EV_DEFAULT, &conn->rio);
	conn_flush(conn);
}

static void
conn_dial_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	Conn *conn = w->data;
	conn_ref(conn);
	if (conn->state == CONN_CONNECTING) {
		ev_io_stop(EV_DEFAULT, &conn->wio);
		ev_io_init(&conn->wio, conn_on_writable, conn->fd, EV_WRITE);
		conn->wio.data = conn;
		conn_dial_connected(conn);
	} else {
		conn_flush(conn);
	}
	conn_unref(conn);
}

static void
conn_dial_on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	Conn *conn = w->data;
	conn_dial_fail(conn, G_IO_ERROR_TIMED_OUT, "%s did not answer in time", conn->peer);
}

Conn *
conn_dial(const char *host, guint16 port, const guint8 *psk, double timeout,
          const ConnDialFuncs *funcs, gpointer user_data, GError **error)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl = 0;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		sl = sizeof *in4;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		sl = sizeof *in6;
	} else {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "%s is not a numeric IP address", host);
		return NULL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "socket: %s",
		            g_strerror(e));
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	wire_socket_set_liveness(fd, transport.limits.liveness);
	Conn *conn = g_new0(Conn, 1);
	conn->refcount = 1;
	conn->fd = fd;
	conn->peer = strchr(host, ':') ? g_strdup_printf("[%s]:%u", host, port)
	                               : g_strdup_printf("%s:%u", host, port);
	conn->state = CONN_CONNECTING;
	conn->dialer = TRUE;
	conn->dial_funcs = funcs;
	conn->dial_data = user_data;
	if (psk) {
		memcpy(conn->dial_key, psk, sizeof conn->dial_key);
		conn->dial_psk = conn->dial_key;
	}
	conn->next_stream = 1;
	conn->in = g_byte_array_new();
	conn->raw = g_byte_array_new();
	g_queue_init(&conn->out);
	conn->streams = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)stream_unref);
	ev_io_init(&conn->rio, conn_on_readable, fd, EV_READ);
	ev_io_init(&conn->wio, conn_dial_on_writable, fd, EV_WRITE);
	ev_timer_init(&conn->hello_timer, conn_dial_on_timeout, timeout, 0.);
	ev_timer_init(&conn->close_timer, conn_on_close_timer, 0., 0.);
	ev_timer_init(&conn->resume_timer, conn_on_resume_timer, 0., 0.);
	conn->rio.data = conn->wio.data = conn->hello_timer.data = conn;
	conn->close_timer.data = conn->resume_timer.data = conn;
	transport.conns = g_list_prepend(transport.conns, conn);
	conn->link = transport.conns;
	ev_timer_start(EV_DEFAULT, &conn->hello_timer);
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0 || errno == EINPROGRESS) {
		ev_io_start(EV_DEFAULT, &conn->wio);
	} else {
		/* Reported from the loop, never inside conn_dial(). */
		int e = errno;
		conn->lost_error =
		        g_error_new(G_IO_ERROR,
		                    e == ECONNREFUSED ? G_IO_ERROR_CONNECTION_REFUSED
		                                      : g_io_error_from_errno(e),
		                    "cannot connect to %s: %s", conn->peer, g_strerror(e));
		ev_timer_stop(EV_DEFAULT, &conn->hello_timer);
		ev_timer_start(EV_DEFAULT, &conn->close_timer);
	}
	return conn;
}

guint32
conn_dial_open(Conn *conn, JsonObject *req, GBytes *body)
{
	JsonNode *root = json_node_init_object(json_node_alloc(), req);
	g_autoptr(JsonGenerator) gen = json_generator_new();
	json_generator_set_root(gen, root);
	gsize len = 0;
	char *text = json_generator_to_data(gen, &len);
	json_node_unref(root);
	g_autoptr(GBytes) json = g_bytes_new_take(text, len);
	return conn_dial_open_raw(conn, json, body);
}

guint32
conn_dial_open_raw(Conn *conn, GBytes *request, GBytes *body)
{
	guint32 id = conn->next_stream;
	conn->next_stream += 2;
	gsize len = 0;
	const char *text = g_bytes_get_data(request, &len);
	if (!body) {
		conn_send_frame(conn, FRAME_OPEN, id, text, len);
		return id;
	}
	gsize n = g_bytes_get_size(body);
	g_autofree guint8 *payload = g_malloc(len + 1 + n);
	memcpy(payload, text, len);
	payload[len] = 0;
	memcpy(payload + len + 1, g_bytes_get_data(body, NULL), n);
	conn_send_frame(conn, FRAME_OPEN, id, payload, len + 1 + n);
	return id;
}

void
conn_dial_send(Conn *conn, FrameType type, guint32 stream, const guint8 *payload, gsize len)
{
	conn_send_frame(conn, type, stream, payload, len);
}

void
conn_dial_close(Conn *conn)
{
	conn->dial_funcs = NULL;
	conn_close(conn, NULL);
}
