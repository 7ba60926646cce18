// SPDX-License-Identifier: Apache-2.0
//
// circuitd - the circuit server: parses flags, binds, loads plugins, starts
// the process-group guard, prints its URL and runs the loop until SIGTERM or
// SIGINT, then scrubs every element (terminating the processes it started).
#include "cluster/cluster.h"
#include "peer/peer.h"
#include "plugin/plugin_host.h"
#include "oplog/oplog.h"
#include "router/router.h"
#include "transport/transport.h"
#include "wire/url.h"
#include "flags.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ev.h>
#include "security/keyfile.h"
#include "security/security.h"

#include <gcrypt.h>
#include <sys/resource.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static GLogWriterOutput
daemon_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer user_data)
{
	if ((level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) && !opt.verbose)
		return G_LOG_WRITER_HANDLED;
	const char *domain = NULL, *message = NULL;
	for (gsize i = 0; i < n; i++) {
		if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
		else if (strcmp(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	}
	const char *tag = (level & G_LOG_LEVEL_ERROR)      ? "error: "
	                  : (level & G_LOG_LEVEL_CRITICAL) ? "critical: "
	                  : (level & G_LOG_LEVEL_WARNING)  ? "warning: "
	                                                   : "";
	fprintf(stderr, "circuitd[%s]: %s%s\n", domain ? domain : "core", tag,
	        message ? message : "");
	return G_LOG_WRITER_HANDLED;
}

/* (transfer full) argv with -discover, -if, -docker... in their -- spelling
 * (the original's single-dash long flags). */
static char **
daemon_normalize_args(int argc, char **argv)
{
	char **out = g_new0(char *, argc + 1);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		gboolean single = i > 0 && a[0] == '-' && a[1] != '-' && a[1] && a[2] &&
		                  a[2] != '=' && g_ascii_isalpha(a[2]);
		out[i] = single ? g_strconcat("-", a, NULL) : g_strdup(a);
	}
	return out;
}

static char *
daemon_exe_dir(void)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	return exe ? g_path_get_dirname(exe) : g_strdup(".");
}

/*
 * The plugin folder and circuit-guard are found relative to circuitd itself
 * (CIRCUIT_PLUGIN_REL, CIRCUIT_GUARD_REL: from the sbin folder to where they
 * install), so an install under any prefix finds its own, and the build
 * tree, which lays them out the same way, finds the ones just built.
 */
static char *
daemon_plugin_dir(void)
{
	if (opt.plugin_dir)
		return g_strdup(opt.plugin_dir);
	const char *env = g_getenv("CIRCUIT_PLUGIN_DIR");
	if (env && *env)
		return g_strdup(env);
	g_autofree char *dir = daemon_exe_dir();
	return g_build_filename(dir, CIRCUIT_PLUGIN_REL, NULL);
}

/* Whether @host (an address or "localhost") is this host's loopback. */
static gboolean
daemon_is_loopback(const char *host)
{
	return g_str_has_prefix(host, "127.") || strcmp(host, "::1") == 0 ||
	       strcmp(host, "[::1]") == 0 || strcmp(host, "localhost") == 0;
}

/* An unkeyed server that serves other hosts says so, at start and hourly. */
#define DAEMON_INSECURE_INTERVAL 3600.0
static ev_timer daemon_insecure;
static char *daemon_insecure_msg;

static void
daemon_on_insecure(struct ev_loop *loop, ev_timer *w, int revents)
{
	g_warning("%s", daemon_insecure_msg);
}

/* The first IPv4 address of @iface, or of any non-loopback interface if NULL. */
static char *
daemon_iface_addr(const char *iface)
{
	struct ifaddrs *ifs = NULL;
	char *found = NULL;
	if (getifaddrs(&ifs) != 0)
		return NULL;
	for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
			continue;
		if (iface ? strcmp(i->ifa_name, iface) != 0 : (i->ifa_flags & IFF_LOOPBACK) != 0)
			continue;
		char host[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, host,
		          sizeof host);
		found = g_strdup(host);
	}
	freeifaddrs(ifs);
	return found;
}

/*
 * The unix socket at @path, 0660 and of group @group when that group exists
 * (and this account may give it). A socket left by a server that died is
 * replaced; one a live server answers on is not.
 */
static int
daemon_bind_unix(const char *path, const char *group, GError **error)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "--socket %s: a unix socket's path is at most %zu bytes", path,
		            sizeof sa.sun_path - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct stat st;
	if (fd >= 0 && lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			close(fd);
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
			            "--socket %s: the path exists and is not a socket", path);
			return -1;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		gboolean live =
		        probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			close(fd);
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
			            "--socket %s: another server listens there", path);
			return -1;
		}
		unlink(path);
	}
	/* Created 0600, then opened to the group: never wider than asked. */
	mode_t old = umask(0177);
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "--socket %s: %s", path,
		            g_strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct group *gr = getgrnam(group);
	if (gr && chown(path, (uid_t)-1, gr->gr_gid) == 0)
		chmod(path, 0660);
	else
		g_message("--socket %s: only this account (%s) and root may connect: group %s %s",
		          path, g_get_user_name(), group,
		          gr ? "cannot be given to it" : "does not exist");
	return fd;
}

