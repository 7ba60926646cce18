// SPDX-License-Identifier: Apache-2.0
#include "anchor.h"

#include <string.h>

struct Anchor {
	char *name;
	Anchor *parent;
	GTree *children; /* name -> Anchor */
	CircuitElement *element;
	guint n_below; /* the root only: anchors in the tree besides itself */
};

static Anchor *
anchor_root_of(Anchor *a)
{
	while (a->parent)
		a = a->parent;
	return a;
}

static Anchor *
anchor_new(const char *name, Anchor *parent)
{
	Anchor *a = g_new0(Anchor, 1);
	a->name = g_strdup(name);
	a->parent = parent;
	a->children = g_tree_new((GCompareFunc)strcmp);
	return a;
}

Anchor *
anchor_new_root(const char *server_id)
{
	return anchor_new(server_id, NULL);
}

static gboolean
anchor_free_child(gpointer key, gpointer value, gpointer data)
{
	anchor_free(value);
	return FALSE;
}

void
anchor_free(Anchor *a)
{
	if (!a)
		return;
	g_tree_foreach(a->children, anchor_free_child, NULL);
	g_tree_destroy(a->children);
	g_free(a->name);
	g_free(a);
}

Anchor *
anchor_walk(Anchor *root, const char *const *names)
{
	Anchor *a = root;
	for (guint i = 1; a && names[0] && names[i]; i++)
		a = g_tree_lookup(a->children, names[i]);
	return a;
}

Anchor *
anchor_walk_create(Anchor *root, const char *const *names)
{
	Anchor *a = root;
	for (guint i = 1; names[0] && names[i]; i++) {
		Anchor *child = g_tree_lookup(a->children, names[i]);
		if (!child) {
			child = anchor_new(names[i], a);
			g_tree_insert(child->parent->children, child->name, child);
			root->n_below++;
		}
		a = child;
	}
	return a;
}

guint
anchor_count(Anchor *root)
{
	return root->n_below;
}

guint
anchor_missing(Anchor *root, const char *const *names)
{
	Anchor *a = root;
	guint i = 1;
	for (; a && names[0] && names[i]; i++)
		a = g_tree_lookup(a->children, names[i]);
	if (a)
		return 0;
	/* names[i - 1] was the first one missing. */
	guint missing = 1;
	for (; names[i]; i++)
		missing++;
	return missing;
}

CircuitElement *
anchor_element(Anchor *anchor)
{
	return anchor->element;
}

void
anchor_set_element(Anchor *anchor, CircuitElement *element)
{
	anchor->element = element;
}

void
anchor_prune(Anchor *a)
{
	while (a && a->parent && !a->element && g_tree_nnodes(a->children) == 0) {
		Anchor *parent = a->parent;
		anchor_root_of(parent)->n_below--;
		g_tree_remove(parent->children, a->name);
		anchor_free(a);
		a = parent;
	}
}

typedef struct {
	const char *prefix;
	gboolean recursive;
	AnchorVisitFunc fn;
	gpointer user_data;
} AnchorVisit;

static gboolean
anchor_visit_one(gpointer key, gpointer value, gpointer data)
{
	AnchorVisit *v = data;
	Anchor *child = value;
	g_autofree char *path = g_strconcat(v->prefix, "/", child->name, NULL);
	v->fn(child, path, v->user_data);
	if (v->recursive)
		anchor_visit(child, path, TRUE, v->fn, v->user_data);
	return FALSE;
}

void
anchor_visit(Anchor *anchor, const char *path, gboolean recursive, AnchorVisitFunc fn,
             gpointer user_data)
{
	AnchorVisit v = {path, recursive, fn, user_data};
	g_tree_foreach(anchor->children, anchor_visit_one, &v);
}

Anchor *
anchor_next(Anchor *base, GPtrArray *cursor, gboolean recursive)
{
	/* The anchors from @base down the cursor, as far as they still exist. */
	g_autoptr(GPtrArray) chain = g_ptr_array_new();
	Anchor *a = base;
	g_ptr_array_add(chain, a);
	for (guint i = 0; i < cursor->len && a; i++) {
		a = g_tree_lookup(a->children, g_ptr_array_index(cursor, i));
		if (a)
			g_ptr_array_add(chain, a);
	}
	/* Before the first step, or below the last anchor listed: its first child. */
	if (cursor->len == 0 || (recursive && chain->len == cursor->len + 1)) {
		Anchor *last = g_ptr_array_index(chain, chain->len - 1);
		GTreeNode *n = g_tree_node_first(last->children);
		if (n) {
			g_ptr_array_add(cursor, g_strdup(g_tree_node_key(n)));
			return g_tree_node_value(n);
		}
	}
	/* Otherwise the next sibling of the deepest level that has one. */
	for (guint i = MIN(chain->len, cursor->len); i-- > 0;) {
		Anchor *parent = g_ptr_array_index(chain, i);
		GTreeNode *n = g_tree_upper_bound(parent->children, g_ptr_array_index(cursor, i));
		g_ptr_array_set_size(cursor, i);
		if (n) {
			g_ptr_array_add(cursor, g_strdup(g_tree_node_key(n)));
			return g_tree_node_value(n);
		}
	}
	return NULL;
}

static void
anchor_collect_one(Anchor *a, const char *path, gpointer data)
{
	if (a->element)
		g_ptr_array_add(data, a->element);
}

GPtrArray *
anchor_collect_elements(Anchor *root)
{
	GPtrArray *all = g_ptr_array_new();
	if (root->element)
		g_ptr_array_add(all, root->element);
	anchor_visit(root, "", TRUE, anchor_collect_one, all);
	return all;
}
