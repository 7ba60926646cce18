// SPDX-License-Identifier: Apache-2.0
//
// peer.c - outbound connections to the other servers: a pool of one
// connection per address, request/response calls (push-pull) and relays
// of clients' streams (forwarding). See peer.h and docs/protocol.md.
#include "peer.h"

#include "wire/error.h"
#include "wire/json.h"
#include "transport/transport.h"
#include "wire/url.h"

#include <string.h>

/* Seconds to connect and finish HELLO. */
#define PEER_DIAL_TIMEOUT 5.0
/* Streams one client connection may have relayed at once (all servers). */
#define PEER_MAX_RELAYED_PER_CLIENT 1024u

/* An outbound connection with no stream for this long is closed. */
#define PEER_IDLE_SECONDS 30.0
/* Window a call grants for the output it collects. */
#define PEER_CALL_WINDOW (1u << 20)
/* Asking others for an unknown server: how many at once, how long each. */
#define PEER_MAX_FINDING  64u
#define PEER_FIND_TIMEOUT 1.0
/* An ID nobody knew is answered "no such server" for this long. */
#define PEER_UNKNOWN_SECONDS 2.0
#define PEER_UNKNOWN_MAX     4096u

typedef struct PeerLink PeerLink;

typedef enum {
	PEER_STREAM_CALL,
	PEER_STREAM_RELAY,
} PeerStreamKind;

/* One stream we open on a link: a call, or a client's stream relayed. */
struct PeerCall {
	PeerStreamKind kind;
	PeerLink *link; /* NULL once detached */
	guint32 id;     /* 0 until opened */
	JsonObject *req;
	gboolean up_local_done, up_remote_done; /* directions on the link */

	/* Calls. */
	GBytes *body;
	gsize body_off;
	guint64 body_credit;
	GByteArray *output;
	gsize max_output;
	ev_timer timer;
	PeerCallDone done;
	gpointer data;
	GError *dial_error;           /* the link could not be made: reported on the next turn */
	PeerRequestDone request_done; /* peer_request(): wants the result */
	JsonNode *result;

	/* Relays. */
	GBytes *inline_body; /* input the client's OPEN carried */
	CircuitStream *client;
	char *server_id;
	gboolean client_eof_pending;
	GPtrArray *finds; /* PeerFind: servers asked where server_id is */
	guint finds_left;
};
typedef struct PeerCall PeerStream;

struct PeerLink {
	char *addr;
	Conn *conn; /* NULL once lost */
	gboolean ready;
	char *remote_id;
	GHashTable *open; /* stream id -> PeerStream */
	GQueue waiting;   /* PeerStream to open once ready */
	ev_timer idle;
};

static struct {
	guint8 psk[32];
	gboolean keyed;
	GHashTable *links; /* addr -> PeerLink */
	PeerLostFn lost_fn;
	gpointer lost_data;
	guint finding;       /* relays waiting for an answer to member.find */
	GHashTable *unknown; /* server ID nobody knew -> ev_now() when to forget it */
} peer;

static void peer_link_lost(Conn *conn, const GError *error, gpointer user_data);
static void peer_link_ready(Conn *conn, JsonObject *hello, gpointer user_data);
static void peer_link_frame(Conn *conn, const FrameHeader *h, const guint8 *p, gpointer user_data);

static const ConnDialFuncs peer_dial_funcs = {
        .ready = peer_link_ready,
        .frame = peer_link_frame,
        .lost = peer_link_lost,
};

void
peer_init(const guint8 *psk)
{
	peer.keyed = psk != NULL;
	if (psk)
		memcpy(peer.psk, psk, sizeof peer.psk);
	if (!peer.links)
		peer.links = g_hash_table_new(g_str_hash, g_str_equal);
}

void
peer_set_lost_hook(PeerLostFn fn, gpointer user_data)
{
	peer.lost_fn = fn;
	peer.lost_data = user_data;
}

/* ---- links --------------------------------------------------------------- */

