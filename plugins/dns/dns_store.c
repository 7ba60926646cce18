// SPDX-License-Identifier: Apache-2.0
//
// dns_store.c - records of one dns element: parsing (ldns), storage,
// indexes and removal. The query path is in dns_query.c.
//
// Layout: every owner name is a DnsNode, one allocation holding the
// name's key (lowercased wire form) and its records packed in wire form
// (no ldns objects are kept: a record is parsed with ldns, encoded, and
// decoded again only for answers that miss the cache, peek and errors).
// The nodes are a set hashed by their name key, so a lookup is O(1)
// whatever the number of records. A second table counts, for every proper
// ancestor of a stored name, how many stored names lie below it: that is
// how an empty non-terminal ("example." when only "www.example." has
// records) answers NODATA instead of NXDOMAIN. An identical record is
// found by comparing with the few records of its own name.
//
// All of it is one DnsData, which a load builds aside in steps and swaps
// in whole (see dns_store_load_start()).
#include "dns_store_private.h"

#include <string.h>

/* Names are parsed with this origin so that a relative name, which ldns
 * would otherwise silently complete with the root, becomes recognisable
 * and can be refused. */
#define DNS_RELATIVE_SENTINEL "circuit--relative--name.invalid."

/* Record text of this many characters or more is refused: ldns would cut
 * its data's text short (see dns_store_parse()). */
#define DNS_TEXT_MAX (LDNS_MAX_PACKETLEN - 1)

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

gboolean
dns_name_from_wire(const guint8 *wire, gsize max, guint8 out[DNS_NAME_BUF])
{
	gsize p = 0;
	for (;;) {
		if (p >= max || (wire[p] & 0xC0) || p + 1 + wire[p] > max || p + 1 + wire[p] > 255)
			return FALSE;
		guint label = wire[p];
		out[1 + p] = (guint8)label;
		for (guint i = 1; i <= label; i++)
			out[1 + p + i] = (guint8)g_ascii_tolower(wire[p + i]);
		p += 1 + label;
		if (label == 0)
			break;
	}
	out[0] = (guint8)p;
	return TRUE;
}

static guint8 *
dns_name_dup(const guint8 *name)
{
	return g_memdup2(name, (gsize)name[0] + 1);
}

/* The parts of a node (see DnsNode). */
static gsize
dns_node_name_size(const DnsNode *node)
{
	return (gsize)node[0] + 1;
}

static guint32
dns_node_rec_bytes(const DnsNode *node)
{
	return ldns_read_uint32(node + dns_node_name_size(node));
}

static const guint8 *
dns_node_recs(const DnsNode *node)
{
	return node + dns_node_name_size(node) + 4;
}

static gsize
dns_node_size(const DnsNode *node)
{
	return dns_node_name_size(node) + 4 + dns_node_rec_bytes(node);
}

gboolean
dns_node_next(const DnsNode *node, gsize *offset, DnsRec *rec)
{
	if (!node || *offset >= dns_node_rec_bytes(node))
		return FALSE;
	const guint8 *p = dns_node_recs(node) + *offset;
	rec->at = p;
	rec->type = (guint16)((p[0] << 8) | p[1]);
	rec->ttl = ldns_read_uint32(p + 2);
	guint8 olen = p[6];
	rec->owner = olen ? p + 7 : NULL;
	rec->owner_len = olen ? olen : node[0];
	rec->rdlen_at = p + 7 + olen;
	rec->rdlen = (guint16)((rec->rdlen_at[0] << 8) | rec->rdlen_at[1]);
	rec->rdata = rec->rdlen_at + 2;
	rec->size = 7u + olen + 2u + rec->rdlen;
	*offset += rec->size;
	return TRUE;
}

gboolean
dns_node_find(const DnsNode *node, guint16 type, DnsRec *rec)
{
	gsize off = 0;
	while (dns_node_next(node, &off, rec))
		if (rec->type == type)
			return TRUE;
	return FALSE;
}

