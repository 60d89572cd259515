#include "crypto/key_ring.hpp"

#include "common/check.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace confide::crypto {
namespace {

std::string_view trim(std::string_view s) noexcept {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    while (true) {
        line = trim(line);
        if (line.empty()) {
            return out;
        }
        const auto end = line.find_first_of(" \t");
        out.push_back(line.substr(0, end));
        if (end == std::string_view::npos) {
            return out;
        }
        line.remove_prefix(end);
    }
}

bool all_zero(const secret_key& k) noexcept {
    return std::all_of(k.data(), k.data() + k.size(), [](unsigned char b) { return b == 0; });
}

}  // namespace

kek_ring::kek_ring(std::vector<std::pair<std::string, secret_key>> keks, std::string current_id,
                   const secret_key& fingerprint_key)
    : keks_(std::move(keks)),
      current_id_(std::move(current_id)),
      fingerprint_key_(fingerprint_key) {}

kek_ring kek_ring::parse(std::string_view text, std::string_view source) {
    std::vector<std::pair<std::string, secret_key>> keks;
    std::optional<std::string> current;
    std::optional<secret_key> fingerprint;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto end = text.find_first_of("\n;");
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++line_no;
        if (const auto hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        const auto w = words(line);
        if (w.empty()) {
            continue;
        }
        const auto where = std::string(source) + ":" + std::to_string(line_no) + ": ";
        auto need = [&](std::size_t n, const char* form) {
            if (w.size() != n) {
                throw key_file_error(where + "expected '" + form + "'");
            }
        };
        auto key_of = [&](std::string_view hex) {
            auto k = secret_key::from_hex(hex);
            if (!k) {
                throw key_file_error(where + "a key is 64 hex digits (openssl rand -hex 32)");
            }
            if (all_zero(*k)) {
                throw key_file_error(where + "a key of zero bytes is a placeholder, not a key");
            }
            return *k;
        };
        if (w[0] == "kek") {
            need(3, "kek <id> <64 hex digits>");
            if (!is_valid_key_id(w[1])) {
                throw key_file_error(where + "a key id is 1..32 of A-Z a-z 0-9 . _ : -");
            }
            const bool dup = std::any_of(keks.begin(), keks.end(),
                                         [&](const auto& k) { return k.first == w[1]; });
            if (dup) {
                throw key_file_error(where + "key id '" + std::string(w[1]) + "' appears twice");
            }
            keks.emplace_back(std::string(w[1]), key_of(w[2]));
        } else if (w[0] == "current") {
            need(2, "current <id>");
            if (current) {
                throw key_file_error(where + "a second 'current' line");
            }
            current = std::string(w[1]);
        } else if (w[0] == "fingerprint") {
            need(2, "fingerprint <64 hex digits>");
            if (fingerprint) {
                throw key_file_error(where + "a second 'fingerprint' line");
            }
            fingerprint = key_of(w[1]);
        } else {
            throw key_file_error(where + "unknown statement (kek, current or fingerprint)");
        }
    }
    const std::string src(source);
    if (keks.empty()) {
        throw key_file_error(src + ": no key-encryption key ('kek <id> <64 hex digits>')");
    }
    if (!current) {
        throw key_file_error(src + ": no 'current <id>' line");
    }
    const bool known =
        std::any_of(keks.begin(), keks.end(), [&](const auto& k) { return k.first == *current; });
    if (!known) {
        throw key_file_error(src + ": the current key '" + *current + "' is not in the file");
    }
    if (!fingerprint) {
        throw key_file_error(src + ": no 'fingerprint <64 hex digits>' line");
    }
    return kek_ring(std::move(keks), std::move(*current), *fingerprint);
}

kek_ring kek_ring::load_file(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        throw key_file_error(path.string() + ": " +
                             std::error_code(errno, std::generic_category()).message());
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        throw key_file_error(path.string() +
                             ": group or others may read it; allow the server's user only "
                             "(chmod 600)");
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || in.bad()) {
        throw key_file_error(path.string() + ": cannot be read");
    }
    std::string content = std::move(text).str();
    auto ring = parse(content, path.string());
    std::fill(content.begin(), content.end(), '\0');
    return ring;
}

std::optional<kek_ring> kek_ring::from_environment(const char* variable) {
    const char* value = std::getenv(variable);
    if (value == nullptr || trim(value).empty()) {
        return std::nullopt;
    }
    return parse(value, variable);
}

std::string kek_ring::generate_text(std::string_view kek_id) {
    if (!is_valid_key_id(kek_id)) {
        throw key_file_error("a key id is 1..32 of A-Z a-z 0-9 . _ : -");
    }
    auto kek = secret_key::random();
    auto fingerprint = secret_key::random();
    if (!kek || !fingerprint) {
        throw key_file_error("no randomness available for a new key");
    }
    const std::string id(kek_id);
    return "# Confide data keys (docs/privacy.md). Keep this file readable by the server only.\n"
           "kek " +
           id + " " + kek->hex() + "\ncurrent " + id + "\nfingerprint " + fingerprint->hex() + "\n";
}

const secret_key& kek_ring::current() const noexcept {
    const secret_key* k = find(current_id_);
    CONFIDE_CHECK(k != nullptr);  // parse() refuses a current id that names no key
    return *k;
}

const secret_key* kek_ring::find(std::string_view id) const noexcept {
    for (const auto& [kid, key] : keks_) {
        if (kid == id) {
            return &key;
        }
    }
    return nullptr;
}

std::vector<std::string> kek_ring::ids() const {
    std::vector<std::string> out;
    out.reserve(keks_.size());
    for (const auto& k : keks_) {
        out.push_back(k.first);
    }
    return out;
}

}  // namespace confide::crypto
