#include "store/key_rotation.hpp"

#include "crypto/data_key.hpp"
#include "store/commands.hpp"
#include "store/keys.hpp"
#include "store/scripts.hpp"

namespace confide::store {

namespace {

// rotate_data_keys() over the conversations of the master serving `slot` (all on one Redis).
awaitable<outcome<void>> rotate_on(const db& conn, const crypto::kek_ring& ring,
                                   std::uint32_t batch, std::uint16_t slot, rotation_report& out) {
    std::string cursor = "0";
    do {
        auto page = co_await scan(conn, std::move(cursor), keys::conversation_pattern(), "hash",
                                  batch, slot);
        if (!page) {
            co_return page.error();
        }
        cursor = std::move(page->cursor);
        std::vector<std::string> ids;
        std::vector<std::vector<std::string>> reads;
        for (const auto& key : page->keys) {
            const auto id = keys::conversation_of_key(key);
            if (id.empty()) {
                continue;
            }
            ids.emplace_back(id);
            reads.push_back(cmd("HGET", key, "dk"));
        }
        auto rows = co_await call_all(conn, std::move(reads));
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (!rows[i]) {
                co_return rows[i].error();
            }
            ++out.conversations;
            if (!rows[i]->is_string()) {
                ++out.without_key;
                continue;
            }
            const std::string& wrapped = rows[i]->str;
            if (auto info = crypto::inspect_wrapped(wrapped);
                info && info->kek_id == ring.current_id()) {
                ++out.current;
                continue;
            }
            auto again = crypto::rewrap_data_key(ring, wrapped, ids[i]);
            if (!again) {
                out.failures.push_back(ids[i] + ": " + again.error().message());
                continue;
            }
            auto set =
                co_await call_script(conn, scripts::rewrap(), cmd(keys::conversation(ids[i])),
                                     cmd(wrapped, std::move(*again)));
            if (!set) {
                co_return set.error();
            }
            if (script_status(*set) == "ok") {
                ++out.rewrapped;
            } else {
                ++out.changed;
            }
        }
    } while (cursor != "0");
    co_return outcome<void>{};
}

}  // namespace

awaitable<outcome<rotation_report>> rotate_data_keys(db conn, const crypto::kek_ring& ring,
                                                     std::uint32_t batch) {
    // On a Redis Cluster SCAN sees one master's keys: every master is walked.
    const auto slots = scan_slots(conn);
    if (slots.empty()) {
        co_return fail(errc::unavailable, "no slot map from the Redis Cluster yet");
    }
    rotation_report out;
    for (const auto slot : slots) {
        if (auto r = co_await rotate_on(conn, ring, batch, slot, out); !r) {
            co_return r.error();
        }
    }
    co_return out;
}

awaitable<outcome<std::vector<std::string>>> forget_other_keys(db conn,
                                                               const crypto::kek_ring& ring) {
    auto stored = co_await call(conn, cmd("HKEYS", keys::key_check()));
    if (!stored) {
        co_return stored.error();
    }
    std::vector<std::string> gone;
    std::vector<std::string> del{"HDEL", keys::key_check()};
    for (const auto& field : stored->elements) {
        if (field.str.starts_with("kek:") && field.str != "kek:" + ring.current_id()) {
            gone.push_back(field.str.substr(4));
            del.push_back(field.str);
        }
    }
    if (!gone.empty()) {
        if (auto r = co_await call(conn, std::move(del)); !r) {
            co_return r.error();
        }
    }
    co_return gone;
}

}  // namespace confide::store