/* How many records @node holds. */
static guint
dns_node_count(const DnsNode *node)
{
	guint n = 0;
	gsize off = 0;
	DnsRec rec;
	while (dns_node_next(node, &off, &rec))
		n++;
	return n;
}

ldns_rr *
dns_rec_rr(const DnsNode *node, const DnsRec *rec, const guint8 *owner)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rr_set_type(rr, rec->type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, rec->ttl);
	if (owner)
		ldns_rr_set_owner(rr, ldns_dname_new_frm_data(owner[0], owner + 1));
	else if (rec->owner)
		ldns_rr_set_owner(rr, ldns_dname_new_frm_data(rec->owner_len, rec->owner));
	else
		ldns_rr_set_owner(rr, ldns_dname_new_frm_data(node[0], node + 1));
	size_t pos = 0;
	if (ldns_wire2rdf(rr, rec->rdlen_at, 2u + rec->rdlen, &pos) != LDNS_STATUS_OK) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

/** dns_node_text: (transfer full) the node's name in presentation form. */
static char *
dns_node_text(const DnsNode *node)
{
	ldns_rdf *rdf = ldns_dname_new_frm_data(node[0], node + 1);
	char *s = ldns_rdf2str(rdf);
	char *g = g_strdup(s ? s : "?");
	free(s);
	ldns_rdf_deep_free(rdf);
	return g;
}

/* TRUE if two records are the same record (RFC 4034 6.2 canonical form,
 * the TTL left out): the cheap fields first, then the data in canonical
 * form (names lowercased where RFC 4034 says so), as ldns makes it. */
static gboolean
dns_rr_identity_equal(const ldns_rr *x, const ldns_rr *y)
{
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

/* ------------------------------------------------------------------------ */
/* The data: nodes and indexes                                               */

static DnsData *
dns_data_new(void)
{
	DnsData *data = g_new0(DnsData, 1);
	/* A set: each node is its own key (see DnsNode), freed by hand. */
	data->nodes = g_hash_table_new(dns_name_hash, dns_name_equal);
	data->ancestors = g_hash_table_new_full(dns_name_hash, dns_name_equal, g_free, g_free);
	return data;
}

static void
dns_data_free(DnsData *data)
{
	if (!data)
		return;
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, data->nodes);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_free(key);
	g_hash_table_destroy(data->nodes);
	g_hash_table_destroy(data->ancestors);
	g_free(data);
}

/* Adds @delta to the descendant count of every proper ancestor of @name
 * (root included), creating or dropping entries as counts reach 0. */
static void
dns_data_adjust_ancestors(DnsData *data, const guint8 *name, int delta)
{
	const guint8 *wire = name + 1;
	guint len = name[0];
	guint8 key[DNS_NAME_BUF];
	for (guint p = 0; wire[p] != 0;) {
		p += wire[p] + 1u;
		key[0] = (guint8)(len - p);
		memcpy(key + 1, wire + p, len - p);
		gint *count = g_hash_table_lookup(data->ancestors, key);
		if (count) {
			*count += delta;
			if (*count <= 0)
				g_hash_table_remove(data->ancestors, key);
		} else if (delta > 0) {
			count = g_new(gint, 1);
			*count = delta;
			g_hash_table_insert(data->ancestors, dns_name_dup(key), count);
		}
	}
}

/* What the query path's shortcuts need to know of a node: whether it may
 * be a zone cut (NS without SOA) or holds a DNAME. */
static void
dns_data_count_node(DnsData *data, const DnsNode *node, int delta)
{
	if (!node)
		return;
	DnsRec rec;
	if (dns_node_find(node, LDNS_RR_TYPE_NS, &rec) &&
	    !dns_node_find(node, LDNS_RR_TYPE_SOA, &rec))
		data->n_cuts += delta;
	if (dns_node_find(node, LDNS_RR_TYPE_DNAME, &rec))
		data->n_dnames += delta;
}

/*
 * Puts @node (transfer full; NULL: none) where @old (transfer full;
 * nullable) was, keeping the indexes and counts right. Either may be NULL:
 * a new name, or a name whose last record went.
 */
