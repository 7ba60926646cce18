// SPDX-License-Identifier: Apache-2.0
//
// test_guard.c - replayed handshakes and cookies: the guard's verdicts on a
// virtual clock, and a cookie carried through the framed handshake.
#include "security/channel.h"
#include "security/guard.h"
#include "security/security.h"

#include <string.h>

static const guint8 guard_prologue[8] = {'C', 'I', 'R', 'C', 1, 1, 0, 0};
#define SEC G_USEC_PER_SEC

/* A framed message 1 made with @key (its e at offset 2). */
static GByteArray *
guard_msg1(const guint8 key[32])
{
	g_autoptr(GError) error = NULL;
	GByteArray *out = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate(key, guard_prologue, 8, out, &error);
	g_assert_no_error(error);
	noise_handshake_free(hs);
	g_assert_cmpuint(out->len, ==, 2 + CHANNEL_MSG1_LEN);
	return out;
}

static void
test_replay(void)
{
	guint8 key[32] = {1};
	HandshakeGuard *g = guard_new(100);
	g_autoptr(GByteArray) m = guard_msg1(key);
	const guint8 *msg1 = m->data + 2;
	g_assert_cmpint(guard_check(g, 10 * SEC, msg1, "a", msg1, CHANNEL_MSG1_LEN, NULL), ==,
	                GUARD_ANSWER);
	/* The same message 1 again, from anywhere, at any time. */
	g_assert_cmpint(guard_check(g, 10 * SEC, msg1, "a", msg1, CHANNEL_MSG1_LEN, NULL), ==,
	                GUARD_REPLAY);
	g_assert_cmpint(guard_check(g, 500 * SEC, msg1, "b", msg1, CHANNEL_MSG1_LEN, NULL), ==,
	                GUARD_REPLAY);
	GuardStats st;
	guard_get_stats(g, &st);
	g_assert_cmpuint(st.answered, ==, 1);
	g_assert_cmpuint(st.replays, ==, 2);
	guard_free(g);
}

/* Over the budget a message 1 without a MAC gets a cookie; the MAC made
 * with it passes, for its source only, and also after one rotation. */
static void
test_cookie(void)
{
	guint8 key[32] = {2};
	HandshakeGuard *g = guard_new(10);
	gint64 now = 1000 * SEC;
	for (int i = 0; i < 10; i++) {
		g_autoptr(GByteArray) m = guard_msg1(key);
		g_assert_cmpint(
		        guard_check(g, now, m->data + 2, "s", m->data + 2, CHANNEL_MSG1_LEN, NULL),
		        ==, GUARD_ANSWER);
	}
	g_assert_true(guard_under_load(g, now));
	g_autoptr(GByteArray) m = guard_msg1(key);
	g_assert_cmpint(guard_check(g, now, m->data + 2, "s", m->data + 2, CHANNEL_MSG1_LEN, NULL),
	                ==, GUARD_COOKIE);
	guint8 cookie[GUARD_COOKIE_LEN], mac[GUARD_MAC_LEN];
	guard_cookie(g, now, "s", cookie);

	/* The client's retry: a fresh message 1 with the MAC. */
	g_autoptr(GByteArray) r = guard_msg1(key);
	guard_mac(cookie, r->data + 2, CHANNEL_MSG1_LEN, mac);
	g_assert_cmpint(
	        guard_check(g, now, r->data + 2, "other", r->data + 2, CHANNEL_MSG1_LEN, mac), ==,
	        GUARD_BAD_COOKIE);
	g_assert_cmpint(guard_check(g, now, r->data + 2, "s", r->data + 2, CHANNEL_MSG1_LEN, mac),
	                ==, GUARD_ANSWER);
	/* A MAC over another message 1 does not pass. */
	g_autoptr(GByteArray) r2 = guard_msg1(key);
	g_assert_cmpint(guard_check(g, now, r2->data + 2, "s", r2->data + 2, CHANNEL_MSG1_LEN, mac),
	                ==, GUARD_BAD_COOKIE);
	/* One rotation later the old cookie still counts; two, it does not. */
	g_autoptr(GByteArray) r3 = guard_msg1(key);
	guard_mac(cookie, r3->data + 2, CHANNEL_MSG1_LEN, mac);
	now += (GUARD_SECRET_SECONDS + 1) * SEC;
	g_assert_cmpint(guard_check(g, now, r3->data + 2, "s", r3->data + 2, CHANNEL_MSG1_LEN, mac),
	                ==, GUARD_ANSWER);
	g_autoptr(GByteArray) r4 = guard_msg1(key);
	guard_mac(cookie, r4->data + 2, CHANNEL_MSG1_LEN, mac);
	now += (GUARD_SECRET_SECONDS + 1) * SEC;
	g_assert_cmpint(guard_check(g, now, r4->data + 2, "s", r4->data + 2, CHANNEL_MSG1_LEN, mac),
	                ==, GUARD_BAD_COOKIE);
	/* The load has gone: no cookie asked. */
	g_assert_false(guard_under_load(g, now));
	GuardStats st;
	guard_get_stats(g, &st);
	g_assert_cmpuint(st.cookies, ==, 1);
	g_assert_cmpuint(st.bad_cookies, ==, 3);
	guard_free(g);
}

