// SPDX-License-Identifier: Apache-2.0
//
// loader.c - finds, opens and checks plugins. Nothing of a plugin runs
// before every check has passed.
#include "plugin_host.h"

#include <string.h>

GQuark
plugin_error_quark(void)
{
	return g_quark_from_static_string("circuit-plugin-error");
}

void
plugin_free(Plugin *plugin)
{
	if (!plugin)
		return;
	if (plugin->desc && plugin->desc->fini && !plugin->init_error && plugin->ctx)
		plugin->desc->fini(plugin->ctx);
	if (plugin->module)
		g_module_close(plugin->module);
	g_free(plugin->host);
	g_free(plugin->kind);
	g_free(plugin->path);
	g_free(plugin->log_domain);
	g_free(plugin->init_error);
	g_free(plugin->unavailable);
	g_free(plugin);
}

static char *
plugin_kind_from_path(const char *path)
{
	g_autofree char *base = g_path_get_basename(path);
	if (!g_str_has_suffix(base, ".so"))
		return NULL;
	return g_strndup(base, strlen(base) - 3);
}

/* (nullable) The aliases of @d: only plugins built for ABI 1.2 or later
 * have the field; older ones had a reserved slot there. */
static const char *const *
plugin_descriptor_aliases(const CircuitPluginDescriptor *d)
{
	return d->abi_minor >= 2 ? d->aliases : NULL;
}

Plugin *
plugin_for_kind(GHashTable *plugins, const char *kind)
{
	Plugin *p = g_hash_table_lookup(plugins, kind);
	if (p)
		return p;
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, plugins);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		p = value;
		if (p->aliases && g_strv_contains(p->aliases, kind))
			return p;
	}
	return NULL;
}

/* An alias is shown and typed like a kind: a short name without '/',
 * blanks or control characters. */
static const char *
plugin_alias_problem(const char *alias)
{
	if (!*alias)
		return "is empty";
	if (strlen(alias) > 64)
		return "is longer than 64 bytes";
	for (const char *c = alias; *c; c++)
		if (*c == '/' || g_ascii_isspace(*c) || g_ascii_iscntrl(*c))
			return "holds '/', a blank or a control character";
	return NULL;
}

static gboolean
plugin_descriptor_sane(const char *path, const CircuitPluginDescriptor *d, GError **error)
{
	const char *const *aliases = plugin_descriptor_aliases(d);
	for (guint i = 0; aliases && aliases[i]; i++) {
		const char *why = plugin_alias_problem(aliases[i]);
		if (!why && strcmp(aliases[i], d->kind) == 0)
			why = "repeats the plugin's kind";
		for (guint j = 0; !why && j < i; j++)
			if (strcmp(aliases[i], aliases[j]) == 0)
				why = "is listed twice";
		if (why) {
			g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DESCRIPTOR,
			            "plugin %s: alias \"%s\" %s", path, aliases[i], why);
			return FALSE;
		}
	}
	if (!d->create || !d->peek) {
		g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DESCRIPTOR,
		            "plugin %s: its descriptor lacks %s", path,
		            !d->create ? "create" : "peek");
		return FALSE;
	}
	for (guint i = 0; i < d->n_ops; i++) {
		const CircuitOp *op = &d->ops[i];
		/* Every name the router answers itself (router_dispatch): an op of
		 * that name could never be reached. */
		static const char *const reserved[] = {"ls",          "peek",        "scrub", "mk",
		                                       "member.sync", "member.find", NULL};
		const char *why = !op->name || !*op->name               ? "has no name"
		                  : !op->run                            ? "has no run function"
		                  : op->min_args > op->max_args         ? "has min_args > max_args"
		                  : g_strv_contains(reserved, op->name) ? "uses a reserved name"
		                                                        : NULL;
		if (why) {
			g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DESCRIPTOR,
			            "plugin %s: operation %u (\"%s\") %s", path, i,
			            op->name ? op->name : "", why);
			return FALSE;
		}
	}
	return TRUE;
}

