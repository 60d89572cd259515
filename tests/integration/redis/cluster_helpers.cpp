#include "cluster_helpers.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>

namespace confide::store::redis::test_helpers {
namespace {

std::mutex cluster_mutex;
std::unique_ptr<test::redis_cluster> cluster_instance;

class cluster_environment final : public ::testing::Environment {
public:
    void TearDown() override {
        std::lock_guard lock(cluster_mutex);
        cluster_instance.reset();
    }
};

[[maybe_unused]] const auto* const registered =
    ::testing::AddGlobalTestEnvironment(new cluster_environment);

}  // namespace

test::redis_cluster& shared_cluster() {
    std::lock_guard lock(cluster_mutex);
    if (!cluster_instance) {
        cluster_instance = std::make_unique<test::redis_cluster>(
            test::redis_cluster_options{.masters = 3, .replicas_per_master = 1});
    }
    return *cluster_instance;
}

cluster_config cluster_test_config(const test::redis_cluster& c) {
    cluster_config cfg;
    for (std::size_t i = 0; i < c.size(); ++i) {
        cfg.seeds.push_back({c.node(i).host(), c.node(i).port()});
    }
    cfg.node = test_config(c.node(0));
    cfg.refresh_min_interval = 20ms;
    cfg.refresh_interval = 0ms;
    return cfg;
}

std::shared_ptr<cluster> start_cluster(executor ex, cluster_config cfg) {
    auto client = cluster::create(std::move(ex), std::move(cfg));
    client->start();
    // Any command waits for the map (and the connection to its master): PING on slot 0.
    auto [ec, r] = exec(*client, 0, {"PING"});
    EXPECT_FALSE(ec) << ec.message() << " " << r.str;
    EXPECT_NE(client->topology(), nullptr);
    return client;
}

std::string tag_for_slot(std::uint16_t slot) {
    for (unsigned n = 0;; ++n) {
        auto tag = "{t" + std::to_string(n) + "}";
        if (key_slot(tag) == slot) {
            return tag;
        }
    }
}

std::future<result> exec_async(cluster& c, std::uint16_t slot, std::vector<std::string> args) {
    auto p = std::make_shared<std::promise<result>>();
    auto f = p->get_future();
    c.async_exec(slot, std::move(args), [p](boost::system::error_code ec, reply r) {
        p->set_value(result(ec, std::move(r)));
    });
    return f;
}

result exec(cluster& c, std::uint16_t slot, std::vector<std::string> args) {
    auto f = exec_async(c, slot, std::move(args));
    return get(f);
}

long info_count(const test::redis_cluster& c, std::size_t i, const std::string& section,
                const std::string& field) {
    const auto info = c.command(i, {"INFO", section});
    const auto at = info.find(field);
    if (at == std::string::npos) {
        return 0;
    }
    return std::stol(info.substr(at + field.size()));
}

}  // namespace confide::store::redis::test_helpers
