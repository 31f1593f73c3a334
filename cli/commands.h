// Internal: one function per subcommand. Each returns the process exit code and reports problems
// on stderr in words a user can act on.
#pragma once

#include <string>
#include <vector>

namespace serambi::cli {

struct InitOptions {
    std::string dir;
    std::string listen = "127.0.0.1:8443";
    std::string admin = "admin";
    std::string province = "Serambi";
    std::vector<std::string> public_names;
};
int run_init(const InitOptions& options);
int run_serve(const std::string& config_file);

struct PrincipalAddOptions {
    std::string profile;
    std::string id;
    std::vector<std::string> roles;
    std::string name;
    std::string out;
};
int run_principal_add(const PrincipalAddOptions& options);
int run_principal_list(const std::string& profile);

struct DatasetCreateOptions {
    std::string profile;
    std::string id;
    std::string owner;
    std::string classification;
    std::string title;
};
int run_dataset_create(const DatasetCreateOptions& options);
int run_dataset_list(const std::string& profile);
int run_package_list(const std::string& profile, const std::string& dataset);
int run_whoami(const std::string& profile);

struct PushOptions {
    std::string profile;
    std::string dataset;
    std::string file;
    std::string classification;
    std::string media_type;
    bool quiet = false;
};
int run_push(const PushOptions& options);

struct PullOptions {
    std::string profile;
    std::string package_id;
    std::string output;
    bool keep_manifest = true;
    bool quiet = false;
};
int run_pull(const PullOptions& options);

struct VerifyOptions {
    std::string file;
    std::string manifest;
    std::string signature;
    std::string ca;
};
int run_verify(const VerifyOptions& options);

}  // namespace serambi::cli
