// SPDX-License-Identifier: Apache-2.0
//
// frame.h - the wire frame codec shared by circuitd and libcircuit.
// See docs/protocol.md. Pure functions: no I/O, no allocation.
#pragma once

#include <glib.h>

#define FRAME_HEADER_SIZE      12u
#define FRAME_MAX              (1u << 20)
#define FRAME_MAX_PREHELLO     4096u
#define FRAME_DATA_CHUNK       (64u * 1024u)
#define FRAME_PREAMBLE_SIZE    8u
#define FRAME_PROTOCOL_VERSION 1u

typedef enum {
	FRAME_HELLO = 1,
	FRAME_OPEN = 2,
	FRAME_REPLY = 3,
	FRAME_DATA = 4,
	FRAME_CREDIT = 5,
	FRAME_EOF = 6,
	FRAME_RESET = 7,
} FrameType;

typedef enum {
	FRAME_MODE_PLAIN = 0,
	FRAME_MODE_NOISE = 1,
} FrameMode;

typedef enum {
	FRAME_REFUSE_NEEDS_KEY = 1,
	FRAME_REFUSE_NOT_KEYED = 2,
	FRAME_REFUSE_WRONG_KEY = 3,
	FRAME_REFUSE_VERSION = 4,
	FRAME_REFUSE_BUSY = 5,       /* too many connections (from this source, or in all) */
	FRAME_REFUSE_PERMISSION = 6, /* the caller is not admitted (access rules) */
	FRAME_REFUSE_COOKIE = 7,     /* under load: a sealed cookie follows; retry with its MAC */
	FRAME_REFUSE_REPLAY = 8,     /* message 1 was answered before: a replay */
} FrameRefusal;

typedef struct {
	guint32 len;
	guint8 type;
	guint8 flags;
	guint32 stream;
} FrameHeader;

/* Writes a 12-byte header. */
void frame_header_encode(guint8 out[FRAME_HEADER_SIZE], FrameType type, guint32 stream,
                         guint32 len);

/*
 * Decodes a header from @in (@avail bytes). Returns 1 when decoded, 0 when
 * more bytes are needed, -EMSGSIZE when len exceeds @max, -EPROTO for an
 * unknown type or non-zero reserved bits.
 */
int frame_header_decode(const guint8 *in, gsize avail, guint32 max, FrameHeader *out);

/* Preamble: "CIRC", version, mode, 0, 0. */
void frame_preamble_encode(guint8 out[FRAME_PREAMBLE_SIZE], FrameMode mode);
/* Refusal preamble: "CIRC", 0xff, code, 0, 0. */
void frame_refusal_encode(guint8 out[FRAME_PREAMBLE_SIZE], FrameRefusal code);
/*
 * Returns 1 for a valid preamble (mode in *mode), 2 for a refusal (code in
 * *mode), -EPROTO for anything else. @in holds FRAME_PREAMBLE_SIZE bytes.
 */
int frame_preamble_decode(const guint8 *in, guint8 *mode);

/* CREDIT payload helpers. */
void frame_u32_encode(guint8 out[4], guint32 v);
guint32 frame_u32_decode(const guint8 in[4]);

/* Human name of a frame type for logs ("DATA"); "?" if unknown. */
const char *frame_type_name(guint8 type);
