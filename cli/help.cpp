#include "cli/help.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "serambi_version.h"

namespace serambi::cli {
namespace {

// Commands people see: CLI11 hides those with an empty group.
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
    return app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); });
}

// The options of a command that take a value or are flags, without CLI11's own --help.
std::vector<const CLI::Option*> named_options(const CLI::App& app) {
    return app.get_options([](const CLI::Option* o) { return o->nonpositional() && o->get_name() != "--help"; });
}
std::vector<const CLI::Option*> positionals(const CLI::App& app) {
    return app.get_options([](const CLI::Option* o) { return o->get_positional() && !o->nonpositional(); });
}

bool takes_value(const CLI::Option& o) { return o.get_type_size() != 0; }

// "--count, -n" as the option is spelled on the command line.
std::string spellings(const CLI::Option& o) {
    std::string out;
    for (const auto& l : o.get_lnames()) out += (out.empty() ? "--" : ", --") + l;
    for (const auto& s : o.get_snames()) out += (out.empty() ? "-" : ", -") + s;
    return out;
}

const HelpTopic* find_topic(const std::string& word) {
    for (const auto& t : help_topics())
        if (word == t.name || word == t.nama) return &t;
    return nullptr;
}

std::string_view topic_text(const HelpTopic& t) {
    return language() == Language::indonesian ? t.indonesian : t.english;
}
std::string_view topic_summary(const HelpTopic& t) {
    return language() == Language::indonesian ? t.summary_indonesian : t.summary_english;
}

// What translate_descriptions replaced, by the command or option it described: the manual pages
// are written in English whatever the language, as a package build runs `serambi man` in
// whatever locale the builder has, and their other words (SYNOPSIS, the topics, ENVIRONMENT) are
// English too.
std::map<const void*, std::string> g_english;

std::string english_description(const CLI::App& command) {
    const auto it = g_english.find(&command);
    return it != g_english.end() ? it->second : command.get_description();
}
std::string english_description(const CLI::Option& option) {
    const auto it = g_english.find(&option);
    return it != g_english.end() ? it->second : option.get_description();
}

std::string_view indonesian_group(std::string_view group) {
    for (const auto& w : help_words())
        if (w.english == group) return w.indonesian;
    return {};
}

void translate_tree(CLI::App& command) {
    if (const auto id = description_in_indonesian(command.get_description()); !id.empty()) {
        g_english.emplace(&command, command.get_description());
        command.description(std::string(id));
    }
    for (auto* option : command.get_options()) {
        if (const auto id = description_in_indonesian(option->get_description()); !id.empty()) {
            g_english.emplace(option, option->get_description());
            option->description(std::string(id));
        }
        if (const auto group = indonesian_group(option->get_group()); !group.empty()) option->group(std::string(group));
    }
    for (auto* sub : command.get_subcommands([](CLI::App*) { return true; })) {
        // A hidden command has no group, and keeps none.
        if (const auto group = indonesian_group(sub->get_group()); !group.empty()) sub->group(std::string(group));
        translate_tree(*sub);
    }
}

}  // namespace

void translate_descriptions(CLI::App& app) {
    // The language `serambi help` speaks: the profile that SERAMBI_PROFILE names may choose it (a
    // --profile on the command line is not parsed yet). Only tried, and forgotten again: every
    // command reads its own profile, and one that reads none keeps following the locale.
    (void)find_profile("");
    const bool indonesian = language() == Language::indonesian;
    use_profile_language("");
    if (!indonesian) return;
    for (const auto& w : help_words()) app.get_formatter()->label(std::string(w.english), std::string(w.indonesian));
    const auto& about = catalogue()[static_cast<std::size_t>(Msg::app_description)];
    if (app.get_description() == about.english) {
        g_english.emplace(&app, app.get_description());
        app.description(std::string(about.indonesian));
    }
    translate_tree(app);
}

int run_help(const CLI::App& app, const std::vector<std::string>& words) {
    // A profile named in the environment may choose the language; a broken one is no reason to
    // withhold help, so it is only tried.
    (void)find_profile("");
    if (words.empty()) {
        std::cout << say(Msg::app_description) << "\n\n" << say(Msg::help_topics) << "\n";
        for (const auto& t : help_topics())
            std::cout << "  " << std::left << std::setw(16)
                      << std::string(language() == Language::indonesian ? t.nama : t.name) << topic_summary(t) << "\n";
        std::cout << "\n" << say(Msg::help_commands) << "\n";
        for (const auto* sub : visible_subcommands(app))
            std::cout << "  " << std::left << std::setw(16) << sub->get_name() << sub->get_description() << "\n";
        std::cout << "\n" << say(Msg::help_more) << "\n";
        return 0;
    }
    if (words.size() == 1)
        if (const auto* topic = find_topic(words[0])) {
            std::cout << topic_text(*topic) << "\n";
            // "profile" and "verify" are commands too: say where their own help is.
            for (const auto* sub : visible_subcommands(app))
                if (sub->get_name() == words[0]) std::cout << "\n" << say(Msg::help_also_command, {words[0]}) << "\n";
            return 0;
        }
    // A command path: `serambi help audit search`.
    const CLI::App* target = &app;
    std::string prefix = "serambi";  // not argv[0], which CLI11 takes as the name
    for (const auto& word : words) {
        const CLI::App* next = nullptr;
        for (const auto* sub : visible_subcommands(*target))
            if (sub->get_name() == word) next = sub;
        if (next == nullptr) {
            std::string path;
            for (const auto& w : words) path += (path.empty() ? "" : " ") + w;
            return report("help", make_error(ErrorKind::not_found, say(Msg::help_unknown, {for_terminal(path)})));
        }
        if (target != &app) prefix += " " + target->get_name();
        target = next;
    }
    std::cout << target->help(prefix);
    return 0;
}

