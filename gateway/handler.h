// Internal: the request handler, a plain object from request to response that knows nothing of
// sockets, so that unit tests call it directly. The session (session.cpp) only moves bytes:
// it reads the head, asks dispatch() what to do, streams a body into an UploadSink if one is
// returned, and streams a PayloadSource out.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/time.h"
#include "certs/certs.h"
#include "crypto/crypto.h"
#include "crypto/tlog.h"
#include "gateway/connections.h"
#include "gateway/gateway.h"
#include "gateway/routes.h"
#include "policies/policy.h"
#include "storage/store.h"

namespace serambi::gateway {

struct RequestHead {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    bool has_body = false;
    std::string request_id;
    std::string remote;
    // From the verified TLS client certificate.
    std::string cert_principal_id;
    std::string cert_serial;
    std::string cert_fingerprint;  // SHA-256 of the certificate, hex

    // Case-insensitive lookup; the first value if repeated.
    std::optional<std::string> header(std::string_view name) const;
};

class PayloadSource {
  public:
    virtual ~PayloadSource() = default;
    // Fills `out` as far as it can; 0 means the end. An error ends the response abruptly.
    virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
    // Whether a read never waits for the disk (see storage::PackageReader::in_memory): the session
    // then reads a small payload on the network thread instead of handing it to the offload pool.
    virtual bool in_memory() const noexcept { return false; }
};

// Events sent as they happen (text/event-stream), for as long as the client stays: the access
// log followed by an auditor. Polled by the session on the offload pool.
class EventSource {
  public:
    virtual ~EventSource() = default;
    struct Batch {
        std::string text;         // formatted for text/event-stream; empty when none are ready
        std::uint64_t count = 0;  // events in it
    };
    // The events that are ready, at most a bounded batch of them.
    virtual Result<Batch> next_events() = 0;
};

// What the access log records of a request beyond what the server knows (who, when, bytes).
struct AuditFacts {
    std::string action;          // what was asked, e.g. package.pull; named by the route
    std::string resource;        // what it was asked of, e.g. packages/ID
    std::string classification;  // of the data concerned, when there is one
    std::string reason;          // the policy's reason, or why the request failed
    std::string sha256;          // of the payload moved, hex
    // Set when the entry was committed with the request's own change (a pushed package).
    std::optional<std::uint64_t> committed_index;
    // The exchange failed (the connection broke, the body was cut short): decision "error",
    // whatever the status says, since no policy refused it.
    bool failed = false;
};

struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::shared_ptr<PayloadSource> payload;  // when set, `payload_length` bytes are streamed
    std::shared_ptr<EventSource> events;     // when set, events are streamed until either side ends
    std::uint64_t payload_length = 0;
    // Called (off the network thread) with the payload bytes actually sent, once the transfer
    // has ended, complete or not.
    std::function<void(std::uint64_t)> after_payload;
    // For the server log: who asked, as decided by authentication, and for a server-side failure
    // the detail that the client is not shown.
    std::string principal;
    std::string log_detail;
    AuditFacts audit;
};

