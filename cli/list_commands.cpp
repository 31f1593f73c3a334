// `serambi ls`: the packages a caller may read (or, a partner, ask to have released), across
// datasets, newest first. A table with local
// times and sizes for people; JSON Lines (the API's package summaries, unchanged) for scripts.
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "cli/commands.h"
#include "cli/messages.h"
#include "policies/policy.h"
#include "storage/store.h"

namespace serambi::cli {
namespace {

constexpr std::uint64_t kPageRows = 1000;  // the most the gateway gives in one answer
// More than any province will hold: a Serambi-Total above it is a broken or hostile gateway.
constexpr std::uint64_t kMostPackages = 100'000'000;
// Pages in a row that bring nothing new before the listing is given up as not moving.
constexpr int kMostStalls = 3;

std::string string_field(const boost::json::object& o, const char* name) {
    const auto* v = o.if_contains(name);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::uint64_t size_field(const boost::json::object& o) {
    const auto* v = o.if_contains("size");
    if (v && v->is_uint64()) return v->get_uint64();
    if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    return 0;
}

// A gateway's text cut to `width` display columns for the table (UTF-8 aware: never inside a
// character), with "…" where it was cut.
std::string fit(std::string text, std::size_t width) {
    std::size_t columns = 0, i = 0;
    for (; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) continue;  // a continuation byte
        if (++columns > width) break;
    }
    if (i >= text.size()) return text + std::string(width - std::min(width, columns), ' ');
    // Cut before the character that did not fit, and one more for the ellipsis.
    std::size_t keep = 0, kept = 0;
    for (std::size_t j = 0; j < text.size() && kept + 1 < width; ++j)
        if ((static_cast<unsigned char>(text[j]) & 0xc0) != 0x80) {
            keep = j;
            ++kept;
            while (keep + 1 < text.size() && (static_cast<unsigned char>(text[keep + 1]) & 0xc0) == 0x80) ++keep;
            keep += 1;
        }
    return text.substr(0, keep) + "…";
}

// Fixed widths, so that rows print as pages arrive: a long listing needs no memory of its own,
// and no name from the gateway can push the columns off the screen.
void print_row(const std::string& id, const std::string& time, const std::string& classification,
               const std::string& size, const std::string& access, const std::string& dataset,
               const std::string& file) {
    std::cout << fit(id, 32) << "  " << fit(time, 16) << "  " << fit(classification, 14) << "  "
              << std::string(10 - std::min<std::size_t>(10, size.size()), ' ') << size.substr(0, 10) << "  "
              << fit(access, 11) << "  " << fit(dataset, 40) << "  " << file << "\n";
}

void print_header() {
    print_row(say(Msg::column_package), say(Msg::column_time), say(Msg::column_class), say(Msg::column_size),
              say(Msg::column_access), say(Msg::column_dataset), say(Msg::column_file));
}

void print_package(const boost::json::object& o) {
    const std::string access = string_field(o, "access");
    print_row(for_terminal(string_field(o, "package_id")), local_time(string_field(o, "created_at")),
              for_terminal(string_field(o, "classification")), size_for_people(static_cast<double>(size_field(o))),
              access == "request" ? say(Msg::access_request) : say(Msg::access_released),
              for_terminal(string_field(o, "dataset")), for_terminal(string_field(o, "filename")));
}

// A count header, digits only and within reason.
std::optional<std::uint64_t> count_header(const std::string& text) {
    std::uint64_t n = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || p != end || text.empty() || n > kMostPackages) return std::nullopt;
    return n;
}

}  // namespace

