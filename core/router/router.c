// SPDX-License-Identifier: Apache-2.0
//
// router.c - executes the operations that arrive on streams: the core's own
// (ls, peek, scrub, mk) and those plugins declare, logging each in the op
// log. Operations on another server's anchors are relayed to it (core/peer);
// `ls /` lists the members this server sees and `ls /...` walks them all.
#include "router.h"

#include "wire/name.h"
#include "wire/url.h"
#include "cluster/cluster.h"
#include "wire/json.h"
#include "peer/peer.h"
#include "oplog/oplog.h"
#include "transport/transport.h"

#include <string.h>

#define ROUTER_MK_BODY_MAX (1u << 20)
/* A push-pull document (membership) is at most this big. */
#define ROUTER_SYNC_MAX (4u << 20)
/* Seconds `ls /...` waits for each other server. */
#define ROUTER_LS_TIMEOUT 5.0

static struct {
	Anchor *root;
	GHashTable *plugins; /* kind -> Plugin (not owned) */
	char *server_id;
	char *url;
	char *hostport;
	char *version;
	GDateTime *started;
	guint max_anchors;
	GQueue ops; /* RouterOp of every stream still open, oldest first (stk) */
} router = {.max_anchors = G_MAXUINT};

void
router_set_max_anchors(guint max)
{
	router.max_anchors = max;
}

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
	CircuitStream *stream;   /* not owned: the op is freed with it */
	gint64 started;          /* monotonic, microseconds */
	GList link;              /* in router.ops */
} RouterOp;

static void
router_op_free(gpointer data)
{
	RouterOp *r = data;
	g_queue_unlink(&router.ops, &r->link);
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
	Caller *c = stream_caller(stream);
	oplog_op(circuit_stream_peer(stream), c ? caller_label(c) : NULL, c ? caller_via(c) : NULL,
	         r->op, r->path, r->kind, ok ? NULL : error);
}

