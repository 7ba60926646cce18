// SPDX-License-Identifier: Apache-2.0
//
// outlet.c - an element's byte outputs and inputs (plugin SDK ABI 1.2):
//
//   CircuitOutlet  bytes from a source the plugin reads (a pipe, an engine's
//                  stream) to one reader at a time. Nothing is lost between
//                  readers: bytes a reader never acknowledged come back first
//                  for the next one, and the source is read only as fast as
//                  the reader takes it (`resume`), so without a reader the
//                  producer is held up instead of dropped.
//   CircuitInlet   bytes from one writer at a time into a sink (a pipe, an
//                  engine's stream). The writer's credit comes back only as
//                  bytes enter the sink; a writer that leaves early leaves
//                  what it sent buffered for the sink.
//
// Used by proc and docker for stdin, stdout and stderr. Written against the
// public circuit_stream_* calls only, so that the plugins' unit tests run
// this very file against their fake host.
#include <circuit/plugin.h>

#include <errno.h>
#include <string.h>

struct CircuitOutlet {
	CircuitElement *element; /* not owned */
	char *name;
	const CircuitOutletFuncs *funcs;
	gpointer user_data;
	GDestroyNotify notify; /* (nullable) frees user_data with the outlet */
	GByteArray *held;      /* read from the source, not yet written to a reader */
	CircuitStream *reader; /* at most one */
	/* The last CIRCUIT_OUTLET_TAIL bytes written, for tail: it grows to that
	 * size (an outlet that says little costs little), then is a ring whose
	 * oldest byte is at kept_start. */
	GByteArray *kept;
	gsize kept_start;
};

struct CircuitInlet {
	CircuitElement *element; /* not owned */
	char *name;
	const CircuitInletFuncs *funcs;
	gpointer user_data;
	GDestroyNotify notify; /* (nullable) frees user_data with the inlet */
	GByteArray *buf;       /* from writers, not yet in the sink */
	CircuitStream *writer; /* at most one */
	gsize owed;            /* the tail of buf that is the writer's: its credit */
	gboolean ending;       /* the writer ended its input: end the sink once flushed */
	gboolean closed;       /* the sink ended or failed: no more writers */
	char *why;             /* (nullable) why it closed, for later writers */
};

/* ---- outlet -------------------------------------------------------------- */

CircuitOutlet *
circuit_outlet_new(CircuitElement *element, const char *name, const CircuitOutletFuncs *funcs,
                   gpointer user_data, GDestroyNotify notify)
{
	g_return_val_if_fail(element && name && funcs && funcs->ended, NULL);
	CircuitOutlet *o = g_new0(CircuitOutlet, 1);
	o->element = element;
	o->name = g_strdup(name);
	o->funcs = funcs;
	o->user_data = user_data;
	o->notify = notify;
	o->held = g_byte_array_new();
	o->kept = g_byte_array_new();
	return o;
}

void
circuit_outlet_free(CircuitOutlet *outlet)
{
	if (!outlet)
		return;
	/* A reader outlives the element only if the host let it: never call
	 * back into freed memory. */
	if (outlet->reader)
		circuit_stream_set_funcs(outlet->reader, NULL, NULL, NULL);
	g_byte_array_unref(outlet->held);
	g_byte_array_unref(outlet->kept);
	if (outlet->notify)
		outlet->notify(outlet->user_data);
	g_free(outlet->name);
	g_free(outlet);
}

gsize
circuit_outlet_held(CircuitOutlet *outlet)
{
	return outlet->held->len;
}

gsize
circuit_outlet_space(CircuitOutlet *outlet)
{
	if (!outlet->reader || outlet->held->len > 0)
		return 0;
	return circuit_stream_write_space(outlet->reader);
}

