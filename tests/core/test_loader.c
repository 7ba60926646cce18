// SPDX-License-Identifier: Apache-2.0
//
// test_loader.c - the plugin loader's checks (core/plugin/loader.c), each
// against a fixture plugin broken on purpose (tests/fixtures/).
#include "plugin/plugin_host.h"

#include <string.h>

#ifndef CIRCUIT_FIXTURE_DIR
#error "CIRCUIT_FIXTURE_DIR must name the built fixtures"
#endif

static char *
fixture_dir(const char *name)
{
	return g_build_filename(CIRCUIT_FIXTURE_DIR, name, NULL);
}

static char *
fixture_path(const char *dir, const char *file)
{
	return g_strconcat(CIRCUIT_FIXTURE_DIR, "/", dir, "/", file, ".so", NULL);
}

static GHashTable *
loaded_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)plugin_free);
}

static void
loaded_add(GHashTable *loaded, Plugin *p)
{
	g_hash_table_insert(loaded, p->kind, p);
}

/* Loads @dir/@file.so, expecting @code; the error must name the file. */
static void
load_fails(const char *dir, const char *file, int code, const char *needle)
{
	g_autofree char *path = fixture_path(dir, file);
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	Plugin *p = plugin_load(path, loaded, &error);
	g_assert_null(p);
	g_assert_error(error, PLUGIN_ERROR, code);
	/* Every check names the file, but the descriptor ones name the kind. */
	if (!strstr(error->message, path) && !strstr(error->message, file))
		g_error("\"%s\" names neither %s nor %s", error->message, path, file);
	if (needle && !strstr(error->message, needle))
		g_error("\"%s\" lacks \"%s\"", error->message, needle);
	g_assert_cmpuint(g_hash_table_size(loaded), ==, 0);
}

static void
test_good(void)
{
	g_autofree char *path = fixture_path("good", "good");
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	Plugin *p = plugin_load(path, loaded, &error);
	g_assert_no_error(error);
	g_assert_nonnull(p);
	g_assert_cmpstr(p->kind, ==, "good");
	g_assert_cmpstr(p->path, ==, path);
	g_assert_cmpstr(p->log_domain, ==, "circuit-good");
	g_assert_cmpstr(p->desc->kind, ==, "good");
	g_assert_cmpuint(p->desc->abi_major, ==, CIRCUIT_PLUGIN_ABI_MAJOR);
	g_assert_nonnull(p->host);
	/* No init: it always succeeds. */
	g_assert_true(plugin_init(p, &error));
	g_assert_no_error(error);
	g_assert_null(p->init_error);
	g_assert_null(plugin_find_op(p, "stdout"));
	loaded_add(loaded, p);
	plugin_free(NULL);
}

static void
test_open_garbage(void)
{
	load_fails("garbage", "garbage", PLUGIN_ERROR_OPEN, NULL);
}

static void
test_open_missing(void)
{
	load_fails("good", "absent", PLUGIN_ERROR_OPEN, NULL);
}

static void
test_open_not_so(void)
{
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	g_assert_null(plugin_load(CIRCUIT_FIXTURE_DIR "/good/good.txt", loaded, &error));
	g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_OPEN);
	g_assert_nonnull(strstr(error->message, "not a .so"));
}

static void
test_symbol(void)
{
	load_fails("nosymbol", "nosymbol", PLUGIN_ERROR_SYMBOL, "circuit_plugin_nosymbol");
}

static void
test_abi_major(void)
{
	g_autofree char *want = g_strdup_printf("%u.0", CIRCUIT_PLUGIN_ABI_MAJOR + 1);
	load_fails("abimajor", "abimajor", PLUGIN_ERROR_ABI, want);
}

static void
test_abi_minor(void)
{
	g_autofree char *want =
	        g_strdup_printf("%u.%u", CIRCUIT_PLUGIN_ABI_MAJOR, CIRCUIT_PLUGIN_ABI_MINOR + 1);
	load_fails("abiminor", "abiminor", PLUGIN_ERROR_ABI, want);
}

static void
test_kind(void)
{
	load_fails("wrongkind", "wrongkind", PLUGIN_ERROR_KIND, "\"otherkind\"");
}

