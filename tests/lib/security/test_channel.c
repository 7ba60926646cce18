// SPDX-License-Identifier: Apache-2.0
//
// test_channel.c - Noise messages framed on a byte stream: the handshake
// both ways, transport in chunks, and every tampering rejected.
#include "security/channel.h"
#include "security/security.h"

#include <string.h>

static const guint8 channel_prologue[8] = {'C', 'I', 'R', 'C', 1, 1, 0, 0};

static void
channel_key(guint8 key[32], guint8 seed)
{
	for (int i = 0; i < 32; i++)
		key[i] = (guint8)(seed + i);
}

/* Runs a handshake; returns both ends, or asserts. */
static void
channel_pair(const guint8 *client_key, const guint8 *server_keys, gsize n, Channel **client,
             Channel **server)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) wire = g_byte_array_new();
	g_autoptr(GByteArray) back = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate(client_key, channel_prologue, 8, wire, &error);
	g_assert_no_error(error);
	int rc = channel_accept(server_keys, n, channel_prologue, 8, wire, back, server, &error);
	g_assert_no_error(error);
	g_assert_cmpint(rc, ==, 1);
	g_assert_cmpuint(wire->len, ==, 0);
	rc = channel_initiate_finish(hs, back, client, &error);
	g_assert_no_error(error);
	g_assert_cmpint(rc, ==, 1);
}

static void
test_roundtrip(void)
{
	guint8 key[32];
	channel_key(key, 1);
	Channel *c = NULL, *s = NULL;
	channel_pair(key, key, 1, &c, &s);
	/* 200 KB crosses several transport messages. */
	gsize n = 200 * 1024;
	g_autofree guint8 *data = g_malloc(n);
	for (gsize i = 0; i < n; i++)
		data[i] = (guint8)(i * 7);
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) wire = g_byte_array_new();
	g_assert_true(channel_seal(c, data, n, wire, &error));
	g_autoptr(GByteArray) plain = g_byte_array_new();
	/* Arrives in two pieces: the first ends mid-message. */
	g_autoptr(GByteArray) part = g_byte_array_new();
	g_byte_array_append(part, wire->data, 1000);
	g_assert_true(channel_open(s, part, plain, &error));
	g_assert_cmpuint(plain->len, ==, 0);
	g_byte_array_append(part, wire->data + 1000, wire->len - 1000);
	g_assert_true(channel_open(s, part, plain, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(plain->data, plain->len, data, n);
	g_assert_cmpuint(part->len, ==, 0);
	/* And the other way. */
	g_byte_array_set_size(wire, 0);
	g_byte_array_set_size(plain, 0);
	g_assert_true(channel_seal(s, (const guint8 *)"pong", 4, wire, &error));
	g_assert_true(channel_open(c, wire, plain, &error));
	g_assert_cmpmem(plain->data, plain->len, "pong", 4);
	channel_free(c);
	channel_free(s);
}

static void
test_wrong_key(void)
{
	guint8 k1[32], k2[32];
	channel_key(k1, 1);
	channel_key(k2, 2);
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) wire = g_byte_array_new();
	g_autoptr(GByteArray) back = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate(k1, channel_prologue, 8, wire, &error);
	Channel *s = NULL;
	int rc = channel_accept(k2, 1, channel_prologue, 8, wire, back, &s, &error);
	g_assert_cmpint(rc, ==, -1);
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_WRONG_KEY);
	g_assert_cmpuint(back->len, ==, 0); /* nothing sent to an unverified peer */
	noise_handshake_free(hs);
}

static void
test_rotation(void)
{
	guint8 keys[64];
	channel_key(keys, 9);      /* new key first */
	channel_key(keys + 32, 1); /* old key second */
	for (int which = 0; which < 2; which++) {
		Channel *c = NULL, *s = NULL;
		channel_pair(keys + 32 * which, keys, 2, &c, &s);
		channel_free(c);
		channel_free(s);
	}
}

