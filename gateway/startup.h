// Internal: what the gateway checks and repairs before it accepts a connection, each step an
// access-log entry. No Beast here.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gateway/handler.h"

namespace serambi::gateway {

using LogLine = std::function<void(const std::string&)>;

// Compares the database with the state file (what this gateway already published and revoked):
// a database behind it stops the start, unless `accept_rollback`, in which case the rollback is
// recorded, every revoked serial is revoked again in the database, and the state file is
// rewritten. A missing state file is made from the database, and that is recorded too.
// On success `revoked` holds every serial either of them knows, and the returned state file is
// the one the gateway keeps up to date from now on.
Result<std::unique_ptr<storage::StateFile>> reconcile_state(const Config& config, storage::Store& store,
                                                            AuditTrail& audit, RevokedSerials& revoked,
                                                            bool accept_rollback, const LogLine& log);

// The access-log key: it must be the key the log's last hand-over names (any key of the log's
// origin when it has none).
// A rotation's KEY.next that the database names is put in place first; one it does not name is
// left for discard_pending_log_key once reconcile_state has trusted the database. The key must
// also verify the database's latest checkpoint.
Result<crypto::tlog::NoteSigner> load_log_key(const Config& config, storage::Store& store, const LogLine& log);
// Whether the database's log extends the checkpoint the state file records (no state file: yes).
Status log_within_state(const Config& config, storage::Store& store);

// Crash recovery once the database is trusted: leftovers removed, orphaned blobs quarantined,
// one access-log entry per quarantined blob. Returns how many were quarantined.
Result<std::size_t> recover_storage(storage::Store& store, AuditTrail& audit, const LogLine& log);

}  // namespace serambi::gateway
