// The classification policy's cost, at the size the policy issue names:
//   1. decide() alone, for a partner with its agreements and the package's approvals in hand;
//   2. a decision as the gateway makes it for a pull: the caller's agreements and the package's
//      approvals read from a SQLCipher database holding 10,000 agreements and 100,000 approvals,
//      then decide() (target: under 10 us);
//   3. GET /v1/datasets through the real request handler with 10,000 datasets.
//
// Environment: POLICY_BENCH_DIR (default /dev/shm: the fixture is written with one commit per
// row, and fsync on tmpfs is free; what is measured only reads).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "crypto/tlog.h"
#include "gateway/handler.h"

using namespace serambi;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kProducers = 100;
constexpr int kDatasetsPerProducer = 100;  // 10,000 datasets
constexpr int kPartners = 1000;
constexpr int kAgreementsPerPartner = 10;  // 10,000 agreements
constexpr int kPackages = 1000;
constexpr int kApprovalsPerPackage = 100;  // 100,000 approvals

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void must(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "policy_bench: %s failed\n", what);
        std::exit(1);
    }
}

std::string name(const char* prefix, int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%04d", prefix, i);
    return buf;
}

const char* level_of(int i) {
    static const char* levels[] = {"biasa", "terbatas", "rahasia"};
    return levels[i % 3];
}

}  // namespace

