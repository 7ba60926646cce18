// SPDX-License-Identifier: Apache-2.0
//
// wire_spec.c - the reader of the JSON a person writes: the spec a mk<kind>
// takes on standard input. It is JSON with one allowance, a comma before a
// closing brace or bracket (the original's README example has one), and
// its errors name the line and column of the character at fault and say
// in plain words what was expected there, which json-glib's messages (for
// the machine-written documents of wire_read.c) do not.
#include "wire/json.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *text, *p, *end;
	guint depth;
	GError **error;
} SpecScan;

/* The 1-based line and column (in characters) of @at. */
static void
spec_where(const SpecScan *s, const char *at, guint *line, guint *column)
{
	*line = 1;
	*column = 1;
	for (const char *c = s->text; c < at; c++) {
		if (*c == '\n') {
			(*line)++;
			*column = 1;
		} else if (((unsigned char)*c & 0xC0) != 0x80) {
			(*column)++;
		}
	}
}

/* What is at @at, for "found ...": the end, a string's start, a word, one
 * character or a byte. */
static char *
spec_found(const SpecScan *s, const char *at)
{
	if (at >= s->end)
		return g_strdup("the end of the input");
	unsigned char c = (unsigned char)*at;
	if (c == '"') {
		/* Up to 24 bytes of it, none a control byte, cut where UTF-8 is. */
		const char *q = at + 1;
		while (q < s->end && q - at < 24 && *q != '"' && (unsigned char)*q >= 0x20)
			q++;
		const char *valid = NULL;
		if (!g_utf8_validate(at, q - at, &valid))
			q = valid;
		gboolean whole = q < s->end && *q == '"';
		return g_strdup_printf("the string %.*s%s", (int)(q - at + (whole ? 1 : 0)), at,
		                       whole ? "" : "...");
	}
	if (c == '\'')
		return g_strdup("' (JSON strings take double quotes)");
	if (g_ascii_isalnum(c) || c == '_' || c == '-' || c == '+' || c == '.') {
		const char *q = at;
		while (q < s->end && q - at < 24 &&
		       (g_ascii_isalnum(*q) || *q == '_' || *q == '-' || *q == '+' || *q == '.'))
			q++;
		return g_strndup(at, (gsize)(q - at));
	}
	if (c == '\n')
		return g_strdup("the end of the line");
	if (c >= 0x21 && c < 0x7f)
		return g_strdup_printf("%c", c);
	if (c >= 0x80) {
		const char *next = g_utf8_find_next_char(at, s->end);
		gsize n = (gsize)((next ? next : s->end) - at);
		if (g_utf8_validate(at, (gssize)n, NULL))
			return g_strndup(at, n);
	}
	return g_strdup_printf("the byte 0x%02x", c);
}

