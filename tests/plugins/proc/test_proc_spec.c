// SPDX-License-Identifier: Apache-2.0
//
// test_proc_spec.c - the process spec and signal names (plugins/proc/proc_spec.c)
// and the accounts jobs run as (plugins/proc/proc_account.c), compiled into
// this test on their own.
#include "proc_account.h"
#include "proc_spec.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

static ProcSpec *
parse_ok(const char *text)
{
	g_autoptr(GError) error = NULL;
	ProcSpec *spec = proc_spec_parse(text, strlen(text), &error);
	g_assert_no_error(error);
	g_assert_nonnull(spec);
	g_assert_nonnull(spec->args);
	return spec;
}

static void
parse_fails(const char *text, const char *needle)
{
	g_autoptr(GError) error = NULL;
	ProcSpec *spec = proc_spec_parse(text, strlen(text), &error);
	g_assert_null(spec);
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_null(strchr(error->message, '\n'));
	if (needle && !strstr(error->message, needle))
		g_error("error \"%s\" lacks \"%s\"", error->message, needle);
}

static void
test_full(void)
{
	ProcSpec *s = parse_ok("{\"Env\":[\"A=1\",\"B=2\"],\"Dir\":\"/tmp\",\"Path\":\"/bin/ls\","
	                       "\"Args\":[\"-l\",\"/\"],\"Scrub\":true}");
	g_assert_cmpstr(s->path, ==, "/bin/ls");
	g_assert_cmpstr(s->dir, ==, "/tmp");
	g_assert_cmpuint(g_strv_length(s->args), ==, 2);
	g_assert_cmpstr(s->args[0], ==, "-l");
	g_assert_cmpstr(s->args[1], ==, "/");
	g_assert_cmpuint(g_strv_length(s->env), ==, 2);
	g_assert_cmpstr(s->env[1], ==, "B=2");
	g_assert_true(s->scrub);
	proc_spec_free(s);
}

static void
test_minimal(void)
{
	ProcSpec *s = parse_ok("{\"Path\":\"/bin/true\"}");
	g_assert_cmpstr(s->path, ==, "/bin/true");
	g_assert_cmpuint(g_strv_length(s->args), ==, 0);
	g_assert_null(s->env);
	g_assert_null(s->dir);
	g_assert_false(s->scrub);
	proc_spec_free(s);
	proc_spec_free(NULL);
}

static void
test_case_insensitive(void)
{
	ProcSpec *s = parse_ok("{\"path\":\"/bin/echo\",\"ARGS\":[\"hi\"],\"eNv\":[],\"dir\":\"/\","
	                       "\"scrub\":false}");
	g_assert_cmpstr(s->path, ==, "/bin/echo");
	g_assert_cmpstr(s->args[0], ==, "hi");
	g_assert_nonnull(s->env);
	g_assert_cmpuint(g_strv_length(s->env), ==, 0);
	g_assert_cmpstr(s->dir, ==, "/");
	proc_spec_free(s);
}

static void
test_unknown_key(void)
{
	parse_fails("{\"Path\":\"/bin/ls\",\"Argz\":[]}", "\"Argz\"");
	parse_fails("{\"Path\":\"/bin/ls\",\"Dirs\":\"/\"}", "\"Dirs\"");
	parse_fails("{\"Path\":\"/bin/ls\",\"\":1}", "unknown key");
}

static void
test_missing_path(void)
{
	parse_fails("{}", "\"Path\" is missing");
	parse_fails("{\"Args\":[\"/\"]}", "\"Path\" is missing");
	parse_fails("{\"Path\":\"\"}", "\"Path\" is missing");
}

