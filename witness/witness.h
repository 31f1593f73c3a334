// A transparency-log witness (C2SP tlog-witness): a small service that a third party (the
// Inspektorat, BSSN, a regency) runs on its own machine with its own Ed25519 key. It cosigns
// (C2SP tlog-cosignature) a log's checkpoint only if it extends the last one it cosigned for that
// log, so a gateway that rolls back or forks its access log is refused by every honest witness.
// Also the client side of the protocol, which the gateway uses to submit its checkpoints.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "crypto/tlog.h"

namespace serambi::witness {

// One log the witness follows: its origin line and the verifier key its checkpoints must carry.
struct LogKey {
    std::string origin;
    std::string verifier_key;
};

// witness.toml, relative paths against its directory.
struct Config {
    std::filesystem::path config_file;
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 7380;
    std::filesystem::path key_file = "witness.key";        // PRIVATE+KEY+… of type 0x04, mode 0600
    std::filesystem::path state_file = "witness.state";    // the last cosigned checkpoint of each log
    std::filesystem::path evidence_file = "evidence.log";  // refused checkpoints, kept as evidence
    std::vector<LogKey> logs;
};
Result<Config> load_config(const std::filesystem::path& file);

// Creates DIR with a new key (witness.key, 0600), its verifier key (witness.vkey), and
// witness.toml following the logs whose verifier keys are given. Refuses an existing witness.toml
// or witness.key.
struct InitOptions {
    std::filesystem::path dir;
    std::string name;  // the witness's key name, e.g. inspektorat.malutprov.go.id/witness
    std::string listen = "127.0.0.1:7380";
    std::vector<std::string> log_keys;  // verifier keys; the origin is the key's name
};
Status init(const InitOptions& options);
// Adds a [[log]] for `verifier_key` (named by its origin) to witness.toml, which must still load;
// refuses a log it follows already.
Status add_log(const std::filesystem::path& config_file, const std::string& verifier_key);

// The witness's state machine, independent of HTTP. Thread-safe: the check against the stored
// state and its update happen under one lock, and the state is on disk before the answer.
class Witness {
  public:
    static Result<std::unique_ptr<Witness>> open(const Config& config);

    struct Answer {
        unsigned status = 500;
        std::string content_type = "text/plain; charset=utf-8";
        std::string body;
    };
    // POST /add-checkpoint: "old N\n", consistency proof lines, "\n", the signed checkpoint.
    // A log-key hand-over (a checkpoint naming a new key, signed by the key known and the new one)
    // makes the new key the log's for this witness once it is cosigned.
    // 200 with the cosignature line; 400 malformed; 403 not signed by the log's key; 404 unknown
    // origin; 409 (text/x.tlog.size) the old size is not the last cosigned one, or the same size
    // with another root; 422 the consistency proof does not verify.
    Answer add_checkpoint(std::string_view request);

    std::string verifier_key() const { return signer_.verifier_key(); }
    // The size this witness last cosigned for `origin` (0: never).
    std::uint64_t cosigned_size(const std::string& origin) const;

  private:
    struct Seen {
        std::uint64_t size = 0;
        crypto::tlog::Hash root = crypto::tlog::empty_root();
        // The log's key since a hand-over this witness cosigned (empty: the configured one), and the
        // configured key it followed from: a witness.toml that names another key since wins.
        std::string key;
        std::string followed_from;
    };
    Witness(Config config, crypto::tlog::NoteSigner signer) : config_(std::move(config)), signer_(std::move(signer)) {}
    Status save_locked(const std::vector<std::pair<std::string, Seen>>& next);
    // Under mutex_: a signed checkpoint that contradicts one cosigned, once per (size, root).
    void keep_evidence(const std::string& origin, std::uint64_t size, const crypto::tlog::Hash& root,
                       const std::string& why, std::string_view note);

    Config config_;
    crypto::tlog::NoteSigner signer_;
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, Seen>> seen_;  // by origin
    std::vector<std::string> evidence_kept_;          // origin, size and root of each kept
};

// Serves the witness over HTTP until SIGINT or SIGTERM; returns the exit code. Cosignatures carry
// their own proof, so the transport needs no TLS to be trusted; put it behind a TLS proxy to hide
// which logs it follows.
int serve(const Config& config);

// The client side: POSTs `body` to URL (http://host:port[/prefix]) + "/add-checkpoint".
struct Reply {
    unsigned status = 0;
    std::string content_type;
    std::string body;
};
Result<Reply> submit_checkpoint(const std::string& url, const std::string& body, std::chrono::seconds timeout);
// A URL submit_checkpoint takes: http://, a host, a port, an optional path prefix.
bool is_witness_url(std::string_view url) noexcept;

}  // namespace serambi::witness
