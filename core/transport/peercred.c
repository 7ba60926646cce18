// SPDX-License-Identifier: Apache-2.0
//
// peercred.c - which local account is at the other end of an accepted
// socket: SO_PEERCRED for the unix socket; for TCP, the kernel's owner of
// the peer's socket when that socket is on this host (sock_diag), which is
// how an unkeyed loopback caller gets an identity without a key.
#include "transport_private.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

gboolean
transport_unix_peer(int fd, uid_t *uid, gid_t *gid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
		return FALSE;
	*uid = cred.uid;
	*gid = cred.gid;
	return TRUE;
}

/* Fills one side of @id from @ss (address and port, network order). */
static void
transport_diag_side(const struct sockaddr_storage *ss, __be16 *port, __be32 addr[4])
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		*port = in->sin_port;
		memcpy(addr, &in->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		*port = in6->sin6_port;
		memcpy(addr, &in6->sin6_addr, 16);
	}
}

gboolean
transport_tcp_peer_uid(int fd, uid_t *uid)
{
	struct sockaddr_storage self, peer;
	socklen_t sl = sizeof self, pl = sizeof peer;
	if (getsockname(fd, (struct sockaddr *)&self, &sl) != 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
	    (self.ss_family != AF_INET && self.ss_family != AF_INET6) ||
	    self.ss_family != peer.ss_family)
		return FALSE;
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return FALSE;
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
	        .h = {.nlmsg_len = sizeof req,
	              .nlmsg_type = SOCK_DIAG_BY_FAMILY,
	              .nlmsg_flags = NLM_F_REQUEST,
	              .nlmsg_seq = 1},
	        .r = {.sdiag_family = (__u8)self.ss_family,
	              .sdiag_protocol = IPPROTO_TCP,
	              .idiag_states = ~0u},
	};
	/* The peer's socket: its source is the peer's address, its
	 * destination ours. */
	transport_diag_side(&peer, &req.r.id.idiag_sport, req.r.id.idiag_src);
	transport_diag_side(&self, &req.r.id.idiag_dport, req.r.id.idiag_dst);
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	gboolean found = FALSE;
	if (sendto(nl, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) ==
	    (ssize_t)sizeof req) {
		/* The answer comes at once: it is a lookup, not a dump. */
		union {
			struct nlmsghdr h;
			char buf[8192];
		} ans;
		ssize_t n = recv(nl, &ans, sizeof ans, MSG_DONTWAIT);
		if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct inet_diag_msg)) &&
		    NLMSG_OK(&ans.h, (size_t)n) && ans.h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			const struct inet_diag_msg *m = NLMSG_DATA(&ans.h);
			*uid = m->idiag_uid;
			found = TRUE;
		}
	}
	close(nl);
	return found;
}
