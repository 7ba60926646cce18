// SPDX-License-Identifier: Apache-2.0
//
// client.c - libcircuit: a blocking client of the circuit protocol. One
// connection, any number of calls; frames for other calls are queued to
// them while one call waits. Calls for another server go through the
// dialed one; from a handle's second call for a server on, they go straight
// to that server when it can be reached (see "routes" below).
#include <circuit/client.h>
#include <circuit/error.h>

#include "wire/error.h"
#include "wire/json.h"
#include "wire/socket.h"
#include "security/channel.h"
#include "security/keyfile.h"
#include "security/security.h"
#include "wire/frame.h"
#include "wire/url.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENT_WINDOW      (1u << 20)
#define CLIENT_WINDOW_TEXT "1048576" /* CLIENT_WINDOW, for the request */
G_STATIC_ASSERT(CLIENT_WINDOW == 1048576);
#define CLIENT_DEFAULT_TIMEOUT_MS 5000
/* Where a client with no -d, $CIRCUIT, ~/.circuit or local socket dials. */
#define CLIENT_DEFAULT_ADDRESS "127.0.0.1:11022"

typedef struct ClientRoute ClientRoute;

struct CircuitClient {
	int fd;
	char *id;
	char *url;
	char *address;
	GByteArray *in;
	guint32 next_id;
	GHashTable *calls; /* id -> CircuitCall (not owned) */
	GError *dead;      /* set once the connection failed */
	Channel *channel;  /* keyed connections, after the handshake */
	GByteArray *raw;   /* ciphertext not yet opened */
	GByteArray *sealed;
	/* Routing: only on the handle the application holds (a route's own
	 * connection is a CircuitClient without routes). */
	gboolean direct;     /* calls may go straight to the server they are for */
	guint8 *psk;         /* the key, for routes (NULL: unkeyed) */
	GHashTable *routes;  /* server ID -> ClientRoute */
	GPtrArray *retired;  /* route connections that failed, freed with the handle */
	int call_timeout_ms; /* every call's deadline from its start (0: none) */
};

/*
 * ClientRoute: how calls for one other server travel. The first goes
 * through the dialed server (a one-shot CLI call costs nothing more); the
 * second also asks that server for the other's URL and starts a
 * non-blocking connect to it; once that connect has completed, the
 * handshake runs and later calls use the direct connection. A server that
 * cannot be reached (refused, unroutable, NAT) is retried after
 * ROUTE_RETRY_US, and its calls keep going through the dialed server, so
 * nothing depends on the client reaching every server.
 */
struct ClientRoute {
	guint uses;
	CircuitClient *conn; /* the direct connection, once set up */
	int pending_fd;      /* a non-blocking connect in progress, or -1 */
	gint64 pending_since;
	char *url;          /* the server's URL, as it gave it */
	gint64 retry_after; /* monotonic µs: no new attempt before this */
	guint relayed_open; /* calls for the server open through the dialed one */
};

#define ROUTE_CONNECT_US (3 * G_USEC_PER_SEC)
#define ROUTE_RETRY_US   (300 * G_USEC_PER_SEC)

struct CircuitCall {
	CircuitClient *client;
	guint32 id;
	gboolean got_reply;
	gboolean reply_ok;
	JsonNode *result;
	gboolean failed_outcome;
	int error_code;
	char *error_message;
	GQueue data; /* GBytes received, not read */
	gsize data_off;
	gboolean remote_eof;
	gboolean remote_reset;
	guint64 send_credit;
	gboolean credit_seen;
	gsize consumed; /* read by the application, not yet credited */
	gboolean write_closed;
	ClientRoute *via_dialed; /* relayed for lack of a direct connection */
	gint64 deadline;         /* monotonic µs after which the call is cancelled; 0: none */
	int timeout_ms;          /* what the deadline was set from, for the message */
	gboolean expired;        /* the deadline passed: cancelled */
};

GQuark
circuit_client_error_quark(void)
{
	return g_quark_from_static_string("circuit-client-error");
}

int
circuit_exit_code(const GError *error)
{
	g_return_val_if_fail(error != NULL, CIRCUIT_EXIT_FAILED);
	if (error->domain == CIRCUIT_CLIENT_ERROR) {
		switch (error->code) {
		case CIRCUIT_CLIENT_ERROR_DEADLINE:
			return CIRCUIT_EXIT_TIMEOUT;
		case CIRCUIT_CLIENT_ERROR_PERMISSION:
			return CIRCUIT_EXIT_FAILED; /* not admitted: retrying will not help */
		case CIRCUIT_CLIENT_ERROR_ADDRESS:
		case CIRCUIT_CLIENT_ERROR_KEY:
			return CIRCUIT_EXIT_USAGE; /* configuration: an address or key to correct */
		default:
			return CIRCUIT_EXIT_UNREACHABLE;
		}
	}
	if (error->domain != CIRCUIT_ERROR)
		return CIRCUIT_EXIT_FAILED;
	switch (error->code) {
	case CIRCUIT_ERROR_DISCONNECTED: /* lost through a relay: as when dialed directly */
	case CIRCUIT_ERROR_UNAVAILABLE:  /* the owner, or what it needs, cannot serve now */
		return CIRCUIT_EXIT_UNREACHABLE;
	case CIRCUIT_ERROR_CLOSED:
		return CIRCUIT_EXIT_CLOSED;
	case CIRCUIT_ERROR_USAGE:
	case CIRCUIT_ERROR_INVALID: /* bad input: a spec, a signal name, an anchor name */
		return CIRCUIT_EXIT_USAGE;
	case CIRCUIT_ERROR_NOT_FOUND:
		/* A path naming no member is a wrong server; the wire code is the
		 * one of "no element at", so the message tells them apart. */
		return g_str_has_prefix(error->message, "no such server ")
		               ? CIRCUIT_EXIT_UNREACHABLE
		               : CIRCUIT_EXIT_FAILED;
	default:
		return CIRCUIT_EXIT_FAILED;
	}
}

/* ---- connection ---------------------------------------------------------- */

static void
client_set_dead(CircuitClient *c, GError *error)
{
	if (!c->dead)
		c->dead = error;
	else
		g_error_free(error);
}

