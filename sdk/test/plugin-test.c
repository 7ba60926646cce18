// SPDX-License-Identifier: Apache-2.0
//
// plugin-test.c - the fake circuitd of plugins' unit tests
// (circuit/plugin-test.h, libcircuit-plugin-test.a).
#include <circuit/plugin-test.h>

#include <string.h>

const CircuitPluginDescriptor *circuit_test_desc;
GHashTable *circuit_test_options;

/* ------------------------------------------------------------------------ */
/* The SDK, faked                                                            */

GQuark
circuit_error_quark(void)
{
	return g_quark_from_static_string("circuit-error");
}

CircuitHost *
circuit_element_host(CircuitElement *element)
{
	return NULL;
}

const char *
circuit_host_option(CircuitHost *host, const char *name)
{
	return circuit_test_options ? g_hash_table_lookup(circuit_test_options, name) : NULL;
}

const char *
circuit_element_path(CircuitElement *element)
{
	return "/X0000000000000001/e";
}

const char *
circuit_element_kind(CircuitElement *element)
{
	return element->kind;
}

CircuitElement *
circuit_element_ref(CircuitElement *element)
{
	element->ref++;
	return element;
}

void
circuit_element_unref(CircuitElement *element)
{
	g_assert_cmpint(element->ref, >, 0);
	if (--element->ref == 0) {
		circuit_test_desc->destroy(element->ctx);
		element->destroyed = TRUE;
	}
}

void
circuit_stream_set_funcs(CircuitStream *stream, const CircuitStreamFuncs *funcs, gpointer user_data,
                         GDestroyNotify notify)
{
	/* As the core does: the callbacks replaced release their data. */
	if (stream->notify && stream->user_data)
		stream->notify(stream->user_data);
	stream->funcs = funcs;
	stream->user_data = user_data;
	stream->notify = notify;
}

const char *
circuit_stream_peer(CircuitStream *stream)
{
	return "127.0.0.1:1";
}

void
circuit_stream_reply(CircuitStream *stream, JsonNode *result, gboolean failed_outcome)
{
	g_assert_false(stream->replied);
	g_assert_null(stream->error);
	stream->replied = TRUE;
	if (result) {
		g_free(stream->result);
		stream->result = json_to_string(result, FALSE);
		json_node_unref(result);
	}
}

void
circuit_stream_fail(CircuitStream *stream, const GError *error)
{
	g_assert_null(stream->error);
	g_assert_false(stream->finished);
	stream->error = g_error_copy(error);
	stream->finished = TRUE;
}

gsize
circuit_stream_write_space(CircuitStream *stream)
{
	return stream->space;
}

void
circuit_stream_write(CircuitStream *stream, const void *data, gsize len)
{
	g_assert_true(stream->replied);
	g_assert_false(stream->finished);
	g_assert_cmpuint(len, <=, stream->space);
	stream->space -= len;
	g_byte_array_append(stream->out, data, (guint)len);
}

void
circuit_stream_write_bytes(CircuitStream *stream, GBytes *bytes)
{
	gsize len = 0;
	const void *data = g_bytes_get_data(bytes, &len);
	circuit_stream_write(stream, data, len);
}

GBytes *
circuit_stream_take_unacked(CircuitStream *stream)
{
	/* As the core: only while `closed` runs, once. */
	g_assert_true(stream->closed);
	if (stream->acked >= stream->out->len)
		return NULL;
	GBytes *b =
	        g_bytes_new(stream->out->data + stream->acked, stream->out->len - stream->acked);
	stream->acked = stream->out->len;
	return b;
}

void
circuit_stream_finish(CircuitStream *stream)
{
	g_assert_true(stream->replied);
	g_assert_false(stream->finished);
	stream->finished = TRUE;
}

void
circuit_stream_done(CircuitStream *stream, JsonNode *result, gboolean failed_outcome)
{
	circuit_stream_reply(stream, result, failed_outcome);
	circuit_stream_finish(stream);
}

