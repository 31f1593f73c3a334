// Internal: state shared by Store, PackageWriter and PackageReader.
#pragma once

#include <mutex>

#include "storage/sqlite.h"
#include "storage/store.h"

namespace serambi::storage {

struct Store::Impl {
    Impl(crypto::SecretKey wrap, std::string id) : wrapping_key(std::move(wrap)), key_id(std::move(id)) {}

    std::mutex mutex;  // guards db: one connection, statements never interleave
    sql::DbPtr db;
    std::filesystem::path blob_dir;
    std::filesystem::path temp_dir;
    crypto::Aead aead = crypto::Aead::aes_256_gcm;
    crypto::SecretKey wrapping_key;  // wraps per-package data keys
    std::string key_id;              // names the master key generation the wrapping key came from

    std::filesystem::path blob_path(const std::string& package_id) const {
        return blob_dir / package_id.substr(0, 2) / (package_id + ".blob");
    }
};

// Associated data binding a blob and its wrapped key to one package.
inline std::string blob_context(const std::string& package_id) {
    return "serambi/blob/v1/" + package_id;
}

Status fsync_directory(const std::filesystem::path& dir);

}  // namespace serambi::storage
