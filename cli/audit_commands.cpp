// The auditor's commands: fetch the log key, checkpoints, entries and proofs from the gateway,
// and verify an export offline with nothing but the files given.
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
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
        return make_error(ErrorKind::unavailable, tr("the gateway refused: {}", {describe_failure(*reply)}));
    return reply->body;
}

Error failed(std::string message) { return make_error(ErrorKind::corruption, "FAILED: " + std::move(message)); }

// The export route: the tree recomputed from the first `size` lines must be the signed one (the
// key followed through any hand-over in those lines), and the push must be one of those lines
// (at the receipt's index when given).
Result<std::string> push_in_export(const LogEvidence& evidence, const std::string& note, const std::string& key,
                                   const PushFacts& push) {
    auto claimed = storage::unverified_checkpoint(note);
    if (!claimed) return failed(tr("the checkpoint: {}", {claimed.error().message}));
    std::ifstream in(evidence.export_file, std::ios::binary);
    if (!in) return make_error(ErrorKind::io_error, tr("cannot read {}", {evidence.export_file}));
    tlog::TreeBuilder tree;
    storage::KeyChain keys(key);
    std::optional<std::uint64_t> found;
    std::string line;
    while (tree.size() < claimed->size && std::getline(in, line)) {
        if (!found && (!evidence.index || *evidence.index == tree.size()) &&
            storage::records_push(line, push.package_id, push.dataset, push.sha256_hex))
            found = tree.size();
        if (auto s = keys.see(line, tree); !s) return failed(s.error().message);
        tree.add(tlog::leaf_hash(crypto::as_bytes(line)));
    }
    auto checkpoint = verified_checkpoint(note, keys.key_for(claimed->size), "the checkpoint");
    if (!checkpoint) return checkpoint.error();
    if (tree.size() < checkpoint->size)
        return failed(tr("the export has {} entries, the checkpoint {}",
                         {std::to_string(tree.size()), std::to_string(checkpoint->size)}));
    if (tree.root() != checkpoint->root)
        return failed(
            tr("the export does not hash to the checkpoint's root: an entry was changed, removed, added or reordered"));
    if (!found)
        return failed(
            evidence.index
                ? tr("entry {} of the log does not record the push of package {} with this digest",
                     {std::to_string(*evidence.index), push.package_id})
                : tr("no entry of the log up to the checkpoint records the push of package {} with this digest",
                     {push.package_id}));
    return tr("its push is entry {} of the log {} (tree of size {} recomputed from {})",
              {std::to_string(*found), checkpoint->origin, std::to_string(checkpoint->size), evidence.export_file});
}

// A proof file: C2SP tlog-proof (what push and pull keep, the entry in its extra line), or the
// JSON of `audit proof inclusion -o`.
struct LoadedProof {
    std::uint64_t index = 0;
    std::optional<std::uint64_t> size;  // JSON files name it; a tlog-proof's is its checkpoint's
    std::string entry;
    std::string note;
    std::vector<tlog::Hash> hashes;
};

