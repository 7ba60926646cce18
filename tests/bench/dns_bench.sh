#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_bench: queries per second of a dns element against dnsmasq serving
# the same 1,000 A records (--host-record), measured in the same run with
# the same dnsperf flags. Records the figures as the "dns" section of
# docs/BENCHMARKS.md through record.sh. It never fails on a figure: the bar
# (ratio >= 1.0 with 0 lost) is reported, not asserted.
#
# Run through ctest (-DCIRCUIT_BENCH=ON, label bench) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/dns_bench.sh
source "$(dirname "$0")/bench_lib.sh"

for tool in dnsperf dnsmasq dig; do
	command -v $tool >/dev/null || fail "$tool is missing (apt-get install dnsperf dnsmasq-base dnsutils)"
done
SECONDS_RUN=${DNS_BENCH_SECONDS:-20}
N=1000
# The same flags for both servers: one client, up to 100 queries in flight.
FLAGS=(-l "$SECONDS_RUN" -c 1 -q 100 -t 5)

# The records and the query file.
: >"$T_TMP/records.txt"
: >"$T_TMP/dnsmasq.conf"
: >"$T_TMP/queries.txt"
for i in $(seq 0 $((N - 1))); do
	name=host$i.bench.example ip=10.0.$((i / 256)).$((i % 256))
	echo "$name. 300 IN A $ip" >>"$T_TMP/records.txt"
	echo "host-record=$name,$ip" >>"$T_TMP/dnsmasq.conf"
	echo "$name A" >>"$T_TMP/queries.txt"
done

# dnsmasq: authoritative-only for these names, no upstream, no cache games.
dm_port=$(free_port)
dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
	--listen-address=127.0.0.1 --port="$dm_port" --conf-file="$T_TMP/dnsmasq.conf" \
	--pid-file= --user="$(id -un)" --log-facility="$T_TMP/dnsmasq.log" &
t_track $!

# The circuit dns element with the same records.
start_server
P=/$SERVER_ID/bench
"$CIRCUIT_BIN" -d "$SERVER_URL" mkdns "$P" 127.0.0.1:0
"$CIRCUIT_BIN" -d "$SERVER_URL" load "$P" <"$T_TMP/records.txt" >/dev/null
addr=$("$CIRCUIT_BIN" -d "$SERVER_URL" peek "$P" | jq -r .Address)
el_port=${addr##*:}

# Both must give the same answer before they are compared.
for port in "$dm_port" "$el_port"; do
	for _ in $(seq 1 50); do
		got=$(dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 host777.bench.example A 2>/dev/null || true)
		[ "$got" = "10.0.3.9" ] && break
		sleep 0.1
	done
	[ "$got" = "10.0.3.9" ] || fail "server on port $port answers '$got'"
done

run() { # run NAME PORT
	dnsperf -s 127.0.0.1 -p "$2" -d "$T_TMP/queries.txt" "${FLAGS[@]}" >"$T_TMP/$1.perf" 2>&1 ||
		{ cat "$T_TMP/$1.perf"; fail "dnsperf against $1 failed"; }
}
field() { sed -n "s/^ *$2: *\([0-9.]*\).*/\1/p" "$T_TMP/$1.perf" | head -n1; }

# A-B-B-A order, so that a drift in the machine's load (it may be shared)
# weighs on both servers alike; each figure is the mean of its two runs.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run dnsmasq1 "$dm_port"
run circuit1 "$el_port"
run circuit2 "$el_port"
run dnsmasq2 "$dm_port"

rows="" dm_qps=0 el_qps=0 dm_lost=0 el_lost=0
for r in dnsmasq1 circuit1 circuit2 dnsmasq2; do
	qps=$(field $r "Queries per second") lost=$(field $r "Queries lost") done_=$(field $r "Queries completed")
	case $r in
	dnsmasq*) label="dnsmasq $(dnsmasq --version | head -n1 | awk '{print $3}')"
		dm_qps=$(echo "$dm_qps + $qps / 2" | bc -l) dm_lost=$((dm_lost + lost)) ;;
	circuit*) label="circuit dns element"
		el_qps=$(echo "$el_qps + $qps / 2" | bc -l) el_lost=$((el_lost + lost)) ;;
	esac
	rows+="| ${r: -1} | $label | $done_ | $lost | $(printf '%.0f' "$qps") |"$'\n'
done
ratio=$(echo "scale=2; $el_qps / $dm_qps" | bc)
verdict="meets the bar"
if [ "$(echo "$ratio < 1.0" | bc)" = 1 ] || [ "$el_lost" != 0 ]; then verdict="BELOW the bar"; fi

out="$T_TMP/dns.md"
{
	echo "dnsperf $(dnsperf -h 2>&1 | sed -n "s/^Version \([0-9.]*\).*/\1/p" | head -n1)," \
		"${SECONDS_RUN} s per run, runs in the order dnsmasq, element, element, dnsmasq," \
		"same flags: \`dnsperf ${FLAGS[*]}\`; $N distinct A queries in a loop, UDP on 127.0.0.1."
	echo "Both serve the same $N A records (dnsmasq: \`--host-record\`; the element: \`circuit load\`)."
	echo "Load average when the benchmark started: $load_before (the machine may be shared)."
	echo
	echo "| run | server | queries completed | lost | queries/s |"
	echo "|---|---|---:|---:|---:|"
	printf '%s' "$rows"
	echo
	printf 'Mean queries/s: dnsmasq %.0f, element %.0f. ' "$dm_qps" "$el_qps"
	echo "Ratio (element / dnsmasq): **$ratio**, element lost $el_lost ($verdict: at least 1.0 with 0 lost)."
} >"$out"
cat "$out"
bash "$here/record.sh" dns "$out"
