#include "crypto/tlog.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

using namespace serambi;
using namespace serambi::crypto;
using namespace serambi::crypto::tlog;

namespace {

Hash hash_from_hex(std::string_view hex) {
    auto bytes = from_hex(hex);
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == 32);
    Hash h;
    std::copy(bytes->begin(), bytes->end(), h.begin());
    return h;
}

// The certificate-transparency known answers, as published in transparency-dev/merkle
// proof/verify_test.go (formerly google/certificate-transparency-go merkle tests): eight leaf
// entries and the tree heads of their first n = 1..8 entries.
const char* const kCtEntries[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};
const char* const kCtRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<Hash> ct_leaves() {
    std::vector<Hash> leaves;
    for (const std::string_view hex : kCtEntries) {
        if (hex.empty()) {  // from_hex("") hands libsodium a null buffer; the entry is just empty
            leaves.push_back(leaf_hash({}));
            continue;
        }
        auto entry = from_hex(hex);
        REQUIRE(entry.ok());
        leaves.push_back(leaf_hash(*entry));
    }
    return leaves;
}

// Distinct leaves for trees of any size.
std::vector<Hash> numbered_leaves(std::size_t n) {
    std::vector<Hash> leaves;
    for (std::size_t i = 0; i < n; ++i) leaves.push_back(leaf_hash(as_bytes("entry " + std::to_string(i))));
    return leaves;
}

// ---- A reference written literally from RFC 6962 section 2.1, recursion and all. It works on
// leaf hashes, so MTH of one element is that element.
using Leaves = std::span<const Hash>;

// The largest power of two smaller than n (n > 1).
std::size_t split_point(std::size_t n) {
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

// 2.1: MTH({}) = SHA-256(); MTH({d0}) = leaf hash; MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])).
Hash mth(Leaves d) {
    if (d.empty()) return empty_root();
    if (d.size() == 1) return d[0];
    const auto k = split_point(d.size());
    return node_hash(mth(d.first(k)), mth(d.subspan(k)));
}

// 2.1.1: PATH(m, D[n]).
std::vector<Hash> path(std::size_t m, Leaves d) {
    if (d.size() <= 1) return {};
    const auto k = split_point(d.size());
    std::vector<Hash> p;
    if (m < k) {
        p = path(m, d.first(k));
        p.push_back(mth(d.subspan(k)));
    } else {
        p = path(m - k, d.subspan(k));
        p.push_back(mth(d.first(k)));
    }
    return p;
}

// 2.1.2: SUBPROOF(m, D[n], b) and PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m <= n.
std::vector<Hash> subproof(std::size_t m, Leaves d, bool b) {
    const auto n = d.size();
    if (m == n) return b ? std::vector<Hash>{} : std::vector<Hash>{mth(d)};
    const auto k = split_point(n);
    std::vector<Hash> p;
    if (m <= k) {
        p = subproof(m, d.first(k), b);
        p.push_back(mth(d.subspan(k)));
    } else {
        p = subproof(m - k, d.subspan(k), false);
        p.push_back(mth(d.first(k)));
    }
    return p;
}
std::vector<Hash> consistency_proof(std::size_t m, Leaves d) { return subproof(m, d, true); }

std::vector<Hash> without_first(std::vector<Hash> p) {
    p.erase(p.begin());
    return p;
}
std::vector<Hash> without_last(std::vector<Hash> p) {
    p.pop_back();
    return p;
}
std::vector<Hash> with_last(std::vector<Hash> p, const Hash& h) {
    p.push_back(h);
    return p;
}
std::vector<Hash> with_first(std::vector<Hash> p, const Hash& h) {
    p.insert(p.begin(), h);
    return p;
}

// ---- The example from the golang.org/x/mod/sumdb/note package documentation (note.go).
const std::string kPeterSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kPeterVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string kPeterText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kPeterSignatureLine =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const std::string kPeterNote = kPeterText + "\n" + kPeterSignatureLine;

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

}  // namespace

// ---- Merkle trees

