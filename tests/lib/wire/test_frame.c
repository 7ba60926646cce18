// SPDX-License-Identifier: Apache-2.0
//
// test_frame.c - the frame codec of lib/wire/frame.c (docs/protocol.md).
#include "wire/frame.h"

#include <errno.h>
#include <string.h>

static const FrameType all_types[] = {FRAME_HELLO,  FRAME_OPEN, FRAME_REPLY, FRAME_DATA,
                                      FRAME_CREDIT, FRAME_EOF,  FRAME_RESET};

/* A length each type accepts: CREDIT carries 4 bytes, EOF none. */
static guint32
valid_len(FrameType type)
{
	switch (type) {
	case FRAME_CREDIT:
		return 4;
	case FRAME_EOF:
		return 0;
	default:
		return 1234;
	}
}

static int
decode(FrameType type, guint32 stream, guint32 len, guint32 max, FrameHeader *out)
{
	guint8 buf[FRAME_HEADER_SIZE];
	frame_header_encode(buf, type, stream, len);
	return frame_header_decode(buf, sizeof buf, max, out);
}

static void
test_roundtrip(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(all_types); i++) {
		FrameType type = all_types[i];
		guint32 stream = type == FRAME_HELLO ? 0 : 0x01020304u + (guint32)i;
		FrameHeader h;
		memset(&h, 0xaa, sizeof h);
		g_assert_cmpint(decode(type, stream, valid_len(type), FRAME_MAX, &h), ==, 1);
		g_assert_cmpuint(h.type, ==, type);
		g_assert_cmpuint(h.stream, ==, stream);
		g_assert_cmpuint(h.len, ==, valid_len(type));
		g_assert_cmpuint(h.flags, ==, 0);
	}
}

static void
test_layout(void)
{
	/* Big-endian length, type, flags, two reserved bytes, big-endian stream. */
	guint8 buf[FRAME_HEADER_SIZE];
	frame_header_encode(buf, FRAME_DATA, 0x0a0b0c0du, 0x00010203u);
	static const guint8 want[FRAME_HEADER_SIZE] = {0x00, 0x01, 0x02, 0x03, 4,    0,
	                                               0,    0,    0x0a, 0x0b, 0x0c, 0x0d};
	g_assert_cmpmem(buf, sizeof buf, want, sizeof want);
}

static void
test_size_caps(void)
{
	FrameHeader h;
	g_assert_cmpint(decode(FRAME_DATA, 1, FRAME_MAX, FRAME_MAX, &h), ==, 1);
	g_assert_cmpint(decode(FRAME_DATA, 1, FRAME_MAX + 1, FRAME_MAX, &h), ==, -EMSGSIZE);
	/* The cap is checked from the header alone, before any payload arrives. */
	g_assert_cmpint(decode(FRAME_DATA, 1, G_MAXUINT32, FRAME_MAX, &h), ==, -EMSGSIZE);
}

static void
test_prehello_cap(void)
{
	FrameHeader h;
	g_assert_cmpuint(FRAME_MAX_PREHELLO, <, FRAME_MAX);
	g_assert_cmpint(decode(FRAME_HELLO, 0, FRAME_MAX_PREHELLO, FRAME_MAX_PREHELLO, &h), ==, 1);
	g_assert_cmpint(decode(FRAME_HELLO, 0, FRAME_MAX_PREHELLO + 1, FRAME_MAX_PREHELLO, &h), ==,
	                -EMSGSIZE);
	/* What is fine after HELLO is too big before it. */
	g_assert_cmpint(decode(FRAME_OPEN, 1, 65536, FRAME_MAX, &h), ==, 1);
	g_assert_cmpint(decode(FRAME_OPEN, 1, 65536, FRAME_MAX_PREHELLO, &h), ==, -EMSGSIZE);
}

static void
test_reserved_bits(void)
{
	for (int byte = 5; byte <= 7; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			guint8 buf[FRAME_HEADER_SIZE];
			FrameHeader h;
			frame_header_encode(buf, FRAME_DATA, 1, 10);
			buf[byte] = (guint8)(1u << bit);
			g_assert_cmpint(frame_header_decode(buf, sizeof buf, FRAME_MAX, &h), ==,
			                -EPROTO);
		}
	}
}

