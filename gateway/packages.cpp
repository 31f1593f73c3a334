// Pushing and pulling packages: the payload streams through the sealer on the way in and the
// opener on the way out; the gateway never holds a whole payload in memory.
#include <boost/json.hpp>
#include <charconv>

#include "crypto/age.h"
#include "gateway/canonical_json.h"
#include "gateway/handler.h"

namespace serambi::gateway {

boost::json::object package_json(const storage::PackageRecord& p) {
    return {{"package_id", p.id},
            {"dataset", p.dataset},
            {"producer", p.producer},
            {"classification", p.classification},
            {"filename", p.filename},
            {"media_type", p.media_type},
            {"size", p.size},
            {"sha256", p.sha256_hex},
            {"created_at", p.created_at},
            {"recipients", [&] {
                 boost::json::array named;
                 for (const auto& r : p.recipients) named.emplace_back(r);
                 return named;
             }()}};
}

namespace {

using policies::Action;

// The manifest is the signed statement of what the gateway received (RFC 8785 canonical JSON).
Result<std::string> manifest_of(const storage::PackageDraft& draft, const std::string& id,
                                const std::string& created_at, std::uint64_t size, const std::string& sha256_hex) {
    const boost::json::object manifest{{"version", 1},
                                       {"id", id},
                                       {"dataset", draft.dataset},
                                       {"producer", draft.producer},
                                       {"classification", draft.classification},
                                       {"filename", draft.filename},
                                       {"media_type", draft.media_type},
                                       {"size", size},
                                       {"sha256", sha256_hex},
                                       {"created_at", created_at}};
    if (!draft.recipients.empty()) {
        boost::json::array named;
        for (const auto& r : draft.recipients) named.emplace_back(r);
        auto with_recipients = manifest;
        with_recipients["recipients"] = std::move(named);
        return canonical_json(with_recipients);
    }
    return canonical_json(manifest);
}

class PackageUpload final : public UploadSink {
  public:
    PackageUpload(std::unique_ptr<storage::PackageWriter> writer, storage::PackageDraft draft,
                  std::shared_ptr<const certs::ManifestSigner> signer, std::uint64_t limit, RequestHead head,
                  std::string principal, std::string reason)
        : writer_(std::move(writer)),
          draft_(std::move(draft)),
          signer_(std::move(signer)),
          limit_(limit),
          head_(std::move(head)),
          request_id_(head_.request_id),
          principal_(std::move(principal)),
          reason_(std::move(reason)) {}

    // Payloads the gateway must never be able to read arrive as age files; the first bytes
    // say whether this one is.
    void require_age() { require_age_ = true; }

    Status write(crypto::ByteView data) override {
        if (require_age_ && magic_.size() < kAgeMagic.size()) {
            const auto take = std::min(data.size(), kAgeMagic.size() - magic_.size());
            magic_.append(reinterpret_cast<const char*>(data.data()), take);
            if (kAgeMagic.substr(0, magic_.size()) != magic_)
                return make_error(
                    ErrorKind::invalid_argument,
                    "this level's payloads are age files encrypted by the producer to the named recipients "
                    "(serambi push --to does it); this one is not");
        }
        return writer_->write(data);
    }
    std::uint64_t limit() const override { return limit_; }

    Response finish() override {
        if (writer_->size() == 0) return problem(ErrorKind::invalid_argument, "the package is empty", request_id_);
        if (require_age_ && magic_ != kAgeMagic)
            return problem(ErrorKind::invalid_argument, "the payload is too short to be an age file", request_id_);
        return commit_push(*writer_, draft_, *signer_, head_, principal_, reason_);
    }

  private:
    static constexpr std::string_view kAgeMagic = "age-encryption.org/v1\n";
    bool require_age_ = false;
    std::string magic_;
    std::unique_ptr<storage::PackageWriter> writer_;
    storage::PackageDraft draft_;
    std::shared_ptr<const certs::ManifestSigner> signer_;  // the one in force when the push began
    std::uint64_t limit_;
    RequestHead head_;
    std::string request_id_;
    std::string principal_;
    std::string reason_;
};

class RangeSource final : public PayloadSource {
  public:
    RangeSource(std::unique_ptr<storage::PackageReader> reader, std::uint64_t length)
        : reader_(std::move(reader)), remaining_(length) {}
    bool in_memory() const noexcept override { return reader_->in_memory(); }
    Result<std::size_t> read(std::span<std::uint8_t> out) override {
        if (remaining_ == 0) return std::size_t{0};
        if (out.size() > remaining_) out = out.first(static_cast<std::size_t>(remaining_));
        auto n = reader_->read(out);
        if (!n) return n;
        remaining_ -= *n;
        return n;
    }