static RouterOp *
router_track(CircuitStream *s, const char *op, const char *path)
{
	RouterOp *r = g_new0(RouterOp, 1);
	r->op = g_strdup(op);
	r->path = g_strdup(path);
	r->stream = s;
	r->started = g_get_monotonic_time();
	r->link.data = r;
	g_queue_push_tail_link(&router.ops, &r->link);
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

/* ---- the cluster --------------------------------------------------------- */

typedef void (*RouterMemberFn)(const char *id, const char *addr, const char *state,
                               gpointer user_data);

typedef struct {
	RouterMemberFn fn;
	gpointer user_data;
} RouterMemberVisit;

static void
router_member_visit(const MemberInfo *info, gpointer user_data)
{
	RouterMemberVisit *v = user_data;
	if (info->state != MEMBER_ALIVE && info->state != MEMBER_SUSPECT)
		return;
	if (info->id == member_self_id(cluster_member()))
		return;
	char id[18];
	member_id_format(info->id, id);
	v->fn(id, info->addr, member_state_name(info->state), v->user_data);
}

/* Calls @fn for every other server this one sees (alive or suspect). */
static void
router_foreach_member(RouterMemberFn fn, gpointer user_data)
{
	if (!cluster_member())
		return;
	RouterMemberVisit v = {fn, user_data};
	member_foreach(cluster_member(), router_member_visit, &v);
}

/* ---- ls ------------------------------------------------------------------ */

/*
 * `ls` answers with a small REPLY and streams its entries as DATA, one JSON
 * object per line (docs/protocol.md), under the client's credit: the tree
 * is walked a chunk at a time as credit comes back, so a listing of any
 * size costs the server a cursor, not the listing. `ls /...` streams this
 * server's part the same way, then the other servers' parts (collected in
 * parallel) in the order they were asked.
 */

/* Appends one entry line: {"path":..,"kind":..(,"addr":..,"state":..)(,"status":{..})
 * (,"error":..)}\n. @addr and @state describe a server; @status (nullable)
 * is an element's status object. */
static void
router_ls_entry(GString *out, const char *path, const char *kind, const char *addr,
                const char *state, JsonNode *status, const char *error)
{
	g_string_append(out, "{\"path\":");
	wire_json_append_string(out, path);
	g_string_append(out, ",\"kind\":");
	if (kind)
		wire_json_append_string(out, kind);
	else
		g_string_append(out, "null");
	if (addr) {
		g_string_append(out, ",\"addr\":");
		wire_json_append_string(out, addr);
	}
	if (state) {
		g_string_append(out, ",\"state\":");
		wire_json_append_string(out, state);
	}
	if (status) {
		g_autofree char *text = json_to_string(status, FALSE);
		g_string_append(out, ",\"status\":");
		g_string_append(out, text);
	}
	if (error) {
		g_string_append(out, ",\"error\":");
		wire_json_append_string(out, error);
	}
	g_string_append(out, "}\n");
}

/* A server's line: its path, address and how it looks from here. */
static void
router_ls_server(GString *out, const char *id, const char *addr, const char *state,
                 const char *error)
{
	g_autofree char *path = g_strconcat("/", id, NULL);
	router_ls_entry(out, path, "server", addr, state, NULL, error);
}

static void
router_ls_add_member(const char *id, const char *addr, const char *state, gpointer user_data)
{
	router_ls_server(user_data, id, addr, state, NULL);
}

typedef struct RouterLs RouterLs;

/* One other server's part of `ls /...`. */
typedef struct {
	RouterLs *ls;
	char *id;
	char *addr;
	char *state;
	PeerCall *call; /* NULL once done */
	GBytes *output; /* its entry lines, once done */
	char *error;    /* why its part is missing, once done */
	gboolean done;
} RouterLsPart;

struct RouterLs {
	CircuitStream *stream;
	GString *head; /* lines sent before the walk (server lines) */
	char **names;  /* the walked anchor (names[0]: this server); NULL: no walk */
	char *base;    /* its path */
	gboolean recursive;
	gboolean status;   /* ls -l: each element's status too */
	GPtrArray *cursor; /* names below it of the last anchor listed */
	GPtrArray *parts;  /* RouterLsPart, `ls /...` only, in the order asked */
	guint next_part;
	gboolean finished;
};

/* A chunk is about a frame's worth of lines. */
#define ROUTER_LS_CHUNK FRAME_DATA_CHUNK
/* The most one other server's part of `ls /...` may be. */
#define ROUTER_LS_PART_MAX (1024u << 20)

static void
router_ls_free(gpointer data)
{
	RouterLs *ls = data;
	for (guint i = 0; ls->parts && i < ls->parts->len; i++) {
		RouterLsPart *part = g_ptr_array_index(ls->parts, i);
		if (part->call)
			peer_call_cancel(part->call);
		if (part->output)
			g_bytes_unref(part->output);
		g_free(part->error);
		g_free(part->id);
		g_free(part->addr);
		g_free(part->state);
		g_free(part);
	}
	if (ls->parts)
		g_ptr_array_unref(ls->parts);
	if (ls->head)
		g_string_free(ls->head, TRUE);
	g_strfreev(ls->names);
	g_free(ls->base);
	g_ptr_array_unref(ls->cursor);
	g_free(ls);
}

/* Appends the next lines of the walk to @out, up to about @limit bytes;
 * FALSE once the walk is over. */
static gboolean
router_ls_walk(RouterLs *ls, GString *out, gsize limit)
{
	/* Looked up again at every chunk: it may have gone meanwhile. */
	Anchor *base = anchor_walk(router.root, (const char *const *)ls->names);
	if (!base)
		return FALSE;
	g_autoptr(GString) path = g_string_new(NULL);
	while (out->len < limit) {
		Anchor *a = anchor_next(base, ls->cursor, ls->recursive);
		if (!a)
			return FALSE;
		g_string_assign(path, ls->base);
		for (guint i = 0; i < ls->cursor->len; i++) {
			g_string_append_c(path, '/');
			g_string_append(path, g_ptr_array_index(ls->cursor, i));
		}
		CircuitElement *e = anchor_element(a);
		g_autoptr(JsonNode) status =
		        e && ls->status
		                ? plugin_element_status(element_plugin(e), e, element_ctx(e))
		                : NULL;
		router_ls_entry(out, path->str, e ? element_kind(e) : NULL, NULL, NULL, status,
		                NULL);
	}
	return TRUE;
}

static void
router_ls_write_string(CircuitStream *s, GString *text)
{
	if (text->len)
		circuit_stream_write(s, text->str, text->len);
}

/* Writes what credit allows; ends the stream after the last part. */
static void
router_ls_pump(RouterLs *ls)
{
	CircuitStream *s = ls->stream;
	if (ls->finished)
		return;
	if (ls->head) {
		router_ls_write_string(s, ls->head);
		g_string_free(ls->head, TRUE);
		ls->head = NULL;
	}
	while (circuit_stream_write_space(s) > 0) {
		if (ls->names) {
			g_autoptr(GString) chunk = g_string_sized_new(ROUTER_LS_CHUNK + 512);
			gboolean more = router_ls_walk(ls, chunk, ROUTER_LS_CHUNK);
			router_ls_write_string(s, chunk);
			if (!more)
				g_clear_pointer(&ls->names, g_strfreev);
			continue;
		}
		if (!ls->parts || ls->next_part == ls->parts->len)
			break;
		RouterLsPart *part = g_ptr_array_index(ls->parts, ls->next_part);
		if (!part->done)
			return; /* router_ls_part_done pumps again */
		ls->next_part++;
		g_autoptr(GString) line = g_string_new(NULL);
		router_ls_server(line, part->id, part->addr, part->state, part->error);
		router_ls_write_string(s, line);
		if (part->output && g_bytes_get_size(part->output))
			circuit_stream_write_bytes(s, part->output);
		g_clear_pointer(&part->output, g_bytes_unref);
	}
	if (ls->names || (ls->parts && ls->next_part < ls->parts->len))
		return; /* more once credit comes back (writable) */
	/* Finishing may end the stream, and free @ls, at once. */
	ls->finished = TRUE;
	circuit_stream_finish(s);
}

static void
router_ls_writable(CircuitStream *s, gpointer user_data)
{
	router_ls_pump(user_data);
}

static const CircuitStreamFuncs router_ls_funcs = {
        .writable = router_ls_writable,
};

static void
router_ls_part_done(GBytes *output, const GError *error, gpointer data)
{
	RouterLsPart *part = data;
	part->call = NULL;
	part->done = TRUE;
	if (output)
		part->output = g_bytes_ref(output);
	else
		part->error = g_strdup(error ? error->message : "no entries");
	router_ls_pump(part->ls);
}

static void
router_ls_part_start(const char *id, const char *addr, const char *state, gpointer user_data)
{
	RouterLs *ls = user_data;
	g_autoptr(JsonObject) req = json_object_new();
	g_autofree char *path = g_strconcat("/", id, NULL);
	json_object_set_string_member(req, "op", "ls");
	json_object_set_string_member(req, "path", path);
	json_object_set_boolean_member(req, "recursive", TRUE);
	if (ls->status) {
		JsonArray *a = json_array_new();
		json_array_add_string_element(a, "-l");
		json_object_set_array_member(req, "args", a);
	}
	/* Each server lists what its own rules let this caller see. */
	Caller *c = ls->stream ? stream_caller(ls->stream) : NULL;
	if (c)
		json_object_set_object_member(req, "caller", caller_to_json(c, router.server_id));
	RouterLsPart *part = g_new0(RouterLsPart, 1);
	part->ls = ls;
	part->id = g_strdup(id);
	part->addr = g_strdup(addr);
	part->state = g_strdup(state);
	g_ptr_array_add(ls->parts, part);
	part->call = peer_call(addr, req, NULL, ROUTER_LS_PART_MAX, ROUTER_LS_TIMEOUT,
	                       router_ls_part_done, part);
}

/*
 * Starts `ls` of @path on @s: replies, then streams the entries; with the
 * argument -l each element's line carries its status. `ls /`
 * lists this server and the members it sees; `ls /...` (or recursive `/`)
 * walks this server's tree, then every member's, asked in parallel.
 */
static gboolean
router_ls(CircuitStream *s, JsonObject *req, const char *path, char **args, GError **error)
{
	gboolean recursive = FALSE;
	gboolean status = FALSE;
	for (guint i = 0; args[i]; i++) {
		if (strcmp(args[i], "-l") != 0) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE,
			            "ls: unknown argument %s (a server's ls takes -l only)",
			            args[i]);
			return FALSE;
		}
		status = TRUE;
	}
	g_auto(GStrv) names = anchor_path_split(path, &recursive, error);
	if (!names)
		return FALSE;
	recursive =
	        recursive || json_object_get_boolean_member_with_default(req, "recursive", FALSE);
	RouterLs *ls = g_new0(RouterLs, 1);
	ls->stream = s;
	ls->recursive = recursive;
	ls->status = status;
	ls->cursor = g_ptr_array_new_with_free_func(g_free);
	if (!names[0]) {
		/* This server first, then the members it sees (or their trees). */
		ls->head = g_string_new(NULL);
		g_autofree char *server_path = g_strconcat("/", router.server_id, NULL);
		router_ls_server(ls->head, router.server_id, router.hostport, "alive", NULL);
		if (recursive) {
			ls->names = g_new0(char *, 2);
			ls->names[0] = g_strdup(router.server_id);
			ls->base = g_steal_pointer(&server_path);
			ls->parts = g_ptr_array_new();
		} else {
			router_foreach_member(router_ls_add_member, ls->head);
		}
	} else {
		if (!router_local(names, path, error) ||
		    !anchor_walk(router.root, (const char *const *)names)) {
			if (error && !*error)
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_NOT_FOUND,
				            "no anchor %s", path);
			router_ls_free(ls);
			return FALSE;
		}
		ls->base = anchor_path_join((const char *const *)names, g_strv_length(names));
		ls->names = g_steal_pointer(&names);
	}
	circuit_stream_set_funcs(s, &router_ls_funcs, ls, router_ls_free);
	circuit_stream_reply(s, NULL, FALSE);
	if (ls->parts)
		router_foreach_member(router_ls_part_start, ls);
	router_ls_pump(ls);
	return TRUE;
}

