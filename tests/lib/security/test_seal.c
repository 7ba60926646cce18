// SPDX-License-Identifier: Apache-2.0
//
// test_seal.c - tests lib/security/seal.c: sealed datagrams, staleness,
// receiver binding, replay windows and the bounded sender table.
#include "security/seal.h"
#include "security/security.h"

#include <string.h>

static const guint8 test_psk[32] = "an example pre-shared key, 32 B";
static const guint8 test_other_psk[32] = "another pre-shared key, 32 bytes";
#define TEST_NOW G_GINT64_CONSTANT(1800000000)
/* Two servers of one cluster. */
#define TEST_A G_GUINT64_CONSTANT(0x0a0a0a0a0a0a0a0a)
#define TEST_B G_GUINT64_CONSTANT(0x0b0b0b0b0b0b0b0b)

typedef struct {
	SealKey *key;
	SealReplay *replay;
	SealSender sender;
	guint64 self; /* the receiver test_open() opens as */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	GError *error = NULL;
	f->key = seal_key_derive(test_psk, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->key);
	f->replay = seal_replay_new(0);
	seal_sender_init(&f->sender);
	f->self = TEST_A;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	seal_key_free(f->key);
	seal_replay_free(f->replay);
}

static GByteArray *
test_seal_for(Fixture *f, SealSender *sender, guint64 receiver, gint64 now, const char *text)
{
	GError *error = NULL;
	GByteArray *out = g_byte_array_new();
	g_assert_true(seal_datagram(f->key, sender, receiver, now, (const guint8 *)text,
	                            strlen(text), out, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(out->len, ==, SEAL_OVERHEAD + strlen(text));
	return out;
}

/* For anyone (receiver 0). */
static GByteArray *
test_seal(Fixture *f, SealSender *sender, gint64 now, const char *text)
{
	return test_seal_for(f, sender, 0, now, text);
}

/* Opens @d; returns the error code, 0 on success (checking the text). */
static int
test_open(Fixture *f, SealKey *key, gint64 now, const guint8 *d, gsize len, const char *want)
{
	GError *error = NULL;
	GByteArray *out = g_byte_array_new();
	guint64 sender = 0;
	int code = 0;
	g_byte_array_append(out, (const guint8 *)"pre", 3);
	if (seal_open(key, f->replay, f->self, now, d, len, out, &sender, &error)) {
		g_assert_no_error(error);
		g_assert_cmpmem(out->data, 3, "pre", 3);
		if (want)
			g_assert_cmpmem(out->data + 3, out->len - 3, want, strlen(want));
		g_assert_cmpuint(sender, ==, f->sender.sender_id);
	} else {
		g_assert_nonnull(error);
		g_assert_cmpuint(error->domain, ==, SEAL_ERROR);
		code = error->code;
		g_clear_error(&error);
		/* Nothing appended on failure. */
		g_assert_cmpuint(out->len, ==, 3);
	}
	g_byte_array_unref(out);
	return code;
}

static void
test_seal_roundtrip(Fixture *f, gconstpointer data)
{
	GByteArray *d = test_seal(f, &f->sender, TEST_NOW, "membership ping");
	g_assert_cmpuint(d->data[0], ==, SEAL_VERSION);
	/* The plaintext does not show. */
	for (guint i = 0; i + 10 <= d->len; i++)
		g_assert_cmpint(memcmp(d->data + i, "membership", 10), !=, 0);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "membership ping"), ==, 0);
	g_byte_array_unref(d);

	/* Empty payloads are fine. */
	d = test_seal(f, &f->sender, TEST_NOW, "");
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, ""), ==, 0);
	g_byte_array_unref(d);

	/* Another key derived from the same psk opens it; the counter runs. */
	GError *error = NULL;
	SealKey *same = seal_key_derive(test_psk, &error);
	g_assert_no_error(error);
	d = test_seal(f, &f->sender, TEST_NOW, "third");
	g_assert_cmpuint(f->sender.counter, ==, 3);
	g_assert_cmpint(test_open(f, same, TEST_NOW, d->data, d->len, "third"), ==, 0);
	g_byte_array_unref(d);
	seal_key_free(same);
	seal_key_free(NULL);

	/* Size limit. */
	guint8 *big = g_malloc0(SEAL_MAX_PLAINTEXT + 1);
	GByteArray *out = g_byte_array_new();
	g_assert_true(seal_datagram(f->key, &f->sender, 0, TEST_NOW, big, SEAL_MAX_PLAINTEXT, out,
	                            &error));
	g_assert_cmpuint(out->len, ==, SEAL_MAX_DATAGRAM);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, out->data, out->len, NULL), ==, 0);
	g_byte_array_set_size(out, 0);
	g_assert_false(seal_datagram(f->key, &f->sender, 0, TEST_NOW, big, SEAL_MAX_PLAINTEXT + 1,
	                             out, &error));
	g_assert_error(error, SEAL_ERROR, SEAL_ERROR_TOO_LONG);
	g_clear_error(&error);
	g_assert_cmpuint(out->len, ==, 0);
	g_byte_array_unref(out);
	g_free(big);
}