  private:
    std::unique_ptr<storage::PackageReader> reader_;
    std::uint64_t remaining_;
};

// The payload opened from its blob and sealed again, in the same pass, to the reader's age
// recipient: what leaves the gateway is readable only with the reader's identity. The file is
// the same on every request (a deterministic encryptor), so any range of it can be served: the
// header's bytes, then the payload sealed from the chunk that holds the range's first byte.
class AgeSource final : public PayloadSource {
  public:
    // The length of the whole file: header, nonce and STREAM of a payload of `size` bytes.
    static std::uint64_t length(const crypto::age::Encryptor& e, std::uint64_t size) {
        return e.header().size() + crypto::sealed_size(size);
    }
    // Bytes [first, first + count) of the file. `reader` must not have been read yet.
    static Result<std::unique_ptr<AgeSource>> open(std::unique_ptr<storage::PackageReader> reader,
                                                   crypto::age::Encryptor encryptor, std::uint64_t first,
                                                   std::uint64_t count) {
        const auto& header = encryptor.header();
        std::uint64_t chunk = 0, skip = 0;
        crypto::Bytes pending;
        if (first < header.size()) {
            pending.assign(header.begin() + static_cast<std::ptrdiff_t>(first), header.end());
        } else {
            const auto into_payload = first - header.size();
            chunk = into_payload / crypto::kSealedChunkBytes;
            skip = into_payload - chunk * crypto::kSealedChunkBytes;
            if (auto s = encryptor.start_at_chunk(chunk); !s) return s.error();
            if (auto s = reader->seek(chunk * crypto::kStreamChunkBytes); !s) return s.error();
        }
        return std::unique_ptr<AgeSource>(
            new AgeSource(std::move(reader), std::move(encryptor), std::move(pending), skip, count));
    }
    ~AgeSource() override { crypto::wipe(plain_); }
    AgeSource(const AgeSource&) = delete;
    AgeSource& operator=(const AgeSource&) = delete;
    bool in_memory() const noexcept override { return reader_->in_memory(); }

    Result<std::size_t> read(std::span<std::uint8_t> out) override {
        std::size_t filled = 0;
        if (out.size() > remaining_) out = out.first(static_cast<std::size_t>(remaining_));
        while (filled < out.size()) {
            if (at_ < pending_.size()) {
                const auto n = std::min(out.size() - filled, pending_.size() - at_);
                std::copy_n(pending_.begin() + static_cast<std::ptrdiff_t>(at_), n,
                            out.begin() + static_cast<std::ptrdiff_t>(filled));
                at_ += n;
                filled += n;
                continue;
            }
            if (finished_) break;
            pending_.clear();
            at_ = 0;
            // A small payload is read whole into a buffer of its size (the last piece of any
            // payload is that short too): a 4 KiB package does not allocate and wipe 256 KiB.
            plain_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, reader_->size())));
            auto n = reader_->read(plain_);
            if (!n) {
                crypto::wipe(plain_);
                return n.error();
            }
            if (*n == 0) {
                if (auto s = encryptor_.finish(pending_); !s) return s.error();
                finished_ = true;
            } else if (auto s = encryptor_.update(crypto::ByteView(plain_.data(), *n), pending_); !s) {
                crypto::wipe(plain_);
                return s.error();
            }
            // The start of the range's first chunk, before the range begins.
            const auto drop = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, pending_.size()));
            at_ = drop;
            skip_ -= drop;
        }
        crypto::wipe(plain_);
        remaining_ -= filled;
        return filled;
    }

  private:
    AgeSource(std::unique_ptr<storage::PackageReader> reader, crypto::age::Encryptor encryptor, crypto::Bytes pending,
              std::uint64_t skip, std::uint64_t count)
        : reader_(std::move(reader)),
          encryptor_(std::move(encryptor)),
          pending_(std::move(pending)),
          skip_(skip),
          remaining_(count) {}
    static constexpr std::size_t kPiece = 256 * 1024;  // a whole number of chunks
    std::unique_ptr<storage::PackageReader> reader_;
    crypto::age::Encryptor encryptor_;
    crypto::Bytes pending_;  // ciphertext not yet handed out
    std::size_t at_ = 0;
    std::uint64_t skip_;       // ciphertext still to drop before the range starts
    std::uint64_t remaining_;  // bytes of the range still to hand out
    crypto::Bytes plain_;
    bool finished_ = false;
};

