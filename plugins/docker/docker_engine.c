// SPDX-License-Identifier: Apache-2.0
//
// docker_engine.c - libcurl's multi interface on the core's loop. curl tells
// us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it
// back (CURLMOPT_TIMERFUNCTION); SDK fd and timer watches do the waiting.
// Attach streams are hijacked HTTP connections: curl connects (CONNECT_ONLY)
// and we speak the upgrade ourselves with curl_easy_send/recv.
#include "docker_engine.h"

#include "docker_curl.h"

#include <errno.h>
#include <poll.h>
#include <sys/un.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"
#define DOCKER_BODY_MAX       (32u << 20)
#define DOCKER_HEAD_MAX       (16u << 10)
#define DOCKER_RAW_CHUNK      (64u << 10)

typedef enum { DOCKER_EASY_CALL, DOCKER_EASY_RAW } DockerEasyKind;

struct DockerEngine {
	CircuitHost *host;
	char *socket;
	CURLM *multi;
	CircuitWatch *timer;
	GList *calls;  /* DockerCall, in flight */
	GList *raws;   /* DockerRaw, open */
	char api[16];  /* the API version spoken: every path is below /v<api> */
	char *version; /* the engine's own version, as /version says */
	char *name;    /* what the engine calls itself (Platform.Name, or its component) */
	char *api_min; /* the engine's range: MinAPIVersion .. ApiVersion */
	char *api_max;
	DockerCall *reversion; /* an unversioned GET /version under way */
};

struct DockerCall {
	DockerEasyKind kind; /* first: CURLOPT_PRIVATE points here */
	DockerEngine *engine;
	CURL *easy; /* NULL while parked (see refusal) */
	struct curl_slist *headers;
	GByteArray *response;
	char errbuf[CURL_ERROR_SIZE];
	DockerCallFunc func;
	gpointer user_data;
	/* What to send again after a renegotiation. */
	char *method;
	char *path;
	char *body; /* (nullable) the JSON text */
	double timeout;
	gboolean retried; /* sent again once already: a second refusal is final */
	GError *refusal;  /* parked: the engine refused our version; the call waits
	                   * for /version to be asked again, then goes again */
};

typedef enum {
	DOCKER_RAW_CONNECTING,
	DOCKER_RAW_HEAD,   /* sending the request, reading the answer's head */
	DOCKER_RAW_STREAM, /* hijacked */
	DOCKER_RAW_REFUSED,
	DOCKER_RAW_ENDED,
} DockerRawState;

struct DockerRaw {
	DockerEasyKind kind;
	DockerEngine *engine;
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	const DockerRawFuncs *funcs;
	gpointer user_data;
	DockerRawState state;
	int fd;
	CircuitWatch *watch;
	GByteArray *out; /* the request head until sent */
	GByteArray *in;  /* the answer until its head is complete */
	guint status;
	gsize body_want; /* a refusal's Content-Length */
	gboolean reading;
	gboolean want_write;
	int refs;
	gboolean freed;
	char *path;       /* the attach path, below /v<api> */
	gboolean get;     /* a plain GET whose body is the stream (logs) */
	gboolean retried; /* as DockerCall's */
	GError *refusal;  /* parked: waiting for a renegotiation (easy is NULL) */
};

static GQuark
docker_engine_quark(void)
{
	return CIRCUIT_ERROR;
}

/* ---- the multi interface on the loop ------------------------------------ */

static void docker_engine_done(DockerEngine *engine);

static void
docker_engine_on_fd(CircuitWatch *w, int fd, guint revents, gpointer data)
{
	DockerEngine *engine = data;
	int flags = ((revents & CIRCUIT_IO_READ) ? CURL_CSELECT_IN : 0) |
	            ((revents & CIRCUIT_IO_WRITE) ? CURL_CSELECT_OUT : 0);
	int running = 0;
	curl_multi_socket_action(engine->multi, fd, flags, &running);
	docker_engine_done(engine);
}

static int
docker_engine_on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	DockerEngine *engine = userp;
	CircuitWatch *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			circuit_watch_cancel(w);
			curl_multi_assign(engine->multi, s, NULL);
		}
		return 0;
	}
	guint events = ((what & CURL_POLL_IN) ? CIRCUIT_IO_READ : 0) |
	               ((what & CURL_POLL_OUT) ? CIRCUIT_IO_WRITE : 0);
	if (!w) {
		w = circuit_watch_fd(engine->host, s, events, docker_engine_on_fd, engine, NULL);
		curl_multi_assign(engine->multi, s, w);
	} else {
		circuit_watch_fd_set_events(w, events);
	}
	return 0;
}

static void
docker_engine_on_timeout(CircuitWatch *w, gpointer data)
{
	DockerEngine *engine = data;
	if (engine->timer == w)
		engine->timer = NULL;
	circuit_watch_cancel(w);
	int running = 0;
	curl_multi_socket_action(engine->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	docker_engine_done(engine);
}

static int
docker_engine_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	DockerEngine *engine = userp;
	g_clear_pointer(&engine->timer, circuit_watch_cancel);
	if (timeout_ms >= 0)
		engine->timer = circuit_watch_timer(engine->host, (double)timeout_ms / 1000.0, 0,
		                                    docker_engine_on_timeout, engine, NULL);
	return 0;
}

