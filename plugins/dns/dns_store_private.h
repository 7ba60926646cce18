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

/** DnsNode: one owner name and its records, in one allocation with the
 *  name key (its text form is made when needed: peek, error messages). */
typedef struct {
	GPtrArray *rrs; /**< (owned) ldns_rr *, in the order they were added */
	guint8 name[];  /**< the name key (length byte + lowercased wire) */
} DnsNode;

struct DnsStore {
	GHashTable *nodes;     /**< name key -> DnsNode (owned) */
	GHashTable *ancestors; /**< name key -> gint *: stored names strictly below it */
	GHashTable *identity;  /**< set of the stored ldns_rr (not owned), by identity */
	GHashTable *cache;     /**< DnsCacheEntry -> itself (owned): encoded answers */
	GPtrArray *cache_ring; /**< the cached entries (not owned), swept by the clock */
	guint cache_hand;      /**< the clock's hand: the next entry it looks at */
	gsize cache_bytes;     /**< memory held by the cache's answers */
	guint count;           /**< records held */
	guint32 serial;        /**< bumped on every change; the synthesized SOA's serial */
	ldns_rdf *sentinel;    /**< origin that marks relative names */
};

guint dns_name_hash(gconstpointer key);
gboolean dns_name_equal(gconstpointer a, gconstpointer b);
/** dns_name_from_rdf: writes the name key of @rdf (a dname) to @out. */
void dns_name_from_rdf(const ldns_rdf *rdf, guint8 out[DNS_NAME_BUF]);

/** dns_store_lookup: (transfer none) (nullable) the node of a name key. */
DnsNode *dns_store_lookup(DnsStore *store, const guint8 *name);
/** dns_store_is_ancestor: TRUE if some stored name lies below @name. */
gboolean dns_store_is_ancestor(DnsStore *store, const guint8 *name);
/** dns_rr_text: (transfer full) a record's canonical text, without newline. */
char *dns_rr_text(const ldns_rr *rr);

/** dns_cache_table_new: (transfer full) the answer cache's table. */
GHashTable *dns_cache_table_new(void);
/** dns_cache_clear: forgets every cached answer (after any change). */
void dns_cache_clear(DnsStore *store);

G_END_DECLS
