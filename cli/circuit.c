// SPDX-License-Identifier: Apache-2.0
//
// circuit - the command-line tool. A thin front-end of libcircuit: every
// verb it does not know itself goes to the element as a plugin operation.
#include "commands.h"

#include <circuit/client.h>
#include <circuit/error.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static const char *cli_verb = NULL;

static int cli_usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (cli_verb)
		fprintf(stderr, "circuit %s: %s (see circuit help)\n", cli_verb, m);
	else
		fprintf(stderr, "circuit: %s (see circuit help)\n", m);
	return CIRCUIT_EXIT_USAGE;
}

/* Edit distance of @a and @b, capped at 3 (only "close" matters). */
static guint
cli_distance(const char *a, const char *b)
{
	gsize la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 3;
	guint row[33];
	for (gsize j = 0; j <= lb; j++)
		row[j] = (guint)j;
	for (gsize i = 1; i <= la; i++) {
		guint diag = row[0];
		row[0] = (guint)i;
		for (gsize j = 1; j <= lb; j++) {
			guint up = row[j];
			guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
			row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
			diag = up;
		}
	}
	return MIN(row[lb], 3);
}

/* The built-in command nearest @word (distance 1 or 2), or NULL. */
static const char *
cli_nearest(const char *word)
{
	const char *best = NULL;
	guint best_d = 3;
	for (const CliCommand *c = cli_commands; c->name; c++) {
		if (c->name[0] == '<' || strchr(c->name, '<'))
			continue;
		guint d = cli_distance(word, c->name);
		if (d < best_d) {
			best_d = d;
			best = c->name;
		}
	}
	return best;
}

/* "unknown command X; did you mean Y?" (exit 2). */
static int
cli_unknown_command(const char *word, const char *why)
{
	const char *near = cli_nearest(word);
	fprintf(stderr, "circuit: unknown command %s%s%s%s%s (see circuit help)\n", word,
	        near ? "; did you mean " : "", near ? near : "", near ? "?" : "", why ? why : "");
	return CIRCUIT_EXIT_USAGE;
}

static gboolean
cli_is_help_flag(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-help") == 0;
}

/* Prints one line for @error and returns the exit code it maps to. */
static int
cli_report(const char *path, const GError *error)
{
	/* A typo of a built-in that reached an element: say so, not "no operation". */
	if (cli_verb && g_error_matches(error, CIRCUIT_ERROR, CIRCUIT_ERROR_WRONG_KIND) &&
	    strstr(error->message, "has no operation") && !cli_command_find(cli_verb) &&
	    !g_str_has_prefix(cli_verb, "mk") && cli_nearest(cli_verb)) {
		g_autofree char *why = g_strdup_printf(" (%s)", error->message);
		return cli_unknown_command(cli_verb, why);
	}
	/* The table of docs/cli.md ("Exit codes"), which cli_help repeats. */
	int code = circuit_exit_code(error);
	g_autofree char *msg = g_strdup(error->message);
	g_strdelimit(msg, "\r\n", ' ');
	const char *verb = cli_verb ? cli_verb : "";
	if (path && !strstr(msg, path))
		fprintf(stderr, "circuit %s %s: %s\n", verb, path, msg);
	else
		fprintf(stderr, "circuit %s: %s\n", verb, msg);
	return code;
}

/* Library warnings (a key file others can read) as one plain line. */
static GLogWriterOutput
cli_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer user_data)
{
	if (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n; i++)
		if (strcmp(fields[i].key, "MESSAGE") == 0)
			fprintf(stderr, "circuit: warning: %s\n", (const char *)fields[i].value);
	return G_LOG_WRITER_HANDLED;
}

/* The first error writing standard output (its errno), kept for the end. */
static int cli_out_errno;

static void
cli_flush(void)
{
	if (fflush(stdout) != 0 && !cli_out_errno)
		cli_out_errno = errno;
}

static void
cli_print_json(JsonNode *node)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	json_generator_set_pretty(gen, TRUE);
	json_generator_set_indent(gen, 1);
	json_generator_set_indent_char(gen, '\t');
	json_generator_set_root(gen, node);
	g_autofree char *text = json_generator_to_data(gen, NULL);
	printf("%s\n", text);
	cli_flush();
}

static gboolean
cli_write_all(int fd, const void *data, gsize len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return FALSE;
		}
		p += w;
		len -= (gsize)w;
	}
	return TRUE;
}

/* Whether everything printed reached standard output (> /dev/full: no). */
static int
cli_stdout_done(void)
{
	cli_flush();
	if (cli_out_errno || ferror(stdout)) {
		/* A reader that left early (| grep -q) chose to: as SIGPIPE would
		 * end a tool quietly, so does this (circuit ignores SIGPIPE). */
		struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
			return CIRCUIT_EXIT_OK;
		fprintf(stderr, "circuit%s%s: writing standard output: %s\n", cli_verb ? " " : "",
		        cli_verb ? cli_verb : "",
		        cli_out_errno ? g_strerror(cli_out_errno) : "a write failed");
		return CIRCUIT_EXIT_FAILED;
	}
	return CIRCUIT_EXIT_OK;
}

/* keygen FILE: a new key file, readable by its owner only; never overwritten. */
static int
cli_keygen_file(const char *file, const char *key)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "circuit keygen: %s: %s\n", file, g_strerror(errno));
		return errno == EEXIST ? CIRCUIT_EXIT_USAGE : CIRCUIT_EXIT_FAILED;
	}
	g_autofree char *line = g_strconcat(key, "\n", NULL);
	gboolean ok = cli_write_all(fd, line, strlen(line));
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = FALSE;
		saved = errno;
	}
	if (!ok) {
		fprintf(stderr, "circuit keygen: %s: %s\n", file, g_strerror(saved));
		unlink(file);
		return CIRCUIT_EXIT_FAILED;
	}
	return CIRCUIT_EXIT_OK;
}

/* ---- help from the server's kinds ----------------------------------------- */

static void cli_help(const char *cmd);
static JsonObject *cli_installed_kinds(void);

/* (transfer full) (nullable) the dialed server's "Kinds" (its plugins'
 * descriptors), asked within a second; *@where says which server or why
 * none answered. */
