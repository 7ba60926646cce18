// SPDX-License-Identifier: Apache-2.0
//
// python_bench.c - the C side of the Python binding's benchmark (issue 21),
// driven by python_bench.py, which runs the same loops through the binding
// in the same run and compares.
//
// usage: python_bench URL spawn COUNT PREFIX   mkproc /bin/true + wait, COUNT
//                                              times at PREFIX/N (scrubbed
//                                              after each, untimed)
//        python_bench URL chan COUNT PATH      send 64 B + recv on the
//                                              channel at PATH, COUNT times
// Prints one line per iteration: its time in seconds. Exits non-zero on the
// first failure (a failing spawn cannot pass for a fast one).
#include <circuit/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* mkproc /bin/true at @path, then wait for it (reply, then its stream's end). */
static gboolean
bench_spawn(CircuitClient *client, const char *path, GError **error)
{
	static const char spec[] = "{\"Path\":\"/bin/true\",\"Args\":[]}";
	if (!circuit_make(client, "proc", path, NULL, spec, sizeof spec - 1, error))
		return FALSE;
	CircuitCall *call = circuit_call_open(client, "wait", path, NULL, error);
	if (!call)
		return FALSE;
	gboolean failed = FALSE;
	gboolean ok = circuit_call_reply(call, NULL, &failed, -1, error);
	char buf[4096];
	while (ok) {
		gssize n = circuit_call_read(call, buf, sizeof buf, -1, error);
		if (n < 0)
			ok = FALSE;
		if (n <= 0)
			break;
	}
	ok = ok && circuit_call_finish(call, error);
	if (ok && failed) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "/bin/true failed");
		return FALSE;
	}
	return ok;
}

/* One 64-byte message in and out of the channel at @path. */
static gboolean
bench_chan(CircuitClient *client, const char *path, GError **error)
{
	static const char msg[64] =
	        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
	if (!circuit_chan_send(client, path, msg, sizeof msg, -1, error))
		return FALSE;
	GBytes *got = circuit_chan_recv(client, path, -1, error);
	if (!got)
		return FALSE;
	gboolean ok = g_bytes_get_size(got) == sizeof msg;
	g_bytes_unref(got);
	if (!ok)
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED, "a message changed size");
	return ok;
}

int
main(int argc, char **argv)
{
	if (argc != 5 || (strcmp(argv[2], "spawn") != 0 && strcmp(argv[2], "chan") != 0)) {
		fprintf(stderr, "usage: python_bench URL spawn|chan COUNT PATH\n");
		return 2;
	}
	long count = strtol(argv[3], NULL, 10);
	gboolean spawn = strcmp(argv[2], "spawn") == 0;
	GError *error = NULL;
	CircuitDialOptions o = {.address = argv[1]};
	CircuitClient *client = circuit_client_open(&o, &error);
	if (!client) {
		fprintf(stderr, "python_bench: %s\n", error->message);
		return 1;
	}
	int rc = 0;
	for (long i = 0; i < count && rc == 0; i++) {
		g_autofree char *path =
		        spawn ? g_strdup_printf("%s/%ld", argv[4], i) : g_strdup(argv[4]);
		gint64 t0 = g_get_monotonic_time();
		gboolean ok = spawn ? bench_spawn(client, path, &error)
		                    : bench_chan(client, path, &error);
		double t = (double)(g_get_monotonic_time() - t0) / 1e6;
		if (ok && spawn)
			ok = circuit_scrub(client, path, &error);
		if (!ok) {
			fprintf(stderr, "python_bench: %s: %s\n", path, error->message);
			g_clear_error(&error);
			rc = 1;
			break;
		}
		printf("%.9f\n", t);
	}
	circuit_client_free(client);
	return rc;
}