TEST_CASE("Merkle tree heads match the RFC 6962 known answers used by certificate transparency", "[tlog]") {
    CHECK(to_hex(empty_root()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(to_hex(leaf_hash({})) == kCtRoots[0]);

    const auto leaves = ct_leaves();
    TreeBuilder builder;
    CHECK(builder.size() == 0);
    CHECK(builder.root() == empty_root());
    for (std::size_t n = 1; n <= leaves.size(); ++n) {
        INFO("tree size " << n);
        builder.add(leaves[n - 1]);
        CHECK(builder.size() == n);
        CHECK(to_hex(builder.root()) == kCtRoots[n - 1]);
        CHECK(to_hex(mth(Leaves(leaves).first(n))) == kCtRoots[n - 1]);
    }
}

TEST_CASE("the published RFC 6962 inclusion and consistency proofs verify and match the reference", "[tlog]") {
    // Proofs from transparency-dev/merkle proof/verify_test.go over the leaves above.
    const auto leaves = ct_leaves();
    struct Known {
        std::uint64_t a, b;
        std::vector<const char*> proof;
    };
    const std::vector<Known> inclusion = {
        // leaf index, tree size
        {0,
         8,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {5,
         8,
         {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {1,
         5,
         {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    };
    const std::vector<Known> consistency = {
        // old size, new size
        {1,
         8,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {6,
         8,
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2,
         5,
         {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
        {6,
         7,
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    };
    for (const auto& k : inclusion) {
        INFO("inclusion of leaf " << k.a << " in tree size " << k.b);
        std::vector<Hash> proof;
        for (const char* hex : k.proof) proof.push_back(hash_from_hex(hex));
        CHECK(path(k.a, Leaves(leaves).first(k.b)) == proof);
        CHECK(verify_inclusion(k.a, k.b, leaves[k.a], proof, hash_from_hex(kCtRoots[k.b - 1])));
    }
    for (const auto& k : consistency) {
        INFO("consistency of tree size " << k.a << " with " << k.b);
        std::vector<Hash> proof;
        for (const char* hex : k.proof) proof.push_back(hash_from_hex(hex));
        CHECK(consistency_proof(k.a, Leaves(leaves).first(k.b)) == proof);
        CHECK(verify_consistency(k.a, k.b, hash_from_hex(kCtRoots[k.a - 1]), hash_from_hex(kCtRoots[k.b - 1]), proof));
    }
}

TEST_CASE(
    "every inclusion proof from the RFC 6962 reference verifies, and every corruption of it is "
    "refused",
    "[tlog]") {
    const auto all = numbered_leaves(24);
    const Hash other = leaf_hash(as_bytes("not in the tree"));
    for (std::size_t size = 0; size <= 9; ++size) {
        const Leaves tree = Leaves(all).first(size);
        const Hash root = mth(tree);
        CHECK_FALSE(verify_inclusion(0, size, other, {}, root));  // nothing is in an empty tree
        for (std::size_t index = 0; index < size; ++index) {
            INFO("leaf " << index << " of tree size " << size);
            const auto proof = path(index, tree);
            REQUIRE(verify_inclusion(index, size, tree[index], proof, root));

            CHECK_FALSE(verify_inclusion(index, size, other, proof, root));
            CHECK_FALSE(verify_inclusion(index, size, tree[index], proof, other));
            for (std::size_t i = 0; i < proof.size(); ++i)
                for (std::size_t bit = 0; bit < 256; ++bit) {
                    auto flipped = proof;
                    flipped[i][bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
                    CHECK_FALSE(verify_inclusion(index, size, tree[index], flipped, root));
                }
            for (std::size_t wrong = 0; wrong < size + 3; ++wrong)
                if (wrong != index) CHECK_FALSE(verify_inclusion(wrong, size, tree[index], proof, root));
            // A wrong size is refused whenever its path has another length. Sizes whose paths have
            // the same shape are indistinguishable by construction (RFC 9162 relies on the signed
            // size), so they are not asserted.
            CHECK_FALSE(verify_inclusion(index, 0, tree[index], proof, root));
            for (std::size_t wrong = index + 1; wrong <= 2 * size + 2; ++wrong)
                if (wrong != size && path(index, Leaves(all).first(wrong)).size() != proof.size())
                    CHECK_FALSE(verify_inclusion(index, wrong, tree[index], proof, root));
            CHECK_FALSE(verify_inclusion(index, 2 * size, tree[index], proof, root));
            if (index < size / 2) CHECK_FALSE(verify_inclusion(index, size / 2, tree[index], proof, root));

            if (!proof.empty()) {
                CHECK_FALSE(verify_inclusion(index, size, tree[index], without_last(proof), root));
                CHECK_FALSE(verify_inclusion(index, size, tree[index], without_first(proof), root));
            }
            CHECK_FALSE(verify_inclusion(index, size, tree[index], with_last(proof, other), root));
            CHECK_FALSE(verify_inclusion(index, size, tree[index], with_last(proof, root), root));
            CHECK_FALSE(verify_inclusion(index, size, tree[index], with_first(proof, other), root));
            CHECK_FALSE(verify_inclusion(index, size, tree[index], with_first(proof, root), root));
        }
    }
}

TEST_CASE(
    "every consistency proof from the RFC 6962 reference verifies, and every corruption of it "
    "is refused",
    "[tlog]") {
    const auto all = numbered_leaves(24);
    const Hash other = leaf_hash(as_bytes("not a root"));
    for (std::size_t new_size = 0; new_size <= 9; ++new_size) {
        const Leaves tree = Leaves(all).first(new_size);
        const Hash new_root = mth(tree);
        // Every tree extends the empty tree, with an empty proof.
        CHECK(verify_consistency(0, new_size, empty_root(), new_root, {}));
        CHECK_FALSE(verify_consistency(0, new_size, other, new_root, {}));
        CHECK_FALSE(verify_consistency(0, new_size, empty_root(), new_root, std::vector<Hash>{new_root}));
        for (std::size_t old_size = 1; old_size <= new_size; ++old_size) {
            INFO("tree size " << old_size << " to " << new_size);
            const Hash old_root = mth(tree.first(old_size));
            const auto proof = consistency_proof(old_size, tree);
            REQUIRE(verify_consistency(old_size, new_size, old_root, new_root, proof));

            CHECK_FALSE(verify_consistency(old_size, new_size, other, new_root, proof));
            CHECK_FALSE(verify_consistency(old_size, new_size, old_root, other, proof));
            if (old_size != new_size) CHECK_FALSE(verify_consistency(old_size, new_size, new_root, old_root, proof));
            CHECK_FALSE(verify_consistency(new_size, old_size == new_size ? 0 : old_size, new_root, old_root,
                                           proof));  // backwards
            for (std::size_t i = 0; i < proof.size(); ++i)
                for (std::size_t bit = 0; bit < 256; ++bit) {
                    auto flipped = proof;
                    flipped[i][bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
                    CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, flipped));
                }
            // Wrong sizes: refused whenever the reference proof for them has another length (the
            // same reasoning as for inclusion), and always when the old size grows past the new.
            for (std::size_t wrong_old = 1; wrong_old <= new_size + 2; ++wrong_old) {
                if (wrong_old == old_size) continue;
                if (wrong_old > new_size || consistency_proof(wrong_old, tree).size() != proof.size())
                    CHECK_FALSE(verify_consistency(wrong_old, new_size, old_root, new_root, proof));
            }
            for (std::size_t wrong_new = old_size; wrong_new <= 2 * new_size + 2; ++wrong_new) {
                if (wrong_new == new_size) continue;
                if (consistency_proof(old_size, Leaves(all).first(wrong_new)).size() != proof.size())
                    CHECK_FALSE(verify_consistency(old_size, wrong_new, old_root, new_root, proof));
            }

            if (!proof.empty()) {
                CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, without_last(proof)));
                CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, without_first(proof)));
                CHECK_FALSE(
                    verify_consistency(old_size, new_size, old_root, new_root, with_first(proof, proof.front())));
            }
            CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, with_last(proof, other)));
            CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, with_last(proof, old_root)));
            CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, with_last(proof, new_root)));
            CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, with_first(proof, other)));
            CHECK_FALSE(verify_consistency(old_size, new_size, old_root, new_root, with_first(proof, old_root)));
        }
    }
}

