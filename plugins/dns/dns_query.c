// SPDX-License-Identifier: Apache-2.0
//
// dns_query.c - the query path of the engine: packet in, packet out.
//
// The hot path does not build packets. A small hand-written decoder reads
// the header, the one question and the EDNS0 OPT record (the only parts a
// query needs); the answer for (lowercased name, type) is then looked up in
// a cache of encoded answers and copied out with the query's ID, RD/CD
// bits, question bytes (so the client sees its own name spelling) and OPT
// patched in. Only on a cache miss is the answer built with ldns from the
// store. Any change to the records clears the cache; when the cache is
// full, a clock (second chance) evicts one entry not used since the hand
// last passed, so the hot answers stay.
//
// ANY over UDP is answered minimally (RFC 8482 4.1): one RRset of the name
// instead of all of them, so the element cannot be used to amplify
// traffic towards a spoofed source; over TCP, where the source is proven,
// ANY returns every record. The two are cached apart.
//
// Everything that reads the packet is bounds-checked against its length;
// the fuzz target tests/fuzz/dns_query.c drives this file.
#include "dns_store_private.h"

#include <string.h>

/** DNS_HEADER: the fixed header size. */
#define DNS_HEADER 12
/** DNS_OPT_SIZE: our OPT record: root, type, class, TTL, empty RDATA. */
#define DNS_OPT_SIZE 11
/** DNS_MAX_CHAIN: CNAMEs followed for one answer (loops stop earlier). */
#define DNS_MAX_CHAIN 8
/* The cache's bounds: at either, each new answer evicts old ones (clock),
 * so queries for many distinct (say, random) names cannot make it grow
 * without limit, and never empty it at once. */
#define DNS_CACHE_MAX_ENTRIES 65536
#define DNS_CACHE_MAX_BYTES   (64u << 20)

/* The values of the synthesized SOA (see docs/dns.md). */
#define DNS_SOA_MNAME   "ns.circuit.invalid."
#define DNS_SOA_RNAME   "hostmaster.circuit.invalid."
#define DNS_SOA_TTL     60
#define DNS_SOA_REFRESH 3600
#define DNS_SOA_RETRY   600
#define DNS_SOA_EXPIRE  86400
#define DNS_SOA_MINIMUM 60

enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_YXDOMAIN = 6,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_BADVERS = 16,
};

/** DNS_TSIG_BADKEY: the TSIG error of a key the server does not know. */
#define DNS_TSIG_BADKEY 17

/** DnsQuery: what the decoder extracted. Pointers point into the packet. */
typedef struct {
	guint16 id;
	guint8 flags_hi, flags_lo; /**< header bytes 2 and 3 */
	const guint8 *question;    /**< (nullable) raw question: name, type, class */
	gsize question_len;
	guint8 qname[DNS_NAME_BUF]; /**< name key (lowercased) */
	guint16 qtype, qclass;
	gboolean edns;
	guint16 edns_size;
	guint8 edns_version;
	gboolean edns_do;
	/* A TSIG record (the last of the message): what the unsigned BADKEY
	 * error answer echoes (RFC 8945 5.3.2). */
	gboolean tsig;
	guint8 tsig_key[DNS_NAME_BUF]; /**< length byte + key name, uncompressed */
	const guint8 *tsig_alg;        /**< algorithm name in the packet */
	gsize tsig_alg_len;
	const guint8 *tsig_time; /**< time signed (6) and fudge (2) */
} DnsQuery;

typedef enum {
	DNS_PARSE_OK,
	DNS_PARSE_DROP,
	DNS_PARSE_FORMERR,
	DNS_PARSE_NOTIMP,
} DnsParse;

/** DnsCacheEntry: one encoded answer, with ID 0 and question lowercased. */
typedef struct {
	guint hash;
	guint16 qtype;
	guint8 rcode;
	gboolean aa;      /**< authoritative (FALSE for a referral) */
	gboolean minimal; /**< the one-RRset answer to ANY (over UDP) */
	gboolean used;    /**< hit since the clock's hand last passed */
	gsize len;        /**< bytes of answer */
	guint8 *answer;   /**< points into the same allocation */
	guint8 *name;     /**< name key, likewise */
} DnsCacheEntry;

static guint16
dns_get16(const guint8 *p)
{
	return (guint16)((p[0] << 8) | p[1]);
}

static void
dns_put16(guint8 *p, guint16 v)
{
	p[0] = (guint8)(v >> 8);
	p[1] = (guint8)v;
}

/* ------------------------------------------------------------------------ */
/* Decoder                                                                   */

/* Reads the question name at *pos into @key (lowercased); no compression:
 * the question is the first name of a message, so nothing can precede it. */
static gboolean
dns_parse_qname(const guint8 *pkt, gsize len, gsize *pos, guint8 key[DNS_NAME_BUF])
{
	gsize p = *pos;
	guint n = 0;
	for (;;) {
		if (p >= len)
			return FALSE;
		guint label = pkt[p++];
		if (label == 0) {
			key[1 + n++] = 0;
			break;
		}
		if (label & 0xC0)
			return FALSE;
		if (n + 1 + label + 1 > 255 || p + label > len)
			return FALSE;
		key[1 + n++] = (guint8)label;
		for (guint i = 0; i < label; i++)
			key[1 + n++] = (guint8)g_ascii_tolower(pkt[p + i]);
		p += label;
	}
	key[0] = (guint8)n;
	*pos = p;
	return TRUE;
}

