#pragma once
// The chat domain's values as confide.v1 messages, and back: the one place where routing meets
// the wire protocol's types.

#include "auth/identity.hpp"
#include "routing/domain.hpp"
#include "routing/notice.hpp"
#include "routing/services.hpp"

#include "confide/v1/confide.pb.h"

#include <memory>
#include <string>

namespace confide::routing {

namespace v1 = ::confide::v1;

/// Thread safety of every function here: safe (pure, or `notice`'s own once-only encoding).

v1::Role to_wire(auth::role r) noexcept;
v1::ConversationState to_wire(conversation_state s) noexcept;
v1::PresenceState to_wire(presence_state s) noexcept;
v1::ReceiptKind to_wire(receipt_kind k) noexcept;

v1::DeclineReason to_wire(decline_reason r) noexcept;

void to_wire(const message& in, v1::Message& out);
void to_wire(const presence& in, v1::Presence& out);
void to_wire(const conversation& in, v1::Conversation& out);
void to_wire(const time_range& in, v1::TimeRange& out);
void to_wire(const availability& in, v1::Availability& out);
void to_wire(const specialist_listing& in, v1::Specialist& out);
void to_wire(const safety_notice& in, v1::SafetyNotice& out);

/// ACCEPT / DECLINE; anything else (validation lets only CLOSE through) reads as close.
conversation_action from_wire(v1::ConversationAction a) noexcept;

/// AWAY; anything else (validation lets only ONLINE through) reads as online.
presence_state from_wire(v1::PresenceState s) noexcept;

/// The reason; a value this server does not know (validation refuses them) reads as other.
decline_reason from_wire(v1::DeclineReason r) noexcept;

time_range from_wire(const v1::TimeRange& r) noexcept;

/// The frame of a notice (an EventPush, ReceiptPush, PresencePush or TypingPush; request_id 0),
/// encoded on the first call for every connection the notice goes to.
const std::shared_ptr<const std::string>& frame_of(const notice& n);

}  // namespace confide::routing