DockerEngine *
docker_engine_new(CircuitHost *host, const char *docker_host, GError **error)
{
	const char *path = DOCKER_DEFAULT_SOCKET;
	if (docker_host && *docker_host) {
		if (!g_str_has_prefix(docker_host, "unix://") || docker_host[7] != '/') {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
			            "docker host \"%s\": only unix:///path sockets are supported",
			            docker_host);
			return NULL;
		}
		path = docker_host + 7;
	}
	DockerEngine *engine = g_new0(DockerEngine, 1);
	engine->host = host;
	engine->socket = g_strdup(path);
	g_strlcpy(engine->api, DOCKER_API_OLDEST, sizeof engine->api);
	return engine;
}

gboolean
docker_engine_ready(DockerEngine *engine, GError **error)
{
	if (engine->multi)
		return TRUE;
	if (!docker_curl_load(error))
		return FALSE;
	engine->multi = curl_multi_init();
	curl_multi_setopt(engine->multi, CURLMOPT_SOCKETFUNCTION, docker_engine_on_socket);
	curl_multi_setopt(engine->multi, CURLMOPT_SOCKETDATA, engine);
	curl_multi_setopt(engine->multi, CURLMOPT_TIMERFUNCTION, docker_engine_on_timer);
	curl_multi_setopt(engine->multi, CURLMOPT_TIMERDATA, engine);
	return TRUE;
}

const char *
docker_engine_socket(DockerEngine *engine)
{
	return engine->socket;
}

/* ---- requests ------------------------------------------------------------ */

static size_t
docker_call_on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	DockerCall *call = userdata;
	gsize n = size * nmemb;
	if (call->response->len + n > DOCKER_BODY_MAX)
		return 0; /* fails the call with CURLE_WRITE_ERROR */
	g_byte_array_append(call->response, (const guint8 *)ptr, (guint)n);
	return n;
}

static void
docker_easy_common(DockerEngine *engine, CURL *easy, const char *url, char *errbuf)
{
	curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, engine->socket);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	errbuf[0] = '\0';
}

static void
docker_call_free(DockerCall *call)
{
	curl_slist_free_all(call->headers);
	if (call->response)
		g_byte_array_unref(call->response);
	g_free(call->method);
	g_free(call->path);
	g_free(call->body);
	g_clear_error(&call->refusal);
	g_free(call);
}

/* Sends @call (again, after a renegotiation) in the API version spoken now. */
static void
docker_call_start(DockerEngine *engine, DockerCall *call)
{
	CURL *easy = curl_easy_init();
	/* "//version": the one unversioned request (negotiation). */
	g_autofree char *url =
	        g_str_has_prefix(call->path, "//")
	                ? g_strconcat("http://docker", call->path + 1, NULL)
	                : g_strdup_printf("http://docker/v%s%s", engine->api, call->path);
	docker_easy_common(engine, easy, url, call->errbuf);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, docker_call_on_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
	if (call->timeout > 0)
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(call->timeout * 1000));
	call->headers = curl_slist_append(call->headers, "Expect:");
	if (strcmp(call->method, "POST") == 0) {
		if (call->body)
			call->headers =
			        curl_slist_append(call->headers, "Content-Type: application/json");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE,
		                 (long)(call->body ? strlen(call->body) : 0));
		curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, call->body ? call->body : "");
	} else if (strcmp(call->method, "GET") != 0) {
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, call->method);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
	call->easy = easy;
	curl_multi_add_handle(engine->multi, easy);
}

/* The engine's one-line reason: its JSON "message", else the body's first line. */
static char *
docker_engine_reason(const guint8 *data, gsize len, guint status)
{
	if (len > 0) {
		g_autoptr(JsonNode) root = circuit_json_load((const char *)data, len, NULL);
		if (root && JSON_NODE_HOLDS_OBJECT(root)) {
			JsonObject *o = json_node_get_object(root);
			const char *m =
			        json_object_get_string_member_with_default(o, "message", NULL);
			if (m && *m)
				return g_strdup(m);
		}
		g_autofree char *text = g_strndup((const char *)data, len);
		char *nl = strpbrk(text, "\r\n");
		if (nl)
			*nl = '\0';
		if (*g_strstrip(text))
			return g_strdup(text);
	}
	return g_strdup_printf("HTTP status %u", status);
}

static GError *
docker_engine_transport_error(DockerEngine *engine, CURLcode rc, const char *errbuf)
{
	return g_error_new(docker_engine_quark(), CIRCUIT_ERROR_UNAVAILABLE,
	                   "the engine at %s did not answer: %s", engine->socket,
	                   errbuf && *errbuf ? errbuf : curl_easy_strerror(rc));
}

/* ---- API version negotiation --------------------------------------------- */

