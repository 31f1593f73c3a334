// Internal: webhooks' deliveries. One thread reads the committed access log for events, asks the
// handler who may be told of each (the policy decides, per recipient), queues one delivery per
// listening hook in the database, and sends what is due, retrying with the configured waits.
// Every delivery that ends is an access-log entry. Events come from the committed log, with the
// place reached kept beside the queued deliveries, so a crash loses none and sends none twice.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/handler.h"
#include "gateway/mail.h"

namespace serambi::gateway {

class Notifier {
  public:
    explicit Notifier(Handler& handler, storage::Store& store);
    ~Notifier();  // stops the thread; an attempt under way may take its timeout to end
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    void start();
    void stop();

  private:
    void run();
    // Turns the log's new entries into deliveries; false if the store could not be read.
    bool read_events(std::int64_t now);
    bool read_endings(std::int64_t now);
    // Starts an attempt for each live hook with a delivery due and none under way; ends none.
    void send_due(std::int64_t now);
    void reap_senders(bool all);
    // The live hooks that still stand (owner live, registering certificate not taken back).
    Result<std::vector<storage::HookRecord>> standing_hooks();
    // One attempt and its outcome recorded; false when the outcome could not be recorded.
    bool send(const storage::DeliveryRecord& delivery, std::int64_t now);
    // A notice by email through the configured relay: the relay's reply, or why there was none
    // (invalid_argument when no retry can help).
    Result<MailReply> send_notice_mail(const std::string& url, const storage::DeliveryRecord& delivery);
    std::vector<storage::DeliveryRecord> deliveries_for(const std::vector<Handler::Notice>& notices,
                                                        const std::vector<storage::HookRecord>& hooks,
                                                        std::optional<std::uint64_t> index, std::int64_t now) const;

    Handler& handler_;
    storage::Store& store_;
    std::optional<std::uint64_t> cursor_;  // the first log index not yet read, once known
    std::int64_t next_scan_ = 0;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
    // Attempts under way, one per hook at most, each on a thread of its own: a receiver that
    // answers slowly or never holds back its own hook, not the others nor the reading of events.
    struct Sender {
        std::string hook;
        bool by_mail = false;
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::vector<Sender> senders_;
};

}  // namespace serambi::gateway
