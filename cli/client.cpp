#include "cli/client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <sstream>
#include <unordered_set>

#include "certs/certs.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
constexpr std::size_t kChunk = 1024 * 1024;
// How long the CLI waits for the gateway to send or take bytes before it gives up.
constexpr int kSocketTimeoutSeconds = 300;

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

// Why a connection or a transfer failed, in the chosen language where it is one of the common
// failures (the English is the library's own text); in the library's words otherwise.
std::string reason(const boost::system::error_code& ec) {
    if (ec == net::error::connection_refused) return tr("Connection refused");
    if (ec == net::error::timed_out) return tr("Connection timed out");
    if (ec == net::error::host_unreachable) return tr("No route to host");
    if (ec == net::error::network_unreachable) return tr("Network is unreachable");
    if (ec == net::error::connection_reset) return tr("Connection reset by peer");
    if (ec == net::error::connection_aborted) return tr("Software caused connection abort");
    if (ec == net::error::broken_pipe) return tr("Broken pipe");
    if (ec == net::error::eof) return tr("End of file");
    if (ec == net::error::host_not_found) return tr("Host not found (authoritative)");
    if (ec == net::error::host_not_found_try_again) return tr("Host not found (non-authoritative), try again later");
    if (ec == ssl::error::stream_truncated) return tr("stream truncated");
    if (ec.category() == net::error::get_ssl_category() &&
        ERR_GET_LIB(static_cast<unsigned long>(ec.value())) == ERR_LIB_SSL) {
        switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
            case SSL_R_CERTIFICATE_VERIFY_FAILED:
                return tr("certificate verify failed (SSL routines)");
            case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
                return tr("sslv3 alert certificate expired (SSL routines)");
            case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
                return tr("sslv3 alert certificate revoked (SSL routines)");
            case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
                return tr("tlsv13 alert certificate required (SSL routines)");
            case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
                return tr("tlsv1 alert unknown ca (SSL routines)");
            case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
                return tr("sslv3 alert bad certificate (SSL routines)");
            default:
                break;
        }
    }
    return ec.message();
}

// What the certificate verifier found wrong with the gateway's certificate, likewise.
std::string verdict_text(long verdict) {
    switch (verdict) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return tr("certificate has expired");
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return tr("certificate is not yet valid");
        case X509_V_ERR_CERT_REVOKED:
            return tr("certificate revoked");
        case X509_V_ERR_HOSTNAME_MISMATCH:
            return tr("hostname mismatch");
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return tr("IP address mismatch");
        case X509_V_ERR_CERT_UNTRUSTED:
            return tr("certificate not trusted");
        default:
            return X509_verify_cert_error_string(verdict);
    }
}

Result<std::pair<std::string, std::string>> split_url(const std::string& url) {
    constexpr std::string_view scheme = "https://";
    if (!url.starts_with(scheme)) return bad(tr("the gateway URL must start with https://"));
    std::string rest = url.substr(scheme.size());
    if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
    std::string host, port = "443";
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string::npos) return bad(tr("the gateway URL has an unclosed ["));
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
    } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    } else {
        host = rest;
    }
    if (host.empty() || port.empty()) return bad(tr("the gateway URL needs a host"));
    return std::make_pair(host, port);
}

void lowercase_headers(const http::fields& fields, std::map<std::string, std::string>& out) {
    for (const auto& f : fields) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out[name] = std::string(f.value());
    }
}

// Blocking TLS on the connected socket, a Beast SyncReadStream and SyncWriteStream. OpenSSL
// reads and writes the descriptor itself with a 256 KiB read-ahead; Beast's ssl_stream moves
// every 16 KiB record through a BIO pair and a system call of its own, which made a 1 GiB pull
// several times slower than curl's.
class BlockingTls {
  public:
    explicit BlockingTls(SSL_CTX* context) : ssl_(SSL_new(context)) {
        if (ssl_ == nullptr) throw std::bad_alloc();
        SSL_set_read_ahead(ssl_, 1);
        SSL_set_default_read_buffer_len(ssl_, 256 * 1024);
    }
    ~BlockingTls() { SSL_free(ssl_); }
    BlockingTls(const BlockingTls&) = delete;
    BlockingTls& operator=(const BlockingTls&) = delete;

