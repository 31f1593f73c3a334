// The access policy (TOML) through Policy::parse, then every decision the gateway can ask of a
// policy that parsed: a policy an operator wrote must never make a decision misbehave.
#include "policies/policy.h"

using namespace serambi::policies;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto policy = Policy::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
    if (!policy) return 0;
    static const Agreement agreements[] = {
        {"mou-1", "bi-malut", {"dinkes-malut/*"}, Classification::rahasia, 0, 4102444800, 0}};
    static const Approval approvals[] = {{"apv-1", "p1", "bi-malut", "walidata", 4102444800, 2, 1, 0},
                                         {"apv-2", "p1", "bi-malut", "walidata-dua", 4102444800, 0, 0, 0}};
    const Context context{1800000000, agreements, approvals};
    for (int level = 0; level < 4; ++level) {
        const auto c = static_cast<Classification>(level);
        (void)(*policy)->approval_seconds(c);
        (void)(*policy)->approvals_needed(c);
        (void)(*policy)->max_downloads(c);
        DatasetFacts facts;
        facts.owner = "dinkes-malut";
        facts.classification = c;
        facts.dataset = "dinkes-malut/data";
        facts.package = "p1";
        facts.recipients = {"bi-malut"};
        for (int role = 0; role < 5; ++role) {
            for (const char* id : {"dinkes-malut", "bi-malut", "walidata"}) {
                const Subject subject{id, {static_cast<Role>(role)}};
                for (int action = 0; action <= static_cast<int>(Action::read_proof); ++action) {
                    const auto d = (*policy)->decide(subject, static_cast<Action>(action), &facts, context);
                    (void)(*policy)->decide(subject, static_cast<Action>(action), nullptr, context);
                    if (d.allow && d.reason.empty()) __builtin_trap();  // every grant says why
                }
            }
        }
    }
    return 0;
}
