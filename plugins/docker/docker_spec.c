// SPDX-License-Identifier: Apache-2.0
//
// docker_spec.c - the container spec of `circuit mkdkr` (keys matched
// case-insensitively, as proc does), the host paths it may bind, signal
// names, container names and the decoder of the engine's multiplexed attach
// stream.
#include "docker_spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOCKER_SPEC_KEYS                                                                           \
	"Image, Memory, CpuShares, Lxc, Volume, Dir, Entry, Env, Path, Args, Scrub, Pull, Ports, " \
	"Network, User, Hostname, Labels, Init, ReadOnly, Tmpfs, Ulimits"
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
	g_clear_pointer(&spec->ports, g_array_unref);
	g_free(spec->network);
	g_free(spec->user);
	g_free(spec->hostname);
	g_strfreev(spec->label_keys);
	g_strfreev(spec->label_values);
	g_clear_pointer(&spec->tmpfs, g_array_unref);
	g_clear_pointer(&spec->ulimits, g_array_unref);
	g_free(spec);
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

static char *docker_path_clean(const char *path);

#define DOCKER_PORT_SYNTAX "expected [IP:][HOSTPORT:]PORT[/tcp|udp|sctp], e.g. 127.0.0.1:8080:80"

static void
docker_port_clear(gpointer p)
{
	g_free(((DockerPort *)p)->host_ip);
}

static void
docker_tmpfs_clear(gpointer p)
{
	DockerTmpfs *t = p;
	g_free(t->path);
	g_free(t->options);
}

/* A port number, 1-65535, in decimal digits only. */
static gboolean
docker_port_number(const char *s, guint *out)
{
	if (!*s || strlen(s) > 5)
		return FALSE;
	for (const char *c = s; *c; c++)
		if (!g_ascii_isdigit(*c))
			return FALSE;
	guint n = (guint)strtoul(s, NULL, 10);
	if (n < 1 || n > 65535)
		return FALSE;
	*out = n;
	return TRUE;
}

/* One "Ports" entry into *@port, or FALSE with *@why (static). */
static gboolean
docker_port_parse(const char *entry, DockerPort *port, const char **why)
{
	g_autofree char *text = g_strdup(entry);
	port->proto = "tcp";
	char *slash = strrchr(text, '/');
	if (slash) {
		*slash = '\0';
		const char *p = slash + 1;
		if (strcmp(p, "tcp") == 0)
			port->proto = "tcp";
		else if (strcmp(p, "udp") == 0)
			port->proto = "udp";
		else if (strcmp(p, "sctp") == 0)
			port->proto = "sctp";
		else {
			*why = "the protocol must be tcp, udp or sctp";
			return FALSE;
		}
	}
	if (strchr(text, '-')) {
		*why = "port ranges are not supported (one entry per port)";
		return FALSE;
	}
	/* IP, host port, container port: from the right. */
	char *ip = NULL, *host = NULL, *cport = text;
	char *colon = strrchr(text, ':');
	if (colon) {
		*colon = '\0';
		cport = colon + 1;
		host = text;
		char *c2 = text[0] == '[' ? strstr(text, "]:") : strrchr(text, ':');
		if (c2) {
			if (text[0] == '[')
				c2++;
			*c2 = '\0';
			ip = text;
			host = c2 + 1;
		} else if (text[0] == '[') {
			*why = "an IPv6 address in brackets needs a host port after it: "
			       "[::1]:8080:80 or [::1]::80";
			return FALSE;
		}
	}
	if (!docker_port_number(cport, &port->port)) {
		*why = "the container port must be a number from 1 to 65535";
		return FALSE;
	}
	port->host_port = 0;
	if (host && (*host || !ip) && !docker_port_number(host, &port->host_port)) {
		*why = "the host port must be a number from 1 to 65535, or left out "
		       "(IP::PORT) for the engine to pick one";
		return FALSE;
	}
	if (ip) {
		gsize n = strlen(ip);
		guint8 addr[16];
		if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
			ip[n - 1] = '\0';
			ip++;
			if (inet_pton(AF_INET6, ip, addr) != 1) {
				*why = "not an IPv6 address in the brackets";
				return FALSE;
			}
		} else if (inet_pton(AF_INET, ip, addr) != 1) {
			*why = "the host address must be an IPv4 address, or an IPv6 one in "
			       "brackets ([::1]:8080:80)";
			return FALSE;
		}
	}
	port->host_ip = g_strdup(ip ? ip : "");
	return TRUE;
}

