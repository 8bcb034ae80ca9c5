// Text of an RTF document (see rtf_text.cpp).
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

// Throws DocumentError for bad input or an exceeded limit.
std::string rtf_text(const char *data, size_t len, const Limits &limits);

}  // namespace rp
