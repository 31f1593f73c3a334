// Internal to storage/: the package writer and reader over sealed blob files, with direct I/O
// into page-aligned buffers and a background thread for the disk; small payloads are sealed the
// same way and kept in the database instead.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace serambi::storage {

class BackgroundIo;
class Transaction;

// Associated data binding a blob and its wrapped key to one package.
inline std::string blob_context(const std::string& package_id) { return "serambi/blob/v1/" + package_id; }

// Binds an upload's wrapped key to the upload and its epoch: a key moved to another row, or
// left from an earlier epoch, does not unwrap.
inline std::string upload_key_context(const std::string& upload_id, std::int64_t epoch) {
    return "serambi/upload-key/v1/" + upload_id + "/" + std::to_string(epoch);
}

// What the master key gives the package store: the key that wraps data keys, and the name of the
// master key's generation that every wrapped key is recorded with.
inline crypto::SecretKey wrapping_key_of(const crypto::SecretKey& master_key) {
    return crypto::derive_key(master_key, "serambi/wrap/v1");
}
inline std::string key_id_of(const crypto::SecretKey& master_key) {
    return crypto::to_hex(crypto::derive_key(master_key, "serambi/key-id/v1").bytes()).substr(0, 16);
}

// The keys blobs are sealed under, derived from the master key.
struct Packages::Keys {
    Keys(crypto::SecretKey wrap, crypto::SecretKey delivery, std::string id)
        : wrapping_key(std::move(wrap)), delivery_key(std::move(delivery)), key_id(std::move(id)) {}
    crypto::SecretKey wrapping_key;  // wraps per-package data keys
    crypto::SecretKey delivery_key;  // derives the seed of each reader's age delivery
    std::string key_id;              // names the master key generation the wrapping key came from
};

// A package's row as both writers record it.
struct PackageRow {
    const std::string& id;
    const PackageDraft& draft;
    std::uint64_t size;
    const std::string& sha256_hex;
    const std::string& created_at;
    crypto::Aead aead;
    const std::string& key_id;
    const crypto::Bytes& wrapped_key;
    const std::string& manifest;
    const crypto::Bytes& signature;
};
// Inserts the package's row. `repeats` becomes the id of the dataset's newest package before it
// when that one has the same content, and empty otherwise: read by the writer inside the
// transaction, whose cache is warm, and seeing pushes committed in the same group.
Status insert_package(Transaction& tx, const PackageRow& row, std::string& repeats);
// Records that the producer's push with draft.idempotency_key became `package_id`; conflict if
// that key was used already.
Status insert_push_key(Transaction& tx, const PackageDraft& draft, const std::string& package_id,
                       std::uint64_t audit_index);
// Stores a small package's sealed payload in the database, in the package's transaction.
Status insert_payload(Transaction& tx, const std::string& package_id, const crypto::Bytes& sealed);
// Writes all of `data`, as many write(2) calls as it takes; false on an error or no progress.
bool write_all(File& file, const std::uint8_t* data, std::size_t len);
// Renames a fsynced blob from its temporary name into its shard, making both names durable;
// `moved` is set once the rename is done (the blob is then under its final name).
Status place_blob(Env& env, const std::filesystem::path& temp, const std::filesystem::path& final, bool& moved);

// Owns memory from std::aligned_alloc (direct I/O needs page-aligned buffers).
struct FreeAligned {
    void operator()(std::uint8_t* p) const noexcept;
};
using AlignedBuffer = std::unique_ptr<std::uint8_t, FreeAligned>;

// The writer of one package's blob: sealed chunk by chunk, written by a background thread.
class BlobWriter final : public PackageWriter {
  public:
    BlobWriter(Packages& packages, PackageDraft draft, std::string id);
    ~BlobWriter() override;
    BlobWriter(const BlobWriter&) = delete;
    BlobWriter& operator=(const BlobWriter&) = delete;

    const std::string& id() const noexcept override { return id_; }
    const std::string& created_at() const noexcept override { return created_at_; }
    std::uint64_t size() const noexcept override { return size_; }

    Status write(crypto::ByteView data) override;

