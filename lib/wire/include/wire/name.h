// SPDX-License-Identifier: Apache-2.0
//
// name.h - anchor names and paths, shared by circuitd and libcircuit.
#pragma once

#include <glib.h>

#define ANCHOR_NAME_MAX      255u
#define ANCHOR_SERVER_ID_LEN 17u /* 'X' + 16 hex digits */

/* A name: 1-255 bytes, no '/', no NUL or control byte, not "." or "..". */
gboolean anchor_name_valid(const char *name, gsize len, GError **error);

/* "X" followed by 16 lowercase hex digits. */
gboolean anchor_server_id_valid(const char *id);

/*
 * Splits an absolute path into its names. "/" gives an empty vector. A
 * trailing "/..." sets *recursive (when @recursive is not NULL; else it is
 * an error) and is removed; one trailing "/" is tolerated. The first name
 * must be a server ID. Errors name the offending component.
 * Returns (transfer full) a NULL-terminated vector.
 */
char **anchor_path_split(const char *path, gboolean *recursive, GError **error);

/* (transfer full) "/" + names joined by "/". */
char *anchor_path_join(const char *const *names, guint n);
