#include "app/config.hpp"

#include "common/log.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/program_options.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

namespace confide::app {
namespace {

namespace po = boost::program_options;
using std::chrono::milliseconds;

enum class kind { single, list, flag };

struct option_spec {
    const char* group;
    const char* name;  // the flag, without "--"; its variable is CONFIDE_<NAME_IN_UPPER_SNAKE_CASE>
    kind type;
    const char* value;     // what the value looks like, for --help
    const char* help;      // one sentence; the default follows
    const char* fallback;  // the default, as text; nullptr: none
};

// The one table of options: --help, the environment and the parser all come from it.
constexpr option_spec specs[] = {
    {"Network", "listen", kind::single, "IP:PORT",
     "Address to accept WebSocket connections on ([::1]:8080 for IPv6). Port 0 picks a free "
     "port; the server prints the one it got",
     "127.0.0.1:8080"},
    {"Network", "allowed-origin", kind::list, "ORIGIN",
     "Browser origin allowed to connect, e.g. https://app.example.com (repeatable; the "
     "variable takes a comma-separated list). None given: any origin",
     nullptr},
    {"Network", "web-root", kind::single, "DIR",
     "Directory of the web client (clients/web/dist), read at start-up and served at /. Pages "
     "from the origin it is served at may open a WebSocket, other origins only if "
     "--allowed-origin lists them. Empty: no web client",
     nullptr},
    {"Network", "max-connections", kind::single, "N",
     "Connections held at once; beyond it new ones are closed at once", "20000"},
    {"Network", "max-outbound-bytes", kind::single, "BYTES",
     "Bytes queued for one connection before it is closed as too slow (4003)", "4194304"},
    {"Network", "handshake-timeout-ms", kind::single, "MS",
     "From accept to a completed WebSocket handshake", "10000"},
    {"Network", "drain-timeout-ms", kind::single, "MS",
     "On SIGINT/SIGTERM, how long connections get to close (1001) before they are cut", "10000"},
    {"Network", "drain-delay-ms", kind::single, "MS",
     "On SIGINT/SIGTERM, how long GET /readyz answers 503 (so that load balancers stop sending "
     "new connections) before connections are told to go away; a second signal skips it. Set it "
     "above the load balancer's check interval times its fall count",
     "0"},
    {"Network", "tls-cert", kind::single, "FILE",
     "PEM certificate chain (the server's certificate first): serve wss:// and https:// "
     "(TLS 1.2 or 1.3). Re-read on SIGHUP, without dropping connections. Needs --tls-key",
     nullptr},
    {"Network", "tls-key", kind::single, "FILE",
     "PEM private key of --tls-cert (unencrypted; readable by the server only)", nullptr},

    {"Redis", "redis", kind::single, "HOST:PORT|unix:PATH", "Where Redis is", "127.0.0.1:6379"},
    {"Redis", "redis-cluster", kind::list, "HOST:PORT",
     "Use a Redis Cluster instead of one Redis: nodes to ask for its slot map (repeatable or "
     "comma-separated; any nodes of the cluster, more than one in case some are down). Not with "
     "--redis",
     nullptr},
    {"Redis", "redis-password", kind::single, "PASSWORD",
     "Redis AUTH password. Prefer the variable: flags are visible in the process list", nullptr},
    {"Redis", "redis-timeout-ms", kind::single, "MS",
     "Deadline of a Redis connect and of every command", "2000"},
    {"Redis", "redis-health-interval-ms", kind::single, "MS",
     "A Redis connection idle this long checks that Redis answers (within --redis-timeout-ms, "
     "else it reconnects): a hung Redis is noticed before a request needs it",
     "2000"},
    {"Redis", "redis-startup-timeout-ms", kind::single, "MS",
     "How long start-up waits for Redis to answer (it may be starting too); then the server "
     "exits, naming the cause",
     "15000"},
    {"Redis", "ack-after-replicas", kind::single, "N",
     "Ack a message as sent only once N replicas of every master it was written to confirmed "
     "it (WAIT); fewer within --ack-after-replicas-timeout-ms: the sender is answered "
     "UNAVAILABLE (retry; the retry is idempotent). 0: ack once the master stored it",
     "0"},
    {"Redis", "ack-after-replicas-timeout-ms", kind::single, "MS",
     "How long a write waits for --ack-after-replicas replicas (below --redis-timeout-ms)", "200"},
    {"Redis", "allow-unsafe-redis", kind::flag, "BOOL",
     "Accept a Redis without persistence or with an evicting maxmemory-policy (benchmarks "
     "only: messages can be lost)",
     "false"},
    {"Redis", "data-key-file", kind::single, "PATH",
     "The key file (chmod 600) whose keys seal what people write before it reaches Redis "
     "(docs/privacy.md); confide-admin keys generate makes one. Required, unless "
     "--allow-plaintext-storage",
     nullptr},
    {"Redis", "allow-plaintext-storage", kind::flag, "BOOL",
     "Store message bodies, topics and preferred times in plaintext, without --data-key-file "
     "(development only; such data is refused by a server with a key file, and the other way)",
     "false"},

    {"Authentication", "token-key", kind::list, "KID:ALG:MATERIAL",
     "A key that verifies access tokens, e.g. dev:HS256:text:<secret> (repeatable; the "
     "variable takes a comma-separated list). At least one is required",
     nullptr},
    {"Authentication", "token-issuer", kind::single, "ISS",
     "Required `iss` of access tokens. Empty: not checked", nullptr},
    {"Authentication", "token-audience", kind::single, "AUD",
     "Required `aud` of access tokens. Empty: not checked", nullptr},
    {"Authentication", "auth-timeout-ms", kind::single, "MS",
     "Time a new connection has to authenticate (then closed with 4002)", "10000"},
    {"Authentication", "token-leeway-s", kind::single, "S",
     "Clock skew tolerated on exp, nbf and iat (0..3600); a connection is closed (4001) this "
     "long after its token's exp",
     "30"},

    {"Protocol limits", "max-frame-bytes", kind::single, "BYTES",
     "Largest WebSocket message accepted (bigger: closed with 1009)", "65536"},
    {"Protocol limits", "max-body-bytes", kind::single, "BYTES",
     "Largest message body (UTF-8 bytes); at most --max-frame-bytes", "8192"},
    {"Protocol limits", "send-rate", kind::single, "PER_S",
     "Messages per second one user may send, sustained", "10"},
    {"Protocol limits", "send-burst", kind::single, "N", "Messages one user may send in a burst",
     "30"},
    {"Protocol limits", "request-rate", kind::single, "PER_S",
     "Requests of any kind per second per connection, sustained (beyond: RATE_LIMITED)", "50"},
    {"Protocol limits", "request-burst", kind::single, "N",
     "Requests one connection may send in a burst", "200"},
    {"Protocol limits", "typing-rate", kind::single, "PER_S",
     "Typing signals per second per connection", "2"},
    {"Protocol limits", "max-connections-per-user", kind::single, "N",
     "Connections one user may hold (beyond: closed with 4004)", "10"},
    {"Protocol limits", "heartbeat-interval-ms", kind::single, "MS",
     "Interval clients ping at; 3 missed intervals close the connection (4005)", "15000"},
    {"Protocol limits", "idle-logoff-s", kind::single, "S",
     "Automatic logoff: a connection without user activity (sends, history reads, typing; not "
     "pings) for this long is signed out with 4006. 0: never",
     "900"},
    {"Protocol limits", "presence-grace-ms", kind::single, "MS",
     "How long a user stays online after their last connection closed", "15000"},
    {"Protocol limits", "presence-ttl-ms", kind::single, "MS",
     "Expiry of a node's presence records if it stops refreshing them (crash)", "60000"},
    {"Protocol limits", "stalled-reader-timeout-ms", kind::single, "MS",
     "How long a client may read nothing while events wait for it (then closed with 4003; it "
     "resumes from its cursor)",
     "30000"},

    {"Directory and consultations", "directory-open", kind::flag, "BOOL",
     "Development and load tests only: a specialist token for an id the directory does not "
     "list is accepted and lists that id (display name = id, accepting new clients). Off: "
     "only specialists an operator listed with confide-admin may sign in as specialists. "
     "Inquiries to unlisted ids are refused either way",
     "false"},
    {"Directory and consultations", "inquiry-expiry-s", kind::single, "S",
     "An inquiry the specialist neither answers nor accepts nor declines expires after this "
     "(both parties are told)",
     "604800"},
    {"Directory and consultations", "reminder-specialist-after-s", kind::single, "S",
     "Office time a message may stay unread by a specialist before an unread reminder goes to "
     "the reminder stream",
     "900"},
    {"Directory and consultations", "reminder-client-after-s", kind::single, "S",
     "Time a message may stay unread by a client before an unread reminder goes to the "
     "reminder stream",
     "86400"},
    {"Directory and consultations", "workflow-interval-ms", kind::single, "MS",
     "How often each node looks for expired inquiries and due reminders", "5000"},
    {"Directory and consultations", "safety-notice", kind::single, "TEXT",
     "The 'not for emergencies' notice clients get with every inquiry", nullptr},
    {"Directory and consultations", "crisis-line", kind::single, "TEXT",
     "The crisis line shown with the safety notice", nullptr},

    {"Storage", "inbox-max-events", kind::single, "N",
     "Events kept per user for devices to catch up on (older cursors get a reset)", "100000"},
    {"Storage", "sent-record-ttl-s", kind::single, "S",
     "How long a start_inquiry's client_msg_id finds the conversation it went to, so that a "
     "retry is recognised even after that conversation closed (sends are recognised for as long "
     "as their conversation is kept)",
     "604800"},
    {"Storage", "audit-retention-days", kind::single, "DAYS",
     "Age after which audit events leave Redis (the log keeps its JSON lines)", "90"},
    {"Storage", "audit-max-entries", kind::single, "N", "Audit events Redis keeps at most",
     "10000000"},
    {"Storage", "retention-days", kind::single, "DAYS",
     "Retention: messages older than this are deleted from Redis (history, sync, dedupe "
     "records) by every node's sweeper, every --workflow-interval-ms; clients are told. 0: "
     "kept as long as their conversation",
     "0"},
    {"Storage", "retention-s", kind::single, "S",
     "The same limit in seconds, for tests (give one of --retention-days and --retention-s)",
     nullptr},

    {"Process", "io-threads", kind::single, "N",
     "Event-loop threads, each with two Redis connections of its own. Default: the number of "
     "cores",
     nullptr},
    {"Process", "node-id", kind::single, "ID",
     "This server's name among the nodes ([A-Za-z0-9._-]). Default: <hostname>-<pid>", nullptr},
    {"Process", "log-level", kind::single, "LEVEL", "trace, debug, info, warn, error or off",
     "info"},
    {"Process", "log-format", kind::single, "FORMAT",
     "text, or json: one object per line with time, level, node, conn and user ids and msg "
     "(never a message body or a token)",
     "text"},
};

// Variables named before "--x-y is CONFIDE_X_Y" held for every option: still read (setting both
// names is an error).
constexpr std::pair<const char*, const char*> old_variables[] = {
    {"token-key", "CONFIDE_TOKEN_KEYS"},
    {"allowed-origin", "CONFIDE_ALLOWED_ORIGINS"},
};

std::string variable_of(std::string_view option) {
    std::string name = "CONFIDE_";
    for (char ch : option) {
        name += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    return name;
}

const char* old_variable_of(std::string_view option) {
    for (const auto& [name, variable] : old_variables) {
        if (option == name) {
            return variable;
        }
    }
    return nullptr;
}

const option_spec& spec_of_option(std::string_view option) {
    for (const auto& s : specs) {
        if (option == s.name) {
            return s;
        }
    }
    throw std::logic_error("no option " + std::string(option));
}

const option_spec* spec_of_variable(std::string_view variable) {
    for (const auto& s : specs) {
        const char* old = old_variable_of(s.name);
        if (variable == variable_of(s.name) || (old != nullptr && variable == old)) {
            return &s;
        }
    }
    return nullptr;
}

po::options_description describe_options() {
    po::options_description all("Options", 100, 50);
    all.add_options()("help", "Print this help and exit");
    std::map<std::string, po::options_description> groups;
    std::vector<std::string> order;
    for (const auto& s : specs) {
        if (!groups.count(s.group)) {
            groups.emplace(s.group, po::options_description(s.group, 100, 50));
            order.emplace_back(s.group);
        }
        std::string help = std::string(s.help) + " [" + variable_of(s.name);
        if (const char* old = old_variable_of(s.name)) {
            help += ", or " + std::string(old);
        }
        if (s.fallback != nullptr) {
            help += "; default " + std::string(s.fallback);
        }
        help += "]";
        po::value_semantic* semantic = nullptr;
        switch (s.type) {
            case kind::single:
                semantic = po::value<std::string>()->value_name(s.value);
                break;
            case kind::list:
                semantic = po::value<std::vector<std::string>>()->value_name(s.value);
                break;
            case kind::flag:
                semantic = po::value<std::string>()->value_name(s.value)->implicit_value("true");
                break;
        }
        groups.at(s.group).add_options()(s.name, semantic, help.c_str());
    }
    for (const auto& g : order) {
        all.add(groups.at(g));
    }
    return all;
}

// Where a value came from, for error messages.
struct raw_value {
    std::vector<std::string> values;
    std::string origin;  // "--listen" or "CONFIDE_LISTEN"
};

[[noreturn]] void fail(const raw_value& v, const std::string& what) {
    throw config_error(v.origin + ": " + what);
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    while (true) {
        auto comma = s.find(',');
        auto item = trim(s.substr(0, comma));
        if (!item.empty()) {
            out.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        s.remove_prefix(comma + 1);
    }
    return out;
}

std::int64_t to_integer(const raw_value& v, std::int64_t min, std::int64_t max) {
    const std::string& text = v.values.front();
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        fail(v, quoted(text) + " is not a whole number");
    }
    if (n < min || n > max) {
        fail(v, quoted(text) + " is out of range (" + std::to_string(min) + ".." +
                    std::to_string(max) + ")");
    }
    return n;
}

double to_rate(const raw_value& v) {
    const std::string& text = v.values.front();
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        fail(v, quoted(text) + " is not a number");
    }
    if (!(d > 0) || d > 1e6) {
        fail(v, quoted(text) + " must be greater than 0 (and at most 1000000)");
    }
    return d;
}

milliseconds to_timeout(const raw_value& v) {
    const std::string& text = v.values.front();
    if (!text.empty() && text.front() == '-') {
        fail(v, quoted(text) + " must be a positive number of milliseconds");
    }
    constexpr std::int64_t one_day = 24LL * 3600 * 1000;
    auto n = to_integer(v, 0, one_day);
    if (n == 0) {
        fail(v, "a timeout of 0 ms is not allowed");
    }
    return milliseconds(n);
}

bool to_bool(const raw_value& v) {
    std::string text = v.values.front();
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (text == "1" || text == "true" || text == "yes" || text == "on") {
        return true;
    }
    if (text == "0" || text == "false" || text == "no" || text == "off") {
        return false;
    }
    fail(v, quoted(v.values.front()) + " is not a boolean (true/false, 1/0, yes/no, on/off)");
}

std::uint16_t to_port(const raw_value& v, std::string_view text, bool allow_zero) {
    std::int64_t n = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n < 0 ||
        n > 65535 || (n == 0 && !allow_zero)) {
        fail(v, quoted(text) + " is not a valid port (" + (allow_zero ? "0" : "1") + "..65535)");
    }
    return static_cast<std::uint16_t>(n);
}

// "host:port" or "[v6]:port" into its parts; the host may not be empty.
std::pair<std::string, std::string_view> split_host_port(const raw_value& v, std::string_view text,
                                                         const char* example) {
    std::string host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            fail(v, quoted(text) + " is not HOST:PORT (e.g. " + example + ")");
        }
        host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) {
            fail(v, quoted(text) + " is not HOST:PORT (e.g. " + example +
                        "; IPv6 addresses in brackets)");
        }
        host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    if (host.empty()) {
        fail(v, quoted(text) + " has no host (e.g. " + example + ")");
    }
    return {std::move(host), port};
}

