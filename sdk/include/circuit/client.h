// SPDX-License-Identifier: Apache-2.0
//
// circuit/client.h - libcircuit, the client library. Everything the
// `circuit` CLI does, a C program can do with this header.
//
// The API is blocking. A CircuitClient is thread-compatible: use one from
// one thread at a time (or one client per thread). A client holds one
// connection to the server it dialed, which carries any number of calls at
// once. Calls on another server's paths go through the dialed server; from
// a client's second call for the same server on, they go straight to that
// server over a connection of their own when it can be reached (see
// circuit_client_set_direct() and docs/routing.md).
#pragma once

#include <circuit/error.h>
#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#if defined(__GNUC__)
#define CIRCUIT_CLIENT_EXPORT __attribute__((visibility("default")))
#else
#define CIRCUIT_CLIENT_EXPORT
#endif

/** CIRCUIT_CLIENT_ERROR: GError domain of libcircuit's own failures
 *  (connecting, protocol). Server-side errors use CIRCUIT_ERROR codes
 *  (see plugin.h) carried in the same domain quark "circuit-error". */
#define CIRCUIT_CLIENT_ERROR (circuit_client_error_quark())
CIRCUIT_CLIENT_EXPORT GQuark circuit_client_error_quark(void);

typedef enum {
	CIRCUIT_CLIENT_ERROR_CONNECT,      /**< cannot reach the server */
	CIRCUIT_CLIENT_ERROR_WRONG_SERVER, /**< URL's ID differs: restarted or wrong URL */
	CIRCUIT_CLIENT_ERROR_PROTOCOL,     /**< the peer broke the protocol */
	CIRCUIT_CLIENT_ERROR_TIMEOUT,      /**< a timeout given by the caller expired */
	CIRCUIT_CLIENT_ERROR_ADDRESS,      /**< a URL or address that does not parse */
	CIRCUIT_CLIENT_ERROR_KEY,          /**< key refused, missing, or unreadable */
	CIRCUIT_CLIENT_ERROR_DEADLINE,     /**< a call's deadline passed: cancelled on the server */
	CIRCUIT_CLIENT_ERROR_PERMISSION,   /**< the server does not admit this caller */
} CircuitClientErrorCode;

/** The local server's unix socket (packaged circuitd: --socket), tried
 *  when no address is configured, before 127.0.0.1:11022. */
#define CIRCUIT_DEFAULT_SOCKET "/run/circuit/circuitd.sock"

/** Exit codes of the `circuit` CLI, exported for scripts wrapping it; the
 *  table, case by case, is docs/cli.md's. */
enum {
	CIRCUIT_EXIT_OK = 0,
	CIRCUIT_EXIT_FAILED = 1,         /**< the server refused or the op failed */
	CIRCUIT_EXIT_USAGE = 2,          /**< a usage or configuration mistake */
	CIRCUIT_EXIT_UNREACHABLE = 3,    /**< no server, wrong server, owner unavailable */
	CIRCUIT_EXIT_CLOSED = 4,         /**< end of a closed channel, stream or feed */
	CIRCUIT_EXIT_ELEMENT_FAILED = 5, /**< a waited process/container failed */
	CIRCUIT_EXIT_TIMEOUT = 6,        /**< --timeout passed: the call was cancelled */
};

/**
 * circuit_exit_code: the CIRCUIT_EXIT_* @error (a CIRCUIT_ERROR or
 * CIRCUIT_CLIENT_ERROR) maps to: the one mapping the CLI's exit codes and
 * the Python binding's exception classes both use. Never
 * CIRCUIT_EXIT_OK or CIRCUIT_EXIT_ELEMENT_FAILED (an outcome, not an error).
 */
CIRCUIT_CLIENT_EXPORT int circuit_exit_code(const GError *error);

typedef struct CircuitClient CircuitClient;
typedef struct CircuitCall CircuitCall;

/**
 * CircuitDialOptions: how circuit_client_open() finds and reaches a server.
 * Zero-initialize it ({0}) and set what you need; later versions append
 * fields in the reserved slots.
 */
typedef struct {
	/** (nullable) a circuit URL, `HOST:PORT` or a unix socket path; NULL:
	 *  found as the CLI does: the file named by $CIRCUIT (tilde expanded),
	 *  else ~/.circuit, else the local socket ($CIRCUIT_SOCKET or
	 *  /run/circuit/circuitd.sock) when it exists, else 127.0.0.1:11022. */
	const char *address;
	/** (nullable) a key file: the connection is keyed by its first key;
	 *  NULL: the file named by $CIRCUIT_HMAC, if any, else unkeyed. */
	const char *key_file;
	/** connect timeout in milliseconds; <= 0 for the default (5 s). */
	int timeout_ms;
	int reserved_int;
	gpointer reserved[6];
} CircuitDialOptions;

