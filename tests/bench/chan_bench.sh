#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan_bench.sh: runs chan_bench against a fresh circuitd and a private
# redis-server (127.0.0.1, no persistence), then records the table as the
# "chan" section of docs/BENCHMARKS.md. Run through ctest (CIRCUIT_BENCH=ON)
# or by hand: CIRCUIT_BUILD_DIR=/path/to/build tests/bench/chan_bench.sh
# Optional: CHAN_BENCH_COUNTS="COUNT_64 COUNT_32K LAT" (default 20000 5000 2000),
# CHAN_BENCH_RUNS (default 9: this 2-core VM's speed swings from minute to
# minute, and fewer runs gave medians a quarter apart; about 4 minutes).
source "$(dirname "$0")/bench_lib.sh"

bench=$CIRCUIT_BUILD_DIR/tests/bench/chan_bench
[ -x "$bench" ] || fail "$bench is not built"
# Two servers of one cluster: B holds the channels; the clients dial B
# itself (first table), then A (second table, the issue's configuration:
# libcircuit's first call goes through A, the rest straight to B, see
# docs/routing.md), then A with CIRCUIT_DIRECT=0 (third table: A relays
# every call).
start_server --plugins=chan
B_URL=$SERVER_URL
B_ID=$SERVER_ID
start_server --plugins=chan -j "$B_URL"
A_URL=$SERVER_URL
two() { [ "$("$CIRCUIT_BIN" -d "$A_URL" ls / | grep -c '^/X')" = 2 ]; }
wait_until 20 two

# A private Redis on a free loopback port, stopped by PID at exit.
redis_port=0
if command -v redis-server >/dev/null; then
	redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
		--daemonize no --logfile "$T_TMP/redis.log" &
	t_track $!
	ping_redis() { [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ]; }
	wait_until 20 ping_redis
	redis_version=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')
else
	echo "redis-server not installed: no baseline" >&2
fi

# Servers (both circuitd and redis-server) on CPU 0, the benchmark's client
# threads on CPU 1, alike for both sides: on a 2-core VM the scheduler's
# placement otherwise moved single runs by a third either way.
pin_client=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] && [ -z "${CHAN_BENCH_NO_PIN:-}" ]; then
	for pid in "${T_PIDS[@]}"; do taskset -a -pc 0 "$pid" >/dev/null; done
	pin_client=(taskset -c 1)
	pinned="servers on CPU 0, client threads on CPU 1 (both sides alike)"
else
	pinned="not pinned"
fi

read -r -a counts <<<"${CHAN_BENCH_COUNTS:-20000 5000 2000}"
load=$(cut -d' ' -f1-3 /proc/loadavg)
# Several runs, each circuit beside Redis; each table holds the medians.
# A run measures the three configurations back to back, so that the slow
# and fast spells of a shared machine fall on all three tables alike.
runs=${CHAN_BENCH_RUNS:-9}
one() { # one NAME URL DIRECT RUN: the bench dialed into URL, channels on B
	CIRCUIT_DIRECT=$3 CHAN_BENCH_CHANNEL_SERVER=$B_ID "${pin_client[@]}" "$bench" "$2" \
		"$redis_port" "$T_TMP/$1$4.md" "${counts[@]}" >/dev/null
}
for r in $(seq 1 "$runs"); do
	one same "$B_URL" 1 "$r"
	one routed "$A_URL" 1 "$r"
	one relayed "$A_URL" 0 "$r"
done
for t in same routed relayed; do
	python3 "$here/chan_median.py" "$T_TMP/$t.md" \
		$(for r in $(seq 1 "$runs"); do echo "$T_TMP/$t$r.md"; done) >/dev/null
done
{
	echo "### Clients on the channel's own server"
	echo
	cat "$T_TMP/same.md"
	echo
	echo "### Clients dialed into another server of the cluster (the issue's configuration)"
	echo
	echo "libcircuit's default: each client's first call goes through the server it"
	echo "dialed, the rest straight to the channel's server (docs/routing.md)."
	echo
	cat "$T_TMP/routed.md"
	echo
	echo "### The same, every call relayed by the dialed server (CIRCUIT_DIRECT=0)"
	echo
	cat "$T_TMP/relayed.md"
} >"$T_TMP/chan.md"
cat "$T_TMP/chan.md"
if [ "$redis_port" != 0 ]; then
	sed -i "s/redis-server (Debian's)/redis-server ${redis_version:-} (Debian's)/" "$T_TMP/chan.md"
fi
build=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$CIRCUIT_BUILD_DIR/CMakeCache.txt" 2>/dev/null ||
	true)
cat >>"$T_TMP/chan.md" <<EOT

circuitd and libcircuit: ${build:-RelWithDebInfo (the project default)} build; $pinned.
Load average (1/5/15 min) at start: $load; at end: $(cut -d' ' -f1-3 /proc/loadavg)
($(nproc) cores, shared with other builds and tests).
Relayed by another server every call crosses two connections (client to
A, A to B) instead of one, so with one call at a time per side its rate is
bounded by about half of the direct one; A relays frames as they are (no
buffering beyond the client's window). That is why libcircuit routes a
client's calls straight to the server they are for once it has learned
where that server listens (docs/routing.md).
Where the time goes: a \`send\` is one round trip (the message travels in
the OPEN frame; the REPLY and EOF come back in one write), like RPUSH; a
\`recv\` is one round trip plus the client's acknowledgement (its EOF after
the server's), which BLPOP does not have: that is the price of a message
leaving the channel only once it arrived whole. Frames of a loop turn leave
in one writev; the common REPLY and the request are written by hand.
EOT
bash "$here/record.sh" chan "$T_TMP/chan.md"
