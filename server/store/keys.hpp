#pragma once
// Every Redis key and channel name, in one place. Each conversation's keys share the hash tag
// {<id>} (cf:c:{<id>}...) and each user's keys and channel the hash tag {<id>} (cf:u:{<id>}...,
// cf:n:{<id>}), so each lives in one slot of a Redis Cluster (docs/design.md, "Key layout").

#include <string>
#include <string_view>

namespace confide::store::keys {

/// The layout version this server reads and writes (docs/design.md, "Key layout"), with what
/// people wrote sealed; plaintext storage (--allow-plaintext-storage) records
/// layout_version_plaintext instead, so that neither kind of server reads the other's data.
/// Layout 4 is layout 3 with the retention index (keys::retention()): a server of layout 4
/// on layout-3 data would never delete the messages of conversations missing from it.
constexpr std::string_view layout_version = "4";
constexpr std::string_view layout_version_plaintext = "4-plaintext";

// Conversation <id>
std::string conversation(std::string_view id);      ///< hash: parties, state, marks, dedupe
std::string conversation_log(std::string_view id);  ///< stream "0-<seq>": the messages

// User <id>
std::string user(std::string_view id);           ///< hash: role, presence, status, last_seen
std::string inbox(std::string_view id);          ///< stream "0-<n>": the user's events
std::string conversations(std::string_view id);  ///< zset: conv id -> created / state changed
std::string inquiries(std::string_view id);      ///< zset (specialists): open inquiries
std::string open_with(std::string_view id);      ///< hash (clients): specialist -> open conv
std::string contacts(std::string_view id);       ///< set: the other parties of the user's convs
std::string acks(std::string_view id);         ///< hash: device cursors (v:), delivered marks (d:)
std::string connections(std::string_view id);  ///< zset: live connection id -> expiry ms
/// hash (Redis Cluster only): conversation id -> "<seq> <event id>", the last message of that
/// conversation appended to the user's stream (the user step's idempotency, user_events.lua)
std::string appended(std::string_view id);
std::string inquiry_record(std::string_view user_id,
                           std::string_view client_msg_id);  ///< string: where an inquiry went
std::string profile(std::string_view id);        ///< hash: the directory entry of a specialist
std::string first_replies(std::string_view id);  ///< zset: "<ms>:<cid>" -> time of first reply

// Global
std::string layout();             ///< string: the layout version of the data (layout_version)
std::string key_check();          ///< hash: what each key-encryption key and the fingerprint
                                  ///< key were when first used (store::check_keys)
std::string presence_expiry();    ///< zset: user id -> expiry of their last live connection
std::string audit_log();          ///< stream: the audit trail (store/audit_log_redis.hpp)
std::string directory();          ///< zset: listed specialist ids (score 0)
std::string directory_version();  ///< string: counter, moved by every change of the directory
std::string inquiry_expiry();     ///< zset: conversation id -> when the inquiry expires
std::string reminders_due();      ///< zset: "<cid>|c" or "<cid>|s" -> when the reminder is due
std::string reminders();          ///< stream: unread reminders for the platform's mailer
/// string (Redis Cluster only): the reminder of `member` ("<cid>|c" or "<cid>|s") for the
/// burst that started at `since` was appended to reminders(); in reminders()' slot
std::string reminder_sent(std::string_view member, std::string_view since);
std::string retention();  ///< zset: conversation id -> time of its oldest kept message
                          ///< (or a lower bound of it), for the retention sweeper

/// Whether `key` means the same in every layout (the directory and the audit stream, written by
/// confide-admin even before a server recorded the layout); any other cf:* key without cf:layout
/// is layout 1.
bool of_any_layout(std::string_view key);

/// A SCAN pattern matching every user's main hash (keys::user), and the user id of such a key
/// (empty if `key` is not one).
std::string user_pattern();
std::string_view user_of_key(std::string_view key);

/// A SCAN pattern matching every conversation's hash (keys::conversation), and the conversation
/// id of such a key (empty if `key` is not one).
std::string conversation_pattern();
std::string_view conversation_of_key(std::string_view key);

/// A SCAN pattern matching every inquiry_record() of `user_id`.
std::string inquiry_record_pattern(std::string_view user_id);

// Fields
/// In a conversation hash: the dedupe record of a message ('m:c:<id>' from the client,
/// 'm:s:<id>' from the specialist): "<log id> <time ms> <fingerprint>".
std::string dedupe_field(bool from_client, std::string_view client_msg_id);
/// In a user's acks hash: a device's cursor (the n of "0-<n>").
std::string device_field(std::string_view device_id);
/// In a user's acks hash: the user's delivered mark in a conversation (a seq).
std::string delivered_field(std::string_view conversation_id);

/// The pub/sub channel that wakes the connections of user <id>. It has the hash tag of the
/// user's keys: on a Redis Cluster it is also the user's shard channel (SPUBLISH, SSUBSCRIBE;
/// a namespace apart from PUBLISH's), in the slot of the user's stream, so the step that appends
/// to the stream publishes its wake-up in the same script, on the same master.
std::string channel(std::string_view user_id);
/// The user id of a channel() name, or empty if `channel` is not one.
std::string_view user_of_channel(std::string_view channel);

}  // namespace confide::store::keys
