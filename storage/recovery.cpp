// Start-up recovery and consistency checks between the database and the blob directory.
//
// The rule throughout: a blob is never deleted on the database's word. A database can be damaged
// or restored from an older copy, and then its silence about a package proves nothing; moving the
// blob aside keeps every byte for an operator to decide on.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "storage/store_impl.h"

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

}  // namespace

Result<std::vector<std::string>> integrity_check(sqlite3* db) {
    sql::Statement s(db, "PRAGMA integrity_check;");
    std::vector<std::string> problems;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        if (const auto line = s.text(0); line != "ok" && problems.size() < 100) problems.push_back(line);
    if (rc != SQLITE_DONE)
        return make_error(ErrorKind::corruption, "the database could not be read whole (" +
                                                     std::string(sqlite3_errmsg(db)) +
                                                     "); it is damaged or not a Serambi database");
    return problems;
}

Result<std::vector<std::string>> Store::integrity_problems() {
    std::lock_guard lock(impl_->mutex);
    return integrity_check(impl_->db.get());
}

Result<Store::Recovery> Store::recover() {
    Recovery recovery;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(impl_->temp_dir, ec)) {
        // Uploads still under their temporary name were never acknowledged to anyone.
        // One that cannot be removed is reported, not skipped: the disk is failing, and a start
        // that says all is well on a failing disk is the worse outcome.
        if (const int rc = impl_->env->remove(entry.path()); rc != 0 && rc != ENOENT)
            return make_error(ErrorKind::io_error,
                              "cannot remove the temporary upload " + entry.path().string() + ": " + std::strerror(rc));
        ++recovery.temporary_removed;
    }
    const auto blobs = placed_blobs(impl_->blob_dir, ec);
    if (ec) return make_error(ErrorKind::io_error, "cannot list the blob directory: " + ec.message());
    const auto quarantine = impl_->blob_dir / "quarantine";
    std::vector<std::filesystem::path> emptied;  // shards a blob left
    for (const auto& path : blobs) {
        const std::string id = path.stem().string();
        bool known = false;
        if (is_package_id(id) && path.extension() == ".blob") {
            std::lock_guard lock(impl_->mutex);
            auto s = impl_->cached("SELECT 1 FROM packages WHERE id = ?1");
            const int rc = s->bind(1, id).step();
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return make_error(ErrorKind::corruption, "the database could not say whether package " + id +
                                                             " exists; nothing was moved (run serambi fsck)");
            known = rc == SQLITE_ROW;
        }
        if (known) continue;
        bool created = false;
        const int made = impl_->env->create_directories(quarantine, created);
        const auto target = free_name(quarantine, path.filename().string());
        if (made != 0 || target.empty() || impl_->env->rename(path, target) != 0)
            return make_error(ErrorKind::io_error, "cannot move " + path.string() + " to quarantine");
        recovery.quarantined.push_back(target);
        emptied.push_back(path.parent_path());
    }
    if (!recovery.quarantined.empty()) {
        // The moves must outlive a crash, or a blob could come back and be judged again.
        if (auto s = fsync_directory(*impl_->env, quarantine); !s) return s.error();
        emptied.erase(std::unique(emptied.begin(), emptied.end()), emptied.end());
        for (const auto& shard : emptied)
            if (auto s = fsync_directory(*impl_->env, shard); !s) return s.error();
    }
    return recovery;
}

Result<Store::BlobReport> Store::check_blobs(bool authenticate) {
    BlobReport report;
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    {
        std::lock_guard lock(impl_->mutex);
        sql::Statement s(impl_->db.get(), "SELECT id, size FROM packages ORDER BY id");
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) rows.emplace_back(s.text(0), static_cast<std::uint64_t>(s.integer(1)));
        if (rc != SQLITE_DONE) return make_error(ErrorKind::corruption, "the packages table cannot be read whole");
    }
    report.packages = rows.size();
    std::vector<std::uint8_t> buffer(1 << 20);
    for (const auto& [id, size] : rows) {
        struct stat st {};
        const auto path = impl_->blob_path(id);
        if (!is_package_id(id)) {
            report.damaged.push_back(id + ": not a package id");
            continue;
        }
        if (::stat(path.c_str(), &st) != 0) {
            report.missing.push_back(id);
            continue;
        }
        if (static_cast<std::uint64_t>(st.st_size) != crypto::sealed_size(size)) {
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
    const auto blobs = placed_blobs(impl_->blob_dir, ec);
    if (ec) return make_error(ErrorKind::io_error, "cannot list the blob directory: " + ec.message());
    report.blobs = blobs.size();
    for (const auto& path : blobs) {
        const std::string id = path.stem().string();
        const bool known = path.extension() == ".blob" &&
                           std::binary_search(rows.begin(), rows.end(), std::pair<std::string, std::uint64_t>{id, 0},
                                              [](const auto& a, const auto& b) { return a.first < b.first; });
        if (!known) report.unknown.push_back(path);
    }
    for (const auto& entry : std::filesystem::directory_iterator(impl_->blob_dir / "quarantine", ec))
        report.quarantined.push_back(entry.path());
    std::sort(report.quarantined.begin(), report.quarantined.end());
    return report;
}

}  // namespace serambi::storage
