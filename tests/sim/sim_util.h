// SPDX-License-Identifier: Apache-2.0
//
// sim_util.h - scenario helpers shared by the simulator tests and the
// benchmark (header-only: static functions).
#pragma once

#include "sim.h"

static inline bool
sim_util_converged(Sim *sim, gpointer data)
{
	return sim_converged(sim);
}

static inline bool
sim_util_all_down(Sim *sim, gpointer data)
{
	return sim_all_see_down(sim, *(guint64 *)data);
}

/*
 * Starts @n servers, all joining through server 0 within the first
 * second, and runs until the view converged (or @deadline_ms). Returns the
 * convergence time (virtual ms since start) or -1.
 */
static inline gint64
sim_util_form(Sim *sim, guint n, gint64 deadline_ms)
{
	gint64 start = sim_now(sim);
	sim_add(sim);
	sim_add_joined(sim, n - 1, 0, 1000);
	if (!sim_run_until_cond(sim, start + deadline_ms, 100, sim_util_converged, NULL))
		return -1;
	return sim_now(sim) - start;
}

/* Picks a server index from the sim's own deterministic choice of @salt. */
static inline guint
sim_util_pick(Sim *sim, guint salt)
{
	return (guint)((sim_id(sim, salt % sim_size(sim)) >> 17) % sim_size(sim));
}

/* One new member's spread: where it runs, its ID, when it joined, when all knew it. */
typedef struct {
	guint node;
	guint64 id;
	gint64 start, done; /* done: -1 while some live server does not know it */
} SimUtilJoin;

/* Every live server other than the joiner sees @j's ID up. */
static inline bool
sim_util_join_known(Sim *sim, const SimUtilJoin *j)
{
	return sim_is_live(sim, j->node) && sim_id(sim, j->node) == j->id &&
	       sim_count_seeing_up(sim, j->id) == sim_live_count(sim) - 1;
}

/* Marks the joins of @joins that every live server now knows. */
static inline void
sim_util_joins_check(Sim *sim, GArray *joins)
{
	for (guint i = 0; i < joins->len; i++) {
		SimUtilJoin *j = &g_array_index(joins, SimUtilJoin, i);
		if (j->done < 0 && sim_util_join_known(sim, j))
			j->done = sim_now(sim);
	}
}

/* Runs @ms of virtual time, checking the joins every @step_ms. */
static inline void
sim_util_joins_run(Sim *sim, GArray *joins, gint64 ms, gint64 step_ms)
{
	gint64 end = sim_now(sim) + ms;
	while (sim_now(sim) < end) {
		sim_run_for(sim, MIN(step_ms, end - sim_now(sim)));
		sim_util_joins_check(sim, joins);
	}
}

/*
 * Rolling restarts of a formed cluster of @n servers (a deploy): @waves
 * waves @wave_ms apart, each restarting @per_wave servers (never server 0)
 * with new IDs, through the server before the batch as seed. Even
 * restarts leave gracefully first (SIGTERM: member_leave, then the process
 * exits after @linger_ms) and come back on their old address; odd ones
 * crash and come back on a new one (an ephemeral port). Every departure leaves
 * a down ID behind in every view, which is what slowed joins (issue 15,
 * finding 8). Appends one SimUtilJoin per restart to @joins and runs until
 * all are known or @settle_ms after the last wave, checking every
 * @step_ms.
 */
static inline void
sim_util_rolling_joins(Sim *sim, guint n, guint waves, guint per_wave, gint64 wave_ms,
                       gint64 linger_ms, gint64 settle_ms, gint64 step_ms, GArray *joins)
{
	guint next = 1, restarts = 0;
	for (guint w = 0; w < waves; w++) {
		guint batch[16];
		guint nb = MIN(per_wave, G_N_ELEMENTS(batch));
		for (guint b = 0; b < nb; b++) {
			batch[b] = next;
			next = next % (n - 1) + 1;
		}
		for (guint b = 0; b < nb; b++) {
			if ((restarts + b) % 2 == 0)
				sim_leave(sim, batch[b], linger_ms);
		}
		sim_util_joins_run(sim, joins, linger_ms, step_ms);
		/* The server before the batch (restarted a wave ago), as in a deploy. */
		guint seed = batch[0] > 1 ? batch[0] - 1 : 0;
		for (guint b = 0; b < nb; b++) {
			sim_restart(sim, batch[b], (restarts + b) % 2 == 1, seed);
			SimUtilJoin j = {.node = batch[b],
			                 .id = sim_id(sim, batch[b]),
			                 .start = sim_now(sim),
			                 .done = -1};
			g_array_append_val(joins, j);
			restarts++;
		}
		sim_util_joins_run(sim, joins, wave_ms - linger_ms, step_ms);
	}
	gint64 end = sim_now(sim) + settle_ms;
	while (sim_now(sim) < end) {
		bool all = true;
		for (guint i = 0; i < joins->len && all; i++) {
			const SimUtilJoin *j = &g_array_index(joins, SimUtilJoin, i);
			all = j->done >= 0 || !sim_is_live(sim, j->node) ||
			      sim_id(sim, j->node) != j->id;
		}
		if (all)
			break;
		sim_util_joins_run(sim, joins, step_ms, step_ms);
	}
}
