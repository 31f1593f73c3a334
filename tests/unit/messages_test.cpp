// The CLI's message catalogue: every message in both languages with the same arguments, and the
// language chosen as documented (the profile, then LC_ALL, LC_MESSAGES, LANG).
#include "cli/messages.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace serambi::cli;

namespace {

std::size_t arguments(std::string_view text) {
    std::size_t n = 0;
    for (auto at = text.find("{}"); at != std::string_view::npos; at = text.find("{}", at + 2)) ++n;
    return n;
}

// Sets the locale variables for one test and puts them back after it.
struct Locale {
    explicit Locale(const char* lang) {
        for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
            const char* v = std::getenv(name);
            saved.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
            ::unsetenv(name);
        }
        if (lang) ::setenv("LANG", lang, 1);
        use_profile_language("");
    }
    ~Locale() {
        for (const auto& [name, value] : saved)
            if (value)
                ::setenv(name, value->c_str(), 1);
            else
                ::unsetenv(name);
        use_profile_language("");
    }
    std::vector<std::pair<const char*, std::optional<std::string>>> saved;
};

}  // namespace

TEST_CASE("every message is in the catalogue, in its place, in both languages with the same arguments") {
    const auto messages = catalogue();
    REQUIRE(messages.size() == static_cast<std::size_t>(Msg::count_));
    for (std::size_t i = 0; i < messages.size(); ++i) {
        INFO("message " << i << ": " << messages[i].english);
        CHECK(static_cast<std::size_t>(messages[i].msg) == i);
        CHECK_FALSE(messages[i].english.empty());
        CHECK_FALSE(messages[i].indonesian.empty());
        CHECK(arguments(messages[i].english) == arguments(messages[i].indonesian));
    }
}

TEST_CASE("every help topic has both names, summaries and texts, and no name is used twice") {
    std::set<std::string_view> names;
    for (const auto& t : help_topics()) {
        INFO(t.name);
        CHECK_FALSE(t.summary_english.empty());
        CHECK_FALSE(t.summary_indonesian.empty());
        CHECK_FALSE(t.english.empty());
        CHECK_FALSE(t.indonesian.empty());
        CHECK(t.english != t.indonesian);
        CHECK(names.insert(t.name).second);
        CHECK(names.insert(t.nama).second);
    }
    CHECK(names.size() >= 10);
}

namespace {

// The words of a description that are not prose: options (--to, -o), placeholders (FILE,
// OWNER/NAME), file names, examples and values with digits or dots, `commands`, JSON keys, and
// abbreviations such as JSON or TLS. A translation keeps every one as it is.
std::vector<std::string> technical_words(std::string_view text) {
    std::vector<std::string> words;
    std::string rest;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char quote = text[i];
        const auto end = quote == '`' || quote == '"' ? text.find(quote, i + 1) : std::string_view::npos;
        if (end == std::string_view::npos) {
            rest += text[i];
            continue;
        }
        const auto quoted = text.substr(i, end + 1 - i);
        if (quote == '`')
            words.emplace_back(quoted);  // a command, whole
        else if (quoted.find(' ') == std::string_view::npos)
            rest += quoted;  // a JSON key: "index"; a quoted phrase is prose
        rest += ' ';
        i = end;
    }
    std::string word;
    auto keep = [&] {
        // Where an argument goes is checked apart (arguments()): "entries{}" is a word of prose.
        for (auto at = word.find("{}"); at != std::string::npos; at = word.find("{}")) word.erase(at, 2);
        while (!word.empty() && (word.back() == ':' || word.back() == '.')) word.pop_back();
        if (word.size() > 2 && word.ends_with("'s")) word.resize(word.size() - 2);
        std::size_t letters = 0, upper = 0;
        for (const char c : word) {
            letters += std::isalpha(static_cast<unsigned char>(c)) ? 1 : 0;
            upper += std::isupper(static_cast<unsigned char>(c)) ? 1 : 0;
        }
        const bool technical = word.starts_with('-') ||
                               word.find_first_of("0123456789./_$#*[]{}:@=") != std::string::npos ||
                               (letters >= 2 && upper == letters);
        // Capitals that are English words said loudly, or a table's labels, are prose too.
        static const std::set<std::string_view> kLoud{"NOT", "ROOT", "KEY"};
        if (technical && word != "e.g" && !kLoud.contains(word)) words.push_back(word);
        word.clear();
    };
    for (const char c : rest)
        if (c == ' ' || c == ',' || c == ';' || c == '(' || c == ')')
            keep();
        else
            word += c;
    keep();
    return words;
}

}  // namespace