    SSL* native_handle() noexcept { return ssl_; }

    boost::system::error_code handshake(int fd) {
        SSL_set_fd(ssl_, fd);
        ERR_clear_error();
        errno = 0;
        const int r = SSL_connect(ssl_);
        return r == 1 ? boost::system::error_code{} : failure(r);
    }

    void shutdown() {
        ERR_clear_error();
        SSL_shutdown(ssl_);
    }

    // Blocks for the first bytes, then takes whatever else OpenSSL already holds.
    template <class Buffers>
    std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
        ec = {};
        std::size_t total = 0;
        for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
            net::mutable_buffer b = *it;
            auto* at = static_cast<char*>(b.data());
            for (std::size_t left = b.size(); left > 0;) {
                if (total > 0 && SSL_has_pending(ssl_) == 0) return total;
                ERR_clear_error();
                errno = 0;  // SSL_ERROR_SYSCALL is read from it
                std::size_t got = 0;
                const int r = SSL_read_ex(ssl_, at, left, &got);
                if (r != 1) {
                    if (total == 0) ec = failure(r);
                    return total;
                }
                at += got;
                left -= got;
                total += got;
            }
        }
        return total;
    }

    template <class Buffers>
    std::size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
        ec = {};
        // Small pieces (a request head) leave in one record rather than one record each.
        const std::size_t size = net::buffer_size(buffers);
        if (size == 0) return 0;
        const net::const_buffer head = *net::buffer_sequence_begin(buffers);
        const char* data = static_cast<const char*>(head.data());
        std::size_t len = head.size();
        if (len < size && len < kGatherBytes) {
            gather_.resize(std::min(size, kGatherBytes));
            len = net::buffer_copy(net::buffer(gather_), buffers);
            data = gather_.data();
        }
        ERR_clear_error();
        errno = 0;
        std::size_t written = 0;
        const int r = SSL_write_ex(ssl_, data, len, &written);
        if (r != 1) {
            ec = failure(r);
            return 0;
        }
        return written;
    }

    template <class Buffers>
    std::size_t read_some(const Buffers& buffers) {
        boost::system::error_code ec;
        const std::size_t n = read_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& buffers) {
        boost::system::error_code ec;
        const std::size_t n = write_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

  private:
    static constexpr std::size_t kGatherBytes = 16 * 1024;

    boost::system::error_code failure(int result) {
        const int kind = SSL_get_error(ssl_, result);
        if (kind == SSL_ERROR_ZERO_RETURN) return net::error::eof;
        if (kind == SSL_ERROR_SYSCALL) {
            const int saved = errno;
            ERR_clear_error();
            if (saved == EAGAIN || saved == EWOULDBLOCK) return net::error::timed_out;
            if (saved == 0) return ssl::error::stream_truncated;
            return {saved, boost::system::system_category()};
        }
        const unsigned long code = ERR_peek_last_error();
        ERR_clear_error();
        if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return ssl::error::stream_truncated;
        if (code == 0) return net::error::connection_aborted;
        return {static_cast<int>(code), net::error::get_ssl_category()};
    }

    SSL* ssl_;
    std::vector<char> gather_;
};

