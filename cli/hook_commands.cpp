// Webhooks from the command line: register a receiver, list, remove, and look at deliveries.
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <iostream>

#include "cli/commands.h"
#include "cli/messages.h"

namespace serambi::cli {
namespace {

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

// hook- and 16 hex digits: checked here so that nothing else reaches the request's path.
bool is_hook_id(const std::string& id) {
    if (id.size() != 21 || !id.starts_with("hook-")) return false;
    for (char c : id.substr(5))
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

int run_hook_add(const HookOptions& options) {
    boost::json::array events;
    for (const auto& e : options.events) events.emplace_back(e);
    boost::json::object body{{"url", options.url}, {"events", events}};
    if (options.everyone) body["everyone"] = true;
    return object_request(
        "hook add", options.profile, "POST", "/v1/hooks", boost::json::serialize(body), 201, options.json,
        [](const Fields& f) {
            // Email is not signed: an address's hook has no secret to show, but a
            // code to wait for.
            const auto secret = f("secret");
            const auto url = f("url");
            std::string then;
            if (url.starts_with("mailto:"))
                then = say(Msg::hook_confirm_sent, {url.substr(7), f("id")});
            else if (!secret.empty())
                then = say(Msg::hook_secret, {secret});
            return say(Msg::hook_added, {f("id"), url, f("events")}) + (then.empty() ? std::string() : "\n" + then);
        });
}

int run_hook_list(const HookOptions& options) {
    return list_request("hook list", options.profile, "/v1/hooks",
                        {{static_cast<int>(Msg::column_id), "id"},
                         {static_cast<int>(Msg::column_owner), "owner"},
                         {static_cast<int>(Msg::column_events), "events", Column::list},
                         {static_cast<int>(Msg::column_created), "created_at", Column::time},
                         {static_cast<int>(Msg::column_url), "url"}},
                        options.json);
}

int run_hook_remove(const HookOptions& options) {
    if (!is_hook_id(options.id))
        return report("hook remove", bad(tr("'{}' is not a webhook id (hook-…)", {options.id})));
    return object_request("hook remove", options.profile, "POST", "/v1/hooks/" + options.id + "/remove", "", 200,
                          options.json, [](const Fields& f) { return say(Msg::hook_removed, {f("id")}); });
}

int run_hook_confirm(const HookOptions& options) {
    if (!is_hook_id(options.id))
        return report("hook confirm", bad(tr("'{}' is not a webhook id (hook-…)", {options.id})));
    // A code on the command line stays in the shell's history and in the process list while the
    // request runs: without one, it is read from standard input.
    std::string code = options.code;
    if (code.empty()) {
        if (::isatty(STDIN_FILENO) == 1) std::cerr << tr("Code from the email: ") << std::flush;
        // One line, and no more of a file piped in by mistake than a code could be.
        for (char c; code.size() <= 64 && std::cin.get(c) && c != '\n';) code += c;
        while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.pop_back();
        while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front()))) code.erase(0, 1);
        if (code.empty() || code.size() > 64)
            return report("hook confirm", bad(tr("give the code from the email (such as 7QKM-3XWD)")));
    }
    const boost::json::object body{{"code", code}};
    return object_request("hook confirm", options.profile, "POST", "/v1/hooks/" + options.id + "/confirm",
                          boost::json::serialize(body), 200, options.json, [](const Fields& f) {
                              return say(Msg::hook_confirmed, {f("id"), f("url")});
                          });
}

int run_hook_deliveries(const HookOptions& options) {
    if (!is_hook_id(options.id))
        return report("hook deliveries", bad(tr("'{}' is not a webhook id (hook-…)", {options.id})));
    return list_request("hook deliveries", options.profile,
                        "/v1/hooks/" + options.id + "/deliveries?limit=" + std::to_string(options.limit),
                        {{static_cast<int>(Msg::column_created), "created_at", Column::time},
                         {static_cast<int>(Msg::column_event), "event"},
                         {static_cast<int>(Msg::column_recipient), "recipient"},
                         {static_cast<int>(Msg::column_state), "state", Column::state},
                         {static_cast<int>(Msg::column_attempts), "attempts"},
                         {static_cast<int>(Msg::column_last_answer), "last_status"},
                         {static_cast<int>(Msg::column_reason), "last_error"}},
                        options.json);
}

}  // namespace serambi::cli
