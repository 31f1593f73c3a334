// What storage asks of the operating system: files, directories and the time. The store reaches
// the disk only through an Env, so that tests can make any step of a push, a commit or a
// recovery fail (EIO, ENOSPC, a torn write) and check that nothing committed is lost and nothing
// half-written shows. The database's own I/O goes through SQLite's VFS instead (see
// Store::Options::sqlite_vfs).
//
// Errors are errno values (0: success), so that callers can tell the cases POSIX tells apart
// (EEXIST, ENOENT, EINVAL from a file system without direct I/O).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace serambi::storage {

// An open file. Its methods may be called from another thread than the one that opened it, but
// never from two at once.
class File {
  public:
    virtual ~File() = default;  // closes
    // As write(2) and pread(2): the bytes moved, or -errno. A short count is not an error.
    virtual std::int64_t write(const std::uint8_t* data, std::size_t len) = 0;
    virtual std::int64_t pread(std::uint8_t* data, std::size_t len, std::uint64_t offset) = 0;
    virtual int sync() = 0;  // fsync(2)
    virtual int truncate(std::uint64_t size) = 0;
    virtual int size(std::uint64_t& out) = 0;
    // Hints to the page cache; nothing depends on them.
    virtual void advise_sequential() {}
    virtual void advise_will_need(std::uint64_t /*offset*/, std::uint64_t /*len*/) {}
    // Starts writing [offset, offset + len) back to the disk without waiting, so that a later
    // fsync does not meet a gigabyte of dirty pages at once.
    virtual void start_write_back(std::uint64_t /*offset*/, std::uint64_t /*len*/) {}
};

class Env {
  public:
    virtual ~Env() = default;

    enum class Open {
        read,      // an existing file, read-only
        new_file,  // created here, write-only; EEXIST if it is there already
    };
    // `direct`: bypass the page cache (O_DIRECT); EINVAL where the file system cannot.
    virtual int open(const std::filesystem::path& path, Open how, bool direct, unsigned mode,
                     std::unique_ptr<File>& out) = 0;
    virtual int rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
    virtual int remove(const std::filesystem::path& path) = 0;  // a file (unlink)
    // Creates `dir` and any missing parent; `created` says whether `dir` itself is new.
    virtual int create_directories(const std::filesystem::path& dir, bool& created) = 0;
    // fsync of a directory: makes the names created, renamed or removed in it durable.
    virtual int sync_directory(const std::filesystem::path& dir) = 0;
    virtual std::int64_t now() = 0;  // Unix seconds

    // The real one, shared by every store that is given none.
    static std::shared_ptr<Env> posix();
};

}  // namespace serambi::storage
