// SPDX-License-Identifier: Apache-2.0
//
// proc_spec.c - the process spec: {"Env":[..],"Dir":"","Path":"","Args":[..],
// "Scrub":false}, keys matched case-insensitively as the original did.
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
	g_free(spec);
}

static char **
proc_spec_strv(JsonNode *node, const char *key, GError **error)
{
	if (!JSON_NODE_HOLDS_ARRAY(node)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec: \"%s\" must be an array of strings", key);
		return NULL;
	}
	JsonArray *a = json_node_get_array(node);
	guint n = json_array_get_length(a);
	char **v = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++) {
		JsonNode *e = json_array_get_element(a, i);
		if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
			g_strfreev(v);
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "process spec: \"%s\"[%u] is not a string", key, i);
			return NULL;
		}
		v[i] = g_strdup(json_node_get_string(e));
	}
	return v;
}

static gboolean
proc_spec_string(JsonNode *node, const char *key, char **out, GError **error)
{
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec: \"%s\" must be a string", key);
		return FALSE;
	}
	g_free(*out);
	*out = g_strdup(json_node_get_string(node));
	return TRUE;
}

ProcSpec *
proc_spec_parse(const char *text, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	GError *local = NULL;
	if (len == 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "no process spec on standard input (expected JSON like "
		            "{\"Path\":\"/bin/ls\",\"Args\":[\"/\"]})");
		return NULL;
	}
	if (!json_parser_load_from_data(parser, text, (gssize)len, &local)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec is not valid JSON: %s", local->message);
		g_error_free(local);
		return NULL;
	}
	JsonNode *root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "process spec must be a JSON object");
		return NULL;
	}
	ProcSpec *spec = g_new0(ProcSpec, 1);
	JsonObject *o = json_node_get_object(root);
	g_autoptr(GList) members = json_object_get_members(o);
	for (GList *l = members; l; l = l->next) {
		const char *key = l->data;
		JsonNode *v = json_object_get_member(o, key);
		gboolean ok = TRUE;
		if (g_ascii_strcasecmp(key, "Path") == 0) {
			ok = proc_spec_string(v, "Path", &spec->path, error);
		} else if (g_ascii_strcasecmp(key, "Dir") == 0) {
			ok = proc_spec_string(v, "Dir", &spec->dir, error);
		} else if (g_ascii_strcasecmp(key, "Args") == 0) {
			g_strfreev(spec->args);
			spec->args = JSON_NODE_HOLDS_NULL(v) ? g_new0(char *, 1)
			                                     : proc_spec_strv(v, "Args", error);
			ok = spec->args != NULL;
		} else if (g_ascii_strcasecmp(key, "Env") == 0) {
			g_strfreev(spec->env);
			spec->env = NULL;
			if (!JSON_NODE_HOLDS_NULL(v)) {
				spec->env = proc_spec_strv(v, "Env", error);
				ok = spec->env != NULL;
			}
		} else if (g_ascii_strcasecmp(key, "Scrub") == 0) {
			if (!JSON_NODE_HOLDS_VALUE(v) ||
			    json_node_get_value_type(v) != G_TYPE_BOOLEAN) {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "process spec: \"Scrub\" must be true or false");
				ok = FALSE;
			} else {
				spec->scrub = json_node_get_boolean(v);
			}
		} else {
			g_set_error(
			        error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			        "process spec: unknown key \"%s\" (known: Env, Dir, Path, Args, "
			        "Scrub)",
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
