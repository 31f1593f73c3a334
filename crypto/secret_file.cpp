// Secrets of any length in libsodium's guarded memory, and reading them from files without a
// copy anywhere else: no stack buffer, no std::string that grows and leaves its old storage
// behind unwiped.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "crypto/crypto.h"

namespace serambi::crypto {

SecretBuffer::SecretBuffer(std::size_t size) {
    if (size == 0) return;
    data_ = static_cast<std::uint8_t*>(sodium_malloc(size));
    if (data_ == nullptr) throw std::bad_alloc();
    sodium_memzero(data_, size);  // sodium_malloc fills with a marker byte, not zeroes
    size_ = capacity_ = size;
}

SecretBuffer SecretBuffer::copy_of(std::string_view text) {
    SecretBuffer out(text.size());
    if (!text.empty()) std::memcpy(out.data_, text.data(), text.size());
    return out;
}

SecretBuffer::SecretBuffer(std::string&& text) : SecretBuffer(copy_of(text)) { wipe(text); }

SecretBuffer::SecretBuffer(SecretBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) sodium_free(data_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
}

SecretBuffer::~SecretBuffer() {
    if (data_ != nullptr) sodium_free(data_);  // wipes the whole allocation, then unlocks and frees
}

SecretBuffer SecretBuffer::copy() const { return copy_of(view()); }

void SecretBuffer::shrink(std::size_t size) noexcept {
    if (size >= size_) return;
    sodium_memzero(data_ + size, size_ - size);
    size_ = size;
}

namespace {

// What a private key's file must be, given its fstat: nothing when it is.
std::optional<Error> not_private(const std::string& name, const struct stat& st) {
    // Root reads every file anyway (fsck run by an administrator): refusing it would protect nothing.
    if (st.st_uid != ::geteuid() && ::geteuid() != 0)
        return make_error(ErrorKind::permission_denied, name + " belongs to uid " + std::to_string(st.st_uid) +
                                                            ", not to the user the gateway runs as (uid " +
                                                            std::to_string(::geteuid()) + "); run: chown " +
                                                            std::to_string(::geteuid()) + " " + name);
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(ErrorKind::permission_denied,
                          name + " may be read by group or others (mode " + mode + "); run: chmod 600 " + name);
    }
    return std::nullopt;
}

Result<SecretBuffer> read_file(const std::filesystem::path& path, std::size_t limit, bool must_be_private) {
    const std::string name = path.string();
    // Non-blocking so that opening a FIFO planted at the path returns at once (and is refused
    // below) instead of waiting for a writer; it changes nothing for a regular file.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        const int e = errno;
        return make_error(e == ENOENT   ? ErrorKind::not_found
                          : e == EACCES ? ErrorKind::permission_denied
                                        : ErrorKind::io_error,
                          "cannot read " + name + ": " + std::strerror(e));
    }
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_fd{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return make_error(ErrorKind::io_error, "cannot read " + name + ": " + std::strerror(errno));
    // A FIFO or a device has no size to go by, and could feed us without end.
    if (!S_ISREG(st.st_mode)) return make_error(ErrorKind::invalid_argument, name + " is not a regular file");
    if (must_be_private)
        if (auto refused = not_private(name, st)) return *refused;
    if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > limit)
        return make_error(ErrorKind::too_large, name + " is larger than expected");
    // One byte more than fstat promised, so that a file still growing is noticed in place rather
    // than by reading its excess into some other buffer.
    const auto expected = static_cast<std::size_t>(st.st_size);
    SecretBuffer out(expected + 1);
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::read(fd, out.bytes().data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(ErrorKind::io_error, "cannot read " + name + ": " + std::strerror(errno));
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    if (done > expected) return make_error(ErrorKind::io_error, name + " changed while it was being read");
    out.shrink(done);
    return out;
}

}  // namespace

Result<SecretBuffer> read_secret_file(const std::filesystem::path& path, std::size_t limit) {
    return read_file(path, limit, false);
}

Result<SecretBuffer> read_private_key_file(const std::filesystem::path& path, std::size_t limit) {
    return read_file(path, limit, true);
}

}  // namespace serambi::crypto
