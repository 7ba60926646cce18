#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cluster_idle.sh: idle membership traffic per server in a real cluster of
# 20 and of 200 circuitd (127.0.0.1, --plugins=proc, one seed, all launched
# at once). After convergence and a settling pause, over a 30 s window:
# UDP datagrams and payload bytes per server and second, sent and received,
# counted on lo (AF_PACKET, root) by the servers' ports and cross-checked
# with the DatagramsIn/Out counters of each server's peek; push-pull TCP
# traffic (segments, payload bytes, connections to the servers' ports).
# Bar (issue): the 200-server figure at most 1.3 times the 20-server one
# (constant load per server). Baseline, same run: the simulator's figures
# for the same engine and N (cluster_sim_baseline). Records the
# "cluster-idle" section of docs/BENCHMARKS.md; never asserts a figure,
# fails only if a cluster does not converge or a server dies.
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/cluster_idle.sh   (as root)
# Knobs: CIRCUIT_BENCH_CLUSTER_SIZES ("20 200"), CIRCUIT_BENCH_CLUSTER_IDLE_SECONDS
# (30); other values are not recorded unless CIRCUIT_BENCH_RECORD_SHORT is set.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cluster_common.sh"

read -r -a SIZES <<<"${CIRCUIT_BENCH_CLUSTER_SIZES:-20 200}"
IDLE=${CIRCUIT_BENCH_CLUSTER_IDLE_SECONDS:-30}
SETTLE=10
CONVERGE_LIMIT=240
[ "${#SIZES[@]}" -eq 2 ] || fail "CIRCUIT_BENCH_CLUSTER_SIZES must name two sizes"
for n in "${SIZES[@]}"; do
	[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 3 ] && [ "$n" -le 1000 ] || fail "cluster sizes must be 3..1000"
done
[[ "$IDLE" =~ ^[0-9]+$ ]] && [ "$IDLE" -ge 1 ] && [ "$IDLE" -le 600 ] || fail "bad CIRCUIT_BENCH_CLUSTER_IDLE_SECONDS"
[ "$(id -u)" = 0 ] || fail "counting packets on lo needs root (AF_PACKET)"
load_start=$(load_avg)

for n in "${SIZES[@]}"; do
	"$SIM_BASELINE" "$n" 0 "$IDLE" "$SETTLE" >"$C_TMP/sim$n.txt" || fail "simulator baseline failed"
done
for n in "${SIZES[@]}"; do
	dir=$C_TMP/run$n
	prepare_cluster "$n" "$dir"
	# Push-pull connections over the whole run (told apart from the CLI's).
	echo "${C_PORTS[*]}" >"$dir/ports"
	"$PY" "$PYLIB" ppcap "$dir/ports" "$C_TMP/pp$n.json" &
	pp_pid=$!
	C_HELPERS+=("$pp_pid")
	sleep 0.5
	T_START_NS=$(date +%s%N)
	converge_bg "$dir" "$n" "$T_START_NS" "$CONVERGE_LIMIT" "$C_TMP/cold$n.json"
	launch_cluster "$n" "$dir"
	rc=0
	wait "$CONV_PID" || rc=$?
	load_json "$C_TMP/cold$n.json"
	if [ "$rc" -ne 0 ]; then
		cp -r "$dir" "/tmp/$C_NAME-logs.$$" 2>/dev/null && echo "logs kept in /tmp/$C_NAME-logs.$$"
		fail "the $n-server cluster did not converge within ${CONVERGE_LIMIT} s: $(cat "$C_TMP/cold$n.json")"
	fi
	echo "$C_NAME: $n converged; settling ${SETTLE} s, then ${IDLE} s idle"
	run_bg "$PY" "$PYLIB" idle "$CIRCUIT_BIN" "$dir/servers" "$IDLE" "$C_TMP/idle$n.json" --capture --peek \
		--settle="$SETTLE" ||
		fail "a server of the $n-server cluster died while idle"
	load_json "$C_TMP/idle$n.json"
	kill -TERM "$pp_pid"
	wait "$pp_pid" || fail "push-pull capture failed"
	load_json "$C_TMP/pp$n.json"
	echo "$C_NAME: $n done; stopping it"
	c_stop_all
	sleep 2