/* "1.44" as 1 * 1000 + 44; 0 if it is not a version. */
static guint
docker_api_number(const char *v)
{
	guint maj = 0, min = 0;
	if (!v || sscanf(v, "%u.%u", &maj, &min) != 2 || min >= 1000)
		return 0;
	return maj * 1000 + min;
}

/*
 * What the engine calls itself: Docker says "Docker Engine - Community" in
 * Platform.Name and "Engine" as its first component; podman says its OS in
 * Platform.Name and "Podman Engine" as its first component.
 */
static char *
docker_engine_name(JsonObject *v)
{
	const char *component = NULL, *platform = NULL;
	JsonNode *n = json_object_get_member(v, "Components");
	if (n && JSON_NODE_HOLDS_ARRAY(n) && json_array_get_length(json_node_get_array(n)) > 0) {
		JsonNode *first = json_array_get_element(json_node_get_array(n), 0);
		if (JSON_NODE_HOLDS_OBJECT(first))
			component = json_object_get_string_member_with_default(
			        json_node_get_object(first), "Name", NULL);
	}
	n = json_object_get_member(v, "Platform");
	if (n && JSON_NODE_HOLDS_OBJECT(n))
		platform = json_object_get_string_member_with_default(json_node_get_object(n),
		                                                      "Name", NULL);
	if (component && *component && strcmp(component, "Engine") != 0)
		return g_strdup(component);
	if (platform && *platform)
		return g_strdup(platform);
	return g_strdup(component && *component ? component : "?");
}

gboolean
docker_engine_negotiate(DockerEngine *engine, JsonNode *version, GError **error)
{
	JsonObject *v =
	        version && JSON_NODE_HOLDS_OBJECT(version) ? json_node_get_object(version) : NULL;
	const char *api =
	        v ? json_object_get_string_member_with_default(v, "ApiVersion", NULL) : NULL;
	const char *min =
	        v ? json_object_get_string_member_with_default(v, "MinAPIVersion", NULL) : NULL;
	guint top = docker_api_number(api), bottom = min ? docker_api_number(min) : 0;
	guint oldest = docker_api_number(DOCKER_API_OLDEST);
	guint newest = docker_api_number(DOCKER_API_NEWEST);
	if (!top) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "the engine at %s did not say which Docker API it speaks",
		            engine->socket);
		return FALSE;
	}
	/* Engines before API 1.24 did not report a minimum: assume their top. */
	if (!bottom)
		bottom = top;
	guint speak = MIN(top, newest);
	if (speak < oldest || speak < bottom) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "the engine at %s speaks Docker API %s to %s; circuit speaks %s to %s",
		            engine->socket, min ? min : api, api, DOCKER_API_OLDEST,
		            DOCKER_API_NEWEST);
		return FALSE;
	}
	g_snprintf(engine->api, sizeof engine->api, "%u.%u", speak / 1000, speak % 1000);
	g_free(engine->version);
	engine->version = g_strdup(json_object_get_string_member_with_default(v, "Version", "?"));
	g_free(engine->api_max);
	engine->api_max = g_strdup(api);
	g_free(engine->api_min);
	engine->api_min = g_strdup(min ? min : api);
	g_free(engine->name);
	engine->name = docker_engine_name(v);
	return TRUE;
}

const char *
docker_engine_api(DockerEngine *engine)
{
	return engine->api;
}

const char *
docker_engine_version(DockerEngine *engine)
{
	return engine->version ? engine->version : "?";
}

const char *
docker_engine_name_of(DockerEngine *engine)
{
	return engine->name ? engine->name : "?";
}

const char *
docker_engine_api_min(DockerEngine *engine)
{
	return engine->api_min ? engine->api_min : "?";
}

const char *
docker_engine_api_max(DockerEngine *engine)
{
	return engine->api_max ? engine->api_max : "?";
}

/* Docker's refusal of a client version ("client version 1.41 is too old.
 * Minimum supported API version is 1.44, ..."), or podman's like it. */
static gboolean
docker_engine_refused_version(const char *why)
{
	return strstr(why, "client version") && (strstr(why, "too old") || strstr(why, "too new"));
}

static void docker_raw_start(DockerRaw *raw);
static void docker_raw_end(DockerRaw *raw, GError *error);
static void docker_raw_unref(DockerRaw *raw);

static DockerCall *
docker_engine_parked_call(DockerEngine *engine)
{
	for (GList *l = engine->calls; l; l = l->next)
		if (((DockerCall *)l->data)->refusal)
			return l->data;
	return NULL;
}

static DockerRaw *
docker_engine_parked_raw(DockerEngine *engine)
{
	for (GList *l = engine->raws; l; l = l->next)
		if (((DockerRaw *)l->data)->refusal)
			return l->data;
	return NULL;
}

/*
 * The engine was asked /version again: the calls and attaches it refused go
 * once more in the version spoken now, or, if it could not be asked (@why),
 * fail with its refusal. One at a time: a callback may cancel another.
 */
