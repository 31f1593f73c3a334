// The auditor's commands: fetch the log key, checkpoints, entries and proofs from the gateway,
// and verify an export offline with nothing but the files given.
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/files.h"
#include "crypto/tlog.h"
#include "storage/audit_export.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

namespace tlog = crypto::tlog;
using storage::verified_checkpoint;

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

Result<std::string> fetch(Client& client, const std::string& target) {
    auto reply = client.request("GET", target, "");
    if (!reply) return reply.error();
    if (reply->status != 200)
        return make_error(ErrorKind::unavailable, "the gateway refused: " + describe_failure(*reply));
    return reply->body;
}

Error failed(std::string message) { return make_error(ErrorKind::corruption, "FAILED: " + std::move(message)); }

// The export route: the tree recomputed from the first `size` lines must be the signed one, and
// the push must be one of those lines (at the receipt's index when given).
Result<std::string> push_in_export(const LogEvidence& evidence, const tlog::Checkpoint& checkpoint,
                                   const PushFacts& push) {
    std::ifstream in(evidence.export_file, std::ios::binary);
    if (!in) return make_error(ErrorKind::io_error, "cannot read " + evidence.export_file);
    tlog::TreeBuilder tree;
    std::optional<std::uint64_t> found;
    std::string line;
    while (tree.size() < checkpoint.size && std::getline(in, line)) {
        if (!found && (!evidence.index || *evidence.index == tree.size()) &&
            storage::records_push(line, push.package_id, push.dataset, push.sha256_hex))
            found = tree.size();
        tree.add(tlog::leaf_hash(crypto::as_bytes(line)));
    }
    if (tree.size() < checkpoint.size)
        return failed("the export has " + std::to_string(tree.size()) + " entries, the checkpoint " +
                      std::to_string(checkpoint.size));
    if (tree.root() != checkpoint.root)
        return failed(
            "the export does not hash to the checkpoint's root: an entry was changed, removed, added or reordered");
    if (!found)
        return failed(evidence.index ? "entry " + std::to_string(*evidence.index) +
                                           " of the log does not record the push of package " + push.package_id +
                                           " with this digest"
                                     : "no entry of the log up to the checkpoint records the push of package " +
                                           push.package_id + " with this digest");
    return "its push is entry " + std::to_string(*found) + " of the log " + checkpoint.origin + " (tree of size " +
           std::to_string(checkpoint.size) + " recomputed from " + evidence.export_file + ")";
}

// The proof route: the file names the entry, its index and the audit path, and carries the
// checkpoint it was made for unless the caller brings their own.
Result<std::string> push_by_proof(const LogEvidence& evidence, const std::string& key, const PushFacts& push) {
    auto text = storage::read_small_file(evidence.proof, 1 << 20);
    if (!text) return text.error();
    boost::system::error_code ec;
    auto value = boost::json::parse(*text, ec);
    if (ec || !value.is_object())
        return bad(evidence.proof + " is not a proof file (JSON) from `serambi audit proof inclusion -o`");
    const auto& o = value.as_object();
    const auto* index = o.if_contains("index");
    const auto* size = o.if_contains("size");
    const auto* entry = o.if_contains("entry");
    const auto* note = o.if_contains("checkpoint");
    auto count = [](const boost::json::value* v) -> std::optional<std::uint64_t> {
        if (v != nullptr && v->is_uint64()) return v->get_uint64();
        if (v != nullptr && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
        return std::nullopt;
    };
    const auto leaf_index = count(index);
    const auto tree_size = count(size);
    if (!leaf_index || !tree_size || entry == nullptr || !entry->is_string() || note == nullptr || !note->is_string())
        return bad(evidence.proof + " lacks index, size, entry or checkpoint");
    std::string note_text(note->get_string());
    if (!evidence.checkpoint.empty()) {
        auto saved = storage::read_small_file(evidence.checkpoint, 1 << 16);
        if (!saved) return saved.error();
        note_text = *saved;
    }
    auto checkpoint =
        verified_checkpoint(note_text, key, evidence.checkpoint.empty() ? "the proof's checkpoint" : "the checkpoint");
    if (!checkpoint) return checkpoint.error();
    if (*tree_size != checkpoint->size)
        return bad("the proof is for a tree of size " + std::to_string(*tree_size) + ", the checkpoint's is " +
                   std::to_string(checkpoint->size) + ": fetch a proof for that checkpoint");
    if (evidence.index && *evidence.index != *leaf_index)
        return failed("the proof is for entry " + std::to_string(*leaf_index) + ", the receipt names entry " +
                      std::to_string(*evidence.index));
    auto hashes = storage::proof_hashes(*text);
    if (!hashes) return hashes.error();
    const std::string line(entry->get_string());
    if (!storage::records_push(line, push.package_id, push.dataset, push.sha256_hex))
        return failed("the proof's entry does not record the push of package " + push.package_id + " with this digest");
    if (!tlog::verify_inclusion(*leaf_index, *tree_size, tlog::leaf_hash(crypto::as_bytes(line)), *hashes,
                                checkpoint->root))
        return failed("entry " + std::to_string(*leaf_index) + " is not in the signed tree of size " +
                      std::to_string(*tree_size));
    return "its push is entry " + std::to_string(*leaf_index) + " of the log " + checkpoint->origin +
           ", proven in the signed tree of size " + std::to_string(*tree_size);
}

}  // namespace

