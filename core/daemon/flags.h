// SPDX-License-Identifier: Apache-2.0
//
// flags.h - circuitd's flags: the one table its --help and the circuitd(8)
// man page (generated at build time by cli/gen-man.c) are both made from.
// Included by core/daemon/main.c and the generator only; each gets its own
// copy of the static option storage.
#pragma once

#include <glib.h>

#define DAEMON_PARAMETER_STRING "- the circuit server"
#define DAEMON_SUMMARY                                                                             \
	"Serves this host's part of the circuit: processes, channels, DNS and containers at "      \
	"anchors."

static struct {
	char *addr;
	char *iface;
	char **join;
	char *discover;
	char *hmac;
	char *plugins;
	char *plugin_dir;
	gboolean docker;
	char *docker_host;
	char **docker_allow_bind;
	char *log;
	double grace;
	gboolean version;
	gboolean verbose;
	/* Membership tuning (MemberConfig); G_MININT: the default. */
	int probe_interval;
	int probe_timeout;
	int suspicion_mult;
	int gossip_interval;
	int push_pull_interval;
	int reconnect_interval;
	int max_members;
	/* What one client may cost (TransportLimits, RouterLimits). */
	gint64 max_conn_output;
	int max_conns;
	int max_conns_per_source;
	int handshake_rate;
	double idle_timeout;
	int max_anchors;
	char **plugin_option;
	char *help_plugin;
	gboolean describe_plugins;
	char *plugin_options;
	int liveness;
	int log_fsync;
	gboolean insecure;
	char *socket_path;
	char *acl;
	char *local_group;
} opt = {.grace = 3.0,
         .max_conn_output = 8 << 20,
         .max_conns = 4096,
         .max_conns_per_source = 1024,
         .handshake_rate = 256,
         .idle_timeout = 0.0,
         .max_anchors = 1000000,
         .liveness = 10,
         .probe_interval = G_MININT,
         .probe_timeout = G_MININT,
         .suspicion_mult = G_MININT,
         .gossip_interval = G_MININT,
         .push_pull_interval = G_MININT,
         .reconnect_interval = G_MININT,
         .max_members = G_MININT};

