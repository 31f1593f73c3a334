// `serambi witness init` and `serambi witness serve`: a witness is run by someone other than the
// gateway's operator, on another machine, so it needs nothing of the gateway but its log key.
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "cli/messages.h"
#include "storage/store.h"
#include "witness/witness.h"

namespace serambi::cli {

namespace {

Result<std::string> read_log_key(const std::string& file) {
    auto key = storage::read_small_file(file, 4096);
    if (!key) return key.error();
    std::string text = *key;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

}  // namespace

int run_witness_init(const WitnessInitOptions& options) {
    const std::string command = "witness init";
    witness::InitOptions init;
    init.dir = options.dir;
    init.name = options.name;
    if (init.name.empty()) {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
        init.name = std::string(host) + "/witness";
    }
    init.listen = options.listen;
    for (const auto& file : options.log_keys) {
        auto key = read_log_key(file);
        if (!key) return report(command, key.error());
        init.log_keys.push_back(std::move(*key));
    }
    if (auto s = witness::init(init); !s) return report(command, s.error());
    const auto dir = std::filesystem::path(options.dir);
    std::cout << tr("witness created in {}", {dir.string()}) << "\n"
              << tr("  its verifier key (give it to the gateway's operator and to auditors): {}",
                    {(dir / "witness.vkey").string()})
              << "\n"
              << tr("  keep secret: {}", {(dir / "witness.key").string()}) << "\n"
              << tr("  start it:    serambi witness serve --config {}", {(dir / "witness.toml").string()}) << "\n";
    return 0;
}

int run_witness_add_log(const std::string& config_file, const std::string& log_key_file) {
    const std::string command = "witness add-log";
    auto key = read_log_key(log_key_file);
    if (!key) return report(command, key.error());
    if (auto s = witness::add_log(config_file, *key); !s) return report(command, s.error());
    std::cout << tr("now following {}; restart the witness to apply", {key->substr(0, key->find('+'))}) << "\n";
    return 0;
}

int run_witness_serve(const std::string& config_file) {
    auto config = witness::load_config(config_file);
    if (!config) return report("witness serve", config.error());
    if (config->logs.empty())
        return report("witness serve",
                      make_error(ErrorKind::invalid_argument,
                                 tr("{} follows no log: add one with `serambi witness add-log --config {} --log-key "
                                    "LOG.vkey` (the gateway's `serambi audit key`)",
                                    {config_file, config_file})));
    return witness::serve(*config);
}

}  // namespace serambi::cli
