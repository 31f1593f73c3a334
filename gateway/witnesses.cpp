// Checkpoints to witnesses (C2SP tlog-witness), on a thread of their own so that a slow or absent
// witness never holds a request. A refusal is an access-log entry and a /metrics counter, never a
// silent skip; the gateway keeps serving and submits again at every new checkpoint.
#include "gateway/witnesses.h"

#include "crypto/tlog.h"
#include "gateway/handler.h"
#include "gateway/net.h"
#include "witness/witness.h"

namespace serambi::gateway {
namespace {

namespace tlog = crypto::tlog;

constexpr auto kRetryEvery = std::chrono::seconds(5);
constexpr auto kTimeout = std::chrono::seconds(10);

// The tree size in a checkpoint we issued.
std::uint64_t size_of(const std::string& note) {
    auto cp = tlog::parse_checkpoint_body(note.substr(0, note.find("\n\n") + 1));
    return cp ? cp->size : 0;
}

// "N\n" exactly, as a 409's text/x.tlog.size body must be; N fits 64 bits.
bool parse_size_body(const std::string& body, std::uint64_t& out) {
    if (body.empty() || body.back() != '\n') return false;
    const auto size = tlog::parse_decimal(std::string_view(body).substr(0, body.size() - 1));
    if (!size) return false;
    out = *size;
    return true;
}

}  // namespace

Witnesses::Witnesses(std::vector<WitnessTarget> targets, AuditTrail& audit)
    : targets_(std::move(targets)), audit_(audit) {
    for (const auto& t : targets_) {
        Status s;
        s.name = t.name;
        s.url = t.url;
        // What it cosigned before this start, so that the first submission names the right old size.
        if (auto size = audit_.store().log().cosigned_size(t.name)) s.cosigned_size = *size;
        status_.push_back(s);
        known_size_.push_back(s.cosigned_size);
        last_outcome_.push_back(Outcome::cosigned);
    }
}

Witnesses::~Witnesses() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Witnesses::start() {
    if (targets_.empty() || thread_.joinable()) return;
    pending_ = true;
    thread_ = std::thread([this] { run(); });
}

void Witnesses::checkpoint_issued() {
    if (targets_.empty()) return;
    {
        std::lock_guard lock(mutex_);
        pending_ = true;
    }
    wake_.notify_all();
}

std::vector<Witnesses::Status> Witnesses::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

void Witnesses::run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        wake_.wait_for(lock, kRetryEvery, [this] { return stop_ || pending_; });
        if (stop_) break;
        pending_ = false;
        lock.unlock();
        auto note = audit_.store().log().latest_checkpoint();
        auto handovers = audit_.store().log().key_handovers();
        if (note && handovers) {
            const auto size = size_of(*note);
            for (std::size_t i = 0; i < targets_.size(); ++i) {
                bool current = false;
                {
                    std::lock_guard l(mutex_);
                    if (stop_) break;
                    current = status_[i].cosigned_size >= size && !status_[i].failing;
                }
                // Whatever a witness answers must not take the gateway down with this thread.
                try {
                    if (!current && hand_over(i, *handovers, size)) {
                        auto [outcome, why] = offer(i, size, *note, false);
                        settle(i, outcome, why);
                    }
                } catch (const std::exception& e) {
                    settle(i, Outcome::unreachable, std::string("its answer could not be handled: ") + e.what());
                }
            }
        } else {
            log_line("witnesses: cannot read the checkpoint to submit: " +
                     (note ? handovers.error().message : note.error().message));
        }
        lock.lock();
    }
}

bool Witnesses::hand_over(std::size_t i, const std::vector<storage::AccessLog::KeyHandover>& handovers,
                          std::uint64_t size) {
    // A witness knows the key the log had when it last cosigned: it learns each later key from
    // the hand-over checkpoint, signed by the key it knows, so those go first, oldest first. One
    // at the witness's own size is offered again: a witness that cosigned it before it could
    // follow hand-overs (an older release) follows it once upgraded. A refusal (it was given a
    // later key) is no reason to hold back the newest checkpoint; only an unreachable witness is
    // left for the next round, recorded once.
    for (const auto& handover : handovers) {
        std::uint64_t past;
        {
            std::lock_guard lock(mutex_);
            if (stop_) return false;
            past = std::max(status_[i].cosigned_size, known_size_[i]);
        }
        if (handover.size < past || handover.size >= size) continue;
        auto [outcome, why] = offer(i, handover.size, handover.note, true);
        if (outcome == Outcome::unreachable) {
            settle(i, outcome, why);
            return false;
        }
        if (outcome == Outcome::refused)
            log_line("witness " + targets_[i].name + ": the key hand-over at " + std::to_string(handover.size) +
                     " entries: " + why);
    }
    return true;
}