/* Reads a name anywhere after the question into @out (length byte + wire
 * form, letter case kept), following compression pointers. A pointer must
 * point before the label it replaces, so that reading always ends; *pos
 * moves past the name as it appears at *pos. */
static gboolean
dns_read_name(const guint8 *pkt, gsize len, gsize *pos, guint8 out[DNS_NAME_BUF])
{
	gsize p = *pos, after = 0;
	guint n = 0;
	for (;;) {
		if (p >= len)
			return FALSE;
		guint label = pkt[p];
		if ((label & 0xC0) == 0xC0) {
			if (p + 2 > len)
				return FALSE;
			gsize target = ((label & 0x3F) << 8) | pkt[p + 1];
			if (target >= p)
				return FALSE;
			if (!after)
				after = p + 2;
			p = target;
			continue;
		}
		if (label & 0xC0)
			return FALSE;
		if (n + 1 + label > 255 || p + 1 + label > len)
			return FALSE;
		memcpy(out + 1 + n, pkt + p, 1 + label);
		n += 1 + label;
		p += 1 + label;
		if (label == 0)
			break;
	}
	out[0] = (guint8)n;
	*pos = after ? after : p;
	return TRUE;
}

/* TRUE if the EDNS options in opt[0..len) fill it exactly (RFC 6891 6.1.2:
 * code, length, data, repeated). */
static gboolean
dns_options_valid(const guint8 *opt, gsize len)
{
	gsize p = 0;
	while (p < len) {
		if (p + 4 > len)
			return FALSE;
		p += 4 + dns_get16(opt + p + 2);
	}
	return p == len;
}

/* Reads the RDATA of a TSIG record, rdata[0..len) (RFC 8945 4.2):
 * algorithm name (never compressed), time signed, fudge, MAC, original
 * ID, error, other data. FALSE if it does not fill @len exactly. */
static gboolean
dns_parse_tsig(const guint8 *rdata, gsize len, DnsQuery *q)
{
	gsize p = 0;
	for (;;) {
		if (p >= len || (rdata[p] & 0xC0) || p + 1 + rdata[p] > len)
			return FALSE;
		guint label = rdata[p];
		p += 1 + label;
		if (label == 0)
			break;
	}
	if (p > 255)
		return FALSE;
	q->tsig_alg = rdata;
	q->tsig_alg_len = p;
	if (p + 10 > len)
		return FALSE;
	q->tsig_time = rdata + p;
	p += 8;
	p += 2 + dns_get16(rdata + p); /* MAC */
	if (p + 6 > len)
		return FALSE;
	p += 4; /* original ID, error */
	p += 2 + dns_get16(rdata + p);
	return p == len;
}

