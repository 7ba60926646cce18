#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cluster_scale.sh: 200 real circuitd processes on 127.0.0.1 (--plugins=proc,
# -v), launched at once, all joining one seed (-j 127.0.0.1:SEEDPORT).
# Measures the time until every server lists 200 members (`circuit ls /`,
# polled on every server; also read from the -v logs), the idle cluster's
# CPU over 30 s (utime+stime deltas of every circuitd) and per-server RSS
# (VmRSS, RssAnon), then kills -9 20 of them and measures the time until all
# 180 survivors list 180. Baseline, in the same run: the same engine and
# defaults in the simulator, same scenario (cluster_sim_baseline), and the
# engine's bound functions. Records the "cluster-scale" section of
# docs/BENCHMARKS.md. Never asserts a time; fails only when the cluster
# does not converge within a generous bound (the section then says so).
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/cluster_scale.sh
# Knobs: CIRCUIT_BENCH_CLUSTER_N (200), CIRCUIT_BENCH_CLUSTER_KILL (20),
# CIRCUIT_BENCH_CLUSTER_IDLE_SECONDS (30); other sizes are not recorded unless
# CIRCUIT_BENCH_RECORD_SHORT is set.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cluster_common.sh"

N=${CIRCUIT_BENCH_CLUSTER_N:-200}
KILL=${CIRCUIT_BENCH_CLUSTER_KILL:-20}
IDLE=${CIRCUIT_BENCH_CLUSTER_IDLE_SECONDS:-30}
SETTLE=5
CONVERGE_LIMIT=240 # s: "never converges"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 3 ] && [ "$N" -le 1000 ] || fail "CIRCUIT_BENCH_CLUSTER_N must be 3..1000"
[[ "$KILL" =~ ^[0-9]+$ ]] && [ "$KILL" -ge 1 ] && [ "$KILL" -lt $((N - 1)) ] || fail "bad CIRCUIT_BENCH_CLUSTER_KILL"
[[ "$IDLE" =~ ^[0-9]+$ ]] && [ "$IDLE" -ge 1 ] && [ "$IDLE" -le 600 ] || fail "bad CIRCUIT_BENCH_CLUSTER_IDLE_SECONDS"
SURV=$((N - KILL))
load_start=$(load_avg)
dir=$C_TMP/run$N

# Baseline first (well under a second of CPU), so it does not overlap.
"$SIM_BASELINE" "$N" "$KILL" "$IDLE" "$SETTLE" >"$C_TMP/sim.txt" || fail "simulator baseline failed"

prepare_cluster "$N" "$dir"
T_START_NS=$(date +%s%N)
converge_bg "$dir" "$N" "$T_START_NS" "$CONVERGE_LIMIT" "$C_TMP/cold.json"
launch_cluster "$N" "$dir"
conv_rc=0
wait "$CONV_PID" || conv_rc=$?
load_json "$C_TMP/cold.json"

