#include "storage/audit_export.h"

#include <boost/json.hpp>
#include <ctime>

#include "base/time.h"
#include "crypto/tlog.h"

namespace serambi::storage {
namespace {

// One column per field, for spreadsheets: the entry's place in the log first, its time twice
// (local, then UTC) in a form spreadsheets read as a date, and the resource split into dataset
// and package.
constexpr const char* kColumns[] = {
    "index",   "time_local",     "time_utc",    "time",   "principal", "action",          "dataset",
    "package", "classification", "decision",    "reason", "status",    "bytes_in",        "bytes_out",
    "sha256",  "request_id",     "cert_serial", "remote", "resource",  "refused_subject", "count"};

// "2026-11-25T08:00:00Z" as "2026-11-25 08:00:00" in UTC or in the local zone; empty if it is
// not a time.
std::string spreadsheet_time(std::string_view rfc3339, bool local) {
    auto seconds = parse_time(rfc3339);
    if (!seconds) return {};
    const auto t = static_cast<std::time_t>(*seconds);
    std::tm parts{};
    if ((local ? ::localtime_r(&t, &parts) : ::gmtime_r(&t, &parts)) == nullptr) return {};
    char text[32];
    if (std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts) == 0) return {};
    return text;
}

// "datasets/OWNER/NAME/packages/ID[/…]" split into the dataset and the package.
std::pair<std::string, std::string> dataset_and_package(std::string_view resource) {
    if (resource.starts_with("packages/")) {  // refused before its dataset was known
        auto package = resource.substr(std::string_view("packages/").size());
        return {{}, std::string(package.substr(0, package.find('/')))};
    }
    if (!resource.starts_with("datasets/")) return {};
    resource.remove_prefix(std::string_view("datasets/").size());
    const auto packages = resource.find("/packages/");
    if (packages == std::string_view::npos) return {std::string(resource), {}};
    auto package = resource.substr(packages + std::string_view("/packages/").size());
    package = package.substr(0, package.find('/'));
    return {std::string(resource.substr(0, packages)), std::string(package)};
}

// Quoted, and a cell that starts like a formula is defused.
std::string csv_cell(std::string text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && std::string_view("=+-@").find(text[first]) != std::string_view::npos)
        text.insert(0, "'");
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string trimmed(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    return std::string(text);
}

}  // namespace

std::string audit_csv_header() {
    std::string out;
    for (const char* column : kColumns) {
        if (!out.empty()) out += ',';
        out += column;
    }
    return out;
}

std::string audit_csv_row(std::string_view entry, std::optional<std::uint64_t> index) {
    boost::system::error_code ec;
    auto value = boost::json::parse(entry, ec);
    const boost::json::object* o = !ec && value.is_object() ? &value.as_object() : nullptr;
    auto field = [&](const char* name) -> std::string {
        const auto* v = o ? o->if_contains(name) : nullptr;
        if (v == nullptr) return {};
        return v->is_string() ? std::string(v->get_string()) : boost::json::serialize(*v);
    };
    const auto [dataset, package] = dataset_and_package(field("resource"));
    std::string row;
    for (const std::string_view column : kColumns) {
        if (!row.empty()) row += ',';
        std::string cell;
        if (column == "index")
            cell = index ? std::to_string(*index) : std::string();
        else if (column == "time_local" || column == "time_utc")
            cell = spreadsheet_time(field("time"), column == "time_local");
        else if (column == "dataset")
            cell = dataset;
        else if (column == "package")
            cell = package;
        else
            cell = field(std::string(column).c_str());
        row += csv_cell(cell);
    }
    return row;
}

bool records_push(std::string_view entry, std::string_view package_id, std::string_view dataset,
                  std::string_view sha256_hex) {
    boost::system::error_code ec;
    auto value = boost::json::parse(entry, ec);
    if (ec || !value.is_object()) return false;
    const auto& o = value.as_object();
    auto text = [&](const char* name) -> std::string_view {
        const auto* v = o.if_contains(name);
        return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
    };
    return !package_id.empty() && text("action") == "package.push" && text("decision") == "allow" &&
           text("sha256") == sha256_hex &&
           text("resource") == "datasets/" + std::string(dataset) + "/packages/" + std::string(package_id);
}

Result<std::vector<crypto::tlog::Hash>> proof_hashes(std::string_view json) {
    auto bad = [](const char* message) { return make_error(ErrorKind::invalid_argument, message); };
    boost::system::error_code ec;
    auto value = boost::json::parse(json, ec);
    if (ec || !value.is_object()) return bad("the proof is not a JSON object");
    const auto* list = value.as_object().if_contains("hashes");
    if (list == nullptr || !list->is_array()) return bad("the proof has no hashes");
    std::vector<crypto::tlog::Hash> out;
    for (const auto& item : list->as_array()) {
        auto bytes = item.is_string() ? crypto::from_base64(item.get_string()) : Result<crypto::Bytes>(bad(""));
        if (!bytes || bytes->size() != 32) return bad("a proof hash is not 32 bytes of base64");
        crypto::tlog::Hash h;
        std::copy(bytes->begin(), bytes->end(), h.begin());
        out.push_back(h);
    }
    return out;
}

