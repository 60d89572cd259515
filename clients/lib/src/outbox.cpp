#include "outbox.hpp"

#include <algorithm>

namespace confide::client::detail {

outbox::outbox(unsigned per_queue, unsigned window)
    : per_queue_(std::max(1U, per_queue)), window_(window) {}

outbox_item* outbox::push(outbox_item& item) {
    const auto [id, added] = ids_.try_emplace(item.client_msg_id, queues_.end());
    if (!added) {
        return nullptr;
    }
    auto q = queues_.find(queue_ref{item.inquiry, item.target});
    if (q == queues_.end()) {
        q = queues_.try_emplace(std::pair(item.inquiry, item.target)).first;
    }
    id->second = q;
    return &q->second.emplace_back(std::move(item));
}

outbox_item* outbox::find(const std::string& client_msg_id) {
    auto it = ids_.find(client_msg_id);
    if (it == ids_.end()) {
        return nullptr;
    }
    for (auto& item : it->second->second) {
        if (item.client_msg_id == client_msg_id) {
            return &item;
        }
    }
    return nullptr;
}

void outbox::erase(const std::string& client_msg_id) {
    auto it = ids_.find(client_msg_id);
    if (it == ids_.end()) {
        return;
    }
    const auto q = it->second;
    ids_.erase(it);
    auto& queue = q->second;
    for (auto i = queue.begin(); i != queue.end(); ++i) {
        if (i->client_msg_id == client_msg_id) {
            if (i->request_id != 0) {
                forget_request(i->request_id);
            }
            queue.erase(i);
            break;
        }
    }
    if (queue.empty()) {
        queues_.erase(q);
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
    if (window_full() || requests_.size() == ids_.size()) {
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
