// SPDX-License-Identifier: Apache-2.0
//
// discover.c - circuit_discover(): asks a multicast group for a server, the
// client side of circuitd's --discover (core/cluster/cluster.c has the
// server side and the datagram formats). The query is resent with
// back-off until the deadline, so one lost datagram costs a fraction of the
// timeout, and the call never outlives the deadline.
#include <circuit/client.h>

#include "security/keyfile.h"
#include "security/seal.h"
#include "security/security.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gcrypt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Must match core/cluster/cluster.c. */
#define DISCOVER_VERSION    1u
#define DISCOVER_QUERY_LEN  512u
#define DISCOVER_DEFAULT_MS 2000

static bool
discover_group_parse(const char *group, struct sockaddr_in *out)
{
	const char *colon = strrchr(group, ':');
	if (!colon || colon == group || (gsize)(colon - group) >= INET_ADDRSTRLEN)
		return false;
	char host[INET_ADDRSTRLEN];
	memcpy(host, group, (gsize)(colon - group));
	host[colon - group] = '\0';
	char *end = NULL;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port == 0 || port > 65535)
		return false;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((guint16)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 &&
	       IN_MULTICAST(ntohl(out->sin_addr.s_addr));
}

typedef struct {
	SealKey *keys[KEYFILE_MAX_KEYS];
	gsize n_keys;
	SealSender sender;
} DiscoverKeys;

static void
discover_keys_clear(DiscoverKeys *k)
{
	for (gsize i = 0; i < k->n_keys; i++)
		seal_key_free(k->keys[i]);
	k->n_keys = 0;
}

static bool
discover_keys_load(DiscoverKeys *k, const char *key_file, GError **error)
{
	GError *local = NULL;
	if (!security_init(&local)) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY, "%s",
		            local->message);
		g_error_free(local);
		return false;
	}
	if (!key_file)
		return true;
	Keyfile *kf = keyfile_load(key_file, &local);
	if (!kf) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY, "%s",
		            local->message);
		g_error_free(local);
		return false;
	}
	for (gsize i = 0; i < keyfile_get_n_keys(kf); i++) {
		k->keys[i] = seal_key_derive(keyfile_get_key(kf, i), &local);
		if (!k->keys[i]) {
			keyfile_free(kf);
			g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY, "%s",
			            local->message);
			g_error_free(local);
			return false;
		}
		k->n_keys = i + 1;
	}
	keyfile_free(kf);
	seal_sender_init(&k->sender);
	return true;
}

/*
 * Sends @len bytes to the group once through every interface that is up
 * and has an IPv4 address (loopback included: servers bound to 127.0.0.1
 * join the group there), since the client cannot know which one leads to
 * the servers. Returns TRUE if any send succeeded, else sets *@send_errno.
 */
static gboolean
discover_send_all(int fd, const guint8 *bytes, gsize len, const struct sockaddr_in *to,
                  int *send_errno)
{
	struct ifaddrs *ifs = NULL;
	gboolean sent = FALSE;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
			    !(i->ifa_flags & IFF_UP) ||
			    !(i->ifa_flags & (IFF_MULTICAST | IFF_LOOPBACK)))
				continue;
			struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) != 0)
				continue;
			if (sendto(fd, bytes, len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
				*send_errno = errno;
			else
				sent = TRUE;
		}
		freeifaddrs(ifs);
	}
	if (!sent) {
		/* No usable interface list: the routing table's choice. */
		struct in_addr any = {.s_addr = htonl(INADDR_ANY)};
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &any, sizeof any);
		if (sendto(fd, bytes, len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
			*send_errno = errno;
		else
			sent = TRUE;
	}
	return sent;
}

