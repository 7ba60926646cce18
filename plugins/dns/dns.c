// SPDX-License-Identifier: Apache-2.0
//
// dns.c - the dns element kind: an authoritative DNS server per anchor
// whose records are set and unset with circuit operations.
//
//   circuit mkdns PATH [ADDR]        start serving on ADDR (UDP and TCP)
//   circuit set PATH "RR TEXT"       add one record (zone-file syntax)
//   circuit unset PATH NAME [TYPE]   remove a name's records (of one type)
//   circuit load PATH < FILE         add many records, one per line
//   circuit peek PATH                {"Address": ..., "Records": {...}}
//   circuit scrub PATH               stop serving; the port is free at once
//
// The records and answers live in dns_store.c/dns_query.c, the sockets in
// dns_server.c; this file maps the SDK's callbacks onto them. See
// docs/dns.md for the behaviour and its decisions.
#include "dns_server.h"
#include "dns_store.h"

#include <circuit/plugin.h>
#include <string.h>

/* Records beyond about this many bytes of JSON are left out of peek (and
 * counted in "Omitted"): the core's reply frame is capped at 1 MiB. */
#define DNS_PEEK_BUDGET (512 * 1024)

/* The most a `load` body may carry (about a million records). */
#define DNS_LOAD_MAX (64u << 20)

typedef struct DnsLoad DnsLoad;

/** DnsElement: the context of one dns element. */
typedef struct {
	CircuitHost *host;
	CircuitElement *element;
	DnsStore *store;
	DnsServer *server;     /* NULL once scrubbed */
	char *address;         /* kept for peek after scrub */
	CircuitWatch *reclaim; /* (nullable) the next step of dns_store_reclaim() */
	DnsLoad *loading;      /* (nullable) the load being applied (dropped at scrub) */
} DnsElement;

static void dns_load_abort(DnsLoad *load);

static void dns_reclaim_schedule(DnsElement *dns);

/* Frees a step's worth of what the data and cache no longer hold. */
static void
dns_reclaim_step(CircuitWatch *watch, gpointer user_data)
{
	DnsElement *dns = user_data;
	circuit_watch_cancel(dns->reclaim);
	dns->reclaim = NULL;
	dns_store_reclaim(dns->store, DNS_STORE_RECLAIM_STEP);
	dns_reclaim_schedule(dns);
}

/* After a change: what it replaced is freed over the next loop turns. */
static void
dns_reclaim_schedule(DnsElement *dns)
{
	if (!dns->reclaim && dns_store_reclaim(dns->store, 0))
		dns->reclaim = circuit_watch_timer(dns->host, 0, 0, dns_reclaim_step, dns, NULL);
}

/* Converts an engine error to the CIRCUIT_ERROR code the client sees. */
static GError *
dns_circuit_error(const GError *error)
{
	gint code = CIRCUIT_ERROR_FAILED;
	if (error->domain == DNS_STORE_ERROR && error->code == DNS_STORE_ERROR_NOT_FOUND)
		code = CIRCUIT_ERROR_NOT_FOUND;
	else if (error->domain == DNS_STORE_ERROR && error->code == DNS_STORE_ERROR_BUSY)
		code = CIRCUIT_ERROR_BUSY;
	else if (error->domain == DNS_STORE_ERROR)
		code = CIRCUIT_ERROR_INVALID;
	return g_error_new_literal(CIRCUIT_ERROR, code, error->message);
}

static void
dns_fail(CircuitStream *stream, GError *error)
{
	GError *wire = dns_circuit_error(error);
	circuit_stream_fail(stream, wire);
	g_error_free(wire);
	g_error_free(error);
}

