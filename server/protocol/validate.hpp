#pragma once
// Validation of meaning: protobuf happily parses empty or wrong-typed frames into defaults, so
// every request is checked here before anything acts on it.

#include "common/error.hpp"
#include "protocol/limits.hpp"

#include "confide/v1/confide.pb.h"

#include <string_view>

namespace confide::protocol {

namespace v1 = ::confide::v1;

/// A stream cursor as the server hands it out: "<digits>-<digits>".
bool is_valid_cursor(std::string_view cursor, const limits& l) noexcept;

/// Checks a frame received from a client: a request kind (never a reply or push), a request id,
/// and every field of that request (present, well-formed, within limits). The failure says which
/// field is wrong and never quotes its content.
outcome<void> validate_request(const v1::Frame& frame, const limits& l);

}  // namespace confide::protocol