/* ---- peek ---------------------------------------------------------------- */

/* What a kind's descriptor says (for `circuit help`), and its own state. */
static JsonObject *
router_kind_peek(const Plugin *p)
{
	JsonObject *k = plugin_describe(p);
	JsonNode *state = plugin_peek(p);
	if (state)
		json_object_set_member(k, "State", state);
	return k;
}

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
	JsonObject *states = json_object_new();
	g_autoptr(GList) keys = g_hash_table_get_keys(router.plugins);
	keys = g_list_sort(keys, (GCompareFunc)strcmp);
	for (GList *l = keys; l; l = l->next) {
		Plugin *p = g_hash_table_lookup(router.plugins, l->data);
		const char *why = plugin_unavailable(p);
		if (why)
			json_object_set_string_member(unavailable, p->kind, why);
		else
			json_array_add_string_element(kinds, p->kind);
		json_object_set_object_member(states, p->kind, router_kind_peek(p));
	}
	json_object_set_array_member(o, "Plugins", kinds);
	json_object_set_object_member(o, "Unavailable", unavailable);
	json_object_set_object_member(o, "Kinds", states);
	if (cluster_member()) {
		cluster_peek(o);
	} else {
		json_object_set_int_member(o, "Members", 1);
		json_object_set_int_member(o, "Suspects", 0);
	}
	json_object_set_int_member(o, "Elements", element_live_count());
	transport_peek(o);
	/* The op log, and how many of its lines a full disk cost. */
	JsonObject *log = json_object_new();
	if (oplog_path())
		json_object_set_string_member(log, "Path", oplog_path());
	else
		json_object_set_null_member(log, "Path");
	json_object_set_int_member(log, "Lost", (gint64)oplog_lost());
	json_object_set_object_member(o, "OpLog", log);
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
	if (!names)
		return FALSE;
	/* "/" is the server that answers: the one dialed (or a peer asked). */
	if (!names[0] || (router_local(names, path, error) && !names[1])) {
		r->kind = g_strdup("server");
		*out = router_server_peek();
		return TRUE;
	}
	if (*error)
		return FALSE;
	CircuitElement *e = router_element(path, NULL, error);
	if (!e)
		return FALSE;
	Plugin *p = element_plugin(e);
	r->kind = g_strdup(element_kind(e));
	*out = p->desc->peek(e, element_ctx(e));
	return TRUE;
}

