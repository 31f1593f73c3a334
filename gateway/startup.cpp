#include "gateway/startup.h"

#include <algorithm>

namespace serambi::gateway {
namespace {

std::string joined(const std::vector<std::string>& items, std::size_t max = 10) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + items[i];
    if (items.size() > max) out += " and " + std::to_string(items.size() - max) + " more";
    return out;
}

}  // namespace

Result<std::unique_ptr<storage::StateFile>> reconcile_state(const Config& config, storage::Store& store,
                                                            AuditTrail& audit, RevokedSerials& revoked,
                                                            bool accept_rollback, const LogLine& log) {
    auto recorded = storage::StateFile::read(config.state);
    if (!recorded)
        return make_error(recorded.error().kind, recorded.error().message +
                                                     "; put back an intact copy, or move it away and start with "
                                                     "--accept-rollback");
    auto head = store.log().head();
    if (!head) return head.error();
    auto revocations = store.registry().revocations();
    if (!revocations)
        return make_error(revocations.error().kind,
                          "cannot read the revoked certificates: " + revocations.error().message);
    std::set<std::string> in_database;
    for (const auto& r : *revocations) in_database.insert(r.serial_hex);

    if (!recorded->has_value()) {
        // init writes the state file, so its absence means it was lost or removed, or the
        // deployment predates it, or the whole directory came back from an old backup. The
        // database cannot vouch for itself: a log that holds anything starts only on the
        // operator's word, which is recorded.
        if (head->size > 0 && !accept_rollback)
            return make_error(ErrorKind::conflict,
                              "the state file " + config.state.string() +
                                  " is missing, so the database cannot be checked "
                                  "against what this gateway already published (an older copy would bring back revoked "
                                  "certificates). Put it back; or, for a deployment made before it existed or restored "
                                  "after losing it, start once with --accept-rollback (recorded in the access log)");
        storage::StateFile::Contents first;
        first.checkpoint_size = head->size;
        first.checkpoint_root = head->root;
        first.revoked = in_database;
        auto state = std::make_unique<storage::StateFile>(config.state, first);
        if (auto s = state->replace(first); !s)
            return make_error(s.error().kind, "cannot write the state file: " + s.error().message);
        const std::string why = "the state file " + config.state.filename().string() +
                                " was absent and was made from the database (access log size " +
                                std::to_string(head->size) +
                                (head->size > 0 ? ", accepted by the operator with --accept-rollback" : "") +
                                "); the database could not be checked against what was published before";
        log("warning: " + why);
        if (auto index = audit.record(AuditTrail::event_entry("gateway.state", "state", "allow", why)); !index)
            return index.error();
        for (const auto& serial : in_database) revoked.add(serial);
        return state;
    }

    const auto& known = **recorded;
    std::vector<std::string> problems;
    if (head->size < known.checkpoint_size) {
        problems.push_back("its access log has " + std::to_string(head->size) +
                           " entries, but this gateway already signed a checkpoint of " +
                           std::to_string(known.checkpoint_size));
    } else {
        auto root = store.log().root(known.checkpoint_size);
        if (!root) return root.error();
        if (*root != known.checkpoint_root)
            problems.push_back("its access log differs from the one this gateway published at size " +
                               std::to_string(known.checkpoint_size) + " (the log was rewritten)");
    }
    std::vector<std::string> unrevoked;
    for (const auto& serial : known.revoked)
        if (!in_database.count(serial)) unrevoked.push_back(serial);
    if (!unrevoked.empty())
        problems.push_back("certificates this gateway revoked are not revoked in it (" + joined(unrevoked) + ")");

    auto state = std::make_unique<storage::StateFile>(config.state, known);
    if (problems.empty()) {
        // Revocations that committed while their state write failed (or just before a crash)
        // are written now, so that a later rollback cannot lose them.
        for (const auto& serial : in_database)
            if (!known.revoked.count(serial))
                if (auto s = state->record_revoked(serial); !s)
                    return make_error(s.error().kind, "cannot write the state file: " + s.error().message);
        for (const auto& serial : in_database) revoked.add(serial);
        for (const auto& serial : known.revoked) revoked.add(serial);
        return state;
    }
    const std::string what = "the database " + config.database.filename().string() +
                             " is behind this gateway's state file: " + joined(problems, problems.size());
    if (!accept_rollback)
        return make_error(
            ErrorKind::conflict,
            what +
                ". Was an older copy restored? Put the newest copy back; or, to accept what was lost, start "
                "once with --accept-rollback (recorded in the access log; revoked certificates stay revoked)");

    // Accepted: recorded first, so that nothing after it happens unrecorded.
    log("warning: " + what + "; starting anyway (--accept-rollback)");
    auto index = audit.record(AuditTrail::event_entry(
        "gateway.rollback", "state", "allow",
        what + "; accepted by the operator (--accept-rollback); published checkpoint size " +
            std::to_string(known.checkpoint_size) + ", database log size " + std::to_string(head->size)));
    if (!index) return index.error();
    // A revocation is never undone by a restore: each one the database lost is made again.
    for (const auto& serial : unrevoked) {
        const storage::Revocation again{serial, "", 0, now_seconds(), "gateway.rollback"};
        auto entry =
            AuditTrail::event_entry("certificate.revoke", "certificates/" + serial, "allow",
                                    "revoked again after an accepted rollback: the state file records its revocation");
        if (auto done = store.registry().revoke_certificate(again, entry);
            !done && done.error().kind != ErrorKind::conflict)
            return make_error(done.error().kind, "cannot revoke " + serial + " again: " + done.error().message);
    }
    for (const auto& serial : in_database) revoked.add(serial);
    for (const auto& serial : known.revoked) revoked.add(serial);
    auto after = store.log().head();
    if (!after) return after.error();
    storage::StateFile::Contents next;
    next.checkpoint_size = after->size;
    next.checkpoint_root = after->root;
    next.revoked = known.revoked;
    next.revoked.insert(in_database.begin(), in_database.end());
    if (auto s = state->replace(next); !s)
        return make_error(s.error().kind, "cannot rewrite the state file: " + s.error().message);
    return state;
}

Result<std::size_t> recover_storage(storage::Store& store, AuditTrail& audit, const LogLine& log) {
    auto recovery = store.packages().recover();
    if (!recovery) return recovery.error();
    if (recovery->temporary_removed > 0)
        log("removed " + std::to_string(recovery->temporary_removed) + " unfinished upload(s) left by a stop");
    for (const auto& moved : recovery->quarantined) {
        const std::string why = "a blob without a package row in the database was moved to " +
                                moved.parent_path().filename().string() + "/" + moved.filename().string() +
                                "; it was not deleted: restore the database it belongs to, or remove it after review";
        log("warning: " + why);
        if (auto index = audit.record(
                AuditTrail::event_entry("storage.quarantine", "blobs/" + moved.filename().string(), "error", why));
            !index)
            return index.error();
    }
    return recovery->quarantined.size();
}

}  // namespace serambi::gateway