static int
daemon_bind(const char *host, guint16 port, guint16 *bound_port, GError **error)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *res = NULL;
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "address %s is not a numeric IP address: %s", host, gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
		            "cannot listen on %s:%u: %s", host, port, g_strerror(e));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* Starts circuit-guard; returns the write end of its pipe or -1, and its
 * PID in *@guard_pid. */
static int
daemon_start_guard(pid_t *guard_pid)
{
	g_autofree char *dir = daemon_exe_dir();
	g_autofree char *path = g_build_filename(dir, CIRCUIT_GUARD_REL, NULL);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	pid_t pid;
	char *argv[] = {(char *)"circuit-guard", NULL};
	int rc = posix_spawn(&pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[0]);
	if (rc != 0) {
		g_warning("cannot start %s (%s): processes will not be killed if circuitd is "
		          "killed with SIGKILL",
		          path, g_strerror(rc));
		close(fds[1]);
		return -1;
	}
	*guard_pid = pid;
	return fds[1];
}

/*
 * circuit-guard is watched: if it dies (killed by someone, the OOM killer)
 * a new one is started and told every group, so a later SIGKILL of circuitd
 * still leaves no job behind. Restarts are at least a second apart (a guard
 * that dies at once must not make circuitd spin).
 */
static ev_child daemon_guard_child;
static ev_timer daemon_guard_retry;
static ev_tstamp daemon_guard_started;

static void
daemon_guard_start_watched(struct ev_loop *loop)
{
	pid_t pid = 0;
	host_config.guard_fd = daemon_start_guard(&pid);
	daemon_guard_started = ev_now(loop);
	if (host_config.guard_fd < 0)
		return;
	host_guard_replay();
	ev_child_set(&daemon_guard_child, pid, 0);
	ev_child_start(loop, &daemon_guard_child);
}

static void
daemon_on_guard_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	daemon_guard_start_watched(loop);
}

static void
daemon_on_guard_exit(struct ev_loop *loop, ev_child *w, int revents)
{
	ev_child_stop(loop, w);
	int st = w->rstatus;
	g_warning("circuit-guard (pid %d) %s %d; starting another", (int)w->rpid,
	          WIFSIGNALED(st) ? "was killed by signal" : "exited with status",
	          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (host_config.guard_fd >= 0)
		close(host_config.guard_fd);
	host_config.guard_fd = -1;
	ev_tstamp wait = daemon_guard_started + 1.0 - ev_now(loop);
	if (wait <= 0) {
		daemon_guard_start_watched(loop);
		return;
	}
	ev_timer_set(&daemon_guard_retry, wait, 0);
	ev_timer_start(loop, &daemon_guard_retry);
}

static ev_signal daemon_sigterm, daemon_sigint, daemon_sighup;
static const char *daemon_key_path;

/*
 * The keys datagrams are sealed and opened with, and this server connects
 * with: every key, or with --acl those the rules make servers' (so a key
 * given to a client cannot speak for a server). The first key, which this
 * server connects with, must be one.
 */
static GByteArray *
daemon_server_keys(const Keyfile *keys, const char *path, GError **error)
{
	GByteArray *out = g_byte_array_new();
	for (gsize i = 0; i < keyfile_get_n_keys(keys); i++) {
		g_autoptr(Caller) c = caller_new_key(keyfile_get_name(keys, i), NULL);
		if (acl_is_server(c)) {
			g_byte_array_append(out, keyfile_get_key(keys, i), KEYFILE_KEY_LEN);
		} else if (i == 0) {
			g_byte_array_free(out, TRUE);
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			            "the first key of %s (\"%s\") is the one this server connects "
			            "with, so the --acl file must make it a server's (a line "
			            "\"key:%s server\")",
			            path, keyfile_get_name(keys, 0), keyfile_get_name(keys, 0));
			return NULL;
		}
	}
	return out;
}

static void
daemon_server_keys_free(GByteArray *keys)
{
	explicit_bzero(keys->data, keys->len);
	g_byte_array_free(keys, TRUE);
}

/* Every key, with its name, for connections. */
static void
daemon_transport_keys(const Keyfile *keys)
{
	gsize n = keyfile_get_n_keys(keys);
	g_auto(GStrv) names = g_new0(char *, n + 1);
	for (gsize i = 0; i < n; i++)
		names[i] = g_strdup(keyfile_get_name(keys, i));
	transport_set_keys(keyfile_get_keys(keys), n, (const char *const *)names);
}

/* "KIND.KEY=VALUE" -> (transfer full) key, value; FALSE if malformed. */
static gboolean
daemon_split_option(const char *text, char **key, char **value)
{
	const char *eq = strchr(text, '=');
	const char *dot = strchr(text, '.');
	if (!eq || !dot || dot > eq || dot == text || eq == dot + 1)
		return FALSE;
	*key = g_strndup(text, (gsize)(eq - text));
	*value = g_strdup(eq + 1);
	return TRUE;
}

