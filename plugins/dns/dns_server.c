// SPDX-License-Identifier: Apache-2.0
//
// dns_server.c - UDP and TCP transport of a dns element.
//
// UDP: each readiness event drains the socket in batches with recvmmsg()
// and answers each batch with one sendmmsg(), a bounded number of batches
// per event so that one busy element cannot starve the rest of the loop
// (the watch is level-triggered: what is left is read on the next turn).
//
// TCP (RFC 7766): nonblocking connections with a 2-byte length prefix,
// per-connection input and output buffers, pipelined queries answered in
// order, and one timer that closes connections idle for
// DNS_TCP_IDLE_SECONDS. A reader that does not read its answers stops
// being read from once DNS_TCP_OUT_MAX bytes are queued for it.
//
// No client can make the listener wait for another (RFC 7766 6.2.3): the
// connections are kept in least-recently-active order, and when the cap
// (DNS_TCP_MAX_CONNS, lower when the descriptor limit is low) is reached,
// or accept() runs out of descriptors, the idlest connection is closed to
// make room for the new one. The listener only pauses, briefly, when it
// has no connection left to shed.
#include "dns_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Datagrams taken per recvmmsg() and batches per readiness event. */
#define DNS_UDP_BATCH  32
#define DNS_UDP_ROUNDS 16
/* A query larger than this is not a query we can answer (it is dropped). */
#define DNS_UDP_IN_MAX 4096
/* Bytes read from a TCP connection per recv(). */
#define DNS_TCP_CHUNK 16384
/* How many times a free port is tried before giving up. */
#define DNS_BIND_ATTEMPTS 32
/* Connections accepted per readiness event of the listener. */
#define DNS_TCP_ACCEPT_BATCH 64
/* Descriptors left to the rest of the daemon when the cap follows the
 * limit, and the cap's floor. */
#define DNS_TCP_FD_RESERVE 64
#define DNS_TCP_MIN_CONNS  4
/* The pause of the listener when accept() fails for want of descriptors
 * and there is no connection to shed, and the interval of its warnings. */
#define DNS_TCP_ACCEPT_RETRY    0.1
#define DNS_TCP_WARN_INTERVAL_S 10

typedef struct DnsTcpConn DnsTcpConn;

struct DnsServer {
	CircuitHost *host;
	CircuitElement *element;
	DnsStore *store;
	char *address;
	int udp_fd, tcp_fd;
	CircuitWatch *udp_watch, *tcp_watch, *idle_timer;
	CircuitWatch *accept_retry; /* (nullable) resumes a listener paused on EMFILE */
	GQueue conns;               /* DnsTcpConn *, the least recently active first */
	guint max_conns;            /* the cap: DNS_TCP_MAX_CONNS or lower */
	guint64 shed;               /* connections closed to make room (logged) */
	gint64 last_warning;        /* when accept's last warning was logged */

	/* UDP batch buffers. */
	struct mmsghdr in_msgs[DNS_UDP_BATCH], out_msgs[DNS_UDP_BATCH];
	struct iovec in_iov[DNS_UDP_BATCH], out_iov[DNS_UDP_BATCH];
	struct sockaddr_storage peers[DNS_UDP_BATCH];
	guint8 in_buf[DNS_UDP_BATCH][DNS_UDP_IN_MAX];
	guint8 out_buf[DNS_UDP_BATCH][DNS_UDP_PAYLOAD];
	/* Scratch space for one TCP answer. */
	guint8 tcp_answer[DNS_MAX_MESSAGE];
};

struct DnsTcpConn {
	DnsServer *server;
	GList link; /* in server->conns */
	int fd;
	CircuitWatch *watch;
	GByteArray *in;
	GByteArray *out;
	gsize out_off;
	gint64 last_active;
};

/* ------------------------------------------------------------------------ */
/* Addresses                                                                 */

static char *
dns_format_address(const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		return g_strdup_printf("[%s]:%u", ip, ntohs(s6->sin6_port));
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
	return g_strdup_printf("%s:%u", ip, ntohs(s4->sin_port));
}

