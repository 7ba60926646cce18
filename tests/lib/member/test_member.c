// SPDX-License-Identifier: Apache-2.0
//
// test_member.c - lib/member: the wire codec against valid, garbage,
// truncated and oversize input, and the engine's rules driven by hand
// through a fake MemberIO (the simulator tests are in tests/sim).
#include <string.h>

#include "member/member.h"
#include "member/member_wire.h"

/* g_memdup2 needs GLib 2.68; the build accepts 2.66. */
static guint8 *
copy_bytes(gconstpointer src, gsize len)
{
	guint8 *p = g_malloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(p, src, len);
	return p;
}

/* ---- Codec -------------------------------------------------------------- */

static const MemberMsg sample_msgs[] = {
        {.type = MEMBER_MSG_PING, .seq = 7, .id = 0x1122334455667788ull},
        {.type = MEMBER_MSG_ACK, .seq = 0xfffffffe, .inc = 3},
        {.type = MEMBER_MSG_PING_REQ,
         .seq = 9,
         .id = 42,
         .flags = MEMBER_PING_REQ_NACK,
         .addr = "10.0.0.1:11022",
         .addr_len = 14},
        {.type = MEMBER_MSG_NACK, .seq = 1},
        {.type = MEMBER_MSG_NOT_ME, .seq = 2, .id = 5, .from = 6},
        {.type = MEMBER_MSG_ALIVE, .id = 77, .inc = 12, .addr = "[::1]:11022", .addr_len = 11},
        {.type = MEMBER_MSG_SUSPECT, .id = 78, .inc = 1, .from = 79},
        {.type = MEMBER_MSG_DEAD, .id = 80, .inc = 0, .from = 80},
};
#define N_SAMPLES G_N_ELEMENTS(sample_msgs)

/* Encodes all samples into one datagram; returns its length. */
static gsize
sample_datagram(guint8 *buf, gsize cap)
{
	gsize off = MEMBER_WIRE_HEADER;
	for (guint i = 0; i < N_SAMPLES; i++) {
		gsize w = member_wire_msg_encode(&sample_msgs[i], buf + off, cap - off);
		g_assert_cmpuint(w, ==, member_wire_msg_size(&sample_msgs[i]));
		off += w;
	}
	member_wire_header_encode(buf, N_SAMPLES);
	return off;
}

static void
assert_msg_eq(const MemberMsg *a, const MemberMsg *b)
{
	g_assert_cmpuint(a->type, ==, b->type);
	g_assert_cmpuint(a->seq, ==, b->seq);
	g_assert_cmpuint(a->id, ==, b->id);
	g_assert_cmpuint(a->inc, ==, b->inc);
	g_assert_cmpuint(a->from, ==, b->from);
	g_assert_cmpuint(a->flags, ==, b->flags);
	g_assert_cmpuint(a->addr_len, ==, b->addr_len);
	if (a->addr_len > 0)
		g_assert_cmpmem(a->addr, a->addr_len, b->addr, b->addr_len);
}

static void
test_wire_roundtrip(void)
{
	guint8 buf[1400];
	gsize len = sample_datagram(buf, sizeof buf);
	MemberMsg out[MEMBER_WIRE_MSGS_MAX];
	guint n = 0, unknown = 0;
	g_assert_cmpint(member_wire_decode(buf, len, 1400, out, MEMBER_WIRE_MSGS_MAX, &n, &unknown),
	                ==, MEMBER_WIRE_OK);
	g_assert_cmpuint(n, ==, N_SAMPLES);
	g_assert_cmpuint(unknown, ==, 0);
	for (guint i = 0; i < N_SAMPLES; i++)
		assert_msg_eq(&out[i], &sample_msgs[i]);
}

static void
test_wire_truncated(void)
{
	guint8 buf[1400];
	gsize len = sample_datagram(buf, sizeof buf);
	MemberMsg out[MEMBER_WIRE_MSGS_MAX];
	guint n, unknown;
	/* Every proper prefix is rejected, and never read past. */
	for (gsize cut = 0; cut < len; cut++) {
		guint8 *copy = copy_bytes(buf, cut);
		MemberWireError e = member_wire_decode(copy, cut, 1400, out, MEMBER_WIRE_MSGS_MAX,
		                                       &n, &unknown);
		g_assert_cmpint(e, !=, MEMBER_WIRE_OK);
		g_assert_cmpuint(n, ==, 0);
		if (cut >= MEMBER_WIRE_HEADER)
			g_assert_cmpint(e, ==, MEMBER_WIRE_TRUNCATED);
		g_free(copy);
	}
	/* A trailing byte is as bad as a missing one. */
	buf[len] = 0;
	g_assert_cmpint(
	        member_wire_decode(buf, len + 1, 1400, out, MEMBER_WIRE_MSGS_MAX, &n, &unknown), ==,
	        MEMBER_WIRE_MALFORMED);
}

static void
test_wire_oversize(void)
{
	guint8 buf[1400];
	gsize len = sample_datagram(buf, sizeof buf);
	MemberMsg out[MEMBER_WIRE_MSGS_MAX];
	guint n, unknown;
	/* Longer than the receiver's cap: rejected before reading. */
	g_assert_cmpint(
	        member_wire_decode(buf, len, len - 1, out, MEMBER_WIRE_MSGS_MAX, &n, &unknown), ==,
	        MEMBER_WIRE_OVERSIZE);
	/* More messages than the caller has room for. */
	g_assert_cmpint(member_wire_decode(buf, len, 1400, out, N_SAMPLES - 1, &n, &unknown), ==,
	                MEMBER_WIRE_OVERSIZE);
	/* Beyond the absolute datagram cap, whatever the caller allows. */
	guint8 *huge = g_malloc0(MEMBER_WIRE_DATAGRAM_MAX + 1);
	memcpy(huge, buf, len);
	g_assert_cmpint(member_wire_decode(huge, MEMBER_WIRE_DATAGRAM_MAX + 1, G_MAXSIZE, out,
	                                   MEMBER_WIRE_MSGS_MAX, &n, &unknown),
	                ==, MEMBER_WIRE_OVERSIZE);
	g_free(huge);
	/* An address over 255 bytes cannot be encoded; one with a space is refused. */
	MemberMsg bad = sample_msgs[5];
	bad.addr = "10.0.0.1 :1";
	bad.addr_len = 11;
	g_assert_cmpuint(member_wire_msg_encode(&bad, buf, sizeof buf), ==, 0);
	/* A message that does not fit the space left is not written. */
	g_assert_cmpuint(member_wire_msg_encode(&sample_msgs[0], buf, 5), ==, 0);
}

