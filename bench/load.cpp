// serambi_load: many keep-alive HTTP/1.1 clients over (mutual) TLS, one thread each, sending the
// same small request again and again; reports requests per second and latency percentiles.
//
// It is the load generator of bench/small.sh, pointed at the gateway and at nginx alike, so that
// both are measured by the same client in the same run. A client thread blocks on its socket:
// on a 2-core machine the generator's own CPU is small next to the server's for 4 KiB requests,
// and bench/small.sh reports the server's CPU time separately.
//
//   serambi_load --connect 127.0.0.1:8443 --ca ca.crt [--cert c.crt --key c.key]
//                --method POST --path /v1/datasets/x/packages --size 4096 [--header 'K: V']...
//                [--paths FILE] [--clients 64] [--seconds 10] [--idle 1000] [--expect 201]
//                [--requests N] [--locations FILE]
//
// --path may hold {c} (client number) and {n} (request number), for nginx PUTs to new files;
// --paths names a file of paths used round-robin (pulls of many packages). --idle opens that many
// extra connections first, makes one request on each, and keeps them open and silent while the
// load runs (memory and slots held by idle clients). --requests stops after that many answers
// (or --seconds, whichever comes first); --locations writes every answer's Location header.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string ca, cert, key;
    std::string method = "GET";
    std::string path = "/";
    std::vector<std::string> paths;
    std::vector<std::string> headers;
    std::size_t size = 0;
    int clients = 1;
    double seconds = 5;
    int idle = 0;
    int expect = 0;              // 0: any 2xx
    std::uint64_t requests = 0;  // 0: until --seconds have passed
    std::string locations;       // file to which every answer's Location goes
};

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "serambi_load: %s\n", why.c_str());
    std::exit(2);
}

std::string ssl_error() {
    char buf[256];
    const unsigned long e = ERR_get_error();
    if (e == 0) return "TLS error";
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};

