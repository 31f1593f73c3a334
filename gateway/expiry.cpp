#include "gateway/expiry.h"

#include "base/time.h"
#include "certs/certs.h"
#include "gateway/handler.h"

namespace serambi::gateway {

bool bundle_ends(const std::string& kind, const std::string& name, const std::string& pem_bundle,
                 std::vector<CertificateEnd>& out) {
    auto parts = certs::split_bundle(pem_bundle);
    if (!parts) return false;
    bool any = false;
    for (const auto& pem : *parts) {
        auto info = certs::inspect(pem);
        auto when = info ? parse_time(info->not_after) : Result<std::int64_t>(info.error());
        if (!when) continue;
        out.push_back({kind, name.empty() ? info->common_name : name, info->serial_hex, *when, info->not_after});
        any = true;
    }
    return any;
}

Result<std::size_t> principal_ends(storage::Store& store, const RevokedSerials& revoked,
                                   std::vector<CertificateEnd>& out, std::size_t* revoked_count) {
    auto principals = store.registry().principals();
    if (!principals) return principals.error();
    for (const auto& p : *principals) {
        if (revoked.contains(p.cert_serial)) {
            if (revoked_count != nullptr) ++*revoked_count;
            continue;
        }
        if (p.cert_not_after.empty()) continue;
        if (auto when = parse_time(p.cert_not_after))
            out.push_back({"principal", p.id, p.cert_serial, *when, p.cert_not_after});
    }
    return principals->size();
}

}  // namespace serambi::gateway
