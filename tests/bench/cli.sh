#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cli.sh (foundation benchmark 4): wall time of one `circuit peek PATH` on a
# proc element against `redis-cli ping` to a private redis-server (both
# small C tools making one round trip over 127.0.0.1), RUNS times each,
# with hyperfine when installed (else a bash loop timed with date +%s%N).
# Reports mean and median and their ratios, records the "cli" section of
# docs/BENCHMARKS.md; never asserts timings.
# Run through ctest (CIRCUIT_BENCH=ON) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/cli.sh
# CIRCUIT_BENCH_CLI_RUNS (default 200).
source "$(dirname "$0")/bench_lib.sh"

runs=${CIRCUIT_BENCH_CLI_RUNS:-200}
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 5 ] && [ "$runs" -le 10000 ] ||
	fail "CIRCUIT_BENCH_CLI_RUNS must be 5..10000"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
	fail "redis-server and redis-cli are needed (apt-get install -y redis-server)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

start_server
path="/$SERVER_ID/clibench"
echo '{"Path":"/bin/sleep","Args":["3600"]}' | c mkproc "$path"
c peek "$path" | grep -q '"Phase" : "running"' || fail "the proc element is not running"

# A private Redis on a free loopback port, no persistence, stopped by PID at exit.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
	--daemonize no --logfile "$T_TMP/redis.log" &
t_track $!
ping_redis() { [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; }
wait_until 20 ping_redis
redis_version=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')

peek_cmd=("$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" peek "$path")
ping_cmd=(redis-cli -h 127.0.0.1 -p "$port" ping)

# Each sample list holds the per-run wall times in seconds, one a line.
if command -v hyperfine >/dev/null; then
	# Two hyperfine runs of half the count, the second in reverse order
	# (peek, ping, ping, peek), so that drifting load falls on both alike.
	half=$(((runs + 1) / 2))
	tool="hyperfine $(hyperfine --version | cut -d' ' -f2) (--shell=none, 10 warm-up runs;"
	tool+=" two passes of --runs $half, the second in reverse order; $((2 * half)) runs each)"
	q() { printf '%q ' "$@"; }
	timeout 600 hyperfine --shell=none --warmup 10 --runs "$half" --style none \
		--export-json "$T_TMP/cli1.json" "$(q "${peek_cmd[@]}")" "$(q "${ping_cmd[@]}")" >/dev/null
	timeout 600 hyperfine --shell=none --warmup 10 --runs "$half" --style none \
		--export-json "$T_TMP/cli2.json" "$(q "${ping_cmd[@]}")" "$(q "${peek_cmd[@]}")" >/dev/null
	python3 - "$T_TMP" <<'PY'
import json, sys
d = sys.argv[1]
a = json.load(open(f"{d}/cli1.json"))["results"]
b = json.load(open(f"{d}/cli2.json"))["results"]
for name, times in (("peek", a[0]["times"] + b[1]["times"]), ("ping", a[1]["times"] + b[0]["times"])):
    with open(f"{d}/{name}.times", "w") as f:
        f.write("".join(f"{t}\n" for t in times))
PY
else
	tool="a bash loop timed with date +%s%N ($runs runs each, alternating, 10 warm-up runs)"
	: >"$T_TMP/peek.times"
	: >"$T_TMP/ping.times"
	deadline=$((SECONDS + 600))
	for i in $(seq -10 "$runs"); do
		[ "$SECONDS" -lt "$deadline" ] || fail "cli loop took over 600 s"
		t0=$(date +%s%N)
		"${peek_cmd[@]}" >/dev/null
		t1=$(date +%s%N)
		"${ping_cmd[@]}" >/dev/null
		t2=$(date +%s%N)
		if [ "$i" -gt 0 ]; then
			echo "$(((t1 - t0)))e-9" >>"$T_TMP/peek.times"
			echo "$(((t2 - t1)))e-9" >>"$T_TMP/ping.times"
		fi
	done
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
c peek "$path" | grep -q '"Phase" : "running"' || fail "the proc element stopped"

# stats FILE: mean median p90 min in ms.
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 * 1000; s += v[NR] } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = v[int(0.9 * NR + 0.999999)]
		printf "%.3f %.3f %.3f %.3f\n", s / NR, m, p, v[1] }'
}
read -r pk_mean pk_med pk_p90 pk_min < <(stats "$T_TMP/peek.times")
read -r pg_mean pg_med pg_p90 pg_min < <(stats "$T_TMP/ping.times")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

out="$T_TMP/cli.md"
{
	echo "Wall time of one CLI invocation making one round trip over 127.0.0.1, measured with"
	echo "$tool. circuit: \`circuit -d URL peek PATH\` on a running proc element (prints the"
	echo "pretty JSON). Baseline: \`redis-cli -h 127.0.0.1 -p PORT ping\` against a private"
	echo "redis-server ${redis_version:-} (Debian's; --save '' --appendonly no). circuit: ${build_type:-unknown}"
	echo "build. Times in ms."
	echo "Load average (1/5/15 min) at start: $load_start; at end: $load_end."
	echo
	echo "| command | mean | median | p90 | min |"
	echo "|---|---:|---:|---:|---:|"
	echo "| circuit peek | $pk_mean | $pk_med | $pk_p90 | $pk_min |"
	echo "| redis-cli ping (baseline) | $pg_mean | $pg_med | $pg_p90 | $pg_min |"
	echo
	echo "Ratio circuit peek / redis-cli ping: mean **$(ratio "$pk_mean" "$pg_mean")**," \
		"median **$(ratio "$pk_med" "$pg_med")** (no bar; report only)."
	if awk -v a="$load_start" -v b="$load_end" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > 1 || y[1] > 1) }'; then
		echo
		echo "The machine was shared with other builds and tests (load average above 1)."
	fi
} >"$out"
cat "$out"
if [ "$runs" -lt 200 ] && [ -z "${CIRCUIT_BENCH_RECORD_SHORT:-}" ]; then
	echo "cli: a $runs-run measurement is not recorded (record 200 runs or more)"
else
	bash "$here/record.sh" cli "$out"
fi
