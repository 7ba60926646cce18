// SPDX-License-Identifier: Apache-2.0
//
// transport.h - circuitd's side of the wire: accepted connections (conn.c)
// and the streams they carry (stream.c). One connection carries many
// streams; each stream direction has its own credit. See docs/protocol.md.
#pragma once

#include "frame.h"

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
void transport_set_keys(const guint8 *keys, gsize n_keys);

/* Starts listening on @fd (bound, listening, non-blocking). */
void transport_listen(int fd, const TransportHandlers *handlers);
/* Stops accepting and closes every connection (their streams get closed()). */
void transport_shutdown(void);
/* Number of open connections. */
guint transport_conn_count(void);

/* Stream internals used by the router and the core's own operations. */
CircuitStream *stream_ref(CircuitStream *stream);
void stream_unref(CircuitStream *stream);
/* Grants the peer its first body credit (operations with CIRCUIT_OP_BODY). */
void stream_grant_body(CircuitStream *stream, gsize window);
/* Sends an error reply (or reset) built from a code and a message. */
void stream_fail_code(CircuitStream *stream, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);
/* Whether a reply was sent already. */
gboolean stream_replied(CircuitStream *stream);
/* The op log hook: called once with the reply's outcome. */
typedef void (*StreamReplyHook)(CircuitStream *stream, gboolean ok, const char *error,
                                gpointer user_data);
void stream_set_reply_hook(CircuitStream *stream, StreamReplyHook hook, gpointer user_data,
                           GDestroyNotify notify);