namespace {

// Every command path with its words: subcommand names and options, for completion.
void collect(const CLI::App& app, const std::string& path, std::ostringstream& words, std::ostringstream& valued) {
    std::string list;
    for (const auto* sub : visible_subcommands(app)) list += sub->get_name() + " ";
    std::string opts;
    for (const auto* o : named_options(app)) {
        for (const auto& l : o->get_lnames()) {
            opts += "--" + l + " ";
            if (takes_value(*o)) valued << "    [\"" << path << "|--" << l << "\"]=1\n";
        }
        for (const auto& s : o->get_snames()) {
            opts += "-" + s + " ";
            if (takes_value(*o)) valued << "    [\"" << path << "|-" << s << "\"]=1\n";
        }
    }
    words << "    [\"" << path << "\"]=\"" << list << "\"\n";
    words << "    [\"" << path << "|-\"]=\"" << opts << "--help\"\n";
    for (const auto* sub : visible_subcommands(app)) collect(*sub, path + " " + sub->get_name(), words, valued);
}

// Names the generated script and pages may carry as they are: the completion script puts them
// in double quotes and compgen word lists, the pages in macro arguments.
bool plain_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

// Every command and option name of the definition is plain; a test of ours would fail first, but
// the generators check again rather than write a script that runs whatever a name contains.
bool all_plain(const CLI::App& app) {
    for (const auto* o : named_options(app)) {
        for (const auto& l : o->get_lnames())
            if (!plain_name(l)) return false;
        for (const auto& n : o->get_snames())
            if (!plain_name(n)) return false;
    }
    for (const auto* sub : visible_subcommands(app))
        if (!plain_name(sub->get_name()) || !all_plain(*sub)) return false;
    return true;
}

}  // namespace

int run_completion(const CLI::App& app, const std::string& shell) {
    if (shell != "bash")
        return report("completion",
                      make_error(ErrorKind::invalid_argument, tr("only bash is supported: serambi completion bash")));
    if (!all_plain(app))
        return report("completion", make_error(ErrorKind::internal, tr("a command or option name is not plain")));
    std::ostringstream words, valued;
    collect(app, "serambi", words, valued);
    std::string topics;
    for (const auto& t : help_topics()) topics += std::string(t.name) + " " + std::string(t.nama) + " ";
    std::cout << "# bash completion for serambi " << SERAMBI_VERSION << ", generated by `serambi completion bash`.\n"
              << "# Install: serambi completion bash > ~/.local/share/bash-completion/completions/serambi\n"
              << "declare -gA _serambi_words=(\n"
              << words.str() << ")\n"
              << "declare -gA _serambi_valued=(\n"
              << valued.str() << ")\n"
              << "_serambi_topics=\"" << topics << "\"\n"
              << R"(_serambi() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path=serambi i w skip=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((skip)); then skip=0; continue; fi
        if [[ $w == -* ]]; then
            [[ -n ${_serambi_valued["$path|$w"]:-} ]] && skip=1
            continue
        fi
        [[ " ${_serambi_words[$path]:-} " == *" $w "* ]] && path="$path $w"
    done
    if [[ -n ${_serambi_valued["$path|$prev"]:-} ]]; then
        case $prev in
            --class) COMPREPLY=($(compgen -W "biasa terbatas rahasia sangat-rahasia" -- "$cur")) ;;
            --profile) COMPREPLY=($(compgen -d -- "$cur")) ;;
            *) COMPREPLY=($(compgen -f -- "$cur")) ;;
        esac
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${_serambi_words["$path|-"]}" -- "$cur"))
    elif [[ $path == "serambi help" ]]; then
        COMPREPLY=($(compgen -W "$_serambi_topics ${_serambi_words[serambi]}" -- "$cur"))
    elif [[ -n ${_serambi_words[$path]:-} ]]; then
        COMPREPLY=($(compgen -W "${_serambi_words[$path]}" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -F _serambi serambi
)";
    return 0;
}

namespace {

// Text for troff: backslashes and hyphens escaped, a line that would start with a control
// character ('.' or ') protected by a zero-width \&, and anything beyond ASCII written as a
// groff Unicode escape (\[u2014]), which every troff reads whatever its input encoding.
std::string roff(std::string_view text) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (line_start && (c == '.' || c == '\'')) out += "\\&";
        line_start = c == '\n';
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            const int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
            if (extra < 0 || i + static_cast<std::size_t>(extra) >= text.size()) {
                out += '?';
                continue;
            }
            unsigned code = c & (0x3fu >> extra);
            for (int k = 1; k <= extra; ++k) code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3fu);
            i += static_cast<std::size_t>(extra);
            char escape[16];
            std::snprintf(escape, sizeof escape, "\\[u%04X]", code);
            out += escape;
        }
    }
    return out;
}

