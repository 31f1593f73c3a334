// How a push's bytes reach the gateway over a link that may drop: retried with backoff, resumed
// from the gateway's offset (tus) for large files, sent again under the same Idempotency-Key for
// small ones, so that a clerk never sends the same bytes twice and the gateway never stores two
// copies.
#include "cli/transfer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/files.h"
#include "cli/messages.h"
#include "crypto/crypto.h"
#include "storage/store.h"

namespace serambi::cli {

ProgressMeter::ProgressMeter(std::string label, bool quiet)
    : label_(std::move(label)),
      enabled_(!quiet && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

void ProgressMeter::resumed_at(std::uint64_t offset) {
    if (!started_) resumed_ = offset;
    first_offset_ = offset;
    started_ = true;
    start_ = std::chrono::steady_clock::now();
}

void ProgressMeter::operator()(std::uint64_t done, std::uint64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double sent = static_cast<double>(done - std::min(done, first_offset_));
    const double rate = seconds > 0 ? sent / seconds : 0;
    const int percent = total ? static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)) : 0;
    const std::string resumed =
        resumed_ > 0 ? "  (" + tr("resumed at {}", {size_for_people(static_cast<double>(resumed_))}) + ")" : "";
    std::fprintf(
        stderr, "\r%s  %s / %s  %3d%%  %s/s%s   ", label_.c_str(), size_for_people(static_cast<double>(done)).c_str(),
        size_for_people(static_cast<double>(total)).c_str(), percent, size_for_people(rate).c_str(), resumed.c_str());
    drawn_ = true;
}

void ProgressMeter::done() {
    if (drawn_) std::fputs("\n", stderr);
    drawn_ = false;
}

std::filesystem::path upload_state_dir(const Profile& profile) { return profile.dir / "uploads"; }

// Waits before the next attempt: a tenth of a second after an attempt that moved bytes (the
// link works, it just dropped), then half a second, doubling after each attempt that moved
// nothing, up to 30 seconds.
void back_off(int fruitless, const std::string& why, const char* command) {
    const auto wait =
        std::chrono::milliseconds(fruitless == 0 ? 100L : std::min<long>(500L << std::min(fruitless - 1, 6), 30000));
    std::ostringstream seconds;
    seconds << std::chrono::duration<double>(wait).count();
    std::cerr << "serambi " << command << ": " << tr("{}; trying again in {} s", {for_terminal(why), seconds.str()})
              << "\n";
    std::this_thread::sleep_for(wait);
}

