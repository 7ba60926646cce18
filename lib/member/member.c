// SPDX-License-Identifier: Apache-2.0
//
// member.c - the SWIM/Lifeguard engine. The protocol, its timers and the
// reasoning behind each rule are in docs/membership.md; comments here say
// why a line is the way it is.
#define G_LOG_DOMAIN "member"

#include "member/member.h"

#include <math.h>
#include <string.h>

/* Broadcast queue buckets: one per transmit count (a retransmit limit is never above this). */
#define MEMBER_BCAST_BUCKETS 64
/* Most confirmations a suspicion counts (indirect_checks is capped to this). */
#define MEMBER_CONFIRM_MAX 16
/* A relay sends its NACK at this fraction of the probe timeout (Lifeguard). */
#define MEMBER_NACK_PERCENT 80
/* Smallest gossip message (ALIVE with a one-byte address). */
#define MEMBER_BCAST_MIN (MEMBER_WIRE_MSG_HEADER + 14u)

typedef struct MemberNode MemberNode;
typedef struct MemberBcast MemberBcast;

/* A running suspicion (Lifeguard): allocated only while a member is suspect. */
typedef struct {
	gpointer timer;
	gint64 start;
	gint64 min, max;
	guint k;                              /* expected confirmations */
	guint n;                              /* confirmations so far */
	bool final_probe;                     /* the last-chance probe is out */
	guint64 from[MEMBER_CONFIRM_MAX + 1]; /* who: the first, then confirmers */
} MemberSuspicion;

struct MemberNode {
	Member *m;
	guint64 id;
	char *addr;
	guint8 addr_len;
	guint64 inc;
	MemberState state;
	gint64 since;
	guint32 refusal_seq;  /* our probe after a refusal, while pending */
	guint32 move_seq;     /* our probe of a claimed new address, while pending */
	guint nodes_index;    /* position in m->nodes */
	MemberSuspicion *sus; /* while suspected */
	MemberBcast *bcast;   /* our queued update about it */
};

/* One queued update: its encoded message, ready to be copied into a datagram. */
struct MemberBcast {
	GList link;
	MemberBcast **owner; /* the node's (or self's) pointer to this */
	guint transmits;
	guint64 stamp; /* datagram it was last put into, so it goes in at most once */
	guint16 len;
	guint8 bytes[];
};

typedef enum {
	MEMBER_PENDING_PROBE, /* our own probe of a member */
	MEMBER_PENDING_RELAY, /* a probe we make for a ping-req */
	MEMBER_PENDING_MOVE,  /* a ping to a member's claimed new address */
} MemberPendingKind;

typedef struct MemberPending {
	Member *m;
	MemberPendingKind kind;
	guint32 seq;
	guint64 target;
	gpointer t_a; /* probe: switch to indirect; relay: send the NACK */
	gpointer t_b; /* probe: deadline; relay: give up */
	guint expected_nacks, nacks;
	bool final;       /* probe: the last chance before a suspicion becomes a death */
	bool refused;     /* probe: checks a refusal (ICMP, TCP reset), which anyone can forge */
	char *origin;     /* relay: who asked; move: the claimed new address */
	guint64 move_inc; /* move: the incarnation the claim came with */
	guint32 origin_seq;
	bool want_nack;
} MemberPending;

typedef enum {
	MEMBER_XCHG_PUSH_PULL,
	MEMBER_XCHG_JOIN,
	MEMBER_XCHG_RECONNECT,
} MemberXchgKind;

typedef struct {
	Member *m;
	MemberXchgKind kind;
	gpointer handle;
	char *addr;
} MemberXchg;

/*
 * Members by ID: open addressing with linear probing. Every datagram
 * carries dozens of updates, each looked up here, so this is the hottest
 * structure of a large cluster.
 */
typedef struct {
	MemberNode **slots;
	guint mask; /* capacity - 1, a power of two */
	guint len;
} MemberIdMap;

typedef struct {
	guint id;
	MemberEventFn fn;
	gpointer data;
	GDestroyNotify destroy;
} MemberWatch;

struct Member {
	MemberConfig cfg;
	MemberIO io;

	guint64 self_id;
	char *self_addr;
	guint8 self_addr_len;
	guint64 self_inc;
	bool left;
	gint64 self_since;

	MemberIdMap by_id;     /* id -> MemberNode (owned) */
	GPtrArray *nodes;      /* every MemberNode, for random picks */
	GPtrArray *probe_list; /* round-robin order, reshuffled each pass */
	guint probe_pos;
	guint n_state[4]; /* nodes per state, self excluded */
	guint health;     /* Lifeguard local health score */
	guint32 seq;
	GHashTable *pending; /* seq -> MemberPending (owned) */
	GHashTable *xchg;    /* set of MemberXchg in flight (owned) */

	gpointer t_probe, t_gossip, t_push_pull, t_reconnect, t_join;

	GQueue buckets[MEMBER_BCAST_BUCKETS];
	MemberBcast *self_bcast;
	guint n_bcasts;
	guint64 bcast_stamp;

	GPtrArray *seeds; /* char * */
	gint64 join_backoff;
	guint join_inflight;
	bool join_round_ok;
	bool joined;

	GArray *watches; /* MemberWatch */
	guint next_watch;
	guint emitting;
	bool watches_dirty;

	guint8 *out;
	MemberStats stats;
	gint64 full_logged;    /* when "member table full" was last logged (-1: never) */
	guint64 full_unlogged; /* members refused since */
};

GQuark
member_error_quark(void)
{
	return g_quark_from_static_string("member-error-quark");
}

/* Debug logging of every event is costly in a 2,000-member simulation: skip the formatting. */
static bool
member_debug_on(void)
{
#if GLIB_CHECK_VERSION(2, 68, 0)
	return !g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
#else
	return true;
#endif
}

/* g_debug, formatted only when someone listens (G_MESSAGES_DEBUG). */
#define MEMBER_DEBUG(...)                                                                          \
	do {                                                                                       \
		if (member_debug_on())                                                             \
			g_debug(__VA_ARGS__);                                                      \
	} while (0)

/* ---- Configuration ------------------------------------------------------ */

void
member_config_init(MemberConfig *cfg)
{
	g_return_if_fail(cfg != NULL);
	*cfg = (MemberConfig){
	        .probe_interval_ms = 1000,
	        .probe_timeout_ms = 500,
	        .indirect_checks = 3,
	        .suspicion_mult = 4,
	        .suspicion_max_mult = 6,
	        .health_max = 8,
	        .retransmit_mult = 4,
	        .gossip_interval_ms = 200,
	        .gossip_nodes = 3,
	        .gossip_to_dead_ms = 30000,
	        .push_pull_interval_ms = 30000,
	        .reconnect_interval_ms = 30000,
	        .dead_retain_ms = 24 * 3600 * 1000LL,
	        .join_retry_min_ms = 1000,
	        .join_retry_max_ms = 60000,
	        .datagram_max = 1400,
	        .max_members = MEMBER_MAX_MEMBERS_DEFAULT,
	};
}

static double
member_node_scale(guint n)
{
	return MAX(1.0, log10((double)MAX(1u, n)));
}

gint64
member_config_suspicion_min_ms(const MemberConfig *cfg, guint n)
{
	return (gint64)((double)cfg->suspicion_mult * member_node_scale(n) *
	                (double)cfg->probe_interval_ms);
}

gint64
member_config_suspicion_max_ms(const MemberConfig *cfg, guint n)
{
	return (gint64)cfg->suspicion_max_mult * member_config_suspicion_min_ms(cfg, n);
}

guint
member_config_retransmit_limit(const MemberConfig *cfg, guint n)
{
	guint limit = cfg->retransmit_mult * (guint)ceil(log10((double)n + 1.0));
	return CLAMP(limit, 1u, (guint)MEMBER_BCAST_BUCKETS - 1);
}

gint64
member_config_push_pull_ms(const MemberConfig *cfg, guint n)
{
	/* Past 32 members the period grows in proportion, as the document
	 * does, so that each server's push-pull bytes per second stay flat
	 * (memberlist grows it with log2 only, and its load grows with N). */
	if (n <= 32)
		return cfg->push_pull_interval_ms;
	return (gint64)((double)cfg->push_pull_interval_ms * (double)n / 32.0);
}

gint64
member_config_dissemination_ms(const MemberConfig *cfg, guint n)
{
	guint limit = member_config_retransmit_limit(cfg, n);
	return (gint64)(limit + 1) * cfg->gossip_interval_ms + cfg->probe_interval_ms;
}

gint64
member_config_detection_bound_ms(const MemberConfig *cfg, guint n)
{
	return (gint64)(MEMBER_FIRST_PROBE_PERIODS + 2) * cfg->probe_interval_ms +
	       member_config_suspicion_max_ms(cfg, n) + member_config_dissemination_ms(cfg, n);
}

static bool
member_config_check(const MemberConfig *cfg, GError **error)
{
	const char *bad = NULL;
	if (cfg->probe_interval_ms <= 0)
		bad = "probe_interval_ms must be positive";
	else if (cfg->probe_timeout_ms <= 0 || cfg->probe_timeout_ms >= cfg->probe_interval_ms)
		bad = "probe_timeout_ms must be positive and below probe_interval_ms";
	else if (cfg->indirect_checks > MEMBER_CONFIRM_MAX)
		bad = "indirect_checks is at most 16";
	else if (cfg->suspicion_mult < 1 || cfg->suspicion_max_mult < 1)
		bad = "suspicion multipliers must be at least 1";
	else if (cfg->health_max < 1)
		bad = "health_max must be at least 1";
	else if (cfg->retransmit_mult < 1)
		bad = "retransmit_mult must be at least 1";
	else if (cfg->gossip_interval_ms <= 0 || cfg->gossip_nodes < 1)
		bad = "gossip_interval_ms and gossip_nodes must be positive";
	else if (cfg->push_pull_interval_ms < 0 || cfg->reconnect_interval_ms < 0 ||
	         cfg->gossip_to_dead_ms < 0 || cfg->dead_retain_ms < 0)
		bad = "intervals must not be negative";
	else if (cfg->join_retry_min_ms <= 0 || cfg->join_retry_max_ms < cfg->join_retry_min_ms)
		bad = "join retry bounds must be positive and ordered";
	else if (cfg->datagram_max < MEMBER_WIRE_DATAGRAM_MIN ||
	         cfg->datagram_max > MEMBER_WIRE_DATAGRAM_MAX)
		bad = "datagram_max must be within 512..65507";
	else if (cfg->max_members < 2)
		bad = "max_members must be at least 2";
	if (bad != NULL) {
		g_set_error(error, MEMBER_ERROR, MEMBER_ERROR_INVALID, "membership config: %s",
		            bad);
		return false;
	}
	return true;
}

