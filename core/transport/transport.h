// SPDX-License-Identifier: Apache-2.0
//
// transport.h - circuitd's side of the wire: accepted connections (conn.c)
// and the streams they carry (stream.c). One connection carries many
// streams; each stream direction has its own credit. See docs/protocol.md.
#pragma once

#include "acl/acl.h"
#include "wire/frame.h"

#include <circuit/plugin.h>
#include <ev.h>

/* Default receive window a server grants for a body. */
#define STREAM_BODY_WINDOW (256u * 1024u)

typedef struct Conn Conn;

/* What the daemon plugs into the transport. */
typedef struct {
	/* A new stream was opened by the peer with request @req (transfer none). */
	void (*open)(CircuitStream *stream, JsonObject *req, gpointer user_data);
	/* The HELLO reply object to send (transfer full). */
	JsonObject *(*hello)(gpointer user_data);
	gpointer user_data;
} TransportHandlers;

/*
 * Makes the server keyed: every connection must run Noise_NNpsk0 with one
 * of @n_keys 32-byte keys (copied). Call before transport_listen().
 */
void transport_set_keys(const guint8 *keys, gsize n_keys, const char *const *names);

/* What one client may cost the server (flags of circuitd). */
typedef struct {
	/* Bytes queued for one connection before its streams stop producing
	 * and the server stops reading its requests. */
	gsize conn_output_max;
	/* Accepted connections at once, and from one source address. */
	guint max_conns;
	guint max_conns_per_source;
	/* Seconds a verified connection that holds no stream may stay open
	 * (0: as long as it likes; at the caps the idlest goes first). */
	double idle_timeout;
	/* Seconds a connection may go unanswered (TCP keepalive and user
	 * timeout) before it is given up; 0: the kernel's defaults. */
	guint liveness;
	guint handshakes_per_second; /* keyed: answered before cookies are asked (0: default) */
} TransportLimits;

#define TRANSPORT_DEFAULT_CONN_OUTPUT_MAX      (8u << 20)
#define TRANSPORT_DEFAULT_MAX_CONNS            4096u
#define TRANSPORT_DEFAULT_MAX_CONNS_PER_SOURCE 1024u
#define TRANSPORT_DEFAULT_IDLE_TIMEOUT         0.0 /* never: shed only at the caps */

/* Sets the limits (copied); the defaults above hold until then. */
void transport_set_limits(const TransportLimits *limits);

/* Starts listening on @fd (bound, listening, non-blocking). */
void transport_listen(int fd, const TransportHandlers *handlers);
/* Also accepts on the unix socket @fd (after transport_listen()): callers
 * are identified by SO_PEERCRED and need no key even on a keyed server. */
void transport_listen_unix(int fd);
/* (transfer none) (nullable) who is calling on @conn. */
Caller *conn_caller(Conn *conn);
/* (transfer none) (nullable) who asked for @stream: the caller a server
 * vouched for when relayed, else the connection's. */
Caller *stream_caller(CircuitStream *stream);
/* Sets the caller a relaying server vouched for (referenced). */
void stream_set_caller(CircuitStream *stream, Caller *caller);
/* Whether @stream's connection is from a server (HELLO role "server"). */
gboolean stream_from_server(CircuitStream *stream);
/* Stops accepting and closes every connection (their streams get closed()). */
void transport_shutdown(void);
/* Number of open connections. */
/* Keyed servers: adds "Handshakes" (answered, replays refused, cookies
 * sent, bad cookies) to a server anchor's peek. */
void transport_peek(JsonObject *o);

guint transport_conn_count(void);
/* (transfer full) One object per connection, for the server's `stk`. */
JsonArray *transport_stk(void);

/* Stream internals used by the router and the core's own operations. */
/*
 * The stream calls plugin.h offers (core/plugin/stream.c wraps each as its
 * circuit_stream_* function); documented there.
 */
void stream_reply(CircuitStream *stream, JsonNode *result, gboolean failed_outcome);
/* Fails the stream with @code and @message (no reply sent yet: an error reply). */
void stream_fail_message(CircuitStream *stream, int code, const char *message);
void stream_set_funcs(CircuitStream *stream, const CircuitStreamFuncs *funcs, gpointer user_data,
                      GDestroyNotify notify);
