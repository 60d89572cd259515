// The client library's directory and consultation workflow against a real confide-server and
// redis-server: listing with filters and pages, availability, NOT_FOUND, an inquiry's topic and
// preferred times, the safety notice, a decline's reason and an expiry, each as an application
// sees them (requests' results and handlers).

#include "harness.hpp"
#include "office_days.hpp"

namespace confide::test {
namespace {

using client_directory = clients_test;

std::vector<std::string> ids(const cc::specialist_page& page) {
    std::vector<std::string> out;
    for (const auto& s : page.specialists) {
        out.push_back(s.id);
    }
    return out;
}

std::optional<cc::result<cc::specialist_page>> list(peer& p, cc::specialist_filter f) {
    return p.call<cc::result<cc::specialist_page>>(
        [&](auto done) { p.client().list_specialists(f, std::move(done)); }, 10s);
}

std::optional<cc::result<cc::specialist>> get(peer& p, const std::string& id) {
    return p.call<cc::result<cc::specialist>>(
        [&](auto done) { p.client().get_specialist(id, std::move(done)); }, 10s);
}

// The last conversation event of `cid` with state `s`, waited for.
std::optional<cc::conversation> wait_state(peer& p, const std::string& cid,
                                           cc::conversation_state s,
                                           std::chrono::milliseconds timeout = 15s) {
    std::optional<cc::conversation> out;
    p.wait(
        [&](const record& r) {
            for (const auto& c : r.conversations) {
                if (c.id == cid && c.state == s) {
                    out = c;
                }
            }
            return out.has_value();
        },
        timeout);
    return out;
}

TEST_F(client_directory, ListsFiltersAndPagesTheDirectoryWithAvailability) {
    // A specialty of this test's own: the suite's Redis lists other tests' specialists too.
    const auto tag = "tag" + std::to_string(utc_midnight_ms(0) % 1000) +
                     std::to_string(cc::clock::now().time_since_epoch().count() % 1000000);
    const auto bob =
        specialist("bob", {"--name", "A Bob", "--specialties", tag + ",sleep", "--languages",
                           "en,de", "--time-zone", "UTC", "--office-hours",
                           weekday_name(2) + " 09:00-10:00", "--expected-reply-minutes", "120",
                           "--free-consultation-minutes", "30", "--bio", "CBT for sleep."});
    const auto ana = specialist("ana", {"--name", "B Ana", "--specialties", tag, "--languages",
                                        "pt-BR", "--accepting", "no"});
    auto alice = online(unique("alice"), role::client, "alice-phone", url(server().port()));

    auto all = list(*alice, {tag, "", false, 0, ""});
    ASSERT_TRUE(all && all->ok()) << (all ? all->err().message : "no reply");
    ASSERT_EQ(ids(all->value()), (std::vector<std::string>{bob, ana}));  // by display name
    const auto& b = all->value().specialists.front();
    EXPECT_EQ(b.display_name, "A Bob");
    EXPECT_EQ(b.specialties, (std::vector<std::string>{tag, "sleep"}));
    EXPECT_EQ(b.languages, (std::vector<std::string>{"en", "de"}));
    EXPECT_EQ(b.bio, "CBT for sleep.");
    EXPECT_EQ(b.time_zone, "UTC");
    ASSERT_EQ(b.office_hours.size(), 1u);
    EXPECT_EQ(b.office_hours.front().start_minute, 9u * 60);
    EXPECT_TRUE(b.accepting_new_clients);
    EXPECT_EQ(b.free_consultation_minutes, 30u);
    EXPECT_EQ(b.presence.state, cc::presence_state::offline);
    ASSERT_TRUE(b.presence.availability);
    const auto& av = *b.presence.availability;
    EXPECT_TRUE(av.has_office_hours);
    EXPECT_FALSE(av.within_office_hours);
    EXPECT_EQ(av.changes_at_ms, utc_midnight_ms(2) + 9 * 3600 * 1000);
    ASSERT_FALSE(av.upcoming_office_hours.empty());
    EXPECT_EQ(av.upcoming_office_hours.front().end_ms, utc_midnight_ms(2) + 10 * 3600 * 1000);
    EXPECT_EQ(av.expected_reply_minutes, 120u);
    EXPECT_EQ(av.first_reply_samples, 0u);
    EXPECT_FALSE(all->value().specialists.back().accepting_new_clients);

    // Filters: language ("pt" matches "pt-BR"), accepting only.
    auto pt = list(*alice, {tag, "pt", false, 0, ""});
    ASSERT_TRUE(pt && pt->ok());
    EXPECT_EQ(ids(pt->value()), (std::vector<std::string>{ana}));
    auto open = list(*alice, {tag, "", true, 0, ""});
    ASSERT_TRUE(open && open->ok());
    EXPECT_EQ(ids(open->value()), (std::vector<std::string>{bob}));

    // Pages of one.
    auto first = list(*alice, {tag, "", false, 1, ""});
    ASSERT_TRUE(first && first->ok());
    EXPECT_EQ(ids(first->value()), (std::vector<std::string>{bob}));
    ASSERT_FALSE(first->value().next_page_token.empty());
    auto second = list(*alice, {tag, "", false, 1, first->value().next_page_token});
    ASSERT_TRUE(second && second->ok());
    EXPECT_EQ(ids(second->value()), (std::vector<std::string>{ana}));
    EXPECT_TRUE(second->value().next_page_token.empty());

    // One entry; an id nobody listed is not found, and an inquiry to it fails the same way.
    auto one = get(*alice, bob);
    ASSERT_TRUE(one && one->ok());
    EXPECT_EQ(one->value().display_name, "A Bob");
    const auto nobody = unique("dr.nobody");
    auto missing = get(*alice, nobody);
    ASSERT_TRUE(missing && !missing->ok());
    EXPECT_EQ(missing->err().code, cc::error_code::not_found);
    const auto id = alice->start_inquiry(nobody, "hello?");
    auto failed = alice->wait_send(id, cc::send_state::failed);
    ASSERT_TRUE(failed && failed->err);
    EXPECT_EQ(failed->err->code, cc::error_code::not_found);
    EXPECT_STREQ(cc::to_string(failed->err->code), "not_found");
    // A specialist not accepting new clients refuses a new one, and says so.
    const auto refused_id = alice->start_inquiry(ana, "hello");
    auto refused = alice->wait_send(refused_id, cc::send_state::failed);
    ASSERT_TRUE(refused && refused->err);
    EXPECT_EQ(refused->err->code, cc::error_code::failed_precondition);
}

TEST_F(client_directory, AnInquiryCarriesTopicAndTimesGetsTheNoticeAndHearsWhyItWasDeclined) {
    const auto u = url(
        server({"--safety-notice", "Not for emergencies.", "--crisis-line", "Call 112"}).port());
    const auto bob = specialist("bob");
    auto alice = online(unique("alice"), role::client, "alice-phone", u);
    auto desk = online(bob, role::specialist, "bob-desk", u);
    // Clients get the notice when they connect; specialists do not.
    const auto connected = alice->snapshot().states.back().change;
    ASSERT_TRUE(connected.safety_notice);
    EXPECT_EQ(connected.safety_notice->crisis_line, "Call 112");
    EXPECT_FALSE(desk->snapshot().states.back().change.safety_notice);

    const auto tomorrow = utc_midnight_ms(1) + 10 * 3600 * 1000;
    const auto id = alice->client().start_inquiry(
        bob, "Hello",
        cc::inquiry_details{true, "Trouble sleeping", {{tomorrow, tomorrow + 3600000}}});
    auto sent = alice->wait_send(id, cc::send_state::sent);
    ASSERT_TRUE(sent);
    ASSERT_TRUE(sent->safety_notice) << "the inquiry that opens a conversation carries it";
    EXPECT_EQ(sent->safety_notice->text, "Not for emergencies.");
    const auto cid = sent->conversation_id;
    // The next message of the same conversation does not.
    auto again =
        alice->wait_send(alice->start_inquiry(bob, "Are you there?"), cc::send_state::sent);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->conversation_id, cid);
    EXPECT_FALSE(again->safety_notice);

