// SPDX-License-Identifier: Apache-2.0
//
// channel.c - Noise messages framed on a byte stream (see channel.h).
#include "security/channel.h"

#include "security/security.h"

#include <gcrypt.h>

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
channel_accept_read(const guint8 *psks, gsize n_psks, const guint8 *prologue, gsize prologue_len,
                    GByteArray *raw, ChannelMsg1 *m, GError **error)
{
	memset(m, 0, sizeof *m);
	gboolean bad = FALSE;
	gsize len = channel_peek_len(raw, CHANNEL_HANDSHAKE_MAX, &bad);
	if (bad) {
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "handshake message of a bad size");
		return -1;
	}
	if (len == 0)
		return 0;
	/* Message 1 of NNpsk0 with no payload is e and a tag; a client that
	 * was given a cookie appends its MAC. */
	gsize msg_len = len;
	if (len == CHANNEL_MSG1_LEN + GUARD_MAC_LEN) {
		msg_len = CHANNEL_MSG1_LEN;
		m->has_mac = true;
		memcpy(m->mac, raw->data + 2 + CHANNEL_MSG1_LEN, GUARD_MAC_LEN);
	}
	if (msg_len == CHANNEL_MSG1_LEN)
		memcpy(m->msg1, raw->data + 2, CHANNEL_MSG1_LEN);
	g_autoptr(GByteArray) payload = g_byte_array_new();
	m->hs = noise_handshake_accept(psks, n_psks, prologue, prologue_len, raw->data + 2, msg_len,
	                               payload, &m->key_index, error);
	g_byte_array_remove_range(raw, 0, (guint)(2 + len));
	if (m->hs && msg_len != CHANNEL_MSG1_LEN) {
		/* Authentic, but not what circuit sends (a payload): nothing to
		 * key a replay check on, so it is refused like garbage. */
		g_set_error(error, NOISE_ERROR, NOISE_ERROR_MALFORMED,
		            "handshake message 1 of %zu bytes", msg_len);
		channel_msg1_clear(m);
	}
	return m->hs ? 1 : -1;
}

int
channel_accept_answer(ChannelMsg1 *m, GByteArray *out, Channel **channel, GError **error)
{
	NoiseHandshake *hs = g_steal_pointer(&m->hs);
	g_autoptr(GByteArray) msg = g_byte_array_new();
	*channel = NULL;
	if (noise_handshake_write_message(hs, NULL, 0, msg, error)) {
		channel_frame(out, msg->data, msg->len);
		*channel = channel_from(hs, error);
	}
	noise_handshake_free(hs);
	if (*channel)
		(*channel)->key_index = m->key_index;
	return *channel ? 1 : -1;
}

void
channel_msg1_clear(ChannelMsg1 *m)
{
	if (m->hs)
		noise_handshake_free(m->hs);
	m->hs = NULL;
}

int
channel_accept(const guint8 *psks, gsize n_psks, const guint8 *prologue, gsize prologue_len,
               GByteArray *raw, GByteArray *out, Channel **channel, GError **error)
{
	ChannelMsg1 m;
	int rc = channel_accept_read(psks, n_psks, prologue, prologue_len, raw, &m, error);
	if (rc <= 0)
		return rc;
	return channel_accept_answer(&m, out, channel, error);
}

/* The key a cookie travels under: only holders of @psk can read it. */
static bool
channel_cookie_aead(const guint8 psk[NOISE_KEY_LEN], SecurityAead *aead, GError **error)
{
	static const char label[] = "Circuit cookie key v1";
	guint8 ck[SECURITY_HASH_LEN], k1[SECURITY_HASH_LEN], k2[SECURITY_HASH_LEN];
	security_hash2(ck, (const guint8 *)label, sizeof label - 1, NULL, 0);
	security_hkdf(ck, psk, NOISE_KEY_LEN, k1, k2, NULL);
	bool ok = security_aead_init(aead, k1, error);
	security_wipe(k1, sizeof k1);
	security_wipe(k2, sizeof k2);
	return ok;
}

bool
channel_cookie_seal(const guint8 psk[NOISE_KEY_LEN], const guint8 msg1[CHANNEL_MSG1_LEN],
                    const guint8 cookie[GUARD_COOKIE_LEN], GByteArray *out, GError **error)
{
	SecurityAead aead;
	if (!channel_cookie_aead(psk, &aead, error))
		return false;
	guint8 body[CHANNEL_COOKIE_REPLY_LEN];
	gcry_create_nonce(body, SECURITY_AEAD_NONCE_LEN);
	/* Bound to the message 1 it answers: its tag is the additional data. */
	bool ok = security_aead_seal(&aead, body, msg1 + CHANNEL_MSG1_LEN - NOISE_TAG_LEN,
	                             NOISE_TAG_LEN, cookie, GUARD_COOKIE_LEN,
	                             body + SECURITY_AEAD_NONCE_LEN, error);
	security_aead_clear(&aead);
	if (ok)
		g_byte_array_append(out, body, sizeof body);
	return ok;
}

bool
channel_cookie_open(const guint8 psk[NOISE_KEY_LEN], const guint8 *framed_msg1,
                    const guint8 body[CHANNEL_COOKIE_REPLY_LEN], guint8 cookie[GUARD_COOKIE_LEN],
                    GError **error)
{
	SecurityAead aead;
	if (!channel_cookie_aead(psk, &aead, error))
		return false;
	const guint8 *tag = framed_msg1 + 2 + CHANNEL_MSG1_LEN - NOISE_TAG_LEN;
	bool ok =
	        security_aead_open(&aead, body, tag, NOISE_TAG_LEN, body + SECURITY_AEAD_NONCE_LEN,
	                           GUARD_COOKIE_LEN + SECURITY_AEAD_TAG_LEN, cookie, error);
	security_aead_clear(&aead);
	return ok;
}

NoiseHandshake *
channel_initiate_cookie(const guint8 psk[NOISE_KEY_LEN], const guint8 *prologue, gsize prologue_len,
                        const guint8 cookie[GUARD_COOKIE_LEN], GByteArray *out, GError **error)
{
	g_autoptr(GByteArray) framed = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate(psk, prologue, prologue_len, framed, error);
	if (!hs)
		return NULL;
	guint8 mac[GUARD_MAC_LEN];
	guard_mac(cookie, framed->data + 2, framed->len - 2, mac);
	gsize len = framed->len - 2 + GUARD_MAC_LEN;
	guint8 hdr[2] = {(guint8)(len >> 8), (guint8)len};
	g_byte_array_append(out, hdr, 2);
	g_byte_array_append(out, framed->data + 2, framed->len - 2);
	g_byte_array_append(out, mac, GUARD_MAC_LEN);
	return hs;
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
