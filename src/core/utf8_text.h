// UTF-8 hygiene for text that will become a Postgres text value: no NUL bytes, no invalid
// sequences.
#pragma once
#include "no_postgres.h"

#include <string>
#include <string_view>

namespace rp {

// True when s is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Copy of s with NUL bytes dropped and each invalid sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

}  // namespace rp
