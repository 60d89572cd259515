// The directory of specialists and the consultation workflow, end to end: confide-admin writing
// the directory in a real Redis, real confide-server processes (two nodes where it matters),
// real WebSockets, and the reminder stream read by a consumer group as a platform mailer would.

#include "harness.hpp"

#include <date/date.h>

#include <regex>

namespace confide::test {
namespace {

using directory = server_test;
using namespace std::chrono;

std::int64_t wall_ms() {
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

v1::Frame list_specialists(const std::string& specialty = {}, const std::string& language = {},
                           bool accepting_only = false, std::uint32_t limit = 0,
                           const std::string& token = {}) {
    v1::Frame f;
    auto* r = f.mutable_list_specialists();
    r->set_specialty(specialty);
    r->set_language(language);
    r->set_accepting_new_clients_only(accepting_only);
    r->set_limit(limit);
    r->set_page_token(token);
    return f;
}

v1::Frame get_specialist(const std::string& id) {
    v1::Frame f;
    f.mutable_get_specialist()->set_specialist_id(id);
    return f;
}

// The ids of a listing, in order, keeping only those in `mine` (the suite's Redis holds other
// tests' specialists too).
std::vector<std::string> ids_of(const v1::SpecialistsReply& r, const std::set<std::string>& mine) {
    std::vector<std::string> out;
    for (const auto& s : r.specialists()) {
        if (mine.count(s.id()) != 0) {
            out.push_back(s.id());
        }
    }
    return out;
}

std::function<bool(const v1::Frame&)> is_conversation_state(v1::ConversationState s,
                                                            const std::string& cid = {}) {
    return [s, cid](const v1::Frame& f) {
        return f.has_event() && f.event().has_conversation() &&
               f.event().conversation().state() == s &&
               (cid.empty() || f.event().conversation().id() == cid);
    };
}

TEST_F(directory, RoleSquattingIsImpossible) {
    server();
    const auto alice = unique("alice"), victim = unique("dr.nobody");
    auto a = login(alice, role::client);
    // An inquiry to an id nobody listed is refused, says why, and binds nothing...
    auto e = must_fail(*a, start_inquiry(victim, "q1", "hello?"), v1::NOT_FOUND);
    EXPECT_NE(e.message().find("no specialist"), std::string::npos) << e.message();
    // ...so the person with that id still signs in as a client.
    auto v = login(victim, role::client);
    ASSERT_TRUE(v->request(list_conversations())->has_conversations());

    // A specialist token for an id the directory does not list is refused with a clear reason.
    auto c = server().connect();
    v1::Frame auth;
    auth.mutable_authenticate()->set_token(mint(unique("dr.self"), role::specialist));
    auth.mutable_authenticate()->set_device_id("d");
    auto r = c->request(auth);
    ASSERT_TRUE(r && r->has_error());
    EXPECT_EQ(r->error().code(), v1::UNAUTHENTICATED);
    EXPECT_NE(r->error().message().find("not listed"), std::string::npos) << r->error().message();
    ASSERT_TRUE(c->wait_closed());

    // Migration: before the directory, an inquiry bound its recipient as a specialist for good.
    // (Written here as the old server left it.) Who never signed in is a client after all.
    const auto squatted = unique("dr.old");
    redis_->command({"HSET", "cf:u:{" + squatted + "}", "role", "specialist"});
    auto s = login(squatted, role::client);
    ASSERT_TRUE(s->request(list_conversations())->has_conversations());
}

TEST_F(directory, MigrateListsTheSpecialistsWhoSignedInBeforeTheDirectory) {
    server();
    // As the old server left them: a specialist who signed in (last_seen set), and an id an
    // inquiry bound but nobody ever signed in with.
    const auto old = unique("dr.before"), named = unique("dr.named");
    redis_->command({"HSET", "cf:u:{" + old + "}", "role", "specialist", "last_seen", "1000"});
    redis_->command({"HSET", "cf:u:{" + named + "}", "role", "specialist"});
    auto refused = [&](const std::string& id) {
        auto c = server().connect();
        v1::Frame auth;
        auth.mutable_authenticate()->set_token(mint(id, role::specialist));
        auth.mutable_authenticate()->set_device_id("d");
        auto r = c->request(auth);
        return r && r->has_error() && r->error().code() == v1::UNAUTHENTICATED;
    };
    EXPECT_TRUE(refused(old)) << "not listed yet";

    // The dry run says what it would do and changes nothing.
    auto dry = run_admin(*redis_, {"directory", "migrate"});
    ASSERT_EQ(dry.status, 0) << dry.text();
    EXPECT_NE(dry.text().find(old + ": would be listed (not accepting new clients)"),
              std::string::npos)
        << dry.text();
    EXPECT_NE(dry.text().find(named + ": named by an inquiry only, never signed in: not listed"),
              std::string::npos)
        << dry.text();
    EXPECT_EQ(run_admin(*redis_, {"directory", "show", old}).status, 1);

    auto applied = run_admin(*redis_, {"directory", "migrate", "--apply"});
    ASSERT_EQ(applied.status, 0) << applied.text();
    EXPECT_NE(applied.text().find(old + ": listed (not accepting new clients)"), std::string::npos)
        << applied.text();
    auto shown = run_admin(*redis_, {"directory", "show", old});
    ASSERT_EQ(shown.status, 0) << shown.text();
    EXPECT_NE(shown.text().find("accepting new clients: no"), std::string::npos) << shown.text();
    // The listed one signs in as a specialist again; the other is a client after all.
    auto b = login(old, role::specialist);
    ASSERT_TRUE(b->request(list_conversations())->has_conversations());
    auto n = login(named, role::client);
    ASSERT_TRUE(n->request(list_conversations())->has_conversations());
    // Running it again lists nothing twice.
    auto again = run_admin(*redis_, {"directory", "migrate", "--apply"});
    EXPECT_NE(again.text().find(old + ": listed already"), std::string::npos) << again.text();
}

TEST_F(directory, EntriesAreWrittenThroughConfideAdmin) {
    server();
    const auto bob = unique("dr.bob");
    auto added = run_admin(
        *redis_, {"directory", "add", bob, "--name", "Dr Bob Example", "--specialties",
                  "anxiety,grief", "--languages", "en,de", "--bio", "Twenty years of practice.",
                  "--time-zone", "Europe/Berlin", "--office-hours", "mon-fri 09:00-17:00",
                  "--expected-reply-minutes", "240", "--free-consultation-minutes", "30"});
    ASSERT_EQ(added.status, 0) << added.text();
    auto shown = run_admin(*redis_, {"directory", "show", bob});
    ASSERT_EQ(shown.status, 0) << shown.text();
    EXPECT_NE(shown.text().find("name: Dr Bob Example"), std::string::npos) << shown.text();
    EXPECT_NE(shown.text().find("office hours: mon 09:00-17:00"), std::string::npos);
    EXPECT_NE(shown.text().find("free consultation: 30 min"), std::string::npos);

    // Adding again is refused; bad input is refused with a reason and changes nothing.
    EXPECT_EQ(run_admin(*redis_, {"directory", "add", bob, "--name", "Other"}).status, 1);
    auto bad_zone = run_admin(*redis_, {"directory", "update", bob, "--time-zone", "Mars/Base"});
    EXPECT_EQ(bad_zone.status, 2);
    EXPECT_NE(bad_zone.text().find("time zone"), std::string::npos) << bad_zone.text();
    auto bad_hours = run_admin(*redis_, {"directory", "update", bob, "--office-hours", "mon 9-5"});
    EXPECT_EQ(bad_hours.status, 2);
    EXPECT_NE(run_admin(*redis_, {"directory", "show", bob}).text().find("Europe/Berlin"),
              std::string::npos);

    // Clients see the entry, and an update at once (every node reloads on a new version).
    const auto alice = unique("alice");
    auto a = login(alice, role::client);
    auto got = a->request(get_specialist(bob));
    ASSERT_TRUE(got && got->has_specialists()) << got->DebugString();
    const auto& s = got->specialists().specialists(0);
    EXPECT_EQ(s.display_name(), "Dr Bob Example");
    EXPECT_EQ(s.time_zone(), "Europe/Berlin");
    EXPECT_EQ(s.office_hours_size(), 5);
    EXPECT_EQ(s.free_consultation_minutes(), 30u);
    EXPECT_EQ(s.presence().availability().expected_reply_minutes(), 240u);
    ASSERT_EQ(run_admin(*redis_, {"directory", "update", bob, "--name", "Dr Robert Example",
                                  "--accepting", "no"})
                  .status,
              0);
    auto again = a->request(get_specialist(bob));
    EXPECT_EQ(again->specialists().specialists(0).display_name(), "Dr Robert Example");
    EXPECT_FALSE(again->specialists().specialists(0).accepting_new_clients());
    EXPECT_NE(run_admin(*redis_, {"directory", "list"}).text().find(bob), std::string::npos);

    // The specialist signs in while listed; once removed, no longer.
    { auto b = login(bob, role::specialist); }
    ASSERT_EQ(run_admin(*redis_, {"directory", "remove", bob}).status, 0);
    EXPECT_EQ(run_admin(*redis_, {"directory", "show", bob}).status, 1);
    must_fail(*a, get_specialist(bob), v1::NOT_FOUND);
    auto c = server().connect();
    v1::Frame auth;
    auth.mutable_authenticate()->set_token(mint(bob, role::specialist));
    auth.mutable_authenticate()->set_device_id("d");
    EXPECT_EQ(c->request(auth)->error().code(), v1::UNAUTHENTICATED);

    // An id that signed in as a client cannot be listed: the directory never takes a person's
    // account away.
    auto listed_client = run_admin(*redis_, {"directory", "add", alice, "--name", "Alice"});
    EXPECT_EQ(listed_client.status, 1);
    EXPECT_NE(listed_client.text().find("client"), std::string::npos) << listed_client.text();
}

TEST_F(directory, ListingFiltersAndPages) {
    server();
    const auto tag = "t" + std::to_string(wall_ms() % 100000);  // a specialty only this test uses
    const auto anna = specialist(
        "anna", {"--name", "Anna A", "--specialties", tag + ",grief", "--languages", "de,en"});
    const auto ben = specialist("ben", {"--name", "Ben B", "--specialties", tag, "--languages",
                                        "pt-BR", "--accepting", "no"});
    const auto cleo =
        specialist("cleo", {"--name", "Cleo C", "--specialties", tag, "--languages", "en"});
    const std::set<std::string> mine{anna, ben, cleo};
    auto a = login(unique("alice"), role::client);

    auto all = a->request(list_specialists(tag));
    ASSERT_TRUE(all && all->has_specialists()) << all->DebugString();
    EXPECT_EQ(ids_of(all->specialists(), mine), (std::vector<std::string>{anna, ben, cleo}));
    EXPECT_EQ(ids_of(a->request(list_specialists(tag, "en"))->specialists(), mine),
              (std::vector<std::string>{anna, cleo}));
    EXPECT_EQ(ids_of(a->request(list_specialists(tag, "pt"))->specialists(), mine),
              (std::vector<std::string>{ben}));
    EXPECT_EQ(ids_of(a->request(list_specialists(tag, "", true))->specialists(), mine),
              (std::vector<std::string>{anna, cleo}));

    // Pages of one: every entry once, in order, then no token.
    std::vector<std::string> paged;
    std::string token;
    for (int i = 0; i < 5; ++i) {
        auto page = a->request(list_specialists(tag, "", false, 1, token));
        ASSERT_TRUE(page && page->has_specialists());
        for (const auto& s : page->specialists().specialists()) {
            paged.push_back(s.id());
        }
        token = page->specialists().next_page_token();
        if (token.empty()) {
            break;
        }
    }
    EXPECT_EQ(paged, (std::vector<std::string>{anna, ben, cleo}));
    must_fail(*a, list_specialists(tag, "", false, 1, "forged"), v1::INVALID_ARGUMENT);
}

TEST_F(directory, SpecialistsNotAcceptingNewClientsRefuseNewInquiries) {
    server();
    const auto bob = specialist("bob");
    auto a = login(unique("alice"), role::client);
    const auto cid = must_send(*a, start_inquiry(bob, "a1", "hello")).conversation_id();
    ASSERT_EQ(run_admin(*redis_, {"directory", "update", bob, "--accepting", "no"}).status, 0);
    // A new client is refused, and told why...
    auto c = login(unique("carol"), role::client);
    auto e = must_fail(*c, start_inquiry(bob, "c1", "hello"), v1::FAILED_PRECONDITION);
    EXPECT_NE(e.message().find("not accepting new clients"), std::string::npos) << e.message();
    // ...while a client already in conversation with them goes on.
    auto more = must_send(*a, start_inquiry(bob, "a2", "still there?"));
    EXPECT_EQ(more.conversation_id(), cid);
}

// Milliseconds since the epoch of today's UTC midnight plus `days`.
std::int64_t utc_midnight(int days) {
    const auto today = date::floor<date::days>(system_clock::now());
    return duration_cast<milliseconds>((today + date::days(days)).time_since_epoch()).count();
}

std::string weekday_name(int days_from_today) {
    static const char* names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    const auto d = date::floor<date::days>(system_clock::now()) + date::days(days_from_today);
    return names[date::weekday(d).c_encoding()];
}

TEST_F(directory, OutsideOfficeHoursASpecialistShowsAwayUntilTheNextStart) {
    server();
    // Office hours tomorrow 09:00-10:00 UTC only: now is outside them.
    const auto bob =
        specialist("bob", {"--time-zone", "UTC", "--office-hours", weekday_name(1) + " 09:00-10:00",
                           "--expected-reply-minutes", "120"});
    // Today all day: now is within them, until midnight.
    const auto eve = specialist(
        "eve", {"--time-zone", "UTC", "--office-hours", weekday_name(0) + " 00:00-24:00"});
    auto a = login(unique("alice"), role::client);
    auto b = login(bob, role::specialist);  // online, yet outside office hours

    auto got = a->request(get_specialist(bob));
    ASSERT_TRUE(got && got->has_specialists()) << got->DebugString();
    const auto& bob_presence = got->specialists().specialists(0).presence();
    EXPECT_EQ(bob_presence.state(), v1::ONLINE);
    const auto& av = bob_presence.availability();
    EXPECT_TRUE(av.has_office_hours());
    EXPECT_FALSE(av.within_office_hours());
    EXPECT_EQ(av.changes_at_ms(), utc_midnight(1) + 9 * 3600 * 1000);
    ASSERT_EQ(av.upcoming_office_hours_size(), 1);
    EXPECT_EQ(av.upcoming_office_hours(0).end_ms(), utc_midnight(1) + 10 * 3600 * 1000);
    EXPECT_EQ(av.expected_reply_minutes(), 120u);

    auto e = a->request(get_specialist(eve))->specialists().specialists(0).presence();
    EXPECT_TRUE(e.availability().within_office_hours());
    EXPECT_EQ(e.availability().changes_at_ms(), utc_midnight(1));

    // A client's conversation with the specialist carries the same availability.
    must_send(*a, start_inquiry(bob, "q1", "hello"));
    auto list = a->request(list_conversations());
    ASSERT_TRUE(list && list->conversations().conversations_size() == 1);
    const auto& other = list->conversations().conversations(0).other_presence();
    EXPECT_FALSE(other.availability().within_office_hours());
    EXPECT_EQ(other.availability().changes_at_ms(), utc_midnight(1) + 9 * 3600 * 1000);
}

TEST_F(directory, TheMedianTimeToFirstReplyIsMeasuredOverTheLast30Days) {
    server();
    const auto bob = specialist("bob");
    auto b = login(bob, role::specialist);
    std::vector<std::int64_t> took;
    for (int i = 0; i < 3; ++i) {
        auto c = login(unique("client"), role::client);
        const auto asked = must_send(*c, start_inquiry(bob, "q", "hello"));
        // Two replies: only the first counts.
        // (A client_msg_id is unique per sender: the specialist's differ per conversation.)
        const auto n = std::to_string(i);
        const auto first = must_send(*b, send_message(asked.conversation_id(), "r1-" + n, "hi"));
        must_send(*b, send_message(asked.conversation_id(), "r2-" + n, "how can I help?"));
        took.push_back(first.server_time_ms() - asked.server_time_ms());
    }
    std::sort(took.begin(), took.end());
    // Replies older than 30 days do not count: two slow ones from 31 days ago would move the
    // median if they did.
    const auto month_ago = std::to_string(wall_ms() - 31LL * 24 * 3600 * 1000);
    redis_->command({"ZADD", "cf:u:{" + bob + "}:replies", month_ago, "99999999:old-1", month_ago,
                     "99999999:old-2"});
    auto a = login(unique("alice"), role::client);
    auto got = a->request(get_specialist(bob));
    const auto& av = got->specialists().specialists(0).presence().availability();
    EXPECT_EQ(av.first_reply_samples(), 3u);
    EXPECT_EQ(av.median_first_reply_ms(), static_cast<std::uint64_t>(took[1]));
}

TEST_F(directory, InquiriesCarryTopicAndPreferredTimesAndDeclinesAReason) {
    server();
    const auto bob = specialist("bob");
    auto b = login(bob, role::specialist);
    auto a = login(unique("alice"), role::client);
    auto req = start_inquiry(bob, "q1", "hello", true);
    req.mutable_start_inquiry()->set_topic("Trouble sleeping since spring");
    const auto start = wall_ms() + 24 * 3600 * 1000;
    auto* t = req.mutable_start_inquiry()->add_preferred_times();
    t->set_start_ms(start);
    t->set_end_ms(start + 3600 * 1000);
    const auto cid = must_send(*a, req).conversation_id();
    auto created = b->wait_for(is_conversation_state(v1::INQUIRY, cid));
    ASSERT_TRUE(created);
    const auto& conv = created->event().conversation();
    EXPECT_EQ(conv.topic(), "Trouble sleeping since spring");
    ASSERT_EQ(conv.preferred_times_size(), 1);
    EXPECT_EQ(conv.preferred_times(0).start_ms(), start);
    EXPECT_GT(conv.expires_at_ms(), wall_ms() + 6 * 24 * 3600 * 1000);  // the default 7 days

    // Bad preferred times are refused and store nothing.
    auto bad = start_inquiry(unique("dr.x"), "q2", "hi");
    auto* p = bad.mutable_start_inquiry()->add_preferred_times();
    p->set_start_ms(1000);
    p->set_end_ms(2000);
    must_fail(*a, bad, v1::INVALID_ARGUMENT);

    auto decline = update(cid, v1::DECLINE);
    decline.mutable_update_conversation()->set_decline_reason(v1::OUTSIDE_EXPERTISE);
    auto r = b->request(decline);
    ASSERT_TRUE(r && r->has_conversation()) << r->DebugString();
    auto told = a->wait_for(is_conversation_state(v1::DECLINED, cid));
    ASSERT_TRUE(told);
    EXPECT_EQ(told->event().conversation().decline_reason(), v1::OUTSIDE_EXPERTISE);
    EXPECT_EQ(told->event().conversation().expires_at_ms(), 0);
}

TEST_F(directory, ClientsGetTheSafetyNoticeWithANewInquiry) {
    server({"--safety-notice", "This chat is not for emergencies.", "--crisis-line",
            "Call 112 or 0800 111 0 111"});
    const auto bob = specialist("bob");
    auto c = server().connect();
    auto auth = c->login(mint(unique("alice"), role::client), "d1");
    EXPECT_EQ(auth.safety_notice().crisis_line(), "Call 112 or 0800 111 0 111");
    const auto first = must_send(*c, start_inquiry(bob, "q1", "hello"));
    EXPECT_EQ(first.safety_notice().text(), "This chat is not for emergencies.");
    EXPECT_EQ(first.safety_notice().crisis_line(), "Call 112 or 0800 111 0 111");
    // The same conversation goes on: the notice came with its start.
    EXPECT_FALSE(must_send(*c, start_inquiry(bob, "q2", "more")).has_safety_notice());
    // Specialists are not sent it.
    auto b = server().connect();
    EXPECT_FALSE(b->login(mint(bob, role::specialist), "d1").has_safety_notice());
}

TEST_F(directory, AnUnansweredInquiryExpiresOnTwoNodesAndBothAreToldOnce) {
    const std::vector<std::string> fast{"--inquiry-expiry-s", "1", "--workflow-interval-ms", "100"};
    auto& node_a = server(fast);
    server_process node_b(*redis_, fast, "node-b");
    const auto bob = specialist("bob");
    auto b = login(bob, role::specialist, "dev-1", &node_b);
    auto a = login(unique("alice"), role::client, "dev-1", &node_a);
    auto answered = login(unique("carol"), role::client, "dev-1", &node_a);

    const auto cid = must_send(*a, start_inquiry(bob, "q1", "hello")).conversation_id();
    // An inquiry the specialist answers does not expire.
    const auto other = must_send(*answered, start_inquiry(bob, "q1", "hi")).conversation_id();
    must_send(*b, send_message(other, "r1", "hello, I am here"));

    auto client_told = a->wait_for(is_conversation_state(v1::EXPIRED, cid), 10s);
    ASSERT_TRUE(client_told) << "the client was not told of the expiry";
    auto specialist_told = b->wait_for(is_conversation_state(v1::EXPIRED, cid), 10s);
    ASSERT_TRUE(specialist_told) << "the specialist was not told of the expiry";
    // Once: both nodes sweep every 100 ms; ten rounds later there is no second event.
    EXPECT_FALSE(a->wait_for(is_conversation_state(v1::EXPIRED, cid), 1s));
    EXPECT_FALSE(b->wait_for(is_conversation_state(v1::EXPIRED, cid), 100ms));
    EXPECT_FALSE(b->wait_for(is_conversation_state(v1::EXPIRED, other), 100ms));
    must_fail(*a, send_message(cid, "late", "anyone?"), v1::FAILED_PRECONDITION);
    // The client can write to someone (here: the same specialist) again: a new conversation.
    auto again = must_send(*a, start_inquiry(bob, "q2", "trying again"));
    EXPECT_NE(again.conversation_id(), cid);
}

// The reminder stream as a platform mailer reads it: a consumer group, entries acked once read.
class mailer {
public:
    explicit mailer(redis_server& redis) : redis_(redis) {
        const auto r =
            redis_.command({"XGROUP", "CREATE", "cf:reminders", "mailer", "$", "MKSTREAM"});
        EXPECT_EQ(r, "OK") << r;
    }

    /// The next reminders (waits up to `wait` for one), each as its rendered field list.
    std::vector<std::string> read(milliseconds wait) {
        const auto r =
            redis_.command({"XREADGROUP", "GROUP", "mailer", "m1", "COUNT", "100", "BLOCK",
                            std::to_string(wait.count()), "STREAMS", "cf:reminders", ">"});
        std::vector<std::string> out;
        static const std::regex entry(R"(\[(\d+-\d+), \[(user, [^\]]*)\]\])");
        for (std::sregex_iterator it(r.begin(), r.end(), entry), end; it != end; ++it) {
            out.push_back((*it)[2].str());
            redis_.command({"XACK", "cf:reminders", "mailer", (*it)[1].str()});
        }
        return out;
    }

private:
    redis_server& redis_;
};

TEST_F(directory, UnreadRemindersGoOutOncePerBurstAcrossNodesAndNotWhenRead) {
    const std::vector<std::string> fast{"--reminder-specialist-after-s", "1",
                                        "--reminder-client-after-s",     "1",
                                        "--workflow-interval-ms",        "100"};
    auto& node_a = server(fast);
    server_process node_b(*redis_, fast, "node-b");
    mailer mail(*redis_);
    const auto bob = specialist("bob");  // no office hours: every minute counts
    auto b = login(bob, role::specialist, "dev-1", &node_b);
    const auto alice = unique("alice"), carol = unique("carol");
    auto a = login(alice, role::client, "dev-1", &node_a);
    auto c = login(carol, role::client, "dev-1", &node_a);

    // A burst of three messages the specialist leaves unread.
    const auto cid =
        must_send(*a, start_inquiry(bob, "m1", "first secret words")).conversation_id();
    must_send(*a, send_message(cid, "m2", "second"));
    must_send(*a, send_message(cid, "m3", "third"));
    // Another conversation the specialist reads in time.
    const auto read_cid = must_send(*c, start_inquiry(bob, "m1", "hello")).conversation_id();
    ASSERT_TRUE(b->wait_for(is_message_event("hello")));
    ASSERT_TRUE(b->request(mark_read(read_cid, 1))->has_ok());

    auto got = mail.read(5000ms);
    ASSERT_EQ(got.size(), 1u) << "expected one reminder";
    const auto& r = got[0];
    EXPECT_NE(r.find("user, " + bob), std::string::npos) << r;
    EXPECT_NE(r.find("role, specialist"), std::string::npos) << r;
    EXPECT_NE(r.find("conversation, " + cid), std::string::npos) << r;
    EXPECT_NE(r.find("unread, 3"), std::string::npos) << r;
    std::smatch waited;
    ASSERT_TRUE(std::regex_search(r, waited, std::regex(R"(waited_ms, (\d+))"))) << r;
    EXPECT_GE(std::stoll(waited[1].str()), 1000);
    EXPECT_EQ(r.find("secret"), std::string::npos) << "a reminder must never carry a body";
    // Once: both nodes go on sweeping every 100 ms.
    EXPECT_TRUE(mail.read(1500ms).empty());

    // The specialist reads; a new message starts a new burst, which the client reads in time.
    ASSERT_TRUE(b->request(mark_read(cid, 3))->has_ok());
    must_send(*b, send_message(cid, "r1", "I am here"));
    ASSERT_TRUE(a->wait_for(is_message_event("I am here")));
    ASSERT_TRUE(a->request(mark_read(cid, 4))->has_ok());
    EXPECT_TRUE(mail.read(2000ms).empty());
}

}  // namespace
}  // namespace confide::test
