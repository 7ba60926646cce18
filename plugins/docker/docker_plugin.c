// SPDX-License-Identifier: Apache-2.0
//
// docker_plugin.c - the docker kind across its elements: the engine (asked at
// start, looked for in the background while it does not answer), the
// containers an earlier circuitd of this host left (stopped and removed),
// and removals the engine could not do yet (retried with back-off).
#include "docker_plugin.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Looking for an engine that did not answer at start: every 0.5 s at
 * first, doubling up to every 10 s (a connect() that loads nothing). */
#define DOCKER_PROBE_FIRST 0.5
#define DOCKER_PROBE_MAX   10.0
/* A removal the engine could not do (it was down): again after 1 s,
 * doubling up to every 30 s, each attempt at most 10 s. */
#define DOCKER_PENDING_FIRST   1.0
#define DOCKER_PENDING_MAX     30.0
#define DOCKER_PENDING_TIMEOUT 10.0
/* A create that got no answer may still be done by the engine later: its
 * name must be missing twice, this far apart, before nothing is left. */
#define DOCKER_PENDING_RECHECK 5.0

/* A container to remove once the engine answers (scrubbed, failed or made
 * by a create that got no answer while the engine was down). */
typedef struct {
	DockerPlugin *plugin;
	char *ref;        /* the container's ID, or its name if the ID is unknown */
	char *anchor;     /* the element's path, for the log and peek */
	char *why;        /* the last failure */
	gboolean by_name; /* made by a create with no answer: it may appear late */
	guint attempts;
	guint missing; /* 404s seen (by_name: two, DOCKER_PENDING_RECHECK apart) */
	double delay;
	gint64 next; /* monotonic time of the next attempt (µs) */
	CircuitWatch *timer;
	DockerCall *call;
} DockerPending;

/* ---- removals the engine has yet to do --------------------------------- */

static void docker_pending_schedule(DockerPending *p);

static void
docker_pending_free(DockerPending *p)
{
	circuit_watch_cancel(p->timer);
	docker_call_cancel(p->call);
	g_free(p->ref);
	g_free(p->anchor);
	g_free(p->why);
	g_free(p);
}

static void
docker_pending_done(DockerPending *p, const char *how)
{
	DockerPlugin *plugin = p->plugin;
	circuit_log(plugin->host, NULL, G_LOG_LEVEL_MESSAGE,
	            "container %s of %s %s (after %u attempt%s)", p->ref, p->anchor, how,
	            p->attempts, p->attempts == 1 ? "" : "s");
	plugin->pending = g_list_remove(plugin->pending, p);
	p->call = NULL;
	docker_pending_free(p);
}

static void
docker_pending_on_delete(DockerCall *call, guint status, GBytes *body, const GError *error,
                         gpointer user_data)
{
	DockerPending *p = user_data;
	p->call = NULL;
	if (!error) {
		docker_pending_done(p, "removed");
		return;
	}
	if (status == 404) {
		/* A create the engine never answered may still be done: look again. */
		if (p->by_name && ++p->missing < 2) {
			p->delay = DOCKER_PENDING_RECHECK;
			docker_pending_schedule(p);
			return;
		}
		docker_pending_done(p, "is gone");
		return;
	}
	g_free(p->why);
	p->why = g_strdup(error->message);
	p->delay = MIN(p->delay * 2, DOCKER_PENDING_MAX);
	circuit_log(p->plugin->host, NULL, G_LOG_LEVEL_INFO,
	            "removing container %s of %s failed again (%s); next attempt in %.0f s", p->ref,
	            p->anchor, p->why, p->delay);
	docker_pending_schedule(p);
}

static void
docker_pending_fire(CircuitWatch *w, gpointer user_data)
{
	DockerPending *p = user_data;
	g_clear_pointer(&p->timer, circuit_watch_cancel);
	p->attempts++;
	g_autofree char *ref = g_uri_escape_string(p->ref, NULL, FALSE);
	g_autofree char *path = g_strdup_printf("/containers/%s?force=1&v=1", ref);
	p->call = docker_engine_call(p->plugin->engine, "DELETE", path, NULL,
	                             DOCKER_PENDING_TIMEOUT, docker_pending_on_delete, p);
}

static void
docker_pending_schedule(DockerPending *p)
{
	p->next = g_get_monotonic_time() + (gint64)(p->delay * G_USEC_PER_SEC);
	p->timer = circuit_watch_timer(p->plugin->host, p->delay, 0, docker_pending_fire, p, NULL);
}

/*
 * The engine could not remove container @ref (its ID, or with @by_name its
 * name: a create that got no answer) of the element at @anchor: it is kept
 * here, shown in the server's peek, and removed by force once the engine
 * answers, retried with back-off. Nothing else waits for it.
 */