const char *stream_peer(CircuitStream *stream);
gsize stream_write_space(CircuitStream *stream);
void stream_write(CircuitStream *stream, const void *data, gsize len);
void stream_write_bytes(CircuitStream *stream, GBytes *bytes);
GBytes *stream_take_unacked(CircuitStream *stream);
void stream_finish(CircuitStream *stream);
void stream_consumed(CircuitStream *stream, gsize len);
CircuitStream *stream_ref(CircuitStream *stream);
void stream_unref(CircuitStream *stream);
/*
 * (transfer full) (nullable) the input the OPEN frame carried after its
 * request. When there was one, the client sends nothing more on the stream.
 */
GBytes *stream_take_inline_body(CircuitStream *stream);
/* (transfer none) the OPEN's JSON text as the client sent it. */
GBytes *stream_request_bytes(CircuitStream *stream);
/* Replaces it (@request: transfer full, nullable: relays re-encode then). */
void stream_set_request_bytes(CircuitStream *stream, GBytes *request);
/* Hands a body that came with the request to the operation: input, then input_end. */
void stream_deliver_inline(CircuitStream *stream, GBytes *body);
/* Grants the peer its first body credit (operations with CIRCUIT_OP_BODY). */
void stream_grant_body(CircuitStream *stream, gsize window);
/* Whether a reply was sent already. */
gboolean stream_replied(CircuitStream *stream);
/* The op log hook: called once with the reply's outcome. */
typedef void (*StreamReplyHook)(CircuitStream *stream, gboolean ok, const char *error,
                                gpointer user_data);
void stream_set_reply_hook(CircuitStream *stream, StreamReplyHook hook, gpointer user_data,
                           GDestroyNotify notify);

/* ---- relays: a client's stream passed through to another server --------- */

/*
 * Frames the client sends on a relayed stream (DATA within the credit it
 * was given, CREDIT, EOF, RESET) go to @fn instead of the stream's funcs;
 * the stream's `closed` callback still runs when it ends.
 */
typedef void (*StreamRelayFn)(CircuitStream *stream, FrameType type, const guint8 *payload,
                              gsize len, gpointer user_data);
void stream_set_relay(CircuitStream *stream, StreamRelayFn fn, gpointer user_data);
/* How many streams of @stream's connection are relayed now. */
guint stream_conn_relayed(CircuitStream *stream);
/* Sends a frame of the other server's to the client (REPLY, DATA, CREDIT, EOF, RESET). */
void stream_relay_send(CircuitStream *stream, FrameType type, const guint8 *payload, gsize len);

/* ---- outbound connections (core/peer) ----------------------------------- */

typedef struct {
	/* The peer's HELLO reply arrived (transfer none): streams may be opened. */
	void (*ready)(Conn *conn, JsonObject *hello, gpointer user_data);
	/* A frame of one of the streams we opened (REPLY, DATA, CREDIT, EOF, RESET). */
	void (*frame)(Conn *conn, const FrameHeader *header, const guint8 *payload,
	              gpointer user_data);
	/* The connection is gone (@error transfer none); @conn dies when this returns. */
	void (*lost)(Conn *conn, const GError *error, gpointer user_data);
} ConnDialFuncs;

/*
 * Connects to @host:@port (numeric) without blocking, with Noise when @psk
 * (32 bytes) is given, and says HELLO. Refused connects report
 * G_IO_ERROR_CONNECTION_REFUSED to lost(); a refusal by the server
 * (keys) G_IO_ERROR_PERMISSION_DENIED; no HELLO within @timeout seconds
 * G_IO_ERROR_TIMED_OUT.
 */
Conn *conn_dial(const char *host, guint16 port, const guint8 *psk, double timeout,
                const ConnDialFuncs *funcs, gpointer user_data, GError **error);
/*
 * Opens a stream with request @req (transfer none) and, if @body is given,
 * the operation's whole input after it; returns the stream's id.
 */
guint32 conn_dial_open(Conn *conn, JsonObject *req, GBytes *body);
/* The same with the request's JSON text as it is (a relay passes a client's on). */
guint32 conn_dial_open_raw(Conn *conn, GBytes *request, GBytes *body);
/* Sends a frame on a stream of ours. */
void conn_dial_send(Conn *conn, FrameType type, guint32 stream, const guint8 *payload, gsize len);
/* Closes a dialed connection; lost() does not run. */
void conn_dial_close(Conn *conn);
