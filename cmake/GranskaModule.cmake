# granska_module(<name> [DEPS <targets>...] [PRIVATE_DEPS <targets>...] [TEST_DEPS <targets>...] [SUBDIRS <dirs>...])
#
# Makes the library granska_<name> from the folder's *.cpp and detail/*.cpp (without *_test.cpp, *_benchmark.cpp);
# a subfolder with its own CMakeLists.txt is a module of its own. Also makes,
# when tests are on, the test binary granska_<name>_tests from the *_test.cpp files beside them.
# DEPS are public (they appear in the module's headers); PRIVATE_DEPS are used by the sources only.
# SUBDIRS are folders whose sources belong to this same target (e.g. detect's statistical/, rules/, ml/).
function(granska_module name)
    cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS;TEST_DEPS;SUBDIRS" ${ARGN})
    set(dir "${CMAKE_CURRENT_SOURCE_DIR}")
    set(source_globs "${dir}/*.cpp" "${dir}/detail/*.cpp")
    foreach(sub IN LISTS ARG_SUBDIRS)
        list(APPEND source_globs "${dir}/${sub}/*.cpp" "${dir}/${sub}/detail/*.cpp")
    endforeach()
    file(GLOB sources CONFIGURE_DEPENDS ${source_globs})
    set(tests ${sources})
    list(FILTER tests INCLUDE REGEX "_test\\.cpp$")
    list(FILTER sources EXCLUDE REGEX "_(test|benchmark)\\.cpp$")

    set(target granska_${name})
    if(sources)
        add_library(${target} STATIC ${sources})
        target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/src")
        target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} granska_warnings)
    else()
        add_library(${target} INTERFACE)
        target_include_directories(${target} INTERFACE "${PROJECT_SOURCE_DIR}/src")
        target_link_libraries(${target} INTERFACE ${ARG_DEPS})
    endif()
    add_library(granska::${name} ALIAS ${target})

    if(GRANSKA_BUILD_TESTS AND tests)
        add_executable(${target}_tests ${tests})
        target_link_libraries(${target}_tests PRIVATE ${target} ${ARG_PRIVATE_DEPS} ${ARG_TEST_DEPS}
                                                      GTest::gtest GTest::gtest_main granska_warnings)
        gtest_discover_tests(${target}_tests DISCOVERY_MODE PRE_TEST
                             PROPERTIES ENVIRONMENT "GRANSKA_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
    endif()
endfunction()
