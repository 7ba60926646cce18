# SPDX-License-Identifier: Apache-2.0
# circuit_add_plugin(KIND SOURCES ... [LIBS ...])
# Builds KIND.so (no "lib" prefix) into build/plugins/ and installs it to
# the plugin directory as its own CPack component.
function(circuit_add_plugin kind)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(plugin_${kind} MODULE ${P_SOURCES})
  set_target_properties(plugin_${kind} PROPERTIES
    PREFIX "" OUTPUT_NAME ${kind}
    LIBRARY_OUTPUT_DIRECTORY ${CIRCUIT_BUILD_PLUGIN_DIR})
  target_link_libraries(plugin_${kind} PRIVATE circuit_sdk ${P_LIBS})
  target_compile_definitions(plugin_${kind} PRIVATE G_LOG_DOMAIN="circuit-${kind}")
  install(TARGETS plugin_${kind} LIBRARY DESTINATION ${CIRCUIT_PLUGIN_INSTALL_DIR}
          COMPONENT plugin-${kind})
  # Every plugin built here (circuit(1)'s ELEMENT KINDS are made from them).
  set_property(GLOBAL APPEND PROPERTY CIRCUIT_PLUGIN_TARGETS plugin_${kind})
endfunction()
