// SPDX-License-Identifier: Apache-2.0
//
// cluster.c - the membership engine wired into circuitd: a UDP socket on the
// server's own host and port (sealed datagrams when keyed), one-shot libev
// timers as the engine's clock, push-pull over peer connections (core/peer),
// seeds from -j; multicast discovery (beacons and client queries) is in
// discover.c.
//
// Every datagram, plaintext or opened, starts with 'C' and a type letter:
// 'M' membership (lib/member's wire format), 'B' a discovery beacon, 'Q' a
// client's discovery query, 'A' the answer to one. One handler demultiplexes
// all of them, whichever socket they arrived on.
#define G_LOG_DOMAIN "cluster"

#include "cluster_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <gcrypt.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

Cluster *cluster_self;
static guint8 cluster_buf[SEAL_MAX_DATAGRAM + 1];

/* ---- Addresses ------------------------------------------------------------ */

/* Parses a numeric "a.b.c.d:port" or "[v6]:port". */
bool
cluster_addr_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr)
		return false;
	char *end = NULL;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || port == 0 || port > 65535)
		return false;
	char host[INET6_ADDRSTRLEN + 2];
	gsize hlen = (gsize)(colon - addr);
	if (addr[0] == '[') {
		if (hlen < 3 || addr[hlen - 1] != ']' || hlen - 2 >= sizeof host)
			return false;
		memcpy(host, addr + 1, hlen - 2);
		host[hlen - 2] = '\0';
	} else {
		if (hlen >= sizeof host)
			return false;
		memcpy(host, addr, hlen);
		host[hlen] = '\0';
	}
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((guint16)port);
		*len = sizeof *in4;
		return true;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((guint16)port);
		*len = sizeof *in6;
		return true;
	}
	return false;
}

/* Formats @sa as "host:port" ("[v6]:port") into @out. */
static void
cluster_addr_format(const struct sockaddr *sa, char out[INET6_ADDRSTRLEN + 9])
{
	char host[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
		snprintf(out, INET6_ADDRSTRLEN + 9, "%s:%u", host, ntohs(in4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		snprintf(out, INET6_ADDRSTRLEN + 9, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, INET6_ADDRSTRLEN + 9, "?");
	}
}

/* ---- The engine's clock and random source --------------------------------- */

typedef struct {
	ev_timer w;
	MemberTimerFn fn;
	gpointer data;
} ClusterTimer;

static gint64
cluster_now_ms(gpointer ctx)
{
	return (gint64)(ev_now(EV_DEFAULT) * 1000.0);
}

static void
cluster_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	ClusterTimer *t = (ClusterTimer *)w;
	MemberTimerFn fn = t->fn;
	gpointer data = t->data;
	g_free(t); /* a one-shot ev_timer is already stopped when it fires */
	fn(data);
}

static gpointer
cluster_timer_start(gpointer ctx, gint64 delay_ms, MemberTimerFn fn, gpointer data)
{
	ClusterTimer *t = g_new0(ClusterTimer, 1);
	t->fn = fn;
	t->data = data;
	ev_timer_init(&t->w, cluster_on_timer, MAX(delay_ms, 0) / 1000.0, 0.0);
	ev_timer_start(EV_DEFAULT, &t->w);
	return t;
}

static void
cluster_timer_cancel(gpointer ctx, gpointer timer)
{
	ClusterTimer *t = timer;
	ev_timer_stop(EV_DEFAULT, &t->w);
	g_free(t);
}

guint32
cluster_random(gpointer ctx)
{
	guint32 r;
	gcry_create_nonce(&r, sizeof r);
	return r;
}

/* ---- Sending ---------------------------------------------------------------- */

static bool
cluster_keyed(void)
{
	return cluster_self->n_keys > 0;
}

/* Sends @len bytes to @sa from @fd, sealed for @receiver (a server ID, or 0
 * for whoever listens there) when keyed. */
void
cluster_sendto(int fd, const guint8 *bytes, gsize len, const struct sockaddr *sa, socklen_t sl,
               guint64 receiver)
{
	g_autoptr(GByteArray) sealed = NULL;
	if (cluster_keyed()) {
		g_autoptr(GError) error = NULL;
		sealed = g_byte_array_sized_new((guint)(len + SEAL_OVERHEAD));
		if (!seal_datagram(cluster_self->keys[0], &cluster_self->sender, receiver,
		                   g_get_real_time() / G_USEC_PER_SEC, bytes, len, sealed,
		                   &error)) {
			cluster_self->send_errors++;
			g_debug("not sent: %s", error->message);
			return;
		}
		bytes = sealed->data;
		len = sealed->len;
	}
	ssize_t n;
	int tries = 0;
	do {
		n = sendto(fd, bytes, len, 0, sa, sl);
		/*
		 * With IP_RECVERR an ICMP error about an earlier datagram (to
		 * anyone, and anyone can forge one) fails this call without
		 * sending, and is consumed by it: send once more, or a forged
		 * error would silence the very probe that checks it.
		 */
	} while (n < 0 && (errno == EINTR || ((errno == ECONNREFUSED || errno == EHOSTUNREACH ||
	                                       errno == ENETUNREACH || errno == EHOSTDOWN) &&
	                                      ++tries <= 2)));
	if (n < 0) {
		/* With IP_RECVERR an earlier datagram's ICMP error can surface
		 * here; the error queue (read when the socket polls) says whose. */
		cluster_self->send_errors++;
		if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN) == FALSE) {
			char to[INET6_ADDRSTRLEN + 9];
			cluster_addr_format(sa, to);
			g_debug("sendto %s: %s", to, g_strerror(errno));
		}
	}
}