/* ---- mk ------------------------------------------------------------------ */

typedef struct {
	Plugin *plugin;
	char *kind; /* as asked: the plugin's kind or one of its aliases */
	char *path;
	char **args;
	GByteArray *body;
} RouterMake;

static void
router_make_free(gpointer data)
{
	RouterMake *m = data;
	g_free(m->kind);
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
	guint missing = anchor_missing(router.root, (const char *const *)names);
	if (missing && anchor_count(router.root) + missing > router.max_anchors) {
		g_set_error(
		        error, CIRCUIT_ERROR, CIRCUIT_ERROR_TOO_BIG,
		        "%s: this server holds its limit of %u anchors (circuitd --max-anchors)",
		        m->path, router.max_anchors);
		return FALSE;
	}
	if (a && anchor_element(a)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_EXISTS,
		            "%s already holds a %s element", m->path,
		            element_kind(anchor_element(a)));
		return FALSE;
	}
	g_autofree char *canonical =
	        anchor_path_join((const char *const *)names, g_strv_length(names));
	CircuitElement *e = element_new(m->plugin, m->kind, canonical);
	g_autoptr(GBytes) body = m->body ? g_bytes_new(m->body->data, m->body->len) : NULL;
	gpointer ctx = NULL;
	GError *local = NULL;
	Caller *caller = stream_caller(s);
	element_set_creator(e, caller);
	gboolean made =
	        m->plugin->desc->create(e, (const char *const *)m->args, body, &ctx, &local);
	element_set_creator(e, NULL);
	if (!made) {
		circuit_element_unref(e); /* never created: destroy() does not run */
		if (!local)
			local = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "create failed");
		if (local->domain != CIRCUIT_ERROR) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "%s: %s", m->path,
			            local->message);
			g_error_free(local);
		} else if (local->code == CIRCUIT_ERROR_PERMISSION && caller) {
			/* A kind's own refusal (a User the rules do not give, a
			 * bind outside the allow-list) names who was refused. */
			g_prefix_error(&local, "%s: permission denied (%s): ", m->path,
			               caller_label(caller));
			g_propagate_error(error, local);
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
		circuit_stream_fail_printf(s, CIRCUIT_ERROR_TOO_BIG,
		                           "mk%s %s: the body is over %u bytes", m->kind, m->path,
		                           ROUTER_MK_BODY_MAX);
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
router_mk(CircuitStream *s, JsonObject *req, const char *path, char **args, GBytes *inline_body,
          RouterOp *r, gboolean *pending, GError **error)
{
	const char *kind = json_object_get_string_member_with_default(req, "kind", NULL);
	if (!kind) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "mk without a kind");
		return FALSE;
	}
	r->kind = g_strdup(kind);
	Plugin *p = plugin_for_kind(router.plugins, kind);
	if (!p) {
		g_autoptr(GList) keys = g_hash_table_get_keys(router.plugins);
		keys = g_list_sort(keys, (GCompareFunc)strcmp);
		GString *have = g_string_new(NULL);
		for (GList *l = keys; l; l = l->next) {
			Plugin *q = g_hash_table_lookup(router.plugins, l->data);
			g_string_append_printf(have, "%s%s", have->len ? ", " : "", q->kind);
			for (guint i = 0; q->aliases && q->aliases[i]; i++)
				g_string_append_printf(have, "%s%s", i ? " " : " (", q->aliases[i]);
			if (q->aliases && q->aliases[0])
				g_string_append_c(have, ')');
		}
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_NOT_FOUND,
		            "unknown element kind \"%s\" (this server has: %s)", kind,
		            have->len ? have->str : "none");
		g_string_free(have, TRUE);
		return FALSE;
	}
	if ((p->desc->make_flags & CIRCUIT_MAKE_ALIASES_ONLY) && p->desc->abi_minor >= 2 &&
	    strcmp(kind, p->kind) == 0 && p->aliases && p->aliases[0]) {
		g_autofree char *names = g_strjoinv(" or mk", (char **)p->aliases);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "\"%s\" is a plugin, not a kind: make its elements with mk%s", kind,
		            names);
		return FALSE;
	}
	if (plugin_unavailable(p)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "kind %s is unavailable on this server: %s", kind,
		            plugin_unavailable(p));
		return FALSE;
	}
	g_autofree char *verb = g_strconcat("mk", kind, NULL);
	const CircuitPluginDescriptor *d = p->desc;
	if (!router_check_args(verb, d->make_args_usage, d->make_min_args, d->make_max_args, args,
	                       error))
		return FALSE;
	RouterMake *m = g_new0(RouterMake, 1);
	m->plugin = p;
	m->kind = g_strdup(kind);
	m->path = g_strdup(path);
	m->args = g_strdupv(args);
	if ((d->make_flags & CIRCUIT_OP_BODY) && inline_body) {
		/* A small body sent with the request saves a round trip. */
		m->body = g_byte_array_new();
		g_byte_array_append(m->body, g_bytes_get_data(inline_body, NULL),
		                    (guint)g_bytes_get_size(inline_body));
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

/* ---- member.sync: the membership push-pull ------------------------------- */

static void
router_sync_input(CircuitStream *s, const guint8 *data, gsize len, gpointer user_data)
{
	GByteArray *body = user_data;
	if (body->len + len > ROUTER_SYNC_MAX) {
		circuit_stream_fail_printf(s, CIRCUIT_ERROR_TOO_BIG, "member.sync: over %u bytes",
		                           ROUTER_SYNC_MAX);
		return;
	}
	g_byte_array_append(body, data, (guint)len);
	circuit_stream_consumed(s, len);
}

static void
router_sync_end(CircuitStream *s, gpointer user_data)
{
	GByteArray *body = user_data;
	GError *error = NULL;
	g_autoptr(GBytes) reply =
	        cluster_serve_sync(body->data, body->len, circuit_stream_peer(s), &error);
	if (!reply) {
		circuit_stream_fail(s, error);
		g_error_free(error);
		return;
	}
	circuit_stream_reply(s, NULL, FALSE);
	circuit_stream_write(s, g_bytes_get_data(reply, NULL), g_bytes_get_size(reply));
	circuit_stream_finish(s);
}

static const CircuitStreamFuncs router_sync_funcs = {
        .input = router_sync_input,
        .input_end = router_sync_end,
};

static gboolean
router_sync(CircuitStream *s, GError **error)
{
	if (!cluster_member()) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "member.sync: this server runs without membership");
		return FALSE;
	}
	circuit_stream_set_funcs(s, &router_sync_funcs, g_byte_array_new(),
	                         (GDestroyNotify)g_byte_array_unref);
	stream_grant_body(s, STREAM_BODY_WINDOW);
	return TRUE;
}

