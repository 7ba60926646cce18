// SPDX-License-Identifier: Apache-2.0
//
// docker.c - the docker element: a container run by a Docker-API engine on
// behalf of a client, with its stdin, stdout and stderr reachable from
// anywhere. Everything talks to the engine asynchronously (docker_engine.c),
// so a slow or vanished engine never stalls the server.
//
// Life of an element: create() checks the spec and returns at once; then,
// in the loop: [pull] -> create the container (named after the anchor,
// labelled with the server and anchor) -> attach (one hijacked connection
// carrying stdin, stdout and stderr) -> start once the engine has accepted
// the attach (so no early output is lost) -> wait. Operations that arrive
// before the container runs are held until it does, or fail with the reason
// it could not be made. See docs/docker.md for the decisions.
#include "docker_engine.h"
#include "docker_spec.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Output read ahead of readers, per stream, before the attach connection is
 * paused (back-pressure: the engine then stops reading the container). */
#define DOCKER_OUT_CAP      (256u * 1024u)
#define DOCKER_CALL_TIMEOUT 60.0
#define DOCKER_PING_TIMEOUT 10.0
/* A loaded engine may take seconds to list containers. */
#define DOCKER_INIT_TIMEOUT 30.0

#define DOCKER_LABEL_SERVER "io.circuit.server"
#define DOCKER_LABEL_ANCHOR "io.circuit.anchor"
#define DOCKER_LABEL_OWNER  "io.circuit.owner"
#define DOCKER_LABEL_HOST   "io.circuit.host"

/* ---- plugin state -------------------------------------------------------- */

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
/* Output whose connection broke before the exit was known is read again
 * from the engine's log; readers wait this long for the engine to answer
 * before they fail (a later read tries again). */
#define DOCKER_REATTACH_FIRST    0.2
#define DOCKER_REATTACH_MAX      2.0
#define DOCKER_REATTACH_PATIENCE 10.0

typedef struct {
	CircuitHost *host;
	DockerEngine *engine;
	DockerBinds *binds; /* the host paths specs may bind (--docker-allow-bind) */
	/* docker.allow-network: the modes that leave the container's own
	 * network namespace ("Network": "host", "container:..."). */
	gboolean allow_host_network;
	gboolean allow_container_network;
	char *owner; /* "<boot id>/<pid>/<start time>" of this circuitd */
	char *hostname;
	char *boot_id;
	guint64 seq;

	gboolean engine_up;  /* negotiated: the kind is available */
	CircuitWatch *probe; /* looking for the engine (see DOCKER_PROBE_*) */
	double probe_delay;
	DockerCall *probe_call; /* the unversioned /version, asked in the background */
	DockerCall *sweep_call; /* the orphan sweep's list, in the background */
	GList *pending;         /* DockerPending: removals the engine has yet to do */
} DockerPlugin;

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

typedef enum {
	DOCKER_PULLING,
	DOCKER_CREATING,
	DOCKER_ATTACHING,
	DOCKER_STARTING,
	DOCKER_RUNNING,
	DOCKER_EXITED,
	DOCKER_FAILED,
} DockerPhase;

static const char *const docker_phase_names[] = {
        "pulling", "creating", "attaching", "starting", "running", "exited", "failed",
};

typedef struct Docker Docker;

typedef struct {
	Docker *docker;
	CircuitStream *stream;
	char *signal; /* "SIGTERM" or a number */
	DockerCall *call;
} DockerSignal;

struct Docker {
	CircuitElement *element;
	CircuitHost *host;
	DockerPlugin *plugin;
	DockerSpec *spec;
	char *name;
	char *id;
	DockerPhase phase;
	gboolean reported; /* circuit_element_created() called */
	GError *error;     /* why it failed (DOCKER_FAILED) */
	gboolean pulled;

	DockerCall *step;  /* pull, create or start in flight */
	gboolean step_ref; /* scrubbed during a step: holds an element ref */

	DockerRaw *attach;
	gboolean attach_live;
	gboolean attach_done;
	GError *attach_error;
	DockerDemux demux;
	guint64 seen[2]; /* stdout, stderr bytes received so far (attach or logs) */

	/* Output after the connection broke (the engine restarted or stopped)
	 * before the exit was known: read again from the engine's log, the
	 * first seen[] bytes of each stream skipped. */
	gboolean gap;
	DockerRaw *logs;
	DockerDemux logs_demux;
	guint64 skip[2];
	CircuitWatch *reattach;
	double reattach_delay;
	gint64 reattach_since;  /* monotonic µs: when the engine was first missed */
	GError *reattach_error; /* readers gave up waiting (a new read tries again) */

	DockerCall *wait_call;
	GError *wait_error; /* the last wait failed (engine gone): retried by `wait` */
	gboolean exited;
	gint64 exit_code;
	gboolean settled; /* exited and inspected: waiters may be answered */

	JsonNode *inspect;
	DockerCall *inspect_call;

	CircuitInlet *in;   /* stdin */
	CircuitOutlet *out; /* stdout */
	CircuitOutlet *err; /* stderr */
	GList *waiters;     /* CircuitStream */
	GList *signals;     /* DockerSignal */

	gboolean scrubbed;
	DockerCall *removal; /* stop and remove, holding an element ref */
	gboolean removed;
};

static void docker_remove(Docker *d);
static void docker_out_pump(Docker *d);
static void docker_reattach_begin(Docker *d);
static void docker_pending_add(DockerPlugin *plugin, const char *ref, const char *anchor,
                               gboolean by_name, const char *why);

static GError *docker_error(int code, const char *format, ...) G_GNUC_PRINTF(2, 3);

static GError *
docker_error(int code, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *m = g_strdup_vprintf(format, ap);
	va_end(ap);
	return g_error_new_literal(CIRCUIT_ERROR, code, m);
}

static const char *
docker_path(Docker *d)
{
	return circuit_element_path(d->element);
}

/* ---- status -------------------------------------------------------------- */

static gboolean
docker_failed_outcome(Docker *d)
{
	return d->exited && d->exit_code != 0;
}

