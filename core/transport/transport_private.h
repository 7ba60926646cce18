// SPDX-License-Identifier: Apache-2.0
//
// transport_private.h - structures shared by conn.c and stream.c only.
#pragma once

#include "transport.h"

typedef enum {
	CONN_CONNECTING, /* dialer: connect() in progress */
	CONN_DIAL_SETUP, /* dialer: waiting for message 2 (keyed) or the HELLO reply */
	CONN_PREAMBLE,
	CONN_HANDSHAKE, /* keyed: waiting for Noise message 1 */
	CONN_HELLO,
	CONN_OPEN,
	CONN_CLOSED,
} ConnState;

struct Conn {
	guint refcount;
	int fd;
	ev_io rio, wio;
	ev_timer hello_timer;
	char *peer;
	ConnState state;
	GByteArray *in;
	GQueue out; /* OutChunk */
	gsize out_bytes;
	/* Output over the cap (transport limits): its streams stopped
	 * producing and, for accepted connections, reading stopped too; both
	 * resume (resume_timer) once the queue is down to half the cap. */
	gboolean out_full;
	gboolean read_paused;
	ev_timer resume_timer;
	ev_tstamp last_active; /* the last read, for shedding the idlest */
	char *source;          /* the peer's address without its port */
	gboolean from_server;  /* its HELLO said role "server" */
	gboolean unix_socket;  /* accepted on the unix socket (--socket) */
	Caller *caller;        /* who is calling (NULL until known) */
	guint n_relayed;       /* its streams passed on to other servers */
	gboolean close_after_flush;
	struct _Channel *channel; /* keyed connections, after the handshake */
	GByteArray *raw;          /* ciphertext not yet opened */
	guint8 preamble[FRAME_PREAMBLE_SIZE];
	gboolean broken;        /* a write failed: closed on the next loop turn */
	gboolean flush_pending; /* queued for the write before the loop waits */
	ev_timer close_timer;
	GHashTable *streams; /* guint32 id -> CircuitStream */
	const TransportHandlers *handlers;
	GList *link; /* in the global connection list */

	/* Outbound connections (conn_dial). */
	gboolean dialer;
	const ConnDialFuncs *dial_funcs;
	gpointer dial_data;
	const guint8 *dial_psk; /* while connecting; points into dial_key */
	guint8 dial_key[32];
	struct _NoiseHandshake *dial_handshake; /* keyed: waiting for message 2 */
	GByteArray *dial_msg1;                  /* the message 1 it answers (framed) */
	gboolean dial_cookie_used;              /* a cookie came once: not twice */
	gboolean cookie_sent;                   /* accepted: we asked for a cookie MAC */
	guint32 next_stream;                    /* odd ids */
	GError *lost_error;
};

struct CircuitStream {
	guint refcount;
	Conn *conn; /* NULL once the connection is gone */
	guint32 id;

	/* Output (server to client). */
	guint64 out_credit;
	GQueue pending; /* GBytes waiting for credit */
	gsize pending_bytes;
	GQueue unacked; /* GBytes sent, not yet credited back */
	gsize unacked_bytes;
	gsize unacked_head_off; /* bytes of the first unacked chunk already acked */
	gboolean reply_sent;
	gboolean eof_queued; /* finish() called: EOF goes after pending */
	gboolean local_done; /* EOF or RESET sent */

	/* Input (client to server). */
	guint64 in_granted; /* credit granted and not yet used */
	gboolean remote_done;

	gboolean closed; /* closed() delivered */
	gboolean in_closed_cb;

	const CircuitStreamFuncs *funcs;
	gpointer user_data;
	GDestroyNotify notify;

	GBytes *inline_body; /* carried by OPEN, until the router takes it */
	GBytes *request;     /* the OPEN's JSON as it came (relays pass it on) */
	Caller *caller;      /* (nullable) a relayed caller; else the connection's */

	StreamRelayFn relay;
	gpointer relay_data;
	gboolean relay_counted; /* in conn->n_relayed */

	StreamReplyHook reply_hook;
	gpointer reply_hook_data;
	GDestroyNotify reply_hook_notify;
};

/* conn.c */
/* Whether @conn's queued output is at its cap: streams produce nothing more for it. */
gboolean conn_output_full(Conn *conn);
void conn_send_frame(Conn *conn, FrameType type, guint32 stream, const void *payload, gsize len);
void conn_send_data(Conn *conn, guint32 stream, GBytes *bytes);
void conn_forget_stream(Conn *conn, CircuitStream *stream);
const char *conn_peer(Conn *conn);

/* peercred.c: the local account at the other end of @fd. */
gboolean transport_unix_peer(int fd, uid_t *uid, gid_t *gid);
gboolean transport_tcp_peer_uid(int fd, uid_t *uid);

/* stream.c */
CircuitStream *stream_new(Conn *conn, guint32 id, guint64 window);
void stream_on_data(CircuitStream *stream, const guint8 *data, gsize len);
void stream_on_credit(CircuitStream *stream, guint32 credit);
void stream_on_eof(CircuitStream *stream);
/* The connection can take output again: flush and tell the element. */
void stream_resume(CircuitStream *stream);
void stream_on_reset(CircuitStream *stream, const char *why);
void stream_on_conn_lost(CircuitStream *stream);
/* A frame the client sent on a relayed stream. */
void stream_relay_receive(CircuitStream *stream, FrameType type, const guint8 *payload, gsize len);
/* Bytes of input the peer may still send (protocol check). */
guint64 stream_in_granted(CircuitStream *stream);
