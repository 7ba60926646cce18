// SPDX-License-Identifier: Apache-2.0
//
// proc_spec.c - the process spec: {"Env":[..],"Dir":"","Path":"","Args":[..],
// "Scrub":false}, keys matched case-insensitively as the original did, and
// "User" and "Group" (a name or a number) for jobs run as another account.
#include "proc_spec.h"

#include <string.h>

void
proc_spec_free(ProcSpec *spec)
{
	if (!spec)
		return;
	g_free(spec->path);
	g_free(spec->dir);
	g_strfreev(spec->args);
	g_strfreev(spec->env);
	g_free(spec->user);
	g_free(spec->group);
	g_free(spec);
}

#define PROC_SPEC "process spec"

/* "User" or "Group": a name (a string without control characters) or a
 * number (a JSON number or a string of digits), kept as a string; null
 * clears it. */
static gboolean
proc_spec_account(JsonNode *v, const char *key, const char *what, char **out, GError **error)
{
	g_clear_pointer(out, g_free);
	if (JSON_NODE_HOLDS_NULL(v))
		return TRUE;
	if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64 &&
	    json_node_get_int(v) >= 0 && json_node_get_int(v) < G_MAXUINT32) {
		*out = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(v));
		return TRUE;
	}
	if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING) {
		const char *s = json_node_get_string(v);
		gboolean ok = *s != '\0' && strlen(s) <= 256;
		for (const char *c = s; ok && *c; c++)
			ok = !g_ascii_iscntrl(*c);
		if (ok) {
			*out = g_strdup(s);
			return TRUE;
		}
	}
	g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
	            "process spec: \"%s\" must be a %s name or number", key, what);
	return FALSE;
}

ProcSpec *
proc_spec_parse(const char *text, gsize len, GError **error)
{
	g_autoptr(JsonNode) root = circuit_spec_load(
	        text, len, PROC_SPEC, "{\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}", error);
	if (!root)
		return NULL;
	ProcSpec *spec = g_new0(ProcSpec, 1);
	JsonObject *o = json_node_get_object(root);
	g_autoptr(GList) members = json_object_get_members(o);
	for (GList *l = members; l; l = l->next) {
		const char *key = l->data;
		JsonNode *v = json_object_get_member(o, key);
		gboolean ok = TRUE;
		if (g_ascii_strcasecmp(key, "Path") == 0) {
			ok = circuit_spec_string(v, PROC_SPEC, "Path", FALSE, &spec->path, error);
		} else if (g_ascii_strcasecmp(key, "Dir") == 0) {
			ok = circuit_spec_string(v, PROC_SPEC, "Dir", FALSE, &spec->dir, error);
		} else if (g_ascii_strcasecmp(key, "Args") == 0) {
			ok = circuit_spec_strv(v, PROC_SPEC, "Args", &spec->args, error);
		} else if (g_ascii_strcasecmp(key, "Env") == 0) {
			/* null: the server's environment (see proc_spec.h) */
			g_clear_pointer(&spec->env, g_strfreev);
			if (!JSON_NODE_HOLDS_NULL(v))
				ok = circuit_spec_strv(v, PROC_SPEC, "Env", &spec->env, error);
		} else if (g_ascii_strcasecmp(key, "Scrub") == 0) {
			ok = circuit_spec_bool(v, PROC_SPEC, "Scrub", &spec->scrub, error);
		} else if (g_ascii_strcasecmp(key, "User") == 0) {
			ok = proc_spec_account(v, "User", "user", &spec->user, error);
		} else if (g_ascii_strcasecmp(key, "Group") == 0) {
			ok = proc_spec_account(v, "Group", "group", &spec->group, error);
		} else {
			g_set_error(
			        error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			        "process spec: unknown key \"%s\" (known: Env, Dir, Path, Args, "
			        "Scrub, User, Group)",
			        key);
			ok = FALSE;
		}
		if (!ok) {
			proc_spec_free(spec);
			return NULL;
		}
	}
	if (!spec->path || !*spec->path) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec: \"Path\" is missing (the program to run)");
		proc_spec_free(spec);
		return NULL;
	}
	if (!spec->args)
		spec->args = g_new0(char *, 1);
	return spec;
}

JsonNode *
proc_spec_to_json(const ProcSpec *spec)
{
	JsonObject *o = json_object_new();
	JsonArray *env = spec->env ? json_array_new() : NULL;
	for (guint i = 0; spec->env && spec->env[i]; i++)
		json_array_add_string_element(env, spec->env[i]);
	if (env)
		json_object_set_array_member(o, "Env", env);
	else
		json_object_set_null_member(o, "Env");
	json_object_set_string_member(o, "Dir", spec->dir ? spec->dir : "");
	json_object_set_string_member(o, "Path", spec->path);
	JsonArray *args = json_array_new();
	for (guint i = 0; spec->args[i]; i++)
		json_array_add_string_element(args, spec->args[i]);
	json_object_set_array_member(o, "Args", args);
	json_object_set_boolean_member(o, "Scrub", spec->scrub);
	if (spec->user)
		json_object_set_string_member(o, "User", spec->user);
	if (spec->group)
		json_object_set_string_member(o, "Group", spec->group);
	JsonNode *n = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	return n;
}

static const struct {
	const char *name;
	int number;
} proc_signals[] = {
        {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
        {"CONT", SIGCONT}, {"FPE", SIGFPE},   {"HUP", SIGHUP},       {"ILL", SIGILL},
        {"INT", SIGINT},   {"IO", SIGIO},     {"IOT", SIGIOT},       {"KILL", SIGKILL},
        {"PIPE", SIGPIPE}, {"PROF", SIGPROF}, {"QUIT", SIGQUIT},     {"SEGV", SIGSEGV},
        {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
        {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
        {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
        {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

int
proc_signal_parse(const char *text)
{
	if (!text || !*text)
		return -1;
	if (g_ascii_isdigit(text[0])) {
		char *end = NULL;
		long n = strtol(text, &end, 10);
		return (*end == '\0' && n > 0 && n < NSIG) ? (int)n : -1;
	}
	const char *name = g_ascii_strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
	for (gsize i = 0; i < G_N_ELEMENTS(proc_signals); i++)
		if (g_ascii_strcasecmp(name, proc_signals[i].name) == 0)
			return proc_signals[i].number;
	return -1;
}

const char *
proc_signal_name(int number)
{
	for (gsize i = 0; i < G_N_ELEMENTS(proc_signals); i++)
		if (proc_signals[i].number == number && strcmp(proc_signals[i].name, "IOT") != 0)
			return proc_signals[i].name;
	return NULL;
}
