// Text of an OpenDocument text (.odt) (see odt_text.cpp).
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

// Throws DocumentError for bad input or an exceeded limit.
std::string odt_text(const char *data, size_t len, const Limits &limits);

}  // namespace rp
