#include "store/keys.hpp"

namespace confide::store::keys {
namespace {

std::string conv_key(std::string_view id, std::string_view suffix) {
    std::string k;
    k.reserve(9 + id.size() + suffix.size());
    k.append("cf:c:{").append(id).append("}").append(suffix);
    return k;
}

std::string user_key(std::string_view id, std::string_view suffix) {
    std::string k;
    k.reserve(9 + id.size() + suffix.size());
    k.append("cf:u:{").append(id).append("}").append(suffix);
    return k;
}

constexpr std::string_view channel_prefix = "cf:n:{";

}  // namespace

std::string conversation(std::string_view id) {
    return conv_key(id, "");
}
std::string conversation_log(std::string_view id) {
    return conv_key(id, ":log");
}

std::string user(std::string_view id) {
    return user_key(id, "");
}
std::string inbox(std::string_view id) {
    return user_key(id, ":inbox");
}
std::string conversations(std::string_view id) {
    return user_key(id, ":convs");
}
std::string inquiries(std::string_view id) {
    return user_key(id, ":inquiries");
}
std::string open_with(std::string_view id) {
    return user_key(id, ":open");
}
std::string contacts(std::string_view id) {
    return user_key(id, ":contacts");
}
std::string acks(std::string_view id) {
    return user_key(id, ":acks");
}
std::string appended(std::string_view id) {
    return user_key(id, ":appended");
}
std::string connections(std::string_view id) {
    return user_key(id, ":conns");
}

std::string inquiry_record(std::string_view user_id, std::string_view client_msg_id) {
    std::string suffix(":inq:");
    suffix.append(client_msg_id);
    return user_key(user_id, suffix);
}

std::string profile(std::string_view id) {
    return user_key(id, ":profile");
}
std::string first_replies(std::string_view id) {
    return user_key(id, ":replies");
}

std::string layout() {
    return "cf:layout";
}

std::string key_check() {
    return "cf:keys";
}

std::string presence_expiry() {
    return "cf:presence:expiry";
}
std::string audit_log() {
    return "cf:audit";
}
std::string directory() {
    return "cf:directory";
}
std::string directory_version() {
    return "cf:directory:version";
}
std::string inquiry_expiry() {
    return "cf:inquiries:expiry";
}
std::string reminders_due() {
    return "cf:reminders:due";
}
std::string retention() {
    return "cf:retention";
}
std::string reminders() {
    return "cf:reminders";
}

std::string reminder_sent(std::string_view member, std::string_view since) {
    // The hash tag is the stream's whole name: the same slot as reminders().
    std::string k = "cf:reminders:sent:{cf:reminders}:";
    k.append(member).append(":").append(since);
    return k;
}

bool of_any_layout(std::string_view key) {
    // The audit stream too: confide-admin audits its own commands (directory changes) before
    // any server may have recorded the layout.
    return key == directory() || key == directory_version() || key == audit_log() ||
           (key.starts_with("cf:u:{") && key.ends_with("}:profile"));
}

std::string user_pattern() {
    return "cf:u:{*}";
}

namespace {

// The id of a main key "<prefix><id>}" (a user's or a conversation's), else empty.
std::string_view id_of_main_key(std::string_view key, std::string_view prefix) {
    if (key.size() <= prefix.size() + 1 || !key.starts_with(prefix) || key.back() != '}') {
        return {};
    }
    auto id = key.substr(prefix.size(), key.size() - prefix.size() - 1);
    return id.find('}') == std::string_view::npos ? id : std::string_view();
}

}  // namespace

std::string_view user_of_key(std::string_view key) {
    return id_of_main_key(key, "cf:u:{");
}

std::string conversation_pattern() {
    return "cf:c:{*}";
}

std::string_view conversation_of_key(std::string_view key) {
    return id_of_main_key(key, "cf:c:{");
}

std::string inquiry_record_pattern(std::string_view user_id) {
    // SCAN's glob: the id's own glob characters are escaped.
    std::string id;
    for (const char c : user_id) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
            id.push_back('\\');
        }
        id.push_back(c);
    }
    return user_key(id, ":inq:*");
}

std::string channel(std::string_view user_id) {
    std::string c(channel_prefix);
    c.append(user_id).push_back('}');
    return c;
}

std::string dedupe_field(bool from_client, std::string_view client_msg_id) {
    std::string f(from_client ? "m:c:" : "m:s:");
    f.append(client_msg_id);
    return f;
}

std::string device_field(std::string_view device_id) {
    std::string f("v:");
    f.append(device_id);
    return f;
}

std::string delivered_field(std::string_view conversation_id) {
    std::string f("d:");
    f.append(conversation_id);
    return f;
}

std::string_view user_of_channel(std::string_view ch) {
    if (ch.size() <= channel_prefix.size() + 1 || !ch.starts_with(channel_prefix) ||
        ch.back() != '}') {
        return {};
    }
    return ch.substr(channel_prefix.size(), ch.size() - channel_prefix.size() - 1);
}

}  // namespace confide::store::keys
