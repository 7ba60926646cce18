// SPDX-License-Identifier: Apache-2.0
//
// stream.c - plugin.h's circuit_stream_* calls, on the transport's streams
// (core/transport/stream.c). The host side of plugin.h lives in this
// folder; the transport knows nothing of plugins.
#include "transport/transport.h"

#include <circuit/plugin.h>

void
circuit_stream_reply(CircuitStream *stream, JsonNode *result, gboolean failed_outcome)
{
	stream_reply(stream, result, failed_outcome);
}

void
circuit_stream_fail(CircuitStream *stream, const GError *error)
{
	g_return_if_fail(stream != NULL && error != NULL);
	int code = error->domain == CIRCUIT_ERROR ? error->code : CIRCUIT_ERROR_FAILED;
	stream_fail_message(stream, code, error->message);
}

void
circuit_stream_fail_printf(CircuitStream *stream, int code, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	stream_fail_message(stream, code, message);
}

void
circuit_stream_done(CircuitStream *stream, JsonNode *result, gboolean failed_outcome)
{
	stream_reply(stream, result, failed_outcome);
	stream_finish(stream);
}

void
circuit_stream_set_funcs(CircuitStream *stream, const CircuitStreamFuncs *funcs, gpointer user_data,
                         GDestroyNotify notify)
{
	g_return_if_fail(stream != NULL);
	stream_set_funcs(stream, funcs, user_data, notify);
}

const char *
circuit_stream_peer(CircuitStream *stream)
{
	return stream_peer(stream);
}

gsize
circuit_stream_write_space(CircuitStream *stream)
{
	return stream_write_space(stream);
}

void
circuit_stream_write(CircuitStream *stream, const void *data, gsize len)
{
	stream_write(stream, data, len);
}

void
circuit_stream_write_bytes(CircuitStream *stream, GBytes *bytes)
{
	stream_write_bytes(stream, bytes);
}

GBytes *
circuit_stream_take_unacked(CircuitStream *stream)
{
	return stream_take_unacked(stream);
}

void
circuit_stream_finish(CircuitStream *stream)
{
	stream_finish(stream);
}

void
circuit_stream_consumed(CircuitStream *stream, gsize len)
{
	stream_consumed(stream, len);
}
