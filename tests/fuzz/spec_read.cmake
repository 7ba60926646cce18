# SPDX-License-Identifier: Apache-2.0
# The spec reader (lib/wire/spec.c) against json-glib's reader (read.c).
circuit_add_fuzzer(spec_read
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/spec_read.c ${CMAKE_SOURCE_DIR}/lib/wire/spec.c ${CMAKE_SOURCE_DIR}/lib/wire/json.c
          ${CMAKE_SOURCE_DIR}/lib/wire/read.c ${CMAKE_SOURCE_DIR}/lib/wire/parse.c
  LIBS circuit_sdk
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/spec_read)
target_include_directories(spec_read PRIVATE ${CMAKE_SOURCE_DIR}/lib/wire/include)
