// SPDX-License-Identifier: Apache-2.0
//
// channel.c - Noise messages framed on a byte stream (see channel.h).
#include "channel.h"

#include <string.h>

struct _Channel {
	NoiseCipher *send;
	NoiseCipher *recv;
	guint key_index; /* accepted channels: which of the keys message 1 used */
};

static void
channel_frame(GByteArray *out, const guint8 *msg, gsize len)
{
	guint8 hdr[2] = {(guint8)(len >> 8), (guint8)len};
	g_byte_array_append(out, hdr, 2);
	g_byte_array_append(out, msg, (guint)len);
}

/* Length of the framed message at the start of @raw, 0 if incomplete. */
static gsize
channel_peek_len(const GByteArray *raw, gsize max, gboolean *too_big)
{
	*too_big = FALSE;
	if (raw->len < 2)
		return 0;
	gsize len = ((gsize)raw->data[0] << 8) | raw->data[1];
	if (len > max || len < NOISE_TAG_LEN) {
		*too_big = TRUE;
		return 0;
	}
	return raw->len >= 2 + len ? len : 0;
}

NoiseHandshake *
channel_initiate(const guint8 psk[NOISE_KEY_LEN], const guint8 *prologue, gsize prologue_len,
                 GByteArray *out, GError **error)
{
	NoiseHandshake *hs =
	        noise_handshake_new(NOISE_ROLE_INITIATOR, psk, prologue, prologue_len, error);
	if (!hs)
		return NULL;
	g_autoptr(GByteArray) msg = g_byte_array_new();
	if (!noise_handshake_write_message(hs, NULL, 0, msg, error)) {
		noise_handshake_free(hs);
		return NULL;
	}
	channel_frame(out, msg->data, msg->len);
	return hs;
}

static Channel *
channel_from(NoiseHandshake *hs, GError **error)
{
	Channel *ch = g_new0(Channel, 1);
	if (!noise_handshake_split(hs, &ch->send, &ch->recv, error)) {
		g_free(ch);
		return NULL;
	}
	return ch;
}

int
channel_initiate_finish(NoiseHandshake *hs, GByteArray *raw, Channel **channel, GError **error)
{
	gboolean bad = FALSE;
	gsize len = channel_peek_len(raw, CHANNEL_HANDSHAKE_MAX, &bad);
	if (bad) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "handshake reply of a bad size");
		noise_handshake_free(hs);
		return -1;
	}
	if (len == 0)
		return 0;
	g_autoptr(GByteArray) payload = g_byte_array_new();
	gboolean ok = noise_handshake_read_message(hs, raw->data + 2, len, payload, error);
	g_byte_array_remove_range(raw, 0, (guint)(2 + len));
	*channel = ok ? channel_from(hs, error) : NULL;
	noise_handshake_free(hs);
	return *channel ? 1 : -1;
}

int
channel_accept(const guint8 *psks, gsize n_psks, const guint8 *prologue, gsize prologue_len,
               GByteArray *raw, GByteArray *out, Channel **channel, GError **error)
{
	gboolean bad = FALSE;
	gsize len = channel_peek_len(raw, CHANNEL_HANDSHAKE_MAX, &bad);
	if (bad) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "handshake message of a bad size");
		return -1;
	}
	if (len == 0)
		return 0;
	g_autoptr(GByteArray) payload = g_byte_array_new();
	guint index = 0;
	NoiseHandshake *hs = noise_handshake_accept(psks, n_psks, prologue, prologue_len,
	                                            raw->data + 2, len, payload, &index, error);
	g_byte_array_remove_range(raw, 0, (guint)(2 + len));
	if (!hs)
		return -1;
	g_autoptr(GByteArray) msg = g_byte_array_new();
	if (!noise_handshake_write_message(hs, NULL, 0, msg, error)) {
		noise_handshake_free(hs);
		return -1;
	}
	channel_frame(out, msg->data, msg->len);
	*channel = channel_from(hs, error);
	noise_handshake_free(hs);
	if (*channel)
		(*channel)->key_index = index;
	return *channel ? 1 : -1;
}

guint
channel_key_index(const Channel *ch)
{
	return ch->key_index;
}

gboolean
channel_seal(Channel *ch, const guint8 *data, gsize len, GByteArray *out, GError **error)
{
	while (len > 0) {
		gsize n = MIN(len, CHANNEL_CHUNK);
		/* The length, then the message encrypted straight after it. */
		gsize ct_len = n + NOISE_TAG_LEN;
		guint8 hdr[2] = {(guint8)(ct_len >> 8), (guint8)ct_len};
		guint at = out->len;
		g_byte_array_append(out, hdr, 2);
		if (!noise_cipher_encrypt(ch->send, NULL, 0, data, n, out, error)) {
			g_byte_array_set_size(out, at);
			return FALSE;
		}
		data += n;
		len -= n;
	}
	return TRUE;
}

gboolean
channel_open(Channel *ch, GByteArray *raw, GByteArray *plain, GError **error)
{
	gsize off = 0;
	gboolean ok = TRUE;
	while (raw->len - off >= 2) {
		gsize len = ((gsize)raw->data[off] << 8) | raw->data[off + 1];
		if (len < NOISE_TAG_LEN) {
			g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
			            "transport message of %zu bytes", len);
			ok = FALSE;
			break;
		}
		if (raw->len - off < 2 + len)
			break;
		if (!noise_cipher_decrypt(ch->recv, NULL, 0, raw->data + off + 2, len, plain,
		                          error)) {
			ok = FALSE;
			break;
		}
		off += 2 + len;
	}
	if (off)
		g_byte_array_remove_range(raw, 0, (guint)off);
	return ok;
}

void
channel_free(Channel *ch)
{
	if (!ch)
		return;
	noise_cipher_free(ch->send);
	noise_cipher_free(ch->recv);
	g_free(ch);
}
