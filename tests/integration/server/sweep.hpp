#pragma once
// What the privacy tests look through (storage_test.cpp, keys_test.cpp, erasure_test.cpp):
// every Redis key of every type, every file of Redis's data directory, and key files.

#include "crypto/key_ring.hpp"
#include "support/local.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace confide::test {

// Every key's content, each type read with its own command, as Redis renders it.
inline std::string dump_every_key(const redis_server& redis) {
    std::string all;
    std::string cursor = "0";
    do {
        const auto reply = redis.query({"SCAN", cursor, "COUNT", "1000"});
        const redisReply* r = reply.get();
        cursor = std::string(r->element[0]->str, r->element[0]->len);
        for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
            const std::string key(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
            const auto type = redis.command({"TYPE", key});
            all += key + " " + type + " ";
            if (type == "string") {
                all += redis.command({"GET", key});
            } else if (type == "hash") {
                all += redis.command({"HGETALL", key});
            } else if (type == "stream") {
                all += redis.command({"XRANGE", key, "-", "+"});
            } else if (type == "list") {
                all += redis.command({"LRANGE", key, "0", "-1"});
            } else if (type == "set") {
                all += redis.command({"SMEMBERS", key});
            } else if (type == "zset") {
                all += redis.command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
            } else {
                ADD_FAILURE() << "a key of an unexpected type: " << key << " " << type;
            }
            all += "\n";
        }
    } while (cursor != "0");
    return all;
}

// The bytes of every file under `dir`, recursively.
inline std::string read_files(const std::filesystem::path& dir) {
    std::string all;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) {
            std::ifstream in(e.path(), std::ios::binary);
            all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
    }
    return all;
}

// A new key file (chmod 600) in `dir` whose key-encryption key is named `id`.
inline std::string key_file(const temp_dir& dir, const std::string& name, const std::string& id) {
    const auto path = dir.path() / name;
    std::ofstream(path) << crypto::kek_ring::generate_text(id);
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path.string();
}

// Starts a server against `redis` with server_args() but its key file, and `extra`, and expects
// it to refuse to start, saying `words`.
inline void refused_to_start(const redis_server& redis, const std::vector<std::string>& extra,
                             const std::string& words) {
    std::vector<std::string> args{"--listen", "127.0.0.1:0"};
    const auto defaults = server_args(redis);
    for (std::size_t i = 0; i < defaults.size(); ++i) {
        if (defaults[i] == "--data-key-file") {
            ++i;
            continue;
        }
        args.push_back(defaults[i]);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    child_process p(server_binary(), args);
    const auto code = p.wait_exit(std::chrono::seconds(20));
    ASSERT_TRUE(code);
    EXPECT_NE(*code, 0);
    EXPECT_TRUE(
        p.wait_for_line([&](std::string_view l) { return l.find(words) != std::string_view::npos; },
                        std::chrono::seconds(10)))
        << "the refusal should say: " << words;
}

// Every conversation hash's wrapped data key, by conversation id.
inline std::map<std::string, std::string> wrapped_data_keys(const redis_server& redis) {
    std::map<std::string, std::string> out;
    std::string cursor = "0";
    do {
        const auto reply = redis.query({"SCAN", cursor, "MATCH", "cf:c:{*}", "TYPE", "hash"});
        const redisReply* r = reply.get();
        cursor = std::string(r->element[0]->str, r->element[0]->len);
        for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
            const std::string key(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
            const auto dk = redis.command({"HGET", key, "dk"});
            if (dk != "(nil)") {
                out[key.substr(6, key.size() - 7)] = dk;
            }
        }
    } while (cursor != "0");
    return out;
}

}  // namespace confide::test
