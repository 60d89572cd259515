#pragma once
// The client's outbox: the messages the server has not stored yet, one FIFO per conversation (per
// specialist for an inquiry), and which of them are in flight under which request id. No I/O and
// no protocol: the core decides when to send and what a reply means.

#include "confide/client.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace confide::client::detail {

struct outbox_item {
    std::string client_msg_id;
    bool inquiry = false;
    std::string target;  ///< conversation id, or specialist id for an inquiry
    std::string body;
    bool free_consultation = false;
    std::uint64_t request_id = 0;    ///< in flight when non-zero
    clock::time_point deadline{};    ///< of the request in flight
    clock::time_point not_before{};  ///< held back until then (a retry's backoff)
    unsigned failures = 0;           ///< retryable errors so far
};

/// Thread safety: none.
class outbox {
public:
    /// Only the first `per_queue` items of a queue are ever in flight, and at most `window` in
    /// all (0: no bound).
    outbox(unsigned per_queue, unsigned window);

    std::size_t size() const noexcept { return ids_.size(); }
    bool contains(const std::string& client_msg_id) const { return ids_.contains(client_msg_id); }
    /// Appends to the item's queue. Precondition: !contains(item.client_msg_id).
    void push(outbox_item item);
    outbox_item* find(const std::string& client_msg_id);
    /// Removes the item, and its request if it is in flight.
    void erase(const std::string& client_msg_id);

    /// Whether the window is full: nothing more may go out until a reply.
    bool window_full() const noexcept { return window_ != 0 && requests_.size() >= window_; }
    /// Every item that may go out at `now`, in queue order: not in flight, not held back, and
    /// within its queue's first `per_queue` (a held-back item also holds back those behind it)
    /// and the window. `send(item)` must call sending() for it.
    template <class Send>
    void for_each_ready(clock::time_point now, Send send) {
        for (auto& [key, queue] : queues_) {
            unsigned in_flight = 0;
            for (auto& item : queue) {
                if (in_flight == per_queue_ || window_full()) {
                    break;
                }
                if (item.request_id == 0) {
                    if (now < item.not_before) {
                        break;
                    }
                    send(item);
                }
                ++in_flight;
            }
            if (window_full()) {
                return;
            }
        }
    }
    /// `item` goes out as request `request_id`, awaited until `deadline` (which must not be
    /// earlier than that of the requests before).
    void sending(outbox_item& item, std::uint64_t request_id, clock::time_point deadline);
    /// The item request `request_id` was for, no longer in flight; nullptr if none.
    outbox_item* take_request(std::uint64_t request_id);
    /// `item` is no longer in flight; it goes again at `not_before` at the earliest.
    void retry_at(outbox_item& item, clock::time_point not_before);
    /// Items in flight past their deadline are no longer in flight: they go out again.
    void expire(clock::time_point now);
    /// Nothing is in flight any more (the connection is gone).
    void reset();
    /// The earliest of: the deadline of a request in flight, and (unless the window is full)
    /// when an item held back may go, not before `hold_until`.
    std::optional<clock::time_point> next_due(clock::time_point hold_until) const;

private:
    // Queues by (inquiry, target), found by a view without building a key.
    struct queue_ref {
        bool inquiry;
        std::string_view target;
    };
    struct queue_less {
        using is_transparent = void;
        static queue_ref ref(const queue_ref& r) noexcept { return r; }
        static queue_ref ref(const std::pair<bool, std::string>& k) noexcept {
            return {k.first, k.second};
        }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            const auto x = ref(a);
            const auto y = ref(b);
            return x.inquiry != y.inquiry ? x.inquiry < y.inquiry : x.target < y.target;
        }
    };
    using queue_map = std::map<std::pair<bool, std::string>, std::deque<outbox_item>, queue_less>;

    const unsigned per_queue_;
    const unsigned window_;
    queue_map queues_;
    std::unordered_map<std::string, queue_map::iterator> ids_;
    struct request {
        std::uint64_t id;
        std::string client_msg_id;
        clock::time_point deadline;
    };

    void forget_request(std::uint64_t request_id);

    // In flight, oldest first, so the first is due first: as many as the window, or the
    // conversations with something to send.
    std::vector<request> requests_;
};

}  // namespace confide::client::detail
