#include "options.hpp"

#include "confide/ws/url.hpp"

#include <boost/program_options.hpp>

#include <cmath>
#include <random>
#include <sstream>

namespace confide::loadgen {
namespace {

namespace po = boost::program_options;

po::options_description describe_options(options& o) {
    po::options_description d("confide-loadgen options");
    // clang-format off
    d.add_options()
        ("help,h", "print this help and exit")
        ("url", po::value(&o.url)->default_value(o.url),
            "server URL, ws://host:port[/path] or wss://host:port[/path]")
        ("ca-file", po::value(&o.ca_file), "wss://: CA certificates (PEM) to trust instead of "
            "the system's")
        ("secret", po::value(&o.secret), "HS256 token secret (>= 32 bytes), as the server's "
            "--token-key <kid>:HS256:text:<secret>")
        ("key-id", po::value(&o.key_id)->default_value(o.key_id), "token key id (kid)")
        ("run-id", po::value(&o.run_id), "names this run's users and devices "
            "([A-Za-z0-9], <= 16); random when not given. Distinct per process.")
        ("clients", po::value(&o.clients)->default_value(o.clients),
            "client connections (one user each)")
        ("specialists", po::value(&o.specialists)->default_value(o.specialists),
            "specialist connections; client i writes to specialist i mod M")
        ("threads", po::value(&o.threads)->default_value(o.threads),
            "I/O threads, one io_context each")
        ("rate", po::value(&o.rate)->default_value(o.rate),
            "target aggregate messages/s; 0: as fast as the server acks (see --window)")
        ("window", po::value(&o.window)->default_value(o.window),
            "sends in flight (unacked) per connection, 1..1024")
        ("duration", po::value(&o.duration_s)->default_value(o.duration_s),
            "seconds of sending (ramp-up included), or of holding with --connect-only")
        ("messages-per-connection", po::value(&o.messages_per_connection)
            ->default_value(o.messages_per_connection),
            "stop each connection after this many messages (0: no bound)")
        ("body-bytes", po::value(&o.body_bytes)->default_value(o.body_bytes),
            "message body size (32 .. 8192)")
        ("ramp-up", po::value(&o.ramp_up_s)->default_value(o.ramp_up_s),
            "seconds over which connections are opened")
        ("churn", po::value(&o.churn)->default_value(o.churn),
            "probability per second that a connection drops and reconnects (0 .. 1)")
        ("source-addresses", po::value<std::string>(),
            "comma-separated local addresses, bound round robin (e.g. 127.0.0.1,127.0.0.2)")
        ("connect-only", po::bool_switch(&o.connect_only),
            "only hold the connections (authenticated and synced) for --duration")
        ("backlog", po::bool_switch(&o.backlog),
            "specialists go offline while the clients send --messages-per-connection each, "
            "then reconnect; reports how long the backlog takes to drain")
        ("conversation-prefix", po::value(&o.conversation_prefix),
            "the conversations exist already (seeded in Redis): client i's is <prefix><i>, and "
            "its first message is a send, not an inquiry")
        ("no-echo-check", "do not require a sender's own device to get its message pushed")
        ("skip-own-echo", po::value(&o.skip_own_echo)->default_value(o.skip_own_echo),
            "ask the server not to push a device's own messages back (their SendReply carries "
            "the event's cursor instead): 1 or 0")
        ("drain", po::value(&o.drain_s)->default_value(o.drain_s),
            "seconds to wait after sending for acks and deliveries")
        ("connect-timeout", po::value(&o.connect_timeout_s)->default_value(o.connect_timeout_s),
            "seconds for connect + WebSocket handshake + authentication")
        ("connect-retries", po::value(&o.connect_retries)->default_value(o.connect_retries),
            "attempts after a failed connection before a connection gives up")
        ("max-failed-connections", po::value(&o.max_failed_connections)
            ->default_value(o.max_failed_connections),
            "connections that may fail for good without failing the run")
        ("ack-delay-ms", po::value(&o.ack_delay_ms)->default_value(o.ack_delay_ms),
            "events are acked at most this long after they arrive (one ack per batch)")
        ("report-json", po::value(&o.report_json), "write the JSON report to this file")
        ("ready-file", po::value(&o.ready_file),
            "create this file once every connection was attempted (for scripts)")
        ("quiet", "no progress line on stderr");
    // clang-format on
    return d;
}

bool valid_run_id(const std::string& s) {
    if (s.empty() || s.size() > 16) {
        return false;
    }
    for (const char c : s) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum) {
            return false;
        }
    }
    return true;
}