static gboolean
client_check(CircuitClient *c, GError **error)
{
	if (c->dead) {
		g_set_error_literal(error, c->dead->domain, c->dead->code, c->dead->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
client_write_all(CircuitClient *c, const void *data, gsize len, GError **error)
{
	const guint8 *p = data;
	while (len > 0) {
		ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			client_set_dead(c, g_error_new(CIRCUIT_CLIENT_ERROR,
			                               CIRCUIT_CLIENT_ERROR_CONNECT,
			                               "connection to %s lost: %s", c->address,
			                               g_strerror(errno)));
			return client_check(c, error);
		}
		p += w;
		len -= (gsize)w;
	}
	return TRUE;
}

/* Writes @a then @b with one system call when it can (one TCP segment). */
static gboolean
client_write_two(CircuitClient *c, const guint8 *a, gsize alen, const guint8 *b, gsize blen,
                 GError **error)
{
	struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t w;
	do
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0) /* reported, with the connection marked dead, by the plain path */
		return client_write_all(c, a, alen, error) && client_write_all(c, b, blen, error);
	if ((gsize)w < alen)
		return client_write_all(c, a + w, alen - (gsize)w, error) &&
		       client_write_all(c, b, blen, error);
	return client_write_all(c, b + ((gsize)w - alen), blen - ((gsize)w - alen), error);
}

static gboolean
client_send_frame(CircuitClient *c, FrameType type, guint32 id, const void *payload, gsize len,
                  GError **error)
{
	if (!client_check(c, error))
		return FALSE;
	guint8 hdr[FRAME_HEADER_SIZE];
	frame_header_encode(hdr, type, id, (guint32)len);
	if (c->channel) {
		/* One transport message for the header and a small payload. */
		g_byte_array_set_size(c->sealed, 0);
		GError *local = NULL;
		gboolean ok;
		if (len <= 4096) {
			guint8 buf[FRAME_HEADER_SIZE + 4096];
			memcpy(buf, hdr, FRAME_HEADER_SIZE);
			if (len)
				memcpy(buf + FRAME_HEADER_SIZE, payload, len);
			ok = channel_seal(c->channel, buf, FRAME_HEADER_SIZE + len, c->sealed,
			                  &local);
		} else {
			ok = channel_seal(c->channel, hdr, FRAME_HEADER_SIZE, c->sealed, &local) &&
			     channel_seal(c->channel, payload, len, c->sealed, &local);
		}
		if (!ok) {
			client_set_dead(c, local);
			return client_check(c, error);
		}
		return client_write_all(c, c->sealed->data, c->sealed->len, error);
	}
	if (len <= 4096) {
		guint8 buf[FRAME_HEADER_SIZE + 4096];
		memcpy(buf, hdr, FRAME_HEADER_SIZE);
		if (len)
			memcpy(buf + FRAME_HEADER_SIZE, payload, len);
		return client_write_all(c, buf, FRAME_HEADER_SIZE + len, error);
	}
	return client_write_two(c, hdr, FRAME_HEADER_SIZE, payload, len, error);
}

static void
client_protocol_error(CircuitClient *c, const char *what)
{
	client_set_dead(c, g_error_new(CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_PROTOCOL,
	                               "server %s broke the protocol: %s", c->address, what));
}

static void
client_on_reply(CircuitCall *call, const guint8 *p, gsize len)
{
	if (len == sizeof WIRE_REPLY_OK - 1 && memcmp(p, WIRE_REPLY_OK, len) == 0) {
		call->got_reply = TRUE;
		call->reply_ok = TRUE;
		return;
	}
	JsonObject *o = wire_json_frame_object(p, len);
	if (!o) {
		client_protocol_error(call->client, "REPLY is not JSON");
		return;
	}
	call->got_reply = TRUE;
	call->reply_ok = json_object_get_boolean_member_with_default(o, "ok", FALSE);
	if (call->reply_ok) {
		JsonNode *r = json_object_get_member(o, "result");
		if (r && !JSON_NODE_HOLDS_NULL(r))
			call->result = json_node_copy(r);
		call->failed_outcome =
		        json_object_get_boolean_member_with_default(o, "failed", FALSE);
	} else {
		call->error_message = g_strdup(
		        json_object_get_string_member_with_default(o, "error", "operation failed"));
		call->error_code = wire_error_code_from_name(
		        json_object_get_string_member_with_default(o, "code", "failed"));
	}
	json_object_unref(o);
}

static void
client_on_frame(CircuitClient *c, const FrameHeader *h, const guint8 *p)
{
	CircuitCall *call = g_hash_table_lookup(c->calls, GUINT_TO_POINTER(h->stream));
	if (!call)
		return; /* a call we already let go of */
	switch (h->type) {
	case FRAME_REPLY:
		if (call->got_reply) {
			client_protocol_error(c, "second REPLY");
			return;
		}
		client_on_reply(call, p, h->len);
		break;
	case FRAME_DATA:
		if (h->len)
			g_queue_push_tail(&call->data, g_bytes_new(p, h->len));
		break;
	case FRAME_CREDIT:
		call->send_credit += frame_u32_decode(p);
		call->credit_seen = TRUE;
		break;
	case FRAME_EOF:
		call->remote_eof = TRUE;
		break;
	case FRAME_RESET: {
		call->remote_reset = TRUE;
		call->remote_eof = TRUE;
		JsonObject *o = h->len ? wire_json_frame_object(p, h->len) : NULL;
		g_free(call->error_message);
		call->error_message = g_strdup(
		        o ? json_object_get_string_member_with_default(o, "error", "stream reset")
		          : "stream reset by the server");
		call->error_code =
		        o ? wire_error_code_from_name(
		                    json_object_get_string_member_with_default(o, "code", "failed"))
		          : CIRCUIT_ERROR_FAILED;
		if (o)
			json_object_unref(o);
		break;
	}
	default:
		client_protocol_error(c, "unexpected frame");
	}
}

/* One recv (the caller polled): into the plaintext buffer, through the
 * channel on keyed connections. */
static gboolean
client_recv(CircuitClient *c, GError **error)
{
	GByteArray *dst = c->channel ? c->raw : c->in;
	guint old = dst->len;
	g_byte_array_set_size(dst, old + 256 * 1024);
	ssize_t r = recv(c->fd, dst->data + old, 256 * 1024, 0);
	int e = errno;
	g_byte_array_set_size(dst, old + (r > 0 ? (guint)r : 0));
	if (r < 0 && (e == EINTR || e == EAGAIN))
		return TRUE;
	if (r <= 0) {
		client_set_dead(c, g_error_new(CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_CONNECT,
		                               "connection to %s lost%s%s", c->address,
		                               r < 0 ? ": " : "", r < 0 ? g_strerror(e) : ""));
		return client_check(c, error);
	}
	if (c->channel) {
		GError *local = NULL;
		if (!channel_open(c->channel, c->raw, c->in, &local)) {
			client_set_dead(c, g_error_new(CIRCUIT_CLIENT_ERROR,
			                               CIRCUIT_CLIENT_ERROR_PROTOCOL,
			                               "connection to %s failed authentication: %s",
			                               c->address, local->message));
			g_error_free(local);
			return client_check(c, error);
		}
	}
	return TRUE;
}

/* Reads at least one frame (or fails). @timeout_ms < 0 waits forever. */
static gboolean
client_pump(CircuitClient *c, int timeout_ms, GError **error)
{
	if (!client_check(c, error))
		return FALSE;
	for (;;) {
		/* Dispatch whatever is complete in the buffer. */
		gsize off = 0;
		gboolean any = FALSE;
		for (;;) {
			FrameHeader h;
			int rc = frame_header_decode(c->in->data + off, c->in->len - off, FRAME_MAX,
			                             &h);
			if (rc < 0) {
				client_protocol_error(c, "malformed frame");
				return client_check(c, error);
			}
			if (rc == 0 || c->in->len - off < FRAME_HEADER_SIZE + h.len)
				break;
			client_on_frame(c, &h, c->in->data + off + FRAME_HEADER_SIZE);
			off += FRAME_HEADER_SIZE + h.len;
			any = TRUE;
		}
		if (off)
			g_byte_array_remove_range(c->in, 0, (guint)off);
		if (any)
			return client_check(c, error);
		if (timeout_ms < 0) {
			/* The socket blocks: wait in recv itself (no poll first). */
			if (!client_recv(c, error))
				return FALSE;
			continue;
		}
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_TIMEOUT,
			            "timed out after %d ms", timeout_ms);
			return FALSE;
		}
		if (!client_recv(c, error))
			return FALSE;
	}
}

/* Starts a non-blocking connect to @host:@port. Returns the socket (the
 * connect may still be in progress; *@err is set to 0) or -1 with *@err set
 * (*@gai_failed when the name did not resolve). */
static int
client_connect_start(const char *host, guint16 port, int *err, const char **gai_failed)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	*gai_failed = NULL;
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		*gai_failed = gai_strerror(rc);
		*err = EINVAL;
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	*err = 0;
	if (fd < 0)
		*err = errno;
	else if (connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS)
		*err = errno;
	freeaddrinfo(res);
	if (*err && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Waits up to @timeout_ms for a started connect: 1 connected, 0 still in
 * progress, -1 failed (*@err set). */
static int
client_connect_wait(int fd, int timeout_ms, int *err)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	int prc;
	while ((prc = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (prc == 0)
		return 0;
	socklen_t sl = sizeof *err;
	*err = 0;
	if (prc < 0)
		*err = errno;
	else
		getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &sl);
	return *err ? -1 : 1;
}

/* A connected socket, made blocking, without Nagle. */
static void
client_connect_done(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* A server (or relay) that vanished is noticed: $CIRCUIT_LIVENESS
	 * seconds (10; 0: the kernel's hours). */
	const char *env = g_getenv("CIRCUIT_LIVENESS");
	guint seconds = WIRE_LIVENESS_DEFAULT_SECONDS;
	if (env && *env)
		seconds = (guint)MIN(g_ascii_strtoull(env, NULL, 10), 3600);
	wire_socket_set_liveness(fd, seconds);
}

static int
client_connect(const char *host, guint16 port, int timeout_ms, GError **error)
{
	int err = 0;
	const char *gai = NULL;
	int fd = client_connect_start(host, port, &err, &gai);
	if (fd < 0 && gai) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_ADDRESS,
		            "cannot resolve %s: %s", host, gai);
		return -1;
	}
	if (fd >= 0) {
		int rc = client_connect_wait(fd, timeout_ms, &err);
		if (rc == 0)
			err = ETIMEDOUT;
		if (rc != 1) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_CONNECT,
		            "cannot reach a circuit server at %s:%u: %s", host, port,
		            g_strerror(err));
		return -1;
	}
	client_connect_done(fd);
	return fd;
}