static void
peer_link_free(PeerLink *link)
{
	ev_timer_stop(EV_DEFAULT, &link->idle);
	g_hash_table_unref(link->open);
	g_free(link->addr);
	g_free(link->remote_id);
	g_free(link);
}

static void
peer_link_on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	PeerLink *link = w->data;
	if (g_hash_table_size(link->open) || !g_queue_is_empty(&link->waiting))
		return;
	g_hash_table_remove(peer.links, link->addr);
	Conn *conn = link->conn;
	link->conn = NULL;
	if (conn)
		conn_dial_close(conn);
	peer_link_free(link);
}

static void
peer_link_check_idle(PeerLink *link)
{
	if (link->conn && g_hash_table_size(link->open) == 0 && g_queue_is_empty(&link->waiting)) {
		ev_timer_set(&link->idle, PEER_IDLE_SECONDS, 0.);
		ev_timer_start(EV_DEFAULT, &link->idle);
	}
}

static PeerLink *
peer_link_get(const char *addr, GError **error)
{
	PeerLink *link = g_hash_table_lookup(peer.links, addr);
	if (link) {
		ev_timer_stop(EV_DEFAULT, &link->idle);
		return link;
	}
	g_auto(Url) url = {0};
	if (!url_parse(addr, FALSE, &url, error))
		return NULL;
	link = g_new0(PeerLink, 1);
	link->addr = g_strdup(addr);
	link->open = g_hash_table_new(NULL, NULL);
	g_queue_init(&link->waiting);
	ev_timer_init(&link->idle, peer_link_on_idle, PEER_IDLE_SECONDS, 0.);
	link->idle.data = link;
	link->conn = conn_dial(url.host, url.port, peer.keyed ? peer.psk : NULL, PEER_DIAL_TIMEOUT,
	                       &peer_dial_funcs, link, error);
	if (!link->conn) {
		peer_link_free(link);
		return NULL;
	}
	g_hash_table_insert(peer.links, link->addr, link);
	return link;
}

/* Takes @s off its link (no frame of its id is delivered any more). */
static void
peer_stream_detach(PeerStream *s)
{
	PeerLink *link = s->link;
	if (!link)
		return;
	s->link = NULL;
	if (s->id)
		g_hash_table_remove(link->open, GUINT_TO_POINTER(s->id));
	else
		g_queue_remove(&link->waiting, s);
	peer_link_check_idle(link);
}

static void
peer_stream_send(PeerStream *s, FrameType type, const guint8 *p, gsize len)
{
	if (!s->link || !s->link->conn || !s->id)
		return;
	if (type == FRAME_EOF || type == FRAME_RESET)
		s->up_local_done = TRUE;
	conn_dial_send(s->link->conn, type, s->id, p, len);
}

/* ---- calls --------------------------------------------------------------- */

static void
peer_call_free(PeerStream *s)
{
	ev_timer_stop(EV_DEFAULT, &s->timer);
	if (s->req)
		json_object_unref(s->req);
	if (s->body)
		g_bytes_unref(s->body);
	if (s->output)
		g_byte_array_unref(s->output);
	g_clear_error(&s->dial_error);
	if (s->result)
		json_node_unref(s->result);
	g_free(s);
}

/* Ends a call: exactly one of @output and @error. */
static void
peer_call_complete(PeerStream *s, GBytes *output, const GError *error)
{
	if (s->id && !s->up_local_done && error)
		peer_stream_send(s, FRAME_RESET, NULL, 0);
	peer_stream_detach(s);
	ev_timer_stop(EV_DEFAULT, &s->timer);
	PeerCallDone done = s->done;
	PeerRequestDone request_done = s->request_done;
	s->done = NULL;
	s->request_done = NULL;
	if (done)
		done(output, error, s->data);
	if (request_done)
		request_done(error ? NULL : s->result, error, s->data);
	peer_call_free(s);
}

static void peer_call_fail(PeerStream *s, GQuark domain, int code, const char *format, ...)
        G_GNUC_PRINTF(4, 5);

static void
peer_call_fail(PeerStream *s, GQuark domain, int code, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autoptr(GError) error = g_error_new_valist(domain, code, format, ap);
	va_end(ap);
	peer_call_complete(s, NULL, error);
}

