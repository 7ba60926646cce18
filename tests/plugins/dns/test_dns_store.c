// SPDX-License-Identifier: Apache-2.0
//
// test_dns_store.c - unit tests of the dns element's engine
// (plugins/dns/dns_store.c, dns_query.c): record parsing and storage,
// peek's Records, and answers (packet in, packet out) decoded with ldns.
#include "dns_store.h"

#include <ldns/ldns.h>
#include <malloc.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static DnsStore *
store_with(const char *const *records)
{
	DnsStore *store = dns_store_new();
	for (guint i = 0; records[i]; i++) {
		GError *error = NULL;
		gboolean ok = dns_store_add(store, records[i], NULL, &error);
		g_assert_no_error(error);
		g_assert_true(ok);
	}
	return store;
}

/* Encodes a query; @edns_size 0 means no OPT record. */
static guint8 *
make_query(const char *name, ldns_rr_type type, guint16 edns_size, gboolean do_bit, gsize *len)
{
	ldns_pkt *pkt = NULL;
	ldns_status st = ldns_pkt_query_new_frm_str(&pkt, name, type, LDNS_RR_CLASS_IN, LDNS_RD);
	g_assert_cmpint(st, ==, LDNS_STATUS_OK);
	ldns_pkt_set_id(pkt, 0x1234);
	if (edns_size) {
		ldns_pkt_set_edns_udp_size(pkt, edns_size);
		ldns_pkt_set_edns_do(pkt, do_bit);
	}
	guint8 *wire = NULL;
	size_t size = 0;
	g_assert_cmpint(ldns_pkt2wire(&wire, pkt, &size), ==, LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	guint8 *copy = g_memdup2(wire, size);
	free(wire);
	*len = size;
	return copy;
}

/* Answers @query (bytes) through the engine and decodes the answer. */
static ldns_pkt *
answer_bytes(DnsStore *store, const guint8 *query, gsize len, gboolean tcp, gsize *out_len)
{
	static guint8 out[DNS_MAX_MESSAGE];
	gsize n = dns_store_answer(store, query, len, tcp, out, sizeof out);
	if (out_len)
		*out_len = n;
	if (n == 0)
		return NULL;
	ldns_pkt *pkt = NULL;
	g_assert_cmpint(ldns_wire2pkt(&pkt, out, n), ==, LDNS_STATUS_OK);
	return pkt;
}

static ldns_pkt *
ask(DnsStore *store, const char *name, ldns_rr_type type, guint16 edns_size, gboolean tcp,
    gsize *out_len)
{
	gsize len = 0;
	guint8 *query = make_query(name, type, edns_size, FALSE, &len);
	ldns_pkt *pkt = answer_bytes(store, query, len, tcp, out_len);
	g_free(query);
	g_assert_nonnull(pkt);
	g_assert_cmpint(ldns_pkt_id(pkt), ==, 0x1234);
	g_assert_true(ldns_pkt_qr(pkt));
	g_assert_true(ldns_pkt_rd(pkt));
	return pkt;
}

/* ANCOUNT of an encoded message. */
static guint
dns_get_ancount(const guint8 *msg)
{
	return (guint)((msg[6] << 8) | msg[7]);
}

static guint
count_type(ldns_rr_list *list, ldns_rr_type type)
{
	guint n = 0;
	for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(list, i)) == type)
			n++;
	return n;
}

/* The text of answer record @i (without the trailing newline). */
static char *
rr_text(ldns_rr_list *list, size_t i)
{
	char *s = ldns_rr2str(ldns_rr_list_rr(list, i));
	char *g = g_strchomp(g_strdup(s));
	free(s);
	return g;
}

static const char *const zone[] = {
        "miek.nl. 3600 IN MX 10 mx.miek.nl.",
        "miek.nl. 3600 IN MX 20 mx2.miek.nl.",
        "mx.miek.nl. 300 IN A 192.0.2.1",
        "mx.miek.nl. 300 IN AAAA 2001:db8::1",
        "txt.miek.nl. IN TXT \"hello world\"",
        "www.miek.nl. 60 IN CNAME alias.miek.nl.",
        "alias.miek.nl. 60 IN CNAME mx.miek.nl.",
        "out.miek.nl. 60 IN CNAME elsewhere.example.",
        "_sip._tcp.miek.nl. 60 IN SRV 10 5 5060 sip.miek.nl.",
        "deep.sub.miek.nl. 60 IN A 192.0.2.9",
        NULL,
};

/* ------------------------------------------------------------------------ */
/* Records                                                                   */

static void
test_add_and_records(void)
{
	DnsStore *store = dns_store_new();
	gboolean added = FALSE;
	GError *error = NULL;
	g_assert_true(dns_store_add(store, "miek.nl. 3600 IN MX 10 mx.miek.nl.", &added, &error));
	g_assert_no_error(error);
	g_assert_true(added);
	g_assert_true(dns_store_add(store, "MIEK.nl. 3600 IN MX 20 mx2.miek.nl.", &added, NULL));
	g_assert_true(added);
	/* The same record again (other case, other TTL) is kept once. */
	g_assert_true(dns_store_add(store, "miek.NL. 7200 IN MX 10 MX.miek.nl.", &added, NULL));
	g_assert_false(added);
	g_assert_cmpuint(dns_store_count(store), ==, 2);
	g_assert_cmpuint(dns_store_name_count(store), ==, 1);

	JsonNode *json = dns_store_records_json(store, 0, NULL);
	char *text = json_to_string(json, FALSE);
	g_assert_cmpstr(text, ==,
	                "{\"miek.nl.\":[\"miek.nl.\\t7200\\tIN\\tMX\\t10 mx.miek.nl.\","
	                "\"MIEK.nl.\\t3600\\tIN\\tMX\\t20 mx2.miek.nl.\"]}");
	g_free(text);
	json_node_unref(json);

	/* Defaults: a missing TTL is DNS_DEFAULT_TTL, a missing class is IN. */
	g_assert_true(dns_store_add(store, "a.example. A 192.0.2.7", NULL, NULL));
	json = dns_store_records_json(store, 0, NULL);
	JsonArray *arr = json_object_get_array_member(json_node_get_object(json), "a.example.");
	g_assert_nonnull(arr);
	g_assert_cmpstr(json_array_get_string_element(arr, 0), ==,
	                "a.example.\t3600\tIN\tA\t192.0.2.7");
	json_node_unref(json);

	/* A record spread over lines with parentheses, as in zone files. */
	g_assert_true(dns_store_add(store,
	                            "z.example. 60 IN SOA ns.z.example. h.z.example. (\n"
	                            "\t1 ; serial\n\t2 3 4 5 )",
	                            NULL, NULL));
	json = dns_store_records_json(store, 0, NULL);
	arr = json_object_get_array_member(json_node_get_object(json), "z.example.");
	g_assert_cmpstr(json_array_get_string_element(arr, 0), ==,
	                "z.example.\t60\tIN\tSOA\tns.z.example. h.z.example. 1 2 3 4 5");
	json_node_unref(json);
	dns_store_free(store);
}

