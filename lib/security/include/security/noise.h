// SPDX-License-Identifier: Apache-2.0
//
// noise.h - the Noise protocol framework (revision 34) for the suite
// 25519_ChaChaPoly_BLAKE2s and the NN handshake family: NN, and NN with the
// psk modifiers psk0, psk1 and psk2 (alone or combined, "NNpsk0+psk2").
// Circuit itself runs Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s (see
// docs/security.md); the other names exist so that every published test
// vector of the family can be checked.
//
// Built only on libgcrypt, which the caller initialises first with
// security_init(). Objects are not thread-safe; one connection uses one
// handshake and then two ciphers. Secrets live in memory from
// security_alloc() and are wiped when freed.
#pragma once

#include <glib.h>
#include <stdbool.h>

#define NOISE_PROTOCOL_NAME       "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s"
#define NOISE_PROTOCOL_NAME_NOPSK "Noise_NN_25519_ChaChaPoly_BLAKE2s"

#define NOISE_KEY_LEN  32u /* a pre-shared key, a cipher key, an X25519 key */
#define NOISE_DH_LEN   32u /* an X25519 public key on the wire */
#define NOISE_HASH_LEN 32u /* the handshake hash */
#define NOISE_TAG_LEN  16u /* the Poly1305 tag after every encrypted payload */
/* The largest Noise message (handshake or transport), tag included. */
#define NOISE_MAX_MESSAGE 65535u
/* The largest transport payload: a longer one must be split by the caller. */
#define NOISE_MAX_PAYLOAD (NOISE_MAX_MESSAGE - NOISE_TAG_LEN)
/* The most psk modifiers a protocol name may carry. */
#define NOISE_MAX_PSKS 3u

#define NOISE_ERROR (noise_error_quark())
GQuark noise_error_quark(void);

typedef enum {
	/* The first handshake message that mixes in a pre-shared key did not
	 * authenticate: the peer holds another key (or the message was altered
	 * in transit, which cannot be told apart). With Circuit's NNpsk0 that
	 * is message 1, so only the responder reports it. */
	NOISE_ERROR_WRONG_KEY = 1,
	/* Any other message (handshake message 2, transport) did not
	 * authenticate: it was altered, replayed, reordered or truncated. */
	NOISE_ERROR_DECRYPT = 2,
	/* Too short for its tokens, or longer than NOISE_MAX_MESSAGE. */
	NOISE_ERROR_MALFORMED = 3,
	/* A call out of turn: writing when it is the peer's turn, splitting
	 * before the end, using a handshake after it failed. */
	NOISE_ERROR_STATE = 4,
	/* The 2^64-1 nonces of a cipher are used up: rekey by reconnecting. */
	NOISE_ERROR_NONCE_EXHAUSTED = 5,
	/* The peer's ephemeral key gave an all-zero shared secret (a low-order
	 * point), or X25519 failed. */
	NOISE_ERROR_DH = 6,
	/* A protocol name outside the NN family of 25519_ChaChaPoly_BLAKE2s,
	 * or a psk count that does not match it. */
	NOISE_ERROR_UNSUPPORTED = 7,
	/* libgcrypt failed. */
	NOISE_ERROR_CRYPTO = 8,
} NoiseErrorCode;

typedef enum {
	NOISE_ROLE_INITIATOR = 0, /* the dialer: writes message 1 */
	NOISE_ROLE_RESPONDER = 1, /* the acceptor: reads message 1 */
} NoiseRole;

/* What a handshake expects next (noise_handshake_get_action()). */
typedef enum {
	NOISE_ACTION_WRITE = 0,  /* call noise_handshake_write_message() */
	NOISE_ACTION_READ = 1,   /* call noise_handshake_read_message() */
	NOISE_ACTION_SPLIT = 2,  /* done: call noise_handshake_split() */
	NOISE_ACTION_FAILED = 3, /* a step failed: drop the connection */
	NOISE_ACTION_DONE = 4,   /* already split: only the hash is left */
} NoiseAction;

typedef struct _NoiseHandshake NoiseHandshake;
typedef struct _NoiseCipher NoiseCipher;

/*
 * Creates a handshake for Circuit's pattern: Noise_NNpsk0_..._BLAKE2s with
 * the 32-byte pre-shared key @psk, or Noise_NN_... when @psk is NULL (no
 * authentication at all: for tests, never for a keyed server). @psk and
 * @prologue (the bytes both sides must agree on before the handshake,
 * e.g. the connection preamble; NULL when @prologue_len is 0) are copied.
 * The ephemeral key is drawn from libgcrypt's strong random when message
 * writing first needs it.
 *
 * Returns (transfer full) a handshake to free with noise_handshake_free(),
 * or NULL with @error set.
 */
NoiseHandshake *noise_handshake_new(NoiseRole role, const guint8 *psk, const guint8 *prologue,
                                    gsize prologue_len, GError **error);

/*
 * Creates a handshake for any @protocol_name of the supported family
 * ("Noise_NN_25519_ChaChaPoly_BLAKE2s", "Noise_NNpsk2_...", "Noise_NNpsk0+
 * psk2_...": psk0, psk1, psk2 in increasing order). @psks holds @n_psks
 * keys of NOISE_KEY_LEN bytes, back to back, used in the order the psk
 * tokens appear; @n_psks must equal the number of modifiers
 * (NOISE_ERROR_UNSUPPORTED otherwise). Inputs are copied.
 *
 * Returns (transfer full) a handshake, or NULL with @error set.
 */
NoiseHandshake *noise_handshake_new_named(const char *protocol_name, NoiseRole role,
                                          const guint8 *psks, gsize n_psks, const guint8 *prologue,
                                          gsize prologue_len, GError **error);

