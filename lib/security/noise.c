// SPDX-License-Identifier: Apache-2.0
//
// noise.c - CipherState, SymmetricState and HandshakeState of the Noise
// specification (revision 34, sections 5 and 9) for the NN pattern family
// over 25519_ChaChaPoly_BLAKE2s. Function names follow the spec's so that
// the code can be read against it.
#include "security/noise.h"

#include "security/security.h"

#include <string.h>

GQuark
noise_error_quark(void)
{
	return g_quark_from_static_string("circuit-noise-error-quark");
}

#define NOISE_PROTOCOL_PREFIX "Noise_NN"
#define NOISE_PROTOCOL_SUFFIX "_25519_ChaChaPoly_BLAKE2s"
#define NOISE_MESSAGES        2u /* NN: "-> e" then "<- e, ee" */
#define NOISE_MAX_TOKENS      (2u + NOISE_MAX_PSKS)
#define NOISE_NONCE_MAX       G_MAXUINT64 /* reserved: never used to encrypt */

typedef enum {
	NOISE_TOKEN_E = 1,
	NOISE_TOKEN_EE = 2,
	NOISE_TOKEN_PSK = 3,
} NoiseToken;

/* The handshake's CipherState: k, n and whether k is set (spec 5.1). */
typedef struct {
	guint8 k[NOISE_KEY_LEN];
	guint64 n;
	bool has_key;
} NoiseCipherState;

struct _NoiseCipher {
	SecurityAead aead;
	guint64 n;
};

struct _NoiseHandshake {
	NoiseRole role;
	bool psk_mode; /* any psk modifier: "e" also runs MixKey (spec 9.2) */
	guint8 tokens[NOISE_MESSAGES][NOISE_MAX_TOKENS];
	guint n_tokens[NOISE_MESSAGES];
	guint first_psk_message; /* index of the first message with a psk token */
	guint index;             /* next message */
	bool failed;
	bool split;

	guint8 psks[NOISE_MAX_PSKS][NOISE_KEY_LEN];
	gsize n_psks;
	gsize next_psk;

	/* SymmetricState (spec 5.2). */
	guint8 ck[NOISE_HASH_LEN];
	guint8 h[NOISE_HASH_LEN];
	NoiseCipherState cs;

	/* The ephemeral key pair and the peer's ephemeral public key. */
	guint8 e_priv[NOISE_KEY_LEN];
	guint8 e_pub[NOISE_DH_LEN];
	bool has_e;
	guint8 re[NOISE_DH_LEN];
	bool has_re;
};

/* ---- CipherState ------------------------------------------------------- */

/* ChaChaPoly's nonce: 32 zero bits, then n as 64-bit little-endian. */
static void
noise_nonce_encode(guint8 out[SECURITY_AEAD_NONCE_LEN], guint64 n)
{
	memset(out, 0, 4);
	for (guint i = 0; i < 8; i++)
		out[4 + i] = (guint8)(n >> (8 * i));
}

static void
noise_error_from_security(GError **error, GError *local, NoiseErrorCode auth_code)
{
	if (g_error_matches(local, SECURITY_ERROR, SECURITY_ERROR_AUTH))
		g_set_error(error, NOISE_ERROR, auth_code, "%s",
		            auth_code == NOISE_ERROR_WRONG_KEY
		                    ? "handshake does not authenticate: wrong pre-shared key"
		                    : "message does not authenticate");
	else
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_CRYPTO, "%s",
		            local ? local->message : "libgcrypt failed");
	g_clear_error(&local);
}

/* InitializeKey(k) */
static void
noise_cs_initialize_key(NoiseCipherState *cs, const guint8 k[NOISE_KEY_LEN])
{
	memcpy(cs->k, k, NOISE_KEY_LEN);
	cs->n = 0;
	cs->has_key = true;
}

