#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string>

namespace confide::log {
namespace {

// Appends `s` as the contents of a JSON string.
void append_escaped(spdlog::memory_buf_t& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                out.push_back('\\');
                out.push_back(static_cast<char>(c));
            } else if (c == '\n') {
                out.append(std::string_view("\\n"));
            } else if (c == '\t') {
                out.append(std::string_view("\\t"));
            } else if (c < 0x20 || c == 0x7f) {
                const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
                out.append(esc, esc + sizeof esc);
            } else {
                out.push_back(static_cast<char>(c));
            }
            ++i;
            continue;
        }
        // A UTF-8 sequence is copied as it is when well-formed; a stray byte becomes U+FFFD.
        std::size_t len = c >= 0xf0 && c <= 0xf4   ? 4
                          : c >= 0xe0              ? 3
                          : c >= 0xc2 && c <= 0xdf ? 2
                                                   : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
        }
        if (ok && len >= 3) {
            const auto c1 = static_cast<unsigned char>(s[i + 1]);
            // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
            ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0) &&
                 !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
        }
        if (ok) {
            out.append(s.data() + i, s.data() + i + len);
            i += len;
        } else {
            out.append(std::string_view("\\ufffd"));
            ++i;
        }
    }
}

void append_field(spdlog::memory_buf_t& out, std::string_view name, std::string_view value) {
    out.push_back(',');
    out.push_back('"');
    out.append(name);
    out.append(std::string_view("\":\""));
    append_escaped(out, value);
    out.push_back('"');
}

// Takes `<name><id><end>` off the front of `msg` and returns the id, or returns empty and leaves
// `msg` alone. An id has no spaces.
std::string_view take_id(std::string_view& msg, std::string_view name, std::string_view end) {
    if (!msg.starts_with(name)) {
        return {};
    }
    const auto stop = msg.find(end, name.size());
    if (stop == std::string_view::npos || stop == name.size() ||
        msg.substr(name.size(), stop - name.size()).find(' ') != std::string_view::npos) {
        return {};
    }
    const auto id = msg.substr(name.size(), stop - name.size());
    msg.remove_prefix(stop + end.size());
    return id;
}

class json_formatter_impl final : public spdlog::formatter {
public:
    explicit json_formatter_impl(std::string node) : node_(std::move(node)) {}

    void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& out) override {
        using namespace std::chrono;
        const auto t = m.time.time_since_epoch();
        const auto secs = duration_cast<seconds>(t);
        const auto millis = duration_cast<milliseconds>(t - secs).count();
        const std::time_t tt = secs.count();
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char stamp[40];
        const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));

        std::string_view msg(m.payload.data(), m.payload.size());
        std::string_view conn = take_id(msg, "conn=", " ");
        std::string_view user;
        if (!conn.empty()) {
            user = take_id(msg, "user=", " ");
            if (user == "-") {
                user = {};  // not authenticated yet
            }
        } else if (conn = take_id(msg, "conn ", ": "); conn.empty()) {
            user = take_id(msg, "user=", " ");
        }

        out.append(std::string_view("{\"time\":\""));
        out.append(std::string_view(stamp));
        out.push_back('"');
        const auto level = spdlog::level::to_string_view(m.level);
        append_field(out, "level", std::string_view(level.data(), level.size()));
        if (!node_.empty()) {
            append_field(out, "node", node_);
        }
        if (!conn.empty()) {
            append_field(out, "conn", conn);
        }
        if (!user.empty()) {
            append_field(out, "user", user);
        }
        append_field(out, "msg", msg);
        out.append(std::string_view("}\n"));
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_formatter_impl>(node_);
    }

private:
    std::string node_;
};

}  // namespace

bool is_valid_level(std::string_view level) noexcept {
    return level == "trace" || level == "debug" || level == "info" || level == "warn" ||
           level == "error" || level == "off";
}

std::unique_ptr<spdlog::formatter> json_formatter(std::string node) {
    return std::make_unique<json_formatter_impl>(std::move(node));
}

void init(std::string_view level, std::string_view format, std::string node) {
    if (!is_valid_level(level)) {
        throw std::invalid_argument("unknown log level '" + std::string(level) + "'");
    }
    if (format != "text" && format != "json") {
        throw std::invalid_argument("unknown log format '" + std::string(format) + "'");
    }
    // stderr, so that stdout stays free for machine-readable output (the listening address).
    std::shared_ptr<spdlog::logger> logger;
    if (format == "json") {
        // No colour codes in what a log collector parses.
        logger = spdlog::stderr_logger_mt("confide");
        logger->set_formatter(json_formatter(std::move(node)));
    } else {
        logger = spdlog::stderr_color_mt("confide");
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace confide::log