static JsonObject *
cli_server_kinds(const char *dial, const char *hmac, char **where)
{
	g_autoptr(GError) error = NULL;
	CircuitDialOptions o = {.address = dial, .key_file = hmac, .timeout_ms = 1000};
	CircuitClient *client = circuit_client_open(&o, &error);
	if (!client) {
		*where = g_strdup_printf("no server answered: %s", error->message);
		return NULL;
	}
	circuit_client_set_call_timeout(client, 2000);
	g_autofree char *root = g_strconcat("/", circuit_client_server_id(client), NULL);
	g_autoptr(JsonNode) peek = circuit_peek(client, root, &error);
	*where = g_strdup(circuit_client_server_url(client));
	circuit_client_free(client);
	if (!peek || !JSON_NODE_HOLDS_OBJECT(peek))
		return NULL;
	JsonNode *kinds = json_object_get_member(json_node_get_object(peek), "Kinds");
	if (!kinds || !JSON_NODE_HOLDS_OBJECT(kinds))
		return NULL; /* an older server: its kinds are not described */
	return json_object_ref(json_node_get_object(kinds));
}

/* Readers of a server's Kinds that take whatever it sent: a member of the
 * wrong type reads as absent (an older or broken server prints less, not
 * GLib's criticals). */
static JsonNode *
cli_member(JsonObject *o, const char *key)
{
	return o ? json_object_get_member(o, key) : NULL;
}

static const char *
cli_str(JsonObject *o, const char *key)
{
	JsonNode *n = cli_member(o, key);
	const char *v = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_string(n) : NULL;
	return v ? v : "";
}

