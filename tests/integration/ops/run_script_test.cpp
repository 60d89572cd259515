// scripts/run.sh as a developer uses it: two instances side by side (each with its own Redis
// data and logs), stopped with Ctrl-C (SIGINT to the whole process group, as a terminal sends
// it), started again: nothing acked is lost, nothing leaks from one instance to the other, and a
// second run.sh on an instance that is running is refused. And the README's scriptable examples,
// run as written against a run.sh instance.

#include "ops_harness.hpp"
#include "support/local.hpp"

#include <csignal>
#include <fstream>
#include <regex>

namespace confide::test {
namespace {

const std::string run_dir_prefix = "confide-run";

class run_script : public ::testing::Test {
protected:
    run_script() : root_(run_dir_prefix) {}

    // Starts run.sh --no-build for server port `port` (its Redis on `port` + 10000); waits for
    // its banner.
    std::unique_ptr<child_process> start(std::uint16_t port, std::uint16_t redis_port) {
        child_process::options o;
        o.name = "run.sh:" + std::to_string(port);
        o.env = {{"CONFIDE_RUN_PORT", std::to_string(port)},
                 {"CONFIDE_RUN_REDIS_PORT", std::to_string(redis_port)},
                 {"CONFIDE_RUN_DIR", root_.path().string()},
                 {"CONFIDE_RUN_BUILD_DIR", CONFIDE_BUILD_DIR}};
        auto p = std::make_unique<child_process>(
            "bash", std::vector<std::string>{CONFIDE_RUN_SCRIPT, "--no-build"}, std::move(o));
        const auto banner = p->wait_for_line(std::regex("^Confide is running"), 60s);
        EXPECT_TRUE(banner) << "run.sh did not start";
        return p;
    }

    // Ctrl-C in the terminal: SIGINT to run.sh's whole process group. Its exit status.
    static std::optional<int> interrupt(child_process& p) {
        ::kill(-p.pid(), SIGINT);
        return p.wait_exit(60s);
    }

    std::string secret() const {
        std::ifstream in(root_ / "dev-secret");
        std::string s;
        in >> s;
        return s;
    }

    // Runs confide-cli with the development secret in its environment; its exit code and output.
    tool_result cli(std::vector<std::string> args) const {
        child_process::options o;
        o.name = "cli";
        o.env = {{"CONFIDE_DEV_SECRET", secret()}};
        child_process p(CONFIDE_CLI_PATH, std::move(args), std::move(o));
        tool_result r;
        r.code = p.wait_exit(60s).value_or(-1);
        p.wait_for_line([](std::string_view) { return false; }, 2s);
        for (const auto& l : p.lines()) {
            r.output += l + "\n";
        }
        return r;
    }

    std::string token(const std::string& user, const std::string& role) const {
        auto r = cli({"token", "--user", user, "--role", role});
        EXPECT_EQ(r.code, 0) << r.output;
        return r.output.substr(0, r.output.find('\n'));
    }

    // What `user`'s first device on the instance on `port` receives (every event kept for them).
    std::string first_device_events(std::uint16_t port, const std::string& user) const {
        auto r = cli({"listen", "--url", "ws://127.0.0.1:" + std::to_string(port) + "/", "--token",
                      token(user, "specialist"), "--device", "first", "--count", "2", "--timeout",
                      "20"});
        EXPECT_EQ(r.code, 0) << r.output;
        return r.output;
    }

