// Test-only: an Env and a SQLite VFS that count what storage does to the disk and make the Nth
// operation of one kind fail (EIO, ENOSPC) or tear (half of the bytes written, then EIO).
//
// Both delegate to the real thing otherwise, so a test sees real files after any fault. One
// FaultyEnv is "current" for the VFS at a time (the VFS is process-wide, registered once).
#pragma once

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "storage/env.h"

namespace serambi::testing {

enum class Op {
    create,    // a new file (Env::open for writing)
    write,     // File::write
    sync,      // File::sync
    truncate,  // File::truncate
    rename,
    remove,
    mkdir,        // Env::create_directories
    sync_dir,     // Env::sync_directory
    db_write,     // the database's xWrite (pages, WAL frames, journal)
    db_sync,      // its xSync
    db_truncate,  // its xTruncate
    count_
};
constexpr std::size_t kOps = static_cast<std::size_t>(Op::count_);

inline const char* name_of(Op op) {
    static constexpr std::array<const char*, kOps> names{"create",   "write",   "sync",       "truncate",
                                                         "rename",   "remove",  "mkdir",      "sync_dir",
                                                         "db_write", "db_sync", "db_truncate"};
    return names[static_cast<std::size_t>(op)];
}

enum class Fault { eio, enospc, tear };
inline const char* name_of(Fault f) { return f == Fault::eio ? "EIO" : f == Fault::enospc ? "ENOSPC" : "torn write"; }
inline bool tears(Op op) { return op == Op::write || op == Op::db_write; }

class FaultyEnv final : public storage::Env {
  public:
    // From now on, the `nth` (1-based) operation of kind `op` fails with `fault`, once.
    void arm(Op op, std::uint64_t nth, Fault fault) {
        std::lock_guard lock(mutex_);
        counts_.fill(0);
        armed_ = true;
        fired_ = false;
        op_ = op;
        nth_ = nth;
        fault_ = fault;
        log_.clear();
    }
    void disarm() {
        std::lock_guard lock(mutex_);
        armed_ = false;
    }
    bool fired() const {
        std::lock_guard lock(mutex_);
        return fired_;
    }
    std::uint64_t count(Op op) const {
        std::lock_guard lock(mutex_);
        return counts_[static_cast<std::size_t>(op)];
    }
    // Every counted operation since arm(), as "kind path".
    std::vector<std::string> log() const {
        std::lock_guard lock(mutex_);
        return log_;
    }

    // The next operation of kind `op` stalls until release(), as on a disk that hangs.
    void stall(Op op) {
        std::lock_guard lock(mutex_);
        stall_armed_ = true;
        stall_op_ = op;
        stalled_ = false;
        released_ = false;
    }
    // Whether the stalled operation has begun within `timeout`.
    bool wait_stalled(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return stall_changed_.wait_for(lock, timeout, [this] { return stalled_; });
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        stall_changed_.notify_all();
    }

    // Counts one operation; 0 to let it through, or the errno it fails with. `tear` is set when
    // it should move half of its bytes first.
    int hit(Op op, const std::string& what, bool* tear = nullptr) {
        std::unique_lock lock(mutex_);
        auto& n = counts_[static_cast<std::size_t>(op)];
        ++n;
        log_.push_back(std::string(name_of(op)) + " " + what);
        if (stall_armed_ && op == stall_op_) {
            stall_armed_ = false;
            stalled_ = true;
            stall_changed_.notify_all();
            stall_changed_.wait(lock, [this] { return released_; });
        }
        if (!armed_ || fired_ || op != op_ || n != nth_) return 0;
        fired_ = true;
        if (fault_ == Fault::tear && tears(op) && tear != nullptr) *tear = true;
        return fault_ == Fault::enospc ? ENOSPC : EIO;
    }