void
docker_plugin_pending_add(DockerPlugin *plugin, const char *ref, const char *anchor,
                          gboolean by_name, const char *why)
{
	for (GList *l = plugin->pending; l; l = l->next)
		if (strcmp(((DockerPending *)l->data)->ref, ref) == 0)
			return;
	DockerPending *p = g_new0(DockerPending, 1);
	p->plugin = plugin;
	p->ref = g_strdup(ref);
	p->anchor = g_strdup(anchor);
	p->why = g_strdup(why);
	p->by_name = by_name;
	p->delay = DOCKER_PENDING_FIRST;
	plugin->pending = g_list_append(plugin->pending, p);
	circuit_log(plugin->host, NULL, G_LOG_LEVEL_WARNING,
	            "%s container %s of %s is left to remove (%s): kept pending, and removed "
	            "once the engine answers",
	            by_name ? "a create got no answer: any" : "the engine could not remove", ref,
	            anchor, why);
	docker_pending_schedule(p);
}

static JsonNode *
docker_pending_peek(DockerPlugin *plugin)
{
	JsonArray *a = json_array_new();
	gint64 now = g_get_monotonic_time();
	for (GList *l = plugin->pending; l; l = l->next) {
		DockerPending *p = l->data;
		JsonObject *o = json_object_new();
		json_object_set_string_member(o, p->by_name ? "Name" : "Id", p->ref);
		json_object_set_string_member(o, "Anchor", p->anchor);
		json_object_set_string_member(o, "LastError", p->why);
		json_object_set_int_member(o, "Attempts", p->attempts);
		json_object_set_double_member(o, "NextAttemptIn",
		                              p->call ? 0.0 : MAX(0.0, (p->next - now) / 1e6));
		json_array_add_object_element(a, o);
	}
	JsonNode *n = json_node_init_array(json_node_alloc(), a);
	json_array_unref(a);
	return n;
}

/*
 * Which engine answers, and in which API version: next to the inspect. The
 * SDK has no plugin-level hook in the server's peek, so every element
 * carries it. ApiVersion is the version spoken; MinAPIVersion and
 * MaxAPIVersion are the engine's range (its /version's MinAPIVersion and
 * ApiVersion).
 */
void
docker_plugin_peek_engine(DockerPlugin *plugin, JsonObject *o)
{
	if (json_object_has_member(o, "Engine"))
		return;
	DockerEngine *engine = plugin->engine;
	JsonObject *e = json_object_new();
	json_object_set_string_member(e, "Socket", docker_engine_socket(engine));
	json_object_set_string_member(e, "Name", docker_engine_name_of(engine));
	json_object_set_string_member(e, "Version", docker_engine_version(engine));
	json_object_set_string_member(e, "ApiVersion", docker_engine_api(engine));
	json_object_set_string_member(e, "MinAPIVersion", docker_engine_api_min(engine));
	json_object_set_string_member(e, "MaxAPIVersion", docker_engine_api_max(engine));
	json_object_set_object_member(o, "Engine", e);
}
/* ---- init: the engine, and containers left by an earlier circuitd ------- */

static char *
docker_read_line(const char *file)
{
	char *text = NULL;
	if (!g_file_get_contents(file, &text, NULL, NULL))
		return g_strdup("unknown");
	return g_strstrip(text);
}

/* The start time (field 22 of /proc/PID/stat) or NULL if PID is gone. */
static char *
docker_proc_start(const char *pid)
{
	g_autofree char *file = g_strdup_printf("/proc/%s/stat", pid);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(file, &text, NULL, NULL))
		return NULL;
	const char *p = strrchr(text, ')');
	if (!p)
		return NULL;
	g_auto(GStrv) f = g_strsplit(p + 2, " ", -1);
	/* After "pid (comm) ", field 3 is f[0]: field 22 is f[19]. */
	return g_strv_length(f) > 19 ? g_strdup(f[19]) : NULL;
}

/* TRUE if @owner ("<boot>/<pid>/<start>") is a circuitd running on this host. */
static gboolean
docker_owner_alive(DockerPlugin *plugin, const char *owner)
{
	g_auto(GStrv) f = g_strsplit(owner, "/", 3);
	if (g_strv_length(f) != 3 || strcmp(f[0], plugin->boot_id) != 0)
		return FALSE;
	g_autofree char *start = docker_proc_start(f[1]);
	return start && strcmp(start, f[2]) == 0;
}

typedef struct {
	DockerPlugin *plugin;
	char *id;
	char *name;
} DockerOrphan;