// The access log as the gateway uses it: entries in, checkpoints signed with the log key.
class AuditTrail {
  public:
    AuditTrail(storage::Store& store, crypto::tlog::NoteSigner signer);
    // The canonical-JSON entry (RFC 8785) recording one request.
    static std::string entry(const RequestHead& head, const Response& response, std::uint64_t bytes_in,
                             std::uint64_t bytes_out);
    // The follow-up to a streamed answer that stopped after `sent` of `expected` bytes: same
    // request id, decision "error", and why.
    static std::string incomplete_entry(const RequestHead& head, const Response& response, std::uint64_t bytes_in,
                                        std::uint64_t sent, std::uint64_t expected, const std::string& cause);
    // The entry for a connection refused at the TLS handshake.
    static std::string refused_entry(const std::string& remote, const std::string& subject, const std::string& reason);
    // The end of an event stream opened by the request: how long it ran, how many events and
    // bytes went, and why it ended (the client left, the time limit, the gateway stopping).
    static std::string stream_closed_entry(const RequestHead& head, const Response& response, std::uint64_t bytes_out,
                                           std::uint64_t events, const std::string& cause);
    // A SIGHUP reload: the serials put in use (empty: that one not replaced) and, if something
    // did not load, why.
    static std::string reload_entry(const std::string& tls_serial, const std::string& signing_serial,
                                    const std::string& failure);
    // One entry for `count` refused handshakes over the per-minute budget of entries of their own.
    static std::string refused_count_entry(std::uint64_t count, unsigned per_minute);
    // A start-up event of the gateway itself (no request): `action` such as gateway.rollback,
    // what it concerns, the decision, and why.
    static std::string event_entry(const std::string& action, const std::string& resource, const std::string& decision,
                                   const std::string& reason);
    // A webhook delivery that ended: delivered (allow) or given up (error), to whose hook, and why.
    static std::string delivery_entry(const std::string& owner, const std::string& resource, bool delivered,
                                      std::int64_t status, const std::string& reason);
    // The two entries of an access-log key hand-over: the announcement naming both verifier keys,
    // then the entry holding the hand-over checkpoint (signed by both).
    static std::string key_rotation_entry(const std::string& old_key, const std::string& new_key);
    static std::string key_handover_entry(const std::string& note);
    // From now on every checkpoint is recorded in `state` before it is issued.
    void keep_state(storage::StateFile* state) noexcept { state_ = state; }
    // Durable before it returns; an error means the request must fail (fail closed).
    Result<std::uint64_t> record(std::string entry);
    // The same without holding a thread; `done` runs on the store's committer thread.
    void record_async(std::string entry, storage::AccessLog::Done done);
    // The signed checkpoint of the current tree, issuing a new one if the log grew since the last.
    Result<std::string> checkpoint();
    // Whether the last checkpoint was issued at least `interval` ago.
    bool due(std::chrono::milliseconds interval);
    // Called after each new checkpoint is issued (the witnesses are told).
    void on_issue(std::function<void()> callback) { on_issue_ = std::move(callback); }
    const std::string& origin() const noexcept { return signer_.name(); }
    std::string verifier_key() const { return signer_.verifier_key(); }
    storage::Store& store() noexcept { return store_; }

  private:
    storage::Store& store_;
    crypto::tlog::NoteSigner signer_;
    std::mutex mutex_;  // one issuer at a time
    storage::StateFile* state_ = nullptr;
    std::uint64_t issued_size_ = UINT64_MAX;
    std::string issued_;
    std::function<void()> on_issue_;
    std::chrono::steady_clock::time_point issued_at_{};
};

class UploadSink {
  public:
    virtual ~UploadSink() = default;
    virtual Status write(crypto::ByteView data) = 0;
    // The body arrived whole.
    virtual Response finish() = 0;
    // Largest body this sink accepts.
    virtual std::uint64_t limit() const = 0;
    // What became of the bytes that arrived when the body was cut short, for the client's
    // answer and the access log.
    virtual std::string kept_when_cut() const { return "nothing was kept"; }
};

struct Dispatch {
    Response response;                   // used when `upload` is empty
    std::shared_ptr<UploadSink> upload;  // the body goes here, then upload->finish()
};

// Collects a small JSON body, then hands it to `done`.
class JsonBody final : public UploadSink {
  public:
    JsonBody(std::uint64_t limit, std::function<Response(const std::string&)> done)
        : limit_(limit), done_(std::move(done)) {}
    Status write(crypto::ByteView data) override {
        if (body_.size() + data.size() > limit_)
            return make_error(ErrorKind::too_large, "the JSON body is larger than allowed");
        body_.append(reinterpret_cast<const char*>(data.data()), data.size());
        return {};
    }
    Response finish() override { return done_(body_); }
    std::uint64_t limit() const override { return limit_; }

  private:
    std::uint64_t limit_;
    std::string body_;
    std::function<Response(const std::string&)> done_;
};

// Helpers of the JSON routes.
Response json_response(int status, const boost::json::value& body);
Result<boost::json::object> parse_object(const std::string& body);
// A required string member, with a length limit and no control characters.
Result<std::string> string_member(const boost::json::object& o, std::string_view key, std::size_t max);
Status only_members(const boost::json::object& o, std::initializer_list<std::string_view> known);

