// SPDX-License-Identifier: Apache-2.0
//
// docker_spec.c - the container spec of `circuit mkdkr` (keys matched
// case-insensitively, as proc does), the host paths it may bind, signal
// names, container names and the decoder of the engine's multiplexed attach
// stream.
#include "docker_spec.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOCKER_SPEC_KEYS                                                                           \
	"Image, Memory, CpuShares, Lxc, Volume, Dir, Entry, Env, Path, Args, Scrub, Pull"
#define DOCKER_NAME_MAX 180

void
docker_spec_free(DockerSpec *spec)
{
	if (!spec)
		return;
	g_free(spec->image);
	g_strfreev(spec->lxc);
	g_strfreev(spec->volumes);
	g_free(spec->dir);
	g_free(spec->entry);
	g_strfreev(spec->env);
	g_free(spec->path);
	g_strfreev(spec->args);
	g_free(spec);
}

/* Copies @text without the commas that directly precede a closing brace or
 * bracket (outside strings): the original's README example has one. */
static char *
docker_spec_untrail(const char *text, gsize len)
{
	GString *out = g_string_sized_new(len);
	gboolean in_string = FALSE, escaped = FALSE;
	for (gsize i = 0; i < len; i++) {
		char ch = text[i];
		if (in_string) {
			if (escaped)
				escaped = FALSE;
			else if (ch == '\\')
				escaped = TRUE;
			else if (ch == '"')
				in_string = FALSE;
		} else if (ch == '"') {
			in_string = TRUE;
		} else if (ch == ',') {
			gsize j = i + 1;
			while (j < len && g_ascii_isspace(text[j]))
				j++;
			if (j < len && (text[j] == '}' || text[j] == ']'))
				continue;
		}
		g_string_append_c(out, ch);
	}
	return g_string_free(out, FALSE);
}

#define DOCKER_SPEC "container spec"

static gboolean
docker_spec_int(JsonNode *node, const char *key, gint64 *out, GError **error)
{
	if (JSON_NODE_HOLDS_NULL(node)) {
		*out = 0;
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    json_node_get_int(node) < 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "container spec: \"%s\" must be a non-negative integer", key);
		return FALSE;
	}
	*out = json_node_get_int(node);
	return TRUE;
}

/* A volume name as the engines take them: [A-Za-z0-9][A-Za-z0-9_.-]*. */
static gboolean
docker_volume_name(const char *s)
{
	if (!g_ascii_isalnum(s[0]))
		return FALSE;
	for (const char *c = s; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '_' && *c != '.' && *c != '-')
			return FALSE;
	return TRUE;
}

/* "/in/container", "host-path-or-volume:/in/container" or with ":ro"/":rw". */
static gboolean
docker_spec_check_volume(const char *v, guint i, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(v, ":", -1);
	guint n = g_strv_length(parts);
	const char *why = NULL;
	if (n == 0 || n > 3)
		why = "expected /path, host:/path or host:/path:ro";
	else if (n == 1 && parts[0][0] != '/')
		why = "a container path must be absolute";
	else if (n >= 2 && (!*parts[0] || parts[1][0] != '/'))
		why = "expected host:/path, with an absolute container path";
	else if (n >= 2 && parts[0][0] != '/' && !docker_volume_name(parts[0]))
		why = "a host path must be absolute (anything else is a volume name: letters, "
		      "digits, "
		      "_ . -)";
	else if (n == 3 && strcmp(parts[2], "ro") != 0 && strcmp(parts[2], "rw") != 0)
		why = "the mode must be ro or rw";
	if (!why)
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "container spec: \"Volume\"[%u] \"%s\": %s", i, v, why);
	return FALSE;
}

