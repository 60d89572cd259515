// confide-cli's scriptable commands (token, send, listen) as a script would use them: a child
// process, its JSON output and its exit code.

#include "harness.hpp"

#include "support/test_pki.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace confide::test {
namespace {

using cli = clients_test;

// The documented exit codes (confide-cli --help).
constexpr int exit_ok = 0;
constexpr int exit_usage = 2;
constexpr int exit_rejected = 3;
constexpr int exit_timeout = 4;
constexpr int exit_closed = 5;

struct cli_run {
    std::optional<int> status;
    std::vector<std::string> lines;  // stdout and stderr, as they came
};

child_process::options cli_options(const std::vector<std::string>& args,
                                   std::vector<std::pair<std::string, std::string>> env = {}) {
    child_process::options o;
    o.name = "cli " + args.front();
    o.env = std::move(env);
    return o;
}

// Runs confide-cli with `args` to its end (at most `timeout`) and collects its output.
cli_run run_cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s,
                std::vector<std::pair<std::string, std::string>> env = {}) {
    auto opts = cli_options(args, std::move(env));
    child_process p(CONFIDE_CLI_PATH, std::move(args), std::move(opts));
    cli_run r;
    r.status = p.wait_exit(timeout);
    // Returns once both pipes are closed: every line is in.
    p.wait_for_line([](std::string_view) { return false; }, 5s);
    r.lines = p.lines();
    return r;
}

// The output lines that are JSON objects.
std::vector<boost::json::object> json_lines(const std::vector<std::string>& lines) {
    std::vector<boost::json::object> out;
    for (const auto& l : lines) {
        if (l.empty() || l.front() != '{') {
            continue;
        }
        boost::system::error_code ec;
        auto v = boost::json::parse(l, ec);
        if (!ec && v.is_object()) {
            out.push_back(v.as_object());
        }
    }
    return out;
}

std::vector<boost::json::object> of_type(const std::vector<boost::json::object>& objects,
                                         const std::string& type) {
    std::vector<boost::json::object> out;
    for (const auto& o : objects) {
        if (const auto* t = o.if_contains("type"); t && t->is_string() && t->as_string() == type) {
            out.push_back(o);
        }
    }
    return out;
}

std::string str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::uint64_t num(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    if (v && v->is_uint64()) {
        return v->as_uint64();
    }
    if (v && v->is_int64() && v->as_int64() >= 0) {
        return static_cast<std::uint64_t>(v->as_int64());
    }
    return 0;
}

// A token printed by `confide-cli token`.
std::string cli_token(const std::string& user, const std::string& r) {
    auto run = run_cli(
        {"token", "--user", user, "--role", r, "--key-id", "test", "--secret", test_secret()});
    EXPECT_EQ(run.status, exit_ok);
    EXPECT_EQ(run.lines.size(), 1u);
    return run.lines.empty() ? std::string() : run.lines.front();
}

TEST_F(cli, TokenAuthenticatesAndSendPrintsTheAck) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto u = url(server().port());
    const auto bob_token = cli_token(bob, "specialist");
    peer specialist(client_options(u, "bob-desk", [bob_token] { return bob_token; }));
    specialist.start();
    ASSERT_TRUE(specialist.wait_connected());
    ASSERT_TRUE(specialist.synced());
    EXPECT_EQ(specialist.snapshot().states.back().change.user_id, bob);

    const auto token = cli_token(alice, "client");
    auto run = run_cli({"send", "--url", u, "--token", token, "--to-specialist", bob, "--text",
                        "hello from a script", "--timeout", "20"});
    ASSERT_EQ(run.status, exit_ok);
    auto acks = of_type(json_lines(run.lines), "send");
    ASSERT_EQ(acks.size(), 1u);
    const auto& ack = acks.front();
    EXPECT_EQ(str(ack, "state"), "sent");
    EXPECT_EQ(num(ack, "seq"), 1u);
    EXPECT_GT(num(ack, "server_time_ms"), 0u);
    const auto cid = str(ack, "conversation_id");
    ASSERT_FALSE(cid.empty());
    const auto msg_id = str(ack, "client_msg_id");
    EXPECT_FALSE(msg_id.empty());

    auto got = specialist.wait_message("hello from a script");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->conversation_id, cid);
    EXPECT_EQ(got->client_msg_id, msg_id);
    EXPECT_EQ(got->sender_id, alice);

    // Into the conversation, with the token from the environment.
    auto second = run_cli({"send", "--url", u, "--conversation", cid, "--text", "and again"}, 30s,
                          {{"CONFIDE_TOKEN", token}});
    ASSERT_EQ(second.status, exit_ok);
    auto acks2 = of_type(json_lines(second.lines), "send");
    ASSERT_EQ(acks2.size(), 1u);
    EXPECT_EQ(num(acks2.front(), "seq"), 2u);
    EXPECT_EQ(str(acks2.front(), "conversation_id"), cid);
    ASSERT_TRUE(specialist.wait_message("and again"));
    expect_exactly_once_in_order(specialist.snapshot().messages, cid,
                                 {"hello from a script", "and again"});
}