/* One-shot ENCRYPT(k, n, ad, plaintext) into @out (len + tag bytes). */
static bool
noise_aead_oneshot(const guint8 k[NOISE_KEY_LEN], guint64 n, bool encrypt, const guint8 *ad,
                   gsize ad_len, const guint8 *in, gsize len, guint8 *out, GError **error)
{
	SecurityAead aead;
	guint8 nonce[SECURITY_AEAD_NONCE_LEN];
	if (!security_aead_init(&aead, k, error))
		return false;
	noise_nonce_encode(nonce, n);
	bool ok = encrypt ? security_aead_seal(&aead, nonce, ad, ad_len, in, len, out, error)
	                  : security_aead_open(&aead, nonce, ad, ad_len, in, len, out, error);
	security_aead_clear(&aead);
	return ok;
}

/* ---- SymmetricState ---------------------------------------------------- */

/* MixHash(data): h = HASH(h || data) */
static void
noise_mix_hash(NoiseHandshake *hs, const guint8 *data, gsize len)
{
	security_hash2(hs->h, hs->h, NOISE_HASH_LEN, data, len);
}

/* MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k) */
static void
noise_mix_key(NoiseHandshake *hs, const guint8 *ikm, gsize len)
{
	guint8 temp_k[NOISE_HASH_LEN];
	security_hkdf(hs->ck, ikm, len, hs->ck, temp_k, NULL);
	noise_cs_initialize_key(&hs->cs, temp_k);
	explicit_bzero(temp_k, sizeof temp_k);
}

/* MixKeyAndHash(ikm): ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h);
 * InitializeKey(temp_k) */
static void
noise_mix_key_and_hash(NoiseHandshake *hs, const guint8 *ikm, gsize len)
{
	guint8 temp_h[NOISE_HASH_LEN];
	guint8 temp_k[NOISE_HASH_LEN];
	security_hkdf(hs->ck, ikm, len, hs->ck, temp_h, temp_k);
	noise_mix_hash(hs, temp_h, sizeof temp_h);
	noise_cs_initialize_key(&hs->cs, temp_k);
	explicit_bzero(temp_h, sizeof temp_h);
	explicit_bzero(temp_k, sizeof temp_k);
}

/* EncryptAndHash(plaintext), the ciphertext written at @out. */
static bool
noise_encrypt_and_hash(NoiseHandshake *hs, const guint8 *pt, gsize len, guint8 *out, gsize *out_len,
                       GError **error)
{
	if (!hs->cs.has_key) {
		if (len)
			memcpy(out, pt, len);
		*out_len = len;
	} else {
		GError *local = NULL;
		if (!noise_aead_oneshot(hs->cs.k, hs->cs.n, true, hs->h, NOISE_HASH_LEN, pt, len,
		                        out, &local)) {
			noise_error_from_security(error, local, NOISE_ERROR_CRYPTO);
			return false;
		}
		hs->cs.n++;
		*out_len = len + NOISE_TAG_LEN;
	}
	noise_mix_hash(hs, out, *out_len);
	return true;
}

/* DecryptAndHash(ciphertext), the plaintext written at @out. */
static bool
noise_decrypt_and_hash(NoiseHandshake *hs, const guint8 *ct, gsize len, guint8 *out, gsize *out_len,
                       NoiseErrorCode auth_code, GError **error)
{
	if (!hs->cs.has_key) {
		if (len)
			memcpy(out, ct, len);
		*out_len = len;
	} else {
		GError *local = NULL;
		if (len < NOISE_TAG_LEN) {
			g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
			            "handshake message too short for its tag");
			return false;
		}
		if (!noise_aead_oneshot(hs->cs.k, hs->cs.n, false, hs->h, NOISE_HASH_LEN, ct, len,
		                        out, &local)) {
			noise_error_from_security(error, local, auth_code);
			return false;
		}
		hs->cs.n++;
		*out_len = len - NOISE_TAG_LEN;
	}
	noise_mix_hash(hs, ct, len);
	return true;
}

/* ---- DH ---------------------------------------------------------------- */