    // storage::Env
    int open(const std::filesystem::path& path, Open how, bool direct, unsigned mode,
             std::unique_ptr<storage::File>& out) override {
        if (how == Open::new_file)
            if (const int rc = hit(Op::create, path.filename().string()); rc != 0) return rc;
        std::unique_ptr<storage::File> real;
        if (const int rc = real_->open(path, how, direct, mode, real); rc != 0) return rc;
        out = std::make_unique<FaultyFile>(*this, std::move(real), path.filename().string(), direct);
        return 0;
    }
    int rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        if (const int rc = hit(Op::rename, from.filename().string() + " -> " + to.string()); rc != 0) return rc;
        return real_->rename(from, to);
    }
    int remove(const std::filesystem::path& path) override {
        if (const int rc = hit(Op::remove, path.filename().string()); rc != 0) return rc;
        return real_->remove(path);
    }
    int create_directories(const std::filesystem::path& dir, bool& created) override {
        created = false;
        if (const int rc = hit(Op::mkdir, dir.string()); rc != 0) return rc;
        return real_->create_directories(dir, created);
    }
    int sync_directory(const std::filesystem::path& dir) override {
        if (const int rc = hit(Op::sync_dir, dir.string()); rc != 0) return rc;
        return real_->sync_directory(dir);
    }
    std::int64_t now() override { return clock.load(); }

    std::atomic<std::int64_t> clock{1780000000};  // a fixed, settable time

  private:
    class FaultyFile final : public storage::File {
      public:
        FaultyFile(FaultyEnv& env, std::unique_ptr<storage::File> real, std::string name, bool direct)
            : env_(env), real_(std::move(real)), name_(std::move(name)), direct_(direct) {}
        std::int64_t write(const std::uint8_t* data, std::size_t len) override {
            bool tear = false;
            if (const int rc = env_.hit(Op::write, name_, &tear); rc != 0) {
                // Direct I/O takes whole blocks only: the torn part is whole blocks too.
                const std::size_t half = direct_ ? len / 2 / 4096 * 4096 : len / 2;
                if (tear && half > 0) (void)real_->write(data, half);
                return -rc;
            }
            return real_->write(data, len);
        }
        std::int64_t pread(std::uint8_t* data, std::size_t len, std::uint64_t offset) override {
            return real_->pread(data, len, offset);
        }
        int sync() override {
            if (const int rc = env_.hit(Op::sync, name_); rc != 0) return rc;
            return real_->sync();
        }
        int truncate(std::uint64_t size) override {
            if (const int rc = env_.hit(Op::truncate, name_); rc != 0) return rc;
            return real_->truncate(size);
        }
        int size(std::uint64_t& out) override { return real_->size(out); }

      private:
        FaultyEnv& env_;
        std::unique_ptr<storage::File> real_;
        std::string name_;
        bool direct_;
    };

    std::shared_ptr<storage::Env> real_ = storage::Env::posix();
    mutable std::mutex mutex_;
    std::array<std::uint64_t, kOps> counts_{};
    std::vector<std::string> log_;
    bool armed_ = false;
    bool fired_ = false;
    Op op_ = Op::write;
    std::uint64_t nth_ = 0;
    Fault fault_ = Fault::eio;
    std::condition_variable stall_changed_;
    bool stall_armed_ = false;
    Op stall_op_ = Op::db_sync;
    bool stalled_ = false;
    bool released_ = false;
};

// ---- The SQLite side: a VFS named kFaultyVfs that delegates to the default one ("unix") and
// asks the current FaultyEnv before every write, sync and truncate. SQLCipher encrypts above
// the VFS, so what is torn here are encrypted pages, as on a real disk.

inline std::atomic<FaultyEnv*>& current_faulty_env() {
    static std::atomic<FaultyEnv*> env{nullptr};
    return env;
}

constexpr const char* kFaultyVfs = "serambi-faulty";

namespace faulty_vfs {

struct DbFile {
    sqlite3_file base;
    sqlite3_file* real;  // the default VFS's file, just after this struct
    const char* name;
};

inline sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<DbFile*>(f)->real; }
inline std::string label(sqlite3_file* f) {
    const char* n = reinterpret_cast<DbFile*>(f)->name;
    if (n == nullptr) return "(temp)";
    const char* slash = std::strrchr(n, '/');
    return slash ? slash + 1 : n;
}
inline int ask(Op op, sqlite3_file* f, bool* tear = nullptr) {
    FaultyEnv* env = current_faulty_env().load();
    return env ? env->hit(op, label(f), tear) : 0;
}