static gboolean
docker_spec_ports(DockerSpec *spec, JsonNode *v, GError **error)
{
	g_auto(GStrv) entries = NULL;
	if (!circuit_spec_strv(v, DOCKER_SPEC, "Ports", &entries, error))
		return FALSE;
	g_array_set_size(spec->ports, 0);
	for (guint i = 0; entries[i]; i++) {
		DockerPort port = {0};
		const char *why = NULL;
		if (!docker_port_parse(entries[i], &port, &why)) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "container spec: \"Ports\"[%u] \"%s\": %s (" DOCKER_PORT_SYNTAX
			            ")",
			            i, entries[i], why);
			return FALSE;
		}
		for (guint j = 0; j < spec->ports->len; j++) {
			const DockerPort *q = &g_array_index(spec->ports, DockerPort, j);
			gboolean same_ip = strcmp(q->host_ip, port.host_ip) == 0 || !*q->host_ip ||
			                   !*port.host_ip;
			if (port.host_port && q->host_port == port.host_port &&
			    strcmp(q->proto, port.proto) == 0 && same_ip) {
				g_set_error(
				        error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				        "container spec: \"Ports\"[%u] \"%s\": host port %u/%s is "
				        "already published by \"Ports\"[%u] \"%s\"",
				        i, entries[i], port.host_port, port.proto, j, entries[j]);
				g_free(port.host_ip);
				return FALSE;
			}
		}
		g_array_append_val(spec->ports, port);
	}
	return TRUE;
}

/* [A-Za-z0-9][A-Za-z0-9_.-]*, as engines name networks and containers. */
static gboolean
docker_object_name(const char *s)
{
	return *s && docker_volume_name(s);
}

static gboolean
docker_spec_network(DockerSpec *spec, JsonNode *v, GError **error)
{
	if (!circuit_spec_string(v, DOCKER_SPEC, "Network", TRUE, &spec->network, error))
		return FALSE;
	const char *n = spec->network;
	if (!n || !*n) {
		g_clear_pointer(&spec->network, g_free);
		return TRUE;
	}
	if (g_str_has_prefix(n, "container:") ? docker_object_name(n + strlen("container:"))
	                                      : docker_object_name(n))
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "container spec: \"Network\" \"%s\": expected none, host, bridge, "
	            "container:NAME-OR-ID or the name of a network (letters, digits, _ . -)",
	            n);
	return FALSE;
}

/* A user or group: a name of [A-Za-z0-9_.-] or a number below 2^32 - 1. */
static gboolean
docker_user_part(const char *s)
{
	if (!*s || strlen(s) > 256)
		return FALSE;
	gboolean digits = TRUE;
	for (const char *c = s; *c; c++) {
		if (!g_ascii_isalnum(*c) && *c != '_' && *c != '.' && *c != '-')
			return FALSE;
		digits = digits && g_ascii_isdigit(*c);
	}
	return !digits || (strlen(s) <= 10 && g_ascii_strtoull(s, NULL, 10) < G_MAXUINT32);
}

