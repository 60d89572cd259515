// The workflow sweeper over fakes of its ports: expiries, reminders postponed to office time,
// retention in bounded batches, and what a storage failure leaves for the next round.

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

// With a retention: batches of 2 conversations and 2 messages per call, and an interval long
// enough that the sweep's time bound never cuts these short.
class retention_test : public sweeper_test {
protected:
    confide::testing::fake_audit_log audit;
    std::shared_ptr<workflow_sweeper> retaining =
        workflow_sweeper::create(ioc.get_executor(), store, directory,
                                 {minutes(1), minutes(15), 2, seconds(100), 100}, &audit);

    void retain(std::int64_t now) {
        auto f = boost::asio::co_spawn(ioc, retaining->sweep(now), boost::asio::use_future);
        ioc.restart();
        ioc.run();
        f.get();
    }
};

TEST_F(retention_test, deletes_every_message_older_than_the_retention_and_audits_counts_only) {
    const std::int64_t now = 1'000'000;
    const std::int64_t cutoff = now - 100'000;
    // c1 has more old messages than a call takes; c3 has none; four conversations are more
    // than one listing.
    store.messages = {{"c1", {cutoff - 5, cutoff - 4, cutoff - 3, cutoff - 2, cutoff}},
                      {"c2", {cutoff - 1}},
                      {"c3", {cutoff, cutoff + 1}},
                      {"c4", {cutoff - 9, cutoff + 9}},
                      {"c5", {cutoff - 7}}};
    retain(now);
    EXPECT_EQ(store.messages["c1"], (std::vector<std::int64_t>{cutoff}));
    EXPECT_TRUE(store.messages["c2"].empty());
    EXPECT_EQ(store.messages["c3"], (std::vector<std::int64_t>{cutoff, cutoff + 1}));
    EXPECT_EQ(store.messages["c4"], (std::vector<std::int64_t>{cutoff + 9}));
    EXPECT_TRUE(store.messages["c5"].empty());
    const auto events = audit.of(audit_action::retention);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].detail,
              "7 messages in 4 conversations written before " + std::to_string(cutoff));
    EXPECT_TRUE(events[0].user_id.empty());
    EXPECT_TRUE(events[0].conversation_id.empty());
    // Nothing more to delete: no second event.
    retain(now);
    EXPECT_EQ(audit.of(audit_action::retention).size(), 1u);
}

TEST_F(retention_test, off_deletes_nothing_and_a_failure_waits_for_the_next_sweep) {
    const std::int64_t now = 1'000'000;
    store.messages = {{"c1", {0, 1}}};
    sweep(now);  // the fixture's sweeper has no retention
    EXPECT_EQ(store.messages["c1"].size(), 2u);
    store.failures.fail_next("trim_conversation");
    retain(now);
    EXPECT_EQ(store.messages["c1"].size(), 2u);
    EXPECT_TRUE(audit.events.empty());
    retain(now);
    EXPECT_TRUE(store.messages["c1"].empty());
}

}  // namespace