static DnsParse
dns_parse(const guint8 *pkt, gsize len, DnsQuery *q)
{
	if (len < DNS_HEADER)
		return DNS_PARSE_DROP;
	q->id = dns_get16(pkt);
	q->flags_hi = pkt[2];
	q->flags_lo = pkt[3];
	q->question = NULL;
	q->edns = FALSE;
	q->tsig = FALSE;
	if (q->flags_hi & 0x80)
		return DNS_PARSE_DROP; /* a response: answering could loop */
	guint qd = dns_get16(pkt + 4), an = dns_get16(pkt + 6), ns = dns_get16(pkt + 8),
	      ar = dns_get16(pkt + 10);
	guint opcode = (q->flags_hi >> 3) & 0x0F;
	gsize pos = DNS_HEADER;
	if (qd != 1)
		return opcode == 0 ? DNS_PARSE_FORMERR : DNS_PARSE_NOTIMP;
	if (!dns_parse_qname(pkt, len, &pos, q->qname) || pos + 4 > len)
		return opcode == 0 ? DNS_PARSE_FORMERR : DNS_PARSE_NOTIMP;
	q->qtype = dns_get16(pkt + pos);
	q->qclass = dns_get16(pkt + pos + 2);
	pos += 4;
	q->question = pkt + DNS_HEADER;
	q->question_len = pos - DNS_HEADER;
	if (opcode != 0)
		return DNS_PARSE_NOTIMP;
	if (an != 0 || ns != 0)
		return DNS_PARSE_FORMERR;
	for (guint i = 0; i < ar; i++) {
		guint8 owner[DNS_NAME_BUF];
		if (!dns_read_name(pkt, len, &pos, owner) || pos + 10 > len)
			return DNS_PARSE_FORMERR;
		gboolean root = owner[0] == 1;
		guint16 type = dns_get16(pkt + pos);
		guint16 cls = dns_get16(pkt + pos + 2);
		const guint8 *ttl = pkt + pos + 4;
		guint16 rdlen = dns_get16(pkt + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return DNS_PARSE_FORMERR;
		const guint8 *rdata = pkt + pos;
		pos += rdlen;
		if (type == LDNS_RR_TYPE_TSIG) {
			/* RFC 8945 5.1: a TSIG is the last record, or FORMERR. */
			if (i + 1 != ar || !dns_parse_tsig(rdata, rdlen, q))
				return DNS_PARSE_FORMERR;
			q->tsig = TRUE;
			memcpy(q->tsig_key, owner, (gsize)owner[0] + 1);
		}
		if (type == LDNS_RR_TYPE_OPT) {
			/* RFC 6891 6.1.1: one OPT, owned by the root, with
			 * options that fill its RDATA exactly. */
			if (q->edns || !root || !dns_options_valid(rdata, rdlen))
				return DNS_PARSE_FORMERR;
			q->edns = TRUE;
			q->edns_size = cls;
			q->edns_version = ttl[1];
			q->edns_do = (ttl[2] & 0x80) != 0;
		}
	}
	if (pos != len)
		return DNS_PARSE_FORMERR;
	return DNS_PARSE_OK;
}

/* ------------------------------------------------------------------------ */
/* Writing answers                                                           */

/* Appends our OPT record at out[pos]; the caller checked room. */
static gsize
dns_put_opt(guint8 *out, gsize pos, const DnsQuery *q, guint ext_rcode)
{
	guint8 *o = out + pos;
	o[0] = 0;
	dns_put16(o + 1, LDNS_RR_TYPE_OPT);
	dns_put16(o + 3, DNS_UDP_PAYLOAD);
	o[5] = (guint8)ext_rcode;
	o[6] = 0; /* version */
	/* RFC 3225 3: the DO bit of the query is copied to the response. */
	o[7] = q->edns_do ? 0x80 : 0;
	o[8] = 0;
	dns_put16(o + 9, 0);
	return pos + DNS_OPT_SIZE;
}

/*
 * Writes a reply without records: the header, the question when there is
 * one, and an OPT when the query had one. @rcode may be extended (> 15).
 */
static gsize
dns_reply_empty(const DnsQuery *q, guint rcode, guint8 flags_hi, guint8 *out, gsize cap)
{
	gsize need =
	        DNS_HEADER + (q->question ? q->question_len : 0) + (q->edns ? DNS_OPT_SIZE : 0);
	if (need > cap)
		return 0;
	dns_put16(out, q->id);
	out[2] = flags_hi;
	out[3] = (guint8)((q->flags_lo & 0x10) | (rcode & 0x0F));
	dns_put16(out + 4, q->question ? 1 : 0);
	dns_put16(out + 6, 0);
	dns_put16(out + 8, 0);
	dns_put16(out + 10, q->edns ? 1 : 0);
	gsize pos = DNS_HEADER;
	if (q->question) {
		memcpy(out + pos, q->question, q->question_len);
		pos += q->question_len;
	}
	if (q->edns)
		pos = dns_put_opt(out, pos, q, rcode >> 4);
	return pos;
}

/*
 * The answer to a query signed with a key the element does not know (it
 * knows none): NOTAUTH, and an unsigned TSIG with error BADKEY, MAC size 0
 * and the query's key, algorithm, time and fudge (RFC 8945 5.2.2, 5.3.2).
 */
static gsize
dns_reply_badkey(const DnsQuery *q, guint8 flags_hi, guint8 *out, gsize cap)
{
	gsize pos = dns_reply_empty(q, DNS_RCODE_NOTAUTH, flags_hi, out, cap);
	gsize key_len = q->tsig_key[0];
	gsize rdlen = q->tsig_alg_len + 8 + 2 + 6;
	if (pos == 0 || pos + key_len + 10 + rdlen > cap)
		return 0;
	guint8 *o = out + pos;
	memcpy(o, q->tsig_key + 1, key_len);
	o += key_len;
	dns_put16(o, LDNS_RR_TYPE_TSIG);
	dns_put16(o + 2, LDNS_RR_CLASS_ANY);
	memset(o + 4, 0, 4); /* TTL */
	dns_put16(o + 8, (guint16)rdlen);
	o += 10;
	memcpy(o, q->tsig_alg, q->tsig_alg_len);
	o += q->tsig_alg_len;
	memcpy(o, q->tsig_time, 8);
	o += 8;
	dns_put16(o, 0); /* MAC size */
	dns_put16(o + 2, q->id);
	dns_put16(o + 4, DNS_TSIG_BADKEY);
	dns_put16(o + 6, 0); /* other len */
	dns_put16(out + 10, (guint16)(dns_get16(out + 10) + 1));
	return pos + key_len + 10 + rdlen;
}

/* Header byte 2 of an error reply: QR, the query's opcode and RD. */
static guint8
dns_error_flags(const DnsQuery *q)
{
	return (guint8)(0x80 | (q->flags_hi & 0x79));
}

/* ------------------------------------------------------------------------ */
/* Cache                                                                     */

static guint
dns_cache_hash(gconstpointer key)
{
	return ((const DnsCacheEntry *)key)->hash;
}

static gboolean
dns_cache_equal(gconstpointer a, gconstpointer b)
{
	const DnsCacheEntry *x = a, *y = b;
	return x->qtype == y->qtype && x->minimal == y->minimal && dns_name_equal(x->name, y->name);
}

static guint
dns_cache_key_hash(const guint8 *name, guint16 qtype, gboolean minimal)
{
	return (dns_name_hash(name) * 31u + qtype) * 2u + (minimal ? 1u : 0u);
}

GHashTable *
dns_cache_table_new(void)
{
	return g_hash_table_new_full(dns_cache_hash, dns_cache_equal, g_free, NULL);
}

void
dns_cache_retire(DnsStore *store)
{
	store->cache_hand = 0;
	store->cache_bytes = 0;
	if (g_hash_table_size(store->cache) == 0)
		return;
	/* Up to 65,536 answers: freed a part at a time, not at once. */
	DnsRetired *r = g_new0(DnsRetired, 1);
	r->cache = store->cache;
	r->ring = store->cache_ring;
	store->cache = dns_cache_table_new();
	store->cache_ring = g_ptr_array_new();
	dns_store_retire(store, r);
}

/* Evicts one entry: the first at or after the hand not used since the
 * hand last passed it, clearing the marks it passes (CLOCK). The last
 * entry of the ring takes the evicted one's place. */
static void
dns_cache_evict_one(DnsStore *store)
{
	GPtrArray *ring = store->cache_ring;
	if (ring->len == 0)
		return;
	for (;;) {
		if (store->cache_hand >= ring->len)
			store->cache_hand = 0;
		DnsCacheEntry *e = g_ptr_array_index(ring, store->cache_hand);
		if (!e->used) {
			g_ptr_array_remove_index_fast(ring, store->cache_hand);
			store->cache_bytes -= e->len;
			g_hash_table_remove(store->cache, e);
			return;
		}
		e->used = FALSE;
		store->cache_hand++;
	}
}

/* Adds @e (transfer full) to the cache, evicting what the bounds need. */
static void
dns_cache_add(DnsStore *store, DnsCacheEntry *e)
{
	while (store->cache_ring->len > 0 && (store->cache_ring->len >= DNS_CACHE_MAX_ENTRIES ||
	                                      store->cache_bytes + e->len > DNS_CACHE_MAX_BYTES))
		dns_cache_evict_one(store);
	e->used = FALSE;
	g_hash_table_add(store->cache, e);
	g_ptr_array_add(store->cache_ring, e);
	store->cache_bytes += e->len;
}

/* ------------------------------------------------------------------------ */
/* Building answers with ldns (cache misses)                                 */

/* The node of the closest SOA record at or above @name in the data (the
 * record in @soa), or NULL. */
static const DnsNode *
dns_find_soa(DnsStore *store, const guint8 *name, DnsRec *soa)
{
	guint8 key[DNS_NAME_BUF];
	const guint8 *wire = name + 1;
	guint len = name[0];
	for (guint p = 0;;) {
		key[0] = (guint8)(len - p);
		memcpy(key + 1, wire + p, len - p);
		const DnsNode *node = dns_store_lookup(store, key);
		if (node && dns_node_find(node, LDNS_RR_TYPE_SOA, soa))
			return node;
		if (wire[p] == 0)
			return NULL;
		p += wire[p] + 1u;
	}
}

/* The closest encloser of @name: itself if @self_ok and it exists in the
 * data (as a node or an empty non-terminal), else its longest existing
 * ancestor, else the root. Returned as a name key in @out. */
static void
dns_closest_encloser(DnsStore *store, const guint8 *name, gboolean self_ok,
                     guint8 out[DNS_NAME_BUF])
{
	const guint8 *wire = name + 1;
	guint len = name[0];
	guint p = 0;
	if (!self_ok && wire[0] != 0)
		p = wire[0] + 1u;
	for (;;) {
		out[0] = (guint8)(len - p);
		memcpy(out + 1, wire + p, len - p);
		if (wire[p] == 0 || dns_store_lookup(store, out) ||
		    dns_store_is_ancestor(store, out))
			return;
		p += wire[p] + 1u;
	}
}

/* (transfer full) The SOA of a negative answer about @name (RFC 2308 3). */
static ldns_rr *
dns_negative_soa(DnsStore *store, const guint8 *name, gboolean nodata)
{
	DnsRec rec;
	const DnsNode *at = dns_find_soa(store, name, &rec);
	ldns_rr *soa = at ? dns_rec_rr(at, &rec, NULL) : NULL;
	if (soa) {
		const ldns_rdf *minimum = ldns_rr_rdf(soa, 6);
		if (minimum && ldns_rdf_size(minimum) == 4)
			ldns_rr_set_ttl(soa, MIN(ldns_rr_ttl(soa), ldns_rdf2native_int32(minimum)));
		return soa;
	}
	guint8 owner[DNS_NAME_BUF];
	dns_closest_encloser(store, name, nodata, owner);
	char *text = g_strdup_printf(". %u IN SOA %s %s %u %u %u %u %u", DNS_SOA_TTL, DNS_SOA_MNAME,
	                             DNS_SOA_RNAME, store->serial, DNS_SOA_REFRESH, DNS_SOA_RETRY,
	                             DNS_SOA_EXPIRE, DNS_SOA_MINIMUM);
	ldns_status st = ldns_rr_new_frm_str(&soa, text, DNS_SOA_TTL, NULL, NULL);
	g_free(text);
	if (st != LDNS_STATUS_OK)
		return NULL;
	ldns_rdf_deep_free(ldns_rr_owner(soa));
	ldns_rr_set_owner(soa, ldns_dname_new_frm_data(owner[0], owner + 1));
	return soa;
}

/* The type an RRSIG record covers (the first field of its data). */
static guint16
dns_rrsig_covered(const DnsRec *rec)
{
	return rec->rdlen >= 2 ? dns_get16(rec->rdata) : 0;
}

/*
 * The one RRset a minimal ANY answer gives for @node (RFC 8482 4.1): the
 * type of its first record in the order added, RRSIGs aside (they go along
 * with the RRset they cover), so the choice is stable and the user decides
 * it. A name that holds only RRSIGs answers them.
 */
static guint16
dns_any_choice(const DnsNode *node)
{
	gsize off = 0;
	DnsRec rec;
	while (dns_node_next(node, &off, &rec))
		if (rec.type != LDNS_RR_TYPE_RRSIG)
			return rec.type;
	return LDNS_RR_TYPE_RRSIG;
}

/* TRUE if @rr answers @qtype; for a minimal ANY, if it is in the RRset
 * @chosen (or an RRSIG covering it). */
static gboolean
dns_rr_matches(const DnsRec *rec, guint16 qtype, gboolean minimal, guint16 chosen)
{
	guint16 t = rec->type;
	if (qtype != LDNS_RR_TYPE_ANY)
		return t == qtype;
	if (!minimal || t == chosen)
		return TRUE;
	return t == LDNS_RR_TYPE_RRSIG && dns_rrsig_covered(rec) == chosen;
}

/* What lies above a name: a zone cut or a DNAME that takes it over. */
typedef struct {
	const DnsNode *cut;   /**< (nullable) a delegation (NS, no SOA) at or above the name */
	const DnsNode *dname; /**< (nullable) a node with a DNAME strictly above the name */
	DnsRec dname_rec;     /**< that DNAME */
	guint suffix;         /**< where the DNAME's owner starts in the name's wire form */
} DnsAbove;

/*
 * Looks from the root down to @name for the highest zone cut or DNAME
 * (RFC 1034 4.3.2 step 3b, RFC 6672 2.2). A cut is a name with NS and
 * no SOA below an SOA the data holds: NS records under no SOA are taken
 * as the data's own (the element needs no SOA to answer), so existing
 * records keep their meaning. A question for DS at the cut itself is
 * answered from above it (RFC 4035 3.1.4.1), so that cut does not count.
 */
static void
dns_find_above(DnsStore *store, const guint8 *name, guint16 qtype, DnsAbove *above)
{
	const guint8 *wire = name + 1;
	guint len = name[0];
	guint starts[128], n = 0;
	for (guint p = 0;; p += wire[p] + 1u) {
		starts[n++] = p;
		if (wire[p] == 0)
			break;
	}
	memset(above, 0, sizeof *above);
	/* Without any cut or DNAME in the data, nothing can lie above. */
	if (store->data->n_cuts == 0 && store->data->n_dnames == 0)
		return;
	gboolean soa_above = FALSE;
	guint8 key[DNS_NAME_BUF];
	for (guint i = n; i-- > 0;) {
		guint p = starts[i];
		key[0] = (guint8)(len - p);
		memcpy(key + 1, wire + p, len - p);
		const DnsNode *node = dns_store_lookup(store, key);
		if (!node)
			continue;
		DnsRec rec;
		gboolean soa = dns_node_find(node, LDNS_RR_TYPE_SOA, &rec);
		if (soa_above && !soa && dns_node_find(node, LDNS_RR_TYPE_NS, &rec) &&
		    !(i == 0 && qtype == LDNS_RR_TYPE_DS)) {
			above->cut = node;
			return;
		}
		if (i > 0 && dns_node_find(node, LDNS_RR_TYPE_DNAME, &above->dname_rec)) {
			above->dname = node;
			above->suffix = p;
			return;
		}
		soa_above = soa_above || soa;
	}
}

/*
 * The wildcard that synthesizes answers for @name, which does not exist
 * (RFC 4592 3.3.1): "*" under the closest encloser, if the data has it.
 */
static const DnsNode *
dns_find_wildcard(DnsStore *store, const guint8 *name)
{
	guint8 ce[DNS_NAME_BUF];
	dns_closest_encloser(store, name, FALSE, ce);
	if (ce[0] + 2u > 255)
		return NULL;
	guint8 key[DNS_NAME_BUF];
	key[0] = (guint8)(ce[0] + 2);
	key[1] = 1;
	key[2] = '*';
	memcpy(key + 3, ce + 1, ce[0]);
	return dns_store_lookup(store, key);
}

/* Pushes @rec of @node (as found at @owner when not NULL) to @section. */
static void
dns_push_rec(ldns_pkt *pkt, ldns_pkt_section section, const DnsNode *node, const DnsRec *rec,
             const guint8 *owner)
{
	ldns_rr *rr = dns_rec_rr(node, rec, owner);
	if (rr)
		ldns_pkt_push_rr(pkt, section, rr);
}

/* The addresses the data holds for the targets of @node's NS records
 * (glue), pushed to the additional section; with @refer, the NS records
 * too, to the authority section (a referral). Without, for an answer to
 * NS, as NSD gives even with minimal-responses. */
static void
dns_push_ns(DnsStore *store, ldns_pkt *pkt, const DnsNode *node, gboolean refer)
{
	gsize off = 0;
	DnsRec ns;
	while (dns_node_next(node, &off, &ns)) {
		if (ns.type != LDNS_RR_TYPE_NS)
			continue;
		if (refer)
			dns_push_rec(pkt, LDNS_SECTION_AUTHORITY, node, &ns, NULL);
		guint8 target[DNS_NAME_BUF];
		if (!dns_name_from_wire(ns.rdata, ns.rdlen, target))
			continue;
		const DnsNode *glue = dns_store_lookup(store, target);
		gsize goff = 0;
		DnsRec g;
		while (dns_node_next(glue, &goff, &g)) {
			if (g.type != LDNS_RR_TYPE_A && g.type != LDNS_RR_TYPE_AAAA)
				continue;
			ldns_rr *rr = dns_rec_rr(glue, &g, NULL);
			if (rr && !ldns_rr_list_contains_rr(ldns_pkt_additional(pkt), rr))
				ldns_pkt_push_rr(pkt, LDNS_SECTION_ADDITIONAL, rr);
			else
				ldns_rr_free(rr);
		}
	}
}

/*
 * The CNAME that a DNAME synthesizes for @name (RFC 6672 2.2): the part
 * of @name before the DNAME's owner (at @suffix) joined to the DNAME's
 * target, written to @next. FALSE if the new name is longer than 255
 * bytes (then the answer is YXDOMAIN).
 */
static gboolean
dns_dname_substitute(const DnsRec *dname, const guint8 *name, guint suffix,
                     guint8 next[DNS_NAME_BUF])
{
	guint8 target[DNS_NAME_BUF];
	if (!dns_name_from_wire(dname->rdata, dname->rdlen, target) || suffix + target[0] > 255)
		return FALSE;
	next[0] = (guint8)(suffix + target[0]);
	memcpy(next + 1, name + 1, suffix);
	memcpy(next + 1 + suffix, target + 1, target[0]);
	return TRUE;
}

/* (transfer full) The CNAME from @owner to @target a DNAME answer carries,
 * with the DNAME's TTL. */
static ldns_rr *
dns_synth_cname(const DnsRec *dname, const guint8 *owner, const guint8 *target)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rr_set_owner(rr, ldns_dname_new_frm_data(owner[0], owner + 1));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_CNAME);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, dname->ttl);
	ldns_rr_push_rdf(rr, ldns_dname_new_frm_data(target[0], target + 1));
	return rr;
}

