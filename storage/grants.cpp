// MOU agreements and release approvals: what lets a partner read classified data. Rows are never
// deleted; revoking or withdrawing stamps them, so the history stays for auditors.
#include <boost/algorithm/string/join.hpp>
#include <boost/algorithm/string/split.hpp>

#include "base/time.h"
#include "storage/database.h"
#include "storage/read_cache.h"
#include "storage/store.h"

namespace serambi::storage {

// What a cut link may cost an approval on top of its cap: the bytes in flight when the link
// dropped, which the resume sends again.
constexpr std::uint64_t kTransitSlackBytes = 64ULL << 20;
namespace {

constexpr const char* kAgreementColumns =
    "SELECT id, partner, patterns, max_classification, purpose, valid_from, valid_until, document_name, "
    "document_sha256, created_by, created_at, revoked_at, revoked_by, revoke_reason FROM agreements ";

AgreementRecord agreement_from(const sql::Statement& s) {
    AgreementRecord a;
    a.id = s.text(0);
    a.partner = s.text(1);
    const std::string patterns = s.text(2);
    if (!patterns.empty()) boost::split(a.patterns, patterns, [](char c) { return c == ','; });
    a.max_classification = s.text(3);
    a.purpose = s.text(4);
    a.valid_from = s.integer(5);
    a.valid_until = s.integer(6);
    a.document_name = s.text(7);
    a.document_sha256 = s.text(8);
    a.created_by = s.text(9);
    a.created_at = s.text(10);
    a.revoked_at = s.integer(11);
    a.revoked_by = s.text(12);
    a.revoke_reason = s.text(13);
    return a;
}

constexpr const char* kApprovalColumns =
    "SELECT id, package, partner, custodian, created_at, expires_at, max_downloads, downloads, withdrawn_at, "
    "withdrawn_by, completed_pending FROM approvals ";

ApprovalRecord approval_from(const sql::Statement& s) {
    ApprovalRecord a;
    a.id = s.text(0);
    a.package = s.text(1);
    a.partner = s.text(2);
    a.custodian = s.text(3);
    a.created_at = s.integer(4);
    a.expires_at = s.integer(5);
    a.max_downloads = static_cast<std::uint32_t>(s.integer(6));
    a.downloads = static_cast<std::uint32_t>(s.integer(7));
    a.withdrawn_at = s.integer(8);
    a.withdrawn_by = s.text(9);
    a.completed_pending = s.integer(10) != 0;
    return a;
}

}  // namespace

// Each partner's agreements, read at every request it makes.
struct Grants::AgreementCache {
    ReadCache<std::vector<AgreementRecord>> by_partner;
};

Grants::Grants(Database& db, std::shared_ptr<Env> env)
    : db_(db), env_(std::move(env)), cache_(std::make_unique<AgreementCache>()) {}
Grants::~Grants() = default;

Result<std::optional<std::uint64_t>> Grants::change_agreements(const std::function<Status(Connection&)>& change,
                                                               const std::string& audit_entry) {
    ReadCache<std::vector<AgreementRecord>>::ForgetAtEnd forget{cache_->by_partner};
    return db_.write_with_entry(change, audit_entry);
}

Result<std::optional<std::uint64_t>> Grants::add_agreement(const AgreementRecord& a, const std::string& audit_entry) {
    return change_agreements(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(),
                             "INSERT INTO agreements(id, partner, patterns, max_classification, purpose, valid_from, "
                             "valid_until, document_name, document_sha256, created_by, created_at) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
            return sql::write_result(s.bind(1, a.id)
                                         .bind(2, a.partner)
                                         .bind(3, boost::algorithm::join(a.patterns, ","))
                                         .bind(4, a.max_classification)
                                         .bind(5, a.purpose)
                                         .bind(6, a.valid_from)
                                         .bind(7, a.valid_until)
                                         .bind(8, a.document_name)
                                         .bind(9, a.document_sha256)
                                         .bind(10, a.created_by)
                                         .bind(11, a.created_at.empty() ? format_time(env_->now()) : a.created_at)
                                         .step(),
                                     "agreement " + a.id);
        },
        audit_entry);
}

Result<AgreementRecord> Grants::agreement(const std::string& id) {
    return db_.read([&](Connection& c) {
        return one_row<AgreementRecord>(c, std::string(kAgreementColumns) + "WHERE id = ?1", id, agreement_from,
                                        "no such agreement");
    });
}