static void
docker_orphan_free(DockerOrphan *o)
{
	g_free(o->id);
	g_free(o->name);
	g_free(o);
}

static void
docker_orphan_removed(DockerCall *call, guint status, GBytes *body, const GError *error,
                      gpointer user_data)
{
	DockerOrphan *o = user_data;
	if (error && status != 404)
		circuit_log(o->plugin->host, NULL, G_LOG_LEVEL_WARNING,
		            "removing container %s left by an earlier circuitd: %s", o->name,
		            error->message);
	else
		circuit_log(o->plugin->host, NULL, G_LOG_LEVEL_MESSAGE,
		            "removed container %s left by an earlier circuitd", o->name);
	docker_orphan_free(o);
}

static void
docker_orphan_stopped(DockerCall *call, guint status, GBytes *body, const GError *error,
                      gpointer user_data)
{
	DockerOrphan *o = user_data;
	g_autofree char *path = g_strdup_printf("/containers/%s?force=1&v=1", o->id);
	docker_engine_call(o->plugin->engine, "DELETE", path, NULL, DOCKER_CALL_TIMEOUT,
	                   docker_orphan_removed, o);
}

/* Containers made by a circuitd of this host that is gone are stopped and
 * removed (their anchors died with it: a restarted server has a new ID);
 * others are reported and left alone. */
static char *
docker_sweep_path(void)
{
	g_autofree char *filter =
	        g_uri_escape_string("{\"label\":[\"" DOCKER_LABEL_OWNER "\"]}", NULL, FALSE);
	return g_strdup_printf("/containers/json?all=1&filters=%s", filter);
}

static gboolean
docker_sweep_list(DockerPlugin *plugin, JsonNode *list, GError **error)
{
	if (!JSON_NODE_HOLDS_ARRAY(list))
		return TRUE;
	JsonArray *a = json_node_get_array(list);
	double grace = circuit_host_scrub_grace(plugin->host);
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonNode *n = json_array_get_element(a, i);
		if (!JSON_NODE_HOLDS_OBJECT(n))
			continue;
		JsonObject *c = json_node_get_object(n);
		JsonObject *labels =
		        json_object_has_member(c, "Labels") &&
		                        JSON_NODE_HOLDS_OBJECT(json_object_get_member(c, "Labels"))
		                ? json_object_get_object_member(c, "Labels")
		                : NULL;
		const char *id = json_object_get_string_member_with_default(c, "Id", NULL);
		if (!labels || !id)
			continue;
		const char *owner =
		        json_object_get_string_member_with_default(labels, DOCKER_LABEL_OWNER, "");
		const char *host =
		        json_object_get_string_member_with_default(labels, DOCKER_LABEL_HOST, "");
		const char *anchor = json_object_get_string_member_with_default(
		        labels, DOCKER_LABEL_ANCHOR, "?");
		const char *state = json_object_get_string_member_with_default(c, "State", "?");
		if (strcmp(host, plugin->hostname) != 0) {
			circuit_log(plugin->host, NULL, G_LOG_LEVEL_MESSAGE,
			            "container %s (%s, %s) belongs to a circuitd on host %s: left "
			            "alone",
			            id, anchor, state, host);
			continue;
		}
		if (docker_owner_alive(plugin, owner)) {
			circuit_log(
			        plugin->host, NULL, G_LOG_LEVEL_MESSAGE,
			        "container %s (%s, %s) belongs to a running circuitd (%s): left "
			        "alone",
			        id, anchor, state, owner);
			continue;
		}
		/* Only orphans need asynchronous calls, so only they load libcurl. */
		if (!docker_engine_ready(plugin->engine, error))
			return FALSE;
		DockerOrphan *o = g_new0(DockerOrphan, 1);
		o->plugin = plugin;
		o->id = g_strdup(id);
		o->name = g_strdup_printf("%.12s (%s, %s)", id, anchor, state);
		circuit_log(plugin->host, NULL, G_LOG_LEVEL_WARNING,
		            "container %s was made by a circuitd that is gone: stopping and "
		            "removing it",
		            o->name);
		g_autofree char *stop =
		        g_strdup_printf("/containers/%s/stop?t=%u", id, (guint)(grace + 0.999));
		docker_engine_call(plugin->engine, "POST", stop, NULL, grace + DOCKER_CALL_TIMEOUT,
		                   docker_orphan_stopped, o);
	}
	return TRUE;
}

static gboolean
docker_sweep(DockerPlugin *plugin, GError **error)
{
	g_autofree char *path = docker_sweep_path();
	g_autoptr(JsonNode) list =
	        docker_engine_get_sync(plugin->engine, path, DOCKER_INIT_TIMEOUT, error);
	return list && docker_sweep_list(plugin, list, error);
}