static void
cluster_send(gpointer ctx, const char *to_addr, const guint8 *bytes, gsize len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!cluster_addr_parse(to_addr, &ss, &sl)) {
		cluster_self->send_errors++;
		g_debug("not sent: %s is not a numeric address", to_addr);
		return;
	}
	/* The engine names members by address only; the ID of the member
	 * there binds the datagram to it. Unknown (a seed -j gave without an
	 * ID, a stranger): 0, which any receiver accepts. */
	const guint64 *id = g_hash_table_lookup(cluster_self->addr_ids, to_addr);
	cluster_sendto(cluster_self->fd, bytes, len, (struct sockaddr *)&ss, sl, id ? *id : 0);
}

/* Records that server @id listens at @addr, forgetting its previous address. */
static void
cluster_peer_id_set(const char *addr, guint64 id)
{
	const char *old = g_hash_table_lookup(cluster_self->id_addrs, &id);
	if (old && strcmp(old, addr) != 0) {
		const guint64 *there = g_hash_table_lookup(cluster_self->addr_ids, old);
		if (there && *there == id)
			g_hash_table_remove(cluster_self->addr_ids, old);
	}
	guint64 *v = g_new(guint64, 1);
	*v = id;
	g_hash_table_replace(cluster_self->addr_ids, g_strdup(addr), v);
	guint64 *k = g_new(guint64, 1);
	*k = id;
	g_hash_table_replace(cluster_self->id_addrs, k, g_strdup(addr));
}

/* Forgets server @id, and its address unless another server took it since. */
static void
cluster_peer_id_forget(guint64 id)
{
	const char *addr = g_hash_table_lookup(cluster_self->id_addrs, &id);
	if (!addr)
		return;
	const guint64 *there = g_hash_table_lookup(cluster_self->addr_ids, addr);
	if (there && *there == id)
		g_hash_table_remove(cluster_self->addr_ids, addr);
	g_hash_table_remove(cluster_self->id_addrs, &id);
}

/* ---- Push-pull over peer connections -------------------------------------- */

typedef struct {
	PeerCall *call;
	MemberExchangeDone done;
	gpointer data;
	char *addr;
	GBytes *doc;         /* the engine's document, sent once the seed is verified */
	ClusterSeed *verify; /* a -j seed whose ID is checked first, or NULL */
} ClusterSync;

static void cluster_sync_send(ClusterSync *s, GBytes *doc);

static void
cluster_sync_free(ClusterSync *s)
{
	g_free(s->addr);
	if (s->doc)
		g_bytes_unref(s->doc);
	g_free(s);
}