/* Builds the answer to (@qname, @qtype) with ldns and caches it; @minimal
 * asks for the one-RRset answer to ANY. */
static DnsCacheEntry *
dns_build(DnsStore *store, const guint8 *qname, guint16 qtype, gboolean minimal)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_aa(pkt, true);
	ldns_pkt_set_opcode(pkt, LDNS_PACKET_QUERY);
	ldns_rr *question = ldns_rr_new();
	ldns_rr_set_owner(question, ldns_dname_new_frm_data(qname[0], qname + 1));
	ldns_rr_set_type(question, qtype);
	ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(question, true);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, question);

	guint rcode = DNS_RCODE_NOERROR;
	gboolean negative = FALSE, nodata = FALSE;
	guint8 names[DNS_MAX_CHAIN + 1][DNS_NAME_BUF];
	memcpy(names[0], qname, (gsize)qname[0] + 1);
	guint hop = 0;
	gboolean aa = TRUE;
	for (;; hop++) {
		const guint8 *name = names[hop];
		DnsAbove above;
		dns_find_above(store, name, qtype, &above);
		if (above.cut) {
			/* At or under a delegation (glue included): a referral,
			 * not authoritative unless a CNAME of ours led here. */
			dns_push_ns(store, pkt, above.cut, TRUE);
			aa = hop > 0;
			break;
		}
		gboolean chain = FALSE;
		if (above.dname) {
			dns_push_rec(pkt, LDNS_SECTION_ANSWER, above.dname, &above.dname_rec, NULL);
			if (hop == DNS_MAX_CHAIN)
				break;
			if (!dns_dname_substitute(&above.dname_rec, name, above.suffix,
			                          names[hop + 1])) {
				rcode = DNS_RCODE_YXDOMAIN;
				break;
			}
			ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER,
			                 dns_synth_cname(&above.dname_rec, name, names[hop + 1]));
			/* The synthesized CNAME answers a question for CNAME. */
			if (qtype == LDNS_RR_TYPE_CNAME)
				break;
			chain = TRUE;
		}
		const DnsNode *node = chain ? NULL : dns_store_lookup(store, name);
		const guint8 *synth = NULL;
		if (!chain && !node) {
			if (dns_store_is_ancestor(store, name)) {
				negative = nodata = TRUE; /* an empty non-terminal */
				break;
			}
			node = dns_find_wildcard(store, name);
			synth = name;
		}
		if (!chain && !node) {
			DnsRec soa;
			if (hop == 0 || dns_find_soa(store, name, &soa)) {
				/* The question's name, or a CNAME target under an
				 * SOA the element holds: authoritatively absent
				 * (RFC 6604 2.1: the rcode of the last name). */
				negative = TRUE;
				rcode = DNS_RCODE_NXDOMAIN;
			}
			/* A CNAME target under no SOA of the data ends the chain:
			 * the resolver follows it elsewhere. */
			break;
		}
		if (!chain) {
			gboolean found = FALSE, has_cname = FALSE;
			DnsRec cname = {0}, rec;
			guint16 chosen = minimal ? dns_any_choice(node) : 0;
			gsize off = 0;
			while (dns_node_next(node, &off, &rec)) {
				if (dns_rr_matches(&rec, qtype, minimal, chosen)) {
					dns_push_rec(pkt, LDNS_SECTION_ANSWER, node, &rec, synth);
					found = TRUE;
				} else if (rec.type == LDNS_RR_TYPE_CNAME) {
					cname = rec;
					has_cname = TRUE;
				}
			}
			if (found && qtype == LDNS_RR_TYPE_NS && !synth)
				dns_push_ns(store, pkt, node, FALSE);
			if (found)
				break;
			if (!has_cname) {
				negative = nodata = TRUE;
				break;
			}
			dns_push_rec(pkt, LDNS_SECTION_ANSWER, node, &cname, synth);
			if (hop == DNS_MAX_CHAIN)
				break;
			if (!dns_name_from_wire(cname.rdata, cname.rdlen, names[hop + 1]))
				break;
		}
		gboolean loop = FALSE;
		for (guint i = 0; i <= hop && !loop; i++)
			loop = dns_name_equal(names[i], names[hop + 1]);
		if (loop)
			break;
	}
	ldns_pkt_set_aa(pkt, aa);
	if (negative) {
		ldns_rr *soa = dns_negative_soa(store, names[hop], nodata);
		if (soa)
			ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, soa);
	}
	ldns_pkt_set_rcode(pkt, (guint8)rcode);

	guint8 *wire = NULL;
	size_t size = 0;
	ldns_status st = ldns_pkt2wire(&wire, pkt, &size);
	ldns_pkt_free(pkt);
	if (st != LDNS_STATUS_OK || size < DNS_HEADER) {
		free(wire);
		return NULL;
	}
	gsize name_size = (gsize)qname[0] + 1;
	DnsCacheEntry *e = g_malloc(sizeof *e + size + name_size);
	e->answer = (guint8 *)(e + 1);
	e->name = e->answer + size;
	memcpy(e->answer, wire, size);
	memcpy(e->name, qname, name_size);
	free(wire);
	e->len = size;
	e->qtype = qtype;
	e->rcode = (guint8)rcode;
	e->aa = aa;
	e->minimal = minimal;
	e->hash = dns_cache_key_hash(qname, qtype, minimal);

	dns_cache_add(store, e);
	return e;
}