bool is_node_id(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

bool is_origin(std::string_view s) {
    auto scheme_end = s.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
        return false;
    }
    auto host = s.substr(scheme_end + 3);
    return !host.empty() && host.find('/') == std::string_view::npos;
}

std::string default_node_id() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
        std::snprintf(host, sizeof host, "node");
    }
    std::string id = host;
    std::replace_if(
        id.begin(), id.end(), [](char c) { return !is_node_id(std::string_view(&c, 1)); }, '_');
    if (id.size() > 50) {
        id.resize(50);
    }
    return id + "-" + std::to_string(::getpid());
}

void apply(config& c, const std::string& name, const raw_value& v) {
    const std::string& text = v.values.front();
    if (name == "listen") {
        auto [host, port] = split_host_port(v, text, "127.0.0.1:8080");
        if (host == "localhost") {
            host = "127.0.0.1";
        }
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(host, ec);
        if (ec) {
            fail(v, quoted(host) + " is not an IP address (e.g. 0.0.0.0:8080 or [::]:8080)");
        }
        c.listen_address = address.to_string();
        c.listen_port = to_port(v, port, true);
    } else if (name == "allowed-origin") {
        for (const auto& o : v.values) {
            if (!is_origin(o)) {
                fail(v, quoted(o) + " is not an origin (scheme://host[:port], no path)");
            }
        }
        c.allowed_origins = v.values;
    } else if (name == "web-root") {
        c.web_root = text;
    } else if (name == "max-connections") {
        c.max_connections = static_cast<std::size_t>(to_integer(v, 1, 10'000'000));
    } else if (name == "max-outbound-bytes") {
        c.max_outbound_bytes = static_cast<std::size_t>(to_integer(v, 1, 1LL << 32));
    } else if (name == "handshake-timeout-ms") {
        c.handshake_timeout = to_timeout(v);
    } else if (name == "drain-timeout-ms") {
        c.drain_timeout = to_timeout(v);
    } else if (name == "drain-delay-ms") {
        c.drain_delay = milliseconds(to_integer(v, 0, 3'600'000));
    } else if (name == "tls-cert") {
        c.tls_cert = text;
    } else if (name == "tls-key") {
        c.tls_key = text;
    } else if (name == "redis") {
        constexpr std::string_view unix_prefix = "unix:";
        if (text.starts_with(unix_prefix)) {
            c.redis_unix_socket = text.substr(unix_prefix.size());
            if (c.redis_unix_socket.empty() || c.redis_unix_socket.front() != '/') {
                fail(v, quoted(text) + " is not unix:/absolute/path");
            }
        } else {
            auto [host, port] = split_host_port(v, text, "127.0.0.1:6379 or unix:/path");
            c.redis_host = host;
            c.redis_port = to_port(v, port, false);
        }
    } else if (name == "redis-cluster") {
        // Repeatable, and each value may list several (host:port,host:port) as the variable does.
        for (const auto& value : v.values) {
            for (const auto& seed : split_list(value)) {
                auto [host, port] = split_host_port(v, seed, "127.0.0.1:7000");
                c.redis_cluster.emplace_back(host, to_port(v, port, false));
            }
        }
    } else if (name == "redis-password") {
        c.redis_password = text;
    } else if (name == "redis-timeout-ms") {
        c.redis_timeout = to_timeout(v);
    } else if (name == "redis-health-interval-ms") {
        c.redis_health_interval = to_timeout(v);
    } else if (name == "redis-startup-timeout-ms") {
        c.redis_startup_timeout = to_timeout(v);
    } else if (name == "ack-after-replicas") {
        c.ack_after_replicas = static_cast<unsigned>(to_integer(v, 0, 100));
    } else if (name == "ack-after-replicas-timeout-ms") {
        c.ack_after_replicas_timeout = to_timeout(v);
    } else if (name == "allow-unsafe-redis") {
        c.allow_unsafe_redis = to_bool(v);
    } else if (name == "data-key-file") {
        c.data_key_file = text;
    } else if (name == "allow-plaintext-storage") {
        c.allow_plaintext_storage = to_bool(v);
    } else if (name == "token-key") {
        for (const auto& k : v.values) {
            auto first = k.find(':');
            auto second = first == std::string::npos ? first : k.find(':', first + 1);
            if (first == 0 || second == std::string::npos || second == first + 1 ||
                second + 1 >= k.size()) {
                // Never echo the value: it holds key material.
                fail(v, "a key is not <kid>:<alg>:<material> (e.g. dev:HS256:text:<secret>)");
            }
        }
        c.token_keys = v.values;
    } else if (name == "token-issuer") {
        c.token_issuer = text;
    } else if (name == "token-audience") {
        c.token_audience = text;
    } else if (name == "auth-timeout-ms") {
        c.auth_timeout = to_timeout(v);
    } else if (name == "max-frame-bytes") {
        // Room for an authenticate frame carrying an 8 KiB token.
        c.max_frame_bytes = static_cast<std::size_t>(to_integer(v, 16 * 1024, 16 * 1024 * 1024));
    } else if (name == "max-body-bytes") {
        c.max_body_bytes = static_cast<std::size_t>(to_integer(v, 1, 16 * 1024 * 1024));
    } else if (name == "send-rate") {
        c.send_rate = to_rate(v);
    } else if (name == "send-burst") {
        c.send_burst = static_cast<std::uint32_t>(to_integer(v, 1, 1'000'000));
    } else if (name == "request-rate") {
        c.request_rate = to_rate(v);
    } else if (name == "request-burst") {
        c.request_burst = static_cast<std::uint32_t>(to_integer(v, 1, 1'000'000));
    } else if (name == "typing-rate") {
        c.typing_rate = to_rate(v);
    } else if (name == "max-connections-per-user") {
        c.max_connections_per_user = static_cast<std::uint32_t>(to_integer(v, 1, 100'000));
    } else if (name == "heartbeat-interval-ms") {
        c.heartbeat_interval = to_timeout(v);
    } else if (name == "presence-grace-ms") {
        c.presence_grace = to_timeout(v);
    } else if (name == "presence-ttl-ms") {
        c.presence_ttl = to_timeout(v);
    } else if (name == "stalled-reader-timeout-ms") {
        c.stalled_reader_timeout = to_timeout(v);
    } else if (name == "idle-logoff-s") {
        c.idle_logoff = std::chrono::seconds(to_integer(v, 0, 24 * 3600));
    } else if (name == "audit-retention-days") {
        c.audit_retention = std::chrono::hours(24 * to_integer(v, 1, 3660));
    } else if (name == "retention-days") {
        c.retention = std::chrono::hours(24 * to_integer(v, 0, 36600));
    } else if (name == "retention-s") {
        c.retention = std::chrono::seconds(to_integer(v, 0, 36600LL * 24 * 3600));
    } else if (name == "audit-max-entries") {
        c.audit_max_entries = static_cast<std::size_t>(to_integer(v, 1000, 1'000'000'000));
    } else if (name == "token-leeway-s") {
        c.token_leeway = std::chrono::seconds(to_integer(v, 0, 3600));
    } else if (name == "directory-open") {
        c.directory_open = to_bool(v);
    } else if (name == "inquiry-expiry-s") {
        c.inquiry_expiry = std::chrono::seconds(to_integer(v, 1, 365LL * 24 * 3600));
    } else if (name == "reminder-specialist-after-s") {
        c.remind_specialist_after = std::chrono::seconds(to_integer(v, 1, 7LL * 24 * 3600));
    } else if (name == "reminder-client-after-s") {
        c.remind_client_after = std::chrono::seconds(to_integer(v, 1, 30LL * 24 * 3600));
    } else if (name == "workflow-interval-ms") {
        c.workflow_interval = to_timeout(v);
    } else if (name == "safety-notice" || name == "crisis-line") {
        if (text.size() > 1000 || std::any_of(text.begin(), text.end(), [](char ch) {
                return static_cast<unsigned char>(ch) < 0x20;
            })) {
            fail(v, "must be one line of at most 1000 bytes");
        }
        (name == "safety-notice" ? c.safety_notice : c.crisis_line) = text;
    } else if (name == "inbox-max-events") {
        c.inbox_max_events = static_cast<std::size_t>(to_integer(v, 100, 100'000'000));
    } else if (name == "sent-record-ttl-s") {
        c.sent_record_ttl = std::chrono::seconds(to_integer(v, 60, 365LL * 24 * 3600));
    } else if (name == "io-threads") {
        c.io_threads = static_cast<unsigned>(to_integer(v, 1, 1024));
    } else if (name == "node-id") {
        if (!is_node_id(text)) {
            fail(v, quoted(text) + " is not a node id (1..64 of [A-Za-z0-9._-])");
        }
        c.node_id = text;
    } else if (name == "log-level") {
        if (!log::is_valid_level(text)) {
            fail(v, quoted(text) + " is not a log level (trace, debug, info, warn, error, off)");
        }
        c.log_level = text;
    } else if (name == "log-format") {
        if (text != "text" && text != "json") {
            fail(v, quoted(text) + " is not a log format (text or json)");
        }
        c.log_format = text;
    }
}

}  // namespace

std::string usage_text() {
    std::ostringstream out;
    out << "Usage: confide-server [options]\n\n"
           "The Confide WebSocket messaging server. Every option can also be set with the\n"
           "environment variable shown in brackets; a flag wins over its variable. On start-up\n"
           "the server prints one line \"listening on <ip>:<port>\" to stdout.\n\n"
        << describe_options();
    return out.str();
}

config parse_config(int argc, const char* const* argv) {
    const auto options = describe_options();
    po::variables_map vm;
    std::set<std::string> flags;
    try {
        // No positional arguments: a stray word (a flag missing its dashes) is an error.
        const po::positional_options_description none;
        const auto parsed =
            po::command_line_parser(argc, argv).options(options).positional(none).run();
        for (const auto& o : parsed.options) {
            flags.insert(o.string_key);
        }
        po::store(parsed, vm);
    } catch (const po::error& e) {
        throw config_error(e.what());
    }

    config c;
    if (vm.count("help") != 0) {
        c.help_requested = true;
        return c;
    }

    // A variable only for what no flag set. Other CONFIDE_* variables (the CLI's CONFIDE_TOKEN,
    // ...) are not ours: ignored.
    std::map<std::string, std::string> variable_that_set;
    auto from_env = po::parse_environment(options, [&](const std::string& variable) {
        const option_spec* s = spec_of_variable(variable);
        if (s == nullptr || flags.count(s->name) != 0) {
            return std::string();
        }
        const std::string value = std::getenv(variable.c_str());
        if (s->type == kind::list ? split_list(value).empty() : value.empty()) {
            return std::string();  // unset and empty mean the same: the default
        }
        auto [it, first] = variable_that_set.emplace(s->name, variable);
        if (!first) {
            throw config_error(it->second + " and " + variable + " are both set: keep only " +
                               variable_of(s->name));
        }
        return std::string(s->name);
    });
    for (auto& o : from_env.options) {
        if (spec_of_option(o.string_key).type == kind::list) {
            o.value = split_list(o.value.front());
        }
    }
    try {
        po::store(from_env, vm);
    } catch (const po::error& e) {
        throw config_error(e.what());
    }

    std::vector<std::pair<std::string, raw_value>> given;
    for (const auto& s : specs) {
        if (vm.count(s.name) == 0) {
            continue;
        }
        raw_value v{
            {},
            flags.count(s.name) != 0 ? std::string("--") + s.name : variable_that_set.at(s.name)};
        if (s.type == kind::list) {
            v.values = vm[s.name].as<std::vector<std::string>>();
        } else {
            v.values.push_back(vm[s.name].as<std::string>());
        }
        given.emplace_back(s.name, std::move(v));
    }

    std::map<std::string, std::string> origin_of;
    for (const auto& [name, v] : given) {
        apply(c, name, v);
        origin_of[name] = v.origin;
    }
    auto origin = [&](const char* name) {
        auto it = origin_of.find(name);
        return it != origin_of.end() ? it->second : std::string("--") + name + " (default)";
    };

    if (c.token_keys.empty()) {
        throw config_error(
            "--token-key: at least one token key is required (or CONFIDE_TOKEN_KEY), e.g. "
            "--token-key dev:HS256:text:<secret>");
    }
    if (c.data_key_file.empty() && !c.allow_plaintext_storage) {
        throw config_error(
            "--data-key-file: required (or CONFIDE_DATA_KEY_FILE): what people write is sealed "
            "before it reaches Redis; `confide-admin keys generate --out FILE` makes a key file. "
            "For development only, --allow-plaintext-storage stores it in plaintext");
    }
    if (!c.data_key_file.empty() && c.allow_plaintext_storage) {
        throw config_error(origin("allow-plaintext-storage") +
                           ": contradicts --data-key-file; give one of them");
    }
    if (origin_of.count("retention-s") != 0 && origin_of.count("retention-days") != 0) {
        throw config_error(origin("retention-s") + ": contradicts " + origin("retention-days") +
                           "; give one of them");
    }
    if (!c.redis_cluster.empty() && origin_of.count("redis") != 0) {
        throw config_error(origin("redis-cluster") + ": contradicts " + origin("redis") +
                           "; give one of them (one Redis, or the nodes of a Redis Cluster)");
    }
    if (c.ack_after_replicas > 0 && c.ack_after_replicas_timeout >= c.redis_timeout) {
        // WAIT blocks its connection until it answers: past the command deadline the
        // connection would be failed, every command on it with it.
        throw config_error(origin("ack-after-replicas-timeout-ms") + ": " +
                           std::to_string(c.ack_after_replicas_timeout.count()) + " is not below " +
                           origin("redis-timeout-ms") + " (" +
                           std::to_string(c.redis_timeout.count()) + ")");
    }
    if (c.tls_cert.empty() != c.tls_key.empty()) {
        throw config_error(c.tls_cert.empty()
                               ? origin("tls-key") + ": --tls-cert is required with it"
                               : origin("tls-cert") + ": --tls-key is required with it");
    }
    if (c.max_body_bytes > c.max_frame_bytes) {
        throw config_error(origin("max-body-bytes") + ": " + std::to_string(c.max_body_bytes) +
                           " is more than " + origin("max-frame-bytes") + " (" +
                           std::to_string(c.max_frame_bytes) + ")");
    }
    if (c.max_outbound_bytes < c.max_frame_bytes) {
        throw config_error(origin("max-outbound-bytes") + ": " +
                           std::to_string(c.max_outbound_bytes) + " is less than " +
                           origin("max-frame-bytes") + " (" + std::to_string(c.max_frame_bytes) +
                           "): one frame would not fit");
    }
    if (origin_of.count("io-threads") == 0) {
        c.io_threads = std::max(1u, std::thread::hardware_concurrency());
    }
    if (c.node_id.empty()) {
        c.node_id = default_node_id();
    }
    return c;
}

std::string describe(const config& c) {
    std::ostringstream out;
    out << "listen=" << c.listen_address << ':' << c.listen_port
        << (c.tls_cert.empty() ? "" : " tls_cert=" + c.tls_cert) << " redis=";
    if (!c.redis_cluster.empty()) {
        out << "cluster:";
        for (std::size_t i = 0; i < c.redis_cluster.size(); ++i) {
            out << (i ? "," : "") << c.redis_cluster[i].first << ':' << c.redis_cluster[i].second;
        }
    } else if (!c.redis_unix_socket.empty()) {
        out << "unix:" << c.redis_unix_socket;
    } else {
        out << c.redis_host << ':' << c.redis_port;
    }
    out << (c.redis_password.empty() ? "" : " (with password)")
        << " redis_timeout_ms=" << c.redis_timeout.count()
        << " redis_health_interval_ms=" << c.redis_health_interval.count()
        << (c.ack_after_replicas == 0
                ? ""
                : " ack_after_replicas=" + std::to_string(c.ack_after_replicas) + " within " +
                      std::to_string(c.ack_after_replicas_timeout.count()) + " ms")
        << (c.allow_unsafe_redis ? " allow_unsafe_redis" : "")
        << (c.data_key_file.empty() ? "" : " data_key_file=" + c.data_key_file)
        << (c.allow_plaintext_storage ? " allow_plaintext_storage" : "") << " token_keys=[";
    for (std::size_t i = 0; i < c.token_keys.size(); ++i) {
        out << (i ? "," : "") << c.token_keys[i].substr(0, c.token_keys[i].find(':'));
    }
    out << "] io_threads=" << c.io_threads << " node_id=" << c.node_id
        << " max_connections=" << c.max_connections << " max_frame_bytes=" << c.max_frame_bytes
        << " max_body_bytes=" << c.max_body_bytes << " max_outbound_bytes=" << c.max_outbound_bytes
        << " send_rate=" << c.send_rate << " send_burst=" << c.send_burst
        << " typing_rate=" << c.typing_rate
        << " max_connections_per_user=" << c.max_connections_per_user
        << " allowed_origins=" << c.allowed_origins.size()
        << (c.directory_open ? " directory_open" : "")
        << " inquiry_expiry_s=" << c.inquiry_expiry.count()
        << " reminder_specialist_after_s=" << c.remind_specialist_after.count()
        << " reminder_client_after_s=" << c.remind_client_after.count()
        << " retention_s=" << c.retention.count() << " drain_delay_ms=" << c.drain_delay.count()
        << " drain_timeout_ms=" << c.drain_timeout.count();
    return out.str();
}

}  // namespace confide::app
