#include "gateway/connections.h"

#include <vector>

namespace serambi::gateway {

ConnectionTable::Pending ConnectionTable::begin_handshake(const std::string& address) {
    std::lock_guard lock(mutex_);
    if (pending_ >= limits_.max_pending) {
        refused_pending_.fetch_add(1, std::memory_order_relaxed);
        return Pending::too_many;
    }
    auto& mine = pending_by_address_[address];
    if (mine >= limits_.pending_per_address) {
        refused_pending_.fetch_add(1, std::memory_order_relaxed);
        return Pending::too_many_from_address;
    }
    ++mine;
    ++pending_;
    return Pending::ok;
}

void ConnectionTable::end_handshake(const std::string& address) {
    std::lock_guard lock(mutex_);
    --pending_;
    if (auto it = pending_by_address_.find(address); it != pending_by_address_.end() && --it->second == 0)
        pending_by_address_.erase(it);
}

ConnectionTable::Entry* ConnectionTable::oldest_idle_locked(const std::string& principal) {
    Entry* oldest = nullptr;
    for (auto& [id, entry] : established_) {
        if (!entry.idle || entry.evicting || (!principal.empty() && entry.principal != principal)) continue;
        if (oldest == nullptr || entry.idle_since < oldest->idle_since) oldest = &entry;
    }
    return oldest;
}

ConnectionTable::Admission ConnectionTable::admit(const std::string& principal, std::function<void()> close_if_idle) {
    std::vector<std::function<void()>> to_close;  // called after the lock is released
    Admission admission;
    {
        std::lock_guard lock(mutex_);
        // Live connections are those not already chosen to make room; a chosen one is on its way
        // out and makes room only once, when it is chosen.
        auto make_room = [&](const std::string& whose) {
            Entry* victim = oldest_idle_locked(whose);
            if (victim == nullptr) return false;
            victim->evicting = true;
            --live_;
            if (auto p = by_principal_.find(victim->principal); p != by_principal_.end() && --p->second == 0)
                by_principal_.erase(p);
            to_close.push_back(victim->close_if_idle);
            evicted_.fetch_add(1, std::memory_order_relaxed);
            return true;
        };
        const auto mine = by_principal_.find(principal);
        if (mine != by_principal_.end() && mine->second >= limits_.per_principal && !make_room(principal)) {
            admission.result = Admit::principal_full;
        } else if (live_ >= limits_.max_connections && !make_room({})) {
            admission.result = Admit::full;
        } else {
            admission.id = next_id_++;
            established_.emplace(admission.id, Entry{principal, false, false, {}, std::move(close_if_idle)});
            ++live_;
            ++by_principal_[principal];
        }
        if (admission.result != Admit::ok) refused_busy_.fetch_add(1, std::memory_order_relaxed);
    }
    for (auto& close : to_close) close();
    return admission;
}

void ConnectionTable::set_idle(Id id, bool idle) {
    std::lock_guard lock(mutex_);
    if (auto it = established_.find(id); it != established_.end()) {
        it->second.idle = idle;
        if (idle) it->second.idle_since = std::chrono::steady_clock::now();
    }
}

void ConnectionTable::release(Id id) {
    std::lock_guard lock(mutex_);
    auto it = established_.find(id);
    if (it == established_.end()) return;
    if (!it->second.evicting) {
        --live_;
        if (auto p = by_principal_.find(it->second.principal); p != by_principal_.end() && --p->second == 0)
            by_principal_.erase(p);
    }
    established_.erase(it);
}

unsigned ConnectionTable::established() const {
    std::lock_guard lock(mutex_);
    return static_cast<unsigned>(established_.size());
}

unsigned ConnectionTable::pending() const {
    std::lock_guard lock(mutex_);
    return pending_;
}

}  // namespace serambi::gateway
