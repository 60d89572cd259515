#pragma once
// Fakes of routing's ports (routing/ports.hpp) and of the network layer's outbound queue, for unit
// tests of the chat domain: no Redis, no sockets. Each fake records the calls it gets, answers
// from state the test sets up, fails a call on request (fail_next), and can hold calls until the
// test releases them (call_gate), so that races are played out step by step.
//
// Thread safety: none; a test drives everything from one thread (one io_context).

#include "common/asio_types.hpp"
#include "routing/audit.hpp"
#include "routing/connection_handler.hpp"
#include "routing/outbound.hpp"
#include "routing/ports.hpp"

#include "confide/v1/confide.pb.h"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace confide::testing {

namespace v1 = ::confide::v1;

/// Holds the calls made while `hold` is set until release(): a storage call whose answer the
/// test decides when to deliver.
class call_gate {
public:
    bool hold = false;

    /// Completes at once, or (while `hold`) when release() is called.
    awaitable<void> pass();
    /// Lets every held call go on (each completes on its executor's next turn).
    void release();
    /// Calls held now.
    std::size_t held() const noexcept { return held_.size(); }

private:
    std::vector<std::shared_ptr<asio::steady_timer>> held_;
};

/// Failures to answer the next calls of a method with, by method name ("read_events", ...).
class failure_plan {
public:
    /// The next call of `method` fails with `code` (once per call to fail_next).
    void fail_next(const std::string& method, errc code = errc::unavailable);
    /// The next call of `method` throws std::runtime_error (a bug in the store).
    void throw_next(const std::string& method);
    /// The planned failure of this call of `method`, if any (consumed); throws if so planned.
    std::optional<failure> take(const std::string& method);

private:
    std::multimap<std::string, std::optional<errc>> planned_;
};

/// routing::chat_store in memory: each user's stream of events, device cursors, roles, and
/// canned answers for the rest.
class fake_chat_store final : public routing::chat_store {
public:
    struct read_call {
        std::string user_id;
        std::string after_cursor;
        std::uint32_t limit;
        bool check_gap;
    };
    struct ack_call {
        std::string user_id;
        std::string device_id;
        std::string cursor;
        routing::delivered_marks marks;
    };
    struct update_call {
        std::string user_id;
        std::string conversation_id;
        routing::conversation_action action;
        routing::decline_reason reason;
    };
    struct mark_read_call {
        std::string user_id;
        std::string conversation_id;
        std::uint64_t up_to_seq;
    };
    struct history_call {
        std::string user_id;
        std::string conversation_id;
        std::uint64_t before_seq;
        std::uint32_t limit;
    };

    // ---- set up by the test
    std::map<std::string, std::vector<std::shared_ptr<const routing::notice>>> streams;
    std::map<std::pair<std::string, std::string>, std::string> device_cursors;  ///< (user, device)
    std::map<std::string, auth::role> roles;
    /// conversation id -> (client, specialist)
    std::map<std::string, std::pair<std::string, std::string>> parties;
    std::vector<routing::conversation> conversations;  ///< list_conversations' answer
    routing::history_page history_answer;              ///< history's answer
    /// read_events with check_gap answers `reset` (the cursor is gone) while set.
    bool cursor_gone = false;
    /// While set, send_message (for a conversation in `parties`) appends the message to both
    /// parties' streams, as the store does, returns the sender's event, and keeps each party's
    /// notice in `sent_events` for the test to deliver (or not).
    bool sends_append_events = false;
    failure_plan failures;
    call_gate reads;  ///< read_events
    call_gate acks;   ///< ack
    /// send_message's answer, once it stored (its events are in sent_events) or failed: a send
    /// in flight whose notices the test delivers before its reply.
    call_gate send_replies;

    // ---- recorded
    std::vector<read_call> read_calls;
    std::vector<ack_call> ack_calls;
    std::vector<routing::send_command> sends;
    std::vector<routing::inquiry_command> inquiries;
    std::vector<update_call> updates;
    std::vector<mark_read_call> read_marks;
    std::vector<history_call> history_calls;
    std::vector<std::uint32_t> list_limits;
    std::vector<std::pair<std::string, std::string>> saved_cursors;  ///< (device, cursor)
    std::vector<bool> saved_forward_only;                            ///< of each saved cursor
    /// (user, notice) of each party's event of each send, with sends_append_events.
    std::vector<std::pair<std::string, std::shared_ptr<const routing::notice>>> sent_events;