namespace {

// Transport failures (and a gateway that says it cannot serve now) are worth another attempt;
// a refusal is not.
bool transient(const Error& e) { return e.kind == ErrorKind::unavailable; }

Error refused(const Reply& reply) {
    return make_error(ErrorKind::invalid_argument, tr("the gateway refused: {}", {describe_failure(reply)}));
}

std::string header(const Reply& reply, const std::string& name) {
    const auto it = reply.headers.find(name);
    return it == reply.headers.end() ? std::string() : it->second;
}

Result<std::string> single_request(const PushTransfer& push, ProgressMeter& meter) {
    auto headers = push.headers;
    // The same key on every attempt: a retry after a lost answer gets the first receipt.
    headers["Idempotency-Key"] = crypto::random_hex(16);
    int fruitless = 0;
    for (int attempt = 1;; ++attempt) {
        std::uint64_t moved = 0;
        auto client = Client::connect(push.profile);
        Result<Reply> reply = client
                                  ? (*client)->upload("/v1/datasets/" + push.dataset + "/packages", push.file, headers,
                                                      [&](std::uint64_t d, std::uint64_t t) {
                                                          moved = d;
                                                          meter(d, t);
                                                      })
                                  : Result<Reply>(client.error());
        if (reply && (reply->status == 201 || reply->status == 200)) return reply->body;
        // 409: an earlier attempt under this key is being stored right now; asking again gets
        // its receipt.
        if (reply && reply->status != 503 && reply->status != 409) return refused(*reply);
        Error error = reply ? refused(*reply) : reply.error();
        if (reply) error.kind = ErrorKind::unavailable;
        if (!transient(error) || attempt == kAttempts) return error;
        fruitless = moved > 0 ? 0 : fruitless + 1;
        meter.done();
        back_off(fruitless, error.message);
    }
}

std::string metadata_pair(const std::string& key, const std::string& value) {
    return key + " " + crypto::to_base64(crypto::as_bytes(value));
}

struct UploadState {
    std::string location;  // /v1/uploads/ID
    std::uint64_t size = 0;
    std::string dataset;
};

std::optional<UploadState> read_state(const std::filesystem::path& path) {
    auto text = storage::read_small_file(path, 4096);
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    const auto* location = o.if_contains("upload");
    const auto* size = o.if_contains("size");
    const auto* dataset = o.if_contains("dataset");
    if (!location || !location->is_string() || !size || !dataset || !dataset->is_string()) return std::nullopt;
    boost::system::error_code number_ec;
    const auto bytes = size->to_number<std::uint64_t>(number_ec);
    if (number_ec) return std::nullopt;
    UploadState s{std::string(location->as_string()), bytes, std::string(dataset->as_string())};
    // Only our own gateway's upload paths: a state file edited by someone else leads nowhere.
    if (!s.location.starts_with("/v1/uploads/") || !storage::is_package_id(s.location.substr(12))) return std::nullopt;
    return s;
}

Result<std::string> resumable(const PushTransfer& push, ProgressMeter& meter) {
    std::error_code fec;
    const std::uint64_t size = std::filesystem::file_size(push.file, fec);
    if (fec) return make_error(ErrorKind::io_error, tr("cannot size {}", {push.file.string()}));
    const auto dir = upload_state_dir(push.profile);
    const auto state_path = dir / (push.resume_key + ".json");
    std::optional<UploadState> state = read_state(state_path);
    if (state && (state->size != size || state->dataset != push.dataset)) state.reset();
    auto forget = [&] {
        std::error_code ec;
        std::filesystem::remove(state_path, ec);
        state.reset();
    };
    const std::map<std::string, std::string> tus{{"Tus-Resumable", "1.0.0"}};

    std::unique_ptr<Client> client;
    int fruitless = 0;
    bool told_resume = false;
    for (;;) {
        std::uint64_t moved = 0;
        auto fail_or_retry = [&](const Error& error) -> std::optional<Error> {
            client.reset();  // a connection that failed mid-request is not reused
            // Attempts that move bytes may go on as long as the link keeps dropping; it is a
            // run of attempts that move nothing that ends the push.
            fruitless = moved > 0 ? 0 : fruitless + 1;
            if (!transient(error) || fruitless >= kAttempts) return error;
            meter.done();
            back_off(fruitless, error.message);
            return std::nullopt;
        };
        if (!client) {
            auto connected = Client::connect(push.profile);
            if (!connected) {
                if (auto e = fail_or_retry(connected.error())) return *e;
                continue;
            }
            client = std::move(connected).value();
        }
        std::uint64_t offset = 0;
        if (!state) {
            auto headers = tus;
            headers["Upload-Length"] = std::to_string(size);
            std::string metadata = metadata_pair("dataset", push.dataset);
            for (const auto& [from, to] : {std::pair<const char*, const char*>{"Serambi-Filename", "filename"},
                                           {"Content-Type", "filetype"},
                                           {"Serambi-Classification", "classification"},
                                           {"Serambi-Recipients", "recipients"}})
                if (const auto it = push.headers.find(from); it != push.headers.end())
                    metadata += "," + metadata_pair(to, it->second);
            headers["Upload-Metadata"] = metadata;
            auto created = client->request("POST", "/v1/uploads", "", headers);
            if (!created) {
                if (auto e = fail_or_retry(created.error())) return *e;
                continue;
            }
            if (created->status != 201) {
                if (created->status == 503)
                    if (auto e = fail_or_retry(refused(*created)); !e) continue;
                return refused(*created);
            }
            state = UploadState{header(*created, "location"), size, push.dataset};
            if (!state->location.starts_with("/v1/uploads/"))
                return make_error(ErrorKind::corruption, tr("the gateway gave no upload location"));
            boost::json::object saved{
                {"upload", state->location}, {"size", size}, {"dataset", push.dataset}, {"file", push.file.string()}};
            std::error_code ec;
            std::filesystem::create_directories(dir, ec);
            if (auto s = write_file(state_path, boost::json::serialize(saved) + "\n", 0600); !s) return s.error();
        } else {
            auto head = client->request("HEAD", state->location, "", tus);
            if (!head) {
                if (auto e = fail_or_retry(head.error())) return *e;
                continue;
            }
            if (head->status == 404) {
                // Expired or abandoned at the gateway: start again from the first byte.
                std::cerr << "serambi push: " << tr("the gateway no longer has the earlier upload; starting again")
                          << "\n";
                forget();
                continue;
            }
            if (head->status == 409 || head->status == 423 || head->status == 503) {
                // The gateway is still finishing the request the link cut: a pause, then again.
                Error busy = refused(*head);
                busy.kind = ErrorKind::unavailable;
                if (auto e = fail_or_retry(busy)) return *e;
                continue;
            }
            if (head->status != 200) return refused(*head);
            if (!header(*head, "serambi-package-id").empty()) break;  // finished, its answer lost
            const auto given = header(*head, "upload-offset");
            if (given.empty() || given.find_first_not_of("0123456789") != std::string::npos || given.size() > 19)
                return make_error(ErrorKind::corruption, tr("the gateway gave no valid Upload-Offset"));
            offset = std::stoull(given);
            if (offset > size) return make_error(ErrorKind::corruption, tr("the gateway holds more than the file"));
            if (offset > 0 && !told_resume) {
                std::cerr << "serambi push: "
                          << tr("resuming at {} of {}", {size_for_people(static_cast<double>(offset)),
                                                         size_for_people(static_cast<double>(size))})
                          << "\n";
                told_resume = true;
            }
        }
        meter.resumed_at(offset);
        auto headers = tus;
        headers["Upload-Offset"] = std::to_string(offset);
        headers["Content-Type"] = "application/offset+octet-stream";
        auto patched = client->upload(
            state->location, push.file, headers,
            [&](std::uint64_t d, std::uint64_t t) {
                moved = d - offset;
                meter(d, t);
            },
            "PATCH", offset);
        if (!patched) {
            if (auto e = fail_or_retry(patched.error())) return *e;
            continue;
        }
        if (patched->status == 409 || patched->status == 423) {
            // Another offset than ours, or the gateway still finishing the request that was
            // cut: ask again (HEAD) after a pause.
            Error busy = refused(*patched);
            busy.kind = ErrorKind::unavailable;
            if (auto e = fail_or_retry(busy)) return *e;
            continue;
        }
        if (patched->status == 503) {
            if (auto e = fail_or_retry(refused(*patched))) return *e;
            continue;
        }
        if (patched->status != 204) return refused(*patched);
        if (!header(*patched, "serambi-package-id").empty()) break;
        fruitless = 0;
    }
    // Complete: the receipt, kept by the gateway with the upload.
    for (int attempt = 1;; ++attempt) {
        auto connected = client ? Result<std::unique_ptr<Client>>(std::move(client)) : Client::connect(push.profile);
        Result<Reply> got = connected ? (*connected)->request("GET", state->location, "") : connected.error();
        if (got && got->status == 200) {
            boost::system::error_code ec;
            auto v = boost::json::parse(got->body, ec);
            const auto* receipt = !ec && v.is_object() ? v.as_object().if_contains("receipt") : nullptr;
            if (receipt == nullptr || !receipt->is_object())
                return make_error(ErrorKind::corruption, tr("the gateway's upload record has no receipt"));
            forget();
            return boost::json::serialize(*receipt) + "\n";
        }
        const Error error = got ? refused(*got) : got.error();
        if (!transient(error) || attempt == kAttempts) return error;
        back_off(attempt, error.message);
    }
}

}  // namespace