static gboolean
docker_spec_user(DockerSpec *spec, JsonNode *v, GError **error)
{
	if (!circuit_spec_string(v, DOCKER_SPEC, "User", TRUE, &spec->user, error))
		return FALSE;
	if (!spec->user || !*spec->user) {
		g_clear_pointer(&spec->user, g_free);
		return TRUE;
	}
	g_auto(GStrv) parts = g_strsplit(spec->user, ":", -1);
	guint n = g_strv_length(parts);
	if ((n == 1 || n == 2) && docker_user_part(parts[0]) &&
	    (n == 1 || docker_user_part(parts[1])))
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "container spec: \"User\" \"%s\": expected uid, uid:gid, name or name:group "
	            "(names of letters, digits, _ . -; numbers below 4294967295)",
	            spec->user);
	return FALSE;
}

/* RFC 1123: dot-separated labels of 1-63 letters, digits and '-', neither
 * starting nor ending with '-'; at most 64 in all (the kernel's limit). */
static gboolean
docker_hostname_valid(const char *s)
{
	gsize len = strlen(s);
	if (len == 0 || len > 64)
		return FALSE;
	g_auto(GStrv) labels = g_strsplit(s, ".", -1);
	for (guint i = 0; labels[i]; i++) {
		const char *l = labels[i];
		gsize n = strlen(l);
		if (n == 0 || n > 63 || l[0] == '-' || l[n - 1] == '-')
			return FALSE;
		for (const char *c = l; *c; c++)
			if (!g_ascii_isalnum(*c) && *c != '-')
				return FALSE;
	}
	return TRUE;
}

static gboolean
docker_spec_hostname(DockerSpec *spec, JsonNode *v, GError **error)
{
	if (!circuit_spec_string(v, DOCKER_SPEC, "Hostname", TRUE, &spec->hostname, error))
		return FALSE;
	if (!spec->hostname || !*spec->hostname) {
		g_clear_pointer(&spec->hostname, g_free);
		return TRUE;
	}
	if (docker_hostname_valid(spec->hostname))
		return TRUE;
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "container spec: \"Hostname\" \"%s\": not a valid host name (RFC 1123: "
	            "letters, digits and -, in dot-separated labels of at most 63 that neither "
	            "start nor end with -; at most 64 characters in all)",
	            spec->hostname);
	return FALSE;
}

#define DOCKER_LABEL_PREFIX "io.circuit."

static gboolean
docker_spec_labels(DockerSpec *spec, JsonNode *v, GError **error)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *values = g_ptr_array_new_with_free_func(g_free);
	if (!JSON_NODE_HOLDS_NULL(v)) {
		if (!JSON_NODE_HOLDS_OBJECT(v)) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "container spec: \"Labels\" must be an object of strings "
			            "({\"name\": \"value\"})");
			goto fail;
		}
		JsonObject *o = json_node_get_object(v);
		g_autoptr(GList) members = json_object_get_members(o);
		for (GList *l = members; l; l = l->next) {
			const char *k = l->data;
			JsonNode *e = json_object_get_member(o, k);
			if (!*k) {
				g_set_error(
				        error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				        "container spec: \"Labels\": a label name cannot be empty");
				goto fail;
			}
			if (g_ascii_strncasecmp(k, DOCKER_LABEL_PREFIX,
			                        strlen(DOCKER_LABEL_PREFIX)) == 0) {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "container spec: \"Labels\" \"%s\": names under "
				            "\"" DOCKER_LABEL_PREFIX "\" are the element's own "
				            "(io.circuit.server, .anchor, .owner, .host)",
				            k);
				goto fail;
			}
			if (!JSON_NODE_HOLDS_VALUE(e) ||
			    json_node_get_value_type(e) != G_TYPE_STRING) {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "container spec: \"Labels\" \"%s\" is not a string", k);
				goto fail;
			}
			g_ptr_array_add(keys, g_strdup(k));
			g_ptr_array_add(values, g_strdup(json_node_get_string(e)));
		}
	}
	g_ptr_array_add(keys, NULL);
	g_ptr_array_add(values, NULL);
	g_strfreev(spec->label_keys);
	g_strfreev(spec->label_values);
	spec->label_keys = (char **)g_ptr_array_free(keys, FALSE);
	spec->label_values = (char **)g_ptr_array_free(values, FALSE);
	return TRUE;
