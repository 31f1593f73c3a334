// Internal to gateway/: one client connection, from the TLS handshake to its close.
#pragma once

#include <string>

#include "gateway/net.h"

namespace serambi::gateway {

// Serves requests on `socket` until the client leaves, a deadline passes or a request leaves the
// framing unusable. Every request, and every refused handshake within the refusal budget, gets
// an access-log entry.
Awaitable<void> serve_connection(Shared& shared, Socket socket, std::string address);

}  // namespace serambi::gateway
