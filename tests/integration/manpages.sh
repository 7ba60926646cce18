#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# manpages.sh - circuit(1) and circuitd(8), generated at build time from the
# programs' tables, say what the programs' own help says: the same commands
# with the same usage and text as `circuit help` (and --help) and `circuit
# help CMD`, the same global flags, the same exit codes, and the same options
# as `circuitd --help`. Each check also runs on a page with one entry taken
# out or changed, which it must reject.
source "$CIRCUIT_TESTLIB"

MAN="$CIRCUIT_BUILD_DIR/man"
for page in circuit.1 circuitd.8; do
	[ -s "$MAN/$page" ] || fail "$MAN/$page was not generated"
	[ -s "$MAN/$page.gz" ] || fail "$MAN/$page.gz was not generated"
	cmp -s <(gzip -dc "$MAN/$page.gz") "$MAN/$page" || fail "$page.gz is not $page"
done

# entries PAGE SECTION: one line per .TP entry of SECTION,
# "TAG<TAB>BODY", in plain text (fonts dropped, escapes resolved, the body's
# lines joined with spaces).
entries() {
	awk -v want="$2" '
		function plain(s) {
			gsub(/\\f[BIRP]/, "", s); gsub(/\\-/, "-", s); gsub(/\\&/, "", s)
			gsub(/\\e/, "\\", s)
			return s
		}
		function flush() { if (tag != "") print tag "\t" body; tag = ""; body = "" }
		/^\.SH / { flush(); sub(/^\.SH /, ""); gsub(/"/, ""); on = ($0 == want); next }
		!on { next }
		/^\.TP/ { flush(); need_tag = 1; next }
		/^\.B / && need_tag { sub(/^\.B /, ""); tag = plain($0); need_tag = 0; next }
		need_tag { tag = plain($0); need_tag = 0; next }
		/^\./ { next }
		tag != "" { body = body (body == "" ? "" : " ") plain($0) }
		END { flush() }
	' "$1"
}

# section_lines TEXT_FILE HEADER: the lines under HEADER up to a blank line.
section_lines() {
	awk -v h="$2" 'index($0, h) == 1 { on = 1; next } /^$/ { on = 0 } on' "$1"
}

"$CIRCUIT_BIN" help >"$T_TMP/help.txt"
"$CIRCUIT_BIN" --help | cmp -s - "$T_TMP/help.txt" || fail "circuit --help is not circuit help"
section_lines "$T_TMP/help.txt" "Commands:" | awk '{print $1}' >"$T_TMP/help.cmds"
section_lines "$T_TMP/help.txt" "Global flags" >"$T_TMP/help.flags"
[ "$(wc -l <"$T_TMP/help.cmds")" -ge 10 ] || fail "circuit help lists too few commands"
[ "$(wc -l <"$T_TMP/help.flags")" -ge 3 ] || fail "circuit help lists too few flags"

# What circuit help CMD says, for every command: "NAME USAGE", the text.
declare -A HELP_USAGE HELP_TEXT HELP_SUMMARY
while read -r name; do
	mapfile -t lines < <("$CIRCUIT_BIN" help "$name")
	usage=${lines[0]#usage: circuit }
	HELP_USAGE[$name]=${usage%"${usage##*[! ]}"}
	HELP_SUMMARY[$name]=${lines[2]}
	text="${lines[*]:2}"
	HELP_TEXT[$name]=$text
done <"$T_TMP/help.cmds"
declare -A HELP_OVERVIEW
while read -r name rest; do HELP_OVERVIEW[$name]="$name $rest"; done \
	< <(section_lines "$T_TMP/help.txt" "Commands:")

# check_circuit PAGE: says what differs first and returns non-zero, if anything does.
check_circuit() {
	local page=$1 name tag body line
	entries "$page" COMMANDS >"$T_TMP/man.cmds"
	if ! diff <(cut -f1 "$T_TMP/man.cmds" | awk '{print $1}') "$T_TMP/help.cmds" \
		>"$T_TMP/d" 2>&1; then
		echo "commands in the man page (<) and in circuit help (>) differ:"
		cat "$T_TMP/d"
		return 1
	fi
	while IFS=$'\t' read -r tag body; do
		name=${tag%% *}
		if [ "$tag" != "${HELP_USAGE[$name]}" ]; then
			echo "$name: circuit help CMD has usage '${HELP_USAGE[$name]}', the man page '$tag'"
			return 1
		fi
		if [ "$body" != "${HELP_TEXT[$name]}" ]; then
			echo "$name: circuit help CMD says '${HELP_TEXT[$name]}', the man page '$body'"
			return 1
		fi
		# The overview line of circuit help ends with the same summary.
		line=${HELP_OVERVIEW[$name]-}
		if [[ $line != *" ${HELP_SUMMARY[$name]}" ]]; then
			echo "$name: circuit help shows '$line', not its summary '${HELP_SUMMARY[$name]}'"
			return 1
		fi
	done <"$T_TMP/man.cmds"

	entries "$page" "GLOBAL FLAGS" >"$T_TMP/man.flags"
	awk '{name = $1; arg = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); print name " " arg "\t" $0}' \
		"$T_TMP/help.flags" >"$T_TMP/help.flags.tsv"
	if ! diff "$T_TMP/man.flags" "$T_TMP/help.flags.tsv" >"$T_TMP/d" 2>&1; then
		echo "global flags in the man page (<) and in circuit help (>) differ:"
		cat "$T_TMP/d"
		return 1
	fi
	# Each flag in the synopsis.
	awk '/^\.SH SYNOPSIS/ {on = 1; next} /^\.SH/ {on = 0} on' "$page" |
		sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' >"$T_TMP/synopsis"
	while IFS=$'\t' read -r tag _; do
		grep -qF "[$tag]" "$T_TMP/synopsis" || {
			echo "the synopsis lacks [$tag]"
			return 1
		}
	done <"$T_TMP/help.flags.tsv"

	# Exit codes: the numbers circuit help names, and no others.
	entries "$page" "EXIT STATUS" | cut -f1 >"$T_TMP/man.exits"
	sed -n '/^Exit codes:/,/^$/p' "$T_TMP/help.txt" | grep -oE '^  [0-9]+  ' |
		grep -oE '[0-9]+' >"$T_TMP/help.exits"
	if ! diff "$T_TMP/man.exits" "$T_TMP/help.exits" >"$T_TMP/d" 2>&1; then
		echo "exit codes in the man page (<) and in circuit help (>) differ:"
		cat "$T_TMP/d"
		return 1
	fi
}

# circuitd --help, Application Options: "SPEC<TAB>DESCRIPTION" per option.
"$CIRCUITD_BIN" --help >"$T_TMP/dhelp.txt"
section_lines "$T_TMP/dhelp.txt" "Application Options:" |
	sed -E 's/^ +//; s/  +/\t/' >"$T_TMP/dhelp.tsv"
[ "$(wc -l <"$T_TMP/dhelp.tsv")" -ge 10 ] || fail "circuitd --help lists too few options"

check_circuitd() {
	entries "$1" OPTIONS >"$T_TMP/man.opts"
	if ! diff "$T_TMP/man.opts" "$T_TMP/dhelp.tsv" >"$T_TMP/d" 2>&1; then
		echo "options in circuitd(8) (<) and in circuitd --help (>) differ:"
		cat "$T_TMP/d"
		return 1
	fi
}

check_circuit "$MAN/circuit.1" || fail "circuit(1) and circuit help disagree"
ok "circuit(1): $(wc -l <"$T_TMP/help.cmds") commands, $(wc -l <"$T_TMP/help.flags") flags and the exit codes as circuit help has them"
check_circuitd "$MAN/circuitd.8" || fail "circuitd(8) and circuitd --help disagree"
ok "circuitd(8): $(wc -l <"$T_TMP/dhelp.tsv") options as circuitd --help has them"

# The checks catch a page that differs: one command, one flag, one option
# dropped, a usage changed.
drop_entry() { # PAGE TAG_PREFIX: the page without the .TP entry whose tag starts so
	DROP="$2" awk '
		BEGIN { t = ENVIRON["DROP"] }
		/^\.TP/ { skip = 0; held = $0; next }
		/^\.SH/ { skip = 0 }
		held != "" { if (index($0, t) == 1) { skip = 1 } else { print held }; held = "" }
		!skip { print }
	' "$1"
}
drop_entry "$MAN/circuit.1" '\fBstderr\fR' >"$T_TMP/bad1.1"
! cmp -s "$T_TMP/bad1.1" "$MAN/circuit.1" || fail "drop_entry did not change circuit.1"
! check_circuit "$T_TMP/bad1.1" >/dev/null || fail "a page without stderr passed"
drop_entry "$MAN/circuit.1" '\fB\-hmac\fR' >"$T_TMP/bad2.1"
! check_circuit "$T_TMP/bad2.1" >/dev/null || fail "a page without -hmac passed"
sed 's/^\\fBls\\fR \[\\-l\]/\\fBls\\fR [\\-a]/' "$MAN/circuit.1" >"$T_TMP/bad3.1"
! cmp -s "$T_TMP/bad3.1" "$MAN/circuit.1" || fail "the sed did not change ls's usage"
! check_circuit "$T_TMP/bad3.1" >/dev/null || fail "a page with another ls usage passed"
drop_entry "$MAN/circuitd.8" '\fB\-\-grace' >"$T_TMP/bad.8"
! cmp -s "$T_TMP/bad.8" "$MAN/circuitd.8" || fail "drop_entry did not change circuitd.8"
! check_circuitd "$T_TMP/bad.8" >/dev/null || fail "a page without --grace passed"
ok "a page missing a command, a flag or an option, or with another usage, is caught"

# The pages render without warnings (when man is installed).
if command -v man >/dev/null; then
	for page in circuit.1 circuitd.8; do
		MANWIDTH=80 man --warnings -l "$MAN/$page" 2>"$T_TMP/warn" >"$T_TMP/rendered"
		[ ! -s "$T_TMP/warn" ] || { cat "$T_TMP/warn" >&2; fail "$page: groff warnings"; }
		grep -q "^NAME" "$T_TMP/rendered" || fail "$page did not render"
	done
	ok "both pages render without groff warnings"
else
	echo "# man is not installed: rendering not checked"
fi

# ELEMENT KINDS: every kind, mk and verb the built plugins describe
# (circuitd --describe-plugins, what `circuit help` reads) is in circuit(1),
# with the original's mkdkr and the subscription's aliases, and no
# mksubscription (it makes only @join and @leave). Before: no plugin verb.
"$CIRCUITD_BIN" --describe-plugins >"$T_TMP/kinds.json"
python3 - "$T_TMP/kinds.json" "$MAN/circuit.1" <<'PY' || fail "circuit(1) does not list the plugins' kinds and verbs"
import json, re, sys
kinds = json.load(open(sys.argv[1]))
page = open(sys.argv[2]).read()
section = page.split(".SH ELEMENT KINDS", 1)[1].split("\n.SH ", 1)[0]
def has(name, usage):
    want = "\\fB%s\\fR %s" % (name.replace("-", "\\-"), usage.replace("-", "\\-"))
    assert want in section, "missing: " + want
for kind, k in kinds.items():
    assert (".SS %s %s" % (kind, k["Version"])) in section, kind
    for op in k["Operations"]:
        has(op["Name"], ("PATH " + op["Args"]).strip())
    for alias in k["Aliases"]:
        has("mk" + alias, "PATH")
for w in ("mkchan", "mkdns", "mkproc", "mkdkr", "mkdocker", "mk@join", "mk@leave"):
    assert ("\\fB%s\\fR" % w) in section, w
assert "mksubscription" not in page
PY
ok "circuit(1) lists every built plugin's kinds and verbs (mkdkr, mk@join, mk@leave; no mksubscription)"
