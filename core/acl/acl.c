// SPDX-License-Identifier: Apache-2.0
//
// acl.c - callers and access rules (see acl.h).
#include "acl.h"

#include <circuit/plugin.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK(circuit - acl - error - quark, acl_error)

struct Caller {
	guint refcount;
	CallerKind kind;
	gint64 uid;    /* CALLER_LOCAL, else -1 */
	char *user;    /* CALLER_LOCAL: the account's name ("1000" if it has none) */
	char **groups; /* CALLER_LOCAL: names of its groups, primary first */
	char *key;     /* CALLER_KEY */
	char *addr;    /* where it connected from */
	char *via;     /* relayed: the server that vouched */
	char *label;
};

/* ---- callers ------------------------------------------------------------- */

static Caller *
caller_alloc(CallerKind kind, const char *addr)
{
	Caller *c = g_new0(Caller, 1);
	c->refcount = 1;
	c->kind = kind;
	c->uid = -1;
	c->addr = g_strdup(addr);
	return c;
}

/* Names of @user's groups (primary @gid first), from the group database. */
static char **
caller_group_names(const char *user, gid_t gid)
{
	int n = 32;
	gid_t *gids = g_new(gid_t, n);
	if (getgrouplist(user, gid, gids, &n) < 0) {
		gids = g_renew(gid_t, gids, n);
		if (getgrouplist(user, gid, gids, &n) < 0)
			n = 0;
	}
	GPtrArray *out = g_ptr_array_new();
	struct group *gr = getgrgid(gid);
	g_ptr_array_add(out, gr ? g_strdup(gr->gr_name) : g_strdup_printf("%u", (guint)gid));
	for (int i = 0; i < n; i++) {
		if (gids[i] == gid)
			continue;
		gr = getgrgid(gids[i]);
		g_ptr_array_add(out,
		                gr ? g_strdup(gr->gr_name) : g_strdup_printf("%u", (guint)gids[i]));
	}
	g_free(gids);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* Account lookups cost a read of /etc/passwd and /etc/group: one per uid
 * and minute, not one per connection. */
typedef struct {
	char *user;
	char **groups;
	gint64 at;
} CallerCacheEntry;

static GHashTable *caller_cache; /* uid -> CallerCacheEntry */

static void
caller_cache_entry_free(gpointer data)
{
	CallerCacheEntry *e = data;
	g_free(e->user);
	g_strfreev(e->groups);
	g_free(e);
}

Caller *
caller_new_local(uid_t uid, gid_t gid, const char *addr)
{
	Caller *c = caller_alloc(CALLER_LOCAL, addr);
	c->uid = uid;
	if (!caller_cache)
		caller_cache = g_hash_table_new_full(NULL, NULL, NULL, caller_cache_entry_free);
	gint64 now = g_get_monotonic_time();
	CallerCacheEntry *e = g_hash_table_lookup(caller_cache, GUINT_TO_POINTER(uid));
	if (!e || now - e->at > 60 * G_USEC_PER_SEC) {
		if (g_hash_table_size(caller_cache) > 4096)
			g_hash_table_remove_all(caller_cache);
		e = g_new0(CallerCacheEntry, 1);
		struct passwd *pw = getpwuid(uid);
		e->user = pw ? g_strdup(pw->pw_name) : g_strdup_printf("%u", (guint)uid);
		e->groups = pw ? caller_group_names(pw->pw_name, pw->pw_gid) : NULL;
		if (!e->groups) {
			struct group *gr = getgrgid(gid);
			e->groups = g_new0(char *, 2);
			e->groups[0] =
			        gr ? g_strdup(gr->gr_name) : g_strdup_printf("%u", (guint)gid);
		}
		e->at = now;
		g_hash_table_replace(caller_cache, GUINT_TO_POINTER(uid), e);
	}
	c->user = g_strdup(e->user);
	c->groups = g_strdupv(e->groups);
	c->label = g_strdup_printf("uid %u (%s)", (guint)uid, c->user);
	return c;
}

Caller *
caller_new_key(const char *key, const char *addr)
{
	Caller *c = caller_alloc(CALLER_KEY, addr);
	c->key = g_strdup(key);
	c->label = g_strdup_printf("key %s", key);
	return c;
}

Caller *
caller_new_address(const char *addr)
{
	Caller *c = caller_alloc(CALLER_ADDRESS, addr);
	c->label = g_strdup_printf("address %s", addr);
	return c;
}

static const char *
caller_json_string(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

Caller *
caller_from_json(JsonObject *o, const char *via, GError **error)
{
	const char *kind = caller_json_string(o, "kind");
	const char *addr = caller_json_string(o, "addr");
	const char *from = caller_json_string(o, "via");
	Caller *c = NULL;
	if (g_strcmp0(kind, "key") == 0 && caller_json_string(o, "key")) {
		c = caller_new_key(caller_json_string(o, "key"), addr);
	} else if (g_strcmp0(kind, "address") == 0 && addr) {
		c = caller_new_address(addr);
	} else if (g_strcmp0(kind, "local") == 0 && caller_json_string(o, "user") &&
	           json_object_has_member(o, "uid") &&
	           JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "groups"))) {
		c = caller_alloc(CALLER_LOCAL, addr);
		c->uid = json_object_get_int_member(o, "uid");
		c->user = g_strdup(caller_json_string(o, "user"));
		JsonArray *a = json_object_get_array_member(o, "groups");
		guint n = MIN(json_array_get_length(a), 256u);
		c->groups = g_new0(char *, n + 1);
		for (guint i = 0, j = 0; i < n; i++) {
			JsonNode *g = json_array_get_element(a, i);
			if (JSON_NODE_HOLDS_VALUE(g) &&
			    json_node_get_value_type(g) == G_TYPE_STRING)
				c->groups[j++] = g_strdup(json_node_get_string(g));
		}
		c->label = g_strdup_printf("uid %" G_GINT64_FORMAT " (%s)", c->uid, c->user);
	} else {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "a relayed request's caller is malformed");
		return NULL;
	}
	c->via = g_strdup(from ? from : via);
	return c;
}