    // Seals the final chunk, fsyncs and renames the blob into place. The package is not yet
    // visible: commit() makes it so.
    Result<Sealed> finish() override;

    // Records the package, its manifest and signature, and its access-log entry in one
    // transaction: the package exists exactly when its entry does.
    Result<PackageRecord> commit(std::string manifest, crypto::Bytes signature, std::string audit_entry) override;
    const std::string& repeats() const noexcept override { return repeats_; }

  private:
    friend class Packages;  // names the blob
    Status spill();
    Status open_file();
    Status seal(crypto::ByteView data);
    Status flush(bool final);

    Packages& packages_;
    PackageDraft draft_;
    std::string id_;
    std::string created_at_;
    std::string repeats_;
    std::filesystem::path temp_path_;
    std::filesystem::path final_path_;
    std::unique_ptr<File> file_;
    crypto::SecretKey data_key_;
    std::unique_ptr<crypto::StreamSealer> sealer_;
    crypto::Sha256 digest_;
    // Sealed bytes not yet written; page-aligned so the blob can be written with O_DIRECT, which
    // skips the page-cache copy that otherwise costs more CPU than sealing and hashing together.
    AlignedBuffer buffer_;
    AlignedBuffer spare_;  // the previous flush, being written by io_
    std::unique_ptr<BackgroundIo> io_;
    std::size_t buffered_ = 0;
    std::uint64_t blob_bytes_ = 0;  // sealed bytes handed to the file so far
    bool direct_io_ = false;
    std::uint64_t size_ = 0;
    std::string sha256_hex_;
    bool finished_ = false;
    bool failed_ = false;  // a write or finish failed: nothing more may be done with this package
    bool committed_ = false;
    bool outcome_unknown_ = false;  // a COMMIT failed: the row may yet be on disk
    // Until the payload outgrows kInlineBytes it is held here, and sealed at finish() into
    // inline_sealed_, which commit() stores in the database; no file is ever made for it.
    bool on_disk_ = false;
    crypto::Bytes held_;
    crypto::Bytes inline_sealed_;
};

// The reader of one package's blob: batches of sealed chunks read ahead while one is opened.
class BlobReader final : public PackageReader {
  public:
    BlobReader(std::unique_ptr<File> file, std::uint64_t size, std::unique_ptr<crypto::StreamOpener> opener);
    ~BlobReader() override;
    BlobReader(const BlobReader&) = delete;
    BlobReader& operator=(const BlobReader&) = delete;

    std::uint64_t size() const noexcept override { return size_; }
    Status seek(std::uint64_t offset) override;
    // Returns 0 at the end; ErrorKind::corruption if the blob was tampered with.
    Result<std::size_t> read(std::span<std::uint8_t> out) override;

  private:
    friend class Packages;  // sets up the file and the direct-I/O choice
    // A run of sealed chunks read with one (direct) pread.
    struct Batch {
        std::uint64_t first = 0;
        std::uint64_t chunks = 0;
        std::size_t skew = 0;  // where chunk `first` starts in the buffer
    };
    bool read_batch(std::uint8_t* buffer, std::uint64_t index, Batch& batch) const;
    Status ensure_batch(std::uint64_t index);
    std::size_t plain_length(std::uint64_t index) const noexcept;
    Result<std::size_t> open_chunk(std::uint64_t index, std::span<std::uint8_t> out);
    Status load_chunk(std::uint64_t index);

    std::unique_ptr<File> file_;
    std::uint64_t size_;
    std::uint64_t chunk_count_;
    std::unique_ptr<crypto::StreamOpener> opener_;
    std::uint64_t batch_chunks_;  // chunks read at once
    std::size_t buffer_bytes_;
    AlignedBuffer sealed_;  // the batch being opened
    Batch batch_;
    AlignedBuffer ahead_;  // the next batch, being read by io_ while this one is opened
    Batch ahead_batch_;
    bool prefetching_ = false;
    std::unique_ptr<BackgroundIo> io_;
    bool direct_io_ = false;
    crypto::Bytes plain_;
    std::uint64_t loaded_chunk_ = UINT64_MAX;
    std::size_t plain_len_ = 0;
    std::uint64_t position_ = 0;
};

}  // namespace serambi::storage