static void
test_wire_header(void)
{
	guint8 buf[1400];
	gsize len = sample_datagram(buf, sizeof buf);
	MemberMsg out[MEMBER_WIRE_MSGS_MAX];
	guint n, unknown;
	guint8 copy[1400];

	memcpy(copy, buf, len);
	copy[0] = 'X';
	g_assert_cmpint(member_wire_decode(copy, len, 1400, out, 255, &n, &unknown), ==,
	                MEMBER_WIRE_BAD_MAGIC);
	memcpy(copy, buf, len);
	copy[2] = MEMBER_WIRE_VERSION + 1;
	g_assert_cmpint(member_wire_decode(copy, len, 1400, out, 255, &n, &unknown), ==,
	                MEMBER_WIRE_BAD_VERSION);
	memcpy(copy, buf, len);
	copy[3] = 0; /* zero messages */
	g_assert_cmpint(member_wire_decode(copy, MEMBER_WIRE_HEADER, 1400, out, 255, &n, &unknown),
	                ==, MEMBER_WIRE_MALFORMED);
	/* A PING with a body one byte long is malformed, not skipped. */
	memcpy(copy, buf, len);
	copy[MEMBER_WIRE_HEADER + 2] = 13;
	g_assert_cmpint(member_wire_decode(copy, len, 1400, out, 255, &n, &unknown), !=,
	                MEMBER_WIRE_OK);
	/* A message type from a later revision is skipped; the rest still count. */
	guint8 fut[64];
	member_wire_header_encode(fut, 2);
	gsize off = MEMBER_WIRE_HEADER;
	fut[off++] = 200;
	fut[off++] = 0;
	fut[off++] = 3;
	fut[off++] = 1;
	fut[off++] = 2;
	fut[off++] = 3;
	off += member_wire_msg_encode(&sample_msgs[1], fut + off, sizeof fut - off);
	g_assert_cmpint(member_wire_decode(fut, off, 1400, out, 255, &n, &unknown), ==,
	                MEMBER_WIRE_OK);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(unknown, ==, 1);
	assert_msg_eq(&out[0], &sample_msgs[1]);
	g_assert_cmpstr(member_wire_error_name(MEMBER_WIRE_TRUNCATED), ==, "truncated");
}

/*
 * Random bytes (some behind a valid header) never crash the decoder, and
 * whatever it accepts re-encodes to exactly the same bytes: no field is
 * read loosely.
 */
static void
test_wire_garbage(void)
{
	GRand *r = g_rand_new_with_seed(1234);
	guint8 buf[600], again[600];
	MemberMsg out[MEMBER_WIRE_MSGS_MAX];
	guint accepted = 0, rejected = 0;
	for (guint round = 0; round < 200000; round++) {
		gsize len = g_rand_int_range(r, 0, sizeof buf);
		for (gsize i = 0; i < len; i++)
			buf[i] = (guint8)g_rand_int(r);
		if (round % 4 == 1) {
			/* Well-formed messages with random fields, then maybe one byte flipped. */
			guint count = 1 + g_rand_int_range(r, 0, 4);
			len = MEMBER_WIRE_HEADER;
			for (guint i = 0; i < count; i++) {
				MemberMsg msg = sample_msgs[g_rand_int_range(r, 0, N_SAMPLES)];
				msg.seq = g_rand_int(r);
				msg.inc = g_rand_int(r);
				msg.id = ((guint64)g_rand_int(r) << 32) | g_rand_int(r);
				len += member_wire_msg_encode(&msg, buf + len, sizeof buf - len);
			}
			member_wire_header_encode(buf, count);
			if (g_rand_boolean(r))
				buf[g_rand_int_range(r, 0, (gint32)len)] ^=
				        (guint8)(1 + g_rand_int_range(r, 0, 255));
		} else if (round % 2 == 0 && len >= MEMBER_WIRE_HEADER) {
			member_wire_header_encode(buf, 1 + g_rand_int_range(r, 0, 3));
			if (len > 6) {
				buf[4] = (guint8)g_rand_int_range(r, 1, 9);
				buf[5] = 0;
				buf[6] = (guint8)MIN(len - 7, (gsize)g_rand_int_range(r, 0, 40));
			}
		}
		guint n = 0, unknown = 0;
		MemberWireError e = member_wire_decode(buf, len, sizeof buf, out,
		                                       MEMBER_WIRE_MSGS_MAX, &n, &unknown);
		if (e != MEMBER_WIRE_OK) {
			rejected++;
			continue;
		}
		accepted++;
		if (unknown > 0)
			continue;
		gsize off = MEMBER_WIRE_HEADER;
		for (guint i = 0; i < n; i++)
			off += member_wire_msg_encode(&out[i], again + off, sizeof again - off);
		member_wire_header_encode(again, n);
		g_assert_cmpmem(again, off, buf, len);
	}
	g_rand_free(r);
	g_test_message("garbage: %u accepted, %u rejected", accepted, rejected);
	g_assert_cmpuint(accepted, >, 0);
	g_assert_cmpuint(rejected, >, 0);
}

static GByteArray *
sample_state(void)
{
	GByteArray *doc = g_byte_array_new();
	member_wire_state_begin(doc, MEMBER_WIRE_STATE_JOIN, 99);
	MemberWireEntry e1 = {.id = 1, .inc = 2, .state = 0, .addr = "a:1", .addr_len = 3};
	MemberWireEntry e2 = {
	        .id = 3, .inc = 4, .state = 2, .addr = "host.example:9", .addr_len = 14};
	member_wire_state_add(doc, &e1);
	member_wire_state_add(doc, &e2);
	member_wire_state_end(doc, 2);
	return doc;
}

