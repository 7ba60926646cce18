// SPDX-License-Identifier: Apache-2.0
//
// circuit-tree.c - an example client program built against the installed
// libcircuit (circuit/client.h, found with `pkg-config circuit`). It prints
// the anchor tree of a circuit as an indented tree:
//
//   $ circuit-tree -d circuit://127.0.0.1:11022/4242/X88550014d4c82e4d
//   /
//   └── X88550014d4c82e4d (server)
//       ├── jobs
//       │   └── build (proc)
//       └── hits (counter)
//
// usage: circuit-tree [-d URL] [PATH]
// Without -d, the server is found as the circuit CLI finds it ($CIRCUIT,
// ~/.circuit, 127.0.0.1:11022).
#include <circuit/client.h>

#include <stdio.h>
#include <string.h>

typedef struct {
	char *name;
	char *kind; /* nullable: an anchor without an element */
} TreeItem;

static gboolean
tree_free_item(GNode *node, gpointer data)
{
	TreeItem *item = node->data;
	g_free(item->name);
	g_free(item->kind);
	g_free(item);
	return FALSE;
}

static GNode *
tree_child(GNode *parent, const char *name)
{
	for (GNode *n = parent->children; n; n = n->next)
		if (strcmp(((TreeItem *)n->data)->name, name) == 0)
			return n;
	TreeItem *item = g_new0(TreeItem, 1);
	item->name = g_strdup(name);
	return g_node_append_data(parent, item);
}

/* Orders paths component by component ("/a/b" before "/a-b"). */
static gint
tree_path_cmp(gconstpointer a, gconstpointer b)
{
	const char *p = (*(CircuitEntry *const *)a)->path;
	const char *q = (*(CircuitEntry *const *)b)->path;
	for (; *p && *p == *q; p++, q++)
		;
	guchar x = *p == '/' ? 1 : (guchar)*p, y = *q == '/' ? 1 : (guchar)*q;
	return (gint)x - (gint)y;
}

static void
tree_print(GNode *node, const char *prefix)
{
	for (GNode *n = node->children; n; n = n->next) {
		TreeItem *item = n->data;
		gboolean last = n->next == NULL;
		if (item->kind)
			printf("%s%s%s (%s)\n", prefix, last ? "└── " : "├── ", item->name,
			       item->kind);
		else
			printf("%s%s%s\n", prefix, last ? "└── " : "├── ", item->name);
		g_autofree char *deeper = g_strconcat(prefix, last ? "    " : "│   ", NULL);
		tree_print(n, deeper);
	}
}

int
main(int argc, char **argv)
{
	const char *address = NULL, *path = "/";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			address = argv[++i];
		else if (argv[i][0] == '/')
			path = argv[i];
		else {
			fprintf(stderr, "usage: circuit-tree [-d URL] [PATH]\n");
			return CIRCUIT_EXIT_USAGE;
		}
	}

	g_autoptr(GError) error = NULL;
	CircuitDialOptions options = {.address = address};
	CircuitClient *client = circuit_client_open(&options, &error);
	if (!client) {
		fprintf(stderr, "circuit-tree: %s\n", error->message);
		return CIRCUIT_EXIT_UNREACHABLE;
	}
	g_autoptr(GPtrArray) entries = circuit_ls(client, path, TRUE, &error);
	circuit_client_free(client);
	if (!entries) {
		fprintf(stderr, "circuit-tree: %s: %s\n", path, error->message);
		return CIRCUIT_EXIT_FAILED;
	}
	g_ptr_array_sort(entries, tree_path_cmp);

	/* The tree's root is PATH itself; entries are below it. */
	g_autofree char *base = g_strdup(path);
	gsize len = strlen(base);
	if (len >= 4 && strcmp(base + len - 4, "/...") == 0)
		base[len -= 3] = '\0';
	while (len > 1 && base[len - 1] == '/')
		base[--len] = '\0';
	TreeItem *root_item = g_new0(TreeItem, 1);
	root_item->name = g_strdup(base);
	GNode *root = g_node_new(root_item);
	for (guint i = 0; i < entries->len; i++) {
		CircuitEntry *e = g_ptr_array_index(entries, i);
		const char *rel = e->path;
		if (g_str_has_prefix(rel, base))
			rel += strlen(base);
		g_auto(GStrv) names = g_strsplit(rel, "/", -1);
		GNode *node = root;
		for (guint j = 0; names[j]; j++)
			if (*names[j])
				node = tree_child(node, names[j]);
		if (node != root && e->kind) {
			TreeItem *item = node->data;
			g_free(item->kind);
			item->kind = g_strdup(e->kind);
		}
	}
	printf("%s\n", base);
	tree_print(root, "");
	g_node_traverse(root, G_IN_ORDER, G_TRAVERSE_ALL, -1, tree_free_item, NULL);
	g_node_destroy(root);
	return CIRCUIT_EXIT_OK;
}