/*
 * For test vectors only: fixes the local ephemeral private key (copied;
 * the public key is derived from it) instead of a random one. Must be
 * called before the message that sends "e" is written; returns false with
 * NOISE_ERROR_STATE afterwards.
 */
bool noise_handshake_set_ephemeral(NoiseHandshake *hs, const guint8 private_key[NOISE_KEY_LEN],
                                   GError **error);

/* What @hs expects next. */
NoiseAction noise_handshake_get_action(const NoiseHandshake *hs);

/*
 * Writes the next handshake message, carrying @payload (@len bytes, NULL
 * when 0; encrypted once a key is established, which NNpsk0 does from
 * message 1), and appends it to @out (which must not contain @payload).
 * The message is at most NOISE_MAX_MESSAGE bytes, so @len must leave room
 * for the tokens: NOISE_ERROR_MALFORMED otherwise.
 *
 * On failure nothing is appended, and @hs is failed for good unless the
 * error is NOISE_ERROR_STATE or NOISE_ERROR_MALFORMED raised before any
 * state changed (a call out of turn, a payload too long).
 */
bool noise_handshake_write_message(NoiseHandshake *hs, const guint8 *payload, gsize len,
                                   GByteArray *out, GError **error);

/*
 * Reads the next handshake message, @msg of @len bytes, appending its
 * decrypted payload to @payload_out (may be NULL to discard it). Failures:
 * NOISE_ERROR_WRONG_KEY (message 1 of a psk0 pattern does not
 * authenticate; see NoiseErrorCode), NOISE_ERROR_DECRYPT, NOISE_ERROR_MALFORMED,
 * NOISE_ERROR_DH, NOISE_ERROR_STATE. After any failure but a call out of
 * turn, @hs is failed for good (NOISE_ACTION_FAILED) and nothing is
 * appended.
 */
bool noise_handshake_read_message(NoiseHandshake *hs, const guint8 *msg, gsize len,
                                  GByteArray *payload_out, GError **error);

/*
 * Ends a finished handshake (NOISE_ACTION_SPLIT): returns in @send the
 * cipher for messages this side writes and in @recv the one for messages
 * it reads (transfer full, free with noise_cipher_free()), each with its
 * own nonce counter starting at 0. Wipes the handshake's keys; only the
 * handshake hash stays readable. Callable once: NOISE_ERROR_STATE before
 * the end or a second time.
 */
bool noise_handshake_split(NoiseHandshake *hs, NoiseCipher **send, NoiseCipher **recv,
                           GError **error);

/*
 * Copies the handshake hash (the transcript hash h, which both sides agree
 * on once the handshake is finished; usable for channel binding) to @out.
 * Returns false, leaving @out alone, before the handshake is finished.
 */
bool noise_handshake_get_hash(const NoiseHandshake *hs, guint8 out[NOISE_HASH_LEN]);

/* Number of handshake messages written or read so far. */
guint noise_handshake_get_message_index(const NoiseHandshake *hs);

/* Wipes and frees @hs (transfer full); NULL is harmless. */
void noise_handshake_free(NoiseHandshake *hs);

/*
 * Responder side with key rotation: tries each of the @n_psks keys of @psks
 * (NOISE_KEY_LEN bytes each, back to back; the daemon's accepted keys) on
 * the first message @msg in turn (it costs a few hashes per key, no DH),
 * and returns (transfer full) the NNpsk0 responder handshake that read it,
 * with its payload appended to @payload_out (nullable) and the index of the
 * key that worked in @key_index (nullable). When no key fits, returns NULL
 * with NOISE_ERROR_WRONG_KEY; other failures as noise_handshake_read_message().
 */
NoiseHandshake *noise_handshake_accept(const guint8 *psks, gsize n_psks, const guint8 *prologue,
                                       gsize prologue_len, const guint8 *msg, gsize len,
                                       GByteArray *payload_out, guint *key_index, GError **error);

/*
 * Encrypts @len bytes of @plaintext (at most NOISE_MAX_PAYLOAD, NULL when
 * 0) with additional data @ad (@ad_len bytes, NULL when 0; Noise transport
 * messages use none) under the next nonce, appending ciphertext and tag
 * (@len + NOISE_TAG_LEN bytes) to @out, which must not contain @plaintext.
 * Fails with NOISE_ERROR_NONCE_EXHAUSTED at nonce 2^64-1 (reserved by the
 * spec), NOISE_ERROR_MALFORMED when @len is too long.
 */
bool noise_cipher_encrypt(NoiseCipher *c, const guint8 *ad, gsize ad_len, const guint8 *plaintext,
                          gsize len, GByteArray *out, GError **error);

/*
 * Verifies and decrypts @len bytes of @ciphertext (tag included) with @ad
 * under the next nonce, appending the plaintext to @out. A message that
 * does not authenticate is NOISE_ERROR_DECRYPT and does not advance the
 * nonce; the caller should drop the connection, since the stream has lost
 * a message either way. Nothing is appended on failure.
 */
bool noise_cipher_decrypt(NoiseCipher *c, const guint8 *ad, gsize ad_len, const guint8 *ciphertext,
                          gsize len, GByteArray *out, GError **error);

/* The nonce the next message will use. */
guint64 noise_cipher_get_nonce(const NoiseCipher *c);

/* SetNonce() of the spec; for tests (nonce exhaustion, out-of-order). */
void noise_cipher_set_nonce(NoiseCipher *c, guint64 nonce);

/* Wipes and frees @c (transfer full); NULL is harmless. */
void noise_cipher_free(NoiseCipher *c);