static void
test_seal_replay(Fixture *f, gconstpointer data)
{
	GByteArray *d[SEAL_REPLAY_WINDOW + 2];
	for (guint i = 0; i < G_N_ELEMENTS(d); i++)
		d[i] = test_seal(f, &f->sender, TEST_NOW, "beacon");

	/* In order, then each again. */
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[0]->data, d[0]->len, "beacon"), ==, 0);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[0]->data, d[0]->len, NULL), ==,
	                SEAL_ERROR_REPLAY);
	/* Out of order inside the window is accepted once. */
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[5]->data, d[5]->len, NULL), ==, 0);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[3]->data, d[3]->len, NULL), ==, 0);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[3]->data, d[3]->len, NULL), ==,
	                SEAL_ERROR_REPLAY);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[5]->data, d[5]->len, NULL), ==,
	                SEAL_ERROR_REPLAY);
	/* Jump ahead: counter 66 makes counter 2 (d[1]) fall out of the window. */
	guint last = G_N_ELEMENTS(d) - 1;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[last]->data, d[last]->len, NULL), ==, 0);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[1]->data, d[1]->len, NULL), ==,
	                SEAL_ERROR_REPLAY);
	/* Counter 3 (d[2]) is exactly SEAL_REPLAY_WINDOW - 1 below: still in. */
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d[2]->data, d[2]->len, NULL), ==, 0);
	g_assert_cmpuint(seal_replay_get_size(f->replay), ==, 1);

	/* Without a replay state (e.g. a one-shot tool), duplicates pass. */
	GError *error = NULL;
	GByteArray *out = g_byte_array_new();
	g_assert_true(
	        seal_open(f->key, NULL, 0, TEST_NOW, d[0]->data, d[0]->len, out, NULL, &error));
	g_assert_no_error(error);
	g_byte_array_unref(out);

	/* A restarted sender has a new id and starts again at 1. */
	SealSender restarted;
	seal_sender_init(&restarted);
	g_assert_cmpuint(restarted.sender_id, !=, f->sender.sender_id);
	GByteArray *r = test_seal(f, &restarted, TEST_NOW, "hello again");
	f->sender = restarted;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, r->data, r->len, "hello again"), ==, 0);
	g_assert_cmpuint(seal_replay_get_size(f->replay), ==, 2);
	g_byte_array_unref(r);

	for (guint i = 0; i < G_N_ELEMENTS(d); i++)
		g_byte_array_unref(d[i]);
}

static void
test_seal_stale(Fixture *f, gconstpointer data)
{
	static const gint64 offsets[] = {-SEAL_MAX_SKEW_SECONDS, 0, SEAL_MAX_SKEW_SECONDS};
	for (gsize i = 0; i < G_N_ELEMENTS(offsets); i++) {
		GByteArray *d = test_seal(f, &f->sender, TEST_NOW + offsets[i], "t");
		g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "t"), ==, 0);
		g_byte_array_unref(d);
	}
	static const gint64 bad[] = {-SEAL_MAX_SKEW_SECONDS - 1, SEAL_MAX_SKEW_SECONDS + 1,
	                             -TEST_NOW, G_MAXINT64 - TEST_NOW};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		GByteArray *d = test_seal(f, &f->sender, TEST_NOW + bad[i], "t");
		g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
		                SEAL_ERROR_STALE);
		g_byte_array_unref(d);
	}
	/* A recorded datagram replayed later is stale even to a receiver that
	 * never saw it. */
	GByteArray *d = test_seal(f, &f->sender, TEST_NOW, "recorded");
	SealReplay *fresh = seal_replay_new(0);
	SealReplay *saved = f->replay;
	f->replay = fresh;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW + 31, d->data, d->len, NULL), ==,
	                SEAL_ERROR_STALE);
	g_assert_cmpuint(seal_replay_get_size(fresh), ==, 0);
	f->replay = saved;
	seal_replay_free(fresh);
	g_byte_array_unref(d);
}