/* ---- forwarding ---------------------------------------------------------- */

/* Up to three live members but this one, in random order, to ask about @id. */
static void
router_pick_live(const MemberInfo *info, gpointer user_data)
{
	GPtrArray *live = user_data;
	if (info->state == MEMBER_ALIVE && info->id != member_self_id(cluster_member()))
		g_ptr_array_add(live, g_strdup(info->addr));
}

static char **
router_askers(void)
{
	GPtrArray *live = g_ptr_array_new_with_free_func(g_free);
	member_foreach(cluster_member(), router_pick_live, live);
	GPtrArray *ask = g_ptr_array_new();
	while (live->len && ask->len < 3) {
		guint i = (guint)g_random_int_range(0, (gint32)live->len);
		g_ptr_array_add(ask, g_ptr_array_steal_index_fast(live, i));
	}
	g_ptr_array_unref(live);
	g_ptr_array_add(ask, NULL);
	return (char **)g_ptr_array_free(ask, FALSE);
}

/*
 * The request relayed for @s says who is calling, so the owner can apply
 * its own rules to the caller this server admitted: "caller" is added to
 * @req and to the JSON text relays pass on as it came (spliced before its
 * closing brace: no second JSON round).
 */
static void
router_vouch(CircuitStream *s, JsonObject *req)
{
	Caller *c = stream_caller(s);
	if (!c)
		return;
	JsonObject *o = caller_to_json(c, router.server_id);
	g_autofree char *text = NULL;
	{
		JsonNode *n = json_node_init_object(json_node_alloc(), o);
		text = json_to_string(n, FALSE);
		json_node_unref(n);
	}
	json_object_set_object_member(req, "caller", o);
	GBytes *raw = stream_request_bytes(s);
	if (!raw)
		return;
	gsize len = 0;
	const char *p = g_bytes_get_data(raw, &len);
	while (len > 0 && g_ascii_isspace(p[len - 1]))
		len--;
	if (len < 2 || p[len - 1] != '}') {
		stream_set_request_bytes(s, NULL); /* relayed from @req instead */
		return;
	}
	gsize i = len - 1;
	while (i > 1 && g_ascii_isspace(p[i - 1]))
		i--;
	gboolean empty = p[i - 1] == '{';
	GString *out = g_string_sized_new(len + strlen(text) + 16);
	g_string_append_len(out, p, (gssize)(len - 1));
	g_string_append(out, empty ? "\"caller\":" : ",\"caller\":");
	g_string_append(out, text);
	g_string_append_c(out, '}');
	gsize n = out->len;
	stream_set_request_bytes(s, g_bytes_new_take(g_string_free(out, FALSE), n));
}

/*
 * If @path names another server, relays the stream there (or fails it) and
 * returns TRUE. A live member: relayed. A suspected one: "unavailable" at
 * once (retryable: it may refute). One this server does not know: the
 * others are asked first. Dead, departed, or unknown to all: FALSE, and the
 * local checks say "no such server".
 */