static bool
noise_dh(const guint8 priv[NOISE_KEY_LEN], const guint8 *pub, guint8 out[NOISE_DH_LEN],
         GError **error)
{
	static const guint8 zero[NOISE_DH_LEN];
	gpg_error_t err = gcry_ecc_mul_point(GCRY_ECC_CURVE25519, out, priv, pub);
	if (err) {
		explicit_bzero(out, NOISE_DH_LEN);
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_DH, "X25519 failed: %s",
		            gcry_strerror(err));
		return false;
	}
	/* A low-order public key forces an all-zero secret that any attacker
	 * can compute; refusing it costs nothing (spec 12.1 allows both). */
	if (pub && security_equal(out, zero, NOISE_DH_LEN)) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_DH,
		            "peer's ephemeral key is a low-order point");
		return false;
	}
	return true;
}

static bool
noise_set_ephemeral(NoiseHandshake *hs, const guint8 *priv, GError **error)
{
	if (priv)
		memcpy(hs->e_priv, priv, NOISE_KEY_LEN);
	else
		gcry_randomize(hs->e_priv, NOISE_KEY_LEN, GCRY_STRONG_RANDOM);
	if (!noise_dh(hs->e_priv, NULL, hs->e_pub, error))
		return false;
	hs->has_e = true;
	return true;
}

/* ---- HandshakeState ---------------------------------------------------- */

/*
 * Parses "Noise_NN" [ "psk"N { "+psk"N } ] "_25519_ChaChaPoly_BLAKE2s" into
 * the two token lists; modifiers must be distinct and increasing.
 */
static bool
noise_parse_name(NoiseHandshake *hs, const char *name, gsize *n_modifiers, GError **error)
{
	gsize plen = strlen(NOISE_PROTOCOL_PREFIX), slen = strlen(NOISE_PROTOCOL_SUFFIX);
	gsize len = strlen(name);
	int last = -1;

	*n_modifiers = 0;
	hs->tokens[0][0] = NOISE_TOKEN_E;
	hs->n_tokens[0] = 1;
	hs->tokens[1][0] = NOISE_TOKEN_E;
	hs->tokens[1][1] = NOISE_TOKEN_EE;
	hs->n_tokens[1] = 2;
	hs->first_psk_message = NOISE_MESSAGES;

	if (len < plen + slen || strncmp(name, NOISE_PROTOCOL_PREFIX, plen) != 0 ||
	    strcmp(name + len - slen, NOISE_PROTOCOL_SUFFIX) != 0)
		goto unsupported;
	const char *p = name + plen, *end = name + len - slen;
	while (p < end) {
		if (*n_modifiers > 0) {
			if (*p != '+')
				goto unsupported;
			p++;
		}
		if (end - p < 4 || strncmp(p, "psk", 3) != 0 || p[3] < '0' || p[3] > '2')
			goto unsupported;
		int pos = p[3] - '0';
		p += 4;
		if (pos <= last || *n_modifiers >= NOISE_MAX_PSKS)
			goto unsupported;
		last = pos;
		if (pos == 0) {
			/* psk0: at the start of the first message. */
			memmove(hs->tokens[0] + 1, hs->tokens[0], hs->n_tokens[0]);
			hs->tokens[0][0] = NOISE_TOKEN_PSK;
			hs->n_tokens[0]++;
		} else {
			/* pskN: at the end of message N. */
			hs->tokens[pos - 1][hs->n_tokens[pos - 1]++] = NOISE_TOKEN_PSK;
		}
		hs->first_psk_message = MIN(hs->first_psk_message, (guint)(pos ? pos - 1 : 0));
		(*n_modifiers)++;
	}
	return true;

unsupported:
	g_set_error(error, NOISE_ERROR, NOISE_ERROR_UNSUPPORTED, "unsupported Noise protocol %s",
	            name);
	return false;
}