JsonObject *
caller_to_json(const Caller *c, const char *via)
{
	JsonObject *o = json_object_new();
	switch (c->kind) {
	case CALLER_LOCAL: {
		json_object_set_string_member(o, "kind", "local");
		json_object_set_int_member(o, "uid", c->uid);
		json_object_set_string_member(o, "user", c->user);
		JsonArray *a = json_array_new();
		for (guint i = 0; c->groups && c->groups[i]; i++)
			json_array_add_string_element(a, c->groups[i]);
		json_object_set_array_member(o, "groups", a);
		break;
	}
	case CALLER_KEY:
		json_object_set_string_member(o, "kind", "key");
		json_object_set_string_member(o, "key", c->key);
		break;
	case CALLER_ADDRESS:
		json_object_set_string_member(o, "kind", "address");
		break;
	}
	if (c->addr)
		json_object_set_string_member(o, "addr", c->addr);
	/* A caller relayed twice keeps the server that first vouched. */
	json_object_set_string_member(o, "via", c->via ? c->via : via);
	return o;
}

Caller *
caller_ref(Caller *c)
{
	c->refcount++;
	return c;
}

void
caller_unref(Caller *c)
{
	if (!c || --c->refcount > 0)
		return;
	g_free(c->user);
	g_strfreev(c->groups);
	g_free(c->key);
	g_free(c->addr);
	g_free(c->via);
	g_free(c->label);
	g_free(c);
}

CallerKind
caller_kind(const Caller *c)
{
	return c->kind;
}

const char *
caller_label(const Caller *c)
{
	return c->label;
}

const char *
caller_via(const Caller *c)
{
	return c->via;
}

gint64
caller_uid(const Caller *c)
{
	return c->kind == CALLER_LOCAL ? c->uid : -1;
}

/* Root or this server's account, calling this server directly. */
static gboolean
caller_is_owner(const Caller *c)
{
	return c->kind == CALLER_LOCAL && !c->via && (c->uid == 0 || c->uid == (gint64)getuid());
}