static JsonObject *
cli_obj(JsonObject *o, const char *key)
{
	JsonNode *n = cli_member(o, key);
	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
cli_arr(JsonObject *o, const char *key)
{
	JsonNode *n = cli_member(o, key);
	return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static gboolean
cli_bool(JsonObject *o, const char *key, gboolean absent)
{
	JsonNode *n = cli_member(o, key);
	return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN
	               ? json_node_get_boolean(n)
	               : absent;
}

static JsonObject *
cli_elem_obj(JsonArray *a, guint i)
{
	JsonNode *n = json_array_get_element(a, i);
	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *
cli_elem_str(JsonArray *a, guint i)
{
	JsonNode *n = json_array_get_element(a, i);
	const char *v = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_string(n) : NULL;
	return v ? v : "";
}

/* "mkchan PATH [-max SIZE] CAP" and the like. */
static char *
cli_make_usage(const char *kind, JsonObject *k)
{
	const char *args = cli_str(k, "MakeArgs");
	return g_strdup_printf("mk%s PATH%s%s%s", kind, *args ? " " : "", args,
	                       cli_bool(k, "MakeBody", FALSE) ? " < SPEC" : "");
}

static char *
cli_op_usage(JsonObject *op)
{
	const char *args = cli_str(op, "Args");
	return g_strdup_printf("%s PATH%s%s", cli_str(op, "Name"), *args ? " " : "", args);
}

/* Every kind with its mk and verbs, one line each. */
static void
cli_help_kinds(JsonObject *kinds, const char *where)
{
	printf("\nElement kinds of %s (from its plugins):\n", where);
	g_autoptr(GList) names = json_object_get_members(kinds);
	names = g_list_sort(names, (GCompareFunc)strcmp);
	for (GList *l = names; l; l = l->next) {
		JsonObject *k = cli_obj(kinds, l->data);
		if (!k)
			continue;
		printf("  %s %s: %s\n", (const char *)l->data, cli_str(k, "Version"),
		       cli_str(k, "Summary"));
		if (cli_bool(k, "MakesItself", TRUE)) {
			g_autofree char *mk = cli_make_usage(l->data, k);
			printf("    %-34s make one\n", mk);
			if (strcmp(l->data, "docker") == 0) {
				g_autofree char *dkr = cli_make_usage("dkr", k);
				printf("    %-34s make one (the original's name)\n", dkr);
			}
		}
		JsonArray *aliases = cli_arr(k, "Aliases");
		for (guint i = 0; aliases && i < json_array_get_length(aliases); i++) {
			const char *alias = cli_elem_str(aliases, i);
			g_autofree char *mk = cli_make_usage(alias, k);
			printf("    %-34s make one (%s)\n", mk, alias);
		}
		JsonArray *ops = cli_arr(k, "Operations");
		for (guint i = 0; ops && i < json_array_get_length(ops); i++) {
			JsonObject *op = cli_elem_obj(ops, i);
			if (!op)
				continue;
			g_autofree char *usage = cli_op_usage(op);
			printf("    %-34s %s\n", usage, cli_str(op, "Summary"));
		}
	}
}

/* Help for a word that is no built-in: a kind's mk or a verb, from the
 * server. Returns FALSE if no kind of it has @word. */
static gboolean
cli_help_plugin_word(JsonObject *kinds, const char *word, const char *where)
{
	/* The original's mkdkr is the docker kind's mk (as libcircuit maps it). */
	if (strcmp(word, "mkdkr") == 0)
		word = "mkdocker";
	gboolean found = FALSE;
	g_autoptr(GList) names = json_object_get_members(kinds);
	names = g_list_sort(names, (GCompareFunc)strcmp);
	for (GList *l = names; l; l = l->next) {
		const char *kind = l->data;
		JsonObject *k = cli_obj(kinds, kind);
		if (!k)
			continue;
		g_autofree char *mk = g_strconcat("mk", kind, NULL);
		gboolean alias = FALSE;
		JsonArray *aliases = cli_arr(k, "Aliases");
		for (guint i = 0; aliases && i < json_array_get_length(aliases); i++)
			alias |= g_str_has_prefix(word, "mk") &&
			         strcmp(word + 2, cli_elem_str(aliases, i)) == 0;
		gboolean itself = cli_bool(k, "MakesItself", TRUE);
		if ((strcmp(word, mk) == 0 && itself) || alias) {
			g_autofree char *usage = cli_make_usage(alias ? word + 2 : kind, k);
			printf("usage: circuit %s\n\nMake a %s element: %s (kind %s %s, on %s).\n",
			       usage, kind, cli_str(k, "Summary"), kind, cli_str(k, "Version"),
			       where);
			found = TRUE;
			continue;
		}
		JsonArray *ops = cli_arr(k, "Operations");
		for (guint i = 0; ops && i < json_array_get_length(ops); i++) {
			JsonObject *op = cli_elem_obj(ops, i);
			if (!op)
				continue;
			if (strcmp(cli_str(op, "Name"), word) != 0)
				continue;
			g_autofree char *usage = cli_op_usage(op);
			printf("%susage: circuit %s\n\n%s (on %s elements; %s).\n",
			       found ? "\n" : "", usage, cli_str(op, "Summary"), kind, where);
			if (cli_bool(op, "Body", FALSE))
				printf("Reads standard input.\n");
			if (cli_bool(op, "Output", FALSE))
				printf("Streams output to standard output.\n");
			found = TRUE;
		}
	}
	return found;
}

/*
 * circuit help [WORD], circuit WORD -h. The built-ins come from the CLI's
 * table; the kinds and their verbs from the dialed server (its plugins'
 * descriptors), so a newcomer sees every kind a server offers. Returns the
 * exit code: 2 for a word that is neither.
 */
static int
cli_help_full(const char *cmd, const char *dial, const char *hmac)
{
	const CliCommand *builtin = cmd ? cli_command_find(cmd) : NULL;
	if (cmd && builtin) {
		printf("usage: circuit %s %s\n\n%s\n", builtin->name, builtin->usage,
		       builtin->summary);
		if (builtin->details)
			printf("%s\n", builtin->details);
		return CIRCUIT_EXIT_OK;
	}
	g_autofree char *where = NULL;
	g_autoptr(JsonObject) kinds = cli_server_kinds(dial, hmac, &where);
	if (!kinds) {
		/* No server to ask: the plugins installed here say the same. */
		kinds = cli_installed_kinds();
		if (kinds) {
			g_autofree char *why = g_steal_pointer(&where);
			where = g_strdup_printf("the plugins installed here, as %s", why);
		}
	}
	if (!cmd) {
		cli_help(NULL);
		if (kinds)
			cli_help_kinds(kinds, where);
		else
			printf("\nElement kinds: %s; the kinds a server offers and their verbs are "
			       "listed\nhere when one answers (circuit -d URL help).\n",
			       where);
		return CIRCUIT_EXIT_OK;
	}
	if (kinds && cli_help_plugin_word(kinds, cmd, where))
		return CIRCUIT_EXIT_OK;
	/* Near a built-in and not a verb of the server's kinds (tail is both
	 * near wait and proc's): a typo. */
	if (!g_str_has_prefix(cmd, "mk") && cli_nearest(cmd)) {
		cli_verb = NULL;
		return cli_unknown_command(cmd, NULL);
	}
	if (!kinds) {
		/* No server to ask: the generic forms. */
		const CliCommand *c =
		        cli_command_find(g_str_has_prefix(cmd, "mk") ? "mk<kind>" : "<verb>");
		printf("usage: circuit %s %s\n\n%s\n", cmd, c->usage, c->summary);
		if (c->details)
			printf("%s\n", c->details);
		printf("(%s: its kinds would say exactly what %s takes.)\n", where, cmd);
		return CIRCUIT_EXIT_OK;
	}
	fprintf(stderr,
	        "circuit: unknown command %s: neither a built-in nor a verb of a kind of %s (see "
	        "circuit help)\n",
	        cmd, where);
	return CIRCUIT_EXIT_USAGE;
}

static void
cli_help(const char *cmd)
{
	if (cmd) {
		const CliCommand *c = cli_command_find(cmd);
		if (!c && g_str_has_prefix(cmd, "mk"))
			c = cli_command_find("mk<kind>");
		if (!c)
			c = cli_command_find("<verb>");
		printf("usage: circuit %s %s\n\n%s\n", c->name, c->usage, c->summary);
		if (c->details)
			printf("%s\n", c->details);
		return;
	}
	printf("usage: circuit [-d URL | -discover MCAST:PORT] [-hmac FILE] COMMAND ARGS\n\n"
	       "Commands:\n");
	for (const CliCommand *c = cli_commands; c->name; c++)
		printf("  %-9s %-18s %s\n", c->name, c->usage, c->summary);
	printf("\nGlobal flags (anywhere on the line):\n");
	for (const CliFlag *f = cli_flags; f->name; f++)
		printf("  %-9s %-18s %s\n", f->name, f->arg, f->summary);
	printf("\nThe server is found from -d, else -discover/$CIRCUIT_DISCOVER, else the file "
	       "named by $CIRCUIT,\nelse ~/.circuit, else the local socket ($CIRCUIT_SOCKET or "
	       "/run/circuit/circuitd.sock),\nelse 127.0.0.1:11022. -d unix:PATH dials a unix "
	       "socket.\n"
	       "\n");
	/* The table of docs/cli.md, word for word (tests/integration/exit_codes.sh
	 * compares them and checks every case). */
	printf("Exit codes:\n"
	       "  0  ok (help included)\n"
	       "  1  the operation failed: no such element, a kind without that operation,\n"
	       "     an occupied anchor, not permitted\n"
	       "  2  a usage or configuration mistake: the command line, a spec, an argument\n"
	       "     (a signal name, a capacity, an anchor name), an address or key file\n"
	       "     (-d, -discover, $CIRCUIT, ~/.circuit, -hmac), a bad -timeout\n"
	       "  3  no server, a wrong server (URL or path), a server too busy to take the\n"
	       "     connection, or the element's owner lost or unavailable now (retryable),\n"
	       "     dialed directly or through a relay\n"
	       "  4  the end of a closed channel, stream or subscription (recv on a closed\n"
	       "     channel; stdin of a process that closed it, first write or later)\n"
	       "  5  a waited process or container failed\n"
	       "  6  the -timeout passed (the call was cancelled on the server)\n");
}

/* (transfer full) (nullable) the circuitd beside this circuit (bin/, or
 * ../sbin/ as installed); NULL: take the one on PATH. */
static char *
cli_circuitd_path(void)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = exe ? g_path_get_dirname(exe) : g_strdup(".");
	char *here = g_build_filename(dir, "circuitd", NULL);
	if (g_file_test(here, G_FILE_TEST_IS_EXECUTABLE))
		return here;
	g_free(here);
	char *sbin = g_build_filename(dir, "..", "sbin", "circuitd", NULL);
	if (g_file_test(sbin, G_FILE_TEST_IS_EXECUTABLE))
		return sbin;
	g_free(sbin);
	return NULL;
}

static int
cli_start(int argc, char **argv)
{
	g_autofree char *daemon = cli_circuitd_path();
	char **args = g_new0(char *, argc + 2);
	args[0] = (char *)"circuitd";
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	if (daemon)
		execv(daemon, args);
	execvp("circuitd", args);
	fprintf(stderr, "circuit start: cannot run circuitd: %s\n", g_strerror(errno));
	return CIRCUIT_EXIT_FAILED;
}

/* (transfer full) (nullable) the kinds of the plugins installed here, from
 * `circuitd --describe-plugins` (the same descriptors a server shows). */
static JsonObject *
cli_installed_kinds(void)
{
	g_autofree char *daemon = cli_circuitd_path();
	char *argv[] = {daemon ? daemon : (char *)"circuitd", (char *)"--describe-plugins", NULL};
	g_autofree char *out = NULL;
	int status = 0;
	if (!g_spawn_sync(NULL, argv, NULL,
	                  daemon ? G_SPAWN_STDERR_TO_DEV_NULL
	                         : G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
	                  NULL, NULL, &out, NULL, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL) || !out)
		return NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	if (!json_parser_load_from_data(parser, out, -1, NULL))
		return NULL;
	JsonNode *root = json_parser_get_root(parser);
	return root && JSON_NODE_HOLDS_OBJECT(root) ? json_object_ref(json_node_get_object(root))
	                                            : NULL;
}

static gint
cli_entry_cmp(gconstpointer a, gconstpointer b)
{
	const CircuitEntry *x = *(CircuitEntry *const *)a, *y = *(CircuitEntry *const *)b;
	return strcmp(x->path, y->path);
}

/* Children before their parent (ls --depth): component by component, a
 * path that goes on sorts before the one it extends. */
static gint
cli_entry_depth_cmp(gconstpointer a, gconstpointer b)
{
	const char *x = (*(CircuitEntry *const *)a)->path, *y = (*(CircuitEntry *const *)b)->path;
	for (;;) {
		gsize lx = strcspn(x + 1, "/") + 1, ly = strcspn(y + 1, "/") + 1;
		int c = strncmp(x, y, MIN(lx, ly));
		if (c || lx != ly)
			return c ? c : (lx < ly ? -1 : 1);
		x += lx;
		y += ly;
		if (!*x || !*y)
			return *x ? -1 : *y ? 1 : 0;
	}
}

/* One entry as a JSON line: {"path":..,"kind":..[,"addr":..,"state":..]
 * [,"status":{..}][,"error":..]}. */
static void
cli_entry_json(const CircuitEntry *e)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "path");
	json_builder_add_string_value(b, e->path);
	json_builder_set_member_name(b, "kind");
	if (e->kind)
		json_builder_add_string_value(b, e->kind);
	else
		json_builder_add_null_value(b);
	if (e->addr) {
		json_builder_set_member_name(b, "addr");
		json_builder_add_string_value(b, e->addr);
	}
	if (e->state) {
		json_builder_set_member_name(b, "state");
		json_builder_add_string_value(b, e->state);
	}
	if (e->status) {
		json_builder_set_member_name(b, "status");
		json_builder_add_value(b, json_node_copy(e->status));
	}
	if (e->error) {
		json_builder_set_member_name(b, "error");
		json_builder_add_string_value(b, e->error);
	}
	json_builder_end_object(b);
	g_autoptr(JsonNode) n = json_builder_get_root(b);
	g_autofree char *text = json_to_string(n, FALSE);
	printf("%s\n", text);
}

