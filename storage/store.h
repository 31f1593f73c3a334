// Where Serambi keeps things: principals, datasets and package metadata in one SQLCipher database
// keyed from the master key, and package payloads as sealed blobs (STREAM, per-package data key
// wrapped by the master key) in a local directory. No plaintext payload byte ever reaches the disk.
//
// Durability contract: a package exists only once its blob has been fsynced and renamed into place
// AND its row committed in one transaction. A blob found without its row at start-up is moved to
// a quarantine folder by Packages::recover, never deleted: the database's word alone is not enough
// to destroy data (it may be damaged, or an older copy).
//
// Thread safety: Store and its five stores are safe to share between threads. Changes go one at a
// time through one writer connection; lookups go through a second connection that sees every
// committed change and never waits behind a commit's fsync. PackageWriter and PackageReader
// belong to one request at a time.
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
#include "storage/records.h"

namespace serambi::storage {

// The master key file: 32 random bytes as hex on one line, mode 0600. Reading refuses a file that
// group or others may read, so a copied-with-wrong-mode key is noticed before it is used.
Status write_master_key(const std::filesystem::path& path);
Status write_master_key(const std::filesystem::path& path, const crypto::SecretKey& key);
Result<crypto::SecretKey> read_master_key(const std::filesystem::path& path);

// Writes `contents` to a new file with the given mode, fsynced; refuses to overwrite.
Status write_new_file(const std::filesystem::path& path, std::string_view contents, unsigned mode);
// Puts `contents` in place of `path` with `mode`: written and fsynced beside it, then renamed over
// it and the directory fsynced, so a reader sees the old file or the new one, never a mix, and
// the new one survives a crash once this returns.
Status replace_file(const std::filesystem::path& path, std::string_view contents, unsigned mode);
Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t limit);

// Held for as long as a command works on a deployment: one gateway at a time, any number of
// inspections (fsck, backup) beside it, and a key rotation alone. Locks (flock) on the blob
// directory and its tmp/ folder, so they hold on the local file system the deployment is on.
// A gateway and a rotation also lock `<database>.gateway.lock` beside the database: two gateways
// configured with one database and different blob directories would otherwise both append to
// its access log. (A file of its own, not the database: a rotation renames a new one over it.)
class DeploymentLock {
  public:
    enum class Mode {
        serve,    // serambi serve: no other gateway, no rotation
        inspect,  // fsck, backup: no rotation
        rotate,   // keys rotate-master: nothing else
    };
    static Result<DeploymentLock> acquire(const std::filesystem::path& blob_dir, const std::filesystem::path& database,
                                          Mode mode);
    DeploymentLock(DeploymentLock&& other) noexcept : fds_{other.fds_[0], other.fds_[1], other.fds_[2]} {
        other.fds_[0] = other.fds_[1] = other.fds_[2] = -1;
    }
    DeploymentLock& operator=(DeploymentLock&&) = delete;
    ~DeploymentLock();

  private:
    DeploymentLock() = default;
    int fds_[3] = {-1, -1, -1};
};

// Master-key rotation, with the gateway stopped. A new key is written beside the old one as
// KEY.next; a copy of the database under the new key, every package's and upload's data key
// wrapped again, is made as DATABASE.next; the copy then takes the database's place, the old key
// is overwritten and the new one takes its place. Payloads are not re-encrypted: their data keys
// do not change. Each step is durable before the next begins, and
// finish_master_key_rotation brings a rotation that stopped anywhere to one end or the other.
struct MasterKeyFiles {
    std::filesystem::path key;
    std::filesystem::path database;
};
// `progress` is told each step as it is done (1 to 6), with what it did.
Status rotate_master_key(const MasterKeyFiles& files,
                         const std::function<void(int step, const std::string& done)>& progress);
// Run before the master key is read (every start of the gateway, every rotation): "" when no
// rotation was under way, else what was done about it ("rolled back", "finished").
Result<std::string> finish_master_key_rotation(const MasterKeyFiles& files);