// An application/problem+json response (RFC 9457). Its status comes from the error kind, in one
// place (http_status_of); `detail` is shown to the client as written.
Response problem(ErrorKind kind, std::string_view detail, const std::string& request_id);
// The same for an Error from below; a server-side failure shows a generic detail and keeps the
// real one for the server log.
Response problem_of(const Error& error, const std::string& request_id);
// The few statuses HTTP itself defines for a request that cannot be routed or framed (405, 411,
// 416, 431, and 400 for broken framing): only the router and the framing code use this.
Response protocol_problem(int status, std::string_view detail, const std::string& request_id);
int http_status_of(ErrorKind kind) noexcept;

// A change's access-log facts (action, resource, the policy's reason), and the answer that
// carries them once the change has committed with its entry at `index`.
Response change_record(const std::string& principal, std::string action, std::string resource, std::string reason);
Response committed(Response body, const Response& done, std::optional<std::uint64_t> index);

// The serials revoked so far, consulted at every handshake and every request. A revocation is
// added here as it commits, so it takes effect at the next handshake without a restart.
// What the server counts for /metrics; relaxed atomics, read at scrape time.
struct GatewayCounters {
    std::int64_t started_at = 0;                   // Unix seconds
    std::atomic<std::uint64_t> responses[6] = {};  // by status class: [1] 1xx … [5] 5xx, [0] other
    std::atomic<std::uint64_t> handshakes_refused{0};
    std::atomic<std::uint64_t> handshakes_counted{0};  // recorded in count entries, not one by one
    std::atomic<std::uint64_t> transfers_incomplete{0};
    std::atomic<std::uint64_t> bytes_received{0};
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> reloads{0};
    std::atomic<std::uint64_t> reloads_failed{0};
    const ConnectionTable* connections = nullptr;
    const class Witnesses* witnesses = nullptr;

    void count_response(int status, std::uint64_t in, std::uint64_t out) noexcept {
        const auto cls = status >= 100 && status < 600 ? static_cast<std::size_t>(status / 100) : 0;
        responses[cls].fetch_add(1, std::memory_order_relaxed);
        bytes_received.fetch_add(in, std::memory_order_relaxed);
        bytes_sent.fetch_add(out, std::memory_order_relaxed);
    }
};

class RevokedSerials {
  public:
    bool contains(const std::string& serial) const {
        std::shared_lock lock(mutex_);
        return serials_.count(serial) != 0;
    }
    // Takes effect at once; then `persist` (if set) records it outside the database.
    void add(std::string serial) {
        {
            std::unique_lock lock(mutex_);
            serials_.insert(serial);
        }
        if (persist_) persist_(serial);
    }
    void persist_with(std::function<void(const std::string&)> persist) { persist_ = std::move(persist); }

  private:
    std::function<void(const std::string&)> persist_;
    mutable std::shared_mutex mutex_;
    std::unordered_set<std::string> serials_;
};

// Who is asking, as authenticated at this request.
struct Caller {
    policies::Subject subject;
    std::vector<policies::Agreement> agreements;  // a partner's, as they stand at this request
};

class Handler {
  public:
    struct Services {
        storage::Store* store;
        std::shared_ptr<const policies::Policy> policy;
        std::shared_ptr<const certs::ManifestSigner> signer;  // replaced on reload (SIGHUP)
        certs::Authority ca;                                  // issues principal certificates
        const Config* config;
        AuditTrail* audit;
        RevokedSerials* revoked = nullptr;
        GatewayCounters* counters = nullptr;
    };
    explicit Handler(Services services);

    Dispatch dispatch(const RequestHead& head);
    // A new manifest-signing certificate for the pushes that start from now on.
    void replace_signer(std::shared_ptr<const certs::ManifestSigner> signer);
    // The certificates the gateway serves and signs with now (PEM), for /metrics: set at start and
    // on each reload that put one in place.
    void set_served_tls_certificate(std::string pem);
    void set_served_signing_certificate(std::string pem);

