// MOU agreements and release approvals: what lets a partner read classified data. Rows are never
// deleted; revoking or withdrawing stamps them, so the history stays for auditors.
#include <boost/algorithm/string/join.hpp>
#include <boost/algorithm/string/split.hpp>

#include "base/time.h"
#include "storage/store_impl.h"

namespace serambi::storage {
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
    "withdrawn_by FROM approvals ";

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
    return a;
}

template <typename Record, typename From>
Result<std::vector<Record>> all_rows(sql::Statement& s, From from) {
    std::vector<Record> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(from(s));
    if (rc != SQLITE_DONE) return sql::db_error("the database could not be read");
    return out;
}

}  // namespace

Result<std::optional<std::uint64_t>> Store::add_agreement(const AgreementRecord& a, const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            impl_->agreements_by_partner.clear();  // whether or not the change commits
            sql::Statement s(impl_->db.get(),
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
                                         .bind(11, a.created_at.empty() ? format_time(impl_->env->now()) : a.created_at)
                                         .step(),
                                     "agreement " + a.id);
        },
        audit_entry);
}

Result<AgreementRecord> Store::agreement(const std::string& id) {
    std::lock_guard lock(impl_->mutex);
    sql::Statement s(impl_->db.get(), std::string(kAgreementColumns) + "WHERE id = ?1");
    const int rc = s.bind(1, id).step();
    if (rc == SQLITE_ROW) return agreement_from(s);
    if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such agreement");
    return sql::db_error("the database could not be read");
}

Result<std::vector<AgreementRecord>> Store::agreements(const std::string& partner) {
    std::lock_guard lock(impl_->mutex);
    if (!partner.empty())
        if (const auto known = impl_->agreements_by_partner.find(partner); known != impl_->agreements_by_partner.end())
            return known->second;
    auto s =
        impl_->cached(std::string(kAgreementColumns) +
                      (partner.empty() ? "ORDER BY created_at, id" : "WHERE partner = ?1 ORDER BY created_at, id"));
    if (!partner.empty()) s->bind(1, partner);
    auto rows = all_rows<AgreementRecord>(*s, agreement_from);
    if (rows && !partner.empty()) impl_->agreements_by_partner.emplace(partner, *rows);
    return rows;
}

Result<std::optional<std::uint64_t>> Store::revoke_agreement(const std::string& id, const std::string& by,
                                                             const std::string& reason, std::int64_t at,
                                                             const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            impl_->agreements_by_partner.clear();  // whether or not the change commits
            sql::Statement s(impl_->db.get(),
                             "UPDATE agreements SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 "
                             "WHERE id = ?1 AND revoked_at = 0");
            if (auto w =
                    sql::write_result(s.bind(1, id).bind(2, at).bind(3, by).bind(4, reason).step(), "agreement " + id);
                !w)
                return w;
            if (sqlite3_changes(impl_->db.get()) == 1) return {};
            sql::Statement exists(impl_->db.get(), "SELECT 1 FROM agreements WHERE id = ?1");
            if (exists.bind(1, id).step() == SQLITE_ROW)
                return make_error(ErrorKind::conflict, "agreement " + id + " was already revoked");
            return make_error(ErrorKind::not_found, "no such agreement");
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Store::add_approval(const ApprovalRecord& a, const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            // The policy refuses a producer's approval of its own package before it gets here; checked
            // again in the insert's transaction so that no other path can store one.
            sql::Statement producer(impl_->db.get(), "SELECT producer FROM packages WHERE id = ?1");
            const int found = producer.bind(1, a.package).step();
            if (found == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such package");
            if (found != SQLITE_ROW) return sql::db_error("the database could not be read");
            if (producer.text(0) == a.custodian)
                return make_error(ErrorKind::conflict, "the package's producer cannot approve its release");
            sql::Statement s(
                impl_->db.get(),
                "INSERT INTO approvals(id, package, partner, custodian, created_at, expires_at, max_downloads) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            return sql::write_result(s.bind(1, a.id)
                                         .bind(2, a.package)
                                         .bind(3, a.partner)
                                         .bind(4, a.custodian)
                                         .bind(5, a.created_at)
                                         .bind(6, a.expires_at)
                                         .bind(7, std::int64_t{a.max_downloads})
                                         .step(),
                                     "approval " + a.id);
        },
        audit_entry);
}