int run_ls(const LsOptions& options) {
    const std::string command = "ls";
    std::string filters;
    if (!options.dataset.empty()) {
        const auto slash = options.dataset.find('/');
        if (slash == std::string::npos || !policies::is_slug_like(options.dataset.substr(0, slash)) ||
            !policies::is_slug_like(options.dataset.substr(slash + 1)))
            return report(command, make_error(ErrorKind::invalid_argument, tr("--dataset takes OWNER/NAME")));
        filters += "&dataset=" + query_value(options.dataset);
    }
    for (const auto& [name, value] :
         {std::pair{"name", &options.name}, std::pair{"classification", &options.classification},
          std::pair{"producer", &options.producer}, std::pair{"access", &options.access}})
        if (!value->empty()) filters += std::string("&") + name + "=" + query_value(*value);
    for (const auto& [name, value] : {std::pair{"since", &options.since}, std::pair{"until", &options.until}}) {
        if (value->empty()) continue;
        auto bound = utc_bound(*value, name == std::string("since") ? "--since" : "--until");
        if (!bound) return report(command, bound.error());
        filters += std::string("&") + name + "=" + query_value(*bound);
    }
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    const bool to_terminal = ::isatty(STDOUT_FILENO) == 1;
    const bool table = !options.json && to_terminal;
    const std::uint64_t wanted = options.all ? UINT64_MAX : options.limit;

    // Newest first, so k packages that arrive while we page push the rest down k places: the
    // next page then begins with the last k of this one, which are skipped, and the total grows
    // by k, so the listing goes on to the end. Only the previous page is remembered.
    std::unordered_set<std::string> previous, current;
    std::uint64_t offset = 0, total = 0, shown = 0;
    int stalls = 0;
    auto corrupt = [&](std::string what) {
        return report(command, make_error(ErrorKind::corruption, std::move(what)));
    };
    while (shown < wanted) {
        const std::uint64_t ask = std::min<std::uint64_t>(kPageRows, wanted - shown);
        auto reply = (*client)->request(
            "GET", "/v1/packages?limit=" + std::to_string(ask) + "&offset=" + std::to_string(offset) + filters, "");
        if (!reply) return report(command, reply.error());
        if (reply->status != 200) return report_reply(command, *reply);
        const auto page_total = count_header(reply->headers["serambi-total"]);
        if (!page_total) return corrupt(tr("the gateway did not say how many packages match"));
        total = std::max(total, *page_total);
        boost::system::error_code ec;
        auto page = boost::json::parse(reply->body, ec);
        if (ec || !page.is_array()) return corrupt(tr("the gateway's answer is not a list of packages"));
        if (page.as_array().size() > ask) return corrupt(tr("the gateway sent more packages than were asked for"));
        current.clear();
        std::uint64_t added = 0;
        for (const auto& item : page.as_array()) {
            const auto id = item.is_object() ? string_field(item.as_object(), "package_id") : std::string();
            if (!storage::is_package_id(id)) return corrupt(tr("the gateway's answer has a malformed package"));
            current.insert(id);
            if (previous.contains(id) || shown >= wanted) continue;
            if (shown == 0 && table) print_header();
            ++shown;
            ++added;
            if (table)
                print_package(item.as_object());
            else if (to_terminal)
                std::cout << for_terminal(boost::json::serialize(item)) << "\n";
            else
                std::cout << boost::json::serialize(item) << "\n";
        }
        std::swap(previous, current);
        offset += page.as_array().size();
        if (page.as_array().empty() || offset >= total) break;
        if (added == 0 && ++stalls >= kMostStalls) return corrupt(tr("the gateway's pages do not move on"));
        if (added > 0) stalls = 0;
    }
    if (!table) return 0;
    if (shown == 0) {
        std::cerr << say(Msg::ls_none) << "\n";
        return 0;
    }
    if (shown < total) std::cerr << say(Msg::ls_shown_of, {std::to_string(shown), std::to_string(total)}) << "\n";
    return 0;
}

namespace {

// Display columns of a UTF-8 text: its code points.
std::size_t columns_of(std::string_view text) {
    std::size_t n = 0;
    for (const char c : text)
        if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
    return n;
}

std::string cell(const boost::json::object& o, const Column& column) {
    const auto* v = o.if_contains(column.field);
    if (v == nullptr || v->is_null()) return "-";
    switch (column.kind) {
        case Column::time:
            return v->is_string() ? local_time(v->get_string()) : "-";
        case Column::size:
            if (v->is_uint64()) return size_for_people(static_cast<double>(v->get_uint64()));
            if (v->is_int64() && v->get_int64() >= 0) return size_for_people(static_cast<double>(v->get_int64()));
            return "-";
        case Column::list: {
            if (!v->is_array()) return "-";
            std::string joined;
            for (const auto& item : v->get_array())
                if (item.is_string()) joined += (joined.empty() ? "" : ",") + for_terminal(item.get_string());
            return joined.empty() ? "-" : joined;
        }
        case Column::state:
            return v->is_string() ? for_terminal(state_for_people(v->get_string())) : "-";
        case Column::text:
            break;
    }
    if (v->is_string()) {
        const std::string_view text = v->get_string();
        // A listing's access, in the words the ls table uses.
        if (std::string_view(column.field) == "access")
            return text == "request" ? say(Msg::access_request) : say(Msg::access_released);
        return for_terminal(text);
    }
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    if (v->is_bool()) return v->get_bool() ? "true" : "false";
    return "-";
}

}  // namespace