    /// Appends a message event to `user`'s stream (n = its position, cursor "1-<n>") and returns
    /// its notice, as the bus would deliver it.
    std::shared_ptr<const routing::notice> append_message(const std::string& user,
                                                          const std::string& conversation_id,
                                                          std::uint64_t seq,
                                                          const std::string& sender,
                                                          std::string body = "hello");
    /// Appends a conversation event to `user`'s stream.
    std::shared_ptr<const routing::notice> append_conversation(const std::string& user,
                                                               routing::conversation c);

    awaitable<outcome<void>> bind_role(std::string user_id, auth::role r) override;
    awaitable<outcome<routing::send_result>> start_inquiry(routing::inquiry_command cmd) override;
    awaitable<outcome<routing::send_result>> send_message(routing::send_command cmd) override;
    awaitable<outcome<routing::conversation>> update_conversation(
        std::string user_id, std::string conversation_id, routing::conversation_action action,
        routing::decline_reason reason, std::int64_t now_ms) override;
    awaitable<outcome<void>> mark_read(std::string user_id, std::string conversation_id,
                                       std::uint64_t up_to_seq) override;
    awaitable<outcome<void>> ack(std::string user_id, std::string device_id, std::string cursor,
                                 routing::delivered_marks marks) override;
    awaitable<outcome<std::vector<routing::conversation>>> list_conversations(
        std::string user_id, std::uint32_t limit) override;
    awaitable<outcome<routing::history_page>> history(std::string user_id,
                                                      std::string conversation_id,
                                                      std::uint64_t before_seq,
                                                      std::uint32_t limit) override;
    awaitable<outcome<std::string>> other_party(std::string user_id,
                                                std::string conversation_id) override;
    awaitable<outcome<routing::event_batch>> read_events(std::string user_id,
                                                         std::string after_cursor,
                                                         std::uint32_t limit,
                                                         bool check_gap) override;
    awaitable<outcome<std::pair<std::string, std::uint64_t>>> stream_end(
        std::string user_id) override;
    awaitable<outcome<routing::device_position>> device_cursor(std::string user_id,
                                                               std::string device_id) override;
    awaitable<outcome<void>> save_device_cursor(std::string user_id, std::string device_id,
                                                std::string cursor, bool forward_only) override;

private:
    std::shared_ptr<const routing::notice> append(const std::string& user,
                                                  routing::notice::payload what);
    std::map<std::string, std::uint64_t> seqs_;  // per conversation
};

/// routing::directory_store in memory: the entries, presence and first replies the test sets.
class fake_directory_store final : public routing::directory_store {
public:
    std::vector<routing::specialist_profile> entries;
    std::uint64_t version_number = 1;  ///< move it when `entries` change
    std::map<std::string, routing::presence> presences;
    std::map<std::string, std::vector<std::uint64_t>> first_replies;
    failure_plan failures;

    std::size_t loads = 0;  ///< load() calls
    std::vector<std::int64_t> activity_since;

    awaitable<outcome<std::uint64_t>> version() override;
    awaitable<outcome<std::pair<std::uint64_t, std::vector<routing::specialist_profile>>>> load()
        override;
    awaitable<outcome<std::vector<routing::specialist_activity>>> activity(
        std::vector<std::string> user_ids, std::int64_t since_ms) override;
};

/// routing::workflow_store in memory: due expiries and reminders as the test sets them; it
/// records what the sweeper does with them.
class fake_workflow_store final : public routing::workflow_store {
public:
    std::map<std::string, std::int64_t> expiries;  ///< conversation -> due
    std::vector<routing::due_reminder> reminders;  ///< scheduled
    failure_plan failures;

    std::vector<std::string> expired;
    std::vector<std::pair<std::string, std::int64_t>> postponed;  ///< (conversation, due)
    std::vector<routing::due_reminder> sent;
    /// Retention: conversation -> its messages' times, oldest first.
    std::map<std::string, std::vector<std::int64_t>> messages;

