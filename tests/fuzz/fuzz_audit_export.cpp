// Access-log export lines as `audit export --csv`, `audit verify` and `verify --export` read them:
// each line becomes a CSV row, is checked for recording a push, and is hashed into the tree.
// A row always has every column, and no cell starts a formula a spreadsheet would run. The
// log-key hand-overs among them are followed as `audit verify` follows them: never a crash, and
// the key for any size is one the chain holds.
#include <algorithm>

#include "crypto/crypto.h"
#include "crypto/tlog.h"
#include "log_key.h"
#include "storage/audit_export.h"

using namespace serambi;

namespace {

// Splits a row at the commas between quoted cells; false if it is not a well-formed row.
bool cells(std::string_view row, std::vector<std::string>& out) {
    std::size_t at = 0;
    while (at < row.size()) {
        if (row[at] != '"') return false;
        std::string cell;
        std::size_t i = at + 1;
        for (;; ++i) {
            if (i >= row.size()) return false;
            if (row[i] == '"') {
                if (i + 1 < row.size() && row[i + 1] == '"') {
                    cell += '"';
                    ++i;
                    continue;
                }
                break;
            }
            cell += row[i];
        }
        out.push_back(std::move(cell));
        at = i + 1;
        if (at < row.size() && row[at++] != ',') return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string header = storage::audit_csv_header();
    static const auto columns = static_cast<std::size_t>(std::count(header.begin(), header.end(), ',') + 1);
    std::string_view text(reinterpret_cast<const char*>(data), size);
    crypto::tlog::TreeBuilder tree;
    storage::KeyChain chain{std::string(fuzz::kLogVerifierKey)};
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        std::vector<std::string> row;
        if (!cells(storage::audit_csv_row(line), row) || row.size() != columns) __builtin_trap();
        for (const auto& cell : row) {
            const auto first = cell.find_first_not_of(" \t\r\n");
            if (first != std::string::npos && std::string_view("=+-@").find(cell[first]) != std::string_view::npos)
                __builtin_trap();
        }
        (void)storage::records_push(line, "0123456789abcdef0123456789abcdef", "dinkes-malut/imunisasi",
                                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        (void)chain.see(line, tree);
        tree.add(crypto::tlog::leaf_hash(crypto::as_bytes(line)));
    }
    (void)tree.root();
    if (chain.key_for(tree.size() + 1).empty()) __builtin_trap();
    return 0;
}