/* A status object as words: Phase=running Pid=4242 (strings bare, other
 * values as JSON), in the order the kind gave them. */
static void
cli_status_words_except(GString *out, JsonNode *status, const char *const *except)
{
	if (!status || !JSON_NODE_HOLDS_OBJECT(status))
		return;
	JsonObject *o = json_node_get_object(status);
	g_autoptr(GList) keys = json_object_get_members(o);
	for (GList *l = keys; l; l = l->next) {
		JsonNode *v = json_object_get_member(o, l->data);
		if (!v || !JSON_NODE_HOLDS_VALUE(v) || (except && g_strv_contains(except, l->data)))
			continue;
		g_string_append_printf(out, "%s%s=", out->len ? " " : "", (const char *)l->data);
		if (json_node_get_value_type(v) == G_TYPE_STRING) {
			g_autofree char *text = g_strdup(json_node_get_string(v));
			g_strdelimit(text, " \t\r\n", '_');
			g_string_append(out, text);
		} else if (json_node_get_value_type(v) == G_TYPE_DOUBLE) {
			/* 0.23, not json-glib's 0.23000000000000001 */
			g_string_append_printf(out, "%.6g", json_node_get_double(v));
		} else {
			g_autofree char *text = json_to_string(v, FALSE);
			g_string_append(out, text);
		}
	}
}

static void
cli_status_words(GString *out, JsonNode *status)
{
	cli_status_words_except(out, status, NULL);
}

/* ls -l: KIND PATH, then what to check first (a server: address and state;
 * an element: its kind's status words). */
static void
cli_entry_long(const CircuitEntry *e, int width)
{
	g_autoptr(GString) tail = g_string_new(NULL);
	if (e->addr)
		g_string_append(tail, e->addr);
	if (e->state)
		g_string_append_printf(tail, "%s%s", tail->len ? " " : "", e->state);
	cli_status_words(tail, e->status);
	if (tail->len)
		printf("%-10s %-*s  %s\n", e->kind ? e->kind : "-", width, e->path, tail->str);
	else
		printf("%-10s %s\n", e->kind ? e->kind : "-", e->path);
}

