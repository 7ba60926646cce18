// SPDX-License-Identifier: Apache-2.0
//
// keyed_bench - the cost of keyed connections (issue 4), measured against
// the same operations unkeyed, in one run:
//   handshake: connections per second (dial, handshake, one peek, close);
//   stream:    MB/s of a process's stdout read through the connection, in
//              runs of one keyed and one unkeyed read each (the order
//              alternating from run to run).
// Usage: keyed_bench PLAIN_URL KEYED_URL KEY_FILE STREAM_PATHS_PLAIN
//        STREAM_PATHS_KEYED BYTES CONNECTIONS
// The stream paths are comma-separated, one process per run, as many on
// each side. Prints one line per figure, "name value" (streams once per
// run, in run order), for the driver to record.
#include <circuit/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
keyed_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static CircuitClient *
keyed_dial(const char *url, const char *key)
{
	g_autoptr(GError) error = NULL;
	CircuitClient *c = key ? circuit_client_dial_key(url, key, 0, &error)
	                       : circuit_client_dial(url, 0, &error);
	if (!c) {
		fprintf(stderr, "keyed_bench: %s\n", error->message);
		exit(1);
	}
	return c;
}

/* Connections per second: dial (and handshake), peek the server, close. */
static double
keyed_connections(const char *url, const char *key, int n)
{
	double start = keyed_now();
	for (int i = 0; i < n; i++) {
		CircuitClient *c = keyed_dial(url, key);
		g_autoptr(GError) error = NULL;
		g_autofree char *server = g_strconcat("/", circuit_client_server_id(c), NULL);
		JsonNode *peek = circuit_peek(c, server, &error);
		if (!peek) {
			fprintf(stderr, "keyed_bench: peek: %s\n", error->message);
			exit(1);
		}
		json_node_unref(peek);
		circuit_client_free(c);
	}
	return n / (keyed_now() - start);
}

/* MB/s of reading @path's stdout to its end; checks the byte count. */
static double
keyed_stream(const char *url, const char *key, const char *path, long long bytes)
{
	CircuitClient *c = keyed_dial(url, key);
	g_autoptr(GError) error = NULL;
	double start = keyed_now();
	CircuitCall *call = circuit_call_open(c, "stdout", path, NULL, &error);
	if (!call || !circuit_call_reply(call, NULL, NULL, -1, &error)) {
		fprintf(stderr, "keyed_bench: stdout %s: %s\n", path, error->message);
		exit(1);
	}
	static char buf[256 * 1024];
	long long got = 0;
	gssize n;
	while ((n = circuit_call_read(call, buf, sizeof buf, -1, &error)) > 0)
		got += n;
	double secs = keyed_now() - start;
	if (n < 0 || got != bytes) {
		fprintf(stderr, "keyed_bench: read %lld of %lld bytes%s%s\n", got, bytes,
		        error ? ": " : "", error ? error->message : "");
		exit(1);
	}
	circuit_call_free(call);
	circuit_client_free(c);
	return (double)bytes / 1e6 / secs;
}

int
main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: keyed_bench PLAIN_URL KEYED_URL KEY_FILE PLAIN_PATH "
		                "KEYED_PATH BYTES CONNECTIONS\n");
		return 2;
	}
	const char *plain = argv[1], *keyed = argv[2], *key = argv[3];
	g_auto(GStrv) plain_paths = g_strsplit(argv[4], ",", -1);
	g_auto(GStrv) keyed_paths = g_strsplit(argv[5], ",", -1);
	guint runs = g_strv_length(plain_paths);
	if (runs == 0 || runs > 20 || g_strv_length(keyed_paths) != runs) {
		fprintf(stderr, "keyed_bench: give 1 to 20 stream paths, as many on each side\n");
		return 2;
	}
	long long bytes = atoll(argv[6]);
	int conns = atoi(argv[7]);
	if (bytes <= 0 || conns <= 0 || conns > 100000) {
		fprintf(stderr,
		        "keyed_bench: BYTES and CONNECTIONS (1..100000) must be positive\n");
		return 2;
	}
	/* Alternate the order so neither side always runs on a warmer machine. */
	double c_plain = keyed_connections(plain, NULL, conns);
	double c_keyed = keyed_connections(keyed, key, conns);
	printf("connections_plain %.1f\nconnections_keyed %.1f\n", c_plain, c_keyed);
	for (guint r = 0; r < runs; r++) {
		double s_plain, s_keyed;
		if (r % 2 == 0) {
			s_keyed = keyed_stream(keyed, key, keyed_paths[r], bytes);
			s_plain = keyed_stream(plain, NULL, plain_paths[r], bytes);
		} else {
			s_plain = keyed_stream(plain, NULL, plain_paths[r], bytes);
			s_keyed = keyed_stream(keyed, key, keyed_paths[r], bytes);
		}
		printf("stream_plain %.1f\nstream_keyed %.1f\n", s_plain, s_keyed);
		fflush(stdout);
	}
	return 0;
}
