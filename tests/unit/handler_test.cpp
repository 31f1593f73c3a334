// The request handler without a socket: what each caller gets for each kind of request.
#include "gateway/handler.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "crypto/age.h"
#include "crypto/tlog.h"
#include "gateway/canonical_json.h"
#include "temp_dir.h"

using namespace serambi;
using namespace serambi::gateway;

namespace {

struct World {
    TempDir dir;
    crypto::SecretKey master = crypto::SecretKey::random();
    std::unique_ptr<storage::Store> store;
    std::shared_ptr<const policies::Policy> policy;
    std::shared_ptr<certs::ManifestSigner> signer;
    certs::Authority ca;
    Config config;
    std::unique_ptr<AuditTrail> audit;
    std::unique_ptr<Handler> handler;
    int next_request = 0;

    World() {
        store = std::move(storage::Store::open({dir.path / "db", dir.path / "blobs", crypto::Aead::aes_256_gcm, true},
                                               master))
                    .value();
        policy = policies::Policy::parse(policies::default_policy_text(), "default").value();
        ca = certs::create_authority("Test CA", 10).value();
        auto key = certs::generate_private_key().value();
        certs::IssueRequest req;
        req.common_name = std::string(certs::kSigningCommonName);
        req.usage = certs::Usage::signing;
        auto cert = certs::issue(ca, certs::public_key_of(key).value(), req).value();
        signer = std::make_shared<certs::ManifestSigner>(std::move(certs::ManifestSigner::load(cert, key)).value());
        config.max_package_bytes = 1 << 20;
        audit = std::make_unique<AuditTrail>(*store, crypto::tlog::NoteSigner::generate("test.local/log").value());
        handler = std::make_unique<Handler>(Handler::Services{
            store.get(), policy, signer, certs::Authority{ca.cert_pem, ca.key_pem.copy()}, &config, audit.get()});
        add("admin", "admin", "S-ADMIN");
        add("dinkes-malut", "producer", "S-DINKES");
        add("pemkab-halut", "producer", "S-HALUT");
        add("walidata", "custodian", "S-WALI");
        add("bi-malut", "partner", "S-BI");
        dataset("dinkes-malut/imunisasi", "terbatas");
        dataset("dinkes-malut/fasilitas", "biasa");
    }
    void add(const std::string& id, const std::string& role, const std::string& serial) {
        REQUIRE(store->registry().add_principal({id, id, {role}, serial, "fp", {}, {}, {}, {}}).ok());
    }
    void dataset(const std::string& id, const std::string& level) {
        storage::Dataset d;
        d.id = id;
        d.owner = id.substr(0, id.find('/'));
        d.classification = level;
        d.title = "t";
        d.created_by = "admin";
        REQUIRE(store->registry().add_dataset(d).ok());
    }
    RequestHead head(const std::string& who, const std::string& method, const std::string& target) {
        RequestHead h;
        h.method = method;
        h.target = target;
        h.request_id = "req-" + std::to_string(++next_request);
        h.cert_principal_id = who;
        auto p = store->registry().principal(who);
        h.cert_serial = p ? p->cert_serial : "none";
        h.cert_fingerprint = p ? p->cert_fingerprint : "none";
        return h;
    }
    Response send(RequestHead h, const std::string& body = {}) {
        h.has_body = !body.empty();
        auto d = handler->dispatch(h);
        if (!d.upload) return std::move(d.response);
        REQUIRE(d.upload->write(crypto::as_bytes(body)).ok());
        return d.upload->finish();
    }
    Response push(const std::string& who, const std::string& dataset, const std::string& body,
                  const std::string& filename = "data.csv") {
        auto h = head(who, "POST", "/v1/datasets/" + dataset + "/packages");
        h.headers = {{"Serambi-Filename", filename}, {"Content-Type", "text/csv"}};
        return send(h, body);
    }
};

std::string drain(Response& r) {
    std::string out;
    std::vector<std::uint8_t> buf(4096);
    for (;;) {
        auto n = r.payload->read(buf);
        REQUIRE(n.ok());
        if (*n == 0) break;
        out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    return out;
}

boost::json::object json_of(const Response& r) { return boost::json::parse(r.body).as_object(); }

std::string header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

}  // namespace

TEST_CASE("the owner pushes a package and gets a receipt with a verifiable signed manifest") {
    World w;
    auto r = w.push("dinkes-malut", "dinkes-malut/imunisasi", "kabupaten,jumlah\nhalut,10\n");
    REQUIRE(r.status == 201);
    auto receipt = json_of(r);
    CHECK(receipt.at("classification").as_string() == "terbatas");
    CHECK(receipt.at("size").to_number<std::uint64_t>() == 26);
    const std::string manifest(receipt.at("manifest").as_string());
    const auto signature = crypto::from_base64(std::string(receipt.at("manifest_signature").as_string())).value();
    CHECK(certs::verify_signature(crypto::as_bytes(manifest), signature, w.ca.cert_pem).ok());
    CHECK(manifest == gateway::canonical_json(boost::json::parse(manifest)).value());
    CHECK(boost::json::parse(manifest).at("sha256").as_string() ==
          crypto::to_hex(crypto::Sha256::of(crypto::as_bytes("kabupaten,jumlah\nhalut,10\n"))));
}

TEST_CASE("readers get the payload with its digest, strangers to a terbatas package get 404") {
    World w;
    const std::string body(100000, 'x');
    auto receipt = json_of(w.push("dinkes-malut", "dinkes-malut/imunisasi", body));
    const std::string id(receipt.at("package_id").as_string());
    for (const auto* reader : {"dinkes-malut", "walidata"}) {
        auto r = w.send(w.head(reader, "GET", "/v1/packages/" + id));
        REQUIRE(r.status == 200);
        CHECK(header(r, "Repr-Digest") ==
              "sha-256=:" + crypto::to_base64(crypto::Sha256::of(crypto::as_bytes(body))) + ":");
        CHECK(drain(r) == body);
    }
    for (const auto* stranger : {"pemkab-halut", "bi-malut", "admin"}) {
        for (const auto* part : {"", "/manifest", "/manifest.p7s"}) {
            auto r = w.send(w.head(stranger, "GET", "/v1/packages/" + id + part));
            CHECK(r.status == 404);
            CHECK(json_of(r).at("request_id").as_string().starts_with("req-"));
            CHECK(header(r, "Content-Type") == "application/problem+json");
        }
        auto listing = w.send(w.head(stranger, "GET", "/v1/datasets"));
        CHECK(listing.body.find("imunisasi") == std::string::npos);
        CHECK(listing.body.find("fasilitas") != std::string::npos);
    }
}

TEST_CASE("a range request returns 206 with exactly the bytes asked for") {
    World w;
    std::string body;
    for (int i = 0; i < 20000; ++i) body += std::to_string(i % 10);
    const std::string id(json_of(w.push("dinkes-malut", "dinkes-malut/fasilitas", body)).at("package_id").as_string());
    auto h = w.head("pemkab-halut", "GET", "/v1/packages/" + id);
    h.headers = {{"Range", "bytes=5-9"}};
    auto r = w.send(h);
    REQUIRE(r.status == 206);
    CHECK(header(r, "Content-Range") == "bytes 5-9/20000");
    CHECK(drain(r) == body.substr(5, 5));
    h.headers = {{"Range", "bytes=-3"}};
    auto tail = w.send(h);
    CHECK(drain(tail) == body.substr(19997));
    h.headers = {{"Range", "bytes=20000-"}};
    auto beyond = w.send(h);
    CHECK(beyond.status == 416);
    CHECK(header(beyond, "Content-Range") == "bytes */20000");
}

TEST_CASE("pushes that break a rule are refused before any byte is stored") {
    World w;
    CHECK(w.push("pemkab-halut", "dinkes-malut/imunisasi", "x").status == 404);  // may not see it
    CHECK(w.push("pemkab-halut", "dinkes-malut/fasilitas", "x").status == 403);  // sees it, not owner
    CHECK(w.push("walidata", "dinkes-malut/imunisasi", "x").status == 403);
    CHECK(w.push("dinkes-malut", "dinkes-malut/nothing", "x").status == 404);
    for (const auto* name : {"../etc/passwd", "a/b.csv", ".hidden", "", "a\x01.csv", "a\"b.csv", "bad\xff.csv",
                             "evil\xe2\x80\xaegpj.exe"}) {
        INFO(name);
        CHECK(w.push("dinkes-malut", "dinkes-malut/imunisasi", "x", name).status == 400);
    }
    auto h = w.head("dinkes-malut", "POST", "/v1/datasets/dinkes-malut/imunisasi/packages");
    h.headers = {{"Serambi-Filename", "a.csv"}, {"Serambi-Classification", "biasa"}};
    CHECK(w.send(h, "x").status == 400);  // lower than the dataset's level
    h.headers = {{"Serambi-Filename", "a.csv"}, {"Serambi-Classification", "top-secret"}};
    CHECK(w.send(h, "x").status == 400);
    h.headers = {{"Serambi-Filename", "a.csv"}, {"Content-Type", "text/csv\r\nX: y"}};
    CHECK(w.send(h, "x").status == 400);
    CHECK(w.push("dinkes-malut", "dinkes-malut/imunisasi", "").status == 411);
    CHECK(w.store->packages().packages_in("dinkes-malut/imunisasi")->empty());
}

TEST_CASE("a package classified above its dataset is hidden from readers of the dataset's level") {
    World w;
    auto h = w.head("dinkes-malut", "POST", "/v1/datasets/dinkes-malut/fasilitas/packages");
    h.headers = {{"Serambi-Filename", "a.csv"}, {"Serambi-Classification", "rahasia"}};
    auto r = w.send(h, "secret rows");
    REQUIRE(r.status == 201);
    const std::string id(json_of(r).at("package_id").as_string());
    CHECK(w.send(w.head("pemkab-halut", "GET", "/v1/packages/" + id)).status == 404);
    auto listing = w.send(w.head("pemkab-halut", "GET", "/v1/datasets/dinkes-malut/fasilitas/packages"));
    CHECK(listing.status == 200);
    CHECK(listing.body == "[]\n");
}

TEST_CASE("unknown or replaced certificates are unauthenticated, odd paths are refused") {
    World w;
    auto h = w.head("dinkes-malut", "GET", "/v1/whoami");
    h.cert_serial = "OLD-SERIAL";
    CHECK(w.send(h).status == 401);
    // The registered serial on another certificate (another CA under a shared root, say) is not enough.
    auto same_serial = w.head("dinkes-malut", "GET", "/v1/whoami");
    same_serial.cert_fingerprint = std::string(64, 'a');
    CHECK(w.send(same_serial).status == 401);
    CHECK(w.send(w.head("nobody", "GET", "/v1/whoami")).status == 401);
    CHECK(w.send(w.head("nobody", "GET", "/healthz")).status == 200);
    CHECK(w.send(w.head("dinkes-malut", "GET", "/v1/whoami")).status == 200);
    CHECK(w.send(w.head("dinkes-malut", "GET", "/v1/datasets/dinkes-malut/../x")).status == 400);
    CHECK(w.send(w.head("dinkes-malut", "GET", "/v1/datasets/%2e%2e/x")).status == 400);
    CHECK(w.send(w.head("dinkes-malut", "GET", "/v1/datasets/Dinkes/x")).status == 400);
    CHECK(w.send(w.head("dinkes-malut", "GET", "/v1/packages/zzz")).status == 404);
    const auto wrong_method = w.send(w.head("dinkes-malut", "DELETE", "/v1/datasets"));
    CHECK(wrong_method.status == 405);
    CHECK(header(wrong_method, "Allow") == "GET, POST");
    const auto health_post = w.send(w.head("nobody", "POST", "/healthz"));
    CHECK(health_post.status == 405);
    CHECK(header(health_post, "Allow") == "GET");
    CHECK(w.send(w.head("dinkes-malut", "GET", "relative")).status == 400);
}

TEST_CASE("a removed principal is refused even with a certificate no list has revoked yet") {
    World w;
    CHECK(w.send(w.head("dinkes-malut", "GET", "/v1/whoami")).status == 200);
    const auto p = w.store->registry().principal("dinkes-malut");
    REQUIRE(p.ok());
    // Removed in the database, its serial not in the gateway's in-memory list: the row decides.
    REQUIRE(w.store->registry()
                .remove_principal("dinkes-malut", {p->cert_serial, "dinkes-malut", 5, 1795660000, "admin"})
                .ok());
    const auto refused = w.send(w.head("dinkes-malut", "GET", "/v1/whoami"));
    CHECK(refused.status == 401);
    CHECK(std::string(refused.body).find("removed") != std::string::npos);
    // And its serial changing meanwhile makes a removal refuse rather than revoke the wrong one.
    const auto other = w.store->registry().principal("walidata");
    REQUIRE(other.ok());
    auto stale = w.store->registry().remove_principal("walidata", {"00STALE", "walidata", 5, 1795660000, "admin"});
    REQUIRE_FALSE(stale.ok());
    CHECK(stale.error().kind == ErrorKind::conflict);
    CHECK(w.store->registry().principal("walidata")->removed_at.empty());
}

TEST_CASE("only an admin registers principals, from a CSR whose name matches") {
    World w;
    auto key = certs::generate_private_key().value();
    const boost::json::object body{{"id", "telkom-malut"},
                                   {"name", "Telkom"},
                                   {"roles", boost::json::array{"partner"}},
                                   {"csr", certs::make_csr(key, "telkom-malut").value()}};
    const auto text = boost::json::serialize(body);
    CHECK(w.send(w.head("walidata", "POST", "/v1/principals"), text).status == 404);
    auto r = w.send(w.head("admin", "POST", "/v1/principals"), text);
    REQUIRE(r.status == 201);
    const std::string cert(json_of(r).at("certificate").as_string());
    CHECK(certs::inspect(cert)->principal_id == "telkom-malut");
    CHECK(w.store->registry().principal("telkom-malut")->cert_serial == certs::inspect(cert)->serial_hex);
    CHECK(w.send(w.head("admin", "POST", "/v1/principals"), text).status == 409);

    auto mismatched = body;
    mismatched["id"] = "someone-else";
    CHECK(w.send(w.head("admin", "POST", "/v1/principals"), boost::json::serialize(mismatched)).status == 400);
    auto bad_role = body;
    bad_role["id"] = "x";
    bad_role["roles"] = boost::json::array{"king"};
    CHECK(w.send(w.head("admin", "POST", "/v1/principals"), boost::json::serialize(bad_role)).status == 400);
    CHECK(w.send(w.head("admin", "POST", "/v1/principals"), "{not json").status == 400);
    CHECK(w.send(w.head("admin", "POST", "/v1/principals"), R"({"id":"a","extra":1})").status == 400);
}

TEST_CASE("datasets are created by custodians with a known owner and classification") {
    World w;
    auto create = [&](const std::string& who, const std::string& json) {
        return w.send(w.head(who, "POST", "/v1/datasets"), json).status;
    };
    CHECK(create("walidata", R"({"id":"pemkab-halut/apbd","classification":"biasa","title":"APBD"})") == 201);
    CHECK(create("walidata", R"({"id":"pemkab-halut/apbd","classification":"biasa","title":"APBD"})") == 409);
    CHECK(create("dinkes-malut", R"({"id":"dinkes-malut/x","classification":"biasa","title":"x"})") == 403);
    CHECK(create("admin", R"({"id":"ghost/x","classification":"biasa","title":"x"})") == 400);
    CHECK(create("admin", R"({"id":"pemkab-halut/y","classification":"top-secret","title":"x"})") == 400);
    CHECK(create("admin", R"({"id":"pemkab-halut/../y","classification":"biasa","title":"x"})") == 400);
    CHECK(create("admin", R"({"id":"pemkab-halut/z","owner":"dinkes-malut","classification":"biasa","title":"x"})") ==
          400);
    CHECK(w.store->registry().datasets()->size() == 3);
}

TEST_CASE("a producer that is also a custodian cannot approve its own package, at any layer") {
    World w;
    REQUIRE(w.store->registry()
                .add_principal({"bappeda", "Bappeda", {"producer", "custodian"}, "S-BAPPEDA", "fp", {}, {}, {}, {}})
                .ok());
    w.dataset("bappeda/anggaran", "rahasia");
    storage::AgreementRecord mou;
    mou.id = "mou-0000000000000001";
    mou.partner = "bi-malut";
    mou.patterns = {"bappeda/*"};
    mou.max_classification = "rahasia";
    mou.purpose = "kajian";
    mou.valid_from = now_seconds() - 60;
    mou.valid_until = now_seconds() + 86400;
    mou.created_by = "walidata";
    REQUIRE(w.store->grants().add_agreement(mou).ok());
    const auto reader_key = crypto::age::Identity::generate();  // rahasia goes to the reader age-encrypted
    REQUIRE(
        w.store->registry().set_age_recipient("bi-malut", crypto::age::encode_recipient(reader_key.recipient())).ok());
    auto pushed = w.push("bappeda", "bappeda/anggaran", "pos,pagu\n");
    REQUIRE(pushed.status == 201);
    const std::string id(json_of(pushed).at("package_id").as_string());
    const std::string body = R"({"partner":"bi-malut"})";

    auto refused = w.send(w.head("bappeda", "POST", "/v1/packages/" + id + "/approvals"), body);
    CHECK(refused.status == 409);
    CHECK(header(refused, "Content-Type") == "application/problem+json");
    CHECK(std::string(json_of(refused).at("detail").as_string()).find("producer") != std::string::npos);
    // What the access log records of it: a refusal of this package's approval, with the reason.
    CHECK(refused.audit.resource.find(id) != std::string::npos);
    CHECK(refused.audit.classification == "rahasia");
    CHECK(refused.audit.reason.find("producer") != std::string::npos);
    CHECK(w.store->grants().approvals(id, "")->empty());
    CHECK(w.send(w.head("bi-malut", "GET", "/v1/packages/" + id)).status == 404);

    // The store refuses it too, for any path that does not ask the policy first.
    storage::ApprovalRecord own;
    own.id = "apv-00000000000000aa";
    own.package = id;
    own.partner = "bi-malut";
    own.custodian = "bappeda";
    own.created_at = now_seconds();
    own.expires_at = now_seconds() + 3600;
    auto stored = w.store->grants().add_approval(own);
    REQUIRE_FALSE(stored.ok());
    CHECK(stored.error().kind == ErrorKind::conflict);
    CHECK(w.store->grants().approvals(id, "")->empty());

    CHECK(w.send(w.head("walidata", "POST", "/v1/packages/" + id + "/approvals"), body).status == 201);
    CHECK(w.send(w.head("bi-malut", "GET", "/v1/packages/" + id)).status == 200);
}

TEST_CASE("boundary checks: filenames, media types and ranges") {
    CHECK(is_safe_filename("laporan 2024 (final).xlsx"));
    CHECK(is_safe_filename("data_kesehatan_é.csv"));
    CHECK_FALSE(is_safe_filename(std::string(256, 'a')));
    CHECK_FALSE(is_safe_filename("C:\\x"));
    CHECK_FALSE(is_safe_filename("\xc0\xaf"));  // overlong '/'
    CHECK(is_media_type("text/csv; charset=utf-8"));
    CHECK_FALSE(is_media_type("text"));
    CHECK_FALSE(is_media_type("text/csv\n"));
    CHECK(parse_range("bytes=0-0", 10).value()->last == 0);
    CHECK(parse_range("bytes=3-100", 10).value()->last == 9);
    CHECK_FALSE(parse_range("bytes=0-1,4-5", 10).value().has_value());  // served whole
    CHECK_FALSE(parse_range("bytes=5-4", 10).ok());
    CHECK_FALSE(parse_range("bytes=-0", 10).ok());
    CHECK_FALSE(parse_range("bytes=x-1", 10).ok());
    CHECK_FALSE(parse_range("bytes=99999999999999999999-", 10).ok());
    CHECK(http_status_of(ErrorKind::not_found) == 404);
    CHECK(http_status_of(ErrorKind::too_large) == 413);
}

TEST_CASE("RFC 8187 file names are decoded once, then judged like plain ones") {
    CHECK(decode_extended_value("UTF-8''laporan%20gizi%E2%80%93Ternate.csv").value() ==
          "laporan gizi\xe2\x80\x93Ternate.csv");
    CHECK(decode_extended_value("utf-8''a.csv").value() == "a.csv");
    CHECK_FALSE(decode_extended_value("laporan.csv").has_value());  // no charset
    CHECK_FALSE(decode_extended_value("ISO-8859-1''a.csv").has_value());
    CHECK_FALSE(decode_extended_value("UTF-8''%zz.csv").has_value());
    CHECK_FALSE(decode_extended_value("UTF-8''a%2").has_value());      // cut escape
    CHECK_FALSE(decode_extended_value("UTF-8''a b.csv").has_value());  // a space must be escaped
    CHECK_FALSE(decode_extended_value("UTF-8''" + std::string(800, 'a')).has_value());
    // Decoding never makes a forbidden name acceptable.
    CHECK_FALSE(is_safe_filename(decode_extended_value("UTF-8''..%2Fserambi.toml").value()));
    CHECK_FALSE(is_safe_filename(decode_extended_value("UTF-8''a%00b").value()));
    CHECK_FALSE(is_safe_filename(decode_extended_value("UTF-8''%3Cimg%3E.csv").value()));
    CHECK_FALSE(is_safe_filename(decode_extended_value("UTF-8''%C0%AF").value()));  // overlong '/'
}

TEST_CASE("a browser's request from another site changes nothing and is refused before its route") {
    World w;
    auto from_browser = [&](const std::string& method, const std::string& target,
                            std::vector<std::pair<std::string, std::string>> headers) {
        auto h = w.head("admin", method, target);
        h.headers = std::move(headers);
        h.headers.emplace_back("Host", "gw.example:8443");
        return h;
    };
    const std::string dataset = R"({"id":"admin/x","classification":"biasa","title":"x"})";
    struct Case {
        const char* what;
        std::vector<std::pair<std::string, std::string>> headers;
        int status;
    };
    const std::vector<Case> cases = {
        {"another origin", {{"Origin", "https://evil.example"}}, 403},
        {"a lookalike origin", {{"Origin", "https://gw.example:8443.evil.example"}}, 403},
        {"http, not https", {{"Origin", "http://gw.example:8443"}}, 403},
        {"an opaque origin", {{"Origin", "null"}}, 403},
        {"a cross-site fetch", {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "no-cors"}}, 403},
        {"a sibling site", {{"Sec-Fetch-Site", "same-site"}}, 403},
        {"an address opened from outside any page", {{"Sec-Fetch-Site", "none"}}, 403},
        {"own origin, no portal header",
         {{"Origin", "https://gw.example:8443"}, {"Sec-Fetch-Site", "same-origin"}},
         403},
        {"a wrong portal header", {{"Origin", "https://GW.example:8443"}, {"Serambi-Client", "cli"}}, 403},
        {"the portal itself",
         {{"Origin", "https://GW.example:8443"}, {"Sec-Fetch-Site", "same-origin"}, {"Serambi-Client", "portal"}},
         201},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto r = w.send(from_browser("POST", "/v1/datasets", c.headers), dataset);
        CHECK(r.status == c.status);
        if (c.status == 403) {
            CHECK(r.audit.reason.starts_with("cross-site request refused"));
            CHECK(r.principal == "admin");  // the entry names whose browser was used
            CHECK(w.store->registry().datasets()->size() == 2);
        }
    }
    CHECK(w.store->registry().datasets()->size() == 3);
    // Reads too: a pull spends downloads. The portal's page alone may be opened from a link.
    CHECK(w.send(from_browser("GET", "/v1/whoami", {{"Sec-Fetch-Site", "cross-site"}})).status == 403);
    CHECK(w.send(from_browser("GET", "/", {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "navigate"}})).status ==
          200);
    CHECK(w.send(from_browser(
                     "GET", "/",
                     {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "navigate"}, {"Sec-Fetch-Dest", "iframe"}}))
              .status == 403);
    CHECK(
        w.send(from_browser("POST", "/", {{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "navigate"}})).status ==
        405);  // no such method: nothing to refuse
    // No browser marks at all: the CLI and scripts.
    CHECK(w.send(w.head("admin", "GET", "/v1/whoami")).status == 200);
}

