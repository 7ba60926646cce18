// SPDX-License-Identifier: Apache-2.0
//
// spawn_bench.c - remote spawn (foundation benchmark 2).
//
// Runs /bin/true COUNT times each way, interleaved (local then remote, then
// remote then local, and again), so that load from other programs on the
// machine falls on both alike:
//   - local, the baseline: posix_spawn + waitpid;
//   - remote, through libcircuit: circuit_make("proc", unique anchor, spec)
//     then a "wait" call (circuit_call_open + circuit_call_reply, drained to
//     the server's EOF), then circuit_scrub of the anchor.
// The remote figure the bar is about is make + wait; make + wait + scrub is
// reported too. Each exit status is checked, so a failing spawn cannot pass
// for a fast one. Prints a markdown table (also written to OUT) for
// tests/bench/record.sh. Never asserts timings: it says whether the bar
// (median ratio <= 1.5) is met.
//
// usage: spawn_bench URL OUT [COUNT [MAX_SECONDS]]   (defaults 500, 300)
// The loop stops at COUNT iterations or MAX_SECONDS, whichever comes first.
#include <circuit/client.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define BENCH_WARMUP          20
#define BENCH_BAR             1.5
#define BENCH_CALL_TIMEOUT_MS 10000

static double
bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of @n sorted samples. */
static double
bench_quantile(const double *sorted, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static double
bench_mean(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : 0;
}

/* posix_spawn + waitpid of /bin/true; FALSE if it did not exit 0. */
static gboolean
bench_local(void)
{
	char *argv[] = {(char *)"/bin/true", NULL};
	pid_t pid;
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return FALSE;
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		return FALSE;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A "wait" call on @path: the reply, then the stream to its end. */
static gboolean
bench_wait(CircuitClient *client, const char *path, GError **error)
{
	CircuitCall *call = circuit_call_open(client, "wait", path, NULL, error);
	if (!call)
		return FALSE;
	gboolean failed = FALSE;
	gboolean ok = circuit_call_reply(call, NULL, &failed, BENCH_CALL_TIMEOUT_MS, error);
	char buf[4096];
	while (ok) {
		gssize n = circuit_call_read(call, buf, sizeof buf, BENCH_CALL_TIMEOUT_MS, error);
		if (n < 0)
			ok = FALSE;
		if (n <= 0)
			break;
	}
	circuit_call_free(call);
	if (ok && failed) {
		g_set_error(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_PROTOCOL,
		            "/bin/true at %s failed", path);
		return FALSE;
	}
	return ok;
}

/* Times one bench_local() into @seconds; FALSE (with a message) on failure. */
static gboolean
bench_time_local(double *seconds)
{
	double t0 = bench_now();
	if (!bench_local()) {
		fprintf(stderr, "spawn_bench: local /bin/true failed\n");
		return FALSE;
	}
	*seconds = bench_now() - t0;
	return TRUE;
}

static void
bench_row(GString *md, const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof *v, bench_cmp);
	g_string_append_printf(md, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", what,
	                       bench_quantile(v, n, 0.5) * 1e3, bench_quantile(v, n, 0.9) * 1e3,
	                       bench_mean(v, n) * 1e3, v[0] * 1e3, v[n - 1] * 1e3);
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn_bench URL OUT [COUNT [MAX_SECONDS]]\n");
		return 2;
	}
	const char *url = argv[1], *out = argv[2];
	long count = argc > 3 ? strtol(argv[3], NULL, 10) : 500;
	double max_seconds = argc > 4 ? strtod(argv[4], NULL) : 300;
	if (count < 1 || count > 1000000 || max_seconds <= 0) {
		fprintf(stderr, "spawn_bench: bad COUNT or MAX_SECONDS\n");
		return 2;
	}

	GError *error = NULL;
	CircuitClient *client = circuit_client_dial(url, 0, &error);
	if (!client) {
		fprintf(stderr, "spawn_bench: %s\n", error->message);
		return 1;
	}
	const char *id = circuit_client_server_id(client);
	static const char spec[] = "{\"Path\":\"/bin/true\",\"Args\":[]}";

	double *local = g_new0(double, (gsize)count);
	double *make = g_new0(double, (gsize)count);
	double *wait_ = g_new0(double, (gsize)count);
	double *make_wait = g_new0(double, (gsize)count);
	double *full = g_new0(double, (gsize)count);
	double *scrub = g_new0(double, (gsize)count);
	long done = 0;
	int rc = 0;
	double start = bench_now(), deadline = start + max_seconds;
	for (long i = -BENCH_WARMUP; i < count; i++) {
		if (bench_now() > deadline) {
			fprintf(stderr, "spawn_bench: stopped after %.0f s at %ld iterations\n",
			        max_seconds, done);
			break;
		}
		/* Alternate which way goes first, so neither always follows the other. */
		gboolean local_first = (i & 1) == 0;
		double local_time = 0;
		if (local_first && !bench_time_local(&local_time)) {
			rc = 1;
			break;
		}
		double t1 = bench_now();
		g_autofree char *path =
		        g_strdup_printf("/%s/spawnbench/t%ld", id, i + BENCH_WARMUP);
		gboolean made =
		        circuit_make(client, "proc", path, NULL, spec, sizeof spec - 1, &error);
		double t1b = bench_now();
		if (!made || !bench_wait(client, path, &error)) {
			fprintf(stderr, "spawn_bench: %s: %s\n", path, error->message);
			rc = 1;
			break;
		}
		double t2 = bench_now();
		if (!circuit_scrub(client, path, &error)) {
			fprintf(stderr, "spawn_bench: scrub %s: %s\n", path, error->message);
			rc = 1;
			break;
		}
		double t3 = bench_now();
		if (!local_first && !bench_time_local(&local_time)) {
			rc = 1;
			break;
		}
		if (i < 0)
			continue; /* warm-up */
		local[done] = local_time;
		make[done] = t1b - t1;
		wait_[done] = t2 - t1b;
		make_wait[done] = t2 - t1;
		scrub[done] = t3 - t2;
		full[done] = t3 - t1;
		done++;
	}
	double elapsed = bench_now() - start;
	g_clear_error(&error);
	circuit_client_free(client);
	if (done == 0) {
		fprintf(stderr, "spawn_bench: no iteration completed\n");
		return 1;
	}

	GString *md = g_string_new(NULL);
	g_string_append_printf(md,
	                       "/bin/true run %ld times each way (after %d warm-up rounds), "
	                       "local and remote interleaved, one libcircuit connection to "
	                       "circuitd on 127.0.0.1; %.1f s in all. Times in ms.\n\n",
	                       done, BENCH_WARMUP, elapsed);
	g_string_append(md, "| case | median | p90 | mean | min | max |\n");
	g_string_append(md, "|---|---:|---:|---:|---:|---:|\n");
	/* bench_row sorts each series in place. */
	bench_row(md, "baseline: posix_spawn + waitpid", local, (size_t)done);
	bench_row(md, "circuit: make proc + wait", make_wait, (size_t)done);
	bench_row(md, "circuit: make proc alone (mkproc reply)", make, (size_t)done);
	bench_row(md, "circuit: wait alone (after make)", wait_, (size_t)done);
	bench_row(md, "circuit: scrub alone (after wait)", scrub, (size_t)done);
	bench_row(md, "circuit: make + wait + scrub", full, (size_t)done);
	double local_med = bench_quantile(local, (size_t)done, 0.5);
	double ratio = bench_quantile(make_wait, (size_t)done, 0.5) / local_med;
	double full_ratio = bench_quantile(full, (size_t)done, 0.5) / local_med;
	double ratio90 = bench_quantile(make_wait, (size_t)done, 0.9) /
	                 bench_quantile(local, (size_t)done, 0.9);
	g_string_append_printf(md,
	                       "\nMedian ratio (make + wait) / baseline: **%.2f** "
	                       "(bar <= %.1f: %s); p90 ratio %.2f; median ratio with scrub "
	                       "%.2f.\n",
	                       ratio, BENCH_BAR, ratio <= BENCH_BAR ? "met" : "NOT met", ratio90,
	                       full_ratio);
	fputs(md->str, stdout);
	FILE *f = fopen(out, "w");
	if (!f || fputs(md->str, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "spawn_bench: cannot write %s\n", out);
		rc = 1;
	}
	g_string_free(md, TRUE);
	g_free(local);
	g_free(make);
	g_free(wait_);
	g_free(make_wait);
	g_free(full);
	g_free(scrub);
	return rc;
}
