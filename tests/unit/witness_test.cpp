// The witness's add-checkpoint check (C2SP tlog-witness), driven with a real log key, real trees
// and the real state file: every status the protocol names, and a restart from the state.
#include "witness/witness.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "storage/store.h"
#include "tests/unit/temp_dir.h"

using namespace serambi;
using namespace serambi::crypto::tlog;

namespace {

struct Log {
    NoteSigner signer = std::move(NoteSigner::generate("serambi.example/log").value());
    std::vector<std::string> entries;

    Hash root(std::uint64_t size) const {
        TreeBuilder t;
        for (std::uint64_t i = 0; i < size; ++i) t.add(leaf_hash(crypto::as_bytes(entries[i])));
        return t.root();
    }
    std::string checkpoint(std::uint64_t size) const {
        return signer.sign(checkpoint_body({signer.name(), size, root(size)}));
    }
    // RFC 9162 consistency proof, computed from the leaves (the reference definition).
    std::vector<Hash> consistency(std::uint64_t m, std::uint64_t n) const { return subproof(m, 0, n, true); }
    Hash range_root(std::uint64_t lo, std::uint64_t hi) const {
        TreeBuilder t;
        for (std::uint64_t i = lo; i < hi; ++i) t.add(leaf_hash(crypto::as_bytes(entries[i])));
        return t.root();
    }
    std::vector<Hash> subproof(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool whole) const {
        const std::uint64_t n = hi - lo;
        if (m == n) return whole ? std::vector<Hash>{} : std::vector<Hash>{range_root(lo, hi)};
        std::uint64_t k = 1;
        while (k * 2 < n) k *= 2;
        std::vector<Hash> out;
        if (m <= k) {
            out = subproof(m, lo, lo + k, whole);
            out.push_back(range_root(lo + k, hi));
        } else {
            out = subproof(m - k, lo + k, hi, false);
            out.push_back(range_root(lo, lo + k));
        }
        return out;
    }
};

std::string request(std::uint64_t old_size, const std::vector<Hash>& proof, const std::string& note) {
    std::string out = "old " + std::to_string(old_size) + "\n";
    for (const auto& h : proof) out += crypto::to_base64(h) + "\n";
    return out + "\n" + note;
}

}  // namespace

