// Resumable uploads: a package sealed as it arrives over several requests, kept on disk between
// them and across a restart, and recorded as a package exactly like a single-request push once
// its last byte is in.
//
// Why a restart opens a new epoch under a new key: a chunk's nonce is its index, so sealing
// chunk N twice under one key with different bytes would reuse a nonce. A crash can leave part
// of chunk N on disk while the client, told a smaller offset, sends other bytes for it (a file
// edited meanwhile, say). Sealing the chunks that authenticate again under a fresh key rules
// that out whatever the client does; it costs one read of the upload so far, once per restart.
#include <boost/algorithm/string/join.hpp>
#include <boost/algorithm/string/split.hpp>
#include <cerrno>

#include "base/time.h"
#include "storage/blobs.h"
#include "storage/database.h"
#include "storage/files.h"

namespace serambi::storage {
namespace {

Error io_failure(const std::string& what) { return make_error(ErrorKind::io_error, what); }

constexpr const char* kUploadColumns =
    "SELECT id, package_id, dataset, producer, classification, filename, media_type, recipients, length, "
    "created_at, expires_at, state, audit_index FROM uploads ";

UploadRecord upload_from(const sql::Statement& s) {
    UploadRecord u;
    u.id = s.text(0);
    u.package_id = s.text(1);
    u.draft.dataset = s.text(2);
    u.draft.producer = s.text(3);
    u.draft.classification = s.text(4);
    u.draft.filename = s.text(5);
    u.draft.media_type = s.text(6);
    if (const auto recipients = s.text(7); !recipients.empty())
        boost::split(u.draft.recipients, recipients, [](char c) { return c == ','; });
    u.length = static_cast<std::uint64_t>(s.integer(8));
    u.created_at = s.integer(9);
    u.expires_at = s.integer(10);
    u.complete = s.text(11) == "complete";
    u.audit_index = static_cast<std::uint64_t>(s.integer(12));
    return u;
}

}  // namespace

class ResumableWriter final : public UploadWriter {
  public:
    ResumableWriter(Packages& packages, UploadRecord record, crypto::SecretKey key, std::unique_ptr<File> file,
                    std::filesystem::path part)
        : packages_(packages),
          record_(std::move(record)),
          key_(std::move(key)),
          file_(std::move(file)),
          part_(std::move(part)),
          final_(packages_.blob_path(record_.package_id)) {
        const auto context = blob_context(record_.package_id);
        sealer_ = std::make_unique<crypto::StreamSealer>(packages_.config_.aead, key_, crypto::as_bytes(context));
    }
    ~ResumableWriter() override {
        file_.reset();
        // A finished blob that was not recorded goes back to its part name: its last chunk,
        // sealed as the final one, does not authenticate as an inner one, so the upload resumes
        // just before it, under a new key.
        if (moved_ && !committed_ && !outcome_unknown_) packages_.env_->rename(final_, part_);
    }
    ResumableWriter(const ResumableWriter&) = delete;
    ResumableWriter& operator=(const ResumableWriter&) = delete;

    const UploadRecord& record() const noexcept override { return record_; }
    const std::string& id() const noexcept override { return record_.package_id; }
    const std::string& created_at() const noexcept override { return created_at_; }
    std::uint64_t size() const noexcept override { return offset_; }

    Status write(crypto::ByteView data) override {
        if (failed_ || moved_) return make_error(ErrorKind::internal, "upload no longer writable");
        if (data.size() > record_.length - offset_)
            return make_error(ErrorKind::invalid_argument, "the data goes beyond the upload's declared length");
        failed_ = true;  // until the bytes are all sealed and handed to the file
        digest_.update(data);
        // Ciphertext only: the buffer is grown, never cleared or wiped between writes.
        const auto room = sealer_->max_update_output(data.size());
        if (sealed_.size() < room) sealed_.resize(room);
        auto n = sealer_->update(data, std::span<std::uint8_t>(sealed_));
        if (!n) return n.error();
        if (*n > 0 && !write_all(*file_, sealed_.data(), *n)) return io_failure("cannot write the upload's part file");
        written_ += *n;
        if (written_ - flushed_ >= kWriteBackBytes) {
            file_->start_write_back(flushed_, written_ - flushed_);
            flushed_ = written_;
        }
        offset_ += data.size();
        failed_ = false;
        return {};
    }