/* A unix socket address: "unix:PATH" or an absolute PATH. */
static const char *
client_unix_path(const char *address)
{
	if (g_str_has_prefix(address, "unix:"))
		return address + 5;
	return address[0] == '/' ? address : NULL;
}

static int
client_connect_unix(const char *path, GError **error)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!*path || strlen(path) >= sizeof sa.sun_path) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_ADDRESS,
		            "\"%s\" is not a unix socket's path", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, CIRCUIT_CLIENT_ERROR,
		            e == EACCES ? CIRCUIT_CLIENT_ERROR_PERMISSION
		                        : CIRCUIT_CLIENT_ERROR_CONNECT,
		            "cannot reach a circuit server at %s: %s%s", path, g_strerror(e),
		            e == EACCES ? " (its group may use it: circuitd --local-group)" : "");
		return -1;
	}
	return fd;
}

/* Reads the server's HELLO (or its refusal). */
static gboolean
client_hello(CircuitClient *c, int timeout_ms, GError **error)
{
	for (;;) {
		if (c->in->len >= 4 && memcmp(c->in->data, "CIRC", 4) == 0) {
			if (c->in->len < FRAME_PREAMBLE_SIZE) {
				if (!client_pump(c, timeout_ms, error))
					return FALSE;
				continue;
			}
			guint8 code = 0;
			frame_preamble_decode(c->in->data, &code);
			const char *what =
			        code == FRAME_REFUSE_NEEDS_KEY   ? "server requires a key"
			        : code == FRAME_REFUSE_NOT_KEYED ? "server is not keyed"
			        : code == FRAME_REFUSE_WRONG_KEY ? "wrong key"
			        : code == FRAME_REFUSE_BUSY
			                ? "server is busy (too many connections; try again)"
			        : code == FRAME_REFUSE_PERMISSION ? "permission denied"
			                                          : "server refused us";
			/* The reason follows the refusal; the server closes after it. */
			for (int i = 0; i < 10 && c->in->len < FRAME_PREAMBLE_SIZE + 512; i++) {
				guint8 more[512];
				struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
				if (poll(&pfd, 1, 100) <= 0)
					break;
				ssize_t r = recv(c->fd, more, sizeof more, 0);
				if (r <= 0)
					break;
				g_byte_array_append(c->in, more, (guint)r);
			}
			g_autofree char *reason =
			        g_utf8_make_valid((const char *)c->in->data + FRAME_PREAMBLE_SIZE,
			                          (gssize)(c->in->len - FRAME_PREAMBLE_SIZE));
			g_strdelimit(reason, "\r\n", ' ');
			g_set_error(error, CIRCUIT_CLIENT_ERROR,
			            code == FRAME_REFUSE_PERMISSION
			                    ? CIRCUIT_CLIENT_ERROR_PERMISSION
			            : code == FRAME_REFUSE_BUSY
			                    ? CIRCUIT_CLIENT_ERROR_CONNECT /* retryable */
			                    : CIRCUIT_CLIENT_ERROR_KEY,
			            "%s: %s", c->address,
			            code == FRAME_REFUSE_PERMISSION && *reason ? reason : what);
			return FALSE;
		}
		FrameHeader h;
		int rc = frame_header_decode(c->in->data, c->in->len, FRAME_MAX_PREHELLO, &h);
		if (rc < 0 || (rc == 1 && h.type != FRAME_HELLO)) {
			g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_PROTOCOL,
			            "%s is not a circuit server", c->address);
			return FALSE;
		}
		if (rc == 1 && c->in->len >= FRAME_HEADER_SIZE + h.len) {
			JsonObject *o =
			        wire_json_frame_object(c->in->data + FRAME_HEADER_SIZE, h.len);
			g_byte_array_remove_range(c->in, 0, FRAME_HEADER_SIZE + h.len);
			if (!o) {
				g_set_error(error, CIRCUIT_CLIENT_ERROR,
				            CIRCUIT_CLIENT_ERROR_PROTOCOL, "%s: bad HELLO",
				            c->address);
				return FALSE;
			}
			c->id = g_strdup(json_object_get_string_member_with_default(o, "id", ""));
			c->url = g_strdup(json_object_get_string_member_with_default(o, "url", ""));
			json_object_unref(o);
			return TRUE;
		}
		/* Read more without dispatching (no calls exist yet). */
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int prc = poll(&pfd, 1, timeout_ms);
		if (prc == 0) {
			g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_TIMEOUT,
			            "%s did not answer in %d ms", c->address, timeout_ms);
			return FALSE;
		}
		if (prc < 0 && errno == EINTR)
			continue;
		if (!client_recv(c, NULL)) {
			g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_CONNECT,
			            "%s closed the connection during the handshake", c->address);
			return FALSE;
		}
	}
}

/*
 * A server under load answers message 1 with a cookie sealed under our key
 * (docs/security.md): opened, it goes back in a MAC on a fresh message 1.
 * 1: done, *hs is the new handshake; 0: not a (complete) cookie; -1: failed.
 */
static int
client_cookie(CircuitClient *c, const guint8 *psk, const guint8 *pre, GByteArray *msg1,
              NoiseHandshake **hs, gboolean *used, GError **error)
{
	guint8 code = 0;
	if (c->raw->len < FRAME_PREAMBLE_SIZE + CHANNEL_COOKIE_REPLY_LEN ||
	    frame_preamble_decode(c->raw->data, &code) != 2 || code != FRAME_REFUSE_COOKIE)
		return 0;
	guint8 cookie[GUARD_COOKIE_LEN];
	GError *local = NULL;
	if (*used || !channel_cookie_open(psk, msg1->data, c->raw->data + FRAME_PREAMBLE_SIZE,
	                                  cookie, &local)) {
		noise_handshake_free(*hs);
		*hs = NULL;
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY,
		            "%s: a handshake cookie that %s", c->address,
		            *used ? "came twice" : "does not open with our key");
		g_clear_error(&local);
		return -1;
	}
	*used = TRUE;
	g_byte_array_remove_range(c->raw, 0, FRAME_PREAMBLE_SIZE + CHANNEL_COOKIE_REPLY_LEN);
	noise_handshake_free(*hs);
	g_byte_array_set_size(msg1, 0);
	*hs = channel_initiate_cookie(psk, pre, FRAME_PREAMBLE_SIZE, cookie, msg1, error);
	if (!*hs)
		return -1;
	if (!client_write_all(c, msg1->data, msg1->len, error)) {
		noise_handshake_free(*hs);
		*hs = NULL;
		return -1;
	}
	return 1;
}

/* Keyed dial: Noise message 1, then message 2 or the server's refusal. */
static gboolean
client_handshake(CircuitClient *c, const guint8 *psk, const guint8 *pre, int timeout_ms,
                 GError **error)
{
	g_autoptr(GByteArray) msg1 = g_byte_array_new();
	NoiseHandshake *hs = channel_initiate(psk, pre, FRAME_PREAMBLE_SIZE, msg1, error);
	if (!hs)
		return FALSE;
	if (!client_write_all(c, msg1->data, msg1->len, error)) {
		noise_handshake_free(hs);
		return FALSE;
	}
	gboolean cookie_used = FALSE;
	for (;;) {
		/* A refusal begins with "CIRC": no message 2 is that long. */
		if (c->raw->len >= 4 && memcmp(c->raw->data, "CIRC", 4) == 0) {
			int cookie = client_cookie(c, psk, pre, msg1, &hs, &cookie_used, error);
			if (cookie < 0)
				return FALSE;
			if (cookie > 0)
				continue;
			guint8 code = 0;
			if (c->raw->len >= FRAME_PREAMBLE_SIZE &&
			    !(frame_preamble_decode(c->raw->data, &code) == 2 &&
			      code == FRAME_REFUSE_COOKIE)) {
				noise_handshake_free(hs);
				g_byte_array_append(c->in, c->raw->data, c->raw->len);
				g_byte_array_set_size(c->raw, 0);
				return client_hello(c, timeout_ms, error);
			}
		} else if (c->raw->len >= 2) {
			Channel *ch = NULL;
			GError *local = NULL;
			int rc = channel_initiate_finish(hs, c->raw, &ch, &local);
			if (rc < 0) {
				g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY,
				            "%s: handshake failed: %s", c->address, local->message);
				g_error_free(local);
				return FALSE;
			}
			if (rc == 1) {
				c->channel = ch;
				if (c->raw->len && !channel_open(ch, c->raw, c->in, error))
					return FALSE;
				return TRUE;
			}
		}
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int prc = poll(&pfd, 1, timeout_ms);
		if (prc < 0 && errno == EINTR)
			continue;
		guint8 buf[4096];
		ssize_t r = prc > 0 ? recv(c->fd, buf, sizeof buf, 0) : -1;
		if (r <= 0) {
			noise_handshake_free(hs);
			g_set_error(error, CIRCUIT_CLIENT_ERROR,
			            prc == 0 ? CIRCUIT_CLIENT_ERROR_TIMEOUT
			                     : CIRCUIT_CLIENT_ERROR_KEY,
			            "%s: %s during the key handshake", c->address,
			            prc == 0 ? "no answer" : "the connection closed");
			return FALSE;
		}
		g_byte_array_append(c->raw, buf, (guint)r);
	}
}

