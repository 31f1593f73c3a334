// Internal: a thin RAII layer over the SQLCipher C API. Every statement is prepared and bound;
// no value is ever spliced into SQL text.
#pragma once

#define SQLITE_HAS_CODEC 1
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/crypto.h"

namespace serambi::storage::sql {

struct CloseDb {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct FinalizeStmt {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;

class Statement {
  public:
    Statement(sqlite3* db, std::string_view sql) {
        sqlite3_stmt* raw = nullptr;
        rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
        stmt_.reset(raw);
    }
    bool prepared() const noexcept { return rc_ == SQLITE_OK && stmt_ != nullptr; }

    Statement& bind(int index, std::string_view text) {
        if (rc_ == SQLITE_OK)
            rc_ = sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int index, std::int64_t value) {
        if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_.get(), index, value);
        return *this;
    }
    Statement& bind(int index, crypto::ByteView blob) {
        if (rc_ == SQLITE_OK)
            rc_ = sqlite3_bind_blob(stmt_.get(), index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
        return *this;
    }

    // Ready to run again with new bindings.
    void reset() {
        if (!stmt_) return;  // never prepared: nothing to reset (clear_bindings would crash)
        sqlite3_reset(stmt_.get());
        sqlite3_clear_bindings(stmt_.get());
        rc_ = stmt_ ? SQLITE_OK : rc_;
    }

    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step() {
        if (rc_ != SQLITE_OK) return rc_;
        return sqlite3_step(stmt_.get());
    }

    std::string text(int column) const {
        const auto* p = sqlite3_column_text(stmt_.get(), column);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)))
                 : std::string();
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_.get(), column); }
    bool is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }
    crypto::Bytes blob(int column) const {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_.get(), column));
        const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column));
        return p ? crypto::Bytes(p, p + n) : crypto::Bytes();
    }

  private:
    std::unique_ptr<sqlite3_stmt, FinalizeStmt> stmt_;
    int rc_ = SQLITE_OK;
};

inline bool exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

// A database failure as callers see it: the store cannot serve now. The SQLite detail goes to
// no client.
inline Error db_error(const char* what) { return make_error(ErrorKind::unavailable, what); }

// The outcome of an INSERT or UPDATE step: a constraint names `what` as a conflict.
inline Status write_result(int rc, const std::string& what) {
    if (rc == SQLITE_DONE) return {};
    if (rc == SQLITE_CONSTRAINT)
        return make_error(ErrorKind::conflict, what + " already exists or refers to something unknown");
    return db_error("the database refused the write");
}

}  // namespace serambi::storage::sql
