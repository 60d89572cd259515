#pragma once
// The directory's and the consultation workflow's wire types (confide.proto) as the library's
// plain structs, and back: availability, presence with it, specialists, decline reasons, the
// safety notice, time ranges. Pure functions; shared by the core's requests and its events.

#include "confide/client.hpp"

#include <google/protobuf/repeated_field.h>

namespace confide::v1 {
class Availability;
class Presence;
class SafetyNotice;
class Specialist;
class TimeRange;
}  // namespace confide::v1

namespace confide::client::detail {

availability from_proto(const v1::Availability& a);
/// With its availability when the server sent one.
presence from_proto(const v1::Presence& p);
specialist from_proto(const v1::Specialist& s);
safety_notice from_proto(const v1::SafetyNotice& n);
std::vector<time_range> from_proto(const google::protobuf::RepeatedPtrField<v1::TimeRange>& r);

/// confide.v1.DeclineReason's number <-> decline_reason (unknown numbers: unspecified).
decline_reason decline_reason_from_proto(int r);
int to_proto(decline_reason r);

/// Appends `ranges` to a repeated TimeRange field.
void to_proto(const std::vector<time_range>& ranges,
              google::protobuf::RepeatedPtrField<v1::TimeRange>& out);

}  // namespace confide::client::detail
