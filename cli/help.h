// Internal: help for people, built from the command-line definition itself, so that `serambi help`,
// the bash completion and the manual pages never disagree with what the parser accepts.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace serambi::cli {

// `serambi help [TOPIC | COMMAND…]`: the topics and commands, a topic's text, or a command's help.
int run_help(const CLI::App& app, const std::vector<std::string>& words);
// `serambi completion bash`: a bash completion script for every command and option.
int run_completion(const CLI::App& app, const std::string& shell);
// `serambi man --out DIR`: serambi.1 and one page per command (serambi-push.1, …) in DIR.
int run_man(const CLI::App& app, const std::string& out_dir);

}  // namespace serambi::cli