// Access-log key rotation's files. The new key is written whole as KEY.next before the database
// records the hand-over to it; once the database does, the old key is overwritten and the new one
// takes its place. Only the database decides which side of the hand-over a stopped rotation is
// on, and only a database already checked against the state file may have a KEY.next destroyed.
Status stage_log_key(const std::filesystem::path& key, std::string_view private_text);
// "" or a warning (the old key could not be overwritten; the new one is in place regardless).
Result<std::string> install_log_key(const std::filesystem::path& key);
// Before the log key is read: `current` is the verifier key of the database's last hand-over
// (empty: none). A KEY.next that is that key is put in place; any other is left alone. "" when
// nothing was done, else what was.
Result<std::string> install_pending_log_key(const std::filesystem::path& key, const std::string& current);
// Once the database is trusted: a KEY.next it does not name (the hand-over never committed) is
// overwritten and removed.
Result<std::string> discard_pending_log_key(const std::filesystem::path& key);

// The schema version this binary writes and upgrades older databases to (PRAGMA user_version).
int database_schema_version() noexcept;

// The database library in use: "SQLCipher 4.5.… community (SQLite 3.40.…)".
std::string database_library_version();

// Package ids are 128 random bits as 32 lowercase hex digits; they also name blob files, so
// nothing else may ever be used as one.
bool is_package_id(std::string_view text) noexcept;

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
    // After commit(): the dataset's newest package before this one, if its content was the same
    // (told in the receipt, never refused: sending a file again can be what the producer meant).
    virtual const std::string& repeats() const noexcept = 0;
};

// A package that arrives over several requests (the tus protocol), sealed as it arrives exactly
// like a single-request push. What it wrote stays on disk between requests and across a restart:
// Packages::resume_upload picks it up from the last whole sealed chunk. Destroying one that has
// not committed keeps what it wrote, for the next request to continue.
class UploadWriter : public PackageWriter {
  public:
    virtual const UploadRecord& record() const noexcept = 0;
    // size() is the upload's offset: every byte written so far, some of them (less than one
    // chunk) still in memory until the next chunk fills.
    std::uint64_t length() const noexcept { return record().length; }
    // Makes what is sealed so far durable (fsync), at the end of each request.
    virtual Status sync() = 0;
};

// Reads one payload back, authenticating every chunk before any of its bytes are returned.
class PackageReader {
  public:
    virtual ~PackageReader() = default;

    virtual std::uint64_t size() const noexcept = 0;
    virtual Status seek(std::uint64_t offset) = 0;
    // Returns 0 at the end; ErrorKind::corruption if the blob was tampered with.
    virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
    // Whether a read costs only memory and CPU (a payload the database holds, already loaded),
    // never a wait for the disk: such a read may be done where waiting would hold others up.
    virtual bool in_memory() const noexcept { return false; }
};

class Database;    // the connections under every store (internal)
class Connection;  // one of them

// Who may act: principals and their certificates, the certificates taken back, and datasets.
// Every change commits with its access-log entry when one is given (its index is returned): a
// change is never kept without its entry.
class Registry {
  public:
    explicit Registry(Database& db, std::shared_ptr<Env> env);
    ~Registry();

    Result<std::optional<std::uint64_t>> add_principal(const Principal& principal, const std::string& audit_entry = {});
    Result<Principal> principal(const std::string& id);
    Result<std::vector<Principal>> principals();
    // Replaces a principal's age recipient.
    Result<std::optional<std::uint64_t>> set_age_recipient(const std::string& id, const std::string& recipient,
                                                           const std::string& audit_entry = {});
    // Renewal and reissue: the principal's certificate becomes the new one and the old serial is
    // revoked (superseded) in the same transaction as the entry. A renewal (`old_may_be_revoked`
    // false) fails with conflict if the old certificate was revoked meanwhile, since a renewal is
    // the old key speaking; a reissue by an admin keeps an earlier revocation and its reason.
    Result<std::optional<std::uint64_t>> replace_certificate(const std::string& id, const std::string& serial_hex,
                                                             const std::string& fingerprint,
                                                             const std::string& not_after, const Revocation& old,
                                                             const std::string& audit_entry = {},
                                                             bool old_may_be_revoked = false);
    // Removal: the principal is marked removed and its certificate revoked (unless it already is),
    // with the entry, in one transaction; conflict if it was removed already.
    Result<std::optional<std::uint64_t>> remove_principal(const std::string& id, const Revocation& revocation,
                                                          const std::string& audit_entry = {});
    // conflict if that serial is already revoked.
    Result<std::optional<std::uint64_t>> revoke_certificate(const Revocation& revocation,
                                                            const std::string& audit_entry = {});
    Result<std::vector<Revocation>> revocations();

