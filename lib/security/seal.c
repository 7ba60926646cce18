// SPDX-License-Identifier: Apache-2.0
//
// seal.c - sealed datagrams and the per-sender replay window.
#include "security/seal.h"

#include "security/security.h"

#include <string.h>

GQuark
seal_error_quark(void)
{
	return g_quark_from_static_string("circuit-seal-error-quark");
}

#define SEAL_KEY_LABEL "Circuit sealed datagram key v1"

/* Header field offsets (all integers big-endian). */
#define SEAL_OFF_VERSION   0u
#define SEAL_OFF_SENDER    1u
#define SEAL_OFF_RECEIVER  9u
#define SEAL_OFF_COUNTER   17u
#define SEAL_OFF_TIMESTAMP 25u
#define SEAL_OFF_NONCE     33u
G_STATIC_ASSERT(SEAL_OFF_NONCE + SECURITY_AEAD_NONCE_LEN == SEAL_HEADER_LEN);

struct _SealKey {
	SecurityAead aead;
};

typedef struct {
	GList link; /* in SealReplay.lru; data points back here */
	guint64 sender_id;
	guint64 highest; /* highest counter accepted */
	guint64 bitmap;  /* bit i: counter highest - i accepted */
	gint64 latest_timestamp;
} SealReplayEntry;

struct _SealReplay {
	GHashTable *senders; /* &entry->sender_id -> entry */
	GQueue lru;          /* most recently heard first */
	guint capacity;
	guint64 unsafe_evictions;
};

static void
seal_u64_encode(guint8 out[8], guint64 v)
{
	for (guint i = 0; i < 8; i++)
		out[i] = (guint8)(v >> (56 - 8 * i));
}

static guint64
seal_u64_decode(const guint8 in[8])
{
	guint64 v = 0;
	for (guint i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

static void
seal_error_from_security(GError **error, GError *local)
{
	if (g_error_matches(local, SECURITY_ERROR, SECURITY_ERROR_AUTH))
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_AUTH,
		            "datagram does not authenticate (wrong key or altered)");
	else
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_CRYPTO, "%s",
		            local ? local->message : "libgcrypt failed");
	g_clear_error(&local);
}

SealKey *
seal_key_derive(const guint8 psk[32], GError **error)
{
	g_return_val_if_fail(psk != NULL, NULL);
	guint8 ck[SECURITY_HASH_LEN], k[SECURITY_HASH_LEN], unused[SECURITY_HASH_LEN];
	GError *local = NULL;

	security_hash2(ck, (const guint8 *)SEAL_KEY_LABEL, strlen(SEAL_KEY_LABEL), NULL, 0);
	security_hkdf(ck, psk, 32, k, unused, NULL);
	SealKey *key = security_alloc(sizeof *key);
	bool ok = security_aead_init(&key->aead, k, &local);
	explicit_bzero(k, sizeof k);
	explicit_bzero(unused, sizeof unused);
	if (!ok) {
		seal_error_from_security(error, local);
		security_free(key, sizeof *key);
		return NULL;
	}
	return key;
}

void
seal_key_free(SealKey *key)
{
	if (!key)
		return;
	security_aead_clear(&key->aead);
	security_free(key, sizeof *key);
}

void
seal_sender_init(SealSender *sender)
{
	g_return_if_fail(sender != NULL);
	/* Not secret, but must not repeat across restarts: a repeated id with a
	 * reset counter would look like a replay to every receiver. */
	gcry_create_nonce(&sender->sender_id, sizeof sender->sender_id);
	sender->counter = 0;
}

