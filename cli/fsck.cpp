// serambi fsck: what the gateway's stores say about each other, for an operator deciding what to
// restore. It changes nothing, so it is safe beside a running gateway and on a damaged copy.
#include <iostream>

#include "cli/commands.h"
#include "cli/messages.h"
#include "crypto/tlog.h"
#include "gateway/gateway.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

class Findings {
  public:
    void ok(const std::string& what) { std::cout << "ok       " << what << "\n"; }
    void note(const std::string& what) { std::cout << "note     " << what << "\n"; }
    void problem(const std::string& what) {
        std::cout << "PROBLEM  " << what << "\n";
        ++problems_;
    }
    unsigned problems() const noexcept { return problems_; }

  private:
    unsigned problems_ = 0;
};

void check_log(storage::Store& store, const gateway::Config& config, Findings& findings) {
    auto head = store.log().head();
    if (!head) return findings.problem(tr("access log: cannot read its head: {}", {head.error().message}));
    // The stored tree nodes are a cache of the entries: recompute the root from the entries.
    crypto::tlog::TreeBuilder tree;
    for (std::uint64_t start = 0; start < head->size;) {
        auto page = store.log().entries(start, head->size, 10000);
        if (!page || page->empty())
            return findings.problem(page ? tr("access log: entries from {} cannot be read", {std::to_string(start)})
                                         : tr("access log: entries from {} cannot be read: {}",
                                              {std::to_string(start), page.error().message}));
        for (const auto& entry : *page) tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(entry)));
        start += page->size();
    }
    if (tree.root() != head->root)
        findings.problem(tr("access log: the stored tree does not match its {} entries", {std::to_string(head->size)}));
    else
        findings.ok(tr("access log: {} entries, tree matches them", {std::to_string(head->size)}));

    auto log_key = crypto::read_secret_file(config.log_key, 4096);
    if (!log_key) return findings.problem(tr("access log: cannot read the log key: {}", {log_key.error().message}));
    while (!log_key->empty() && (log_key->view().back() == '\n' || log_key->view().back() == '\r'))
        log_key->shrink(log_key->size() - 1);
    auto signer = crypto::tlog::NoteSigner::from_private(*log_key);
    if (!signer) return findings.problem(tr("access log: the log key does not load: {}", {signer.error().message}));
    auto note = store.log().latest_checkpoint();
    if (!note) {
        if (note.error().kind == ErrorKind::not_found) return findings.note(tr("access log: no checkpoint issued yet"));
        return findings.problem(tr("access log: cannot read the latest checkpoint: {}", {note.error().message}));
    }
    auto body = crypto::tlog::verify_note(*note, signer->verifier_key());
    auto checkpoint =
        body ? crypto::tlog::parse_checkpoint_body(*body) : Result<crypto::tlog::Checkpoint>(body.error());
    if (!checkpoint)
        return findings.problem(
            tr("access log: the latest checkpoint does not verify with the log key: {}", {checkpoint.error().message}));
    if (checkpoint->size > head->size)
        return findings.problem(tr("access log: the latest checkpoint covers {} entries, more than the log holds ({})",
                                   {std::to_string(checkpoint->size), std::to_string(head->size)}));
    auto root = store.log().root(checkpoint->size);
    if (!root || *root != checkpoint->root)
        return findings.problem(
            tr("access log: the latest checkpoint (size {}) does not match the log's tree at that size",
               {std::to_string(checkpoint->size)}));
    findings.ok(tr("access log: latest checkpoint (size {}) verifies and matches", {std::to_string(checkpoint->size)}));
}

