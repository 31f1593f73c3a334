// Internal to gateway/: the budget of access-log entries for refused handshakes.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace serambi::gateway {

class AuditTrail;
struct GatewayCounters;

// A refused handshake costs its sender nothing, so its entries are budgeted per minute: beyond
// the budget they are counted, and each minute's count is recorded as one entry, so that a flood
// can neither fill the disk nor go unrecorded.
// A tenth of the budget is the most one remote address may use, so that one flooding address
// cannot turn another's refusal, say a revoked certificate's, into an anonymous count.
class RefusalBudget {
  public:
    explicit RefusalBudget(unsigned per_minute) : per_minute_(per_minute) {}
    // True when this refusal gets an entry of its own; otherwise it has been counted.
    bool admit(const std::string& address) {
        std::lock_guard lock(mutex_);
        roll_locked();
        if (used_ < per_minute_ && used_by_.size() < 4096) {
            auto& mine = used_by_[address];
            if (mine < std::max(1U, per_minute_ / 10)) {
                ++mine;
                ++used_;
                return true;
            }
        }
        ++counted_;
        return false;
    }
    // The refusals counted in minutes that have ended (all of them when `all`); give_back()
    // returns them when they could not be recorded, so that they are recorded later rather than
    // never.
    std::uint64_t take_counted(bool all = false) {
        std::lock_guard lock(mutex_);
        roll_locked();
        if (all) ready_ += std::exchange(counted_, 0);
        return std::exchange(ready_, 0);
    }
    void give_back(std::uint64_t n) {
        std::lock_guard lock(mutex_);
        ready_ += n;
    }
    unsigned per_minute() const noexcept { return per_minute_; }

  private:
    void roll_locked() {
        const auto minute =
            std::chrono::duration_cast<std::chrono::minutes>(std::chrono::steady_clock::now().time_since_epoch())
                .count();
        if (minute == window_) return;
        window_ = minute;
        used_ = 0;
        used_by_.clear();
        ready_ += std::exchange(counted_, 0);
    }
    const unsigned per_minute_;
    std::mutex mutex_;
    std::int64_t window_ = -1;
    unsigned used_ = 0;
    std::unordered_map<std::string, unsigned> used_by_;
    std::uint64_t counted_ = 0;  // in the current minute
    std::uint64_t ready_ = 0;    // from minutes that have ended, not yet recorded
};

// Records the refusals counted in minutes that have ended (all of them when `all`) as one entry.
void record_counted_refusals(AuditTrail& audit, RefusalBudget& budget, GatewayCounters& counters, bool all = false);

}  // namespace serambi::gateway
