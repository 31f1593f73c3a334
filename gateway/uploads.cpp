// Resumable uploads over the tus 1.0.0 protocol (core, creation, creation-with-upload, checksum
// with sha256, expiration, termination), so that a push cut by a weak link continues from where
// it stopped instead of from zero, with our CLI or with any stock tus client.
//
// An upload is checked like a push when it is created (plan_push: dataset, policy, name, level,
// readers); its bytes are sealed as they arrive, exactly like a push's; the package is created,
// signed and logged, and becomes visible, only when the last byte is in (commit_push). Until
// then only its producer can see it, and nobody can read it.
#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "gateway/handler.h"

namespace serambi::gateway {
namespace {

constexpr const char* kTusVersion = "1.0.0";
constexpr const char* kTusExtensions = "creation,creation-with-upload,checksum,expiration,termination";
constexpr const char* kOffsetMediaType = "application/offset+octet-stream";
// A request with Upload-Checksum is held in memory until its digest is checked (the sealed
// stream cannot take bytes back), so it may carry at most this much.
constexpr std::uint64_t kChecksummedBytes = 16ULL << 20;
constexpr std::size_t kMetadataBytes = 4096;
constexpr std::string_view kAgeMagic = "age-encryption.org/v1\n";
// A request still holds the upload (often the one a dropped link cut, which the gateway has not
// noticed yet): 423, which tus clients retry.
constexpr const char* kBusy =
    "the upload's previous request is still being finished (a dropped link is noticed within the I/O "
    "timeout); try again shortly";

// RFC 9110 §5.6.7 IMF-fixdate, as Upload-Expires is written.
std::string http_date(std::int64_t unix_seconds) {
    const auto t = static_cast<time_t>(unix_seconds);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

Response bare(int status) {
    Response r;
    r.status = status;
    return r;
}

void tus_headers(Response& r) { r.headers.emplace_back("Tus-Resumable", kTusVersion); }

void upload_headers(Response& r, const storage::UploadRecord& u, std::uint64_t offset) {
    tus_headers(r);
    r.headers.emplace_back("Upload-Offset", std::to_string(offset));
    r.headers.emplace_back("Upload-Length", std::to_string(u.length));
    if (!u.complete) r.headers.emplace_back("Upload-Expires", http_date(u.expires_at));
    if (u.complete) {
        r.headers.emplace_back("Serambi-Package-Id", u.package_id);
        r.headers.emplace_back("Serambi-Audit-Index", std::to_string(u.audit_index));
    }
    r.headers.emplace_back("Cache-Control", "no-store");
}

Response tus_problem(int status, std::string_view detail, const std::string& rid) {
    auto r = protocol_problem(status, detail, rid);
    tus_headers(r);
    return r;
}

// Why an upload's writer could not be had: busy (423, retry), or what resuming it said.
Response not_taken(const Error& error, const std::string& rid) {
    if (error.kind == ErrorKind::conflict && error.message == kBusy) {
        auto r = tus_problem(423, error.message, rid);
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    auto r = problem_of(error, rid);
    tus_headers(r);
    return r;
}

// A tus request says which version it speaks; anything but ours is 412 with the version we do.
std::optional<Response> version_refusal(const RequestHead& head) {
    const auto version = head.header("Tus-Resumable");
    if (version && *version == kTusVersion) return std::nullopt;
    auto r = tus_problem(412, "this gateway speaks tus 1.0.0: send Tus-Resumable: 1.0.0", head.request_id);
    r.headers.emplace_back("Tus-Version", kTusVersion);
    return r;
}

std::optional<std::uint64_t> decimal(std::string_view text) {
    if (text.empty() || text.size() > 19 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::stoull(std::string(text));
}

}  // namespace

// Upload-Metadata: comma-separated "key base64(value)" pairs (the value may be absent).
Result<std::unordered_map<std::string, std::string>> parse_upload_metadata(std::string_view header) {
    std::unordered_map<std::string, std::string> out;
    auto bad = [] {
        return make_error(ErrorKind::invalid_argument,
                          "Upload-Metadata is comma-separated pairs of a key and its value in base64");
    };
    if (header.size() > kMetadataBytes) return make_error(ErrorKind::invalid_argument, "Upload-Metadata is too long");
    std::size_t at = 0;
    while (at < header.size()) {
        auto comma = header.find(',', at);
        if (comma == std::string_view::npos) comma = header.size();
        auto pair = header.substr(at, comma - at);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
        const auto space = pair.find(' ');
        const auto key = pair.substr(0, space);
        if (key.empty() || key.size() > 64 ||
            !std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ','; }))
            return bad();
        std::string value;
        if (space != std::string_view::npos) {
            auto decoded = crypto::from_base64(pair.substr(space + 1));
            if (!decoded) return bad();
            value.assign(decoded->begin(), decoded->end());
            if (std::any_of(value.begin(), value.end(), [](char c) { return c == '\0'; })) return bad();
        }
        if (!out.emplace(std::string(key), std::move(value)).second)
            return make_error(ErrorKind::invalid_argument, "Upload-Metadata names a key twice");
        at = comma + 1;
    }
    return out;
}

namespace {

// The first value among `keys` that the metadata has.
std::optional<std::string> first_of(const std::unordered_map<std::string, std::string>& metadata,
                                    std::initializer_list<const char*> keys) {
    for (const char* key : keys)
        if (const auto it = metadata.find(key); it != metadata.end()) return it->second;
    return std::nullopt;
}

}  // namespace

// Upload-Checksum: "sha256 BASE64"; the only algorithm offered.
Result<crypto::Sha256::Digest> parse_upload_checksum(std::string_view header) {
    const auto space = header.find(' ');
    if (space == std::string_view::npos || header.substr(0, space) != "sha256")
        return make_error(ErrorKind::invalid_argument, "Upload-Checksum: only sha256 is supported");
    auto digest = crypto::from_base64(header.substr(space + 1));
    if (!digest || digest->size() != 32)
        return make_error(ErrorKind::invalid_argument, "Upload-Checksum: sha256 and 32 bytes in base64");
    crypto::Sha256::Digest out{};
    std::copy(digest->begin(), digest->end(), out.begin());
    return out;
}

// The writers of uploads between their requests: one request at a time holds an upload's writer;
// between requests it waits here with its in-memory state (the part of a chunk not sealed yet).
// An upload not here (after a restart, or a request that failed) is resumed from disk.
class Handler::LiveUploads {
  public:
    using Writer = std::unique_ptr<storage::UploadWriter>;

