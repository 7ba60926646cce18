// SPDX-License-Identifier: Apache-2.0
//
// oplog.c - the op log: JSON lines formatted by hand (one per operation, on
// the hot path of every call) into a buffer that is written once per loop
// turn, after that turn's replies and before the loop waits, and at close.
#include "oplog.h"

#include "wire/json.h"

#include <errno.h>
#include <fcntl.h>
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct {
	int fd; /* stderr or the --log file */
	gboolean own_fd;
	gboolean regular; /* a file: a line cut short can be taken back */
	char *path;
	guint64 seq;
	GString *buf;
	ev_prepare flush;
	gint64 cached_second; /* the "YYYY-MM-DDTHH:MM:SS" prefix of this second */
	char cached_prefix[32];
	/* Lines that could not be written since the last gap record (their seq
	 * numbers first_lost.. are contiguous: after a loss nothing is written
	 * until the gap record is), and in all. */
	guint64 lost_pending, lost_total, first_lost;
	gint64 lost_reported; /* monotonic µs of the last stderr line about it */
	char *last_error;
	/* --log-fsync: written since the last fsync. */
	ev_timer fsync_timer;
	gboolean dirty;
} oplog = {.fd = -1};

static GString *oplog_begin(void);
static void oplog_append_time(GString *out);
static void oplog_member(GString *out, const char *name, const char *value);
static void oplog_end(GString *out);

static guint64
oplog_count_lines(const char *p, gsize len)
{
	guint64 n = 0;
	for (const char *e = p + len; (p = memchr(p, '\n', (gsize)(e - p))); p++)
		n++;
	return n;
}

/* Tells stderr (one line in ten seconds at most) that lines were lost. */
static void
oplog_report_loss(void)
{
	gint64 now = g_get_monotonic_time();
	if (oplog.lost_reported && now - oplog.lost_reported < 10 * G_USEC_PER_SEC)
		return;
	oplog.lost_reported = now;
	g_warning("op log %s: %" G_GUINT64_FORMAT " line(s) could not be written (%s); a gap "
	          "record will say so once it can be written",
	          oplog.path ? oplog.path : "(stderr)", oplog.lost_total,
	          oplog.last_error ? oplog.last_error : "short write");
}

/*
 * Writes @len bytes of whole lines. On a regular file a write cut short (a
 * full disk) is taken back to the last whole line, so the log never holds
 * half a line; the lines not written are counted. Returns how many bytes
 * of @p are in the log.
 */
static gsize
oplog_write_lines(int fd, const char *p, gsize len)
{
	off_t start = oplog.regular ? lseek(fd, 0, SEEK_END) : -1;
	gsize off = 0;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			g_free(oplog.last_error);
			oplog.last_error = g_strdup(w < 0 ? g_strerror(errno) : "no progress");
			break; /* a full disk must not stop the server */
		}
		off += (gsize)w;
	}
	if (off < len) {
		/* Keep the whole lines that went out, take back the rest. */
		gsize keep = off;
		while (keep > 0 && p[keep - 1] != '\n')
			keep--;
		if (keep < off && start >= 0 && ftruncate(fd, start + (off_t)keep) != 0)
			keep = off; /* cannot take it back: it stays (and is counted) */
		off = keep;
	}
	return off;
}

static void
oplog_flush(void)
{
	if (!oplog.buf || oplog.buf->len == 0)
		return;
	int fd = oplog.fd >= 0 ? oplog.fd : STDERR_FILENO;
	if (oplog.lost_pending) {
		/* The gap first, alone: if it cannot be written, nothing after it
		 * is. It has no seq of its own: it names the numbers it stands for. */
		g_autoptr(GString) gap = g_string_new("{");
		oplog_append_time(gap);
		g_string_append_printf(gap,
		                       ",\"event\":\"gap\",\"lost\":%" G_GUINT64_FORMAT
		                       ",\"first_seq\":%" G_GUINT64_FORMAT
		                       ",\"last_seq\":%" G_GUINT64_FORMAT "}\n",
		                       oplog.lost_pending, oplog.first_lost,
		                       oplog.first_lost + oplog.lost_pending - 1);
		if (oplog_write_lines(fd, gap->str, gap->len) < gap->len) {
			guint64 n = oplog_count_lines(oplog.buf->str, oplog.buf->len);
			oplog.lost_pending += n;
			oplog.lost_total += n;
			g_string_truncate(oplog.buf, 0);
			oplog_report_loss();
			return;
		}
		oplog.lost_pending = 0;
	}
	gsize done = oplog_write_lines(fd, oplog.buf->str, oplog.buf->len);
	if (done < oplog.buf->len) {
		guint64 n = oplog_count_lines(oplog.buf->str + done, oplog.buf->len - done);
		/* The buffer's lines are numbered up to oplog.seq. */
		oplog.first_lost = oplog.seq - n + 1;
		oplog.lost_pending = n;
		oplog.lost_total += n;
		oplog_report_loss();
	}
	if (done > 0)
		oplog.dirty = TRUE;
	g_string_truncate(oplog.buf, 0);
}

