// SPDX-License-Identifier: Apache-2.0
//
// dns_server.h - the sockets of one dns element: a UDP socket and a TCP
// listener on the same address and port, both answered by the element's
// DnsStore, all driven by the core's loop through fd and timer watches.
#pragma once

#include "dns_store.h"

#include <circuit/plugin.h>

G_BEGIN_DECLS

/**
 * DNS_TCP_MAX_CONNS: TCP connections served at once per element (lower
 * when the descriptor limit is low); at the cap a new connection closes
 * the least recently active one.
 */
#define DNS_TCP_MAX_CONNS 1024
/** DNS_TCP_IDLE_SECONDS: a TCP connection idle this long is closed (RFC 7766 6.2.3). */
#define DNS_TCP_IDLE_SECONDS 10
/** DNS_TCP_OUT_MAX: answers queued for a slow TCP reader before its input pauses. */
#define DNS_TCP_OUT_MAX (256 * 1024)

/** DnsServer: the sockets and connections of one element. */
typedef struct DnsServer DnsServer;

/**
 * dns_server_new: (transfer full) (nullable)
 * @host: (transfer none): the core.
 * @element: (transfer none): the element, for log messages (not referenced).
 * @store: (transfer none): the records; must outlive the server.
 * @address: (nullable): "IP:PORT", "[IPv6]:PORT" or a bare IP (any free
 *   port); NULL means the server's own address and a free port.
 *
 * Binds UDP and TCP on the same address and port and starts answering.
 * Fails with CIRCUIT_ERROR_INVALID for a malformed address and
 * CIRCUIT_ERROR_FAILED when a socket cannot be bound.
 */
DnsServer *dns_server_new(CircuitHost *host, CircuitElement *element, DnsStore *store,
                          const char *address, GError **error);

/** dns_server_address: (transfer none) the bound address, "IP:PORT". */
const char *dns_server_address(DnsServer *server);

/**
 * dns_server_free: closes every socket at once (so the port can be bound
 * again right after) and frees @server. NULL is harmless.
 */
void dns_server_free(DnsServer *server);

G_END_DECLS
