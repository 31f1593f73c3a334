// Email notices' pure parts: recipients' addresses, the domains they may be at, the notice as
// written in Bahasa Indonesia, and the [email] settings.
#include "gateway/mail.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "crypto/crypto.h"
#include "gateway/gateway.h"
#include "temp_dir.h"

using namespace serambi;

namespace {

// The message's body, decoded when it was sent in base64.
std::string body_of(const std::string& message) {
    const auto split = message.find("\r\n\r\n");
    REQUIRE(split != std::string::npos);
    const auto body = message.substr(split + 4);
    if (message.find("Content-Transfer-Encoding: base64") == std::string::npos) return body;
    std::string joined;
    for (char c : body)
        if (c != '\r' && c != '\n') joined += c;
    auto decoded = crypto::from_base64(joined);
    REQUIRE(decoded.ok());
    return std::string(decoded->begin(), decoded->end());
}

std::string arrival(const std::string& classification, const std::string& access, const std::string& filename) {
    return R"({"type":"package.arrived","timestamp":"2026-12-07T07:20:00Z","data":{"package_id":"pkg-1f2e",)"
           R"("dataset":"dinkes-malut/imunisasi","filename":")" +
           filename + R"(","size":1258291,"classification":")" + classification +
           R"(","producer":"opd-dinkes","created_at":"2026-12-07T07:20:00Z","access":")" + access +
           R"(","recipient":"bi-malut"}})";
}

}  // namespace

TEST_CASE("a recipient is one plain address behind mailto:") {
    auto ok = gateway::parse_mail_url("mailto:walidata.dinkes+serambi@DinKes.MalutProv.go.id");
    REQUIRE(ok.ok());
    CHECK(*ok == "walidata.dinkes+serambi@dinkes.malutprov.go.id");  // the domain in lower case only
    CHECK(gateway::is_mail_url("mailto:a@b.go.id"));
    CHECK_FALSE(gateway::is_mail_url("https://b.go.id"));

    for (const char* refused : {"mailto:",
                                "a@b.go.id",
                                "MAILTO:a@b.go.id",
                                "mailto:a@b.go.id,c@d.go.id",
                                "mailto:a@b.go.id?cc=c@d.go.id",
                                "mailto:Budi <a@b.go.id>",
                                "mailto:<a@b.go.id>",
                                "mailto:a@b.go.id\r\nRCPT TO:<x@evil.example>",
                                "mailto:a@b.go.id\n",
                                "mailto:a@localhost",
                                "mailto:@b.go.id",
                                "mailto:a@",
                                "mailto:a b@b.go.id",
                                "mailto:\"a\"@b.go.id",
                                "mailto:a@@b.go.id",
                                "mailto:a@b@c.go.id",
                                "mailto:.a@b.go.id",
                                "mailto:a.@b.go.id",
                                "mailto:victim%gmail.com@b.go.id",
                                "mailto:a@10.0.0.1",
                                "mailto:a..b@b.go.id",
                                "mailto:a@-b.go.id",
                                "mailto:a@b-.go.id",
                                "mailto:a@b..go.id",
                                "mailto:a@[127.0.0.1]",
                                "mailto:a@b.go.id."}) {
        INFO(refused);
        CHECK_FALSE(gateway::parse_mail_url(refused).ok());
    }
    CHECK_FALSE(gateway::parse_mail_url("mailto:" + std::string(65, 'a') + "@b.go.id").ok());
    CHECK_FALSE(gateway::parse_mail_url("mailto:a@" + std::string(250, 'b') + ".id").ok());
}

TEST_CASE("the allowed domains hold their subdomains, not look-alikes") {
    const std::vector<std::string> domains{"go.id", "BI.go.id"};
    CHECK(gateway::mail_domain_allowed("a@go.id", domains));
    CHECK(gateway::mail_domain_allowed("a@dinkes.malutprov.go.id", domains));
    CHECK(gateway::mail_domain_allowed("a@bi.go.id", domains));
    CHECK_FALSE(gateway::mail_domain_allowed("a@evilgo.id", domains));
    CHECK_FALSE(gateway::mail_domain_allowed("a@go.id.evil.example", domains));
    CHECK_FALSE(gateway::mail_domain_allowed("a@example.com", domains));
    CHECK(gateway::mail_domain_allowed("a@example.com", {"*"}));
    CHECK_FALSE(gateway::mail_domain_allowed("a@go.id", {}));
}

