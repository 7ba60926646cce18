// SPDX-License-Identifier: Apache-2.0
//
// dns_store_private.h - what dns_store.c and dns_query.c share inside the
// engine. Not for the element glue.
#pragma once

#include "dns_store.h"

#include <ldns/ldns.h>

G_BEGIN_DECLS

/**
 * DNS_NAME_BUF: room for a "name key": one length byte, then the name in
 * lowercased wire form (at most 255 bytes, root label included).
 */
#define DNS_NAME_BUF 256

/**
 * DnsNode: one owner name and its records, packed in one allocation (no
 * struct: the bytes are laid out by hand so that a node *is* its name key,
 * and a hash table of nodes needs no key apart):
 *
 *   name key        1 + n bytes (length byte, lowercased wire form)
 *   records size    4 bytes, big-endian: the bytes of records that follow
 *   records         each: type (2), TTL (4), owner length (1), the owner
 *                   as given when its spelling is not the name key's (that
 *                   many bytes, 0 when it is), RDATA length (2), RDATA in
 *                   uncompressed wire form, in the order they were added
 *
 * An A record at a new name costs the name plus 17 bytes.
 */
typedef guint8 DnsNode;

/** DnsRec: one record of a node, as read by dns_node_next(). */
typedef struct {
	guint16 type;
	guint32 ttl;
	const guint8 *owner;    /**< (nullable) the owner as given; NULL: the node's name */
	guint8 owner_len;       /**< its wire length */
	guint16 rdlen;          /**< RDATA bytes */
	const guint8 *rdlen_at; /**< the RDATA length field, RDATA right after */
	const guint8 *rdata;
	const guint8 *at; /**< the record's first byte in the node */
	gsize size;       /**< the record's bytes in the node */
} DnsRec;

/** DnsData: the records and their indexes, swapped whole by a load. */
typedef struct {
	GHashTable *nodes;     /**< set of DnsNode (owned), by name key */
	GHashTable *ancestors; /**< name key -> gint *: stored names strictly below it */
	guint count;           /**< records held */
	guint n_cuts;          /**< nodes with NS and no SOA (possible zone cuts) */
	guint n_dnames;        /**< nodes with a DNAME */
} DnsData;

/** DnsRetired: data or an answer cache no query can reach any more, freed
 *  a part at a time by dns_store_reclaim(). */
typedef struct {
	DnsData *data;        /**< (nullable) (owned) */
	GHashTableIter iter;  /**< over data's nodes, then its ancestors: the next to free */
	gboolean nodes_freed; /**< every node is freed: @iter is over the ancestors */
	GHashTable *cache;    /**< (nullable) (owned) a cache's table (entries owned) */
	GPtrArray *ring;      /**< its entries, freed from the end */
} DnsRetired;

struct DnsStore {
	DnsData *data;         /**< (owned) what queries are answered from */
	DnsStoreLoad *load;    /**< (nullable) (not owned) the load in progress */
	GHashTable *cache;     /**< DnsCacheEntry -> itself (owned): encoded answers */
	GPtrArray *cache_ring; /**< the cached entries (not owned), swept by the clock */
	guint cache_hand;      /**< the clock's hand: the next entry it looks at */
	gsize cache_bytes;     /**< memory held by the cache's answers */
	GQueue retired;        /**< DnsRetired (owned): freed a part at a time */
	guint32 serial;        /**< bumped on every change; the synthesized SOA's serial */
	ldns_rdf *sentinel;    /**< origin that marks relative names */
};

guint dns_name_hash(gconstpointer key);
gboolean dns_name_equal(gconstpointer a, gconstpointer b);
/** dns_name_from_rdf: writes the name key of @rdf (a dname) to @out. */
void dns_name_from_rdf(const ldns_rdf *rdf, guint8 out[DNS_NAME_BUF]);
/** dns_name_from_wire: the name key of an uncompressed wire name at @wire
 *  (within @max bytes) into @out; FALSE if it is not one. */
gboolean dns_name_from_wire(const guint8 *wire, gsize max, guint8 out[DNS_NAME_BUF]);

/** dns_store_lookup: (transfer none) (nullable) the node of a name key. */
const DnsNode *dns_store_lookup(DnsStore *store, const guint8 *name);
/** dns_store_is_ancestor: TRUE if some stored name lies below @name. */
gboolean dns_store_is_ancestor(DnsStore *store, const guint8 *name);
/** dns_rr_text: (transfer full) a record's canonical text, without newline. */
char *dns_rr_text(const ldns_rr *rr);

/**
 * dns_node_next: reads the record at *@offset of @node's records (0 for
 * the first) into @rec and moves *@offset past it; FALSE after the last.
 */
gboolean dns_node_next(const DnsNode *node, gsize *offset, DnsRec *rec);
/** dns_node_find: the first record of @type at @node (nullable) into @rec. */
gboolean dns_node_find(const DnsNode *node, guint16 type, DnsRec *rec);
/**
 * dns_rec_rr: (transfer full) (nullable) @rec of @node as an ldns record;
 * with @owner (a name key), owned by that name instead (a wildcard's
 * record given the name it answers for).
 */
ldns_rr *dns_rec_rr(const DnsNode *node, const DnsRec *rec, const guint8 *owner);

/** dns_cache_table_new: (transfer full) the answer cache's table. */
GHashTable *dns_cache_table_new(void);
/** dns_cache_retire: forgets every cached answer (after any change): the
 *  cache starts empty and the old one is retired. */
void dns_cache_retire(DnsStore *store);
/** dns_store_retire_data: (transfer full) @data is freed a part at a time. */
void dns_store_retire_data(DnsStore *store, DnsData *data);
/** dns_store_retire: queues @r (transfer full) and frees a step's worth. */
void dns_store_retire(DnsStore *store, DnsRetired *r);

G_END_DECLS