static void
docker_engine_resume(DockerEngine *engine, const char *why)
{
	DockerCall *call;
	while ((call = docker_engine_parked_call(engine))) {
		g_autoptr(GError) refusal = g_steal_pointer(&call->refusal);
		if (!why) {
			docker_call_start(engine, call);
			continue;
		}
		engine->calls = g_list_remove(engine->calls, call);
		g_autoptr(GError) e = g_error_new(refusal->domain, refusal->code,
		                                  "%s (and asking the engine again failed: %s)",
		                                  refusal->message, why);
		g_autoptr(GBytes) body = g_bytes_new(NULL, 0);
		call->func(call, 400, body, e, call->user_data);
		docker_call_free(call);
	}
	DockerRaw *raw;
	while ((raw = docker_engine_parked_raw(engine))) {
		g_autoptr(GError) refusal = g_steal_pointer(&raw->refusal);
		if (!why) {
			docker_raw_start(raw);
			continue;
		}
		raw->refs++;
		docker_raw_end(raw, g_error_new(refusal->domain, refusal->code,
		                                "%s (and asking the engine again failed: %s)",
		                                refusal->message, why));
		docker_raw_unref(raw);
	}
}

static void
docker_engine_on_version(DockerCall *call, guint status, GBytes *body, const GError *error,
                         gpointer user_data)
{
	DockerEngine *engine = user_data;
	engine->reversion = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(JsonNode) root = docker_body_json(body, error, &local);
	g_autofree char *was = g_strdup(engine->api);
	if (error || !root || !docker_engine_negotiate(engine, root, &local)) {
		const char *why = error ? error->message : local ? local->message : "no answer";
		circuit_log(engine->host, NULL, G_LOG_LEVEL_WARNING,
		            "engine at %s refused API %s and could not be asked again: %s",
		            engine->socket, was, why);
		docker_engine_resume(engine, why);
		return;
	}
	circuit_log(engine->host, NULL, G_LOG_LEVEL_MESSAGE,
	            "engine at %s refused API %s: now version %s, speaking API %s (it speaks %s "
	            "to %s); the refused calls go again",
	            engine->socket, was, docker_engine_version(engine), engine->api,
	            docker_engine_api_min(engine), docker_engine_api_max(engine));
	docker_engine_resume(engine, NULL);
}

JsonNode *
docker_body_json(GBytes *body, const GError *call_error, GError **error)
{
	if (call_error || !body)
		return NULL;
	gsize len = 0;
	const char *text = g_bytes_get_data(body, &len);
	return circuit_json_load(text, len, error);
}

void
docker_engine_renegotiate(DockerEngine *engine)
{
	if (engine->reversion || !engine->multi)
		return;
	engine->reversion =
	        docker_engine_call(engine, "GET", "//version", NULL, DOCKER_PING_SECONDS,
	                           docker_engine_on_version, engine);
}

DockerCall *
docker_engine_call(DockerEngine *engine, const char *method, const char *path, JsonNode *body,
                   double timeout, DockerCallFunc func, gpointer user_data)
{
	g_return_val_if_fail(engine->multi != NULL, NULL); /* docker_engine_ready() first */
	DockerCall *call = g_new0(DockerCall, 1);
	call->kind = DOCKER_EASY_CALL;
	call->engine = engine;
	call->func = func;
	call->user_data = user_data;
	call->response = g_byte_array_new();
	call->method = g_strdup(method);
	call->path = g_strdup(path);
	call->body = body && strcmp(method, "POST") == 0 ? json_to_string(body, FALSE) : NULL;
	call->timeout = timeout;
	engine->calls = g_list_prepend(engine->calls, call);
	docker_call_start(engine, call);
	return call;
}

void
docker_call_cancel(DockerCall *call)
{
	if (!call)
		return;
	DockerEngine *engine = call->engine;
	engine->calls = g_list_remove(engine->calls, call);
	if (call->easy) {
		curl_multi_remove_handle(engine->multi, call->easy);
		curl_easy_cleanup(call->easy);
	}
	docker_call_free(call);
}

/*
 * The engine refused the version of @call (upgraded or downgraded under a
 * running circuitd): it waits, without its easy handle, until /version has
 * been asked again, then goes once more (docker_engine_resume).
 */
static void
docker_call_park(DockerCall *call, const char *why)
{
	DockerEngine *engine = call->engine;
	curl_easy_cleanup(call->easy);
	call->easy = NULL;
	g_clear_pointer(&call->headers, curl_slist_free_all);
	g_byte_array_set_size(call->response, 0);
	call->retried = TRUE;
	call->refusal = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "%s", why);
	engine->calls = g_list_prepend(engine->calls, call);
	docker_engine_renegotiate(engine);
}