TEST_CASE("every description has its Indonesian, keeping options, placeholders and technical words") {
    std::set<std::string_view> english;
    for (const auto& d : descriptions()) {
        INFO(d.english);
        CHECK_FALSE(d.english.empty());
        CHECK_FALSE(d.indonesian.empty());
        CHECK(d.english != d.indonesian);  // what --help prints must differ: tests/e2e/test_help_id.sh
        CHECK(english.insert(d.english).second);
        for (const auto& word : technical_words(d.english)) {
            INFO(word);
            CHECK(d.indonesian.find(word) != std::string_view::npos);
        }
        CHECK(description_in_indonesian(d.english) == d.indonesian);
    }
    CHECK(english.size() >= 200);
    CHECK(description_in_indonesian("not a description").empty());
    // What the words check finds, and what it leaves as prose.
    CHECK(technical_words("the `serambi enroll --id ID` request, e.g. FILE.p7s to --to (UTC), a \"phrase here\"") ==
          std::vector<std::string>{"`serambi enroll --id ID`", "FILE.p7s", "--to", "UTC"});
    CHECK(technical_words("JSON Lines: {\"index\": N, \"entry\": \"as logged\"}, the CA's key") ==
          std::vector<std::string>{"JSON", "{\"index\"", "}", "CA"});
}

TEST_CASE("CLI11's words around the descriptions are in Indonesian too") {
    std::set<std::string_view> english;
    for (const auto& w : help_words()) {
        INFO(w.english);
        CHECK(w.english != w.indonesian);
        CHECK(english.insert(w.english).second);
    }
    for (const char* word : {"Usage", "OPTIONS", "SUBCOMMAND", "Positionals", "REQUIRED", "Options", "Subcommands"})
        CHECK(english.contains(word));
}

TEST_CASE("the language follows the profile, then the first locale variable that is set") {
    {
        Locale l(nullptr);
        CHECK(language() == Language::english);
    }
    {
        Locale l("id_ID.UTF-8");
        CHECK(language() == Language::indonesian);
        CHECK(say(Msg::push_count, {"2", "3"}) == "2 dari 3 berkas terkirim");
        CHECK(size_for_people(1.5 * 1024 * 1024) == "1,5 MiB");
        use_profile_language("en");
        CHECK(say(Msg::push_count, {"2", "3"}) == "2 of 3 files sent");
        CHECK(size_for_people(1.5 * 1024 * 1024) == "1.5 MiB");
    }
    {
        Locale l("id_ID.UTF-8");
        ::setenv("LC_ALL", "C", 1);  // LC_ALL set to something else wins over LANG, as in gettext
        CHECK(language() == Language::english);
        use_profile_language("id");
        CHECK(language() == Language::indonesian);
        use_profile_language("xx");  // not a language: back to the locale
        CHECK(language() == Language::english);
    }
}

TEST_CASE("states are said in Indonesian where the language is, as they are otherwise") {
    Locale l("id_ID.UTF-8");
    CHECK(state_for_people("in force") == "berlaku");
    CHECK(state_for_people("released") == "dirilis");
    CHECK(state_for_people("something new") == "something new");
    use_profile_language("en");
    CHECK(state_for_people("in force") == "in force");
}

TEST_CASE("LC_MESSAGES comes before LANG, and an empty variable counts as unset") {
    Locale l("en_US.UTF-8");
    ::setenv("LC_MESSAGES", "id_ID.UTF-8", 1);
    CHECK(language() == Language::indonesian);
    ::setenv("LC_ALL", "", 1);
    CHECK(language() == Language::indonesian);
    ::setenv("LC_ALL", "en_GB.UTF-8", 1);
    CHECK(language() == Language::english);
}