Result<LoadedProof> load_proof(const std::string& path) {
    auto text = storage::read_small_file(path, 2 << 20);
    if (!text) return text.error();
    LoadedProof out;
    if (text->starts_with("c2sp.org/tlog-proof@v1\n")) {
        auto proof = tlog::parse_proof(*text);
        if (!proof) return bad(path + ": " + proof.error().message);
        if (proof->extra.empty())
            return bad(
                tr("{} does not carry the entry it proves (Serambi's proofs hold it in the extra line)", {path}));
        out.index = proof->index;
        out.entry = std::move(proof->extra);
        out.note = std::move(proof->checkpoint);
        out.hashes = std::move(proof->hashes);
        return out;
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(*text, ec);
    if (ec || !value.is_object())
        return bad(tr("{} is neither a C2SP tlog-proof nor a proof file (JSON) from `serambi audit proof inclusion -o`",
                      {path}));
    const auto& o = value.as_object();
    const auto* entry = o.if_contains("entry");
    const auto* note = o.if_contains("checkpoint");
    auto count = [](const boost::json::value* v) -> std::optional<std::uint64_t> {
        if (v != nullptr && v->is_uint64()) return v->get_uint64();
        if (v != nullptr && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
        return std::nullopt;
    };
    const auto leaf_index = count(o.if_contains("index"));
    out.size = count(o.if_contains("size"));
    if (!leaf_index || !out.size || entry == nullptr || !entry->is_string() || note == nullptr || !note->is_string())
        return bad(tr("{} lacks index, size, entry or checkpoint", {path}));
    out.index = *leaf_index;
    out.entry = std::string(entry->get_string());
    out.note = std::string(note->get_string());
    auto hashes = storage::proof_hashes(*text);
    if (!hashes) return hashes.error();
    out.hashes = std::move(*hashes);
    return out;
}

// The proof checked against the log key (and the witnesses, if asked): the entry is in the signed
// tree. Returns the checkpoint it was proven in.
Result<tlog::Checkpoint> proven(const LoadedProof& proof, const LogEvidence& evidence, const std::string& key,
                                std::string& witnessed) {
    std::string note_text = proof.note;
    if (!evidence.checkpoint.empty()) {
        auto saved = storage::read_small_file(evidence.checkpoint, 1 << 16);
        if (!saved) return saved.error();
        note_text = *saved;
    }
    auto checkpoint =
        verified_checkpoint(note_text, key, evidence.checkpoint.empty() ? "the proof's checkpoint" : "the checkpoint");
    if (!checkpoint) return checkpoint.error();
    if (evidence.witnesses.requested()) {
        auto quorum = check_witnesses(note_text, evidence.witnesses);
        if (!quorum) return quorum.error();
        witnessed = ", " + *quorum;
    }
    if (proof.size && *proof.size != checkpoint->size)
        return bad(tr("the proof is for a tree of size {}, the checkpoint's is {}: fetch a proof for that checkpoint",
                      {std::to_string(*proof.size), std::to_string(checkpoint->size)}));
    if (evidence.index && *evidence.index != proof.index)
        return failed(tr("the proof is for entry {}, the receipt names entry {}",
                         {std::to_string(proof.index), std::to_string(*evidence.index)}));
    if (!tlog::verify_inclusion(proof.index, checkpoint->size, tlog::leaf_hash(crypto::as_bytes(proof.entry)),
                                proof.hashes, checkpoint->root))
        return failed(tr("entry {} is not in the signed tree of size {} (the proof or the entry was altered)",
                         {std::to_string(proof.index), std::to_string(checkpoint->size)}));
    return checkpoint;
}

Result<std::string> push_by_proof(const LogEvidence& evidence, const std::string& key, const PushFacts& push) {
    auto proof = load_proof(evidence.proof);
    if (!proof) return proof.error();
    if (!storage::records_push(proof->entry, push.package_id, push.dataset, push.sha256_hex))
        return failed(
            tr("the proof's entry does not record the push of package {} with this digest", {push.package_id}));
    std::string witnessed;
    auto checkpoint = proven(*proof, evidence, key, witnessed);
    if (!checkpoint) return checkpoint.error();
    return tr("its push is entry {} of the log {}, proven in the signed tree of size {}{}",
              {std::to_string(proof->index), checkpoint->origin, std::to_string(checkpoint->size), witnessed});
}

Result<std::string> read_key_text(const std::string& key_or_file) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(key_or_file, ec)) {
        auto text = storage::read_small_file(key_or_file, 4096);
        if (!text) return text.error();
        return trimmed(*text);
    }
    return key_or_file;
}

}  // namespace

Result<std::string> check_witnesses(const std::string& note, const WitnessPolicy& policy) {
    if (policy.keys.empty()) return bad(tr("--quorum needs the witnesses' keys (--witness)"));
    std::vector<std::string> keys;
    for (const auto& k : policy.keys) {
        auto text = read_key_text(k);
        if (!text) return text.error();
        if (tlog::verifier_key_name(*text, tlog::KeyType::cosignature).empty())
            return bad(tr("--witness {} is not a witness's verifier key (NAME+HASH+BASE64 of a cosignature key)", {k}));
        keys.push_back(std::move(*text));
    }
    const std::size_t needed = policy.quorum == 0 ? keys.size() : policy.quorum;
    if (needed > keys.size())
        return bad(tr("--quorum {} is more than the {} witnesses given",
                      {std::to_string(needed), std::to_string(keys.size())}));
    auto valid = tlog::count_cosignatures(note, keys);
    if (!valid) return valid.error();
    if (*valid < needed)
        return failed(
            tr("the checkpoint is cosigned by {} of the {} witnesses given; {} are needed (a checkpoint "
               "no witness saw may be a view shown to you alone)",
               {std::to_string(*valid), std::to_string(keys.size()), std::to_string(needed)}));
    return tr("cosigned by {} of {} witnesses", {std::to_string(*valid), std::to_string(keys.size())});
}

