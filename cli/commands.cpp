// The package verbs (push, pull, verify, dataset and package lists) and what every verb shares:
// connecting through a profile and reporting in plain words.
#include "cli/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "certs/certs.h"
#include "cli/client.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "cli/transfer.h"
#include "crypto/age.h"
#include "policies/policy.h"
#include "storage/store.h"

namespace serambi::cli {

int report(const std::string& command, const Error& error) {
    // A message may carry a gateway's or a file's words: no control sequence reaches the
    // terminal, but a message of several lines keeps them.
    std::string text;
    for (std::size_t at = 0;;) {
        const auto nl = error.message.find('\n', at);
        text += for_terminal(std::string_view(error.message).substr(at, nl == std::string::npos ? nl : nl - at));
        if (nl == std::string::npos) break;
        text += '\n';
        at = nl + 1;
    }
    std::cerr << "serambi " << command << ": " << text << "\n";
    return 1;
}

int report_reply(const std::string& command, const Reply& reply) {
    std::cerr << "serambi " << command << ": " << tr("the gateway refused: {}", {for_terminal(describe_failure(reply))})
              << "\n";
    return 1;
}

Result<std::unique_ptr<Client>> connect(const std::string& profile_flag, Profile* out) {
    auto profile = find_profile(profile_flag);
    if (!profile) return profile.error();
    if (out) *out = *profile;
    return Client::connect(*profile);
}

// One JSON request; prints the body on success.
int simple_request(const std::string& command, const std::string& profile, const std::string& method,
                   const std::string& target, const std::string& body, int expected) {
    auto client = connect(profile);
    if (!client) return report(command, client.error());
    auto reply = (*client)->request(method, target, body);
    if (!reply) return report(command, reply.error());
    if (reply->status != expected) return report_reply(command, *reply);
    print_body(reply->body);
    return 0;
}

void print_body(const std::string& body) {
    // Exactly as the gateway sent it to a script; cleaned of control sequences for a terminal.
    if (::isatty(STDOUT_FILENO) == 1)
        std::cout << for_terminal(body.substr(0, body.find_last_not_of('\n') + 1)) << "\n";
    else
        std::cout << body;
}

namespace {

std::string guess_media_type(const std::filesystem::path& file) {
    std::string ext = file.extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static const std::pair<const char*, const char*> table[] = {
        {".csv", "text/csv"},
        {".json", "application/json"},
        {".pdf", "application/pdf"},
        {".txt", "text/plain"},
        {".xml", "application/xml"},
        {".zip", "application/zip"},
        {".gz", "application/gzip"},
        {".parquet", "application/vnd.apache.parquet"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {".age", "application/age"}};
    for (const auto& [e, type] : table)
        if (ext == e) return type;
    return "application/octet-stream";
}

struct ManifestFacts {
    std::string id, dataset, classification, filename;
    std::uint64_t size = 0;
    std::string sha256_hex;
};

// Checks the signature first, then reads the facts the payload must match.
Result<ManifestFacts> verified_manifest(const std::string& manifest, const std::string& signature,
                                        const std::string& ca_pem) {
    if (auto s = certs::verify_signature(crypto::as_bytes(manifest), crypto::as_bytes(signature), ca_pem); !s)
        return make_error(ErrorKind::corruption,
                          tr("the manifest signature does not verify against the CA: {}", {s.error().message}));
    boost::system::error_code ec;
    auto value = boost::json::parse(manifest, ec);
    if (ec || !value.is_object()) return make_error(ErrorKind::corruption, tr("the manifest is not a JSON object"));
    const auto& o = value.as_object();
    ManifestFacts facts;
    auto text = [&](const char* key, std::string& out) {
        const auto* v = o.if_contains(key);
        if (v && v->is_string()) out = std::string(v->get_string());
        return v && v->is_string();
    };
    const auto* size = o.if_contains("size");
    if (!text("id", facts.id) || !text("dataset", facts.dataset) || !text("sha256", facts.sha256_hex) ||
        !text("classification", facts.classification) || !text("filename", facts.filename) || size == nullptr ||
        !(size->is_uint64() || size->is_int64()))
        return make_error(ErrorKind::corruption, tr("the manifest lacks id, dataset, size or sha256"));
    facts.size = size->is_uint64() ? size->get_uint64() : static_cast<std::uint64_t>(size->get_int64());
    return facts;
}

// Hashes and writes what arrives to a temporary file that becomes the output only once checked
// (AtomicFile: a link at the output is replaced, never written through). A pipe or device named
// as the output is written in place, since it cannot be renamed over.
class VerifiedFile {
  public:
    explicit VerifiedFile(std::filesystem::path output, Existing existing = Existing::replace)
        : output_(std::move(output)), existing_(existing) {}
    Status open() {
        auto file = AtomicFile::create(output_, 0600, existing_);  // the payload is the user's alone
        if (!file) return file.error();
        file_.emplace(std::move(file).value());
        return {};
    }
    // True when the bytes went straight to the output, before they could be checked.
    bool in_place() const { return file_ && file_->in_place(); }
    Status write(crypto::ByteView data) {
        digest_.update(data);
        size_ += data.size();
        if (auto s = file_->write(data); !s) return s;
        // Start writing back what is written so far, so that the fsync before the rename does
        // not find a gigabyte of dirty pages to flush at once.
        if (!in_place() && size_ - flushed_ >= kWriteBackBytes) {
            ::sync_file_range(file_->fd(), static_cast<off_t>(flushed_), static_cast<off_t>(size_ - flushed_),
                              SYNC_FILE_RANGE_WRITE);
            flushed_ = size_;
        }
        return {};
    }
    std::uint64_t size() const { return size_; }
    std::string finish_digest() { return crypto::to_hex(digest_.finish()); }
    Status keep() { return file_->commit(); }

  private:
    std::filesystem::path output_;
    Existing existing_;
    std::optional<AtomicFile> file_;
    crypto::Sha256 digest_;
    std::uint64_t size_ = 0;
    static constexpr std::uint64_t kWriteBackBytes = 8 << 20;
    std::uint64_t flushed_ = 0;  // bytes handed to write-back
};

}  // namespace

int run_dataset_create(const DatasetCreateOptions& options) {
    const auto slash = options.id.find('/');
    const std::string owner_part = slash == std::string::npos ? "" : options.id.substr(0, slash);
    if (!options.owner.empty() && options.owner != owner_part)
        return report("dataset create",
                      make_error(ErrorKind::invalid_argument, tr("--owner must match the OWNER part of OWNER/NAME")));
    const boost::json::object body{{"id", options.id},
                                   {"owner", owner_part},
                                   {"classification", options.classification},
                                   {"title", options.title}};
    return object_request("dataset create", options.profile, "POST", "/v1/datasets", boost::json::serialize(body), 201,
                          options.json, [](const Fields& f) {
                              return say(Msg::dataset_created, {f("id"), f("classification"), f("title"), f("owner")});
                          });
}

int run_dataset_list(const std::string& profile, bool json) {
    return list_request("dataset list", profile, "/v1/datasets",
                        {{static_cast<int>(Msg::column_dataset), "id"},
                         {static_cast<int>(Msg::column_class), "classification"},
                         {static_cast<int>(Msg::column_title), "title"},
                         {static_cast<int>(Msg::column_time), "created_at", Column::time}},
                        json);
}

int run_package_list(const std::string& profile, const std::string& dataset, bool json) {
    const auto slash = dataset.find('/');
    if (slash == std::string::npos || !policies::is_slug_like(dataset.substr(0, slash)) ||
        !policies::is_slug_like(dataset.substr(slash + 1)))
        return report("dataset packages",
                      make_error(ErrorKind::invalid_argument, tr("the dataset must be OWNER/NAME")));
    return list_request("dataset packages", profile, "/v1/datasets/" + dataset + "/packages",
                        {{static_cast<int>(Msg::column_package), "package_id"},
                         {static_cast<int>(Msg::column_time), "created_at", Column::time},
                         {static_cast<int>(Msg::column_class), "classification"},
                         {static_cast<int>(Msg::column_size), "size", Column::size},
                         {static_cast<int>(Msg::column_access), "access"},
                         {static_cast<int>(Msg::column_file), "filename"}},
                        json);
}

namespace {

// The profile's pinned recipients: "ID age1…" per line.
std::map<std::string, std::string> read_recipient_pins(const std::filesystem::path& profile_dir) {
    std::map<std::string, std::string> pins;
    auto text = storage::read_small_file(profile_dir / "recipients.pinned", 1 << 20);
    if (!text) return pins;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string id, recipient;
        if (fields >> id >> recipient) pins[id] = recipient;
    }
    return pins;
}

Status write_recipient_pins(const std::filesystem::path& profile_dir, const std::map<std::string, std::string>& pins) {
    std::string text = "# age recipients this profile has sealed sangat-rahasia packages to (serambi push --to)\n";
    for (const auto& [id, recipient] : pins) text += id + " " + recipient + "\n";
    return write_file(profile_dir / "recipients.pinned", text, 0644);
}

}  // namespace

namespace {

Result<std::string> sha256_of_file(const std::filesystem::path& file) {
    std::FILE* in = std::fopen(file.c_str(), "rb");
    if (in == nullptr) return make_error(ErrorKind::io_error, tr("cannot read {}", {file.string()}));
    crypto::Sha256 digest;
    std::vector<std::uint8_t> buf(1 << 20);
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;) digest.update({buf.data(), n});
    const bool ok = std::ferror(in) == 0;
    std::fclose(in);
    if (!ok) return make_error(ErrorKind::io_error, tr("cannot read {}", {file.string()}));
    return crypto::to_hex(digest.finish());
}

// The id of the dataset's newest package if it is this file, else empty. The file's digest is
// waited for only when the sizes agree.
Result<std::string> newest_if_same(Client& client, const std::string& dataset, std::uint64_t size,
                                   std::shared_future<Result<std::string>>& digest) {
    auto reply = client.request("GET", "/v1/packages?dataset=" + dataset + "&limit=1", "");
    if (!reply) return reply.error();
    if (reply->status != 200) return std::string();  // the push itself will say what is wrong
    boost::system::error_code ec;
    auto v = boost::json::parse(reply->body, ec);
    if (ec || !v.is_array() || v.as_array().empty() || !v.as_array()[0].is_object()) return std::string();
    const auto& newest = v.as_array()[0].as_object();
    const auto* sha = newest.if_contains("sha256");
    const auto* id = newest.if_contains("package_id");
    const auto* bytes = newest.if_contains("size");
    if (!sha || !sha->is_string() || !id || !id->is_string() || !bytes || !bytes->is_number()) return std::string();
    boost::system::error_code number_ec;
    if (bytes->to_number<std::uint64_t>(number_ec) != size || number_ec) return std::string();
    auto mine = digest.get();  // a copy: Result has no const access
    if (!mine) return mine.error();
    return sha->as_string() == *mine ? std::string(id->as_string()) : std::string();
}

// Asks on the terminal; without one (a script), the answer is no.
bool confirm(const std::string& question) {
    if (::isatty(STDIN_FILENO) != 1 || ::isatty(STDERR_FILENO) != 1) return false;
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes" || answer == "ya";
}

}  // namespace

