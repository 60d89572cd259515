#include "routing/directory.hpp"

#include "common/text.hpp"
#include "protocol/utf8.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <tuple>

namespace confide::routing {
namespace {

using std::chrono::milliseconds;
using sys_ms = date::sys_time<milliseconds>;

constexpr std::array<std::string_view, 7> day_names{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};
constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

outcome<void> invalid(std::string message) {
    return fail(errc::invalid_argument, std::move(message));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::optional<int> parse_day(std::string_view s) {
    const std::string l = lower(s);
    for (std::size_t i = 0; i < day_names.size(); ++i) {
        if (l == day_names[i]) {
            return static_cast<int>(i) + 1;
        }
    }
    return std::nullopt;
}

// "HH:MM" (00:00 .. 24:00) in minutes after midnight.
std::optional<int> parse_clock(std::string_view s) {
    if (s.size() != 5 || s[2] != ':') {
        return std::nullopt;
    }
    int h = 0;
    int m = 0;
    auto [p1, e1] = std::from_chars(s.data(), s.data() + 2, h);
    auto [p2, e2] = std::from_chars(s.data() + 3, s.data() + 5, m);
    if (e1 != std::errc{} || e2 != std::errc{} || p1 != s.data() + 2 || p2 != s.data() + 5 ||
        h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) {
        return std::nullopt;
    }
    return h * 60 + m;
}

std::string clock_text(int minutes) {
    char buf[8];
    const int h = minutes / 60;
    const int m = minutes % 60;
    buf[0] = static_cast<char>('0' + h / 10);
    buf[1] = static_cast<char>('0' + h % 10);
    buf[2] = ':';
    buf[3] = static_cast<char>('0' + m / 10);
    buf[4] = static_cast<char>('0' + m % 10);
    return std::string(buf, 5);
}

const date::time_zone* zone_of(const std::string& name) {
    try {
        return date::locate_zone(name.empty() ? std::string("UTC") : name);
    } catch (const std::exception&) {
        // Validation keeps unknown zones out of storage; should the system's database lose one,
        // UTC is the honest fallback.
        return date::locate_zone("UTC");
    }
}

std::int64_t to_sys_ms(const date::time_zone* zone, date::local_days day, int minute) {
    const auto local = date::local_time<milliseconds>(day) + std::chrono::minutes(minute);
    return zone->to_sys(local, date::choose::earliest).time_since_epoch().count();
}

bool is_tag_char(char c, bool allow_upper) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           (allow_upper && c >= 'A' && c <= 'Z');
}

outcome<void> check_text(std::string_view value, std::string_view field, std::size_t max_bytes,
                         bool allow_newlines) {
    if (value.size() > max_bytes) {
        return invalid(std::string(field) + " is longer than " + std::to_string(max_bytes) +
                       " bytes");
    }
    if (!protocol::is_valid_utf8(value)) {
        return invalid(std::string(field) + " must be valid UTF-8");
    }
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && !(allow_newlines && c == '\n')) || u == 0x7f) {
            return invalid(std::string(field) + " must not contain control characters");
        }
    }
    return {};
}

// A language tag as BCP 47 writes the common ones: a 2-3 letter language, then subtags of 2-8
// letters or digits (en, de, pt-BR, zh-Hant, es-419).
bool is_language_tag(std::string_view s) {
    if (s.empty() || s.size() > profile_limits::max_tag_bytes) {
        return false;
    }
    std::size_t part = 0;
    while (!s.empty()) {
        const auto dash = s.find('-');
        const auto sub = s.substr(0, dash);
        const bool letters = std::all_of(sub.begin(), sub.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        });
        const bool alnum = std::all_of(sub.begin(), sub.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        });
        if (part == 0 ? (!letters || sub.size() < 2 || sub.size() > 3)
                      : (!alnum || sub.size() < 2 || sub.size() > 8)) {
            return false;
        }
        ++part;
        if (dash == std::string_view::npos) {
            break;
        }
        s.remove_prefix(dash + 1);
        if (s.empty()) {
            return false;
        }
    }
    return true;
}

// Whether a specialist speaking `spoken` matches a query for `wanted`: equal ignoring case, or one
// is the other's language with a region or script ("pt" and "pt-BR").
bool language_matches(std::string_view spoken, std::string_view wanted) {
    if (iequals(spoken, wanted)) {
        return true;
    }
    auto prefix_of = [](std::string_view shorter, std::string_view longer) {
        return longer.size() > shorter.size() && longer[shorter.size()] == '-' &&
               iequals(longer.substr(0, shorter.size()), shorter);
    };
    return prefix_of(spoken, wanted) || prefix_of(wanted, spoken);
}