static CircuitClient *client_setup(int fd, const Url *url, const guint8 *psk, int timeout_ms,
                                   GError **error);
static void client_route_free(gpointer data);
static void client_dial_finish(CircuitClient *c, const guint8 *psk);

static CircuitClient *
client_dial(const char *address, const guint8 *psk, int timeout_ms, GError **error)
{
	Url url = {0};
	if (timeout_ms <= 0)
		timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
	GError *local = NULL;
	const char *unix_path = client_unix_path(address);
	if (unix_path) {
		int fd = client_connect_unix(unix_path, error);
		if (fd < 0)
			return NULL;
		url.host = g_strdup(unix_path);
		CircuitClient *c = client_setup(fd, &url, psk, timeout_ms, error);
		url_clear(&url);
		if (c)
			client_dial_finish(c, psk);
		return c;
	}
	if (!url_parse(address, TRUE, &url, &local)) {
		g_set_error_literal(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_ADDRESS,
		                    local->message);
		g_error_free(local);
		return NULL;
	}
	int fd = client_connect(url.host, url.port, timeout_ms, error);
	if (fd < 0) {
		url_clear(&url);
		return NULL;
	}
	CircuitClient *c = client_setup(fd, &url, psk, timeout_ms, error);
	url_clear(&url);
	if (!c)
		return NULL;
	client_dial_finish(c, psk);
	return c;
}

static void
client_dial_finish(CircuitClient *c, const guint8 *psk)
{
	/* Routing is on unless $CIRCUIT_DIRECT is "0" (docs/routing.md). */
	c->direct = g_strcmp0(g_getenv("CIRCUIT_DIRECT"), "0") != 0;
	if (psk)
		c->psk = g_memdup2(psk, KEYFILE_KEY_LEN);
	c->routes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, client_route_free);
	c->retired = g_ptr_array_new_with_free_func((GDestroyNotify)circuit_client_free);
}

/* The HELLO (after the key handshake when keyed) on connected @fd; the
 * server's ID is checked against @url's. Owns @fd. */
/*
 * A server that refuses a connection (busy, wrong key...) writes its
 * refusal and closes; a client still writing its HELLO then sees the write
 * fail. The refusal is read anyway, so the user learns the reason.
 */
static gboolean
client_read_refusal(CircuitClient *c, GError **error)
{
	guint8 buf[FRAME_PREAMBLE_SIZE + 256];
	gsize got = 0;
	for (int tries = 0; tries < 10 && got < sizeof buf; tries++) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			break;
		ssize_t r = recv(c->fd, buf + got, sizeof buf - got, 0);
		if (r <= 0)
			break;
		got += (gsize)r;
	}
	guint8 code = 0;
	if (got < FRAME_PREAMBLE_SIZE || frame_preamble_decode(buf, &code) != 2)
		return FALSE;
	g_autofree char *reason = g_utf8_make_valid((const char *)buf + FRAME_PREAMBLE_SIZE,
	                                            (gssize)(got - FRAME_PREAMBLE_SIZE));
	g_strdelimit(reason, "\r\n", ' ');
	g_set_error(error, CIRCUIT_CLIENT_ERROR,
	            code == FRAME_REFUSE_BUSY         ? CIRCUIT_CLIENT_ERROR_CONNECT
	            : code == FRAME_REFUSE_PERMISSION ? CIRCUIT_CLIENT_ERROR_PERMISSION
	                                              : CIRCUIT_CLIENT_ERROR_KEY,
	            "%s refused the connection: %s", c->address,
	            *reason ? reason : "no reason given");
	return TRUE;
}

static CircuitClient *
client_setup(int fd, const Url *url, const guint8 *psk, int timeout_ms, GError **error)
{
	CircuitClient *c = g_new0(CircuitClient, 1);
	c->fd = fd;
	c->in = g_byte_array_new();
	c->raw = g_byte_array_new();
	c->sealed = g_byte_array_new();
	c->next_id = 1;
	c->calls = g_hash_table_new(NULL, NULL);
	c->address =
	        url->port ? g_strdup_printf("%s:%u", url->host, url->port) : g_strdup(url->host);
	guint8 pre[FRAME_PREAMBLE_SIZE];
	frame_preamble_encode(pre, psk ? FRAME_MODE_NOISE : FRAME_MODE_PLAIN);
	static const char hello[] = "{\"version\":1,\"role\":\"client\"}";
	GError *local = NULL;
	if (!client_write_all(c, pre, sizeof pre, &local) ||
	    (psk && !client_handshake(c, psk, pre, timeout_ms, &local)) ||
	    !client_send_frame(c, FRAME_HELLO, 0, hello, sizeof hello - 1, &local) ||
	    !client_hello(c, timeout_ms, &local)) {
		if (c->dead && c->in->len == 0 && client_read_refusal(c, error))
			g_error_free(local);
		else
			g_propagate_error(error, local);
		circuit_client_free(c);
		return NULL;
	}
	if (url->id && g_strcmp0(url->id, c->id) != 0) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_WRONG_SERVER,
		            "server restarted or wrong URL: %s is now %s, not %s", c->address,
		            c->id, url->id);
		circuit_client_free(c);
		return NULL;
	}
	return c;
}

CircuitClient *
circuit_client_dial_key(const char *address, const char *key_file, int timeout_ms, GError **error)
{
	if (!key_file || !*key_file)
		return client_dial(address, NULL, timeout_ms, error);
	GError *local = NULL;
	if (!security_init(&local)) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY, "%s",
		            local->message);
		g_error_free(local);
		return NULL;
	}
	Keyfile *keys = keyfile_load(key_file, &local);
	if (!keys) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY, "%s",
		            local->message);
		g_error_free(local);
		return NULL;
	}
	CircuitClient *c = client_dial(address, keyfile_get_key(keys, 0), timeout_ms, error);
	keyfile_free(keys);
	return c;
}

CircuitClient *
circuit_client_dial(const char *address, int timeout_ms, GError **error)
{
	return client_dial(address, NULL, timeout_ms, error);
}

CircuitClient *
circuit_client_dial_default(const char *address, GError **error)
{
	return circuit_client_dial_default_key(address, NULL, error);
}

CircuitClient *
circuit_client_dial_default_key(const char *address, const char *key_file, GError **error)
{
	CircuitDialOptions o = {.address = address, .key_file = key_file};
	return circuit_client_open(&o, error);
}

/* Dials @address, read from @origin ("~/.circuit (/home/u/.circuit)"): its
 * errors, but for the key's (whose file the message names), say where the
 * address came from, for the mistake is there. */
static CircuitClient *
client_dial_from(const char *origin, const char *address, const char *key_file, int timeout_ms,
                 GError **error)
{
	GError *local = NULL;
	CircuitClient *c = circuit_client_dial_key(address, key_file, timeout_ms, &local);
	if (!c) {
		if (!g_error_matches(local, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY))
			g_prefix_error(&local, "%s: ", origin);
		g_propagate_error(error, local);
	}
	return c;
}

/* The address in the file named by $CIRCUIT or ~/.circuit (@origin says
 * which), dialed. */
static CircuitClient *
client_dial_file(const char *origin, const char *file, const char *key_file, int timeout_ms,
                 GError **error)
{
	g_autofree char *text = NULL;
	GError *local = NULL;
	if (!g_file_get_contents(file, &text, NULL, &local)) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_ADDRESS,
		            "%s: cannot read the server address from it: %s", origin,
		            local->message);
		g_error_free(local);
		return NULL;
	}
	if (!*g_strstrip(text)) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_ADDRESS,
		            "%s, which is empty (it should hold a server URL, as circuitd prints "
		            "it)",
		            origin);
		return NULL;
	}
	return client_dial_from(origin, text, key_file, timeout_ms, error);
}

