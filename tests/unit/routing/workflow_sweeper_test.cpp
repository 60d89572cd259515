// The workflow sweeper over fakes of its ports: expiries, reminders postponed to office time,
// and what a storage failure leaves for the next round.

#include "routing/workflow_sweeper.hpp"
#include "support/fake_ports.hpp"
#include "utc_time.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace {

using namespace confide::routing;
using namespace std::chrono;
using confide::testing::utc;

class sweeper_test : public ::testing::Test {
protected:
    sweeper_test() {
        specialist_profile p;
        p.id = "dr.bob";
        p.display_name = "Dr Bob";
        p.time_zone = "UTC";
        p.office_hours = parse_office_hours("mon-fri 09:00-17:00").value();
        directory_store.entries.push_back(p);
    }

    void sweep(std::int64_t now) {
        auto f = boost::asio::co_spawn(ioc, sweeper->sweep(now), boost::asio::use_future);
        ioc.restart();
        ioc.run();
        f.get();
    }

    static due_reminder reminder(std::string cid, bool to_specialist, std::int64_t since,
                                 std::int64_t due) {
        return due_reminder{std::move(cid), to_specialist, to_specialist ? "dr.bob" : "alice",
                            "dr.bob",       since,         due};
    }

    boost::asio::io_context ioc;
    confide::testing::fake_workflow_store store;
    confide::testing::fake_directory_store directory_store;
    directory_cache directory{directory_store};
    std::shared_ptr<workflow_sweeper> sweeper = workflow_sweeper::create(
        ioc.get_executor(), store, directory, {milliseconds(10), minutes(15), 2});
};

TEST_F(sweeper_test, expires_every_due_inquiry_in_batches) {
    const auto now = utc(2027, 1, 4, 10);
    store.expiries = {{"c1", now - 1}, {"c2", now - 2}, {"c3", now}, {"c4", now + 1}};
    sweep(now);
    EXPECT_EQ(store.expired, (std::vector<std::string>{"c1", "c2", "c3"}));
    EXPECT_EQ(store.expiries.count("c4"), 1u);
}

TEST_F(sweeper_test, a_specialists_reminder_waits_for_office_time) {
    // Saturday noon: the message came Friday 16:50; 10 of its 15 minutes passed on Friday.
    const auto now = utc(2027, 1, 9, 12);
    store.reminders = {reminder("c1", true, utc(2027, 1, 8, 16, 50), utc(2027, 1, 8, 17, 5))};
    sweep(now);
    EXPECT_TRUE(store.sent.empty());
    ASSERT_EQ(store.postponed.size(), 1u);
    EXPECT_EQ(store.postponed[0].second, utc(2027, 1, 11, 9, 5));
    // Monday 09:05 it goes out.
    sweep(utc(2027, 1, 11, 9, 5));
    ASSERT_EQ(store.sent.size(), 1u);
    EXPECT_EQ(store.sent[0].recipient_id, "dr.bob");
}

TEST_F(sweeper_test, a_clients_reminder_goes_when_scheduled) {
    const auto now = utc(2027, 1, 9, 12);
    store.reminders = {reminder("c1", false, now - 1000, now)};
    sweep(now);
    ASSERT_EQ(store.sent.size(), 1u);
    EXPECT_EQ(store.sent[0].recipient_id, "alice");
    EXPECT_TRUE(store.postponed.empty());
}

TEST_F(sweeper_test, a_storage_failure_leaves_the_rest_for_the_next_round) {
    const auto now = utc(2027, 1, 4, 10);
    store.expiries = {{"c1", now - 1}};
    store.reminders = {reminder("c2", false, now - 1000, now)};
    store.failures.fail_next("expire_inquiry");
    store.failures.fail_next("send_reminder");
    sweep(now);
    EXPECT_TRUE(store.expired.empty());
    EXPECT_TRUE(store.sent.empty());
    sweep(now);
    EXPECT_EQ(store.expired.size(), 1u);
    EXPECT_EQ(store.sent.size(), 1u);
}

}  // namespace
