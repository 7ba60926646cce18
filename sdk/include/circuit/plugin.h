// SPDX-License-Identifier: Apache-2.0
//
// circuit/plugin.h - the plugin SDK: the one header where circuitd and an
// element-kind plugin meet.
//
// A plugin is a shared object named <kind>.so that exports exactly one
// symbol, circuit_plugin_<kind>, a const CircuitPluginDescriptor made with
// CIRCUIT_PLUGIN_DEFINE().  The core loads it with GModule, checks the ABI,
// the kind and duplicates (in that order) and only then calls into it.
//
// Threading: everything here runs on the core's single event loop thread.
// Plugins never start threads or loops; they ask the core for fd, timer and
// child-process watches instead.  No libev type appears in this header.
//
// ABI history (minor versions only append; a plugin built for an older minor
// loads unchanged, one built for a newer minor is refused). Released: 1.0
// and 1.1. 1.2 is under development (unreleased): until it is released its
// additions may still change: circuit_inlet_is_closed() was removed again,
// circuit_delivery_new() became circuit_stream_deliver() (the stream owns
// the delivery), and circuit_outlet_new()/circuit_inlet_new() took a
// GDestroyNotify. Every symbol a plugin uses is bound when it loads, so a
// plugin needing a function its host lacks is refused at load, naming it;
// a plugin that uses newer calls only when present declares them weak and
// asks circuit_host_abi_minor() first.
//   1.0  the descriptor, elements, streams, watches, logging.
//   1.1  CIRCUIT_MAKE_ASYNC and circuit_element_created().
//   1.2  descriptor `aliases` (one plugin, several element kinds, e.g. the
//        subscription plugin's "@join" and "@leave"), circuit_element_kind(),
//        and the membership feed: circuit_host_members(),
//        circuit_host_watch_members(), circuit_host_unwatch_members(),
//        and acknowledged delivery: circuit_stream_deliver(),
//        circuit_delivery_start(), circuit_delivery_abort(),
//        circuit_stream_write_bytes(), outlets and inlets (an element's
//        byte outputs, one reader at a time, nothing lost between readers,
//        and inputs, one writer at a time, credited as bytes enter the
//        sink): circuit_outlet_*(), circuit_inlet_*(), and the spec
//        readers circuit_spec_load(), circuit_spec_string(),
//        circuit_spec_strv(), circuit_spec_bool(), and circuit_json_load()
//        (any JSON document, with the host's size and nesting limits),
//        descriptor `peek_plugin` (the kind's own state in the server's
//        peek) and circuit_host_set_unavailable() (a kind that comes and
//        goes with what it depends on, e.g. a container engine), an
//        outlet's kept tail: circuit_outlet_tail(), circuit_outlet_serve_tail()
//        and the outlet callback `unread`, circuit_watch_child_states()
//        (a child's stops and continues too), and descriptor `status`
//        (what `circuit ls -l` and `circuit top` show per element).
//
// Ownership annotations follow GObject-introspection conventions:
// (transfer full) the receiver owns the value, (transfer none) it does not,
// (nullable) NULL is allowed.
#pragma once

#include <circuit/error.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/** CIRCUIT_PLUGIN_ABI_MAJOR: must equal the host's; bumped on any break. */
#define CIRCUIT_PLUGIN_ABI_MAJOR 1
/** CIRCUIT_PLUGIN_ABI_MINOR: may be lower than the host's (fields appended). */
#define CIRCUIT_PLUGIN_ABI_MINOR 2

#define CIRCUIT_PLUGIN_EXPORT CIRCUIT_EXPORT

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* CIRCUIT_ERROR and CircuitErrorCode: circuit/error.h. */

/* ------------------------------------------------------------------------ */
/* Opaque handles owned by the core                                          */

/** CircuitHost: the core, as one plugin sees it. Valid from init to fini. */
typedef struct CircuitHost CircuitHost;
/** CircuitElement: one element at one anchor. Reference counted by the core. */
typedef struct CircuitElement CircuitElement;
/** CircuitStream: one operation in progress, with its byte streams. */
typedef struct CircuitStream CircuitStream;
/** CircuitWatch: an fd, timer or child-process watch. */
typedef struct CircuitWatch CircuitWatch;

/* ------------------------------------------------------------------------ */
/* Operations a kind offers                                                  */

/** CircuitOpFlags: what an operation does with its stream. */
typedef enum {
	CIRCUIT_OP_NONE = 0,
	/** The operation reads a request body (the client's stdin). The core
	 *  grants the client credit only for such operations. */
	CIRCUIT_OP_BODY = 1 << 0,
	/** The operation streams output bytes after its reply. */
	CIRCUIT_OP_OUTPUT = 1 << 1,
	/** (make_flags only, ABI 1.1) create() only starts the element: the mk
	 *  operation replies when the plugin calls circuit_element_created(). */
	CIRCUIT_MAKE_ASYNC = 1 << 2,
	/** (make_flags only, ABI 1.2) only the aliases make elements: mk<kind>
	 *  of the plugin's own name is refused by the host, and help lists the
	 *  aliases alone (the subscription plugin: mk@join, mk@leave). */
	CIRCUIT_MAKE_ALIASES_ONLY = 1 << 3,
} CircuitOpFlags;

