// SPDX-License-Identifier: Apache-2.0
//
// wire_socket.h - socket options circuitd and libcircuit set alike.
#pragma once

#include <glib.h>

/* The default for how long a connection may go unanswered before it is
 * given up: a host or link that vanished without a word. */
#define WIRE_LIVENESS_DEFAULT_SECONDS 10u

/*
 * Liveness on a TCP socket, so a peer that vanished (no FIN, no RST: the
 * host powered off, the link black-holed) is noticed within about @seconds
 * whether the connection is idle or busy: keepalive probes after @seconds/2
 * of silence, one a second, and TCP_USER_TIMEOUT for data that goes
 * unacknowledged. 0 leaves the kernel's defaults (about 2 hours idle, 15
 * minutes of retransmission).
 */
void wire_socket_set_liveness(int fd, guint seconds);
