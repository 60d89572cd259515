#pragma once
// confide-loadgen's command line.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace confide::loadgen {

/// A bad command line: what() says which option and why.
class options_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Everything the load generator is told. Defaults are those of --help.
struct options {
    bool help_requested = false;

    // Where and who.
    std::string url = "ws://127.0.0.1:8080";
    std::string host;  ///< from url: an IP address or a name
    std::string port;  ///< from url
    std::string target = "/";
    bool tls = false;     ///< from url: wss://
    std::string ca_file;  ///< wss://: CAs to trust (PEM); empty: the system's
    std::string secret;   ///< HS256 secret, at least 32 bytes
    std::string key_id = "dev";
    std::string run_id;  ///< names users and devices; random when not given

    // What to simulate.
    std::uint32_t clients = 10;
    std::uint32_t specialists = 10;
    unsigned threads = 1;
    double rate = 0;           ///< aggregate messages per second; 0: as fast as allowed
    std::uint32_t window = 1;  ///< sends in flight per connection
    double duration_s = 10;
    std::uint64_t messages_per_connection = 0;  ///< 0: bounded by duration only
    std::size_t body_bytes = 100;
    double ramp_up_s = 1;
    double churn = 0;  ///< probability per second that a connection drops
    std::vector<std::string> source_addresses;
    bool connect_only = false;
    bool backlog = false;  ///< specialists are offline while clients send, then drain
    /// Client i's conversation is `<prefix><i>`, written into Redis before the run; empty: each
    /// client opens its own with an inquiry.
    std::string conversation_prefix;
    bool expect_echo = true;
    /// Sync with skip_own_echo: a sender's own device takes the SendReply's cursor for the push
    /// of its message (and the verifier counts it as that push, gapless order included).
    bool skip_own_echo = true;

    // Bounds and reporting.
    double drain_s = 15;
    double connect_timeout_s = 10;
    std::uint32_t connect_retries = 3;
    std::uint64_t max_failed_connections = 0;
    std::uint32_t ack_delay_ms = 100;
    std::string report_json;
    std::string ready_file;
    bool progress = true;

    /// Every connection: clients + specialists.
    std::uint64_t connections() const noexcept { return std::uint64_t{clients} + specialists; }
};

/// Parses argv[1..argc). Throws options_error for unknown options and invalid values.
/// Thread safety: safe.
options parse_options(int argc, const char* const* argv);

/// The --help text.
std::string usage_text();

}  // namespace confide::loadgen
