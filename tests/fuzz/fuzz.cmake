# Included by the top-level CMakeLists.txt when FAILOVERD_FUZZ is ON, before any library is
# declared: every library is built with the sanitizers and libFuzzer's coverage
# instrumentation (-fsanitize=fuzzer-no-link), so the fuzz targets see coverage inside the
# parsers and ASan/UBSan check them. The targets themselves (failoverd_fuzz_targets below) are
# declared at the end of the top-level file, once the libraries exist (cmake_language DEFER).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "FAILOVERD_FUZZ needs clang (libFuzzer): configure with CXX=clang++-14")
endif()

set(FAILOVERD_SANITIZERS address,undefined)
add_compile_options(-fsanitize=fuzzer-no-link,${FAILOVERD_SANITIZERS} -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=${FAILOVERD_SANITIZERS})

# One executable per parser of untrusted input (README.md), linking only the module libraries
# it needs; `fuzz_all` builds every one of them.
function(failoverd_fuzz_target name)
  add_executable(${name} ${FAILOVERD_FUZZ_DIR}/${name}.cpp)
  target_link_libraries(${name} PRIVATE ${ARGN})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  add_dependencies(fuzz_all ${name})
endfunction()

set(FAILOVERD_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
function(failoverd_fuzz_targets)
  add_custom_target(fuzz_all)
  failoverd_fuzz_target(control_protocol_fuzz fod_control)
  failoverd_fuzz_target(config_fuzz fod_config)
  failoverd_fuzz_target(vrrp_decode_fuzz fod_proto)
  failoverd_fuzz_target(udp_envelope_fuzz fod_net)
  failoverd_fuzz_target(cloud_digitalocean_fuzz fod_cloud)
  failoverd_fuzz_target(cloud_hetzner_fuzz fod_cloud)
  failoverd_fuzz_target(cloud_cloudflare_fuzz fod_cloud)
  failoverd_fuzz_target(http_headers_fuzz fod_cloud)
  failoverd_fuzz_target(exec_status_fuzz fod_cloud)
  failoverd_fuzz_target(docker_fuzz fod_health)
  failoverd_fuzz_target(keepalived_import_fuzz fod_importer fod_config)
  failoverd_fuzz_target(link_table_fuzz fod_net)
  failoverd_fuzz_target(metrics_request_fuzz fod_metrics)
endfunction()
cmake_language(DEFER CALL failoverd_fuzz_targets)
