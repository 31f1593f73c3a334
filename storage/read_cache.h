// Internal: rows that every request reads (who is asking, the dataset it names, a partner's
// agreements), kept in memory between the changes to them. SQLCipher decrypts again every page a
// lookup reads whenever anything at all was committed since the last one, and under load
// something always was: the access log grows with every request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/result.h"

namespace serambi::storage {

// Every change to what a cache holds must call forget_all() once it has ended, committed or not:
// that forgets every value and moves the generation on, so that a read that began before the
// change cannot put what it read back. Only values found are kept, never a failure.
template <typename Value>
class ReadCache {
  public:
    template <typename Read>
    Result<Value> get(const std::string& key, Read&& read) {
        std::uint64_t generation = 0;
        {
            std::lock_guard lock(mutex_);
            if (const auto known = values_.find(key); known != values_.end()) return known->second;
            generation = generation_;
        }
        Result<Value> value = read();
        if (value) {
            std::lock_guard lock(mutex_);
            if (generation_ == generation) {
                if (values_.size() >= kMaxValues) values_.clear();  // a bound, not a policy: rows are few
                values_.emplace(key, *value);
            }
        }
        return value;
    }

    // Calls forget_all() when it goes, however the change around it ends.
    struct ForgetAtEnd {
        ReadCache& cache;
        ~ForgetAtEnd() { cache.forget_all(); }
    };

    void forget_all() {
        std::lock_guard lock(mutex_);
        ++generation_;
        values_.clear();
    }

  private:
    static constexpr std::size_t kMaxValues = 4096;
    std::mutex mutex_;
    std::uint64_t generation_ = 0;
    std::unordered_map<std::string, Value> values_;
};

}  // namespace serambi::storage
