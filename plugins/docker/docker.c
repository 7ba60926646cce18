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
#include "docker_plugin.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Output read ahead of readers, per stream, before the attach connection is
 * paused (back-pressure: the engine then stops reading the container). */
#define DOCKER_OUT_CAP (256u * 1024u)

/* Output whose connection broke before the exit was known is read again
 * from the engine's log; readers wait this long for the engine to answer
 * before they fail (a later read tries again). */
#define DOCKER_REATTACH_FIRST    0.2
#define DOCKER_REATTACH_MAX      2.0
#define DOCKER_REATTACH_PATIENCE 10.0

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
		docker_plugin_pending_add(d->plugin, d->name, docker_path(d), TRUE, error->message);
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

/* ---- removal ------------------------------------------------------------- */

static void
docker_on_removed(DockerCall *call, guint status, GBytes *body, const GError *error,
                  gpointer user_data)
{
	Docker *d = user_data;
	d->removal = NULL;
	d->removed = TRUE;
	if (error && status != 404)
		docker_plugin_pending_add(d->plugin, d->id, docker_path(d), FALSE, error->message);
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
			docker_plugin_peek_engine(d->plugin, json_node_get_object(n));
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
	docker_plugin_peek_engine(d->plugin, o);
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

static gboolean
docker_init(CircuitHost *host, gpointer *plugin_ctx, GError **error)
{
	DockerPlugin *plugin = docker_plugin_new(host, error);
	*plugin_ctx = plugin;
	return plugin != NULL;
}

/* The server's peek: "Kinds": {"docker": {"Engine": ..., "PendingRemovals": [...]}}. */
static JsonNode *
docker_peek_plugin(CircuitHost *host, gpointer plugin_ctx)
{
	return docker_plugin_peek(plugin_ctx);
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
