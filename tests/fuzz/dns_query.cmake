# SPDX-License-Identifier: Apache-2.0
# The dns element's query path (plugins/dns/dns_query.c): packet in, packet out.
if(LDNS_FOUND)
  circuit_add_fuzzer(dns_query
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dns_query.c
            ${CMAKE_SOURCE_DIR}/plugins/dns/dns_store.c
            ${CMAKE_SOURCE_DIR}/plugins/dns/dns_query.c
    LIBS PkgConfig::LDNS PkgConfig::GLIB PkgConfig::JSONGLIB
    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/dns_query)
  target_include_directories(dns_query PRIVATE ${CMAKE_SOURCE_DIR}/plugins/dns)
endif()