/* ---- Names -------------------------------------------------------------- */

const char *
member_event_name(MemberEventType type)
{
	switch (type) {
	case MEMBER_EVENT_JOIN:
		return "join";
	case MEMBER_EVENT_LEAVE:
		return "leave";
	case MEMBER_EVENT_UPDATE:
		return "update";
	}
	return "?";
}

const char *
member_state_name(MemberState state)
{
	switch (state) {
	case MEMBER_ALIVE:
		return "alive";
	case MEMBER_SUSPECT:
		return "suspect";
	case MEMBER_DEAD:
		return "dead";
	case MEMBER_LEFT:
		return "left";
	}
	return "?";
}

void
member_id_format(guint64 id, char buf[18])
{
	g_snprintf(buf, 18, "X%016" G_GINT64_MODIFIER "x", id);
}

bool
member_id_parse(const char *s, guint64 *out)
{
	if (s == NULL || (s[0] != 'X' && s[0] != 'Q') || strlen(s) != 17)
		return false;
	guint64 v = 0;
	for (int i = 1; i < 17; i++) {
		int d = g_ascii_xdigit_value(s[i]);
		if (d < 0)
			return false;
		v = (v << 4) | (guint64)d;
	}
	*out = v;
	return true;
}

/* ---- Seam helpers ------------------------------------------------------- */

static gint64
member_now(Member *m)
{
	return m->io.clock.now_ms(m->io.clock.ctx);
}

static gpointer
member_timer(Member *m, gint64 delay_ms, MemberTimerFn fn, gpointer data)
{
	return m->io.clock.timer_start(m->io.clock.ctx, MAX(delay_ms, 0), fn, data);
}

static void
member_timer_cancel(Member *m, gpointer *timer)
{
	if (*timer != NULL) {
		m->io.clock.timer_cancel(m->io.clock.ctx, *timer);
		*timer = NULL;
	}
}

static guint
member_rand_below(Member *m, guint n)
{
	guint32 r = m->io.random.next_u32(m->io.random.ctx);
	return (guint)(((guint64)r * n) >> 32);
}

/* @base stretched by a random 0-25%, so timers of many nodes never lock step. */
static gint64
member_jitter(Member *m, gint64 base)
{
	return base + (gint64)member_rand_below(m, (guint)MIN(base / 4 + 1, G_MAXUINT32));
}

/* The Lifeguard multiplier: timeouts and the probe period stretch by health + 1. */
static gint64
member_scaled(Member *m, gint64 ms)
{
	return ms * (gint64)(m->health + 1);
}

static void
member_health_add(Member *m, int delta)
{
	int h = (int)m->health + delta;
	m->health = (guint)CLAMP(h, 0, (int)m->cfg.health_max - 1);
}

/* Members believed up, this node included: the N of the formulas. */
static guint
member_live(Member *m)
{
	return m->n_state[MEMBER_ALIVE] + m->n_state[MEMBER_SUSPECT] + (m->left ? 0 : 1);
}

static bool
member_is_up(const MemberNode *n)
{
	return n->state == MEMBER_ALIVE || n->state == MEMBER_SUSPECT;
}

static bool
member_addr_eq(const MemberNode *n, const char *addr, gsize len)
{
	return n->addr_len == len && memcmp(n->addr, addr, len) == 0;
}

/* ---- Events ------------------------------------------------------------- */

static void
member_info_fill(Member *m, const MemberNode *n, MemberInfo *out)
{
	out->id = n->id;
	out->addr = n->addr;
	out->incarnation = n->inc;
	out->state = n->state;
	out->since_ms = n->since;
}

static void
member_emit(Member *m, MemberEventType type, MemberNode *n)
{
	if (member_debug_on()) {
		char idbuf[18];
		member_id_format(n->id, idbuf);
		g_debug("%s: t=%" G_GINT64_FORMAT ": %s %s at %s (incarnation %" G_GUINT64_FORMAT
		        ", %s)",
		        m->self_addr, member_now(m), member_event_name(type), idbuf, n->addr,
		        n->inc, member_state_name(n->state));
	}
	if (m->watches->len == 0)
		return;
	MemberInfo info;
	member_info_fill(m, n, &info);
	m->emitting++;
	/* Index loop: a callback may add watches (appended) or remove some (marked). */
	for (guint i = 0; i < m->watches->len; i++) {
		MemberWatch *w = &g_array_index(m->watches, MemberWatch, i);
		if (w->fn != NULL)
			w->fn(m, type, &info, w->data);
	}
	m->emitting--;
	if (m->emitting == 0 && m->watches_dirty) {
		for (guint i = m->watches->len; i-- > 0;) {
			if (g_array_index(m->watches, MemberWatch, i).fn == NULL)
				g_array_remove_index(m->watches, i);
		}
		m->watches_dirty = false;
	}
}

/* ---- Members by ID ------------------------------------------------------ */

static guint
member_idmap_home(guint64 id, guint mask)
{
	/* IDs are random, but a peer may pick them: mix anyway (murmur3's finalizer). */
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (guint)id & mask;
}

static void
member_idmap_init(MemberIdMap *map)
{
	map->mask = 63;
	map->len = 0;
	map->slots = g_new0(MemberNode *, map->mask + 1);
}

static MemberNode *
member_idmap_get(const MemberIdMap *map, guint64 id)
{
	for (guint i = member_idmap_home(id, map->mask);; i = (i + 1) & map->mask) {
		MemberNode *n = map->slots[i];
		if (n == NULL || n->id == id)
			return n;
	}
}

static void member_idmap_put(MemberIdMap *map, MemberNode *n);

static void
member_idmap_grow(MemberIdMap *map)
{
	MemberNode **old = map->slots;
	guint old_cap = map->mask + 1;
	map->mask = 2 * old_cap - 1;
	map->slots = g_new0(MemberNode *, map->mask + 1);
	map->len = 0;
	for (guint i = 0; i < old_cap; i++) {
		if (old[i] != NULL)
			member_idmap_put(map, old[i]);
	}
	g_free(old);
}

/* Adds @n, whose ID is not in @map yet. */
static void
member_idmap_put(MemberIdMap *map, MemberNode *n)
{
	/* At most half full, so probes stay short. */
	if (2 * (map->len + 1) > map->mask + 1)
		member_idmap_grow(map);
	guint i = member_idmap_home(n->id, map->mask);
	while (map->slots[i] != NULL)
		i = (i + 1) & map->mask;
	map->slots[i] = n;
	map->len++;
}

static void
member_idmap_del(MemberIdMap *map, guint64 id)
{
	guint i = member_idmap_home(id, map->mask);
	while (map->slots[i] != NULL && map->slots[i]->id != id)
		i = (i + 1) & map->mask;
	if (map->slots[i] == NULL)
		return;
	/* Backward-shift deletion: pull later members of the run into the hole. */
	guint j = i;
	for (;;) {
		j = (j + 1) & map->mask;
		if (map->slots[j] == NULL)
			break;
		guint k = member_idmap_home(map->slots[j]->id, map->mask);
		bool movable = i <= j ? (k <= i || k > j) : (k <= i && k > j);
		if (movable) {
			map->slots[i] = map->slots[j];
			i = j;
		}
	}
	map->slots[i] = NULL;
	map->len--;
}

/* ---- Broadcast queue ---------------------------------------------------- */

static MemberNode *member_node_get(Member *m, guint64 id);

/* Where the queued update about @id is referenced from; NULL for an unknown member. */
static MemberBcast **
member_bcast_owner(Member *m, guint64 id)
{
	if (id == m->self_id)
		return &m->self_bcast;
	MemberNode *n = member_node_get(m, id);
	return n != NULL ? &n->bcast : NULL;
}

static void
member_bcast_free(Member *m, MemberBcast *b, guint bucket)
{
	g_queue_unlink(&m->buckets[bucket], &b->link);
	*b->owner = NULL;
	m->n_bcasts--;
	g_free(b);
}

/* Queues @msg for dissemination, replacing any older update about the same member. */
static void
member_bcast_queue(Member *m, guint64 id, const MemberMsg *msg)
{
	gsize size = member_wire_msg_size(msg);
	MemberBcast *b = g_malloc(sizeof *b + size);
	b->len = (guint16)member_wire_msg_encode(msg, b->bytes, size);
	if (b->len == 0) {
		g_free(b);
		return;
	}
	MemberBcast **owner = member_bcast_owner(m, id);
	if (owner == NULL) {
		g_free(b);
		return;
	}
	if (*owner != NULL)
		member_bcast_free(m, *owner, MIN((*owner)->transmits, MEMBER_BCAST_BUCKETS - 1u));
	b->owner = owner;
	*owner = b;
	b->transmits = 0;
	b->stamp = 0;
	b->link = (GList){.data = b};
	g_queue_push_head_link(&m->buckets[0], &b->link);
	m->n_bcasts++;
}

static void
member_bcast_alive(Member *m, guint64 id, guint64 inc, const char *addr, guint8 addr_len)
{
	MemberMsg msg = {.type = MEMBER_MSG_ALIVE,
	                 .id = id,
	                 .inc = (guint32)inc,
	                 .addr = addr,
	                 .addr_len = addr_len};
	member_bcast_queue(m, id, &msg);
}