// Inside a quoted macro argument a double quote is written as two.
std::string quoted_roff(std::string_view text) {
    std::string out;
    for (const char c : roff(text)) {
        out += c;
        if (c == '"') out += '"';
    }
    return out;
}

void man_command(std::ostream& out, const CLI::App& cmd, const std::string& path) {
    std::string synopsis = path;
    for (const auto* p : positionals(cmd))
        synopsis += " " + std::string(p->get_required() ? "" : "[") + p->get_name(true) +
                    (p->get_items_expected_max() > 1 ? "…" : "") + (p->get_required() ? "" : "]");
    const auto subs = visible_subcommands(cmd);
    if (!subs.empty()) synopsis += " COMMAND";
    if (!named_options(cmd).empty()) synopsis += " [OPTIONS]";
    out << ".SS " << roff(synopsis) << "\n" << roff(english_description(cmd)) << "\n";
    for (const auto* p : positionals(cmd))
        out << ".TP\n.I " << roff(p->get_name(true)) << "\n" << roff(english_description(*p)) << "\n";
    for (const auto* o : named_options(cmd)) {
        if (takes_value(*o))
            out << ".TP\n.BI \"" << roff(spellings(*o)) << " \" \"" << quoted_roff(o->get_type_name()) << "\"\n";
        else
            out << ".TP\n.B " << roff(spellings(*o)) << "\n";
        out << roff(english_description(*o));
        if (!o->get_default_str().empty()) out << " (default: " << roff(o->get_default_str()) << ")";
        out << "\n";
    }
    for (const auto* sub : subs) man_command(out, *sub, path + " " + sub->get_name());
}

void man_header(std::ostream& out, const std::string& name, const std::string& what) {
    out << ".\\\" Generated by `serambi man` from the command-line definition; do not edit.\n"
        << ".TH " << roff(name) << " 1 \"\" \"serambi " << roff(SERAMBI_VERSION) << "\" \"Serambi\"\n"
        << ".SH NAME\n"
        << roff(name) << " \\- " << roff(what) << "\n";
}

}  // namespace

// In English whatever the language: the descriptions as cli/main.cpp has them, not as
// translate_descriptions left them (see g_english).
int run_man(const CLI::App& app, const std::string& out_dir) {
    if (!all_plain(app))
        return report("man", make_error(ErrorKind::internal, tr("a command or option name is not plain")));
    const std::filesystem::path dir(out_dir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return report("man", make_error(ErrorKind::io_error, tr("cannot create {}", {out_dir})));
    // As every file the CLI writes: atomically, and never through a link planted at the name.
    auto write = [&](const std::string& file, const std::string& text) -> bool {
        return static_cast<bool>(write_file(dir / file, text, 0644));
    };
    std::ostringstream main;
    man_header(main, "serambi", english_description(app));
    main << ".SH SYNOPSIS\n.B serambi\nCOMMAND [OPTIONS]\n.br\n.B serambi help\n[TOPIC | COMMAND]\n"
         << ".SH COMMANDS\n";
    for (const auto* sub : visible_subcommands(app))
        main << ".TP\n.BR serambi\\-" << roff(sub->get_name()) << " (1)\n" << roff(english_description(*sub)) << "\n";
    for (const auto& t : help_topics())
        main << ".SH " << roff(std::string(t.name)) << "\n.nf\n" << roff(t.english) << "\n.fi\n";
    main
        << ".SH ENVIRONMENT\n.TP\n.B SERAMBI_PROFILE\nthe profile directory when --profile is not given\n"
        << ".TP\n.BR LC_ALL \", \" LC_MESSAGES \", \" LANG\n"
        << "messages in Bahasa Indonesia when the first of these that is set starts with id (id_ID.UTF\\-8); "
           "a profile's language (serambi profile language) comes first\n"
        << ".SH EXIT STATUS\n0 on success, 1 on a failure (stderr says what), 2 when the command line does not parse.\n"
        << ".SH SEE ALSO\nThe user guide and the operator guide (/usr/share/doc/serambi).\n";
    if (!write("serambi.1", main.str()))
        return report("man", make_error(ErrorKind::io_error, tr("cannot write {}", {"serambi.1"})));
    for (const auto* sub : visible_subcommands(app)) {
        std::ostringstream page;
        const std::string name = "serambi-" + sub->get_name();
        man_header(page, name, english_description(*sub));
        page << ".SH COMMANDS\n";
        man_command(page, *sub, "serambi " + sub->get_name());
        page << ".SH SEE ALSO\n.BR serambi (1)\n";
        if (!write(name + ".1", page.str()))
            return report("man", make_error(ErrorKind::io_error, tr("cannot write {}", {name + ".1"})));
    }
    return 0;
}

}  // namespace serambi::cli