void
circuit_stream_fail_printf(CircuitStream *stream, int code, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *m = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_autoptr(GError) e = g_error_new_literal(CIRCUIT_ERROR, code, m);
	circuit_stream_fail(stream, e);
}

guint
circuit_host_abi_minor(CircuitHost *host)
{
	return CIRCUIT_PLUGIN_ABI_MINOR;
}

void
circuit_stream_consumed(CircuitStream *stream, gsize len)
{
	stream->consumed += len;
}

void
circuit_log(CircuitHost *host, CircuitElement *element, GLogLevelFlags level, const char *format,
            ...)
{
	va_list ap;
	va_start(ap, format);
	char *msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_test_message("log: %s", msg);
	g_free(msg);
}

void
circuit_oplog_event(CircuitElement *element, const char *what, gint64 value)
{
	g_ptr_array_add(element->oplog, g_strdup_printf("%s=%" G_GINT64_FORMAT, what, value));
}

/* ------------------------------------------------------------------------ */
/* Membership                                                                */

const char *const *circuit_test_members;
gboolean circuit_test_no_membership;
static guint circuit_test_next_watch;
typedef struct {
	guint id;
	CircuitMemberFunc fn;
	gpointer user_data;
	GDestroyNotify destroy;
} FakeWatch;
static GPtrArray *circuit_test_watches; /* FakeWatch*, live ones */

char **
circuit_host_members(CircuitHost *host)
{
	return g_strdupv((char **)circuit_test_members);
}

guint
circuit_host_watch_members(CircuitHost *host, CircuitMemberFunc fn, gpointer user_data,
                           GDestroyNotify destroy)
{
	if (circuit_test_no_membership)
		return 0;
	FakeWatch *w = g_new0(FakeWatch, 1);
	w->id = ++circuit_test_next_watch;
	w->fn = fn;
	w->user_data = user_data;
	w->destroy = destroy;
	g_ptr_array_add(circuit_test_watches, w);
	return w->id;
}

static void
circuit_test_watch_remove(guint index)
{
	FakeWatch *w = g_ptr_array_steal_index(circuit_test_watches, index);
	if (w->destroy)
		w->destroy(w->user_data);
	g_free(w);
}

void
circuit_host_unwatch_members(CircuitHost *host, guint id)
{
	for (guint i = 0; i < circuit_test_watches->len; i++)
		if (((FakeWatch *)circuit_test_watches->pdata[i])->id == id) {
			circuit_test_watch_remove(i);
			return;
		}
}

void
circuit_test_membership_setup(const char *const *members)
{
	circuit_test_members = members;
	circuit_test_no_membership = FALSE;
	circuit_test_watches = g_ptr_array_new();
}

void
circuit_test_membership_teardown(void)
{
	g_assert_cmpuint(circuit_test_watches->len, ==, 0); /* every watch was removed */
	g_ptr_array_unref(circuit_test_watches);
	circuit_test_watches = NULL;
}

guint
circuit_test_membership_watches(void)
{
	return circuit_test_watches->len;
}

void
circuit_test_event(CircuitMemberEvent event, const char *path)
{
	for (guint i = 0; i < circuit_test_watches->len; i++) {
		FakeWatch *w = circuit_test_watches->pdata[i];
		w->fn(event, path, w->user_data);
	}
}

void
circuit_test_membership_stop(void)
{
	while (circuit_test_watches->len)
		circuit_test_watch_remove(0);
}

/* ------------------------------------------------------------------------ */
/* Elements                                                                  */

CircuitElement *
circuit_test_element_new(const char *kind, const char *const *args, GError **error)
{
	static const char *const none[] = {NULL};
	if (!args)
		args = none; /* as the host: never NULL */
	CircuitElement *element = g_new0(CircuitElement, 1);
	element->ref = 1; /* the anchor's */
	element->kind = kind ? kind : circuit_test_desc->kind;
	element->oplog = g_ptr_array_new_with_free_func(g_free);
	if (!circuit_test_desc->create(element, args, NULL, &element->ctx, error)) {
		g_ptr_array_unref(element->oplog);
		g_free(element);
		return NULL;
	}
	return element;
}

