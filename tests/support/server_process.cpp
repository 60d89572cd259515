#include "support/server_process.hpp"

#include "confide/dev_token.hpp"
#include "crypto/key_ring.hpp"
#include "support/local.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace confide::test {

const std::string& test_secret() {
    static const std::string s = "integration-test-secret-of-at-least-32-bytes";
    return s;
}

std::string mint(const std::string& user, auth::role r, std::chrono::seconds ttl) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    dev_token::claims c;
    c.sub = user;
    c.role = auth::to_string(r);
    c.iat = now;
    c.exp = now + ttl.count();
    return dev_token::mint("test", test_secret(), "HS256", c);
}

const char* server_binary() {
#ifdef CONFIDE_SERVER_PATH
    return CONFIDE_SERVER_PATH;
#else
    throw std::runtime_error("this test needs confide-server, which is not part of this build");
#endif
}

const char* admin_binary() {
#ifdef CONFIDE_ADMIN_PATH
    return CONFIDE_ADMIN_PATH;
#else
    throw std::runtime_error("this test needs confide-admin, which is not part of this build");
#endif
}

std::string admin_result::text() const {
    std::string out;
    for (const auto& l : lines) {
        out += l;
        out += '\n';
    }
    return out;
}

namespace {

// confide-admin with `argv` (where Redis is, then the command), to its end.
admin_result run_admin_process(std::vector<std::string> argv) {
    child_process::options opts;
    opts.name = "admin";
    child_process p(admin_binary(), std::move(argv), std::move(opts));
    admin_result r;
    r.status = p.wait_exit(std::chrono::seconds(30)).value_or(-1);
    // Both pipes are closed once it exited and was reaped: every line is in.
    p.wait_for_line([](std::string_view) { return false; }, std::chrono::seconds(5));
    r.lines = p.lines();
    return r;
}

}  // namespace

admin_result run_admin(const redis_server& redis, std::vector<std::string> args) {
    std::vector<std::string> argv{"--redis", redis.host() + ":" + std::to_string(redis.port())};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_admin_process(std::move(argv));
}

admin_result run_admin(const redis_cluster& cluster, std::vector<std::string> args) {
    std::string nodes;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
        nodes += (i == 0 ? "" : ",") + cluster.address(i);
    }
    std::vector<std::string> argv{"--redis-cluster", nodes};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_admin_process(std::move(argv));
}

namespace {

// list_specialist() on one Redis or on a cluster: the same confide-admin command.
template <class Redis>
void list_specialist_on(const Redis& redis, const std::string& id, std::vector<std::string> extra) {
    std::vector<std::string> args{"directory", "add", id};
    if (std::find(extra.begin(), extra.end(), "--name") == extra.end()) {
        args.insert(args.end(), {"--name", id});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_admin(redis, std::move(args));
    if (r.status != 0) {
        throw std::runtime_error("confide-admin could not list " + id + ": " + r.text());
    }
}

}  // namespace

void list_specialist(const redis_server& redis, const std::string& id,
                     std::vector<std::string> extra) {
    list_specialist_on(redis, id, std::move(extra));
}

void list_specialist(const redis_cluster& cluster, const std::string& id,
                     std::vector<std::string> extra) {
    list_specialist_on(cluster, id, std::move(extra));
}

namespace {

bool given_flag(const std::vector<std::string>& args, const std::string& flag) {
    return std::find(args.begin(), args.end(), flag) != args.end();
}

}  // namespace

const std::string& test_data_key_file() {
    static const temp_dir dir("confide-keys");
    static const std::string path = [] {
        const auto file = dir.path() / "data.keys";
        std::ofstream(file) << crypto::kek_ring::generate_text("test");
        std::filesystem::permissions(
            file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        return file.string();
    }();
    return path;
}

namespace {

std::vector<std::string> server_args_with(std::string flag, std::string address,
                                          const std::string& log_level) {
    std::vector<std::string> args{
        std::move(flag), std::move(address), "--token-key",     "test:HS256:text:" + test_secret(),
        "--log-level",   log_level,          "--data-key-file", test_data_key_file()};
    // The ThreadSanitizer pass sets this (CMakePresets.json, test preset "tsan"), so that every
    // server under test runs several I/O threads whatever the machine's core count.
    if (const char* n = std::getenv("CONFIDE_TEST_IO_THREADS"); n != nullptr && *n != '\0') {
        args.emplace_back("--io-threads");
        args.emplace_back(n);
    }
    return args;
}

}  // namespace

std::vector<std::string> server_args(const redis_server& redis, const std::string& log_level) {
    return server_args_with("--redis", redis.host() + ":" + std::to_string(redis.port()),
                            log_level);
}

std::vector<std::string> server_args(const redis_cluster& cluster, const std::string& log_level) {
    std::string seeds;
    for (const auto i : cluster.masters()) {
        seeds += (seeds.empty() ? "" : ",") + cluster.address(i);
    }
    return server_args_with("--redis-cluster", seeds, log_level);
}

server_process::server_process(const redis_server& redis, std::vector<std::string> extra_args,
                               std::string name) {
    child_process::options opts;
    opts.name = std::move(name);
    start(server_args(redis), std::move(extra_args), std::move(opts));
}

server_process::server_process(const redis_cluster& cluster, std::vector<std::string> extra_args,
                               std::string name,
                               std::vector<std::pair<std::string, std::string>> env) {
    child_process::options opts;
    opts.name = std::move(name);
    opts.env = std::move(env);
    start(server_args(cluster), std::move(extra_args), std::move(opts));
}

void server_process::start(std::vector<std::string> defaults, std::vector<std::string> extra_args,
                           child_process::options opts) {
    std::vector<std::string> args{"--listen", "127.0.0.1:0"};
    // A default the extra arguments give otherwise is left out (an option given twice is an
    // error): --log-level, --data-key-file (also left out for --allow-plaintext-storage).
    const auto given = [&](const std::string& flag) {
        return std::find(extra_args.begin(), extra_args.end(), flag) != extra_args.end() ||
               (flag == "--data-key-file" && given_flag(extra_args, "--allow-plaintext-storage"));
    };
    for (std::size_t i = 0; i < defaults.size(); ++i) {
        if ((defaults[i] == "--log-level" || defaults[i] == "--data-key-file") &&
            given(defaults[i])) {
            ++i;
            continue;
        }
        args.push_back(defaults[i]);
    }
    for (auto& a : extra_args) {
        args.push_back(std::move(a));
    }
    process_ = std::make_unique<child_process>(server_binary(), std::move(args), std::move(opts));
    static const std::regex listening(R"(^listening on [0-9.]+:([0-9]+)$)");
    auto line = process_->wait_for_line(listening, std::chrono::seconds(30));
    if (!line) {
        throw std::runtime_error("confide-server did not start (no 'listening on' line)");
    }
    std::smatch m;
    std::regex_search(*line, m, listening);
    port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

server_process::~server_process() {
    if (process_ && !process_->exited()) {
        process_->terminate(std::chrono::seconds(10));
    }
}

std::unique_ptr<ws_client> server_process::connect(ws_client::options opts) const {
    opts.port = port_;
    return std::make_unique<ws_client>(std::move(opts));
}

std::optional<int> server_process::stop(std::chrono::milliseconds timeout) {
    return process_->terminate(timeout);
}

}  // namespace confide::test
