// confide-cli chat and send with the directory and the consultation workflow, typed as a person
// would: /specialists with availability in the terminal's time zone and reply times, an inquiry
// with a topic and a preferred time, the safety notice, a decline's reason, an expiry.

#include "harness.hpp"
#include "office_days.hpp"
#include "terminal.hpp"

namespace confide::test {
namespace {

using cli_directory = clients_test;

// The terminal's time zone, so that "away until Wednesday 09:00" is predictable.
const std::vector<std::pair<std::string, std::string>> utc{{"TZ", "UTC"}};

TEST_F(cli_directory, ClientsFindSpecialistsSeeTheNoticeAndHearWhyTheyWereDeclined) {
    const auto u = url(server({"--safety-notice", "This chat is not for emergencies.",
                               "--crisis-line", "Call 112"})
                           .port());
    const auto tag = "cli" + std::to_string(cc::clock::now().time_since_epoch().count() % 1000000);
    // Office hours the day after tomorrow only (UTC): now is outside them.
    const auto bob =
        specialist("bob", {"--name", "Dr Bob", "--specialties", tag + ",sleep", "--languages",
                           "en,de", "--time-zone", "UTC", "--office-hours",
                           weekday_name(2) + " 09:00-10:00", "--expected-reply-minutes", "240",
                           "--free-consultation-minutes", "30", "--bio", "CBT for sleep."});
    const auto ana = specialist("ana", {"--name", "Dr Ana", "--specialties", tag, "--languages",
                                        "pt-BR", "--accepting", "no"});
    const auto alice = unique("alice");

    terminal client("chat alice", u, mint(alice, role::client), "alice-phone", utc);
    ASSERT_TRUE(client.wait("connected as " + alice + " (client)"));

    // The directory, filtered: who, what, when (in the terminal's zone), how fast.
    client.type("/specialists specialty=" + tag);
    auto line = client.wait("Dr Bob (" + bob + ") — " + tag +
                            ", sleep · en, de · accepting new "
                            "clients · free 30-min consultation");
    ASSERT_TRUE(line);
    auto when =
        client.wait("offline · away until " + weekday_full_name(2) + " 09:00 · replies within 4 h");
    ASSERT_TRUE(when);
    ASSERT_TRUE(client.wait("CBT for sleep."));
    ASSERT_TRUE(
        client.wait("Dr Ana (" + ana + ") — " + tag + " · pt-BR · not accepting new clients"));
    client.mark();
    client.type("/specialists specialty=" + tag + " accepting");
    ASSERT_TRUE(client.wait("/inquire ID TEXT writes to one of them"));
    EXPECT_EQ(client.count("Dr Ana ("), 1U) << "not accepting: filtered out the second time";
    client.mark();
    client.type("/specialists specialty=" + tag + " language=pt");
    ASSERT_TRUE(client.wait("1. Dr Ana (" + ana + ")"));
    client.type("/specialists specialty=nothing-like-this-" + tag);
    ASSERT_TRUE(client.wait("no specialists match"));

    // An inquiry with a topic and a preferred time: the notice comes first.
    terminal desk("chat bob", u, mint(bob, role::specialist), "bob-desk", utc);
    ASSERT_TRUE(desk.wait("connected as " + bob + " (specialist)"));
    client.type("/topic Trouble sleeping");
    ASSERT_TRUE(client.wait("topic of your next inquiry: Trouble sleeping"));
    client.type("/prefer " + utc_date(2) + " 10:00-11:00");
    ASSERT_TRUE(
        client.wait("preferred for your next inquiry: " + weekday_full_name(2) + " 10:00–11:00"));
    client.type("/prefer tomorrow");
    ASSERT_TRUE(client.wait("usage: /prefer YYYY-MM-DD HH:MM-HH:MM"));
    client.mark();
    client.type("/inquire " + bob + " Hello, I cannot sleep");
    ASSERT_TRUE(client.wait("⚠ This chat is not for emergencies. Call 112"));
    ASSERT_TRUE(client.wait("✓ sent \"Hello, I cannot sleep\""));
    EXPECT_EQ(client.count("⚠ This chat is not for emergencies."), 1U) << "shown once";

    // The specialist sees what it is about and when it would expire.
    ASSERT_TRUE(desk.wait("new inquiry from " + alice));
    ASSERT_TRUE(desk.wait("topic: Trouble sleeping"));
    ASSERT_TRUE(desk.wait("expires unanswered "));

    // Declined with a reason: the client is told why, and where to go next.
    desk.type("/list");
    ASSERT_TRUE(desk.wait("1. [inquiry] " + alice));
    desk.type("/open 1");
    ASSERT_TRUE(desk.wait("preferred times: " + weekday_full_name(2) + " 10:00–11:00"));
    desk.type("/decline busy");
    ASSERT_TRUE(desk.wait("usage: /decline [REASON], REASON one of no-capacity"));
    desk.type("/decline no-capacity");
    ASSERT_TRUE(desk.wait("is now declined — The specialist has no room for new clients"));
    ASSERT_TRUE(client.wait("with " + bob +
                            " is now declined — The specialist has no room for "
                            "new clients at the moment. You can write to someone else "
                            "(/specialists)."));

    // Once the specialist has answered an inquiry, the directory shows the measured reply time
    // beside the stated one.
    auto carol = online(unique("carol"), role::client, "carol-phone", u);
    auto asked = carol->wait_send(carol->start_inquiry(bob, "Hi"), cc::send_state::sent);
    ASSERT_TRUE(asked);
    auto phone = online(bob, role::specialist, "bob-phone", u);
    ASSERT_TRUE(phone->wait_send(phone->send_message(asked->conversation_id, "Hello Carol"),
                                 cc::send_state::sent));
    client.mark();
    client.type("/specialists specialty=" + tag + " accepting");
    ASSERT_TRUE(
        client.wait("replies within 4 h · median first reply 1 min (1 inquiry, last 30 days)"));

    client.type("/quit");
    EXPECT_EQ(client.process().wait_exit(20s), 0);
    desk.type("/quit");
    EXPECT_EQ(desk.process().wait_exit(20s), 0);
}

TEST_F(cli_directory, TheDirectoryPagesOnWithMore) {
    const auto u = url(server().port());
    const auto tag = "page" + std::to_string(cc::clock::now().time_since_epoch().count() % 1000000);
    // One more than a page (10), named to sort in this order.
    for (int i = 1; i <= 11; ++i) {
        const auto name = std::string(i < 10 ? "P0" : "P") + std::to_string(i);
        specialist("p", {"--name", name, "--specialties", tag});
    }
    terminal client("chat alice", u, mint(unique("alice"), role::client), "alice-phone");
    ASSERT_TRUE(client.wait("(client)"));
    client.type("/specialists more");
    ASSERT_TRUE(client.wait("no more specialists (/specialists to start over)"));
    client.type("/specialists specialty=" + tag);
    ASSERT_TRUE(client.wait("10. P10 ("));
    ASSERT_TRUE(client.wait("/specialists more for the next page"));
    EXPECT_EQ(client.count("P11 ("), 0U);
    client.type("/specialists more");
    ASSERT_TRUE(client.wait("11. P11 ("));
    ASSERT_TRUE(client.wait("/inquire ID TEXT writes to one of them"));
    client.mark();
    client.type("/specialists more");
    ASSERT_TRUE(client.wait("no more specialists (/specialists to start over)"));
    client.type("/specialists colour=blue");
    ASSERT_TRUE(client.wait("usage: /specialists [specialty=S] [language=L] [accepting] [more]"));
}

TEST_F(cli_directory, BothPartiesSeeAnUnansweredInquiryExpire) {
    const auto u = url(server({"--inquiry-expiry-s", "1", "--workflow-interval-ms", "100"}).port());
    const auto bob = specialist("bob");
    const auto alice = unique("alice");
    terminal desk("chat bob", u, mint(bob, role::specialist), "bob-desk");
    ASSERT_TRUE(desk.wait("connected as " + bob + " (specialist)"));
    terminal client("chat alice", u, mint(alice, role::client), "alice-phone");
    ASSERT_TRUE(client.wait("connected as " + alice + " (client)"));
    client.type("/inquire " + bob + " Hello?");
    ASSERT_TRUE(client.wait("✓ sent \"Hello?\""));
    ASSERT_TRUE(client.wait("with " + bob +
                            " is now expired — the inquiry was not answered in "
                            "time; you can write to someone else (/specialists)"));
    ASSERT_TRUE(desk.wait("with " + alice +
                          " is now expired — the inquiry was not answered in "
                          "time"));
    client.type("/list");
    ASSERT_TRUE(client.wait("1. [expired] " + bob));
}

TEST_F(cli_directory, SendCarriesATopicAndPrintsTheSafetyNotice) {
    const auto u = url(
        server({"--safety-notice", "Not for emergencies.", "--crisis-line", "Call 112"}).port());
    const auto bob = specialist("bob");
    const auto token = mint(unique("alice"), role::client);
    child_process::options o;
    o.name = "cli send";
    child_process p(CONFIDE_CLI_PATH,
                    {"send", "--url", u, "--token", token, "--to-specialist", bob, "--text",
                     "hello", "--topic", "Grief", "--prefer", "2099-01-05 10:00-11:00"},
                    std::move(o));
    EXPECT_EQ(p.wait_exit(30s), 3) << "a preferred time beyond 180 days is refused";
    ASSERT_TRUE(p.wait_for_line(
        [](std::string_view l) { return l.find("invalid_argument") != std::string_view::npos; },
        5s));

    child_process::options o2;
    o2.name = "cli send";
    child_process ok(CONFIDE_CLI_PATH,
                     {"send", "--url", u, "--token", token, "--to-specialist", bob, "--text",
                      "hello", "--topic", "Grief"},
                     std::move(o2));
    EXPECT_EQ(ok.wait_exit(30s), 0);
    ASSERT_TRUE(ok.wait_for_line(
        [](std::string_view l) {
            return l.find(
                       "\"safety_notice\":{\"text\":\"Not for emergencies.\",\"crisis_line\":"
                       "\"Call 112\"}") != std::string_view::npos;
        },
        5s));
}

}  // namespace
}  // namespace confide::test
