// RFC 8785 (JCS). Our documents hold only strings, integers, booleans, null, arrays and objects,
// so the ECMAScript number formatting reduces to plain integers; other numbers are refused.
#include "gateway/canonical_json.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

namespace serambi::gateway {
namespace {

// Object members are ordered by their names as UTF-16 code units (RFC 8785 §3.2.3).
std::u16string utf16_of(std::string_view s, bool& valid) {
    std::u16string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::uint32_t cp = 0;
        std::size_t len = 0;
        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if ((c >> 5) == 0x6) {
            cp = c & 0x1f;
            len = 2;
        } else if ((c >> 4) == 0xe) {
            cp = c & 0x0f;
            len = 3;
        } else if ((c >> 3) == 0x1e) {
            cp = c & 0x07;
            len = 4;
        } else {
            valid = false;
            return out;
        }
        if (i + len > s.size()) {
            valid = false;
            return out;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc >> 6) != 0x2) {
                valid = false;
                return out;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        i += len;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
    }
    return out;
}

void write_string(std::string_view s, std::string& out) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

bool write_value(const boost::json::value& v, std::string& out) {
    switch (v.kind()) {
        case boost::json::kind::null:
            out += "null";
            return true;
        case boost::json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            return true;
        case boost::json::kind::int64:
            out += std::to_string(v.get_int64());
            return true;
        case boost::json::kind::uint64:
            out += std::to_string(v.get_uint64());
            return true;
        case boost::json::kind::double_:
            return false;
        case boost::json::kind::string: {
            bool valid = true;
            (void)utf16_of(v.get_string(), valid);
            if (!valid) return false;
            write_string(v.get_string(), out);
            return true;
        }
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& item : v.get_array()) {
                if (!first) out += ',';
                first = false;
                if (!write_value(item, out)) return false;
            }
            out += ']';
            return true;
        }
        case boost::json::kind::object: {
            struct Member {
                std::u16string order;
                const boost::json::key_value_pair* kv;
            };
            std::vector<Member> members;
            for (const auto& kv : v.get_object()) {
                bool valid = true;
                members.push_back({utf16_of(kv.key(), valid), &kv});
                if (!valid) return false;
            }
            std::sort(members.begin(), members.end(),
                      [](const Member& a, const Member& b) { return a.order < b.order; });
            out += '{';
            bool first = true;
            for (const auto& m : members) {
                if (!first) out += ',';
                first = false;
                write_string(m.kv->key(), out);
                out += ':';
                if (!write_value(m.kv->value(), out)) return false;
            }
            out += '}';
            return true;
        }
    }
    return false;
}

}  // namespace

Result<std::string> canonical_json(const boost::json::value& value) {
    std::string out;
    if (!write_value(value, out))
        return make_error(ErrorKind::invalid_argument,
                          "value cannot be canonicalised (non-integer number or invalid UTF-8)");
    return out;
}

}  // namespace serambi::gateway