namespace {

// A receipt as one line for people: what went where, how big, which package, which log entry.
std::string receipt_summary(const std::string& receipt, const std::string& filename, const std::string& dataset) {
    boost::system::error_code ec;
    auto v = boost::json::parse(receipt, ec);
    const auto* o = !ec && v.is_object() ? &v.as_object() : nullptr;
    auto number = [&](const char* name) -> std::optional<std::uint64_t> {
        const auto* f = o ? o->if_contains(name) : nullptr;
        if (f && f->is_uint64()) return f->get_uint64();
        if (f && f->is_int64() && f->get_int64() >= 0) return static_cast<std::uint64_t>(f->get_int64());
        return std::nullopt;
    };
    const auto* id = o ? o->if_contains("package_id") : nullptr;
    const std::string package =
        id && id->is_string() && storage::is_package_id(id->get_string()) ? std::string(id->get_string()) : "?";
    const auto size = number("size");
    const auto index = number("audit_index");
    std::string line =
        say(Msg::push_sent, {for_terminal(filename), dataset,
                             size ? size_for_people(static_cast<double>(*size)) : std::string("?"), package});
    if (index) line += say(Msg::push_log_index, {std::to_string(*index)});
    return line;
}

}  // namespace

int run_push(const PushOptions& options) {
    if (options.files.size() > 1 && !options.proof_output.empty())
        return report("push", make_error(ErrorKind::invalid_argument,
                                         tr("--proof names one file: with several files, each proof is kept beside "
                                            "its file")));
    // Each file is its own package; one that fails does not stop the others.
    std::vector<std::string> failed;
    for (const auto& file : options.files) {
        PushOptions one = options;
        one.file = file;
        if (push_file(one) != 0) failed.push_back(file);
    }
    if (options.files.size() > 1) {
        std::string names;
        for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
        std::cerr << "serambi push: "
                  << say(Msg::push_count,
                         {std::to_string(options.files.size() - failed.size()), std::to_string(options.files.size())})
                  << (failed.empty() ? "" : say(Msg::push_not_sent, {names})) << "\n";
    }
    return failed.empty() ? 0 : 1;
}

