// The registry: principals, their certificates and revocations, and datasets.
#include <boost/algorithm/string/join.hpp>
#include <boost/algorithm/string/split.hpp>

#include "base/time.h"
#include "storage/database.h"
#include "storage/read_cache.h"
#include "storage/store.h"

namespace serambi::storage {
namespace {

std::vector<std::string> split_roles(const std::string& text) {
    std::vector<std::string> roles;
    if (!text.empty()) boost::split(roles, text, [](char c) { return c == ','; });
    return roles;
}

Principal principal_from(const sql::Statement& s) {
    return Principal{s.text(0), s.text(1), split_roles(s.text(2)), s.text(3), s.text(4), s.text(5), s.text(6),
                     s.text(7), s.text(8)};
}

constexpr const char* kPrincipalColumns =
    "SELECT id, name, roles, cert_serial, cert_fingerprint, created_at, age_recipient, cert_not_after, removed_at "
    "FROM principals ";

constexpr const char* kDatasetColumns =
    "SELECT id, owner, classification, title, created_by, created_at FROM datasets ";

Dataset dataset_from(const sql::Statement& s) {
    Dataset d;
    d.id = s.text(0);
    d.owner = s.text(1);
    d.classification = s.text(2);
    d.title = s.text(3);
    d.created_by = s.text(4);
    d.created_at = s.text(5);
    return d;
}

}  // namespace

// Who is asking is read at every request, and the dataset a request names at most of them.
struct Registry::Kept {
    ReadCache<Principal> principals;
    ReadCache<Dataset> datasets;
};

Registry::Registry(Database& db, std::shared_ptr<Env> env)
    : db_(db), env_(std::move(env)), kept_(std::make_unique<Kept>()) {}
Registry::~Registry() = default;

Result<std::optional<std::uint64_t>> Registry::change(const std::function<Status(Connection&)>& change,
                                                      const std::string& audit_entry) {
    ReadCache<Principal>::ForgetAtEnd principals{kept_->principals};
    ReadCache<Dataset>::ForgetAtEnd datasets{kept_->datasets};
    return db_.write_with_entry(change, audit_entry);
}

Result<std::optional<std::uint64_t>> Registry::add_principal(const Principal& p, const std::string& audit_entry) {
    return change(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(),
                             "INSERT INTO principals(id, name, roles, cert_serial, cert_fingerprint, "
                             "created_at, age_recipient, cert_not_after) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
            return sql::write_result(s.bind(1, p.id)
                                         .bind(2, p.name)
                                         .bind(3, boost::algorithm::join(p.roles, ","))
                                         .bind(4, p.cert_serial)
                                         .bind(5, p.cert_fingerprint)
                                         .bind(6, p.created_at.empty() ? format_time(env_->now()) : p.created_at)
                                         .bind(7, p.age_recipient)
                                         .bind(8, p.cert_not_after)
                                         .step(),
                                     "principal " + p.id);
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Registry::set_age_recipient(const std::string& id, const std::string& recipient,
                                                                 const std::string& audit_entry) {
    return change(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(), "UPDATE principals SET age_recipient = ?2 WHERE id = ?1");
            if (s.bind(1, id).bind(2, recipient).step() != SQLITE_DONE)
                return sql::db_error("the database refused the write");
            if (c.changes() != 1) return make_error(ErrorKind::not_found, "no such principal");
            return {};
        },
        audit_entry);
}

Result<Principal> Registry::principal(const std::string& id) {
    return kept_->principals.get(id, [&] {
        return db_.read([&](Connection& c) {
            return one_row<Principal>(c, std::string(kPrincipalColumns) + "WHERE id = ?1", id, principal_from,
                                      "no such principal");
        });
    });
}

Result<std::vector<Principal>> Registry::principals() {
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kPrincipalColumns) + "ORDER BY id");
        return all_rows<Principal>(*s, principal_from);
    });
}

Result<std::optional<std::uint64_t>> Registry::add_dataset(const Dataset& d, const std::string& audit_entry) {
    return change(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(),
                             "INSERT INTO datasets(id, owner, classification, title, created_by, "
                             "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
            return sql::write_result(s.bind(1, d.id)
                                         .bind(2, d.owner)
                                         .bind(3, d.classification)
                                         .bind(4, d.title)
                                         .bind(5, d.created_by)
                                         .bind(6, d.created_at.empty() ? format_time(env_->now()) : d.created_at)
                                         .step(),
                                     "dataset " + d.id);
        },
        audit_entry);
}