bool matches(const specialist_profile& p, const directory_query& q) {
    if (q.accepting_only && !p.accepting_new_clients) {
        return false;
    }
    if (!q.specialty.empty() &&
        std::none_of(p.specialties.begin(), p.specialties.end(),
                     [&](const std::string& s) { return iequals(s, q.specialty); })) {
        return false;
    }
    if (!q.language.empty() &&
        std::none_of(p.languages.begin(), p.languages.end(),
                     [&](const std::string& l) { return language_matches(l, q.language); })) {
        return false;
    }
    return true;
}

// The listing's order: display name ignoring ASCII case, then id (ids are unique).
std::string sort_key(const specialist_profile& p) {
    std::string k = lower(p.display_name);
    k.push_back('\x1f');
    k.append(p.id);
    return k;
}

std::string to_hex(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size() * 2);
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(digits[u >> 4]);
        out.push_back(digits[u & 0xf]);
    }
    return out;
}

std::optional<std::string> from_hex(std::string_view s) {
    if (s.size() % 2 != 0) {
        return std::nullopt;
    }
    auto value = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    };
    std::string out;
    out.reserve(s.size() / 2);
    for (std::size_t i = 0; i < s.size(); i += 2) {
        const int hi = value(s[i]);
        const int lo = value(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Office hours

bool is_time_zone(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    try {
        return date::locate_zone(std::string(name)) != nullptr;
    } catch (const std::exception&) {
        return false;
    }
}

outcome<std::vector<weekly_hours>> parse_office_hours(std::string_view text) {
    std::vector<weekly_hours> out;
    while (!trim_blanks(text).empty()) {
        const auto sep = text.find_first_of(",;");
        const auto item = trim_blanks(text.substr(0, sep));
        text = sep == std::string_view::npos ? std::string_view() : text.substr(sep + 1);
        if (item.empty()) {
            continue;
        }
        const auto space = item.find_first_of(" \t");
        const auto bad = [&]() -> outcome<std::vector<weekly_hours>> {
            return fail(errc::invalid_argument,
                        "office hours: '" + std::string(item) +
                            "' is not '<day or days> HH:MM-HH:MM' (e.g. mon-fri 09:00-17:00)");
        };
        if (space == std::string_view::npos) {
            return bad();
        }
        const auto days = item.substr(0, space);
        const auto times = trim_blanks(item.substr(space + 1));
        const auto day_dash = days.find('-');
        const auto first = parse_day(days.substr(0, day_dash));
        const auto last =
            day_dash == std::string_view::npos ? first : parse_day(days.substr(day_dash + 1));
        const auto time_dash = times.find('-');
        if (!first || !last || time_dash == std::string_view::npos) {
            return bad();
        }
        const auto start = parse_clock(times.substr(0, time_dash));
        const auto end = parse_clock(times.substr(time_dash + 1));
        if (!start || !end) {
            return bad();
        }
        if (*start >= *end) {
            return fail(errc::invalid_argument,
                        "office hours: '" + std::string(item) +
                            "' ends before it starts (hours past midnight are an item of the "
                            "next day, e.g. mon 20:00-24:00, tue 00:00-02:00)");
        }
        for (int d = *first;; d = d % 7 + 1) {
            out.push_back(weekly_hours{d, *start, *end});
            if (d == *last) {
                break;
            }
        }
    }
    std::sort(out.begin(), out.end(), [](const weekly_hours& a, const weekly_hours& b) {
        return std::tie(a.day, a.start_minute) < std::tie(b.day, b.start_minute);
    });
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].day == out[i - 1].day && out[i].start_minute < out[i - 1].end_minute) {
            return fail(errc::invalid_argument,
                        "office hours: two items overlap on " +
                            std::string(day_names[static_cast<std::size_t>(out[i].day - 1)]));
        }
    }
    return out;
}

std::string format_office_hours(const std::vector<weekly_hours>& hours) {
    std::string out;
    for (const auto& h : hours) {
        if (!out.empty()) {
            out += ", ";
        }
        out += day_names[static_cast<std::size_t>(std::clamp(h.day, 1, 7) - 1)];
        out += ' ';
        out += clock_text(h.start_minute);
        out += '-';
        out += clock_text(h.end_minute);
    }
    return out;
}