/* ---- rules --------------------------------------------------------------- */

typedef enum {
	WHO_ANY,
	WHO_KEY,
	WHO_USER,
	WHO_UID,
	WHO_GROUP,
	WHO_ADDR,
} WhoKind;

/* Verb classes (docs/security.md). */
enum {
	RIGHT_READ = 1 << 0,
	RIGHT_WRITE = 1 << 1,
	RIGHT_MAKE = 1 << 2,
	RIGHT_SCRUB = 1 << 3,
	RIGHT_SERVER = 1 << 4,
	RIGHT_ALL = RIGHT_READ | RIGHT_WRITE | RIGHT_MAKE | RIGHT_SCRUB,
};

typedef struct {
	guint line;
	WhoKind who;
	char *name;          /* key, user, group name, uid digits or address */
	guint classes;       /* RIGHT_* */
	gboolean all;        /* every verb, plugin verbs included */
	char **verbs;        /* single verbs named */
	GPtrArray *prefixes; /* of char ** (components, each a glob) */
	char **kinds;        /* mk: kinds allowed (NULL: any) */
	char **users;        /* accounts jobs may run as (NULL: none) */
	char **groups;       /* groups jobs may run as (NULL: none) */
} AclRule;

struct Acl {
	GPtrArray *rules;
};

static struct {
	Acl *acl;
	char *local_group;
} acl_state;

static const char *const acl_read_verbs[] = {"ls",   "peek", "stdout",  "stderr", "recv",
                                             "tail", "wait", "waitall", NULL};
static const char *const acl_write_verbs[] = {"stdin", "send",  "signal", "set",
                                              "unset", "close", NULL};

static void
acl_rule_free(gpointer data)
{
	AclRule *r = data;
	g_free(r->name);
	g_strfreev(r->verbs);
	if (r->prefixes)
		g_ptr_array_unref(r->prefixes);
	g_strfreev(r->kinds);
	g_strfreev(r->users);
	g_strfreev(r->groups);
	g_free(r);
}

void
acl_free(Acl *acl)
{
	if (!acl)
		return;
	g_ptr_array_unref(acl->rules);
	g_free(acl);
}

guint
acl_n_rules(const Acl *acl)
{
	return acl->rules->len;
}

static gboolean
acl_word_ok(const char *w)
{
	if (!*w)
		return FALSE;
	for (const char *p = w; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("-_.@:", *p))
			return FALSE;
	return TRUE;
}

static gboolean acl_fail(GError **error, const char *origin, guint line, const char *format, ...)
        G_GNUC_PRINTF(4, 5);

static gboolean
acl_fail(GError **error, const char *origin, guint line, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *m = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error(error, ACL_ERROR, ACL_ERROR_SYNTAX, "%s line %u: %s", origin, line, m);
	return FALSE;
}

static gboolean
acl_parse_who(AclRule *r, const char *w, const char *origin, GError **error)
{
	if (strcmp(w, "*") == 0) {
		r->who = WHO_ANY;
		return TRUE;
	}
	static const struct {
		const char *prefix;
		WhoKind who;
	} kinds[] = {{"key:", WHO_KEY},
	             {"user:", WHO_USER},
	             {"uid:", WHO_UID},
	             {"group:", WHO_GROUP},
	             {"addr:", WHO_ADDR}};
	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (!g_str_has_prefix(w, kinds[i].prefix))
			continue;
		const char *name = w + strlen(kinds[i].prefix);
		if (!acl_word_ok(name))
			return acl_fail(error, origin, r->line, "\"%s\": a name must follow \"%s\"",
			                w, kinds[i].prefix);
		if (kinds[i].who == WHO_UID) {
			for (const char *p = name; *p; p++)
				if (!g_ascii_isdigit(*p))
					return acl_fail(error, origin, r->line,
					                "\"%s\": a uid is a number", w);
		}
		r->who = kinds[i].who;
		r->name = g_strdup(name);
		return TRUE;
	}
	return acl_fail(error, origin, r->line,
	                "\"%s\" names nobody: write key:NAME, user:NAME, uid:N, group:NAME, "
	                "addr:IP or *",
	                w);
}

