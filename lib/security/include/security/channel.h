// SPDX-License-Identifier: Apache-2.0
//
// channel.h - a Noise_NNpsk0 secured byte stream, shared by circuitd's
// connections and libcircuit. Handshake and transport messages travel as
// [u16 big-endian length][message]; the 8-byte connection preamble is the
// prologue, so a downgrade of the mode or version fails the handshake.
#pragma once

#include "guard.h"
#include "noise.h"

#include <glib.h>

/* Handshake messages of this protocol are small; anything bigger is an attack. */
#define CHANNEL_HANDSHAKE_MAX 256u
/* Largest plaintext one transport message carries. */
#define CHANNEL_CHUNK NOISE_MAX_PAYLOAD

typedef struct _Channel Channel;

/*
 * Initiator, step 1: (transfer full) a handshake with message 1 (framed)
 * appended to @out.
 */
NoiseHandshake *channel_initiate(const guint8 psk[NOISE_KEY_LEN], const guint8 *prologue,
                                 gsize prologue_len, GByteArray *out, GError **error);

/*
 * Initiator, step 2: reads message 2 from @raw (consumed on success).
 * Returns 1 with *channel set, 0 when more bytes are needed, -1 on error.
 * Frees @hs when it returns 1 or -1.
 */
int channel_initiate_finish(NoiseHandshake *hs, GByteArray *raw, Channel **channel, GError **error);

/*
 * Responder: reads message 1 from @raw, tries each of @n_psks keys, and on
 * success appends message 2 (framed) to @out. Returns 1 with *channel set,
 * 0 when more bytes are needed, -1 on error (NOISE_ERROR_WRONG_KEY when no
 * key authenticates message 1).
 */
int channel_accept(const guint8 *psks, gsize n_psks, const guint8 *prologue, gsize prologue_len,
                   GByteArray *raw, GByteArray *out, Channel **channel, GError **error);

/* Message 1 as circuit sends it: e and the tag of an empty payload. */
#define CHANNEL_MSG1_LEN (NOISE_DH_LEN + NOISE_TAG_LEN)
/* A cookie reply after its refusal preamble: nonce, sealed cookie, tag. */
#define CHANNEL_COOKIE_REPLY_LEN (12u + GUARD_COOKIE_LEN + 16u)

/* An authenticated message 1, read but not yet answered. */
typedef struct {
	NoiseHandshake *hs; /* (owned) NULL once answered or cleared */
	guint key_index;
	guint8 msg1[CHANNEL_MSG1_LEN]; /* its bytes (e first) */
	bool has_mac;                  /* the client appended a cookie MAC */
	guint8 mac[GUARD_MAC_LEN];
} ChannelMsg1;

/*
 * Responder, in two steps, so that the server can decide (guard.h) before
 * any DH: reads and authenticates message 1 from @raw (no DH: that is the
 * cost of a few hashes). Returns 1 with @m filled, 0 when more bytes are
 * needed, -1 on error (NOISE_ERROR_WRONG_KEY when no key authenticates it).
 */
int channel_accept_read(const guint8 *psks, gsize n_psks, const guint8 *prologue,
                        gsize prologue_len, GByteArray *raw, ChannelMsg1 *m, GError **error);

/* Responder, step 2: the DH; appends message 2 (framed) to @out. 1 with
 * *channel set, or -1. @m's handshake is consumed either way. */
int channel_accept_answer(ChannelMsg1 *m, GByteArray *out, Channel **channel, GError **error);

/* Frees @m's handshake, if it still has one. */
void channel_msg1_clear(ChannelMsg1 *m);

/* Appends CHANNEL_COOKIE_REPLY_LEN bytes: @cookie sealed under a key
 * derived from @psk (the key @msg1 was made with), bound to @msg1. */
bool channel_cookie_seal(const guint8 psk[NOISE_KEY_LEN], const guint8 msg1[CHANNEL_MSG1_LEN],
                         const guint8 cookie[GUARD_COOKIE_LEN], GByteArray *out, GError **error);

/* Initiator: opens a cookie reply to the message 1 it sent (@framed_msg1,
 * as channel_initiate() appended it). FALSE when it does not authenticate. */
bool channel_cookie_open(const guint8 psk[NOISE_KEY_LEN], const guint8 *framed_msg1,
                         const guint8 body[CHANNEL_COOKIE_REPLY_LEN],
                         guint8 cookie[GUARD_COOKIE_LEN], GError **error);

/* Initiator, after a cookie: a fresh message 1 with the cookie MAC
 * appended, framed into @out; then channel_initiate_finish() as usual. */
NoiseHandshake *channel_initiate_cookie(const guint8 psk[NOISE_KEY_LEN], const guint8 *prologue,
                                        gsize prologue_len, const guint8 cookie[GUARD_COOKIE_LEN],
                                        GByteArray *out, GError **error);

/* Accepted channels: the index, in the @psks given to channel_accept(), of
 * the key message 1 was made with (0 for dialled channels). */
guint channel_key_index(const Channel *ch);

/* Encrypts @len bytes into framed transport messages appended to @out. */
gboolean channel_seal(Channel *ch, const guint8 *data, gsize len, GByteArray *out, GError **error);

/*
 * Decrypts every complete transport message at the start of @raw into
 * @plain (appended) and removes them from @raw. FALSE on any failure (the
 * connection must be dropped).
 */
gboolean channel_open(Channel *ch, GByteArray *raw, GByteArray *plain, GError **error);

void channel_free(Channel *ch);