class Connection {
  public:
    Connection(SSL_CTX* ctx, const Options& o) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
        if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) throw std::runtime_error("bad address");
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ssl_.reset(SSL_new(ctx));
        SSL_set_fd(ssl_.get(), fd_);
        SSL_set_tlsext_host_name(ssl_.get(), o.host.c_str());
        if (SSL_connect(ssl_.get()) != 1) throw std::runtime_error("handshake: " + ssl_error());
    }
    ~Connection() {
        ssl_.reset();
        if (fd_ >= 0) ::close(fd_);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Sends one request and reads its whole response; the status, or -1 when the connection failed.
    int exchange(const std::string& head, const std::string& body) {
        if (!send(head) || (!body.empty() && !send(body))) return -1;
        return read_response();
    }
    // The Location header of the last response, if it had one.
    const std::string& location() const noexcept { return location_; }

  private:
    bool send(const std::string& data) {
        std::size_t done = 0;
        while (done < data.size()) {
            const int n = SSL_write(ssl_.get(), data.data() + done, static_cast<int>(data.size() - done));
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }
    bool fill() {
        char buf[16384];
        const int n = SSL_read(ssl_.get(), buf, sizeof buf);
        if (n <= 0) return false;
        in_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    bool read_line(std::string& line) {
        for (;;) {
            const auto end = in_.find("\r\n");
            if (end != std::string::npos) {
                line = in_.substr(0, end);
                in_.erase(0, end + 2);
                return true;
            }
            if (!fill()) return false;
        }
    }
    bool skip(std::size_t n) {
        while (in_.size() < n) {
            n -= in_.size();
            in_.clear();
            if (!fill()) return false;
        }
        in_.erase(0, n);
        return true;
    }
    int read_response() {
        std::string line;
        if (!read_line(line) || line.size() < 12) return -1;
        const int status = std::atoi(line.c_str() + 9);
        long long length = -1;
        bool chunked = false;
        location_.clear();
        for (;;) {
            if (!read_line(line)) return -1;
            if (line.empty()) break;
            std::string lower(line);
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (lower.rfind("location:", 0) == 0) location_ = line.substr(line.find_first_not_of(' ', 9));
            if (lower.rfind("content-length:", 0) == 0) length = std::atoll(lower.c_str() + 15);
            if (lower.rfind("transfer-encoding:", 0) == 0 && lower.find("chunked") != std::string::npos) chunked = true;
        }
        if (chunked) {
            for (;;) {
                if (!read_line(line)) return -1;
                const auto n = std::strtoull(line.c_str(), nullptr, 16);
                if (!skip(n + 2)) return -1;
                if (n == 0) break;
            }
        } else if (length > 0 && !skip(static_cast<std::size_t>(length))) {
            return -1;
        }
        return status;
    }

    int fd_ = -1;
    std::unique_ptr<SSL, SslFree> ssl_;
    std::string in_;
    std::string location_;
};

std::string request_head(const Options& o, const std::string& path) {
    std::string head = o.method + " " + path + " HTTP/1.1\r\nHost: " + o.host + "\r\n";
    for (const auto& h : o.headers) head += h + "\r\n";
    if (o.size > 0 || o.method == "POST" || o.method == "PUT")
        head += "Content-Length: " + std::to_string(o.size) + "\r\n";
    return head + "\r\n";
}

std::string expand(std::string path, int client, std::uint64_t n) {
    for (auto [key, value] :
         {std::pair{std::string("{c}"), std::to_string(client)}, std::pair{std::string("{n}"), std::to_string(n)}}) {
        for (auto at = path.find(key); at != std::string::npos; at = path.find(key))
            path.replace(at, key.size(), value);
    }
    return path;
}

struct Tally {
    std::mutex mutex;
    std::vector<double> latencies_ms;
    std::vector<std::string> locations;
    std::uint64_t failures = 0;
    std::uint64_t unexpected = 0;
    std::uint64_t refused = 0;
    int last_bad_status = 0;
};

bool ok_status(const Options& o, int status) { return o.expect ? status == o.expect : (status >= 200 && status < 300); }

Options parse(int argc, char** argv) {
    Options o;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) die(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--connect") {
            const auto v = value(i);
            const auto colon = v.rfind(':');
            if (colon == std::string::npos) die("--connect wants HOST:PORT");
            o.host = v.substr(0, colon);
            o.port = std::atoi(v.c_str() + colon + 1);
        } else if (a == "--ca") {
            o.ca = value(i);
        } else if (a == "--cert") {
            o.cert = value(i);
        } else if (a == "--key") {
            o.key = value(i);
        } else if (a == "--method") {
            o.method = value(i);
        } else if (a == "--path") {
            o.path = value(i);
        } else if (a == "--paths") {
            std::ifstream in(value(i));
            for (std::string line; std::getline(in, line);)
                if (!line.empty()) o.paths.push_back(line);
            if (o.paths.empty()) die("--paths names no paths");
        } else if (a == "--header") {
            o.headers.push_back(value(i));
        } else if (a == "--size") {
            o.size = std::strtoull(value(i).c_str(), nullptr, 10);
        } else if (a == "--clients") {
            o.clients = std::atoi(value(i).c_str());
        } else if (a == "--seconds") {
            o.seconds = std::atof(value(i).c_str());
        } else if (a == "--idle") {
            o.idle = std::atoi(value(i).c_str());
        } else if (a == "--requests") {
            o.requests = std::strtoull(value(i).c_str(), nullptr, 10);
        } else if (a == "--locations") {
            o.locations = value(i);
        } else if (a == "--expect") {
            o.expect = std::atoi(value(i).c_str());
        } else {
            die("unknown option " + a);
        }
    }
    if (o.port <= 0 || o.port > 65535) die("--connect HOST:PORT is required");
    if (o.ca.empty()) die("--ca is required");
    if (o.clients < 1 || o.clients > 4096) die("--clients must be 1 to 4096");
    if (o.seconds <= 0) die("--seconds must be positive");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);  // a server that closes a connection is counted, not fatal
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx.get(), o.ca.c_str(), nullptr) != 1) die("cannot load " + o.ca);
    if (!o.cert.empty() && (SSL_CTX_use_certificate_chain_file(ctx.get(), o.cert.c_str()) != 1 ||
                            SSL_CTX_use_PrivateKey_file(ctx.get(), o.key.c_str(), SSL_FILETYPE_PEM) != 1))
        die("cannot load the client certificate or key");

    std::string body(o.size, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 2654435761u) >> 13);

    // Idle connections: one request each, then silence until the end.
    std::vector<std::unique_ptr<Connection>> idle;
    for (int i = 0; i < o.idle; ++i) {
        try {
            auto c = std::make_unique<Connection>(ctx.get(), o);
            Options get = o;
            get.method = "GET";
            get.size = 0;
            const std::string path = o.paths.empty() ? "/v1/whoami" : o.paths[0];
            if (c->exchange(request_head(get, path), {}) < 0) die("an idle connection's first request failed");
            idle.push_back(std::move(c));
        } catch (const std::exception& e) {
            die(std::string("idle connection ") + std::to_string(i) + ": " + e.what());
        }
    }
    if (o.idle > 0) std::fprintf(stderr, "serambi_load: %d idle connections open\n", o.idle);

    Tally tally;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> done{0};
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int c = 0; c < o.clients; ++c) {
        threads.emplace_back([&, c] {
            std::vector<double> mine;
            std::vector<std::string> places;
            std::uint64_t failures = 0, unexpected = 0, refused = 0;
            int bad = 0;
            std::unique_ptr<Connection> conn;
            for (std::uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
                try {
                    if (!conn) conn = std::make_unique<Connection>(ctx.get(), o);
                } catch (const std::exception&) {
                    // Refused while many handshakes are pending from this address: the
                    // gateway's per-address limit at work. Counted apart, and tried again.
                    ++refused;
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                    continue;
                }
                const std::string path = o.paths.empty()
                                             ? expand(o.path, c, n)
                                             : o.paths[(static_cast<std::size_t>(c) * 7919 + n) % o.paths.size()];
                const auto t0 = Clock::now();
                const int status = conn->exchange(request_head(o, path), body);
                const auto t1 = Clock::now();
                if (status < 0) {
                    ++failures;
                    conn.reset();
                    continue;
                }
                if (!ok_status(o, status)) {
                    ++unexpected;
                    bad = status;
                    continue;
                }
                mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
                if (!o.locations.empty()) places.push_back(conn->location());
                if (o.requests && done.fetch_add(1) + 1 >= o.requests) stop = true;
            }
            std::lock_guard lock(tally.mutex);
            tally.latencies_ms.insert(tally.latencies_ms.end(), mine.begin(), mine.end());
            tally.locations.insert(tally.locations.end(), places.begin(), places.end());
            tally.failures += failures;
            tally.refused += refused;
            tally.unexpected += unexpected;
            if (bad) tally.last_bad_status = bad;
        });
    }
    const auto deadline = start + std::chrono::duration<double>(o.seconds);
    while (!stop && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

    if (!o.locations.empty()) {
        std::ofstream out(o.locations);
        for (const auto& place : tally.locations) out << place << "\n";
        if (!out) die("cannot write " + o.locations);
    }
    auto& l = tally.latencies_ms;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) {
        return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * static_cast<double>(l.size())))];
    };
    std::printf(
        "RESULT requests=%zu rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failures=%llu unexpected=%llu "
        "bad_status=%d seconds=%.2f\n",
        l.size(), static_cast<double>(l.size()) / elapsed, pct(0.50), pct(0.99), l.empty() ? 0.0 : l.back(),
        static_cast<unsigned long long>(tally.failures), static_cast<unsigned long long>(tally.unexpected),
        tally.last_bad_status, elapsed);
    return (tally.failures + tally.unexpected == 0 && !l.empty()) ? 0 : 1;
}
