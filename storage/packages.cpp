// Packages: their rows, and the start-up recovery and consistency checks between the database
// and the blob directory.
//
// The rule throughout: a blob is never deleted on the database's word. A database can be damaged
// or restored from an older copy, and then its silence about a package proves nothing; moving the
// blob aside keeps every byte for an operator to decide on.
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <boost/algorithm/string/split.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "storage/blobs.h"
#include "storage/database.h"
#include "storage/files.h"
#include "storage/store.h"

namespace serambi::storage {
namespace {

bool is_shard_name(const std::string& name) {
    return name.size() == 2 && std::all_of(name.begin(), name.end(),
                                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A name in quarantine/ that no earlier orphan took: the same package id can be quarantined
// twice (restored twice), and the first copy must survive the second.
// Empty when the folder cannot be looked at, or is absurdly full: a disk that fails must stop the
// start, not spin it.
std::filesystem::path free_name(const std::filesystem::path& dir, const std::string& name) {
    for (unsigned n = 0; n < 10000; ++n) {
        const auto candidate = n == 0 ? dir / name : dir / (name + "." + std::to_string(n));
        std::error_code ec;
        const bool taken = std::filesystem::exists(std::filesystem::symlink_status(candidate, ec));
        if (ec && ec != std::errc::no_such_file_or_directory) return {};
        if (!taken) return candidate;
    }
    return {};
}

// The placed blob files: every regular file inside a two-hex-digit shard folder.
std::vector<std::filesystem::path> placed_blobs(const std::filesystem::path& blob_dir, std::error_code& ec) {
    std::vector<std::filesystem::path> out;
    for (const auto& shard : std::filesystem::directory_iterator(blob_dir, ec)) {
        if (!shard.is_directory() || !is_shard_name(shard.path().filename().string())) continue;
        for (const auto& blob : std::filesystem::directory_iterator(shard.path(), ec)) out.push_back(blob.path());
        if (ec) break;
    }
    std::sort(out.begin(), out.end());
    return out;
}

constexpr const char* kPackageColumns =
    "SELECT id, dataset, producer, classification, filename, media_type, size, sha256, "
    "created_at, manifest, signature, recipients FROM packages ";

PackageRecord package_from(const sql::Statement& s) {
    PackageRecord p;
    p.id = s.text(0);
    p.dataset = s.text(1);
    p.producer = s.text(2);
    p.classification = s.text(3);
    p.filename = s.text(4);
    p.media_type = s.text(5);
    p.size = static_cast<std::uint64_t>(s.integer(6));
    p.sha256_hex = s.text(7);
    p.created_at = s.text(8);
    p.manifest = s.text(9);
    p.signature = s.blob(10);
    if (const auto recipients = s.text(11); !recipients.empty())
        boost::split(p.recipients, recipients, [](char c) { return c == ','; });
    return p;
}

}  // namespace

Packages::Packages(Database& db, std::shared_ptr<Env> env, Config config, const crypto::SecretKey& master_key)
    : db_(db), env_(std::move(env)), config_(std::move(config)) {
    keys_ = std::make_unique<Keys>(wrapping_key_of(master_key), crypto::derive_key(master_key, "serambi/delivery/v1"),
                                   key_id_of(master_key));
    kept_payloads_ = db_.read([](Connection& c) {
        auto s = c.cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'package_payloads'");
        return s->step() == SQLITE_ROW;
    });
}

crypto::SecretKey Packages::delivery_seed(const std::string& package_id, const std::string& sha256_hex,
                                          const std::string& recipient) const {
    // The digest too: a seed must never serve two plaintexts, whatever happened to a blob.
    return crypto::derive_key(keys_->delivery_key, package_id + "\n" + sha256_hex + "\n" + recipient);
}
Packages::~Packages() = default;

std::filesystem::path Packages::blob_path(const std::string& package_id) const {
    return config_.blob_dir / package_id.substr(0, 2) / (package_id + ".blob");
}

Result<PackageRecord> Packages::package(const std::string& id) {
    return db_.read([&](Connection& c) {
        return one_row<PackageRecord>(c, std::string(kPackageColumns) + "WHERE id = ?1", id, package_from,
                                      "no such package");
    });
}

Result<std::vector<PackageRecord>> Packages::packages_in(const std::string& dataset) {
    return db_.read([&](Connection& c) {
        auto s = c.cached(std::string(kPackageColumns) + "WHERE dataset = ?1 ORDER BY created_at, rowid");
        s->bind(1, dataset);
        return all_rows<PackageRecord>(*s, package_from);
    });
}

Result<Packages::Recovery> Packages::recover() {
    Recovery recovery;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(temp_dir(), ec)) {
        // Uploads still under their temporary name were never acknowledged to anyone.
        // One that cannot be removed is reported, not skipped: the disk is failing, and a start
        // that says all is well on a failing disk is the worse outcome.
        if (const int rc = env_->remove(entry.path()); rc != 0 && rc != ENOENT)
            return make_error(ErrorKind::io_error,
                              "cannot remove the temporary upload " + entry.path().string() + ": " + std::strerror(rc));
        ++recovery.temporary_removed;
    }
    // Resumable uploads keep their current part file; earlier epochs' and removed uploads' go.
    if (auto s = sweep_part_files(); !s) return s.error();
    const auto blobs = placed_blobs(config_.blob_dir, ec);
    if (ec) return make_error(ErrorKind::io_error, "cannot list the blob directory: " + ec.message());
    const auto quarantine = config_.blob_dir / "quarantine";
    std::vector<std::filesystem::path> emptied;  // shards a blob left
    for (const auto& path : blobs) {
        const std::string id = path.stem().string();
        bool known = false;
        if (is_package_id(id) && path.extension() == ".blob") {
            const int rc = db_.read([&](Connection& c) {
                auto s = c.cached("SELECT 1 FROM packages WHERE id = ?1");
                return s->bind(1, id).step();
            });
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return make_error(ErrorKind::corruption, "the database could not say whether package " + id +
                                                             " exists; nothing was moved (run serambi fsck)");
            known = rc == SQLITE_ROW;
        }
        if (known) continue;
        bool created = false;
        const int made = env_->create_directories(quarantine, created);
        const auto target = free_name(quarantine, path.filename().string());
        if (made != 0 || target.empty() || env_->rename(path, target) != 0)
            return make_error(ErrorKind::io_error, "cannot move " + path.string() + " to quarantine");
        recovery.quarantined.push_back(target);
        emptied.push_back(path.parent_path());
    }
    if (!recovery.quarantined.empty()) {
        // The moves must outlive a crash, or a blob could come back and be judged again.
        if (auto s = fsync_directory(*env_, quarantine); !s) return s.error();
        emptied.erase(std::unique(emptied.begin(), emptied.end()), emptied.end());
        for (const auto& shard : emptied)
            if (auto s = fsync_directory(*env_, shard); !s) return s.error();
    }
    return recovery;
}

Result<std::uint64_t> Packages::free_bytes() {
    struct statvfs fs {};
    if (::statvfs(config_.blob_dir.c_str(), &fs) != 0)
        return make_error(ErrorKind::io_error, "cannot read the free space of " + config_.blob_dir.string());
    return static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
}

Result<Packages::DiskUse> Packages::disk_use() {
    DiskUse use;
    auto free = free_bytes();
    if (!free) return free.error();
    use.free_bytes = *free;
    use.database_bytes = db_.file_bytes();
    const int rc = db_.read([&](Connection& c) {
        auto s = c.cached(kept_payloads_ ? "SELECT p.size FROM packages p WHERE NOT EXISTS "
                                           "(SELECT 1 FROM package_payloads k WHERE k.id = p.id)"
                                         : "SELECT size FROM packages");
        int step;
        while ((step = s->step()) == SQLITE_ROW)
            use.blob_bytes += crypto::sealed_size(static_cast<std::uint64_t>(s->integer(0)));
        return step;
    });
    if (rc != SQLITE_DONE) return make_error(ErrorKind::unavailable, "the packages table cannot be read");
    return use;
}

Result<std::vector<std::filesystem::path>> Packages::blob_files() {
    std::vector<std::filesystem::path> files;
    const int rc = db_.read([&](Connection& c) {
        sql::Statement s(c.get(), kept_payloads_ ? "SELECT p.id FROM packages p WHERE NOT EXISTS "
                                                   "(SELECT 1 FROM package_payloads k WHERE k.id = p.id) ORDER BY p.id"
                                                 : "SELECT id FROM packages ORDER BY id");
        int step;
        while ((step = s.step()) == SQLITE_ROW) {
            const auto id = s.text(0);
            if (!is_package_id(id)) return SQLITE_CORRUPT;  // never a path from a damaged row
            files.push_back(blob_path(id));
        }
        return step;
    });
    if (rc != SQLITE_DONE) return make_error(ErrorKind::corruption, "the packages table cannot be read whole");
    return files;
}

Result<Packages::BlobReport> Packages::check_blobs(bool authenticate) {
    BlobReport report;
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    std::vector<std::string> kept;  // packages whose payload the database holds (sorted)
    std::vector<std::uint64_t> kept_lengths;
    const int rc = db_.read([&](Connection& c) {
        sql::Statement s(c.get(), kept_payloads_ ? "SELECT p.id, p.size, k.id IS NOT NULL, length(k.sealed) "
                                                   "FROM packages p LEFT JOIN package_payloads k ON k.id = p.id "
                                                   "ORDER BY p.id"
                                                 : "SELECT id, size, 0, 0 FROM packages ORDER BY id");
        int step;
        while ((step = s.step()) == SQLITE_ROW) {
            rows.emplace_back(s.text(0), static_cast<std::uint64_t>(s.integer(1)));
            if (s.integer(2) != 0) {
                kept.push_back(s.text(0));
                kept_lengths.push_back(static_cast<std::uint64_t>(s.integer(3)));
            }
        }
        return step;
    });
    if (rc != SQLITE_DONE) return make_error(ErrorKind::corruption, "the packages table cannot be read whole");
    report.packages = rows.size();
    report.kept = kept.size();
    std::vector<std::uint8_t> buffer(1 << 20);
    for (const auto& [id, size] : rows) {
        struct stat st {};
        const auto path = blob_path(id);
        if (!is_package_id(id)) {
            report.damaged.push_back(id + ": not a package id");
            continue;
        }
        const auto held = std::lower_bound(kept.begin(), kept.end(), id);
        const bool in_database = held != kept.end() && *held == id;
        if (in_database) {
            if (kept_lengths[static_cast<std::size_t>(held - kept.begin())] != crypto::sealed_size(size)) {
                report.damaged.push_back(id + ": the payload kept in the database has the wrong length");
                continue;
            }
        } else if (::stat(path.c_str(), &st) != 0) {
            report.missing.push_back(id);
            continue;
        }
        if (!in_database && static_cast<std::uint64_t>(st.st_size) != crypto::sealed_size(size)) {
            report.damaged.push_back(id + ": the blob has the wrong length");
            continue;
        }
        if (!authenticate) continue;
        auto reader = open_package(id);
        if (!reader) {
            report.damaged.push_back(id + ": " + reader.error().message);
            continue;
        }
        for (;;) {
            auto n = (*reader)->read(buffer);
            if (!n) {
                report.damaged.push_back(id + ": " + n.error().message);
                break;
            }
            if (*n == 0) break;
        }
    }
    std::error_code ec;
    const auto blobs = placed_blobs(config_.blob_dir, ec);
    if (ec) return make_error(ErrorKind::io_error, "cannot list the blob directory: " + ec.message());
    report.blobs = blobs.size();
    for (const auto& path : blobs) {
        const std::string id = path.stem().string();
        const bool known = path.extension() == ".blob" &&
                           std::binary_search(rows.begin(), rows.end(), std::pair<std::string, std::uint64_t>{id, 0},
                                              [](const auto& a, const auto& b) { return a.first < b.first; });
        if (!known) report.unknown.push_back(path);
    }
    for (const auto& entry : std::filesystem::directory_iterator(config_.blob_dir / "quarantine", ec))
        report.quarantined.push_back(entry.path());
    std::sort(report.quarantined.begin(), report.quarantined.end());
    return report;
}

}  // namespace serambi::storage