/* What `wait` answers: the exit and the engine's view of the end. */
static JsonNode *
docker_wait_result(Docker *d)
{
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "Name", d->name);
	json_object_set_string_member(o, "Id", d->id ? d->id : "");
	json_object_set_string_member(o, "Image", d->spec->image);
	json_object_set_string_member(o, "Phase", docker_phase_names[d->phase]);
	json_object_set_int_member(o, "ExitCode", d->exit_code);
	if (d->exit_code == 0) {
		json_object_set_null_member(o, "Exit");
	} else {
		g_autofree char *m = g_strdup_printf("exit status %" G_GINT64_FORMAT, d->exit_code);
		json_object_set_string_member(o, "Exit", m);
	}
	JsonObject *state = NULL;
	if (d->inspect && JSON_NODE_HOLDS_OBJECT(d->inspect)) {
		JsonObject *i = json_node_get_object(d->inspect);
		if (json_object_has_member(i, "State") &&
		    JSON_NODE_HOLDS_OBJECT(json_object_get_member(i, "State")))
			state = json_object_get_object_member(i, "State");
	}
	static const char *const copy[] = {"OOMKilled", "StartedAt", "FinishedAt", "Error"};
	for (guint i = 0; i < G_N_ELEMENTS(copy); i++) {
		if (state && json_object_has_member(state, copy[i]))
			json_object_set_member(
			        o, copy[i], json_node_copy(json_object_get_member(state, copy[i])));
	}
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

static void docker_on_inspect(DockerCall *call, guint status, GBytes *body, const GError *error,
                              gpointer user_data);

static void
docker_refresh_inspect(Docker *d)
{
	if (!d->id || d->removed || d->inspect_call)
		return;
	g_autofree char *path = g_strdup_printf("/containers/%s/json", d->id);
	d->inspect_call = docker_engine_call(d->plugin->engine, "GET", path, NULL,
	                                     DOCKER_CALL_TIMEOUT, docker_on_inspect, d);
}

/* ---- waiters and exit ---------------------------------------------------- */

static void
docker_answer_waiters(Docker *d)
{
	GList *waiters = g_steal_pointer(&d->waiters);
	for (GList *l = waiters; l; l = l->next) {
		circuit_stream_done(l->data, docker_wait_result(d), docker_failed_outcome(d));
	}
	g_list_free(waiters);
}

static void
docker_fail_waiters(Docker *d, const GError *error)
{
	GList *waiters = g_steal_pointer(&d->waiters);
	for (GList *l = waiters; l; l = l->next)
		circuit_stream_fail(l->data, error);
	g_list_free(waiters);
}

/* The exit is known and the engine inspected: answer, end output, scrub. */
static void
docker_settle(Docker *d)
{
	if (d->settled)
		return;
	d->settled = TRUE;
	CircuitElement *element = circuit_element_ref(d->element);
	docker_answer_waiters(d);
	docker_out_pump(d);
	if (d->spec->scrub && !circuit_element_is_scrubbed(d->element))
		circuit_element_scrub(d->element);
	circuit_element_unref(element);
}

static void
docker_on_inspect(DockerCall *call, guint status, GBytes *body, const GError *error,
                  gpointer user_data)
{
	Docker *d = user_data;
	d->inspect_call = NULL;
	if (error) {
		circuit_log(d->host, d->element, G_LOG_LEVEL_INFO, "inspect: %s", error->message);
	} else {
		JsonNode *root = docker_body_json(body, error, NULL);
		if (root) {
			g_clear_pointer(&d->inspect, json_node_unref);
			d->inspect = root;
		}
	}
	if (d->exited)
		docker_settle(d);
}

static void docker_start_wait(Docker *d);

/* The container ended with @code. @inspected: d->inspect is the final view
 * already; otherwise it is fetched before anyone is answered. */
static void
docker_exited(Docker *d, gint64 code, gboolean inspected)
{
	d->exited = TRUE;
	d->exit_code = code;
	/* Nothing reads the container's input any more. */
	g_autoptr(GError) e = docker_error(CIRCUIT_ERROR_CLOSED,
	                                   "stdin of %s: the container exited", docker_path(d));
	circuit_inlet_close(d->in, e);
	if (d->phase != DOCKER_FAILED)
		d->phase = DOCKER_EXITED;
	circuit_oplog_event(d->element, "exit", code);
	docker_call_cancel(d->inspect_call);
	d->inspect_call = NULL;
	if (!inspected)
		docker_refresh_inspect(d);
	if (!d->inspect_call)
		docker_settle(d);
}

static void
docker_on_wait(DockerCall *call, guint status, GBytes *body, const GError *error,
               gpointer user_data)
{
	Docker *d = user_data;
	d->wait_call = NULL;
	gint64 code = -1;
	g_autoptr(JsonNode) root = docker_body_json(body, error, NULL);
	if (root && JSON_NODE_HOLDS_OBJECT(root))
		code = json_object_get_int_member_with_default(json_node_get_object(root),
		                                               "StatusCode", -1);
	if (error || code < 0) {
		g_clear_error(&d->wait_error);
		d->wait_error =
		        docker_error(CIRCUIT_ERROR_UNAVAILABLE, "wait for %s: %s", d->name,
		                     error ? error->message : "the engine gave no exit code");
		circuit_log(d->host, d->element, G_LOG_LEVEL_WARNING, "%s", d->wait_error->message);
		docker_fail_waiters(d, d->wait_error);
		/* The engine went away while the container ran: whatever it printed
		 * since may have missed the attach connection. */
		if (d->phase == DOCKER_RUNNING && !d->scrubbed) {
			d->gap = TRUE;
			if (d->attach_done)
				docker_reattach_begin(d);
		}
		docker_out_pump(d);
		return;
	}
	docker_exited(d, code, FALSE);
}

static void
docker_start_wait(Docker *d)
{
	if (d->wait_call || d->exited || !d->id)
		return;
	g_clear_error(&d->wait_error);
	g_autofree char *path = g_strdup_printf("/containers/%s/wait", d->id);
	d->wait_call =
	        docker_engine_call(d->plugin->engine, "POST", path, NULL, 0, docker_on_wait, d);
}

/* ---- failure ------------------------------------------------------------- */

static void docker_signal_send(DockerSignal *sig);

static void
docker_signal_free(DockerSignal *sig)
{
	docker_call_cancel(sig->call);
	g_free(sig->signal);
	g_free(sig);
}

static void
docker_fail_signals(Docker *d, const GError *error)
{
	GList *sigs = g_steal_pointer(&d->signals);
	for (GList *l = sigs; l; l = l->next) {
		DockerSignal *sig = l->data;
		CircuitStream *s = sig->stream;
		sig->stream = NULL;
		docker_call_cancel(sig->call);
		sig->call = NULL;
		circuit_stream_fail(s, error);
	}
	g_list_free(sigs);
}

