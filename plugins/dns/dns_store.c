// SPDX-License-Identifier: Apache-2.0
//
// dns_store.c - records of one dns element: parsing (ldns), storage,
// indexes and removal. The query path is in dns_query.c.
//
// Layout: every owner name is a DnsNode in a hash table keyed by the
// lowercased wire form of the name, so a lookup is O(1) whatever the
// number of records. A second table counts, for every proper ancestor of
// a stored name, how many stored names lie below it: that is how an empty
// non-terminal ("example." when only "www.example." has records) answers
// NODATA instead of NXDOMAIN. A third table is the set of stored records
// hashed and compared by identity (canonical form without TTL), so adding
// an identical record keeps one copy in O(1) with no key stored apart.
#include "dns_store_private.h"

#include <string.h>

/* Names are parsed with this origin so that a relative name, which ldns
 * would otherwise silently complete with the root, becomes recognisable
 * and can be refused. */
#define DNS_RELATIVE_SENTINEL "circuit--relative--name.invalid."

GQuark
dns_store_error_quark(void)
{
	return g_quark_from_static_string("circuit-dns-store-error-quark");
}

guint
dns_name_hash(gconstpointer key)
{
	const guint8 *k = key;
	guint32 h = 2166136261u;
	for (guint i = 0; i <= k[0]; i++) {
		h ^= k[i];
		h *= 16777619u;
	}
	return h;
}

gboolean
dns_name_equal(gconstpointer a, gconstpointer b)
{
	const guint8 *x = a, *y = b;
	return x[0] == y[0] && memcmp(x + 1, y + 1, x[0]) == 0;
}

void
dns_name_from_rdf(const ldns_rdf *rdf, guint8 out[DNS_NAME_BUF])
{
	gsize size = ldns_rdf_size(rdf);
	const guint8 *data = ldns_rdf_data(rdf);
	g_assert(size >= 1 && size <= 255);
	out[0] = (guint8)size;
	for (gsize i = 0; i < size; i++)
		out[1 + i] = (guint8)g_ascii_tolower(data[i]);
}

static guint8 *
dns_name_dup(const guint8 *name)
{
	return g_memdup2(name, (gsize)name[0] + 1);
}

/** dns_node_text: (transfer full) the node's name in presentation form. */
static char *
dns_node_text(const DnsNode *node)
{
	ldns_rdf *rdf = ldns_dname_new_frm_data(node->name[0], node->name + 1);
	char *s = ldns_rdf2str(rdf);
	char *g = g_strdup(s ? s : "?");
	free(s);
	ldns_rdf_deep_free(rdf);
	return g;
}

/** dns_node_free: frees a node and the records it holds. */
static void
dns_node_free(gpointer data)
{
	DnsNode *node = data;
	if (!node)
		return;
	for (guint i = 0; i < node->rrs->len; i++)
		ldns_rr_free(g_ptr_array_index(node->rrs, i));
	g_ptr_array_free(node->rrs, TRUE);
	g_free(node);
}

/* Hashes a record's identity: owner, type, class and data, every name
 * lowercased, the TTL left out. Names inside the data are lowercased
 * whatever the type, so records equal by dns_rr_identity_equal always
 * hash alike. */
static guint
dns_rr_identity_hash(gconstpointer key)
{
	const ldns_rr *rr = key;
	guint32 h = 2166136261u;
	const ldns_rdf *owner = ldns_rr_owner(rr);
	for (gsize i = 0; i < ldns_rdf_size(owner); i++)
		h = (h ^ (guint8)g_ascii_tolower(ldns_rdf_data(owner)[i])) * 16777619u;
	h = (h ^ ldns_rr_get_type(rr)) * 16777619u;
	h = (h ^ ldns_rr_get_class(rr)) * 16777619u;
	for (size_t f = 0; f < ldns_rr_rd_count(rr); f++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, f);
		gboolean name = ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME;
		const guint8 *d = ldns_rdf_data(rdf);
		for (gsize i = 0; i < ldns_rdf_size(rdf); i++)
			h = (h ^ (guint8)(name ? g_ascii_tolower(d[i]) : d[i])) * 16777619u;
		h = (h ^ 0xFFu) * 16777619u; /* field boundary */
	}
	return h;
}

/* TRUE if two records are the same record (RFC 4034 6.2 canonical form,
 * the TTL left out): the cheap fields first, then the data in canonical
 * form (names lowercased where RFC 4034 says so), as ldns makes it. */
