// SPDX-License-Identifier: Apache-2.0
//
// discover.c - multicast discovery: this server's beacons on the group
// (fast at start, then every 30 s), joining the servers whose beacons it
// hears, and answers to clients' discovery queries. Datagrams arrive through
// cluster.c's one demultiplexer, sealed like membership when keyed.
#define G_LOG_DOMAIN "cluster"

#include "cluster_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Discovery datagrams (inside the seal when keyed), big-endian:
 *   beacon: 'C' 'B' version flags(0) id(u64) addr_len(u8) addr
 *   query:  'C' 'Q' version flags(0) nonce(u64) padding (>= CLUSTER_QUERY_MIN bytes in all)
 *   answer: 'C' 'A' version flags(0) nonce(u64) url_len(u16) url
 * A query must be at least as long as any answer, so that answering never
 * amplifies traffic toward a forged source address. */
#define CLUSTER_DISCOVERY_VERSION 1u
#define CLUSTER_QUERY_MIN         512u
#define CLUSTER_BEACON_FIRST_S    0.2
#define CLUSTER_BEACON_SLOW_S     30.0

void
discover_on_beacon(const guint8 *p, gsize len, const char *from)
{
	if (len < 13 || p[2] != CLUSTER_DISCOVERY_VERSION || p[3] != 0 || len != 13u + p[12] ||
	    !member_wire_addr_valid((const char *)p + 13, p[12])) {
		cluster_reject(CLUSTER_REJECT_MALFORMED, from);
		return;
	}
	guint64 id = cluster_be64(p + 4);
	g_autofree char *addr = g_strndup((const char *)p + 13, p[12]);
	if (id == cluster_self->self_id || strcmp(addr, cluster_self->addr) == 0 ||
	    cluster_self->left)
		return; /* our own, looped back */
	cluster_self->beacons_in++;
	MemberInfo info;
	if (member_lookup(cluster_self->m, id, &info) &&
	    (info.state == MEMBER_ALIVE || info.state == MEMBER_SUSPECT))
		return;
	char ids[18];
	member_id_format(id, ids);
	g_info("beacon from %s at %s: joining it", ids, addr);
	g_autoptr(GError) error = NULL;
	if (!member_join(cluster_self->m, addr, &error))
		g_debug("beacon from %s: %s", from, error->message);
}

void
discover_on_query(int fd, const guint8 *p, gsize len, const struct sockaddr *sa, socklen_t sl,
                  const char *from)
{
	gsize url_len = strlen(cluster_self->url);
	if (len < CLUSTER_QUERY_MIN || p[2] != CLUSTER_DISCOVERY_VERSION || p[3] != 0) {
		cluster_reject(CLUSTER_REJECT_MALFORMED, from);
		return;
	}
	cluster_self->queries_in++;
	if (cluster_self->left || 14 + url_len > len)
		return;
	guint8 answer[14 + 1024];
	if (url_len > 1024)
		return;
	answer[0] = 'C';
	answer[1] = 'A';
	answer[2] = CLUSTER_DISCOVERY_VERSION;
	answer[3] = 0;
	memcpy(answer + 4, p + 4, 8);
	answer[12] = (guint8)(url_len >> 8);
	answer[13] = (guint8)url_len;
	memcpy(answer + 14, cluster_self->url, url_len);
	g_debug("discovery query from %s: answering", from);
	cluster_self->answers_out++;
	/* A client has no server ID: receiver 0. */
	cluster_sendto(fd, answer, 14 + url_len, sa, sl, 0);
}

static void
discover_send_beacon(void)
{
	gsize alen = strlen(cluster_self->addr);
	guint8 b[13 + MEMBER_ADDR_MAX];
	b[0] = 'C';
	b[1] = 'B';
	b[2] = CLUSTER_DISCOVERY_VERSION;
	b[3] = 0;
	cluster_put_be64(b + 4, cluster_self->self_id);
	b[12] = (guint8)alen;
	memcpy(b + 13, cluster_self->addr, alen);
	cluster_self->beacons_out++;
	/* For every server on the group: receiver 0. */
	cluster_sendto(cluster_self->fd, b, 13 + alen, (struct sockaddr *)&cluster_self->group,
	               sizeof cluster_self->group, 0);
}

static void
discover_on_beacon_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	discover_send_beacon();
	/* Fast at start (0.2 s doubling), then every 30 s with 0-25% jitter,
	 * forever: a partition that heals merges through them too. */
	double next;
	if (cluster_self->beacon_interval < CLUSTER_BEACON_SLOW_S) {
		next = cluster_self->beacon_interval;
		cluster_self->beacon_interval *= 2;
	} else {
		next = CLUSTER_BEACON_SLOW_S * (1.0 + (cluster_random(NULL) % 250) / 1000.0);
	}
	ev_timer_set(w, next, 0.0);
	ev_timer_start(loop, w);
}

/* Parses "MCAST:PORT" (an IPv4 multicast group). */
bool
discover_group_parse(const char *text, struct sockaddr_in *out, GError **error)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!cluster_addr_parse(text, &ss, &sl) || ss.ss_family != AF_INET ||
	    !IN_MULTICAST(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "--discover %s: want an IPv4 multicast group and a port, as in "
		            "228.8.8.8:7711",
		            text);
		return false;
	}
	memcpy(out, &ss, sizeof *out);
	return true;
}

bool
discover_start(const ClusterOptions *o, GError **error)
{
	if (!discover_group_parse(o->discover, &cluster_self->group, error))
		return false;
	cluster_self->group_text = g_strdup(o->discover);
	struct ip_mreqn mreq = {.imr_multiaddr = cluster_self->group.sin_addr};
	if (o->iface) {
		mreq.imr_ifindex = (int)if_nametoindex(o->iface);
		if (mreq.imr_ifindex == 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			            "--discover: no interface %s", o->iface);
			return false;
		}
	} else if (o->bind_host) {
		inet_pton(AF_INET, o->bind_host, &mreq.imr_address);
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0, ttl = 1;
	if (fd < 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "--discover: socket: %s",
		            g_strerror(e));
		return false;
	}
	cluster_self->mfd = fd;
	/* Every server of this host hears the group (SO_REUSEADDR shares it). */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
	if (bind(fd, (struct sockaddr *)&cluster_self->group, sizeof cluster_self->group) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "--discover %s: %s",
		            o->discover, g_strerror(e));
		return false;
	}
	/* Beacons and answers leave from the membership socket, so their source
	 * is this server's address. */
	struct ip_mreqn mif = {.imr_address = mreq.imr_address, .imr_ifindex = mreq.imr_ifindex};
	if (setsockopt(cluster_self->fd, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof mif) != 0 ||
	    setsockopt(cluster_self->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
	    setsockopt(cluster_self->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof one) != 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
		            "--discover %s: the server's UDP socket cannot send multicast: %s",
		            o->discover, g_strerror(e));
		return false;
	}
	ev_io_init(&cluster_self->mio, cluster_on_readable, fd, EV_READ);
	ev_io_start(EV_DEFAULT, &cluster_self->mio);
	cluster_self->beacon_interval = CLUSTER_BEACON_FIRST_S;
	ev_timer_init(&cluster_self->beacon, discover_on_beacon_timer, 0.0, 0.0);
	ev_timer_start(EV_DEFAULT, &cluster_self->beacon);
	g_info("discovery on %s%s%s", o->discover, o->iface ? " via " : "",
	       o->iface ? o->iface : "");
	return true;
}
