// SPDX-License-Identifier: Apache-2.0
//
// circuit/plugin-test.h - a fake circuitd for unit tests of a kind, without
// a daemon (libcircuit-plugin-test.a, `pkg-config circuit-plugin-test`):
// link the plugin's sources with it, point circuit_test_desc at the
// descriptor, make elements with circuit_test_element_new(), run operations
// on fake streams with circuit_test_run_on(), and drive every stream event
// (body bytes, EOF, acknowledgement, a client dying) and membership event
// in the order the test chooses. Acknowledged delivery, outlets and inlets
// are the host's own code, run on the faked streams. The structs below are
// the fake's, readable by tests; they are no part of the plugin ABI.
// The element path is always "/X0000000000000001/e"; circuit_log() prints
// through g_log; watches (fd, timer, child) are not faked.
#pragma once

#include <circuit/plugin.h>

/* The plugin under test: set by the test before it makes an element. */
extern const CircuitPluginDescriptor *circuit_test_desc;

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
	char *result;  /* the reply's JSON, as text (NULL: none, or not replied) */
	GByteArray *out;
	gsize space;    /* write space the fake client grants */
	gsize consumed; /* credit returned */
	gsize acked;    /* bytes of out the fake client acknowledged */
	int tag;        /* test bookkeeping, -1 at first */
};

/* What circuit_host_option() answers: "kind.key" -> value (NULL: nothing set). */
extern GHashTable *circuit_test_options;

/* ---- membership ---------------------------------------------------------- */

/* What circuit_host_members() lists. */
extern const char *const *circuit_test_members;
/* circuit_host_watch_members() fails (no membership) while set. */
extern gboolean circuit_test_no_membership;

/* Resets the membership: @members listed, no watch. */
void circuit_test_membership_setup(const char *const *members);
/* Checks that every watch was removed. */
void circuit_test_membership_teardown(void);
/* The watches alive. */
guint circuit_test_membership_watches(void);
/* A membership change, as the host reports it to every watch. */
void circuit_test_event(CircuitMemberEvent event, const char *path);
/* The server stops its membership (shutdown): every watch is dropped. */
void circuit_test_membership_stop(void);

/* ---- elements ------------------------------------------------------------ */

/* Makes an element of @kind (NULL: the plugin's) with @args, as mk would. */
CircuitElement *circuit_test_element_new(const char *kind, const char *const *args, GError **error);
/* Drops the anchor's reference; the element must be destroyed then. */
void circuit_test_element_release(CircuitElement *element);
/* Removes the element as scrub would, then releases it. */
void circuit_test_element_scrub_and_free(CircuitElement *element);
/* One integer (or boolean as 0/1) field of peek. */
gint64 circuit_test_peek_int(CircuitElement *element, const char *field);

/* ---- streams ------------------------------------------------------------- */

/* A stream whose client grants @space bytes of output. */
CircuitStream *circuit_test_stream_new(gsize space);
/* Runs the operation @name on @element with the stream @s and @args
 * (NULL-terminated; the count is checked as the host would); returns @s. */
CircuitStream *circuit_test_run_args(CircuitElement *element, const char *name,
                                     const char *const *args, CircuitStream *s);
/* Runs the operation @name on @element with the stream @s; returns @s. */
CircuitStream *circuit_test_run_on(CircuitElement *element, const char *name, CircuitStream *s);
/* The stream goes away: cleanly (@error_message NULL) or with that error. */
void circuit_test_stream_close(CircuitStream *s, const char *error_message);
/* Closes the stream if needed (cleanly once finished), then frees it. */
void circuit_test_stream_free(CircuitStream *s);
/* The client acknowledges: its EOF after ours. With @input_end the host
 * reports that EOF before `closed` (as for an output still expected);
 * without, the acknowledgement is `closed` with no error. */
void circuit_test_ack(CircuitStream *s, gboolean input_end);
/* The operation replied, finished, and wrote exactly @text. */
void circuit_test_assert_output(CircuitStream *s, const char *text);
/* The operation failed with @code and a message containing @substring. */
void circuit_test_assert_failed(CircuitStream *s, CircuitErrorCode code, const char *substring);
