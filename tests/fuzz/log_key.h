// A signed-note key made for the fuzz targets only, so that notes in the committed corpus verify
// in every run. Never used outside tests/fuzz.
#pragma once

#include <string_view>

namespace serambi::fuzz {
inline constexpr std::string_view kLogSignerKey =
    "PRIVATE+KEY+fuzz.local/log+e31e279e+AVdF5rzbIeB9hVAo6wkLry1lTbQFQXoAKVZtOb0BX1pT";
inline constexpr std::string_view kLogVerifierKey =
    "fuzz.local/log+e31e279e+AYLS4vzN/bij8WGj0zqZFeqmBGaAzLN6c5QmbqfKl0i5";
}  // namespace serambi::fuzz
