#include "admin/privacy_commands.hpp"

#include "crypto/key_ring.hpp"
#include "store/erasure.hpp"
#include "store/key_rotation.hpp"
#include "store/redis_check.hpp"
#include "store/sealing.hpp"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <ostream>

namespace confide::admin {
namespace {

// The value of each `--name value` pair of `rest` among `known` (a usage error otherwise).
std::map<std::string, std::string> option_values(const std::vector<std::string>& rest,
                                                 std::initializer_list<const char*> known) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < rest.size(); i += 2) {
        if (std::find(known.begin(), known.end(), rest[i]) == known.end()) {
            throw usage_error("unknown option " + rest[i]);
        }
        if (i + 1 >= rest.size()) {
            throw usage_error(rest[i] + " needs a value");
        }
        out[rest[i].substr(2)] = rest[i + 1];
    }
    return out;
}

}  // namespace

// keys rotate --data-key-file FILE [--batch N]: the key file must fit what Redis recorded
// (store::check_keys, which also records a new KEK), then every data key is rewrapped.
int rotate_command(session& s, const std::vector<std::string>& rest, std::ostream& out,
                   std::ostream& err) {
    auto opts = option_values(rest, {"--data-key-file", "--batch"});
    const std::string path = opts.count("data-key-file") != 0 ? opts["data-key-file"]
                                                              : env_or("CONFIDE_DATA_KEY_FILE", "");
    if (path.empty()) {
        throw usage_error("keys rotate needs --data-key-file FILE (or CONFIDE_DATA_KEY_FILE)");
    }
    const std::uint32_t batch =
        opts.count("batch") != 0 ? whole_number("batch", opts["batch"]) : 500;
    if (batch == 0) {
        throw usage_error("--batch must be more than 0");
    }
    const store::sealer keys(crypto::kek_ring::load_file(path));
    const auto problem = s.run(store::check_keys(s.redis(), keys, path));
    if (!problem.empty()) {
        throw command_failed(problem);
    }
    const auto& current = keys.ring().current_id();
    const auto r = s.run(store::rotate_data_keys(s.redis(), keys.ring(), batch));
    const std::string summary = std::to_string(r.rewrapped) + " rewrapped, " +
                                std::to_string(r.failures.size()) + " failed";
    s.audited("keys rotate to " + current + ": " + summary, routing::audit_action::key_rotation);
    out << "conversations: " << r.conversations << "\n"
        << "rewrapped under " << current << ": " << r.rewrapped << "\n"
        << "already under " << current << ": " << r.current << "\n"
        << "without a data key (erased): " << r.without_key << "\n"
        << "erased meanwhile: " << r.changed << "\n";
    for (const auto& f : r.failures) {
        err << "not rewrapped: " << f << "\n";
    }
    if (!r.failures.empty()) {
        throw command_failed(std::to_string(r.failures.size()) +
                             " data keys are still under another key: keep it in the key file");
    }
    // Every data key is under the current KEK: a key file with only the old ones is refused at
    // a server's start from now on.
    const auto forgotten = s.run(store::forget_other_keys(s.redis(), keys.ring()));
    for (const auto& id : forgotten) {
        out << "no longer accepted alone at a server's start: " << id << "\n";
    }
    out << "every data key is wrapped under " << current
        << ": the other keys can be removed from the key file (then restart the servers)\n";
    return 0;
}

// erase user ID | erase conversation CID [--rewrite-timeout-s S]
int erase_command(session& s, const std::string& command, const std::vector<std::string>& args,
                  std::ostream& out) {
    if (command != "user" && command != "conversation") {
        throw usage_error("unknown erase command '" + command + "' (known: user, conversation)");
    }
    if (args.empty() || args[0].starts_with("--")) {
        throw usage_error("erase " + command + " needs an id");
    }
    const std::string& id = args[0];
    auto opts = option_values({args.begin() + 1, args.end()}, {"--rewrite-timeout-s"});
    const std::uint32_t timeout_s =
        opts.count("rewrite-timeout-s") != 0
            ? whole_number("rewrite-timeout-s", opts["rewrite-timeout-s"])
            : 600;
    const auto r = command == "user"
                       ? s.run(store::erase_user(s.redis(), id, std::chrono::seconds(10)))
                       : s.run(store::erase_conversation(s.redis(), id));
    for (const auto& cid : r.conversations) {
        out << "erased conversation " << cid << "\n";
    }
    std::string detail = "erase " + command + " " + id + ": " +
                         std::to_string(r.conversations.size()) + " conversations";
    if (command == "user") {
        out << "deleted " << r.user_keys << " keys of user " << id << "\n";
        detail += ", " + std::to_string(r.user_keys) + " keys";
        if (r.connections_left != 0) {
            out << "warning: " << r.connections_left
                << " connections still registered (a node that did not answer): their entries "
                   "expire with the presence TTL\n";
        }
    }
    s.audited(detail, routing::audit_action::erasure, command == "conversation" ? id : "");
    auto rewritten =
        asio::co_spawn(s.executor(),
                       store::rewrite_redis_files(s.redis(), std::chrono::seconds(timeout_s)),
                       asio::use_future)
            .get();
    if (!rewritten) {
        throw command_failed("erased, but Redis's files were not rewritten (" +
                             rewritten.error().message +
                             "): an old copy may stay on disk until the next rewrite; run the "
                             "command again");
    }
    out << "Redis rewrote its append-only file and its RDB snapshot\n";
    return 0;
}

}  // namespace confide::admin
