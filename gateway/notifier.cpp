// Webhooks' delivery thread: from committed entries to signed POSTs (Standard Webhooks), or to
// emails through the operator's relay.
#include "gateway/notifier.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <unordered_set>

#include "gateway/hook_client.h"
#include "gateway/mail.h"
#include "gateway/net.h"

namespace serambi::gateway {
namespace {

constexpr auto kPollEvery = std::chrono::milliseconds(500);
constexpr std::uint64_t kEntriesPerRead = 256;
// Attempts under way at once, each for a different hook.
constexpr std::size_t kMaxSenders = 8;
// Of them, sendings of email (all through the one relay).
constexpr std::size_t kMaxMailSenders = 2;
// Ended deliveries are kept this long for their owners to look at; the access log keeps the rest.
constexpr std::int64_t kKeepEndedSeconds = 31 * 24 * 3600;

// Only entries of these actions can be events: the rest are not parsed at all.
bool may_be_event(std::string_view entry) {
    if (entry.find("\"decision\":\"allow\"") == std::string_view::npos) return false;
    for (std::string_view action : {"\"action\":\"package.push\"", "\"action\":\"request.create\"",
                                    "\"action\":\"request.refuse\"", "\"action\":\"approval.create\""})
        if (entry.find(action) != std::string_view::npos) return true;
    return false;
}

std::string message_id(const std::string& hook, const std::string& key, const std::string& recipient) {
    const std::string basis = hook + "\n" + key + "\n" + recipient;
    const auto digest =
        crypto::Sha256::of(crypto::ByteView(reinterpret_cast<const std::uint8_t*>(basis.data()), basis.size()));
    return "msg_" + crypto::to_hex(digest).substr(0, 32);
}

// "v1," and the HMAC-SHA256 of "id.timestamp.body" under the hook's secret (whsec_ and base64).
Result<std::string> signature(const std::string& secret, const std::string& id, const std::string& timestamp,
                              const std::string& body) {
    constexpr std::string_view prefix = "whsec_";
    if (!secret.starts_with(prefix)) return make_error(ErrorKind::corruption, "the webhook's secret is malformed");
    auto key = crypto::from_base64(std::string_view(secret).substr(prefix.size()));
    if (!key || key->empty()) return make_error(ErrorKind::corruption, "the webhook's secret is malformed");
    auto mac = crypto::hmac_sha256(*key, id + "." + timestamp + "." + body);
    crypto::wipe(*key);
    auto out = "v1," + crypto::to_base64(mac);
    crypto::wipe(mac);
    return out;
}

// Where a delivery went, for the access log: a receiver's host, or an address's domain (the
// address itself is the owner's to know, and the log is kept for good).
std::string host_of(const std::string& url) {
    if (is_mail_url(url)) {
        auto address = parse_mail_url(url);
        return address ? "email at " + address->substr(address->rfind('@') + 1) : std::string("?");
    }
    auto parsed = parse_hook_url(url);
    return parsed ? parsed->host : std::string("?");
}

// The first line of the password file, without its line end.
Result<std::string> read_password(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(ErrorKind::unavailable, "cannot read [email] password_file " + file.string());
    std::string text(1024, '\0');
    const auto got = ::read(fd, text.data(), text.size());
    ::close(fd);
    if (got < 0) {
        crypto::wipe(text);
        return make_error(ErrorKind::unavailable, "cannot read [email] password_file " + file.string());
    }
    const auto end = text.find_first_of("\r\n");
    const auto length = std::min(static_cast<std::size_t>(got), end);
    std::string password;
    password.reserve(length);
    password.append(text, 0, length);
    crypto::wipe(text);
    if (password.empty())
        return make_error(ErrorKind::unavailable, "[email] password_file " + file.string() + " holds no password");
    return password;
}

}  // namespace

Notifier::Notifier(Handler& handler, storage::Store& store) : handler_(handler), store_(store) {}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
    thread_ = std::thread([this] { run(); });
}