Result<std::string> check_push_logged(const LogEvidence& evidence, const PushFacts& push) {
    if (evidence.key.empty()) return bad("--log-key (the log's verifier key) is needed to check the access log");
    if (evidence.export_file.empty() == evidence.proof.empty())
        return bad("give either --export or --proof to check the access log");
    if (!evidence.export_file.empty() && evidence.checkpoint.empty())
        return bad("--export needs --checkpoint, the checkpoint the export matches");
    auto key = storage::read_small_file(evidence.key, 4096);
    if (!key) return key.error();
    if (!evidence.proof.empty()) return push_by_proof(evidence, *key, push);
    auto note = storage::read_small_file(evidence.checkpoint, 1 << 16);
    if (!note) return note.error();
    auto checkpoint = verified_checkpoint(*note, *key, "the checkpoint");
    if (!checkpoint) return checkpoint.error();
    return push_in_export(evidence, *checkpoint, push);
}

int run_audit_key(const AuditOptions& options) {
    auto client = connect(options.profile);
    if (!client) return report("audit key", client.error());
    auto key = fetch(**client, "/v1/audit/key");
    if (!key) return report("audit key", key.error());
    std::cout << *key;
    return 0;
}

int run_audit_checkpoint(const AuditOptions& options) {
    auto client = connect(options.profile);
    if (!client) return report("audit checkpoint", client.error());
    auto note = fetch(**client, "/v1/audit/checkpoint");
    if (!note) return report("audit checkpoint", note.error());
    std::cout << *note;
    return 0;
}

// Writes the entries of the current checkpoint, one per line, exactly the bytes hashed as each
// leaf, and that checkpoint beside them (FILE.checkpoint) for `audit verify`.
int run_audit_export(const AuditOptions& options) {
    const std::string command = "audit export";
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    auto note = fetch(**client, "/v1/audit/checkpoint");
    if (!note) return report(command, note.error());
    std::string body = *note;
    const auto blank = body.find("\n\n");
    auto checkpoint = tlog::parse_checkpoint_body(blank == std::string::npos ? body : body.substr(0, blank + 1));
    if (!checkpoint) return report(command, make_error(ErrorKind::corruption, "the gateway's checkpoint is malformed"));
    // The log names who read what: the export is the auditor's alone.
    auto out = AtomicFile::create(options.output, 0600);
    if (!out) return report(command, out.error());
    if (options.csv)
        if (auto s = out->write(storage::audit_csv_header() + "\n"); !s) return report(command, s.error());
    std::uint64_t start = 0, lines = 0;
    while (start < checkpoint->size) {
        auto reply = (*client)->request(
            "GET", "/v1/audit/entries?start=" + std::to_string(start) + "&end=" + std::to_string(checkpoint->size), "");
        if (!reply) return report(command, reply.error());
        if (reply->status != 200) return report_reply(command, *reply);
        std::size_t at = 0;
        while (at < reply->body.size()) {
            const auto nl = reply->body.find('\n', at);
            const auto line = reply->body.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
            if (auto s = out->write((options.csv ? storage::audit_csv_row(line) : line) + "\n"); !s)
                return report(command, s.error());
            ++lines;
            if (nl == std::string::npos) break;
            at = nl + 1;
        }
        std::uint64_t next = 0;
        const auto header = reply->headers.find("serambi-next-start");
        if (header == reply->headers.end() || !(std::istringstream(header->second) >> next) || next <= start)
            return report(command,
                          make_error(ErrorKind::corruption, "the gateway did not say where the next page starts"));
        start = next;
    }
    if (auto s = out->commit(); !s) return report(command, s.error());
    if (!options.csv)
        if (auto s = write_file(options.output + ".checkpoint", *note, 0644); !s) return report(command, s.error());
    std::cerr << "exported " << lines << " entries (tree size " << checkpoint->size << ") to " << options.output
              << (options.csv ? "" : "; checkpoint in " + options.output + ".checkpoint") << "\n";
    return 0;
}

