#include "outbox.hpp"

#include <algorithm>

namespace confide::client::detail {

outbox::outbox(unsigned per_queue, unsigned window)
    : per_queue_(std::max(1U, per_queue)), window_(window) {}

namespace {

// Most lookups by id are misses (the echo of a message already stored), and an outbox is
// usually a few messages: searching them is cheaper than a hash map per core (thousands of
// cold ones in the load generator). Past index_from, a map answers, until the outbox is back
// under index_until.
constexpr std::size_t index_from = 64;
constexpr std::size_t index_until = 16;

}  // namespace

std::optional<outbox::place> outbox::locate(const std::string& client_msg_id) {
    const auto search = [&client_msg_id](queue_map::iterator q) -> std::optional<place> {
        auto& queue = q->second;
        for (auto i = queue.begin(); i != queue.end(); ++i) {
            if (i->client_msg_id == client_msg_id) {
                return place{q, i};
            }
        }
        return std::nullopt;
    };
    if (indexed_) {
        const auto it = index_.find(client_msg_id);
        return it == index_.end() ? std::nullopt : search(it->second);
    }
    for (auto q = queues_.begin(); q != queues_.end(); ++q) {
        if (auto p = search(q)) {
            return p;
        }
    }
    return std::nullopt;
}

outbox_item* outbox::push(outbox_item& item) {
    if (locate(item.client_msg_id)) {
        return nullptr;
    }
    auto q = queues_.find(queue_ref{item.inquiry, item.target});
    if (q == queues_.end()) {
        q = queues_.try_emplace(std::pair(item.inquiry, item.target)).first;
    }
    auto& pushed = q->second.emplace_back(std::move(item));
    ++size_;
    if (indexed_) {
        index_.emplace(pushed.client_msg_id, q);
    } else if (size_ >= index_from) {
        for (auto each = queues_.begin(); each != queues_.end(); ++each) {
            for (const auto& queued : each->second) {
                index_.emplace(queued.client_msg_id, each);
            }
        }
        indexed_ = true;
    }
    return &pushed;
}

outbox_item* outbox::find(const std::string& client_msg_id) {
    const auto p = locate(client_msg_id);
    return p ? &*p->item : nullptr;
}

void outbox::erase(const std::string& client_msg_id) {
    const auto p = locate(client_msg_id);
    if (!p) {
        return;
    }
    // Before the item goes: `client_msg_id` may be its own string.
    if (indexed_) {
        index_.erase(client_msg_id);
    }
    if (p->item->request_id != 0) {
        forget_request(p->item->request_id);
    }
    p->queue->second.erase(p->item);
    if (p->queue->second.empty()) {
        queues_.erase(p->queue);
    }
    --size_;
    if (indexed_ && size_ < index_until) {
        decltype(index_)().swap(index_);
        indexed_ = false;
    }
}

void outbox::forget_request(std::uint64_t request_id) {
    std::erase_if(requests_, [request_id](const request& r) { return r.id == request_id; });
}

outbox_item* outbox::take_request(std::uint64_t request_id) {
    auto r = std::find_if(requests_.begin(), requests_.end(),
                          [request_id](const request& x) { return x.id == request_id; });
    if (r == requests_.end()) {
        return nullptr;
    }
    const auto q = r->queue;
    requests_.erase(r);
    unsigned seen = 0;
    for (auto& item : q->second) {
        if (seen++ == per_queue_) {
            break;
        }
        if (item.request_id == request_id) {
            item.request_id = 0;
            return &item;
        }
    }
    return nullptr;
}

void outbox::retry_at(outbox_item& item, clock::time_point not_before) {
    if (item.request_id != 0) {
        forget_request(item.request_id);
        item.request_id = 0;
    }
    item.not_before = not_before;
}

void outbox::expire(clock::time_point now) {
    if (requests_.empty() || now < requests_.front().deadline) {
        return;
    }
    for (auto& [key, queue] : queues_) {
        unsigned seen = 0;
        for (auto& item : queue) {
            if (seen++ == per_queue_) {
                break;
            }
            if (item.request_id != 0 && now >= item.deadline) {
                forget_request(item.request_id);
                item.request_id = 0;
            }
        }
    }
}

void outbox::reset() {
    requests_.clear();
    for (auto& [key, queue] : queues_) {
        for (auto& item : queue) {
            item.request_id = 0;
        }
    }
}

std::optional<clock::time_point> outbox::next_due(clock::time_point hold_until) const {
    std::optional<clock::time_point> at;
    if (!requests_.empty()) {
        at = requests_.front().deadline;
    }
    // A full window waits for a reply, not for a time.
    if (window_full() || requests_.size() == size_) {
        return at;
    }
    const auto earliest = [&at](clock::time_point t) { at = at ? std::min(*at, t) : t; };
    for (const auto& [key, queue] : queues_) {
        unsigned seen = 0;
        for (const auto& item : queue) {
            if (seen++ == per_queue_) {
                break;
            }
            if (item.request_id == 0) {
                earliest(std::max(item.not_before, hold_until));
                break;
            }
        }
    }
    return at;
}

}  // namespace confide::client::detail
