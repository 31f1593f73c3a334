// Webhooks' rows: endpoints, deliveries with their attempts, and the event cursor.
#include <boost/algorithm/string/join.hpp>
#include <boost/algorithm/string/split.hpp>

#include "storage/database.h"
#include "storage/store.h"

namespace serambi::storage {
namespace {

// Listings never read the secret: it stays in the database but for the one hook being sent to.
constexpr const char* kHookColumns =
    "SELECT id, owner, everyone, url, events, '', created_at, from_index, removed_at, cert_serial, confirmed_at, "
    "confirm_tries FROM hooks ";
constexpr const char* kHookWithSecret =
    "SELECT id, owner, everyone, url, events, secret, created_at, from_index, removed_at, cert_serial, "
    "confirmed_at, confirm_tries FROM hooks ";

HookRecord hook_from(const sql::Statement& s) {
    HookRecord h;
    h.id = s.text(0);
    h.owner = s.text(1);
    h.everyone = s.integer(2) != 0;
    h.url = s.text(3);
    const std::string events = s.text(4);
    if (!events.empty()) boost::split(h.events, events, [](char c) { return c == ','; });
    h.secret = s.text(5);
    h.created_at = s.integer(6);
    h.from_index = static_cast<std::uint64_t>(s.integer(7));
    h.removed_at = s.integer(8);
    h.cert_serial = s.text(9);
    h.confirmed_at = s.integer(10);
    h.confirm_tries = s.integer(11);
    return h;
}

constexpr const char* kDeliveryColumns =
    "SELECT id, hook, event, recipient, body, created_at, state, attempts, next_at, last_status, last_error, "
    "delivered_at FROM hook_deliveries ";

DeliveryRecord delivery_from(const sql::Statement& s) {
    DeliveryRecord d;
    d.id = s.text(0);
    d.hook = s.text(1);
    d.event = s.text(2);
    d.recipient = s.text(3);
    d.body = s.text(4);
    d.created_at = s.integer(5);
    d.state = s.text(6);
    d.attempts = s.integer(7);
    d.next_at = s.integer(8);
    d.last_status = s.integer(9);
    d.last_error = s.text(10);
    d.delivered_at = s.integer(11);
    return d;
}

// The code has done its work (or can no longer): the mail that carried it keeps no copy here,
// and is not sent again.
Status forget_code(Connection& c, const std::string& hook) {
    sql::Statement forget(c.get(),
                          "UPDATE hook_deliveries SET body = '', "
                          "next_at = CASE WHEN state = 'pending' THEN 0 ELSE next_at END, "
                          "state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE state END "
                          "WHERE hook = ?1 AND event = 'address.confirm'");
    return sql::write_result(forget.bind(1, hook).step(), "the confirmation's delivery");
}

}  // namespace

Result<std::optional<std::uint64_t>> Hooks::add_hook(const HookRecord& h, const Limits& limits,
                                                     const std::string& audit_entry, const DeliveryRecord* first) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            sql::Statement count(c.get(), "SELECT count(*) FROM hooks WHERE owner = ?1 AND removed_at = 0");
            if (count.bind(1, h.owner).step() != SQLITE_ROW) return sql::db_error("the database could not be read");
            if (static_cast<std::uint64_t>(count.integer(0)) >= limits.live_per_owner)
                return make_error(ErrorKind::conflict, h.owner + " already has " +
                                                           std::to_string(limits.live_per_owner) +
                                                           " webhooks; remove one first (serambi hook remove)");
            if (h.url.starts_with("mailto:")) {
                // Each email hook mails a code at once: registering and removing in a loop must
                // not turn the official sender into a way to write to anyone.
                sql::Statement recent(c.get(),
                                      "SELECT count(*) FROM hooks WHERE owner = ?1 AND url LIKE 'mailto:%' "
                                      "AND created_at > ?2");
                if (recent.bind(1, h.owner).bind(2, h.created_at - 24 * 3600).step() != SQLITE_ROW)
                    return sql::db_error("the database could not be read");
                if (static_cast<std::uint64_t>(recent.integer(0)) >= limits.addresses_per_day)
                    return make_error(ErrorKind::conflict,
                                      h.owner + " registered " + std::to_string(limits.addresses_per_day) +
                                          " email addresses in the last 24 hours; try again tomorrow");
                sql::Statement waiting(c.get(),
                                       "SELECT 1 FROM hooks WHERE owner = ?1 AND url = ?2 AND removed_at = 0 "
                                       "AND confirmed_at = 0");
                const int rc = waiting.bind(1, h.owner).bind(2, h.url).step();
                if (rc == SQLITE_ROW)
                    return make_error(ErrorKind::conflict,
                                      "a hook for this address already waits for its confirmation: confirm it "
                                      "(serambi hook confirm) or remove it first");
                if (rc != SQLITE_DONE) return sql::db_error("the database could not be read");
            }
            sql::Statement s(c.get(),
                             "INSERT INTO hooks(id, owner, everyone, url, events, secret, created_at, from_index, "
                             "cert_serial, confirmed_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
            if (auto w = sql::write_result(s.bind(1, h.id)
                                               .bind(2, h.owner)
                                               .bind(3, std::int64_t{h.everyone ? 1 : 0})
                                               .bind(4, h.url)
                                               .bind(5, boost::algorithm::join(h.events, ","))
                                               .bind(6, h.secret)
                                               .bind(7, h.created_at)
                                               .bind(8, static_cast<std::int64_t>(h.from_index))
                                               .bind(9, h.cert_serial)
                                               .bind(10, h.confirmed_at)
                                               .step(),
                                           "hook " + h.id);
                !w || first == nullptr)
                return w;
            sql::Statement d(c.get(),
                             "INSERT INTO hook_deliveries(id, hook, event, recipient, body, created_at, next_at) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            return sql::write_result(d.bind(1, first->id)
                                         .bind(2, h.id)
                                         .bind(3, first->event)
                                         .bind(4, first->recipient)
                                         .bind(5, first->body)
                                         .bind(6, first->created_at)
                                         .bind(7, first->next_at)
                                         .step(),
                                     "delivery " + first->id);
        },
        audit_entry);
}