static void
peer_call_on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	PeerStream *s = w->data;
	if (s->dial_error) {
		g_autoptr(GError) error = g_steal_pointer(&s->dial_error);
		peer_call_complete(s, NULL, error);
		return;
	}
	peer_call_fail(s, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s did not answer in time (%.0f s)",
	               s->link ? s->link->addr : "the server", s->timer.repeat);
}

static void
peer_call_send_body(PeerStream *s)
{
	gsize total = s->body ? g_bytes_get_size(s->body) : 0;
	const guint8 *p = s->body ? g_bytes_get_data(s->body, NULL) : NULL;
	while (s->body_off < total && s->body_credit > 0 && s->link) {
		gsize n = MIN(MIN(total - s->body_off, (gsize)s->body_credit), FRAME_DATA_CHUNK);
		peer_stream_send(s, FRAME_DATA, p + s->body_off, n);
		s->body_off += n;
		s->body_credit -= n;
	}
	if (s->body && s->body_off == total && !s->up_local_done)
		peer_stream_send(s, FRAME_EOF, NULL, 0);
}

/* The error of a REPLY or RESET payload, in the CIRCUIT_ERROR domain. */
static GError *
peer_payload_error(const guint8 *p, gsize len, const char *fallback)
{
	g_autoptr(JsonObject) o = len ? wire_json_frame_object(p, len) : NULL;
	const char *message =
	        o ? json_object_get_string_member_with_default(o, "error", fallback) : fallback;
	const char *code = o ? json_object_get_string_member_with_default(o, "code", NULL) : NULL;
	int c = code ? wire_error_code_from_name(code) : CIRCUIT_ERROR_FAILED;
	return g_error_new_literal(CIRCUIT_ERROR, c < 0 ? CIRCUIT_ERROR_FAILED : c, message);
}

static void
peer_call_frame(PeerStream *s, const FrameHeader *h, const guint8 *p)
{
	if (ev_is_active(&s->timer))
		ev_timer_again(EV_DEFAULT, &s->timer);
	switch (h->type) {
	case FRAME_REPLY: {
		g_autoptr(JsonObject) o = wire_json_frame_object(p, h->len);
		if (!o || !json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
			g_autoptr(GError) e = peer_payload_error(p, h->len, "malformed reply");
			peer_call_complete(s, NULL, e);
		} else if (json_object_has_member(o, "result") && !s->result) {
			s->result = json_node_copy(json_object_get_member(o, "result"));
		}
		break;
	}
	case FRAME_CREDIT:
		if (h->len == 4) {
			s->body_credit += frame_u32_decode(p);
			peer_call_send_body(s);
		}
		break;
	case FRAME_DATA:
		if (s->output->len + h->len > s->max_output) {
			peer_call_fail(s, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
			               "%s sent more than %zu bytes", s->link->addr, s->max_output);
			return;
		}
		g_byte_array_append(s->output, p, h->len);
		if (h->len) {
			guint8 credit[4];
			frame_u32_encode(credit, h->len);
			peer_stream_send(s, FRAME_CREDIT, credit, 4);
		}
		break;
	case FRAME_EOF: {
		s->up_remote_done = TRUE;
		if (!s->up_local_done)
			peer_stream_send(s, FRAME_EOF, NULL, 0); /* the acknowledgement */
		g_autoptr(GBytes) out = g_bytes_new(s->output->data, s->output->len);
		peer_call_complete(s, out, NULL);
		break;
	}
	case FRAME_RESET: {
		s->up_remote_done = s->up_local_done = TRUE;
		g_autoptr(GError) e = peer_payload_error(p, h->len, "reset by the server");
		peer_call_complete(s, NULL, e);
		break;
	}
	default:
		break;
	}
}