/* The container could not be made or run: everything waiting learns why. */
static void
docker_fail(Docker *d, GError *error)
{
	if (d->phase == DOCKER_FAILED || d->exited) {
		g_error_free(error);
		return;
	}
	CircuitElement *element = circuit_element_ref(d->element);
	d->phase = DOCKER_FAILED;
	g_prefix_error(&error, "%s: ", docker_path(d));
	d->error = error;
	circuit_log(d->host, NULL, G_LOG_LEVEL_WARNING, "%s", error->message);
	circuit_oplog_event(d->element, "failed", 0);
	g_clear_pointer(&d->attach, docker_raw_free);
	g_clear_pointer(&d->logs, docker_raw_free);
	g_clear_pointer(&d->reattach, circuit_watch_cancel);
	d->attach_live = FALSE;
	docker_call_cancel(d->wait_call);
	d->wait_call = NULL;
	docker_fail_waiters(d, d->error);
	docker_fail_signals(d, d->error);
	circuit_inlet_close(d->in, d->error);
	docker_out_pump(d);
	docker_remove(d);
	if (!d->reported) {
		/* The mk fails with the engine's reason, and the element goes. */
		d->reported = TRUE;
		circuit_element_created(d->element, d->error);
	} else if (d->spec->scrub && !circuit_element_is_scrubbed(d->element)) {
		circuit_element_scrub(d->element);
	}
	circuit_element_unref(element);
}

/* ---- output -------------------------------------------------------------- */

/* Output ends once drained when the container failed; when the attach
 * connection ended and the exit is known, with nothing missed; or with the
 * reason its output after a broken connection cannot be read now. */
static gboolean
docker_out_ended(CircuitOutlet *outlet, const GError **error, gpointer user_data)
{
	Docker *d = user_data;
	if (d->phase == DOCKER_FAILED) {
		*error = d->error;
		return TRUE;
	}
	if (d->attach || d->logs || !d->attach_done)
		return FALSE; /* a connection still brings output */
	if (d->gap) {
		*error = d->reattach_error;
		return d->reattach_error != NULL;
	}
	if (d->attach_error) {
		*error = d->attach_error;
		return TRUE;
	}
	*error = NULL;
	return d->settled;
}

/* Stdout and stderr come multiplexed on one connection: it is read only
 * while neither holds more than DOCKER_OUT_CAP. */
static void
docker_attach_resume(Docker *d)
{
	if (circuit_outlet_held(d->out) >= DOCKER_OUT_CAP ||
	    circuit_outlet_held(d->err) >= DOCKER_OUT_CAP)
		return;
	if (d->attach && d->attach_live)
		docker_raw_set_reading(d->attach, TRUE);
	if (d->logs)
		docker_raw_set_reading(d->logs, TRUE);
}

static void
docker_out_resume(CircuitOutlet *outlet, gpointer user_data)
{
	docker_attach_resume(user_data);
}

static const CircuitOutletFuncs docker_out_funcs = {
        .ended = docker_out_ended,
        .resume = docker_out_resume,
};

static void
docker_out_pump(Docker *d)
{
	circuit_outlet_pump(d->out);
	circuit_outlet_pump(d->err);
}

static void
docker_op_output(Docker *d, CircuitOutlet *outlet, CircuitStream *stream)
{
	if (d->phase == DOCKER_FAILED) {
		circuit_stream_fail(stream, d->error);
		return;
	}
	/* A reader after an outage that outlasted the last one's patience:
	 * ask the engine again, for the exit and the output. */
	if (d->gap && d->reattach_error && !d->scrubbed) {
		g_clear_error(&d->reattach_error);
		docker_reattach_begin(d);
	}
	if (d->attach_done && !d->exited && !d->wait_call && !d->scrubbed)
		docker_start_wait(d);
	circuit_outlet_serve(outlet, stream);
}

static void
docker_op_stdout(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	docker_op_output(ctx, ((Docker *)ctx)->out, s);
}

static void
docker_op_stderr(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	docker_op_output(ctx, ((Docker *)ctx)->err, s);
}

/* What the element read from the engine (up to DOCKER_OUT_CAP ahead of a
 * reader), not the engine's log: output the engine has not sent is not in it. */
static void
docker_op_tail(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	Docker *d = ctx;
	CircuitOutlet *outlets[] = {d->out, d->err, NULL};
	circuit_outlet_serve_tail(outlets, s, args);
}

/* ---- the attach connection ----------------------------------------------- */

static void
docker_on_demuxed(guint8 stream, const guint8 *data, gsize len, gpointer user_data)
{
	Docker *d = user_data;
	if (stream == 2) {
		d->seen[1] += len;
		circuit_outlet_write(d->err, data, len);
	} else if (stream <= 1) {
		d->seen[0] += len;
		circuit_outlet_write(d->out, data, len);
	} else
		circuit_log(d->host, d->element, G_LOG_LEVEL_WARNING, "engine: %.*s", (int)len,
		            (const char *)data);
}

/* Output arrived on *@raw (d->attach or d->logs): to the readers, and the
 * connection paused while either outlet holds too much. */
static void
docker_out_fed(Docker *d, DockerRaw **raw)
{
	docker_out_pump(d);
	if (*raw && (circuit_outlet_held(d->out) >= DOCKER_OUT_CAP ||
	             circuit_outlet_held(d->err) >= DOCKER_OUT_CAP))
		docker_raw_set_reading(*raw, FALSE);
}

static void
docker_attach_data(DockerRaw *raw, const guint8 *data, gsize len, gpointer user_data)
{
	Docker *d = user_data;
	docker_demux_feed(&d->demux, data, len, docker_on_demuxed, d);
	docker_out_fed(d, &d->attach);
}

static void
docker_attach_writable(DockerRaw *raw, gpointer user_data)
{
	circuit_inlet_flush(((Docker *)user_data)->in);
}

static void docker_on_start(DockerCall *call, guint status, GBytes *body, const GError *error,
                            gpointer user_data);

static void
docker_attach_ready(DockerRaw *raw, gpointer user_data)
{
	Docker *d = user_data;
	d->attach_live = TRUE;
	if (d->scrubbed)
		return; /* never started; the removal is under way */
	d->phase = DOCKER_STARTING;
	g_autofree char *path = g_strdup_printf("/containers/%s/start", d->id);
	d->step = docker_engine_call(d->plugin->engine, "POST", path, NULL, DOCKER_CALL_TIMEOUT,
	                             docker_on_start, d);
	circuit_inlet_flush(d->in);
}

