// SPDX-License-Identifier: Apache-2.0
//
// test_noise.c - tests lib/security/noise.c: the published test vectors
// of the NN family for 25519_ChaChaPoly_BLAKE2s, then tampering, wrong
// keys, nonce handling and misuse.
#include "security/noise.h"
#include "security/security.h"

#include <json-glib/json-glib.h>
#include <string.h>

static const guint8 test_psk_a[NOISE_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const guint8 test_psk_b[NOISE_KEY_LEN] = "0123456789abcdef0123456789abcdX";
static const guint8 test_prologue[] = "CIRC\x01\x01\x00\x00";

/* ---- helpers ----------------------------------------------------------- */

static GByteArray *
test_hex(const char *hex)
{
	gsize len = strlen(hex);
	g_assert_cmpuint(len % 2, ==, 0);
	GByteArray *out = g_byte_array_sized_new((guint)(len / 2));
	for (gsize i = 0; i < len; i += 2) {
		int hi = g_ascii_xdigit_value(hex[i]), lo = g_ascii_xdigit_value(hex[i + 1]);
		g_assert_cmpint(hi, >=, 0);
		g_assert_cmpint(lo, >=, 0);
		guint8 b = (guint8)(hi * 16 + lo);
		g_byte_array_append(out, &b, 1);
	}
	return out;
}

static void
test_assert_bytes(const guint8 *got, gsize got_len, const GByteArray *want)
{
	g_assert_cmpmem(got, got_len, want->data, want->len);
}

static const char *
test_vectors_path(void)
{
	const char *env = g_getenv("CIRCUIT_NOISE_VECTORS");
	return env && *env ? env : CIRCUIT_NOISE_VECTORS;
}

/* Psks of a vector side: an array of hex strings, or absent. */
static GByteArray *
test_vector_psks(JsonObject *v, const char *member, gsize *n)
{
	GByteArray *all = g_byte_array_new();
	*n = 0;
	if (!json_object_has_member(v, member))
		return all;
	JsonNode *node = json_object_get_member(v, member);
	g_assert_cmpint(JSON_NODE_TYPE(node), ==, JSON_NODE_ARRAY);
	JsonArray *arr = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		GByteArray *k = test_hex(json_array_get_string_element(arr, i));
		g_assert_cmpuint(k->len, ==, NOISE_KEY_LEN);
		g_byte_array_append(all, k->data, k->len);
		g_byte_array_unref(k);
		(*n)++;
	}
	return all;
}

static NoiseHandshake *
test_vector_side(JsonObject *v, const char *side, NoiseRole role)
{
	char *m_prologue = g_strdup_printf("%s_prologue", side);
	char *m_psks = g_strdup_printf("%s_psks", side);
	char *m_ephemeral = g_strdup_printf("%s_ephemeral", side);
	GByteArray *prologue = test_hex(json_object_get_string_member(v, m_prologue));
	gsize n_psks;
	GByteArray *psks = test_vector_psks(v, m_psks, &n_psks);
	GByteArray *eph = test_hex(json_object_get_string_member(v, m_ephemeral));
	GError *error = NULL;

	NoiseHandshake *hs = noise_handshake_new_named(
	        json_object_get_string_member(v, "protocol_name"), role, psks->data, n_psks,
	        prologue->data, prologue->len, &error);
	g_assert_no_error(error);
	g_assert_nonnull(hs);
	g_assert_cmpuint(eph->len, ==, NOISE_KEY_LEN);
	g_assert_true(noise_handshake_set_ephemeral(hs, eph->data, &error));
	g_assert_no_error(error);

	g_byte_array_unref(prologue);
	g_byte_array_unref(psks);
	g_byte_array_unref(eph);
	g_free(m_prologue);
	g_free(m_psks);
	g_free(m_ephemeral);
	return hs;
}