inline int x_close(sqlite3_file* f) {
    const int rc = real(f)->pMethods->xClose(real(f));
    f->pMethods = nullptr;
    return rc;
}
inline int x_read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
    return real(f)->pMethods->xRead(real(f), p, n, off);
}
inline int x_write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
    bool tear = false;
    if (const int rc = ask(Op::db_write, f, &tear); rc != 0) {
        if (tear && n > 1) (void)real(f)->pMethods->xWrite(real(f), p, n / 2, off);
        return rc == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    }
    return real(f)->pMethods->xWrite(real(f), p, n, off);
}
inline int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    if (const int rc = ask(Op::db_truncate, f); rc != 0) return rc == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_TRUNCATE;
    return real(f)->pMethods->xTruncate(real(f), size);
}
inline int x_sync(sqlite3_file* f, int flags) {
    if (const int rc = ask(Op::db_sync, f); rc != 0) return rc == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_FSYNC;
    return real(f)->pMethods->xSync(real(f), flags);
}
inline int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real(f)->pMethods->xFileSize(real(f), size); }
inline int x_lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
inline int x_unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
inline int x_check_reserved(sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); }
inline int x_file_control(sqlite3_file* f, int op, void* arg) {
    return real(f)->pMethods->xFileControl(real(f), op, arg);
}
inline int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
inline int x_device(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
inline int x_shm_map(sqlite3_file* f, int pg, int sz, int extend, void volatile** pp) {
    return real(f)->pMethods->xShmMap(real(f), pg, sz, extend, pp);
}
inline int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
inline void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
inline int x_shm_unmap(sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }
inline int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** pp) {
    return real(f)->pMethods->xFetch(real(f), off, n, pp);
}
inline int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
    return real(f)->pMethods->xUnfetch(real(f), off, p);
}

inline const sqlite3_io_methods kMethods = {
    3,          x_close,       x_read,           x_write,        x_truncate,    x_sync,   x_file_size,
    x_lock,     x_unlock,      x_check_reserved, x_file_control, x_sector_size, x_device, x_shm_map,
    x_shm_lock, x_shm_barrier, x_shm_unmap,      x_fetch,        x_unfetch,
};

inline sqlite3_vfs* base_vfs() { return sqlite3_vfs_find(nullptr); }

inline int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    auto* file = reinterpret_cast<DbFile*>(f);
    file->real = reinterpret_cast<sqlite3_file*>(file + 1);
    file->name = name;
    auto* under = static_cast<sqlite3_vfs*>(vfs->pAppData);
    const int rc = under->xOpen(under, name, file->real, flags, out_flags);
    // SQLite closes what has methods, even after a failed open: ours only when the real one has.
    file->base.pMethods = file->real->pMethods && file->real->pMethods->iVersion >= 3 ? &kMethods : nullptr;
    if (file->real->pMethods && file->base.pMethods == nullptr) {
        file->real->pMethods->xClose(file->real);
        return SQLITE_CANTOPEN;
    }
    return rc;
}

}  // namespace faulty_vfs

// Registers the VFS (once, not as the default) and makes `env` the one it asks.
inline void use_faulty_vfs(FaultyEnv* env) {
    static const bool registered = [] {
        static sqlite3_vfs vfs = *faulty_vfs::base_vfs();
        sqlite3_vfs* under = faulty_vfs::base_vfs();
        vfs.szOsFile = static_cast<int>(sizeof(faulty_vfs::DbFile)) + under->szOsFile;
        vfs.zName = kFaultyVfs;
        vfs.pAppData = under;
        vfs.pNext = nullptr;
        vfs.xOpen = faulty_vfs::x_open;
        // The other members (delete, access, full pathname, randomness, time, system calls)
        // keep the default VFS's functions, which never look at the sqlite3_vfs they are given
        // beyond what was copied.
        return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
    }();
    (void)registered;
    current_faulty_env().store(env);
}

}  // namespace serambi::testing