static void
test_duplicate_same_file(void)
{
	g_autofree char *path = fixture_path("good", "good");
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	Plugin *first = plugin_load(path, loaded, &error);
	g_assert_no_error(error);
	loaded_add(loaded, first);
	g_assert_null(plugin_load(path, loaded, &error));
	g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE);
	g_assert_nonnull(strstr(error->message, "\"good\""));
	/* The refused copy closed its handle only: the first still works. */
	g_assert_cmpuint(g_hash_table_size(loaded), ==, 1);
	g_assert_true(g_hash_table_lookup(loaded, "good") == first);
	g_autoptr(JsonNode) n = first->desc->peek(NULL, (gpointer) "still-here");
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(n), "Fixture"), ==,
	                "still-here");
}

static void
test_duplicate_two_dirs(void)
{
	g_autofree char *good = fixture_dir("good");
	g_autofree char *dup = fixture_dir("duplicate");
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	const char *only[] = {"good", NULL};
	g_assert_true(plugin_load_dir(good, only, loaded, &error));
	g_assert_no_error(error);
	g_assert_false(plugin_load_dir(dup, only, loaded, &error));
	g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE);
	g_assert_nonnull(strstr(error->message, dup));
	g_assert_cmpuint(g_hash_table_size(loaded), ==, 1);
	Plugin *p = g_hash_table_lookup(loaded, "good");
	g_assert_nonnull(p);
	g_assert_true(g_str_has_prefix(p->path, good));
}

static void
test_descriptor(void)
{
	load_fails("nocreate", "nocreate", PLUGIN_ERROR_DESCRIPTOR, "create");
	load_fails("nopeek", "nopeek", PLUGIN_ERROR_DESCRIPTOR, "peek");
}

static void
test_reserved_op(void)
{
	load_fails("peekop", "peekop", PLUGIN_ERROR_DESCRIPTOR, "reserved");
}

/* A plugin calling a function the host lacks is refused at load, naming
 * it (before: loaded lazily, and circuitd died at the first call). */
static void
test_unresolved(void)
{
	load_fails("missingfn", "missingfn", PLUGIN_ERROR_UNRESOLVED,
	           "needs circuit_inlet_is_closed, which this circuitd");
}

static void
test_init_fails(void)
{
	g_autofree char *path = fixture_path("initfail", "initfail");
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	Plugin *p = plugin_load(path, loaded, &error);
	g_assert_no_error(error);
	g_assert_nonnull(p);
	loaded_add(loaded, p);
	g_assert_false(plugin_init(p, &error));
	g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_INIT);
	g_assert_nonnull(strstr(error->message, "initfail"));
	g_assert_nonnull(strstr(error->message, "/nonexistent is unreachable"));
	/* The kind stays loaded but unavailable, with the plugin's reason. */
	g_assert_cmpstr(p->init_error, ==, "fixture engine at /nonexistent is unreachable");
	/* plugin_free() must not run fini (the fixture aborts if it does). */
}

/* Loads @dir/@dir.so into @loaded, which must work. */
static Plugin *
load_into(GHashTable *loaded, const char *name)
{
	g_autofree char *path = fixture_path(name, name);
	g_autoptr(GError) error = NULL;
	Plugin *p = plugin_load(path, loaded, &error);
	g_assert_no_error(error);
	g_assert_nonnull(p);
	loaded_add(loaded, p);
	return p;
}

static void
test_aliases(void)
{
	g_autoptr(GHashTable) loaded = loaded_new();
	Plugin *good = load_into(loaded, "good");
	Plugin *aliased = load_into(loaded, "aliased");
	g_assert_nonnull(aliased->aliases);
	g_assert_cmpstr(aliased->aliases[0], ==, "@a");
	g_assert_true(plugin_for_kind(loaded, "aliased") == aliased);
	g_assert_true(plugin_for_kind(loaded, "@a") == aliased);
	g_assert_true(plugin_for_kind(loaded, "@b") == aliased);
	g_assert_true(plugin_for_kind(loaded, "good") == good);
	g_assert_null(good->aliases);
	g_assert_null(plugin_for_kind(loaded, "@c"));
	g_assert_null(plugin_for_kind(loaded, "@"));
}