static gboolean
router_forward(CircuitStream *s, JsonObject *req, GBytes *inline_body, const char *path)
{
	/* PATH/... (ls) names its server too: split it with the suffix allowed. */
	gboolean recursive = FALSE;
	g_auto(GStrv) names = anchor_path_split(path, &recursive, NULL);
	if (!names || !names[0] || strcmp(names[0], router.server_id) == 0)
		return FALSE;
	guint64 raw = 0;
	MemberInfo info;
	if (!cluster_member() || !member_id_parse(names[0], &raw))
		return FALSE;
	if (!member_lookup(cluster_member(), raw, &info)) {
		router_vouch(s, req);
		g_auto(GStrv) ask = router_askers();
		return peer_forward_find(s, names[0], req, inline_body, ask);
	}
	if (info.state == MEMBER_SUSPECT) {
		double for_s =
		        (double)(ev_now(EV_DEFAULT) * 1000.0 - (double)info.since_ms) / 1000.0;
		circuit_stream_fail_printf(
		        s, CIRCUIT_ERROR_UNAVAILABLE,
		        "server %s is not answering (suspected for %.1f s): try again", names[0],
		        MAX(for_s, 0.0));
		return TRUE;
	}
	if (info.state != MEMBER_ALIVE)
		return FALSE;
	router_vouch(s, req);
	peer_forward(s, info.addr, names[0], req, inline_body);
	return TRUE;
}

/* member.find ID: where this server knows a live (or suspected) member to be. */
static gboolean
router_member_find(char **args, JsonNode **result, GError **error)
{
	guint64 raw = 0;
	MemberInfo info;
	if (g_strv_length(args) != 1 || !member_id_parse(args[0], &raw)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE,
		            "usage: member.find SERVER-ID");
		return FALSE;
	}
	if (!cluster_member() || !member_lookup(cluster_member(), raw, &info) ||
	    (info.state != MEMBER_ALIVE && info.state != MEMBER_SUSPECT)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_NOT_FOUND, "no such server %s",
		            args[0]);
		return FALSE;
	}
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "addr", info.addr);
	json_object_set_string_member(o, "state", member_state_name(info.state));
	*result = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return TRUE;
}

/* ---- stk: the server's state, for a person diagnosing it ---------------- */

static void
router_stk_member(const MemberInfo *info, gpointer user_data)
{
	JsonArray *a = user_data;
	char id[18];
	member_id_format(info->id, id);
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "ID", id);
	json_object_set_string_member(o, "Addr", info->addr);
	json_object_set_string_member(o, "State", member_state_name(info->state));
	json_object_set_int_member(o, "Incarnation", (gint64)info->incarnation);
	json_object_set_boolean_member(o, "Self", info->id == member_self_id(cluster_member()));
	json_array_add_object_element(a, o);
}

/* stk lists at most this many operations (the oldest), so its reply stays
 * far below the frame cap however many streams are open. */
#define ROUTER_STK_OPS_MAX 1000

/* Operations in flight, oldest first: what each stream is doing. */
static JsonArray *
router_stk_ops(void)
{
	JsonArray *a = json_array_new();
	gint64 now = g_get_monotonic_time();
	guint listed = 0;
	for (GList *l = router.ops.head; l && listed++ < ROUTER_STK_OPS_MAX; l = l->next) {
		RouterOp *r = l->data;
		JsonObject *o = json_object_new();
		json_object_set_string_member(o, "Op", r->op);
		if (r->path)
			json_object_set_string_member(o, "Path", r->path);
		else
			json_object_set_null_member(o, "Path");
		if (r->kind)
			json_object_set_string_member(o, "Kind", r->kind);
		const char *peer = circuit_stream_peer(r->stream);
		json_object_set_string_member(o, "Peer", peer ? peer : "");
		Caller *c = stream_caller(r->stream);
		if (c)
			json_object_set_string_member(o, "Caller", caller_label(c));
		json_object_set_int_member(o, "AgeMs", (now - r->started) / 1000);
		json_array_add_object_element(a, o);
	}
	return a;
}

/*
 * stk /X...: the server's internal state as JSON (the original printed its
 * goroutines' stacks; a C server's equivalent is what it holds): its
 * connections, the operations in flight on them, its elements by kind, its
 * membership view and its counters. Read-only and cheap: one walk.
 */
static JsonNode *
router_stk(void)
{
	/* Who it is, and the counters of peek under one name. */
	g_autoptr(JsonNode) peek = router_server_peek();
	JsonObject *p = json_node_get_object(peek);
	JsonObject *o = json_object_new();
	JsonObject *counters = json_object_new();
	static const char *const who[] = {"ID", "Addr", "Version", NULL};
	static const char *const skip[] = {"URL",     "Joined",      "Kinds",
	                                   "Plugins", "Unavailable", NULL};
	g_autoptr(GList) names = json_object_get_members(p);
	for (GList *l = names; l; l = l->next) {
		JsonNode *v = json_node_copy(json_object_get_member(p, l->data));
		if (g_strv_contains(who, l->data))
			json_object_set_member(o, l->data, v);
		else if (!g_strv_contains(skip, l->data))
			json_object_set_member(counters, l->data, v);
		else
			json_node_unref(v);
	}
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	json_object_set_int_member(o, "UptimeSeconds",
	                           g_date_time_difference(now, router.started) /
	                                   G_TIME_SPAN_SECOND);
	json_object_set_array_member(o, "Connections", transport_stk());
	json_object_set_int_member(o, "ConnectionsOpen", transport_conn_count());
	json_object_set_array_member(o, "Operations", router_stk_ops());
	json_object_set_int_member(o, "OperationsInFlight", router.ops.length);
	JsonObject *kinds = json_object_new();
	g_autoptr(GPtrArray) all = anchor_collect_elements(router.root);
	for (guint i = 0; i < all->len; i++) {
		const char *kind = element_kind(g_ptr_array_index(all, i));
		gint64 n = json_object_get_int_member_with_default(kinds, kind, 0);
		json_object_set_int_member(kinds, kind, n + 1);
	}
	json_object_set_object_member(o, "Elements", kinds);
	json_object_set_int_member(o, "Anchors", anchor_count(router.root));
	JsonArray *members = json_array_new();
	if (cluster_member())
		member_foreach(cluster_member(), router_stk_member, members);
	json_object_set_array_member(o, "Members", members);
	json_object_set_object_member(o, "Counters", counters);
	return router_object_node(o);
}

