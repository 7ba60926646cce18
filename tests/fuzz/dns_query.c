// SPDX-License-Identifier: Apache-2.0
//
// dns_query.c - libFuzzer target of the dns element's query path: one
// packet in, one packet out, through dns_store_answer(), the function the
// element's UDP and TCP code calls, over a store holding a few records of
// every shape the answer code handles (CNAME chains and loops, a large
// TXT, a real SOA, an empty non-terminal, many records at one name).
//
// Besides "no crash, no out-of-bounds access", it checks that every answer
// fits the buffer and the transport limit, carries the query's ID, parses
// with ldns, and that a cached answer is byte-for-byte the one first built.
#include "dns_store.h"

#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static DnsStore *
dns_fuzz_store(void)
{
	static const char *const records[] = {
	        "miek.nl. 3600 IN MX 10 mx.miek.nl.",
	        "miek.nl. 3600 IN MX 20 mx2.miek.nl.",
	        "miek.nl. 3600 IN SOA ns.miek.nl. me.miek.nl. 1 2 3 4 300",
	        "mx.miek.nl. 300 IN A 192.0.2.1",
	        "mx.miek.nl. 300 IN AAAA 2001:db8::1",
	        "www.miek.nl. 60 IN CNAME alias.miek.nl.",
	        "alias.miek.nl. 60 IN CNAME mx.miek.nl.",
	        "l1.miek.nl. 60 IN CNAME l2.miek.nl.",
	        "l2.miek.nl. 60 IN CNAME l1.miek.nl.",
	        "out.miek.nl. 60 IN CNAME elsewhere.example.",
	        "_sip._tcp.miek.nl. 60 IN SRV 10 5 5060 sip.miek.nl.",
	        "deep.sub.example. 60 IN A 192.0.2.9",
	        "a. 60 IN A 192.0.2.10",
	        NULL,
	};
	DnsStore *store = dns_store_new();
	for (int i = 0; records[i]; i++)
		if (!dns_store_add(store, records[i], NULL, NULL))
			abort();
	GString *txt = g_string_new("big.miek.nl. 60 IN TXT");
	for (int i = 0; i < 4; i++) {
		g_string_append(txt, " \"");
		for (int j = 0; j < 200; j++)
			g_string_append_c(txt, (char)('a' + (i + j) % 26));
		g_string_append(txt, "\"");
	}
	if (!dns_store_add(store, txt->str, NULL, NULL))
		abort();
	g_string_free(txt, TRUE);
	for (int i = 0; i < 120; i++) {
		char *rec = g_strdup_printf("many.miek.nl. 60 IN A 10.0.%d.%d", i / 100, i % 100);
		if (!dns_store_add(store, rec, NULL, NULL))
			abort();
		g_free(rec);
	}
	return store;
}

static void
dns_fuzz_check(const uint8_t *query, size_t size, const guint8 *out, gsize n, gsize limit)
{
	if (n == 0)
		return;
	if (n < 12 || n > limit)
		abort();
	if (out[0] != query[0] || out[1] != query[1] || !(out[2] & 0x80))
		abort();
	ldns_pkt *pkt = NULL;
	if (ldns_wire2pkt(&pkt, out, n) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(pkt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static DnsStore *store;
	static guint8 out1[DNS_MAX_MESSAGE], out2[DNS_MAX_MESSAGE];
	if (!store)
		store = dns_fuzz_store();
	/* Work on an exact-size copy so any over-read is caught by ASan. */
	guint8 *query = g_memdup2(data, size);
	for (int tcp = 0; tcp < 2; tcp++) {
		gsize cap = tcp ? DNS_MAX_MESSAGE : DNS_UDP_PAYLOAD;
		gsize n1 = dns_store_answer(store, query, size, tcp, out1, cap);
		dns_fuzz_check(query, size, out1, n1, cap);
		/* The second time the answer may come from the cache: the same. */
		gsize n2 = dns_store_answer(store, query, size, tcp, out2, cap);
		if (n1 != n2 || memcmp(out1, out2, n1) != 0)
			abort();
	}
	g_free(query);
	return 0;
}
