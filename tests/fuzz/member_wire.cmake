# SPDX-License-Identifier: Apache-2.0
# Membership datagrams and push-pull documents (lib/member/member_wire.c),
# decoded, re-encoded and fed to an engine (lib/member/member.c). Both are
# compiled into the target itself, so libFuzzer instruments them.
circuit_add_fuzzer(member_wire
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/member_wire.c ${CMAKE_SOURCE_DIR}/lib/member/member.c
          ${CMAKE_SOURCE_DIR}/lib/member/member_wire.c
  LIBS PkgConfig::GLIB m
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/member_wire)
target_include_directories(member_wire PRIVATE ${CMAKE_SOURCE_DIR}/lib/member/include)