Plugin *
plugin_load(const char *path, GHashTable *loaded, GError **error)
{
	g_autofree char *kind = plugin_kind_from_path(path);
	if (!kind) {
		g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_OPEN, "%s: not a .so file", path);
		return NULL;
	}
	/* 1. It opens, every symbol bound now: a function the host lacks must
	 * refuse the plugin here, not end circuitd at the first call ("symbol
	 * lookup error"). Local binding keeps plugins' symbols apart. Such a
	 * plugin is opened again lazily, only so the checks below (a wrong ABI
	 * explains a missing symbol best) run first; nothing of it is called. */
	g_autofree char *unresolved = NULL;
	GModule *module = g_module_open(path, G_MODULE_BIND_LOCAL);
	if (!module) {
		const char *why = g_module_error();
		const char *u = why ? strstr(why, "undefined symbol: ") : NULL;
		if (u) {
			unresolved = g_strdup(u + strlen("undefined symbol: "));
			g_strstrip(unresolved);
			module = g_module_open(path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
		}
		if (!module) {
			g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_OPEN, "plugin %s: %s", path,
			            why);
			return NULL;
		}
	}
	/* 2. Its one symbol exists. */
	g_autofree char *symbol = g_strconcat("circuit_plugin_", kind, NULL);
	gpointer sym = NULL;
	if (!g_module_symbol(module, symbol, &sym) || !sym) {
		g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_SYMBOL,
		            "plugin %s: no symbol %s (is it a circuit plugin?)", path, symbol);
		g_module_close(module);
		return NULL;
	}
	const CircuitPluginDescriptor *d = sym;
	/* 3. The ABI fits. */
	if (d->abi_major != CIRCUIT_PLUGIN_ABI_MAJOR || d->abi_minor > CIRCUIT_PLUGIN_ABI_MINOR) {
		g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_ABI,
		            "plugin %s: built for SDK ABI %u.%u, this server has %u.%u", path,
		            d->abi_major, d->abi_minor, CIRCUIT_PLUGIN_ABI_MAJOR,
		            CIRCUIT_PLUGIN_ABI_MINOR);
		g_module_close(module);
		return NULL;
	}
	/* 4. The kind equals the file name. */
	if (!d->kind || strcmp(d->kind, kind) != 0) {
		g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_KIND,
		            "plugin %s: declares kind \"%s\" but the file is named %s.so", path,
		            d->kind ? d->kind : "(null)", kind);
		g_module_close(module);
		return NULL;
	}
	/* 5. Not loaded already: neither its kind nor an alias (ABI 1.2) may
	 * name a kind or alias of a plugin loaded before. */
	Plugin *other = plugin_for_kind(loaded, kind);
	if (other) {
		if (strcmp(other->kind, kind) == 0)
			g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE,
			            "plugin %s: kind \"%s\" is loaded already", path, kind);
		else
			g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE,
			            "plugin %s: kind \"%s\" is already an alias of plugin %s", path,
			            kind, other->path);
		g_module_close(module);
		return NULL;
	}
	const char *const *aliases = plugin_descriptor_aliases(d);
	for (guint i = 0; aliases && aliases[i]; i++) {
		other = plugin_for_kind(loaded, aliases[i]);
		if (other) {
			g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_DUPLICATE,
			            "plugin %s: alias \"%s\" is already taken by plugin %s (kind "
			            "\"%s\")",
			            path, aliases[i], other->path, other->kind);
			g_module_close(module);
			return NULL;
		}
	}
	if (!plugin_descriptor_sane(path, d, error)) {
		g_module_close(module);
		return NULL;
	}
	if (unresolved) {
		g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_UNRESOLVED,
		            "plugin %s: needs %s, which this circuitd (SDK ABI %u.%u) does not "
		            "have: built against another SDK?",
		            path, unresolved, CIRCUIT_PLUGIN_ABI_MAJOR, CIRCUIT_PLUGIN_ABI_MINOR);
		g_module_close(module);
		return NULL;
	}
#if defined(__SANITIZE_ADDRESS__)
	/* Sanitizer reports at exit can only name plugin code that is still mapped. */
	g_module_make_resident(module);
#endif
	Plugin *p = g_new0(Plugin, 1);
	p->kind = g_steal_pointer(&kind);
	p->path = g_strdup(path);
	p->log_domain = g_strconcat("circuit-", p->kind, NULL);
	p->module = module;
	p->desc = d;
	p->aliases = aliases;
	p->host = host_new(p);
	return p;
}

gboolean
plugin_init(Plugin *plugin, GError **error)
{
	if (!plugin->desc->init)
		return TRUE;
	GError *local = NULL;
	if (!plugin->desc->init(plugin->host, &plugin->ctx, &local)) {
		plugin->init_error = g_strdup(local ? local->message : "init failed");
		g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_INIT, "plugin %s: %s", plugin->kind,
		            plugin->init_error);
		g_clear_error(&local);
		return FALSE;
	}
	return TRUE;
}

const char *
plugin_unavailable(const Plugin *plugin)
{
	return plugin->init_error ? plugin->init_error : plugin->unavailable;
}

JsonNode *
plugin_peek(const Plugin *plugin)
{
	if (plugin->init_error || plugin->desc->abi_minor < 2 || !plugin->desc->peek_plugin)
		return NULL;
	return plugin->desc->peek_plugin(plugin->host, plugin->ctx);
}