static void
test_unknown_type(void)
{
	static const guint8 bad[] = {0, 8, 9, 0x7f, 0x80, 0xff};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		guint8 buf[FRAME_HEADER_SIZE];
		FrameHeader h;
		frame_header_encode(buf, FRAME_DATA, 1, 0);
		buf[4] = bad[i];
		g_assert_cmpint(frame_header_decode(buf, sizeof buf, FRAME_MAX, &h), ==, -EPROTO);
		g_assert_cmpstr(frame_type_name(bad[i]), ==, "?");
	}
}

static void
test_hello_stream(void)
{
	FrameHeader h;
	/* HELLO only on stream 0 ... */
	g_assert_cmpint(decode(FRAME_HELLO, 0, 10, FRAME_MAX, &h), ==, 1);
	g_assert_cmpint(decode(FRAME_HELLO, 1, 10, FRAME_MAX, &h), ==, -EPROTO);
	g_assert_cmpint(decode(FRAME_HELLO, 0x80000000u, 10, FRAME_MAX, &h), ==, -EPROTO);
	/* ... and nothing else on it. */
	for (gsize i = 0; i < G_N_ELEMENTS(all_types); i++) {
		if (all_types[i] == FRAME_HELLO)
			continue;
		g_assert_cmpint(decode(all_types[i], 0, valid_len(all_types[i]), FRAME_MAX, &h), ==,
		                -EPROTO);
	}
}

static void
test_credit_eof_len(void)
{
	FrameHeader h;
	g_assert_cmpint(decode(FRAME_CREDIT, 3, 4, FRAME_MAX, &h), ==, 1);
	g_assert_cmpint(decode(FRAME_CREDIT, 3, 0, FRAME_MAX, &h), ==, -EPROTO);
	g_assert_cmpint(decode(FRAME_CREDIT, 3, 3, FRAME_MAX, &h), ==, -EPROTO);
	g_assert_cmpint(decode(FRAME_CREDIT, 3, 5, FRAME_MAX, &h), ==, -EPROTO);
	g_assert_cmpint(decode(FRAME_EOF, 3, 0, FRAME_MAX, &h), ==, 1);
	g_assert_cmpint(decode(FRAME_EOF, 3, 1, FRAME_MAX, &h), ==, -EPROTO);
	/* Other types may be empty. */
	g_assert_cmpint(decode(FRAME_DATA, 3, 0, FRAME_MAX, &h), ==, 1);
	g_assert_cmpint(decode(FRAME_RESET, 3, 0, FRAME_MAX, &h), ==, 1);
}

static void
test_truncated(void)
{
	guint8 buf[FRAME_HEADER_SIZE];
	frame_header_encode(buf, FRAME_OPEN, 7, 100);
	for (gsize n = 0; n < FRAME_HEADER_SIZE; n++) {
		FrameHeader h;
		g_assert_cmpint(frame_header_decode(buf, n, FRAME_MAX, &h), ==, 0);
	}
	/* Even a header that will be refused needs all its bytes first. */
	memset(buf, 0xff, sizeof buf);
	FrameHeader h;
	g_assert_cmpint(frame_header_decode(buf, FRAME_HEADER_SIZE - 1, FRAME_MAX, &h), ==, 0);
	g_assert_cmpint(frame_header_decode(buf, FRAME_HEADER_SIZE, FRAME_MAX, &h), ==, -EPROTO);
}

static void
test_u32(void)
{
	static const guint32 values[] = {0, 1, 0xff, 0x100, 0x01020304u, FRAME_MAX, G_MAXUINT32};
	for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
		guint8 b[4];
		frame_u32_encode(b, values[i]);
		g_assert_cmpuint(frame_u32_decode(b), ==, values[i]);
	}
	guint8 b[4];
	frame_u32_encode(b, 0x11223344u);
	g_assert_cmpmem(b, 4, "\x11\x22\x33\x44", 4);
}

