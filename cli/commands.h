// Internal: one function per subcommand. Each returns the process exit code and reports problems
// on stderr in words a user can act on.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "crypto/age.h"

namespace serambi::cli {

// Shared by the command files: an error on stderr as "serambi COMMAND: …", exit code 1.
int report(const std::string& command, const Error& error);
int report_reply(const std::string& command, const Reply& reply);
// An answer's body on standard output: verbatim when piped, cleaned (for_terminal) on a terminal.
void print_body(const std::string& body);
// One request with a JSON body (or none); prints the answer's body when its status is `expected`.
int simple_request(const std::string& command, const std::string& profile, const std::string& method,
                   const std::string& target, const std::string& body, int expected);
// A listing: the gateway's JSON array as a table on a terminal (columns of people's words, local
// times, sizes such as 1.2 MiB), the JSON itself when piped or with --json.
struct Column {
    int header;         // a Msg
    const char* field;  // the JSON member
    enum Kind { text, time, size, list, state } kind = text;
};
int list_request(const std::string& command, const std::string& profile, const std::string& target,
                 const std::vector<Column>& columns, bool json);
// One request whose answer is a JSON object: on a terminal, `summary` makes it one line for
// people from the answer's fields (each cleaned for the terminal; "" when absent, lists joined
// with ","); piped or with --json, the JSON itself.
using Fields = std::function<std::string(std::string_view)>;
int object_request(const std::string& command, const std::string& profile, const std::string& method,
                   const std::string& target, const std::string& body, int expected, bool json,
                   const std::function<std::string(const Fields&)>& summary);
// A connected client for the profile named by --profile or SERAMBI_PROFILE.
Result<std::unique_ptr<Client>> connect(const std::string& profile_flag, Profile* out = nullptr);
// A query value, percent-encoded.
std::string query_value(std::string_view text);
// A --since or --until as the gateway compares times (RFC 3339, UTC): a bare date is local
// midnight; a time is UTC as written.
Result<std::string> utc_bound(const std::string& text, const char* flag);
// An RFC 3339 UTC time in the local zone, to the minute, for people.
std::string local_time(std::string_view rfc3339);

struct InitOptions {
    std::string dir;
    std::string listen = "127.0.0.1:8443";
    std::string admin = "admin";
    std::string province = "Serambi";
    std::vector<std::string> public_names;
    int ca_days = 3650;         // the generated root CA
    bool intermediate = false;  // issue from an intermediate; the root key leaves the deployment
    std::string root_key_out;   // where the root key goes with --intermediate (outside the deployment)
    std::string import_ca;      // an existing CA: its certificate, then any above it up to the root
    std::string import_ca_key;  // and its private key
};
int run_init(const InitOptions& options);

struct ExportP12Options {
    std::string profile;
    std::string out;
    std::string password_file;  // first line; otherwise asked twice on the terminal
    bool legacy = false;        // 3DES and SHA-1, for systems older than Windows 10 1709
};
int run_export_p12(const ExportP12Options& options);
int run_serve(const std::string& config_file, bool accept_rollback);

// Run on the gateway host: the database, the blobs, the access log and the state file checked
// against each other; reads only. Exit 0 when they agree, 1 when anything needs an operator.
struct FsckOptions {
    std::string config_file;
    bool deep = false;  // authenticate every blob too
};
int run_fsck(const FsckOptions& options);

// Run on the gateway host, beside the running gateway: a consistent copy of the deployment in a
// new directory, every file listed with its SHA-256 in a manifest the gateway's signing key signs.
struct BackupOptions {
    std::string config;
    std::string out;
    bool include_secrets = false;         // the secret key files too, age-encrypted
    std::vector<std::string> recipients;  // --to age1…, required with include_secrets
};
int run_backup(const BackupOptions& options);

// Checks a backup file by file against its signed manifest and puts it in a new directory.
struct RestoreOptions {
    std::string from;
    std::string to;
    bool check_only = false;                      // check the backup, write nothing
    std::string ca;                               // the CA certificate to check the manifest with
    std::vector<std::string> identities;          // age identity files for the backup's secrets
    std::string state;                            // the old deployment's gateway.state, if it survived
    std::vector<std::string> latest_checkpoints;  // checkpoints auditors kept
};
int run_restore(const RestoreOptions& options);

// Run on the gateway host with the gateway stopped: a new master key; every data key wrapped
// again and the database re-keyed; the old key overwritten.
int run_rotate_master(const std::string& config_file);
int run_rotate_log(const std::string& config_file);

// Run on the gateway host, with the deployment's files: new TLS and/or signing certificates from
// the CA, put in place for the next SIGHUP.
struct GatewayCertOptions {
    std::string config;
    std::vector<std::string> public_names;  // added to the names the current TLS certificate carries
    std::string only;                       // "", "tls" or "signing"
};
int run_pki_renew_gateway(const GatewayCertOptions& options);

struct PrincipalAddOptions {
    std::string profile;
    std::string id;
    std::vector<std::string> roles;
    std::string name;
    std::string out;
    std::string age_recipient;  // the unit's own age1…; otherwise an identity is made into the profile
    std::string csr;            // the unit's certificate request (serambi enroll): no key is made or written
};
struct RevokeOptions {
    std::string profile;
    std::string principal;  // principal revoke
    std::string serial;     // cert revoke
    std::string reason = "unspecified";
    std::string output;   // pki crl
    bool remove = false;  // principal remove: revoke and mark removed
};
int run_revoke(const RevokeOptions& options);
int run_crl(const RevokeOptions& options);

struct RenewOptions {
    std::string profile;
    bool new_key = false;
};
int run_renew(const RenewOptions& options);

struct EnrollOptions {
    std::string id;
    std::string out;
};
int run_enroll(const EnrollOptions& options);
int run_principal_add(const PrincipalAddOptions& options);
// A new certificate for a live principal's new key (its request from `serambi enroll`).
struct ReissueOptions {
    std::string profile;
    std::string id;
    std::string csr;
    std::string out;
};
int run_principal_reissue(const ReissueOptions& options);
int run_principal_list(const std::string& profile, bool json);

struct DatasetCreateOptions {
    std::string profile;
    std::string id;
    std::string owner;
    std::string classification;
    std::string title;
    bool json = false;
};
int run_dataset_create(const DatasetCreateOptions& options);
int run_dataset_list(const std::string& profile, bool json);
// `serambi ls`: what the caller may read, across datasets, filtered.
struct LsOptions {
    std::string profile;
    std::string dataset, name, classification, producer, access, since, until;
    std::uint64_t limit = 100;  // the newest this many; --all for every one
    bool all = false;
    bool json = false;
};
int run_ls(const LsOptions& options);
// `serambi profile language [id|en|auto]`: shows or sets the language of the CLI's messages.
int run_profile_language(const std::string& profile, const std::string& code);
int run_package_list(const std::string& profile, const std::string& dataset, bool json);
int run_whoami(const std::string& profile, bool json);

struct PushOptions {
    std::string profile;
    std::string dataset;
    std::vector<std::string> files;  // each its own package, in order
    std::string file;                // the one being pushed
    bool json = false;               // the receipt as JSON even on a terminal
    std::string classification;
    std::string media_type;
    std::vector<std::string> recipients;  // --to: the readers named for a sangat-rahasia package
    bool accept_new_recipients = false;   // a named reader's recipient changed since it was pinned
    bool quiet = false;
    bool allow_duplicate = false;  // send even if the dataset's newest package is the same file
    bool no_proof = false;         // do not fetch and keep the push's tlog-proof
    std::string proof_output;      // where to keep it (default: FILE.INDEX.tlog-proof beside it)
    // A resumable upload (tus) instead of one request: always, or (by default) for files of at
    // least kResumableBytes.
    bool resumable = false;
};
inline constexpr std::uint64_t kResumableBytes = 8ULL << 20;
// The profile, its certificate's end, whether the gateway answers, and release requests waiting:
// a few lines on a terminal, JSON otherwise (or with --json). Exit 1 when the gateway does not
// answer.
int run_status(const std::string& profile, bool json);
int run_push(const PushOptions& options);
// One file of a push (options.file).
int push_file(const PushOptions& options);

struct PullOptions {
    std::string profile;
    std::string package_id;
    std::string output;  // empty: the package's filename, in the current folder
    bool force = false;  // with no output: replace a file of that name
    bool keep_manifest = true;
    bool keep_proof = true;  // OUTPUT.tlog-proof: the pull's entry in the access log
    bool quiet = false;
    std::string decrypt_to;  // an age package: also decrypt it here with the profile's age.key
};
int run_pull(const PullOptions& options);

// Offline evidence that a package's push is an entry of the signed access log: a checkpoint and
// the log's key, with either an auditor's export or a proof file (`audit proof inclusion -o`).
// Witnesses whose cosignatures a checkpoint must carry: their verifier keys (files or the key
// text itself) and how many of them must have cosigned (0: all of them).
struct WitnessPolicy {
    std::vector<std::string> keys;
    unsigned quorum = 0;
    bool requested() const { return !keys.empty() || quorum != 0; }
};
// "cosigned by K of the N witnesses given" when the note meets the policy; an error otherwise.
Result<std::string> check_witnesses(const std::string& note, const WitnessPolicy& policy);

struct LogEvidence {
    WitnessPolicy witnesses;
    std::string key;
    std::string checkpoint;  // with --export required; with --proof optional (the file holds one)
    std::string export_file;
    std::string proof;
    std::optional<std::uint64_t> index;  // the receipt's audit_index, when the caller has it
    bool requested() const {
        return !key.empty() || !checkpoint.empty() || !export_file.empty() || !proof.empty() || index ||
               witnesses.requested();
    }
};
// What a push entry must say: this package, into this dataset, with this payload digest.
struct PushFacts {
    std::string package_id;
    std::string dataset;
    std::string sha256_hex;
};
// Checks that the log signed by the checkpoint holds the allowed push the facts describe. On
// success, a sentence naming the entry and the tree; a mismatch is a corruption error. A proof
// against one checkpoint does not show that others were shown the same log: compare the
// checkpoint with an auditor's (`audit proof consistency`).
Result<std::string> check_push_logged(const LogEvidence& evidence, const PushFacts& push);

struct VerifyOptions {
    std::string file;
    std::string manifest;
    std::string signature;
    std::string ca;
    LogEvidence log;
};
int run_verify(const VerifyOptions& options);
// FILE is a C2SP tlog-proof (from push, pull or `serambi proof`): checked alone, offline.
int run_verify_proof(const VerifyOptions& options);

struct AuditOptions {
    WitnessPolicy witnesses;  // checkpoint, verify: cosignatures the checkpoint must carry
    std::string profile;
    std::string output;                     // export
    bool csv = false;                       // export as CSV for spreadsheets
    std::string checkpoint;                 // verify, proof consistency: a saved checkpoint
    std::string key;                        // verify, proofs: the verifier key
    std::string previous;                   // verify: an older saved checkpoint
    std::uint64_t index = 0;                // proof inclusion
    std::string proof_output;               // proof inclusion: save an offline proof file
    std::uint64_t count = 20;               // tail
    bool follow = false;                    // tail
    std::uint64_t from = 0;                 // export: the first entry (incremental export)
    std::vector<std::string> more_exports;  // verify: the exports after the first, in order
    // search: filters (empty: any) and the machine forms
    std::string principal, dataset, package, action, decision, classification, since, until;
    bool json = false;
};
int run_audit_key(const AuditOptions& options);
int run_audit_checkpoint(const AuditOptions& options);
int run_audit_export(const AuditOptions& options);
int run_audit_verify(const AuditOptions& options);
int run_audit_inclusion(const AuditOptions& options);
int run_audit_consistency(const AuditOptions& options);
int run_audit_tail(const AuditOptions& options);
int run_audit_search(const AuditOptions& options);
// What a package the log names is: its metadata, never its content (as the policy allows).
int run_audit_package(const AuditOptions& options);

// The C2SP tlog-proof of one of the caller's own access-log entries, named by "index=N" or
// "request=ID"; waits up to `patience` for the checkpoint that covers it.
Result<std::string> fetch_own_proof(Client& client, const std::string& which, std::chrono::seconds patience);
// Saves a fetched proof; a push or pull that succeeded stays successful if this fails (it warns).
void keep_proof(const std::string& proof, const std::filesystem::path& path, bool quiet,
                Existing existing = Existing::replace);
struct ProofOptions {
    std::string profile;
    std::optional<std::uint64_t> index;
    std::string request;
    unsigned witnessed = 0;
    std::string output;
};
int run_proof(const ProofOptions& options);

// A witness of one's own (`serambi witness`): init and serve.
struct WitnessInitOptions {
    std::string dir;
    std::string name;
    std::string listen = "127.0.0.1:7380";
    std::vector<std::string> log_keys;  // files with a log's verifier key
};
int run_witness_init(const WitnessInitOptions& options);
int run_witness_serve(const std::string& config);
int run_witness_add_log(const std::string& config, const std::string& log_key_file);

// The classification policy, MOU agreements and release approvals.
int run_policy_check(const std::string& file);
struct ExplainOptions {
    std::string profile;
    std::string principal;
    std::string action = "pull";
    std::string package;
    std::string dataset;
};
int run_policy_explain(const ExplainOptions& options);

struct AgreementOptions {
    std::string profile;
    std::string id;  // show, revoke
    std::string partner;
    std::vector<std::string> datasets;
    std::string max_classification;
    std::string purpose;
    std::string valid_from;
    std::string valid_until;
    std::string document;  // the signed MOU: its name and SHA-256 are recorded
    std::string reason;    // revoke
    bool json = false;     // list: JSON even on a terminal
};
int run_agreement_add(const AgreementOptions& options);
int run_agreement_list(const AgreementOptions& options);
int run_agreement_show(const AgreementOptions& options);
int run_agreement_revoke(const AgreementOptions& options);

struct ApprovalOptions {
    std::string profile;
    std::string package;
    std::string partner;
    std::string expires;
    std::optional<std::uint32_t> max_downloads;
    std::string id;     // withdraw
    bool json = false;  // list: JSON even on a terminal
};
int run_approve(const ApprovalOptions& options);
int run_approvals_list(const ApprovalOptions& options);
int run_approval_withdraw(const ApprovalOptions& options);

// Webhooks: HTTPS receivers told of events (packages arriving, releases asked for and decided,
// approvals and certificates about to end).
struct HookOptions {
    std::string profile;
    std::string url;
    std::vector<std::string> events;
    bool everyone = false;
    std::string id;    // remove, confirm, deliveries
    std::string code;  // confirm
    std::size_t limit = 50;
    bool json = false;
};
int run_hook_add(const HookOptions& options);
int run_hook_list(const HookOptions& options);
int run_hook_remove(const HookOptions& options);
int run_hook_confirm(const HookOptions& options);
int run_hook_deliveries(const HookOptions& options);

// Release requests: a partner asks for a package that waits for approvals; custodians answer.
struct RequestOptions {
    std::string profile;
    std::string package;
    std::string purpose;
    std::string state;  // list: open, released or refused (default: all)
    std::string id;     // refuse
    std::string reason;
    bool json = false;  // list: JSON even on a terminal
};
int run_request(const RequestOptions& options);
int run_requests_list(const RequestOptions& options);
int run_request_refuse(const RequestOptions& options);

// `serambi age`: the age v1 format (X25519), interoperable with the age tool.
struct AgeOptions {
    std::string output;                   // "-" or empty: standard output
    std::string input;                    // "-" or empty: standard input
    std::vector<std::string> recipients;  // encrypt: age1…
    std::vector<std::string> identities;  // decrypt, recipient: identity files
};
int run_age_keygen(const AgeOptions& options);
// Reads age identity files (one identity per line, '#' comments); errors name the file and line.
Result<std::vector<crypto::age::Identity>> load_age_identities(const std::vector<std::string>& paths);
// Writes a new age identity file (0600, never overwriting) and returns its recipient.
Result<std::string> create_age_identity_file(const std::filesystem::path& path);
struct RecipientOptions {
    std::string profile;
    std::string principal;  // show: whose (default: the profile's own)
    std::string recipient;  // set: the new age1…
};
int run_recipient_show(const RecipientOptions& options);
int run_recipient_set(const RecipientOptions& options);
int run_age_recipient(const AgeOptions& options);
int run_age_encrypt(const AgeOptions& options);
// The same as functions: output "-" or empty is standard output; a file is put in place only
// when complete (for decryption: only once every chunk authenticated).
Status age_encrypt_file(const std::vector<std::string>& recipients, const std::string& input,
                        const std::string& output);
Status age_decrypt_file(const std::vector<std::string>& identity_files, const std::string& input,
                        const std::string& output);
int run_age_decrypt(const AgeOptions& options);

}  // namespace serambi::cli