/* ---- join: a running server joins another circuit ----------------------- */

typedef struct {
	CircuitStream *stream;
	char *url;
	char *addr;
	char *want_id; /* nullable: the URL's ID */
	PeerCall *call;
} RouterJoin;

static void
router_join_free(gpointer data)
{
	RouterJoin *j = data;
	if (j->call)
		peer_call_cancel(j->call);
	g_free(j->url);
	g_free(j->addr);
	g_free(j->want_id);
	g_free(j);
}

/* The server at the URL answered (or not): join it, or say why not. */
static void
router_join_answered(JsonNode *result, const GError *error, gpointer data)
{
	RouterJoin *j = data;
	j->call = NULL;
	CircuitStream *s = j->stream;
	g_autoptr(GError) e = NULL;
	JsonObject *o =
	        result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
	const char *id = o ? json_object_get_string_member_with_default(o, "ID", NULL) : NULL;
	if (error) {
		e = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "cannot join %s: %s", j->url,
		                error->message);
	} else if (!id) {
		e = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		                "cannot join %s: the server at %s did not say who it is", j->url,
		                j->addr);
	} else if (j->want_id && strcmp(id, j->want_id) != 0) {
		e = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
		                "cannot join %s: the server at %s is %s, not %s", j->url, j->addr,
		                id, j->want_id);
	} else if (strcmp(id, router.server_id) == 0) {
		e = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE,
		                "cannot join %s: that is this server", j->url);
	} else {
		g_autofree char *url = g_strdup_printf("circuit://%s/0/%s", j->addr, id);
		const char *const seeds[] = {url, NULL};
		if (cluster_join(seeds, &e)) {
			JsonObject *r = json_object_new();
			json_object_set_string_member(r, "Joined", id);
			json_object_set_string_member(r, "Addr", j->addr);
			json_object_set_int_member(r, "Members", cluster_member_count());
			circuit_stream_reply(s, router_object_node(r), FALSE);
			circuit_stream_finish(s);
			return;
		}
		g_prefix_error(&e, "cannot join %s: ", j->url);
	}
	circuit_stream_fail(s, e);
}

/*
 * join /X... URL: this server joins the circuit of the server at URL, as
 * -j URL does at start. The server there is asked who it is first, so a
 * caller hears at once of a URL nobody answers or that names another
 * server; membership then merges the two views.
 */
static gboolean
router_join(CircuitStream *s, char **args, GError **error)
{
	if (g_strv_length(args) != 1) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE,
		            "usage: join /X... URL (the server at the path joins URL's circuit)");
		return FALSE;
	}
	g_auto(Url) url = {0};
	if (!url_parse(args[0], TRUE, &url, error)) {
		g_prefix_error(error, "join %s: ", args[0]);
		(*error)->domain = CIRCUIT_ERROR;
		(*error)->code = CIRCUIT_ERROR_USAGE;
		return FALSE;
	}
	guint64 raw;
	if (url.id && !member_id_parse(url.id, &raw)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE,
		            "join %s: %s is not a server ID (X and 16 hex digits)", args[0],
		            url.id);
		return FALSE;
	}
	RouterJoin *j = g_new0(RouterJoin, 1);
	j->stream = s;
	j->url = g_strdup(args[0]);
	j->addr = g_strdup_printf(strchr(url.host, ':') ? "[%s]:%u" : "%s:%u", url.host, url.port);
	j->want_id = g_strdup(url.id);
	circuit_stream_set_funcs(s, NULL, j, router_join_free);
	g_autoptr(JsonObject) req = json_object_new();
	json_object_set_string_member(req, "op", "peek");
	json_object_set_string_member(req, "path", "/");
	j->call = peer_request(j->addr, req, 10.0, router_join_answered, j);
	return TRUE;
}

/* A server's own operations (stk, join): @path must name a server. */
static gboolean
router_server_path(const char *op, const char *path, GError **error)
{
	g_auto(GStrv) names = anchor_path_split(path, NULL, error);
	if (!names || !router_local(names, path, error))
		return FALSE;
	if (names[0] && !names[1])
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE,
	            "%s takes a server's path (/X...), not %s", op, path);
	return FALSE;
}

/* ---- dispatch ------------------------------------------------------------ */