void Notifier::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    reap_senders(true);
}

void Notifier::reap_senders(bool all) {
    for (auto it = senders_.begin(); it != senders_.end();) {
        if (all || it->done->load()) {
            it->thread.join();
            it = senders_.erase(it);
        } else {
            ++it;
        }
    }
}

Result<std::vector<storage::HookRecord>> Notifier::standing_hooks() {
    auto hooks = store_.hooks().hooks();
    if (!hooks) return hooks.error();
    std::vector<storage::HookRecord> out;
    for (auto& h : *hooks) {
        auto stands = handler_.hook_stands(h);
        if (!stands) return stands.error();
        if (*stands) out.push_back(std::move(h));
    }
    return out;
}

void Notifier::run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        wake_.wait_for(lock, kPollEvery, [this] { return stop_; });
        if (stop_) break;
        lock.unlock();
        // Whatever a receiver or an entry holds must not take the gateway down with this thread.
        try {
            const auto now = now_seconds();
            read_events(now);
            if (now >= next_scan_) {
                read_endings(now);
                if (auto pruned = store_.hooks().prune(now - kKeepEndedSeconds); !pruned)
                    log_line("webhooks: cannot forget old deliveries: " + pruned.error().message);
                next_scan_ = now + handler_.config().webhook_scan_seconds;
            }
            send_due(now);
        } catch (const std::exception& e) {
            log_line(std::string("webhooks: ") + e.what());
        }
        lock.lock();
    }
}

std::vector<storage::DeliveryRecord> Notifier::deliveries_for(const std::vector<Handler::Notice>& notices,
                                                              const std::vector<storage::HookRecord>& hooks,
                                                              std::optional<std::uint64_t> index,
                                                              std::int64_t now) const {
    std::vector<storage::DeliveryRecord> out;
    for (const auto& n : notices) {
        for (const auto& h : hooks) {
            if (index && *index < h.from_index) continue;  // before the hook existed
            if (h.confirmed_at == 0) continue;             // an address not yet confirmed hears nothing
            if (std::find(h.events.begin(), h.events.end(), n.event) == h.events.end()) continue;
            if (!h.everyone && h.owner != n.recipient) continue;
            // A hook for everyone's events hears only what its owner could see for itself.
            if (h.owner != n.recipient) {
                auto told = handler_.may_be_told(h.owner, n);
                if (!told)
                    log_line("webhooks: cannot judge " + n.event + " for " + h.owner + ": " + told.error().message);
                if (!told || !*told) continue;
            }
            auto data = n.data;
            data["recipient"] = n.recipient;
            storage::DeliveryRecord d;
            d.id = message_id(h.id, n.key, n.recipient);
            d.hook = h.id;
            d.event = n.event;
            d.recipient = n.recipient;
            d.body =
                boost::json::serialize(boost::json::object{{"type", n.event}, {"timestamp", n.time}, {"data", data}});
            d.created_at = now;
            d.next_at = now;
            out.push_back(std::move(d));
        }
    }
    return out;
}