int push_file(const PushOptions& options) {
    const std::string command = "push";
    const auto slash = options.dataset.find('/');
    if (slash == std::string::npos || !policies::is_slug_like(options.dataset.substr(0, slash)) ||
        !policies::is_slug_like(options.dataset.substr(slash + 1)))
        return report(command, make_error(ErrorKind::invalid_argument, tr("the dataset must be OWNER/NAME")));
    const std::filesystem::path file(options.file);
    if (!std::filesystem::is_regular_file(file))
        return report(command, make_error(ErrorKind::invalid_argument, tr("{} is not a regular file", {options.file})));
    Profile me;
    auto client = with_retries([&] { return connect(options.profile, &me); }, "push");
    if (!client) return report(command, client.error());
    // The file's digest, on a thread of its own while the file is sent: it tells a repeat of the
    // dataset's newest package (waited for only if the sizes agree) and checks the receipt.
    std::shared_future<Result<std::string>> file_digest =
        std::async(std::launch::async, [file] { return sha256_of_file(file); }).share();
    struct stat identity {};
    if (::stat(file.c_str(), &identity) != 0)
        return report(command, make_error(ErrorKind::io_error, tr("cannot read {}", {options.file})));
    std::map<std::string, std::string> headers{
        {"Serambi-Filename", file.filename().string()},
        {"Content-Type", options.media_type.empty() ? guess_media_type(file) : options.media_type}};
    if (!options.classification.empty()) headers["Serambi-Classification"] = options.classification;
    // Named recipients: the payload is age-encrypted here, to them and to the producer, so that the
    // gateway only ever holds ciphertext. A file that is already an age file goes as it is.
    std::filesystem::path upload_file = file;
    std::error_code size_ec;
    const bool resumable = options.resumable || std::filesystem::file_size(file, size_ec) >= kResumableBytes;
    // Names the push across runs: everything the upload is created with, so that a run with
    // other readers, another level or another type never continues an upload made for the first.
    std::string named_readers;
    for (const auto& r : options.recipients) named_readers += r + ",";
    // The file is named by what the file system says of it (device, inode, size, change time):
    // the same unchanged file, without reading it first.
    const std::string file_identity = std::to_string(identity.st_dev) + ":" + std::to_string(identity.st_ino) + ":" +
                                      std::to_string(identity.st_size) + ":" + std::to_string(identity.st_mtim.tv_sec) +
                                      "." + std::to_string(identity.st_mtim.tv_nsec) + ":" +
                                      std::to_string(identity.st_ctim.tv_sec) + "." +
                                      std::to_string(identity.st_ctim.tv_nsec);
    const std::string resume_key =
        crypto::to_hex(crypto::Sha256::of(crypto::as_bytes(options.dataset + "\n" + file_identity + "\n" +
                                                           file.filename().string() + "\n" + named_readers + "\n" +
                                                           options.classification + "\n" + options.media_type)))
            .substr(0, 32);
    std::filesystem::path kept_age;
    struct RemoveTemp {
        std::filesystem::path p;
        ~RemoveTemp() {
            std::error_code ec;
            if (!p.empty()) std::filesystem::remove(p, ec);
        }
    } temp;
    if (!options.recipients.empty()) {
        std::string named;
        std::vector<std::string> age_recipients;
        std::vector<std::string> readers = options.recipients;
        if (std::find(readers.begin(), readers.end(), me.principal) == readers.end()) readers.push_back(me.principal);
        // Recipients are pinned in the profile at first use (trust on first use, like SSH host
        // keys): a recipient the gateway later reports differently could be one substituted to
        // read what is sealed to it, so it is refused until the user says it was expected.
        auto pins = read_recipient_pins(me.dir);
        bool pins_changed = false;
        for (const auto& r : readers) {
            if (!policies::is_slug_like(r))
                return report(command,
                              make_error(ErrorKind::invalid_argument, tr("--to takes principal ids, not '{}'", {r})));
            if (r != me.principal ||
                std::find(options.recipients.begin(), options.recipients.end(), r) != options.recipients.end())
                named += (named.empty() ? "" : ",") + r;
            std::string text;
            if (r == me.principal && std::filesystem::exists(me.dir / "age.key")) {
                // The producer's own recipient comes from its own identity, not from the gateway.
                auto mine = load_age_identities({(me.dir / "age.key").string()});
                if (!mine) return report(command, mine.error());
                text = crypto::age::encode_recipient(mine->front().recipient());
            } else {
                auto got = (*client)->request("GET", "/v1/principals/" + r + "/recipient", "");
                if (!got) return report(command, got.error());
                if (got->status != 200)
                    return report(
                        command,
                        make_error(
                            ErrorKind::invalid_argument,
                            tr("{} has no age recipient registered; it cannot be sent sangat-rahasia data", {r})));
                text = got->body;
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
                if (!crypto::age::parse_recipient(text))
                    return report(command, make_error(ErrorKind::corruption,
                                                      tr("the gateway gave a malformed recipient for {}", {r})));
                const auto pinned = pins.find(r);
                if (pinned != pins.end() && pinned->second != text && !options.accept_new_recipients)
                    return report(command, make_error(ErrorKind::conflict,
                                                      tr("the age recipient of {} changed from {} to {}; if {} told "
                                                         "you so, push again with --accept-new-recipients",
                                                         {r, pinned->second, text, r})));
                if (pinned == pins.end() || pinned->second != text) {
                    pins[r] = text;
                    pins_changed = true;
                }
            }
            age_recipients.push_back(text);
        }
        if (pins_changed)
            if (auto s = write_recipient_pins(me.dir, pins); !s) return report(command, s.error());
        headers["Serambi-Recipients"] = named;
        headers["Content-Type"] = "application/age";
        std::string magic(22, '\0');
        std::FILE* f = std::fopen(options.file.c_str(), "rb");
        const bool is_age = f != nullptr && std::fread(magic.data(), 1, magic.size(), f) == magic.size() &&
                            magic == "age-encryption.org/v1\n";
        if (f != nullptr) std::fclose(f);
        if (!is_age) {
            if (resumable) {
                // A resumed upload must send the very bytes the first run began with: the
                // encryption is kept beside the upload's state until the push completes.
                kept_age = upload_state_dir(me) / (resume_key + ".age");
                std::error_code ec;
                if (!std::filesystem::exists(kept_age, ec)) {
                    std::filesystem::remove(upload_state_dir(me) / (resume_key + ".json"), ec);
                    std::filesystem::create_directories(upload_state_dir(me), ec);
                    temp.p = kept_age;  // removed if this run fails before the upload begins
                    if (auto s = age_encrypt_file(age_recipients, options.file, kept_age.string()); !s)
                        return report(command, s.error());
                    temp.p.clear();
                }
                upload_file = kept_age;
            } else {
                temp.p = std::filesystem::temp_directory_path() / ("serambi-push-" + crypto::random_hex(8) + ".age");
                if (auto s = age_encrypt_file(age_recipients, options.file, temp.p.string()); !s)
                    return report(command, s.error());
                upload_file = temp.p;
            }
            headers["Serambi-Filename"] = file.filename().string() + ".age";
        }
    } else if (!options.allow_duplicate) {
        auto ask = [&]() -> Result<std::string> {
            if (!*client) {
                auto again = connect(options.profile, &me);
                if (!again) return again.error();
                *client = std::move(*again);
            }
            auto newest =
                newest_if_same(**client, options.dataset, static_cast<std::uint64_t>(identity.st_size), file_digest);
            if (!newest) client->reset();  // the connection may be gone: the next attempt makes a new one
            return newest;
        };
        if (auto repeat = with_retries(ask, "push"); !repeat) {
            return report(command, repeat.error());
        } else if (!repeat->empty() &&
                   !confirm(tr("the dataset's newest package ({}) is this same file. Send it again?",
                               {for_terminal(*repeat)}))) {
            return report(command, make_error(ErrorKind::conflict,
                                              tr("{} is the same file as the newest package of {} ({}); nothing was "
                                                 "sent. To store it again, push with --allow-duplicate",
                                                 {file.filename().string(), options.dataset, *repeat})));
        }
    }
    client->reset();  // send_push connects (and reconnects) on its own
    ProgressMeter meter(tr("pushing {}", {file.filename().string()}), options.quiet);
    PushTransfer push{me, options.dataset, upload_file, resume_key, headers, resumable};
    auto receipt = send_push(push, meter);
    meter.done();
    if (!receipt) return report(command, receipt.error());
    // The receipt must be of this file: a plaintext push is checked by its digest here.
    if (upload_file == file) {
        auto digest = file_digest.get();
        if (!digest) return report(command, digest.error());
        boost::system::error_code ec;
        auto v = boost::json::parse(*receipt, ec);
        const auto* sha = !ec && v.is_object() ? v.as_object().if_contains("sha256") : nullptr;
        if (sha == nullptr || !sha->is_string() || sha->as_string() != *digest)
            return report(
                command, make_error(ErrorKind::corruption, tr("the gateway's receipt is not for this file (its SHA-256 "
                                                              "differs); the package it names is not your file")));
    }
    if (!kept_age.empty()) {
        std::error_code ec;
        std::filesystem::remove(kept_age, ec);
    }
    // People at a terminal read one line; scripts and --json get the receipt itself.
    if (!options.json && ::isatty(STDOUT_FILENO) == 1)
        std::cout << receipt_summary(*receipt, file.filename().string(), options.dataset) << std::endl;
    else
        std::cout << *receipt << (receipt->ends_with("\n") ? "" : "\n") << std::flush;
    // The push's entry in the access log, provable by the producer alone: its tlog-proof, kept
    // beside the receipt. The push has succeeded whatever happens here.
    if (!options.no_proof) {
        boost::system::error_code ec;
        auto v = boost::json::parse(*receipt, ec);
        const auto* index = !ec && v.is_object() ? v.as_object().if_contains("audit_index") : nullptr;
        if (index != nullptr && (index->is_uint64() || (index->is_int64() && index->get_int64() >= 0))) {
            const auto at = index->to_number<std::uint64_t>();
            const std::filesystem::path out =
                options.proof_output.empty()
                    ? std::filesystem::path(file.string() + "." + std::to_string(at) + ".tlog-proof")
                    : std::filesystem::path(options.proof_output);
            auto proof_client = connect(options.profile);
            auto proof = proof_client
                             ? fetch_own_proof(**proof_client, "index=" + std::to_string(at), std::chrono::seconds(10))
                             : Result<std::string>(proof_client.error());
            if (proof)
                keep_proof(*proof, out, options.quiet);
            else
                std::cerr << "serambi push: "
                          << tr("warning: no access-log proof yet ({}); fetch it later with `serambi proof --index {} "
                                "-o {}`",
                                {for_terminal(proof.error().message), std::to_string(at), out.string()})
                          << "\n";
        }
    }
    return 0;
}

