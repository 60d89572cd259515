#pragma once

#include "metrics/metrics.hpp"

#include <vector>

namespace confide::metrics {

/// Registers the usual process metrics of Prometheus client libraries, read from /proc at each
/// scrape: process_cpu_seconds_total, process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_open_fds, process_max_fds and
/// process_start_time_seconds. Keep the handles as long as the registry is scraped.
std::vector<callback_handle> add_process_metrics(registry& r);

}  // namespace confide::metrics