Result<Dataset> Registry::dataset(const std::string& id) {
    return kept_->datasets.get(id, [&] {
        return db_.read([&](Connection& c) {
            return one_row<Dataset>(c, std::string(kDatasetColumns) + "WHERE id = ?1", id, dataset_from,
                                    "no such dataset");
        });
    });
}

Result<std::vector<Dataset>> Registry::datasets() {
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kDatasetColumns) + "ORDER BY id");
        return all_rows<Dataset>(*s, dataset_from);
    });
}

Result<std::optional<std::uint64_t>> Registry::revoke_certificate(const Revocation& r, const std::string& audit_entry) {
    return change(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(),
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

Result<std::optional<std::uint64_t>> Registry::remove_principal(const std::string& id, const Revocation& revocation,
                                                                const std::string& audit_entry) {
    return change(
        [&](Connection& c) -> Status {
            // Only if the certificate is still the one being revoked: a renewal that committed since
            // the caller read it would otherwise leave the new certificate off the CRL.
            sql::Statement mark(
                c.get(),
                "UPDATE principals SET removed_at = ?2 WHERE id = ?1 AND removed_at = '' AND cert_serial = ?3");
            if (mark.bind(1, id).bind(2, format_time(revocation.revoked_at)).bind(3, revocation.serial_hex).step() !=
                SQLITE_DONE)
                return sql::db_error("the database refused the write");
            if (c.changes() != 1)
                return make_error(ErrorKind::conflict,
                                  "principal " + id + " was removed or renewed meanwhile; look again");
            // Already revoked (a lost key revoked at once, removed later) keeps its first reason and date.
            sql::Statement revoke(
                c.get(),
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

Result<std::optional<std::uint64_t>> Registry::replace_certificate(const std::string& id, const std::string& serial_hex,
                                                                   const std::string& fingerprint,
                                                                   const std::string& not_after, const Revocation& old,
                                                                   const std::string& audit_entry,
                                                                   bool old_may_be_revoked) {
    return change(
        [&](Connection& c) -> Status {
            sql::Statement update(c.get(),
                                  "UPDATE principals SET cert_serial = ?2, cert_fingerprint = ?3, cert_not_after = ?5 "
                                  "WHERE id = ?1 AND cert_serial = ?4 AND removed_at = ''");
            if (update.bind(1, id)
                    .bind(2, serial_hex)
                    .bind(3, fingerprint)
                    .bind(4, old.serial_hex)
                    .bind(5, not_after)
                    .step() != SQLITE_DONE)
                return sql::db_error("the database refused the write");
            if (c.changes() != 1)
                return make_error(ErrorKind::conflict, "the principal's certificate changed meanwhile");
            // A reissue after a revocation (keyCompromise, say) keeps the first reason. A renewal
            // whose certificate was revoked while its request was on the way must fail: the key
            // asking may be the thief's.
            sql::Statement revoke(
                c.get(),
                "INSERT OR IGNORE INTO revocations(serial, principal, reason, revoked_at, revoked_by) "
                "VALUES(?1, ?2, ?3, ?4, ?5)");
            if (revoke.bind(1, old.serial_hex)
                    .bind(2, old.principal)
                    .bind(3, std::int64_t{old.reason})
                    .bind(4, old.revoked_at)
                    .bind(5, old.revoked_by)
                    .step() != SQLITE_DONE)
                return sql::db_error("the database refused the write");
            if (c.changes() != 1 && !old_may_be_revoked)
                return make_error(ErrorKind::conflict,
                                  "certificate " + old.serial_hex + " was revoked meanwhile; it cannot renew itself");
            return {};
        },
        audit_entry);
}

Result<std::vector<Revocation>> Registry::revocations() {
    return db_.read([&](Connection& c) {
        auto s = c.cached(
            "SELECT serial, principal, reason, revoked_at, revoked_by FROM revocations ORDER BY revoked_at, serial");
        return all_rows<Revocation>(*s, [](const sql::Statement& row) {
            return Revocation{row.text(0), row.text(1), static_cast<int>(row.integer(2)), row.integer(3), row.text(4)};
        });
    });
}

}  // namespace serambi::storage