TEST_CASE("a package's arrival is written in Bahasa Indonesia, with local time and no content") {
    auto message =
        gateway::notice_mail("serambi@diskominfo.malutprov.go.id", "mitra@bi.go.id", "msg_0123",
                             arrival("terbatas", "released", "laporan-imunisasi.csv"), "Asia/Jayapura", 1796600000);
    REQUIRE(message.ok());
    CHECK(message->find("From: Serambi <serambi@diskominfo.malutprov.go.id>\r\n") != std::string::npos);
    CHECK(message->find("To: <mitra@bi.go.id>\r\n") != std::string::npos);
    CHECK(message->find("Subject: [Serambi] Paket baru di dinkes-malut/imunisasi\r\n") != std::string::npos);
    CHECK(message->find("Message-ID: <msg_0123@diskominfo.malutprov.go.id>\r\n") != std::string::npos);
    CHECK(message->find("Auto-Submitted: auto-generated\r\n") != std::string::npos);
    CHECK(message->find("Date: ") != std::string::npos);
    const auto body = body_of(*message);
    CHECK(body.starts_with("Yth. bi-malut,"));
    CHECK(body.find("dapat Anda unduh") != std::string::npos);
    CHECK(body.find("laporan-imunisasi.csv") != std::string::npos);
    CHECK(body.find("1,2 MB") != std::string::npos);
    CHECK(body.find("7 Desember 2026 16.20 WIT") != std::string::npos);  // 07:20 UTC is 16:20 in Jayapura
    CHECK(body.find("serambi pull pkg-1f2e") != std::string::npos);
    // Every line ends CRLF and no bare LF is left for a relay to read its own way.
    for (std::size_t i = 0; i < message->size(); ++i)
        if ((*message)[i] == '\n') CHECK((i > 0 && (*message)[i - 1] == '\r'));
}

TEST_CASE("a rahasia package's file name stays out of email") {
    auto message =
        gateway::notice_mail("serambi@x.go.id", "mitra@bi.go.id", "msg_1",
                             arrival("rahasia", "request", "daftar-penerima-bansos.xlsx"), "Asia/Jakarta", 1796600000);
    REQUIRE(message.ok());
    const auto body = body_of(*message);
    CHECK(body.find("daftar-penerima-bansos") == std::string::npos);
    CHECK(body.find("tidak dicantumkan untuk klasifikasi rahasia") != std::string::npos);
    CHECK(body.find("meminta rilis") != std::string::npos);  // listed to ask for, not released
    CHECK(body.find("14.20 WIB") != std::string::npos);
}

TEST_CASE("text written by people cannot add headers or end the message") {
    auto message = gateway::notice_mail(
        "serambi@x.go.id", "mitra@bi.go.id", "msg_2",
        R"({"type":"release.refused","timestamp":"2026-12-07T07:20:00Z","data":{"request_id":"req-1","package_id":"pkg-1",)"
        R"("dataset":"d/x","classification":"terbatas","partner":"bi","reason":")" +
            std::string("tidak sesuai\\r\\nBcc: x@evil.example\\r\\n.\\r\\nMAIL FROM:<x@evil.example>") +
            R"(","recipient":"bi"}})",
        "UTC", 1796600000);
    REQUIRE(message.ok());
    const auto headers = message->substr(0, message->find("\r\n\r\n"));
    CHECK(headers.find("Bcc") == std::string::npos);
    const auto body = body_of(*message);
    CHECK(body.find("ditolak") != std::string::npos);
    CHECK(body.find("\r\n.\r\n") == std::string::npos);
    CHECK(body.find("tidak sesuai  Bcc: x@evil.example  .  MAIL FROM") != std::string::npos);
}

TEST_CASE("every event has its notice, and an unknown one is refused") {
    const std::vector<std::pair<std::string, std::string>> events{
        {R"({"type":"release.requested","timestamp":"t","data":{"request_id":"r","package_id":"p","dataset":"d/x","classification":"rahasia","partner":"bi","purpose":"analisis","recipient":"w"}})",
         "Permintaan rilis menunggu keputusan"},
        {R"({"type":"release.approved","timestamp":"t","data":{"approval_id":"a","package_id":"p","dataset":"d/x","classification":"terbatas","partner":"bi","custodian":"w","expires_at":"2026-12-08T00:00:00Z","released":true,"recipient":"bi"}})",
         "Rilis disetujui"},
        {R"({"type":"approval.expiring","timestamp":"t","data":{"approval_id":"a","package_id":"p","dataset":"d/x","expires_at":"2026-12-08T00:00:00Z","recipient":"bi"}})",
         "Persetujuan rilis akan berakhir"},
        {R"({"type":"certificate.expiring","timestamp":"t","data":{"principal":"bi","serial":"0a","not_after":"2026-12-30T00:00:00Z","recipient":"bi"}})",
         "Sertifikat Anda akan berakhir"}};
    {
        auto confirm = gateway::notice_mail(
            "serambi@x.go.id", "a@b.go.id", "msg_5",
            R"({"type":"address.confirm","timestamp":"t","data":{"hook_id":"hook-00000000000000aa","owner":"bi-malut","code":"7QKM-3XWD","expires_at":"2026-12-14T07:20:00Z","recipient":"bi-malut"}})",
            "Asia/Jayapura", 1796600000);
        REQUIRE(confirm.ok());
        CHECK(confirm->find("Subject: [Serambi] Konfirmasi alamat surel untuk pemberitahuan") != std::string::npos);
        const auto text = body_of(*confirm);
        CHECK(text.starts_with("Yth. pemilik alamat ini,"));
        CHECK(text.find("serambi hook confirm hook-00000000000000aa 7QKM-3XWD") != std::string::npos);
        CHECK(text.find("14 Desember 2026 16.20 WIT") != std::string::npos);
        CHECK(text.find("abaikan surel ini") != std::string::npos);
    }
    for (const auto& [body, subject] : events) {
        INFO(subject);
        auto message = gateway::notice_mail("serambi@x.go.id", "a@b.go.id", "msg_3", body, "Asia/Makassar", 1796600000);
        REQUIRE(message.ok());
        CHECK(message->find("Subject: [Serambi] " + subject) != std::string::npos);
    }
    CHECK_FALSE(
        gateway::notice_mail("s@x.go.id", "a@b.go.id", "m", R"({"type":"package.eaten","data":{}})", "UTC", 0).ok());
    CHECK_FALSE(gateway::notice_mail("s@x.go.id", "a@b.go.id", "m", "not json", "UTC", 0).ok());
}