static void
docker_call_finish(DockerCall *call, CURLcode rc)
{
	DockerEngine *engine = call->engine;
	engine->calls = g_list_remove(engine->calls, call);
	long status = 0;
	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(engine->multi, call->easy);
	GError *error = NULL;
	if (rc != CURLE_OK)
		error = docker_engine_transport_error(engine, rc, call->errbuf);
	else if (status >= 400) {
		g_autofree char *why = docker_engine_reason(call->response->data,
		                                            call->response->len, (guint)status);
		/* An engine upgraded (or downgraded) under us: ask it again which
		 * version it speaks, and send this call once more in it. */
		if (status == 400 && docker_engine_refused_version(why) &&
		    !g_str_has_prefix(call->path, "//")) {
			if (!call->retried) {
				docker_call_park(call, why);
				return;
			}
			/* Refused again: final; the calls after it are asked anew. */
			docker_engine_renegotiate(engine);
		}
		error = g_error_new(CIRCUIT_ERROR,
		                    status == 404 ? CIRCUIT_ERROR_NOT_FOUND : CIRCUIT_ERROR_FAILED,
		                    "%s", why);
	}
	GBytes *body = g_bytes_new(call->response->data, call->response->len);
	call->func(call, rc == CURLE_OK ? (guint)status : 0, body, error, call->user_data);
	g_bytes_unref(body);
	g_clear_error(&error);
	curl_easy_cleanup(call->easy);
	docker_call_free(call);
}

/* Fails a synchronous request the way a transport failure reads. */
static JsonNode *
docker_engine_sync_failed(DockerEngine *engine, int fd, const char *why, GError **error)
{
	if (fd >= 0)
		close(fd);
	g_set_error(error, docker_engine_quark(), CIRCUIT_ERROR_UNAVAILABLE,
	            "the engine at %s did not answer: %s", engine->socket, why);
	return NULL;
}

/*
 * A blocking GET in HTTP/1.0 on the engine's socket, without libcurl: used
 * only before the server serves anyone (the checks at start-up), so that
 * merely loading the plugin does not load libcurl.
 */
JsonNode *
docker_engine_get_sync(DockerEngine *engine, const char *path, double timeout, GError **error)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(engine->socket) >= sizeof sa.sun_path)
		return docker_engine_sync_failed(engine, -1, "socket path too long", error);
	strcpy(sa.sun_path, engine->socket);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return docker_engine_sync_failed(engine, fd, g_strerror(errno), error);
	g_autofree char *req =
	        g_str_has_prefix(path, "//")
	                ? g_strdup_printf("GET %s HTTP/1.0\r\nHost: docker\r\n\r\n", path + 1)
	                : g_strdup_printf("GET /v%s%s HTTP/1.0\r\nHost: docker\r\n\r\n",
	                                  engine->api, path);
	gsize off = 0, len = strlen(req);
	while (off < len) {
		ssize_t n = write(fd, req + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return docker_engine_sync_failed(engine, fd, g_strerror(errno), error);
		off += (gsize)n;
	}
	g_autoptr(GByteArray) in = g_byte_array_new();
	gint64 deadline = g_get_monotonic_time() + (gint64)(timeout * G_USEC_PER_SEC);
	for (;;) {
		int left = (int)((deadline - g_get_monotonic_time()) / 1000);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&pfd, 1, left) == 0)
			return docker_engine_sync_failed(engine, fd, "timed out", error);
		guint8 buf[16384];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return docker_engine_sync_failed(engine, fd, g_strerror(errno), error);
		if (n == 0)
			break;
		if (in->len + (gsize)n > DOCKER_BODY_MAX)
			return docker_engine_sync_failed(engine, fd, "answer too large", error);
		g_byte_array_append(in, buf, (guint)n);
	}
	close(fd);
	/* Status line, headers, body (HTTP/1.0: the body runs to end of file). */
	guint status = 0;
	const char *text = (const char *)in->data;
	const char *body = g_strstr_len(text, in->len, "\r\n\r\n");
	if (in->len < 12 || sscanf(text, "HTTP/1.%*c %u", &status) != 1 || !body)
		return docker_engine_sync_failed(engine, -1, "not an HTTP answer", error);
	body += 4;
	gsize body_len = in->len - (gsize)(body - text);
	if (status >= 400) {
		g_autofree char *why = docker_engine_reason((const guint8 *)body, body_len, status);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE, "GET %s: %s",
		            g_str_has_prefix(path, "//") ? path + 1 : path, why);
		return NULL;
	}
	GError *local = NULL;
	JsonNode *root = circuit_json_load(body, body_len, &local);
	if (!root) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "GET %s: the engine's answer is not JSON: %s",
		            g_str_has_prefix(path, "//") ? path + 1 : path, local->message);
		g_error_free(local);
		return NULL;
	}
	return root;
}

/* ---- hijacked attach connections ----------------------------------------- */

static void docker_raw_on_fd(CircuitWatch *w, int fd, guint revents, gpointer data);

static void
docker_raw_unref(DockerRaw *raw)
{
	if (--raw->refs > 0)
		return;
	g_clear_pointer(&raw->watch, circuit_watch_cancel);
	if (raw->easy) {
		curl_multi_remove_handle(raw->engine->multi, raw->easy);
		curl_easy_cleanup(raw->easy);
	}
	g_byte_array_unref(raw->out);
	g_byte_array_unref(raw->in);
	g_free(raw->path);
	g_clear_error(&raw->refusal);
	g_free(raw);
}