Result<std::string> check_push_logged(const LogEvidence& evidence, const PushFacts& push) {
    if (evidence.key.empty()) return bad(tr("--log-key (the log's verifier key) is needed to check the access log"));
    if (evidence.export_file.empty() == evidence.proof.empty())
        return bad(tr("give either --export or --proof to check the access log"));
    if (!evidence.export_file.empty() && evidence.checkpoint.empty())
        return bad(tr("--export needs --checkpoint, the checkpoint the export matches"));
    auto key = storage::read_small_file(evidence.key, 4096);
    if (!key) return key.error();
    if (!evidence.proof.empty()) return push_by_proof(evidence, *key, push);
    auto note = storage::read_small_file(evidence.checkpoint, 1 << 16);
    if (!note) return note.error();
    auto found = push_in_export(evidence, *note, *key, push);
    if (!found) return found.error();
    std::string witnessed;
    if (evidence.witnesses.requested()) {
        auto quorum = check_witnesses(*note, evidence.witnesses);
        if (!quorum) return quorum.error();
        witnessed = ", " + *quorum;
    }
    return *found + witnessed;
}

int run_audit_key(const AuditOptions& options) {
    auto client = connect(options.profile);
    if (!client) return report("audit key", client.error());
    auto key = fetch(**client, "/v1/audit/key");
    if (!key) return report("audit key", key.error());
    std::cout << *key;
    return 0;
}

