// The state file: a few lines of text an operator can read, that the gateway trusts over the
// database when the two disagree about what was already published.
//
//   serambi-state v1
//   checkpoint <size> <base64 root>
//   revoked <serial hex>        (one line per revoked certificate)
#include <algorithm>
#include <charconv>
#include <sstream>

#include "crypto/tlog.h"
#include "storage/files.h"
#include "storage/store.h"

namespace serambi::storage {
namespace {

constexpr std::string_view kMagic = "serambi-state v1";

bool is_serial(std::string_view text) {
    return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    });
}

Error damaged(const std::filesystem::path& path, std::size_t line, const std::string& why) {
    return make_error(ErrorKind::corruption, "the state file " + path.string() + " is damaged at line " +
                                                 std::to_string(line) + " (" + why + ")");
}

std::string render(const StateFile::Contents& c) {
    std::string out(kMagic);
    out += "\ncheckpoint " + std::to_string(c.checkpoint_size) + " " + crypto::to_base64(c.checkpoint_root) + "\n";
    for (const auto& serial : c.revoked) out += "revoked " + serial + "\n";
    return out;
}

}  // namespace

Result<std::optional<StateFile::Contents>> StateFile::read(const std::filesystem::path& path) {
    auto text = read_small_file(path, 16 << 20);
    if (!text) {
        if (text.error().kind == ErrorKind::not_found) return std::optional<Contents>{};
        return text.error();
    }
    Contents contents;
    std::istringstream in(*text);
    std::string line;
    std::size_t number = 0;
    bool has_checkpoint = false;
    while (std::getline(in, line)) {
        ++number;
        if (number == 1) {
            if (line != kMagic) return damaged(path, number, "it does not start with '" + std::string(kMagic) + "'");
            continue;
        }
        std::string_view view(line);
        if (view.starts_with("checkpoint ")) {
            view.remove_prefix(11);
            const auto space = view.find(' ');
            if (space == std::string_view::npos || has_checkpoint)
                return damaged(path, number, "a bad checkpoint line");
            const auto size_text = view.substr(0, space);
            const auto [end, ec] =
                std::from_chars(size_text.data(), size_text.data() + size_text.size(), contents.checkpoint_size);
            auto root = crypto::from_base64(view.substr(space + 1));
            if (ec != std::errc() || end != size_text.data() + size_text.size() || !root || root->size() != 32)
                return damaged(path, number, "a bad checkpoint line");
            std::copy(root->begin(), root->end(), contents.checkpoint_root.begin());
            has_checkpoint = true;
        } else if (view.starts_with("revoked ")) {
            view.remove_prefix(8);
            if (!is_serial(view)) return damaged(path, number, "a bad serial");
            contents.revoked.emplace(view);
        } else {
            return damaged(path, number, "an unknown line");
        }
    }
    if (!has_checkpoint) return damaged(path, number, "no checkpoint line");
    return std::optional<Contents>{std::move(contents)};
}

StateFile::StateFile(std::filesystem::path path, Contents contents, std::shared_ptr<Env> env)
    : path_(std::move(path)), env_(env ? std::move(env) : Env::posix()), contents_(std::move(contents)) {}

StateFile::Contents StateFile::contents() const {
    std::lock_guard lock(mutex_);
    return contents_;
}

Status StateFile::write_locked(const Contents& next) {
    return replace_file(*env_, path_, render(next), 0600);  // durable, directory included
}

Status StateFile::record_checkpoint(std::uint64_t size, const crypto::tlog::Hash& root) {
    std::lock_guard lock(mutex_);
    // The log only grows: a smaller tree, or another tree of the same size, is a fork, and is
    // not to be signed.
    if (size < contents_.checkpoint_size)
        return make_error(ErrorKind::conflict, "the log is smaller than the checkpoint already published");
    if (size == contents_.checkpoint_size) {
        if (root == contents_.checkpoint_root) return {};
        return make_error(ErrorKind::conflict, "the log differs from the checkpoint already published at its size");
    }
    Contents next = contents_;
    next.checkpoint_size = size;
    next.checkpoint_root = root;
    if (auto s = write_locked(next); !s) return s;
    contents_ = std::move(next);
    return {};
}

Status StateFile::record_revoked(const std::string& serial_hex) {
    std::lock_guard lock(mutex_);
    if (!is_serial(serial_hex)) return make_error(ErrorKind::invalid_argument, "not a certificate serial");
    if (contents_.revoked.count(serial_hex) != 0) return {};
    Contents next = contents_;
    next.revoked.insert(serial_hex);
    if (auto s = write_locked(next); !s) return s;
    contents_ = std::move(next);
    return {};
}

Status StateFile::replace(Contents contents) {
    std::lock_guard lock(mutex_);
    if (auto s = write_locked(contents); !s) return s;
    contents_ = std::move(contents);
    return {};
}

}  // namespace serambi::storage