TEST_CASE("the email settings load, and a risky one is refused with its key") {
    TempDir dir;
    const auto file = dir.path / "serambi.toml";
    std::ofstream(file) << "[email]\nrelay = \"mail.malutprov.go.id:587\"\nsecurity = \"starttls\"\n"
                           "from = \"serambi@diskominfo.malutprov.go.id\"\nusername = \"serambi\"\n"
                           "password_file = \"smtp.pass\"\nallowed_domains = [\"go.id\"]\ntimeout_seconds = 20\n";
    auto config = gateway::load_config(file);
    REQUIRE(config.ok());
    CHECK(config->email_relay_host == "mail.malutprov.go.id");
    CHECK(config->email_relay_port == "587");
    CHECK(config->email_password_file == dir.path / "smtp.pass");
    CHECK(config->email_allowed_domains == std::vector<std::string>{"go.id"});
    CHECK(config->email_timeout_seconds == 20);

    auto error_for = [&](const std::string& text) {
        std::ofstream(file, std::ios::trunc) << text;
        auto bad = gateway::load_config(file);
        REQUIRE_FALSE(bad.ok());
        return bad.error().message;
    };
    CHECK(error_for("[email]\nrelay = \"mail.x.go.id:587\"\n").find("from") != std::string::npos);
    CHECK(error_for("[email]\nrelay = \"mail.x.go.id:25\"\nfrom = \"s@x.go.id\"\nsecurity = \"none\"\n")
              .find("security") != std::string::npos);
    CHECK(error_for("[email]\nrelay = \"127.0.0.1:25\"\nfrom = \"s@x.go.id\"\nsecurity = \"none\"\nusername = \"u\"\n"
                    "password_file = \"p\"\n")
              .find("never sent without TLS") != std::string::npos);
    CHECK(error_for("[email]\nrelay = \"mail.x.go.id:587\"\nfrom = \"s@x.go.id\"\nusername = \"u\"\n")
              .find("password_file") != std::string::npos);
    CHECK(error_for("[email]\nrelay = \"mail.x.go.id\"\n").find(":2: email.relay") != std::string::npos);
    CHECK(error_for("[email]\nsecurity = \"ssl\"\n").find("email.security") != std::string::npos);
    CHECK(error_for("[email]\nfrom = \"Serambi <s@x.go.id>\"\n").find("email.from") != std::string::npos);
    CHECK(error_for("[email]\nallowed_domains = [\"*.go.id\"]\n").find("email.allowed_domains") != std::string::npos);
    CHECK(error_for("[email]\nusername = \"a\\r\\nb\"\n").find("email.username") != std::string::npos);
    CHECK(error_for("[email]\nrelay = \"127.0.0.1:25\"\nfrom = \"s@x.go.id\"\nsecurity = \"none\"\n")
              .find("allowed_domains") != std::string::npos);  // where notices may go is said, never assumed
    CHECK(error_for("[email]\nrelay = \"127.example.com:25\"\nfrom = \"s@x.go.id\"\nsecurity = \"none\"\n"
                    "allowed_domains = [\"*\"]\n")
              .find("security") != std::string::npos);
    // A relay on this host may be spoken to without TLS (a local MTA), without a login.
    std::ofstream(file, std::ios::trunc)
        << "[email]\nrelay = \"[::1]:25\"\nfrom = \"s@x.go.id\"\nsecurity = \"none\"\nallowed_domains = [\"*\"]\n";
    CHECK(gateway::load_config(file).ok());
}

TEST_CASE("a file name cannot turn itself around in a notice") {
    // U+202E (right-to-left override) would show "laporan<U+202E>vsc.exe" as "laporanexe.csv".
    auto message = gateway::notice_mail("serambi@x.go.id", "mitra@bi.go.id", "msg_4",
                                        arrival("terbatas", "released", "laporan\u202evsc.exe"), "UTC", 1796600000);
    REQUIRE(message.ok());
    const auto body = body_of(*message);
    CHECK(body.find("\u202e") == std::string::npos);
    CHECK(body.find("laporan vsc.exe") != std::string::npos);
}