static gboolean
docker_spec_member(DockerSpec *spec, const char *key, JsonNode *v, GError **error)
{
	if (g_ascii_strcasecmp(key, "Image") == 0)
		return circuit_spec_string(v, DOCKER_SPEC, "Image", TRUE, &spec->image, error);
	if (g_ascii_strcasecmp(key, "Memory") == 0)
		return docker_spec_int(v, "Memory", &spec->memory, error);
	if (g_ascii_strcasecmp(key, "CpuShares") == 0)
		return docker_spec_int(v, "CpuShares", &spec->cpu_shares, error);
	if (g_ascii_strcasecmp(key, "Lxc") == 0)
		return circuit_spec_strv(v, DOCKER_SPEC, "Lxc", &spec->lxc, error);
	if (g_ascii_strcasecmp(key, "Volume") == 0) {
		if (!circuit_spec_strv(v, DOCKER_SPEC, "Volume", &spec->volumes, error))
			return FALSE;
		for (guint i = 0; spec->volumes[i]; i++)
			if (!docker_spec_check_volume(spec->volumes[i], i, error))
				return FALSE;
		return TRUE;
	}
	if (g_ascii_strcasecmp(key, "Dir") == 0)
		return circuit_spec_string(v, DOCKER_SPEC, "Dir", TRUE, &spec->dir, error);
	if (g_ascii_strcasecmp(key, "Entry") == 0)
		return circuit_spec_string(v, DOCKER_SPEC, "Entry", TRUE, &spec->entry, error);
	if (g_ascii_strcasecmp(key, "Env") == 0)
		return circuit_spec_strv(v, DOCKER_SPEC, "Env", &spec->env, error);
	if (g_ascii_strcasecmp(key, "Path") == 0)
		return circuit_spec_string(v, DOCKER_SPEC, "Path", TRUE, &spec->path, error);
	if (g_ascii_strcasecmp(key, "Args") == 0)
		return circuit_spec_strv(v, DOCKER_SPEC, "Args", &spec->args, error);
	if (g_ascii_strcasecmp(key, "Scrub") == 0)
		return circuit_spec_bool(v, DOCKER_SPEC, "Scrub", &spec->scrub, error);
	if (g_ascii_strcasecmp(key, "Pull") == 0)
		return circuit_spec_bool(v, DOCKER_SPEC, "Pull", &spec->pull, error);
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "container spec: unknown key \"%s\" (known: " DOCKER_SPEC_KEYS ")", key);
	return FALSE;
}

DockerSpec *
docker_spec_parse(const char *text, gsize len, GError **error)
{
	g_autofree char *clean = text && len ? docker_spec_untrail(text, len) : NULL;
	g_autoptr(JsonNode) root = circuit_spec_load(
	        clean, clean ? strlen(clean) : 0, DOCKER_SPEC,
	        "{\"Image\":\"busybox\",\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}", error);
	if (!root)
		return NULL;
	g_autoptr(DockerSpec) spec = g_new0(DockerSpec, 1);
	spec->lxc = g_new0(char *, 1);
	spec->volumes = g_new0(char *, 1);
	spec->env = g_new0(char *, 1);
	spec->args = g_new0(char *, 1);
	JsonObject *o = json_node_get_object(root);
	g_autoptr(GList) members = json_object_get_members(o);
	for (GList *l = members; l; l = l->next)
		if (!docker_spec_member(spec, l->data, json_object_get_member(o, l->data), error))
			return NULL;
	if (!spec->image || !*spec->image) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "container spec: \"Image\" is required (the image to run, e.g. "
		            "\"busybox\")");
		return NULL;
	}
	return g_steal_pointer(&spec);
}

/* ---- host paths a spec may bind ------------------------------------------- */

struct DockerBinds {
	gboolean given;  /* --docker-allow-bind was given at all */
	GPtrArray *dirs; /* allowed directories, resolved */
	char *socket;    /* the engine socket, resolved */
	dev_t socket_dev;
	ino_t socket_ino;
	gboolean socket_known; /* dev and ino are the socket's */
	gboolean private_tmp;  /* /tmp and /var/tmp are circuitd's own */
};