out=$C_TMP/cluster-scale.md
sim_cold=$(kv "$C_TMP/sim.txt" cold_ms)
sim_kill=$(kv "$C_TMP/sim.txt" kill_ms)
ms_s() { awk -v m="$1" 'BEGIN { if (m == "-" || m == "") print "-"; else printf "%.1f s", m / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.1f", a / b }'; }
header() {
	echo "$N real circuitd processes ($(build_type) build; \`--plugins=proc -v\`) on 127.0.0.1, distinct"
	echo "ports, launched back to back (the launch loop took $(ms_s $(((T_LAUNCHED_NS - T_START_NS) / 1000000))) for all $N) and joined through"
	echo "one seed (\`-j 127.0.0.1:SEEDPORT\`). Times are from the first launch (cold start) or the"
	echo "first kill. \"logs\": the first 100 ms sample at which every server's \`-v\` log shows"
	echo "that many members (1 + joined - left lines: the server's own membership events)."
	echo "\"CLI\": \`circuit -d URL ls /\` (4 at a time) on each server once its log shows the"
	echo "target, again until it lists it, then one sweep over all servers in which all must"
	echo "list it; the figure is when the last server first listed it, so it includes the"
	echo "CLI's own queueing (a sweep over all $N took the time given below). The 2 cores"
	echo "are shared by the $N daemons, their $N circuit-guard helpers and the CLI."
	echo
	echo "Baseline (same run): the same engine (lib/member) with the same defaults in"
	echo "the simulator, same scenario (\`tests/bench/cluster_sim_baseline $N $KILL $IDLE $SETTLE\`:"
	echo "$N servers joining server 0 within 1 s; $KILL crashed at once, their host"
	echo "refusing as a kill -9'd daemon's does), virtual time, 1-2 ms links, no loss, no"
	echo "CPU contention, no process start-up; and the engine's bound functions (member.h)"
	echo "for N = $N."
	echo
}
if [ "$conv_rc" -ne 0 ]; then
	{
		header
		echo "**The cluster did not converge** within ${CONVERGE_LIMIT} s of the launch:"
		echo "CLI member counts seen at the end: $(json "$C_TMP/cold.json" counts)" \
			"($(json "$C_TMP/cold.json" short) servers short of $N); views in the logs:" \
			"$(json "$C_TMP/cold.json" log_views); join lines $(json "$C_TMP/cold.json" log_joined)," \
			"left lines $(json "$C_TMP/cold.json" log_left); CLI errors: $(json "$C_TMP/cold.json" cli_errors)."
		echo "Simulator: $(ms_s "$sim_cold")."
	} >"$out"
	cat "$out"
	cp -r "$dir" "/tmp/$C_NAME-logs.$$" 2>/dev/null && echo "logs kept in /tmp/$C_NAME-logs.$$"
	[ "$N" = 200 ] || [ -n "${CIRCUIT_BENCH_RECORD_SHORT:-}" ] && bash "$here/record.sh" cluster-scale "$out"
	fail "the $N-server cluster did not converge within ${CONVERGE_LIMIT} s"
fi
echo "$C_NAME: converged; settling ${SETTLE} s, then ${IDLE} s idle"
run_bg sleep "$SETTLE"
run_bg "$PY" "$PYLIB" idle "$CIRCUIT_BIN" "$dir/servers" "$IDLE" "$C_TMP/idle.json" --peek ||
	fail "a server died while idle"
load_json "$C_TMP/idle.json"

kill_rc=0
kill_some "$dir" "$N" "$KILL" "$CONVERGE_LIMIT" "$C_TMP/kill.json" || kill_rc=$?
load_json "$C_TMP/kill.json"
load_end=$(load_avg)

