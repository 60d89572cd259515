#pragma once

namespace confide::app {

/// The version of this build (CMake's project version) and the commit it was configured from
/// ("unknown" outside a git checkout).
const char* build_version() noexcept;
const char* build_commit() noexcept;

}  // namespace confide::app
