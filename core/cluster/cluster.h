// SPDX-License-Identifier: Apache-2.0
//
// cluster.h - the membership engine (lib/member) wired into circuitd: its
// UDP socket on the server's port (sealed datagrams when keyed), libev
// timers as its clock, push-pull over peer connections (core/peer), seeds
// from -j and multicast discovery beacons. See docs/membership.md.
#pragma once

#include "member/member.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct {
	const char *server_id; /* "X<16 hex>" */
	const char *addr;      /* advertised "host:port" (the URL's), never unspecified */
	const char *url;       /* the URL printed at start: answered to discovery queries */
	const char *bind_host; /* the TCP listener's host; UDP binds the same host and port */
	guint16 port;
	const char *const *join; /* -j URLs (circuit://... or host:port), nullable */
	const char *discover;    /* "MCAST:PORT" (--discover or $CIRCUIT_DISCOVER), nullable */
	const char *iface;       /* -if IFACE: the multicast interface, nullable */
	const guint8 *keys;      /* n_keys * 32 bytes; the first seals, all open; NULL: plaintext */
	gsize n_keys;
	const MemberConfig *config; /* nullable: defaults */
} ClusterOptions;

/*
 * Checks @options without side effects (no socket, no name lookup): the
 * tuning (with member_new's own message), the -j URLs and their IDs, the
 * discovery group. circuitd calls it before loading plugins, so a bad flag
 * is refused with one line. cluster_start() checks the same again.
 */
bool cluster_options_check(const ClusterOptions *options, GError **error);

/* Starts membership (and discovery). FALSE with a one-line error on bad options or sockets. */
bool cluster_start(const ClusterOptions *options, GError **error);
/*
 * Replaces the datagram keys (key rotation, SIGHUP): the first seals, all
 * open. A keyed cluster stays keyed: FALSE if @n_keys is 0 now and was not
 * at start, or the other way round.
 */
bool cluster_set_keys(const guint8 *keys, gsize n_keys, GError **error);

/*
 * Joins the servers at @urls (circuit://HOST:PORT/PID/ID or HOST:PORT) while
 * running, as -j does at start (`circuit join`). FALSE with a one-line
 * error if one is malformed or the cluster is not started.
 */
bool cluster_join(const char *const *urls, GError **error);
/* Members alive or suspected, this server included (1 when not started). */
guint cluster_member_count(void);

/* Announces a graceful departure; the caller keeps the loop running about 1 s. */
void cluster_leave(void);
/* Frees everything cluster_start made. Harmless when not started. */
void cluster_stop(void);

/* (transfer none) The engine, or NULL when the cluster is not started. */
Member *cluster_member(void);

/*
 * Serves a push-pull request (the "member.sync" operation's body) that
 * arrived from @from (the peer's address as the connection sees it).
 * (transfer full) the reply document, or NULL with @error.
 */
GBytes *cluster_serve_sync(const guint8 *bytes, gsize len, const char *from, GError **error);

/* Adds the membership fields to the server anchor's peek (Members, Suspects, ...). */
void cluster_peek(JsonObject *peek);