static void
test_flipped_bytes(void)
{
	guint8 key[32];
	channel_key(key, 3);
	/* A flipped byte in message 1 fails the handshake. */
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) wire = g_byte_array_new();
	g_autoptr(GByteArray) back = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate(key, channel_prologue, 8, wire, &error);
	wire->data[wire->len - 3] ^= 0x01;
	Channel *s = NULL;
	g_assert_cmpint(channel_accept(key, 1, channel_prologue, 8, wire, back, &s, &error), ==,
	                -1);
	g_clear_error(&error);
	noise_handshake_free(hs);
	/* A flipped byte in a transport message kills that channel only. */
	Channel *c1 = NULL, *s1 = NULL, *c2 = NULL, *s2 = NULL;
	channel_pair(key, key, 1, &c1, &s1);
	channel_pair(key, key, 1, &c2, &s2);
	g_autoptr(GByteArray) t1 = g_byte_array_new();
	g_autoptr(GByteArray) t2 = g_byte_array_new();
	g_autoptr(GByteArray) plain = g_byte_array_new();
	channel_seal(c1, (const guint8 *)"hello", 5, t1, &error);
	channel_seal(c2, (const guint8 *)"hello", 5, t2, &error);
	t1->data[4] ^= 0x80;
	g_assert_false(channel_open(s1, t1, plain, &error));
	g_clear_error(&error);
	g_assert_true(channel_open(s2, t2, plain, &error));
	g_assert_cmpmem(plain->data, plain->len, "hello", 5);
	/* A different prologue (a downgraded preamble) fails the handshake. */
	static const guint8 plain_prologue[8] = {'C', 'I', 'R', 'C', 1, 0, 0, 0};
	g_byte_array_set_size(wire, 0);
	hs = channel_initiate(key, plain_prologue, 8, wire, &error);
	g_assert_cmpint(channel_accept(key, 1, channel_prologue, 8, wire, back, &s, &error), ==,
	                -1);
	g_clear_error(&error);
	noise_handshake_free(hs);
	channel_free(c1);
	channel_free(s1);
	channel_free(c2);
	channel_free(s2);
}

static void
test_replay(void)
{
	guint8 key[32];
	channel_key(key, 4);
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) wire = g_byte_array_new();
	g_autoptr(GByteArray) back = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate(key, channel_prologue, 8, wire, &error);
	g_autoptr(GByteArray) recorded = g_byte_array_new();
	g_byte_array_append(recorded, wire->data, wire->len);
	Channel *s = NULL, *c = NULL;
	g_assert_cmpint(channel_accept(key, 1, channel_prologue, 8, wire, back, &s, &error), ==, 1);
	g_assert_cmpint(channel_initiate_finish(hs, back, &c, &error), ==, 1);
	g_autoptr(GByteArray) t = g_byte_array_new();
	channel_seal(c, (const guint8 *)"secret op", 9, t, &error);
	/* An eavesdropper replays message 1 and the recorded transport message to
	 * a fresh responder: the responder's new ephemeral key makes new keys, so
	 * the recorded traffic does not open. */
	g_autoptr(GByteArray) back2 = g_byte_array_new();
	Channel *s2 = NULL;
	g_assert_cmpint(channel_accept(key, 1, channel_prologue, 8, recorded, back2, &s2, &error),
	                ==, 1);
	g_autoptr(GByteArray) plain = g_byte_array_new();
	g_assert_false(channel_open(s2, t, plain, &error));
	g_assert_cmpuint(plain->len, ==, 0);
	g_clear_error(&error);
	channel_free(c);
	channel_free(s);
	channel_free(s2);
}

static void
test_framing_limits(void)
{
	guint8 key[32];
	channel_key(key, 5);
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) back = g_byte_array_new();
	Channel *s = NULL;
	/* Incomplete: need more. */
	g_autoptr(GByteArray) wire = g_byte_array_new();
	g_byte_array_append(wire, (const guint8 *)"\x00", 1);
	g_assert_cmpint(channel_accept(key, 1, channel_prologue, 8, wire, back, &s, &error), ==, 0);
	/* A handshake message announced as 60000 bytes is refused at once. */
	g_byte_array_set_size(wire, 0);
	g_byte_array_append(wire, (const guint8 *)"\xea\x60", 2);
	g_assert_cmpint(channel_accept(key, 1, channel_prologue, 8, wire, back, &s, &error), ==,
	                -1);
	g_assert_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_autoptr(GError) error = NULL;
	if (!security_init(&error))
		g_error("security_init: %s", error->message);
	g_test_add_func("/lib/security/channel/roundtrip", test_roundtrip);
	g_test_add_func("/lib/security/channel/wrong-key", test_wrong_key);
	g_test_add_func("/lib/security/channel/rotation", test_rotation);
	g_test_add_func("/lib/security/channel/flipped-bytes", test_flipped_bytes);
	g_test_add_func("/lib/security/channel/replay", test_replay);
	g_test_add_func("/lib/security/channel/framing-limits", test_framing_limits);
	return g_test_run();
}