static void
test_seal_receiver(Fixture *f, gconstpointer data)
{
	/* The receiver field is in the header, at offset 9. */
	GByteArray *d = test_seal_for(f, &f->sender, TEST_A, TEST_NOW, "for A");
	g_assert_cmpuint(d->data[0], ==, 2);
	for (guint i = 0; i < 8; i++)
		g_assert_cmpuint(d->data[9 + i], ==, 0x0a);

	/* Captured on its way to A and replayed to B: misdirected, and B's
	 * replay state is untouched... */
	f->self = TEST_B;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
	                SEAL_ERROR_MISDIRECTED);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
	                SEAL_ERROR_MISDIRECTED);
	g_assert_cmpuint(seal_replay_get_size(f->replay), ==, 0);
	/* ...so the same state, as A, still takes it once. */
	f->self = TEST_A;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "for A"), ==, 0);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
	                SEAL_ERROR_REPLAY);
	/* Misdirected even when also replayed: the receiver is checked first. */
	f->self = TEST_B;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
	                SEAL_ERROR_MISDIRECTED);
	/* A receiver without a server ID (a client, self 0) refuses it too. */
	f->self = 0;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
	                SEAL_ERROR_MISDIRECTED);
	g_byte_array_unref(d);

	/* Before the timestamp as well: a stale copy for A is misdirected at B. */
	d = test_seal_for(f, &f->sender, TEST_A, TEST_NOW - 1000, "old");
	f->self = TEST_B;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
	                SEAL_ERROR_MISDIRECTED);
	f->self = TEST_A;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
	                SEAL_ERROR_STALE);
	g_byte_array_unref(d);

	/* Receiver 0 (a seed address, a beacon): accepted by anyone, once per
	 * replay state. */
	static const guint64 anyone[] = {TEST_A, TEST_B, 0};
	d = test_seal(f, &f->sender, TEST_NOW, "for anyone");
	for (gsize i = 0; i < G_N_ELEMENTS(anyone); i++) {
		SealReplay *saved = f->replay;
		f->replay = seal_replay_new(0);
		f->self = anyone[i];
		g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "for anyone"), ==,
		                0);
		g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
		                SEAL_ERROR_REPLAY);
		seal_replay_free(f->replay);
		f->replay = saved;
	}
	g_byte_array_unref(d);

	/* The receiver field is authenticated: rewriting it to B breaks the tag. */
	d = test_seal_for(f, &f->sender, TEST_A, TEST_NOW, "for A");
	for (guint i = 0; i < 8; i++)
		d->data[9 + i] = 0x0b;
	f->self = TEST_B;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==, SEAL_ERROR_AUTH);
	g_byte_array_unref(d);
}

static void
test_seal_version(Fixture *f, gconstpointer data)
{
	/* Version 1 (no receiver field; 37-byte header) is refused before any
	 * cryptography, as is anything but the current version. */
	GByteArray *d = test_seal(f, &f->sender, TEST_NOW, "versioned");
	static const guint8 versions[] = {0, 1, 3, 255};
	for (gsize i = 0; i < G_N_ELEMENTS(versions); i++) {
		d->data[0] = versions[i];
		g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==,
		                SEAL_ERROR_VERSION);
	}
	d->data[0] = SEAL_VERSION;
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "versioned"), ==, 0);
	g_byte_array_unref(d);
	g_assert_cmpuint(SEAL_VERSION, ==, 2);
	g_assert_cmpuint(SEAL_HEADER_LEN, ==, 45);
	g_assert_cmpuint(SEAL_OVERHEAD, ==, 61);
}

static void
test_seal_wrong_key(Fixture *f, gconstpointer data)
{
	GError *error = NULL;
	SealKey *other = seal_key_derive(test_other_psk, &error);
	g_assert_no_error(error);
	GByteArray *d = test_seal(f, &f->sender, TEST_NOW, "secret");
	g_assert_cmpint(test_open(f, other, TEST_NOW, d->data, d->len, NULL), ==, SEAL_ERROR_AUTH);
	/* The failure left no trace in the replay state. */
	g_assert_cmpuint(seal_replay_get_size(f->replay), ==, 0);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "secret"), ==, 0);
	seal_key_free(other);
	g_byte_array_unref(d);
}