static void
test_wrong_types(void)
{
	parse_fails("{\"Path\":42}", "\"Path\" must be a string");
	parse_fails("{\"Path\":null}", "\"Path\" must be a string");
	parse_fails("{\"Path\":[\"/bin/ls\"]}", "\"Path\" must be a string");
	parse_fails("{\"Path\":\"/bin/ls\",\"Dir\":1}", "\"Dir\" must be a string");
	parse_fails("{\"Path\":\"/bin/ls\",\"Args\":\"/\"}", "\"Args\" must be an array");
	parse_fails("{\"Path\":\"/bin/ls\",\"Args\":[\"a\",1]}", "\"Args\"[1]");
	parse_fails("{\"Path\":\"/bin/ls\",\"Args\":[null]}", "\"Args\"[0]");
	parse_fails("{\"Path\":\"/bin/ls\",\"Env\":{}}", "\"Env\" must be an array");
	parse_fails("{\"Path\":\"/bin/ls\",\"Env\":[[\"A=1\"]]}", "\"Env\"[0]");
	parse_fails("{\"Path\":\"/bin/ls\",\"Scrub\":\"yes\"}", "\"Scrub\"");
	parse_fails("{\"Path\":\"/bin/ls\",\"Scrub\":1}", "\"Scrub\"");
}

static void
test_env(void)
{
	/* Absent: inherit the server's environment. */
	ProcSpec *absent = parse_ok("{\"Path\":\"/bin/env\"}");
	g_assert_null(absent->env);
	proc_spec_free(absent);
	/* null: the same as absent. */
	ProcSpec *null = parse_ok("{\"Path\":\"/bin/env\",\"Env\":null}");
	g_assert_null(null->env);
	proc_spec_free(null);
	/* []: an empty environment, not the server's. */
	ProcSpec *empty = parse_ok("{\"Path\":\"/bin/env\",\"Env\":[]}");
	g_assert_nonnull(empty->env);
	g_assert_cmpuint(g_strv_length(empty->env), ==, 0);
	proc_spec_free(empty);
}

static void
test_args_null(void)
{
	ProcSpec *s = parse_ok("{\"Path\":\"/bin/ls\",\"Args\":null}");
	g_assert_nonnull(s->args);
	g_assert_cmpuint(g_strv_length(s->args), ==, 0);
	proc_spec_free(s);
}

static void
test_invalid_json(void)
{
	parse_fails("{\"Path\":", "not valid JSON");
	parse_fails("{Path:\"/bin/ls\"}", "not valid JSON");
	parse_fails("\xff\xfe", NULL);
	g_autoptr(GError) error = NULL;
	g_assert_null(proc_spec_parse("", 0, &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "no process spec"));
}

/* The dialect every kind's spec takes (the host's spec reader): the
 * original's trailing commas, and syntax errors naming line and column;
 * tests/plugins/docker/test_docker_spec.c checks the same texts. */
static void
test_dialect(void)
{
	ProcSpec *s = parse_ok("{\n\t\"Path\": \"/bin/ls\",\n\t\"Args\": [\"/\",],\n}\n");
	g_assert_cmpstr(s->path, ==, "/bin/ls");
	g_assert_cmpstr(s->args[0], ==, "/");
	g_assert_null(s->args[1]);
	proc_spec_free(s);
	static const struct {
		const char *text, *message;
	} bad[] = {
	        {"{Path:\"/bin/ls\"}",
	         "process spec is not valid JSON: line 1, column 2: expected a quoted key (like "
	         "\"Path\") or }, found Path"},
	        {"{\"Path\":\"/bin/ls\"\n\"Args\":[]}", "process spec is not valid JSON: line 2, "
	                                                "column 1: expected , or } after the value "
	                                                "of \"Path\", found the string \"Args\""},
	        {"{\"Path\":\"/bin/ls\"", "process spec is not valid JSON: line 1, column 18: "
	                                  "expected , or } after the value of \"Path\", found the "
	                                  "end of the input"},
	        {"{\"Path\":'/bin/ls'}",
	         "process spec is not valid JSON: line 1, column 9: expected "
	         "a value for \"Path\", found ' (JSON strings take double "
	         "quotes)"},
	        {"{\"Path\":\"/bin/ls}", "process spec is not valid JSON: unterminated string "
	                                 "starting at line 1, column 9"},
	        {"{\"Path\":\"/bin/ls\"} {}",
	         "process spec is not valid JSON: line 1, column 20: { after the end of the JSON "
	         "object"},
	        {"[\"/bin/ls\"]", "process spec must be a JSON object (like "
	                          "{\"Path\":\"/bin/ls\",\"Args\":[\"/\"]}), found an array"},
	        {"{\"Path\":5}", "process spec: \"Path\" must be a string, found the number 5"},
	        {"{\"Path\":\"/bin/ls\",\"Scrub\":\"a\\nb\"}",
	         "process spec: \"Scrub\" must be true or false, found the string \"a\\nb\""},
	        {"{\"Path\":\"/bin/ls\",\"Args\":[\"a\",true]}",
	         "process spec: \"Args\"[1] is not a string (found true)"},
	        {"  \n", "no process spec on standard input (expected JSON like "
	                 "{\"Path\":\"/bin/ls\",\"Args\":[\"/\"]})"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_null(proc_spec_parse(bad[i].text, strlen(bad[i].text), &error));
		g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, bad[i].message);
	}
}