/* ------------------------------------------------------------------------ */
/* The query path                                                            */

/* Header byte 2 of an answer: QR, AA, and the query's RD. AA only for
 * class IN: for QCLASS ANY the element cannot speak for every class (NSD
 * clears it too). */
static guint8
dns_answer_flags(const DnsQuery *q, gboolean aa)
{
	return (guint8)(0x80 | (q->qclass == LDNS_RR_CLASS_IN && aa ? 0x04 : 0) |
	                (q->flags_hi & 0x01));
}

/*
 * The shortcut for the commonest query: A or AAAA at a name that holds
 * records of that type, in data without zone cuts or DNAMEs (nothing can
 * then lie above the name, and such a name has no CNAME). The answer is
 * written straight from the node, byte for byte what dns_build() would
 * give: each record's owner a pointer to the question (0xC00C). Returns 0
 * when the shortcut does not apply (the cache and dns_build() answer).
 */
static gsize
dns_answer_direct(DnsStore *store, const DnsQuery *q, gsize limit, guint8 *out, gsize out_cap)
{
	if ((q->qtype != LDNS_RR_TYPE_A && q->qtype != LDNS_RR_TYPE_AAAA) ||
	    store->data->n_cuts != 0 || store->data->n_dnames != 0)
		return 0;
	const DnsNode *node = dns_store_lookup(store, q->qname);
	if (!node)
		return 0;
	gsize need = DNS_HEADER + q->question_len + (q->edns ? DNS_OPT_SIZE : 0);
	guint n = 0;
	gsize off = 0;
	DnsRec rec;
	while (dns_node_next(node, &off, &rec)) {
		if (rec.type != q->qtype)
			continue;
		/* An owner spelled otherwise than the key: ldns's way. */
		if (rec.owner)
			return 0;
		n++;
		need += 12u + rec.rdlen;
	}
	if (n == 0)
		return 0;
	guint8 flags_hi = dns_answer_flags(q, TRUE);
	if (need > limit)
		return dns_reply_empty(q, DNS_RCODE_NOERROR, flags_hi | 0x02, out, out_cap);
	dns_put16(out, q->id);
	out[2] = flags_hi;
	out[3] = (guint8)(q->flags_lo & 0x10);
	dns_put16(out + 4, 1);
	dns_put16(out + 6, (guint16)n);
	dns_put16(out + 8, 0);
	dns_put16(out + 10, q->edns ? 1 : 0);
	memcpy(out + DNS_HEADER, q->question, q->question_len);
	gsize pos = DNS_HEADER + q->question_len;
	off = 0;
	while (dns_node_next(node, &off, &rec)) {
		if (rec.type != q->qtype)
			continue;
		guint8 *o = out + pos;
		dns_put16(o, 0xC000 | DNS_HEADER);
		dns_put16(o + 2, rec.type);
		dns_put16(o + 4, LDNS_RR_CLASS_IN);
		memcpy(o + 6, rec.at + 2, 4); /* TTL */
		memcpy(o + 10, rec.rdlen_at, 2u + rec.rdlen);
		pos += 12u + rec.rdlen;
	}
	if (q->edns)
		pos = dns_put_opt(out, pos, q, 0);
	return pos;
}

