// Webhooks: principals register HTTPS receivers for events, and the gateway decides, from the
// committed access log, who may be told of what. Every notice is judged by the policy for the
// principal it goes to, exactly as that principal's own request would be: nothing is said of a
// package to someone who could not see it listed.
#include <algorithm>
#include <atomic>

#include "gateway/handler.h"
#include "gateway/hook_client.h"
#include "gateway/mail.h"

namespace serambi::gateway {

using policies::Action;

namespace {

constexpr std::size_t kMaxHooksPerPrincipal = 10;
constexpr std::size_t kDefaultDeliveries = 50;
constexpr std::size_t kMaxDeliveries = 500;
constexpr std::int64_t kApprovalNoticeSeconds = 24 * 3600;
constexpr std::int64_t kCertificateNoticeSeconds = 30 * 24 * 3600;
// An email hook's confirmation code: tries, and how long it may be used.
constexpr std::int64_t kMaxConfirmTries = 5;
constexpr std::size_t kMaxAddressesPerDay = 10;
constexpr std::int64_t kConfirmSeconds = 7 * 24 * 3600;
// 32 letters and digits that cannot be read as one another (no 0 O 1 I).
constexpr std::string_view kCodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

constexpr std::array<std::string_view, 6> kEvents = {"package.arrived", "release.requested", "release.approved",
                                                     "release.refused", "approval.expiring", "certificate.expiring"};

boost::json::object hook_json(const storage::HookRecord& h) {
    boost::json::array events;
    for (const auto& e : h.events) events.emplace_back(e);
    boost::json::object o{{"id", h.id},   {"owner", h.owner}, {"everyone", h.everyone},
                          {"url", h.url}, {"events", events}, {"created_at", format_time(h.created_at)}};
    o["confirmed"] = h.confirmed_at != 0;
    if (h.removed_at != 0) o["removed_at"] = format_time(h.removed_at);
    return o;
}

// "7QKM-3XWD": 40 random bits, read aloud or typed from an email without confusion.
std::string new_confirm_code() {
    std::array<std::uint8_t, 8> random{};
    crypto::random_bytes(random);
    std::string code;
    for (std::size_t i = 0; i < random.size(); ++i) {
        if (i == 4) code += '-';
        code += kCodeAlphabet[random[i] % kCodeAlphabet.size()];  // 256 is a multiple of 32: no bias
    }
    crypto::wipe(random);
    return code;
}

// The code as typed: case, spaces and hyphens do not matter. Its SHA-256 in hex is what is kept.
std::string confirm_code_hash(std::string_view typed) {
    std::string code;
    for (char c : typed) {
        if (c == '-' || c == ' ') continue;
        code += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    auto digest = crypto::Sha256::of(crypto::ByteView(reinterpret_cast<const std::uint8_t*>(code.data()), code.size()));
    crypto::wipe(code);
    return crypto::to_hex(digest);
}

boost::json::object delivery_json(const storage::DeliveryRecord& d) {
    return boost::json::object{{"id", d.id},
                               {"event", d.event},
                               {"recipient", d.recipient},
                               {"state", d.state},
                               {"attempts", d.attempts},
                               {"last_status", d.last_status},
                               {"last_error", d.last_error},
                               {"created_at", format_time(d.created_at)},
                               {"next_attempt_at", d.state == "pending" ? format_time(d.next_at) : std::string()},
                               {"delivered_at", d.delivered_at != 0 ? format_time(d.delivered_at) : std::string()}};
}

bool is_hook_id(std::string_view id) { return is_grant_id(id, "hook-"); }

// One of the few receiver lookups that may run at once, held for as long as it lives.
class LookupSlot {
  public:
    LookupSlot() {
        int now = running_.load();
        while (now < kMaxLookups && !running_.compare_exchange_weak(now, now + 1)) {
        }
        held_ = now < kMaxLookups;
    }
    ~LookupSlot() {
        if (held_) running_.fetch_sub(1);
    }
    LookupSlot(const LookupSlot&) = delete;
    LookupSlot& operator=(const LookupSlot&) = delete;
    bool held() const noexcept { return held_; }

  private:
    static constexpr int kMaxLookups = 2;
    static inline std::atomic<int> running_{0};
    bool held_ = false;
};

// The id a resource path ends with: "datasets/a/b/packages/ID" → "ID".
std::string last_segment(std::string_view resource) {
    const auto slash = resource.rfind('/');
    return std::string(slash == std::string_view::npos ? resource : resource.substr(slash + 1));
}

std::string member(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

// ---- Routes

Dispatch Handler::create_hook(const RequestHead& head, const Caller& caller) {
    return json_body(head, {"url", "events", "everyone"},
                     [this, head, caller](const boost::json::object&, const std::string& body) {
                         return create_hook_from(head, caller, body);
                     });
}

Response Handler::create_hook_from(const RequestHead& head, const Caller& caller, const std::string& body) {
    const auto& rid = head.request_id;
    auto object = parse_object(body);
    if (!object) return problem_of(object.error(), rid);
    auto url_text = string_member(*object, "url", 2048);
    if (!url_text) return problem_of(url_text.error(), rid);
    // Two kinds of receiver: an HTTPS endpoint, or an email address the relay writes to.
    const bool by_mail = is_mail_url(*url_text);
    std::string stored_url = *url_text;
    Result<HookUrl> url = HookUrl{};
    if (by_mail) {
        const auto& config = *services_.config;
        auto address = parse_mail_url(*url_text);
        if (!address) return problem_of(address.error(), rid);
        if (config.email_relay_host.empty())
            return problem(ErrorKind::invalid_argument,
                           "url: this gateway sends no email (its operator has not named an SMTP relay in [email])",
                           rid);
        if (!mail_domain_allowed(*address, config.email_allowed_domains)) {
            std::string domains;
            for (const auto& d : config.email_allowed_domains) domains += (domains.empty() ? "" : ", ") + d;
            return problem(ErrorKind::invalid_argument,
                           "url: this gateway sends email only to addresses at " + domains + " and below", rid);
        }
        stored_url = "mailto:" + *address;
    } else {
        url = parse_hook_url(*url_text);
        if (!url) return problem_of(url.error(), rid);
    }

    std::vector<std::string> events;
    const auto* listed = object->if_contains("events");
    if (listed == nullptr || !listed->is_array() || listed->as_array().empty())
        return problem(ErrorKind::invalid_argument,
                       "events: name at least one of package.arrived, release.requested, release.approved, "
                       "release.refused, approval.expiring, certificate.expiring",
                       rid);
    for (const auto& e : listed->as_array()) {
        if (!e.is_string() ||
            std::find(kEvents.begin(), kEvents.end(), std::string_view(e.as_string())) == kEvents.end())
            return problem(ErrorKind::invalid_argument,
                           "events: unknown event (known: package.arrived, release.requested, release.approved, "
                           "release.refused, approval.expiring, certificate.expiring)",
                           rid);
        const std::string name(e.as_string());
        if (std::find(events.begin(), events.end(), name) != events.end())
            return problem(ErrorKind::invalid_argument, "events: " + name + " is named twice", rid);
        events.push_back(name);
    }
    bool everyone = false;
    if (const auto* v = object->if_contains("everyone"); v != nullptr) {
        if (!v->is_bool()) return problem(ErrorKind::invalid_argument, "everyone: expected true or false", rid);
        everyone = v->as_bool();
    }

    // Hearing of other principals' events is a principal manager's; one's own, anyone's.
    AuditFacts decided;
    if (everyone) {
        const auto decision = services_.policy->decide(caller.subject, Action::manage_principals, nullptr);
        if (!decision.allow) {
            auto refused =
                problem(ErrorKind::permission_denied,
                        "only a principal manager (admin) may register a webhook for everyone's events", rid);
            refused.audit.reason = decision.reason;
            return refused;
        }
        decided.reason = "a principal manager's webhook for every principal's events";
    } else {
        decided.reason = "a principal's own webhook: it hears only what the principal may see";
    }
    const ReceiverRules rules{services_.config->webhook_allowed_networks, services_.config->webhook_ca_file.string(),
                              std::chrono::seconds(services_.config->webhook_timeout_seconds)};
    if (!by_mail) {
        // The lookup runs on a request thread, and a name server that never answers holds it for
        // the resolver's timeout: only a few at once, so that registrations cannot starve transfers.
        LookupSlot slot;
        if (!slot.held())
            return problem(ErrorKind::unavailable, "other webhooks' receivers are being checked; try again in a moment",
                           rid);
        if (auto checked = check_receiver(*url, rules); !checked) return problem_of(checked.error(), rid);
    }

    storage::HookRecord h;
    h.id = "hook-" + crypto::random_hex(8);
    h.owner = caller.subject.id;
    h.cert_serial = head.cert_serial;
    h.everyone = everyone;
    h.url = stored_url;
    h.events = std::move(events);
    std::array<std::uint8_t, 32> key{};
    crypto::random_bytes(key);
    h.secret = "whsec_" + crypto::to_base64(key);
    crypto::wipe(key);
    h.created_at = now_seconds();
    // It hears of what is committed from now on, not of the log's past.
    h.from_index = services_.store->log().size();
    // An email address hears nothing until whoever reads it confirms it with the code mailed to
    // it: a principal cannot have the official sender write to someone else's mailbox at will.
    std::optional<storage::DeliveryRecord> confirmation;
    std::string code;
    if (by_mail) {
        crypto::wipe(h.secret);
        code = new_confirm_code();
        h.secret = confirm_code_hash(code);
        storage::DeliveryRecord d;
        const std::string basis = h.id + "\naddress.confirm";
        d.id = "msg_" + crypto::to_hex(crypto::Sha256::of(crypto::ByteView(
                                           reinterpret_cast<const std::uint8_t*>(basis.data()), basis.size())))
                            .substr(0, 32);
        d.hook = h.id;
        d.event = "address.confirm";
        d.recipient = h.owner;
        d.body =
            boost::json::serialize(boost::json::object{{"type", "address.confirm"},
                                                       {"timestamp", format_time(h.created_at)},
                                                       {"data",
                                                        {{"hook_id", h.id},
                                                         {"owner", h.owner},
                                                         {"code", code},
                                                         {"expires_at", format_time(h.created_at + kConfirmSeconds)},
                                                         {"recipient", h.owner}}}});
        d.created_at = h.created_at;
        d.next_at = h.created_at;
        confirmation = std::move(d);
    } else {
        h.confirmed_at = h.created_at;
    }
    auto done = change_record(caller.subject.id, "hook.create", "hooks/" + h.id, decided.reason);
    done.status = 201;
    auto added = services_.store->hooks().add_hook(
        h, storage::Hooks::Limits{kMaxHooksPerPrincipal, kMaxAddressesPerDay},
        AuditTrail::entry(head, done, body.size(), 0), confirmation ? &*confirmation : nullptr);
    crypto::wipe(code);
    if (confirmation) crypto::wipe(confirmation->body);
    if (!added) {
        crypto::wipe(h.secret);
        return problem_of(added.error(), rid);
    }
    auto answer = hook_json(h);
    if (!by_mail) answer["secret"] = h.secret;  // shown once, here; email is not signed
    crypto::wipe(h.secret);
    auto r = committed(json_response(201, answer), done, *added);
    r.headers.emplace_back("Location", "/v1/hooks/" + h.id);
    return r;
}

Dispatch Handler::confirm_hook(const RequestHead& head, const Caller& caller, const std::string& id) {
    return json_body(head, {"code"}, [this, head, caller, id](const boost::json::object&, const std::string& body) {
        return confirm_hook_with(head, caller, id, body);
    });
}

Response Handler::confirm_hook_with(const RequestHead& head, const Caller& caller, const std::string& id,
                                    const std::string& body) {
    const auto& rid = head.request_id;
    auto object = parse_object(body);
    if (!object) return problem_of(object.error(), rid);
    auto typed = string_member(*object, "code", 64);
    if (!typed) return problem_of(typed.error(), rid);
    auto h = hook_for(caller, id);
    if (!h) return problem_of(h.error(), rid);
    // Only the owner confirms: the code proves that the owner reads the address it named.
    if (h->owner != caller.subject.id) return problem(ErrorKind::not_found, "no such webhook", rid);
    const std::string stored = h->secret;
    crypto::wipe(h->secret);
    if (!is_mail_url(h->url) || h->confirmed_at != 0)
        return problem(ErrorKind::conflict, "this hook needs no confirmation: it is confirmed", rid);
    if (now_seconds() > h->created_at + kConfirmSeconds)
        return problem(ErrorKind::conflict,
                       "the code has expired (7 days): remove the hook (serambi hook remove) and register it again",
                       rid);
    if (h->confirm_tries >= kMaxConfirmTries)
        return problem(ErrorKind::conflict,
                       "too many wrong codes: remove the hook (serambi hook remove) and register it again", rid);
    // The try is counted before the code is compared: requests at once share the five tries.
    auto taken = services_.store->hooks().take_confirm_try(id, kMaxConfirmTries);
    if (!taken) return problem_of(taken.error(), rid);
    if (!*taken)
        return problem(ErrorKind::conflict,
                       "too many wrong codes: remove the hook (serambi hook remove) and register it again", rid);
    const auto hash = confirm_code_hash(*typed);
    const bool right = hash.size() == stored.size() &&
                       crypto::equal_constant_time(
                           crypto::ByteView(reinterpret_cast<const std::uint8_t*>(hash.data()), hash.size()),
                           crypto::ByteView(reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size()));
    if (!right) {
        const auto left = kMaxConfirmTries - h->confirm_tries - 1;
        auto refused = problem(ErrorKind::invalid_argument,
                               "code: not the code mailed to the address (" +
                                   std::to_string(std::max<std::int64_t>(left, 0)) + " tries left)",
                               rid);
        refused.audit.reason = "a wrong confirmation code";
        return refused;
    }
    const auto at = now_seconds();
    auto done = change_record(caller.subject.id, "hook.confirm", "hooks/" + id,
                              "the owner confirmed the address with the code mailed to it");
    auto confirmed = services_.store->hooks().confirm_hook(id, at, services_.store->log().size(),
                                                           AuditTrail::entry(head, done, body.size(), 0));
    if (!confirmed) return problem_of(confirmed.error(), rid);
    h->confirmed_at = at;
    return committed(json_response(200, hook_json(*h)), done, *confirmed);
}

Result<storage::HookRecord> Handler::hook_for(const Caller& caller, const std::string& id) {
    const auto hidden = make_error(ErrorKind::not_found, "no such webhook");
    if (!is_hook_id(id)) return hidden;
    auto h = services_.store->hooks().hook(id);
    if (!h) return h.error().kind == ErrorKind::not_found ? hidden : h.error();
    if (h->owner != caller.subject.id &&
        !services_.policy->decide(caller.subject, Action::manage_principals, nullptr).allow)
        return hidden;
    return h;
}

Response Handler::list_hooks(const RequestHead& head, const Caller& caller) {
    const bool manager = services_.policy->decide(caller.subject, Action::manage_principals, nullptr).allow;
    auto hooks = services_.store->hooks().hooks(manager ? std::string() : caller.subject.id);
    if (!hooks) return problem_of(hooks.error(), head.request_id);
    boost::json::array out;
    for (const auto& h : *hooks) out.push_back(hook_json(h));
    auto r = json_response(200, out);
    r.audit.reason = manager ? "a principal manager sees every webhook" : "a principal's own webhooks";
    return r;
}

Dispatch Handler::remove_hook(const RequestHead& head, const Caller& caller, const std::string& id) {
    auto fail = [&](const Error& e) { return Dispatch{problem_of(e, head.request_id), nullptr}; };
    auto h = hook_for(caller, id);
    if (!h) return fail(h.error());
    const auto at = now_seconds();
    auto done = change_record(caller.subject.id, "hook.remove", "hooks/" + id,
                              h->owner == caller.subject.id ? "a principal's own webhook"
                                                            : "a principal manager removed " + h->owner + "'s webhook");
    auto removed = services_.store->hooks().remove_hook(id, at, AuditTrail::entry(head, done, 0, 0));
    if (!removed) return fail(removed.error());
    h->removed_at = at;
    return {committed(json_response(200, hook_json(*h)), done, *removed), nullptr};
}

Response Handler::list_deliveries(const RequestHead& head, const Caller& caller, const std::string& id,
                                  const Query& query) {
    auto h = hook_for(caller, id);
    if (!h) return problem_of(h.error(), head.request_id);
    // Who was told of what, and when, is the owner's alone: an admin manages hooks, but the
    // deliveries of a partner's would tell it of packages above its level.
    if (h->owner != caller.subject.id) return problem(ErrorKind::not_found, "no such webhook", head.request_id);
    std::size_t limit = kDefaultDeliveries;
    if (query.text("limit")) {
        auto n = query.number("limit");
        if (!n || *n < 1 || *n > kMaxDeliveries)
            return problem(ErrorKind::invalid_argument, "limit: expected a number from 1 to 500", head.request_id);
        limit = static_cast<std::size_t>(*n);
    }
    auto rows = services_.store->hooks().deliveries(id, limit);
    if (!rows) return problem_of(rows.error(), head.request_id);
    boost::json::array out;
    for (const auto& d : *rows) out.push_back(delivery_json(d));
    auto r = json_response(200, out);
    r.audit.resource = "hooks/" + id + "/deliveries";
    return r;
}

// ---- Who is told of what

Result<std::vector<Handler::Notice>> Handler::notices_of_entry(std::string_view entry, const Listening& listening) {
    std::vector<Notice> out;
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(entry, ec);
    if (ec || !parsed.is_object()) return out;  // not an entry of a request: nothing to tell
    const auto& o = parsed.as_object();
    if (member(o, "decision") != "allow") return out;
    const auto action = member(o, "action");
    const auto id = last_segment(member(o, "resource"));
    const auto time = member(o, "time");
    auto& store = *services_.store;

    auto principals = store.registry().principals();
    if (!principals) return principals.error();
    auto live = [&](const std::string& principal) -> const storage::Principal* {
        for (const auto& p : *principals)
            if (p.id == principal && p.removed_at.empty()) return &p;
        return nullptr;
    };
    auto wanted = [&](const std::string& principal) { return !listening || listening->contains(principal); };
    auto notice = [&](std::string event, std::string key, std::string recipient, boost::json::object data) {
        const auto* package = data.if_contains("package_id");
        std::string about = package != nullptr && package->is_string() ? std::string(package->as_string()) : "";
        out.push_back(
            Notice{std::move(event), std::move(key), std::move(recipient), time, std::move(data), std::move(about)});
    };
    // The package an event concerns, and what the policy decides on; not_found ends quietly (the
    // package may have been removed since: a notice about it would say nothing true).
    auto package_of = [&](const std::string& package) -> Result<std::optional<storage::PackageRecord>> {
        if (!storage::is_package_id(package)) return std::optional<storage::PackageRecord>();
        auto record = store.packages().package(package);
        if (!record && record.error().kind == ErrorKind::not_found) return std::optional<storage::PackageRecord>();
        if (!record) return record.error();
        return std::optional<storage::PackageRecord>(std::move(*record));
    };

    if (action == "package.push") {
        auto record = package_of(id);
        if (!record) return record.error();
        if (!*record) return out;
        auto dataset = store.registry().dataset((*record)->dataset);
        if (!dataset) return dataset.error();
        for (const auto& p : *principals) {
            if (!p.removed_at.empty() || p.id == (*record)->producer || !wanted(p.id)) continue;
            auto caller = caller_of(p);
            if (!caller) return caller.error();
            // Exactly what a listing would show this principal: released, or listed to ask for.
            auto seen = package_access(*caller, **record, dataset->owner);
            if (!seen) return seen.error();
            if (seen->empty()) continue;
            const auto& r = **record;
            notice("package.arrived", "package/" + r.id, p.id,
                   {{"package_id", r.id},
                    {"dataset", r.dataset},
                    {"filename", r.filename},
                    {"size", r.size},
                    {"classification", r.classification},
                    {"producer", r.producer},
                    {"created_at", r.created_at},
                    {"access", *seen}});
        }
    } else if (action == "request.create" || action == "request.refuse") {
        if (!is_grant_id(id, "req-")) return out;
        auto request = store.grants().request(id);
        if (!request && request.error().kind == ErrorKind::not_found) return out;
        if (!request) return request.error();
        auto record = package_of(request->package);
        if (!record) return record.error();
        if (!*record) return out;
        const auto& r = **record;
        if (action == "request.refuse") {
            if (request->state != "refused" || live(request->partner) == nullptr) return out;
            notice("release.refused", "refused/" + id, request->partner,
                   {{"request_id", id},
                    {"package_id", r.id},
                    {"dataset", r.dataset},
                    {"classification", r.classification},
                    {"partner", request->partner},
                    {"reason", request->reason}});
            return out;
        }
        auto facts = package_facts(r);
        if (!facts) return facts.error();
        for (const auto& p : *principals) {
            if (!p.removed_at.empty() || !wanted(p.id)) continue;
            auto caller = caller_of(p);
            if (!caller) return caller.error();
            // Those who could answer it: the policy's approvers, never the package's producer.
            if (!services_.policy->decide(caller->subject, Action::approve, &*facts).allow) continue;
            notice("release.requested", "requested/" + id, p.id,
                   {{"request_id", id},
                    {"package_id", r.id},
                    {"dataset", r.dataset},
                    {"classification", r.classification},
                    {"partner", request->partner},
                    {"purpose", request->purpose}});
        }
    } else if (action == "approval.create") {
        if (!is_grant_id(id, "apv-")) return out;
        auto approval = store.grants().approval(id);
        if (!approval && approval.error().kind == ErrorKind::not_found) return out;
        if (!approval) return approval.error();
        const auto* partner = live(approval->partner);
        if (partner == nullptr) return out;
        auto record = package_of(approval->package);
        if (!record) return record.error();
        if (!*record) return out;
        const auto& r = **record;
        auto facts = package_facts(r);
        if (!facts) return facts.error();
        auto caller = caller_of(*partner);
        if (!caller) return caller.error();
        auto approvals = approvals_for(*caller, r.id);
        if (!approvals) return approvals.error();
        const bool released = services_.policy
                                  ->decide(caller->subject, Action::read, &*facts,
                                           policies::Context{now_seconds(), caller->agreements, *approvals})
                                  .allow;
        notice("release.approved", "approved/" + id, approval->partner,
               {{"approval_id", id},
                {"package_id", r.id},
                {"dataset", r.dataset},
                {"classification", r.classification},
                {"partner", approval->partner},
                {"custodian", approval->custodian},
                {"expires_at", format_time(approval->expires_at)},
                {"released", released}});
    }
    return out;
}

Result<std::vector<Handler::Notice>> Handler::notices_of_endings(std::int64_t now) {
    std::vector<Notice> out;
    auto& store = *services_.store;
    auto principals = store.registry().principals();
    if (!principals) return principals.error();
    auto live = [&](const std::string& id) {
        return std::any_of(principals->begin(), principals->end(),
                           [&](const storage::Principal& p) { return p.id == id && p.removed_at.empty(); });
    };
    for (const auto& p : *principals) {
        if (!p.removed_at.empty() || p.cert_not_after.empty()) continue;
        auto ends = parse_time(p.cert_not_after);
        if (!ends || *ends <= now || *ends > now + kCertificateNoticeSeconds) continue;
        out.push_back(Notice{"certificate.expiring",
                             "certificate/" + p.cert_serial,
                             p.id,
                             format_time(now),
                             {{"principal", p.id}, {"serial", p.cert_serial}, {"not_after", format_time(*ends)}},
                             ""});
    }
    auto approvals = store.grants().approvals("", "");
    if (!approvals) return approvals.error();
    for (const auto& a : *approvals) {
        if (a.expires_at <= now || a.expires_at > now + kApprovalNoticeSeconds) continue;
        if (approval_state(a, now) != "standing" || !live(a.partner)) continue;
        auto record = store.packages().package(a.package);
        if (!record) continue;
        out.push_back(Notice{"approval.expiring",
                             "approval/" + a.id,
                             a.partner,
                             format_time(now),
                             {{"approval_id", a.id},
                              {"package_id", a.package},
                              {"dataset", record->dataset},
                              {"expires_at", format_time(a.expires_at)}},
                             a.package});
    }
    return out;
}

Result<bool> Handler::may_be_told(const std::string& principal, const Notice& notice) {
    if (notice.recipient == principal) return true;
    auto& store = *services_.store;
    auto p = store.registry().principal(principal);
    if (!p && p.error().kind == ErrorKind::not_found) return false;
    if (!p) return p.error();
    if (!p->removed_at.empty()) return false;
    auto caller = caller_of(*p);
    if (!caller) return caller.error();
    if (notice.package.empty())
        return services_.policy->decide(caller->subject, Action::manage_principals, nullptr).allow;
    auto record = store.packages().package(notice.package);
    if (!record && record.error().kind == ErrorKind::not_found) return false;
    if (!record) return record.error();
    auto facts = package_facts(*record);
    if (!facts) return facts.error();
    if (notice.event == "package.arrived") {
        auto seen = package_access(*caller, *record, facts->owner);
        if (!seen) return seen.error();
        return !seen->empty();
    }
    // Requests and approvals are shown to those who decide them (and to the partner concerned,
    // who is the recipient).
    return services_.policy->decide(caller->subject, Action::approve, &*facts).allow;
}

Result<bool> Handler::hook_stands(const storage::HookRecord& hook) {
    auto& store = *services_.store;
    auto owner = store.registry().principal(hook.owner);
    if (!owner && owner.error().kind == ErrorKind::not_found) return false;
    if (!owner) return owner.error();
    if (!owner->removed_at.empty()) return false;
    if (services_.revoked == nullptr || !services_.revoked->contains(hook.cert_serial)) return true;
    auto revocations = store.registry().revocations();
    if (!revocations) return revocations.error();
    for (const auto& r : *revocations)
        if (r.serial_hex == hook.cert_serial)
            return r.reason == 4 /* superseded */ && r.revoked_by == hook.owner;  // a renewal
    return false;
}

}  // namespace serambi::gateway
