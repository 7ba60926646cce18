// SPDX-License-Identifier: Apache-2.0
//
// spec_read.c - fuzz target: the reader of specs (lib/wire/spec.c) on any
// bytes. It must never crash or recurse past its limit; a refusal is one
// line; whatever it and json-glib both accept they read the same (but for
// integers too long for 64 bits, which json-glib wraps around). What only
// json-glib accepts is not a failure: json-glib is laxer than JSON (it reads
// "." as 0.0, "\c" as "c", raw newlines in strings); what only this reader
// accepts has a trailing comma.
#include "json_text.h"
#include "wire/json.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A run of 19 or more digits: an integer json-glib may wrap around (it
 * reads 9223372036854775808 as G_MININT64, where this reader gives a
 * double), so the two are not compared there. */
static int
long_digits(const uint8_t *p, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++)
		if ((run = p[i] >= '0' && p[i] <= '9' ? run + 1 : 0) >= 19)
			return 1;
	return 0;
}

/* A comma before } or ] outside strings: the one thing this reader takes
 * that JSON has not. */
static int
trailing_comma(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"') {
			i = json_text_string_end(p, n, i);
		} else if (p[i] == ',') {
			size_t j = i + 1;
			while (j < n &&
			       (p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r'))
				j++;
			if (j < n && (p[j] == '}' || p[j] == ']'))
				return 1;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	JsonNode *mine = wire_json_read_spec((const char *)data, size, &error);
	if (!mine && (!error || strchr(error->message, '\n')))
		abort(); /* a refusal says why, in one line */
	JsonNode *theirs = wire_json_read((const char *)data, size, NULL);
	if (mine && !theirs && !trailing_comma(data, size))
		abort(); /* took more than JSON and trailing commas */
	if (theirs && mine && !long_digits(data, size) && !json_node_equal(theirs, mine))
		abort();
	if (mine)
		json_node_unref(mine);
	if (theirs)
		json_node_unref(theirs);
	g_clear_error(&error);
	return 0;
}