CircuitClient *
circuit_client_open(const CircuitDialOptions *options, GError **error)
{
	static const CircuitDialOptions defaults = {0};
	if (!options)
		options = &defaults;
	const char *address = options->address;
	const char *key_file = options->key_file;
	int timeout_ms = options->timeout_ms;
	if (!key_file || !*key_file)
		key_file = g_getenv("CIRCUIT_HMAC");
	if (address && *address)
		return circuit_client_dial_key(address, key_file, timeout_ms, error);
	const char *env = g_getenv("CIRCUIT");
	if (env && *env) {
		g_autofree char *file = env[0] == '~'
		                                ? g_build_filename(g_get_home_dir(), env + 1, NULL)
		                                : g_strdup(env);
		g_autofree char *origin = g_strdup_printf("$CIRCUIT names %s", file);
		return client_dial_file(origin, file, key_file, timeout_ms, error);
	}
	g_autofree char *home = g_build_filename(g_get_home_dir(), ".circuit", NULL);
	if (g_file_test(home, G_FILE_TEST_EXISTS)) {
		g_autofree char *origin = g_strdup_printf("~/.circuit (%s)", home);
		return client_dial_file(origin, home, key_file, timeout_ms, error);
	}
	/* The local server's unix socket first: it knows who we are and needs
	 * no key ($CIRCUIT_SOCKET, or the packaged path). */
	const char *sock = g_getenv("CIRCUIT_SOCKET");
	gboolean sock_env = sock && *sock;
	if (!sock_env)
		sock = CIRCUIT_DEFAULT_SOCKET;
	/* A socket we may not even look at (its directory is 0750, group
	 * circuit) is still the local server: dialing it says "Permission
	 * denied" with its path, where falling back to TCP would say nothing
	 * true. */
	struct stat st;
	if (stat(sock, &st) == 0 || errno == EACCES) {
		g_autofree char *origin =
		        g_strdup_printf(sock_env ? "the local socket $CIRCUIT_SOCKET (%s)"
		                                 : "the local socket %s (the default: no -d, "
		                                   "$CIRCUIT or ~/.circuit)",
		                        sock);
		return client_dial_from(origin, sock, key_file, timeout_ms, error);
	}
	GError *local = NULL;
	CircuitClient *c =
	        circuit_client_dial_key(CLIENT_DEFAULT_ADDRESS, key_file, timeout_ms, &local);
	if (c)
		return c;
	/* Nothing answers where no configuration sent us: say how to get a
	 * server, not only that there is none. */
	if (g_error_matches(local, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_CONNECT)) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_CONNECT,
		            "no circuit server at " CLIENT_DEFAULT_ADDRESS
		            " (the default: no -d, $CIRCUIT, ~/.circuit or socket %s): start one "
		            "with circuitd, or name one with -d URL",
		            sock);
		g_error_free(local);
		return NULL;
	}
	g_propagate_error(error, local);
	return NULL;
}

void
circuit_client_free(CircuitClient *client)
{
	if (!client)
		return;
	if (client->routes)
		g_hash_table_unref(client->routes);
	if (client->retired)
		g_ptr_array_unref(client->retired);
	if (client->psk) {
		memset(client->psk, 0, KEYFILE_KEY_LEN);
		g_free(client->psk);
	}
	if (client->fd >= 0)
		close(client->fd);
	g_byte_array_unref(client->in);
	g_byte_array_unref(client->raw);
	g_byte_array_unref(client->sealed);
	channel_free(client->channel);
	g_hash_table_unref(client->calls);
	g_clear_error(&client->dead);
	g_free(client->id);
	g_free(client->url);
	g_free(client->address);
	g_free(client);
}

const char *
circuit_client_server_id(CircuitClient *client)
{
	return client->id;
}

const char *
circuit_client_server_url(CircuitClient *client)
{
	return client->url;
}

void
circuit_client_set_direct(CircuitClient *client, gboolean direct)
{
	client->direct = direct;
}

/* ---- calls --------------------------------------------------------------- */

/* A body up to this size travels inside the request (one round trip, not two). */
#define CLIENT_INLINE_MAX (48u * 1024u)

/*
 * Opens a call. @body (nullable) travels in the OPEN frame after the
 * request and a NUL byte: it is all of the call's input, so the call's
 * side is closed.
 */
static CircuitCall *
client_call_open_on(CircuitClient *client, const char *verb, const char *path,
                    const char *const *args, const void *body, gsize body_len, GError **error)
{
	if (!client_check(client, error))
		return NULL;
	/* Written by hand: this is every call's hot path. */
	GString *req = g_string_sized_new(128 + (body ? body_len : 0));
	g_string_append(req, "{\"op\":");
	if (g_str_has_prefix(verb, "mk") && verb[2]) {
		/* The original spelled the docker kind "dkr" in its verbs. */
		const char *kind = strcmp(verb + 2, "dkr") == 0 ? "docker" : verb + 2;
		g_string_append(req, "\"mk\",\"kind\":");
		wire_json_append_string(req, kind);
	} else {
		wire_json_append_string(req, verb);
	}
	g_string_append(req, ",\"path\":");
	wire_json_append_string(req, path);
	g_string_append(req, ",\"args\":[");
	for (guint i = 0; args && args[i]; i++) {
		if (i)
			g_string_append_c(req, ',');
		wire_json_append_string(req, args[i]);
	}
	g_string_append(req, "],\"window\":" CLIENT_WINDOW_TEXT "}");
	gsize len = req->len;
	g_autofree char *text = g_string_free(req, FALSE);
	if (body) {
		/* JSON never holds a raw NUL: it ends the request, the input follows. */
		text = g_realloc(text, len + 1 + body_len);
		text[len] = 0;
		memcpy(text + len + 1, body, body_len);
		len += 1 + body_len;
	}
	if (len > FRAME_MAX) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_TOO_BIG,
		            "request of %zu bytes is over the %u-byte frame cap", len, FRAME_MAX);
		return NULL;
	}
	CircuitCall *call = g_new0(CircuitCall, 1);
	call->client = client;
	call->write_closed = body != NULL;
	call->id = client->next_id;
	client->next_id += 2;
	g_queue_init(&call->data);
	g_hash_table_insert(client->calls, GUINT_TO_POINTER(call->id), call);
	if (!client_send_frame(client, FRAME_OPEN, call->id, text, len, error)) {
		circuit_call_free(call);
		return NULL;
	}
	return call;
}

/* ---- routes -------------------------------------------------------------- */

static void
client_route_free(gpointer data)
{
	ClientRoute *r = data;
	if (r->pending_fd >= 0)
		close(r->pending_fd);
	circuit_client_free(r->conn);
	g_free(r->url);
	g_free(r);
}

/* The server a path is on: its ID "X<16 hex>" into @id, or FALSE. */
static gboolean
client_path_server(const char *path, char id[18])
{
	if (path[0] != '/' || path[1] != 'X')
		return FALSE;
	for (int i = 2; i < 18; i++)
		if (!g_ascii_isxdigit(path[i]))
			return FALSE;
	if (path[18] != '\0' && path[18] != '/')
		return FALSE;
	memcpy(id, path + 1, 17);
	id[17] = '\0';
	return TRUE;
}

/* Where server @id listens: its own URL, from its server anchor's peek
 * (relayed by the dialed server, bounded in time). NULL if it did not say. */
static char *
client_route_learn(CircuitClient *c, const char *id, int timeout_ms)
{
	g_autofree char *path = g_strconcat("/", id, NULL);
	CircuitCall *call = client_call_open_on(c, "peek", path, NULL, NULL, 0, NULL);
	if (!call)
		return NULL;
	g_autoptr(JsonNode) result = NULL;
	char *url = NULL;
	if (circuit_call_reply(call, &result, NULL, timeout_ms, NULL) && result &&
	    JSON_NODE_HOLDS_OBJECT(result))
		url = g_strdup(json_object_get_string_member_with_default(
		        json_node_get_object(result), "URL", NULL));
	while (url && !call->remote_eof && !c->dead)
		if (!client_pump(c, timeout_ms, NULL))
			break;
	circuit_call_free(call);
	return url;
}

/* A connect to the route's server has completed: the handshake, bounded. */
static void
client_route_finish(CircuitClient *c, ClientRoute *r, int timeout_ms, gint64 now)
{
	int fd = r->pending_fd;
	r->pending_fd = -1;
	client_connect_done(fd);
	Url url;
	if (url_parse(r->url, TRUE, &url, NULL)) {
		/* The URL carries @id: a server that is not it is refused. */
		r->conn = client_setup(fd, &url, c->psk, timeout_ms, NULL);
		url_clear(&url);
	} else {
		close(fd);
	}
	if (!r->conn)
		r->retry_after = now + ROUTE_RETRY_US;
}