void parse_url(options& o) {
    try {
        auto ep = ws::parse_url(o.url);
        o.host = std::move(ep.host);
        o.port = std::move(ep.port);
        o.target = std::move(ep.target);
        o.tls = ep.tls;
    } catch (const std::invalid_argument& e) {
        throw options_error(std::string("--url: ") + e.what());
    }
}

std::vector<std::string> split_addresses(const std::string& list) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(list);
    while (std::getline(in, cur, ',')) {
        if (!cur.empty()) {
            out.push_back(cur);
        }
    }
    if (out.empty()) {
        throw options_error("--source-addresses: no address in '" + list + "'");
    }
    return out;
}

std::string random_run_id() {
    std::random_device rd;
    std::uniform_int_distribution<std::uint32_t> d;
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    std::uint64_t v = (std::uint64_t{d(rd)} << 32) | d(rd);
    for (int i = 0; i < 8; ++i) {
        s.push_back(digits[v & 0xfU]);
        v >>= 4;
    }
    return s;
}

void check_range(bool ok, const std::string& what) {
    if (!ok) {
        throw options_error(what);
    }
}

}  // namespace

options parse_options(int argc, const char* const* argv) {
    options o;
    auto desc = describe_options(o);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
        if (vm.count("help") != 0) {
            o.help_requested = true;
            return o;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw options_error(e.what());
    }
    if (vm.count("quiet") != 0) {
        o.progress = false;
    }
    if (vm.count("no-echo-check") != 0) {
        o.expect_echo = false;
    }
    if (vm.count("source-addresses") != 0) {
        o.source_addresses = split_addresses(vm["source-addresses"].as<std::string>());
    }
    parse_url(o);
    check_range(o.secret.size() >= 32, "--secret: required, at least 32 bytes");
    check_range(!o.key_id.empty() && o.key_id.size() <= 64, "--key-id: 1..64 characters");
    if (o.run_id.empty()) {
        o.run_id = random_run_id();
    }
    check_range(valid_run_id(o.run_id), "--run-id: 1..16 characters of [A-Za-z0-9]");
    check_range(o.clients + std::uint64_t{o.specialists} > 0, "--clients/--specialists: none");
    check_range(o.connections() <= 1'000'000, "--clients + --specialists: at most 1,000,000");
    if (!o.connect_only) {
        check_range(o.clients > 0 && o.specialists > 0,
                    "--clients and --specialists: both needed (or --connect-only)");
    }
    check_range(o.threads >= 1 && o.threads <= 256, "--threads: 1..256");
    check_range(std::isfinite(o.rate) && o.rate >= 0, "--rate: >= 0");
    check_range(o.window >= 1 && o.window <= 1024, "--window: 1..1024");
    check_range(std::isfinite(o.duration_s) && o.duration_s > 0 && o.duration_s <= 86400,
                "--duration: 0 < s <= 86400");
    check_range(o.body_bytes >= 32 && o.body_bytes <= 8192, "--body-bytes: 32..8192");
    check_range(std::isfinite(o.ramp_up_s) && o.ramp_up_s >= 0 && o.ramp_up_s <= o.duration_s,
                "--ramp-up: 0..--duration");
    check_range(std::isfinite(o.churn) && o.churn >= 0 && o.churn <= 1, "--churn: 0..1");
    check_range(std::isfinite(o.drain_s) && o.drain_s >= 0 && o.drain_s <= 3600,
                "--drain: 0..3600");
    check_range(
        std::isfinite(o.connect_timeout_s) && o.connect_timeout_s > 0 && o.connect_timeout_s <= 600,
        "--connect-timeout: 0 < s <= 600");
    check_range(o.connect_retries <= 100, "--connect-retries: 0..100");
    check_range(o.ack_delay_ms <= 10'000, "--ack-delay-ms: 0..10000");
    check_range(!(o.connect_only && o.backlog), "--connect-only and --backlog exclude each other");
    if (o.backlog) {
        check_range(o.messages_per_connection > 0,
                    "--backlog: needs --messages-per-connection (what each client sends)");
        check_range(o.churn == 0, "--backlog: no --churn");
    }
    return o;
}

std::string usage_text() {
    options o;
    std::ostringstream out;
    out << "confide-loadgen: drives a Confide server with many WebSocket connections and checks "
           "every message.\n\n"
           "Usage: confide-loadgen --secret S [options]\n\n"
        << describe_options(o)
        << "\nExit status: 0 all good; 1 a message was lost, duplicated, reordered or corrupted;\n"
           "3 more connections failed than --max-failed-connections; 2 bad options; 4 other "
           "errors.\n";
    return out.str();
}

}  // namespace confide::loadgen
