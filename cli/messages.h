// Internal: the words the CLI says to people, in Bahasa Indonesia and in English, from one
// catalogue. Machine output (--json, JSON Lines, CSV) never goes through it: its field names and
// values stay the same in every language.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace serambi::cli {

enum class Language { english, indonesian };

// The profile's `language` when it names one, else Indonesian for an id* locale (LC_ALL,
// LC_MESSAGES, then LANG, as gettext reads them), else English.
Language language();
// Set when a profile is loaded; empty leaves the choice to the locale.
void use_profile_language(std::string_view code);
// "id" or "en" as a profile names them; nullopt-like false for anything else.
bool is_language_code(std::string_view code);

// Every message, by what it says. `{}` marks where an argument goes, in order.
enum class Msg {
    push_sent,             // file, dataset, size, package
    push_log_index,        // index
    status_profile,        //
    status_gateway,        //
    status_connected,      //
    status_not_connected,  // why
    status_certificate,    //
    status_expired,        // date
    status_valid_until,    // date, days
    status_renew,          //
    status_requests,       //
    status_requests_open,  // count
    column_index,          //
    column_time,           //
    column_principal,      //
    column_action,         //
    column_decision,       //
    column_class,          //
    column_object,         //
    column_package,        //
    column_dataset,        //
    column_file,           //
    column_size,
    column_access,
    column_producer,
    column_id,
    column_title,
    column_partner,
    column_custodian,
    column_state,
    column_valid_until,
    column_datasets,
    column_purpose,
    column_expires,
    column_name,
    column_roles,
    column_certificate_end,
    column_removed,
    access_released,
    access_request,
    object_package,  // id
    ls_shown_of,     // shown, total
    ls_none,
    list_empty,
    list_more,
    app_description,
    column_downloads,
    column_valid_from,
    column_reason,  //
    dataset_created,
    agreement_added,
    agreement_revoked,
    approved,
    approved_downloads,
    approval_withdrawn,
    requested,
    request_refused,
    whoami_line,
    push_count,         // sent, total
    push_not_sent,      // files
    help_topics,        //
    help_commands,      //
    help_more,          //
    help_unknown,       // topic
    help_also_command,  // command
    hook_added,         // id, url, events
    hook_secret,        // secret
    hook_removed,       // id
    hook_confirm_sent,  // id, address, id
    hook_confirmed,     // id, url
    column_events,
    column_url,
    column_owner,
    column_event,
    column_recipient,
    column_attempts,
    column_last_answer,
    column_created,
    count_,  // not a message: the catalogue's length
};

struct Message {
    Msg msg;
    std::string_view english;
    std::string_view indonesian;
};

// The catalogue itself, in the order of Msg (the unit test checks that, and that every message
// has both languages with the same arguments).
std::span<const Message> catalogue();

// A topic of `serambi help TOPIC` (and a section of the manual page): named in English and in
// Indonesian, either name finds it.
struct HelpTopic {
    std::string_view name, nama;
    std::string_view summary_english, summary_indonesian;
    std::string_view english, indonesian;
};
std::span<const HelpTopic> help_topics();

// The descriptions of the command-line definition in Indonesian, as gettext pairs a msgid with
// its translation: every command's and option's description exactly as cli/main.cpp writes it
// (and the two CLI11 gives --help and --version), then the Indonesian that `--help`, `serambi
// help` and `serambi help COMMAND` print instead when language() is Indonesian
// (translate_descriptions in cli/help.cpp). The unit test checks that each has both texts, that
// the Indonesian keeps the options, placeholders and technical words, and that no English is
// there twice; tests/e2e/test_help_id.sh that every description of every command has one, and
// that none is left over that no description has any more.
struct Description {
    std::string_view english, indonesian;
};
std::span<const Description> descriptions();
// The Indonesian of a description, empty when the table has none.
std::string_view description_in_indonesian(std::string_view english);
// CLI11's own words around the descriptions: its labels (Usage, REQUIRED, …) and the names of
// its default groups (Options, Subcommands), in Indonesian.
std::span<const Description> help_words();

// An error or a warning the CLI reports, written in English where it arises, as gettext's msgid:
//     return bad(tr("'{}' is not a webhook id (hook-…)", {options.id}));
// says it in the chosen language, `{}` replaced by `args` in order. The pairs are in
// cli/error_texts.cpp. tests/e2e/test_error_texts.sh checks that every tr("…") in cli/ has its
// pair and that no pair is left that nothing says; a text without a pair is said as written.
std::string tr(std::string_view english, std::initializer_list<std::string_view> args = {});
std::span<const Description> error_texts();

// What the gateway says when it refuses, as people read it in the chosen language: the status
// title ("Forbidden") and those problem details that are fixed texts ("no such package") have
// their pairs in cli/error_texts.cpp; a detail put together from parts (a policy's reason, a
// file's name) is shown as the gateway wrote it.
std::string gateway_text(std::string_view english);
std::span<const Description> gateway_texts();

// A state the API names in English (an agreement "in force", a request "released"), as people
// read it in the chosen language; an unknown one as it is.
std::string state_for_people(std::string_view state);

// Text from the gateway, a file or a log, made safe to print on a terminal: C0 controls, DEL,
// the C1 controls (U+0080 to U+009F) and bytes that are not valid UTF-8 each become '?';
// every other character, accented letters and dashes included, stays as it is.
std::string for_terminal(std::string_view text);

// The message in the chosen language, its `{}` replaced by `args` in order.
std::string say(Msg msg, std::initializer_list<std::string_view> args = {});

// A size (or a rate) for people: "1.2 MiB", with a decimal comma in Indonesian ("1,2 MiB").
std::string size_for_people(double bytes);

}  // namespace serambi::cli
