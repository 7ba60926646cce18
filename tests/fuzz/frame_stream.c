// SPDX-License-Identifier: Apache-2.0
//
// frame_stream.c - fuzz target: the server's frame parser and stream state
// machine (core/transport), fed a sequence of frames on one connection. The
// input follows a valid preamble; a real circuitd_core with the core's own
// operations (ls, peek, scrub, mk of no kind) answers on a loopback socket
// in this process. The server must close the connection or answer, never
// crash, and hold nothing once the connection is gone.
#include "oplog/oplog.h"
#include "router/router.h"
#include "transport/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sockaddr_in fuzz_addr;

static void
fuzz_setup(void)
{
	static gboolean done;
	if (done)
		return;
	done = TRUE;
	g_log_set_writer_func(g_log_writer_default, NULL, NULL);
	g_setenv("G_MESSAGES_DEBUG", "", TRUE);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	fuzz_addr.sin_family = AF_INET;
	fuzz_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof fuzz_addr;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&fuzz_addr, sizeof fuzz_addr) != 0 ||
	    listen(lfd, 16) != 0 || getsockname(lfd, (struct sockaddr *)&fuzz_addr, &sl) != 0)
		abort();
	oplog_open("/dev/null", NULL);
	GHashTable *plugins = g_hash_table_new(g_str_hash, g_str_equal);
	router_init("X0123456789abcdef", "circuit://127.0.0.1:1/1/X0123456789abcdef", "127.0.0.1:1",
	            "fuzz", plugins);
	static const TransportHandlers handlers = {.open = router_open, .hello = router_hello};
	transport_listen(lfd, &handlers);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_setup();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&fuzz_addr, sizeof fuzz_addr) != 0)
		abort();
	static const guint8 preamble[] = {'C', 'I', 'R', 'C', 1, 0, 0, 0};
	if (write(fd, preamble, sizeof preamble) != sizeof preamble)
		abort();
	gsize off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			break;
		off += (gsize)w;
	}
	shutdown(fd, SHUT_WR);
	/* Run the server until it closed the connection, reading (and
	 * discarding) what it answers so it never blocks on us. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	char buf[65536];
	for (int i = 0; i < 2000; i++) {
		ev_run(EV_DEFAULT, EVRUN_NOWAIT);
		ssize_t r = read(fd, buf, sizeof buf);
		if (r == 0 && transport_conn_count() == 0)
			break;
		if (r < 0 && errno != EAGAIN)
			break;
	}
	close(fd);
	for (int i = 0; i < 200 && transport_conn_count() > 0; i++)
		ev_run(EV_DEFAULT, EVRUN_NOWAIT);
	return 0;
}