std::vector<time_range> office_hours_between(const specialist_profile& p, std::int64_t from_ms,
                                             std::int64_t to_ms) {
    std::vector<time_range> ranges;
    if (p.office_hours.empty() || to_ms <= from_ms) {
        return ranges;
    }
    const auto* zone = zone_of(p.time_zone);
    const auto local_from = zone->to_local(sys_ms(milliseconds(from_ms)));
    const auto local_to = zone->to_local(sys_ms(milliseconds(to_ms)));
    // One day more on each side: an interval of the day before may still run at `from`.
    const auto first_day = date::floor<date::days>(local_from) - date::days(1);
    const auto last_day = date::floor<date::days>(local_to) + date::days(1);
    for (auto d = first_day; d <= last_day; d += date::days(1)) {
        const auto iso = static_cast<int>(date::weekday(d).iso_encoding());
        for (const auto& h : p.office_hours) {
            if (h.day == iso) {
                ranges.push_back(
                    {to_sys_ms(zone, d, h.start_minute), to_sys_ms(zone, d, h.end_minute)});
            }
        }
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const time_range& a, const time_range& b) { return a.start_ms < b.start_ms; });
    std::vector<time_range> merged;
    for (const auto& r : ranges) {
        if (r.end_ms <= r.start_ms) {
            continue;  // swallowed by a daylight-saving change
        }
        if (!merged.empty() && r.start_ms <= merged.back().end_ms) {
            merged.back().end_ms = std::max(merged.back().end_ms, r.end_ms);
        } else {
            merged.push_back(r);
        }
    }
    std::erase_if(merged,
                  [&](const time_range& r) { return r.end_ms <= from_ms || r.start_ms >= to_ms; });
    return merged;
}

availability availability_at(const specialist_profile& p, std::int64_t now_ms) {
    availability a;
    a.server_time_ms = now_ms;
    a.expected_reply_minutes = p.expected_reply_minutes;
    a.has_office_hours = !p.office_hours.empty();
    if (!a.has_office_hours) {
        return a;
    }
    const std::int64_t week_end = now_ms + 7 * day_ms;
    // A day beyond the week, to find the end of an interval that runs past it.
    auto ranges = office_hours_between(p, now_ms, week_end + day_ms);
    a.within_office_hours = false;
    for (const auto& r : ranges) {
        if (r.start_ms <= now_ms && now_ms < r.end_ms) {
            a.within_office_hours = true;
            // Office hours round the clock change nothing within the horizon: no change to show.
            a.changes_at_ms = r.end_ms >= week_end + day_ms ? 0 : r.end_ms;
            break;
        }
        if (r.start_ms > now_ms) {
            a.changes_at_ms = r.start_ms;
            break;
        }
    }
    for (const auto& r : ranges) {
        if (r.start_ms < week_end) {
            a.upcoming_office_hours.push_back(r);
        }
    }
    return a;
}

std::int64_t office_time_after(const specialist_profile& p, std::int64_t start_ms,
                               std::chrono::milliseconds duration) {
    if (p.office_hours.empty()) {
        return start_ms + duration.count();
    }
    std::int64_t remaining = duration.count();
    std::int64_t window_start = start_ms;
    // Valid office hours give some time every week; five weeks cover any reminder delay the
    // configuration allows (at most one week of office time).
    for (int window = 0; window < 5; ++window) {
        const std::int64_t window_end = window_start + 8 * day_ms;
        for (const auto& r : office_hours_between(p, window_start, window_end)) {
            const std::int64_t s = std::max(r.start_ms, window_start);
            const std::int64_t e = std::min(r.end_ms, window_end);
            if (e <= s) {
                continue;
            }
            if (e - s >= remaining) {
                return s + remaining;
            }
            remaining -= e - s;
        }
        window_start = window_end;
    }
    return start_ms + duration.count();
}

// ---------------------------------------------------------------------------------------------
// Entries