JsonObject *
plugin_describe(const Plugin *p)
{
	const CircuitPluginDescriptor *d = p->desc;
	JsonObject *k = json_object_new();
	json_object_set_string_member(k, "Version", d->version ? d->version : "");
	json_object_set_string_member(k, "Summary", d->summary ? d->summary : "");
	JsonArray *aliases = json_array_new();
	for (guint i = 0; p->aliases && p->aliases[i]; i++)
		json_array_add_string_element(aliases, p->aliases[i]);
	json_object_set_array_member(k, "Aliases", aliases);
	json_object_set_string_member(k, "MakeArgs", d->make_args_usage ? d->make_args_usage : "");
	json_object_set_boolean_member(k, "MakeBody", (d->make_flags & CIRCUIT_OP_BODY) != 0);
	json_object_set_boolean_member(
	        k, "MakesItself",
	        !(d->abi_minor >= 2 && (d->make_flags & CIRCUIT_MAKE_ALIASES_ONLY)));
	JsonArray *ops = json_array_new();
	for (guint i = 0; i < d->n_ops; i++) {
		const CircuitOp *op = &d->ops[i];
		JsonObject *o = json_object_new();
		json_object_set_string_member(o, "Name", op->name);
		json_object_set_string_member(o, "Args", op->args_usage ? op->args_usage : "");
		json_object_set_string_member(o, "Summary", op->summary ? op->summary : "");
		json_object_set_int_member(o, "MinArgs", op->min_args);
		json_object_set_int_member(o, "MaxArgs", op->max_args);
		json_object_set_boolean_member(o, "Body", (op->flags & CIRCUIT_OP_BODY) != 0);
		json_object_set_boolean_member(o, "Output", (op->flags & CIRCUIT_OP_OUTPUT) != 0);
		json_array_add_object_element(ops, o);
	}
	json_object_set_array_member(k, "Operations", ops);
	return k;
}

JsonNode *
plugin_element_status(const Plugin *plugin, CircuitElement *element, gpointer element_ctx)
{
	if (plugin->desc->abi_minor < 2 || !plugin->desc->status)
		return NULL;
	return plugin->desc->status(element, element_ctx);
}

const CircuitPluginOption *
plugin_options(const Plugin *plugin)
{
	return plugin->desc->abi_minor >= 2 ? plugin->desc->options : NULL;
}

const CircuitPluginOption *
plugin_option_find(const Plugin *plugin, const char *key)
{
	const CircuitPluginOption *opts = plugin_options(plugin);
	for (guint i = 0; opts && opts[i].key; i++)
		if (strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

static gboolean
plugin_check_option(const Plugin *p, const char *key, const char *value, GError **error)
{
	const CircuitPluginOption *opts = plugin_options(p);
	if (!opts)
		return TRUE;
	g_autoptr(GString) have = g_string_new(NULL);
	for (guint i = 0; opts[i].key; i++) {
		if (strcmp(opts[i].key, key) == 0) {
			GError *local = NULL;
			if (opts[i].check && !opts[i].check(value, &local)) {
				g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_OPTION,
				            "--plugin-option %s.%s=%s: %s", p->kind, key, value,
				            local ? local->message : "refused");
				g_clear_error(&local);
				return FALSE;
			}
			return TRUE;
		}
		g_string_append_printf(have, "%s%s.%s", i ? ", " : "", p->kind, opts[i].key);
	}
	g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_OPTION,
	            "--plugin-option %s.%s: the %s plugin has no such option (it has: %s; "
	            "circuitd --help-plugin %s)",
	            p->kind, key, p->kind, have->len ? have->str : "none", p->kind);
	return FALSE;
}

gboolean
plugin_check_options(GHashTable *plugins, GHashTable *options, GError **error)
{
	g_autoptr(GList) keys = g_hash_table_get_keys(options);
	keys = g_list_sort(keys, (GCompareFunc)strcmp);
	for (GList *l = keys; l; l = l->next) {
		const char *name = l->data;
		const char *dot = strchr(name, '.');
		if (!dot)
			continue;
		g_autofree char *kind = g_strndup(name, (gsize)(dot - name));
		Plugin *p = g_hash_table_lookup(plugins, kind);
		if (p &&
		    !plugin_check_option(p, dot + 1, g_hash_table_lookup(options, name), error))
			return FALSE;
	}
	return TRUE;
}

const CircuitOp *
plugin_find_op(const Plugin *plugin, const char *name)
{
	for (guint i = 0; i < plugin->desc->n_ops; i++)
		if (strcmp(plugin->desc->ops[i].name, name) == 0)
			return &plugin->desc->ops[i];
	return NULL;
}

static gint
plugin_path_cmp(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

gboolean
plugin_load_dir(const char *dir, const char *const *only, GHashTable *loaded, GError **error)
{
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	if (only) {
		for (guint i = 0; only[i]; i++) {
			if (!*only[i])
				continue;
			char *path = g_strconcat(dir, "/", only[i], ".so", NULL);
			if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
				g_set_error(error, PLUGIN_ERROR, PLUGIN_ERROR_NOT_FOUND,
				            "no plugin \"%s\" in %s", only[i], dir);
				g_free(path);
				return FALSE;
			}
			g_ptr_array_add(paths, path);
		}
	} else {
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const char *name;
		while (d && (name = g_dir_read_name(d)))
			if (g_str_has_suffix(name, ".so"))
				g_ptr_array_add(paths, g_strconcat(dir, "/", name, NULL));
		g_ptr_array_sort(paths, plugin_path_cmp);
	}
	for (guint i = 0; i < paths->len; i++) {
		GError *local = NULL;
		Plugin *p = plugin_load(g_ptr_array_index(paths, i), loaded, &local);
		if (!p) {
			if (only) {
				g_propagate_error(error, local);
				return FALSE;
			}
			g_warning("skipping %s", local->message);
			g_error_free(local);
			continue;
		}
		g_hash_table_insert(loaded, p->kind, p);
	}
	return TRUE;
}
