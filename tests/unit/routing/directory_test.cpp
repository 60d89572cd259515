// The directory's domain rules without storage: office hours in a time zone (with daylight
// saving), availability, office time, entry validation, listing filters and pages, the median.

#include "routing/directory.hpp"
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

specialist_profile berlin_office() {
    specialist_profile p;
    p.id = "dr.bob";
    p.display_name = "Dr Bob";
    p.time_zone = "Europe/Berlin";
    p.office_hours = parse_office_hours("mon-fri 09:00-17:00").value();
    p.expected_reply_minutes = 240;
    return p;
}

TEST(office_hours, overlapping_items_are_refused) {
    // sat-mon wraps to Monday, where 10:00-11:00 overlaps 09:00-12:00.
    auto h = parse_office_hours("mon-wed 09:00-12:00; fri 13:30-24:00, sat-mon 10:00-11:00");
    ASSERT_FALSE(h);
    EXPECT_NE(h.error().message.find("overlap"), std::string::npos);
}

TEST(office_hours, parse_wraps_ranges_and_sorts) {
    auto h = parse_office_hours("fri 13:30-24:00, sat-mon 10:00-11:00");
    ASSERT_TRUE(h) << h.error().message;
    ASSERT_EQ(h->size(), 4u);
    EXPECT_EQ((*h)[0], (weekly_hours{1, 600, 660}));
    EXPECT_EQ((*h)[1], (weekly_hours{5, 810, 1440}));
    EXPECT_EQ((*h)[3], (weekly_hours{7, 600, 660}));
    EXPECT_EQ(format_office_hours(*h),
              "mon 10:00-11:00, fri 13:30-24:00, sat 10:00-11:00, sun 10:00-11:00");
    EXPECT_EQ(parse_office_hours(format_office_hours(*h)).value(), *h);
}

TEST(office_hours, parse_refuses_what_is_not_office_hours) {
    for (const char* bad : {"monday 09:00-17:00", "mon 9-17", "mon 17:00-09:00", "mon 09:00-24:30",
                            "mon 09:00-12:00, mon 11:00-13:00", "mon"}) {
        auto h = parse_office_hours(bad);
        EXPECT_FALSE(h) << bad;
        if (!h) {
            EXPECT_EQ(h.error().code, confide::errc::invalid_argument);
        }
    }
    EXPECT_TRUE(parse_office_hours("").value().empty());
}

TEST(office_hours, follow_the_time_zone_across_daylight_saving) {
    const auto p = berlin_office();
    // Monday 2027-01-04 (winter, UTC+1): 09:00-17:00 Berlin is 08:00-16:00 UTC.
    auto winter = office_hours_between(p, utc(2027, 1, 4, 0), utc(2027, 1, 5, 0));
    ASSERT_EQ(winter.size(), 1u);
    EXPECT_EQ(winter[0], (time_range{utc(2027, 1, 4, 8), utc(2027, 1, 4, 16)}));
    // Monday 2027-07-05 (summer, UTC+2): 07:00-15:00 UTC.
    auto summer = office_hours_between(p, utc(2027, 7, 5, 0), utc(2027, 7, 6, 0));
    ASSERT_EQ(summer.size(), 1u);
    EXPECT_EQ(summer[0], (time_range{utc(2027, 7, 5, 7), utc(2027, 7, 5, 15)}));
}

TEST(office_hours, adjacent_days_merge_into_one_interval) {
    specialist_profile p;
    p.time_zone = "UTC";
    p.office_hours = parse_office_hours("mon 20:00-24:00, tue 00:00-02:00").value();
    auto r = office_hours_between(p, utc(2027, 1, 4, 0), utc(2027, 1, 6, 0));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0], (time_range{utc(2027, 1, 4, 20), utc(2027, 1, 5, 2)}));
}

TEST(availability, outside_office_hours_is_away_until_the_next_start) {
    const auto p = berlin_office();
    // Saturday 2027-01-09 12:00 UTC: away until Monday 09:00 Berlin (08:00 UTC).
    const auto a = availability_at(p, utc(2027, 1, 9, 12));
    EXPECT_TRUE(a.has_office_hours);
    EXPECT_FALSE(a.within_office_hours);
    EXPECT_EQ(a.changes_at_ms, utc(2027, 1, 11, 8));
    EXPECT_EQ(a.expected_reply_minutes, 240u);
    ASSERT_EQ(a.upcoming_office_hours.size(), 5u);  // Monday to Friday of the next week
    EXPECT_EQ(a.upcoming_office_hours.front().start_ms, utc(2027, 1, 11, 8));
}

TEST(availability, within_office_hours_until_their_end) {
    const auto p = berlin_office();
    const auto a = availability_at(p, utc(2027, 1, 4, 10));
    EXPECT_TRUE(a.within_office_hours);
    EXPECT_EQ(a.changes_at_ms, utc(2027, 1, 4, 16));
    EXPECT_EQ(a.upcoming_office_hours.front(),
              (time_range{utc(2027, 1, 4, 8), utc(2027, 1, 4, 16)}));
}

TEST(availability, no_office_hours_means_no_restriction) {
    specialist_profile p;
    const auto a = availability_at(p, utc(2027, 1, 9, 12));
    EXPECT_FALSE(a.has_office_hours);
    EXPECT_TRUE(a.within_office_hours);
    EXPECT_EQ(a.changes_at_ms, 0);
}

