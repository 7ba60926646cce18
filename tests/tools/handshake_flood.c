// SPDX-License-Identifier: Apache-2.0
//
// handshake_flood.c - what tests/integration/handshake_replay.sh runs
// against a keyed circuitd on 127.0.0.1 (never anything else):
//
//   handshake_flood flood KEYFILE HOST:PORT replay|fresh SECONDS MAX_CONNS
//     opens connections that each send the preamble and one Noise message
//     1, reads whatever comes back and closes, 32 at a time, until SECONDS
//     pass or MAX_CONNS were opened. "replay": the same message 1 every
//     time (one made once with the key: a captured one). "fresh": a new
//     message 1 each time (captures the server never saw); the flooder
//     cannot read cookies, as a replayer could not. Prints what came back.
//   handshake_flood dial KEYFILE URL COUNT
//     dials COUNT times with libcircuit (key handshake and HELLO), one
//     after the other, and prints the median, 90th percentile and worst
//     connect time in ms, and how many failed.
#include <circuit/client.h>

#include "security/channel.h"
#include "security/keyfile.h"
#include "security/security.h"
#include "wire/frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOD_PARALLEL 32

typedef struct {
	int fd;
	gint64 opened;
} Slot;

static guint64 n_opened, n_msg2, n_cookie, n_replay, n_busy, n_other, n_silent;

static bool
parse_hostport(const char *s, struct sockaddr_in *sa)
{
	const char *colon = strrchr(s, ':');
	if (!colon)
		return false;
	g_autofree char *host = g_strndup(s, (gsize)(colon - s));
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((guint16)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 &&
	       sa->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

static GByteArray *
flood_message(const guint8 *psk)
{
	guint8 pre[FRAME_PREAMBLE_SIZE];
	frame_preamble_encode(pre, FRAME_MODE_NOISE);
	GByteArray *out = g_byte_array_new();
	g_byte_array_append(out, pre, sizeof pre);
	g_autoptr(GError) error = NULL;
	NoiseHandshake *hs = channel_initiate(psk, pre, sizeof pre, out, &error);
	if (!hs) {
		fprintf(stderr, "handshake_flood: %s\n", error->message);
		exit(1);
	}
	noise_handshake_free(hs);
	return out;
}

/* Classifies what the server sent back on a connection it has finished. */
static void
flood_tally(const guint8 *buf, ssize_t n)
{
	guint8 code = 0;
	if (n <= 0)
		n_silent++;
	else if (n >= FRAME_PREAMBLE_SIZE && frame_preamble_decode(buf, &code) == 2)
		code == FRAME_REFUSE_COOKIE   ? n_cookie++
		: code == FRAME_REFUSE_REPLAY ? n_replay++
		: code == FRAME_REFUSE_BUSY   ? n_busy++
		                              : n_other++;
	else if (n >= 2 && (((gsize)buf[0] << 8) | buf[1]) == NOISE_DH_LEN + NOISE_TAG_LEN)
		n_msg2++;
	else
		n_other++;
}

static int
flood(const guint8 *psk, const char *target, const char *mode, double seconds, guint64 max)
{
	struct sockaddr_in sa;
	if (!parse_hostport(target, &sa)) {
		fprintf(stderr, "handshake_flood: %s: want 127.0.0.1:PORT\n", target);
		return 2;
	}
	bool fresh = strcmp(mode, "fresh") == 0;
	GByteArray *msg = flood_message(psk);
	Slot slots[FLOOD_PARALLEL];
	for (int i = 0; i < FLOOD_PARALLEL; i++)
		slots[i].fd = -1;
	gint64 end = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
	while (g_get_monotonic_time() < end) {
		struct pollfd p[FLOOD_PARALLEL];
		int live = 0;
		for (int i = 0; i < FLOOD_PARALLEL; i++) {
			if (slots[i].fd < 0 && n_opened < max) {
				if (fresh) {
					g_byte_array_unref(msg);
					msg = flood_message(psk);
				}
				int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
				    send(fd, msg->data, msg->len, MSG_NOSIGNAL) !=
				            (ssize_t)msg->len) {
					if (fd >= 0)
						close(fd);
					n_silent++;
					n_opened++;
					continue;
				}
				n_opened++;
				slots[i].fd = fd;
				slots[i].opened = g_get_monotonic_time();
			}
			p[i].fd = slots[i].fd;
			p[i].events = POLLIN;
			p[i].revents = 0;
			live += slots[i].fd >= 0;
		}
		if (live == 0)
			break;
		if (poll(p, FLOOD_PARALLEL, 100) < 0 && errno != EINTR)
			break;
		gint64 now = g_get_monotonic_time();
		for (int i = 0; i < FLOOD_PARALLEL; i++) {
			if (slots[i].fd < 0)
				continue;
			bool stale = now - slots[i].opened > 2 * G_USEC_PER_SEC;
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)) && !stale)
				continue;
			guint8 buf[512];
			ssize_t n =
			        stale && !p[i].revents ? 0 : recv(slots[i].fd, buf, sizeof buf, 0);
			flood_tally(buf, n);
			close(slots[i].fd);
			slots[i].fd = -1;
		}
	}
	for (int i = 0; i < FLOOD_PARALLEL; i++)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
	g_byte_array_unref(msg);
	printf("opened %" G_GUINT64_FORMAT " msg2 %" G_GUINT64_FORMAT " cookie %" G_GUINT64_FORMAT
	       " replay %" G_GUINT64_FORMAT " busy %" G_GUINT64_FORMAT " other %" G_GUINT64_FORMAT
	       " silent %" G_GUINT64_FORMAT "\n",
	       n_opened, n_msg2, n_cookie, n_replay, n_busy, n_other, n_silent);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int
