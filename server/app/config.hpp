#pragma once
// The server's configuration: command-line flags, each also settable by an environment variable
// CONFIDE_<OPTION_IN_UPPER_SNAKE_CASE> (--send-rate: CONFIDE_SEND_RATE). A flag wins over its
// variable. The repeatable options take a comma-separated list in their variable; their older
// variable names CONFIDE_TOKEN_KEYS and CONFIDE_ALLOWED_ORIGINS are still read.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace confide::app {

/// An invalid configuration: what() names the option (and the variable, if the value came from
/// the environment) and says what is wrong.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Everything the server is configured with. Defaults are those of `--help`.
struct config {
    /// `--help` was given: print usage_text() and exit 0. No other field was validated.
    bool help_requested = false;

    // Network.
    std::string listen_address = "127.0.0.1";  ///< an IP address (IPv6 without brackets)
    std::uint16_t listen_port = 8080;          ///< 0: any free port
    std::vector<std::string> allowed_origins;  ///< empty: any origin (the web root's only, if set)
    std::string web_root;                      ///< the web client's files; empty: none served
    std::size_t max_connections = 20000;
    std::size_t max_outbound_bytes = 4 * 1024 * 1024;
    std::chrono::milliseconds handshake_timeout{10000};
    std::chrono::milliseconds drain_timeout{10000};
    /// On SIGTERM, how long /readyz answers 503 before connections are told to go away.
    std::chrono::milliseconds drain_delay{0};
    std::string tls_cert;  ///< PEM certificate chain; with tls_key: TLS on the listener
    std::string tls_key;   ///< PEM private key

    // Redis.
    std::string redis_host = "127.0.0.1";
    std::uint16_t redis_port = 6379;
    std::string redis_unix_socket;  ///< when set, used instead of host and port
    /// --redis-cluster: seed nodes of a Redis Cluster, used instead of the one Redis above.
    std::vector<std::pair<std::string, std::uint16_t>> redis_cluster;
    std::string redis_password;  ///< never logged
    std::chrono::milliseconds redis_timeout{2000};
    std::chrono::milliseconds redis_health_interval{2000};   ///< idle time before a health check
    std::chrono::milliseconds redis_startup_timeout{15000};  ///< start-up waits this long
    bool allow_unsafe_redis = false;
    /// --ack-after-replicas: replicas that must confirm a message before its ack; 0: none.
    unsigned ack_after_replicas = 0;
    std::chrono::milliseconds ack_after_replicas_timeout{200};
    std::string data_key_file;             ///< the key file (crypto::kek_ring); empty: none
    bool allow_plaintext_storage = false;  ///< without a key file: store text as it is

    // Authentication.
    std::vector<std::string> token_keys;  ///< `<kid>:<alg>:<material>`, parsed by auth/
    std::string token_issuer;             ///< empty: not checked
    std::string token_audience;           ///< empty: not checked
    std::chrono::milliseconds auth_timeout{10000};
    std::chrono::seconds token_leeway{30};

    // Protocol limits and rates.
    std::size_t max_frame_bytes = 64 * 1024;
    std::size_t max_body_bytes = 8 * 1024;
    double send_rate = 10;  ///< messages per second per user
    std::uint32_t send_burst = 30;
    double request_rate = 50;  ///< requests per second per connection
    std::uint32_t request_burst = 200;
    double typing_rate = 2;  ///< typing signals per second per connection
    std::uint32_t max_connections_per_user = 10;
    std::chrono::milliseconds heartbeat_interval{15000};
    std::chrono::milliseconds idle_logoff{15 * 60 * 1000};  ///< automatic logoff; 0: off
    std::chrono::milliseconds presence_grace{15000};
    std::chrono::milliseconds presence_ttl{60000};
    std::chrono::milliseconds stalled_reader_timeout{30000};

    // Directory and consultation workflow.
    bool directory_open = false;  ///< development: unlisted specialists are listed at sign-in
    std::chrono::seconds inquiry_expiry{7 * 24 * 3600};
    std::chrono::seconds remind_specialist_after{15 * 60};  ///< of office time
    std::chrono::seconds remind_client_after{24 * 3600};
    std::chrono::milliseconds workflow_interval{5000};
    std::string safety_notice =
        "This chat is not for emergencies. If you are in danger or thinking about ending your "
        "life, call your local emergency number or a crisis line now.";
    std::string crisis_line =
        "Emergency: 112 (Europe), 911 (US and Canada). Crisis lines: 988 (US), 116 123 "
        "(Samaritans, UK and Ireland)";

    // Storage.
    std::size_t inbox_max_events = 100000;
    std::chrono::seconds sent_record_ttl{7 * 24 * 3600};
    std::chrono::hours audit_retention{24 * 90};  ///< the audit stream's entries, by age
    std::size_t audit_max_entries = 10'000'000;   ///< and by number
    /// Messages older than this are deleted (--retention-days, or --retention-s); 0: kept.
    std::chrono::seconds retention{0};

    // Process.
    unsigned io_threads = 1;  ///< default: the number of cores
    std::string node_id;      ///< default: <hostname>-<pid>
    std::string log_level = "info";
    std::string log_format = "text";  ///< text or json
};

/// Parses and validates the flags in argv[1..argc) and the CONFIDE_* variables of the process
/// environment (an empty variable counts as unset; CONFIDE_* variables that name no option are
/// ignored). Throws config_error for an unknown flag or an invalid value (bad port or address,
/// zero threads, body larger than frame, unknown log level, a zero or negative timeout, no token
/// key, a variable set under both its names, ...).
/// Thread safety: safe, provided no thread changes the environment meanwhile.
config parse_config(int argc, const char* const* argv);

/// The `--help` text: every option, its variable and its default.
std::string usage_text();

/// The configuration in one line for the start-up log, without secrets (the Redis password and
/// the key material are left out; key ids are shown).
std::string describe(const config& c);

}  // namespace confide::app
