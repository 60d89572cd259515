#pragma once
// What a device of the cluster tests receives, in order (shared by the cluster test files).

#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace confide::test {

/// What `c` receives, in order, up to and including the message `last`: message bodies, and
/// with `conversations` conversation events as "<STATE> <conversation id>".
inline std::vector<std::string> events_until(ws_client& c, const std::string& last,
                                             bool conversations = true) {
    std::vector<std::string> out;
    while (auto f = c.next(std::chrono::seconds(10))) {
        if (f->has_event() && f->event().has_message()) {
            out.push_back(f->event().message().body());
            if (out.back() == last) {
                return out;
            }
        } else if (conversations && f->has_event() && f->event().has_conversation()) {
            const auto& conv = f->event().conversation();
            out.push_back(v1::ConversationState_Name(conv.state()) + " " + conv.id());
        }
    }
    ADD_FAILURE() << "'" << last << "' never came";
    return out;
}

/// The bodies of the message events `c` receives, in order, up to and including `last`.
inline std::vector<std::string> bodies_until(ws_client& c, const std::string& last) {
    return events_until(c, last, false);
}

}  // namespace confide::test
