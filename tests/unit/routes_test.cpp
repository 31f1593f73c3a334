// The route table is the one source of dispatch, access-log actions, 405's Allow and the API
// document: these tests hold the document and the table to each other.
#include "gateway/routes.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <string>

using namespace serambi::gateway;
using serambi::ErrorKind;

namespace {

// "GET /v1/whoami" for every operation docs/openapi.yaml documents.
std::set<std::string> documented_operations() {
    std::ifstream in(std::string(SERAMBI_SOURCE_DIR) + "/docs/openapi.yaml");
    REQUIRE(in);
    const std::regex path_line("^  (/[^:]*):\\s*$"), method_line("^    (get|put|post|delete|patch|head|options):\\s*$");
    std::set<std::string> out;
    std::string line, path;
    bool in_paths = false;
    while (std::getline(in, line)) {
        if (line.rfind("paths:", 0) == 0) {
            in_paths = true;
            continue;
        }
        if (in_paths && !line.empty() && line.front() != ' ' && line.front() != '#') in_paths = false;
        if (!in_paths) continue;
        std::smatch m;
        if (std::regex_match(line, m, path_line)) {
            path = m[1];
        } else if (std::regex_match(line, m, method_line)) {
            std::string method = m[1];
            for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            out.insert(method + " " + path);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("the API document and the route table list the same operations") {
    std::set<std::string> served;
    for (const auto& route : routes()) {
        const auto key = std::string(route.method) + " " + std::string(route.pattern);
        CHECK(served.insert(key).second);  // no route twice
    }
    const auto documented = documented_operations();
    CHECK(documented.size() > 20);
    for (const auto& op : documented) {
        INFO(op);
        CHECK(served.count(op) == 1);
    }
    for (const auto& op : served) {
        INFO(op);
        CHECK(documented.count(op) == 1);
    }
}

TEST_CASE("a request's access-log action comes from its route") {
    CHECK(route_action("POST", "/v1/datasets/dinkes-malut/imunisasi/packages") == "package.push");
    CHECK(route_action("GET", "/v1/datasets/dinkes-malut/imunisasi/packages?x=1") == "package.list");
    CHECK(route_action("GET", "/v1/packages/0123/manifest.p7s") == "package.signature");
    CHECK(route_action("GET", "/v1/audit/proof/inclusion?index=1&size=2") == "audit.proof/inclusion");
    CHECK(route_action("POST", "/v1/principals/opd/revoke") == "certificate.revoke");
    CHECK(route_action("POST", "/v1/pki/revoke") == "certificate.revoke");
    CHECK(route_action("GET", "/healthz") == "health");
    // No route: the method is wrong, a segment is empty or extra, or the path is unknown.
    CHECK(route_action("DELETE", "/v1/datasets") == "request");
    CHECK(route_action("POST", "/v1/principals//revoke") == "request");
    CHECK(route_action("GET", "/v1/packages/a/b/c") == "request");
    CHECK(route_action("GET", "/v1/datasets/") == "request");
    CHECK(route_action("GET", "") == "request");
}

TEST_CASE("a path known under another method names the methods it takes") {
    auto m = match_route("DELETE", "/v1/datasets");
    CHECK(m.route == nullptr);
    CHECK(m.allow == "GET, POST");
    m = match_route("GET", "/v1/principals/opd/revoke");
    CHECK(m.route == nullptr);
    CHECK(m.allow == "POST");
    m = match_route("GET", "/v1/nothing");
    CHECK(m.route == nullptr);
    CHECK(m.allow.empty());
    m = match_route("GET", "/v1/datasets/a/b/packages?since=1");
    REQUIRE(m.route != nullptr);
    CHECK(m.args.params[0] == "a");
    CHECK(m.args.params[1] == "b");
    CHECK(m.args.raw_query == "since=1");
}

TEST_CASE("a query is percent-decoded once, and refused whole when malformed", "[routes]") {
    auto q = Query::parse("principal=dinkes%2Dmalut&name=laporan+bulanan%20mei&start=12&empty=");
    REQUIRE(q.ok());
    CHECK(q->text("principal") == "dinkes-malut");
    CHECK(q->text("name") == "laporan bulanan mei");
    CHECK(q->text("empty") == "");
    CHECK_FALSE(q->text("missing").has_value());
    CHECK(q->number("start").value() == 12);
    CHECK(q->number("missing").error().kind == ErrorKind::not_found);
    CHECK(q->number("name").error().kind == ErrorKind::invalid_argument);
    CHECK(q->number("empty").error().kind == ErrorKind::invalid_argument);

    for (const char* bad : {"a=%ZZ", "a=%4", "a=b%00c", "a=%0d%0aSet-Cookie:x", "a=%C3%A9", "a=\x01"}) {
        INFO(bad);
        auto refused = Query::parse(bad);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::invalid_argument);
    }
    CHECK_FALSE(Query::parse("a=" + std::string(513, 'x')).ok());
    CHECK(Query::parse("a=" + std::string(512, 'x')).ok());
    std::string many;
    for (int i = 0; i < 33; ++i) many += "k" + std::to_string(i) + "=v&";
    CHECK_FALSE(Query::parse(many).ok());
    CHECK(Query::parse("").ok());
}
