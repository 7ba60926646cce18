#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exports.sh: every function plugin.h declares (CIRCUIT_PLUGIN_EXPORT) is
# defined in circuitd and exported to the plugins it dlopens. circuitd links
# the core as object files, not a static archive the linker could thin; this
# test is what says a new SDK function was not left out.
set -euo pipefail
header=$CIRCUIT_SOURCE_DIR/sdk/include/circuit/plugin.h
circuitd=$CIRCUITD_BIN
declared=$(tr '\n' ' ' <"$header" | grep -oE 'CIRCUIT_PLUGIN_EXPORT [^;{]*\(' |
	grep -oE 'circuit_[a-z0-9_]+ *\($' | tr -d ' (' | grep -v '^circuit_plugin_' | sort -u)
exported=$(nm -D --defined-only "$circuitd" | awk '$2 == "T" { print $3 }' | sort -u)
n=0
missing=0
for fn in $declared circuit_error_quark; do
	n=$((n + 1))
	if ! grep -qx "$fn" <<<"$exported"; then
		echo "exports: plugin.h declares $fn but circuitd does not export it"
		missing=$((missing + 1))
	fi
done
echo "exports: $n functions of plugin.h, $missing missing from circuitd"
[ "$n" -gt 40 ] || { echo "exports: found only $n declarations in $header: the parser is broken"; exit 1; }
[ "$missing" -eq 0 ]