guint64
cluster_be64(const guint8 *p)
{
	guint64 v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
cluster_put_be64(guint8 *p, guint64 v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (guint8)v;
}

static void
cluster_sync_done(GBytes *output, const GError *error, gpointer data)
{
	ClusterSync *s = data;
	s->call = NULL;
	if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
		MemberExchangeDone done = s->done;
		gpointer d = s->data;
		char *addr = g_steal_pointer(&s->addr);
		cluster_sync_free(s);
		done(NULL, 0, error, d);
		if (cluster_self && cluster_self->m)
			member_peer_refused(cluster_self->m, addr);
		g_free(addr);
		return;
	}
	if (output && s->verify) {
		/* The ID check of a -j URL: the reply's header names its sender. */
		gsize len = 0;
		const guint8 *p = g_bytes_get_data(output, &len);
		guint64 got = len >= MEMBER_WIRE_STATE_HEADER ? cluster_be64(p + 4) : 0;
		if (got != s->verify->id) {
			char want_s[18], got_s[18];
			member_id_format(s->verify->id, want_s);
			member_id_format(got, got_s);
			g_autofree char *key = g_strdup_printf("%s %s", s->addr, got_s);
			if (!g_hash_table_contains(cluster_self->reasons, key)) {
				g_warning("join URL circuit://%s/.../%s names %s but the server at "
				          "%s "
				          "is %s: not joining it (retrying with back-off)",
				          s->addr, want_s, want_s, s->addr, got_s);
				g_hash_table_add(cluster_self->reasons, g_steal_pointer(&key));
			}
			g_autoptr(GError) e = g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED,
			                                  "the server at %s is %s, not %s", s->addr,
			                                  got_s, want_s);
			MemberExchangeDone done = s->done;
			gpointer d = s->data;
			cluster_sync_free(s);
			done(NULL, 0, e, d);
			return;
		}
		s->verify->verified = true;
		s->verify = NULL;
		GBytes *doc = g_steal_pointer(&s->doc);
		cluster_sync_send(s, doc);
		g_bytes_unref(doc);
		return;
	}
	MemberExchangeDone done = s->done;
	gpointer d = s->data;
	gsize len = 0;
	const guint8 *p = output ? g_bytes_get_data(output, &len) : NULL;
	cluster_sync_free(s);
	done(p, len, output ? NULL : error, d);
}

static void
cluster_sync_send(ClusterSync *s, GBytes *doc)
{
	g_autoptr(JsonObject) req = json_object_new();
	json_object_set_string_member(req, "op", "member.sync");
	json_object_set_string_member(req, "path", "/");
	s->call = peer_call(s->addr, req, doc, CLUSTER_SYNC_MAX, CLUSTER_SYNC_TIME_S,
	                    cluster_sync_done, s);
}

static gpointer
cluster_sync_request(gpointer ctx, const char *to_addr, const guint8 *bytes, gsize len,
                     MemberExchangeDone done, gpointer data)
{
	ClusterSync *s = g_new0(ClusterSync, 1);
	s->done = done;
	s->data = data;
	s->addr = g_strdup(to_addr);
	ClusterSeed *seed = g_hash_table_lookup(cluster_self->seeds, to_addr);
	bool joining = len >= MEMBER_WIRE_STATE_HEADER && (bytes[3] & MEMBER_WIRE_STATE_JOIN);
	if (seed && !seed->verified && joining) {
		/* Ask who is there with an empty document (it merges nothing on
		 * the other side) before handing it our view. */
		guint8 probe[MEMBER_WIRE_STATE_HEADER] = {'C', 'P', MEMBER_WIRE_VERSION, 0};
		cluster_put_be64(probe + 4, cluster_self->self_id);
		s->verify = seed;
		s->doc = g_bytes_new(bytes, len);
		g_autoptr(GBytes) first = g_bytes_new(probe, sizeof probe);
		cluster_sync_send(s, first);
	} else {
		g_autoptr(GBytes) doc = g_bytes_new(bytes, len);
		cluster_sync_send(s, doc);
	}
	return s;
}