static gboolean
acl_parse_rights(AclRule *r, const char *w, const char *origin, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(w, ",", -1);
	GPtrArray *verbs = g_ptr_array_new();
	for (guint i = 0; parts[i]; i++) {
		const char *p = parts[i];
		if (strcmp(p, "read") == 0)
			r->classes |= RIGHT_READ;
		else if (strcmp(p, "write") == 0)
			r->classes |= RIGHT_WRITE;
		else if (strcmp(p, "make") == 0 || strcmp(p, "mk") == 0)
			r->classes |= RIGHT_MAKE;
		else if (strcmp(p, "scrub") == 0)
			r->classes |= RIGHT_SCRUB;
		else if (strcmp(p, "server") == 0)
			r->classes |= RIGHT_SERVER;
		else if (strcmp(p, "all") == 0)
			r->all = TRUE;
		else if (acl_word_ok(p) && !strchr(p, ':'))
			g_ptr_array_add(verbs, g_strdup(p));
		else {
			g_ptr_array_free(verbs, TRUE);
			return acl_fail(error, origin, r->line,
			                "\"%s\" is not a right: read, write, make, scrub, all, "
			                "server or an operation's name",
			                p);
		}
	}
	g_ptr_array_add(verbs, NULL);
	r->verbs = (char **)g_ptr_array_free(verbs, FALSE);
	return TRUE;
}

static char **
acl_list(const char *value)
{
	g_auto(GStrv) parts = g_strsplit(value, ",", -1);
	GPtrArray *out = g_ptr_array_new();
	for (guint i = 0; parts[i]; i++)
		if (*parts[i])
			g_ptr_array_add(out, g_strdup(parts[i]));
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static gboolean
acl_parse_word(AclRule *r, const char *w, const char *origin, GError **error)
{
	if (w[0] == '/') {
		g_auto(GStrv) parts = g_strsplit(w, ",", -1);
		for (guint i = 0; parts[i]; i++) {
			if (parts[i][0] != '/')
				return acl_fail(error, origin, r->line,
				                "\"%s\": a path prefix starts with /", parts[i]);
			GPtrArray *comps = g_ptr_array_new();
			g_auto(GStrv) split = g_strsplit(parts[i], "/", -1);
			for (guint j = 0; split[j]; j++)
				if (*split[j])
					g_ptr_array_add(comps, g_strdup(split[j]));
			g_ptr_array_add(comps, NULL);
			g_ptr_array_add(r->prefixes, g_ptr_array_free(comps, FALSE));
		}
		return TRUE;
	}
	const char *eq = strchr(w, '=');
	char ***slot = NULL;
	if (eq && (gsize)(eq - w) == 5 && strncmp(w, "kinds", 5) == 0)
		slot = &r->kinds;
	else if (eq && (gsize)(eq - w) == 5 && strncmp(w, "users", 5) == 0)
		slot = &r->users;
	else if (eq && (gsize)(eq - w) == 6 && strncmp(w, "groups", 6) == 0)
		slot = &r->groups;
	if (!slot)
		return acl_fail(error, origin, r->line,
		                "\"%s\" is neither a path prefix (/...) nor kinds=, users= or "
		                "groups=",
		                w);
	if (*slot)
		return acl_fail(error, origin, r->line, "%.*s= is given twice", (int)(eq - w), w);
	*slot = acl_list(eq + 1);
	return TRUE;
}

Acl *
acl_parse(const char *text, const char *origin, GError **error)
{
	Acl *acl = g_new0(Acl, 1);
	acl->rules = g_ptr_array_new_with_free_func(acl_rule_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *hash = strchr(lines[i], '#');
		if (hash)
			*hash = '\0';
		g_auto(GStrv) words = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
		guint n = 0;
		for (guint j = 0; words[j]; j++)
			if (*words[j])
				words[n++] = words[j];
			else
				g_free(words[j]);
		words[n] = NULL;
		if (n == 0)
			continue;
		AclRule *r = g_new0(AclRule, 1);
		r->line = i + 1;
		r->prefixes = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
		g_ptr_array_add(acl->rules, r);
		if (n < 2) {
			acl_fail(error, origin, r->line,
			         "expected WHO RIGHTS [PATH,...] [OPTION=...]");
			goto fail;
		}
		if (!acl_parse_who(r, words[0], origin, error) ||
		    !acl_parse_rights(r, words[1], origin, error))
			goto fail;
		for (guint j = 2; j < n; j++)
			if (!acl_parse_word(r, words[j], origin, error))
				goto fail;
		/* No path prefix: the rule covers every path. */
		if (r->prefixes->len == 0)
			g_ptr_array_add(r->prefixes, g_new0(char *, 1));
	}
	return acl;
fail:
	acl_free(acl);
	return NULL;
}

Acl *
acl_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	GError *local = NULL;
	if (!g_file_get_contents(path, &text, NULL, &local)) {
		g_set_error(error, ACL_ERROR, ACL_ERROR_IO, "--acl: %s", local->message);
		g_error_free(local);
		return NULL;
	}
	return acl_parse(text, path, error);
}

