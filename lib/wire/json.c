// SPDX-License-Identifier: Apache-2.0
#include "wire/json.h"

void
wire_json_append_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	const unsigned char *run = (const unsigned char *)s, *p = run;
	for (; *p; p++) {
		/* Runs of bytes that need no escape are copied whole. */
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		g_string_append_len(out, (const char *)run, p - run);
		run = p + 1;
		switch (*p) {
		case '"':
			g_string_append_len(out, "\\\"", 2);
			break;
		case '\\':
			g_string_append_len(out, "\\\\", 2);
			break;
		case '\n':
			g_string_append_len(out, "\\n", 2);
			break;
		case '\t':
			g_string_append_len(out, "\\t", 2);
			break;
		default:
			g_string_append_printf(out, "\\u%04x", *p);
		}
	}
	g_string_append_len(out, (const char *)run, p - run);
	g_string_append_c(out, '"');
}
