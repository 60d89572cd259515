#include "store/cluster_steps.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "store/commands.hpp"
#include "store/conversation_view.hpp"
#include "store/fields.hpp"
#include "store/keys.hpp"
#include "store/notice_codec.hpp"
#include "store/scripts.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <cstdlib>
#include <cstring>
#include <iterator>
#include <vector>

namespace confide::store::cluster_steps {
namespace {

// Missing messages are read from the log and appended this many at a time.
constexpr std::size_t repair_batch = 100;

std::string id_of(std::uint64_t seq) {
    return "0-" + std::to_string(seq);
}

// The script's arguments for one message.
void add_message(std::vector<std::string>& args, std::uint64_t seq, std::string log_id,
                 std::string notice_prefix) {
    args.push_back(std::to_string(seq));
    args.push_back(std::move(log_id));
    args.push_back(std::move(notice_prefix));
}

// Log entries (first, last] of `cid`, as user_events.lua's arguments after `args`' head.
awaitable<outcome<std::size_t>> add_from_log(const db& d, std::vector<std::string>& args,
                                             const std::string& cid, std::uint64_t after,
                                             std::uint64_t last) {
    auto rows = co_await call(d, cmd("XRANGE", keys::conversation_log(cid), "(" + id_of(after),
                                     id_of(last), "COUNT", std::to_string(repair_batch)));
    if (!rows) {
        co_return rows.error();
    }
    std::size_t added = 0;
    for (const auto& e : rows->elements) {
        auto m = parse_log_entry(e, cid);
        if (!m) {
            log::error("conversation={}: malformed message in storage", cid);
            co_return fail(errc::internal, "cannot store the message");
        }
        add_message(args, m->seq, e.elements[0].str,
                    message_notice_prefix(cid, m->sender_id, m->client_msg_id,
                                          std::to_string(m->server_time_ms), m->body));
        ++added;
    }
    co_return added;
}

}  // namespace

awaitable<outcome<std::vector<std::string>>> conversation_snapshot(db d, std::string cid,
                                                                   std::string client,
                                                                   std::string specialist) {
    auto peek = co_await call_script(
        d, scripts::conversation_state(), cmd(keys::conversation(cid), keys::conversation_log(cid)),
        cmd(cid, "", "peek", "0", "", std::move(client), std::move(specialist), ""));
    if (!peek) {
        co_return peek.error();
    }
    if (script_status(*peek) != "ok" || peek->elements.size() < 4) {
        co_return fail(errc::internal, "malformed reply from the conversation step");
    }
    std::vector<std::string> fields;
    fields.reserve(peek->elements.size() - 3);
    for (std::size_t i = 3; i < peek->elements.size(); ++i) {
        fields.push_back(std::move(peek->elements[i].str));
    }
    co_return fields;
}

awaitable<outcome<std::string>> append_message(db d, std::string user, bool is_client,
                                               std::string other, std::string cid,
                                               std::uint64_t seq, std::string log_id,
                                               std::string notice_prefix, std::size_t maxlen) {
    std::vector<std::string> head{std::to_string(maxlen), keys::channel(user), cid};
    std::vector<std::string> args = head;
    if (notice_prefix.empty()) {
        auto added = co_await add_from_log(d, args, cid, seq - 1, seq);
        if (!added) {
            co_return added.error();
        }
        if (*added == 0) {
            co_return fail(errc::internal, "cannot store the message");
        }
    } else {
        add_message(args, seq, std::move(log_id), std::move(notice_prefix));
    }
    // Each round either appends this message or, after a gap, up to repair_batch missing ones
    // before it: bounded by the conversation's length over the batch, plus one (and one for
    // the conversation's event).
    bool told = false;
    while (true) {
        auto res = co_await call_script(d, scripts::user_events(),
                                        cmd(keys::inbox(user), keys::appended(user)), args);
        if (!res) {
            co_return res.error();
        }
        const auto status = script_status(*res);
        if ((status == "ok" || status == "dup") && res->elements.size() == 3) {
            const bool ours = res->elements[1].str == std::to_string(seq);
            co_return ours ? res->elements[2].str : std::string();
        }
        if (status == "new" && !told) {
            log::info(
                "user={} conversation={}: its event was missing from the stream: appended now",
                user, cid);
            told = true;
            std::string client = is_client ? user : other;
            std::string specialist = is_client ? other : user;
            auto fields =
                co_await conversation_snapshot(d, cid, std::move(client), std::move(specialist));
            if (!fields) {
                co_return fields.error();
            }
            auto appended = co_await append_conversation_event(
                d, user, is_client, other, cid, now_ms(), std::move(*fields), maxlen);
            if (!appended) {
                co_return appended.error();
            }
            continue;
        }
        std::uint64_t have = 0;
        if (status != "gap" || res->elements.size() != 2 ||
            !parse_int(res->elements[1].str, have) || have + 1 >= seq) {
            co_return fail(errc::internal, "malformed reply from the user step");
        }
        log::info(
            "user={} conversation={}: messages {}..{} were missing from the stream: "
            "appended now",
            user, cid, have + 1, seq - 1);
        // The missing ones, up to this one; the next round appends them in order.
        std::vector<std::string> repair = head;
        auto added = co_await add_from_log(d, repair, cid, have, seq);
        if (!added) {
            co_return added.error();
        }
        if (*added == 0) {
            co_return fail(errc::internal, "cannot store the message");
        }
        // A batch that reaches this message replaces the arguments (its notice comes from the
        // log too); one that does not is appended first, and the loop asks again.
        auto res2 = co_await call_script(d, scripts::user_events(),
                                         cmd(keys::inbox(user), keys::appended(user)), repair);
        if (!res2) {
            co_return res2.error();
        }
        if (script_status(*res2) == "gap") {
            co_return fail(errc::internal, "the user step found a gap it just filled");
        }
    }
}

awaitable<outcome<void>> append_conversation_event(db d, std::string user, bool is_client,
                                                   std::string other, std::string cid,
                                                   std::int64_t now_ms,
                                                   std::vector<std::string> fields,
                                                   std::size_t maxlen) {
    std::string state;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i] == "state") {
            state = fields[i + 1];
        }
    }
    std::vector<std::string> args{std::to_string(maxlen),
                                  keys::channel(user),
                                  std::move(cid),
                                  std::to_string(now_ms),
                                  is_client ? "c" : "s",
                                  other,
                                  state};
    args.reserve(args.size() + fields.size());
    std::move(fields.begin(), fields.end(), std::back_inserter(args));
    // The client's open conversations are named by specialist; the specialist's inquiries by id.
    // (Named first: g++ 12 destroys a conditional's temporary twice inside a co_await.)
    std::string open = is_client ? keys::open_with(user) : keys::inquiries(user);
    auto res =
        co_await call_script(d, scripts::user_conversation(),
                             cmd(keys::inbox(user), keys::appended(user), keys::conversations(user),
                                 keys::contacts(user), std::move(open)),
                             std::move(args));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<reply>> change_state(db d, state_change c) {
    const std::string& cid = c.conversation_id;
    const std::string now = std::to_string(c.now_ms);
    auto res = co_await call_script(
        d, scripts::conversation_state(), cmd(keys::conversation(cid), keys::conversation_log(cid)),
        cmd(cid, c.actor, c.action, now, "", c.client, c.specialist, c.reason));
    if (!res || script_status(*res) != "ok" || res->elements.size() < 4) {
        co_return std::move(res);
    }
    const std::string fault = c.fault;
    fault_point((fault + ":conversation").c_str());
    // The event carries both parties' delivered marks, each in its user's slot.
    auto marks = co_await call_all(
        d, cmds(cmd("HGET", keys::acks(c.client), keys::delivered_field(cid)),
                cmd("HGET", keys::acks(c.specialist), keys::delivered_field(cid))));
    std::vector<std::string> fields;
    fields.reserve(res->elements.size());
    std::string state;
    for (std::size_t i = 3; i < res->elements.size(); ++i) {
        if (i % 2 == 0 && res->elements[i - 1].str == "state") {
            state = res->elements[i].str;
        }
        fields.push_back(res->elements[i].str);
    }
    for (std::size_t i = 0; i < marks.size(); ++i) {
        if (!marks[i]) {
            co_return marks[i].error();
        }
        // In the event and in the reply, as update.lua's.
        for (std::string v : {std::string(i == 0 ? "dlv_c" : "dlv_s"),
                              marks[i]->is_string() ? marks[i]->str : std::string("0")}) {
            fields.push_back(v);
            reply e;
            e.type = reply::kind::string;
            e.str = std::move(v);
            res->elements.push_back(std::move(e));
        }
    }
    for (const bool is_client : {true, false}) {
        std::string user = is_client ? c.client : c.specialist;
        std::string other = is_client ? c.specialist : c.client;
        auto appended = co_await append_conversation_event(
            d, std::move(user), is_client, std::move(other), cid, c.now_ms, fields, c.maxlen);
        if (!appended) {
            co_return appended.error();
        }
        fault_point((fault + (is_client ? ":client" : ":specialist")).c_str());
    }
    // The schedule, last: an entry a crash leaves behind is checked against the conversation by
    // the sweeper, which finds nothing to do (or repeats these steps, for an expiry).
    std::vector<std::vector<std::string>> schedule;
    if (state != "inquiry") {
        schedule.push_back(cmd("ZREM", keys::inquiry_expiry(), cid));
    }
    if (state != "inquiry" && state != "active") {
        schedule.push_back(cmd("ZREM", keys::reminders_due(), cid + "|c", cid + "|s"));
    }
    auto scheduled = co_await call_all(d, std::move(schedule));
    for (auto& r : scheduled) {
        if (!r) {
            co_return r.error();
        }
    }
    co_return std::move(res);
}

