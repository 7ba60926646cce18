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