static void
dns_done(CircuitStream *stream)
{
	circuit_stream_done(stream, NULL, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Element lifecycle                                                         */

static gboolean
dns_create(CircuitElement *element, const char *const *args, GBytes *body, gpointer *element_ctx,
           GError **error)
{
	CircuitHost *host = circuit_element_host(element);
	DnsElement *dns = g_new0(DnsElement, 1);
	dns->host = host;
	dns->element = element;
	dns->store = dns_store_new();
	const char *address = args && args[0] ? args[0] : NULL;
	dns->server = dns_server_new(host, element, dns->store, address, error);
	if (!dns->server) {
		dns_store_free(dns->store);
		g_free(dns);
		return FALSE;
	}
	dns->address = g_strdup(dns_server_address(dns->server));
	*element_ctx = dns;
	return TRUE;
}

/* peek's "Loading": {"Lines": read, "Of": in all} while a load is being
 * applied (the records shown are still the old ones). */
static void
dns_set_loading(JsonObject *obj, DnsStore *store)
{
	guint done = 0, total = 0;
	if (!dns_store_load_progress(store, &done, &total))
		return;
	JsonObject *loading = json_object_new();
	json_object_set_int_member(loading, "Lines", done);
	json_object_set_int_member(loading, "Of", total);
	json_object_set_object_member(obj, "Loading", loading);
}

static JsonNode *
dns_peek(CircuitElement *element, gpointer element_ctx)
{
	DnsElement *dns = element_ctx;
	JsonObject *obj = json_object_new();
	json_object_set_string_member(obj, "Address", dns->address);
	guint omitted = 0;
	json_object_set_member(obj, "Records",
	                       dns_store_records_json(dns->store, DNS_PEEK_BUDGET, &omitted));
	/* Not in the original: only present when Records is incomplete. */
	if (omitted > 0)
		json_object_set_int_member(obj, "Omitted", omitted);
	dns_set_loading(obj, dns->store);
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	return node;
}

/* status: where it answers and how much it holds. */
static JsonNode *
dns_status(CircuitElement *element, gpointer element_ctx)
{
	DnsElement *dns = element_ctx;
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "Address", dns->address);
	json_object_set_int_member(o, "Records", dns_store_count(dns->store));
	json_object_set_int_member(o, "Names", dns_store_name_count(dns->store));
	if (!dns->server)
		json_object_set_boolean_member(o, "Serving", FALSE);
	/* Status members are scalars: "READ/LINES". */
	guint done = 0, total = 0;
	if (dns_store_load_progress(dns->store, &done, &total)) {
		char *loading = g_strdup_printf("%u/%u", done, total);
		json_object_set_string_member(o, "Loading", loading);
		g_free(loading);
	}
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

static void
dns_scrub(CircuitElement *element, gpointer element_ctx)
{
	DnsElement *dns = element_ctx;
	if (dns->server) {
		circuit_log(dns->host, element, G_LOG_LEVEL_INFO, "dns: stopped serving on %s",
		            dns->address);
		dns_server_free(dns->server);
		dns->server = NULL;
	}
	/* No one can query what it would load: dropped, and said so. */
	if (dns->loading)
		dns_load_abort(dns->loading);
}

static void
dns_destroy(gpointer element_ctx)
{
	DnsElement *dns = element_ctx;
	if (!dns)
		return;
	circuit_watch_cancel(dns->reclaim);
	dns_server_free(dns->server);
	dns_store_free(dns->store);
	g_free(dns->address);
	g_free(dns);
}

/* ------------------------------------------------------------------------ */
/* Operations                                                                */

static void
dns_op_set(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
           const char *const *args)
{
	DnsElement *dns = element_ctx;
	GError *error = NULL;
	if (!dns_store_add(dns->store, args[0], NULL, &error)) {
		dns_fail(stream, error);
		return;
	}
	dns_reclaim_schedule(dns);
	dns_done(stream);
}

static void
dns_op_unset(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
             const char *const *args)
{
	DnsElement *dns = element_ctx;
	GError *error = NULL;
	if (!dns_store_remove(dns->store, args[0], args[1], NULL, &error)) {
		dns_fail(stream, error);
		return;
	}
	dns_reclaim_schedule(dns);
	dns_done(stream);
}

/*
 * DnsLoad: one `load`: first its body is read, then the engine applies it
 * in steps of DNS_STORE_LOAD_STEP records, one step per loop iteration (a
 * zero-delay timer each time), so queries are answered from the old
 * records between steps; the last step swaps the new data in.
 */
struct DnsLoad {
	CircuitElement *element; /* a reference, so the store outlives the load */
	CircuitStream *stream;
	DnsElement *dns;
	GString *text;
	DnsStoreLoad *job;   /* (nullable) being applied */
	CircuitWatch *timer; /* (nullable) the next step */
	gboolean done;       /* replied (success or failure) */
};

static void
dns_load_free(gpointer data)
{
	DnsLoad *load = data;
	if (load->dns->loading == load)
		load->dns->loading = NULL;
	circuit_watch_cancel(load->timer);
	dns_store_load_cancel(load->job);
	dns_reclaim_schedule(load->dns);
	if (load->text)
		g_string_free(load->text, TRUE);
	circuit_element_unref(load->element);
	g_free(load);
}

static void
dns_load_input(CircuitStream *stream, const guint8 *data, gsize len, gpointer user_data)
{
	DnsLoad *load = user_data;
	if (load->done)
		return;
	if (load->text->len + len > DNS_LOAD_MAX) {
		load->done = TRUE;
		GError *error =
		        g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_TOO_BIG,
		                    "load: more than %u MiB of records", DNS_LOAD_MAX >> 20);
		circuit_stream_fail(stream, error);
		g_error_free(error);
		return;
	}
	g_string_append_len(load->text, (const char *)data, (gssize)len);
	circuit_stream_consumed(stream, len);
}

static void dns_load_step(CircuitWatch *watch, gpointer user_data);

/* Runs the next step on the next loop iteration, after what is ready. */
static void
dns_load_schedule(DnsLoad *load)
{
	load->timer = circuit_watch_timer(load->dns->host, 0, 0, dns_load_step, load, NULL);
}

static void
dns_load_step(CircuitWatch *watch, gpointer user_data)
{
	DnsLoad *load = user_data;
	circuit_watch_cancel(load->timer);
	load->timer = NULL;
	GError *error = NULL;
	guint added = 0;
	DnsStoreLoadStatus st = dns_store_load_step(load->job, DNS_STORE_LOAD_STEP, &added, &error);
	if (st != DNS_STORE_LOAD_MORE)
		load->dns->loading = NULL;
	switch (st) {
	case DNS_STORE_LOAD_MORE:
		dns_load_schedule(load);
		return;
	case DNS_STORE_LOAD_FAILED:
		load->job = NULL;
		load->done = TRUE;
		dns_reclaim_schedule(load->dns);
		dns_fail(load->stream, error);
		return;
	case DNS_STORE_LOAD_DONE:
		break;
	}
	load->job = NULL;
	load->done = TRUE;
	dns_reclaim_schedule(load->dns);
	DnsStore *store = load->dns->store;
	circuit_log(load->dns->host, load->element, G_LOG_LEVEL_INFO,
	            "dns: loaded %u new records (%u in all)", added, dns_store_count(store));
	JsonObject *obj = json_object_new();
	json_object_set_int_member(obj, "Added", added);
	json_object_set_int_member(obj, "Records", dns_store_count(store));
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	circuit_stream_done(load->stream, node, FALSE);
}

static void
dns_load_input_end(CircuitStream *stream, gpointer user_data)
{
	DnsLoad *load = user_data;
	if (load->done)
		return;
	GError *error = NULL;
	if (circuit_element_is_scrubbed(load->element)) {
		load->done = TRUE;
		circuit_stream_fail_printf(stream, CIRCUIT_ERROR_ABORTED,
		                           "%s was scrubbed before the load was applied",
		                           circuit_element_path(load->element));
		return;
	}
	if (memchr(load->text->str, '\0', load->text->len)) {
		error = g_error_new_literal(DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		                            "load: the input contains a NUL byte");
	} else {
		/* The body goes to the engine, which frees it. */
		char *text = g_string_free(load->text, FALSE);
		load->text = NULL;
		load->job = dns_store_load_start(load->dns->store, text, &error);
	}
	if (!load->job) {
		load->done = TRUE;
		dns_fail(stream, error);
		return;
	}
	load->dns->loading = load;
	dns_load_schedule(load);
}

/* The element was scrubbed while @load was being applied: nothing of it
 * is applied, and its client is told so. */
static void
dns_load_abort(DnsLoad *load)
{
	load->dns->loading = NULL;
	circuit_watch_cancel(load->timer);
	load->timer = NULL;
	dns_store_load_cancel(load->job);
	load->job = NULL;
	load->done = TRUE;
	dns_reclaim_schedule(load->dns);
	/* Last: the stream may be freed with @load inside. */
	circuit_stream_fail_printf(load->stream, CIRCUIT_ERROR_ABORTED,
	                           "%s was scrubbed before the load was applied",
	                           circuit_element_path(load->element));
}

static void
dns_load_closed(CircuitStream *stream, const GError *error, gpointer user_data)
{
	/* A client that went away before the reply: its load is dropped
	 * unapplied (dns_load_free cancels it). Nothing is applied before
	 * the last step, which replies at once. */
}

static const CircuitStreamFuncs dns_load_funcs = {
        .input = dns_load_input,
        .input_end = dns_load_input_end,
        .closed = dns_load_closed,
};

static void
dns_op_load(CircuitElement *element, gpointer element_ctx, CircuitStream *stream,
            const char *const *args)
{
	DnsLoad *load = g_new0(DnsLoad, 1);
	load->element = circuit_element_ref(element);
	load->stream = stream;
	load->dns = element_ctx;
	load->text = g_string_new(NULL);
	circuit_stream_set_funcs(stream, &dns_load_funcs, load, dns_load_free);
}

static const CircuitOp dns_ops[] = {
        {
                .name = "set",
                .args_usage = "\"RR\"",
                .summary = "add one resource record, e.g. \"miek.nl. 3600 IN MX 10 mx.miek.nl.\"",
                .min_args = 1,
                .max_args = 1,
                .run = dns_op_set,
        },
        {
                .name = "unset",
                .args_usage = "NAME [TYPE]",
                .summary = "remove every record of NAME, or only those of TYPE",
                .min_args = 1,
                .max_args = 2,
                .run = dns_op_unset,
        },
        {
                .name = "load",
                .args_usage = "< RECORDS",
                .summary = "add records read from stdin, one per line (all or none)",
                .min_args = 0,
                .max_args = 0,
                .flags = CIRCUIT_OP_BODY,
                .run = dns_op_load,
        },
};

/* No --plugin-option dns.KEY: every one is refused. */
static const CircuitPluginOption dns_options[] = {{NULL}};

CIRCUIT_PLUGIN_DEFINE(dns, .version = "0.1.0",
                      .summary = "an authoritative DNS server whose records you set",
                      .make_args_usage = "[ADDR]", .make_min_args = 0, .make_max_args = 1,
                      .create = dns_create, .peek = dns_peek, .status = dns_status,
                      .scrub = dns_scrub, .destroy = dns_destroy, .ops = dns_ops,
                      .n_ops = G_N_ELEMENTS(dns_ops), .options = dns_options);