/**
 * circuit_client_open: (transfer full) the one dial function: connects as
 * @options (nullable: all defaults) say. Errors: CIRCUIT_CLIENT_ERROR
 * (_ADDRESS for an address that cannot be read or parsed, _KEY for key
 * problems: "server requires a key", "server is not keyed", "wrong key")
 * or the connection's own. The circuit_client_dial*() functions below are
 * thin wrappers of it, kept until the end of 1.x.
 */
CIRCUIT_CLIENT_EXPORT CircuitClient *circuit_client_open(const CircuitDialOptions *options,
                                                         GError **error);

/**
 * circuit_client_dial: (transfer full) connects to @address: a circuit URL
 * `circuit://HOST:PORT/PID/X<16 hex>` (the ID is checked; `Q` accepted) or
 * a bare `HOST:PORT`.
 * @timeout_ms: connect timeout, <= 0 for the default (5 s).
 */
CIRCUIT_CLIENT_EXPORT CircuitClient *circuit_client_dial(const char *address, int timeout_ms,
                                                         GError **error);

/**
 * circuit_client_dial_default: (transfer full) finds a server the way the
 * CLI does: @address if not NULL, else the file named by $CIRCUIT (tilde
 * expanded), else ~/.circuit if present, else 127.0.0.1:11022; keyed when
 * $CIRCUIT_HMAC names a key file.
 */
CIRCUIT_CLIENT_EXPORT CircuitClient *circuit_client_dial_default(const char *address,
                                                                 GError **error);

/**
 * circuit_client_dial_key: (transfer full) as circuit_client_dial(), over a
 * Noise_NNpsk0 connection keyed by the first key in @key_file (nullable:
 * no key). Errors with CIRCUIT_CLIENT_ERROR_KEY say "server requires a
 * key", "server is not keyed" or "wrong key".
 */
CIRCUIT_CLIENT_EXPORT CircuitClient *
circuit_client_dial_key(const char *address, const char *key_file, int timeout_ms, GError **error);

/**
 * circuit_client_dial_default_key: (transfer full) as
 * circuit_client_dial_default(), keyed by @key_file, else by the file named
 * in $CIRCUIT_HMAC, else unkeyed.
 */
CIRCUIT_CLIENT_EXPORT CircuitClient *
circuit_client_dial_default_key(const char *address, const char *key_file, GError **error);

/**
 * circuit_discover: (transfer full) asks the multicast group @group
 * ("MCAST:PORT", e.g. "228.8.8.8:7711") for a server started with
 * `--discover` on it, and returns the URL of the first that answers (free
 * with g_free()), ready for circuit_client_dial(). The query is resent with
 * back-off and the call returns by @timeout_ms (<= 0: 2 s) in every case;
 * nothing answering is CIRCUIT_CLIENT_ERROR_TIMEOUT ("no circuit server
 * answered on 228.8.8.8:7711 within 2 s"), a bad @group
 * CIRCUIT_CLIENT_ERROR_ADDRESS.
 * @key_file: (nullable) a keyed cluster's key file: the query is sealed with
 *   its first key and answers are opened with any of its keys; NULL for an
 *   unkeyed cluster (keyed servers ignore unsealed queries).
 */
CIRCUIT_CLIENT_EXPORT char *circuit_discover(const char *group, const char *key_file,
                                             int timeout_ms, GError **error);

/**
 * circuit_discover_checked: (transfer full) circuit_discover(), and says in
 * @authenticated (nullable) whether the answer was sealed with one of
 * @key_file's keys (TRUE), or came unsealed from an unkeyed group (FALSE:
 * anyone on that network could have sent it, and the caller should say so).
 */
CIRCUIT_CLIENT_EXPORT char *circuit_discover_checked(const char *group, const char *key_file,
                                                     int timeout_ms, gboolean *authenticated,
                                                     GError **error);

/** circuit_client_free: closes the connection; NULL is harmless. */
CIRCUIT_CLIENT_EXPORT void circuit_client_free(CircuitClient *client);

/** circuit_client_server_id: (transfer none) "X<16 hex>" of the server. */
CIRCUIT_CLIENT_EXPORT const char *circuit_client_server_id(CircuitClient *client);
/** circuit_client_server_url: (transfer none) the server's URL. */
CIRCUIT_CLIENT_EXPORT const char *circuit_client_server_url(CircuitClient *client);

