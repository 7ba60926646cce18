// SPDX-License-Identifier: Apache-2.0
//
// oplog.c - the op log: JSON lines formatted by hand (one per operation, on
// the hot path of every call) into a buffer that is written once per loop
// turn, after that turn's replies and before the loop waits, and at close.
#include "oplog.h"

#include "../common/wire_json.h"

#include <errno.h>
#include <fcntl.h>
#include <ev.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static struct {
	int fd; /* stderr or the --log file */
	gboolean own_fd;
	guint64 seq;
	GString *buf;
	ev_prepare flush;
	gint64 cached_second; /* the "YYYY-MM-DDTHH:MM:SS" prefix of this second */
	char cached_prefix[32];
} oplog = {.fd = -1};

static void
oplog_flush(void)
{
	if (!oplog.buf || oplog.buf->len == 0)
		return;
	int fd = oplog.fd >= 0 ? oplog.fd : STDERR_FILENO;
	gsize off = 0;
	while (off < oplog.buf->len) {
		ssize_t w = write(fd, oplog.buf->str + off, oplog.buf->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a full disk must not stop the server */
		off += (gsize)w;
	}
	g_string_truncate(oplog.buf, 0);
}

static void
oplog_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	oplog_flush();
	ev_prepare_stop(loop, w);
}

gboolean
oplog_open(const char *path, GError **error)
{
	oplog.buf = g_string_sized_new(4096);
	ev_prepare_init(&oplog.flush, oplog_on_prepare);
	/* Lines go out in the loop turn of the replies they describe, right
	 * after them (the replies' writes come first: a reply waited for is
	 * not held up by the log's write). */
	ev_set_priority(&oplog.flush, EV_MINPRI);
	if (!path) {
		oplog.fd = STDERR_FILENO;
		return TRUE;
	}
	/* Close-on-exec, so no job inherits it (and forges lines); created
	 * readable by the server's user only: it names who did what. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "--log %s: %s", path,
		            g_strerror(e));
		return FALSE;
	}
	oplog.fd = fd;
	oplog.own_fd = TRUE;
	return TRUE;
}

void
oplog_close(void)
{
	oplog_flush();
	if (ev_is_active(&oplog.flush))
		ev_prepare_stop(EV_DEFAULT, &oplog.flush);
	if (oplog.own_fd)
		close(oplog.fd);
	oplog.fd = -1;
	oplog.own_fd = FALSE;
	if (oplog.buf)
		g_string_free(oplog.buf, TRUE);
	oplog.buf = NULL;
}

/* Appends @v in decimal, zero-padded to @width digits. */
static void
oplog_append_digits(GString *out, guint64 v, int width)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	while (n)
		g_string_append_c(out, buf[--n]);
}

static GString *
oplog_begin(void)
{
	if (!oplog.buf) /* before oplog_open (tests): write at once */
		oplog.buf = g_string_sized_new(256);
	gint64 now = g_get_real_time();
	gint64 second = now / G_USEC_PER_SEC;
	if (second != oplog.cached_second) {
		time_t t = (time_t)second;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(oplog.cached_prefix, sizeof oplog.cached_prefix, "%Y-%m-%dT%H:%M:%S", &tm);
		oplog.cached_second = second;
	}
	/* Formatted by hand: printf was a tenth of an operation's user time. */
	g_string_append(oplog.buf, "{\"seq\":");
	oplog_append_digits(oplog.buf, ++oplog.seq, 1);
	g_string_append(oplog.buf, ",\"time\":\"");
	g_string_append(oplog.buf, oplog.cached_prefix);
	g_string_append_c(oplog.buf, '.');
	oplog_append_digits(oplog.buf, (guint64)(now % G_USEC_PER_SEC), 6);
	g_string_append(oplog.buf, "Z\"");
	return oplog.buf;
}

static void
oplog_member(GString *out, const char *name, const char *value)
{
	if (!value)
		return;
	/* @name is one of ours: no escaping needed, and no printf. */
	g_string_append(out, ",\"");
	g_string_append(out, name);
	g_string_append(out, "\":");
	wire_json_append_string(out, value);
}

static void
oplog_end(GString *out)
{
	g_string_append(out, "}\n");
	if (ev_is_active(&oplog.flush))
		return;
	if (oplog.fd < 0) {
		oplog_flush();
		return;
	}
	ev_prepare_start(EV_DEFAULT, &oplog.flush);
}

void
oplog_op(const char *peer, const char *op, const char *path, const char *kind, const char *error)
{
	GString *out = oplog_begin();
	oplog_member(out, "peer", peer);
	oplog_member(out, "op", op);
	oplog_member(out, "path", path);
	oplog_member(out, "kind", kind);
	oplog_member(out, "result", error ? "error" : "ok");
	oplog_member(out, "error", error);
	oplog_end(out);
}

void
oplog_event(const char *path, const char *kind, const char *what, gint64 value)
{
	GString *out = oplog_begin();
	oplog_member(out, "event", what);
	oplog_member(out, "path", path);
	oplog_member(out, "kind", kind);
	g_string_append_printf(out, ",\"value\":%" G_GINT64_FORMAT, value);
	oplog_end(out);
}
