// SPDX-License-Identifier: Apache-2.0
//
// udp_seal.c - a test tool: sends one membership PING datagram, sealed with
// the first key of KEYFILE as a keyed cluster seals its datagrams, to
// HOST:PORT, then sends the very same bytes REPLAYS more times (a recorded
// datagram replayed). With the cluster's key the first copy is accepted
// and every replay rejected; with another key every copy fails
// authentication. RECEIVER_ID (default 0: whoever listens there) is the
// server the datagram is sealed for: a server whose ID it is not refuses
// every copy as misdirected.
//
// usage: udp_seal KEYFILE HOST PORT TARGET_ID REPLAYS [RECEIVER_ID|0]
#include "member/member.h"
#include "security/keyfile.h"
#include "security/seal.h"
#include "security/security.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 6 && argc != 7) {
		fprintf(stderr,
		        "usage: udp_seal KEYFILE HOST PORT TARGET_ID REPLAYS [RECEIVER_ID|0]\n");
		return 2;
	}
	g_autoptr(GError) error = NULL;
	guint64 target = 0, receiver = 0;
	if (!security_init(&error) || !member_id_parse(argv[4], &target)) {
		fprintf(stderr, "udp_seal: %s\n", error ? error->message : "bad TARGET_ID");
		return 2;
	}
	if (argc == 7 && strcmp(argv[6], "0") != 0 && !member_id_parse(argv[6], &receiver)) {
		fprintf(stderr, "udp_seal: bad RECEIVER_ID %s\n", argv[6]);
		return 2;
	}
	Keyfile *keys = keyfile_load(argv[1], &error);
	if (!keys) {
		fprintf(stderr, "udp_seal: %s\n", error->message);
		return 2;
	}
	SealKey *key = seal_key_derive(keyfile_get_key(keys, 0), &error);
	keyfile_free(keys);
	if (!key) {
		fprintf(stderr, "udp_seal: %s\n", error->message);
		return 2;
	}
	/* 'C' 'M' version 1, one message: PING (type 1), seq, target id. */
	guint8 plain[4 + 3 + 12] = {'C', 'M', 1, 1, 1, 0, 12};
	guint32 seq = 7;
	for (int i = 0; i < 4; i++)
		plain[7 + i] = (guint8)(seq >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		plain[11 + i] = (guint8)(target >> (56 - 8 * i));
	SealSender sender;
	seal_sender_init(&sender);
	g_autoptr(GByteArray) sealed = g_byte_array_new();
	if (!seal_datagram(key, &sender, receiver, g_get_real_time() / G_USEC_PER_SEC, plain,
	                   sizeof plain, sealed, &error)) {
		fprintf(stderr, "udp_seal: %s\n", error->message);
		return 1;
	}
	seal_key_free(key);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((guint16)atoi(argv[3]))};
	if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fprintf(stderr, "udp_seal: %s is not an IPv4 address\n", argv[2]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int replays = atoi(argv[5]);
	for (int i = 0; i <= replays; i++) {
		if (sendto(fd, sealed->data, sealed->len, 0, (struct sockaddr *)&to, sizeof to) <
		    0) {
			perror("udp_seal: sendto");
			return 1;
		}
		g_usleep(20000);
	}
	close(fd);
	return 0;
}
