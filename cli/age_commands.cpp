// `serambi age`: the age file format from the command line, interoperable with the age tool, so
// that a partner can open what is delivered to it, and a producer seal what it sends, with
// either. Files stream through in 1 MiB pieces; memory does not grow with them.
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "crypto/age.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

namespace age = crypto::age;
constexpr std::size_t kPiece = 1 << 20;

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

struct CloseFile {
    void operator()(std::FILE* f) const noexcept {
        if (f != nullptr && f != stdin && f != stdout) std::fclose(f);
    }
};
using File = std::unique_ptr<std::FILE, CloseFile>;

Result<File> open_input(const std::string& path) {
    if (path.empty() || path == "-") return File(stdin);
    File f(std::fopen(path.c_str(), "rb"));
    if (!f) return make_error(ErrorKind::io_error, tr("cannot read {}", {path}));
    return f;
}

}  // namespace

// Identity files as age-keygen writes them: one identity per line, '#' comments, blank lines.
Result<std::vector<age::Identity>> load_age_identities(const std::vector<std::string>& paths) {
    std::vector<age::Identity> out;
    for (const auto& path : paths) {
        auto text = crypto::read_secret_file(path, 1 << 20);
        if (!text) return text.error();
        auto ids = age::parse_identity_file(*text);
        if (!ids) return bad(path + ":" + ids.error().message);
        for (auto& id : *ids) out.push_back(std::move(id));
    }
    if (out.empty()) return bad(tr("no identity in the identity files given"));
    return out;
}

namespace {

// Where the output goes: a temporary file beside the target, renamed into place only when the
// whole input went through (for decryption: only once every chunk authenticated), or stdout.
class Output {
  public:
    static Result<Output> open(const std::string& path) {
        Output o;
        if (path.empty() || path == "-") return o;
        auto file = AtomicFile::create(path, 0600);
        if (!file) return file.error();
        o.file_.emplace(std::move(file).value());
        return o;
    }
    Status write(const crypto::Bytes& bytes) {
        if (file_) return file_->write(crypto::ByteView(bytes));
        if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size())
            return make_error(ErrorKind::io_error, tr("cannot write standard output"));
        return {};
    }
    Status commit() {
        if (file_) return file_->commit();
        if (std::fflush(stdout) != 0) return make_error(ErrorKind::io_error, tr("cannot write standard output"));
        return {};
    }

  private:
    std::optional<AtomicFile> file_;  // none: standard output
};

// Feeds the input through `step` in pieces, then `last`, writing what they produce. Each piece
// is written on a second thread while the next is read and sealed (or opened): writing costs
// about as much as the cipher, and the two then share the machine's cores.
template <typename Step, typename Last>
Status pump(std::FILE* in, Output& out, Step step, Last last) {
    std::vector<std::uint8_t> buf(kPiece);
    crypto::Bytes produced, writing;
    std::future<Status> written = std::async(std::launch::deferred, [] { return Status{}; });
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;) {
        produced.clear();
        if (auto s = step(crypto::ByteView(buf.data(), n), produced); !s) {
            written.wait();
            return s;
        }
        if (auto s = written.get(); !s) return s;
        std::swap(produced, writing);
        written = std::async(std::launch::async, [&out, &writing] { return out.write(writing); });
    }
    if (auto s = written.get(); !s) return s;
    if (std::ferror(in)) return make_error(ErrorKind::io_error, tr("cannot read the input"));
    produced.clear();
    if (auto s = last(produced); !s) return s;
    return out.write(produced);
}

}  // namespace

namespace {

// The identity file's text, built in one reserved string so that no copy of the secret is left
// in freed memory.
std::string identity_file_text(const age::Identity& id, const std::string& recipient) {
    std::string secret = id.encode();
    std::string text;
    text.reserve(256);
    text += "# created: ";
    text += utc_now();
    text += "\n# public key: ";
    text += recipient;
    text += "\n";
    text += secret;
    text += "\n";
    crypto::wipe(secret);
    return text;
}

}  // namespace

Result<std::string> create_age_identity_file(const std::filesystem::path& path) {
    const auto id = age::Identity::generate();
    const auto recipient = age::encode_recipient(id.recipient());
    std::string text = identity_file_text(id, recipient);
    auto written = write_file(path, text, 0600, Existing::refuse);
    crypto::wipe(text);
    if (!written) return written.error();
    return recipient;
}

int run_age_keygen(const AgeOptions& options) {
    const std::string command = "age keygen";
    std::string recipient;
    if (options.output.empty() || options.output == "-") {
        const auto id = age::Identity::generate();
        recipient = age::encode_recipient(id.recipient());
        std::string text = identity_file_text(id, recipient);
        std::cout << text << std::flush;
        crypto::wipe(text);
    } else {
        auto made = create_age_identity_file(options.output);
        if (!made) return report(command, made.error());
        recipient = *made;
    }
    std::cerr << "Public key: " << recipient << "\n";
    return 0;
}

int run_age_recipient(const AgeOptions& options) {
    auto ids = load_age_identities(options.identities);
    if (!ids) return report("age recipient", ids.error());
    for (const auto& id : *ids) std::cout << age::encode_recipient(id.recipient()) << "\n";
    return 0;
}

Status age_encrypt_file(const std::vector<std::string>& recipient_texts, const std::string& input,
                        const std::string& output) {
    std::vector<age::Recipient> recipients;
    for (const auto& text : recipient_texts) {
        auto r = age::parse_recipient(text);
        if (!r) return bad(tr("'{}' is not an age X25519 recipient (age1…)", {text}));
        recipients.push_back(*r);
    }
    auto in = open_input(input);
    if (!in) return in.error();
    auto out = Output::open(output);
    if (!out) return out.error();
    auto encryptor = age::Encryptor::create(recipients);
    if (!encryptor) return encryptor.error();
    if (auto s = out->write(encryptor->header()); !s) return s;
    auto s = pump(
        in->get(), *out,
        [&](crypto::ByteView piece, crypto::Bytes& produced) { return encryptor->update(piece, produced); },
        [&](crypto::Bytes& produced) { return encryptor->finish(produced); });
    if (!s) return s;
    return out->commit();
}

Status age_decrypt_file(const std::vector<std::string>& identity_files, const std::string& input,
                        const std::string& output) {
    auto ids = load_age_identities(identity_files);
    if (!ids) return ids.error();
    std::vector<const age::Identity*> pointers;
    for (const auto& id : *ids) pointers.push_back(&id);
    auto in = open_input(input);
    if (!in) return in.error();
    auto out = Output::open(output);
    if (!out) return out.error();
    age::Decryptor decryptor(pointers);
    auto s = pump(
        in->get(), *out,
        [&](crypto::ByteView piece, crypto::Bytes& produced) { return decryptor.update(piece, produced); },
        [&](crypto::Bytes& produced) { return decryptor.finish(produced); });
    if (!s) return s;
    return out->commit();
}

int run_age_encrypt(const AgeOptions& options) {
    if (auto s = age_encrypt_file(options.recipients, options.input, options.output); !s)
        return report("age encrypt", s.error());
    return 0;
}

int run_age_decrypt(const AgeOptions& options) {
    if (auto s = age_decrypt_file(options.identities, options.input, options.output); !s)
        return report("age decrypt", s.error());
    return 0;
}

}  // namespace serambi::cli