    Status sync() override {
        if (failed_ || !file_) return make_error(ErrorKind::internal, "upload no longer writable");
        if (file_->sync() != 0) {
            failed_ = true;
            return io_failure("cannot fsync the upload's part file");
        }
        // Between requests an upload keeps only its unsealed tail: the part buffer goes.
        crypto::Bytes().swap(sealed_);
        return {};
    }

    Result<Sealed> finish() override {
        if (failed_ || moved_) return make_error(ErrorKind::internal, "upload no longer writable");
        if (offset_ != record_.length) return make_error(ErrorKind::internal, "the upload is not complete");
        failed_ = true;
        sealed_.clear();
        if (auto s = sealer_->finish(sealed_); !s) return s.error();
        if (!write_all(*file_, sealed_.data(), sealed_.size()) || file_->sync() != 0)
            return io_failure("cannot write the upload's last chunk");
        file_.reset();
        // A blob already under this package's name is an earlier attempt whose commit may have
        // reached the disk: never replaced. Start-up recovery decides on it.
        std::error_code exists_ec;
        if (std::filesystem::exists(final_, exists_ec) || exists_ec)
            return make_error(ErrorKind::conflict,
                              "an earlier attempt to finish this upload may have been stored; the operator's "
                              "restart of the gateway settles it (look for the package before sending again)");
        if (auto s = place_blob(*packages_.env_, part_, final_, moved_); !s) return s.error();
        created_at_ = format_time(packages_.env_->now());
        sha256_hex_ = crypto::to_hex(digest_.finish());
        failed_ = false;
        return Sealed{offset_, sha256_hex_};
    }

    const std::string& repeats() const noexcept override { return repeats_; }

    Result<PackageRecord> commit(std::string manifest, crypto::Bytes signature, std::string audit_entry) override {
        if (!moved_ || failed_ || committed_) return make_error(ErrorKind::internal, "upload not ready to commit");
        const auto context = blob_context(record_.package_id);
        const auto wrapped = crypto::wrap_key(packages_.keys_->wrapping_key, key_, crypto::as_bytes(context));
        Result<std::uint64_t> audit_index = make_error(ErrorKind::unavailable, "not reached");
        bool commit_failed = false;
        const Status written = packages_.db_.write(
            [&](Transaction& tx) -> Status {
                const PackageRow row{record_.package_id,     record_.draft,           offset_, sha256_hex_, created_at_,
                                     packages_.config_.aead, packages_.keys_->key_id, wrapped, manifest,    signature};
                if (auto s = insert_package(tx, row, repeats_); !s) return s;
                audit_index = tx.append_log({audit_entry});
                if (!audit_index) return audit_index.error();
                // The upload stays as the receipt's pointer until it expires; its key goes.
                auto s = tx.connection().cached(
                    "UPDATE uploads SET state = 'complete', audit_index = ?2, wrapped_key = x'', "
                    "expires_at = max(expires_at, ?3) WHERE id = ?1 AND state = 'open'");
                // The receipt stays at least a day, for a client whose last answer was lost.
                const int rc = s->bind(1, record_.id)
                                   .bind(2, static_cast<std::int64_t>(*audit_index))
                                   .bind(3, packages_.env_->now() + 86400)
                                   .step();
                if (rc != SQLITE_DONE) return sql::db_error("the upload could not be marked complete");
                if (tx.connection().changes() != 1)
                    return make_error(ErrorKind::conflict, "the upload was removed or finished meanwhile");
                return {};
            },
            &commit_failed);
        if (!written) {
            if (commit_failed) outcome_unknown_ = true;  // the row may yet be on disk: keep the blob
            if (written.error().kind == ErrorKind::conflict) return written.error();
            return make_error(ErrorKind::unavailable, "the package could not be recorded");
        }
        committed_ = true;
        record_.complete = true;
        record_.audit_index = *audit_index;
        // Earlier epochs' part files are gone already; nothing is left of the upload but its row.
        PackageRecord record;
        record.id = record_.package_id;
        record.dataset = record_.draft.dataset;
        record.producer = record_.draft.producer;
        record.classification = record_.draft.classification;
        record.filename = record_.draft.filename;
        record.media_type = record_.draft.media_type;
        record.size = offset_;
        record.sha256_hex = sha256_hex_;
        record.created_at = created_at_;
        record.manifest = std::move(manifest);
        record.signature = std::move(signature);
        record.audit_index = *audit_index;
        record.recipients = record_.draft.recipients;
        return record;
    }

