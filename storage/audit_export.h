// Reading what the access log hands out: exported entries, proofs and signed checkpoints, as the
// CLI checks them offline. Pure functions over text, so that they can be fuzzed without a gateway.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/tlog.h"

namespace serambi::storage {

// The columns of `audit export --csv`, in order.
std::string audit_csv_header();
// One exported entry as a CSV row for spreadsheets: every column quoted, formulas defused; a
// line that is not a JSON object gives a row of empty cells.
std::string audit_csv_row(std::string_view entry);

// Whether an entry records the allowed push of `package_id` into `dataset` with that digest.
bool records_push(std::string_view entry, std::string_view package_id, std::string_view dataset,
                  std::string_view sha256_hex);

// The "hashes" of a proof (JSON object), each 32 bytes of base64.
Result<std::vector<crypto::tlog::Hash>> proof_hashes(std::string_view json);

// A signed checkpoint checked against the verifier key: the signature, the body, and the log it
// names must be the key's. Errors are corruption, prefixed with `what`.
Result<crypto::tlog::Checkpoint> verified_checkpoint(std::string_view note, std::string_view key,
                                                     const std::string& what);

}  // namespace serambi::storage
