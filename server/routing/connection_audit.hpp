#pragma once
// Audit events of one connection.

#include "common/clock.hpp"
#include "routing/audit.hpp"
#include "routing/connection.hpp"

#include <string>
#include <utility>

namespace confide::routing {

/// An event of `action` on `conn` now: its user and device (once authenticated), its address and
/// its id, with `conversation_id` and `detail`. Thread safety: on `conn`'s strand.
inline audit_event audit_event_of(const connection& conn, audit_action action,
                                  std::string conversation_id = {}, std::string detail = {}) {
    audit_event e;
    e.action = action;
    e.time_ms = now_ms();
    if (conn.authenticated()) {
        e.user_id = conn.user_id();
        e.device_id = conn.device_id();
    }
    e.address = conn.info().remote_address;
    e.connection_id = conn.info().connection_id;
    e.conversation_id = std::move(conversation_id);
    e.detail = std::move(detail);
    return e;
}

}  // namespace confide::routing
