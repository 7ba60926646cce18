// SPDX-License-Identifier: Apache-2.0
//
// proc_account.c - users and groups for jobs run as another account.
#include "proc_account.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* TRUE with *@out if @text is a decimal number that fits an id. */
static gboolean
proc_account_number(const char *text, guint32 *out)
{
	if (!g_ascii_isdigit(text[0]))
		return FALSE;
	char *end = NULL;
	errno = 0;
	guint64 n = g_ascii_strtoull(text, &end, 10);
	if (errno || *end || n >= G_MAXUINT32)
		return FALSE;
	*out = (guint32)n;
	return TRUE;
}

/* A buffer for the *_r lookups, grown while they say ERANGE. */
static char *
proc_account_buffer(int which, gsize *len)
{
	long hint = sysconf(which);
	*len = hint > 0 ? (gsize)hint : 1024;
	return g_malloc(*len);
}

static gboolean
proc_account_getpw(const char *user, struct passwd *pw, char **buf, GError **error)
{
	gsize len = 0;
	*buf = proc_account_buffer(_SC_GETPW_R_SIZE_MAX, &len);
	guint32 id = 0;
	gboolean by_number = FALSE;
	for (;;) {
		struct passwd *found = NULL;
		int rc = by_number ? getpwuid_r((uid_t)id, pw, *buf, len, &found)
		                   : getpwnam_r(user, pw, *buf, len, &found);
		if (rc == ERANGE && len < (1u << 20)) {
			len *= 2;
			*buf = g_realloc(*buf, len);
			continue;
		}
		if (found)
			return TRUE;
		/* 0, ENOENT, ESRCH, EBADF and EPERM all mean "not found" here. */
		if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
			            "looking the user up: %s", g_strerror(rc));
			return FALSE;
		}
		if (by_number || !proc_account_number(user, &id))
			break;
		by_number = TRUE;
	}
	g_set_error_literal(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "no such user");
	return FALSE;
}

/* The gid and name of @group (a name, or a number with no such name). */
static gboolean
proc_account_getgr(const char *group, gid_t *gid, char **name, GError **error)
{
	gsize len = 0;
	g_autofree char *buf = proc_account_buffer(_SC_GETGR_R_SIZE_MAX, &len);
	guint32 id = 0;
	gboolean by_number = FALSE;
	struct group gr;
	for (;;) {
		struct group *found = NULL;
		int rc = by_number ? getgrgid_r((gid_t)id, &gr, buf, len, &found)
		                   : getgrnam_r(group, &gr, buf, len, &found);
		if (rc == ERANGE && len < (1u << 20)) {
			len *= 2;
			buf = g_realloc(buf, len);
			continue;
		}
		if (found) {
			*gid = found->gr_gid;
			*name = g_strdup(found->gr_name);
			return TRUE;
		}
		if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
			            "looking the group up: %s", g_strerror(rc));
			return FALSE;
		}
		if (by_number || !proc_account_number(group, &id))
			break;
		by_number = TRUE;
	}
	g_set_error_literal(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "no such group");
	return FALSE;
}

/* The groups of @name's memberships, with @gid first (getgrouplist). */
static void
proc_account_fill_groups(ProcAccount *a)
{
	int n = 16;
	gid_t *groups = g_new(gid_t, n);
	for (;;) {
		int got = n;
		if (getgrouplist(a->name, a->gid, groups, &got) >= 0) {
			n = got;
			break;
		}
		/* Too small: @got says how many there are. */
		n = got > n ? got : n * 2;
		groups = g_renew(gid_t, groups, n);
	}
	g_free(a->groups);
	a->groups = groups;
	a->n_groups = n;
}

/* The name of gid @gid, or its number. */
static char *
proc_account_group_name(gid_t gid)
{
	g_autofree char *number = g_strdup_printf("%u", (guint)gid);
	char *name = NULL;
	gid_t found = 0;
	if (proc_account_getgr(number, &found, &name, NULL) && found == gid)
		return name;
	g_free(name);
	return g_steal_pointer(&number);
}

ProcAccount *
proc_account_lookup(const char *user, GError **error)
{
	struct passwd pw;
	g_autofree char *buf = NULL;
	if (!proc_account_getpw(user, &pw, &buf, error))
		return NULL;
	ProcAccount *a = g_new0(ProcAccount, 1);
	a->name = g_strdup(pw.pw_name);
	a->home = g_strdup(pw.pw_dir && *pw.pw_dir ? pw.pw_dir : "/");
	a->uid = pw.pw_uid;
	a->gid = pw.pw_gid;
	a->group = proc_account_group_name(a->gid);
	proc_account_fill_groups(a);
	return a;
}

gboolean
proc_account_set_group(ProcAccount *account, const char *group, GError **error)
{
	gid_t gid = 0;
	char *name = NULL;
	if (!proc_account_getgr(group, &gid, &name, error))
		return FALSE;
	g_free(account->group);
	account->group = name;
	account->gid = gid;
	proc_account_fill_groups(account);
	return TRUE;
}

ProcAccount *
proc_account_copy(const ProcAccount *account)
{
	ProcAccount *a = g_new0(ProcAccount, 1);
	a->name = g_strdup(account->name);
	a->home = g_strdup(account->home);
	a->group = g_strdup(account->group);
	a->uid = account->uid;
	a->gid = account->gid;
	a->groups = g_memdup2(account->groups, sizeof(gid_t) * (gsize)account->n_groups);
	a->n_groups = account->n_groups;
	return a;
}

void
proc_account_free(ProcAccount *account)
{
	if (!account)
		return;
	g_free(account->name);
	g_free(account->home);
	g_free(account->group);
	g_free(account->groups);
	g_free(account);
}

static const char *const proc_account_vars[] = {"HOME", "USER", "LOGNAME"};

/* Which of proc_account_vars @entry ("NAME=value") sets, or -1. */
static int
proc_account_var(const char *entry)
{
	for (guint i = 0; i < G_N_ELEMENTS(proc_account_vars); i++) {
		gsize n = strlen(proc_account_vars[i]);
		if (strncmp(entry, proc_account_vars[i], n) == 0 && entry[n] == '=')
			return (int)i;
	}
	return -1;
}

char **
proc_account_env(const ProcAccount *account, const char *const *env, gboolean replace)
{
	GPtrArray *out = g_ptr_array_new();
	gboolean set[G_N_ELEMENTS(proc_account_vars)] = {FALSE};
	for (guint i = 0; env[i]; i++) {
		int var = proc_account_var(env[i]);
		if (var >= 0 && replace)
			continue;
		if (var >= 0)
			set[var] = TRUE;
		g_ptr_array_add(out, g_strdup(env[i]));
	}
	const char *values[] = {account->home, account->name, account->name};
	for (guint i = 0; i < G_N_ELEMENTS(proc_account_vars); i++)
		if (!set[i])
			g_ptr_array_add(out,
			                g_strconcat(proc_account_vars[i], "=", values[i], NULL));
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}