/* --plugin-options FILE: KIND.KEY=VALUE lines, blank and # lines skipped. */
static gboolean
daemon_read_plugin_options(const char *file, GHashTable *into, GError **error)
{
	g_autofree char *text = NULL;
	if (!g_file_get_contents(file, &text, NULL, error)) {
		g_prefix_error(error, "--plugin-options: ");
		return FALSE;
	}
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *line = g_strstrip(lines[i]);
		if (!*line || *line == '#')
			continue;
		char *key = NULL, *value = NULL;
		if (!daemon_split_option(line, &key, &value)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			            "--plugin-options %s line %u: \"%s\": expected KIND.KEY=VALUE",
			            file, i + 1, line);
			return FALSE;
		}
		g_hash_table_insert(into, key, value);
	}
	return TRUE;
}

static GHashTable *daemon_plugins;

/* A KIND.KEY the user gave for a kind not loaded here is ignored, and said
 * (a typo of the kind, or an options file shared with other hosts). */
static void
daemon_warn_unloaded(GHashTable *plugins)
{
	g_autoptr(GHashTable) given =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (opt.plugin_options)
		daemon_read_plugin_options(opt.plugin_options, given, NULL);
	for (guint i = 0; opt.plugin_option && opt.plugin_option[i]; i++) {
		char *key = NULL, *value = NULL;
		if (daemon_split_option(opt.plugin_option[i], &key, &value))
			g_hash_table_insert(given, key, value);
	}
	g_autoptr(GList) keys = g_hash_table_get_keys(given);
	keys = g_list_sort(keys, (GCompareFunc)strcmp);
	for (GList *l = keys; l; l = l->next) {
		const char *key = l->data;
		g_autofree char *kind = g_strndup(key, (gsize)(strchr(key, '.') - key));
		if (!g_hash_table_contains(plugins, kind))
			g_warning("plugin option %s: no plugin %s is loaded here; ignored", key,
			          kind);
	}
}

/* SIGHUP with --plugin-options: changed values of reloadable keys that pass
 * their checks take effect (their plugins' reconfigure() runs); others are
 * named in the log and keep their values. --plugin-option always wins. */
static void
daemon_reload_plugin_options(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) fresh =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (!daemon_read_plugin_options(opt.plugin_options, fresh, &error)) {
		g_warning("SIGHUP: keeping the plugin options: %s", error->message);
		return;
	}
	g_autoptr(GHashTable) changed = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, fresh);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *key = k, *value = v;
		gboolean on_line = FALSE;
		for (guint i = 0; opt.plugin_option && opt.plugin_option[i]; i++)
			on_line |= g_str_has_prefix(opt.plugin_option[i], key) &&
			           opt.plugin_option[i][strlen(key)] == '=';
		if (on_line || g_strcmp0(g_hash_table_lookup(host_config.options, key), value) == 0)
			continue;
		g_autofree char *kind = g_strndup(key, (gsize)(strchr(key, '.') - key));
		Plugin *p = daemon_plugins ? g_hash_table_lookup(daemon_plugins, kind) : NULL;
		const CircuitPluginOption *o =
		        p ? plugin_option_find(p, strchr(key, '.') + 1) : NULL;
		if (!o || !(o->flags & CIRCUIT_OPTION_RELOADABLE)) {
			g_warning("SIGHUP: plugin option %s=%s takes effect only at a restart%s",
			          key, value,
			          o || !p ? "" : " (the plugin declares no such option)");
			continue;
		}
		if (o->check && !o->check(value, &error)) {
			g_warning("SIGHUP: keeping plugin option %s: %s=%s: %s", key, key, value,
			          error->message);
			g_clear_error(&error);
			continue;
		}
		g_hash_table_insert(host_config.options, g_strdup(key), g_strdup(value));
		g_hash_table_add(changed, p->kind);
		g_message("SIGHUP: plugin option %s=%s applied", key, value);
	}
	g_hash_table_iter_init(&it, changed);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		Plugin *p = g_hash_table_lookup(daemon_plugins, k);
		if (!p->init_error && p->desc->reconfigure)
			p->desc->reconfigure(p->host, p->ctx);
	}
}

/*
 * SIGHUP: reads the key file again (key rotation without a restart: add
 * the new key, then put it first, then drop the old one; docs/security.md).
 * Connections already made keep their sessions; new ones use the new list.
 */
