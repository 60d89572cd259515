#include "store/redis/cluster_topology.hpp"

#include <algorithm>
#include <charconv>

namespace confide::store::redis {
namespace {

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
    std::array<std::uint16_t, 256> table{};
    for (unsigned i = 0; i < 256; ++i) {
        auto crc = static_cast<std::uint16_t>(i << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
        }
        table[i] = crc;
    }
    return table;
}

constexpr auto crc16_table = make_crc16_table();

std::uint16_t crc16_xmodem(std::string_view data) noexcept {
    std::uint16_t crc = 0;
    for (const char c : data) {
        const auto byte = static_cast<unsigned char>(c);
        crc = static_cast<std::uint16_t>((crc << 8) ^ crc16_table[((crc >> 8) ^ byte) & 0xff]);
    }
    return crc;
}

template <class Int>
std::optional<Int> parse_int(std::string_view s) {
    Int value{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<node_address> parse_node(const reply& node, std::string_view asked_host) {
    if (!node.is_array() || node.elements.size() < 2 || !node.elements[0].is_string() ||
        !node.elements[1].is_integer() || node.elements[1].integer <= 0 ||
        node.elements[1].integer > 65535) {
        return std::nullopt;
    }
    std::string host = node.elements[0].str;
    if (host == "?") {
        return std::nullopt;
    }
    if (host.empty()) {
        host = asked_host;
    }
    return node_address{std::move(host), static_cast<std::uint16_t>(node.elements[1].integer)};
}

}  // namespace

std::uint16_t key_slot(std::string_view key) noexcept {
    const auto open = key.find('{');
    if (open != std::string_view::npos) {
        const auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) {
            key = key.substr(open + 1, close - open - 1);
        }
    }
    return static_cast<std::uint16_t>(crc16_xmodem(key) & (slot_count - 1));
}

std::string node_address::to_string() const {
    return host + ":" + std::to_string(port);
}

std::optional<node_address> parse_node_address(std::string_view host_port) {
    // The last colon: an IPv6 address has colons of its own.
    const auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    auto host = host_port.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const auto port = parse_int<std::uint16_t>(host_port.substr(colon + 1));
    if (!port || *port == 0) {
        return std::nullopt;
    }
    return node_address{std::string(host), *port};
}

std::optional<redirect> parse_redirect(std::string_view error, std::string_view asked_host) {
    redirect out;
    if (error.starts_with("MOVED ")) {
        out.type = redirect::kind::moved;
        error.remove_prefix(6);
    } else if (error.starts_with("ASK ")) {
        out.type = redirect::kind::ask;
        error.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    const auto space = error.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    const auto slot = parse_int<std::uint16_t>(error.substr(0, space));
    auto target = parse_node_address(error.substr(space + 1));
    if (!slot || *slot >= slot_count || !target) {
        return std::nullopt;
    }
    if (target->host.empty()) {
        target->host = asked_host;
    }
    out.slot = *slot;
    out.target = std::move(*target);
    return out;
}

bool is_retryable_cluster_error(std::string_view error) noexcept {
    return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
}

std::uint16_t slot_map::add_master(const node_address& address) {
    const auto it = std::find(masters.begin(), masters.end(), address);
    if (it != masters.end()) {
        return static_cast<std::uint16_t>(it - masters.begin());
    }
    masters.push_back(address);
    return static_cast<std::uint16_t>(masters.size() - 1);
}

std::optional<slot_map> parse_cluster_slots(const reply& r, std::string_view asked_host) {
    if (!r.is_array()) {
        return std::nullopt;
    }
    slot_map map;
    for (const auto& range : r.elements) {
        if (!range.is_array() || range.elements.size() < 3 || !range.elements[0].is_integer() ||
            !range.elements[1].is_integer()) {
            return std::nullopt;
        }
        const auto first = range.elements[0].integer;
        const auto last = range.elements[1].integer;
        if (first < 0 || last < first || last >= slot_count) {
            return std::nullopt;
        }
        const auto master = parse_node(range.elements[2], asked_host);
        if (!master) {
            continue;  // its address is not known yet: the slots stay unserved in this map
        }
        const auto index = map.add_master(*master);
        std::fill(map.owner.begin() + first, map.owner.begin() + last + 1, index);
        for (std::size_t i = 3; i < range.elements.size(); ++i) {
            auto replica = parse_node(range.elements[i], asked_host);
            if (replica && std::find(map.replicas.begin(), map.replicas.end(), *replica) ==
                               map.replicas.end()) {
                map.replicas.push_back(std::move(*replica));
            }
        }
    }
    return map;
}

}  // namespace confide::store::redis
