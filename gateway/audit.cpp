// The access log as the gateway writes and serves it: one canonical-JSON entry per request,
// checkpoints signed with the log key, and the auditor's routes. No Beast here.
#include <boost/json.hpp>
#include <charconv>

#include "crypto/tlog.h"
#include "gateway/canonical_json.h"
#include "gateway/handler.h"

namespace serambi::gateway {
namespace {

// Log fields may carry bytes a client chose; keep them printable and bounded.
std::string clean(std::string_view text, std::size_t max = 512) {
    std::string out;
    for (const char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

std::string resource_of(const RequestHead& head) {
    std::string_view path = head.target;
    path = path.substr(0, path.find('?'));
    if (path.starts_with("/v1/"))
        path.remove_prefix(4);
    else if (!path.empty() && path.front() == '/')
        path.remove_prefix(1);
    return clean(path, 300);
}

boost::json::array base64_hashes(const std::vector<crypto::tlog::Hash>& hashes) {
    boost::json::array out;
    for (const auto& h : hashes) out.emplace_back(crypto::to_base64(h));
    return out;
}

Response text_response(std::string body, const char* type) {
    Response r;
    r.headers.emplace_back("Content-Type", type);
    r.headers.emplace_back("Cache-Control", "no-store");
    r.body = std::move(body);
    return r;
}

}  // namespace

AuditTrail::AuditTrail(storage::Store& store, crypto::tlog::NoteSigner signer)
    : store_(store), signer_(std::move(signer)) {}

namespace {

boost::json::object entry_object(const RequestHead& head, const Response& response, std::uint64_t bytes_in,
                                 std::uint64_t bytes_out) {
    const auto& a = response.audit;
    return boost::json::object{
        {"time", utc_now()},
        {"request_id", head.request_id},
        {"principal", response.principal.empty() ? clean(head.cert_principal_id, 64) : response.principal},
        {"cert_serial", clean(head.cert_serial, 80)},
        {"remote", clean(head.remote, 64)},
        {"method", clean(head.method, 16)},
        {"action", a.action.empty() ? std::string(route_action(head.method, head.target)) : a.action},
        {"resource", a.resource.empty() ? resource_of(head) : a.resource},
        {"classification", a.classification},
        {"status", response.status},
        {"decision", a.failed || response.status >= 500 ? "error"
                     : response.status < 400            ? "allow"
                                                        : "deny"},
        {"reason", clean(a.reason)},
        {"bytes_in", bytes_in},
        {"bytes_out", bytes_out},
        {"sha256", a.sha256}};
}

std::string canonical(const boost::json::object& o) {
    // Every value is a string or an integer, so canonicalisation cannot fail.
    auto text = canonical_json(o);
    return text ? *text : std::string("{}");
}

}  // namespace

std::string AuditTrail::entry(const RequestHead& head, const Response& response, std::uint64_t bytes_in,
                              std::uint64_t bytes_out) {
    return canonical(entry_object(head, response, bytes_in, bytes_out));
}

std::string AuditTrail::incomplete_entry(const RequestHead& head, const Response& response, std::uint64_t bytes_in,
                                         std::uint64_t sent, std::uint64_t expected, const std::string& cause) {
    auto o = entry_object(head, response, bytes_in, sent);
    // Its own action, so that counting pulls by action and status counts this one once.
    o["action"] = std::string(o["action"].as_string()) + ".incomplete";
    o["decision"] = "error";
    o["reason"] =
        clean("incomplete: " + std::to_string(sent) + " of " + std::to_string(expected) + " bytes sent; " + cause);
    return canonical(o);
}

std::string AuditTrail::stream_closed_entry(const RequestHead& head, const Response& response, std::uint64_t bytes_out,
                                            std::uint64_t events, const std::string& cause) {
    auto o = entry_object(head, response, 0, bytes_out);
    // Its own action, so that counting follows by action counts each stream once, at its opening.
    o["action"] = std::string(o["action"].as_string()) + ".closed";
    o["reason"] = clean("closed after " + std::to_string(events) + " entries: " + cause);
    return canonical(o);
}

std::string AuditTrail::refused_entry(const std::string& remote, const std::string& subject,
                                      const std::string& reason) {
    boost::json::object o{{"time", utc_now()},
                          {"action", "tls.handshake"},
                          {"decision", "deny"},
                          {"remote", clean(remote, 64)},
                          {"refused_subject", clean(subject, 300)},
                          {"reason", clean(reason)}};
    return canonical(o);
}

std::string AuditTrail::delivery_entry(const std::string& owner, const std::string& resource, bool delivered,
                                       std::int64_t status, const std::string& reason) {
    const boost::json::object o{{"time", utc_now()},
                                {"action", "hook.delivery"},
                                {"principal", clean(owner, 64)},
                                {"method", "POST"},
                                {"resource", clean(resource, 300)},
                                {"status", status},
                                {"decision", delivered ? "allow" : "error"},
                                {"reason", clean(reason, 1024)}};
    return canonical(o);
}

std::string AuditTrail::event_entry(const std::string& action, const std::string& resource, const std::string& decision,
                                    const std::string& reason) {
    const boost::json::object o{{"time", utc_now()},
                                {"action", clean(action, 64)},
                                {"resource", clean(resource, 300)},
                                {"decision", clean(decision, 16)},
                                {"reason", clean(reason, 1024)}};
    return canonical(o);
}

std::string AuditTrail::key_rotation_entry(const std::string& old_key, const std::string& new_key) {
    const boost::json::object o{{"time", utc_now()},
                                {"action", "log.key_rotated"},
                                {"resource", "audit/key"},
                                {"decision", "allow"},
                                {"old_key", old_key},
                                {"new_key", new_key},
                                {"reason",
                                 "the access log's key is rotated (serambi keys rotate-log): checkpoints "
                                 "after the next entry are signed by the new key"}};
    return canonical(o);
}

std::string AuditTrail::key_handover_entry(const std::string& note) {
    const boost::json::object o{{"time", utc_now()},
                                {"action", "log.key_handover"},
                                {"resource", "audit/key"},
                                {"decision", "allow"},
                                {"checkpoint", note}};
    return canonical(o);
}

std::string AuditTrail::reload_entry(const std::string& tls_serial, const std::string& signing_serial,
                                     const std::string& failure) {
    boost::json::object o{{"time", utc_now()},
                          {"action", "gateway.reload"},
                          {"resource", "pki/gateway"},
                          {"decision", failure.empty() ? "allow" : "error"}};
    if (!tls_serial.empty()) o["tls_certificate_serial"] = tls_serial;
    if (!signing_serial.empty()) o["signing_certificate_serial"] = signing_serial;
    o["reason"] = failure.empty() ? "SIGHUP: TLS and signing certificates replaced" : "SIGHUP: " + clean(failure);
    return canonical(o);
}

std::string AuditTrail::refused_count_entry(std::uint64_t count, unsigned per_minute) {
    const boost::json::object o{
        {"time", utc_now()},
        {"action", "tls.handshake"},
        {"decision", "deny"},
        {"count", count},
        {"reason", std::to_string(count) +
                       " further handshakes refused, counted but not recorded one by one "
                       "(over " +
                       std::to_string(per_minute) + " refusal entries a minute, or a tenth of that from one address)"}};
    return canonical(o);
}

Result<std::uint64_t> AuditTrail::record(std::string entry) {
    std::vector<std::string> one;
    one.push_back(std::move(entry));
    return store_.log().append(std::move(one));
}

void AuditTrail::record_async(std::string entry, storage::AccessLog::Done done) {
    std::vector<std::string> one;
    one.push_back(std::move(entry));
    store_.log().append_async(std::move(one), std::move(done));
}

Result<std::string> AuditTrail::checkpoint() {
    std::lock_guard lock(mutex_);
    auto head = store_.log().head();
    if (!head) return head.error();
    if (head->size == issued_size_) return issued_;
    // Recorded outside the database before anyone can see it: a database later restored from
    // behind this checkpoint is then noticed at start instead of silently forking the log.
    if (state_ != nullptr)
        if (auto s = state_->record_checkpoint(head->size, head->root); !s)
            return make_error(ErrorKind::unavailable, "the state file cannot be written: " + s.error().message);
    const auto note = signer_.sign(crypto::tlog::checkpoint_body({signer_.name(), head->size, head->root}));
    if (auto s = store_.log().save_checkpoint(head->size, note); !s) return s.error();
    issued_size_ = head->size;
    issued_ = note;
    issued_at_ = std::chrono::steady_clock::now();
    if (on_issue_) on_issue_();
    return note;
}

bool AuditTrail::due(std::chrono::milliseconds interval) {
    std::lock_guard lock(mutex_);
    return std::chrono::steady_clock::now() - issued_at_ >= interval;
}

namespace {

// The access log from one index on, as server-sent events: each entry once, in order, with its
// index as the event id (what a client resumes from with Last-Event-ID).
class LogFollower final : public EventSource {
  public:
    LogFollower(storage::Store& store, std::uint64_t next) : store_(store), next_(next) {}

    Result<Batch> next_events() override {
        // The committed size alone, no database read, while nothing is new: a follower waiting
        // costs the log's writer nothing.
        const std::uint64_t size = store_.log().size();
        Batch out;
        // A bounded batch, by rows and by bytes: a follower far behind catches up over several
        // rounds, each written before the next is read.
        constexpr std::size_t kRows = 1000;
        constexpr std::size_t kBytes = 256 * 1024;
        while (next_ < size && out.text.size() < kBytes) {
            std::vector<std::uint64_t> indexes;
            auto rows = store_.log().entries(next_, size, kRows, &indexes);
            if (!rows) return rows.error();
            if (rows->empty()) {  // rows missing from a damaged log: past them, to what follows
                next_ = std::min<std::uint64_t>(size, next_ + kRows);
                continue;
            }
            for (std::size_t i = 0; i < rows->size(); ++i) {
                if (!out.text.empty() && out.text.size() + (*rows)[i].size() + 48 > kBytes) {
                    next_ = indexes[i];
                    return out;
                }
                // An entry is one line of canonical JSON: it cannot end the event early.
                out.text += "id: " + std::to_string(indexes[i]) + "\nevent: entry\ndata: " + (*rows)[i] + "\n\n";
                ++out.count;
                next_ = indexes[i] + 1;
            }
            // Fewer rows than asked: the rest of the range up to `size` has none.
            if (rows->size() < kRows) next_ = std::max(next_, size);
        }
        return out;
    }

  private:
    storage::Store& store_;
    std::uint64_t next_;
};

}  // namespace

Response Handler::get_audit(const RequestHead& head, const Caller& caller, std::string_view what, const Query& query) {
    const auto& rid = head.request_id;
    const auto decision = services_.policy->decide(caller.subject, policies::Action::read_audit, nullptr);
    if (!decision.allow) {
        auto hidden = problem(ErrorKind::not_found, "no such route", rid);
        hidden.audit.reason = decision.reason;
        return hidden;
    }
    auto& trail = *services_.audit;
    auto& store = trail.store();
    auto bad_query = [&](const Error& e) { return problem(ErrorKind::invalid_argument, e.message, rid); };
    Response r;
    if (what == "checkpoint") {
        // With witnessed=N: the newest checkpoint that N witnesses cosigned. Without: the newest,
        // with the cosignatures it has so far (witnesses answer within seconds of its issue).
        auto witnessed = query.number("witnessed");
        if (!witnessed && witnessed.error().kind != ErrorKind::not_found) return bad_query(witnessed.error());
        std::string note;
        if (witnessed && *witnessed > 0) {
            auto cp = store.log().newest_witnessed(static_cast<std::size_t>(std::min<std::uint64_t>(*witnessed, 1000)));
            if (!cp) return problem_of(cp.error(), rid);
            note = std::move(cp->note);
        } else {
            auto issued = trail.checkpoint();
            if (!issued) return problem_of(issued.error(), rid);
            note = std::move(*issued);
            auto cp = crypto::tlog::parse_checkpoint_body(note.substr(0, note.find("\n\n") + 1));
            auto lines = cp ? store.log().cosignatures(cp->size) : Result<std::vector<std::string>>(cp.error());
            if (!lines) return problem_of(lines.error(), rid);
            for (const auto& line : *lines) note += line;
        }
        r = text_response(std::move(note), "text/plain; charset=utf-8");
    } else if (what == "key") {
        r = text_response(trail.verifier_key() + "\n", "text/plain; charset=utf-8");
    } else if (what == "entries") {
        auto head_now = store.log().head();
        if (!head_now) return problem_of(head_now.error(), rid);
        auto start = query.number("start");
        auto end = query.number("end");
        if (!start && start.error().kind != ErrorKind::not_found) return bad_query(start.error());
        if (!end && end.error().kind != ErrorKind::not_found) return bad_query(end.error());
        const std::uint64_t from = start ? *start : 0;
        const std::uint64_t to = end ? std::min(*end, head_now->size) : head_now->size;
        constexpr std::size_t kPage = 10000;
        std::vector<std::uint64_t> indexes;
        auto rows = store.log().entries(from, to, kPage, &indexes);
        if (!rows) return problem_of(rows.error(), rid);
        const auto principal = query.text("principal"), dataset = query.text("dataset"), action = query.text("action"),
                   decided = query.text("decision"), since = query.text("since"), until = query.text("until"),
                   package = query.text("package"), classification = query.text("classification");
        const bool filtered = principal || dataset || action || decided || since || until || package || classification;
        // Times compare as the entries write them (RFC 3339 UTC, seconds); a bare date is its
        // midnight UTC. Anything else is refused rather than compared as text.
        std::string since_text, until_text;
        for (auto [given, out] : {std::pair{&since, &since_text}, std::pair{&until, &until_text}}) {
            if (!*given) continue;
            auto t = parse_time(**given);
            if (!t)
                return problem(ErrorKind::invalid_argument,
                               "since and until are dates (2026-11-25) or UTC times (2026-11-25T08:00:00Z)", rid);
            *out = format_time(*t);
        }
        for (const auto* text : {&principal, &dataset, &action, &decided, &package, &classification})
            if (*text && ((*text)->empty() || (*text)->size() > 256))
                return problem(ErrorKind::invalid_argument, "a filter is 1 to 256 characters", rid);
        // With indexed=true each line is {"index": N, "entry": "the entry as logged"}, so that a
        // filtered view still names each entry's place in the tree and its exact bytes.
        const auto indexed = query.text("indexed");
        if (indexed && *indexed != "true" && *indexed != "false")
            return problem(ErrorKind::invalid_argument, "indexed is true or false", rid);
        const bool with_index = indexed && *indexed == "true";
        std::string body;
        for (std::size_t i = 0; i < rows->size(); ++i) {
            auto& row = (*rows)[i];
            const std::uint64_t at = indexes[i];
            if (filtered) {
                boost::system::error_code ec;
                auto v = boost::json::parse(row, ec);
                if (ec || !v.is_object()) continue;
                const auto& o = v.as_object();
                auto field = [&](const char* key) {
                    const auto* f = o.if_contains(key);
                    return f && f->is_string() ? std::string(f->get_string()) : std::string();
                };
                if (principal && field("principal") != *principal) continue;
                if (action && field("action") != *action) continue;
                if (decided && field("decision") != *decided) continue;
                const std::string resource = field("resource");
                if (dataset && resource != "datasets/" + *dataset &&
                    !resource.starts_with("datasets/" + *dataset + "/"))
                    continue;
                if (package) {
                    // "datasets/D/packages/ID…", or "packages/ID…" for a request refused before its
                    // dataset was known (a probe of a hidden package).
                    const std::string name = "packages/" + *package;
                    const auto found = resource.starts_with(name) ? 0 : resource.find("/" + name);
                    const auto after = found == std::string::npos ? found : found + (found == 0 ? 0 : 1) + name.size();
                    if (found == std::string::npos || (after != resource.size() && resource[after] != '/')) continue;
                }
                if (classification && field("classification") != *classification) continue;
                if (since && field("time") < since_text) continue;
                if (until && field("time") >= until_text) continue;
            }
            if (with_index) {
                body += boost::json::serialize(boost::json::object{{"index", at}, {"entry", row}});
            } else {
                body += row;
            }
            body += '\n';
        }
        r = text_response(std::move(body), "application/jsonl");
        // Where the next page starts: a client exporting the log asks again from there.
        r.headers.emplace_back("Serambi-Next-Start", std::to_string(std::min<std::uint64_t>(to, from + kPage)));
        r.headers.emplace_back("Serambi-Log-Size", std::to_string(head_now->size));
    } else if (what == "follow") {
        // From `start` (default: the end, so that only new entries come), or from the entry after
        // the last one a reconnecting client saw.
        auto head_now = store.log().head();
        if (!head_now) return problem_of(head_now.error(), rid);
        auto start = query.number("start");
        if (!start && start.error().kind != ErrorKind::not_found) return bad_query(start.error());
        std::uint64_t from = start ? *start : head_now->size;
        if (auto last = head.header("Last-Event-ID")) {
            std::uint64_t seen = 0;
            const auto* end = last->data() + last->size();
            auto [p, ec] = std::from_chars(last->data(), end, seen);
            if (ec != std::errc() || p != end || seen == UINT64_MAX)
                return problem(ErrorKind::invalid_argument, "Last-Event-ID is the index of an entry", rid);
            from = seen + 1;
        }
        if (from > head_now->size)
            return problem(ErrorKind::invalid_argument,
                           (head.header("Last-Event-ID") ? std::string("Last-Event-ID") : std::string("start")) +
                               " is beyond the log's end (" + std::to_string(head_now->size) + " entries)",
                           rid);
        r.headers.emplace_back("Content-Type", "text/event-stream");
        r.headers.emplace_back("Cache-Control", "no-store");
        r.headers.emplace_back("Serambi-Log-Size", std::to_string(head_now->size));
        r.events = std::make_shared<LogFollower>(store, from);
    } else if (what == "proof/inclusion") {
        auto index = query.number("index");
        auto size = query.number("size");
        if (!index) return bad_query(index.error());
        if (!size) return bad_query(size.error());
        auto proof = store.log().inclusion(*index, *size);
        if (!proof) return problem_of(proof.error(), rid);
        r = text_response(boost::json::serialize(boost::json::object{
                              {"index", *index}, {"size", *size}, {"hashes", base64_hashes(*proof)}}) +
                              "\n",
                          "application/json");
    } else if (what == "proof/consistency") {
        auto old_size = query.number("old");
        auto new_size = query.number("new");
        if (!old_size) return bad_query(old_size.error());
        if (!new_size) return bad_query(new_size.error());
        auto proof = store.log().consistency(*old_size, *new_size);
        if (!proof) return problem_of(proof.error(), rid);
        r = text_response(boost::json::serialize(boost::json::object{
                              {"old", *old_size}, {"new", *new_size}, {"hashes", base64_hashes(*proof)}}) +
                              "\n",
                          "application/json");
    } else {
        return problem(ErrorKind::not_found, "no such route", rid);
    }
    r.audit.reason = decision.reason;
    return r;
}

boost::json::object package_json(const storage::PackageRecord& p);

Response Handler::get_audit_package(const RequestHead& head, const Caller& caller, const std::string& id) {
    const auto& rid = head.request_id;
    const auto decision = services_.policy->decide(caller.subject, policies::Action::read_package_metadata, nullptr);
    if (!decision.allow) {
        auto hidden = problem(ErrorKind::not_found, "no such route", rid);
        hidden.audit.reason = decision.reason;
        return hidden;
    }
    auto missing = [&] {
        auto r = problem(ErrorKind::not_found, "no such package", rid);
        r.audit.reason = decision.reason;
        return r;
    };
    if (!storage::is_package_id(id)) return missing();
    auto record = services_.store->packages().package(id);
    if (!record) return record.error().kind == ErrorKind::not_found ? missing() : problem_of(record.error(), rid);
    Response r = text_response(boost::json::serialize(package_json(*record)) + "\n", "application/json");
    r.audit.classification = record->classification;
    r.audit.reason = decision.reason;
    return r;
}

Response Handler::get_log_proof(const RequestHead& head, const Caller& caller, const Query& query) {
    const auto& rid = head.request_id;
    auto& store = services_.audit->store();
    auto not_found = [&](const std::string& why) {
        auto r = problem(ErrorKind::not_found, "no such entry of yours in the access log", rid);
        r.audit.reason = why;
        return r;
    };
    auto witnessed = query.number("witnessed");
    if (!witnessed && witnessed.error().kind != ErrorKind::not_found)
        return problem(ErrorKind::invalid_argument, witnessed.error().message, rid);
    const std::size_t min_cosignatures =
        witnessed ? static_cast<std::size_t>(std::min<std::uint64_t>(*witnessed, 1000)) : 0;

    // The entry is named by its index, or by the request it records (Serambi-Request-Id of an
    // answer), since a pull learns its index only after the transfer.
    auto index = query.number("index");
    const auto request = query.text("request");
    if (index.ok() == request.has_value())
        return problem(ErrorKind::invalid_argument, "name the entry by index=N or by request=REQUEST-ID (one of them)",
                       rid);
    std::vector<std::uint64_t> candidates;
    if (index) {
        candidates.push_back(*index);
    } else {
        if (request->empty() || request->size() > 64 ||
            request->find_first_not_of("0123456789abcdef") != std::string::npos)
            return problem(ErrorKind::invalid_argument, "a request id is lowercase hexadecimal", rid);
        // Recent entries only: a request's own entry is among the last ones when it is asked for.
        auto found = store.log().find_recent("\"request_id\":\"" + *request + "\"", 20000);
        if (!found) return problem_of(found.error(), rid);
        candidates = std::move(*found);
        if (candidates.empty()) {
            auto r =
                problem(ErrorKind::unavailable, "that request is not in the access log yet; ask again shortly", rid);
            r.headers.emplace_back("Retry-After", "1");
            return r;
        }
    }
    for (const auto at : candidates) {
        auto rows = store.log().entries(at, at + 1, 1);
        if (!rows) return problem_of(rows.error(), rid);
        if (rows->empty()) continue;
        const std::string& entry = rows->front();
        boost::system::error_code ec;
        auto v = boost::json::parse(entry, ec);
        const auto* who = !ec && v.is_object() ? v.as_object().if_contains("principal") : nullptr;
        const std::string principal = who && who->is_string() ? std::string(who->get_string()) : std::string();
        policies::Context context;
        context.entry_principal = principal;
        const auto decision = services_.policy->decide(caller.subject, policies::Action::read_proof, nullptr, context);
        if (!decision.allow) {
            if (index) return not_found(decision.reason);
            continue;  // the same request id in someone else's entry: not this caller's
        }
        auto cp = store.log().checkpoint_covering(at, min_cosignatures);
        if (!cp && cp.error().kind == ErrorKind::not_found && min_cosignatures == 0 &&
            services_.audit->due(std::chrono::milliseconds(250))) {
            // Issued now rather than at the next tick, so that a receipt's proof is at hand; at
            // most four a second, whoever asks, and requests arriving together share one.
            if (auto issued = services_.audit->checkpoint(); !issued) return problem_of(issued.error(), rid);
            cp = store.log().checkpoint_covering(at, 0);
        }
        if (!cp) {
            if (cp.error().kind != ErrorKind::not_found) return problem_of(cp.error(), rid);
            // Checkpoints follow entries within a second; cosignatures within a few more.
            auto r = problem(ErrorKind::unavailable, cp.error().message + "; ask again shortly", rid);
            r.headers.emplace_back("Retry-After", "1");
            r.audit.reason = decision.reason;
            return r;
        }
        auto hashes = store.log().inclusion(at, cp->size);
        if (!hashes) return problem_of(hashes.error(), rid);
        crypto::tlog::Proof proof{entry, at, std::move(*hashes), std::move(cp->note)};
        Response r = text_response(crypto::tlog::format_proof(proof), "text/plain; charset=utf-8");
        r.headers.emplace_back("Serambi-Audit-Index", std::to_string(at));
        r.audit.reason = decision.reason;
        r.audit.resource = "log/entries/" + std::to_string(at);
        return r;
    }
    return not_found(index ? "no entry at that index" : "no entry of the caller's records that request");
}

}  // namespace serambi::gateway
