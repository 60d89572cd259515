// Fuzzes what a client's bytes meet first: the frame decoder (protocol::decode,
// peek_request_id) and the validation of every request (protocol::validate_request), with the
// default limits. Besides the sanitizers' findings, it checks that
//   - a frame that validates survives encode -> decode -> validate unchanged in meaning, and
//   - a refusal is INVALID_ARGUMENT or TOO_LARGE with a message, and can be encoded as a reply.

#include "protocol/codec.hpp"
#include "protocol/limits.hpp"
#include "protocol/validate.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "frame_fuzz: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    confide::protocol::quiet_protobuf_logging();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace protocol = confide::protocol;
    using confide::errc;
    static const protocol::limits limits;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    (void)protocol::peek_request_id(bytes);
    auto frame = protocol::decode(bytes);
    if (!frame) {
        check(frame.error().code == errc::invalid_argument, "decode failed with another code");
        return 0;
    }
    auto valid = protocol::validate_request(*frame, limits);
    if (!valid) {
        const auto& f = valid.error();
        check(f.code == errc::invalid_argument || f.code == errc::too_large,
              "validation failed with another code");
        check(!f.message.empty(), "validation failed without a message");
        check(!protocol::encode_error(frame->request_id(), f)->empty(), "empty error reply");
        return 0;
    }
    check(frame->request_id() != 0, "a request without an id validated");
    auto again = protocol::decode(*protocol::encode(*frame));
    check(again.has_value(), "a valid frame did not decode after encoding");
    check(again->request_id() == frame->request_id(), "request id changed in a round trip");
    check(again->kind_case() == frame->kind_case(), "request kind changed in a round trip");
    check(protocol::validate_request(*again, limits).has_value(),
          "a valid frame was refused after a round trip");
    return 0;
}
