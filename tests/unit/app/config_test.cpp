#include "app/config.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace confide::app {
namespace {

using namespace std::chrono_literals;

const std::string key = "dev:HS256:text:secret";

// The CONFIDE_* variables a parse sees.
struct fake_env {
    std::map<std::string, std::string> vars;
};

// The parser reads the process environment: for its lifetime, the CONFIDE_* variables are
// exactly `vars` (whatever the shell running the tests exported); the old ones come back after.
// setenv and unsetenv are not thread-safe: these tests run no other thread.
// NOLINTBEGIN(concurrency-mt-unsafe)
class scoped_environment {
public:
    explicit scoped_environment(const std::map<std::string, std::string>& vars) : set_(vars) {
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string_view entry(*e);
            const auto eq = entry.find('=');
            if (entry.starts_with("CONFIDE_") && eq != std::string_view::npos) {
                saved_.emplace(entry.substr(0, eq), entry.substr(eq + 1));
            }
        }
        for (const auto& [name, value] : saved_) {
            ::unsetenv(name.c_str());
        }
        for (const auto& [name, value] : set_) {
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }
    ~scoped_environment() {
        for (const auto& [name, value] : set_) {
            ::unsetenv(name.c_str());
        }
        for (const auto& [name, value] : saved_) {
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }
    scoped_environment(const scoped_environment&) = delete;
    scoped_environment& operator=(const scoped_environment&) = delete;

private:
    std::map<std::string, std::string> set_;
    std::map<std::string, std::string> saved_;
};
// NOLINTEND(concurrency-mt-unsafe)

// Every server needs --data-key-file or --allow-plaintext-storage: the tests that are not about
// them get the second (`as_given`: exactly the arguments given).
config parse(const std::vector<std::string>& args, const fake_env& env = {},
             bool as_given = false) {
    std::vector<const char*> argv{"confide-server"};
    bool storage_given = as_given || env.vars.contains("CONFIDE_DATA_KEY_FILE") ||
                         env.vars.contains("CONFIDE_ALLOW_PLAINTEXT_STORAGE");
    for (const auto& a : args) {
        argv.push_back(a.c_str());
        storage_given = storage_given || a.starts_with("--data-key-file") ||
                        a.starts_with("--allow-plaintext-storage");
    }
    if (!storage_given) {
        argv.push_back("--allow-plaintext-storage");
    }
    const scoped_environment scope(env.vars);
    return parse_config(static_cast<int>(argv.size()), argv.data());
}

// The config_error message, or "" when parsing succeeded.
std::string error_of(const std::vector<std::string>& args, const fake_env& env = {},
                     bool as_given = false) {
    try {
        parse(args, env, as_given);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST(Config, StorageNeedsAKeyFileOrPlaintextExplicitly) {
    EXPECT_TRUE(contains(error_of({"--token-key", key}, {}, true), "--data-key-file: required"));
    EXPECT_TRUE(contains(
        error_of({"--token-key", key, "--data-key-file", "/k", "--allow-plaintext-storage"}, {},
                 true),
        "contradicts --data-key-file"));
    const auto sealed = parse({"--token-key", key, "--data-key-file", "/etc/confide/keys"});
    EXPECT_EQ(sealed.data_key_file, "/etc/confide/keys");
    EXPECT_FALSE(sealed.allow_plaintext_storage);
    const auto plain = parse({"--token-key", key, "--allow-plaintext-storage"});
    EXPECT_TRUE(plain.data_key_file.empty());
    EXPECT_TRUE(plain.allow_plaintext_storage);
}

TEST(Config, RetentionInDaysOrSecondsNotBothAndOffByDefault) {
    EXPECT_EQ(parse({"--token-key", key}).retention, 0s);
    EXPECT_EQ(parse({"--token-key", key, "--retention-days", "30"}).retention, 30 * 24h);
    EXPECT_EQ(parse({"--token-key", key, "--retention-s", "5"}).retention, 5s);
    EXPECT_EQ(parse({"--token-key", key, "--retention-days", "0"}).retention, 0s);
    EXPECT_TRUE(
        contains(error_of({"--token-key", key, "--retention-days", "1", "--retention-s", "5"}),
                 "--retention-s: contradicts --retention-days; give one of them"));
    EXPECT_TRUE(
        contains(error_of({"--token-key", key, "--retention-days", "-1"}), "--retention-days"));
}

TEST(Config, DefaultsWithOneKey) {
    auto c = parse({"--token-key", key});
    EXPECT_FALSE(c.help_requested);
    EXPECT_EQ(c.listen_address, "127.0.0.1");
    EXPECT_EQ(c.listen_port, 8080);
    EXPECT_EQ(c.redis_host, "127.0.0.1");
    EXPECT_EQ(c.redis_port, 6379);
    EXPECT_TRUE(c.redis_unix_socket.empty());
    EXPECT_EQ(c.redis_timeout, 2000ms);
    EXPECT_EQ(c.redis_health_interval, 2000ms);
    EXPECT_EQ(c.token_keys, std::vector<std::string>{key});
    EXPECT_GE(c.io_threads, 1u);
    EXPECT_FALSE(c.node_id.empty());
    EXPECT_EQ(c.max_frame_bytes, 65536u);
    EXPECT_EQ(c.max_body_bytes, 8192u);
    EXPECT_EQ(c.send_rate, 10);
    EXPECT_EQ(c.send_burst, 30u);
    EXPECT_EQ(c.typing_rate, 2);
    EXPECT_EQ(c.max_connections_per_user, 10u);
    EXPECT_EQ(c.max_connections, 20000u);
    EXPECT_EQ(c.max_outbound_bytes, 4u * 1024 * 1024);
    EXPECT_EQ(c.handshake_timeout, 10000ms);
    EXPECT_EQ(c.auth_timeout, 10000ms);
    EXPECT_EQ(c.heartbeat_interval, 15000ms);
    EXPECT_EQ(c.presence_grace, 15000ms);
    EXPECT_EQ(c.presence_ttl, 60000ms);
    EXPECT_EQ(c.drain_timeout, 10000ms);
    EXPECT_TRUE(c.allowed_origins.empty());
    EXPECT_FALSE(c.allow_unsafe_redis);
    EXPECT_EQ(c.log_level, "info");
}

TEST(Config, HelpSkipsValidation) {
    auto c = parse({"--help"});
    EXPECT_TRUE(c.help_requested);
    auto usage = usage_text();
    for (const char* option : {"--listen",
                               "--redis",
                               "--redis-password",
                               "--redis-timeout-ms",
                               "--redis-health-interval-ms",
                               "--token-key",
                               "--token-issuer",
                               "--token-audience",
                               "--io-threads",
                               "--node-id",
                               "--max-frame-bytes",
                               "--max-body-bytes",
                               "--send-rate",
                               "--send-burst",
                               "--typing-rate",
                               "--max-connections-per-user",
                               "--max-connections",
                               "--max-outbound-bytes",
                               "--handshake-timeout-ms",
                               "--auth-timeout-ms",
                               "--heartbeat-interval-ms",
                               "--presence-grace-ms",
                               "--presence-ttl-ms",
                               "--allowed-origin",
                               "--allow-unsafe-redis",
                               "--log-level",
                               "CONFIDE_TOKEN_KEYS",
                               "CONFIDE_REDIS_PASSWORD",
                               "CONFIDE_LISTEN"}) {
        EXPECT_TRUE(contains(usage, option)) << option;
    }
}

TEST(Config, EveryOptionFromFlags) {
    auto c = parse({"--listen=0.0.0.0:0",
                    "--redis=redis.internal:6380",
                    "--redis-password=pw",
                    "--redis-timeout-ms=500",
                    "--redis-health-interval-ms=700",
                    "--token-key=a:HS256:text:x",
                    "--token-key=b:RS256:file:/etc/key.pem",
                    "--token-issuer=https://id.example",
                    "--token-audience=confide",
                    "--io-threads=3",
                    "--node-id=node-a.1",
                    "--max-frame-bytes=32768",
                    "--max-body-bytes=4096",
                    "--send-rate=2.5",
                    "--send-burst=5",
                    "--typing-rate=0.5",
                    "--max-connections-per-user=3",
                    "--max-connections=100",
                    "--max-outbound-bytes=1048576",
                    "--handshake-timeout-ms=1000",
                    "--auth-timeout-ms=2000",
                    "--heartbeat-interval-ms=3000",
                    "--presence-grace-ms=4000",
                    "--presence-ttl-ms=5000",
                    "--drain-timeout-ms=6000",
                    "--allowed-origin=https://a.example",
                    "--allowed-origin=http://localhost:3000",
                    "--allow-unsafe-redis",
                    "--log-level=debug"});
    EXPECT_EQ(c.listen_address, "0.0.0.0");
    EXPECT_EQ(c.listen_port, 0);
    EXPECT_EQ(c.redis_host, "redis.internal");
    EXPECT_EQ(c.redis_port, 6380);
    EXPECT_EQ(c.redis_password, "pw");
    EXPECT_EQ(c.redis_timeout, 500ms);
    EXPECT_EQ(c.redis_health_interval, 700ms);
    EXPECT_EQ(c.token_keys,
              (std::vector<std::string>{"a:HS256:text:x", "b:RS256:file:/etc/key.pem"}));
    EXPECT_EQ(c.token_issuer, "https://id.example");
    EXPECT_EQ(c.token_audience, "confide");
    EXPECT_EQ(c.io_threads, 3u);
    EXPECT_EQ(c.node_id, "node-a.1");
    EXPECT_EQ(c.max_frame_bytes, 32768u);
    EXPECT_EQ(c.max_body_bytes, 4096u);
    EXPECT_DOUBLE_EQ(c.send_rate, 2.5);
    EXPECT_EQ(c.send_burst, 5u);
    EXPECT_DOUBLE_EQ(c.typing_rate, 0.5);
    EXPECT_EQ(c.max_connections_per_user, 3u);
    EXPECT_EQ(c.max_connections, 100u);
    EXPECT_EQ(c.max_outbound_bytes, 1048576u);
    EXPECT_EQ(c.handshake_timeout, 1000ms);
    EXPECT_EQ(c.auth_timeout, 2000ms);
    EXPECT_EQ(c.heartbeat_interval, 3000ms);
    EXPECT_EQ(c.presence_grace, 4000ms);
    EXPECT_EQ(c.presence_ttl, 5000ms);
    EXPECT_EQ(c.drain_timeout, 6000ms);
    EXPECT_EQ(c.allowed_origins,
              (std::vector<std::string>{"https://a.example", "http://localhost:3000"}));
    EXPECT_TRUE(c.allow_unsafe_redis);
    EXPECT_EQ(c.log_level, "debug");
}

TEST(Config, SpaceSeparatedValuesAndIpv6) {
    auto c =
        parse({"--listen", "[::1]:9000", "--token-key", key, "--redis", "unix:/run/redis.sock"});
    EXPECT_EQ(c.listen_address, "::1");
    EXPECT_EQ(c.listen_port, 9000);
    EXPECT_EQ(c.redis_unix_socket, "/run/redis.sock");
}

TEST(Config, EnvironmentVariables) {
    fake_env env{{{"CONFIDE_LISTEN", "0.0.0.0:9090"},
                  {"CONFIDE_TOKEN_KEYS", "a:HS256:text:x, b:HS256:text:y"},
                  {"CONFIDE_REDIS_PASSWORD", "from-env"},
                  {"CONFIDE_ALLOWED_ORIGINS", "https://a.example,https://b.example"},
                  {"CONFIDE_ALLOW_UNSAFE_REDIS", "yes"},
                  {"CONFIDE_MAX_CONNECTIONS", "7"},
                  {"CONFIDE_IO_THREADS", "2"},
                  {"CONFIDE_SEND_RATE", "1.5"}}};
    auto c = parse({}, env);
    EXPECT_EQ(c.listen_port, 9090);
    EXPECT_EQ(c.token_keys, (std::vector<std::string>{"a:HS256:text:x", "b:HS256:text:y"}));
    EXPECT_EQ(c.redis_password, "from-env");
    EXPECT_EQ(c.allowed_origins.size(), 2u);
    EXPECT_TRUE(c.allow_unsafe_redis);
    EXPECT_EQ(c.max_connections, 7u);
    EXPECT_EQ(c.io_threads, 2u);
    EXPECT_DOUBLE_EQ(c.send_rate, 1.5);
}

TEST(Config, FlagsWinOverEnvironment) {
    fake_env env{{{"CONFIDE_LISTEN", "0.0.0.0:9090"},
                  {"CONFIDE_TOKEN_KEYS", "env:HS256:text:x"},
                  {"CONFIDE_LOG_LEVEL", "nonsense"}}};
    auto c = parse({"--listen=127.0.0.1:1234", "--token-key=flag:HS256:text:y", "--log-level=warn"},
                   env);
    EXPECT_EQ(c.listen_port, 1234);
    EXPECT_EQ(c.token_keys, std::vector<std::string>{"flag:HS256:text:y"});
    EXPECT_EQ(c.log_level, "warn");
}

TEST(Config, EmptyVariableMeansUnset) {
    fake_env env{{{"CONFIDE_TOKEN_KEYS", key}, {"CONFIDE_LISTEN", ""}}};
    EXPECT_EQ(parse({}, env).listen_port, 8080);
}

TEST(Config, UnsafeRedisFlagTakesAnExplicitValue) {
    EXPECT_FALSE(parse({"--token-key", key, "--allow-unsafe-redis=false"}).allow_unsafe_redis);
    EXPECT_TRUE(contains(error_of({"--token-key", key, "--allow-unsafe-redis=maybe"}),
                         "--allow-unsafe-redis"));
}

struct bad_case {
    std::vector<std::string> args;
    std::string must_name;
};

TEST(Config, InvalidValuesNameTheOption) {
    const std::vector<bad_case> cases = {
        {{"--listen=127.0.0.1:70000"}, "--listen"},
        {{"--listen=127.0.0.1"}, "--listen"},
        {{"--listen=:8080"}, "--listen"},
        {{"--listen=example.com:80"}, "--listen"},
        {{"--listen=1.2.3.4.5:80"}, "--listen"},
        {{"--listen=::1:80"}, "--listen"},
        {{"--listen=127.0.0.1:http"}, "--listen"},
        {{"--redis=redis:0"}, "--redis"},
        {{"--redis=unix:relative"}, "--redis"},
        {{"--io-threads=0"}, "--io-threads"},
        {{"--io-threads=-2"}, "--io-threads"},
        {{"--io-threads=two"}, "--io-threads"},
        {{"--max-body-bytes=70000"}, "--max-body-bytes"},
        {{"--max-frame-bytes=20000", "--max-body-bytes=30000"}, "--max-frame-bytes"},
        {{"--max-frame-bytes=100"}, "--max-frame-bytes"},
        {{"--max-outbound-bytes=1000"}, "--max-outbound-bytes"},
        {{"--log-level=verbose"}, "--log-level"},
        {{"--handshake-timeout-ms=0"}, "--handshake-timeout-ms"},
        {{"--auth-timeout-ms=-5"}, "--auth-timeout-ms"},
        {{"--redis-timeout-ms=1.5"}, "--redis-timeout-ms"},
        {{"--redis-health-interval-ms=0"}, "--redis-health-interval-ms"},
        {{"--heartbeat-interval-ms=0"}, "--heartbeat-interval-ms"},
        {{"--presence-grace-ms=-1"}, "--presence-grace-ms"},
        {{"--presence-ttl-ms=0"}, "--presence-ttl-ms"},
        {{"--drain-timeout-ms=0"}, "--drain-timeout-ms"},
        {{"--send-rate=0"}, "--send-rate"},
        {{"--send-rate=-1"}, "--send-rate"},
        {{"--send-burst=0"}, "--send-burst"},
        {{"--typing-rate=abc"}, "--typing-rate"},
        {{"--max-connections=0"}, "--max-connections"},
        {{"--max-connections-per-user=0"}, "--max-connections-per-user"},
        {{"--node-id=has space"}, "--node-id"},
        {{"--allowed-origin=example.com"}, "--allowed-origin"},
        {{"--allowed-origin=https://a.example/path"}, "--allowed-origin"},
        {{"--no-such-option"}, "no-such-option"},
        {{"--listen=1.2.3.4:1", "--listen=1.2.3.4:2"}, "listen"},
    };
    for (const auto& bad : cases) {
        auto args = bad.args;
        args.push_back("--token-key=" + key);
        auto message = error_of(args);
        EXPECT_TRUE(contains(message, bad.must_name))
            << "args: " << bad.args[0] << " message: '" << message << "'";
    }
}

TEST(Config, MissingTokenKeyIsAnError) {
    EXPECT_TRUE(contains(error_of({}), "--token-key"));
    EXPECT_TRUE(contains(error_of({}, fake_env{{{"CONFIDE_TOKEN_KEYS", " , "}}}), "--token-key"));
}

TEST(Config, MalformedTokenKeyIsAnErrorThatDoesNotEchoTheSecret) {
    auto message = error_of({"--token-key=justasecretvalue"});
    EXPECT_TRUE(contains(message, "--token-key"));
    EXPECT_FALSE(contains(message, "justasecretvalue"));
}

TEST(Config, BadEnvironmentValueNamesTheVariable) {
    fake_env env{{{"CONFIDE_TOKEN_KEYS", key}, {"CONFIDE_MAX_FRAME_BYTES", "lots"}}};
    EXPECT_TRUE(contains(error_of({}, env), "CONFIDE_MAX_FRAME_BYTES"));
}

TEST(Config, DescribeLeavesSecretsOut) {
    auto c = parse({"--token-key=kid1:HS256:text:topsecret", "--redis-password=hunter2"});
    auto text = describe(c);
    EXPECT_TRUE(contains(text, "kid1"));
    EXPECT_FALSE(contains(text, "topsecret"));
    EXPECT_FALSE(contains(text, "hunter2"));
}

}  // namespace
}  // namespace confide::app

namespace confide::app {
namespace {

TEST(Config, StrayWordsAreRefused) {
    EXPECT_FALSE(error_of({"--token-key", key, "listen"}).empty());
    EXPECT_FALSE(error_of({"stray", "--token-key", key}).empty());
}

TEST(Config, EveryVariableIsTheFlagInUpperSnakeCaseAndHelpNamesIt) {
    const auto usage = usage_text();
    const std::regex flag(R"(--([a-z0-9-]+))");
    std::set<std::string> options;
    for (std::sregex_iterator it(usage.begin(), usage.end(), flag), end; it != end; ++it) {
        options.insert((*it)[1]);
    }
    options.erase("help");
    ASSERT_GE(options.size(), 30u);
    for (const auto& option : options) {
        std::string variable = "CONFIDE_";
        for (char ch : option) {
            variable += ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
        }
        EXPECT_TRUE(contains(usage, variable)) << option;
    }
    // The repeatable ones too, with their older names.
    EXPECT_TRUE(contains(usage, "CONFIDE_TOKEN_KEY,"));
    EXPECT_TRUE(contains(usage, "CONFIDE_TOKEN_KEYS"));
    EXPECT_TRUE(contains(usage, "CONFIDE_ALLOWED_ORIGIN,"));
    EXPECT_TRUE(contains(usage, "CONFIDE_ALLOWED_ORIGINS"));
}

TEST(Config, RepeatableOptionsFollowTheRuleAndKeepTheirOldVariables) {
    auto c = parse({}, fake_env{{{"CONFIDE_TOKEN_KEY", "a:HS256:text:x,b:HS256:text:y"},
                                 {"CONFIDE_ALLOWED_ORIGIN", "https://a.example"},
                                 {"CONFIDE_REDIS_HEALTH_INTERVAL_MS", "900"}}});
    EXPECT_EQ(c.token_keys, (std::vector<std::string>{"a:HS256:text:x", "b:HS256:text:y"}));
    EXPECT_EQ(c.allowed_origins, std::vector<std::string>{"https://a.example"});
    EXPECT_EQ(c.redis_health_interval, 900ms);

    // Both names of one option: which one was meant?
    const auto both = error_of(
        {}, fake_env{{{"CONFIDE_TOKEN_KEY", key}, {"CONFIDE_TOKEN_KEYS", "old:HS256:text:z"}}});
    EXPECT_TRUE(contains(both, "CONFIDE_TOKEN_KEY ") || contains(both, "CONFIDE_TOKEN_KEY,"))
        << both;
    EXPECT_TRUE(contains(both, "CONFIDE_TOKEN_KEYS")) << both;
    EXPECT_FALSE(contains(both, "secret")) << both;
    // Unless one of them is empty, which means unset, or a flag decides.
    EXPECT_EQ(
        parse({}, fake_env{{{"CONFIDE_TOKEN_KEY", key}, {"CONFIDE_TOKEN_KEYS", " , "}}}).token_keys,
        std::vector<std::string>{key});
    EXPECT_EQ(parse({"--token-key", key}, fake_env{{{"CONFIDE_TOKEN_KEY", "a:HS256:text:x"},
                                                    {"CONFIDE_TOKEN_KEYS", "b:HS256:text:y"}}})
                  .token_keys,
              std::vector<std::string>{key});
}

TEST(Config, OtherConfideVariablesAreIgnored) {
    // The CLI's variables may be set in the same shell.
    auto c = parse({}, fake_env{{{"CONFIDE_TOKEN_KEY", key},
                                 {"CONFIDE_TOKEN", "a.b.c"},
                                 {"CONFIDE_DEV_SECRET", "s"},
                                 {"CONFIDE_HELP", "1"}}});
    EXPECT_FALSE(c.help_requested);
    EXPECT_EQ(c.token_keys, std::vector<std::string>{key});
}

TEST(Config, ListenAddressesAreCheckedAsAddresses) {
    EXPECT_EQ(parse({"--token-key", key, "--listen", "[::ffff:10.0.0.1]:80"}).listen_address,
              "::ffff:10.0.0.1");
    EXPECT_EQ(parse({"--token-key", key, "--listen", "localhost:80"}).listen_address, "127.0.0.1");
    for (const char* bad :
         {"[::1::2]:80", "256.0.0.1:80", "[12345::]:80", "[1.2.3.4]:80x", "1.2.3:80", "[::g]:80"}) {
        EXPECT_TRUE(contains(error_of({"--token-key", key, "--listen", bad}), "--listen")) << bad;
    }
}

TEST(Config, DomainOptionsParse) {
    auto c = parse({"--token-key", key, "--token-leeway-s", "0", "--stalled-reader-timeout-ms",
                    "1500", "--request-rate", "5", "--request-burst", "7", "--inbox-max-events",
                    "5000", "--sent-record-ttl-s", "3600"});
    EXPECT_EQ(c.token_leeway, 0s);
    EXPECT_EQ(c.stalled_reader_timeout, 1500ms);
    EXPECT_EQ(c.request_rate, 5.0);
    EXPECT_EQ(c.request_burst, 7u);
    EXPECT_EQ(c.inbox_max_events, 5000u);
    EXPECT_EQ(c.sent_record_ttl, 3600s);
    EXPECT_FALSE(error_of({"--token-key", key, "--token-leeway-s", "3601"}).empty());
    EXPECT_FALSE(error_of({"--token-key", key, "--inbox-max-events", "5"}).empty());
}

}  // namespace
}  // namespace confide::app

namespace confide::app {
namespace {

TEST(Config, OperationsOptions) {
    auto d = parse({"--token-key", key});
    EXPECT_EQ(d.drain_delay, 0ms);
    EXPECT_EQ(d.redis_startup_timeout, 15000ms);
    EXPECT_EQ(d.log_format, "text");
    EXPECT_TRUE(d.tls_cert.empty() && d.tls_key.empty());

    auto c = parse({"--token-key", key, "--drain-delay-ms", "5000", "--tls-cert", "/etc/c.pem",
                    "--tls-key", "/etc/k.pem", "--log-format", "json", "--redis-startup-timeout-ms",
                    "3000"});
    EXPECT_EQ(c.drain_delay, 5000ms);
    EXPECT_EQ(c.tls_cert, "/etc/c.pem");
    EXPECT_EQ(c.tls_key, "/etc/k.pem");
    EXPECT_EQ(c.log_format, "json");
    EXPECT_EQ(c.redis_startup_timeout, 3000ms);
    EXPECT_TRUE(contains(describe(c), "tls_cert=/etc/c.pem"));
    EXPECT_TRUE(contains(describe(c), "drain_delay_ms=5000"));

    auto e = parse({}, fake_env{{{"CONFIDE_TOKEN_KEY", key},
                                 {"CONFIDE_TLS_CERT", "/c"},
                                 {"CONFIDE_TLS_KEY", "/k"},
                                 {"CONFIDE_DRAIN_DELAY_MS", "0"}}});
    EXPECT_EQ(e.tls_cert, "/c");
    EXPECT_EQ(e.drain_delay, 0ms);
}

TEST(Config, OperationsOptionsRefuseBadValues) {
    EXPECT_TRUE(contains(error_of({"--token-key", key, "--tls-cert", "/c.pem"}), "--tls-key"));
    EXPECT_TRUE(contains(error_of({"--token-key", key, "--tls-key", "/k.pem"}), "--tls-cert"));
    EXPECT_TRUE(contains(error_of({"--token-key", key, "--log-format", "xml"}), "--log-format"));
    EXPECT_TRUE(
        contains(error_of({"--token-key", key, "--drain-delay-ms", "-1"}), "--drain-delay-ms"));
    EXPECT_TRUE(contains(error_of({"--token-key", key, "--redis-startup-timeout-ms", "0"}),
                         "--redis-startup-timeout-ms"));
}

TEST(Config, RedisClusterSeedsExclusiveWithRedis) {
    const std::string tk = "--token-key=k:HS256:text:x";
    auto c = parse({tk, "--redis-cluster=127.0.0.1:7000,10.0.0.2:7001"});
    ASSERT_EQ(c.redis_cluster.size(), 2u);
    EXPECT_EQ(c.redis_cluster[0], (std::pair<std::string, std::uint16_t>{"127.0.0.1", 7000}));
    EXPECT_EQ(c.redis_cluster[1], (std::pair<std::string, std::uint16_t>{"10.0.0.2", 7001}));
    auto repeated = parse({tk, "--redis-cluster", "a:1", "--redis-cluster", "b:2"});
    EXPECT_EQ(repeated.redis_cluster.size(), 2u);
    auto from_env = parse({tk}, fake_env{{{"CONFIDE_REDIS_CLUSTER", "h:7000,h:7001,h:7002"}}});
    EXPECT_EQ(from_env.redis_cluster.size(), 3u);
    EXPECT_TRUE(parse({tk}).redis_cluster.empty());

    EXPECT_TRUE(contains(error_of({tk, "--redis=h:6379", "--redis-cluster=h:7000"}),
                         "--redis-cluster: contradicts --redis"));
    EXPECT_TRUE(contains(error_of({tk, "--redis-cluster=h"}), "--redis-cluster"));
    EXPECT_TRUE(contains(error_of({tk, "--redis-cluster=h:0"}), "--redis-cluster"));
    EXPECT_TRUE(contains(usage_text(), "--redis-cluster"));
}

TEST(Config, AckAfterReplicasWaitsBelowTheCommandDeadline) {
    const std::string tk = "--token-key=k:HS256:text:x";
    const auto off = parse({tk});
    EXPECT_EQ(off.ack_after_replicas, 0u);
    EXPECT_EQ(off.ack_after_replicas_timeout, 200ms);
    // Off: a short command deadline is not refused for a timeout nobody waits for.
    EXPECT_EQ(parse({tk, "--redis-timeout-ms=100"}).ack_after_replicas, 0u);

    const auto on = parse({tk, "--ack-after-replicas=1", "--ack-after-replicas-timeout-ms=50"});
    EXPECT_EQ(on.ack_after_replicas, 1u);
    EXPECT_EQ(on.ack_after_replicas_timeout, 50ms);
    EXPECT_TRUE(contains(describe(on), "ack_after_replicas=1 within 50 ms"));
    EXPECT_EQ(parse({tk}, fake_env{{{"CONFIDE_ACK_AFTER_REPLICAS", "2"}}}).ack_after_replicas, 2u);

    // WAIT blocks its connection: at the command deadline the connection would be failed.
    EXPECT_TRUE(contains(error_of({tk, "--ack-after-replicas=1", "--redis-timeout-ms=200"}),
                         "--ack-after-replicas-timeout-ms"));
    EXPECT_TRUE(contains(error_of({tk, "--ack-after-replicas=-1"}), "--ack-after-replicas"));
    EXPECT_TRUE(contains(error_of({tk, "--ack-after-replicas=1000"}), "--ack-after-replicas"));
    EXPECT_TRUE(
        contains(error_of({tk, "--ack-after-replicas-timeout-ms=0"}), "--ack-after-replicas"));
    EXPECT_TRUE(contains(usage_text(), "--ack-after-replicas-timeout-ms"));
}

}  // namespace
}  // namespace confide::app
