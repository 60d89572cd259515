#include "support/key_files.hpp"

#include "crypto/key_ring.hpp"
#include "crypto/secret_key.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace confide::test {
namespace {

// The lines of a key file but those starting with `drop`.
std::string without(const std::string& text, const std::string& drop) {
    std::istringstream in(text);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with(drop)) {
            out += line + "\n";
        }
    }
    return out;
}

}  // namespace

std::string write_key_file(const temp_dir& dir, const std::string& name, const std::string& text) {
    const auto path = dir.path() / name;
    std::ofstream(path) << text;
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path.string();
}

rotation_key_files make_rotation_key_files(const temp_dir& dir) {
    const auto old_text = crypto::kek_ring::generate_text("k1");
    const auto k2 = crypto::secret_key::random();
    if (!k2) {
        throw std::runtime_error("no random key for k2");
    }
    const auto both_text = without(old_text, "current") + "kek k2 " + k2->hex() + "\ncurrent k2\n";
    const auto new_text = without(without(both_text, "kek k1"), "current") + "current k2\n";
    return {write_key_file(dir, "old.keys", old_text), write_key_file(dir, "both.keys", both_text),
            write_key_file(dir, "new.keys", new_text)};
}

}  // namespace confide::test
