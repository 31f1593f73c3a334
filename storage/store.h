// Where Serambi keeps things: principals, datasets and package metadata in one SQLCipher database
// keyed from the master key, and package payloads as sealed blobs (STREAM, per-package data key
// wrapped by the master key) in a local directory. No plaintext payload byte ever reaches the disk.
//
// Durability contract: a package exists only once its blob has been fsynced and renamed into place
// AND its row committed in one transaction. A blob found without its row at start-up is moved to
// a quarantine folder by Store::recover, never deleted: the database's word alone is not enough
// to destroy data (it may be damaged, or an older copy).
//
// Thread safety: Store is safe to share between threads (one connection behind a mutex);
// PackageWriter and PackageReader belong to one request at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/tlog.h"
#include "storage/env.h"

namespace serambi::storage {

// The master key file: 32 random bytes as hex on one line, mode 0600. Reading refuses a file that
// group or others may read, so a copied-with-wrong-mode key is noticed before it is used.
Status write_master_key(const std::filesystem::path& path);
Result<crypto::SecretKey> read_master_key(const std::filesystem::path& path);

// Writes `contents` to a new file with the given mode, fsynced; refuses to overwrite.
Status write_new_file(const std::filesystem::path& path, std::string_view contents, unsigned mode);
// Puts `contents` in place of `path` with `mode`: written and fsynced beside it, then renamed over
// it, so a reader sees the old file or the new one, never a mix.
Status replace_file(const std::filesystem::path& path, std::string_view contents, unsigned mode);
Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t limit);

// Package ids are 128 random bits as 32 lowercase hex digits; they also name blob files, so
// nothing else may ever be used as one.
bool is_package_id(std::string_view text) noexcept;

struct Principal {
    std::string id;
    std::string name;
    std::vector<std::string> roles;
    std::string cert_serial;
    std::string cert_fingerprint;
    std::string created_at;
    std::string age_recipient;   // "age1…": what classified packages for this principal are encrypted to
    std::string cert_not_after;  // when its certificate expires (ISO 8601 UTC); empty if unknown
    std::string removed_at;      // ISO 8601 UTC once removed; a removed id is kept and never reused
};

struct Dataset {
    std::string id;  // owner/name
    std::string owner;
    std::string classification;
    std::string title;
    std::string created_by;
    std::string created_at;
};

// An MOU agreement as registered by a custodian. Times are Unix seconds; valid_until is exclusive.
struct AgreementRecord {
    std::string id;  // "mou-" and 16 hex digits
    std::string partner;
    std::vector<std::string> patterns;
    std::string max_classification;
    std::string purpose;
    std::int64_t valid_from = 0;
    std::int64_t valid_until = 0;
    std::string document_name;    // the signed MOU's file name, when given
    std::string document_sha256;  // and its digest
    std::string created_by;
    std::string created_at;
    std::int64_t revoked_at = 0;  // 0 while in force
    std::string revoked_by;
    std::string revoke_reason;
};

// A certificate taken back before its expiry.
struct Revocation {
    std::string serial_hex;
    std::string principal;  // whose it was
    int reason = 0;         // RFC 5280 CRLReason
    std::int64_t revoked_at = 0;
    std::string revoked_by;
};

// A custodian's release of one package to one partner.
struct ApprovalRecord {
    std::string id;  // "apv-" and 16 hex digits
    std::string package;
    std::string partner;
    std::string custodian;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::uint32_t max_downloads = 0;  // 0: no cap
    std::uint32_t downloads = 0;
    std::int64_t withdrawn_at = 0;  // 0 while it stands
    std::string withdrawn_by;
};

struct PackageRecord {
    std::string id;
    std::string dataset;
    std::string producer;
    std::string classification;
    std::string filename;
    std::string media_type;
    std::uint64_t size = 0;
    std::string sha256_hex;
    std::string created_at;
    std::string manifest;                 // canonical JSON, exactly the bytes that were signed
    crypto::Bytes signature;              // detached DER CMS over manifest
    std::uint64_t audit_index = 0;        // leaf of the access-log entry committed with the package
    std::vector<std::string> recipients;  // sangat-rahasia: the readers the producer named
};

// The head of the access log: its size and RFC 6962 root.
struct AuditHead {
    std::uint64_t size = 0;
    crypto::tlog::Hash root{};
};

// What is known about a package before its payload arrives.
struct PackageDraft {
    std::string dataset;
    std::string producer;
    std::string classification;
    std::string filename;
    std::string media_type;
    std::vector<std::string> recipients;
};

// What the gateway has published or promised, kept outside the database so that a database
// restored from an older copy is noticed at start: the size and root of the last checkpoint it
// signed, and every certificate serial it revoked. Replaced whole (temporary file, fsync,
// rename, directory fsync) at every change, so a crash leaves the old state or the new one.
//
// Thread safety: safe to share; changes are written one at a time.
class StateFile {
  public:
    struct Contents {
        std::uint64_t checkpoint_size = 0;
        crypto::tlog::Hash checkpoint_root = crypto::tlog::empty_root();
        std::set<std::string> revoked;  // serials, uppercase hex
    };
    // nullopt when there is no file; an error when there is one that cannot be read or parsed.
    static Result<std::optional<Contents>> read(const std::filesystem::path& path);