    Result<std::optional<std::uint64_t>> add_dataset(const Dataset& dataset, const std::string& audit_entry = {});
    Result<Dataset> dataset(const std::string& id);
    Result<std::vector<Dataset>> datasets();

  private:
    // Every change goes through here: it forgets the principals and datasets kept in memory.
    Result<std::optional<std::uint64_t>> change(const std::function<Status(Connection&)>& change,
                                                const std::string& audit_entry);
    Database& db_;
    std::shared_ptr<Env> env_;
    struct Kept;  // principals and datasets as read, until the next change
    std::unique_ptr<Kept> kept_;
};

// What lets a partner read classified data: MOU agreements and release approvals. Rows are never
// deleted; revoking or withdrawing stamps them. Every change commits with its access-log entry.
class Grants {
  public:
    Grants(Database& db, std::shared_ptr<Env> env);
    ~Grants();

    Result<std::optional<std::uint64_t>> add_agreement(const AgreementRecord& agreement,
                                                       const std::string& audit_entry = {});
    Result<AgreementRecord> agreement(const std::string& id);
    // Every agreement, or one partner's (an empty partner means all).
    Result<std::vector<AgreementRecord>> agreements(const std::string& partner = {});
    // not_found if there is no such agreement, conflict if it was already revoked.
    Result<std::optional<std::uint64_t>> revoke_agreement(const std::string& id, const std::string& by,
                                                          const std::string& reason, std::int64_t at,
                                                          const std::string& audit_entry = {});
    // Judges, inside the approval's transaction, whether the package's approvals for the partner
    // (this one included) now release it; if so, the partner's open requests are marked released
    // in the same transaction, so that two custodians approving at once cannot both miss it.
    using ReleaseTest = std::function<bool(const std::vector<ApprovalRecord>&)>;
    Result<std::optional<std::uint64_t>> add_approval(const ApprovalRecord& approval,
                                                      const std::string& audit_entry = {},
                                                      const ReleaseTest& releases = {});
    Result<ApprovalRecord> approval(const std::string& id);
    // Filtered by package and partner when given (empty means any).
    Result<std::vector<ApprovalRecord>> approvals(const std::string& package, const std::string& partner);
    Result<std::optional<std::uint64_t>> withdraw_approval(const std::string& id, const std::string& by,
                                                           std::int64_t at, const std::string& audit_entry = {});
    // conflict if the partner already has an open request for the package.
    Result<std::optional<std::uint64_t>> add_request(const AccessRequestRecord& request,
                                                     const std::string& audit_entry = {});
    Result<AccessRequestRecord> request(const std::string& id);
    // Filtered by partner and state when given (empty means any), oldest first.
    Result<std::vector<AccessRequestRecord>> requests(const std::string& partner, const std::string& state);
    // not_found if there is no such request, conflict if it is no longer open.
    Result<std::optional<std::uint64_t>> refuse_request(const std::string& id, const std::string& by,
                                                        const std::string& reason, std::int64_t at,
                                                        const std::string& audit_entry = {});
    // Downloads are counted when they complete, and a download cut and resumed is one download:
    // each approval keeps the prefix of the delivery its current download has covered; a range
    // that starts inside it extends it, and reaching the end completes the download, which
    // counts against the cap once another begins (a range from the first byte): what was sent
    // at the end may have been lost with the link. The bytes
    // sent under an approval are capped at max_downloads whole deliveries, plus what a cut link
    // sends twice (at most one delivery, at most 64 MiB), so that ranges that never complete
    // a download cannot fetch more either.
    struct DeliveryCharge {
        std::string approval;
        std::uint64_t first = 0;    // the range's first byte
        std::uint64_t total = 0;    // the whole delivery's length
        std::uint64_t charged = 0;  // bytes reserved for the range
    };
    // Before a delivery of [first, first + length): reserves its bytes against each approval,
    // all or none; conflict, saying why, if one no longer stands at `now` (withdrawn, expired,
    // used up) or has too few bytes left.
    Result<std::vector<DeliveryCharge>> reserve_delivery(const std::vector<std::string>& approval_ids,
                                                         std::uint64_t first, std::uint64_t length, std::uint64_t total,
                                                         std::int64_t now);
    // Once the delivery ended with `sent` bytes sent: what was not sent goes back, the covered
    // prefix grows, and a download that reached the end is counted.
    Status settle_delivery(const std::vector<DeliveryCharge>& charges, std::uint64_t sent);

