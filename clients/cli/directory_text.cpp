#include "directory_text.hpp"

#include "cli.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

namespace confide::cli {

namespace {

constexpr std::int64_t minute_ms = 60 * 1000;
constexpr std::int64_t day_ms = 24 * 60 * minute_ms;

std::string local_time(std::int64_t ms, const char* format) {
    const auto t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const auto& p : parts) {
        if (p.empty()) {
            continue;
        }
        if (!out.empty()) {
            out += separator;
        }
        out += p;
    }
    return out;
}

// Every decline reason once: what a specialist types, what JSON says, what the client reads.
struct decline_reason_names_row {
    client::decline_reason reason;
    const char* typed;
    const char* json;
    const char* text;
};

const std::array<decline_reason_names_row, 6> decline_reasons{{
    {client::decline_reason::no_capacity, "no-capacity", "no_capacity",
     "The specialist has no room for new clients at the moment."},
    {client::decline_reason::outside_expertise, "outside-expertise", "outside_expertise",
     "This is outside the specialist's area of expertise."},
    {client::decline_reason::schedule_mismatch, "schedule", "schedule_mismatch",
     "The specialist cannot offer times that suit you."},
    {client::decline_reason::language_mismatch, "language", "language_mismatch",
     "The specialist does not work in your language."},
    {client::decline_reason::other_care_needed, "other-care", "other_care_needed",
     "The specialist thinks another kind of care would support you better."},
    {client::decline_reason::other, "other", "other", "The specialist could not take this on."},
}};

const decline_reason_names_row* row_of(client::decline_reason r) {
    for (const auto& row : decline_reasons) {
        if (row.reason == r) {
            return &row;
        }
    }
    return nullptr;
}

}  // namespace

std::string duration_text(std::int64_t ms) {
    const auto min = static_cast<std::int64_t>(std::llround(static_cast<double>(ms) / 60000.0));
    if (min < 60) {
        return std::to_string(std::max<std::int64_t>(min, 1)) + " min";
    }
    const auto h = static_cast<std::int64_t>(std::llround(static_cast<double>(min) / 60.0));
    return h < 48 ? std::to_string(h) + " h"
                  : std::to_string(
                        static_cast<std::int64_t>(std::llround(static_cast<double>(h) / 24.0))) +
                        " days";
}

std::string when_text(std::int64_t at_ms, std::int64_t now_ms) {
    return local_time(at_ms, at_ms - now_ms < 6 * day_ms ? "%A %H:%M" : "%A %d %B %H:%M");
}

std::string availability_text(const client::availability& a, std::int64_t now_ms) {
    if (!a.has_office_hours) {
        return {};
    }
    // Decided with this clock from the week the server sent, not with the server's verdict,
    // which was true when it was sent.
    for (const auto& r : a.upcoming_office_hours) {
        if (r.start_ms <= now_ms && now_ms < r.end_ms) {
            return "in office hours until " + when_text(r.end_ms, now_ms);
        }
        if (r.start_ms > now_ms) {
            return "away until " + when_text(r.start_ms, now_ms);
        }
    }
    return "away";
}

std::string reply_time_text(const client::availability& a) {
    std::vector<std::string> parts;
    if (a.expected_reply_minutes > 0) {
        parts.push_back(
            "replies within " +
            duration_text(static_cast<std::int64_t>(a.expected_reply_minutes) * minute_ms));
    }
    if (a.first_reply_samples > 0) {
        parts.push_back("median first reply " +
                        duration_text(static_cast<std::int64_t>(a.median_first_reply_ms)) + " (" +
                        std::to_string(a.first_reply_samples) +
                        (a.first_reply_samples == 1 ? " inquiry" : " inquiries") +
                        ", last 30 days)");
    }
    return join(parts, " · ");
}

