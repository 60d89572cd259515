#pragma once
// The chat domain's values: what storage hands to routing, and what routing turns into frames
// (routing/wire.hpp). No protobuf here, so that storage never depends on the wire protocol.
//
// Thread safety: plain values (safe to read concurrently, to copy, to move between threads).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confide::routing {

/// Where a conversation stands (see confide.v1.ConversationState).
enum class conversation_state {
    unknown,   ///< not a state storage writes
    inquiry,   ///< opened by the client; both may write
    active,    ///< accepted by the specialist; both may write
    declined,  ///< declined by the specialist; read-only
    closed,    ///< closed by either party; read-only
    expired,   ///< not answered in time; read-only
    erased,    ///< erased by the operator (confide-admin erase): nothing of it left to read
};

/// Why a specialist declined (see confide.v1.DeclineReason): a fixed list.
enum class decline_reason {
    unspecified,
    no_capacity,
    outside_expertise,
    schedule_mismatch,
    language_mismatch,
    other_care_needed,
    other,
};

/// What a party does to a conversation.
enum class conversation_action {
    accept,   ///< specialist, from INQUIRY
    decline,  ///< specialist, from INQUIRY
    close,    ///< either party, from INQUIRY or ACTIVE
};

/// A user's presence as their contacts see it.
enum class presence_state { online, away, offline };

/// What a receipt confirms.
enum class receipt_kind { delivered, read };

/// A stored message.
struct message {
    std::string conversation_id;
    std::uint64_t seq = 0;  ///< gapless per conversation, from 1
    std::string sender_id;
    std::string client_msg_id;
    std::string body;
    std::int64_t server_time_ms = 0;  ///< when it was stored
};

/// An interval of absolute time [start_ms, end_ms), ms since the epoch.
struct time_range {
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    friend bool operator==(const time_range&, const time_range&) = default;
};

/// Office hours on one weekday, in the specialist's time zone: [start_minute, end_minute) after
/// local midnight.
struct weekly_hours {
    int day = 1;  ///< ISO weekday: 1 Monday .. 7 Sunday
    int start_minute = 0;
    int end_minute = 0;
    friend bool operator==(const weekly_hours&, const weekly_hours&) = default;
};

/// A specialist's directory entry, as the operator entered it (confide-admin).
struct specialist_profile {
    std::string id;
    std::string display_name;
    std::vector<std::string> specialties;  ///< lower-case tags
    std::vector<std::string> languages;    ///< language tags (en, de, pt-BR)
    std::string bio;
    std::string time_zone = "UTC";  ///< IANA name of the office hours' zone
    std::vector<weekly_hours> office_hours;
    std::uint32_t expected_reply_minutes = 0;  ///< 0: not stated
    bool accepting_new_clients = true;
    std::uint32_t free_consultation_minutes = 0;  ///< 0: no free initial consultation offered
    std::int64_t updated_ms = 0;
};

/// A specialist's availability at `server_time_ms` (see confide.v1.Availability).
struct availability {
    bool has_office_hours = false;
    bool within_office_hours = true;  ///< also true without office hours (no restriction)
    std::int64_t changes_at_ms = 0;   ///< 0: never
    std::vector<time_range> upcoming_office_hours;
    std::uint32_t expected_reply_minutes = 0;
    std::uint64_t median_first_reply_ms = 0;
    std::uint32_t first_reply_samples = 0;
    std::int64_t server_time_ms = 0;
};

/// How far back a specialist's measured reply time looks.
inline constexpr std::chrono::milliseconds reply_time_window = std::chrono::hours(24 * 30);

/// A user's presence.
struct presence {
    std::string user_id;
    presence_state state = presence_state::offline;
    std::int64_t last_seen_ms = 0;  ///< 0: never seen
    bool connection_lost = false;   ///< offline without a goodbye (after the grace period)
};

/// A listed specialist with their presence and availability now.
struct specialist_listing {
    specialist_profile profile;
    routing::presence presence;
    routing::availability availability;
};

/// A conversation as one of its parties (the viewer) sees it.
struct conversation {
    std::string id;
    std::string client_id;
    std::string specialist_id;
    conversation_state state = conversation_state::unknown;
    bool free_consultation = false;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;  ///< the last message or state change
    std::uint64_t last_seq = 0;   ///< 0: no message yet
    std::uint64_t unread_count = 0;
    std::uint64_t read_seq = 0;              ///< the viewer's read mark
    std::uint64_t other_read_seq = 0;        ///< the other party's read mark
    std::uint64_t other_delivered_seq = 0;   ///< the other party's delivered mark
    std::optional<message> last_message;     ///< when listed
    std::optional<presence> other_presence;  ///< when listed
    /// The specialist's availability, when listed for the client (sent in other_presence).
    std::optional<availability> specialist_availability;
    std::string topic;                        ///< set by the opening inquiry
    std::vector<time_range> preferred_times;  ///< for the initial consultation
    std::int64_t expires_at_ms = 0;  ///< INQUIRY not answered: its expiry; EXPIRED: when it did
    decline_reason declined_because = decline_reason::unspecified;
};

/// A page of a conversation's messages, newest first.
struct history_page {
    std::vector<message> messages;
    bool more = false;  ///< older messages remain
    /// The page reached the oldest message kept and older ones existed: retention deleted them.
    bool trimmed = false;
};

/// The party `user_id` received (or read) every message of the conversation up to `up_to_seq`.
struct receipt {
    std::string conversation_id;
    std::string user_id;
    receipt_kind kind = receipt_kind::delivered;
    std::uint64_t up_to_seq = 0;
};

/// `user_id` is (or stopped) typing in the conversation.
struct typing {
    std::string conversation_id;
    std::string user_id;
    bool active = false;
};

}  // namespace confide::routing
