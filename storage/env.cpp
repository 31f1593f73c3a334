// The real Env: POSIX calls, retried on EINTR and nothing else.
#include "storage/env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

namespace serambi::storage {
namespace {

class PosixFile final : public File {
  public:
    explicit PosixFile(int fd) : fd_(fd) {}
    ~PosixFile() override { ::close(fd_); }
    PosixFile(const PosixFile&) = delete;
    PosixFile& operator=(const PosixFile&) = delete;

    std::int64_t write(const std::uint8_t* data, std::size_t len) override {
        for (;;) {
            const ssize_t n = ::write(fd_, data, len);
            if (n >= 0) return n;
            if (errno != EINTR) return -errno;
        }
    }
    std::int64_t pread(std::uint8_t* data, std::size_t len, std::uint64_t offset) override {
        for (;;) {
            const ssize_t n = ::pread(fd_, data, len, static_cast<off_t>(offset));
            if (n >= 0) return n;
            if (errno != EINTR) return -errno;
        }
    }
    int sync() override { return ::fsync(fd_) == 0 ? 0 : errno; }
    int truncate(std::uint64_t size) override { return ::ftruncate(fd_, static_cast<off_t>(size)) == 0 ? 0 : errno; }
    int size(std::uint64_t& out) override {
        struct stat st {};
        if (::fstat(fd_, &st) != 0) return errno;
        out = static_cast<std::uint64_t>(st.st_size);
        return 0;
    }
    void advise_sequential() override { ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL); }
    void start_write_back(std::uint64_t offset, std::uint64_t len) override {
        // The range two calls back has had two windows' time to reach the disk: wait for it (rarely
        // at all) and drop it from the page cache, which a stream of sealed bytes never reads
        // back, so that a large upload does not make every later allocation reclaim cache.
        const auto& [at, n] = writing_back_[next_];
        if (n > 0) {
            ::sync_file_range(fd_, static_cast<off_t>(at), static_cast<off_t>(n),
                              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
            ::posix_fadvise(fd_, static_cast<off_t>(at), static_cast<off_t>(n), POSIX_FADV_DONTNEED);
        }
        ::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(len), SYNC_FILE_RANGE_WRITE);
        writing_back_[next_] = {offset, len};
        next_ = 1 - next_;
    }

    int fd_;
    // The two ranges start_write_back began last (offset, length), and which one is older.
    std::pair<std::uint64_t, std::uint64_t> writing_back_[2] = {};
    int next_ = 0;
};

class PosixEnv final : public Env {
  public:
    int open(const std::filesystem::path& path, Open how, bool direct, unsigned mode,
             std::unique_ptr<File>& out) override {
        int flags = O_CLOEXEC | (direct ? O_DIRECT : 0);
        flags |= how == Open::read ? O_RDONLY : O_WRONLY | O_CREAT | O_EXCL;
        const int fd = ::open(path.c_str(), flags, static_cast<mode_t>(mode));
        if (fd < 0) return errno;
        if (how == Open::new_file)
            ::fchmod(fd, static_cast<mode_t>(mode));  // the umask must not widen or narrow what we asked
        out = std::make_unique<PosixFile>(fd);
        return 0;
    }
    int rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
    }
    int remove(const std::filesystem::path& path) override { return ::unlink(path.c_str()) == 0 ? 0 : errno; }
    int create_directories(const std::filesystem::path& dir, bool& created) override {
        std::error_code ec;
        created = std::filesystem::create_directories(dir, ec);
        return ec ? (ec.value() != 0 ? ec.value() : EIO) : 0;
    }
    int sync_directory(const std::filesystem::path& dir) override {
        const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return errno;
        const int rc = ::fsync(fd) == 0 ? 0 : errno;
        ::close(fd);
        return rc;
    }
    std::int64_t now() override {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

}  // namespace

std::shared_ptr<Env> Env::posix() {
    static const std::shared_ptr<Env> env = std::make_shared<PosixEnv>();
    return env;
}

}  // namespace serambi::storage