bool Notifier::read_events(std::int64_t now) {
    // The size first: a hook created after it is read has a from_index at or past it.
    const auto size = store_.log().size();
    auto hooks = standing_hooks();
    if (!hooks) {
        log_line("webhooks: cannot read the hooks: " + hooks.error().message);
        return false;
    }
    if (hooks->empty()) {
        cursor_ = size;  // no one listens: the past is no one's news
        return true;
    }
    std::uint64_t oldest_hook = UINT64_MAX;
    for (const auto& h : *hooks) oldest_hook = std::min(oldest_hook, h.from_index);
    if (!cursor_) {
        auto stored = store_.hooks().cursor();
        if (!stored) {
            log_line("webhooks: cannot read how far the log was read: " + stored.error().message);
            return false;
        }
        cursor_ = stored->value_or(oldest_hook);
    }
    Handler::Listening listening = std::unordered_set<std::string>();
    for (const auto& h : *hooks) {
        if (h.everyone)
            listening.reset();
        else if (listening)
            listening->insert(h.owner);
    }
    cursor_ = std::max(*cursor_, oldest_hook);
    while (*cursor_ < size) {
        {
            std::lock_guard lock(mutex_);
            if (stop_) return true;
        }
        const auto end = std::min(size, *cursor_ + kEntriesPerRead);
        std::vector<std::uint64_t> indexes;
        auto entries = store_.log().entries(*cursor_, end, kEntriesPerRead, &indexes);
        if (!entries) {
            log_line("webhooks: cannot read the access log: " + entries.error().message);
            return false;
        }
        std::vector<storage::DeliveryRecord> deliveries;
        for (std::size_t i = 0; i < entries->size(); ++i) {
            if (!may_be_event((*entries)[i])) continue;
            auto notices = handler_.notices_of_entry((*entries)[i], listening);
            if (!notices && notices.error().kind != ErrorKind::corruption) {
                // The store could not answer now: the same entries are read again at the next poll.
                log_line("webhooks: entry " + std::to_string(indexes[i]) +
                         " cannot be judged now: " + notices.error().message);
                return false;
            }
            if (!notices) {
                // Said loudly and passed over: one damaged entry must not hold back every later
                // event. Nothing is sent for it.
                log_line("webhooks: entry " + std::to_string(indexes[i]) +
                         " could not be judged, nothing sent for it: " + notices.error().message);
                continue;
            }
            auto found = deliveries_for(*notices, *hooks, indexes[i], now);
            std::move(found.begin(), found.end(), std::back_inserter(deliveries));
        }
        if (auto queued = store_.hooks().queue(deliveries, end); !queued) {
            log_line("webhooks: cannot queue deliveries: " + queued.error().message);
            return false;
        }
        cursor_ = end;
    }
    return true;
}

bool Notifier::read_endings(std::int64_t now) {
    auto hooks = standing_hooks();
    if (!hooks || hooks->empty()) return static_cast<bool>(hooks);
    auto notices = handler_.notices_of_endings(now);
    if (!notices) {
        log_line("webhooks: cannot read approvals and certificates: " + notices.error().message);
        return false;
    }
    auto deliveries = deliveries_for(*notices, *hooks, std::nullopt, now);
    if (deliveries.empty()) return true;
    if (auto queued = store_.hooks().queue(deliveries, std::nullopt); !queued) {
        log_line("webhooks: cannot queue deliveries: " + queued.error().message);
        return false;
    }
    return true;
}

void Notifier::send_due(std::int64_t now) {
    reap_senders(false);
    // HTTPS receivers' and email's deliveries are read apart, so that a backlog of email behind
    // the relay cannot fill the window and hide the receivers' (or the other way round).
    auto due = store_.hooks().due(now, kMaxSenders * 4, false);
    auto mail_due = store_.hooks().due(now, kMaxMailSenders * 4, true);
    if (!due || !mail_due) {
        log_line("webhooks: cannot read the deliveries due: " + (due ? mail_due : due).error().message);
        return;
    }
    due->insert(due->end(), mail_due->begin(), mail_due->end());
    auto hooks = store_.hooks().hooks();
    if (!hooks) {
        log_line("webhooks: cannot read the hooks: " + hooks.error().message);
        return;
    }
    for (const auto& d : *due) {
        if (senders_.size() >= kMaxSenders) return;
        if (std::any_of(senders_.begin(), senders_.end(), [&](const Sender& s) { return s.hook == d.hook; }))
            continue;  // that hook's attempt under way ends first
        const auto hook = std::find_if(hooks->begin(), hooks->end(), [&](const auto& h) { return h.id == d.hook; });
        const bool by_mail = hook != hooks->end() && is_mail_url(hook->url);
        // Every email goes through the one relay: a relay that is slow or down may hold only a
        // few senders, never all of them, so that HTTPS receivers are not kept waiting on it.
        if (by_mail && std::count_if(senders_.begin(), senders_.end(), [](const Sender& s) { return s.by_mail; }) >=
                           static_cast<std::ptrdiff_t>(kMaxMailSenders))
            continue;
        auto done = std::make_shared<std::atomic<bool>>(false);
        try {
            std::thread t([this, d, done] {
                try {
                    send(d, now_seconds());
                } catch (const std::exception& e) {
                    log_line(std::string("webhooks: ") + e.what());
                }
                done->store(true);
                wake_.notify_all();
            });
            senders_.push_back(Sender{d.hook, by_mail, std::move(t), done});
        } catch (const std::system_error& e) {
            log_line(std::string("webhooks: cannot start a delivery: ") + e.what());
            return;
        }
    }
}