static void
member_bcast_verdict(Member *m, MemberMsgType type, guint64 id, guint64 inc, guint64 from)
{
	MemberMsg msg = {.type = type, .id = id, .inc = (guint32)inc, .from = from};
	member_bcast_queue(m, id, &msg);
}

/*
 * Copies queued updates, least transmitted first, into @buf (@cap bytes
 * free). Updates past the retransmit limit are dropped on the way. An
 * uncounted fill (a datagram to a member that is probably gone) spends
 * none of the updates' transmissions.
 */
static gsize
member_bcast_fill(Member *m, guint8 *buf, gsize cap, guint *count, bool counted)
{
	if (m->n_bcasts == 0)
		return 0;
	guint limit = member_config_retransmit_limit(&m->cfg, member_live(m));
	guint64 stamp = ++m->bcast_stamp;
	gsize used = 0;
	guint skipped = 0;
	for (guint q = 0; q < MEMBER_BCAST_BUCKETS; q++) {
		GList *l = m->buckets[q].head;
		while (l != NULL) {
			MemberBcast *b = l->data;
			l = l->next;
			if (b->stamp == stamp)
				continue;
			if (b->transmits >= limit) {
				member_bcast_free(m, b, q);
				continue;
			}
			if (*count >= MEMBER_WIRE_MSGS_MAX || cap - used < MEMBER_BCAST_MIN)
				return used;
			if (b->len > cap - used) {
				if (++skipped > 32)
					return used;
				continue;
			}
			memcpy(buf + used, b->bytes, b->len);
			used += b->len;
			(*count)++;
			b->stamp = stamp;
			if (!counted)
				continue;
			b->transmits++;
			g_queue_unlink(&m->buckets[q], &b->link);
			if (b->transmits >= limit) {
				*b->owner = NULL;
				m->n_bcasts--;
				g_free(b);
			} else {
				g_queue_push_tail_link(
				        &m->buckets[MIN(b->transmits, MEMBER_BCAST_BUCKETS - 1u)],
				        &b->link);
			}
		}
	}
	return used;
}

/* ---- Sending ------------------------------------------------------------ */

/* How member_send fills the rest of a datagram. */
typedef enum {
	MEMBER_PIGGY_NONE,      /* only @msgs */
	MEMBER_PIGGY_COUNTED,   /* queued updates, each transmission counted */
	MEMBER_PIGGY_UNCOUNTED, /* queued updates, to a member that is probably gone */
} MemberPiggyback;

/* Sends @msgs to @to in one datagram, with as many queued updates as fit. */
static void
member_send_ex(Member *m, const char *to, const MemberMsg *msgs, guint n_msgs,
               MemberPiggyback piggyback)
{
	gsize cap = m->cfg.datagram_max;
	gsize off = MEMBER_WIRE_HEADER;
	guint count = 0;
	for (guint i = 0; i < n_msgs; i++) {
		gsize w = member_wire_msg_encode(&msgs[i], m->out + off, cap - off);
		if (w == 0)
			continue;
		off += w;
		count++;
	}
	if (piggyback != MEMBER_PIGGY_NONE)
		off += member_bcast_fill(m, m->out + off, cap - off, &count,
		                         piggyback == MEMBER_PIGGY_COUNTED);
	if (count == 0)
		return;
	member_wire_header_encode(m->out, count);
	m->stats.datagrams_out++;
	m->stats.bytes_out += off;
	m->io.transport.send(m->io.transport.ctx, to, m->out, off);
}

static void
member_send(Member *m, const char *to, const MemberMsg *msgs, guint n_msgs, bool piggyback)
{
	member_send_ex(m, to, msgs, n_msgs, piggyback ? MEMBER_PIGGY_COUNTED : MEMBER_PIGGY_NONE);
}

/* ---- Nodes -------------------------------------------------------------- */

static MemberNode *
member_node_get(Member *m, guint64 id)
{
	return member_idmap_get(&m->by_id, id);
}

static void
member_suspicion_clear(Member *m, MemberNode *n)
{
	if (n->sus == NULL)
		return;
	member_timer_cancel(m, &n->sus->timer);
	g_free(n->sus);
	n->sus = NULL;
}

/*
 * Moves @n to @state at incarnation @inc and reports it: JOIN when a
 * member comes (back) up, LEAVE when it goes down (once: a down member
 * only comes up again with a higher incarnation), UPDATE between alive and
 * suspect.
 */
static void
member_node_set(Member *m, MemberNode *n, MemberState state, guint64 inc)
{
	MemberState old = n->state;
	bool was_up = member_is_up(n);
	m->n_state[old]--;
	m->n_state[state]++;
	n->state = state;
	n->inc = inc;
	if (old != state)
		n->since = member_now(m);
	if (state != MEMBER_SUSPECT)
		member_suspicion_clear(m, n);
	bool is_up = member_is_up(n);
	if (!was_up && is_up)
		member_emit(m, MEMBER_EVENT_JOIN, n);
	else if (was_up && !is_up)
		member_emit(m, MEMBER_EVENT_LEAVE, n);
	else if (was_up && old != state)
		member_emit(m, MEMBER_EVENT_UPDATE, n);
}

static void
member_node_free(MemberNode *n)
{
	if (n == NULL)
		return;
	member_suspicion_clear(n->m, n);
	g_free(n->addr);
	g_free(n);
}

static MemberNode *
member_node_add(Member *m, guint64 id, guint64 inc, const char *addr, guint8 addr_len)
{
	MemberNode *n = g_new0(MemberNode, 1);
	n->m = m;
	n->id = id;
	n->addr = g_strndup(addr, addr_len);
	n->addr_len = addr_len;
	n->inc = inc;
	n->state = MEMBER_ALIVE;
	n->since = member_now(m);
	n->nodes_index = m->nodes->len;
	g_ptr_array_add(m->nodes, n);
	member_idmap_put(&m->by_id, n);
	m->n_state[MEMBER_ALIVE]++;
	/* A newcomer goes to a random place in the probe order (memberlist does the same). */
	g_ptr_array_add(m->probe_list, n);
	guint len = m->probe_list->len;
	guint j = member_rand_below(m, len);
	m->probe_list->pdata[len - 1] = m->probe_list->pdata[j];
	m->probe_list->pdata[j] = n;
	member_emit(m, MEMBER_EVENT_JOIN, n);
	return n;
}

/* Forgets @n entirely (a member dead for longer than dead_retain_ms). */
static void
member_node_reap(Member *m, MemberNode *n)
{
	guint last = m->nodes->len - 1;
	MemberNode *moved = m->nodes->pdata[last];
	m->nodes->pdata[n->nodes_index] = moved;
	moved->nodes_index = n->nodes_index;
	g_ptr_array_set_size(m->nodes, last);
	for (guint i = 0; i < m->probe_list->len; i++) {
		if (m->probe_list->pdata[i] == n) {
			g_ptr_array_remove_index(m->probe_list, i);
			if (i < m->probe_pos)
				m->probe_pos--;
			break;
		}
	}
	m->n_state[n->state]--;
	if (n->bcast != NULL)
		member_bcast_free(m, n->bcast, MIN(n->bcast->transmits, MEMBER_BCAST_BUCKETS - 1u));
	member_idmap_del(&m->by_id, n->id);
	member_node_free(n);
}

/* ---- Suspicion (Lifeguard) ---------------------------------------------- */

static void member_suspicion_fire(gpointer data);

/*
 * The timeout after @c confirmations: max with none, falling on a log
 * curve to min once k independent confirmations arrived.
 */
static gint64
member_suspicion_timeout(const MemberNode *n)
{
	if (n->sus->k == 0)
		return n->sus->min;
	double frac = log((double)n->sus->n + 1.0) / log((double)n->sus->k + 1.0);
	double t = (double)n->sus->max - frac * (double)(n->sus->max - n->sus->min);
	return MAX(n->sus->min, (gint64)floor(t));
}

static void
member_suspicion_arm(Member *m, MemberNode *n)
{
	member_timer_cancel(m, &n->sus->timer);
	gint64 left = n->sus->start + member_suspicion_timeout(n) - member_now(m);
	n->sus->timer = member_timer(m, left, member_suspicion_fire, n);
}

static void
member_suspicion_start(Member *m, MemberNode *n, guint64 from)
{
	guint live = member_live(m);
	if (n->sus == NULL)
		n->sus = g_new0(MemberSuspicion, 1);
	n->sus->start = member_now(m);
	n->sus->min = member_config_suspicion_min_ms(&m->cfg, live);
	n->sus->max = member_config_suspicion_max_ms(&m->cfg, live);
	/* Confirmations can only come from members other than us and the suspect. */
	n->sus->k = live >= 2 + m->cfg.indirect_checks ? m->cfg.indirect_checks : 0;
	n->sus->n = 0;
	n->sus->from[0] = from;
	member_suspicion_arm(m, n);
}

/* Counts @from as a confirmation if it is new; true if it was. */
static bool
member_suspicion_confirm(Member *m, MemberNode *n, guint64 from)
{
	if (n->sus->n >= n->sus->k)
		return false;
	for (guint i = 0; i <= n->sus->n; i++) {
		if (n->sus->from[i] == from)
			return false;
	}
	n->sus->n++;
	n->sus->from[n->sus->n] = from;
	member_suspicion_arm(m, n);
	return true;
}

static void
member_declare_dead(Member *m, MemberNode *n)
{
	m->stats.deaths_declared++;
	member_node_set(m, n, MEMBER_DEAD, n->inc);
	member_bcast_verdict(m, MEMBER_MSG_DEAD, n->id, n->inc, m->self_id);
}

static MemberPending *member_probe_start(Member *m, MemberNode *n, bool final);

