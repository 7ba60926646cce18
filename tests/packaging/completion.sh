#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# completion.sh - packaging/circuit.bash-completion in a plain bash: commands
# and flags as `circuit help` lists them, a command's own flags, signal
# names, and anchor paths and element kinds asked of a live server dialed
# with the -d on the line.
source "$CIRCUIT_TESTLIB"
COMP="$CIRCUIT_SOURCE_DIR/packaging/circuit.bash-completion"
PATH="$(dirname "$CIRCUIT_BIN"):$PATH"
export PATH
[ "$(command -v circuit)" = "$CIRCUIT_BIN" ] || fail "the built circuit is not first on PATH"

# complete WORD...: what completing the last WORD offers, sorted, one a line.
# COMP_LINE/COMP_POINT as bash sets them, and COMP_WORDS split as bash does
# (':' and '=' are words of their own).
complete() {
	local line="$*"
	bash --norc --noprofile -c '
		source "$1"
		COMP_LINE=$2 COMP_POINT=${#2}
		mapfile -t COMP_WORDS < <(printf "%s\n" "$2" | tr " " "\n" | sed "s/[:=]/\n&\n/g" | grep -v "^$")
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_circuit
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMP" "$line"
}
# expect WANT WORD...: the offers, space-separated, must be WANT.
expect() {
	local want=$1 got
	shift
	got=$(complete "$@" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] || fail "completing '$*': got '$got', want '$want'"
}

# Commands: exactly those of circuit help, less the mk<kind>/<verb>
# placeholders, and the verbs of the kinds it lists (with no server here,
# the installed plugins').
circuit help | awk '/^Commands:/ {on = 1; next} /^Element kinds of / {on = 2; next} /^$/ {on = 0}
	(on == 1 || (on == 2 && /^    [^ ]/)) && $1 !~ /</ {print $1}' | sort -u >"$T_TMP/cmds"
grep -qx send "$T_TMP/cmds" || fail "circuit help without a server lists no installed kind's verbs"
[ "$(wc -l <"$T_TMP/cmds")" -ge 10 ] || fail "too few commands in circuit help"
complete circuit "" >"$T_TMP/offered"
diff "$T_TMP/offered" "$T_TMP/cmds" || fail "the commands offered are not circuit help's"
expect "scrub send set signal start stderr stdin stdout stk" circuit s
expect "scrub send set signal start stderr stdin stdout stk" circuit help s
expect "-d -discover -hmac -timeout" circuit -
expect "mkdkr mkdns mkdocker" circuit mkd
expect "mk@join mk@leave" circuit mk@
expect "--depth --json -d -discover -hmac -l -timeout" circuit ls -
expect "-d -discover -hmac -scrub -timeout" circuit mkproc -
expect "CONT HUP INT KILL QUIT STOP TERM USR1 USR2" circuit signal ""
expect "TERM" circuit signal T
expect "" circuit version ""
ok "commands, global flags, command flags and signals"

# Paths and kinds from a live server, dialed with the -d on the line.
start_server
X=$SERVER_ID
echo '{"Path":"/bin/sleep","Args":["60"]}' | c mkproc "/$X/jobs/a" >/dev/null
echo '{"Path":"/bin/sleep","Args":["60"]}' | c mkproc "/$X/jobs/b" >/dev/null
echo '{"Path":"/bin/sleep","Args":["60"]}' | c mkproc "/$X/other" >/dev/null
expect "/$X" circuit -d "$SERVER_URL" ls /
expect "/$X" circuit -d "$SERVER_URL" peek /X
expect "/$X/jobs /$X/other" circuit -d "$SERVER_URL" peek "/$X/"
expect "/$X/jobs" circuit -d "$SERVER_URL" ls "/$X/j"
expect "/$X/jobs/a /$X/jobs/b" circuit -d "$SERVER_URL" scrub "/$X/jobs/"
expect "/$X/jobs/b" circuit signal TERM -d "$SERVER_URL" "/$X/jobs/b"
expect "/$X/jobs/a /$X/jobs/b" circuit "-d=$SERVER_URL" wait "/$X/jobs/"
# The kinds' mk commands and verbs, from the server's plugins (issue 19:
# mk@join and mk@leave, no mksubscription, plugin verbs too).
start_server --plugins=proc,chan,subscription
expect "mk@join mk@leave mkchan mkproc" circuit -d "$SERVER_URL" mk
expect "send" circuit -d "$SERVER_URL" se
expect "recv" circuit -d "$SERVER_URL" help re
expect "close" circuit -d "$SERVER_URL" clo
ok "anchor paths, mk commands and plugin verbs from the server"

# No server: nothing offered, and quickly.
start=$(date +%s)
expect "" circuit -d 127.0.0.1:1 ls /
[ $(($(date +%s) - start)) -le 5 ] || fail "completion with no server took too long"
ok "no server: no paths, no hang"