static void
test_not_object(void)
{
	parse_fails("[\"/bin/ls\"]", "must be a JSON object");
	parse_fails("\"/bin/ls\"", "must be a JSON object");
	parse_fails("42", "must be a JSON object");
	parse_fails("null", "must be a JSON object");
}

static void
test_to_json(void)
{
	ProcSpec *s = parse_ok("{\"path\":\"/bin/ls\",\"args\":[\"/\"]}");
	g_autoptr(JsonNode) n = proc_spec_to_json(s);
	g_autofree char *text = json_to_string(n, FALSE);
	g_assert_cmpstr(text, ==,
	                "{\"Env\":null,\"Dir\":\"\",\"Path\":\"/bin/ls\",\"Args\":[\"/\"],"
	                "\"Scrub\":false}");
	proc_spec_free(s);
}

static void
test_signal_parse(void)
{
	const char *term[] = {"TERM", "term", "Term", "SIGTERM", "sigterm", "SigTerm", "15"};
	for (gsize i = 0; i < G_N_ELEMENTS(term); i++)
		g_assert_cmpint(proc_signal_parse(term[i]), ==, SIGTERM);
	g_assert_cmpint(proc_signal_parse("KILL"), ==, SIGKILL);
	g_assert_cmpint(proc_signal_parse("sighup"), ==, SIGHUP);
	g_assert_cmpint(proc_signal_parse("usr1"), ==, SIGUSR1);
	g_assert_cmpint(proc_signal_parse("IOT"), ==, SIGABRT);
	g_assert_cmpint(proc_signal_parse("9"), ==, 9);
	g_assert_cmpint(proc_signal_parse("1"), ==, 1);
}

static void
test_signal_unknown(void)
{
	const char *bad[] = {"",       "SIG", "FOO", "SIGFOO", "TERMX", " TERM", "TERM ",
	                     "SIGSIG", "0",   "-1",  "15x",    "1.5",   "+15",   "x15"};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		if (proc_signal_parse(bad[i]) != -1)
			g_error("signal \"%s\" was accepted", bad[i]);
	}
	g_assert_cmpint(proc_signal_parse(NULL), ==, -1);
	g_autofree char *nsig = g_strdup_printf("%d", NSIG);
	g_assert_cmpint(proc_signal_parse(nsig), ==, -1);
	g_autofree char *last = g_strdup_printf("%d", NSIG - 1);
	g_assert_cmpint(proc_signal_parse(last), ==, NSIG - 1);
	g_assert_cmpint(proc_signal_parse("99999999999999999999"), ==, -1);
}

static void
test_signal_name(void)
{
	g_assert_cmpstr(proc_signal_name(SIGTERM), ==, "TERM");
	g_assert_cmpstr(proc_signal_name(SIGKILL), ==, "KILL");
	g_assert_cmpstr(proc_signal_name(SIGINT), ==, "INT");
	/* SIGIOT is SIGABRT: the name is ABRT, never IOT. */
	g_assert_cmpstr(proc_signal_name(SIGABRT), ==, "ABRT");
	g_assert_null(proc_signal_name(0));
	g_assert_null(proc_signal_name(-1));
	g_assert_null(proc_signal_name(NSIG));
	/* Every name maps back to its number. */
	for (int n = 1; n < NSIG; n++) {
		const char *name = proc_signal_name(n);
		if (name)
			g_assert_cmpint(proc_signal_parse(name), ==, n);
	}
}

