// SPDX-License-Identifier: Apache-2.0
//
// client_reply.c - fuzz target: libcircuit reading what a server sends. The
// input is everything a hostile server writes after a well-formed HELLO
// reply: frames of any type, length and payload (REPLY JSON, DATA, CREDIT,
// EOF, RESET), for the calls peek, ls and recv. The client must fail with an
// error or succeed, never crash, hang or read past a frame. client.c is
// compiled into the target so its static functions can be driven over a
// socketpair without a network.
#include "../../sdk/lib/client.c"

#include <stdint.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
put_frame(GByteArray *out, FrameType type, guint32 stream, const char *payload)
{
	guint8 hdr[FRAME_HEADER_SIZE];
	gsize len = strlen(payload);
	frame_header_encode(hdr, type, stream, (guint32)len);
	g_byte_array_append(out, hdr, sizeof hdr);
	g_byte_array_append(out, (const guint8 *)payload, (guint)len);
}

/* One call against a server whose every byte after HELLO is @data. */
static void
run_one(int which, const uint8_t *data, size_t size)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	int big = 1 << 22;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	GByteArray *server = g_byte_array_new();
	put_frame(server, FRAME_HELLO, 0,
	          "{\"version\":1,\"id\":\"X0123456789abcdef\",\"url\":\"circuit://127.0.0.1:1/1/"
	          "X0123456789abcdef\",\"server\":\"fuzz\"}");
	g_byte_array_append(server, data, (guint)size);
	/* The whole answer is in the socket before the client reads it; then
	 * the server end closes, so every read ends. */
	gsize off = 0;
	while (off < server->len) {
		ssize_t w = write(sv[0], server->data + off, server->len - off);
		if (w <= 0)
			break;
		off += (gsize)w;
	}
	shutdown(sv[0], SHUT_WR);
	g_byte_array_unref(server);
	Url url = {0};
	url.host = (char *)"127.0.0.1";
	url.port = 1;
	GError *error = NULL;
	CircuitClient *c = client_setup(sv[1], &url, NULL, 1000, &error);
	if (c) {
		circuit_client_set_direct(c, FALSE);
		if (which == 0) {
			JsonNode *n = circuit_peek(c, "/X0123456789abcdef/a", &error);
			if (n)
				json_node_unref(n);
		} else if (which == 1) {
			GPtrArray *a = circuit_ls(c, "/X0123456789abcdef", TRUE, &error);
			if (a)
				g_ptr_array_unref(a);
		} else {
			GBytes *b = circuit_chan_recv(c, "/X0123456789abcdef/q", 1000, &error);
			if (b)
				g_bytes_unref(b);
		}
		circuit_client_free(c); /* closes sv[1] */
	} else {
		/* client_setup freed the client, which closed the descriptor. */
	}
	g_clear_error(&error);
	close(sv[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	run_one(data[0] % 3, data + 1, size - 1);
	return 0;
}
