#include "protocol/codec.hpp"

#include "common/log.hpp"

#include <google/protobuf/stubs/logging.h>

namespace confide::protocol {

outcome<v1::Frame> decode(std::string_view bytes) {
    v1::Frame frame;
    if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return fail(errc::invalid_argument, "the frame is not a valid confide.v1.Frame");
    }
    return frame;
}

std::uint64_t peek_request_id(std::string_view bytes) noexcept {
    // Field 1, wire type 0 (varint): tag byte 0x08. Serializers write fields in number order, so
    // request_id comes first when it is set.
    if (bytes.empty() || static_cast<unsigned char>(bytes[0]) != 0x08) {
        return 0;
    }
    std::uint64_t value = 0;
    for (std::size_t i = 1, shift = 0; i < bytes.size() && shift < 64; ++i, shift += 7) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return value;
        }
    }
    return 0;
}

std::shared_ptr<const std::string> encode(const v1::Frame& frame) {
    auto out = std::make_shared<std::string>();
    frame.SerializeToString(out.get());
    return out;
}

std::shared_ptr<const std::string> encode_error(std::uint64_t request_id, const failure& f) {
    v1::Frame frame;
    frame.set_request_id(request_id);
    auto* e = frame.mutable_error();
    e->set_code(static_cast<v1::ErrorCode>(static_cast<int>(f.code)));
    e->set_message(f.message);
    e->set_retryable(is_retryable(f.code));
    e->set_retry_after_ms(f.retry_after_ms);
    return encode(frame);
}

void quiet_protobuf_logging() {
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel level, const char*, int, const std::string& message) {
            // Messages name fields, never their contents.
            if (level >= google::protobuf::LOGLEVEL_FATAL) {
                log::error("protobuf: {}", message);
            } else {
                log::debug("protobuf: {}", message);
            }
        });
}

}  // namespace confide::protocol