cj() { json "$C_TMP/cold.json" "$@"; }
since_launch() { awk -v m="$1" -v l="$(((T_LAUNCHED_NS - T_START_NS) / 1000000))" 'BEGIN { if (m == "-") print "-"; else printf "%.1f s", (m - l) / 1000 }'; }
kj() { json "$C_TMP/kill.json" "$@"; }
ij() { json "$C_TMP/idle.json" "$@"; }
cold_cli=$(cj cli_ms) cold_log=$(cj log_ms) kill_cli=$(kj cli_ms) kill_log=$(kj log_ms)
{
	header
	echo "| figure | real cluster | simulator | real / sim | engine bound |"
	echo "|---|---:|---:|---:|---:|"
	echo "| cold start: all $N logs show $N | $(ms_s "$cold_log") | $(ms_s "$sim_cold") | **$(ratio "$cold_log" "$sim_cold")** | - |"
	echo "| cold start: all $N list $N (CLI) | $(ms_s "$cold_cli") | $(ms_s "$sim_cold") | $(ratio "$cold_cli" "$sim_cold") | - |"
	echo "| cold start: median server (logs / CLI) | $(ms_s "$(cj log_median_ms)") / $(ms_s "$(cj cli_median_ms)") | | | |"
	echo "| cold start: all $N logs show $N, from the end of the launch loop | $(since_launch "$cold_log") | | | |"
	if [ "$kill_rc" -eq 0 ]; then
		echo "| kill -9 of $KILL: all $SURV logs show $SURV | $(ms_s "$kill_log") | $(ms_s "$sim_kill") | **$(ratio "$kill_log" "$sim_kill")** | $(ms_s "$(kv "$C_TMP/sim.txt" bound_refusal_ms)") (refusal), $(ms_s "$(kv "$C_TMP/sim.txt" bound_detection_ms)") (silent) |"
		echo "| kill -9 of $KILL: all $SURV list $SURV (CLI) | $(ms_s "$kill_cli") | $(ms_s "$sim_kill") | $(ratio "$kill_cli" "$sim_kill") | |"
		echo "| kill -9 of $KILL: median survivor (logs / CLI) | $(ms_s "$(kj log_median_ms)") / $(ms_s "$(kj cli_median_ms)") | | | |"
	else
		echo "| kill -9 of $KILL: all $SURV list $SURV (CLI) | **did not within ${CONVERGE_LIMIT} s** (counts $(kj counts)) | $(ms_s "$sim_kill") | - | $(ms_s "$(kv "$C_TMP/sim.txt" bound_refusal_ms)") (refusal) |"
	fi
	echo
	echo "Idle, ${SETTLE} s after convergence, over $(ij window_s) s (all $N servers):"
	echo
	echo "| figure | value |"
	echo "|---|---:|"
	echo "| whole cluster CPU, utime+stime, % of one core | $(ij cpu_pct_total_stat) % ($(ij cpu_ticks_total) ticks at $(ij hz) Hz) |"
	echo "| whole cluster CPU, schedstat, % of one core | $(ij cpu_pct_total_sched) % |"
	echo "| per server CPU (utime+stime / $N) | $(awk -v v="$(ij cpu_pct_per_server_stat)" 'BEGIN { printf "%.3f", v }') % |"
	echo "| per server CPU, schedstat: median / max | $(ij cpu_pct_per_server_sched median) / $(ij cpu_pct_per_server_sched max) % |"
	echo "| VmRSS per server: median / max | $(ij vmrss_kib median) / $(ij vmrss_kib max) KiB |"
	echo "| RssAnon per server: median / max | $(ij rssanon_kib median) / $(ij rssanon_kib max) KiB |"
	echo "| RssAnon of the seed (server 0; the max is server $(ij rssanon_max_server)) | $(ij rssanon_seed_kib) KiB |"
	echo "| datagrams out per server per s (peek): median / max | $(ij peek_dgrams_out_per_s median) / $(ij peek_dgrams_out_per_s max) |"
	echo
	echo "During the idle window: peek Members $(ij peek_members), Suspects at most $(ij peek_suspects_max)," \
		"Health at most $(ij peek_health_max), $(ij peek_pushpulls) push-pulls ($(ij peek_pushpull_failures) failed)," \
		"$(ij peek_rejected) datagrams rejected."
	echo "Cold start: $(cj log_joined) join and $(cj log_left) leave lines in the logs" \
		"(a leave during a cold start is a false death); CLI: $(cj polls) calls, $(cj mismatches) disagreeing" \
		"with the log, errors $(cj cli_errors); the confirmation sweep over all $N took $(cj sweep_s) s."
	if [ "$kill_rc" -eq 0 ]; then
		echo "After the kills: $(kj log_left) leave lines (expected $((SURV * KILL)): each survivor once per victim)," \
			"$(kj log_joined) join lines; simulator: $(kv "$C_TMP/sim.txt" false_leaves) false leaves." \
			"CLI: $(kj polls) calls, errors $(kj cli_errors); the sweep over all $SURV took $(kj sweep_s) s."
	fi
	echo "A single idle circuitd for comparison: the \`idle\` section (CPU and RSS without a cluster)."
	echo "Load average (1/5/15 min) at start: $load_start; at end: $load_end."
} >"$out"
cat "$out"
if [ "$N" != 200 ] || [ "$KILL" != 20 ] || [ "$IDLE" != 30 ]; then
	[ -n "${CIRCUIT_BENCH_RECORD_SHORT:-}" ] && bash "$here/record.sh" cluster-scale "$out" ||
		echo "$C_NAME: not recorded (record N=200, 20 killed, 30 s idle)"
else
	bash "$here/record.sh" cluster-scale "$out"
fi
[ "$kill_rc" -eq 0 ] || fail "the $SURV survivors did not agree on $SURV within ${CONVERGE_LIMIT} s"
