#pragma once
// The directory of specialists as the domain sees it: what a valid entry is, office hours in a
// time zone, availability, the listing's filters and pages, and the measured reply time.
//
// Time zones come from the IANA database of the operating system (/usr/share/zoneinfo, Debian's
// tzdata) through Howard Hinnant's date library, the design std::chrono adopted in C++20 (GCC 12's
// library lacks std::chrono::tzdb; moving to it later is a rename).
//
// Thread safety of every function here: safe (pure, apart from the time-zone database, which is
// loaded once, thread-safely).

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "routing/domain.hpp"
#include "routing/ports.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace confide::routing {

// ---------------------------------------------------------------------------------------------
// Office hours and time zones

/// Whether `name` is a time zone of the IANA database ("Europe/Berlin", "UTC").
bool is_time_zone(std::string_view name);

/// Parses office hours written as people write them: comma- or semicolon-separated items of
/// "<days> <HH:MM>-<HH:MM>", where days is one day (mon .. sun) or a range (mon-fri, sat-mon),
/// and 24:00 ends a day; e.g. "mon-fri 09:00-17:00, sat 10:00-12:30". An empty text is no office
/// hours. The result is sorted by day and start; overlapping items are an error.
outcome<std::vector<weekly_hours>> parse_office_hours(std::string_view text);

/// The canonical text of office hours ("mon 09:00-17:00, tue 09:00-17:00"): parse_office_hours
/// reads it back unchanged. Storage keeps this text.
std::string format_office_hours(const std::vector<weekly_hours>& hours);

/// The office hours of `p` that overlap [from_ms, to_ms), as absolute intervals in order,
/// adjacent ones merged (Monday 22:00-24:00 and Tuesday 00:00-02:00 are one interval). Local
/// times that do not exist (a daylight-saving gap) move to the transition.
std::vector<time_range> office_hours_between(const specialist_profile& p, std::int64_t from_ms,
                                             std::int64_t to_ms);

/// Availability of `p` at `now_ms`: within office hours or not, the next change, the office
/// hours of the next 7 days, the stated reply time. (The measured reply time is the caller's.)
availability availability_at(const specialist_profile& p, std::int64_t now_ms);

/// The moment at which `duration` of `p`'s office time has passed since `start_ms` (time outside
/// office hours does not count): when a message written at `start_ms` has waited `duration`
/// "within office hours". Without office hours: start_ms + duration.
std::int64_t office_time_after(const specialist_profile& p, std::int64_t start_ms,
                               std::chrono::milliseconds duration);

// ---------------------------------------------------------------------------------------------
// Entries

/// Limits of a directory entry.
struct profile_limits {
    static constexpr std::size_t max_name_bytes = 100;
    static constexpr std::size_t max_bio_bytes = 2000;
    static constexpr std::size_t max_tags = 20;       ///< specialties, languages
    static constexpr std::size_t max_tag_bytes = 40;  ///< one specialty or language
    static constexpr std::uint32_t max_reply_minutes = 4 * 7 * 24 * 60;
    static constexpr std::uint32_t max_consultation_minutes = 240;
};

/// Checks an entry before it is stored: an id (common/text.hpp), a display name (1..100 bytes of
/// UTF-8, no control characters), specialties (lower-case a-z 0-9 and '-'), language tags
/// (en, de, pt-BR), a bio (UTF-8, at most 2000 bytes), a known time zone, office hours as
/// parse_office_hours leaves them, reply and consultation times in range. invalid_argument naming
/// the field otherwise.
outcome<void> validate_profile(const specialist_profile& p);

/// Every listed specialist, sorted for the listing: by display name (ASCII case ignored), then
/// id. Built by storage, shared read-only.
class directory_snapshot {
public:
    explicit directory_snapshot(std::vector<specialist_profile> entries);
    directory_snapshot(const directory_snapshot&) = delete;
    directory_snapshot& operator=(const directory_snapshot&) = delete;

    const std::vector<specialist_profile>& entries() const noexcept { return entries_; }
    /// The entry of `id`, or null.
    const specialist_profile* find(std::string_view id) const;

private:
    std::vector<specialist_profile> entries_;
    std::unordered_map<std::string_view, std::size_t> by_id_;
};

/// The node's copy of the directory: read again from storage only when its version moved, so a
/// listing costs one small read while the directory stays the same (it changes rarely: an
/// operator's edit).
///
/// Thread safety: safe; snapshot() may run concurrently from any thread.
class directory_cache {
public:
    explicit directory_cache(directory_store& store) : store_(store) {}

    /// The current directory (one version read, and a full load when it changed).
    awaitable<outcome<std::shared_ptr<const directory_snapshot>>> snapshot();

    directory_store& store() noexcept { return store_; }

private:
    directory_store& store_;
    std::mutex mutex_;
    std::uint64_t version_ = 0;
    std::shared_ptr<const directory_snapshot> snapshot_;
};

/// What a listing asks for (see confide.v1.ListSpecialistsRequest).
struct directory_query {
    std::string specialty;  ///< empty: any
    std::string language;   ///< empty: any; "pt" matches "pt-BR"
    bool accepting_only = false;
    std::uint32_t limit = 50;
    std::string page_token;  ///< empty: from the start
};

/// A page of the listing: the entries, and the token of the next page (empty: none).
struct directory_page {
    std::vector<const specialist_profile*> entries;
    std::string next_page_token;
};

/// The page of `snapshot` that `q` asks for. A token that is not one of ours is invalid_argument.
/// The pointers refer into `snapshot`.
outcome<directory_page> page_of(const directory_snapshot& snapshot, const directory_query& q);

/// The median of `samples` (reply times in ms; the mean of the two middle ones for an even
/// count), 0 for none. Reorders `samples`.
std::uint64_t median_of(std::vector<std::uint64_t>& samples);

}  // namespace confide::routing
