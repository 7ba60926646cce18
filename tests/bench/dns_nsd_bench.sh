#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_nsd_bench: a dns element against NSD serving the same zone, in the
# same run with the same dnsperf flags, at 1,000 and at 100,000 names:
# queries/s, queries per server CPU-second (utime+stime from
# /proc/PID/stat, NSD's processes summed), and the resident memory of
# each server with the records loaded. Records the "dns-nsd" section of
# docs/BENCHMARKS.md through record.sh. It never fails on a figure: the
# bars (both ratios at least 1.0; at most 300 bytes per A record) are
# reported, not asserted.
#
# Run through ctest (-DCIRCUIT_BENCH=ON, label bench) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/dns_nsd_bench.sh
source "$(dirname "$0")/bench_lib.sh"
source "$CIRCUIT_SOURCE_DIR/tests/plugins/dns/dns_lib.sh"
command -v dnsperf >/dev/null || fail "dnsperf is missing (apt-get install dnsperf)"

SECONDS_RUN=${DNS_BENCH_SECONDS:-10}
FLAGS=(-l "$SECONDS_RUN" -c 1 -q 100 -t 5)
TICK=$(getconf CLK_TCK)

# cpu_ticks PID...: utime + stime of the PIDs (all their threads).
cpu_ticks() {
	local t=0 pid
	for pid in "$@"; do
		# Fields 14 and 15; the command name (field 2) may hold spaces
		# ("nsd: main"), so count from after its closing parenthesis.
		t=$((t + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
	done
	echo "$t"
}
# rss_kib PID...: summed VmRSS.
rss_kib() {
	local t=0 pid
	for pid in "$@"; do t=$((t + $(awk '/^VmRSS/{print $2}' "/proc/$pid/status"))); done
	echo "$t"
}
# nsd_pids: NSD's processes (it forks a server and xfrd below its main).
nsd_pids() {
	local todo=("$NSD_PID") all=() pid
	while [ ${#todo[@]} -gt 0 ]; do
		pid=${todo[0]}
		todo=("${todo[@]:1}")
		all+=("$pid")
		todo+=($(pgrep -P "$pid" || true))
	done
	echo "${all[@]}"
}

# perf NAME PORT PIDS...: one dnsperf run; prints "qps qps-per-cpu-second".
perf() {
	local name=$1 port=$2
	shift 2
	local before after
	before=$(cpu_ticks "$@")
	dnsperf -s 127.0.0.1 -p "$port" -d "$T_TMP/queries.txt" "${FLAGS[@]}" >"$T_TMP/$name.perf" 2>&1 ||
		{ cat "$T_TMP/$name.perf"; fail "dnsperf against $name failed"; }
	after=$(cpu_ticks "$@")
	local qps done_ lost
	qps=$(sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$T_TMP/$name.perf")
	done_=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$T_TMP/$name.perf")
	lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$T_TMP/$name.perf")
	[ "$lost" = 0 ] || echo "# $name lost $lost queries" >&2
	echo "$qps $(echo "$done_ * $TICK / ($after - $before)" | bc)"
}

start_server
P=/$SERVER_ID/bench
rows=""
for n in 1000 100000; do
	zone="$T_TMP/zone$n.txt"
	{
		echo "bench.example. 3600 IN SOA ns.bench.example. me.bench.example. 1 3600 600 86400 300"
		echo "bench.example. 3600 IN NS ns.bench.example."
		echo "ns.bench.example. 3600 IN A 10.255.0.1"
		awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
			printf "host%d.bench.example. 300 IN A 10.%d.%d.%d\n", i, int(i / 65536), int(i / 256) % 256, i % 256 }'
	} >"$zone"
	awk 'NR > 3 {print $1, "A"}' "$zone" >"$T_TMP/queries.txt"
	nsd_start "$zone" bench.example
	el_before=$(rss_kib "$SERVER_PID")
	c mkdns "$P" 127.0.0.1:0
	DNS_ADDR=$(c peek "$P" | jq -r .Address)
	c load "$P" <"$zone" >/dev/null
	el_loaded=$(rss_kib "$SERVER_PID")
	el_port=${DNS_ADDR##*:}
	for port in "$NSD_PORT" "$el_port"; do
		got=$(dig @127.0.0.1 -p "$port" +short +time=2 +tries=1 host777.bench.example A)
		[ "$got" = "10.0.3.9" ] || fail "server on port $port answers '$got'"
	done
	# A-B-B-A, so that a drift in the machine's load weighs on both.
	read -r n1 nc1 < <(perf nsd1 "$NSD_PORT" $(nsd_pids))
	read -r e1 ec1 < <(perf el1 "$el_port" "$SERVER_PID")
	read -r e2 ec2 < <(perf el2 "$el_port" "$SERVER_PID")
	read -r n2 nc2 < <(perf nsd2 "$NSD_PORT" $(nsd_pids))
	el_rss=$(rss_kib "$SERVER_PID")
	nsd_rss=$(rss_kib $(nsd_pids))
	nq=$(echo "($n1 + $n2) / 2" | bc -l) eq=$(echo "($e1 + $e2) / 2" | bc -l)
	nc=$(echo "($nc1 + $nc2) / 2" | bc -l) ec=$(echo "($ec1 + $ec2) / 2" | bc -l)
	per_rec=$(echo "($el_loaded - $el_before) * 1024 / $n" | bc)
	per_rec_cache=$(echo "($el_rss - $el_before) * 1024 / $n" | bc)
	rows+=$(printf '| %d | %.0f | %.0f | **%.2f** | %.0f | %.0f | **%.2f** | %.1f | %.1f | %d | %d |' \
		"$n" "$nq" "$eq" "$(echo "$eq / $nq" | bc -l)" "$nc" "$ec" "$(echo "$ec / $nc" | bc -l)" \
		"$(echo "$nsd_rss / 1024" | bc -l)" "$(echo "$el_rss / 1024" | bc -l)" "$per_rec" "$per_rec_cache")$'\n'
	c scrub "$P"
	kill -TERM "$NSD_PID"
	wait "$NSD_PID" 2>/dev/null || true
done

out="$T_TMP/dns-nsd.md"
{
	echo "dnsperf $(dnsperf -h 2>&1 | sed -n "s/^Version \([0-9.]*\).*/\1/p" | head -n1) against NSD $(nsd -v 2>&1 | sed -n 's/^NSD version \([0-9.]*\).*/\1/p')" \
		"(\`minimal-responses: yes\`, one server process, no rate limiting) and a dns element, same zone, same run:" \
		"${SECONDS_RUN} s per run in the order NSD, element, element, NSD, \`dnsperf ${FLAGS[*]}\`," \
		"every name's A record queried in a loop, UDP on 127.0.0.1; the machine has 2 cores shared with dnsperf (and possibly other work)."
	echo "CPU-seconds are utime+stime from /proc/PID/stat (NSD's processes summed); RSS is VmRSS after the runs" \
		"(the element's figure is all of circuitd, with every plugin). Bytes per record: circuitd's growth from before mkdns to just after" \
		"\`load\` (records only), and to after the runs (records and a full answer cache), divided by the records."
	echo
	echo "| names | NSD q/s | element q/s | ratio | NSD q/CPU-s | element q/CPU-s | ratio | NSD RSS MiB | circuitd RSS MiB | bytes/record loaded | with cache |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s' "$rows"
	echo
	echo "Bars: both ratios at least 1.0; at most 300 bytes per A record at 100,000 records."
} >"$out"
cat "$out"
bash "$here/record.sh" dns-nsd "$out"
