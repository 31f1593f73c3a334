// Email notices: the recipient's address checked, the notice written in Bahasa Indonesia, and one
// SMTP dialogue with the operator's relay (STARTTLS or TLS from the start, certificate and host
// name verified, AUTH only inside TLS).
#include "gateway/mail.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "base/time.h"
#include "crypto/crypto.h"
#include "gateway/tls.h"

namespace serambi::gateway {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// ---- Writing the notice

// Text written by people (file names, reasons) on one line: control characters (C0 and C1) and
// the bidirectional overrides that could make a name read otherwise than it is become spaces,
// and a long text is cut at a character's boundary, short enough for any mail line.
std::string clean(std::string_view text, std::size_t max = 300) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
        if (i + length > text.size()) length = text.size() - i;
        const auto ch = text.substr(i, length);
        i += length;
        if (out.size() + ch.size() > max) {
            out += "…";
            break;
        }
        const bool c0 = length == 1 && (c < 0x20 || c == 0x7f);
        const bool c1 = length == 2 && c == 0xc2 && static_cast<unsigned char>(ch[1]) < 0xa0;
        // U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069: E2 80 8E/8F, E2 80 AA-AE, E2 81 A6-A9
        const auto b1 = length == 3 ? static_cast<unsigned char>(ch[1]) : 0;
        const auto b2 = length == 3 ? static_cast<unsigned char>(ch[2]) : 0;
        const bool bidi = length == 3 && c == 0xe2 &&
                          ((b1 == 0x80 && (b2 == 0x8e || b2 == 0x8f || (b2 >= 0xaa && b2 <= 0xae))) ||
                           (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9));
        if (c0 || c1 || bidi)
            out += ' ';
        else
            out += ch;
    }
    return out;
}

