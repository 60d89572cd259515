#pragma once

#include "routing/audit.hpp"
#include "routing/ports.hpp"
#include "store/db.hpp"
#include "store/sealing.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace confide::store {

class send_batcher;

struct chat_store_config {
    /// Events kept per user stream (approximate trimming). A device whose cursor is older gets
    /// `reset` and reloads its conversations.
    std::size_t inbox_max_events = 100'000;
    /// How long a start_inquiry's client_msg_id finds the conversation it went to (a retry
    /// after that conversation closed). Sends dedupe for as long as their conversation is kept.
    std::chrono::seconds sent_record_ttl{7 * 24 * 3600};
    /// Development only: a specialist token for an unlisted id lists that id at sign-in.
    bool directory_open = false;
    /// How long a message may stay unread before its reminder is due: for specialists (the
    /// workflow sweeper then counts office time only) and for clients.
    std::chrono::milliseconds remind_specialist_after{std::chrono::minutes(15)};
    std::chrono::milliseconds remind_client_after{std::chrono::hours(24)};
    /// A message is acked only once this many replicas of each master it was written to
    /// confirmed it (WAIT), within the timeout; else the sender gets unavailable (retry).
    /// 0: acked once the master stored it. See confirm_replicated().
    unsigned ack_after_replicas = 0;
    std::chrono::milliseconds ack_after_replicas_timeout{200};
};

/// routing::chat_store on Redis (key layout 3, docs/design.md): conversations, messages, user
/// streams of pointers to messages, device cursors and delivered marks. Every multi-key write is
/// one Lua script (server/store/scripts/), so it is atomic. What people write (bodies, an
/// inquiry's topic and preferred times) is sealed by `sealer` before it reaches Redis; a stored
/// value that fails its check is never shown: it is logged without content and audited
/// (`integrity_failure`) through `audit`.
///
/// Thread safety: safe; the coroutines may run concurrently on any executor.
class redis_chat_store final : public routing::chat_store {
public:
    redis_chat_store(db conn, chat_store_config cfg, std::shared_ptr<sealer> sealer,
                     routing::audit_log& audit);

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
    /// The two parties of a conversation never change, so they are cached once read.
    struct parties {
        std::string client;
        std::string specialist;
        std::uint64_t last_seq = 0;  ///< as last seen here: a guess for the next send's seq
    };

    using key_ptr = std::shared_ptr<const crypto::data_key>;
    using key_map = std::unordered_map<std::string, key_ptr>;

    /// The data keys of `conversation_ids` (cached, else read and unwrapped, in one round trip).
    /// Null in plaintext storage. A key that is missing or cannot be unwrapped fails with
    /// no key for it (logged and audited for `user_id`); only Redis trouble fails.
    awaitable<outcome<key_map>> keys_of(std::string user_id,
                                        std::vector<std::string> conversation_ids);

    /// keys_of() for one conversation.
    awaitable<outcome<key_ptr>> key_of(std::string user_id, std::string conversation_id);

    /// Notes what this node learnt of a conversation's last seq.
    void remember_seq(const std::string& conversation_id, std::uint64_t seq);

    /// The seq to seal a send for: the next one this node has not handed out (`guess` + 1 when
    /// the conversation is not cached), or after `answered`, the last seq the script said the
    /// conversation has (docs/design.md, "Encryption at rest").
    std::uint64_t next_seq(const std::string& conversation_id, std::uint64_t guess,
                           std::optional<std::uint64_t> answered, int attempt);

    /// A send sealed for `seq` stored nothing: hands the number back if it was the last one.
    void release_seq(const std::string& conversation_id, std::uint64_t seq);

    /// The log entry `e` as a message, its body opened. Nullopt (logged, audited for `reader`)
    /// when it is malformed or fails its check.
    std::optional<routing::message> open_log_entry(const redis::reply& e, std::string_view cid,
                                                   const key_ptr& key,
                                                   std::string_view reader) const;

    /// A stored value of `cid` failed its check: logged without content, audited.
    void refused(std::string_view reader, std::string_view cid, std::string_view what,
                 const boost::system::error_code& why) const;

    /// The parties, if `user_id` is one of them; forbidden otherwise (also for a conversation
    /// that does not exist: the same answer, so ids cannot be probed).
    awaitable<outcome<parties>> parties_for(std::string user_id, std::string conversation_id);

    /// What an inquiry stores, sealed (as it is in plaintext storage).
    struct sealed_inquiry {
        std::string wrapped_key;  ///< a new conversation's data key, wrapped
        std::string body;
        std::string topic;      ///< a new conversation's
        std::string preferred;  ///< a new conversation's preferred times
    };

    /// Seals an inquiry's body for `seq` of `cid` under `key`; for a new conversation
    /// (`is_new`, `key` unused) under a new data key, with its topic and preferred times.
    outcome<sealed_inquiry> seal_inquiry(const routing::inquiry_command& cmd,
                                         const std::string& cid, key_ptr key, bool is_new,
                                         std::uint64_t seq) const;

    /// On a Redis Cluster: an inquiry as per-slot steps (the client's claim, the
    /// conversation's, each party's, the schedule's), answering what inquiry.lua would have
    /// answered; a retry repairs what a crash between steps left undone.
    awaitable<outcome<routing::send_result>> inquiry_steps(routing::inquiry_command cmd);

    /// On a Redis Cluster: a send as per-slot steps (the conversation's, each party's, the
    /// schedule's), answering what send.lua would have answered. A dedupe hit runs the user
    /// steps again (a retry repairs a send that stopped between steps).
    /// `args` are send.lua's arguments.
    awaitable<outcome<redis::reply>> send_steps(routing::send_command cmd, parties p,
                                                std::string fp, std::vector<std::string> args);

    /// With chat_store_config::ack_after_replicas: WAIT on the masters of the conversation's and
    /// both parties' slots (on one Redis: on it), after the message's writes on the same
    /// connections. Unavailable (retry) when fewer replicas confirmed within the timeout: the
    /// message is stored on the master, and the retry, idempotent, waits again.
    awaitable<outcome<void>> confirm_replicated(std::string conversation_id, std::string client,
                                                std::string specialist);

    /// A send's result from the script's (or send_steps') reply; the seq cache updated.
    outcome<routing::send_result> finish_send(const redis::reply& r,
                                              const routing::send_command& cmd, bool from_client,
                                              std::string_view fingerprint,
                                              std::uint64_t sealed_for);

    /// send.lua's and inquiry.lua's reply: stored, or a duplicate (CONFLICT when its recorded
    /// fingerprint is not `fingerprint`).
    outcome<routing::send_result> parse_send_reply(const redis::reply& r,
                                                   std::string_view conversation_id,
                                                   bool from_client, std::string_view fingerprint,
                                                   std::int64_t now_ms) const;

    db conn_;
    chat_store_config cfg_;
    std::shared_ptr<sealer> sealer_;
    routing::audit_log& audit_;
    std::mutex parties_mutex_;
    std::unordered_map<std::string, parties> parties_;
    /// One Redis only: its sends, grouped (the cluster's go through send_steps()).
    std::shared_ptr<send_batcher> batcher_;
};

}  // namespace confide::store
