// confide-cli's directory texts: local times people read, availability decided with the
// terminal's clock, reply times, decline reasons, and preferred times typed as local dates.
// Each test fixes the time zone (TZ), as a person's terminal has one.

#include "directory_text.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace confide::cli {
namespace {

constexpr std::int64_t minute = 60 * 1000;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t day = 24 * hour;
// Monday 2026-12-07 00:00 UTC.
constexpr std::int64_t monday = 1796601600000;

// setenv/tzset are not thread-safe: these tests run no other thread.
// NOLINTBEGIN(concurrency-mt-unsafe)
class directory_text : public ::testing::Test {
protected:
    void zone(const char* tz) {
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    void SetUp() override { zone("UTC"); }
    void TearDown() override {
        ::unsetenv("TZ");
        ::tzset();
    }
};
// NOLINTEND(concurrency-mt-unsafe)

TEST_F(directory_text, TheMondayConstantIsAMondayAtMidnight) {
    const std::time_t t = monday / 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    EXPECT_EQ(tm.tm_wday, 1);
    EXPECT_EQ(tm.tm_hour, 0);
}

TEST_F(directory_text, DurationsReadAsPeopleSayThem) {
    EXPECT_EQ(duration_text(10 * 1000), "1 min");
    EXPECT_EQ(duration_text(45 * minute), "45 min");
    EXPECT_EQ(duration_text(4 * hour), "4 h");
    EXPECT_EQ(duration_text(3 * day), "3 days");
}

TEST_F(directory_text, TimesWithinSixDaysNameTheWeekdayLaterOnesTheDate) {
    EXPECT_EQ(when_text(monday + 2 * day + 9 * hour, monday), "Wednesday 09:00");
    EXPECT_EQ(when_text(monday + 8 * day + 9 * hour, monday), "Tuesday 15 December 09:00");
    zone("America/New_York");  // UTC-5 in December
    EXPECT_EQ(when_text(monday + 2 * day + 9 * hour, monday), "Wednesday 04:00");
}

TEST_F(directory_text, AvailabilityIsDecidedWithThisClockFromTheHoursSent) {
    client::availability a;
    EXPECT_EQ(availability_text(a, monday), "") << "no office hours: nothing to say";
    a.has_office_hours = true;
    a.upcoming_office_hours = {{monday + 9 * hour, monday + 17 * hour},
                               {monday + day + 9 * hour, monday + day + 17 * hour}};
    EXPECT_EQ(availability_text(a, monday + 8 * hour), "away until Monday 09:00");
    EXPECT_EQ(availability_text(a, monday + 10 * hour), "in office hours until Monday 17:00");
    // The server said "within" when it sent this; an hour later this clock knows better.
    a.within_office_hours = true;
    EXPECT_EQ(availability_text(a, monday + 18 * hour), "away until Tuesday 09:00");
    EXPECT_EQ(availability_text(a, monday + 2 * day), "away");
    zone("Europe/Berlin");  // UTC+1
    EXPECT_EQ(availability_text(a, monday + 8 * hour), "away until Monday 10:00");
}

TEST_F(directory_text, StatedAndMeasuredReplyTimes) {
    client::availability a;
    EXPECT_EQ(reply_time_text(a), "");
    a.expected_reply_minutes = 240;
    EXPECT_EQ(reply_time_text(a), "replies within 4 h");
    a.first_reply_samples = 3;
    a.median_first_reply_ms = static_cast<std::uint64_t>(2 * hour);
    EXPECT_EQ(reply_time_text(a),
              "replies within 4 h · median first reply 2 h (3 inquiries, last 30 days)");
}

TEST_F(directory_text, ASpecialistInThreeLines) {
    client::specialist s;
    s.id = "dr.bob";
    s.display_name = "Dr Bob";
    s.specialties = {"anxiety", "sleep"};
    s.languages = {"en", "de"};
    s.accepting_new_clients = true;
    s.free_consultation_minutes = 30;
    s.bio = "CBT.";
    s.presence.state = client::presence_state::online;
    client::availability a;
    a.has_office_hours = true;
    a.upcoming_office_hours = {{monday + 9 * hour, monday + 17 * hour}};
    a.expected_reply_minutes = 60;
    s.presence.availability = a;
    EXPECT_EQ(specialist_text(s, monday, "  "),
              "  Dr Bob (dr.bob) — anxiety, sleep · en, de · accepting new clients · free "
              "30-min consultation\n"
              "     online · away until Monday 09:00 · replies within 1 h\n"
              "     CBT.");
}

TEST_F(directory_text, DeclineReasonsByTheirTypedNames) {
    EXPECT_EQ(parse_decline_reason("no-capacity"), client::decline_reason::no_capacity);
    EXPECT_EQ(parse_decline_reason("other-care"), client::decline_reason::other_care_needed);
    EXPECT_FALSE(parse_decline_reason("busy"));
    EXPECT_FALSE(parse_decline_reason(""));
    EXPECT_EQ(decline_text(client::decline_reason::unspecified), "");
    EXPECT_EQ(decline_text(client::decline_reason::language_mismatch),
              "The specialist does not work in your language.");
    for (auto r :
         {client::decline_reason::no_capacity, client::decline_reason::outside_expertise,
          client::decline_reason::schedule_mismatch, client::decline_reason::language_mismatch,
          client::decline_reason::other_care_needed, client::decline_reason::other}) {
        EXPECT_NE(decline_text(r), "") << static_cast<int>(r);
    }
    EXPECT_EQ(decline_reason_names(),
              "no-capacity, outside-expertise, schedule, language, other-care, other");
}

TEST_F(directory_text, PreferredTimesAreLocalDatesAndTimes) {
    auto r = parse_local_range("2026-12-07 10:00-11:30");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->start_ms, monday + 10 * hour);
    EXPECT_EQ(r->end_ms, monday + 11 * hour + 30 * minute);
    auto late = parse_local_range("2026-12-07 22:00-24:00");
    ASSERT_TRUE(late);
    EXPECT_EQ(late->end_ms, monday + day);
    EXPECT_EQ(range_text(*r, monday), "Monday 10:00–11:30");

    zone("Europe/Berlin");  // 10:00 in Berlin is 09:00 UTC in December
    auto berlin = parse_local_range("2026-12-07 10:00-11:00");
    ASSERT_TRUE(berlin);
    EXPECT_EQ(berlin->start_ms, monday + 9 * hour);

    for (const char* bad :
         {"", "tomorrow", "2026-12-07", "2026-12-07 10:00", "2026-13-01 10:00-11:00",
          "2026-02-30 10:00-11:00", "2026-12-07 11:00-10:00", "2026-12-07 10:00-10:00",
          "2026-12-07 10:60-11:00", "2026-12-07 10:00-24:30", "2026-12-07 10:00-11:00 extra"}) {
        EXPECT_FALSE(parse_local_range(bad)) << bad;
    }
}

TEST_F(directory_text, TheSafetyNoticeInOneLine) {
    EXPECT_EQ(safety_notice_text({"Not for emergencies.", "Call 112"}),
              "⚠ Not for emergencies. Call 112");
    EXPECT_EQ(safety_notice_text({"Not for emergencies.", ""}), "⚠ Not for emergencies.");
}

TEST_F(directory_text, TheRetentionSaidAtSignIn) {
    EXPECT_EQ(retention_text(0), "");
    EXPECT_EQ(retention_text(1), "Messages are kept for 1 day, then deleted from the server");
    EXPECT_EQ(retention_text(30), "Messages are kept for 30 days, then deleted from the server");
}

}  // namespace
}  // namespace confide::cli
