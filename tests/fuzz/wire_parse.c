// SPDX-License-Identifier: Apache-2.0
//
// wire_parse.c - fuzz target: the hand-written request reader against
// json-glib. Whatever wire_json_parse_flat() accepts, json-glib must accept
// too and read as an equal object (when it gives up, the server asks
// json-glib itself, so only acceptance needs checking).
#include "wire/json.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	JsonObject *fast = wire_json_parse_flat((const char *)data, size);
	if (!fast)
		return 0;
	JsonParser *parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, (const char *)data, (gssize)size, NULL))
		abort(); /* accepted what json-glib refuses */
	JsonNode *root = json_parser_get_root(parser);
	JsonNode *mine = json_node_init_object(json_node_alloc(), fast);
	if (!root || !json_node_equal(root, mine))
		abort(); /* read it differently */
	json_node_unref(mine);
	json_object_unref(fast);
	g_object_unref(parser);
	return 0;
}
