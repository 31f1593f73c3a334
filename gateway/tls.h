// Internal to gateway/: the gateway's TLS side outside the stream itself: the contexts (made from
// the configured files, swapped on reload), the client-certificate check at the handshake, and
// what the access log says of a peer.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "gateway/net.h"

typedef struct ssl_st SSL;

namespace serambi::certs {
class ManifestSigner;
}

namespace serambi::gateway {

class RevokedSerials;
struct RequestHead;

// The TLS context new connections get. A reload (SIGHUP) puts a new one in place; connections
// already open keep theirs, so none is dropped.
class TlsContexts {
  public:
    explicit TlsContexts(std::shared_ptr<ssl::context> first) : current_(std::move(first)) {}
    std::shared_ptr<ssl::context> get() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    void set(std::shared_ptr<ssl::context> next) {
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
    }

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<ssl::context> current_;
};

// A TLS context from the files the configuration names, checking against `revoked`.
// `loaded_cert` learns the certificate (PEM, with its chain) that the context serves.
Result<std::shared_ptr<ssl::context>> make_tls(const Config& config, RevokedSerials& revoked, std::string& loaded_cert);

// The manifest signer from the configured files; `loaded_cert` learns its certificate.
Result<std::shared_ptr<const certs::ManifestSigner>> load_signer(const Config& config, std::string& loaded_cert);

// The principal, serial and fingerprint of the verified client certificate, into `head`.
void identify_peer(Stream& stream, RequestHead& head);

// The subject of the certificate a refused peer presented, if it presented one.
std::string refused_subject(SSL* ssl);

// A client context for a server the gateway calls (a webhook receiver, an SMTP relay): TLS 1.2
// or later, the system's trust anchors and those in `ca_file` (named in errors as `setting`),
// the peer verified. The host name check is the stream's.
Status trust_servers(ssl::context& tls, const std::string& ca_file, const std::string& setting);
// Why a handshake failed, with the certificate check's own words when that was the cause.
std::string refusal_reason(SSL* ssl, const boost::system::error_code& ec);

}  // namespace serambi::gateway