// A single range that starts past the first byte (`bytes=N-…`, N > 0): what a resumed download
// asks for.
bool continues_download(const std::optional<std::string>& range) {
    if (!range || !range->starts_with("bytes=")) return false;
    const auto spec = std::string_view(*range).substr(6);
    const auto dash = spec.find('-');
    if (dash == 0 || dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return false;
    const auto first = spec.substr(0, dash);
    return std::all_of(first.begin(), first.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           first.find_first_not_of('0') != std::string_view::npos;
}

std::string content_disposition(const std::string& filename) {
    std::string ascii, encoded;
    static const char* hex = "0123456789ABCDEF";
    for (const char ch : filename) {
        const auto c = static_cast<unsigned char>(ch);
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ch == '.' ||
                           ch == '-' || ch == '_';
        ascii += c < 0x80 && c != '%' ? ch : '_';
        if (plain) {
            encoded += ch;
        } else {
            encoded += '%';
            encoded += hex[c >> 4];
            encoded += hex[c & 0xf];
        }
    }
    return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

// A retry of a push already stored under the same Idempotency-Key: the body is read and hashed,
// never stored, and the first receipt is answered if it is the same file.
class PushReplay final : public UploadSink {
  public:
    PushReplay(storage::PackageRecord first, std::uint64_t audit_index, std::uint64_t limit, std::string request_id)
        : first_(std::move(first)), audit_index_(audit_index), limit_(limit), request_id_(std::move(request_id)) {}
    Status write(crypto::ByteView data) override {
        digest_.update(data);
        size_ += data.size();
        return {};
    }
    std::uint64_t limit() const override { return limit_; }
    Response finish() override {
        if (size_ != first_.size || crypto::to_hex(digest_.finish()) != first_.sha256_hex) {
            auto r = protocol_problem(422,
                                      "this Idempotency-Key was used for another file (package " + first_.id +
                                          "); a new push needs a new key. Nothing was stored",
                                      request_id_);
            r.audit.action = "package.push";
            return r;
        }
        Response r = json_response(200, receipt_json(first_, audit_index_));
        r.headers.emplace_back("Location", "/v1/packages/" + first_.id);
        r.headers.emplace_back("Idempotent-Replayed", "true");
        r.audit.action = "package.push";
        r.audit.resource = "datasets/" + first_.dataset + "/packages/" + first_.id;
        r.audit.classification = first_.classification;
        r.audit.sha256 = first_.sha256_hex;
        r.audit.reason = "a retry of the push with the same Idempotency-Key (audit index " +
                         std::to_string(audit_index_) + "); nothing new was stored";
        return r;
    }

  private:
    storage::PackageRecord first_;
    std::uint64_t audit_index_;
    std::uint64_t limit_;
    std::string request_id_;
    crypto::Sha256 digest_;
    std::uint64_t size_ = 0;
};

// Printable ASCII, as the IETF draft's examples and every client library's keys are.
bool is_idempotency_key(std::string_view key) {
    return !key.empty() && key.size() <= 255 &&
           std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

boost::json::object receipt_json(const storage::PackageRecord& record, std::uint64_t audit_index) {
    boost::json::object receipt = package_json(record);
    receipt["manifest"] = record.manifest;
    receipt["manifest_signature"] = crypto::to_base64(record.signature);
    receipt["audit_index"] = audit_index;
    return receipt;
}

Response commit_push(storage::PackageWriter& writer, const storage::PackageDraft& draft,
                     const certs::ManifestSigner& signer, const RequestHead& head, const std::string& principal,
                     const std::string& reason) {
    const auto& rid = head.request_id;
    auto sealed = writer.finish();
    if (!sealed) return problem_of(sealed.error(), rid);
    auto manifest = manifest_of(draft, writer.id(), writer.created_at(), sealed->size, sealed->sha256_hex);
    if (!manifest) return problem_of(manifest.error(), rid);
    auto signature = signer.sign(crypto::as_bytes(*manifest));
    if (!signature) return problem_of(signature.error(), rid);
    // The access-log entry is written in the package's own transaction: the package exists
    // exactly when its entry does.
    Response r;
    r.status = 201;
    r.principal = principal;
    r.audit.action = "package.push";
    r.audit.resource = "datasets/" + draft.dataset + "/packages/" + writer.id();
    r.audit.classification = draft.classification;
    r.audit.reason = reason;
    r.audit.sha256 = sealed->sha256_hex;
    auto entry = AuditTrail::entry(head, r, sealed->size, 0);
    auto record = writer.commit(*manifest, std::move(signature).value(), std::move(entry));
    if (!record) {
        auto refused = problem_of(record.error(), rid);
        refused.audit.action = "package.push";
        return refused;
    }
    r.audit.committed_index = record->audit_index;
    auto receipt = receipt_json(*record, record->audit_index);
    if (!writer.repeats().empty()) receipt["repeats"] = writer.repeats();
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Location", "/v1/packages/" + record->id);
    r.body = boost::json::serialize(receipt) + "\n";
    return r;
}

bool Handler::plan_push(const RequestHead& head, const Caller& caller, const std::string& dataset_id,
                        const PushAsked& asked, PushPlan& plan, Response& refusal) {
    const auto& rid = head.request_id;
    auto refuse = [&](Response r) {
        refusal = std::move(r);
        return false;
    };
    AuditFacts decided;
    auto dataset = dataset_for(caller, Action::push, dataset_id, decided);
    if (!dataset) {
        auto denied = problem_of(dataset.error(), rid);
        denied.audit = decided;
        denied.audit.action = "package.push";
        return refuse(std::move(denied));
    }
    if (!asked.filename || !is_safe_filename(*asked.filename))
        return refuse(problem(ErrorKind::invalid_argument,
                              "the file name (Serambi-Filename, or an upload's filename) must be 1 to 255 bytes "
                              "of UTF-8 with no path separators, control or quoting characters, not starting "
                              "with a dot",
                              rid));
    if (!is_media_type(asked.media_type))
        return refuse(problem(ErrorKind::invalid_argument,
                              "the media type (Content-Type, or an upload's filetype) must be a media type such as "
                              "application/pdf",
                              rid));

    auto dataset_level = policies::parse_classification(dataset->classification);
    if (!dataset_level) return refuse(problem_of(dataset_level.error(), rid));
    auto level = *dataset_level;
    if (asked.classification) {
        auto parsed = policies::parse_classification(*asked.classification);
        if (!parsed)
            return refuse(
                problem(ErrorKind::invalid_argument, "Serambi-Classification: " + parsed.error().message, rid));
        if (*parsed < *dataset_level)
            return refuse(problem(
                ErrorKind::invalid_argument,
                "Serambi-Classification may not be lower than the dataset's (" + dataset->classification + ")", rid));
        level = *parsed;
    }
    // Readers named by the producer: required where the policy reads by name, refused elsewhere.
    std::vector<std::string> recipients;
    if (asked.recipients) {
        const auto& named = *asked.recipients;
        std::size_t at = 0;
        while (at <= named.size()) {
            const auto comma = named.find(',', at);
            std::string one = named.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
            one.erase(0, one.find_first_not_of(' '));
            one.erase(one.find_last_not_of(' ') + 1);
            if (!is_slug(one))
                return refuse(problem(ErrorKind::invalid_argument,
                                      "Serambi-Recipients is a comma-separated list of principal ids", rid));
            if (std::find(recipients.begin(), recipients.end(), one) == recipients.end()) recipients.push_back(one);
            if (comma == std::string::npos) break;
            at = comma + 1;
        }
        if (recipients.size() > 50)
            return refuse(problem(ErrorKind::invalid_argument, "Serambi-Recipients names at most 50 principals", rid));
        for (const auto& r : recipients) {
            auto recipient = services_.store->registry().principal(r);
            if (!recipient || !recipient->removed_at.empty())
                return refuse(problem(ErrorKind::invalid_argument,
                                      "Serambi-Recipients: " + r + " is not a registered principal (or was removed)",
                                      rid));
        }
    }
    if (services_.policy->names_readers(level) && recipients.empty())
        return refuse(problem(ErrorKind::invalid_argument,
                              std::string(policies::name_of(level)) +
                                  " packages are read only by recipients the producer names: send Serambi-Recipients",
                              rid));
    if (!services_.policy->names_readers(level) && !recipients.empty())
        return refuse(problem(ErrorKind::invalid_argument,
                              "Serambi-Recipients applies only to levels read by named recipients (the policy's "
                              "\"named\" readers), not to " +
                                  std::string(policies::name_of(level)),
                              rid));
    plan.sealed_by_producer = services_.policy->names_readers(level);
    if (plan.sealed_by_producer && asked.media_type != "application/age")
        return refuse(problem(ErrorKind::invalid_argument,
                              std::string(policies::name_of(level)) +
                                  " payloads are age files the producer encrypts to the named recipients "
                                  "(Content-Type: application/age; serambi push --to does it)",
                              rid));
    plan.draft.dataset = dataset_id;
    plan.draft.producer = caller.subject.id;
    plan.draft.classification = policies::name_of(level);
    plan.draft.filename = *asked.filename;
    plan.draft.media_type = asked.media_type;
    plan.draft.recipients = std::move(recipients);
    return true;
}

std::optional<Response> Handler::disk_refusal(std::uint64_t incoming, const std::string& request_id) const {
    const auto reserve = services_.config->reserve_bytes;
    if (reserve == 0) return std::nullopt;
    auto free = services_.store->packages().free_bytes();
    if (!free) return problem_of(free.error(), request_id);
    // Sealing adds 16 bytes per 64 KiB chunk: counted as the whole payload again is not needed.
    const std::uint64_t needed = crypto::sealed_size(incoming);
    if (*free >= reserve && *free - reserve >= needed) return std::nullopt;
    return protocol_problem(507,
                            "the gateway's disk is nearly full: " + std::to_string(*free >> 20) + " MiB free, " +
                                std::to_string(reserve >> 20) + " MiB kept in reserve, and this needs " +
                                std::to_string((needed + (1 << 20) - 1) >> 20) +
                                " MiB; nothing was stored. Try again later, and tell the operator",
                            request_id);
}

Dispatch Handler::push_package(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto& rid = head.request_id;
    auto fail = [](Response r) { return Dispatch{std::move(r), nullptr}; };
    PushAsked asked;
    // Browsers cannot send UTF-8 in a header: the portal sends the name as an RFC 8187 value.
    asked.filename = head.header("Serambi-Filename");
    if (const auto extended = head.header("Serambi-Filename*")) asked.filename = decode_extended_value(*extended);
    asked.media_type = head.header("Content-Type").value_or("application/octet-stream");
    asked.classification = head.header("Serambi-Classification");
    asked.recipients = head.header("Serambi-Recipients");
    PushPlan plan;
    Response refusal;
    if (!plan_push(head, caller, id, asked, plan, refusal)) return fail(std::move(refusal));
    if (!head.has_body) return fail(protocol_problem(411, "the package payload is missing", rid));
    {
        // A body without a length (chunked) is checked against the reserve alone.
        std::uint64_t length = 0;
        if (const auto text = head.header("Content-Length")) {
            const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), length);
            if (ec != std::errc() || end != text->data() + text->size()) length = 0;
        }
        if (auto full = disk_refusal(length, rid)) return fail(std::move(*full));
    }

    auto& packages = services_.store->packages();
    if (const auto key = head.header("Idempotency-Key")) {
        if (!is_idempotency_key(*key))
            return fail(problem(ErrorKind::invalid_argument,
                                "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces", rid));
        auto earlier = packages.pushed_with_key(caller.subject.id, *key);
        if (!earlier) return fail(problem_of(earlier.error(), rid));
        if (*earlier) {
            auto first = packages.package((*earlier)->package_id);
            if (!first) return fail(problem_of(first.error(), rid));
            if (first->dataset != plan.draft.dataset || first->filename != plan.draft.filename)
                return fail(protocol_problem(422,
                                             "this Idempotency-Key was used for another push (package " + first->id +
                                                 " in " + first->dataset + "); a new push needs a new key",
                                             rid));
            return {{},
                    std::make_shared<PushReplay>(std::move(first).value(), (*earlier)->audit_index,
                                                 services_.config->max_package_bytes, rid)};
        }
        plan.draft.idempotency_key = *key;
    }
    auto writer = packages.begin_package(plan.draft);
    if (!writer) return fail(problem_of(writer.error(), rid));
    auto upload = std::make_unique<PackageUpload>(std::move(writer).value(), std::move(plan.draft), signer(),
                                                  services_.config->max_package_bytes, head, caller.subject.id,
                                                  "the caller owns the dataset");
    if (plan.sealed_by_producer) upload->require_age();
    return {{}, std::move(upload)};
}

Response Handler::get_package(const RequestHead& head, const Caller& caller, const std::string& id,
                              const std::string& part) {
    const auto& rid = head.request_id;
    auto hidden = [&] { return problem(ErrorKind::not_found, "no such package", rid); };
    if (!storage::is_package_id(id)) return hidden();
    auto record = services_.store->packages().package(id);
    if (!record) return record.error().kind == ErrorKind::not_found ? hidden() : problem_of(record.error(), rid);
    auto facts = package_facts(*record);
    if (!facts) return problem_of(facts.error(), rid);
    auto approvals = approvals_for(caller, id);
    if (!approvals) return problem_of(approvals.error(), rid);
    auto decision = services_.policy->decide(caller.subject, Action::read, &*facts,
                                             policies::Context{now_seconds(), caller.agreements, *approvals});
    // A download whose last bytes were sent, but lost with the link, may still be finished: a
    // Range from inside it is decided with that download not yet counted against the cap
    // (Grants::reserve_delivery checks that it does continue it).
    if (!decision.allow && part.empty() && continues_download(head.header("Range"))) {
        auto continuing = approvals_for(caller, id, true);
        if (!continuing) return problem_of(continuing.error(), rid);
        auto again = services_.policy->decide(caller.subject, Action::read, &*facts,
                                              policies::Context{now_seconds(), caller.agreements, *continuing});
        if (again.allow) decision = std::move(again);
    }
    // Named with its dataset, so that an auditor's dataset filter finds package activity.
    const std::string resource = "datasets/" + record->dataset + "/packages/" + id + (part.empty() ? "" : "/" + part);
    // Fail closed: an obligation this gateway does not know how to carry out refuses the read.
    bool to_reader = false;
    for (const auto& obligation : decision.obligations) {
        if (obligation == "encrypt-to-recipient")
            to_reader = true;
        else if (obligation != "max-downloads" && decision.allow) {
            decision.allow = false;
            decision.reason += "; but this gateway cannot carry out the obligation " + obligation;
        }
    }
    if (!decision.allow) {
        auto denied = hidden();
        // A partner that a custodian released the package to knows it exists: once its approval
        // is spent, expired or withdrawn it is told so, not that there is no such package.
        if (!approvals->empty()) {
            auto rows = services_.store->grants().approvals(id, caller.subject.id);
            if (rows && !rows->empty()) {
                const auto& last = rows->back();
                const auto state = approval_state(last, now_seconds());
                if (state != "standing")
                    denied = problem(ErrorKind::permission_denied,
                                     "the release of this package to you (approval " + last.id + ") is " + state +
                                         (state == "used up" ? " (" + std::to_string(last.max_downloads) + " download" +
                                                                   (last.max_downloads == 1 ? "" : "s") + ")"
                                                             : std::string()) +
                                         "; ask a custodian for a new release (serambi request)",
                                     rid);
            }
        }
        denied.audit.resource = resource;
        denied.audit.classification = record->classification;
        denied.audit.reason = decision.reason;
        return denied;
    }

    Response r;
    r.audit.resource = resource;
    r.audit.classification = record->classification;
    r.audit.reason = decision.reason;
    r.audit.sha256 = record->sha256_hex;
    r.headers.emplace_back("Cache-Control", "no-store");
    // The reader's age recipient, when the payload must travel encrypted to it; a reader who has
    // none registered is told how to get one rather than sent the payload without it.
    std::optional<crypto::age::Recipient> recipient;
    if (to_reader) {
        auto me = services_.store->registry().principal(caller.subject.id);
        if (!me) return problem_of(me.error(), rid);
        auto parsed = me->age_recipient.empty() ? Result<crypto::age::Recipient>(make_error(ErrorKind::not_found, ""))
                                                : crypto::age::parse_recipient(me->age_recipient);
        if (!parsed) {
            auto refused = problem(ErrorKind::conflict,
                                   record->classification +
                                       " packages are delivered age-encrypted to the reader; "
                                       "register your age recipient first (serambi recipient set age1…)",
                                   rid);
            refused.audit = r.audit;
            refused.audit.reason = decision.reason + "; but the reader has no age recipient to deliver to";
            return refused;
        }
        recipient = *parsed;
        // Said on the manifest too, so that a client knows before the payload how it will come.
        r.headers.emplace_back("Serambi-Delivery", "age");
    }
    if (part == "manifest") {
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = record->manifest;
        return r;
    }
    if (part == "manifest.p7s") {
        r.headers.emplace_back("Content-Type", "application/pkcs7-signature");
        r.body.assign(record->signature.begin(), record->signature.end());
        return r;
    }

    auto reader = services_.store->packages().open_package(id);
    if (!reader) return problem_of(reader.error(), rid);
    std::optional<crypto::age::Encryptor> encryptor;
    std::string etag = "\"" + record->sha256_hex + "\"";
    if (recipient) {
        // The reader's own file, the same at every request: derived from a secret unique to the
        // package and the recipient, which also names it.
        const auto seed = services_.store->packages().delivery_seed(id, record->sha256_hex,
                                                                    crypto::age::encode_recipient(*recipient));
        auto made = crypto::age::Encryptor::create_deterministic(*recipient, seed);
        if (!made) return problem_of(made.error(), rid);
        encryptor.emplace(std::move(made).value());
        etag = "\"age-" + crypto::to_hex(crypto::derive_key(seed, "serambi/age/etag").bytes()).substr(0, 32) + "\"";
    }
    // The representation served: the payload, or the reader's age file of it.
    const std::uint64_t total = encryptor ? AgeSource::length(*encryptor, record->size) : record->size;
    std::uint64_t first = 0, length = total;
    r.status = 200;
    // A Range is served only for the representation the client already has part of: If-Range
    // must name its ETag (a date, or another ETag, gets the whole file).
    const auto if_range = head.header("If-Range");
    if (const auto range_header = head.header("Range"); range_header && (!if_range || *if_range == etag)) {
        auto range = parse_range(*range_header, total);
        if (!range) {
            auto p = protocol_problem(416, "the requested range is outside the payload", rid);
            p.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
            return p;
        }
        if (range->has_value()) {
            first = (*range)->first;
            length = (*range)->last - first + 1;
            r.status = 206;
            r.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                        std::to_string((*range)->last) + "/" + std::to_string(total));
        }
    }
    // Everything that can fail is done before the approvals are charged, so that a refusal
    // charges nothing.
    r.headers.emplace_back("Serambi-Classification", record->classification);
    r.headers.emplace_back("Accept-Ranges", "bytes");
    r.headers.emplace_back("ETag", etag);
    r.payload_length = length;
    if (encryptor) {
        r.headers.emplace_back("Content-Type", "application/age");
        r.headers.emplace_back("Content-Disposition", content_disposition(record->filename + ".age"));
        auto source = AgeSource::open(std::move(reader).value(), std::move(encryptor).value(), first, length);
        if (!source) return problem_of(source.error(), rid);
        r.payload = std::move(source).value();
        r.audit.reason = decision.reason + "; delivered age-encrypted to the reader's recipient";
    } else {
        auto digest = crypto::from_hex(record->sha256_hex);
        if (!digest) return problem_of(make_error(ErrorKind::corruption, "bad stored digest"), rid);
        if (auto s = (*reader)->seek(first); !s) return problem_of(s.error(), rid);
        r.headers.emplace_back("Content-Type", record->media_type);
        r.headers.emplace_back("Content-Disposition", content_disposition(record->filename));
        r.headers.emplace_back("Repr-Digest", "sha-256=:" + crypto::to_base64(*digest) + ":");
        r.payload = std::make_unique<RangeSource>(std::move(reader).value(), length);
    }
    // Downloads under an approval count when they complete; a download cut and resumed with a
    // Range is the same download. The range's bytes are reserved now, once the request is
    // known to be servable, and settled with what was actually sent when the transfer ends.
    if (!decision.approvals_used.empty()) {
        auto& grants = services_.store->grants();
        auto reserved = grants.reserve_delivery(decision.approvals_used, first, length, total, now_seconds());
        if (!reserved) {
            if (reserved.error().kind != ErrorKind::conflict) return problem_of(reserved.error(), rid);
            // The reader could read this package a moment ago: it is told why it no longer can.
            auto refused = problem(ErrorKind::permission_denied, reserved.error().message, rid);
            refused.audit.resource = resource;
            refused.audit.classification = record->classification;
            refused.audit.reason = decision.reason + "; but " + reserved.error().message;
            return refused;
        }
        r.after_payload = [store = services_.store, charges = std::move(reserved).value()](std::uint64_t sent) {
            (void)store->grants().settle_delivery(charges, sent);
        };
    }
    return r;
}

}  // namespace serambi::gateway