static int
cli_ls(CircuitClient *client, char **args)
{
	gboolean longform = FALSE, json = FALSE, depth = FALSE;
	const char *path = NULL;
	for (guint i = 0; args[i]; i++) {
		const char *a = args[i];
		if (strcmp(a, "-l") == 0 || strcmp(a, "-long") == 0 || strcmp(a, "--long") == 0)
			longform = TRUE;
		else if (strcmp(a, "-json") == 0 || strcmp(a, "--json") == 0)
			json = TRUE;
		else if (strcmp(a, "-de") == 0 || strcmp(a, "-depth") == 0 ||
		         strcmp(a, "--depth") == 0)
			depth = TRUE;
		else if (a[0] == '-')
			return cli_usage_error(
			        "unknown flag %s (ls takes -l/--long, --json, --depth)", a);
		else if (!path)
			path = a;
		else
			return cli_usage_error("one path only");
	}
	if (!path)
		path = "/";
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries = longform || json
	                                       ? circuit_ls_status(client, path, FALSE, &error)
	                                       : circuit_ls(client, path, FALSE, &error);
	if (!entries)
		return cli_report(path, error);
	/* The servers in one order, whichever server was dialed. */
	if (depth)
		g_ptr_array_sort(entries, cli_entry_depth_cmp);
	else if (strcmp(path, "/") == 0)
		g_ptr_array_sort(entries, cli_entry_cmp);
	int rc = CIRCUIT_EXIT_OK;
	int width = 0; /* the paths' column, up to 48 wide */
	for (guint i = 0; i < entries->len; i++)
		width = MAX(width, (int)MIN(strlen(((CircuitEntry *)entries->pdata[i])->path), 48));
	for (guint i = 0; i < entries->len; i++) {
		CircuitEntry *e = g_ptr_array_index(entries, i);
		if (json)
			cli_entry_json(e);
		else if (longform)
			cli_entry_long(e, width);
		else
			printf("%s\n", e->path);
		if (e->error) {
			/* A partial listing is still printed; the exit code says so. */
			fprintf(stderr, "circuit ls: %s is missing: %s\n", e->path, e->error);
			rc = CIRCUIT_EXIT_FAILED;
		}
	}
	return rc;
}

/* ---- top: the status table, refreshed ----------------------------------- */

static struct termios cli_top_saved;
static gboolean cli_top_raw;
static volatile sig_atomic_t cli_top_stop;

static void
cli_top_restore(void)
{
	if (cli_top_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &cli_top_saved);
		cli_top_raw = FALSE;
	}
	if (isatty(STDOUT_FILENO)) {
		/* Back from the alternate screen, cursor shown. */
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
	}
}

static void
cli_top_on_signal(int sig)
{
	cli_top_stop = sig;
}

/* A status member as text ("-" if absent). */
static char *
cli_status_text(JsonNode *status, const char *key)
{
	JsonObject *o =
	        status && JSON_NODE_HOLDS_OBJECT(status) ? json_node_get_object(status) : NULL;
	JsonNode *v = o ? json_object_get_member(o, key) : NULL;
	if (!v || !JSON_NODE_HOLDS_VALUE(v))
		return g_strdup("-");
	if (json_node_get_value_type(v) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(v));
	return json_to_string(v, FALSE);
}

static double
cli_status_number(JsonNode *status, const char *key, gboolean *present)
{
	JsonObject *o =
	        status && JSON_NODE_HOLDS_OBJECT(status) ? json_node_get_object(status) : NULL;
	JsonNode *v = o ? json_object_get_member(o, key) : NULL;
	GType t = v && JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_INVALID;
	*present = t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
	return *present ? json_node_get_double(v) : 0;
}