std::string specialist_text(const client::specialist& s, std::int64_t now_ms,
                            const std::string& indent) {
    std::string offer =
        s.accepting_new_clients ? "accepting new clients" : "not accepting new clients";
    if (s.free_consultation_minutes > 0) {
        offer += " · free " + std::to_string(s.free_consultation_minutes) + "-min consultation";
    }
    std::string first = s.display_name + " (" + s.id + ")";
    const auto details = join({join(s.specialties, ", "), join(s.languages, ", "), offer}, " · ");
    first += " — " + details;

    const char* state = "offline";
    if (s.presence.state == client::presence_state::online) {
        state = "online";
    } else if (s.presence.state == client::presence_state::away) {
        state = "away";
    }
    std::string second = state;
    if (s.presence.availability) {
        second = join({second, availability_text(*s.presence.availability, now_ms),
                       reply_time_text(*s.presence.availability)},
                      " · ");
    }
    std::string out = indent + first + "\n" + indent + "   " + second;
    if (!s.bio.empty()) {
        out += "\n" + indent + "   " + s.bio;
    }
    return out;
}

std::string safety_notice_text(const client::safety_notice& n) {
    return "⚠ " + join({n.text, n.crisis_line}, " ");
}

std::string retention_text(std::uint32_t days) {
    if (days == 0) {
        return "";
    }
    return "Messages are kept for " + std::to_string(days) + (days == 1 ? " day" : " days") +
           ", then deleted from the server";
}

std::string decline_text(client::decline_reason r) {
    const auto* row = row_of(r);
    return row != nullptr ? row->text : "";
}

const char* to_string(client::decline_reason r) noexcept {
    const auto* row = row_of(r);
    return row != nullptr ? row->json : "unspecified";
}

std::optional<client::decline_reason> parse_decline_reason(std::string_view name) {
    for (const auto& row : decline_reasons) {
        if (name == row.typed) {
            return row.reason;
        }
    }
    return std::nullopt;
}

std::string decline_reason_names() {
    std::vector<std::string> names;
    names.reserve(decline_reasons.size());
    for (const auto& row : decline_reasons) {
        names.emplace_back(row.typed);
    }
    return join(names, ", ");
}

std::optional<client::time_range> parse_local_range(std::string_view text) {
    int y = 0, mo = 0, d = 0, h1 = 0, m1 = 0, h2 = 0, m2 = 0;
    int used = 0;
    const std::string s(text);
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d %2d:%2d-%2d:%2d%n", &y, &mo, &d, &h1, &m1, &h2, &m2,
                    &used) != 7 ||
        static_cast<std::size_t>(used) != s.size()) {
        return std::nullopt;
    }
    const int start_min = h1 * 60 + m1, end_min = h2 * 60 + m2;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h1 > 23 || m1 > 59 || m2 > 59 ||
        end_min > 24 * 60 || end_min <= start_min) {
        return std::nullopt;
    }
    // mktime resolves the local zone's offset, daylight saving included, for each end.
    auto at = [&](int minutes) -> std::optional<std::int64_t> {
        std::tm tm{};
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = minutes / 60;
        tm.tm_min = minutes % 60;
        tm.tm_isdst = -1;
        const auto t = std::mktime(&tm);
        if (t == static_cast<std::time_t>(-1) || tm.tm_mday != d) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(t) * 1000;
    };
    const auto start = at(start_min);
    // 24:00 is the next day's midnight (mktime would move tm_mday on; a day of a daylight
    // saving change is an hour off, which a preferred time can afford).
    const auto midnight = at(0);
    const auto end = end_min < 24 * 60 ? at(end_min)
                     : midnight        ? std::optional(*midnight + day_ms)
                                       : std::nullopt;
    if (!start || !end || *end <= *start) {
        return std::nullopt;
    }
    return client::time_range{*start, *end};
}

std::string range_text(const client::time_range& r, std::int64_t now_ms) {
    return when_text(r.start_ms, now_ms) + "–" + local_time(r.end_ms, "%H:%M");
}

}  // namespace confide::cli
