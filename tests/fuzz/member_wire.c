// SPDX-License-Identifier: Apache-2.0
//
// member_wire.c - libFuzzer target of the membership input path: what a
// UDP datagram (after the seal, or plaintext on an unkeyed cluster) and a
// push-pull document can do. The first byte picks the mode:
//
//   0: member_wire_decode(); an accepted datagram with no message of a later
//      revision re-encodes byte for byte.
//   1: member_wire_state_decode(); an accepted document re-encodes byte for
//      byte.
//   2: an engine that knows a few members (one at incarnation 0xFFFFFFFE)
//      receives the rest as one datagram, then as a push-pull request, then
//      its timers run: no crash, its own incarnation never goes backwards,
//      its table never passes max_members.
#include "member/member.h"
#include "member/member_wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
fuzz_datagram(const guint8 *p, gsize len)
{
	static MemberMsg msgs[MEMBER_WIRE_MSGS_MAX];
	static guint8 out[MEMBER_WIRE_DATAGRAM_MAX];
	guint n = 0, unknown = 0;
	if (member_wire_decode(p, len, MEMBER_WIRE_DATAGRAM_MAX, msgs, MEMBER_WIRE_MSGS_MAX, &n,
	                       &unknown) != MEMBER_WIRE_OK)
		return;
	if (n == 0 && unknown == 0)
		abort();
	if (unknown > 0)
		return;
	gsize off = MEMBER_WIRE_HEADER;
	for (guint i = 0; i < n; i++) {
		gsize w = member_wire_msg_encode(&msgs[i], out + off, sizeof out - off);
		if (w == 0 || w != member_wire_msg_size(&msgs[i]))
			abort();
		off += w;
	}
	member_wire_header_encode(out, n);
	if (off != len || memcmp(out, p, len) != 0)
		abort();
}

static void
fuzz_state(const guint8 *p, gsize len)
{
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(MemberWireEntry));
	guint8 flags = 0;
	guint64 sender = 0;
	if (member_wire_state_decode(p, len, &flags, &sender, entries) == MEMBER_WIRE_OK) {
		GByteArray *out = g_byte_array_new();
		member_wire_state_begin(out, flags, sender);
		for (guint i = 0; i < entries->len; i++)
			member_wire_state_add(out, &g_array_index(entries, MemberWireEntry, i));
		member_wire_state_end(out, entries->len);
		if (out->len != len || memcmp(out->data, p, len) != 0)
			abort();
		g_byte_array_unref(out);
	}
	g_array_free(entries, TRUE);
}

/* ---- A fake MemberIO: a clock the harness advances, a transport that drops. */

typedef struct {
	gint64 at;
	MemberTimerFn fn;
	gpointer data;
	bool dead;
} FuzzTimer;

typedef struct {
	gint64 now;
	GPtrArray *timers;
	guint32 rand;
} FuzzIO;

static gint64
fuzz_now(gpointer ctx)
{
	return ((FuzzIO *)ctx)->now;
}

static gpointer
fuzz_timer(gpointer ctx, gint64 delay, MemberTimerFn fn, gpointer data)
{
	FuzzIO *io = ctx;
	FuzzTimer *t = g_new0(FuzzTimer, 1);
	*t = (FuzzTimer){io->now + delay, fn, data, false};
	g_ptr_array_add(io->timers, t);
	return t;
}

static void
fuzz_cancel(gpointer ctx, gpointer timer)
{
	((FuzzTimer *)timer)->dead = true;
}

static void
fuzz_send(gpointer ctx, const char *to, const guint8 *bytes, gsize len)
{
}

static gpointer
fuzz_request(gpointer ctx, const char *to, const guint8 *bytes, gsize len, MemberExchangeDone done,
             gpointer data)
{
	return GUINT_TO_POINTER(1); /* never completes */
}

static void
fuzz_xcancel(gpointer ctx, gpointer handle)
{
}

static guint32
fuzz_random(gpointer ctx)
{
	FuzzIO *io = ctx;
	io->rand = io->rand * 1103515245u + 12345u;
	return io->rand;
}

/* Runs the timers due by @until, in order, at most @budget of them. */
static void
fuzz_advance(FuzzIO *io, gint64 until, guint budget)
{
	while (budget-- > 0) {
		FuzzTimer *next = NULL;
		for (guint i = 0; i < io->timers->len; i++) {
			FuzzTimer *t = io->timers->pdata[i];
			if (!t->dead && t->at <= until && (next == NULL || t->at < next->at))
				next = t;
		}
		if (next == NULL)
			break;
		io->now = MAX(io->now, next->at);
		next->dead = true;
		next->fn(next->data);
	}
	io->now = until;
}

static void
fuzz_known(Member *m, guint64 id, guint32 inc, const char *addr)
{
	guint8 buf[64];
	MemberMsg msg = {.type = MEMBER_MSG_ALIVE,
	                 .id = id,
	                 .inc = inc,
	                 .addr = addr,
	                 .addr_len = (guint8)strlen(addr)};
	gsize w = member_wire_msg_encode(&msg, buf + MEMBER_WIRE_HEADER, sizeof buf - 4);
	member_wire_header_encode(buf, 1);
	member_receive(m, buf, MEMBER_WIRE_HEADER + w, addr);
}

static void
fuzz_engine(const guint8 *p, gsize len)
{
	FuzzIO io = {.now = 1000, .timers = g_ptr_array_new_with_free_func(g_free), .rand = 7};
	MemberIO mio = {
	        .clock = {fuzz_now, fuzz_timer, fuzz_cancel, &io},
	        .transport = {fuzz_send, &io},
	        .exchange = {fuzz_request, fuzz_xcancel, &io},
	        .random = {fuzz_random, &io},
	};
	MemberConfig cfg;
	member_config_init(&cfg);
	cfg.max_members = 64;
	Member *m = member_new(&cfg, &mio, 1, "10.0.0.1:11022", NULL);
	if (m == NULL)
		abort();
	fuzz_known(m, 2, 0, "10.0.0.2:11022");
	fuzz_known(m, 3, 0xFFFFFFFEu, "10.0.0.3:11022");
	fuzz_known(m, 0x7E57, 7, "10.0.0.4:11022");
	member_receive(m, p, len, "10.0.0.9:11022");
	guint64 inc = member_incarnation(m);
	GBytes *reply = member_exchange_serve(m, p, len, "10.0.0.9:11022", NULL);
	if (reply != NULL)
		g_bytes_unref(reply);
	member_peer_refused(m, "10.0.0.2:11022");
	fuzz_advance(&io, io.now + 5000, 2000);
	if (member_incarnation(m) < inc)
		abort();
	guint total = 0;
	for (guint s = 0; s < 4; s++)
		total += member_count(m, (MemberState)s);
	if (total > cfg.max_members)
		abort();
	member_free(m);
	g_ptr_array_unref(io.timers);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* An exact-size copy, so that any over-read is caught by ASan. */
	gsize len = size - 1;
	guint8 *p = g_malloc(len > 0 ? len : 1);
	memcpy(p, data + 1, len);
	switch (data[0] % 3) {
	case 0:
		fuzz_datagram(p, len);
		break;
	case 1:
		fuzz_state(p, len);
		break;
	default:
		fuzz_engine(p, len);
		break;
	}
	g_free(p);
	return 0;
}
