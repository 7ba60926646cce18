// SPDX-License-Identifier: Apache-2.0
//
// circuit-guard - kills the process groups circuitd started once circuitd
// is gone, however it died (even SIGKILL). circuitd spawns it with a pipe
// on stdin and writes "+PGID" / "-PGID" lines; end of file means circuitd
// died. Plain libc on purpose: it must be small and have no state to lose.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUARD_MAX 65536

static long guard_pgids[GUARD_MAX];
static size_t guard_n;

static void
guard_add(long pgid)
{
	if (guard_n < GUARD_MAX)
		guard_pgids[guard_n++] = pgid;
}

static void
guard_remove(long pgid)
{
	for (size_t i = 0; i < guard_n; i++)
		if (guard_pgids[i] == pgid) {
			guard_pgids[i] = guard_pgids[--guard_n];
			return;
		}
}

int
main(void)
{
	/* Terminal signals meant for circuitd must not take the guard down first. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	char line[64];
	while (fgets(line, sizeof line, stdin)) {
		long pgid = strtol(line + 1, NULL, 10);
		if (pgid <= 1)
			continue;
		if (line[0] == '+')
			guard_add(pgid);
		else if (line[0] == '-')
			guard_remove(pgid);
	}
	for (size_t i = 0; i < guard_n; i++)
		kill((pid_t)-guard_pgids[i], SIGKILL);
	return 0;
}