static void
daemon_on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (opt.plugin_options)
		daemon_reload_plugin_options();
	g_autoptr(GError) error = NULL;
	Acl *acl = NULL;
	if (opt.acl) {
		acl = acl_load(opt.acl, &error);
		if (!acl) {
			g_warning("SIGHUP: keeping the current keys and rules: %s", error->message);
			return;
		}
	}
	if (!daemon_key_path) {
		if (opt.acl) {
			g_message("SIGHUP: %u rule(s) loaded from %s", acl_n_rules(acl), opt.acl);
			acl_set(acl);
		} else if (!opt.plugin_options) {
			g_message("SIGHUP: this server runs without a key, --acl or "
			          "--plugin-options; nothing to reload");
		}
		return;
	}
	Keyfile *keys = keyfile_load(daemon_key_path, &error);
	if (!keys) {
		g_warning("SIGHUP: keeping the current keys and rules: %s", error->message);
		acl_free(acl);
		return;
	}
	/* The server keys are judged by the new rules, but take effect only
	 * if everything loads. */
	Acl *old = NULL;
	if (opt.acl) {
		old = acl;
		acl_swap(&old);
	}
	GByteArray *server_keys = daemon_server_keys(keys, daemon_key_path, &error);
	if (!server_keys ||
	    !cluster_set_keys(server_keys->data, server_keys->len / KEYFILE_KEY_LEN, &error)) {
		g_warning("SIGHUP: keeping the current keys and rules: %s", error->message);
		if (opt.acl)
			acl_swap(&old);
		acl_free(old);
		if (server_keys)
			daemon_server_keys_free(server_keys);
		keyfile_free(keys);
		return;
	}
	acl_free(old);
	daemon_transport_keys(keys);
	peer_init(keyfile_get_key(keys, 0));
	g_message("SIGHUP: %zu key(s) loaded from %s%s", keyfile_get_n_keys(keys), daemon_key_path,
	          opt.acl ? ", and the rules of --acl" : "");
	daemon_server_keys_free(server_keys);
	keyfile_free(keys);
}
/*
 * Memory freed after a burst (abandoned bodies, a listing, a flood) goes
 * back to the kernel once it exceeds 16 MiB: malloc keeps it in its free
 * lists otherwise, and the server would look as if it still held it.
 */
static ev_timer daemon_trim;
#define DAEMON_TRIM_INTERVAL 5.0
#define DAEMON_TRIM_FREE     (16u << 20)

static void
daemon_on_trim(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mallinfo2 mi = mallinfo2();
	if (mi.fordblks > DAEMON_TRIM_FREE)
		malloc_trim(4u << 20);
}

static ev_timer daemon_drain;
static ev_tstamp daemon_drain_deadline;
/* A clustered server keeps the loop running this long after SIGTERM, so its
 * departure is gossiped (docs/membership.md, "Leaving"). */
static ev_tstamp daemon_leave_until;

static void
daemon_on_drain(struct ev_loop *loop, ev_timer *w, int revents)
{
	if ((element_live_count() == 0 && ev_now(loop) >= daemon_leave_until) ||
	    ev_now(loop) >= daemon_drain_deadline)
		ev_break(loop, EVBREAK_ALL);
}

static void
daemon_on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (ev_is_active(&daemon_drain)) {
		ev_break(loop, EVBREAK_ALL); /* a second signal: leave now */
		return;
	}
	g_message("signal %d: stopping; releasing every element", w->signum);
	if (cluster_member()) {
		cluster_leave();
		daemon_leave_until = ev_now(loop) + 1.0;
	}
	transport_shutdown();
	router_scrub_all();
	daemon_drain_deadline = ev_now(loop) + opt.grace + 2.0;
	ev_timer_init(&daemon_drain, daemon_on_drain, 0.0, 0.05);
	ev_timer_start(loop, &daemon_drain);
}

/* Many clients (and half-open connections) need descriptors: take the hard limit. */
static void
daemon_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = MIN(rl.rlim_max, (rlim_t)65536);
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static char *
daemon_new_id(void)
{
	guint8 raw[8];
	gcry_create_nonce(raw, sizeof raw);
	GString *id = g_string_new("X");
	for (int i = 0; i < 8; i++)
		g_string_append_printf(id, "%02x", raw[i]);
	return g_string_free(id, FALSE);
}

static int
daemon_fail(const char *message)
{
	fprintf(stderr, "circuitd: %s\n", message);
	return 2;
}

/* circuitd --help-plugin KIND: the descriptor of an installed plugin. */
static int
daemon_help_plugin(const char *kind)
{
	g_autofree char *dir = daemon_plugin_dir();
	g_autoptr(GHashTable) plugins =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)plugin_free);
	const char *only[] = {kind, NULL};
	g_autoptr(GError) error = NULL;
	if (!plugin_load_dir(dir, only, plugins, &error))
		return daemon_fail(error->message);
	const Plugin *p = g_hash_table_lookup(plugins, kind);
	const CircuitPluginDescriptor *d = p->desc;
	printf("%s %s: %s\n", p->kind, d->version ? d->version : "", d->summary ? d->summary : "");
	printf("  mk%s PATH%s%s%s\n", p->kind, d->make_args_usage && *d->make_args_usage ? " " : "",
	       d->make_args_usage ? d->make_args_usage : "",
	       d->make_flags & CIRCUIT_OP_BODY ? " < SPEC" : "");
	for (guint i = 0; p->aliases && p->aliases[i]; i++)
		printf("  mk%s PATH (also made by this plugin)\n", p->aliases[i]);
	if (d->n_ops)
		printf("operations:\n");
	for (guint i = 0; i < d->n_ops; i++) {
		const CircuitOp *op = &d->ops[i];
		g_autofree char *usage = g_strdup_printf(
		        "%s PATH%s%s", op->name, op->args_usage && *op->args_usage ? " " : "",
		        op->args_usage ? op->args_usage : "");
		printf("  %-28s %s\n", usage, op->summary ? op->summary : "");
	}
	const CircuitPluginOption *opts = plugin_options(p);
	printf("options (--plugin-option %s.KEY=VALUE):%s\n", p->kind,
	       opts && opts[0].key ? "" : " none declared");
	for (guint i = 0; opts && opts[i].key; i++) {
		g_autofree char *usage =
		        g_strdup_printf("%s.%s=%s", p->kind, opts[i].key,
		                        opts[i].value_usage ? opts[i].value_usage : "VALUE");
		printf("  %-28s %s\n", usage, opts[i].summary ? opts[i].summary : "");
	}
	return 0;
}