/*
 * The connection a call on @path goes over (see ClientRoute). When it goes
 * through the dialed server for lack of a direct connection, *@via_dialed
 * is the route (its open calls are counted: see client_call_open).
 * @timeout_ms (< 0: none) also bounds the lookup and the handshake.
 */
static CircuitClient *
client_route(CircuitClient *c, const char *path, int timeout_ms, ClientRoute **via_dialed)
{
	char id[18];
	*via_dialed = NULL;
	if (!c->direct || !c->routes || !client_path_server(path, id) || g_strcmp0(id, c->id) == 0)
		return c;
	ClientRoute *r = g_hash_table_lookup(c->routes, id);
	if (!r) {
		r = g_new0(ClientRoute, 1);
		r->pending_fd = -1;
		g_hash_table_insert(c->routes, g_strdup(id), r);
	}
	if (r->conn && r->conn->dead) {
		/* Lost (its calls said why): through the dialed server again,
		 * which knows whether the server is still there; a new attempt
		 * on the call after. */
		g_ptr_array_add(c->retired, r->conn);
		r->conn = NULL;
		r->uses = 0;
	}
	if (!r->conn) {
		r->uses++;
		gint64 now = g_get_monotonic_time();
		int bound = timeout_ms >= 0 ? MAX(timeout_ms, 1) : G_MAXINT;
		if (r->pending_fd < 0 && r->uses >= 2 && now >= r->retry_after) {
			g_free(r->url);
			r->url = client_route_learn(c, id, MIN(bound, 2000));
			Url url = {0};
			int err = 0;
			const char *gai = NULL;
			if (r->url && url_parse(r->url, TRUE, &url, NULL) &&
			    g_strcmp0(url.id, id) == 0) {
				r->pending_fd =
				        client_connect_start(url.host, url.port, &err, &gai);
				r->pending_since = now;
			}
			url_clear(&url);
			if (r->pending_fd < 0)
				r->retry_after = now + ROUTE_RETRY_US;
		}
		if (r->pending_fd >= 0) {
			int err = 0;
			int rc = client_connect_wait(r->pending_fd, 0, &err);
			if (rc == 1) {
				client_route_finish(c, r, MIN(bound, 1000), now);
			} else if (rc < 0 || now - r->pending_since > ROUTE_CONNECT_US) {
				close(r->pending_fd);
				r->pending_fd = -1;
				r->retry_after = now + ROUTE_RETRY_US;
			}
		}
	}
	/* Calls for this server still open through the dialed server keep
	 * their order (pipelined calls on one handle are executed in the order
	 * they were opened): new ones follow them there until they end. */
	if (r->conn && r->relayed_open == 0)
		return r->conn;
	*via_dialed = r;
	return c;
}

static CircuitCall *
client_call_open(CircuitClient *client, const char *verb, const char *path, const char *const *args,
                 const void *body, gsize body_len, int timeout_ms, GError **error)
{
	g_return_val_if_fail(client && verb && path, NULL);
	ClientRoute *via_dialed = NULL;
	CircuitClient *conn = client_route(client, path, timeout_ms, &via_dialed);
	CircuitCall *call = client_call_open_on(conn, verb, path, args, body, body_len, error);
	if (call && client->call_timeout_ms > 0) {
		call->timeout_ms = client->call_timeout_ms;
		call->deadline = g_get_monotonic_time() + (gint64)call->timeout_ms * 1000;
	}
	if (call && via_dialed) {
		call->via_dialed = via_dialed;
		via_dialed->relayed_open++;
	}
	return call;
}

void
circuit_client_set_call_timeout(CircuitClient *client, int timeout_ms)
{
	g_return_if_fail(client != NULL);
	client->call_timeout_ms = MAX(timeout_ms, 0);
}

/* The call's deadline passed: it is cancelled on the server (a RESET, which
 * relays pass on to the owner: a blocked send is withdrawn, a receive
 * leaves nothing pending) and fails from now on. */
static gboolean
call_expire(CircuitCall *call, GError **error)
{
	CircuitClient *c = call->client;
	if (!c->dead && !call->remote_reset)
		client_send_frame(c, FRAME_RESET, call->id, NULL, 0, NULL);
	call->remote_reset = call->remote_eof = TRUE;
	call->expired = TRUE;
	call->consumed = 0;
	g_free(call->error_message);
	call->error_message = g_strdup_printf(
	        "no answer within the call's deadline of %d ms: cancelled on the server",
	        call->timeout_ms);
	g_set_error_literal(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_DEADLINE,
	                    call->error_message);
	return FALSE;
}

/* Waits for frames for @call, at most @timeout_ms (-1: no bound) and never
 * past the call's deadline. */
static gboolean
call_pump(CircuitCall *call, int timeout_ms, GError **error)
{
	if (call->expired)
		return call_expire(call, error);
	if (!call->deadline)
		return client_pump(call->client, timeout_ms, error);
	gint64 left = (call->deadline - g_get_monotonic_time() + 999) / 1000;
	if (left <= 0)
		return call_expire(call, error);
	int t = (int)MIN(left, (gint64)G_MAXINT);
	if (timeout_ms >= 0)
		t = MIN(t, timeout_ms);
	GError *local = NULL;
	if (client_pump(call->client, t, &local))
		return TRUE;
	if (g_error_matches(local, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_TIMEOUT) &&
	    g_get_monotonic_time() >= call->deadline) {
		g_error_free(local);
		return call_expire(call, error);
	}
	g_propagate_error(error, local);
	return FALSE;
}

CircuitCall *
circuit_call_open(CircuitClient *client, const char *verb, const char *path,
                  const char *const *args, GError **error)
{
	return client_call_open(client, verb, path, args, NULL, 0, -1, error);
}

static gboolean
call_reply_error(CircuitCall *call, GError **error)
{
	g_set_error_literal(error, CIRCUIT_ERROR, call->error_code,
	                    call->error_message ? call->error_message : "operation failed");
	return FALSE;
}

/* Milliseconds left until @deadline (monotonic µs; 0: none, -1 returned). */
static int
call_left_ms(gint64 deadline)
{
	if (!deadline)
		return -1;
	gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;
	return (int)CLAMP(left, 0, G_MAXINT);
}

static gint64
call_deadline_in(int timeout_ms)
{
	return timeout_ms >= 0 ? g_get_monotonic_time() + (gint64)timeout_ms * 1000 : 0;
}

gboolean
circuit_call_wants_body_timeout(CircuitCall *call, int timeout_ms, GError **error)
{
	gint64 deadline = call_deadline_in(timeout_ms);
	while (!call->credit_seen && !call->got_reply && !call->remote_eof)
		if (!call_pump(call, call_left_ms(deadline), error))
			return FALSE;
	return call->credit_seen;
}

gboolean
circuit_call_wants_body(CircuitCall *call, GError **error)
{
	return circuit_call_wants_body_timeout(call, -1, error);
}

gssize
circuit_call_write_some(CircuitCall *call, const void *data, gsize len, int timeout_ms,
                        GError **error)
{
	gint64 deadline = call_deadline_in(timeout_ms);
	const guint8 *p = data;
	gsize sent = 0;
	while (sent < len) {
		if (call->remote_eof || (call->got_reply && !call->reply_ok)) {
			if (call->got_reply && !call->reply_ok)
				call_reply_error(call, error);
			else
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
				            "the server stopped reading the input");
			return -1;
		}
		if (call->send_credit == 0) {
			GError *local = NULL;
			if (call_pump(call, call_left_ms(deadline), &local))
				continue;
			if (sent > 0 && g_error_matches(local, CIRCUIT_CLIENT_ERROR,
			                                CIRCUIT_CLIENT_ERROR_TIMEOUT)) {
				g_error_free(local);
				break; /* the time passed: what was sent is the answer */
			}
			g_propagate_error(error, local);
			return -1;
		}
		gsize n = MIN(len - sent, MIN(call->send_credit, FRAME_DATA_CHUNK));
		if (!client_send_frame(call->client, FRAME_DATA, call->id, p + sent, n, error))
			return -1;
		call->send_credit -= n;
		sent += n;
	}
	return (gssize)sent;
}

gboolean
circuit_call_write(CircuitCall *call, const void *data, gsize len, GError **error)
{
	return circuit_call_write_some(call, data, len, -1, error) >= 0;
}

