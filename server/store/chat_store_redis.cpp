#include "store/chat_store_redis.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/random_id.hpp"
#include "protocol/cursor.hpp"
#include "store/cluster_steps.hpp"
#include "store/commands.hpp"
#include "store/conversation_view.hpp"
#include "store/fields.hpp"
#include "store/keys.hpp"
#include "store/notice_codec.hpp"
#include "store/scripts.hpp"
#include "store/send_batcher.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_set>

namespace confide::store {
namespace {

// Bounds the party cache; when full it starts over (entries are cheap to read again).
constexpr std::size_t max_cached_parties = 200'000;

// How many times a send guesses the conversation's next seq again when another message took it
// meanwhile (each time with the seq the script answered).
constexpr int max_seq_attempts = 8;

// The value a send stores under its dedupe field: " <sent-at ms> <fingerprint>"; send.lua puts
// the message's seq in front of it (read back by parse_send_reply).
std::string dedupe_record(std::string_view now, std::string_view fp) {
    std::string rec;
    rec.reserve(now.size() + fp.size() + 2);
    rec.append(" ").append(now).append(" ").append(fp);
    return rec;
}

// send.lua's (and inquiry.lua's) reply for a stored message: {'ok', log id, the client's event
// id, the specialist's}, for the cluster's steps.
reply stored_reply(std::string log_id, std::string client_event, std::string specialist_event) {
    reply out;
    out.type = reply::kind::array;
    out.elements.resize(4);
    for (auto& e : out.elements) {
        e.type = reply::kind::string;
    }
    out.elements[0].str = "ok";
    out.elements[1].str = std::move(log_id);
    out.elements[2].str = std::move(client_event);
    out.elements[3].str = std::move(specialist_event);
    return out;
}

// What a send stores, for send_args().
struct send_values {
    const std::string& client;
    const std::string& specialist;
    const std::string& cid;
    const std::string& sender;
    const std::string& client_msg_id;
    const std::string& now;  // now_ms as text
    std::int64_t now_ms;
    const std::string& fingerprint;
    const std::string& sealed;  // the body, sealed for `seq`
    std::uint64_t seq;
};

// send.lua's arguments: those of send_conversation.lua too, and the head of
// inquiry_conversation.lua's.
std::vector<std::string> send_args(const send_values& v, std::size_t maxlen,
                                   std::chrono::milliseconds remind_after) {
    const bool from_client = v.sender == v.client;
    const std::string other_party = from_client ? "s" : "c";
    return {v.client,
            keys::dedupe_field(from_client, v.client_msg_id),
            dedupe_record(v.now, v.fingerprint),
            "unread_" + other_party,
            v.sender,
            v.client_msg_id,
            v.now,
            v.sealed,
            std::to_string(maxlen),
            v.cid,
            keys::channel(v.client),
            keys::channel(v.specialist),
            message_notice_prefix(v.cid, v.sender, v.client_msg_id, v.now, v.sealed),
            "rem_" + other_party,
            std::to_string(v.now_ms + remind_after.count()),
            v.cid + "|" + other_party,
            "(" + std::to_string(v.now_ms - routing::reply_time_window.count()),
            std::to_string(v.seq)};
}

}  // namespace

redis_chat_store::redis_chat_store(db conn, chat_store_config cfg, std::shared_ptr<sealer> sealer,
                                   routing::audit_log& audit)
    : conn_(std::move(conn)), cfg_(cfg), sealer_(std::move(sealer)), audit_(audit) {
    if (auto* single = conn_.single()) {
        batcher_ = send_batcher::create(
            single->get_executor(),
            [d = conn_](std::vector<send_call> c) { return run_sends(d, std::move(c)); });
    }
}

void redis_chat_store::refused(std::string_view reader, std::string_view cid, std::string_view what,
                               const boost::system::error_code& why) const {
    // Never the stored value or its text: which record, and the check's verdict.
    log::error("user={} conversation={}: {} refused: {}", reader, cid, what, why.message());
    routing::audit_event e;
    e.action = routing::audit_action::integrity_failure;
    e.time_ms = now_ms();
    e.user_id = reader;
    e.conversation_id = cid;
    e.detail = std::string(what) + ": " + why.message();
    audit_.record(std::move(e));
}

void redis_chat_store::remember_seq(const std::string& conversation_id, std::uint64_t seq) {
    std::lock_guard lock(parties_mutex_);
    if (auto it = parties_.find(conversation_id); it != parties_.end()) {
        it->second.last_seq = std::max(it->second.last_seq, seq);
    }
}

std::uint64_t redis_chat_store::next_seq(const std::string& conversation_id, std::uint64_t guess,
                                         std::optional<std::uint64_t> answered, int attempt) {
    std::lock_guard lock(parties_mutex_);
    auto it = parties_.find(conversation_id);
    if (it == parties_.end()) {
        return (answered ? *answered : guess) + 1;
    }
    std::uint64_t& last = it->second.last_seq;
    // Sends of one node to one conversation are pipelined on one connection and applied in
    // order, so each takes the next number. A script that answered another last seq: behind,
    // take it; ahead (numbers taken by sends that then stored nothing), start over from it
    // after a few tries.
    if (answered && (last <= *answered || attempt >= 3)) {
        last = *answered;
    }
    return ++last;
}

void redis_chat_store::release_seq(const std::string& conversation_id, std::uint64_t seq) {
    std::lock_guard lock(parties_mutex_);
    if (auto it = parties_.find(conversation_id);
        it != parties_.end() && it->second.last_seq == seq) {
        it->second.last_seq = seq - 1;
    }
}

awaitable<outcome<redis_chat_store::key_map>> redis_chat_store::keys_of(
    std::string user_id, std::vector<std::string> conversation_ids) {
    key_map out;
    if (!sealer_->seals()) {
        co_return out;
    }
    std::vector<std::string> missing;
    for (auto& cid : conversation_ids) {
        if (out.contains(cid)) {
            continue;
        }
        auto key = sealer_->find(cid);
        if (!key) {
            missing.push_back(cid);
        }
        out.emplace(std::move(cid), std::move(key));
    }
    if (missing.empty()) {
        co_return out;
    }
    std::vector<std::vector<std::string>> reads;
    reads.reserve(missing.size());
    for (const auto& cid : missing) {
        reads.push_back(cmd("HGET", keys::conversation(cid), "dk"));
    }
    auto rows = co_await call_all(conn_, std::move(reads));
    for (std::size_t i = 0; i < missing.size(); ++i) {
        if (!rows[i]) {
            co_return rows[i].error();
        }
        if (!rows[i]->is_string()) {
            continue;  // no such conversation (yet): nothing of it can be opened
        }
        auto key = sealer_->open_key(missing[i], rows[i]->str);
        if (!key) {
            refused(user_id, missing[i], "the conversation's data key", key.error());
            continue;
        }
        out[missing[i]] = std::move(*key);
    }
    co_return out;
}

awaitable<outcome<redis_chat_store::key_ptr>> redis_chat_store::key_of(
    std::string user_id, std::string conversation_id) {
    std::vector<std::string> ids{conversation_id};
    auto found = co_await keys_of(std::move(user_id), std::move(ids));
    if (!found) {
        co_return found.error();
    }
    co_return std::move((*found)[conversation_id]);
}

std::optional<routing::message> redis_chat_store::open_log_entry(const reply& e,
                                                                 std::string_view cid,
                                                                 const key_ptr& key,
                                                                 std::string_view reader) const {
    auto m = parse_log_entry(e, cid);
    if (!m) {
        log::error("user={} conversation={}: malformed message in storage", reader, cid);
        return std::nullopt;
    }
    auto body = sealer_->open(key.get(), {cid, m->seq, m->sender_id}, m->body);
    if (!body) {
        refused(reader, cid, "message " + std::to_string(m->seq), body.error());
        return std::nullopt;
    }
    m->body = std::move(*body);
    return m;
}

awaitable<outcome<void>> redis_chat_store::bind_role(std::string user_id, auth::role r) {
    const bool cluster = conn_.is_cluster();
    // On a cluster the directory's global keys are a step of their own (bind_role.lua).
    std::vector<std::string> k{keys::user(user_id), keys::profile(user_id),
                               cluster ? keys::user(user_id) : keys::directory(),
                               cluster ? keys::user(user_id) : keys::directory_version()};
    std::vector<std::string> a{std::string(auth::to_string(r)), user_id,
                               cfg_.directory_open ? "1" : "0", std::to_string(now_ms())};
    auto res = co_await call_script(conn_, scripts::bind_role(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    if (cluster && cfg_.directory_open && r == auth::role::specialist) {
        // Idempotent, and run at every such sign-in: one that stopped before it is repaired by
        // the next. The version moves only when the index changed.
        auto added = co_await call(conn_, cmd("ZADD", keys::directory(), "0", user_id));
        if (!added) {
            co_return added.error();
        }
        if (added->integer == 1) {
            auto moved = co_await call(conn_, cmd("INCR", keys::directory_version()));
            if (!moved) {
                co_return moved.error();
            }
        }
    }
    co_return outcome<void>{};
}

awaitable<outcome<redis_chat_store::parties>> redis_chat_store::parties_for(
    std::string user_id, std::string conversation_id) {
    parties p;
    {
        std::lock_guard lock(parties_mutex_);
        if (auto it = parties_.find(conversation_id); it != parties_.end()) {
            p = it->second;
        }
    }
    if (p.client.empty()) {
        auto res = co_await call(conn_, cmd("HMGET", keys::conversation(conversation_id), "client",
                                            "specialist", "seq"));
        if (!res) {
            co_return res.error();
        }
        if (!res->is_array() || res->elements.size() != 3 || !res->elements[0].is_string() ||
            !res->elements[1].is_string()) {
            co_return fail(errc::forbidden, "no such conversation");
        }
        p.client = res->elements[0].str;
        p.specialist = res->elements[1].str;
        p.last_seq = int_or_zero<std::uint64_t>(res->elements[2].str);
        std::lock_guard lock(parties_mutex_);
        if (parties_.size() >= max_cached_parties) {
            parties_.clear();
        }
        parties_.emplace(conversation_id, p);
    }
    if (user_id != p.client && user_id != p.specialist) {
        co_return fail(errc::forbidden, "no such conversation");
    }
    co_return p;
}

outcome<routing::send_result> redis_chat_store::parse_send_reply(const reply& r,
                                                                 std::string_view conversation_id,
                                                                 bool from_client,
                                                                 std::string_view fingerprint,
                                                                 std::int64_t now_ms) const {
    const auto status = script_status(r);
    routing::send_result out;
    out.conversation_id = conversation_id;
    if (status == "ok" && r.elements.size() == 4) {
        // {'ok', log id, client's event id, specialist's event id}
        const auto seq = number_of_id(r.elements[1].str);
        const auto& event = r.elements[from_client ? 2 : 3].str;
        const auto n = number_of_id(event);
        // On a cluster the sender's event may have been appended by another send's repair:
        // then its id is not known here, and the reply carries no cursor.
        if (!seq || (!n && !event.empty())) {
            return fail(errc::internal, "malformed reply from the send script");
        }
        out.seq = *seq;
        out.server_time_ms = now_ms;
        if (n) {
            out.event_cursor = event;
            out.event_n = *n;
        }
        return out;
    }
    if (status == "dup" && r.elements.size() == 2) {
        // The dedupe record: "<log id> <time ms> <fingerprint>".
        const std::string_view rec = r.elements[1].str;
        const auto s1 = rec.find(' ');
        const auto s2 = s1 == std::string_view::npos ? s1 : rec.find(' ', s1 + 1);
        const auto seq =
            s1 == std::string_view::npos ? std::nullopt : number_of_id(rec.substr(0, s1));
        if (!seq || s2 == std::string_view::npos ||
            !parse_int(rec.substr(s1 + 1, s2 - s1 - 1), out.server_time_ms)) {
            return fail(errc::internal, "malformed dedupe record in storage");
        }
        if (rec.substr(s2 + 1) != fingerprint) {
            return fail(errc::conflict, "this client_msg_id was already used for another message");
        }
        out.seq = *seq;
        out.duplicate = true;
        return out;
    }
    return fail(errc::internal, "malformed reply from the send script");
}

awaitable<outcome<routing::send_result>> redis_chat_store::send_message(routing::send_command cmd) {
    auto p = co_await parties_for(cmd.sender_id, cmd.conversation_id);
    if (!p) {
        co_return p.error();
    }
    auto key = co_await key_of(cmd.sender_id, cmd.conversation_id);
    if (!key) {
        co_return key.error();
    }
    const bool from_client = cmd.sender_id == p->client;
    const std::string now = std::to_string(cmd.now_ms);
    const std::string fp = sealer_->fingerprint({"send", cmd.conversation_id, cmd.body});
    // The reminder of the other party, should this be the first message they have not read.
    const auto remind_after = from_client ? cfg_.remind_specialist_after : cfg_.remind_client_after;
    // The body is sealed for its seq before the script assigns it (docs/design.md, "Encryption
    // at rest"): sealed for the seq this node last saw plus one; the script stores it only if
    // that is the conversation's next seq, and otherwise answers the last one, to seal again.
    std::optional<std::uint64_t> answered;
    for (int attempt = 0; attempt < max_seq_attempts; ++attempt) {
        const std::uint64_t seq = next_seq(cmd.conversation_id, p->last_seq, answered, attempt);
        auto sealed =
            sealer_->seal(key->get(), {cmd.conversation_id, seq, cmd.sender_id}, cmd.body);
        if (!sealed) {
            log::error("conversation={}: cannot seal a message: {}", cmd.conversation_id,
                       sealed.error().message());
            co_return fail(errc::internal, "cannot store the message");
        }
        auto a = send_args({p->client, p->specialist, cmd.conversation_id, cmd.sender_id,
                            cmd.client_msg_id, now, cmd.now_ms, fp, *sealed, seq},
                           cfg_.inbox_max_events, remind_after);
        outcome<reply> res = fail(errc::internal, "not sent");
        if (conn_.is_cluster()) {
            res = co_await send_steps(cmd, *p, fp, std::move(a));
        } else {
            send_call call{{keys::conversation(cmd.conversation_id),
                            keys::conversation_log(cmd.conversation_id), keys::inbox(p->client),
                            keys::inbox(p->specialist), keys::first_replies(p->specialist),
                            keys::inquiry_expiry(), keys::reminders_due()},
                           std::move(a)};
            // Group commit: with the sends that queue meanwhile, in one call (send_batcher).
            res = co_await batcher_->async_send(std::move(call), asio::use_awaitable);
        }
        if (!res) {
            co_return res.error();
        }
        if (script_status(*res) == "seq" && res->elements.size() == 2) {
            answered = int_or_zero<std::uint64_t>(res->elements[1].str);
            continue;
        }
        auto out = finish_send(*res, cmd, from_client, fp, seq);
        if (out && cfg_.ack_after_replicas > 0) {
            auto confirmed =
                co_await confirm_replicated(cmd.conversation_id, p->client, p->specialist);
            if (!confirmed) {
                co_return confirmed.error();
            }
        }
        co_return out;
    }
    co_return fail(errc::unavailable, "the conversation is busy; retry");
}

outcome<routing::send_result> redis_chat_store::finish_send(const reply& r,
                                                            const routing::send_command& cmd,
                                                            bool from_client,
                                                            std::string_view fingerprint,
                                                            std::uint64_t sealed_for) {
    auto out = parse_send_reply(r, cmd.conversation_id, from_client, fingerprint, cmd.now_ms);
    if (out && !out->duplicate) {
        remember_seq(cmd.conversation_id, out->seq);
    } else {
        release_seq(cmd.conversation_id, sealed_for);  // stored nothing: the number is free again
    }
    return out;
}

awaitable<outcome<reply>> redis_chat_store::send_steps(routing::send_command cmd, parties p,
                                                       std::string fp,
                                                       std::vector<std::string> args) {
    const bool from_client = cmd.sender_id == p.client;
    const std::string now = std::to_string(cmd.now_ms);
    const std::string other_party = from_client ? "s" : "c";
    std::string notice_prefix = args[12];  // send.lua's ARGV[13]
    // 1. The conversation step: the log entry and the dedupe record, or the record of an earlier
    // attempt (whose user steps run again below: the retry repairs what a crash left undone).
    auto res = co_await call_script(conn_, scripts::send_conversation(),
                                    store::cmd(keys::conversation(cmd.conversation_id),
                                               keys::conversation_log(cmd.conversation_id)),
                                    std::move(args));
    if (!res) {
        co_return res.error();
    }
    const auto status = script_status(*res);
    std::string log_id;
    std::string prefix;
    bool remind = false;
    std::string took;
    if (status == "ok" && res->elements.size() == 4) {
        log_id = res->elements[1].str;
        remind = res->elements[2].str == "1";
        took = res->elements[3].str;
        prefix = std::move(notice_prefix);
    } else if (status == "dup" && res->elements.size() == 2) {
        const std::string_view rec = res->elements[1].str;
        log_id = rec.substr(0, rec.find(' '));
        // The same id with another body is a conflict: nothing to repair.
        if (rec.substr(rec.rfind(' ') + 1) != fp) {
            co_return std::move(*res);
        }
    } else {
        co_return std::move(*res);  // 'seq' or malformed: the caller decides
    }
    const auto stored_seq = number_of_id(log_id);
    if (!stored_seq) {
        co_return fail(errc::internal, "malformed reply from the send script");
    }
    cluster_steps::fault_point("send:conversation");
    // 2. The user steps, together: the pointer in each party's stream, with its wake-up.
    auto events =
        co_await cluster_steps::append_to_both(conn_, p.client, p.specialist, cmd.conversation_id,
                                               *stored_seq, log_id, prefix, cfg_.inbox_max_events);
    if (!events) {
        co_return events.error();
    }
    if (status == "dup") {
        co_return std::move(*res);
    }
    // 3. The global schedule, after the conversation's step (an entry lost to a crash here is
    // a missed reminder or a stale expiry, which expire.lua drops: docs/design.md).
    std::vector<std::vector<std::string>> schedule;
    if (remind) {
        const auto after = from_client ? cfg_.remind_specialist_after : cfg_.remind_client_after;
        schedule.push_back(store::cmd("ZADD", keys::reminders_due(),
                                      std::to_string(cmd.now_ms + after.count()),
                                      cmd.conversation_id + "|" + other_party));
    }
    if (!took.empty()) {
        schedule.push_back(store::cmd("ZREM", keys::inquiry_expiry(), cmd.conversation_id));
        schedule.push_back(store::cmd("ZADD", keys::first_replies(p.specialist), now,
                                      took + ":" + cmd.conversation_id));
        schedule.push_back(
            store::cmd("ZREMRANGEBYSCORE", keys::first_replies(p.specialist), "-inf",
                       "(" + std::to_string(cmd.now_ms - routing::reply_time_window.count())));
    }
    auto scheduled = co_await call_all(conn_, std::move(schedule));
    for (auto& r : scheduled) {
        if (!r) {
            co_return r.error();
        }
    }
    co_return stored_reply(log_id, std::move(events->client), std::move(events->specialist));
}

outcome<redis_chat_store::sealed_inquiry> redis_chat_store::seal_inquiry(
    const routing::inquiry_command& cmd, const std::string& cid, key_ptr key, bool is_new,
    std::uint64_t seq) const {
    auto seal_error = [&](const boost::system::error_code& ec) {
        log::error("conversation={}: cannot seal an inquiry: {}", cid, ec.message());
        return fail(errc::internal, "cannot store the message");
    };
    sealed_inquiry out;
    if (is_new) {
        auto created = sealer_->create_key(cid);
        if (!created) {
            return seal_error(created.error());
        }
        key = std::move(created->key);
        out.wrapped_key = std::move(created->wrapped);
        const std::string times = format_time_ranges(cmd.preferred_times);
        for (auto [field_out, text, field] :
             {std::tuple{&out.topic, std::string_view(cmd.topic), "topic"},
              std::tuple{&out.preferred, std::string_view(times), "pref"}}) {
            if (text.empty()) {
                continue;
            }
            auto sealed = sealer_->seal(key.get(), {cid, 0, field}, text);
            if (!sealed) {
                return seal_error(sealed.error());
            }
            *field_out = std::move(*sealed);
        }
    }
    auto sealed = sealer_->seal(key.get(), {cid, seq, cmd.client_id}, cmd.body);
    if (!sealed) {
        return seal_error(sealed.error());
    }
    out.body = std::move(*sealed);
    return out;
}

awaitable<outcome<void>> redis_chat_store::confirm_replicated(std::string conversation_id,
                                                              std::string client,
                                                              std::string specialist) {
    // The schedule's global keys are not waited for: losing their entries in a failover costs
    // what a crash between steps costs (docs/design.md, "Redis Cluster").
    std::vector<std::uint16_t> slots{redis::key_slot(keys::conversation(conversation_id)),
                                     redis::key_slot(keys::inbox(client)),
                                     redis::key_slot(keys::inbox(specialist))};
    auto got = co_await wait_for_replicas(conn_, std::move(slots), cfg_.ack_after_replicas,
                                          cfg_.ack_after_replicas_timeout);
    if (!got) {
        co_return got.error();
    }
    if (*got < static_cast<std::int64_t>(cfg_.ack_after_replicas)) {
        log::warn(
            "conversation={}: stored, but {} of {} replica(s) confirmed within {} ms: "
            "the sender is told to retry",
            conversation_id, *got, cfg_.ack_after_replicas,
            cfg_.ack_after_replicas_timeout.count());
        co_return fail(errc::unavailable,
                       "stored, but not yet confirmed by Redis replicas; retry with the same id");
    }
    co_return outcome<void>{};
}

awaitable<outcome<routing::send_result>> redis_chat_store::start_inquiry(
    routing::inquiry_command cmd) {
    if (conn_.is_cluster()) {
        std::string client = cmd.client_id;
        std::string specialist = cmd.specialist_id;
        auto out = co_await inquiry_steps(std::move(cmd));
        if (out && cfg_.ack_after_replicas > 0) {
            auto confirmed = co_await confirm_replicated(out->conversation_id, std::move(client),
                                                         std::move(specialist));
            if (!confirmed) {
                co_return confirmed.error();
            }
        }
        co_return out;
    }
    const std::string now = std::to_string(cmd.now_ms);
    // A retry may land in another conversation (the first one got closed): the fingerprint names
    // the recipient, not the conversation.
    const std::string fp = sealer_->fingerprint({"inquiry", cmd.specialist_id, cmd.body});
    const std::string record = keys::inquiry_record(cmd.client_id, cmd.client_msg_id);
    // The script refuses with 'retry' when what is read here changed meanwhile (another device
    // of the client wrote at the same moment); a few rounds settle it.
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto rows = co_await call_all(
            conn_, cmds(store::cmd("GET", record),
                        store::cmd("HGET", keys::open_with(cmd.client_id), cmd.specialist_id)));
        for (const auto& r : rows) {
            if (!r) {
                co_return r.error();
            }
        }
        const std::string went_to = rows[0]->is_string() ? rows[0]->str : std::string();
        const std::string found = rows[1]->is_string() ? rows[1]->str : std::string();
        const std::string cid = !went_to.empty() ? went_to
                                : !found.empty() ? found
                                : attempt == 0   ? cmd.new_conversation_id
                                                 : random_hex_id();
        // What is sealed, and for which seq: nothing for a retry that went through (the script
        // answers its dedupe record); the next seq of the open conversation; or seq 1, the topic
        // and the preferred times of a new one, under its new data key.
        std::uint64_t seq = 1;
        sealed_inquiry sealed;
        if (went_to.empty()) {
            key_ptr key;
            if (!found.empty()) {
                auto p = co_await parties_for(cmd.client_id, found);
                if (!p) {
                    co_return p.error();
                }
                auto found_key = co_await key_of(cmd.client_id, found);
                if (!found_key) {
                    co_return found_key.error();
                }
                key = std::move(*found_key);
                seq = p->last_seq + 1;
            }
            auto made = seal_inquiry(cmd, cid, std::move(key), found.empty(), seq);
            if (!made) {
                co_return made.error();
            }
            sealed = std::move(*made);
        }
        std::vector<std::string> k{keys::conversation(cid),
                                   keys::conversation_log(cid),
                                   keys::inbox(cmd.client_id),
                                   keys::inbox(cmd.specialist_id),
                                   keys::profile(cmd.specialist_id),
                                   keys::open_with(cmd.client_id),
                                   keys::inquiries(cmd.specialist_id),
                                   keys::conversations(cmd.client_id),
                                   keys::conversations(cmd.specialist_id),
                                   keys::contacts(cmd.client_id),
                                   keys::contacts(cmd.specialist_id),
                                   record,
                                   keys::inquiry_expiry(),
                                   keys::reminders_due(),
                                   keys::retention()};
        std::vector<std::string> a{
            cmd.client_id,
            keys::dedupe_field(true, cmd.client_msg_id),
            dedupe_record(now, fp),
            "unread_s",
            cmd.client_id,
            cmd.client_msg_id,
            now,
            sealed.body,
            std::to_string(cfg_.inbox_max_events),
            cid,
            keys::channel(cmd.client_id),
            keys::channel(cmd.specialist_id),
            message_notice_prefix(cid, cmd.client_id, cmd.client_msg_id, now, sealed.body),
            cmd.specialist_id,
            cmd.free_consultation ? "1" : "0",
            found,
            std::to_string(cfg_.sent_record_ttl.count()),
            sealed.topic,
            sealed.preferred,
            std::to_string(cmd.expires_at_ms),
            std::to_string(cfg_.remind_specialist_after.count()),
            sealed.wrapped_key,
            std::to_string(seq)};
        auto res = co_await call_script(conn_, scripts::inquiry(), std::move(k), std::move(a));
        if (!res) {
            co_return res.error();
        }
        if (script_status(*res) == "retry") {
            continue;
        }
        if (script_status(*res) == "seq" && res->elements.size() == 2) {
            remember_seq(cid, int_or_zero<std::uint64_t>(res->elements[1].str));
            continue;
        }
        auto out = parse_send_reply(*res, cid, true, fp, cmd.now_ms);
        if (out && !out->duplicate) {
            remember_seq(cid, out->seq);
        }
        if (out && cfg_.ack_after_replicas > 0) {
            auto confirmed = co_await confirm_replicated(cid, cmd.client_id, cmd.specialist_id);
            if (!confirmed) {
                co_return confirmed.error();
            }
        }
        co_return out;
    }
    co_return fail(errc::unavailable, "the conversation changed while writing; retry");
}

awaitable<outcome<routing::send_result>> redis_chat_store::inquiry_steps(
    routing::inquiry_command cmd) {
    if (cmd.client_id == cmd.specialist_id) {
        co_return fail(errc::forbidden, "you cannot write to yourself");
    }
    const std::string now = std::to_string(cmd.now_ms);
    const std::string fp = sealer_->fingerprint({"inquiry", cmd.specialist_id, cmd.body});
    const std::string record = keys::inquiry_record(cmd.client_id, cmd.client_msg_id);
    const std::string dedupe = keys::dedupe_field(true, cmd.client_msg_id);
    for (int attempt = 0; attempt < 5; ++attempt) {
        // The client's record and open conversation (one slot), the specialist's entry.
        auto rows = co_await call_all(
            conn_, cmds(store::cmd("GET", record),
                        store::cmd("HGET", keys::open_with(cmd.client_id), cmd.specialist_id),
                        store::cmd("HGET", keys::profile(cmd.specialist_id), "accepting")));
        for (const auto& r : rows) {
            if (!r) {
                co_return r.error();
            }
        }
        const std::string went_to = rows[0]->is_string() ? rows[0]->str : std::string();
        const std::string found = rows[1]->is_string() ? rows[1]->str : std::string();
        std::string cid = !went_to.empty() ? went_to
                          : !found.empty() ? found
                          : attempt == 0   ? cmd.new_conversation_id
                                           : random_hex_id();
        // The conversation the record or the open entry names may not exist yet (a claim whose
        // conversation step a crash stopped: it is created now) or be over.
        bool is_new = true;
        std::uint64_t last_seq = 0;
        std::string stale;  // named open by the client's entry, but over
        if (!went_to.empty() || !found.empty()) {
            auto m = co_await call(conn_, store::cmd("HMGET", keys::conversation(cid), "client",
                                                     "specialist", "state", "seq", dedupe));
            if (!m) {
                co_return m.error();
            }
            const auto& e = m->elements;
            if (e.size() == 5 && e[0].is_string()) {
                if (e[0].str != cmd.client_id || e[1].str != cmd.specialist_id) {
                    co_return fail(errc::internal, "an inquiry record names another conversation");
                }
                if (e[2].str == "inquiry" || e[2].str == "active" || e[4].is_string()) {
                    is_new = false;
                    last_seq = int_or_zero<std::uint64_t>(e[3].str);
                } else if (!went_to.empty()) {
                    // Over, without this message: retention took it (a resend is a new
                    // message, as on one Redis), or an attempt claimed it just before it ended.
                    auto del = co_await call(conn_, store::cmd("DEL", record));
                    if (!del) {
                        co_return del.error();
                    }
                    continue;
                } else {
                    stale = found;  // its state change stopped before the client's step
                    cid = random_hex_id();
                }
            }
        }
        if (is_new) {
            // Only the directory makes a specialist (inquiry.lua checks the same).
            if (!rows[2]->is_string()) {
                co_return fail(errc::not_found, "no specialist with this id is listed");
            }
            if (rows[2]->str != "1") {
                co_return fail(errc::failed_precondition,
                               "this specialist is not accepting new clients");
            }
        }
        // 1. The client's claim: the record, and a new conversation as the open one.
        // (Named first: g++ 12 destroys a conditional's temporary twice inside a co_await.)
        std::string still_open = stale.empty() ? found : std::string();
        auto claim = co_await call_script(
            conn_, scripts::inquiry_claim(), store::cmd(record, keys::open_with(cmd.client_id)),
            store::cmd(cmd.specialist_id, cid, std::move(still_open),
                       std::to_string(cfg_.sent_record_ttl.count()), stale));
        if (!claim) {
            co_return claim.error();
        }
        if (script_status(*claim) == "retry") {
            continue;
        }
        cluster_steps::fault_point("inquiry:claim");
        if (is_new) {
            // The retention index before the conversation, so that none is ever without its
            // entry (one a crash leaves without a conversation is dropped by the sweeper).
            auto indexed =
                co_await call(conn_, store::cmd("ZADD", keys::retention(), "NX", now, cid));
            if (!indexed) {
                co_return indexed.error();
            }
        }
        // 2. The conversation's step: created if new, then the message as a send's.
        key_ptr key;
        if (!is_new) {
            auto found_key = co_await key_of(cmd.client_id, cid);
            if (!found_key) {
                co_return found_key.error();
            }
            key = std::move(*found_key);
        }
        const std::uint64_t seq = is_new ? 1 : last_seq + 1;
        auto sealed = seal_inquiry(cmd, cid, std::move(key), is_new, seq);
        if (!sealed) {
            co_return sealed.error();
        }
        auto a = send_args({cmd.client_id, cmd.specialist_id, cid, cmd.client_id, cmd.client_msg_id,
                            now, cmd.now_ms, fp, sealed->body, seq},
                           cfg_.inbox_max_events, cfg_.remind_specialist_after);
        std::string notice_prefix = a[12];  // send.lua's ARGV[13]
        const std::string free = cmd.free_consultation ? "1" : "0";
        const std::string expires = std::to_string(cmd.expires_at_ms);
        // inquiry_conversation.lua's own arguments.
        a.push_back(cmd.specialist_id);
        a.push_back(free);
        a.push_back(sealed->topic);
        a.push_back(sealed->preferred);
        a.push_back(expires);
        a.push_back(sealed->wrapped_key);
        a.emplace_back(is_new ? "1" : "0");
        auto res = co_await call_script(
            conn_, scripts::inquiry_conversation(),
            store::cmd(keys::conversation(cid), keys::conversation_log(cid)), std::move(a));
        if (!res) {
            if (!is_new && res.error().code == errc::failed_precondition) {
                continue;  // the open conversation ended meanwhile: read again
            }
            co_return res.error();
        }
        const auto status = script_status(*res);
        std::string log_id;
        bool remind = false;
        if (status == "ok" && res->elements.size() == 4) {
            log_id = res->elements[1].str;
            remind = res->elements[2].str == "1";
        } else if (status == "dup" && res->elements.size() == 2) {
            const std::string_view rec = res->elements[1].str;
            log_id = rec.substr(0, rec.find(' '));
            if (rec.substr(rec.rfind(' ') + 1) != fp) {
                co_return parse_send_reply(*res, cid, true, fp, cmd.now_ms);  // a conflict
            }
            notice_prefix.clear();  // built from the log entry
        } else if (status == "retry" || status == "seq") {
            continue;
        } else {
            co_return fail(errc::internal, "malformed reply from the inquiry step");
        }
        const auto stored_seq = number_of_id(log_id);
        if (!stored_seq) {
            co_return fail(errc::internal, "malformed reply from the inquiry step");
        }
        cluster_steps::fault_point("inquiry:conversation");
        // 3. The user steps: the conversation's event (its creation; on a retry, or into an
        // open conversation, what it is now, appended only where no event of it is yet), then
        // the message.
        std::vector<std::string> event;
        if (status == "ok" && is_new) {
            event = {"k",        "c",           "c",          cid,
                     "client",   cmd.client_id, "specialist", cmd.specialist_id,
                     "state",    "inquiry",     "free",       free,
                     "created",  now,           "updated",    now,
                     "read_c",   "0",           "read_s",     "0",
                     "unread_c", "0",           "unread_s",   "0",
                     "topic",    sealed->topic, "pref",       sealed->preferred,
                     "expires",  expires,       "last",       "0-0"};
        } else {
            auto snapshot = co_await cluster_steps::conversation_snapshot(conn_, cid, cmd.client_id,
                                                                          cmd.specialist_id);
            if (!snapshot) {
                co_return snapshot.error();
            }
            event = std::move(*snapshot);
        }
        std::array<std::string, 2> events;
        for (const bool is_client : {true, false}) {
            const std::string& user = is_client ? cmd.client_id : cmd.specialist_id;
            const std::string& other = is_client ? cmd.specialist_id : cmd.client_id;
            auto told = co_await cluster_steps::append_conversation_event(
                conn_, user, is_client, other, cid, cmd.now_ms, event, cfg_.inbox_max_events);
            if (!told) {
                co_return told.error();
            }
            auto appended = co_await cluster_steps::append_message(
                conn_, user, is_client, other, cid, *stored_seq, log_id, notice_prefix,
                cfg_.inbox_max_events);
            if (!appended) {
                co_return appended.error();
            }
            events[is_client ? 0 : 1] = std::move(*appended);
            cluster_steps::fault_point(is_client ? "inquiry:client" : "inquiry:specialist");
        }
        // 4. The global schedule: the expiry and the reminder (each idempotent; a retry adds
        // back what a crash left out).
        std::string_view state, expires_at;
        for (std::size_t i = 0; i + 1 < event.size(); i += 2) {
            if (event[i] == "state") {
                state = event[i + 1];
            } else if (event[i] == "expires") {
                expires_at = event[i + 1];
            }
        }
        std::vector<std::vector<std::string>> schedule;
        if (state == "inquiry" && !expires_at.empty() && expires_at != "0") {
            schedule.push_back(
                store::cmd("ZADD", keys::inquiry_expiry(), std::string(expires_at), cid));
        }
        if (remind) {
            schedule.push_back(store::cmd(
                "ZADD", keys::reminders_due(),
                std::to_string(cmd.now_ms + cfg_.remind_specialist_after.count()), cid + "|s"));
        }
        auto scheduled = co_await call_all(conn_, std::move(schedule));
        for (auto& r : scheduled) {
            if (!r) {
                co_return r.error();
            }
        }
        if (status == "dup") {
            co_return parse_send_reply(*res, cid, true, fp, cmd.now_ms);
        }
        auto out =
            parse_send_reply(stored_reply(log_id, std::move(events[0]), std::move(events[1])), cid,
                             true, fp, cmd.now_ms);
        if (out) {
            remember_seq(cid, out->seq);
        }
        co_return out;
    }
    co_return fail(errc::unavailable, "the conversation changed while writing; retry");
}

awaitable<outcome<routing::conversation>> redis_chat_store::update_conversation(
    std::string user_id, std::string conversation_id, routing::conversation_action action,
    routing::decline_reason reason, std::int64_t now_ms) {
    auto p = co_await parties_for(user_id, conversation_id);
    if (!p) {
        co_return p.error();
    }
    outcome<reply> res = fail(errc::internal, "not updated");
    std::size_t first_field = 1;  // {'ok', 'k', 'c', 'c', <id>, the conversation's fields...}
    if (conn_.is_cluster()) {
        // {'ok', changed, state before, 'k', 'c', 'c', <id>, ...}
        first_field = 3;
        cluster_steps::state_change change{conversation_id,
                                           user_id,
                                           action_name(action),
                                           p->client,
                                           p->specialist,
                                           decline_reason_name(reason),
                                           now_ms,
                                           cfg_.inbox_max_events,
                                           "update"};
        res = co_await cluster_steps::change_state(conn_, std::move(change));
    } else {
        std::vector<std::string> k{keys::conversation(conversation_id),
                                   keys::conversation_log(conversation_id),
                                   keys::inbox(p->client),
                                   keys::inbox(p->specialist),
                                   keys::open_with(p->client),
                                   keys::inquiries(p->specialist),
                                   keys::conversations(p->client),
                                   keys::conversations(p->specialist),
                                   keys::acks(p->client),
                                   keys::acks(p->specialist),
                                   keys::inquiry_expiry(),
                                   keys::reminders_due()};
        std::vector<std::string> a{conversation_id,
                                   user_id,
                                   action_name(action),
                                   std::to_string(now_ms),
                                   std::to_string(cfg_.inbox_max_events),
                                   p->client,
                                   p->specialist,
                                   decline_reason_name(reason)};
        res = co_await call_script(conn_, scripts::update(), std::move(k), std::move(a));
    }
    if (!res) {
        co_return res.error();
    }
    auto fields = flat_strings(*res, first_field);
    auto key = co_await key_of(user_id, conversation_id);
    if (!key) {
        co_return key.error();
    }
    std::array<std::string, 2> opened;
    if (!open_conversation_fields(*sealer_, key->get(), conversation_id,
                                  std::span<std::string_view>(fields), opened)) {
        refused(user_id, conversation_id, "the inquiry's details",
                crypto::make_error_code(crypto::errc::refused));
        co_return fail(errc::internal, "a stored record failed its integrity check");
    }
    const auto meta = parse_conversation_meta(
        fields.size() > 4 ? std::span<const std::string_view>(fields).subspan(4)
                          : std::span<const std::string_view>{});
    if (!meta.exists()) {
        co_return fail(errc::internal, "malformed reply from the update script");
    }
    co_return view_of(conversation_id, meta, user_id);
}

awaitable<outcome<void>> redis_chat_store::mark_read(std::string user_id,
                                                     std::string conversation_id,
                                                     std::uint64_t up_to_seq) {
    auto p = co_await parties_for(user_id, conversation_id);
    if (!p) {
        co_return p.error();
    }
    const auto after =
        user_id == p->client ? cfg_.remind_client_after : cfg_.remind_specialist_after;
    const bool cluster = conn_.is_cluster();
    // On a cluster the reminders' schedule is a step of its own, after the conversation's
    // (mark_read.lua).
    // (Named first: g++ 12 destroys a conditional's temporary twice inside a co_await.)
    std::string schedule_key =
        cluster ? keys::conversation(conversation_id) : keys::reminders_due();
    auto res = co_await call_script(
        conn_, scripts::mark_read(),
        cmd(keys::conversation(conversation_id), keys::conversation_log(conversation_id),
            std::move(schedule_key)),
        cmd(conversation_id, user_id, std::to_string(up_to_seq), std::to_string(after.count())));
    if (!res) {
        co_return res.error();
    }
    if (cluster && res->elements.size() == 3 && !res->elements[2].str.empty()) {
        const std::string member = conversation_id + (user_id == p->client ? "|c" : "|s");
        const auto& due = res->elements[2].str;
        auto change = due == "x" ? cmd("ZREM", keys::reminders_due(), member)
                                 : cmd("ZADD", keys::reminders_due(), "XX", due, member);
        auto step = co_await call(conn_, std::move(change));
        if (!step) {
            co_return step.error();
        }
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> redis_chat_store::ack(std::string user_id, std::string device_id,
                                               std::string cursor, routing::delivered_marks marks) {
    const auto n = number_of_id(cursor);
    if (!n) {
        co_return fail(errc::invalid_argument, "not a cursor of this stream");
    }
    std::vector<std::string> a{keys::device_field(device_id), std::to_string(*n)};
    a.reserve(2 + 4 * marks.size());
    for (auto& m : marks) {
        a.push_back(keys::delivered_field(m.conversation_id));
        a.push_back(std::to_string(m.seq));
        a.push_back(keys::channel(m.to));
        a.push_back(delivered_payload(m.conversation_id, user_id, m.seq));
    }
    auto res = co_await call_script(conn_, scripts::ack(), cmd(keys::acks(user_id)), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

}  // namespace confide::store