/* @path (absolute) without "//", "." and "..", as Go's filepath.Clean. */
static char *
docker_path_clean(const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	GPtrArray *out = g_ptr_array_new();
	for (guint i = 0; parts[i]; i++) {
		if (!*parts[i] || strcmp(parts[i], ".") == 0)
			continue;
		if (strcmp(parts[i], "..") == 0) {
			if (out->len)
				g_ptr_array_remove_index(out, out->len - 1);
			continue;
		}
		g_ptr_array_add(out, parts[i]);
	}
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < out->len; i++)
		g_string_append_printf(s, "/%s", (char *)g_ptr_array_index(out, i));
	g_ptr_array_free(out, TRUE);
	if (!s->len)
		g_string_append_c(s, '/');
	return g_string_free(s, FALSE);
}

/*
 * (transfer full) @path as the kernel finds it: cleaned, then resolved
 * through symbolic links (realpath) one component at a time as far as it
 * exists; what does not exist yet is appended as it is (Docker makes
 * missing directories). A dangling symbolic link, or a component that
 * cannot be looked at, is an error: what it would become is unknown.
 */
static char *
docker_path_resolve(const char *path, GError **error)
{
	g_autofree char *clean = docker_path_clean(path);
	g_auto(GStrv) parts = g_strsplit(clean, "/", -1);
	char *cur = g_strdup("/");
	for (guint i = 0; parts[i]; i++) {
		if (!*parts[i])
			continue;
		g_autofree char *next = g_build_filename(cur, parts[i], NULL);
		char *real = realpath(next, NULL);
		if (real) {
			g_free(cur);
			cur = real;
			continue;
		}
		int e = errno;
		struct stat st;
		if (e == ENOENT && lstat(next, &st) != 0 && errno == ENOENT) {
			/* Not there yet: the rest is appended as it is. */
			for (guint j = i; parts[j]; j++) {
				char *longer = g_build_filename(cur, parts[j], NULL);
				g_free(cur);
				cur = longer;
			}
			return cur;
		}
		g_free(cur);
		if (e == ENOENT)
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
			            "%s is a dangling symbolic link", next);
		else
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION, "%s: %s", next,
			            g_strerror(e));
		return NULL;
	}
	return cur;
}

