// `serambi witness init` and `serambi witness serve`: a witness is run by someone other than the
// gateway's operator, on another machine, so it needs nothing of the gateway but its log key.
#include <iostream>

#include "cli/commands.h"
#include "storage/store.h"
#include "witness/witness.h"

namespace serambi::cli {

int run_witness_init(const WitnessInitOptions& options) {
    const std::string command = "witness init";
    witness::InitOptions init;
    init.dir = options.dir;
    init.name = options.name;
    init.listen = options.listen;
    for (const auto& file : options.log_keys) {
        auto key = storage::read_small_file(file, 4096);
        if (!key) return report(command, key.error());
        std::string text = *key;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
        init.log_keys.push_back(std::move(text));
    }
    if (auto s = witness::init(init); !s) return report(command, s.error());
    const auto dir = std::filesystem::path(options.dir);
    std::cout << "witness created in " << dir.string() << "\n"
              << "  its verifier key (give it to the gateway's operator and to auditors): "
              << (dir / "witness.vkey").string() << "\n"
              << "  keep secret: " << (dir / "witness.key").string() << "\n"
              << "  start it:    serambi witness serve --config " << (dir / "witness.toml").string() << "\n";
    return 0;
}

int run_witness_serve(const std::string& config_file) {
    auto config = witness::load_config(config_file);
    if (!config) return report("witness serve", config.error());
    if (config->logs.empty())
        return report("witness serve", make_error(ErrorKind::invalid_argument,
                                                  config_file + " follows no log: add a [[log]] with its origin and "
                                                                "key (the gateway's `serambi audit key`)"));
    return witness::serve(*config);
}

}  // namespace serambi::cli
