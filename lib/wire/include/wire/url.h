// SPDX-License-Identifier: Apache-2.0
//
// url.h - circuit URLs (circuit://HOST:PORT/PID/X<16 hex>) and HOST:PORT.
#pragma once

#include <glib.h>

#define URL_DEFAULT_PORT 11022

typedef struct {
	char *host; /* without brackets */
	guint16 port;
	char *id; /* "X..." (a Q id is rewritten to X), or NULL for HOST:PORT */
} Url;

/* Parses a circuit URL or HOST[:PORT] (port default 11022 when @default_port). */
gboolean url_parse(const char *text, gboolean default_port, Url *out, GError **error);
void url_clear(Url *url);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Url, url_clear)
/* (transfer full) "circuit://HOST:PORT/PID/ID". */
char *url_format(const char *host, guint16 port, long pid, const char *id);
