// Internal: help for people, built from the command-line definition itself, so that `serambi help`,
// the bash completion and the manual pages never disagree with what the parser accepts.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace serambi::cli {

// When language() is Indonesian, for --help and `serambi help`: every command's and option's
// description, in the whole tree (hidden commands too), replaced by its Indonesian from the
// catalogue (descriptions() in cli/messages.h), and CLI11's own words (Usage, Options, …) with
// it. What has no translation stays as it is. Called once, after the definition is complete and
// before parsing; the manual pages keep the English.
void translate_descriptions(CLI::App& app);
// `serambi help [TOPIC | COMMAND…]`: the topics and commands, a topic's text, or a command's help.
int run_help(const CLI::App& app, const std::vector<std::string>& words);
// `serambi completion bash`: a bash completion script for every command and option.
int run_completion(const CLI::App& app, const std::string& shell);
// `serambi man --out DIR`: serambi.1 and one page per command (serambi-push.1, …) in DIR.
int run_man(const CLI::App& app, const std::string& out_dir);

}  // namespace serambi::cli