// Recomputes the tree from the export and checks it against the signed checkpoint, and against
// an earlier checkpoint the auditor kept: a rewritten, rolled-back or forked log fails.
int run_audit_verify(const AuditOptions& options) {
    const std::string command = "audit verify";
    auto key = storage::read_small_file(options.key, 4096);
    auto note = storage::read_small_file(options.checkpoint, 1 << 16);
    if (!key) return report(command, key.error());
    if (!note) return report(command, note.error());
    auto checkpoint = verified_checkpoint(*note, *key, "the checkpoint");
    if (!checkpoint) return report(command, checkpoint.error());
    std::optional<tlog::Checkpoint> previous;
    if (!options.previous.empty()) {
        auto old_note = storage::read_small_file(options.previous, 1 << 16);
        if (!old_note) return report(command, old_note.error());
        auto old = verified_checkpoint(*old_note, *key, "the previous checkpoint");
        if (!old) return report(command, old.error());
        if (old->size > checkpoint->size) {
            std::cerr << "serambi audit verify: FAILED: the log was rolled back: the previous checkpoint has "
                      << old->size << " entries, the new one " << checkpoint->size << "\n";
            return 1;
        }
        previous = *old;
    }
    std::ifstream in(options.export_file, std::ios::binary);
    if (!in) return report(command, make_error(ErrorKind::io_error, "cannot read " + options.export_file));
    tlog::TreeBuilder tree;
    std::optional<tlog::Hash> previous_root_seen;
    if (previous && previous->size == 0) previous_root_seen = tlog::empty_root();
    std::string line;
    while (tree.size() < checkpoint->size && std::getline(in, line)) {
        tree.add(tlog::leaf_hash(crypto::as_bytes(line)));
        if (previous && tree.size() == previous->size) previous_root_seen = tree.root();
    }
    if (tree.size() < checkpoint->size) {
        std::cerr << "serambi audit verify: FAILED: the export has " << tree.size() << " entries, the checkpoint "
                  << checkpoint->size << "\n";
        return 1;
    }
    if (in.peek() != std::ifstream::traits_type::eof()) {
        std::cerr << "serambi audit verify: FAILED: the export holds lines after the checkpoint's " << checkpoint->size
                  << " entries, which no signature covers\n";
        return 1;
    }
    if (tree.root() != checkpoint->root) {
        std::cerr << "serambi audit verify: FAILED: the export does not hash to the checkpoint's root: an entry was "
                     "changed, removed, added or reordered\n";
        return 1;
    }
    if (previous && (!previous_root_seen || *previous_root_seen != previous->root)) {
        std::cerr << "serambi audit verify: FAILED: the log is not an extension of the previous checkpoint (size "
                  << previous->size << "): its history was rewritten or forked\n";
        return 1;
    }
    std::cout << "OK: " << checkpoint->size << " entries of " << checkpoint->origin << " match the signed checkpoint"
              << (previous ? " and extend the previous one (size " + std::to_string(previous->size) + ")" : "") << "\n";
    return 0;
}

