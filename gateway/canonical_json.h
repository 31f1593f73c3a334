// Internal to gateway/: RFC 8785 JSON Canonicalization Scheme, for the manifests and access-log
// entries the gateway signs. Numbers must be integers (the only numbers our documents hold);
// anything else is rejected rather than serialised differently from the RFC.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "base/result.h"

namespace serambi::gateway {

Result<std::string> canonical_json(const boost::json::value& value);

}  // namespace serambi::gateway