gboolean
circuit_call_close_write(CircuitCall *call, GError **error)
{
	if (call->write_closed)
		return TRUE;
	call->write_closed = TRUE;
	if (call->remote_reset)
		return TRUE;
	return client_send_frame(call->client, FRAME_EOF, call->id, NULL, 0, error);
}

gboolean
circuit_call_reply(CircuitCall *call, JsonNode **result, gboolean *failed_outcome, int timeout_ms,
                   GError **error)
{
	while (!call->got_reply && !call->remote_reset) {
		if (call->remote_eof) {
			g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_PROTOCOL,
			            "the server ended the call without a reply");
			return FALSE;
		}
		if (!call_pump(call, timeout_ms, error))
			return FALSE;
	}
	if (!call->got_reply || !call->reply_ok)
		return call_reply_error(call, error);
	if (result)
		*result = call->result ? json_node_ref(call->result) : NULL;
	if (failed_outcome)
		*failed_outcome = call->failed_outcome;
	return TRUE;
}

/*
 * Whether the server can still read what we write: FALSE (the client dead,
 * @error set) once its side is closed. A write into such a connection
 * succeeds locally and is lost, so what depends on it (credit, an
 * acknowledgement) checks this first. The TCP state says it even while
 * data the server sent before it went is still unread here (a peek sees
 * that data, not the end behind it); a server never half-closes a live
 * connection, so anything but ESTABLISHED means gone.
 */
static gboolean
client_peer_open(CircuitClient *c, GError **error)
{
	if (!client_check(c, error))
		return FALSE;
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	gboolean closed = getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	                  tl >= sizeof ti.tcpi_state && ti.tcpi_state != TCP_ESTABLISHED;
	char b;
	ssize_t r = 1;
	if (!closed) {
		do
			r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		while (r < 0 && errno == EINTR);
	}
	if (closed || r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		client_set_dead(c, g_error_new(CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_CONNECT,
		                               "connection to %s lost%s%s", c->address,
		                               r < 0 ? ": " : "", r < 0 ? g_strerror(errno) : ""));
		return client_check(c, error);
	}
	return TRUE;
}

/* Returns credit for what the application consumed; doubles as the ack. */
static gboolean
call_flush_credit(CircuitCall *call, GError **error)
{
	if (call->consumed == 0 || call->remote_eof)
		return TRUE;
	guint8 buf[4];
	frame_u32_encode(buf, (guint32)call->consumed);
	call->consumed = 0;
	return client_send_frame(call->client, FRAME_CREDIT, call->id, buf, 4, error);
}

gssize
circuit_call_read(CircuitCall *call, void *buf, gsize len, int timeout_ms, GError **error)
{
	/* The credit for the last read must reach the server before more is
	 * handed over: data given to the application after the connection died
	 * would be given again to the next reader. */
	gboolean credited = call->consumed > 0 && !call->remote_eof;
	if (!call_flush_credit(call, error) || (credited && !client_peer_open(call->client, error)))
		return -1;
	while (g_queue_is_empty(&call->data)) {
		if (call->remote_reset) {
			call_reply_error(call, error);
			return -1;
		}
		if (call->remote_eof)
			return 0;
		if (!call_pump(call, timeout_ms, error))
			return -1;
	}
	gsize done = 0;
	while (done < len && !g_queue_is_empty(&call->data)) {
		GBytes *head = g_queue_peek_head(&call->data);
		gsize size = 0;
		const guint8 *p = g_bytes_get_data(head, &size);
		gsize n = MIN(len - done, size - call->data_off);
		memcpy((guint8 *)buf + done, p + call->data_off, n);
		done += n;
		call->data_off += n;
		if (call->data_off == size) {
			g_bytes_unref(g_queue_pop_head(&call->data));
			call->data_off = 0;
		}
	}
	call->consumed += done;
	return (gssize)done;
}

void
circuit_call_abort(CircuitCall *call)
{
	if (!call)
		return;
	/* What the last read returned was not used: no credit, no ack. */
	call->consumed = 0;
	if (!call->client->dead && !call->remote_reset)
		client_send_frame(call->client, FRAME_RESET, call->id, NULL, 0, NULL);
	call->remote_reset = TRUE;
	circuit_call_free(call);
}

void
circuit_call_free(CircuitCall *call)
{
	if (!call)
		return;
	CircuitClient *c = call->client;
	if (!c->dead && !call->remote_reset) {
		gboolean all_read = call->remote_eof && g_queue_is_empty(&call->data);
		if (all_read) {
			/* Our EOF says: everything arrived whole. */
			if (!call->write_closed)
				client_send_frame(c, FRAME_EOF, call->id, NULL, 0, NULL);
		} else {
			/* Credit first, so the server knows exactly what we consumed. */
			if (call->consumed) {
				guint8 buf[4];
				frame_u32_encode(buf, (guint32)call->consumed);
				client_send_frame(c, FRAME_CREDIT, call->id, buf, 4, NULL);
			}
			client_send_frame(c, FRAME_RESET, call->id, NULL, 0, NULL);
		}
	}
	g_hash_table_remove(c->calls, GUINT_TO_POINTER(call->id));
	if (call->via_dialed)
		call->via_dialed->relayed_open--;
	GBytes *b;
	while ((b = g_queue_pop_head(&call->data)))
		g_bytes_unref(b);
	if (call->result)
		json_node_unref(call->result);
	g_free(call->error_message);
	g_free(call);
}

gboolean
circuit_call_finish(CircuitCall *call, GError **error)
{
	g_return_val_if_fail(call != NULL, FALSE);
	CircuitClient *c = call->client;
	gboolean all_read = call->remote_eof && g_queue_is_empty(&call->data);
	gboolean ok = TRUE;
	if (all_read && !call->remote_reset && !call->write_closed) {
		ok = client_peer_open(c, error) &&
		     client_send_frame(c, FRAME_EOF, call->id, NULL, 0, error);
		call->write_closed = TRUE;
		if (!ok)
			g_prefix_error(error,
			               "the output arrived whole but could not be acknowledged: ");
	}
	circuit_call_free(call);
	return ok;
}

/* ---- conveniences -------------------------------------------------------- */

/* Runs a call without body or output and returns its result. */
static gboolean
client_simple(CircuitClient *c, const char *verb, const char *path, const char *const *args,
              JsonNode **result, GError **error)
{
	CircuitCall *call = circuit_call_open(c, verb, path, args, error);
	if (!call)
		return FALSE;
	gboolean ok = circuit_call_reply(call, result, NULL, -1, error);
	/* Drain to the server's EOF so that freeing acknowledges cleanly. */
	while (ok && !call->remote_eof)
		if (!call_pump(call, -1, NULL))
			break;
	circuit_call_free(call);
	return ok;
}

static void
client_entry_free(gpointer data)
{
	CircuitEntry *e = data;
	g_free(e->path);
	g_free(e->kind);
	g_free(e->error);
	g_free(e->addr);
	g_free(e->state);
	if (e->status)
		json_node_unref(e->status);
	g_free(e);
}

/* Adds the entry a listing's JSON object @e describes to @out. */
static void
client_entry_add(GPtrArray *out, JsonObject *e)
{
	CircuitEntry *entry = g_new0(CircuitEntry, 1);
	entry->path = g_strdup(json_object_get_string_member_with_default(e, "path", ""));
	JsonNode *k = json_object_get_member(e, "kind");
	entry->kind = k && JSON_NODE_HOLDS_VALUE(k) && json_node_get_value_type(k) == G_TYPE_STRING
	                      ? g_strdup(json_node_get_string(k))
	                      : NULL;
	entry->error = g_strdup(json_object_get_string_member_with_default(e, "error", NULL));
	entry->addr = g_strdup(json_object_get_string_member_with_default(e, "addr", NULL));
	entry->state = g_strdup(json_object_get_string_member_with_default(e, "state", NULL));
	JsonNode *st = json_object_get_member(e, "status");
	if (st && JSON_NODE_HOLDS_OBJECT(st))
		entry->status = json_node_copy(st);
	g_ptr_array_add(out, entry);
}

/* One line of a streamed listing: an entry, or FALSE if it is not one. */
static gboolean
client_ls_line(GPtrArray *out, const char *line, gsize len)
{
	if (len == 0)
		return TRUE;
	JsonObject *o = wire_json_read_object(line, len, NULL);
	if (!o)
		return FALSE;
	client_entry_add(out, o);
	json_object_unref(o);
	return TRUE;
}