dial(const char *key_file, const char *url, int count)
{
	double *ms = g_new0(double, count);
	int ok = 0, failed = 0;
	g_autofree char *first_error = NULL;
	for (int i = 0; i < count; i++) {
		gint64 t0 = g_get_monotonic_time();
		g_autoptr(GError) error = NULL;
		CircuitClient *c = circuit_client_dial_key(url, key_file, 5000, &error);
		double t = (g_get_monotonic_time() - t0) / 1000.0;
		if (!c) {
			failed++;
			if (!first_error)
				first_error = g_strdup(error->message);
			continue;
		}
		circuit_client_free(c);
		ms[ok++] = t;
	}
	qsort(ms, ok, sizeof *ms, cmp_double);
	printf("dials %d failed %d median_ms %.2f p90_ms %.2f max_ms %.2f\n", count, failed,
	       ok ? ms[ok / 2] : -1.0, ok ? ms[(ok * 9) / 10 < ok ? (ok * 9) / 10 : ok - 1] : -1.0,
	       ok ? ms[ok - 1] : -1.0);
	if (first_error)
		printf("first error: %s\n", first_error);
	g_free(ms);
	return 0;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	if (!security_init(&error)) {
		fprintf(stderr, "handshake_flood: %s\n", error->message);
		return 1;
	}
	if (argc == 5 && strcmp(argv[1], "dial") == 0)
		return dial(argv[2], argv[3], atoi(argv[4]));
	if (argc != 7 || strcmp(argv[1], "flood") != 0 ||
	    (strcmp(argv[4], "replay") != 0 && strcmp(argv[4], "fresh") != 0)) {
		fprintf(stderr,
		        "usage: handshake_flood flood KEYFILE 127.0.0.1:PORT replay|fresh "
		        "SECONDS MAX_CONNS\n       handshake_flood dial KEYFILE URL COUNT\n");
		return 2;
	}
	Keyfile *keys = keyfile_load(argv[2], &error);
	if (!keys) {
		fprintf(stderr, "handshake_flood: %s\n", error->message);
		return 1;
	}
	int rc = flood(keyfile_get_key(keys, 0), argv[3], argv[4], atof(argv[5]),
	               g_ascii_strtoull(argv[6], NULL, 10));
	keyfile_free(keys);
	return rc;
}
