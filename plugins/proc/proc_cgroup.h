// SPDX-License-Identifier: Apache-2.0
//
// proc_cgroup.h - a cgroup v2 group per job, where circuitd's own cgroup was
// delegated to it (systemd's Delegate=yes marks it with the extended
// attribute user.delegate=1). circuitd first moves itself into a leaf,
// <own>/daemon, as cgroup v2 allows processes only in leaves once
// controllers are handed down; each job then gets <own>/job-<n>, removed
// once it is empty. Plain file operations on the cgroup file system.
#pragma once

#include <glib.h>

/**
 * proc_cgroup_take: moves circuitd into <own>/daemon if its cgroup (on the
 * cgroup v2 hierarchy) was delegated to it and it may write there.
 * Returns: (transfer full) (nullable) <own>, under which jobs get cgroups,
 * or NULL with *@why (transfer full) saying why jobs share circuitd's
 * cgroup.
 */
char *proc_cgroup_take(char **why);

/**
 * proc_cgroup_make: (transfer full) (nullable) a new cgroup <@dir>/job-<n>
 * (*@seq is advanced past n), with *@procs_fd open for writing on its
 * cgroup.procs (O_CLOEXEC); NULL with @error set if it cannot be made.
 */
char *proc_cgroup_make(const char *dir, guint64 *seq, int *procs_fd, GError **error);

/** proc_cgroup_remove: rmdir(@path); TRUE once it is gone (or was). */
gboolean proc_cgroup_remove(const char *path);

/** proc_cgroup_empty: TRUE if no process is in @path (or it is gone). */
gboolean proc_cgroup_empty(const char *path);

/**
 * proc_cgroup_signal: sends @sig to every process in @path: SIGKILL through
 * cgroup.kill where the kernel has it (5.14), which also catches processes
 * forked meanwhile; otherwise, and for other signals, to each PID listed.
 */
void proc_cgroup_signal(const char *path, int sig);
