#pragma once
// confide-admin: the operator's commands, grouped by subject: the directory of specialists,
// the keys (generate, rotate), erasure, the audit trail.

#include <iosfwd>
#include <string>
#include <vector>

namespace confide::admin {

/// Runs the command line `args` (without the program name), writing results to `out` and
/// problems to `err`. Returns the exit status: 0 done, 1 refused or failed (the reason on `err`),
/// 2 a usage error. Reads CONFIDE_REDIS and CONFIDE_REDIS_PASSWORD from the environment (the
/// flags win), as confide-server does.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// The --help text.
std::string usage_text();

}  // namespace confide::admin