bool
seal_datagram(SealKey *key, SealSender *sender, guint64 receiver, gint64 now,
              const guint8 *plaintext, gsize len, GByteArray *out, GError **error)
{
	g_return_val_if_fail(key != NULL && sender != NULL && out != NULL, false);
	g_return_val_if_fail(plaintext != NULL || len == 0, false);
	if (len > SEAL_MAX_PLAINTEXT) {
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_TOO_LONG,
		            "datagram payload of %" G_GSIZE_FORMAT " bytes is too long", len);
		return false;
	}
	if (sender->counter == G_MAXUINT64) {
		/* 2^64 datagrams: unreachable, but never wrap to a used value. */
		seal_sender_init(sender);
	}

	guint old_len = out->len;
	g_byte_array_set_size(out, old_len + SEAL_OVERHEAD + (guint)len);
	guint8 *h = out->data + old_len;
	h[SEAL_OFF_VERSION] = SEAL_VERSION;
	seal_u64_encode(h + SEAL_OFF_SENDER, sender->sender_id);
	seal_u64_encode(h + SEAL_OFF_RECEIVER, receiver);
	seal_u64_encode(h + SEAL_OFF_COUNTER, sender->counter + 1);
	seal_u64_encode(h + SEAL_OFF_TIMESTAMP, (guint64)now);
	/* A random 96-bit nonce: unique per key without coordinating senders
	 * (a collision is expected only after about 2^48 datagrams). */
	gcry_create_nonce(h + SEAL_OFF_NONCE, SECURITY_AEAD_NONCE_LEN);

	GError *local = NULL;
	if (!security_aead_seal(&key->aead, h + SEAL_OFF_NONCE, h, SEAL_HEADER_LEN, plaintext, len,
	                        h + SEAL_HEADER_LEN, &local)) {
		g_byte_array_set_size(out, old_len);
		seal_error_from_security(error, local);
		return false;
	}
	sender->counter++;
	return true;
}

/* True when @counter was not seen yet and is inside the window of @e. */
static bool
seal_replay_fresh(const SealReplayEntry *e, guint64 counter)
{
	if (counter > e->highest)
		return true;
	guint64 age = e->highest - counter;
	if (age >= SEAL_REPLAY_WINDOW)
		return false;
	return !(e->bitmap & (G_GUINT64_CONSTANT(1) << age));
}

static void
seal_replay_record(SealReplayEntry *e, guint64 counter, gint64 timestamp)
{
	if (counter > e->highest) {
		guint64 shift = counter - e->highest;
		e->bitmap = shift >= SEAL_REPLAY_WINDOW ? 0 : e->bitmap << shift;
		e->bitmap |= 1;
		e->highest = counter;
	} else {
		e->bitmap |= G_GUINT64_CONSTANT(1) << (e->highest - counter);
	}
	e->latest_timestamp = MAX(e->latest_timestamp, timestamp);
}

static void
seal_replay_evict(SealReplay *replay, gint64 now)
{
	GList *link = g_queue_peek_tail_link(&replay->lru);
	SealReplayEntry *e = link->data;
	/* Its datagrams stay acceptable until their timestamp is stale. */
	if (now - e->latest_timestamp <= SEAL_MAX_SKEW_SECONDS)
		replay->unsafe_evictions++;
	g_queue_unlink(&replay->lru, link);
	g_hash_table_remove(replay->senders, &e->sender_id);
	g_free(e);
}

/* Checks and, when fresh, records (@sender, @counter). */
static bool
seal_replay_check(SealReplay *replay, guint64 sender, guint64 counter, gint64 timestamp, gint64 now)
{
	if (counter == 0)
		return false; /* senders start at 1 */
	SealReplayEntry *e = g_hash_table_lookup(replay->senders, &sender);
	if (e) {
		if (!seal_replay_fresh(e, counter))
			return false;
		g_queue_unlink(&replay->lru, &e->link);
	} else {
		if (g_hash_table_size(replay->senders) >= replay->capacity)
			seal_replay_evict(replay, now);
		e = g_new0(SealReplayEntry, 1);
		e->link.data = e;
		e->sender_id = sender;
		e->highest = counter;
		e->bitmap = 0;
		e->latest_timestamp = timestamp;
		g_hash_table_insert(replay->senders, &e->sender_id, e);
	}
	seal_replay_record(e, counter, timestamp);
	g_queue_push_head_link(&replay->lru, &e->link);
	return true;
}