fail:
	g_ptr_array_unref(keys);
	g_ptr_array_unref(values);
	return FALSE;
}

/* true, false, or null (-1: the engine's default). */
static gboolean
docker_spec_tristate(JsonNode *v, const char *key, int *out, GError **error)
{
	if (JSON_NODE_HOLDS_NULL(v)) {
		*out = -1;
		return TRUE;
	}
	gboolean b = FALSE;
	if (!circuit_spec_bool(v, DOCKER_SPEC, key, &b, error))
		return FALSE;
	*out = b ? 1 : 0;
	return TRUE;
}

/* Mount options: a comma-separated list of printable words ("" for none). */
static gboolean
docker_tmpfs_options_valid(const char *s)
{
	if (!*s)
		return TRUE;
	g_auto(GStrv) items = g_strsplit(s, ",", -1);
	for (guint i = 0; items[i]; i++) {
		if (!*items[i])
			return FALSE;
		for (const char *c = items[i]; *c; c++)
			if (!g_ascii_isgraph(*c))
				return FALSE;
	}
	return TRUE;
}

/* One tmpfs at @path with @options; @shown names it in errors. */
static gboolean
docker_spec_tmpfs_add(DockerSpec *spec, const char *shown, const char *path, const char *options,
                      GError **error)
{
	const char *why = NULL;
	g_autofree char *clean = NULL;
	if (path[0] != '/')
		why = "the path must be absolute";
	else if (strchr(path, ':'))
		why = "a path cannot hold ':'";
	else if (strcmp((clean = docker_path_clean(path)), "/") == 0)
		why = "the root file system cannot be a tmpfs (see \"ReadOnly\")";
	else if (!docker_tmpfs_options_valid(options))
		why = "the options must be a comma-separated list such as size=64k,mode=1777";
	for (guint i = 0; !why && i < spec->tmpfs->len; i++)
		if (strcmp(g_array_index(spec->tmpfs, DockerTmpfs, i).path, clean) == 0)
			why = "that path is given twice";
	if (why) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "container spec: \"Tmpfs\"%s: %s", shown, why);
		return FALSE;
	}
	DockerTmpfs t = {g_steal_pointer(&clean), g_strdup(options)};
	g_array_append_val(spec->tmpfs, t);
	return TRUE;
}

static gboolean
docker_spec_tmpfs(DockerSpec *spec, JsonNode *v, GError **error)
{
	g_array_set_size(spec->tmpfs, 0);
	if (JSON_NODE_HOLDS_NULL(v))
		return TRUE;
	if (JSON_NODE_HOLDS_OBJECT(v)) {
		JsonObject *o = json_node_get_object(v);
		g_autoptr(GList) members = json_object_get_members(o);
		for (GList *l = members; l; l = l->next) {
			const char *path = l->data;
			JsonNode *e = json_object_get_member(o, path);
			g_autofree char *shown = g_strdup_printf(" \"%s\"", path);
			const char *options = "";
			if (!JSON_NODE_HOLDS_NULL(e)) {
				if (!JSON_NODE_HOLDS_VALUE(e) ||
				    json_node_get_value_type(e) != G_TYPE_STRING) {
					g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
					            "container spec: \"Tmpfs\" \"%s\": the options "
					            "must be "
					            "a string (\"\" for none)",
					            path);
					return FALSE;
				}
				options = json_node_get_string(e);
			}
			if (!docker_spec_tmpfs_add(spec, shown, path, options, error))
				return FALSE;
		}
		return TRUE;
	}
	if (JSON_NODE_HOLDS_ARRAY(v)) {
		JsonArray *a = json_node_get_array(v);
		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonNode *e = json_array_get_element(a, i);
			if (!JSON_NODE_HOLDS_VALUE(e) ||
			    json_node_get_value_type(e) != G_TYPE_STRING) {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "container spec: \"Tmpfs\"[%u] is not a string", i);
				return FALSE;
			}
			const char *entry = json_node_get_string(e);
			g_autofree char *shown = g_strdup_printf("[%u] \"%s\"", i, entry);
			/* "/path" or "/path:options", as docker run --tmpfs. */
			g_auto(GStrv) parts = g_strsplit(entry, ":", 2);
			if (!docker_spec_tmpfs_add(spec, shown, parts[0] ? parts[0] : "",
			                           parts[0] && parts[1] ? parts[1] : "", error))
				return FALSE;
		}
		return TRUE;
	}
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "container spec: \"Tmpfs\" must be an object ({\"/path\": \"options\"}) or "
	            "an array of paths ([\"/path\", \"/path:options\"])");
	return FALSE;
}

