// SPDX-License-Identifier: Apache-2.0
//
// docker_curl.c - resolves libcurl's functions at first use (docker_curl.h).
#define DOCKER_CURL_IMPLEMENTATION 1
#include "docker_curl.h"

#include <circuit/plugin.h>
#include <gmodule.h>

DockerCurl docker_curl;
static gboolean docker_curl_ok;

gboolean
docker_curl_loaded(void)
{
	return docker_curl_ok;
}

gboolean
docker_curl_load(GError **error)
{
	if (docker_curl_ok)
		return TRUE;
	GModule *m = g_module_open("libcurl.so.4", G_MODULE_BIND_LOCAL);
	if (!m) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "the docker kind needs libcurl (libcurl.so.4): %s", g_module_error());
		return FALSE;
	}
	static const struct {
		const char *name;
		gsize offset;
	} syms[] = {
#define DOCKER_CURL_SYM(field, name) {name, G_STRUCT_OFFSET(DockerCurl, field)}
	        DOCKER_CURL_SYM(global_init, "curl_global_init"),
	        DOCKER_CURL_SYM(global_cleanup, "curl_global_cleanup"),
	        DOCKER_CURL_SYM(easy_init, "curl_easy_init"),
	        DOCKER_CURL_SYM(easy_setopt, "curl_easy_setopt"),
	        DOCKER_CURL_SYM(easy_getinfo, "curl_easy_getinfo"),
	        DOCKER_CURL_SYM(easy_cleanup, "curl_easy_cleanup"),
	        DOCKER_CURL_SYM(easy_perform, "curl_easy_perform"),
	        DOCKER_CURL_SYM(easy_recv, "curl_easy_recv"),
	        DOCKER_CURL_SYM(easy_send, "curl_easy_send"),
	        DOCKER_CURL_SYM(easy_strerror, "curl_easy_strerror"),
	        DOCKER_CURL_SYM(multi_init, "curl_multi_init"),
	        DOCKER_CURL_SYM(multi_setopt, "curl_multi_setopt"),
	        DOCKER_CURL_SYM(multi_add_handle, "curl_multi_add_handle"),
	        DOCKER_CURL_SYM(multi_remove_handle, "curl_multi_remove_handle"),
	        DOCKER_CURL_SYM(multi_assign, "curl_multi_assign"),
	        DOCKER_CURL_SYM(multi_cleanup, "curl_multi_cleanup"),
	        DOCKER_CURL_SYM(multi_info_read, "curl_multi_info_read"),
	        DOCKER_CURL_SYM(multi_socket_action, "curl_multi_socket_action"),
	        DOCKER_CURL_SYM(slist_append, "curl_slist_append"),
	        DOCKER_CURL_SYM(slist_free_all, "curl_slist_free_all"),
#undef DOCKER_CURL_SYM
	};
	DockerCurl table = {0};
	for (gsize i = 0; i < G_N_ELEMENTS(syms); i++) {
		gpointer fn = NULL;
		if (!g_module_symbol(m, syms[i].name, &fn) || !fn) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
			            "libcurl.so.4 lacks %s", syms[i].name);
			g_module_close(m);
			return FALSE;
		}
		G_STRUCT_MEMBER(gpointer, &table, syms[i].offset) = fn;
	}
	if (table.global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_UNAVAILABLE,
		            "libcurl failed to initialize");
		g_module_close(m);
		return FALSE;
	}
	/* libcurl stays for the life of the process: its handles outlive calls. */
	g_module_make_resident(m);
	docker_curl = table;
	docker_curl_ok = TRUE;
	return TRUE;
}