bool
seal_open(SealKey *key, SealReplay *replay, guint64 self, gint64 now, const guint8 *in, gsize len,
          GByteArray *out, guint64 *sender_id, GError **error)
{
	g_return_val_if_fail(key != NULL && out != NULL, false);
	g_return_val_if_fail(in != NULL || len == 0, false);
	if (len < SEAL_OVERHEAD) {
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_TRUNCATED,
		            "datagram of %" G_GSIZE_FORMAT " bytes is shorter than a sealed one",
		            len);
		return false;
	}
	if (in[SEAL_OFF_VERSION] != SEAL_VERSION) {
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_VERSION, "sealed datagram version %u",
		            in[SEAL_OFF_VERSION]);
		return false;
	}
	if (len > SEAL_MAX_DATAGRAM) {
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_TRUNCATED,
		            "datagram of %" G_GSIZE_FORMAT " bytes is too long", len);
		return false;
	}

	guint old_len = out->len;
	gsize plain_len = len - SEAL_OVERHEAD;
	GError *local = NULL;
	g_byte_array_set_size(out, old_len + (guint)plain_len);
	if (!security_aead_open(&key->aead, in + SEAL_OFF_NONCE, in, SEAL_HEADER_LEN,
	                        in + SEAL_HEADER_LEN, len - SEAL_HEADER_LEN,
	                        security_array_at(out, old_len), &local)) {
		g_byte_array_set_size(out, old_len);
		seal_error_from_security(error, local);
		return false;
	}

	/* Authenticated from here on: the fields below are the sender's. */
	guint64 sender = seal_u64_decode(in + SEAL_OFF_SENDER);
	guint64 receiver = seal_u64_decode(in + SEAL_OFF_RECEIVER);
	guint64 counter = seal_u64_decode(in + SEAL_OFF_COUNTER);
	gint64 timestamp = (gint64)seal_u64_decode(in + SEAL_OFF_TIMESTAMP);
	/* Before the replay window: a copy captured on its way to another
	 * server must not use up (or learn about) this one's window. */
	if (receiver != 0 && receiver != self) {
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_MISDIRECTED,
		            "datagram sealed for server X%016" G_GINT64_MODIFIER "x, not this one",
		            receiver);
		goto reject;
	}
	/* Compared without overflow: both are arbitrary 64-bit values. */
	bool stale = timestamp > now ? (guint64)timestamp - (guint64)now > SEAL_MAX_SKEW_SECONDS
	                             : (guint64)now - (guint64)timestamp > SEAL_MAX_SKEW_SECONDS;
	if (stale) {
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_STALE,
		            "datagram timestamp is %s by more than %d s",
		            timestamp > now ? "ahead" : "behind", SEAL_MAX_SKEW_SECONDS);
		goto reject;
	}
	if (replay && !seal_replay_check(replay, sender, counter, timestamp, now)) {
		g_set_error(error, SEAL_ERROR, SEAL_ERROR_REPLAY, "datagram replayed");
		goto reject;
	}
	if (sender_id)
		*sender_id = sender;
	return true;

reject:
	security_wipe(security_array_at(out, old_len), plain_len);
	g_byte_array_set_size(out, old_len);
	return false;
}

SealReplay *
seal_replay_new(guint capacity)
{
	SealReplay *replay = g_new0(SealReplay, 1);
	replay->capacity = capacity ? capacity : SEAL_REPLAY_DEFAULT_CAPACITY;
	replay->senders = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&replay->lru);
	return replay;
}

void
seal_replay_free(SealReplay *replay)
{
	if (!replay)
		return;
	GList *link;
	while ((link = g_queue_peek_tail_link(&replay->lru))) {
		g_queue_unlink(&replay->lru, link);
		g_free(link->data);
	}
	g_hash_table_destroy(replay->senders);
	g_free(replay);
}

guint
seal_replay_get_size(const SealReplay *replay)
{
	g_return_val_if_fail(replay != NULL, 0);
	return g_hash_table_size(replay->senders);
}

guint64
seal_replay_get_unsafe_evictions(const SealReplay *replay)
{
	g_return_val_if_fail(replay != NULL, 0);
	return replay->unsafe_evictions;
}