TEST_CASE("the portal's files: the start page names the zone, assets only under this build's version") {
    World w;
    w.config.portal_time_zone = "Asia/Makassar";
    auto page = w.send(w.head("nobody", "GET", "/"));
    REQUIRE(page.status == 200);
    CHECK(page.body.find("content=\"Asia/Makassar\"") != std::string::npos);
    CHECK(header(page, "Content-Security-Policy").find("script-src 'self';") != std::string::npos);
    const auto version = page.body.substr(page.body.find("/assets/") + 8, 16);
    CHECK(w.send(w.head("nobody", "GET", "/assets/" + version + "/app.js")).status == 200);
    CHECK(w.send(w.head("nobody", "GET", "/assets/" + version + "/index.html")).status == 404);
    CHECK(w.send(w.head("nobody", "GET", "/assets/" + version + "/nothing.js")).status == 404);
    CHECK(w.send(w.head("nobody", "GET", "/assets/0123456789abcdef/app.js")).status == 404);
    w.config.portal_enabled = false;
    CHECK(w.send(w.head("nobody", "GET", "/")).status == 404);
    CHECK(w.send(w.head("nobody", "GET", "/assets/" + version + "/app.js")).status == 404);
}

TEST_CASE("expired uploads are removed with an access-log entry, finished ones quietly") {
    World w;
    storage::PackageDraft draft{"dinkes-malut/imunisasi", "dinkes-malut", "terbatas", "a.csv", "text/csv", {}, {}};
    auto stale = w.store->packages().begin_upload(draft, 100, 1000);
    auto current = w.store->packages().begin_upload(draft, 100, 4102444800);
    REQUIRE(stale.ok());
    REQUIRE(current.ok());
    const auto stale_id = (*stale)->record().id;
    stale->reset();
    const auto before = w.store->log().head()->size;
    CHECK(w.handler->expire_uploads().empty());
    CHECK(w.store->packages().upload(stale_id).error().kind == ErrorKind::not_found);
    CHECK(w.store->packages().upload((*current)->record().id).ok());
    REQUIRE(w.store->log().head()->size == before + 1);
    const auto entry = w.store->log().entries(before, before + 1, 1).value().front();
    CHECK(entry.find("upload.expire") != std::string::npos);
    CHECK(entry.find("uploads/" + stale_id) != std::string::npos);
}

