// GET /metrics: the gateway's state in the Prometheus text format (version 0.0.4), computed at
// scrape time. It names principals and their certificates' end dates, so the policy decides who
// may read it and every scrape is in the access log like any other request.
#include <string>

#include "gateway/expiry.h"
#include "gateway/handler.h"
#include "gateway/witnesses.h"

namespace serambi::gateway {
namespace {

// A label value, escaped as the text format requires. Names come from certificates we issued
// or adopted (a common name is at most 64 characters), so nothing is cut.
std::string label(std::string_view value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n')
            out += "\\n";
        else if (static_cast<unsigned char>(c) >= 0x20)
            out += c;
    }
    return out;
}

class Exposition {
  public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        text_ += "# HELP ";
        text_ += name;
        text_ += ' ';
        text_ += help;
        text_ += "\n# TYPE ";
        text_ += name;
        text_ += ' ';
        text_ += type;
        text_ += '\n';
    }
    void sample(std::string_view name, std::string_view labels, std::int64_t value) {
        text_ += name;
        if (!labels.empty()) {
            text_ += '{';
            text_ += labels;
            text_ += '}';
        }
        text_ += ' ';
        text_ += std::to_string(value);
        text_ += '\n';
    }
    std::string take() { return std::move(text_); }

  private:
    std::string text_;
};

std::string labels(const CertificateEnd& e) {
    return "kind=\"" + e.kind + "\",name=\"" + label(e.name) + "\",serial=\"" + label(e.serial) + "\"";
}

}  // namespace

