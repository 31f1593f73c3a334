// The portal's pages and the cross-site checks. See portal.h for why.
#include "gateway/portal.h"

#include <algorithm>
#include <filesystem>

#include "gateway/handler.h"
#include "web/assets.h"

namespace serambi::gateway {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// "host:443" and "host" are one origin for https.
std::string without_default_port(std::string host) {
    if (host.ends_with(":443")) host.resize(host.size() - 4);
    return host;
}

bool is_safe_method(std::string_view method) { return method == "GET" || method == "HEAD"; }

// The portal's own pages may not run inline script or load anything from elsewhere.
constexpr std::string_view kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

}  // namespace

std::optional<std::string> cross_site_refusal(const RequestHead& head, bool page) {
    const auto origin = head.header("Origin");
    const auto site = head.header("Sec-Fetch-Site");
    const auto mode = head.header("Sec-Fetch-Mode");
    const auto dest = head.header("Sec-Fetch-Dest");
    const bool from_browser = origin || site || mode || dest;
    if (!from_browser) return std::nullopt;

    // A link from another site (an e-mail, the province's intranet) may open the portal itself.
    // Only as the whole page: in another site's frame it could be dressed up to mislead.
    const bool navigation = page && is_safe_method(head.method) && mode && lower(*mode) == "navigate" &&
                            (!dest || lower(*dest) == "document");
    if (site) {
        // "none": the user opened the address from outside any page (a bookmark, a link in an
        // e-mail client). Fine for the portal's page, but a link to a package must not spend a
        // download, so the API answers only the portal's own pages.
        const auto s = lower(*site);
        if (s != "same-origin" && !(s == "none" && page) && !navigation)
            return "a request from another site (Sec-Fetch-Site: " + s.substr(0, 40) +
                   ") may not use the gateway's API";
    }
    if (origin && !navigation) {
        const auto host = head.header("Host");
        if (!host || without_default_port(lower(*origin)) != "https://" + without_default_port(lower(*host)))
            return "a request from another origin (" + origin->substr(0, 100) + ") may not use the gateway's API";
    }
    if (!is_safe_method(head.method)) {
        const auto client = head.header(std::string(kPortalHeader));
        if (!client || *client != kPortalHeaderValue)
            return "a change asked from a browser must come from the portal's own scripts (the " +
                   std::string(kPortalHeader) + " header)";
    }
    return std::nullopt;
}

const std::vector<std::pair<std::string_view, std::string_view>>& security_headers() {
    static const std::vector<std::pair<std::string_view, std::string_view>> headers = {
        {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
        {"X-Frame-Options", "DENY"},
        {"Strict-Transport-Security", "max-age=31536000"},
        {"Referrer-Policy", "no-referrer"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cache-Control", "no-store"},
    };
    return headers;
}

Response portal_page(const std::string& time_zone) {
    Response r;
    for (const auto& asset : web::assets()) {
        if (asset.name != "index.html") continue;
        std::string page(asset.bytes);
        // The zone is checked at start (is_time_zone): letters, digits and _ + - / only.
        const std::string_view mark = "{{time_zone}}";
        if (const auto at = page.find(mark); at != std::string::npos) page.replace(at, mark.size(), time_zone);
        r.body = std::move(page);
        r.headers = {{"Content-Type", std::string(asset.content_type)},
                     {"Content-Security-Policy", std::string(kPageCsp)},
                     {"Cache-Control", "no-cache"}};
    }
    r.audit.resource = "portal";
    r.audit.reason = "the portal's start page";
    return r;
}

Response portal_asset(std::string_view version, std::string_view name, const std::string& request_id) {
    if (version == web::version() && name != "index.html") {
        for (const auto& asset : web::assets()) {
            if (asset.name != name) continue;
            Response r;
            r.body = std::string(asset.bytes);
            r.headers = {{"Content-Type", std::string(asset.content_type)},
                         {"Content-Security-Policy", std::string(kPageCsp)},
                         {"Cache-Control", "public, max-age=31536000, immutable"}};
            r.audit.resource = "portal/" + std::string(name);
            r.audit.reason = "a file of the portal";
            return r;
        }
    }
    return problem(ErrorKind::not_found, "no such file of the portal (a page from an older build? reload it)",
                   request_id);
}

Response Handler::get_portal_page(const RequestHead& head) {
    if (!services_.config->portal_enabled)
        return problem(ErrorKind::not_found, "the web portal is turned off on this gateway ([portal] enabled)",
                       head.request_id);
    return portal_page(services_.config->portal_time_zone);
}

Response Handler::get_portal_asset(const RequestHead& head, std::string_view version, std::string_view file) {
    if (!services_.config->portal_enabled)
        return problem(ErrorKind::not_found, "the web portal is turned off on this gateway ([portal] enabled)",
                       head.request_id);
    return portal_asset(version, file, head.request_id);
}

bool is_time_zone(std::string_view zone) {
    if (zone.empty() || zone.size() > 64 || zone.front() == '/' || zone.back() == '/' ||
        zone.find("..") != std::string_view::npos || zone.find("//") != std::string_view::npos)
        return false;
    const bool plain = std::all_of(zone.begin(), zone.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
               c == '-' || c == '/';
    });
    if (!plain) return false;
    if (zone == "UTC") return true;
    // A typo (Asia/Jaypura) is caught here rather than by every browser falling back to UTC.
    const std::filesystem::path zoneinfo = "/usr/share/zoneinfo";
    std::error_code ec;
    if (!std::filesystem::is_directory(zoneinfo, ec)) return true;
    return std::filesystem::is_regular_file(zoneinfo / std::string(zone), ec);
}

}  // namespace serambi::gateway
