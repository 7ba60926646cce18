#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# idle.sh (foundation benchmark 1): memory and CPU of an idle circuitd with
# every plugin of the build loaded, and of the circuit-guard helper it
# starts, against two baselines idling alongside in the same window: a
# plain C process (sleep) and a tiny C program linking glib, json-glib,
# libgcrypt and libev (built here with cc). After the idle window it reads
# RssAnon and VmRSS (/proc/PID/status), Pss (/proc/PID/smaps_rollup), CPU
# seconds (utime+stime of /proc/PID/stat, and on-CPU ns of schedstat) and
# CPU % over the window, then records the table as the "idle" section of
# docs/BENCHMARKS.md. Never asserts: it says which bars are met
# (RssAnon <= 2 MiB, VmRSS <= 10 MiB, CPU < 0.1%).
# Run through ctest (CIRCUIT_BENCH=ON) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/idle.sh
# CIRCUIT_BENCH_IDLE_SECONDS shortens the window (default 60; record 60).
source "$(dirname "$0")/bench_lib.sh"

secs=${CIRCUIT_BENCH_IDLE_SECONDS:-60}
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 1 ] && [ "$secs" -le 3600 ] ||
	fail "CIRCUIT_BENCH_IDLE_SECONDS must be 1..3600"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# Every plugin of the build, loaded explicitly so that a broken one fails here.
plugins=()
for so in "$CIRCUIT_PLUGIN_DIR"/*.so; do
	[ -e "$so" ] && plugins+=("$(basename "$so" .so)")
done
[ ${#plugins[@]} -gt 0 ] || fail "no plugins in $CIRCUIT_PLUGIN_DIR"
plugin_list=$(
	IFS=,
	echo "${plugins[*]}"
)

# Baseline 2: idles in ev_run like circuitd, after touching each library.
cat >"$T_TMP/libs_idle.c" <<'EOF'
// SPDX-License-Identifier: Apache-2.0
#include <ev.h>
#include <gcrypt.h>
#include <glib.h>
#include <json-glib/json-glib.h>
static void on_term(struct ev_loop *loop, ev_signal *w, int revents) { ev_break(loop, EVBREAK_ALL); }
int main(void)
{
	if (!gcry_check_version(NULL))
		return 1;
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
	JsonParser *p = json_parser_new();
	if (!json_parser_load_from_data(p, "{\"idle\":true}", -1, NULL))
		return 1;
	struct ev_loop *loop = ev_default_loop(0);
	ev_signal term;
	ev_signal_init(&term, on_term, SIGTERM);
	ev_signal_start(loop, &term);
	ev_run(loop, 0);
	g_object_unref(p);
	g_hash_table_unref(t);
	return 0;
}
EOF
# shellcheck disable=SC2046 # pkg-config's flags are meant to split
cc -O2 -o "$T_TMP/libs_idle" "$T_TMP/libs_idle.c" \
	$(pkg-config --cflags --libs glib-2.0 json-glib-1.0 libgcrypt) -lev ||
	fail "cannot build the glib+json-glib+libgcrypt+libev baseline"

start_server --plugins="$plugin_list"
loaded=$(c peek "/$SERVER_ID" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(",".join(d.get("Plugins", [])) or "none")')
guard_pid=
for _ in $(seq 1 100); do
	guard_pid=$(pgrep -P "$SERVER_PID" -x circuit-guard || true)
	[ -n "$guard_pid" ] && break
	sleep 0.05
done
[ -n "$guard_pid" ] || fail "circuitd started no circuit-guard"

sleep 3600 &
sleep_pid=$!
t_track "$sleep_pid"
"$T_TMP/libs_idle" &
libs_pid=$!
t_track "$libs_pid"
sleep 1 # let every process finish starting before the window opens

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup"; }

names=(circuitd circuit-guard "sleep (plain C)" "glib+json-glib+libgcrypt+libev")
pids=("$SERVER_PID" "$guard_pid" "$sleep_pid" "$libs_pid")
declare -A ns0
for p in "${pids[@]}"; do ns0[$p]=$(cpu_ns "$p"); done
t0=$(date +%s%N)
echo "idle: ${secs}s window with plugins $loaded (circuitd $SERVER_PID, guard $guard_pid)"
sleep "$secs"
t1=$(date +%s%N)
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "process $p died while idle"; done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

out="$T_TMP/idle.md"
{
	echo "circuitd (${build_type:-unknown} build) with every plugin of the build loaded ($loaded), idle"
	echo "for ${secs} s after start, next to two baselines idling in the same window."
	echo "CPU s: utime+stime since start (incl. start-up), at ${hz} Hz; CPU %: on-CPU time"
	echo "(schedstat) over the ${secs} s window. Load average (1/5/15 min) at start: $load_start;"
	echo "at end: $load_end."
	echo
	echo "| process | RssAnon KiB | VmRSS KiB | Pss KiB | CPU s | CPU % |"
	echo "|---|---:|---:|---:|---:|---:|"
} >"$out"
declare -A anon rss
for i in "${!pids[@]}"; do
	p=${pids[$i]}
	anon[$i]=$(status_kb "$p" RssAnon)
	rss[$i]=$(status_kb "$p" VmRSS)
	pss=$(pss_kb "$p")
	ticks=$(cpu_ticks "$p")
	ns1=$(cpu_ns "$p")
	pct=$(awk -v a="${ns0[$p]}" -v b="$ns1" -v w="$((t1 - t0))" 'BEGIN { printf "%.4f", 100 * (b - a) / w }')
	cpus=$(awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
	[ "$i" = 0 ] && d_pct=$pct
	[ "$i" = 1 ] && g_pct=$pct
	echo "| ${names[$i]} | ${anon[$i]} | ${rss[$i]} | $pss | $cpus | $pct |" >>"$out"
done
verdict() { awk -v v="$1" -v lim="$2" -v op="$3" 'BEGIN { ok = op == "<" ? v < lim : v <= lim; print ok ? "met" : "NOT met" }'; }
{
	echo
	echo "Ratios circuitd / glib+json-glib+libgcrypt+libev baseline: RssAnon" \
		"$(awk -v a="${anon[0]}" -v b="${anon[3]}" 'BEGIN { printf "%.2f", a / b }'), VmRSS" \
		"$(awk -v a="${rss[0]}" -v b="${rss[3]}" 'BEGIN { printf "%.2f", a / b }');" \
		"circuitd / sleep: VmRSS $(awk -v a="${rss[0]}" -v b="${rss[2]}" 'BEGIN { printf "%.2f", a / b }')."
	echo
	echo "Bars for circuitd: RssAnon <= 2048 KiB: $(verdict "${anon[0]}" 2048 '<=');" \
		"VmRSS <= 10240 KiB: $(verdict "${rss[0]}" 10240 '<='); CPU < 0.1%: $(verdict "$d_pct" 0.1 '<')." \
		"circuit-guard: RssAnon $(verdict "${anon[1]}" 2048 '<='), VmRSS $(verdict "${rss[1]}" 10240 '<='), CPU $(verdict "$g_pct" 0.1 '<')."
	if awk -v a="$load_start" -v b="$load_end" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > 1 || y[1] > 1) }'; then
		echo
		echo "The machine was shared with other builds and tests (load average above 1)."
	fi
} >>"$out"
cat "$out"
if [ "$secs" -lt 60 ] && [ -z "${CIRCUIT_BENCH_RECORD_SHORT:-}" ]; then
	echo "idle: a ${secs} s window is not recorded (record 60 s runs only)"
else
	bash "$here/record.sh" idle "$out"
fi