static void
test_seal_truncated(Fixture *f, gconstpointer data)
{
	GByteArray *d = test_seal(f, &f->sender, TEST_NOW, "some payload");
	for (gsize n = 0; n < d->len; n++) {
		int code = test_open(f, f->key, TEST_NOW, n ? d->data : NULL, n, NULL);
		g_assert_cmpint(code, ==,
		                n < SEAL_OVERHEAD ? SEAL_ERROR_TRUNCATED : SEAL_ERROR_AUTH);
	}
	/* Extended by a byte. */
	g_byte_array_append(d, (const guint8 *)"x", 1);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, NULL), ==, SEAL_ERROR_AUTH);
	g_byte_array_set_size(d, d->len - 1);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "some payload"), ==, 0);
	g_byte_array_unref(d);
}

static void
test_seal_flip(Fixture *f, gconstpointer data)
{
	GByteArray *d = test_seal(f, &f->sender, TEST_NOW, "flip me");
	for (guint i = 0; i < d->len; i++) {
		d->data[i] ^= 0x04;
		int code = test_open(f, f->key, TEST_NOW, d->data, d->len, NULL);
		g_assert_cmpint(code, ==, i == 0 ? SEAL_ERROR_VERSION : SEAL_ERROR_AUTH);
		d->data[i] ^= 0x04;
	}
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, d->data, d->len, "flip me"), ==, 0);
	g_byte_array_unref(d);
}

static void
test_seal_lru(Fixture *f, gconstpointer data)
{
	seal_replay_free(f->replay);
	f->replay = seal_replay_new(4);
	SealSender senders[6];
	GByteArray *first[6];
	for (guint i = 0; i < 6; i++) {
		seal_sender_init(&senders[i]);
		f->sender = senders[i];
		/* Senders 0 and 1 spoke long ago (their datagrams are stale now). */
		gint64 t = i < 2 ? TEST_NOW - 100 : TEST_NOW;
		first[i] = test_seal(f, &senders[i], t, "x");
		g_assert_cmpint(test_open(f, f->key, t, first[i]->data, first[i]->len, "x"), ==, 0);
	}
	/* The two oldest were evicted, safely: their datagrams are stale. */
	g_assert_cmpuint(seal_replay_get_size(f->replay), ==, 4);
	g_assert_cmpuint(seal_replay_get_unsafe_evictions(f->replay), ==, 0);
	for (guint i = 2; i < 6; i++) {
		f->sender = senders[i];
		g_assert_cmpint(test_open(f, f->key, TEST_NOW, first[i]->data, first[i]->len, NULL),
		                ==, SEAL_ERROR_REPLAY);
	}
	/* Sender 2 was heard most recently after a fresh datagram; a new one
	 * evicts sender 3, which is not yet stale: counted. */
	f->sender = senders[2];
	GByteArray *again = test_seal(f, &senders[2], TEST_NOW, "y");
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, again->data, again->len, "y"), ==, 0);
	SealSender newcomer;
	seal_sender_init(&newcomer);
	f->sender = newcomer;
	GByteArray *n = test_seal(f, &newcomer, TEST_NOW, "z");
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, n->data, n->len, "z"), ==, 0);
	g_assert_cmpuint(seal_replay_get_size(f->replay), ==, 4);
	g_assert_cmpuint(seal_replay_get_unsafe_evictions(f->replay), ==, 1);
	/* Sender 2 is still remembered. */
	f->sender = senders[2];
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, again->data, again->len, NULL), ==,
	                SEAL_ERROR_REPLAY);
	g_byte_array_unref(again);
	g_byte_array_unref(n);
	for (guint i = 0; i < 6; i++)
		g_byte_array_unref(first[i]);
}

int
main(int argc, char **argv)
{
	GError *error = NULL;
	g_test_init(&argc, &argv, NULL);
	g_assert_true(security_init(&error));
	g_assert_no_error(error);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/lib/security/seal/roundtrip", test_seal_roundtrip);
	ADD("/lib/security/seal/replay", test_seal_replay);
	ADD("/lib/security/seal/stale", test_seal_stale);
	ADD("/lib/security/seal/receiver", test_seal_receiver);
	ADD("/lib/security/seal/version", test_seal_version);
	ADD("/lib/security/seal/wrong-key", test_seal_wrong_key);
	ADD("/lib/security/seal/truncated", test_seal_truncated);
	ADD("/lib/security/seal/flip", test_seal_flip);
	ADD("/lib/security/seal/lru", test_seal_lru);
#undef ADD
	return g_test_run();
}
