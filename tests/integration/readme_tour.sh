#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README.md's "A short tour", run verbatim (issue 19): every "    $ " line of
# the section, in order, against fresh servers on 127.0.0.1, and every line
# the README shows after a command checked against what it printed.
#
# The only changes to a command: the README's hosts become 127.0.0.1 on
# free ports (127.0.0.1:11022, 10.0.0.1, 10.0.0.2, each its own server),
# its URLs and server IDs become the real ones once their servers printed
# them, /etc/circuit.key a file of the test's, build/bin/circuitd and
# circuitd the built one, and circuit the built one with -d the first
# server's URL (the default it stands for) when the command has no -d.
# A command exits 0 unless its comment says "exits N:". The lines a command
# prints may come in another order than the README's (server IDs are
# random; ls sorts by them).
source "$CIRCUIT_TESTLIB"
README=$CIRCUIT_SOURCE_DIR/README.md

awk '/^## A short tour/ {on = 1; next} /^## / {on = 0} on && /^    /' "$README" >"$T_TMP/tour"
grep -q '^    \$ ' "$T_TMP/tour" || fail "README.md has no tour commands"

declare -A PORT SUB
for h in 127.0.0.1:11022 10.0.0.1 10.0.0.2; do PORT[$h]=$(free_port); done
DEFAULT_URL=

# subst TEXT: TEXT with the README's URLs, IDs and hosts replaced.
subst() {
	local s=$1 k
	# URLs first (they hold the IDs), then IDs, then hosts.
	for k in "${!SUB[@]}"; do [[ "$k" != circuit://* ]] || s=${s//"$k"/"${SUB[$k]}"}; done
	for k in "${!SUB[@]}"; do [[ "$k" == circuit://* ]] || s=${s//"$k"/"${SUB[$k]}"}; done
	s=${s//127.0.0.1:11022/127.0.0.1:${PORT[127.0.0.1:11022]}}
	for k in 10.0.0.1 10.0.0.2; do
		s=${s//$k:11022/127.0.0.1:${PORT[$k]}}
		s=${s//$k/127.0.0.1:${PORT[$k]}}
	done
	printf '%s' "$s"
}

# The commands with what the README shows after each.
cmds=() outs=()
while IFS= read -r line; do
	line=${line#    }
	if [[ "$line" == '$ '* ]]; then
		cmds+=("${line#\$ }")
		outs+=("")
	else
		[ ${#cmds[@]} -gt 0 ] || fail "README tour: output before any command: $line"
		outs[-1]+="$line"$'\n'
	fi
done <"$T_TMP/tour"

n_servers=0
for i in "${!cmds[@]}"; do
	raw=${cmds[$i]}
	want_out=${outs[$i]}
	cmd=$raw comment=
	if [[ "$cmd" =~ ^(.*[^ ])\ +#\ (.*)$ ]]; then
		cmd=${BASH_REMATCH[1]} comment=${BASH_REMATCH[2]}
	fi
	want_rc=0
	[[ "$comment" =~ ^exits\ ([0-9]+): ]] && want_rc=${BASH_REMATCH[1]}
	bg=false
	if [[ "$cmd" == *' &' ]]; then
		bg=true
		cmd=${cmd% &}
	fi
	cmd=${cmd//\/etc\/circuit.key/$T_TMP/circuit.key}
	if [[ "$cmd" == build/bin/circuitd* ]]; then
		[[ "$cmd" == *' -a '* ]] || cmd="$CIRCUITD_BIN -a 127.0.0.1:11022${cmd#build/bin/circuitd}"
	elif [[ "$cmd" == circuitd* ]]; then
		cmd="$CIRCUITD_BIN${cmd#circuitd}"
	fi
	if [[ "$cmd" =~ (^|\| )circuit\  ]]; then
		dial=
		[[ "$cmd" == *' -d '* ]] || dial="-d $DEFAULT_URL "
		cmd=$(echo "$cmd" | sed -E "s#(^|\\| )circuit #\\1$CIRCUIT_BIN $dial#")
	elif [[ "$cmd" != "$CIRCUITD_BIN"* && "$cmd" != export\ * ]]; then
		fail "README tour: a command this test does not know how to run: $raw"
	fi
	cmd=$(subst "$cmd")
	echo "# $raw"
	echo "  -> $cmd"

	if $bg; then
		# A server: it must print the URL the README shows, in the same
		# shape (host, its PID, an ID); from then on the README's URL and
		# ID stand for the real ones.
		n_servers=$((n_servers + 1))
		out=$T_TMP/server$n_servers.url
		(eval "exec $cmd") >"$out" 2>"$T_TMP/server$n_servers.log" </dev/null &
		pid=$!
		t_track "$pid"
		for _ in $(seq 1 200); do
			grep -q '^circuit://' "$out" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		grep -q '^circuit://' "$out" || {
			cat "$T_TMP/server$n_servers.log" >&2
			fail "'$raw' printed no URL"
		}
		url=$(head -n1 "$out")
		readme_url=${want_out%$'\n'}
		[[ "$readme_url" =~ ^circuit://[0-9.]+:11022/([0-9]+)/(X[0-9a-f]{16})$ ]] ||
			fail "README tour: '$raw' is not followed by a URL circuit://HOST:11022/PID/ID: $readme_url"
		readme_pid=${BASH_REMATCH[1]} readme_id=${BASH_REMATCH[2]}
		id=${url##*/}
		shape=$(subst "$readme_url")
		shape=${shape/\/$readme_pid\/$readme_id//$pid/$id}
		[ "$url" = "$shape" ] || fail "'$raw' printed $url; the README's $readme_url stands for $shape"
		SUB[$readme_url]=$url
		SUB[$readme_id]=$id
		[ -n "$DEFAULT_URL" ] || DEFAULT_URL=$url
		ok "$raw: $url"
		continue
	fi

	if [[ "$cmd" == export\ * ]]; then
		[ -z "$want_out" ] || fail "README tour: output after an export: $want_out"
		eval "$cmd"
		ok "$raw"
		continue
	fi
	want=$(subst "$want_out")
	rc=0
	# ls lists what the servers know of each other: a join may still be
	# on its way, so ls is asked again (up to 10 s) until it agrees.
	for _ in $(seq 1 50); do
		rc=0
		got=$(eval "$cmd" 2>"$T_TMP/err") || rc=$?
		[ -z "$want" ] || [ "$(sort <<<"$got")" = "$(sort <<<"${want%$'\n'}")" ] && break
		[[ "$cmd" == *" ls "* ]] || break
		sleep 0.2
	done
	[ "$rc" = "$want_rc" ] || {
		cat "$T_TMP/err" >&2
		fail "'$raw' exited $rc, wanted $want_rc"
	}
	if [ -n "$want" ]; then
		[ "$(sort <<<"$got")" = "$(sort <<<"${want%$'\n'}")" ] || {
			printf 'wanted:\n%s\ngot:\n%s\n' "$want" "$got" >&2
			fail "'$raw' printed other lines than the README shows"
		}
		ok "$raw: $(echo "$want" | wc -l) line(s) as shown"
	else
		ok "$raw: exit $rc"
	fi
done
[ "$n_servers" -ge 1 ] || fail "the tour started no server"
ok "the README's tour: ${#cmds[@]} commands, $n_servers servers"
