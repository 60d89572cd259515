#pragma once
// The Lua scripts of server/store/scripts/, embedded at build time (each with prelude.lua
// prepended). See docs/design.md, "Scripts".

#include "store/redis/script.hpp"

#include <vector>

namespace confide::store::scripts {

const redis::script& bind_role();
const redis::script& send();
/// One Redis only: several sends in one call, each answered as send() would have (group commit).
const redis::script& send_batch();
const redis::script& inquiry();
const redis::script& update();
const redis::script& mark_read();
const redis::script& ack();
const redis::script& presence_connect();
const redis::script& presence_disconnect();
const redis::script& presence_confirm_lost();
const redis::script& presence_status();
const redis::script& expire();
const redis::script& remind();
const redis::script& directory_put();
const redis::script& directory_remove();
const redis::script& rewrap();
const redis::script& erase_conversation();
const redis::script& retain();
// Redis Cluster only: the per-slot steps of a send (docs/design.md, "Redis Cluster").
const redis::script& send_conversation();
const redis::script& user_events();
// Redis Cluster only: the per-slot steps of an inquiry, of a state change and of a reminder.
const redis::script& inquiry_claim();
const redis::script& inquiry_conversation();
const redis::script& user_conversation();
const redis::script& conversation_state();
const redis::script& remind_conversation();
const redis::script& remind_stream();

/// Every script above, to load into Redis after each (re)connection.
const std::vector<const redis::script*>& all();

}  // namespace confide::store::scripts
