// SPDX-License-Identifier: Apache-2.0
//
// counter.c - an example element kind built outside the circuit tree,
// against the installed SDK only (circuit/plugin.h, found with
// `pkg-config circuit-plugin`).
//
// A counter holds a 64-bit integer:
//
//   circuit mkcounter /X.../hits 5     make one, starting at 5 (default 0)
//   circuit incr /X.../hits [N]        add N (default 1; may be negative)
//   circuit get /X.../hits             print the value
//   circuit watch /X.../hits           print the value, then a line per
//                                      change, until the client leaves
//   circuit peek /X.../hits            {"Value":..,"Start":..,"Changes":..,"Watchers":..}
//
// The CLI knows none of these verbs: it sends them to the element as
// plugin operations.
#include <circuit/plugin.h>

#include <stdio.h>

typedef struct {
	CircuitElement *element; /* (transfer none): the core owns it */
	CircuitHost *host;
	gint64 value;
	gint64 start;
	guint64 changes;
	GList *watchers; /* CounterWatcher*, each until its stream closes */
} Counter;

typedef struct {
	Counter *counter;
	CircuitStream *stream;
	gboolean pending; /* the latest value is not written yet */
	gboolean done;    /* finished (scrub): write nothing more */
} CounterWatcher;

/* ---- helpers ------------------------------------------------------------- */

static gboolean
counter_parse(const char *what, const char *text, gint64 *out, GError **error)
{
	GError *local = NULL;
	if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, out, &local)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s must be an integer, not \"%s\"", what, text);
		g_error_free(local);
		return FALSE;
	}
	return TRUE;
}

static JsonNode *
counter_int_node(gint64 v)
{
	JsonNode *n = json_node_alloc();
	json_node_init_int(n, v);
	return n;
}

/* ---- watch --------------------------------------------------------------- */

/*
 * Writes the current value if the watcher is behind and the stream has
 * room. A watcher that reads slowly is not sent every step, only the latest
 * value once it catches up: a counter's history is not worth buffering.
 */
static void
counter_watch_pump(CounterWatcher *w)
{
	if (!w->pending || w->done)
		return;
	char line[32];
	int n = g_snprintf(line, sizeof line, "%" G_GINT64_FORMAT "\n", w->counter->value);
	if (circuit_stream_write_space(w->stream) < (gsize)n)
		return; /* `writable` will call again */
	circuit_stream_write(w->stream, line, (gsize)n);
	w->pending = FALSE;
}

static void
counter_watch_writable(CircuitStream *stream, gpointer user_data)
{
	counter_watch_pump(user_data);
}

static void
counter_watch_closed(CircuitStream *stream, const GError *error, gpointer user_data)
{
	CounterWatcher *w = user_data;
	w->counter->watchers = g_list_remove(w->counter->watchers, w);
	/* The stream's notify (g_free) frees @w after this returns. */
}

static const CircuitStreamFuncs counter_watch_funcs = {
        .writable = counter_watch_writable,
        .closed = counter_watch_closed,
};

static void
counter_changed(Counter *c)
{
	c->changes++;
	for (GList *l = c->watchers; l; l = l->next) {
		CounterWatcher *w = l->data;
		w->pending = TRUE;
		counter_watch_pump(w);
	}
}

/* ---- operations ---------------------------------------------------------- */

static void
counter_op_incr(CircuitElement *element, gpointer ctx, CircuitStream *stream,
                const char *const *args)
{
	Counter *c = ctx;
	gint64 n = 1;
	GError *error = NULL;
	if (args[0] && !counter_parse("N", args[0], &n, &error)) {
		circuit_stream_fail(stream, error);
		g_error_free(error);
		return;
	}
	if ((n > 0 && c->value > G_MAXINT64 - n) || (n < 0 && c->value < G_MININT64 - n)) {
		circuit_stream_fail_printf(stream, CIRCUIT_ERROR_INVALID,
		                           "incr %" G_GINT64_FORMAT
		                           ": %s would overflow (it is %" G_GINT64_FORMAT ")",
		                           n, circuit_element_path(element), c->value);
		return;
	}
	c->value += n;
	if (n != 0)
		counter_changed(c);
	circuit_stream_done(stream, counter_int_node(c->value), FALSE);
}