int run_audit_package(const AuditOptions& options) {
    const std::string command = "audit package";
    if (!storage::is_package_id(options.package))
        return report(command, make_error(ErrorKind::invalid_argument, tr("a package id is 32 hex digits")));
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    auto reply = (*client)->request("GET", "/v1/audit/packages/" + options.package, "");
    if (!reply) return report(command, reply.error());
    if (reply->status != 200) return report_reply(command, *reply);
    if (::isatty(STDOUT_FILENO) != 1) {
        std::cout << reply->body;
        return 0;
    }
    if (options.json) {
        std::cout << for_terminal(reply->body.substr(0, reply->body.find_last_not_of('\n') + 1)) << "\n";
        return 0;
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(reply->body, ec);
    if (ec || !value.is_object())
        return report(command, make_error(ErrorKind::corruption, tr("the gateway's answer is not a package")));
    const auto& o = value.as_object();
    auto field = [&](const char* name) {
        const auto* v = o.if_contains(name);
        return v && v->is_string() ? for_terminal(v->get_string()) : std::string("-");
    };
    std::uint64_t size = 0;
    if (const auto* v = o.if_contains("size"); v && v->is_uint64()) size = v->get_uint64();
    if (const auto* v = o.if_contains("size"); v && v->is_int64() && v->get_int64() >= 0)
        size = static_cast<std::uint64_t>(v->get_int64());
    const std::pair<std::string, std::string> lines[] = {
        {say(Msg::column_package), field("package_id")},
        {say(Msg::column_dataset), field("dataset")},
        {say(Msg::column_file), field("filename") + " (" + field("media_type") + ")"},
        {say(Msg::column_size), size_for_people(static_cast<double>(size)) + " (" + std::to_string(size) + " B)"},
        {say(Msg::column_class), field("classification")},
        {say(Msg::column_producer), field("producer")},
        {say(Msg::column_time), local_time(field("created_at")) + " (" + field("created_at") + ")"},
        {"SHA-256", field("sha256")}};
    for (const auto& [label, text] : lines) std::cout << std::left << std::setw(13) << label << text << "\n";
    return 0;
}

int run_audit_checkpoint(const AuditOptions& options) {
    auto client = connect(options.profile);
    if (!client) return report("audit checkpoint", client.error());
    // With witnesses named: the newest checkpoint that enough of them cosigned, checked here.
    const auto needed = options.witnesses.quorum == 0 ? options.witnesses.keys.size() : options.witnesses.quorum;
    auto note =
        fetch(**client, options.witnesses.requested() ? "/v1/audit/checkpoint?witnessed=" + std::to_string(needed)
                                                      : std::string("/v1/audit/checkpoint"));
    if (!note) return report("audit checkpoint", note.error());
    if (options.witnesses.requested()) {
        auto quorum = check_witnesses(*note, options.witnesses);
        if (!quorum) return report("audit checkpoint", quorum.error());
        std::cerr << "serambi audit checkpoint: " << *quorum << "\n";
    }
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
    if (!checkpoint)
        return report(command, make_error(ErrorKind::corruption, tr("the gateway's checkpoint is malformed")));
    // The log names who read what: the export is the auditor's alone.
    auto out = AtomicFile::create(options.output, 0600);
    if (!out) return report(command, out.error());
    if (options.csv)
        if (auto s = out->write(storage::audit_csv_header() + "\n"); !s) return report(command, s.error());
    if (options.from > checkpoint->size)
        return report(command, bad(tr("--from {} is past the log's {} entries",
                                      {std::to_string(options.from), std::to_string(checkpoint->size)})));
    std::uint64_t start = options.from, lines = 0;
    while (start < checkpoint->size) {
        auto reply = (*client)->request(
            "GET", "/v1/audit/entries?start=" + std::to_string(start) + "&end=" + std::to_string(checkpoint->size), "");
        if (!reply) return report(command, reply.error());
        if (reply->status != 200) return report_reply(command, *reply);
        std::size_t at = 0;
        while (at < reply->body.size()) {
            const auto nl = reply->body.find('\n', at);
            const auto line = reply->body.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
            const std::uint64_t index = options.from + lines;
            if (auto s = out->write((options.csv ? storage::audit_csv_row(line, index) : line) + "\n"); !s)
                return report(command, s.error());
            ++lines;
            if (nl == std::string::npos) break;
            at = nl + 1;
        }
        std::uint64_t next = 0;
        const auto header = reply->headers.find("serambi-next-start");
        if (header == reply->headers.end() || !(std::istringstream(header->second) >> next) || next <= start)
            return report(command,
                          make_error(ErrorKind::corruption, tr("the gateway did not say where the next page starts")));
        start = next;
    }
    if (auto s = out->commit(); !s) return report(command, s.error());
    if (!options.csv)
        if (auto s = write_file(options.output + ".checkpoint", *note, 0644); !s) return report(command, s.error());
    std::cerr << tr("exported {} entries{} of the tree of size {} to {}{}",
                    {std::to_string(lines),
                     options.from > 0 ? tr(" ({} to {}, an incremental export)",
                                           {std::to_string(options.from), std::to_string(checkpoint->size - 1)})
                                      : std::string(),
                     std::to_string(checkpoint->size), options.output,
                     options.csv ? std::string() : tr("; checkpoint in {}", {options.output + ".checkpoint"})})
              << "\n";
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
    // Which key signs a checkpoint depends on the hand-overs the export holds before it: the
    // sizes are read first, the signatures checked once the export has been followed.
    auto claimed = storage::unverified_checkpoint(*note);
    if (!claimed) return report(command, failed(tr("the checkpoint: {}", {claimed.error().message})));
    std::optional<std::string> old_note;
    std::optional<tlog::Checkpoint> previous;
    if (!options.previous.empty()) {
        auto text = storage::read_small_file(options.previous, 1 << 16);
        if (!text) return report(command, text.error());
        auto old = storage::unverified_checkpoint(*text);
        if (!old) return report(command, failed(tr("the previous checkpoint: {}", {old.error().message})));
        old_note = std::move(*text);
        previous = *old;
    }
    // The exports in order are one log from entry 0: a full export, then incremental ones.
    std::vector<std::ifstream> files;
    for (const auto& file : options.more_exports) {
        files.emplace_back(file, std::ios::binary);
        if (!files.back()) return report(command, make_error(ErrorKind::io_error, tr("cannot read {}", {file})));
    }
    std::size_t reading = 0;
    auto next_line = [&](std::string& out) {
        while (reading < files.size()) {
            if (std::getline(files[reading], out)) return true;
            ++reading;
        }
        return false;
    };
    auto more_after = [&] {
        for (std::size_t i = reading; i < files.size(); ++i)
            if (files[i].peek() != std::ifstream::traits_type::eof()) return true;
        return false;
    };
    tlog::TreeBuilder tree;
    storage::KeyChain keys(*key);
    std::optional<tlog::Hash> previous_root_seen;
    if (previous && previous->size == 0) previous_root_seen = tlog::empty_root();
    std::string line;
    while (tree.size() < claimed->size && next_line(line)) {
        if (auto s = keys.see(line, tree); !s) return report(command, failed(s.error().message));
        tree.add(tlog::leaf_hash(crypto::as_bytes(line)));
        if (previous && tree.size() == previous->size) previous_root_seen = tree.root();
    }
    auto checkpoint = verified_checkpoint(*note, keys.key_for(claimed->size), "the checkpoint");
    if (!checkpoint) return report(command, checkpoint.error());
    std::string witnessed;
    if (options.witnesses.requested()) {
        auto quorum = check_witnesses(*note, options.witnesses);
        if (!quorum) return report(command, quorum.error());
        witnessed = ", " + *quorum;
    }
    if (previous) {
        auto old = verified_checkpoint(*old_note, keys.key_for(previous->size), "the previous checkpoint");
        if (!old) return report(command, old.error());
        if (old->size > checkpoint->size) {
            std::cerr << "serambi audit verify: FAILED: "
                      << tr("the log was rolled back: the previous checkpoint has {} entries, the "
                            "new one {}",
                            {std::to_string(old->size), std::to_string(checkpoint->size)})
                      << "\n";
            return 1;
        }
    }
    if (tree.size() < checkpoint->size) {
        std::cerr << "serambi audit verify: FAILED: "
                  << tr("the export has {} entries, the checkpoint {}",
                        {std::to_string(tree.size()), std::to_string(checkpoint->size)})
                  << "\n";
        return 1;
    }
    if (more_after()) {
        std::cerr << "serambi audit verify: FAILED: "
                  << tr("the export holds lines after the checkpoint's {} entries, which no "
                        "signature covers",
                        {std::to_string(checkpoint->size)})
                  << "\n";
        return 1;
    }
    if (tree.root() != checkpoint->root) {
        std::cerr << "serambi audit verify: FAILED: "
                  << (files.size() > 1
                          ? tr("the export does not hash to the checkpoint's root: an entry was changed, removed, "
                               "added or reordered, or the exports do not follow each other (give the full export "
                               "first, then each incremental one in order, each --from where the one before ended)")
                          : tr("the export does not hash to the checkpoint's root: an entry was changed, removed, "
                               "added or reordered"))
                  << "\n";
        return 1;
    }
    if (previous && (!previous_root_seen || *previous_root_seen != previous->root)) {
        std::cerr << "serambi audit verify: FAILED: "
                  << tr("the log is not an extension of the previous checkpoint (size {}): its "
                        "history was rewritten or forked",
                        {std::to_string(previous->size)})
                  << "\n";
        return 1;
    }
    const auto followed = keys.handovers_followed(previous ? previous->size : checkpoint->size, checkpoint->size);
    std::string handed_over;
    if (followed == 1)
        handed_over =
            tr("; the log key was handed over {} time between the key given and the checkpoint's, each "
               "hand-over signed by both keys; the checkpoint's key is {}",
               {std::to_string(followed), keys.key_for(checkpoint->size)});
    else if (followed > 1)
        handed_over =
            tr("; the log key was handed over {} times between the key given and the checkpoint's, each "
               "hand-over signed by both keys; the checkpoint's key is {}",
               {std::to_string(followed), keys.key_for(checkpoint->size)});
    std::cout << tr("OK: {} entries of {} match the signed checkpoint{}{}{}",
                    {std::to_string(checkpoint->size), checkpoint->origin,
                     previous ? tr(" and extend the previous one (size {})", {std::to_string(previous->size)})
                              : std::string(),
                     witnessed, handed_over})
              << "\n";
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
        return report(command, bad(tr("the log has only {} entries", {std::to_string(checkpoint->size)})));
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
        std::cerr << "serambi " << command << ": FAILED: "
                  << tr("entry {} is not in the signed tree of size {}",
                        {std::to_string(options.index), std::to_string(checkpoint->size)})
                  << "\n";
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
    std::cout << line << "\n"
              << tr("OK: entry {} is in the signed tree of size {}{}",
                    {std::to_string(options.index), std::to_string(checkpoint->size),
                     options.proof_output.empty() ? std::string() : tr("; proof saved to {}", {options.proof_output})})
              << "\n";
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
        std::cerr << "serambi " << command << ": FAILED: "
                  << tr("the log of size {} does not extend the saved checkpoint of size {} (rolled "
                        "back, rewritten or forked)",
                        {std::to_string(now->size), std::to_string(old->size)})
                  << "\n";
        return 1;
    }
    std::cout << *note
              << tr("OK: the current log (size {}) extends the saved checkpoint (size {})",
                    {std::to_string(now->size), std::to_string(old->size)})
              << "\n";
    return 0;
}