static void
cluster_sync_cancel(gpointer ctx, gpointer handle)
{
	ClusterSync *s = handle;
	if (s->call)
		peer_call_cancel(s->call);
	cluster_sync_free(s);
}

static void
cluster_on_peer_lost(const char *addr, gpointer user_data)
{
	if (cluster_self && cluster_self->m)
		member_peer_suspicious(cluster_self->m, addr);
}

GBytes *
cluster_serve_sync(const guint8 *bytes, gsize len, const char *from, GError **error)
{
	if (!cluster_self || !cluster_self->m) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
		            "this server is not in a cluster");
		return NULL;
	}
	return member_exchange_serve(cluster_self->m, bytes, len, from, error);
}

/* ---- Receiving ------------------------------------------------------------ */

void
cluster_reject(ClusterReject why, const char *from)
{
	if (cluster_self->rejected[why]++ == 0)
		g_message("dropped a datagram from %s (%s); further ones are only counted "
		          "(peek the server anchor)",
		          from, cluster_reject_names[why]);
	else
		g_debug("datagram from %s rejected: %s", from, cluster_reject_names[why]);
}

static void
cluster_datagram(int fd, const guint8 *buf, gsize n, const struct sockaddr *sa, socklen_t sl)
{
	char from[INET6_ADDRSTRLEN + 9];
	cluster_addr_format(sa, from);
	if (n > SEAL_MAX_DATAGRAM) {
		cluster_reject(CLUSTER_REJECT_OVERSIZE, from);
		return;
	}
	const guint8 *p = buf;
	gsize len = n;
	g_autoptr(GByteArray) plain = NULL;
	if (cluster_keyed()) {
		plain = g_byte_array_sized_new((guint)n);
		gint64 now = g_get_real_time() / G_USEC_PER_SEC;
		g_autoptr(GError) error = NULL;
		bool ok = false;
		for (gsize i = 0; i < cluster_self->n_keys && !ok; i++) {
			g_clear_error(&error);
			ok = seal_open(cluster_self->keys[i], cluster_self->replay,
			               cluster_self->self_id, now, buf, n, plain, NULL, &error);
			if (!ok && !g_error_matches(error, SEAL_ERROR, SEAL_ERROR_AUTH))
				break;
		}
		if (!ok) {
			ClusterReject why = CLUSTER_REJECT_AUTH;
			switch (error->code) {
			case SEAL_ERROR_TRUNCATED:
				why = CLUSTER_REJECT_TRUNCATED;
				break;
			case SEAL_ERROR_VERSION:
				why = CLUSTER_REJECT_VERSION;
				break;
			case SEAL_ERROR_STALE:
				why = CLUSTER_REJECT_STALE;
				break;
			case SEAL_ERROR_REPLAY:
				why = CLUSTER_REJECT_REPLAY;
				break;
			case SEAL_ERROR_MISDIRECTED:
				why = CLUSTER_REJECT_MISDIRECTED;
				break;
			case SEAL_ERROR_TOO_LONG:
				why = CLUSTER_REJECT_OVERSIZE;
				break;
			default:
				break;
			}
			cluster_reject(why, from);
			return;
		}
		p = plain->data;
		len = plain->len;
	}
	if (len < MEMBER_WIRE_HEADER || p[0] != 'C') {
		cluster_reject(CLUSTER_REJECT_MALFORMED, from);
		return;
	}
	switch (p[1]) {
	case 'M':
		member_receive(cluster_self->m, p, len, from);
		break;
	case 'B':
		discover_on_beacon(p, len, from);
		break;
	case 'Q':
		discover_on_query(fd, p, len, sa, sl, from);
		break;
	default:
		cluster_reject(CLUSTER_REJECT_MALFORMED, from);
		break;
	}
}

/* Reads the ICMP errors queued by IP_RECVERR: a port unreachable from a
 * member's address suggests that nothing listens there. Anyone can forge
 * one (no key needed), so it is only evidence: member_peer_refused probes
 * the member at once over the sealed protocol, and declares it dead only
 * when that probe fails too. */
