// Sealed payload blobs: written to a temporary name, fsynced, renamed into place, and only then
// recorded; read back chunk by chunk with every chunk authenticated before use.
#include "storage/blobs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/algorithm/string/join.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>

#include "base/time.h"
#include "storage/background_io.h"
#include "storage/database.h"
#include "storage/files.h"

namespace serambi::storage {
namespace {

constexpr std::size_t kFlushBytes = 1024 * 1024;
constexpr std::uint64_t kReadBatchChunks = 64;  // 4 MiB of sealed chunks per read
// Payloads up to this size are read 4 chunks (256 KiB) at a time, on the caller's thread, without
// read-ahead: a hundred concurrent 1 MiB downloads then hold a quarter of a megabyte each here
// instead of a megabyte and a thread. Larger ones keep the large batches and the read-ahead thread
// that let one download keep up with the disk.
constexpr std::uint64_t kMediumPayloadBytes = 4 << 20;
constexpr std::uint64_t kMediumBatchChunks = 4;
constexpr std::uint64_t kReadAheadBytes = 8 << 20;  // asked of the kernel ahead of the reader
constexpr std::size_t kAlign = 4096;                // O_DIRECT alignment of buffer, length and offset
constexpr std::size_t kBufferBytes = 2 * kFlushBytes;
// Payloads up to one STREAM chunk are kept in the database (package_payloads), not in a file:
// a file of its own costs an inode, its fsync and its directory's, more than everything else a
// small push does; in the row, it is committed with the row by the transaction's one fsync.
constexpr std::size_t kInlineBytes = crypto::kStreamChunkBytes;
// A write fills the buffer up to the flush mark with sealed input; the sealer may add the
// partial chunk it held back and the tags; the last block is padded.
static_assert(kBufferBytes >= kFlushBytes + crypto::kSealedChunkBytes +
                                  (kFlushBytes / crypto::kStreamChunkBytes + 1) * crypto::kStreamTagBytes + kAlign);

// Reads until at least `need` bytes are in, asking for up to `ask` (a whole number of blocks).
bool read_at_least(File& file, std::uint8_t* data, std::size_t need, std::size_t ask, std::uint64_t offset) {
    std::size_t got = 0;
    while (got < need) {
        const std::int64_t n = file.pread(data + got, ask - got, offset + got);
        if (n <= 0) return false;
        got += static_cast<std::size_t>(n);
    }
    return true;
}

Error io_failure(const char* what) { return make_error(ErrorKind::io_error, what); }

}  // namespace

bool write_all(File& file, const std::uint8_t* data, std::size_t len) {
    while (len > 0) {
        const std::int64_t n = file.write(data, len);
        if (n <= 0) return false;
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

void FreeAligned::operator()(std::uint8_t* p) const noexcept { std::free(p); }

namespace {
AlignedBuffer aligned_buffer(std::size_t bytes) {
    AlignedBuffer buffer(static_cast<std::uint8_t*>(std::aligned_alloc(kAlign, bytes)));
    if (!buffer) throw std::bad_alloc();
    return buffer;
}
}  // namespace

Status fsync_directory(Env& env, const std::filesystem::path& dir) {
    if (env.sync_directory(dir) != 0) return io_failure("cannot fsync the blob directory");
    return {};
}

Status place_blob(Env& env, const std::filesystem::path& temp, const std::filesystem::path& final, bool& moved) {
    bool created = false;
    if (env.create_directories(final.parent_path(), created) != 0)
        return io_failure("cannot create the blob shard directory");
    // A new shard's own name must be durable too, or a crash can take it, and the blob renamed
    // into it, away from under a committed row.
    if (created)
        if (auto s = fsync_directory(env, final.parent_path().parent_path()); !s) return s.error();
    if (env.rename(temp, final) != 0) return io_failure("cannot move the package blob into place");
    moved = true;
    return fsync_directory(env, final.parent_path());
}

Status insert_package(Transaction& tx, const PackageRow& row, std::string& repeats) {
    repeats.clear();
    {  // reset before the insert below
        auto newest = tx.connection().cached(
            "SELECT id, sha256 FROM packages WHERE dataset = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1");
        if (const int rc = newest->bind(1, row.draft.dataset).step(); rc == SQLITE_ROW) {
            if (newest->text(1) == row.sha256_hex) repeats = newest->text(0);
        } else if (rc != SQLITE_DONE) {
            return make_error(ErrorKind::unavailable, "the package could not be recorded");
        }
    }
    auto s = tx.connection().cached(
        "INSERT INTO packages(id, dataset, producer, classification, filename, media_type, size, sha256, "
        "created_at, aead, key_id, wrapped_key, manifest, signature, recipients) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    const int rc = s->bind(1, row.id)
                       .bind(2, row.draft.dataset)
                       .bind(3, row.draft.producer)
                       .bind(4, row.draft.classification)
                       .bind(5, row.draft.filename)
                       .bind(6, row.draft.media_type)
                       .bind(7, static_cast<std::int64_t>(row.size))
                       .bind(8, row.sha256_hex)
                       .bind(9, row.created_at)
                       .bind(10, static_cast<std::int64_t>(row.aead))
                       .bind(11, row.key_id)
                       .bind(12, crypto::ByteView(row.wrapped_key))
                       .bind(13, row.manifest)
                       .bind(14, crypto::ByteView(row.signature))
                       .bind(15, boost::algorithm::join(row.draft.recipients, ","))
                       .step();
    if (rc != SQLITE_DONE) return make_error(ErrorKind::unavailable, "the package could not be recorded");
    return {};
}

Status insert_push_key(Transaction& tx, const PackageDraft& draft, const std::string& package_id,
                       std::uint64_t audit_index) {
    auto s = tx.connection().cached(
        "INSERT INTO push_keys(principal, key, package_id, audit_index, created_at) "
        "VALUES(?1, ?2, ?3, ?4, strftime('%s','now'))");
    const int rc = s->bind(1, draft.producer)
                       .bind(2, draft.idempotency_key)
                       .bind(3, package_id)
                       .bind(4, static_cast<std::int64_t>(audit_index))
                       .step();
    return sql::write_result(rc, "a push with this Idempotency-Key");
}

Status insert_payload(Transaction& tx, const std::string& package_id, const crypto::Bytes& sealed) {
    auto s = tx.connection().cached("INSERT INTO package_payloads(id, sealed) VALUES(?1, ?2)");
    if (s->bind(1, package_id).bind(2, crypto::ByteView(sealed)).step() != SQLITE_DONE)
        return make_error(ErrorKind::unavailable, "the package could not be recorded");
    return {};
}

BlobWriter::BlobWriter(Packages& packages, PackageDraft draft, std::string id)
    : packages_(packages),
      draft_(std::move(draft)),
      id_(std::move(id)),
      created_at_(format_time(packages.env_->now())),
      data_key_(crypto::SecretKey::random()) {
    const auto context = blob_context(id_);
    sealer_ = std::make_unique<crypto::StreamSealer>(packages_.config_.aead, data_key_, crypto::as_bytes(context));
}

BlobWriter::~BlobWriter() {
    io_.reset();  // a write in flight finishes before its buffer and descriptor go
    file_.reset();
    crypto::wipe(held_);
    if (!committed_) {
        // A removal that fails leaves a temporary file or an unrecorded blob, which the next
        // start-up removes or quarantines; neither is ever a package.
        auto& env = *packages_.env_;
        if (!temp_path_.empty()) env.remove(temp_path_);
        if (finished_ && on_disk_ && !outcome_unknown_) env.remove(final_path_);
    }
}

// Writes what is buffered. With direct I/O only whole aligned blocks go out, except at the end,
// where the last block is padded and the file then cut to its exact length. Intermediate
// flushes are written in the background while the caller seals the next megabyte; a failed
// write is reported by the flush after it.
Status BlobWriter::flush(bool final) {
    std::size_t len = buffered_;
    if (direct_io_) {
        len = final ? (buffered_ + kAlign - 1) / kAlign * kAlign : buffered_ / kAlign * kAlign;
        if (len > buffered_) std::memset(buffer_.get() + buffered_, 0, len - buffered_);
    }
    if (!io_->wait()) return io_failure("cannot write the package blob");
    if (final) {
        if (len > 0 && !write_all(*file_, buffer_.get(), len)) return io_failure("cannot write the package blob");
        blob_bytes_ += buffered_;
        buffered_ = 0;
        if (direct_io_ && file_->truncate(blob_bytes_) != 0) return io_failure("cannot size the package blob");
        return {};
    }
    if (len == 0) return {};
    // The unaligned tail moves to the spare buffer, which becomes the one being filled.
    const std::size_t tail = buffered_ - len;
    std::memcpy(spare_.get(), buffer_.get() + len, tail);
    io_->start([file = file_.get(), data = buffer_.get(), len] { return write_all(*file, data, len); });
    std::swap(buffer_, spare_);
    buffered_ = tail;
    blob_bytes_ += len;
    return {};
}

Status BlobWriter::write(crypto::ByteView data) {
    if (finished_) return make_error(ErrorKind::internal, "package already finished");
    if (failed_) return make_error(ErrorKind::internal, "package already failed");
    // Any failure below leaves the digest, the size and the file out of step: the writer is
    // spent, so that no later call can finish a package with bytes missing.
    failed_ = true;
    digest_.update(data);
    size_ += data.size();
    if (!on_disk_) {
        if (held_.size() + data.size() <= kInlineBytes) {
            // Reserved whole once, so that no reallocation leaves a copy of the payload behind.
            if (held_.capacity() < kInlineBytes) held_.reserve(kInlineBytes);
            held_.insert(held_.end(), data.begin(), data.end());
            failed_ = false;
            return {};
        }
        if (auto s = spill(); !s) return s;
    }
    if (auto s = seal(data); !s) return s;
    failed_ = false;
    return {};
}

// The payload outgrew the database: from here on it is a blob file, sealed and written as it
// comes, beginning with what was held.
Status BlobWriter::spill() {
    if (auto s = open_file(); !s) return s;
    buffer_ = aligned_buffer(kBufferBytes);
    spare_ = aligned_buffer(kBufferBytes);
    io_ = std::make_unique<BackgroundIo>();
    on_disk_ = true;
    auto sealed = seal(held_);
    crypto::wipe(held_);
    held_ = {};
    return sealed;
}

Status BlobWriter::open_file() {
    auto& env = *packages_.env_;
    bool created = false;
    if (env.create_directories(packages_.temp_dir(), created) != 0)  // an operator may have removed it
        return io_failure("cannot create the temporary blob directory");
    const auto temp_path = packages_.temp_dir() / (id_ + ".part");
    int rc = env.open(temp_path, Env::Open::new_file, true, 0600, file_);
    direct_io_ = rc == 0;
    if (rc == EINVAL)  // file systems without direct I/O (tmpfs)
        rc = env.open(temp_path, Env::Open::new_file, false, 0600, file_);
    if (rc != 0) return io_failure("cannot create a temporary blob");
    temp_path_ = temp_path;  // ours now, for the destructor to remove
    return {};
}

Status BlobWriter::seal(crypto::ByteView data) {
    while (!data.empty()) {
        // Never more than what brings the buffer to the flush mark: sealed, that still fits
        // (the sealer may add a held-back partial chunk and the tags).
        const auto slice = data.first(std::min(data.size(), kFlushBytes - buffered_));
        auto n = sealer_->update(slice, {buffer_.get() + buffered_, kBufferBytes - buffered_});
        if (!n) return n.error();
        buffered_ += *n;
        data = data.subspan(slice.size());
        if (buffered_ >= kFlushBytes)
            if (auto s = flush(false); !s) return s;
    }
    return {};
}

Result<PackageWriter::Sealed> BlobWriter::finish() {
    if (finished_) return make_error(ErrorKind::internal, "package already finished");
    if (failed_) return make_error(ErrorKind::internal, "package already failed");
    failed_ = true;  // until the blob is in place
    if (!on_disk_) {
        inline_sealed_.resize(crypto::sealed_size(size_));
        auto n = sealer_->update(held_, std::span<std::uint8_t>(inline_sealed_));
        crypto::wipe(held_);
        held_ = {};
        if (!n) return n.error();
        auto m = sealer_->finish(std::span(inline_sealed_).subspan(*n));
        if (!m) return m.error();
        if (*n + *m != inline_sealed_.size()) return make_error(ErrorKind::internal, "sealed size mismatch");
        finished_ = true;
        failed_ = false;
        sha256_hex_ = crypto::to_hex(digest_.finish());
        return Sealed{size_, sha256_hex_};
    }
    auto n = sealer_->finish({buffer_.get() + buffered_, kBufferBytes - buffered_});
    if (!n) return n.error();
    buffered_ += *n;
    if (auto s = flush(true); !s) return s.error();
    if (file_->sync() != 0) return io_failure("cannot fsync the package blob");
    file_.reset();
    if (auto s = place_blob(*packages_.env_, temp_path_, final_path_, finished_); !s) return s.error();
    failed_ = false;
    sha256_hex_ = crypto::to_hex(digest_.finish());
    return Sealed{size_, sha256_hex_};
}

Result<PackageRecord> BlobWriter::commit(std::string manifest, crypto::Bytes signature, std::string audit_entry) {
    if (!finished_ || failed_ || committed_) return make_error(ErrorKind::internal, "package not ready to commit");
    const auto context = blob_context(id_);
    const auto wrapped = crypto::wrap_key(packages_.keys_->wrapping_key, data_key_, crypto::as_bytes(context));
    Result<std::uint64_t> audit_index = make_error(ErrorKind::unavailable, "not reached");
    bool commit_failed = false;
    const Status written = packages_.db_.write(
        [&](Transaction& tx) -> Status {
            const PackageRow row{
                id_,     draft_,   size_,    sha256_hex_, created_at_, packages_.config_.aead, packages_.keys_->key_id,
                wrapped, manifest, signature};
            if (auto s = insert_package(tx, row, repeats_); !s) return s;
            if (!on_disk_)
                if (auto s = insert_payload(tx, id_, inline_sealed_); !s) return s;
            audit_index = tx.append_log({audit_entry});
            if (!audit_index) return audit_index.error();
            if (!draft_.idempotency_key.empty()) return insert_push_key(tx, draft_, id_, *audit_index);
            return {};
        },
        &commit_failed, Database::Rerun::allowed);  // it only assigns audit_index
    if (!written) {
        // A COMMIT that fails may still reach the disk: SQLite wrote the WAL frames before the
        // fsync that failed, and after a crash they can count as committed. The blob stays, so
        // that such a package is whole; if its row does not come back, start-up quarantines it.
        if (commit_failed) outcome_unknown_ = true;
        if (written.error().kind == ErrorKind::conflict) return written.error();
        return make_error(ErrorKind::unavailable, "the package could not be recorded");
    }
    committed_ = true;
    PackageRecord record;
    record.id = id_;
    record.dataset = draft_.dataset;
    record.producer = draft_.producer;
    record.classification = draft_.classification;
    record.filename = draft_.filename;
    record.media_type = draft_.media_type;
    record.size = size_;
    record.sha256_hex = sha256_hex_;
    record.created_at = created_at_;
    record.manifest = std::move(manifest);
    record.signature = std::move(signature);
    record.audit_index = *audit_index;
    record.recipients = draft_.recipients;
    return record;
}

Result<std::unique_ptr<PackageWriter>> Packages::begin_package(PackageDraft draft) {
    const std::string id = crypto::random_hex(16);
    auto writer = std::make_unique<BlobWriter>(*this, std::move(draft), id);
    writer->final_path_ = blob_path(id);
    // No file yet: most packages are small enough never to need one (BlobWriter::spill).
    return std::unique_ptr<PackageWriter>(std::move(writer));
}

BlobReader::BlobReader(std::unique_ptr<File> file, std::uint64_t size, std::unique_ptr<crypto::StreamOpener> opener)
    : file_(std::move(file)),
      size_(size),
      chunk_count_(size == 0 ? 1 : (size + crypto::kStreamChunkBytes - 1) / crypto::kStreamChunkBytes),
      opener_(std::move(opener)),
      // A batch, the unaligned head before it and the block rounding after it; never more than
      // the whole blob.
      batch_chunks_(size <= kMediumPayloadBytes ? kMediumBatchChunks : kReadBatchChunks),
      buffer_bytes_(static_cast<std::size_t>(
          std::min<std::uint64_t>((batch_chunks_ * crypto::kSealedChunkBytes + 2 * kAlign) / kAlign * kAlign,
                                  (crypto::sealed_size(size) + 3 * kAlign - 1) / kAlign * kAlign))),
      sealed_(aligned_buffer(buffer_bytes_)) {}

BlobReader::~BlobReader() {
    io_.reset();  // a read in flight finishes before its buffer and file go
    file_.reset();
    crypto::wipe(plain_);
}

Status BlobReader::seek(std::uint64_t offset) {
    if (offset > size_) return make_error(ErrorKind::invalid_argument, "offset beyond the payload");
    position_ = offset;
    return {};
}

// Reads the chunks from `index` on, as many as a batch holds, into `buffer`. The read covers
// whole aligned blocks around them, as direct I/O requires. Touches no member but constants:
// it runs on the background thread too.
bool BlobReader::read_batch(std::uint8_t* buffer, std::uint64_t index, Batch& batch) const {
    const std::uint64_t count = std::min<std::uint64_t>(batch_chunks_, chunk_count_ - index);
    const std::uint64_t offset = index * crypto::kSealedChunkBytes;
    const std::uint64_t end = std::min(crypto::sealed_size(size_), offset + count * crypto::kSealedChunkBytes);
    const std::uint64_t aligned = offset / kAlign * kAlign;
    if (!read_at_least(*file_, buffer, static_cast<std::size_t>(end - aligned),
                       (end - aligned + kAlign - 1) / kAlign * kAlign, aligned))
        return false;
    if (!direct_io_) file_->advise_will_need(end, kReadAheadBytes);
    batch = {index, count, static_cast<std::size_t>(offset - aligned)};
    return true;
}

// Makes the batch holding chunk `index` current, from the read-ahead when it is the one
// wanted, and starts reading the batch after it, so that the disk works while we decrypt.
Status BlobReader::ensure_batch(std::uint64_t index) {
    if (index >= batch_.first && index < batch_.first + batch_.chunks) return {};
    bool have = false;
    if (prefetching_) {
        prefetching_ = false;
        if (io_->wait() && ahead_batch_.first == index && ahead_batch_.chunks > 0) {
            std::swap(sealed_, ahead_);
            batch_ = ahead_batch_;
            have = true;
        }
    }
    if (!have) {
        batch_ = {};
        if (!read_batch(sealed_.get(), index, batch_))
            return make_error(ErrorKind::corruption, "the package blob is truncated");
    }
    const std::uint64_t next = batch_.first + batch_.chunks;
    if (next < chunk_count_ && batch_chunks_ == kReadBatchChunks) {
        // Only a large payload reads ahead, with a buffer and thread of its own.
        if (!io_) {
            ahead_ = aligned_buffer(buffer_bytes_);
            io_ = std::make_unique<BackgroundIo>();
        }
        prefetching_ = true;
        ahead_batch_ = {};
        io_->start([this, buffer = ahead_.get(), next] { return read_batch(buffer, next, ahead_batch_); });
    }
    return {};
}

std::size_t BlobReader::plain_length(std::uint64_t index) const noexcept {
    return index + 1 == chunk_count_ ? static_cast<std::size_t>(size_ - index * crypto::kStreamChunkBytes)
                                     : crypto::kStreamChunkBytes;
}

Result<std::size_t> BlobReader::open_chunk(std::uint64_t index, std::span<std::uint8_t> out) {
    if (auto s = ensure_batch(index); !s) return s.error();
    const bool last = index + 1 == chunk_count_;
    const std::uint64_t start = batch_.skew + (index - batch_.first) * crypto::kSealedChunkBytes;
    const std::size_t sealed_len =
        last ? static_cast<std::size_t>(crypto::sealed_size(size_) - index * crypto::kSealedChunkBytes)
             : crypto::kSealedChunkBytes;
    auto n = opener_->open_chunk(index, last, crypto::ByteView(sealed_.get() + start, sealed_len), out);
    if (!n) return make_error(ErrorKind::corruption, "the package blob failed authentication");
    return *n;
}

Status BlobReader::load_chunk(std::uint64_t index) {
    loaded_chunk_ = UINT64_MAX;
    // Only a read that starts inside a chunk, or wants less than one, needs it.
    if (plain_.empty()) plain_.resize(crypto::kStreamChunkBytes);
    auto n = open_chunk(index, plain_);
    if (!n) return n.error();
    loaded_chunk_ = index;
    plain_len_ = *n;
    return {};
}

Result<std::size_t> BlobReader::read(std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size() && position_ < size_) {
        const std::uint64_t index = position_ / crypto::kStreamChunkBytes;
        const std::size_t within = static_cast<std::size_t>(position_ % crypto::kStreamChunkBytes);
        if (index != loaded_chunk_ && within == 0 && out.size() - done >= plain_length(index)) {
            // The whole chunk is wanted: open it straight into the caller's buffer.
            auto n = open_chunk(index, out.subspan(done, plain_length(index)));
            if (!n) return n.error();
            done += *n;
            position_ += *n;
            continue;
        }
        if (index != loaded_chunk_)
            if (auto s = load_chunk(index); !s) return s.error();
        const std::size_t take = std::min(out.size() - done, plain_len_ - within);
        std::memcpy(out.data() + done, plain_.data() + within, take);
        done += take;
        position_ += take;
    }
    return done;
}

namespace {

// A payload kept in the database: already in memory, opened chunk by chunk as it is read.
class KeptReader final : public PackageReader {
  public:
    KeptReader(crypto::Bytes sealed, std::uint64_t size, std::unique_ptr<crypto::StreamOpener> opener)
        : sealed_(std::move(sealed)), size_(size), opener_(std::move(opener)) {}
    ~KeptReader() override { crypto::wipe(plain_); }
    KeptReader(const KeptReader&) = delete;
    KeptReader& operator=(const KeptReader&) = delete;

    std::uint64_t size() const noexcept override { return size_; }
    bool in_memory() const noexcept override { return true; }
    Status seek(std::uint64_t offset) override {
        if (offset > size_) return make_error(ErrorKind::invalid_argument, "offset beyond the payload");
        position_ = offset;
        return {};
    }
    Result<std::size_t> read(std::span<std::uint8_t> out) override {
        std::size_t done = 0;
        while (done < out.size() && position_ < size_) {
            const std::uint64_t index = position_ / crypto::kStreamChunkBytes;
            if (index != loaded_)
                if (auto s = load(index); !s) return s.error();
            const auto within = static_cast<std::size_t>(position_ - index * crypto::kStreamChunkBytes);
            const std::size_t take = std::min(out.size() - done, plain_.size() - within);
            std::memcpy(out.data() + done, plain_.data() + within, take);
            done += take;
            position_ += take;
        }
        return done;
    }

  private:
    Status load(std::uint64_t index) {
        loaded_ = UINT64_MAX;
        const std::uint64_t chunks = (size_ + crypto::kStreamChunkBytes - 1) / crypto::kStreamChunkBytes;
        const bool last = index + 1 == chunks;
        const auto start = static_cast<std::size_t>(index * crypto::kSealedChunkBytes);
        const std::size_t sealed_len = last ? sealed_.size() - start : crypto::kSealedChunkBytes;
        crypto::wipe(plain_);
        plain_.resize(last ? static_cast<std::size_t>(size_ - index * crypto::kStreamChunkBytes)
                           : crypto::kStreamChunkBytes);
        auto n = opener_->open_chunk(index, last, crypto::ByteView(sealed_.data() + start, sealed_len), plain_);
        if (!n || *n != plain_.size())
            return make_error(ErrorKind::corruption, "the package payload failed authentication");
        loaded_ = index;
        return {};
    }

    crypto::Bytes sealed_;
    std::uint64_t size_;
    std::unique_ptr<crypto::StreamOpener> opener_;
    crypto::Bytes plain_;
    std::uint64_t loaded_ = UINT64_MAX;
    std::uint64_t position_ = 0;
};

}  // namespace

Result<std::unique_ptr<PackageReader>> Packages::open_package(const std::string& id) {
    if (!is_package_id(id)) return make_error(ErrorKind::not_found, "no such package");
    std::uint64_t size = 0;
    crypto::Aead aead = crypto::Aead::aes_256_gcm;
    crypto::Bytes wrapped;
    std::optional<crypto::Bytes> kept;  // the sealed payload, when the database holds it
    const Status found = db_.read([&](Connection& c) -> Status {
        auto s = c.cached(kept_payloads_ ? "SELECT p.size, p.aead, p.key_id, p.wrapped_key, k.sealed FROM packages p "
                                           "LEFT JOIN package_payloads k ON k.id = p.id WHERE p.id = ?1"
                                         : "SELECT size, aead, key_id, wrapped_key, NULL FROM packages WHERE id = ?1");
        const int rc = s->bind(1, id).step();
        if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no such package");
        if (rc != SQLITE_ROW) return make_error(ErrorKind::unavailable, "the database could not be read");
        size = static_cast<std::uint64_t>(s->integer(0));
        const auto aead_id = s->integer(1);
        if (aead_id != 1 && aead_id != 2) return make_error(ErrorKind::corruption, "unknown AEAD");
        aead = static_cast<crypto::Aead>(aead_id);
        if (s->text(2) != keys_->key_id)
            return make_error(ErrorKind::unavailable, "the package is wrapped by another master key");
        wrapped = s->blob(3);
        if (!s->is_null(4)) kept = s->blob(4);
        return {};
    });
    if (!found) return found.error();
    const auto context = blob_context(id);
    auto data_key = crypto::unwrap_key(keys_->wrapping_key, wrapped, crypto::as_bytes(context));
    if (!data_key) return make_error(ErrorKind::corruption, "the package key failed authentication");
    if (kept) {
        if (kept->size() != crypto::sealed_size(size))
            return make_error(ErrorKind::corruption, "the package payload has the wrong length");
        return std::unique_ptr<PackageReader>(std::make_unique<KeptReader>(
            std::move(*kept), size,
            std::make_unique<crypto::StreamOpener>(aead, *data_key, crypto::as_bytes(context))));
    }
    // Direct I/O: a download does not pay for copying through (and evicting) the page cache.
    bool direct = true;
    std::unique_ptr<File> file;
    int rc = env_->open(blob_path(id), Env::Open::read, true, 0, file);
    if (rc == EINVAL) {
        direct = false;
        rc = env_->open(blob_path(id), Env::Open::read, false, 0, file);
    }
    if (rc != 0) return make_error(ErrorKind::corruption, "the package blob is missing");
    std::uint64_t length = 0;
    if (file->size(length) != 0 || length != crypto::sealed_size(size))
        return make_error(ErrorKind::corruption, "the package blob has the wrong length");
    if (!direct) file->advise_sequential();
    auto opener = std::make_unique<crypto::StreamOpener>(aead, *data_key, crypto::as_bytes(context));
    std::unique_ptr<BlobReader> reader;
    try {
        reader = std::make_unique<BlobReader>(std::move(file), size, std::move(opener));
    } catch (...) {  // buffers or the I/O thread could not be had
        return make_error(ErrorKind::unavailable, "the gateway is short of memory or threads");
    }
    reader->direct_io_ = direct;
    return std::unique_ptr<PackageReader>(std::move(reader));
}

}  // namespace serambi::storage
