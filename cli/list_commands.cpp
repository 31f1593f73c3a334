// `serambi ls`: the packages a caller may read, across datasets, newest first. A table with local
// times and sizes for people; JSON Lines (the API's package summaries, unchanged) for scripts.
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unordered_set>
#include <vector>

#include "cli/commands.h"
#include "cli/messages.h"
#include "policies/policy.h"

namespace serambi::cli {
namespace {

constexpr std::uint64_t kPageRows = 1000;  // the most the gateway gives in one answer

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

void print_table(const std::vector<boost::json::object>& rows) {
    struct Row {
        std::string id, time, classification, size, dataset, file;
    };
    std::vector<Row> lines;
    lines.reserve(rows.size());
    for (const auto& o : rows)
        lines.push_back({for_terminal(string_field(o, "package_id")), local_time(string_field(o, "created_at")),
                         for_terminal(string_field(o, "classification")),
                         size_for_people(static_cast<double>(size_field(o))), for_terminal(string_field(o, "dataset")),
                         for_terminal(string_field(o, "filename"))});
    const Row head{say(Msg::column_package), say(Msg::column_time),    say(Msg::column_class),
                   say(Msg::column_size),    say(Msg::column_dataset), say(Msg::column_file)};
    std::size_t w_class = head.classification.size(), w_size = head.size.size(), w_dataset = head.dataset.size();
    for (const auto& l : lines) {
        w_class = std::max(w_class, l.classification.size());
        w_size = std::max(w_size, l.size.size());
        w_dataset = std::max(w_dataset, l.dataset.size());
    }
    auto print = [&](const Row& r) {
        std::cout << std::left << std::setw(32) << r.id << "  " << std::setw(16) << r.time << "  "
                  << std::setw(static_cast<int>(w_class)) << r.classification << "  " << std::right
                  << std::setw(static_cast<int>(w_size)) << r.size << "  " << std::left
                  << std::setw(static_cast<int>(w_dataset)) << r.dataset << "  " << r.file << "\n";
    };
    print(head);
    for (const auto& l : lines) print(l);
}

}  // namespace

int run_ls(const LsOptions& options) {
    const std::string command = "ls";
    std::string filters;
    if (!options.dataset.empty()) {
        const auto slash = options.dataset.find('/');
        if (slash == std::string::npos || !policies::is_slug_like(options.dataset.substr(0, slash)) ||
            !policies::is_slug_like(options.dataset.substr(slash + 1)))
            return report(command, make_error(ErrorKind::invalid_argument, "--dataset takes OWNER/NAME"));
        filters += "&dataset=" + query_value(options.dataset);
    }
    for (const auto& [name, value] :
         {std::pair{"name", &options.name}, std::pair{"classification", &options.classification},
          std::pair{"producer", &options.producer}})
        if (!value->empty()) filters += std::string("&") + name + "=" + query_value(*value);
    for (const auto& [name, value] : {std::pair{"since", &options.since}, std::pair{"until", &options.until}}) {
        if (value->empty()) continue;
        auto bound = utc_bound(*value, name == std::string("since") ? "--since" : "--until");
        if (!bound) return report(command, bound.error());
        filters += std::string("&") + name + "=" + query_value(*bound);
    }
    auto client = connect(options.profile);
    if (!client) return report(command, client.error());
    const bool table = !options.json && ::isatty(STDOUT_FILENO) == 1;
    const std::uint64_t wanted = options.all ? UINT64_MAX : options.limit;

    // Newest first, so a package that arrives while we page pushes the rest down a place: the
    // next page then repeats one, which is skipped; none is missed.
    std::unordered_set<std::string> seen;
    std::vector<boost::json::object> rows;  // for the table, which needs its widths
    std::uint64_t offset = 0, total = 0, shown = 0;
    bool first = true;
    while (shown < wanted) {
        const std::uint64_t ask = std::min<std::uint64_t>(kPageRows, wanted - shown);
        auto reply = (*client)->request(
            "GET", "/v1/packages?limit=" + std::to_string(ask) + "&offset=" + std::to_string(offset) + filters, "");
        if (!reply) return report(command, reply.error());
        if (reply->status != 200) return report_reply(command, *reply);
        if (first && !(std::istringstream(reply->headers["serambi-total"]) >> total))
            return report(command,
                          make_error(ErrorKind::corruption, "the gateway did not say how many packages match"));
        first = false;
        boost::system::error_code ec;
        auto page = boost::json::parse(reply->body, ec);
        if (ec || !page.is_array())
            return report(command, make_error(ErrorKind::corruption, "the gateway's answer is not a list of packages"));
        for (auto& item : page.as_array()) {
            if (!item.is_object() || string_field(item.as_object(), "package_id").empty())
                return report(command,
                              make_error(ErrorKind::corruption, "the gateway's answer has a malformed package"));
            if (!seen.insert(string_field(item.as_object(), "package_id")).second || shown >= wanted) continue;
            ++shown;
            if (table)
                rows.push_back(std::move(item.as_object()));
            else
                std::cout << boost::json::serialize(item) << "\n";
        }
        offset += page.as_array().size();
        if (page.as_array().empty() || offset >= total) break;
    }
    if (!table) return 0;
    if (rows.empty()) {
        std::cerr << say(Msg::ls_none) << "\n";
        return 0;
    }
    print_table(rows);
    if (shown < total) std::cerr << say(Msg::ls_shown_of, {std::to_string(shown), std::to_string(total)}) << "\n";
    return 0;
}

}  // namespace serambi::cli