TEST_CASE("proof verification refuses impossible sizes and indices without throwing", "[tlog]") {
    const Hash h = leaf_hash(as_bytes("x"));
    const std::vector<Hash> long_proof(70, h);
    constexpr auto kMax = UINT64_MAX;
    CHECK_FALSE(verify_inclusion(0, 0, h, {}, empty_root()));
    CHECK_FALSE(verify_inclusion(1, 1, h, {}, h));
    CHECK(verify_inclusion(0, 1, h, {}, h));
    CHECK_FALSE(verify_inclusion(kMax, kMax, h, {}, h));
    CHECK_FALSE(verify_inclusion(kMax - 1, kMax, h, long_proof, h));
    CHECK_FALSE(verify_inclusion(0, kMax, h, long_proof, h));
    CHECK_FALSE(verify_inclusion(0, kMax, h, std::span<const Hash>(long_proof).first(64), h));

    CHECK(verify_consistency(0, 0, empty_root(), empty_root(), {}));
    CHECK(verify_consistency(3, 3, h, h, {}));
    CHECK_FALSE(verify_consistency(3, 3, h, empty_root(), {}));
    CHECK_FALSE(verify_consistency(3, 3, h, h, std::vector<Hash>{h}));
    CHECK_FALSE(verify_consistency(2, 1, h, h, {}));
    CHECK_FALSE(verify_consistency(kMax, kMax - 1, h, h, long_proof));
    CHECK_FALSE(verify_consistency(1, 2, h, h, {}));
    CHECK_FALSE(verify_consistency(1, kMax, h, h, long_proof));
    CHECK_FALSE(verify_consistency(kMax - 1, kMax, h, h, long_proof));
    CHECK_FALSE(verify_consistency(kMax - 1, kMax, h, h, std::span<const Hash>(long_proof).first(64)));
}

