# Warnings, sanitizers and the compiler cache, applied through the `confide_options` interface
# target that every Confide target links (generated protobuf code does not).
find_program(CONFIDE_CCACHE ccache)
if(CONFIDE_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CONFIDE_CCACHE})
endif()

add_library(confide_options INTERFACE)
target_compile_options(confide_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(CONFIDE_WERROR)
  target_compile_options(confide_options INTERFACE -Werror)
endif()
# A unity build (CMAKE_UNITY_BUILD, on in every preset but `lint`) compiles a target's sources
# by #including them into a few files, so g++ sees each source's anonymous namespace "in a
# header" and warns about every class or coroutine frame that uses it. Those are not headers:
# the warning means nothing there.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(confide_options INTERFACE -Wno-subobject-linkage)
endif()
# Asio's coroutine machinery trips this g++ 12 false positive in optimised builds.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(confide_options INTERFACE -Wno-maybe-uninitialized -Wno-mismatched-new-delete)
endif()

if(CONFIDE_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND _san -fno-sanitize=function)
  endif()
  add_compile_options(${_san})
  add_link_options(${_san})
endif()

if(CONFIDE_TSAN)
  if(CONFIDE_SANITIZE)
    message(FATAL_ERROR "CONFIDE_TSAN and CONFIDE_SANITIZE cannot be combined")
  endif()
  set(_tsan -fsanitize=thread -fno-omit-frame-pointer)
  add_compile_options(${_tsan})
  add_link_options(${_tsan})
  # Asio's reference counts (e.g. any_io_executor's shared target, holding a strand) drop with
  # fetch_sub(release) and the last owner then acquires with std::atomic_thread_fence, which TSan
  # does not model: an executor freed on one thread after a copy was dropped on another is
  # reported as a race (clang 14 reports it; g++ warns about the fence under -Wtsan).
  # Without std::atomic, Asio counts with boost::detail::atomic_count, whose decrement is an
  # acq_rel read-modify-write that TSan understands. Same behaviour, no suppression needed.
  add_compile_definitions(BOOST_ASIO_DISABLE_STD_ATOMIC)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 warns that it does not model atomic_thread_fence (used inside Asio), which -Werror
    # turns into an error; clang 14 builds cleanly.
    add_compile_options(-Wno-tsan)
  endif()
endif()

# libFuzzer: everything instrumented for coverage, AddressSanitizer and UndefinedBehaviorSanitizer;
# only the fuzz targets link libFuzzer's main (tests/fuzz/CMakeLists.txt).
if(CONFIDE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CONFIDE_FUZZ needs clang (e.g. -DCMAKE_CXX_COMPILER=clang++-14)")
  endif()
  if(CONFIDE_SANITIZE)
    message(FATAL_ERROR "CONFIDE_FUZZ already sanitizes: leave CONFIDE_SANITIZE off")
  endif()
  set(_fuzz -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
            -fno-sanitize=function -fno-omit-frame-pointer)
  add_compile_options(${_fuzz})
  add_link_options(-fsanitize=address,undefined)
endif()
