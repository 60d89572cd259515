#include "net/static_files.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace confide::net {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view immutable_prefix = "/assets/";

std::string etag_of(std::string_view body) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : body) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (int shift = 60; shift >= 0; shift -= 4) {
        out += hex[(h >> static_cast<unsigned>(shift)) & 0xFU];
    }
    out += '"';
    return out;
}

// Concatenation by appending: GCC 12 at -O3 warns (-Wrestrict, a false positive: GCC bug 105651)
// on `"literal" + std::string&&`, which inserts at the front.
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    (out += ... += parts);
    return out;
}

bool hidden(const fs::path& relative) {
    for (const auto& part : relative) {
        if (part.native().starts_with('.')) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::string_view static_files::content_type_of(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".wasm", "application/wasm"},
    }};
    const auto dot = name.rfind('.');
    if (dot != std::string_view::npos && name.find('/', dot) == std::string_view::npos) {
        const auto ext = name.substr(dot);
        for (const auto& [e, type] : types) {
            if (e == ext) {
                return type;
            }
        }
    }
    return "application/octet-stream";
}

void static_files::add(std::string path, std::string body) {
    static_file f;
    f.content_type = std::string(content_type_of(path));
    f.etag = etag_of(body);
    f.cache_control =
        path.starts_with(immutable_prefix) ? "public, max-age=31536000, immutable" : "no-cache";
    f.body = std::move(body);
    files_.insert_or_assign(std::move(path), std::move(f));
}

std::shared_ptr<const static_files> static_files::load(const std::string& root) {
    auto fail = [&](const std::string& what) {
        throw std::runtime_error(cat("--web-root ", root, ": ", what));
    };
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        fail(ec ? ec.message() : "not a directory");
    }
    auto files = std::make_shared<static_files>();
    std::size_t total = 0;
    fs::recursive_directory_iterator it(root, ec);
    if (ec) {
        fail(ec.message());
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            fail(ec.message());
        }
        const auto relative = it->path().lexically_relative(root);
        if (hidden(relative)) {
            if (it->is_directory(ec)) {
                it.disable_recursion_pending();
            }
            continue;
        }
        if (!it->is_regular_file(ec)) {
            continue;
        }
        if (files->files_.size() >= max_files) {
            fail(cat("more than ", std::to_string(max_files), " files: is this the web client?"));
        }
        std::ifstream in(it->path(), std::ios::binary);
        std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) {
            fail(cat("cannot read ", relative.generic_string()));
        }
        total += body.size();
        if (total > max_total_bytes) {
            fail(cat("more than ", std::to_string(max_total_bytes),
                     " bytes of files: is this the web client?"));
        }
        files->add(cat("/", relative.generic_string()), std::move(body));
    }
    if (files->find("/") == nullptr) {
        fail("no index.html (build the web client: clients/web, npm run build)");
    }
    return files;
}

std::shared_ptr<const static_files> static_files::from_map(
    const std::map<std::string, std::string, std::less<>>& files) {
    auto out = std::make_shared<static_files>();
    for (const auto& [path, body] : files) {
        out->add(path, body);
    }
    return out;
}

const static_file* static_files::find(std::string_view path) const {
    if (path == "/") {
        path = "/index.html";
    }
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
}

}  // namespace confide::net
