// SPDX-License-Identifier: Apache-2.0
//
// proc_account.h - the account a job runs as: a user of the machine's
// account database (getpwnam_r, or getpwuid_r for a number), its groups
// (getgrouplist), and the HOME/USER/LOGNAME a job of it sees. Looked up in
// the daemon, before the spawn: the child that switches to it only makes
// system calls (see proc.c).
#pragma once

#include <circuit/plugin.h>
#include <sys/types.h>

typedef struct {
	char *name;  /* the user's name */
	char *home;  /* its home directory */
	char *group; /* the name of @gid (or its number, if it has no name) */
	uid_t uid;
	gid_t gid;     /* the primary group */
	gid_t *groups; /* the supplementary groups, @gid first */
	int n_groups;
} ProcAccount;

/**
 * proc_account_lookup: (transfer full) the user named @user, or numbered
 * @user when no user has that name; NULL with CIRCUIT_ERROR_INVALID "no such
 * user" (or the lookup's failure) otherwise. Callers prefix the context.
 */
ProcAccount *proc_account_lookup(const char *user, GError **error);

/**
 * proc_account_set_group: makes @group (a name, or a number when no group
 * has that name) the primary group of @account, and its supplementary
 * groups those of the user's memberships with @group first: the user's own
 * primary group is dropped, as `Group` replaces it. FALSE with "no such
 * group" (and @account unchanged) otherwise.
 */
gboolean proc_account_set_group(ProcAccount *account, const char *group, GError **error);

/** proc_account_copy: (transfer full) */
ProcAccount *proc_account_copy(const ProcAccount *account);
void proc_account_free(ProcAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ProcAccount, proc_account_free)

/**
 * proc_account_env: (transfer full) @env (transfer none) for a job of
 * @account: with @replace (the server's own environment), its HOME, USER
 * and LOGNAME give way to the account's; without (the spec's Env), they
 * are added only where @env lacks them.
 */
char **proc_account_env(const ProcAccount *account, const char *const *env, gboolean replace);