/**
 * CircuitOpFunc:
 * @element: (transfer none): the element the operation targets.
 * @element_ctx: (transfer none) (nullable): the context create() returned.
 * @stream: (transfer none): the operation's stream; valid until its
 *   `closed` callback has returned (see CircuitStreamFuncs), or, if the
 *   plugin never sets funcs, until the plugin has called
 *   circuit_stream_reply() + circuit_stream_finish() or circuit_stream_fail().
 * @args: (transfer none): positional arguments (already checked against
 *   the declared min/max count), NULL-terminated.
 *
 * Runs one operation. The plugin must eventually reply (or fail) and
 * finish the stream, or do so when the client goes away.
 */
typedef void (*CircuitOpFunc)(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
                              const char *const *args);

/**
 * CircuitOp: one named operation, e.g. "stdout" of proc. The CLI sends
 * `circuit NAME PATH ARGS...` to it without knowing the kind.
 */
typedef struct {
	const char *name;       /**< (transfer none) verb, e.g. "signal" */
	const char *args_usage; /**< (transfer none) e.g. "SIGNAL" or "" */
	const char *summary;    /**< (transfer none) one line of help */
	guint min_args;         /**< positional arguments accepted */
	guint max_args;
	guint flags; /**< CircuitOpFlags */
	CircuitOpFunc run;
	gpointer reserved[4];
} CircuitOp;

/**
 * CircuitPluginOption: (ABI 1.2) one key the plugin reads with
 * circuit_host_option(), set with `circuitd --plugin-option KIND.KEY=VALUE`.
 * A plugin that declares its keys gets every other KIND.KEY refused at
 * start, and each value checked, with one line naming the flag; `circuitd
 * --help-plugin KIND` lists them. Keys may also come from `--plugin-options
 * FILE` (KIND.KEY=VALUE lines), which SIGHUP reads again: a changed value of
 * a RELOADABLE key that passes its check takes effect then.
 */
typedef struct {
	const char *key;         /**< e.g. "user" for proc.user; NULL ends the array */
	const char *value_usage; /**< e.g. "NAME" */
	const char *summary;     /**< one line for --help-plugin */
	/** check: (nullable) FALSE with one line why when @value will not do. */
	gboolean (*check)(const char *value, GError **error);
	/** CIRCUIT_OPTION_RELOADABLE: a new value in --plugin-options FILE
	 *  takes effect on SIGHUP (the descriptor's reconfigure() is called). */
	guint flags;
	gpointer reserved[1];
} CircuitPluginOption;

/** CircuitOptionFlags: CircuitPluginOption.flags. */
typedef enum {
	CIRCUIT_OPTION_RELOADABLE = 1 << 0,
} CircuitOptionFlags;

/* ------------------------------------------------------------------------ */
/* The descriptor                                                            */

/**
 * CircuitPluginDescriptor: what a plugin exports. Starts with the ABI
 * version, ends with reserved slots; fields never move within a major.
 */
typedef struct {
	guint32 abi_major; /**< CIRCUIT_PLUGIN_ABI_MAJOR at build time */
	guint32 abi_minor; /**< CIRCUIT_PLUGIN_ABI_MINOR at build time */
	const char *kind;  /**< (transfer none) must equal the file name */
	const char *version;
	const char *summary; /**< one line for `circuit help` */

	/**
	 * init: (nullable) called once after the checks pass. May fail
	 * (e.g. an engine that is unreachable); the server then starts
	 * without this kind and logs the reason. *plugin_ctx is passed to
	 * fini and is reachable with circuit_host_plugin_ctx().
	 */
	gboolean (*init)(CircuitHost *host, gpointer *plugin_ctx, GError **error);
	/** fini: (nullable) called at shutdown after every element is gone. */
	void (*fini)(gpointer plugin_ctx);

	/** Usage of `mk<kind> PATH ARGS` past PATH, e.g. "CAP" (may be ""). */
	const char *make_args_usage;
	guint make_min_args;
	guint make_max_args;
	/** CIRCUIT_OP_BODY if create() takes a body (e.g. proc's JSON spec). */
	guint make_flags;

	/**
	 * create: build the element. @body is the whole request body
	 * (transfer none, nullable when make_flags lacks CIRCUIT_OP_BODY).
	 * On failure returns FALSE with @error set; no element is left behind.
	 * On success *element_ctx becomes the element's context, freed by
	 * destroy().
	 */
	gboolean (*create)(CircuitElement *element, const char *const *args, GBytes *body,
	                   gpointer *element_ctx, GError **error);

	/** peek: (transfer full) a JSON description, shown pretty by the CLI. */
	JsonNode *(*peek)(CircuitElement *element, gpointer element_ctx);

	/**
	 * scrub: the element has been removed from its anchor. Release what it
	 * holds (fail blocked streams, stop servers, kill processes). The
	 * plugin may keep working asynchronously while holding a reference
	 * (circuit_element_ref()); destroy() runs after the last reference
	 * is dropped.
	 */
	void (*scrub)(CircuitElement *element, gpointer element_ctx);

	/** destroy: free the element context. Runs after the last callback. */
	void (*destroy)(gpointer element_ctx);

	const CircuitOp *ops; /**< (transfer none) array of n_ops operations */
	guint n_ops;

	/**
	 * aliases: (ABI 1.2) (transfer none) (nullable) further element kinds
	 * this plugin makes, NULL-terminated, e.g. {"@join", "@leave", NULL}:
	 * `mk@join PATH` finds the plugin by its alias, and create() learns
	 * which kind was asked for with circuit_element_kind(). An alias must
	 * not be another loaded plugin's kind or alias (the loader refuses the
	 * plugin). Read only from plugins built for ABI 1.2 or later; it takes
	 * the first reserved slot of 1.1, so older plugins have NULL here.
	 */
	const char *const *aliases;

	/**
	 * peek_plugin: (ABI 1.2) (nullable) (transfer full) the kind's own
	 * state for the server's peek (e.g. which engine it talks to), shown
	 * under "Kinds" -> kind. Runs only after init() succeeded. Read only
	 * from plugins built for ABI 1.2 or later (the second reserved slot of
	 * 1.1).
	 */
	JsonNode *(*peek_plugin)(CircuitHost *host, gpointer plugin_ctx);

	/**
	 * options: (ABI 1.2) (transfer none) (nullable) the keys of
	 * `--plugin-option KIND.KEY=VALUE` this plugin reads, ended by an
	 * entry whose key is NULL. NULL: the plugin declares none, and any
	 * KIND.KEY is passed through unchecked.
	 */
	const CircuitPluginOption *options;

	/**
	 * reconfigure: (ABI 1.2) (nullable) a reloadable option changed (SIGHUP):
	 * circuit_host_option() answers the new values now; read them again.
	 * Runs only after init() succeeded.
	 */
	void (*reconfigure)(CircuitHost *host, gpointer plugin_ctx);

	/**
	 * status: (ABI 1.2) (nullable) (transfer full) what a person checks
	 * first about the element, as a small JSON object of a few scalar
	 * members in the order they should be shown (a process: Phase, Pid,
	 * ExitCode; a channel: Pending, Cap, Closed). `circuit ls -l`, `ls
	 * --json -l` and `circuit top` show it for every element they list, so
	 * it must be cheap: no I/O but what the element already holds, or
	 * reads of /proc. Read only from plugins built for ABI 1.2 or later
	 * (the fifth reserved slot of 1.1).
	 */
	JsonNode *(*status)(CircuitElement *element, gpointer element_ctx);

	gpointer reserved[3];
} CircuitPluginDescriptor;