void
circuit_outlet_pump(CircuitOutlet *outlet)
{
	CircuitOutlet *o = outlet;
	CircuitStream *s = o->reader;
	if (!s)
		return;
	/* What a previous reader left, or what the source gave ahead of the
	 * reader's window, comes first. */
	while (o->held->len > 0) {
		gsize space = circuit_stream_write_space(s);
		if (space == 0)
			return;
		gsize n = MIN(space, o->held->len);
		circuit_stream_write(s, o->held->data, n);
		g_byte_array_remove_range(o->held, 0, (guint)n);
		if (o->reader != s)
			return;
	}
	const GError *why = NULL;
	if (o->funcs->ended(o, &why, o->user_data)) {
		o->reader = NULL;
		if (why) {
			g_autoptr(GError) e =
			        g_error_new(why->domain, why->code, "%s of %s: %s", o->name,
			                    circuit_element_path(o->element), why->message);
			circuit_stream_fail(s, e);
		} else {
			circuit_stream_finish(s);
		}
		return;
	}
	if (o->funcs->resume && circuit_stream_write_space(s) > 0)
		o->funcs->resume(o, o->user_data);
}

/* Keeps @data as the newest bytes of the tail. */
static void
outlet_keep(CircuitOutlet *o, const guint8 *data, gsize len)
{
	if (len > CIRCUIT_OUTLET_TAIL) {
		data += len - CIRCUIT_OUTLET_TAIL;
		len = CIRCUIT_OUTLET_TAIL;
	}
	if (o->kept->len < CIRCUIT_OUTLET_TAIL) {
		gsize n = MIN(len, CIRCUIT_OUTLET_TAIL - o->kept->len);
		g_byte_array_append(o->kept, data, (guint)n);
		data += n;
		len -= n;
	}
	while (len > 0) {
		gsize n = MIN(len, CIRCUIT_OUTLET_TAIL - o->kept_start);
		memcpy(o->kept->data + o->kept_start, data, n);
		o->kept_start = (o->kept_start + n) % CIRCUIT_OUTLET_TAIL;
		data += n;
		len -= n;
	}
}

GBytes *
circuit_outlet_tail(CircuitOutlet *outlet, gsize max)
{
	CircuitOutlet *o = outlet;
	max = MIN(max, CIRCUIT_OUTLET_TAIL);
	g_autoptr(GBytes) unread = o->funcs->unread ? o->funcs->unread(o, o->user_data) : NULL;
	gsize n_unread = 0;
	const guint8 *p_unread = unread ? g_bytes_get_data(unread, &n_unread) : NULL;
	if (n_unread >= max)
		return g_bytes_new(p_unread + n_unread - max, max);
	/* The ring's bytes in order: from kept_start to its end, then from 0. */
	gsize from_kept = MIN(max - n_unread, o->kept->len);
	GByteArray *out = g_byte_array_sized_new((guint)(from_kept + n_unread));
	gsize skip = o->kept->len - from_kept;
	gsize first = o->kept->len - o->kept_start; /* bytes from kept_start to the end */
	if (skip < first)
		g_byte_array_append(out, o->kept->data + o->kept_start + skip,
		                    (guint)(first - skip));
	gsize wrapped = skip > first ? skip - first : 0;
	if (o->kept_start > wrapped)
		g_byte_array_append(out, o->kept->data + wrapped, (guint)(o->kept_start - wrapped));
	if (n_unread)
		g_byte_array_append(out, p_unread, (guint)n_unread);
	return g_byte_array_free_to_bytes(out);
}

/* -n's value: a positive number of bytes, into *@out. */
static gboolean
outlet_tail_bytes(const char *text, gsize *out)
{
	if (!g_ascii_isdigit(text[0]))
		return FALSE;
	char *end = NULL;
	errno = 0;
	guint64 v = g_ascii_strtoull(text, &end, 10);
	if (*end || v == 0)
		return FALSE;
	/* More than is kept is what is kept (overflow too). */
	*out = errno == ERANGE || v > CIRCUIT_OUTLET_TAIL ? CIRCUIT_OUTLET_TAIL : (gsize)v;
	return TRUE;
}