PeerCall *
peer_call(const char *addr, JsonObject *req, GBytes *body, gsize max_output, double timeout_s,
          PeerCallDone done, gpointer data)
{
	PeerStream *s = g_new0(PeerStream, 1);
	s->kind = PEER_STREAM_CALL;
	s->req = json_object_ref(req);
	s->body = body ? g_bytes_ref(body) : NULL;
	s->max_output = max_output;
	s->done = done;
	s->data = data;
	/* The timeout is for silence: every frame of the answer restarts it, so
	 * a long answer that keeps coming (a big ls part) is not cut off. */
	ev_timer_init(&s->timer, peer_call_on_timeout, timeout_s, timeout_s);
	s->timer.data = s;
	g_autoptr(GError) error = NULL;
	PeerLink *link = peer_link_get(addr, &error);
	if (!link) {
		/* Completion never runs inside peer_call(): fail on the next turn. */
		s->dial_error = g_steal_pointer(&error);
		ev_timer_set(&s->timer, 0., 0.);
		ev_timer_start(EV_DEFAULT, &s->timer);
		return s;
	}
	s->output = g_byte_array_new();
	s->link = link;
	ev_timer_start(EV_DEFAULT, &s->timer);
	if (link->ready) {
		guint32 window = (guint32)MIN(max_output, (gsize)PEER_CALL_WINDOW);
		json_object_set_int_member(s->req, "window", window ? window : 1);
		s->id = conn_dial_open(link->conn, s->req, NULL);
		g_hash_table_insert(link->open, GUINT_TO_POINTER(s->id), s);
	} else {
		g_queue_push_tail(&link->waiting, s);
	}
	return s;
}

PeerCall *
peer_request(const char *addr, JsonObject *req, double timeout_s, PeerRequestDone done,
             gpointer data)
{
	PeerCall *call = peer_call(addr, req, NULL, 0, timeout_s, NULL, data);
	call->request_done = done;
	return call;
}

void
peer_call_cancel(PeerCall *call)
{
	if (!call)
		return;
	if (call->id && !call->up_local_done)
		peer_stream_send(call, FRAME_RESET, NULL, 0);
	peer_stream_detach(call);
	call->done = NULL;
	call->request_done = NULL;
	peer_call_free(call);
}

/* ---- relays -------------------------------------------------------------- */

static void peer_find_end(PeerStream *s);

/*
 * The client's stream ended (closed callback): let go of the other side.
 * A client that went away (@error) cancels the operation on the owner
 * whatever state its own direction was in: after its input ended (EOF, or
 * the body inside the request) the owner may still hold a blocked send, a
 * stdin or a message in flight for it, and only a RESET releases them.
 */
static void
peer_relay_closed(CircuitStream *stream, const GError *error, gpointer user_data)
{
	PeerStream *s = user_data;
	peer_find_end(s); /* still asking where its server is: stop */
	if (s->id && (!s->up_local_done || (error && !s->up_remote_done)))
		peer_stream_send(s, FRAME_RESET, NULL, 0);
	peer_stream_detach(s);
}

static void
peer_relay_free(gpointer data)
{
	PeerStream *s = data;
	peer_find_end(s);
	peer_stream_detach(s);
	if (s->req)
		json_object_unref(s->req);
	if (s->inline_body)
		g_bytes_unref(s->inline_body);
	g_free(s->server_id);
	g_free(s);
}

static const CircuitStreamFuncs peer_relay_funcs = {
        .closed = peer_relay_closed,
};

/* A frame from the client: pass it on. */
static void
peer_relay_from_client(CircuitStream *stream, FrameType type, const guint8 *p, gsize len,
                       gpointer user_data)
{
	PeerStream *s = user_data;
	if (!s->id) {
		if (type == FRAME_EOF)
			s->client_eof_pending = TRUE;
		return; /* a RESET: the closed callback takes it off the queue */
	}
	peer_stream_send(s, type, p, len);
}

/* A frame from the other server: pass it on to the client. */
static void
peer_relay_frame(PeerStream *s, const FrameHeader *h, const guint8 *p)
{
	if (h->type == FRAME_EOF || h->type == FRAME_RESET)
		s->up_remote_done = TRUE;
	if (h->type == FRAME_RESET)
		s->up_local_done = TRUE;
	CircuitStream *client = stream_ref(s->client);
	if (s->up_local_done && s->up_remote_done)
		peer_stream_detach(s);
	stream_relay_send(client, h->type, p, h->len);
	stream_unref(client);
}

