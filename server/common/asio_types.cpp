#include "common/asio_types.hpp"

#include "common/log.hpp"

namespace confide {

void log_exception::operator()(const std::exception_ptr& e) const noexcept {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log::error("coroutine {} ended with an exception: {}", what, ex.what());
    } catch (...) {
        log::error("coroutine {} ended with an unknown exception", what);
    }
}

}  // namespace confide