static void
test_user_group(void)
{
	ProcSpec *s = parse_ok("{\"Path\":\"/bin/id\",\"User\":\"alice\",\"group\":\"staff\"}");
	g_assert_cmpstr(s->user, ==, "alice");
	g_assert_cmpstr(s->group, ==, "staff");
	g_autoptr(JsonNode) n = proc_spec_to_json(s);
	g_autofree char *text = json_to_string(n, FALSE);
	g_assert_nonnull(strstr(text, "\"User\":\"alice\""));
	g_assert_nonnull(strstr(text, "\"Group\":\"staff\""));
	proc_spec_free(s);
	/* Numbers, as JSON numbers or strings. */
	s = parse_ok("{\"Path\":\"/bin/id\",\"User\":1001,\"Group\":\"100\"}");
	g_assert_cmpstr(s->user, ==, "1001");
	g_assert_cmpstr(s->group, ==, "100");
	proc_spec_free(s);
	/* null: the default account; absent keys stay out of the Cmd object. */
	s = parse_ok("{\"Path\":\"/bin/id\",\"User\":null,\"Group\":null}");
	g_assert_null(s->user);
	g_assert_null(s->group);
	g_autoptr(JsonNode) m = proc_spec_to_json(s);
	g_autofree char *plain = json_to_string(m, FALSE);
	g_assert_null(strstr(plain, "User"));
	g_assert_null(strstr(plain, "Group"));
	proc_spec_free(s);
	parse_fails("{\"Path\":\"/bin/id\",\"User\":\"\"}",
	            "\"User\" must be a user name or number");
	parse_fails("{\"Path\":\"/bin/id\",\"User\":-1}", "\"User\" must be a user name or number");
	parse_fails("{\"Path\":\"/bin/id\",\"User\":[\"a\"]}", "\"User\"");
	parse_fails("{\"Path\":\"/bin/id\",\"User\":true}", "\"User\"");
	parse_fails("{\"Path\":\"/bin/id\",\"Group\":1.5}",
	            "\"Group\" must be a group name or number");
	parse_fails("{\"Path\":\"/bin/id\",\"Group\":\"a\\nb\"}", "\"Group\"");
	parse_fails("{\"Path\":\"/bin/ls\",\"Usr\":\"x\"}", "User, Group");
}

/* Whether @gid is among @a's groups. */
static gboolean
account_has_group(const ProcAccount *a, gid_t gid)
{
	for (int i = 0; i < a->n_groups; i++)
		if (a->groups[i] == gid)
			return TRUE;
	return FALSE;
}