Result<crypto::tlog::Checkpoint> verified_checkpoint(std::string_view note, std::string_view key,
                                                     const std::string& what) {
    auto body = crypto::tlog::verify_note(note, trimmed(key));
    if (!body)
        return make_error(ErrorKind::corruption,
                          what + ": the signature does not verify with the log key (" + body.error().message +
                              "); if the log's key was rotated, `serambi audit key` shows the current one, and "
                              "`serambi audit verify` follows the hand-over from the old key in an export");
    auto checkpoint = crypto::tlog::parse_checkpoint_body(*body);
    if (!checkpoint)
        return make_error(ErrorKind::corruption, what + ": not a checkpoint: " + checkpoint.error().message);
    const auto plus = key.find('+');
    if (plus == std::string_view::npos || checkpoint->origin != key.substr(0, plus))
        return make_error(ErrorKind::corruption, what + ": names the log '" + checkpoint->origin + "', not the key's");
    return checkpoint;
}

std::string handover_checkpoint_body(const crypto::tlog::Checkpoint& checkpoint, const std::string& new_key) {
    return crypto::tlog::checkpoint_body(checkpoint) + std::string(kHandoverExtension) + " " + new_key + "\n";
}

std::string handed_over_key(std::string_view body) {
    // The fourth line, the first extension line.
    std::size_t at = 0;
    for (int line = 0; line < 3; ++line) {
        at = body.find('\n', at);
        if (at == std::string_view::npos) return {};
        ++at;
    }
    const auto end = body.find('\n', at);
    if (end == std::string_view::npos) return {};
    const auto line = body.substr(at, end - at);
    const std::string prefix = std::string(kHandoverExtension) + " ";
    if (!line.starts_with(prefix)) return {};
    return std::string(line.substr(prefix.size()));
}

Result<crypto::tlog::Checkpoint> unverified_checkpoint(std::string_view note) {
    const auto end = note.find("\n\n");
    if (end == std::string_view::npos)
        return make_error(ErrorKind::invalid_argument, "not a signed note (no blank line before the signatures)");
    return crypto::tlog::parse_checkpoint_body(note.substr(0, end + 1));
}

KeyChain::KeyChain(std::string trusted_key) : trusted_(trimmed(std::move(trusted_key))) {}

Status KeyChain::see(std::string_view entry, const crypto::tlog::TreeBuilder& tree) {
    // Most entries are not about the key: a cheap look before any parsing.
    if (entry.find("\"log.key_") == std::string_view::npos) return {};
    boost::system::error_code ec;
    auto value = boost::json::parse(entry, ec);
    if (ec || !value.is_object()) return {};
    const auto& o = value.as_object();
    auto text = [&](const char* name) -> std::string {
        const auto* v = o.if_contains(name);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    const std::string action = text("action");
    const std::uint64_t index = tree.size();
    auto broken = [&](const std::string& why) {
        return make_error(ErrorKind::corruption,
                          "entry " + std::to_string(index) + " is a log-key hand-over that does not check out: " + why);
    };
    if (action == "log.key_rotated") {
        announced_old_ = text("old_key");
        announced_new_ = text("new_key");
        announced_at_ = index;
        if (announced_old_.empty() || announced_new_.empty()) return broken("it does not name both keys");
        return {};
    }
    if (action != "log.key_handover") return {};
    if (announced_at_ == UINT64_MAX || announced_at_ + 1 != index)
        return broken("the entry before it does not announce the rotation");
    const std::string note = text("checkpoint");
    for (const auto* key : {&announced_old_, &announced_new_})
        if (auto body = crypto::tlog::verify_note(note, *key); !body)
            return broken("its checkpoint is not signed by " +
                          (key == &announced_old_ ? std::string("the old key") : std::string("the new key")) + " (" +
                          body.error().message + ")");
    auto body = crypto::tlog::verify_note(note, announced_old_);
    auto checkpoint = crypto::tlog::parse_checkpoint_body(*body);
    if (!checkpoint) return broken(checkpoint.error().message);
    if (checkpoint->size != index || checkpoint->root != tree.root())
        return broken("its checkpoint is not the tree of the " + std::to_string(index) + " entries before it");
    if (handed_over_key(*body) != announced_new_) return broken("its checkpoint does not name the new key");
    const auto plus = announced_new_.find('+');
    if (plus == std::string::npos || checkpoint->origin != announced_new_.substr(0, plus))
        return broken("the new key is not named by the log's origin");
    handovers_.push_back({index, announced_old_, announced_new_});
    announced_at_ = UINT64_MAX;
    return {};
}

std::string KeyChain::key_for(std::uint64_t size) const {
    // Forward: each hand-over the key in hand signed, up to the size asked for.
    std::string key = trusted_;
    for (const auto& h : handovers_)
        if (h.old_key == key && size > h.size) key = h.new_key;
    if (key != trusted_) return key;
    // Backward: the hand-over that made the key in hand the log's vouches for the key before it.
    for (auto h = handovers_.rbegin(); h != handovers_.rend(); ++h)
        if (h->new_key == key && size <= h->size) key = h->old_key;
    return key;
}

std::size_t KeyChain::handovers_followed(std::uint64_t lowest, std::uint64_t highest) const {
    std::size_t followed = 0;
    std::string key = trusted_;
    for (const auto& h : handovers_)
        if (h.old_key == key && h.size < highest) {
            key = h.new_key;
            ++followed;
        }
    if (key != trusted_) return followed;
    for (auto h = handovers_.rbegin(); h != handovers_.rend(); ++h)
        if (h->new_key == key && h->size >= lowest) {
            key = h->old_key;
            ++followed;
        }
    return followed;
}

}  // namespace serambi::storage