gsize
dns_store_answer(DnsStore *store, const guint8 *query, gsize len, gboolean tcp, guint8 *out,
                 gsize out_cap)
{
	DnsQuery q;
	switch (dns_parse(query, len, &q)) {
	case DNS_PARSE_DROP:
		return 0;
	case DNS_PARSE_FORMERR:
		/* Do not echo an OPT we could not trust; the question is echoed
		 * when it could be read. */
		q.edns = FALSE;
		return dns_reply_empty(&q, DNS_RCODE_FORMERR, dns_error_flags(&q), out, out_cap);
	case DNS_PARSE_NOTIMP:
		q.edns = FALSE;
		return dns_reply_empty(&q, DNS_RCODE_NOTIMP, dns_error_flags(&q), out, out_cap);
	case DNS_PARSE_OK:
		break;
	}
	if (q.tsig)
		return dns_reply_badkey(&q, dns_error_flags(&q), out, out_cap);
	if (q.edns && q.edns_version != 0)
		return dns_reply_empty(&q, DNS_RCODE_BADVERS, dns_error_flags(&q), out, out_cap);
	if (q.qclass != LDNS_RR_CLASS_IN && q.qclass != LDNS_RR_CLASS_ANY)
		return dns_reply_empty(&q, DNS_RCODE_REFUSED, dns_error_flags(&q), out, out_cap);
	switch (q.qtype) {
	case LDNS_RR_TYPE_AXFR:
	case LDNS_RR_TYPE_IXFR:
		return dns_reply_empty(&q, DNS_RCODE_NOTIMP, dns_error_flags(&q), out, out_cap);
	case LDNS_RR_TYPE_OPT:
	case LDNS_RR_TYPE_TSIG:
	case LDNS_RR_TYPE_TKEY:
		return dns_reply_empty(&q, DNS_RCODE_FORMERR, dns_error_flags(&q), out, out_cap);
	default:
		break;
	}

	gsize limit = DNS_MAX_MESSAGE;
	if (!tcp)
		limit = q.edns ? CLAMP(q.edns_size, DNS_CLASSIC_UDP, DNS_UDP_PAYLOAD)
		               : DNS_CLASSIC_UDP;
	limit = MIN(limit, out_cap);
	gsize direct = dns_answer_direct(store, &q, limit, out, out_cap);
	if (direct)
		return direct;

	/* RFC 8482 4.1: ANY over UDP gets one RRset; TCP gets them all. */
	gboolean minimal = !tcp && q.qtype == LDNS_RR_TYPE_ANY;
	DnsCacheEntry probe = {.hash = dns_cache_key_hash(q.qname, q.qtype, minimal),
	                       .qtype = q.qtype,
	                       .minimal = minimal,
	                       .name = q.qname};
	DnsCacheEntry *e = g_hash_table_lookup(store->cache, &probe);
	if (e)
		e->used = TRUE;
	else
		e = dns_build(store, q.qname, q.qtype, minimal);
	if (!e)
		return 0;
	guint8 flags_hi = dns_answer_flags(&q, e->aa);

	gsize total = e->len + (q.edns ? DNS_OPT_SIZE : 0);
	if (total > limit) {
		/* RFC 2181 9: a partial RRset is never sent; the client retries
		 * over TCP on TC. */
		return dns_reply_empty(&q, e->rcode, flags_hi | 0x02, out, out_cap);
	}
	memcpy(out, e->answer, e->len);
	dns_put16(out, q.id);
	out[2] = flags_hi;
	out[3] = (guint8)((q.flags_lo & 0x10) | (e->rcode & 0x0F));
	memcpy(out + DNS_HEADER, q.question, q.question_len);
	gsize pos = e->len;
	if (q.edns) {
		dns_put16(out + 10, (guint16)(dns_get16(out + 10) + 1));
		pos = dns_put_opt(out, pos, &q, 0);
	}
	return pos;
}
