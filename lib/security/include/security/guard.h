// SPDX-License-Identifier: Apache-2.0
//
// guard.h - what a keyed server decides about a Noise message 1 before it
// spends a Diffie-Hellman on it (docs/security.md, "Replayed handshakes and
// cookies"). A replayed message 1 (its ephemeral key already answered) is
// never answered; while more than @dh_per_second handshakes a second are
// being answered, a message 1 without a cookie MAC gets a cookie instead of
// message 2, so only key holders, who can open the cookie, reach a DH.
// No I/O and no loop: the clock is a parameter, so tests drive it.
#pragma once

#include <glib.h>
#include <stdbool.h>

/* The cookie, and the MAC that proves a client read it. */
#define GUARD_COOKIE_LEN 16u
#define GUARD_MAC_LEN    16u
/* The cookie secret is replaced this often; the previous one still counts. */
#define GUARD_SECRET_SECONDS 120
/* Ephemeral keys remembered, in two generations of this many each. */
#define GUARD_REPLAY_GENERATION 32768u
/* Answered handshakes a second beyond which cookies are asked for. */
#define GUARD_DEFAULT_DH_PER_SECOND 256u

typedef struct _HandshakeGuard HandshakeGuard;

typedef enum {
	GUARD_ANSWER = 0,     /* do the DH and send message 2 */
	GUARD_REPLAY = 1,     /* this ephemeral key was answered before: refuse */
	GUARD_COOKIE = 2,     /* under load: send a cookie, not message 2 */
	GUARD_BAD_COOKIE = 3, /* a cookie MAC that no live secret made: refuse */
} GuardVerdict;

/* Counters, for the server anchor's peek. */
typedef struct {
	guint64 answered;
	guint64 replays;
	guint64 cookies;
	guint64 bad_cookies;
} GuardStats;

/* (transfer full) 0 for @dh_per_second means the default. */
HandshakeGuard *guard_new(guint dh_per_second);
void guard_free(HandshakeGuard *g);

/*
 * The verdict on an authenticated message 1 whose ephemeral key is @e (32
 * bytes), from @source (the peer address as text: the cookie is bound to
 * it), at @now_us (monotonic microseconds). @mac is the cookie MAC the
 * client appended to @msg1 (@msg1_len bytes), NULL when it sent none.
 * ANSWER and COOKIE remember @e, so a later replay of the same message 1
 * is REPLAY.
 */
GuardVerdict guard_check(HandshakeGuard *g, gint64 now_us, const guint8 e[32], const char *source,
                         const guint8 *msg1, gsize msg1_len, const guint8 *mac);

/* The cookie for @source at @now_us (after guard_check() said COOKIE). */
void guard_cookie(HandshakeGuard *g, gint64 now_us, const char *source,
                  guint8 cookie[GUARD_COOKIE_LEN]);

/* Whether the server is answering more handshakes than its budget now. */
bool guard_under_load(HandshakeGuard *g, gint64 now_us);

void guard_get_stats(const HandshakeGuard *g, GuardStats *out);

/* The client's MAC over @msg1 with the cookie it was given. */
void guard_mac(const guint8 cookie[GUARD_COOKIE_LEN], const guint8 *msg1, gsize msg1_len,
               guint8 mac[GUARD_MAC_LEN]);