TEST_CASE("arguments go in order, missing ones leave nothing, extra ones are ignored") {
    Locale l("C");
    CHECK(say(Msg::push_sent, {"a.csv", "x/y", "2 B", "ab12"}) == "Sent: a.csv → x/y, 2 B, package ab12");
    CHECK(say(Msg::push_count, {"1"}) == "1 of  files sent");
    CHECK(say(Msg::push_count, {"1", "2", "3"}) == "1 of 2 files sent");
    CHECK(say(Msg::ls_none) == "No packages match.");
    CHECK(say(Msg::push_count, {"{}", "2"}) == "{} of 2 files sent");  // an argument is not expanded again
    CHECK(size_for_people(0) == "0 B");
    CHECK(size_for_people(1023) == "1023 B");
}

TEST_CASE("for_terminal keeps every character people write and no control sequence") {
    // Dashes, curly quotes, accents and an ellipsis, as pasted from a word processor.
    const std::string words = "Laporan \u2014 \u201cgizi\u201d caf\u00e9\u2026 \u2019 \u00a0x";
    CHECK(for_terminal(words) == words);
    CHECK(for_terminal("\x1b[2Jclear") == "?[2Jclear");
    CHECK(for_terminal("bell\x07 del\x7f") == "bell? del?");
    CHECK(for_terminal("csi \xc2\x9b"
                       "31m") == "csi ?31m");        // U+009B, the C1 CSI
    CHECK(for_terminal("nel \xc2\x85") == "nel ?");  // U+0085
    CHECK(for_terminal("stray \x9b"
                       "31m") == "stray ?31m");         // a lone continuation byte
    CHECK(for_terminal("cut \xe2\x80") == "cut ??");    // a sequence cut short
    CHECK(for_terminal("long \xc0\xaf") == "long ??");  // an overlong '/'
    CHECK(for_terminal("surrogate \xed\xa0\x80") == "surrogate ???");
    CHECK(for_terminal("past \xf4\x90\x80\x80") == "past ????");          // beyond U+10FFFF
    CHECK(for_terminal("\xf0\x9f\x93\x84 ok") == "\xf0\x9f\x93\x84 ok");  // U+1F4C4, a document
}

TEST_CASE("every error text and every fixed text of the gateway has its Indonesian, with the same arguments") {
    for (const auto table : {error_texts(), gateway_texts()}) {
        std::set<std::string_view> english;
        for (const auto& t : table) {
            INFO(t.english);
            CHECK_FALSE(t.english.empty());
            CHECK_FALSE(t.indonesian.empty());
            CHECK(t.english != t.indonesian);
            CHECK(english.insert(t.english).second);
            CHECK(arguments(t.english) == arguments(t.indonesian));
            for (const auto& word : technical_words(t.english)) {
                INFO(word);
                CHECK(t.indonesian.find(word) != std::string_view::npos);
            }
        }
    }
    CHECK(error_texts().size() >= 150);
    CHECK(gateway_texts().size() >= 90);
}

TEST_CASE("an error is said in the chosen language, its arguments in place, and as written when it has no pair") {
    Locale l("id_ID.UTF-8");
    CHECK(tr("the gateway refused: {}", {"404"}) == "gateway menolak: 404");
    CHECK(tr("a text nobody translated: {} and {}", {"a", "b"}) == "a text nobody translated: a and b");
    CHECK(tr("too few {} {}", {"x"}) == "too few x ");  // a missing argument is empty, never read past the list
    CHECK(gateway_text("Not Found") == "Tidak ditemukan");
    CHECK(gateway_text("no such package") == "paket tidak ditemukan");
    CHECK(gateway_text("agreement a-1 has expired") == "agreement a-1 has expired");
    use_profile_language("en");
    CHECK(tr("the gateway refused: {}", {"404"}) == "the gateway refused: 404");
    CHECK(gateway_text("no such package") == "no such package");
}