    // `env`: where the file is written (null: the real file system).
    StateFile(std::filesystem::path path, Contents contents, std::shared_ptr<Env> env = nullptr);
    const std::filesystem::path& path() const noexcept { return path_; }
    Contents contents() const;
    // Each writes the file before it returns; memory changes only once the file has. A
    // checkpoint smaller than the one recorded changes nothing (the log only grows).
    Status record_checkpoint(std::uint64_t size, const crypto::tlog::Hash& root);
    Status record_revoked(const std::string& serial_hex);
    // Puts `contents` in place whatever was there: for an explicit, logged rollback only.
    Status replace(Contents contents);

  private:
    Status write_locked(const Contents& next);
    std::filesystem::path path_;
    std::shared_ptr<Env> env_;
    mutable std::mutex mutex_;
    Contents contents_;
};

class Store;

// Receives one payload, sealing it as it arrives. Destroying a writer that has not committed
// removes everything it wrote.
class PackageWriter {
  public:
    virtual ~PackageWriter() = default;

    virtual const std::string& id() const noexcept = 0;
    virtual const std::string& created_at() const noexcept = 0;
    virtual std::uint64_t size() const noexcept = 0;

    virtual Status write(crypto::ByteView data) = 0;

    struct Sealed {
        std::uint64_t size;
        std::string sha256_hex;
    };
    // Seals the final chunk, fsyncs and renames the blob into place. The package is not yet
    // visible: commit() makes it so.
    virtual Result<Sealed> finish() = 0;

    // Records the package, its manifest and signature, and its access-log entry in one
    // transaction: the package exists exactly when its entry does.
    virtual Result<PackageRecord> commit(std::string manifest, crypto::Bytes signature, std::string audit_entry) = 0;
};

// Reads one payload back, authenticating every chunk before any of its bytes are returned.
class PackageReader {
  public:
    virtual ~PackageReader() = default;

    virtual std::uint64_t size() const noexcept = 0;
    virtual Status seek(std::uint64_t offset) = 0;
    // Returns 0 at the end; ErrorKind::corruption if the blob was tampered with.
    virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
};

class Store {
  public:
    struct Options {
        std::filesystem::path database;
        std::filesystem::path blob_dir;
        crypto::Aead aead = crypto::Aead::aes_256_gcm;
        // Only `serambi init` creates a database. Anywhere else a missing or schema-less
        // database is an error: starting on an empty one would make every blob an orphan.
        bool create = false;
        // For inspection (fsck): nothing is written, and a damaged database still opens so that
        // its damage can be reported.
        bool read_only = false;
        // Where blobs are written and what time it is (null: the real file system and clock).
        std::shared_ptr<Env> env = nullptr;
        // The SQLite VFS the database is opened with, by its registered name (empty: the
        // default). Tests name one that fails on demand.
        std::string sqlite_vfs = {};
    };