/**
 * CIRCUIT_PLUGIN_DEFINE:
 * @kind_: the kind, a bare C identifier equal to the file name (proc.so).
 * @...: designated initializers of the remaining descriptor fields.
 *
 * Defines and exports the plugin's one symbol, circuit_plugin_<kind_>.
 */
#define CIRCUIT_PLUGIN_DEFINE(kind_, ...)                                                          \
	CIRCUIT_PLUGIN_EXPORT const CircuitPluginDescriptor circuit_plugin_##kind_ = {             \
	        .abi_major = CIRCUIT_PLUGIN_ABI_MAJOR,                                             \
	        .abi_minor = CIRCUIT_PLUGIN_ABI_MINOR,                                             \
	        .kind = #kind_,                                                                    \
	        __VA_ARGS__}

/* ------------------------------------------------------------------------ */
/* Host                                                                      */

/** circuit_host_plugin_ctx: (transfer none) the ctx init() stored. */
CIRCUIT_PLUGIN_EXPORT gpointer circuit_host_plugin_ctx(CircuitHost *host);
/** circuit_host_server_id: (transfer none) e.g. "X88550014d4c82e4d". */
CIRCUIT_PLUGIN_EXPORT const char *circuit_host_server_id(CircuitHost *host);
/** circuit_host_server_addr: (transfer none) the server's host address
 *  (no port), e.g. "127.0.0.1". */
CIRCUIT_PLUGIN_EXPORT const char *circuit_host_server_addr(CircuitHost *host);
/**
 * circuit_host_option: (transfer none) (nullable) a daemon option meant
 * for plugins, e.g. "docker-host". NULL when not set.
 */
CIRCUIT_PLUGIN_EXPORT const char *circuit_host_option(CircuitHost *host, const char *name);

/**
 * circuit_host_abi_minor: (ABI 1.2) the host's CIRCUIT_PLUGIN_ABI_MINOR,
 * which may be newer than the plugin's: calls of later minors are there
 * when it is at least theirs.
 */
CIRCUIT_PLUGIN_EXPORT guint circuit_host_abi_minor(CircuitHost *host);

/**
 * circuit_host_set_unavailable: (ABI 1.2) marks the kind unavailable with
 * @why (one line, e.g. "the engine at /run/docker.sock did not answer"), or
 * available again with NULL. While unavailable, mk<kind> fails with
 * CIRCUIT_ERROR_UNAVAILABLE and @why, and the server's peek lists the kind
 * under "Unavailable"; elements already made keep working. Callable from
 * init() (which then returns TRUE: the kind stays loaded, its fini runs)
 * and at any time later; each change is logged once.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_host_set_unavailable(CircuitHost *host, const char *why);

/* ------------------------------------------------------------------------ */
/* Membership (ABI 1.2)                                                      */

/** CircuitMemberEvent: what happened to a server of the cluster. */
typedef enum {
	CIRCUIT_MEMBER_JOIN,  /**< a server became a member (new, or back from dead) */
	CIRCUIT_MEMBER_LEAVE, /**< a member died or left: once per departure */
} CircuitMemberEvent;