  private:
    Result<std::optional<std::uint64_t>> change_agreements(const std::function<Status(Connection&)>& change,
                                                           const std::string& audit_entry);
    Database& db_;
    std::shared_ptr<Env> env_;
    struct AgreementCache;
    std::unique_ptr<AgreementCache> cache_;
};

// Packages: their rows and their sealed blobs, written and read back, and the start-up recovery
// and checks that keep the two in agreement.
class Packages {
  public:
    struct Config {
        std::filesystem::path blob_dir;
        crypto::Aead aead = crypto::Aead::aes_256_gcm;
    };
    Packages(Database& db, std::shared_ptr<Env> env, Config config, const crypto::SecretKey& master_key);
    ~Packages();

    Result<PackageRecord> package(const std::string& id);
    // Oldest first, in the order they were stored.
    Result<std::vector<PackageRecord>> packages_in(const std::string& dataset);

    Result<std::unique_ptr<PackageWriter>> begin_package(PackageDraft draft);
    Result<std::unique_ptr<PackageReader>> open_package(const std::string& id);
    // The secret a reader's age delivery of a package is derived from: the same for the same
    // package (id and content digest) and recipient under the same master key, so that the delivered file is the same
    // on every request and a cut download resumes with a Range.
    crypto::SecretKey delivery_seed(const std::string& package_id, const std::string& sha256_hex,
                                    const std::string& recipient) const;
    // The package a producer's earlier push with this Idempotency-Key became, if any, and the
    // index of the push's access-log entry.
    struct PushKey {
        std::string package_id;
        std::uint64_t audit_index = 0;
    };
    Result<std::optional<PushKey>> pushed_with_key(const std::string& producer, const std::string& key);

    // Resumable uploads. An upload's row and its sealed part file are made before the first
    // byte; each later request resumes it. After a restart (or a failed request) it is opened
    // again under a new data key: the chunks that authenticate are sealed again into a new part
    // file, so that no chunk is ever sealed twice under one key and nonce, whatever the client
    // sends the second time.
    Result<std::unique_ptr<UploadWriter>> begin_upload(PackageDraft draft, std::uint64_t length,
                                                       std::int64_t expires_at);
    Result<std::unique_ptr<UploadWriter>> resume_upload(const std::string& id);
    Result<UploadRecord> upload(const std::string& id);
    // The open uploads of a producer (empty: everyone's), oldest first.
    Result<std::vector<UploadRecord>> open_uploads(const std::string& producer);
    // Uploads whose expiry is at or before `now`, open or complete.
    Result<std::vector<UploadRecord>> expired_uploads(std::int64_t now);
    // Removes an upload's row (with its access-log entry, when given) and then its part files.
    Result<std::optional<std::uint64_t>> remove_upload(const std::string& id, const std::string& audit_entry = {});