static void
cluster_read_errors(int fd)
{
	for (int i = 0; i < CLUSTER_READ_BURST; i++) {
		struct sockaddr_storage ss;
		guint8 data[64];
		union {
			char buf[512];
			struct cmsghdr align;
		} control;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
		struct msghdr msg = {.msg_name = &ss,
		                     .msg_namelen = sizeof ss,
		                     .msg_iov = &iov,
		                     .msg_iovlen = 1,
		                     .msg_control = control.buf,
		                     .msg_controllen = sizeof control.buf};
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
			bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
			if (!v4 && !v6)
				continue;
			const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
			bool unreachable = (v4 && ee->ee_origin == SO_EE_ORIGIN_ICMP &&
			                    ee->ee_type == 3 && ee->ee_code == 3) ||
			                   (v6 && ee->ee_origin == SO_EE_ORIGIN_ICMP6 &&
			                    ee->ee_type == 1 && ee->ee_code == 4);
			if (!unreachable || msg.msg_namelen == 0)
				continue;
			char to[INET6_ADDRSTRLEN + 9];
			cluster_addr_format((struct sockaddr *)&ss, to);
			cluster_self->icmp_refused++;
			g_debug("port unreachable: %s", to);
			if (cluster_self->m)
				member_peer_refused(cluster_self->m, to);
		}
	}
}

void
cluster_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	cluster_read_errors(w->fd);
	for (int i = 0; i < CLUSTER_READ_BURST && cluster_self; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		ssize_t n = recvfrom(w->fd, cluster_buf, sizeof cluster_buf, MSG_TRUNC,
		                     (struct sockaddr *)&ss, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* A pending ICMP error reported as the call's error. */
			cluster_read_errors(w->fd);
			continue;
		}
		cluster_datagram(w->fd, cluster_buf, (gsize)n, (struct sockaddr *)&ss, sl);
	}
}

/* ---- Seeds ------------------------------------------------------------------ */

/* Resolves @url's host to a numeric "host:port" (blocking, at start only). */
static char *
cluster_seed_addr(const Url *url, GError **error)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(url->host, NULL, &hints, &res);
	if (rc != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot resolve %s: %s",
		            url->host, gai_strerror(rc));
		return NULL;
	}
	char host[INET6_ADDRSTRLEN];
	bool v6 = res->ai_family == AF_INET6;
	const void *a = v6 ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
	                   : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
	inet_ntop(res->ai_family, a, host, sizeof host);
	freeaddrinfo(res);
	return v6 ? g_strdup_printf("[%s]:%u", host, url->port)
	          : g_strdup_printf("%s:%u", host, url->port);
}

static bool
cluster_add_seeds(const char *const *join, GError **error)
{
	for (gsize i = 0; join && join[i]; i++) {
		g_auto(Url) url = {0};
		if (!url_parse(join[i], TRUE, &url, error)) {
			g_prefix_error(error, "-j %s: ", join[i]);
			return false;
		}
		g_autofree char *addr = cluster_seed_addr(&url, error);
		if (!addr) {
			g_prefix_error(error, "-j %s: ", join[i]);
			return false;
		}
		if (url.id) {
			ClusterSeed *seed = g_new0(ClusterSeed, 1);
			if (!member_id_parse(url.id, &seed->id)) {
				g_free(seed);
				g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				            "-j %s: bad server ID", join[i]);
				return false;
			}
			g_hash_table_replace(cluster_self->seeds, g_strdup(addr), seed);
			/* The URL names who listens there: datagrams to it say so.
			 * A wrong ID only makes them misdirected, as the join's own
			 * ID check refuses that seed anyway. */
			cluster_peer_id_set(addr, seed->id);
		}
		if (!member_join(cluster_self->m, addr, error)) {
			g_prefix_error(error, "-j %s: ", join[i]);
			return false;
		}
		g_info("joining %s", addr);
	}
	return true;
}

bool
cluster_join(const char *const *urls, GError **error)
{
	if (!cluster_self || !cluster_self->m) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
		            "membership is not running");
		return false;
	}
	return cluster_add_seeds(urls, error);
}

