#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The server's peek describes each kind from its plugin's descriptor
# (issue 20, "descriptors feed help"): version, summary, aliases, the mk
# arguments and every operation with its arguments and summary, read from
# the descriptor, not written twice. Before, only the kinds' names were
# listed and the descriptors' version and summaries were read nowhere.
source "$CIRCUIT_TESTLIB"
start_server --plugins=proc,chan,subscription
json() { c peek "/$SERVER_ID" | python3 -c 'import json,sys; j = json.load(sys.stdin); print('"$1"')'; }
[ "$(json 'sorted(j["Kinds"])')" = "['chan', 'proc', 'subscription']" ] || fail "Kinds should list every loaded kind"
[ "$(json 'j["Kinds"]["proc"]["Version"], j["Kinds"]["proc"]["Summary"]')" = "0.1.0 OS processes" ] ||
	fail "proc's version and summary should come from its descriptor"
[ "$(json '[o["Name"] for o in j["Kinds"]["proc"]["Operations"]]')" = "['stdin', 'stdout', 'stderr', 'tail', 'wait', 'signal']" ] ||
	fail "proc's operations, in the descriptor's order"
[ "$(json '[(o["Args"], o["Summary"], o["MinArgs"], o["MaxArgs"]) for o in j["Kinds"]["proc"]["Operations"] if o["Name"] == "signal"][0]')" = \
	"('SIGNAL', 'send a signal to the process group', 1, 1)" ] || fail "signal's usage and summary"
[ "$(json 'j["Kinds"]["proc"]["MakeBody"], [o["Output"] for o in j["Kinds"]["proc"]["Operations"] if o["Name"] == "stdout"][0]')" = "True True" ] ||
	fail "mkproc takes a body and stdout streams output"
[ "$(json 'j["Kinds"]["subscription"]["Aliases"]')" = "['@join', '@leave']" ] || fail "subscription's aliases"
[ "$(json 'j["Kinds"]["chan"]["MakeArgs"]')" = "[-max SIZE] CAP" ] || fail "mkchan's argument usage"
ok "the server's peek describes every kind from its descriptor"