/*
 * The suspicion ran out. Rather than trusting that the refutation would
 * have reached us by now (gossip can miss a member under loss), probe the
 * suspect one last time, telling it it is suspected: a live member answers
 * with its refuted incarnation; only a failed probe makes it dead.
 */
static void
member_suspicion_fire(gpointer data)
{
	MemberNode *n = data;
	Member *m = n->m;
	n->sus->timer = NULL;
	if (n->state != MEMBER_SUSPECT || n->sus->final_probe)
		return;
	n->sus->final_probe = true;
	member_probe_start(m, n, true);
}

/* ---- The state rules ---------------------------------------------------- */

/*
 * Widens the wire incarnation @wire of member @id against the one we know
 * (ours for @id == self, the node's, or none for a stranger), as RFC 1982
 * compares serial numbers: the 64-bit value nearest to what we know. A
 * claim behind what we know, or more than MEMBER_INC_JUMP_MAX ahead of it
 * (honest members count up by one per refutation), is stale or forged:
 * false, and counted. So 0xFFFFFFFF about a member at 0 is just stale.
 */
static bool
member_inc_widen(Member *m, guint64 id, guint32 wire, guint64 *out)
{
	guint64 known;
	if (id == m->self_id) {
		known = m->self_inc;
	} else {
		MemberNode *n = member_node_get(m, id);
		if (n == NULL) {
			*out = wire;
			return true;
		}
		known = n->inc;
	}
	gint64 delta = (gint32)(wire - (guint32)known);
	if (delta > (gint64)MEMBER_INC_JUMP_MAX || (delta < 0 && (guint64)-delta > known)) {
		m->stats.stale_claims++;
		return false;
	}
	*out = known + (guint64)delta;
	return true;
}

/* Someone doubts us (or thinks we have another address): outbid them. */
static void
member_refute(Member *m, guint64 inc)
{
	if (m->left)
		return;
	/* 64 bits, one step per claim, each claim at most 2^30 ahead: never wraps. */
	guint64 base = MAX(m->self_inc, inc);
	m->self_inc = base < G_MAXUINT64 ? base + 1 : base;
	m->stats.refutations++;
	/* Being doubted is a sign our own messages are late: Lifeguard slows us down. */
	member_health_add(m, 1);
	member_bcast_alive(m, m->self_id, m->self_inc, m->self_addr, m->self_addr_len);
}

static void member_move_probe(Member *m, MemberNode *n, guint64 inc, const char *addr,
                              guint8 addr_len);
static bool member_make_room(Member *m, guint64 id);

static void
member_on_alive(Member *m, guint64 id, guint64 inc, const char *addr, guint8 addr_len)
{
	if (id == m->self_id) {
		if (inc > m->self_inc ||
		    (inc == m->self_inc &&
		     (addr_len != m->self_addr_len || memcmp(addr, m->self_addr, addr_len) != 0)))
			member_refute(m, inc);
		return;
	}
	MemberNode *n = member_node_get(m, id);
	if (n == NULL) {
		if (!member_make_room(m, id))
			return;
		m->stats.updates_applied++;
		member_node_add(m, id, inc, addr, addr_len);
		member_bcast_alive(m, id, inc, addr, addr_len);
		return;
	}
	/* Only a higher incarnation says anything new (a refutation, a restart of the state). */
	if (inc <= n->inc)
		return;
	if (!member_addr_eq(n, addr, addr_len)) {
		/*
		 * Anyone can send this datagram: the address changes only once a
		 * ping to the new one is answered by this ID (sealed on a keyed
		 * cluster). Until then nothing of the claim is applied.
		 */
		member_move_probe(m, n, inc, addr, addr_len);
		return;
	}
	m->stats.updates_applied++;
	member_node_set(m, n, MEMBER_ALIVE, inc);
	member_bcast_alive(m, id, inc, n->addr, n->addr_len);
}

/* The claimed new address answered as the member: move it there. */
static void
member_move_apply(Member *m, MemberNode *n, guint64 inc, const char *addr)
{
	gsize len = strlen(addr);
	m->stats.updates_applied++;
	bool moved = !member_addr_eq(n, addr, len);
	if (moved) {
		g_free(n->addr);
		n->addr = g_strndup(addr, len);
		n->addr_len = (guint8)len;
	}
	bool was_alive = n->state == MEMBER_ALIVE;
	member_node_set(m, n, MEMBER_ALIVE, MAX(inc, n->inc));
	if (moved && was_alive)
		member_emit(m, MEMBER_EVENT_UPDATE, n);
	member_bcast_alive(m, n->id, n->inc, n->addr, n->addr_len);
}

/*
 * The member table is full (max_members, this node included): make room
 * by forgetting the member down the longest, or refuse @id (false) with a
 * log line at most once a minute. Live members are never pushed out, so a
 * flood of invented members cannot evict real ones, and invented ones die
 * (nothing answers their probes) and become room again.
 */
static bool
member_make_room(Member *m, guint64 id)
{
	if (m->nodes->len + 1 < m->cfg.max_members)
		return true;
	if (m->n_state[MEMBER_DEAD] + m->n_state[MEMBER_LEFT] > 0) {
		MemberNode *oldest = NULL;
		for (guint i = 0; i < m->nodes->len; i++) {
			MemberNode *n = m->nodes->pdata[i];
			if (!member_is_up(n) && (oldest == NULL || n->since < oldest->since))
				oldest = n;
		}
		member_node_reap(m, oldest);
		return true;
	}
	m->stats.members_refused++;
	m->full_unlogged++;
	gint64 now = member_now(m);
	if (m->full_logged < 0 || now - m->full_logged >= 60000) {
		char idbuf[18];
		member_id_format(id, idbuf);
		g_message("%s: member table full (%u members, all up): ignoring %s and "
		          "%" G_GUINT64_FORMAT " other new member(s) since the last report",
		          m->self_addr, m->cfg.max_members, idbuf, m->full_unlogged - 1);
		m->full_logged = now;
		m->full_unlogged = 0;
	}
	return false;
}

static void
member_on_suspect(Member *m, guint64 id, guint64 inc, guint64 from)
{
	if (id == m->self_id) {
		if (inc >= m->self_inc)
			member_refute(m, inc);
		return;
	}
	MemberNode *n = member_node_get(m, id);
	if (n == NULL || inc < n->inc || !member_is_up(n))
		return;
	if (n->state == MEMBER_SUSPECT && inc > n->inc) {
		/* Suspected again after a refutation we have not heard: a fresh suspicion. */
		n->inc = inc;
		member_suspicion_start(m, n, from);
		member_bcast_verdict(m, MEMBER_MSG_SUSPECT, id, inc, from);
		return;
	}
	if (n->state == MEMBER_SUSPECT) {
		/* Re-gossip only new confirmations, so others' timers shrink too. */
		if (member_suspicion_confirm(m, n, from))
			member_bcast_verdict(m, MEMBER_MSG_SUSPECT, id, inc, from);
		return;
	}
	m->stats.updates_applied++;
	m->stats.suspicions++;
	member_node_set(m, n, MEMBER_SUSPECT, inc);
	member_suspicion_start(m, n, from);
	member_bcast_verdict(m, MEMBER_MSG_SUSPECT, id, inc, from);
}

static void
member_on_dead(Member *m, guint64 id, guint64 inc, guint64 from)
{
	if (id == m->self_id) {
		if (from != m->self_id && inc >= m->self_inc)
			member_refute(m, inc);
		return;
	}
	MemberNode *n = member_node_get(m, id);
	if (n == NULL || inc < n->inc || !member_is_up(n))
		return;
	m->stats.updates_applied++;
	member_node_set(m, n, from == id ? MEMBER_LEFT : MEMBER_DEAD, inc);
	member_bcast_verdict(m, MEMBER_MSG_DEAD, id, inc, from);
}

/* ---- Probing ------------------------------------------------------------ */

static void
member_pending_free(gpointer data)
{
	MemberPending *p = data;
	member_timer_cancel(p->m, &p->t_a);
	member_timer_cancel(p->m, &p->t_b);
	g_free(p->origin);
	g_free(p);
}

static MemberPending *
member_pending_new(Member *m, MemberPendingKind kind, guint64 target)
{
	MemberPending *p = g_new0(MemberPending, 1);
	p->m = m;
	p->kind = kind;
	p->target = target;
	/* Skip 0 and any sequence still in use after a wrap. */
	do
		p->seq = ++m->seq;
	while (p->seq == 0 || g_hash_table_contains(m->pending, GUINT_TO_POINTER(p->seq)));
	g_hash_table_insert(m->pending, GUINT_TO_POINTER(p->seq), p);
	return p;
}

static void
member_pending_done(Member *m, MemberPending *p)
{
	g_hash_table_remove(m->pending, GUINT_TO_POINTER(p->seq));
}

/* Which members member_pick may choose. */
typedef enum {
	MEMBER_PICK_ALIVE,       /* alive: relays, push-pull partners */
	MEMBER_PICK_UP,          /* alive or suspect: gossip targets */
	MEMBER_PICK_RECENT_DEAD, /* declared dead less than gossip_to_dead_ms ago */
} MemberPickKind;

static bool
member_pick_ok(Member *m, const MemberNode *n, MemberPickKind kind, gint64 now)
{
	switch (kind) {
	case MEMBER_PICK_ALIVE:
		return n->state == MEMBER_ALIVE;
	case MEMBER_PICK_UP:
		return member_is_up(n);
	case MEMBER_PICK_RECENT_DEAD:
		/* Not LEFT: a member that left on purpose has nothing to refute. */
		return n->state == MEMBER_DEAD && now - n->since < m->cfg.gossip_to_dead_ms;
	}
	return false;
}

static bool
member_picked(MemberNode *const *out, guint got, const MemberNode *n)
{
	for (guint i = 0; i < got; i++) {
		if (out[i] == n)
			return true;
	}
	return false;
}