/* The meter slides: a second after a burst it has worn off in proportion
 * (half a second into the next second, half of the last one counts). */
static void
test_meter(void)
{
	guint8 key[32] = {3};
	HandshakeGuard *g = guard_new(10);
	gint64 t = 50 * SEC;
	for (int i = 0; i < 10; i++) {
		g_autoptr(GByteArray) m = guard_msg1(key);
		guard_check(g, t, m->data + 2, "s", m->data + 2, CHANNEL_MSG1_LEN, NULL);
	}
	g_assert_true(guard_under_load(g, t + SEC / 2));
	g_assert_true(guard_under_load(g, t + SEC - 1));
	g_assert_false(guard_under_load(g, t + SEC + SEC / 2));
	g_assert_false(guard_under_load(g, t + 3 * SEC));
	guard_free(g);
}

/* The cookie reply opens only with the key and for the message 1 it
 * answers; the retry is 16 bytes longer and reads back as having a MAC. */
static void
test_cookie_wire(void)
{
	guint8 key[32] = {4}, other[32] = {5};
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) m = guard_msg1(key);
	guint8 cookie[GUARD_COOKIE_LEN] = {9, 8, 7}, got[GUARD_COOKIE_LEN];
	g_autoptr(GByteArray) reply = g_byte_array_new();
	g_assert_true(channel_cookie_seal(key, m->data + 2, cookie, reply, &error));
	g_assert_cmpuint(reply->len, ==, CHANNEL_COOKIE_REPLY_LEN);
	g_assert_true(channel_cookie_open(key, m->data, reply->data, got, &error));
	g_assert_cmpmem(got, sizeof got, cookie, sizeof cookie);
	g_assert_false(channel_cookie_open(other, m->data, reply->data, got, &error));
	g_clear_error(&error);
	g_autoptr(GByteArray) m2 = guard_msg1(key);
	g_assert_false(channel_cookie_open(key, m2->data, reply->data, got, &error));
	g_clear_error(&error);

	g_autoptr(GByteArray) retry = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate_cookie(key, guard_prologue, 8, cookie, retry, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(retry->len, ==, 2 + CHANNEL_MSG1_LEN + GUARD_MAC_LEN);
	ChannelMsg1 in;
	g_assert_cmpint(channel_accept_read(key, 1, guard_prologue, 8, retry, &in, &error), ==, 1);
	g_assert_true(in.has_mac);
	guint8 mac[GUARD_MAC_LEN];
	guard_mac(cookie, in.msg1, CHANNEL_MSG1_LEN, mac);
	g_assert_cmpmem(mac, sizeof mac, in.mac, sizeof in.mac);
	/* And the handshake completes as usual. */
	g_autoptr(GByteArray) back = g_byte_array_new();
	Channel *s = NULL, *c = NULL;
	g_assert_cmpint(channel_accept_answer(&in, back, &s, &error), ==, 1);
	g_assert_cmpint(channel_initiate_finish(hs, back, &c, &error), ==, 1);
	channel_free(s);
	channel_free(c);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_autoptr(GError) error = NULL;
	if (!security_init(&error))
		g_error("security_init: %s", error->message);
	g_test_add_func("/lib/security/guard/replay", test_replay);
	g_test_add_func("/lib/security/guard/cookie", test_cookie);
	g_test_add_func("/lib/security/guard/meter", test_meter);
	g_test_add_func("/lib/security/guard/cookie-wire", test_cookie_wire);
	return g_test_run();
}