// For headers: printable ASCII only.
std::string ascii(std::string_view text, std::size_t max = 120) {
    std::string out;
    for (char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

struct Zone {
    std::string_view name;
    int hours;
    std::string_view label;
};
constexpr std::array<Zone, 5> kZones = {Zone{"Asia/Jakarta", 7, "WIB"}, Zone{"Asia/Pontianak", 7, "WIB"},
                                        Zone{"Asia/Makassar", 8, "WITA"}, Zone{"Asia/Jayapura", 9, "WIT"},
                                        Zone{"UTC", 0, "UTC"}};
constexpr std::array<std::string_view, 12> kMonths = {"Januari",   "Februari", "Maret",    "April",
                                                      "Mei",       "Juni",     "Juli",     "Agustus",
                                                      "September", "Oktober",  "November", "Desember"};

// "7 Desember 2026 16.20 WIT": Indonesia's zones keep no summer time, so an offset is enough.
std::string local_time(std::string_view rfc3339, std::string_view zone_name) {
    auto t = parse_time(rfc3339);
    if (!t) return clean(rfc3339, 40);
    Zone zone = kZones.back();
    for (const auto& z : kZones)
        if (z.name == zone_name) zone = z;
    const std::time_t shifted = static_cast<std::time_t>(*t + zone.hours * 3600);
    std::tm tm{};
    gmtime_r(&shifted, &tm);
    char clock[8];
    std::snprintf(clock, sizeof clock, "%02d.%02d", tm.tm_hour, tm.tm_min);
    return std::to_string(tm.tm_mday) + " " + std::string(kMonths[static_cast<std::size_t>(tm.tm_mon)]) + " " +
           std::to_string(tm.tm_year + 1900) + " " + clock + " " + std::string(zone.label);
}

// RFC 5322's Date, in UTC.
std::string mail_date(std::int64_t now) {
    const std::time_t t = static_cast<std::time_t>(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char out[64];
    std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S +0000", &tm);  // the C locale's names
    return out;
}

// "1,2 MB" in the Indonesian way, from bytes.
std::string size_text(std::int64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    const char* units[] = {"KB", "MB", "GB", "TB"};
    double v = static_cast<double>(bytes);
    std::size_t u = 0;
    v /= 1024;
    while (v >= 1024 && u + 1 < std::size(units)) {
        v /= 1024;
        ++u;
    }
    char out[32];
    std::snprintf(out, sizeof out, "%.1f %s", v, units[u]);
    std::string s = out;
    std::replace(s.begin(), s.end(), '.', ',');
    return s;
}

std::string text_of(const boost::json::object& data, std::string_view key) {
    const auto* v = data.if_contains(key);
    if (v == nullptr) return {};
    if (v->is_string()) return clean(v->as_string());
    if (v->is_int64()) return std::to_string(v->as_int64());
    if (v->is_uint64()) return std::to_string(v->as_uint64());
    if (v->is_bool()) return v->as_bool() ? "true" : "false";
    return {};
}

std::string row(std::string_view label, const std::string& value) {
    std::string line = "  " + std::string(label);
    line.resize(std::max<std::size_t>(line.size(), 18), ' ');
    return line + ": " + value + "\r\n";
}

// Base64 in lines of 76, as MIME wants.
std::string base64_lines(const std::string& text) {
    const auto encoded =
        crypto::to_base64(crypto::ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
    return out;
}

// ---- One SMTP dialogue

// Asynchronous operations on a private context, each run up to the sending's one deadline: a
// relay that trickles or never answers cannot hold the sender past it.
class Dialogue {
  public:
    Dialogue(const MailRelay& relay, ssl::context& tls)
        : relay_(relay), stream_(io_, tls), deadline_(std::chrono::steady_clock::now() + relay.timeout) {}

    // A reply where it did not belong: outside SMTP, never taken as an acceptance.
    static Error out_of_turn(const MailReply& reply) {
        return unreachable("the relay answered " + std::to_string(reply.code) + " to " + reply.step +
                           ", which SMTP does not allow there; nothing is taken as sent");
    }

    Status connect() {
        auto found = resolve();
        if (!found) return found.error();
        boost::system::error_code ec = asio::error::would_block;
        asio::async_connect(stream_.next_layer(), *found,
                            [&](const boost::system::error_code& e, const tcp::endpoint&) { ec = e; });
        if (auto waited = wait(ec); !waited) return waited;
        if (ec) return unreachable("cannot connect to " + relay_.host + ":" + relay_.port + ": " + ec.message());
        return {};
    }

    Status secure() {
        // Anything already read past the reply to STARTTLS came in the clear and would be taken
        // for the relay's words inside TLS (the injection of CVE-2011-0411): refused.
        if (in_.size() != 0) return unreachable("the relay sent more than its reply before TLS began");
        boost::system::error_code literal;
        asio::ip::make_address(relay_.host, literal);
        if (literal && !SSL_set_tlsext_host_name(stream_.native_handle(), relay_.host.c_str()))
            return unreachable("cannot set the TLS server name");
        stream_.set_verify_mode(ssl::verify_peer);
        stream_.set_verify_callback(ssl::host_name_verification(relay_.host));
        boost::system::error_code ec = asio::error::would_block;
        stream_.async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) { ec = e; });
        if (auto waited = wait(ec); !waited) return waited;
        if (ec) return unreachable("TLS with the relay failed: " + ec.message());
        secured_ = true;
        return {};
    }

    Status say(const std::string& line) {
        boost::system::error_code ec = asio::error::would_block;
        auto done = [&](const boost::system::error_code& e, std::size_t) { ec = e; };
        if (secured_)
            asio::async_write(stream_, asio::buffer(line), done);
        else
            asio::async_write(stream_.next_layer(), asio::buffer(line), done);
        if (auto waited = wait(ec); !waited) return waited;
        if (ec) return unreachable("the relay closed the connection: " + ec.message());
        return {};
    }

    // A reply, its lines joined: "250-a" "250 b" is one reply of code 250. The first word of
    // each line after the first is kept whole as a keyword (EHLO's extensions).
    Result<MailReply> hear(const std::string& step) {
        MailReply reply;
        reply.step = step;
        std::string text;
        keywords_.clear();
        for (int lines = 0;; ++lines) {
            if (lines >= 100) return unreachable("the relay's reply is too long");
            boost::system::error_code ec = asio::error::would_block;
            auto done = [&](const boost::system::error_code& e, std::size_t) { ec = e; };
            if (secured_)
                asio::async_read_until(stream_, in_, "\r\n", done);
            else
                asio::async_read_until(stream_.next_layer(), in_, "\r\n", done);
            if (auto waited = wait(ec); !waited) return waited.error();
            if (ec == asio::error::not_found) return unreachable("the relay's reply has a line too long for SMTP");
            if (ec) return unreachable("the relay closed the connection: " + ec.message());
            std::string line;
            std::istream stream(&in_);
            std::getline(stream, line);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
                !std::isdigit(static_cast<unsigned char>(line[1])) ||
                !std::isdigit(static_cast<unsigned char>(line[2])) ||
                (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
                return unreachable("the relay does not speak SMTP");
            const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (lines > 0 && code != reply.code) return unreachable("the relay does not speak SMTP");
            reply.code = code;
            if (line.size() > 4) {
                if (lines > 0) keywords_.push_back(lower(line.substr(4, line.find(' ', 4) - 4)));
                if (text.size() < 1024) text += (text.empty() ? "" : " ") + line.substr(4);
            }
            if (line.size() == 3 || line[3] == ' ') break;
        }
        reply.text = ascii(text, 200);
        return reply;
    }

    // A command and its reply.
    Result<MailReply> ask(const std::string& command, const std::string& step) {
        if (auto sent = say(command + "\r\n"); !sent) return sent.error();
        return hear(step);
    }

    bool offers(std::string_view extension) const {
        return std::find(keywords_.begin(), keywords_.end(), lower(extension)) != keywords_.end();
    }

    void close() {
        boost::system::error_code ignored;
        stream_.next_layer().close(ignored);
    }

  private:
    static Error unreachable(std::string why) { return make_error(ErrorKind::unavailable, std::move(why)); }

    // getaddrinfo cannot be cancelled, so it runs on a thread of its own, which is left to finish
    // alone if the deadline passes: a silent name server cannot hold the sender past it.
    Result<std::vector<tcp::endpoint>> resolve() {
        struct Lookup {
            std::mutex mutex;
            std::condition_variable done_cv;
            bool done = false;
            boost::system::error_code ec;
            std::vector<tcp::endpoint> endpoints;
        };
        auto lookup = std::make_shared<Lookup>();
        try {
            std::thread([lookup, host = relay_.host, port = relay_.port] {
                boost::system::error_code ec;
                std::vector<tcp::endpoint> endpoints;
                try {
                    asio::io_context io(1);
                    tcp::resolver resolver(io);
                    for (const auto& entry : resolver.resolve(host, port, ec)) endpoints.push_back(entry.endpoint());
                } catch (const std::exception&) {
                    // Out of memory or threads: this lookup fails, not the gateway.
                    ec = asio::error::no_memory;
                    endpoints.clear();
                }
                std::lock_guard lock(lookup->mutex);
                lookup->ec = ec;
                lookup->endpoints = std::move(endpoints);
                lookup->done = true;
                lookup->done_cv.notify_all();
            }).detach();
        } catch (const std::system_error& e) {
            return unreachable(std::string("cannot start the relay's lookup: ") + e.what());
        }
        std::unique_lock lock(lookup->mutex);
        if (!lookup->done_cv.wait_until(lock, deadline_, [&] { return lookup->done; }))
            return unreachable("no answer for " + relay_.host + " from the name server within " +
                               std::to_string(relay_.timeout.count()) + " s");
        if (lookup->ec || lookup->endpoints.empty())
            return unreachable("cannot resolve " + relay_.host + ": " +
                               (lookup->ec ? lookup->ec.message() : std::string("no address")));
        return lookup->endpoints;
    }

    // Runs the context until the operation under way sets `ec` or the deadline passes.
    Status wait(boost::system::error_code& ec) {
        io_.restart();
        io_.run_until(deadline_);
        if (ec != asio::error::would_block) return {};
        close();  // the operation ends with operation_aborted; let it, before `ec` goes out of scope
        io_.restart();
        io_.run();
        return unreachable("the relay did not answer within " + std::to_string(relay_.timeout.count()) + " s");
    }

    const MailRelay& relay_;
    asio::io_context io_{1};
    ssl::stream<tcp::socket> stream_;
    asio::streambuf in_{4096};  // a longer line is an error, not memory held (SMTP's limit is 512)
    std::vector<std::string> keywords_;
    std::chrono::steady_clock::time_point deadline_;
    bool secured_ = false;
};

std::string helo_name(const std::string& from) {
    const auto at = from.rfind('@');
    return at == std::string::npos ? std::string("serambi") : from.substr(at + 1);
}

}  // namespace

// ---- Replies

bool MailReply::permanent() const {
    if (code < 500 || code > 599 || (step != "RCPT TO" && step != "message")) return false;
    // RFC 3463: "5.1.1 " at the start of the text.
    if (text.size() >= 5 && text[0] == '5' && text[1] == '.' && std::isdigit(static_cast<unsigned char>(text[2])) &&
        text[3] == '.' && std::isdigit(static_cast<unsigned char>(text[4])))
        return text[2] == '1' || text[2] == '2';
    return code == 550 || code == 551 || code == 553;
}

// ---- Addresses

bool is_mail_url(std::string_view url) noexcept { return url.starts_with("mailto:"); }

bool is_mail_domain(std::string_view domain) noexcept {
    if (domain.empty() || domain.size() > 253) return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= domain.size(); ++i) {
        if (i == domain.size() || domain[i] == '.') {
            if (label == 0 || label > 63 || domain[i - 1] == '-' || domain[i - label] == '-') return false;
            label = 0;
        } else if (is_alnum(domain[i]) || domain[i] == '-') {
            ++label;
        } else {
            return false;
        }
    }
    return true;
}

Result<std::string> parse_mail_url(std::string_view url) {
    const auto refused = [](std::string why) { return make_error(ErrorKind::invalid_argument, "url: " + why); };
    if (!is_mail_url(url)) return refused("expected mailto:ADDRESS");
    const auto address = url.substr(7);
    if (address.empty() || address.size() > 254) return refused("expected one email address of at most 254 bytes");
    const auto at = address.find('@');
    if (at == std::string_view::npos || at == 0 || at > 64 || address.find('@', at + 1) != std::string_view::npos)
        return refused("expected one email address, such as mailto:walidata@dinkes.malutprov.go.id");
    const auto local = address.substr(0, at);
    const auto domain = address.substr(at + 1);
    const bool plain_local = std::all_of(local.begin(), local.end(), [](char c) {
        // No %: relays such as Postfix read "a%b.example@here" as "a@b.example" (the percent hack),
        // which would carry mail past allowed_domains.
        return is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
    });
    if (!plain_local || local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return refused("the address's part before @ may hold only letters, digits and . _ + -");
    const auto top = domain.substr(domain.rfind('.') + 1);
    if (!is_mail_domain(domain) || domain.find('.') == std::string_view::npos ||
        std::all_of(top.begin(), top.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return refused("the address's domain must be a name such as dinkes.malutprov.go.id");
    return std::string(local) + "@" + lower(domain);
}

bool mail_domain_allowed(std::string_view address, const std::vector<std::string>& domains) {
    if (std::find(domains.begin(), domains.end(), "*") != domains.end()) return true;
    const auto at = address.rfind('@');
    if (at == std::string_view::npos) return false;
    const auto domain = lower(address.substr(at + 1));
    return std::any_of(domains.begin(), domains.end(), [&](const std::string& allowed) {
        const auto a = lower(allowed);
        return domain == a || (domain.size() > a.size() && domain.ends_with("." + a));
    });
}

// ---- Sending

Result<MailReply> send_mail(const MailRelay& relay, const std::string& to, const std::string& message) {
    if (relay.security != "starttls" && relay.security != "tls" && relay.security != "none")
        return make_error(ErrorKind::invalid_argument, "[email] security: expected starttls, tls or none");
    if (!relay.username.empty() && relay.security == "none")
        return make_error(ErrorKind::invalid_argument, "[email] username: a password is never sent without TLS");
    ssl::context tls(ssl::context::tls_client);
    if (auto trusted = trust_servers(tls, relay.ca_file, "[email] ca_file"); !trusted) return trusted.error();

    Dialogue d(relay, tls);
    if (auto connected = d.connect(); !connected) return connected.error();
    if (relay.security == "tls")
        if (auto secured = d.secure(); !secured) return secured.error();
    // Each step goes on only on the reply it wants. A 4xx or 5xx is the relay's refusal and ends
    // the sending with its words; any other reply is out of SMTP's turn, an error, so that no
    // stray 2xx (from a relay's bug, or a network between that answers for it) counts as sent.
    // The end of the sending when `reply` is not the one wanted, nothing when it goes on.
    auto stop_unless = [&](Result<MailReply>& reply, int wanted, int also = 0) -> std::optional<Result<MailReply>> {
        if (reply && (reply->code == wanted || (also != 0 && reply->code == also))) return std::nullopt;
        d.close();
        if (!reply) return Result<MailReply>(reply.error());
        if (reply->code >= 400 && reply->code < 600) return Result<MailReply>(*reply);
        return Result<MailReply>(Dialogue::out_of_turn(*reply));
    };

    auto greeting = d.hear("greeting");
    if (auto end = stop_unless(greeting, 220)) return *end;
    auto ehlo = d.ask("EHLO " + helo_name(relay.from), "EHLO");
    if (auto end = stop_unless(ehlo, 250)) return *end;
    if (relay.security == "starttls") {
        // Never on without it: a relay that does not offer STARTTLS (or a network that strips it)
        // would otherwise receive the notice, and the password, in the clear.
        if (!d.offers("STARTTLS")) {
            d.close();
            return make_error(ErrorKind::unavailable, "the relay does not offer STARTTLS; nothing was sent");
        }
        auto ready = d.ask("STARTTLS", "STARTTLS");
        if (auto end = stop_unless(ready, 220)) return *end;
        if (auto secured = d.secure(); !secured) return secured.error();
        ehlo = d.ask("EHLO " + helo_name(relay.from), "EHLO");
        if (auto end = stop_unless(ehlo, 250)) return *end;
    }
    if (!relay.username.empty()) {
        // The line is built once, in place, and wiped: no copy of the password is left behind.
        std::string plain;
        plain.reserve(relay.username.size() + relay.password.size() + 2);
        plain.push_back('\0');
        plain += relay.username;
        plain.push_back('\0');
        plain += relay.password;
        std::string line = "AUTH PLAIN ";
        line.reserve(line.size() + (plain.size() + 2) / 3 * 4 + 2);
        line += crypto::to_base64(crypto::ByteView(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()));
        line += "\r\n";
        crypto::wipe(plain);
        auto sent = d.say(line);
        crypto::wipe(line);
        if (!sent) return sent.error();
        auto authed = d.hear("AUTH");
        if (auto end = stop_unless(authed, 235)) return *end;
    }
    auto sender = d.ask("MAIL FROM:<" + relay.from + ">", "MAIL FROM");
    if (auto end = stop_unless(sender, 250)) return *end;
    auto recipient = d.ask("RCPT TO:<" + to + ">", "RCPT TO");
    if (auto end = stop_unless(recipient, 250, 251)) return *end;
    auto data = d.ask("DATA", "DATA");
    if (auto end = stop_unless(data, 354)) return *end;
    // Dot-stuffing: a line that begins with "." gets a second one, so none ends the data early.
    std::string stuffed;
    stuffed.reserve(message.size() + 64);
    bool line_start = true;
    for (char c : message) {
        if (line_start && c == '.') stuffed += '.';
        stuffed += c;
        line_start = c == '\n';
    }
    if (!stuffed.ends_with("\r\n")) stuffed += "\r\n";
    stuffed += ".\r\n";
    if (auto sent = d.say(stuffed); !sent) return sent.error();
    auto accepted = d.hear("message");
    if (accepted && accepted->code >= 200 && accepted->code < 300) {
        (void)d.say("QUIT\r\n");  // courtesy, unanswered: the message is the relay's already
        d.close();
        return *accepted;
    }
    return *stop_unless(accepted, 250);
}

// ---- The notice

Result<std::string> notice_mail(const std::string& from, const std::string& to, const std::string& message_id,
                                const std::string& body, std::string_view time_zone, std::int64_t now) {
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);
    if (ec || !parsed.is_object()) return make_error(ErrorKind::corruption, "the notice is not a JSON object");
    const auto& notice = parsed.as_object();
    const auto* data_value = notice.if_contains("data");
    if (data_value == nullptr || !data_value->is_object())
        return make_error(ErrorKind::corruption, "the notice has no data");
    const auto& data = data_value->as_object();
    const auto type = text_of(notice, "type");
    const auto field = [&](std::string_view key) { return text_of(data, key); };
    const auto when = [&](std::string_view key) { return local_time(field(key), time_zone); };
    const auto dataset = field("dataset");
    const auto level = field("classification");
    const bool secret_level = level == "rahasia" || level == "sangat-rahasia";

    std::string subject;
    std::string text = "Yth. " + field("recipient") + ",\r\n\r\n";
    if (type == "address.confirm") {
        subject = "Konfirmasi alamat surel untuk pemberitahuan";
        text = "Yth. pemilik alamat ini,\r\n\r\n";
        text += "Unit " + field("owner") +
                " di gateway Serambi mendaftarkan alamat surel ini untuk menerima pemberitahuan (" + field("hook_id") +
                ").\r\n\r\n";
        text += "Jika benar, konfirmasi dengan kode berikut sebelum " + when("expires_at") + ":\r\n\r\n";
        text += row("Kode", field("code"));
        text += "\r\n  serambi hook confirm " + field("hook_id") + " " + field("code") + "\r\n\r\n";
        text +=
            "Jika Anda tidak mengenal permintaan ini, abaikan surel ini: tanpa konfirmasi, tidak ada "
            "pemberitahuan lain yang dikirim ke alamat ini.\r\n";
    } else if (type == "package.arrived") {
        subject = "Paket baru di " + dataset;
        text +=
            field("access") == "released"
                ? "Paket baru tiba di dataset " + dataset + " dan dapat Anda unduh.\r\n\r\n"
                : "Paket baru tiba di dataset " + dataset + ". Anda dapat meminta rilisnya kepada walidata.\r\n\r\n";
        text += row("Paket", field("package_id"));
        text += row("Nama berkas",
                    secret_level ? "(tidak dicantumkan untuk klasifikasi " + level + ")" : field("filename"));
        const auto* size = data.if_contains("size");
        if (size != nullptr && size->is_int64()) text += row("Ukuran", size_text(size->as_int64()));
        text += row("Klasifikasi", level);
        text += row("Pengirim", field("producer"));
        text += row("Waktu", when("created_at"));
        text += "\r\n";
        text += field("access") == "released"
                    ? "Unduh dengan: serambi pull " + field("package_id") + "\r\n"
                    : "Minta rilis dengan: serambi request " + field("package_id") + " --purpose \"...\"\r\n";
    } else if (type == "release.requested") {
        subject = "Permintaan rilis menunggu keputusan: " + dataset;
        text += "Mitra " + field("partner") + " meminta rilis paket di dataset " + dataset +
                ". Permintaan ini menunggu keputusan Anda.\r\n\r\n";
        text += row("Permintaan", field("request_id"));
        text += row("Paket", field("package_id"));
        text += row("Klasifikasi", level);
        text += row("Keperluan", field("purpose"));
    } else if (type == "release.approved") {
        subject = "Rilis disetujui: " + dataset;
        const bool released = field("released") == "true";
        text += released
                    ? "Rilis paket di dataset " + dataset + " telah disetujui. Paket dapat Anda unduh.\r\n\r\n"
                    : "Satu persetujuan rilis paket di dataset " + dataset +
                          " telah diberikan; persetujuan lain masih diperlukan sebelum paket dapat diunduh.\r\n\r\n";
        text += row("Persetujuan", field("approval_id"));
        text += row("Paket", field("package_id"));
        text += row("Klasifikasi", level);
        text += row("Disetujui oleh", field("custodian"));
        text += row("Berlaku sampai", when("expires_at"));
        if (released) text += "\r\nUnduh dengan: serambi pull " + field("package_id") + "\r\n";
    } else if (type == "release.refused") {
        subject = "Permintaan rilis ditolak: " + dataset;
        text += "Permintaan rilis paket di dataset " + dataset + " ditolak oleh walidata.\r\n\r\n";
        text += row("Permintaan", field("request_id"));
        text += row("Paket", field("package_id"));
        text += row("Klasifikasi", level);
        text += row("Alasan", field("reason"));
    } else if (type == "approval.expiring") {
        subject = "Persetujuan rilis akan berakhir: " + dataset;
        text += "Persetujuan rilis paket di dataset " + dataset + " berakhir dalam 24 jam.\r\n\r\n";
        text += row("Persetujuan", field("approval_id"));
        text += row("Paket", field("package_id"));
        text += row("Berakhir", when("expires_at"));
    } else if (type == "certificate.expiring") {
        subject = "Sertifikat Anda akan berakhir";
        text += "Sertifikat Serambi untuk " + field("principal") +
                " akan berakhir. Perbarui sebelum tanggal itu dengan: serambi renew\r\n\r\n";
        text += row("Nomor seri", field("serial"));
        text += row("Berakhir", when("not_after"));
    } else {
        return make_error(ErrorKind::corruption, "the notice's type is unknown");
    }
    text +=
        "\r\n-- \r\nPesan ini dikirim otomatis oleh gateway Serambi; jangan dibalas. Isi paket tidak pernah "
        "dikirim lewat surel.\r\nPemberitahuan " +
        type + ", " + message_id + ".\r\n";

    const bool plain = std::all_of(text.begin(), text.end(), [](char c) { return c > 0 && c < 0x7f; });
    std::string out;
    out += "From: Serambi <" + ascii(from, 254) + ">\r\n";
    out += "To: <" + ascii(to, 254) + ">\r\n";
    out += "Subject: [Serambi] " + ascii(subject) + "\r\n";
    out += "Date: " + mail_date(now) + "\r\n";
    out += "Message-ID: <" + ascii(message_id, 64) + "@" + ascii(helo_name(from), 190) + ">\r\n";
    out += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: no vacation replies to the relay
    out += "X-Serambi-Event: " + ascii(type, 40) + "\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += std::string("Content-Transfer-Encoding: ") + (plain ? "7bit" : "base64") + "\r\n\r\n";
    out += plain ? text : base64_lines(text);
    return out;
}

}  // namespace serambi::gateway