/* What the connection is, for its errors. */
static const char *
docker_raw_what(const DockerRaw *raw)
{
	return raw->get ? "logs" : "attach";
}

static void
docker_raw_arm(DockerRaw *raw)
{
	if (!raw->watch)
		return;
	guint events = 0;
	if (raw->state == DOCKER_RAW_HEAD || raw->state == DOCKER_RAW_REFUSED ||
	    (raw->state == DOCKER_RAW_STREAM && raw->reading))
		events |= CIRCUIT_IO_READ;
	if ((raw->state == DOCKER_RAW_HEAD && raw->out->len > 0) ||
	    (raw->state == DOCKER_RAW_STREAM && raw->want_write))
		events |= CIRCUIT_IO_WRITE;
	circuit_watch_fd_set_events(raw->watch, events);
}

/* Ends the connection once, with @error (NULL: clean end of stream). */
static void
docker_raw_end(DockerRaw *raw, GError *error)
{
	if (raw->state == DOCKER_RAW_ENDED) {
		g_clear_error(&error);
		return;
	}
	raw->state = DOCKER_RAW_ENDED;
	g_clear_pointer(&raw->watch, circuit_watch_cancel);
	raw->engine->raws = g_list_remove(raw->engine->raws, raw);
	if (!raw->freed && raw->funcs->end)
		raw->funcs->end(raw, error, raw->user_data);
	g_clear_error(&error);
}

/* Parses the answer's head once complete; returns FALSE while incomplete. */
static gboolean
docker_raw_parse_head(DockerRaw *raw, gsize *head_len)
{
	const char *data = (const char *)raw->in->data;
	const char *end = g_strstr_len(data, raw->in->len, "\r\n\r\n");
	if (!end)
		return FALSE;
	*head_len = (gsize)(end - data) + 4;
	g_autofree char *head = g_strndup(data, *head_len);
	guint major = 0, minor = 0, status = 0;
	if (sscanf(head, "HTTP/%u.%u %u", &major, &minor, &status) != 3)
		status = 0;
	raw->status = status;
	g_auto(GStrv) lines = g_strsplit(head, "\r\n", -1);
	for (guint i = 1; lines[i]; i++)
		if (g_ascii_strncasecmp(lines[i], "Content-Length:", 15) == 0)
			raw->body_want = (gsize)g_ascii_strtoull(lines[i] + 15, NULL, 10);
	return TRUE;
}

/* As docker_call_park(): the connection is closed, and opened again in the
 * version spoken once /version has been asked again. */
static void
docker_raw_park(DockerRaw *raw, const char *why)
{
	g_clear_pointer(&raw->watch, circuit_watch_cancel);
	curl_multi_remove_handle(raw->engine->multi, raw->easy);
	curl_easy_cleanup(raw->easy);
	raw->easy = NULL;
	raw->fd = -1;
	raw->state = DOCKER_RAW_CONNECTING;
	raw->status = 0;
	raw->body_want = 0;
	g_byte_array_set_size(raw->in, 0);
	g_byte_array_set_size(raw->out, 0);
	raw->retried = TRUE;
	raw->refusal = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "%s: %s",
	                           docker_raw_what(raw), why);
	docker_engine_renegotiate(raw->engine);
}

static void
docker_raw_refused(DockerRaw *raw, gsize head_len)
{
	g_autofree char *why = docker_engine_reason(raw->in->data + head_len,
	                                            raw->in->len - head_len, raw->status);
	if (raw->status == 400 && docker_engine_refused_version(why)) {
		if (!raw->retried) {
			docker_raw_park(raw, why);
			return;
		}
		docker_engine_renegotiate(raw->engine);
	}
	docker_raw_end(raw, g_error_new(CIRCUIT_ERROR,
	                                raw->status == 404 ? CIRCUIT_ERROR_NOT_FOUND
	                                                   : CIRCUIT_ERROR_FAILED,
	                                "%s: %s", docker_raw_what(raw), why));
}