void
acl_set(Acl *acl)
{
	acl_free(acl_state.acl);
	acl_state.acl = acl;
}

void
acl_swap(Acl **acl)
{
	Acl *cur = acl_state.acl;
	acl_state.acl = *acl;
	*acl = cur;
}

void
acl_set_local_group(const char *group)
{
	g_free(acl_state.local_group);
	acl_state.local_group = g_strdup(group);
}

static gboolean
acl_rule_names(const AclRule *r, const Caller *c)
{
	switch (r->who) {
	case WHO_ANY:
		return TRUE;
	case WHO_KEY:
		return c->kind == CALLER_KEY && strcmp(r->name, c->key) == 0;
	case WHO_USER:
		return c->kind == CALLER_LOCAL && strcmp(r->name, c->user) == 0;
	case WHO_UID:
		return c->kind == CALLER_LOCAL && g_ascii_strtoll(r->name, NULL, 10) == c->uid;
	case WHO_GROUP:
		return c->kind == CALLER_LOCAL && c->groups &&
		       g_strv_contains((const char *const *)c->groups, r->name);
	case WHO_ADDR: {
		if (c->kind != CALLER_ADDRESS || !c->addr)
			return FALSE;
		/* The address without its port ("10.0.0.7:4242", "[::1]:4242"). */
		g_autofree char *host = g_strdup(c->addr);
		char *colon = strrchr(host, ':');
		if (colon && colon != host)
			*colon = '\0';
		g_strdelimit(host, "[]", ' ');
		return strcmp(g_strstrip(host), r->name) == 0;
	}
	}
	return FALSE;
}

/* Whether the rule's prefix @pre covers @names (at or below it); with
 * @ancestor, also when @names lies above it (listing the way there). */
static gboolean
acl_prefix_covers(char **pre, char **names, gboolean ancestor)
{
	guint i = 0;
	for (; pre[i] && names[i]; i++)
		if (!g_pattern_match_simple(pre[i], names[i]))
			return FALSE;
	return !pre[i] || ancestor;
}

static guint
acl_verb_class(const char *verb)
{
	if (g_strv_contains(acl_read_verbs, verb))
		return RIGHT_READ;
	if (g_strv_contains(acl_write_verbs, verb))
		return RIGHT_WRITE;
	if (strcmp(verb, "mk") == 0)
		return RIGHT_MAKE;
	if (strcmp(verb, "scrub") == 0)
		return RIGHT_SCRUB;
	return 0;
}

