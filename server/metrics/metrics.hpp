#pragma once
// Metrics in the Prometheus text format, cheap enough to count every frame.
//
// Each thread that counts gets a block of slots of its own (allocated on its first count): a
// counter is a slot index, and counting is a load and a store on the calling thread's slot, with
// no lock and no locked instruction (only that thread writes its block). A scrape sums every
// thread's slots. Blocks are kept after their thread ends, so totals never go down.
//
// Every layer may use this folder; it uses nothing else of the server.
//
// Built with -DCONFIDE_METRICS=OFF (CONFIDE_METRICS_OFF defined), counting and timing compile to
// nothing and scrapes show zeros: only to measure what the metrics cost (docs/benchmarks.md).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::metrics {

namespace detail {

/// Slots of one thread. Enough for every metric of the server (each histogram takes one slot
/// per bucket plus two); registering more fails at start-up.
inline constexpr std::size_t max_slots = 2048;

struct thread_block {
    std::atomic<std::uint64_t> slots[max_slots] = {};
};

/// Allocates and registers the calling thread's block (once per thread).
thread_block* attach_thread();

inline thread_local thread_block* this_thread_block = nullptr;

inline void add(std::uint32_t slot, std::uint64_t n) noexcept {
#ifdef CONFIDE_METRICS_OFF
    (void)slot;
    (void)n;
    return;
#endif
    thread_block* b = this_thread_block;
    if (b == nullptr) [[unlikely]] {
        b = attach_thread();
    }
    auto& s = b->slots[slot];
    // Only this thread writes its block: no read-modify-write instruction is needed. A scrape
    // loads with relaxed order and may see a value a moment old.
    s.store(s.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace detail

/// Label names and values of one series, e.g. {{"code", "UNAVAILABLE"}}.
using labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonic count. Copyable handle; a default-constructed one counts into a slot nobody reads.
/// Thread safety: inc() from any thread.
class counter {
public:
    counter() = default;
    void inc(std::uint64_t n = 1) const noexcept { detail::add(slot_, n); }

private:
    friend class registry;
    explicit counter(std::uint32_t slot) noexcept : slot_(slot) {}
    std::uint32_t slot_ = 0;
};

/// A value that goes up and down (e.g. open sessions), kept as per-thread deltas: a session
/// opened on one thread may end on another. Thread safety: any thread.
class gauge {
public:
    gauge() = default;
    void add(std::int64_t delta) const noexcept {
        detail::add(slot_, static_cast<std::uint64_t>(delta));  // two's complement: sums wrap
    }
    void inc() const noexcept { add(1); }
    void dec() const noexcept { add(-1); }

private:
    friend class registry;
    explicit gauge(std::uint32_t slot) noexcept : slot_(slot) {}
    std::uint32_t slot_ = 0;
};

/// A distribution of durations in fixed buckets (Prometheus histogram, in seconds).
/// Thread safety: observe() from any thread.
class histogram {
public:
    using time_point = std::chrono::steady_clock::time_point;

    histogram() = default;

    /// The time to measure from: `auto t = histogram::now(); ...; h.observe_since(t);`.
    static time_point now() noexcept {
#ifdef CONFIDE_METRICS_OFF
        return {};
#else
        return std::chrono::steady_clock::now();
#endif
    }

    /// Observes the time from `start` (a now()) until now.
    void observe_since(time_point start) const noexcept {
#ifndef CONFIDE_METRICS_OFF
        observe(now() - start);
#else
        (void)start;
#endif
    }

    void observe(std::chrono::nanoseconds d) const noexcept {
        const std::uint64_t ns = d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
        std::uint32_t i = 0;
        while (i < bucket_count_ && ns > bounds_ns_[i]) {
            ++i;
        }
        detail::add(first_slot_ + i, 1);  // bucket i; bucket_count_ is +Inf
        detail::add(first_slot_ + bucket_count_ + 1, ns);
    }

private:
    friend class registry;
    histogram(std::uint32_t first, const std::uint64_t* bounds, std::uint32_t n) noexcept
        : first_slot_(first), bounds_ns_(bounds), bucket_count_(n) {}
    std::uint32_t first_slot_ = 0;
    const std::uint64_t* bounds_ns_ = nullptr;  // owned by the registry, never moves
    std::uint32_t bucket_count_ = 0;
};

enum class kind { counter, gauge, histogram };

class registry;

/// Keeps a scrape-time callback registered; destroying it (or reset()) unregisters it, after
/// which the callback is never called again.
class callback_handle {
public:
    callback_handle() = default;
    callback_handle(callback_handle&& other) noexcept;
    callback_handle& operator=(callback_handle&& other) noexcept;
    callback_handle(const callback_handle&) = delete;
    callback_handle& operator=(const callback_handle&) = delete;
    ~callback_handle();
    void reset() noexcept;

private:
    friend class registry;
    callback_handle(registry* r, std::uint64_t id) noexcept : registry_(r), id_(id) {}
    registry* registry_ = nullptr;
    std::uint64_t id_ = 0;
};

/// The metrics of a process and their rendering. Metrics are registered once (usually at
/// start-up, from namespace-scope definitions in each layer's *_metrics.cpp) and live as long as
/// the registry. A name may be registered several times with different labels; all of a name's
/// series must share its kind and help text.
///
/// Registration throws std::invalid_argument for an invalid name or label, or a name reused with
/// another kind, and std::length_error when the slots run out: both are programming errors that
/// show at start-up.
///
/// Thread safety: every member may be called from any thread.
class registry {
public:
    registry();
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    /// The process's registry: what GET /metrics shows.
    static registry& global();

    counter add_counter(std::string_view name, std::string_view help, labels l = {});
    gauge add_gauge(std::string_view name, std::string_view help, labels l = {});
    /// `bounds` are the buckets' upper bounds in seconds, increasing; +Inf is added.
    histogram add_histogram(std::string_view name, std::string_view help,
                            std::vector<double> bounds, labels l = {});

    /// A series whose value is computed at each scrape, under the registry's lock (so `fn` must
    /// not call into the registry). Several callbacks of the same name and labels are summed
    /// (e.g. the connections of two listeners). `k` is kind::counter or kind::gauge.
    [[nodiscard]] callback_handle add_callback(std::string_view name, std::string_view help, kind k,
                                               labels l, std::function<double()> fn);

    /// Every metric in the Prometheus text exposition format (version 0.0.4), in the order of
    /// registration of their names.
    std::string render() const;

private:
    friend class callback_handle;
    struct family;
    struct series;
    family& family_of(std::string_view name, std::string_view help, kind k);
    // Appends `s` to `f` (a deque: the series already there never move, except on removal of a
    // callback, and histograms, which point into theirs, are never callbacks).
    series& add_series(family& f, series s);
    void remove_callback(std::uint64_t id) noexcept;

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<family>> families_;
    std::uint64_t next_callback_id_ = 1;
};

/// Buckets for request latencies: 0.5 ms to 10 s.
std::vector<double> latency_buckets();

}  // namespace confide::metrics