/**
 * CircuitMemberFunc:
 * @event: join or leave.
 * @server_path: (transfer none) the server's anchor, "/X<16 hex>".
 * @user_data: as given to circuit_host_watch_members().
 *
 * Runs on the loop thread. It may call circuit_host_unwatch_members(),
 * even for its own watch.
 */
typedef void (*CircuitMemberFunc)(CircuitMemberEvent event, const char *server_path,
                                  gpointer user_data);

/**
 * circuit_host_members: (ABI 1.2) (transfer full) the anchor paths
 * ("/X<16 hex>") of every server this server sees as a member (alive or
 * suspected), this server first; NULL-terminated, free with g_strfreev().
 * All servers share one membership view, so this is the cluster's list.
 * A server running alone (no cluster) lists itself only.
 */
CIRCUIT_PLUGIN_EXPORT char **circuit_host_members(CircuitHost *host);

/**
 * circuit_host_watch_members: (ABI 1.2) calls @fn for every membership
 * change from now on: each server that joins, and exactly once each
 * departure. Changes that are not joins or departures (suspicion, a new
 * address) are not reported. @destroy (nullable) frees @user_data when the
 * watch is removed: by circuit_host_unwatch_members(), or when the server
 * stops its membership (at shutdown), after which @fn never runs again.
 *
 * Returns: the watch id (> 0), or 0 if this server has no membership at
 * all (then nothing is kept and @destroy does not run). A server running
 * alone (no cluster started) has membership, itself only: the id is valid
 * and @fn never runs.
 */
CIRCUIT_PLUGIN_EXPORT guint circuit_host_watch_members(CircuitHost *host, CircuitMemberFunc fn,
                                                       gpointer user_data, GDestroyNotify destroy);

/**
 * circuit_host_unwatch_members: (ABI 1.2) removes the watch @id (its
 * destroy notify runs). An unknown or already removed @id, or 0, is
 * harmless.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_host_unwatch_members(CircuitHost *host, guint id);

/* ------------------------------------------------------------------------ */
/* Elements                                                                  */

/** circuit_element_host: (transfer none) */
CIRCUIT_PLUGIN_EXPORT CircuitHost *circuit_element_host(CircuitElement *element);
/** circuit_element_path: (transfer none) absolute path, e.g. "/X.../a/b".
 *  Stays valid while the element lives, even after scrub. */
CIRCUIT_PLUGIN_EXPORT const char *circuit_element_path(CircuitElement *element);
/**
 * circuit_element_kind: (ABI 1.2) (transfer none) the kind the element was
 * made as: the plugin's kind, or the alias the mk named (e.g. "@join").
 * `ls -l` and peek show it. Valid while the element lives.
 */
CIRCUIT_PLUGIN_EXPORT const char *circuit_element_kind(CircuitElement *element);
/** circuit_element_ref: (transfer full) keeps the element (and its context)
 *  alive, e.g. while a process runs after scrub. */
CIRCUIT_PLUGIN_EXPORT CircuitElement *circuit_element_ref(CircuitElement *element);
/** circuit_element_unref: drops a reference; the last one runs destroy(). */
CIRCUIT_PLUGIN_EXPORT void circuit_element_unref(CircuitElement *element);
/** circuit_element_is_scrubbed: TRUE once removed from its anchor. */
CIRCUIT_PLUGIN_EXPORT gboolean circuit_element_is_scrubbed(CircuitElement *element);
/**
 * circuit_element_caller_permits: (ABI 1.2) during create() only: whether
 * the caller that asked for the element may use @right with @value under
 * the server's access rules (docs/security.md), e.g. ("user", "alice") or
 * ("group", "staff") for a spec that names the account a job runs as.
 * Without an --acl file only root, the server's own account and key
 * holders may. FALSE outside create().
 */
CIRCUIT_PLUGIN_EXPORT gboolean circuit_element_caller_permits(CircuitElement *element,
                                                              const char *right, const char *value);
/**
 * circuit_element_scrub: removes the element from its anchor as the scrub
 * operation would (plugin scrub() is called). Used for self-removal, e.g.
 * proc with "Scrub": true. Harmless if already scrubbed.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_element_scrub(CircuitElement *element);

/**
 * circuit_element_created: (ABI 1.1) for kinds with CIRCUIT_MAKE_ASYNC:
 * reports how the creation create() started ended. With @error (transfer
 * none, nullable) the mk operation fails with it and the element is
 * scrubbed; without, the mk operation succeeds. Call it once.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_element_created(CircuitElement *element, const GError *error);

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */

/**
 * CircuitStreamFuncs: callbacks of one stream. Every member may be NULL.
 * @input: body bytes arrived (only for CIRCUIT_OP_BODY). The plugin owns
 *   nothing of @data past the call; it must copy what it keeps and later
 *   return credit with circuit_stream_consumed().
 * @input_end: the client finished its body (operations with CIRCUIT_OP_BODY),
 *   or, for an operation still producing output, the client ended its side.
 *   Once the plugin has finished its output, the client's end arrives as
 *   `closed` with a NULL error instead: that is the acknowledgement that the
 *   whole output arrived (a channel's recv relies on it).
 * @writable: circuit_stream_write_space() became non-zero.
 * @closed: the stream is gone: @error is NULL if both sides finished
 *   cleanly, otherwise why (client disconnected, reset). No callback runs
 *   after this one and the stream pointer dies when it returns.
 */