TEST_CASE("TreeBuilder roots equal the reference MTH for every size from 0 to 40", "[tlog]") {
    const auto leaves = numbered_leaves(40);
    TreeBuilder builder;
    CHECK(builder.root() == mth({}));
    for (std::size_t n = 1; n <= leaves.size(); ++n) {
        INFO("tree size " << n);
        builder.add(leaves[n - 1]);
        CHECK(builder.size() == n);
        CHECK(builder.root() == mth(Leaves(leaves).first(n)));
    }
}

// ---- Checkpoints

TEST_CASE("checkpoint bodies round-trip and their extension lines are ignored", "[tlog]") {
    Checkpoint cp{"serambi.example/tlog", 5, hash_from_hex(kCtRoots[4])};
    const auto body = checkpoint_body(cp);
    CHECK(body == "serambi.example/tlog\n5\n" + to_base64(cp.root) + "\n");
    auto parsed = parse_checkpoint_body(body);
    REQUIRE(parsed.ok());
    CHECK(parsed->origin == cp.origin);
    CHECK(parsed->size == 5);
    CHECK(parsed->root == cp.root);

    auto with_extensions = parse_checkpoint_body(body + "- oracle 1 2 3\nanother line\n");
    REQUIRE(with_extensions.ok());
    CHECK(with_extensions->root == cp.root);

    for (const std::uint64_t size : {std::uint64_t{0}, std::uint64_t{10}, UINT64_MAX}) {
        const Checkpoint edge{"o", size, empty_root()};
        auto back = parse_checkpoint_body(checkpoint_body(edge));
        REQUIRE(back.ok());
        CHECK(back->size == size);
        CHECK(back->root == empty_root());
        CHECK(back->origin == "o");
    }
    CHECK(parse_checkpoint_body("an origin with inner spaces\n1\n" + to_base64(cp.root) + "\n").ok());
}

TEST_CASE("malformed checkpoint bodies are refused", "[tlog]") {
    const std::string root = to_base64(hash_from_hex(kCtRoots[0]));
    const Bytes short_hash(31, 7), long_hash(33, 7);
    // The root's last base64 digit with a padding bit set: one value must have one spelling.
    const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string non_canonical = root;
    non_canonical[42] = digits[digits.find(root[42]) | 1U];
    REQUIRE(non_canonical != root);
    const std::vector<std::string> bad = {
        "",
        "origin\n",
        "origin\n5\n",
        "origin\n5\n" + root,                 // no final newline
        "\n5\n" + root + "\n",                // empty origin
        " origin\n5\n" + root + "\n",         // leading space
        "origin \n5\n" + root + "\n",         // trailing space
        "ori\tgin\n5\n" + root + "\n",        // control character
        "origin\xC3\xA9\n5\n" + root + "\n",  // not ASCII
        "origin\n\n" + root + "\n",           // empty size
        "origin\n05\n" + root + "\n",         // leading zero
        "origin\n00\n" + root + "\n",
        "origin\n-5\n" + root + "\n",
        "origin\n+5\n" + root + "\n",
        "origin\n5a\n" + root + "\n",
        "origin\n 5\n" + root + "\n",
        "origin\n0x5\n" + root + "\n",
        "origin\n18446744073709551616\n" + root + "\n",  // 2^64
        "origin\n99999999999999999999\n" + root + "\n",
        "origin\n5\nnot base64!\n",
        "origin\n5\n" + root.substr(0, root.size() - 1) + "\n",  // truncated base64
        "origin\n5\n" + to_base64(short_hash) + "\n",
        "origin\n5\n" + to_base64(long_hash) + "\n",
        "origin\n5\n\n",
        "origin\n5\n" + root + "\n\n",         // empty extension line
        "origin\n5\n" + root + "\nextension",  // unterminated extension line
        "origin\n5\n" + non_canonical + "\n",
    };
    for (const auto& body : bad) {
        INFO("body: " << body);
        auto parsed = parse_checkpoint_body(body);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().kind == ErrorKind::invalid_argument);
    }
}

