// serambi: one binary for the gateway and for every user of it, in the manner of git or vault.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "cli/help.h"
#include "crypto/crypto.h"
#include "serambi_version.h"
#include "storage/store.h"

namespace {

// Every serambi process holds keys (the gateway its master, CA, TLS, signing and log keys; the CLI
// a profile's client and age keys): none may leave in a core file, and no other process of the
// same user may read its memory through ptrace or /proc.
void keep_keys_out_of_core_dumps() {
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace serambi::cli;
    keep_keys_out_of_core_dumps();
    // A connection reset by a weak link must be an error the transfer retries, not a signal
    // that ends the process mid-transfer.
    std::signal(SIGPIPE, SIG_IGN);
    if (auto s = serambi::crypto::initialise(); !s) {
        std::cerr << "serambi: " << s.error().message << "\n";
        return 1;
    }
    CLI::App app{"Serambi: secure exchange of official data packages (persandian gateway)"};
    app.set_version_flag("--version", [] {
        return std::string("serambi ") + SERAMBI_VERSION + " (commit " + SERAMBI_COMMIT + ")\n" +
               serambi::crypto::library_versions() + ", " + serambi::storage::database_library_version() +
               "\ndatabase schema version " + std::to_string(serambi::storage::database_schema_version());
    });
    app.require_subcommand(1);
    std::string profile;
    const char* profile_help = "client profile directory (default: $SERAMBI_PROFILE)";
    int code = 0;

    InitOptions init;
    auto* init_cmd = app.add_subcommand("init", "create a new deployment: keys, CA, database, policy, admin profile");
    init_cmd->add_option("dir", init.dir, "deployment directory (must not hold a deployment)")->required();
    init_cmd->add_option("--listen", init.listen, "HOST:PORT the gateway listens on")->capture_default_str();
    init_cmd->add_option("--admin", init.admin, "id of the first admin principal")->capture_default_str();
    init_cmd->add_option("--province", init.province, "name put in the CA certificate")->capture_default_str();
    init_cmd->add_option("--public-name", init.public_names, "extra DNS name or IP for the gateway certificate");
    init_cmd->add_option("--ca-days", init.ca_days, "validity of the generated CA, in days")
        ->capture_default_str()
        ->check(CLI::Range(30, 36500));
    init_cmd->add_flag("--intermediate", init.intermediate,
                       "issue from an intermediate CA and move the root CA's key out (needs --root-key-out)");
    init_cmd->add_option("--root-key-out", init.root_key_out,
                         "new file, outside DIR, for the root CA's key; take it offline");
    init_cmd->add_option("--import-ca", init.import_ca,
                         "adopt an existing CA: PEM file with its certificate, then each one above it up to the root");
    init_cmd->add_option("--import-ca-key", init.import_ca_key, "the imported CA's private key (PEM, unprotected)");
    init_cmd->callback([&] { code = run_init(init); });

    // A packaged install links the deployment's serambi.toml here (the systemd unit gives no --config).
    std::string config_file = "/etc/serambi/serambi.toml";
    bool accept_rollback = false;
    auto* serve_cmd = app.add_subcommand("serve", "run the gateway");
    serve_cmd->add_option("--config", config_file, "path to serambi.toml")->capture_default_str();
    serve_cmd->add_flag("--accept-rollback", accept_rollback,
                        "start although the database is behind what this gateway already published "
                        "(an older copy was restored); recorded in the access log");
    serve_cmd->callback([&] { code = run_serve(config_file, accept_rollback); });

    FsckOptions fsck;
    auto* fsck_cmd = app.add_subcommand(
        "fsck", "check the database, the blobs, the access log and the state file against each other");
    fsck_cmd->add_option("--config", fsck.config_file, "path to serambi.toml")->required();
    fsck_cmd->add_flag(
        "--deep", fsck.deep,
        "also read and authenticate every payload, in blob files and in the database (slow: reads all data)");
    fsck_cmd->callback([&] { code = run_fsck(fsck); });

    BackupOptions backup;
    auto* backup_cmd = app.add_subcommand(
        "backup",
        "copy a running gateway's database, blobs, configuration and certificates into a new directory, "
        "with a signed manifest");
    backup_cmd->add_option("--config", backup.config, "path to serambi.toml")->required();
    backup_cmd->add_option("--out", backup.out, "the backup's directory (new, or empty)")->required();
    backup_cmd->add_flag("--include-secrets", backup.include_secrets,
                         "also the secret keys (master.key, log.key, pki/*.key), age-encrypted to --to");
    backup_cmd->add_option("--to", backup.recipients, "age recipient (age1…) for the secret keys (repeatable)");
    backup_cmd->callback([&] { code = run_backup(backup); });

    auto* keys_cmd = app.add_subcommand("keys", "the deployment's own keys (on the gateway host)");
    keys_cmd->require_subcommand(1);
    std::string rotate_config;
    auto* rotate_cmd = keys_cmd->add_subcommand(
        "rotate-master",
        "with the gateway stopped: a new master key, every package's data key wrapped again and the "
        "database re-keyed; payloads are not re-encrypted, the old key is overwritten");
    rotate_cmd->add_option("--config", rotate_config, "path to serambi.toml")->required();
    rotate_cmd->callback([&] { code = run_rotate_master(rotate_config); });
    auto* rotate_log_cmd = keys_cmd->add_subcommand(
        "rotate-log",
        "with the gateway stopped: a new access-log key, handed over in the log by a checkpoint that the "
        "old key and the new one sign; the old key is overwritten");
    rotate_log_cmd->add_option("--config", rotate_config, "path to serambi.toml")->required();
    rotate_log_cmd->callback([&] { code = run_rotate_log(rotate_config); });

    RestoreOptions restore;
    auto* restore_cmd = app.add_subcommand(
        "restore",
        "check a backup against its signed manifest and put it in a new directory; says when it is a "
        "rollback");
    restore_cmd->add_option("--from", restore.from, "the backup's directory")->required();
    restore_cmd->add_option("--to", restore.to, "the new deployment directory (must not exist, or be empty)");
    restore_cmd->add_flag("--check", restore.check_only, "only check the backup; write nothing");
    restore_cmd->add_option("--ca", restore.ca,
                            "CA certificate to check the manifest's signature with (default: the backup's own)");
    restore_cmd->add_option("--identity", restore.identities,
                            "age identity file for the backup's encrypted secret keys (repeatable)");
    restore_cmd->add_option("--state", restore.state,
                            "the old deployment's gateway.state, if it survived: a newer checkpoint in it is a "
                            "rollback");
    restore_cmd->add_option("--latest-checkpoint", restore.latest_checkpoints,
                            "a checkpoint an auditor kept (repeatable): a newer one is a rollback");
    restore_cmd->callback([&] { code = run_restore(restore); });

    auto* principal_cmd = app.add_subcommand("principal", "manage principals (admin)");
    principal_cmd->require_subcommand(1);
    PrincipalAddOptions padd;
    auto* padd_cmd = principal_cmd->add_subcommand("add", "register a principal and write its profile");
    padd_cmd->add_option("id", padd.id, "principal id, e.g. dinkes-malut")->required();
    padd_cmd->add_option("--role", padd.roles, "producer, custodian, partner, auditor or admin (repeatable)")
        ->required()
        ->delimiter(',');
    padd_cmd->add_option("--name", padd.name, "display name")->required();
    padd_cmd->add_option("--out", padd.out, "directory for the new principal's profile")->required();
    padd_cmd->add_option("--age-recipient", padd.age_recipient,
                         "the unit's own age1… (otherwise an age.key is made into the profile)");
    padd_cmd
        ->add_option("--csr", padd.csr,
                     "the unit's certificate request from `serambi enroll`: no key is made or written")
        ->check(CLI::ExistingFile);
    padd_cmd->add_option("--profile", padd.profile, profile_help);
    padd_cmd->callback([&] { code = run_principal_add(padd); });
    RevokeOptions revoke;
    auto* prevoke_cmd =
        principal_cmd->add_subcommand("revoke", "revoke a principal's certificate: refused from the next handshake");
    prevoke_cmd->add_option("id", revoke.principal, "principal id")->required();
    prevoke_cmd
        ->add_option("--reason", revoke.reason,
                     "RFC 5280 reason: keyCompromise, affiliationChanged, superseded, cessationOfOperation, …")
        ->capture_default_str();
    prevoke_cmd->add_option("--profile", revoke.profile, profile_help);
    prevoke_cmd->callback([&] { code = run_revoke(revoke); });
    ReissueOptions reissue;
    auto* preissue_cmd = principal_cmd->add_subcommand(
        "reissue",
        "give a principal a new certificate for its new key (a lost or stolen one): same id, datasets, agreements "
        "and history; the certificate it had is revoked");
    preissue_cmd->add_option("id", reissue.id, "principal id")->required();
    preissue_cmd->add_option("--csr", reissue.csr, "the unit's new certificate request (`serambi enroll --id ID`)")
        ->required()
        ->check(CLI::ExistingFile);
    preissue_cmd->add_option("--out", reissue.out, "where to write the profile to hand back (no key)")->required();
    preissue_cmd->add_option("--profile", reissue.profile, profile_help);
    preissue_cmd->callback([&] { code = run_principal_reissue(reissue); });
    RevokeOptions removal;
    removal.reason = "cessationOfOperation";
    removal.remove = true;
    auto* premove_cmd = principal_cmd->add_subcommand(
        "remove", "remove a principal for good: its certificate is revoked, its id kept in the log and never reused");
    premove_cmd->add_option("id", removal.principal, "principal id")->required();
    premove_cmd->add_option("--reason", removal.reason, "RFC 5280 reason for the revocation")->capture_default_str();
    premove_cmd->add_option("--profile", removal.profile, profile_help);
    premove_cmd->callback([&] { code = run_revoke(removal); });
    auto* cert_cmd = app.add_subcommand("cert", "certificates the gateway CA issued (admin)");
    cert_cmd->require_subcommand(1);
    auto* crevoke_cmd = cert_cmd->add_subcommand("revoke", "revoke a certificate by its serial");
    crevoke_cmd->add_option("serial", revoke.serial, "serial, uppercase hex (as principal list shows it)")->required();
    crevoke_cmd->add_option("--reason", revoke.reason, "RFC 5280 reason")->capture_default_str();
    crevoke_cmd->add_option("--profile", revoke.profile, profile_help);
    crevoke_cmd->callback([&] { code = run_revoke(revoke); });
    auto* pki_cmd = app.add_subcommand("pki", "the gateway's certificate authority");
    pki_cmd->require_subcommand(1);
    GatewayCertOptions gateway_certs;
    auto* renew_gw_cmd = pki_cmd->add_subcommand(
        "renew-gateway", "on the gateway host: new TLS and signing certificates from the CA, in place for SIGHUP");
    renew_gw_cmd->add_option("--config", gateway_certs.config, "the deployment's serambi.toml")->required();
    renew_gw_cmd->add_option("--public-name", gateway_certs.public_names,
                             "a DNS name or IP to add to the TLS certificate's names (repeatable)");
    renew_gw_cmd->add_option("--only", gateway_certs.only, "renew only tls or only signing");
    renew_gw_cmd->callback([&] { code = run_pki_renew_gateway(gateway_certs); });
    auto* pcrl_cmd = pki_cmd->add_subcommand("crl", "fetch the CA's current CRL (DER)");
    pcrl_cmd->add_option("-o,--output", revoke.output, "file to write (default: standard output)");
    pcrl_cmd->add_option("--profile", revoke.profile, profile_help);
    pcrl_cmd->callback([&] { code = run_crl(revoke); });
    auto* plist_cmd = principal_cmd->add_subcommand("list", "list principals");
    bool list_json = false;  // every listing: JSON even on a terminal
    const char* list_json_help = "JSON, as the API gives it, even on a terminal";
    plist_cmd->add_flag("--json", list_json, list_json_help);
    plist_cmd->add_option("--profile", profile, profile_help);
    plist_cmd->callback([&] { code = run_principal_list(profile, list_json); });

    RenewOptions renew;
    auto* renew_cmd =
        app.add_subcommand("renew", "get a new certificate for your profile before it expires; the old one is revoked");
    renew_cmd->add_flag("--new-key", renew.new_key, "with a new key as well (default: the same key)");
    renew_cmd->add_option("--profile", renew.profile, profile_help);
    renew_cmd->callback([&] { code = run_renew(renew); });

    EnrollOptions enroll;
    auto* enroll_cmd =
        app.add_subcommand("enroll", "on a unit's machine: make its key, age identity and certificate request");
    enroll_cmd->add_option("--id", enroll.id, "the principal id the admin will register")->required();
    enroll_cmd->add_option("--out", enroll.out, "directory for the keys and the request (becomes the profile)")
        ->required();
    enroll_cmd->callback([&] { code = run_enroll(enroll); });

    auto* dataset_cmd = app.add_subcommand("dataset", "manage datasets");
    dataset_cmd->require_subcommand(1);
    DatasetCreateOptions dcreate;
    auto* dcreate_cmd = dataset_cmd->add_subcommand("create", "create a dataset (admin or custodian)");
    dcreate_cmd->add_option("id", dcreate.id, "OWNER/NAME")->required();
    dcreate_cmd->add_option("--owner", dcreate.owner, "owning principal (defaults to OWNER)");
    dcreate_cmd->add_option("--class", dcreate.classification, "biasa, terbatas, rahasia or sangat-rahasia")
        ->required();
    dcreate_cmd->add_option("--title", dcreate.title, "title")->required();
    dcreate_cmd->add_option("--profile", dcreate.profile, profile_help);
    dcreate_cmd->add_flag("--json", dcreate.json, "the JSON answer even on a terminal");
    dcreate_cmd->callback([&] { code = run_dataset_create(dcreate); });
    auto* dlist_cmd = dataset_cmd->add_subcommand("list", "list the datasets you may read");
    dlist_cmd->add_option("--profile", profile, profile_help);
    dlist_cmd->add_flag("--json", list_json, list_json_help);
    dlist_cmd->callback([&] { code = run_dataset_list(profile, list_json); });
    std::string dataset_id;
    auto* dpk_cmd = dataset_cmd->add_subcommand("packages", "list the packages of a dataset");
    dpk_cmd->add_option("id", dataset_id, "OWNER/NAME")->required();
    dpk_cmd->add_option("--profile", profile, profile_help);
    dpk_cmd->add_flag("--json", list_json, list_json_help);
    dpk_cmd->callback([&] { code = run_package_list(profile, dataset_id, list_json); });

    LsOptions ls;
    auto* ls_cmd = app.add_subcommand(
        "ls",
        "list the packages you may pull, or ask to have released, across datasets, newest first (a table on a "
        "terminal, else JSON Lines)");
    ls_cmd->add_option("--dataset", ls.dataset, "only this dataset (OWNER/NAME)");
    ls_cmd->add_option("--name", ls.name, "only file names containing this (letters in any case)");
    ls_cmd->add_option("--class", ls.classification,
                       "only this classification: biasa, terbatas, rahasia, sangat-rahasia");
    ls_cmd->add_option("--producer", ls.producer, "only packages this principal pushed");
    ls_cmd
        ->add_option("--access", ls.access,
                     "released: those you may pull now; request: those to ask for (serambi request)")
        ->check(CLI::IsMember({"released", "request"}));
    ls_cmd->add_option("--since", ls.since, "from this local date (2026-11-01) or UTC time on");
    ls_cmd->add_option("--until", ls.until, "before this local date or UTC time");
    auto* ls_limit = ls_cmd->add_option("--limit", ls.limit, "the newest this many")
                         ->capture_default_str()
                         ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000}));
    ls_cmd->add_flag("--all", ls.all, "every package that matches")->excludes(ls_limit);
    ls_cmd->add_flag("--json", ls.json, "JSON Lines (the API's package summaries) even on a terminal");
    ls_cmd->add_option("--profile", ls.profile, profile_help);
    ls_cmd->callback([&] { code = run_ls(ls); });

    auto* profile_cmd = app.add_subcommand("profile", "your profile: the key and certificate the CLI uses");
    profile_cmd->require_subcommand(1);
    std::string language_code;
    auto* plang_cmd = profile_cmd->add_subcommand(
        "language", "show or set the language of messages: id (Bahasa Indonesia), en (English), auto (the locale)");
    plang_cmd->add_option("language", language_code, "id, en or auto")->check(CLI::IsMember({"id", "en", "auto"}));
    plang_cmd->add_option("--profile", profile, profile_help);
    plang_cmd->callback([&] { code = run_profile_language(profile, language_code); });
    ExportP12Options p12;
    auto* p12_cmd = profile_cmd->add_subcommand(
        "export-p12", "write the profile as a password-protected PKCS#12 file, to import into a browser");
    p12_cmd->add_option("--out", p12.out, "the .p12 file to write (never over an existing one)")->required();
    p12_cmd->add_option("--password-file", p12.password_file, "read the password from FILE's first line (mode 0600)");
    p12_cmd->add_flag("--legacy", p12.legacy, "3DES and SHA-1, for Windows older than 10 (1709)");
    p12_cmd->add_option("--profile", p12.profile, profile_help);
    p12_cmd->callback([&] { code = run_export_p12(p12); });

    bool status_json = false;
    auto* status_cmd = app.add_subcommand(
        "status", "your profile, its certificate's end date, the gateway, and release requests waiting");
    status_cmd->add_flag("--json", status_json, "JSON even on a terminal");
    status_cmd->add_option("--profile", profile, profile_help);
    status_cmd->callback([&] { code = run_status(profile, status_json); });
    auto* whoami_cmd = app.add_subcommand("whoami", "show the principal of a profile");
    whoami_cmd->add_option("--profile", profile, profile_help);
    whoami_cmd->add_flag("--json", list_json, "the JSON answer even on a terminal");
    whoami_cmd->callback([&] { code = run_whoami(profile, list_json); });

    PushOptions push;
    auto* push_cmd = app.add_subcommand(
        "push", "upload files, each a package; prints a summary on a terminal, else the receipts (JSON Lines)");
    push_cmd->add_option("dataset", push.dataset, "OWNER/NAME")->required();
    push_cmd->add_option("file", push.files, "files to upload, one package each")->required()->check(CLI::ExistingFile);
    push_cmd->add_flag("--json", push.json, "print each receipt as JSON (one line each), even on a terminal");
    push_cmd->add_option("--class", push.classification, "classify above the dataset's level");
    push_cmd->add_option("--type", push.media_type, "media type (guessed from the extension otherwise)");
    push_cmd
        ->add_option("--to", push.recipients,
                     "sangat-rahasia: the principals who may read it (comma-separated); the file is age-encrypted here "
                     "to them and to you")
        ->delimiter(',');
    push_cmd->add_flag("--accept-new-recipients", push.accept_new_recipients,
                       "--to: accept recipients that changed since this profile pinned them");
    push_cmd->add_flag("--quiet,-q", push.quiet, "no progress display");
    push_cmd->add_flag("--resumable", push.resumable,
                       "send as a resumable upload whatever the size (the default from 8 MiB): a cut link "
                       "resumes, and so does running the same command again");
    push_cmd->add_flag("--allow-duplicate", push.allow_duplicate,
                       "send even if the dataset's newest package is the same file");
    push_cmd->add_option("--proof", push.proof_output,
                         "where to keep the push's access-log proof (default: FILE.INDEX.tlog-proof, beside the file)");
    push_cmd->add_flag("--no-proof", push.no_proof, "do not fetch the push's access-log proof");
    push_cmd->add_option("--profile", push.profile, profile_help);
    push_cmd->callback([&] { code = run_push(push); });

    PullOptions pull;
    auto* pull_cmd = app.add_subcommand("pull", "download a package and verify its digest and signed manifest");
    pull_cmd->add_option("package", pull.package_id, "package id")->required();
    pull_cmd->add_option("-o,--output", pull.output,
                         "where to write the payload (default: the package's filename, in the current folder)");
    pull_cmd->add_flag("--force", pull.force, "without -o: replace a file of the package's name");
    bool no_manifest = false;
    pull_cmd->add_flag("--no-manifest", no_manifest, "do not keep FILE.manifest.json and FILE.manifest.p7s");
    bool no_proof = false;
    pull_cmd->add_flag("--no-proof", no_proof, "do not keep FILE.tlog-proof, the pull's access-log proof");
    pull_cmd->add_option("--decrypt-to", pull.decrypt_to,
                         "an age package (sangat-rahasia): also decrypt it to this file with the profile's age.key");
    pull_cmd->add_flag("--quiet,-q", pull.quiet, "no progress display");
    pull_cmd->add_option("--profile", pull.profile, profile_help);
    pull_cmd->callback([&] {
        pull.keep_manifest = !no_manifest;
        pull.keep_proof = !no_proof;
        code = run_pull(pull);
    });

    VerifyOptions verify;
    auto* verify_cmd = app.add_subcommand(
        "verify",
        "verify a pulled file offline against its signed manifest, or a .tlog-proof file against the log's key");
    verify_cmd->add_option("file", verify.file, "the payload, or a .tlog-proof file (then only --log-key is needed)")
        ->required()
        ->check(CLI::ExistingFile);
    verify_cmd->add_option("--manifest", verify.manifest, "manifest JSON (for a payload)")->check(CLI::ExistingFile);
    verify_cmd->add_option("--signature", verify.signature, "detached DER CMS signature (.p7s) (for a payload)")
        ->check(CLI::ExistingFile);
    verify_cmd->add_option("--ca", verify.ca, "the gateway CA certificate (for a payload)")->check(CLI::ExistingFile);
    verify_cmd
        ->add_option("--log-key", verify.log.key, "the access log's verifier key: also check that the push is logged")
        ->check(CLI::ExistingFile);
    verify_cmd->add_option("--checkpoint", verify.log.checkpoint, "a signed log checkpoint the push must be in")
        ->check(CLI::ExistingFile);
    auto* verify_export =
        verify_cmd->add_option("--export", verify.log.export_file, "an auditor's export matching the checkpoint")
            ->check(CLI::ExistingFile);
    verify_cmd
        ->add_option("--proof", verify.log.proof,
                     "a proof of the push: the .tlog-proof push kept, or a file from `audit proof inclusion -o`")
        ->check(CLI::ExistingFile)
        ->excludes(verify_export);
    verify_cmd->add_option("--audit-index", verify.log.index, "the receipt's audit_index: the push must be that entry");
    verify_cmd->add_option("--witness", verify.log.witnesses.keys,
                           "a witness's verifier key (a file or the key itself) whose cosignature the checkpoint "
                           "must carry; repeatable");
    verify_cmd->add_option("--quorum", verify.log.witnesses.quorum,
                           "how many of the --witness keys must have cosigned (default: all)");
    verify_cmd->callback([&] { code = run_verify(verify); });

    auto* policy_cmd = app.add_subcommand("policy", "the classification policy");
    policy_cmd->require_subcommand(1);
    std::string policy_file;
    auto* pcheck_cmd =
        policy_cmd->add_subcommand("check", "validate a policy file before the gateway uses it (offline)");
    pcheck_cmd->add_option("file", policy_file, "policy TOML")->required()->check(CLI::ExistingFile);
    pcheck_cmd->callback([&] { code = run_policy_check(policy_file); });
    ExplainOptions explain;
    auto* pexplain_cmd =
        policy_cmd->add_subcommand("explain", "what the policy decides for a principal, and why (custodian)");
    pexplain_cmd->add_option("--principal", explain.principal, "principal id")->required();
    pexplain_cmd->add_option("--action", explain.action, "pull or push")->capture_default_str();
    pexplain_cmd->add_option("--package", explain.package, "package id");
    pexplain_cmd->add_option("--dataset", explain.dataset, "OWNER/NAME");
    pexplain_cmd->add_option("--profile", explain.profile, profile_help);
    pexplain_cmd->callback([&] { code = run_policy_explain(explain); });

    AgreementOptions agreement;
    auto* agreement_cmd = app.add_subcommand("agreement", "MOU agreements with partners (custodian)");
    agreement_cmd->require_subcommand(1);
    auto* agadd_cmd = agreement_cmd->add_subcommand(
        "add", "register an agreement; says its id (the JSON answer when piped or with --json)");
    agadd_cmd->add_option("--partner", agreement.partner, "the partner's principal id")->required();
    agadd_cmd->add_option("--datasets", agreement.datasets, "PATTERN[,PATTERN…]: OWNER/NAME, OWNER/* or *")
        ->required()
        ->delimiter(',');
    agadd_cmd->add_option("--max-class", agreement.max_classification, "highest classification covered")->required();
    agadd_cmd->add_option("--purpose", agreement.purpose, "what the partner uses the data for")->required();
    agadd_cmd->add_option("--valid-from", agreement.valid_from, "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)")->required();
    agadd_cmd->add_option("--valid-until", agreement.valid_until, "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), exclusive")
        ->required();
    agadd_cmd->add_option("--document", agreement.document, "the signed MOU (its name and SHA-256 are recorded)")
        ->check(CLI::ExistingFile);
    agadd_cmd->add_option("--profile", agreement.profile, profile_help);
    agadd_cmd->add_flag("--json", agreement.json, "the JSON answer even on a terminal");
    agadd_cmd->callback([&] { code = run_agreement_add(agreement); });
    auto* aglist_cmd = agreement_cmd->add_subcommand("list", "list agreements (a partner sees its own)");
    aglist_cmd->add_flag("--json", agreement.json, list_json_help);
    aglist_cmd->add_option("--profile", agreement.profile, profile_help);
    aglist_cmd->callback([&] { code = run_agreement_list(agreement); });
    auto* agshow_cmd = agreement_cmd->add_subcommand("show", "show one agreement");
    agshow_cmd->add_option("id", agreement.id, "agreement id (mou-…)")->required();
    agshow_cmd->add_option("--profile", agreement.profile, profile_help);
    agshow_cmd->callback([&] { code = run_agreement_show(agreement); });
    auto* agrevoke_cmd =
        agreement_cmd->add_subcommand("revoke", "revoke an agreement: access stops at the next request");
    agrevoke_cmd->add_option("id", agreement.id, "agreement id (mou-…)")->required();
    agrevoke_cmd->add_option("--reason", agreement.reason, "why, for the record")->required();
    agrevoke_cmd->add_option("--profile", agreement.profile, profile_help);
    agrevoke_cmd->add_flag("--json", agreement.json, "the JSON answer even on a terminal");
    agrevoke_cmd->callback([&] { code = run_agreement_revoke(agreement); });

    ApprovalOptions approval;
    auto* approve_cmd =
        app.add_subcommand("approve", "release a rahasia or sangat-rahasia package to a partner (custodian)");
    approve_cmd->add_option("package", approval.package, "package id")->required();
    approve_cmd->add_option("--for", approval.partner, "the partner (or named recipient) it is released to")
        ->required();
    approve_cmd->add_option("--expires", approval.expires,
                            "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default: the policy's approval_days)");
    approve_cmd->add_option("--max-downloads", approval.max_downloads,
                            "how many downloads it allows (default: no cap)");
    approve_cmd->add_option("--profile", approval.profile, profile_help);
    approve_cmd->add_flag("--json", approval.json, "the JSON answer even on a terminal");
    approve_cmd->callback([&] { code = run_approve(approval); });
    RequestOptions request;
    auto* request_cmd =
        app.add_subcommand("request", "ask custodians to release a package your agreement covers (partner)");
    request_cmd->add_option("package", request.package, "package id")->required();
    request_cmd->add_option("--purpose", request.purpose, "what the data is for; custodians decide on it")->required();
    request_cmd->add_option("--profile", request.profile, profile_help);
    request_cmd->add_flag("--json", request.json, "the JSON answer even on a terminal");
    request_cmd->callback([&] { code = run_request(request); });
    auto* requests_cmd = app.add_subcommand("requests", "release requests (custodians answer them)");
    requests_cmd->require_subcommand(1);
    auto* rqlist_cmd = requests_cmd->add_subcommand("list", "list release requests (a partner sees its own)");
    rqlist_cmd->add_option("--state", request.state, "open, released or refused (default: all)");
    rqlist_cmd->add_flag("--json", request.json, list_json_help);
    rqlist_cmd->add_option("--profile", request.profile, profile_help);
    rqlist_cmd->callback([&] { code = run_requests_list(request); });
    auto* rqrefuse_cmd = requests_cmd->add_subcommand("refuse", "refuse a release request, saying why (custodian)");
    rqrefuse_cmd->add_option("id", request.id, "request id (req-…)")->required();
    rqrefuse_cmd->add_option("--reason", request.reason, "why; the partner and the auditors read it")->required();
    rqrefuse_cmd->add_option("--profile", request.profile, profile_help);
    rqrefuse_cmd->add_flag("--json", request.json, "the JSON answer even on a terminal");
    rqrefuse_cmd->callback([&] { code = run_request_refuse(request); });
    auto* approvals_cmd = app.add_subcommand("approvals", "release approvals");
    approvals_cmd->require_subcommand(1);
    auto* aplist_cmd = approvals_cmd->add_subcommand("list", "list approvals (a partner sees its own)");
    aplist_cmd->add_option("--package", approval.package, "only this package's");
    aplist_cmd->add_option("--partner", approval.partner, "only those for this partner");
    aplist_cmd->add_flag("--json", approval.json, list_json_help);
    aplist_cmd->add_option("--profile", approval.profile, profile_help);
    aplist_cmd->callback([&] { code = run_approvals_list(approval); });
    auto* apwithdraw_cmd =
        approvals_cmd->add_subcommand("withdraw", "withdraw an approval: downloads stop at the next request");
    apwithdraw_cmd->add_option("id", approval.id, "approval id (apv-…)")->required();
    apwithdraw_cmd->add_option("--profile", approval.profile, profile_help);
    apwithdraw_cmd->add_flag("--json", approval.json, "the JSON answer even on a terminal");
    apwithdraw_cmd->callback([&] { code = run_approval_withdraw(approval); });

    HookOptions hook;
    auto* hook_cmd = app.add_subcommand(
        "hook", "notices: your HTTPS receiver or email is told when packages, requests or approvals arrive");
    hook_cmd->require_subcommand(1);
    const std::vector<std::string> event_names{"package.arrived", "release.requested", "release.approved",
                                               "release.refused", "approval.expiring", "certificate.expiring"};
    auto* hadd_cmd = hook_cmd->add_subcommand(
        "add", "register an HTTPS receiver (its signing secret is shown once) or an email address");
    hadd_cmd->add_option("url", hook.url, "https://HOST[:PORT]/PATH of the receiver, or mailto:ADDRESS")->required();
    hadd_cmd->add_option("--event", hook.events, "an event to be told of (repeatable)")
        ->required()
        ->check(CLI::IsMember(event_names));
    hadd_cmd->add_flag("--everyone", hook.everyone, "every principal's events, not only yours (admin)");
    hadd_cmd->add_option("--profile", hook.profile, profile_help);
    hadd_cmd->add_flag("--json", hook.json, "the JSON answer even on a terminal");
    hadd_cmd->callback([&] { code = run_hook_add(hook); });
    auto* hlist_cmd = hook_cmd->add_subcommand("list", "list your webhooks (an admin sees everyone's)");
    hlist_cmd->add_option("--profile", hook.profile, profile_help);
    hlist_cmd->add_flag("--json", hook.json, list_json_help);
    hlist_cmd->callback([&] { code = run_hook_list(hook); });
    auto* hremove_cmd = hook_cmd->add_subcommand("remove", "remove a webhook: nothing more is sent to it");
    hremove_cmd->add_option("id", hook.id, "webhook id (hook-…)")->required();
    hremove_cmd->add_option("--profile", hook.profile, profile_help);
    hremove_cmd->add_flag("--json", hook.json, "the JSON answer even on a terminal");
    hremove_cmd->callback([&] { code = run_hook_remove(hook); });
    auto* hconfirm_cmd =
        hook_cmd->add_subcommand("confirm", "confirm an email hook's address with the code mailed to it");
    hconfirm_cmd->add_option("id", hook.id, "webhook id (hook-…)")->required();
    hconfirm_cmd->add_option("code", hook.code,
                             "the code from the email, such as 7QKM-3XWD; left out, it is read from standard input, "
                             "out of the shell's history");
    hconfirm_cmd->add_option("--profile", hook.profile, profile_help);
    hconfirm_cmd->add_flag("--json", hook.json, "the JSON answer even on a terminal");
    hconfirm_cmd->callback([&] { code = run_hook_confirm(hook); });
    auto* hdeliveries_cmd =
        hook_cmd->add_subcommand("deliveries", "a webhook's deliveries, newest first, with each one's attempts");
    hdeliveries_cmd->add_option("id", hook.id, "webhook id (hook-…)")->required();
    hdeliveries_cmd->add_option("--limit", hook.limit, "at most this many (1 to 500; default 50)")
        ->check(CLI::Range(1, 500));
    hdeliveries_cmd->add_option("--profile", hook.profile, profile_help);
    hdeliveries_cmd->add_flag("--json", hook.json, list_json_help);
    hdeliveries_cmd->callback([&] { code = run_hook_deliveries(hook); });

    AgeOptions age_options;
    auto* age_cmd = app.add_subcommand("age", "the age file format (X25519), as the age tool reads and writes it");
    age_cmd->require_subcommand(1);
    auto* akeygen_cmd =
        age_cmd->add_subcommand("keygen", "make an identity (AGE-SECRET-KEY-1…); its recipient goes to stderr");
    akeygen_cmd->add_option("-o,--output", age_options.output, "identity file to create (0600; never overwritten)");
    akeygen_cmd->callback([&] { code = run_age_keygen(age_options); });
    auto* arecipient_cmd = age_cmd->add_subcommand("recipient", "print the recipient (age1…) of identity files");
    arecipient_cmd->add_option("-i,--identity", age_options.identities, "identity file (repeatable)")
        ->required()
        ->check(CLI::ExistingFile);
    arecipient_cmd->callback([&] { code = run_age_recipient(age_options); });
    auto* aencrypt_cmd = age_cmd->add_subcommand("encrypt", "encrypt a file to recipients");
    aencrypt_cmd->add_option("-r,--recipient", age_options.recipients, "age1… (repeatable)")->required();
    aencrypt_cmd->add_option("-o,--output", age_options.output, "the encrypted file (default: standard output)");
    aencrypt_cmd->add_option("input", age_options.input, "the file to encrypt (default: standard input)");
    aencrypt_cmd->callback([&] { code = run_age_encrypt(age_options); });
    auto* adecrypt_cmd = age_cmd->add_subcommand("decrypt", "decrypt a file with identity files");
    adecrypt_cmd->add_option("-i,--identity", age_options.identities, "identity file (repeatable)")
        ->required()
        ->check(CLI::ExistingFile);
    adecrypt_cmd->add_option(
        "-o,--output", age_options.output,
        "the decrypted file, put in place only once all of it authenticated (default: standard output)");
    adecrypt_cmd->add_option("input", age_options.input, "the file to decrypt (default: standard input)");
    adecrypt_cmd->callback([&] { code = run_age_decrypt(age_options); });

    RecipientOptions recipient;
    auto* recipient_cmd =
        app.add_subcommand("recipient", "age recipients that sangat-rahasia packages are encrypted to");
    recipient_cmd->require_subcommand(1);
    auto* rshow_cmd = recipient_cmd->add_subcommand("show", "print a principal's age recipient");
    rshow_cmd->add_option("principal", recipient.principal, "principal id (default: your own)");
    rshow_cmd->add_option("--profile", recipient.profile, profile_help);
    rshow_cmd->callback([&] { code = run_recipient_show(recipient); });
    auto* rset_cmd = recipient_cmd->add_subcommand("set", "replace your own age recipient (only you can)");
    rset_cmd->add_option("recipient", recipient.recipient, "the new age1…")->required();
    rset_cmd->add_option("--profile", recipient.profile, profile_help);
    rset_cmd->callback([&] { code = run_recipient_set(recipient); });

    AuditOptions audit;
    auto* audit_cmd = app.add_subcommand("audit", "the access log: checkpoints, exports, proofs (auditor)");
    audit_cmd->require_subcommand(1);
    auto* akey_cmd =
        audit_cmd->add_subcommand("key", "print the log's verifier key (keep a copy obtained out of band)");
    akey_cmd->add_option("--profile", audit.profile, profile_help);
    akey_cmd->callback([&] { code = run_audit_key(audit); });
    auto* apkg_cmd = audit_cmd->add_subcommand(
        "package", "what a package the log names is: dataset, file name, size, classification (never its content)");
    apkg_cmd->add_option("id", audit.package, "the package id (32 hex digits)")->required();
    apkg_cmd->add_flag("--json", audit.json, "JSON even on a terminal");
    apkg_cmd->add_option("--profile", audit.profile, profile_help);
    apkg_cmd->callback([&] { code = run_audit_package(audit); });
    auto* acp_cmd = audit_cmd->add_subcommand("checkpoint", "print the latest signed checkpoint");
    acp_cmd->add_option("--witness", audit.witnesses.keys,
                        "a witness's verifier key (a file or the key itself): print the newest checkpoint it "
                        "cosigned; repeatable");
    acp_cmd->add_option("--quorum", audit.witnesses.quorum, "how many of the --witness keys (default: all)");
    acp_cmd->add_option("--profile", audit.profile, profile_help);
    acp_cmd->callback([&] { code = run_audit_checkpoint(audit); });
    auto* aexport_cmd =
        audit_cmd->add_subcommand("export", "write every entry up to the current checkpoint, and the checkpoint");
    aexport_cmd->add_option("-o,--output", audit.output, "JSON Lines file (the checkpoint goes to FILE.checkpoint)")
        ->required();
    aexport_cmd->add_flag("--csv", audit.csv, "write CSV for spreadsheets instead (not verifiable)");
    aexport_cmd->add_option("--from", audit.from,
                            "only the entries from this index on (an incremental export: verify it after the "
                            "exports before it, with audit verify --export OLD --export NEW)");
    aexport_cmd->add_option("--profile", audit.profile, profile_help);
    aexport_cmd->callback([&] { code = run_audit_export(audit); });
    auto* averify_cmd = audit_cmd->add_subcommand("verify", "check an export against signed checkpoints, offline");
    averify_cmd
        ->add_option("--export", audit.more_exports,
                     "JSON Lines export; repeat it for a full export followed by incremental ones (--from), in order")
        ->required()
        ->check(CLI::ExistingFile);
    averify_cmd->add_option("--checkpoint", audit.checkpoint, "the checkpoint the export claims to match")
        ->required()
        ->check(CLI::ExistingFile);
    averify_cmd->add_option("--key", audit.key, "the log's verifier key")->required()->check(CLI::ExistingFile);
    averify_cmd->add_option("--previous", audit.previous, "a checkpoint saved earlier: the log must extend it")
        ->check(CLI::ExistingFile);
    averify_cmd->add_option("--witness", audit.witnesses.keys,
                            "a witness's verifier key (a file or the key itself) whose cosignature the checkpoint "
                            "must carry; repeatable");
    averify_cmd->add_option("--quorum", audit.witnesses.quorum, "how many of the --witness keys (default: all)");
    averify_cmd->callback([&] { code = run_audit_verify(audit); });
    auto* aproof_cmd = audit_cmd->add_subcommand("proof", "fetch and check a proof against the signed checkpoint");
    aproof_cmd->require_subcommand(1);
    auto* ainc_cmd = aproof_cmd->add_subcommand("inclusion", "that entry INDEX is in the current tree");
    ainc_cmd->add_option("--index", audit.index, "leaf index (receipts carry it as audit_index)")->required();
    ainc_cmd->add_option("--key", audit.key, "the log's verifier key")->required()->check(CLI::ExistingFile);
    ainc_cmd->add_option("-o,--output", audit.proof_output,
                         "save the entry, proof and checkpoint for offline `verify --proof`");
    ainc_cmd->add_option("--profile", audit.profile, profile_help);
    ainc_cmd->callback([&] { code = run_audit_inclusion(audit); });
    auto* acons_cmd = aproof_cmd->add_subcommand("consistency", "that the current tree extends a saved checkpoint");
    acons_cmd->add_option("--old", audit.checkpoint, "the saved checkpoint")->required()->check(CLI::ExistingFile);
    acons_cmd->add_option("--key", audit.key, "the log's verifier key")->required()->check(CLI::ExistingFile);
    acons_cmd->add_option("--profile", audit.profile, profile_help);
    acons_cmd->callback([&] { code = run_audit_consistency(audit); });
    auto* asearch_cmd = audit_cmd->add_subcommand(
        "search", "the entries that match, each with its index (who pulled dataset X, what did partner P receive)");
    asearch_cmd->add_option("--principal", audit.principal, "who made the request");
    asearch_cmd->add_option("--dataset", audit.dataset, "the dataset (OWNER/NAME) it concerns");
    asearch_cmd->add_option("--package", audit.package, "the package id it concerns");
    asearch_cmd->add_option("--action", audit.action, "e.g. package.pull, package.push, approval.add");
    asearch_cmd->add_option("--decision", audit.decision, "allow, deny or error")
        ->check(CLI::IsMember({"allow", "deny", "error"}));
    asearch_cmd->add_option("--class", audit.classification, "the classification of what it concerns")
        ->check(CLI::IsMember({"biasa", "terbatas", "rahasia", "sangat-rahasia"}));
    asearch_cmd->add_option("--since", audit.since,
                            "from this local date (2026-11-01) or UTC time (2026-11-01T08:00:00Z) on");
    asearch_cmd->add_option("--until", audit.until, "before this local date or UTC time");
    auto* asearch_csv = asearch_cmd->add_flag("--csv", audit.csv, "CSV for spreadsheets");
    asearch_cmd->add_flag("--json", audit.json, "JSON Lines: {\"index\": N, \"entry\": \"the entry as logged\"}")
        ->excludes(asearch_csv);
    asearch_cmd->add_option("--profile", audit.profile, profile_help);
    asearch_cmd->callback([&] { code = run_audit_search(audit); });
    auto* atail_cmd = audit_cmd->add_subcommand("tail", "print the latest entries");
    atail_cmd->add_option("-n,--count", audit.count, "how many")->capture_default_str();
    atail_cmd->add_flag("-f,--follow", audit.follow, "keep printing new entries");
    atail_cmd->add_option("--profile", audit.profile, profile_help);
    atail_cmd->callback([&] { code = run_audit_tail(audit); });

    ProofOptions proof;
    auto* proof_cmd = app.add_subcommand(
        "proof", "fetch the C2SP tlog-proof of one of your own requests in the access log (auditors: any)");
    auto* proof_index = proof_cmd->add_option("--index", proof.index, "the entry's index (a receipt's audit_index)");
    proof_cmd->add_option("--request", proof.request, "the request's id (its Serambi-Request-Id)")
        ->excludes(proof_index);
    proof_cmd->add_option("--witnessed", proof.witnessed,
                          "against the first checkpoint that this many witnesses cosigned (waits for it)");
    proof_cmd->add_option("-o,--output", proof.output, "write it here (a .tlog-proof file) instead of to stdout");
    proof_cmd->add_option("--profile", proof.profile, profile_help);
    proof_cmd->callback([&] { code = run_proof(proof); });

    auto* witness_cmd = app.add_subcommand(
        "witness", "run a witness that cosigns a gateway's access-log checkpoints (C2SP tlog-witness)");
    witness_cmd->require_subcommand(1);
    WitnessInitOptions witness_init;
    auto* winit_cmd =
        witness_cmd->add_subcommand("init", "create a witness: its key, its verifier key and witness.toml");
    winit_cmd->add_option("dir", witness_init.dir, "the witness's directory")->required();
    winit_cmd->add_option("--name", witness_init.name,
                          "its key name, e.g. inspektorat.malutprov.go.id/witness (default: HOSTNAME/witness)");
    winit_cmd->add_option("--listen", witness_init.listen, "HOST:PORT to serve on")->capture_default_str();
    winit_cmd
        ->add_option("--log-key", witness_init.log_keys,
                     "a file with the verifier key of a log to follow (`serambi audit key`); repeatable")
        ->check(CLI::ExistingFile);
    winit_cmd->callback([&] { code = run_witness_init(witness_init); });
    std::string witness_config;
    std::string witness_log_key;
    auto* wadd_cmd = witness_cmd->add_subcommand("add-log", "follow one more log: its verifier key into witness.toml");
    wadd_cmd->add_option("--config", witness_config, "the witness.toml")->required()->check(CLI::ExistingFile);
    wadd_cmd->add_option("--log-key", witness_log_key, "a file with the log's verifier key (`serambi audit key`)")
        ->required()
        ->check(CLI::ExistingFile);
    wadd_cmd->callback([&] { code = run_witness_add_log(witness_config, witness_log_key); });
    auto* wserve_cmd = witness_cmd->add_subcommand("serve", "serve add-checkpoint until SIGINT or SIGTERM");
    wserve_cmd->add_option("--config", witness_config, "the witness.toml")->required()->check(CLI::ExistingFile);
    wserve_cmd->callback([&] { code = run_witness_serve(witness_config); });

    std::vector<std::string> help_words;
    auto* help_cmd = app.add_subcommand("help", "topics (classification, roles, …) and the help of any command");
    help_cmd->add_option("topic", help_words, "a topic, or a command such as: audit search");
    help_cmd->callback([&] { code = run_help(app, help_words); });
    std::string shell;
    auto* completion_cmd =
        app.add_subcommand("completion", "print a shell completion script: serambi completion bash > FILE");
    completion_cmd->add_option("shell", shell, "bash")->required();
    completion_cmd->callback([&] { code = run_completion(app, shell); });
    std::string man_dir;
    auto* man_cmd = app.add_subcommand("man", "write the manual pages (serambi.1, serambi-push.1, …) into a directory");
    man_cmd->add_option("--out", man_dir, "the directory")->required();
    man_cmd->callback([&] { code = run_man(app, man_dir); });

    translate_descriptions(app);  // --help in Bahasa Indonesia when language() says so
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return code;
}