/* The link failed or named another server: fail the client's stream. */
static void peer_relay_fail(PeerStream *s, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);

static void
peer_relay_fail(PeerStream *s, int code, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	peer_stream_detach(s);
	s->up_local_done = s->up_remote_done = TRUE;
	CircuitStream *client = stream_ref(s->client);
	stream_fail_message(client, code, message);
	stream_unref(client);
}

static void
peer_relay_open(PeerStream *s)
{
	PeerLink *link = s->link;
	if (g_strcmp0(link->remote_id, s->server_id) != 0) {
		peer_relay_fail(s, CIRCUIT_ERROR_NOT_FOUND,
		                "no such server %s (the server at %s is now %s)", s->server_id,
		                link->addr, link->remote_id ? link->remote_id : "unnamed");
		return;
	}
	/* The client's request goes on as it came: no second JSON round. */
	GBytes *request = stream_request_bytes(s->client);
	s->id = request ? conn_dial_open_raw(link->conn, request, s->inline_body)
	                : conn_dial_open(link->conn, s->req, s->inline_body);
	g_hash_table_insert(link->open, GUINT_TO_POINTER(s->id), s);
	if (s->client_eof_pending)
		peer_stream_send(s, FRAME_EOF, NULL, 0);
}

/* The relay's half that does not depend on where the server is; NULL (the
 * client's stream failed) when the client has too many relayed streams. */
static PeerStream *
peer_relay_new(CircuitStream *client, const char *server_id, JsonObject *req, GBytes *inline_body)
{
	/* One client may not take the whole shared link to a server. */
	if (stream_conn_relayed(client) >= PEER_MAX_RELAYED_PER_CLIENT) {
		g_autofree char *why = g_strdup_printf(
		        "too many streams relayed for this connection (%u): let some finish first",
		        PEER_MAX_RELAYED_PER_CLIENT);
		stream_fail_message(client, CIRCUIT_ERROR_BUSY, why);
		return NULL;
	}
	PeerStream *s = g_new0(PeerStream, 1);
	s->kind = PEER_STREAM_RELAY;
	s->client = client; /* the stream holds us, not the other way round */
	s->server_id = g_strdup(server_id);
	s->req = json_object_ref(req);
	/* Input carried in the request ends the client's side at once. */
	if (inline_body) {
		s->inline_body = g_bytes_ref(inline_body);
		s->up_local_done = TRUE;
	}
	stream_set_funcs(client, &peer_relay_funcs, s, peer_relay_free);
	stream_set_relay(client, peer_relay_from_client, s);
	return s;
}

/* Puts @s on the link to @addr, opening it there once the link is up. */
static void
peer_relay_attach(PeerStream *s, const char *addr)
{
	g_autoptr(GError) error = NULL;
	PeerLink *link = peer_link_get(addr, &error);
	if (!link) {
		s->up_local_done = s->up_remote_done = TRUE;
		g_autofree char *why =
		        g_strdup_printf("server %s at %s: %s", s->server_id, addr, error->message);
		stream_fail_message(s->client, CIRCUIT_ERROR_DISCONNECTED, why);
		return;
	}
	s->link = link;
	if (link->ready)
		peer_relay_open(s);
	else
		g_queue_push_tail(&link->waiting, s);
}

void
peer_forward(CircuitStream *client, const char *addr, const char *server_id, JsonObject *req,
             GBytes *inline_body)
{
	PeerStream *s = peer_relay_new(client, server_id, req, inline_body);
	if (s)
		peer_relay_attach(s, addr);
}

/* ---- finding a server this one does not know ----------------------------- */

typedef struct {
	PeerStream *s;
	PeerCall *call; /* NULL once answered */
} PeerFind;

/* Stops asking (the calls still out are cancelled). */
static void
peer_find_end(PeerStream *s)
{
	if (!s->finds)
		return;
	for (guint i = 0; i < s->finds->len; i++) {
		PeerFind *f = g_ptr_array_index(s->finds, i);
		if (f->call)
			peer_call_cancel(f->call);
		g_free(f);
	}
	g_clear_pointer(&s->finds, g_ptr_array_unref);
	peer.finding--;
}

