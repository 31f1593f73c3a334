// The CLI's one way of writing files: a temporary file beside the target, renamed over it.
#include "cli/files.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "cli/messages.h"
#include "policies/policy.h"

namespace serambi::cli {
namespace {

// Writes at least this much go straight to the file; smaller ones are gathered first.
constexpr std::size_t kGather = 64 * 1024;

// `what` is said in the chosen language; the system's reason as strerror gives it. The caller
// reads errno before it makes `what`, which may change it.
Error io_error(const std::string& what, int error) {
    return make_error(ErrorKind::io_error, what + ": " + std::strerror(error));
}

// A finished file of ours renamed to its name: over whatever is there, or (refuse) only where
// nothing is, in the same step that creates the name.
Status put_in_place(const std::filesystem::path& from, const std::filesystem::path& to, Existing existing) {
    const std::string name = to.string();
    if (existing == Existing::replace) {
        if (::rename(from.c_str(), to.c_str()) != 0) {
            const int error = errno;
            return io_error(tr("cannot put {} in place", {name}), error);
        }
        return {};
    }
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
    if (errno == EEXIST)
        return make_error(ErrorKind::conflict, tr("{} already exists; refusing to overwrite it", {name}));
    if (const int error = errno; error != EINVAL && error != ENOSYS)
        return io_error(tr("cannot put {} in place", {name}), error);
    // A file system without RENAME_NOREPLACE: link(2) never replaces a name either.
    if (::link(from.c_str(), to.c_str()) == 0) {
        ::unlink(from.c_str());
        return {};
    }
    if (errno == EEXIST)
        return make_error(ErrorKind::conflict, tr("{} already exists; refusing to overwrite it", {name}));
    if (const int error = errno; error != EPERM && error != EOPNOTSUPP)
        return io_error(tr("cannot put {} in place", {name}), error);
    // Nor hard links (some network shares): the name is claimed with an exclusive create, then
    // renamed over; only a file we made ourselves is ever replaced.
    const int claim = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (claim < 0) {
        const int error = errno;
        if (error == EEXIST)
            return make_error(ErrorKind::conflict, tr("{} already exists; refusing to overwrite it", {name}));
        return io_error(tr("cannot put {} in place", {name}), error);
    }
    ::close(claim);
    if (::rename(from.c_str(), to.c_str()) != 0) {
        const int error = errno;
        ::unlink(to.c_str());
        return io_error(tr("cannot put {} in place", {name}), error);
    }
    return {};
}

Status write_all(int fd, crypto::ByteView data, const std::filesystem::path& path) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            return io_error(tr("cannot write {}", {path.string()}), error);
        }
        if (n == 0) return make_error(ErrorKind::io_error, tr("cannot write {}", {path.string()}));
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

// Once the new name is in the folder, the folder itself is synced so that the rename survives a
// crash. Best effort: the file's bytes are already on disk, and some file systems (FUSE, network
// mounts) do not sync folders.
void sync_folder(const std::filesystem::path& file) {
    const auto folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

// /dev/stdout and /dev/fd/N are links into /proc: replacing one would put a file in /dev.
bool links_into_proc(const std::filesystem::path& path) {
    std::array<char, 4096> target{};
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size() - 1);
    return n > 0 && std::string_view(target.data(), static_cast<std::size_t>(n)).starts_with("/proc/");
}

}  // namespace

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& path, unsigned mode, Existing existing) {
    const std::string name = path.string();
    if (!path.has_filename()) return make_error(ErrorKind::invalid_argument, tr("{} does not name a file", {name}));
    AtomicFile out;
    out.path_ = path;
    out.existing_ = existing;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return make_error(ErrorKind::invalid_argument, tr("{} is a directory", {name}));
        if (existing == Existing::refuse)
            return make_error(ErrorKind::conflict,
                              S_ISLNK(st.st_mode)
                                  ? tr("{} already exists (as a link); refusing to overwrite it", {name})
                                  : tr("{} already exists; refusing to overwrite it", {name}));
        if (S_ISLNK(st.st_mode)) {
            // A link to a file (or to nothing) is replaced by the rename; one to anything else is
            // refused rather than followed.
            struct stat target {};
            if ((::stat(path.c_str(), &target) == 0 && !S_ISREG(target.st_mode)) || links_into_proc(path))
                return make_error(ErrorKind::invalid_argument,
                                  tr("{} is a link to a pipe, a device or a folder; links are not followed: name the "
                                     "file itself",
                                     {name}));
        } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
            // O_NOFOLLOW: a link swapped in since lstat is not followed either.
            out.fd_ = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
            if (out.fd_ < 0) {
                const int error = errno;
                return io_error(tr("cannot open {}", {name}), error);
            }
            struct stat opened {};
            if (::fstat(out.fd_, &opened) != 0 || !(S_ISFIFO(opened.st_mode) || S_ISCHR(opened.st_mode)))
                return make_error(ErrorKind::io_error, tr("{} changed while it was being opened", {name}));
            out.in_place_ = true;
            return out;
        } else if (!S_ISREG(st.st_mode)) {
            return make_error(ErrorKind::invalid_argument, tr("{} is not a regular file", {name}));
        }
    } else if (const int error = errno; error != ENOENT) {
        return io_error(tr("cannot check {}", {name}), error);
    }
    // 64 random bits: nobody can plant the name ahead of us, and O_EXCL | O_NOFOLLOW would refuse
    // it if they did.
    out.temp_ = path;
    out.temp_ += ".part-" + crypto::random_hex(8);
    out.fd_ = ::open(out.temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                     static_cast<mode_t>(mode));
    if (out.fd_ < 0) {
        const int e = errno;
        out.temp_.clear();  // not ours: never to be removed
        return io_error(tr("cannot create a file beside {}", {name}), e);
    }
    if (::fchmod(out.fd_, static_cast<mode_t>(mode)) != 0) {  // exactly `mode`, whatever the umask
        const int error = errno;
        return io_error(tr("cannot set the mode of {}", {out.temp_.string()}), error);
    }
    return out;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::exchange(other.temp_, {})),
      fd_(std::exchange(other.fd_, -1)),
      existing_(other.existing_),
      in_place_(other.in_place_),
      committed_(other.committed_),
      pending_(std::move(other.pending_)) {
    other.pending_.clear();
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
    crypto::wipe(pending_);
}

