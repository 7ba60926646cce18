// SPDX-License-Identifier: Apache-2.0
#include "oplog.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

static struct {
	FILE *out;
	guint64 seq;
} oplog = {NULL, 0};

gboolean
oplog_open(const char *path, GError **error)
{
	if (!path) {
		oplog.out = stderr;
		return TRUE;
	}
	FILE *f = fopen(path, "ae");
	if (!f) {
		int e = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "--log %s: %s", path,
		            g_strerror(e));
		return FALSE;
	}
	oplog.out = f;
	return TRUE;
}

void
oplog_close(void)
{
	if (oplog.out && oplog.out != stderr)
		fclose(oplog.out);
	oplog.out = NULL;
}

static void
oplog_emit(JsonBuilder *b)
{
	json_builder_end_object(b);
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	g_autofree char *line = json_generator_to_data(gen, NULL);
	FILE *out = oplog.out ? oplog.out : stderr;
	fputs(line, out);
	fputc('\n', out);
	fflush(out);
}

static JsonBuilder *
oplog_begin(void)
{
	JsonBuilder *b = json_builder_new_immutable();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "seq");
	json_builder_add_int_value(b, (gint64)++oplog.seq);
	json_builder_set_member_name(b, "time");
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *iso = g_date_time_format_iso8601(now);
	json_builder_add_string_value(b, iso);
	return b;
}

static void
oplog_member(JsonBuilder *b, const char *name, const char *value)
{
	if (!value)
		return;
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

void
oplog_op(const char *peer, const char *op, const char *path, const char *kind, const char *error)
{
	g_autoptr(JsonBuilder) b = oplog_begin();
	oplog_member(b, "peer", peer);
	oplog_member(b, "op", op);
	oplog_member(b, "path", path);
	oplog_member(b, "kind", kind);
	oplog_member(b, "result", error ? "error" : "ok");
	oplog_member(b, "error", error);
	oplog_emit(b);
}

void
oplog_event(const char *path, const char *kind, const char *what, gint64 value)
{
	g_autoptr(JsonBuilder) b = oplog_begin();
	oplog_member(b, "event", what);
	oplog_member(b, "path", path);
	oplog_member(b, "kind", kind);
	json_builder_set_member_name(b, "value");
	json_builder_add_int_value(b, value);
	oplog_emit(b);
}