static void
dns_data_replace(DnsData *data, DnsNode *old, DnsNode *node)
{
	dns_data_count_node(data, old, -1);
	dns_data_count_node(data, node, +1);
	if (old)
		data->count -= dns_node_count(old);
	if (node)
		data->count += dns_node_count(node);
	if (node) {
		/* Replaces the stored key (the old node) when there is one. */
		g_hash_table_add(data->nodes, node);
		if (!old)
			dns_data_adjust_ancestors(data, node, +1);
	} else if (old) {
		g_hash_table_remove(data->nodes, old);
		dns_data_adjust_ancestors(data, old, -1);
	}
	g_free(old);
}

/* (transfer full) A node named @name holding @recs (@rec_bytes bytes),
 * then @extra (@extra_bytes) after them. */
static DnsNode *
dns_node_new(const guint8 *name, const guint8 *recs, gsize rec_bytes, const guint8 *extra,
             gsize extra_bytes)
{
	gsize name_size = (gsize)name[0] + 1;
	DnsNode *node = g_malloc(name_size + 4 + rec_bytes + extra_bytes);
	memcpy(node, name, name_size);
	ldns_write_uint32(node + name_size, (guint32)(rec_bytes + extra_bytes));
	if (rec_bytes)
		memcpy(node + name_size + 4, recs, rec_bytes);
	if (extra_bytes)
		memcpy(node + name_size + 4 + rec_bytes, extra, extra_bytes);
	return node;
}

const DnsNode *
dns_store_lookup(DnsStore *store, const guint8 *name)
{
	return g_hash_table_lookup(store->data->nodes, name);
}

