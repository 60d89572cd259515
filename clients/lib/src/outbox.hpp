#pragma once
// The client's outbox: the messages the server has not stored yet, one FIFO per conversation (per
// specialist for an inquiry), and which of them are in flight under which request id. No I/O and
// no protocol: the core decides when to send and what a reply means.

#include "confide/client.hpp"

#include <cstdint>
#include <deque>
#include <functional>
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
    std::string topic;                        ///< inquiries: what it is about
    std::vector<time_range> preferred_times;  ///< inquiries: for the initial consultation
    std::uint64_t request_id = 0;             ///< in flight when non-zero
    clock::time_point deadline{};             ///< of the request in flight
    clock::time_point not_before{};           ///< held back until then (a retry's backoff)
    unsigned failures = 0;                    ///< retryable errors so far
};

/// Thread safety: none.
class outbox {
public:
    /// Only the first `per_queue` items of a queue are ever in flight, and at most `window` in
    /// all (0: no bound).
    outbox(unsigned per_queue, unsigned window);

    std::size_t size() const noexcept { return size_; }
    /// Moves `item` to the end of its queue and returns where it is now; nullptr (and `item`
    /// untouched) when an item with its client_msg_id is queued already.
    outbox_item* push(outbox_item& item);
    outbox_item* find(const std::string& client_msg_id);
    /// Removes the item, and its request if it is in flight.
    void erase(const std::string& client_msg_id);

    /// Whether the window is full: nothing more may go out until a reply.
    bool window_full() const noexcept { return window_ != 0 && requests_.size() >= window_; }
    /// Sends every item that may go out at `now`, in queue order: not in flight, not held back,
    /// and within its queue's first `per_queue` (a held-back item also holds back those behind
    /// it) and the window. `send(item)` returns the request id it went out as, and the deadline
    /// of the reply (never earlier than that of the requests before).
    template <class Send>
    void for_each_ready(clock::time_point now, Send send) {
        for (auto q = queues_.begin(); q != queues_.end(); ++q) {
            unsigned in_flight = 0;
            for (auto& item : q->second) {
                if (in_flight == per_queue_ || window_full()) {
                    break;
                }
                if (item.request_id == 0) {
                    if (now < item.not_before) {
                        break;
                    }
                    const auto [id, deadline] = send(item);
                    item.request_id = id;
                    item.deadline = deadline;
                    requests_.push_back(request{id, q, deadline});
                }
                ++in_flight;
            }
            if (window_full()) {
                return;
            }
        }
    }
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
    struct id_hash {
        std::size_t operator()(const std::string& s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    const unsigned per_queue_;
    const unsigned window_;
    queue_map queues_;
    std::size_t size_ = 0;
    // By client_msg_id, only while the outbox is large (see outbox.cpp); otherwise the queues
    // are searched.
    std::unordered_map<std::string, queue_map::iterator, id_hash> index_;
    bool indexed_ = false;
    struct request {
        std::uint64_t id;
        queue_map::iterator queue;  // the item is among its first per_queue_
        clock::time_point deadline;
    };

    struct place {
        queue_map::iterator queue;
        std::deque<outbox_item>::iterator item;
    };
    std::optional<place> locate(const std::string& client_msg_id);
    void forget_request(std::uint64_t request_id);

    // In flight, oldest first, so the first is due first: as many as the window, or the
    // conversations with something to send.
    std::vector<request> requests_;
};

}  // namespace confide::client::detail