typedef struct {
	void (*input)(CircuitStream *stream, const guint8 *data, gsize len, gpointer user_data);
	void (*input_end)(CircuitStream *stream, gpointer user_data);
	void (*writable)(CircuitStream *stream, gpointer user_data);
	void (*closed)(CircuitStream *stream, const GError *error, gpointer user_data);
	gpointer reserved[4];
} CircuitStreamFuncs;

/**
 * circuit_stream_set_funcs: installs callbacks. @funcs is (transfer none)
 * and must outlive the stream (use a static const). @notify frees
 * @user_data after `closed` has run.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_set_funcs(CircuitStream *stream,
                                                    const CircuitStreamFuncs *funcs,
                                                    gpointer user_data, GDestroyNotify notify);

/** circuit_stream_peer: (transfer none) who asked, e.g. "127.0.0.1:4242". */
CIRCUIT_PLUGIN_EXPORT const char *circuit_stream_peer(CircuitStream *stream);

/**
 * circuit_stream_reply: sends the operation's one reply.
 * @result: (transfer full) (nullable): the JSON result (printed by the CLI).
 * @failed_outcome: the operation worked but reports a failure of what it
 *   observed (e.g. wait on a process that exited non-zero); the CLI then
 *   exits with its "waited element failed" code.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_reply(CircuitStream *stream, JsonNode *result,
                                                gboolean failed_outcome);

/**
 * circuit_stream_done: (ABI 1.2) circuit_stream_reply() then
 * circuit_stream_finish(): an operation with one reply and no output.
 * @result: (transfer full) (nullable).
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_done(CircuitStream *stream, JsonNode *result,
                                               gboolean failed_outcome);

/**
 * circuit_stream_fail: (transfer none) @error ends the operation with an
 * error: as its reply if none was sent, else as a reset of the stream.
 * The stream is finished from the plugin's side afterwards.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_fail(CircuitStream *stream, const GError *error);

/**
 * circuit_stream_fail_printf: (ABI 1.2) as circuit_stream_fail() with a
 * CIRCUIT_ERROR of @code and a printf-style one-line message, without the
 * GError the caller would make and free.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_fail_printf(CircuitStream *stream, int code,
                                                      const char *format, ...) G_GNUC_PRINTF(3, 4);

/** circuit_stream_write_space: output bytes that may be written now. */
CIRCUIT_PLUGIN_EXPORT gsize circuit_stream_write_space(CircuitStream *stream);

/**
 * circuit_stream_write: queues output (after the reply). @data is copied.
 * Writing more than circuit_stream_write_space() is allowed but buffers in
 * the server; well-behaved plugins wait for `writable`.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_write(CircuitStream *stream, const void *data, gsize len);

/**
 * circuit_stream_write_bytes: (ABI 1.2) as circuit_stream_write(), without
 * the copy: the stream takes references to @bytes (transfer none), which
 * must not change.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_write_bytes(CircuitStream *stream, GBytes *bytes);

/**
 * circuit_stream_take_unacked: (transfer full) (nullable) during `closed`
 * with an error: the output bytes sent but never acknowledged by the
 * client, in order, so they can be given to the next reader. NULL if none.
 */
CIRCUIT_PLUGIN_EXPORT GBytes *circuit_stream_take_unacked(CircuitStream *stream);

/** circuit_stream_finish: end of output; the plugin side is done. */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_finish(CircuitStream *stream);

/**
 * circuit_stream_consumed: returns @len bytes of body credit to the
 * client, which may then send more. Withholding it is back-pressure.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_stream_consumed(CircuitStream *stream, gsize len);

/* ------------------------------------------------------------------------ */
/* Acknowledged delivery (ABI 1.2)                                           */

/**
 * CircuitDelivery: one receiving operation's stream, from waiting for a
 * message to the client's acknowledgement of it (chan's and the
 * subscription's recv). The client acknowledges the whole message by
 * sending its EOF after the server's (docs/protocol.md); until then the
 * message is still the caller's, to put back if the client goes away.
 * Owned by its stream: valid until @notify has released the user data.
 */
typedef struct CircuitDelivery CircuitDelivery;

/**
 * CircuitDeliveredFunc:
 * @delivery: (transfer none): the delivery, ending.
 * @acked: TRUE once the client acknowledged the whole message (its EOF
 *   after ours). FALSE if the client went away before that (reset,
 *   disconnect, an EOF before it had everything, or before any message was
 *   started): a started message is then the caller's to put back.
 * @error: (transfer none) (nullable): why the stream went away, if it did
 *   with an error.
 * @user_data: as given to circuit_stream_deliver().
 *
 * Runs exactly once per delivery, unless circuit_delivery_abort() ended it
 * first; it may run inside circuit_delivery_start() (the client may have
 * acknowledged already). The user data is released (@notify) after it,
 * once the stream is gone.
 */
typedef void (*CircuitDeliveredFunc)(CircuitDelivery *delivery, gboolean acked, const GError *error,
                                     gpointer user_data);

/**
 * circuit_stream_deliver: (ABI 1.2) (transfer none: owned by @stream)
 * takes over @stream (an
 * operation with CIRCUIT_OP_OUTPUT that has not replied) to deliver one
 * message, once the caller has one: the stream waits until
 * circuit_delivery_start(). Installs the stream's callbacks (as
 * circuit_stream_set_funcs(), whose previous @notify runs); @done reports
 * the end, and @notify (nullable) frees @user_data when the stream is gone.
 */
