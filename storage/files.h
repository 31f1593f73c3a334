// Internal: durable file operations through an Env, shared by the blob writer, the state file and
// start-up recovery.
#pragma once

#include <filesystem>
#include <string_view>

#include "base/result.h"
#include "storage/env.h"

namespace serambi::storage {

Status fsync_directory(Env& env, const std::filesystem::path& dir);
// write_new_file and replace_file of store.h, through `env`.
Status write_new_file(Env& env, const std::filesystem::path& path, std::string_view contents, unsigned mode);
Status replace_file(Env& env, const std::filesystem::path& path, std::string_view contents, unsigned mode);

}  // namespace serambi::storage