static void
docker_attach_end(DockerRaw *raw, const GError *error, gpointer user_data)
{
	Docker *d = user_data;
	CircuitElement *element = circuit_element_ref(d->element);
	gboolean was_live = d->attach_live;
	d->attach_done = TRUE;
	d->attach_live = FALSE;
	g_clear_pointer(&d->attach, docker_raw_free);
	if (!was_live && !d->scrubbed) {
		docker_fail(d, docker_error(error ? error->code : CIRCUIT_ERROR_FAILED,
		                            "attaching to container %s: %s", d->name,
		                            error ? error->message : "no answer"));
	} else {
		/* Broken before the exit was known: the rest is in the engine's log. */
		if (error && !d->exited && !d->scrubbed)
			d->gap = TRUE;
		else if (error)
			d->attach_error = g_error_copy(error);
		g_autoptr(GError) e =
		        d->gap      ? docker_error(CIRCUIT_ERROR_CLOSED,
		                                   "stdin of %s: the connection to the container broke "
		                                        "(the engine restarted or stopped), and an engine "
		                                        "does not carry a container's input over",
		                                   docker_path(d))
		        : d->exited ? docker_error(CIRCUIT_ERROR_CLOSED,
		                                   "stdin of %s: the container's input closed",
		                                   docker_path(d))
		                    : docker_error(CIRCUIT_ERROR_CLOSED,
		                                   "stdin of %s: the connection to the container "
		                                   "ended (it is exiting, or the engine restarted "
		                                   "or stopped: an engine does not carry a "
		                                   "container's input over)",
		                                   docker_path(d));
		circuit_inlet_close(d->in, e);
		if (d->gap)
			docker_reattach_begin(d);
		docker_out_pump(d);
	}
	circuit_element_unref(element);
}

static const DockerRawFuncs docker_attach_funcs = {
        .ready = docker_attach_ready,
        .data = docker_attach_data,
        .writable = docker_attach_writable,
        .end = docker_attach_end,
};

/* ---- output again, after the connection broke ------------------------- */

static void docker_reattach_try(Docker *d);

static void
docker_on_logged(guint8 stream, const guint8 *data, gsize len, gpointer user_data)
{
	Docker *d = user_data;
	guint i = stream == 2 ? 1 : 0;
	if (stream > 2) {
		docker_on_demuxed(stream, data, len, d);
		return;
	}
	gsize drop = (gsize)MIN((guint64)len, d->skip[i]);
	d->skip[i] -= drop;
	if (len > drop)
		docker_on_demuxed(stream, data + drop, len - drop, d);
}

static void
docker_logs_ready(DockerRaw *raw, gpointer user_data)
{
	Docker *d = user_data;
	d->reattach_delay = 0;
	d->reattach_since = 0;
	circuit_log(d->host, d->element, G_LOG_LEVEL_MESSAGE,
	            "reading the output again from the engine's log, after the %" G_GUINT64_FORMAT
	            " bytes of stdout and %" G_GUINT64_FORMAT " of stderr already read",
	            d->seen[0], d->seen[1]);
	/* The exit is asked for again; the log ends with the container. */
	if (!d->exited && !d->wait_call)
		docker_start_wait(d);
}

static void
docker_logs_data(DockerRaw *raw, const guint8 *data, gsize len, gpointer user_data)
{
	Docker *d = user_data;
	docker_demux_feed(&d->logs_demux, data, len, docker_on_logged, d);
	docker_out_fed(d, &d->logs);
}

static void
docker_logs_end(DockerRaw *raw, const GError *error, gpointer user_data)
{
	Docker *d = user_data;
	CircuitElement *element = circuit_element_ref(d->element);
	g_clear_pointer(&d->logs, docker_raw_free);
	if (!error) {
		/* Followed to its end: the container exited, or the engine went
		 * away again, which the wait tells (and then reattaches). */
		d->gap = FALSE;
		if (!d->exited && !d->wait_call)
			docker_start_wait(d);
	} else if (error->code == CIRCUIT_ERROR_NOT_FOUND) {
		g_clear_error(&d->reattach_error);
		d->reattach_error = docker_error(CIRCUIT_ERROR_FAILED,
		                                 "the connection to the container broke and its "
		                                 "output since is lost: %s",
		                                 error->message);
		circuit_log(d->host, d->element, G_LOG_LEVEL_WARNING, "%s",
		            d->reattach_error->message);
	} else {
		docker_reattach_try(d);
	}
	docker_out_pump(d);
	circuit_element_unref(element);
}

static const DockerRawFuncs docker_logs_funcs = {
        .ready = docker_logs_ready,
        .data = docker_logs_data,
        .end = docker_logs_end,
};

static void
docker_reattach_fire(CircuitWatch *w, gpointer user_data)
{
	Docker *d = user_data;
	g_clear_pointer(&d->reattach, circuit_watch_cancel);
	if (d->logs || d->scrubbed || d->phase == DOCKER_FAILED)
		return;
	if (!docker_engine_reachable(d->plugin->engine)) {
		docker_reattach_try(d);
		return;
	}
	d->skip[0] = d->seen[0];
	d->skip[1] = d->seen[1];
	memset(&d->logs_demux, 0, sizeof d->logs_demux);
	g_autofree char *path =
	        g_strdup_printf("/containers/%s/logs?follow=1&stdout=1&stderr=1", d->id);
	d->logs = docker_engine_stream(d->plugin->engine, path, &docker_logs_funcs, d);
}

/* The next attempt, after a back-off; past the patience, readers fail with
 * why (the attempts resume with the next reader). */
static void
docker_reattach_try(Docker *d)
{
	if (d->logs || d->reattach || !d->id)
		return;
	gint64 now = g_get_monotonic_time();
	if (!d->reattach_since)
		d->reattach_since = now;
	if (now - d->reattach_since > (gint64)(DOCKER_REATTACH_PATIENCE * G_USEC_PER_SEC)) {
		if (!d->reattach_error) {
			d->reattach_error = docker_error(
			        CIRCUIT_ERROR_UNAVAILABLE,
			        "the connection to the container broke and the engine at %s has "
			        "not answered for %.0f s; read again once it is back: the output "
			        "goes on where it stopped",
			        docker_engine_socket(d->plugin->engine), DOCKER_REATTACH_PATIENCE);
			circuit_log(d->host, d->element, G_LOG_LEVEL_WARNING, "%s",
			            d->reattach_error->message);
		}
		d->reattach_since = 0;
		d->reattach_delay = 0;
		docker_out_pump(d);
		return;
	}
	d->reattach_delay = d->reattach_delay > 0 ? MIN(d->reattach_delay * 2, DOCKER_REATTACH_MAX)
	                                          : DOCKER_REATTACH_FIRST;
	d->reattach =
	        circuit_watch_timer(d->host, d->reattach_delay, 0, docker_reattach_fire, d, NULL);
}

/* The output may have missed bytes: read them from the engine's log. */
static void
docker_reattach_begin(Docker *d)
{
	if (d->logs || d->reattach || d->scrubbed)
		return;
	circuit_log(d->host, d->element, G_LOG_LEVEL_WARNING,
	            "the connection to container %s broke before it exited: its output is "
	            "read again from the engine's log once the engine answers",
	            d->name);
	d->reattach_since = 0;
	d->reattach_delay = 0;
	docker_reattach_try(d);
}

/* ---- input --------------------------------------------------------------- */

/* Input goes to the attach connection once it is live (before that, it
 * waits in the inlet). */
