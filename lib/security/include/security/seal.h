// SPDX-License-Identifier: Apache-2.0
//
// seal.h - sealed datagrams: every UDP datagram of a keyed cluster
// (membership, beacons) is ChaCha20-Poly1305-sealed with a key derived from
// the pre-shared key, and carries a sender id, the receiver's server ID (0:
// anyone), a per-sender counter and a timestamp so that receivers reject
// replays, stale copies and copies meant for another server. The format is
// in docs/security.md. libgcrypt must be initialised (security_init()).
//
// The clock is a parameter (seconds, the Unix epoch in the daemon) so that
// the simulator can run on virtual time.
#pragma once

#include <glib.h>
#include <stdbool.h>

#define SEAL_VERSION 2u
/* version(1) sender id(8) receiver id(8) counter(8) timestamp(8) nonce(12) */
#define SEAL_HEADER_LEN 45u
#define SEAL_TAG_LEN    16u
#define SEAL_OVERHEAD   (SEAL_HEADER_LEN + SEAL_TAG_LEN)
/* The largest UDP payload over IPv4, and so the largest sealed datagram. */
#define SEAL_MAX_DATAGRAM  65507u
#define SEAL_MAX_PLAINTEXT (SEAL_MAX_DATAGRAM - SEAL_OVERHEAD)
/* A datagram whose timestamp is further than this from the receiver's
 * clock, either way, is stale. */
#define SEAL_MAX_SKEW_SECONDS 30
/* How many counters below a sender's highest one are still remembered. */
#define SEAL_REPLAY_WINDOW 64u
/* The default number of senders a replay state remembers. */
#define SEAL_REPLAY_DEFAULT_CAPACITY 1024u

#define SEAL_ERROR (seal_error_quark())
GQuark seal_error_quark(void);

typedef enum {
	SEAL_ERROR_TRUNCATED = 1,   /* shorter than header and tag */
	SEAL_ERROR_VERSION = 2,     /* unknown version byte */
	SEAL_ERROR_AUTH = 3,        /* does not authenticate: wrong key, or altered */
	SEAL_ERROR_STALE = 4,       /* timestamp more than SEAL_MAX_SKEW_SECONDS off */
	SEAL_ERROR_REPLAY = 5,      /* counter already seen, or below the window */
	SEAL_ERROR_TOO_LONG = 6,    /* plaintext over SEAL_MAX_PLAINTEXT */
	SEAL_ERROR_CRYPTO = 7,      /* libgcrypt failed */
	SEAL_ERROR_MISDIRECTED = 8, /* sealed for another receiver */
} SealErrorCode;

/* A datagram key, derived from a pre-shared key. */
typedef struct _SealKey SealKey;

/*
 * The sending side of one process (or one socket): a random 64-bit sender
 * id, drawn afresh by seal_sender_init() at every start, and the counter of
 * the last datagram sent. Embedded; no clear needed (nothing secret).
 */
typedef struct {
	guint64 sender_id;
	guint64 counter;
} SealSender;

/* Per-receiver memory of senders' counters: bounded, LRU-evicted. */
typedef struct _SealReplay SealReplay;

/*
 * Derives the datagram key from the 32-byte pre-shared key @psk:
 * HKDF-BLAKE2s(ck = BLAKE2s("Circuit sealed datagram key v1"), psk), first
 * output. The label keeps it independent of every Noise key.
 * Returns (transfer full) a key to free with seal_key_free(), or NULL with
 * @error set (libgcrypt failure).
 */
SealKey *seal_key_derive(const guint8 psk[32], GError **error);

/* Wipes and frees @key (transfer full); NULL is harmless. */
void seal_key_free(SealKey *key);

/* Draws a fresh random sender id and resets the counter. */
void seal_sender_init(SealSender *sender);

/*
 * Seals @len bytes of @plaintext (NULL when 0) as the next datagram of
 * @sender for @receiver (the server ID of the one it is meant for, or 0
 * when the sender does not know who listens there or it is for everyone),
 * stamped with @now (seconds), appending SEAL_OVERHEAD + @len bytes to @out
 * (which must not contain @plaintext). Fails with SEAL_ERROR_TOO_LONG
 * beyond SEAL_MAX_PLAINTEXT; nothing is appended then.
 */
bool seal_datagram(SealKey *key, SealSender *sender, guint64 receiver, gint64 now,
                   const guint8 *plaintext, gsize len, GByteArray *out, GError **error);

/*
 * Opens the sealed datagram @in (@len bytes) as the receiver @self (its
 * server ID; 0 for a receiver without one, which then accepts only
 * datagrams sealed for receiver 0): checks, in this order, its length and
 * version, its tag under @key (SEAL_ERROR_AUTH), its receiver field, which
 * must be 0 or @self (SEAL_ERROR_MISDIRECTED), its timestamp against @now
 * (SEAL_ERROR_STALE) and, when @replay is not NULL, its sender's counter
 * (SEAL_ERROR_REPLAY); only a datagram that passes them all is recorded in
 * @replay and has its plaintext appended to @out. On failure nothing is
 * appended and @replay is unchanged. @sender_id (nullable) receives the
 * authenticated sender id.
 *
 * Key rotation: with several accepted keys, call it with each key in turn
 * while it fails with SEAL_ERROR_AUTH (one Poly1305 check per key).
 */
bool seal_open(SealKey *key, SealReplay *replay, guint64 self, gint64 now, const guint8 *in,
               gsize len, GByteArray *out, guint64 *sender_id, GError **error);

/*
 * Creates (transfer full) a replay state remembering up to @capacity
 * senders (0 means SEAL_REPLAY_DEFAULT_CAPACITY), about 64 bytes each. When
 * full, the least recently heard sender is forgotten. A forgotten sender
 * whose latest datagrams would still pass the timestamp check could have
 * them replayed once; such evictions are counted
 * (seal_replay_get_unsafe_evictions()), and the capacity should dwarf the
 * number of senders heard within a minute.
 */
SealReplay *seal_replay_new(guint capacity);

/* Frees @replay (transfer full); NULL is harmless. */
void seal_replay_free(SealReplay *replay);

/* Number of senders currently remembered. */
guint seal_replay_get_size(const SealReplay *replay);

/* Number of evictions of a sender whose datagrams were not yet stale. */
guint64 seal_replay_get_unsafe_evictions(const SealReplay *replay);
