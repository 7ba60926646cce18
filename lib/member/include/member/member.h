// SPDX-License-Identifier: Apache-2.0
//
// member.h - cluster membership: SWIM with the Lifeguard refinements
// (docs/membership.md).
//
// The engine never touches a socket, a loop or the real clock (STYLE.md
// rule 11): it is handed a MemberIO (a clock with one-shot timers, a
// datagram transport, a reliable request/response exchange for push-pull,
// and a random source). circuitd passes libev timers, its UDP socket and
// its TCP transport; tests/sim passes a virtual clock and network, so a
// 2,000-node cluster runs deterministically in one process.
//
// Everything runs on the caller's thread: every entry point and every
// callback of the MemberIO happen on the one loop that owns the engine.
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "member_wire.h"

G_BEGIN_DECLS

#define MEMBER_ERROR (member_error_quark())
GQuark member_error_quark(void);

typedef enum {
	MEMBER_ERROR_INVALID,  /* a bad argument (address, config) */
	MEMBER_ERROR_PROTOCOL, /* undecodable push-pull request */
	MEMBER_ERROR_LEFT,     /* the engine has left the cluster */
} MemberErrorCode;

/* An engine: one per server. */
typedef struct Member Member;

typedef enum {
	MEMBER_ALIVE = 0,
	MEMBER_SUSPECT = 1,
	MEMBER_DEAD = 2,
	MEMBER_LEFT = 3, /* left on purpose (member_leave) */
} MemberState;

/* A snapshot of one member; pointers are valid until control returns to the engine. */
typedef struct {
	guint64 id;
	const char *addr;
	guint64 incarnation; /* 64 bits here, never wraps; the wire carries the low 32 */
	MemberState state;
	gint64 since_ms; /* clock time of the last state change */
} MemberInfo;

typedef enum {
	MEMBER_EVENT_JOIN,   /* a member became visible (unknown or dead before) */
	MEMBER_EVENT_LEAVE,  /* a member is dead or left: exactly once per departure */
	MEMBER_EVENT_UPDATE, /* suspected, cleared, or moved to a new address */
} MemberEventType;

/* "join", "leave", "update". */
const char *member_event_name(MemberEventType type);
/* "alive", "suspect", "dead", "left". */
const char *member_state_name(MemberState state);

/*
 * An event callback. @info is (transfer none). The callback may call any
 * member_ function except member_free on @m.
 */
typedef void (*MemberEventFn)(Member *m, MemberEventType type, const MemberInfo *info,
                              gpointer user_data);

/* ---- The seam ---------------------------------------------------------- */

typedef void (*MemberTimerFn)(gpointer data);

/*
 * The clock. @now_ms is monotonic milliseconds. @timer_start arms a
 * one-shot timer and returns a non-NULL handle; the handle is dead once
 * the timer fired or was cancelled, and the engine never cancels a fired
 * timer.
 */
typedef struct {
	gint64 (*now_ms)(gpointer ctx);
	gpointer (*timer_start)(gpointer ctx, gint64 delay_ms, MemberTimerFn fn, gpointer data);
	void (*timer_cancel)(gpointer ctx, gpointer timer);
	gpointer ctx;
} MemberClock;

/*
 * The datagram transport: best effort, may drop, duplicate or reorder.
 * @bytes is (transfer none); the transport copies what it keeps. The
 * daemon encrypts and authenticates outside the engine.
 */
typedef struct {
	void (*send)(gpointer ctx, const char *to_addr, const guint8 *bytes, gsize len);
	gpointer ctx;
} MemberTransport;

/*
 * Completion of a reliable exchange: @reply (transfer none, NULL on
 * failure) or @error (transfer none). Runs exactly once unless cancelled.
 */
typedef void (*MemberExchangeDone)(const guint8 *reply, gsize len, const GError *error,
                                   gpointer data);

/*
 * The reliable exchange used by push-pull: send @bytes to @to_addr, which
 * answers with member_exchange_serve(), and deliver the reply (or an error:
 * refused, timed out, too big) to @done. Returns a handle; @cancel
 * guarantees @done never runs. Completion must never run inside @request.
 */
typedef struct {
	gpointer (*request)(gpointer ctx, const char *to_addr, const guint8 *bytes, gsize len,
	                    MemberExchangeDone done, gpointer data);
	void (*cancel)(gpointer ctx, gpointer handle);
	gpointer ctx;
} MemberExchange;

/* The random source (libgcrypt in the daemon, a seeded generator in the simulator). */
typedef struct {
	guint32 (*next_u32)(gpointer ctx);
	gpointer ctx;
} MemberRandom;