static gboolean
peer_find_recently_unknown(const char *server_id)
{
	if (!peer.unknown)
		return FALSE;
	gpointer until = g_hash_table_lookup(peer.unknown, server_id);
	if (!until)
		return FALSE;
	if (*(double *)until > ev_now(EV_DEFAULT))
		return TRUE;
	g_hash_table_remove(peer.unknown, server_id);
	return FALSE;
}

static gboolean
peer_unknown_expired(gpointer key, gpointer value, gpointer now)
{
	return *(double *)value <= *(double *)now;
}

static void
peer_find_note_unknown(const char *server_id)
{
	if (!peer.unknown)
		peer.unknown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	double now = ev_now(EV_DEFAULT);
	if (g_hash_table_size(peer.unknown) >= PEER_UNKNOWN_MAX)
		g_hash_table_foreach_remove(peer.unknown, peer_unknown_expired, &now);
	if (g_hash_table_size(peer.unknown) >= PEER_UNKNOWN_MAX)
		return;
	double *until = g_new(double, 1);
	*until = now + PEER_UNKNOWN_SECONDS;
	g_hash_table_replace(peer.unknown, g_strdup(server_id), until);
}

static void
peer_find_done(JsonNode *result, const GError *error, gpointer data)
{
	PeerFind *f = data;
	PeerStream *s = f->s;
	f->call = NULL;
	JsonObject *o =
	        result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
	const char *addr = o ? json_object_get_string_member_with_default(o, "addr", NULL) : NULL;
	if (addr && *addr) {
		g_autofree char *a = g_strdup(addr);
		peer_find_end(s);
		peer_relay_attach(s, a); /* which checks the ID the server there says */
		return;
	}
	if (--s->finds_left > 0)
		return;
	guint asked = s->finds->len;
	peer_find_end(s);
	peer_find_note_unknown(s->server_id);
	peer_relay_fail(s, CIRCUIT_ERROR_NOT_FOUND,
	                "no such server %s (unknown here and to the %u other server%s asked)",
	                s->server_id, asked, asked == 1 ? "" : "s");
}

gboolean
peer_forward_find(CircuitStream *client, const char *server_id, JsonObject *req,
                  GBytes *inline_body, char **ask)
{
	if (!ask || !ask[0] || peer.finding >= PEER_MAX_FINDING ||
	    peer_find_recently_unknown(server_id))
		return FALSE;
	PeerStream *s = peer_relay_new(client, server_id, req, inline_body);
	if (!s)
		return TRUE;
	s->finds = g_ptr_array_new();
	peer.finding++;
	for (guint i = 0; ask[i]; i++) {
		g_autoptr(JsonObject) q = json_object_new();
		json_object_set_string_member(q, "op", "member.find");
		json_object_set_string_member(q, "path", "/");
		JsonArray *args = json_array_new();
		json_array_add_string_element(args, server_id);
		json_object_set_array_member(q, "args", args);
		PeerFind *f = g_new0(PeerFind, 1);
		f->s = s;
		g_ptr_array_add(s->finds, f);
		f->call = peer_request(ask[i], q, PEER_FIND_TIMEOUT, peer_find_done, f);
	}
	s->finds_left = s->finds->len;
	return TRUE;
}

/* ---- link callbacks ------------------------------------------------------ */

static void
peer_link_ready(Conn *conn, JsonObject *hello, gpointer user_data)
{
	PeerLink *link = user_data;
	link->ready = TRUE;
	link->remote_id = g_strdup(json_object_get_string_member_with_default(hello, "id", NULL));
	PeerStream *s;
	while (link->conn && (s = g_queue_pop_head(&link->waiting))) {
		if (s->kind == PEER_STREAM_RELAY) {
			peer_relay_open(s);
		} else {
			guint32 window = (guint32)MIN(s->max_output, (gsize)PEER_CALL_WINDOW);
			json_object_set_int_member(s->req, "window", window ? window : 1);
			s->id = conn_dial_open(link->conn, s->req, NULL);
			g_hash_table_insert(link->open, GUINT_TO_POINTER(s->id), s);
		}
	}
	peer_link_check_idle(link);
}