guint
cluster_member_count(void)
{
	if (!cluster_self || !cluster_self->m)
		return 1;
	return member_count(cluster_self->m, MEMBER_ALIVE) +
	       member_count(cluster_self->m, MEMBER_SUSPECT);
}

/* ---- Lifecycle -------------------------------------------------------------- */

/* An inert MemberIO: cluster_options_check() builds an engine only to have
 * member_new() judge the configuration, and frees it before any timer runs. */
static gint64
cluster_inert_now(gpointer ctx)
{
	return 0;
}

static gpointer
cluster_inert_timer_start(gpointer ctx, gint64 delay_ms, MemberTimerFn fn, gpointer data)
{
	return ctx;
}

static void
cluster_inert_cancel(gpointer ctx, gpointer handle)
{
}

static void
cluster_inert_send(gpointer ctx, const char *to_addr, const guint8 *bytes, gsize len)
{
}

static gpointer
cluster_inert_request(gpointer ctx, const char *to_addr, const guint8 *bytes, gsize len,
                      MemberExchangeDone done, gpointer data)
{
	return ctx;
}

bool
cluster_options_check(const ClusterOptions *o, GError **error)
{
	static int inert;
	MemberIO io = {
	        .clock = {cluster_inert_now, cluster_inert_timer_start, cluster_inert_cancel,
	                  &inert},
	        .transport = {cluster_inert_send, NULL},
	        .exchange = {cluster_inert_request, cluster_inert_cancel, &inert},
	        .random = {cluster_random, NULL},
	};
	guint64 id = 0;
	if (!o->server_id || !member_id_parse(o->server_id, &id)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad server ID %s",
		            o->server_id ? o->server_id : "(none)");
		return false;
	}
	Member *m = member_new(o->config, &io, id, o->addr, error);
	if (!m)
		return false;
	member_free(m);
	for (gsize i = 0; o->join && o->join[i]; i++) {
		g_auto(Url) url = {0};
		guint64 want;
		if (!url_parse(o->join[i], TRUE, &url, error)) {
			g_prefix_error(error, "-j %s: ", o->join[i]);
			return false;
		}
		if (url.id && !member_id_parse(url.id, &want)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			            "-j %s: bad server ID", o->join[i]);
			return false;
		}
	}
	struct sockaddr_in group;
	return !o->discover || discover_group_parse(o->discover, &group, error);
}

static void
cluster_on_event(Member *m, MemberEventType type, const MemberInfo *info, gpointer user_data)
{
	if (info->id != cluster_self->self_id) {
		if (type == MEMBER_EVENT_LEAVE)
			cluster_peer_id_forget(info->id);
		else
			cluster_peer_id_set(info->addr, info->id);
	}
	if (type == MEMBER_EVENT_UPDATE)
		return;
	char id[18];
	member_id_format(info->id, id);
	g_info("%s %s at %s (%s)", id, type == MEMBER_EVENT_JOIN ? "joined" : "left", info->addr,
	       member_state_name(info->state));
	/* Calls waiting on a server declared dead fail now, not when (if ever)
	 * its host answers again. One that left closes its connections itself,
	 * after its last answers. */
	if (type == MEMBER_EVENT_LEAVE && info->state == MEMBER_DEAD)
		peer_server_dead(id, info->addr);
}

static int
cluster_udp_socket(const ClusterOptions *o, GError **error)
{
	g_autofree char *hp = strchr(o->bind_host, ':')
	                              ? g_strdup_printf("[%s]:%u", o->bind_host, o->port)
	                              : g_strdup_printf("%s:%u", o->bind_host, o->port);
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!cluster_addr_parse(hp, &ss, &sl)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "membership: %s is not a numeric address", hp);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, rcvbuf = 1 << 20;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
		if (ss.ss_family == AF_INET)
			setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof one);
		else
			setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
		            "membership: cannot bind UDP %s: %s", hp, g_strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

