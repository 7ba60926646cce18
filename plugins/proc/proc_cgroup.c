// SPDX-License-Identifier: Apache-2.0
//
// proc_cgroup.c - a cgroup per job under circuitd's delegated cgroup.
#include "proc_cgroup.h"

#include <circuit/plugin.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* (transfer full) (nullable) circuitd's path on the cgroup v2 hierarchy
 * ("0::/system.slice/circuitd.service" in /proc/self/cgroup). */
static char *
proc_cgroup_own_path(void)
{
	g_autofree char *text = NULL;
	if (!g_file_get_contents("/proc/self/cgroup", &text, NULL, NULL))
		return NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++)
		if (g_str_has_prefix(lines[i], "0::"))
			return g_strdup(lines[i] + 3);
	return NULL;
}

/* (transfer full) (nullable) where the cgroup v2 hierarchy is mounted whole
 * (root "/"): /sys/fs/cgroup if it is there, else the first such mount (the
 * "unified" one of a hybrid setup). */
static char *
proc_cgroup_mount(void)
{
	g_autofree char *text = NULL;
	if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
		return NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	char *found = NULL;
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
		guint n = g_strv_length(f), sep = 6;
		while (sep < n && strcmp(f[sep], "-") != 0)
			sep++;
		if (n < 5 || sep + 1 >= n || strcmp(f[sep + 1], "cgroup2") != 0 ||
		    strcmp(f[3], "/") != 0)
			continue;
		/* Mount points have spaces and such as octal escapes (\040). */
		char *point = g_strcompress(f[4]);
		if (strcmp(point, "/sys/fs/cgroup") == 0) {
			g_free(found);
			return point;
		}
		if (!found)
			found = point;
		else
			g_free(point);
	}
	return found;
}

/* Whether systemd (or another manager) marked @dir delegated. */
static gboolean
proc_cgroup_marked(const char *dir)
{
	static const char *const names[] = {"trusted.delegate", "user.delegate"};
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		char value[8];
		ssize_t n = getxattr(dir, names[i], value, sizeof value);
		if (n == 1 && value[0] == '1')
			return TRUE;
	}
	return FALSE;
}

/* Writes @text into the file @dir/@name; FALSE with errno set. */
static gboolean
proc_cgroup_write(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return FALSE;
	gsize len = strlen(text);
	gboolean ok = write(fd, text, len) == (ssize_t)len;
	int e = errno;
	close(fd);
	errno = e;
	return ok;
}

char *
proc_cgroup_take(char **why)
{
	g_autofree char *own = proc_cgroup_own_path();
	g_autofree char *mount = own ? proc_cgroup_mount() : NULL;
	if (!own || !mount) {
		*why = g_strdup("no cgroup v2 hierarchy");
		return NULL;
	}
	if (strcmp(own, "/") == 0) {
		*why = g_strdup_printf("circuitd is in the root cgroup of %s", mount);
		return NULL;
	}
	g_autofree char *dir = g_build_filename(mount, own, NULL);
	if (!proc_cgroup_marked(dir)) {
		*why = g_strdup_printf("%s is not delegated to circuitd (no user.delegate mark; "
		                       "Delegate=yes in a systemd unit makes one)",
		                       dir);
		return NULL;
	}
	g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);
	if (access(dir, W_OK) != 0 || access(procs, W_OK) != 0) {
		*why = g_strdup_printf("cannot write %s: %s", dir, g_strerror(errno));
		return NULL;
	}
	g_autofree char *leaf = g_build_filename(dir, "daemon", NULL);
	gboolean made = mkdir(leaf, 0755) == 0;
	if (!made && errno != EEXIST) {
		*why = g_strdup_printf("cannot make %s: %s", leaf, g_strerror(errno));
		return NULL;
	}
	g_autofree char *pid = g_strdup_printf("%ld", (long)getpid());
	if (!proc_cgroup_write(leaf, "cgroup.procs", pid)) {
		*why = g_strdup_printf("cannot move circuitd into %s: %s", leaf, g_strerror(errno));
		if (made)
			rmdir(leaf);
		return NULL;
	}
	return g_steal_pointer(&dir);
}

char *
proc_cgroup_make(const char *dir, guint64 *seq, int *procs_fd, GError **error)
{
	for (guint tries = 0; tries < 64; tries++) {
		g_autofree char *name = g_strdup_printf("job-%" G_GUINT64_FORMAT, ++*seq);
		char *path = g_build_filename(dir, name, NULL);
		if (mkdir(path, 0755) != 0) {
			int e = errno;
			g_free(path);
			/* Left by an earlier circuitd in the same cgroup: the next name. */
			if (e == EEXIST)
				continue;
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
			            "cannot make a cgroup in %s: %s", dir, g_strerror(e));
			return NULL;
		}
		g_autofree char *procs = g_build_filename(path, "cgroup.procs", NULL);
		*procs_fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (*procs_fd < 0) {
			int e = errno;
			rmdir(path);
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
			            "cannot open %s: %s", procs, g_strerror(e));
			g_free(path);
			return NULL;
		}
		return path;
	}
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
	            "cannot make a cgroup in %s: every name tried exists", dir);
	return NULL;
}

gboolean
proc_cgroup_remove(const char *path)
{
	return rmdir(path) == 0 || errno == ENOENT;
}

/* (transfer full) (nullable) the text of @path/cgroup.procs. */
static char *
proc_cgroup_procs(const char *path)
{
	g_autofree char *procs = g_build_filename(path, "cgroup.procs", NULL);
	char *text = NULL;
	if (!g_file_get_contents(procs, &text, NULL, NULL))
		return NULL;
	return text;
}

gboolean
proc_cgroup_empty(const char *path)
{
	g_autofree char *text = proc_cgroup_procs(path);
	return !text || *g_strstrip(text) == '\0';
}

void
proc_cgroup_signal(const char *path, int sig)
{
	if (sig == SIGKILL && proc_cgroup_write(path, "cgroup.kill", "1"))
		return;
	g_autofree char *text = proc_cgroup_procs(path);
	if (!text)
		return;
	g_auto(GStrv) pids = g_strsplit(text, "\n", -1);
	for (guint i = 0; pids[i]; i++) {
		long pid = strtol(pids[i], NULL, 10);
		if (pid > 1)
			kill((pid_t)pid, sig);
	}
}