void
circuit_outlet_serve_tail(CircuitOutlet *const *outlets, CircuitStream *stream,
                          const char *const *args)
{
	g_return_if_fail(outlets && outlets[0]);
	g_autoptr(GString) usage = g_string_new("usage: circuit tail [-n BYTES]");
	for (guint i = 1; outlets[i]; i++)
		g_string_append_printf(usage, " [--%s]", outlets[i]->name);
	g_string_append(usage, " PATH");
	CircuitOutlet *which = outlets[0];
	gsize max = CIRCUIT_OUTLET_TAIL;
	for (guint i = 0; args[i]; i++) {
		const char *a = args[i];
		if (strcmp(a, "-n") == 0) {
			if (!args[i + 1]) {
				circuit_stream_fail_printf(stream, CIRCUIT_ERROR_USAGE,
				                           "tail: -n needs a value (%s)",
				                           usage->str);
				return;
			}
			if (!outlet_tail_bytes(args[i + 1], &max)) {
				circuit_stream_fail_printf(
				        stream, CIRCUIT_ERROR_USAGE,
				        "tail: -n %s: expected a positive number of "
				        "bytes (%s)",
				        args[i + 1], usage->str);
				return;
			}
			i++;
			continue;
		}
		CircuitOutlet *named = NULL;
		for (guint k = 0; a[0] == '-' && a[1] == '-' && outlets[k]; k++)
			if (strcmp(a + 2, outlets[k]->name) == 0)
				named = outlets[k];
		if (!named) {
			circuit_stream_fail_printf(stream, CIRCUIT_ERROR_USAGE, "tail: %s %s (%s)",
			                           a[0] == '-' ? "unknown flag"
			                                       : "unexpected argument",
			                           a, usage->str);
			return;
		}
		which = named;
	}
	circuit_stream_reply(stream, NULL, FALSE);
	g_autoptr(GBytes) tail = circuit_outlet_tail(which, max);
	if (g_bytes_get_size(tail) > 0)
		circuit_stream_write_bytes(stream, tail);
	circuit_stream_finish(stream);
}

void
circuit_outlet_write(CircuitOutlet *outlet, const void *data, gsize len)
{
	outlet_keep(outlet, data, len);
	gsize n = 0;
	if (outlet->held->len == 0 && outlet->reader) {
		n = MIN(len, circuit_stream_write_space(outlet->reader));
		if (n > 0)
			circuit_stream_write(outlet->reader, data, n);
	}
	if (n < len)
		g_byte_array_append(outlet->held, (const guint8 *)data + n, (guint)(len - n));
}

static void
outlet_writable(CircuitStream *s, gpointer data)
{
	circuit_outlet_pump(data);
}

static void
outlet_closed(CircuitStream *s, const GError *error, gpointer data)
{
	CircuitOutlet *o = data;
	if (o->reader == s)
		o->reader = NULL;
	if (error) {
		/* The reader left early: keep what it never got, in order. */
		GBytes *unacked = circuit_stream_take_unacked(s);
		if (unacked) {
			gsize n = 0;
			const guint8 *p = g_bytes_get_data(unacked, &n);
			g_byte_array_prepend(o->held, p, (guint)n);
			g_bytes_unref(unacked);
		}
	}
}

static const CircuitStreamFuncs outlet_stream_funcs = {
        .writable = outlet_writable,
        .closed = outlet_closed,
};

void
circuit_outlet_serve(CircuitOutlet *outlet, CircuitStream *stream)
{
	CircuitOutlet *o = outlet;
	if (o->reader) {
		g_autoptr(GError) e = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_BUSY,
		                                  "%s of %s is being read by another client (%s)",
		                                  o->name, circuit_element_path(o->element),
		                                  circuit_stream_peer(o->reader));
		circuit_stream_fail(stream, e);
		return;
	}
	o->reader = stream;
	circuit_stream_set_funcs(stream, &outlet_stream_funcs, o, NULL);
	circuit_stream_reply(stream, NULL, FALSE);
	circuit_outlet_pump(o);
}

/* ---- inlet --------------------------------------------------------------- */

CircuitInlet *
circuit_inlet_new(CircuitElement *element, const char *name, const CircuitInletFuncs *funcs,
                  gpointer user_data, GDestroyNotify notify)
{
	g_return_val_if_fail(element && name && funcs && funcs->write && funcs->end, NULL);
	CircuitInlet *in = g_new0(CircuitInlet, 1);
	in->element = element;
	in->name = g_strdup(name);
	in->funcs = funcs;
	in->user_data = user_data;
	in->notify = notify;
	in->buf = g_byte_array_new();
	return in;
}

