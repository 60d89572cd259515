#pragma once
// The chat domain's values: what storage hands to routing, and what routing turns into frames
// (routing/wire.hpp). No protobuf here, so that storage never depends on the wire protocol.
//
// Thread safety: plain values (safe to read concurrently, to copy, to move between threads).

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

/// A user's presence.
struct presence {
    std::string user_id;
    presence_state state = presence_state::offline;
    std::int64_t last_seen_ms = 0;  ///< 0: never seen
    bool connection_lost = false;   ///< offline without a goodbye (after the grace period)
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
};

/// A page of a conversation's messages, newest first.
struct history_page {
    std::vector<message> messages;
    bool more = false;  ///< older messages remain
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