static gboolean
dns_rr_identity_equal(gconstpointer a, gconstpointer b)
{
	const ldns_rr *x = a, *y = b;
	if (x == y)
		return TRUE;
	if (ldns_rr_get_type(x) != ldns_rr_get_type(y) ||
	    ldns_rr_get_class(x) != ldns_rr_get_class(y) ||
	    ldns_rr_rd_count(x) != ldns_rr_rd_count(y) ||
	    ldns_dname_compare(ldns_rr_owner(x), ldns_rr_owner(y)) != 0)
		return FALSE;
	for (size_t f = 0; f < ldns_rr_rd_count(x); f++)
		if (ldns_rdf_size(ldns_rr_rdf(x, f)) != ldns_rdf_size(ldns_rr_rdf(y, f)))
			return FALSE;
	ldns_rr *cx = ldns_rr_clone(x), *cy = ldns_rr_clone(y);
	ldns_rr2canonical(cx);
	ldns_rr2canonical(cy);
	gboolean same = TRUE;
	for (size_t f = 0; same && f < ldns_rr_rd_count(cx); f++)
		same = ldns_rdf_compare(ldns_rr_rdf(cx, f), ldns_rr_rdf(cy, f)) == 0;
	ldns_rr_free(cx);
	ldns_rr_free(cy);
	return same;
}

DnsStore *
dns_store_new(void)
{
	DnsStore *store = g_new0(DnsStore, 1);
	store->nodes = g_hash_table_new_full(dns_name_hash, dns_name_equal, NULL, dns_node_free);
	store->ancestors = g_hash_table_new_full(dns_name_hash, dns_name_equal, g_free, g_free);
	store->identity = g_hash_table_new(dns_rr_identity_hash, dns_rr_identity_equal);
	store->cache = dns_cache_table_new();
	store->cache_ring = g_ptr_array_new();
	store->serial = 1;
	store->sentinel = ldns_dname_new_frm_str(DNS_RELATIVE_SENTINEL);
	return store;
}

void
dns_store_free(DnsStore *store)
{
	if (!store)
		return;
	g_ptr_array_free(store->cache_ring, TRUE);
	g_hash_table_destroy(store->cache);
	g_hash_table_destroy(store->identity);
	g_hash_table_destroy(store->nodes);
	g_hash_table_destroy(store->ancestors);
	ldns_rdf_deep_free(store->sentinel);
	g_free(store);
}

guint
dns_store_count(DnsStore *store)
{
	return store->count;
}

guint
dns_store_name_count(DnsStore *store)
{
	return g_hash_table_size(store->nodes);
}

guint
dns_store_cache_size(DnsStore *store)
{
	return g_hash_table_size(store->cache);
}

/** dns_store_changed: the data changed: new SOA serial, no stale cached answers. */
static void
dns_store_changed(DnsStore *store)
{
	store->serial++;
	dns_cache_clear(store);
}

DnsNode *
dns_store_lookup(DnsStore *store, const guint8 *name)
{
	return g_hash_table_lookup(store->nodes, name);
}

gboolean
dns_store_is_ancestor(DnsStore *store, const guint8 *name)
{
	return g_hash_table_contains(store->ancestors, name);
}

/* Adds @delta to the descendant count of every proper ancestor of @name
 * (root included), creating or dropping entries as counts reach 0. */
static void
dns_store_adjust_ancestors(DnsStore *store, const guint8 *name, int delta)
{
	const guint8 *wire = name + 1;
	guint len = name[0];
	guint8 key[DNS_NAME_BUF];
	for (guint p = 0; wire[p] != 0;) {
		p += wire[p] + 1u;
		key[0] = (guint8)(len - p);
		memcpy(key + 1, wire + p, len - p);
		gint *count = g_hash_table_lookup(store->ancestors, key);
		if (count) {
			*count += delta;
			if (*count <= 0)
				g_hash_table_remove(store->ancestors, key);
		} else if (delta > 0) {
			count = g_new(gint, 1);
			*count = delta;
			g_hash_table_insert(store->ancestors, dns_name_dup(key), count);
		}
	}
}

/* Meta types and pseudo-records a zone cannot hold. */
static gboolean
dns_type_is_storable(ldns_rr_type type)
{
	switch ((int)type) {
	case 0:
	case LDNS_RR_TYPE_OPT:
	case LDNS_RR_TYPE_TKEY:
	case LDNS_RR_TYPE_TSIG:
	case LDNS_RR_TYPE_IXFR:
	case LDNS_RR_TYPE_AXFR:
	case LDNS_RR_TYPE_MAILB:
	case LDNS_RR_TYPE_MAILA:
	case LDNS_RR_TYPE_ANY:
		return FALSE;
	default:
		return TRUE;
	}
}

