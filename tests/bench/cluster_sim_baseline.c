// SPDX-License-Identifier: Apache-2.0
//
// cluster_sim_baseline.c - the baseline of the real-cluster benchmarks
// (cluster_scale.sh, cluster_idle.sh): the same lib/member engine with the
// same defaults, in the simulator (tests/sim: virtual clock, 1-2 ms links,
// no loss, no CPU contention), run through the same scenario as the real
// daemons: N servers joining server 0 within the first second, then
// SETTLE seconds, an idle window of IDLE seconds (datagrams and bytes sent,
// push-pull exchanges), then KILL servers crashed at once with refusals
// (a kill -9'd circuitd's host answers ICMP port-unreachable), until every
// survivor sees every victim down. Also prints the engine's own bounds.
// Output: key=value lines (times in ms), for the scripts to parse.
//
// Usage: cluster_sim_baseline N KILL IDLE_S SETTLE_S
#include <stdio.h>

#include "sim.h"
#include "sim_util.h"

typedef struct {
	const guint64 *ids;
	guint n;
} Victims;

static bool
all_victims_down(Sim *sim, gpointer data)
{
	const Victims *v = data;
	for (guint i = 0; i < v->n; i++)
		if (!sim_all_see_down(sim, v->ids[i]))
			return false;
	return true;
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		g_printerr("usage: cluster_sim_baseline N KILL IDLE_S SETTLE_S\n");
		return 2;
	}
	guint n = (guint)g_ascii_strtoull(argv[1], NULL, 10);
	guint kill = (guint)g_ascii_strtoull(argv[2], NULL, 10);
	gint64 idle_ms = (gint64)g_ascii_strtoull(argv[3], NULL, 10) * 1000;
	gint64 settle_ms = (gint64)g_ascii_strtoull(argv[4], NULL, 10) * 1000;
	if (n < 2 || n > 5000 || kill >= n || idle_ms <= 0) {
		g_printerr("cluster_sim_baseline: bad arguments\n");
		return 2;
	}
	SimConfig cfg;
	sim_config_init(&cfg);
	cfg.seed = 4242 + n;
	cfg.refuse_crashed = true;
	Sim *sim = sim_new(&cfg);
	gint64 cold = sim_util_form(sim, n, 600 * 1000);
	printf("n=%u\ncold_ms=%" G_GINT64_FORMAT "\n", n, cold);
	if (cold < 0)
		return 1;
	sim_run_for(sim, settle_ms);

	SimStats s0, s1;
	sim_get_stats(sim, &s0);
	sim_run_for(sim, idle_ms);
	sim_get_stats(sim, &s1);
	double secs = (double)idle_ms / 1000.0;
	printf("idle_s=%.0f\n", secs);
	printf("idle_dgrams_per_server_s=%.3f\n",
	       (double)(s1.datagrams_sent - s0.datagrams_sent) / n / secs);
	printf("idle_bytes_per_server_s=%.1f\n",
	       (double)(s1.bytes_sent - s0.bytes_sent) / n / secs);
	printf("idle_xchg_per_server=%.3f\n", (double)(s1.xchg_ok - s0.xchg_ok) / n);
	printf("idle_leaves=%" G_GUINT64_FORMAT "\n", s1.leaves - s0.leaves);

	if (kill > 0) {
		/* Victims spread over the cluster (never the seed). */
		guint64 *ids = g_new(guint64, kill);
		for (guint i = 0; i < kill; i++) {
			guint node = 1 + (guint)((guint64)i * (n - 1) / kill);
			ids[i] = sim_id(sim, node);
			sim_crash(sim, node);
		}
		Victims v = {ids, kill};
		gint64 start = sim_now(sim);
		bool ok = sim_run_until_cond(sim, start + 600 * 1000, 50, all_victims_down, &v);
		printf("kill=%u\nkill_ms=%" G_GINT64_FORMAT "\n", kill,
		       ok ? sim_now(sim) - start : -1);
		sim_get_stats(sim, &s0);
		printf("false_leaves=%" G_GUINT64_FORMAT "\n", s0.false_leaves);
		g_free(ids);
	}
	sim_free(sim);

	MemberConfig mc;
	member_config_init(&mc);
	printf("bound_dissemination_ms=%" G_GINT64_FORMAT "\n",
	       member_config_dissemination_ms(&mc, n));
	printf("bound_detection_ms=%" G_GINT64_FORMAT "\n",
	       member_config_detection_bound_ms(&mc, n));
	printf("bound_refusal_ms=%" G_GINT64_FORMAT "\n",
	       2 * mc.probe_interval_ms + member_config_dissemination_ms(&mc, n));
	printf("push_pull_ms=%" G_GINT64_FORMAT "\n", member_config_push_pull_ms(&mc, n));
	printf("probe_interval_ms=%" G_GINT64_FORMAT "\n", mc.probe_interval_ms);
	return 0;
}
