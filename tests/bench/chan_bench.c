// SPDX-License-Identifier: Apache-2.0
//
// chan_bench.c - the chan element against Redis used as a queue.
//
// One sender thread and one receiver thread, each with its own connection,
// move messages of 64 bytes and of 32 KiB through
//   - a circuit channel of capacity 0 and of capacity 1000 (libcircuit's
//     circuit_chan_send / circuit_chan_recv), and
//   - a Redis list (RPUSH / BLPOP through hiredis), the baseline,
// in the same run. Two figures per case:
//   - throughput: COUNT messages streamed as fast as the pair can; messages
//     per second from the first send to the last receive;
//   - latency: LAT messages one at a time (the next is sent only once the
//     previous one was received); p50 and p99 of send-start to
//     receive-return.
// Each receiver checks the order and content of what it gets, so a wrong
// result cannot pass for a fast one. The figures are printed as a markdown
// table (and written to OUT) for tests/bench/record.sh.
//
// usage: chan_bench URL REDIS_PORT OUT [COUNT_64 COUNT_32K LAT]
//   REDIS_PORT 0 skips the baseline (the table then says so).
//   $CHAN_BENCH_CHANNEL_SERVER (an ID, X...): make the channels on that
//   server, through the one at URL (routed by libcircuit, or relayed by that
//   server with CIRCUIT_DIRECT=0).
#include <circuit/client.h>

#ifdef CHAN_BENCH_HIREDIS
#include <hiredis/hiredis.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Errors of the benchmark itself (Redis replies, wrong messages). */
#define BENCH_ERROR (g_quark_from_static_string("chan-bench"))

typedef struct Backend Backend;

/* Backend: one queue implementation, used through a per-thread connection. */
struct Backend {
	const char *name;
	gpointer (*open)(const Backend *b, GError **error);
	gboolean (*send)(gpointer conn, const char *key, const void *data, gsize len,
	                 GError **error);
	GBytes *(*recv)(gpointer conn, const char *key, GError **error);
	/* Pipelined: @n messages (or receives) in flight on one connection. */
	gboolean (*send_many)(gpointer conn, const char *key, guint8 *const *data, gsize len,
	                      guint n, GError **error);
	gboolean (*recv_many)(gpointer conn, const char *key, GBytes **out, guint n,
	                      GError **error);
	void (*close)(gpointer conn);
	const char *url; /* circuit */
	int port;        /* redis */
};

/* circuit ------------------------------------------------------------------ */

static gpointer
bench_circuit_open(const Backend *b, GError **error)
{
	return circuit_client_dial(b->url, 0, error);
}

static gboolean
bench_circuit_send(gpointer conn, const char *key, const void *data, gsize len, GError **error)
{
	return circuit_chan_send(conn, key, data, len, -1, error);
}

static GBytes *
bench_circuit_recv(gpointer conn, const char *key, GError **error)
{
	return circuit_chan_recv(conn, key, -1, error);
}

/* Opens @n send calls at once, each carrying its message, then collects
 * the replies in order: one connection, n sends in flight, order kept. */
static gboolean
bench_circuit_send_many(gpointer conn, const char *key, guint8 *const *data, gsize len, guint n,
                        GError **error)
{
	CircuitCall **calls = g_new0(CircuitCall *, n);
	gboolean ok = TRUE;
	for (guint i = 0; ok && i < n; i++)
		ok = (calls[i] = circuit_call_open_input(conn, "send", key, NULL, data[i], len,
		                                         error)) != NULL;
	for (guint i = 0; ok && i < n; i++) {
		guint8 byte;
		ok = circuit_call_reply(calls[i], NULL, NULL, -1, error) &&
		     circuit_call_read(calls[i], &byte, 1, -1, error) == 0;
	}
	for (guint i = 0; i < n; i++)
		circuit_call_free(calls[i]);
	g_free(calls);
	return ok;
}

