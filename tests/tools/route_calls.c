// SPDX-License-Identifier: Apache-2.0
//
// route_calls.c - test helper: one libcircuit client (one handle, so one
// set of routes) dialed into URL, driven line by line from stdin. Each line
// is "peek PATH"; the helper answers one line on stdout, "ok" or
// "error: MESSAGE", and flushes, so a test can act on the servers between
// two calls of the same handle. Exits 0 at the end of input.
//
// usage: route_calls URL
#include <circuit/client.h>

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: route_calls URL\n");
		return 2;
	}
	GError *error = NULL;
	CircuitClient *client = circuit_client_dial_default_key(argv[1], NULL, &error);
	if (!client) {
		fprintf(stderr, "route_calls: %s\n", error->message);
		g_error_free(error);
		return 3;
	}
	char line[4096];
	while (fgets(line, sizeof line, stdin)) {
		g_strchomp(line);
		if (!g_str_has_prefix(line, "peek ")) {
			fprintf(stderr, "route_calls: unknown command: %s\n", line);
			circuit_client_free(client);
			return 2;
		}
		JsonNode *result = circuit_peek(client, line + 5, &error);
		if (result) {
			printf("ok\n");
			json_node_unref(result);
		} else {
			printf("error: %s\n", error->message);
			g_clear_error(&error);
		}
		fflush(stdout);
	}
	circuit_client_free(client);
	return 0;
}