static gboolean spec_fail(SpecScan *s, const char *at, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Sets "line L, column C: <fmt>" for @at; returns FALSE. */
static gboolean
spec_fail(SpecScan *s, const char *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *m = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	guint line, column;
	spec_where(s, at, &line, &column);
	g_set_error(s->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "line %u, column %u: %s", line,
	            column, m);
	return FALSE;
}

/* "expected WHAT, found ..." at the scanner's position. */
static gboolean
spec_expected(SpecScan *s, const char *what)
{
	g_autofree char *found = spec_found(s, s->p);
	return spec_fail(s, s->p, "expected %s, found %s", what, found);
}

static void
spec_skip_space(SpecScan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Four hex digits of a \u escape at @p, or -1. */
static int
spec_hex4(const SpecScan *s, const char *p)
{
	if (s->end - p < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int d = g_ascii_xdigit_value(p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A string literal at the position (which is '"'), unescaped. */
static char *
spec_string(SpecScan *s)
{
	const char *start = s->p++;
	GString *out = g_string_new(NULL);
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c == '\n' || c == '\r') {
			guint line, column;
			spec_where(s, start, &line, &column);
			g_set_error(s->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			            "unterminated string starting at line %u, column %u (a string "
			            "ends on its line with \")",
			            line, column);
			goto fail;
		}
		if (c < 0x20) {
			spec_fail(s, s->p,
			          "a control character (0x%02x) in a string: write it as \\u%04x",
			          c, c);
			goto fail;
		}
		if (c >= 0x80) {
			const char *next = g_utf8_find_next_char(s->p, s->end);
			gsize n = (gsize)((next ? next : s->end) - s->p);
			if (!g_utf8_validate(s->p, (gssize)n, NULL)) {
				spec_fail(s, s->p, "the byte 0x%02x in a string is not UTF-8", c);
				goto fail;
			}
			g_string_append_len(out, s->p, (gssize)n);
			s->p += n;
			continue;
		}
		if (c != '\\') {
			g_string_append_c(out, (char)c);
			s->p++;
			continue;
		}
		const char *esc = s->p++;
		char e = s->p < s->end ? *s->p : '\0';
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = e ? strchr(from, e) : NULL;
		if (k) {
			g_string_append_c(out, to[k - from]);
			s->p++;
			continue;
		}
		int u = e == 'u' ? spec_hex4(s, s->p + 1) : -2;
		if (u == -2) {
			spec_fail(s, esc,
			          "unknown escape \\%c in a string (JSON has \\\" \\\\ \\/ \\b \\f "
			          "\\n "
			          "\\r \\t \\uXXXX)",
			          e >= 0x21 && e < 0x7f ? e : '?');
			goto fail;
		}
		if (u < 0) {
			spec_fail(s, esc, "expected four hex digits after \\u");
			goto fail;
		}
		s->p += 5;
		gunichar ch = (gunichar)u;
		if (u >= 0xD800 && u < 0xDC00) {
			int lo = s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u'
			                 ? spec_hex4(s, s->p + 2)
			                 : -1;
			if (lo < 0xDC00 || lo >= 0xE000) {
				spec_fail(s, esc,
				          "\\u%04x starts a surrogate pair without its second half",
				          u);
				goto fail;
			}
			ch = 0x10000 + (((gunichar)u - 0xD800) << 10) + ((gunichar)lo - 0xDC00);
			s->p += 6;
		} else if (u >= 0xDC00 && u < 0xE000) {
			spec_fail(s, esc, "\\u%04x is the second half of a surrogate pair alone",
			          u);
			goto fail;
		}
		if (ch == 0) {
			spec_fail(s, esc, "\\u0000 (a NUL) cannot be in a string");
			goto fail;
		}
		g_string_append_unichar(out, ch);
	}
	if (s->p >= s->end) {
		guint line, column;
		spec_where(s, start, &line, &column);
		g_set_error(s->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "unterminated string starting at line %u, column %u", line, column);
		goto fail;
	}
	s->p++;
	return g_string_free(out, FALSE);
fail:
	g_string_free(out, TRUE);
	return NULL;
}

/* A number as JSON writes it: an integer that fits in 64 bits is one, the
 * rest are doubles (as json-glib reads them). */
static JsonNode *
spec_number(SpecScan *s, const char *what)
{
	const char *q = s->p;
	if (q < s->end && *q == '-')
		q++;
	const char *digits = q;
	while (q < s->end && g_ascii_isdigit(*q))
		q++;
	gboolean integer = TRUE;
	if (q == digits || (*digits == '0' && q - digits > 1))
		return spec_expected(s, what), NULL;
	if (q < s->end && *q == '.') {
		integer = FALSE;
		const char *f = ++q;
		while (q < s->end && g_ascii_isdigit(*q))
			q++;
		if (q == f)
			return spec_fail(s, q, "expected a digit after the decimal point"), NULL;
	}
	if (q < s->end && (*q == 'e' || *q == 'E')) {
		integer = FALSE;
		q++;
		if (q < s->end && (*q == '+' || *q == '-'))
			q++;
		const char *f = q;
		while (q < s->end && g_ascii_isdigit(*q))
			q++;
		if (q == f)
			return spec_fail(s, q, "expected a digit in the exponent"), NULL;
	}
	g_autofree char *t = g_strndup(s->p, (gsize)(q - s->p));
	s->p = q;
	JsonNode *n = json_node_alloc();
	if (integer) {
		gint64 v = 0;
		if (g_ascii_string_to_signed(t, 10, G_MININT64, G_MAXINT64, &v, NULL))
			return json_node_init_int(n, v);
	}
	return json_node_init_double(n, g_ascii_strtod(t, NULL));
}

static JsonNode *spec_value(SpecScan *s, const char *what);

/* @key as errors name it: quoted and escaped (a key may hold a newline),
 * its first 40 characters. */
static char *
spec_key_name(const char *key)
{
	GString *out = g_string_new(NULL);
	if (g_utf8_strlen(key, -1) > 40) {
		g_autofree char *head = g_utf8_substring(key, 0, 40);
		wire_json_append_string(out, head);
		g_string_insert(out, out->len - 1, "...");
	} else {
		wire_json_append_string(out, key);
	}
	return g_string_free(out, FALSE);
}

/* After a member or an element: a comma, or @close (*@closed), or an error
 * naming what the comma would follow (@after: "the value of "Args""). */
static gboolean
spec_next(SpecScan *s, char close, const char *after, gboolean *closed)
{
	spec_skip_space(s);
	*closed = s->p < s->end && *s->p == close;
	if (*closed)
		return TRUE;
	if (s->p < s->end && *s->p == ',') {
		s->p++;
		return TRUE;
	}
	g_autofree char *what = g_strdup_printf(", or %c after %s", close, after);
	return spec_expected(s, what);
}

static JsonNode *
spec_object(SpecScan *s)
{
	JsonObject *o = json_object_new();
	s->p++;
	for (;;) {
		spec_skip_space(s);
		if (s->p < s->end && *s->p == '}')
			break;
		if (s->p >= s->end || *s->p != '"') {
			spec_expected(s, "a quoted key (like \"Path\") or }");
			goto fail;
		}
		g_autofree char *key = spec_string(s);
		if (!key)
			goto fail;
		spec_skip_space(s);
		if (s->p >= s->end || *s->p != ':') {
			g_autofree char *quoted = spec_key_name(key);
			g_autofree char *what = g_strdup_printf(": after the key %s", quoted);
			spec_expected(s, what);
			goto fail;
		}
		s->p++;
		g_autofree char *name = spec_key_name(key);
		g_autofree char *for_key = g_strdup_printf("a value for %s", name);
		JsonNode *v = spec_value(s, for_key);
		if (!v)
			goto fail;
		json_object_set_member(o, key, v);
		g_autofree char *after = g_strdup_printf("the value of %s", name);
		gboolean closed;
		if (!spec_next(s, '}', after, &closed))
			goto fail;
		if (closed)
			break;
	}
	s->p++;
	return json_node_init_object(json_node_alloc(), o);
fail:
	json_object_unref(o);
	return NULL;
}

static JsonNode *
spec_array(SpecScan *s, const char *what)
{
	/* @what is "a value for "KEY"" inside an object: elements are named
	 * after the key. */
	const char *key = g_str_has_prefix(what, "a value for ") ? what + 12 : NULL;
	JsonArray *a = json_array_new();
	s->p++;
	for (;;) {
		spec_skip_space(s);
		if (s->p < s->end && *s->p == ']')
			break;
		guint i = json_array_get_length(a);
		g_autofree char *elem = key ? g_strdup_printf("element %u of %s or ]", i, key)
		                            : g_strdup_printf("element %u of the array or ]", i);
		if (s->p >= s->end || *s->p == ',') {
			spec_expected(s, elem);
			goto fail;
		}
		JsonNode *v = spec_value(s, elem);
		if (!v)
			goto fail;
		json_array_add_element(a, v);
		g_autofree char *after = key ? g_strdup_printf("element %u of %s", i, key)
		                             : g_strdup_printf("element %u of the array", i);
		gboolean closed;
		if (!spec_next(s, ']', after, &closed))
			goto fail;
		if (closed)
			break;
	}
	s->p++;
	return json_node_init_array(json_node_alloc(), a);
fail:
	json_array_unref(a);
	return NULL;
}

static gboolean
spec_word(SpecScan *s, const char *word)
{
	gsize n = strlen(word);
	if ((gsize)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return FALSE;
	const char *after = s->p + n;
	if (after < s->end && (g_ascii_isalnum(*after) || *after == '_'))
		return FALSE;
	s->p = after;
	return TRUE;
}

/* One value; @what names it in errors ("a value for "Path""). */
static JsonNode *
spec_value(SpecScan *s, const char *what)
{
	spec_skip_space(s);
	if (s->p >= s->end)
		return spec_expected(s, what), NULL;
	char c = *s->p;
	if (c == '{' || c == '[') {
		if (++s->depth > WIRE_JSON_MAX_DEPTH)
			return spec_fail(s, s->p, "nested deeper than %u levels",
			                 WIRE_JSON_MAX_DEPTH),
			       NULL;
		JsonNode *n = c == '{' ? spec_object(s) : spec_array(s, what);
		s->depth--;
		return n;
	}
	if (c == '"') {
		char *v = spec_string(s);
		if (!v)
			return NULL;
		JsonNode *n = json_node_init_string(json_node_alloc(), v);
		g_free(v);
		return n;
	}
	if (c == '-' || g_ascii_isdigit(c))
		return spec_number(s, what);
	if (spec_word(s, "true"))
		return json_node_init_boolean(json_node_alloc(), TRUE);
	if (spec_word(s, "false"))
		return json_node_init_boolean(json_node_alloc(), FALSE);
	if (spec_word(s, "null"))
		return json_node_init_null(json_node_alloc());
	return spec_expected(s, what), NULL;
}

JsonNode *
wire_json_read_spec(const char *text, gsize len, GError **error)
{
	if (!wire_json_size_ok(len, error))
		return NULL;
	SpecScan s = {text, text, text + len, 0, error};
	JsonNode *root = spec_value(&s, "a JSON object (like {\"Path\":\"/bin/ls\"})");
	if (!root)
		return NULL;
	spec_skip_space(&s);
	if (s.p < s.end) {
		g_autofree char *found = spec_found(&s, s.p);
		spec_fail(&s, s.p, "%s after the end of the JSON %s", found,
		          JSON_NODE_HOLDS_OBJECT(root)  ? "object"
		          : JSON_NODE_HOLDS_ARRAY(root) ? "array"
		                                        : "value");
		json_node_unref(root);
		return NULL;
	}
	return root;
}
