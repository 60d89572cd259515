#pragma once
// The chat domain's values as confide.v1 messages, and back: the one place where routing meets
// the wire protocol's types.

#include "auth/identity.hpp"
#include "routing/domain.hpp"
#include "routing/notice.hpp"

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

void to_wire(const message& in, v1::Message& out);
void to_wire(const presence& in, v1::Presence& out);
void to_wire(const conversation& in, v1::Conversation& out);

/// ACCEPT / DECLINE; anything else (validation lets only CLOSE through) reads as close.
conversation_action from_wire(v1::ConversationAction a) noexcept;

/// AWAY; anything else (validation lets only ONLINE through) reads as online.
presence_state from_wire(v1::PresenceState s) noexcept;

/// The frame of a notice (an EventPush, ReceiptPush, PresencePush or TypingPush; request_id 0),
/// encoded on the first call for every connection the notice goes to.
const std::shared_ptr<const std::string>& frame_of(const notice& n);

}  // namespace confide::routing
