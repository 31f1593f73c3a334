// Files that must be written whole or not at all: the master key, keys and certificates.
#include "storage/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "storage/store.h"

namespace serambi::storage {

Status write_new_file(Env& env, const std::filesystem::path& path, std::string_view contents, unsigned mode) {
    std::unique_ptr<File> file;
    if (const int rc = env.open(path, Env::Open::new_file, false, mode, file); rc != 0) {
        if (rc == EEXIST) return make_error(ErrorKind::conflict, path.filename().string() + " already exists");
        return make_error(ErrorKind::io_error, "cannot create " + path.filename().string() + ": " + std::strerror(rc));
    }
    const auto* data = reinterpret_cast<const std::uint8_t*>(contents.data());
    std::size_t done = 0;
    bool ok = true;
    while (ok && done < contents.size()) {
        const std::int64_t n = file->write(data + done, contents.size() - done);
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ok && file->sync() == 0;
    file.reset();
    if (!ok) {
        env.remove(path);
        return make_error(ErrorKind::io_error, "cannot write " + path.filename().string());
    }
    return {};
}

Status write_new_file(const std::filesystem::path& path, std::string_view contents, unsigned mode) {
    return write_new_file(*Env::posix(), path, contents, mode);
}

Status replace_file(Env& env, const std::filesystem::path& path, std::string_view contents, unsigned mode) {
    const auto temp = path.string() + ".new-" + crypto::random_hex(4);
    if (auto s = write_new_file(env, temp, contents, mode); !s) return s;
    if (const int rc = env.rename(temp, path); rc != 0) {
        env.remove(temp);
        return make_error(ErrorKind::io_error, "cannot replace " + path.string() + ": " + std::strerror(rc));
    }
    // The rename is durable only once the directory is.
    return fsync_directory(env, path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

Status replace_file(const std::filesystem::path& path, std::string_view contents, unsigned mode) {
    return replace_file(*Env::posix(), path, contents, mode);
}

Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return make_error(errno == ENOENT ? ErrorKind::not_found : ErrorKind::io_error,
                          "cannot read " + path.string() + ": " + std::strerror(errno));
    std::string out;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return make_error(ErrorKind::io_error, "cannot read " + path.string());
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit) {
            ::close(fd);
            return make_error(ErrorKind::too_large, path.string() + " is larger than expected");
        }
    }
    ::close(fd);
    return out;
}

Status write_master_key(const std::filesystem::path& path, const crypto::SecretKey& key) {
    // Written digit by digit into one buffer, so that no copy of the key's text is left unwiped.
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * crypto::SecretKey::kBytes + 1);
    for (const auto byte : key.bytes()) {
        hex += kDigits[byte >> 4];
        hex += kDigits[byte & 0x0f];
    }
    hex += '\n';
    auto status = write_new_file(path, hex, 0600);
    crypto::wipe(hex);
    return status;
}

Status write_master_key(const std::filesystem::path& path) {
    return write_master_key(path, crypto::SecretKey::random());
}

Result<crypto::SecretKey> read_master_key(const std::filesystem::path& path) {
    auto text = crypto::read_private_key_file(path, 256);
    if (!text && text.error().kind == ErrorKind::not_found)
        return make_error(ErrorKind::not_found, "master key file " + path.string() + " is missing");
    if (!text) return make_error(text.error().kind, "master key file: " + text.error().message);
    auto hex = text->view();
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.remove_suffix(1);
    auto bytes = crypto::from_hex(hex);
    if (!bytes || bytes->size() != crypto::SecretKey::kBytes)
        return make_error(ErrorKind::invalid_argument, "master key file " + path.string() + " is not 64 hex digits");
    auto key = crypto::SecretKey::from_bytes(*bytes);
    crypto::wipe(*bytes);
    return key;
}

}  // namespace serambi::storage