TEST_F(cli, ListenPrintsTheEventsAnotherClientCauses) {
    const auto alice = unique("alice"), bob = specialist("bob");
    const auto u = url(server().port());
    auto client = online(alice, role::client, "alice-phone", u);
    const auto inquiry = client->start_inquiry(bob, "first");
    auto sent = client->wait_send(inquiry, cc::send_state::sent);
    ASSERT_TRUE(sent);
    const auto cid = sent->conversation_id;

    // bob's first device: it gets what was written to bob before, then the live events.
    std::vector<std::string> args{
        "listen",  "--url", u,           "--token", mint(bob, role::specialist),
        "--count", "3",     "--timeout", "30"};
    auto opts = cli_options(args);
    child_process listen(CONFIDE_CLI_PATH, args, opts);
    ASSERT_TRUE(listen.wait_for_line(
        [](std::string_view l) { return l.find(R"("state":"connected")") != l.npos; }, 20s));
    client->send_message(cid, "second");
    ASSERT_EQ(listen.wait_exit(30s), exit_ok);
    listen.wait_for_line([](std::string_view) { return false; }, 5s);

    const auto objects = json_lines(listen.lines());
    const auto conversations = of_type(objects, "conversation");
    ASSERT_EQ(conversations.size(), 1u);
    EXPECT_EQ(str(conversations[0], "id"), cid);
    EXPECT_EQ(str(conversations[0], "state"), "inquiry");
    EXPECT_EQ(str(conversations[0], "client_id"), alice);
    EXPECT_EQ(str(conversations[0], "specialist_id"), bob);
    const auto messages = of_type(objects, "message");
    ASSERT_EQ(messages.size(), 2u);
    const char* bodies[] = {"first", "second"};
    for (std::size_t i = 0; i < messages.size(); ++i) {
        EXPECT_EQ(str(messages[i], "body"), bodies[i]);
        EXPECT_EQ(num(messages[i], "seq"), i + 1);
        EXPECT_EQ(str(messages[i], "conversation_id"), cid);
        EXPECT_EQ(str(messages[i], "sender_id"), alice);
        const auto* outgoing = messages[i].if_contains("outgoing");
        ASSERT_TRUE(outgoing && outgoing->is_bool());
        EXPECT_FALSE(outgoing->as_bool());
    }
    EXPECT_EQ(str(messages[0], "client_msg_id"), inquiry);
    // Nothing but state lines besides the three events.
    EXPECT_EQ(objects.size(), 3 + of_type(objects, "state").size());
}