static GOptionEntry daemon_entries[] = {
        {"addr", 'a', 0, G_OPTION_ARG_STRING, &opt.addr, "Listen on HOST[:PORT] (port 11022)",
         "HOST[:PORT]"},
        {"if", 0, 0, G_OPTION_ARG_STRING, &opt.iface, "Listen on the IPv4 address of IFACE",
         "IFACE"},
        {"join", 'j', 0, G_OPTION_ARG_STRING_ARRAY, &opt.join, "Join the server at URL", "URL"},
        {"discover", 0, 0, G_OPTION_ARG_STRING, &opt.discover,
         "Find and announce servers on multicast MCAST:PORT (default $CIRCUIT_DISCOVER)",
         "MCAST:PORT"},
        {"hmac", 0, 0, G_OPTION_ARG_FILENAME, &opt.hmac, "Key file: admit only holders of the key",
         "FILE"},
        {"insecure", 0, 0, G_OPTION_ARG_NONE, &opt.insecure,
         "Serve other hosts without a key: whoever reaches the address may run programs "
         "here (refused without this flag; warned at start and every hour)",
         NULL},
        {"socket", 0, 0, G_OPTION_ARG_FILENAME, &opt.socket_path,
         "Also listen on the unix socket PATH (mode 0660, group of --local-group): local "
         "callers are known by their account and need no key",
         "PATH"},
        {"local-group", 0, 0, G_OPTION_ARG_STRING, &opt.local_group,
         "Local accounts in GROUP may use this server (besides root and the server's own "
         "account; default circuit)",
         "GROUP"},
        {"acl", 0, 0, G_OPTION_ARG_FILENAME, &opt.acl,
         "Access rules: who (keys, users, groups) may do what where; reloaded on SIGHUP "
         "(default: every admitted caller may do everything)",
         "FILE"},
        {"plugins", 0, 0, G_OPTION_ARG_STRING, &opt.plugins,
         "Load exactly these element kinds (default: every installed one)", "KIND,..."},
        {"plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt.plugin_dir, "Where plugins are", "DIR"},
        {"docker", 0, 0, G_OPTION_ARG_NONE, &opt.docker, "Load the docker kind too", NULL},
        {"docker-host", 0, 0, G_OPTION_ARG_STRING, &opt.docker_host,
         "Docker engine socket (default $DOCKER_HOST or unix:///var/run/docker.sock)",
         "unix:///PATH"},
        {"docker-allow-bind", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt.docker_allow_bind,
         "Let containers bind host paths under DIR (repeatable; without it no host path may be "
         "bound; never /, the engine socket or a directory holding it)",
         "DIR"},
        {"log", 0, 0, G_OPTION_ARG_FILENAME, &opt.log, "Write the op log to FILE (default stderr)",
         "FILE"},
        {"log-fsync", 0, 0, G_OPTION_ARG_INT, &opt.log_fsync,
         "Flush the op log to disk every MS milliseconds when it was written (0: leave it to "
         "the kernel)",
         "MS"},
        {"grace", 0, 0, G_OPTION_ARG_DOUBLE, &opt.grace,
         "Seconds between SIGTERM and SIGKILL when releasing processes (3)", "SECONDS"},
        {"probe-interval", 0, 0, G_OPTION_ARG_INT, &opt.probe_interval,
         "Membership: probe one server every MS milliseconds (1000)", "MS"},
        {"probe-timeout", 0, 0, G_OPTION_ARG_INT, &opt.probe_timeout,
         "Membership: wait MS milliseconds for a direct ack before asking others (500)", "MS"},
        {"suspicion-mult", 0, 0, G_OPTION_ARG_INT, &opt.suspicion_mult,
         "Membership: a suspect is declared dead after N * log10(members) probe periods at "
         "least (4)",
         "N"},
        {"gossip-interval", 0, 0, G_OPTION_ARG_INT, &opt.gossip_interval,
         "Membership: gossip every MS milliseconds (200)", "MS"},
        {"push-pull-interval", 0, 0, G_OPTION_ARG_INT, &opt.push_pull_interval,
         "Membership: exchange the whole view with one server every MS milliseconds (30000; "
         "0: never)",
         "MS"},
        {"reconnect-interval", 0, 0, G_OPTION_ARG_INT, &opt.reconnect_interval,
         "Membership: try one dead server every MS milliseconds, which heals partitions "
         "(30000; 0: never)",
         "MS"},
        {"max-conn-output", 0, 0, G_OPTION_ARG_INT64, &opt.max_conn_output,
         "Bytes queued for one connection before the server stops reading its requests and "
         "producing its output (8388608)",
         "BYTES"},
        {"max-conns", 0, 0, G_OPTION_ARG_INT, &opt.max_conns,
         "Accepted connections at once; at the cap the idlest is closed first (4096)", "N"},
        {"max-conns-per-source", 0, 0, G_OPTION_ARG_INT, &opt.max_conns_per_source,
         "Accepted connections at once from one address (1024)", "N"},
        {"handshake-rate", 0, 0, G_OPTION_ARG_INT, &opt.handshake_rate,
         "Keyed: key handshakes answered a second before new ones must first prove, with a "
         "cookie, that they hold the key (256)",
         "N"},
        {"idle-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt.idle_timeout,
         "Seconds a connection with no operation under way may stay open (0: no limit; at "
         "--max-conns or out of descriptors the idlest is closed first)",
         "SECONDS"},
        {"max-anchors", 0, 0, G_OPTION_ARG_INT, &opt.max_anchors,
         "Anchors this server holds at most; a mk beyond it fails (1000000)", "N"},
        {"liveness", 0, 0, G_OPTION_ARG_INT, &opt.liveness,
         "Seconds a client or server connection may go unanswered before it is given up "
         "(TCP keepalive and user timeout; 10; 0: the kernel's defaults)",
         "SECONDS"},
        {"plugin-option", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt.plugin_option,
         "Set a plugin's option, e.g. chan.max-held=256M (repeatable; --help-plugin KIND "
         "lists a kind's)",
         "KIND.KEY=VALUE"},
        {"plugin-options", 0, 0, G_OPTION_ARG_FILENAME, &opt.plugin_options,
         "Plugin options from FILE, one KIND.KEY=VALUE a line (# comments); read again on "
         "SIGHUP, where reloadable keys take new values (--plugin-option wins)",
         "FILE"},
        {"help-plugin", 0, 0, G_OPTION_ARG_STRING, &opt.help_plugin,
         "Print what the installed plugin KIND makes, its operations and its options, and exit",
         "KIND"},
        {"describe-plugins", 0, 0, G_OPTION_ARG_NONE, &opt.describe_plugins,
         "Print every installed plugin's kind, operations and usage as one JSON object (what "
         "`circuit help` shows when no server answers), and exit",
         NULL},
        {"max-members", 0, 0, G_OPTION_ARG_INT, &opt.max_members,
         "Membership: servers known at most, this one included; beyond it a newcomer only "
         "replaces the one down longest (4096)",
         "N"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "Log informational messages", NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt.version, "Print the version and exit", NULL},
        {NULL}};