    // Webhooks (hooks.cpp): an event and one principal who may be told of it, with the event's
    // data as that principal may see it. Ids and metadata only, never content.
    struct Notice {
        std::string event;      // package.arrived, release.requested, …
        std::string key;        // the same for the same event however often it is found
        std::string recipient;  // a live principal
        std::string time;       // of the event, RFC 3339 UTC
        boost::json::object data;
        std::string package;  // the package it concerns, if any
    };
    // What the committed access-log entry `entry` records that someone must be told of.
    // `listening`: the principals whose notices are wanted (nullopt: everyone's), so that no
    // decision is made for a principal nobody listens for.
    using Listening = std::optional<std::unordered_set<std::string>>;
    Result<std::vector<Notice>> notices_of_entry(std::string_view entry, const Listening& listening = std::nullopt);
    // Standing approvals ending within a day and live certificates ending within 30 days.
    Result<std::vector<Notice>> notices_of_endings(std::int64_t now);
    // Whether `principal` (the owner of a hook for everyone's events) may itself see what the
    // notice says, as the API would show it: a package arrival if the package is listed to it;
    // a release asked, decided or ending if it may decide that release; a certificate's end if it
    // manages principals.
    Result<bool> may_be_told(const std::string& principal, const Notice& notice);
    // Whether a hook may still hear anything: its owner is not removed, and the certificate that
    // registered it is not revoked (but by its owner's own renewal), so that a stolen certificate's
    // hooks fall silent when it is taken back or the unit is given a new one.
    Result<bool> hook_stands(const storage::HookRecord& hook);
    // The limits a receiver's address is held to, from serambi.toml.
    const Config& config() const noexcept { return *services_.config; }

  private:
    friend std::span<const Route> routes();  // the route table calls the route methods below
    Result<Caller> authenticate(const RequestHead& head);
    // The principal as a caller, its agreements read now.
    Result<Caller> caller_of(const storage::Principal& principal);
    // Webhooks' routes (hooks.cpp).
    Dispatch create_hook(const RequestHead& head, const Caller& caller);
    Response create_hook_from(const RequestHead& head, const Caller& caller, const std::string& body);
    Response list_hooks(const RequestHead& head, const Caller& caller);
    Dispatch remove_hook(const RequestHead& head, const Caller& caller, const std::string& id);
    // An email hook's address confirmed by its owner with the code mailed to it.
    Dispatch confirm_hook(const RequestHead& head, const Caller& caller, const std::string& id);
    Response confirm_hook_with(const RequestHead& head, const Caller& caller, const std::string& id,
                               const std::string& body);
    Response list_deliveries(const RequestHead& head, const Caller& caller, const std::string& id, const Query& query);
    // The hook if the caller may manage it (its owner, or a principal manager); not_found if not.
    Result<storage::HookRecord> hook_for(const Caller& caller, const std::string& id);
    // A route whose body is one JSON object with only `members`: `respond` gets the object (and the
    // body it came from) once the body has arrived and parsed; any other body is answered 400
    // before `respond` sees it.
    Dispatch json_body(const RequestHead& head, std::initializer_list<std::string_view> members,
                       std::function<Response(const boost::json::object&, const std::string&)> respond);

    Response get_whoami(const RequestHead& head, const Caller& caller);
    Response get_portal_page(const RequestHead& head);
    Response get_portal_asset(const RequestHead& head, std::string_view version, std::string_view file);
    Response list_principals(const RequestHead& head, const Caller& caller);
    Dispatch create_principal(const RequestHead& head, const Caller& caller);
    Dispatch create_dataset(const RequestHead& head, const Caller& caller);
    Response list_datasets(const RequestHead& head, const Caller& caller);
    Response get_dataset(const RequestHead& head, const Caller& caller, const std::string& id);
    Response list_packages(const RequestHead& head, const Caller& caller, const std::string& id, const Query& query);
    Response list_all_packages(const RequestHead& head, const Caller& caller, const Query& query);
    Dispatch push_package(const RequestHead& head, const Caller& caller, const std::string& id);
    // What a push names, from its headers or from a resumable upload's metadata.
    struct PushAsked {
        std::optional<std::string> filename;
        std::string media_type = "application/octet-stream";
        std::optional<std::string> classification;
        std::optional<std::string> recipients;
    };
    struct PushPlan {
        storage::PackageDraft draft;
        bool sealed_by_producer = false;  // the payload must be an age file
    };
    // Every check a push passes before its first byte, however it arrives: the dataset and the
    // policy's decision, the file name, media type, level and named readers. False with the
    // refusal to answer.
    bool plan_push(const RequestHead& head, const Caller& caller, const std::string& dataset_id, const PushAsked& asked,
                   PushPlan& plan, Response& refusal);
    // Resumable uploads, the tus 1.0.0 protocol (uploads.cpp).
    Response upload_options(const RequestHead& head, const Caller& caller);
    Dispatch create_upload(const RequestHead& head, const Caller& caller);
    Response upload_offset(const RequestHead& head, const Caller& caller, const std::string& id);
    Dispatch append_upload(const RequestHead& head, const Caller& caller, const std::string& id);
    Response remove_upload(const RequestHead& head, const Caller& caller, const std::string& id);
    Response get_upload(const RequestHead& head, const Caller& caller, const std::string& id);
    Response finish_upload(storage::UploadWriter& writer, const RequestHead& head, const Caller& caller,
                           const Response& created);

