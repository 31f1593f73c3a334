// Internal: what the gateway does for browsers. The portal's pages (web/) are served here, and
// every request is checked for the marks of a cross-site request: a client certificate is an
// ambient credential, which a browser presents to any page that asks, so without these checks
// another site could make a user's browser push, approve or download in the user's name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace serambi::gateway {

struct RequestHead;
struct Response;

// The header that only the portal's own scripts send. A page on another site cannot send it
// without a CORS preflight, which the gateway never grants.
inline constexpr std::string_view kPortalHeader = "Serambi-Client";
inline constexpr std::string_view kPortalHeaderValue = "portal";

// Why a request must be refused as cross-site, or nothing. `page` is true for the portal's own
// pages, which a link on another site may open (a navigation); nothing else may be asked from
// another site. A request that shows no sign of a browser (no Origin, no Sec-Fetch-*: the CLI,
// curl, scripts) passes.
std::optional<std::string> cross_site_refusal(const RequestHead& head, bool page);

// The headers every response carries unless it sets its own: no framing, no sniffing, no caching
// of answers that hold official data, HTTPS only.
const std::vector<std::pair<std::string_view, std::string_view>>& security_headers();

// The portal's start page, with the deployment's time zone filled in.
Response portal_page(const std::string& time_zone);
// One of the portal's files, if `version` is the one this build serves (otherwise 404, so that a
// cached old page fetches the new one rather than a mix of both).
Response portal_asset(std::string_view version, std::string_view name, const std::string& request_id);

// Whether `zone` is an IANA time zone name such as Asia/Jayapura or UTC (checked against the
// system's zoneinfo when it has one).
bool is_time_zone(std::string_view zone);

}  // namespace serambi::gateway
