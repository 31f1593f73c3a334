// The witness's configuration, state and the add-checkpoint check (C2SP tlog-witness). No HTTP
// here: http.cpp carries requests to Witness::add_checkpoint.
#include "witness/witness.h"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <boost/json.hpp>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "storage/audit_export.h"
#include "storage/store.h"

namespace serambi::witness {
namespace {

namespace tlog = crypto::tlog;

Error bad(std::string message) { return make_error(ErrorKind::invalid_argument, std::move(message)); }

constexpr std::size_t kMaxRequestBytes = 64 * 1024;
constexpr std::size_t kMaxProofLines = 63;  // the protocol's limit
constexpr std::uintmax_t kMaxEvidenceBytes = 16 << 20;

Status parse_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("expected \"HOST:PORT\"");
    std::string h(text.substr(0, colon));
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    const auto digits = text.substr(colon + 1);
    unsigned long number = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9' || number > 65535) return bad("the port must be 1 to 65535");
        number = number * 10 + static_cast<unsigned long>(c - '0');
    }
    if (digits.empty() || number == 0 || number > 65535) return bad("the port must be 1 to 65535");
    host = h;
    port = static_cast<std::uint16_t>(number);
    return {};
}

std::string line_at(const std::filesystem::path& file, const toml::node& node) {
    return file.string() + ":" + std::to_string(node.source().begin.line) + ": ";
}

std::string now_text() {
    char buf[32];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// A TOML basic string: key names are printable ASCII, so quotes and backslashes are all to escape.
std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

Status check_log_key(const LogKey& log) {
    // A log's key is a signed-note key (type 0x01) named by the log's origin.
    const auto name = tlog::verifier_key_name(log.verifier_key, tlog::KeyType::note);
    if (name.empty())
        return bad("the key of log '" + log.origin + "' is not a signed-note verifier key (NAME+HASH+BASE64)");
    if (name != log.origin)
        return bad("the key of log '" + log.origin + "' is named '" + name + "', not by the log's origin");
    return {};
}

}  // namespace

