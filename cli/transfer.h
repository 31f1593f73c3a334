// Internal to the CLI: how a push's bytes reach the gateway over a link that may drop, and the
// progress line shown while they do.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "cli/client.h"

namespace serambi::cli {

// Attempts in a row that move nothing before a transfer (or a request) gives up.
inline constexpr int kAttempts = 12;

// Waits before attempt `fruitless` + 1, saying why on stderr: 0.1 s after an attempt that moved
// bytes (fruitless == 0), then 0.5 s doubling up to 30 s.
void back_off(int fruitless, const std::string& why, const char* command = "push");

// Runs `attempt` again after a transport failure (ErrorKind::unavailable: a dropped link, a
// gateway restarting) with the back-off of transfers, up to kAttempts times: for the requests a
// command makes before its transfer, which must not fail where the transfer would have retried.
template <typename Attempt>
auto with_retries(Attempt&& attempt, const char* command) -> decltype(attempt()) {
    for (int tries = 1;; ++tries) {
        auto result = attempt();
        if (result || result.error().kind != ErrorKind::unavailable || tries >= kAttempts) return result;
        back_off(tries, result.error().message, command);
    }
}

// Shows progress on a terminal only; scripts and pipes see nothing. Bytes the gateway already
// had (a resumed upload) are shown as such and left out of the rate.
class ProgressMeter {
  public:
    ProgressMeter(std::string label, bool quiet);
    ~ProgressMeter() { done(); }
    void operator()(std::uint64_t done, std::uint64_t total);
    // The transfer continues from `offset`: what is below it was sent earlier.
    void resumed_at(std::uint64_t offset);
    // Ends the progress line so that what is printed next starts on its own line.
    void done();

  private:
    std::string label_;
    bool enabled_;
    bool drawn_ = false;
    std::uint64_t resumed_ = 0;       // bytes the gateway had when this run began
    std::uint64_t first_offset_ = 0;  // where this run's sending began
    bool started_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_{};
};

// What a push sends and where.
struct PushTransfer {
    Profile profile;
    std::string dataset;
    std::filesystem::path file;  // the bytes sent (the producer's file, or its age encryption)
    // Names the push across runs of the command: the dataset and the digest of the producer's
    // file, so that running the same command again resumes instead of starting over.
    std::string resume_key;
    std::map<std::string, std::string> headers;  // Serambi-Filename, Content-Type, …
    bool resumable = false;                      // a resumable upload (tus) rather than one request
};

// Sends the push and returns the gateway's receipt (the JSON of a stored package). A dropped
// connection is retried with backoff: a resumable upload continues from the gateway's offset
// (and, if this process is stopped, the next run of the same command continues it); a
// single-request push is sent again with the same Idempotency-Key, so the gateway stores it once.
Result<std::string> send_push(const PushTransfer& push, ProgressMeter& meter);

// A package's payload downloaded into `partial` (a file beside the pull's target), resuming
// what it already holds with a Range (and If-Range on the delivery's ETag, kept in
// PARTIAL.json) and retrying a dropped connection with backoff. The partial file is the
// user's alone (0600), never followed through a link, and holds exactly the delivery's bytes
// (an age file for an age delivery) once this returns; nothing is put in place here.
struct PullTransfer {
    Profile profile;
    std::string package_id;
    std::filesystem::path partial;
};
struct Fetched {
    Reply last;                      // the last answer's headers (ETag, Repr-Digest, Content-Type)
    std::uint64_t size = 0;          // bytes in the partial file: the whole delivery
    std::uint64_t resumed_from = 0;  // what a run before this one had fetched
    std::string sha256_hex;          // of the partial file's bytes
};
Result<Fetched> fetch_package(const PullTransfer& pull, ProgressMeter& meter);

// Where resumable uploads keep their state between runs: PROFILE/uploads/.
std::filesystem::path upload_state_dir(const Profile& profile);

}  // namespace serambi::cli