static void
docker_log_engine(DockerPlugin *plugin)
{
	DockerEngine *engine = plugin->engine;
	circuit_log(plugin->host, NULL, G_LOG_LEVEL_MESSAGE,
	            "engine at %s: version %s, speaking API %s (%s; it speaks %s to %s, circuit "
	            "%s to %s)",
	            docker_engine_socket(engine), docker_engine_version(engine),
	            docker_engine_api(engine), docker_engine_name_of(engine),
	            docker_engine_api_min(engine), docker_engine_api_max(engine), DOCKER_API_OLDEST,
	            DOCKER_API_NEWEST);
}

/* Which Docker API to speak: the unversioned /version, as the docker CLI asks. */
static gboolean
docker_check_engine(DockerPlugin *plugin, GError **error)
{
	g_autoptr(JsonNode) version =
	        docker_engine_get_sync(plugin->engine, "//version", DOCKER_INIT_TIMEOUT, error);
	if (!version || !docker_engine_negotiate(plugin->engine, version, error))
		return FALSE;
	docker_log_engine(plugin);
	return TRUE;
}

/* ---- an engine that was not there at start ------------------------------- */

static void docker_probe_schedule(DockerPlugin *plugin);

/* The kind is unavailable for @why: mk fails with it, and the engine is
 * looked for in the background until it answers. */
static void
docker_engine_down(DockerPlugin *plugin, const char *why)
{
	plugin->engine_up = FALSE;
	circuit_host_set_unavailable(plugin->host, why);
	docker_probe_schedule(plugin);
}

static void
docker_on_sweep_list(DockerCall *call, guint status, GBytes *body, const GError *error,
                     gpointer user_data)
{
	DockerPlugin *plugin = user_data;
	plugin->sweep_call = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(JsonNode) list = docker_body_json(body, error, &local);
	if (error || !list || !docker_sweep_list(plugin, list, &local))
		circuit_log(plugin->host, NULL, G_LOG_LEVEL_WARNING,
		            "looking for containers an earlier circuitd left: %s",
		            error   ? error->message
		            : local ? local->message
		                    : "no answer");
}

static void
docker_on_probe_version(DockerCall *call, guint status, GBytes *body, const GError *error,
                        gpointer user_data)
{
	DockerPlugin *plugin = user_data;
	plugin->probe_call = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(JsonNode) root = docker_body_json(body, error, &local);
	if (!error && !root)
		g_prefix_error(&local, "GET /version: the engine's answer is not JSON: ");
	if (error || !root || !docker_engine_negotiate(plugin->engine, root, &local)) {
		docker_engine_down(plugin, error ? error->message : local->message);
		return;
	}
	docker_log_engine(plugin);
	plugin->engine_up = TRUE;
	plugin->probe_delay = 0;
	circuit_host_set_unavailable(plugin->host, NULL);
	g_autofree char *path = docker_sweep_path();
	plugin->sweep_call = docker_engine_call(plugin->engine, "GET", path, NULL,
	                                        DOCKER_INIT_TIMEOUT, docker_on_sweep_list, plugin);
}

static void
docker_probe_fire(CircuitWatch *w, gpointer user_data)
{
	DockerPlugin *plugin = user_data;
	g_clear_pointer(&plugin->probe, circuit_watch_cancel);
	/* Nothing listens: nothing is loaded or asked (a host without an engine
	 * pays one connect() now and then). */
	if (!docker_engine_reachable(plugin->engine)) {
		docker_probe_schedule(plugin);
		return;
	}
	g_autoptr(GError) e = NULL;
	if (!docker_engine_ready(plugin->engine, &e)) {
		docker_engine_down(plugin, e->message);
		return;
	}
	plugin->probe_call =
	        docker_engine_call(plugin->engine, "GET", "//version", NULL, DOCKER_PING_TIMEOUT,
	                           docker_on_probe_version, plugin);
}

static void
docker_probe_schedule(DockerPlugin *plugin)
{
	if (plugin->probe || plugin->probe_call)
		return;
	plugin->probe_delay = plugin->probe_delay > 0
	                              ? MIN(plugin->probe_delay * 2, DOCKER_PROBE_MAX)
	                              : DOCKER_PROBE_FIRST;
	plugin->probe = circuit_watch_timer(plugin->host, plugin->probe_delay, 0, docker_probe_fire,
	                                    plugin, NULL);
}

