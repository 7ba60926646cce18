// SPDX-License-Identifier: Apache-2.0
//
// dns_store.h - the DNS engine of one dns element: its records in memory
// and the authoritative answers built from them (packet in, packet out).
//
// Nothing here touches sockets or the circuit SDK, so the engine is linked
// as-is into its unit tests and its fuzz target. The element glue (dns.c)
// and the socket code (dns_server.c) call it from the core's loop thread;
// the engine itself is not thread-safe and needs no locking.
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/** DNS_DEFAULT_TTL: the TTL given to a record whose text has none. */
#define DNS_DEFAULT_TTL 3600
/** DNS_CLASSIC_UDP: the UDP size limit of a query without EDNS0 (RFC 1035). */
#define DNS_CLASSIC_UDP 512
/**
 * DNS_UDP_PAYLOAD: the EDNS0 payload size the element advertises and the
 * largest UDP answer it sends, whatever the client offers (the 2020 DNS
 * flag-day value, which avoids IP fragmentation).
 */
#define DNS_UDP_PAYLOAD 1232
/** DNS_MAX_MESSAGE: the largest DNS message (TCP's 2-byte length). */
#define DNS_MAX_MESSAGE 65535

/** DNS_STORE_ERROR: the engine's error domain; the glue maps it to CIRCUIT_ERROR. */
#define DNS_STORE_ERROR (dns_store_error_quark())
GQuark dns_store_error_quark(void);

/** DnsStoreError: codes of DNS_STORE_ERROR. */
typedef enum {
	DNS_STORE_ERROR_INVALID,   /**< the record text or a name/type is not acceptable */
	DNS_STORE_ERROR_NOT_FOUND, /**< unset of something that is not there */
	DNS_STORE_ERROR_BUSY,      /**< a change while a load is in progress */
} DnsStoreError;

/** DnsStore: the records of one element, their indexes and the answer cache. */
typedef struct DnsStore DnsStore;

/** DnsStoreLoad: a load in progress (see dns_store_load_start()). */
typedef struct DnsStoreLoad DnsStoreLoad;

/** dns_store_new: (transfer full) an empty store. */
DnsStore *dns_store_new(void);

/** dns_store_free: frees @store and every record. NULL is harmless. */
void dns_store_free(DnsStore *store);

/**
 * dns_store_add:
 * @text: (transfer none): one resource record in zone-file syntax, e.g.
 *   "miek.nl. 3600 IN MX 10 mx.miek.nl.". Names must be fully qualified;
 *   a missing TTL means DNS_DEFAULT_TTL, a missing class means IN.
 * @added: (out) (optional): FALSE if an identical record was already
 *   there (its TTL is then updated to the new one).
 *
 * Adds one record. Invalid text fails with DNS_STORE_ERROR_INVALID and a
 * one-line message (ldns's reason for text ldns rejects).
 */
gboolean dns_store_add(DnsStore *store, const char *text, gboolean *added, GError **error);

/**
 * dns_store_load:
 * @text: (transfer none): records, one per line; empty lines and lines
 *   starting with ';' are skipped.
 * @n_added: (out) (optional): how many records were new.
 *
 * Adds every record, or none: the first bad line fails the whole load
 * with its line number and the store is left unchanged.
 */
gboolean dns_store_load(DnsStore *store, const char *text, guint *n_added, GError **error);

/**
 * dns_store_load_start: (transfer full)
 * @text: (transfer full): records, as for dns_store_load(); a g_malloc'd
 *   string the load frees.
 *
 * Starts a load that is carried out in steps (dns_store_load_step()), so
 * that the loop can answer queries between them. The new data is built
 * aside, from a copy of the current records and then the new ones, and
 * replaces the data answered from in one go at the last step: a query is
 * answered from all of the old records or all of the new ones, never a
 * mix. While it is in progress, dns_store_add(), dns_store_remove(),
 * dns_store_load() and another dns_store_load_start() fail with
 * DNS_STORE_ERROR_BUSY (returning NULL for the last).
 */
DnsStoreLoad *dns_store_load_start(DnsStore *store, char *text, GError **error);

/** DnsStoreLoadStatus: what dns_store_load_step() did. */
typedef enum {
	DNS_STORE_LOAD_MORE,   /**< not done: call again */
	DNS_STORE_LOAD_DONE,   /**< the new data is in place; the load is freed */
	DNS_STORE_LOAD_FAILED, /**< a bad line: nothing changed; the load is freed */
} DnsStoreLoadStatus;

