// Reading what the access log hands out: exported entries, proofs and signed checkpoints, as the
// CLI checks them offline. Pure functions over text, so that they can be fuzzed without a gateway.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/tlog.h"

namespace serambi::storage {

// The columns of `audit export --csv`, in order.
std::string audit_csv_header();
// One exported entry as a CSV row for spreadsheets: its index in the log (when known), its time
// in the local zone and in UTC as spreadsheets read dates, one column per field; every cell
// quoted, formulas defused; a line that is not a JSON object gives a row of empty cells.
std::string audit_csv_row(std::string_view entry, std::optional<std::uint64_t> index = std::nullopt);

// Whether an entry records the allowed push of `package_id` into `dataset` with that digest.
bool records_push(std::string_view entry, std::string_view package_id, std::string_view dataset,
                  std::string_view sha256_hex);

// The "hashes" of a proof (JSON object), each 32 bytes of base64.
Result<std::vector<crypto::tlog::Hash>> proof_hashes(std::string_view json);

// A signed checkpoint checked against the verifier key: the signature, the body, and the log it
// names must be the key's. Errors are corruption, prefixed with `what`.
Result<crypto::tlog::Checkpoint> verified_checkpoint(std::string_view note, std::string_view key,
                                                     const std::string& what);

// A key hand-over checkpoint names the log's new verifier key in an extension line, so that a
// witness that sees it signed by the key it knows (and by the new one) can follow:
//   "<origin>\n<size>\n<root>\nserambi-log-key-handover <new verifier key>\n"
inline constexpr std::string_view kHandoverExtension = "serambi-log-key-handover";
std::string handover_checkpoint_body(const crypto::tlog::Checkpoint& checkpoint, const std::string& new_key);
// The new key a checkpoint body hands over to (empty: it is not a hand-over).
std::string handed_over_key(std::string_view body);
// The body of a note, unverified, for when which key must check it depends on what it says.
Result<crypto::tlog::Checkpoint> unverified_checkpoint(std::string_view note);

// Follows the log key's hand-overs through an export, entry by entry. Every hand-over must check
// out (its checkpoint signed by the announced old and new keys, over exactly the entries before
// it, naming the new key): a gateway never writes one that does not. Trust starts from the key
// the auditor holds and moves forward through each hand-over that key (or one it moved to)
// signed, and backward through each whose new key it is, so that an auditor who saved the new
// key still checks checkpoints saved before the rotation.
class KeyChain {
  public:
    explicit KeyChain(std::string trusted_key);
    // Each entry in order, before it is added to `tree` (which holds the entries before it).
    Status see(std::string_view entry, const crypto::tlog::TreeBuilder& tree);
    // The key that signs the checkpoint of `size` entries, as far as the entries seen tell.
    std::string key_for(std::uint64_t size) const;
    // Hand-overs the trust moves through to check checkpoints of sizes `lowest` to `highest`:
    // forward from the key in hand up to `highest`, backward down to `lowest`.
    std::size_t handovers_followed(std::uint64_t lowest, std::uint64_t highest) const;

  private:
    struct Handover {
        std::uint64_t size;  // the hand-over checkpoint's: larger ones are signed by `new_key`
        std::string old_key, new_key;
    };
    std::string trusted_;
    std::vector<Handover> handovers_;  // every one that checked out, in order
    std::string announced_old_, announced_new_;
    std::uint64_t announced_at_ = UINT64_MAX;
};

}  // namespace serambi::storage
