// SPDX-License-Identifier: Apache-2.0
//
// proc_spec.h - parsing the process spec and signal names (pure functions,
// unit-tested on their own). "User" and "Group" are kept as given (a name or
// a number); proc_account.h resolves them.
#pragma once

#include <circuit/plugin.h>
#include <signal.h>
#include <stdlib.h>

typedef struct {
	char *path;
	char **args; /* never NULL */
	char **env;  /* NULL: inherit the server's environment */
	char *dir;   /* NULL or "": the server's directory */
	gboolean scrub;
	char *user;  /* NULL: the default account (proc.user, else the server's) */
	char *group; /* NULL: the account's own group */
} ProcSpec;

/* (transfer full) the spec in @text, or NULL with a CIRCUIT_ERROR_INVALID
 * error naming what is wrong. */
ProcSpec *proc_spec_parse(const char *text, gsize len, GError **error);
void proc_spec_free(ProcSpec *spec);
/* (transfer full) the spec as the original's "Cmd" object (with "User" and
 * "Group" when the spec named them). */
JsonNode *proc_spec_to_json(const ProcSpec *spec);

/* "TERM", "sigterm", "SIGTERM" or "15" -> 15; -1 if unknown. */
int proc_signal_parse(const char *text);
/* 15 -> "TERM"; NULL if unknown. */
const char *proc_signal_name(int number);
