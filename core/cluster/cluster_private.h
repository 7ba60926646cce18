// SPDX-License-Identifier: Apache-2.0
//
// cluster_private.h - what cluster.c (membership on the loop and sockets)
// and discover.c (multicast discovery) share: the one Cluster of this
// server and the helpers both use. Not for other subsystems (cluster.h).
#pragma once

#include "cluster.h"

#include "member/member_wire.h"
#include "peer/peer.h"
#include "security/seal.h"
#include "wire/url.h"

#include <ev.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

/* Push-pull replies carry the whole view: the engine's cap plus slack. */
#define CLUSTER_SYNC_MAX    (MEMBER_WIRE_STATE_MAX_BYTES + 4096u)
#define CLUSTER_SYNC_TIME_S 5.0
/* Datagrams read per wakeup before other watchers get a turn. */
#define CLUSTER_READ_BURST 64

typedef enum {
	CLUSTER_REJECT_TRUNCATED,   /* sealed: shorter than header and tag */
	CLUSTER_REJECT_VERSION,     /* sealed: unknown version (a plaintext datagram, say) */
	CLUSTER_REJECT_AUTH,        /* sealed: no key opens it */
	CLUSTER_REJECT_STALE,       /* sealed: timestamp too far off */
	CLUSTER_REJECT_REPLAY,      /* sealed: counter seen before */
	CLUSTER_REJECT_MISDIRECTED, /* sealed: for another server (captured and replayed here) */
	CLUSTER_REJECT_OVERSIZE,    /* over 65,507 bytes */
	CLUSTER_REJECT_MALFORMED,   /* not a datagram of ours, or a bad beacon/query */
	CLUSTER_REJECT_N
} ClusterReject;

static const char *const cluster_reject_names[CLUSTER_REJECT_N] = {
        "truncated", "version", "auth", "stale", "replay", "misdirected", "oversize", "malformed",
};

typedef struct {
	guint64 id;
	bool verified;
} ClusterSeed;

typedef struct {
	Member *m;
	guint64 self_id;
	char *addr;
	char *url;
	int fd; /* membership UDP on the server's host:port */
	ev_io io;
	/* Discovery. */
	char *group_text;
	struct sockaddr_in group;
	int mfd; /* bound to the group's address and port */
	ev_io mio;
	ev_timer beacon;
	double beacon_interval;
	/* Keys: the first seals, all open. */
	SealKey **keys;
	gsize n_keys;
	SealSender sender;
	SealReplay *replay;
	GHashTable *seeds;   /* "host:port" -> ClusterSeed, for -j URLs with an ID */
	GHashTable *reasons; /* "addr id" of wrong-ID seeds already logged */
	/* Who listens where, as far as we know: "host:port" -> the server ID
	 * (guint64 *) sealed into datagrams sent there as their receiver, and
	 * back (guint64 * -> "host:port") to forget a member's old address. */
	GHashTable *addr_ids;
	GHashTable *id_addrs;
	/* Counters. */
	guint64 rejected[CLUSTER_REJECT_N];
	guint64 beacons_in, beacons_out, queries_in, answers_out, icmp_refused, send_errors;
	bool left;
} Cluster;

/* This server's cluster, while it runs (cluster_start .. cluster_stop). */
extern Cluster *cluster_self;

/* cluster.c */
bool cluster_addr_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len);
guint32 cluster_random(gpointer ctx);
/* Sends @bytes to @sa, sealed for @receiver (a server ID, 0: any) when keyed. */
void cluster_sendto(int fd, const guint8 *bytes, gsize len, const struct sockaddr *sa, socklen_t sl,
                    guint64 receiver);
guint64 cluster_be64(const guint8 *p);
void cluster_put_be64(guint8 *p, guint64 v);
/* Counts a dropped datagram by reason; logs the first of each. */
void cluster_reject(ClusterReject why, const char *from);
void cluster_on_readable(struct ev_loop *loop, ev_io *w, int revents);

/* discover.c */
/* Parses "MCAST:PORT" (an IPv4 multicast group). */
bool discover_group_parse(const char *text, struct sockaddr_in *out, GError **error);
/* Joins o->discover's group and starts beaconing. */
bool discover_start(const ClusterOptions *o, GError **error);
/* A beacon ('C' 'B') from @from: join its server unless known and up. */
void discover_on_beacon(const guint8 *p, gsize len, const char *from);
/* A client's query ('C' 'Q'): answer with this server's URL, never more bytes than it sent. */
void discover_on_query(int fd, const guint8 *p, gsize len, const struct sockaddr *sa, socklen_t sl,
                       const char *from);