class TlsClient final : public Client {
    // The gateway's certificate must come from the gateway's own CA, not merely from any CA under
    // the root its bundle ends with (a province's root may anchor other CAs).
    // Not the context's app data: Asio keeps its own callbacks there.
    static int issuers_index() {
        static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return index;
    }
    static int only_our_issuers(int preverify_ok, X509_STORE_CTX* store) {
        if (preverify_ok != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
        auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        const auto* issuers = ssl ? static_cast<const std::unordered_set<std::string>*>(
                                        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), issuers_index()))
                                  : nullptr;
        if (issuers == nullptr || !certs::leaf_issued_by(store, *issuers)) {
            X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_UNTRUSTED);
            return 0;
        }
        return 1;
    }

  public:
    TlsClient(const Profile& profile) : profile_(profile), tls_(ssl::context::tls_client) {}

    Status open() {
        boost::system::error_code ec;
        SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
        tls_.load_verify_file((profile_.dir / "ca.crt").string(), ec);
        if (!ec) tls_.use_certificate_chain_file((profile_.dir / "client.crt").string(), ec);
        // Read as a secret, not through OpenSSL's file BIO, whose stdio buffer is freed unwiped.
        auto key = crypto::read_secret_file(profile_.dir / "client.key", 1 << 16);
        if (!key) return bad(tr("the profile's key cannot be read: {}", {key.error().message}));
        if (!ec) tls_.use_private_key(net::buffer(key->view().data(), key->size()), ssl::context::pem, ec);
        if (ec) return bad(tr("the profile's certificate, key or CA cannot be loaded: {}", {ec.message()}));
        auto ca = storage::read_small_file(profile_.dir / "ca.crt", 1 << 20);
        if (!ca) return bad(tr("the profile's CA cannot be read: {}", {ca.error().message}));
        issuers_ = certs::issuing_fingerprints(*ca);
        if (SSL_CTX_set_ex_data(tls_.native_handle(), issuers_index(), &issuers_) != 1)
            return bad(tr("cannot set up TLS"));
        SSL_CTX_set_verify(tls_.native_handle(), SSL_VERIFY_PEER, only_our_issuers);
        stream_ = std::make_unique<BlockingTls>(tls_.native_handle());
        SSL* ssl_handle = stream_->native_handle();
        // The gateway must present a certificate from our CA naming the host we dialled.
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
        net::ip::make_address(profile_.host, ec);
        if (!ec) {
            X509_VERIFY_PARAM_set1_ip_asc(param, profile_.host.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl_handle, profile_.host.c_str());
            X509_VERIFY_PARAM_set1_host(param, profile_.host.c_str(), 0);
        }
        tcp::resolver resolver(ioc_);
        auto endpoints = resolver.resolve(profile_.host, profile_.port, ec);
        if (ec) return make_error(ErrorKind::unavailable, tr("cannot resolve {}: {}", {profile_.host, reason(ec)}));
        net::connect(socket_, endpoints, ec);
        if (ec)
            return make_error(ErrorKind::unavailable,
                              tr("cannot connect to {}: {}", {profile_.gateway_url, reason(ec)}));
        socket_.set_option(tcp::no_delay(true), ec);
        // A gateway that stops answering ends the command with an error instead of a hang.
        const timeval limit{kSocketTimeoutSeconds, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        ec = stream_->handshake(socket_.native_handle());
        if (ec) {
            // The verifier's own words (expired, wrong name, not from the gateway's CA) say what to fix.
            const long verdict = SSL_get_verify_result(stream_->native_handle());
            return make_error(ErrorKind::unavailable,
                              verdict == X509_V_OK
                                  ? tr("TLS handshake with {} failed: {}", {profile_.gateway_url, reason(ec)})
                                  : tr("TLS handshake with {} failed: {}: {}",
                                       {profile_.gateway_url, reason(ec), verdict_text(verdict)}));
        }
        return {};
    }

    Result<Reply> request(const std::string& method, const std::string& target, const std::string& json_body,
                          const std::map<std::string, std::string>& headers) override {
        http::request<http::string_body> req{http::string_to_verb(method), target, 11};
        set_common(req);
        for (const auto& [k, v] : headers) req.set(k, v);
        if (!json_body.empty() || (method == "POST" && headers.empty())) {
            req.set(http::field::content_type, "application/json");
            req.body() = json_body;
        }
        req.prepare_payload();
        boost::system::error_code ec;
        http::write(*stream_, req, ec);
        if (ec) return transport(tr("sending the request failed: {}", {reason(ec)}));
        return read_reply(method == "HEAD");
    }

    Result<Reply> upload(const std::string& target, const std::filesystem::path& file,
                         const std::map<std::string, std::string>& headers, const Progress& progress,
                         const std::string& method, std::uint64_t offset) override {
        std::FILE* in = std::fopen(file.c_str(), "rb");
        if (in == nullptr) return make_error(ErrorKind::not_found, tr("cannot open {}", {file.string()}));
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(in, &std::fclose);
        std::error_code fec;
        const std::uint64_t total = std::filesystem::file_size(file, fec);
        if (fec) return make_error(ErrorKind::io_error, tr("cannot size {}", {file.string()}));
        if (offset > total)
            return make_error(ErrorKind::invalid_argument, tr("{} is shorter than before", {file.string()}));
        if (offset > 0 && std::fseek(in, static_cast<long>(offset), SEEK_SET) != 0)
            return make_error(ErrorKind::io_error, tr("cannot read {}", {file.string()}));

        http::request<http::buffer_body> req{http::string_to_verb(method), target, 11};
        set_common(req);
        for (const auto& [k, v] : headers) req.set(k, v);
        req.set(http::field::expect, "100-continue");
        req.content_length(total - offset);
        req.body().data = nullptr;
        req.body().more = true;
        http::request_serializer<http::buffer_body> serializer{req};
        boost::system::error_code ec;
        http::write_header(*stream_, serializer, ec);
        if (ec) return transport(tr("sending the request failed: {}", {reason(ec)}));

        // The gateway checks the request before the body is sent: a refusal costs no upload.
        http::response_parser<http::string_body> interim;
        interim.body_limit(1 << 20);
        http::read_header(*stream_, buffer_, interim, ec);
        if (ec) return transport(tr("reading the gateway's answer failed: {}", {reason(ec)}));
        if (interim.get().result() != http::status::continue_) {
            http::read(*stream_, buffer_, interim, ec);
            if (ec) return transport(tr("reading the gateway's answer failed: {}", {reason(ec)}));
            Reply reply;
            reply.status = interim.get().result_int();
            lowercase_headers(interim.get(), reply.headers);
            reply.body = interim.get().body();
            return reply;
        }

        // The body goes straight to the TLS stream: with a Content-Length there is no framing
        // for a serializer to add.
        std::vector<char> chunk(kChunk);
        std::uint64_t sent = offset;
        while (sent < total) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), total - sent));
            const std::size_t n = std::fread(chunk.data(), 1, want, in);
            if (n == 0) return make_error(ErrorKind::io_error, tr("{} shrank while it was read", {file.string()}));
            net::write(*stream_, net::buffer(chunk.data(), n), ec);
            if (ec) return transport(tr("sending the package failed: {}", {reason(ec)}));
            sent += n;
            if (progress) progress(sent, total);
        }
        return read_reply();
    }

    Result<Reply> download(const std::string& target, const std::function<Status(crypto::ByteView)>& sink,
                           const Progress& progress, const std::map<std::string, std::string>& headers,
                           const std::function<Status(const Reply&)>& on_head) override {
        http::request<http::empty_body> req{http::verb::get, target, 11};
        set_common(req);
        for (const auto& [k, v] : headers) req.set(k, v);
        boost::system::error_code ec;
        http::write(*stream_, req, ec);
        if (ec) return transport(tr("sending the request failed: {}", {reason(ec)}));

        http::response_parser<http::buffer_body> parser;
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        http::read_header(*stream_, buffer_, parser, ec);
        if (ec) return transport(tr("reading the gateway's answer failed: {}", {reason(ec)}));
        Reply reply;
        reply.status = parser.get().result_int();
        lowercase_headers(parser.get(), reply.headers);
        const bool success = reply.status == 200 || reply.status == 206;
        if (success && on_head)
            if (auto s = on_head(reply); !s) return s.error();
        const std::uint64_t total = parser.content_length().value_or(0);
        if (success && parser.content_length() && !parser.is_done())
            return receive_payload(buffer_, total, sink, progress, reply);
        std::vector<std::uint8_t> chunk(kChunk);
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            // read_some: a chunked stream of events is handed on as each part arrives, not when
            // the buffer is full.
            http::read_some(*stream_, buffer_, parser, ec);
            if (ec == http::error::need_buffer) ec = {};
            if (ec) return transport(tr("receiving the package failed: {}", {reason(ec)}));
            const std::size_t got = chunk.size() - parser.get().body().size;
            reply.bytes += got;
            if (success) {
                if (auto s = sink({chunk.data(), got}); !s) return s.error();
                if (progress) progress(reply.bytes, total);
            } else if (reply.body.size() < 65536) {
                reply.body.append(reinterpret_cast<const char*>(chunk.data()), got);
            }
        }
        return reply;
    }

  private:
    // Reads a Content-Length body straight from the TLS stream, past Beast's parser, and hands
    // each part to `sink` on a second thread, so that hashing and writing one part overlaps
    // with receiving the next.
    Result<Reply> receive_payload(beast::flat_buffer& head_rest, std::uint64_t total,
                                  const std::function<Status(crypto::ByteView)>& sink, const Progress& progress,
                                  Reply& reply) {
        std::vector<std::uint8_t> chunk(kChunk), in_sink(kChunk);
        net::thread_pool worker(1);
        std::future<Status> pending;
        auto sink_done = [&]() -> Status { return pending.valid() ? pending.get() : Status{}; };
        boost::system::error_code ec;
        while (reply.bytes < total) {
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), total - reply.bytes));
            std::size_t got = 0;
            if (head_rest.size() > 0) {
                got = net::buffer_copy(net::buffer(chunk.data(), want), head_rest.data());
                head_rest.consume(got);
            } else {
                got = net::read(*stream_, net::buffer(chunk.data(), want), ec);
            }
            if (auto s = sink_done(); !s) return s.error();
            if (got > 0) {
                std::swap(chunk, in_sink);
                std::packaged_task<Status()> task([&sink, data = in_sink.data(), got] { return sink({data, got}); });
                pending = task.get_future();
                // Wrapped: Asio would take a bare packaged_task for a completion token.
                net::post(worker, [task = std::move(task)]() mutable { task(); });
                reply.bytes += got;
                if (progress) progress(reply.bytes, total);
            }
            if (ec) {
                (void)sink_done();  // the part in flight must finish; the transport error is the news
                return transport(tr("receiving the package failed: {}", {reason(ec)}));
            }
        }
        if (auto s = sink_done(); !s) return s.error();
        return reply;
    }

    template <class Message>
    void set_common(Message& req) {
        req.set(http::field::host, profile_.host);
        req.set(http::field::user_agent, "serambi-cli/0.1");
    }

    Error transport(std::string message) { return make_error(ErrorKind::unavailable, std::move(message)); }

    Result<Reply> read_reply(bool head = false) {
        http::response_parser<http::string_body> parser;
        parser.skip(head);  // an answer to HEAD has no body, whatever its Content-Length says
        parser.body_limit(16 << 20);
        boost::system::error_code ec;
        http::read(*stream_, buffer_, parser, ec);
        if (ec) return transport(tr("reading the gateway's answer failed: {}", {reason(ec)}));
        Reply reply;
        reply.status = parser.get().result_int();
        lowercase_headers(parser.get(), reply.headers);
        reply.body = parser.get().body();
        return reply;
    }

    Profile profile_;
    net::io_context ioc_;
    ssl::context tls_;
    std::unordered_set<std::string> issuers_;
    tcp::socket socket_{ioc_};
    std::unique_ptr<BlockingTls> stream_;
    beast::flat_buffer buffer_;
};

}  // namespace