Result<std::vector<AgreementRecord>> Grants::agreements(const std::string& partner) {
    auto read = [&] {
        return db_.read([&](Connection& c) {
            auto s =
                c.cached(std::string(kAgreementColumns) +
                         (partner.empty() ? "ORDER BY created_at, id" : "WHERE partner = ?1 ORDER BY created_at, id"));
            if (!partner.empty()) s->bind(1, partner);
            return all_rows<AgreementRecord>(*s, agreement_from);
        });
    };
    if (partner.empty()) return read();
    return cache_->by_partner.get(partner, read);
}

Result<std::optional<std::uint64_t>> Grants::revoke_agreement(const std::string& id, const std::string& by,
                                                              const std::string& reason, std::int64_t at,
                                                              const std::string& audit_entry) {
    return change_agreements(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(),
                             "UPDATE agreements SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 "
                             "WHERE id = ?1 AND revoked_at = 0");
            if (auto w =
                    sql::write_result(s.bind(1, id).bind(2, at).bind(3, by).bind(4, reason).step(), "agreement " + id);
                !w)
                return w;
            if (c.changes() == 1) return {};
            sql::Statement exists(c.get(), "SELECT 1 FROM agreements WHERE id = ?1");
            if (exists.bind(1, id).step() == SQLITE_ROW)
                return make_error(ErrorKind::conflict, "agreement " + id + " was already revoked");
            return make_error(ErrorKind::not_found, "no such agreement");
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Grants::add_approval(const ApprovalRecord& a, const std::string& audit_entry,
                                                          const ReleaseTest& releases) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            // The policy refuses a producer's approval of its own package before it gets here; checked
            // again in the insert's transaction so that no other path can store one.
            sql::Statement producer(c.get(), "SELECT producer FROM packages WHERE id = ?1");
            const int found = producer.bind(1, a.package).step();
            if (found == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such package");
            if (found != SQLITE_ROW) return sql::db_error("the database could not be read");
            if (producer.text(0) == a.custodian)
                return make_error(ErrorKind::conflict, "the package's producer cannot approve its release");
            sql::Statement s(
                c.get(),
                "INSERT INTO approvals(id, package, partner, custodian, created_at, expires_at, max_downloads) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            if (auto w = sql::write_result(s.bind(1, a.id)
                                               .bind(2, a.package)
                                               .bind(3, a.partner)
                                               .bind(4, a.custodian)
                                               .bind(5, a.created_at)
                                               .bind(6, a.expires_at)
                                               .bind(7, std::int64_t{a.max_downloads})
                                               .step(),
                                           "approval " + a.id);
                !w || !releases)
                return w;
            sql::Statement standing(c.get(), std::string(kApprovalColumns) +
                                                 "WHERE package = ?1 AND partner = ?2 ORDER BY created_at, rowid");
            standing.bind(1, a.package).bind(2, a.partner);
            auto all = all_rows<ApprovalRecord>(standing, approval_from);
            if (!all) return all.error();
            if (!releases(*all)) return {};
            sql::Statement released(c.get(),
                                    "UPDATE access_requests SET state = 'released', decided_by = ?3, decided_at = ?4 "
                                    "WHERE package = ?1 AND partner = ?2 AND state = 'open'");
            return sql::write_result(
                released.bind(1, a.package).bind(2, a.partner).bind(3, a.custodian).bind(4, a.created_at).step(),
                "the release requests of " + a.partner);
        },
        audit_entry);
}

namespace {

constexpr const char* kRequestColumns =
    "SELECT id, package, partner, purpose, created_at, state, decided_by, decided_at, reason FROM access_requests ";

AccessRequestRecord request_from(const sql::Statement& s) {
    AccessRequestRecord r;
    r.id = s.text(0);
    r.package = s.text(1);
    r.partner = s.text(2);
    r.purpose = s.text(3);
    r.created_at = s.integer(4);
    r.state = s.text(5);
    r.decided_by = s.text(6);
    r.decided_at = s.integer(7);
    r.reason = s.text(8);
    return r;
}

}  // namespace

Result<std::optional<std::uint64_t>> Grants::add_request(const AccessRequestRecord& r, const std::string& audit_entry) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            // Checked in the insert's transaction, so that two clicks cannot open two requests.
            sql::Statement open(
                c.get(), "SELECT id FROM access_requests WHERE package = ?1 AND partner = ?2 AND state = 'open'");
            const int found = open.bind(1, r.package).bind(2, r.partner).step();
            if (found == SQLITE_ROW)
                return make_error(ErrorKind::conflict,
                                  "you already asked for this package's release (" + open.text(0) + "), still open");
            if (found != SQLITE_DONE) return sql::db_error("the database could not be read");
            sql::Statement s(c.get(),
                             "INSERT INTO access_requests(id, package, partner, purpose, created_at) "
                             "VALUES(?1, ?2, ?3, ?4, ?5)");
            return sql::write_result(
                s.bind(1, r.id).bind(2, r.package).bind(3, r.partner).bind(4, r.purpose).bind(5, r.created_at).step(),
                "request " + r.id);
        },
        audit_entry);
}