int run_pull(const PullOptions& given) {
    const std::string command = "pull";
    PullOptions options = given;
    if (!storage::is_package_id(options.package_id))
        return report(command, make_error(ErrorKind::invalid_argument, tr("a package id is 32 lowercase hex digits")));
    Profile profile;
    auto client = connect(options.profile, &profile);
    if (!client) return report(command, client.error());
    const std::string base = "/v1/packages/" + options.package_id;
    auto manifest = (*client)->request("GET", base + "/manifest", "");
    if (!manifest) return report(command, manifest.error());
    if (manifest->status != 200) return report_reply(command, *manifest);
    auto signature = (*client)->request("GET", base + "/manifest.p7s", "");
    if (!signature) return report(command, signature.error());
    if (signature->status != 200) return report_reply(command, *signature);
    auto ca = storage::read_small_file(profile.dir / "ca.crt", 1 << 20);
    if (!ca) return report(command, ca.error());
    auto facts = verified_manifest(manifest->body, signature->body, *ca);
    if (!facts) return report(command, facts.error());
    if (facts->id != options.package_id)
        return report(command, make_error(ErrorKind::corruption, tr("the manifest is for another package")));
    // Without -o the payload takes its own name, in this folder only, and never replaces a file
    // unless asked: the name is the producer's choice, not the user's.
    const bool named_by_package = options.output.empty();
    const Existing existing = named_by_package && !options.force ? Existing::refuse : Existing::replace;
    if (named_by_package) {
        std::string shown = facts->filename.substr(0, 100);  // the producer's bytes, made safe to print
        for (auto& c : shown)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        if (!is_plain_file_name(facts->filename))
            return report(command, make_error(ErrorKind::invalid_argument,
                                              tr("the package's filename '{}' is not a plain file name for this "
                                                 "folder; name the output with -o FILE",
                                                 {shown})));
        options.output = facts->filename;
        // The payload and the files kept beside it: none of them replaces one of the user's.
        for (const char* suffix : {"", ".manifest.json", ".manifest.p7s", ".tlog-proof"}) {
            const std::string name = options.output + suffix;
            struct stat there {};
            if (!options.force && ::lstat(name.c_str(), &there) == 0)
                return report(command, make_error(ErrorKind::conflict,
                                                  tr("{} exists already; pull with --force to replace it, or name "
                                                     "another file with -o",
                                                     {shown + suffix})));
        }
    }

    // The policy may deliver the payload age-encrypted to this principal (the manifest says so):
    // it is then opened here, chunk by chunk as it arrives, and what the manifest signs is checked
    // on the plaintext.
    const bool age_delivery = manifest->headers["serambi-delivery"] == "age";
    std::optional<crypto::age::Identity> identity;
    std::optional<crypto::age::Decryptor> decryptor;
    if (age_delivery) {
        const auto key_file = profile.dir / "age.key";
        if (!std::filesystem::exists(key_file))
            return report(command, make_error(ErrorKind::not_found,
                                              tr("the package comes age-encrypted to your recipient, and {} is missing",
                                                 {key_file.string()})));
        auto ids = load_age_identities({key_file.string()});
        if (!ids) return report(command, ids.error());
        identity.emplace(std::move(ids->front()));
        const crypto::age::Identity* id_list[] = {&*identity};
        decryptor.emplace(id_list);
    }
    // A regular file is fetched into a partial file beside it first, so that a cut download
    // resumes (in this run, or the next) and nothing is put in place before it verifies. A pipe
    // or a device named as the output is streamed to directly, as it cannot be resumed.
    struct stat target_stat {};
    const bool streamed = ::stat(options.output.c_str(), &target_stat) == 0 &&
                          (S_ISFIFO(target_stat.st_mode) || S_ISCHR(target_stat.st_mode));
    std::string digest;
    std::string payload_request;  // the request whose access-log entry records the delivery
    if (!streamed) {
        const std::filesystem::path partial = options.output + ".serambi-partial";
        auto forget_partial = [&] {
            std::error_code ec;
            std::filesystem::remove(partial, ec);
            std::filesystem::remove(partial.string() + ".json", ec);
        };
        ProgressMeter meter(tr("pulling {}", {facts->filename}), options.quiet);
        auto fetched = fetch_package(PullTransfer{profile, options.package_id, partial}, meter);
        meter.done();
        if (!fetched) {
            if (fetched.error().kind == ErrorKind::unavailable)
                std::cerr << "serambi pull: "
                          << tr("what arrived is kept in {}; the same command continues from there", {partial.string()})
                          << "\n";
            return report(command, fetched.error());
        }
        payload_request = fetched->last.headers["serambi-request-id"];
        auto mismatch = [&](const std::string& what) {
            forget_partial();
            return report(
                command,
                make_error(ErrorKind::corruption,
                           tr("{}; nothing was written (the partial download was removed: pull again)", {what})));
        };
        if (!age_delivery) {
            if (fetched->size != facts->size || fetched->sha256_hex != facts->sha256_hex)
                return mismatch(tr("the payload does not match its signed manifest (size or SHA-256 differ)"));
            if (auto d = crypto::from_hex(fetched->sha256_hex);
                d && fetched->last.headers["repr-digest"] != "sha-256=:" + crypto::to_base64(*d) + ":")
                return mismatch(tr("the Repr-Digest header does not match the payload"));
            if (auto s = place_verified(partial, options.output, existing); !s) return report(command, s.error());
            forget_partial();  // its state file; the partial file itself is the output now
            digest = fetched->sha256_hex;
        } else {
            // The age file is opened here, piece by piece; only the plaintext that the manifest
            // signs is put in place.
            VerifiedFile out(options.output, existing);
            if (auto s = out.open(); !s) return report(command, s.error());
            std::FILE* in = std::fopen(partial.c_str(), "rb");
            if (in == nullptr)
                return report(command, make_error(ErrorKind::io_error, tr("cannot read {}", {partial.string()})));
            std::vector<std::uint8_t> buf(1 << 20);
            crypto::Bytes plain;
            Status opened;
            for (std::size_t n; opened && (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;) {
                plain.clear();
                opened = decryptor->update({buf.data(), n}, plain);
                if (opened) opened = out.write(plain);
            }
            std::fclose(in);
            if (opened) {
                plain.clear();
                opened = decryptor->finish(plain);
                if (opened) opened = out.write(plain);
            }
            crypto::wipe(plain);
            if (!opened) {
                // A delivery that does not authenticate is thrown away; a full disk or a missing
                // identity is not the download's fault: it is kept for the next run.
                if (opened.error().kind == ErrorKind::corruption || opened.error().kind == ErrorKind::invalid_argument)
                    return mismatch(tr("the age delivery does not open: {}", {opened.error().message}));
                std::cerr << "serambi pull: " << tr("the download is kept in {}", {partial.string()}) << "\n";
                return report(command, opened.error());
            }
            digest = out.finish_digest();
            if (out.size() != facts->size || digest != facts->sha256_hex)
                return mismatch(tr("the payload does not match its signed manifest (size or SHA-256 differ)"));
            if (auto s = out.keep(); !s) return report(command, s.error());
            forget_partial();
        }
    } else {
        VerifiedFile out(options.output, existing);
        if (auto s = out.open(); !s) return report(command, s.error());
        ProgressMeter meter(tr("pulling {}", {facts->filename}), options.quiet);
        crypto::Bytes plain;
        auto sink = [&](crypto::ByteView data) -> Status {
            if (!decryptor) return out.write(data);
            plain.clear();
            if (auto s = decryptor->update(data, plain); !s) return s;
            return out.write(plain);
        };
        auto reply = (*client)->download(base, sink, [&](std::uint64_t d, std::uint64_t t) { meter(d, t); });
        meter.done();
        if (!reply) return report(command, reply.error());
        if (reply->status != 200) return report_reply(command, *reply);
        if (decryptor) {
            plain.clear();
            if (auto s = decryptor->finish(plain); !s) return report(command, s.error());
            if (auto s = out.write(plain); !s) return report(command, s.error());
        }
        digest = out.finish_digest();
        if (out.size() != facts->size || digest != facts->sha256_hex)
            return report(
                command,
                make_error(ErrorKind::corruption,
                           out.in_place() ? tr("the payload does not match its signed manifest (size or SHA-256 "
                                               "differ); the bytes already written to {} must not be used",
                                               {options.output})
                                          : tr("the payload does not match its signed manifest (size or SHA-256 "
                                               "differ); nothing was written")));
        if (auto d = crypto::from_hex(digest);
            !age_delivery && d && reply->headers["repr-digest"] != "sha-256=:" + crypto::to_base64(*d) + ":")
            return report(command,
                          make_error(ErrorKind::corruption, tr("the Repr-Digest header does not match the payload")));
        if (auto s = out.keep(); !s) return report(command, s.error());
    }
    if (options.keep_proof && !streamed && !payload_request.empty()) {
        // The pull's own entry in the access log, which the partner can prove without an auditor.
        auto proof = fetch_own_proof(**client, "request=" + payload_request, std::chrono::seconds(10));
        if (proof)
            keep_proof(*proof, options.output + ".tlog-proof", options.quiet, existing);
        else
            std::cerr << "serambi pull: "
                      << tr("warning: no access-log proof yet ({}); fetch it later with `serambi proof --request {}`",
                            {for_terminal(proof.error().message), for_terminal(payload_request)})
                      << "\n";
    }
    if (options.keep_manifest) {
        // Evidence about a package that may be classified: the user's alone, like the payload.
        if (auto s = write_file(options.output + ".manifest.json", manifest->body, 0600, existing); !s)
            return report(command, s.error());
        if (auto s = write_file(options.output + ".manifest.p7s", signature->body, 0600, existing); !s)
            return report(command, s.error());
    }
    std::cout << manifest->body << "\n";
    std::cerr << tr("verified {}: {} bytes, sha256 {}, manifest signed by the gateway ({}, {})",
                    {options.output, std::to_string(facts->size), digest, facts->dataset, facts->classification})
              << (age_delivery ? tr("; delivered age-encrypted to you and decrypted here") : std::string()) << "\n";
    if (!options.decrypt_to.empty()) {
        // The signed manifest covers the ciphertext just verified; the plaintext is what it
        // opens to with this profile's identity, put in place only once all of it authenticated.
        if (auto s = age_decrypt_file({(profile.dir / "age.key").string()}, options.output, options.decrypt_to); !s)
            return report(command, s.error());
        std::cerr << tr("decrypted {} to {} with {}",
                        {options.output, options.decrypt_to, (profile.dir / "age.key").string()})
                  << "\n";
    }
    return 0;
}

int run_verify(const VerifyOptions& options) {
    const std::string command = "verify";
    if (options.manifest.empty() && options.signature.empty() && options.ca.empty()) {
        // A proof file needs nothing else but the log's key.
        std::FILE* probe = std::fopen(options.file.c_str(), "rb");
        char head[23] = {};
        const bool is_proof = probe != nullptr && std::fread(head, 1, 23, probe) == 23 &&
                              std::string_view(head, 23) == "c2sp.org/tlog-proof@v1\n";
        if (probe != nullptr) std::fclose(probe);
        if (is_proof) return run_verify_proof(options);
    }
    if (options.manifest.empty() || options.signature.empty() || options.ca.empty())
        return report(command, make_error(ErrorKind::invalid_argument,
                                          tr("a payload is verified with --manifest, --signature and --ca (a "
                                             ".tlog-proof file needs only --log-key)")));
    auto manifest = storage::read_small_file(options.manifest, 1 << 20);
    auto signature = storage::read_small_file(options.signature, 1 << 20);
    auto ca = storage::read_small_file(options.ca, 1 << 20);
    if (!manifest) return report(command, manifest.error());
    if (!signature) return report(command, signature.error());
    if (!ca) return report(command, ca.error());
    auto facts = verified_manifest(*manifest, *signature, *ca);
    if (!facts) return report(command, facts.error());
    std::FILE* in = std::fopen(options.file.c_str(), "rb");
    if (in == nullptr) return report(command, make_error(ErrorKind::io_error, tr("cannot read {}", {options.file})));
    crypto::Sha256 digest;
    std::vector<std::uint8_t> buf(256 * 1024);
    std::uint64_t size = 0;
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;) {
        digest.update({buf.data(), n});
        size += n;
    }
    const bool read_ok = std::ferror(in) == 0;
    std::fclose(in);
    if (!read_ok) return report(command, make_error(ErrorKind::io_error, tr("cannot read {}", {options.file})));
    const std::string hex = crypto::to_hex(digest.finish());
    if (size != facts->size || hex != facts->sha256_hex) {
        // FAILED, like OK, is the verdict that scripts look for: the same in every language.
        std::cerr << "serambi verify: FAILED: "
                  << tr("{} does not match the signed manifest (size {} vs {}, sha256 {} vs {})",
                        {options.file, std::to_string(size), std::to_string(facts->size), hex, facts->sha256_hex})
                  << "\n";
        return 1;
    }
    std::string logged;
    if (options.log.requested()) {
        auto in_log = check_push_logged(options.log, PushFacts{facts->id, facts->dataset, hex});
        if (!in_log) return report(command, in_log.error());
        logged = "; " + *in_log;
    }
    std::cout << "OK " << options.file << ": package " << facts->id << " of " << facts->dataset << " ("
              << facts->classification << "), " << size << " bytes, sha256 " << hex
              << "; manifest signature verified against " << options.ca << logged << "\n";
    return 0;
}

}  // namespace serambi::cli
