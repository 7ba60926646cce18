#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keyed connections (issue 4), measured against unkeyed in the same run:
# 1. encrypted stream: a process's stdout (cat of a file) read through a
#    keyed server vs an unkeyed one (bar: keyed >= 0.6 of plaintext);
# 2. handshake cost: connections per second (dial, handshake, one peek,
#    close), keyed vs unkeyed.
# Run through ctest (CIRCUIT_BENCH=ON) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/keyed.sh
# CIRCUIT_BENCH_KEYED_MIB (default 1024; only 1024 is recorded),
# CIRCUIT_BENCH_KEYED_CONNS (default 500), CIRCUIT_BENCH_KEYED_RUNS (stream
# runs, each one keyed and one unkeyed read; default 5, the median recorded).
source "$(dirname "$0")/bench_lib.sh"
src=$CIRCUIT_SOURCE_DIR
mib=${CIRCUIT_BENCH_KEYED_MIB:-1024}
conns=${CIRCUIT_BENCH_KEYED_CONNS:-500}
runs=${CIRCUIT_BENCH_KEYED_RUNS:-5}
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 1 ] && [ "$runs" -le 20 ] ||
	fail "CIRCUIT_BENCH_KEYED_RUNS must be 1..20"
bench=$CIRCUIT_BUILD_DIR/tests/bench/keyed_bench
[ -x "$bench" ] || fail "build keyed_bench first"

head -c $((mib * 1024 * 1024)) /dev/urandom >"$T_TMP/data"
bytes=$(stat -c %s "$T_TMP/data")
"$CIRCUIT_BIN" keygen "$T_TMP/key"
chmod 600 "$T_TMP/key"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# One `cat` of the file per run on each server, all waiting on their pipes.
spec="{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/data\"]}"
start_server --plugins=proc
plain=$SERVER_URL
plain_paths=
for r in $(seq 1 "$runs"); do
	echo "$spec" | c mkproc "/$SERVER_ID/cat$r"
	plain_paths+="${plain_paths:+,}/$SERVER_ID/cat$r"
done
start_server --plugins=proc --hmac "$T_TMP/key"
keyed=$SERVER_URL
keyed_paths=
for r in $(seq 1 "$runs"); do
	echo "$spec" | "$CIRCUIT_BIN" -d "$keyed" -hmac "$T_TMP/key" mkproc "/$SERVER_ID/cat$r"
	keyed_paths+="${keyed_paths:+,}/$SERVER_ID/cat$r"
done

"$bench" "$plain" "$keyed" "$T_TMP/key" "$plain_paths" "$keyed_paths" "$bytes" "$conns" \
	>"$T_TMP/figures"
cat "$T_TMP/figures"
fig() { awk -v k="$1" '$1 == k { print $2 }' "$T_TMP/figures"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
sp=$(fig stream_plain | median)
sk=$(fig stream_keyed | median)
cp=$(fig connections_plain)
ck=$(fig connections_keyed)
# Each run's keyed / unkeyed, in run order; the bar takes their median.
run_ratios=$(paste <(fig stream_keyed) <(fig stream_plain) | awk '{ printf "%.2f\n", $1 / $2 }')
sratio=$(echo "$run_ratios" | median | awk '{ printf "%.2f", $1 }')
runs_text=$(echo "$run_ratios" | paste -sd, | sed 's/,/, /g')
cratio=$(awk -v a="$ck" -v b="$cp" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$sratio" 'BEGIN { print (r >= 0.6) ? "met" : "NOT met" }')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cat >"$T_TMP/report.md" <<MD
$mib MiB of a process's stdout (\`cat\` of a file in the page cache) read
through libcircuit from a keyed server (\`--hmac\`, Noise_NNpsk0, ChaCha20-Poly1305)
and from an unkeyed one, and $conns connections each way (dial, handshake,
one peek of the server anchor, close), in one run. The stream is read $runs
times each way, a keyed and an unkeyed read in turn (the order alternating);
the table gives the median MB/s of each side and the median of the runs'
own keyed / unkeyed ratios. Load average at start: $load_start; at end:
$load_end.

| figure | unkeyed | keyed | keyed / unkeyed |
|---|---:|---:|---:|
| stream, MB/s | $sp | $sk | **$sratio** |
| connections per second | $cp | $ck | $cratio |

Bar (stream): keyed at least 0.6 of plaintext: $met (runs: $runs_text).
Unkeyed, the server is the bottleneck (reading the pipe, writing the
socket); keyed, it does the same plus ChaCha20-Poly1305 on every byte (and
the client the same to open it), so the ratio is about the server's
unkeyed cost over that cost plus the cipher's: a faster unkeyed path lowers
it. Both ends encrypt in place into the buffer that is sent (no copy of
the ciphertext).
MD
cat "$T_TMP/report.md"
if [ "$mib" = 1024 ] || [ -n "${CIRCUIT_BENCH_RECORD_SHORT:-}" ]; then
	CIRCUIT_SOURCE_DIR="$src" bash "$src/tests/bench/record.sh" keyed "$T_TMP/report.md"
else
	echo "keyed: a $mib MiB run is not recorded (record 1 GiB runs only)"
fi