typedef struct {
	MemberClock clock;
	MemberTransport transport;
	MemberExchange exchange;
	MemberRandom random;
} MemberIO;

/* ---- Configuration ----------------------------------------------------- */

/*
 * Tuning. member_config_init() fills LAN defaults, close to memberlist's
 * DefaultLANConfig. Multipliers are the Lifeguard paper's alpha/beta.
 */
typedef struct {
	gint64 probe_interval_ms;     /* one probe per period: 1000 */
	gint64 probe_timeout_ms;      /* direct ack deadline, then ping-req: 500 */
	guint indirect_checks;        /* k members asked to ping-req: 3 */
	guint suspicion_mult;         /* alpha: min timeout = alpha*log10(N)*interval: 4 */
	guint suspicion_max_mult;     /* beta: max timeout = beta*min: 6 */
	guint health_max;             /* local health multiplier ceiling (LHM): 8 */
	guint retransmit_mult;        /* lambda: each update sent lambda*log10(N+1) times: 4 */
	gint64 gossip_interval_ms;    /* 200 */
	guint gossip_nodes;           /* fanout per gossip tick: 3 */
	gint64 gossip_to_dead_ms;     /* keep gossiping to a dead member this long: 30000 */
	gint64 push_pull_interval_ms; /* anti-entropy, scaled up gently past 32 members: 30000 */
	gint64 reconnect_interval_ms; /* try one dead member this often: 30000 */
	gint64 dead_retain_ms;        /* forget dead members after this: 24 h */
	gint64 join_retry_min_ms;     /* first seed retry: 1000 */
	gint64 join_retry_max_ms;     /* back-off ceiling, retried forever: 60000 */
	guint datagram_max;           /* largest datagram payload sent: 1400 */
	guint max_members;            /* members known at most, this node included: 4096 */
} MemberConfig;

/* Default MemberConfig.max_members. */
#define MEMBER_MAX_MEMBERS_DEFAULT 4096u
/*
 * Largest step an incarnation may take in one claim. A wire incarnation is
 * the low 32 bits of a 64-bit counter, widened against the one we know
 * (serial-number arithmetic, RFC 1982); a claim further ahead than this is
 * dropped as forged, so every honest view stays within reach of a refutation.
 */
#define MEMBER_INC_JUMP_MAX (1u << 30)

/* Fills @cfg with the LAN defaults. */
void member_config_init(MemberConfig *cfg);

/* Minimum suspicion timeout with @n members: alpha * max(1, log10 n) * interval. */
gint64 member_config_suspicion_min_ms(const MemberConfig *cfg, guint n);
/* Maximum suspicion timeout (no confirmations): beta * min. */
gint64 member_config_suspicion_max_ms(const MemberConfig *cfg, guint n);
/* Transmissions of each update with @n members: lambda * ceil(log10(n + 1)). */
guint member_config_retransmit_limit(const MemberConfig *cfg, guint n);
/* Push-pull period with @n members: the interval, times n / 32 past 32 members. */
gint64 member_config_push_pull_ms(const MemberConfig *cfg, guint n);
/*
 * Dissemination bound with @n members: an update sent by one member reaches
 * every member within this (gossip ticks for the whole retransmit budget,
 * plus one probe period of piggybacking). See docs/membership.md.
 */
gint64 member_config_dissemination_ms(const MemberConfig *cfg, guint n);
/*
 * Detection bound with @n members for a silent crash: first probe within
 * MEMBER_FIRST_PROBE_PERIODS periods (miss probability e^-10 with n-1
 * independent probers), the failed probe period, the maximum suspicion
 * timeout, the last-chance probe period, and dissemination of the death.
 */
#define MEMBER_FIRST_PROBE_PERIODS 10
gint64 member_config_detection_bound_ms(const MemberConfig *cfg, guint n);

/* ---- Lifecycle --------------------------------------------------------- */

/*
 * Creates an engine for this server (@self_id, @self_addr "host:port") and
 * starts its timers. @cfg (NULL for defaults) and @io are copied. Fails
 * with MEMBER_ERROR_INVALID on a bad address or configuration.
 */
Member *member_new(const MemberConfig *cfg, const MemberIO *io, guint64 self_id,
                   const char *self_addr, GError **error);

/*
 * Cancels every timer and exchange (none of their callbacks run after
 * this), drops the watches (their destroy notifies run) and frees @m.
 * NULL is harmless.
 */
void member_free(Member *m);