static void
test_wire_state(void)
{
	GByteArray *doc = sample_state();
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(MemberWireEntry));
	guint8 flags = 0;
	guint64 sender = 0;
	g_assert_cmpint(member_wire_state_decode(doc->data, doc->len, &flags, &sender, entries), ==,
	                MEMBER_WIRE_OK);
	g_assert_cmpuint(flags, ==, MEMBER_WIRE_STATE_JOIN);
	g_assert_cmpuint(sender, ==, 99);
	g_assert_cmpuint(entries->len, ==, 2);
	MemberWireEntry *e = &g_array_index(entries, MemberWireEntry, 1);
	g_assert_cmpuint(e->id, ==, 3);
	g_assert_cmpuint(e->inc, ==, 4);
	g_assert_cmpuint(e->state, ==, 2);
	g_assert_cmpmem(e->addr, e->addr_len, "host.example:9", 14);

	/* Every prefix: rejected, and nothing left behind in @entries. */
	for (guint cut = 0; cut < doc->len; cut++) {
		g_array_set_size(entries, 0);
		guint8 *copy = copy_bytes(doc->data, cut);
		g_assert_cmpint(member_wire_state_decode(copy, cut, &flags, &sender, entries), !=,
		                MEMBER_WIRE_OK);
		g_assert_cmpuint(entries->len, ==, 0);
		g_free(copy);
	}
	/* A state value out of range, unknown flags, a count over the cap. */
	GByteArray *bad = sample_state();
	bad->data[MEMBER_WIRE_STATE_HEADER + 12] = 9;
	g_assert_cmpint(member_wire_state_decode(bad->data, bad->len, &flags, &sender, entries), ==,
	                MEMBER_WIRE_MALFORMED);
	g_byte_array_unref(bad);
	bad = sample_state();
	bad->data[3] = 0x80;
	g_assert_cmpint(member_wire_state_decode(bad->data, bad->len, &flags, &sender, entries), ==,
	                MEMBER_WIRE_MALFORMED);
	member_wire_state_end(bad, MEMBER_WIRE_STATE_MAX_ENTRIES + 1);
	bad->data[3] = 0;
	g_assert_cmpint(member_wire_state_decode(bad->data, bad->len, &flags, &sender, entries), ==,
	                MEMBER_WIRE_OVERSIZE);
	g_assert_cmpint(member_wire_state_decode(bad->data, MEMBER_WIRE_STATE_MAX_BYTES + 1, &flags,
	                                         &sender, entries),
	                ==, MEMBER_WIRE_OVERSIZE);
	g_byte_array_unref(bad);
	g_array_free(entries, TRUE);
	g_byte_array_unref(doc);
}

static void
test_id(void)
{
	char buf[18];
	member_id_format(0x88550014d4c82e4dull, buf);
	g_assert_cmpstr(buf, ==, "X88550014d4c82e4d");
	guint64 id = 0;
	g_assert_true(member_id_parse("X88550014d4c82e4d", &id));
	g_assert_cmpuint(id, ==, 0x88550014d4c82e4dull);
	g_assert_true(member_id_parse("Q0000000000000001", &id));
	g_assert_cmpuint(id, ==, 1);
	g_assert_false(member_id_parse("X88550014d4c82e4", &id));
	g_assert_false(member_id_parse("Y88550014d4c82e4d", &id));
	g_assert_false(member_id_parse("X88550014d4c82e4g", &id));
	g_assert_false(member_id_parse(NULL, &id));
}

/* ---- A hand-driven engine ----------------------------------------------- */

typedef struct {
	gint64 at;
	MemberTimerFn fn;
	gpointer data;
	bool dead;
} FakeTimer;

typedef struct {
	gint64 now;
	GPtrArray *timers; /* FakeTimer */
	GPtrArray *sent;   /* GBytes, in order */
	GPtrArray *to;     /* char * */
	guint xchg;
	GRand *rand;
	GPtrArray *events; /* char *: "join X..." */
} Fake;

static gint64
fake_now(gpointer ctx)
{
	return ((Fake *)ctx)->now;
}

static gpointer
fake_timer(gpointer ctx, gint64 delay, MemberTimerFn fn, gpointer data)
{
	Fake *f = ctx;
	FakeTimer *t = g_new0(FakeTimer, 1);
	*t = (FakeTimer){f->now + delay, fn, data, false};
	g_ptr_array_add(f->timers, t);
	return t;
}

static void
fake_cancel(gpointer ctx, gpointer timer)
{
	((FakeTimer *)timer)->dead = true;
}

static void
fake_send(gpointer ctx, const char *to, const guint8 *bytes, gsize len)
{
	Fake *f = ctx;
	g_ptr_array_add(f->sent, g_bytes_new(bytes, len));
	g_ptr_array_add(f->to, g_strdup(to));
}

static gpointer
fake_request(gpointer ctx, const char *to, const guint8 *bytes, gsize len, MemberExchangeDone done,
             gpointer data)
{
	Fake *f = ctx;
	f->xchg++;
	return GUINT_TO_POINTER(f->xchg); /* never completes */
}

static void
fake_xcancel(gpointer ctx, gpointer handle)
{
}

static guint32
fake_random(gpointer ctx)
{
	return g_rand_int(((Fake *)ctx)->rand);
}

/* Runs every timer due by @until, in time order. */
static void
fake_advance(Fake *f, gint64 until)
{
	for (;;) {
		FakeTimer *next = NULL;
		for (guint i = 0; i < f->timers->len; i++) {
			FakeTimer *t = f->timers->pdata[i];
			if (!t->dead && t->at <= until && (next == NULL || t->at < next->at))
				next = t;
		}
		if (next == NULL)
			break;
		f->now = MAX(f->now, next->at);
		next->dead = true;
		next->fn(next->data);
	}
	f->now = until;
}

static void
fake_on_event(Member *m, MemberEventType type, const MemberInfo *info, gpointer user_data)
{
	Fake *f = user_data;
	char id[18];
	member_id_format(info->id, id);
	g_ptr_array_add(f->events, g_strdup_printf("%s %s %s", member_event_name(type), id,
	                                           member_state_name(info->state)));
}

