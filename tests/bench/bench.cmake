# The benchmark programs, included by tests/CMakeLists.txt. Built with the tests, run by hand
# through scripts/bench.sh; never part of ctest.
add_executable(failover_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/failover_bench.cpp)
target_link_libraries(failover_bench PRIVATE fod_core fod_test_harness)
# check_bench links no test harness (no gtest): it uses bench_common.h only.
add_executable(check_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/check_bench.cpp)
target_link_libraries(check_bench PRIVATE fod_health fod_config Threads::Threads)
# node_sim_bench: 10,000 seeded Node-simulator schedules, no daemon, no network.
add_executable(node_sim_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/node_sim_bench.cpp)
target_link_libraries(node_sim_bench PRIVATE fod_sim)

foreach(_bench reserved_ip_bench switchover_bench startup_bench load_bench restart_bench)
  add_executable(${_bench} ${CMAKE_CURRENT_SOURCE_DIR}/bench/${_bench}.cpp)
  target_link_libraries(${_bench} PRIVATE fod_core fod_test_harness nlohmann_json::nlohmann_json
                                          Threads::Threads)
  target_include_directories(${_bench} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  # They run these programs: build them along.
  add_dependencies(${_bench} failoverd failoverctl)
endforeach()
add_dependencies(reserved_ip_bench fake_do_api)
add_dependencies(restart_bench fake_do_api)
# It also sends the failover request itself, with failoverctl's client.
target_link_libraries(switchover_bench PRIVATE fod_control)