/* The limits Docker knows (github.com/docker/go-units, ulimit.go); "as" is
 * not one of them. */
static const char *const docker_ulimit_names[] = {
        "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
        "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",
};
#define DOCKER_ULIMIT_NAMES                                                                        \
	"core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, "     \
	"rttime, sigpending, stack"

/* An integer >= -1 (-1: unlimited). */
static gboolean
docker_ulimit_value(JsonNode *n, gint64 *out)
{
	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
	    json_node_get_int(n) < -1)
		return FALSE;
	*out = json_node_get_int(n);
	return TRUE;
}

static gint
docker_ulimit_compare(gconstpointer a, gconstpointer b)
{
	return strcmp(((const DockerUlimit *)a)->name, ((const DockerUlimit *)b)->name);
}

static gboolean
docker_spec_ulimits(DockerSpec *spec, JsonNode *v, GError **error)
{
	g_array_set_size(spec->ulimits, 0);
	if (JSON_NODE_HOLDS_NULL(v))
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(v)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "container spec: \"Ulimits\" must be an object ({\"nofile\": 1024} or "
		            "{\"nofile\": {\"Soft\": 1024, \"Hard\": 4096}})");
		return FALSE;
	}
	JsonObject *o = json_node_get_object(v);
	g_autoptr(GList) members = json_object_get_members(o);
	for (GList *l = members; l; l = l->next) {
		const char *key = l->data;
		JsonNode *e = json_object_get_member(o, key);
		DockerUlimit u = {NULL, 0, 0};
		for (guint i = 0; i < G_N_ELEMENTS(docker_ulimit_names); i++)
			if (g_ascii_strcasecmp(key, docker_ulimit_names[i]) == 0)
				u.name = docker_ulimit_names[i];
		if (!u.name) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "container spec: \"Ulimits\" \"%s\": unknown limit "
			            "(known: " DOCKER_ULIMIT_NAMES ")",
			            key);
			return FALSE;
		}
		for (guint i = 0; i < spec->ulimits->len; i++)
			if (g_array_index(spec->ulimits, DockerUlimit, i).name == u.name) {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "container spec: \"Ulimits\" \"%s\": %s is given twice",
				            key, u.name);
				return FALSE;
			}
		gboolean ok = FALSE;
		if (docker_ulimit_value(e, &u.soft)) {
			u.hard = u.soft;
			ok = TRUE;
		} else if (JSON_NODE_HOLDS_OBJECT(e)) {
			JsonObject *lim = json_node_get_object(e);
			g_autoptr(GList) names = json_object_get_members(lim);
			JsonNode *soft = NULL, *hard = NULL;
			ok = TRUE;
			for (GList *m = names; m; m = m->next) {
				if (g_ascii_strcasecmp(m->data, "Soft") == 0)
					soft = json_object_get_member(lim, m->data);
				else if (g_ascii_strcasecmp(m->data, "Hard") == 0)
					hard = json_object_get_member(lim, m->data);
				else
					ok = FALSE;
			}
			ok = ok && docker_ulimit_value(soft, &u.soft) &&
			     docker_ulimit_value(hard, &u.hard);
		}
		if (!ok) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "container spec: \"Ulimits\" \"%s\" must be an integer (-1 for "
			            "unlimited) or {\"Soft\": n, \"Hard\": n}, both integers",
			            key);
			return FALSE;
		}
		if (u.hard != -1 && (u.soft == -1 || u.soft > u.hard)) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "container spec: \"Ulimits\" \"%s\": \"Soft\" %" G_GINT64_FORMAT
			            " is above \"Hard\" %" G_GINT64_FORMAT " (-1 is unlimited)",
			            key, u.soft, u.hard);
			return FALSE;
		}
		g_array_append_val(spec->ulimits, u);
	}
	g_array_sort(spec->ulimits, docker_ulimit_compare);
	return TRUE;
}