TEST_F(cli, ExitCodesSayWhatWentWrong) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto u = url(server().port());
    const auto token = mint(alice, role::client);

    // Refused by the server: a conversation alice is not a party of.
    auto forbidden = run_cli({"send", "--url", u, "--token", token, "--conversation",
                              "no-such-conversation", "--text", "hi", "--timeout", "20"});
    EXPECT_EQ(forbidden.status, exit_rejected);
    EXPECT_TRUE(of_type(json_lines(forbidden.lines), "send").empty());

    // A token the server refuses: closed for good.
    const auto forged = forged_token(alice);
    auto refused = run_cli({"send", "--url", u, "--token", forged, "--to-specialist", bob, "--text",
                            "hi", "--timeout", "20"});
    EXPECT_EQ(refused.status, exit_closed);
    auto refused_listen = run_cli({"listen", "--url", u, "--token", forged, "--timeout", "20"});
    EXPECT_EQ(refused_listen.status, exit_closed);
    // Said as a refused token, with no "connection lost" before it.
    for (const auto* run : {&refused, &refused_listen}) {
        std::string all;
        for (const auto& l : run->lines) {
            all += l + "\n";
        }
        EXPECT_NE(all.find("token_rejected"), std::string::npos) << all;
        EXPECT_NE(all.find("token rejected"), std::string::npos) << all;
        EXPECT_EQ(all.find("connection_lost"), std::string::npos) << all;
        EXPECT_EQ(all.find("connection lost"), std::string::npos) << all;
    }

    // Bad command lines.
    EXPECT_EQ(run_cli({"send", "--url", u, "--token", token, "--to-specialist", bob}).status,
              exit_usage);
    EXPECT_EQ(
        run_cli({"send", "--url", u, "--text", "no token"}, 30s, {{"CONFIDE_TOKEN", ""}}).status,
        exit_usage);
    EXPECT_EQ(run_cli({"frobnicate"}).status, exit_usage);

    // A server that is gone: no ack in time.
    server().stop();
    auto down = run_cli({"send", "--url", u, "--token", token, "--to-specialist", bob, "--text",
                         "anyone?", "--timeout", "1.5"});
    EXPECT_EQ(down.status, exit_timeout);
    EXPECT_TRUE(of_type(json_lines(down.lines), "send").empty());
}

TEST_F(cli, SendAndListenOverWssWithACaFileAndRefuseAnUntrustedCertificate) {
    test_pki pki;
    const auto files = pki.issue("server", "confide-test");
    const auto port =
        server({"--tls-cert", files.cert.string(), "--tls-key", files.key.string()}).port();
    const auto u = "wss://localhost:" + std::to_string(port) + "/";
    const auto ca = pki.ca_file().string();
    const auto alice = unique("alice"), bob = specialist("bob");

    auto sent = run_cli({"send", "--url", u, "--ca-file", ca, "--token", mint(alice, role::client),
                         "--to-specialist", bob, "--text", "hello over wss", "--timeout", "20"});
    ASSERT_EQ(sent.status, exit_ok);
    ASSERT_EQ(of_type(json_lines(sent.lines), "send").size(), 1u);
    // The CA file from the environment. Until the message, not --count: alice's presence
    // (offline once her send ended) comes before or after the conversation's events.
    const std::vector<std::string> listen_args{
        "listen", "--url", u, "--token", mint(bob, role::specialist), "--timeout", "20"};
    child_process heard(CONFIDE_CLI_PATH, listen_args,
                        cli_options(listen_args, {{"CONFIDE_CA_FILE", ca}}));
    const auto message = heard.wait_for_line(
        [](std::string_view l) { return l.find(R"("type":"message")") != l.npos; }, 20s);
    ASSERT_TRUE(message) << "no message over wss";
    const auto messages = of_type(json_lines({*message}), "message");
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(str(messages.front(), "body"), "hello over wss");
    heard.terminate(10s);

    // Another CA: a configuration error, said as such, at once, and not retried.
    test_pki other;
    auto refused = run_cli({"send", "--url", u, "--ca-file", other.ca_file().string(), "--token",
                            mint(alice, role::client), "--to-specialist", bob, "--text", "hi",
                            "--timeout", "20"});
    EXPECT_EQ(refused.status, exit_closed);
    std::string all;
    for (const auto& l : refused.lines) {
        all += l + "\n";
    }
    EXPECT_NE(all.find("certificate_refused: TLS certificate not trusted: "), std::string::npos)
        << all;
    EXPECT_EQ(all.find("connection lost"), std::string::npos) << all;
    // A CA file that cannot be read: a usage error naming it.
    auto unreadable = run_cli({"send", "--url", u, "--ca-file", "/nonexistent/ca.pem", "--token",
                               mint(alice, role::client), "--to-specialist", bob, "--text", "hi"});
    EXPECT_EQ(unreadable.status, exit_usage);
}

}  // namespace
}  // namespace confide::test