/* Runs one cacophony vector; messages alternate initiator, responder. */
static void
test_run_vector(JsonObject *v)
{
	const char *name = json_object_get_string_member(v, "protocol_name");
	g_test_message("vector %s", name);
	NoiseHandshake *init = test_vector_side(v, "init", NOISE_ROLE_INITIATOR);
	NoiseHandshake *resp = test_vector_side(v, "resp", NOISE_ROLE_RESPONDER);
	NoiseCipher *init_send = NULL, *init_recv = NULL, *resp_send = NULL, *resp_recv = NULL;
	JsonArray *messages = json_object_get_array_member(v, "messages");
	GError *error = NULL;
	guint n_transport = 0;

	g_assert_cmpuint(json_array_get_length(messages), >, 2);
	for (guint i = 0; i < json_array_get_length(messages); i++) {
		JsonObject *m = json_array_get_object_element(messages, i);
		GByteArray *payload = test_hex(json_object_get_string_member(m, "payload"));
		GByteArray *ct = test_hex(json_object_get_string_member(m, "ciphertext"));
		GByteArray *wire = g_byte_array_new();
		GByteArray *got = g_byte_array_new();
		bool from_init = i % 2 == 0;

		if (!init_send) {
			NoiseHandshake *w = from_init ? init : resp;
			NoiseHandshake *r = from_init ? resp : init;
			g_assert_cmpint(noise_handshake_get_action(w), ==, NOISE_ACTION_WRITE);
			g_assert_cmpint(noise_handshake_get_action(r), ==, NOISE_ACTION_READ);
			g_assert_true(noise_handshake_write_message(w, payload->data, payload->len,
			                                            wire, &error));
			g_assert_no_error(error);
			test_assert_bytes(wire->data, wire->len, ct);
			g_assert_true(noise_handshake_read_message(r, wire->data, wire->len, got,
			                                           &error));
			g_assert_no_error(error);
			test_assert_bytes(got->data, got->len, payload);
			if (noise_handshake_get_action(init) == NOISE_ACTION_SPLIT) {
				g_assert_cmpint(noise_handshake_get_action(resp), ==,
				                NOISE_ACTION_SPLIT);
				guint8 h_init[NOISE_HASH_LEN], h_resp[NOISE_HASH_LEN];
				g_assert_true(noise_handshake_get_hash(init, h_init));
				g_assert_true(noise_handshake_get_hash(resp, h_resp));
				g_assert_cmpmem(h_init, sizeof h_init, h_resp, sizeof h_resp);
				if (json_object_has_member(v, "handshake_hash")) {
					GByteArray *hh = test_hex(
					        json_object_get_string_member(v, "handshake_hash"));
					test_assert_bytes(h_init, sizeof h_init, hh);
					g_byte_array_unref(hh);
				}
				g_assert_true(noise_handshake_split(init, &init_send, &init_recv,
				                                    &error));
				g_assert_no_error(error);
				g_assert_true(noise_handshake_split(resp, &resp_send, &resp_recv,
				                                    &error));
				g_assert_no_error(error);
				/* The hash stays readable after the split. */
				g_assert_true(noise_handshake_get_hash(init, h_resp));
				g_assert_cmpmem(h_init, sizeof h_init, h_resp, sizeof h_resp);
			}
		} else {
			NoiseCipher *s = from_init ? init_send : resp_send;
			NoiseCipher *r = from_init ? resp_recv : init_recv;
			g_assert_true(noise_cipher_encrypt(s, NULL, 0, payload->data, payload->len,
			                                   wire, &error));
			g_assert_no_error(error);
			test_assert_bytes(wire->data, wire->len, ct);
			g_assert_true(noise_cipher_decrypt(r, NULL, 0, wire->data, wire->len, got,
			                                   &error));
			g_assert_no_error(error);
			test_assert_bytes(got->data, got->len, payload);
			n_transport++;
		}
		g_byte_array_unref(payload);
		g_byte_array_unref(ct);
		g_byte_array_unref(wire);
		g_byte_array_unref(got);
	}
	g_assert_nonnull(init_send);
	g_assert_cmpuint(n_transport, >, 0);
	noise_cipher_free(init_send);
	noise_cipher_free(init_recv);
	noise_cipher_free(resp_send);
	noise_cipher_free(resp_recv);
	noise_handshake_free(init);
	noise_handshake_free(resp);
}

static void
test_noise_vectors(void)
{
	const char *path = test_vectors_path();
	JsonParser *parser = json_parser_new();
	GError *error = NULL;
	guint n_run = 0, n_nnpsk0 = 0;

	g_test_message("vectors from %s", path);
	/* A missing file is a failure, never a skip: see issue 4. */
	json_parser_load_from_file(parser, path, &error);
	g_assert_no_error(error);
	JsonObject *root = json_node_get_object(json_parser_get_root(parser));
	g_assert_nonnull(root);
	JsonArray *vectors = json_object_get_array_member(root, "vectors");
	g_assert_nonnull(vectors);
	for (guint i = 0; i < json_array_get_length(vectors); i++) {
		JsonObject *v = json_array_get_object_element(vectors, i);
		const char *name = json_object_get_string_member(v, "protocol_name");
		/* Every vector in the file belongs to the family: none is skipped. */
		g_assert_true(g_str_has_prefix(name, "Noise_NN"));
		test_run_vector(v);
		n_run++;
		if (g_strcmp0(name, NOISE_PROTOCOL_NAME) == 0)
			n_nnpsk0++;
	}
	g_assert_cmpuint(n_run, >, 0);
	g_assert_cmpuint(n_nnpsk0, >, 0);
	g_object_unref(parser);
}

/* A handshake between two fresh sides with the given keys; returns the
 * failure of the responder's read of message 1 (or none). */
typedef struct {
	NoiseCipher *init_send, *init_recv, *resp_send, *resp_recv;
} TestPair;