Result<AccessRequestRecord> Grants::request(const std::string& id) {
    return db_.read([&](Connection& c) {
        return one_row<AccessRequestRecord>(c, std::string(kRequestColumns) + "WHERE id = ?1", id, request_from,
                                            "no such request");
    });
}

Result<std::vector<AccessRequestRecord>> Grants::requests(const std::string& partner, const std::string& state) {
    const char* where = partner.empty()
                            ? (state.empty() ? "" : "WHERE state = ?2 ")
                            : (state.empty() ? "WHERE partner = ?1 " : "WHERE partner = ?1 AND state = ?2 ");
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kRequestColumns) + where + "ORDER BY created_at, id");
        if (!partner.empty()) s->bind(1, partner);
        if (!state.empty()) s->bind(2, state);
        return all_rows<AccessRequestRecord>(*s, request_from);
    });
}

Result<std::optional<std::uint64_t>> Grants::refuse_request(const std::string& id, const std::string& by,
                                                            const std::string& reason, std::int64_t at,
                                                            const std::string& audit_entry) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(),
                             "UPDATE access_requests SET state = 'refused', decided_by = ?2, decided_at = ?3, "
                             "reason = ?4 WHERE id = ?1 AND state = 'open'");
            if (auto w =
                    sql::write_result(s.bind(1, id).bind(2, by).bind(3, at).bind(4, reason).step(), "request " + id);
                !w)
                return w;
            if (c.changes() == 1) return {};
            sql::Statement exists(c.get(), "SELECT state FROM access_requests WHERE id = ?1");
            if (exists.bind(1, id).step() == SQLITE_ROW)
                return make_error(ErrorKind::conflict, "request " + id + " is already " + exists.text(0));
            return make_error(ErrorKind::not_found, "no such request");
        },
        audit_entry);
}

Result<ApprovalRecord> Grants::approval(const std::string& id) {
    return db_.read([&](Connection& c) {
        return one_row<ApprovalRecord>(c, std::string(kApprovalColumns) + "WHERE id = ?1", id, approval_from,
                                       "no such approval");
    });
}

Result<std::vector<ApprovalRecord>> Grants::approvals(const std::string& package, const std::string& partner) {
    // One statement per filter, so that each is served by its index (an "?1 = '' OR" form
    // would scan the table on every pull).
    const char* where = package.empty()
                            ? (partner.empty() ? "" : "WHERE partner = ?2 ")
                            : (partner.empty() ? "WHERE package = ?1 " : "WHERE package = ?1 AND partner = ?2 ");
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kApprovalColumns) + where + "ORDER BY created_at, rowid");
        if (!package.empty()) s->bind(1, package);
        if (!partner.empty()) s->bind(2, partner);
        return all_rows<ApprovalRecord>(*s, approval_from);
    });
}

Result<std::optional<std::uint64_t>> Grants::withdraw_approval(const std::string& id, const std::string& by,
                                                               std::int64_t at, const std::string& audit_entry) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            sql::Statement s(
                c.get(),
                "UPDATE approvals SET withdrawn_at = ?2, withdrawn_by = ?3 WHERE id = ?1 AND withdrawn_at = 0");
            if (auto w = sql::write_result(s.bind(1, id).bind(2, at).bind(3, by).step(), "approval " + id); !w)
                return w;
            if (c.changes() == 1) return {};
            sql::Statement exists(c.get(), "SELECT 1 FROM approvals WHERE id = ?1");
            if (exists.bind(1, id).step() == SQLITE_ROW)
                return make_error(ErrorKind::conflict, "approval " + id + " was already withdrawn");
            return make_error(ErrorKind::not_found, "no such approval");
        },
        audit_entry);
}