done
load_end=$(load_avg)

a=${SIZES[0]} b=${SIZES[1]}
ij() { local n=$1; shift; json "$C_TMP/idle$n.json" "$@"; }
r() { awk -v x="$1" -v y="$2" 'BEGIN { if (y == 0) print "-"; else printf "%.2f", x / y }'; }
f1() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
f2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
pkts_a=$(ij "$a" cap_udp_mean_out_pkts_per_s) pkts_b=$(ij "$b" cap_udp_mean_out_pkts_per_s)
bytes_a=$(ij "$a" cap_udp_mean_out_bytes_per_s) bytes_b=$(ij "$b" cap_udp_mean_out_bytes_per_s)
rp=$(r "$pkts_b" "$pkts_a") rb=$(r "$bytes_b" "$bytes_a")
tcp_a=$(ij "$a" cap_tcp_bytes_per_server_s) tcp_b=$(ij "$b" cap_tcp_bytes_per_server_s)
all_a=$(awk -v x="$bytes_a" -v y="$tcp_a" 'BEGIN { print x + y }')
all_b=$(awk -v x="$bytes_b" -v y="$tcp_b" 'BEGIN { print x + y }')
verdict() { awk -v v="$1" 'BEGIN { print v == "-" ? "not measured" : (v <= 1.3 ? "met" : "NOT met") }'; }
# Steady-state push-pull bytes sent per server and second: it starts one
# exchange per period and serves one on average, sending the whole view in
# each (header 16 bytes, an entry 14 bytes + the address, "127.0.0.1:NNNNN"
# = 15); and the same from the payload measured per connection.
pp() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", 2 * (16 + n * 29) / (ms / 1000) }'; }
ppm() { awk -v b="$1" -v c="$2" -v ms="$3" 'BEGIN { if (c > 0) printf "%.0f", b / c / (ms / 1000); else print "-" }'; }
# Steady state, UDP (measured) + push-pull (measured payload per connection
# over the scaled period).
pj() { local n=$1; shift; json "$C_TMP/pp$n.json" "$@"; }
pp_a=$(ppm "$(pj "$a" pushpull_bytes)" "$(pj "$a" pushpull_connections)" "$(kv "$C_TMP/sim$a.txt" push_pull_ms)")
pp_b=$(ppm "$(pj "$b" pushpull_bytes)" "$(pj "$b" pushpull_connections)" "$(kv "$C_TMP/sim$b.txt" push_pull_ms)")
ss_a=$(awk -v x="$bytes_a" -v y="$pp_a" 'BEGIN { if (y == "-") print "-"; else printf "%.1f", x + y }')
ss_b=$(awk -v x="$bytes_b" -v y="$pp_b" 'BEGIN { if (y == "-") print "-"; else printf "%.1f", x + y }')
rss=$(awk -v x="$ss_b" -v y="$ss_a" 'BEGIN { if (x == "-" || y == "-" || y == 0) print "-"; else printf "%.2f", x / y }')
out=$C_TMP/cluster-idle.md
{
	echo "Real circuitd clusters ($(build_type) build; \`--plugins=proc -v\`) of $a and of $b"
	echo "servers on 127.0.0.1, each launched at once and joined through one seed. Once every server"
	echo "listed all members (\`circuit ls /\`) and was peeked, ${SETTLE} s of settling, then a ${IDLE} s window."
	echo "Packets counted on lo (AF_PACKET, kernel-filtered by the servers' ports): UDP datagrams and"
	echo "payload bytes each server sent and received in the window (membership is unkeyed here, so a"
	echo "datagram is the engine's bytes as is), and TCP segments and payload bytes to or from the"
	echo "servers' ports over settling and window together ($((SETTLE + IDLE)) s, no CLI call meanwhile:"
	echo "push-pull, \`member.sync\`). \"peek\": the servers' DatagramsIn/Out counters over settling,"
	echo "window and the second peek. Baseline (same run): the same engine and defaults in the"
	echo "simulator, same scenario (\`tests/bench/cluster_sim_baseline N 0 $IDLE $SETTLE\`: mean datagrams"
	echo "and bytes sent per server)."
	echo
	echo "| per server, per s | $a servers | $b servers | $b / $a |"
	echo "|---|---:|---:|---:|"
	echo "| UDP datagrams sent, mean | $(f2 "$pkts_a") | $(f2 "$pkts_b") | **$rp** |"
	echo "| UDP datagrams sent, median / max | $(f2 "$(ij "$a" cap_udp_out_pkts_per_s median)") / $(f2 "$(ij "$a" cap_udp_out_pkts_per_s max)") | $(f2 "$(ij "$b" cap_udp_out_pkts_per_s median)") / $(f2 "$(ij "$b" cap_udp_out_pkts_per_s max)") | $(r "$(ij "$b" cap_udp_out_pkts_per_s median)" "$(ij "$a" cap_udp_out_pkts_per_s median)") |"
	echo "| UDP datagrams received, median / max | $(f2 "$(ij "$a" cap_udp_in_pkts_per_s median)") / $(f2 "$(ij "$a" cap_udp_in_pkts_per_s max)") | $(f2 "$(ij "$b" cap_udp_in_pkts_per_s median)") / $(f2 "$(ij "$b" cap_udp_in_pkts_per_s max)") | $(r "$(ij "$b" cap_udp_in_pkts_per_s median)" "$(ij "$a" cap_udp_in_pkts_per_s median)") |"
	echo "| UDP bytes sent, mean | $(f1 "$bytes_a") | $(f1 "$bytes_b") | **$rb** |"
	echo "| UDP bytes sent, median / max | $(f1 "$(ij "$a" cap_udp_out_bytes_per_s median)") / $(f1 "$(ij "$a" cap_udp_out_bytes_per_s max)") | $(f1 "$(ij "$b" cap_udp_out_bytes_per_s median)") / $(f1 "$(ij "$b" cap_udp_out_bytes_per_s max)") | $(r "$(ij "$b" cap_udp_out_bytes_per_s median)" "$(ij "$a" cap_udp_out_bytes_per_s median)") |"
	echo "| UDP bytes received, median / max | $(f1 "$(ij "$a" cap_udp_in_bytes_per_s median)") / $(f1 "$(ij "$a" cap_udp_in_bytes_per_s max)") | $(f1 "$(ij "$b" cap_udp_in_bytes_per_s median)") / $(f1 "$(ij "$b" cap_udp_in_bytes_per_s max)") | $(r "$(ij "$b" cap_udp_in_bytes_per_s median)" "$(ij "$a" cap_udp_in_bytes_per_s median)") |"
	echo "| peek DatagramsOut, median | $(f2 "$(ij "$a" peek_dgrams_out_per_s median)") | $(f2 "$(ij "$b" peek_dgrams_out_per_s median)") | $(r "$(ij "$b" peek_dgrams_out_per_s median)" "$(ij "$a" peek_dgrams_out_per_s median)") |"
	echo "| TCP (push-pull) segments, settling + window | $(f2 "$(ij "$a" cap_tcp_segments_per_server_s)") | $(f2 "$(ij "$b" cap_tcp_segments_per_server_s)") | $(r "$(ij "$b" cap_tcp_segments_per_server_s)" "$(ij "$a" cap_tcp_segments_per_server_s)") |"
	echo "| TCP (push-pull) payload bytes, settling + window | $(f1 "$tcp_a") | $(f1 "$tcp_b") | $(r "$tcp_b" "$tcp_a") |"
	echo "| UDP + TCP payload bytes, as measured | $(f1 "$all_a") | $(f1 "$all_b") | $(r "$all_b" "$all_a") |"
	echo "| UDP + push-pull bytes, steady state (see below) | $ss_a | $ss_b | $rss |"
	echo "| simulator: datagrams sent | $(kv "$C_TMP/sim$a.txt" idle_dgrams_per_server_s) | $(kv "$C_TMP/sim$b.txt" idle_dgrams_per_server_s) | $(r "$(kv "$C_TMP/sim$b.txt" idle_dgrams_per_server_s)" "$(kv "$C_TMP/sim$a.txt" idle_dgrams_per_server_s)") |"
	echo "| simulator: bytes sent | $(kv "$C_TMP/sim$a.txt" idle_bytes_per_server_s) | $(kv "$C_TMP/sim$b.txt" idle_bytes_per_server_s) | $(r "$(kv "$C_TMP/sim$b.txt" idle_bytes_per_server_s)" "$(kv "$C_TMP/sim$a.txt" idle_bytes_per_server_s)") |"
	echo "| real / simulator: datagrams, bytes sent (mean) | $(r "$pkts_a" "$(kv "$C_TMP/sim$a.txt" idle_dgrams_per_server_s)"), $(r "$bytes_a" "$(kv "$C_TMP/sim$a.txt" idle_bytes_per_server_s)") | $(r "$pkts_b" "$(kv "$C_TMP/sim$b.txt" idle_dgrams_per_server_s)"), $(r "$bytes_b" "$(kv "$C_TMP/sim$b.txt" idle_bytes_per_server_s)") | |"
	echo
	echo "Bar ($b-server figure at most 1.3 times the $a-server one): UDP datagrams $rp, $(verdict "$rp");" \
		"UDP bytes $rb, $(verdict "$rb"). With push-pull counted in steady state (UDP measured," \
		"plus the TCP payload measured per push-pull connection over the scaled period): $rss, $(verdict "$rss")."
	echo
	for n in "$a" "$b"; do
		echo "$n servers: cold start (all logs show all) $(awk -v m="$(json "$C_TMP/cold$n.json" log_ms)" 'BEGIN { printf "%.1f", m / 1000 }') s from the first launch;" \
			"while settling and in the window $(ij "$n" cap_tcp_connections) push-pull connections (peek PushPulls: $(ij "$n" peek_pushpulls)," \
			"$(ij "$n" peek_pushpull_failures) failed), Members $(ij "$n" peek_members), Suspects at most" \
			"$(ij "$n" peek_suspects_max), Health at most $(ij "$n" peek_health_max)," \
			"$(ij "$n" peek_rejected) datagrams rejected; capture drops $(ij "$n" cap_drops);" \
			"over the whole run (launch to window end) $(pj "$n" pushpull_connections) push-pull connections of $(pj "$n" pushpull_bytes_per_connection) B of TCP payload each on average (told apart from the $(pj "$n" join_connections) joins' exchanges by the document's join flag and from the CLI's $(pj "$n" other_connections) connections by their \`member.sync\` stream; $(pj "$n" unparsed_sync_connections) unparsed; capture drops $(pj "$n" drops));" \
			"push-pull period $(($(kv "$C_TMP/sim$n.txt" push_pull_ms) / 1000)) s, so in steady state about" \
			"$(pp "$n" "$(kv "$C_TMP/sim$n.txt" push_pull_ms)") B/s of push-pull documents per server (from the" \
			"measured payload per push-pull connection: $(ppm "$(pj "$n" pushpull_bytes)" "$(pj "$n" pushpull_connections)" "$(kv "$C_TMP/sim$n.txt" push_pull_ms)") B/s)."
		echo
	done
	echo "Push-pull: the first exchange of every server comes 30 to 37.5 s after it starts, whatever"
	echo "the size (the scaled period applies from the second one on): the TCP rows hold first"
	echo "exchanges only, as many as fell in settling + window (it depends on how long launch and"
	echo "convergence took), so they are not steady-state rates. In steady state a server starts"
	echo "one exchange per period and serves one on average, each carrying the whole view both ways"
	echo "(16 + 29 bytes per member, plus about 390 bytes of connection set-up and framing measured"
	echo "here). The period grows as N / 32 past 32 members, so that traffic stays flat per server"
	echo "(memberlist grows the period with log2 N only, so its traffic grows as N / (log2 N - 4)). The steady-state"
	echo "row is computed: the UDP rate measured in the window plus the payload measured per"
	echo "push-pull connection (over the whole run) divided by the period, not measured over whole"
	echo "periods."
	echo "Load average (1/5/15 min) at start: $load_start; at end: $load_end."
} >"$out"
cat "$out"
if [ "${SIZES[*]}" != "20 200" ] || [ "$IDLE" != 30 ]; then
	[ -n "${CIRCUIT_BENCH_RECORD_SHORT:-}" ] && bash "$here/record.sh" cluster-idle "$out" ||
		echo "$C_NAME: not recorded (record sizes 20 and 200, 30 s)"
else
	bash "$here/record.sh" cluster-idle "$out"
fi
