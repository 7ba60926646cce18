// SPDX-License-Identifier: Apache-2.0
#include "sim.h"

#include <string.h>

typedef struct SimNode SimNode;

typedef enum {
	SIM_EV_TIMER,
	SIM_EV_DGRAM,
	SIM_EV_XCHG_REQ,
	SIM_EV_XCHG_REPLY,
	SIM_EV_REFUSED, /* an ICMP port-unreachable arrives at the sender */
	SIM_EV_CALL,    /* a scripted action (join, crash) */
} SimEvKind;

typedef struct SimXchg SimXchg;

typedef struct {
	gint64 t;
	guint64 seq;
	SimEvKind kind;
	bool cancelled;
	SimNode *node;    /* TIMER: owner; DGRAM: sender; REFUSED: who is told */
	guint32 gen;      /* the owner's generation when scheduled */
	MemberTimerFn fn; /* TIMER */
	gpointer data;
	const char *addr; /* DGRAM: destination; REFUSED: the refusing address (interned) */
	const char *from; /* DGRAM: source address (interned) */
	gsize len;
	guint8 *bytes; /* DGRAM: points into this allocation */
	SimXchg *x;
	void (*call)(Sim *sim, gpointer a, guint b);
	guint arg;
} SimEvent;

struct SimXchg {
	Sim *sim;
	SimNode *from;
	guint32 gen;
	char *to;
	char *from_addr;
	guint8 *bytes;
	gsize len;
	GError *error;
	MemberExchangeDone done;
	gpointer data;
	bool cancelled;
};

typedef struct {
	guint64 id;
	SimNode *node;
	bool live;
	guint leaves; /* LEAVE reports by observers */
	gint64 last_leave;
} SimIdent;

struct SimNode {
	Sim *sim;
	guint index;
	guint32 gen; /* bumped on crash and restart */
	bool live;
	guint64 id;
	const char *addr; /* interned: events keep it without copying */
	guint group;
	guint64 rng;
	Member *m;
};

typedef struct {
	double loss;
	gint64 delay, jitter;
} SimLink;

struct Sim {
	SimConfig cfg;
	gint64 now;
	guint64 seq;
	GPtrArray *heap; /* SimEvent *, min-heap on (t, seq) */
	GPtrArray *nodes;
	GHashTable *by_addr; /* addr -> SimNode holding it */
	GHashTable *idents;  /* guint64 id -> SimIdent */
	GHashTable *links;   /* guint64 pair -> SimLink */
	GHashTable *pairs;   /* "observer:subject" -> leave count, after a LEAVE */
	guint64 rng;
	guint next_addr;
	guint live;
	SimStats stats;
};

/* g_memdup2 needs GLib 2.68; the build accepts 2.66. */
static guint8 *
copy_bytes(gconstpointer src, gsize len)
{
	guint8 *p = g_malloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(p, src, len);
	return p;
}

/* ---- Randomness (splitmix64: tiny, fast, the same everywhere) ----------- */