    // Crash recovery, run once the database has been judged trustworthy: temporary uploads (never
    // packages) are removed; placed blobs without a committed row move to blobs/quarantine/ for
    // an operator to review. A failed lookup stops the recovery instead of counting as "no row".
    struct Recovery {
        std::size_t temporary_removed = 0;
        std::vector<std::filesystem::path> quarantined;  // where each orphan now is
    };
    Result<Recovery> recover();

    // The database's packages against the blob directory: rows whose blob is missing or of the
    // wrong length (or, with `authenticate`, fails authentication), blobs without a row, and
    // what is in quarantine. For fsck; reads only.
    struct BlobReport {
        std::uint64_t packages = 0;
        std::uint64_t blobs = 0;
        std::uint64_t kept = 0;            // packages whose payload is in the database, not a blob file
        std::vector<std::string> missing;  // package ids
        std::vector<std::string> damaged;  // package ids, with why after a colon
        std::vector<std::filesystem::path> unknown;
        std::vector<std::filesystem::path> quarantined;
    };
    Result<BlobReport> check_blobs(bool authenticate);

    // Space on the blob store's file system, and what the gateway's data takes of it.
    struct DiskUse {
        std::uint64_t free_bytes = 0;      // available to the gateway (statvfs f_bavail)
        std::uint64_t blob_bytes = 0;      // sealed payloads in blob files
        std::uint64_t database_bytes = 0;  // the database file and its write-ahead log
    };
    Result<std::uint64_t> free_bytes();
    Result<DiskUse> disk_use();

    // The blob file of every package whose payload is not kept in the database, sorted.
    Result<std::vector<std::filesystem::path>> blob_files();

  private:
    friend class BlobWriter;
    friend class ResumableWriter;
    struct Keys;
    Database& db_;
    std::shared_ptr<Env> env_;
    Config config_;
    std::unique_ptr<Keys> keys_;
    // Whether the database has the table of payloads kept in it: a read-only open (fsck) of a
    // database no writable open has upgraded yet does not, and then every payload is a file.
    bool kept_payloads_ = true;
    std::filesystem::path blob_path(const std::string& package_id) const;
    std::filesystem::path temp_dir() const { return config_.blob_dir / "tmp"; }
    std::filesystem::path upload_dir() const { return config_.blob_dir / "uploads"; }
    std::filesystem::path part_path(const std::string& upload_id, std::int64_t epoch) const {
        return upload_dir() / (upload_id + "." + std::to_string(epoch) + ".part");
    }
    // Writes an upload's part file for a new epoch: the chunks of `from` (if any) that
    // authenticate, sealed again under a new key, then records the key in the upload's row.
    Result<std::unique_ptr<UploadWriter>> open_epoch(UploadRecord record, std::int64_t epoch,
                                                     const std::filesystem::path* from,
                                                     const crypto::SecretKey* old_key, crypto::Aead old_aead);
    // Removes the files in uploads/ that no open upload's current epoch owns. At start-up only:
    // while the gateway serves, an upload being created has its file before its row.
    Status sweep_part_files();
};

// The access log: entries are the leaves of an RFC 6962 Merkle tree. The hash of every complete
// subtree at every fourth level is stored beside them, so a root or a proof costs O(log n) short
// range reads. Appends are group-committed by one thread: callers arriving while a commit runs
// share the next one (one fsync per group).
class AccessLog {
  public:
    // `committer`: start the thread that appends (not for a read-only inspection).
    AccessLog(Database& db, bool committer);
    ~AccessLog();  // what was queued is written first

    // Appends `entries` as consecutive leaves and returns the first one's index once they are
    // durable.
    Result<std::uint64_t> append(std::vector<std::string> entries);
    // The same without holding a thread: `done` runs on the committer thread once the entries
    // are durable (or failed); it must be quick and must not call back into the store.
    using Done = std::function<void(Result<std::uint64_t>)>;
    void append_async(std::vector<std::string> entries, Done done);
    // Waits until every queued entry is committed and its `done` has run.
    void flush();

