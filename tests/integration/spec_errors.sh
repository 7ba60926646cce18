#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Spec mistakes (issue 19): mkproc and mkdkr read one dialect (the original
# README's trailing commas accepted by both), and the same mistake gives
# both kinds the same one line, naming the line and column of the character
# at fault and what was expected there, with exit code 2 (a usage error).
# The docker kind runs on the fake engine (tests/plugins/docker), as a spec
# is read before any call to an engine.
. "$CIRCUIT_TESTLIB"

FAKE="$CIRCUIT_SOURCE_DIR/tests/plugins/docker/fake_engine.py"
docker=()
if [ -f "$CIRCUIT_PLUGIN_DIR/docker.so" ]; then
	python3 "$FAKE" "$T_TMP/engine.sock" "$T_TMP/engine.log" 1.44 1.52 29.0.0 &
	t_track $!
	wait_until 10 test -S "$T_TMP/engine.sock"
	docker=(--docker --docker-host "unix://$T_TMP/engine.sock")
fi
start_server "${docker[@]}"
X=$SERVER_ID

# spec_fails KIND TEXT WANT: mk<KIND> of TEXT exits 2 with the one line
# "circuit mk<KIND>: /X.../bad: WANT".
spec_fails() {
	local kind=$1 text=$2 want=$3 rc=0
	printf '%s' "$text" | c "mk$kind" "/$X/bad" >/dev/null 2>"$T_TMP/err" || rc=$?
	[ "$rc" = 2 ] || { cat "$T_TMP/err" >&2; fail "mk$kind of '$text' exited $rc, wanted 2"; }
	[ "$(cat "$T_TMP/err")" = "circuit mk$kind: /$X/bad: $want" ] ||
		fail "mk$kind of '$text' said: $(cat "$T_TMP/err"); wanted: $want"
}

# The same mistakes for both kinds: TEXT and what follows "... is not
# valid JSON: " (proc's and docker's alike).
mistakes=(
	'{Path:"/bin/ls"}'
	'line 1, column 2: expected a quoted key (like "Path") or }, found Path'
	$'{\n\t"Path": "/bin/ls"\n\t"Args": ["/"]\n}'
	'line 3, column 2: expected , or } after the value of "Path", found the string "Args"'
	'{"Path": "/bin/ls", "Args": ["/"]'
	'line 1, column 34: expected , or } after the value of "Args", found the end of the input'
	"{'Path': '/bin/ls'}"
	"line 1, column 2: expected a quoted key (like \"Path\") or }, found ' (JSON strings take double quotes)"
	$'{\n "Path": "/bin/ls\n}'
	'unterminated string starting at line 2, column 10 (a string ends on its line with ")'
	'{"Path": "/bin/ls"} trailing'
	'line 1, column 21: trailing after the end of the JSON object'
	'{"Args": ["a",, "b"]}'
	'line 1, column 15: expected element 1 of "Args" or ], found ,'
)
kinds=(proc)
[ ${#docker[@]} -gt 0 ] && kinds+=(dkr) || t_skip "no docker plugin built: mkdkr not checked"
for kind in "${kinds[@]}"; do
	what="process spec"
	[ "$kind" = dkr ] && what="container spec"
	for ((i = 0; i < ${#mistakes[@]}; i += 2)); do
		spec_fails "$kind" "${mistakes[i]}" "$what is not valid JSON: ${mistakes[i + 1]}"
	done
	spec_fails "$kind" '' "no $what on standard input (expected JSON like $(
		[ "$kind" = dkr ] && echo '{"Image":"busybox","Path":"/bin/ls","Args":["/"]}' ||
			echo '{"Path":"/bin/ls","Args":["/"]}'))"
	spec_fails "$kind" '["/bin/ls"]' "$what must be a JSON object (like $(
		[ "$kind" = dkr ] && echo '{"Image":"busybox","Path":"/bin/ls","Args":["/"]}' ||
			echo '{"Path":"/bin/ls","Args":["/"]}')), found an array"
	spec_fails "$kind" '{"Path": 5}' "$what: \"Path\" must be a string, found the number 5"
	ok "mk$kind: bad specs name the line, column and what was expected; exit 2"
done
c ls "/$X/..." | grep -q /bad && fail "a refused spec left an element behind"

# The original README's example, trailing commas and all, for both kinds.
printf '{\n\t"Path": "/bin/echo",\n\t"Args": ["hello",],\n}\n' | c mkproc "/$X/readme"
[ "$(c stdout "/$X/readme")" = hello ] || fail "the trailing-comma spec did not run"
ok "mkproc takes the README's trailing commas"
if [ ${#docker[@]} -gt 0 ]; then
	printf '{\n\t"Image": "busybox",\n\t"Path": "/bin/true",\n\t"Args": [],\n}\n' |
		c mkdkr "/$X/dreadme"
	c wait "/$X/dreadme" >/dev/null || fail "the trailing-comma container did not run"
	ok "mkdkr takes the same trailing commas"
fi
