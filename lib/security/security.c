// SPDX-License-Identifier: Apache-2.0
//
// security.c - libgcrypt set-up and the primitives of the Noise suite
// 25519_ChaChaPoly_BLAKE2s that noise.c and seal.c share.
#include "security/security.h"

#include <string.h>

GQuark
security_error_quark(void)
{
	return g_quark_from_static_string("circuit-security-error-quark");
}

static bool
security_check_algorithms(GError **error)
{
	/* A FIPS-mode libgcrypt refuses BLAKE2s and ChaCha20: say so once, here,
	 * rather than failing in the middle of a handshake. */
	if (gcry_md_test_algo(GCRY_MD_BLAKE2S_256) != 0 ||
	    gcry_cipher_test_algo(GCRY_CIPHER_CHACHA20) != 0 ||
	    gcry_ecc_get_algo_keylen(GCRY_ECC_CURVE25519) != 32) {
		g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_CRYPTO,
		            "libgcrypt does not offer BLAKE2s, ChaCha20 and Curve25519 "
		            "(FIPS mode?)");
		return false;
	}
	return true;
}

static bool
security_init_locked(GError **error)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return security_check_algorithms(error);
	if (!gcry_check_version(SECURITY_GCRYPT_MIN_VERSION)) {
		g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_VERSION,
		            "libgcrypt %s is too old (need %s)", gcry_check_version(NULL),
		            SECURITY_GCRYPT_MIN_VERSION);
		return false;
	}
	/* The result is ignored on purpose: when the pool cannot be locked
	 * (RLIMIT_MEMLOCK) libgcrypt still uses and wipes it, which is the
	 * part we rely on; the warning would only alarm users. */
	gcry_control(GCRYCTL_SUSPEND_SECMEM_WARN);
	/* libgcrypt's own secret numbers (an X25519 scalar in a DH) come from
	 * the pool too: a server with a few hundred handshakes in flight
	 * would exhaust a fixed pool inside libgcrypt, which then crashed
	 * (tests/integration/handshake_replay.sh). Let it grow. */
	gcry_control(GCRYCTL_AUTO_EXPAND_SECMEM, (unsigned int)SECURITY_SECMEM_SIZE);
	gcry_control(GCRYCTL_INIT_SECMEM, (unsigned int)SECURITY_SECMEM_SIZE, 0);
	gcry_control(GCRYCTL_RESUME_SECMEM_WARN);
	gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	if (!security_check_algorithms(error))
		return false;
	/* libgcrypt sets up its random generators and curve state on first
	 * use; do that here, under the lock, rather than in several threads
	 * at once (seen: state allocated twice, one copy lost). */
	guint8 scratch[32], point[32];
	gcry_randomize(scratch, sizeof scratch, GCRY_STRONG_RANDOM);
	gcry_create_nonce(scratch, sizeof scratch);
	gcry_ecc_mul_point(GCRY_ECC_CURVE25519, point, scratch, NULL);
	explicit_bzero(scratch, sizeof scratch);
	explicit_bzero(point, sizeof point);
	return true;
}

bool
security_init(GError **error)
{
	/* libcircuit may be dialed from several threads at once: libgcrypt's
	 * initialization must run once, whole, before any thread uses it. */
	static GMutex lock;
	g_mutex_lock(&lock);
	bool ok = security_init_locked(error);
	g_mutex_unlock(&lock);
	return ok;
}

void *
security_alloc(gsize size)
{
	/* The secure pool is small and fixed; a server with many handshakes in
	 * flight outgrows it, and then the ordinary heap (still wiped on free)
	 * is better than refusing connections. Both come from libgcrypt, so
	 * gcry_free() releases either. */
	gsize n = size ? size : 1;
	void *p = gcry_malloc_secure(n);
	if (!p)
		p = gcry_malloc(n);
	if (!p)
		g_error("security_alloc: out of memory (%" G_GSIZE_FORMAT " bytes)", size);
	return memset(p, 0, n);
}

void
security_free(void *p, gsize size)
{
	if (!p)
		return;
	explicit_bzero(p, size);
	gcry_free(p);
}