/*
 * k random members of @kind other than @skip (0: none) into @out; returns
 * how many. Random tries first (cheap when most members qualify); when
 * they come up short, as when the table is mostly members that died or
 * left (they stay 24 h), a scan from a random place finds the rest, so a
 * crowd of departed members never thins the gossip to the live ones.
 */
static guint
member_pick(Member *m, guint k, guint64 skip, MemberPickKind kind, MemberNode **out)
{
	guint len = m->nodes->len, got = 0;
	if (len == 0 || k == 0)
		return 0;
	gint64 now = kind == MEMBER_PICK_RECENT_DEAD ? member_now(m) : 0;
	guint tries = MIN(3 * len, 3 * k + 64);
	for (guint t = 0; t < tries && got < k; t++) {
		MemberNode *n = m->nodes->pdata[member_rand_below(m, len)];
		if (n->id != skip && member_pick_ok(m, n, kind, now) && !member_picked(out, got, n))
			out[got++] = n;
	}
	guint start = got < k ? member_rand_below(m, len) : 0;
	for (guint i = 0; i < len && got < k; i++) {
		MemberNode *n = m->nodes->pdata[(start + i) % len];
		if (n->id != skip && member_pick_ok(m, n, kind, now) && !member_picked(out, got, n))
			out[got++] = n;
	}
	return got;
}

static void
member_probe_indirect(gpointer data)
{
	MemberPending *p = data;
	Member *m = p->m;
	p->t_a = NULL;
	MemberNode *n = member_node_get(m, p->target);
	if (n == NULL || !member_is_up(n))
		return;
	MemberNode *relays[MEMBER_CONFIRM_MAX];
	guint k = member_pick(m, m->cfg.indirect_checks, n->id, MEMBER_PICK_ALIVE, relays);
	MemberMsg req = {.type = MEMBER_MSG_PING_REQ,
	                 .seq = p->seq,
	                 .id = n->id,
	                 .flags = MEMBER_PING_REQ_NACK,
	                 .addr = n->addr,
	                 .addr_len = n->addr_len};
	for (guint i = 0; i < k; i++)
		member_send(m, relays[i]->addr, &req, 1, true);
	p->expected_nacks = k;
	m->stats.indirect_probes++;
}

/* A refusal check with no relays: the direct ping again, same sequence. */
static void
member_probe_repeat(gpointer data)
{
	MemberPending *p = data;
	Member *m = p->m;
	p->t_a = NULL;
	MemberNode *n = member_node_get(m, p->target);
	if (n == NULL || !member_is_up(n))
		return;
	MemberMsg ping = {.type = MEMBER_MSG_PING, .seq = p->seq, .id = n->id};
	member_send(m, n->addr, &ping, 1, false);
}

static void
member_probe_deadline(gpointer data)
{
	MemberPending *p = data;
	Member *m = p->m;
	p->t_b = NULL;
	/*
	 * Lifeguard: if relays answered with NACKs, the failure is the target's;
	 * missing NACKs (or no relays at all) suggest we are the slow one.
	 */
	int delta = p->expected_nacks > 0
	                    ? (int)(p->expected_nacks - MIN(p->nacks, p->expected_nacks))
	                    : 1;
	member_health_add(m, delta);
	m->stats.probe_failures++;
	MemberNode *n = member_node_get(m, p->target);
	bool final = p->final;
	/* After a refusal, no relay to ask and no ack: the refusal was true. */
	bool refused = p->refused && p->expected_nacks == 0;
	member_pending_done(m, p);
	if (n == NULL || !member_is_up(n))
		return;
	if (refused)
		member_declare_dead(m, n);
	else if (!final)
		member_on_suspect(m, n->id, n->inc, m->self_id);
	else if (n->state == MEMBER_SUSPECT)
		member_declare_dead(m, n);
}

static MemberPending *
member_probe_start(Member *m, MemberNode *n, bool final)
{
	MemberPending *p = member_pending_new(m, MEMBER_PENDING_PROBE, n->id);
	p->final = final;
	MemberMsg msgs[2];
	guint count = 0;
	/*
	 * A suspect learns of it from our ping and refutes before it acks, so
	 * the ack carries the new incarnation.
	 */
	if (n->state == MEMBER_SUSPECT)
		msgs[count++] = (MemberMsg){
		        .type = MEMBER_MSG_SUSPECT, .id = n->id, .inc = n->inc, .from = m->self_id};
	msgs[count++] = (MemberMsg){.type = MEMBER_MSG_PING, .seq = p->seq, .id = n->id};
	member_send(m, n->addr, msgs, count, true);
	p->t_a = member_timer(m, member_scaled(m, m->cfg.probe_timeout_ms), member_probe_indirect,
	                      p);
	p->t_b = member_timer(m, member_scaled(m, m->cfg.probe_interval_ms), member_probe_deadline,
	                      p);
	m->stats.probes++;
	return p;
}

static MemberNode *
member_probe_next(Member *m)
{
	guint len = m->probe_list->len;
	for (guint step = 0; step <= len; step++) {
		if (m->probe_pos >= len) {
			/* A new pass: shuffle (Fisher-Yates), as SWIM's round-robin asks. */
			for (guint i = len; i > 1; i--) {
				guint j = member_rand_below(m, i);
				gpointer t = m->probe_list->pdata[i - 1];
				m->probe_list->pdata[i - 1] = m->probe_list->pdata[j];
				m->probe_list->pdata[j] = t;
			}
			m->probe_pos = 0;
			if (len == 0)
				return NULL;
		}
		MemberNode *n = m->probe_list->pdata[m->probe_pos++];
		if (member_is_up(n))
			return n;
	}
	return NULL;
}

static void member_join_attempt(gpointer data);

static void
member_probe_tick(gpointer data)
{
	Member *m = data;
	m->t_probe =
	        member_timer(m, member_scaled(m, m->cfg.probe_interval_ms), member_probe_tick, m);
	if (m->left)
		return;
	/* Alone (never joined, or everyone else is down): keep trying the seeds. */
	if (m->seeds->len > 0 && m->t_join == NULL && m->join_inflight == 0 &&
	    m->n_state[MEMBER_ALIVE] + m->n_state[MEMBER_SUSPECT] == 0)
		m->t_join =
		        member_timer(m, member_jitter(m, m->join_backoff), member_join_attempt, m);
	MemberNode *n = member_probe_next(m);
	if (n != NULL)
		member_probe_start(m, n, false);
}

static void
member_relay_nack(gpointer data)
{
	MemberPending *p = data;
	p->t_a = NULL;
	MemberMsg nack = {.type = MEMBER_MSG_NACK, .seq = p->origin_seq};
	member_send(p->m, p->origin, &nack, 1, false);
}

static void
member_relay_expire(gpointer data)
{
	MemberPending *p = data;
	p->t_b = NULL;
	member_pending_done(p->m, p);
}

static void
member_move_expire(gpointer data)
{
	MemberPending *p = data;
	p->t_b = NULL;
	p->m->stats.moves_refused++;
	member_pending_done(p->m, p);
}

/*
 * Someone says member @n is now at @addr (incarnation @inc): ping that
 * address for @n's ID, one claim at a time per member. Only an ACK from
 * there (member_handle) moves it; silence, NOT_ME or a refusal never do.
 */
static void
member_move_probe(Member *m, MemberNode *n, guint64 inc, const char *addr, guint8 addr_len)
{
	MemberPending *old = g_hash_table_lookup(m->pending, GUINT_TO_POINTER(n->move_seq));
	if (n->move_seq != 0 && old != NULL && old->kind == MEMBER_PENDING_MOVE &&
	    old->target == n->id)
		return;
	MemberPending *p = member_pending_new(m, MEMBER_PENDING_MOVE, n->id);
	p->origin = g_strndup(addr, addr_len);
	p->move_inc = inc;
	n->move_seq = p->seq;
	MemberMsg ping = {.type = MEMBER_MSG_PING, .seq = p->seq, .id = n->id};
	member_send(m, p->origin, &ping, 1, false);
	p->t_b = member_timer(m, member_scaled(m, m->cfg.probe_interval_ms), member_move_expire, p);
}

/* ---- Receiving ---------------------------------------------------------- */

/* A ping: acked if it is for us; otherwise we say who is here now. */
static void
member_on_ping(Member *m, const MemberMsg *msg, const char *from)
{
	if (from == NULL)
		return;
	MemberMsg reply = {.seq = msg->seq};
	if (msg->id == m->self_id) {
		reply.type = MEMBER_MSG_ACK;
		reply.inc = (guint32)m->self_inc;
	} else {
		/* Whoever was at this address before us is gone: say so. */
		reply.type = MEMBER_MSG_NOT_ME;
		reply.id = msg->id;
		reply.from = m->self_id;
	}
	member_send(m, from, &reply, 1, true);
	return;
}

/* A ping-req: we ping a member we know for the asker (or ack, if it is us). */
static void
member_on_ping_req(Member *m, const MemberMsg *msg, const char *from)
{
	if (from == NULL)
		return;
	if (msg->id == m->self_id) {
		MemberMsg ack = {
		        .type = MEMBER_MSG_ACK, .seq = msg->seq, .inc = (guint32)m->self_inc};
		member_send(m, from, &ack, 1, true);
		return;
	}
	/*
	 * Only for a member we know, at the address we know: otherwise one
	 * datagram would make us ping any address it names.
	 */
	MemberNode *target = member_node_get(m, msg->id);
	if (target == NULL) {
		m->stats.ping_reqs_refused++;
		return;
	}
	MemberPending *p = member_pending_new(m, MEMBER_PENDING_RELAY, msg->id);
	p->origin = g_strdup(from);
	p->origin_seq = msg->seq;
	p->want_nack = (msg->flags & MEMBER_PING_REQ_NACK) != 0;
	MemberMsg ping = {.type = MEMBER_MSG_PING, .seq = p->seq, .id = msg->id};
	member_send(m, target->addr, &ping, 1, true);
	if (p->want_nack)
		p->t_a = member_timer(m, m->cfg.probe_timeout_ms * MEMBER_NACK_PERCENT / 100,
		                      member_relay_nack, p);
	p->t_b = member_timer(m, m->cfg.probe_interval_ms, member_relay_expire, p);
	return;
}

