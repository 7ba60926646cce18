// SPDX-License-Identifier: Apache-2.0
//
// plugin_host.h - loading plugins (loader.c) and the core's side of the SDK
// (host.c: hosts, elements, watches, logging).
#pragma once

#include "acl/acl.h"
#include "anchor/anchor.h"

#include <circuit/plugin.h>
#include <gmodule.h>

#define PLUGIN_ERROR (plugin_error_quark())
GQuark plugin_error_quark(void);

/* One code per load check, in the order they run (STYLE.md rule 3). */
typedef enum {
	PLUGIN_ERROR_OPEN = 1,       /* the file does not open as a module */
	PLUGIN_ERROR_SYMBOL = 2,     /* circuit_plugin_<kind> is missing */
	PLUGIN_ERROR_ABI = 3,        /* major differs or minor is newer than ours */
	PLUGIN_ERROR_KIND = 4,       /* descriptor kind differs from the file name */
	PLUGIN_ERROR_DUPLICATE = 5,  /* that kind (or one of its aliases) is loaded already */
	PLUGIN_ERROR_INIT = 6,       /* the plugin's init() failed */
	PLUGIN_ERROR_NOT_FOUND = 7,  /* --plugins named a kind with no file */
	PLUGIN_ERROR_DESCRIPTOR = 8, /* descriptor lacks create/peek or has bad ops */
	PLUGIN_ERROR_UNRESOLVED = 9, /* it needs a symbol the host lacks (checked last) */
	PLUGIN_ERROR_OPTION = 10     /* a --plugin-option the plugin refuses */
} PluginError;

typedef struct Plugin Plugin;
struct Plugin {
	char *kind;
	char *path;
	char *log_domain;
	GModule *module;
	const CircuitPluginDescriptor *desc;
	/* (ABI 1.2) desc->aliases, or NULL for older plugins: never read the
	 * descriptor's field directly. */
	const char *const *aliases;
	CircuitHost *host;
	gpointer ctx;
	char *init_error;  /* set when init() failed: the kind is unavailable */
	char *unavailable; /* circuit_host_set_unavailable(): why, or NULL */
};

/* (transfer none) (nullable) why mk of @plugin's kinds fails now: init()
 * failed, or the plugin said it is unavailable. */
const char *plugin_unavailable(const Plugin *plugin);
/* (transfer full) (nullable) the plugin's peek_plugin(), for ABI 1.2+
 * plugins whose init() succeeded. */
JsonNode *plugin_peek(const Plugin *plugin);
/* (transfer full) What @plugin's descriptor says, as the server's peek
 * shows it under "Kinds" (Version, Summary, Aliases, MakeArgs, MakeBody,
 * MakesItself, Operations): what `circuit help` reads. */
JsonObject *plugin_describe(const Plugin *plugin);
/* (transfer full) (nullable) @element's status (ABI 1.2 plugins that have one). */
JsonNode *plugin_element_status(const Plugin *plugin, CircuitElement *element,
                                gpointer element_ctx);

/* Runs the five checks on @path; @loaded maps kind -> Plugin. */
Plugin *plugin_load(const char *path, GHashTable *loaded, GError **error);
/* Calls init(); on failure keeps the reason in plugin->init_error. */
gboolean plugin_init(Plugin *plugin, GError **error);
void plugin_free(Plugin *plugin);
/*
 * Loads plugins from @dir into @loaded. With @only (NULL-terminated kinds)
 * exactly those, failing on the first that cannot be loaded; without it
 * every *.so that loads (others are logged and skipped).
 */
gboolean plugin_load_dir(const char *dir, const char *const *only, GHashTable *loaded,
                         GError **error);
/* (nullable) The plugin that makes @kind, as its kind or one of its aliases. */
Plugin *plugin_for_kind(GHashTable *plugins, const char *kind);
/* (nullable) The option keys @plugin declares (ABI 1.2), NULL if none. */
const CircuitPluginOption *plugin_options(const Plugin *plugin);
/* (nullable) The declared option @key ("max-held" of chan.max-held). */
const CircuitPluginOption *plugin_option_find(const Plugin *plugin, const char *key);
/*
 * Checks every "KIND.KEY" of @options (name -> value) against the loaded
 * @plugins: a kind that declares its keys refuses the others and checks
 * each value. FALSE with one line naming --plugin-option at the first that
 * is refused. Keys of kinds not loaded are left (they may be core's own).
 */
gboolean plugin_check_options(GHashTable *plugins, GHashTable *options, GError **error);
/* Looks an op up by name in a descriptor. */
const CircuitOp *plugin_find_op(const Plugin *plugin, const char *name);

/* Daemon-wide settings the host functions read. */
typedef struct {
	char *server_id;
	char *server_addr;
	GHashTable *options; /* name -> value, for circuit_host_option */
	double grace;
	int guard_fd; /* pipe to circuit-guard, -1 if none */
} HostConfig;
extern HostConfig host_config;

/* A new circuit-guard is at host_config.guard_fd: tells it every process
 * group registered and not yet unregistered (what was still waiting for the
 * old one included). */
void host_guard_replay(void);

/* (transfer full) the host object handed to @plugin. */
CircuitHost *host_new(Plugin *plugin);

/* Elements. @kind is what the mk asked for: @plugin's kind or one of its
 * aliases (NULL means the plugin's kind). */
CircuitElement *element_new(Plugin *plugin, const char *kind, const char *path);
Plugin *element_plugin(CircuitElement *element);
/* (transfer none) The kind the element was made as, for display and logs. */
const char *element_kind(CircuitElement *element);
gpointer element_ctx(CircuitElement *element);
void element_set_ctx(CircuitElement *element, gpointer ctx);
void element_attach(CircuitElement *element, Anchor *anchor);
/* Who asked for @element, for circuit_element_caller_permits() while its
 * create() runs (NULL afterwards). */
void element_set_creator(CircuitElement *element, Caller *caller);
/* CIRCUIT_MAKE_ASYNC: @stream (referenced) gets the reply on creation. */
void element_set_pending_make(CircuitElement *element, CircuitStream *stream);
/* Number of elements alive (attached or still releasing). */
guint element_live_count(void);
/* Logs every element still alive (at shutdown, past the deadline). */
void element_report_live(void);