/* @path is @dir or below it (both resolved). */
static gboolean
docker_path_under(const char *path, const char *dir)
{
	if (strcmp(dir, "/") == 0)
		return TRUE;
	gsize n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Under /tmp or /var/tmp (both resolved)? */
static gboolean
docker_path_in_tmp(const char *path)
{
	return docker_path_under(path, "/tmp") || docker_path_under(path, "/var/tmp");
}

DockerBinds *
docker_binds_new(const char *allowed, const char *socket, gboolean private_tmp, char ***warnings)
{
	DockerBinds *b = g_new0(DockerBinds, 1);
	b->given = allowed != NULL;
	b->private_tmp = private_tmp;
	b->dirs = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *w = g_ptr_array_new();
	b->socket = docker_path_resolve(socket, NULL);
	if (!b->socket)
		b->socket = docker_path_clean(socket);
	struct stat st;
	if (stat(b->socket, &st) == 0) {
		b->socket_known = TRUE;
		b->socket_dev = st.st_dev;
		b->socket_ino = st.st_ino;
	}
	g_autofree char *socket_dir = g_path_get_dirname(b->socket);
	g_auto(GStrv) lines = g_strsplit(allowed ? allowed : "", "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		const char *given = lines[i];
		if (!*given)
			continue;
		if (given[0] != '/') {
			g_ptr_array_add(w,
			                g_strdup_printf("--docker-allow-bind %s: ignored: not an "
			                                "absolute path",
			                                given));
			continue;
		}
		g_autoptr(GError) e = NULL;
		g_autofree char *dir = docker_path_resolve(given, &e);
		if (!dir) {
			g_ptr_array_add(w, g_strdup_printf("--docker-allow-bind %s: ignored: %s",
			                                   given, e->message));
			continue;
		}
		g_autofree char *shown =
		        strcmp(dir, given) == 0
		                ? g_strdup(given)
		                : g_strdup_printf("%s (resolves to %s)", given, dir);
		if (strcmp(dir, "/") == 0) {
			g_ptr_array_add(
			        w, g_strdup_printf("--docker-allow-bind %s: ignored: binding / "
			                           "is never allowed (it holds the whole host, "
			                           "the engine socket %s too)",
			                           shown, b->socket));
		} else if (strcmp(dir, b->socket) == 0) {
			g_ptr_array_add(
			        w, g_strdup_printf("--docker-allow-bind %s: ignored: it is the "
			                           "engine socket, which is never bound (it is "
			                           "root on this host)",
			                           shown));
		} else if (private_tmp && docker_path_in_tmp(dir)) {
			g_ptr_array_add(
			        w, g_strdup_printf("--docker-allow-bind %s: ignored: circuitd's "
			                           "/tmp and /var/tmp are its own (PrivateTmp=), "
			                           "not the engine's",
			                           shown));
		} else if (strcmp(dir, socket_dir) == 0) {
			g_ptr_array_add(
			        w, g_strdup_printf("--docker-allow-bind %s: ignored: it holds the "
			                           "engine socket %s, which is never bound (it "
			                           "is root on this host)",
			                           shown, b->socket));
		} else {
			if (docker_path_under(b->socket, dir))
				g_ptr_array_add(
				        w, g_strdup_printf(
				                   "--docker-allow-bind %s: it holds the engine "
				                   "socket %s: binds of it and of the directories "
				                   "down to the socket's are refused",
				                   shown, b->socket));
			g_ptr_array_add(b->dirs, g_steal_pointer(&dir));
		}
	}
	g_ptr_array_add(w, NULL);
	*warnings = (char **)g_ptr_array_free(w, FALSE);
	return b;
}

void
docker_binds_free(DockerBinds *binds)
{
	if (!binds)
		return;
	g_ptr_array_unref(binds->dirs);
	g_free(binds->socket);
	g_free(binds);
}

/* Why the bind of @path (resolved; @shown as the spec spelled it) is
 * refused, or NULL if it is allowed. */
static char *
docker_binds_refusal(const DockerBinds *b, const char *path, const char *shown)
{
	if (strcmp(path, "/") == 0)
		return g_strdup("binding / is never allowed, whatever --docker-allow-bind says");
	struct stat st;
	gboolean same = b->socket_known && stat(path, &st) == 0 && st.st_dev == b->socket_dev &&
	                st.st_ino == b->socket_ino;
	if (same || docker_path_under(b->socket, path))
		return g_strdup_printf(
		        "host path %s is or holds the engine socket %s, which is never "
		        "bound, whatever --docker-allow-bind says",
		        shown, b->socket);
	if (b->private_tmp && docker_path_in_tmp(path))
		return g_strdup_printf("host path %s is under circuitd's own /tmp or /var/tmp "
		                       "(PrivateTmp=), not the engine's: never bound, whatever "
		                       "--docker-allow-bind says",
		                       shown);
	for (guint i = 0; i < b->dirs->len; i++)
		if (docker_path_under(path, g_ptr_array_index(b->dirs, i)))
			return NULL;
	GString *why = g_string_new(NULL);
	g_string_printf(why,
	                "host path %s is not under a directory allowed with "
	                "--docker-allow-bind (",
	                shown);
	if (!b->given)
		g_string_append(why, "no --docker-allow-bind given: no host path may be bound");
	else if (b->dirs->len == 0)
		g_string_append(why, "allowed: none, every --docker-allow-bind given was ignored");
	else
		g_string_append(why, "allowed: ");
	for (guint i = 0; i < b->dirs->len; i++)
		g_string_append_printf(why, "%s%s", i ? ", " : "",
		                       (char *)g_ptr_array_index(b->dirs, i));
	g_string_append_c(why, ')');
	return g_string_free(why, FALSE);
}

gboolean
docker_binds_check(const DockerBinds *binds, DockerSpec *spec, GError **error)
{
	for (guint i = 0; spec->volumes[i]; i++) {
		const char *v = spec->volumes[i];
		g_auto(GStrv) parts = g_strsplit(v, ":", 3);
		/* Anonymous ("/path") and named ("name:/path") volumes. */
		if (!parts[1] || parts[0][0] != '/')
			continue;
		g_autoptr(GError) e = NULL;
		g_autofree char *path = docker_path_resolve(parts[0], &e);
		if (!path) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
			            "container spec: \"Volume\"[%u] \"%s\": host path %s cannot be "
			            "checked against --docker-allow-bind: %s",
			            i, v, parts[0], e->message);
			return FALSE;
		}
		g_autofree char *shown =
		        strcmp(path, parts[0]) == 0
		                ? g_strdup(parts[0])
		                : g_strdup_printf("%s (resolves to %s)", parts[0], path);
		g_autofree char *why = docker_binds_refusal(binds, path, shown);
		if (why) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_PERMISSION,
			            "container spec: \"Volume\"[%u] \"%s\": %s", i, v, why);
			return FALSE;
		}
		/* The engine mounts what was checked. */
		char *checked = parts[2] ? g_strjoin(":", path, parts[1], parts[2], NULL)
		                         : g_strjoin(":", path, parts[1], NULL);
		g_free(spec->volumes[i]);
		spec->volumes[i] = checked;
	}
	return TRUE;
}

