#include "gateway/connections.h"

#include <vector>

namespace serambi::gateway {

std::string ConnectionTable::network_of(const std::string& address) {
    std::string_view a = address;
    if (a.starts_with("::ffff:") && a.find('.') != std::string_view::npos) a.remove_prefix(7);
    if (a.find(':') == std::string_view::npos) return std::string(a.substr(0, a.rfind('.')));
    // IPv6: the first four groups, as written (a "::" inside them shortens the prefix, which
    // only groups more addresses together).
    std::size_t at = 0;
    for (int group = 0; group < 4 && at != std::string_view::npos; ++group) {
        at = a.find(':', at);
        if (at != std::string_view::npos && group < 3) ++at;
    }
    return std::string(a.substr(0, at));
}

std::map<ConnectionTable::Id, ConnectionTable::PendingEntry>::iterator ConnectionTable::oldest_pending_locked(
    const std::string& network) {
    if (network.empty()) return pending_.begin();
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if (it->second.network == network) return it;
    return pending_.end();
}

ConnectionTable::Id ConnectionTable::begin_handshake(const std::string& address, std::function<void()> close) {
    std::vector<std::function<void()>> to_close;  // called after the lock is released
    Id id = 0;
    {
        std::lock_guard lock(mutex_);
        const auto network = network_of(address);
        auto make_room = [&](const std::string& whose) {
            auto victim = oldest_pending_locked(whose);
            if (victim == pending_.end()) return;
            to_close.push_back(std::move(victim->second.close));
            if (auto n = pending_by_network_.find(victim->second.network);
                n != pending_by_network_.end() && --n->second == 0)
                pending_by_network_.erase(n);
            pending_.erase(victim);
            refused_pending_.fetch_add(1, std::memory_order_relaxed);
        };
        if (const auto mine = pending_by_network_.find(network);
            mine != pending_by_network_.end() && mine->second >= limits_.pending_per_address)
            make_room(network);
        if (pending_.size() >= limits_.max_pending) make_room({});
        id = next_id_++;
        pending_.emplace(id, PendingEntry{network, std::move(close)});
        ++pending_by_network_[network];
    }
    for (auto& c : to_close) c();
    return id;
}

void ConnectionTable::end_handshake(Id id) {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // already closed to make room
    if (auto n = pending_by_network_.find(it->second.network); n != pending_by_network_.end() && --n->second == 0)
        pending_by_network_.erase(n);
    pending_.erase(it);
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

void ConnectionTable::reinstate(Id id) {
    std::lock_guard lock(mutex_);
    auto it = established_.find(id);
    if (it == established_.end() || !it->second.evicting) return;
    it->second.evicting = false;
    it->second.idle = false;  // found busy: it was between set_idle calls
    ++live_;
    ++by_principal_[it->second.principal];
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
    return static_cast<unsigned>(pending_.size());
}

}  // namespace serambi::gateway