/* circuitd --describe-plugins: every installed plugin as the server's peek
 * shows it under "Kinds", one JSON object on standard output. */
static int
daemon_describe_plugins(void)
{
	g_autofree char *dir = daemon_plugin_dir();
	g_autoptr(GHashTable) plugins =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)plugin_free);
	g_autoptr(GError) error = NULL;
	if (!plugin_load_dir(dir, NULL, plugins, &error))
		return daemon_fail(error->message);
	g_autoptr(JsonObject) kinds = json_object_new();
	g_autoptr(GList) names = g_hash_table_get_keys(plugins);
	names = g_list_sort(names, (GCompareFunc)strcmp);
	for (GList *l = names; l; l = l->next)
		json_object_set_object_member(
		        kinds, l->data, plugin_describe(g_hash_table_lookup(plugins, l->data)));
	g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), kinds);
	g_autofree char *text = json_to_string(node, FALSE);
	printf("%s\n", text);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/* What start-up learns, step by step, and main() hands to the next step. */
typedef struct {
	const char *key_path; /* --hmac or $CIRCUIT_HMAC; NULL: unkeyed */
	const char *discover; /* --discover or $CIRCUIT_DISCOVER; NULL: none */
	MemberConfig member_cfg;
	Keyfile *keys; /* kept for the cluster's datagram keys, freed after start */
	GByteArray *server_keys;
	Url where; /* the address to listen on */
	char *iface_addr;
	guint16 port;
	int lfd, unix_fd;
	gboolean open_door; /* unkeyed off loopback (--insecure) */
	char *url_host, *id, *url, *hostport;
	ClusterOptions cluster_options;
	GHashTable *options; /* plugin options, KIND.KEY -> VALUE */
	char *docker_allow_bind;
	char *plugin_dir;
	GHashTable *plugins;
} DaemonStart;

static void
daemon_start_clear(DaemonStart *d)
{
	keyfile_free(d->keys);
	if (d->server_keys)
		daemon_server_keys_free(d->server_keys);
	url_clear(&d->where);
	g_free(d->iface_addr);
	g_free(d->url_host);
	g_free(d->id);
	g_free(d->url);
	g_free(d->hostport);
	g_free(d->docker_allow_bind);
	g_free(d->plugin_dir);
	/* Plugins go after the router released every element. */
	if (d->plugins)
		g_hash_table_unref(d->plugins);
	if (d->options)
		g_hash_table_unref(d->options);
}

static gboolean daemon_refuse(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Sets @error to a usage error (circuitd exits 2 with it); returns FALSE. */
static gboolean
daemon_refuse(GError **error, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error_literal(error, CIRCUIT_ERROR, CIRCUIT_ERROR_USAGE, message);
	return FALSE;
}

/* Step 1: flags. Returns -1 to go on, or the exit code (--version, --help-plugin, a bad flag). */
static int
daemon_parse_flags(int argc, char **argv)
{
	g_auto(GStrv) args = daemon_normalize_args(argc, argv);
	g_autoptr(GOptionContext) ctx = g_option_context_new(DAEMON_PARAMETER_STRING);
	g_option_context_add_main_entries(ctx, daemon_entries, NULL);
	g_option_context_set_summary(ctx, DAEMON_SUMMARY);
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse_strv(ctx, &args, &error)) {
		g_autofree char *m = g_strdup_printf("%s (see circuitd --help)", error->message);
		return daemon_fail(m);
	}
	if (opt.version) {
		printf("circuitd %s\n", CIRCUIT_VERSION);
		return 0;
	}
	if (opt.help_plugin)
		return daemon_help_plugin(opt.help_plugin);
	if (opt.describe_plugins)
		return daemon_describe_plugins();
	if (args[0] && args[1]) {
		g_autofree char *m = g_strdup_printf("unexpected argument \"%s\"", args[1]);
		return daemon_fail(m);
	}
	return -1;
}

/* Step 2: the numeric flags, checked, into the membership configuration and
 * the transport's and router's limits. */