/* Opens @n receive calls at once; they are served in the order opened. */
static gboolean
bench_circuit_recv_many(gpointer conn, const char *key, GBytes **out, guint n, GError **error)
{
	CircuitCall **calls = g_new0(CircuitCall *, n);
	gboolean ok = TRUE;
	for (guint i = 0; ok && i < n; i++)
		ok = (calls[i] = circuit_call_open(conn, "recv", key, NULL, error)) != NULL;
	guint8 *buf = g_malloc(64 * 1024);
	for (guint i = 0; ok && i < n; i++) {
		ok = circuit_call_reply(calls[i], NULL, NULL, -1, error);
		GByteArray *msg = g_byte_array_new();
		gssize r = 0;
		while (ok && (r = circuit_call_read(calls[i], buf, 64 * 1024, -1, error)) > 0)
			g_byte_array_append(msg, buf, (guint)r);
		ok = ok && r == 0;
		out[i] = g_byte_array_free_to_bytes(msg);
		/* Freeing after the whole output acknowledges the message. */
		circuit_call_free(calls[i]);
		calls[i] = NULL;
	}
	for (guint i = 0; i < n; i++)
		circuit_call_free(calls[i]);
	g_free(buf);
	g_free(calls);
	return ok;
}

static void
bench_circuit_close(gpointer conn)
{
	circuit_client_free(conn);
}

/* redis -------------------------------------------------------------------- */