/* An alias that is another plugin's alias or kind: refused, not loaded. */
static void
test_alias_collision(void)
{
	g_autofree char *path = fixture_path("aliasclash", "aliasclash");
	g_autoptr(GError) error = NULL;
	{
		g_autoptr(GHashTable) loaded = loaded_new();
		load_into(loaded, "aliased");
		g_assert_null(plugin_load(path, loaded, &error));
		g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE);
		g_assert_nonnull(strstr(error->message, "alias \"@b\""));
		g_assert_nonnull(strstr(error->message, "\"aliased\""));
		g_assert_cmpuint(g_hash_table_size(loaded), ==, 1);
		g_assert_null(plugin_for_kind(loaded, "@z"));
		g_clear_error(&error);
	}
	{
		g_autoptr(GHashTable) loaded = loaded_new();
		load_into(loaded, "good");
		g_assert_null(plugin_load(path, loaded, &error));
		g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE);
		g_assert_nonnull(strstr(error->message, "alias \"good\""));
		g_clear_error(&error);
	}
	{
		/* The other way round: a kind that is an alias loaded before. */
		g_autoptr(GHashTable) loaded = loaded_new();
		load_into(loaded, "aliasclash");
		g_autofree char *good = fixture_path("good", "good");
		g_assert_null(plugin_load(good, loaded, &error));
		g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE);
		g_assert_nonnull(strstr(error->message, "already an alias"));
		g_assert_cmpuint(g_hash_table_size(loaded), ==, 1);
		g_clear_error(&error);
	}
}

/* A 1.1 plugin had a reserved slot where 1.2 has aliases: not read. */
static void
test_alias_old_abi(void)
{
	g_autoptr(GHashTable) loaded = loaded_new();
	Plugin *p = load_into(loaded, "oldalias");
	g_assert_cmpuint(p->desc->abi_minor, ==, 1);
	g_assert_null(p->aliases);
	g_assert_null(plugin_for_kind(loaded, "@old"));
	g_assert_true(plugin_for_kind(loaded, "oldalias") == p);
}

static void
test_alias_malformed(void)
{
	load_fails("badalias", "badalias", PLUGIN_ERROR_DESCRIPTOR, "alias \"a/b\"");
}