Response Handler::get_metrics(const RequestHead& head, const Caller& caller) {
    const auto decision = services_.policy->decide(caller.subject, policies::Action::read_metrics, nullptr);
    if (!decision.allow) {  // the route's existence is not revealed either
        auto hidden = problem(ErrorKind::not_found, "no such route", head.request_id);
        hidden.audit.reason = decision.reason;
        return hidden;
    }
    const auto now = now_seconds();
    std::vector<CertificateEnd> expiries;
    std::vector<std::string> unreadable;
    // The gateway's own certificates as in use now; files replaced but not yet reloaded do not count.
    std::string served_tls, served_signing;
    {
        std::lock_guard lock(signer_mutex_);
        served_tls = served_tls_pem_;
        served_signing = served_signing_pem_;
    }
    for (const auto& [name, pem] :
         {std::pair<std::string, const std::string*>{"tls", &served_tls}, {"signing", &served_signing}})
        if (!bundle_ends("gateway", name, *pem, expiries)) unreadable.push_back(name);
    (void)bundle_ends("ca", "", services_.ca.cert_pem, expiries);
    std::size_t revoked_principals = 0;
    const RevokedSerials none;
    auto principals =
        principal_ends(*services_.store, services_.revoked ? *services_.revoked : none, expiries, &revoked_principals);
    if (!principals) return problem_of(principals.error(), head.request_id);
    auto revocations = services_.store->registry().revocations();
    if (!revocations) return problem_of(revocations.error(), head.request_id);
    auto log_head = services_.store->log().head();
    if (!log_head) return problem_of(log_head.error(), head.request_id);

    Exposition out;
    const auto* counters = services_.counters;
    if (counters) {
        out.family("serambi_start_time_seconds", "gauge", "When this gateway process started, Unix time.");
        out.sample("serambi_start_time_seconds", "", counters->started_at);
        if (const auto* table = counters->connections) {
            out.family("serambi_connections_open", "gauge", "Authenticated TLS connections open now.");
            out.sample("serambi_connections_open", "", static_cast<std::int64_t>(table->established()));
            out.family("serambi_handshakes_pending", "gauge", "Connections still in the TLS handshake.");
            out.sample("serambi_handshakes_pending", "", static_cast<std::int64_t>(table->pending()));
            out.family("serambi_connections_refused_total", "counter",
                       "Connections refused: pending handshakes closed to make room for newer ones; after the "
                       "handshake, when every slot (in all or for the principal) was busy.");
            out.sample("serambi_connections_refused_total", "stage=\"handshake\"",
                       static_cast<std::int64_t>(table->refused_pending()));
            out.sample("serambi_connections_refused_total", "stage=\"slot\"",
                       static_cast<std::int64_t>(table->refused_busy()));
            out.family("serambi_connections_evicted_total", "counter",
                       "Idle keep-alive connections closed to make room.");
            out.sample("serambi_connections_evicted_total", "", static_cast<std::int64_t>(table->evicted()));
        }
        out.family("serambi_responses_total", "counter", "Responses sent, by status class.");
        for (std::size_t cls = 1; cls < 6; ++cls)
            out.sample("serambi_responses_total", "code=\"" + std::to_string(cls) + "xx\"",
                       static_cast<std::int64_t>(counters->responses[cls].load(std::memory_order_relaxed)));
        out.family("serambi_handshakes_refused_total", "counter",
                   "TLS handshakes refused (bad, expired, revoked or missing client certificate).");
        out.sample("serambi_handshakes_refused_total", "",
                   static_cast<std::int64_t>(counters->handshakes_refused.load()));
        out.family(
            "serambi_handshakes_refused_unrecorded_total", "counter",
            "Refused handshakes over the access log's per-minute budget: recorded as counts, not one entry each.");
        out.sample("serambi_handshakes_refused_unrecorded_total", "",
                   static_cast<std::int64_t>(counters->handshakes_counted.load()));
        out.family("serambi_transfers_incomplete_total", "counter", "Downloads that stopped before their last byte.");
        out.sample("serambi_transfers_incomplete_total", "",
                   static_cast<std::int64_t>(counters->transfers_incomplete.load()));
        out.family("serambi_received_bytes_total", "counter", "Request body bytes received.");
        out.sample("serambi_received_bytes_total", "", static_cast<std::int64_t>(counters->bytes_received.load()));
        out.family("serambi_sent_bytes_total", "counter", "Response body bytes sent.");
        out.sample("serambi_sent_bytes_total", "", static_cast<std::int64_t>(counters->bytes_sent.load()));
        out.family("serambi_reloads_total", "counter", "SIGHUP reloads of the gateway's certificates, by result.");
        out.sample("serambi_reloads_total", "result=\"ok\"", static_cast<std::int64_t>(counters->reloads.load()));
        out.sample("serambi_reloads_total", "result=\"refused\"",
                   static_cast<std::int64_t>(counters->reloads_failed.load()));
        if (counters->witnesses != nullptr) {
            const auto witnesses = counters->witnesses->status();
            if (!witnesses.empty()) {
                auto each = [&](const char* name, const char* type, const char* help, auto value) {
                    out.family(name, type, help);
                    for (const auto& w : witnesses)
                        out.sample(name, "witness=\"" + label(w.name) + "\"", static_cast<std::int64_t>(value(w)));
                };
                each("serambi_witness_cosigned_size", "gauge",
                     "The largest access-log checkpoint the witness cosigned (its tree size).",
                     [](const Witnesses::Status& w) { return w.cosigned_size; });
                each("serambi_witness_failing", "gauge",
                     "1 while the witness's last answer was not a cosignature (an alert: see the access log).",
                     [](const Witnesses::Status& w) { return w.failing ? 1 : 0; });
                each("serambi_witness_refusals_total", "counter",
                     "Checkpoints the witness refused (409, 422 or another 4xx): a rollback, a fork or a configuration "
                     "error.",
                     [](const Witnesses::Status& w) { return w.refusals; });
                each("serambi_witness_unreachable_total", "counter", "Submissions to the witness that got no answer.",
                     [](const Witnesses::Status& w) { return w.unreachable; });
            }
        }
    }
    if (auto disk = services_.store->packages().disk_use(); disk) {
        out.family("serambi_disk_free_bytes", "gauge",
                   "Free space on the blob store's file system, as the gateway may use it.");
        out.sample("serambi_disk_free_bytes", "", static_cast<std::int64_t>(disk->free_bytes));
        out.family("serambi_disk_reserve_bytes", "gauge",
                   "Free space kept in reserve (storage.reserve_bytes): pushes that would go below it get 507.");
        out.sample("serambi_disk_reserve_bytes", "", static_cast<std::int64_t>(services_.config->reserve_bytes));
        out.family("serambi_blob_store_bytes", "gauge", "Sealed payloads kept in blob files.");
        out.sample("serambi_blob_store_bytes", "", static_cast<std::int64_t>(disk->blob_bytes));
        out.family("serambi_database_bytes", "gauge",
                   "The database file and its write-ahead log (small payloads live in it).");
        out.sample("serambi_database_bytes", "", static_cast<std::int64_t>(disk->database_bytes));
    }
    out.family("serambi_access_log_entries", "gauge", "Entries in the access log (its tree size).");
    out.sample("serambi_access_log_entries", "", static_cast<std::int64_t>(log_head->size));
    out.family("serambi_principals", "gauge", "Registered principals, by whether their certificate is revoked.");
    out.sample("serambi_principals", "revoked=\"false\"", static_cast<std::int64_t>(*principals - revoked_principals));
    out.sample("serambi_principals", "revoked=\"true\"", static_cast<std::int64_t>(revoked_principals));
    out.family("serambi_revoked_certificates", "gauge", "Certificates on the CRL.");
    out.sample("serambi_revoked_certificates", "", static_cast<std::int64_t>(revocations->size()));

    out.family(
        "serambi_certificate_not_after_seconds", "gauge",
        "When each certificate in use ends, Unix time (gateway: tls, signing; ca: the bundle; principal: by id).");
    std::int64_t soon = 0, expired = 0;
    for (const auto& e : expiries) {
        out.sample("serambi_certificate_not_after_seconds", labels(e), e.not_after);
        if (e.not_after <= now)
            ++expired;
        else if (ends_soon(e.not_after, now))
            ++soon;
    }
    out.family("serambi_certificate_expiry_warning", "gauge",
               "1 for each certificate that has ended or ends within 30 days: renew it (serambi renew) or replace it.");
    for (const auto& e : expiries)
        if (ends_soon(e.not_after, now))
            out.sample("serambi_certificate_expiry_warning",
                       labels(e) + ",state=\"" + (e.not_after <= now ? "expired" : "expiring") + "\"", 1);
    out.family("serambi_certificates_expiring", "gauge", "Certificates that end within 30 days.");
    out.sample("serambi_certificates_expiring", "", soon);
    out.family("serambi_certificates_expired", "gauge", "Certificates in use that have ended.");
    out.sample("serambi_certificates_expired", "", expired);
    out.family("serambi_certificate_unreadable", "gauge", "1 for a gateway certificate in use that cannot be read.");
    for (const auto& name : unreadable) out.sample("serambi_certificate_unreadable", "name=\"" + name + "\"", 1);

    Response r;
    r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-store");
    const auto text = out.take();
    r.body = text;
    r.audit.resource = "metrics";
    r.audit.reason = decision.reason;
    return r;
}

}  // namespace serambi::gateway