static Member *
fake_member(Fake *f, guint64 id, const char *addr)
{
	memset(f, 0, sizeof *f);
	f->timers = g_ptr_array_new_with_free_func(g_free);
	f->sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	f->to = g_ptr_array_new_with_free_func(g_free);
	f->events = g_ptr_array_new_with_free_func(g_free);
	f->rand = g_rand_new_with_seed(5);
	MemberIO io = {
	        .clock = {fake_now, fake_timer, fake_cancel, f},
	        .transport = {fake_send, f},
	        .exchange = {fake_request, fake_xcancel, f},
	        .random = {fake_random, f},
	};
	GError *error = NULL;
	Member *m = member_new(NULL, &io, id, addr, &error);
	g_assert_no_error(error);
	member_watch(m, fake_on_event, f, NULL);
	return m;
}

static void
fake_clear(Fake *f)
{
	g_ptr_array_unref(f->timers);
	g_ptr_array_unref(f->sent);
	g_ptr_array_unref(f->to);
	g_ptr_array_unref(f->events);
	g_rand_free(f->rand);
}

static void
deliver(Member *m, const MemberMsg *msgs, guint n, const char *from)
{
	guint8 buf[1400];
	gsize off = MEMBER_WIRE_HEADER;
	for (guint i = 0; i < n; i++)
		off += member_wire_msg_encode(&msgs[i], buf + off, sizeof buf - off);
	member_wire_header_encode(buf, n);
	member_receive(m, buf, off, from);
}

/* Finds a sent datagram to @to holding a message of @type; fills *@out. */
static bool
find_sent(Fake *f, const char *to, guint8 type, MemberMsg *out)
{
	for (guint i = 0; i < f->sent->len; i++) {
		if (to != NULL && strcmp(f->to->pdata[i], to) != 0)
			continue;
		gsize len;
		const guint8 *b = g_bytes_get_data(f->sent->pdata[i], &len);
		MemberMsg msgs[MEMBER_WIRE_MSGS_MAX];
		guint n, unknown;
		g_assert_cmpint(member_wire_decode(b, len, 1400, msgs, 255, &n, &unknown), ==,
		                MEMBER_WIRE_OK);
		for (guint k = 0; k < n; k++) {
			if (msgs[k].type == type) {
				*out = msgs[k];
				return true;
			}
		}
	}
	return false;
}

static void
test_engine_garbage(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	guint8 junk[64] = "not a membership datagram at all";
	member_receive(m, junk, sizeof junk, "10.0.0.9:11022");
	member_receive(m, junk, 0, "10.0.0.9:11022");
	junk[0] = 'C';
	junk[1] = 'M';
	junk[2] = 1;
	junk[3] = 1;
	member_receive(m, junk, 6, "10.0.0.9:11022");
	guint8 *big = g_malloc0(70000);
	member_receive(m, big, 70000, "10.0.0.9:11022");
	g_free(big);
	MemberStats st;
	member_get_stats(m, &st);
	g_assert_cmpuint(st.decode_errors[MEMBER_WIRE_BAD_MAGIC], ==, 1);
	g_assert_cmpuint(st.decode_errors[MEMBER_WIRE_TRUNCATED], ==, 2);
	g_assert_cmpuint(st.decode_errors[MEMBER_WIRE_OVERSIZE], ==, 1);
	GError *error = NULL;
	GBytes *reply = member_exchange_serve(m, junk, sizeof junk, "10.0.0.9:11022", &error);
	g_assert_null(reply);
	g_assert_error(error, MEMBER_ERROR, MEMBER_ERROR_PROTOCOL);
	g_clear_error(&error);
	member_get_stats(m, &st);
	g_assert_cmpuint(st.state_errors, ==, 1);
	/* Nothing was learned from any of it. */
	g_assert_cmpuint(member_count(m, MEMBER_ALIVE), ==, 1);
	g_assert_cmpuint(f.events->len, ==, 0);
	member_free(m);
	fake_clear(&f);
}