Result<HookRecord> Hooks::hook(const std::string& id) {
    return db_.read([&](Connection& c) {
        return one_row<HookRecord>(c, std::string(kHookWithSecret) + "WHERE id = ?1", id, hook_from, "no such webhook");
    });
}

Result<std::vector<HookRecord>> Hooks::hooks(const std::string& owner) {
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kHookColumns) +
                          (owner.empty() ? "WHERE removed_at = 0 " : "WHERE owner = ?1 AND removed_at = 0 ") +
                          "ORDER BY created_at, id");
        if (!owner.empty()) s->bind(1, owner);
        return all_rows<HookRecord>(*s, hook_from);
    });
}

Result<std::optional<std::uint64_t>> Hooks::remove_hook(const std::string& id, std::int64_t at,
                                                        const std::string& audit_entry) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            sql::Statement s(c.get(), "UPDATE hooks SET removed_at = ?2 WHERE id = ?1 AND removed_at = 0");
            if (auto w = sql::write_result(s.bind(1, id).bind(2, at).step(), "hook " + id); !w) return w;
            if (c.changes() != 1) {
                sql::Statement exists(c.get(), "SELECT 1 FROM hooks WHERE id = ?1");
                const int rc = exists.bind(1, id).step();
                if (rc == SQLITE_ROW) return make_error(ErrorKind::conflict, "the webhook was already removed");
                if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such webhook");
                return sql::db_error("the database could not be read");
            }
            sql::Statement cancel(c.get(),
                                  "UPDATE hook_deliveries SET state = 'cancelled', next_at = 0 "
                                  "WHERE hook = ?1 AND state = 'pending'");
            if (auto w = sql::write_result(cancel.bind(1, id).step(), "the webhook's deliveries"); !w) return w;
            return forget_code(c, id);
        },
        audit_entry);
}

Result<bool> Hooks::take_confirm_try(const std::string& id, std::int64_t max_tries) {
    bool taken = false;
    auto written = db_.write([&](Transaction& tx) -> Status {
        auto s = tx.connection().cached(
            "UPDATE hooks SET confirm_tries = confirm_tries + 1 "
            "WHERE id = ?1 AND removed_at = 0 AND confirmed_at = 0 AND confirm_tries < ?2");
        if (auto w = sql::write_result(s->bind(1, id).bind(2, max_tries).step(), "hook " + id); !w) return w;
        taken = tx.connection().changes() == 1;
        return {};
    });
    if (!written) return written.error();
    return taken;
}

Result<std::optional<std::uint64_t>> Hooks::confirm_hook(const std::string& id, std::int64_t at,
                                                         std::uint64_t from_index, const std::string& audit_entry) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            // It hears of what is committed from its confirmation on, however far behind the
            // reading of events is.
            sql::Statement s(c.get(),
                             "UPDATE hooks SET confirmed_at = ?2, from_index = ?3 "
                             "WHERE id = ?1 AND removed_at = 0 AND confirmed_at = 0");
            if (auto w = sql::write_result(
                    s.bind(1, id).bind(2, at).bind(3, static_cast<std::int64_t>(from_index)).step(), "hook " + id);
                !w)
                return w;
            if (c.changes() != 1) return make_error(ErrorKind::conflict, "the address is already confirmed");
            return forget_code(c, id);
        },
        audit_entry);
}

Result<std::optional<std::uint64_t>> Hooks::cursor() {
    return db_.read([&](Connection& c) -> Result<std::optional<std::uint64_t>> {
        auto s = c.cached("SELECT next_index FROM hook_cursor WHERE id = 1");
        const int rc = s->step();
        if (rc == SQLITE_ROW) return std::optional<std::uint64_t>(static_cast<std::uint64_t>(s->integer(0)));
        if (rc == SQLITE_DONE) return std::optional<std::uint64_t>();
        return sql::db_error("the database could not be read");
    });
}

