#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# stream.sh (foundation benchmark 3): stdout of `cat FILE` (1 GiB of random
# bytes) through circuit (`circuit mkproc` of /bin/cat FILE, then
# `circuit stdout PATH > /dev/null`) against the same bytes through socat
# over loopback TCP (socat -u FILE TCP:... into socat -u TCP-LISTEN:...
# /dev/null), with -b 262144 and with socat's default 8 KiB buffer. The
# cases alternate, RUNS times each (median reported), after the file has
# been read once into the page cache. One more circuit run through `wc -c`
# checks that every byte arrives. Records the "stream" section of
# docs/BENCHMARKS.md; never asserts: it says whether the bar (circuit at
# least 0.5 of socat -b 262144) is met.
# Run through ctest (CIRCUIT_BENCH=ON) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/stream.sh
# CIRCUIT_BENCH_STREAM_MIB (default 1024; record 1024), CIRCUIT_BENCH_STREAM_RUNS (3).
source "$(dirname "$0")/bench_lib.sh"

mib=${CIRCUIT_BENCH_STREAM_MIB:-1024}
runs=${CIRCUIT_BENCH_STREAM_RUNS:-3}
[[ "$mib" =~ ^[0-9]+$ ]] && [ "$mib" -ge 1 ] && [ "$mib" -le 8192 ] ||
	fail "CIRCUIT_BENCH_STREAM_MIB must be 1..8192"
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 1 ] && [ "$runs" -le 20 ] ||
	fail "CIRCUIT_BENCH_STREAM_RUNS must be 1..20"
command -v socat >/dev/null || fail "socat is not installed (apt-get install -y socat)"
limit=300 # seconds any one transfer may take
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

file="$T_TMP/data"
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$file"
bytes=$(stat -c %s "$file")
cat "$file" >/dev/null # into the page cache, so no run reads the disk

start_server
now() { date +%s%N; }
hz=$(getconf CLK_TCK)
# ticks PID FIELDS: utime+stime ("self") or cutime+cstime ("children") of PID.
ticks() { awk -v f="$2" '{ sub(/^.*\) /, ""); print f == "self" ? $12 + $13 : $14 + $15 }' "/proc/$1/stat"; }
# secs FILE: user+sys seconds of a `time` report written with TIMEFORMAT='%3U %3S'.
secs() { awk '{ printf "%.3f", $1 + $2 }' "$1"; }

# circuit_once N: one transfer to /dev/null. Sets R_NS (elapsed), R_CPU
# (CPU s of cat + circuitd + the CLI) and R_CLI (the CLI's CPU s). No
# subshell, so the EXIT trap sees every process.
circuit_once() {
	local path="/$SERVER_ID/streambench/r$1" d0 k0 t0 t1 TIMEFORMAT='%3U %3S'
	d0=$(ticks "$SERVER_PID" self)
	k0=$(ticks "$SERVER_PID" children)
	t0=$(now)
	printf '{"Path":"/bin/cat","Args":["%s"]}' "$file" | c mkproc "$path"
	{ time timeout "$limit" "$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" stdout "$path" >/dev/null; } \
		2>"$T_TMP/cli.time"
	t1=$(now)
	R_NS=$((t1 - t0))
	# After wait, circuitd has reaped cat: its CPU is in circuitd's children times.
	timeout 30 "$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" wait "$path" >/dev/null ||
		fail "cat at $path failed"
	local d=$(($(ticks "$SERVER_PID" self) - d0)) k=$(($(ticks "$SERVER_PID" children) - k0))
	R_CLI=$(secs "$T_TMP/cli.time")
	R_CPU=$(awk -v d="$d" -v k="$k" -v c="$R_CLI" -v hz="$hz" 'BEGIN { printf "%.2f", (d + k) / hz + c }')
	R_DETAIL="cat $(awk -v k="$k" -v hz="$hz" 'BEGIN { printf "%.2f", k / hz }'), circuitd $(awk -v d="$d" -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }'), CLI $R_CLI"
	c scrub "$path"
}

# untrack PID: PID was reaped; the cleanup must not signal whoever reuses it.
untrack() {
	local keep=() p
	for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	T_PIDS=("${keep[@]}")
}

# socat_once [-b N]: one transfer sender -> receiver over 127.0.0.1. Sets
# R_NS (elapsed) and R_CPU (CPU s of both socat processes).
socat_once() {
	local port spid t0 t1 TIMEFORMAT='%3U %3S'
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	{ time timeout "$limit" socat -u "$@" "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" \
		OPEN:/dev/null,wronly; } 2>"$T_TMP/recv.time" &
	spid=$!
	t_track "$spid"
	for _ in $(seq 1 200); do
		ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.01
	done
	t0=$(now)
	{ time timeout "$limit" socat -u "$@" "OPEN:$file,rdonly" "TCP:127.0.0.1:$port"; } \
		2>"$T_TMP/send.time"
	wait "$spid" || fail "socat receiver failed"
	t1=$(now)
	untrack "$spid"
	R_NS=$((t1 - t0))
	R_CPU=$(awk -v a="$(secs "$T_TMP/send.time")" -v b="$(secs "$T_TMP/recv.time")" 'BEGIN { printf "%.2f", a + b }')
}

