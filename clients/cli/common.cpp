#include "cli.hpp"

#include <boost/json/array.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>

namespace confide::cli {

namespace po = boost::program_options;
namespace json = boost::json;

void add_connection_options(po::options_description& d) {
    d.add_options()("url", po::value<std::string>()->default_value("ws://127.0.0.1:8080/"),
                    "server URL, ws://host:port/ or wss://host:port/")(
        "token", po::value<std::string>(), "access token (default: $CONFIDE_TOKEN)")(
        "ca-file", po::value<std::string>(),
        "wss://: CA certificates (PEM) to trust instead of the system's (default: "
        "$CONFIDE_CA_FILE)")("device", po::value<std::string>(),
                             "device id ([A-Za-z0-9._:-], at most 128)");
}

namespace {

// A flag, else its environment variable (CONFIDE_ and the flag in upper case), else empty.
std::string flag_or_env(const po::variables_map& vm, const char* flag, const char* env) {
    if (vm.count(flag) != 0) {
        return vm[flag].as<std::string>();
    }
    const char* value = std::getenv(env);
    return value != nullptr ? std::string(value) : std::string();
}

}  // namespace

client::options connection_options(const po::variables_map& vm, const std::string& default_device) {
    std::string token = flag_or_env(vm, "token", "CONFIDE_TOKEN");
    if (token.empty()) {
        throw std::invalid_argument("no token: pass --token or set CONFIDE_TOKEN");
    }
    client::options o;
    o.url = vm["url"].as<std::string>();
    o.ca_file = flag_or_env(vm, "ca-file", "CONFIDE_CA_FILE");
    o.device_id = vm.count("device") != 0 ? vm["device"].as<std::string>() : default_device;
    o.token_provider = [token] { return token; };
    return o;
}

bool parse(int argc, char** argv, const po::options_description& d, po::variables_map& vm,
           const char* synopsis) {
    po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
    if (vm.count("help") != 0) {
        std::cout << "usage: confide-cli " << synopsis << "\n\n" << d << "\n";
        return false;
    }
    po::notify(vm);
    return true;
}

std::string random_hex(unsigned n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::random_device rd;
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
        const auto b = rd() & 0xffU;
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xfU]);
    }
    return out;
}

const char* to_string(client::connection_state s) noexcept {
    switch (s) {
        case client::connection_state::connecting:
            return "connecting";
        case client::connection_state::connected:
            return "connected";
        case client::connection_state::connection_lost:
            return "connection_lost";
        case client::connection_state::closed:
            return "closed";
    }
    return "unknown";
}

const char* to_string(client::close_reason r) noexcept {
    switch (r) {
        case client::close_reason::none:
            return "none";
        case client::close_reason::stopped:
            return "stopped";
        case client::close_reason::signed_out:
            return "signed_out";
        case client::close_reason::token_rejected:
            return "token_rejected";
        case client::close_reason::too_many_connections:
            return "too_many_connections";
        case client::close_reason::idle_logoff:
            return "idle_logoff";
        case client::close_reason::certificate_refused:
            return "certificate_refused";
        case client::close_reason::protocol_error:
            return "protocol_error";
    }
    return "unknown";
}

const char* to_string(client::conversation_state s) noexcept {
    switch (s) {
        case client::conversation_state::inquiry:
            return "inquiry";
        case client::conversation_state::active:
            return "active";
        case client::conversation_state::declined:
            return "declined";
        case client::conversation_state::closed:
            return "closed";
        case client::conversation_state::expired:
            return "expired";
        case client::conversation_state::erased:
            return "erased";
        case client::conversation_state::unknown:
            break;
    }
    return "unknown";
}

const char* to_string(client::presence_state s) noexcept {
    switch (s) {
        case client::presence_state::online:
            return "online";
        case client::presence_state::away:
            return "away";
        case client::presence_state::offline:
            return "offline";
        case client::presence_state::unknown:
            break;
    }
    return "unknown";
}

const char* to_string(client::send_state s) noexcept {
    switch (s) {
        case client::send_state::pending:
            return "pending";
        case client::send_state::sent:
            return "sent";
        case client::send_state::delivered:
            return "delivered";
        case client::send_state::read:
            return "read";
        case client::send_state::failed:
            return "failed";
    }
    return "unknown";
}

