// Internal: where a webhook may be sent, and sending one delivery over HTTPS. Receivers are
// named by principals, so every address is checked before a connection is made: a hook must not
// turn the gateway into a way to reach its own network (SSRF).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace serambi::gateway {

// A receiver's URL: https, a host, an optional port, a path; no user info, no fragment, no
// spaces or control characters, at most 2048 bytes.
struct HookUrl {
    std::string host;    // a name, or an IP literal (IPv6 without its brackets)
    std::string port;    // "443" when absent
    std::string target;  // path and query, "/" when absent
};
Result<HookUrl> parse_hook_url(std::string_view url);

// A CIDR network such as "10.20.0.0/16" or "fd00::/8".
bool is_network(std::string_view text) noexcept;

struct ReceiverRules {
    std::vector<std::string> allowed_networks;  // exempt from the forbidden ranges (CIDR)
    std::string ca_file;                        // extra trust anchors besides the system's
    std::chrono::seconds timeout{10};           // for one whole attempt
};

// Resolves the receiver's host and refuses it if any of its addresses is loopback, private,
// link-local, shared (CGNAT), multicast or unspecified and no allowed network holds it.
Status check_receiver(const HookUrl& url, const ReceiverRules& rules);

// One attempt: the addresses checked as above, then a POST over TLS (certificate and host name
// verified, no redirect followed). The answer's status, or why there was none.
Result<int> post_to_receiver(const HookUrl& url, const ReceiverRules& rules,
                             const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body);

}  // namespace serambi::gateway
