#include "routing/audit.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <utility>

namespace confide::routing {
namespace {

constexpr std::array<std::pair<audit_action, std::string_view>, 14> names{{
    {audit_action::sign_in, "sign_in"},
    {audit_action::sign_in_failed, "sign_in_failed"},
    {audit_action::sign_out, "sign_out"},
    {audit_action::logoff, "logoff"},
    {audit_action::sync, "sync"},
    {audit_action::conversations_read, "conversations_read"},
    {audit_action::history_read, "history_read"},
    {audit_action::conversation_state, "conversation_state"},
    {audit_action::access_denied, "access_denied"},
    {audit_action::integrity_failure, "integrity_failure"},
    {audit_action::erasure, "erasure"},
    {audit_action::key_rotation, "key_rotation"},
    {audit_action::admin_command, "admin_command"},
    {audit_action::retention, "retention"},
}};

}  // namespace

std::string_view to_string(audit_action a) noexcept {
    for (const auto& [action, name] : names) {
        if (action == a) {
            return name;
        }
    }
    return "unknown";
}

std::optional<audit_action> parse_audit_action(std::string_view name) noexcept {
    for (const auto& [action, n] : names) {
        if (n == name) {
            return action;
        }
    }
    return std::nullopt;
}

std::string to_json_line(const audit_event& e) {
    boost::json::object o;
    o["audit"] = to_string(e.action);
    o["time_ms"] = e.time_ms;
    const std::pair<const char*, const std::string*> fields[] = {
        {"user", &e.user_id},
        {"device", &e.device_id},
        {"address", &e.address},
        {"conn", &e.connection_id},
        {"conversation", &e.conversation_id},
        {"detail", &e.detail},
    };
    for (const auto& [name, value] : fields) {
        if (!value->empty()) {
            o[name] = *value;
        }
    }
    return boost::json::serialize(o);
}

}  // namespace confide::routing
