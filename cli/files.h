// Internal: the one way the CLI writes files. Users save outputs in folders others may write too
// (a shared download folder, /tmp); a name planted there must never make us write elsewhere.
//
// Every output is written to a new temporary file beside its target (random name, created with
// O_CREAT | O_EXCL | O_NOFOLLOW and the final mode), fsynced, then moved over the target with
// rename(2), and the folder fsynced. rename replaces a symbolic or hard link at the target itself
// instead of writing to what it points to, and a reader sees the old file or the whole new one.
// An output that must not replace anything is put in place with renameat2(RENAME_NOREPLACE) (or
// link(2) where the file system lacks it), which refuses an existing name, a link included, in
// the same step that creates it.
//
// A pipe or a character device named directly (not through a link), such as /dev/null or a FIFO
// another program reads, cannot be renamed over: it is written in place. A link to one, or to a
// folder, is refused: following it could hand the data to whoever reads the pipe, or overwrite a
// disk.
#pragma once

#include <filesystem>
#include <string_view>

#include "crypto/crypto.h"

namespace serambi::cli {

enum class Existing {
    replace,  // an existing file or link at the path is replaced
    refuse,   // an existing file or link is an error (conflict) and is left as it is
};

// An output being written; nothing is at its path until commit(). Dropping it uncommitted
// removes the temporary file.
class AtomicFile {
  public:
    static Result<AtomicFile> create(const std::filesystem::path& path, unsigned mode,
                                     Existing existing = Existing::replace);
    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&&) = delete;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    Status write(crypto::ByteView data);
    Status write(std::string_view text) { return write(crypto::as_bytes(text)); }
    // The open descriptor, for fchown and write-back hints; never closed by the caller.
    int fd() const noexcept { return fd_; }
    // True when the bytes go straight to a pipe or device named by the path.
    bool in_place() const noexcept { return in_place_; }
    const std::filesystem::path& path() const noexcept { return path_; }
    // Flushes, fsyncs, puts the file in place and fsyncs its folder. Call once.
    Status commit();

  private:
    AtomicFile() = default;
    Status flush();

    std::filesystem::path path_;
    std::filesystem::path temp_;
    int fd_ = -1;
    Existing existing_ = Existing::replace;
    bool in_place_ = false;
    bool committed_ = false;
    // Small writes (an export's lines) are gathered here and wiped once written.
    std::string pending_;
};

// Puts a finished, fsynced file of ours (a verified download's partial file, beside its target)
// in place of `to` with rename(2), which replaces a link at `to` rather than following it (or,
// `refuse`, only where no name is), and fsyncs the folder.
Status place_verified(const std::filesystem::path& from, const std::filesystem::path& to,
                      Existing existing = Existing::replace);

// Whether a name someone else chose (a package's filename) is safe to create in the current
// folder: one path component, no control characters, not hidden (a dot file such as .profile
// could run at the next login) and not taken for an option.
bool is_plain_file_name(std::string_view name) noexcept;

// The whole of `contents` as the file `path`, through an AtomicFile.
Status write_file(const std::filesystem::path& path, std::string_view contents, unsigned mode,
                  Existing existing = Existing::replace);

}  // namespace serambi::cli