static void
test_engine_rules(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	MemberMsg alive = {.type = MEMBER_MSG_ALIVE,
	                   .id = 2,
	                   .inc = 0,
	                   .addr = "10.0.0.2:11022",
	                   .addr_len = 14};
	deliver(m, &alive, 1, "10.0.0.2:11022");
	g_assert_cmpuint(f.events->len, ==, 1);
	g_assert_cmpstr(f.events->pdata[0], ==, "join X0000000000000002 alive");
	/* A repeat says nothing new. */
	deliver(m, &alive, 1, "10.0.0.3:11022");
	g_assert_cmpuint(f.events->len, ==, 1);

	/* Suspected: an update, not a leave. */
	MemberMsg sus = {.type = MEMBER_MSG_SUSPECT, .id = 2, .inc = 0, .from = 3};
	deliver(m, &sus, 1, "10.0.0.3:11022");
	g_assert_cmpuint(f.events->len, ==, 2);
	g_assert_cmpstr(f.events->pdata[1], ==, "update X0000000000000002 suspect");
	/* Its refutation clears it. */
	alive.inc = 1;
	deliver(m, &alive, 1, "10.0.0.2:11022");
	g_assert_cmpstr(f.events->pdata[2], ==, "update X0000000000000002 alive");
	/* A stale suspicion (older incarnation) is ignored. */
	deliver(m, &sus, 1, "10.0.0.3:11022");
	g_assert_cmpuint(f.events->len, ==, 3);

	/* Suspicion about us: we refute with a higher incarnation, and say so. */
	MemberMsg me = {.type = MEMBER_MSG_SUSPECT, .id = 1, .inc = 0, .from = 2};
	deliver(m, &me, 1, "10.0.0.2:11022");
	g_assert_cmpuint(member_incarnation(m), ==, 1);
	fake_advance(&f, 1000);
	MemberMsg out;
	g_assert_true(find_sent(&f, NULL, MEMBER_MSG_ALIVE, &out));

	/* A ping for us is acked with our incarnation; one for someone else is "not me". */
	g_ptr_array_set_size(f.sent, 0);
	g_ptr_array_set_size(f.to, 0);
	MemberMsg ping = {.type = MEMBER_MSG_PING, .seq = 77, .id = 1};
	deliver(m, &ping, 1, "10.0.0.2:11022");
	g_assert_true(find_sent(&f, "10.0.0.2:11022", MEMBER_MSG_ACK, &out));
	g_assert_cmpuint(out.seq, ==, 77);
	g_assert_cmpuint(out.inc, ==, 1);
	ping.id = 555;
	deliver(m, &ping, 1, "10.0.0.2:11022");
	g_assert_true(find_sent(&f, "10.0.0.2:11022", MEMBER_MSG_NOT_ME, &out));
	g_assert_cmpuint(out.id, ==, 555);
	g_assert_cmpuint(out.from, ==, 1);

	/*
	 * Refusal at its own address: probed at once; with no relay to ask and no
	 * ack within the period, dead: one leave, and the news goes out.
	 */
	member_peer_refused(m, "10.0.0.2:11022");
	g_assert_cmpuint(f.events->len, ==, 3);
	fake_advance(&f, f.now + (gint64)(member_health(m) + 1) * 1000);
	/* (A probe of our own may have made it suspect first: an update.) */
	guint ev = f.events->len;
	g_assert_cmpuint(ev, >=, 4);
	g_assert_cmpstr(f.events->pdata[ev - 1], ==, "leave X0000000000000002 dead");
	member_peer_refused(m, "10.0.0.2:11022");
	g_assert_cmpuint(f.events->len, ==, ev);
	MemberStats st;
	member_get_stats(m, &st);
	g_assert_cmpuint(st.refusals, ==, 1);
	/* The dead member is not alive again at the same incarnation... */
	deliver(m, &alive, 1, "10.0.0.5:11022");
	g_assert_cmpuint(f.events->len, ==, ev);
	/* ...only when it refutes, which is a real return. */
	alive.inc = 2;
	deliver(m, &alive, 1, "10.0.0.2:11022");
	g_assert_cmpstr(f.events->pdata[ev], ==, "join X0000000000000002 alive");
	/* Graceful departure: "left", one leave. */
	MemberMsg left = {.type = MEMBER_MSG_DEAD, .id = 2, .inc = 2, .from = 2};
	deliver(m, &left, 1, "10.0.0.2:11022");
	deliver(m, &left, 1, "10.0.0.2:11022");
	g_assert_cmpuint(f.events->len, ==, ev + 2);
	g_assert_cmpstr(f.events->pdata[ev + 1], ==, "leave X0000000000000002 left");
	member_free(m);
	fake_clear(&f);
}

/* A silent peer: probe, ping-req, suspicion, last-chance probe, death. Never earlier. */
static void
test_engine_probe_to_death(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	MemberConfig cfg;
	member_config_init(&cfg);
	for (guint64 id = 2; id <= 6; id++) {
		char addr[32];
		g_snprintf(addr, sizeof addr, "10.0.0.%u:11022", (guint)id);
		MemberMsg alive = {.type = MEMBER_MSG_ALIVE,
		                   .id = id,
		                   .addr = addr,
		                   .addr_len = (guint8)strlen(addr)};
		deliver(m, &alive, 1, addr);
	}
	/* Nobody answers anything. Within a few periods someone is suspected... */
	fake_advance(&f, 3 * cfg.probe_interval_ms);
	MemberStats st;
	member_get_stats(m, &st);
	g_assert_cmpuint(st.probes, >=, 2);
	g_assert_cmpuint(st.indirect_probes, >=, 1);
	g_assert_cmpuint(member_count(m, MEMBER_SUSPECT), >=, 1);
	g_assert_cmpuint(member_count(m, MEMBER_DEAD), ==, 0);
	/* ...and dead only after the suspicion timeout plus the last-chance probe. */
	gint64 min = member_config_suspicion_min_ms(&cfg, 6);
	fake_advance(&f, f.now + min);
	g_assert_cmpuint(member_count(m, MEMBER_DEAD), ==, 0);
	/* Worst case: the full timeout, then a last probe stretched by the health multiplier. */
	fake_advance(&f, f.now + member_config_suspicion_max_ms(&cfg, 6) +
	                         (gint64)(cfg.health_max + 2) * cfg.probe_interval_ms);
	g_assert_cmpuint(member_count(m, MEMBER_DEAD), >=, 1);
	/* Nobody nacked: Lifeguard says the fault may be ours, so we slowed down. */
	g_assert_cmpuint(member_health(m), >, 0);
	member_free(m);
	fake_clear(&f);
}

static void
count_destroy(gpointer data)
{
	(*(guint *)data)++;
}

static void
count_event(Member *m, MemberEventType type, const MemberInfo *info, gpointer user_data)
{
}

/* Watches: the destroy notify runs once, on unwatch or on free, never twice. */
static void
test_engine_watch(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	guint destroyed_a = 0, destroyed_b = 0;
	guint a = member_watch(m, count_event, &destroyed_a, count_destroy);
	member_watch(m, count_event, &destroyed_b, count_destroy);
	g_assert_cmpuint(a, >, 0);
	member_unwatch(m, a);
	g_assert_cmpuint(destroyed_a, ==, 1);
	member_unwatch(m, a);
	g_assert_cmpuint(destroyed_a, ==, 1);
	/* The members listed: this server first. */
	MemberMsg alive = {.type = MEMBER_MSG_ALIVE, .id = 9, .addr = "h:1", .addr_len = 3};
	deliver(m, &alive, 1, "h:1");
	MemberInfo info;
	g_assert_true(member_lookup(m, 1, &info));
	g_assert_cmpstr(info.addr, ==, "10.0.0.1:11022");
	g_assert_true(member_lookup(m, 9, &info));
	g_assert_cmpstr(info.addr, ==, "h:1");
	g_assert_false(member_lookup(m, 10, &info));
	/* A hint only probes: nothing is declared. */
	member_peer_suspicious(m, "h:1");
	MemberStats st;
	member_get_stats(m, &st);
	g_assert_cmpuint(st.probes, ==, 1);
	g_assert_cmpuint(member_count(m, MEMBER_ALIVE), ==, 2);
	/* Leaving: we count as left, and we say so. */
	member_leave(m);
	g_assert_cmpuint(member_count(m, MEMBER_LEFT), ==, 1);
	MemberMsg out;
	g_assert_true(find_sent(&f, "h:1", MEMBER_MSG_DEAD, &out));
	g_assert_cmpuint(out.id, ==, 1);
	g_assert_cmpuint(out.from, ==, 1);
	member_free(m);
	g_assert_cmpuint(destroyed_b, ==, 1);
	fake_clear(&f);
}

