#pragma once
// The audit trail: who accessed what, when and from where, for a health-data auditor (HIPAA
// §164.312(b)). Content-free by construction: an event holds ids, an address, an action and a
// reason written by the server, never a message body, never a token (docs/privacy.md, "Audit").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confide::routing {

/// What happened. The names (to_string) are the stored and logged vocabulary: never rename one.
enum class audit_action {
    sign_in,             ///< a connection authenticated (detail: the role)
    sign_in_failed,      ///< authentication refused (detail: why, in the server's words)
    sign_out,            ///< the user signed out
    logoff,              ///< closed after inactivity (automatic logoff; detail: the idle time)
    sync,                ///< a device (re)started its event stream (detail: from which cursor)
    conversations_read,  ///< the conversation list, with each last message (detail: how many)
    history_read,        ///< messages of a conversation (detail: how many, before which seq)
    conversation_state,  ///< a conversation opened, accepted, declined or closed (detail: which)
    access_denied,       ///< a request refused as FORBIDDEN (detail: the request and the reason)
    erasure,             ///< an erasure of a user or a conversation (confide-admin erase)
    key_rotation,        ///< a rewrap of the data keys (confide-admin keys rotate)
    admin_command,       ///< a confide-admin command: a directory change or an audit query
                         ///< (user: "os:<login>"; detail: the command)
    integrity_failure,   ///< a stored record failed its check: altered, moved, or keys wrong
                         ///< (detail: which record and why; never its content)
    retention,           ///< a retention sweep deleted old messages (detail: how many, in how
                         ///< many conversations, and the cutoff; no user, no conversation)
};

/// The action's name: "sign_in", "sign_in_failed", ...
std::string_view to_string(audit_action a) noexcept;

/// The action named `name`, or nullopt.
std::optional<audit_action> parse_audit_action(std::string_view name) noexcept;

/// One audited access. Every field but `action` and `time_ms` may be empty when it does not
/// apply (a failed sign-in without a valid token has no user).
struct audit_event {
    audit_action action = audit_action::sign_in;
    std::int64_t time_ms = 0;     ///< when, ms since the Unix epoch
    std::string user_id;          ///< who (the authenticated user; never a claim not verified)
    std::string device_id;        ///< from which device
    std::string address;          ///< from which address ("ip:port")
    std::string connection_id;    ///< over which connection (as in the server's log)
    std::string conversation_id;  ///< what, when it is a conversation
    std::string detail;           ///< a reason or a count, in the server's words
};

/// The event as one JSON object on one line (no newline), with an "audit" member naming the
/// action first and empty fields left out: what the log gets. Thread safety: pure.
std::string to_json_line(const audit_event& e);

/// Where audit events go. Implemented by storage (store::redis_audit_log: a Redis stream with a
/// retention of its own, and the log as JSON lines) and by a fake in unit tests.
///
/// Thread safety: record() may be called from any thread.
class audit_log {
public:
    virtual ~audit_log() = default;

    /// Records `e`. Never blocks and never fails the caller: an event storage cannot take is
    /// still in the log, and the failure is logged.
    virtual void record(audit_event e) = 0;
};

}  // namespace confide::routing
