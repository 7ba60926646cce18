// SPDX-License-Identifier: Apache-2.0
//
// router.c - executes the operations that arrive on streams: the core's own
// (ls, peek, scrub, mk) and those plugins declare, logging each in the op
// log. Operations for other servers are refused with "no such server" until
// the cluster layer forwards them.
#include "router.h"

#include "../anchor/name.h"
#include "../oplog/oplog.h"
#include "../transport/transport.h"

#include <string.h>

#define ROUTER_MK_BODY_MAX (1u << 20)

static struct {
	Anchor *root;
	GHashTable *plugins; /* kind -> Plugin (not owned) */
	char *server_id;
	char *url;
	char *hostport;
	char *version;
	GDateTime *started;
} router;

void
router_init(const char *server_id, const char *url, const char *hostport, const char *version,
            GHashTable *plugins)
{
	router.root = anchor_new_root(server_id);
	router.plugins = plugins;
	router.server_id = g_strdup(server_id);
	router.url = g_strdup(url);
	router.hostport = g_strdup(hostport);
	router.version = g_strdup(version);
	router.started = g_date_time_new_now_utc();
}

void
router_free(void)
{
	anchor_free(router.root);
	router.root = NULL;
	g_clear_pointer(&router.server_id, g_free);
	g_clear_pointer(&router.url, g_free);
	g_clear_pointer(&router.hostport, g_free);
	g_clear_pointer(&router.version, g_free);
	g_clear_pointer(&router.started, g_date_time_unref);
}

void
router_scrub_all(void)
{
	g_autoptr(GPtrArray) all = anchor_collect_elements(router.root);
	for (guint i = 0; i < all->len; i++)
		circuit_element_ref(g_ptr_array_index(all, i));
	for (guint i = 0; i < all->len; i++) {
		circuit_element_scrub(g_ptr_array_index(all, i));
		circuit_element_unref(g_ptr_array_index(all, i));
	}
}

JsonObject *
router_hello(gpointer user_data)
{
	JsonObject *o = json_object_new();
	json_object_set_int_member(o, "version", FRAME_PROTOCOL_VERSION);
	json_object_set_string_member(o, "id", router.server_id);
	json_object_set_string_member(o, "url", router.url);
	g_autofree char *server = g_strconcat("circuitd ", router.version, NULL);
	json_object_set_string_member(o, "server", server);
	return o;
}

/* ---- op log -------------------------------------------------------------- */

typedef struct {
	char *op;
	char *path;
	char *kind;
	CircuitElement *element; /* held while the operation's stream lives */
} RouterOp;

static void
router_op_free(gpointer data)
{
	RouterOp *r = data;
	g_free(r->op);
	g_free(r->path);
	g_free(r->kind);
	if (r->element)
		circuit_element_unref(r->element);
	g_free(r);
}

static void
router_on_reply(CircuitStream *stream, gboolean ok, const char *error, gpointer user_data)
{
	RouterOp *r = user_data;
	oplog_op(circuit_stream_peer(stream), r->op, r->path, r->kind, ok ? NULL : error);
}

static RouterOp *
router_track(CircuitStream *s, const char *op, const char *path)
{
	RouterOp *r = g_new0(RouterOp, 1);
	r->op = g_strdup(op);
	r->path = g_strdup(path);
	stream_set_reply_hook(s, router_on_reply, r, router_op_free);
	return r;
}

/* ---- helpers ------------------------------------------------------------- */

static char **
router_args(JsonObject *req, GError **error)
{
	JsonArray *a = json_object_has_member(req, "args") &&
	                               JSON_NODE_HOLDS_ARRAY(json_object_get_member(req, "args"))
	                       ? json_object_get_array_member(req, "args")
	                       : NULL;
	guint n = a ? json_array_get_length(a) : 0;
	char **args = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++) {
		JsonNode *node = json_array_get_element(a, i);
		if (!JSON_NODE_HOLDS_VALUE(node) ||
		    json_node_get_value_type(node) != G_TYPE_STRING) {
			g_strfreev(args);
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "argument %u is not a string", i + 1);
			return NULL;
		}
		args[i] = g_strdup(json_node_get_string(node));
	}
	return args;
}

/* Checks that @names are on this server; sets the error otherwise. */
static gboolean
router_local(char **names, const char *path, GError **error)
{
	if (!names[0]) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "\"%s\" is the root: name a server, as in /%s", path, router.server_id);
		return FALSE;
	}
	if (strcmp(names[0], router.server_id) != 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_NOT_FOUND, "no such server %s",
		            names[0]);
		return FALSE;
	}
	return TRUE;
}

