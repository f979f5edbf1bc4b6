# Debian 12 packages, each found the way its Debian package supports (CMake config, pkg-config or
# a plain library).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(simdjson 3 REQUIRED)
find_package(spdlog REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(JWT REQUIRED IMPORTED_TARGET libjwt)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)

# CAF 0.17 ships no CMake config and no .pc file.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
add_library(CAF::core UNKNOWN IMPORTED)
set_target_properties(CAF::core PROPERTIES
  IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR}
  INTERFACE_LINK_LIBRARIES Threads::Threads)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(CAF::io UNKNOWN IMPORTED)
set_target_properties(CAF::io PROPERTIES
  IMPORTED_LOCATION ${CAF_IO_LIBRARY}
  INTERFACE_LINK_LIBRARIES CAF::core)

# libhpdf (Haru) ships no pkg-config or CMake file on Debian 12.
find_path(HPDF_INCLUDE_DIR hpdf.h REQUIRED)
find_library(HPDF_LIBRARY NAMES hpdf REQUIRED)
add_library(HPDF::HPDF UNKNOWN IMPORTED)
set_target_properties(HPDF::HPDF PROPERTIES IMPORTED_LOCATION "${HPDF_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${HPDF_INCLUDE_DIR}")

# prometheus-cpp (Debian's prometheus-cpp-dev ships its CMake package).
find_package(prometheus-cpp CONFIG REQUIRED)