NoiseHandshake *
noise_handshake_new_named(const char *protocol_name, NoiseRole role, const guint8 *psks,
                          gsize n_psks, const guint8 *prologue, gsize prologue_len, GError **error)
{
	g_return_val_if_fail(protocol_name != NULL, NULL);
	g_return_val_if_fail(role == NOISE_ROLE_INITIATOR || role == NOISE_ROLE_RESPONDER, NULL);
	g_return_val_if_fail(psks != NULL || n_psks == 0, NULL);
	g_return_val_if_fail(prologue != NULL || prologue_len == 0, NULL);

	NoiseHandshake *hs = security_alloc(sizeof *hs);
	gsize n_modifiers;
	if (!noise_parse_name(hs, protocol_name, &n_modifiers, error))
		goto fail;
	if (n_modifiers != n_psks) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_UNSUPPORTED,
		            "%s needs %" G_GSIZE_FORMAT " pre-shared keys, got %" G_GSIZE_FORMAT,
		            protocol_name, n_modifiers, n_psks);
		goto fail;
	}
	hs->role = role;
	hs->psk_mode = n_psks > 0;
	hs->n_psks = n_psks;
	if (n_psks)
		memcpy(hs->psks, psks, n_psks * NOISE_KEY_LEN);

	/* InitializeSymmetric(protocol_name), then MixHash(prologue). */
	gsize name_len = strlen(protocol_name);
	if (name_len <= NOISE_HASH_LEN)
		memcpy(hs->h, protocol_name, name_len);
	else
		security_hash2(hs->h, (const guint8 *)protocol_name, name_len, NULL, 0);
	memcpy(hs->ck, hs->h, NOISE_HASH_LEN);
	noise_mix_hash(hs, prologue, prologue_len);
	return hs;

fail:
	noise_handshake_free(hs);
	return NULL;
}

NoiseHandshake *
noise_handshake_new(NoiseRole role, const guint8 *psk, const guint8 *prologue, gsize prologue_len,
                    GError **error)
{
	return noise_handshake_new_named(psk ? NOISE_PROTOCOL_NAME : NOISE_PROTOCOL_NAME_NOPSK,
	                                 role, psk, psk ? 1 : 0, prologue, prologue_len, error);
}

bool
noise_handshake_set_ephemeral(NoiseHandshake *hs, const guint8 private_key[NOISE_KEY_LEN],
                              GError **error)
{
	g_return_val_if_fail(hs != NULL && private_key != NULL, false);
	if (hs->failed || hs->split || hs->has_e) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_STATE,
		            "the ephemeral key is already in use");
		return false;
	}
	if (!noise_set_ephemeral(hs, private_key, error)) {
		hs->failed = true;
		return false;
	}
	return true;
}

NoiseAction
noise_handshake_get_action(const NoiseHandshake *hs)
{
	g_return_val_if_fail(hs != NULL, NOISE_ACTION_FAILED);
	if (hs->failed)
		return NOISE_ACTION_FAILED;
	if (hs->split)
		return NOISE_ACTION_DONE;
	if (hs->index >= NOISE_MESSAGES)
		return NOISE_ACTION_SPLIT;
	/* The initiator writes the even messages. */
	bool writes = (hs->index % 2 == 0) == (hs->role == NOISE_ROLE_INITIATOR);
	return writes ? NOISE_ACTION_WRITE : NOISE_ACTION_READ;
}

guint
noise_handshake_get_message_index(const NoiseHandshake *hs)
{
	g_return_val_if_fail(hs != NULL, 0);
	return hs->index;
}

static bool
noise_check_turn(const NoiseHandshake *hs, NoiseAction want, GError **error)
{
	NoiseAction action = noise_handshake_get_action(hs);
	if (action == want)
		return true;
	g_set_error(error, NOISE_ERROR, NOISE_ERROR_STATE, "%s",
	            action == NOISE_ACTION_FAILED  ? "the handshake has failed"
	            : action == NOISE_ACTION_DONE  ? "the handshake has been split already"
	            : action == NOISE_ACTION_SPLIT ? "the handshake is already finished"
	            : action == NOISE_ACTION_READ  ? "it is the peer's turn to send"
	                                           : "it is our turn to send");
	return false;
}

/* Bytes the tokens of message @index put on the wire. */
static gsize
noise_tokens_size(const NoiseHandshake *hs, guint index)
{
	gsize n = 0;
	for (guint i = 0; i < hs->n_tokens[index]; i++)
		if (hs->tokens[index][i] == NOISE_TOKEN_E)
			n += NOISE_DH_LEN;
	return n;
}