static gboolean
acl_rule_grants(const AclRule *r, const char *verb, char **names, const char *kind)
{
	guint cls = acl_verb_class(verb);
	if (!r->all && !(cls && (r->classes & cls)) &&
	    !g_strv_contains((const char *const *)r->verbs, verb))
		return FALSE;
	if (strcmp(verb, "mk") == 0 && r->kinds &&
	    !g_strv_contains((const char *const *)r->kinds, kind ? kind : ""))
		return FALSE;
	gboolean ancestor = strcmp(verb, "ls") == 0;
	for (guint i = 0; i < r->prefixes->len; i++)
		if (acl_prefix_covers(g_ptr_array_index(r->prefixes, i), names, ancestor))
			return TRUE;
	return FALSE;
}

static gboolean
acl_in_local_group(const Caller *c)
{
	const char *g = acl_state.local_group ? acl_state.local_group : "circuit";
	return c->kind == CALLER_LOCAL && c->groups &&
	       g_strv_contains((const char *const *)c->groups, g);
}

gboolean
acl_admit(const Caller *c, GError **error)
{
	if (caller_is_owner(c))
		return TRUE;
	Acl *acl = acl_state.acl;
	if (!acl) {
		if (c->kind != CALLER_LOCAL || acl_in_local_group(c))
			return TRUE;
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
		            "permission denied: %s is not admitted (only root, the server's "
		            "account %s and members of the group %s may use this server)",
		            c->label, g_get_user_name(),
		            acl_state.local_group ? acl_state.local_group : "circuit");
		return FALSE;
	}
	for (guint i = 0; i < acl->rules->len; i++)
		if (acl_rule_names(g_ptr_array_index(acl->rules, i), c))
			return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
	            "permission denied: %s is not admitted (no rule of the server's --acl file "
	            "names it)",
	            c->label);
	return FALSE;
}

gboolean
acl_check(const Caller *c, const char *verb, const char *path, const char *kind, GError **error)
{
	Acl *acl = acl_state.acl;
	if (!acl || caller_is_owner(c))
		return TRUE;
	g_auto(GStrv) names = NULL;
	{
		g_auto(GStrv) split = g_strsplit(path ? path : "/", "/", -1);
		GPtrArray *comps = g_ptr_array_new();
		for (guint i = 0; split[i]; i++)
			if (*split[i] && strcmp(split[i], "...") != 0)
				g_ptr_array_add(comps, g_strdup(split[i]));
		g_ptr_array_add(comps, NULL);
		names = (char **)g_ptr_array_free(comps, FALSE);
	}
	for (guint i = 0; i < acl->rules->len; i++) {
		const AclRule *r = g_ptr_array_index(acl->rules, i);
		if (acl_rule_names(r, c) && acl_rule_grants(r, verb, names, kind))
			return TRUE;
	}
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
	            "permission denied: %s may not %s%s %s %s", c->label, verb,
	            strcmp(verb, "mk") == 0 && kind ? kind : "",
	            strcmp(verb, "mk") == 0 ? "under" : "on", path ? path : "/");
	return FALSE;
}

gboolean
acl_permits(const Caller *c, const char *right, const char *value)
{
	if (caller_is_owner(c))
		return TRUE;
	Acl *acl = acl_state.acl;
	if (!acl)
		return c->kind == CALLER_KEY;
	gboolean user = strcmp(right, "user") == 0;
	if (!user && strcmp(right, "group") != 0)
		return FALSE;
	for (guint i = 0; i < acl->rules->len; i++) {
		const AclRule *r = g_ptr_array_index(acl->rules, i);
		char **list = user ? r->users : r->groups;
		if (acl_rule_names(r, c) && list &&
		    (g_strv_contains((const char *const *)list, value) ||
		     g_strv_contains((const char *const *)list, "*")))
			return TRUE;
	}
	return FALSE;
}

gboolean
acl_is_server(const Caller *c)
{
	Acl *acl = acl_state.acl;
	if (c->via)
		return FALSE;
	if (!acl || caller_is_owner(c))
		return TRUE;
	for (guint i = 0; i < acl->rules->len; i++) {
		const AclRule *r = g_ptr_array_index(acl->rules, i);
		if (acl_rule_names(r, c) && (r->classes & RIGHT_SERVER))
			return TRUE;
	}
	return FALSE;
}
