// SPDX-License-Identifier: Apache-2.0
#include "wire/socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

void
wire_socket_set_liveness(int fd, guint seconds)
{
	if (seconds == 0)
		return;
	int on = 1;
	int idle = (int)MAX(1u, seconds / 2);
	int interval = 1;
	int count = (int)MAX(1u, seconds - (guint)idle);
	unsigned int user_timeout = seconds * 1000u;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
}
