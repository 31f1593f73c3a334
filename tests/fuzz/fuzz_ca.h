// A CA made with openssl for the fuzz targets only (valid until 2126), so that signatures and
// certificates in the committed corpus verify in every run. Its key signs nothing real.
#pragma once

#include <string_view>

namespace serambi::fuzz {
inline constexpr std::string_view kCaCert = R"PEM(-----BEGIN CERTIFICATE-----
MIIBrzCCAVWgAwIBAgIUfNXsmNRG+MJc+6Zpf9xk9O/HRjMwCgYIKoZIzj0EAwIw
JDEQMA4GA1UECgwHU2VyYW1iaTEQMA4GA1UEAwwHRnV6eiBDQTAgFw0yNjEyMDUy
MjA5MjhaGA8yMTI2MTExMTIyMDkyOFowJDEQMA4GA1UECgwHU2VyYW1iaTEQMA4G
A1UEAwwHRnV6eiBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABH7ArRn6IK6+
NyFv32UCUj6iHpfQlzffgxd11PGIwH+8Go3LZ8Cs1msJvBWMFUf79aunKdzyIHOp
h3CSYdJCNzujYzBhMB0GA1UdDgQWBBR4koI30XHRh63REpuao5Il46+c+zAfBgNV
HSMEGDAWgBR4koI30XHRh63REpuao5Il46+c+zAPBgNVHRMBAf8EBTADAQH/MA4G
A1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiAkGcEVzxFQ1jrOQdK3mXiH
fk9f57x/OnFL50TLo+d/SgIhAKQUi1V0iMJ1B4bCY60Xw17GQSdmtE31IotaYrzo
uSTA
-----END CERTIFICATE-----
)PEM";
inline constexpr std::string_view kCaKey = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTU/+RBYgjBJ1ho1l
LYR3V+ARY7F/vEszBRQVjGASPUuhRANCAAR+wK0Z+iCuvjchb99lAlI+oh6X0Jc3
34MXddTxiMB/vBqNy2fArNZrCbwVjBVH+/Wrpync8iBzqYdwkmHSQjc7
-----END PRIVATE KEY-----
)PEM";
// What the corpus's CMS signatures (corpus/certs/cms-*) are over.
inline constexpr std::string_view kSignedContent = "{\"fuzz\":1}";
}  // namespace serambi::fuzz
