// SPDX-License-Identifier: Apache-2.0
//
// seal_open.c - libFuzzer target for sealed datagrams
// (lib/security/seal.c). The first input byte picks a mode:
//
//  - even: the rest is one datagram from the network, opened against a
//    small replay state. Nothing may crash; an accepted datagram must have
//    the size its header implies.
//  - odd: the rest is a script of 5-byte records, each sealing a datagram
//    for sender (b0 & 7) with counter 1 + (b1 << 8 | b2) and timestamp
//    now + (int8)b3, optionally flipping byte b4 (when b0 & 8), for
//    another receiver (when b0 & 16) or else for this one or for anyone
//    (b0 & 1), then opening it. A model of the replay window checks every
//    verdict: a datagram is accepted exactly when it is unaltered, for this
//    receiver or anyone, fresh, not seen before and within
//    SEAL_REPLAY_WINDOW of its sender's highest counter; an unaltered one
//    for another receiver fails as misdirected, whatever its timestamp,
//    and leaves the window as it was.
//    When bit 1 of the mode byte is set, the replay state is smaller than
//    the number of senders, so eviction runs and the model is relaxed.
#include "security/seal.h"
#include "security/security.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NOW     G_GINT64_CONSTANT(1800000000)
#define FUZZ_SENDERS 8u
#define FUZZ_SELF    G_GUINT64_CONSTANT(0x5e1f5e1f5e1f5e1f)
#define FUZZ_OTHER   G_GUINT64_CONSTANT(0x07e407e407e407e4)

static const guint8 fuzz_psk[32] = "circuit fuzz pre-shared key 0001";
static SealKey *fuzz_key;

static void
fuzz_init(void)
{
	if (fuzz_key)
		return;
	/* No secure memory: AddressSanitizer must see every allocation. */
	gcry_check_version(NULL);
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	if (!security_init(NULL))
		abort();
	fuzz_key = seal_key_derive(fuzz_psk, NULL);
	if (!fuzz_key)
		abort();
}

typedef struct {
	guint64 highest; /* 0: nothing accepted yet */
	GHashTable *seen;
} FuzzModel;

static void
fuzz_script(const uint8_t *data, size_t size, bool evicting)
{
	SealReplay *replay = seal_replay_new(evicting ? 3 : FUZZ_SENDERS);
	FuzzModel model[FUZZ_SENDERS];
	for (guint i = 0; i < FUZZ_SENDERS; i++) {
		model[i].highest = 0;
		model[i].seen = g_hash_table_new(g_int64_hash, g_int64_equal);
	}
	GByteArray *d = g_byte_array_new(), *out = g_byte_array_new();
	GSList *keys = NULL;

	for (size_t off = 0; off + 5 <= size; off += 5) {
		const uint8_t *rec = data + off;
		guint who = rec[0] & 7;
		bool flip = rec[0] & 8;
		bool misdirected = rec[0] & 16;
		guint64 receiver = misdirected ? FUZZ_OTHER : (rec[0] & 1) ? FUZZ_SELF : 0;
		guint64 counter = 1 + (((guint64)rec[1] << 8) | rec[2]);
		gint64 skew = (gint8)rec[3];
		SealSender sender = {.sender_id = 0x5e0de7 + who, .counter = counter - 1};

		g_byte_array_set_size(d, 0);
		g_byte_array_set_size(out, 0);
		if (!seal_datagram(fuzz_key, &sender, receiver, FUZZ_NOW + skew, &rec[4], 1, d,
		                   NULL))
			abort();
		if (flip)
			d->data[rec[4] % d->len] ^= (guint8)(1u << (rec[0] >> 5));
		GError *error = NULL;
		guint64 got_sender = 0;
		bool ok = seal_open(fuzz_key, replay, FUZZ_SELF, FUZZ_NOW, d->data, d->len, out,
		                    &got_sender, &error);

		FuzzModel *m = &model[who];
		bool fresh = skew >= -SEAL_MAX_SKEW_SECONDS && skew <= SEAL_MAX_SKEW_SECONDS;
		bool seen = g_hash_table_contains(m->seen, &counter);
		bool in_window = m->highest == 0 || counter > m->highest ||
		                 m->highest - counter < SEAL_REPLAY_WINDOW;
		bool expect = !flip && !misdirected && fresh && !seen && in_window;
		if (ok) {
			if (error || out->len != 1 || out->data[0] != rec[4] ||
			    got_sender != sender.sender_id)
				abort();
			/* Eviction may forget a sender, so only then may a datagram the
			 * model refuses pass. */
			if (!expect && !(evicting && !flip && !misdirected && fresh))
				abort();
		} else {
			if (!error || out->len != 0)
				abort();
			if (expect && !evicting)
				abort();
			if (!flip && misdirected &&
			    !g_error_matches(error, SEAL_ERROR, SEAL_ERROR_MISDIRECTED))
				abort();
		}
		if (ok) {
			gint64 *key = g_new(gint64, 1);
			*key = (gint64)counter;
			keys = g_slist_prepend(keys, key);
			g_hash_table_add(m->seen, key);
			m->highest = MAX(m->highest, counter);
		}
		g_clear_error(&error);
	}
	if (!evicting && seal_replay_get_unsafe_evictions(replay) != 0)
		abort();

	for (guint i = 0; i < FUZZ_SENDERS; i++)
		g_hash_table_destroy(model[i].seen);
	g_slist_free_full(keys, g_free);
	g_byte_array_unref(d);
	g_byte_array_unref(out);
	seal_replay_free(replay);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		fuzz_script(data + 1, size - 1, data[0] & 2);
		return 0;
	}
	SealReplay *replay = seal_replay_new(2);
	GByteArray *out = g_byte_array_new();
	GError *error = NULL;
	for (guint round = 0; round < 2; round++) {
		bool ok = seal_open(fuzz_key, replay, FUZZ_SELF, FUZZ_NOW, data + 1, size - 1, out,
		                    NULL, &error);
		if (ok && (error || out->len != size - 1 - SEAL_OVERHEAD))
			abort();
		if (!ok && (!error || out->len != 0))
			abort();
		/* The same datagram twice is never accepted twice. */
		if (round == 1 && ok)
			abort();
		g_clear_error(&error);
		g_byte_array_set_size(out, 0);
	}
	g_byte_array_unref(out);
	seal_replay_free(replay);
	return 0;
}