/* "ee": MixKey(DH(e, re)) */
static bool
noise_token_ee(NoiseHandshake *hs, GError **error)
{
	guint8 shared[NOISE_DH_LEN];
	if (!hs->has_e || !hs->has_re) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_STATE, "ee before both ephemerals");
		return false;
	}
	bool ok = noise_dh(hs->e_priv, hs->re, shared, error);
	if (ok)
		noise_mix_key(hs, shared, sizeof shared);
	explicit_bzero(shared, sizeof shared);
	return ok;
}

/* "psk": MixKeyAndHash(psk), the psks taken in order. */
static void
noise_token_psk(NoiseHandshake *hs)
{
	noise_mix_key_and_hash(hs, hs->psks[hs->next_psk], NOISE_KEY_LEN);
	hs->next_psk++;
}

bool
noise_handshake_write_message(NoiseHandshake *hs, const guint8 *payload, gsize len, GByteArray *out,
                              GError **error)
{
	g_return_val_if_fail(hs != NULL && out != NULL, false);
	g_return_val_if_fail(payload != NULL || len == 0, false);
	if (!noise_check_turn(hs, NOISE_ACTION_WRITE, error))
		return false;
	gsize tokens = noise_tokens_size(hs, hs->index);
	if (len > NOISE_MAX_MESSAGE - tokens - NOISE_TAG_LEN) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "handshake payload of %" G_GSIZE_FORMAT " bytes is too long", len);
		return false;
	}

	guint old_len = out->len;
	g_byte_array_set_size(out, old_len + tokens + len + NOISE_TAG_LEN);
	guint8 *w = out->data + old_len;
	for (guint i = 0; i < hs->n_tokens[hs->index]; i++) {
		switch (hs->tokens[hs->index][i]) {
		case NOISE_TOKEN_E:
			if (!hs->has_e && !noise_set_ephemeral(hs, NULL, error))
				goto fail;
			memcpy(w, hs->e_pub, NOISE_DH_LEN);
			w += NOISE_DH_LEN;
			noise_mix_hash(hs, hs->e_pub, NOISE_DH_LEN);
			if (hs->psk_mode)
				noise_mix_key(hs, hs->e_pub, NOISE_DH_LEN);
			break;
		case NOISE_TOKEN_EE:
			if (!noise_token_ee(hs, error))
				goto fail;
			break;
		case NOISE_TOKEN_PSK:
			noise_token_psk(hs);
			break;
		}
	}
	gsize written;
	if (!noise_encrypt_and_hash(hs, payload, len, w, &written, error))
		goto fail;
	g_byte_array_set_size(out, (guint)(w - out->data + written));
	hs->index++;
	return true;

fail:
	explicit_bzero(out->data + old_len, out->len - old_len);
	g_byte_array_set_size(out, old_len);
	hs->failed = true;
	return false;
}

bool
noise_handshake_read_message(NoiseHandshake *hs, const guint8 *msg, gsize len,
                             GByteArray *payload_out, GError **error)
{
	g_return_val_if_fail(hs != NULL, false);
	g_return_val_if_fail(msg != NULL || len == 0, false);
	if (!noise_check_turn(hs, NOISE_ACTION_READ, error))
		return false;

	guint8 *plain = NULL;
	gsize plain_cap = 0, plain_len = 0;
	gsize tokens = noise_tokens_size(hs, hs->index);
	if (len > NOISE_MAX_MESSAGE || len < tokens) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "handshake message %u of %" G_GSIZE_FORMAT " bytes is %s",
		            hs->index + 1, len, len < tokens ? "too short" : "too long");
		goto fail;
	}
	const guint8 *r = msg;
	for (guint i = 0; i < hs->n_tokens[hs->index]; i++) {
		switch (hs->tokens[hs->index][i]) {
		case NOISE_TOKEN_E:
			memcpy(hs->re, r, NOISE_DH_LEN);
			hs->has_re = true;
			r += NOISE_DH_LEN;
			noise_mix_hash(hs, hs->re, NOISE_DH_LEN);
			if (hs->psk_mode)
				noise_mix_key(hs, hs->re, NOISE_DH_LEN);
			break;
		case NOISE_TOKEN_EE:
			if (!noise_token_ee(hs, error))
				goto fail;
			break;
		case NOISE_TOKEN_PSK:
			noise_token_psk(hs);
			break;
		}
	}
	gsize rest = len - (gsize)(r - msg);
	plain_cap = rest;
	plain = g_malloc(rest ? rest : 1);
	NoiseErrorCode auth_code =
	        hs->index == hs->first_psk_message ? NOISE_ERROR_WRONG_KEY : NOISE_ERROR_DECRYPT;
	if (!noise_decrypt_and_hash(hs, r, rest, plain, &plain_len, auth_code, error))
		goto fail;
	if (payload_out && plain_len)
		g_byte_array_append(payload_out, plain, (guint)plain_len);
	explicit_bzero(plain, plain_cap);
	g_free(plain);
	hs->index++;
	return true;

