// A gateway without sockets for the fuzz targets that go through Handler::dispatch: a store in a
// temporary directory, the default policy, principals of every role, datasets of every level, a
// rahasia package and a partner's agreement, so that each route reaches its body validation.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "crypto/tlog.h"
#include "gateway/handler.h"

namespace serambi::fuzz {

class HandlerWorld {
  public:
    // A copy of the pristine world's files, opened afresh.
    HandlerWorld() : dir_(scratch_root() / ("serambi-fuzz-" + crypto::random_hex(8))) {
        const auto& base = pristine();
        std::filesystem::copy(base.dir, dir_, std::filesystem::copy_options::recursive);
        open(false);
        package_id_ = base.package_id;
        agreement_id_ = base.agreement_id;
    }
    ~HandlerWorld() {
        handler_.reset();
        audit_.reset();
        store_.reset();
        std::error_code ec;
        if (!keep_files_) std::filesystem::remove_all(dir_, ec);
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
    struct Populate {};
    explicit HandlerWorld(Populate) : dir_(scratch_root() / ("serambi-fuzz-base-" + crypto::random_hex(8))) {
        open(true);
        for (const auto& [id, role] : kPrincipals)
            store_->registry()
                .add_principal({id, id, {role}, std::string("S-") + id, std::string("fp-") + id, {}, {}, {}, {}})
                .value();
        for (const auto& [name, level] : kDatasets)
            store_->registry()
                .add_dataset({std::string("dinkes-malut/") + name, "dinkes-malut", level, "t", "admin", {}})
                .value();
        storage::AgreementRecord a;
        a.id = agreement_id_ = "mou-" + crypto::random_hex(8);
        a.partner = "bi-malut";
        a.patterns = {"dinkes-malut/*"};
        a.max_classification = "rahasia";
        a.purpose = "fuzz";
        a.valid_from = 0;
        a.valid_until = 4102444800;  // 2100
        a.created_by = "walidata";
        store_->grants().add_agreement(a).value();
        auto pushed = send(head("dinkes-malut", "POST", "/v1/datasets/dinkes-malut/rahasia/packages",
                                {{"Serambi-Filename", "data.csv"}, {"Content-Type", "text/csv"}}),
                           "a,b\n1,2\n");
        package_id_ = std::string(boost::json::parse(pushed.body).at("package_id").as_string());
    }

    void open(bool create) {
        std::filesystem::create_directories(dir_);
        store_ =
            std::move(storage::Store::open({dir_ / "db", dir_ / "blobs", crypto::Aead::aes_256_gcm, create}, master()))
                .value();
        auto policy = policies::Policy::parse(policies::default_policy_text(), "default").value();
        const auto& pki = shared_pki();
        config_.max_package_bytes = 1 << 20;
        audit_ = std::make_unique<gateway::AuditTrail>(*store_,
                                                       crypto::tlog::NoteSigner::generate("fuzz.local/log").value());
        handler_ = std::make_unique<gateway::Handler>(gateway::Handler::Services{
            store_.get(), policy, pki.signer, certs::Authority{pki.ca.cert_pem, copy_of(pki.ca.key_pem)}, &config_,
            audit_.get(), &revoked_, nullptr});
    }

    // The world as every input first meets it, built once: later worlds copy its files, a
    // fraction of the cost of making the principals, the agreement and a sealed package again.
    struct Pristine {
        std::filesystem::path dir;
        std::string package_id;
        std::string agreement_id;
        ~Pristine() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    };
    static const Pristine& pristine() {
        static const Pristine base = [] {
            HandlerWorld w{Populate{}};
            w.keep_files_ = true;  // closed as it goes out of scope, so its files are whole
            return Pristine{w.dir_, w.package_id_, w.agreement_id_};
        }();
        return base;
    }
    static const crypto::SecretKey& master() {
        static const crypto::SecretKey key = crypto::SecretKey::random();
        return key;
    }
    // A world is rebuilt after every accepted POST and each commit fsyncs: on a tmpfs that is free.
    static std::filesystem::path scratch_root() {
        std::error_code ec;
        if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
        return std::filesystem::temp_directory_path();
    }
    // The CA key is a plain string or a move-only secret buffer, depending on the certs version.
    template <class Key>
    static Key copy_of(const Key& key) {
        if constexpr (requires { key.copy(); })
            return key.copy();
        else
            return key;
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
        {"admin", "admin"},        {"dinkes-malut", "producer"},  {"pemkab-halut", "producer"},
        {"walidata", "custodian"}, {"walidata-dua", "custodian"}, {"bi-malut", "partner"},
        {"auditor", "auditor"}};
    static constexpr std::pair<const char*, const char*> kDatasets[] = {
        {"fasilitas", "biasa"}, {"imunisasi", "terbatas"}, {"rahasia", "rahasia"}, {"sr", "sangat-rahasia"}};

    std::filesystem::path dir_;
    std::unique_ptr<storage::Store> store_;
    gateway::Config config_;
    gateway::RevokedSerials revoked_;
    std::unique_ptr<gateway::AuditTrail> audit_;
    std::unique_ptr<gateway::Handler> handler_;
    std::string package_id_;
    std::string agreement_id_;
    bool keep_files_ = false;
};

}  // namespace serambi::fuzz