CIRCUIT_PLUGIN_EXPORT CircuitDelivery *circuit_stream_deliver(CircuitStream *stream,
                                                              CircuitDeliveredFunc done,
                                                              gpointer user_data,
                                                              GDestroyNotify notify);

/**
 * circuit_delivery_start: (ABI 1.2) replies ok with @result (transfer
 * full, nullable), writes @message (transfer none; a reference is taken)
 * as the client's window allows, in pieces of at most 64 KiB, and finishes
 * the output; done() then reports whether the client acknowledged it. Only
 * for a waiting delivery whose done() has not run.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_delivery_start(CircuitDelivery *delivery, JsonNode *result,
                                                  GBytes *message);

/**
 * circuit_delivery_abort: (ABI 1.2) ends a delivery that is still waiting
 * or still writing its message: the stream fails with @code and @message
 * (its reply, or a reset after the reply), done() will not run, and a
 * started message is the caller's (to drop). Returns TRUE then; the user
 * data may already be released when it returns. Returns FALSE and changes
 * nothing once the whole message is written (only the acknowledgement is
 * missing: done() will report it) or once done() ran.
 */
CIRCUIT_PLUGIN_EXPORT gboolean circuit_delivery_abort(CircuitDelivery *delivery,
                                                      CircuitErrorCode code, const char *message);

/* ------------------------------------------------------------------------ */
/* Outlets and inlets (ABI 1.2)                                              */

/**
 * CircuitOutlet: one byte output of an element (a process's stdout, a
 * container's stderr), read by one client at a time. The plugin reads its
 * source only while circuit_outlet_space() is non-zero and hands what it
 * read to circuit_outlet_write(), so without a reader the producer is held
 * up, not dropped. Bytes a reader never acknowledged (it went away) come
 * first for the next reader. Owned by the plugin; free it in destroy().
 */
typedef struct CircuitOutlet CircuitOutlet;

typedef struct {
	/**
	 * ended: whether the source has ended, asked once everything held
	 * was written to the reader; if it ended with an error, sets @error
	 * (transfer none). The reader then finishes, or fails with
	 * "<name> of <path>: <error's message>" and the error's code.
	 */
	gboolean (*ended)(CircuitOutlet *outlet, const GError **error, gpointer user_data);
	/**
	 * resume: (nullable) nothing is held and the reader can take more:
	 * read from the source again.
	 */
	void (*resume)(CircuitOutlet *outlet, gpointer user_data);
	/**
	 * unread: (ABI 1.2) (nullable) (transfer full) what the source holds
	 * that was not read from it yet, without taking it (proc copies its
	 * pipe's contents with tee(2)), or NULL: circuit_outlet_tail() shows
	 * it after what passed.
	 */
	GBytes *(*unread)(CircuitOutlet *outlet, gpointer user_data);
	gpointer reserved[3]; /* later minors append callbacks here: keep NULL */
} CircuitOutletFuncs;

/**
 * circuit_outlet_new: (ABI 1.2) (transfer full) an outlet named @name
 * ("stdout") of @element; @funcs (transfer none) must outlive it; @notify
 * (nullable) frees @user_data when the outlet is freed.
 */
CIRCUIT_PLUGIN_EXPORT CircuitOutlet *circuit_outlet_new(CircuitElement *element, const char *name,
                                                        const CircuitOutletFuncs *funcs,
                                                        gpointer user_data, GDestroyNotify notify);
/** circuit_outlet_free: (ABI 1.2) frees the outlet and what it holds. */
CIRCUIT_PLUGIN_EXPORT void circuit_outlet_free(CircuitOutlet *outlet);
/**
 * circuit_outlet_serve: (ABI 1.2) the read operation (CIRCUIT_OP_OUTPUT):
 * @stream becomes the reader, or fails with CIRCUIT_ERROR_BUSY while
 * another client reads.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_outlet_serve(CircuitOutlet *outlet, CircuitStream *stream);
/** circuit_outlet_space: (ABI 1.2) bytes the source may give now (0 with
 *  no reader, or while anything is held). */
CIRCUIT_PLUGIN_EXPORT gsize circuit_outlet_space(CircuitOutlet *outlet);
/** circuit_outlet_write: (ABI 1.2) bytes from the source: to the reader as
 *  its window allows, the rest held (copied). */
CIRCUIT_PLUGIN_EXPORT void circuit_outlet_write(CircuitOutlet *outlet, const void *data, gsize len);
/** circuit_outlet_held: (ABI 1.2) bytes held, not yet written to a reader. */
CIRCUIT_PLUGIN_EXPORT gsize circuit_outlet_held(CircuitOutlet *outlet);
/** CIRCUIT_OUTLET_TAIL: (ABI 1.2) how many of the last bytes that passed
 *  an outlet it keeps for circuit_outlet_tail() (64 KiB). */
#define CIRCUIT_OUTLET_TAIL (64u * 1024u)
/**
 * circuit_outlet_tail: (ABI 1.2) (transfer full) the last @max bytes
 * (CIRCUIT_OUTLET_TAIL at most) of the output: of what passed through
 * circuit_outlet_write(), whether a reader took it or not, followed by
 * what the source's `unread` gives. Takes nothing from a reader.
 */