namespace {

// Server-sent events as they arrive: "id:" and "data:" lines, a blank line ending each event,
// ":" lines only keeping the stream alive.
class EventReader {
  public:
    explicit EventReader(std::function<void(std::uint64_t, std::string_view)> on_entry)
        : on_entry_(std::move(on_entry)) {}
    // A new stream: nothing half-read of the last one may join the first line of this one.
    void restart() {
        pending_.clear();
        event_ = "message";
        data_.clear();
        id_.reset();
    }
    Status feed(crypto::ByteView bytes) {
        pending_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        std::size_t at = 0;
        for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', at)) {
            std::string_view line(pending_.data() + at, nl - at);
            at = nl + 1;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            take(line);
        }
        pending_.erase(0, at);
        // Only an unfinished line is held; one this long is no entry of ours.
        if (pending_.size() > kMaxLine)
            return make_error(ErrorKind::corruption, tr("the gateway sent an overlong event"));
        return {};
    }
    std::optional<std::uint64_t> last_id() const { return last_id_; }

  private:
    void take(std::string_view line) {
        if (line.empty()) {
            if (event_ == "entry" && id_ && !data_.empty()) {
                on_entry_(*id_, data_);
                last_id_ = id_;
            }
            event_ = "message";
            data_.clear();
            id_.reset();
        } else if (line.starts_with("id: ")) {
            std::uint64_t id = 0;
            const auto digits = line.substr(4);
            auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
            if (ec == std::errc() && p == digits.data() + digits.size()) id_ = id;
        } else if (line.starts_with("event: ")) {
            event_ = std::string(line.substr(7));
        } else if (line.starts_with("data: ")) {
            data_ = std::string(line.substr(6));
        }
    }

