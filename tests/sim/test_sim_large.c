// SPDX-License-Identifier: Apache-2.0
//
// test_sim_large.c - 2,000 servers in the simulator: a cold start through
// one seed, then one more server joining and one crashing, each spread to
// all in O(log N) gossip rounds. A separate program because forming a
// 2,000-member full view is ~10^8 message deliveries (seconds of CPU).
#include "sim.h"
#include "sim_util.h"

#include <math.h>

typedef struct {
	guint node;
} SeenArgs;

static bool
all_know(Sim *sim, gpointer data)
{
	guint64 id = sim_id(sim, ((SeenArgs *)data)->node);
	return sim_count_seeing_up(sim, id) == sim_live_count(sim) - 1;
}

static void
test_converge_2000(void)
{
#ifdef CIRCUIT_SIM_SANITIZED
	g_test_skip("2,000 servers take minutes under the sanitizers; the 200-server tests run "
	            "the same code");
	return;
#endif
	SimConfig cfg;
	sim_config_init(&cfg);
	cfg.seed = 2000;
	const guint n = 2000;
	Sim *sim = sim_new(&cfg);
	gint64 t = sim_util_form(sim, n, 600 * 1000);
	g_assert_cmpint(t, >=, 0);
	double gossip_rounds = (double)t / (double)cfg.member.gossip_interval_ms;
	g_test_message("cold start: %u servers joined through one seed within 1 s and converged "
	               "after %" G_GINT64_FORMAT " ms = %.0f probe periods = %.0f gossip rounds",
	               n, t, (double)t / (double)cfg.member.probe_interval_ms, gossip_rounds);
	/*
	 * A cold start is bandwidth-bound, not latency-bound: every server must
	 * hear n - 1 joins, at most (datagram / update size) updates per datagram.
	 * Bound it by the push-pull period, which repairs whatever gossip missed.
	 */
	g_assert_cmpint(t, <=, member_config_push_pull_ms(&cfg.member, n));

	/* One more server joins a settled cluster: that single update spreads in O(log N). */
	sim_run_for(sim, 30000);
	SeenArgs args = {sim_add(sim)};
	sim_join(sim, args.node, 0, 0);
	gint64 start = sim_now(sim);
	gint64 bound = member_config_dissemination_ms(&cfg.member, n + 1);
	g_assert_true(sim_run_until_cond(sim, start + 10 * bound, cfg.member.gossip_interval_ms / 4,
	                                 all_know, &args));
	gint64 tj = sim_now(sim) - start;
	g_test_message("one join into %u: known by all after %" G_GINT64_FORMAT
	               " ms = %.1f gossip rounds (log2 N = %.1f); bound %" G_GINT64_FORMAT " ms",
	               n, tj, (double)tj / (double)cfg.member.gossip_interval_ms, log2((double)n),
	               bound);
	g_assert_cmpint(tj, <=, bound);

	/* A silent crash: detected by all within the SWIM bound. */
	sim_run_for(sim, 10000);
	guint64 victim = sim_id(sim, 1234);
	start = sim_now(sim);
	sim_crash(sim, 1234);
	gint64 dbound = member_config_detection_bound_ms(&cfg.member, n);
	g_assert_true(sim_run_until_cond(sim, start + dbound, 100, sim_util_all_down, &victim));
	gint64 td = sim_now(sim) - start;
	g_test_message("silent crash in %u: declared dead by all after %" G_GINT64_FORMAT
	               " ms (bound %" G_GINT64_FORMAT " ms)",
	               n, td, dbound);
	SimStats st;
	sim_get_stats(sim, &st);
	g_assert_cmpuint(st.false_leaves, ==, 0);
	g_assert_cmpuint(st.repeat_leaves, ==, 0);
	sim_free(sim);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sim/converge/2000", test_converge_2000);
	return g_test_run();
}
