// Image documents (a scan or a photo of a résumé saved as PNG, JPEG or TIFF) have no text but
// what OCR reads; ocr.cpp does the reading under the OCR limits.
#include "image_text.h"

#include "ocr.h"

namespace rp {

std::string image_text(const char *data, size_t len, const Limits &limits) {
    return ocr_image(data, len, limits);
}

}  // namespace rp
