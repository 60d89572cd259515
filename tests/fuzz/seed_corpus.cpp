// Writes the fuzzers' seed corpus: tests/fuzz/corpus/frame (one frame of every request kind,
// valid, and a few that validation refuses) and tests/fuzz/corpus/token (tokens and signed
// header/payload pairs in token_fuzz's input format). Run it after the protocol or the token
// rules change:
//
//   build/fuzz/tests/fuzz/fuzz_seed_corpus tests/fuzz/corpus

#include "auth/base64.hpp"
#include "confide/v1/confide.pb.h"
#include "fuzz_keys.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

namespace v1 = confide::v1;
namespace fs = std::filesystem;
using confide::fuzz::sign_hs256;

void write(const fs::path& dir, const std::string& name, std::string_view bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
}

void frame(const fs::path& dir, const std::string& name, v1::Frame f) {
    write(dir, name, f.SerializeAsString());
}

void frames(const fs::path& dir) {
    const std::string conv = "0123456789abcdef0123456789abcdef";
    v1::Frame f;
    f.set_request_id(1);
    f.mutable_authenticate()->set_token(
        sign_hs256(R"({"alg":"HS256","kid":"hs"})", R"({"sub":"alice","role":"client"})"));
    f.mutable_authenticate()->set_device_id("phone-1");
    frame(dir, "authenticate", f);

    f.Clear();
    f.set_request_id(2);
    f.mutable_ping()->set_client_time_ms(1'800'000'000'000);
    frame(dir, "ping", f);

    f.Clear();
    f.set_request_id(3);
    f.mutable_sync()->set_after_cursor("1700000000000-3");
    frame(dir, "sync", f);

    f.Clear();
    f.set_request_id(4);
    f.mutable_ack()->set_cursor("1700000000000-4");
    frame(dir, "ack", f);

    f.Clear();
    f.set_request_id(5);
    auto* inquiry = f.mutable_start_inquiry();
    inquiry->set_specialist_id("dr.bob");
    inquiry->set_client_msg_id("m-1");
    inquiry->set_body("Hello, I would like to talk about my sleep.");
    inquiry->set_free_consultation(true);
    frame(dir, "start_inquiry", f);

    f.Clear();
    f.set_request_id(6);
    auto* send = f.mutable_send_message();
    send->set_conversation_id(conv);
    send->set_client_msg_id("m-2");
    send->set_body(
        "Gr\xc3\xbc\xc3\x9f"
        "e \xe2\x9c\x93 \xf0\x9f\x99\x82");  // multi-byte UTF-8
    frame(dir, "send_message", f);

    f.Clear();
    f.set_request_id(7);
    f.mutable_mark_read()->set_conversation_id(conv);
    f.mutable_mark_read()->set_up_to_seq(12);
    frame(dir, "mark_read", f);

    f.Clear();
    f.set_request_id(8);
    f.mutable_typing()->set_conversation_id(conv);
    f.mutable_typing()->set_typing(true);
    frame(dir, "typing", f);

    f.Clear();
    f.set_request_id(9);
    f.mutable_set_presence()->set_state(v1::AWAY);
    frame(dir, "set_presence", f);

    f.Clear();
    f.set_request_id(10);
    f.mutable_list_conversations()->set_limit(20);
    frame(dir, "list_conversations", f);

    f.Clear();
    f.set_request_id(11);
    f.mutable_get_history()->set_conversation_id(conv);
    f.mutable_get_history()->set_before_seq(100);
    f.mutable_get_history()->set_limit(50);
    frame(dir, "get_history", f);

    f.Clear();
    f.set_request_id(12);
    f.mutable_update_conversation()->set_conversation_id(conv);
    f.mutable_update_conversation()->set_action(v1::ACCEPT);
    frame(dir, "update_conversation", f);

    f.Clear();
    f.set_request_id(13);
    f.mutable_sign_out();
    frame(dir, "sign_out", f);

    // Refused by validation: a reply kind from a client, no request id, a body over the limit.
    f.Clear();
    f.set_request_id(14);
    f.mutable_pong()->set_server_time_ms(1);
    frame(dir, "refused_reply_kind", f);

    f.Clear();
    f.mutable_ping();
    frame(dir, "refused_no_request_id", f);

    f.Clear();
    f.set_request_id(15);
    send = f.mutable_send_message();
    send->set_conversation_id(conv);
    send->set_client_msg_id("m-3");
    send->set_body(std::string(8193, 'x'));
    frame(dir, "refused_body_too_large", f);

    write(dir, "empty", "");
}

// token_fuzz's input: a mode byte, then the rest.
void token(const fs::path& dir, const std::string& name, char mode, std::string_view rest) {
    write(dir, name, std::string(1, mode) + std::string(rest));
}

void tokens(const fs::path& dir) {
    const std::string good_claims =
        R"({"sub":"alice","role":"client","exp":4102444800,"iat":1799999000,)"
        R"("nbf":1799999000,"iss":"https://platform.example","aud":["other","confide"]})";
    const std::string header = R"({"alg":"HS256","typ":"JWT","kid":"hs"})";
    token(dir, "valid_hs256", 0, sign_hs256(header, good_claims));
    token(dir, "expired_hs256", 0,
          sign_hs256(header, R"({"sub":"bob","role":"specialist","exp":1700000000,)"
                             R"("iss":"https://platform.example","aud":"confide"})"));
    token(dir, "alg_none", 0,
          confide::auth::base64url_encode(R"({"alg":"none"})") + "." +
              confide::auth::base64url_encode(good_claims) + ".");
    token(dir, "rs256_bad_signature", 0,
          confide::auth::base64url_encode(R"({"alg":"RS256","kid":"rs"})") + "." +
              confide::auth::base64url_encode(good_claims) + "." + std::string(342, 'A'));
    token(dir, "es256_bad_signature", 0,
          confide::auth::base64url_encode(R"({"alg":"ES256","kid":"es"})") + "." +
              confide::auth::base64url_encode(good_claims) + "." + std::string(86, 'A'));
    token(dir, "two_parts", 0, "eyJhbGciOiJIUzI1NiJ9.e30");

    token(dir, "signed_claims", 1, header + std::string(1, '\0') + good_claims);
    token(dir, "signed_fractional_times", 1,
          header + std::string(1, '\0') +
              R"({"sub":"c.1:x_y-z","role":"specialist","exp":4.1e9,"nbf":1.7999e9,)"
              R"("iat":-1e308,"iss":"https://platform.example","aud":"confide"})");
    token(dir, "signed_wrong_types", 1,
          R"({"alg":"HS256","kid":"hs","crit":["x"]})" + std::string(1, '\0') +
              R"({"sub":7,"role":["client"],"exp":"soon","aud":{"a":1}})");
    token(dir, "signed_duplicates", 1,
          header + std::string(1, '\0') +
              R"({"sub":"a","sub":"b","role":"client","role":"specialist","exp":1e400})");

    token(dir, "base64url", 2, "SGVsbG8sIHdvcmxkIQ");
    token(dir, "base64_padded", 2, "SGVsbG8sIHdvcmxkIQ==");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    const fs::path root = argv[1];
    frames(root / "frame");
    tokens(root / "token");
    return 0;
}