fail:
	if (plain) {
		explicit_bzero(plain, plain_cap);
		g_free(plain);
	}
	hs->failed = true;
	return false;
}

static NoiseCipher *
noise_cipher_new(const guint8 k[NOISE_KEY_LEN], GError **error)
{
	NoiseCipher *c = security_alloc(sizeof *c);
	GError *local = NULL;
	if (!security_aead_init(&c->aead, k, &local)) {
		noise_error_from_security(error, local, NOISE_ERROR_CRYPTO);
		security_free(c, sizeof *c);
		return NULL;
	}
	return c;
}

bool
noise_handshake_split(NoiseHandshake *hs, NoiseCipher **send, NoiseCipher **recv, GError **error)
{
	g_return_val_if_fail(hs != NULL && send != NULL && recv != NULL, false);
	*send = *recv = NULL;
	if (!noise_check_turn(hs, NOISE_ACTION_SPLIT, error))
		return false;

	/* temp_k1, temp_k2 = HKDF(ck, zerolen, 2): k1 encrypts the initiator's
	 * messages, k2 the responder's. */
	guint8 k1[NOISE_HASH_LEN], k2[NOISE_HASH_LEN];
	security_hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	bool initiator = hs->role == NOISE_ROLE_INITIATOR;
	NoiseCipher *s = noise_cipher_new(initiator ? k1 : k2, error);
	NoiseCipher *r = s ? noise_cipher_new(initiator ? k2 : k1, error) : NULL;
	explicit_bzero(k1, sizeof k1);
	explicit_bzero(k2, sizeof k2);

	/* Everything but the handshake hash is wiped now. */
	guint8 h[NOISE_HASH_LEN];
	memcpy(h, hs->h, sizeof h);
	explicit_bzero(hs, sizeof *hs);
	memcpy(hs->h, h, sizeof h);
	hs->index = NOISE_MESSAGES;
	hs->split = true;
	if (!r) {
		noise_cipher_free(s);
		hs->failed = true;
		return false;
	}
	*send = s;
	*recv = r;
	return true;
}

bool
noise_handshake_get_hash(const NoiseHandshake *hs, guint8 out[NOISE_HASH_LEN])
{
	g_return_val_if_fail(hs != NULL && out != NULL, false);
	if (hs->failed || hs->index < NOISE_MESSAGES)
		return false;
	memcpy(out, hs->h, NOISE_HASH_LEN);
	return true;
}

void
noise_handshake_free(NoiseHandshake *hs)
{
	security_free(hs, sizeof *hs);
}

