#include "store/redis/asio_adapter.hpp"

#include "common/log.hpp"

#include <hiredis/async.h>
#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <exception>
#include <utility>

namespace confide::store::redis::detail {
namespace {

using descriptor = asio::posix::stream_descriptor;

class asio_events final : public std::enable_shared_from_this<asio_events> {
public:
    asio_events(redisAsyncContext* ac, const executor& strand, std::weak_ptr<void> owner,
                cleanup_callback on_cleanup)
        : ac_(ac), fd_(strand), owner_(std::move(owner)), on_cleanup_(on_cleanup) {}

    ~asio_events() {
        if (fd_.is_open()) {
            fd_.release();  // never close: the descriptor is hiredis's
        }
    }

    asio_events(const asio_events&) = delete;
    asio_events& operator=(const asio_events&) = delete;

    bool assign(int fd) {
        boost::system::error_code ec;
        fd_.assign(fd, ec);
        return !ec;
    }

    void keep_alive(std::shared_ptr<asio_events> self) { self_ = std::move(self); }

    static void add_read(void* p) noexcept {
        guard(p, [](asio_events& e) { e.want(read); });
    }
    static void del_read(void* p) noexcept {
        guard(p, [](asio_events& e) { e.unwant(read); });
    }
    static void add_write(void* p) noexcept {
        guard(p, [](asio_events& e) { e.want(write); });
    }
    static void del_write(void* p) noexcept {
        guard(p, [](asio_events& e) { e.unwant(write); });
    }
    static void cleanup(void* p) noexcept {
        guard(p, [](asio_events& e) { e.detach(); });
    }

private:
    enum direction { read = 0, write = 1 };

    template <class F>
    static void guard(void* p, F f) noexcept {
        try {
            f(*static_cast<asio_events*>(p));
        } catch (const std::exception& e) {
            log::error("redis: event hook failed: {}", e.what());
        } catch (...) {
            log::error("redis: event hook failed");
        }
    }

    // hiredis calls addRead after every read and every write: with one wait in flight per
    // direction at most, the repeated calls cost nothing.
    void want(direction d) {
        wanted_[d] = true;
        if (!waiting_[d]) {
            wait(d);
        }
    }

    // A wait already in flight is left alone (cancel() would cancel both directions): its
    // completion is ignored unless the direction is wanted again by then.
    void unwant(direction d) { wanted_[d] = false; }

    void wait(direction d) {
        waiting_[d] = true;
        fd_.async_wait(d == read ? descriptor::wait_read : descriptor::wait_write,
                       [self = shared_from_this(), d](const boost::system::error_code& ec) {
                           self->on_ready(d, ec);
                       });
    }

    void on_ready(direction d, const boost::system::error_code& ec) {
        // The owner first: while it is alive nobody frees the context concurrently; once it is
        // gone, this object may be being detached on another thread, so touch nothing.
        auto owner = owner_.lock();
        if (!owner) {
            return;
        }
        waiting_[d] = false;
        if (ac_ == nullptr || ec == asio::error::operation_aborted || !wanted_[d]) {
            return;
        }
        // Another error is left to hiredis: its read or write fails and it disconnects.
        try {
            if (d == read) {
                redisAsyncHandleRead(ac_);
            } else {
                redisAsyncHandleWrite(ac_);
            }
        } catch (const std::exception& e) {
            log::error("redis: handling an I/O event failed: {}", e.what());
        }
        // hiredis may have freed the context inside the call (cleanup() then ran and ac_ is
        // null): nothing here may touch it any more.
    }

    void detach() {
        // Released when this call returns; the waits still in flight hold their own references.
        auto self = std::move(self_);
        auto* ac = std::exchange(ac_, nullptr);
        if (ac == nullptr) {
            return;
        }
        // Newer hiredis versions call cleanup twice: make the second call (and any late hook)
        // a no-op rather than a use of a detached adapter.
        ac->ev.addRead = nullptr;
        ac->ev.delRead = nullptr;
        ac->ev.addWrite = nullptr;
        ac->ev.delWrite = nullptr;
        ac->ev.cleanup = nullptr;
        ac->ev.data = nullptr;
        wanted_[read] = wanted_[write] = false;
        boost::system::error_code ignored;
        fd_.cancel(ignored);
        fd_.release();  // hiredis closes the descriptor itself, right after this hook
        on_cleanup_(ac);
    }

    redisAsyncContext* ac_;
    descriptor fd_;
    std::weak_ptr<void> owner_;
    cleanup_callback on_cleanup_;
    std::shared_ptr<asio_events> self_;  ///< held while hiredis holds a pointer to this object
    bool wanted_[2] = {false, false};
    bool waiting_[2] = {false, false};
};

}  // namespace

bool attach_asio(redisAsyncContext* ac, const executor& strand, std::weak_ptr<void> owner,
                 cleanup_callback on_cleanup) {
    if (ac == nullptr || ac->ev.data != nullptr) {
        return false;
    }
    try {
        auto events = std::make_shared<asio_events>(ac, strand, std::move(owner), on_cleanup);
        if (!events->assign(ac->c.fd)) {
            return false;
        }
        ac->ev.addRead = &asio_events::add_read;
        ac->ev.delRead = &asio_events::del_read;
        ac->ev.addWrite = &asio_events::add_write;
        ac->ev.delWrite = &asio_events::del_write;
        ac->ev.cleanup = &asio_events::cleanup;
        ac->ev.data = events.get();
        events->keep_alive(events);
        return true;
    } catch (const std::exception& e) {
        log::error("redis: cannot attach to the event loop: {}", e.what());
        return false;
    }
}

}  // namespace confide::store::redis::detail
