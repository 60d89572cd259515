// Nanoseconds of CPU per operation of the crypto layer, on one thread (the thread's CPU time, so
// that other processes on a shared machine count less than they would in wall-clock time):
//
//   build/release/bench/crypto/confide-crypto-bench [--iterations N] [--body-bytes B]
//
// Each operation's result is checked (a sealed record must open to the same body), so a short
// run doubles as a test. Exit status 0 when every check held.

#include "crypto/data_key.hpp"
#include "crypto/fingerprint.hpp"
#include "crypto/key_ring.hpp"
#include "crypto/record.hpp"

#include <ctime>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace confide::crypto;

std::int64_t thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

template <class F>
double ns_per_op(long iterations, F&& f) {
    const auto start = thread_cpu_ns();
    for (long i = 0; i < iterations; ++i) {
        if (!f(i)) {
            std::fprintf(stderr, "check failed at iteration %ld\n", i);
            std::exit(1);  // NOLINT(concurrency-mt-unsafe): the benchmark runs one thread
        }
    }
    return static_cast<double>(thread_cpu_ns() - start) / static_cast<double>(iterations);
}

}  // namespace

int main(int argc, char** argv) {
    long iterations = 1'000'000;
    std::size_t body_bytes = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--iterations") {
            iterations = std::strtol(argv[i + 1], nullptr, 10);
        } else if (flag == "--body-bytes") {
            body_bytes = std::strtoul(argv[i + 1], nullptr, 10);
        } else {
            std::fprintf(stderr, "usage: %s [--iterations N] [--body-bytes B]\n", argv[0]);
            return 2;
        }
    }
    if (iterations <= 0) {
        return 2;
    }
    const auto ring = kek_ring::parse(kek_ring::generate_text("bench"), "generated");
    const auto key = generate_data_key("1");
    if (!key) {
        return 1;
    }
    const std::string body(body_bytes, 'm');
    const std::string conversation = "8f14e45fceea167a5a36dedd4bea2543";
    const std::string sender = "client-4711";

    std::vector<std::string> records(64);
    const double seal_ns = ns_per_op(iterations, [&](long i) {
        auto r =
            seal_record(*key, {conversation, static_cast<std::uint64_t>(i % 64), sender}, body);
        if (!r) {
            return false;
        }
        records[static_cast<std::size_t>(i % 64)] = std::move(*r);
        return true;
    });
    const double open_ns = ns_per_op(iterations, [&](long i) {
        const auto seq = static_cast<std::uint64_t>(i % 64);
        auto r = open_record(*key, {conversation, seq, sender}, records[seq]);
        return r && *r == body;
    });
    const fingerprinter fp(ring.fingerprint_key());
    const double fingerprint_ns = ns_per_op(iterations, [&](long) {
        auto r = fp({conversation, body});
        return r && r->size() == 32;
    });
    const auto wrapped = wrap_data_key(ring, *key, conversation);
    const long key_iterations = std::max(1L, iterations / 10);
    const double unwrap_ns = ns_per_op(key_iterations, [&](long) {
        auto r = unwrap_data_key(ring, *wrapped, conversation);
        return r && r->secret.equals(key->secret);
    });
    const double generate_wrap_ns = ns_per_op(key_iterations, [&](long) {
        auto k = generate_data_key("1");
        return k && wrap_data_key(ring, *k, conversation);
    });

    std::printf("body %zu bytes, %ld iterations (key operations: %ld)\n", body_bytes, iterations,
                key_iterations);
    std::printf("seal_record        %8.0f ns/op\n", seal_ns);
    std::printf("open_record        %8.0f ns/op\n", open_ns);
    std::printf("fingerprint        %8.0f ns/op\n", fingerprint_ns);
    std::printf("unwrap_data_key    %8.0f ns/op\n", unwrap_ns);
    std::printf("generate+wrap key  %8.0f ns/op\n", generate_wrap_ns);
    return 0;
}
