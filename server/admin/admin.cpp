#include "admin/admin.hpp"

#include "admin/privacy_commands.hpp"
#include "admin/session.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "crypto/key_ring.hpp"
#include "routing/directory.hpp"
#include "store/redis/config.hpp"

#include <boost/program_options.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace confide::admin {
namespace {

namespace po = boost::program_options;
using routing::specialist_profile;

constexpr const char* usage =
    R"(Usage: confide-admin [--redis HOST:PORT|unix:PATH] [--redis-password PW] <group> <command> ...

The operator's tool: it talks to the Redis the servers use (the same --redis options and
CONFIDE_REDIS / CONFIDE_REDIS_PASSWORD variables as confide-server; flags win). Changes take
effect on every node at once.

The directory of specialists (only listed specialists may sign in as specialists and receive
inquiries):

  directory add ID --name NAME [entry options]   list a specialist
  directory update ID [entry options]            change an entry (only the options given)
  directory remove ID                            remove an entry: they can no longer sign in as a
                                                 specialist nor get new inquiries; their
                                                 conversations stay
  directory show ID                              print an entry
  directory list                                 print every entry, one line each
  directory migrate [--apply] [--accepting yes|no]
                                                 list the specialists bound before the directory
                                                 existed who have signed in (dry run without
                                                 --apply; listed as not accepting new clients
                                                 unless --accepting yes)

The keys that seal what people write (docs/privacy.md; generate needs no Redis):

  keys generate --out FILE [--id ID]             write a new key file (chmod 600): one fresh
                                                 key-encryption key named ID (default k1),
                                                 current, and a fresh fingerprint key; refuses
                                                 to overwrite FILE

  keys rotate --data-key-file FILE [--batch N]
                                                 rewrap every conversation's data key under
                                                 FILE's current key-encryption key (FILE holds
                                                 the old keys too); safe while servers run. Then
                                                 the old keys can be removed from the key file
                                                 [CONFIDE_DATA_KEY_FILE]

Erasure (crypto-shredding; docs/privacy.md, "Erasure"). Each ends with Redis rewriting its
append-only file and writing a new RDB snapshot, waited for:

  erase user ID [--rewrite-timeout-s S]          close the user's connections, erase each of
                                                 their conversations (the other party sees it as
                                                 erased) and delete every key of theirs
  erase conversation CID [--rewrite-timeout-s S] erase one conversation for both parties
                                                 (default timeout 600 s)

The audit trail (who accessed what and when; never a message body or a token):

  audit query [--user ID] [--from MS] [--to MS] [--limit N]
                                                 print the events of one user (every user
                                                 without --user) added from --from to --to
                                                 (ms since the Unix epoch, inclusive; default:
                                                 everything kept), oldest first, one JSON line
                                                 each, at most --limit (default 1000); a last
                                                 line "more" on stderr says the range holds more

Every change above, and every audit query, is itself recorded in the audit trail (action
admin_command, key_rotation or erasure, user "os:<login>" of whoever ran it, the command in its
detail); a command whose record Redis did not store exits with status 1 and says it was done.

Entry options:
  --name TEXT                    display name (required for add)
  --specialties a,b              lower-case tags, e.g. anxiety,grief,couples
  --languages en,de              language tags, e.g. en,de,pt-BR
  --bio TEXT                     a short bio
  --time-zone ZONE               IANA time zone of the office hours (default UTC)
  --office-hours TEXT            e.g. "mon-fri 09:00-17:00, sat 10:00-12:00" ("" for none)
  --expected-reply-minutes N     the reply time the specialist states (0: none)
  --accepting yes|no             accepting new clients (default yes)
  --free-consultation-minutes N  length of the free initial consultation (0: not offered)

Connection options:
  --redis HOST:PORT|unix:PATH    default 127.0.0.1:6379 [CONFIDE_REDIS]
  --redis-cluster HOST:PORT,...  instead of --redis: any nodes of the Redis Cluster the servers
                                 use [CONFIDE_REDIS_CLUSTER]
  --redis-password PW            prefer the variable [CONFIDE_REDIS_PASSWORD]
  --redis-timeout-ms MS          default 5000

Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 a usage error.
)";

