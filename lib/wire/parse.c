// SPDX-License-Identifier: Apache-2.0
//
// wire_parse.c - a fast path for reading requests: one flat JSON object
// (string, integer, true/false/null and array-of-string members), which is
// all a request ever is. It builds the same JsonObject json-glib would, but
// without its scanner and signals, which were a third of a server's user
// time per operation. Anything outside that shape (other escapes, numbers
// that are not plain integers, nesting) returns NULL and the caller uses
// json-glib: for every text this accepts, json-glib gives an equal object
// (tests/fuzz/wire_parse.c checks exactly that).
#include "wire/json.h"

#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
	const char *p, *end;
} WireScan;

static void
wire_skip_space(WireScan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static gboolean
wire_eat(WireScan *s, char c)
{
	wire_skip_space(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return TRUE;
	}
	return FALSE;
}

/* A string's unescaped bytes: on the stack up to its size, then on the heap
 * (a request's strings are paths, verbs and short arguments: most fit). */
typedef struct {
	char *str;
	gsize len, cap;
	char local[256];
} WireBuf;

static void
wire_buf_init(WireBuf *b)
{
	b->str = b->local;
	b->len = 0;
	b->cap = sizeof b->local;
}

static void
wire_buf_clear(WireBuf *b)
{
	if (b->str != b->local)
		g_free(b->str);
	wire_buf_init(b);
}

static void
wire_buf_append(WireBuf *b, const char *p, gsize n)
{
	if (b->len + n + 1 > b->cap) {
		gsize cap = MAX(b->cap * 2, b->len + n + 1);
		if (b->str == b->local)
			b->str = memcpy(g_malloc(cap), b->local, b->len);
		else
			b->str = g_realloc(b->str, cap);
		b->cap = cap;
	}
	memcpy(b->str + b->len, p, n);
	b->len += n;
	b->str[b->len] = '\0';
}

/* A string literal with at most the escapes \" \\ \/ \b \f \n \r \t (a \u
 * escape, a control character or invalid UTF-8 gives up), into @b (its
 * previous content replaced); NULL when it gives up. */
static const char *
wire_string(WireScan *s, WireBuf *b)
{
	wire_skip_space(s);
	if (s->p >= s->end || *s->p != '"')
		return NULL;
	s->p++;
	b->len = 0;
	b->str[0] = '\0';
	const char *run = s->p;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			wire_buf_append(b, run, (gsize)(s->p - run));
			s->p++;
			if (!g_utf8_validate(b->str, (gssize)b->len, NULL))
				return NULL;
			return b->str;
		}
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			s->p++;
			continue;
		}
		wire_buf_append(b, run, (gsize)(s->p - run));
		if (++s->p >= s->end)
			return NULL;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *e = strchr(from, *s->p);
		if (!e || !*s->p)
			return NULL;
		wire_buf_append(b, &to[e - from], 1);
		run = ++s->p;
	}
	return NULL;
}

/* -?(0|[1-9][0-9]*) of at most 18 digits, not followed by a fraction or an
 * exponent. */
static gboolean
wire_integer(WireScan *s, gint64 *out)
{
	const char *p = s->p;
	gboolean negative = p < s->end && *p == '-';
	if (negative)
		p++;
	const char *digits = p;
	gint64 v = 0; /* 18 digits cannot overflow */
	while (p < s->end && g_ascii_isdigit(*p) && p - digits < 18)
		v = v * 10 + (*p++ - '0');
	gsize n = (gsize)(p - digits);
	if (n == 0 || (n > 1 && *digits == '0'))
		return FALSE;
	if (p < s->end && (*p == '.' || *p == 'e' || *p == 'E' || g_ascii_isdigit(*p)))
		return FALSE;
	s->p = p;
	*out = negative ? -v : v;
	return TRUE;
}

static gboolean
wire_word(WireScan *s, const char *word)
{
	gsize n = strlen(word);
	if ((gsize)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return FALSE;
	s->p += n;
	return TRUE;
}

/* One member's value into @o under @name (@b: room for its strings). */
static gboolean
wire_value(WireScan *s, JsonObject *o, const char *name, WireBuf *b)
{
	wire_skip_space(s);
	if (s->p >= s->end)
		return FALSE;
	char c = *s->p;
	if (c == '"') {
		const char *v = wire_string(s, b);
		if (!v)
			return FALSE;
		json_object_set_string_member(o, name, v);
		return TRUE;
	}
	if (c == '[') {
		s->p++;
		JsonArray *a = json_array_new();
		if (!wire_eat(s, ']')) {
			do {
				const char *v = wire_string(s, b);
				if (!v) {
					json_array_unref(a);
					return FALSE;
				}
				json_array_add_string_element(a, v);
			} while (wire_eat(s, ','));
			if (!wire_eat(s, ']')) {
				json_array_unref(a);
				return FALSE;
			}
		}
		json_object_set_array_member(o, name, a);
		return TRUE;
	}
	if (wire_word(s, "true")) {
		json_object_set_boolean_member(o, name, TRUE);
		return TRUE;
	}
	if (wire_word(s, "false")) {
		json_object_set_boolean_member(o, name, FALSE);
		return TRUE;
	}
	if (wire_word(s, "null")) {
		json_object_set_null_member(o, name);
		return TRUE;
	}
	gint64 v;
	if (!wire_integer(s, &v))
		return FALSE;
	json_object_set_int_member(o, name, v);
	return TRUE;
}

JsonObject *
wire_json_parse_flat(const char *text, gsize len)
{
	WireScan s = {text, text + len};
	if (!wire_eat(&s, '{'))
		return NULL;
	JsonObject *o = json_object_new();
	WireBuf name, value;
	wire_buf_init(&name);
	wire_buf_init(&value);
	if (!wire_eat(&s, '}')) {
		do {
			const char *n = wire_string(&s, &name);
			if (!n || !wire_eat(&s, ':') || !wire_value(&s, o, n, &value))
				goto fail;
		} while (wire_eat(&s, ','));
		if (!wire_eat(&s, '}'))
			goto fail;
	}
	wire_skip_space(&s);
	if (s.p != s.end)
		goto fail;
	wire_buf_clear(&name);
	wire_buf_clear(&value);
	return o;
fail:
	wire_buf_clear(&name);
	wire_buf_clear(&value);
	json_object_unref(o);
	return NULL;
}