namespace {

// The partial file of a pull: ours alone, a regular file we own with no other name, never
// reached through a link (a folder others can write to may hold a planted one).
Result<int> open_partial(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int error = errno;
        return make_error(ErrorKind::io_error,
                          error == ELOOP
                              ? tr("cannot open {}: it is a link, which is never followed; remove it", {path.string()})
                              : tr("cannot open {}", {path.string()}) + ": " + std::strerror(error));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || st.st_nlink != 1 ||
        (st.st_mode & 077) != 0) {
        ::close(fd);
        return make_error(ErrorKind::conflict,
                          tr("{} is there and is not a partial download of yours (a regular file of yours, mode "
                             "0600, with no other name); remove it and pull again",
                             {path.string()}));
    }
    return fd;
}

bool write_fd(int fd, const std::uint8_t* data, std::size_t len) {
    while (len > 0) {
        const auto n = ::write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

Result<Fetched> fetch_package(const PullTransfer& pull, ProgressMeter& meter) {
    const auto meta_path = std::filesystem::path(pull.partial.string() + ".json");
    auto opened = open_partial(pull.partial);
    if (!opened) return opened.error();
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{*opened};
    const int fd = *opened;

    // What an earlier run fetched, if it was this package: the bytes and the ETag they are of.
    std::string etag;
    std::uint64_t offset = 0;
    if (auto text = storage::read_small_file(meta_path, 4096)) {
        boost::system::error_code ec;
        auto v = boost::json::parse(*text, ec);
        const auto* o = !ec && v.is_object() ? &v.as_object() : nullptr;
        const auto* package = o ? o->if_contains("package") : nullptr;
        const auto* tag = o ? o->if_contains("etag") : nullptr;
        struct stat st {};
        if (package && package->is_string() && package->as_string() == pull.package_id && tag && tag->is_string() &&
            ::fstat(fd, &st) == 0) {
            etag = std::string(tag->as_string());
            offset = static_cast<std::uint64_t>(st.st_size);
        }
    }
    Fetched out;
    out.resumed_from = offset;
    crypto::Sha256 digest;
    if (offset == 0) {
        if (::ftruncate(fd, 0) != 0)
            return make_error(ErrorKind::io_error, tr("cannot reset {}", {pull.partial.string()}));
    } else {
        // The bytes already here count towards the digest checked at the end.
        std::vector<std::uint8_t> buf(1 << 20);
        for (std::uint64_t at = 0; at < offset;) {
            const auto n =
                ::pread(fd, buf.data(), std::min<std::uint64_t>(buf.size(), offset - at), static_cast<off_t>(at));
            if (n <= 0) return make_error(ErrorKind::io_error, tr("cannot read {}", {pull.partial.string()}));
            digest.update({buf.data(), static_cast<std::size_t>(n)});
            at += static_cast<std::uint64_t>(n);
        }
        std::cerr << "serambi pull: " << tr("resuming at {}", {size_for_people(static_cast<double>(offset))}) << "\n";
    }
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0)
        return make_error(ErrorKind::io_error, tr("cannot seek {}", {pull.partial.string()}));

    int fruitless = 0;
    const std::string target = "/v1/packages/" + pull.package_id;
    for (;;) {
        std::uint64_t moved = 0;
        std::map<std::string, std::string> headers;
        if (offset > 0 && !etag.empty()) {
            headers["Range"] = "bytes=" + std::to_string(offset) + "-";
            headers["If-Range"] = etag;
        }
        meter.resumed_at(offset);
        std::uint64_t total = 0;
        auto on_head = [&](const Reply& head) -> Status {
            const auto tag = head.headers.find("etag");
            if (head.status == 200 && offset > 0) {
                // The delivery is not the one the partial file holds part of: start again.
                if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) < 0)
                    return make_error(ErrorKind::io_error, tr("cannot reset {}", {pull.partial.string()}));
                offset = 0;
                digest = crypto::Sha256();
                meter.resumed_at(0);
            }
            const auto length = head.headers.find("content-length");
            total = offset + (length == head.headers.end() ? 0 : std::strtoull(length->second.c_str(), nullptr, 10));
            if (tag != head.headers.end() && tag->second != etag) {
                etag = tag->second;
                boost::json::object saved{{"package", pull.package_id}, {"etag", etag}};
                if (auto s = write_file(meta_path, boost::json::serialize(saved) + "\n", 0600); !s) return s;
            }
            return {};
        };
        auto sink = [&](crypto::ByteView data) -> Status {
            if (!write_fd(fd, data.data(), data.size()))
                return make_error(ErrorKind::io_error, tr("cannot write {}", {pull.partial.string()}));
            digest.update(data);
            offset += data.size();
            moved += data.size();
            return {};
        };
        auto client = Client::connect(pull.profile);
        Result<Reply> reply =
            client ? (*client)->download(
                         target, sink, [&](std::uint64_t d, std::uint64_t) { meter(offset, total ? total : d); },
                         headers, on_head)
                   : Result<Reply>(client.error());
        if (reply && (reply->status == 200 || reply->status == 206)) {
            if (::fsync(fd) != 0)
                return make_error(ErrorKind::io_error, tr("cannot fsync {}", {pull.partial.string()}));
            out.last = std::move(reply).value();
            out.size = offset;
            out.sha256_hex = crypto::to_hex(digest.finish());
            return out;
        }
        if (reply && reply->status == 416 && offset > 0) {
            // Asked from past the end: what is here is not this delivery's prefix. Start over.
            if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) < 0)
                return make_error(ErrorKind::io_error, tr("cannot reset {}", {pull.partial.string()}));
            offset = 0;
            digest = crypto::Sha256();
            etag.clear();
            continue;
        }
        Error error = reply ? refused(*reply) : reply.error();
        if (reply && reply->status == 503) error.kind = ErrorKind::unavailable;
        fruitless = moved > 0 ? 0 : fruitless + 1;
        if (!transient(error) || fruitless >= kAttempts) return error;
        meter.done();
        back_off(fruitless, error.message, "pull");
    }
}

Result<std::string> send_push(const PushTransfer& push, ProgressMeter& meter) {
    return push.resumable ? resumable(push, meter) : single_request(push, meter);
}

}  // namespace serambi::cli
