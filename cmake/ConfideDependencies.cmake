# Every dependency comes from Debian 12's packages (scripts/install-deps.sh installs them).
set(Boost_NO_WARN_NEW_VERSIONS ON)
find_package(Boost 1.81...<1.82 REQUIRED CONFIG COMPONENTS json program_options)
find_package(Protobuf REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis>=0.14)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
# Time zones (office hours): Howard Hinnant's date library over the system's tzdata, as C++20's
# std::chrono::tzdb (which GCC 12's library lacks) will be.
find_package(date REQUIRED CONFIG)
if(CONFIDE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# Asio as used everywhere: standalone-free Boost.Asio, no deprecated names, C++20 coroutines.
add_library(confide_asio INTERFACE)
target_link_libraries(confide_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(confide_asio INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