/* An ack: of a ping we relayed, of a moved address, or of our own probe. */
static void
member_on_ack(Member *m, const MemberMsg *msg, const char *from)
{
	MemberPending *p = g_hash_table_lookup(m->pending, GUINT_TO_POINTER(msg->seq));
	if (p == NULL)
		return;
	if (p->kind == MEMBER_PENDING_RELAY) {
		MemberMsg ack = {.type = MEMBER_MSG_ACK, .seq = p->origin_seq, .inc = msg->inc};
		member_send(m, p->origin, &ack, 1, true);
		member_pending_done(m, p);
		return;
	}
	if (p->kind == MEMBER_PENDING_MOVE) {
		/* The claimed address answered our ping for this ID itself. */
		MemberNode *n = member_node_get(m, p->target);
		guint64 inc = 0;
		if (from != NULL && strcmp(from, p->origin) == 0 && n != NULL &&
		    member_inc_widen(m, n->id, msg->inc, &inc)) {
			char *addr = g_steal_pointer(&p->origin);
			guint64 claimed = p->move_inc;
			member_pending_done(m, p);
			member_move_apply(m, n, MAX(inc, claimed), addr);
			g_free(addr);
		} else if (from != NULL && strcmp(from, p->origin) == 0) {
			member_pending_done(m, p);
		}
		return;
	}
	member_health_add(m, -1);
	MemberNode *n = member_node_get(m, p->target);
	bool final = p->final;
	member_pending_done(m, p);
	if (n == NULL || !member_is_up(n))
		return;
	if (final && n->sus != NULL)
		n->sus->final_probe = false;
	guint64 inc = n->inc;
	if (!member_inc_widen(m, n->id, msg->inc, &inc))
		inc = n->inc;
	if (inc > n->inc) {
		/* The ack carries a refutation we had not heard of yet. */
		char addr[MEMBER_ADDR_MAX + 1];
		memcpy(addr, n->addr, n->addr_len + 1u);
		member_on_alive(m, n->id, inc, addr, n->addr_len);
	} else if (n->state == MEMBER_SUSPECT && final) {
		/* Alive, but the refutation is still on its way: wait a full term again. */
		member_suspicion_start(m, n, n->sus->from[0]);
	}
	return;
}

/* A nack: a relay heard nothing from the member either. */
static void
member_on_nack(Member *m, const MemberMsg *msg, const char *from)
{
	MemberPending *p = g_hash_table_lookup(m->pending, GUINT_TO_POINTER(msg->seq));
	m->stats.nacks_in++;
	if (p == NULL || p->kind != MEMBER_PENDING_PROBE)
		return;
	p->nacks++;
	if (p->refused && p->expected_nacks > 0 && p->nacks >= p->expected_nacks) {
		/*
		 * After a refusal, every relay asked the member too (sealed
		 * pings) and heard nothing: the refusal was true, so no
		 * suspicion timeout. A forged refusal never gets this far
		 * about a member that answers.
		 */
		MemberNode *n = member_node_get(m, p->target);
		member_pending_done(m, p);
		if (n != NULL && member_is_up(n))
			member_declare_dead(m, n);
	}
	return;
}

/* Another server answered at the address we pinged. */
static void
member_on_not_me(Member *m, const MemberMsg *msg, const char *from)
{
	MemberPending *p = g_hash_table_lookup(m->pending, GUINT_TO_POINTER(msg->seq));
	if (p == NULL || p->target != msg->id || msg->from == msg->id)
		return;
	if (p->kind == MEMBER_PENDING_MOVE) {
		/* Someone else is at the claimed address: the claim was false. */
		m->stats.moves_refused++;
		member_pending_done(m, p);
		return;
	}
	if (p->kind == MEMBER_PENDING_RELAY) {
		MemberMsg fwd = *msg;
		fwd.seq = p->origin_seq;
		member_send(m, p->origin, &fwd, 1, false);
		member_pending_done(m, p);
		return;
	}
	/*
	 * Another server answers at the target's own address, so the target's
	 * process no longer holds it: as good as a refusal.
	 */
	MemberNode *n = member_node_get(m, p->target);
	member_pending_done(m, p);
	if (n != NULL && member_is_up(n)) {
		m->stats.refusals++;
		member_declare_dead(m, n);
	}
	return;
}

/* News about a member: alive, suspect or dead. */
static void
member_on_gossip(Member *m, const MemberMsg *msg, const char *from)
{
	guint64 inc;
	if (!member_inc_widen(m, msg->id, msg->inc, &inc))
		return;
	if (msg->type == MEMBER_MSG_ALIVE)
		member_on_alive(m, msg->id, inc, msg->addr, msg->addr_len);
	else if (msg->type == MEMBER_MSG_SUSPECT)
		member_on_suspect(m, msg->id, inc, msg->from);
	else
		member_on_dead(m, msg->id, inc, msg->from);
	return;
}

/* One decoded message from @from (NULL: its address is unknown). */
static void
member_handle(Member *m, const MemberMsg *msg, const char *from)
{
	switch (msg->type) {
	case MEMBER_MSG_PING:
		member_on_ping(m, msg, from);
		return;
	case MEMBER_MSG_PING_REQ:
		member_on_ping_req(m, msg, from);
		return;
	case MEMBER_MSG_ACK:
		member_on_ack(m, msg, from);
		return;
	case MEMBER_MSG_NACK:
		member_on_nack(m, msg, from);
		return;
	case MEMBER_MSG_NOT_ME:
		member_on_not_me(m, msg, from);
		return;
	case MEMBER_MSG_ALIVE:
	case MEMBER_MSG_SUSPECT:
	case MEMBER_MSG_DEAD:
		member_on_gossip(m, msg, from);
		return;
	default:
		return;
	}
}

void
member_receive(Member *m, const guint8 *bytes, gsize len, const char *from_addr)
{
	g_return_if_fail(m != NULL);
	g_return_if_fail(bytes != NULL || len == 0);
	m->stats.datagrams_in++;
	m->stats.bytes_in += len;
	MemberMsg msgs[MEMBER_WIRE_MSGS_MAX];
	guint n = 0, unknown = 0;
	MemberWireError err = member_wire_decode(bytes, len, MEMBER_WIRE_DATAGRAM_MAX, msgs,
	                                         MEMBER_WIRE_MSGS_MAX, &n, &unknown);
	if (err != MEMBER_WIRE_OK) {
		m->stats.decode_errors[err]++;
		MEMBER_DEBUG("%s: dropped a %" G_GSIZE_FORMAT "-byte datagram from %s: %s",
		             m->self_addr, len, from_addr ? from_addr : "?",
		             member_wire_error_name(err));
		return;
	}
	m->stats.unknown_msgs += unknown;
	if (from_addr != NULL && !member_wire_addr_valid(from_addr, strlen(from_addr)))
		from_addr = NULL;
	for (guint i = 0; i < n; i++)
		member_handle(m, &msgs[i], from_addr);
}

/* ---- Gossip ------------------------------------------------------------- */

/*
 * One gossip round. The counted transmissions of every update go to live
 * members only (alive or suspect): with departed members among the
 * targets, as after a few restarts, most of an update's few transmissions
 * went to dead addresses and a join could wait for the next push-pull
 * (issue 15, finding 8). A member declared dead less than
 * gossip_to_dead_ms ago still gets one datagram per round, uncounted, so a
 * wrongly-dead member hears of it and refutes.
 */
static void
member_gossip_send(Member *m)
{
	MemberNode *to[64];
	guint k = member_pick(m, MIN(m->cfg.gossip_nodes, 64u), 0, MEMBER_PICK_UP, to);
	for (guint i = 0; i < k && m->n_bcasts > 0; i++)
		member_send(m, to[i]->addr, NULL, 0, true);
	MemberNode *dead;
	if (m->n_bcasts > 0 && m->n_state[MEMBER_DEAD] > 0 &&
	    member_pick(m, 1, 0, MEMBER_PICK_RECENT_DEAD, &dead) == 1)
		member_send_ex(m, dead->addr, NULL, 0, MEMBER_PIGGY_UNCOUNTED);
}

/*
 * A join, pushed at once: the ALIVE of @id (a member that just joined
 * through us, or ourselves having just joined) to gossip_nodes live
 * members other than @id, outside the retransmit budget, so the news does
 * not wait for a gossip tick and does not depend on our queue alone.
 */
static void
member_push_join(Member *m, guint64 id)
{
	MemberMsg msg = {.type = MEMBER_MSG_ALIVE, .id = id};
	if (id == m->self_id) {
		msg.inc = (guint32)m->self_inc;
		msg.addr = m->self_addr;
		msg.addr_len = m->self_addr_len;
	} else {
		MemberNode *n = member_node_get(m, id);
		if (n == NULL || n->state != MEMBER_ALIVE)
			return;
		msg.inc = (guint32)n->inc;
		msg.addr = n->addr;
		msg.addr_len = n->addr_len;
	}
	MemberNode *to[64];
	guint k = member_pick(m, MIN(m->cfg.gossip_nodes, 64u), id, MEMBER_PICK_UP, to);
	for (guint i = 0; i < k; i++)
		member_send_ex(m, to[i]->addr, &msg, 1, MEMBER_PIGGY_NONE);
}

static void
member_gossip_tick(gpointer data)
{
	Member *m = data;
	m->t_gossip = member_timer(m, m->cfg.gossip_interval_ms, member_gossip_tick, m);
	if (m->n_bcasts > 0)
		member_gossip_send(m);
}

/* ---- Push-pull ---------------------------------------------------------- */