static JsonArray *
docker_spec_array(char *const *v)
{
	JsonArray *a = json_array_new();
	for (guint i = 0; v && v[i]; i++)
		json_array_add_string_element(a, v[i]);
	return a;
}

JsonNode *
docker_spec_to_create(const DockerSpec *spec, GHashTable *labels)
{
	JsonObject *o = json_object_new();
	json_object_set_string_member(o, "Image", spec->image);
	if (spec->path && *spec->path) {
		JsonArray *cmd = json_array_new();
		json_array_add_string_element(cmd, spec->path);
		for (guint i = 0; spec->args[i]; i++)
			json_array_add_string_element(cmd, spec->args[i]);
		json_object_set_array_member(o, "Cmd", cmd);
	} else if (spec->args[0]) {
		json_object_set_array_member(o, "Cmd", docker_spec_array(spec->args));
	}
	if (spec->entry && *spec->entry) {
		JsonArray *entry = json_array_new();
		json_array_add_string_element(entry, spec->entry);
		json_object_set_array_member(o, "Entrypoint", entry);
	}
	if (spec->env[0])
		json_object_set_array_member(o, "Env", docker_spec_array(spec->env));
	if (spec->dir && *spec->dir)
		json_object_set_string_member(o, "WorkingDir", spec->dir);
	/* Stdin stays open until the first writer ends it, as with proc; no
	 * TTY, so stdout and stderr arrive multiplexed and stay apart. */
	json_object_set_boolean_member(o, "AttachStdin", TRUE);
	json_object_set_boolean_member(o, "AttachStdout", TRUE);
	json_object_set_boolean_member(o, "AttachStderr", TRUE);
	json_object_set_boolean_member(o, "OpenStdin", TRUE);
	json_object_set_boolean_member(o, "StdinOnce", TRUE);
	json_object_set_boolean_member(o, "Tty", FALSE);
	JsonObject *lab = json_object_new();
	if (labels) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, labels);
		while (g_hash_table_iter_next(&it, &k, &v))
			json_object_set_string_member(lab, k, v);
	}
	json_object_set_object_member(o, "Labels", lab);
	JsonObject *host = json_object_new();
	JsonObject *anon = json_object_new();
	JsonArray *binds = json_array_new();
	for (guint i = 0; spec->volumes[i]; i++) {
		if (strchr(spec->volumes[i], ':'))
			json_array_add_string_element(binds, spec->volumes[i]);
		else
			json_object_set_object_member(anon, spec->volumes[i], json_object_new());
	}
	json_object_set_object_member(o, "Volumes", anon);
	json_object_set_array_member(host, "Binds", binds);
	if (spec->memory > 0)
		json_object_set_int_member(host, "Memory", spec->memory);
	if (spec->cpu_shares > 0)
		json_object_set_int_member(host, "CpuShares", spec->cpu_shares);
	json_object_set_object_member(o, "HostConfig", host);
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