NoiseHandshake *
noise_handshake_accept(const guint8 *psks, gsize n_psks, const guint8 *prologue, gsize prologue_len,
                       const guint8 *msg, gsize len, GByteArray *payload_out, guint *key_index,
                       GError **error)
{
	g_return_val_if_fail(psks != NULL && n_psks > 0, NULL);
	for (gsize i = 0; i < n_psks; i++) {
		GError *local = NULL;
		NoiseHandshake *hs =
		        noise_handshake_new(NOISE_ROLE_RESPONDER, psks + i * NOISE_KEY_LEN,
		                            prologue, prologue_len, error);
		if (!hs)
			return NULL;
		if (noise_handshake_read_message(hs, msg, len, payload_out, &local)) {
			if (key_index)
				*key_index = (guint)i;
			return hs;
		}
		noise_handshake_free(hs);
		if (!g_error_matches(local, NOISE_ERROR, NOISE_ERROR_WRONG_KEY)) {
			g_propagate_error(error, local);
			return NULL;
		}
		g_clear_error(&local);
	}
	g_set_error(error, NOISE_ERROR, NOISE_ERROR_WRONG_KEY,
	            "handshake does not authenticate with any of the %" G_GSIZE_FORMAT
	            " accepted keys",
	            n_psks);
	return NULL;
}

/* ---- Transport CipherStates -------------------------------------------- */

bool
noise_cipher_encrypt(NoiseCipher *c, const guint8 *ad, gsize ad_len, const guint8 *plaintext,
                     gsize len, GByteArray *out, GError **error)
{
	g_return_val_if_fail(c != NULL && out != NULL, false);
	g_return_val_if_fail(plaintext != NULL || len == 0, false);
	g_return_val_if_fail(ad != NULL || ad_len == 0, false);
	if (c->n == NOISE_NONCE_MAX) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_NONCE_EXHAUSTED,
		            "the cipher's nonces are used up");
		return false;
	}
	if (len > NOISE_MAX_PAYLOAD) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "transport payload of %" G_GSIZE_FORMAT " bytes is too long", len);
		return false;
	}
	guint8 nonce[SECURITY_AEAD_NONCE_LEN];
	guint old_len = out->len;
	GError *local = NULL;
	noise_nonce_encode(nonce, c->n);
	g_byte_array_set_size(out, old_len + (guint)len + NOISE_TAG_LEN);
	if (!security_aead_seal(&c->aead, nonce, ad, ad_len, plaintext, len, out->data + old_len,
	                        &local)) {
		g_byte_array_set_size(out, old_len);
		noise_error_from_security(error, local, NOISE_ERROR_CRYPTO);
		return false;
	}
	c->n++;
	return true;
}

bool
noise_cipher_decrypt(NoiseCipher *c, const guint8 *ad, gsize ad_len, const guint8 *ciphertext,
                     gsize len, GByteArray *out, GError **error)
{
	g_return_val_if_fail(c != NULL && out != NULL, false);
	g_return_val_if_fail(ciphertext != NULL || len == 0, false);
	g_return_val_if_fail(ad != NULL || ad_len == 0, false);
	if (c->n == NOISE_NONCE_MAX) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_NONCE_EXHAUSTED,
		            "the cipher's nonces are used up");
		return false;
	}
	if (len < NOISE_TAG_LEN || len > NOISE_MAX_MESSAGE) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "transport message of %" G_GSIZE_FORMAT " bytes", len);
		return false;
	}
	guint8 nonce[SECURITY_AEAD_NONCE_LEN];
	guint old_len = out->len;
	GError *local = NULL;
	noise_nonce_encode(nonce, c->n);
	g_byte_array_set_size(out, old_len + (guint)(len - NOISE_TAG_LEN));
	if (!security_aead_open(&c->aead, nonce, ad, ad_len, ciphertext, len,
	                        security_array_at(out, old_len), &local)) {
		g_byte_array_set_size(out, old_len);
		noise_error_from_security(error, local, NOISE_ERROR_DECRYPT);
		return false;
	}
	c->n++;
	return true;
}

guint64
noise_cipher_get_nonce(const NoiseCipher *c)
{
	g_return_val_if_fail(c != NULL, 0);
	return c->n;
}

void
noise_cipher_set_nonce(NoiseCipher *c, guint64 nonce)
{
	g_return_if_fail(c != NULL);
	c->n = nonce;
}

void
noise_cipher_free(NoiseCipher *c)
{
	if (!c)
		return;
	security_aead_clear(&c->aead);
	security_free(c, sizeof *c);
}