static void
counter_op_get(CircuitElement *element, gpointer ctx, CircuitStream *stream,
               const char *const *args)
{
	Counter *c = ctx;
	circuit_stream_done(stream, counter_int_node(c->value), FALSE);
}

static void
counter_op_watch(CircuitElement *element, gpointer ctx, CircuitStream *stream,
                 const char *const *args)
{
	Counter *c = ctx;
	CounterWatcher *w = g_new0(CounterWatcher, 1);
	w->counter = c;
	w->stream = stream;
	w->pending = TRUE; /* the current value comes first */
	c->watchers = g_list_append(c->watchers, w);
	circuit_stream_set_funcs(stream, &counter_watch_funcs, w, g_free);
	circuit_stream_reply(stream, NULL, FALSE);
	counter_watch_pump(w);
}

static const CircuitOp counter_ops[] = {
        {.name = "incr",
         .args_usage = "[N]",
         .summary = "add N (default 1) and print the new value",
         .min_args = 0,
         .max_args = 1,
         .run = counter_op_incr},
        {.name = "get", .summary = "print the value", .run = counter_op_get},
        {.name = "watch",
         .summary = "print the value, then a line per change, until interrupted",
         .flags = CIRCUIT_OP_OUTPUT,
         .run = counter_op_watch},
};

/* ---- the element --------------------------------------------------------- */

/* --plugin-option counter.start=N: checked by circuitd at start. */
static gboolean
counter_check_start(const char *value, GError **error)
{
	gint64 v;
	return counter_parse("counter.start", value, &v, error);
}

static const CircuitPluginOption counter_options[] = {
        {.key = "start",
         .value_usage = "N",
         .summary = "the value of a counter made without START (default 0)",
         .check = counter_check_start},
        {NULL},
};

static gboolean
counter_create(CircuitElement *element, const char *const *args, GBytes *body,
               gpointer *element_ctx, GError **error)
{
	gint64 start = 0;
	const char *configured =
	        circuit_host_option(circuit_element_host(element), "counter.start");
	if (configured && !counter_parse("counter.start", configured, &start, error))
		return FALSE;
	if (args[0] && !counter_parse("START", args[0], &start, error))
		return FALSE;
	Counter *c = g_new0(Counter, 1);
	c->element = element;
	c->host = circuit_element_host(element);
	c->value = c->start = start;
	*element_ctx = c;
	circuit_log(c->host, element, G_LOG_LEVEL_DEBUG, "counter made at %" G_GINT64_FORMAT,
	            start);
	return TRUE;
}

static JsonNode *
counter_peek(CircuitElement *element, gpointer ctx)
{
	Counter *c = ctx;
	JsonObject *o = json_object_new();
	json_object_set_int_member(o, "Value", c->value);
	json_object_set_int_member(o, "Start", c->start);
	json_object_set_int_member(o, "Changes", (gint64)c->changes);
	json_object_set_int_member(o, "Watchers", g_list_length(c->watchers));
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

static void
counter_scrub(CircuitElement *element, gpointer ctx)
{
	Counter *c = ctx;
	/* Watchers end cleanly; each leaves the list when its stream closes. */
	g_autoptr(GList) watchers = g_list_copy(c->watchers);
	for (GList *l = watchers; l; l = l->next) {
		CounterWatcher *w = l->data;
		if (w->done)
			continue;
		w->done = TRUE;
		circuit_stream_finish(w->stream);
	}
	if (watchers)
		circuit_log(c->host, element, G_LOG_LEVEL_INFO, "scrubbed; ended %u watchers",
		            g_list_length(watchers));
}

static void
counter_destroy(gpointer ctx)
{
	Counter *c = ctx;
	g_list_free(c->watchers); /* empty by now: destroy runs after every stream */
	g_free(c);
}

CIRCUIT_PLUGIN_DEFINE(counter, .version = "1.0.0", .summary = "an integer you can watch",
                      .make_args_usage = "[START]", .make_min_args = 0, .make_max_args = 1,
                      .create = counter_create, .peek = counter_peek, .scrub = counter_scrub,
                      .destroy = counter_destroy, .ops = counter_ops,
                      .n_ops = G_N_ELEMENTS(counter_ops), .options = counter_options);