/* Checks between keys, once all are read. */
static gboolean
docker_spec_check_all(DockerSpec *spec, GError **error)
{
	const char *n = spec->network;
	if (spec->ports->len && n &&
	    (strcmp(n, "none") == 0 || strcmp(n, "host") == 0 ||
	     g_str_has_prefix(n, "container:"))) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "container spec: \"Ports\" cannot be published with \"Network\" \"%s\" "
		            "(ports are published from a network of the engine's: bridge or a "
		            "named one)",
		            n);
		return FALSE;
	}
	for (guint i = 0; i < spec->tmpfs->len; i++) {
		const char *path = g_array_index(spec->tmpfs, DockerTmpfs, i).path;
		for (guint j = 0; spec->volumes[j]; j++) {
			g_auto(GStrv) parts = g_strsplit(spec->volumes[j], ":", 3);
			g_autofree char *target = docker_path_clean(parts[1] ? parts[1] : parts[0]);
			if (strcmp(target, path) == 0) {
				g_set_error(
				        error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				        "container spec: \"Tmpfs\" \"%s\": \"Volume\"[%u] \"%s\" "
				        "mounts there too",
				        path, j, spec->volumes[j]);
				return FALSE;
			}
		}
	}
	return TRUE;
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
	if (g_ascii_strcasecmp(key, "Ports") == 0)
		return docker_spec_ports(spec, v, error);
	if (g_ascii_strcasecmp(key, "Network") == 0)
		return docker_spec_network(spec, v, error);
	if (g_ascii_strcasecmp(key, "User") == 0)
		return docker_spec_user(spec, v, error);
	if (g_ascii_strcasecmp(key, "Hostname") == 0)
		return docker_spec_hostname(spec, v, error);
	if (g_ascii_strcasecmp(key, "Labels") == 0)
		return docker_spec_labels(spec, v, error);
	if (g_ascii_strcasecmp(key, "Init") == 0)
		return docker_spec_tristate(v, "Init", &spec->init, error);
	if (g_ascii_strcasecmp(key, "ReadOnly") == 0)
		return docker_spec_tristate(v, "ReadOnly", &spec->read_only, error);
	if (g_ascii_strcasecmp(key, "Tmpfs") == 0)
		return docker_spec_tmpfs(spec, v, error);
	if (g_ascii_strcasecmp(key, "Ulimits") == 0)
		return docker_spec_ulimits(spec, v, error);
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "container spec: unknown key \"%s\" (known: " DOCKER_SPEC_KEYS ")", key);
	return FALSE;
}