Result<std::unique_ptr<Client>> Client::connect(const Profile& profile) {
    auto client = std::make_unique<TlsClient>(profile);
    if (auto s = client->open(); !s) return s.error();
    return std::unique_ptr<Client>(std::move(client));
}

namespace {
// Written by toml++, which quotes and escapes every value.
std::string profile_toml(const std::string& gateway_url, const std::string& principal, const std::string& language) {
    toml::table table{{"gateway", gateway_url}, {"principal", principal}};
    if (!language.empty()) table.insert("language", language);
    std::ostringstream out;
    // Basic strings ("…") only, as the guides' examples and scripts that read the file expect.
    out << "# Serambi client profile\n"
        << toml::toml_formatter(table, toml::toml_formatter::default_flags & ~toml::format_flags::allow_literal_strings)
        << "\n";
    return out.str();
}
}  // namespace

Result<Profile> load_profile(const std::filesystem::path& dir) {
    Profile profile;
    profile.dir = dir;
    toml::table table;
    try {
        table = toml::parse_file((dir / "profile.toml").string());
    } catch (const toml::parse_error& e) {
        return bad((dir / "profile.toml").string() + ": " + std::string(e.description()));
    }
    for (const auto& [key, node] : table)
        if (key != "gateway" && key != "principal" && key != "language")
            return bad(tr("{}: unknown key {}", {(dir / "profile.toml").string(), key.str()}));
    profile.gateway_url = table["gateway"].value_or(std::string());
    profile.principal = table["principal"].value_or(std::string());
    profile.language = table["language"].value_or(std::string());
    if (table.contains("language") && !is_language_code(profile.language))
        return bad(
            tr("{}: language is \"id\" (Bahasa Indonesia) or \"en\" (English)", {(dir / "profile.toml").string()}));
    use_profile_language(profile.language);
    if (profile.gateway_url.empty() || profile.principal.empty())
        return bad(tr("{}: gateway and principal are required", {(dir / "profile.toml").string()}));
    auto parts = split_url(profile.gateway_url);
    if (!parts) return bad((dir / "profile.toml").string() + ": " + parts.error().message);
    profile.host = parts->first;
    profile.port = parts->second;
    for (const char* file : {"client.crt", "client.key", "ca.crt"})
        if (!std::filesystem::exists(dir / file)) return bad(tr("the profile {} has no {}", {dir.string(), file}));
    return profile;
}

