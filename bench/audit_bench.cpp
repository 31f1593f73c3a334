// The access log's figures (targets from the audit issue):
//   appends/s sustained with one fsync per group (>= 50,000), with many requests in flight;
//   inclusion and consistency proof time in a 10-million-entry tree (< 1 ms);
//   `serambi audit verify` of a 1-million-entry export (< 3 s).
// Usage: serambi_audit_bench [SERAMBI_BINARY]   (without it, verify is timed in-process)
// Environment: AUDIT_BENCH_TREE (entries in the proof tree, default 10000000),
//              AUDIT_BENCH_VERIFY (entries in the export, default 1000000),
//              AUDIT_BENCH_DIR (default /tmp), AUDIT_BENCH_SECONDS (append run, default 5).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/tlog.h"
#include "storage/store.h"

using namespace serambi;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// An entry of the size and shape the gateway writes (about 420 bytes).
std::string entry(std::uint64_t n) {
    return "{\"action\":\"package.pull\",\"bytes_in\":0,\"bytes_out\":1073741824,\"cert_serial\":"
           "\"5C1E0F36A1B2C3D4E5F60718293A4B5C\",\"classification\":\"terbatas\",\"decision\":\"allow\","
           "\"method\":\"GET\",\"principal\":\"dinkes-malut\",\"reason\":\"the policy lets the caller read "
           "terbatas data of this dataset\",\"remote\":\"10.20.30.40:51234\",\"request_id\":\"" +
           std::to_string(1000000000000ULL + n) +
           "\",\"resource\":\"packages/0123456789abcdef0123456789abcdef\","
           "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"status\":200,"
           "\"time\":\"2026-11-25T10:00:00Z\"}";
}

std::unique_ptr<storage::Store> fresh_store(const fs::path& dir, const crypto::SecretKey& key) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto store = storage::Store::open({dir / "serambi.db", dir / "blobs", crypto::Aead::aes_256_gcm, true}, key);
    if (!store) {
        std::fprintf(stderr, "cannot open a store in %s: %s\n", dir.c_str(), store.error().message.c_str());
        std::exit(1);
    }
    return std::move(store).value();
}

}  // namespace