static gboolean
router_check_args(const char *verb, const char *usage, guint min, guint max, char **args,
                  GError **error)
{
	guint n = g_strv_length(args);
	if (n >= min && n <= max)
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE,
	            "%s: wrong number of arguments (%u); usage: circuit %s PATH%s%s", verb, n, verb,
	            usage && *usage ? " " : "", usage ? usage : "");
	return FALSE;
}

static JsonNode *
router_object_node(JsonObject *o)
{
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

/* ---- ls ------------------------------------------------------------------ */

static void
router_ls_add(JsonArray *entries, const char *path, CircuitElement *element, const char *kind)
{
	JsonObject *e = json_object_new();
	json_object_set_string_member(e, "path", path);
	if (kind)
		json_object_set_string_member(e, "kind", kind);
	else if (element)
		json_object_set_string_member(e, "kind", element_plugin(element)->kind);
	else
		json_object_set_null_member(e, "kind");
	json_array_add_object_element(entries, e);
}

static void
router_ls_visit(Anchor *anchor, const char *path, gpointer user_data)
{
	router_ls_add(user_data, path, anchor_element(anchor), NULL);
}

static gboolean
router_ls(const char *path, gboolean recursive_flag, JsonNode **out, GError **error)
{
	gboolean recursive = FALSE;
	g_auto(GStrv) names = anchor_path_split(path, &recursive, error);
	if (!names)
		return FALSE;
	recursive = recursive || recursive_flag;
	g_autofree char *server_path = g_strconcat("/", router.server_id, NULL);
	JsonArray *entries = json_array_new();
	if (!names[0]) {
		router_ls_add(entries, server_path, NULL, "server");
		if (recursive)
			anchor_visit(router.root, server_path, TRUE, router_ls_visit, entries);
	} else {
		if (!router_local(names, path, error)) {
			json_array_unref(entries);
			return FALSE;
		}
		Anchor *a = anchor_walk(router.root, (const char *const *)names);
		if (!a) {
			json_array_unref(entries);
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_NOT_FOUND, "no anchor %s",
			            path);
			return FALSE;
		}
		g_autofree char *base =
		        anchor_path_join((const char *const *)names, g_strv_length(names));
		anchor_visit(a, base, recursive, router_ls_visit, entries);
	}
	JsonObject *o = json_object_new();
	json_object_set_array_member(o, "entries", entries);
	*out = router_object_node(o);
	return TRUE;
}

/* ---- peek ---------------------------------------------------------------- */

static JsonNode *
router_server_peek(void)
{
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "ID", router.server_id);
	json_object_set_string_member(o, "Addr", router.hostport);
	json_object_set_string_member(o, "URL", router.url);
	g_autofree char *joined = g_date_time_format_iso8601(router.started);
	json_object_set_string_member(o, "Joined", joined);
	json_object_set_string_member(o, "Version", router.version);
	JsonArray *kinds = json_array_new();
	JsonObject *unavailable = json_object_new();
	g_autoptr(GList) keys = g_hash_table_get_keys(router.plugins);
	keys = g_list_sort(keys, (GCompareFunc)strcmp);
	for (GList *l = keys; l; l = l->next) {
		Plugin *p = g_hash_table_lookup(router.plugins, l->data);
		if (p->init_error)
			json_object_set_string_member(unavailable, p->kind, p->init_error);
		else
			json_array_add_string_element(kinds, p->kind);
	}
	json_object_set_array_member(o, "Plugins", kinds);
	json_object_set_object_member(o, "Unavailable", unavailable);
	json_object_set_int_member(o, "Members", 1);
	json_object_set_int_member(o, "Suspects", 0);
	json_object_set_int_member(o, "Elements", element_live_count());
	return router_object_node(o);
}

/* Finds the element at @path (on this server). */
static CircuitElement *
router_element(const char *path, char ***names_out, GError **error)
{
	g_auto(GStrv) names = anchor_path_split(path, NULL, error);
	if (!names || !router_local(names, path, error))
		return NULL;
	if (!names[1]) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s is a server, not an element", path);
		return NULL;
	}
	Anchor *a = anchor_walk(router.root, (const char *const *)names);
	CircuitElement *e = a ? anchor_element(a) : NULL;
	if (!e) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_NOT_FOUND, "no element at %s",
		            path);
		return NULL;
	}
	if (names_out)
		*names_out = g_steal_pointer(&names);
	return e;
}

