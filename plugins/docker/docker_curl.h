// SPDX-License-Identifier: Apache-2.0
//
// docker_curl.h - libcurl, loaded only when the docker kind is first used.
// Linking libcurl would map it and its ~40 dependencies into every circuitd
// that merely has the plugin installed (6 MiB of resident memory); the
// engine checks at start-up need none of it (docker_engine_get_sync speaks
// HTTP/1.0 on the socket itself). Code that includes this header calls the
// curl_* names as usual; they go through the table below.
#pragma once

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <glib.h>

typedef struct {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *curl);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_recv)(CURL *curl, void *buffer, size_t buflen, size_t *n);
	CURLcode (*easy_send)(CURL *curl, const void *buffer, size_t buflen, size_t *n);
	const char *(*easy_strerror)(CURLcode code);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
	CURLMcode (*multi_add_handle)(CURLM *multi, CURL *curl);
	CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *curl);
	CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t s, void *p);
	CURLMcode (*multi_cleanup)(CURLM *multi);
	CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
	CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t s, int mask, int *running);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
	void (*slist_free_all)(struct curl_slist *list);
} DockerCurl;

extern DockerCurl docker_curl;

/* Loads libcurl.so.4 once (idempotent); FALSE with a clear reason if absent. */
gboolean docker_curl_load(GError **error);
/* Whether docker_curl_load() succeeded. */
gboolean docker_curl_loaded(void);

#ifndef DOCKER_CURL_IMPLEMENTATION
/* curl.h wraps these three in argument-count macros of its own. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init         docker_curl.global_init
#define curl_global_cleanup      docker_curl.global_cleanup
#define curl_easy_init           docker_curl.easy_init
#define curl_easy_setopt         docker_curl.easy_setopt
#define curl_easy_getinfo        docker_curl.easy_getinfo
#define curl_easy_cleanup        docker_curl.easy_cleanup
#define curl_easy_perform        docker_curl.easy_perform
#define curl_easy_recv           docker_curl.easy_recv
#define curl_easy_send           docker_curl.easy_send
#define curl_easy_strerror       docker_curl.easy_strerror
#define curl_multi_init          docker_curl.multi_init
#define curl_multi_setopt        docker_curl.multi_setopt
#define curl_multi_add_handle    docker_curl.multi_add_handle
#define curl_multi_remove_handle docker_curl.multi_remove_handle
#define curl_multi_assign        docker_curl.multi_assign
#define curl_multi_cleanup       docker_curl.multi_cleanup
#define curl_multi_info_read     docker_curl.multi_info_read
#define curl_multi_socket_action docker_curl.multi_socket_action
#define curl_slist_append        docker_curl.slist_append
#define curl_slist_free_all      docker_curl.slist_free_all
#endif
