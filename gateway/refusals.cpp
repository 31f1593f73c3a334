#include "gateway/refusals.h"

#include "gateway/handler.h"
#include "gateway/net.h"

namespace serambi::gateway {

void record_counted_refusals(AuditTrail& audit, RefusalBudget& budget, GatewayCounters& counters, bool all) {
    const auto counted = budget.take_counted(all);
    if (counted == 0) return;
    if (auto index = audit.record(AuditTrail::refused_count_entry(counted, budget.per_minute())); !index) {
        budget.give_back(counted);
        log_line("access log: cannot record " + std::to_string(counted) +
                 " refused handshakes yet: " + index.error().message);
        return;
    }
    counters.handshakes_counted.fetch_add(counted, std::memory_order_relaxed);
}

}  // namespace serambi::gateway