/* An answer to our @nonce: (transfer full) its URL, else NULL. */
static char *
discover_answer(DiscoverKeys *k, const guint8 *buf, gsize n, const guint8 nonce[8])
{
	g_autoptr(GByteArray) plain = NULL;
	if (k->n_keys > 0) {
		plain = g_byte_array_new();
		gint64 now = g_get_real_time() / G_USEC_PER_SEC;
		bool ok = false;
		for (gsize i = 0; i < k->n_keys && !ok; i++) {
			g_autoptr(GError) e = NULL;
			/* A client has no server ID: self 0 takes only answers sealed
			 * for receiver 0, never one a server meant for another. */
			ok = seal_open(k->keys[i], NULL, 0, now, buf, n, plain, NULL, &e);
			if (!ok && !g_error_matches(e, SEAL_ERROR, SEAL_ERROR_AUTH))
				break;
		}
		if (!ok)
			return NULL;
		buf = plain->data;
		n = plain->len;
	}
	if (n < 14 || buf[0] != 'C' || buf[1] != 'A' || buf[2] != DISCOVER_VERSION ||
	    memcmp(buf + 4, nonce, 8) != 0)
		return NULL;
	gsize len = (gsize)buf[12] << 8 | buf[13];
	if (len == 0 || n != 14 + len || !g_str_has_prefix((const char *)buf + 14, "circuit://"))
		return NULL;
	for (gsize i = 0; i < len; i++)
		if (buf[14 + i] <= ' ' || buf[14 + i] >= 127)
			return NULL;
	return g_strndup((const char *)buf + 14, len);
}

char *
circuit_discover(const char *group, const char *key_file, int timeout_ms, GError **error)
{
	return circuit_discover_checked(group, key_file, timeout_ms, NULL, error);
}

char *
circuit_discover_checked(const char *group, const char *key_file, int timeout_ms,
                         gboolean *authenticated, GError **error)
{
	g_return_val_if_fail(group != NULL, NULL);
	if (authenticated)
		*authenticated = FALSE;
	struct sockaddr_in to;
	if (!discover_group_parse(group, &to)) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_ADDRESS,
		            "-discover %s: want an IPv4 multicast group and a port, as in "
		            "228.8.8.8:7711",
		            group);
		return NULL;
	}
	if (timeout_ms <= 0)
		timeout_ms = DISCOVER_DEFAULT_MS;
	DiscoverKeys keys = {0};
	if (!discover_keys_load(&keys, key_file && *key_file ? key_file : NULL, error))
		return NULL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		int e = errno;
		discover_keys_clear(&keys);
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_CONNECT,
		            "-discover %s: socket: %s", group, g_strerror(e));
		return NULL;
	}
	int ttl = 1, one = 1;
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof one);

	/* The query is padded: a server answers only a query at least as long
	 * as its answer, so it is never an amplifier. */
	guint8 query[DISCOVER_QUERY_LEN] = {'C', 'Q', DISCOVER_VERSION, 0};
	gcry_create_nonce(query + 4, 8);
	g_autoptr(GByteArray) sealed = g_byte_array_new();

	gint64 start = g_get_monotonic_time();
	gint64 deadline = start + (gint64)timeout_ms * 1000;
	gint64 next_send = start, interval = 250 * 1000;
	int send_errno = 0;
	gboolean sent = FALSE;
	char *url = NULL;
	guint8 buf[2048];
	while (!url) {
		gint64 now = g_get_monotonic_time();
		if (now >= deadline)
			break;
		if (now >= next_send) {
			const guint8 *out = query;
			gsize len = sizeof query;
			if (keys.n_keys > 0) {
				g_byte_array_set_size(sealed, 0);
				/* Receiver 0: for every server on the group. */
				if (seal_datagram(keys.keys[0], &keys.sender, 0,
				                  g_get_real_time() / G_USEC_PER_SEC, query,
				                  sizeof query, sealed, NULL)) {
					out = sealed->data;
					len = sealed->len;
				}
			}
			if (discover_send_all(fd, out, len, &to, &send_errno))
				sent = TRUE;
			next_send = now + interval;
			interval *= 2;
		}
		gint64 wake = MIN(deadline, next_send);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rc = poll(&p, 1, (int)MAX((wake - now + 999) / 1000, 1));
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0)
			continue;
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n < 0)
				break;
			url = discover_answer(&keys, buf, (gsize)n, query + 4);
			if (url)
				break;
		}
	}
	close(fd);
	gboolean keyed = keys.n_keys > 0;
	discover_keys_clear(&keys);
	if (url) {
		/* Keyed: discover_answer() took only an answer sealed with one of
		 * our keys. Unkeyed: anyone on the group could have sent it. */
		if (authenticated)
			*authenticated = keyed;
		return url;
	}
	g_autofree char *secs = g_strdup_printf("%g", timeout_ms / 1000.0);
	if (!sent && send_errno)
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_TIMEOUT,
		            "no circuit server answered on %s within %s s (cannot send to the "
		            "group: %s)",
		            group, secs, g_strerror(send_errno));
	else
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_TIMEOUT,
		            "no circuit server answered on %s within %s s", group, secs);
	return NULL;
}