outcome<void> validate_profile(const specialist_profile& p) {
    if (!is_valid_id(p.id)) {
        return invalid("id must be 1.." + std::to_string(max_id_bytes) +
                       " characters of A-Z a-z 0-9 . _ : -");
    }
    if (trim_blanks(p.display_name).empty()) {
        return invalid("display name is required");
    }
    if (auto ok = check_text(p.display_name, "display name", profile_limits::max_name_bytes, false);
        !ok) {
        return ok;
    }
    if (auto ok = check_text(p.bio, "bio", profile_limits::max_bio_bytes, true); !ok) {
        return ok;
    }
    if (p.specialties.size() > profile_limits::max_tags ||
        p.languages.size() > profile_limits::max_tags) {
        return invalid("at most " + std::to_string(profile_limits::max_tags) +
                       " specialties and languages each");
    }
    for (const auto& s : p.specialties) {
        if (s.empty() || s.size() > profile_limits::max_tag_bytes ||
            !std::all_of(s.begin(), s.end(), [](char c) { return is_tag_char(c, false); })) {
            return invalid("specialty '" + s + "' must be 1.." +
                           std::to_string(profile_limits::max_tag_bytes) +
                           " characters of a-z 0-9 - (e.g. anxiety, eating-disorders)");
        }
    }
    for (const auto& l : p.languages) {
        if (!is_language_tag(l)) {
            return invalid("language '" + l + "' is not a language tag (e.g. en, de, pt-BR)");
        }
    }
    if (!is_time_zone(p.time_zone)) {
        return invalid("time zone '" + p.time_zone +
                       "' is not in the IANA time-zone database (e.g. Europe/Berlin, UTC)");
    }
    auto reparsed = parse_office_hours(format_office_hours(p.office_hours));
    if (!reparsed || *reparsed != p.office_hours) {
        return invalid("office hours are malformed or overlap");
    }
    if (p.expected_reply_minutes > profile_limits::max_reply_minutes) {
        return invalid("expected reply time is more than 4 weeks");
    }
    if (p.free_consultation_minutes > profile_limits::max_consultation_minutes) {
        return invalid("the free consultation is longer than " +
                       std::to_string(profile_limits::max_consultation_minutes) + " minutes");
    }
    return {};
}

directory_snapshot::directory_snapshot(std::vector<specialist_profile> entries)
    : entries_(std::move(entries)) {
    std::vector<std::pair<std::string, std::size_t>> keys;
    keys.reserve(entries_.size());
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        keys.emplace_back(sort_key(entries_[i]), i);
    }
    std::sort(keys.begin(), keys.end());
    std::vector<specialist_profile> sorted;
    sorted.reserve(entries_.size());
    for (auto& [k, i] : keys) {
        sorted.push_back(std::move(entries_[i]));
    }
    entries_ = std::move(sorted);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        by_id_.emplace(entries_[i].id, i);
    }
}

const specialist_profile* directory_snapshot::find(std::string_view id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &entries_[it->second];
}

awaitable<outcome<std::shared_ptr<const directory_snapshot>>> directory_cache::snapshot() {
    auto v = co_await store_.version();
    if (!v) {
        co_return v.error();
    }
    {
        std::lock_guard lock(mutex_);
        if (snapshot_ && version_ == *v) {
            co_return snapshot_;
        }
    }
    auto loaded = co_await store_.load();
    if (!loaded) {
        co_return loaded.error();
    }
    auto snap = std::make_shared<const directory_snapshot>(std::move(loaded->second));
    std::lock_guard lock(mutex_);
    // Another load may have finished first with a newer version: keep the newest.
    if (!snapshot_ || loaded->first >= version_) {
        version_ = loaded->first;
        snapshot_ = snap;
    }
    co_return snap;
}

outcome<directory_page> page_of(const directory_snapshot& snapshot, const directory_query& q) {
    const auto& all = snapshot.entries();
    std::size_t i = 0;
    if (!q.page_token.empty()) {
        const auto after = from_hex(q.page_token);
        if (!after) {
            return fail(errc::invalid_argument, "page_token is not one this server handed out");
        }
        i = static_cast<std::size_t>(std::partition_point(all.begin(), all.end(),
                                                          [&](const specialist_profile& p) {
                                                              return sort_key(p) <= *after;
                                                          }) -
                                     all.begin());
    }
    directory_page page;
    for (; i < all.size(); ++i) {
        if (!matches(all[i], q)) {
            continue;
        }
        if (page.entries.size() == q.limit) {
            page.next_page_token = to_hex(sort_key(*page.entries.back()));
            break;
        }
        page.entries.push_back(&all[i]);
    }
    return page;
}

std::uint64_t median_of(std::vector<std::uint64_t>& samples) {
    if (samples.empty()) {
        return 0;
    }
    const auto mid = samples.size() / 2;
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(mid),
                     samples.end());
    const std::uint64_t upper = samples[mid];
    if (samples.size() % 2 == 1) {
        return upper;
    }
    const std::uint64_t lower_mid =
        *std::max_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(mid));
    return lower_mid + (upper - lower_mid) / 2;
}

}  // namespace confide::routing