bool
cluster_start(const ClusterOptions *o, GError **error)
{
	g_return_val_if_fail(o && o->server_id && o->addr && o->bind_host, false);
	g_return_val_if_fail(cluster_self == NULL, false);
	if (!cluster_options_check(o, error))
		return false;
	cluster_self = g_new0(Cluster, 1);
	cluster_self->fd = cluster_self->mfd = -1;
	cluster_self->seeds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	cluster_self->reasons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cluster_self->addr_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	cluster_self->id_addrs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	cluster_self->addr = g_strdup(o->addr);
	cluster_self->url = g_strdup(o->url ? o->url : o->addr);
	if (!member_id_parse(o->server_id, &cluster_self->self_id)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad server ID %s",
		            o->server_id);
		goto fail;
	}
	if (o->n_keys > 0) {
		cluster_self->keys = g_new0(SealKey *, o->n_keys);
		for (gsize i = 0; i < o->n_keys; i++) {
			cluster_self->keys[i] = seal_key_derive(o->keys + 32 * i, error);
			if (!cluster_self->keys[i])
				goto fail;
			cluster_self->n_keys = i + 1;
		}
		seal_sender_init(&cluster_self->sender);
		cluster_self->replay = seal_replay_new(0);
	}
	cluster_self->fd = cluster_udp_socket(o, error);
	if (cluster_self->fd < 0)
		goto fail;
	ev_now_update(EV_DEFAULT);
	MemberIO io = {
	        .clock = {cluster_now_ms, cluster_timer_start, cluster_timer_cancel, NULL},
	        .transport = {cluster_send, NULL},
	        .exchange = {cluster_sync_request, cluster_sync_cancel, NULL},
	        .random = {cluster_random, NULL},
	};
	cluster_self->m = member_new(o->config, &io, cluster_self->self_id, o->addr, error);
	if (!cluster_self->m)
		goto fail;
	member_watch(cluster_self->m, cluster_on_event, NULL, NULL);
	peer_set_lost_hook(cluster_on_peer_lost, NULL);
	ev_io_init(&cluster_self->io, cluster_on_readable, cluster_self->fd, EV_READ);
	ev_io_start(EV_DEFAULT, &cluster_self->io);
	if (!cluster_add_seeds(o->join, error))
		goto fail;
	if (o->discover && !discover_start(o, error))
		goto fail;
	g_info("membership on udp %s%s", o->addr, cluster_keyed() ? " (sealed)" : "");
	return true;
fail:
	cluster_stop();
	return false;
}

bool
cluster_set_keys(const guint8 *keys, gsize n_keys, GError **error)
{
	if (!cluster_self)
		return true;
	if ((n_keys > 0) != (cluster_self->n_keys > 0)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "a running server cannot switch between keyed and unkeyed datagrams");
		return false;
	}
	SealKey **fresh = g_new0(SealKey *, n_keys);
	for (gsize i = 0; i < n_keys; i++) {
		fresh[i] = seal_key_derive(keys + 32 * i, error);
		if (!fresh[i]) {
			for (gsize j = 0; j < i; j++)
				seal_key_free(fresh[j]);
			g_free(fresh);
			return false;
		}
	}
	for (gsize i = 0; i < cluster_self->n_keys; i++)
		seal_key_free(cluster_self->keys[i]);
	g_free(cluster_self->keys);
	cluster_self->keys = fresh;
	cluster_self->n_keys = n_keys;
	return true;
}

void
cluster_leave(void)
{
	if (!cluster_self || !cluster_self->m || cluster_self->left)
		return;
	cluster_self->left = true;
	ev_timer_stop(EV_DEFAULT, &cluster_self->beacon);
	member_leave(cluster_self->m);
	g_info("leaving the cluster");
}