static void
peer_link_frame(Conn *conn, const FrameHeader *h, const guint8 *p, gpointer user_data)
{
	PeerLink *link = user_data;
	PeerStream *s = g_hash_table_lookup(link->open, GUINT_TO_POINTER(h->stream));
	if (!s)
		return; /* late frames of a stream we let go */
	if (s->kind == PEER_STREAM_CALL)
		peer_call_frame(s, h, p);
	else
		peer_relay_frame(s, h, p);
}

/*
 * Fails every stream of @link with @error; @link is freed. @gone (nullable)
 * says the server itself is unreachable: relays fail "unavailable" with it.
 */
static void
peer_link_drop_full(PeerLink *link, const GError *error, const char *gone)
{
	g_hash_table_remove(peer.links, link->addr);
	link->conn = NULL;
	GList *all = g_hash_table_get_values(link->open);
	for (GList *l = link->waiting.head; l; l = l->next)
		all = g_list_prepend(all, l->data);
	g_hash_table_remove_all(link->open);
	g_queue_clear(&link->waiting);
	gboolean refused = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
	for (GList *l = all; l; l = l->next) {
		PeerStream *s = l->data;
		s->link = NULL;
		if (s->kind == PEER_STREAM_CALL) {
			peer_call_complete(s, NULL, error);
		} else if (gone) {
			peer_relay_fail(s, CIRCUIT_ERROR_UNAVAILABLE, "%s", gone);
		} else if (refused) {
			peer_relay_fail(s, CIRCUIT_ERROR_NOT_FOUND,
			                "no such server %s (nothing listens at %s any more)",
			                s->server_id, link->addr);
		} else {
			peer_relay_fail(s, CIRCUIT_ERROR_DISCONNECTED, "lost server %s at %s: %s",
			                s->server_id, link->addr, error->message);
		}
	}
	g_list_free(all);
	peer_link_free(link);
}

static void
peer_link_drop(PeerLink *link, const GError *error)
{
	peer_link_drop_full(link, error, NULL);
}

void
peer_server_dead(const char *server_id, const char *addr)
{
	PeerLink *link = peer.links ? g_hash_table_lookup(peer.links, addr) : NULL;
	if (!link || (link->remote_id && strcmp(link->remote_id, server_id) != 0))
		return;
	g_autofree char *gone = g_strdup_printf(
	        "server %s became unreachable: the cluster declared it dead", server_id);
	g_autoptr(GError) error =
	        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE, gone);
	Conn *conn = link->conn;
	link->conn = NULL;
	if (conn)
		conn_dial_close(conn);
	g_info("peer %s: %s", addr, gone);
	peer_link_drop_full(link, error, gone);
}

static void
peer_link_lost(Conn *conn, const GError *error, gpointer user_data)
{
	PeerLink *link = user_data;
	gboolean was_ready = link->ready;
	g_autofree char *addr = g_strdup(link->addr);
	g_info("peer %s: %s", addr, error->message);
	peer_link_drop(link, error);
	if (was_ready && peer.lost_fn)
		peer.lost_fn(addr, peer.lost_data);
}

void
peer_shutdown(void)
{
	if (!peer.links)
		return;
	g_autoptr(GError) error =
	        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CLOSED, "this server is stopping");
	GList *links = g_hash_table_get_values(peer.links);
	for (GList *l = links; l; l = l->next) {
		PeerLink *link = l->data;
		Conn *conn = link->conn;
		link->conn = NULL;
		if (conn)
			conn_dial_close(conn);
		peer_link_drop(link, error);
	}
	g_list_free(links);
	g_clear_pointer(&peer.links, g_hash_table_unref);
	g_clear_pointer(&peer.unknown, g_hash_table_unref);
	memset(peer.psk, 0, sizeof peer.psk);
}