static void
docker_raw_read(DockerRaw *raw)
{
	guint8 buf[DOCKER_RAW_CHUNK];
	while (!raw->freed && raw->state != DOCKER_RAW_ENDED) {
		if (raw->state == DOCKER_RAW_STREAM && !raw->reading)
			return;
		size_t n = 0;
		CURLcode rc = curl_easy_recv(raw->easy, buf, sizeof buf, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			docker_raw_end(raw, docker_engine_transport_error(raw->engine, rc, NULL));
			return;
		}
		if (n == 0) {
			if (raw->state == DOCKER_RAW_STREAM)
				docker_raw_end(raw, NULL);
			else if (raw->state == DOCKER_RAW_REFUSED)
				docker_raw_refused(raw, 0);
			else
				docker_raw_end(raw,
				               g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
				                           "%s: the engine at %s closed the "
				                           "connection without an answer",
				                           docker_raw_what(raw),
				                           raw->engine->socket));
			return;
		}
		if (raw->state == DOCKER_RAW_STREAM) {
			raw->funcs->data(raw, buf, n, raw->user_data);
			continue;
		}
		g_byte_array_append(raw->in, buf, (guint)n);
		gsize head_len = 0;
		if (raw->state == DOCKER_RAW_REFUSED) {
			if (raw->in->len >= raw->body_want) {
				docker_raw_refused(raw, 0);
				return;
			}
			continue;
		}
		if (!docker_raw_parse_head(raw, &head_len)) {
			if (raw->in->len > DOCKER_HEAD_MAX)
				docker_raw_end(raw, g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
				                                "%s: the engine's answer has no "
				                                "end of head",
				                                docker_raw_what(raw)));
			continue;
		}
		if (raw->status != 101 && raw->status != 200) {
			raw->state = DOCKER_RAW_REFUSED;
			/* Keep only the body; body_want counts from its start. */
			g_byte_array_remove_range(raw->in, 0, (guint)head_len);
			if (raw->in->len >= raw->body_want) {
				docker_raw_refused(raw, 0);
				return;
			}
			continue;
		}
		raw->state = DOCKER_RAW_STREAM;
		raw->reading = TRUE;
		gsize rest = raw->in->len - head_len;
		g_autoptr(GBytes) early = rest ? g_bytes_new(raw->in->data + head_len, rest) : NULL;
		g_byte_array_set_size(raw->in, 0);
		docker_raw_arm(raw);
		if (raw->funcs->ready)
			raw->funcs->ready(raw, raw->user_data);
		if (early && !raw->freed && raw->state == DOCKER_RAW_STREAM)
			raw->funcs->data(raw, g_bytes_get_data(early, NULL), rest, raw->user_data);
	}
}

static void
docker_raw_write_head(DockerRaw *raw)
{
	while (raw->out->len > 0) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(raw->easy, raw->out->data, raw->out->len, &n);
		if (rc == CURLE_AGAIN)
			break;
		if (rc != CURLE_OK) {
			docker_raw_end(raw, docker_engine_transport_error(raw->engine, rc, NULL));
			return;
		}
		g_byte_array_remove_range(raw->out, 0, (guint)n);
	}
	docker_raw_arm(raw);
}

static void
docker_raw_on_fd(CircuitWatch *w, int fd, guint revents, gpointer data)
{
	DockerRaw *raw = data;
	raw->refs++;
	if ((revents & CIRCUIT_IO_WRITE) && raw->state == DOCKER_RAW_HEAD)
		docker_raw_write_head(raw);
	if ((revents & CIRCUIT_IO_WRITE) && raw->state == DOCKER_RAW_STREAM && raw->want_write) {
		raw->want_write = FALSE;
		docker_raw_arm(raw);
		if (raw->funcs->writable && !raw->freed)
			raw->funcs->writable(raw, raw->user_data);
	}
	if ((revents & CIRCUIT_IO_READ) && !raw->freed)
		docker_raw_read(raw);
	docker_raw_unref(raw);
}

/* The CONNECT_ONLY transfer is done: the socket is ours to use. */
static void
docker_raw_connected(DockerRaw *raw, CURLcode rc)
{
	if (rc != CURLE_OK) {
		docker_raw_end(raw, docker_engine_transport_error(raw->engine, rc, raw->errbuf));
		return;
	}
	curl_socket_t fd = CURL_SOCKET_BAD;
	curl_easy_getinfo(raw->easy, CURLINFO_ACTIVESOCKET, &fd);
	if (fd == CURL_SOCKET_BAD) {
		docker_raw_end(raw, g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		                                "%s: no connection to %s", docker_raw_what(raw),
		                                raw->engine->socket));
		return;
	}
	raw->fd = fd;
	raw->state = DOCKER_RAW_HEAD;
	raw->watch = circuit_watch_fd(raw->engine->host, fd, 0, docker_raw_on_fd, raw, NULL);
	docker_raw_write_head(raw);
}

static DockerRaw *
docker_raw_new(DockerEngine *engine, const char *path, gboolean get, const DockerRawFuncs *funcs,
               gpointer user_data)
{
	g_return_val_if_fail(engine->multi != NULL, NULL); /* docker_engine_ready() first */
	DockerRaw *raw = g_new0(DockerRaw, 1);
	raw->kind = DOCKER_EASY_RAW;
	raw->engine = engine;
	raw->funcs = funcs;
	raw->user_data = user_data;
	raw->fd = -1;
	raw->refs = 1;
	raw->out = g_byte_array_new();
	raw->in = g_byte_array_new();
	raw->path = g_strdup(path);
	raw->get = get;
	engine->raws = g_list_prepend(engine->raws, raw);
	docker_raw_start(raw);
	return raw;
}

DockerRaw *
docker_engine_attach(DockerEngine *engine, const char *path, const DockerRawFuncs *funcs,
                     gpointer user_data)
{
	return docker_raw_new(engine, path, FALSE, funcs, user_data);
}