  private:
    Packages& packages_;
    UploadRecord record_;
    crypto::SecretKey key_;
    std::unique_ptr<File> file_;
    std::filesystem::path part_;
    std::filesystem::path final_;
    std::unique_ptr<crypto::StreamSealer> sealer_;
    crypto::Sha256 digest_;
    crypto::Bytes sealed_;  // one write's sealed chunks, on their way to the file
    static constexpr std::uint64_t kWriteBackBytes = 8 << 20;
    std::uint64_t written_ = 0;  // sealed bytes in the part file
    std::uint64_t flushed_ = 0;  // of which handed to write-back
    std::uint64_t offset_ = 0;
    std::string created_at_;
    std::string sha256_hex_;
    std::string repeats_;
    bool failed_ = false;  // a write failed: the file and the digest may disagree; resume instead
    bool moved_ = false;   // the blob is under its final name
    bool committed_ = false;
    bool outcome_unknown_ = false;
};

Result<std::unique_ptr<UploadWriter>> Packages::open_epoch(UploadRecord record, std::int64_t epoch,
                                                           const std::filesystem::path* from,
                                                           const crypto::SecretKey* old_key, crypto::Aead old_aead) {
    auto& env = *env_;
    bool created = false;
    if (env.create_directories(upload_dir(), created) != 0) return io_failure("cannot create the upload directory");
    if (created)
        if (auto s = fsync_directory(env, config_.blob_dir); !s) return s.error();
    const auto path = part_path(record.id, epoch);
    std::unique_ptr<File> file;
    env.remove(path);  // left by an attempt at this epoch that failed before its row changed
    if (env.open(path, Env::Open::new_file, false, 0600, file) != 0)
        return io_failure("cannot create the upload's part file");
    auto key = crypto::SecretKey::random();
    const auto wrapped =
        crypto::wrap_key(keys_->wrapping_key, key, crypto::as_bytes(upload_key_context(record.id, epoch)));
    auto writer = std::make_unique<ResumableWriter>(*this, record, std::move(key), std::move(file), path);
    auto fail = [&](Error error) -> Error {
        writer.reset();
        env.remove(path);
        return error;
    };

    if (from != nullptr) {
        std::unique_ptr<File> old;
        if (env.open(*from, Env::Open::read, false, 0, old) == 0) {
            const auto context = blob_context(record.package_id);
            crypto::StreamOpener opener(old_aead, *old_key, crypto::as_bytes(context));
            crypto::Bytes sealed(crypto::kSealedChunkBytes), plain(crypto::kStreamChunkBytes);
            // The chunks before the first that is missing, torn or does not authenticate; never
            // the one that would complete the upload, which must arrive again to be sealed as
            // the final chunk.
            for (std::uint64_t index = 0; (index + 1) * crypto::kStreamChunkBytes < record.length; ++index) {
                std::size_t got = 0;
                while (got < sealed.size()) {
                    const auto n =
                        old->pread(sealed.data() + got, sealed.size() - got, index * crypto::kSealedChunkBytes + got);
                    if (n <= 0) break;
                    got += static_cast<std::size_t>(n);
                }
                if (got < sealed.size()) break;
                auto n = opener.open_chunk(index, false, sealed, plain);
                if (!n || *n != crypto::kStreamChunkBytes) break;
                if (auto s = writer->write(plain); !s) {
                    crypto::wipe(plain);
                    return fail(s.error());
                }
            }
            crypto::wipe(plain);
        }
    }
    if (auto s = writer->sync(); !s) return fail(s.error());
    if (auto s = fsync_directory(env, upload_dir()); !s) return fail(s.error());

    const Status recorded = db_.write([&](Transaction& tx) -> Status {
        if (from == nullptr && epoch == 0) {
            auto s = tx.connection().cached(
                "INSERT INTO uploads(id, package_id, dataset, producer, classification, filename, media_type, "
                "recipients, length, created_at, expires_at, aead, key_id, wrapped_key, epoch) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0)");
            const int rc = s->bind(1, record.id)
                               .bind(2, record.package_id)
                               .bind(3, record.draft.dataset)
                               .bind(4, record.draft.producer)
                               .bind(5, record.draft.classification)
                               .bind(6, record.draft.filename)
                               .bind(7, record.draft.media_type)
                               .bind(8, boost::algorithm::join(record.draft.recipients, ","))
                               .bind(9, static_cast<std::int64_t>(record.length))
                               .bind(10, record.created_at)
                               .bind(11, record.expires_at)
                               .bind(12, static_cast<std::int64_t>(config_.aead))
                               .bind(13, keys_->key_id)
                               .bind(14, crypto::ByteView(wrapped))
                               .step();
            return sql::write_result(rc, "an upload with this id");
        }
        auto s = tx.connection().cached(
            "UPDATE uploads SET aead = ?2, key_id = ?3, wrapped_key = ?4, epoch = ?5 WHERE id = ?1 AND state = 'open'");
        const int rc = s->bind(1, record.id)
                           .bind(2, static_cast<std::int64_t>(config_.aead))
                           .bind(3, keys_->key_id)
                           .bind(4, crypto::ByteView(wrapped))
                           .bind(5, epoch)
                           .step();
        if (rc != SQLITE_DONE) return sql::db_error("the upload could not be updated");
        if (tx.connection().changes() != 1) return make_error(ErrorKind::not_found, "no such upload");
        return {};
    });
    if (!recorded) return fail(recorded.error());
    if (from != nullptr) {
        env.remove(*from);                         // a file left behind is swept at the next start
        (void)fsync_directory(env, upload_dir());  // the name may come back after a crash: swept at start
    }
    return std::unique_ptr<UploadWriter>(std::move(writer));
}

Result<std::unique_ptr<UploadWriter>> Packages::begin_upload(PackageDraft draft, std::uint64_t length,
                                                             std::int64_t expires_at) {
    if (length == 0) return make_error(ErrorKind::invalid_argument, "the package is empty");
    UploadRecord record;
    record.id = crypto::random_hex(16);
    record.package_id = crypto::random_hex(16);
    record.draft = std::move(draft);
    record.draft.idempotency_key.clear();
    record.length = length;
    record.created_at = env_->now();
    record.expires_at = expires_at;
    return open_epoch(std::move(record), 0, nullptr, nullptr, config_.aead);
}

Result<std::unique_ptr<UploadWriter>> Packages::resume_upload(const std::string& id) {
    if (!is_package_id(id)) return make_error(ErrorKind::not_found, "no such upload");
    UploadRecord record;
    std::int64_t epoch = 0;
    crypto::Aead aead = crypto::Aead::aes_256_gcm;
    crypto::Bytes wrapped;
    const Status found = db_.read([&](Connection& c) -> Status {
        auto s = c.cached(std::string(kUploadColumns) + "WHERE id = ?1");
        const int rc = s->bind(1, id).step();
        if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such upload");
        if (rc != SQLITE_ROW) return sql::db_error("the database could not be read");
        record = upload_from(*s);
        auto k = c.cached("SELECT epoch, aead, key_id, wrapped_key FROM uploads WHERE id = ?1");
        if (k->bind(1, id).step() != SQLITE_ROW) return sql::db_error("the database could not be read");
        epoch = k->integer(0);
        const auto aead_id = k->integer(1);
        if (aead_id != 1 && aead_id != 2) return make_error(ErrorKind::corruption, "unknown AEAD");
        aead = static_cast<crypto::Aead>(aead_id);
        if (k->text(2) != keys_->key_id)
            return make_error(ErrorKind::unavailable, "the upload is wrapped by another master key");
        wrapped = k->blob(3);
        return {};
    });
    if (!found) return found.error();
    if (record.complete) return make_error(ErrorKind::conflict, "the upload is complete");
    auto key = crypto::unwrap_key(keys_->wrapping_key, wrapped, crypto::as_bytes(upload_key_context(id, epoch)));
    if (!key) return make_error(ErrorKind::corruption, "the upload's key failed authentication");
    const auto from = part_path(id, epoch);
    return open_epoch(std::move(record), epoch + 1, &from, &*key, aead);
}

Result<UploadRecord> Packages::upload(const std::string& id) {
    if (!is_package_id(id)) return make_error(ErrorKind::not_found, "no such upload");
    return db_.read([&](Connection& c) {
        return one_row<UploadRecord>(c, std::string(kUploadColumns) + "WHERE id = ?1", id, upload_from,
                                     "no such upload");
    });
}

Result<std::vector<UploadRecord>> Packages::open_uploads(const std::string& producer) {
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kUploadColumns) +
                          "WHERE state = 'open' AND (?1 = '' OR producer = ?1) ORDER BY created_at, id");
        s->bind(1, producer);
        return all_rows<UploadRecord>(*s, upload_from);
    });
}