static gboolean
router_peek(const char *path, RouterOp *r, JsonNode **out, GError **error)
{
	g_auto(GStrv) names = anchor_path_split(path, NULL, error);
	if (!names || !router_local(names, path, error))
		return FALSE;
	if (!names[1]) {
		r->kind = g_strdup("server");
		*out = router_server_peek();
		return TRUE;
	}
	CircuitElement *e = router_element(path, NULL, error);
	if (!e)
		return FALSE;
	Plugin *p = element_plugin(e);
	r->kind = g_strdup(p->kind);
	*out = p->desc->peek(e, element_ctx(e));
	return TRUE;
}

/* ---- mk ------------------------------------------------------------------ */

typedef struct {
	Plugin *plugin;
	char *path;
	char **args;
	GByteArray *body;
} RouterMake;

static void
router_make_free(gpointer data)
{
	RouterMake *m = data;
	g_free(m->path);
	g_strfreev(m->args);
	if (m->body)
		g_byte_array_unref(m->body);
	g_free(m);
}

/* Makes the element; *pending when an asynchronous kind replies later. */
static gboolean
router_make_now(RouterMake *m, CircuitStream *s, gboolean *pending, GError **error)
{
	g_auto(GStrv) names = anchor_path_split(m->path, NULL, error);
	if (!names || !router_local(names, m->path, error))
		return FALSE;
	if (!names[1]) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s is a server anchor: make elements below it", m->path);
		return FALSE;
	}
	Anchor *a = anchor_walk(router.root, (const char *const *)names);
	if (a && anchor_element(a)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_EXISTS,
		            "%s already holds a %s element", m->path,
		            element_plugin(anchor_element(a))->kind);
		return FALSE;
	}
	g_autofree char *canonical =
	        anchor_path_join((const char *const *)names, g_strv_length(names));
	CircuitElement *e = element_new(m->plugin, canonical);
	g_autoptr(GBytes) body = m->body ? g_bytes_new(m->body->data, m->body->len) : NULL;
	gpointer ctx = NULL;
	GError *local = NULL;
	if (!m->plugin->desc->create(e, (const char *const *)m->args, body, &ctx, &local)) {
		circuit_element_unref(e); /* never created: destroy() does not run */
		if (!local)
			local = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "create failed");
		if (local->domain != CIRCUIT_ERROR) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "%s: %s", m->path,
			            local->message);
			g_error_free(local);
		} else {
			g_prefix_error(&local, "%s: ", m->path);
			g_propagate_error(error, local);
		}
		return FALSE;
	}
	element_set_ctx(e, ctx);
	/* Creation may not re-enter the loop, so the anchor is still free. An
	 * asynchronous kind holds it while it finishes. */
	element_attach(e, anchor_walk_create(router.root, (const char *const *)names));
	if (m->plugin->desc->make_flags & CIRCUIT_MAKE_ASYNC) {
		element_set_pending_make(e, s);
		*pending = TRUE;
	}
	return TRUE;
}

static void
router_make_input(CircuitStream *s, const guint8 *data, gsize len, gpointer user_data)
{
	RouterMake *m = user_data;
	if (m->body->len + len > ROUTER_MK_BODY_MAX) {
		stream_fail_code(s, CIRCUIT_ERROR_TOO_BIG, "mk%s %s: the body is over %u bytes",
		                 m->plugin->kind, m->path, ROUTER_MK_BODY_MAX);
		return;
	}
	g_byte_array_append(m->body, data, (guint)len);
	circuit_stream_consumed(s, len);
}

static void
router_make_end(CircuitStream *s, gpointer user_data)
{
	GError *error = NULL;
	gboolean pending = FALSE;
	if (router_make_now(user_data, s, &pending, &error)) {
		if (!pending) {
			circuit_stream_reply(s, NULL, FALSE);
			circuit_stream_finish(s);
		}
	} else {
		circuit_stream_fail(s, error);
		g_error_free(error);
	}
}

static const CircuitStreamFuncs router_make_funcs = {
        .input = router_make_input,
        .input_end = router_make_end,
};

