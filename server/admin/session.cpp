#include "admin/session.hpp"

#include "store/redis/cluster.hpp"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <system_error>

namespace confide::admin {

std::string operator_name() {
    if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
        return std::string("os:") + sudo;
    }
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> strings{};
    if (::getpwuid_r(::geteuid(), &entry, strings.data(), strings.size(), &found) == 0 &&
        found != nullptr && found->pw_name != nullptr) {
        return std::string("os:") + found->pw_name;
    }
    return "os:uid " + std::to_string(::geteuid());
}

std::string host_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) {
        return {};
    }
    return name.data();
}

namespace {

void stop_db(const store::db& d) {
    if (auto* one = d.single()) {
        one->stop();
    } else if (auto* cluster = d.cluster()) {
        cluster->stop();
    }
}

}  // namespace

store::db session::connect(const redis_target& target) {
    auto ready = std::make_shared<std::promise<void>>();
    auto once = std::make_shared<std::once_flag>();
    auto signal = [ready, once] { std::call_once(*once, [&] { ready->set_value(); }); };
    std::string where;
    store::db d = [&]() -> store::db {
        if (target.cluster.empty()) {
            auto conn = store::redis::connection::create(ioc_.get_executor(), target.redis);
            conn->on_connected(signal);
            conn->start();
            where = target.redis.unix_socket.empty()
                        ? target.redis.host + ":" + std::to_string(target.redis.port)
                        : "unix:" + target.redis.unix_socket;
            return conn;
        }
        store::redis::cluster_config cfg;
        cfg.seeds = target.cluster;
        cfg.node = target.redis;
        cfg.refresh_interval = std::chrono::milliseconds(0);
        auto cluster = store::redis::cluster::create(ioc_.get_executor(), std::move(cfg));
        cluster->on_topology_change(signal);
        cluster->start();
        where = "the Redis Cluster at " + target.cluster.front().to_string();
        return cluster;
    }();
    const auto wait = target.redis.connect_timeout + std::chrono::seconds(1);
    if (ready->get_future().wait_for(wait) != std::future_status::ready) {
        // db_ is not made yet (this builds it): stop what was started, so that the thread ends
        // before the constructor throws.
        stop_db(d);
        work_.reset();
        thread_.join();
        throw command_failed("cannot reach Redis at " + where);
    }
    return d;
}

void session::stop() {
    if (!thread_.joinable()) {
        return;
    }
    stop_db(db_);
    work_.reset();
    thread_.join();
}

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        return fallback;
    }
    return v;
}

std::uint32_t whole_number(const std::string& option, const std::string& v) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) {
        throw usage_error("--" + option + ": '" + v + "' is not a whole number");
    }
    return n;
}

}  // namespace confide::admin