static void
test_pair_handshake(TestPair *p, const guint8 *psk)
{
	GError *error = NULL;
	NoiseHandshake *init = noise_handshake_new(NOISE_ROLE_INITIATOR, psk, test_prologue,
	                                           sizeof test_prologue, &error);
	g_assert_no_error(error);
	NoiseHandshake *resp = noise_handshake_new(NOISE_ROLE_RESPONDER, psk, test_prologue,
	                                           sizeof test_prologue, &error);
	g_assert_no_error(error);
	GByteArray *m = g_byte_array_new(), *pl = g_byte_array_new();

	g_assert_true(noise_handshake_write_message(init, (const guint8 *)"hello", 5, m, &error));
	g_assert_no_error(error);
	g_assert_true(noise_handshake_read_message(resp, m->data, m->len, pl, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(pl->data, pl->len, "hello", 5);
	g_byte_array_set_size(m, 0);
	g_byte_array_set_size(pl, 0);
	g_assert_true(noise_handshake_write_message(resp, NULL, 0, m, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(m->len, ==, NOISE_DH_LEN + NOISE_TAG_LEN);
	g_assert_true(noise_handshake_read_message(init, m->data, m->len, pl, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pl->len, ==, 0);

	guint8 h1[NOISE_HASH_LEN], h2[NOISE_HASH_LEN];
	g_assert_true(noise_handshake_get_hash(init, h1));
	g_assert_true(noise_handshake_get_hash(resp, h2));
	g_assert_cmpmem(h1, sizeof h1, h2, sizeof h2);
	g_assert_true(noise_handshake_split(init, &p->init_send, &p->init_recv, &error));
	g_assert_true(noise_handshake_split(resp, &p->resp_send, &p->resp_recv, &error));
	g_assert_no_error(error);
	noise_handshake_free(init);
	noise_handshake_free(resp);
	g_byte_array_unref(m);
	g_byte_array_unref(pl);
}

static void
test_pair_clear(TestPair *p)
{
	noise_cipher_free(p->init_send);
	noise_cipher_free(p->init_recv);
	noise_cipher_free(p->resp_send);
	noise_cipher_free(p->resp_recv);
	memset(p, 0, sizeof *p);
}

static void
test_noise_roundtrip(void)
{
	TestPair p = {0};
	GError *error = NULL;
	GByteArray *ct = g_byte_array_new(), *pt = g_byte_array_new();

	test_pair_handshake(&p, test_psk_a);
	for (guint i = 0; i < 100; i++) {
		char msg[32];
		int n = g_snprintf(msg, sizeof msg, "message %u", i);
		NoiseCipher *s = i % 3 ? p.init_send : p.resp_send;
		NoiseCipher *r = i % 3 ? p.resp_recv : p.init_recv;
		g_byte_array_set_size(ct, 0);
		g_byte_array_set_size(pt, 0);
		g_assert_true(noise_cipher_encrypt(s, NULL, 0, (const guint8 *)msg, (gsize)n, ct,
		                                   &error));
		g_assert_no_error(error);
		g_assert_cmpuint(ct->len, ==, (guint)n + NOISE_TAG_LEN);
		g_assert_true(noise_cipher_decrypt(r, NULL, 0, ct->data, ct->len, pt, &error));
		g_assert_no_error(error);
		g_assert_cmpmem(pt->data, pt->len, msg, (gsize)n);
	}
	/* Per-direction nonces: 66 one way, 34 the other. */
	g_assert_cmpuint(noise_cipher_get_nonce(p.init_send), ==, 66);
	g_assert_cmpuint(noise_cipher_get_nonce(p.resp_recv), ==, 66);
	g_assert_cmpuint(noise_cipher_get_nonce(p.resp_send), ==, 34);
	g_assert_cmpuint(noise_cipher_get_nonce(p.init_recv), ==, 34);

	/* Additional data must match. */
	g_byte_array_set_size(ct, 0);
	g_byte_array_set_size(pt, 0);
	g_assert_true(noise_cipher_encrypt(p.init_send, (const guint8 *)"ad", 2,
	                                   (const guint8 *)"x", 1, ct, &error));
	g_assert_false(noise_cipher_decrypt(p.resp_recv, (const guint8 *)"AD", 2, ct->data, ct->len,
	                                    pt, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_DECRYPT);
	g_clear_error(&error);
	g_assert_true(noise_cipher_decrypt(p.resp_recv, (const guint8 *)"ad", 2, ct->data, ct->len,
	                                   pt, &error));
	g_assert_no_error(error);

	/* Payload limits. */
	guint8 *big = g_malloc0(NOISE_MAX_PAYLOAD + 1);
	g_byte_array_set_size(ct, 0);
	g_assert_true(
	        noise_cipher_encrypt(p.init_send, NULL, 0, big, NOISE_MAX_PAYLOAD, ct, &error));
	g_assert_cmpuint(ct->len, ==, NOISE_MAX_MESSAGE);
	g_byte_array_set_size(pt, 0);
	g_assert_true(noise_cipher_decrypt(p.resp_recv, NULL, 0, ct->data, ct->len, pt, &error));
	g_assert_no_error(error);
	g_byte_array_set_size(ct, 0);
	g_assert_false(
	        noise_cipher_encrypt(p.init_send, NULL, 0, big, NOISE_MAX_PAYLOAD + 1, ct, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED);
	g_clear_error(&error);
	g_assert_cmpuint(ct->len, ==, 0);
	g_free(big);

	test_pair_clear(&p);
	/* Unkeyed NN works too (tests only). */
	test_pair_handshake(&p, NULL);
	test_pair_clear(&p);
	g_byte_array_unref(ct);
	g_byte_array_unref(pt);
}

static void
test_noise_wrong_psk(void)
{
	GError *error = NULL;
	GByteArray *m = g_byte_array_new(), *pl = g_byte_array_new();
	NoiseHandshake *init = noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, test_prologue,
	                                           sizeof test_prologue, &error);
	NoiseHandshake *resp = noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_b, test_prologue,
	                                           sizeof test_prologue, &error);
	g_assert_no_error(error);

	g_assert_true(noise_handshake_write_message(init, (const guint8 *)"secret", 6, m, &error));
	/* The payload of message 1 is already encrypted under the psk. */
	for (guint i = 0; i + 6 <= m->len; i++)
		g_assert_cmpint(memcmp(m->data + i, "secret", 6), !=, 0);
	g_assert_false(noise_handshake_read_message(resp, m->data, m->len, pl, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_WRONG_KEY);
	g_clear_error(&error);
	g_assert_cmpuint(pl->len, ==, 0);
	g_assert_cmpint(noise_handshake_get_action(resp), ==, NOISE_ACTION_FAILED);
	/* A failed handshake stays failed. */
	g_assert_false(noise_handshake_read_message(resp, m->data, m->len, pl, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_STATE);
	g_clear_error(&error);
	noise_handshake_free(resp);

	/* A different prologue looks the same: the transcripts differ. */
	resp = noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, (const guint8 *)"other", 5,
	                           &error);
	g_assert_false(noise_handshake_read_message(resp, m->data, m->len, pl, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_WRONG_KEY);
	g_clear_error(&error);
	noise_handshake_free(resp);

	/* An unkeyed responder cannot parse a keyed message 1 as a payload it
	 * trusts, and a keyed one refuses an unkeyed message 1. */
	NoiseHandshake *plain_init = noise_handshake_new(NOISE_ROLE_INITIATOR, NULL, test_prologue,
	                                                 sizeof test_prologue, &error);
	GByteArray *m2 = g_byte_array_new();
	g_assert_true(noise_handshake_write_message(plain_init, NULL, 0, m2, &error));
	resp = noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, test_prologue,
	                           sizeof test_prologue, &error);
	g_assert_false(noise_handshake_read_message(resp, m2->data, m2->len, pl, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED);
	g_clear_error(&error);
	noise_handshake_free(resp);
	noise_handshake_free(plain_init);
	g_byte_array_unref(m2);

	noise_handshake_free(init);
	g_byte_array_unref(m);
	g_byte_array_unref(pl);
}

static void
test_noise_accept_rotation(void)
{
	GError *error = NULL;
	guint8 keys[3 * NOISE_KEY_LEN];
	memset(keys, 0x11, NOISE_KEY_LEN);
	memcpy(keys + NOISE_KEY_LEN, test_psk_b, NOISE_KEY_LEN);
	memcpy(keys + 2 * NOISE_KEY_LEN, test_psk_a, NOISE_KEY_LEN);
	GByteArray *m = g_byte_array_new(), *pl = g_byte_array_new();
	NoiseHandshake *init = noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, test_prologue,
	                                           sizeof test_prologue, &error);
	g_assert_true(noise_handshake_write_message(init, (const guint8 *)"hi", 2, m, &error));

	guint index = 99;
	NoiseHandshake *resp = noise_handshake_accept(keys, 3, test_prologue, sizeof test_prologue,
	                                              m->data, m->len, pl, &index, &error);
	g_assert_no_error(error);
	g_assert_nonnull(resp);
	g_assert_cmpuint(index, ==, 2);
	g_assert_cmpmem(pl->data, pl->len, "hi", 2);

	/* The rest of the handshake runs as usual. */
	GByteArray *m2 = g_byte_array_new();
	g_assert_true(noise_handshake_write_message(resp, NULL, 0, m2, &error));
	g_assert_true(noise_handshake_read_message(init, m2->data, m2->len, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(noise_handshake_get_action(init), ==, NOISE_ACTION_SPLIT);
	noise_handshake_free(resp);

	/* None fits. */
	g_byte_array_set_size(pl, 0);
	resp = noise_handshake_accept(keys, 2, test_prologue, sizeof test_prologue, m->data, m->len,
	                              pl, &index, &error);
	g_assert_null(resp);
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_WRONG_KEY);
	g_clear_error(&error);
	g_assert_cmpuint(pl->len, ==, 0);

	/* Garbage is not a wrong key. */
	resp = noise_handshake_accept(keys, 3, test_prologue, sizeof test_prologue, m->data, 10, pl,
	                              &index, &error);
	g_assert_null(resp);
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED);
	g_clear_error(&error);

	noise_handshake_free(init);
	g_byte_array_unref(m);
	g_byte_array_unref(m2);
	g_byte_array_unref(pl);
}

/* Flips every bit position class (one byte at a time) of both handshake
 * messages: each altered message must be refused. */
static void
test_noise_flip_handshake(void)
{
	GError *error = NULL;
	GByteArray *m1 = g_byte_array_new(), *m2 = g_byte_array_new();
	NoiseHandshake *init = noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, test_prologue,
	                                           sizeof test_prologue, &error);
	g_assert_true(
	        noise_handshake_write_message(init, (const guint8 *)"payload-1", 9, m1, &error));
	g_assert_no_error(error);

	for (guint i = 0; i < m1->len; i++) {
		for (guint bit = 0; bit < 8; bit += 7) {
			NoiseHandshake *resp =
			        noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, test_prologue,
			                            sizeof test_prologue, &error);
			m1->data[i] ^= (guint8)(1u << bit);
			g_assert_false(noise_handshake_read_message(resp, m1->data, m1->len, NULL,
			                                            &error));
			g_assert_error(error, NOISE_ERROR, NOISE_ERROR_WRONG_KEY);
			g_clear_error(&error);
			m1->data[i] ^= (guint8)(1u << bit);
			noise_handshake_free(resp);
		}
	}

	/* A good responder; then message 2 altered byte by byte, each time to a
	 * fresh initiator state reached with the same ephemeral key. */
	guint8 eph[NOISE_KEY_LEN];
	memset(eph, 0x42, sizeof eph);
	NoiseHandshake *resp = noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, test_prologue,
	                                           sizeof test_prologue, &error);
	g_assert_true(noise_handshake_read_message(resp, m1->data, m1->len, NULL, &error));
	g_assert_true(
	        noise_handshake_write_message(resp, (const guint8 *)"payload-2", 9, m2, &error));
	g_assert_no_error(error);
	noise_handshake_free(init);
	noise_handshake_free(resp);

	/* Rebuild m1/m2 with fixed ephemerals so that every initiator copy is
	 * identical. */
	g_byte_array_set_size(m1, 0);
	g_byte_array_set_size(m2, 0);
	init = noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, test_prologue,
	                           sizeof test_prologue, &error);
	g_assert_true(noise_handshake_set_ephemeral(init, eph, &error));
	g_assert_true(noise_handshake_write_message(init, NULL, 0, m1, &error));
	resp = noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, test_prologue,
	                           sizeof test_prologue, &error);
	g_assert_true(noise_handshake_read_message(resp, m1->data, m1->len, NULL, &error));
	g_assert_true(
	        noise_handshake_write_message(resp, (const guint8 *)"payload-2", 9, m2, &error));
	g_assert_no_error(error);
	noise_handshake_free(init);
	noise_handshake_free(resp);

	for (guint i = 0; i < m2->len; i++) {
		GByteArray *again = g_byte_array_new();
		init = noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, test_prologue,
		                           sizeof test_prologue, &error);
		g_assert_true(noise_handshake_set_ephemeral(init, eph, &error));
		g_assert_true(noise_handshake_write_message(init, NULL, 0, again, &error));
		g_assert_cmpmem(again->data, again->len, m1->data, m1->len);
		m2->data[i] ^= 0x80;
		g_assert_false(noise_handshake_read_message(init, m2->data, m2->len, NULL, &error));
		/* Flipping the top bit of the key may leave X25519 unchanged (it is
		 * masked) but never the transcript: always a decryption failure. */
		g_assert_error(error, NOISE_ERROR, NOISE_ERROR_DECRYPT);
		g_clear_error(&error);
		g_assert_cmpint(noise_handshake_get_action(init), ==, NOISE_ACTION_FAILED);
		m2->data[i] ^= 0x80;
		noise_handshake_free(init);
		g_byte_array_unref(again);
	}
	/* Unaltered, it passes. */
	init = noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, test_prologue,
	                           sizeof test_prologue, &error);
	g_assert_true(noise_handshake_set_ephemeral(init, eph, &error));
	g_byte_array_set_size(m1, 0);
	g_assert_true(noise_handshake_write_message(init, NULL, 0, m1, &error));
	g_assert_true(noise_handshake_read_message(init, m2->data, m2->len, NULL, &error));
	g_assert_no_error(error);
	noise_handshake_free(init);

	g_byte_array_unref(m1);
	g_byte_array_unref(m2);
}

