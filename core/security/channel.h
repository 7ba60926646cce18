// SPDX-License-Identifier: Apache-2.0
//
// channel.h - a Noise_NNpsk0 secured byte stream, shared by circuitd's
// connections and libcircuit. Handshake and transport messages travel as
// [u16 big-endian length][message]; the 8-byte connection preamble is the
// prologue, so a downgrade of the mode or version fails the handshake.
#pragma once

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