TEST_CASE("an upload is appended to by its producer alone, and becomes a package at its last byte") {
    World w;
    auto create = w.head("dinkes-malut", "POST", "/v1/uploads");
    create.headers = {{"Tus-Resumable", "1.0.0"},
                      {"Upload-Length", "6"},
                      {"Upload-Metadata", "dataset ZGlua2VzLW1hbHV0L2ltdW5pc2FzaQ==,filename YS5jc3Y="}};
    auto created = w.send(create);
    REQUIRE(created.status == 201);
    const auto location = header(created, "Location");
    REQUIRE(location.starts_with("/v1/uploads/"));
    auto patch = [&](const std::string& who, const std::string& offset, const std::string& body) {
        auto h = w.head(who, "PATCH", location);
        h.headers = {
            {"Tus-Resumable", "1.0.0"}, {"Upload-Offset", offset}, {"Content-Type", "application/offset+octet-stream"}};
        return w.send(h, body);
    };
    CHECK(patch("pemkab-halut", "0", "abc").status == 404);
    auto first = patch("dinkes-malut", "0", "abc");
    CHECK(first.status == 204);
    CHECK(header(first, "Upload-Offset") == "3");
    CHECK(w.store->packages().packages_in("dinkes-malut/imunisasi")->empty());
    auto last = patch("dinkes-malut", "3", "def");
    REQUIRE(last.status == 204);
    const auto package = header(last, "Serambi-Package-Id");
    REQUIRE(package.size() == 32);
    auto pulled = w.send(w.head("dinkes-malut", "GET", "/v1/packages/" + package));
    REQUIRE(pulled.status == 200);
    CHECK(drain(pulled) == "abcdef");
}