void
circuit_test_element_release(CircuitElement *element)
{
	circuit_element_unref(element);
	g_assert_true(element->destroyed);
	g_ptr_array_unref(element->oplog);
	g_free(element);
}

void
circuit_test_element_scrub_and_free(CircuitElement *element)
{
	circuit_test_desc->scrub(element, element->ctx);
	circuit_test_element_release(element);
}

gint64
circuit_test_peek_int(CircuitElement *element, const char *field)
{
	JsonNode *n = circuit_test_desc->peek(element, element->ctx);
	JsonObject *o = json_node_get_object(n);
	g_assert_true(json_object_has_member(o, field));
	gint64 v = json_object_get_int_member(o, field);
	json_node_unref(n);
	return v;
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                   */

CircuitStream *
circuit_test_stream_new(gsize space)
{
	CircuitStream *s = g_new0(CircuitStream, 1);
	s->out = g_byte_array_new();
	s->space = space;
	s->tag = -1;
	return s;
}

CircuitStream *
circuit_test_run_args(CircuitElement *element, const char *name, const char *const *args,
                      CircuitStream *s)
{
	static const char *const none[] = {NULL};
	if (!args)
		args = none;
	for (guint i = 0; i < circuit_test_desc->n_ops; i++) {
		const CircuitOp *op = &circuit_test_desc->ops[i];
		if (strcmp(op->name, name) != 0)
			continue;
		guint n = g_strv_length((char **)args);
		if (n < op->min_args || n > op->max_args)
			g_error("circuit_test_run_args: %s takes %u to %u arguments, not %u", name,
			        op->min_args, op->max_args, n);
		op->run(element, element->ctx, s, args);
		return s;
	}
	g_error("circuit_test_run_args: the kind has no operation %s", name);
	return s;
}

CircuitStream *
circuit_test_run_on(CircuitElement *element, const char *name, CircuitStream *s)
{
	return circuit_test_run_args(element, name, NULL, s);
}

void
circuit_test_stream_close(CircuitStream *s, const char *error_message)
{
	g_assert_false(s->closed);
	s->closed = TRUE;
	GError *error = NULL;
	if (error_message)
		error = g_error_new_literal(CIRCUIT_ERROR, CIRCUIT_ERROR_DISCONNECTED,
		                            error_message);
	if (s->funcs && s->funcs->closed)
		s->funcs->closed(s, error, s->user_data);
	if (s->notify)
		s->notify(s->user_data);
	g_clear_error(&error);
}

void
circuit_test_stream_free(CircuitStream *s)
{
	if (!s->closed)
		circuit_test_stream_close(s, s->finished ? NULL : "test over");
	g_byte_array_unref(s->out);
	g_clear_error(&s->error);
	g_free(s->result);
	g_free(s);
}

void
circuit_test_ack(CircuitStream *s, gboolean input_end)
{
	g_assert_true(s->finished);
	g_assert_no_error(s->error);
	if (input_end)
		s->funcs->input_end(s, s->user_data);
	circuit_test_stream_close(s, NULL);
}

void
circuit_test_assert_output(CircuitStream *s, const char *text)
{
	g_assert_no_error(s->error);
	g_assert_true(s->replied);
	g_assert_true(s->finished);
	g_assert_cmpmem(s->out->data, s->out->len, text, strlen(text));
}

void
circuit_test_assert_failed(CircuitStream *s, CircuitErrorCode code, const char *substring)
{
	g_assert_nonnull(s->error);
	g_assert_cmpint(s->error->code, ==, code);
	g_assert_nonnull(strstr(s->error->message, substring));
}
