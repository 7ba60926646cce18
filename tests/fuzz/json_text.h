// SPDX-License-Identifier: Apache-2.0
//
// json_text.h - what the JSON fuzz targets (json_read.c, spec_read.c) count
// in their input independently of the readers they check: where a string
// literal ends.
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The index of the quote that ends the string literal whose opening quote
 * is at @i (escapes skipped), or @n when it does not end. */
static inline size_t
json_text_string_end(const uint8_t *p, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i;
	}
	return n;
}
