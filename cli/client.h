// The CLI's side of the wire: a profile (who I am, which gateway) and a mutual-TLS HTTPS client
// that streams uploads from and downloads to files. The only file of the CLI that includes Beast.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "crypto/crypto.h"

namespace serambi::cli {

struct Profile {
    std::filesystem::path dir;
    std::string gateway_url;  // https://host:port
    std::string principal;
    std::string host;
    std::string port;
    std::string language;  // "id" or "en" when the profile chooses; empty: the locale decides
};

// Reads DIR/profile.toml and checks that client.crt, client.key and ca.crt are present.
Result<Profile> load_profile(const std::filesystem::path& dir);
// Resolves --profile, then SERAMBI_PROFILE.
Result<Profile> find_profile(const std::string& flag);
// Sets (or, with an empty code, removes) the profile's language for the CLI's messages.
Status set_profile_language(const std::filesystem::path& dir, const std::string& code);
// `key_pem` may be empty: a profile for a unit that keeps its own key (serambi enroll).
Status write_profile(const std::filesystem::path& dir, const std::string& gateway_url, const std::string& principal,
                     const std::string& cert_pem, std::string_view key_pem, const std::string& ca_pem);

struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;                            // for JSON replies and errors
    std::uint64_t bytes = 0;                     // streamed payload length
};

// Called with (bytes done, bytes total) as a transfer progresses.
using Progress = std::function<void(std::uint64_t, std::uint64_t)>;

class Client {
  public:
    static Result<std::unique_ptr<Client>> connect(const Profile& profile);
    virtual ~Client() = default;

    // `headers` are added as given (a resumable upload's Tus-Resumable and Upload-*).
    virtual Result<Reply> request(const std::string& method, const std::string& target, const std::string& json_body,
                                  const std::map<std::string, std::string>& headers = {}) = 0;
    // Streams `file` from byte `offset` on as the body of a POST (or, resuming an upload, a
    // PATCH). `headers` are added as given. Progress counts from `offset`.
    virtual Result<Reply> upload(const std::string& target, const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& headers, const Progress& progress,
                                 const std::string& method = "POST", std::uint64_t offset = 0) = 0;
    // Streams the body of a 200 or 206 reply to `sink`; other replies come back with their body.
    // `headers` are added as given (Range, If-Range); `on_head` (if set) sees a 200 or 206
    // reply's status and headers before the first byte of its body.
    virtual Result<Reply> download(const std::string& target, const std::function<Status(crypto::ByteView)>& sink,
                                   const Progress& progress, const std::map<std::string, std::string>& headers = {},
                                   const std::function<Status(const Reply&)>& on_head = {}) = 0;
};

// "404 Not Found: no such dataset (request 3f2a…)" from a problem+json reply, in the chosen
// language where the catalogue has the gateway's words (gateway_text).
std::string describe_failure(const Reply& reply);

}  // namespace serambi::cli
