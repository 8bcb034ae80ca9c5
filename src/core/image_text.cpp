// Not read yet: refused with a clear error until its reader lands.
#include "image_text.h"

#include "document_error.h"

namespace rp {

std::string image_text(const char *, size_t, const Limits &) {
    throw DocumentError(ErrorKind::Unsupported, "unsupported document: found an image (PNG, JPEG or TIFF), which is not read yet");
}

}  // namespace rp