Result<Config> load_config(const std::filesystem::path& file) {
    Config config;
    config.config_file = std::filesystem::absolute(file);
    const auto base = config.config_file.parent_path();
    for (auto* p : {&config.key_file, &config.state_file, &config.evidence_file}) *p = base / *p;
    toml::table table;
    try {
        table = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        return bad(file.string() + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    for (const auto& [key, node] : table) {
        const std::string section(key.str());
        if (section == "witness" && node.is_table()) {
            for (const auto& [k, v] : *node.as_table()) {
                const std::string name(k.str());
                const auto text = v.value<std::string>();
                if (!v.is_string() || !text || text->empty() || text->find('\0') != std::string::npos)
                    return bad(line_at(file, v) + "witness." + name + ": expected a non-empty string");
                if (name == "listen") {
                    if (auto s = parse_host_port(*text, config.listen_host, config.listen_port); !s)
                        return bad(line_at(file, v) + "witness.listen: " + s.error().message);
                } else if (name == "key" || name == "state" || name == "evidence") {
                    auto& out = name == "key"     ? config.key_file
                                : name == "state" ? config.state_file
                                                  : config.evidence_file;
                    out = std::filesystem::path(*text).is_absolute() ? std::filesystem::path(*text) : base / *text;
                } else {
                    return bad(line_at(file, v) + "witness." + name + ": unknown key");
                }
            }
        } else if (section == "log" && node.is_array_of_tables()) {
            for (const auto& entry : *node.as_array()) {
                LogKey log;
                for (const auto& [k, v] : *entry.as_table()) {
                    const std::string name(k.str());
                    const auto text = v.value<std::string>();
                    if (!v.is_string() || !text || text->empty())
                        return bad(line_at(file, v) + "log." + name + ": expected a non-empty string");
                    if (name == "origin")
                        log.origin = *text;
                    else if (name == "key")
                        log.verifier_key = *text;
                    else
                        return bad(line_at(file, v) + "log." + name + ": unknown key");
                }
                if (log.origin.empty() || log.verifier_key.empty())
                    return bad(line_at(file, entry) + "[[log]]: needs origin and key");
                if (auto s = check_log_key(log); !s) return bad(line_at(file, entry) + s.error().message);
                for (const auto& other : config.logs)
                    if (other.origin == log.origin)
                        return bad(line_at(file, entry) + "log '" + log.origin + "' is named twice");
                config.logs.push_back(std::move(log));
            }
        } else {
            return bad(line_at(file, node) + section + ": unknown section (expected [witness] and [[log]])");
        }
    }
    return config;
}

Status init(const InitOptions& options) {
    if (options.name.empty() || options.name.size() > 128)
        return bad("the witness needs a name of 1 to 128 characters (like inspektorat.example.go.id/witness)");
    std::string host;
    std::uint16_t port = 0;
    if (auto s = parse_host_port(options.listen, host, port); !s) return bad("--listen: " + s.error().message);
    std::vector<LogKey> logs;
    for (const auto& key : options.log_keys) {
        LogKey log{key.substr(0, key.find('+')), key};
        if (auto s = check_log_key(log); !s) return s.error();
        logs.push_back(std::move(log));
    }
    auto signer = tlog::NoteSigner::generate(options.name, tlog::KeyType::cosignature);
    if (!signer) return bad("the witness name: " + signer.error().message + " (no spaces or '+')");

    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) return make_error(ErrorKind::io_error, "cannot create " + options.dir.string() + ": " + ec.message());
    for (const char* name : {"witness.toml", "witness.key"})
        if (std::filesystem::exists(options.dir / name))
            return make_error(ErrorKind::conflict, (options.dir / name).string() +
                                                       " exists already; a witness is initialised once (its key and "
                                                       "state are what make it a witness)");
    std::ostringstream toml;
    toml << "# A Serambi witness (C2SP tlog-witness). It cosigns a log's checkpoint only if it\n"
            "# extends the last one it cosigned for that log. Keep witness.key secret (mode 0600)\n"
            "# and witness.state with it: a witness that loses its state forgets what it saw.\n"
            "[witness]\n"
            "listen = "
         << toml_string(options.listen)
         << "\n"
            "key = \"witness.key\"\n"
            "state = \"witness.state\"\n"
            "evidence = \"evidence.log\"  # signed checkpoints that contradict one cosigned: proof of a fork\n\n"
            "# One [[log]] per log followed: its origin line and its verifier key (GET /v1/audit/key).\n";
    for (const auto& log : logs)
        toml << "[[log]]\norigin = " << toml_string(log.origin) << "\nkey = " << toml_string(log.verifier_key) << "\n";
    std::string secret = signer->private_text() + "\n";
    auto written = storage::write_new_file(options.dir / "witness.key", secret, 0600);
    crypto::wipe(secret);
    if (!written) return written.error();
    if (auto s = storage::write_new_file(options.dir / "witness.vkey", signer->verifier_key() + "\n", 0644); !s)
        return s.error();
    return storage::write_new_file(options.dir / "witness.toml", toml.str(), 0644);
}

Status add_log(const std::filesystem::path& config_file, const std::string& verifier_key) {
    auto config = load_config(config_file);
    if (!config) return config.error();
    LogKey log{verifier_key.substr(0, verifier_key.find('+')), verifier_key};
    if (auto s = check_log_key(log); !s) return s;
    for (const auto& l : config->logs)
        if (l.origin == log.origin)
            return make_error(ErrorKind::conflict, "the witness follows " + log.origin + " already");
    auto text = storage::read_small_file(config_file, 1 << 20);
    if (!text) return text.error();
    std::string next = *text;
    if (!next.empty() && next.back() != '\n') next += '\n';
    next += "\n[[log]]\norigin = " + toml_string(log.origin) + "\nkey = " + toml_string(log.verifier_key) + "\n";
    // The file as it would be must load before it replaces the one there.
    const auto probe = config_file.string() + ".check";
    auto written = storage::replace_file(probe, next, 0644);
    auto checked = written ? load_config(probe) : Result<Config>(written.error());
    std::error_code ec;
    std::filesystem::remove(probe, ec);
    if (!checked) return checked.error();
    return storage::replace_file(config_file, next, 0644);
}

// ---- The witness

Result<std::unique_ptr<Witness>> Witness::open(const Config& config) {
    auto key = crypto::read_private_key_file(config.key_file, 4096);
    if (!key) return key.error();
    auto text = key->view();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    auto signer = tlog::NoteSigner::from_private(text);
    if (!signer || signer->type() != tlog::KeyType::cosignature)
        return bad(config.key_file.string() + " is not a witness key (PRIVATE+KEY+… of type cosignature/v1)");
    std::unique_ptr<Witness> w(new Witness(config, std::move(*signer)));

    // No state file yet is a witness that has cosigned nothing; a state file that cannot be read
    // stops it, since starting from nothing would let a rolled-back log through.
    if (std::filesystem::exists(config.state_file)) {
        auto state = storage::read_small_file(config.state_file, 16 << 20);
        if (!state) return state.error();
        boost::system::error_code ec;
        auto v = boost::json::parse(*state, ec);
        const auto* logs = !ec && v.is_object() ? v.as_object().if_contains("logs") : nullptr;
        if (logs == nullptr || !logs->is_object())
            return make_error(ErrorKind::corruption, config.state_file.string() +
                                                         " is damaged; restore it from a backup (starting without it "
                                                         "would forget every checkpoint this witness cosigned)");
        for (const auto& [origin, seen] : logs->as_object()) {
            const auto* o = seen.if_object();
            const auto* size = o ? o->if_contains("size") : nullptr;
            const auto* root = o ? o->if_contains("root") : nullptr;
            auto hash =
                root && root->is_string() ? crypto::from_base64(root->as_string()) : Result<crypto::Bytes>(bad(""));
            if (size == nullptr || !(size->is_uint64() || (size->is_int64() && size->as_int64() >= 0)) || !hash ||
                hash->size() != 32)
                return make_error(ErrorKind::corruption, config.state_file.string() + " is damaged at log '" +
                                                             std::string(origin) + "'; restore it from a backup");
            Seen s;
            s.size = size->to_number<std::uint64_t>();
            std::copy(hash->begin(), hash->end(), s.root.begin());
            if (const auto* followed = o->if_contains("key")) {
                const auto* from = o->if_contains("followed_from");
                if (!followed->is_string() || (from != nullptr && !from->is_string()) ||
                    !check_log_key({std::string(origin), std::string(followed->as_string())}))
                    return make_error(ErrorKind::corruption, config.state_file.string() + " is damaged at log '" +
                                                                 std::string(origin) +
                                                                 "' (its key); restore it from a backup");
                s.key = std::string(followed->as_string());
                // Without it (a state written before it was kept): the configured key.
                for (const auto& log : config.logs)
                    if (log.origin == std::string(origin)) s.followed_from = log.verifier_key;
                if (from != nullptr) s.followed_from = std::string(from->as_string());
                // The operator named a key since (say, the new one, after the followed key leaked):
                // the configuration wins over what this witness learnt.
                for (const auto& log : config.logs)
                    if (log.origin == std::string(origin) && log.verifier_key != s.followed_from) {
                        std::cerr << "serambi witness: " << std::string(origin)
                                  << ": witness.toml names another key than the one this witness followed "
                                     "hand-overs from; using the configured key\n";
                        s.key.clear();
                        s.followed_from.clear();
                    }
            }
            w->seen_.emplace_back(std::string(origin), s);
        }
    }
    return w;
}

std::uint64_t Witness::cosigned_size(const std::string& origin) const {
    std::lock_guard lock(mutex_);
    for (const auto& [o, s] : seen_)
        if (o == origin) return s.size;
    return 0;
}

Status Witness::save_locked(const std::vector<std::pair<std::string, Seen>>& next) {
    boost::json::object logs;
    for (const auto& [origin, s] : next) {
        boost::json::object o{{"size", s.size}, {"root", crypto::to_base64(s.root)}};
        if (!s.key.empty()) {
            o["key"] = s.key;
            o["followed_from"] = s.followed_from;
        }
        logs[origin] = std::move(o);
    }
    const auto text = boost::json::serialize(boost::json::object{{"logs", std::move(logs)}}) + "\n";
    return storage::replace_file(config_.state_file, text, 0600);
}

void Witness::keep_evidence(const std::string& origin, std::uint64_t size, const tlog::Hash& root,
                            const std::string& why, std::string_view note) {
    const std::string key = origin + "\n" + std::to_string(size) + "\n" + crypto::to_base64(root);
    if (std::find(evidence_kept_.begin(), evidence_kept_.end(), key) != evidence_kept_.end()) return;
    evidence_kept_.push_back(key);
    std::cerr << "serambi witness: refused a checkpoint of " << origin << ": " << why << "\n";
    // Appended, not replaced: each is the log's own signature on a tree that contradicts another.
    std::error_code ec;
    if (std::filesystem::exists(config_.evidence_file, ec) &&
        std::filesystem::file_size(config_.evidence_file, ec) > kMaxEvidenceBytes)
        return;
    std::ofstream out(config_.evidence_file, std::ios::app | std::ios::binary);
    out << "-- " << now_text() << " " << origin << ": " << why << "\n" << note << "\n";
}

Witness::Answer Witness::add_checkpoint(std::string_view request) {
    auto answer = [](unsigned status, std::string body) {
        Answer a;
        a.status = status;
        a.body = std::move(body) + "\n";
        return a;
    };
    if (request.size() > kMaxRequestBytes) return answer(400, "the request is over 64 KiB");

    // "old N\n", proof lines, "\n", then the checkpoint.
    std::string_view rest = request;
    auto next_line = [&](std::string_view& line) {
        const auto nl = rest.find('\n');
        if (nl == std::string_view::npos) return false;
        line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
        return true;
    };
    std::string_view line;
    if (!next_line(line) || !line.starts_with("old ")) return answer(400, "the first line must be \"old N\"");
    const auto parsed_old = tlog::parse_decimal(line.substr(4));
    if (!parsed_old) return answer(400, "the old size is not canonical decimal of at most 64 bits");
    const std::uint64_t old_size = *parsed_old;
    std::vector<tlog::Hash> proof;
    while (true) {
        if (!next_line(line)) return answer(400, "the blank line before the checkpoint is missing");
        if (line.empty()) break;
        if (proof.size() == kMaxProofLines) return answer(400, "more than 63 consistency proof lines");
        auto h = crypto::from_base64(line);
        if (!h || h->size() != 32 || crypto::to_base64(*h) != line)
            return answer(400, "a consistency proof line is not a base64 SHA-256 hash");
        tlog::Hash hash;
        std::copy(h->begin(), h->end(), hash.begin());
        proof.push_back(hash);
    }
    const std::string_view note = rest;
    const std::string origin(note.substr(0, note.find('\n')));
    const LogKey* log = nullptr;
    for (const auto& l : config_.logs)
        if (l.origin == origin) log = &l;
    if (log == nullptr) return answer(404, "this witness does not follow a log with that origin");
    // Held to the end: the key a checkpoint is checked with is the one its state is kept under.
    std::lock_guard lock(mutex_);
    std::string log_key = log->verifier_key;
    for (const auto& [o, s] : seen_)
        if (o == origin && !s.key.empty()) log_key = s.key;
    auto body = tlog::verify_note(note, log_key);
    if (!body) {
        if (body.error().kind == ErrorKind::invalid_argument || body.error().kind == ErrorKind::too_large)
            return answer(400, "the checkpoint is not a signed note: " + body.error().message);
        return answer(403, "the checkpoint is not signed by the log's key");
    }
    auto checkpoint = tlog::parse_checkpoint_body(*body);
    if (!checkpoint) return answer(400, checkpoint.error().message);
    if (old_size > checkpoint->size) return answer(400, "the old size is larger than the checkpoint's");
    if (old_size == 0 && !proof.empty()) return answer(400, "a proof from size 0 must be empty");
    // A hand-over: the key it names must have signed it too, and is the log's from now on.
    const std::string new_key = storage::handed_over_key(*body);
    if (!new_key.empty()) {
        if (!check_log_key({origin, new_key}))
            return answer(400, "the checkpoint hands over to a key that is not the log's origin's signed-note key");
        if (!tlog::verify_note(note, new_key))
            return answer(403, "the checkpoint hands over to a key that did not sign it");
    }

    auto next = seen_;
    auto it = std::find_if(next.begin(), next.end(), [&](const auto& p) { return p.first == origin; });
    if (it == next.end()) {
        next.emplace_back(origin, Seen{});
        it = next.end() - 1;
    }
    Seen& seen = it->second;
    // An older checkpoint replayed, or a bad proof, may come from anyone (checkpoints are public):
    // only two signed checkpoints of one size with different roots are kept as evidence.
    if (old_size != seen.size) {
        Answer a = answer(409, std::to_string(seen.size));
        a.content_type = "text/x.tlog.size";
        return a;
    }
    if (old_size == checkpoint->size) {
        if (checkpoint->root != seen.root) {
            keep_evidence(origin, checkpoint->size, checkpoint->root,
                          "the same size " + std::to_string(old_size) +
                              " as the checkpoint cosigned, with another "
                              "root: the log signed two different trees (a fork)",
                          note);
            return answer(409, "the same size as the last checkpoint cosigned, with another root hash");
        }
    } else if (!tlog::verify_consistency(old_size, checkpoint->size, seen.root, checkpoint->root, proof)) {
        std::cerr << "serambi witness: " << origin << ": no valid consistency proof from " << old_size << " to "
                  << checkpoint->size << " (a fork, or a bad proof)\n";
        return answer(422, "the consistency proof does not verify");
    }
    seen.size = checkpoint->size;
    seen.root = checkpoint->root;
    if (!new_key.empty() && new_key != log_key) {
        if (seen.key.empty()) seen.followed_from = log->verifier_key;
        seen.key = new_key;
        std::cerr << "serambi witness: " << origin << " handed its key over at " << checkpoint->size
                  << " entries; following " << new_key << "\n";
    }
    if (auto s = save_locked(next); !s) return answer(500, "the witness cannot record its state: " + s.error().message);
    seen_ = std::move(next);
    Answer a;
    a.status = 200;
    a.body = signer_.cosign(*body, static_cast<std::uint64_t>(std::time(nullptr)));
    return a;
}

}  // namespace serambi::witness
