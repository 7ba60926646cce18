#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# layers_catches.sh: layers.py passes on the tree, and fails, naming the
# file, on a copy of the tree with a forbidden include planted in it (a core
# header in libcircuit; the router in the transport, which is also a cycle).
set -euo pipefail
src=$CIRCUIT_SOURCE_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$src/tests/arch/layers.py" "$src"

plant() { # FILE INCLUDE EXPECTED...
	local file=$1 include=$2
	shift 2
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree"
	cp -r "$src/core" "$src/lib" "$src/sdk" "$src/cli" "$src/plugins" "$src/docs" "$tmp/tree/"
	echo "#include \"$include\"" >>"$tmp/tree/$file"
	if python3 "$src/tests/arch/layers.py" "$tmp/tree" >"$tmp/out" 2>&1; then
		echo "layers.py accepted $file including $include"
		exit 1
	fi
	for want in "$@"; do
		grep -qF -- "$want" "$tmp/out" || {
			echo "layers.py did not say: $want"
			cat "$tmp/out"
			exit 1
		}
	done
	echo "caught: $(head -1 "$tmp/out")"
}
plant sdk/lib/client.c transport/transport.h \
	'sdk/lib may not depend on core/transport: sdk/lib/client.c includes "transport/transport.h"'
plant core/transport/conn.c router/router.h \
	'core/transport may not depend on core/router' 'a cycle in the tree'
plant plugins/chan/chan.c wire/frame.h 'plugins/chan may not depend on lib/wire'
