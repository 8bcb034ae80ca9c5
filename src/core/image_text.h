// Text of an image (PNG, JPEG or TIFF) (see image_text.cpp).
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

// Throws DocumentError for bad input or an exceeded limit.
std::string image_text(const char *data, size_t len, const Limits &limits);

}  // namespace rp
