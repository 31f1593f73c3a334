// Listing packages: one dataset's (GET /v1/datasets/{owner}/{name}/packages) or everything the
// caller may see (GET /v1/packages), filtered and paged on the server so that a browser on a weak
// link asks once and receives one page. Each package is decided on its own by the policy.
#include <algorithm>
#include <unordered_map>

#include "gateway/handler.h"

namespace serambi::gateway {

using policies::Action;

boost::json::object package_json(const storage::PackageRecord& p);

namespace {

constexpr std::uint64_t kMaxPage = 1000;

std::string lower_ascii(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return text;
}

// The listing's query: filters and a page, checked at the boundary.
struct ListingQuery {
    std::string dataset, name, classification, producer, access, since, until;
    std::uint64_t limit = kMaxPage, offset = 0;

    static Result<ListingQuery> from(const Query& query) {
        ListingQuery q;
        q.dataset = query.text("dataset").value_or("");
        q.name = lower_ascii(query.text("name").value_or(""));
        q.classification = query.text("classification").value_or("");
        q.producer = query.text("producer").value_or("");
        q.access = query.text("access").value_or("");
        q.since = query.text("since").value_or("");
        q.until = query.text("until").value_or("");
        if (!q.classification.empty() && !policies::parse_classification(q.classification))
            return make_error(ErrorKind::invalid_argument,
                              "classification is biasa, terbatas, rahasia or sangat-rahasia");
        if (!q.access.empty() && q.access != "released" && q.access != "request")
            return make_error(ErrorKind::invalid_argument, "access is released or request");
        for (const auto* t : {&q.since, &q.until})
            if (!t->empty() && (t->size() < 10 || t->size() > 20 || (*t)[4] != '-'))
                return make_error(ErrorKind::invalid_argument,
                                  "since and until are dates (2026-12-01) or RFC 3339 UTC times");
        if (auto limit = query.number("limit"); limit) {
            if (*limit == 0 || *limit > kMaxPage)
                return make_error(ErrorKind::invalid_argument, "limit is 1 to " + std::to_string(kMaxPage));
            q.limit = *limit;
        } else if (limit.error().kind != ErrorKind::not_found) {
            return limit.error();
        }
        if (auto offset = query.number("offset"); offset) {
            q.offset = *offset;
        } else if (offset.error().kind != ErrorKind::not_found) {
            return offset.error();
        }
        return q;
    }

    bool keeps(const boost::json::object& o) const {
        auto field = [&](const char* key) {
            const auto* v = o.if_contains(key);
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        if (!name.empty() && lower_ascii(field("filename")).find(name) == std::string::npos) return false;
        if (!classification.empty() && field("classification") != classification) return false;
        if (!producer.empty() && field("producer") != producer) return false;
        if (!access.empty() && field("access") != access) return false;
        const auto created = field("created_at");
        if (!since.empty() && created < since) return false;
        // A date alone includes its whole day.
        if (!until.empty() && (until.size() == 10 ? created.substr(0, 10) > until : created >= until)) return false;
        return true;
    }
};

}  // namespace

// What one caller may see of packages, decided once per package, with what it needs read once.
class Handler::PackageLister {
  public:
    static Result<PackageLister> make(Handler& h, const Caller& caller) {
        PackageLister l(h, caller);
        auto rows = h.services_.store->grants().approvals("", caller.subject.id);
        if (!rows) return rows.error();
        for (const auto& r : *rows) l.approvals_.push_back(approval_view(r));
        // The partner's open release requests, so that the listing says which it already asked for.
        if (caller.subject.has(policies::Role::partner)) {
            auto requests = h.services_.store->grants().requests(caller.subject.id, "open");
            if (!requests) return requests.error();
            for (const auto& r : *requests) l.open_requests_[r.package] = r.id;
        }
        return l;
    }

    // The package as the caller may see it, or nothing.
    std::optional<boost::json::object> entry(const storage::PackageRecord& p, const std::string& owner) const {
        // A package may be classified above its dataset; it is judged at its own level.
        auto level = policies::parse_classification(p.classification);
        const policies::DatasetFacts facts{owner,        level ? *level : policies::Classification::sangat_rahasia,
                                           p.dataset,    p.id,
                                           p.recipients, p.producer};
        const policies::Context context{now_seconds(), caller_.agreements, approvals_};
        const auto decision = h_.services_.policy->decide(caller_.subject, Action::read, &facts, context);
        if (!decision.allow) {
            // Listed by name, date and size only, so that the partner can ask for its release.
            if (!h_.listed_before_release(decision, facts, caller_)) return std::nullopt;
            boost::json::object waiting{{"package_id", p.id},         {"dataset", p.dataset},
                                        {"producer", p.producer},     {"classification", p.classification},
                                        {"filename", p.filename},     {"size", p.size},
                                        {"created_at", p.created_at}, {"access", "request"}};
            if (const auto open = open_requests_.find(p.id); open != open_requests_.end())
                waiting["request"] = boost::json::object{{"id", open->second}, {"state", "open"}};
            return waiting;
        }
        // How a pull will come, so that a browser can say so before the download.
        auto listed = package_json(p);
        const bool age = std::find(decision.obligations.begin(), decision.obligations.end(), "encrypt-to-recipient") !=
                         decision.obligations.end();
        listed["delivery"] = age ? "age" : "plain";
        listed["access"] = "released";
        return listed;
    }

