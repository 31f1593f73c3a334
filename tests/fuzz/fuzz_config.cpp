// serambi.toml through load_config, which reads a file: each input is written to one scratch
// file first. Whatever it accepts must be within the documented limits.
#include <unistd.h>

#include <fstream>

#include "gateway/gateway.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto file =
        std::filesystem::temp_directory_path() / ("serambi-fuzz-config-" + std::to_string(::getpid()) + ".toml");
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto config = serambi::gateway::load_config(file);
    if (config && (config->threads < 1 || config->threads > 64 || config->listen_port == 0 ||
                   config->max_json_bytes < 1024 || config->max_header_bytes < 1024 || config->database.empty()))
        __builtin_trap();
    return 0;
}