Result<std::vector<Grants::DeliveryCharge>> Grants::reserve_delivery(const std::vector<std::string>& approval_ids,
                                                                     std::uint64_t first, std::uint64_t length,
                                                                     std::uint64_t total, std::int64_t now) {
    std::vector<DeliveryCharge> charges;
    if (approval_ids.empty()) return charges;
    if (total == 0 || first > total || length > total - first)
        return make_error(ErrorKind::internal, "a delivery range outside its length");
    const Status reserved = db_.write([&](Transaction& tx) -> Status {
        auto read = tx.connection().cached(
            "SELECT withdrawn_at, expires_at, max_downloads, downloads, served_bytes, covered_bytes, "
            "completed_pending FROM approvals WHERE id = ?1");
        auto update = tx.connection().cached(
            "UPDATE approvals SET served_bytes = ?2, downloads = ?3, covered_bytes = ?4, completed_pending = ?5 "
            "WHERE id = ?1");
        for (const auto& id : approval_ids) {
            read->reset();
            if (read->bind(1, id).step() != SQLITE_ROW)
                return make_error(ErrorKind::conflict, "approval " + id + " is gone");
            if (read->integer(0) != 0) return make_error(ErrorKind::conflict, "approval " + id + " was withdrawn");
            if (read->integer(1) <= now) return make_error(ErrorKind::conflict, "approval " + id + " has expired");
            const auto cap = static_cast<std::uint64_t>(read->integer(2));
            auto downloads = static_cast<std::uint64_t>(read->integer(3));
            const auto served = static_cast<std::uint64_t>(read->integer(4));
            auto covered = static_cast<std::uint64_t>(read->integer(5));
            bool pending = read->integer(6) != 0;
            // A range that starts inside what the current download covered continues it, even
            // once the gateway sent its last byte: the reader may not have had it when the link
            // dropped. A range from the first byte begins a new download, and only then does a
            // finished one count against the cap.
            const bool continues = first > 0 && first <= covered;
            if (!continues) {
                if (pending) ++downloads;
                pending = false;
                covered = 0;
                if (cap != 0 && downloads >= cap)
                    return make_error(ErrorKind::conflict, "approval " + id + " is used up (" + std::to_string(cap) +
                                                               " download" + (cap == 1 ? "" : "s") + ")");
            }
            // Bytes lost in transit when a link drops are sent again on the resume: the bytes
            // served may pass the cap by that much (at most one delivery, at most 64 MiB).
            const std::uint64_t slack = std::min<std::uint64_t>(total, kTransitSlackBytes);
            if (cap != 0 && served + length > cap * total + slack)
                return make_error(ErrorKind::conflict,
                                  "approval " + id + " has only " +
                                      std::to_string(cap * total + slack - std::min(served, cap * total + slack)) +
                                      " bytes left to send: resume the cut download from where it stopped (a "
                                      "Range request with If-Range) instead of starting again");
            update->reset();
            if (update->bind(1, id)
                    .bind(2, static_cast<std::int64_t>(served + length))
                    .bind(3, static_cast<std::int64_t>(downloads))
                    .bind(4, static_cast<std::int64_t>(covered))
                    .bind(5, pending ? 1 : 0)
                    .step() != SQLITE_DONE)
                return sql::db_error("the approval could not be updated");
            charges.push_back({id, first, total, length});
        }
        return {};
    });
    if (!reserved) return reserved.error();
    return charges;
}

Status Grants::settle_delivery(const std::vector<DeliveryCharge>& charges, std::uint64_t sent) {
    if (charges.empty()) return {};
    return db_.write([&](Transaction& tx) -> Status {
        auto read = tx.connection().cached("SELECT served_bytes, covered_bytes FROM approvals WHERE id = ?1");
        auto update = tx.connection().cached(
            "UPDATE approvals SET served_bytes = ?2, covered_bytes = ?3, "
            "completed_pending = max(completed_pending, ?4) WHERE id = ?1");
        for (const auto& c : charges) {
            read->reset();
            if (read->bind(1, c.approval).step() != SQLITE_ROW) continue;  // gone meanwhile: nothing to settle
            auto served = static_cast<std::uint64_t>(read->integer(0));
            auto covered = static_cast<std::uint64_t>(read->integer(1));
            served -= std::min(served, c.charged - std::min(c.charged, sent));  // reserved, not sent
            // The download's covered prefix grows when this range continued it (started inside
            // it); once it reaches the end the download is complete, and counts as soon as
            // another begins (the approval shows it at once).
            const std::uint64_t end = c.first + sent;
            if (c.first <= covered) covered = std::max(covered, end);
            const bool complete = covered >= c.total;
            update->reset();
            if (update->bind(1, c.approval)
                    .bind(2, static_cast<std::int64_t>(served))
                    .bind(3, static_cast<std::int64_t>(covered))
                    .bind(4, complete ? 1 : 0)
                    .step() != SQLITE_DONE)
                return sql::db_error("the approval could not be updated");
        }
        return {};
    });
}

}  // namespace serambi::storage