CIRCUIT_PLUGIN_EXPORT GBytes *circuit_outlet_tail(CircuitOutlet *outlet, gsize max);
/**
 * circuit_outlet_serve_tail: (ABI 1.2) the tail operation
 * (CIRCUIT_OP_OUTPUT, args "[-n BYTES] [--NAME]"): replies, writes
 * circuit_outlet_tail() of the first of @outlets (transfer none,
 * NULL-terminated), or of the one named NAME, and finishes. -n BYTES (a
 * positive number, more than is kept is all that is kept) defaults to
 * CIRCUIT_OUTLET_TAIL. Other arguments fail the stream with
 * CIRCUIT_ERROR_USAGE and one line.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_outlet_serve_tail(CircuitOutlet *const *outlets,
                                                     CircuitStream *stream,
                                                     const char *const *args);
/**
 * CIRCUIT_OUTLET_TAIL_OP: (ABI 1.2) the CircuitOp of a `tail` served by
 * circuit_outlet_serve_tail() over the outlets "stdout" then "stderr"
 * (proc's, docker's); @run is the plugin's op, @summary its line of help.
 */
#define CIRCUIT_OUTLET_TAIL_OP(run_, summary_)                                                     \
	{                                                                                          \
		.name = "tail", .args_usage = "[-n BYTES] [--stderr]", .summary = (summary_),      \
		.max_args = 3, .flags = CIRCUIT_OP_OUTPUT, .run = (run_)                           \
	}
/**
 * circuit_outlet_pump: (ABI 1.2) writes what is held as the reader's window
 * allows, then asks `ended`: call it when the source ended or its state
 * changed.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_outlet_pump(CircuitOutlet *outlet);

/**
 * CircuitInlet: one byte input of an element (a process's stdin), written
 * by one client at a time. The writer's credit comes back only as bytes
 * enter the sink (back-pressure); a writer that goes away leaves what it
 * sent buffered for the sink; the writer's EOF ends the sink once all is
 * in, and only then is the writer answered. Owned by the plugin.
 */
typedef struct CircuitInlet CircuitInlet;

typedef struct {
	/**
	 * write: puts up to @len bytes into the sink; returns how many it took,
	 * 0 if none now (call circuit_inlet_flush() once it can take more), or
	 * -1 with @error set (its message as the writer should see it) when the
	 * sink failed: the inlet is then closed.
	 */
	gssize (*write)(CircuitInlet *inlet, const guint8 *data, gsize len, gpointer user_data,
	                GError **error);
	/**
	 * end: the writer ended its input and all of it is in the sink: end
	 * the sink (close the pipe). FALSE if that cannot happen yet: call
	 * circuit_inlet_flush() when it can.
	 */
	gboolean (*end)(CircuitInlet *inlet, gpointer user_data);
	gpointer reserved[4]; /* later minors append callbacks here: keep NULL */
} CircuitInletFuncs;

/**
 * circuit_inlet_new: (ABI 1.2) (transfer full) an inlet named @name
 * ("stdin") of @element; @funcs (transfer none) must outlive it; @notify
 * (nullable) frees @user_data when the inlet is freed.
 */
CIRCUIT_PLUGIN_EXPORT CircuitInlet *circuit_inlet_new(CircuitElement *element, const char *name,
                                                      const CircuitInletFuncs *funcs,
                                                      gpointer user_data, GDestroyNotify notify);
/** circuit_inlet_free: (ABI 1.2) frees the inlet and what it buffers. */
CIRCUIT_PLUGIN_EXPORT void circuit_inlet_free(CircuitInlet *inlet);
/**
 * circuit_inlet_serve: (ABI 1.2) the write operation (CIRCUIT_OP_BODY):
 * @stream becomes the writer, or fails with CIRCUIT_ERROR_BUSY while
 * another client writes, or CIRCUIT_ERROR_CLOSED once the input ended.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_inlet_serve(CircuitInlet *inlet, CircuitStream *stream);
/** circuit_inlet_flush: (ABI 1.2) the sink can take more: moves buffered
 *  bytes into it, and ends it if the writer ended. */
CIRCUIT_PLUGIN_EXPORT void circuit_inlet_flush(CircuitInlet *inlet);
/**
 * circuit_inlet_close: (ABI 1.2) the sink is gone (or the element failed):
 * drops what is buffered, fails the writer with @error (transfer none) as
 * it is, and refuses later writers as closed.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_inlet_close(CircuitInlet *inlet, const GError *error);

/* ------------------------------------------------------------------------ */
/* Specs (ABI 1.2)                                                           */

/*
 * Reading the JSON object a mk<kind> takes on standard input (proc's and
 * docker's specs). Every error is CIRCUIT_ERROR_INVALID, one line naming
 * @what (e.g. "process spec") and the key.
 */

/**
 * circuit_spec_load: (ABI 1.2) (transfer full) the JSON object in @text
 * (@len bytes), or NULL: nothing given ("expected JSON like @example"),
 * not JSON, or not an object.
 */
CIRCUIT_PLUGIN_EXPORT JsonNode *circuit_spec_load(const char *text, gsize len, const char *what,
                                                  const char *example, GError **error);
/** circuit_spec_string: (ABI 1.2) a string member into *@out (replaced);
 *  with @nullable, null clears it. */
CIRCUIT_PLUGIN_EXPORT gboolean circuit_spec_string(JsonNode *value, const char *what,
                                                   const char *key, gboolean nullable, char **out,
                                                   GError **error);