/* Types that may share a name with a CNAME (RFC 2181 10.1, RFC 4035 2.5). */
static gboolean
dns_type_coexists_with_cname(ldns_rr_type type)
{
	return type == LDNS_RR_TYPE_CNAME || type == LDNS_RR_TYPE_RRSIG ||
	       type == LDNS_RR_TYPE_NSEC;
}

static gboolean
dns_rdf_is_relative(DnsStore *store, const ldns_rdf *rdf)
{
	return ldns_dname_compare(rdf, store->sentinel) == 0 ||
	       ldns_dname_is_subdomain(rdf, store->sentinel);
}

static char *
dns_type_name(ldns_rr_type type)
{
	char *s = ldns_rr_type2str(type);
	char *g = g_strdup(s ? s : "?");
	free(s);
	return g;
}

/**
 * dns_store_parse: (transfer full) (nullable) parses one record's text and
 * checks it against the element's rules (fully qualified names, class IN,
 * a type a zone can hold).
 */
static ldns_rr *
dns_store_parse(DnsStore *store, const char *text, GError **error)
{
	const char *p = text;
	while (g_ascii_isspace(*p))
		p++;
	if (*p == '\0' || *p == ';') {
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid record: the text is empty");
		return NULL;
	}
	if (*p == '$') {
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid record: zone-file directives ($ORIGIN, $TTL, ...) are not "
		            "accepted; give one record with fully qualified names");
		return NULL;
	}
	ldns_rr *rr = NULL;
	ldns_status st = ldns_rr_new_frm_str(&rr, p, DNS_DEFAULT_TTL, store->sentinel, NULL);
	if (st != LDNS_STATUS_OK) {
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID, "invalid record: %s",
		            ldns_get_errorstr_by_id(st));
		return NULL;
	}
	gboolean relative = dns_rdf_is_relative(store, ldns_rr_owner(rr));
	for (size_t i = 0; !relative && i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME)
			relative = dns_rdf_is_relative(store, rdf);
	}
	if (relative) {
		ldns_rr_free(rr);
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid record: relative name (every name must be fully qualified, "
		            "ending with a dot, e.g. \"www.example.com.\")");
		return NULL;
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		char *cls = ldns_rr_class2str(ldns_rr_get_class(rr));
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid record: class %s is not served (only IN)", cls ? cls : "?");
		free(cls);
		ldns_rr_free(rr);
		return NULL;
	}
	if (!dns_type_is_storable(ldns_rr_get_type(rr))) {
		char *type = dns_type_name(ldns_rr_get_type(rr));
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid record: type %s is a meta-type and cannot be stored", type);
		g_free(type);
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

/* Checks that adding @rr to @node keeps CNAMEs alone at their names. */
static gboolean
dns_store_check_cname(DnsNode *node, const ldns_rr *rr, GError **error)
{
	if (!node)
		return TRUE;
	ldns_rr_type type = ldns_rr_get_type(rr);
	for (guint i = 0; i < node->rrs->len; i++) {
		ldns_rr_type htype = ldns_rr_get_type(g_ptr_array_index(node->rrs, i));
		const char *why = NULL;
		if (type == LDNS_RR_TYPE_CNAME && htype == LDNS_RR_TYPE_CNAME)
			why = "already has a CNAME (a name has at most one)";
		else if (type == LDNS_RR_TYPE_CNAME && !dns_type_coexists_with_cname(htype))
			why = "has other records; a CNAME must be alone at its name";
		else if (htype == LDNS_RR_TYPE_CNAME && !dns_type_coexists_with_cname(type))
			why = "is a CNAME; other records cannot share its name";
		if (why) {
			char *text = dns_node_text(node);
			g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
			            "invalid record: %s %s", text, why);
			g_free(text);
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * dns_store_insert: stores @rr (transfer full). If an identical record is
 * there, its TTL takes @rr's and *old_ttl says what it was. *stored is the
 * record as held by the store. Does not touch the cache or serial.
 */
static gboolean
dns_store_insert(DnsStore *store, ldns_rr *rr, ldns_rr **stored, gboolean *added, guint32 *old_ttl,
                 GError **error)
{
	ldns_rr *same = g_hash_table_lookup(store->identity, rr);
	if (same) {
		*old_ttl = ldns_rr_ttl(same);
		ldns_rr_set_ttl(same, ldns_rr_ttl(rr));
		ldns_rr_free(rr);
		*stored = same;
		*added = FALSE;
		return TRUE;
	}
	guint8 key[DNS_NAME_BUF];
	dns_name_from_rdf(ldns_rr_owner(rr), key);
	DnsNode *node = dns_store_lookup(store, key);
	if (!dns_store_check_cname(node, rr, error)) {
		ldns_rr_free(rr);
		return FALSE;
	}
	if (!node) {
		node = g_malloc(sizeof *node + (gsize)key[0] + 1);
		memcpy(node->name, key, (gsize)key[0] + 1);
		node->rrs = g_ptr_array_new();
		g_hash_table_insert(store->nodes, node->name, node);
		dns_store_adjust_ancestors(store, node->name, +1);
	}
	g_ptr_array_add(node->rrs, rr);
	g_hash_table_add(store->identity, rr);
	store->count++;
	*stored = rr;
	*added = TRUE;
	return TRUE;
}

/* Removes the record at @index of @node; drops the node when empty. */
static void
dns_store_remove_at(DnsStore *store, DnsNode *node, guint index)
{
	ldns_rr *rr = g_ptr_array_index(node->rrs, index);
	g_hash_table_remove(store->identity, rr);
	g_ptr_array_remove_index(node->rrs, index);
	ldns_rr_free(rr);
	store->count--;
	if (node->rrs->len == 0) {
		dns_store_adjust_ancestors(store, node->name, -1);
		g_hash_table_remove(store->nodes, node->name);
	}
}

gboolean
dns_store_add(DnsStore *store, const char *text, gboolean *added, GError **error)
{
	g_return_val_if_fail(store != NULL && text != NULL, FALSE);
	ldns_rr *rr = dns_store_parse(store, text, error);
	if (!rr)
		return FALSE;
	ldns_rr *stored = NULL;
	gboolean is_new = FALSE;
	guint32 old_ttl = 0;
	if (!dns_store_insert(store, rr, &stored, &is_new, &old_ttl, error))
		return FALSE;
	if (is_new || old_ttl != ldns_rr_ttl(stored))
		dns_store_changed(store);
	if (added)
		*added = is_new;
	return TRUE;
}

/* One step of a load, so that a failed load can be undone. */
typedef struct {
	ldns_rr *rr;
	gboolean added;
	guint32 old_ttl;
} DnsLoadStep;

/* Undoes the steps of a failed load, newest first. */
static void
dns_store_undo(DnsStore *store, GArray *steps)
{
	for (guint i = steps->len; i-- > 0;) {
		DnsLoadStep *s = &g_array_index(steps, DnsLoadStep, i);
		if (!s->added) {
			ldns_rr_set_ttl(s->rr, s->old_ttl);
			continue;
		}
		guint8 key[DNS_NAME_BUF];
		dns_name_from_rdf(ldns_rr_owner(s->rr), key);
		DnsNode *node = dns_store_lookup(store, key);
		g_assert(node != NULL);
		for (guint j = node->rrs->len; j-- > 0;) {
			if (g_ptr_array_index(node->rrs, j) == s->rr) {
				dns_store_remove_at(store, node, j);
				break;
			}
		}
	}
}

gboolean
dns_store_load(DnsStore *store, const char *text, guint *n_added, GError **error)
{
	g_return_val_if_fail(store != NULL && text != NULL, FALSE);
	GArray *steps = g_array_new(FALSE, FALSE, sizeof(DnsLoadStep));
	guint line_no = 0, added = 0;
	gboolean ok = TRUE, changed = FALSE;
	const char *p = text;
	while (*p) {
		const char *end = strchr(p, '\n');
		gsize n = end ? (gsize)(end - p) : strlen(p);
		line_no++;
		char *line = g_strndup(p, n);
		p += n + (end ? 1 : 0);
		g_strstrip(line);
		if (line[0] == '\0' || line[0] == ';') {
			g_free(line);
			continue;
		}
		GError *local = NULL;
		ldns_rr *rr = dns_store_parse(store, line, &local);
		g_free(line);
		DnsLoadStep step = {0};
		if (!rr ||
		    !dns_store_insert(store, rr, &step.rr, &step.added, &step.old_ttl, &local)) {
			g_propagate_prefixed_error(error, local, "line %u: ", line_no);
			ok = FALSE;
			break;
		}
		g_array_append_val(steps, step);
		if (step.added)
			added++;
		if (step.added || step.old_ttl != ldns_rr_ttl(step.rr))
			changed = TRUE;
	}
	if (!ok)
		dns_store_undo(store, steps);
	else if (changed)
		dns_store_changed(store);
	g_array_free(steps, TRUE);
	if (ok && n_added)
		*n_added = added;
	return ok;
}

gboolean
dns_store_remove(DnsStore *store, const char *name, const char *type, guint *n_removed,
                 GError **error)
{
	g_return_val_if_fail(store != NULL && name != NULL, FALSE);
	/* Unset takes a name alone, so there is no origin to be relative to:
	 * "miek.nl" and "miek.nl." mean the same. */
	char *fq = g_str_has_suffix(name, ".") ? g_strdup(name) : g_strconcat(name, ".", NULL);
	ldns_rdf *rdf = NULL;
	ldns_status st = name[0] ? ldns_str2rdf_dname(&rdf, fq) : LDNS_STATUS_DOMAINNAME_UNDERFLOW;
	g_free(fq);
	if (st != LDNS_STATUS_OK) {
		/* Escaped, so that the message stays one printable line. */
		char *shown = g_strescape(name, NULL);
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid name \"%s\": %s", shown, ldns_get_errorstr_by_id(st));
		g_free(shown);
		return FALSE;
	}
	guint8 key[DNS_NAME_BUF];
	dns_name_from_rdf(rdf, key);
	ldns_rr_type rtype = 0;
	if (type) {
		rtype = ldns_get_rr_type_by_name(type);
		if (rtype == 0) {
			char *shown = g_strescape(type, NULL);
			g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
			            "unknown record type \"%s\"", shown);
			g_free(shown);
			ldns_rdf_deep_free(rdf);
			return FALSE;
		}
	}
	DnsNode *node = dns_store_lookup(store, key);
	guint removed = 0;
	if (node) {
		for (guint i = node->rrs->len; i-- > 0;) {
			const ldns_rr *rr = g_ptr_array_index(node->rrs, i);
			if (type && ldns_rr_get_type(rr) != rtype)
				continue;
			/* Removing the last record frees the node. */
			gboolean last = node->rrs->len == 1;
			dns_store_remove_at(store, node, i);
			removed++;
			if (last)
				break;
		}
	}
	if (removed == 0) {
		/* ldns's presentation form: escaped, one line. */
		char *shown = ldns_rdf2str(rdf);
		if (type) {
			char *tname = dns_type_name(rtype);
			g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_NOT_FOUND,
			            "no %s record named %s", tname, shown);
			g_free(tname);
		} else {
			g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_NOT_FOUND,
			            "no record named %s", shown);
		}
		free(shown);
		ldns_rdf_deep_free(rdf);
		return FALSE;
	}
	ldns_rdf_deep_free(rdf);
	dns_store_changed(store);
	if (n_removed)
		*n_removed = removed;
	return TRUE;
}