    auto asked = wait_state(*desk, cid, cc::conversation_state::inquiry);
    ASSERT_TRUE(asked);
    EXPECT_EQ(asked->topic, "Trouble sleeping");
    ASSERT_EQ(asked->preferred_times.size(), 1u);
    EXPECT_EQ(asked->preferred_times.front().start_ms, tomorrow);
    EXPECT_EQ(asked->preferred_times.front().end_ms, tomorrow + 3600000);
    EXPECT_TRUE(asked->free_consultation);
    EXPECT_GT(asked->expires_at_ms, asked->created_ms);

    auto declined = desk->call<cc::result<cc::conversation>>(
        [&](auto done) {
            desk->client().decline(cid, cc::decline_reason::outside_expertise, std::move(done));
        },
        10s);
    ASSERT_TRUE(declined && declined->ok());
    auto told = wait_state(*alice, cid, cc::conversation_state::declined);
    ASSERT_TRUE(told);
    EXPECT_EQ(told->decline_reason, cc::decline_reason::outside_expertise);
    EXPECT_EQ(told->expires_at_ms, 0);

    // Bad preferred times fail the send, say why, and store nothing.
    const auto bad = alice->client().start_inquiry(bob, "Hello again",
                                                   cc::inquiry_details{false, "", {{1000, 2000}}});
    auto bad_failed = alice->wait_send(bad, cc::send_state::failed);
    ASSERT_TRUE(bad_failed && bad_failed->err);
    EXPECT_EQ(bad_failed->err->code, cc::error_code::invalid_argument);
}

TEST_F(client_directory, AnUnansweredInquiryExpiresBothAreToldAndTheClientMayWriteAgain) {
    const auto u = url(server({"--inquiry-expiry-s", "1", "--workflow-interval-ms", "100"}).port());
    const auto bob = specialist("bob");
    auto alice = online(unique("alice"), role::client, "alice-phone", u);
    auto desk = online(bob, role::specialist, "bob-desk", u);
    auto sent = alice->wait_send(alice->start_inquiry(bob, "Hello?"), cc::send_state::sent);
    ASSERT_TRUE(sent);
    const auto cid = sent->conversation_id;

    auto expired = wait_state(*alice, cid, cc::conversation_state::expired);
    ASSERT_TRUE(expired);
    EXPECT_GT(expired->expires_at_ms, 0);
    ASSERT_TRUE(wait_state(*desk, cid, cc::conversation_state::expired));

    // Told once each.
    for (auto* p : {alice.get(), desk.get()}) {
        const auto r = p->snapshot();
        EXPECT_EQ(std::count_if(r.conversations.begin(), r.conversations.end(),
                                [&](const cc::conversation& c) {
                                    return c.id == cid &&
                                           c.state == cc::conversation_state::expired;
                                }),
                  1);
    }
    // The client is free to write again: a new conversation.
    auto next = alice->wait_send(alice->start_inquiry(bob, "Trying again"), cc::send_state::sent);
    ASSERT_TRUE(next);
    EXPECT_NE(next->conversation_id, cid);
}

}  // namespace
}  // namespace confide::test
