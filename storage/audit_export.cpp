#include "storage/audit_export.h"

#include <boost/json.hpp>

#include "crypto/tlog.h"

namespace serambi::storage {
namespace {

constexpr const char* kColumns[] = {
    "time",   "request_id", "principal", "cert_serial", "remote",    "action", "resource",        "classification",
    "status", "decision",   "reason",    "bytes_in",    "bytes_out", "sha256", "refused_subject", "count"};

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

std::string audit_csv_row(std::string_view entry) {
    boost::system::error_code ec;
    auto value = boost::json::parse(entry, ec);
    std::string row;
    for (const char* column : kColumns) {
        if (!row.empty()) row += ',';
        std::string cell;
        if (!ec && value.is_object())
            if (const auto* v = value.as_object().if_contains(column))
                cell = v->is_string() ? std::string(v->get_string()) : boost::json::serialize(*v);
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
                          what + ": the signature does not verify with the log key (" + body.error().message + ")");
    auto checkpoint = crypto::tlog::parse_checkpoint_body(*body);
    if (!checkpoint)
        return make_error(ErrorKind::corruption, what + ": not a checkpoint: " + checkpoint.error().message);
    const auto plus = key.find('+');
    if (plus == std::string_view::npos || checkpoint->origin != key.substr(0, plus))
        return make_error(ErrorKind::corruption, what + ": names the log '" + checkpoint->origin + "', not the key's");
    return checkpoint;
}

}  // namespace serambi::storage