  public:
    class LiveUploads;  // uploads.cpp; public for the request sinks there
    // Removes uploads past their expiry, with an access-log entry for each unfinished one; what
    // went wrong, for the server log.
    std::vector<std::string> expire_uploads();

  private:
    // 507 when `incoming` more bytes would leave less free space than the configured reserve on
    // the blob store's file system (a push is refused before it starts, not when the disk is full).
    std::optional<Response> disk_refusal(std::uint64_t incoming, const std::string& request_id) const;
    static std::shared_ptr<LiveUploads> new_live_uploads();
    std::shared_ptr<LiveUploads> live_uploads_;
    Response get_package(const RequestHead& head, const Caller& caller, const std::string& id, const std::string& part);
    Response get_audit(const RequestHead& head, const Caller& caller, std::string_view what, const Query& query);
    // What a package the log names is, for an auditor: its metadata, never its content.
    Response get_audit_package(const RequestHead& head, const Caller& caller, const std::string& id);
    // GET /v1/log/proof: the C2SP tlog-proof of one entry, for auditors or the entry's principal.
    Response get_log_proof(const RequestHead& head, const Caller& caller, const Query& query);
    // MOU agreements, release approvals and the policy's explanations (grants.cpp).
    Dispatch create_agreement(const RequestHead& head, const Caller& caller);
    Response create_agreement_from(const RequestHead& head, const Caller& caller, const std::string& body);
    Response list_agreements(const RequestHead& head, const Caller& caller);
    Response get_agreement(const RequestHead& head, const Caller& caller, const std::string& id);
    Dispatch revoke_agreement(const RequestHead& head, const Caller& caller, const std::string& id);
    Dispatch create_approval(const RequestHead& head, const Caller& caller, const std::string& package);
    Response create_approval_from(const RequestHead& head, const Caller& caller, const std::string& package,
                                  const std::string& body);
    Response list_approvals(const RequestHead& head, const Caller& caller, const Query& query);
    Dispatch create_request(const RequestHead& head, const Caller& caller, const std::string& package);
    Response create_request_from(const RequestHead& head, const Caller& caller, const std::string& package,
                                 const std::string& body);
    Response list_requests(const RequestHead& head, const Caller& caller, const Query& query);
    Dispatch refuse_request(const RequestHead& head, const Caller& caller, const std::string& id);
    // Whether a partner whose read was denied only for want of approvals may see the package
    // listed, and ask for its release.
    bool listed_before_release(const policies::Decision& decision, const policies::DatasetFacts& facts,
                               const Caller& caller) const;
    class PackageLister;  // listing.cpp
    // How a listing would show the package to the caller: "released", "request" (listed, so that
    // the caller may ask for its release) or "" (not at all).
    Result<std::string> package_access(const Caller& caller, const storage::PackageRecord& package,
                                       const std::string& owner);
    // Whether a dataset of a level read by named recipients holds a package that names the caller.
    bool names_caller(const storage::Dataset& dataset, policies::Classification level, const Caller& caller);
    Dispatch withdraw_approval(const RequestHead& head, const Caller& caller, const std::string& id);
    Response explain(const RequestHead& head, const Caller& caller, const Query& query);
    // The grants a decision about `package` (empty: none) may rest on, read at this request.
    Result<std::vector<policies::Approval>> approvals_for(const Caller& caller, const std::string& package,
                                                          bool continuing = false);
    // The facts of a package the policy decides on.
    Result<policies::DatasetFacts> package_facts(const storage::PackageRecord& record);