static gssize
docker_in_write(CircuitInlet *inlet, const guint8 *data, gsize len, gpointer user_data,
                GError **error)
{
	Docker *d = user_data;
	if (!d->attach_live)
		return 0;
	g_autoptr(GError) e = NULL;
	gssize n = docker_raw_send(d->attach, data, len, &e);
	if (n < 0)
		*error = docker_error(CIRCUIT_ERROR_FAILED, "stdin of %s: %s", docker_path(d),
		                      e->message);
	return n; /* 0: `writable` flushes again */
}

static gboolean
docker_in_end(CircuitInlet *inlet, gpointer user_data)
{
	Docker *d = user_data;
	if (!d->attach_live)
		return FALSE;
	docker_raw_shutdown_write(d->attach);
	return TRUE;
}

static const CircuitInletFuncs docker_in_funcs = {
        .write = docker_in_write,
        .end = docker_in_end,
};

static void
docker_op_stdin(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	Docker *d = ctx;
	if (d->phase == DOCKER_FAILED)
		circuit_stream_fail(s, d->error);
	else
		circuit_inlet_serve(d->in, s);
}

/* ---- wait, signal -------------------------------------------------------- */

static void
docker_waiter_closed(CircuitStream *s, const GError *error, gpointer user_data)
{
	Docker *d = user_data;
	d->waiters = g_list_remove(d->waiters, s);
}

static const CircuitStreamFuncs docker_waiter_funcs = {
        .closed = docker_waiter_closed,
};

static void
docker_op_wait(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	Docker *d = ctx;
	if (d->phase == DOCKER_FAILED) {
		circuit_stream_fail(s, d->error);
		return;
	}
	if (d->settled) {
		circuit_stream_done(s, docker_wait_result(d), docker_failed_outcome(d));
		return;
	}
	d->waiters = g_list_prepend(d->waiters, s);
	circuit_stream_set_funcs(s, &docker_waiter_funcs, d, NULL);
	/* After an engine outage the exit is asked for again. */
	if (d->phase == DOCKER_RUNNING)
		docker_start_wait(d);
}

/* The stream owns its DockerSignal (freed by its notify, after `closed`). */
static void
docker_signal_closed(CircuitStream *s, const GError *error, gpointer user_data)
{
	DockerSignal *sig = user_data;
	if (sig->stream != s)
		return;
	sig->docker->signals = g_list_remove(sig->docker->signals, sig);
	sig->stream = NULL;
	docker_call_cancel(sig->call);
	sig->call = NULL;
}

static const CircuitStreamFuncs docker_signal_funcs = {
        .closed = docker_signal_closed,
};

static void
docker_on_kill(DockerCall *call, guint status, GBytes *body, const GError *error,
               gpointer user_data)
{
	DockerSignal *sig = user_data;
	Docker *d = sig->docker;
	sig->call = NULL;
	d->signals = g_list_remove(d->signals, sig);
	CircuitStream *s = sig->stream;
	sig->stream = NULL;
	if (error) {
		g_autoptr(GError) e = docker_error(error->code, "%s: kill %s: %s", docker_path(d),
		                                   sig->signal, error->message);
		circuit_stream_fail(s, e);
	} else {
		circuit_stream_done(s, NULL, FALSE);
	}
	docker_call_cancel(d->inspect_call);
	d->inspect_call = NULL;
	docker_refresh_inspect(d);
}

static void
docker_signal_send(DockerSignal *sig)
{
	Docker *d = sig->docker;
	g_autofree char *path =
	        g_strdup_printf("/containers/%s/kill?signal=%s", d->id, sig->signal);
	sig->call = docker_engine_call(d->plugin->engine, "POST", path, NULL, DOCKER_CALL_TIMEOUT,
	                               docker_on_kill, sig);
}

static void
docker_op_signal(CircuitElement *e, gpointer ctx, CircuitStream *s, const char *const *args)
{
	Docker *d = ctx;
	g_autofree char *name = docker_signal_parse(args[0]);
	g_autoptr(GError) err = NULL;
	if (!name)
		err = docker_error(CIRCUIT_ERROR_INVALID,
		                   "unknown signal \"%s\" (use a name like TERM, KILL, HUP, INT, "
		                   "USR1 or a number)",
		                   args[0]);
	else if (d->phase == DOCKER_FAILED)
		err = g_error_copy(d->error);
	else if (d->exited)
		err = docker_error(CIRCUIT_ERROR_FAILED, "%s: the container has exited already",
		                   docker_path(d));
	if (err) {
		circuit_stream_fail(s, err);
		return;
	}
	DockerSignal *sig = g_new0(DockerSignal, 1);
	sig->docker = d;
	sig->stream = s;
	sig->signal = g_steal_pointer(&name);
	d->signals = g_list_append(d->signals, sig);
	circuit_stream_set_funcs(s, &docker_signal_funcs, sig, (GDestroyNotify)docker_signal_free);
	/* Before it runs, the signal waits for the start. */
	if (d->phase == DOCKER_RUNNING)
		docker_signal_send(sig);
}

/* ---- making the container ------------------------------------------------ */

static void
docker_on_start(DockerCall *call, guint status, GBytes *body, const GError *error,
                gpointer user_data)
{
	Docker *d = user_data;
	d->step = NULL;
	if (d->step_ref) {
		d->step_ref = FALSE;
		docker_remove(d);
		circuit_element_unref(d->element);
		return;
	}
	if (error) {
		docker_fail(d, docker_error(error->code, "starting container %s: %s", d->name,
		                            error->message));
		return;
	}
	d->phase = DOCKER_RUNNING;
	/* mkdkr answers once the container runs (or with why it could not). */
	if (!d->reported) {
		d->reported = TRUE;
		circuit_element_created(d->element, NULL);
	}
	docker_start_wait(d);
	docker_refresh_inspect(d);
	for (GList *l = d->signals; l; l = l->next)
		if (!((DockerSignal *)l->data)->call)
			docker_signal_send(l->data);
}

static void docker_create_container(Docker *d);

