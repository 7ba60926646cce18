// SPDX-License-Identifier: Apache-2.0
//
// test_seal.c - tests core/security/seal.c: sealed datagrams, staleness,
// replay windows and the bounded sender table.
#include "security/seal.h"
#include "security/security.h"

#include <string.h>

static const guint8 test_psk[32] = "an example pre-shared key, 32 B";
static const guint8 test_other_psk[32] = "another pre-shared key, 32 bytes";
#define TEST_NOW G_GINT64_CONSTANT(1800000000)

typedef struct {
	SealKey *key;
	SealReplay *replay;
	SealSender sender;
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
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	seal_key_free(f->key);
	seal_replay_free(f->replay);
}

static GByteArray *
test_seal(Fixture *f, SealSender *sender, gint64 now, const char *text)
{
	GError *error = NULL;
	GByteArray *out = g_byte_array_new();
	g_assert_true(seal_datagram(f->key, sender, now, (const guint8 *)text, strlen(text), out,
	                            &error));
	g_assert_no_error(error);
	g_assert_cmpuint(out->len, ==, SEAL_OVERHEAD + strlen(text));
	return out;
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
	if (seal_open(key, f->replay, now, d, len, out, &sender, &error)) {
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
	g_assert_true(
	        seal_datagram(f->key, &f->sender, TEST_NOW, big, SEAL_MAX_PLAINTEXT, out, &error));
	g_assert_cmpuint(out->len, ==, SEAL_MAX_DATAGRAM);
	g_assert_cmpint(test_open(f, f->key, TEST_NOW, out->data, out->len, NULL), ==, 0);
	g_byte_array_set_size(out, 0);
	g_assert_false(seal_datagram(f->key, &f->sender, TEST_NOW, big, SEAL_MAX_PLAINTEXT + 1, out,
	                             &error));
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
	g_assert_true(seal_open(f->key, NULL, TEST_NOW, d[0]->data, d[0]->len, out, NULL, &error));
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
	ADD("/core/security/seal/roundtrip", test_seal_roundtrip);
	ADD("/core/security/seal/replay", test_seal_replay);
	ADD("/core/security/seal/stale", test_seal_stale);
	ADD("/core/security/seal/wrong-key", test_seal_wrong_key);
	ADD("/core/security/seal/truncated", test_seal_truncated);
	ADD("/core/security/seal/flip", test_seal_flip);
	ADD("/core/security/seal/lru", test_seal_lru);
#undef ADD
	return g_test_run();
}
