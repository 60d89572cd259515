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