    Result<AuditHead> head();
    // Entries committed so far: no database read, for those that only watch the log grow.
    std::uint64_t size() const noexcept;
    Result<crypto::tlog::Hash> root(std::uint64_t size);
    // Entries [start, end), at most `limit` of them, exactly as hashed.
    // `indexes`, when given, receives each row's own index: a row missing from a damaged log
    // leaves a gap there instead of shifting the indexes of the rows after it.
    Result<std::vector<std::string>> entries(std::uint64_t start, std::uint64_t end, std::size_t limit,
                                             std::vector<std::uint64_t>* indexes = nullptr);
    // RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
    Result<std::vector<crypto::tlog::Hash>> inclusion(std::uint64_t index, std::uint64_t size);
    // RFC 9162 consistency proof between the trees of `old_size` and `new_size` leaves.
    Result<std::vector<crypto::tlog::Hash>> consistency(std::uint64_t old_size, std::uint64_t new_size);
    // Signed checkpoints as issued, for auditors who ask later.
    Status save_checkpoint(std::uint64_t size, const std::string& note);
    Result<std::string> latest_checkpoint();  // not_found before the first
    // A witness's cosignature line over the checkpoint of `size` leaves (its name the witness's).
    Status save_cosignature(std::uint64_t size, const std::string& witness, const std::string& line);
    // The cosignature lines kept for the checkpoint of `size` leaves, in witness order.
    Result<std::vector<std::string>> cosignatures(std::uint64_t size);
    // The largest size `witness` cosigned, 0 if none.
    Result<std::uint64_t> cosigned_size(const std::string& witness);
    // The first checkpoint that covers entry `index` and carries at least `min_cosignatures`
    // cosignatures, with them appended: its size and the note. not_found if none does yet.
    struct CheckpointNote {
        std::uint64_t size = 0;
        std::string note;
    };
    Result<CheckpointNote> checkpoint_covering(std::uint64_t index, std::size_t min_cosignatures);
    // The newest checkpoint with at least `min_cosignatures` cosignatures, with them appended.
    Result<CheckpointNote> newest_witnessed(std::size_t min_cosignatures);
    // The indexes, newest first, of the last `window` entries whose text contains `needle`.
    Result<std::vector<std::uint64_t>> find_recent(const std::string& needle, std::uint64_t window);

    // The log key's hand-overs, oldest first. A hand-over is two entries: the announcement naming
    // the old and the new key, then an entry holding the checkpoint of the tree that ends with the
    // announcement, signed by both keys. Checkpoints of larger trees are signed by the new key.
    struct KeyHandover {
        std::uint64_t size = 0;  // the hand-over checkpoint's tree size: the second entry's index
        std::string old_key;     // verifier keys
        std::string new_key;
        std::string note;  // the hand-over checkpoint
    };
    Result<std::vector<KeyHandover>> key_handovers();
    // Writes a hand-over in one transaction: `announcement`, then the entry `sign` makes from the
    // tree that ends with it (given its size and root, it returns the signed note and the entry
    // holding it); the note is also kept as that size's checkpoint.
    using HandoverSigner =
        std::function<std::pair<std::string, std::string>(std::uint64_t size, const crypto::tlog::Hash& root)>;
    Result<KeyHandover> hand_over_key(const std::string& old_key, const std::string& new_key,
                                      const std::string& announcement, const HandoverSigner& sign);

  private:
    void run_committer();
    Database& db_;
    struct Queue;
    std::unique_ptr<Queue> queue_;
};

// Webhooks: the endpoints principals registered, the deliveries queued for them with every
// attempt's outcome, and how far the access log has been read for events.
class Hooks {
  public:
    explicit Hooks(Database& db) : db_(db) {}

