#pragma once
// The web client's files (clients/web/dist), read once at start-up and served from memory by the
// HTTP phase. Plain types only: no Beast, no Asio.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace confide::net {

/// One file ready to be sent: its bytes and the headers that depend on it.
struct static_file {
    std::string body;
    std::string content_type;  ///< e.g. "text/javascript; charset=utf-8"
    std::string etag;          ///< strong, quoted: "\"<16 hex digits>\"" (FNV-1a of the body)
    std::string cache_control;
};

/// The Content-Security-Policy of every page and file served: scripts, styles and connections
/// (the WebSocket included) from the page's own origin only, no inline script or style, no
/// framing, no plugins, no form posts.
inline constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

/// An immutable set of files keyed by URL path ("/index.html", "/assets/app-3KX2.js").
///
/// Caching: files under /assets/ carry a content hash in their names (the build names them so)
/// and are cached for a year as immutable; everything else (index.html) is revalidated on every
/// use (`no-cache` with an ETag, so a deploy is picked up at the next page load).
///
/// Thread safety: immutable after load(); share it freely.
class static_files {
public:
    /// At most this many files and bytes in a web root: the web client is a few files of a few
    /// hundred KiB; a root pointing at the wrong directory (/, a home) fails fast instead of
    /// reading it all into memory.
    static constexpr std::size_t max_files = 1000;
    static constexpr std::size_t max_total_bytes = 64 * 1024 * 1024;

    /// Reads every regular file under `root`, recursively; names starting with '.' are skipped.
    /// Throws std::runtime_error naming `root` when it is not a readable directory, has no
    /// index.html, or is over max_files or max_total_bytes.
    static std::shared_ptr<const static_files> load(const std::string& root);

    /// Builds a set from memory (URL path -> bytes), for tests. Paths start with '/'.
    static std::shared_ptr<const static_files> from_map(
        const std::map<std::string, std::string, std::less<>>& files);

    /// The file for a request path without its query: "/" means "/index.html". nullptr when
    /// there is none (paths are matched exactly: no decoding, so no way out of the set).
    const static_file* find(std::string_view path) const;

    /// The Content-Type for a file name, by extension; "application/octet-stream" when unknown.
    static std::string_view content_type_of(std::string_view name);

    std::size_t size() const noexcept { return files_.size(); }

private:
    void add(std::string path, std::string body);

    std::map<std::string, static_file, std::less<>> files_;
};

}  // namespace confide::net
