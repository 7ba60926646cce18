// SPDX-License-Identifier: Apache-2.0
//
// commands.c - the one table of the CLI's commands and global flags. Help
// output and the man pages are generated from it.
#include "commands.h"

#include <string.h>

const CliCommand cli_commands[] = {
        {"ls", "[-l] [--json] [--depth] PATH[/...]",
         "List the anchors under PATH; PATH/... lists every descendant.",
         "Prints absolute paths, one per line. With -l (--long), the element kind comes first "
         "(\"-\" for an anchor without element, \"server\" for a server) and what to check "
         "first follows the path: a server's address and state (alive, suspect), an "
         "element's status words from its kind (proc: Phase, Pid, ExitCode, CPU, RSS; chan: "
         "Pending, Cap, Closed; dns: Address, Records; docker: Phase, Image; subscription: "
         "Pending, Closed). With --json, one JSON object per line ({\"path\", \"kind\", "
         "\"addr\", \"state\", \"status\"}); with --depth (-de), children before their "
         "parent. \"ls /\" lists the servers, sorted; \"ls /...\" walks every server's "
         "tree."},
        {"peek", "PATH", "Describe the element (or server) at PATH as JSON.",
         "For a process: Cmd, Phase, Exit, Pid, ExitCode, Signal, Started, Ended. For a "
         "server anchor /X...: its address, start time, version and plugins."},
        {"scrub", "PATH", "Remove the element at PATH and release what it holds.",
         "A running process group gets SIGTERM, then SIGKILL after the server's grace period."},
        {"mkproc", "[-scrub] PATH",
         "Run a process at PATH; its spec (JSON) is read from standard input.",
         "Spec keys (case-insensitive): Path (required), Args, Env (absent: inherit the "
         "server's; []: empty), Dir, Scrub (remove the element when the process exits; same "
         "as -scrub). Unknown keys are refused."},
        {"stdin", "PATH", "Copy standard input to the process; end of input closes its stdin.",
         NULL},
        {"stdout", "PATH", "Stream the process's standard output.",
         "One reader at a time; a reader that stops early leaves what it did not read for the "
         "next one."},
        {"stderr", "PATH", "Stream the process's standard error.", NULL},
        {"wait", "PATH", "Wait for the process to exit and print its status.",
         "Exits 5 if the process exited non-zero or was killed by a signal."},
        {"waitall", "[-first]", "Wait for every process whose path is a line of standard input.",
         "Prints \"PATH RESULT\" (the wait result as JSON) as each one ends. Exits 0 if all "
         "exited 0, else 5, naming the failed ones on standard error. With -first, returns "
         "when the first one ends, with its outcome."},
        {"signal", "SIGNAL PATH", "Send SIGNAL (HUP, INT, KILL, TERM, USR1, ...) to the process.",
         "Names are case-insensitive, with or without SIG; numbers are accepted too. The "
         "signal goes to the process's group. The original's order (SIGNAL PATH) and the "
         "plugins' usage line (PATH SIGNAL) both work: the path is the word that starts "
         "with /, for every verb."},
        {"stk", "PATH", "Print a server's internal state as JSON (PATH is /X...).",
         "Its connections (peer, caller, streams, queued bytes, idle time), the operations "
         "in flight (op, path, caller, age), its elements by kind, its membership view "
         "(every member with address, state and incarnation) and its counters. The "
         "original printed its goroutines' stacks; this is a C server's equivalent."},
        {"join", "PATH URL", "Make the running server at PATH join the circuit of URL.",
         "URL is circuit://HOST:PORT/PID/ID or HOST:PORT, as for circuitd -j. The server at "
         "URL is asked who it is first: a URL nobody answers, or one naming another "
         "server, is reported (exit 1) and nothing is joined; then membership merges the "
         "two circuits. Needs the \"all\" right (or \"join\") under an ACL."},
        {"top", "[PATH]",
         "Show servers and elements with their status, refreshed every second; q quits.",
         "PATH (default /...) is what to watch: /X.../... one server's tree. Processes show "
         "phase, pid, CPU seconds and resident memory. -n COUNT stops after COUNT "
         "refreshes; -i SECONDS sets the interval; without a terminal it prints one "
         "table per refresh."},
        {"mk<kind>", "PATH [ARGS]", "Make an element of any kind a server has loaded.",
         "For example mkchan PATH CAP, mkdns PATH [ADDR], mk@join PATH, mk@leave PATH. "
         "Standard input is read only if the kind asks for a body."},
        {"<verb>", "PATH [ARGS]", "Run an operation a plugin offers on the element at PATH.",
         "For example send, recv and close on channels, set and unset on DNS elements. "
         "Standard input is sent only if the operation asks for it; its output goes to "
         "standard output."},
        {"start", "[circuitd flags]", "Run a circuit server (the same as circuitd).", NULL},
        {"keygen", "[FILE]",
         "Print a fresh 256-bit key (base64) for -hmac / --hmac key files, or write it to "
         "FILE (a new file, mode 0600).",
         "Store it in a file readable only by its owner, give the same file to every server "
         "(--hmac FILE) and client (-hmac FILE or $CIRCUIT_HMAC). Connections then run "
         "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s with the key as admission. A file may hold "
         "several keys, one per line: the first is used to connect, all are accepted."},
        {"help", "[COMMAND]", "Show help for all commands or one.",
         "COMMAND -h (or --help) anywhere on the line shows the same, without dialing. A "
         "word that is not a command but close to one (lsx, peeek) is named as a typo, with "
         "exit 2."},
        {"version", "", "Print the version.", NULL},
        {NULL},
};

const CliFlag cli_flags[] = {
        {"-d", "URL",
         "Dial the server at URL (circuit://HOST:PORT/PID/ID or HOST:PORT); also -dial, "
         "--dial."},
        {"-discover", "MCAST:PORT", "Find a server by multicast (also $CIRCUIT_DISCOVER)."},
        {"-hmac", "FILE", "Key file for keyed servers (also $CIRCUIT_HMAC)."},
        {"-timeout", "DURATION",
         "Give up after DURATION (30s, 500ms, 2m, 1h): the call is cancelled on the server, "
         "through any relay, and the command exits 6."},
        {NULL},
};

const CliCommand *
cli_command_find(const char *name)
{
	for (const CliCommand *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}