DockerRaw *
docker_engine_stream(DockerEngine *engine, const char *path, const DockerRawFuncs *funcs,
                     gpointer user_data)
{
	return docker_raw_new(engine, path, TRUE, funcs, user_data);
}

gboolean
docker_engine_reachable(DockerEngine *engine)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(engine->socket) >= sizeof sa.sun_path)
		return FALSE;
	strcpy(sa.sun_path, engine->socket);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return FALSE;
	/* A listening socket accepts at once (into its backlog); EAGAIN: a full one. */
	gboolean ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno == EAGAIN;
	close(fd);
	return ok;
}

/* Connects (again, after a renegotiation) in the API version spoken now. */
static void
docker_raw_start(DockerRaw *raw)
{
	DockerEngine *engine = raw->engine;
	/* A plain GET in HTTP/1.0: the body runs to the end of the connection,
	 * never chunked. */
	g_autofree char *head =
	        raw->get ? g_strdup_printf("GET /v%s%s HTTP/1.0\r\nHost: docker\r\n\r\n",
	                                   engine->api, raw->path)
	                 : g_strdup_printf("POST /v%s%s HTTP/1.1\r\n"
	                                   "Host: docker\r\n"
	                                   "Content-Length: 0\r\n"
	                                   "Connection: Upgrade\r\n"
	                                   "Upgrade: tcp\r\n\r\n",
	                                   engine->api, raw->path);
	g_byte_array_append(raw->out, (const guint8 *)head, (guint)strlen(head));
	raw->easy = curl_easy_init();
	docker_easy_common(engine, raw->easy, "http://docker/", raw->errbuf);
	curl_easy_setopt(raw->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(raw->easy, CURLOPT_PRIVATE, raw);
	/* Added for as long as the connection is used, as CONNECT_ONLY requires. */
	curl_multi_add_handle(engine->multi, raw->easy);
}

void
docker_raw_set_reading(DockerRaw *raw, gboolean reading)
{
	if (raw->state != DOCKER_RAW_STREAM || raw->reading == reading)
		return;
	raw->reading = reading;
	docker_raw_arm(raw);
}

gssize
docker_raw_send(DockerRaw *raw, const guint8 *data, gsize len, GError **error)
{
	if (raw->state != DOCKER_RAW_STREAM) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED, "the attach stream ended");
		return -1;
	}
	gsize sent = 0;
	while (sent < len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(raw->easy, data + sent, len - sent, &n);
		if (rc == CURLE_AGAIN)
			break;
		if (rc != CURLE_OK) {
			g_propagate_error(error,
			                  docker_engine_transport_error(raw->engine, rc, NULL));
			return -1;
		}
		sent += n;
	}
	if (sent < len) {
		raw->want_write = TRUE;
		docker_raw_arm(raw);
	}
	return (gssize)sent;
}

void
docker_raw_shutdown_write(DockerRaw *raw)
{
	if (raw->state == DOCKER_RAW_STREAM && raw->fd >= 0)
		shutdown(raw->fd, SHUT_WR);
}

void
docker_raw_free(DockerRaw *raw)
{
	if (!raw || raw->freed)
		return;
	raw->freed = TRUE;
	if (raw->state != DOCKER_RAW_ENDED) {
		raw->state = DOCKER_RAW_ENDED;
		raw->engine->raws = g_list_remove(raw->engine->raws, raw);
	}
	g_clear_pointer(&raw->watch, circuit_watch_cancel);
	docker_raw_unref(raw);
}

/* ---- completions --------------------------------------------------------- */

static void
docker_engine_done(DockerEngine *engine)
{
	CURLMsg *msg;
	int left = 0;
	while ((msg = curl_multi_info_read(engine->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		gpointer priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&priv);
		CURLcode rc = msg->data.result;
		if (*(DockerEasyKind *)priv == DOCKER_EASY_RAW) {
			DockerRaw *raw = priv;
			raw->refs++;
			docker_raw_connected(raw, rc);
			docker_raw_unref(raw);
		} else {
			docker_call_finish(priv, rc);
		}
	}
}

void
docker_engine_free(DockerEngine *engine)
{
	if (!engine)
		return;
	while (engine->calls)
		docker_call_cancel(engine->calls->data);
	while (engine->raws) {
		DockerRaw *raw = engine->raws->data;
		engine->raws = g_list_remove(engine->raws, raw);
		raw->state = DOCKER_RAW_ENDED;
		raw->freed = TRUE;
		g_clear_pointer(&raw->watch, circuit_watch_cancel);
		raw->refs = 1;
		docker_raw_unref(raw);
	}
	g_clear_pointer(&engine->timer, circuit_watch_cancel);
	if (engine->multi)
		curl_multi_cleanup(engine->multi);
	g_free(engine->socket);
	g_free(engine->version);
	g_free(engine->name);
	g_free(engine->api_min);
	g_free(engine->api_max);
	g_free(engine);
}
