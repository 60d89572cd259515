#pragma once
// Key files for key-rotation tests (docs/privacy.md, "Key rotation"): the three files an operator
// goes through when rotating from one key-encryption key to the next.

#include "support/local.hpp"

#include <string>

namespace confide::test {

/// Paths of three key files (chmod 600) in one directory: `old_file` holds k1 (current);
/// `both_file` holds k1 and k2, k2 current (servers restarted onto it wrap new data keys under k2,
/// and `confide-admin keys rotate` rewraps the others); `new_file` holds k2 alone.
struct rotation_key_files {
    std::string old_file;
    std::string both_file;
    std::string new_file;
};

/// Writes `text` to `dir`/`name` with mode 600 (a key file's), and returns its path.
std::string write_key_file(const temp_dir& dir, const std::string& name, const std::string& text);

/// Writes the three files into `dir` (fresh random keys).
rotation_key_files make_rotation_key_files(const temp_dir& dir);

}  // namespace confide::test