void set_address(store::redis::config& cfg, const std::string& text,
                 const std::string& option = "--redis") {
    if (text.starts_with("unix:")) {
        cfg.unix_socket = text.substr(5);
        if (cfg.unix_socket.empty() || cfg.unix_socket.front() != '/') {
            throw usage_error(option + ": '" + text + "' is not unix:/absolute/path");
        }
        return;
    }
    const auto colon = text.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0) {
        throw usage_error(option + ": '" + text + "' is not HOST:PORT or unix:/path");
    }
    const auto* first = text.data() + colon + 1;
    const auto* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(first, last, port);
    if (ec != std::errc{} || end != last || port < 1 || port > 65535) {
        throw usage_error(option + ": '" + text + "' has no valid port");
    }
    cfg.host = text.substr(0, colon);
    cfg.port = static_cast<std::uint16_t>(port);
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto b = item.find_first_not_of(" \t");
        const auto e = item.find_last_not_of(" \t");
        if (b != std::string::npos) {
            out.push_back(item.substr(b, e - b + 1));
        }
    }
    return out;
}

std::vector<store::redis::node_address> cluster_nodes(const std::string& list) {
    std::vector<store::redis::node_address> out;
    for (const auto& node : split_list(list)) {
        store::redis::config one;
        set_address(one, node, "--redis-cluster");
        if (!one.unix_socket.empty()) {
            throw usage_error("--redis-cluster: '" + node + "' is not HOST:PORT");
        }
        out.push_back({one.host, one.port});
    }
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ", ") + i;
    }
    return out;
}

bool yes_no(const std::string& option, const std::string& v) {
    if (v == "yes" || v == "true" || v == "1") {
        return true;
    }
    if (v == "no" || v == "false" || v == "0") {
        return false;
    }
    throw usage_error("--" + option + ": '" + v + "' is not yes or no");
}

po::options_description entry_options() {
    po::options_description d;
    d.add_options()("name", po::value<std::string>())("specialties", po::value<std::string>())(
        "languages", po::value<std::string>())("bio", po::value<std::string>())(
        "time-zone", po::value<std::string>())("office-hours", po::value<std::string>())(
        "expected-reply-minutes", po::value<std::string>())("accepting", po::value<std::string>())(
        "free-consultation-minutes", po::value<std::string>());
    return d;
}

// The positional id and the options of a directory command.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        bool with_id) {
    po::options_description all;
    all.add(opts);
    all.add_options()("id", po::value<std::string>());
    po::positional_options_description pos;
    if (with_id) {
        pos.add("id", 1);
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    } catch (const po::error& e) {
        throw usage_error(e.what());
    }
    if (with_id && vm.count("id") == 0) {
        throw usage_error("a specialist id is required");
    }
    return vm;
}

// Applies the options given to `p`.
void apply(specialist_profile& p, const po::variables_map& vm) {
    auto get = [&](const char* name) -> std::optional<std::string> {
        if (vm.count(name) == 0) {
            return std::nullopt;
        }
        return vm[name].as<std::string>();
    };
    if (auto v = get("name")) {
        p.display_name = *v;
    }
    if (auto v = get("specialties")) {
        p.specialties = split_list(*v);
    }
    if (auto v = get("languages")) {
        p.languages = split_list(*v);
    }
    if (auto v = get("bio")) {
        p.bio = *v;
    }
    if (auto v = get("time-zone")) {
        p.time_zone = *v;
    }
    if (auto v = get("office-hours")) {
        auto hours = routing::parse_office_hours(*v);
        if (!hours) {
            throw usage_error(hours.error().message);
        }
        p.office_hours = std::move(*hours);
    }
    if (auto v = get("expected-reply-minutes")) {
        p.expected_reply_minutes = whole_number("expected-reply-minutes", *v);
    }
    if (auto v = get("accepting")) {
        p.accepting_new_clients = yes_no("accepting", *v);
    }
    if (auto v = get("free-consultation-minutes")) {
        p.free_consultation_minutes = whole_number("free-consultation-minutes", *v);
    }
    p.updated_ms = now_ms();
}

void validate(const specialist_profile& p) {
    if (auto ok = routing::validate_profile(p); !ok) {
        throw usage_error(ok.error().message);
    }
}

void print(std::ostream& out, const specialist_profile& p) {
    out << "id: " << p.id << "\n"
        << "name: " << p.display_name << "\n"
        << "specialties: " << join(p.specialties) << "\n"
        << "languages: " << join(p.languages) << "\n"
        << "time zone: " << p.time_zone << "\n"
        << "office hours: " << routing::format_office_hours(p.office_hours) << "\n"
        << "expected reply: " << p.expected_reply_minutes << " min\n"
        << "accepting new clients: " << (p.accepting_new_clients ? "yes" : "no") << "\n"
        << "free consultation: "
        << (p.free_consultation_minutes == 0 ? std::string("no")
                                             : std::to_string(p.free_consultation_minutes) + " min")
        << "\n"
        << "bio: " << p.bio << "\n";
}