void
docker_plugin_free(DockerPlugin *plugin)
{
	g_list_free_full(g_steal_pointer(&plugin->pending), (GDestroyNotify)docker_pending_free);
	circuit_watch_cancel(plugin->probe);
	docker_call_cancel(plugin->probe_call);
	docker_call_cancel(plugin->sweep_call);
	docker_engine_free(plugin->engine);
	docker_binds_free(plugin->binds);
	g_free(plugin->owner);
	g_free(plugin->hostname);
	g_free(plugin->boot_id);
	g_free(plugin);
}

/*
 * Whether circuitd's /tmp and /var/tmp may not be the engine's: systemd's
 * PrivateTmp= mounts a directory of its own there ("/systemd-private-..."),
 * or circuitd runs in another mount namespace than init (when it may tell).
 */
static gboolean
docker_private_tmp(void)
{
	g_autofree char *text = NULL;
	if (g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		for (guint i = 0; lines[i]; i++) {
			g_auto(GStrv) f = g_strsplit(lines[i], " ", 6);
			if (g_strv_length(f) >= 5 &&
			    (strcmp(f[4], "/tmp") == 0 || strcmp(f[4], "/var/tmp") == 0) &&
			    strstr(f[3], "/systemd-private-"))
				return TRUE;
		}
	}
	char self[128], init[128];
	ssize_t a = readlink("/proc/self/ns/mnt", self, sizeof self - 1);
	ssize_t b = readlink("/proc/1/ns/mnt", init, sizeof init - 1);
	if (a <= 0 || b <= 0)
		return FALSE;
	self[a] = '\0';
	init[b] = '\0';
	return strcmp(self, init) != 0;
}

DockerPlugin *
docker_plugin_new(CircuitHost *host, GError **error)
{
	const char *docker_host = circuit_host_option(host, "docker.host");
	DockerPlugin *plugin = g_new0(DockerPlugin, 1);
	plugin->host = host;
	plugin->engine = docker_engine_new(host, docker_host, error);
	if (!plugin->engine) {
		docker_plugin_free(plugin);
		return NULL;
	}
	/* --docker-allow-bind, one path per line; what it cannot allow is said now. */
	g_auto(GStrv) warnings = NULL;
	plugin->binds = docker_binds_new(circuit_host_option(host, "docker.allow-bind"),
	                                 docker_engine_socket(plugin->engine), docker_private_tmp(),
	                                 &warnings);
	for (guint i = 0; warnings[i]; i++)
		circuit_log(host, NULL, G_LOG_LEVEL_WARNING, "%s", warnings[i]);
	const char *nets = circuit_host_option(host, "docker.allow-network");
	g_auto(GStrv) modes = g_strsplit(nets ? nets : "", ",", -1);
	for (guint i = 0; modes[i]; i++) {
		plugin->allow_host_network |= strcmp(g_strstrip(modes[i]), "host") == 0;
		plugin->allow_container_network |= strcmp(modes[i], "container") == 0;
	}
	plugin->hostname = g_strdup(g_get_host_name());
	plugin->boot_id = docker_read_line("/proc/sys/kernel/random/boot_id");
	g_autofree char *pid = g_strdup_printf("%ld", (long)getpid());
	g_autofree char *start = docker_proc_start(pid);
	plugin->owner = g_strdup_printf("%s/%s/%s", plugin->boot_id, pid, start ? start : "0");
	g_autoptr(GError) local = NULL;
	g_autoptr(JsonNode) ping =
	        docker_engine_get_sync(plugin->engine, "//_ping", DOCKER_PING_TIMEOUT, &local);
	/* /_ping answers plain "OK", which is not JSON: only reachability counts. */
	if (local && local->code == CIRCUIT_ERROR_UNAVAILABLE &&
	    strstr(local->message, "did not answer")) {
		docker_engine_down(plugin, local->message);
		return plugin;
	}
	g_clear_error(&local);
	/* An engine that is not there yet, or not one we can speak to: the
	 * server starts without the kind and keeps looking (an engine started
	 * or upgraded later makes it available). */
	if (!docker_check_engine(plugin, &local) || !docker_sweep(plugin, &local)) {
		docker_engine_down(plugin, local->message);
		return plugin;
	}
	plugin->engine_up = TRUE;
	return plugin;
}

/* The server's peek: "Kinds": {"docker": {"Engine": ..., "PendingRemovals": [...]}}. */
JsonNode *
docker_plugin_peek(DockerPlugin *plugin)
{
	JsonObject *o = json_object_new();
	docker_plugin_peek_engine(plugin, o);
	json_object_set_boolean_member(json_object_get_object_member(o, "Engine"), "Answering",
	                               plugin->engine_up);
	json_object_set_member(o, "PendingRemovals", docker_pending_peek(plugin));
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}