    awaitable<outcome<std::vector<std::string>>> due_expiries(std::int64_t now_ms,
                                                              std::uint32_t limit) override;
    awaitable<outcome<bool>> expire_inquiry(std::string conversation_id,
                                            std::int64_t now_ms) override;
    awaitable<outcome<std::vector<routing::due_reminder>>> due_reminders(
        std::int64_t now_ms, std::uint32_t limit) override;
    awaitable<outcome<void>> postpone_reminder(routing::due_reminder r,
                                               std::int64_t due_ms) override;
    awaitable<outcome<bool>> send_reminder(routing::due_reminder r, std::int64_t now_ms) override;
    awaitable<outcome<std::vector<std::string>>> due_retention(std::int64_t cutoff_ms,
                                                               std::uint32_t limit) override;
    awaitable<outcome<trimmed>> trim_conversation(std::string conversation_id,
                                                  std::int64_t cutoff_ms, std::uint32_t limit,
                                                  std::int64_t now_ms) override;
};

/// routing::presence_store in memory: live connections per user.
class fake_presence_store final : public routing::presence_store {
public:
    struct disconnect_call {
        std::string user_id;
        std::string connection_id;
        bool signed_out;
    };

    std::map<std::string, std::set<std::string>> live;  ///< user -> connection ids
    failure_plan failures;
    call_gate connects;  ///< connect

    std::vector<disconnect_call> disconnects;
    std::vector<std::pair<std::string, routing::presence_state>> statuses;
    std::vector<std::string> lost;  ///< confirm_lost calls

    awaitable<outcome<std::uint32_t>> connect(std::string user_id, std::string connection_id,
                                              std::int64_t now_ms) override;
    awaitable<outcome<void>> disconnect(std::string user_id, std::string connection_id,
                                        bool signed_out, std::int64_t now_ms) override;
    awaitable<outcome<void>> confirm_lost(std::string user_id, std::int64_t now_ms) override;
    awaitable<outcome<void>> set_status(std::string user_id, routing::presence_state state,
                                        std::int64_t now_ms) override;
    awaitable<outcome<void>> refresh(std::vector<std::pair<std::string, std::string>> connections,
                                     std::int64_t now_ms) override;
    awaitable<outcome<void>> sweep(std::int64_t now_ms) override;
};

/// routing::notice_bus in memory: the test delivers notices and resets.
class fake_notice_bus final : public routing::notice_bus {
public:
    struct typing_call {
        std::string to_user;
        std::string conversation_id;
        std::string from_user;
        bool typing;
    };

    failure_plan failures;
    call_gate subscriptions;
    std::vector<typing_call> typing;
    std::vector<std::string> unsubscribed;  ///< user ids

    awaitable<outcome<void>> subscribe(std::string user_id,
                                       std::shared_ptr<routing::notice_listener> listener) override;
    void unsubscribe(const std::string& user_id, const routing::notice_listener* listener) override;
    void publish_typing(std::string to_user, std::string conversation_id, std::string from_user,
                        bool typing) override;

    /// Listeners of `user_id` still alive.
    std::size_t listeners(const std::string& user_id) const;
    /// Hands `n` to every listener of `user_id`, as the bus does on a published notice.
    void deliver(const std::string& user_id, const std::shared_ptr<const routing::notice>& n);
    /// Tells every listener that notices may have been lost.
    void reset();

private:
    std::map<std::string, std::vector<std::weak_ptr<routing::notice_listener>>> listeners_;
};

/// routing::audit_log in memory: keeps every event.
class fake_audit_log final : public routing::audit_log {
public:
    std::vector<routing::audit_event> events;

    void record(routing::audit_event e) override { events.push_back(std::move(e)); }

    /// The events of `action`, oldest first.
    std::vector<routing::audit_event> of(routing::audit_action action) const;
};

/// routing::outbound in memory: keeps every frame sent; the queue's size is the bytes sent since
/// the last drain() (or whatever the test sets).
class fake_outbound final : public routing::outbound {
public:
    std::vector<std::shared_ptr<const std::string>> sent;
    std::size_t queued = 0;
    std::optional<std::uint16_t> close_code;
    std::string close_reason;

    void send(std::shared_ptr<const std::string> frame) override;
    std::size_t queued_bytes() const noexcept override { return queued; }
    void close(std::uint16_t code, std::string reason) override;

    /// The frames sent, decoded, oldest first.
    std::vector<v1::Frame> frames() const;
    /// Decoded frames sent since the last call of take_all(), and forgets them.
    std::vector<v1::Frame> take_all();
    /// The client took everything queued: queued goes to 0 and `handler` hears of it.
    void drain(routing::connection_handler& handler);

private:
    std::size_t taken_ = 0;
};

}  // namespace confide::testing
