// The records Serambi keeps: who may act (principals, their certificates, datasets), what they
// exchanged (packages), what lets partners read (agreements, approvals), and the access log's head.
// Plain values, as the stores return them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/tlog.h"

namespace serambi::storage {

struct Principal {
    std::string id;
    std::string name;
    std::vector<std::string> roles;
    std::string cert_serial;
    std::string cert_fingerprint;
    std::string created_at;
    std::string age_recipient;   // "age1…": what classified packages for this principal are encrypted to
    std::string cert_not_after;  // when its certificate expires (ISO 8601 UTC); empty if unknown
    std::string removed_at;      // ISO 8601 UTC once removed; a removed id is kept and never reused
};

struct Dataset {
    std::string id;  // owner/name
    std::string owner;
    std::string classification;
    std::string title;
    std::string created_by;
    std::string created_at;
};

// An MOU agreement as registered by a custodian. Times are Unix seconds; valid_until is exclusive.
struct AgreementRecord {
    std::string id;  // "mou-" and 16 hex digits
    std::string partner;
    std::vector<std::string> patterns;
    std::string max_classification;
    std::string purpose;
    std::int64_t valid_from = 0;
    std::int64_t valid_until = 0;
    std::string document_name;    // the signed MOU's file name, when given
    std::string document_sha256;  // and its digest
    std::string created_by;
    std::string created_at;
    std::int64_t revoked_at = 0;  // 0 while in force
    std::string revoked_by;
    std::string revoke_reason;
};

// A certificate taken back before its expiry.
struct Revocation {
    std::string serial_hex;
    std::string principal;  // whose it was
    int reason = 0;         // RFC 5280 CRLReason
    std::int64_t revoked_at = 0;
    std::string revoked_by;
};

// A custodian's release of one package to one partner.
struct ApprovalRecord {
    std::string id;  // "apv-" and 16 hex digits
    std::string package;
    std::string partner;
    std::string custodian;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::uint32_t max_downloads = 0;  // 0: no cap
    std::uint32_t downloads = 0;      // completed and counted against the cap
    // The last download reached its end: it counts once another begins (until then a reader
    // whose link dropped at the end may still fetch what it missed). Shown as done at once.
    bool completed_pending = false;
    std::int64_t withdrawn_at = 0;  // 0 while it stands
    std::string withdrawn_by;
};

// A partner's request that a package be released to it, with the purpose it gives; custodians
// answer it with approvals (which release it) or a refusal with a reason.
struct AccessRequestRecord {
    std::string id;  // "req-" and 16 hex digits
    std::string package;
    std::string partner;
    std::string purpose;
    std::int64_t created_at = 0;
    std::string state = "open";  // open, released or refused
    std::string decided_by;
    std::int64_t decided_at = 0;
    std::string reason;  // a refusal's
};

struct PackageRecord {
    std::string id;
    std::string dataset;
    std::string producer;
    std::string classification;
    std::string filename;
    std::string media_type;
    std::uint64_t size = 0;
    std::string sha256_hex;
    std::string created_at;
    std::string manifest;                 // canonical JSON, exactly the bytes that were signed
    crypto::Bytes signature;              // detached DER CMS over manifest
    std::uint64_t audit_index = 0;        // leaf of the access-log entry committed with the package
    std::vector<std::string> recipients;  // sangat-rahasia: the readers the producer named
};

// The head of the access log: its size and RFC 6962 root.
struct AuditHead {
    std::uint64_t size = 0;
    crypto::tlog::Hash root{};
};

// What is known about a package before its payload arrives.
struct PackageDraft {
    std::string dataset;
    std::string producer;
    std::string classification;
    std::string filename;
    std::string media_type;
    std::vector<std::string> recipients;
    // A single-request push's Idempotency-Key: recorded with the package, so that a retry with
    // the same key finds it instead of storing a second copy.
    std::string idempotency_key;
};

// A package that arrives over several requests (the tus protocol). Its package id is chosen at
// creation, since the blob is sealed to it from the first byte.
struct UploadRecord {
    std::string id;  // 32 hex digits, like a package id, and never the same as its package's
    std::string package_id;
    PackageDraft draft;
    std::uint64_t length = 0;
    std::int64_t created_at = 0;  // Unix seconds
    std::int64_t expires_at = 0;  // an upload still open then is removed
    bool complete = false;
    std::uint64_t audit_index = 0;  // of the package's entry, once complete
};

// A principal's HTTPS endpoint for events (a webhook). Rows are never deleted; removal stamps them.
struct HookRecord {
    std::string id;  // "hook-" and 16 hex digits
    std::string owner;
    bool everyone = false;  // an admin's: told of every principal's events, one delivery each
    std::string url;
    std::vector<std::string> events;
    // "whsec_" and base64, the HMAC key of an HTTPS hook; for an email hook, the SHA-256 (hex) of
    // the code that confirms its address. Kept only in the database; read only by hook().
    std::string secret;
    std::int64_t created_at = 0;     // Unix seconds
    std::uint64_t from_index = 0;    // the access log's size at creation: it hears of what follows
    std::int64_t removed_at = 0;     // 0 while live
    std::string cert_serial;         // of the certificate that registered it
    std::int64_t confirmed_at = 0;   // 0 while an email hook's address is not confirmed
    std::int64_t confirm_tries = 0;  // codes tried so far
};

// One event to be sent to one hook, with every attempt's outcome.
struct DeliveryRecord {
    std::string id;  // "msg_" and 32 hex digits: the webhook-id, the same on every attempt
    std::string hook;
    std::string event;
    std::string recipient;  // the principal the event was judged for
    std::string body;       // exactly the bytes sent and signed, on every attempt
    std::int64_t created_at = 0;
    std::string state = "pending";  // pending, delivered, failed or cancelled
    std::int64_t attempts = 0;
    std::int64_t next_at = 0;  // when a pending one is tried next
    std::int64_t last_status = 0;
    std::string last_error;
    std::int64_t delivered_at = 0;
};

}  // namespace serambi::storage
