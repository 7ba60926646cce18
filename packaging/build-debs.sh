#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# packaging/build-debs.sh [BUILD_DIR] - builds the Debian packages (circuit,
# libcircuit-dev, python3-circuit, circuit-plugin-KIND) into BUILD_DIR (default build-deb/):
# configured for /usr with Debian's hardening flags, tests not built, then
# cpack -G DEB. Needs dpkg-dev (dpkg-buildflags, dpkg-shlibdeps).
# Extra cmake arguments may follow BUILD_DIR.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-deb}
shift || true
mkdir -p "$build"
build=$(cd "$build" && pwd)
cd "$src"

# What a Debian package build uses: -O2, stack protector, _FORTIFY_SOURCE,
# format checks, relro and bindnow (-Wl,-z,now).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
eval "$(dpkg-buildflags --export=sh)"
export CFLAGS="$CFLAGS $CPPFLAGS" LDFLAGS

cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DBUILD_TESTING=OFF "$@"
cmake --build "$build" -j"${CIRCUIT_JOBS:-2}"
cd "$build"
rm -f ./*.deb
cpack -G DEB
ls "$build"/*.deb
