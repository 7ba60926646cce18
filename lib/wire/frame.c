// SPDX-License-Identifier: Apache-2.0
#include "wire/frame.h"

#include <errno.h>
#include <string.h>

static const guint8 frame_magic[4] = {'C', 'I', 'R', 'C'};

void
frame_u32_encode(guint8 out[4], guint32 v)
{
	out[0] = (guint8)(v >> 24);
	out[1] = (guint8)(v >> 16);
	out[2] = (guint8)(v >> 8);
	out[3] = (guint8)v;
}

guint32
frame_u32_decode(const guint8 in[4])
{
	return ((guint32)in[0] << 24) | ((guint32)in[1] << 16) | ((guint32)in[2] << 8) |
	       (guint32)in[3];
}

void
frame_header_encode(guint8 out[FRAME_HEADER_SIZE], FrameType type, guint32 stream, guint32 len)
{
	frame_u32_encode(out, len);
	out[4] = (guint8)type;
	out[5] = 0;
	out[6] = 0;
	out[7] = 0;
	frame_u32_encode(out + 8, stream);
}

int
frame_header_decode(const guint8 *in, gsize avail, guint32 max, FrameHeader *out)
{
	if (avail < FRAME_HEADER_SIZE)
		return 0;
	out->len = frame_u32_decode(in);
	out->type = in[4];
	out->flags = in[5];
	out->stream = frame_u32_decode(in + 8);
	if (out->type < FRAME_HELLO || out->type > FRAME_RESET || out->flags != 0 || in[6] != 0 ||
	    in[7] != 0)
		return -EPROTO;
	if (out->len > max)
		return -EMSGSIZE;
	/* HELLO lives on stream 0 and nothing else does. */
	if ((out->type == FRAME_HELLO) != (out->stream == 0))
		return -EPROTO;
	if (out->type == FRAME_CREDIT && out->len != 4)
		return -EPROTO;
	if (out->type == FRAME_EOF && out->len != 0)
		return -EPROTO;
	return 1;
}

void
frame_preamble_encode(guint8 out[FRAME_PREAMBLE_SIZE], FrameMode mode)
{
	memcpy(out, frame_magic, 4);
	out[4] = FRAME_PROTOCOL_VERSION;
	out[5] = (guint8)mode;
	out[6] = 0;
	out[7] = 0;
}

void
frame_refusal_encode(guint8 out[FRAME_PREAMBLE_SIZE], FrameRefusal code)
{
	memcpy(out, frame_magic, 4);
	out[4] = 0xff;
	out[5] = (guint8)code;
	out[6] = 0;
	out[7] = 0;
}

int
frame_preamble_decode(const guint8 *in, guint8 *mode)
{
	if (memcmp(in, frame_magic, 4) != 0 || in[6] != 0 || in[7] != 0)
		return -EPROTO;
	if (in[4] == 0xff) {
		*mode = in[5];
		return 2;
	}
	if (in[4] != FRAME_PROTOCOL_VERSION)
		return -EPROTO;
	*mode = in[5];
	return 1;
}

const char *
frame_type_name(guint8 type)
{
	static const char *const names[] = {"?",    "HELLO",  "OPEN", "REPLY",
	                                    "DATA", "CREDIT", "EOF",  "RESET"};
	return type < G_N_ELEMENTS(names) ? names[type] : "?";
}