int directory_command(session& s, const std::string& command, const std::vector<std::string>& args,
                      std::ostream& out) {
    if (command == "add" || command == "update") {
        const auto vm = parse(args, entry_options(), true);
        const auto id = vm["id"].as<std::string>();
        specialist_profile p;
        if (command == "update") {
            auto current = s.run(s.directory().get(id));
            if (!current) {
                throw command_failed(id + " is not listed (list them with add)");
            }
            p = std::move(*current);
        } else {
            if (vm.count("name") == 0) {
                throw usage_error("--name is required to add a specialist");
            }
            p.id = id;
        }
        apply(p, vm);
        validate(p);
        if (command == "add") {
            s.run(s.directory().add(p));
            s.audited("directory add " + id);
            out << "listed " << id << "\n";
        } else {
            s.run(s.directory().update(p));
            s.audited("directory update " + id);
            out << "updated " << id << "\n";
        }
        return 0;
    }
    if (command == "remove") {
        const auto vm = parse(args, {}, true);
        const auto id = vm["id"].as<std::string>();
        if (!s.run(s.directory().remove(id))) {
            throw command_failed(id + " is not listed");
        }
        s.audited("directory remove " + id);
        out << "removed " << id << "\n";
        return 0;
    }
    if (command == "show") {
        const auto vm = parse(args, {}, true);
        const auto id = vm["id"].as<std::string>();
        auto p = s.run(s.directory().get(id));
        if (!p) {
            throw command_failed(id + " is not listed");
        }
        print(out, *p);
        return 0;
    }
    if (command == "list") {
        parse(args, {}, false);
        for (const auto& p : s.run(s.directory().list())) {
            out << p.id << "\t" << p.display_name << "\t"
                << (p.accepting_new_clients ? "accepting" : "not accepting") << "\t"
                << join(p.specialties) << "\t" << join(p.languages) << "\n";
        }
        return 0;
    }
    if (command == "migrate") {
        po::options_description opts;
        opts.add_options()("apply", po::bool_switch())("accepting", po::value<std::string>());
        const auto vm = parse(args, opts, false);
        const bool do_it = vm["apply"].as<bool>();
        const bool accepting =
            vm.count("accepting") != 0 && yes_no("accepting", vm["accepting"].as<std::string>());
        for (const auto& b : s.run(s.directory().bound_specialists())) {
            if (b.listed) {
                out << b.id << ": listed already\n";
            } else if (!b.signed_in) {
                // Bound by someone's inquiry before the directory existed: the person signs in
                // as a client now (sign-in rebinds them); nothing to list.
                out << b.id << ": named by an inquiry only, never signed in: not listed\n";
            } else {
                specialist_profile p;
                p.id = b.id;
                p.display_name = b.id;
                p.accepting_new_clients = accepting;
                p.updated_ms = now_ms();
                if (do_it) {
                    s.run(s.directory().add(p));
                    s.audited("directory migrate " + b.id);
                }
                out << b.id << ": " << (do_it ? "listed" : "would be listed")
                    << (accepting ? "" : " (not accepting new clients)")
                    << ": complete the entry with directory update\n";
            }
        }
        return 0;
    }
    throw usage_error("unknown directory command '" + command + "'");
}

std::int64_t milliseconds_since_epoch(const std::string& option, const std::string& v) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || n < 0) {
        throw usage_error("--" + option + ": '" + v + "' is not a time in ms since the Unix epoch");
    }
    return n;
}

int audit_command(session& s, const std::string& command, const std::vector<std::string>& args,
                  std::ostream& out, std::ostream& err) {
    if (command != "query") {
        throw usage_error("unknown audit command '" + command + "' (known: query)");
    }
    po::options_description opts;
    opts.add_options()("user", po::value<std::string>())("from", po::value<std::string>())(
        "to", po::value<std::string>())("limit", po::value<std::string>());
    const auto vm = parse(args, opts, false);
    const std::string user = vm.count("user") != 0 ? vm["user"].as<std::string>() : "";
    const std::int64_t from =
        vm.count("from") != 0 ? milliseconds_since_epoch("from", vm["from"].as<std::string>()) : 0;
    const std::int64_t to = vm.count("to") != 0
                                ? milliseconds_since_epoch("to", vm["to"].as<std::string>())
                                : std::numeric_limits<std::int64_t>::max();
    const std::uint32_t limit =
        vm.count("limit") != 0 ? whole_number("limit", vm["limit"].as<std::string>()) : 1000;
    if (limit == 0 || from > to) {
        throw usage_error("--limit must be more than 0 and --from at most --to");
    }
    const auto page = s.run(s.audit().query(user, from, to, limit));
    // Reading the trail is itself an access an auditor asks about; recorded after the read so
    // the query does not find its own event.
    s.audited("audit query" + (user.empty() ? std::string() : " --user " + user));
    for (const auto& e : page.events) {
        out << routing::to_json_line(e) << "\n";
    }
    if (page.more) {
        err << "more\n";
    }
    return 0;
}

}  // namespace