static void
docker_on_create(DockerCall *call, guint status, GBytes *body, const GError *error,
                 gpointer user_data)
{
	Docker *d = user_data;
	d->step = NULL;
	if (!error) {
		g_autoptr(JsonNode) root = docker_body_json(body, error, NULL);
		if (root && JSON_NODE_HOLDS_OBJECT(root)) {
			const char *id = json_object_get_string_member_with_default(
			        json_node_get_object(root), "Id", NULL);
			d->id = g_strdup(id);
		}
	}
	/* No answer (a timeout, or the engine went away): it may have made the
	 * container anyway, or make it once it runs again. */
	if (error && status == 0)
		docker_pending_add(d->plugin, d->name, docker_path(d), TRUE, error->message);
	if (d->step_ref) {
		d->step_ref = FALSE;
		docker_remove(d);
		circuit_element_unref(d->element);
		return;
	}
	if (error && status == 404 && d->spec->pull && !d->pulled) {
		d->pulled = TRUE;
		docker_create_container(d);
		return;
	}
	if (error && status == 404) {
		docker_fail(d, docker_error(CIRCUIT_ERROR_NOT_FOUND,
		                            "no image \"%s\" on the engine (%s); pull it there "
		                            "first, or add \"Pull\": true to the spec",
		                            d->spec->image, error->message));
		return;
	}
	if (error) {
		docker_fail(d, docker_error(error->code, "creating container %s: %s", d->name,
		                            error->message));
		return;
	}
	if (!d->id) {
		docker_fail(d,
		            docker_error(CIRCUIT_ERROR_FAILED,
		                         "creating container %s: the engine gave no Id", d->name));
		return;
	}
	d->phase = DOCKER_ATTACHING;
	g_autofree char *path =
	        g_strdup_printf("/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1", d->id);
	d->attach = docker_engine_attach(d->plugin->engine, path, &docker_attach_funcs, d);
}

/* The error of a pull, which the engine may report inside a 200 stream. */
static char *
docker_pull_error(GBytes *body)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(body, &len);
	g_autofree char *text = g_strndup(data, len);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		if (!*g_strstrip(lines[i]))
			continue;
		g_autoptr(JsonNode) root = circuit_json_load(lines[i], strlen(lines[i]), NULL);
		if (!root || !JSON_NODE_HOLDS_OBJECT(root))
			continue;
		JsonObject *o = json_node_get_object(root);
		const char *e = json_object_get_string_member_with_default(o, "error", NULL);
		/* API 1.48 deprecated "error" for "errorDetail": {"message"}. */
		JsonNode *detail = json_object_get_member(o, "errorDetail");
		if ((!e || !*e) && detail && JSON_NODE_HOLDS_OBJECT(detail))
			e = json_object_get_string_member_with_default(json_node_get_object(detail),
			                                               "message", NULL);
		if (e && *e)
			return g_strdup(e);
	}
	return NULL;
}

static void
docker_on_pull(DockerCall *call, guint status, GBytes *body, const GError *error,
               gpointer user_data)
{
	Docker *d = user_data;
	d->step = NULL;
	g_autofree char *why = error ? g_strdup(error->message) : docker_pull_error(body);
	if (d->step_ref) {
		d->step_ref = FALSE;
		circuit_element_unref(d->element);
		return;
	}
	if (why) {
		docker_fail(d, docker_error(CIRCUIT_ERROR_NOT_FOUND, "pulling image \"%s\": %s",
		                            d->spec->image, why));
		return;
	}
	d->phase = DOCKER_CREATING;
	docker_create_container(d);
}

static void
docker_create_container(Docker *d)
{
	if (d->pulled) {
		g_autofree char *repo = NULL, *tag = NULL;
		docker_image_split(d->spec->image, &repo, &tag);
		g_autofree char *erepo = g_uri_escape_string(repo, NULL, FALSE);
		g_autofree char *etag = g_uri_escape_string(tag, NULL, FALSE);
		g_autofree char *path =
		        *tag ? g_strdup_printf("/images/create?fromImage=%s&tag=%s", erepo, etag)
		             : g_strdup_printf("/images/create?fromImage=%s", erepo);
		d->phase = DOCKER_PULLING;
		circuit_log(d->host, d->element, G_LOG_LEVEL_MESSAGE, "pulling image %s",
		            d->spec->image);
		d->step = docker_engine_call(d->plugin->engine, "POST", path, NULL, 0,
		                             docker_on_pull, d);
		d->pulled = TRUE;
		/* The next docker_create_container() (after the pull) creates. */
		d->spec->pull = FALSE;
		return;
	}
	GHashTable *labels = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(labels, (gpointer)DOCKER_LABEL_SERVER,
	                    (gpointer)circuit_host_server_id(d->host));
	g_hash_table_insert(labels, (gpointer)DOCKER_LABEL_ANCHOR, (gpointer)docker_path(d));
	g_hash_table_insert(labels, (gpointer)DOCKER_LABEL_OWNER, d->plugin->owner);
	g_hash_table_insert(labels, (gpointer)DOCKER_LABEL_HOST, d->plugin->hostname);
	g_autoptr(JsonNode) body = docker_spec_to_create(d->spec, labels);
	g_hash_table_unref(labels);
	g_autofree char *path = g_strdup_printf("/containers/create?name=%s", d->name);
	d->phase = DOCKER_CREATING;
	d->step = docker_engine_call(d->plugin->engine, "POST", path, body, DOCKER_CALL_TIMEOUT,
	                             docker_on_create, d);
}

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
static void
docker_pending_add(DockerPlugin *plugin, const char *ref, const char *anchor, gboolean by_name,
                   const char *why)
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

/* ---- removal ------------------------------------------------------------- */

static void
docker_on_removed(DockerCall *call, guint status, GBytes *body, const GError *error,
                  gpointer user_data)
{
	Docker *d = user_data;
	d->removal = NULL;
	d->removed = TRUE;
	if (error && status != 404)
		docker_pending_add(d->plugin, d->id, docker_path(d), FALSE, error->message);
	circuit_oplog_event(d->element, "removed", error && status != 404 ? 1 : 0);
	if (!d->settled && d->waiters) {
		g_autoptr(GError) e = docker_error(CIRCUIT_ERROR_ABORTED,
		                                   "%s: the container was removed", docker_path(d));
		docker_fail_waiters(d, e);
	}
	circuit_element_unref(d->element);
}

static void
docker_delete(Docker *d)
{
	g_autofree char *path = g_strdup_printf("/containers/%s?force=1&v=1", d->id);
	d->removal = docker_engine_call(d->plugin->engine, "DELETE", path, NULL,
	                                DOCKER_CALL_TIMEOUT, docker_on_removed, d);
}

/* Stopped: the final inspect gives the exit code at once (an engine's wait
 * may answer late), then the container is removed. */
static void
docker_on_stopped_inspect(DockerCall *call, guint status, GBytes *body, const GError *error,
                          gpointer user_data)
{
	Docker *d = user_data;
	d->removal = NULL;
	gint64 code = -1;
	g_autoptr(JsonNode) root = docker_body_json(body, error, NULL);
	if (root && JSON_NODE_HOLDS_OBJECT(root)) {
		JsonObject *o = json_node_get_object(root);
		JsonObject *state =
		        json_object_has_member(o, "State") &&
		                        JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "State"))
		                ? json_object_get_object_member(o, "State")
		                : NULL;
		if (state && !json_object_get_boolean_member_with_default(state, "Running", TRUE))
			code = json_object_get_int_member_with_default(state, "ExitCode", -1);
		g_clear_pointer(&d->inspect, json_node_unref);
		d->inspect = json_node_copy(root);
	}
	/* Removal first: settling may scrub, which must find it under way. */
	docker_delete(d);
	if (!d->exited && code >= 0) {
		docker_call_cancel(d->wait_call);
		d->wait_call = NULL;
		docker_exited(d, code, TRUE);
	}
}