    // conflict when the owner already has `max_per_owner` live hooks (checked in the insert's
    // transaction, so that two requests at once cannot pass it together).
    struct Limits {
        std::size_t live_per_owner = 10;
        // Email hooks an owner may register in 24 hours, removed ones included: each mails a
        // code to an address the owner chose.
        std::size_t addresses_per_day = 10;
    };
    // `first`, when given, is queued with it (an email hook's confirmation). conflict, too, when
    // the owner has registered `addresses_per_day` email hooks in the last day, or has one for
    // the same address still waiting for its confirmation.
    Result<std::optional<std::uint64_t>> add_hook(const HookRecord& hook, const Limits& limits,
                                                  const std::string& audit_entry = {},
                                                  const DeliveryRecord* first = nullptr);
    // Counts one more try at an email hook's confirmation code, before the code is compared, so
    // that requests at once cannot try more than `max_tries` together. false: no try is left (or
    // the hook is removed or already confirmed).
    Result<bool> take_confirm_try(const std::string& id, std::int64_t max_tries);
    // Stamps an email hook's address confirmed, and from `from_index` on it hears of events;
    // the confirmation's mail is emptied (and cancelled if still pending). conflict if it
    // already was confirmed.
    Result<std::optional<std::uint64_t>> confirm_hook(const std::string& id, std::int64_t at, std::uint64_t from_index,
                                                      const std::string& audit_entry = {});
    Result<HookRecord> hook(const std::string& id);
    // Live hooks, oldest first: one owner's, or everyone's when `owner` is empty.
    Result<std::vector<HookRecord>> hooks(const std::string& owner = {});
    // Stamps the hook removed and cancels its pending deliveries; conflict if already removed.
    Result<std::optional<std::uint64_t>> remove_hook(const std::string& id, std::int64_t at,
                                                     const std::string& audit_entry = {});

    // The first access-log index not yet read for events (nullopt: never recorded).
    Result<std::optional<std::uint64_t>> cursor();
    // Queues `deliveries` and, when given, records the cursor in the same transaction. A delivery
    // whose id is already queued keeps its row, so that an event found twice is sent once.
    Status queue(const std::vector<DeliveryRecord>& deliveries, std::optional<std::uint64_t> next_index);
    // The oldest pending delivery due at `now` of each live hook, oldest first, at most `limit`:
    // of email hooks, or of HTTPS ones, so that neither kind's backlog hides the other's.
    Result<std::vector<DeliveryRecord>> due(std::int64_t now, std::size_t limit, bool email);
    // The earliest time a pending delivery is due, if any is.
    Result<std::optional<std::int64_t>> next_due();
    // Records an attempt's outcome (state, attempts, next_at, last_status, last_error,
    // delivered_at of `after`); a delivery that ended commits its access-log entry with it.
    Result<std::optional<std::uint64_t>> record_attempt(const DeliveryRecord& after, const std::string& audit_entry);
    // A hook's deliveries, newest first.
    Result<std::vector<DeliveryRecord>> deliveries(const std::string& hook, std::size_t limit);
    // Forgets ended deliveries created before `before` (the access log keeps their entries).
    Status prune(std::int64_t before);

  private:
    Database& db_;
};

// The whole of what the gateway keeps: one database under five stores with one job each.
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

    Registry& registry() noexcept { return *registry_; }
    Grants& grants() noexcept { return *grants_; }
    Packages& packages() noexcept { return *packages_; }
    AccessLog& log() noexcept { return *log_; }
    Hooks& hooks() noexcept { return *hooks_; }

    // What `PRAGMA integrity_check` reports (empty: none).
    Result<std::vector<std::string>> integrity_problems();

    // A consistent copy of the database at `destination` (a new file, mode 0600), taken beside a
    // running gateway without stopping it: every committed change up to one moment, none after.
    // `master_key` is the one this store was opened with.
    Status copy_database(const std::filesystem::path& destination, const crypto::SecretKey& master_key);

  private:
    Store() = default;
    std::unique_ptr<Database> db_;  // outlives the stores, declared first
    std::unique_ptr<Registry> registry_;
    std::unique_ptr<Grants> grants_;
    std::unique_ptr<Packages> packages_;
    std::unique_ptr<AccessLog> log_;
    std::unique_ptr<Hooks> hooks_;
};

}  // namespace serambi::storage