void
cluster_stop(void)
{
	if (!cluster_self)
		return;
	peer_set_lost_hook(NULL, NULL);
	/* member_free cancels every timer and exchange it started. */
	member_free(cluster_self->m);
	cluster_self->m = NULL;
	ev_timer_stop(EV_DEFAULT, &cluster_self->beacon);
	if (cluster_self->fd >= 0) {
		ev_io_stop(EV_DEFAULT, &cluster_self->io);
		close(cluster_self->fd);
	}
	if (cluster_self->mfd >= 0) {
		ev_io_stop(EV_DEFAULT, &cluster_self->mio);
		close(cluster_self->mfd);
	}
	for (gsize i = 0; i < cluster_self->n_keys; i++)
		seal_key_free(cluster_self->keys[i]);
	g_free(cluster_self->keys);
	seal_replay_free(cluster_self->replay);
	g_hash_table_destroy(cluster_self->seeds);
	g_hash_table_destroy(cluster_self->reasons);
	g_hash_table_destroy(cluster_self->addr_ids);
	g_hash_table_destroy(cluster_self->id_addrs);
	g_free(cluster_self->group_text);
	g_free(cluster_self->addr);
	g_free(cluster_self->url);
	g_clear_pointer(&cluster_self, g_free);
}

Member *
cluster_member(void)
{
	return cluster_self ? cluster_self->m : NULL;
}

void
cluster_peek(JsonObject *peek)
{
	if (!cluster_self || !cluster_self->m)
		return;
	MemberStats st;
	member_get_stats(cluster_self->m, &st);
	guint alive = member_count(cluster_self->m, MEMBER_ALIVE);
	guint suspect = member_count(cluster_self->m, MEMBER_SUSPECT);
	json_object_set_int_member(peek, "Members", alive + suspect);
	json_object_set_int_member(peek, "Suspects", suspect);
	json_object_set_int_member(peek, "Health", member_health(cluster_self->m));
	json_object_set_int_member(peek, "Incarnation",
	                           (gint64)member_incarnation(cluster_self->m));
	json_object_set_boolean_member(peek, "JoinedCluster", member_joined(cluster_self->m));
	if (cluster_self->group_text)
		json_object_set_string_member(peek, "Discover", cluster_self->group_text);
	JsonObject *by = json_object_new();
	guint64 total = 0;
	for (int i = 0; i < CLUSTER_REJECT_N; i++) {
		json_object_set_int_member(by, cluster_reject_names[i],
		                           (gint64)cluster_self->rejected[i]);
		total += cluster_self->rejected[i];
	}
	/* What passed the seal but not the engine's decoder. */
	for (int i = 1; i < MEMBER_WIRE_N_ERRORS; i++) {
		g_autofree char *name =
		        g_strdup_printf("member-%s", member_wire_error_name((MemberWireError)i));
		json_object_set_int_member(by, name, (gint64)st.decode_errors[i]);
		total += st.decode_errors[i];
	}
	json_object_set_int_member(peek, "DatagramsIn", (gint64)st.datagrams_in);
	json_object_set_int_member(peek, "DatagramsOut", (gint64)st.datagrams_out);
	json_object_set_int_member(peek, "DatagramsRejected", (gint64)total);
	json_object_set_object_member(peek, "DatagramsRejectedBy", by);
	json_object_set_int_member(peek, "BeaconsIn", (gint64)cluster_self->beacons_in);
	json_object_set_int_member(peek, "BeaconsOut", (gint64)cluster_self->beacons_out);
	json_object_set_int_member(peek, "DiscoveryQueries", (gint64)cluster_self->queries_in);
	json_object_set_int_member(peek, "PushPulls", (gint64)st.push_pulls);
	json_object_set_int_member(peek, "PushPullFailures", (gint64)st.push_pull_failures);
	json_object_set_int_member(peek, "Refusals", (gint64)st.refusals);
	json_object_set_int_member(peek, "IcmpUnreachable", (gint64)cluster_self->icmp_refused);
	/* Claims that decoded (and opened) but that the engine would not believe. */
	JsonObject *claims = json_object_new();
	json_object_set_int_member(claims, "stale-incarnation", (gint64)st.stale_claims);
	json_object_set_int_member(claims, "table-full", (gint64)st.members_refused);
	json_object_set_int_member(claims, "unproven-move", (gint64)st.moves_refused);
	json_object_set_int_member(claims, "unknown-ping-req", (gint64)st.ping_reqs_refused);
	json_object_set_object_member(peek, "ClaimsRejectedBy", claims);
}