int main() {
    must(crypto::initialise().ok(), "crypto init");
    const fs::path base = fs::path(std::getenv("POLICY_BENCH_DIR") ? std::getenv("POLICY_BENCH_DIR") : "/dev/shm") /
                          ("serambi-policy-bench-" + crypto::random_hex(4));
    fs::create_directories(base);
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } cleanup{base};

    const auto master = crypto::SecretKey::random();
    auto store =
        std::move(storage::Store::open({base / "db", base / "blobs", crypto::Aead::aes_256_gcm, true}, master)).value();
    auto policy = policies::Policy::parse(policies::default_policy_text(), "default").value();
    const std::int64_t now = serambi::now_seconds();

    // ---- The fixture.
    const auto build = Clock::now();
    must(store->registry().add_principal({"walidata", "walidata", {"custodian"}, "S-WALI", "fp", {}, {}, {}, {}}).ok(),
         "custodian");
    for (int p = 0; p < kProducers; ++p) {
        const auto id = name("opd", p);
        must(store->registry().add_principal({id, id, {"producer"}, "S-" + id, "fp", {}, {}, {}, {}}).ok(), "producer");
        for (int d = 0; d < kDatasetsPerProducer; ++d) {
            storage::Dataset ds;
            ds.id = id + "/" + name("data", d);
            ds.owner = id;
            ds.classification = level_of(d);
            ds.title = "t";
            ds.created_by = "walidata";
            must(store->registry().add_dataset(ds).ok(), "dataset");
        }
    }
    std::mt19937 random(7);
    for (int p = 0; p < kPartners; ++p) {
        const auto id = name("mitra", p);
        must(store->registry().add_principal({id, id, {"partner"}, "S-" + id, "fp", {}, {}, {}, {}}).ok(), "partner");
        for (int a = 0; a < kAgreementsPerPartner; ++a) {
            storage::AgreementRecord r;
            r.id = "mou-" + crypto::random_hex(8);
            r.partner = id;
            r.patterns = {name("opd", static_cast<int>(random() % kProducers)) + "/*", "opd-0000/" + name("data", a)};
            r.max_classification = "rahasia";
            r.purpose = "kajian";
            r.valid_from = now - 86400;
            r.valid_until = now + 86400 * 365;
            r.created_by = "walidata";
            must(store->grants().add_agreement(r).ok(), "agreement");
        }
    }
    std::vector<std::string> packages;
    for (int k = 0; k < kPackages; ++k) {
        const std::string dataset = name("opd", k % kProducers) + "/" + name("data", 2);  // rahasia
        auto writer = std::move(store->packages().begin_package(
                                    {dataset, name("opd", k % kProducers), "rahasia", "a.csv", "text/csv", {}, {}}))
                          .value();
        must(writer->write(crypto::as_bytes("kabupaten,jumlah\n")).ok(), "write");
        must(writer->finish().ok(), "finish");
        auto record = writer->commit("{}", crypto::Bytes{1}, "{\"bench\":1}");
        must(record.ok(), "commit");
        packages.push_back(record->id);
        for (int a = 0; a < kApprovalsPerPackage; ++a) {
            storage::ApprovalRecord r;
            r.id = "apv-" + crypto::random_hex(8);
            r.package = record->id;
            r.partner = name("mitra", (k * 7 + a * 10) % kPartners);
            r.custodian = "walidata";
            r.created_at = now;
            r.expires_at = now + 86400;
            must(store->grants().add_approval(r).ok(), "approval");
        }
    }
    std::printf("fixture: %d datasets, %d agreements, %d approvals over %d packages in %.1f s\n",
                kProducers * kDatasetsPerProducer, kPartners * kAgreementsPerPartner, kPackages * kApprovalsPerPackage,
                kPackages, seconds_since(build));

    // A partner, a package it holds an approval for, and its facts.
    const std::string partner = name("mitra", 0);  // (k*7 + a*10) % 1000 == 0 at k = 0, a = 0
    const std::string package = packages[0];
    const auto record = store->packages().package(package).value();
    const auto dataset = store->registry().dataset(record.dataset).value();
    const policies::DatasetFacts facts{dataset.owner,  policies::Classification::rahasia, record.dataset, package, {},
                                       record.producer};
    const policies::Subject subject{partner, {policies::Role::partner}};

    // ---- 1. decide() alone.
    std::vector<policies::Agreement> agreements;
    const auto partner_agreements = store->grants().agreements(partner).value();
    for (const auto& r : partner_agreements) agreements.push_back(gateway::agreement_view(r));
    // The agreement that covers the package's producer.
    agreements.push_back(
        {"mou-cover", partner, {dataset.owner + "/*"}, policies::Classification::rahasia, now - 1, now + 86400, 0});
    std::vector<policies::Approval> approvals;
    const auto package_approvals = store->grants().approvals(package, partner).value();
    for (const auto& r : package_approvals) approvals.push_back(gateway::approval_view(r));
    must(!approvals.empty(), "the partner's approval");
    const policies::Context context{now, agreements, approvals};
    must(policy->decide(subject, policies::Action::read, &facts, context).allow, "an allowed decision");
    constexpr int kPure = 1'000'000;
    auto t0 = Clock::now();
    std::size_t allowed = 0;
    for (int i = 0; i < kPure; ++i) allowed += policy->decide(subject, policies::Action::read, &facts, context).allow;
    const double pure = seconds_since(t0);
    std::printf("decide() alone (%zu agreements, %zu approvals in hand): %.2f us per decision, %.0f decisions/s\n",
                agreements.size(), approvals.size(), pure / kPure * 1e6, kPure / pure);
    std::printf("RESULT policy_decide_us=%.3f\nRESULT policy_decisions_per_s=%.0f\n", pure / kPure * 1e6, kPure / pure);
    must(allowed == kPure, "every decision allowed");

    // ---- 2. A pull's decision as the gateway makes it: the grants read at the request.
    constexpr int kFull = 20'000;
    std::vector<double> times;
    times.reserve(kFull);
    for (int i = 0; i < kFull; ++i) {
        const auto& who = name("mitra", static_cast<int>(random() % kPartners));
        const auto& which = packages[random() % packages.size()];
        const auto t = Clock::now();
        auto agreement_rows = store->grants().agreements(who);
        auto approval_rows = store->grants().approvals(which, who);
        must(agreement_rows.ok() && approval_rows.ok(), "reading the grants");
        std::vector<policies::Agreement> a;
        for (const auto& r : *agreement_rows) a.push_back(gateway::agreement_view(r));
        std::vector<policies::Approval> p;
        for (const auto& r : *approval_rows) p.push_back(gateway::approval_view(r));
        const policies::DatasetFacts f{dataset.owner,  policies::Classification::rahasia, record.dataset, which, {},
                                       record.producer};
        const auto d = policy->decide({who, {policies::Role::partner}}, policies::Action::read, &f, {now, a, p});
        times.push_back(seconds_since(t) * 1e6);
        allowed += d.allow;
    }
    std::sort(times.begin(), times.end());
    std::printf("a pull's decision with its grants read from the database: median %.1f us, p99 %.1f us\n",
                times[times.size() / 2], times[times.size() * 99 / 100]);
    std::printf("RESULT policy_full_decision_median_us=%.1f\nRESULT policy_full_decision_p99_us=%.1f\n",
                times[times.size() / 2], times[times.size() * 99 / 100]);

    // The same with a commit between every two decisions, as on a busy gateway where every request
    // appends to the access log: lookups run on the read connection, and SQLite drops a WAL
    // reader's page cache whenever the writer has committed since its last read, so each lookup
    // decrypts its pages again.
    {
        constexpr int kAfterCommit = 2'000;
        std::vector<double> after_commit;
        after_commit.reserve(kAfterCommit);
        for (int i = 0; i < kAfterCommit; ++i) {
            must(store->log().append({"{\"bench\":" + std::to_string(i) + "}"}).ok(), "a commit");
            const auto& who = name("mitra", static_cast<int>(random() % kPartners));
            const auto& which = packages[random() % packages.size()];
            const auto t = Clock::now();
            auto approval_rows = store->grants().approvals(which, who);
            must(approval_rows.ok(), "reading the approvals");
            after_commit.push_back(seconds_since(t) * 1e6);
        }
        std::sort(after_commit.begin(), after_commit.end());
        std::printf("the package's approvals read just after a commit: median %.1f us, p99 %.1f us\n",
                    after_commit[after_commit.size() / 2], after_commit[after_commit.size() * 99 / 100]);
        std::printf("RESULT policy_approvals_after_commit_median_us=%.1f\n", after_commit[after_commit.size() / 2]);
    }

    // Where that time goes: each read on its own.
    for (int which = 0; which < 2; ++which) {
        t0 = Clock::now();
        for (int i = 0; i < kFull; ++i) {
            const auto who = name("mitra", static_cast<int>(random() % kPartners));
            if (which == 0)
                must(store->grants().agreements(who).ok(), "agreements");
            else
                must(store->grants().approvals(packages[random() % packages.size()], who).ok(), "approvals");
        }
        std::printf("  of which reading %s: %.1f us\n",
                    which == 0 ? "the partner's agreements" : "the package's approvals for it",
                    seconds_since(t0) / kFull * 1e6);
    }

    // ---- 3. The dataset listing through the request handler.
    auto ca = certs::create_authority("Bench CA", 10).value();
    gateway::Config config;
    gateway::AuditTrail audit(*store, crypto::tlog::NoteSigner::generate("bench.local/log").value());
    gateway::Handler handler({store.get(), policy, nullptr, std::move(ca), &config, &audit});
    for (const auto* who : {"walidata", "mitra-0000", "opd-0000"}) {
        gateway::RequestHead head;
        head.method = "GET";
        head.target = "/v1/datasets";
        head.request_id = "bench";
        head.cert_principal_id = who;
        head.cert_serial = std::string(who) == "walidata" ? "S-WALI" : std::string("S-") + who;
        head.cert_fingerprint = "fp";  // as registered above
        std::vector<double> listing;
        std::size_t bytes = 0;
        for (int i = 0; i < 30; ++i) {
            const auto t = Clock::now();
            auto d = handler.dispatch(head);
            listing.push_back(seconds_since(t) * 1e3);
            must(d.response.status == 200, "the listing");
            bytes = d.response.body.size();
        }
        std::sort(listing.begin(), listing.end());
        std::printf("GET /v1/datasets as %-10s (10,000 datasets, %zu bytes answered): median %.1f ms\n", who, bytes,
                    listing[listing.size() / 2]);
        std::printf("RESULT policy_listing_%s_ms=%.1f\n", who, listing[listing.size() / 2]);
    }
    return 0;
}