static void
test_engine_config(void)
{
	Fake f;
	memset(&f, 0, sizeof f);
	MemberIO io = {
	        .clock = {fake_now, fake_timer, fake_cancel, &f},
	        .transport = {fake_send, &f},
	        .exchange = {fake_request, fake_xcancel, &f},
	        .random = {fake_random, &f},
	};
	MemberConfig cfg;
	member_config_init(&cfg);
	cfg.probe_timeout_ms = cfg.probe_interval_ms;
	GError *error = NULL;
	g_assert_null(member_new(&cfg, &io, 1, "10.0.0.1:1", &error));
	g_assert_error(error, MEMBER_ERROR, MEMBER_ERROR_INVALID);
	g_clear_error(&error);
	member_config_init(&cfg);
	g_assert_null(member_new(&cfg, &io, 1, "has space:1", &error));
	g_assert_error(error, MEMBER_ERROR, MEMBER_ERROR_INVALID);
	g_clear_error(&error);
	/* The bounds follow the formulas of docs/membership.md. */
	g_assert_cmpint(member_config_suspicion_min_ms(&cfg, 100), ==, 8000);
	g_assert_cmpint(member_config_suspicion_max_ms(&cfg, 100), ==, 48000);
	g_assert_cmpint(member_config_suspicion_min_ms(&cfg, 3), ==, 4000);
	g_assert_cmpuint(member_config_retransmit_limit(&cfg, 100), ==, 12);
	g_assert_cmpint(member_config_push_pull_ms(&cfg, 10), ==, 30000);
	g_assert_cmpint(member_config_push_pull_ms(&cfg, 1000), ==, 30000 * 1000 / 32);
	member_free(NULL);
}

/* Forgets what @f saw sent so far. */
static void
fake_sent_clear(Fake *f)
{
	g_ptr_array_set_size(f->sent, 0);
	g_ptr_array_set_size(f->to, 0);
}

/* Delivers every datagram @from sent to @to_addr to engine @to, then forgets them. */
static void
fake_relay(Fake *from, Member *to, const char *to_addr, const char *from_addr)
{
	for (guint i = 0; i < from->sent->len; i++) {
		if (strcmp(from->to->pdata[i], to_addr) != 0)
			continue;
		gsize len;
		const guint8 *b = g_bytes_get_data(from->sent->pdata[i], &len);
		member_receive(to, b, len, from_addr);
	}
	fake_sent_clear(from);
}

static void
add_alive(Member *m, guint64 id, guint32 inc)
{
	char addr[32];
	g_snprintf(addr, sizeof addr, "10.0.%u.%u:11022", (guint)(id >> 8) & 255, (guint)id & 255);
	MemberMsg alive = {.type = MEMBER_MSG_ALIVE,
	                   .id = id,
	                   .inc = inc,
	                   .addr = addr,
	                   .addr_len = (guint8)strlen(addr)};
	deliver(m, &alive, 1, addr);
}

static guint
count_events(Fake *f, const char *prefix)
{
	guint n = 0;
	for (guint i = 0; i < f->events->len; i++)
		n += g_str_has_prefix(f->events->pdata[i], prefix) ? 1 : 0;
	return n;
}

/*
 * Issue 14, finding 4: a claim at incarnation 0xFFFFFFFF must not make the
 * refutation wrap below it. Engine A is the victim; engine B heard a
 * forged DEAD(A, 0xFFFFFFFF) and then A's refutation: A must be alive at B.
 */
static void
test_engine_incarnation_wrap(void)
{
	Fake fa, fb;
	Member *a = fake_member(&fa, 1, "10.0.0.1:11022");
	Member *b = fake_member(&fb, 2, "10.0.0.2:11022");
	add_alive(a, 2, 0);
	add_alive(b, 1, 0);
	g_assert_cmpuint(member_count(b, MEMBER_ALIVE), ==, 2);
	MemberMsg sus = {.type = MEMBER_MSG_SUSPECT, .id = 1, .inc = 0xFFFFFFFFu, .from = 66};
	MemberMsg dead = {.type = MEMBER_MSG_DEAD, .id = 1, .inc = 0xFFFFFFFFu, .from = 66};
	deliver(a, &sus, 1, "10.66.0.1:11022");
	deliver(b, &dead, 1, "10.66.0.1:11022");
	/* After a few rounds of A's gossip (and refutation, if any), B sees A alive. */
	for (int round = 0; round < 10; round++) {
		fake_advance(&fa, fa.now + 200);
		fake_advance(&fb, fb.now + 200);
		fake_relay(&fa, b, "10.0.0.2:11022", "10.0.0.1:11022");
		fake_relay(&fb, a, "10.0.0.1:11022", "10.0.0.2:11022");
	}
	MemberInfo info;
	g_assert_true(member_lookup(b, 1, &info));
	g_assert_cmpstr(member_state_name(info.state), ==, "alive");
	/* A claim about us from the far side of the number circle is no reason to jump. */
	g_assert_cmpuint(member_incarnation(a), <=, 1);
	/* A plausible claim is still outbid, by one. */
	sus.inc = member_incarnation(a);
	deliver(a, &sus, 1, "10.66.0.1:11022");
	g_assert_cmpuint(member_incarnation(a), ==, sus.inc + 1);
	member_free(a);
	member_free(b);
	fake_clear(&fa);
	fake_clear(&fb);
}

/*
 * Issue 14, finding 4: one datagram must not re-point a member's address.
 * The move waits for a probe to the new address answered by that ID.
 */