Status Hooks::queue(const std::vector<DeliveryRecord>& deliveries, std::optional<std::uint64_t> next_index) {
    return db_.write([&](Transaction& tx) -> Status {
        auto& c = tx.connection();
        for (const auto& d : deliveries) {
            // Only for a hook still live in this transaction: one removed while the events were
            // read gets nothing more.
            auto s = c.cached(
                "INSERT OR IGNORE INTO hook_deliveries(id, hook, event, recipient, body, created_at, next_at) "
                "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS(SELECT 1 FROM hooks WHERE id = ?2 AND removed_at = 0)");
            if (auto w = sql::write_result(s->bind(1, d.id)
                                               .bind(2, d.hook)
                                               .bind(3, d.event)
                                               .bind(4, d.recipient)
                                               .bind(5, d.body)
                                               .bind(6, d.created_at)
                                               .bind(7, d.next_at)
                                               .step(),
                                           "delivery " + d.id);
                !w)
                return w;
        }
        if (!next_index) return {};
        // Two statements, not an upsert: the SQLite under Debian's SQLCipher (3.15) has none.
        auto first = c.cached("INSERT OR IGNORE INTO hook_cursor(id, next_index) VALUES(1, 0)");
        if (auto w = sql::write_result(first->step(), "the webhooks' cursor"); !w) return w;
        auto s = c.cached("UPDATE hook_cursor SET next_index = max(next_index, ?1) WHERE id = 1");
        return sql::write_result(s->bind(1, static_cast<std::int64_t>(*next_index)).step(), "the webhooks' cursor");
    });
}

Result<std::vector<DeliveryRecord>> Hooks::due(std::int64_t now, std::size_t limit, bool email) {
    return db_.read([&](Connection& c) {
        // The oldest due delivery of each live hook (SQLite takes a bare column's values from the
        // row min() chose), so that one hook's backlog cannot crowd out the others.
        auto s = c.cached(
            "SELECT id, hook, event, recipient, body, created_at, state, attempts, next_at, last_status, last_error, "
            "delivered_at, min(next_at) FROM hook_deliveries "
            "WHERE state = 'pending' AND next_at <= ?1 AND hook IN "
            "(SELECT id FROM hooks WHERE removed_at = 0 AND (url LIKE 'mailto:%') = ?3) "
            "GROUP BY hook ORDER BY min(next_at) LIMIT ?2");
        s->bind(1, now).bind(2, static_cast<std::int64_t>(limit)).bind(3, std::int64_t{email ? 1 : 0});
        return all_rows<DeliveryRecord>(*s, delivery_from);
    });
}

Result<std::optional<std::int64_t>> Hooks::next_due() {
    return db_.read([&](Connection& c) -> Result<std::optional<std::int64_t>> {
        auto s = c.cached("SELECT min(next_at) FROM hook_deliveries WHERE state = 'pending'");
        if (s->step() != SQLITE_ROW) return sql::db_error("the database could not be read");
        if (s->is_null(0)) return std::optional<std::int64_t>();
        return std::optional<std::int64_t>(s->integer(0));
    });
}

Result<std::optional<std::uint64_t>> Hooks::record_attempt(const DeliveryRecord& d, const std::string& audit_entry) {
    return db_.write_with_entry(
        [&](Connection& c) -> Status {
            // Only a pending delivery moves: one cancelled meanwhile (its hook removed) stays so.
            // A confirmation's mail that ended keeps no copy of its code.
            auto s = c.cached(
                "UPDATE hook_deliveries SET state = ?2, attempts = ?3, next_at = ?4, last_status = ?5, "
                "last_error = ?6, delivered_at = ?7, "
                "body = CASE WHEN event = 'address.confirm' AND ?2 != 'pending' THEN '' ELSE body END "
                "WHERE id = ?1 AND state = 'pending'");
            if (auto w = sql::write_result(s->bind(1, d.id)
                                               .bind(2, d.state)
                                               .bind(3, d.attempts)
                                               .bind(4, d.next_at)
                                               .bind(5, d.last_status)
                                               .bind(6, d.last_error)
                                               .bind(7, d.delivered_at)
                                               .step(),
                                           "delivery " + d.id);
                !w)
                return w;
            if (c.changes() != 1) return make_error(ErrorKind::conflict, "the delivery is no longer pending");
            return {};
        },
        audit_entry);
}

Result<std::vector<DeliveryRecord>> Hooks::deliveries(const std::string& hook, std::size_t limit) {
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kDeliveryColumns) + "WHERE hook = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2");
        s->bind(1, hook).bind(2, static_cast<std::int64_t>(limit));
        return all_rows<DeliveryRecord>(*s, delivery_from);
    });
}

Status Hooks::prune(std::int64_t before) {
    return db_.write([&](Transaction& tx) -> Status {
        auto s = tx.connection().cached("DELETE FROM hook_deliveries WHERE state != 'pending' AND created_at < ?1");
        return sql::write_result(s->bind(1, before).step(), "old deliveries");
    });
}

}  // namespace serambi::storage
