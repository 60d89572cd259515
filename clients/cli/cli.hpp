#pragma once
// Shared pieces of the confide-cli subcommands.

#include "confide/client.hpp"

#include <boost/json/object.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <string>

namespace confide::cli {

/// Process exit codes, the same for every subcommand.
enum exit_code : int {
    exit_ok = 0,
    exit_failure = 1,   ///< unexpected error
    exit_usage = 2,     ///< bad command line
    exit_rejected = 3,  ///< the server refused the request (a final error)
    exit_timeout = 4,   ///< no answer in time
    exit_closed = 5,    ///< the connection was closed for good (token rejected, 4004, ...)
};

int run_token(int argc, char** argv);
int run_chat(int argc, char** argv);
int run_send(int argc, char** argv);
int run_listen(int argc, char** argv);

/// --url, --token (or CONFIDE_TOKEN), --ca-file (or CONFIDE_CA_FILE), --device.
void add_connection_options(boost::program_options::options_description& d);

/// Client options from the parsed --url/--token/--device. `default_device` when --device is
/// absent. Throws std::invalid_argument when no token is given.
client::options connection_options(const boost::program_options::variables_map& vm,
                                   const std::string& default_device);

/// Parses argv[1..argc) (argv[0] being the subcommand) into `vm`; prints usage to stdout and
/// returns false for --help.
bool parse(int argc, char** argv, const boost::program_options::options_description& d,
           boost::program_options::variables_map& vm, const char* synopsis);

/// `n` random bytes as hex (device ids of throwaway sessions).
std::string random_hex(unsigned n);

/// Events as JSON objects, with a "type" member (listen's output).
boost::json::object to_json(const client::message& m);
boost::json::object to_json(const client::conversation& c);
boost::json::object to_json(const client::receipt& r);
boost::json::object to_json(const client::presence& p);
boost::json::object to_json(const client::typing& t);
boost::json::object to_json(const client::state_change& s);
boost::json::object to_json(const client::send_update& u);
boost::json::object to_json(const client::safety_notice& n);

const char* to_string(client::connection_state s) noexcept;
const char* to_string(client::close_reason r) noexcept;
const char* to_string(client::conversation_state s) noexcept;
const char* to_string(client::presence_state s) noexcept;
const char* to_string(client::send_state s) noexcept;
const char* to_string(client::role r) noexcept;
/// "no_capacity", ... (JSON); defined with the other names of decline reasons.
const char* to_string(client::decline_reason r) noexcept;

}  // namespace confide::cli
