// SPDX-License-Identifier: Apache-2.0
//
// security.h - libgcrypt initialisation and the primitives shared by the
// Noise handshake (noise.c), sealed datagrams (seal.c) and key files
// (keyfile.c): BLAKE2s, HMAC-BLAKE2s and HKDF as the Noise specification
// (revision 34, section 4.3) defines them, and wiped allocations.
#pragma once

#include <gcrypt.h>
#include <glib.h>
#include <stdbool.h>

/* The oldest libgcrypt with gcry_ecc_mul_point() and BLAKE2s. */
#define SECURITY_GCRYPT_MIN_VERSION "1.9.0"

/* BLAKE2s-256: HASHLEN and BLOCKLEN of the Noise hash function. */
#define SECURITY_HASH_LEN  32u
#define SECURITY_BLOCK_LEN 64u

/* Bytes of secure memory libgcrypt reserves; allocations beyond it fall
 * back to the ordinary heap (see security_alloc()). */
#define SECURITY_SECMEM_SIZE (64u * 1024u)

#define SECURITY_ERROR (security_error_quark())
GQuark security_error_quark(void);

typedef enum {
	SECURITY_ERROR_VERSION = 1, /* libgcrypt is older than SECURITY_GCRYPT_MIN_VERSION */
	SECURITY_ERROR_CRYPTO = 2,  /* a libgcrypt call failed, or an algorithm is disabled */
	SECURITY_ERROR_AUTH = 3,    /* an AEAD tag did not verify */
} SecurityErrorCode;

/*
 * Initialises libgcrypt for the whole process: checks the version, sets up
 * a pool of secure (locked, wiped) memory of SECURITY_SECMEM_SIZE bytes and
 * declares initialisation finished. Idempotent: when libgcrypt has already
 * been initialised (by this function or by the application itself) it
 * returns true at once and changes nothing. Must run before any other
 * function of lib/security, from the main thread, before threads start.
 *
 * When the pool cannot be locked in RAM (RLIMIT_MEMLOCK), it is still used
 * and still wiped; libgcrypt's warning about it is suppressed.
 *
 * A program that wants no secure memory at all (the fuzz targets, so that
 * AddressSanitizer sees every allocation) calls gcry_check_version(NULL)
 * and gcry_control(GCRYCTL_DISABLE_SECMEM, 0) before this function.
 */
bool security_init(GError **error);

/*
 * Returns (transfer full) @size zeroed bytes for secrets, from libgcrypt's
 * secure memory while it lasts, else from the ordinary heap. Never returns
 * NULL (aborts when out of memory, like g_malloc). Free with
 * security_free(), passing the same @size.
 */
void *security_alloc(gsize size);

/* Wipes @size bytes at @p, which may be NULL when @size is 0. */
static inline void
security_wipe(void *p, gsize size)
{
	if (size)
		explicit_bzero(p, size);
}

/* Where to write at offset @off of @a: NULL for an empty array, whose data
 * pointer may be NULL (arithmetic on it would be undefined). */
static inline guint8 *
security_array_at(GByteArray *a, guint off)
{
	return a->data ? a->data + off : NULL;
}

/* Wipes @size bytes at @p and frees them; @p may be NULL. */
void security_free(void *p, gsize size);

/* Constant-time comparison of @len bytes; true when equal. */
bool security_equal(const void *a, const void *b, gsize len);

/* out = BLAKE2s-256(a || b); @b may be NULL when @b_len is 0. */
void security_hash2(guint8 out[SECURITY_HASH_LEN], const guint8 *a, gsize a_len, const guint8 *b,
                    gsize b_len);

/*
 * out = HMAC-BLAKE2s(key, data1 || data2) with a block length of 64 bytes,
 * as in RFC 2104 (the key is at most SECURITY_BLOCK_LEN bytes, as every
 * key passed by Noise is).
 */
void security_hmac(guint8 out[SECURITY_HASH_LEN], const guint8 *key, gsize key_len,
                   const guint8 *data1, gsize data1_len, const guint8 *data2, gsize data2_len);

/*
 * HKDF(chaining_key, input_key_material, num_outputs) of the Noise
 * specification: fills @n_outputs (2 or 3) outputs of SECURITY_HASH_LEN
 * bytes; @out3 is NULL when @n_outputs is 2. @ikm may be NULL when
 * @ikm_len is 0.
 */
void security_hkdf(const guint8 ck[SECURITY_HASH_LEN], const guint8 *ikm, gsize ikm_len,
                   guint8 out1[SECURITY_HASH_LEN], guint8 out2[SECURITY_HASH_LEN],
                   guint8 out3[SECURITY_HASH_LEN]);

/* ChaCha20-Poly1305 (RFC 8439): key, nonce and tag sizes. */
#define SECURITY_AEAD_KEY_LEN   32u
#define SECURITY_AEAD_NONCE_LEN 12u
#define SECURITY_AEAD_TAG_LEN   16u

/*
 * SecurityAead: an embedded ChaCha20-Poly1305 context whose key is set once,
 * so that each message costs only the nonce setup. security_aead_clear()
 * wipes it (libgcrypt wipes cipher contexts when they are closed).
 */
typedef struct {
	gcry_cipher_hd_t hd;
} SecurityAead;

/* Opens @aead with @key (copied). On failure @aead is left cleared. */
bool security_aead_init(SecurityAead *aead, const guint8 key[SECURITY_AEAD_KEY_LEN],
                        GError **error);

/* Closes and wipes @aead; harmless on a cleared or zeroed one. */
void security_aead_clear(SecurityAead *aead);

/*
 * Encrypts @pt_len bytes of @pt under @nonce, authenticating @ad too, into
 * @out, which receives @pt_len + SECURITY_AEAD_TAG_LEN bytes. @out may
 * equal @pt (in place) but must not otherwise overlap it.
 */
bool security_aead_seal(SecurityAead *aead, const guint8 nonce[SECURITY_AEAD_NONCE_LEN],
                        const guint8 *ad, gsize ad_len, const guint8 *pt, gsize pt_len, guint8 *out,
                        GError **error);

/*
 * Verifies and decrypts @ct_len bytes (ciphertext then tag) of @ct into
 * @out, which receives @ct_len - SECURITY_AEAD_TAG_LEN bytes. A bad tag (or
 * @ct_len shorter than a tag) is SECURITY_ERROR_AUTH, and @out is then
 * wiped, so no unauthenticated plaintext escapes. @out may equal @ct.
 */
bool security_aead_open(SecurityAead *aead, const guint8 nonce[SECURITY_AEAD_NONCE_LEN],
                        const guint8 *ad, gsize ad_len, const guint8 *ct, gsize ct_len, guint8 *out,
                        GError **error);
