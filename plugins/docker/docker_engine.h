// SPDX-License-Identifier: Apache-2.0
//
// docker_engine.h - the Docker Engine API over its unix socket with libcurl's
// multi interface, driven by the core's loop through SDK fd and timer
// watches: nothing here ever blocks the server (except docker_engine_get_sync,
// meant for init(), which runs before the loop).
#pragma once

#include <circuit/plugin.h>

/**
 * The API versions this plugin was checked against (docs/docker.md): it
 * speaks the newest both it and the engine know, never below the engine's
 * MinAPIVersion (Docker 20.10 and podman 3+ are 1.41; Docker 29.0 is 1.44
 * to 1.52; Docker 29.4 is 1.54). 1.54 is the newest API of a released
 * Docker whose changelog was read against every field used here.
 */
#define DOCKER_API_OLDEST "1.41"
#define DOCKER_API_NEWEST "1.54"
/** How long a version question may take. */
#define DOCKER_PING_SECONDS 10.0

typedef struct DockerEngine DockerEngine;
typedef struct DockerCall DockerCall;
typedef struct DockerRaw DockerRaw;

/**
 * DockerCallFunc: a call ended. @status is the HTTP status (0 if the engine
 * never answered); @body (transfer none) (nullable) the response body;
 * @error (transfer none) (nullable) set if the engine could not be reached
 * or answered with a status of 400 or more (its "message" is the text).
 * The call is freed when this returns.
 */
typedef void (*DockerCallFunc)(DockerCall *call, guint status, GBytes *body, const GError *error,
                               gpointer user_data);

/**
 * docker_engine_new: (transfer full) an engine at @docker_host
 * ("unix:///path", or NULL for unix:///var/run/docker.sock), or NULL with
 * an error for another scheme.
 */
DockerEngine *docker_engine_new(CircuitHost *host, const char *docker_host, GError **error);
/** docker_engine_free: cancels every call (no callback runs) and frees. */
void docker_engine_free(DockerEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DockerEngine, docker_engine_free)
/* Loads libcurl and sets the engine up for asynchronous calls; every
 * docker_engine_call()/attach() needs it first. */
gboolean docker_engine_ready(DockerEngine *engine, GError **error);
/** docker_engine_socket: (transfer none) the socket path. */
const char *docker_engine_socket(DockerEngine *engine);

/**
 * docker_engine_get_sync: (transfer full) GET @path (below /v<API spoken>;
 * "//version" for the unversioned one) and parse the JSON answer, blocking
 * at most @timeout seconds. Only for init().
 */
JsonNode *docker_engine_get_sync(DockerEngine *engine, const char *path, double timeout,
                                 GError **error);

/**
 * docker_engine_negotiate: picks the API version to speak from the engine's
 * unversioned /version answer @version (transfer none). FALSE with one line
 * (unavailable) when the engine's range and ours do not meet.
 */
gboolean docker_engine_negotiate(DockerEngine *engine, JsonNode *version, GError **error);
/** docker_engine_api: (transfer none) the API version spoken, e.g. "1.44". */
const char *docker_engine_api(DockerEngine *engine);
/** docker_engine_version: (transfer none) the engine's version ("?" before negotiation). */
const char *docker_engine_version(DockerEngine *engine);
/** docker_engine_name_of: (transfer none) what the engine calls itself, e.g.
 *  "Docker Engine - Community" or "Podman Engine" ("?" before negotiation). */
const char *docker_engine_name_of(DockerEngine *engine);
/** docker_engine_api_min, _max: (transfer none) the engine's own range
 *  (MinAPIVersion, ApiVersion; "?" before negotiation). */
const char *docker_engine_api_min(DockerEngine *engine);
const char *docker_engine_api_max(DockerEngine *engine);
/*
 * Asks /version again in the background (an engine refused our version).
 * A call or attach the engine refuses as "client version ... is too old" (or
 * "too new") waits for it and is then sent once more in the version picked
 * again; only a second refusal, or a failure to ask, reaches its callback.
 */
void docker_engine_renegotiate(DockerEngine *engine);

/**
 * docker_body_json: (transfer full) (nullable) a call's answer @body as
 * JSON: NULL when the call failed (@call_error set: @error is left alone)
 * or with @error when the body is not JSON.
 */
JsonNode *docker_body_json(GBytes *body, const GError *call_error, GError **error);

/**
 * docker_engine_call: (transfer none) starts @method @path (below /v<API>;
 * @path must be URL-escaped) with @body (transfer none) (nullable) as JSON.
 * @timeout: seconds, 0 for none (wait, pull). @func runs once, from the
 * loop, unless the call is cancelled first.
 */
DockerCall *docker_engine_call(DockerEngine *engine, const char *method, const char *path,
                               JsonNode *body, double timeout, DockerCallFunc func,
                               gpointer user_data);
/** docker_call_cancel: aborts a call; its func never runs. NULL is harmless. */
void docker_call_cancel(DockerCall *call);

/**
 * DockerRawFuncs: callbacks of a hijacked attach connection.
 * @ready: the engine accepted the attach (status 101 or 200): the stream
 *   is live.
 * @data: stream bytes (the multiplexed framing, undecoded).
 * @writable: docker_raw_send() may take more.
 * @end: the connection ended: @error NULL at a clean end of stream, else why
 *   (refused, engine gone). No callback runs afterwards.
 */
typedef struct {
	void (*ready)(DockerRaw *raw, gpointer user_data);
	void (*data)(DockerRaw *raw, const guint8 *data, gsize len, gpointer user_data);
	void (*writable)(DockerRaw *raw, gpointer user_data);
	void (*end)(DockerRaw *raw, const GError *error, gpointer user_data);
} DockerRawFuncs;

/**
 * docker_engine_attach: (transfer full) opens a connection (CONNECT_ONLY),
 * sends POST @path with "Upgrade: tcp" and hands the hijacked stream to
 * @funcs (transfer none, static). Free with docker_raw_free().
 */
DockerRaw *docker_engine_attach(DockerEngine *engine, const char *path, const DockerRawFuncs *funcs,
                                gpointer user_data);
/**
 * docker_engine_stream: (transfer full) as docker_engine_attach(), for a
 * plain GET @path whose answer's body is the stream (the logs of a
 * container, followed): no stdin, `writable` never runs.
 */
DockerRaw *docker_engine_stream(DockerEngine *engine, const char *path, const DockerRawFuncs *funcs,
                                gpointer user_data);
/**
 * docker_engine_reachable: whether something listens on the engine's socket
 * now (a non-blocking connect: never waits, loads nothing). An engine that
 * is stopped (SIGSTOP) but listening counts as reachable.
 */
gboolean docker_engine_reachable(DockerEngine *engine);
/** docker_raw_set_reading: pauses (FALSE) or resumes reading (back-pressure). */
void docker_raw_set_reading(DockerRaw *raw, gboolean reading);
/**
 * docker_raw_send: sends what the socket takes now; returns the count (0
 * if it is full: `writable` follows), or -1 with @error if it broke.
 */
gssize docker_raw_send(DockerRaw *raw, const guint8 *data, gsize len, GError **error);
/** docker_raw_shutdown_write: ends the stdin direction (EOF to the container). */
void docker_raw_shutdown_write(DockerRaw *raw);
/** docker_raw_free: closes; no callback runs afterwards. NULL is harmless. */
void docker_raw_free(DockerRaw *raw);