/* Bytes as top and ps show them: 812K, 1.6M, 2.1G (powers of 1024). */
static char *
cli_format_bytes(double b)
{
	static const char units[] = "KMGT";
	double v = b / 1024;
	guint u = 0;
	while (v >= 1024 && u + 1 < sizeof units - 1) {
		v /= 1024;
		u++;
	}
	return g_strdup_printf(v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* One table of @entries (in path order: each server, then its elements). */
static void
cli_top_table(GString *out, GPtrArray *entries, const char *path, int width)
{
	guint servers = 0, elements = 0;
	gsize pw = 4;
	for (guint i = 0; i < entries->len; i++) {
		CircuitEntry *e = g_ptr_array_index(entries, i);
		if (e->kind && strcmp(e->kind, "server") == 0)
			servers++;
		else if (e->kind)
			elements++;
		pw = MAX(pw, strlen(e->path));
	}
	pw = MIN(pw, 48);
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *clock = g_date_time_format(now, "%H:%M:%S");
	g_string_append_printf(out, "circuit top %s: %u server%s, %u element%s, %s (q quits)\n\n",
	                       path, servers, servers == 1 ? "" : "s", elements,
	                       elements == 1 ? "" : "s", clock);
	g_string_append_printf(out, "%-10s %-*s %-10s %7s %8s %8s  %s\n", "KIND", (int)pw, "PATH",
	                       "PHASE", "PID", "CPU", "RSS", "DETAIL");
	static const char *const shown[] = {"Phase", "Pid", "CPU", "RSS", NULL};
	for (guint i = 0; i < entries->len; i++) {
		CircuitEntry *e = g_ptr_array_index(entries, i);
		if (!e->kind)
			continue; /* anchors without an element: nothing to watch */
		g_autoptr(GString) line = g_string_new(NULL);
		gboolean server = strcmp(e->kind, "server") == 0;
		g_autofree char *phase =
		        server ? g_strdup(e->state ? e->state : (e->error ? "missing" : "-"))
		               : cli_status_text(e->status, "Phase");
		g_autofree char *pid = cli_status_text(e->status, "Pid");
		gboolean has_cpu, has_rss;
		double cpu = cli_status_number(e->status, "CPU", &has_cpu);
		double rss = cli_status_number(e->status, "RSS", &has_rss);
		g_autofree char *cpu_s = has_cpu ? g_strdup_printf("%.2fs", cpu) : g_strdup("-");
		g_autofree char *rss_s = has_rss ? cli_format_bytes(rss) : g_strdup("-");
		g_autoptr(GString) detail = g_string_new(NULL);
		if (server && e->addr)
			g_string_append(detail, e->addr);
		if (e->error)
			g_string_append_printf(detail, "%s%s", detail->len ? " " : "", e->error);
		cli_status_words_except(detail, e->status, shown);
		g_string_append_printf(line, "%-10s %-*s %-10s %7s %8s %8s  %s", e->kind, (int)pw,
		                       e->path, phase, pid, cpu_s, rss_s, detail->str);
		if (width > 0 && line->len > (gsize)width)
			g_string_truncate(line, (gsize)width);
		while (line->len && line->str[line->len - 1] == ' ')
			g_string_truncate(line, line->len - 1);
		g_string_append_printf(out, "%s\n", line->str);
	}
}

/* Waits up to @ms for a key; TRUE if it was q (or Q, or ^C/^D). */
static gboolean
cli_top_quit_key(int ms)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	for (;;) {
		gint64 left = (end - g_get_monotonic_time()) / 1000;
		if (left <= 0 || cli_top_stop)
			return cli_top_stop != 0;
		int r = poll(&pfd, cli_top_raw ? 1 : 0, (int)left);
		if (r < 0 && errno != EINTR)
			return FALSE;
		if (r > 0) {
			char c = 0;
			ssize_t n = read(STDIN_FILENO, &c, 1);
			if (n <= 0)
				return FALSE;
			if (c == 'q' || c == 'Q' || c == 3 || c == 4)
				return TRUE;
		}
	}
}

/*
 * top [-n COUNT] [-i SECONDS] [PATH]: the table of `ls -l PATH` (default
 * /..., every server's tree), redrawn every interval on the alternate
 * screen until q. Without a terminal on standard output it prints one
 * table per refresh (-n bounds how many).
 */
static int
cli_top(CircuitClient *client, char **args)
{
	const char *path = NULL;
	long count = 0;
	double interval = 1.0;
	for (guint i = 0; args[i]; i++) {
		const char *a = args[i];
		char *end = NULL;
		if ((strcmp(a, "-n") == 0 || strcmp(a, "-i") == 0) && !args[i + 1])
			return cli_usage_error("%s needs a value", a);
		if (strcmp(a, "-n") == 0) {
			count = strtol(args[++i], &end, 10);
			if (!*args[i] || *end || count <= 0)
				return cli_usage_error(
				        "-n %s: expected a count of refreshes (1 or more)",
				        args[i]);
		} else if (strcmp(a, "-i") == 0) {
			interval = g_ascii_strtod(args[++i], &end);
			if (!*args[i] || *end || !(interval >= 0.1 && interval <= 3600))
				return cli_usage_error("-i %s: expected seconds between refreshes "
				                       "(0.1 to 3600)",
				                       args[i]);
		} else if (a[0] == '-') {
			return cli_usage_error(
			        "unknown flag %s (top takes -n COUNT, -i SECONDS, PATH)", a);
		} else if (!path) {
			path = a;
		} else {
			return cli_usage_error("one path only");
		}
	}
	if (!path)
		path = "/...";
	gboolean tty = isatty(STDOUT_FILENO);
	if (tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &cli_top_saved) == 0) {
		struct termios raw = cli_top_saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			cli_top_raw = TRUE;
	}
	struct sigaction sa = {.sa_handler = cli_top_on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (tty) {
		fputs("\033[?1049h\033[?25l", stdout); /* alternate screen, no cursor */
		fflush(stdout);
	}
	int rc = CIRCUIT_EXIT_OK;
	for (long n = 0; !cli_top_stop && (count == 0 || n < count); n++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) entries = circuit_ls_status(client, path, FALSE, &error);
		if (!entries) {
			cli_top_restore();
			return cli_report(path, error);
		}
		g_ptr_array_sort(entries, cli_entry_cmp);
		struct winsize ws = {0};
		int width = tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
		g_autoptr(GString) frame = g_string_new(tty ? "\033[H\033[2J" : "");
		cli_top_table(frame, entries, path, width);
		if (!tty && n > 0)
			g_string_prepend_c(frame, '\n');
		if (!cli_write_all(STDOUT_FILENO, frame->str, frame->len)) {
			cli_out_errno = errno;
			break;
		}
		if (count && n + 1 >= count)
			break;
		if (cli_top_quit_key((int)(interval * 1000)))
			break;
	}
	cli_top_restore();
	return rc;
}

/*
 * waitall [-first]: waits on every process whose path is a line of standard
 * input (all at once, on one connection), printing "PATH RESULT" as each
 * ends. Exits 0 if all exited 0, else 5 and names the failed ones; with
 * -first, returns when the first one ends, with its outcome.
 */
