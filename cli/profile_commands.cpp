// `serambi profile export-p12`: a profile as one password-protected file that a browser or an
// operating system imports, so that a clerk can use the portal with the unit's certificate.
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "certs/certs.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "storage/store.h"

namespace serambi::cli {

namespace {

constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 1024;

// One line from the terminal without echo; the terminal is restored whatever happens.
Result<crypto::SecretBuffer> ask(const std::string& prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    crypto::SecretBuffer line(kMaxPassword + 1);
    std::size_t n = 0;
    char c = 0;
    while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
        if (n < line.size()) line.bytes()[n] = static_cast<std::uint8_t>(c);
        ++n;
    }
    if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << "\n";
    if (n > kMaxPassword) return make_error(ErrorKind::invalid_argument, tr("the password is longer than 1024 bytes"));
    crypto::SecretBuffer out(n);
    std::copy_n(line.bytes().begin(), n, out.bytes().begin());
    return out;
}

Result<crypto::SecretBuffer> password_from(const ExportP12Options& options) {
    if (!options.password_file.empty()) {
        auto text = crypto::read_private_key_file(options.password_file, kMaxPassword + 2);
        if (!text) return text.error();
        std::string_view view(reinterpret_cast<const char*>(text->bytes().data()), text->size());
        if (const auto nl = view.find('\n'); nl != std::string_view::npos) view = view.substr(0, nl);
        if (view.ends_with('\r')) view.remove_suffix(1);
        return crypto::SecretBuffer::copy_of(view);
    }
    if (!isatty(STDIN_FILENO))
        return make_error(ErrorKind::invalid_argument,
                          tr("no terminal to ask for the password on: give --password-file FILE (mode 0600)"));
    auto first = ask(tr("Password for the .p12 file (asked again when importing it): "));
    if (!first) return first;
    auto second = ask(tr("The same password again: "));
    if (!second) return second;
    if (first->size() != second->size() ||
        !std::equal(first->bytes().begin(), first->bytes().end(), second->bytes().begin()))
        return make_error(ErrorKind::invalid_argument, tr("the two passwords differ; nothing was written"));
    return std::move(*first);
}

}  // namespace

int run_export_p12(const ExportP12Options& options) {
    const std::string command = "profile export-p12";
    auto profile = find_profile(options.profile);
    if (!profile) return report(command, profile.error());
    auto key = crypto::read_private_key_file(profile->dir / "client.key", 64 * 1024);
    if (!key) {
        if (key.error().kind == ErrorKind::not_found)
            return report(command, make_error(ErrorKind::not_found,
                                              tr("this profile has no client.key: its key stays on the unit's own "
                                                 "machine (serambi enroll); export the .p12 there")));
        return report(command, key.error());
    }
    auto cert = storage::read_small_file(profile->dir / "client.crt", 1 << 20);
    if (!cert) return report(command, cert.error());
    auto ca = storage::read_small_file(profile->dir / "ca.crt", 1 << 20);
    if (!ca) return report(command, ca.error());
    auto password = password_from(options);
    if (!password) return report(command, password.error());
    // OpenSSL reads the password as a C string for the encryption and by length for the MAC: a
    // NUL would encrypt the key under the part before it.
    if (std::find(password->bytes().begin(), password->bytes().end(), std::uint8_t{0}) != password->bytes().end())
        return report(command, make_error(ErrorKind::invalid_argument, tr("the password may not contain a NUL byte")));
    if (password->size() < kMinPassword)
        return report(command, make_error(ErrorKind::invalid_argument,
                                          tr("the password must be at least 8 characters: the file holds the "
                                             "unit's private key")));
    const std::string_view key_pem(reinterpret_cast<const char*>(key->bytes().data()), key->size());
    auto p12 = certs::make_pkcs12(key_pem, *cert, *ca, "Serambi " + profile->principal, *password, options.legacy);
    if (!p12) return report(command, p12.error());
    // Never over an existing file: an old export may be the only copy someone relies on.
    if (auto s = write_file(options.out, std::string_view(reinterpret_cast<const char*>(p12->data()), p12->size()),
                            0600, Existing::refuse);
        !s)
        return report(command, s.error());
    std::cerr << tr("Wrote {} (mode 0600): the key and certificate of {} and the gateway's CA. Import it into the "
                    "browser (see the user guide), then delete this file.",
                    {options.out, profile->principal})
              << "\n";
    return 0;
}

int run_profile_language(const std::string& profile_flag, const std::string& code) {
    auto profile = find_profile(profile_flag);
    if (!profile) return report("profile language", profile.error());
    if (code.empty()) {
        std::cout << (profile->language.empty() ? std::string("auto") : profile->language) << " ("
                  << (language() == Language::indonesian ? "Bahasa Indonesia" : "English") << ")\n";
        return 0;
    }
    if (code != "auto" && !is_language_code(code))
        return report("profile language", make_error(ErrorKind::invalid_argument,
                                                     tr("the language is id (Bahasa Indonesia), en (English) or "
                                                        "auto (from the locale)")));
    if (auto s = set_profile_language(profile->dir, code == "auto" ? "" : code); !s)
        return report("profile language", s.error());
    return 0;
}

}  // namespace serambi::cli