static void
expect_invalid(DnsStore *store, const char *text, const char *part)
{
	GError *error = NULL;
	g_assert_false(dns_store_add(store, text, NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	if (!strstr(error->message, part))
		g_error("\"%s\": message \"%s\" lacks \"%s\"", text, error->message, part);
	g_assert_null(strchr(error->message, '\n'));
	g_error_free(error);
}

static void
test_invalid(void)
{
	DnsStore *store = dns_store_new();
	expect_invalid(store, "garbage", "could not parse");
	expect_invalid(store, "x.example. 60 IN A 1.2.3", "rdata");
	expect_invalid(store, "x.example. 60 IN A 1.2.3.4 extra", "superfluous");
	expect_invalid(store, "", "empty");
	expect_invalid(store, "   ; a comment", "empty");
	expect_invalid(store, "www 60 IN A 192.0.2.1", "relative name");
	expect_invalid(store, "x.example. 60 IN MX 10 mx", "relative name");
	expect_invalid(store, "@ 60 IN A 192.0.2.1", "relative name");
	expect_invalid(store, "$ORIGIN example.", "directives");
	expect_invalid(store, "x.example. 60 CH TXT \"hi\"", "class CH");
	g_assert_true(dns_store_add(store, "c.example. CNAME d.example.", NULL, NULL));
	expect_invalid(store, "c.example. A 192.0.2.1", "is a CNAME");
	expect_invalid(store, "c.example. CNAME e.example.", "already has a CNAME");
	g_assert_true(dns_store_add(store, "a.example. A 192.0.2.1", NULL, NULL));
	expect_invalid(store, "a.example. CNAME e.example.", "must be alone");
	g_assert_cmpuint(dns_store_count(store), ==, 2);
	dns_store_free(store);
}

static void
test_remove(void)
{
	DnsStore *store = store_with(zone);
	guint before = dns_store_count(store), n = 0;
	GError *error = NULL;
	g_assert_true(dns_store_remove(store, "miek.nl.", "MX", &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(dns_store_count(store), ==, before - 2);
	/* Without the trailing dot and in another case: the same name. */
	g_assert_true(dns_store_remove(store, "MX.miek.nl", NULL, &n, NULL));
	g_assert_cmpuint(n, ==, 2);
	g_assert_false(dns_store_remove(store, "mx.miek.nl.", NULL, NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "no record named mx.miek.nl.");
	g_clear_error(&error);
	g_assert_false(dns_store_remove(store, "txt.miek.nl.", "A", NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(dns_store_remove(store, "txt.miek.nl.", "NOPE", NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(dns_store_remove(store, "a..b", NULL, NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	g_clear_error(&error);
	/* Messages stay on one line whatever the input holds. */
	g_assert_false(dns_store_remove(store, "two\nlines", "MX", NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_NOT_FOUND);
	g_assert_null(strchr(error->message, '\n'));
	g_clear_error(&error);
	g_assert_false(dns_store_remove(store, "x.example.", "A\nB", NULL, &error));
	g_assert_null(strchr(error->message, '\n'));
	g_clear_error(&error);
	/* A removed name answers NXDOMAIN; an identical record can come back. */
	ldns_pkt *pkt = ask(store, "mx.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(pkt);
	gboolean added = FALSE;
	g_assert_true(dns_store_add(store, "mx.miek.nl. 300 IN A 192.0.2.1", &added, NULL));
	g_assert_true(added);
	dns_store_free(store);
}

static void
test_load(void)
{
	DnsStore *store = dns_store_new();
	guint n = 0;
	GError *error = NULL;
	g_assert_true(dns_store_load(store,
	                             "; a comment\n"
	                             "a.example. 60 IN A 192.0.2.1\n"
	                             "\n"
	                             "  b.example. 60 IN A 192.0.2.2  \n"
	                             "a.example. 60 IN A 192.0.2.1",
	                             &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 2);
	/* A bad line undoes the whole load, TTL updates included. */
	g_assert_false(dns_store_load(store,
	                              "c.example. 60 IN A 192.0.2.3\n"
	                              "a.example. 99 IN A 192.0.2.1\n"
	                              "d.example. 60 IN A 192.0.2.300\n",
	                              &n, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	g_assert_true(g_str_has_prefix(error->message, "line 3: invalid record"));
	g_clear_error(&error);
	g_assert_cmpuint(dns_store_count(store), ==, 2);
	g_assert_cmpuint(dns_store_name_count(store), ==, 2);
	JsonNode *json = dns_store_records_json(store, 0, NULL);
	char *text = json_to_string(json, FALSE);
	g_assert_nonnull(strstr(text, "a.example.\\t60\\tIN\\tA"));
	g_assert_null(strstr(text, "c.example."));
	g_free(text);
	json_node_unref(json);
	dns_store_free(store);
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                   */

static void
test_answer_types(void)
{
	DnsStore *store = store_with(zone);
	ldns_pkt *pkt = ask(store, "mx.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_true(ldns_pkt_aa(pkt));
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	char *t = rr_text(ldns_pkt_answer(pkt), 0);
	g_assert_cmpstr(t, ==, "mx.miek.nl.\t300\tIN\tA\t192.0.2.1");
	g_free(t);
	ldns_pkt_free(pkt);

	pkt = ask(store, "mx.miek.nl.", LDNS_RR_TYPE_AAAA, 0, FALSE, NULL);
	g_assert_cmpuint(count_type(ldns_pkt_answer(pkt), LDNS_RR_TYPE_AAAA), ==, 1);
	ldns_pkt_free(pkt);

	pkt = ask(store, "miek.nl.", LDNS_RR_TYPE_MX, 0, FALSE, NULL);
	g_assert_cmpuint(count_type(ldns_pkt_answer(pkt), LDNS_RR_TYPE_MX), ==, 2);
	ldns_pkt_free(pkt);

	pkt = ask(store, "txt.miek.nl.", LDNS_RR_TYPE_TXT, 0, FALSE, NULL);
	t = rr_text(ldns_pkt_answer(pkt), 0);
	g_assert_cmpstr(t, ==, "txt.miek.nl.\t3600\tIN\tTXT\t\"hello world\"");
	g_free(t);
	ldns_pkt_free(pkt);

	pkt = ask(store, "_sip._tcp.miek.nl.", LDNS_RR_TYPE_SRV, 0, FALSE, NULL);
	t = rr_text(ldns_pkt_answer(pkt), 0);
	g_assert_cmpstr(t, ==, "_sip._tcp.miek.nl.\t60\tIN\tSRV\t10 5 5060 sip.miek.nl.");
	g_free(t);
	ldns_pkt_free(pkt);

	/* ANY over TCP: every record of the name, from the data (over UDP,
	 * one RRset: see test_answer_any). */
	pkt = ask(store, "mx.miek.nl.", LDNS_RR_TYPE_ANY, 0, TRUE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 2);
	g_assert_cmpuint(count_type(ldns_pkt_answer(pkt), LDNS_RR_TYPE_A), ==, 1);
	g_assert_cmpuint(count_type(ldns_pkt_answer(pkt), LDNS_RR_TYPE_AAAA), ==, 1);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

/* The distinct types of the answer section, in order, as "A RRSIG". */
static char *
answer_types(ldns_pkt *pkt)
{
	GString *s = g_string_new(NULL);
	ldns_rr_list *list = ldns_pkt_answer(pkt);
	for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
		char *t = ldns_rr_type2str(ldns_rr_get_type(ldns_rr_list_rr(list, i)));
		g_autofree char *word = g_strdup_printf(" %s ", t);
		g_autofree char *padded = g_strdup_printf(" %s ", s->str);
		if (!strstr(padded, word))
			g_string_append_printf(s, "%s%s", s->len ? " " : "", t);
		free(t);
	}
	return g_string_free(s, FALSE);
}

/* RFC 8482 4.1: ANY over UDP answers one RRset (the first type stored at
 * the name, with the RRSIGs covering it), over TCP every record. The cache
 * keeps the two answers apart. */
static void
test_answer_any(void)
{
	static const char *const records[] = {
	        "any.miek.nl. 60 IN RRSIG TXT 8 3 60 20300101000000 20200101000000 1 miek.nl. AAAA",
	        "any.miek.nl. 60 IN A 192.0.2.1",
	        "any.miek.nl. 60 IN A 192.0.2.2",
	        "any.miek.nl. 60 IN RRSIG A 8 3 60 20300101000000 20200101000000 1 miek.nl. AAAA",
	        "any.miek.nl. 60 IN AAAA 2001:db8::1",
	        "any.miek.nl. 60 IN MX 10 mx.miek.nl.",
	        "any.miek.nl. 60 IN TXT \"hello\"",
	        "www.miek.nl. 60 IN CNAME any.miek.nl.",
	        NULL,
	};
	DnsStore *store = store_with(records);
	for (guint round = 0; round < 2; round++) {
		ldns_pkt *pkt = ask(store, "any.miek.nl.", LDNS_RR_TYPE_ANY, 0, FALSE, NULL);
		g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
		g_assert_true(ldns_pkt_aa(pkt));
		g_assert_false(ldns_pkt_tc(pkt));
		char *types = answer_types(pkt);
		g_assert_cmpstr(types, ==, "A RRSIG");
		g_free(types);
		g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 3);
		ldns_pkt_free(pkt);

		pkt = ask(store, "any.miek.nl.", LDNS_RR_TYPE_ANY, 1232, FALSE, NULL);
		g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 3);
		ldns_pkt_free(pkt);

		pkt = ask(store, "any.miek.nl.", LDNS_RR_TYPE_ANY, 0, TRUE, NULL);
		g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 7);
		types = answer_types(pkt);
		g_assert_cmpstr(types, ==, "RRSIG A AAAA MX TXT");
		g_free(types);
		ldns_pkt_free(pkt);
	}
	/* A name that holds a CNAME: the CNAME is its one RRset. */
	ldns_pkt *pkt = ask(store, "www.miek.nl.", LDNS_RR_TYPE_ANY, 0, FALSE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	g_assert_cmpuint(count_type(ldns_pkt_answer(pkt), LDNS_RR_TYPE_CNAME), ==, 1);
	ldns_pkt_free(pkt);
	/* Negative answers do not change. */
	pkt = ask(store, "nope.miek.nl.", LDNS_RR_TYPE_ANY, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	g_assert_cmpuint(ldns_pkt_nscount(pkt), ==, 1);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

static void
test_answer_cname(void)
{
	DnsStore *store = store_with(zone);
	/* www -> alias -> mx, which has the A record: the whole chain. */
	ldns_pkt *pkt = ask(store, "www.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 3);
	ldns_rr_list *an = ldns_pkt_answer(pkt);
	g_assert_cmpint(ldns_rr_get_type(ldns_rr_list_rr(an, 0)), ==, LDNS_RR_TYPE_CNAME);
	g_assert_cmpint(ldns_rr_get_type(ldns_rr_list_rr(an, 1)), ==, LDNS_RR_TYPE_CNAME);
	g_assert_cmpint(ldns_rr_get_type(ldns_rr_list_rr(an, 2)), ==, LDNS_RR_TYPE_A);
	ldns_pkt_free(pkt);

	/* Asking for the CNAME itself does not follow it. */
	pkt = ask(store, "www.miek.nl.", LDNS_RR_TYPE_CNAME, 0, FALSE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	ldns_pkt_free(pkt);

	/* The chain reaches a name with no MX: NODATA at the end, with SOA. */
	pkt = ask(store, "www.miek.nl.", LDNS_RR_TYPE_MX, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 2);
	g_assert_cmpuint(count_type(ldns_pkt_authority(pkt), LDNS_RR_TYPE_SOA), ==, 1);
	ldns_pkt_free(pkt);

	/* A target outside the data ends the chain without a negative answer. */
	pkt = ask(store, "out.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	g_assert_cmpuint(ldns_pkt_nscount(pkt), ==, 0);
	ldns_pkt_free(pkt);

	/* A loop stops. */
	g_assert_true(dns_store_add(store, "l1.example. CNAME l2.example.", NULL, NULL));
	g_assert_true(dns_store_add(store, "l2.example. CNAME l1.example.", NULL, NULL));
	pkt = ask(store, "l1.example.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 2);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

static void
test_answer_negative(void)
{
	DnsStore *store = store_with(zone);
	/* NXDOMAIN, with a synthesized SOA at the closest existing ancestor. */
	ldns_pkt *pkt = ask(store, "nope.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	g_assert_true(ldns_pkt_aa(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 0);
	g_assert_cmpuint(ldns_pkt_nscount(pkt), ==, 1);
	char *t = rr_text(ldns_pkt_authority(pkt), 0);
	g_assert_true(g_str_has_prefix(t, "miek.nl.\t60\tIN\tSOA\tns.circuit.invalid. "
	                                  "hostmaster.circuit.invalid. "));
	g_assert_true(g_str_has_suffix(t, " 3600 600 86400 60"));
	g_free(t);
	ldns_pkt_free(pkt);

	/* NODATA: the name exists, not the type; SOA at the name. */
	pkt = ask(store, "txt.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 0);
	t = rr_text(ldns_pkt_authority(pkt), 0);
	g_assert_true(g_str_has_prefix(t, "txt.miek.nl.\t60\tIN\tSOA\t"));
	g_free(t);
	ldns_pkt_free(pkt);

	/* An empty non-terminal is NODATA, not NXDOMAIN. */
	pkt = ask(store, "sub.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(count_type(ldns_pkt_authority(pkt), LDNS_RR_TYPE_SOA), ==, 1);
	ldns_pkt_free(pkt);

	/* The synthesized SOA's serial counts changes. */
	pkt = ask(store, "nope.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	guint32 serial =
	        ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_authority(pkt), 0), 2));
	ldns_pkt_free(pkt);
	g_assert_true(dns_store_add(store, "new.example. A 192.0.2.77", NULL, NULL));
	pkt = ask(store, "nope.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpuint(
	        ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_authority(pkt), 0), 2)),
	        ==, serial + 1);
	ldns_pkt_free(pkt);

	/* A query for a name outside everything: NXDOMAIN, SOA at the root. */
	pkt = ask(store, "nothing.here.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	t = rr_text(ldns_pkt_authority(pkt), 0);
	g_assert_true(g_str_has_prefix(t, ".\t60\tIN\tSOA\t"));
	g_free(t);
	ldns_pkt_free(pkt);

	/* A real SOA in the data wins, with TTL min(TTL, MINIMUM). */
	g_assert_true(dns_store_add(
	        store, "miek.nl. 3600 IN SOA ns.miek.nl. me.miek.nl. 7 1 2 3 300", NULL, NULL));
	pkt = ask(store, "nope.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	t = rr_text(ldns_pkt_authority(pkt), 0);
	g_assert_cmpstr(t, ==, "miek.nl.\t300\tIN\tSOA\tns.miek.nl. me.miek.nl. 7 1 2 3 300");
	g_free(t);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

static void
test_answer_case(void)
{
	DnsStore *store = store_with(zone);
	gsize len = 0;
	guint8 *query = make_query("Mx.MieK.nL.", LDNS_RR_TYPE_A, 0, FALSE, &len);
	ldns_pkt *pkt = answer_bytes(store, query, len, FALSE, NULL);
	g_assert_nonnull(pkt);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	/* The question comes back as the client spelled it (0x20 hardening). */
	char *q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
	g_assert_cmpstr(q, ==, "Mx.MieK.nL.");
	free(q);
	ldns_pkt_free(pkt);
	g_free(query);
	/* An A answer is written straight from the records; AAAA likewise;
	 * other types are built once and then come from the cache. */
	g_assert_cmpuint(dns_store_cache_size(store), ==, 0);
	query = make_query("Mx.MieK.nL.", LDNS_RR_TYPE_MX, 0, FALSE, &len);
	pkt = answer_bytes(store, query, len, FALSE, NULL);
	ldns_pkt_free(pkt);
	g_assert_cmpuint(dns_store_cache_size(store), ==, 1);
	g_free(query);
	query = make_query("TxT.MieK.nL.", LDNS_RR_TYPE_TXT, 0, FALSE, &len);
	pkt = answer_bytes(store, query, len, FALSE, NULL);
	ldns_pkt_free(pkt);
	g_assert_cmpuint(dns_store_cache_size(store), ==, 2);
	/* Again, from the cache. */
	pkt = answer_bytes(store, query, len, FALSE, NULL);
	g_assert_cmpuint(dns_store_cache_size(store), ==, 2);
	q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
	g_assert_cmpstr(q, ==, "TxT.MieK.nL.");
	free(q);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	ldns_pkt_free(pkt);
	g_free(query);
	dns_store_free(store);
}

static void
test_answer_cache_invalidation(void)
{
	DnsStore *store = store_with(zone);
	ldns_pkt *pkt = ask(store, "new.example.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(pkt);
	g_assert_true(dns_store_add(store, "new.example. 60 IN A 192.0.2.5", NULL, NULL));
	g_assert_cmpuint(dns_store_cache_size(store), ==, 0);
	pkt = ask(store, "new.example.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	ldns_pkt_free(pkt);
	g_assert_true(dns_store_remove(store, "new.example.", NULL, NULL, NULL));
	pkt = ask(store, "new.example.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

/* A TXT record of about 700 bytes: bigger than 512, smaller than 1232. */
static DnsStore *
store_with_big_txt(void)
{
	GString *s = g_string_new("big.example. 60 IN TXT");
	for (int i = 0; i < 3; i++) {
		g_string_append(s, " \"");
		for (int j = 0; j < 230; j++)
			g_string_append_c(s, (char)('a' + (i + j) % 26));
		g_string_append(s, "\"");
	}
	DnsStore *store = dns_store_new();
	g_assert_true(dns_store_add(store, s->str, NULL, NULL));
	g_string_free(s, TRUE);
	return store;
}

static void
test_answer_truncation(void)
{
	DnsStore *store = store_with_big_txt();
	gsize n = 0;
	/* UDP without EDNS: 512 bytes at most, so TC and no records. */
	ldns_pkt *pkt = ask(store, "big.example.", LDNS_RR_TYPE_TXT, 0, FALSE, &n);
	g_assert_true(ldns_pkt_tc(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 0);
	g_assert_cmpuint(ldns_pkt_qdcount(pkt), ==, 1);
	g_assert_cmpuint(n, <=, DNS_CLASSIC_UDP);
	ldns_pkt_free(pkt);
	/* TCP: the whole answer. */
	pkt = ask(store, "big.example.", LDNS_RR_TYPE_TXT, 0, TRUE, &n);
	g_assert_false(ldns_pkt_tc(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	g_assert_cmpuint(n, >, DNS_CLASSIC_UDP);
	ldns_pkt_free(pkt);
	/* UDP with EDNS0 at 1232: fits, with our OPT echoed. */
	pkt = ask(store, "big.example.", LDNS_RR_TYPE_TXT, 1232, FALSE, &n);
	g_assert_false(ldns_pkt_tc(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	g_assert_true(ldns_pkt_edns(pkt));
	g_assert_cmpuint(ldns_pkt_edns_udp_size(pkt), ==, DNS_UDP_PAYLOAD);
	ldns_pkt_free(pkt);
	/* EDNS0 offering less than 512 counts as 512. */
	pkt = ask(store, "big.example.", LDNS_RR_TYPE_TXT, 100, FALSE, &n);
	g_assert_true(ldns_pkt_tc(pkt));
	g_assert_true(ldns_pkt_edns(pkt));
	ldns_pkt_free(pkt);
	dns_store_free(store);

	/* Larger than our UDP cap of 1232 even if the client offers 4096. */
	store = dns_store_new();
	for (int i = 0; i < 100; i++) {
		char *rec = g_strdup_printf("many.example. 60 IN A 10.0.0.%d", i);
		g_assert_true(dns_store_add(store, rec, NULL, NULL));
		g_free(rec);
	}
	pkt = ask(store, "many.example.", LDNS_RR_TYPE_A, 4096, FALSE, &n);
	g_assert_true(ldns_pkt_tc(pkt));
	ldns_pkt_free(pkt);
	pkt = ask(store, "many.example.", LDNS_RR_TYPE_A, 4096, TRUE, &n);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 100);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

static void
test_answer_edns(void)
{
	DnsStore *store = store_with(zone);
	gsize len = 0;
	guint8 *query = make_query("mx.miek.nl.", LDNS_RR_TYPE_A, 1232, TRUE, &len);
	ldns_pkt *pkt = answer_bytes(store, query, len, FALSE, NULL);
	g_assert_true(ldns_pkt_edns(pkt));
	g_assert_true(ldns_pkt_edns_do(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	ldns_pkt_free(pkt);
	g_free(query);
	/* Without EDNS, no OPT in the answer. */
	pkt = ask(store, "mx.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_false(ldns_pkt_edns(pkt));
	g_assert_cmpuint(ldns_pkt_arcount(pkt), ==, 0);
	ldns_pkt_free(pkt);
	/* EDNS version 1: BADVERS (extended RCODE 16). */
	query = make_query("mx.miek.nl.", LDNS_RR_TYPE_A, 1232, FALSE, &len);
	g_assert_cmpuint(len, >=, 11);
	query[len - 11 + 6] = 1; /* the OPT is last: root, type, class, ext-rcode, version */
	guint8 out[512];
	gsize n = dns_store_answer(store, query, len, FALSE, out, sizeof out);
	g_assert_cmpuint(n, >, 12);
	g_assert_cmpuint(out[3] & 0x0F, ==, 0);
	g_assert_cmpuint(out[n - 11 + 5], ==, 1); /* 16 >> 4 */
	g_free(query);
	dns_store_free(store);
}

static void
test_answer_errors(void)
{
	DnsStore *store = store_with(zone);
	guint8 out[512];
	gsize len = 0;
	guint8 *query = make_query("mx.miek.nl.", LDNS_RR_TYPE_A, 0, FALSE, &len);

	/* Two questions: FORMERR. */
	guint8 *two = g_malloc(len * 2);
	memcpy(two, query, len);
	memcpy(two + len, query + 12, len - 12);
	two[5] = 2;
	gsize n = dns_store_answer(store, two, len + len - 12, FALSE, out, sizeof out);
	g_assert_cmpuint(n, ==, 12);
	g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_FORMERR);
	g_assert_cmpuint(out[2] & 0x80, ==, 0x80);
	g_free(two);

	/* Opcode STATUS (2): NOTIMP, question echoed. */
	guint8 *copy = g_memdup2(query, len);
	copy[2] = (guint8)((copy[2] & 0x87) | (2 << 3));
	n = dns_store_answer(store, copy, len, FALSE, out, sizeof out);
	g_assert_cmpuint(n, ==, len);
	g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_NOTIMPL);
	g_assert_cmpuint((out[2] >> 3) & 0x0F, ==, 2);
	g_free(copy);

	/* A response is never answered; a short packet is dropped. */
	copy = g_memdup2(query, len);
	copy[2] |= 0x80;
	g_assert_cmpuint(dns_store_answer(store, copy, len, FALSE, out, sizeof out), ==, 0);
	g_assert_cmpuint(dns_store_answer(store, query, 11, FALSE, out, sizeof out), ==, 0);
	g_free(copy);

	/* Every truncation of a good query is answered FORMERR or dropped. */
	for (gsize cut = 12; cut < len; cut++) {
		n = dns_store_answer(store, query, cut, FALSE, out, sizeof out);
		if (n)
			g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_FORMERR);
	}
	/* Trailing garbage: FORMERR. */
	copy = g_malloc(len + 3);
	memcpy(copy, query, len);
	memset(copy + len, 0xAB, 3);
	n = dns_store_answer(store, copy, len + 3, FALSE, out, sizeof out);
	g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_FORMERR);
	g_free(copy);
	/* A compression pointer in the question: FORMERR. */
	copy = g_memdup2(query, len);
	copy[12] = 0xC0;
	copy[13] = 0x0C;
	n = dns_store_answer(store, copy, len, FALSE, out, sizeof out);
	g_assert_cmpuint(n, ==, 12);
	g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_FORMERR);
	g_free(copy);
	g_free(query);

	/* Class CH: REFUSED. AXFR: NOTIMP. */
	ldns_pkt *pkt = NULL;
	g_assert_cmpint(ldns_pkt_query_new_frm_str(&pkt, "mx.miek.nl.", LDNS_RR_TYPE_A,
	                                           LDNS_RR_CLASS_CH, 0),
	                ==, LDNS_STATUS_OK);
	guint8 *wire = NULL;
	size_t size = 0;
	ldns_pkt2wire(&wire, pkt, &size);
	ldns_pkt_free(pkt);
	n = dns_store_answer(store, wire, size, FALSE, out, sizeof out);
	g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_REFUSED);
	free(wire);
	pkt = ask(store, "miek.nl.", LDNS_RR_TYPE_AXFR, 0, TRUE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

/* Priority-1 rcode and flag rules (issue 22). */

/* A CNAME whose target is missing under an SOA the element holds: the
 * element is authoritative for the target, so NXDOMAIN with that SOA
 * (RFC 6604 2.1: the rcode is that of the last name of the chain). */
static void
test_answer_cname_nxdomain(void)
{
	static const char *const recs[] = {
	        "ex.test. 3600 IN SOA ns.ex.test. me.ex.test. 1 2 3 4 120",
	        "c.ex.test. 60 IN CNAME missing.ex.test.",
	        "c2.ex.test. 60 IN CNAME c.ex.test.",
	        "out.ex.test. 60 IN CNAME elsewhere.example.",
	        NULL,
	};
	DnsStore *store = store_with(recs);
	ldns_pkt *pkt = ask(store, "c.ex.test.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	g_assert_true(ldns_pkt_aa(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	g_assert_cmpuint(count_type(ldns_pkt_authority(pkt), LDNS_RR_TYPE_SOA), ==, 1);
	char *t = rr_text(ldns_pkt_authority(pkt), 0);
	g_assert_cmpstr(t, ==, "ex.test.\t120\tIN\tSOA\tns.ex.test. me.ex.test. 1 2 3 4 120");
	g_free(t);
	ldns_pkt_free(pkt);
	/* Two links, the last one dangling. */
	pkt = ask(store, "c2.ex.test.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 2);
	g_assert_cmpuint(count_type(ldns_pkt_authority(pkt), LDNS_RR_TYPE_SOA), ==, 1);
	ldns_pkt_free(pkt);
	/* A target under no SOA the element holds is not ours: NOERROR. */
	pkt = ask(store, "out.ex.test.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	g_assert_cmpuint(ldns_pkt_nscount(pkt), ==, 0);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

/* Appends @extra to the RDATA of the OPT record that ends @query. */
static guint8 *
with_opt_rdata(const guint8 *query, gsize len, const guint8 *extra, gsize n, gsize *out_len)
{
	guint8 *copy = g_malloc(len + n);
	memcpy(copy, query, len);
	memcpy(copy + len, extra, n);
	copy[len - 2] = (guint8)(n >> 8);
	copy[len - 1] = (guint8)n;
	*out_len = len + n;
	return copy;
}

/* An OPT whose options do not fill its RDATA exactly: FORMERR (RFC 6891
 * 6.1.2), as NSD answers; a well-formed option is answered normally. */
static void
test_answer_edns_options(void)
{
	DnsStore *store = store_with(zone);
	gsize len = 0, bad_len = 0;
	guint8 *query = make_query("mx.miek.nl.", LDNS_RR_TYPE_A, 1232, FALSE, &len);
	guint8 out[512];
	/* A cookie option (code 10) with its 8 bytes: fine. */
	static const guint8 cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	guint8 *q = with_opt_rdata(query, len, cookie, sizeof cookie, &bad_len);
	gsize n = dns_store_answer(store, q, bad_len, FALSE, out, sizeof out);
	g_assert_cmpuint(n, >, 12);
	g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_NOERROR);
	g_assert_cmpuint(dns_get_ancount(out), ==, 1);
	g_free(q);
	/* A length longer than what is left, a cut-off option header, and
	 * a short option after a good one. */
	static const guint8 long_len[] = {0, 10, 0, 8, 1, 2, 3, 4};
	static const guint8 cut_head[] = {0, 10, 0};
	static const guint8 tail[] = {0, 10, 0, 2, 1, 2, 0, 8, 0};
	const guint8 *bad[] = {long_len, cut_head, tail};
	const gsize sizes[] = {sizeof long_len, sizeof cut_head, sizeof tail};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		q = with_opt_rdata(query, len, bad[i], sizes[i], &bad_len);
		n = dns_store_answer(store, q, bad_len, FALSE, out, sizeof out);
		g_assert_cmpuint(n, >=, 12);
		g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_FORMERR);
		g_free(q);
	}
	g_free(query);
	dns_store_free(store);
}

/* Appends a TSIG record signed with key "unknown-key." to @query. */
static guint8 *
with_tsig(const guint8 *query, gsize len, gsize *out_len)
{
	GByteArray *b = g_byte_array_new();
	g_byte_array_append(b, query, (guint)len);
	static const guint8 owner[] = {7, 'u', 'n', 'k', 'n', 'o', 'w', 'n', 3, 'k', 'e', 'y', 0};
	static const guint8 head[] = {0, 250, 0, 255, 0, 0, 0, 0};
	static const guint8 alg[] = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0};
	static const guint8 time_fudge[] = {0, 0, 0x60, 0, 0, 1, 1, 44};
	guint8 mac[2 + 32] = {0, 32};
	memset(mac + 2, 0x5A, 32);
	static const guint8 rest[] = {0x12, 0x34, 0, 0, 0, 0};
	guint16 rdlen = sizeof alg + sizeof time_fudge + sizeof mac + sizeof rest;
	g_byte_array_append(b, owner, sizeof owner);
	g_byte_array_append(b, head, sizeof head);
	guint8 rl[2] = {(guint8)(rdlen >> 8), (guint8)rdlen};
	g_byte_array_append(b, rl, 2);
	g_byte_array_append(b, alg, sizeof alg);
	g_byte_array_append(b, time_fudge, sizeof time_fudge);
	g_byte_array_append(b, mac, sizeof mac);
	g_byte_array_append(b, rest, sizeof rest);
	b->data[11]++; /* ARCOUNT */
	*out_len = b->len;
	return g_byte_array_free(b, FALSE);
}

/* A query signed with a key the element does not know: NOTAUTH with an
 * unsigned TSIG whose error is BADKEY (RFC 8945 5.2.2 and 5.3.2). */
static void
test_answer_tsig_badkey(void)
{
	DnsStore *store = store_with(zone);
	for (guint edns = 0; edns <= 1; edns++) {
		gsize len = 0, tlen = 0;
		guint8 *query =
		        make_query("mx.miek.nl.", LDNS_RR_TYPE_A, edns ? 1232 : 0, FALSE, &len);
		guint8 *signed_q = with_tsig(query, len, &tlen);
		ldns_pkt *pkt = answer_bytes(store, signed_q, tlen, FALSE, NULL);
		g_assert_nonnull(pkt);
		g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOTAUTH);
		g_assert_cmpint(ldns_pkt_id(pkt), ==, 0x1234);
		g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 0);
		g_assert_cmpint(ldns_pkt_edns(pkt), ==, edns ? 1 : 0);
		ldns_rr *tsig = ldns_pkt_tsig(pkt);
		g_assert_nonnull(tsig);
		char *owner = ldns_rdf2str(ldns_rr_owner(tsig));
		g_assert_cmpstr(owner, ==, "unknown.key.");
		free(owner);
		char *alg = ldns_rdf2str(ldns_rr_rdf(tsig, 0));
		g_assert_cmpstr(alg, ==, "hmac-sha256.");
		free(alg);
		/* MAC size 0, original ID, error 17 (BADKEY). */
		g_assert_cmpuint(ldns_rdf_size(ldns_rr_rdf(tsig, 3)), ==, 2);
		g_assert_cmpuint(ldns_rdf2native_int16(ldns_rr_rdf(tsig, 4)), ==, 0x1234);
		g_assert_cmpuint(ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5)), ==, 17);
		ldns_pkt_free(pkt);
		/* A TSIG that is not the last record: FORMERR (RFC 8945 5.1). */
		if (!edns) {
			guint8 *opt_after = NULL;
			gsize olen = 0;
			guint8 *e = make_query("mx.miek.nl.", LDNS_RR_TYPE_A, 1232, FALSE, &olen);
			opt_after = g_malloc(tlen + 11);
			memcpy(opt_after, signed_q, tlen);
			memcpy(opt_after + tlen, e + olen - 11, 11);
			opt_after[11]++;
			guint8 out[512];
			gsize n = dns_store_answer(store, opt_after, tlen + 11, FALSE, out,
			                           sizeof out);
			g_assert_cmpuint(n, >=, 12);
			g_assert_cmpuint(out[3] & 0x0F, ==, LDNS_RCODE_FORMERR);
			g_free(opt_after);
			g_free(e);
		}
		g_free(signed_q);
		g_free(query);
	}
	dns_store_free(store);
}

/* QCLASS ANY: answered from the IN data, never with AA (the element is
 * not authoritative for every class), as NSD answers. */
static void
test_answer_class_any(void)
{
	DnsStore *store = store_with(zone);
	const char *names[] = {"mx.miek.nl.", "nope.miek.nl."};
	const ldns_pkt_rcode rcodes[] = {LDNS_RCODE_NOERROR, LDNS_RCODE_NXDOMAIN};
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		ldns_pkt *query = NULL;
		g_assert_cmpint(ldns_pkt_query_new_frm_str(&query, names[i], LDNS_RR_TYPE_A,
		                                           LDNS_RR_CLASS_ANY, LDNS_RD),
		                ==, LDNS_STATUS_OK);
		guint8 *wire = NULL;
		size_t size = 0;
		g_assert_cmpint(ldns_pkt2wire(&wire, query, &size), ==, LDNS_STATUS_OK);
		ldns_pkt_free(query);
		ldns_pkt *pkt = answer_bytes(store, wire, size, FALSE, NULL);
		free(wire);
		g_assert_nonnull(pkt);
		g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, rcodes[i]);
		g_assert_false(ldns_pkt_aa(pkt));
		g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, i == 0 ? 1 : 0);
		ldns_pkt_free(pkt);
		/* The IN answer, cached meanwhile, keeps AA. */
		pkt = ask(store, names[i], LDNS_RR_TYPE_A, 0, FALSE, NULL);
		g_assert_true(ldns_pkt_aa(pkt));
		ldns_pkt_free(pkt);
	}
	dns_store_free(store);
}

/* A zone with wildcards, a delegation with glue, and a DNAME. */
static const char *const authority_zone[] = {
        "ex.test. 3600 IN SOA ns.ex.test. me.ex.test. 1 2 3 4 120",
        "ex.test. 3600 IN NS ns.ex.test.",
        "ns.ex.test. 3600 IN A 192.0.2.53",
        "*.w.ex.test. 60 IN A 192.0.2.10",
        "*.w.ex.test. 60 IN TXT \"wild\"",
        "real.w.ex.test. 60 IN TXT \"real\"",
        "deep.ent.w.ex.test. 60 IN A 192.0.2.11",
        "*.c.ex.test. 60 IN CNAME www.ex.test.",
        "www.ex.test. 60 IN A 192.0.2.1",
        "sub.ex.test. 3600 IN NS ns1.sub.ex.test.",
        "sub.ex.test. 3600 IN NS ns.other.example.",
        "sub.ex.test. 3600 IN DS 12345 8 2 "
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "ns1.sub.ex.test. 3600 IN A 192.0.2.54",
        "ns1.sub.ex.test. 3600 IN AAAA 2001:db8::54",
        "old.ex.test. 300 IN DNAME new.ex.test.",
        "old.ex.test. 300 IN A 192.0.2.99",
        "x.new.ex.test. 60 IN A 192.0.2.12",
        NULL,
};

/* The owner names of a section, as text, joined with spaces. */
static char *
owners(ldns_rr_list *list)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
		char *o = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(list, i)));
		char *t = ldns_rr_type2str(ldns_rr_get_type(ldns_rr_list_rr(list, i)));
		g_string_append_printf(s, "%s%s/%s", i ? " " : "", o, t);
		free(o);
		free(t);
	}
	return g_string_free(s, FALSE);
}

/* Asks and checks rcode, AA and the three sections (owner/type lists). */
static void
check(DnsStore *store, const char *name, ldns_rr_type type, ldns_pkt_rcode rcode, gboolean aa,
      const char *answer, const char *authority, const char *additional)
{
	ldns_pkt *pkt = ask(store, name, type, 0, TRUE, NULL);
	g_test_message("%s %d", name, type);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, rcode);
	g_assert_cmpint(ldns_pkt_aa(pkt), ==, aa);
	char *an = owners(ldns_pkt_answer(pkt)), *ns = owners(ldns_pkt_authority(pkt)),
	     *ar = owners(ldns_pkt_additional(pkt));
	g_assert_cmpstr(an, ==, answer);
	g_assert_cmpstr(ns, ==, authority);
	g_assert_cmpstr(ar, ==, additional);
	g_free(an);
	g_free(ns);
	g_free(ar);
	ldns_pkt_free(pkt);
}

/* RFC 4592: synthesis from "*" under the closest encloser only. */
static void
test_answer_wildcard(void)
{
	DnsStore *store = store_with(authority_zone);
	check(store, "foo.w.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE, "foo.w.ex.test./A",
	      "", "");
	check(store, "a.b.w.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, TRUE,
	      "a.b.w.ex.test./TXT", "", "");
	/* The wildcard has no MX: NODATA with the SOA. */
	check(store, "foo.w.ex.test.", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, TRUE, "",
	      "ex.test./SOA", "");
	/* A name that exists is not synthesized, not even for other types. */
	check(store, "real.w.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE, "",
	      "ex.test./SOA", "");
	/* An empty non-terminal is not synthesized; below it, the closest
	 * encloser is the ENT, which has no "*": NXDOMAIN. */
	check(store, "ent.w.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE, "", "ex.test./SOA",
	      "");
	check(store, "x.ent.w.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, TRUE, "",
	      "ex.test./SOA", "");
	/* The closest encloser of x.real.w is real.w: no "*" there. */
	check(store, "x.real.w.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, TRUE, "",
	      "ex.test./SOA", "");
	/* "*" itself is an ordinary name when asked for. */
	check(store, "*.w.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE, "*.w.ex.test./A", "",
	      "");
	/* A wildcard CNAME is synthesized and followed. */
	check(store, "any.c.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE,
	      "any.c.ex.test./CNAME www.ex.test./A", "", "");
	/* The cache keeps synthesized answers per name. */
	check(store, "foo.w.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE, "foo.w.ex.test./A",
	      "", "");
	dns_store_free(store);
}

/* Referrals: NS in authority, glue in additional, AA clear; glue and
 * anything at or under the cut is referred, never answered. */
static void
test_answer_delegation(void)
{
	DnsStore *store = store_with(authority_zone);
	const char *ns = "sub.ex.test./NS sub.ex.test./NS";
	const char *glue = "ns1.sub.ex.test./A ns1.sub.ex.test./AAAA";
	check(store, "sub.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, FALSE, "", ns, glue);
	check(store, "sub.ex.test.", LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR, FALSE, "", ns, glue);
	check(store, "www.sub.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, FALSE, "", ns, glue);
	check(store, "ns1.sub.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, FALSE, "", ns, glue);
	/* DS lives on the parent's side: answered authoritatively. */
	check(store, "sub.ex.test.", LDNS_RR_TYPE_DS, LDNS_RCODE_NOERROR, TRUE, "sub.ex.test./DS",
	      "", "");
	/* NS at the apex (with the SOA) is authoritative data. */
	check(store, "ex.test.", LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR, TRUE, "ex.test./NS", "",
	      "ns.ex.test./A");
	/* NS under no SOA is the data's own, as before. */
	g_assert_true(dns_store_add(store, "plain.example. NS ns.plain.example.", NULL, NULL));
	g_assert_true(dns_store_add(store, "www.plain.example. A 192.0.2.7", NULL, NULL));
	check(store, "www.plain.example.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE,
	      "www.plain.example./A", "", "");
	dns_store_free(store);
}

/* RFC 6672: the DNAME and a synthesized CNAME, then the new name. */
static void
test_answer_dname(void)
{
	DnsStore *store = store_with(authority_zone);
	check(store, "x.old.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE,
	      "old.ex.test./DNAME x.old.ex.test./CNAME x.new.ex.test./A", "", "");
	ldns_pkt *pkt = ask(store, "x.old.ex.test.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	char *t = rr_text(ldns_pkt_answer(pkt), 1);
	g_assert_cmpstr(t, ==, "x.old.ex.test.\t300\tIN\tCNAME\tx.new.ex.test.");
	g_free(t);
	ldns_pkt_free(pkt);
	/* A question for CNAME is answered by the synthesized CNAME. */
	check(store, "y.old.ex.test.", LDNS_RR_TYPE_CNAME, LDNS_RCODE_NOERROR, TRUE,
	      "old.ex.test./DNAME y.old.ex.test./CNAME", "", "");
	/* The new name is missing under our SOA: NXDOMAIN. */
	check(store, "y.old.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, TRUE,
	      "old.ex.test./DNAME y.old.ex.test./CNAME", "ex.test./SOA", "");
	/* The DNAME's own name is not substituted. */
	check(store, "old.ex.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, TRUE, "old.ex.test./A", "",
	      "");
	check(store, "old.ex.test.", LDNS_RR_TYPE_DNAME, LDNS_RCODE_NOERROR, TRUE,
	      "old.ex.test./DNAME", "", "");
	/* A substitution longer than 255 bytes: YXDOMAIN. */
	GString *longname = g_string_new("");
	for (guint i = 0; i < 3; i++)
		g_string_append_printf(
		        longname, "%s.",
		        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	g_string_append(longname, "short.ex.test.");
	GString *target = g_string_new("");
	for (guint i = 0; i < 3; i++)
		g_string_append(target, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
	g_string_append(target, "ex.test.");
	char *rec = g_strdup_printf("short.ex.test. 60 IN DNAME %s", target->str);
	g_assert_true(dns_store_add(store, rec, NULL, NULL));
	g_free(rec);
	pkt = ask(store, longname->str, LDNS_RR_TYPE_A, 0, TRUE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_YXDOMAIN);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	ldns_pkt_free(pkt);
	g_string_free(longname, TRUE);
	g_string_free(target, TRUE);
	dns_store_free(store);
}

/* The shortcut for A and AAAA (written straight from the records) gives
 * the same bytes as the answer built with ldns, which data holding a
 * DNAME (anywhere) always takes. */
static void
test_answer_direct(void)
{
	static const char *const recs[] = {
	        "multi.d.test. 60 IN A 192.0.2.1",
	        "multi.d.test. 61 IN A 192.0.2.2",
	        "multi.d.test. 62 IN AAAA 2001:db8::2",
	        "multi.d.test. 63 IN TXT \"t\"",
	        NULL,
	};
	DnsStore *direct = store_with(recs);
	DnsStore *built = store_with(recs);
	g_assert_true(dns_store_add(built, "elsewhere.test. 60 IN DNAME x.test.", NULL, NULL));
	static const struct {
		const char *name;
		ldns_rr_type type;
		guint16 edns;
		gboolean tcp;
	} cases[] = {
	        {"multi.d.test.", LDNS_RR_TYPE_A, 0, FALSE},
	        {"MULTI.d.TEST.", LDNS_RR_TYPE_A, 1232, FALSE},
	        {"multi.d.test.", LDNS_RR_TYPE_AAAA, 4096, FALSE},
	        {"multi.d.test.", LDNS_RR_TYPE_A, 0, TRUE},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		gsize len = 0;
		guint8 *query =
		        make_query(cases[i].name, cases[i].type, cases[i].edns, i == 2, &len);
		static guint8 a[DNS_MAX_MESSAGE], b[DNS_MAX_MESSAGE];
		gsize na = dns_store_answer(direct, query, len, cases[i].tcp, a, sizeof a);
		gsize nb = dns_store_answer(built, query, len, cases[i].tcp, b, sizeof b);
		g_assert_cmpuint(na, >, 12);
		g_assert_cmpmem(a, na, b, nb);
		g_free(query);
	}
	g_assert_cmpuint(dns_store_cache_size(direct), ==, 0);
	/* One answer for A (whatever the spelling or transport), one for AAAA. */
	g_assert_cmpuint(dns_store_cache_size(built), ==, 2);
	dns_store_free(direct);
	dns_store_free(built);
}

/* An answer that does not fit over UDP is truncated (TC, no records) on
 * the shortcut too. */
static void
test_answer_direct_truncated(void)
{
	DnsStore *store = dns_store_new();
	for (guint i = 0; i < 60; i++) {
		char *rr = g_strdup_printf("big.d.test. 60 IN A 10.0.0.%u", i);
		g_assert_true(dns_store_add(store, rr, NULL, NULL));
		g_free(rr);
	}
	gsize n = 0;
	ldns_pkt *pkt = ask(store, "big.d.test.", LDNS_RR_TYPE_A, 0, FALSE, &n);
	g_assert_true(ldns_pkt_tc(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 0);
	ldns_pkt_free(pkt);
	pkt = ask(store, "big.d.test.", LDNS_RR_TYPE_A, 0, TRUE, &n);
	g_assert_false(ldns_pkt_tc(pkt));
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 60);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

/* Many records at one name: each is compared with its name's records
 * (bytes first), duplicates are kept once, all are answered over TCP. */
static void
test_many_at_one_name(void)
{
	GString *text = g_string_new(NULL);
	for (guint i = 0; i < 3000; i++)
		g_string_append_printf(text, "rr.m.test. 60 IN A 10.%u.%u.1\n", i / 256, i % 256);
	g_string_append(text, "RR.m.test. 99 IN A 10.0.7.1\n");
	DnsStore *store = dns_store_new();
	guint added = 0;
	g_assert_true(dns_store_load(store, text->str, &added, NULL));
	g_string_free(text, TRUE);
	g_assert_cmpuint(added, ==, 3000);
	g_assert_cmpuint(dns_store_count(store), ==, 3000);
	g_assert_cmpuint(dns_store_name_count(store), ==, 1);
	ldns_pkt *pkt = ask(store, "rr.m.test.", LDNS_RR_TYPE_A, 0, TRUE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 3000);
	/* The duplicate's TTL was taken. */
	g_assert_cmpuint(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(pkt), 7)), ==, 99);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

/* A step of a load copies at most its budget of the current records, not
 * of names: 40 names of 500 records each take 40 steps of 512 (the old
 * code copied all 20,000 records in one step). */
static void
test_load_copy_budget(void)
{
	GString *text = g_string_new(NULL);
	for (guint n = 0; n < 40; n++)
		for (guint i = 0; i < 500; i++)
			g_string_append_printf(text, "n%u.cb.test. 60 IN A 10.%u.%u.%u\n", n, n,
			                       i / 256, i % 256);
	DnsStore *store = dns_store_new();
	g_assert_true(dns_store_load(store, text->str, NULL, NULL));
	g_string_free(text, TRUE);
	g_assert_cmpuint(dns_store_count(store), ==, 20000);
	DnsStoreLoad *load =
	        dns_store_load_start(store, g_strdup("new.cb.test. A 192.0.2.1"), NULL);
	guint steps = 1, added = 0;
	while (dns_store_load_step(load, DNS_STORE_LOAD_STEP, &added, NULL) == DNS_STORE_LOAD_MORE)
		steps++;
	g_assert_cmpuint(steps, >=, 20000 / DNS_STORE_LOAD_STEP);
	g_assert_cmpuint(added, ==, 1);
	g_assert_cmpuint(dns_store_count(store), ==, 20001);
	dns_store_free(store);
}

/* Records added to a name that holds many cost a step more than one each:
 * 4,000 TXT records at one name take many more steps than 4,000 / 512
 * (they took 8 when every line counted one, the last ones each scanning and
 * copying ~60 KiB, so one step held the loop for most of a second at
 * 30,000). */
static void
test_load_step_weight(void)
{
	GString *text = g_string_new(NULL);
	for (guint i = 0; i < 4000; i++)
		g_string_append_printf(text, "big.sw.test. 60 IN TXT \"r%06u\"\n", i);
	DnsStore *store = dns_store_new();
	DnsStoreLoad *load = dns_store_load_start(store, g_string_free(text, FALSE), NULL);
	g_assert_nonnull(load);
	guint steps = 1, added = 0;
	while (dns_store_load_step(load, DNS_STORE_LOAD_STEP, &added, NULL) == DNS_STORE_LOAD_MORE)
		steps++;
	g_assert_cmpuint(added, ==, 4000);
	g_assert_cmpuint(dns_store_count(store), ==, 4000);
	/* The name's records are ~17 bytes each: the last lines weigh ~67. */
	g_assert_cmpuint(steps, >=, 100);
	dns_store_free(store);
}

/* RFC 3597's generic form must give exactly the data of the type: ldns
 * keeps the first 4 bytes of "A \# 8 ..." and drops the rest without a
 * word, so such text is refused; the right length is taken. */
static void
test_generic_length(void)
{
	DnsStore *store = dns_store_new();
	const char *bad[] = {
	        "a.gl.test. 60 IN A \\# 8 0102030405060708",
	        "a.gl.test. 60 IN TYPE1 \\# 5 0102030405",
	        "a.gl.test. 60 IN AAAA \\# 20 0102030405060708090a0b0c0d0e0f1011121314",
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		GError *error = NULL;
		g_assert_false(dns_store_add(store, bad[i], NULL, &error));
		g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
		g_assert_nonnull(strstr(error->message, "\\#"));
		g_clear_error(&error);
	}
	GError *error = NULL;
	g_assert_false(dns_store_load(
	        store, "b.gl.test. A 192.0.2.1\nc.gl.test. A \\# 8 0102030405060708\n", NULL,
	        &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	g_assert_true(g_str_has_prefix(error->message, "line 2: "));
	g_clear_error(&error);
	g_assert_cmpuint(dns_store_count(store), ==, 0);
	g_assert_true(dns_store_add(store, "a.gl.test. 60 IN A \\# 4 01020304", NULL, NULL));
	g_assert_true(dns_store_add(store, "a.gl.test. 60 IN TXT \\# 3 026869", NULL, NULL));
	g_assert_true(dns_store_add(store, "a.gl.test. 60 IN TYPE65280 \\# 0", NULL, NULL));
	g_assert_true(
	        dns_store_add(store, "a.gl.test. 60 IN TXT \"\\\\# 9 not generic\"", NULL, NULL));
	g_assert_cmpuint(dns_store_count(store), ==, 4);
	dns_store_free(store);
}

/* Record text longer than ldns reads (it cuts the data's text at 65,534
 * characters without a word) is refused, by set and by load, instead of
 * being stored cut short; text just within the limit keeps every part. */
static void
test_long_text(void)
{
	DnsStore *store = dns_store_new();
	GString *line = g_string_new("long.lt.test. 60 IN TXT");
	for (guint i = 0; i < 5000; i++)
		g_string_append(line, " \"yyyyyyyyyy\"");
	/* 65,023 characters: all 5,000 strings are kept. */
	g_assert_true(dns_store_add(store, line->str, NULL, NULL));
	ldns_pkt *pkt = ask(store, "long.lt.test.", LDNS_RR_TYPE_TXT, 0, TRUE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	g_assert_cmpuint(ldns_rr_rd_count(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0)), ==, 5000);
	ldns_pkt_free(pkt);
	/* 5,100 strings: 66,323 characters, of which ldns would keep 5,041. */
	for (guint i = 0; i < 100; i++)
		g_string_append(line, " \"zzzzzzzzzz\"");
	GError *error = NULL;
	g_assert_false(dns_store_add(store, line->str, NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "too long"));
	g_clear_error(&error);
	g_string_prepend(line, "ok.lt.test. A 192.0.2.1\n");
	g_assert_false(dns_store_load(store, line->str, NULL, &error));
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	g_assert_true(g_str_has_prefix(error->message, "line 2: "));
	g_clear_error(&error);
	g_assert_cmpuint(dns_store_count(store), ==, 1);
	g_string_free(line, TRUE);
	dns_store_free(store);
}

/* Peek's Records stay within the budget (the core's reply frame is capped
 * at 1 MiB, twice peek's budget): a name whose records would pass it is
 * left out whole, however large, and so is a name full of characters that
 * JSON escapes (a quote in a TXT is \" in the text and \\\" in JSON). */
static void
test_records_json_budget(void)
{
	const gsize budget = 512 * 1024;
	DnsStore *store = dns_store_new();
	g_assert_true(dns_store_add(store, "a.pb.test. 60 IN A 192.0.2.1", NULL, NULL));
	/* 40 records of about 50 KB at one name: 2 MB of text. */
	GString *line = g_string_new(NULL);
	for (guint i = 0; i < 40; i++) {
		g_string_printf(line, "big.pb.test. 60 IN TXT \"%u\"", i);
		for (guint s = 0; s < 200; s++) {
			g_string_append(line, " \"");
			for (guint c = 0; c < 250; c++)
				g_string_append_c(line, 'x');
			g_string_append_c(line, '"');
		}
		g_assert_true(dns_store_add(store, line->str, NULL, NULL));
	}
	guint omitted = 0;
	JsonNode *json = dns_store_records_json(store, budget, &omitted);
	char *text = json_to_string(json, FALSE);
	g_assert_cmpuint(strlen(text), <=, budget);
	g_assert_true(json_object_has_member(json_node_get_object(json), "a.pb.test."));
	g_assert_cmpuint(omitted, ==, 40);
	g_free(text);
	json_node_unref(json);
	dns_store_free(store);

	/* 1,000 names of 200 quotes each: the JSON is twice the text. */
	store = dns_store_new();
	for (guint i = 0; i < 1000; i++) {
		g_string_printf(line, "q%04u.pb.test. 60 IN TXT \"", i);
		for (guint c = 0; c < 200; c++)
			g_string_append(line, "\\\"");
		g_string_append_c(line, '"');
		g_assert_true(dns_store_add(store, line->str, NULL, NULL));
	}
	json = dns_store_records_json(store, 64 * 1024, &omitted);
	text = json_to_string(json, FALSE);
	g_assert_cmpuint(strlen(text), <=, 64 * 1024);
	guint shown = json_object_get_size(json_node_get_object(json));
	g_assert_cmpuint(shown, >, 50);
	g_assert_cmpuint(shown + omitted, ==, 1000);
	g_free(text);
	json_node_unref(json);
	g_string_free(line, TRUE);
	dns_store_free(store);
}

/* The index of ancestors a replaced store held is freed a part at a time
 * too: 10,000 names under 10,000 parents are 20,000 parts (the old code
 * freed the 10,000 parents in one step). */
static void
test_reclaim_ancestors(void)
{
	GString *text = g_string_new(NULL);
	for (guint i = 0; i < 10000; i++)
		g_string_append_printf(text, "a.p%u.ra.test. 60 IN A 192.0.2.1\n", i);
	DnsStore *store = dns_store_new();
	g_assert_true(dns_store_load(store, text->str, NULL, NULL));
	g_string_free(text, TRUE);
	DnsStoreLoad *load =
	        dns_store_load_start(store, g_strdup("new.ra.test. A 192.0.2.1"), NULL);
	while (dns_store_load_step(load, DNS_STORE_LOAD_STEP, NULL, NULL) == DNS_STORE_LOAD_MORE)
		;
	guint steps = 0;
	while (dns_store_reclaim(store, 1000))
		steps++;
	/* The swap's own step freed DNS_STORE_RECLAIM_STEP parts. */
	g_assert_cmpuint(steps, >=, (20000 - DNS_STORE_RECLAIM_STEP) / 1000);
	/* The new data's index is intact. */
	ldns_pkt *pkt = ask(store, "p7.ra.test.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	ldns_pkt_free(pkt);
	dns_store_free(store);
}

/* What a load replaced, and a cache emptied by a change, are freed a part
 * at a time (dns_store_reclaim), while the new data answers. */
static void
test_reclaim(void)
{
	GString *text = g_string_new(NULL);
	for (guint i = 0; i < 10000; i++)
		g_string_append_printf(text, "r%u.rc.test. 60 IN TXT \"%u\"\n", i, i);
	DnsStore *store = dns_store_new();
	g_assert_true(dns_store_load(store, text->str, NULL, NULL));
	g_string_free(text, TRUE);
	g_assert_false(dns_store_reclaim(store, 0));
	DnsStoreLoad *load =
	        dns_store_load_start(store, g_strdup("new.rc.test. A 192.0.2.1"), NULL);
	while (dns_store_load_step(load, DNS_STORE_LOAD_STEP, NULL, NULL) == DNS_STORE_LOAD_MORE)
		;
	/* 10,000 names replaced: more than the step freed when they were. */
	g_assert_true(dns_store_reclaim(store, 0));
	guint steps = 0;
	while (dns_store_reclaim(store, 1000))
		steps++;
	g_assert_cmpuint(steps, >=, 5);
	g_assert_cmpuint(dns_store_count(store), ==, 10001);
	/* A full cache emptied by a change. */
	for (guint i = 0; i < 10000; i++) {
		char name[32];
		g_snprintf(name, sizeof name, "r%u.rc.test.", i);
		ldns_pkt_free(ask(store, name, LDNS_RR_TYPE_TXT, 0, FALSE, NULL));
	}
	g_assert_cmpuint(dns_store_cache_size(store), ==, 10000);
	g_assert_true(dns_store_add(store, "more.rc.test. A 192.0.2.2", NULL, NULL));
	g_assert_cmpuint(dns_store_cache_size(store), ==, 0);
	g_assert_true(dns_store_reclaim(store, 0));
	ldns_pkt *pkt = ask(store, "r7.rc.test.", LDNS_RR_TYPE_TXT, 0, FALSE, NULL);
	g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
	ldns_pkt_free(pkt);
	/* Freeing the store frees what is left. */
	dns_store_free(store);
}

/* The rcode and the first answer's text of (@name, A). */
static char *
load_probe(DnsStore *store, const char *name, ldns_pkt_rcode *rcode)
{
	ldns_pkt *pkt = ask(store, name, LDNS_RR_TYPE_A, 0, FALSE, NULL);
	*rcode = ldns_pkt_get_rcode(pkt);
	char *text = ldns_pkt_ancount(pkt) ? rr_text(ldns_pkt_answer(pkt), 0) : g_strdup("");
	ldns_pkt_free(pkt);
	return text;
}

/* A load in steps: until its last step every query is answered from the
 * old records (an existing record keeps its old TTL, the new names do not
 * exist), changes are refused as busy, and after it all of the new data
 * answers at once. */
static void
test_load_steps(void)
{
	DnsStore *store = dns_store_new();
	g_assert_true(dns_store_add(store, "old.l.test. 300 IN A 192.0.2.1", NULL, NULL));
	GString *text = g_string_new("first.l.test. 60 IN A 192.0.2.2\n");
	for (guint i = 0; i < 5000; i++)
		g_string_append_printf(text, "n%u.l.test. 60 IN A 10.0.%u.%u\n", i, i / 256,
		                       i % 256);
	g_string_append(text, "old.l.test. 600 IN A 192.0.2.1\nlast.l.test. 60 IN A 192.0.2.3\n");
	GError *error = NULL;
	DnsStoreLoad *load = dns_store_load_start(store, g_string_free(text, FALSE), &error);
	g_assert_no_error(error);
	g_assert_nonnull(load);
	guint steps = 0, done = 0, total = 0, added = 0;
	DnsStoreLoadStatus st;
	while ((st = dns_store_load_step(load, 100, &added, &error)) == DNS_STORE_LOAD_MORE) {
		steps++;
		g_assert_true(dns_store_load_progress(store, &done, &total));
		g_assert_cmpuint(total, ==, 5003);
		ldns_pkt_rcode rcode;
		char *t = load_probe(store, "old.l.test.", &rcode);
		g_assert_cmpstr(t, ==, "old.l.test.\t300\tIN\tA\t192.0.2.1");
		g_free(t);
		t = load_probe(store, "first.l.test.", &rcode);
		g_assert_cmpint(rcode, ==, LDNS_RCODE_NXDOMAIN);
		g_free(t);
		g_assert_cmpuint(dns_store_count(store), ==, 1);
		/* Changes wait for the load: refused, retryable. */
		g_assert_false(dns_store_add(store, "x.l.test. A 192.0.2.9", NULL, &error));
		g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_BUSY);
		g_clear_error(&error);
		g_assert_false(dns_store_remove(store, "old.l.test.", NULL, NULL, &error));
		g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_BUSY);
		g_clear_error(&error);
		g_assert_null(
		        dns_store_load_start(store, g_strdup("y.l.test. A 192.0.2.9"), &error));
		g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_BUSY);
		g_clear_error(&error);
	}
	g_assert_no_error(error);
	g_assert_cmpint(st, ==, DNS_STORE_LOAD_DONE);
	g_assert_cmpuint(steps, >=, 49);
	g_assert_cmpuint(added, ==, 5002);
	g_assert_false(dns_store_load_progress(store, NULL, NULL));
	ldns_pkt_rcode rcode;
	char *t = load_probe(store, "old.l.test.", &rcode);
	g_assert_cmpstr(t, ==, "old.l.test.\t600\tIN\tA\t192.0.2.1");
	g_free(t);
	t = load_probe(store, "last.l.test.", &rcode);
	g_assert_cmpstr(t, ==, "last.l.test.\t60\tIN\tA\t192.0.2.3");
	g_free(t);
	g_assert_cmpuint(dns_store_count(store), ==, 5003);
	/* Changes are taken again. */
	g_assert_true(dns_store_add(store, "x.l.test. A 192.0.2.9", NULL, NULL));

	/* A bad line late in a stepped load: nothing of it is applied, the
	 * old data stays, and the records copied in are dropped. */
	text = g_string_new(NULL);
	for (guint i = 0; i < 1000; i++)
		g_string_append_printf(text, "m%u.l.test. 60 IN A 10.1.%u.%u\n", i, i / 256,
		                       i % 256);
	g_string_append(text, "bad.l.test. 60 IN A nope\n");
	load = dns_store_load_start(store, g_string_free(text, FALSE), NULL);
	while ((st = dns_store_load_step(load, 64, NULL, &error)) == DNS_STORE_LOAD_MORE)
		;
	g_assert_cmpint(st, ==, DNS_STORE_LOAD_FAILED);
	g_assert_error(error, DNS_STORE_ERROR, DNS_STORE_ERROR_INVALID);
	g_assert_true(g_str_has_prefix(error->message, "line 1001: "));
	g_clear_error(&error);
	g_assert_cmpuint(dns_store_count(store), ==, 5004);
	t = load_probe(store, "m0.l.test.", &rcode);
	g_assert_cmpint(rcode, ==, LDNS_RCODE_NXDOMAIN);
	g_free(t);

	/* A load cancelled (its client went away) changes nothing; freeing
	 * a store with a load in progress frees the load. */
	load = dns_store_load_start(store, g_strdup("c.l.test. A 192.0.2.4\n"), NULL);
	dns_store_load_cancel(load);
	g_assert_cmpuint(dns_store_count(store), ==, 5004);
	g_assert_true(dns_store_add(store, "y.l.test. A 192.0.2.9", NULL, NULL));
	load = dns_store_load_start(store, g_strdup("c.l.test. A 192.0.2.4\n"), NULL);
	g_assert_nonnull(load);
	dns_store_free(store);
}

/* A full answer cache evicts gradually (clock): past its bound of 65,536
 * answers it stays full instead of being emptied at once. */
static void
test_answer_cache_eviction(void)
{
	const guint n = 70000, bound = 65536;
	GString *text = g_string_new(NULL);
	for (guint i = 0; i < n; i++)
		g_string_append_printf(text, "n%u.ev.test. 60 IN TXT \"%u\"\n", i, i);
	DnsStore *store = dns_store_new();
	g_assert_true(dns_store_load(store, text->str, NULL, NULL));
	g_string_free(text, TRUE);
	gsize len = 0;
	/* TXT: A and AAAA answers are not cached (see test_answer_direct). */
	guint8 *hot = make_query("n0.ev.test.", LDNS_RR_TYPE_TXT, 0, FALSE, &len);
	static guint8 out[512];
	guint low = G_MAXUINT;
	for (guint i = 0; i < n; i++) {
		char name[32];
		g_snprintf(name, sizeof name, "n%u.ev.test.", i);
		gsize qlen = 0;
		guint8 *query = make_query(name, LDNS_RR_TYPE_TXT, 0, FALSE, &qlen);
		g_assert_cmpuint(dns_store_answer(store, query, qlen, FALSE, out, sizeof out), >,
		                 12);
		g_free(query);
		g_assert_cmpuint(dns_store_answer(store, hot, len, FALSE, out, sizeof out), >, 12);
		if (i >= bound)
			low = MIN(low, dns_store_cache_size(store));
	}
	g_assert_cmpuint(low, ==, bound);
	g_assert_cmpuint(dns_store_cache_size(store), ==, bound);
	/* A change of the data still drops every answer. */
	g_assert_true(dns_store_add(store, "extra.ev.test. A 192.0.2.1", NULL, NULL));
	g_assert_cmpuint(dns_store_cache_size(store), ==, 0);
	g_free(hot);
	dns_store_free(store);
}

/* 100,000 records, added one at a time as `set` does, then queried. */
static void
test_large(void)
{
	DnsStore *store = dns_store_new();
	gint64 t0 = g_get_monotonic_time();
	for (guint i = 0; i < 100000; i++) {
		char rec[128];
		g_snprintf(rec, sizeof rec, "host%u.big.example. 300 IN A 10.%u.%u.%u", i,
		           (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF);
		GError *error = NULL;
		gboolean ok = dns_store_add(store, rec, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(ok);
	}
	gint64 t1 = g_get_monotonic_time();
	g_assert_cmpuint(dns_store_count(store), ==, 100000);
	g_assert_cmpuint(dns_store_name_count(store), ==, 100000);
	guint8 out[1232];
	for (guint i = 0; i < 100000; i += 997) {
		char name[64];
		g_snprintf(name, sizeof name, "HOST%u.big.example.", i);
		gsize len = 0;
		guint8 *query = make_query(name, LDNS_RR_TYPE_A, 0, FALSE, &len);
		gsize n = dns_store_answer(store, query, len, FALSE, out, sizeof out);
		ldns_pkt *pkt = NULL;
		g_assert_cmpint(ldns_wire2pkt(&pkt, out, n), ==, LDNS_STATUS_OK);
		g_assert_cmpuint(ldns_pkt_ancount(pkt), ==, 1);
		char *addr = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0), 0));
		char want[32];
		g_snprintf(want, sizeof want, "10.%u.%u.%u", (i >> 16) & 0xFF, (i >> 8) & 0xFF,
		           i & 0xFF);
		g_assert_cmpstr(addr, ==, want);
		free(addr);
		ldns_pkt_free(pkt);
		g_free(query);
	}
	/* Peek's Records within a budget: the rest is counted, not shown. */
	guint omitted = 0;
	JsonNode *json = dns_store_records_json(store, 64 * 1024, &omitted);
	guint shown = json_object_get_size(json_node_get_object(json));
	char *text = json_to_string(json, TRUE);
	g_assert_cmpuint(strlen(text), <=, 2 * 64 * 1024);
	g_assert_cmpuint(shown, >, 100);
	g_assert_cmpuint(shown + omitted, ==, 100000);
	g_free(text);
	json_node_unref(json);
	json = dns_store_records_json(store, 0, &omitted);
	g_assert_cmpuint(omitted, ==, 0);
	g_assert_cmpuint(json_object_get_size(json_node_get_object(json)), ==, 100000);
	json_node_unref(json);

	/* Removing one of them leaves the others. */
	g_assert_true(dns_store_remove(store, "host500.big.example.", NULL, NULL, NULL));
	g_assert_cmpuint(dns_store_count(store), ==, 99999);
	ldns_pkt *pkt = ask(store, "host500.big.example.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(pkt);
	pkt = ask(store, "big.example.", LDNS_RR_TYPE_A, 0, FALSE, NULL);
	g_assert_cmpint(ldns_pkt_get_rcode(pkt), ==, LDNS_RCODE_NOERROR);
	ldns_pkt_free(pkt);
	g_test_message("100000 records added in %.2f s", (double)(t1 - t0) / 1e6);
	dns_store_free(store);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* ldns_rr_new_frm_str() mallocs and frees ~200 KiB of scratch per
	 * record; with glibc's default trim threshold every call then grows
	 * and shrinks the heap with brk(), which makes the 100,000-record test
	 * ten times slower on a busy machine. Timings are not what it tests. */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	g_test_add_func("/plugins/dns/store/add", test_add_and_records);
	g_test_add_func("/plugins/dns/store/invalid", test_invalid);
	g_test_add_func("/plugins/dns/store/remove", test_remove);
	g_test_add_func("/plugins/dns/store/load", test_load);
	g_test_add_func("/plugins/dns/store/large", test_large);
	g_test_add_func("/plugins/dns/answer/types", test_answer_types);
	g_test_add_func("/plugins/dns/answer/any", test_answer_any);
	g_test_add_func("/plugins/dns/answer/cname", test_answer_cname);
	g_test_add_func("/plugins/dns/answer/negative", test_answer_negative);
	g_test_add_func("/plugins/dns/answer/case", test_answer_case);
	g_test_add_func("/plugins/dns/answer/cache-invalidation", test_answer_cache_invalidation);
	g_test_add_func("/plugins/dns/answer/direct", test_answer_direct);
	g_test_add_func("/plugins/dns/answer/direct-truncated", test_answer_direct_truncated);
	g_test_add_func("/plugins/dns/store/load-steps", test_load_steps);
	g_test_add_func("/plugins/dns/store/many-at-one-name", test_many_at_one_name);
	g_test_add_func("/plugins/dns/store/reclaim", test_reclaim);
	g_test_add_func("/plugins/dns/store/reclaim-ancestors", test_reclaim_ancestors);
	g_test_add_func("/plugins/dns/store/long-text", test_long_text);
	g_test_add_func("/plugins/dns/store/generic-length", test_generic_length);
	g_test_add_func("/plugins/dns/store/load-copy-budget", test_load_copy_budget);
	g_test_add_func("/plugins/dns/store/load-step-weight", test_load_step_weight);
	g_test_add_func("/plugins/dns/store/records-json-budget", test_records_json_budget);
	g_test_add_func("/plugins/dns/answer/truncation", test_answer_truncation);
	g_test_add_func("/plugins/dns/answer/edns", test_answer_edns);
	g_test_add_func("/plugins/dns/answer/errors", test_answer_errors);
	g_test_add_func("/plugins/dns/answer/cname-nxdomain", test_answer_cname_nxdomain);
	g_test_add_func("/plugins/dns/answer/edns-options", test_answer_edns_options);
	g_test_add_func("/plugins/dns/answer/tsig-badkey", test_answer_tsig_badkey);
	g_test_add_func("/plugins/dns/answer/class-any", test_answer_class_any);
	g_test_add_func("/plugins/dns/answer/wildcard", test_answer_wildcard);
	g_test_add_func("/plugins/dns/answer/delegation", test_answer_delegation);
	g_test_add_func("/plugins/dns/answer/dname", test_answer_dname);
	g_test_add_func("/plugins/dns/answer/cache-eviction", test_answer_cache_eviction);
	return g_test_run();
}