void
circuit_inlet_free(CircuitInlet *inlet)
{
	if (!inlet)
		return;
	if (inlet->writer)
		circuit_stream_set_funcs(inlet->writer, NULL, NULL, NULL);
	g_byte_array_unref(inlet->buf);
	if (inlet->notify)
		inlet->notify(inlet->user_data);
	g_free(inlet->name);
	g_free(inlet->why);
	g_free(inlet);
}

void
circuit_inlet_close(CircuitInlet *inlet, const GError *error)
{
	CircuitInlet *in = inlet;
	if (!in->closed && error && !in->why) {
		/* Said again to later writers, without the "stdin of PATH: " it
		 * would repeat. */
		g_autofree char *prefix =
		        g_strdup_printf("%s of %s: ", in->name, circuit_element_path(in->element));
		const char *m = error->message;
		in->why = g_strdup(g_str_has_prefix(m, prefix) ? m + strlen(prefix) : m);
	}
	in->closed = TRUE;
	g_byte_array_set_size(in->buf, 0);
	in->owed = 0;
	CircuitStream *s = in->writer;
	in->writer = NULL;
	if (s)
		circuit_stream_fail(s, error);
}

void
circuit_inlet_flush(CircuitInlet *inlet)
{
	CircuitInlet *in = inlet;
	if (in->closed)
		return;
	while (in->buf->len > 0) {
		GError *error = NULL;
		gssize n = in->funcs->write(in, in->buf->data, in->buf->len, in->user_data, &error);
		if (n < 0) {
			if (!error)
				error = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_FAILED,
				                    "%s of %s: the input failed", in->name,
				                    circuit_element_path(in->element));
			circuit_inlet_close(in, error);
			g_error_free(error);
			return;
		}
		if (n == 0)
			return; /* circuit_inlet_flush() again when the sink takes more */
		/* Credit goes back for the writer's own bytes only, not for
		 * those an earlier writer left ahead of them. */
		gsize earlier = in->buf->len - in->owed;
		gsize mine = (gsize)n > earlier ? (gsize)n - earlier : 0;
		g_byte_array_remove_range(in->buf, 0, (guint)n);
		in->owed -= mine;
		if (in->writer && mine > 0)
			circuit_stream_consumed(in->writer, mine);
	}
	if (in->ending && in->funcs->end(in, in->user_data)) {
		in->closed = TRUE;
		CircuitStream *s = in->writer;
		in->writer = NULL;
		if (s) {
			circuit_stream_reply(s, NULL, FALSE);
			circuit_stream_finish(s);
		}
	}
}

static void
inlet_input(CircuitStream *s, const guint8 *data, gsize len, gpointer user_data)
{
	CircuitInlet *in = user_data;
	g_byte_array_append(in->buf, data, (guint)len);
	if (in->writer == s)
		in->owed += len;
	circuit_inlet_flush(in);
}

static void
inlet_input_end(CircuitStream *s, gpointer user_data)
{
	CircuitInlet *in = user_data;
	in->ending = TRUE;
	circuit_inlet_flush(in);
}

static void
inlet_closed(CircuitStream *s, const GError *error, gpointer user_data)
{
	CircuitInlet *in = user_data;
	if (in->writer == s) {
		in->writer = NULL; /* what it sent stays buffered for the sink */
		in->owed = 0;
	}
}

static const CircuitStreamFuncs inlet_stream_funcs = {
        .input = inlet_input,
        .input_end = inlet_input_end,
        .closed = inlet_closed,
};

void
circuit_inlet_serve(CircuitInlet *inlet, CircuitStream *stream)
{
	CircuitInlet *in = inlet;
	g_autoptr(GError) e = NULL;
	if (in->writer)
		e = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_BUSY,
		                "%s of %s is being written by %s", in->name,
		                circuit_element_path(in->element), circuit_stream_peer(in->writer));
	else if (in->closed || in->ending)
		e = g_error_new(CIRCUIT_ERROR, CIRCUIT_ERROR_CLOSED,
		                "%s of %s is closed already%s%s", in->name,
		                circuit_element_path(in->element), in->why ? ": " : "",
		                in->why ? in->why : "");
	if (e) {
		circuit_stream_fail(stream, e);
		return;
	}
	in->writer = stream;
	circuit_stream_set_funcs(stream, &inlet_stream_funcs, in, NULL);
	circuit_inlet_flush(in);
}