/* Parses "IP:PORT", "[IPv6]:PORT", "IP" or "IPv6" (numeric only). */
static gboolean
dns_parse_address(const char *text, struct sockaddr_storage *ss, socklen_t *ss_len, GError **error)
{
	char *host = NULL, *port = NULL;
	const char *colon = strrchr(text, ':');
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close && (close[1] == '\0' || close[1] == ':')) {
			host = g_strndup(text + 1, (gsize)(close - text - 1));
			port = g_strdup(close[1] == ':' ? close + 2 : "0");
		}
	} else if (colon && strchr(text, ':') == colon) {
		host = g_strndup(text, (gsize)(colon - text));
		port = g_strdup(colon + 1);
	} else {
		host = g_strdup(text); /* a bare IPv4 or IPv6 address */
		port = g_strdup("0");
	}
	gboolean ok = FALSE;
	guint64 pnum = 0;
	if (host && port && host[0] &&
	    g_ascii_string_to_unsigned(port, 10, 0, 65535, &pnum, NULL)) {
		struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
		                         .ai_socktype = SOCK_DGRAM};
		struct addrinfo *res = NULL;
		if (getaddrinfo(host, port, &hints, &res) == 0 && res) {
			memcpy(ss, res->ai_addr, res->ai_addrlen);
			*ss_len = res->ai_addrlen;
			ok = TRUE;
		}
		if (res)
			freeaddrinfo(res);
	}
	if (!ok)
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "invalid address \"%s\" (want IP:PORT, e.g. 127.0.0.1:7711)", text);
	g_free(host);
	g_free(port);
	return ok;
}