static gboolean
daemon_apply_limits(DaemonStart *d, GError **error)
{
	d->key_path = opt.hmac ? opt.hmac : g_getenv("CIRCUIT_HMAC");
	if (d->key_path && !*d->key_path)
		d->key_path = NULL;
	d->discover = opt.discover ? opt.discover : g_getenv("CIRCUIT_DISCOVER");
	if (d->discover && !*d->discover)
		d->discover = NULL;
	MemberConfig *m = &d->member_cfg;
	member_config_init(m);
	if (opt.probe_interval != G_MININT)
		m->probe_interval_ms = opt.probe_interval;
	if (opt.probe_timeout != G_MININT)
		m->probe_timeout_ms = opt.probe_timeout;
	if (opt.suspicion_mult != G_MININT) {
		if (opt.suspicion_mult < 1)
			return daemon_refuse(error, "--suspicion-mult must be at least 1");
		m->suspicion_mult = (guint)opt.suspicion_mult;
	}
	if (opt.gossip_interval != G_MININT)
		m->gossip_interval_ms = opt.gossip_interval;
	if (opt.push_pull_interval != G_MININT)
		m->push_pull_interval_ms = opt.push_pull_interval;
	if (opt.reconnect_interval != G_MININT)
		m->reconnect_interval_ms = opt.reconnect_interval;
	if (opt.max_members != G_MININT) {
		if (opt.max_members < 2)
			return daemon_refuse(error, "--max-members must be at least 2");
		m->max_members = (guint)opt.max_members;
	}
	if (opt.grace < 0 || opt.grace > 3600)
		return daemon_refuse(error, "--grace must be between 0 and 3600 seconds");
	if (opt.max_conn_output < 65536)
		return daemon_refuse(error, "--max-conn-output must be at least 65536 bytes");
	if (opt.max_conns < 1 || opt.max_conns_per_source < 1)
		return daemon_refuse(error,
		                     "--max-conns and --max-conns-per-source must be at least 1");
	if (opt.handshake_rate < 1)
		return daemon_refuse(error, "--handshake-rate must be at least 1");
	if (opt.idle_timeout < 0)
		return daemon_refuse(error, "--idle-timeout must not be negative");
	if (opt.liveness < 0 || opt.liveness > 3600)
		return daemon_refuse(error, "--liveness must be between 0 and 3600 seconds");
	if (opt.max_anchors < 1)
		return daemon_refuse(error, "--max-anchors must be at least 1");
	TransportLimits limits = {.conn_output_max = (gsize)opt.max_conn_output,
	                          .max_conns = (guint)opt.max_conns,
	                          .max_conns_per_source = (guint)opt.max_conns_per_source,
	                          .handshakes_per_second = (guint)opt.handshake_rate,
	                          .idle_timeout = opt.idle_timeout,
	                          .liveness = (guint)opt.liveness};
	transport_set_limits(&limits);
	router_set_max_anchors((guint)opt.max_anchors);
	return TRUE;
}

/* Step 3: crypto, the access rules, the cluster key. */
static gboolean
daemon_load_security(DaemonStart *d, GError **error)
{
	if (!security_init(error))
		return FALSE;
	acl_set_local_group(opt.local_group ? opt.local_group : "circuit");
	if (opt.acl) {
		Acl *acl = acl_load(opt.acl, error);
		if (!acl)
			return FALSE;
		acl_set(acl);
	}
	if (d->key_path) {
		d->keys = keyfile_load(d->key_path, error);
		if (!d->keys)
			return FALSE;
		d->server_keys = daemon_server_keys(d->keys, d->key_path, error);
		if (!d->server_keys)
			return FALSE;
		daemon_transport_keys(d->keys);
	}
	daemon_raise_nofile();
	return TRUE;
}

/* Which address -a / -if / the defaults name. */
static gboolean
daemon_pick_address(DaemonStart *d, GError **error)
{
	if (opt.iface) {
		d->iface_addr = daemon_iface_addr(opt.iface);
		if (!d->iface_addr)
			return daemon_refuse(
			        error, "-if %s: no such interface with an IPv4 address that is up",
			        opt.iface);
	}
	if (opt.addr) {
		if (!url_parse(opt.addr, TRUE, &d->where, error))
			return FALSE;
	} else {
		/* Open access must be asked for; a keyed server admits only key holders. */
		d->where.host = g_strdup(d->iface_addr ? d->iface_addr
		                         : d->key_path ? "0.0.0.0"
		                                       : "127.0.0.1");
		d->where.port = URL_DEFAULT_PORT;
		if (!d->iface_addr && !d->key_path)
			g_message("listening on 127.0.0.1 only; use -a ADDR or -if IFACE to serve "
			          "other hosts");
	}
	if (opt.iface && opt.addr && strcmp(d->where.host, d->iface_addr) != 0) {
		g_free(d->where.host);
		d->where.host = g_strdup(d->iface_addr);
	}
	return TRUE;
}

/* Step 4: the listening sockets, this server's ID and URL, and the
 * membership options (checked now, before plugins say anything). */