/**
 * dns_store_load_step:
 * @budget: at most this many records (lines, or records copied) this step;
 *   a name holding more records than that is copied whole, in a step of its own.
 * @n_added: (out) (optional): on DONE, how many records were new.
 *
 * Does the next part of @load. On DONE or FAILED (@error set, with the
 * line number) @load is freed.
 */
DnsStoreLoadStatus dns_store_load_step(DnsStoreLoad *load, guint budget, guint *n_added,
                                       GError **error);

/** dns_store_load_cancel: drops @load unapplied and frees it. NULL is harmless. */
void dns_store_load_cancel(DnsStoreLoad *load);

/** dns_store_load_progress: of the load in progress (FALSE if none), the
 *  lines read and the body's lines in all. */
gboolean dns_store_load_progress(DnsStore *store, guint *lines_done, guint *lines_total);

/** DNS_STORE_LOAD_STEP: the budget of a step of a load (dns.c's pace): a
 *  record costs one, and one more per DNS_STORE_LOAD_UNIT_BYTES of records
 *  its name already holds (they are scanned and copied to add it). */
#define DNS_STORE_LOAD_STEP       512
#define DNS_STORE_LOAD_UNIT_BYTES 1024

/**
 * dns_store_reclaim:
 * @budget: at most this many parts (a name's records, an entry of the index of
 *   ancestors, a cached answer).
 *
 * Frees part of what no query can reach any more: the data a load
 * replaced or dropped, and the answer caches emptied by changes (each is
 * freed a part at a time so that no step pauses the answers; the engine
 * also frees a step's worth whenever it retires something). Returns TRUE
 * while something remains; @budget 0 only asks.
 */
gboolean dns_store_reclaim(DnsStore *store, guint budget);

/** DNS_STORE_RECLAIM_STEP: parts a step of dns_store_reclaim() frees (dns.c's pace). */
#define DNS_STORE_RECLAIM_STEP 4096

/**
 * dns_store_remove:
 * @name: (transfer none): an owner name; a trailing dot is optional here.
 * @type: (transfer none) (nullable): a type mnemonic ("MX", "TYPE65"); NULL
 *   removes every record of @name.
 * @n_removed: (out) (optional): how many records went away.
 *
 * Fails with DNS_STORE_ERROR_NOT_FOUND when nothing matched, and with
 * DNS_STORE_ERROR_INVALID for a malformed name or unknown type.
 */
gboolean dns_store_remove(DnsStore *store, const char *name, const char *type, guint *n_removed,
                          GError **error);

/** dns_store_count: the number of records held. */
guint dns_store_count(DnsStore *store);

/** dns_store_name_count: the number of distinct owner names held. */
guint dns_store_name_count(DnsStore *store);

/**
 * dns_store_records_json: (transfer full) the "Records" object of peek:
 * lowercased owner name -> array of the records' canonical text lines, in
 * the order they were added. Names are sorted, so the output is stable.
 * @budget: the most bytes of (compact) JSON to produce (0: no limit): the
 *   first name whose records would pass it is left out whole, and so is
 *   every name after it.
 * @omitted: (out) (optional): how many records were left out.
 */
JsonNode *dns_store_records_json(DnsStore *store, gsize budget, guint *omitted);

/**
 * dns_store_answer:
 * @query: (transfer none): one DNS message as received.
 * @tcp: TRUE if it came over TCP: the size limit is then DNS_MAX_MESSAGE
 *   and ANY gets every record (over UDP, one RRset: RFC 8482 4.1).
 * @out: (out caller-allocates): where the answer goes.
 * @out_cap: the size of @out; an answer that does not fit is truncated
 *   (TC set) as if the transport limit were @out_cap.
 *
 * Answers one query. Returns the length of the answer written to @out, or
 * 0 if the packet must be dropped (too short to answer, or a response).
 * Never reads past @len, never writes past @out_cap.
 */
gsize dns_store_answer(DnsStore *store, const guint8 *query, gsize len, gboolean tcp, guint8 *out,
                       gsize out_cap);

/** dns_store_cache_size: answers currently cached (for tests). */
guint dns_store_cache_size(DnsStore *store);

G_END_DECLS
