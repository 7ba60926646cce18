// SPDX-License-Identifier: Apache-2.0
//
// keyfile.h - pre-shared key files (`--hmac FILE`, `CIRCUIT_HMAC`) and
// `circuit keygen`.
//
// A key file holds one or more keys, one per line, each the standard
// base64 (with padding) of exactly 32 bytes, optionally followed by blanks
// and the key's name (letters, digits, '-', '_', '.'; at most 32), which
// access rules (--acl) and the op log use; an unnamed key is "key N". Whitespace around a key and
// blank lines are ignored, and so are lines starting with '#'. The first
// key is the one used to connect; every key is accepted from peers, which
// is how a cluster rotates keys without downtime (docs/security.md).
#pragma once

#include <glib.h>
#include <stdbool.h>

#define KEYFILE_KEY_LEN 32u
/* Characters of a key in base64: 4 * ceil(32 / 3). */
#define KEYFILE_KEY_BASE64_LEN 44u
/* The most keys a file may hold: each is tried on every handshake. */
#define KEYFILE_MAX_KEYS 16u
/* Key files are small; anything bigger is not one. */
#define KEYFILE_MAX_SIZE (64u * 1024u)
/* The longest name a key may have. */
#define KEYFILE_NAME_MAX 32u

#define KEYFILE_ERROR (keyfile_error_quark())
GQuark keyfile_error_quark(void);

typedef enum {
	KEYFILE_ERROR_IO = 1,        /* cannot open or read the file */
	KEYFILE_ERROR_EMPTY = 2,     /* no key in it */
	KEYFILE_ERROR_BASE64 = 3,    /* a line is not canonical base64 */
	KEYFILE_ERROR_LENGTH = 4,    /* a line decodes to other than 32 bytes */
	KEYFILE_ERROR_TOO_MANY = 5,  /* more than KEYFILE_MAX_KEYS keys */
	KEYFILE_ERROR_TOO_LARGE = 6, /* file over KEYFILE_MAX_SIZE */
	KEYFILE_ERROR_MODE = 7,      /* readable or writable by group or others */
	KEYFILE_ERROR_NAME = 8,      /* a key's name is malformed or given twice */
} KeyfileErrorCode;

/* The keys of a file, in order; held in wiped memory. */
typedef struct _Keyfile Keyfile;

/*
 * Parses key file text @text of @len bytes (need not be NUL-terminated).
 * Errors name the offending line but never show key material.
 * Returns (transfer full) the keys, to free with keyfile_free(), or NULL
 * with @error set.
 */
Keyfile *keyfile_parse(const char *text, gsize len, GError **error);

/*
 * Reads and parses the key file at @path. A regular file readable or
 * writable by group or others is refused, as OpenSSH refuses such a private
 * key (KEYFILE_ERROR_MODE: "key file /etc/circuit.key is readable by group
 * or others (mode 0644): run chmod 600 /etc/circuit.key"). Returns
 * (transfer full) the keys or NULL with @error set.
 */
Keyfile *keyfile_load(const char *path, GError **error);

/* Number of keys in @kf (at least 1). */
gsize keyfile_get_n_keys(const Keyfile *kf);

/* (transfer none) The name of key @i ("key 1" for an unnamed first key). */
const char *keyfile_get_name(const Keyfile *kf, gsize i);

/* (transfer none) Key @i, KEYFILE_KEY_LEN bytes, valid until keyfile_free(). */
const guint8 *keyfile_get_key(const Keyfile *kf, gsize i);

/* (transfer none) All keys back to back, the first one first: the layout
 * noise_handshake_accept() takes. */
const guint8 *keyfile_get_keys(const Keyfile *kf);

/* Wipes and frees @kf (transfer full); NULL is harmless. */
void keyfile_free(Keyfile *kf);

/*
 * Returns (transfer full) a new key: the base64 of 32 bytes from
 * libgcrypt's GCRY_STRONG_RANDOM, without a newline. STRONG is enough:
 * it comes from libgcrypt's CSPRNG, seeded from the kernel; VERY_STRONG
 * is meant for long-term asymmetric keys and may draw (and wait for) fresh
 * kernel entropy, which adds nothing practical to a 256-bit random key.
 * The string is a secret: free it with keyfile_free_string().
 */
char *keyfile_generate(void);

/* Wipes and frees a string from keyfile_generate(); NULL is harmless. */
void keyfile_free_string(char *s);