# Warm-up, and the check that every byte arrives.
check="/$SERVER_ID/streambench/check"
printf '{"Path":"/bin/cat","Args":["%s"]}' "$file" | c mkproc "$check"
n=$(timeout "$limit" "$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" stdout "$check" | wc -c)
c wait "$check" >/dev/null
c scrub "$check"
[ "$n" = "$bytes" ] || fail "circuit stdout delivered $n bytes of $bytes"

t_circ=() t_s256=() t_sdef=() c_circ=() c_s256=() c_sdef=() detail=()
for i in $(seq 1 "$runs"); do
	circuit_once "$i"
	t_circ+=("$R_NS") c_circ+=("$R_CPU") detail+=("$R_DETAIL")
	socat_once -b 262144
	t_s256+=("$R_NS") c_s256+=("$R_CPU")
	socat_once
	t_sdef+=("$R_NS") c_sdef+=("$R_CPU")
	echo "stream run $i/$runs: circuit ${t_circ[-1]} ns (CPU s: ${detail[-1]})," \
		"socat -b 262144 ${t_s256[-1]} ns, socat default ${t_sdef[-1]} ns"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# median NS...: the median of the elapsed times.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mbs() { awk -v b="$bytes" -v ns="$1" 'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }'; }
all_mbs() { local s="" x; for x in "$@"; do s+="${s:+, }$(mbs "$x")"; done; echo "$s"; }
m_circ=$(median "${t_circ[@]}")
m_s256=$(median "${t_s256[@]}")
m_sdef=$(median "${t_sdef[@]}")
ratio=$(awk -v a="$m_s256" -v b="$m_circ" 'BEGIN { printf "%.2f", a / b }')
ratio_def=$(awk -v a="$m_sdef" -v b="$m_circ" 'BEGIN { printf "%.2f", a / b }')
details=$(
	IFS=';'
	echo "${detail[*]}" | sed 's/;/; /g'
)

out="$T_TMP/stream.md"
{
	echo "$bytes bytes ($mib MiB of random data, in the page cache) each way, $runs runs per case,"
	echo "cases alternating; throughput of the median run (MB = 10^6 bytes), then every run."
	echo "circuit: mkproc /bin/cat FILE, then \`circuit stdout PATH > /dev/null\` (time from mkproc"
	echo "to the end of stdout; one libcircuit stream over 127.0.0.1). socat: \`socat -u [-b N]"
	echo "OPEN:FILE TCP:127.0.0.1:PORT\` into \`socat -u [-b N] TCP-LISTEN:PORT OPEN:/dev/null\`."
	echo "CPU s: user+sys of every process on the path (circuit: cat, circuitd, the CLI; socat:"
	echo "both ends), median run; it does not depend on how busy the machine is, as MB/s does."
	echo "circuitd and circuit: ${build_type:-unknown} build. Load average (1/5/15 min) at start:"
	echo "$load_start; at end: $load_end."
	echo
	echo "| case | MB/s (median) | runs MB/s | CPU s | circuit / case |"
	echo "|---|---:|---:|---:|---:|"
	echo "| circuit stdout | $(mbs "$m_circ") | $(all_mbs "${t_circ[@]}") | $(median "${c_circ[@]}") | 1.00 |"
	echo "| socat -b 262144 (baseline) | $(mbs "$m_s256") | $(all_mbs "${t_s256[@]}") | $(median "${c_s256[@]}") | $ratio |"
	echo "| socat, default 8192-byte buffer | $(mbs "$m_sdef") | $(all_mbs "${t_sdef[@]}") | $(median "${c_sdef[@]}") | $ratio_def |"
	echo
	echo "Ratio circuit / socat -b 262144: **$ratio** (bar >= 0.5:" \
		"$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5 ? "met" : "NOT met") }'))." \
		"CPU s of the circuit runs by process: $details." \
		"A separate run through \`wc -c\` received all $n bytes."
	if awk -v a="$load_start" -v b="$load_end" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > 1 || y[1] > 1) }'; then
		echo
		echo "The machine was shared with other builds and tests (load average above 1)."
	fi
} >"$out"
cat "$out"
if [ "$mib" -lt 1024 ] && [ -z "${CIRCUIT_BENCH_RECORD_SHORT:-}" ]; then
	echo "stream: a $mib MiB run is not recorded (record 1 GiB runs only)"
else
	bash "$here/record.sh" stream "$out"
fi