    std::string file(std::uint16_t port, const std::string& name) const {
        std::ifstream in(root_ / std::to_string(port) / name);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    temp_dir root_;
};

// The lines between `begin` and `end` in `path`, without the ``` fences.
std::string block_between(const std::string& path, const std::string& begin,
                          const std::string& end) {
    std::ifstream in(path);
    std::string line, out;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.find(end) != std::string::npos) {
            break;
        }
        if (inside && line.rfind("```", 0) != 0) {
            out += line + "\n";
        }
        inside = inside || line.find(begin) != std::string::npos;
    }
    return out;
}

TEST_F(run_script, ReadmeScriptableExamplesRunAsWritten) {
    auto script =
        block_between(CONFIDE_README, "<!-- scriptable:begin -->", "<!-- scriptable:end -->");
    ASSERT_NE(script.find("confide-cli send"), std::string::npos) << "no example in the README";
    // As written, but on free ports (8080 may be taken on a test machine), from a directory laid
    // out as a checkout with a release build and run.sh's default run directory.
    const auto port = free_port();
    for (std::size_t at = 0; (at = script.find("127.0.0.1:8080", at)) != std::string::npos;) {
        script.replace(at, 14, "127.0.0.1:" + std::to_string(port));
    }
    temp_dir checkout("confide-readme");
    std::filesystem::create_directories(checkout / "build/release");
    std::filesystem::create_directory_symlink(std::filesystem::path(CONFIDE_BUILD_DIR) / "clients",
                                              checkout / "build/release/clients");
    std::filesystem::create_directory_symlink(root_.path(), checkout / "build/release/run");
    auto instance = start(port, free_port());
    ASSERT_TRUE(instance);

    child_process::options o;
    o.name = "readme";
    child_process sh("bash",
                     {"-euo", "pipefail", "-c", "cd '" + checkout.path().string() + "'\n" + script},
                     std::move(o));
    EXPECT_EQ(sh.wait_exit(60s), std::optional<int>(0));
    // The specialist's listen printed the message as a JSON line.
    EXPECT_TRUE(sh.wait_for_line(std::regex(R"(^\{.*"hello")"), 5s));
    // run.sh lists its second demo specialist too: an inquiry to an unlisted id is refused
    // (NOT_FOUND), so this one going out shows dr.ana is in the directory.
    const auto to_ana =
        cli({"send", "--url", "ws://127.0.0.1:" + std::to_string(port) + "/", "--token",
             token("carol", "client"), "--to-specialist", "dr.ana", "--text", "hello Ana"});
    EXPECT_EQ(to_ana.code, 0) << to_ana.output;
    EXPECT_EQ(interrupt(*instance), std::optional<int>(0));
}

TEST_F(run_script, TwoInstancesSideBySideKeepTheirDataApartAndStopCleanly) {
    const auto port_a = free_port(), port_b = free_port();
    const auto redis_a = free_port(), redis_b = free_port();
    auto a = start(port_a, redis_a);
    auto b = start(port_b, redis_b);
    ASSERT_TRUE(a && b);

    // The same instance again is refused, and does not touch the running one.
    {
        child_process::options o;
        o.name = "run.sh:again";
        o.env = {{"CONFIDE_RUN_PORT", std::to_string(port_a)},
                 {"CONFIDE_RUN_REDIS_PORT", std::to_string(free_port())},
                 {"CONFIDE_RUN_DIR", root_.path().string()},
                 {"CONFIDE_RUN_BUILD_DIR", CONFIDE_BUILD_DIR}};
        child_process again("bash", {CONFIDE_RUN_SCRIPT, "--no-build"}, std::move(o));
        EXPECT_EQ(again.wait_exit(30s), std::optional<int>(1));
        EXPECT_TRUE(again.wait_for_line(std::regex("is running already"), 5s));
    }

    const auto alice = token("alice", "client");
    for (const auto& [port, text] :
         {std::pair{port_a, "kept on A"}, std::pair{port_b, "kept on B"}}) {
        auto sent = cli({"send", "--url", "ws://127.0.0.1:" + std::to_string(port) + "/", "--token",
                         alice, "--to-specialist", "dr.bob", "--text", text});
        ASSERT_EQ(sent.code, 0) << sent.output;
    }

    // Ctrl-C: each stops its server first (a drain), then its Redis, each with one signal.
    EXPECT_EQ(interrupt(*a), std::optional<int>(0));
    EXPECT_EQ(interrupt(*b), std::optional<int>(0));
    for (auto port : {port_a, port_b}) {
        const auto server_log = file(port, "server.log");
        EXPECT_NE(server_log.find("all connections closed"), std::string::npos) << server_log;
        for (const char* redis_went : {"redis connection (", "redis subscriber ("}) {
            EXPECT_EQ(server_log.find(redis_went), std::string::npos)
                << "the server saw Redis go before it stopped:\n"
                << server_log;
        }
        const auto redis_log = file(port, "redis.log");
        EXPECT_NE(redis_log.find("Calling fsync() on the AOF file"), std::string::npos)
            << redis_log;
        EXPECT_NE(redis_log.find("ready to exit, bye bye"), std::string::npos) << redis_log;
        EXPECT_EQ(redis_log.find("You insist"), std::string::npos) << "Redis got a second signal:\n"
                                                                   << redis_log;
    }

    // Started again, A has its message and only its own.
    a = start(port_a, redis_a);
    const auto events = first_device_events(port_a, "dr.bob");
    EXPECT_NE(events.find("kept on A"), std::string::npos) << events;
    EXPECT_EQ(events.find("kept on B"), std::string::npos) << events;
    EXPECT_EQ(interrupt(*a), std::optional<int>(0));
}

}  // namespace
}  // namespace confide::test