namespace {

// append_message, then the fault point `point` once it succeeded.
awaitable<outcome<std::string>> append_then(db d, std::string user, bool is_client,
                                            std::string other, std::string cid, std::uint64_t seq,
                                            std::string log_id, std::string notice_prefix,
                                            std::size_t maxlen, const char* point) {
    auto r = co_await append_message(std::move(d), std::move(user), is_client, std::move(other),
                                     std::move(cid), seq, std::move(log_id),
                                     std::move(notice_prefix), maxlen);
    if (r) {
        fault_point(point);
    }
    co_return r;
}

}  // namespace

awaitable<outcome<party_events>> append_to_both(db d, std::string client, std::string specialist,
                                                std::string cid, std::uint64_t seq,
                                                std::string log_id, std::string notice_prefix,
                                                std::size_t maxlen) {
    using namespace asio::experimental::awaitable_operators;
    // Neither coroutine throws (failures are outcomes), so `&&` never cancels one for the other.
    auto both = co_await (append_then(d, client, true, specialist, cid, seq, log_id, notice_prefix,
                                      maxlen, "send:client") &&
                          append_then(d, specialist, false, client, cid, seq, log_id, notice_prefix,
                                      maxlen, "send:specialist"));
    auto& [c, s] = both;
    if (!c) {
        co_return c.error();
    }
    if (!s) {
        co_return s.error();
    }
    fault_point("send:users");
    co_return party_events{std::move(*c), std::move(*s)};
}

void fault_point(const char* name) noexcept {
#ifdef CONFIDE_FAULT_POINTS
    // Read each time: fault points are on the cluster's write path only, in test builds.
    const char* armed = std::getenv("CONFIDE_TEST_EXIT_AT");
    if (armed != nullptr && std::strcmp(armed, name) == 0) {
        log::warn("fault point {}: exiting now (CONFIDE_TEST_EXIT_AT)", name);
        std::_Exit(70);
    }
#else
    (void)name;
#endif
}

}  // namespace confide::store::cluster_steps