  private:
    PackageLister(Handler& h, const Caller& caller) : h_(h), caller_(caller) {}
    Handler& h_;
    const Caller& caller_;
    std::vector<policies::Approval> approvals_;
    std::unordered_map<std::string, std::string> open_requests_;
};

Result<std::string> Handler::package_access(const Caller& caller, const storage::PackageRecord& package,
                                            const std::string& owner) {
    auto lister = PackageLister::make(*this, caller);
    if (!lister) return lister.error();
    const auto seen = lister->entry(package, owner);
    if (!seen) return std::string();
    const auto* access = seen->if_contains("access");
    return access != nullptr && access->is_string() ? std::string(access->as_string()) : std::string();
}

bool Handler::names_caller(const storage::Dataset& dataset, policies::Classification level, const Caller& caller) {
    if (!services_.policy->names_readers(level)) return false;
    auto packages = services_.store->packages().packages_in(dataset.id);
    if (!packages) return false;  // fail closed: not listed
    return std::any_of(packages->begin(), packages->end(), [&](const storage::PackageRecord& p) {
        return std::find(p.recipients.begin(), p.recipients.end(), caller.subject.id) != p.recipients.end();
    });
}

namespace {

// One page of the entries, in their order or newest first; the total before paging goes in a
// header.
Response page_of(std::vector<boost::json::object> entries, const ListingQuery& q, bool newest_first) {
    // Within one second, the order the packages were stored in (packages_in's), reversed.
    if (newest_first) std::reverse(entries.begin(), entries.end());
    if (newest_first)
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return a.at("created_at").as_string() > b.at("created_at").as_string();
        });
    boost::json::array out;
    for (std::uint64_t i = q.offset; i < entries.size() && out.size() < q.limit; ++i) out.push_back(entries[i]);
    auto r = json_response(200, out);
    r.headers.emplace_back("Serambi-Total", std::to_string(entries.size()));
    return r;
}

}  // namespace

Response Handler::list_packages(const RequestHead& head, const Caller& caller, const std::string& id,
                                const Query& query) {
    auto q = ListingQuery::from(query);
    if (!q) return problem_of(q.error(), head.request_id);
    AuditFacts decided;
    auto dataset = dataset_for(caller, Action::read, id, decided);
    if (!dataset) {
        // A level whose readers the producer names: a recipient lists the dataset for the packages
        // that name it (each is still decided on its own below).
        auto stored = services_.store->registry().dataset(id);
        auto level = stored ? policies::parse_classification(stored->classification)
                            : Result<policies::Classification>(stored.error());
        if (dataset.error().kind == ErrorKind::not_found && stored && level && names_caller(*stored, *level, caller)) {
            dataset = std::move(*stored);
            decided.reason = "the producer named the caller as a recipient of packages in this dataset";
        } else {
            auto denied = problem_of(dataset.error(), head.request_id);
            denied.audit = decided;
            return denied;
        }
    }
    auto packages = services_.store->packages().packages_in(id);
    if (!packages) return problem_of(packages.error(), head.request_id);
    auto lister = PackageLister::make(*this, caller);
    if (!lister) return problem_of(lister.error(), head.request_id);
    std::vector<boost::json::object> entries;
    for (const auto& p : *packages)
        if (auto e = lister->entry(p, dataset->owner); e && q->keeps(*e)) entries.push_back(std::move(*e));
    const auto shown = entries.size();
    auto r = page_of(std::move(entries), *q, false);  // oldest first, as it always was
    r.audit = decided;
    r.audit.reason += "; listed " + std::to_string(shown) + " of the " + std::to_string(packages->size()) +
                      " packages (those the policy lets the caller see, as filtered)";
    return r;
}

Response Handler::list_all_packages(const RequestHead& head, const Caller& caller, const Query& query) {
    auto q = ListingQuery::from(query);
    if (!q) return problem_of(q.error(), head.request_id);
    auto datasets = services_.store->registry().datasets();
    if (!datasets) return problem_of(datasets.error(), head.request_id);
    auto lister = PackageLister::make(*this, caller);
    if (!lister) return problem_of(lister.error(), head.request_id);
    const policies::Context context{now_seconds(), caller.agreements, {}};
    std::vector<boost::json::object> entries;
    std::size_t considered = 0;
    for (const auto& d : *datasets) {
        if (!q->dataset.empty() && d.id != q->dataset) continue;
        auto level = policies::parse_classification(d.classification);
        if (!level) continue;  // a row that does not parse is shown to nobody
        const policies::DatasetFacts facts{d.owner, *level, d.id, "", {}, ""};
        // The same datasets GET /v1/datasets lists; every package is then judged on its own.
        if (!services_.policy->decide(caller.subject, Action::read, &facts, context).allow &&
            !names_caller(d, *level, caller))
            continue;
        auto packages = services_.store->packages().packages_in(d.id);
        if (!packages) return problem_of(packages.error(), head.request_id);
        considered += packages->size();
        for (const auto& p : *packages)
            if (auto e = lister->entry(p, d.owner); e && q->keeps(*e)) entries.push_back(std::move(*e));
    }
    const auto shown = entries.size();
    auto r = page_of(std::move(entries), *q, true);
    r.audit.reason = "listed " + std::to_string(shown) + " of the " + std::to_string(considered) +
                     " packages in the datasets the caller may list (those the policy lets it see, as filtered)";
    return r;
}

}  // namespace serambi::gateway
