#pragma once
// Bytes <-> frames. Decoding checks syntax only; validate.hpp checks meaning.

#include "common/error.hpp"

#include "confide/v1/confide.pb.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace confide::protocol {

namespace v1 = ::confide::v1;

/// Parses one binary WebSocket message. Fails with invalid_argument when the bytes are not a
/// Frame. Thread safety: safe.
outcome<v1::Frame> decode(std::string_view bytes);

/// The request_id of a frame that failed to parse (e.g. invalid UTF-8 in a string field), read
/// from its leading field, so that the error reply can name the request. 0 if there is none.
std::uint64_t peek_request_id(std::string_view bytes) noexcept;

/// Serializes a frame into a buffer that can be shared by every connection it goes to.
std::shared_ptr<const std::string> encode(const v1::Frame& frame);

/// The reply to request `request_id` that reports `f`.
std::shared_ptr<const std::string> encode_error(std::uint64_t request_id, const failure& f);

/// Routes protobuf's own log output (e.g. on invalid UTF-8 in a client's frame) to our debug
/// log, so that bad input cannot flood the server's log. Call once at start-up.
void quiet_protobuf_logging();

}  // namespace confide::protocol