guint64
oplog_lost(void)
{
	return oplog.lost_total;
}

const char *
oplog_path(void)
{
	return oplog.path;
}

static void
oplog_on_fsync(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (oplog.dirty && oplog.fd >= 0 && oplog.regular) {
		oplog.dirty = FALSE;
		fdatasync(oplog.fd);
	}
}

void
oplog_set_fsync(guint interval_ms)
{
	if (ev_is_active(&oplog.fsync_timer))
		ev_timer_stop(EV_DEFAULT, &oplog.fsync_timer);
	if (interval_ms == 0)
		return;
	double s = interval_ms / 1000.0;
	ev_timer_init(&oplog.fsync_timer, oplog_on_fsync, s, s);
	ev_timer_start(EV_DEFAULT, &oplog.fsync_timer);
}

void
oplog_start(const char *server_id, const char *url)
{
	GString *out = oplog_begin();
	oplog_member(out, "event", "start");
	oplog_member(out, "server", server_id);
	oplog_member(out, "url", url);
	g_string_append_printf(out, ",\"first_seq\":%" G_GUINT64_FORMAT, oplog.seq);
	oplog_end(out);
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
	struct stat st;
	oplog.regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	oplog.path = g_strdup(path);
	return TRUE;
}

void
oplog_close(void)
{
	oplog_flush();
	if (ev_is_active(&oplog.flush))
		ev_prepare_stop(EV_DEFAULT, &oplog.flush);
	if (ev_is_active(&oplog.fsync_timer))
		ev_timer_stop(EV_DEFAULT, &oplog.fsync_timer);
	if (oplog.own_fd) {
		if (oplog.regular)
			fdatasync(oplog.fd);
		close(oplog.fd);
	}
	g_clear_pointer(&oplog.path, g_free);
	g_clear_pointer(&oplog.last_error, g_free);
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

/* "time":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (without the comma before it). */
static void
oplog_append_time(GString *out)
{
	gint64 now = g_get_real_time();
	gint64 second = now / G_USEC_PER_SEC;
	if (second != oplog.cached_second) {
		time_t t = (time_t)second;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(oplog.cached_prefix, sizeof oplog.cached_prefix, "%Y-%m-%dT%H:%M:%S", &tm);
		oplog.cached_second = second;
	}
	g_string_append(out, "\"time\":\"");
	g_string_append(out, oplog.cached_prefix);
	g_string_append_c(out, '.');
	oplog_append_digits(out, (guint64)(now % G_USEC_PER_SEC), 6);
	g_string_append(out, "Z\"");
}

static GString *
oplog_begin(void)
{
	if (!oplog.buf) /* before oplog_open (tests): write at once */
		oplog.buf = g_string_sized_new(256);
	/* Formatted by hand: printf was a tenth of an operation's user time. */
	g_string_append(oplog.buf, "{\"seq\":");
	oplog_append_digits(oplog.buf, ++oplog.seq, 1);
	g_string_append_c(oplog.buf, ',');
	oplog_append_time(oplog.buf);
	return oplog.buf;
}

static void
oplog_member(GString *out, const char *name, const char *value)
{
	if (!value)
		return;
	/* @name is one of ours: no escaping needed, and no printf. */
	g_string_append_len(out, ",\"", 2);
	g_string_append(out, name);
	g_string_append_len(out, "\":", 2);
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
oplog_op(const char *peer, const char *who, const char *via, const char *op, const char *path,
         const char *kind, const char *error)
{
	GString *out = oplog_begin();
	oplog_member(out, "peer", peer);
	oplog_member(out, "who", who);
	oplog_member(out, "via", via);
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