int main(int argc, char** argv) {
    if (!crypto::initialise()) return 1;
    const fs::path base = fs::path(std::getenv("AUDIT_BENCH_DIR") ? std::getenv("AUDIT_BENCH_DIR") : "/tmp") /
                          ("serambi-audit-bench-" + crypto::random_hex(4));
    const auto key = crypto::SecretKey::random();
    const std::uint64_t tree_size = env_number("AUDIT_BENCH_TREE", 10000000);
    const std::uint64_t verify_size = env_number("AUDIT_BENCH_VERIFY", 1000000);
    const double append_seconds = static_cast<double>(env_number("AUDIT_BENCH_SECONDS", 5));

    // ---- 1. Appends: requests in flight at once, each waiting (without a thread, as in the
    //         gateway) until its entry is durable; one fsync per group.
    {
        auto store = fresh_store(base / "append", key);
        for (const unsigned in_flight : {1u, 64u, 1024u}) {
            std::mutex m;
            std::condition_variable cv;
            unsigned outstanding = 0;
            std::uint64_t done = 0, submitted = 0;
            bool failed = false;
            const auto start = Clock::now();
            while (seconds_since(start) < append_seconds) {
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return outstanding < in_flight; });
                ++outstanding;
                lock.unlock();
                store->log().append_async({entry(submitted++)}, [&](serambi::Result<std::uint64_t> r) {
                    std::lock_guard inner(m);
                    if (!r) failed = true;
                    --outstanding;
                    ++done;
                    cv.notify_all();
                });
            }
            store->log().flush();
            const double s = seconds_since(start);
            std::printf("appends, %4u in flight:   %9.0f appends/s (%llu in %.1f s)%s\n", in_flight,
                        static_cast<double>(done) / s, static_cast<unsigned long long>(done), s,
                        failed ? "  SOME FAILED" : "");
            std::printf("RESULT audit_appends_per_s_%u_in_flight=%.0f\n", in_flight, static_cast<double>(done) / s);
        }
    }

    // ---- 2. Proofs in a large tree.
    {
        auto store = fresh_store(base / "tree", key);
        const auto start = Clock::now();
        constexpr std::uint64_t kBatch = 100000;
        for (std::uint64_t at = 0; at < tree_size; at += kBatch) {
            std::vector<std::string> batch;
            for (std::uint64_t i = at; i < std::min(tree_size, at + kBatch); ++i) batch.push_back(entry(i));
            if (!store->log().append(std::move(batch))) {
                std::fprintf(stderr, "building the tree failed\n");
                return 1;
            }
        }
        std::printf("built a tree of %llu entries in %.1f s (%.0f appends/s in batches of %llu)\n",
                    static_cast<unsigned long long>(tree_size), seconds_since(start),
                    static_cast<double>(tree_size) / seconds_since(start), static_cast<unsigned long long>(kBatch));
        auto head = store->log().head();
        if (!head) return 1;
        std::mt19937_64 random(42);
        std::vector<double> inclusion, consistency;
        for (int i = 0; i < 2000; ++i) {
            const std::uint64_t index = random() % tree_size;
            auto t0 = Clock::now();
            auto proof = store->log().inclusion(index, tree_size);
            inclusion.push_back(seconds_since(t0) * 1e6);
            if (!proof ||
                !crypto::tlog::verify_inclusion(
                    index, tree_size, crypto::tlog::leaf_hash(crypto::as_bytes(entry(index))), *proof, head->root)) {
                std::fprintf(stderr, "an inclusion proof did not verify\n");
                return 1;
            }
            const std::uint64_t old_size = 1 + random() % (tree_size - 1);
            t0 = Clock::now();
            auto cproof = store->log().consistency(old_size, tree_size);
            consistency.push_back(seconds_since(t0) * 1e6);
            if (!cproof) return 1;
        }
        for (auto* v : {&inclusion, &consistency}) std::sort(v->begin(), v->end());
        auto report = [&](const char* name, const std::vector<double>& v) {
            std::printf("%s proof, tree of %llu: median %.0f us, p99 %.0f us, max %.0f us\n", name,
                        static_cast<unsigned long long>(tree_size), v[v.size() / 2], v[v.size() * 99 / 100], v.back());
            std::printf("RESULT audit_%s_proof_median_us=%.0f\nRESULT audit_%s_proof_p99_us=%.0f\n", name,
                        v[v.size() / 2], name, v[v.size() * 99 / 100]);
        };
        report("inclusion", inclusion);
        report("consistency", consistency);
    }

    // ---- 3. Verifying an export, as an auditor would, with the CLI when given.
    {
        const fs::path dir = base / "verify";
        fs::create_directories(dir);
        crypto::tlog::TreeBuilder tree;
        {
            std::ofstream out(dir / "log.jsonl", std::ios::binary);
            for (std::uint64_t i = 0; i < verify_size; ++i) {
                const auto e = entry(i);
                out << e << '\n';
                tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(e)));
            }
        }
        auto signer = crypto::tlog::NoteSigner::generate("bench.local/log").value();
        std::ofstream(dir / "log.checkpoint")
            << signer.sign(crypto::tlog::checkpoint_body({"bench.local/log", tree.size(), tree.root()}));
        std::ofstream(dir / "log.vkey") << signer.verifier_key() << "\n";
        const auto size_mb = static_cast<double>(fs::file_size(dir / "log.jsonl")) / 1e6;
        double best = 1e9;
        for (int round = 0; round < 3; ++round) {
            const auto start = Clock::now();
            if (argc > 1) {
                const std::string command =
                    std::string(argv[1]) + " audit verify --export " + (dir / "log.jsonl").string() + " --checkpoint " +
                    (dir / "log.checkpoint").string() + " --key " + (dir / "log.vkey").string() + " >/dev/null";
                if (std::system(command.c_str()) != 0) {
                    std::fprintf(stderr, "serambi audit verify refused a good export\n");
                    return 1;
                }
            } else {
                crypto::tlog::TreeBuilder again;
                std::ifstream in(dir / "log.jsonl", std::ios::binary);
                for (std::string line; std::getline(in, line);)
                    again.add(crypto::tlog::leaf_hash(crypto::as_bytes(line)));
                if (again.root() != tree.root()) return 1;
            }
            best = std::min(best, seconds_since(start));
        }
        std::printf("verify of %llu exported entries (%.0f MB)%s: best of 3 %.2f s\n",
                    static_cast<unsigned long long>(verify_size), size_mb,
                    argc > 1 ? " with serambi audit verify" : " in-process", best);
        std::printf("RESULT audit_verify_seconds=%.2f\n", best);
    }
    fs::remove_all(base);
    return 0;
}