static void
router_element_op(CircuitStream *s, const char *op, const char *path, char **args,
                  GBytes *inline_body, RouterOp *r)
{
	GError *error = NULL;
	CircuitElement *e = router_element(path, NULL, &error);
	if (!e)
		goto fail;
	Plugin *p = element_plugin(e);
	r->kind = g_strdup(element_kind(e));
	const CircuitOp *cop = plugin_find_op(p, op);
	if (!cop) {
		/* Name what it does have: the kind's verbs, then the core's. */
		g_autoptr(GString) verbs = g_string_new(NULL);
		for (guint i = 0; i < p->desc->n_ops; i++)
			g_string_append_printf(verbs, "%s, ", p->desc->ops[i].name);
		g_string_append(verbs, "peek, scrub");
		g_set_error(&error, CIRCUIT_ERROR, CIRCUIT_ERROR_WRONG_KIND,
		            "%s is a %s element, which has no operation \"%s\" (it has %s)", path,
		            element_kind(e), op, verbs->str);
		goto fail;
	}
	if (!router_check_args(op, cop->args_usage, cop->min_args, cop->max_args, args, &error))
		goto fail;
	if (inline_body && !(cop->flags & CIRCUIT_OP_BODY)) {
		g_set_error(&error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "%s of a %s element takes no input", op, element_kind(e));
		goto fail;
	}
	r->element = circuit_element_ref(e);
	if ((cop->flags & CIRCUIT_OP_BODY) && !inline_body)
		stream_grant_body(s, STREAM_BODY_WINDOW);
	cop->run(e, element_ctx(e), s, (const char *const *)args);
	if (inline_body)
		stream_deliver_inline(s, inline_body);
	return;
fail:
	circuit_stream_fail(s, error);
	g_error_free(error);
}

/*
 * Who is calling @s: the connection's caller, or the one a server vouches
 * for in the request's "caller" member. Only a server may vouch; a client
 * that tries is refused (a relay cannot be talked into widening rights).
 */
static gboolean
router_caller(CircuitStream *s, JsonObject *req, GError **error)
{
	Caller *own = stream_caller(s);
	JsonNode *vouched = json_object_get_member(req, "caller");
	if (!vouched)
		return TRUE;
	if (!own || !stream_from_server(s) || !acl_is_server(own)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
		            "permission denied: only servers may say who is calling (the request "
		            "member \"caller\")");
		return FALSE;
	}
	if (!JSON_NODE_HOLDS_OBJECT(vouched)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "a relayed request's caller is malformed");
		return FALSE;
	}
	g_autoptr(Caller) c = caller_from_json(json_node_get_object(vouched), NULL, error);
	if (!c)
		return FALSE;
	stream_set_caller(s, c);
	return TRUE;
}

/* Server-to-server operations: only from a server's own connection. */
static gboolean
router_from_server(CircuitStream *s, const char *op, GError **error)
{
	Caller *c = stream_caller(s);
	if (stream_from_server(s) && c && !caller_via(c) && acl_is_server(c))
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
	            "permission denied: %s is for servers only, and %s is not one", op,
	            c ? caller_label(c) : "this caller");
	return FALSE;
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
	/* Input carried by the request is all of it: the client's side is done. */
	g_autoptr(GBytes) inline_body = stream_take_inline_body(s);
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
	if (!router_caller(s, req, &error))
		goto fail;
	if (strcmp(op, "member.sync") == 0) {
		if (!router_from_server(s, op, &error))
			goto fail;
		if (!router_sync(s, &error))
			goto fail;
		return;
	}
	if (strcmp(op, "member.find") == 0) {
		if (!router_member_find(args, &result, &error))
			goto fail;
		circuit_stream_reply(s, result, FALSE);
		circuit_stream_finish(s);
		return;
	}
	if (router_forward(s, req, inline_body, path))
		return;
	/* This server owns the path: its rules decide. */
	if (!acl_check(stream_caller(s), op, path,
	               json_object_get_string_member_with_default(req, "kind", NULL), &error))
		goto fail;
	if (strcmp(op, "ls") == 0) {
		if (inline_body) {
			g_set_error(&error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "ls takes no input");
			goto fail;
		}
		if (!router_ls(s, req, path, args, &error))
			goto fail;
		return;
	} else if (strcmp(op, "peek") == 0) {
		if (!router_peek(path, r, &result, &error))
			goto fail;
	} else if (strcmp(op, "stk") == 0) {
		if (!router_server_path(op, path, &error))
			goto fail;
		r->kind = g_strdup("server");
		result = router_stk();
	} else if (strcmp(op, "join") == 0) {
		if (!router_server_path(op, path, &error) || !router_join(s, args, &error))
			goto fail;
		r->kind = g_strdup("server");
		return;
	} else if (strcmp(op, "scrub") == 0) {
		CircuitElement *e = router_element(path, NULL, &error);
		if (!e)
			goto fail;
		r->kind = g_strdup(element_kind(e));
		circuit_element_scrub(e);
	} else if (strcmp(op, "mk") == 0) {
		if (!router_mk(s, req, path, args, inline_body, r, &pending, &error))
			goto fail;
		if (pending)
			return;
	} else {
		router_element_op(s, op, path, args, inline_body, r);
		return;
	}
	circuit_stream_reply(s, result, FALSE);
	circuit_stream_finish(s);
	return;
fail:
	circuit_stream_fail(s, error);
	g_error_free(error);
}
