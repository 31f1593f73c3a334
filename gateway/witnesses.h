// Internal: submitting the access log's checkpoints to the witnesses named in serambi.toml
// (C2SP tlog-witness), keeping their cosignatures, and saying so loudly when one refuses.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/gateway.h"
#include "storage/store.h"

namespace serambi::gateway {

class AuditTrail;

class Witnesses {
  public:
    Witnesses(std::vector<WitnessTarget> targets, AuditTrail& audit);
    ~Witnesses();  // stops the thread
    Witnesses(const Witnesses&) = delete;
    Witnesses& operator=(const Witnesses&) = delete;

    // Starts the thread that submits; a gateway without witnesses starts none.
    void start();
    // A new checkpoint was issued: submit it now rather than at the next retry.
    void checkpoint_issued();

    struct Status {
        std::string name;
        std::string url;
        std::uint64_t cosigned_size = 0;  // the largest checkpoint it cosigned for us
        std::uint64_t refusals = 0;       // answers that refused a checkpoint (409, 422, 4xx)
        std::uint64_t unreachable = 0;    // submissions that got no answer
        bool failing = false;             // the last submission did not end in a cosignature
    };
    std::vector<Status> status() const;

  private:
    enum class Outcome { cosigned, refused, unreachable };
    void run();
    // Offers witness `i` the log-key hand-overs it is not past, before the checkpoint of `size`;
    // false when it could not be reached (the newest checkpoint waits for the next round).
    bool hand_over(std::size_t i, const std::vector<storage::AccessLog::KeyHandover>& handovers, std::uint64_t size);
    // Submits one checkpoint to witness `i` and says how it went; `handover`: a witness already
    // past it is no news.
    std::pair<Outcome, std::string> offer(std::size_t i, std::uint64_t size, const std::string& note, bool handover);
    void settle(std::size_t i, Outcome outcome, const std::string& why);

    std::vector<WitnessTarget> targets_;
    AuditTrail& audit_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    bool pending_ = false;
    std::vector<Status> status_;
    std::vector<std::uint64_t> known_size_;  // the witness's size as last learnt (409s teach it)
    std::vector<Outcome> last_outcome_;
    std::thread thread_;
};

}  // namespace serambi::gateway
