#include "stats.hpp"

namespace confide::loadgen {

counter_values& counter_values::operator+=(const counter_values& o) noexcept {
#define CONFIDE_LOADGEN_ADD(name) name += o.name;
    CONFIDE_LOADGEN_COUNTERS(CONFIDE_LOADGEN_ADD)
#undef CONFIDE_LOADGEN_ADD
    for (std::size_t i = 0; i < errors.size(); ++i) {
        errors[i] += o.errors[i];
    }
    for (std::size_t i = 0; i < server_closes.size(); ++i) {
        server_closes[i] += o.server_closes[i];
    }
    return *this;
}

counter_values counters::snapshot() const noexcept {
    counter_values v;
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` is a member's name, not an expression.
#define CONFIDE_LOADGEN_COPY(name) v.name = name.load(std::memory_order_relaxed);
    CONFIDE_LOADGEN_COUNTERS(CONFIDE_LOADGEN_COPY)
#undef CONFIDE_LOADGEN_COPY
    for (std::size_t i = 0; i < errors.size(); ++i) {
        v.errors[i] = errors[i].load(std::memory_order_relaxed);
    }
    for (std::size_t i = 0; i < server_closes.size(); ++i) {
        v.server_closes[i] = server_closes[i].load(std::memory_order_relaxed);
    }
    return v;
}

}  // namespace confide::loadgen
