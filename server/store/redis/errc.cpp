#include "store/redis/errc.hpp"

#include <string>

namespace confide::store::redis {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "confide.redis"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::not_connected:
                return "not connected to Redis";
            case errc::disconnected:
                return "the connection to Redis dropped before the reply";
            case errc::timeout:
                return "no reply from Redis before the deadline";
            case errc::server_error:
                return "Redis answered with an error";
            case errc::protocol_error:
                return "unexpected reply from Redis";
            case errc::stopped:
                return "the Redis client was stopped";
        }
        return "unknown Redis client error";
    }
};

}  // namespace

const boost::system::error_category& redis_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace confide::store::redis