TEST_CASE("a witness cosigns only checkpoints that extend the last one it cosigned", "[witness]") {
    TempDir dir;
    Log log;
    for (int i = 0; i < 20; ++i) log.entries.push_back("entry " + std::to_string(i));
    REQUIRE(witness::init({dir.path, "witness.example/w", "127.0.0.1:7380", {log.signer.verifier_key()}}).ok());
    auto loaded = witness::load_config(dir.path / "witness.toml");
    REQUIRE(loaded.ok());
    REQUIRE(loaded->logs.size() == 1);
    auto w = witness::Witness::open(*loaded);
    REQUIRE(w.ok());
    auto& wit = **w;
    const auto wkey = wit.verifier_key();

    // First sight: old 0 and an empty proof; the answer is a cosignature line by its key.
    const auto cp5 = log.checkpoint(5);
    auto a = wit.add_checkpoint(request(0, {}, cp5));
    REQUIRE(a.status == 200);
    CHECK(verify_cosignature(cp5 + a.body, wkey).ok());
    CHECK(wit.cosigned_size(log.signer.name()) == 5);

    // An extension with a valid proof.
    const auto cp12 = log.checkpoint(12);
    a = wit.add_checkpoint(request(5, log.consistency(5, 12), cp12));
    REQUIRE(a.status == 200);
    CHECK(verify_cosignature(cp12 + a.body, wkey).ok());

    // A stale old size: 409, text/x.tlog.size, the size it cosigned.
    a = wit.add_checkpoint(request(5, log.consistency(5, 15), log.checkpoint(15)));
    CHECK(a.status == 409);
    CHECK(a.content_type == "text/x.tlog.size");
    CHECK(a.body == "12\n");

    // The same size again: cosigned again if the root is the same, 409 if not (a fork).
    CHECK(wit.add_checkpoint(request(12, {}, cp12)).status == 200);
    Log forked;
    forked.signer = std::move(NoteSigner::from_private(log.signer.private_text()).value());
    forked.entries = log.entries;
    forked.entries[3] = "rewritten";
    CHECK(wit.add_checkpoint(request(12, {}, forked.checkpoint(12))).status == 409);

    // A forked tree larger than the one seen: its consistency proof cannot verify: 422.
    a = wit.add_checkpoint(request(12, forked.consistency(12, 18), forked.checkpoint(18)));
    CHECK(a.status == 422);
    // Nor does an honest proof of the wrong sizes.
    CHECK(wit.add_checkpoint(request(12, log.consistency(11, 18), log.checkpoint(18))).status == 422);
    CHECK(wit.cosigned_size(log.signer.name()) == 12);

    // A signature by another key of the log's name: 403. An unknown origin: 404. Junk: 400.
    auto impostor = NoteSigner::generate(log.signer.name());
    REQUIRE(impostor.ok());
    CHECK(wit.add_checkpoint(request(12, {}, impostor->sign(checkpoint_body({log.signer.name(), 12, log.root(12)}))))
              .status == 403);
    auto other = NoteSigner::generate("other.example/log");
    REQUIRE(other.ok());
    CHECK(wit.add_checkpoint(request(0, {}, other->sign(checkpoint_body({"other.example/log", 1, log.root(1)}))))
              .status == 404);
    for (const std::string& junk :
         {std::string(""), std::string("old 1"), std::string("old x\n\n") + cp12, std::string("old 01\n\n") + cp12,
          std::string("old 13\n\n") + cp12, std::string("old 0\nAAAA\n\n") + cp5, std::string("old 12\n") + cp12,
          std::string(70000, 'a')}) {
        INFO("request: " << junk.substr(0, 40));
        CHECK(wit.add_checkpoint(junk).status == 400);
    }
    CHECK(wit.cosigned_size(log.signer.name()) == 12);

    // Refusals that may show misbehaviour are kept as evidence.
    std::ifstream evidence(dir.path / "evidence.log");
    std::string text((std::istreambuf_iterator<char>(evidence)), std::istreambuf_iterator<char>());
    CHECK(text.find("a fork") != std::string::npos);
    // Once per contradicting tree: a replay adds nothing.
    CHECK(wit.add_checkpoint(request(12, {}, forked.checkpoint(12))).status == 409);
    std::ifstream again_evidence(dir.path / "evidence.log");
    std::string text2((std::istreambuf_iterator<char>(again_evidence)), std::istreambuf_iterator<char>());
    CHECK(text2 == text);

    // Restarted from its state file, it remembers what it cosigned and keeps refusing the fork.
    auto again = witness::Witness::open(*loaded);
    REQUIRE(again.ok());
    CHECK((*again)->cosigned_size(log.signer.name()) == 12);
    CHECK((*again)->add_checkpoint(request(0, {}, forked.checkpoint(3))).status == 409);
    CHECK((*again)->add_checkpoint(request(12, forked.consistency(12, 18), forked.checkpoint(18))).status == 422);
    CHECK((*again)->add_checkpoint(request(12, log.consistency(12, 20), log.checkpoint(20))).status == 200);
}

TEST_CASE("a witness refuses to start on a damaged state file or a key others may read", "[witness]") {
    TempDir dir;
    Log log;
    REQUIRE(witness::init({dir.path, "witness.example/w", "127.0.0.1:7380", {log.signer.verifier_key()}}).ok());
    auto loaded = witness::load_config(dir.path / "witness.toml");
    REQUIRE(loaded.ok());
    REQUIRE(storage::write_new_file(dir.path / "witness.state", "{\"logs\":{\"x\":{\"size\":-1}}}", 0600).ok());
    auto damaged = witness::Witness::open(*loaded);
    REQUIRE_FALSE(damaged.ok());
    CHECK(damaged.error().message.find("damaged") != std::string::npos);
    std::filesystem::remove(dir.path / "witness.state");
    std::filesystem::permissions(dir.path / "witness.key", std::filesystem::perms::group_read,
                                 std::filesystem::perm_options::add);
    auto loose = witness::Witness::open(*loaded);
    REQUIRE_FALSE(loose.ok());
    CHECK(loose.error().message.find("chmod") != std::string::npos);

    // Configuration mistakes name the file and line.
    REQUIRE(
        storage::write_new_file(dir.path / "bad.toml", "[[log]]\norigin = \"a\"\nkey = \"not-a-key\"\n", 0644).ok());
    auto bad = witness::load_config(dir.path / "bad.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("bad.toml:") != std::string::npos);
    // A log key named by another origin is refused.
    REQUIRE(storage::write_new_file(
                dir.path / "other.toml",
                "[[log]]\norigin = \"a.example/log\"\nkey = \"" + log.signer.verifier_key() + "\"\n", 0644)
                .ok());
    CHECK_FALSE(witness::load_config(dir.path / "other.toml").ok());
    CHECK(witness::is_witness_url("http://127.0.0.1:7380"));
    CHECK(witness::is_witness_url("http://witness.example.go.id/tlog"));
    for (const char* url : {"https://x:1", "http://", "http://a:0", "http://a:99999", "http://u@a:1", "ftp://a",
                            "http://a b:1", "http://[::1"})
        CHECK_FALSE(witness::is_witness_url(url));
}