static void
docker_on_stopped(DockerCall *call, guint status, GBytes *body, const GError *error,
                  gpointer user_data)
{
	Docker *d = user_data;
	d->removal = NULL;
	/* 304: stopped already. A failure to stop is settled by force below. */
	if (error && status != 404)
		circuit_log(d->host, d->element, G_LOG_LEVEL_WARNING, "stopping container %s: %s",
		            d->name, error->message);
	if (!d->exited && d->phase != DOCKER_FAILED && !(error && status == 404)) {
		g_autofree char *path = g_strdup_printf("/containers/%s/json", d->id);
		d->removal = docker_engine_call(d->plugin->engine, "GET", path, NULL,
		                                DOCKER_CALL_TIMEOUT, docker_on_stopped_inspect, d);
		return;
	}
	docker_delete(d);
}

/* Stops (TERM, then KILL after the grace period) and removes the container,
 * holding the element until the engine is done. */
static void
docker_remove(Docker *d)
{
	if (!d->id || d->removal || d->removed)
		return;
	circuit_element_ref(d->element);
	if ((d->phase == DOCKER_RUNNING || d->phase == DOCKER_STARTING) && !d->exited) {
		double grace = circuit_host_scrub_grace(d->host);
		g_autofree char *path =
		        g_strdup_printf("/containers/%s/stop?t=%u", d->id, (guint)(grace + 0.999));
		d->removal = docker_engine_call(d->plugin->engine, "POST", path, NULL,
		                                grace + DOCKER_CALL_TIMEOUT, docker_on_stopped, d);
	} else {
		docker_delete(d);
	}
}

/* ---- lifecycle ----------------------------------------------------------- */

static void
docker_destroy(gpointer ctx)
{
	Docker *d = ctx;
	docker_call_cancel(d->step);
	docker_call_cancel(d->wait_call);
	docker_call_cancel(d->inspect_call);
	docker_call_cancel(d->removal);
	/* Streams hold the element: no signal is pending by now. */
	g_list_free(d->signals);
	docker_raw_free(d->attach);
	docker_raw_free(d->logs);
	circuit_watch_cancel(d->reattach);
	g_clear_error(&d->error);
	g_clear_error(&d->attach_error);
	g_clear_error(&d->reattach_error);
	g_clear_error(&d->wait_error);
	g_clear_pointer(&d->inspect, json_node_unref);
	circuit_inlet_free(d->in);
	circuit_outlet_free(d->out);
	circuit_outlet_free(d->err);
	docker_spec_free(d->spec);
	g_free(d->name);
	g_free(d->id);
	g_free(d);
}

/* "Network" "host" shares this host's network, circuitd's loopback services
 * included, and "container:X" another container's: each only where the
 * operator allowed it (docker.allow-network). */
static gboolean
docker_network_check(DockerPlugin *plugin, const DockerSpec *spec, GError **error)
{
	const char *net = spec->network;
	if (!net)
		return TRUE;
	if (strcmp(net, "host") == 0 && !plugin->allow_host_network) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
		            "\"Network\" \"host\": the container would share this host's network, "
		            "loopback services included; allowed only with --plugin-option "
		            "docker.allow-network=host");
		return FALSE;
	}
	if (g_str_has_prefix(net, "container:") && !plugin->allow_container_network) {
		g_set_error(
		        error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
		        "\"Network\" \"%s\": the container would join another container's "
		        "network; allowed only with --plugin-option docker.allow-network=container",
		        net);
		return FALSE;
	}
	return TRUE;
}

static gboolean
docker_create(CircuitElement *element, const char *const *args, GBytes *body, gpointer *ctx,
              GError **error)
{
	CircuitHost *host = circuit_element_host(element);
	DockerPlugin *plugin = circuit_host_plugin_ctx(host);
	gsize len = 0;
	const char *text = body ? g_bytes_get_data(body, &len) : NULL;
	DockerSpec *spec = docker_spec_parse(text, len, error);
	if (!spec)
		return FALSE;
	if (!docker_binds_check(plugin->binds, spec, error) ||
	    !docker_network_check(plugin, spec, error)) {
		docker_spec_free(spec);
		return FALSE;
	}
	/* The first container of this server loads libcurl. */
	if (!docker_engine_ready(plugin->engine, error)) {
		docker_spec_free(spec);
		return FALSE;
	}
	Docker *d = g_new0(Docker, 1);
	d->element = element;
	d->host = host;
	d->plugin = plugin;
	d->spec = spec;
	d->name = docker_name_for(circuit_element_path(element), ++plugin->seq);
	d->in = circuit_inlet_new(element, "stdin", &docker_in_funcs, d, NULL);
	d->out = circuit_outlet_new(element, "stdout", &docker_out_funcs, d, NULL);
	d->err = circuit_outlet_new(element, "stderr", &docker_out_funcs, d, NULL);
	if (spec->lxc[0])
		circuit_log(host, element, G_LOG_LEVEL_WARNING,
		            "Lxc options are ignored: engines no longer run LXC (%u given)",
		            g_strv_length(spec->lxc));
	/* Creation goes on in the loop; operations wait for it (see the top). */
	docker_create_container(d);
	*ctx = d;
	return TRUE;
}

/*
 * Which engine answers, and in which API version: next to the inspect. The
 * SDK has no plugin-level hook in the server's peek, so every element
 * carries it. ApiVersion is the version spoken; MinAPIVersion and
 * MaxAPIVersion are the engine's range (its /version's MinAPIVersion and
 * ApiVersion).
 */
static void
docker_peek_engine(DockerPlugin *plugin, JsonObject *o)
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

static JsonNode *
docker_peek(CircuitElement *element, gpointer ctx)
{
	Docker *d = ctx;
	/* Fresh figures for the next peek; this one answers without waiting. */
	if (!d->exited)
		docker_refresh_inspect(d);
	if (d->inspect) {
		JsonNode *n = json_node_copy(d->inspect);
		if (JSON_NODE_HOLDS_OBJECT(n))
			docker_peek_engine(d->plugin, json_node_get_object(n));
		return n;
	}
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "Name", d->name);
	json_object_set_string_member(o, "Image", d->spec->image);
	json_object_set_string_member(o, "Phase", docker_phase_names[d->phase]);
	if (d->error)
		json_object_set_string_member(o, "Error", d->error->message);
	else
		json_object_set_null_member(o, "Error");
	docker_peek_engine(d->plugin, o);
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

