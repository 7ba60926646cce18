// SPDX-License-Identifier: Apache-2.0
//
// router.h - executes operations: the core's own and the plugins'.
#pragma once

#include "plugin/plugin_host.h"

#include <json-glib/json-glib.h>

void router_init(const char *server_id, const char *url, const char *hostport, const char *version,
                 GHashTable *plugins);
void router_free(void);
/* Anchors this server holds at most: a mk that needs more fails (too-big). */
void router_set_max_anchors(guint max);
/* TransportHandlers.open */
void router_open(CircuitStream *stream, JsonObject *req, gpointer user_data);
/* TransportHandlers.hello */
JsonObject *router_hello(gpointer user_data);
/* Scrubs every element (shutdown). */
void router_scrub_all(void);