static GByteArray *
member_state_encode(Member *m, guint8 flags)
{
	GByteArray *out =
	        g_byte_array_sized_new(MEMBER_WIRE_STATE_HEADER + 32 * (m->nodes->len + 1));
	member_wire_state_begin(out, flags, m->self_id);
	MemberWireEntry self = {.id = m->self_id,
	                        .inc = (guint32)m->self_inc,
	                        .state = m->left ? MEMBER_LEFT : MEMBER_ALIVE,
	                        .addr = m->self_addr,
	                        .addr_len = m->self_addr_len};
	member_wire_state_add(out, &self);
	guint32 count = 1;
	for (guint i = 0; i < m->nodes->len && count < MEMBER_WIRE_STATE_MAX_ENTRIES; i++) {
		MemberNode *n = m->nodes->pdata[i];
		MemberWireEntry e = {.id = n->id,
		                     .inc = (guint32)n->inc,
		                     .state = (guint8)n->state,
		                     .addr = n->addr,
		                     .addr_len = n->addr_len};
		if (out->len + member_wire_entry_size(&e) > MEMBER_WIRE_STATE_MAX_BYTES)
			break;
		member_wire_state_add(out, &e);
		count++;
	}
	member_wire_state_end(out, count);
	return out;
}

/*
 * Merges a peer's full state. Its "dead" is only our "suspect" (memberlist
 * does the same): a stale view from the other side of a partition must not
 * kill members that can still refute.
 */
static void
member_state_merge(Member *m, const GArray *entries, guint64 sender)
{
	for (guint i = 0; i < entries->len; i++) {
		const MemberWireEntry *e = &g_array_index(entries, MemberWireEntry, i);
		guint64 inc;
		if (!member_inc_widen(m, e->id, e->inc, &inc))
			continue;
		switch (e->state) {
		case MEMBER_ALIVE:
			member_on_alive(m, e->id, inc, e->addr, e->addr_len);
			break;
		case MEMBER_SUSPECT:
		case MEMBER_DEAD:
			member_on_suspect(m, e->id, inc, sender);
			break;
		case MEMBER_LEFT:
			member_on_dead(m, e->id, inc, e->id);
			break;
		default:
			break;
		}
	}
}

static bool
member_state_apply(Member *m, const guint8 *bytes, gsize len, guint8 *flags, guint64 *sender_out)
{
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(MemberWireEntry));
	guint64 sender = 0;
	MemberWireError err = member_wire_state_decode(bytes, len, flags, &sender, entries);
	*sender_out = sender;
	if (err == MEMBER_WIRE_OK && sender == m->self_id)
		err = MEMBER_WIRE_MALFORMED; /* our own state echoed back: a loop, ignore */
	if (err != MEMBER_WIRE_OK) {
		m->stats.state_errors++;
		MEMBER_DEBUG("%s: dropped a push-pull document: %s", m->self_addr,
		             member_wire_error_name(err));
		g_array_free(entries, TRUE);
		return false;
	}
	member_state_merge(m, entries, sender);
	g_array_free(entries, TRUE);
	return true;
}

static void member_join_result(Member *m, bool ok);

static void
member_xchg_free(gpointer data)
{
	MemberXchg *x = data;
	g_free(x->addr);
	g_free(x);
}

static void
member_xchg_done(const guint8 *reply, gsize len, const GError *error, gpointer data)
{
	MemberXchg *x = data;
	Member *m = x->m;
	MemberXchgKind kind = x->kind;
	bool ok = false;
	if (reply != NULL) {
		guint8 flags = 0;
		guint64 sender = 0;
		ok = member_state_apply(m, reply, len, &flags, &sender);
	} else {
		MEMBER_DEBUG("%s: push-pull with %s failed: %s", m->self_addr, x->addr,
		             error ? error->message : "?");
	}
	if (ok) {
		m->stats.push_pulls++;
		m->joined = true;
	} else {
		m->stats.push_pull_failures++;
	}
	g_hash_table_remove(m->xchg, x);
	/* Now that we know the seed's view, tell its members ourselves too. */
	if (kind == MEMBER_XCHG_JOIN && ok && !m->left)
		member_push_join(m, m->self_id);
	if (kind == MEMBER_XCHG_JOIN)
		member_join_result(m, ok);
}

static void
member_xchg_start(Member *m, const char *addr, MemberXchgKind kind)
{
	GByteArray *doc =
	        member_state_encode(m, kind == MEMBER_XCHG_JOIN ? MEMBER_WIRE_STATE_JOIN : 0);
	MemberXchg *x = g_new0(MemberXchg, 1);
	x->m = m;
	x->kind = kind;
	x->addr = g_strdup(addr);
	g_hash_table_add(m->xchg, x);
	x->handle = m->io.exchange.request(m->io.exchange.ctx, addr, doc->data, doc->len,
	                                   member_xchg_done, x);
	g_byte_array_unref(doc);
}

static void
member_push_pull_tick(gpointer data)
{
	Member *m = data;
	m->t_push_pull = member_timer(
	        m, member_jitter(m, member_config_push_pull_ms(&m->cfg, member_live(m))),
	        member_push_pull_tick, m);
	MemberNode *n;
	if (!m->left && member_pick(m, 1, 0, MEMBER_PICK_ALIVE, &n) == 1)
		member_xchg_start(m, n->addr, MEMBER_XCHG_PUSH_PULL);
}

GBytes *
member_exchange_serve(Member *m, const guint8 *bytes, gsize len, const char *from_addr,
                      GError **error)
{
	g_return_val_if_fail(m != NULL, NULL);
	guint8 flags = 0;
	guint64 sender = 0;
	if (!member_state_apply(m, bytes, len, &flags, &sender)) {
		g_set_error(error, MEMBER_ERROR, MEMBER_ERROR_PROTOCOL,
		            "undecodable push-pull request from %s", from_addr ? from_addr : "?");
		return NULL;
	}
	/*
	 * A server joining through us: push its ALIVE to our neighbours now
	 * (it pushes its own as soon as it has our reply, too), rather than
	 * leave it to our queue's few transmissions.
	 */
	if ((flags & MEMBER_WIRE_STATE_JOIN) && !m->left)
		member_push_join(m, sender);
	GByteArray *doc = member_state_encode(m, MEMBER_WIRE_STATE_REPLY);
	return g_byte_array_free_to_bytes(doc);
}

/* ---- Joining, reconnecting, reaping ------------------------------------- */

static void
member_join_attempt(gpointer data)
{
	Member *m = data;
	m->t_join = NULL;
	if (m->left)
		return;
	m->join_round_ok = false;
	m->stats.joins_attempted++;
	for (guint i = 0; i < m->seeds->len; i++) {
		const char *seed = m->seeds->pdata[i];
		if (strcmp(seed, m->self_addr) == 0)
			continue;
		m->join_inflight++;
		member_xchg_start(m, seed, MEMBER_XCHG_JOIN);
	}
}

static void
member_join_result(Member *m, bool ok)
{
	m->join_inflight--;
	m->join_round_ok = m->join_round_ok || ok;
	if (m->join_inflight > 0)
		return;
	if (m->join_round_ok) {
		m->join_backoff = m->cfg.join_retry_min_ms;
		return;
	}
	g_info("%s: no seed answered; retrying in %" G_GINT64_FORMAT " ms", m->self_addr,
	       m->join_backoff);
	if (m->t_join == NULL)
		m->t_join =
		        member_timer(m, member_jitter(m, m->join_backoff), member_join_attempt, m);
	m->join_backoff = MIN(m->join_backoff * 2, m->cfg.join_retry_max_ms);
}

bool
member_join(Member *m, const char *addr, GError **error)
{
	g_return_val_if_fail(m != NULL, false);
	g_return_val_if_fail(addr != NULL, false);
	if (!member_wire_addr_valid(addr, strlen(addr))) {
		g_set_error(error, MEMBER_ERROR, MEMBER_ERROR_INVALID, "bad seed address \"%s\"",
		            addr);
		return false;
	}
	if (m->left) {
		g_set_error(error, MEMBER_ERROR, MEMBER_ERROR_LEFT, "left the cluster");
		return false;
	}
	bool known = false;
	for (guint i = 0; i < m->seeds->len && !known; i++)
		known = strcmp(m->seeds->pdata[i], addr) == 0;
	if (!known)
		g_ptr_array_add(m->seeds, g_strdup(addr));
	/* A seed that is already a live member has nothing to teach us. */
	gsize len = strlen(addr);
	for (guint i = 0; i < m->nodes->len; i++) {
		MemberNode *n = m->nodes->pdata[i];
		if (member_is_up(n) && member_addr_eq(n, addr, len))
			return true;
	}
	if (m->join_inflight == 0) {
		member_timer_cancel(m, &m->t_join);
		m->t_join = member_timer(m, 0, member_join_attempt, m);
	}
	return true;
}

static void
member_reconnect_tick(gpointer data)
{
	Member *m = data;
	m->t_reconnect = member_timer(m, member_jitter(m, m->cfg.reconnect_interval_ms),
	                              member_reconnect_tick, m);
	gint64 now = member_now(m);
	for (guint i = m->nodes->len; i-- > 0;) {
		MemberNode *n = m->nodes->pdata[i];
		if (!member_is_up(n) && now - n->since > m->cfg.dead_retain_ms)
			member_node_reap(m, n);
	}
	if (m->left || m->n_state[MEMBER_DEAD] == 0)
		return;
	/*
	 * Serf's reconnect: with probability dead/alive (at most 1), push-pull
	 * with one random dead member. That is what heals a partition after
	 * both sides declared each other dead.
	 */
	guint live = member_live(m);
	if (member_rand_below(m, live) >= m->n_state[MEMBER_DEAD])
		return;
	guint dead_pick = member_rand_below(m, m->n_state[MEMBER_DEAD]);
	for (guint i = 0; i < m->nodes->len; i++) {
		MemberNode *n = m->nodes->pdata[i];
		if (n->state != MEMBER_DEAD)
			continue;
		if (dead_pick-- == 0) {
			member_xchg_start(m, n->addr, MEMBER_XCHG_RECONNECT);
			return;
		}
	}
}