const char* to_string(client::role r) noexcept {
    switch (r) {
        case client::role::client:
            return "client";
        case client::role::specialist:
            return "specialist";
        case client::role::unknown:
            break;
    }
    return "unknown";
}

json::object to_json(const client::safety_notice& n) {
    return json::object{{"text", n.text}, {"crisis_line", n.crisis_line}};
}

json::object to_json(const client::message& m) {
    json::object o;
    o["type"] = "message";
    o["conversation_id"] = m.conversation_id;
    o["seq"] = m.seq;
    o["sender_id"] = m.sender_id;
    o["client_msg_id"] = m.client_msg_id;
    o["body"] = m.body;
    o["server_time_ms"] = m.server_time_ms;
    o["outgoing"] = m.outgoing;
    return o;
}

json::object to_json(const client::conversation& c) {
    json::object o;
    o["type"] = "conversation";
    o["id"] = c.id;
    o["client_id"] = c.client_id;
    o["specialist_id"] = c.specialist_id;
    o["state"] = to_string(c.state);
    o["free_consultation"] = c.free_consultation;
    o["created_ms"] = c.created_ms;
    o["updated_ms"] = c.updated_ms;
    o["last_seq"] = c.last_seq;
    o["unread_count"] = c.unread_count;
    o["read_seq"] = c.read_seq;
    o["other_read_seq"] = c.other_read_seq;
    o["other_delivered_seq"] = c.other_delivered_seq;
    if (!c.topic.empty()) {
        o["topic"] = c.topic;
    }
    if (!c.preferred_times.empty()) {
        json::array times;
        for (const auto& t : c.preferred_times) {
            times.push_back(json::object{{"start_ms", t.start_ms}, {"end_ms", t.end_ms}});
        }
        o["preferred_times"] = std::move(times);
    }
    if (c.expires_at_ms != 0) {
        o["expires_at_ms"] = c.expires_at_ms;
    }
    if (c.decline_reason != client::decline_reason::unspecified) {
        o["decline_reason"] = to_string(c.decline_reason);
    }
    return o;
}

json::object to_json(const client::receipt& r) {
    json::object o;
    o["type"] = "receipt";
    o["conversation_id"] = r.conversation_id;
    o["user_id"] = r.user_id;
    o["kind"] = r.kind == client::receipt_kind::read ? "read" : "delivered";
    o["up_to_seq"] = r.up_to_seq;
    return o;
}

json::object to_json(const client::presence& p) {
    json::object o;
    o["type"] = "presence";
    o["user_id"] = p.user_id;
    o["state"] = to_string(p.state);
    o["last_seen_ms"] = p.last_seen_ms;
    o["connection_lost"] = p.connection_lost;
    return o;
}

json::object to_json(const client::typing& t) {
    json::object o;
    o["type"] = "typing";
    o["conversation_id"] = t.conversation_id;
    o["user_id"] = t.user_id;
    o["typing"] = t.active;
    return o;
}

json::object to_json(const client::state_change& s) {
    json::object o;
    o["type"] = "state";
    o["state"] = to_string(s.state);
    if (s.state == client::connection_state::closed) {
        o["reason"] = to_string(s.reason);
    }
    if (s.state == client::connection_state::connection_lost) {
        o["retry_in_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                               s.next_attempt - client::clock::now())
                               .count();
    }
    if (s.state == client::connection_state::connected) {
        o["user_id"] = s.user_id;
        o["role"] = to_string(s.user_role);
        o["retention_days"] = s.retention_days;
    }
    if (s.safety_notice) {
        o["safety_notice"] = to_json(*s.safety_notice);
    }
    if (!s.detail.empty()) {
        o["detail"] = s.detail;
    }
    return o;
}

json::object to_json(const client::send_update& u) {
    json::object o;
    o["type"] = "send";
    o["client_msg_id"] = u.client_msg_id;
    o["conversation_id"] = u.conversation_id;
    o["state"] = to_string(u.state);
    if (u.seq != 0) {
        o["seq"] = u.seq;
        o["server_time_ms"] = u.server_time_ms;
    }
    if (u.err) {
        o["error"] = client::to_string(u.err->code);
        o["message"] = u.err->message;
        o["retryable"] = u.err->retryable;
    }
    if (u.safety_notice) {
        o["safety_notice"] = to_json(*u.safety_notice);
    }
    return o;
}

}  // namespace confide::cli
