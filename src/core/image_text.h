// Text of an image (PNG, JPEG or TIFF), read by OCR (see image_text.cpp, ocr.cpp).
#pragma once
#include "no_postgres.h"

#include <string>

#include "limits.h"

namespace rp {

// Throws DocumentError for bad input, an exceeded limit, or OCR turned off (Unsupported).
std::string image_text(const char *data, size_t len, const Limits &limits);

}  // namespace rp