    Result<Writer> take(const std::string& id, storage::Packages& packages) {
        {
            std::lock_guard lock(mutex_);
            if (busy_.count(id) != 0) return make_error(ErrorKind::conflict, kBusy);
            busy_.insert(id);
            if (auto it = idle_.find(id); it != idle_.end()) {
                Writer writer = std::move(it->second);
                idle_.erase(it);
                return writer;
            }
        }
        auto resumed = packages.resume_upload(id);  // reads the upload so far: outside the lock
        if (!resumed) release(id);
        return resumed;
    }
    // A writer just made (a creating POST with a body): busy until given back.
    void hold(const std::string& id) {
        std::lock_guard lock(mutex_);
        busy_.insert(id);
    }
    // Back after a request that left it usable.
    void give_back(Writer writer) {
        std::lock_guard lock(mutex_);
        busy_.erase(writer->record().id);
        idle_[writer->record().id] = std::move(writer);
    }
    // After a request that failed, or once the upload is complete or gone.
    void release(const std::string& id) {
        std::lock_guard lock(mutex_);
        busy_.erase(id);
    }
    // The writer waiting between requests, dropped; false if a request holds it now.
    bool drop(const std::string& id) {
        Writer dropped;
        std::lock_guard lock(mutex_);
        if (busy_.count(id) != 0) return false;
        if (auto it = idle_.find(id); it != idle_.end()) {
            dropped = std::move(it->second);
            idle_.erase(it);
        }
        busy_.insert(id);  // until release(): no request may take it while it is removed
        return true;
    }
    // The offset a HEAD answers: the writer's in memory when there is one.
    std::optional<std::uint64_t> offset(const std::string& id) {
        std::lock_guard lock(mutex_);
        if (auto it = idle_.find(id); it != idle_.end()) return it->second->size();
        return std::nullopt;
    }