static void
test_engine_address_move(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	add_alive(m, 2, 0);
	MemberMsg moved = {.type = MEMBER_MSG_ALIVE,
	                   .id = 2,
	                   .inc = 5,
	                   .addr = "10.66.0.1:9999",
	                   .addr_len = 14};
	fake_sent_clear(&f);
	deliver(m, &moved, 1, "10.66.0.1:9999");
	MemberInfo info;
	g_assert_true(member_lookup(m, 2, &info));
	g_assert_cmpstr(info.addr, ==, "10.0.0.2:11022");
	g_assert_cmpuint(info.incarnation, ==, 0);
	/* Nobody answers at the new address: it never takes effect. */
	MemberMsg ping;
	g_assert_true(find_sent(&f, "10.66.0.1:9999", MEMBER_MSG_PING, &ping));
	g_assert_cmpuint(ping.id, ==, 2);
	fake_advance(&f, f.now + 3000);
	g_assert_true(member_lookup(m, 2, &info));
	g_assert_cmpstr(info.addr, ==, "10.0.0.2:11022");
	/* The same claim again, and this time the new address answers as X...2: moved. */
	fake_sent_clear(&f);
	moved.inc = 6;
	deliver(m, &moved, 1, "10.66.0.1:9999");
	g_assert_true(find_sent(&f, "10.66.0.1:9999", MEMBER_MSG_PING, &ping));
	MemberMsg ack = {.type = MEMBER_MSG_ACK, .seq = ping.seq, .inc = 6};
	deliver(m, &ack, 1, "10.66.0.1:9999");
	g_assert_true(member_lookup(m, 2, &info));
	g_assert_cmpstr(info.addr, ==, "10.66.0.1:9999");
	g_assert_cmpuint(info.incarnation, ==, 6);
	member_free(m);
	fake_clear(&f);
}

/* Issue 14, finding 4: the member table is bounded (4,096 by default). */
static void
test_engine_table_cap(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	for (guint64 id = 2; id < 5002; id++)
		add_alive(m, id, 0);
	g_assert_cmpuint(member_count(m, MEMBER_ALIVE), <=, 4096);
	g_assert_cmpuint(member_count(m, MEMBER_ALIVE), >=, 4000);
	member_free(m);
	fake_clear(&f);
}

/* Issue 14, finding 4: PING_REQ makes us ping only a known member, at its known address. */
static void
test_engine_ping_req(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	add_alive(m, 2, 0);
	fake_sent_clear(&f);
	MemberMsg req = {.type = MEMBER_MSG_PING_REQ,
	                 .seq = 5,
	                 .id = 555,
	                 .flags = MEMBER_PING_REQ_NACK,
	                 .addr = "10.66.0.1:9999",
	                 .addr_len = 14};
	deliver(m, &req, 1, "10.66.0.2:11022");
	MemberMsg out;
	g_assert_false(find_sent(&f, "10.66.0.1:9999", MEMBER_MSG_PING, &out));
	/* A known target named with another address: pinged where we know it is. */
	req.id = 2;
	deliver(m, &req, 1, "10.66.0.2:11022");
	g_assert_false(find_sent(&f, "10.66.0.1:9999", MEMBER_MSG_PING, &out));
	g_assert_true(find_sent(&f, "10.0.0.2:11022", MEMBER_MSG_PING, &out));
	g_assert_cmpuint(out.id, ==, 2);
	member_free(m);
	fake_clear(&f);
}

/*
 * Issue 14, finding 5: a refusal (forgeable ICMP) only makes us probe at
 * once; a live member that acks stays alive. Death needs the probe to fail.
 */
static void
test_engine_refusal_probes(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	MemberConfig cfg;
	member_config_init(&cfg);
	for (guint64 id = 2; id <= 6; id++)
		add_alive(m, id, 0);
	fake_sent_clear(&f);
	member_peer_refused(m, "10.0.0.2:11022");
	MemberInfo info;
	g_assert_true(member_lookup(m, 2, &info));
	g_assert_cmpstr(member_state_name(info.state), ==, "alive");
	g_assert_cmpuint(count_events(&f, "leave"), ==, 0);
	MemberMsg ping;
	g_assert_true(find_sent(&f, "10.0.0.2:11022", MEMBER_MSG_PING, &ping));
	MemberMsg ack = {.type = MEMBER_MSG_ACK, .seq = ping.seq, .inc = 0};
	deliver(m, &ack, 1, "10.0.0.2:11022");
	fake_advance(&f, f.now + 2 * cfg.probe_interval_ms);
	g_assert_true(member_lookup(m, 2, &info));
	g_assert_cmpstr(member_state_name(info.state), ==, "alive");
	g_assert_cmpuint(count_events(&f, "leave"), ==, 0);
	/*
	 * A real crash: the probe fails too. The relays, asked at once, answer
	 * NACK (they heard nothing either): dead then, without a suspicion.
	 */
	fake_sent_clear(&f);
	member_peer_refused(m, "10.0.0.3:11022");
	member_peer_refused(m, "10.0.0.3:11022");
	guint relays = 0;
	for (guint i = 0; i < f.sent->len; i++) {
		gsize len;
		const guint8 *b = g_bytes_get_data(f.sent->pdata[i], &len);
		MemberMsg msgs[MEMBER_WIRE_MSGS_MAX];
		guint n, unknown;
		g_assert_cmpint(member_wire_decode(b, len, 1400, msgs, 255, &n, &unknown), ==,
		                MEMBER_WIRE_OK);
		if (n > 0 && msgs[0].type == MEMBER_MSG_PING_REQ) {
			g_assert_cmpuint(msgs[0].id, ==, 3);
			MemberMsg nack = {.type = MEMBER_MSG_NACK, .seq = msgs[0].seq};
			relays++;
			g_assert_true(member_lookup(m, 3, &info));
			g_assert_cmpstr(member_state_name(info.state), ==, "alive");
			deliver(m, &nack, 1, f.to->pdata[i]);
		}
	}
	g_assert_cmpuint(relays, ==, 3);
	g_assert_true(member_lookup(m, 3, &info));
	g_assert_cmpstr(member_state_name(info.state), ==, "dead");
	g_assert_cmpuint(count_events(&f, "leave"), ==, 1);
	/*
	 * Relays that stay silent may mean the fault is ours (Lifeguard): then a
	 * refusal and a failed probe make a suspect, never a death.
	 */
	member_peer_refused(m, "10.0.0.4:11022");
	fake_advance(&f, f.now + (gint64)(member_health(m) + 1) * cfg.probe_interval_ms);
	g_assert_true(member_lookup(m, 4, &info));
	g_assert_cmpstr(member_state_name(info.state), !=, "dead");
	g_assert_cmpuint(count_events(&f, "leave"), ==, 1);
	MemberStats st;
	member_get_stats(m, &st);
	g_assert_cmpuint(st.refusals, >=, 1);
	member_free(m);
	fake_clear(&f);
}

