// SPDX-License-Identifier: Apache-2.0
//
// anchor.h - the server's tree of anchors. Each anchor holds at most one
// element and any number of children; an anchor with neither is removed at
// once. The root of this tree is the server anchor /X<16 hex>.
#pragma once

#include <circuit/plugin.h>

typedef struct Anchor Anchor;

/* (transfer full) a new root anchor named @server_id. */
Anchor *anchor_new_root(const char *server_id);
void anchor_free(Anchor *root);

/* (transfer none) (nullable) the anchor at @names below the root (names[0]
 * is the server ID and is not looked up). */
Anchor *anchor_walk(Anchor *root, const char *const *names);
/* (transfer none) the anchor at @names, creating missing ones. */
Anchor *anchor_walk_create(Anchor *root, const char *const *names);

/* Anchors below @root (the root itself not counted). */
guint anchor_count(Anchor *root);
/* How many anchors anchor_walk_create(@root, @names) would create. */
guint anchor_missing(Anchor *root, const char *const *names);

/* (transfer none) (nullable) */
CircuitElement *anchor_element(Anchor *anchor);
void anchor_set_element(Anchor *anchor, CircuitElement *element);
/* Removes @anchor and its empty ancestors if it holds nothing. */
void anchor_prune(Anchor *anchor);

/* Calls @fn for each child (sorted by name); recursively if @recursive. */
typedef void (*AnchorVisitFunc)(Anchor *anchor, const char *path, gpointer user_data);
void anchor_visit(Anchor *anchor, const char *path, gboolean recursive, AnchorVisitFunc fn,
                  gpointer user_data);

/*
 * A walk that survives changes between its steps (ls streams under credit):
 * (transfer none) (nullable) the anchor after the one @cursor names, in
 * anchor_visit()'s order below @base; NULL at the end. @cursor holds the
 * names (char *, owned: free func g_free) from @base down to the last anchor
 * returned, empty before the first step, and is updated. An anchor removed
 * since the last step is skipped over as if it had been listed.
 */
Anchor *anchor_next(Anchor *base, GPtrArray *cursor, gboolean recursive);

/* Collects every element in the tree (transfer container). */
GPtrArray *anchor_collect_elements(Anchor *root);