static void
test_dir_only(void)
{
	g_autofree char *dir = fixture_dir("good");
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	const char *good[] = {"good", NULL};
	g_assert_true(plugin_load_dir(dir, good, loaded, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(loaded), ==, 1);
	/* An empty name (as in --plugins=good,) is ignored. */
	g_autoptr(GHashTable) loaded2 = loaded_new();
	const char *trailing[] = {"good", "", NULL};
	g_assert_true(plugin_load_dir(dir, trailing, loaded2, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(loaded2), ==, 1);
}

static void
test_dir_only_unknown(void)
{
	g_autofree char *dir = fixture_dir("good");
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	const char *only[] = {"nosuchkind", NULL};
	g_assert_false(plugin_load_dir(dir, only, loaded, &error));
	g_assert_error(error, PLUGIN_ERROR, PLUGIN_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, "\"nosuchkind\""));
	g_assert_cmpuint(g_hash_table_size(loaded), ==, 0);
}

/* Each broken fixture, named explicitly, fails the whole load with its code. */
static void
test_dir_only_broken(void)
{
	static const struct {
		const char *kind;
		int code;
	} cases[] = {
	        {"garbage", PLUGIN_ERROR_OPEN},        {"nosymbol", PLUGIN_ERROR_SYMBOL},
	        {"abimajor", PLUGIN_ERROR_ABI},        {"abiminor", PLUGIN_ERROR_ABI},
	        {"wrongkind", PLUGIN_ERROR_KIND},      {"nocreate", PLUGIN_ERROR_DESCRIPTOR},
	        {"nopeek", PLUGIN_ERROR_DESCRIPTOR},   {"peekop", PLUGIN_ERROR_DESCRIPTOR},
	        {"badalias", PLUGIN_ERROR_DESCRIPTOR},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *dir = fixture_dir(cases[i].kind);
		g_autoptr(GHashTable) loaded = loaded_new();
		g_autoptr(GError) error = NULL;
		const char *only[] = {cases[i].kind, NULL};
		g_assert_false(plugin_load_dir(dir, only, loaded, &error));
		g_assert_error(error, PLUGIN_ERROR, cases[i].code);
		g_assert_cmpuint(g_hash_table_size(loaded), ==, 0);
	}
}

/* Without a list, a broken plugin is skipped with a warning, not fatal. */
static void
test_dir_scan_skips(void)
{
	static const char *const broken[] = {"garbage",   "nosymbol", "abimajor", "abiminor",
	                                     "wrongkind", "nocreate", "nopeek",   "peekop"};
	for (gsize i = 0; i < G_N_ELEMENTS(broken); i++) {
		g_autofree char *dir = fixture_dir(broken[i]);
		g_autoptr(GHashTable) loaded = loaded_new();
		g_autoptr(GError) error = NULL;
		g_autofree char *pattern = g_strdup_printf("skipping *%s*", broken[i]);
		g_test_expect_message(NULL, G_LOG_LEVEL_WARNING, pattern);
		g_assert_true(plugin_load_dir(dir, NULL, loaded, &error));
		g_test_assert_expected_messages();
		g_assert_no_error(error);
		g_assert_cmpuint(g_hash_table_size(loaded), ==, 0);
	}
}

static void
test_dir_scan_good(void)
{
	g_autofree char *dir = fixture_dir("good");
	g_autoptr(GHashTable) loaded = loaded_new();
	g_autoptr(GError) error = NULL;
	g_assert_true(plugin_load_dir(dir, NULL, loaded, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(loaded), ==, 1);
	g_assert_nonnull(g_hash_table_lookup(loaded, "good"));
	/* A missing directory holds no plugins; that is not an error here. */
	g_autoptr(GHashTable) none = loaded_new();
	g_assert_true(plugin_load_dir(CIRCUIT_FIXTURE_DIR "/nonexistent", NULL, none, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(none), ==, 0);
}

/* The error codes are distinct and in the order the checks run. */
static void
test_codes(void)
{
	g_assert_cmpint(PLUGIN_ERROR_OPEN, <, PLUGIN_ERROR_SYMBOL);
	g_assert_cmpint(PLUGIN_ERROR_SYMBOL, <, PLUGIN_ERROR_ABI);
	g_assert_cmpint(PLUGIN_ERROR_ABI, <, PLUGIN_ERROR_KIND);
	g_assert_cmpint(PLUGIN_ERROR_KIND, <, PLUGIN_ERROR_DUPLICATE);
	g_assert_cmpint(PLUGIN_ERROR_DESCRIPTOR, <, PLUGIN_ERROR_UNRESOLVED);
}

/* clang-format once turned G_DEFINE_QUARK(circuit-plugin-error, ...) into
 * "circuit - plugin - error", which the macro stringifies: keep it named. */
static void
test_domain_name(void)
{
	g_assert_cmpstr(g_quark_to_string(PLUGIN_ERROR), ==, "circuit-plugin-error");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/core/plugin/loader/good", test_good);
	g_test_add_func("/core/plugin/loader/open-garbage", test_open_garbage);
	g_test_add_func("/core/plugin/loader/open-missing", test_open_missing);
	g_test_add_func("/core/plugin/loader/open-not-so", test_open_not_so);
	g_test_add_func("/core/plugin/loader/symbol", test_symbol);
	g_test_add_func("/core/plugin/loader/abi-major", test_abi_major);
	g_test_add_func("/core/plugin/loader/abi-minor", test_abi_minor);
	g_test_add_func("/core/plugin/loader/kind", test_kind);
	g_test_add_func("/core/plugin/loader/duplicate-same-file", test_duplicate_same_file);
	g_test_add_func("/core/plugin/loader/duplicate-two-dirs", test_duplicate_two_dirs);
	g_test_add_func("/core/plugin/loader/descriptor", test_descriptor);
	g_test_add_func("/core/plugin/loader/reserved-op", test_reserved_op);
	g_test_add_func("/core/plugin/loader/init-fails", test_init_fails);
	g_test_add_func("/core/plugin/loader/unresolved", test_unresolved);
	g_test_add_func("/core/plugin/loader/aliases", test_aliases);
	g_test_add_func("/core/plugin/loader/alias-collision", test_alias_collision);
	g_test_add_func("/core/plugin/loader/alias-old-abi", test_alias_old_abi);
	g_test_add_func("/core/plugin/loader/alias-malformed", test_alias_malformed);
	g_test_add_func("/core/plugin/loader/dir-only", test_dir_only);
	g_test_add_func("/core/plugin/loader/dir-only-unknown", test_dir_only_unknown);
	g_test_add_func("/core/plugin/loader/dir-only-broken", test_dir_only_broken);
	g_test_add_func("/core/plugin/loader/dir-scan-skips", test_dir_scan_skips);
	g_test_add_func("/core/plugin/loader/dir-scan-good", test_dir_scan_good);
	g_test_add_func("/core/plugin/loader/codes", test_codes);
	g_test_add_func("/core/plugin/loader/domain-name", test_domain_name);
	return g_test_run();
}