/* Datagrams sent to @to (NULL: anyone) holding ALIVE(@id). */
static guint
count_alive_sent(Fake *f, const char *to, guint64 id)
{
	guint c = 0;
	for (guint i = 0; i < f->sent->len; i++) {
		if (to != NULL && strcmp(f->to->pdata[i], to) != 0)
			continue;
		gsize len;
		const guint8 *b = g_bytes_get_data(f->sent->pdata[i], &len);
		MemberMsg msgs[MEMBER_WIRE_MSGS_MAX];
		guint n, unknown;
		g_assert_cmpint(member_wire_decode(b, len, 1400, msgs, 255, &n, &unknown), ==,
		                MEMBER_WIRE_OK);
		for (guint k = 0; k < n; k++) {
			if (msgs[k].type == MEMBER_MSG_ALIVE && msgs[k].id == id) {
				c++;
				break;
			}
		}
	}
	return c;
}

/*
 * Issue 15, finding 8: after 20 members left, a new member's ALIVE must
 * reach both live members, and its transmissions must not be spent on
 * the departed (who get no datagram at all: they left on purpose).
 */
static void
test_engine_gossip_live(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	add_alive(m, 2, 0);
	add_alive(m, 3, 0);
	for (guint64 id = 4; id < 24; id++) {
		add_alive(m, id, 0);
		MemberMsg left = {.type = MEMBER_MSG_DEAD, .id = id, .inc = 0, .from = id};
		deliver(m, &left, 1, "10.0.0.2:11022");
	}
	g_assert_cmpuint(member_count(m, MEMBER_LEFT), ==, 20);
	/* A member joins right after (nobody answers probes here: 2 s is short of a death). */
	fake_sent_clear(&f);
	add_alive(m, 100, 0);
	fake_advance(&f, f.now + 2000);
	g_assert_cmpuint(count_alive_sent(&f, "10.0.0.2:11022", 100), >=, 1);
	g_assert_cmpuint(count_alive_sent(&f, "10.0.0.3:11022", 100), >=, 1);
	for (guint i = 0; i < f.to->len; i++) {
		const char *to = f.to->pdata[i];
		g_assert_true(strcmp(to, "10.0.0.2:11022") == 0 ||
		              strcmp(to, "10.0.0.3:11022") == 0 ||
		              strcmp(to, "10.0.0.100:11022") == 0);
	}
	member_free(m);
	fake_clear(&f);
}

/*
 * Issue 15, finding 8: a server that joins through us is pushed to our
 * neighbours at once, before any gossip tick.
 */
static void
test_engine_join_push(void)
{
	Fake f;
	Member *m = fake_member(&f, 1, "10.0.0.1:11022");
	for (guint64 id = 2; id <= 4; id++)
		add_alive(m, id, 0);
	fake_sent_clear(&f);
	GByteArray *doc = g_byte_array_new();
	member_wire_state_begin(doc, MEMBER_WIRE_STATE_JOIN, 100);
	MemberWireEntry self = {.id = 100,
	                        .inc = 0,
	                        .state = MEMBER_ALIVE,
	                        .addr = "10.0.0.100:11022",
	                        .addr_len = 16};
	member_wire_state_add(doc, &self);
	member_wire_state_end(doc, 1);
	GError *error = NULL;
	GBytes *reply = member_exchange_serve(m, doc->data, doc->len, "10.0.0.100:11022", &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	/* No time has passed: the push went out with the reply. */
	g_assert_cmpuint(count_alive_sent(&f, NULL, 100), ==, 3);
	g_assert_cmpuint(count_alive_sent(&f, "10.0.0.100:11022", 100), ==, 0);
	/* A plain push-pull (no join flag) is no reason to push. */
	fake_sent_clear(&f);
	doc->data[3] = 0;
	g_bytes_unref(member_exchange_serve(m, doc->data, doc->len, "10.0.0.100:11022", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count_alive_sent(&f, NULL, 100), ==, 0);
	g_bytes_unref(reply);
	g_byte_array_unref(doc);
	member_free(m);
	fake_clear(&f);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lib/member/wire/roundtrip", test_wire_roundtrip);
	g_test_add_func("/lib/member/wire/truncated", test_wire_truncated);
	g_test_add_func("/lib/member/wire/oversize", test_wire_oversize);
	g_test_add_func("/lib/member/wire/header", test_wire_header);
	g_test_add_func("/lib/member/wire/garbage", test_wire_garbage);
	g_test_add_func("/lib/member/wire/state", test_wire_state);
	g_test_add_func("/lib/member/id", test_id);
	g_test_add_func("/lib/member/engine/garbage", test_engine_garbage);
	g_test_add_func("/lib/member/engine/rules", test_engine_rules);
	g_test_add_func("/lib/member/engine/probe-to-death", test_engine_probe_to_death);
	g_test_add_func("/lib/member/engine/watch", test_engine_watch);
	g_test_add_func("/lib/member/engine/config", test_engine_config);
	g_test_add_func("/lib/member/engine/incarnation-wrap", test_engine_incarnation_wrap);
	g_test_add_func("/lib/member/engine/address-move", test_engine_address_move);
	g_test_add_func("/lib/member/engine/table-cap", test_engine_table_cap);
	g_test_add_func("/lib/member/engine/ping-req", test_engine_ping_req);
	g_test_add_func("/lib/member/engine/refusal-probes", test_engine_refusal_probes);
	g_test_add_func("/lib/member/engine/gossip-live", test_engine_gossip_live);
	g_test_add_func("/lib/member/engine/join-push", test_engine_join_push);
	return g_test_run();
}