bool
security_equal(const void *a, const void *b, gsize len)
{
	const volatile guint8 *x = a;
	const volatile guint8 *y = b;
	guint8 acc = 0;
	for (gsize i = 0; i < len; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

static void
security_hash_iov(guint8 out[SECURITY_HASH_LEN], gcry_buffer_t *iov, int n)
{
	gpg_error_t err = gcry_md_hash_buffers(GCRY_MD_BLAKE2S_256, 0, out, iov, n);
	/* Only possible when the algorithm is disabled, which security_init()
	 * has ruled out: there is no safe way to continue. */
	if (err)
		g_error("BLAKE2s failed: %s", gcry_strerror(err));
}

void
security_hash2(guint8 out[SECURITY_HASH_LEN], const guint8 *a, gsize a_len, const guint8 *b,
               gsize b_len)
{
	gcry_buffer_t iov[2] = {
	        {.size = a_len, .len = a_len, .data = (void *)a},
	        {.size = b_len, .len = b_len, .data = (void *)b},
	};
	security_hash_iov(out, iov, b_len ? 2 : 1);
}

void
security_hmac(guint8 out[SECURITY_HASH_LEN], const guint8 *key, gsize key_len, const guint8 *data1,
              gsize data1_len, const guint8 *data2, gsize data2_len)
{
	guint8 pad[SECURITY_BLOCK_LEN];
	guint8 inner[SECURITY_HASH_LEN];
	guint8 hashed_key[SECURITY_HASH_LEN];

	if (key_len > SECURITY_BLOCK_LEN) {
		security_hash2(hashed_key, key, key_len, NULL, 0);
		key = hashed_key;
		key_len = sizeof hashed_key;
	}
	memset(pad, 0x36, sizeof pad);
	for (gsize i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	gcry_buffer_t iov[3] = {
	        {.size = sizeof pad, .len = sizeof pad, .data = pad},
	        {.size = data1_len, .len = data1_len, .data = (void *)data1},
	        {.size = data2_len, .len = data2_len, .data = (void *)data2},
	};
	security_hash_iov(inner, iov, 3);

	memset(pad, 0x5c, sizeof pad);
	for (gsize i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	security_hash2(out, pad, sizeof pad, inner, sizeof inner);

	explicit_bzero(pad, sizeof pad);
	explicit_bzero(inner, sizeof inner);
	explicit_bzero(hashed_key, sizeof hashed_key);
}

void
security_hkdf(const guint8 ck[SECURITY_HASH_LEN], const guint8 *ikm, gsize ikm_len,
              guint8 out1[SECURITY_HASH_LEN], guint8 out2[SECURITY_HASH_LEN],
              guint8 out3[SECURITY_HASH_LEN])
{
	static const guint8 one = 0x01, two = 0x02, three = 0x03;
	guint8 temp_key[SECURITY_HASH_LEN];
	guint8 o1[SECURITY_HASH_LEN], o2[SECURITY_HASH_LEN];

	security_hmac(temp_key, ck, SECURITY_HASH_LEN, ikm, ikm_len, NULL, 0);
	security_hmac(o1, temp_key, sizeof temp_key, &one, 1, NULL, 0);
	security_hmac(o2, temp_key, sizeof temp_key, o1, sizeof o1, &two, 1);
	if (out3)
		security_hmac(out3, temp_key, sizeof temp_key, o2, sizeof o2, &three, 1);
	/* Copies last, so that an output may alias @ck. */
	memcpy(out1, o1, sizeof o1);
	memcpy(out2, o2, sizeof o2);
	explicit_bzero(temp_key, sizeof temp_key);
	explicit_bzero(o1, sizeof o1);
	explicit_bzero(o2, sizeof o2);
}

bool
security_aead_init(SecurityAead *aead, const guint8 key[SECURITY_AEAD_KEY_LEN], GError **error)
{
	gcry_cipher_hd_t hd = NULL;
	/* Secure memory for the key schedule while the pool lasts (see
	 * security_alloc()); libgcrypt wipes either kind on close. */
	gpg_error_t err = gcry_cipher_open(&hd, GCRY_CIPHER_CHACHA20, GCRY_CIPHER_MODE_POLY1305,
	                                   GCRY_CIPHER_SECURE);
	if (err)
		err = gcry_cipher_open(&hd, GCRY_CIPHER_CHACHA20, GCRY_CIPHER_MODE_POLY1305, 0);
	if (!err)
		err = gcry_cipher_setkey(hd, key, SECURITY_AEAD_KEY_LEN);
	if (err) {
		gcry_cipher_close(hd);
		aead->hd = NULL;
		g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_CRYPTO,
		            "cannot set up ChaCha20-Poly1305: %s", gcry_strerror(err));
		return false;
	}
	aead->hd = hd;
	return true;
}

void
security_aead_clear(SecurityAead *aead)
{
	if (aead->hd)
		gcry_cipher_close(aead->hd);
	aead->hd = NULL;
}

static bool
security_aead_start(SecurityAead *aead, const guint8 nonce[SECURITY_AEAD_NONCE_LEN],
                    const guint8 *ad, gsize ad_len, GError **error)
{
	gpg_error_t err = gcry_cipher_setiv(aead->hd, nonce, SECURITY_AEAD_NONCE_LEN);
	if (!err && ad_len)
		err = gcry_cipher_authenticate(aead->hd, ad, ad_len);
	if (err) {
		g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_CRYPTO,
		            "ChaCha20-Poly1305 set-up failed: %s", gcry_strerror(err));
		return false;
	}
	return true;
}

bool
security_aead_seal(SecurityAead *aead, const guint8 nonce[SECURITY_AEAD_NONCE_LEN],
                   const guint8 *ad, gsize ad_len, const guint8 *pt, gsize pt_len, guint8 *out,
                   GError **error)
{
	g_return_val_if_fail(aead->hd != NULL, false);
	if (!security_aead_start(aead, nonce, ad, ad_len, error))
		return false;
	gpg_error_t err = 0;
	if (pt_len) {
		if (out == pt)
			err = gcry_cipher_encrypt(aead->hd, out, pt_len, NULL, 0);
		else
			err = gcry_cipher_encrypt(aead->hd, out, pt_len, pt, pt_len);
	}
	if (!err)
		err = gcry_cipher_gettag(aead->hd, out + pt_len, SECURITY_AEAD_TAG_LEN);
	if (err) {
		explicit_bzero(out, pt_len + SECURITY_AEAD_TAG_LEN);
		g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_CRYPTO,
		            "ChaCha20-Poly1305 encryption failed: %s", gcry_strerror(err));
		return false;
	}
	return true;
}

bool
security_aead_open(SecurityAead *aead, const guint8 nonce[SECURITY_AEAD_NONCE_LEN],
                   const guint8 *ad, gsize ad_len, const guint8 *ct, gsize ct_len, guint8 *out,
                   GError **error)
{
	g_return_val_if_fail(aead->hd != NULL, false);
	if (ct_len < SECURITY_AEAD_TAG_LEN) {
		g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_AUTH,
		            "message shorter than its authentication tag");
		return false;
	}
	gsize n = ct_len - SECURITY_AEAD_TAG_LEN;
	if (!security_aead_start(aead, nonce, ad, ad_len, error))
		return false;
	gpg_error_t err = 0;
	if (n) {
		if (out == ct)
			err = gcry_cipher_decrypt(aead->hd, out, n, NULL, 0);
		else
			err = gcry_cipher_decrypt(aead->hd, out, n, ct, n);
	}
	if (err) {
		security_wipe(out, n);
		g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_CRYPTO,
		            "ChaCha20-Poly1305 decryption failed: %s", gcry_strerror(err));
		return false;
	}
	err = gcry_cipher_checktag(aead->hd, ct + n, SECURITY_AEAD_TAG_LEN);
	if (err) {
		security_wipe(out, n);
		if (gcry_err_code(err) == GPG_ERR_CHECKSUM)
			g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_AUTH,
			            "authentication tag mismatch");
		else
			g_set_error(error, SECURITY_ERROR, SECURITY_ERROR_CRYPTO,
			            "ChaCha20-Poly1305 tag check failed: %s", gcry_strerror(err));
		return false;
	}
	return true;
}
