// Internal: notices by email. A principal subscribes an address as a hook whose URL is
// `mailto:ADDRESS`; the notifier then writes each notice in Bahasa Indonesia and hands it to the
// SMTP relay the operator names in [email]. The relay is the operator's, so it is trusted as a
// destination; the recipient's address is the principal's, so it is checked like any input.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace serambi::gateway {

bool is_mail_url(std::string_view url) noexcept;  // starts with "mailto:"

// "mailto:ADDRESS" with one plain address: a local part of letters, digits and . _ + - and a
// domain of at least two labels of letters, digits and hyphens (the last not all digits), at
// most 254 bytes in all; no query, no display name, no second recipient. The address, its
// domain in lower case.
Result<std::string> parse_mail_url(std::string_view url);

// Whether the address's domain is one of `domains` or below one of them ("go.id" allows
// "dinkes.malutprov.go.id"). "*" allows every domain; an empty list none.
bool mail_domain_allowed(std::string_view address, const std::vector<std::string>& domains);

// A domain as written in [email] allowed_domains.
bool is_mail_domain(std::string_view domain) noexcept;

struct MailRelay {
    std::string host;
    std::string port;
    std::string security;              // "starttls", "tls" (from the first byte), or "none"
    std::string ca_file;               // extra trust anchors besides the system's
    std::string username;              // AUTH PLAIN after TLS when not empty
    std::string password;              // wiped by the caller after use
    std::string from;                  // the envelope and header sender
    std::chrono::seconds timeout{30};  // for one whole sending
};

// The relay's reply that ended a sending: a 2xx to the message itself when it was accepted,
// otherwise the 4xx or 5xx refusal at the step named.
struct MailReply {
    int code = 0;
    std::string text;  // printable, at most 200 bytes; may name the address
    std::string step;  // greeting, EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA, message
    // A refusal no retry can change: the address itself refused (to RCPT TO or to the message),
    // by its enhanced status (5.1.x, the mailbox or address; 5.2.x, the mailbox's state) or,
    // without one, by 550, 551 or 553. Any other 5xx (relaying denied, a login wanted, a policy
    // such as 5.7.x) is the operator's to fix, and the notice waits for it.
    bool permanent() const;
};

// One SMTP sending of `message` (a whole RFC 5322 message, lines ending CRLF) to `to`. An error
// when the relay could not be reached in time or answered outside SMTP (a 2xx where a refusal
// or another step's reply belongs counts as that, never as accepted); refusals are replies.
Result<MailReply> send_mail(const MailRelay& relay, const std::string& to, const std::string& message);

// The email for a notice: `body` is the notice as a webhook carries it ({"type", "timestamp",
// "data"}); the text is Bahasa Indonesia, times in `time_zone` (an Indonesian zone, else UTC).
// Names and reasons written by people are cleaned of control characters; a file name is left
// out for rahasia and sangat-rahasia packages, since email crosses relays the gateway does not
// control.
Result<std::string> notice_mail(const std::string& from, const std::string& to, const std::string& message_id,
                                const std::string& body, std::string_view time_zone, std::int64_t now);

}  // namespace serambi::gateway