static gboolean
daemon_listen(DaemonStart *d, GError **error)
{
	if (!daemon_pick_address(d, error))
		return FALSE;
	d->lfd = daemon_bind(d->where.host, d->where.port, &d->port, error);
	if (d->lfd < 0)
		return FALSE;
	/* No open door by default: unkeyed off loopback must be asked for (checked
	 * after the address itself, so a bad one is named as such). */
	d->open_door = !d->key_path && !daemon_is_loopback(d->where.host);
	if (d->open_door && !opt.insecure)
		return daemon_refuse(
		        error,
		        "refusing to listen on %s without a key: anyone who can reach it could run "
		        "programs as %s here; give the cluster a key (circuit keygen FILE; --hmac "
		        "FILE), or --insecure to serve it unkeyed anyway",
		        d->where.host, g_get_user_name());
	if (opt.socket_path) {
		d->unix_fd = daemon_bind_unix(opt.socket_path,
		                              opt.local_group ? opt.local_group : "circuit", error);
		if (d->unix_fd < 0)
			return FALSE;
	}
	/* The URL never names an unspecified address. */
	if (strcmp(d->where.host, "0.0.0.0") == 0 || strcmp(d->where.host, "::") == 0) {
		d->url_host = daemon_iface_addr(NULL);
		if (!d->url_host)
			d->url_host = g_strdup("127.0.0.1");
	} else {
		d->url_host = g_strdup(d->where.host);
	}
	d->id = daemon_new_id();
	d->url = url_format(d->url_host, d->port, (long)getpid(), d->id);
	d->hostport = strchr(d->url_host, ':') ? g_strdup_printf("[%s]:%u", d->url_host, d->port)
	                                       : g_strdup_printf("%s:%u", d->url_host, d->port);
	d->cluster_options = (ClusterOptions){
	        .server_id = d->id,
	        .addr = d->hostport,
	        .url = d->url,
	        .bind_host = d->where.host,
	        .port = d->port,
	        .join = (const char *const *)opt.join,
	        .discover = d->discover,
	        .iface = opt.iface,
	        .keys = d->server_keys ? d->server_keys->data : NULL,
	        .n_keys = d->server_keys ? d->server_keys->len / KEYFILE_KEY_LEN : 0,
	        .config = &d->member_cfg,
	};
	return cluster_options_check(&d->cluster_options, error);
}

/* Step 5: the host's configuration for plugins (their options from
 * --plugin-options, --plugin-option and the docker flags) and the op log. */
static gboolean
daemon_configure_host(DaemonStart *d, GError **error)
{
	host_config.server_id = d->id;
	host_config.server_addr = d->url_host;
	host_config.grace = opt.grace;
	d->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	host_config.options = d->options;
	if (opt.plugin_options &&
	    !daemon_read_plugin_options(opt.plugin_options, d->options, error))
		return FALSE;
	const char *docker_host = opt.docker_host ? opt.docker_host : g_getenv("DOCKER_HOST");
	if (docker_host)
		g_hash_table_insert(d->options, g_strdup("docker.host"), g_strdup(docker_host));
	for (guint i = 0; opt.plugin_option && opt.plugin_option[i]; i++) {
		g_autofree char *key = NULL, *value = NULL;
		if (!daemon_split_option(opt.plugin_option[i], &key, &value))
			return daemon_refuse(error,
			                     "--plugin-option \"%s\": expected KIND.KEY=VALUE",
			                     opt.plugin_option[i]);
		g_hash_table_insert(d->options, g_steal_pointer(&key), g_steal_pointer(&value));
	}
	/* --docker-allow-bind DIR...: the docker plugin reads them one per line. */
	d->docker_allow_bind =
	        opt.docker_allow_bind ? g_strjoinv("\n", opt.docker_allow_bind) : NULL;
	if (d->docker_allow_bind)
		g_hash_table_insert(d->options, g_strdup("docker.allow-bind"),
		                    g_strdup(d->docker_allow_bind));

	if (opt.log_fsync < 0)
		return daemon_refuse(error, "--log-fsync must not be negative");
	if (!oplog_open(opt.log, error))
		return FALSE;
	oplog_start(d->id, d->url);
	oplog_set_fsync((guint)opt.log_fsync);
	return TRUE;
}

/* Step 6: plugins: load (all checks), then init; one that fails to init is
 * left out with a warning. */
static gboolean
daemon_load_plugins(DaemonStart *d, GError **error)
{
	d->plugin_dir = daemon_plugin_dir();
	d->plugins =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)plugin_free);
	g_auto(GStrv) only = NULL;
	if (opt.plugins) {
		only = g_strsplit(opt.plugins, ",", -1);
		if (opt.docker && !g_strv_contains((const char *const *)only, "docker")) {
			guint n = g_strv_length(only);
			only = g_renew(char *, only, n + 2);
			only[n] = g_strdup("docker");
			only[n + 1] = NULL;
		}
	}
	if (!plugin_load_dir(d->plugin_dir, (const char *const *)only, d->plugins, error))
		return FALSE;
	if (!plugin_check_options(d->plugins, d->options, error))
		return FALSE;
	daemon_warn_unloaded(d->plugins);
	daemon_plugins = d->plugins;
	if (opt.docker && !g_hash_table_contains(d->plugins, "docker"))
		return daemon_refuse(error, "--docker: no docker plugin in %s", d->plugin_dir);
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, d->plugins);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		GError *e = NULL;
		if (!plugin_init(value, &e)) {
			g_warning("%s; starting without it", e->message);
			g_error_free(e);
		}
	}
	return TRUE;
}