static guint64
sim_mix(guint64 *state)
{
	guint64 z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
sim_unit(Sim *sim)
{
	return (double)(sim_mix(&sim->rng) >> 11) / 9007199254740992.0;
}

/* ---- The event queue ---------------------------------------------------- */

static bool
sim_ev_before(const SimEvent *a, const SimEvent *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* A new event at @at, with @extra bytes after it (a datagram's payload). */
static SimEvent *
sim_ev_new_sized(Sim *sim, gint64 at, SimEvKind kind, gsize extra)
{
	SimEvent *e = g_malloc0(sizeof *e + extra);
	e->t = MAX(at, sim->now);
	e->seq = sim->seq++;
	e->kind = kind;
	GPtrArray *h = sim->heap;
	g_ptr_array_add(h, e);
	guint i = h->len - 1;
	while (i > 0) {
		guint parent = (i - 1) / 2;
		if (!sim_ev_before(h->pdata[i], h->pdata[parent]))
			break;
		gpointer t = h->pdata[i];
		h->pdata[i] = h->pdata[parent];
		h->pdata[parent] = t;
		i = parent;
	}
	return e;
}

static SimEvent *
sim_ev_new(Sim *sim, gint64 at, SimEvKind kind)
{
	return sim_ev_new_sized(sim, at, kind, 0);
}

static SimEvent *
sim_ev_pop(Sim *sim)
{
	GPtrArray *h = sim->heap;
	if (h->len == 0)
		return NULL;
	SimEvent *top = h->pdata[0];
	h->pdata[0] = h->pdata[h->len - 1];
	g_ptr_array_set_size(h, h->len - 1);
	guint i = 0, n = h->len;
	for (;;) {
		guint l = 2 * i + 1, r = l + 1, best = i;
		if (l < n && sim_ev_before(h->pdata[l], h->pdata[best]))
			best = l;
		if (r < n && sim_ev_before(h->pdata[r], h->pdata[best]))
			best = r;
		if (best == i)
			break;
		gpointer t = h->pdata[i];
		h->pdata[i] = h->pdata[best];
		h->pdata[best] = t;
		i = best;
	}
	return top;
}

static void
sim_ev_free(SimEvent *e)
{
	g_free(e);
}

static void
sim_xchg_free(SimXchg *x)
{
	g_free(x->to);
	g_free(x->from_addr);
	g_free(x->bytes);
	g_clear_error(&x->error);
	g_free(x);
}

/* ---- Links -------------------------------------------------------------- */

static guint64
sim_pair(guint a, guint b)
{
	return ((guint64)MIN(a, b) << 32) | MAX(a, b);
}

static SimLink
sim_link(Sim *sim, const SimNode *a, const SimNode *b)
{
	SimLink def = {sim->cfg.loss, sim->cfg.delay_ms, sim->cfg.jitter_ms};
	if (g_hash_table_size(sim->links) == 0)
		return def;
	guint64 key = sim_pair(a->index, b->index);
	SimLink *l = g_hash_table_lookup(sim->links, &key);
	return l ? *l : def;
}

static gint64
sim_delay(Sim *sim, const SimLink *l)
{
	gint64 d = l->delay;
	if (l->jitter > 0)
		d += (gint64)(sim_mix(&sim->rng) % (guint64)(l->jitter + 1));
	return d;
}

static bool
sim_reachable(const SimNode *a, const SimNode *b)
{
	return a->group == b->group;
}

/* ---- The MemberIO the engines see ---------------------------------------- */

static gint64
sim_io_now(gpointer ctx)
{
	SimNode *n = ctx;
	return n->sim->now;
}

static gpointer
sim_io_timer_start(gpointer ctx, gint64 delay_ms, MemberTimerFn fn, gpointer data)
{
	SimNode *n = ctx;
	SimEvent *e = sim_ev_new(n->sim, n->sim->now + delay_ms, SIM_EV_TIMER);
	e->node = n;
	e->gen = n->gen;
	e->fn = fn;
	e->data = data;
	return e;
}

static void
sim_io_timer_cancel(gpointer ctx, gpointer timer)
{
	SimEvent *e = timer;
	e->cancelled = true;
}

static void
sim_io_send(gpointer ctx, const char *to, const guint8 *bytes, gsize len)
{
	SimNode *n = ctx;
	Sim *sim = n->sim;
	sim->stats.datagrams_sent++;
	sim->stats.bytes_sent += len;
	SimNode *dst = g_hash_table_lookup(sim->by_addr, to);
	if (dst == NULL)
		return; /* nobody has that address: the datagram vanishes */
	SimLink l = sim_link(sim, n, dst);
	if (!sim_reachable(n, dst) || (l.loss > 0 && sim_unit(sim) < l.loss)) {
		sim->stats.datagrams_lost++;
		return;
	}
	SimEvent *e = sim_ev_new_sized(sim, sim->now + sim_delay(sim, &l), SIM_EV_DGRAM, len);
	e->node = n;
	e->gen = n->gen;
	e->addr = dst->addr;
	e->from = n->addr;
	e->bytes = (guint8 *)(e + 1);
	memcpy(e->bytes, bytes, len);
	e->len = len;
}

static gpointer
sim_io_xchg_request(gpointer ctx, const char *to, const guint8 *bytes, gsize len,
                    MemberExchangeDone done, gpointer data)
{
	SimNode *n = ctx;
	Sim *sim = n->sim;
	SimXchg *x = g_new0(SimXchg, 1);
	x->sim = sim;
	x->from = n;
	x->gen = n->gen;
	x->to = g_strdup(to);
	x->from_addr = g_strdup(n->addr);
	x->bytes = copy_bytes(bytes, len);
	x->len = len;
	x->done = done;
	x->data = data;
	/* Connection set-up plus the request: one and a half round trips. */
	SimNode *dst = g_hash_table_lookup(sim->by_addr, to);
	gint64 d = sim->cfg.delay_ms;
	if (dst != NULL) {
		SimLink l = sim_link(sim, n, dst);
		d = sim_delay(sim, &l) * 3;
	}
	SimEvent *e = sim_ev_new(sim, sim->now + d, SIM_EV_XCHG_REQ);
	e->x = x;
	return x;
}

static void
sim_io_xchg_cancel(gpointer ctx, gpointer handle)
{
	SimXchg *x = handle;
	x->cancelled = true;
}

static guint32
sim_io_random(gpointer ctx)
{
	SimNode *n = ctx;
	return (guint32)(sim_mix(&n->rng) >> 32);
}

/* ---- Observation of the engines ----------------------------------------- */

static SimIdent *
sim_ident(Sim *sim, guint64 id)
{
	return g_hash_table_lookup(sim->idents, &id);
}

static char *
sim_pair_key(guint64 observer, guint64 subject)
{
	return g_strdup_printf("%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER "x", observer,
	                       subject);
}

static void
sim_on_event(Member *m, MemberEventType type, const MemberInfo *info, gpointer user_data)
{
	SimNode *obs = user_data;
	Sim *sim = obs->sim;
	SimIdent *subj = sim_ident(sim, info->id);
	switch (type) {
	case MEMBER_EVENT_JOIN: {
		sim->stats.joins++;
		if (g_hash_table_size(sim->pairs) == 0)
			break; /* no departure on record: the common case, kept cheap */
		char *key = sim_pair_key(obs->id, info->id);
		if (g_hash_table_contains(sim->pairs, key) && subj != NULL && !subj->live)
			sim->stats.rejoins++;
		g_hash_table_remove(sim->pairs, key);
		g_free(key);
		break;
	}
	case MEMBER_EVENT_LEAVE: {
		sim->stats.leaves++;
		if (subj != NULL && subj->live && sim->stats.false_leaves++ < 5) {
			char buf[18];
			member_id_format(info->id, buf);
			g_test_message("t=%" G_GINT64_FORMAT " ms: %s reports live %s (%s) %s",
			               sim->now, obs->addr, buf, info->addr,
			               member_state_name(info->state));
		}
		if (subj != NULL) {
			subj->leaves++;
			subj->last_leave = sim->now;
		}
		char *key = sim_pair_key(obs->id, info->id);
		gpointer old = g_hash_table_lookup(sim->pairs, key);
		if (old != NULL)
			sim->stats.repeat_leaves++;
		g_hash_table_insert(sim->pairs, key, GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
		break;
	}
	case MEMBER_EVENT_UPDATE:
		sim->stats.updates++;
		break;
	}
}

/* ---- Servers ------------------------------------------------------------ */

static const char *
sim_new_addr(Sim *sim)
{
	guint i = ++sim->next_addr;
	char buf[32];
	g_snprintf(buf, sizeof buf, "10.%u.%u.%u:11022", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	return g_intern_string(buf);
}

static void
sim_node_boot(Sim *sim, SimNode *n)
{
	n->gen++;
	n->live = true;
	sim->live++;
	/* A new random ID on every start, as circuitd does. */
	do
		n->id = sim_mix(&sim->rng);
	while (n->id == 0 || sim_ident(sim, n->id) != NULL);
	n->rng = sim_mix(&sim->rng);
	SimIdent *ident = g_new0(SimIdent, 1);
	ident->id = n->id;
	ident->node = n;
	ident->live = true;
	ident->last_leave = -1;
	g_hash_table_insert(sim->idents, &ident->id, ident);
	g_hash_table_insert(sim->by_addr, (gpointer)n->addr, n);
	MemberIO io = {
	        .clock = {sim_io_now, sim_io_timer_start, sim_io_timer_cancel, n},
	        .transport = {sim_io_send, n},
	        .exchange = {sim_io_xchg_request, sim_io_xchg_cancel, n},
	        .random = {sim_io_random, n},
	};
	GError *error = NULL;
	n->m = member_new(&sim->cfg.member, &io, n->id, n->addr, &error);
	g_assert_no_error(error);
	member_watch(n->m, sim_on_event, n, NULL);
}

void
sim_config_init(SimConfig *cfg)
{
	*cfg = (SimConfig){
	        .seed = 1,
	        .loss = 0.0,
	        .delay_ms = 1,
	        .jitter_ms = 1,
	        .xchg_timeout_ms = 5000,
	        .refuse_crashed = false,
	};
	member_config_init(&cfg->member);
}

Sim *
sim_new(const SimConfig *cfg)
{
	Sim *sim = g_new0(Sim, 1);
	sim->cfg = *cfg;
	sim->rng = cfg->seed;
	sim->heap = g_ptr_array_new();
	sim->nodes = g_ptr_array_new();
	sim->by_addr = g_hash_table_new(g_str_hash, g_str_equal); /* keys interned, never freed */
	sim->idents = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	sim->links = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	sim->pairs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return sim;
}

void
sim_free(Sim *sim)
{
	if (sim == NULL)
		return;
	for (guint i = 0; i < sim->nodes->len; i++) {
		SimNode *n = sim->nodes->pdata[i];
		member_free(n->m);
	}
	/* Engines are gone: what is left in the queue is only memory to release. */
	for (guint i = 0; i < sim->heap->len; i++) {
		SimEvent *e = sim->heap->pdata[i];
		if (e->x != NULL)
			sim_xchg_free(e->x);
		sim_ev_free(e);
	}
	g_ptr_array_free(sim->heap, TRUE);
	for (guint i = 0; i < sim->nodes->len; i++) {
		SimNode *n = sim->nodes->pdata[i];
		g_free(n);
	}
	g_ptr_array_free(sim->nodes, TRUE);
	g_hash_table_destroy(sim->by_addr);
	g_hash_table_destroy(sim->idents);
	g_hash_table_destroy(sim->links);
	g_hash_table_destroy(sim->pairs);
	g_free(sim);
}

guint
sim_add(Sim *sim)
{
	SimNode *n = g_new0(SimNode, 1);
	n->sim = sim;
	n->index = sim->nodes->len;
	n->addr = sim_new_addr(sim);
	g_ptr_array_add(sim->nodes, n);
	sim_node_boot(sim, n);
	return n->index;
}

static SimNode *
sim_node(const Sim *sim, guint i)
{
	g_assert_cmpuint(i, <, sim->nodes->len);
	return sim->nodes->pdata[i];
}

static void
sim_call_join(Sim *sim, gpointer a, guint seed)
{
	SimNode *n = a;
	if (!n->live)
		return;
	GError *error = NULL;
	bool ok = member_join(n->m, sim_node(sim, seed)->addr, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
}

void
sim_join(Sim *sim, guint node, guint seed, gint64 delay_ms)
{
	SimEvent *e = sim_ev_new(sim, sim->now + delay_ms, SIM_EV_CALL);
	e->call = sim_call_join;
	e->data = sim_node(sim, node);
	e->arg = seed;
}

void
sim_add_joined(Sim *sim, guint n, guint seed, gint64 spread_ms)
{
	for (guint i = 0; i < n; i++) {
		guint idx = sim_add(sim);
		gint64 at = spread_ms > 0 ? (gint64)(sim_mix(&sim->rng) % (guint64)spread_ms) : 0;
		sim_join(sim, idx, seed, at);
	}
}

void
sim_crash(Sim *sim, guint node)
{
	SimNode *n = sim_node(sim, node);
	if (!n->live)
		return;
	member_free(n->m);
	n->m = NULL;
	n->live = false;
	n->gen++;
	sim->live--;
	SimIdent *ident = sim_ident(sim, n->id);
	ident->live = false;
}

void
sim_restart(Sim *sim, guint node, bool new_addr, guint seed)
{
	SimNode *n = sim_node(sim, node);
	sim_crash(sim, node);
	if (new_addr) {
		g_hash_table_remove(sim->by_addr, n->addr);
		n->addr = sim_new_addr(sim);
	}
	sim_node_boot(sim, n);
	sim_join(sim, node, seed, 0);
}

static void
sim_call_crash(Sim *sim, gpointer a, guint node)
{
	sim_crash(sim, node);
}

void
sim_leave(Sim *sim, guint node, gint64 linger_ms)
{
	SimNode *n = sim_node(sim, node);
	if (!n->live)
		return;
	member_leave(n->m);
	/* From here on its departure is not a false report. */
	sim_ident(sim, n->id)->live = false;
	SimEvent *e = sim_ev_new(sim, sim->now + linger_ms, SIM_EV_CALL);
	e->call = sim_call_crash;
	e->arg = node;
}

void
sim_set_link(Sim *sim, guint a, guint b, double loss, gint64 delay_ms, gint64 jitter_ms)
{
	guint64 *key = g_new(guint64, 1);
	*key = sim_pair(a, b);
	SimLink *l = g_new(SimLink, 1);
	*l = (SimLink){loss, delay_ms, jitter_ms};
	g_hash_table_insert(sim->links, key, l);
}

void
sim_set_group(Sim *sim, guint node, guint group)
{
	sim_node(sim, node)->group = group;
}

void
sim_heal(Sim *sim)
{
	for (guint i = 0; i < sim->nodes->len; i++)
		sim_node(sim, i)->group = 0;
}

void
sim_set_loss(Sim *sim, double loss)
{
	sim->cfg.loss = loss;
}

void
sim_inject(Sim *sim, guint node, const guint8 *bytes, gsize len, const char *from)
{
	SimNode *n = sim_node(sim, node);
	if (n->live)
		member_receive(n->m, bytes, len, from);
}

void
sim_forge_refusal(Sim *sim, guint node, const char *addr)
{
	SimNode *n = sim_node(sim, node);
	if (n->live)
		member_peer_refused(n->m, addr);
}

/* ---- Running ------------------------------------------------------------ */

static void
sim_refuse(Sim *sim, SimNode *to_tell, const char *addr, gint64 after)
{
	SimEvent *e = sim_ev_new(sim, sim->now + after, SIM_EV_REFUSED);
	e->node = to_tell;
	e->gen = to_tell->gen;
	e->addr = g_intern_string(addr);
}

static void
sim_deliver_dgram(Sim *sim, SimEvent *e)
{
	SimNode *dst = g_hash_table_lookup(sim->by_addr, e->addr);
	if (dst == NULL)
		return;
	if (!dst->live) {
		/* A crashed server on a live host: the kernel answers port-unreachable. */
		if (sim->cfg.refuse_crashed && e->node->live && e->node->gen == e->gen)
			sim_refuse(sim, e->node, e->addr, sim->cfg.delay_ms);
		return;
	}
	sim->stats.datagrams_delivered++;
	member_receive(dst->m, e->bytes, e->len, e->from);
}

static void
sim_xchg_fail(Sim *sim, SimXchg *x, gint64 after, const char *why)
{
	g_set_error(&x->error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", x->to, why);
	SimEvent *r = sim_ev_new(sim, sim->now + after, SIM_EV_XCHG_REPLY);
	r->x = x;
}

static void
sim_xchg_serve(Sim *sim, SimXchg *x)
{
	if (x->cancelled) {
		sim_xchg_free(x);
		return;
	}
	SimNode *dst = g_hash_table_lookup(sim->by_addr, x->to);
	if (dst == NULL || !sim_reachable(x->from, dst) ||
	    (!dst->live && !sim->cfg.refuse_crashed)) {
		sim_xchg_fail(sim, x, sim->cfg.xchg_timeout_ms, "timed out");
		return;
	}
	if (!dst->live) {
		sim_xchg_fail(sim, x, 0, "connection refused");
		if (x->from->live && x->from->gen == x->gen)
			sim_refuse(sim, x->from, x->to, 0);
		return;
	}
	GError *error = NULL;
	GBytes *reply = member_exchange_serve(dst->m, x->bytes, x->len, x->from_addr, &error);
	g_free(x->bytes);
	x->bytes = NULL;
	x->len = 0;
	if (reply == NULL) {
		x->error = error;
	} else {
		gsize len;
		const guint8 *data = g_bytes_get_data(reply, &len);
		x->bytes = copy_bytes(data, len);
		x->len = len;
		g_bytes_unref(reply);
	}
	SimLink l = sim_link(sim, x->from, dst);
	SimEvent *r = sim_ev_new(sim, sim->now + sim_delay(sim, &l), SIM_EV_XCHG_REPLY);
	r->x = x;
}

static void
sim_xchg_complete(Sim *sim, SimXchg *x)
{
	if (!x->cancelled) {
		if (x->error != NULL)
			sim->stats.xchg_failed++;
		else
			sim->stats.xchg_ok++;
		x->done(x->error ? NULL : x->bytes, x->len, x->error, x->data);
	}
	sim_xchg_free(x);
}

static void
sim_dispatch(Sim *sim, SimEvent *e)
{
	sim->stats.events++;
	switch (e->kind) {
	case SIM_EV_TIMER:
		if (!e->cancelled)
			e->fn(e->data);
		break;
	case SIM_EV_DGRAM:
		sim_deliver_dgram(sim, e);
		break;
	case SIM_EV_XCHG_REQ:
		sim_xchg_serve(sim, e->x);
		break;
	case SIM_EV_XCHG_REPLY:
		sim_xchg_complete(sim, e->x);
		break;
	case SIM_EV_REFUSED:
		if (e->node->live && e->node->gen == e->gen) {
			sim->stats.refusals_reported++;
			member_peer_refused(e->node->m, e->addr);
		}
		break;
	case SIM_EV_CALL:
		e->call(sim, e->data, e->arg);
		break;
	}
}

void
sim_run_until(Sim *sim, gint64 t)
{
	while (sim->heap->len > 0) {
		SimEvent *top = sim->heap->pdata[0];
		if (top->t > t)
			break;
		sim_ev_pop(sim);
		sim->now = top->t;
		sim_dispatch(sim, top);
		sim_ev_free(top);
	}
	sim->now = MAX(sim->now, t);
}

void
sim_run_for(Sim *sim, gint64 ms)
{
	sim_run_until(sim, sim->now + ms);
}

bool
sim_run_until_cond(Sim *sim, gint64 deadline_ms, gint64 step_ms, SimCondFn cond, gpointer data)
{
	for (;;) {
		if (cond(sim, data))
			return true;
		if (sim->now >= deadline_ms)
			return false;
		sim_run_until(sim, MIN(sim->now + step_ms, deadline_ms));
	}
}

/* ---- Queries ------------------------------------------------------------ */

gint64
sim_now(const Sim *sim)
{
	return sim->now;
}

guint
sim_size(const Sim *sim)
{
	return sim->nodes->len;
}

guint
sim_live_count(const Sim *sim)
{
	return sim->live;
}

bool
sim_is_live(const Sim *sim, guint node)
{
	return sim_node(sim, node)->live;
}

Member *
sim_member(Sim *sim, guint node)
{
	return sim_node(sim, node)->m;
}

guint64
sim_id(const Sim *sim, guint node)
{
	return sim_node(sim, node)->id;
}

const char *
sim_addr(const Sim *sim, guint node)
{
	return sim_node(sim, node)->addr;
}

static bool
sim_sees_up(Member *m, guint64 id)
{
	MemberInfo info;
	return member_lookup(m, id, &info) &&
	       (info.state == MEMBER_ALIVE || info.state == MEMBER_SUSPECT);
}

bool
sim_converged(Sim *sim)
{
	/* Cheap counts first; the full cross-check only when they already agree. */
	for (guint i = 0; i < sim->nodes->len; i++) {
		SimNode *n = sim->nodes->pdata[i];
		if (!n->live)
			continue;
		guint up = member_count(n->m, MEMBER_ALIVE) + member_count(n->m, MEMBER_SUSPECT);
		if (up != sim->live)
			return false;
	}
	for (guint i = 0; i < sim->nodes->len; i++) {
		SimNode *n = sim->nodes->pdata[i];
		if (!n->live)
			continue;
		for (guint j = 0; j < sim->nodes->len; j++) {
			SimNode *o = sim->nodes->pdata[j];
			if (o->live && !sim_sees_up(n->m, o->id))
				return false;
		}
	}
	return true;
}

guint
sim_count_seeing_up(Sim *sim, guint64 id)
{
	guint c = 0;
	for (guint i = 0; i < sim->nodes->len; i++) {
		SimNode *n = sim->nodes->pdata[i];
		if (n->live && n->id != id && sim_sees_up(n->m, id))
			c++;
	}
	return c;
}

bool
sim_all_see_down(Sim *sim, guint64 id)
{
	return sim_count_seeing_up(sim, id) == 0;
}

void
sim_get_stats(const Sim *sim, SimStats *out)
{
	*out = sim->stats;
}

void
sim_member_stats(Sim *sim, MemberStats *out)
{
	memset(out, 0, sizeof *out);
	for (guint i = 0; i < sim->nodes->len; i++) {
		SimNode *n = sim->nodes->pdata[i];
		if (!n->live)
			continue;
		MemberStats s;
		member_get_stats(n->m, &s);
		guint64 *dst = (guint64 *)out;
		const guint64 *src = (const guint64 *)&s;
		for (gsize k = 0; k < sizeof s / sizeof(guint64); k++)
			dst[k] += src[k];
	}
}

guint
sim_leave_count(const Sim *sim, guint64 id, gint64 *last_ms)
{
	SimIdent *ident = g_hash_table_lookup(sim->idents, &id);
	if (last_ms != NULL)
		*last_ms = ident ? ident->last_leave : -1;
	return ident ? ident->leaves : 0;
}