static guint16
dns_address_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void
dns_address_set_port(struct sockaddr_storage *ss, guint16 port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/* ------------------------------------------------------------------------ */
/* UDP                                                                       */

static void
dns_udp_ready(CircuitWatch *watch, int fd, guint revents, gpointer user_data)
{
	DnsServer *server = user_data;
	for (guint round = 0; round < DNS_UDP_ROUNDS; round++) {
		for (guint i = 0; i < DNS_UDP_BATCH; i++) {
			server->in_iov[i].iov_base = server->in_buf[i];
			server->in_iov[i].iov_len = sizeof server->in_buf[i];
			struct msghdr *h = &server->in_msgs[i].msg_hdr;
			memset(h, 0, sizeof *h);
			h->msg_name = &server->peers[i];
			h->msg_namelen = sizeof server->peers[i];
			h->msg_iov = &server->in_iov[i];
			h->msg_iovlen = 1;
		}
		int n = recvmmsg(fd, server->in_msgs, DNS_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN: drained; other errors: try again next turn */
		guint m = 0;
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &server->in_msgs[i].msg_hdr;
			if (h->msg_flags & MSG_TRUNC)
				continue;
			gsize len = dns_store_answer(server->store, server->in_buf[i],
			                             server->in_msgs[i].msg_len, FALSE,
			                             server->out_buf[m], sizeof server->out_buf[m]);
			if (len == 0)
				continue;
			server->out_iov[m].iov_base = server->out_buf[m];
			server->out_iov[m].iov_len = len;
			struct msghdr *o = &server->out_msgs[m].msg_hdr;
			memset(o, 0, sizeof *o);
			o->msg_name = h->msg_name;
			o->msg_namelen = h->msg_namelen;
			o->msg_iov = &server->out_iov[m];
			o->msg_iovlen = 1;
			m++;
		}
		for (guint sent = 0; sent < m;) {
			int k = sendmmsg(fd, server->out_msgs + sent, m - sent, MSG_DONTWAIT);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break; /* a full send buffer drops answers, as UDP may */
			sent += (guint)k;
		}
		if (n < DNS_UDP_BATCH)
			return;
	}
}

/* ------------------------------------------------------------------------ */
/* TCP                                                                       */

static void dns_tcp_accept_ready(CircuitWatch *watch, int fd, guint revents, gpointer user_data);

static void
dns_tcp_close(DnsTcpConn *conn)
{
	DnsServer *server = conn->server;
	g_queue_unlink(&server->conns, &conn->link);
	circuit_watch_cancel(conn->watch);
	close(conn->fd);
	g_byte_array_unref(conn->in);
	g_byte_array_unref(conn->out);
	g_free(conn);
	if (server->conns.length == 0 && server->idle_timer) {
		circuit_watch_cancel(server->idle_timer);
		server->idle_timer = NULL;
	}
}

/* Closes the least recently active connection to make room for a new
 * one; FALSE if there is none. */
static gboolean
dns_tcp_shed_idlest(DnsServer *server)
{
	GList *head = server->conns.head;
	if (!head)
		return FALSE;
	dns_tcp_close(head->data);
	server->shed++;
	return TRUE;
}

/* Marks @conn active now: it moves to the tail, the far end from shedding. */
static void
dns_tcp_touch(DnsTcpConn *conn)
{
	DnsServer *server = conn->server;
	conn->last_active = g_get_monotonic_time();
	if (server->conns.tail != &conn->link) {
		g_queue_unlink(&server->conns, &conn->link);
		g_queue_push_tail_link(&server->conns, &conn->link);
	}
}

/* Writes what can be written; FALSE if the connection failed. */
static gboolean
dns_tcp_flush(DnsTcpConn *conn)
{
	while (conn->out_off < conn->out->len) {
		ssize_t n = send(conn->fd, conn->out->data + conn->out_off,
		                 conn->out->len - conn->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return FALSE;
		conn->out_off += (gsize)n;
	}
	if (conn->out_off == conn->out->len) {
		g_byte_array_set_size(conn->out, 0);
		conn->out_off = 0;
	}
	return TRUE;
}

static gsize
dns_tcp_pending(const DnsTcpConn *conn)
{
	return conn->out->len - conn->out_off;
}

/* Answers every complete message in the input buffer; FALSE on a
 * framing error (a zero-length message). */
static gboolean
dns_tcp_process(DnsTcpConn *conn)
{
	DnsServer *server = conn->server;
	gsize off = 0;
	while (conn->in->len - off >= 2 && dns_tcp_pending(conn) < DNS_TCP_OUT_MAX) {
		const guint8 *p = conn->in->data + off;
		gsize mlen = ((gsize)p[0] << 8) | p[1];
		if (mlen == 0)
			return FALSE;
		if (conn->in->len - off < 2 + mlen)
			break;
		gsize n = dns_store_answer(server->store, p + 2, mlen, TRUE, server->tcp_answer,
		                           sizeof server->tcp_answer);
		if (n > 0) {
			guint8 prefix[2] = {(guint8)(n >> 8), (guint8)n};
			g_byte_array_append(conn->out, prefix, 2);
			g_byte_array_append(conn->out, server->tcp_answer, (guint)n);
		}
		off += 2 + mlen;
	}
	if (off > 0)
		g_byte_array_remove_range(conn->in, 0, (guint)off);
	return TRUE;
}

static void
dns_tcp_update_events(DnsTcpConn *conn)
{
	guint events = 0;
	if (dns_tcp_pending(conn) < DNS_TCP_OUT_MAX)
		events |= CIRCUIT_IO_READ;
	if (dns_tcp_pending(conn) > 0)
		events |= CIRCUIT_IO_WRITE;
	circuit_watch_fd_set_events(conn->watch, events);
}

static void
dns_tcp_ready(CircuitWatch *watch, int fd, guint revents, gpointer user_data)
{
	DnsTcpConn *conn = user_data;
	dns_tcp_touch(conn);
	if ((revents & CIRCUIT_IO_WRITE) && !dns_tcp_flush(conn)) {
		dns_tcp_close(conn);
		return;
	}
	if (revents & CIRCUIT_IO_READ) {
		guint8 buf[DNS_TCP_CHUNK];
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0 ||
		    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			/* The peer closed (or failed): answers still queued for a
			 * half-closed peer are attempted once, then we close. */
			if (n == 0)
				dns_tcp_flush(conn);
			dns_tcp_close(conn);
			return;
		}
		if (n > 0)
			g_byte_array_append(conn->in, buf, (guint)n);
	}
	/* Input left over from a paused turn is processed as room appears. */
	if (!dns_tcp_process(conn) || !dns_tcp_flush(conn)) {
		dns_tcp_close(conn);
		return;
	}
	dns_tcp_update_events(conn);
}

static void
dns_tcp_idle_tick(CircuitWatch *watch, gpointer user_data)
{
	DnsServer *server = user_data;
	gint64 now = g_get_monotonic_time();
	/* The queue is in order of activity: the expired ones are at its
	 * head. Bounded by the number of connections. */
	for (guint n = server->conns.length; n > 0 && server->conns.head; n--) {
		DnsTcpConn *conn = server->conns.head->data;
		if (now - conn->last_active < (gint64)DNS_TCP_IDLE_SECONDS * G_USEC_PER_SEC)
			break;
		dns_tcp_close(conn); /* may cancel this timer: fine in its callback */
	}
}

static void
dns_tcp_accept_resume(CircuitWatch *watch, gpointer user_data)
{
	DnsServer *server = user_data;
	circuit_watch_cancel(server->accept_retry);
	server->accept_retry = NULL;
	circuit_watch_fd_set_events(server->tcp_watch, CIRCUIT_IO_READ);
}

/* accept() failed for want of a resource: logs (rate-limited) and either
 * sheds a connection or, with none to shed, pauses the listener briefly
 * so the level-triggered watch does not spin. FALSE if it paused. */
static gboolean
dns_tcp_accept_starved(DnsServer *server, int err)
{
	gint64 now = g_get_monotonic_time();
	if (server->last_warning == 0 ||
	    now - server->last_warning >= (gint64)DNS_TCP_WARN_INTERVAL_S * G_USEC_PER_SEC) {
		server->last_warning = now;
		circuit_log(server->host, server->element, G_LOG_LEVEL_WARNING,
		            "dns: cannot accept a TCP connection: %s (%u open, %" G_GUINT64_FORMAT
		            " shed so far; closing the idlest)",
		            g_strerror(err), server->conns.length, server->shed);
	}
	if (dns_tcp_shed_idlest(server))
		return TRUE;
	circuit_watch_fd_set_events(server->tcp_watch, 0);
	if (!server->accept_retry)
		server->accept_retry = circuit_watch_timer(server->host, DNS_TCP_ACCEPT_RETRY, 0,
		                                           dns_tcp_accept_resume, server, NULL);
	return FALSE;
}

static void
dns_tcp_accept_ready(CircuitWatch *watch, int fd, guint revents, gpointer user_data)
{
	DnsServer *server = user_data;
	for (guint i = 0; i < DNS_TCP_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				if (!dns_tcp_accept_starved(server, errno))
					return;
				continue;
			}
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN: nothing left to accept */
		}
		/* Full: the idlest connection makes room (RFC 7766 6.2.3
		 * lets a server close idle connections under pressure), so a
		 * new client never waits behind idle ones. */
		if (server->conns.length >= server->max_conns)
			dns_tcp_shed_idlest(server);
		DnsTcpConn *conn = g_new0(DnsTcpConn, 1);
		conn->server = server;
		conn->link.data = conn;
		conn->fd = cfd;
		conn->in = g_byte_array_new();
		conn->out = g_byte_array_new();
		conn->last_active = g_get_monotonic_time();
		conn->watch = circuit_watch_fd(server->host, cfd, CIRCUIT_IO_READ, dns_tcp_ready,
		                               conn, NULL);
		g_queue_push_tail_link(&server->conns, &conn->link);
		if (!server->idle_timer)
			server->idle_timer = circuit_watch_timer(server->host, 1.0, 1.0,
			                                         dns_tcp_idle_tick, server, NULL);
	}
}