    // Opens the database and blob directory, checks that the key opens the database, that
    // every page reads back (integrity check) and that the schema is there. Changes no blob.
    static Result<std::unique_ptr<Store>> open(const Options& options, const crypto::SecretKey& master_key);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Crash recovery, run once the database has been judged trustworthy: temporary uploads (never
    // packages) are removed; placed blobs without a committed row move to blobs/quarantine/ for
    // an operator to review. A failed lookup stops the recovery instead of counting as "no row".
    struct Recovery {
        std::size_t temporary_removed = 0;
        std::vector<std::filesystem::path> quarantined;  // where each orphan now is
    };
    Result<Recovery> recover();

    // What `PRAGMA integrity_check` reports (empty: none).
    Result<std::vector<std::string>> integrity_problems();
    // The database's packages against the blob directory: rows whose blob is missing or of the
    // wrong length (or, with `authenticate`, fails authentication), blobs without a row, and
    // what is in quarantine. For fsck; reads only.
    struct BlobReport {
        std::uint64_t packages = 0;
        std::uint64_t blobs = 0;
        std::vector<std::string> missing;  // package ids
        std::vector<std::string> damaged;  // package ids, with why after a colon
        std::vector<std::filesystem::path> unknown;
        std::vector<std::filesystem::path> quarantined;
    };
    Result<BlobReport> check_blobs(bool authenticate);

    // With `audit_entry`, the change and its access-log entry commit together (the entry's
    // index is returned): a change is never kept without its entry.
    Result<std::optional<std::uint64_t>> add_principal(const Principal& principal, const std::string& audit_entry = {});
    Result<Principal> principal(const std::string& id);
    // Replaces a principal's age recipient, with its access-log entry.
    Result<std::optional<std::uint64_t>> set_age_recipient(const std::string& id, const std::string& recipient,
                                                           const std::string& audit_entry = {});
    Result<std::vector<Principal>> principals();

    Result<std::optional<std::uint64_t>> add_dataset(const Dataset& dataset, const std::string& audit_entry = {});
    Result<Dataset> dataset(const std::string& id);
    Result<std::vector<Dataset>> datasets();

    Result<PackageRecord> package(const std::string& id);
    Result<std::vector<PackageRecord>> packages_in(const std::string& dataset);

    // ---- MOU agreements and release approvals. Every change commits with its access-log entry.
    Result<std::optional<std::uint64_t>> add_agreement(const AgreementRecord& agreement,
                                                       const std::string& audit_entry = {});
    Result<AgreementRecord> agreement(const std::string& id);
    // Every agreement, or one partner's (an empty partner means all).
    Result<std::vector<AgreementRecord>> agreements(const std::string& partner = {});
    // not_found if there is no such agreement, conflict if it was already revoked.
    Result<std::optional<std::uint64_t>> revoke_agreement(const std::string& id, const std::string& by,
                                                          const std::string& reason, std::int64_t at,
                                                          const std::string& audit_entry = {});
    Result<std::optional<std::uint64_t>> add_approval(const ApprovalRecord& approval,
                                                      const std::string& audit_entry = {});
    Result<ApprovalRecord> approval(const std::string& id);
    // Filtered by package and partner when given (empty means any).
    Result<std::vector<ApprovalRecord>> approvals(const std::string& package, const std::string& partner);
    Result<std::optional<std::uint64_t>> withdraw_approval(const std::string& id, const std::string& by,
                                                           std::int64_t at, const std::string& audit_entry = {});
    // Renewal: the principal's certificate becomes the new one and the old serial is revoked
    // (superseded) in the same transaction as the entry.
    Result<std::optional<std::uint64_t>> replace_certificate(const std::string& id, const std::string& serial_hex,
                                                             const std::string& fingerprint,
                                                             const std::string& not_after, const Revocation& old,
                                                             const std::string& audit_entry = {});
    // Removal: the principal is marked removed and its certificate revoked (unless it already is),
    // with the entry, in one transaction; conflict if it was removed already.
    Result<std::optional<std::uint64_t>> remove_principal(const std::string& id, const Revocation& revocation,
                                                          const std::string& audit_entry = {});
    // conflict if that serial is already revoked.
    Result<std::optional<std::uint64_t>> revoke_certificate(const Revocation& revocation,
                                                            const std::string& audit_entry = {});
    Result<std::vector<Revocation>> revocations();
    // Spends one download of each approval, all or none: conflict if any no longer stands at
    // `now` (withdrawn, expired or used up meanwhile).
    Status spend_downloads(const std::vector<std::string>& approval_ids, std::int64_t now);

    Result<std::unique_ptr<PackageWriter>> begin_package(PackageDraft draft);
    Result<std::unique_ptr<PackageReader>> open_package(const std::string& id);

    // ---- The access log: entries are the leaves of an RFC 6962 Merkle tree. The hash of every
    // complete subtree at every fourth level is stored beside them, so a root or a proof costs
    // O(log n) short range reads.

    // Appends `entries` as consecutive leaves and returns the first one's index once they are
    // durable. Callers arriving while a commit runs share the next one (one fsync per group).
    Result<std::uint64_t> append_audit(std::vector<std::string> entries);
    // The same without holding a thread: `done` runs on the committer thread once the entries
    // are durable (or failed); it must be quick and must not call back into the store.
    using AuditDone = std::function<void(Result<std::uint64_t>)>;
    void append_audit_async(std::vector<std::string> entries, AuditDone done);
    // Waits until every queued entry is committed and its `done` has run.
    void flush_audit();
    Result<AuditHead> audit_head();
    Result<crypto::tlog::Hash> audit_root(std::uint64_t size);
    // Entries [start, end), at most `limit` of them, exactly as hashed.
    Result<std::vector<std::string>> audit_entries(std::uint64_t start, std::uint64_t end, std::size_t limit);
    // RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
    Result<std::vector<crypto::tlog::Hash>> audit_inclusion(std::uint64_t index, std::uint64_t size);
    // RFC 9162 consistency proof between the trees of `old_size` and `new_size` leaves.
    Result<std::vector<crypto::tlog::Hash>> audit_consistency(std::uint64_t old_size, std::uint64_t new_size);
    // Signed checkpoints as issued, for auditors who ask later.
    Status save_checkpoint(std::uint64_t size, const std::string& note);
    Result<std::string> latest_checkpoint();  // not_found before the first

  private:
    friend class BlobWriter;
    Result<std::optional<std::uint64_t>> insert_with_audit(const std::function<Status()>& insert,
                                                           const std::string& audit_entry);
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace serambi::storage
