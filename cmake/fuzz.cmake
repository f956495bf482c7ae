# libFuzzer targets: one executable per tests/fuzz/fuzz_*.c, written to
# <build>/fuzz/. Included from the top CMakeLists.txt when PASSERELLE_FUZZ is
# set, after passerelle_core is defined; configure a build folder of its own
# with CC=clang and -DPASSERELLE_TESTS=OFF (scripts/fuzz does all of it).
#
# passerelle_core itself is compiled with coverage for the fuzzer and with
# AddressSanitizer and UBSan (UBSan findings abort, so that libFuzzer sees
# them as crashes); so is everything linked with it in this build folder.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "PASSERELLE_FUZZ needs clang (configure with CC=clang): "
      "${CMAKE_C_COMPILER_ID} has no libFuzzer")
endif()
if(NOT TARGET passerelle_core)
  message(FATAL_ERROR "cmake/fuzz.cmake must be included after passerelle_core "
      "is defined")
endif()

include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address,undefined")
set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer,address,undefined")
check_c_source_compiles([=[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{ (void)data; (void)len; return 0; }
]=] PA_HAVE_LIBFUZZER)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(NOT PA_HAVE_LIBFUZZER)
  message(FATAL_ERROR "clang cannot link -fsanitize=fuzzer: install "
      "libclang-rt-14-dev (Debian), matching ${CMAKE_C_COMPILER}")
endif()

# -U_FORTIFY_SOURCE: glibc's checking wrappers hide accesses from ASan.
set(PA_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -U_FORTIFY_SOURCE)
# -Wno-error: the gcc builds (build/, build-asan/) are the warning gate for
# server/; clang's own warnings there are shown but do not stop fuzzing.
target_compile_options(passerelle_core PRIVATE -fsanitize=fuzzer-no-link
    ${PA_FUZZ_SAN} -Wno-error)
target_link_options(passerelle_core INTERFACE -fsanitize=address,undefined)

file(GLOB PA_FUZZ_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
add_custom_target(fuzzers)
foreach(src IN LISTS PA_FUZZ_SOURCES)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_compile_options(${name} PRIVATE ${PA_WARNINGS} -fsanitize=fuzzer
      ${PA_FUZZ_SAN})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE passerelle_core)
  target_compile_definitions(${name} PRIVATE
      PASSERELLE_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  set_target_properties(${name} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(fuzzers ${name})
endforeach()
