// SPDX-License-Identifier: Apache-2.0
//
// guard.c - replayed handshakes and cookies (see guard.h).
#include "security/guard.h"

#include "security/security.h"

#include <gcrypt.h>
#include <string.h>

/* Ephemeral keys are remembered by their first 16 bytes: only message 1s
 * that authenticated under a cluster key get here, so only key holders
 * could aim at a collision, and they are trusted with more than that. */
#define GUARD_E_PREFIX 16u

struct _HandshakeGuard {
	guint dh_per_second;
	guint8 secret[2][SECURITY_HASH_LEN]; /* current, previous */
	bool have_previous;
	gint64 secret_born;
	GHashTable *seen[2]; /* current and previous generation of ephemeral keys */
	gint64 bucket_start; /* the load meter: answers this second and the last */
	guint bucket_now, bucket_before;
	GuardStats stats;
};

static guint
guard_e_hash(gconstpointer key)
{
	guint h;
	memcpy(&h, key, sizeof h);
	return h;
}

static gboolean
guard_e_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, GUARD_E_PREFIX) == 0;
}

static GHashTable *
guard_seen_new(void)
{
	return g_hash_table_new_full(guard_e_hash, guard_e_equal, g_free, NULL);
}

HandshakeGuard *
guard_new(guint dh_per_second)
{
	HandshakeGuard *g = security_alloc(sizeof *g);
	memset(g, 0, sizeof *g);
	g->dh_per_second = dh_per_second ? dh_per_second : GUARD_DEFAULT_DH_PER_SECOND;
	gcry_randomize(g->secret[0], sizeof g->secret[0], GCRY_STRONG_RANDOM);
	g->secret_born = G_MININT64;
	g->seen[0] = guard_seen_new();
	g->seen[1] = guard_seen_new();
	return g;
}

void
guard_free(HandshakeGuard *g)
{
	if (!g)
		return;
	g_hash_table_destroy(g->seen[0]);
	g_hash_table_destroy(g->seen[1]);
	security_free(g, sizeof *g);
}

static void
guard_rotate(HandshakeGuard *g, gint64 now_us)
{
	if (g->secret_born == G_MININT64) {
		g->secret_born = now_us;
		return;
	}
	if (now_us - g->secret_born < (gint64)GUARD_SECRET_SECONDS * G_USEC_PER_SEC)
		return;
	memcpy(g->secret[1], g->secret[0], sizeof g->secret[0]);
	g->have_previous = true;
	gcry_randomize(g->secret[0], sizeof g->secret[0], GCRY_STRONG_RANDOM);
	g->secret_born = now_us;
}

static void
guard_cookie_of(const guint8 secret[SECURITY_HASH_LEN], const char *source,
                guint8 cookie[GUARD_COOKIE_LEN])
{
	guint8 full[SECURITY_HASH_LEN];
	static const guint8 label[] = "circuit cookie v1";
	security_hmac(full, secret, SECURITY_HASH_LEN, label, sizeof label - 1,
	              (const guint8 *)source, strlen(source));
	memcpy(cookie, full, GUARD_COOKIE_LEN);
	security_wipe(full, sizeof full);
}

void
guard_mac(const guint8 cookie[GUARD_COOKIE_LEN], const guint8 *msg1, gsize msg1_len,
          guint8 mac[GUARD_MAC_LEN])
{
	guint8 full[SECURITY_HASH_LEN];
	security_hmac(full, cookie, GUARD_COOKIE_LEN, msg1, msg1_len, NULL, 0);
	memcpy(mac, full, GUARD_MAC_LEN);
}

void
guard_cookie(HandshakeGuard *g, gint64 now_us, const char *source, guint8 cookie[GUARD_COOKIE_LEN])
{
	guard_rotate(g, now_us);
	guard_cookie_of(g->secret[0], source, cookie);
}

/* Moves the meter's buckets on to the second holding @now_us. */
static void
guard_meter_advance(HandshakeGuard *g, gint64 now_us)
{
	gint64 elapsed = now_us - g->bucket_start;
	if (elapsed < G_USEC_PER_SEC)
		return;
	g->bucket_before = elapsed < 2 * G_USEC_PER_SEC ? g->bucket_now : 0;
	g->bucket_now = 0;
	g->bucket_start = now_us - elapsed % G_USEC_PER_SEC;
}

bool
guard_under_load(HandshakeGuard *g, gint64 now_us)
{
	guard_meter_advance(g, now_us);
	/* A sliding second: the part of the last bucket still inside it. */
	double into = (double)(now_us - g->bucket_start) / G_USEC_PER_SEC;
	double rate = g->bucket_now + g->bucket_before * (1.0 - into);
	return rate >= g->dh_per_second;
}

static bool
guard_seen(HandshakeGuard *g, const guint8 e[32])
{
	return g_hash_table_contains(g->seen[0], e) || g_hash_table_contains(g->seen[1], e);
}

static void
guard_remember(HandshakeGuard *g, const guint8 e[32])
{
	if (g_hash_table_size(g->seen[0]) >= GUARD_REPLAY_GENERATION) {
		g_hash_table_destroy(g->seen[1]);
		g->seen[1] = g->seen[0];
		g->seen[0] = guard_seen_new();
	}
	g_hash_table_add(g->seen[0], g_memdup2(e, GUARD_E_PREFIX));
}

GuardVerdict
guard_check(HandshakeGuard *g, gint64 now_us, const guint8 e[32], const char *source,
            const guint8 *msg1, gsize msg1_len, const guint8 *mac)
{
	guard_rotate(g, now_us);
	if (mac) {
		bool ok = false;
		for (guint i = 0; i < (g->have_previous ? 2u : 1u) && !ok; i++) {
			guint8 cookie[GUARD_COOKIE_LEN], want[GUARD_MAC_LEN];
			guard_cookie_of(g->secret[i], source, cookie);
			guard_mac(cookie, msg1, msg1_len, want);
			ok = security_equal(want, mac, GUARD_MAC_LEN);
			security_wipe(cookie, sizeof cookie);
		}
		if (!ok) {
			g->stats.bad_cookies++;
			return GUARD_BAD_COOKIE;
		}
	}
	if (guard_seen(g, e)) {
		g->stats.replays++;
		return GUARD_REPLAY;
	}
	guard_remember(g, e);
	if (!mac && guard_under_load(g, now_us)) {
		g->stats.cookies++;
		return GUARD_COOKIE;
	}
	guard_meter_advance(g, now_us);
	g->bucket_now++;
	g->stats.answered++;
	return GUARD_ANSWER;
}

void
guard_get_stats(const HandshakeGuard *g, GuardStats *out)
{
	*out = g->stats;
}