void
docker_image_split(const char *image, char **repo, char **tag)
{
	const char *at = strchr(image, '@');
	if (at) {
		*repo = g_strdup(image);
		*tag = g_strdup("");
		return;
	}
	const char *slash = strrchr(image, '/');
	const char *colon = strrchr(slash ? slash : image, ':');
	if (colon) {
		*repo = g_strndup(image, (gsize)(colon - image));
		*tag = g_strdup(colon + 1);
	} else {
		*repo = g_strdup(image);
		*tag = g_strdup("latest");
	}
}

static const struct {
	const char *name;
	int number;
} docker_signals[] = {
        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
        {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
        {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
        {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
        {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
        {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
        {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
        {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

char *
docker_signal_parse(const char *text)
{
	if (!text || !*text)
		return NULL;
	if (g_ascii_isdigit(text[0])) {
		char *end = NULL;
		guint64 n = g_ascii_strtoull(text, &end, 10);
		if (*end || n == 0 || n > 64)
			return NULL;
		for (guint i = 0; i < G_N_ELEMENTS(docker_signals); i++)
			if (docker_signals[i].number == (int)n)
				return g_strconcat("SIG", docker_signals[i].name, NULL);
		return g_strdup_printf("%u", (guint)n);
	}
	const char *name = g_ascii_strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
	for (guint i = 0; i < G_N_ELEMENTS(docker_signals); i++)
		if (g_ascii_strcasecmp(name, docker_signals[i].name) == 0)
			return g_strconcat("SIG", docker_signals[i].name, NULL);
	return NULL;
}

char *
docker_name_for(const char *path, guint64 seq)
{
	GString *s = g_string_new("circuit-");
	for (const char *p = path; *p && s->len < DOCKER_NAME_MAX; p++) {
		if (p == path && *p == '/')
			continue;
		if (*p == '/')
			g_string_append_c(s, '.');
		else if (g_ascii_isalnum(*p) || *p == '_' || *p == '.' || *p == '-')
			g_string_append_c(s, *p);
		else
			g_string_append_c(s, '_');
	}
	g_string_append_printf(s, "-%" G_GUINT64_FORMAT, seq);
	return g_string_free(s, FALSE);
}

void
docker_demux_feed(DockerDemux *d, const guint8 *data, gsize len, DockerDemuxFunc func,
                  gpointer user_data)
{
	while (len > 0) {
		if (d->left == 0) {
			guint take = MIN(8 - d->have, (guint)len);
			memcpy(d->header + d->have, data, take);
			d->have += take;
			data += take;
			len -= take;
			if (d->have < 8)
				return;
			d->have = 0;
			d->stream = d->header[0];
			d->left = ((guint32)d->header[4] << 24) | ((guint32)d->header[5] << 16) |
			          ((guint32)d->header[6] << 8) | (guint32)d->header[7];
			continue;
		}
		gsize take = MIN((gsize)d->left, len);
		func(d->stream, data, take, user_data);
		d->left -= (guint32)take;
		data += take;
		len -= take;
	}
}