static void
test_noise_flip_transport(void)
{
	TestPair p = {0};
	GError *error = NULL;
	GByteArray *ct = g_byte_array_new(), *pt = g_byte_array_new();
	test_pair_handshake(&p, test_psk_a);

	g_assert_true(noise_cipher_encrypt(p.init_send, NULL, 0,
	                                   (const guint8 *)"transport payload", 17, ct, &error));
	for (guint i = 0; i < ct->len; i++) {
		ct->data[i] ^= 0x01;
		g_assert_false(
		        noise_cipher_decrypt(p.resp_recv, NULL, 0, ct->data, ct->len, pt, &error));
		g_assert_error(error, NOISE_ERROR, NOISE_ERROR_DECRYPT);
		g_clear_error(&error);
		g_assert_cmpuint(pt->len, ==, 0);
		g_assert_cmpuint(noise_cipher_get_nonce(p.resp_recv), ==, 0);
		ct->data[i] ^= 0x01;
	}
	/* Truncated anywhere. */
	for (guint n = 0; n < ct->len; n++) {
		g_assert_false(noise_cipher_decrypt(p.resp_recv, NULL, 0, ct->data, n, pt, &error));
		g_assert_nonnull(error);
		g_clear_error(&error);
	}
	g_assert_true(noise_cipher_decrypt(p.resp_recv, NULL, 0, ct->data, ct->len, pt, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(pt->data, pt->len, "transport payload", 17);
	/* Reflected back to its sender, it does not decrypt either. */
	g_byte_array_set_size(pt, 0);
	g_assert_false(noise_cipher_decrypt(p.init_recv, NULL, 0, ct->data, ct->len, pt, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_DECRYPT);
	g_clear_error(&error);

	test_pair_clear(&p);
	g_byte_array_unref(ct);
	g_byte_array_unref(pt);
}

static void
test_noise_nonce_order(void)
{
	TestPair p = {0};
	GError *error = NULL;
	GByteArray *a = g_byte_array_new(), *b = g_byte_array_new(), *pt = g_byte_array_new();
	test_pair_handshake(&p, test_psk_a);

	g_assert_true(
	        noise_cipher_encrypt(p.init_send, NULL, 0, (const guint8 *)"A", 1, a, &error));
	g_assert_true(
	        noise_cipher_encrypt(p.init_send, NULL, 0, (const guint8 *)"B", 1, b, &error));
	/* Same plaintext length, different nonces: different ciphertexts. */
	g_assert_cmpuint(a->len, ==, b->len);
	g_assert_cmpint(memcmp(a->data, b->data, a->len), !=, 0);
	/* Out of order: B first fails (nonce 0 expected), replay of A fails. */
	g_assert_false(noise_cipher_decrypt(p.resp_recv, NULL, 0, b->data, b->len, pt, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_DECRYPT);
	g_clear_error(&error);
	g_assert_true(noise_cipher_decrypt(p.resp_recv, NULL, 0, a->data, a->len, pt, &error));
	g_assert_false(noise_cipher_decrypt(p.resp_recv, NULL, 0, a->data, a->len, pt, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_DECRYPT);
	g_clear_error(&error);
	g_assert_true(noise_cipher_decrypt(p.resp_recv, NULL, 0, b->data, b->len, pt, &error));
	g_assert_cmpmem(pt->data, pt->len, "AB", 2);

	/* Exhaustion: 2^64-2 is the last nonce that encrypts. */
	noise_cipher_set_nonce(p.init_send, G_MAXUINT64 - 1);
	noise_cipher_set_nonce(p.resp_recv, G_MAXUINT64 - 1);
	g_byte_array_set_size(a, 0);
	g_byte_array_set_size(pt, 0);
	g_assert_true(
	        noise_cipher_encrypt(p.init_send, NULL, 0, (const guint8 *)"Z", 1, a, &error));
	g_assert_no_error(error);
	g_assert_true(noise_cipher_decrypt(p.resp_recv, NULL, 0, a->data, a->len, pt, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(noise_cipher_get_nonce(p.init_send), ==, G_MAXUINT64);
	g_byte_array_set_size(a, 0);
	g_assert_false(
	        noise_cipher_encrypt(p.init_send, NULL, 0, (const guint8 *)"Z", 1, a, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_NONCE_EXHAUSTED);
	g_clear_error(&error);
	g_assert_cmpuint(a->len, ==, 0);
	g_assert_false(noise_cipher_decrypt(p.resp_recv, NULL, 0, b->data, b->len, pt, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_NONCE_EXHAUSTED);
	g_clear_error(&error);

	test_pair_clear(&p);
	g_byte_array_unref(a);
	g_byte_array_unref(b);
	g_byte_array_unref(pt);
}

static void
test_noise_state(void)
{
	GError *error = NULL;
	GByteArray *m = g_byte_array_new();
	NoiseCipher *s = NULL, *r = NULL;
	guint8 h[NOISE_HASH_LEN], eph[NOISE_KEY_LEN] = {1};
	NoiseHandshake *init =
	        noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, NULL, 0, &error);
	NoiseHandshake *resp =
	        noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, NULL, 0, &error);
	g_assert_no_error(error);

	g_assert_cmpint(noise_handshake_get_action(init), ==, NOISE_ACTION_WRITE);
	g_assert_cmpint(noise_handshake_get_action(resp), ==, NOISE_ACTION_READ);
	g_assert_false(noise_handshake_write_message(resp, NULL, 0, m, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_false(noise_handshake_read_message(init, (const guint8 *)"x", 1, NULL, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_false(noise_handshake_split(init, &s, &r, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_false(noise_handshake_get_hash(init, h));
	/* Misuse above did not break the handshakes. */
	g_assert_cmpint(noise_handshake_get_action(init), ==, NOISE_ACTION_WRITE);

	g_assert_true(noise_handshake_write_message(init, NULL, 0, m, &error));
	g_assert_cmpuint(noise_handshake_get_message_index(init), ==, 1);
	g_assert_false(noise_handshake_set_ephemeral(init, eph, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_true(noise_handshake_read_message(resp, m->data, m->len, NULL, &error));
	g_byte_array_set_size(m, 0);
	g_assert_true(noise_handshake_write_message(resp, NULL, 0, m, &error));
	g_assert_true(noise_handshake_read_message(init, m->data, m->len, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(noise_handshake_write_message(init, NULL, 0, m, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_true(noise_handshake_split(init, &s, &r, &error));
	NoiseCipher *s1 = s, *r1 = r;
	g_assert_false(noise_handshake_split(init, &s, &r, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_null(s);
	g_assert_cmpint(noise_handshake_get_action(init), ==, NOISE_ACTION_DONE);
	g_assert_true(noise_handshake_get_hash(init, h));
	noise_cipher_free(s1);
	noise_cipher_free(r1);

	/* Handshake payload limit. */
	NoiseHandshake *big =
	        noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, NULL, 0, &error);
	guint8 *buf = g_malloc0(NOISE_MAX_MESSAGE);
	g_byte_array_set_size(m, 0);
	g_assert_false(noise_handshake_write_message(big, buf, NOISE_MAX_MESSAGE - 47, m, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED);
	g_clear_error(&error);
	g_assert_cmpuint(m->len, ==, 0);
	g_assert_true(noise_handshake_write_message(big, buf, NOISE_MAX_MESSAGE - 48, m, &error));
	g_assert_cmpuint(m->len, ==, NOISE_MAX_MESSAGE);
	g_free(buf);
	noise_handshake_free(big);

	noise_handshake_free(init);
	noise_handshake_free(resp);
	noise_handshake_free(NULL);
	noise_cipher_free(NULL);
	g_byte_array_unref(m);
}

static void
test_noise_malformed(void)
{
	GError *error = NULL;
	guint8 buf[NOISE_MAX_MESSAGE + 1];
	memset(buf, 0x5a, sizeof buf);

	/* Responder, message 1: e (32) + tag (16) at least. */
	for (gsize n = 0; n < NOISE_DH_LEN + NOISE_TAG_LEN; n++) {
		NoiseHandshake *resp =
		        noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, NULL, 0, &error);
		g_assert_false(noise_handshake_read_message(resp, buf, n, NULL, &error));
		g_assert_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED);
		g_clear_error(&error);
		noise_handshake_free(resp);
	}
	NoiseHandshake *resp =
	        noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, NULL, 0, &error);
	g_assert_false(noise_handshake_read_message(resp, buf, sizeof buf, NULL, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED);
	g_clear_error(&error);
	noise_handshake_free(resp);

	/* A low-order ephemeral key in message 2 (u = 0 and u = 1). */
	for (guint8 u = 0; u < 2; u++) {
		GByteArray *m = g_byte_array_new();
		NoiseHandshake *init =
		        noise_handshake_new(NOISE_ROLE_INITIATOR, test_psk_a, NULL, 0, &error);
		g_assert_true(noise_handshake_write_message(init, NULL, 0, m, &error));
		guint8 msg2[NOISE_DH_LEN + NOISE_TAG_LEN] = {0};
		msg2[0] = u;
		g_assert_false(noise_handshake_read_message(init, msg2, sizeof msg2, NULL, &error));
		g_assert_error(error, NOISE_ERROR, NOISE_ERROR_DH);
		g_clear_error(&error);
		noise_handshake_free(init);
		g_byte_array_unref(m);
	}
}

static void
test_noise_unsupported(void)
{
	static const char *const bad[] = {
	        "Noise_XX_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NN_25519_AESGCM_BLAKE2s",
	        "Noise_NNpsk3_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NNpsk2+psk0_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NNpsk0+psk0_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NNpsk_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NNpsk0psk2_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NN_25519_ChaChaPoly_BLAKE2b",
	        "Noise_NN",
	        "",
	};
	GError *error = NULL;
	guint8 psks[2 * NOISE_KEY_LEN] = {0};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_null(noise_handshake_new_named(bad[i], NOISE_ROLE_INITIATOR, psks, 1, NULL,
		                                        0, &error));
		g_assert_error(error, NOISE_ERROR, NOISE_ERROR_UNSUPPORTED);
		g_clear_error(&error);
	}
	/* Wrong psk counts. */
	g_assert_null(noise_handshake_new_named(NOISE_PROTOCOL_NAME, NOISE_ROLE_INITIATOR, psks, 0,
	                                        NULL, 0, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_UNSUPPORTED);
	g_clear_error(&error);
	g_assert_null(noise_handshake_new_named("Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2s",
	                                        NOISE_ROLE_INITIATOR, psks, 1, NULL, 0, &error));
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_UNSUPPORTED);
	g_clear_error(&error);
	/* Every psk position works end to end. */
	static const char *const good[] = {
	        "Noise_NNpsk1_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NNpsk1+psk2_25519_ChaChaPoly_BLAKE2s",
	        "Noise_NNpsk0+psk1+psk2_25519_ChaChaPoly_BLAKE2s",
	};
	guint8 three[3 * NOISE_KEY_LEN];
	memset(three, 7, sizeof three);
	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		gsize n = 1 + (gsize)i;
		NoiseHandshake *a = noise_handshake_new_named(good[i], NOISE_ROLE_INITIATOR, three,
		                                              n, NULL, 0, &error);
		NoiseHandshake *b = noise_handshake_new_named(good[i], NOISE_ROLE_RESPONDER, three,
		                                              n, NULL, 0, &error);
		g_assert_no_error(error);
		GByteArray *m = g_byte_array_new();
		g_assert_true(noise_handshake_write_message(a, NULL, 0, m, &error));
		g_assert_true(noise_handshake_read_message(b, m->data, m->len, NULL, &error));
		g_byte_array_set_size(m, 0);
		g_assert_true(noise_handshake_write_message(b, NULL, 0, m, &error));
		g_assert_true(noise_handshake_read_message(a, m->data, m->len, NULL, &error));
		g_assert_no_error(error);
		g_assert_cmpint(noise_handshake_get_action(a), ==, NOISE_ACTION_SPLIT);
		g_byte_array_unref(m);
		noise_handshake_free(a);
		noise_handshake_free(b);
	}
}

static void
test_security_init_idempotent(void)
{
	GError *error = NULL;
	g_assert_true(security_init(&error));
	g_assert_no_error(error);
	g_assert_true(security_init(&error));
	g_assert_no_error(error);
}

/* Far more handshakes than the 64 KiB secure pool holds: the rest come
 * from the ordinary heap, and all of them work and free cleanly. */
static void
test_security_secmem_fallback(void)
{
	enum { N = 1000 };
	NoiseHandshake **hs = g_new0(NoiseHandshake *, N);
	GError *error = NULL;
	for (guint i = 0; i < N; i++) {
		hs[i] = noise_handshake_new(NOISE_ROLE_RESPONDER, test_psk_a, NULL, 0, &error);
		g_assert_no_error(error);
		g_assert_nonnull(hs[i]);
	}
	TestPair p = {0};
	test_pair_handshake(&p, test_psk_a);
	test_pair_clear(&p);
	for (guint i = 0; i < N; i++)
		noise_handshake_free(hs[i]);
	g_free(hs);
}

int
main(int argc, char **argv)
{
	GError *error = NULL;
	g_test_init(&argc, &argv, NULL);
	g_assert_true(security_init(&error));
	g_assert_no_error(error);
	g_test_add_func("/lib/security/init/idempotent", test_security_init_idempotent);
	g_test_add_func("/lib/security/init/secmem-fallback", test_security_secmem_fallback);
	g_test_add_func("/lib/security/noise/vectors", test_noise_vectors);
	g_test_add_func("/lib/security/noise/roundtrip", test_noise_roundtrip);
	g_test_add_func("/lib/security/noise/wrong-psk", test_noise_wrong_psk);
	g_test_add_func("/lib/security/noise/accept-rotation", test_noise_accept_rotation);
	g_test_add_func("/lib/security/noise/flip-handshake", test_noise_flip_handshake);
	g_test_add_func("/lib/security/noise/flip-transport", test_noise_flip_transport);
	g_test_add_func("/lib/security/noise/nonce-order", test_noise_nonce_order);
	g_test_add_func("/lib/security/noise/state", test_noise_state);
	g_test_add_func("/lib/security/noise/malformed", test_noise_malformed);
	g_test_add_func("/lib/security/noise/unsupported", test_noise_unsupported);
	return g_test_run();
}