TEST(office_time, only_office_hours_count) {
    const auto p = berlin_office();
    // Friday 16:50 Berlin (15:50 UTC) + 15 min of office time: 10 min on Friday, 5 min on Monday.
    EXPECT_EQ(office_time_after(p, utc(2027, 1, 8, 15, 50), minutes(15)), utc(2027, 1, 11, 8, 5));
    // Within office hours: plain addition.
    EXPECT_EQ(office_time_after(p, utc(2027, 1, 4, 10), minutes(15)), utc(2027, 1, 4, 10, 15));
    // Without office hours: wall time.
    specialist_profile none;
    EXPECT_EQ(office_time_after(none, utc(2027, 1, 9, 12), hours(24)), utc(2027, 1, 10, 12));
}

TEST(profile, validation_names_the_field) {
    auto p = berlin_office();
    p.specialties = {"anxiety", "grief"};
    p.languages = {"en", "de", "pt-BR"};
    EXPECT_TRUE(validate_profile(p));
    auto bad = p;
    bad.time_zone = "Mars/Olympus";
    EXPECT_NE(validate_profile(bad).error().message.find("time zone"), std::string::npos);
    bad = p;
    bad.specialties = {"Anxiety Disorders"};
    EXPECT_NE(validate_profile(bad).error().message.find("specialty"), std::string::npos);
    bad = p;
    bad.languages = {"english-language"};
    EXPECT_NE(validate_profile(bad).error().message.find("language"), std::string::npos);
    bad = p;
    bad.display_name = "";
    EXPECT_NE(validate_profile(bad).error().message.find("display name"), std::string::npos);
    bad = p;
    bad.id = "dr bob";
    EXPECT_FALSE(validate_profile(bad));
    bad = p;
    bad.free_consultation_minutes = 600;
    EXPECT_FALSE(validate_profile(bad));
}

specialist_profile entry(std::string id, std::string name, std::vector<std::string> specialties,
                         std::vector<std::string> languages, bool accepting = true) {
    specialist_profile p;
    p.id = std::move(id);
    p.display_name = std::move(name);
    p.specialties = std::move(specialties);
    p.languages = std::move(languages);
    p.accepting_new_clients = accepting;
    return p;
}

std::vector<std::string> ids(const directory_page& page) {
    std::vector<std::string> out;
    for (const auto* p : page.entries) {
        out.push_back(p->id);
    }
    return out;
}

TEST(listing, sorted_by_name_filtered_and_paged) {
    directory_snapshot snap({entry("z1", "Dr Zoe", {"anxiety"}, {"en"}),
                             entry("a1", "dr anna", {"grief"}, {"de", "en"}),
                             entry("m1", "Dr Max", {"anxiety", "grief"}, {"pt-BR"}, false),
                             entry("b1", "Dr Ben", {"anxiety"}, {"en"})});
    directory_query q;
    q.limit = 2;
    auto first = page_of(snap, q).value();
    EXPECT_EQ(ids(first), (std::vector<std::string>{"a1", "b1"}));
    ASSERT_FALSE(first.next_page_token.empty());
    q.page_token = first.next_page_token;
    auto second = page_of(snap, q).value();
    EXPECT_EQ(ids(second), (std::vector<std::string>{"m1", "z1"}));
    EXPECT_TRUE(second.next_page_token.empty());

    directory_query anxiety;
    anxiety.specialty = "ANXIETY";
    EXPECT_EQ(ids(page_of(snap, anxiety).value()), (std::vector<std::string>{"b1", "m1", "z1"}));
    anxiety.accepting_only = true;
    EXPECT_EQ(ids(page_of(snap, anxiety).value()), (std::vector<std::string>{"b1", "z1"}));
    directory_query portuguese;
    portuguese.language = "pt";
    EXPECT_EQ(ids(page_of(snap, portuguese).value()), (std::vector<std::string>{"m1"}));

    directory_query forged;
    forged.page_token = "not hex";
    EXPECT_EQ(page_of(snap, forged).error().code, confide::errc::invalid_argument);
    EXPECT_EQ(snap.find("m1")->display_name, "Dr Max");
    EXPECT_EQ(snap.find("nobody"), nullptr);
}

TEST(listing, median_of_reply_times) {
    std::vector<std::uint64_t> none;
    EXPECT_EQ(median_of(none), 0u);
    std::vector<std::uint64_t> odd{50, 10, 30};
    EXPECT_EQ(median_of(odd), 30u);
    std::vector<std::uint64_t> even{40, 10, 30, 20};
    EXPECT_EQ(median_of(even), 25u);
}

TEST(directory_cache, loads_again_only_when_the_version_moves) {
    boost::asio::io_context ioc;
    confide::testing::fake_directory_store store;
    store.entries = {entry("b1", "Dr Ben", {}, {})};
    directory_cache cache(store);
    auto get = [&] {
        auto f = boost::asio::co_spawn(ioc, cache.snapshot(), boost::asio::use_future);
        ioc.restart();
        ioc.run();
        return f.get();
    };
    auto s1 = get();
    ASSERT_TRUE(s1);
    auto s2 = get();
    EXPECT_EQ(s1->get(), s2->get());
    EXPECT_EQ(store.loads, 1u);
    store.entries.push_back(entry("a1", "Dr Anna", {}, {}));
    ++store.version_number;
    auto s3 = get();
    EXPECT_EQ(store.loads, 2u);
    ASSERT_EQ((*s3)->entries().size(), 2u);
    EXPECT_EQ((*s3)->entries()[0].id, "a1");
}

}  // namespace
