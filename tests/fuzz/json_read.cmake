# SPDX-License-Identifier: Apache-2.0
# The one JSON reader (nesting and size limits), compiled into the target.
circuit_add_fuzzer(json_read
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/json_read.c ${CMAKE_SOURCE_DIR}/lib/wire/read.c
          ${CMAKE_SOURCE_DIR}/lib/wire/parse.c
  LIBS circuit_sdk
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/json_read)
target_include_directories(json_read PRIVATE ${CMAKE_SOURCE_DIR}/lib/wire/include)
