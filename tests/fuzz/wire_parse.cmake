# SPDX-License-Identifier: Apache-2.0
# The reader is compiled into the target itself, so libFuzzer instruments it.
circuit_add_fuzzer(wire_parse
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/wire_parse.c ${CMAKE_SOURCE_DIR}/lib/wire/parse.c
  LIBS circuit_sdk
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/wire_parse)
target_include_directories(wire_parse PRIVATE ${CMAKE_SOURCE_DIR}/lib/wire/include)
