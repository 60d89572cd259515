// The client library over wss:// against a real confide-server with --tls-cert: messages both
// ways with a CA file; a certificate the client cannot trust (another CA, the system's CAs, a
// certificate for another name) closes the client for good with a clear reason, without a
// "connection lost" first and without retrying.

#include "harness.hpp"
#include "support/test_pki.hpp"

namespace confide::test {
namespace {

using cc::close_reason;
using cc::connection_state;

class library_tls : public clients_test {
protected:
    static void SetUpTestSuite() {
        clients_test::SetUpTestSuite();
        pki_ = std::make_unique<test_pki>();
        good_ = pki_->issue("good", "confide-test");
        elsewhere_ = pki_->issue("elsewhere", "elsewhere", "DNS:elsewhere.example");
    }
    static void TearDownTestSuite() {
        pki_.reset();
        clients_test::TearDownTestSuite();
    }

    server_process& tls_server(const certificate_files& files) {
        return server({"--tls-cert", files.cert.string(), "--tls-key", files.key.string()});
    }

    static std::string wss(const std::string& host, std::uint16_t port) {
        return "wss://" + host + ":" + std::to_string(port) + "/";
    }

    static std::unique_ptr<peer> tls_peer(const std::string& user, role r, const std::string& to,
                                          const std::string& ca_file) {
        auto o = client_options(to, user + "-dev", tokens_for(user, r));
        o.ca_file = ca_file;
        return std::make_unique<peer>(std::move(o));
    }

    // Starts `p` and waits for closed: it must be certificate_refused, with `detail` in its
    // text, and the only states before it one connecting.
    static void expect_refused(peer& p, const std::string& detail) {
        p.start();
        ASSERT_TRUE(p.wait([](const record& r) { return r.count(connection_state::closed) > 0; }));
        const auto r = p.snapshot();
        const auto& closed = r.states.back().change;
        EXPECT_EQ(closed.state, connection_state::closed);
        EXPECT_EQ(closed.reason, close_reason::certificate_refused);
        EXPECT_EQ(closed.detail.rfind("TLS certificate not trusted: ", 0), 0u) << closed.detail;
        EXPECT_NE(closed.detail.find(detail), std::string::npos) << closed.detail;
        EXPECT_EQ(r.count(connection_state::connection_lost), 0u);
        EXPECT_EQ(r.count(connection_state::connecting), 1u);
        EXPECT_EQ(r.count(connection_state::connected), 0u);
    }

    static std::unique_ptr<test_pki> pki_;
    static certificate_files good_;
    static certificate_files elsewhere_;
};

std::unique_ptr<test_pki> library_tls::pki_;
certificate_files library_tls::good_;
certificate_files library_tls::elsewhere_;

TEST_F(library_tls, MessagesGoBothWaysOverWss) {
    const auto port = tls_server(good_).port();
    const auto alice = unique("alice"), bob = unique("bob");
    const auto ca = pki_->ca_file().string();
    auto specialist = tls_peer(bob, role::specialist, wss("localhost", port), ca);
    specialist->start();
    ASSERT_TRUE(specialist->wait_connected());
    ASSERT_TRUE(specialist->synced());
    // An IP address in the URL: checked against the certificate's IP entry (no SNI).
    auto client = tls_peer(alice, role::client, wss("127.0.0.1", port), ca);
    client->start();
    ASSERT_TRUE(client->wait_connected());

    const auto id = client->start_inquiry(bob, "hello over TLS");
    auto sent = client->wait_send(id, cc::send_state::sent);
    ASSERT_TRUE(sent);
    ASSERT_TRUE(specialist->wait_message("hello over TLS"));
    specialist->send_message(sent->conversation_id, "and back");
    ASSERT_TRUE(client->wait_message("and back"));
    expect_exactly_once_in_order(specialist->snapshot().messages, sent->conversation_id,
                                 {"hello over TLS"});
    expect_exactly_once_in_order(client->snapshot().messages, sent->conversation_id, {"and back"});
}

TEST_F(library_tls, AnotherCaIsRefusedClearlyAndNotRetried) {
    const auto port = tls_server(good_).port();
    test_pki other;
    auto p =
        tls_peer(unique("alice"), role::client, wss("localhost", port), other.ca_file().string());
    expect_refused(*p, "unable to get local issuer certificate");
}

TEST_F(library_tls, WithoutACaFileTheSystemsCasDecideAndDoNotKnowTheTestCa) {
    const auto port = tls_server(good_).port();
    auto p = tls_peer(unique("alice"), role::client, wss("localhost", port), "");
    expect_refused(*p, "unable to get local issuer certificate");
}

TEST_F(library_tls, ACertificateForAnotherNameIsRefused) {
    const auto port = tls_server(elsewhere_).port();
    const auto ca = pki_->ca_file().string();
    auto by_name = tls_peer(unique("alice"), role::client, wss("localhost", port), ca);
    expect_refused(*by_name, "hostname mismatch (localhost)");
    auto by_ip = tls_peer(unique("alice"), role::client, wss("127.0.0.1", port), ca);
    expect_refused(*by_ip, "hostname mismatch (127.0.0.1)");
}

TEST_F(library_tls, AnUnreadableCaFileIsAnInvalidArgument) {
    EXPECT_THROW(tls_peer("alice", role::client, "wss://localhost:1/", "/nonexistent/ca.pem"),
                 std::invalid_argument);
}

}  // namespace
}  // namespace confide::test