Result<std::vector<UploadRecord>> Packages::expired_uploads(std::int64_t now) {
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kUploadColumns) + "WHERE expires_at <= ?1 ORDER BY expires_at, id");
        s->bind(1, now);
        return all_rows<UploadRecord>(*s, upload_from);
    });
}

Result<std::optional<std::uint64_t>> Packages::remove_upload(const std::string& id, const std::string& audit_entry) {
    auto removed = db_.write_with_entry(
        [&](Connection& c) -> Status {
            auto s = c.cached("DELETE FROM uploads WHERE id = ?1");
            if (s->bind(1, id).step() != SQLITE_DONE) return sql::db_error("the upload could not be removed");
            if (c.changes() != 1) return make_error(ErrorKind::not_found, "no such upload");
            return {};
        },
        audit_entry);
    if (!removed) return removed;
    // Only this upload's files: a sweep of the folder here could take another upload's file
    // that is being made right now (its row not yet written). Stray files go at start-up.
    std::error_code ec;
    bool gone = false;
    for (const auto& entry : std::filesystem::directory_iterator(upload_dir(), ec)) {
        if (!entry.path().filename().string().starts_with(id + ".")) continue;
        if (const int r = env_->remove(entry.path()); r != 0 && r != ENOENT)
            return io_failure("cannot remove the upload file " + entry.path().string());
        gone = true;
    }
    if (gone)
        if (auto s = fsync_directory(*env_, upload_dir()); !s) return s.error();
    return removed;
}