static int
cli_waitall(CircuitClient *client, char **args)
{
	gboolean first = FALSE;
	for (guint i = 0; args[i]; i++) {
		if (strcmp(args[i], "-first") == 0 || strcmp(args[i], "--first") == 0)
			first = TRUE;
		else
			return cli_usage_error("unexpected argument %s: waitall takes [-first] and "
			                       "reads the paths from standard input",
			                       args[i]);
	}
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) calls = g_ptr_array_new();
	char line[4096];
	while (fgets(line, sizeof line, stdin)) {
		g_strstrip(line);
		if (!*line)
			continue;
		if (line[0] != '/')
			return cli_usage_error("%s: not a path (one absolute path per line)", line);
		g_ptr_array_add(paths, g_strdup(line));
	}
	if (paths->len == 0)
		return cli_usage_error("no paths on standard input (one per line)");
	int rc = CIRCUIT_EXIT_OK;
	for (guint i = 0; i < paths->len; i++) {
		g_autoptr(GError) error = NULL;
		const char *none[] = {NULL};
		CircuitCall *call =
		        circuit_call_open(client, "wait", paths->pdata[i], none, &error);
		if (!call) {
			for (guint j = 0; j < calls->len; j++)
				circuit_call_free(calls->pdata[j]);
			return cli_report(paths->pdata[i], error);
		}
		g_ptr_array_add(calls, call);
	}
	GString *failed = g_string_new(NULL);
	guint left = calls->len;
	while (left > 0) {
		gboolean waited = FALSE;
		for (guint i = 0; i < calls->len && left > 0; i++) {
			CircuitCall *call = calls->pdata[i];
			if (!call)
				continue;
			g_autoptr(GError) error = NULL;
			g_autoptr(JsonNode) result = NULL;
			gboolean bad = FALSE;
			/* One wait blocks a little; the others only look. */
			int t = waited ? 0 : 200;
			waited = TRUE;
			if (!circuit_call_reply(call, &result, &bad, t, &error)) {
				if (g_error_matches(error, CIRCUIT_CLIENT_ERROR,
				                    CIRCUIT_CLIENT_ERROR_TIMEOUT))
					continue;
				int code = cli_report(paths->pdata[i], error);
				rc = rc == CIRCUIT_EXIT_OK ? code : rc;
				bad = TRUE;
			} else {
				g_autofree char *text =
				        result ? json_to_string(result, FALSE) : NULL;
				printf("%s %s\n", (char *)paths->pdata[i], text ? text : "{}");
				cli_flush();
				if (bad && rc == CIRCUIT_EXIT_OK)
					rc = CIRCUIT_EXIT_ELEMENT_FAILED;
			}
			if (bad)
				g_string_append_printf(failed, " %s", (char *)paths->pdata[i]);
			circuit_call_free(call);
			calls->pdata[i] = NULL;
			left--;
			if (first)
				left = 0;
		}
	}
	for (guint i = 0; i < calls->len; i++)
		if (calls->pdata[i])
			circuit_call_abort(calls->pdata[i]);
	if (failed->len)
		fprintf(stderr, "circuit waitall: failed:%s\n", failed->str);
	g_string_free(failed, TRUE);
	return rc;
}

/* Any verb: open the call, feed stdin if asked, print the reply and output. */
static int
cli_call(CircuitClient *client, const char *verb, const char *path, char **args)
{
	g_autoptr(GError) error = NULL;
	CircuitCall *call =
	        circuit_call_open(client, verb, path, (const char *const *)args, &error);
	if (!call)
		return cli_report(path, error);
	if (circuit_call_wants_body(call, &error)) {
		char buf[64 * 1024];
		for (;;) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "circuit %s: reading standard input: %s\n", verb,
				        g_strerror(errno));
				circuit_call_free(call);
				return CIRCUIT_EXIT_FAILED;
			}
			if (n == 0 || !circuit_call_write(call, buf, (gsize)n, &error))
				break;
		}
		if (!error)
			circuit_call_close_write(call, &error);
		g_clear_error(&error); /* the reply says what went wrong, if anything */
	} else if (error) {
		circuit_call_free(call);
		return cli_report(path, error);
	}
	g_autoptr(JsonNode) result = NULL;
	gboolean failed = FALSE;
	if (!circuit_call_reply(call, &result, &failed, -1, &error)) {
		circuit_call_free(call);
		return cli_report(path, error);
	}
	if (result)
		cli_print_json(result);
	char buf[256 * 1024];
	for (;;) {
		gssize n = circuit_call_read(call, buf, sizeof buf, -1, &error);
		if (n < 0) {
			circuit_call_free(call);
			return cli_report(path, error);
		}
		if (n == 0)
			break;
		if (!cli_write_all(STDOUT_FILENO, buf, (gsize)n)) {
			/* Our reader went away: give back what was not written. */
			fprintf(stderr, "circuit %s %s: writing standard output: %s\n", cli_verb,
			        path, g_strerror(errno));
			circuit_call_abort(call);
			return CIRCUIT_EXIT_FAILED;
		}
	}
	/* A receive printed but not acknowledged may be delivered again: say so. */
	if (!circuit_call_finish(call, &error))
		return cli_report(path, error);
	return failed ? CIRCUIT_EXIT_ELEMENT_FAILED : CIRCUIT_EXIT_OK;
}

/* A duration: a number with ms, s (the default), m or h; more than 0. */
static gboolean
cli_parse_duration(const char *text, int *ms)
{
	char *end = NULL;
	double v = g_ascii_strtod(text, &end);
	if (end == text || !(v > 0))
		return FALSE;
	double scale = 1000;
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "m") == 0)
		scale = 60000;
	else if (strcmp(end, "h") == 0)
		scale = 3600000;
	else if (*end && strcmp(end, "s") != 0)
		return FALSE;
	double total = v * scale;
	if (total < 1 || total > 24.0 * 3600000)
		return FALSE;
	*ms = (int)total;
	return TRUE;
}

