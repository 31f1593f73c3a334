// Opening the store: the database first, then the four stores over it.
#include "storage/store.h"

#include <algorithm>

#include "storage/database.h"

namespace serambi::storage {

bool is_package_id(std::string_view text) noexcept {
    return text.size() == 32 && std::all_of(text.begin(), text.end(),
                                            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Store::~Store() {
    log_.reset();  // the committer writes what is queued while the database is still open
}

Result<std::unique_ptr<Store>> Store::open(const Options& options, const crypto::SecretKey& master_key) {
    auto env = options.env ? options.env : Env::posix();
    bool created = false;
    // An inspection creates nothing (run as another user, it would leave folders the gateway
    // cannot write to).
    if (!options.read_only && env->create_directories(options.blob_dir / "tmp", created) != 0)
        return make_error(ErrorKind::io_error, "cannot create the blob directory");

    auto db = Database::open({options.database, options.create, options.read_only, options.sqlite_vfs}, master_key);
    if (!db) return db.error();
    std::unique_ptr<Store> store(new Store());
    store->db_ = std::move(*db);
    store->registry_ = std::make_unique<Registry>(*store->db_, env);
    store->grants_ = std::make_unique<Grants>(*store->db_, env);
    store->hooks_ = std::make_unique<Hooks>(*store->db_);
    store->packages_ =
        std::make_unique<Packages>(*store->db_, env, Packages::Config{options.blob_dir, options.aead}, master_key);
    store->log_ = std::make_unique<AccessLog>(*store->db_, !options.read_only);
    return store;
}

Result<std::vector<std::string>> Store::integrity_problems() { return db_->integrity_problems(); }

Status Store::copy_database(const std::filesystem::path& destination, const crypto::SecretKey& master_key) {
    return db_->copy_to(destination, master_key);
}

}  // namespace serambi::storage