/* The connection cap: DNS_TCP_MAX_CONNS, or half the descriptors the
 * process may open beyond DNS_TCP_FD_RESERVE when that is fewer, so the
 * cap is met (and sheds) before accept() runs out of descriptors. */
static guint
dns_tcp_cap(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return DNS_TCP_MAX_CONNS;
	rlim_t spare = rl.rlim_cur > DNS_TCP_FD_RESERVE ? rl.rlim_cur - DNS_TCP_FD_RESERVE : 0;
	return (guint)CLAMP(spare / 2, DNS_TCP_MIN_CONNS, DNS_TCP_MAX_CONNS);
}

/* ------------------------------------------------------------------------ */
/* Binding                                                                   */

static int
dns_socket(int family, int type)
{
	return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* Binds UDP and TCP to @ss; when its port is 0, to one free port for
 * both. Returns FALSE with errno set on failure. */
static gboolean
dns_bind_pair(DnsServer *server, struct sockaddr_storage *ss, socklen_t len, const char **what)
{
	gboolean any_port = dns_address_port(ss) == 0;
	int err = 0;
	for (guint attempt = 0; attempt < DNS_BIND_ATTEMPTS; attempt++) {
		if (any_port)
			dns_address_set_port(ss, 0);
		int udp = dns_socket(ss->ss_family, SOCK_DGRAM);
		int tcp = dns_socket(ss->ss_family, SOCK_STREAM);
		int one = 1;
		*what = "udp";
		if (udp < 0 || tcp < 0 || bind(udp, (struct sockaddr *)ss, len) != 0)
			goto failed;
		struct sockaddr_storage bound;
		socklen_t blen = sizeof bound;
		if (getsockname(udp, (struct sockaddr *)&bound, &blen) != 0)
			goto failed;
		dns_address_set_port(ss, dns_address_port(&bound));
		*what = "tcp";
		/* SO_REUSEADDR lets the port be bound again right after a
		 * scrub even with connections in TIME_WAIT; it never lets two
		 * listeners share it. */
		setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		/* A deep backlog: a burst of connections waits in the kernel
		 * only until the next turn of the loop, never for a slot. */
		if (bind(tcp, (struct sockaddr *)ss, len) != 0 || listen(tcp, SOMAXCONN) != 0)
			goto failed;
		/* Room for bursts of queries between two turns of the loop. */
		int size = 1 << 20;
		setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
		setsockopt(udp, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
		server->udp_fd = udp;
		server->tcp_fd = tcp;
		return TRUE;
	failed:
		err = errno;
		if (udp >= 0)
			close(udp);
		if (tcp >= 0)
			close(tcp);
		if (!any_port || err != EADDRINUSE || g_str_equal(*what, "udp"))
			break;
	}
	errno = err;
	return FALSE;
}

DnsServer *
dns_server_new(CircuitHost *host, CircuitElement *element, DnsStore *store, const char *address,
               GError **error)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = 0;
	if (address) {
		if (!dns_parse_address(address, &ss, &len, error))
			return NULL;
	} else {
		const char *ip = circuit_host_server_addr(host);
		if (!dns_parse_address(ip ? ip : "127.0.0.1", &ss, &len, error))
			return NULL;
	}
	DnsServer *server = g_malloc0(sizeof *server);
	server->host = host;
	server->element = element;
	server->store = store;
	server->udp_fd = server->tcp_fd = -1;
	g_queue_init(&server->conns);
	server->max_conns = dns_tcp_cap();
	const char *what = "udp";
	if (!dns_bind_pair(server, &ss, len, &what)) {
		char *shown = dns_format_address(&ss);
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "cannot bind %s (%s): %s",
		            shown, what, g_strerror(errno));
		g_free(shown);
		dns_server_free(server);
		return NULL;
	}
	server->address = dns_format_address(&ss);
	server->udp_watch = circuit_watch_fd(host, server->udp_fd, CIRCUIT_IO_READ, dns_udp_ready,
	                                     server, NULL);
	server->tcp_watch = circuit_watch_fd(host, server->tcp_fd, CIRCUIT_IO_READ,
	                                     dns_tcp_accept_ready, server, NULL);
	circuit_log(host, element, G_LOG_LEVEL_INFO,
	            "dns: serving on %s (udp and tcp, at most %u tcp connections)", server->address,
	            server->max_conns);
	return server;
}

const char *
dns_server_address(DnsServer *server)
{
	return server->address;
}

void
dns_server_free(DnsServer *server)
{
	if (!server)
		return;
	while (server->conns.head)
		dns_tcp_close(server->conns.head->data);
	circuit_watch_cancel(server->idle_timer);
	circuit_watch_cancel(server->accept_retry);
	circuit_watch_cancel(server->udp_watch);
	circuit_watch_cancel(server->tcp_watch);
	if (server->udp_fd >= 0)
		close(server->udp_fd);
	if (server->tcp_fd >= 0)
		close(server->tcp_fd);
	g_free(server->address);
	g_free(server);
}
