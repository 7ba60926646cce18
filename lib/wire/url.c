// SPDX-License-Identifier: Apache-2.0
#include "wire/url.h"

#include "wire/name.h"

#include <circuit/plugin.h>
#include <stdlib.h>
#include <string.h>

void
url_clear(Url *url)
{
	g_clear_pointer(&url->host, g_free);
	g_clear_pointer(&url->id, g_free);
	url->port = 0;
}

static gboolean
url_parse_hostport(const char *text, const char *end, gboolean default_port, Url *out,
                   GError **error)
{
	const char *host = text, *host_end, *colon = NULL;
	if (*text == '[') {
		host = text + 1;
		host_end = memchr(host, ']', (gsize)(end - host));
		if (!host_end) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "address \"%s\": missing ]", text);
			return FALSE;
		}
		if (host_end + 1 < end) {
			if (host_end[1] != ':') {
				g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
				            "address \"%s\": expected : after ]", text);
				return FALSE;
			}
			colon = host_end + 1;
		}
	} else {
		for (const char *p = text; p < end; p++)
			if (*p == ':')
				colon = colon ? (const char *)-1 : p;
		if (colon == (const char *)-1) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "address \"%.*s\": put an IPv6 host in brackets",
			            (int)(end - text), text);
			return FALSE;
		}
		host_end = colon ? colon : end;
	}
	if (host_end == host) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "address \"%.*s\": no host", (int)(end - text), text);
		return FALSE;
	}
	if (colon) {
		char *num = g_strndup(colon + 1, (gsize)(end - colon - 1));
		char *stop = NULL;
		long port = strtol(num, &stop, 10);
		gboolean ok = g_ascii_isdigit(num[0]) && stop && *stop == '\0' && port >= 0 &&
		              port <= 65535;
		g_free(num);
		if (!ok) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "address \"%.*s\": bad port", (int)(end - text), text);
			return FALSE;
		}
		out->port = (guint16)port;
	} else if (default_port) {
		out->port = URL_DEFAULT_PORT;
	} else {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "address \"%.*s\": no port", (int)(end - text), text);
		return FALSE;
	}
	out->host = g_strndup(host, (gsize)(host_end - host));
	return TRUE;
}

gboolean
url_parse(const char *text, gboolean default_port, Url *out, GError **error)
{
	memset(out, 0, sizeof *out);
	if (!text) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "no address");
		return FALSE;
	}
	while (g_ascii_isspace(*text))
		text++;
	gsize len = strlen(text);
	while (len > 0 && g_ascii_isspace(text[len - 1]))
		len--;
	const char *end = text + len;
	if (len > 10 && strncmp(text, "circuit://", 10) == 0) {
		const char *hp = text + 10;
		const char *slash = memchr(hp, '/', (gsize)(end - hp));
		const char *id_slash =
		        slash ? memchr(slash + 1, '/', (gsize)(end - slash - 1)) : NULL;
		if (!slash || !id_slash) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "URL \"%.*s\" is not circuit://HOST:PORT/PID/ID", (int)len,
			            text);
			return FALSE;
		}
		char *id = g_strndup(id_slash + 1, (gsize)(end - id_slash - 1));
		if (id[0] == 'Q')
			id[0] = 'X';
		for (char *p = id[0] ? id + 1 : id; *p; p++)
			*p = g_ascii_tolower(*p);
		if (!anchor_server_id_valid(id)) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "URL \"%.*s\": bad server ID", (int)len, text);
			g_free(id);
			return FALSE;
		}
		if (!url_parse_hostport(hp, slash, FALSE, out, error)) {
			g_free(id);
			return FALSE;
		}
		out->id = id;
		return TRUE;
	}
	return url_parse_hostport(text, end, default_port, out, error);
}

char *
url_format(const char *host, guint16 port, long pid, const char *id)
{
	if (strchr(host, ':'))
		return g_strdup_printf("circuit://[%s]:%u/%ld/%s", host, port, pid, id);
	return g_strdup_printf("circuit://%s:%u/%ld/%s", host, port, pid, id);
}