/*
 * Adds @addr as a seed and tries it at once. Until a push-pull with some
 * seed succeeds, the seeds are retried with exponential back-off (from
 * join_retry_min_ms to join_retry_max_ms), forever; later, whenever this
 * node sees no other live member, the retries resume. Calling it again for
 * a known seed (a discovery beacon heard twice) only nudges the retry.
 * Returns false with MEMBER_ERROR_INVALID on a malformed address.
 */
bool member_join(Member *m, const char *addr, GError **error);

/*
 * Announces a graceful departure (others report a LEAVE with state
 * "left") and stops probing. Gossip continues, so keep the engine running
 * for a few gossip intervals before member_free().
 */
void member_leave(Member *m);

/* ---- What the daemon feeds in ------------------------------------------ */

/*
 * A datagram arrived from @from_addr (after decryption). Undecodable
 * input is dropped and counted in the stats.
 */
void member_receive(Member *m, const guint8 *bytes, gsize len, const char *from_addr);

/*
 * Serves a push-pull request that arrived over the reliable channel from
 * @from_addr: merges the peer's state and returns ours, (transfer full).
 * NULL with MEMBER_ERROR_PROTOCOL on an undecodable request (counted).
 */
GBytes *member_exchange_serve(Member *m, const guint8 *bytes, gsize len, const char *from_addr,
                              GError **error);

/*
 * Evidence, not proof: a TCP connect to @addr (a member's own advertised
 * address) was refused, or a datagram to it drew an ICMP port-unreachable.
 * Anyone can forge an ICMP error, so the member at @addr is only probed at
 * once over the (sealed) protocol, directly and through k relays at the
 * same time; it is declared dead when that probe fails too (every relay
 * answered NACK, or the period ended with no relay to ask). A member that
 * acks stays alive, and one whose relays stayed silent is only suspected.
 */
void member_peer_refused(Member *m, const char *addr);

/*
 * A hint that the member at @addr may have gone (its connection closed):
 * probe it now, out of turn, with the normal SWIM path. Never declares
 * anything by itself.
 */
void member_peer_suspicious(Member *m, const char *addr);

/* ---- Observation ------------------------------------------------------- */

/*
 * Calls @fn for every membership change from now on. Returns a watch id
 * (> 0) for member_unwatch(); @destroy runs on @user_data when the watch
 * is removed or the engine freed.
 */
guint member_watch(Member *m, MemberEventFn fn, gpointer user_data, GDestroyNotify destroy);
void member_unwatch(Member *m, guint watch_id);

typedef void (*MemberForeachFn)(const MemberInfo *info, gpointer user_data);
/* Calls @fn for each known member, this node first, then in no particular order. */
void member_foreach(Member *m, MemberForeachFn fn, gpointer user_data);
/* Fills @out for @id (this node included); false if unknown. */
bool member_lookup(Member *m, guint64 id, MemberInfo *out);
/* Members in @state, this node included (it counts as alive until it leaves). */
guint member_count(Member *m, MemberState state);

guint64 member_self_id(const Member *m);
guint64 member_incarnation(const Member *m);
/* Local health multiplier score, 0 (healthy) to health_max - 1. */
guint member_health(const Member *m);
/* True once a push-pull with a seed (or any peer) succeeded. */
bool member_joined(const Member *m);

typedef struct {
	guint64 datagrams_in, datagrams_out, bytes_in, bytes_out;
	guint64 decode_errors[MEMBER_WIRE_N_ERRORS]; /* datagrams dropped, by reason */
	guint64 unknown_msgs;                        /* skipped messages of a later revision */
	guint64 state_errors;                        /* push-pull documents dropped */
	guint64 probes, probe_failures, indirect_probes, nacks_in;
	guint64 suspicions, refutations, deaths_declared, refusals;
	guint64 push_pulls, push_pull_failures, joins_attempted;
	guint64 updates_applied;   /* gossip or push-pull entries that changed our view */
	guint64 stale_claims;      /* claims with an incarnation behind ours or implausibly ahead */
	guint64 members_refused;   /* new members ignored: the table was full */
	guint64 moves_refused;     /* address changes the new address did not prove */
	guint64 ping_reqs_refused; /* PING_REQ for a member we do not know */
} MemberStats;

void member_get_stats(const Member *m, MemberStats *out);

/* Formats @id as "X<16 hex>" into @buf (18 bytes with the NUL). */
void member_id_format(guint64 id, char buf[18]);
/* Parses "X<16 hex>" (or the old "Q" spelling); false if malformed. */
bool member_id_parse(const char *s, guint64 *out);

G_END_DECLS