Status AtomicFile::flush() {
    if (pending_.empty()) return {};
    auto written = write_all(fd_, crypto::as_bytes(pending_), in_place_ ? path_ : temp_);
    crypto::wipe(pending_);  // keeps its capacity, so later writes reuse the same storage
    return written;
}

Status AtomicFile::write(crypto::ByteView data) {
    if (fd_ < 0 || committed_) return make_error(ErrorKind::internal, tr("write to a closed output"));
    if (pending_.empty() && data.size() >= kGather) return write_all(fd_, data, in_place_ ? path_ : temp_);
    // Reserved once, large enough that appending never moves (and so never leaves a copy behind).
    if (pending_.capacity() < 2 * kGather) pending_.reserve(2 * kGather);
    if (pending_.size() + data.size() > 2 * kGather) {
        if (auto s = flush(); !s) return s;
        if (data.size() >= kGather) return write_all(fd_, data, in_place_ ? path_ : temp_);
    }
    pending_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return pending_.size() >= kGather ? flush() : Status{};
}

Status AtomicFile::commit() {
    if (fd_ < 0 || committed_) return make_error(ErrorKind::internal, tr("an output committed twice"));
    if (auto s = flush(); !s) return s;
    const std::string name = path_.string();
    if (in_place_) {
        const int rc = ::close(std::exchange(fd_, -1));
        const int error = errno;
        committed_ = true;
        if (rc != 0) return io_error(tr("cannot write {}", {name}), error);
        return {};
    }
    if (::fsync(fd_) != 0) {
        const int error = errno;
        return io_error(tr("cannot write {}", {name}), error);
    }
    if (::close(std::exchange(fd_, -1)) != 0) {
        const int error = errno;
        return io_error(tr("cannot write {}", {name}), error);
    }
    if (auto s = put_in_place(temp_, path_, existing_); !s) return s;
    committed_ = true;
    sync_folder(path_);
    return {};
}

Status write_file(const std::filesystem::path& path, std::string_view contents, unsigned mode, Existing existing) {
    auto file = AtomicFile::create(path, mode, existing);
    if (!file) return file.error();
    if (auto s = file->write(contents); !s) return s;
    return file->commit();
}

Status place_verified(const std::filesystem::path& from, const std::filesystem::path& to, Existing existing) {
    if (auto s = put_in_place(from, to, existing); !s) return s;
    const auto dir = to.has_parent_path() ? to.parent_path() : std::filesystem::path(".");
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
        if (fd >= 0) ::close(fd);
        return make_error(ErrorKind::io_error, tr("cannot fsync the folder of {}", {to.string()}));
    }
    ::close(fd);
    return {};
}

bool is_plain_file_name(std::string_view name) noexcept {
    // What the gateway accepts as a package's name, and no option look-alike; short enough for
    // the suffixes the files beside it get (".serambi-partial.json", ".manifest.json").
    return policies::is_safe_filename(name) && name.front() != '-' && name.size() <= 230;
}

}  // namespace serambi::cli