// ---- Signed notes

TEST_CASE("the sumdb/note documentation key reproduces its published signed note byte for byte", "[tlog]") {
    auto signer = NoteSigner::from_private(kPeterSigner);
    REQUIRE(signer.ok());
    CHECK(signer->name() == "PeterNeumann");
    CHECK(signer->private_text() == kPeterSigner);
    CHECK(signer->verifier_key() == kPeterVerifier);
    CHECK(signer->sign(kPeterText) == kPeterNote);

    auto body = verify_note(kPeterNote, kPeterVerifier);
    REQUIRE(body.ok());
    CHECK(*body == kPeterText);
}

TEST_CASE("verify_note refuses edited, foreign-signed and malformed notes", "[tlog]") {
    auto enoch = NoteSigner::generate("EnochRoot");
    REQUIRE(enoch.ok());
    const std::string enoch_line = enoch->sign(kPeterText).substr(kPeterText.size() + 1);
    auto impostor = NoteSigner::generate("PeterNeumann");  // same name, another key
    REQUIRE(impostor.ok());
    const std::string impostor_line = impostor->sign(kPeterText).substr(kPeterText.size() + 1);

    auto refused = [](const std::string& note, ErrorKind kind) {
        INFO("note: " << note);
        auto body = verify_note(note, kPeterVerifier);
        REQUIRE_FALSE(body.ok());
        CHECK(body.error().kind == kind);
    };

    SECTION("other keys' signatures are ignored, but one of ours must be there") {
        CHECK(verify_note(kPeterText + "\n" + enoch_line + kPeterSignatureLine, kPeterVerifier).ok());
        CHECK(verify_note(kPeterText + "\n" + kPeterSignatureLine + impostor_line, kPeterVerifier).ok());
        refused(kPeterText + "\n" + enoch_line, ErrorKind::corruption);
        refused(kPeterText + "\n" + impostor_line, ErrorKind::corruption);
        CHECK(verify_note(enoch->sign(kPeterText), enoch->verifier_key()).ok());
    }
    SECTION("an edited body or signature is refused") {
        refused(replace_all(kPeterNote, "cryptography", "cryptographY"), ErrorKind::corruption);
        refused(replace_all(kPeterNote, "problem is.\n", "problem is!\n"), ErrorKind::corruption);
        refused(replace_all(kPeterNote, "x08go/ZJ", "x08go/ZK"), ErrorKind::corruption);
        // The same signature bytes spelt with non-zero padding bits: one value, one spelling.
        refused(replace_all(kPeterNote, "JnAM=", "JnAN="), ErrorKind::invalid_argument);
    }
    SECTION("a missing blank line or a malformed signature line is refused") {
        refused(kPeterText + kPeterSignatureLine, ErrorKind::invalid_argument);
        refused(kPeterText + "\n" + kPeterSignatureLine.substr(0, kPeterSignatureLine.size() - 1),
                ErrorKind::invalid_argument);
        refused(kPeterText + "\n" + replace_all(kPeterSignatureLine, "\xE2\x80\x94 ", "- "),
                ErrorKind::invalid_argument);
        refused(kPeterText + "\n" + replace_all(kPeterSignatureLine, "\xE2\x80\x94 ", "\xE2\x80\x94"),
                ErrorKind::invalid_argument);
        refused(kPeterText + "\n" + replace_all(kPeterSignatureLine, "PeterNeumann ", "PeterNeumann"),
                ErrorKind::invalid_argument);
        refused(kPeterText + "\n" + replace_all(kPeterSignatureLine, "x08go/", "x08go!"), ErrorKind::invalid_argument);
        refused(kPeterText + "\n" + replace_all(kPeterSignatureLine, "PeterNeumann", "Peter+Neumann"),
                ErrorKind::invalid_argument);
        // The signatures start after the last blank line, so here the body includes the first
        // signature line and our signature no longer matches it.
        refused(kPeterText + "\n" + kPeterSignatureLine + "\n" + kPeterSignatureLine, ErrorKind::corruption);
        refused(kPeterText + "\n" + kPeterSignatureLine + "trailing", ErrorKind::invalid_argument);
        refused(kPeterText + "\n", ErrorKind::invalid_argument);
        refused(kPeterText + "\n\n", ErrorKind::invalid_argument);
        refused("", ErrorKind::invalid_argument);
        refused(replace_all(kPeterNote, "problem,", "problem,\r"), ErrorKind::invalid_argument);
        refused(replace_all(kPeterNote, "problem,", "problem,\xFF"), ErrorKind::invalid_argument);
    }
    SECTION("a signature by our key of the wrong length is refused") {
        // Our name and key hash, followed by a 63-byte signature.
        auto raw =
            from_base64("x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=");
        REQUIRE(raw.ok());
        REQUIRE(raw->size() == 68);
        Bytes shorter(raw->begin(), raw->end() - 1), longer(*raw);
        longer.push_back(0);
        refused(kPeterText + "\n\xE2\x80\x94 PeterNeumann " + to_base64(shorter) + "\n", ErrorKind::invalid_argument);
        refused(kPeterText + "\n\xE2\x80\x94 PeterNeumann " + to_base64(longer) + "\n", ErrorKind::invalid_argument);
        refused(kPeterText + "\n\xE2\x80\x94 PeterNeumann " + to_base64(Bytes(raw->begin(), raw->begin() + 4)) + "\n",
                ErrorKind::invalid_argument);
    }
    SECTION("at most 100 signature lines, and at most 1 MiB") {
        std::string lines;
        for (int i = 0; i < 99; ++i) lines += enoch_line;
        CHECK(verify_note(kPeterText + "\n" + lines + kPeterSignatureLine, kPeterVerifier).ok());
        refused(kPeterText + "\n" + lines + enoch_line + kPeterSignatureLine, ErrorKind::invalid_argument);

        const std::string big_body = std::string(1024 * 1024, 'a') + "\n";
        auto big_signer = NoteSigner::from_private(kPeterSigner);
        REQUIRE(big_signer.ok());
        refused(big_signer->sign(big_body), ErrorKind::too_large);
    }
    SECTION("a malformed or mismatched verifier key is refused") {
        for (const std::string& key : {
                 std::string("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
                 std::string("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
                 std::string("Peter+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
                 std::string("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
                 std::string("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T"),
                 std::string("PeterNeumann+c74f20a3"),
                 std::string(""),
                 kPeterSigner,
             }) {
            INFO("key: " << key);
            auto body = verify_note(kPeterNote, key);
            REQUIRE_FALSE(body.ok());
            CHECK(body.error().kind == ErrorKind::invalid_argument);
        }
    }
}

TEST_CASE("generated signer keys round-trip through their text and sign notes that verify", "[tlog]") {
    auto a = NoteSigner::generate("serambi.example/tlog");
    REQUIRE(a.ok());
    auto b = NoteSigner::from_private(a->private_text());
    REQUIRE(b.ok());
    CHECK(b->name() == "serambi.example/tlog");
    CHECK(b->verifier_key() == a->verifier_key());
    CHECK(b->sign("hello\n") == a->sign("hello\n"));  // Ed25519 is deterministic
    auto body = verify_note(a->sign("hello\n"), b->verifier_key());
    REQUIRE(body.ok());
    CHECK(*body == "hello\n");

    NoteSigner moved = std::move(*b);
    CHECK(moved.verifier_key() == a->verifier_key());

    auto c = NoteSigner::generate("serambi.example/tlog");
    REQUIRE(c.ok());
    CHECK(c->verifier_key() != a->verifier_key());
    CHECK_FALSE(verify_note(c->sign("hello\n"), a->verifier_key()).ok());

    CHECK_THROWS_AS(a->sign("no final newline"), std::invalid_argument);
    CHECK_THROWS_AS(a->sign(""), std::invalid_argument);
}

TEST_CASE("malformed names and signer keys are refused", "[tlog]") {
    for (const char* name : {"", "has space", "has+plus", "tab\there", "new\nline", "caf\xC3\xA9"})
        CHECK_FALSE(NoteSigner::generate(name).ok());

    const std::string seed = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    for (const std::string& key : std::vector<std::string>{
             "PRIVATE+KEY+PeterNeumann+c74f20a4+" + seed,            // hash of another key
             "PRIVATE+KEY+PeterNeumann+c74f20a+" + seed,             // short hash
             "PRIVATE+KEY+PeterNeumanX+c74f20a3+" + seed,            // name not in the hash
             "PRIVATE+KEY+PeterNeumann+c74f20a3+" + seed.substr(1),  // not base64 of 33 bytes
             "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",  // algorithm 2
             "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF0",  // another seed
             "PRIVATE+KEY+PeterNeumann+c74f20a3",
             "PRIVATE+KEY+" + seed,
             "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // a verifier key
             "",
         }) {
        INFO("key: " << key);
        auto signer = NoteSigner::from_private(key);
        REQUIRE_FALSE(signer.ok());
        CHECK(signer.error().kind == ErrorKind::invalid_argument);
        CHECK(signer.error().message.find(seed) == std::string::npos);  // never echoes the secret
    }
}

// ---- Cosignatures (C2SP tlog-cosignature) and proofs (C2SP tlog-proof)

namespace {
// The checkpoint body and time of the C2SP tlog-cosignature specification's example.
const std::string kSofaBody = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr std::uint64_t kSofaTime = 1679315147;
// The sumdb/note documentation seed as a cosigner key (type 0x04). The expected line below was
// computed with `openssl pkeyutl -sign -rawin` and Python's hashlib, not with this code.
const std::string kWitnessPrivate =
    "PRIVATE+KEY+witness.example/w1+cc9a7044+BIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kWitnessKey = "witness.example/w1+cc9a7044+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string kWitnessLine =
    "\xE2\x80\x94 witness.example/w1 "
    "zJpwRAAAAABkGFDLJeR//pqzhnEKVvEm2wWbh2RJ6oru5+cUUfm5X9NnlaGr8aSH9QE5RVZD4QGlxl2F5UpVIIi94p178KLfqPPsAA==\n";
}  // namespace

TEST_CASE("a cosignature/v1 signs the specification's message and matches an independent signer", "[tlog]") {
    CHECK(cosigned_message(kSofaBody, kSofaTime) ==
          "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
          "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
    auto witness = NoteSigner::from_private(kWitnessPrivate);
    REQUIRE(witness.ok());
    CHECK(witness->type() == KeyType::cosignature);
    CHECK(witness->verifier_key() == kWitnessKey);
    CHECK(witness->cosign(kSofaBody, kSofaTime) == kWitnessLine);

    // The specification's example line: key id 8d66cf3f, then the time, big-endian.
    const std::string spec_line =
        "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
    auto raw = from_base64(spec_line);
    REQUIRE(raw.ok());
    REQUIRE(raw->size() == 4 + 8 + 64);
    std::uint64_t time = 0;
    for (int i = 4; i < 12; ++i) time = (time << 8) | (*raw)[i];
    CHECK(time == kSofaTime);

    // A note carrying the log's signature and the cosignature verifies for both keys.
    auto log = NoteSigner::generate("example.com/behind-the-sofa");
    REQUIRE(log.ok());
    const std::string note = log->sign(kSofaBody) + kWitnessLine;
    CHECK(verify_note(note, log->verifier_key()).ok());
    auto at = verify_cosignature(note, kWitnessKey);
    REQUIRE(at.ok());
    CHECK(*at == kSofaTime);
    const std::vector<std::string> keys{kWitnessKey, kWitnessKey};
    auto count = count_cosignatures(note, keys);
    REQUIRE(count.ok());
    CHECK(*count == 1);  // the same key twice is one witness
    // Spelled with upper-case hash digits it is still the same witness.
    std::string upper = kWitnessKey;
    for (auto i = upper.find('+') + 1; upper[i] != '+'; ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
    const std::vector<std::string> respelled{kWitnessKey, upper};
    auto again = count_cosignatures(note, respelled);
    REQUIRE(again.ok());
    CHECK(*again == 1);
    CHECK(verifier_key_name(kWitnessKey, KeyType::cosignature) == "witness.example/w1");
    CHECK(verifier_key_name(log->verifier_key(), KeyType::cosignature).empty());
    CHECK(verifier_key_name(log->verifier_key(), KeyType::note) == "example.com/behind-the-sofa");
    CHECK(verifier_key_name(kWitnessKey, KeyType::note).empty());
}

TEST_CASE("cosignatures are refused when edited, by another key, or of the wrong key type", "[tlog]") {
    auto log = NoteSigner::generate("serambi.example/log");
    REQUIRE(log.ok());
    auto w = NoteSigner::generate("witness.example/a", KeyType::cosignature);
    REQUIRE(w.ok());
    auto other = NoteSigner::generate("witness.example/a", KeyType::cosignature);
    REQUIRE(other.ok());
    const std::string body = "serambi.example/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    const std::string note = log->sign(body) + w->cosign(body, 1700000000);
    REQUIRE(verify_cosignature(note, w->verifier_key()).ok());

    // Not cosigned by this key (same name, other key): not found, not valid.
    auto missing = verify_cosignature(note, other->verifier_key());
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == ErrorKind::not_found);

    // The body changed under the cosignature: the tree size says 4 now.
    std::string edited = note;
    edited.replace(edited.find("\n3\n"), 3, "\n4\n");
    auto bad = verify_cosignature(edited, w->verifier_key());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == ErrorKind::corruption);

    // The cosignature's time is signed: change it and the line no longer verifies.
    const std::string line = w->cosign(body, 1700000000);
    const auto sp = line.rfind(' ');
    auto raw = from_base64(std::string_view(line).substr(sp + 1, line.size() - sp - 2));
    REQUIRE(raw.ok());
    (*raw)[11] ^= 1;
    const std::string moved_time = log->sign(body) + line.substr(0, sp + 1) + to_base64(*raw) + "\n";
    CHECK(verify_cosignature(moved_time, w->verifier_key()).error().kind == ErrorKind::corruption);

    // A note key is not a witness key, and each key does only its own job.
    CHECK(verify_cosignature(note, log->verifier_key()).error().kind == ErrorKind::invalid_argument);
    CHECK_FALSE(verify_note(note, w->verifier_key()).ok());
    CHECK_THROWS_AS(w->sign(body), std::invalid_argument);
    CHECK_THROWS_AS(log->cosign(body, 1700000000), std::invalid_argument);
    CHECK_THROWS_AS(w->cosign(body, 0), std::invalid_argument);

    // Round trip of the private text keeps the type.
    auto again = NoteSigner::from_private(w->private_text());
    REQUIRE(again.ok());
    CHECK(again->type() == KeyType::cosignature);
    CHECK(again->cosign(body, 5) == w->cosign(body, 5));
}

TEST_CASE("tlog-proof files round-trip and the specification's example parses", "[tlog]") {
    const std::string spec =
        "c2sp.org/tlog-proof@v1\n"
        "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
        "index 73894\n"
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
        "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
        "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
        "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
        "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
        "\n"
        "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
        "\xE2\x80\x94 example.com/fancylog hI2DJw==\n";
    auto proof = parse_proof(spec);
    REQUIRE(proof.ok());
    CHECK(proof->index == 73894);
    CHECK(proof->hashes.size() == 5);
    CHECK(proof->extra.starts_with("age-v1.2.1-darwin-arm64.tar.gz"));
    CHECK(proof->checkpoint.starts_with("example.com/fancylog\n109482\n"));
    CHECK(format_proof(*proof) == spec);

    Proof mine;
    mine.index = 0;
    mine.checkpoint = "log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\xE2\x80\x94 log AAAAAA==\n";
    CHECK(format_proof(mine) == "c2sp.org/tlog-proof@v1\nindex 0\n\n" + mine.checkpoint);
    auto back = parse_proof(format_proof(mine));
    REQUIRE(back.ok());
    CHECK(back->extra.empty());
    CHECK(back->hashes.empty());

    for (const std::string& bad : std::vector<std::string>{
             "",
             "c2sp.org/tlog-proof@v2\nindex 0\n\ncp\n",
             "c2sp.org/tlog-proof@v1\n",
             "c2sp.org/tlog-proof@v1\nindex 01\n\ncp\n",
             "c2sp.org/tlog-proof@v1\nindex -1\n\ncp\n",
             "c2sp.org/tlog-proof@v1\nindex 99999999999999999999\n\ncp\n",
             "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\ncp\n",
             "c2sp.org/tlog-proof@v1\nindex 1\nnot-a-hash\n\ncp\n",
             "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\ncp\n",
             "c2sp.org/tlog-proof@v1\nindex 1\n",
             "c2sp.org/tlog-proof@v1\nindex 1\n\n",
         }) {
        INFO("proof: " << bad);
        CHECK_FALSE(parse_proof(bad).ok());
    }
}
