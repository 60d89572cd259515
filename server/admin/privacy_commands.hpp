#pragma once
// confide-admin's privacy commands: `keys rotate` (store/key_rotation.hpp) and `erase user` /
// `erase conversation` (store/erasure.hpp); docs/privacy.md.

#include "admin/session.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace confide::admin {

/// keys rotate --data-key-file FILE [--batch N] (`rest`: the arguments after "rotate"). Returns
/// the exit status; throws usage_error or command_failed.
int rotate_command(session& s, const std::vector<std::string>& rest, std::ostream& out,
                   std::ostream& err);

/// erase user ID | erase conversation CID [--rewrite-timeout-s S] (`command`: user or
/// conversation; `args`: what follows it). Returns the exit status; throws usage_error or
/// command_failed.
int erase_command(session& s, const std::string& command, const std::vector<std::string>& args,
                  std::ostream& out);

}  // namespace confide::admin