std::pair<Witnesses::Outcome, std::string> Witnesses::offer(std::size_t i, std::uint64_t size, const std::string& note,
                                                            bool handover) {
    const auto& target = targets_[i];
    std::uint64_t old_size;
    {
        std::lock_guard lock(mutex_);
        old_size = known_size_[i];
    }
    // Two tries: a 409 tells the witness's size, and the second names it.
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (old_size > size) {
            // A witness past a hand-over needs it no more. Otherwise only the witness's word (an
            // unsigned 409 over plain HTTP): the next submission asks again from what it last
            // cosigned for us rather than trusting it for ever.
            if (handover) return {Outcome::cosigned, "past the hand-over"};
            {
                std::lock_guard lock(mutex_);
                known_size_[i] = status_[i].cosigned_size;
            }
            return {Outcome::refused, "the witness says it has cosigned " + std::to_string(old_size) +
                                          " entries of this log, more than its " + std::to_string(size) +
                                          ": if so, the access log was rolled back"};
        }
        auto proof = audit_.store().log().consistency(old_size, size);
        if (!proof) return {Outcome::unreachable, "cannot make a consistency proof: " + proof.error().message};
        std::string body = "old " + std::to_string(old_size) + "\n";
        for (const auto& h : *proof) body += crypto::to_base64(h) + "\n";
        body += "\n" + note;
        auto reply = witness::submit_checkpoint(target.url, body, kTimeout);
        if (!reply) return {Outcome::unreachable, reply.error().message};
        if (reply->status == 200) {
            // Keep only lines that are this witness's valid cosignature of this very checkpoint.
            std::string_view lines = reply->body;
            while (!lines.empty()) {
                const auto nl = lines.find('\n');
                if (nl == std::string_view::npos) break;
                const std::string line(lines.substr(0, nl + 1));
                lines.remove_prefix(nl + 1);
                if (!tlog::verify_cosignature(note + line, target.key)) continue;
                if (auto s = audit_.store().log().save_cosignature(size, target.name, line); !s)
                    return {Outcome::unreachable, "cannot keep its cosignature: " + s.error().message};
                {
                    std::lock_guard lock(mutex_);
                    known_size_[i] = size;
                    status_[i].cosigned_size = std::max(status_[i].cosigned_size, size);
                }
                return {Outcome::cosigned, "cosigned the checkpoint of " + std::to_string(size) + " entries"};
            }
            return {Outcome::refused, "answered 200 without a valid cosignature by its key"};
        }
        std::uint64_t theirs = 0;
        if (reply->status == 409 && reply->content_type.starts_with("text/x.tlog.size") &&
            parse_size_body(reply->body, theirs) && theirs != old_size) {
            old_size = theirs;
            std::lock_guard lock(mutex_);
            known_size_[i] = theirs;
            continue;
        }
        std::string why = "HTTP " + std::to_string(reply->status) + " " + printable(reply->body);
        if (reply->status == 409)
            why = "it cosigned another tree of the same size (409: " + printable(reply->body) +
                  "): the access log was forked or rewritten";
        else if (reply->status == 422)
            why = "the consistency proof from " + std::to_string(old_size) + " to " + std::to_string(size) +
                  " entries was refused (422): the access log is not the one it saw grow";
        else if (reply->status == 403 || reply->status == 404)
            why = "it does not accept this log's checkpoints (" + std::to_string(reply->status) +
                  "): is the log's key configured at the witness? " + printable(reply->body);
        return {reply->status >= 500 ? Outcome::unreachable : Outcome::refused, why};
    }
    return {Outcome::refused, "its size kept changing between two submissions"};
}

void Witnesses::settle(std::size_t i, Outcome outcome, const std::string& why) {
    bool changed;
    {
        std::lock_guard lock(mutex_);
        auto& s = status_[i];
        if (outcome == Outcome::refused) ++s.refusals;
        if (outcome == Outcome::unreachable) ++s.unreachable;
        s.failing = outcome != Outcome::cosigned;
        changed = last_outcome_[i] != outcome;
        last_outcome_[i] = outcome;
    }
    if (!changed) return;  // one entry per change of state, not one per checkpoint
    const auto& name = targets_[i].name;
    const char* action = outcome == Outcome::cosigned  ? "witness.cosigned"
                         : outcome == Outcome::refused ? "witness.refused"
                                                       : "witness.unreachable";
    log_line("witness " + name + ": " + why);
    if (auto r = audit_.record(AuditTrail::event_entry(action, "witnesses/" + name,
                                                       outcome == Outcome::cosigned ? "allow" : "error", why));
        !r)
        log_line("access log: cannot record a witness event: " + r.error().message);
}

}  // namespace serambi::gateway
