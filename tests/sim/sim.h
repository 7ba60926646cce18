// SPDX-License-Identifier: Apache-2.0
//
// sim.h - a deterministic network simulator for lib/member: N engines in
// one process, in virtual time. Every engine gets a MemberIO whose clock
// is the simulator's event queue, whose datagrams and push-pull exchanges
// cross simulated links (loss, delay with jitter, partitions), and whose
// random source is seeded from the simulator's seed, so a run is a pure
// function of its seed and script.
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "member/member.h"

typedef struct Sim Sim;

typedef struct {
	guint64 seed;
	double loss;            /* default probability a datagram is dropped */
	gint64 delay_ms;        /* default one-way delay */
	gint64 jitter_ms;       /* extra uniform delay in [0, jitter] */
	gint64 xchg_timeout_ms; /* an unreachable push-pull fails after this */
	bool refuse_crashed;    /* a crashed server's host answers with refusals */
	MemberConfig member;    /* every engine's configuration */
} SimConfig;

/* Loss 0, 1 ms +- 1 ms, 5 s exchange timeout, silent crashes, LAN defaults. */
void sim_config_init(SimConfig *cfg);

Sim *sim_new(const SimConfig *cfg);
void sim_free(Sim *sim);

/* Adds a server (not joined to anything yet) and returns its index. */
guint sim_add(Sim *sim);
/* Adds @n servers, each joining through server @seed (which must exist). */
void sim_add_joined(Sim *sim, guint n, guint seed, gint64 spread_ms);
/* Makes server @node join through @seed's address (now, or after @delay_ms). */
void sim_join(Sim *sim, guint node, guint seed, gint64 delay_ms);

/* Stops @node silently: its engine is freed, its address goes quiet. */
void sim_crash(Sim *sim, guint node);
/*
 * Starts @node again with a new ID, on its old address or a new one,
 * joining through @seed.
 */
void sim_restart(Sim *sim, guint node, bool new_addr, guint seed);
/* Graceful departure (member_leave), then a crash after @linger_ms. */
void sim_leave(Sim *sim, guint node, gint64 linger_ms);

/* Per-link overrides (both directions). */
void sim_set_link(Sim *sim, guint a, guint b, double loss, gint64 delay_ms, gint64 jitter_ms);
/* Puts @node in partition group @group; nodes in different groups cannot talk. */
void sim_set_group(Sim *sim, guint node, guint group);
/* Everyone back in group 0. */
void sim_heal(Sim *sim);
/* Changes the default loss for all links without an override. */
void sim_set_loss(Sim *sim, double loss);

/*
 * Hostile input. sim_inject hands @node (if live) a datagram of @len bytes
 * that claims to come from @from, as a forger would; sim_forge_refusal
 * reports a refusal of @addr to @node (a forged ICMP port-unreachable).
 */
void sim_inject(Sim *sim, guint node, const guint8 *bytes, gsize len, const char *from);
void sim_forge_refusal(Sim *sim, guint node, const char *addr);

gint64 sim_now(const Sim *sim);
/* Runs events until virtual time @t (absolute). */
void sim_run_until(Sim *sim, gint64 t);
void sim_run_for(Sim *sim, gint64 ms);

typedef bool (*SimCondFn)(Sim *sim, gpointer data);
/*
 * Runs until @cond holds (checked every @step_ms of virtual time) or until
 * @deadline_ms (absolute). Returns whether it held; sim_now() tells when.
 */
bool sim_run_until_cond(Sim *sim, gint64 deadline_ms, gint64 step_ms, SimCondFn cond,
                        gpointer data);

guint sim_size(const Sim *sim);
guint sim_live_count(const Sim *sim);
bool sim_is_live(const Sim *sim, guint node);
Member *sim_member(Sim *sim, guint node);
guint64 sim_id(const Sim *sim, guint node);
const char *sim_addr(const Sim *sim, guint node);

/* Every live server sees exactly the live servers as up (alive or suspect). */
bool sim_converged(Sim *sim);
/* Every live server that ever knew @id sees it down (dead, left) or forgot it. */
bool sim_all_see_down(Sim *sim, guint64 id);
/* Live servers that see @id up. */
guint sim_count_seeing_up(Sim *sim, guint64 id);

typedef struct {
	guint64 events, datagrams_sent, datagrams_delivered, datagrams_lost;
	guint64 bytes_sent, xchg_ok, xchg_failed, refusals_reported;
	guint64 joins, leaves, updates; /* events from every engine */
	guint64 false_leaves;           /* LEAVE about a server that was live at the time */
	guint64 repeat_leaves;          /* a second LEAVE for one departure at one observer */
	guint64 rejoins;                /* JOIN about a server already crashed (a flap) */
} SimStats;

void sim_get_stats(const Sim *sim, SimStats *out);
/* Sum of the engines' statistics (live ones). */
void sim_member_stats(Sim *sim, MemberStats *out);

/*
 * Per-departure record for @id: how many live observers reported its
 * LEAVE, and when the last one did (-1 if none).
 */
guint sim_leave_count(const Sim *sim, guint64 id, gint64 *last_ms);