static gboolean
router_mk(CircuitStream *s, JsonObject *req, const char *path, char **args, RouterOp *r,
          gboolean *pending, GError **error)
{
	const char *kind = json_object_get_string_member_with_default(req, "kind", NULL);
	if (!kind) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "mk without a kind");
		return FALSE;
	}
	r->kind = g_strdup(kind);
	Plugin *p = g_hash_table_lookup(router.plugins, kind);
	if (!p) {
		g_autoptr(GList) keys = g_hash_table_get_keys(router.plugins);
		GString *have = g_string_new(NULL);
		for (GList *l = keys; l; l = l->next)
			g_string_append_printf(have, "%s%s", have->len ? ", " : "",
			                       (char *)l->data);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_NOT_FOUND,
		            "unknown element kind \"%s\" (this server has: %s)", kind,
		            have->len ? have->str : "none");
		g_string_free(have, TRUE);
		return FALSE;
	}
	if (p->init_error) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "kind %s is unavailable on this server: %s", kind, p->init_error);
		return FALSE;
	}
	g_autofree char *verb = g_strconcat("mk", kind, NULL);
	const CircuitPluginDescriptor *d = p->desc;
	if (!router_check_args(verb, d->make_args_usage, d->make_min_args, d->make_max_args, args,
	                       error))
		return FALSE;
	RouterMake *m = g_new0(RouterMake, 1);
	m->plugin = p;
	m->path = g_strdup(path);
	m->args = g_strdupv(args);
	JsonNode *inline_body = json_object_get_member(req, "body");
	if ((d->make_flags & CIRCUIT_OP_BODY) && inline_body &&
	    JSON_NODE_HOLDS_VALUE(inline_body) &&
	    json_node_get_value_type(inline_body) == G_TYPE_STRING) {
		/* A small body sent with the request saves a round trip. */
		const char *text = json_node_get_string(inline_body);
		m->body = g_byte_array_new();
		g_byte_array_append(m->body, (const guint8 *)text, (guint)strlen(text));
	} else if (d->make_flags & CIRCUIT_OP_BODY) {
		/* Check the path now, so a bad one fails before the body is read. */
		g_auto(GStrv) names = anchor_path_split(path, NULL, error);
		if (!names || !router_local(names, path, error)) {
			router_make_free(m);
			return FALSE;
		}
		m->body = g_byte_array_new();
		circuit_stream_set_funcs(s, &router_make_funcs, m, router_make_free);
		stream_grant_body(s, STREAM_BODY_WINDOW);
		*pending = TRUE;
		return TRUE;
	}
	gboolean ok = router_make_now(m, s, pending, error);
	router_make_free(m);
	return ok;
}

/* ---- dispatch ------------------------------------------------------------ */

static void
router_element_op(CircuitStream *s, const char *op, const char *path, char **args, RouterOp *r)
{
	GError *error = NULL;
	CircuitElement *e = router_element(path, NULL, &error);
	if (!e)
		goto fail;
	Plugin *p = element_plugin(e);
	r->kind = g_strdup(p->kind);
	const CircuitOp *cop = plugin_find_op(p, op);
	if (!cop) {
		g_set_error(&error, CIRCUIT_ERROR, CIRCUIT_ERROR_WRONG_KIND,
		            "%s is a %s element, which has no operation \"%s\"", path, p->kind, op);
		goto fail;
	}
	if (!router_check_args(op, cop->args_usage, cop->min_args, cop->max_args, args, &error))
		goto fail;
	r->element = circuit_element_ref(e);
	if (cop->flags & CIRCUIT_OP_BODY)
		stream_grant_body(s, STREAM_BODY_WINDOW);
	cop->run(e, element_ctx(e), s, (const char *const *)args);
	return;
fail:
	circuit_stream_fail(s, error);
	g_error_free(error);
}

void
router_open(CircuitStream *s, JsonObject *req, gpointer user_data)
{
	const char *op = json_object_get_string_member_with_default(req, "op", NULL);
	const char *path = json_object_get_string_member_with_default(req, "path", NULL);
	RouterOp *r = router_track(s, op ? op : "?", path);
	GError *error = NULL;
	JsonNode *result = NULL;
	gboolean pending = FALSE;
	g_auto(GStrv) args = NULL;
	if (!op || !*op) {
		g_set_error(&error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "request without an op");
		goto fail;
	}
	if (!path) {
		g_set_error(&error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "%s: no path given", op);
		goto fail;
	}
	args = router_args(req, &error);
	if (!args)
		goto fail;
	if (strcmp(op, "ls") == 0) {
		gboolean rec = json_object_get_boolean_member_with_default(req, "recursive", FALSE);
		if (!router_ls(path, rec, &result, &error))
			goto fail;
	} else if (strcmp(op, "peek") == 0) {
		if (!router_peek(path, r, &result, &error))
			goto fail;
	} else if (strcmp(op, "scrub") == 0) {
		CircuitElement *e = router_element(path, NULL, &error);
		if (!e)
			goto fail;
		r->kind = g_strdup(element_plugin(e)->kind);
		circuit_element_scrub(e);
	} else if (strcmp(op, "mk") == 0) {
		if (!router_mk(s, req, path, args, r, &pending, &error))
			goto fail;
		if (pending)
			return;
	} else {
		router_element_op(s, op, path, args, r);
		return;
	}
	circuit_stream_reply(s, result, FALSE);
	circuit_stream_finish(s);
	return;
fail:
	circuit_stream_fail(s, error);
	g_error_free(error);
}