/** circuit_spec_strv: (ABI 1.2) an array of strings into *@out (replaced;
 *  null gives an empty one). */
CIRCUIT_PLUGIN_EXPORT gboolean circuit_spec_strv(JsonNode *value, const char *what, const char *key,
                                                 char ***out, GError **error);
/** circuit_spec_bool: (ABI 1.2) true or false into *@out. */
CIRCUIT_PLUGIN_EXPORT gboolean circuit_spec_bool(JsonNode *value, const char *what, const char *key,
                                                 gboolean *out, GError **error);

/**
 * circuit_json_load: (ABI 1.2) (transfer full) the JSON document in @text
 * (@len bytes), read as the host reads every document: NULL with @error
 * (CIRCUIT_ERROR_INVALID) when it is not JSON, nests deeper than a few dozen
 * levels or is over 16 MiB. Plugins read untrusted JSON (an engine's
 * answers, a user's data) with it rather than with json-glib directly,
 * whose parser recurses once per level.
 */
CIRCUIT_PLUGIN_EXPORT JsonNode *circuit_json_load(const char *text, gsize len, GError **error);

/* ------------------------------------------------------------------------ */
/* Watches                                                                   */

/** CircuitIOFlags: fd readiness. */
typedef enum {
	CIRCUIT_IO_READ = 1 << 0,
	CIRCUIT_IO_WRITE = 1 << 1,
} CircuitIOFlags;

typedef void (*CircuitFdFunc)(CircuitWatch *watch, int fd, guint revents, gpointer user_data);
typedef void (*CircuitTimerFunc)(CircuitWatch *watch, gpointer user_data);
/** @wstatus: as from waitpid(). The watch stops after this call; it must
 *  still be freed with circuit_watch_cancel(). */
typedef void (*CircuitChildFunc)(CircuitWatch *watch, pid_t pid, int wstatus, gpointer user_data);

/**
 * circuit_watch_fd: (transfer full) watches @fd (not owned) for @events.
 * @notify frees @user_data when the watch is cancelled.
 */
CIRCUIT_PLUGIN_EXPORT CircuitWatch *circuit_watch_fd(CircuitHost *host, int fd, guint events,
                                                     CircuitFdFunc func, gpointer user_data,
                                                     GDestroyNotify notify);
/** circuit_watch_fd_set_events: changes the events (0 pauses the watch). */
CIRCUIT_PLUGIN_EXPORT void circuit_watch_fd_set_events(CircuitWatch *watch, guint events);

/**
 * circuit_watch_timer: (transfer full) calls @func after @after seconds,
 * then every @repeat seconds if @repeat > 0.
 */
CIRCUIT_PLUGIN_EXPORT CircuitWatch *circuit_watch_timer(CircuitHost *host, double after,
                                                        double repeat, CircuitTimerFunc func,
                                                        gpointer user_data, GDestroyNotify notify);

/**
 * circuit_watch_child: (transfer full) calls @func once when @pid (a child
 * of the server) terminates; the core reaps it. Start it right after the
 * spawn, before returning to the loop.
 */
CIRCUIT_PLUGIN_EXPORT CircuitWatch *circuit_watch_child(CircuitHost *host, pid_t pid,
                                                        CircuitChildFunc func, gpointer user_data,
                                                        GDestroyNotify notify);

/**
 * circuit_watch_child_states: (ABI 1.2) (transfer full) as
 * circuit_watch_child(), and @func is also called each time @pid stops or
 * continues (WIFSTOPPED() or WIFCONTINUED() of @wstatus); the watch stops
 * only after the call that reports its end.
 */
CIRCUIT_PLUGIN_EXPORT CircuitWatch *circuit_watch_child_states(CircuitHost *host, pid_t pid,
                                                               CircuitChildFunc func,
                                                               gpointer user_data,
                                                               GDestroyNotify notify);

/**
 * circuit_watch_cancel: stops and frees the watch; @notify runs. Safe
 * inside the watch's own callback. NULL is harmless.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_watch_cancel(CircuitWatch *watch);

/**
 * circuit_host_register_process_group: tells the core that @pgid holds
 * processes this element started, so they are killed if circuitd dies,
 * even by SIGKILL. Unregister when the group has been reaped.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_host_register_process_group(CircuitHost *host, pid_t pgid);
CIRCUIT_PLUGIN_EXPORT void circuit_host_unregister_process_group(CircuitHost *host, pid_t pgid);

/**
 * circuit_host_scrub_grace: seconds between SIGTERM and SIGKILL when a
 * plugin releases processes (the daemon's --grace).
 */
CIRCUIT_PLUGIN_EXPORT double circuit_host_scrub_grace(CircuitHost *host);

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */

/**
 * circuit_log: GLib structured logging in the plugin's domain
 * ("circuit-<kind>"), prefixed with the element's path when @element is
 * not NULL.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_log(CircuitHost *host, CircuitElement *element,
                                       GLogLevelFlags level, const char *format, ...)
        G_GNUC_PRINTF(4, 5);

/**
 * circuit_oplog_event: writes one op-log line for something the element
 * did on its own, e.g. ("drop", 12) when a scrub dropped 12 buffered
 * messages, or ("exit", 1) when a process ended. (transfer none) @what.
 */
CIRCUIT_PLUGIN_EXPORT void circuit_oplog_event(CircuitElement *element, const char *what,
                                               gint64 value);

G_END_DECLS