/* Step 7: serve: the guard, the router on the transport, peers, membership. */
static gboolean
daemon_serve(DaemonStart *d, GError **error)
{
	ev_child_init(&daemon_guard_child, daemon_on_guard_exit, 0, 0);
	ev_timer_init(&daemon_guard_retry, daemon_on_guard_retry, 1.0, 0);
	daemon_guard_start_watched(EV_DEFAULT);
	router_init(d->id, d->url, d->hostport, CIRCUIT_VERSION, d->plugins);
	static const TransportHandlers handlers = {
	        .open = router_open,
	        .hello = router_hello,
	};
	transport_listen(d->lfd, &handlers);
	d->lfd = -1;
	if (d->unix_fd >= 0)
		transport_listen_unix(d->unix_fd);
	d->unix_fd = -1;
	/* Membership on UDP at the same host and port, push-pull over peers. */
	peer_init(d->keys ? keyfile_get_key(d->keys, 0) : NULL);
	gboolean started = cluster_start(&d->cluster_options, error);
	keyfile_free(g_steal_pointer(&d->keys));
	if (d->server_keys)
		daemon_server_keys_free(g_steal_pointer(&d->server_keys));
	return started;
}

/* Step 8: signals, timers, and the warnings an open server gives. */
static void
daemon_watch(DaemonStart *d, struct ev_loop *loop)
{
	ev_signal_init(&daemon_sigterm, daemon_on_signal, SIGTERM);
	ev_signal_init(&daemon_sigint, daemon_on_signal, SIGINT);
	ev_signal_start(loop, &daemon_sigterm);
	ev_signal_start(loop, &daemon_sigint);
	daemon_key_path = d->key_path;
	ev_signal_init(&daemon_sighup, daemon_on_sighup, SIGHUP);
	ev_signal_start(loop, &daemon_sighup);

	ev_timer_init(&daemon_trim, daemon_on_trim, DAEMON_TRIM_INTERVAL, DAEMON_TRIM_INTERVAL);
	ev_timer_start(loop, &daemon_trim);

	if (d->open_door) {
		daemon_insecure_msg = g_strdup_printf(
		        "serving %s:%u without a key (--insecure): anyone who can reach it may run "
		        "programs as %s here",
		        d->where.host, d->port, g_get_user_name());
		g_warning("%s", daemon_insecure_msg);
		ev_timer_init(&daemon_insecure, daemon_on_insecure, DAEMON_INSECURE_INTERVAL,
		              DAEMON_INSECURE_INTERVAL);
		ev_timer_start(loop, &daemon_insecure);
	}
	if (!d->key_path && d->discover)
		g_warning("multicast discovery on %s without a key: any host on that network can "
		          "join this circuit and be joined by it",
		          d->discover);
	for (guint i = 0; !d->key_path && opt.join && opt.join[i]; i++) {
		g_auto(Url) j = {0};
		if (url_parse(opt.join[i], FALSE, &j, NULL) && !daemon_is_loopback(j.host))
			g_warning("joining %s without a key: the cluster's traffic is neither "
			          "authenticated nor private",
			          opt.join[i]);
	}
}

/* Step 9, after the loop: everything stops, in the order it started backwards. */
static void
daemon_stop(void)
{
	element_report_live();
	cluster_stop();
	peer_shutdown();
	transport_shutdown();
	router_free();
	if (opt.socket_path)
		unlink(opt.socket_path);
	oplog_close();
	ev_child_stop(EV_DEFAULT, &daemon_guard_child);
	ev_timer_stop(EV_DEFAULT, &daemon_guard_retry);
	if (host_config.guard_fd >= 0)
		close(host_config.guard_fd);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	/* Frames of up to 1 MiB come and go at a high rate while streaming: keep
	 * a few MiB of heap rather than trimming and faulting it in per frame.
	 * Idle memory is unaffected (nothing is retained before a burst). */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	g_log_set_writer_func(daemon_log_writer, NULL, NULL);
	int rc = daemon_parse_flags(argc, argv);
	if (rc >= 0)
		return rc;

	DaemonStart d = {.lfd = -1, .unix_fd = -1};
	g_autoptr(GError) error = NULL;
	if (!daemon_apply_limits(&d, &error) || !daemon_load_security(&d, &error) ||
	    !daemon_listen(&d, &error) || !daemon_configure_host(&d, &error) ||
	    !daemon_load_plugins(&d, &error) || !daemon_serve(&d, &error)) {
		if (d.lfd >= 0)
			close(d.lfd);
		if (d.unix_fd >= 0)
			close(d.unix_fd);
		rc = daemon_fail(error->message);
		daemon_start_clear(&d);
		return rc;
	}
	struct ev_loop *loop = EV_DEFAULT;
	daemon_watch(&d, loop);
	printf("%s\n", d.url);
	fflush(stdout);

	ev_run(loop, 0);
	daemon_stop();
	daemon_start_clear(&d);
	return 0;
}