int list_request(const std::string& command, const std::string& profile, const std::string& target,
                 const std::vector<Column>& columns, bool json) {
    auto client = connect(profile);
    if (!client) return report(command, client.error());
    auto reply = (*client)->request("GET", target, "");
    if (!reply) return report(command, reply.error());
    if (reply->status != 200) return report_reply(command, *reply);
    if (json || ::isatty(STDOUT_FILENO) != 1) {
        print_body(reply->body);
        return 0;
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(reply->body, ec);
    if (ec || !value.is_array())
        return report(command, make_error(ErrorKind::corruption, tr("the gateway's answer is not a list")));
    for (const auto& item : value.as_array())
        if (!item.is_object())
            return report(command, make_error(ErrorKind::corruption, tr("the gateway's list holds something else")));
    constexpr std::size_t kWidest = 40;  // a column wider than this is cut, with "…"
    std::vector<std::vector<std::string>> rows;
    std::vector<std::size_t> widths;
    std::vector<std::string> head;
    for (const auto& c : columns) {
        head.push_back(say(static_cast<Msg>(c.header)));
        widths.push_back(columns_of(head.back()));
    }
    for (const auto& item : value.as_array()) {
        auto& row = rows.emplace_back();
        for (std::size_t i = 0; i < columns.size(); ++i) {
            row.push_back(cell(item.as_object(), columns[i]));
            widths[i] = std::min(kWidest, std::max(widths[i], columns_of(row.back())));
        }
    }
    if (rows.empty()) {
        std::cerr << say(Msg::list_empty) << "\n";
        return 0;
    }
    auto print = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            // The last column is not padded, nor cut: a purpose or a file name reads whole.
            std::cout << (i + 1 == row.size() ? row[i] : fit(row[i], widths[i]) + "  ");
        }
        std::cout << "\n";
    };
    print(head);
    for (const auto& row : rows) print(row);
    // A listing the gateway pages (a dataset's packages): say when this is not all of it.
    std::uint64_t total = 0;
    const auto& given = reply->headers["serambi-total"];
    auto [end, total_ec] = std::from_chars(given.data(), given.data() + given.size(), total);
    if (total_ec == std::errc() && end == given.data() + given.size() && total > rows.size())
        std::cerr << say(Msg::list_more, {std::to_string(rows.size()), std::to_string(total)}) << "\n";
    return 0;
}

int object_request(const std::string& command, const std::string& profile, const std::string& method,
                   const std::string& target, const std::string& body, int expected, bool json,
                   const std::function<std::string(const Fields&)>& summary) {
    auto client = connect(profile);
    if (!client) return report(command, client.error());
    auto reply = (*client)->request(method, target, body);
    if (!reply) return report(command, reply.error());
    if (reply->status != expected) return report_reply(command, *reply);
    if (json || ::isatty(STDOUT_FILENO) != 1) {
        print_body(reply->body);
        return 0;
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(reply->body, ec);
    // A change the gateway did not confirm in the expected form is not reported as done.
    if (ec || !value.is_object())
        return report(command, make_error(ErrorKind::corruption, tr("the gateway's answer is not what it should be")));
    const auto& o = value.as_object();
    const Fields field = [&o](std::string_view name) -> std::string {
        const auto* v = o.if_contains(name);
        if (v == nullptr || v->is_null()) return "";
        if (v->is_string()) return for_terminal(v->get_string());
        if (v->is_int64()) return std::to_string(v->get_int64());
        if (v->is_uint64()) return std::to_string(v->get_uint64());
        if (v->is_bool()) return v->get_bool() ? "true" : "false";
        if (v->is_array()) {
            std::string joined;
            for (const auto& item : v->get_array())
                if (item.is_string()) joined += (joined.empty() ? "" : ",") + for_terminal(item.get_string());
            return joined;
        }
        return "";
    };
    std::cout << summary(field) << "\n";
    return 0;
}

}  // namespace serambi::cli