int run_audit_inclusion(const AuditOptions& options) {
    const std::string command = "audit proof inclusion";
    auto key = storage::read_small_file(options.key, 4096);
    if (!key) return report(command, key.error());
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    auto note = fetch(**client, "/v1/audit/checkpoint");
    if (!note) return report(command, note.error());
    auto checkpoint = verified_checkpoint(*note, *key, "the gateway's checkpoint");
    if (!checkpoint) return report(command, checkpoint.error());
    if (options.index >= checkpoint->size)
        return report(command, bad("the log has only " + std::to_string(checkpoint->size) + " entries"));
    auto entry = fetch(**client, "/v1/audit/entries?start=" + std::to_string(options.index) +
                                     "&end=" + std::to_string(options.index + 1));
    if (!entry) return report(command, entry.error());
    auto proof_json = fetch(**client, "/v1/audit/proof/inclusion?index=" + std::to_string(options.index) +
                                          "&size=" + std::to_string(checkpoint->size));
    if (!proof_json) return report(command, proof_json.error());
    auto proof = storage::proof_hashes(*proof_json);
    if (!proof) return report(command, proof.error());
    const std::string line = trimmed(*entry);
    if (!tlog::verify_inclusion(options.index, checkpoint->size, tlog::leaf_hash(crypto::as_bytes(line)), *proof,
                                checkpoint->root)) {
        std::cerr << "serambi " << command << ": FAILED: entry " << options.index
                  << " is not in the signed tree of size " << checkpoint->size << "\n";
        return 1;
    }
    if (!options.proof_output.empty()) {
        boost::json::array hashes;
        for (const auto& h : *proof) hashes.emplace_back(crypto::to_base64(h));
        const boost::json::object file{{"index", options.index},
                                       {"size", checkpoint->size},
                                       {"hashes", std::move(hashes)},
                                       {"entry", line},
                                       {"checkpoint", *note}};
        if (auto s = write_file(options.proof_output, boost::json::serialize(file) + "\n", 0600); !s)
            return report(command, s.error());
    }
    std::cout << line << "\nOK: entry " << options.index << " is in the signed tree of size " << checkpoint->size
              << (options.proof_output.empty() ? "" : "; proof saved to " + options.proof_output) << "\n";
    return 0;
}

int run_audit_consistency(const AuditOptions& options) {
    const std::string command = "audit proof consistency";
    auto key = storage::read_small_file(options.key, 4096);
    auto old_note = storage::read_small_file(options.checkpoint, 1 << 16);
    if (!key) return report(command, key.error());
    if (!old_note) return report(command, old_note.error());
    auto old = verified_checkpoint(*old_note, *key, "the saved checkpoint");
    if (!old) return report(command, old.error());
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    auto note = fetch(**client, "/v1/audit/checkpoint");
    if (!note) return report(command, note.error());
    auto now = verified_checkpoint(*note, *key, "the gateway's checkpoint");
    if (!now) return report(command, now.error());
    bool ok = old->size <= now->size;
    if (ok && old->size == 0)
        ok = old->root == tlog::empty_root();
    else if (ok && old->size == now->size)
        ok = old->root == now->root;
    else if (ok && old->size > 0) {
        auto proof_json = fetch(**client, "/v1/audit/proof/consistency?old=" + std::to_string(old->size) +
                                              "&new=" + std::to_string(now->size));
        if (!proof_json) return report(command, proof_json.error());
        auto proof = storage::proof_hashes(*proof_json);
        if (!proof) return report(command, proof.error());
        ok = tlog::verify_consistency(old->size, now->size, old->root, now->root, *proof);
    }
    if (!ok) {
        std::cerr << "serambi " << command << ": FAILED: the log of size " << now->size
                  << " does not extend the saved checkpoint of size " << old->size
                  << " (rolled back, rewritten or forked)\n";
        return 1;
    }
    std::cout << *note << "OK: the current log (size " << now->size << ") extends the saved checkpoint (size "
              << old->size << ")\n";
    return 0;
}

int run_audit_tail(const AuditOptions& options) {
    const std::string command = "audit tail";
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    std::uint64_t next = UINT64_MAX;
    for (;;) {
        auto reply = (*client)->request("GET", "/v1/audit/entries?start=0&end=0", "");
        if (!reply) return report(command, reply.error());
        if (reply->status != 200) return report_reply(command, *reply);
        std::uint64_t size = 0;
        std::istringstream(reply->headers["serambi-log-size"]) >> size;
        if (next == UINT64_MAX) next = size > options.count ? size - options.count : 0;
        while (next < size) {
            auto page = (*client)->request(
                "GET", "/v1/audit/entries?start=" + std::to_string(next) + "&end=" + std::to_string(size), "");
            if (!page) return report(command, page.error());
            if (page->status != 200) return report_reply(command, *page);
            std::cout << page->body << std::flush;
            std::uint64_t after = 0;
            std::istringstream(page->headers["serambi-next-start"]) >> after;
            if (after <= next) break;
            next = after;
        }
        if (!options.follow) return 0;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

}  // namespace serambi::cli