    Response create_principal_from(const RequestHead& head, const Caller& caller, const std::string& body);
    // A principal's age recipient: anyone may read it (it is a public key); the principal itself
    // or a principal manager replaces it.
    Response get_recipient(const RequestHead& head, const Caller& caller, const std::string& id);
    // Revocation: a principal's certificate, or any serial the CA issued; the CRL.
    Dispatch revoke(const RequestHead& head, const Caller& caller, const std::string& principal_id);
    Response get_crl(const RequestHead& head, const Caller& caller);
    Response get_metrics(const RequestHead& head, const Caller& caller);
    Dispatch renew(const RequestHead& head, const Caller& caller, const std::string& id);
    // An admin gives a live principal a new certificate for the unit's new key (a laptop stolen):
    // same id, datasets, agreements and history; the certificate it had is revoked if it is not.
    Dispatch reissue(const RequestHead& head, const Caller& caller, const std::string& id);
    struct IssuedCertificate {
        std::string pem;
        certs::CertificateInfo info;
    };
    Result<IssuedCertificate> issue_client_certificate(const std::string& id, const std::string& public_key_pem);
    static Result<certs::CsrContents> csr_for(const boost::json::object& object, const std::string& id);
    Dispatch remove_principal(const RequestHead& head, const Caller& caller, const std::string& id);
    Dispatch set_recipient(const RequestHead& head, const Caller& caller, const std::string& id);
    Response create_dataset_from(const RequestHead& head, const Caller& caller, const std::string& body);
    // Reads a dataset and decides `action` on it; a denial the caller may not see is not_found.
    // `audit` learns the decision's reason, whatever it was.
    Result<storage::Dataset> dataset_for(const Caller& caller, policies::Action action, const std::string& id,
                                         AuditFacts& audit);

    std::shared_ptr<const certs::ManifestSigner> signer() const;

    Services services_;
    mutable std::mutex signer_mutex_;  // guards services_.signer and the served PEMs against a reload
    std::string served_tls_pem_;
    std::string served_signing_pem_;
};

// The receipt of a stored package, as a push answers it.
boost::json::object receipt_json(const storage::PackageRecord& record, std::uint64_t audit_index);
// What every push ends with, in one request or as a resumable upload: the last chunk sealed, the
// manifest signed, the package and its access-log entry committed together. The receipt (201,
// saying which package it repeats if the dataset's newest has the same digest), or the refusal.
Response commit_push(storage::PackageWriter& writer, const storage::PackageDraft& draft,
                     const certs::ManifestSigner& signer, const RequestHead& head, const std::string& principal,
                     const std::string& reason);

// An age X25519 recipient in its one canonical spelling, or an error.
Result<std::string> canonical_recipient(std::string_view text);

policies::Agreement agreement_view(const storage::AgreementRecord& record);
// `continuing`: for a request that continues a download (a Range from inside it), whose last
// download reached its end but may not have reached the reader.
policies::Approval approval_view(const storage::ApprovalRecord& record, bool continuing = false);
// standing, withdrawn, expired or used up
std::string approval_state(const storage::ApprovalRecord& approval, std::int64_t now);
boost::json::object approval_json(const storage::ApprovalRecord& approval);
// Ids of agreements, approvals and requests: a prefix and 64 random bits in hex.
bool is_grant_id(std::string_view id, std::string_view prefix);

// Exposed for tests: input checks at the boundary.
// A tus Upload-Metadata header: key to decoded value (empty when the value is absent); refused if
// malformed, longer than 4 KiB, or naming a key twice.
Result<std::unordered_map<std::string, std::string>> parse_upload_metadata(std::string_view header);
// A tus Upload-Checksum header: "sha256 " and 32 bytes in base64.
Result<crypto::Sha256::Digest> parse_upload_checksum(std::string_view header);
bool is_slug(std::string_view text) noexcept;
using policies::is_safe_filename;
// An RFC 8187 value in UTF-8 (UTF-8''na%C3%AFve.csv) decoded; nullopt if it is not one.
std::optional<std::string> decode_extended_value(std::string_view value);
bool is_media_type(std::string_view text) noexcept;
struct ByteRange {
    std::uint64_t first;
    std::uint64_t last;  // inclusive
};
// Parses a single-range `Range: bytes=…` header against a payload size. nullopt inside the
// Result means "serve the whole payload" (absent or multi-range); an error means 416.
Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size);

}  // namespace serambi::gateway
