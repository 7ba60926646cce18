// SPDX-License-Identifier: Apache-2.0
//
// fakehost.h - a fake circuitd for the plugins' unit tests: the plugin under
// test is linked statically with fakehost.c, which implements the SDK's
// circuit_* functions, and with core/transport/deliver.c (acknowledged
// delivery is written on top of the stream calls faked here). Every stream
// event (body bytes, EOF, acknowledgement, a client dying) and membership
// event is then driven by the test, in an order it chooses.
#pragma once

#include <circuit/plugin.h>

/* The plugin under test: set by the test before it makes an element. */
extern const CircuitPluginDescriptor *fake_desc;

struct CircuitElement {
	int ref;
	const char *kind; /* for circuit_element_kind() */
	gpointer ctx;
	gboolean destroyed;
	GPtrArray *oplog; /* "what=value" strings */
};

struct CircuitStream {
	const CircuitStreamFuncs *funcs;
	gpointer user_data;
	GDestroyNotify notify;
	gboolean replied, finished, closed;
	GError *error; /* from circuit_stream_fail */
	GByteArray *out;
	gsize space;    /* write space the fake client grants */
	gsize consumed; /* credit returned */
	gsize acked;    /* bytes of out the fake client acknowledged */
	int tag;        /* test bookkeeping, -1 at first */
};

/* What circuit_host_option() answers: "kind.key" -> value (NULL: nothing set). */
extern GHashTable *fake_options;

/* ---- membership ---------------------------------------------------------- */

/* What circuit_host_members() lists. */
extern const char *const *fake_members;
/* circuit_host_watch_members() fails (no membership) while set. */
extern gboolean fake_no_membership;

/* Resets the membership: @members listed, no watch. */
void fake_membership_setup(const char *const *members);
/* Checks that every watch was removed. */
void fake_membership_teardown(void);
/* The watches alive. */
guint fake_membership_watches(void);
/* A membership change, as the host reports it to every watch. */
void fake_event(CircuitMemberEvent event, const char *path);
/* The server stops its membership (shutdown): every watch is dropped. */
void fake_membership_stop(void);

/* ---- elements ------------------------------------------------------------ */

/* Makes an element of @kind (NULL: the plugin's) with @args, as mk would. */
CircuitElement *fake_element_new(const char *kind, const char *const *args, GError **error);
/* Drops the anchor's reference; the element must be destroyed then. */
void fake_element_release(CircuitElement *element);
/* Removes the element as scrub would, then releases it. */
void fake_element_scrub_and_free(CircuitElement *element);
/* One integer (or boolean as 0/1) field of peek. */
gint64 fake_peek_int(CircuitElement *element, const char *field);

/* ---- streams ------------------------------------------------------------- */

/* A stream whose client grants @space bytes of output. */
CircuitStream *fake_stream_new(gsize space);
/* Runs the operation @name on @element with the stream @s; returns @s. */
CircuitStream *fake_run_on(CircuitElement *element, const char *name, CircuitStream *s);
/* The stream goes away: cleanly (@error_message NULL) or with that error. */
void fake_stream_close(CircuitStream *s, const char *error_message);
/* Closes the stream if needed (cleanly once finished), then frees it. */
void fake_stream_free(CircuitStream *s);
/* The client acknowledges: its EOF after ours. With @input_end the host
 * reports that EOF before `closed` (as for an output still expected);
 * without, the acknowledgement is `closed` with no error. */
void fake_ack(CircuitStream *s, gboolean input_end);
/* The operation replied, finished, and wrote exactly @text. */
void fake_assert_output(CircuitStream *s, const char *text);
/* The operation failed with @code and a message containing @substring. */
void fake_assert_failed(CircuitStream *s, CircuitErrorCode code, const char *substring);
