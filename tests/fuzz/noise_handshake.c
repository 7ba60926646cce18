// SPDX-License-Identifier: Apache-2.0
//
// noise_handshake.c - libFuzzer target for the Noise handshake state
// machine (lib/security/noise.c). Each input is fed, whole, as message 1
// to a keyed responder (and to the key-rotation acceptor and an unkeyed
// responder), and as message 2 to an initiator that has sent message 1.
// Whatever the bytes, nothing may crash, leak or read out of bounds; a
// message that is accepted must leave a usable handshake behind.
//
// Keys and ephemerals are fixed, so a seed that is a genuine message (see
// corpus/noise_handshake/) takes the fuzzer down the success paths too.
#include "security/noise.h"
#include "security/security.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const guint8 fuzz_psk[NOISE_KEY_LEN] = "circuit fuzz pre-shared key 0001";
static const guint8 fuzz_prologue[] = "CIRC\x01\x01\x00\x00";

static void
fuzz_init(void)
{
	static bool done;
	if (done)
		return;
	/* No secure memory: AddressSanitizer must see every allocation. */
	gcry_check_version(NULL);
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	if (!security_init(NULL))
		abort();
	done = true;
}

static NoiseHandshake *
fuzz_side(NoiseRole role, const guint8 *psk, guint8 eph_byte)
{
	guint8 eph[NOISE_KEY_LEN];
	memset(eph, eph_byte, sizeof eph);
	NoiseHandshake *hs =
	        noise_handshake_new(role, psk, fuzz_prologue, sizeof fuzz_prologue, NULL);
	if (!hs || !noise_handshake_set_ephemeral(hs, eph, NULL))
		abort();
	return hs;
}

/* After an accepted message 1, the responder must be able to answer. */
static void
fuzz_finish_responder(NoiseHandshake *resp)
{
	GByteArray *m2 = g_byte_array_new();
	GError *error = NULL;
	if (noise_handshake_write_message(resp, (const guint8 *)"ok", 2, m2, &error)) {
		NoiseCipher *s = NULL, *r = NULL;
		if (!noise_handshake_split(resp, &s, &r, NULL))
			abort();
		GByteArray *ct = g_byte_array_new();
		if (!noise_cipher_encrypt(s, NULL, 0, m2->data, m2->len, ct, NULL))
			abort();
		g_byte_array_unref(ct);
		noise_cipher_free(s);
		noise_cipher_free(r);
	} else if (!g_error_matches(error, NOISE_ERROR, NOISE_ERROR_DH)) {
		/* Only a low-order ephemeral from the peer may stop it here. */
		abort();
	}
	g_clear_error(&error);
	g_byte_array_unref(m2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	GByteArray *payload = g_byte_array_new();
	GError *error = NULL;

	/* 1. The input as message 1, to a keyed responder. */
	NoiseHandshake *resp = fuzz_side(NOISE_ROLE_RESPONDER, fuzz_psk, 0x22);
	if (noise_handshake_read_message(resp, data, size, payload, &error)) {
		if (noise_handshake_get_action(resp) != NOISE_ACTION_WRITE)
			abort();
		fuzz_finish_responder(resp);
	} else if (!error || noise_handshake_get_action(resp) != NOISE_ACTION_FAILED ||
	           payload->len != 0) {
		abort();
	}
	g_clear_error(&error);
	noise_handshake_free(resp);

	/* 2. The same through key rotation (the right key second). */
	guint8 keys[2 * NOISE_KEY_LEN];
	memset(keys, 0xa5, NOISE_KEY_LEN);
	memcpy(keys + NOISE_KEY_LEN, fuzz_psk, NOISE_KEY_LEN);
	guint index = 0;
	resp = noise_handshake_accept(keys, 2, fuzz_prologue, sizeof fuzz_prologue, data, size,
	                              NULL, &index, &error);
	if (resp && index != 1)
		abort();
	if (!resp && !error)
		abort();
	g_clear_error(&error);
	noise_handshake_free(resp);

	/* 3. The input as message 1 to an unkeyed responder, which accepts any
	 * 32 bytes or more, then answers with a DH on them. */
	resp = fuzz_side(NOISE_ROLE_RESPONDER, NULL, 0x22);
	if (noise_handshake_read_message(resp, data, size, NULL, &error))
		fuzz_finish_responder(resp);
	g_clear_error(&error);
	noise_handshake_free(resp);

	/* 4. The input as message 2, to a keyed initiator. */
	NoiseHandshake *init = fuzz_side(NOISE_ROLE_INITIATOR, fuzz_psk, 0x11);
	GByteArray *m1 = g_byte_array_new();
	if (!noise_handshake_write_message(init, NULL, 0, m1, NULL))
		abort();
	g_byte_array_set_size(payload, 0);
	if (noise_handshake_read_message(init, data, size, payload, &error)) {
		NoiseCipher *s = NULL, *r = NULL;
		guint8 h[NOISE_HASH_LEN];
		if (!noise_handshake_get_hash(init, h) ||
		    !noise_handshake_split(init, &s, &r, NULL))
			abort();
		/* The payload, fed back as a transport message. */
		GByteArray *pt = g_byte_array_new();
		noise_cipher_decrypt(r, NULL, 0, payload->data, payload->len, pt, NULL);
		g_byte_array_unref(pt);
		noise_cipher_free(s);
		noise_cipher_free(r);
	} else if (!error || payload->len != 0) {
		abort();
	}
	g_clear_error(&error);
	noise_handshake_free(init);

	g_byte_array_unref(m1);
	g_byte_array_unref(payload);
	return 0;
}
