// A gateway without sockets for the fuzz targets that go through Handler::dispatch: a store in a
// temporary directory, the default policy, principals of every role, datasets of every level, a
// rahasia package and a partner's agreement, so that each route reaches its body validation.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "gateway/handler.h"

namespace serambi::fuzz {

class HandlerWorld {
public:
    HandlerWorld() : dir_(std::filesystem::temp_directory_path() / ("serambi-fuzz-" + crypto::random_hex(8))) {
        std::filesystem::create_directories(dir_);
        store_ = std::move(storage::Store::open({dir_ / "db", dir_ / "blobs", crypto::Aead::aes_256_gcm, true}, master_))
                     .value();
        auto policy = policies::Policy::parse(policies::default_policy_text(), "default").value();
        const auto& pki = shared_pki();
        config_.max_package_bytes = 1 << 20;
        audit_ = std::make_unique<gateway::AuditTrail>(*store_, crypto::tlog::NoteSigner::generate("fuzz.local/log").value());
        handler_ = std::make_unique<gateway::Handler>(gateway::Handler::Services{
            store_.get(), policy, pki.signer, certs::Authority{pki.ca.cert_pem, copy_of(pki.ca.key_pem)}, &config_,
            audit_.get(), &revoked_, nullptr});
        for (const auto& [id, role] : kPrincipals)
            store_->add_principal({id, id, {role}, std::string("S-") + id, std::string("fp-") + id, {}, {}, {}, {}}).value();
        for (const auto& [name, level] : kDatasets)
            store_->add_dataset({std::string("dinkes-malut/") + name, "dinkes-malut", level, "t", "admin", {}}).value();
        storage::AgreementRecord a;
        a.id = agreement_id_ = "mou-" + crypto::random_hex(8);
        a.partner = "bi-malut";
        a.patterns = {"dinkes-malut/*"};
        a.max_classification = "rahasia";
        a.purpose = "fuzz";
        a.valid_from = 0;
        a.valid_until = 4102444800;  // 2100
        a.created_by = "walidata";
        store_->add_agreement(a).value();
        auto pushed = send(head("dinkes-malut", "POST", "/v1/datasets/dinkes-malut/rahasia/packages",
                                {{"Serambi-Filename", "data.csv"}, {"Content-Type", "text/csv"}}),
                           "a,b\n1,2\n");
        package_id_ = std::string(boost::json::parse(pushed.body).at("package_id").as_string());
    }
    ~HandlerWorld() {
        handler_.reset();
        audit_.reset();
        store_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    HandlerWorld(const HandlerWorld&) = delete;
    HandlerWorld& operator=(const HandlerWorld&) = delete;

    // A request as the server would build it after a verified handshake by `who`.
    gateway::RequestHead head(const std::string& who, std::string method, std::string target,
                              std::vector<std::pair<std::string, std::string>> headers = {}) const {
        gateway::RequestHead h;
        h.method = std::move(method);
        h.target = std::move(target);
        h.headers = std::move(headers);
        h.request_id = "fuzz";
        h.remote = "127.0.0.1";
        h.cert_principal_id = who;
        h.cert_serial = "S-" + who;
        h.cert_fingerprint = "fp-" + who;
        return h;
    }

    // Dispatches, and feeds `body` to the upload sink when the route takes one.
    gateway::Response send(gateway::RequestHead h, std::string_view body) {
        h.has_body = !body.empty();
        auto d = handler_->dispatch(h);
        if (!d.upload) return std::move(d.response);
        if (auto s = d.upload->write(crypto::as_bytes(body)); !s) return gateway::problem_of(s.error(), h.request_id);
        return d.upload->finish();
    }

    const std::string& package_id() const { return package_id_; }
    const std::string& agreement_id() const { return agreement_id_; }

private:
    // The CA key is a plain string or a move-only secret buffer, depending on the certs version.
    template <class Key>
    static Key copy_of(const Key& key) {
        if constexpr (requires { key.copy(); }) return key.copy();
        else return key;
    }
    struct Pki {
        certs::Authority ca;
        std::shared_ptr<const certs::ManifestSigner> signer;
    };
    // Made once per process: key generation is the slow part of a new world.
    static const Pki& shared_pki() {
        static const Pki pki = [] {
            Pki p;
            p.ca = certs::create_authority("Fuzz CA", 3650).value();
            auto key = certs::generate_private_key().value();
            certs::IssueRequest req;
            req.common_name = std::string(certs::kSigningCommonName);
            req.usage = certs::Usage::signing;
            auto cert = certs::issue(p.ca, certs::public_key_of(key).value(), req).value();
            p.signer = std::make_shared<certs::ManifestSigner>(certs::ManifestSigner::load(cert, key).value());
            return p;
        }();
        return pki;
    }
    static constexpr std::pair<const char*, const char*> kPrincipals[] = {
        {"admin", "admin"},         {"dinkes-malut", "producer"}, {"pemkab-halut", "producer"},
        {"walidata", "custodian"},  {"walidata-dua", "custodian"}, {"bi-malut", "partner"},
        {"auditor", "auditor"}};
    static constexpr std::pair<const char*, const char*> kDatasets[] = {
        {"fasilitas", "biasa"}, {"imunisasi", "terbatas"}, {"rahasia", "rahasia"}, {"sr", "sangat-rahasia"}};

    std::filesystem::path dir_;
    crypto::SecretKey master_ = crypto::SecretKey::random();
    std::unique_ptr<storage::Store> store_;
    gateway::Config config_;
    gateway::RevokedSerials revoked_;
    std::unique_ptr<gateway::AuditTrail> audit_;
    std::unique_ptr<gateway::Handler> handler_;
    std::string package_id_;
    std::string agreement_id_;
};

}  // namespace serambi::fuzz