/* A node with its name's text, for peek's sorted listing. */
typedef struct {
	char *text;
	const DnsNode *node;
} DnsNamed;

static gint
dns_named_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(((const DnsNamed *)a)->text, ((const DnsNamed *)b)->text);
}

char *
dns_rr_text(const ldns_rr *rr)
{
	char *s = ldns_rr2str(rr);
	if (!s)
		return g_strdup("");
	char *g = g_strdup(s);
	free(s);
	return g_strchomp(g);
}

JsonNode *
dns_store_records_json(DnsStore *store, gsize budget, guint *omitted)
{
	GArray *nodes =
	        g_array_sized_new(FALSE, FALSE, sizeof(DnsNamed), g_hash_table_size(store->nodes));
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, store->nodes);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		DnsNamed named = {dns_node_text(value), value};
		g_array_append_val(nodes, named);
	}
	g_array_sort(nodes, dns_named_cmp);
	JsonObject *obj = json_object_new();
	gsize used = 2;
	guint left_out = 0;
	for (guint i = 0; i < nodes->len; i++) {
		const DnsNamed *named = &g_array_index(nodes, DnsNamed, i);
		const DnsNode *node = named->node;
		if (budget && used > budget) {
			left_out += node->rrs->len;
			continue;
		}
		JsonArray *arr = json_array_sized_new(node->rrs->len);
		/* Quotes, colon, commas, brackets and indentation. */
		used += strlen(named->text) + 16;
		for (guint j = 0; j < node->rrs->len; j++) {
			char *line = dns_rr_text(g_ptr_array_index(node->rrs, j));
			/* Tabs and quotes are escaped in JSON: count them twice. */
			used += strlen(line) * 5 / 4 + 16;
			json_array_add_string_element(arr, line);
			g_free(line);
		}
		json_object_set_array_member(obj, named->text, arr);
	}
	for (guint i = 0; i < nodes->len; i++)
		g_free(g_array_index(nodes, DnsNamed, i).text);
	g_array_free(nodes, TRUE);
	if (omitted)
		*omitted = left_out;
	JsonNode *root = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(root, obj);
	return root;
}