DockerSpec *
docker_spec_parse(const char *text, gsize len, GError **error)
{
	/* The host's spec reader takes the original's trailing commas, as for
	 * every kind. */
	g_autoptr(JsonNode) root = circuit_spec_load(
	        text, len, DOCKER_SPEC,
	        "{\"Image\":\"busybox\",\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}", error);
	if (!root)
		return NULL;
	g_autoptr(DockerSpec) spec = g_new0(DockerSpec, 1);
	spec->lxc = g_new0(char *, 1);
	spec->volumes = g_new0(char *, 1);
	spec->env = g_new0(char *, 1);
	spec->args = g_new0(char *, 1);
	spec->ports = g_array_new(FALSE, TRUE, sizeof(DockerPort));
	g_array_set_clear_func(spec->ports, docker_port_clear);
	spec->label_keys = g_new0(char *, 1);
	spec->label_values = g_new0(char *, 1);
	spec->init = -1;
	spec->read_only = -1;
	spec->tmpfs = g_array_new(FALSE, TRUE, sizeof(DockerTmpfs));
	g_array_set_clear_func(spec->tmpfs, docker_tmpfs_clear);
	spec->ulimits = g_array_new(FALSE, TRUE, sizeof(DockerUlimit));
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
	if (!docker_spec_check_all(spec, error))
		return NULL;
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
	if (spec->user)
		json_object_set_string_member(o, "User", spec->user);
	if (spec->hostname)
		json_object_set_string_member(o, "Hostname", spec->hostname);
	/* Stdin stays open until the first writer ends it, as with proc; no
	 * TTY, so stdout and stderr arrive multiplexed and stay apart. */
	json_object_set_boolean_member(o, "AttachStdin", TRUE);
	json_object_set_boolean_member(o, "AttachStdout", TRUE);
	json_object_set_boolean_member(o, "AttachStderr", TRUE);
	json_object_set_boolean_member(o, "OpenStdin", TRUE);
	json_object_set_boolean_member(o, "StdinOnce", TRUE);
	json_object_set_boolean_member(o, "Tty", FALSE);
	JsonObject *lab = json_object_new();
	/* The user's first: the element's own are set over them (none clash:
	 * io.circuit.* is refused in the spec). */
	for (guint i = 0; spec->label_keys[i]; i++)
		json_object_set_string_member(lab, spec->label_keys[i], spec->label_values[i]);
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
	if (spec->ports->len) {
		JsonObject *exposed = json_object_new();
		JsonObject *bindings = json_object_new();
		for (guint i = 0; i < spec->ports->len; i++) {
			const DockerPort *p = &g_array_index(spec->ports, DockerPort, i);
			g_autofree char *key = g_strdup_printf("%u/%s", p->port, p->proto);
			if (!json_object_has_member(exposed, key))
				json_object_set_object_member(exposed, key, json_object_new());
			if (!json_object_has_member(bindings, key))
				json_object_set_array_member(bindings, key, json_array_new());
			JsonObject *b = json_object_new();
			json_object_set_string_member(b, "HostIp", p->host_ip);
			g_autofree char *hp =
			        p->host_port ? g_strdup_printf("%u", p->host_port) : g_strdup("");
			json_object_set_string_member(b, "HostPort", hp);
			json_array_add_object_element(json_object_get_array_member(bindings, key),
			                              b);
		}
		json_object_set_object_member(o, "ExposedPorts", exposed);
		json_object_set_object_member(host, "PortBindings", bindings);
	}
	if (spec->network)
		json_object_set_string_member(host, "NetworkMode", spec->network);
	if (spec->init >= 0)
		json_object_set_boolean_member(host, "Init", spec->init);
	if (spec->read_only >= 0)
		json_object_set_boolean_member(host, "ReadonlyRootfs", spec->read_only);
	if (spec->tmpfs->len) {
		JsonObject *t = json_object_new();
		for (guint i = 0; i < spec->tmpfs->len; i++) {
			const DockerTmpfs *m = &g_array_index(spec->tmpfs, DockerTmpfs, i);
			json_object_set_string_member(t, m->path, m->options);
		}
		json_object_set_object_member(host, "Tmpfs", t);
	}
	if (spec->ulimits->len) {
		JsonArray *a = json_array_new();
		for (guint i = 0; i < spec->ulimits->len; i++) {
			const DockerUlimit *u = &g_array_index(spec->ulimits, DockerUlimit, i);
			JsonObject *l = json_object_new();
			json_object_set_string_member(l, "Name", u->name);
			json_object_set_int_member(l, "Soft", u->soft);
			json_object_set_int_member(l, "Hard", u->hard);
			json_array_add_object_element(a, l);
		}
		json_object_set_array_member(host, "Ulimits", a);
	}
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