  private:
    std::mutex mutex_;
    std::unordered_map<std::string, Writer> idle_;
    std::unordered_set<std::string> busy_;
};

std::shared_ptr<Handler::LiveUploads> Handler::new_live_uploads() { return std::make_shared<LiveUploads>(); }

namespace {

// One PATCH (or a creating POST's body): appended to the upload as it arrives. A request cut
// short keeps what arrived; the upload waits for the rest.
class UploadAppend final : public UploadSink {
  public:
    using Finish = std::function<Response(storage::UploadWriter&)>;
    // `location`: for a creating POST, the upload's address, answered with whatever came of the
    // body; empty for a PATCH.
    UploadAppend(std::shared_ptr<Handler::LiveUploads> live, std::unique_ptr<storage::UploadWriter> writer,
                 bool require_age, std::optional<crypto::Sha256::Digest> checksum, Finish finish,
                 std::string request_id, std::string location = {})
        : location_(std::move(location)),
          live_(std::move(live)),
          writer_(std::move(writer)),
          require_age_(require_age),
          checksum_(checksum),
          finish_(std::move(finish)),
          request_id_(std::move(request_id)) {}
    ~UploadAppend() override {
        crypto::wipe(held_);
        if (usable_ && writer_) {
            live_->give_back(std::move(writer_));
        } else {
            const auto id = writer_ ? writer_->record().id : std::string();
            writer_.reset();  // before release: a finished blob not committed goes back to its part name
            if (!id.empty()) live_->release(id);
        }
    }
    UploadAppend(const UploadAppend&) = delete;
    UploadAppend& operator=(const UploadAppend&) = delete;

    Status write(crypto::ByteView data) override {
        if (checksum_) {
            // Reserved once, so that no copy of the plaintext is left behind by a reallocation.
            if (held_.capacity() == 0) held_.reserve(static_cast<std::size_t>(limit()));
            held_.insert(held_.end(), data.begin(), data.end());
            return {};
        }
        return append(data);
    }
    std::string kept_when_cut() const override {
        return checksum_ ? "nothing was kept (the checksum could not be checked)"
                         : "the upload keeps what arrived: HEAD it for the offset to continue from";
    }
    std::uint64_t limit() const override {
        const auto left = writer_->length() - writer_->size();
        return checksum_ ? std::min(left, kChecksummedBytes) : left;
    }
    Response finish() override {
        if (checksum_) {
            if (crypto::Sha256::of(held_) != *checksum_) {
                crypto::wipe(held_);
                auto r =
                    tus_problem(460, "the data does not match Upload-Checksum; nothing of it was kept", request_id_);
                if (!location_.empty()) r.headers.emplace_back("Location", location_);
                return r;
            }
            auto s = append(held_);
            crypto::wipe(held_);
            if (!s) return with_offset(problem_of(s.error(), request_id_));
        }
        if (writer_->size() < writer_->length()) {
            if (auto s = writer_->sync(); !s) {
                usable_ = false;
                return problem_of(s.error(), request_id_);
            }
            if (!location_.empty()) {  // a creation that brought only the first bytes
                auto created = with_offset(bare(201));
                created.headers.emplace_back("Location", location_);
                return created;
            }
            return with_offset(bare(204));
        }
        // The last byte is in: the package is made now, or the upload waits to be resumed. Either
        // way this writer is done: a finished one holds nothing more, a failed one resumes from
        // disk.
        usable_ = false;
        return finish_(*writer_);
    }