gboolean
dns_store_is_ancestor(DnsStore *store, const guint8 *name)
{
	return g_hash_table_contains(store->data->ancestors, name);
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

/*
 * The length RFC 3597's generic form ("TYPE \# N HEX") declares in @text,
 * or -1 if the record's data is not in that form: the first "\#" token,
 * right after the token of @type.
 */
static gint
dns_generic_length(const char *text, ldns_rr_type type)
{
	if (!strstr(text, "\\#"))
		return -1;
	char **tokens = g_strsplit_set(text, " \t\r\n", -1);
	char *name = dns_type_name(type);
	char numbered[16];
	g_snprintf(numbered, sizeof numbered, "TYPE%u", (guint)type);
	gint declared = -1;
	const char *prev = NULL;
	for (guint i = 0; tokens[i]; i++) {
		if (!tokens[i][0])
			continue;
		if (strcmp(tokens[i], "\\#") == 0) {
			if (prev && (g_ascii_strcasecmp(prev, name) == 0 ||
			             g_ascii_strcasecmp(prev, numbered) == 0)) {
				for (guint j = i + 1; tokens[j] && declared < 0; j++)
					if (tokens[j][0])
						declared =
						        (gint)g_ascii_strtoll(tokens[j], NULL, 10);
			}
			break;
		}
		prev = tokens[i];
	}
	g_free(name);
	g_strfreev(tokens);
	return declared;
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
	/* ldns reads the data's text into a buffer of LDNS_MAX_PACKETLEN and
	 * silently cuts what does not fit (a TXT loses its last strings):
	 * text that long is refused whole, owner and type counted too. */
	gsize len = strlen(p);
	while (len > 0 && g_ascii_isspace(p[len - 1]))
		len--;
	if (len >= DNS_TEXT_MAX) {
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid record: the text is too long (%" G_GSIZE_FORMAT
		            " characters; at most %u)",
		            len, DNS_TEXT_MAX - 1);
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
	/* ldns drops what the generic form gives beyond a fixed-size type's
	 * data ("A \# 8 ..." keeps 4 bytes): such text is refused. */
	gint declared = dns_generic_length(p, ldns_rr_get_type(rr));
	if (declared >= 0) {
		ldns_buffer *buf = ldns_buffer_new(64);
		gsize have = ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK
		                     ? ldns_buffer_position(buf)
		                     : 0;
		ldns_buffer_free(buf);
		if ((gsize)declared != have) {
			char *type = dns_type_name(ldns_rr_get_type(rr));
			g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
			            "invalid record: \\# %d gives %d bytes, but the %s data read "
			            "from them is %" G_GSIZE_FORMAT " bytes",
			            declared, declared, type, have);
			g_free(type);
			ldns_rr_free(rr);
			return NULL;
		}
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

/* Checks that adding a record of @type to @node keeps CNAMEs alone at
 * their names. */
static gboolean
dns_store_check_cname(const DnsNode *node, ldns_rr_type type, GError **error)
{
	gsize off = 0;
	DnsRec rec;
	while (dns_node_next(node, &off, &rec)) {
		ldns_rr_type htype = rec.type;
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

/* Encodes @rr (its owner's key is @key) as a node's record (see DnsNode)
 * into @out. FALSE if ldns cannot write its data. */
static gboolean
dns_rec_encode(const ldns_rr *rr, const guint8 *key, GByteArray *out, GError **error)
{
	ldns_buffer *buf = ldns_buffer_new(64);
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK ||
	    ldns_buffer_position(buf) > 65535) {
		ldns_buffer_free(buf);
		g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID,
		            "invalid record: its data cannot be encoded");
		return FALSE;
	}
	const ldns_rdf *owner = ldns_rr_owner(rr);
	gsize olen = ldns_rdf_size(owner);
	/* The owner's spelling is kept only when it is not the key's. */
	gboolean same = olen == key[0] && memcmp(ldns_rdf_data(owner), key + 1, olen) == 0;
	guint8 head[7];
	guint16 type = (guint16)ldns_rr_get_type(rr);
	head[0] = (guint8)(type >> 8);
	head[1] = (guint8)type;
	ldns_write_uint32(head + 2, ldns_rr_ttl(rr));
	head[6] = same ? 0 : (guint8)olen;
	g_byte_array_set_size(out, 0);
	g_byte_array_append(out, head, sizeof head);
	if (!same)
		g_byte_array_append(out, ldns_rdf_data(owner), (guint)olen);
	gsize rdlen = ldns_buffer_position(buf);
	guint8 len[2] = {(guint8)(rdlen >> 8), (guint8)rdlen};
	g_byte_array_append(out, len, 2);
	g_byte_array_append(out, ldns_buffer_begin(buf), (guint)rdlen);
	ldns_buffer_free(buf);
	return TRUE;
}

/* TRUE if @a and @b (@n bytes each) are equal but for ASCII letter case. */
static gboolean
dns_bytes_equal_nocase(const guint8 *a, const guint8 *b, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if (a[i] != b[i] && g_ascii_tolower(a[i]) != g_ascii_tolower(b[i]))
			return FALSE;
	return TRUE;
}

/*
 * dns_data_insert: stores @rr (transfer none) in @data. If an identical
 * record is there, its TTL takes @rr's and *old_ttl says what it was.
 * @scratch is a buffer to encode into. Does not touch the cache or serial.
 * *@held (if not NULL) is the bytes of records the name held before: the
 * work the insert did is in proportion to it (they are scanned and copied).
 */
static gboolean
dns_data_insert(DnsData *data, const ldns_rr *rr, GByteArray *scratch, gboolean *added,
                guint32 *old_ttl, gsize *held, GError **error)
{
	guint8 key[DNS_NAME_BUF];
	dns_name_from_rdf(ldns_rr_owner(rr), key);
	if (!dns_rec_encode(rr, key, scratch, error))
		return FALSE;
	DnsNode *node = g_hash_table_lookup(data->nodes, key);
	if (held)
		*held = node ? dns_node_rec_bytes(node) : 0;
	guint16 type = (guint16)ldns_rr_get_type(rr);
	/* The RDATA length field of what was just encoded. */
	gsize olen = scratch->data[6];
	guint16 rdlen = (guint16)((scratch->data[7 + olen] << 8) | scratch->data[8 + olen]);
	gsize off = 0;
	DnsRec rec;
	while (dns_node_next(node, &off, &rec)) {
		if (rec.type != type || rec.rdlen != rdlen)
			continue;
		/* Canonical forms differ at most in the letter case of names,
		 * so unequal bytes but for case mean different records, and
		 * equal bytes the same one: ldns decides only the rest. */
		const guint8 *mine = scratch->data + 9 + olen;
		if (!dns_bytes_equal_nocase(rec.rdata, mine, rdlen))
			continue;
		if (memcmp(rec.rdata, mine, rdlen) != 0) {
			ldns_rr *held = dns_rec_rr(node, &rec, NULL);
			gboolean same = held && dns_rr_identity_equal(held, rr);
			ldns_rr_free(held);
			if (!same)
				continue;
		}
		*old_ttl = rec.ttl;
		/* In place: the TTL is not part of any index. */
		ldns_write_uint32((guint8 *)rec.at + 2, ldns_rr_ttl(rr));
		*added = FALSE;
		return TRUE;
	}
	if (node && !dns_store_check_cname(node, type, error))
		return FALSE;
	DnsNode *grown = node ? dns_node_new(node, dns_node_recs(node), dns_node_rec_bytes(node),
	                                     scratch->data, scratch->len)
	                      : dns_node_new(key, NULL, 0, scratch->data, scratch->len);
	dns_data_replace(data, node, grown);
	*added = TRUE;
	return TRUE;
}

DnsStore *
dns_store_new(void)
{
	DnsStore *store = g_new0(DnsStore, 1);
	store->data = dns_data_new();
	store->cache = dns_cache_table_new();
	store->cache_ring = g_ptr_array_new();
	store->serial = 1;
	store->sentinel = ldns_dname_new_frm_str(DNS_RELATIVE_SENTINEL);
	return store;
}

void
dns_store_retire(DnsStore *store, DnsRetired *r)
{
	g_queue_push_tail(&store->retired, r);
	/* Progress even with nobody calling dns_store_reclaim() (the tests). */
	dns_store_reclaim(store, DNS_STORE_RECLAIM_STEP);
}

void
dns_store_retire_data(DnsStore *store, DnsData *data)
{
	if (!data)
		return;
	DnsRetired *r = g_new0(DnsRetired, 1);
	r->data = data;
	g_hash_table_iter_init(&r->iter, data->nodes);
	dns_store_retire(store, r);
}

/* Frees up to *budget parts of @r; TRUE when all of it is freed. */
static gboolean
dns_retired_free_some(DnsRetired *r, guint *budget)
{
	gpointer key;
	while (r->data && *budget > 0) {
		if (!r->nodes_freed) {
			if (!g_hash_table_iter_next(&r->iter, &key, NULL)) {
				/* Every node is freed; then the ancestors'
				 * index, an entry at a time too. */
				r->nodes_freed = TRUE;
				g_hash_table_iter_init(&r->iter, r->data->ancestors);
				continue;
			}
			g_free(key);
		} else {
			if (!g_hash_table_iter_next(&r->iter, NULL, NULL)) {
				/* The nodes' table has no destroy function. */
				g_hash_table_destroy(r->data->nodes);
				g_hash_table_destroy(r->data->ancestors);
				g_free(r->data);
				r->data = NULL;
				break;
			}
			g_hash_table_iter_remove(&r->iter);
		}
		(*budget)--;
	}
	while (r->cache && *budget > 0) {
		if (r->ring->len == 0) {
			/* Every entry is freed: take them out unfreed. */
			g_hash_table_steal_all(r->cache);
			g_hash_table_destroy(r->cache);
			g_ptr_array_free(r->ring, TRUE);
			r->cache = NULL;
			break;
		}
		g_free(g_ptr_array_steal_index(r->ring, r->ring->len - 1));
		(*budget)--;
	}
	return !r->data && !r->cache;
}

gboolean
dns_store_reclaim(DnsStore *store, guint budget)
{
	DnsRetired *r;
	while (budget > 0 && (r = g_queue_peek_head(&store->retired))) {
		if (!dns_retired_free_some(r, &budget))
			break;
		g_free(g_queue_pop_head(&store->retired));
	}
	return !g_queue_is_empty(&store->retired);
}

void
dns_store_free(DnsStore *store)
{
	if (!store)
		return;
	dns_store_load_cancel(store->load);
	while (dns_store_reclaim(store, G_MAXUINT))
		;
	g_ptr_array_free(store->cache_ring, TRUE);
	g_hash_table_destroy(store->cache);
	dns_data_free(store->data);
	ldns_rdf_deep_free(store->sentinel);
	g_free(store);
}

guint
dns_store_count(DnsStore *store)
{
	return store->data->count;
}

guint
dns_store_name_count(DnsStore *store)
{
	return g_hash_table_size(store->data->nodes);
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
	dns_cache_retire(store);
}

/* FALSE with DNS_STORE_ERROR_BUSY while a load is in progress. */
static gboolean
dns_store_check_idle(DnsStore *store, GError **error)
{
	if (!store->load)
		return TRUE;
	g_set_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_BUSY,
	            "a load is in progress; try again once it has replied");
	return FALSE;
}

gboolean
dns_store_add(DnsStore *store, const char *text, gboolean *added, GError **error)
{
	g_return_val_if_fail(store != NULL && text != NULL, FALSE);
	if (!dns_store_check_idle(store, error))
		return FALSE;
	ldns_rr *rr = dns_store_parse(store, text, error);
	if (!rr)
		return FALSE;
	gboolean is_new = FALSE;
	guint32 old_ttl = 0;
	GByteArray *scratch = g_byte_array_new();
	gboolean ok = dns_data_insert(store->data, rr, scratch, &is_new, &old_ttl, NULL, error);
	g_byte_array_free(scratch, TRUE);
	if (ok && (is_new || old_ttl != ldns_rr_ttl(rr)))
		dns_store_changed(store);
	ldns_rr_free(rr);
	if (ok && added)
		*added = is_new;
	return ok;
}

/* ------------------------------------------------------------------------ */
/* Loads: built aside in steps, swapped in at the end                        */

struct DnsStoreLoad {
	DnsStore *store;
	DnsData *data; /* (owned) the new data, until it is swapped in */
	char *text;    /* (owned) the body */
	const char *p; /* the next line */
	GHashTableIter copy;
	gpointer pending; /* (nullable) the next node to copy, already iterated */
	gboolean copying; /* still copying the current records */
	guint line_no, lines_total, added;
	gboolean changed;
	GByteArray *scratch;
};

DnsStoreLoad *
dns_store_load_start(DnsStore *store, char *text, GError **error)
{
	g_return_val_if_fail(store != NULL && text != NULL, NULL);
	if (!dns_store_check_idle(store, error)) {
		g_free(text);
		return NULL;
	}
	DnsStoreLoad *load = g_new0(DnsStoreLoad, 1);
	load->store = store;
	load->data = dns_data_new();
	load->text = text;
	load->p = text;
	for (const char *q = text; *q;) {
		load->lines_total++;
		q = strchr(q, '\n');
		if (!q)
			break;
		q++;
	}
	/* The current records are copied first (nothing changes them while
	 * the load is in progress: changes are refused). */
	load->copying = TRUE;
	g_hash_table_iter_init(&load->copy, store->data->nodes);
	load->scratch = g_byte_array_new();
	store->load = load;
	return load;
}

static void
dns_store_load_free(DnsStoreLoad *load)
{
	load->store->load = NULL;
	/* What was built (or replaced, after a swap) goes a part at a time. */
	dns_store_retire_data(load->store, load->data);
	g_free(load->text);
	g_byte_array_free(load->scratch, TRUE);
	g_free(load);
}

void
dns_store_load_cancel(DnsStoreLoad *load)
{
	if (load)
		dns_store_load_free(load);
}

gboolean
dns_store_load_progress(DnsStore *store, guint *lines_done, guint *lines_total)
{
	DnsStoreLoad *load = store->load;
	if (!load)
		return FALSE;
	if (lines_done)
		*lines_done = load->line_no;
	if (lines_total)
		*lines_total = load->lines_total;
	return TRUE;
}

/* Reads and stores the next line of @load's body; FALSE on a bad line.
 * *@work is what it cost in budget units (see dns_store_load_step). */
static gboolean
dns_store_load_line(DnsStoreLoad *load, guint *work, GError **error)
{
	*work = 1;
	const char *p = load->p;
	const char *end = strchr(p, '\n');
	gsize n = end ? (gsize)(end - p) : strlen(p);
	load->line_no++;
	load->p = p + n + (end ? 1 : 0);
	char *line = g_strndup(p, n);
	g_strstrip(line);
	if (line[0] == '\0' || line[0] == ';') {
		g_free(line);
		return TRUE;
	}
	GError *local = NULL;
	ldns_rr *rr = dns_store_parse(load->store, line, &local);
	g_free(line);
	gboolean added = FALSE;
	guint32 old_ttl = 0;
	gsize held = 0;
	if (!rr ||
	    !dns_data_insert(load->data, rr, load->scratch, &added, &old_ttl, &held, &local)) {
		ldns_rr_free(rr);
		g_propagate_prefixed_error(error, local, "line %u: ", load->line_no);
		return FALSE;
	}
	*work = 1 + (guint)MIN(held / DNS_STORE_LOAD_UNIT_BYTES, G_MAXUINT / 2);
	if (added)
		load->added++;
	if (added || old_ttl != ldns_rr_ttl(rr))
		load->changed = TRUE;
	ldns_rr_free(rr);
	return TRUE;
}

DnsStoreLoadStatus
dns_store_load_step(DnsStoreLoad *load, guint budget, guint *n_added, GError **error)
{
	g_return_val_if_fail(load != NULL, DNS_STORE_LOAD_FAILED);
	guint done = 0;
	gpointer key;
	while (load->copying && done < budget) {
		if (!load->pending && !g_hash_table_iter_next(&load->copy, &load->pending, NULL)) {
			load->copying = FALSE;
			break;
		}
		/* The budget counts the records copied, not the names (a name
		 * may hold thousands): a name that would pass it waits for the
		 * next step, unless it is the step's first. */
		key = load->pending;
		guint n = MAX(1u, dns_node_count(key));
		if (done > 0 && done + n > budget)
			break;
		load->pending = NULL;
		dns_data_replace(load->data, NULL, g_memdup2(key, dns_node_size(key)));
		done += n;
	}
	/* A record added to a name that holds many costs in proportion to
	 * them: such lines count for more, so a step stays short however the
	 * records are spread over names (one name of 30,000 records held the
	 * loop for most of a second per step when every line counted one). */
	while (!load->copying && *load->p && done < budget) {
		guint work = 1;
		if (!dns_store_load_line(load, &work, error)) {
			dns_store_load_free(load);
			return DNS_STORE_LOAD_FAILED;
		}
		done += work;
	}
	if (load->copying || *load->p)
		return DNS_STORE_LOAD_MORE;
	/* The swap: one pointer, so every later query sees the new data. */
	DnsStore *store = load->store;
	if (load->changed) {
		DnsData *old = store->data;
		store->data = load->data;
		load->data = old;
		dns_store_changed(store);
	}
	if (n_added)
		*n_added = load->added;
	dns_store_load_free(load);
	return DNS_STORE_LOAD_DONE;
}

gboolean
dns_store_load(DnsStore *store, const char *text, guint *n_added, GError **error)
{
	g_return_val_if_fail(store != NULL && text != NULL, FALSE);
	DnsStoreLoad *load = dns_store_load_start(store, g_strdup(text), error);
	if (!load)
		return FALSE;
	DnsStoreLoadStatus st;
	while ((st = dns_store_load_step(load, G_MAXUINT, n_added, error)) == DNS_STORE_LOAD_MORE)
		;
	while (dns_store_reclaim(store, G_MAXUINT))
		;
	return st == DNS_STORE_LOAD_DONE;
}

gboolean
dns_store_remove(DnsStore *store, const char *name, const char *type, guint *n_removed,
                 GError **error)
{
	g_return_val_if_fail(store != NULL && name != NULL, FALSE);
	if (!dns_store_check_idle(store, error))
		return FALSE;
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
	DnsNode *node = g_hash_table_lookup(store->data->nodes, key);
	guint removed = 0;
	if (node) {
		/* The records that stay, in their order, make the new node. */
		GByteArray *kept = g_byte_array_new();
		gsize off = 0;
		DnsRec rec;
		while (dns_node_next(node, &off, &rec)) {
			if (!type || rec.type == rtype)
				removed++;
			else
				g_byte_array_append(kept, rec.at, (guint)rec.size);
		}
		if (removed)
			dns_data_replace(
			        store->data, node,
			        kept->len ? dns_node_new(node, kept->data, kept->len, NULL, 0)
			                  : NULL);
		g_byte_array_free(kept, TRUE);
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

/* The most bytes @s takes as a JSON string: its quotes, and each byte
 * JSON may escape counted as escaped (\" \\ \t: 2 bytes; other control
 * bytes and non-ASCII ones as \u00XX: 6). */
static gsize
dns_json_string_size(const char *s)
{
	gsize n = 2;
	for (const guchar *p = (const guchar *)s; *p; p++)
		n += *p == '"' || *p == '\\' || *p == '\t' || *p == '\n' || *p == '\r' ? 2
		     : *p < 0x20 || *p >= 0x7F                                         ? 6
		                                                                       : 1;
	return n;
}

JsonNode *
dns_store_records_json(DnsStore *store, gsize budget, guint *omitted)
{
	GHashTable *table = store->data->nodes;
	GArray *nodes = g_array_sized_new(FALSE, FALSE, sizeof(DnsNamed), g_hash_table_size(table));
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, table);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		DnsNamed named = {dns_node_text(value), value};
		g_array_append_val(nodes, named);
	}
	g_array_sort(nodes, dns_named_cmp);
	JsonObject *obj = json_object_new();
	/* The braces; then per name its key, colon, brackets and comma, and
	 * per record its string and comma: the JSON's exact size at most. */
	gsize used = 2;
	guint left_out = 0;
	gboolean full = FALSE;
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < nodes->len; i++) {
		const DnsNamed *named = &g_array_index(nodes, DnsNamed, i);
		const DnsNode *node = named->node;
		guint n = dns_node_count(node);
		if (full) {
			left_out += n;
			continue;
		}
		gsize size = dns_json_string_size(named->text) + 4;
		g_ptr_array_set_size(lines, 0);
		gsize off = 0;
		DnsRec rec;
		while (dns_node_next(node, &off, &rec)) {
			ldns_rr *rr = dns_rec_rr(node, &rec, NULL);
			char *line = rr ? dns_rr_text(rr) : g_strdup("");
			ldns_rr_free(rr);
			size += dns_json_string_size(line) + 1;
			g_ptr_array_add(lines, line);
		}
		/* A name that does not fit is left out whole, and every name
		 * after it, so what is shown is a prefix of the sorted names. */
		if (budget && used + size > budget) {
			full = TRUE;
			left_out += n;
			continue;
		}
		used += size;
		JsonArray *arr = json_array_sized_new(lines->len);
		for (guint l = 0; l < lines->len; l++)
			json_array_add_string_element(arr, g_ptr_array_index(lines, l));
		json_object_set_array_member(obj, named->text, arr);
	}
	g_ptr_array_free(lines, TRUE);
	for (guint i = 0; i < nodes->len; i++)
		g_free(g_array_index(nodes, DnsNamed, i).text);
	g_array_free(nodes, TRUE);
	if (omitted)
		*omitted = left_out;
	JsonNode *root = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(root, obj);
	return root;
}