Result<MailReply> Notifier::send_notice_mail(const std::string& url, const storage::DeliveryRecord& d) {
    const auto& config = handler_.config();
    if (config.email_relay_host.empty())
        return make_error(ErrorKind::unavailable, "this gateway sends no email now ([email] relay is empty)");
    auto to = parse_mail_url(url);
    if (!to) return to.error();
    if (!mail_domain_allowed(*to, config.email_allowed_domains))
        return make_error(ErrorKind::invalid_argument, "the address's domain is no longer in [email] allowed_domains");
    auto message = notice_mail(config.email_from, *to, d.id, d.body, config.portal_time_zone, now_seconds());
    if (!message) return message.error();
    MailRelay relay{config.email_relay_host, config.email_relay_port,
                    config.email_security,   config.email_ca_file.string(),
                    config.email_username,   {},
                    config.email_from,       std::chrono::seconds(config.email_timeout_seconds)};
    if (!config.email_username.empty()) {
        // Read at each sending, so that a changed password needs no restart, into one buffer
        // that is wiped after: no stream buffer keeps a copy.
        auto password = read_password(config.email_password_file);
        if (!password) return password.error();
        relay.password = std::move(*password);
    }
    auto reply = send_mail(relay, *to, *message);
    crypto::wipe(relay.password);
    return reply;
}

