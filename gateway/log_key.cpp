// The access-log key: loaded at start only once a rotation that stopped is settled and the key
// is the one the log itself names, and rotated (`serambi keys rotate-log`) by a hand-over that
// the old key signs, so that an auditor who trusts the old key can follow to the new one.
#include "crypto/tlog.h"
#include "gateway/startup.h"
#include "storage/audit_export.h"

namespace serambi::gateway {
namespace {

namespace tlog = crypto::tlog;

Error bad_key(const Config& config, const std::string& why) {
    return make_error(ErrorKind::invalid_argument, "the access-log key " + config.log_key.string() + " " + why);
}

Result<tlog::NoteSigner> read_log_key(const Config& config) {
    auto text = crypto::read_private_key_file(config.log_key, 4096);
    if (!text) return make_error(text.error().kind, "the access-log key: " + text.error().message);
    auto view = text->view();
    while (!view.empty() && (view.back() == '\n' || view.back() == '\r')) view.remove_suffix(1);
    auto signer = tlog::NoteSigner::from_private(view);
    if (!signer) return bad_key(config, signer.error().message);
    if (signer->type() != tlog::KeyType::note)
        return bad_key(config, "is a witness's cosigning key, not a log key (keys.log_key names the wrong file)");
    if (signer->name() != config.audit_origin)
        return bad_key(config,
                       "is for the log '" + signer->name() + "', but audit.origin says '" + config.audit_origin + "'");
    return signer;
}

}  // namespace

Result<tlog::NoteSigner> load_log_key(const Config& config, storage::Store& store, const LogLine& log) {
    auto handovers = store.log().key_handovers();
    if (!handovers) return handovers.error();
    const std::string current = handovers->empty() ? std::string() : handovers->back().new_key;
    // Only the step the database vouches for is taken here; a KEY.next it does not name waits
    // until the database is checked against the state file (discard_pending_log_key).
    auto settled = storage::install_pending_log_key(config.log_key, current);
    if (!settled) return settled.error();
    if (!settled->empty()) log("warning: " + *settled);
    auto signer = read_log_key(config);
    if (!signer) return signer.error();
    if (!current.empty() && signer->verifier_key() != current) {
        std::string which = "is not the key the access log handed over to at entry " +
                            std::to_string(handovers->back().size) + " (" + current + ")";
        for (const auto& h : *handovers)
            if (h.old_key == signer->verifier_key())
                which = "is the key retired at entry " + std::to_string(h.size) + "; the log is signed by " + current +
                        " since";
        return bad_key(config, which +
                                   ". Put the current key back (from the offline copy or the backup taken after "
                                   "the rotation); checkpoints under another key would not verify");
    }
    // The key must also be the one this database's checkpoints were signed with: a database
    // restored from before a rotation, started with the rotated key, would be a log whose
    // checkpoints change key with no hand-over anyone can follow.
    auto latest = store.log().latest_checkpoint();
    if (!latest && latest.error().kind != ErrorKind::not_found) return latest.error();
    if (latest && !tlog::verify_note(*latest, signer->verifier_key()))
        return bad_key(config,
                       "did not sign this database's latest checkpoint: the database is from before a key "
                       "rotation (or of another log). Put back the log key of the database's time, or the "
                       "newest database");
    return signer;
}

Status log_within_state(const Config& config, storage::Store& store) {
    auto state = storage::StateFile::read(config.state);
    if (!state) return state.error();
    if (!*state) return {};
    auto head = store.log().head();
    if (!head) return head.error();
    const auto& known = **state;
    const bool behind = head->size < known.checkpoint_size;
    auto root = behind ? Result<tlog::Hash>(tlog::Hash{}) : store.log().root(known.checkpoint_size);
    if (!root) return root.error();
    if (behind || *root != known.checkpoint_root)
        return make_error(ErrorKind::conflict,
                          "the database's access log (" + std::to_string(head->size) +
                              " entries) does not extend the checkpoint the state file records (" +
                              std::to_string(known.checkpoint_size) +
                              " entries): start the gateway to see what it says; nothing was changed");
    return {};
}

Status rotate_log_key(const Config& config, const std::function<void(int step, const std::string& done)>& progress) {
    auto master = storage::read_master_key(config.master_key);
    if (!master) return master.error();
    auto store = storage::Store::open({config.database, config.blobs, config.aead}, *master);
    if (!store) return store.error();
    auto old_signer = load_log_key(config, **store, [&](const std::string& line) { progress(0, line); });
    if (!old_signer) return old_signer.error();
    // The old key signs the hand-over over this database's tree: it must be the tree already
    // published, never an older copy's (that would be a fork under the key auditors trust).
    if (auto s = log_within_state(config, **store); !s) return s;
    auto discarded = storage::discard_pending_log_key(config.log_key);
    if (!discarded) return discarded.error();
    if (!discarded->empty()) progress(0, *discarded);

    // 1. The new key, whole on disk before the log names it.
    auto new_signer = tlog::NoteSigner::generate(old_signer->name());
    if (!new_signer) return new_signer.error();
    {
        std::string secret = new_signer->private_text();
        auto staged = storage::stage_log_key(config.log_key, secret);
        crypto::wipe(secret);
        if (!staged) return staged;
    }
    progress(1, "new key written: " + config.log_key.string() + ".next");

    // 2. The hand-over, in one transaction: the announcement, then the checkpoint of the tree
    //    that ends with it, signed by the old key and the new one, held by the next entry.
    const std::string old_key = old_signer->verifier_key();
    const std::string new_key = new_signer->verifier_key();
    const auto announcement = AuditTrail::key_rotation_entry(old_key, new_key);
    auto handover =
        (*store)->log().hand_over_key(old_key, new_key, announcement, [&](std::uint64_t size, const tlog::Hash& root) {
            const auto body = storage::handover_checkpoint_body({old_signer->name(), size, root}, new_key);
            // One note, two signature lines: the old key's (so that who trusts it may follow) and
            // the new key's (the new key's holder accepts the hand-over).
            std::string note = old_signer->sign(body);
            const std::string by_new = new_signer->sign(body);
            note += by_new.substr(body.size() + 1);
            return std::make_pair(note, AuditTrail::key_handover_entry(note));
        });
    if (!handover) return handover.error();
    progress(2, "hand-over recorded: entries " + std::to_string(handover->size - 1) + " and " +
                    std::to_string(handover->size) + " of the access log; its checkpoint of " +
                    std::to_string(handover->size) + " entries is signed by both keys");

    // 3. Published as far as this gateway publishes anything: the state file's checkpoint.
    auto state = storage::StateFile::read(config.state);
    if (!state) return state.error();
    if (*state) {
        storage::StateFile file(config.state, **state);
        auto root = (*store)->log().root(handover->size);
        if (!root) return root.error();
        if (auto s = file.record_checkpoint(handover->size, *root); !s) return s;
    }
    progress(3, "state file records the hand-over checkpoint");

    // 4. The old key overwritten and the new one in its place.
    store->reset();
    auto installed = storage::install_log_key(config.log_key);
    if (!installed) return installed.error();
    progress(4, "new key in place: " + config.log_key.string() + (installed->empty() ? "" : " (" + *installed + ")"));
    return {};
}

}  // namespace serambi::gateway