void check_state(storage::Store& store, const gateway::Config& config, Findings& findings) {
    auto state = storage::StateFile::read(config.state);
    if (!state) return findings.problem(tr("state file: {}", {state.error().message}));
    if (!state->has_value())
        return findings.problem(
            tr("state file: {} is missing (the gateway makes a new one at start, and cannot then "
               "tell an older database from the newest)",
               {config.state.string()}));
    const auto& known = **state;
    auto head = store.log().head();
    if (!head) return findings.problem(tr("state file: cannot read the access log's head"));
    if (head->size < known.checkpoint_size) {
        findings.problem(
            tr("state file: the gateway published a checkpoint of {} entries, but this database's log "
               "holds {} (an older copy?)",
               {std::to_string(known.checkpoint_size), std::to_string(head->size)}));
    } else if (auto root = store.log().root(known.checkpoint_size); !root || *root != known.checkpoint_root) {
        findings.problem(tr("state file: the log at size {} differs from what the gateway published",
                            {std::to_string(known.checkpoint_size)}));
    } else {
        findings.ok(tr("state file: the database holds the published checkpoint (size {})",
                       {std::to_string(known.checkpoint_size)}));
    }
    auto revocations = store.registry().revocations();
    if (!revocations)
        return findings.problem(tr("state file: cannot read the revocations: {}", {revocations.error().message}));
    std::set<std::string> in_database;
    for (const auto& r : *revocations) in_database.insert(r.serial_hex);
    unsigned lost = 0;
    for (const auto& serial : known.revoked)
        if (!in_database.count(serial)) {
            findings.problem(tr("state file: certificate {} was revoked, but the database does not say so", {serial}));
            ++lost;
        }
    if (lost == 0)
        findings.ok(
            tr("state file: all {} recorded revocations are in the database", {std::to_string(known.revoked.size())}));
}

}  // namespace

int run_fsck(const FsckOptions& options) {
    auto config = gateway::load_config(options.config_file);
    if (!config) return report("fsck", config.error());
    // Beside a running gateway, never beside a key rotation; a deployment too damaged to lock
    // (its blob directory gone) is still checked.
    auto lock =
        storage::DeploymentLock::acquire(config->blobs, config->database, storage::DeploymentLock::Mode::inspect);
    if (!lock && lock.error().kind == ErrorKind::conflict) return report("fsck", lock.error());
    auto master = storage::read_master_key(config->master_key);
    if (!master) return report("fsck", master.error());
    Findings findings;
    storage::Store::Options store_options{config->database, config->blobs, config->aead};
    store_options.read_only = true;
    auto store = storage::Store::open(store_options, *master);
    if (!store) {
        findings.problem(tr("database: {}", {store.error().message}));
    } else {
        auto damage = (*store)->integrity_problems();
        if (!damage)
            findings.problem(tr("database: {}", {damage.error().message}));
        else if (!damage->empty())
            for (const auto& line : *damage) findings.problem(tr("database: {}", {line}));
        else
            findings.ok(tr("database: integrity check passed"));

        if (auto blobs = (*store)->packages().check_blobs(options.deep); !blobs) {
            findings.problem(tr("blobs: {}", {blobs.error().message}));
        } else {
            for (const auto& id : blobs->missing) findings.problem(tr("blobs: package {} has no blob", {id}));
            for (const auto& why : blobs->damaged) findings.problem(tr("blobs: package {}", {why}));
            for (const auto& path : blobs->unknown)
                findings.problem(
                    tr("blobs: {} belongs to no package (the next start moves it to quarantine)", {path.string()}));
            for (const auto& path : blobs->quarantined)
                findings.note(tr("blobs: in quarantine, to review: {}", {path.string()}));
            if (blobs->missing.empty() && blobs->damaged.empty() && blobs->unknown.empty())
                findings.ok(options.deep ? tr("blobs: {} packages, each with its payload ({} of them small enough to "
                                              "be kept in the database), every one authenticated",
                                              {std::to_string(blobs->packages), std::to_string(blobs->kept)})
                                         : tr("blobs: {} packages, each with its payload ({} of them small enough to "
                                              "be kept in the database), every one of the right length",
                                              {std::to_string(blobs->packages), std::to_string(blobs->kept)}));
        }
        check_log(**store, *config, findings);
        check_state(**store, *config, findings);
    }
    if (findings.problems() == 0) {
        std::cout << tr("fsck: consistent") << "\n";
        return 0;
    }
    std::cout << tr("fsck: {} problem(s)", {std::to_string(findings.problems())}) << "\n";
    return 1;
}

}  // namespace serambi::cli