bool Notifier::send(const storage::DeliveryRecord& d, std::int64_t now) {
    auto hook = store_.hooks().hook(d.hook);
    if (!hook) {
        log_line("webhooks: cannot read hook " + d.hook + ": " + hook.error().message);
        return false;
    }
    storage::DeliveryRecord after = d;
    auto stands = handler_.hook_stands(*hook);
    if (!stands) {
        crypto::wipe(hook->secret);
        log_line("webhooks: cannot judge hook " + d.hook + ": " + stands.error().message);
        return false;
    }
    // An email address not yet confirmed may be sent its code, nothing else.
    const bool unconfirmed = hook->confirmed_at == 0 && d.event != "address.confirm";
    if (hook->removed_at != 0 || !*stands || unconfirmed) {
        crypto::wipe(hook->secret);
        after.state = "cancelled";
        after.next_at = 0;
        after.last_error =
            "not sent: the webhook was removed, its owner removed, the certificate that "
            "registered it taken back, or its address not confirmed";
        auto recorded = store_.hooks().record_attempt(after, {});
        return recorded || recorded.error().kind == ErrorKind::conflict;
    }
    const auto& config = handler_.config();
    after.attempts = d.attempts + 1;
    const std::string timestamp = std::to_string(now);
    Result<int> status = make_error(ErrorKind::unavailable, "not sent");
    bool permanent = false;  // a refusal that no retry can change
    std::string refused_with;
    std::string logged_refusal;
    const bool by_mail = is_mail_url(hook->url);
    if (by_mail) {
        crypto::wipe(hook->secret);  // email is not signed
        auto mailed = send_notice_mail(hook->url, d);
        if (mailed) {
            status = mailed->code;
            // The relay's words about an address not yet confirmed would tell its registrant
            // whether a mailbox exists: the code and the step only, until it is confirmed.
            refused_with = " to " + mailed->step + (hook->confirmed_at == 0 ? "" : ": " + mailed->text);
            // The relay's words may name the address: the owner reads them in its deliveries,
            // the access log (kept for good) gets the code and the step only.
            logged_refusal = "the relay answered " + std::to_string(mailed->code) + " to " + mailed->step;
            permanent = mailed->permanent();
            if (mailed->code >= 500 && !permanent)
                log_line("email: the relay refused " + mailed->step + " (" + std::to_string(mailed->code) +
                         "); notices wait until [email] is put right");
        } else {
            status = mailed.error();
            permanent =
                mailed.error().kind == ErrorKind::invalid_argument || mailed.error().kind == ErrorKind::corruption;
        }
    } else {
        auto url = parse_hook_url(hook->url);
        auto signed_with = signature(hook->secret, d.id, timestamp, d.body);
        crypto::wipe(hook->secret);
        if (!url) {
            status = url.error();
        } else if (!signed_with) {
            status = signed_with.error();
        } else {
            const ReceiverRules rules{config.webhook_allowed_networks, config.webhook_ca_file.string(),
                                      std::chrono::seconds(config.webhook_timeout_seconds)};
            status = post_to_receiver(*url, rules,
                                      {{"content-type", "application/json"},
                                       {"webhook-id", d.id},
                                       {"webhook-timestamp", timestamp},
                                       {"webhook-signature", *signed_with},
                                       {"user-agent", "serambi-gateway"}},
                                      d.body);
        }
    }
    const bool delivered = status && *status >= 200 && *status < 300;
    after.last_status = status ? *status : 0;
    after.last_error = delivered ? std::string()
                       : !status ? status.error().message
                       : by_mail ? "the relay answered " + std::to_string(*status) + refused_with
                                 : "the receiver answered " + std::to_string(*status);
    const auto& waits = config.webhook_retry_seconds;
    const bool given_up = !delivered && (permanent || static_cast<std::size_t>(after.attempts) > waits.size());
    std::string entry;
    const std::string what = d.event + " for " + d.recipient + " to " + host_of(hook->url);
    if (delivered) {
        after.state = "delivered";
        after.delivered_at = now_seconds();
        after.next_at = 0;
        entry =
            AuditTrail::delivery_entry(hook->owner, "hooks/" + d.hook + "/deliveries/" + d.id, true, after.last_status,
                                       "delivered " + what + " at attempt " + std::to_string(after.attempts));
    } else if (given_up) {
        after.state = "failed";
        after.next_at = 0;
        entry = AuditTrail::delivery_entry(
            hook->owner, "hooks/" + d.hook + "/deliveries/" + d.id, false, after.last_status,
            "gave up on " + what + " after " + std::to_string(after.attempts) +
                " attempts: " + (logged_refusal.empty() || !status ? after.last_error : logged_refusal));
    } else {
        after.next_at = now + waits[static_cast<std::size_t>(after.attempts) - 1];
    }
    auto recorded = store_.hooks().record_attempt(after, entry);
    if (!recorded && recorded.error().kind == ErrorKind::conflict && !entry.empty()) {
        // The hook was removed while this attempt was under way: the row stays cancelled, but
        // what was sent (or given up) is still the access log's.
        if (auto logged = store_.log().append({entry}); !logged)
            log_line("webhooks: cannot record delivery " + d.id + " in the access log: " + logged.error().message);
        return true;
    }
    if (!recorded && recorded.error().kind != ErrorKind::conflict) {
        log_line("webhooks: cannot record delivery " + d.id + ": " + recorded.error().message);
        return false;
    }
    return true;
}

}  // namespace serambi::gateway