/* ---- Evidence ----------------------------------------------------------- */

void
member_peer_refused(Member *m, const char *addr)
{
	g_return_if_fail(m != NULL && addr != NULL);
	gsize len = strlen(addr);
	for (guint i = 0; i < m->nodes->len; i++) {
		MemberNode *n = m->nodes->pdata[i];
		if (!member_is_up(n) || !member_addr_eq(n, addr, len) || m->left)
			continue;
		/* One check at a time: a burst of ICMP errors is one piece of evidence. */
		MemberPending *p =
		        g_hash_table_lookup(m->pending, GUINT_TO_POINTER(n->refusal_seq));
		if (n->refusal_seq != 0 && p != NULL && p->refused && p->target == n->id)
			continue;
		m->stats.refusals++;
		char idbuf[18];
		member_id_format(n->id, idbuf);
		MEMBER_DEBUG("%s: %s refused at its own address %s: probing it now", m->self_addr,
		             idbuf, addr);
		/* Direct and indirect at once: a crashed server must be noticed fast. */
		p = member_probe_start(m, n, false);
		p->refused = true;
		n->refusal_seq = p->seq;
		member_timer_cancel(m, &p->t_a);
		member_probe_indirect(p);
		/* No relay to ask (a cluster of two): ping once more before the deadline. */
		if (p->expected_nacks == 0)
			p->t_a = member_timer(m, member_scaled(m, m->cfg.probe_timeout_ms),
			                      member_probe_repeat, p);
	}
}

void
member_peer_suspicious(Member *m, const char *addr)
{
	g_return_if_fail(m != NULL && addr != NULL);
	if (m->left)
		return;
	gsize len = strlen(addr);
	for (guint i = 0; i < m->nodes->len; i++) {
		MemberNode *n = m->nodes->pdata[i];
		if (member_is_up(n) && member_addr_eq(n, addr, len)) {
			member_probe_start(m, n, false);
			return;
		}
	}
}

/* ---- Lifecycle ---------------------------------------------------------- */

static void
member_watch_clear(gpointer data)
{
	MemberWatch *w = data;
	if (w->destroy != NULL)
		w->destroy(w->data);
}

Member *
member_new(const MemberConfig *cfg, const MemberIO *io, guint64 self_id, const char *self_addr,
           GError **error)
{
	g_return_val_if_fail(io != NULL, NULL);
	g_return_val_if_fail(io->clock.now_ms && io->clock.timer_start && io->clock.timer_cancel,
	                     NULL);
	g_return_val_if_fail(io->transport.send && io->exchange.request && io->exchange.cancel,
	                     NULL);
	g_return_val_if_fail(io->random.next_u32 != NULL, NULL);
	MemberConfig defaults;
	if (cfg == NULL) {
		member_config_init(&defaults);
		cfg = &defaults;
	}
	if (!member_config_check(cfg, error))
		return NULL;
	if (self_addr == NULL || !member_wire_addr_valid(self_addr, strlen(self_addr))) {
		g_set_error(error, MEMBER_ERROR, MEMBER_ERROR_INVALID, "bad own address \"%s\"",
		            self_addr ? self_addr : "(null)");
		return NULL;
	}
	Member *m = g_new0(Member, 1);
	m->cfg = *cfg;
	m->io = *io;
	m->self_id = self_id;
	m->self_addr = g_strdup(self_addr);
	m->self_addr_len = (guint8)strlen(self_addr);
	m->self_since = member_now(m);
	member_idmap_init(&m->by_id);
	m->nodes = g_ptr_array_new();
	m->probe_list = g_ptr_array_new();
	m->pending =
	        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, member_pending_free);
	m->xchg = g_hash_table_new_full(g_direct_hash, g_direct_equal, member_xchg_free, NULL);
	for (guint i = 0; i < MEMBER_BCAST_BUCKETS; i++)
		g_queue_init(&m->buckets[i]);
	m->seeds = g_ptr_array_new_with_free_func(g_free);
	m->join_backoff = cfg->join_retry_min_ms;
	m->watches = g_array_new(FALSE, FALSE, sizeof(MemberWatch));
	g_array_set_clear_func(m->watches, member_watch_clear);
	m->next_watch = 1;
	m->out = g_malloc(cfg->datagram_max);
	m->full_logged = -1;
	m->seq = m->io.random.next_u32(m->io.random.ctx);
	/* Random first phases: a cluster started at once must not tick in lock step. */
	m->t_probe = member_timer(m, member_rand_below(m, (guint)cfg->probe_interval_ms),
	                          member_probe_tick, m);
	m->t_gossip = member_timer(m, member_rand_below(m, (guint)cfg->gossip_interval_ms),
	                           member_gossip_tick, m);
	if (cfg->push_pull_interval_ms > 0)
		m->t_push_pull = member_timer(m, member_jitter(m, cfg->push_pull_interval_ms),
		                              member_push_pull_tick, m);
	if (cfg->reconnect_interval_ms > 0)
		m->t_reconnect =
		        member_timer(m, member_rand_below(m, (guint)cfg->reconnect_interval_ms) + 1,
		                     member_reconnect_tick, m);
	return m;
}

static void
member_xchg_cancel(gpointer key, gpointer value, gpointer data)
{
	Member *m = data;
	MemberXchg *x = key;
	m->io.exchange.cancel(m->io.exchange.ctx, x->handle);
}

void
member_free(Member *m)
{
	if (m == NULL)
		return;
	g_return_if_fail(m->emitting == 0);
	member_timer_cancel(m, &m->t_probe);
	member_timer_cancel(m, &m->t_gossip);
	member_timer_cancel(m, &m->t_push_pull);
	member_timer_cancel(m, &m->t_reconnect);
	member_timer_cancel(m, &m->t_join);
	g_hash_table_foreach(m->xchg, member_xchg_cancel, m);
	g_hash_table_destroy(m->xchg);
	g_hash_table_destroy(m->pending);
	for (guint i = 0; i < MEMBER_BCAST_BUCKETS; i++) {
		GList *l;
		while ((l = g_queue_pop_head_link(&m->buckets[i])) != NULL)
			g_free(l->data);
	}
	g_ptr_array_free(m->probe_list, TRUE);
	for (guint i = 0; i < m->nodes->len; i++)
		member_node_free(m->nodes->pdata[i]);
	g_ptr_array_free(m->nodes, TRUE);
	g_free(m->by_id.slots);
	g_ptr_array_free(m->seeds, TRUE);
	g_array_free(m->watches, TRUE);
	g_free(m->out);
	g_free(m->self_addr);
	g_free(m);
}

void
member_leave(Member *m)
{
	g_return_if_fail(m != NULL);
	if (m->left)
		return;
	m->left = true;
	m->self_since = member_now(m);
	member_timer_cancel(m, &m->t_join);
	member_bcast_verdict(m, MEMBER_MSG_DEAD, m->self_id, m->self_inc, m->self_id);
	/* Say it now rather than at the next tick: the daemon is on its way out. */
	member_gossip_send(m);
}

/* ---- Observation -------------------------------------------------------- */

guint
member_watch(Member *m, MemberEventFn fn, gpointer user_data, GDestroyNotify destroy)
{
	g_return_val_if_fail(m != NULL && fn != NULL, 0);
	MemberWatch w = {.id = m->next_watch++, .fn = fn, .data = user_data, .destroy = destroy};
	g_array_append_val(m->watches, w);
	return w.id;
}

void
member_unwatch(Member *m, guint watch_id)
{
	g_return_if_fail(m != NULL);
	for (guint i = 0; i < m->watches->len; i++) {
		MemberWatch *w = &g_array_index(m->watches, MemberWatch, i);
		if (w->id != watch_id || w->fn == NULL)
			continue;
		GDestroyNotify destroy = w->destroy;
		gpointer data = w->data;
		if (m->emitting > 0) {
			w->fn = NULL;
			w->destroy = NULL;
			m->watches_dirty = true;
		} else {
			w->destroy = NULL;
			g_array_remove_index(m->watches, i);
		}
		if (destroy != NULL)
			destroy(data);
		return;
	}
}

static void
member_self_info(const Member *m, MemberInfo *out)
{
	out->id = m->self_id;
	out->addr = m->self_addr;
	out->incarnation = m->self_inc;
	out->state = m->left ? MEMBER_LEFT : MEMBER_ALIVE;
	out->since_ms = m->self_since;
}

void
member_foreach(Member *m, MemberForeachFn fn, gpointer user_data)
{
	g_return_if_fail(m != NULL && fn != NULL);
	MemberInfo info;
	member_self_info(m, &info);
	fn(&info, user_data);
	for (guint i = 0; i < m->nodes->len; i++) {
		member_info_fill(m, m->nodes->pdata[i], &info);
		fn(&info, user_data);
	}
}

bool
member_lookup(Member *m, guint64 id, MemberInfo *out)
{
	g_return_val_if_fail(m != NULL && out != NULL, false);
	if (id == m->self_id) {
		member_self_info(m, out);
		return true;
	}
	MemberNode *n = member_node_get(m, id);
	if (n == NULL)
		return false;
	member_info_fill(m, n, out);
	return true;
}

guint
member_count(Member *m, MemberState state)
{
	g_return_val_if_fail(m != NULL && (guint)state < 4, 0);
	MemberState self = m->left ? MEMBER_LEFT : MEMBER_ALIVE;
	return m->n_state[state] + (state == self ? 1 : 0);
}

guint64
member_self_id(const Member *m)
{
	return m->self_id;
}

guint64
member_incarnation(const Member *m)
{
	return m->self_inc;
}

guint
member_health(const Member *m)
{
	return m->health;
}

bool
member_joined(const Member *m)
{
	return m->joined;
}

void
member_get_stats(const Member *m, MemberStats *out)
{
	g_return_if_fail(m != NULL && out != NULL);
	*out = m->stats;
}