/**
 * circuit_client_set_direct: whether calls for other servers may go
 * straight to them (the default, unless $CIRCUIT_DIRECT is "0" when the
 * client is dialed). With FALSE every call travels through the dialed
 * server, which forwards it. Either way a call's result is the same; a
 * server the client cannot reach is always used through the dialed one.
 */
CIRCUIT_CLIENT_EXPORT void circuit_client_set_direct(CircuitClient *client, gboolean direct);

/**
 * circuit_client_set_call_timeout: every call opened on @client from now on
 * has a deadline @timeout_ms after it opened (0: none, the default). When
 * it passes, the call is cancelled on the server that executes it, through
 * any relay (a blocked send is withdrawn, a receive takes nothing, a
 * process's stdin is released), and every later step of the call fails
 * with CIRCUIT_CLIENT_ERROR_DEADLINE. The safe replacement for killing a
 * client with timeout(1).
 */
CIRCUIT_CLIENT_EXPORT void circuit_client_set_call_timeout(CircuitClient *client, int timeout_ms);

/** CircuitEntry: one line of `ls`. */
typedef struct {
	char *path; /**< absolute path */
	char *kind; /**< element kind, "server", or NULL for an empty anchor */
	/** (nullable) on a server's line of `ls /...`: why its tree is missing
	 *  (it did not answer in time). */
	char *error;
	/** (nullable) a server's address and state as the listing server sees it
	 *  ("alive", "suspect"); NULL on other lines. */
	char *addr;
	char *state;
	/** (nullable) an element's status object (circuit_ls_status() only, and
	 *  kinds that have one): what `ls -l` shows. */
	JsonNode *status;
} CircuitEntry;

/**
 * circuit_ls: (transfer full) lists the anchors under @path (children, or
 * every descendant when @recursive), as a GPtrArray of CircuitEntry* that
 * frees its elements.
 */
CIRCUIT_CLIENT_EXPORT GPtrArray *circuit_ls(CircuitClient *client, const char *path,
                                            gboolean recursive, GError **error);

/**
 * circuit_ls_status: as circuit_ls(), and each element's entry carries its
 * status (what `circuit ls -l` shows: a process's phase and pid, a
 * channel's pending messages...).
 */
CIRCUIT_CLIENT_EXPORT GPtrArray *circuit_ls_status(CircuitClient *client, const char *path,
                                                   gboolean recursive, GError **error);

/** circuit_peek: (transfer full) the element's (or server's) description. */
CIRCUIT_CLIENT_EXPORT JsonNode *circuit_peek(CircuitClient *client, const char *path,
                                             GError **error);

/**
 * circuit_make: creates an element of @kind at @path, creating missing
 * anchors. @args: (nullable) NULL-terminated. @body/@body_len: (nullable)
 * the request body (e.g. proc's JSON spec) when the kind takes one.
 */
CIRCUIT_CLIENT_EXPORT gboolean circuit_make(CircuitClient *client, const char *kind,
                                            const char *path, const char *const *args,
                                            const void *body, gsize body_len, GError **error);

/** circuit_scrub: removes the element at @path and releases what it holds. */
CIRCUIT_CLIENT_EXPORT gboolean circuit_scrub(CircuitClient *client, const char *path,
                                             GError **error);

/* Calls: one operation stream ------------------------------------------- */

/**
 * circuit_call_open: (transfer full) starts operation @verb on @path.
 * The special verbs "mk<kind>" make an element. @args: (nullable).
 * Returns once the request is sent.
 */
CIRCUIT_CLIENT_EXPORT CircuitCall *circuit_call_open(CircuitClient *client, const char *verb,
                                                     const char *path, const char *const *args,
                                                     GError **error);

/**
 * circuit_call_open_input: (transfer full) as circuit_call_open(), for an
 * operation whose whole input is @data/@len (a channel message, a spec):
 * up to 48 KiB it travels inside the request, so the call costs one frame
 * and pipelined calls leave back to back; a larger input is written as
 * circuit_call_write() would (waiting for the server's credit). The call's
 * input is closed when this returns.
 */
CIRCUIT_CLIENT_EXPORT CircuitCall *
circuit_call_open_input(CircuitClient *client, const char *verb, const char *path,
                        const char *const *args, const void *data, gsize len, GError **error);

/**
 * circuit_call_wants_body: blocks until the server either asks for a body
 * (TRUE) or replies without one (FALSE, also on error with @error set).
 */
CIRCUIT_CLIENT_EXPORT gboolean circuit_call_wants_body(CircuitCall *call, GError **error);

/**
 * circuit_call_wants_body_timeout: as circuit_call_wants_body(), waiting at
 * most @timeout_ms (< 0: no bound). When it passes first, FALSE with
 * CIRCUIT_CLIENT_ERROR_TIMEOUT: the call is untouched and may be asked
 * again (a caller waits in slices to look at signals in between).
 */
