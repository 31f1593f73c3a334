// The request-boundary helpers of gateway/http_util.cpp and friends: the Range header, header
// lookup, file names (plain and RFC 8187), media types, query strings, the times routes accept
// and the cross-site check. Each is checked
// against what its callers rely on, not only for crashes.
#include <fuzzer/FuzzedDataProvider.h>

#include "gateway/handler.h"
#include "gateway/portal.h"

using namespace serambi::gateway;

namespace {
void check(bool ok) {
    if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    switch (in.ConsumeIntegralInRange(0, 7)) {
        case 0: {  // Range against a payload size
            const auto payload = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 1 << 20)
                                                  : in.ConsumeIntegral<std::uint64_t>();
            const auto range = parse_range(in.ConsumeRemainingBytesAsString(), payload);
            // A range served is inside the payload; the server computes last - first + 1 from it.
            if (range && range.value())
                check(range.value()->first <= range.value()->last && range.value()->last < payload);
            break;
        }
        case 1: {  // header lookup is case-insensitive and takes the first of repeated fields
            RequestHead head;
            const auto name = in.ConsumeRandomLengthString(64);
            while (in.remaining_bytes() > 0)
                head.headers.emplace_back(in.ConsumeRandomLengthString(64), in.ConsumeRandomLengthString(256));
            const auto found = head.header(name);
            if (found)
                check(std::any_of(head.headers.begin(), head.headers.end(),
                                  [&](const auto& h) { return h.second == *found; }));
            break;
        }
        case 2: {
            const auto text = in.ConsumeRemainingBytesAsString();
            if (is_safe_filename(text)) check(text.find('/') == std::string::npos && text.front() != '.');
            if (is_media_type(text)) check(text.find('/') != std::string::npos && text.find('"') == std::string::npos);
            if (is_slug(text)) check(text.size() <= 63);
            break;
        }
        case 3: {  // query strings: what parses decodes to printable ASCII within the limits
            const auto name = in.ConsumeRandomLengthString(16);
            const auto query = Query::parse(in.ConsumeRemainingBytesAsString());
            if (!query) break;
            if (const auto value = query->text(name)) {
                check(value->size() <= 512);
                check(std::all_of(value->begin(), value->end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
            }
            if (auto n = query->number(name); !n)
                check(n.error().kind == serambi::ErrorKind::not_found ||
                      n.error().kind == serambi::ErrorKind::invalid_argument);
            break;
        }
        case 4: {  // times: what parses prints back to the same instant
            const auto text = in.ConsumeRemainingBytesAsString();
            if (auto t = serambi::parse_time(text)) {
                const auto again = serambi::parse_time(serambi::format_time(*t));
                check(again && again.value() == t.value());
            }
            break;
        }
        case 5: {  // RFC 8187 names: decoded once, never longer than the bound, never a forbidden name
            const auto text = in.ConsumeRemainingBytesAsString();
            if (const auto name = decode_extended_value(text)) {
                check(name->size() <= 3 * 255);
                if (is_safe_filename(*name))
                    check(name->find('/') == std::string::npos && name->find('\0') == std::string::npos);
            }
            break;
        }
        case 6: {  // the cross-site check: a browser's change never passes without the portal's header
            RequestHead head;
            head.method = in.ConsumeBool() ? "GET" : "POST";
            while (in.remaining_bytes() > 0)
                head.headers.emplace_back(in.ConsumeRandomLengthString(24), in.ConsumeRandomLengthString(80));
            const bool page = in.ConsumeBool();
            if (!cross_site_refusal(head, page)) {
                const bool browser = head.header("Origin") || head.header("Sec-Fetch-Site") ||
                                     head.header("Sec-Fetch-Mode") || head.header("Sec-Fetch-Dest");
                if (browser && head.method == "POST") check(head.header("Serambi-Client") == std::string("portal"));
            }
            break;
        }
        case 7: {  // tus headers: keys as the protocol allows them, values without NUL, bounded
            const auto text = in.ConsumeRemainingBytesAsString();
            if (auto metadata = parse_upload_metadata(text)) {
                check(text.size() <= 4096 && metadata->size() <= text.size() / 2 + 1);
                for (const auto& [key, value] : *metadata) {
                    check(!key.empty() && key.size() <= 64 && value.size() <= text.size());
                    check(std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ','; }));
                    check(value.find('\0') == std::string::npos);
                }
            }
            if (auto sum = parse_upload_checksum(text)) check(text.starts_with("sha256 "));
            break;
        }
    }
    return 0;
}