#ifdef CHAN_BENCH_HIREDIS
static gpointer
bench_redis_open(const Backend *b, GError **error)
{
	struct timeval tv = {5, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", b->port, tv);
	if (!c || c->err) {
		g_set_error(error, BENCH_ERROR, 0, "redis 127.0.0.1:%d: %s", b->port,
		            c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	return c;
}

static gboolean
bench_redis_send(gpointer conn, const char *key, const void *data, gsize len, GError **error)
{
	redisReply *r = redisCommand(conn, "RPUSH %s %b", key, data, len);
	gboolean ok = r && r->type == REDIS_REPLY_INTEGER;
	if (!ok)
		g_set_error(error, BENCH_ERROR, 0, "RPUSH: %s",
		            r && r->str ? r->str : ((redisContext *)conn)->errstr);
	if (r)
		freeReplyObject(r);
	return ok;
}

static GBytes *
bench_redis_recv(gpointer conn, const char *key, GError **error)
{
	redisReply *r = redisCommand(conn, "BLPOP %s 0", key);
	GBytes *bytes = NULL;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		bytes = g_bytes_new(r->element[1]->str, r->element[1]->len);
	else
		g_set_error(error, BENCH_ERROR, 0, "BLPOP: %s",
		            r && r->str ? r->str : ((redisContext *)conn)->errstr);
	if (r)
		freeReplyObject(r);
	return bytes;
}

static gboolean
bench_redis_send_many(gpointer conn, const char *key, guint8 *const *data, gsize len, guint n,
                      GError **error)
{
	for (guint i = 0; i < n; i++)
		redisAppendCommand(conn, "RPUSH %s %b", key, data[i], len);
	gboolean ok = TRUE;
	for (guint i = 0; i < n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(conn, (void **)&r) != REDIS_OK ||
		    r->type != REDIS_REPLY_INTEGER) {
			if (ok)
				g_set_error(error, BENCH_ERROR, 0, "RPUSH: %s",
				            r && r->str ? r->str : ((redisContext *)conn)->errstr);
			ok = FALSE;
		}
		if (r)
			freeReplyObject(r);
		if (((redisContext *)conn)->err)
			return FALSE;
	}
	return ok;
}

static gboolean
bench_redis_recv_many(gpointer conn, const char *key, GBytes **out, guint n, GError **error)
{
	for (guint i = 0; i < n; i++)
		redisAppendCommand(conn, "BLPOP %s 0", key);
	gboolean ok = TRUE;
	for (guint i = 0; i < n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(conn, (void **)&r) == REDIS_OK && r->type == REDIS_REPLY_ARRAY &&
		    r->elements == 2) {
			out[i] = g_bytes_new(r->element[1]->str, r->element[1]->len);
		} else {
			if (ok)
				g_set_error(error, BENCH_ERROR, 0, "BLPOP: %s",
				            r && r->str ? r->str : ((redisContext *)conn)->errstr);
			ok = FALSE;
			out[i] = g_bytes_new(NULL, 0);
		}
		if (r)
			freeReplyObject(r);
		if (((redisContext *)conn)->err) {
			for (guint k = i + 1; k < n; k++)
				out[k] = g_bytes_new(NULL, 0);
			return FALSE;
		}
	}
	return ok;
}

static void
bench_redis_close(gpointer conn)
{
	redisFree(conn);
}
#endif

/* The run ------------------------------------------------------------------ */

typedef struct {
	const Backend *backend;
	const char *key;
	gsize size;
	guint count;
	guint batch;       /* messages in flight per connection (1: one at a time) */
	gboolean lockstep; /* latency run: the next message only after a receive */
	/* lockstep handshake */
	GMutex lock;
	GCond cond;
	guint received;
	/* results */
	gint64 start_us, end_us;
	double *latency_us;
} Run;

typedef struct {
	double rate;
	double p50, p99;
	gboolean ok;
} Figures;

/* Message i: i (8 bytes), send time in µs (8 bytes), then a filler that
 * depends on i, so the receiver can check what it got. */
static void
bench_fill(guint8 *buf, gsize size, guint64 i, gint64 now)
{
	memcpy(buf, &i, 8);
	memcpy(buf + 8, &now, 8);
	for (gsize k = 16; k < size; k++)
		buf[k] = (guint8)(i + k);
}

/* A failed or wrong call ends the benchmark at once: its figures would be
 * meaningless, and the other side could be blocked for good (a sender on a
 * full channel whose receiver stopped). */
static void
bench_fail(Run *run, const char *who, GError *error)
{
	g_printerr("chan_bench: %s %s: %s\n", run->backend->name, who, error->message);
	fflush(stderr);
	_exit(1);
}

static gpointer
bench_sender(gpointer data)
{
	Run *run = data;
	GError *error = NULL;
	gpointer conn = run->backend->open(run->backend, &error);
	guint8 **bufs = g_new0(guint8 *, run->batch);
	for (guint k = 0; k < run->batch; k++)
		bufs[k] = g_malloc(run->size);
	for (guint64 i = 0; conn && i < run->count; i += run->batch) {
		guint n = (guint)MIN((guint64)run->batch, run->count - i);
		gint64 now = g_get_monotonic_time();
		for (guint k = 0; k < n; k++)
			bench_fill(bufs[k], run->size, i + k, now);
		gboolean ok =
		        n == 1 ? run->backend->send(conn, run->key, bufs[0], run->size, &error)
		               : run->backend->send_many(conn, run->key, bufs, run->size, n,
		                                         &error);
		if (!ok)
			break;
		if (run->lockstep) {
			g_mutex_lock(&run->lock);
			while (run->received <= i)
				g_cond_wait(&run->cond, &run->lock);
			g_mutex_unlock(&run->lock);
		}
	}
	if (error)
		bench_fail(run, "sender", error);
	if (conn)
		run->backend->close(conn);
	for (guint k = 0; k < run->batch; k++)
		g_free(bufs[k]);
	g_free(bufs);
	return NULL;
}

/* Checks message @i; records its latency. */
static gboolean
bench_check(Run *run, guint64 i, GBytes *bytes, gint64 now, guint8 *want, GError **error)
{
	gsize len = 0;
	const guint8 *got = g_bytes_get_data(bytes, &len);
	gint64 sent = 0;
	if (len == run->size)
		memcpy(&sent, got + 8, 8);
	bench_fill(want, run->size, i, sent);
	if (len != run->size || memcmp(got, want, len) != 0) {
		g_set_error(error, BENCH_ERROR, 0,
		            "message %" G_GUINT64_FORMAT " is not the one sent", i);
		return FALSE;
	}
	if (i == 0)
		run->start_us = sent;
	run->end_us = now;
	run->latency_us[i] = (double)(now - sent);
	return TRUE;
}

static gpointer
bench_receiver(gpointer data)
{
	Run *run = data;
	GError *error = NULL;
	gpointer conn = run->backend->open(run->backend, &error);
	guint8 *want = g_malloc(run->size);
	GBytes **got = g_new0(GBytes *, run->batch);
	for (guint64 i = 0; conn && i < run->count; i += run->batch) {
		guint n = (guint)MIN((guint64)run->batch, run->count - i);
		gboolean ok = TRUE;
		if (n == 1)
			ok = (got[0] = run->backend->recv(conn, run->key, &error)) != NULL;
		else
			ok = run->backend->recv_many(conn, run->key, got, n, &error);
		gint64 now = g_get_monotonic_time();
		for (guint k = 0; k < n && got[k]; k++) {
			ok = ok && bench_check(run, i + k, got[k], now, want, &error);
			g_bytes_unref(got[k]);
			got[k] = NULL;
		}
		if (!ok)
			break;
		g_mutex_lock(&run->lock);
		run->received += n;
		/* Only the latency run's sender waits (GLib's broadcast is a
		 * system call even with no waiter: not in the timed loop). */
		if (run->lockstep)
			g_cond_broadcast(&run->cond);
		g_mutex_unlock(&run->lock);
	}
	if (error)
		bench_fail(run, "receiver", error);
	if (conn)
		run->backend->close(conn);
	g_free(got);
	g_free(want);
	return NULL;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
bench_percentile(const double *sorted, guint n, double p)
{
	guint idx = (guint)(p * (n - 1) + 0.5);
	return sorted[MIN(idx, n - 1)];
}

/* Runs one sender and one receiver; FALSE if anything failed. The caller
 * frees run->latency_us. */
static gboolean
bench_run(const Backend *backend, const char *key, gsize size, guint count, guint batch,
          gboolean lockstep, Run *run)
{
	memset(run, 0, sizeof *run);
	run->backend = backend;
	run->key = key;
	run->size = size;
	run->count = count;
	run->batch = batch;
	run->lockstep = lockstep;
	g_mutex_init(&run->lock);
	g_cond_init(&run->cond);
	run->latency_us = g_new0(double, count);
	GThread *r = g_thread_new("receiver", bench_receiver, run);
	GThread *s = g_thread_new("sender", bench_sender, run);
	g_thread_join(s);
	g_thread_join(r);
	g_mutex_clear(&run->lock);
	g_cond_clear(&run->cond);
	return run->received == count;
}

/* Throughput of @count messages, @batch in flight; then, if @lat > 0, the
 * latency of @lat messages sent one at a time. */
static Figures
bench_case(const Backend *backend, const char *key, gsize size, guint count, guint batch, guint lat)
{
	Figures f = {0};
	Run run;
	gboolean ok = bench_run(backend, key, size, count, batch, FALSE, &run);
	g_free(run.latency_us);
	if (!ok)
		return f;
	double secs = (double)(run.end_us - run.start_us) / 1e6;
	f.rate = secs > 0 ? count / secs : 0;
	if (lat > 0) {
		ok = bench_run(backend, key, size, lat, 1, TRUE, &run);
		if (ok) {
			qsort(run.latency_us, lat, sizeof(double), bench_cmp_double);
			f.p50 = bench_percentile(run.latency_us, lat, 0.50);
			f.p99 = bench_percentile(run.latency_us, lat, 0.99);
		}
		g_free(run.latency_us);
		if (!ok)
			return f;
	}
	f.ok = TRUE;
	return f;
}

static const char *
bench_size_name(gsize size)
{
	return size >= 1024 ? "32 KiB" : "64 B";
}

/* Messages in flight per connection in the pipelined rows. */
#define BENCH_PIPELINE 32

typedef struct {
	const char *cap;
	guint batch;
} BenchChan;

int
main(int argc, char **argv)
{
	if (argc != 4 && argc != 7) {
		g_printerr("usage: chan_bench URL REDIS_PORT OUT [COUNT_64 COUNT_32K LAT]\n");
		return 2;
	}
	const char *url = argv[1];
	int redis_port = atoi(argv[2]);
	const char *out_path = argv[3];
	guint count64 = argc == 7 ? (guint)atoi(argv[4]) : 20000;
	guint count32k = argc == 7 ? (guint)atoi(argv[5]) : 5000;
	guint lat = argc == 7 ? (guint)atoi(argv[6]) : 2000;
	if (count64 == 0 || count32k == 0 || lat == 0) {
		g_printerr("chan_bench: counts must be > 0\n");
		return 2;
	}

	GError *error = NULL;
	CircuitClient *admin = circuit_client_dial(url, 0, &error);
	if (!admin) {
		g_printerr("chan_bench: %s\n", error->message);
		g_error_free(error);
		return 1;
	}
	Backend circuit = {.name = "circuit",
	                   .open = bench_circuit_open,
	                   .send = bench_circuit_send,
	                   .recv = bench_circuit_recv,
	                   .send_many = bench_circuit_send_many,
	                   .recv_many = bench_circuit_recv_many,
	                   .close = bench_circuit_close,
	                   .url = url};
#ifdef CHAN_BENCH_HIREDIS
	Backend redis = {.name = "redis",
	                 .open = bench_redis_open,
	                 .send = bench_redis_send,
	                 .recv = bench_redis_recv,
	                 .send_many = bench_redis_send_many,
	                 .recv_many = bench_redis_recv_many,
	                 .close = bench_redis_close,
	                 .port = redis_port};
#else
	if (redis_port != 0)
		g_printerr("chan_bench: built without hiredis; no Redis baseline\n");
	redis_port = 0;
#endif

	/* The channels' server: the dialed one, or another one it forwards to. */
	const char *chan_server = g_getenv("CHAN_BENCH_CHANNEL_SERVER");
	gboolean remote = chan_server && *chan_server &&
	                  strcmp(chan_server, circuit_client_server_id(admin)) != 0;
	if (!remote)
		chan_server = circuit_client_server_id(admin);

	const gsize sizes[] = {64, 32 * 1024};
	const BenchChan chans[] = {{"0", 1}, {"1000", 1}, {"1000", BENCH_PIPELINE}};
	GString *md = g_string_new(NULL);
	g_string_append_printf(
	        md,
	        "One sender thread and one receiver thread, one connection each, %s over "
	        "127.0.0.1. Baseline: redis-server %s as a queue (RPUSH / BLPOP through hiredis, "
	        "one client each side), same run. Throughput: %u (64 B) and %u (32 KiB) messages "
	        "streamed, one call at a time per side unless the row says \"%d in flight\" "
	        "(pipelined calls on the one connection; Redis pipelined alike); latency: %u "
	        "messages one at a time, send start to receive return. Ratios compare with the "
	        "Redis row of the same size and pipelining.\n\n",
	        !remote ? "both on the channel's own server"
	        : g_strcmp0(g_getenv("CIRCUIT_DIRECT"), "0") == 0
	                ? "both dialed into another server than the channel's, which relays every "
	                  "call to the channel's server (two servers of one cluster; "
	                  "CIRCUIT_DIRECT=0)"
	                : "both dialed into another server than the channel's (two servers of one "
	                  "cluster; libcircuit's routes: the first call through that server, the "
	                  "rest straight to the channel's)",
	        redis_port ? "(Debian's)" : "(not run)", count64, count32k, BENCH_PIPELINE, lat);
	g_string_append(md, "| message | queue | msg/s | vs Redis | p50 µs | p99 µs |\n");
	g_string_append(md, "|---|---|---:|---:|---:|---:|\n");
	gboolean all_ok = TRUE;
	GString *bar = g_string_new(NULL); /* the bar: CAP 1000 vs Redis */
	for (guint si = 0; si < G_N_ELEMENTS(sizes); si++) {
		gsize size = sizes[si];
		guint count = size >= 1024 ? count32k : count64;
		Figures base[2] = {{0}}; /* one at a time, pipelined */
#ifdef CHAN_BENCH_HIREDIS
		for (guint pi = 0; redis_port && pi < 2; pi++) {
			char key[64];
			g_snprintf(key, sizeof key, "chan-bench:%" G_GSIZE_FORMAT, size);
			base[pi] = bench_case(&redis, key, size, count, pi ? BENCH_PIPELINE : 1,
			                      pi ? 0 : lat);
			if (!base[pi].ok)
				all_ok = FALSE;
		}
#endif
		for (guint ci = 0; ci < G_N_ELEMENTS(chans); ci++) {
			const BenchChan *bc = &chans[ci];
			gboolean piped = bc->batch > 1;
			char *path = g_strdup_printf("/%s/bench/chan-%s-%" G_GSIZE_FORMAT "-%u",
			                             chan_server, bc->cap, size, bc->batch);
			const char *args[] = {bc->cap, NULL};
			if (!circuit_make(admin, "chan", path, args, NULL, 0, &error)) {
				g_printerr("chan_bench: mkchan %s: %s\n", path, error->message);
				g_clear_error(&error);
				all_ok = FALSE;
				g_free(path);
				continue;
			}
			Figures f =
			        bench_case(&circuit, path, size, count, bc->batch, piped ? 0 : lat);
			if (!circuit_scrub(admin, path, &error)) {
				g_printerr("chan_bench: scrub %s: %s\n", path, error->message);
				g_clear_error(&error);
			}
			g_free(path);
			if (!f.ok) {
				all_ok = FALSE;
				continue;
			}
			const Figures *b = &base[piped];
			char ratio[32] = "n/a", p50[32] = "-", p99[32] = "-", queue[64];
			if (b->ok && b->rate > 0) {
				g_snprintf(ratio, sizeof ratio, "%.2fx", f.rate / b->rate);
				if (!piped && strcmp(bc->cap, "1000") == 0)
					g_string_append_printf(bar, "%s%s %s", bar->len ? ", " : "",
					                       ratio, bench_size_name(size));
			}
			if (!piped) {
				g_snprintf(p50, sizeof p50, "%.0f", f.p50);
				g_snprintf(p99, sizeof p99, "%.0f", f.p99);
				g_snprintf(queue, sizeof queue, "chan CAP %s", bc->cap);
			} else {
				g_snprintf(queue, sizeof queue, "chan CAP %s, %u in flight",
				           bc->cap, bc->batch);
			}
			g_string_append_printf(md, "| %s | %s | %.0f | %s | %s | %s |\n",
			                       bench_size_name(size), queue, f.rate, ratio, p50,
			                       p99);
		}
		if (base[0].ok)
			g_string_append_printf(
			        md, "| %s | Redis list | %.0f | 1.00x | %.0f | %.0f |\n",
			        bench_size_name(size), base[0].rate, base[0].p50, base[0].p99);
		if (base[1].ok)
			g_string_append_printf(
			        md, "| %s | Redis list, %d in flight | %.0f | 1.00x | - | - |\n",
			        bench_size_name(size), BENCH_PIPELINE, base[1].rate);
	}
	if (bar->len)
		g_string_append_printf(
		        md,
		        "\nBar (chan CAP 1000 at least 1.0x Redis, one call at a time): "
		        "%s.\n",
		        bar->str);
	g_string_free(bar, TRUE);
	circuit_client_free(admin);
	fputs(md->str, stdout);
	if (!g_file_set_contents(out_path, md->str, -1, &error)) {
		g_printerr("chan_bench: %s\n", error->message);
		g_error_free(error);
		all_ok = FALSE;
	}
	g_string_free(md, TRUE);
	return all_ok ? 0 : 1;
}