Result<Profile> find_profile(const std::string& flag) {
    if (!flag.empty()) return load_profile(flag);
    if (const char* env = std::getenv("SERAMBI_PROFILE"); env != nullptr && *env != '\0') return load_profile(env);
    return bad(tr("no profile: pass --profile DIR or set SERAMBI_PROFILE"));
}

Status write_profile(const std::filesystem::path& dir, const std::string& gateway_url, const std::string& principal,
                     const std::string& cert_pem, std::string_view key_pem, const std::string& ca_pem) {
    std::error_code ec;
    if (std::filesystem::exists(dir / "profile.toml"))
        return make_error(ErrorKind::conflict, tr("a profile already exists in {}", {dir.string()}));
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(ErrorKind::io_error, tr("cannot create {}", {dir.string()}));
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    const std::string toml = profile_toml(gateway_url, principal, "");
    // Without a key: a profile for a unit that enrolled with its own key (serambi enroll), which
    // it completes by putting its client.key beside these files.
    if (!key_pem.empty())
        if (auto s = write_file(dir / "client.key", key_pem, 0600, Existing::refuse); !s) return s;
    if (auto s = write_file(dir / "client.crt", cert_pem, 0644, Existing::refuse); !s) return s;
    if (auto s = write_file(dir / "ca.crt", ca_pem, 0644, Existing::refuse); !s) return s;
    return write_file(dir / "profile.toml", toml, 0644, Existing::refuse);
}