/* status: the phase, the image, and the exit once there is one. */
static JsonNode *
docker_status(CircuitElement *element, gpointer ctx)
{
	Docker *d = ctx;
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "Phase", docker_phase_names[d->phase]);
	json_object_set_string_member(o, "Image", d->spec->image);
	if (d->exited)
		json_object_set_int_member(o, "ExitCode", d->exit_code);
	if (d->error)
		json_object_set_string_member(o, "Error", d->error->message);
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

static void
docker_scrub(CircuitElement *element, gpointer ctx)
{
	Docker *d = ctx;
	d->scrubbed = TRUE;
	g_autoptr(GError) e = docker_error(CIRCUIT_ERROR_ABORTED, "%s: the container was scrubbed",
	                                   docker_path(d));
	circuit_inlet_close(d->in, e);
	docker_fail_signals(d, e);
	/* Output not yet read again after an outage ends with the scrub. */
	if (d->gap && !d->reattach_error) {
		g_clear_pointer(&d->reattach, circuit_watch_cancel);
		d->reattach_error = g_error_copy(e);
		docker_out_pump(d);
	}
	if (d->step) {
		/* The engine may be making it right now: remove it once it answers. */
		d->step_ref = TRUE;
		circuit_element_ref(element);
		return;
	}
	docker_remove(d);
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

static void
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

static gboolean
docker_init(CircuitHost *host, gpointer *plugin_ctx, GError **error)
{
	const char *docker_host = circuit_host_option(host, "docker.host");
	DockerPlugin *plugin = g_new0(DockerPlugin, 1);
	plugin->host = host;
	plugin->engine = docker_engine_new(host, docker_host, error);
	if (!plugin->engine) {
		docker_plugin_free(plugin);
		return FALSE;
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
	*plugin_ctx = plugin;
	g_autoptr(GError) local = NULL;
	g_autoptr(JsonNode) ping =
	        docker_engine_get_sync(plugin->engine, "//_ping", DOCKER_PING_TIMEOUT, &local);
	/* /_ping answers plain "OK", which is not JSON: only reachability counts. */
	if (local && local->code == CIRCUIT_ERROR_UNAVAILABLE &&
	    strstr(local->message, "did not answer")) {
		docker_engine_down(plugin, local->message);
		return TRUE;
	}
	g_clear_error(&local);
	/* An engine that is not there yet, or not one we can speak to: the
	 * server starts without the kind and keeps looking (an engine started
	 * or upgraded later makes it available). */
	if (!docker_check_engine(plugin, &local) || !docker_sweep(plugin, &local)) {
		docker_engine_down(plugin, local->message);
		return TRUE;
	}
	plugin->engine_up = TRUE;
	return TRUE;
}

/* The server's peek: "Kinds": {"docker": {"Engine": ..., "PendingRemovals": [...]}}. */
static JsonNode *
docker_peek_plugin(CircuitHost *host, gpointer plugin_ctx)
{
	DockerPlugin *plugin = plugin_ctx;
	JsonObject *o = json_object_new();
	docker_peek_engine(plugin, o);
	json_object_set_boolean_member(json_object_get_object_member(o, "Engine"), "Answering",
	                               plugin->engine_up);
	json_object_set_member(o, "PendingRemovals", docker_pending_peek(plugin));
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

static void
docker_fini(gpointer plugin_ctx)
{
	docker_plugin_free(plugin_ctx);
}

static gboolean
docker_check_host(const char *value, GError **error)
{
	g_autoptr(DockerEngine) engine = docker_engine_new(NULL, value, error);
	return engine != NULL;
}

static gboolean
docker_check_bind(const char *value, GError **error)
{
	g_auto(GStrv) dirs = g_strsplit(value, "\n", -1);
	for (guint i = 0; dirs[i]; i++)
		if (!g_path_is_absolute(dirs[i])) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "\"%s\" is not an absolute path", dirs[i]);
			return FALSE;
		}
	return TRUE;
}

static gboolean
docker_check_network(const char *value, GError **error)
{
	g_auto(GStrv) modes = g_strsplit(value, ",", -1);
	for (guint i = 0; modes[i]; i++)
		if (strcmp(g_strstrip(modes[i]), "host") != 0 &&
		    strcmp(modes[i], "container") != 0) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "\"%s\" is not a network mode to allow (host, container)",
			            modes[i]);
			return FALSE;
		}
	return TRUE;
}

static const CircuitPluginOption docker_options[] = {
        {.key = "host",
         .value_usage = "unix:///PATH",
         .summary = "the engine's socket (also --docker-host, $DOCKER_HOST; default "
                    "unix:///var/run/docker.sock)",
         .check = docker_check_host},
        {.key = "allow-network",
         .value_usage = "host,container",
         .summary = "let specs use \"Network\" \"host\" and/or \"container:...\" (refused "
                    "without)",
         .check = docker_check_network},
        {.key = "allow-bind",
         .value_usage = "DIR",
         .summary = "host directory specs may bind from (also --docker-allow-bind, repeatable)",
         .check = docker_check_bind},
        {NULL},
};

static const CircuitOp docker_ops[] = {
        {.name = "stdin",
         .summary = "copy standard input to the container; EOF closes its stdin",
         .flags = CIRCUIT_OP_BODY,
         .run = docker_op_stdin},
        {.name = "stdout",
         .summary = "stream the container's standard output",
         .flags = CIRCUIT_OP_OUTPUT,
         .run = docker_op_stdout},
        {.name = "stderr",
         .summary = "stream the container's standard error",
         .flags = CIRCUIT_OP_OUTPUT,
         .run = docker_op_stderr},
        CIRCUIT_OUTLET_TAIL_OP(
                docker_op_tail,
                "print the last bytes of stdout (or stderr) the server has read from the "
                "engine, 64 KiB at most; takes nothing from a reader"),
        {.name = "wait", .summary = "wait for the container to exit", .run = docker_op_wait},
        {.name = "signal",
         .args_usage = "SIGNAL",
         .summary = "send a signal to the container (the engine's kill)",
         .min_args = 1,
         .max_args = 1,
         .run = docker_op_signal},
};

CIRCUIT_PLUGIN_DEFINE(docker, .version = "0.1.0", .summary = "containers (Docker Engine API)",
                      .init = docker_init, .fini = docker_fini, .make_args_usage = "",
                      .make_min_args = 0, .make_max_args = 0,
                      .make_flags = CIRCUIT_OP_BODY | CIRCUIT_MAKE_ASYNC, .create = docker_create,
                      .peek = docker_peek, .status = docker_status, .scrub = docker_scrub,
                      .destroy = docker_destroy, .peek_plugin = docker_peek_plugin,
                      .options = docker_options, .ops = docker_ops,
                      .n_ops = G_N_ELEMENTS(docker_ops));
