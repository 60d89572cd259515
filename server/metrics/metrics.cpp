#include "metrics/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>

namespace confide::metrics {
namespace detail {
namespace {

// Every thread's block, for the scrapes. Blocks are never freed: a thread that ended still
// counted, and its totals must not vanish. The server's threads live as long as the process.
struct block_list {
    std::mutex mutex;
    std::deque<std::unique_ptr<thread_block>> blocks;
};

block_list& all_blocks() {
    static auto* list = new block_list;  // never destroyed: threads may count during exit
    return *list;
}

// Slot 0 is the sink of default-constructed handles.
std::atomic<std::uint32_t> next_slot{1};

std::uint32_t allocate_slots(std::uint32_t n) {
    auto first = next_slot.fetch_add(n);
    if (first + n > max_slots) {
        throw std::length_error("metrics: more than " + std::to_string(max_slots) + " slots");
    }
    return first;
}

// Sums slot `i` over every thread.
struct snapshot {
    std::vector<std::uint64_t> sums;
    std::uint64_t operator[](std::uint32_t i) const { return sums[i]; }
};

snapshot take_snapshot() {
    snapshot s;
    const auto used = std::min<std::size_t>(next_slot.load(), max_slots);
    s.sums.assign(used, 0);
    auto& list = all_blocks();
    std::lock_guard lock(list.mutex);
    for (const auto& b : list.blocks) {
        for (std::size_t i = 0; i < used; ++i) {
            s.sums[i] += b->slots[i].load(std::memory_order_relaxed);
        }
    }
    return s;
}

}  // namespace

thread_block* attach_thread() {
    auto block = std::make_unique<thread_block>();
    auto* raw = block.get();
    auto& list = all_blocks();
    {
        std::lock_guard lock(list.mutex);
        list.blocks.push_back(std::move(block));
    }
    this_thread_block = raw;
    return raw;
}

}  // namespace detail

namespace {

bool is_name(std::string_view s, bool allow_colon) {
    if (s.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

void validate(std::string_view name, const labels& l) {
    if (!is_name(name, true)) {
        throw std::invalid_argument("metrics: invalid metric name '" + std::string(name) + "'");
    }
    for (const auto& [label, value] : l) {
        if (!is_name(label, false) || label.starts_with("__") || label == "le") {
            throw std::invalid_argument("metrics: invalid label name '" + label + "' of " +
                                        std::string(name));
        }
    }
}

// Backslashes and newlines escaped (HELP text); also double quotes for label values.
std::string escape(std::string_view v, bool quotes) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quotes && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}

// `{a="x",b="y"}`, with `extra` (e.g. le="0.1") last; empty when there are no labels at all.
std::string render_labels(const labels& l, std::string_view extra = {}) {
    if (l.empty() && extra.empty()) {
        return {};
    }
    std::string out = "{";
    for (const auto& [name, value] : l) {
        if (out.size() > 1) {
            out += ',';
        }
        out += name;
        out += "=\"";
        out += escape(value, true);
        out += '"';
    }
    if (!extra.empty()) {
        if (out.size() > 1) {
            out += ',';
        }
        out += extra;
    }
    out += '}';
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", v);
}

const char* kind_name(kind k) {
    switch (k) {
        case kind::counter:
            return "counter";
        case kind::gauge:
            return "gauge";
        case kind::histogram:
            return "histogram";
    }
    return "untyped";
}

}  // namespace

struct registry::series {
    labels l;
    std::string rendered_labels;
    std::uint32_t first_slot = 0;          // slot-backed series
    std::vector<std::uint64_t> bounds_ns;  // histograms
    std::vector<double> bounds;            // histograms, in seconds
    std::uint64_t callback_id = 0;         // callback series (0: slot-backed)
    std::function<double()> callback;
};

struct registry::family {
    std::string name;
    std::string help;
    kind type;
    std::deque<series> all;  // a deque: histograms point into their series' bounds
};

registry::registry() = default;
registry::~registry() = default;

registry& registry::global() {
    static auto* r = new registry;  // never destroyed: handles may be used during exit
    return *r;
}

registry::family& registry::family_of(std::string_view name, std::string_view help, kind k) {
    for (auto& f : families_) {
        if (f->name == name) {
            if (f->type != k) {
                throw std::invalid_argument("metrics: " + std::string(name) +
                                            " registered with two kinds");
            }
            return *f;
        }
    }
    auto f = std::make_unique<family>();
    f->name = std::string(name);
    f->help = std::string(help);
    f->type = k;
    families_.push_back(std::move(f));
    return *families_.back();
}

registry::series& registry::add_series(family& f, series s) {
    s.rendered_labels = render_labels(s.l);
    f.all.push_back(std::move(s));
    return f.all.back();
}

counter registry::add_counter(std::string_view name, std::string_view help, labels l) {
    validate(name, l);
    std::lock_guard lock(mutex_);
    const auto slot = detail::allocate_slots(1);
    add_series(family_of(name, help, kind::counter), series{std::move(l), {}, slot, {}, {}, 0, {}});
    return counter(slot);
}

gauge registry::add_gauge(std::string_view name, std::string_view help, labels l) {
    validate(name, l);
    std::lock_guard lock(mutex_);
    const auto slot = detail::allocate_slots(1);
    add_series(family_of(name, help, kind::gauge), series{std::move(l), {}, slot, {}, {}, 0, {}});
    return gauge(slot);
}

histogram registry::add_histogram(std::string_view name, std::string_view help,
                                  std::vector<double> bounds, labels l) {
    validate(name, l);
    if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
        std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end() || bounds.front() <= 0) {
        throw std::invalid_argument("metrics: the buckets of " + std::string(name) +
                                    " must be positive and increasing");
    }
    std::lock_guard lock(mutex_);
    auto& f = family_of(name, help, kind::histogram);
    const auto n = static_cast<std::uint32_t>(bounds.size());
    // One slot per bucket, one for +Inf, one for the sum.
    const auto first = detail::allocate_slots(n + 2);
    series s{std::move(l), {}, first, {}, std::move(bounds), 0, {}};
    for (double b : s.bounds) {
        s.bounds_ns.push_back(static_cast<std::uint64_t>(std::llround(b * 1e9)));
    }
    const auto& added = add_series(f, std::move(s));
    return histogram(first, added.bounds_ns.data(), n);
}

callback_handle registry::add_callback(std::string_view name, std::string_view help, kind k,
                                       labels l, std::function<double()> fn) {
    validate(name, l);
    if (k == kind::histogram || !fn) {
        throw std::invalid_argument("metrics: a callback is a counter or a gauge, and callable");
    }
    std::lock_guard lock(mutex_);
    const auto id = next_callback_id_++;
    add_series(family_of(name, help, k), series{std::move(l), {}, 0, {}, {}, id, std::move(fn)});
    return callback_handle(this, id);
}

void registry::remove_callback(std::uint64_t id) noexcept {
    std::lock_guard lock(mutex_);
    for (auto& f : families_) {
        auto it = std::find_if(f->all.begin(), f->all.end(),
                               [id](const series& s) { return s.callback_id == id; });
        if (it != f->all.end()) {
            f->all.erase(it);
            return;
        }
    }
}

std::string registry::render() const {
    const auto snap = detail::take_snapshot();
    std::lock_guard lock(mutex_);
    std::string out;
    out.reserve(8192);
    for (const auto& f : families_) {
        if (f->all.empty()) {
            continue;
        }
        out += "# HELP " + f->name + " " + escape(f->help, false) + "\n";
        out += "# TYPE " + f->name + " " + kind_name(f->type) + "\n";
        // Callbacks of one name and labels are summed into one series, in order of first
        // appearance.
        std::vector<std::pair<const std::string*, double>> callbacks;
        for (const auto& s : f->all) {
            if (s.callback) {
                const double v = s.callback();
                auto it = std::find_if(callbacks.begin(), callbacks.end(), [&](const auto& c) {
                    return *c.first == s.rendered_labels;
                });
                if (it == callbacks.end()) {
                    callbacks.emplace_back(&s.rendered_labels, v);
                } else {
                    it->second += v;
                }
                continue;
            }
            if (f->type == kind::counter) {
                out += fmt::format("{}{} {}\n", f->name, s.rendered_labels, snap[s.first_slot]);
            } else if (f->type == kind::gauge) {
                out += fmt::format("{}{} {}\n", f->name, s.rendered_labels,
                                   static_cast<std::int64_t>(snap[s.first_slot]));
            } else {
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i <= s.bounds.size(); ++i) {
                    cumulative += snap[s.first_slot + static_cast<std::uint32_t>(i)];
                    const std::string le =
                        i < s.bounds.size() ? fmt::format("le=\"{}\"", s.bounds[i]) : "le=\"+Inf\"";
                    out += fmt::format("{}_bucket{} {}\n", f->name, render_labels(s.l, le),
                                       cumulative);
                }
                const auto sum_ns =
                    snap[s.first_slot + static_cast<std::uint32_t>(s.bounds.size()) + 1];
                out += fmt::format("{}_sum{} {}\n", f->name, s.rendered_labels,
                                   format_value(static_cast<double>(sum_ns) / 1e9));
                out += fmt::format("{}_count{} {}\n", f->name, s.rendered_labels, cumulative);
            }
        }
        for (const auto& [rendered, v] : callbacks) {
            out += f->name + *rendered + " " + format_value(v) + "\n";
        }
    }
    return out;
}

callback_handle::callback_handle(callback_handle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), id_(std::exchange(other.id_, 0)) {}

callback_handle& callback_handle::operator=(callback_handle&& other) noexcept {
    if (this != &other) {
        reset();
        registry_ = std::exchange(other.registry_, nullptr);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

callback_handle::~callback_handle() {
    reset();
}

void callback_handle::reset() noexcept {
    if (registry_ != nullptr) {
        registry_->remove_callback(id_);
        registry_ = nullptr;
    }
}

std::vector<double> latency_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace confide::metrics
