// TLS on the server itself, with certificates made by openssl for the test: https for the
// health, readiness and web endpoints, TLS 1.3 offered and TLS 1.1 refused (openssl s_client
// as the peer), and the certificate reloaded on SIGHUP while connections stay open.

#include "../server/harness.hpp"
#include "ops_harness.hpp"
#include "support/test_pki.hpp"

#include <csignal>
#include <fstream>

namespace confide::test {
namespace {

class tls : public server_test {
protected:
    static void SetUpTestSuite() {
        server_test::SetUpTestSuite();
        pki_ = std::make_unique<test_pki>();
        first_ = pki_->issue("first", "confide-first");
        // The web client: one page, to check https serves it.
        web_ = std::make_unique<temp_dir>("confide-web");
        std::ofstream(*web_ / "index.html") << "<!doctype html>\n<title>Confide</title>\n";
    }
    static void TearDownTestSuite() {
        pki_.reset();
        web_.reset();
        server_test::TearDownTestSuite();
    }

    server_process& tls_server(std::vector<std::string> extra = {}) {
        extra.insert(extra.end(), {"--tls-cert", first_.cert.string(), "--tls-key",
                                   first_.key.string(), "--web-root", web_->path().string()});
        return server(std::move(extra));
    }

    http_reply https(const std::string& target) {
        http_request r;
        r.port = server().port();
        r.target = target;
        r.ca_file = pki_->ca_file().string();
        return http_get(r);
    }

    std::map<std::string, double> scrape_https() { return parse_metrics(https("/metrics").body); }

    std::vector<std::string> s_client_args() {
        return {"s_client",
                "-connect",
                "127.0.0.1:" + std::to_string(server().port()),
                "-CAfile",
                pki_->ca_file().string(),
                "-verify_return_error",
                "-servername",
                "localhost"};
    }

    // `openssl s_client` with `args`, its input closed at once: its output.
    tool_result s_client(std::vector<std::string> args) {
        auto all = s_client_args();
        all.insert(all.end(), args.begin(), args.end());
        return run_tool("openssl", std::move(all), "Q\n");
    }

    static std::unique_ptr<test_pki> pki_;
    static certificate_files first_;
    static std::unique_ptr<temp_dir> web_;
};

std::unique_ptr<test_pki> tls::pki_;
certificate_files tls::first_;
std::unique_ptr<temp_dir> tls::web_;

TEST_F(tls, HttpsServesHealthReadinessAndTheWebClientOverTls13) {
    tls_server();
    auto health = https("/healthz");
    ASSERT_EQ(health.status, 200) << health.error;
    EXPECT_EQ(health.tls_version, "TLSv1.3");
    EXPECT_EQ(https("/readyz").status, 200);
    auto page = https("/");
    EXPECT_EQ(page.status, 200) << page.error;
    EXPECT_NE(page.body.find("<title>Confide</title>"), std::string::npos);
    EXPECT_EQ(page.header("Strict-Transport-Security"), "max-age=31536000");
    // Plain HTTP on the TLS port gets no answer.
    EXPECT_EQ(get(server().port(), "/healthz").status, 0);
}

TEST_F(tls, Tls12IsAcceptedAndTls11Refused) {
    tls_server();
    auto v12 = s_client({"-tls1_2"});
    EXPECT_EQ(v12.code, 0) << v12.output;
    EXPECT_NE(v12.output.find("Protocol  : TLSv1.2"), std::string::npos) << v12.output;
    EXPECT_NE(v12.output.find("Cipher    : ECDHE-"), std::string::npos) << v12.output;
    // The client allows TLS 1.1 (and its old ciphers) for once; the server must still refuse.
    auto v11 = s_client({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
    EXPECT_NE(v11.code, 0) << v11.output;
    EXPECT_NE(v11.output.find("alert protocol version"), std::string::npos) << v11.output;
    const auto m = scrape_https();
    EXPECT_GE(m.at("confide_tls_handshake_failures_total"), 1);
}

TEST_F(tls, SighupReloadsTheCertificateAndOpenConnectionsGoOn) {
    // The files the server was started with are replaced in place, as certbot does.
    auto second = pki_->issue("second", "confide-second");
    auto files = pki_->issue("live", "confide-first");
    auto& srv = server({"--tls-cert", files.cert.string(), "--tls-key", files.key.string(),
                        "--web-root", web_->path().string()});
    auto before = s_client({});
    EXPECT_NE(before.output.find("CN = confide-first"), std::string::npos) << before.output;

    // A connection open across the reload: HTTP keep-alive over TLS, openssl as the client.
    auto args = s_client_args();
    args.emplace_back("-quiet");
    child_process::options o;
    o.name = "s_client";
    o.stdin_input = true;
    child_process live("openssl", std::move(args), std::move(o));
    const std::string request = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_TRUE(live.write_input(request));
    ASSERT_TRUE(live.wait_for_line(std::regex("<title>Confide</title>"), 10s));
    const auto answered = live.line_count();

    std::filesystem::copy_file(second.cert, files.cert,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(second.key, files.key,
                               std::filesystem::copy_options::overwrite_existing);
    const auto from = srv.process().line_count();
    srv.process().signal(SIGHUP);
    ASSERT_TRUE(srv.process().wait_for_line(
        std::regex("TLS certificate reloaded: .*confide-second"), 10s, from));
    auto after = s_client({});
    EXPECT_NE(after.output.find("CN = confide-second"), std::string::npos) << after.output;

    // The connection made before the reload still works, with the old certificate.
    ASSERT_TRUE(live.write_input(request));
    ASSERT_TRUE(live.wait_for_line(std::regex("<title>Confide</title>"), 10s, answered));
    live.close_input();

    // A broken file is refused and the certificate in use stays.
    std::ofstream(files.cert) << "not a certificate";
    const auto from2 = srv.process().line_count();
    srv.process().signal(SIGHUP);
    ASSERT_TRUE(srv.process().wait_for_line(
        std::regex("TLS certificate not reloaded, the previous one stays in use"), 10s, from2));
    auto still = s_client({});
    EXPECT_NE(still.output.find("CN = confide-second"), std::string::npos) << still.output;
}

}  // namespace
}  // namespace confide::test