static void
test_preamble(void)
{
	guint8 buf[FRAME_PREAMBLE_SIZE];
	guint8 mode = 0xee;
	frame_preamble_encode(buf, FRAME_MODE_PLAIN);
	g_assert_cmpmem(buf, sizeof buf, "CIRC\x01\x00\x00\x00", 8);
	g_assert_cmpint(frame_preamble_decode(buf, &mode), ==, 1);
	g_assert_cmpuint(mode, ==, FRAME_MODE_PLAIN);
	frame_preamble_encode(buf, FRAME_MODE_NOISE);
	g_assert_cmpint(frame_preamble_decode(buf, &mode), ==, 1);
	g_assert_cmpuint(mode, ==, FRAME_MODE_NOISE);
}

static void
test_refusal(void)
{
	static const FrameRefusal codes[] = {FRAME_REFUSE_NEEDS_KEY, FRAME_REFUSE_NOT_KEYED,
	                                     FRAME_REFUSE_WRONG_KEY, FRAME_REFUSE_VERSION};
	for (gsize i = 0; i < G_N_ELEMENTS(codes); i++) {
		guint8 buf[FRAME_PREAMBLE_SIZE];
		guint8 code = 0;
		frame_refusal_encode(buf, codes[i]);
		g_assert_cmpmem(buf, 5, "CIRC\xff", 5);
		g_assert_cmpint(frame_preamble_decode(buf, &code), ==, 2);
		g_assert_cmpuint(code, ==, codes[i]);
	}
}

static void
test_preamble_bad(void)
{
	guint8 mode = 0;
	/* Wrong magic, wrong version, non-zero reserved bytes. */
	g_assert_cmpint(frame_preamble_decode((const guint8 *)"GET / HT", &mode), ==, -EPROTO);
	g_assert_cmpint(frame_preamble_decode((const guint8 *)"circ\x01\x00\x00\x00", &mode), ==,
	                -EPROTO);
	g_assert_cmpint(frame_preamble_decode((const guint8 *)"CIRC\x02\x00\x00\x00", &mode), ==,
	                -EPROTO);
	g_assert_cmpint(frame_preamble_decode((const guint8 *)"CIRC\x00\x00\x00\x00", &mode), ==,
	                -EPROTO);
	g_assert_cmpint(frame_preamble_decode((const guint8 *)"CIRC\x01\x00\x01\x00", &mode), ==,
	                -EPROTO);
	g_assert_cmpint(frame_preamble_decode((const guint8 *)"CIRC\x01\x00\x00\x01", &mode), ==,
	                -EPROTO);
	g_assert_cmpint(frame_preamble_decode((const guint8 *)"CIRC\xff\x01\x00\x01", &mode), ==,
	                -EPROTO);
}

static void
test_type_names(void)
{
	static const char *const names[] = {"HELLO",  "OPEN", "REPLY", "DATA",
	                                    "CREDIT", "EOF",  "RESET"};
	for (gsize i = 0; i < G_N_ELEMENTS(all_types); i++)
		g_assert_cmpstr(frame_type_name(all_types[i]), ==, names[i]);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lib/wire/frame/roundtrip", test_roundtrip);
	g_test_add_func("/lib/wire/frame/layout", test_layout);
	g_test_add_func("/lib/wire/frame/size-caps", test_size_caps);
	g_test_add_func("/lib/wire/frame/prehello-cap", test_prehello_cap);
	g_test_add_func("/lib/wire/frame/reserved-bits", test_reserved_bits);
	g_test_add_func("/lib/wire/frame/unknown-type", test_unknown_type);
	g_test_add_func("/lib/wire/frame/hello-stream", test_hello_stream);
	g_test_add_func("/lib/wire/frame/credit-eof-length", test_credit_eof_len);
	g_test_add_func("/lib/wire/frame/truncated", test_truncated);
	g_test_add_func("/lib/wire/frame/u32", test_u32);
	g_test_add_func("/lib/wire/frame/preamble", test_preamble);
	g_test_add_func("/lib/wire/frame/refusal", test_refusal);
	g_test_add_func("/lib/wire/frame/preamble-bad", test_preamble_bad);
	g_test_add_func("/lib/wire/frame/type-names", test_type_names);
	return g_test_run();
}
