# Helpers that keep each module's CMakeLists.txt to a few lines (like leveldb_test()).
#
#   datacube_cc_library(NAME storage_local SRCS a.cc b.cc DEPS datacube_storage
#                       PRIVATE_DEPS yaml-cpp)
#     -> static library `datacube_storage_local`, public include root src/. DEPS are what its
#        headers expose (PUBLIC); PRIVATE_DEPS are used only inside its .cc files.
#   datacube_cc_test(NAME storage_local_test SRCS x_test.cc DEPS datacube_storage_local
#                    LABELS unit)
#     -> gtest executable registered with CTest (one CTest entry per test case).

include(GoogleTest)

set(DATACUBE_SRC_ROOT ${PROJECT_SOURCE_DIR}/src)

function(datacube_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(datacube_${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(datacube_${ARG_NAME} PUBLIC ${DATACUBE_SRC_ROOT})
  target_link_libraries(datacube_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

function(datacube_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${ARG_NAME} PRIVATE ${DATACUBE_SRC_ROOT} ${PROJECT_SOURCE_DIR})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 600
    # One variable only: gtest_discover_tests cannot pass a list through ENVIRONMENT. Sources
    # are found through the DATACUBE_SOURCE_DIR compile definition below, which also holds
    # while tests are listed (parameterized suites are instantiated then).
    ENVIRONMENT "DATACUBE_BIN=$<TARGET_FILE:datacube>")
  target_compile_definitions(${ARG_NAME} PRIVATE DATACUBE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endfunction()
