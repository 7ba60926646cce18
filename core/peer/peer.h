// SPDX-License-Identifier: Apache-2.0
//
// peer.h - circuitd's outbound connections to the other servers of the
// cluster: one pooled connection per server address (keyed with the
// server's first key when it has keys), used to forward clients' streams
// (the client never needs to be reachable) and for the membership
// engine's push-pull exchange. Everything runs on the default loop.
#pragma once

#include <circuit/plugin.h>
#include <glib.h>
#include <json-glib/json-glib.h>

/*
 * Sets the key outbound connections use (@psk: 32 bytes, copied; NULL for
 * plaintext). Call once before any other peer_ function.
 */
void peer_init(const guint8 *psk);
/* Closes every outbound connection; pending calls fail, relays reset. */
void peer_shutdown(void);

/*
 * Called when a connection to @addr that had finished its HELLO closes
 * without us asking (the membership engine's hint to probe that server).
 */
typedef void (*PeerLostFn)(const char *addr, gpointer user_data);
void peer_set_lost_hook(PeerLostFn fn, gpointer user_data);

/* ---- request/response calls (push-pull) --------------------------------- */

typedef struct PeerCall PeerCall;

/*
 * Completion of a call: @output (transfer none) is every byte of output
 * the operation sent, or NULL with @error (transfer none): G_IO_ERROR
 * G_IO_ERROR_CONNECTION_REFUSED when the connect was refused,
 * G_IO_ERROR_TIMED_OUT, G_IO_ERROR_MESSAGE_TOO_LARGE, or the operation's
 * own error (CIRCUIT_ERROR domain). Runs exactly once, never inside
 * peer_call(), never after peer_call_cancel().
 */
typedef void (*PeerCallDone)(GBytes *output, const GError *error, gpointer data);

/*
 * Runs operation @req (a request object as a client sends it in OPEN,
 * transfer none) on the server at @addr ("host:port"), sends @body
 * (nullable) as the operation's input, and collects its output (at most
 * @max_output bytes) until EOF or @timeout_s seconds.
 */
PeerCall *peer_call(const char *addr, JsonObject *req, GBytes *body, gsize max_output,
                    double timeout_s, PeerCallDone done, gpointer data);
/*
 * Like peer_call() for an operation that answers with a result and no
 * output (ls, peek): @done gets the REPLY's result (transfer none,
 * nullable) or an error.
 */
typedef void (*PeerRequestDone)(JsonNode *result, const GError *error, gpointer data);
PeerCall *peer_request(const char *addr, JsonObject *req, double timeout_s, PeerRequestDone done,
                       gpointer data);

/* Cancels @call before its completion ran: @done will not run. */
void peer_call_cancel(PeerCall *call);

/* ---- forwarding ---------------------------------------------------------- */

/*
 * Relays @client (a stream a client opened on this server with request
 * @req and, nullable, the input it carried, both transfer none) to the server @server_id at @addr:
 * the request is opened there as is, and every frame after it is passed through both ways, credit
 * included, so back-pressure holds end to end and nothing is buffered beyond the client's window.
 * Fails the client's stream with "no such server" if the server at @addr has another ID, and with
 * "disconnected" if the connection to it is lost.
 */
void peer_forward(CircuitStream *client, const char *addr, const char *server_id, JsonObject *req,
                  GBytes *inline_body);

/*
 * Like peer_forward() for a server this one does not know: asks the servers
 * at @ask (NULL-terminated "host:port" list, copied) where @server_id is,
 * and relays to the first address one of them gives. Fails the client's
 * stream with "no such server" when none knows it. FALSE (nothing done:
 * answer "no such server" now) when @ask is empty, too many such questions
 * are out already, or @server_id was unknown to everyone in the last 2 s.
 */
gboolean peer_forward_find(CircuitStream *client, const char *server_id, JsonObject *req,
                           GBytes *inline_body, char **ask);

/*
 * The cluster declared @server_id (at @addr) dead: the link to it is closed
 * and every stream on it fails, relays with "unavailable" ("server X became
 * unreachable"), instead of waiting on a host that may never answer.
 */
void peer_server_dead(const char *server_id, const char *addr);