  private:
    Status append(crypto::ByteView data) {
        if (require_age_ && writer_->size() < kAgeMagic.size()) {
            const auto at = static_cast<std::size_t>(writer_->size());
            const auto n = std::min(data.size(), kAgeMagic.size() - at);
            if (std::string_view(reinterpret_cast<const char*>(data.data()), n) != kAgeMagic.substr(at, n))
                return make_error(ErrorKind::invalid_argument,
                                  "this level's payloads are age files encrypted by the producer to the named "
                                  "recipients (serambi push --to does it); this one is not");
        }
        auto s = writer_->write(data);
        if (!s && s.error().kind != ErrorKind::invalid_argument) usable_ = false;
        return s;
    }
    Response with_offset(Response r) {
        upload_headers(r, writer_->record(), writer_->size());
        r.audit.resource = "uploads/" + writer_->record().id;
        return r;
    }

    std::string location_;
    std::shared_ptr<Handler::LiveUploads> live_;
    std::unique_ptr<storage::UploadWriter> writer_;
    bool require_age_;
    std::optional<crypto::Sha256::Digest> checksum_;
    Finish finish_;
    std::string request_id_;
    crypto::Bytes held_;  // a checksummed request's bytes, until the digest is checked
    bool usable_ = true;
};

}  // namespace

Response Handler::upload_options(const RequestHead& /*head*/, const Caller& /*caller*/) {
    Response r = bare(204);
    tus_headers(r);
    r.headers.emplace_back("Tus-Version", kTusVersion);
    r.headers.emplace_back("Tus-Extension", kTusExtensions);
    r.headers.emplace_back("Tus-Max-Size", std::to_string(services_.config->max_package_bytes));
    r.headers.emplace_back("Tus-Checksum-Algorithm", "sha256");
    return r;
}

Dispatch Handler::create_upload(const RequestHead& head, const Caller& caller) {
    const auto& rid = head.request_id;
    auto fail = [](Response r) { return Dispatch{std::move(r), nullptr}; };
    if (auto refused = version_refusal(head)) return fail(std::move(*refused));
    if (head.header("Upload-Defer-Length"))
        return fail(tus_problem(400, "Upload-Defer-Length is not supported: send Upload-Length", rid));
    const auto length_text = head.header("Upload-Length");
    const auto length = length_text ? decimal(*length_text) : std::nullopt;
    if (!length) return fail(tus_problem(400, "Upload-Length must be the file's size in bytes", rid));
    if (*length == 0) return fail(tus_problem(400, "the package is empty", rid));
    if (*length > services_.config->max_package_bytes)
        return fail(tus_problem(413, "the file is larger than this gateway accepts (Tus-Max-Size)", rid));
    if (auto full = disk_refusal(*length, rid)) {
        tus_headers(*full);
        return fail(std::move(*full));
    }
    auto metadata = parse_upload_metadata(head.header("Upload-Metadata").value_or(""));
    if (!metadata) return fail(tus_problem(400, metadata.error().message, rid));
    const auto dataset = first_of(*metadata, {"dataset"});
    if (!dataset || dataset->find('/') == std::string::npos || !is_slug(dataset->substr(0, dataset->find('/'))) ||
        !is_slug(dataset->substr(dataset->find('/') + 1)))
        return fail(tus_problem(400, "Upload-Metadata must name the dataset (dataset: owner/name)", rid));
    PushAsked asked;
    asked.filename = first_of(*metadata, {"filename", "name"});
    asked.media_type = first_of(*metadata, {"filetype", "type", "content_type"}).value_or("application/octet-stream");
    if (asked.media_type.empty()) asked.media_type = "application/octet-stream";
    asked.classification = first_of(*metadata, {"classification"});
    asked.recipients = first_of(*metadata, {"recipients"});
    PushPlan plan;
    Response refusal;
    if (!plan_push(head, caller, *dataset, asked, plan, refusal)) {
        tus_headers(refusal);
        return fail(std::move(refusal));
    }
    if (plan.sealed_by_producer && *length < kAgeMagic.size())
        return fail(tus_problem(400, "the payload is too short to be an age file", rid));

    // Each principal's unfinished uploads are bounded, in number and in bytes: they hold disk
    // space (and a little memory) until they finish or expire.
    auto& packages = services_.store->packages();
    auto open = packages.open_uploads(caller.subject.id);
    if (!open) return fail(problem_of(open.error(), rid));
    std::uint64_t held = 0;
    for (const auto& u : *open) held += u.length;
    const auto& limits = *services_.config;
    if (open->size() >= limits.uploads_max_open)
        return fail(tus_problem(429,
                                "you already have " + std::to_string(open->size()) +
                                    " unfinished uploads, the most this gateway keeps per principal; finish or "
                                    "abandon one (DELETE) first",
                                rid));
    if (held + *length > limits.uploads_max_bytes)
        return fail(tus_problem(429,
                                "your unfinished uploads would hold more than " +
                                    std::to_string(limits.uploads_max_bytes) +
                                    " bytes, the most this gateway keeps per principal; finish or abandon one first",
                                rid));
    // Everything about the body is checked before the upload exists, so that a refusal leaves none.
    const bool with_body = head.has_body && head.header("Content-Type") == std::string(kOffsetMediaType);
    if (head.has_body && !with_body)
        return fail(tus_problem(415, "a body sent with the creation must be application/offset+octet-stream", rid));
    std::optional<crypto::Sha256::Digest> checksum;
    if (const auto given = head.header("Upload-Checksum")) {
        auto parsed = parse_upload_checksum(*given);
        if (!parsed) return fail(tus_problem(400, parsed.error().message, rid));
        checksum = *parsed;
    }
    const auto expires_at = now_seconds() + static_cast<std::int64_t>(limits.uploads_expire_hours) * 3600;
    auto writer = packages.begin_upload(plan.draft, *length, expires_at);
    if (!writer) return fail(problem_of(writer.error(), rid));
    const auto record = (*writer)->record();
    Response created = bare(201);
    created.headers.emplace_back("Location", "/v1/uploads/" + record.id);
    created.audit.resource = "uploads/" + record.id;
    created.audit.classification = record.draft.classification;
    created.audit.reason = "the caller owns the dataset; package " + record.package_id + " of " +
                           std::to_string(record.length) + " bytes to " + record.draft.dataset;
    if (!with_body) {
        upload_headers(created, record, 0);
        live_uploads_->give_back(std::move(writer).value());
        return fail(std::move(created));
    }
    // creation-with-upload: the body is the upload's first bytes.
    live_uploads_->hold(record.id);
    auto finish = [this, head, created, caller](storage::UploadWriter& w) {
        return finish_upload(w, head, caller, created);
    };
    return {{},
            std::make_shared<UploadAppend>(live_uploads_, std::move(writer).value(), plan.sealed_by_producer, checksum,
                                           std::move(finish), rid, "/v1/uploads/" + record.id)};
}

// The last byte is in: the package is committed with its entry. A creating POST answers 201 with
// the receipt; a PATCH answers 204, as tus requires, with the package named in headers (and the
// receipt at GET /v1/uploads/ID).
Response Handler::finish_upload(storage::UploadWriter& writer, const RequestHead& head, const Caller& caller,
                                const Response& created) {
    const auto& principal = caller.subject.id;
    const auto record = writer.record();
    // The upload may have taken days: everything a push is checked for is checked again now,
    // against the dataset and the policy as they stand, on what the upload was created with.
    PushAsked asked;
    asked.filename = record.draft.filename;
    asked.media_type = record.draft.media_type;
    asked.classification = record.draft.classification;
    if (!record.draft.recipients.empty()) {
        std::string named;
        for (const auto& r : record.draft.recipients) named += (named.empty() ? "" : ",") + r;
        asked.recipients = named;
    }
    PushPlan plan;
    Response refusal;
    if (!plan_push(head, caller, record.draft.dataset, asked, plan, refusal)) {
        tus_headers(refusal);
        return refusal;
    }
    auto done = commit_push(writer, record.draft, *signer(), head, principal,
                            "the caller owns the dataset (resumable upload " + record.id + ")");
    if (done.status >= 300) {
        tus_headers(done);
        return done;
    }
    auto finished = writer.record();
    if (head.method == "POST") {
        for (const auto& h : created.headers)
            if (h.first == "Location") done.headers.push_back(h);
        std::erase_if(done.headers,
                      [](const auto& h) { return h.first == "Location" && h.second.starts_with("/v1/packages/"); });
        upload_headers(done, finished, finished.length);
        return done;
    }
    Response r = bare(204);
    r.principal = done.principal;
    r.audit = done.audit;
    upload_headers(r, finished, finished.length);
    r.headers.emplace_back("Content-Location", "/v1/packages/" + finished.package_id);
    return r;
}

Response Handler::upload_offset(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto& rid = head.request_id;
    if (auto refused = version_refusal(head)) return std::move(*refused);
    auto record = services_.store->packages().upload(id);
    if (!record || record->draft.producer != caller.subject.id) {
        auto r = tus_problem(404, "no such upload", rid);
        if (!record && record.error().kind != ErrorKind::not_found) r = problem_of(record.error(), rid);
        return r;
    }
    Response r = bare(200);
    r.audit.resource = "uploads/" + id;
    if (record->complete) {
        upload_headers(r, *record, record->length);
        return r;
    }
    auto offset = live_uploads_->offset(id);
    if (!offset) {
        // Not in memory: resumed from disk now, so that the offset told is the one the next
        // PATCH must send.
        auto writer = live_uploads_->take(id, services_.store->packages());
        if (!writer) return not_taken(writer.error(), rid);
        offset = (*writer)->size();
        live_uploads_->give_back(std::move(writer).value());
    }
    upload_headers(r, *record, *offset);
    return r;
}

Dispatch Handler::append_upload(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto& rid = head.request_id;
    auto fail = [](Response r) { return Dispatch{std::move(r), nullptr}; };
    if (auto refused = version_refusal(head)) return fail(std::move(*refused));
    if (head.header("Content-Type") != std::string(kOffsetMediaType))
        return fail(tus_problem(415, "a PATCH body must be application/offset+octet-stream", rid));
    const auto offset_text = head.header("Upload-Offset");
    const auto offset = offset_text ? decimal(*offset_text) : std::nullopt;
    if (!offset) return fail(tus_problem(400, "Upload-Offset must be the offset the data starts at", rid));
    if (auto full = disk_refusal(decimal(head.header("Content-Length").value_or("")).value_or(0), rid)) {
        tus_headers(*full);
        return fail(std::move(*full));
    }
    std::optional<crypto::Sha256::Digest> checksum;
    if (const auto given = head.header("Upload-Checksum")) {
        auto parsed = parse_upload_checksum(*given);
        if (!parsed) return fail(tus_problem(400, parsed.error().message, rid));
        checksum = *parsed;
    }
    auto& packages = services_.store->packages();
    auto record = packages.upload(id);
    if (!record || record->draft.producer != caller.subject.id) {
        if (!record && record.error().kind != ErrorKind::not_found) return fail(problem_of(record.error(), rid));
        return fail(tus_problem(404, "no such upload", rid));
    }
    if (record->complete) return fail(tus_problem(409, "the upload is complete: package " + record->package_id, rid));
    // The producer may have lost the right to push since the upload began.
    AuditFacts decided;
    if (auto dataset = dataset_for(caller, policies::Action::push, record->draft.dataset, decided); !dataset) {
        auto denied = problem_of(dataset.error(), rid);
        denied.audit = decided;
        tus_headers(denied);
        return fail(std::move(denied));
    }
    auto level = policies::parse_classification(record->draft.classification);
    if (!level) return fail(problem_of(level.error(), rid));
    const bool sealed_by_producer = services_.policy->names_readers(*level);
    auto writer = live_uploads_->take(id, packages);
    if (!writer) return fail(not_taken(writer.error(), rid));
    if ((*writer)->size() != *offset) {
        auto r = tus_problem(409,
                             "Upload-Offset is " + std::to_string(*offset) + " but the upload holds " +
                                 std::to_string((*writer)->size()) + " bytes: send from there",
                             rid);
        upload_headers(r, (*writer)->record(), (*writer)->size());
        live_uploads_->give_back(std::move(writer).value());
        return fail(std::move(r));
    }
    if (!head.has_body && (*writer)->size() < (*writer)->length()) {
        Response r = bare(204);
        upload_headers(r, (*writer)->record(), (*writer)->size());
        live_uploads_->give_back(std::move(writer).value());
        return fail(std::move(r));
    }

    auto finish = [this, head, caller](storage::UploadWriter& w) { return finish_upload(w, head, caller, Response{}); };
    Response tag;
    tag.audit.resource = "uploads/" + id;
    return {std::move(tag), std::make_shared<UploadAppend>(live_uploads_, std::move(writer).value(), sealed_by_producer,
                                                           checksum, std::move(finish), rid)};
}

Response Handler::remove_upload(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto& rid = head.request_id;
    if (auto refused = version_refusal(head)) return std::move(*refused);
    auto& packages = services_.store->packages();
    auto record = packages.upload(id);
    if (!record || record->draft.producer != caller.subject.id) {
        if (!record && record.error().kind != ErrorKind::not_found) return problem_of(record.error(), rid);
        return tus_problem(404, "no such upload", rid);
    }
    if (record->complete)
        return tus_problem(409, "the upload is complete: it is package " + record->package_id + " now", rid);
    if (!live_uploads_->drop(id))
        return tus_problem(409, "a request is appending to this upload; abandon it once that request ends", rid);
    Response r = change_record(caller.subject.id, "upload.remove", "uploads/" + id,
                               "the producer abandoned the upload at its request");
    auto removed = packages.remove_upload(id, AuditTrail::entry(head, r, 0, 0));
    live_uploads_->release(id);
    if (!removed) return problem_of(removed.error(), rid);
    Response done = bare(204);
    tus_headers(done);
    return committed(std::move(done), r, *removed);
}

Response Handler::get_upload(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto& rid = head.request_id;
    auto& packages = services_.store->packages();
    auto record = packages.upload(id);
    if (!record || record->draft.producer != caller.subject.id) {
        if (!record && record.error().kind != ErrorKind::not_found) return problem_of(record.error(), rid);
        return problem(ErrorKind::not_found, "no such upload", rid);
    }
    boost::json::object body{{"upload_id", record->id},
                             {"dataset", record->draft.dataset},
                             {"filename", record->draft.filename},
                             {"classification", record->draft.classification},
                             {"length", record->length},
                             {"state", record->complete ? "complete" : "open"}};
    if (record->complete) {
        auto package = packages.package(record->package_id);
        if (!package) return problem_of(package.error(), rid);
        body["receipt"] = receipt_json(*package, record->audit_index);
    } else {
        body["offset"] = live_uploads_->offset(id).value_or(0);
        body["expires_at"] = format_time(record->expires_at);
    }
    auto r = json_response(200, body);
    r.audit.resource = "uploads/" + id;
    return r;
}

std::vector<std::string> Handler::expire_uploads() {
    std::vector<std::string> problems;
    auto& packages = services_.store->packages();
    auto expired = packages.expired_uploads(now_seconds());
    if (!expired) return {"cannot look for expired uploads: " + expired.error().message};
    for (const auto& u : *expired) {
        if (!live_uploads_->drop(u.id)) continue;  // in use right now: the next sweep takes it
        std::string entry;
        if (!u.complete)
            entry = AuditTrail::event_entry("upload.expire", "uploads/" + u.id, "allow",
                                            "the upload of " + u.draft.filename + " to " + u.draft.dataset + " by " +
                                                u.draft.producer + " was not finished before it expired");
        auto removed = packages.remove_upload(u.id, entry);
        live_uploads_->release(u.id);
        if (!removed) problems.push_back("cannot remove expired upload " + u.id + ": " + removed.error().message);
    }
    return problems;
}

}  // namespace serambi::gateway
