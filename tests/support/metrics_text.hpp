#pragma once
// Reading the Prometheus text format in tests (header-only: unit tests use it without the rest
// of the support library).

#include <map>
#include <sstream>
#include <string>

namespace confide::test {

/// Series (name with labels, as printed) -> value as printed; comments are skipped.
inline std::map<std::string, std::string> metric_values(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto space = line.rfind(' ');
        out[line.substr(0, space)] = line.substr(space + 1);
    }
    return out;
}

/// As metric_values, the values as numbers.
inline std::map<std::string, double> parse_metrics(const std::string& text) {
    std::map<std::string, double> out;
    for (const auto& [series, value] : metric_values(text)) {
        out[series] = std::stod(value);
    }
    return out;
}

}  // namespace confide::test