    static constexpr std::size_t kMaxLine = 1 << 20;
    std::function<void(std::uint64_t, std::string_view)> on_entry_;
    std::string pending_, event_ = "message", data_;
    std::optional<std::uint64_t> id_, last_id_;
};

}  // namespace

int run_audit_tail(const AuditOptions& options) {
    const std::string command = "audit tail";
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    auto reply = (*client)->request("GET", "/v1/audit/entries?start=0&end=0", "");
    if (!reply) return report(command, reply.error());
    if (reply->status != 200) return report_reply(command, *reply);
    std::uint64_t size = 0;
    std::istringstream(reply->headers["serambi-log-size"]) >> size;
    std::uint64_t next = size > options.count ? size - options.count : 0;
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
    // Followed as the gateway writes them: one stream (one access-log entry when it opens, one
    // when it closes), resumed after the last entry seen when it ends or the link drops.
    // Exactly as logged when piped (so that each line still hashes to its leaf), cleaned of
    // control sequences on a terminal.
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    EventReader events([terminal](std::uint64_t, std::string_view entry) {
        std::cout << (terminal ? for_terminal(entry) : std::string(entry)) << "\n" << std::flush;
    });
    std::string resume = "start=" + std::to_string(size);
    for (int failures = 0;;) {
        const auto began = std::chrono::steady_clock::now();
        if (!client) client = connect(options.profile);
        bool ran = false;
        if (client) {
            std::map<std::string, std::string> headers;
            if (events.last_id()) headers["Last-Event-ID"] = std::to_string(*events.last_id());
            events.restart();
            auto streamed = (*client)->download(
                "/v1/audit/follow?" + resume, [&](crypto::ByteView bytes) { return events.feed(bytes); }, {}, headers);
            // 503: the gateway has no place for another stream now (a stream of ours that it has
            // not yet seen end holds one): wait, as for a dropped link. Any other refusal ends.
            if (streamed && streamed->status != 200 && streamed->status != 503) return report_reply(command, *streamed);
            ran = streamed && streamed->status == 200;
            client = make_error(ErrorKind::unavailable, !streamed                 ? streamed.error().message
                                                        : streamed->status == 503 ? describe_failure(*streamed)
                                                                                  : tr("the stream ended"));
        }
        // The gateway ends a stream after an hour, and restarts; a weak link drops. A stream that
        // ran a while is followed by the next at once; one that failed or ended at once backs
        // off, up to a minute, so that nothing here can turn into a storm of requests. An
        // answered refusal (above) ends the command.
        const bool healthy = ran && std::chrono::steady_clock::now() - began > std::chrono::seconds(30);
        failures = healthy ? 0 : failures + 1;
        const int wait = healthy ? 1 : std::min(60, 1 << std::min(failures, 6));
        if (!healthy)
            std::cerr << "serambi audit tail: "
                      << tr("{}; again in {} s", {for_terminal(client.error().message), std::to_string(wait)}) << "\n";
        std::this_thread::sleep_for(std::chrono::seconds(wait));
    }
}

// A query value, percent-encoded (RFC 3986 unreserved characters kept).
std::string query_value(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// A --since or --until as the gateway compares times (RFC 3339, UTC): a bare date is midnight
// where the auditor is; a time is UTC as written.
Result<std::string> utc_bound(const std::string& text, const char* flag) {
    auto t = parse_time(text);
    if (!t) return bad(tr("{} takes a date (2026-11-01, local midnight) or a UTC time (2026-11-01T08:00:00Z)", {flag}));
    if (text.size() == 10) {
        std::tm local{};
        local.tm_year = std::stoi(text.substr(0, 4)) - 1900;
        local.tm_mon = std::stoi(text.substr(5, 2)) - 1;
        local.tm_mday = std::stoi(text.substr(8, 2));
        local.tm_isdst = -1;
        const std::time_t midnight = std::mktime(&local);
        if (midnight == static_cast<std::time_t>(-1)) return bad(tr("{}: no such local date", {flag}));
        return format_time(static_cast<std::int64_t>(midnight));
    }
    return format_time(*t);
}

// "2026-11-25T08:00:00Z" in the local zone, to the minute, for people.
std::string local_time(std::string_view rfc3339) {
    auto t = parse_time(rfc3339);
    if (!t) return for_terminal(rfc3339);
    const auto seconds = static_cast<std::time_t>(*t);
    std::tm parts{};
    char text[32];
    if (::localtime_r(&seconds, &parts) == nullptr || std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &parts) == 0)
        return for_terminal(rfc3339);
    return text;
}