Status set_profile_language(const std::filesystem::path& dir, const std::string& code) {
    if (!code.empty() && !is_language_code(code))
        return make_error(ErrorKind::invalid_argument, tr("the language is id (Bahasa Indonesia) or en (English)"));
    auto profile = load_profile(dir);
    if (!profile) return profile.error();
    // A profile.toml kept elsewhere and linked in is the keeper's to change, not ours to replace
    // with a copy; the file's own mode stays.
    struct stat st {};
    if (::lstat((dir / "profile.toml").c_str(), &st) != 0)
        return make_error(ErrorKind::io_error, tr("cannot read {}", {(dir / "profile.toml").string()}));
    if (S_ISLNK(st.st_mode))
        return make_error(ErrorKind::conflict,
                          tr("{} is a link: add language = \"{}\" to the file it points to instead",
                             {(dir / "profile.toml").string(), code}));
    return write_file(dir / "profile.toml", profile_toml(profile->gateway_url, profile->principal, code),
                      st.st_mode & 0777);
}

std::string describe_failure(const Reply& reply) {
    std::string out = std::to_string(reply.status);
    boost::system::error_code ec;
    auto value = boost::json::parse(reply.body, ec);
    if (!ec && value.is_object()) {
        const auto& o = value.as_object();
        if (const auto* t = o.if_contains("title"); t && t->is_string())
            out += " " + gateway_text(std::string(t->get_string()));
        if (const auto* d = o.if_contains("detail"); d && d->is_string())
            out += ": " + gateway_text(std::string(d->get_string()));
        if (const auto* r = o.if_contains("request_id"); r && r->is_string())
            out += tr(" (request {})", {std::string(r->get_string())});
    }
    return out;
}

}  // namespace serambi::cli