std::string usage_text() {
    return usage;
}

namespace {

// keys generate --out FILE [--id ID]: written with O_EXCL and mode 600, so an existing key file
// (whose loss would make its data unreadable) is never replaced.
int keys_command(const std::string& command, const std::vector<std::string>& rest,
                 std::ostream& out) {
    if (command != "generate") {
        throw usage_error("unknown keys command '" + command + "' (known: generate, rotate)");
    }
    std::string path;
    std::string id = "k1";
    for (std::size_t i = 0; i < rest.size(); i += 2) {
        if (i + 1 >= rest.size()) {
            throw usage_error(rest[i] + " needs a value");
        }
        if (rest[i] == "--out") {
            path = rest[i + 1];
        } else if (rest[i] == "--id") {
            id = rest[i + 1];
        } else {
            throw usage_error("unknown option " + rest[i]);
        }
    }
    if (path.empty()) {
        throw usage_error("keys generate needs --out FILE");
    }
    const std::string text = crypto::kek_ring::generate_text(id);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw std::runtime_error(path + ": " +
                                 std::error_code(errno, std::generic_category()).message());
    }
    const auto written = ::write(fd, text.data(), text.size());
    const bool ok = written == static_cast<ssize_t>(text.size()) && ::close(fd) == 0;
    if (!ok) {
        throw std::runtime_error(path + ": cannot be written");
    }
    out << "wrote " << path << " (key-encryption key " << id << ")\n";
    return 0;
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    log::init("warn");
    try {
        redis_target target;
        store::redis::config& cfg = target.redis;
        cfg.connect_timeout = std::chrono::milliseconds(5000);
        cfg.command_timeout = std::chrono::milliseconds(5000);
        cfg.health_interval = std::chrono::milliseconds(0);
        set_address(cfg, env_or("CONFIDE_REDIS", "127.0.0.1:6379"));
        cfg.password = env_or("CONFIDE_REDIS_PASSWORD", "");
        target.cluster = cluster_nodes(env_or("CONFIDE_REDIS_CLUSTER", ""));
        std::size_t i = 0;
        for (; i < args.size() && args[i].starts_with("--"); ++i) {
            const std::string& a = args[i];
            if (a == "--help") {
                out << usage;
                return 0;
            }
            if (i + 1 >= args.size()) {
                throw usage_error(a + " needs a value");
            }
            const std::string& v = args[++i];
            if (a == "--redis") {
                cfg.unix_socket.clear();
                set_address(cfg, v);
                target.cluster.clear();
            } else if (a == "--redis-cluster") {
                target.cluster = cluster_nodes(v);
                if (target.cluster.empty()) {
                    throw usage_error("--redis-cluster needs HOST:PORT,...");
                }
            } else if (a == "--redis-password") {
                cfg.password = v;
            } else if (a == "--redis-timeout-ms") {
                const auto ms = whole_number("redis-timeout-ms", v);
                if (ms == 0) {
                    throw usage_error("--redis-timeout-ms must be more than 0");
                }
                cfg.connect_timeout = cfg.command_timeout = std::chrono::milliseconds(ms);
            } else {
                throw usage_error("unknown option " + a);
            }
        }
        if (i + 2 > args.size()) {
            throw usage_error("a group and a command are required (e.g. directory list)");
        }
        const std::string& group = args[i];
        const std::string& command = args[i + 1];
        const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i + 2),
                                            args.end());
        if (group == "keys" && command != "rotate") {
            return keys_command(command, rest, out);
        }
        if (group != "directory" && group != "audit" && group != "keys" && group != "erase") {
            throw usage_error("unknown group '" + group +
                              "' (known: directory, audit, keys, erase)");
        }
        session s(target);
        if (group == "keys") {
            return rotate_command(s, rest, out, err);
        }
        if (group == "erase") {
            return erase_command(s, command, rest, out);
        }
        return group == "audit" ? audit_command(s, command, rest, out, err)
                                : directory_command(s, command, rest, out);
    } catch (const usage_error& e) {
        err << "confide-admin: " << e.what() << "\n(see confide-admin --help)\n";
        return 2;
    } catch (const std::exception& e) {
        err << "confide-admin: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace confide::admin