namespace {

// One matching entry as a table row: index, local time, who, what, the decision, and what it
// concerns (a package by its first 12 hex digits; --json and --csv carry it whole).
std::string search_row(std::uint64_t index, std::string_view entry) {
    boost::system::error_code ec;
    auto value = boost::json::parse(entry, ec);
    const boost::json::object* o = !ec && value.is_object() ? &value.as_object() : nullptr;
    auto field = [&](const char* name) -> std::string {
        const auto* v = o ? o->if_contains(name) : nullptr;
        return v && v->is_string() ? for_terminal(v->get_string()) : std::string("-");
    };
    std::string what = field("resource");
    if (what.starts_with("datasets/")) what.erase(0, 9);
    if (const auto at = what.find("/packages/"); at != std::string::npos) {
        auto package = what.substr(at + 10);
        if (package.size() > 12) package = package.substr(0, 12) + "…";
        what = what.substr(0, at) + " " + say(Msg::object_package, {package});
    }
    std::ostringstream row;
    row << std::left << std::setw(8) << index << "  " << std::setw(16) << local_time(field("time")) << "  "
        << std::setw(18) << field("principal") << "  " << std::setw(18) << field("action") << "  " << std::setw(9)
        << field("decision") << "  " << std::setw(14) << field("classification") << "  " << what;
    return row.str();
}

}  // namespace

int run_audit_search(const AuditOptions& options) {
    const std::string command = "audit search";
    std::string filters;
    for (const auto& [name, value] :
         {std::pair{"principal", &options.principal}, std::pair{"dataset", &options.dataset},
          std::pair{"package", &options.package}, std::pair{"action", &options.action},
          std::pair{"decision", &options.decision}, std::pair{"classification", &options.classification}})
        if (!value->empty()) filters += std::string("&") + name + "=" + query_value(*value);
    for (const auto& [name, value] : {std::pair{"since", &options.since}, std::pair{"until", &options.until}}) {
        if (value->empty()) continue;
        auto bound = utc_bound(*value, name == std::string("since") ? "--since" : "--until");
        if (!bound) return report(command, bound.error());
        filters += std::string("&") + name + "=" + query_value(*bound);
    }
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    // People at a terminal get a table; scripts and pipes the machine form unless --csv.
    const bool table = !options.json && !options.csv && ::isatty(STDOUT_FILENO) == 1;
    const bool json = !options.csv && !table;
    if (options.csv) std::cout << storage::audit_csv_header() << "\n";
    if (table)
        std::cout << std::left << std::setw(8) << say(Msg::column_index) << "  " << std::setw(16)
                  << say(Msg::column_time) << "  " << std::setw(18) << say(Msg::column_principal) << "  "
                  << std::setw(18) << say(Msg::column_action) << "  " << std::setw(9) << say(Msg::column_decision)
                  << "  " << std::setw(14) << say(Msg::column_class) << "  " << say(Msg::column_object) << "\n";
    // The log as it is when the search begins: entries added meanwhile wait for the next search,
    // and a gateway that keeps moving the end cannot keep this loop going.
    std::optional<std::uint64_t> end;
    std::uint64_t start = 0, size = 1, matches = 0, last = 0;
    while (start < size) {
        auto reply = (*client)->request("GET",
                                        "/v1/audit/entries?indexed=true&start=" + std::to_string(start) +
                                            (end ? "&end=" + std::to_string(*end) : std::string()) + filters,
                                        "");
        if (!reply) return report(command, reply.error());
        if (reply->status != 200) return report_reply(command, *reply);
        std::uint64_t next = 0;
        if (!(std::istringstream(reply->headers["serambi-log-size"]) >> size) ||
            !(std::istringstream(reply->headers["serambi-next-start"]) >> next))
            return report(command,
                          make_error(ErrorKind::corruption, tr("the gateway did not say where the next page starts")));
        if (!end) end = size;
        size = std::min(size, *end);
        if ((next <= start && start < size) || next > start + 10000)
            return report(command,
                          make_error(ErrorKind::corruption, tr("the gateway's pages do not follow each other")));
        std::istringstream lines(reply->body);
        std::string line;
        while (std::getline(lines, line)) {
            boost::system::error_code ec;
            auto value = boost::json::parse(line, ec);
            const auto* o = !ec && value.is_object() ? &value.as_object() : nullptr;
            const auto* index = o ? o->if_contains("index") : nullptr;
            const auto* entry = o ? o->if_contains("entry") : nullptr;
            const bool whole = index && (index->is_uint64() || (index->is_int64() && index->get_int64() >= 0));
            if (!whole || !entry || !entry->is_string())
                return report(command, make_error(ErrorKind::corruption, tr("the gateway sent a malformed entry")));
            last = index->is_uint64() ? index->get_uint64() : static_cast<std::uint64_t>(index->get_int64());
            if (last < start || last >= next)
                return report(command, make_error(ErrorKind::corruption, tr("the gateway sent an entry off its page")));
            ++matches;
            if (json)
                std::cout << line << "\n";
            else if (options.csv)
                std::cout << storage::audit_csv_row(entry->get_string(), last) << "\n";
            else
                std::cout << search_row(last, entry->get_string()) << "\n";
        }
        if (next <= start) break;
        start = next;
    }
    std::cout << std::flush;
    std::cerr << (matches == 1 ? tr("{} entry matches (access log of {} entries)",
                                    {std::to_string(matches), std::to_string(size)})
                               : tr("{} entries match (access log of {} entries)",
                                    {std::to_string(matches), std::to_string(size)}));
    if (matches > 0)
        std::cerr << tr("; prove one: serambi audit proof inclusion --index {} --key log.vkey", {std::to_string(last)});
    std::cerr << "\n";
    return 0;
}

