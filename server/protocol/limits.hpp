#pragma once

#include "common/text.hpp"

#include <cstddef>
#include <cstdint>

namespace confide::protocol {

/// Every size limit of the wire protocol, in one place. Defaults are the documented ones; the
/// server's configuration may change them and tells clients in AuthenticateReply.limits.
struct limits {
    std::size_t max_frame_bytes = 64 * 1024;
    std::size_t max_body_bytes = 8 * 1024;
    std::size_t max_id_bytes = confide::max_id_bytes;
    std::size_t max_token_bytes = 8 * 1024;
    std::size_t max_cursor_bytes = 64;
    std::uint32_t default_page = 50;
    std::uint32_t max_page = 200;
    std::size_t max_topic_bytes = 200;    ///< StartInquiryRequest.topic
    std::size_t max_preferred_times = 5;  ///< StartInquiryRequest.preferred_times
    std::int64_t max_preferred_time_ms = 24LL * 3600 * 1000;  ///< the length of one
};

}  // namespace confide::protocol