static GPtrArray *
client_ls(CircuitClient *client, const char *path, gboolean recursive, gboolean status,
          GError **error)
{
	g_autofree char *full =
	        recursive && !g_str_has_suffix(path, "/...")
	                ? g_strconcat(g_str_has_suffix(path, "/") ? "" : path,
	                              g_str_has_suffix(path, "/") ? path : "",
	                              g_str_has_suffix(path, "/") ? "..." : "/...", NULL)
	                : g_strdup(path);
	static const char *const long_args[] = {"-l", NULL};
	CircuitCall *call = circuit_call_open(client, "ls", full, status ? long_args : NULL, error);
	if (!call)
		return NULL;
	g_autoptr(JsonNode) result = NULL;
	if (!circuit_call_reply(call, &result, NULL, -1, error)) {
		circuit_call_free(call);
		return NULL;
	}
	GPtrArray *out = g_ptr_array_new_with_free_func(client_entry_free);
	/* A server before streamed listings put them in the reply. */
	JsonObject *o =
	        result && JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
	JsonArray *a = o && json_object_has_member(o, "entries") &&
	                               JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "entries"))
	                       ? json_object_get_array_member(o, "entries")
	                       : NULL;
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonNode *n = json_array_get_element(a, i);
		if (JSON_NODE_HOLDS_OBJECT(n))
			client_entry_add(out, json_node_get_object(n));
	}
	/* The entries: one JSON object per line of output, until EOF. */
	GByteArray *pending = g_byte_array_new();
	gboolean ok = TRUE;
	guint8 buf[64 * 1024];
	for (;;) {
		gssize n = circuit_call_read(call, buf, sizeof buf, -1, error);
		if (n < 0) {
			ok = FALSE;
			break;
		}
		if (n == 0)
			break;
		gsize start = 0;
		for (gsize i = 0; i < (gsize)n && ok; i++) {
			if (buf[i] != '\n')
				continue;
			if (pending->len) {
				g_byte_array_append(pending, buf + start, (guint)(i - start));
				ok = client_ls_line(out, (const char *)pending->data, pending->len);
				g_byte_array_set_size(pending, 0);
			} else {
				ok = client_ls_line(out, (const char *)buf + start, i - start);
			}
			start = i + 1;
		}
		if (!ok)
			break;
		if (pending->len + ((gsize)n - start) > WIRE_JSON_MAX_SIZE) {
			ok = FALSE;
			break;
		}
		g_byte_array_append(pending, buf + start, (guint)((gsize)n - start));
	}
	if (ok && pending->len)
		ok = client_ls_line(out, (const char *)pending->data, pending->len);
	if (!ok && error && !*error)
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_PROTOCOL,
		            "ls %s: the server sent a listing line that is not an entry", full);
	g_byte_array_unref(pending);
	if (ok)
		ok = circuit_call_finish(call, error);
	else
		circuit_call_abort(call);
	if (!ok) {
		g_ptr_array_unref(out);
		return NULL;
	}
	return out;
}

GPtrArray *
circuit_ls(CircuitClient *client, const char *path, gboolean recursive, GError **error)
{
	return client_ls(client, path, recursive, FALSE, error);
}

GPtrArray *
circuit_ls_status(CircuitClient *client, const char *path, gboolean recursive, GError **error)
{
	return client_ls(client, path, recursive, TRUE, error);
}

JsonNode *
circuit_peek(CircuitClient *client, const char *path, GError **error)
{
	JsonNode *result = NULL;
	if (!client_simple(client, "peek", path, NULL, &result, error))
		return NULL;
	return result ? result : json_node_new(JSON_NODE_NULL);
}

gboolean
circuit_scrub(CircuitClient *client, const char *path, GError **error)
{
	return client_simple(client, "scrub", path, NULL, NULL, error);
}

/*
 * Opens a call whose whole input is @data (nullable: none; an operation
 * that asks for input then gets an empty one). Up to CLIENT_INLINE_MAX it
 * travels inside the request: one round trip, not two. A write that failed
 * because the server answered already is left for the reply to explain.
 */
static CircuitCall *
client_open_input(CircuitClient *client, const char *verb, const char *path,
                  const char *const *args, const void *data, gsize len, int timeout_ms,
                  GError **error)
{
	gboolean inline_body = data && len <= CLIENT_INLINE_MAX;
	CircuitCall *call = client_call_open(client, verb, path, args, inline_body ? data : NULL,
	                                     inline_body ? len : 0, timeout_ms, error);
	if (!call || inline_body)
		return call;
	GError *local = NULL;
	if (circuit_call_wants_body(call, &local) &&
	    circuit_call_write(call, data, data ? len : 0, &local))
		circuit_call_close_write(call, &local);
	if (local && !call->got_reply) {
		g_propagate_error(error, local);
		circuit_call_free(call);
		return NULL;
	}
	g_clear_error(&local);
	return call;
}

CircuitCall *
circuit_call_open_input(CircuitClient *client, const char *verb, const char *path,
                        const char *const *args, const void *data, gsize len, GError **error)
{
	return client_open_input(client, verb, path, args, data ? data : "", len, -1, error);
}

/* Waits for @call's reply, then for its end, and frees it. */
static gboolean
client_finish(CircuitCall *call, int timeout_ms, GError **error)
{
	gboolean ok = circuit_call_reply(call, NULL, NULL, timeout_ms, error);
	while (ok && !call->remote_eof)
		if (!call_pump(call, -1, NULL))
			break;
	circuit_call_free(call);
	return ok;
}

gboolean
circuit_make(CircuitClient *client, const char *kind, const char *path, const char *const *args,
             const void *body, gsize body_len, GError **error)
{
	g_autofree char *verb = g_strconcat("mk", kind, NULL);
	CircuitCall *call = client_open_input(client, verb, path, args, body, body_len, -1, error);
	return call && client_finish(call, -1, error);
}

/* What is left at most of @timeout_ms (< 0: no limit) since @start_us
 * (monotonic), at least 1 ms. */
static int
client_time_left(gint64 start_us, int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	gint64 left = timeout_ms - (g_get_monotonic_time() - start_us) / 1000;
	return (int)MAX(left, 1);
}

gboolean
circuit_chan_send(CircuitClient *client, const char *path, const void *data, gsize len,
                  int timeout_ms, GError **error)
{
	gint64 start = timeout_ms >= 0 ? g_get_monotonic_time() : 0;
	CircuitCall *call = client_open_input(client, "send", path, NULL, data ? data : "", len,
	                                      timeout_ms, error);
	return call && client_finish(call, client_time_left(start, timeout_ms), error);
}

GBytes *
circuit_chan_recv(CircuitClient *client, const char *path, int timeout_ms, GError **error)
{
	gint64 start = timeout_ms >= 0 ? g_get_monotonic_time() : 0;
	CircuitCall *call =
	        client_call_open(client, "recv", path, NULL, NULL, 0, timeout_ms, error);
	if (!call)
		return NULL;
	if (!circuit_call_reply(call, NULL, NULL, client_time_left(start, timeout_ms), error)) {
		circuit_call_free(call);
		return NULL;
	}
	if (call->remote_eof && !call->remote_reset && call->data.length == 1 &&
	    call->data_off == 0) {
		/* The usual case: the whole message came with the reply, in one
		 * piece. Taking it is reading it all: freeing acknowledges. */
		GBytes *whole = g_queue_pop_head(&call->data);
		if (!circuit_call_finish(call, error)) {
			g_bytes_unref(whole);
			return NULL;
		}
		return whole;
	}
	GByteArray *msg = g_byte_array_new();
	guint8 buf[64 * 1024];
	for (;;) {
		gssize n = circuit_call_read(call, buf, sizeof buf, -1, error);
		if (n < 0) {
			g_byte_array_unref(msg);
			circuit_call_free(call);
			return NULL;
		}
		if (n == 0)
			break;
		g_byte_array_append(msg, buf, (guint)n);
	}
	if (!circuit_call_finish(call, error)) {
		g_byte_array_unref(msg);
		return NULL;
	}
	return g_byte_array_free_to_bytes(msg);
}

gboolean
circuit_chan_close(CircuitClient *client, const char *path, GError **error)
{
	return client_simple(client, "close", path, NULL, NULL, error);
}

char *
circuit_keygen(GError **error)
{
	GError *local = NULL;
	if (!security_init(&local)) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY, "%s",
		            local->message);
		g_error_free(local);
		return NULL;
	}
	return keyfile_generate();
}

void
circuit_keygen_free(char *key)
{
	keyfile_free_string(key);
}