Result<std::string> fetch_own_proof(Client& client, const std::string& which, std::chrono::seconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
        auto reply = client.request("GET", "/v1/log/proof?" + which, "");
        if (!reply) return reply.error();
        if (reply->status == 200) {
            if (!tlog::parse_proof(reply->body))
                return make_error(ErrorKind::corruption, tr("the gateway's proof is malformed"));
            return reply->body;
        }
        // 503: the entry or its checkpoint is not there yet (they follow within a second).
        if (reply->status != 503 || std::chrono::steady_clock::now() >= deadline)
            return make_error(reply->status == 503 ? ErrorKind::unavailable : ErrorKind::not_found,
                              tr("no proof: {}", {describe_failure(*reply)}));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
}

void keep_proof(const std::string& proof, const std::filesystem::path& path, bool quiet, Existing existing) {
    // The entry names the dataset, package and digest: the user's alone, like the manifest.
    if (auto s = write_file(path.string(), proof, 0600, existing); !s) {
        std::cerr << "serambi: "
                  << tr("warning: cannot keep the access-log proof in {}: {} (`serambi proof` fetches it again)",
                        {path.string(), s.error().message})
                  << "\n";
        return;
    }
    if (quiet) return;
    auto parsed = tlog::parse_proof(proof);
    std::cerr << "serambi: "
              << tr("the access log holds this as entry {}; its proof is in {} (check it with `serambi verify {} "
                    "--log-key KEY`)",
                    {parsed ? std::to_string(parsed->index) : "?", path.string(), path.string()})
              << "\n";
}

int run_proof(const ProofOptions& options) {
    const std::string command = "proof";
    if (options.index.has_value() == !options.request.empty())
        return report(command, bad(tr("name the entry with --index N or --request ID (one of them)")));
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    std::string which = options.index ? "index=" + std::to_string(*options.index) : "request=" + options.request;
    if (options.witnessed != 0) which += "&witnessed=" + std::to_string(options.witnessed);
    auto proof = fetch_own_proof(**client, which, std::chrono::seconds(options.witnessed != 0 ? 30 : 10));
    if (!proof) return report(command, proof.error());
    if (options.output.empty()) {
        std::cout << *proof;
        return 0;
    }
    if (auto s = write_file(options.output, *proof, 0600); !s) return report(command, s.error());
    std::cerr << tr("proof saved to {}", {options.output}) << "\n";
    return 0;
}

// `serambi verify FILE.tlog-proof --log-key KEY`: the proof alone, offline.
int run_verify_proof(const VerifyOptions& options) {
    const std::string command = "verify";
    if (options.log.key.empty())
        return report(command, bad(tr("a proof is checked against the log's verifier key: give --log-key")));
    auto key = storage::read_small_file(options.log.key, 4096);
    if (!key) return report(command, key.error());
    auto proof = load_proof(options.file);
    if (!proof) return report(command, proof.error());
    std::string witnessed;
    auto checkpoint = proven(*proof, options.log, *key, witnessed);
    if (!checkpoint) return report(command, checkpoint.error());
    boost::system::error_code ec;
    auto v = boost::json::parse(proof->entry, ec);
    auto field = [&](const char* name) -> std::string {
        const auto* f = !ec && v.is_object() ? v.as_object().if_contains(name) : nullptr;
        if (f == nullptr) return "-";
        return f->is_string() ? std::string(f->get_string()) : boost::json::serialize(*f);
    };
    std::cout << tr("OK: entry {} of the log {} is in the signed tree of size {}{}",
                    {std::to_string(proof->index), checkpoint->origin, std::to_string(checkpoint->size), witnessed})
              << "\n"
              << "  " << field("time") << " " << field("principal") << " " << field("action") << " "
              << field("resource") << ": " << field("decision") << " (" << field("status") << ")"
              << (field("sha256") != "-" && !field("sha256").empty() ? ", sha256 " + field("sha256") : "") << "\n";
    return 0;
}

}  // namespace serambi::cli
