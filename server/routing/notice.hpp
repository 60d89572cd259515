#pragma once
// Notices: what reaches a connection without being asked for.

#include "routing/domain.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <variant>

namespace confide::routing {

/// Bytes made by the first caller of get() and shared by every later one.
///
/// Thread safety: get() is safe to call concurrently; `make` runs once (again only if it threw).
///
/// Not std::call_once: glibc's pthread_once ends every first call with a futex wake-up, a
/// system call even when nobody waits, and a notice's frame is made once per notice: 2.3 futex
/// calls per message at workload W (docs/benchmarks.md, "Server CPU per message"). A caller that
/// finds another one making the bytes yields until they are there; notices are shared by the
/// sessions of one I/O thread, so that does not happen in practice.
class shared_bytes {
public:
    template <class Make>
    const std::shared_ptr<const std::string>& get(Make&& make) const {
        while (state_.load(std::memory_order_acquire) != ready) {
            int expected = empty;
            if (state_.compare_exchange_strong(expected, making, std::memory_order_acquire)) {
                try {
                    bytes_ = make();
                } catch (...) {
                    state_.store(empty, std::memory_order_release);
                    throw;
                }
                state_.store(ready, std::memory_order_release);
            } else if (expected == making) {
                std::this_thread::yield();
            }
        }
        return bytes_;
    }

private:
    enum : int { empty, making, ready };
    mutable std::atomic<int> state_{empty};
    mutable std::shared_ptr<const std::string> bytes_;
};

/// Something for one user's connections: an event of their stream (a message or a conversation
/// change: stored, with a position), or a live-only signal (receipt, presence, typing: not stored,
/// not replayed).
///
/// Storage builds it; from then on it is immutable and shared by every connection of the user on
/// the node (or shard) that decoded it. Its frame is encoded by routing when the first of them
/// sends it (routing/wire.hpp), once for all of them.
///
/// Thread safety: const members are safe from any thread.
/// A live signal: the user's account was erased (confide-admin erase user); every connection of
/// theirs closes, signed out.
struct account_erased {};

struct notice {
    using payload = std::variant<message, conversation, receipt, presence, typing, account_erased>;

    /// Events: the position in the user's stream. `n` is gapless (1, 2, 3, ...) so a listener
    /// can tell a missed notice; `cursor` is what the client acks and resumes from.
    std::uint64_t n = 0;
    std::string cursor;

    payload what;

    /// An event whose content this notice could not carry (storage holds it sealed, and the
    /// node had not opened its conversation's key yet): it only says that event `n` exists, so
    /// the stream reads it from storage. `what` is then meaningless.
    bool content_elsewhere = false;

    /// The encoded frame (request_id 0), see routing::frame_of.
    shared_bytes frame;

    /// Whether this is an event of the stream (a message or a conversation), not a live signal.
    bool is_event() const noexcept {
        return std::holds_alternative<message>(what) || std::holds_alternative<conversation>(what);
    }

    /// The message of a message event, else null.
    const message* message_event() const noexcept { return std::get_if<message>(&what); }
};

}  // namespace confide::routing