Status Packages::sweep_part_files() {
    std::error_code ec;
    if (!std::filesystem::exists(upload_dir(), ec)) return {};
    // Names "ID.EPOCH.part" that an open upload's current epoch owns; anything else in the folder
    // is an earlier epoch's file, a removed upload's, or not ours, and holds no package.
    std::set<std::string> owned;
    const int rc = db_.read([&](Connection& c) {
        auto s = c.cached("SELECT id, epoch FROM uploads WHERE state = 'open'");
        int step;
        while ((step = s->step()) == SQLITE_ROW)
            owned.insert(s->text(0) + "." + std::to_string(s->integer(1)) + ".part");
        return step;
    });
    if (rc != SQLITE_DONE) return sql::db_error("the uploads could not be read");
    bool removed = false;
    for (const auto& entry : std::filesystem::directory_iterator(upload_dir(), ec)) {
        if (owned.count(entry.path().filename().string()) != 0) continue;
        if (const int r = env_->remove(entry.path()); r != 0 && r != ENOENT)
            return io_failure("cannot remove the upload file " + entry.path().string());
        removed = true;
    }
    if (ec) return io_failure("cannot list the upload directory: " + ec.message());
    if (removed) return fsync_directory(*env_, upload_dir());
    return {};
}

Result<std::optional<Packages::PushKey>> Packages::pushed_with_key(const std::string& producer,
                                                                   const std::string& key) {
    return db_.read([&](Connection& c) -> Result<std::optional<PushKey>> {
        auto s = c.cached("SELECT package_id, audit_index FROM push_keys WHERE principal = ?1 AND key = ?2");
        const int rc = s->bind(1, producer).bind(2, key).step();
        if (rc == SQLITE_ROW)
            return std::optional<PushKey>(PushKey{s->text(0), static_cast<std::uint64_t>(s->integer(1))});
        if (rc == SQLITE_DONE) return std::optional<PushKey>();
        return sql::db_error("the database could not be read");
    });
}

}  // namespace serambi::storage
