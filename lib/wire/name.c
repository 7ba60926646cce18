// SPDX-License-Identifier: Apache-2.0
#include "wire/name.h"

#include <circuit/plugin.h>
#include <string.h>

gboolean
anchor_name_valid(const char *name, gsize len, GError **error)
{
	if (len == 0) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "empty anchor name");
		return FALSE;
	}
	if (len > ANCHOR_NAME_MAX) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "anchor name of %zu bytes is longer than %u", len, ANCHOR_NAME_MAX);
		return FALSE;
	}
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "anchor name \"%.*s\" is reserved", (int)len, name);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)name[i];
		if (c == '/' || c < 0x20 || c == 0x7f) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "anchor name has a forbidden byte 0x%02x at offset %zu", c, i);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
anchor_server_id_valid(const char *id)
{
	if (!id || strlen(id) != ANCHOR_SERVER_ID_LEN || id[0] != 'X')
		return FALSE;
	for (int i = 1; i < (int)ANCHOR_SERVER_ID_LEN; i++)
		if (!g_ascii_isxdigit(id[i]) || g_ascii_isupper(id[i]))
			return FALSE;
	return TRUE;
}

char **
anchor_path_split(const char *path, gboolean *recursive, GError **error)
{
	if (recursive)
		*recursive = FALSE;
	if (!path || path[0] != '/') {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "path \"%s\" is not absolute (it must start with /)", path ? path : "");
		return NULL;
	}
	gsize len = strlen(path);
	gboolean stripped = FALSE;
	if (len >= 4 && strcmp(path + len - 4, "/...") == 0) {
		if (!recursive) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "path \"%s\": /... is only for ls", path);
			return NULL;
		}
		*recursive = TRUE;
		len -= 4;
		stripped = TRUE;
	} else if (len > 1 && path[len - 1] == '/') {
		len--;
		stripped = TRUE;
	}
	/* What is left may not end in "/" again: "//" and "//..." hold an empty name. */
	if ((len > 1 || (len == 1 && stripped)) && path[len - 1] == '/') {
		if (recursive)
			*recursive = FALSE;
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "path \"%s\": empty anchor name", path);
		return NULL;
	}
	const char *p = path + 1, *end = path + len;
	guint n = 1; /* names, and the NULL at the end: sized once */
	for (const char *q = p; q < end; q++)
		n += *q == '/';
	GPtrArray *names = g_ptr_array_new_full(n + 1, g_free);
	while (p < end) {
		const char *slash = memchr(p, '/', (gsize)(end - p));
		const char *stop = slash ? slash : end;
		GError *local = NULL;
		if (!anchor_name_valid(p, (gsize)(stop - p), &local)) {
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID, "path \"%s\": %s",
			            path, local->message);
			g_error_free(local);
			g_ptr_array_free(names, TRUE);
			return NULL;
		}
		g_ptr_array_add(names, g_strndup(p, (gsize)(stop - p)));
		p = slash ? slash + 1 : end;
		if (slash && p == end) {
			/* "/a//" or "/a/b/" handled above; a remaining empty tail is "//". */
			g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
			            "path \"%s\": empty anchor name", path);
			g_ptr_array_free(names, TRUE);
			return NULL;
		}
	}
	if (names->len > 0 && !anchor_server_id_valid(g_ptr_array_index(names, 0))) {
		g_set_error(error, CIRCUIT_ERROR, CIRCUIT_ERROR_INVALID,
		            "path \"%s\": \"%s\" is not a server (X and 16 hex digits)", path,
		            (char *)g_ptr_array_index(names, 0));
		g_ptr_array_free(names, TRUE);
		return NULL;
	}
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(names, FALSE);
}

char *
anchor_path_join(const char *const *names, guint n)
{
	if (n == 0)
		return g_strdup("/");
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < n; i++) {
		g_string_append_c(s, '/');
		g_string_append(s, names[i]);
	}
	return g_string_free(s, FALSE);
}