CIRCUIT_CLIENT_EXPORT gboolean circuit_call_wants_body_timeout(CircuitCall *call, int timeout_ms,
                                                               GError **error);

/** circuit_call_write: sends body bytes, blocking on flow control. */
CIRCUIT_CLIENT_EXPORT gboolean circuit_call_write(CircuitCall *call, const void *data, gsize len,
                                                  GError **error);

/**
 * circuit_call_write_some: sends as much of @data as the server's credit
 * lets it within @timeout_ms (< 0: no bound; 0: only what credit allows
 * now). Returns the count sent, all of @len unless the time passed first;
 * -1 with @error set if nothing could be sent in time
 * (CIRCUIT_CLIENT_ERROR_TIMEOUT: the call stays usable) or the call failed.
 */
CIRCUIT_CLIENT_EXPORT gssize circuit_call_write_some(CircuitCall *call, const void *data, gsize len,
                                                     int timeout_ms, GError **error);

/** circuit_call_close_write: ends the body. */
CIRCUIT_CLIENT_EXPORT gboolean circuit_call_close_write(CircuitCall *call, GError **error);

/**
 * circuit_call_reply: blocks for the operation's reply.
 * @result: (out) (transfer full) (nullable) the JSON result, if any.
 * @failed_outcome: (out) (nullable) TRUE when the operation observed a
 *   failure (a waited process exited non-zero).
 * @timeout_ms: < 0 waits forever.
 * Returns FALSE with @error set (domain "circuit-error", code a
 * CircuitErrorCode) when the server answered with an error.
 */
CIRCUIT_CLIENT_EXPORT gboolean circuit_call_reply(CircuitCall *call, JsonNode **result,
                                                  gboolean *failed_outcome, int timeout_ms,
                                                  GError **error);

/**
 * circuit_call_read: reads output bytes. Returns the count, 0 at the end
 * of output, -1 on error. Credit for what was read goes back to the server
 * on the next read or on circuit_call_free(), so a reader that dies loses
 * nothing it did not read.
 */
CIRCUIT_CLIENT_EXPORT gssize circuit_call_read(CircuitCall *call, void *buf, gsize len,
                                               int timeout_ms, GError **error);

/**
 * circuit_call_free: ends the call. If the output was read to its end,
 * this acknowledges it; otherwise the call is reset (the server keeps
 * what was not read). NULL is harmless.
 */
CIRCUIT_CLIENT_EXPORT void circuit_call_free(CircuitCall *call);

/**
 * circuit_call_finish: ends the call as circuit_call_free() does, and says
 * whether its acknowledgement could be sent: FALSE (and @error) when the
 * output was read whole but the connection was already gone, so the server
 * never learns it arrived (a channel gives the message to the next
 * receiver; docs/chan.md says what a script should do). The call is freed
 * either way.
 */
CIRCUIT_CLIENT_EXPORT gboolean circuit_call_finish(CircuitCall *call, GError **error);

/**
 * circuit_call_abort: ends the call without acknowledging the bytes the last
 * circuit_call_read() returned (the application could not use them, e.g. its
 * stdout failed): the server keeps them for the next reader, and a channel
 * message goes back. NULL is harmless.
 */
CIRCUIT_CLIENT_EXPORT void circuit_call_abort(CircuitCall *call);

/**
 * circuit_keygen: (transfer full) a fresh 256-bit key from libgcrypt's
 * strong random generator, as one line of base64 (what `circuit keygen`
 * prints and key files hold). Free with circuit_keygen_free().
 */
CIRCUIT_CLIENT_EXPORT char *circuit_keygen(GError **error);
CIRCUIT_CLIENT_EXPORT void circuit_keygen_free(char *key);

/* Channels ---------------------------------------------------------------- */

/** circuit_chan_send: sends one message; returns once it is accepted.
 *  @timeout_ms < 0 waits forever. */
CIRCUIT_CLIENT_EXPORT gboolean circuit_chan_send(CircuitClient *client, const char *path,
                                                 const void *data, gsize len, int timeout_ms,
                                                 GError **error);
/** circuit_chan_recv: (transfer full) receives one message; NULL with
 *  code CIRCUIT_ERROR_CLOSED (5) at the end of a closed channel. */
CIRCUIT_CLIENT_EXPORT GBytes *circuit_chan_recv(CircuitClient *client, const char *path,
                                                int timeout_ms, GError **error);
/** circuit_chan_close: closes the channel for sending. */
CIRCUIT_CLIENT_EXPORT gboolean circuit_chan_close(CircuitClient *client, const char *path,
                                                  GError **error);

G_END_DECLS