Result<ApprovalRecord> Store::approval(const std::string& id) {
    std::lock_guard lock(impl_->mutex);
    sql::Statement s(impl_->db.get(), std::string(kApprovalColumns) + "WHERE id = ?1");
    const int rc = s.bind(1, id).step();
    if (rc == SQLITE_ROW) return approval_from(s);
    if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such approval");
    return sql::db_error("the database could not be read");
}

Result<std::vector<ApprovalRecord>> Store::approvals(const std::string& package, const std::string& partner) {
    std::lock_guard lock(impl_->mutex);
    // One statement per filter, so that each is served by its index (an "?1 = '' OR" form
    // would scan the table on every pull).
    const char* where = package.empty()
                            ? (partner.empty() ? "" : "WHERE partner = ?2 ")
                            : (partner.empty() ? "WHERE package = ?1 " : "WHERE package = ?1 AND partner = ?2 ");
    auto s = impl_->cached(std::string(kApprovalColumns) + where + "ORDER BY created_at, id");
    if (!package.empty()) s->bind(1, package);
    if (!partner.empty()) s->bind(2, partner);
    return all_rows<ApprovalRecord>(*s, approval_from);
}

Result<std::optional<std::uint64_t>> Store::withdraw_approval(const std::string& id, const std::string& by,
                                                              std::int64_t at, const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            sql::Statement s(
                impl_->db.get(),
                "UPDATE approvals SET withdrawn_at = ?2, withdrawn_by = ?3 WHERE id = ?1 AND withdrawn_at = 0");
            if (auto w = sql::write_result(s.bind(1, id).bind(2, at).bind(3, by).step(), "approval " + id); !w)
                return w;
            if (sqlite3_changes(impl_->db.get()) == 1) return {};
            sql::Statement exists(impl_->db.get(), "SELECT 1 FROM approvals WHERE id = ?1");
            if (exists.bind(1, id).step() == SQLITE_ROW)
                return make_error(ErrorKind::conflict, "approval " + id + " was already withdrawn");
            return make_error(ErrorKind::not_found, "no such approval");
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Store::revoke_certificate(const Revocation& r, const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            sql::Statement s(impl_->db.get(),
                             "INSERT INTO revocations(serial, principal, reason, revoked_at, revoked_by) VALUES(?1, "
                             "?2, ?3, ?4, ?5)");
            const int rc = s.bind(1, r.serial_hex)
                               .bind(2, r.principal)
                               .bind(3, std::int64_t{r.reason})
                               .bind(4, r.revoked_at)
                               .bind(5, r.revoked_by)
                               .step();
            if (rc == SQLITE_CONSTRAINT)
                return make_error(ErrorKind::conflict, "certificate " + r.serial_hex + " is already revoked");
            return sql::write_result(rc, "revocation " + r.serial_hex);
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Store::remove_principal(const std::string& id, const Revocation& revocation,
                                                             const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            // Only if the certificate is still the one being revoked: a renewal that committed since
            // the caller read it would otherwise leave the new certificate off the CRL.
            sql::Statement mark(
                impl_->db.get(),
                "UPDATE principals SET removed_at = ?2 WHERE id = ?1 AND removed_at = '' AND cert_serial = ?3");
            if (mark.bind(1, id).bind(2, format_time(revocation.revoked_at)).bind(3, revocation.serial_hex).step() !=
                SQLITE_DONE)
                return sql::db_error("the database refused the write");
            if (sqlite3_changes(impl_->db.get()) != 1)
                return make_error(ErrorKind::conflict,
                                  "principal " + id + " was removed or renewed meanwhile; look again");
            // Already revoked (a lost key revoked at once, removed later) keeps its first reason and date.
            sql::Statement revoke(
                impl_->db.get(),
                "INSERT OR IGNORE INTO revocations(serial, principal, reason, revoked_at, revoked_by) "
                "VALUES(?1, ?2, ?3, ?4, ?5)");
            return sql::write_result(revoke.bind(1, revocation.serial_hex)
                                         .bind(2, id)
                                         .bind(3, std::int64_t{revocation.reason})
                                         .bind(4, revocation.revoked_at)
                                         .bind(5, revocation.revoked_by)
                                         .step(),
                                     "revocation " + revocation.serial_hex);
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Store::replace_certificate(const std::string& id, const std::string& serial_hex,
                                                                const std::string& fingerprint,
                                                                const std::string& not_after, const Revocation& old,
                                                                const std::string& audit_entry) {
    return insert_with_audit(
        [&]() -> Status {
            sql::Statement update(impl_->db.get(),
                                  "UPDATE principals SET cert_serial = ?2, cert_fingerprint = ?3, cert_not_after = ?5 "
                                  "WHERE id = ?1 AND cert_serial = ?4 AND removed_at = ''");
            if (update.bind(1, id)
                    .bind(2, serial_hex)
                    .bind(3, fingerprint)
                    .bind(4, old.serial_hex)
                    .bind(5, not_after)
                    .step() != SQLITE_DONE)
                return sql::db_error("the database refused the write");
            if (sqlite3_changes(impl_->db.get()) != 1)
                return make_error(ErrorKind::conflict, "the principal's certificate changed meanwhile");
            sql::Statement revoke(impl_->db.get(),
                                  "INSERT INTO revocations(serial, principal, reason, revoked_at, revoked_by) "
                                  "VALUES(?1, ?2, ?3, ?4, ?5)");
            return sql::write_result(revoke.bind(1, old.serial_hex)
                                         .bind(2, old.principal)
                                         .bind(3, std::int64_t{old.reason})
                                         .bind(4, old.revoked_at)
                                         .bind(5, old.revoked_by)
                                         .step(),
                                     "revocation " + old.serial_hex);
        },
        audit_entry);
}

Result<std::vector<Revocation>> Store::revocations() {
    std::lock_guard lock(impl_->mutex);
    sql::Statement s(
        impl_->db.get(),
        "SELECT serial, principal, reason, revoked_at, revoked_by FROM revocations ORDER BY revoked_at, serial");
    return all_rows<Revocation>(s, [](const sql::Statement& row) {
        return Revocation{row.text(0), row.text(1), static_cast<int>(row.integer(2)), row.integer(3), row.text(4)};
    });
}

Status Store::spend_downloads(const std::vector<std::string>& approval_ids, std::int64_t now) {
    if (approval_ids.empty()) return {};
    std::lock_guard lock(impl_->mutex);
    if (!sql::exec(impl_->db.get(), "BEGIN IMMEDIATE;"))
        return sql::db_error("the database is not available for writing");
    sql::Statement s(
        impl_->db.get(),
        "UPDATE approvals SET downloads = downloads + 1 "
        "WHERE id = ?1 AND withdrawn_at = 0 AND expires_at > ?2 AND (max_downloads = 0 OR downloads < max_downloads)");
    for (const auto& id : approval_ids) {
        s.reset();
        if (s.bind(1, id).bind(2, now).step() != SQLITE_DONE || sqlite3_changes(impl_->db.get()) != 1) {
            sql::exec(impl_->db.get(), "ROLLBACK;");
            return make_error(ErrorKind::conflict,
                              "approval " + id + " no longer stands (withdrawn, expired or used up)");
        }
    }
    if (!sql::exec(impl_->db.get(), "COMMIT;")) {
        sql::exec(impl_->db.get(), "ROLLBACK;");
        return sql::db_error("the download could not be counted");
    }
    return {};
}

}  // namespace serambi::storage