static void
test_account_lookup(void)
{
	g_autoptr(GError) error = NULL;
	ProcAccount *root = proc_account_lookup("root", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(root->uid, ==, 0);
	g_assert_cmpuint(root->gid, ==, 0);
	g_assert_cmpstr(root->name, ==, "root");
	g_assert_cmpstr(root->home, ==, getpwuid(0)->pw_dir);
	g_assert_cmpstr(root->group, ==, getgrgid(0)->gr_name);
	g_assert_cmpint(root->n_groups, >=, 1);
	g_assert_cmpuint(root->groups[0], ==, 0);
	proc_account_free(root);
	/* By number. */
	ProcAccount *zero = proc_account_lookup("0", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(zero->name, ==, "root");
	proc_account_free(zero);
	proc_account_free(NULL);
	/* An account of the machine's that is not root, whatever its numbers. */
	struct passwd *pw = getpwnam("nobody");
	if (pw) {
		ProcAccount *nobody = proc_account_lookup("nobody", &error);
		g_assert_no_error(error);
		g_assert_cmpuint(nobody->uid, ==, pw->pw_uid);
		g_assert_cmpuint(nobody->gid, ==, pw->pw_gid);
		g_assert_true(account_has_group(nobody, pw->pw_gid));
		g_assert_false(account_has_group(nobody, 0));
		proc_account_free(nobody);
	}
	g_assert_null(proc_account_lookup("no-such-user-circuit", &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, "no such user");
	g_clear_error(&error);
	g_assert_null(proc_account_lookup("4000000000", &error));
	g_assert_cmpstr(error->message, ==, "no such user");
}

static void
test_account_group(void)
{
	g_autoptr(GError) error = NULL;
	ProcAccount *a = proc_account_lookup("root", &error);
	g_assert_no_error(error);
	struct group *gr = getgrnam("nogroup");
	if (!gr)
		gr = getgrgid(65534);
	if (gr) {
		/* The named group replaces the primary one, first in the list. */
		gid_t gid = gr->gr_gid;
		g_autofree char *name = g_strdup(gr->gr_name);
		g_assert_true(proc_account_set_group(a, name, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(a->gid, ==, gid);
		g_assert_cmpstr(a->group, ==, name);
		g_assert_cmpuint(a->groups[0], ==, gid);
		g_autofree char *number = g_strdup_printf("%u", (guint)gid);
		g_assert_true(proc_account_set_group(a, number, &error));
		g_assert_cmpuint(a->gid, ==, gid);
	}
	g_assert_true(proc_account_set_group(a, "0", &error));
	g_assert_cmpuint(a->gid, ==, 0);
	g_assert_false(proc_account_set_group(a, "no-such-group-circuit", &error));
	g_assert_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, "no such group");
	g_assert_cmpuint(a->gid, ==, 0);
	proc_account_free(a);
}

static void
test_account_env(void)
{
	ProcAccount a = {.name = (char *)"alice", .home = (char *)"/home/alice"};
	/* A spec's Env keeps what it sets and gains what it lacks. */
	const char *own[] = {"HOME=/tmp", "A=1", NULL};
	g_auto(GStrv) e1 = proc_account_env(&a, own, FALSE);
	g_assert_cmpuint(g_strv_length(e1), ==, 4);
	g_assert_cmpstr(e1[0], ==, "HOME=/tmp");
	g_assert_cmpstr(e1[1], ==, "A=1");
	g_assert_true(g_strv_contains((const char *const *)e1, "USER=alice"));
	g_assert_true(g_strv_contains((const char *const *)e1, "LOGNAME=alice"));
	/* The server's environment: its account's variables are replaced. */
	const char *server[] = {"HOME=/root", "PATH=/bin", "USER=root", "LOGNAME=root", NULL};
	g_auto(GStrv) e2 = proc_account_env(&a, server, TRUE);
	g_assert_cmpuint(g_strv_length(e2), ==, 4);
	g_assert_cmpstr(e2[0], ==, "PATH=/bin");
	g_assert_true(g_strv_contains((const char *const *)e2, "HOME=/home/alice"));
	g_assert_true(g_strv_contains((const char *const *)e2, "USER=alice"));
	g_assert_true(g_strv_contains((const char *const *)e2, "LOGNAME=alice"));
	g_assert_false(g_strv_contains((const char *const *)e2, "HOME=/root"));
	const char *none[] = {NULL};
	g_auto(GStrv) e3 = proc_account_env(&a, none, FALSE);
	g_assert_cmpuint(g_strv_length(e3), ==, 3);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/plugins/proc/spec/full", test_full);
	g_test_add_func("/plugins/proc/spec/minimal", test_minimal);
	g_test_add_func("/plugins/proc/spec/dialect", test_dialect);
	g_test_add_func("/plugins/proc/spec/case-insensitive", test_case_insensitive);
	g_test_add_func("/plugins/proc/spec/unknown-key", test_unknown_key);
	g_test_add_func("/plugins/proc/spec/missing-path", test_missing_path);
	g_test_add_func("/plugins/proc/spec/wrong-types", test_wrong_types);
	g_test_add_func("/plugins/proc/spec/env", test_env);
	g_test_add_func("/plugins/proc/spec/args-null", test_args_null);
	g_test_add_func("/plugins/proc/spec/invalid-json", test_invalid_json);
	g_test_add_func("/plugins/proc/spec/not-object", test_not_object);
	g_test_add_func("/plugins/proc/spec/to-json", test_to_json);
	g_test_add_func("/plugins/proc/spec/user-group", test_user_group);
	g_test_add_func("/plugins/proc/account/lookup", test_account_lookup);
	g_test_add_func("/plugins/proc/account/group", test_account_group);
	g_test_add_func("/plugins/proc/account/env", test_account_env);
	g_test_add_func("/plugins/proc/signal/parse", test_signal_parse);
	g_test_add_func("/plugins/proc/signal/unknown", test_signal_unknown);
	g_test_add_func("/plugins/proc/signal/name", test_signal_name);
	return g_test_run();
}