/* Takes the global flags out of argv, wherever they are (up to "--"). */
static gboolean
cli_take_global(int *argc, char **argv, char **dial, char **discover, char **hmac, char **timeout,
                int *rc)
{
	int out = 1;
	gboolean done = FALSE;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		char **slot = NULL;
		const char *name = a;
		while (*name == '-')
			name++;
		if (done || a[0] != '-' || name == a) {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			done = TRUE;
			continue;
		}
		if (out > 1 && strcmp(argv[1], "start") == 0) {
			argv[out++] = argv[i];
			continue;
		}
		gsize nlen = strcspn(name, "=");
		if ((nlen == 1 && name[0] == 'd') || (nlen == 4 && strncmp(name, "dial", 4) == 0))
			slot = dial;
		else if (nlen == 8 && strncmp(name, "discover", 8) == 0)
			slot = discover;
		else if (nlen == 4 && strncmp(name, "hmac", 4) == 0)
			slot = hmac;
		else if (nlen == 7 && strncmp(name, "timeout", 7) == 0)
			slot = timeout;
		if (!slot) {
			argv[out++] = argv[i];
			continue;
		}
		if (name[nlen] == '=') {
			*slot = g_strdup(name + nlen + 1);
		} else if (i + 1 < *argc) {
			*slot = g_strdup(argv[++i]);
		} else {
			*rc = cli_usage_error("%s needs a value", a);
			return FALSE;
		}
	}
	argv[out] = NULL;
	*argc = out;
	return TRUE;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	/* Streams allocate and free 64 KiB frames at a high rate: keep the heap
	 * instead of giving it back to the kernel after every frame. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	g_autofree char *dial = NULL, *discover = NULL, *hmac = NULL, *timeout = NULL;
	int rc = 0;
	g_autoptr(GError) error_early = NULL;
	g_log_set_writer_func(cli_log_writer, NULL, NULL);
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return cli_start(argc - 2, argv + 2);
	if (!cli_take_global(&argc, argv, &dial, &discover, &hmac, &timeout, &rc))
		return rc;
	if (argc < 2) {
		cli_help(NULL);
		return CIRCUIT_EXIT_USAGE;
	}
	cli_verb = argv[1];
	if (strcmp(cli_verb, "help") == 0 || cli_is_help_flag(cli_verb)) {
		return cli_help_full(argc > 2 ? argv[2] : NULL, dial, hmac);
	}
	if (strcmp(cli_verb, "--version") != 0 && cli_verb[0] == '-') {
		const char *flag = cli_verb;
		cli_verb = NULL;
		return cli_usage_error("unknown flag %s (global flags: -d/-dial, -discover, -hmac, "
		                       "-timeout)",
		                       flag);
	}
	/* VERB -h: that command's help, before anything is dialed. */
	for (int i = 2; i < argc; i++) {
		if (cli_is_help_flag(argv[i]))
			return cli_help_full(cli_verb, dial, hmac);
	}
	if (strcmp(cli_verb, "keygen") == 0) {
		if (argc > 3)
			return cli_usage_error("keygen takes at most one FILE");
		char *key = circuit_keygen(&error_early);
		if (!key) {
			fprintf(stderr, "circuit keygen: %s\n", error_early->message);
			return CIRCUIT_EXIT_FAILED;
		}
		rc = argc == 3 ? cli_keygen_file(argv[2], key) : CIRCUIT_EXIT_OK;
		if (argc == 2)
			printf("%s\n", key);
		circuit_keygen_free(key);
		return rc == CIRCUIT_EXIT_OK ? cli_stdout_done() : rc;
	}
	if (strcmp(cli_verb, "version") == 0 || strcmp(cli_verb, "--version") == 0) {
		printf("circuit %s\n", CIRCUIT_VERSION);
		return cli_stdout_done();
	}
	if (!discover && !dial) {
		const char *env = g_getenv("CIRCUIT_DISCOVER");
		if (env && *env)
			discover = g_strdup(env);
	}
	/* The path is the first argument that starts with '/'; the rest are args. */
	const char *path = NULL;
	g_autoptr(GPtrArray) rest = g_ptr_array_new();
	for (int i = 2; i < argc; i++) {
		if (!path && argv[i][0] == '/' && strcmp(cli_verb, "ls") != 0 &&
		    strcmp(cli_verb, "top") != 0)
			path = argv[i];
		else
			g_ptr_array_add(rest, argv[i]);
	}
	g_ptr_array_add(rest, NULL);
	char **args = (char **)rest->pdata;
	gboolean builtin = cli_command_find(cli_verb) != NULL || g_str_has_prefix(cli_verb, "mk");
	/* A word that is not a built-in, near one: a typo, not a plugin verb. */
	if (!builtin && cli_nearest(cli_verb) && (!path || strcmp(path, "/") == 0))
		return cli_unknown_command(cli_verb, NULL);
	if (strcmp(cli_verb, "ls") != 0 && strcmp(cli_verb, "waitall") != 0 &&
	    strcmp(cli_verb, "top") != 0 && !path)
		return cli_usage_error("no PATH given (paths start with /, as in /X.../name)");
	/* Built-ins take no words but their own: nothing is silently ignored. */
	static const char *const no_args[] = {"peek",   "scrub", "stdin", "stdout",
	                                      "stderr", "wait",  "stk",   NULL};
	for (guint i = 0; no_args[i]; i++) {
		if (strcmp(cli_verb, no_args[i]) == 0 && args[0])
			return cli_usage_error("%s %s: takes only PATH",
			                       args[0][0] == '-' ? "unknown flag"
			                                         : "unexpected argument",
			                       args[0]);
	}
	if (strcmp(cli_verb, "signal") == 0 && args[0] && args[1])
		return cli_usage_error("unexpected argument %s: signal takes SIGNAL PATH", args[1]);

	g_autoptr(GError) error = NULL;
	if (discover && !dial) {
		const char *key = hmac && *hmac ? hmac : g_getenv("CIRCUIT_HMAC");
		gboolean authenticated = FALSE;
		dial = circuit_discover_checked(discover, key, 0, &authenticated, &error);
		if (!dial)
			return cli_report(NULL, error);
		if (!authenticated)
			fprintf(stderr,
			        "circuit: warning: the answer on %s (%s) is unauthenticated: with "
			        "no "
			        "key, anyone on that network could have sent it (use -hmac FILE)\n",
			        discover, dial);
	}
	int timeout_ms = 0;
	if (timeout && !cli_parse_duration(timeout, &timeout_ms))
		return cli_usage_error(
		        "--timeout %s: expected a duration like 30s, 500ms, 2m or 1h", timeout);
	CircuitDialOptions dial_options = {.address = dial, .key_file = hmac};
	CircuitClient *client = circuit_client_open(&dial_options, &error);
	if (!client) {
		/* Say where the address came from (libcircuit does for $CIRCUIT,
		 * ~/.circuit and the defaults); a key's errors name its file. */
		if (dial &&
		    !g_error_matches(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_KEY)) {
			if (discover)
				g_prefix_error(&error, "-discover %s answered %s: ", discover,
				               dial);
			else
				g_prefix_error(&error, "-d %s: ", dial);
		}
		return cli_report(NULL, error);
	}
	circuit_client_set_call_timeout(client, timeout_ms);
	if (strcmp(cli_verb, "ls") == 0)
		rc = cli_ls(client, args);
	else if (strcmp(cli_verb, "waitall") == 0)
		rc = cli_waitall(client, args);
	else if (strcmp(cli_verb, "top") == 0)
		rc = cli_top(client, args);
	else
		rc = cli_call(client, cli_verb, path, args);
	circuit_client_free(client);
	return rc == CIRCUIT_EXIT_OK ? cli_stdout_done() : rc;
}
